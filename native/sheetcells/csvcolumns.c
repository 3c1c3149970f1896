/*
 * csv_columns: a CSV file's cells as Arrow string columns, in native code.
 *
 * Reading a 100,000-row participant CSV took a third of `manage.py check_files`: polars
 * read the file twice (once into lines, to count each record's fields, which polars
 * cannot say; once into cells), and building its columns cost more than cutting the
 * text. This reads the file once, counts each record's fields as it cuts them, and
 * writes each column as an Arrow string-view array (the layout polars keeps its strings
 * in), which polars takes over through the Arrow C data interface without copying.
 *
 * It reads the records exactly as Python's csv module does with its default dialect
 * (reporting.checks.reading._csv_grid_exact, the reference it is tested against in
 * tests/reporting/checks/test_csvcolumns.py) — a quote mark inside an unquoted field,
 * and text after a closing quote, are text, as there — and declines (returning a reason
 * as a str) what the caller reads otherwise or has a better message for: a carriage
 * return that does not end a line (or one inside quotes), a quoted field left open,
 * the separator controls U+001C-U+001F (white space to Python, not to polars), a blank
 * header, or a header of more than MAX_WIDTH fields. The caller then reads the file as
 * before.
 * The text must be valid UTF-8 (the caller has checked it) without a byte-order mark.
 *
 * csv_columns(data, max_rows)
 * returns (header, columns, rows, fits, data_rows, spaced) or a str:
 *   header     the first record's fields (list of str); its length is the width
 *   columns    one (schema, array) pair of Arrow PyCapsules per header field: the cells
 *              of each data record that is not blank, null for an empty unquoted field
 *              and for a field the record lacks; fields beyond the width are dropped
 *   rows       (schema, array) of int64: each such record's number (the header is 1; a
 *              record with quoted line breaks in it is one record)
 *   fits       (schema, array) of booleans: whether the record has the header's width
 *   data_rows  how many data records are not blank (every field empty or white space);
 *              when it is over max_rows, columns, rows and fits are None
 *   spaced     whether a cell kept begins or ends with white space, or is a quoted
 *              empty string: when False, no cell needs stripping
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csvcolumns.h"
#include "whitespace.h"

/* A header wider than this is left to polars: the template has about forty columns. */
#define MAX_WIDTH 1000

/* The Arrow C data interface (arrow.apache.org/docs/format/CDataInterface.html). */
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

#define ARROW_FLAG_NULLABLE 2
#define VIEW_BYTES 16
#define INLINE_BYTES 12

typedef struct {
    const char *why;
} Status;

static const char NO_MEMORY[] = "out of memory";

#define DECLINE(st, reason) \
    do {                    \
        (st)->why = reason; \
        return NULL;        \
    } while (0)

/* A field as it stands in the file: its text between the quotes if it is quoted. */
typedef struct {
    const char *text;
    size_t len;
    /* rebuilt: its text is not the span as it stands: "" stands for a quote mark, or
     * text follows the closing quote (the csv module keeps it, quote marks and all) */
    unsigned char quoted, rebuilt;
} Field;

typedef struct {
    Field *at;
    size_t n, cap;
} Fields;

static int fields_push(Fields *fs, Field f)
{
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 64;
        Field *at = realloc(fs->at, cap * sizeof *at);
        if (!at)
            return -1;
        fs->at = at;
        fs->cap = cap;
    }
    fs->at[fs->n++] = f;
    return 0;
}

/* Bytes that end or complicate an unquoted field, and a quoted one. */
static unsigned char plain_stop[256], quoted_stop[256];

static void init_tables(void)
{
    const unsigned char controls[] = {0x1C, 0x1D, 0x1E, 0x1F};
    for (size_t i = 0; i < sizeof controls; i++)
        plain_stop[controls[i]] = quoted_stop[controls[i]] = 1;
    /* A quote mark inside an unquoted field is text, as the csv module reads it. */
    plain_stop[','] = plain_stop['\n'] = plain_stop['\r'] = 1;
    quoted_stop['"'] = quoted_stop['\r'] = 1;
}

/* One record's fields from p (p < end); the text after its line break, or NULL with
 * st->why set. */
static const char *read_record(const char *p, const char *end, Fields *fs, Status *st)
{
    fs->n = 0;
    if (*p == '\n')
        return p + 1; /* an empty line: no field at all, as the csv module reads it */
    if (*p == '\r' && p + 1 < end && p[1] == '\n')
        return p + 2;
    for (;;) {
        Field f = {p, 0, 0, 0};
        if (p < end && *p == '"') {
            f.quoted = 1;
            f.text = ++p;
            for (;;) {
                while (p < end && !quoted_stop[(unsigned char)*p])
                    p++;
                if (p == end)
                    DECLINE(st, "a quoted field is not closed");
                if (*p != '"')
                    DECLINE(st, *p == '\r' ? "a carriage return in a quoted field" : "a separator control character");
                if (p + 1 < end && p[1] == '"') {
                    f.rebuilt = 1;
                    p += 2;
                    continue;
                }
                break;
            }
            f.len = (size_t)(p - f.text);
            p++; /* the closing quote */
        }
        if (!f.quoted || (p < end && *p != ',' && *p != '\n' && *p != '\r')) {
            /* An unquoted field, or the text after a closing quote: up to the next comma
             * or line break, quote marks and all. */
            if (f.quoted)
                f.rebuilt = 1;
            while (p < end && !plain_stop[(unsigned char)*p])
                p++;
            f.len = (size_t)(p - f.text);
        }
        if (p < end && *p != ',' && *p != '\n' && (*p != '\r' || p + 1 == end || p[1] != '\n'))
            DECLINE(st, *p == '\r' ? "a carriage return that does not end a line" : "a separator control character");
        if (f.len > INT32_MAX)
            DECLINE(st, "a field over 2 GB");
        if (fields_push(fs, f))
            DECLINE(st, NO_MEMORY);
        if (p == end)
            return p;
        if (*p == ',') {
            p++;
            continue;
        }
        return *p == '\n' ? p + 1 : p + 2; /* "\n" or "\r\n" */
    }
}

static inline int is_blank(const char *text, size_t len)
{
    if (len == 0)
        return 1;
    unsigned char c = (unsigned char)text[0];
    if (c < 0x80 && !is_white_space(c))
        return 0;
    return all_white_space(text, len);
}

static inline int is_spaced(const char *text, size_t len, int quoted)
{
    if (len == 0)
        return quoted; /* "" is a quoted empty string, not a blank */
    unsigned char first = (unsigned char)text[0], last = (unsigned char)text[len - 1];
    if (first < 0x80 && last < 0x80)
        return is_white_space(first) || is_white_space(last);
    return edges_spaced(text, len);
}

/* One allocation for every column's views and validity, and the row numbers and fits:
 * tens of megabytes, zeroed (every cell starts as null) and written once. Each exported
 * array holds a reference to it; the last one released frees it. (Asking for huge pages
 * was tried: as many page faults' time went into the kernel zeroing them, and more
 * varied.) */
typedef struct {
    atomic_int refs;
    unsigned char *base;
} Region;

static Region *region_new(size_t size)
{
    Region *region = malloc(sizeof *region);
    if (!region)
        return NULL;
    if (!(region->base = calloc(size, 1))) {
        free(region);
        return NULL;
    }
    atomic_init(&region->refs, 1);
    return region;
}

static void region_drop(Region *region)
{
    if (region && atomic_fetch_sub(&region->refs, 1) == 1) {
        free(region->base);
        free(region);
    }
}

/* A column being written: VIEW_BYTES per row, a validity bit per row, and the text of
 * cells longer than INLINE_BYTES. */
typedef struct {
    unsigned char *views, *valid;
    Buf data;
    int64_t nulls;
} Column;

/* A field's text: the span as it stands, or rebuilt into scratch as the csv module
 * reads it (inside the quotes "" is one quote mark; after the closing quote, every
 * character is text). */
static int field_text(const Field *f, Buf *scratch, const char **text, size_t *len)
{
    *text = f->text;
    *len = f->len;
    if (!f->rebuilt)
        return 0;
    scratch->len = 0;
    const char *s = f->text, *end = s + f->len;
    while (s < end) {
        const char *q = memchr(s, '"', (size_t)(end - s));
        if (!q)
            q = end;
        if (buf_put(scratch, s, (size_t)(q - s)))
            return -1;
        if (q == end)
            break;
        if (q + 1 < end && q[1] == '"') {
            if (buf_putc(scratch, '"'))
                return -1;
            s = q + 2;
        } else { /* the closing quote: the rest is text as it stands */
            if (buf_put(scratch, q + 1, (size_t)(end - q - 1)))
                return -1;
            break;
        }
    }
    *text = scratch->data ? scratch->data : "";
    *len = scratch->len;
    return 0;
}

static int put_cell(Column *c, size_t row, const Field *f, const char *text, size_t len)
{
    unsigned char *view = c->views + row * VIEW_BYTES;
    if (len == 0 && !f->quoted) {
        c->nulls++; /* a blank cell is null, as polars reads it */
        return 0;
    }
    int32_t length = (int32_t)len;
    memcpy(view, &length, 4);
    if (len <= INLINE_BYTES) {
        if (len)
            memcpy(view + 4, text, len);
    } else {
        if (c->data.len + len > INT32_MAX)
            return -1;
        int32_t buffer = 0, offset = (int32_t)c->data.len;
        memcpy(view + 4, text, 4);
        memcpy(view + 8, &buffer, 4);
        memcpy(view + 12, &offset, 4);
        if (buf_put(&c->data, text, len))
            return -1;
    }
    c->valid[row >> 3] |= (unsigned char)(1u << (row & 7));
    return 0;
}

/* Exporting --------------------------------------------------------------------------- */

/* What an exported array owns: its data buffer, and a reference to the region of its
 * other buffers; its release callback (on whatever thread polars drops it) frees them. */
typedef struct {
    Region *region;
    void *data;
    const void *buffers[4];
    int64_t data_size;
} Owned;

static void release_schema(struct ArrowSchema *schema) { schema->release = NULL; }

static void release_array(struct ArrowArray *array)
{
    Owned *owned = array->private_data;
    free(owned->data);
    region_drop(owned->region);
    free(owned);
    array->release = NULL;
}

static void schema_capsule_free(PyObject *capsule)
{
    struct ArrowSchema *schema = PyCapsule_GetPointer(capsule, "arrow_schema");
    if (schema && schema->release)
        schema->release(schema);
    free(schema);
}

static void array_capsule_free(PyObject *capsule)
{
    struct ArrowArray *array = PyCapsule_GetPointer(capsule, "arrow_array");
    if (array && array->release)
        array->release(array);
    free(array);
}

/* The (schema, array) capsules of an array of `format`; it takes `owned` over (freeing
 * it on failure). */
static PyObject *export(const char *format, int64_t length, int64_t nulls, Owned *owned, int n_buffers)
{
    struct ArrowSchema *schema = calloc(1, sizeof *schema);
    struct ArrowArray *array = calloc(1, sizeof *array);
    if (!schema || !array) {
        free(schema);
        free(array);
        free(owned->data);
        region_drop(owned->region);
        free(owned);
        return PyErr_NoMemory();
    }
    *schema = (struct ArrowSchema){format, "", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, release_schema, NULL};
    *array = (struct ArrowArray){length, nulls, 0, n_buffers, 0, owned->buffers, NULL, NULL, release_array, owned};
    PyObject *schema_capsule = PyCapsule_New(schema, "arrow_schema", schema_capsule_free);
    if (!schema_capsule) {
        release_schema(schema);
        free(schema);
        release_array(array);
        free(array);
        return NULL;
    }
    PyObject *array_capsule = PyCapsule_New(array, "arrow_array", array_capsule_free);
    if (!array_capsule) {
        Py_DECREF(schema_capsule);
        release_array(array);
        free(array);
        return NULL;
    }
    PyObject *pair = PyTuple_Pack(2, schema_capsule, array_capsule);
    Py_DECREF(schema_capsule);
    Py_DECREF(array_capsule);
    return pair;
}

/* An Owned holding a new reference to region. */
static Owned *owned_new(Region *region)
{
    Owned *owned = calloc(1, sizeof *owned);
    if (!owned)
        return NULL;
    atomic_fetch_add(&region->refs, 1);
    owned->region = region;
    return owned;
}

static PyObject *export_column(Column *c, size_t rows, Region *region)
{
    Owned *owned = owned_new(region);
    if (!owned)
        return PyErr_NoMemory();
    owned->data = c->data.data;
    c->data.data = NULL;
    owned->data_size = (int64_t)c->data.len;
    /* validity, views, the data buffer if a cell is too long to sit in its view, and
     * the sizes of the data buffers */
    int n_buffers = 0;
    owned->buffers[n_buffers++] = c->valid;
    owned->buffers[n_buffers++] = c->views;
    if (c->data.len)
        owned->buffers[n_buffers++] = owned->data;
    owned->buffers[n_buffers++] = &owned->data_size;
    return export("vu", (int64_t)rows, c->nulls, owned, n_buffers);
}

static PyObject *export_plain(const char *format, void *values, size_t rows, Region *region)
{
    Owned *owned = owned_new(region);
    if (!owned)
        return PyErr_NoMemory();
    owned->buffers[0] = NULL; /* no nulls */
    owned->buffers[1] = values;
    return export(format, (int64_t)rows, 0, owned, 2);
}

/* Reading ----------------------------------------------------------------------------- */

typedef struct {
    Fields header;
    size_t width, cap, stored, data_rows;
    Column *columns;
    Buf scratch;
    Region *region;
    int64_t *rows;
    unsigned char *fits;
    int spaced;
} Read;

static void read_free(Read *r)
{
    if (r->columns)
        for (size_t i = 0; i < r->width; i++)
            free(r->columns[i].data.data);
    free(r->columns);
    free(r->header.at);
    free(r->scratch.data);
    region_drop(r->region);
}

static const char *read_csv(const char *p, const char *end, size_t max_rows, Read *r, Status *st)
{
    Fields fs = {0};
    p = read_record(p, end, &r->header, st);
    if (!p)
        return NULL;
    const char *text;
    size_t len;
    int blank = 1;
    for (size_t i = 0; i < r->header.n && blank; i++) {
        if (field_text(&r->header.at[i], &r->scratch, &text, &len))
            DECLINE(st, NO_MEMORY);
        blank = is_blank(text, len);
    }
    if (blank)
        DECLINE(st, "a blank header");
    if (r->header.n > MAX_WIDTH)
        DECLINE(st, "a header of more than 1,000 fields");
    r->width = r->header.n;
    /* Room for every record the text can hold, up to one over max_rows: pages not
     * written to cost nothing. */
    size_t lines = 1;
    for (const char *q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++)
        lines++;
    r->cap = lines < max_rows + 1 ? lines : max_rows + 1;
    size_t bits = (r->cap / 64 + 1) * 8, views = r->cap * VIEW_BYTES;
    r->columns = calloc(r->width, sizeof *r->columns);
    r->region = region_new(r->width * (views + bits) + r->cap * sizeof *r->rows + bits);
    if (!r->columns || !r->region)
        DECLINE(st, NO_MEMORY);
    unsigned char *at = r->region->base;
    for (size_t i = 0; i < r->width; i++, at += views)
        r->columns[i].views = at;
    r->rows = (int64_t *)at;
    at += r->cap * sizeof *r->rows;
    for (size_t i = 0; i < r->width; i++, at += bits)
        r->columns[i].valid = at;
    r->fits = at;
    int64_t record = 1; /* the header */
    while (p < end) {
        p = read_record(p, end, &fs, st);
        record++;
        if (!p)
            break;
        size_t i = 0;
        for (; i < fs.n; i++) {
            if (field_text(&fs.at[i], &r->scratch, &text, &len)) {
                st->why = NO_MEMORY;
                break;
            }
            if (!is_blank(text, len))
                break;
        }
        if (st->why)
            break;
        if (i == fs.n)
            continue; /* a blank record: not a data row */
        r->data_rows++;
        if (r->stored == r->cap)
            continue; /* over max_rows: counted only, for the caller's refusal */
        size_t row = r->stored++, kept = fs.n < r->width ? fs.n : r->width;
        r->rows[row] = record;
        if (fs.n == r->width)
            r->fits[row >> 3] |= (unsigned char)(1u << (row & 7));
        for (i = 0; i < kept; i++) {
            const Field *f = &fs.at[i];
            if (field_text(f, &r->scratch, &text, &len) || put_cell(&r->columns[i], row, f, text, len)) {
                st->why = NO_MEMORY;
                break;
            }
            if (!r->spaced && is_spaced(text, len, f->quoted))
                r->spaced = 1;
        }
        for (; i < r->width; i++)
            r->columns[i].nulls++; /* a field the record lacks */
        if (st->why)
            break;
    }
    free(fs.at);
    return st->why ? NULL : p;
}

PyObject *sheetcells_csv_columns(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer data;
    Py_ssize_t max_rows;
    if (!PyArg_ParseTuple(args, "y*n", &data, &max_rows))
        return NULL;
    if (!plain_stop[',']) /* once; under the GIL */
        init_tables();
    Read r;
    memset(&r, 0, sizeof r);
    Status st = {NULL};
    const char *begin = data.buf, *end = begin + data.len;
    Py_BEGIN_ALLOW_THREADS;
    if (begin == end)
        st.why = "an empty file";
    else
        read_csv(begin, end, max_rows < 0 ? 0 : (size_t)max_rows, &r, &st);
    Py_END_ALLOW_THREADS;

    PyObject *result = NULL, *header = NULL, *columns = NULL, *rows = NULL, *fits = NULL;
    if (st.why == NO_MEMORY) {
        PyErr_NoMemory();
        goto done;
    }
    if (st.why) {
        result = PyUnicode_FromString(st.why);
        goto done;
    }
    if (!(header = PyList_New((Py_ssize_t)r.width)))
        goto done;
    for (size_t i = 0; i < r.width; i++) {
        const Field *f = &r.header.at[i];
        PyObject *text;
        const char *chars;
        size_t len;
        if (field_text(f, &r.scratch, &chars, &len)) {
            PyErr_NoMemory();
            goto done;
        }
        text = PyUnicode_DecodeUTF8(chars, (Py_ssize_t)len, "strict");
        if (!text)
            goto done;
        PyList_SET_ITEM(header, (Py_ssize_t)i, text);
    }
    if (r.data_rows > (size_t)max_rows) {
        result = Py_BuildValue("(OOOOnO)", header, Py_None, Py_None, Py_None, (Py_ssize_t)r.data_rows,
                               r.spaced ? Py_True : Py_False);
        goto done;
    }
    if (!(columns = PyList_New((Py_ssize_t)r.width)))
        goto done;
    for (size_t i = 0; i < r.width; i++) {
        PyObject *pair = export_column(&r.columns[i], r.stored, r.region);
        if (!pair)
            goto done;
        PyList_SET_ITEM(columns, (Py_ssize_t)i, pair);
    }
    if (!(rows = export_plain("l", r.rows, r.stored, r.region)))
        goto done;
    if (!(fits = export_plain("b", r.fits, r.stored, r.region)))
        goto done;
    result = Py_BuildValue("(OOOOnO)", header, columns, rows, fits, (Py_ssize_t)r.data_rows,
                           r.spaced ? Py_True : Py_False);
done:
    Py_XDECREF(header);
    Py_XDECREF(columns);
    Py_XDECREF(rows);
    Py_XDECREF(fits);
    read_free(&r);
    PyBuffer_Release(&data);
    return result;
}
