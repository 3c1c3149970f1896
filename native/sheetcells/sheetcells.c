/*
 * sheetcells: the cells of an XLSX worksheet's XML, as one CSV text, in native code.
 *
 * The hub checks workbooks of up to 200,000 rows, and parsing the sheet XML through
 * calamine into Python objects took most of the check's time. This module reads the
 * worksheet XML in one pass and writes every cell as the text the hub compares
 * (reporting.checks.workbook.cell_text): one CSV text of quoted fields that polars
 * reads on every core, and one byte per cell saying whether it was a number.
 *
 * It reads only the plain shape Excel, LibreOffice and the hub's own writer give a
 * sheet, and says so ("declines", returning a reason as a str) at the first thing
 * outside that shape: the caller then reads the workbook with calamine, as before. It
 * never guesses: a cell it cannot render exactly as calamine + cell_text do (an error
 * value, a time of day, text with leading spaces and no xml:space="preserve", an
 * _xHHHH_ escape…) is a decline, not a best effort. tests/reporting/checks/
 * test_sheetcells.py compares both readers on every workbook the suite makes.
 *
 * read(sheet_xml, shared_xml, style_kinds, max_row, max_col, threads=1, min_cut=4 MB)
 *   sheet_xml    the worksheet part, unpacked (bytes)
 *   shared_xml   the shared strings part, unpacked, or None
 *   style_kinds  one byte per cellXfs entry: 0 a number, 1 a date, 2 anything else
 *   max_row      1-based row number no cell or row may exceed
 *   max_col      number of columns (0-based column index must be below it)
 *   threads      2 to read the second half of a large sheet's rows on another thread
 *   min_cut      how large (bytes) the rows must be to be cut in two (tests cut small ones)
 * returns (csv, numeric, first_row, rows, width, spaced) or a str: "outside" when a
 * cell or row lies beyond max_row/max_col, any other str naming why it declined.
 * spaced is True when some cell's text begins or ends with white space (Unicode's
 * White_Space, as polars strips it); when it is False no cell needs stripping.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csvcolumns.h"
#include "whitespace.h"

/* Why reading stopped: NULL while all is well. */
typedef struct {
    const char *why;
} Status;

#define DECLINE(st, reason) \
    do {                    \
        (st)->why = reason; \
        return -1;          \
    } while (0)

static const char OUTSIDE[] = "outside";
static const char NO_MEMORY[] = "out of memory";

static inline int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static inline const char *skip_space(const char *p, const char *end)
{
    while (p < end && is_space(*p))
        p++;
    return p;
}

static inline int starts(const char *p, const char *end, const char *s, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}
#define STARTS(p, end, lit) starts((p), (end), (lit), sizeof(lit) - 1)

/* Whether p opens the element <name (followed by ">", "/" or a space, so that <c is not
 * <col); p is then moved past the name. */
static int opens(const char **p, const char *end, const char *name, size_t n)
{
    const char *q = *p;
    if ((size_t)(end - q) <= n + 1 || q[0] != '<' || memcmp(q + 1, name, n) != 0)
        return 0;
    char next = q[n + 1];
    if (next != '>' && next != '/' && !is_space(next))
        return 0;
    *p = q + n + 1;
    return 1;
}
#define OPENS(p, end, lit) opens(&(p), (end), (lit), sizeof(lit) - 1)

static const char *find(const char *p, const char *end, const char *s, size_t n)
{
    if (p >= end)
        return NULL;
    return memmem(p, (size_t)(end - p), s, n);
}
#define FIND(p, end, lit) find((p), (end), (lit), sizeof(lit) - 1)

/* Attributes ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} Attr;

enum { TAG_OPEN = 1, TAG_EMPTY = 2 };

/* Reads name="value" pairs up to ">" or "/>"; calls back for each one. Returns
 * TAG_OPEN or TAG_EMPTY, or -1 (declined). */
typedef int (*attr_fn)(void *context, const Attr *attr, Status *st);

static int read_attributes(const char **pp, const char *end, attr_fn fn, void *context, Status *st)
{
    const char *p = *pp;
    for (;;) {
        p = skip_space(p, end);
        if (p >= end)
            DECLINE(st, "a tag is not closed");
        if (*p == '>') {
            *pp = p + 1;
            return TAG_OPEN;
        }
        if (*p == '/') {
            if (p + 1 < end && p[1] == '>') {
                *pp = p + 2;
                return TAG_EMPTY;
            }
            DECLINE(st, "a tag is malformed");
        }
        const char *name = p;
        while (p < end && !is_space(*p) && *p != '=' && *p != '>' && *p != '/' && *p != '<' && *p != '"' && *p != '\'')
            p++;
        if (p == name)
            DECLINE(st, "an attribute is malformed");
        Attr attr = {name, (size_t)(p - name), NULL, 0};
        p = skip_space(p, end);
        if (p >= end || *p != '=')
            DECLINE(st, "an attribute has no value");
        p = skip_space(p + 1, end);
        if (p >= end || *p != '"')
            DECLINE(st, "an attribute value is not in double quotes");
        const char *value = ++p;
        while (p < end && *p != '"') {
            if (*p == '<' || *p == '&')
                DECLINE(st, "an attribute value holds markup");
            p++;
        }
        if (p >= end)
            DECLINE(st, "an attribute value is not closed");
        attr.value = value;
        attr.value_len = (size_t)(p - value);
        p++;
        if (fn && fn(context, &attr, st))
            return -1;
    }
}

static inline int attr_is(const Attr *a, const char *name)
{
    size_t n = strlen(name);
    return a->name_len == n && memcmp(a->name, name, n) == 0;
}

/* Text ------------------------------------------------------------------------------ */

static int put_utf8(Buf *out, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xC0 | (cp >> 6));
        s[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | (cp >> 12));
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        s[0] = (char)(0xF0 | (cp >> 18));
        s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_put(out, s, n);
}

static inline int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* XML character data [s, e) → out, entities decoded, '"' doubled (a CSV field's
 * content). Declines on what calamine would read otherwise than as the plain text:
 * markup, a carriage return (XML folds line ends), a control character, an _xHHHH_
 * escape (calamine decodes those), an entity other than the five of XML. */
static int put_text(Buf *out, const char *s, const char *e, Status *st)
{
    const char *run = s;
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '&' && c != '<' && c != '_')
            continue;
        if (c == '\t' || c == '\n')
            continue;
        if (c == '_') {
            if (e - p >= 7 && p[1] == 'x' && is_hex(p[2]) && is_hex(p[3]) && is_hex(p[4]) && is_hex(p[5]) && p[6] == '_')
                DECLINE(st, "a text holds an _xHHHH_ escape");
            continue;
        }
        if (buf_put(out, run, (size_t)(p - run)))
            DECLINE(st, NO_MEMORY);
        if (c == '"') {
            if (buf_put(out, "\"\"", 2))
                DECLINE(st, NO_MEMORY);
            run = p + 1;
            continue;
        }
        if (c != '&')
            DECLINE(st, c == '<' ? "a text holds markup" : "a text holds a control character or a carriage return");
        const char *semi = memchr(p, ';', (size_t)(e - p) < 12 ? (size_t)(e - p) : 12);
        if (!semi)
            DECLINE(st, "a text holds a bare ampersand");
        const char *name = p + 1;
        size_t n = (size_t)(semi - name);
        char plain = 0;
        if (n == 3 && memcmp(name, "amp", 3) == 0)
            plain = '&';
        else if (n == 2 && memcmp(name, "lt", 2) == 0)
            plain = '<';
        else if (n == 2 && memcmp(name, "gt", 2) == 0)
            plain = '>';
        else if (n == 4 && memcmp(name, "quot", 4) == 0)
            plain = '"';
        else if (n == 4 && memcmp(name, "apos", 4) == 0)
            plain = '\'';
        if (plain == '"') {
            if (buf_put(out, "\"\"", 2))
                DECLINE(st, NO_MEMORY);
        } else if (plain) {
            if (buf_putc(out, plain))
                DECLINE(st, NO_MEMORY);
        } else if (n >= 2 && name[0] == '#') {
            uint32_t cp = 0;
            int hex = name[1] == 'x';
            const char *d = name + 1 + hex;
            if (d == semi)
                DECLINE(st, "a character reference is empty");
            for (; d < semi; d++) {
                int v;
                if (*d >= '0' && *d <= '9')
                    v = *d - '0';
                else if (hex && *d >= 'a' && *d <= 'f')
                    v = *d - 'a' + 10;
                else if (hex && *d >= 'A' && *d <= 'F')
                    v = *d - 'A' + 10;
                else
                    DECLINE(st, "a character reference is malformed");
                cp = cp * (hex ? 16 : 10) + (uint32_t)v;
                if (cp > 0x10FFFF)
                    DECLINE(st, "a character reference is out of range");
            }
            if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
                DECLINE(st, "a character reference names a control character");
            if (cp == '"') {
                if (buf_put(out, "\"\"", 2))
                    DECLINE(st, NO_MEMORY);
            } else if (put_utf8(out, cp))
                DECLINE(st, NO_MEMORY);
        } else
            DECLINE(st, "a text holds an entity XML does not define");
        p = semi;
        run = p + 1;
    }
    if (buf_put(out, run, (size_t)(e - run)))
        DECLINE(st, NO_MEMORY);
    return 0;
}

/* The <t> elements of a string item (<si>, <is>) up to its closing tag: their texts,
 * concatenated, into out. Runs (<r>) and their properties are passed over. */
typedef struct {
    int preserve;
} TAttrs;

static int t_attribute(void *context, const Attr *a, Status *st)
{
    (void)st;
    if (attr_is(a, "xml:space"))
        ((TAttrs *)context)->preserve = a->value_len == 8 && memcmp(a->value, "preserve", 8) == 0;
    return 0;
}

static int read_string_item(const char **pp, const char *end, const char *close, size_t close_len, Buf *out,
                            Status *st)
{
    const char *p = *pp;
    for (;;) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            DECLINE(st, "a string item is not closed");
        for (const char *q = p; q < lt; q++)
            if (!is_space(*q))
                DECLINE(st, "a string item holds text outside <t>");
        p = lt;
        if (starts(p, end, close, close_len)) {
            *pp = p + close_len;
            return 0;
        }
        if (OPENS(p, end, "t")) {
            TAttrs attrs = {0};
            int kind = read_attributes(&p, end, t_attribute, &attrs, st);
            if (kind < 0)
                return -1;
            if (kind == TAG_EMPTY)
                continue;
            const char *stop = FIND(p, end, "</t>");
            if (!stop)
                DECLINE(st, "a <t> is not closed");
            if (stop > p && !attrs.preserve && (is_space(*p) || is_space(stop[-1])))
                DECLINE(st, "a text has spaces at an end without xml:space=\"preserve\"");
            if (put_text(out, p, stop, st))
                return -1;
            p = stop + 4;
            continue;
        }
        if (STARTS(p, end, "<rPh") || STARTS(p, end, "<!") || STARTS(p, end, "<?"))
            DECLINE(st, "a string item holds phonetic runs, a comment or CDATA");
        /* Any other tag (<r>, </r>, <rPr>, </rPr> and the run properties): passed over. */
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            DECLINE(st, "a tag is not closed");
        for (const char *q = p + 1; q < gt; q++)
            if (*q == '<')
                DECLINE(st, "a tag is malformed");
        p = gt + 1;
    }
}

/* Shared strings --------------------------------------------------------------------- */

typedef struct {
    Buf text;      /* every item's CSV field content, one after the other */
    size_t *start; /* item i is text[start[i] .. start[i + 1]) */
    size_t count, cap;
} Shared;

/* The first element named tag (its attributes passed over): TAG_OPEN or TAG_EMPTY with
 * *pp just past it, or -1 when there is none (declined with why). */
static int open_first(const char **pp, const char *end, const char *tag, const char *why, Status *st)
{
    size_t n = strlen(tag);
    const char *at = find(*pp, end, tag, n);
    if (!at)
        DECLINE(st, why);
    *pp = at + n;
    return read_attributes(pp, end, NULL, NULL, st);
}

static int read_shared(const char *p, const char *end, Shared *sh, Status *st)
{
    int kind = open_first(&p, end, "<sst", "the shared strings have no <sst>", st);
    if (kind < 0)
        return -1;
    if (kind == TAG_EMPTY)
        p = end;
    for (;;) {
        if (sh->count + 1 >= sh->cap) {
            size_t cap = sh->cap ? sh->cap * 2 : 1024;
            size_t *start = realloc(sh->start, cap * sizeof(size_t));
            if (!start)
                DECLINE(st, NO_MEMORY);
            sh->start = start;
            sh->cap = cap;
        }
        sh->start[sh->count] = sh->text.len;
        p = skip_space(p, end);
        if (p >= end || STARTS(p, end, "</sst>"))
            break;
        if (STARTS(p, end, "<si>")) {
            p += 4;
            if (read_string_item(&p, end, "</si>", 5, &sh->text, st))
                return -1;
        } else if (STARTS(p, end, "<si/>")) {
            p += 5;
        } else
            DECLINE(st, "the shared strings hold something other than <si> items");
        sh->count++;
    }
    return 0;
}

/* The sheet ---------------------------------------------------------------------------- */

enum { FROM_TEXT = 0, FROM_SHARED = 1 };

/* 16 bytes: a 100,000-row sheet of 40 columns holds 4 million of them. */
typedef struct {
    uint32_t row;      /* 0-based */
    uint16_t col;      /* 0-based; a sheet has at most 16,384 columns */
    uint8_t source, numeric;
    uint32_t len;
    uint32_t offset;   /* into the part's text, or the shared string's index */
} Cell;

typedef struct {
    Cell *cells;
    size_t count, cap;
    Buf text; /* cells' CSV field content, for cells not taken from the shared strings */
    long first_row, last_row; /* 1-based numbers of the rows read, 0 when none */
} Cells;

typedef struct {
    long row;        /* r="N", -1 when absent */
    int placed;      /* r="A1" given */
    uint32_t cell_row, cell_col;
    char type[10];
    int typed;
    long style;
    int refused;     /* an attribute the fast path does not read */
    long max_row, max_col;
    int outside;
} TagInfo;

static int row_attribute(void *context, const Attr *a, Status *st)
{
    TagInfo *info = context;
    if (!attr_is(a, "r"))
        return 0;
    long n = 0;
    if (a->value_len == 0 || a->value_len > 7 || a->value[0] == '0')
        DECLINE(st, "a row number is malformed");
    for (size_t i = 0; i < a->value_len; i++) {
        char c = a->value[i];
        if (c < '0' || c > '9')
            DECLINE(st, "a row number is malformed");
        n = n * 10 + (c - '0');
    }
    info->row = n;
    if (n > info->max_row)
        info->outside = 1;
    return 0;
}

static int cell_attribute(void *context, const Attr *a, Status *st)
{
    TagInfo *info = context;
    if (attr_is(a, "r")) {
        size_t i = 0;
        long col = 0, row = 0;
        while (i < a->value_len && a->value[i] >= 'A' && a->value[i] <= 'Z') {
            col = col * 26 + (a->value[i] - 'A' + 1);
            i++;
        }
        size_t letters = i;
        if (letters == 0 || letters > 3 || i == a->value_len || a->value[i] == '0' || a->value_len - i > 7)
            DECLINE(st, "a cell reference is malformed");
        for (; i < a->value_len; i++) {
            char c = a->value[i];
            if (c < '0' || c > '9')
                DECLINE(st, "a cell reference is malformed");
            row = row * 10 + (c - '0');
        }
        if (row > info->max_row || col > info->max_col)
            info->outside = 1;
        info->placed = 1;
        info->cell_row = (uint32_t)(row - 1);
        info->cell_col = (uint32_t)(col - 1);
    } else if (attr_is(a, "t")) {
        if (a->value_len >= sizeof info->type)
            DECLINE(st, "a cell type is unknown");
        memcpy(info->type, a->value, a->value_len);
        info->type[a->value_len] = 0;
        info->typed = 1;
    } else if (attr_is(a, "s")) {
        long s = 0;
        if (a->value_len == 0 || a->value_len > 6)
            DECLINE(st, "a cell style is malformed");
        for (size_t i = 0; i < a->value_len; i++) {
            if (a->value[i] < '0' || a->value[i] > '9')
                DECLINE(st, "a cell style is malformed");
            s = s * 10 + (a->value[i] - '0');
        }
        info->style = s;
    } else if (attr_is(a, "vm"))
        DECLINE(st, "a cell holds a rich value (vm)");
    return 0;
}

static int push_cell(Cells *cs, Cell cell, Status *st)
{
    if (cs->count == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 1 << 16;
        Cell *cells = realloc(cs->cells, cap * sizeof(Cell));
        if (!cells)
            DECLINE(st, NO_MEMORY);
        cs->cells = cells;
        cs->cap = cap;
    }
    cs->cells[cs->count++] = cell;
    return 0;
}

/* A number as reporting.checks.workbook.cell_text writes a float: a whole number in
 * its integer digits, anything else in 15 significant digits. */
static int put_number(Buf *out, double v, Status *st)
{
    char s[400];
    int n;
    if (v == 0)
        n = snprintf(s, sizeof s, "0");
    else if (v == trunc(v)) {
        /* "1e300" would be written in 301 digits: a sheet of them would grow twentyfold. */
        if (fabs(v) >= 1e21)
            DECLINE(st, "a whole number has more than 21 digits");
        n = snprintf(s, sizeof s, "%.0f", v);
    }
    else
        n = snprintf(s, sizeof s, "%.15g", v);
    if (n <= 0 || (size_t)n >= sizeof s)
        DECLINE(st, "a number cannot be written");
    if (buf_put(out, s, (size_t)n))
        DECLINE(st, NO_MEMORY);
    return 0;
}

/* 1900 date system: serial 61 is 1900-03-01 (Excel's serial 60 is the 29 February
 * 1900 that never was; calamine and Excel part ways below 61, so those decline). */
static int put_date(Buf *out, long serial, Status *st)
{
    /* days from 0001-01-01 (day 1) — civil from days, Howard Hinnant's algorithm */
    long z = serial - 25569 + 719468; /* 25569: serial of 1970-01-01 */
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    char s[16];
    int n = snprintf(s, sizeof s, "%04ld-%02ld-%02ld", y, m, d);
    if (n != 10)
        DECLINE(st, "a date cannot be written");
    if (buf_put(out, s, 10))
        DECLINE(st, NO_MEMORY);
    return 0;
}

/* Digits with no leading zero (or "0"), perhaps after a minus, at most 15 of them: a
 * whole number a double holds exactly and cell_text writes as it is. */
static int plain_integer(const char *s, const char *e)
{
    int negative = s < e && *s == '-';
    s += negative;
    size_t n = (size_t)(e - s);
    if (n == 0 || n > 15 || (*s == '0' && (n > 1 || negative)))
        return 0;
    for (; s < e; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int parse_number(const char *s, const char *e, double *out)
{
    if (s == e || e - s > 64)
        return -1;
    char tmp[72];
    for (const char *p = s; p < e; p++) {
        char c = *p;
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return -1;
    }
    memcpy(tmp, s, (size_t)(e - s));
    tmp[e - s] = 0;
    char *stop;
    double v = strtod(tmp, &stop);
    if (*stop || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

typedef struct {
    const unsigned char *style_kinds;
    size_t style_count;
    int has_shared;
} Context;

/* One <c>…</c> (the tag's attributes already read into info): its value, if it has
 * one, pushed as a cell. */
static int read_cell(const char **pp, const char *end, int kind, TagInfo *info, const Context *ctx, Cells *cs,
                     Status *st)
{
    const char *p = *pp;
    const char *v = NULL, *v_end = NULL;
    int has_is = 0;
    size_t is_start = 0;
    if (kind == TAG_OPEN) {
        for (;;) {
            p = skip_space(p, end);
            if (p >= end)
                DECLINE(st, "a cell is not closed");
            if (STARTS(p, end, "</c>")) {
                p += 4;
                break;
            }
            if (STARTS(p, end, "<v>")) {
                p += 3;
                const char *stop = memchr(p, '<', (size_t)(end - p));
                if (!stop || !STARTS(stop, end, "</v>"))
                    DECLINE(st, "a value holds markup or is not closed");
                if (v)
                    DECLINE(st, "a cell has two values");
                v = p;
                v_end = stop;
                p = stop + 4;
            } else if (OPENS(p, end, "f")) {
                int fk = read_attributes(&p, end, NULL, NULL, st);
                if (fk < 0)
                    return -1;
                if (fk == TAG_OPEN) {
                    const char *stop = memchr(p, '<', (size_t)(end - p));
                    if (!stop || !STARTS(stop, end, "</f>"))
                        DECLINE(st, "a formula holds markup or is not closed");
                    p = stop + 4;
                }
            } else if (STARTS(p, end, "<is>")) {
                if (has_is)
                    DECLINE(st, "a cell has two inline strings");
                p += 4;
                has_is = 1;
                is_start = cs->text.len;
                if (read_string_item(&p, end, "</is>", 5, &cs->text, st))
                    return -1;
            } else
                DECLINE(st, "a cell holds an element other than <v>, <f> and <is>");
        }
    }
    *pp = p;
    if (!info->placed)
        DECLINE(st, "a cell has no reference (r=\"…\")");
    if (info->cell_col > 16383 || cs->text.len > UINT32_MAX / 2)
        DECLINE(st, "a cell lies beyond column XFD, or the sheet's text is too large");
    Cell cell = {info->cell_row, (uint16_t)info->cell_col, FROM_TEXT, 0, 0, (uint32_t)cs->text.len};
    const char *t = info->typed ? info->type : "n";
    if (strcmp(t, "inlineStr") == 0) {
        if (!has_is)
            DECLINE(st, "an inline string cell has no <is>");
        cell.offset = (uint32_t)is_start;
        cell.len = (uint32_t)(cs->text.len - is_start);
        return push_cell(cs, cell, st);
    }
    if (has_is)
        DECLINE(st, "a cell that is not an inline string has <is>");
    if (!v)
        return 0; /* no value: calamine leaves the cell out */
    if (strcmp(t, "n") == 0) {
        double number;
        int plain = plain_integer(v, v_end);
        if (plain)
            number = 0; /* not needed unless the style is a date's: parsed there */
        else if (parse_number(v, v_end, &number))
            DECLINE(st, "a number cell holds something else");
        long style = info->style < 0 ? 0 : info->style;
        if ((size_t)style >= ctx->style_count)
            DECLINE(st, "a cell's style is not in the workbook's styles");
        unsigned char style_kind = ctx->style_kinds[style];
        if (style_kind == 0) {
            if (plain) {
                /* already as cell_text writes it: copied, not formatted again */
                if (buf_put(&cs->text, v, (size_t)(v_end - v)))
                    DECLINE(st, NO_MEMORY);
            } else if (put_number(&cs->text, number, st))
                return -1;
            cell.numeric = 1;
        } else if (style_kind == 1) {
            if (plain && parse_number(v, v_end, &number))
                DECLINE(st, "a number cell holds something else");
            if (number != trunc(number) || number < 61 || number > 2958465)
                DECLINE(st, "a date cell holds a time of day or a date before March 1900");
            if (put_date(&cs->text, (long)number, st))
                return -1;
        } else
            DECLINE(st, "a number cell has a format other than a number or a date");
    } else if (strcmp(t, "s") == 0) {
        size_t index = 0;
        if (v == v_end || v_end - v > 10)
            DECLINE(st, "a shared string index is malformed");
        for (const char *q = v; q < v_end; q++) {
            if (*q < '0' || *q > '9')
                DECLINE(st, "a shared string index is malformed");
            index = index * 10 + (size_t)(*q - '0');
        }
        if (!ctx->has_shared)
            DECLINE(st, "a shared string index is beyond the shared strings");
        cell.source = FROM_SHARED;
        if (index > UINT32_MAX)
            DECLINE(st, "a shared string index is beyond the shared strings");
        cell.offset = (uint32_t)index; /* looked up when the CSV is written: the shared strings may
                                still be being read on the other thread */
        return push_cell(cs, cell, st);
    } else if (strcmp(t, "str") == 0) {
        if (v < v_end && (is_space(*v) || is_space(v_end[-1])))
            DECLINE(st, "a formula's text has spaces at an end");
        if (put_text(&cs->text, v, v_end, st))
            return -1;
    } else if (strcmp(t, "b") == 0) {
        if (v_end - v != 1 || (*v != '0' && *v != '1'))
            DECLINE(st, "a truth value is malformed");
        if (buf_put(&cs->text, *v == '1' ? "TRUE" : "FALSE", *v == '1' ? 4 : 5))
            DECLINE(st, NO_MEMORY);
    } else
        DECLINE(st, "a cell is an error, an ISO date or of an unknown type");
    cell.len = (uint32_t)(cs->text.len - cell.offset);
    return push_cell(cs, cell, st);
}

/* A row's or a cell's attributes, refusing ("outside") a position beyond the limits. */
static int read_placed(const char **pp, const char *end, attr_fn fn, TagInfo *info, Status *st)
{
    int kind = read_attributes(pp, end, fn, info, st);
    if (kind >= 0 && info->outside) {
        st->why = OUTSIDE;
        return -1;
    }
    return kind;
}

/* Rows from p: up to "</sheetData>" (stop NULL), or up to stop exactly, where the next
 * part's first row begins. */
static int read_rows(const char *p, const char *end, const char *stop, const Context *ctx, long max_row,
                     long max_col, Cells *cs, Status *st)
{
    long last_row = 0;
    for (;;) {
        p = skip_space(p, end);
        if (stop && p >= stop) {
            if (p == stop)
                return 0;
            DECLINE(st, "a row runs past where the sheet was cut in two");
        }
        if (!stop && STARTS(p, end, "</sheetData>"))
            return 0;
        if (!OPENS(p, end, "row"))
            DECLINE(st, "the sheet data holds something other than rows");
        TagInfo row = {.row = -1, .style = -1, .max_row = max_row, .max_col = max_col};
        int row_kind = read_placed(&p, end, row_attribute, &row, st);
        if (row_kind < 0)
            return -1;
        if (row.row < 0)
            DECLINE(st, "a row has no number (r=\"…\")");
        if (row.row <= last_row)
            DECLINE(st, "the rows are out of order");
        if (!cs->first_row)
            cs->first_row = row.row;
        last_row = cs->last_row = row.row;
        if (row_kind == TAG_EMPTY)
            continue;
        long last_col = -1;
        for (;;) {
            p = skip_space(p, end);
            if (STARTS(p, end, "</row>")) {
                p += 6;
                break;
            }
            if (!OPENS(p, end, "c"))
                DECLINE(st, "a row holds something other than cells");
            TagInfo info = {.row = -1, .style = -1, .max_row = max_row, .max_col = max_col};
            int cell_kind = read_placed(&p, end, cell_attribute, &info, st);
            if (cell_kind < 0)
                return -1;
            if (!info.placed)
                DECLINE(st, "a cell has no reference (r=\"…\")");
            if ((long)info.cell_row + 1 != row.row)
                DECLINE(st, "a cell's reference is not in its row");
            if ((long)info.cell_col <= last_col)
                DECLINE(st, "the cells of a row are out of order");
            last_col = info.cell_col;
            if (read_cell(&p, end, cell_kind, &info, ctx, cs, st))
                return -1;
        }
    }
}

/* Where the rows are: [*rows, end of the sheet data), or NULL when there are none. */
static int find_rows(const char *p, const char *end, const char **rows, Status *st)
{
    int kind = open_first(&p, end, "<sheetData", "the sheet has no <sheetData>", st);
    if (kind < 0)
        return -1;
    *rows = kind == TAG_EMPTY ? NULL : p;
    return 0;
}

/* A place to cut the rows in two: the first "<row" at or after the middle. */
static const char *cut_point(const char *rows, const char *end)
{
    const char *p = rows + (end - rows) / 2;
    for (;;) {
        p = FIND(p, end, "<row");
        if (!p || p + 4 >= end)
            return NULL;
        if (p[4] == '>' || p[4] == '/' || is_space(p[4]))
            return p;
        p += 4;
    }
}

/* The CSV ------------------------------------------------------------------------------ */

/* The parts' cells (in row order, part after part) as one CSV text. */
static int write_csv(const Cells *parts, int nparts, const Shared *shared, Buf *csv, char **numeric,
                     uint32_t *first_row, uint32_t *rows, uint32_t *width, int *any_spaced, Status *st)
{
    *numeric = NULL;
    *any_spaced = 0;
    *first_row = *rows = *width = 0;
    /* From the sheet's first row, as python-calamine's iter_rows gives the rows (the
     * columns from A, as reporting.checks.workbook pads calamine's). */
    uint32_t first = 0, last = 0, w = 0;
    size_t total = 0;
    for (int k = 0; k < nparts; k++) {
        const Cells *cs = &parts[k];
        total += cs->count;
        if (cs->count)
            last = cs->cells[cs->count - 1].row;
        for (size_t i = 0; i < cs->count; i++) {
            const Cell *cell = &cs->cells[i];
            if ((uint32_t)cell->col + 1 > w)
                w = cell->col + 1;
            if (cell->source == FROM_SHARED && (!shared || cell->offset >= shared->count))
                DECLINE(st, "a shared string index is beyond the shared strings");
        }
    }
    if (total == 0)
        return 0;
    uint32_t n = last - first + 1;
    /* A blank cell is an empty field, which polars reads as null (or "" when some cell
     * needs stripping). Only a sheet one column wide writes "" for it, or the line would
     * be empty: its blanks are then "", as though some cell needed stripping. */
    int one_column = w == 1;
    if (one_column)
        *any_spaced = 1;
    *numeric = calloc((size_t)n * w + 1, 1);
    if (!*numeric)
        DECLINE(st, NO_MEMORY);
    int k = 0;
    size_t i = 0;
    for (uint32_t r = first; r <= last; r++) {
        for (uint32_t c = 0; c < w; c++) {
            while (k < nparts && i == parts[k].count) {
                k++;
                i = 0;
            }
            if (c && buf_putc(csv, ','))
                DECLINE(st, NO_MEMORY);
            if (k < nparts && parts[k].cells[i].row == r && parts[k].cells[i].col == c) {
                const Cell *cell = &parts[k].cells[i++];
                const char *text;
                uint32_t len;
                if (cell->source == FROM_SHARED) {
                    text = shared->text.data + shared->start[cell->offset];
                    len = (uint32_t)(shared->start[cell->offset + 1] - shared->start[cell->offset]);
                } else {
                    text = parts[k].text.data + cell->offset;
                    len = cell->len;
                }
                if (len || one_column) {
                    if (buf_putc(csv, '"') || buf_put(csv, text, len) || buf_putc(csv, '"'))
                        DECLINE(st, NO_MEMORY);
                    if (!*any_spaced && edges_spaced(text, len))
                        *any_spaced = 1;
                }
                (*numeric)[(size_t)(r - first) * w + c] = cell->numeric;
            } else if (one_column && buf_put(csv, "\"\"", 2))
                DECLINE(st, NO_MEMORY);
        }
        if (buf_putc(csv, '\n'))
            DECLINE(st, NO_MEMORY);
    }
    *first_row = first;
    *rows = n;
    *width = w;
    return 0;
}

/* The second part of the rows, read on a thread of its own. */
typedef struct {
    const char *from, *end;
    const Context *ctx;
    long max_row, max_col;
    Cells cells;
    Status st;
} Part;

static void *read_part(void *arg)
{
    Part *part = arg;
    read_rows(part->from, part->end, NULL, part->ctx, part->max_row, part->max_col, &part->cells, &part->st);
    return NULL;
}

/* Below this, cutting the rows in two costs more than it saves. */
#define CUT_BYTES (4u << 20)

static PyObject *sheetcells_read(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer sheet, kinds;
    PyObject *shared_obj;
    long max_row, max_col;
    int threads = 1;
    Py_ssize_t min_cut = CUT_BYTES;
    if (!PyArg_ParseTuple(args, "y*Oy*ll|in", &sheet, &shared_obj, &kinds, &max_row, &max_col, &threads, &min_cut))
        return NULL;
    Py_buffer shared_buf = {0};
    int has_shared = shared_obj != Py_None;
    if (has_shared && PyObject_GetBuffer(shared_obj, &shared_buf, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&sheet);
        PyBuffer_Release(&kinds);
        return NULL;
    }
    Status st = {NULL};
    Shared shared = {{0}, NULL, 0, 0};
    Context ctx = {kinds.buf, (size_t)kinds.len, has_shared};
    Part parts[2];
    memset(parts, 0, sizeof parts);
    int nparts = 1;
    Buf csv = {0};
    char *numeric = NULL;
    uint32_t first_row = 0, rows = 0, width = 0;
    int any_spaced = 0;
    const char *begin = sheet.buf, *end = begin + sheet.len;

    Py_BEGIN_ALLOW_THREADS;
    const char *from = NULL;
    if (find_rows(begin, end, &from, &st) == 0 && from) {
        /* The rows cut in two at a row's start, the second half read on another thread
         * while this one reads the shared strings and the first half. */
        const char *cut = threads > 1 && end - from > min_cut ? cut_point(from, end) : NULL;
        pthread_t thread;
        int started = 0;
        if (cut) {
            parts[1] = (Part){cut, end, &ctx, max_row, max_col, {0}, {NULL}};
            started = pthread_create(&thread, NULL, read_part, &parts[1]) == 0;
            if (started)
                nparts = 2;
        }
        if (!has_shared || read_shared(shared_buf.buf, (const char *)shared_buf.buf + shared_buf.len, &shared, &st) == 0)
            read_rows(from, end, started ? cut : NULL, &ctx, max_row, max_col, &parts[0].cells, &st);
        if (started) {
            pthread_join(thread, NULL);
            /* The first problem in the sheet's order is the one reported. */
            if (!st.why && parts[1].st.why)
                st = parts[1].st;
            if (!st.why && parts[0].cells.last_row && parts[1].cells.first_row &&
                parts[1].cells.first_row <= parts[0].cells.last_row)
                st.why = "the rows are out of order";
        }
        if (!st.why) {
            Cells halves[2] = {parts[0].cells, parts[1].cells};
            write_csv(halves, nparts, has_shared ? &shared : NULL, &csv, &numeric, &first_row, &rows, &width,
                      &any_spaced, &st);
        }
    }
    Py_END_ALLOW_THREADS;

    PyObject *result = NULL;
    if (st.why == NO_MEMORY)
        PyErr_NoMemory();
    else if (st.why)
        result = PyUnicode_FromString(st.why);
    else {
        PyObject *csv_bytes = PyBytes_FromStringAndSize(csv.data ? csv.data : "", (Py_ssize_t)csv.len);
        PyObject *numeric_bytes =
            PyBytes_FromStringAndSize(numeric ? numeric : "", numeric ? (Py_ssize_t)rows * width : 0);
        if (csv_bytes && numeric_bytes)
            result = Py_BuildValue("(OOIIIO)", csv_bytes, numeric_bytes, first_row, rows, width,
                                   any_spaced ? Py_True : Py_False);
        Py_XDECREF(csv_bytes);
        Py_XDECREF(numeric_bytes);
    }
    free(shared.text.data);
    free(shared.start);
    for (int k = 0; k < 2; k++) {
        free(parts[k].cells.cells);
        free(parts[k].cells.text.data);
    }
    free(csv.data);
    free(numeric);
    PyBuffer_Release(&sheet);
    PyBuffer_Release(&kinds);
    if (has_shared)
        PyBuffer_Release(&shared_buf);
    return result;
}

static PyMethodDef methods[] = {
    {"read", sheetcells_read, METH_VARARGS,
     "read(sheet_xml, shared_xml, style_kinds, max_row, max_col, threads=1, min_cut=4 MB) -> (csv, numeric, first_row, "
     "rows, width, "
     "spaced) | str"},
    {"csv_columns", sheetcells_csv_columns, METH_VARARGS,
     "csv_columns(data, max_rows) -> (header, columns, rows, fits, data_rows, spaced) | str"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "sheetcells", "The cells of an XLSX worksheet as one CSV text, and of a CSV file as Arrow columns.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_sheetcells(void) { return PyModule_Create(&module); }
