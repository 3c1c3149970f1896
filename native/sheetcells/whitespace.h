/* Unicode's White_Space, shared by both readers (sheetcells.c, csvcolumns.c). */
#ifndef SHEETCELLS_WHITESPACE_H
#define SHEETCELLS_WHITESPACE_H

#include <stdint.h>

/* Unicode's White_Space, which polars' strip_chars() strips (Rust's char::is_whitespace)
 * and, but for U+001C-U+001F, Python's str.strip() too. */
static inline int is_white_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

/* The code point whose UTF-8 begins at s (valid UTF-8 is assumed; end bounds the read). */
static inline uint32_t decode_at(const unsigned char *s, const unsigned char *end)
{
    unsigned char b = s[0];
    int n = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : 3;
    uint32_t cp = n == 0 ? b : n == 1 ? (b & 0x1Fu) : n == 2 ? (b & 0x0Fu) : (b & 0x07u);
    for (int i = 1; i <= n && s + i < end; i++)
        cp = (cp << 6) | (s[i] & 0x3Fu);
    return cp;
}

/* Whether UTF-8 text begins or ends with white space (stripping it would change it). */
static inline int edges_spaced(const char *text, size_t len)
{
    if (len == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    if (is_white_space(decode_at(s, end)))
        return 1;
    const unsigned char *last = end - 1;
    while (last > s && (*last & 0xC0) == 0x80)
        last--;
    return is_white_space(decode_at(last, end));
}

/* Whether UTF-8 text is white space alone (or empty). */
static inline int all_white_space(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    while (s < end) {
        if (!is_white_space(decode_at(s, end)))
            return 0;
        s += *s < 0x80 ? 1 : (*s & 0xE0) == 0xC0 ? 2 : (*s & 0xF0) == 0xE0 ? 3 : 4;
    }
    return 1;
}

#endif
