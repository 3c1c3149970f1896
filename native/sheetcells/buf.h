/* A growable byte buffer, shared by both readers (sheetcells.c, csvcolumns.c). */
#ifndef SHEETCELLS_BUF_H
#define SHEETCELLS_BUF_H

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static inline int buf_grow(Buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + extra)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int buf_put(Buf *b, const char *s, size_t n)
{
    if (n == 0)
        return 0; /* memcpy may not be given the NULL of a buffer not yet grown */
    if (buf_grow(b, n))
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static inline int buf_putc(Buf *b, char c)
{
    if (b->len == b->cap && buf_grow(b, 1))
        return -1;
    b->data[b->len++] = c;
    return 0;
}

#endif
