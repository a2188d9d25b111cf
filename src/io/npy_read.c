/*
 * .npy reader. The format (numpy's NEP 1): the magic "\x93NUMPY", a
 * major and minor version byte, the header length (uint16 little-endian in
 * 1.0, uint32 in 2.0 and 3.0), then a Python dict literal with keys
 * 'descr', 'fortran_order' and 'shape', padded with spaces and ending in
 * a newline, then the raw data.
 */
#include "io/npy_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

const char *cs__element_name(cs__element element)
{
    static const char *const names[] = {"bool",  "uint8",   "int32",
                                        "int64", "float32", "float64"};
    return (unsigned)element < 6 ? names[element] : "unknown";
}

static size_t element_size(cs__element element)
{
    static const size_t sizes[] = {1, 1, 4, 8, 4, 8};
    return sizes[element];
}

/* Parser state over the header text. */
typedef struct header_parser {
    const char *text;
    size_t length;
    size_t pos;
    const cs__where *where;
    const char *member;
    size_t text_offset; /* byte offset of text[0] in the file */
} header_parser;

static cs_status npy_error(const cs__where *where_in, const char *member,
                           int64_t offset, const char *fmt, ...)
    CS_PRINTF(4, 5);

static cs_status npy_error(const cs__where *where_in, const char *member,
                           int64_t offset, const char *fmt, ...)
{
    char reason[320];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);

    cs__where where = *where_in;
    where.offset = offset;
    const char *path = where.path ? where.path : "(memory)";
    if (member != NULL)
        return cs__fail(CS_E_FORMAT, &where, member,
                        "%s, member %s: not a valid .npy array: %s", path,
                        member, reason);
    return cs__fail(CS_E_FORMAT, &where, NULL,
                    "%s: not a valid .npy array: %s", path, reason);
}

static cs_status parse_error(header_parser *p, const char *expected)
{
    return npy_error(p->where, p->member,
                     (int64_t)(p->text_offset + p->pos),
                     "expected %s at column %zu of the header", expected,
                     p->pos + 1);
}

static void skip_space(header_parser *p)
{
    while (p->pos < p->length &&
           (p->text[p->pos] == ' ' || p->text[p->pos] == '\n' ||
            p->text[p->pos] == '\t' || p->text[p->pos] == '\r'))
        p->pos++;
}

static bool accept(header_parser *p, char c)
{
    skip_space(p);
    if (p->pos < p->length && p->text[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

/* Parses a quoted string into out (at most capacity - 1 characters). */
static cs_status parse_string(header_parser *p, char *out, size_t capacity)
{
    skip_space(p);
    if (p->pos >= p->length ||
        (p->text[p->pos] != '\'' && p->text[p->pos] != '"'))
        return parse_error(p, "a quoted string");
    const char quote = p->text[p->pos++];

    size_t n = 0;
    while (p->pos < p->length && p->text[p->pos] != quote) {
        if (n + 1 >= capacity)
            return parse_error(p, "a shorter string");
        out[n++] = p->text[p->pos++];
    }
    if (p->pos >= p->length)
        return parse_error(p, "a closing quote");
    p->pos++;
    out[n] = '\0';
    return CS_OK;
}

static cs_status parse_bool(header_parser *p, bool *out)
{
    skip_space(p);
    const char *rest = p->text + p->pos;
    const size_t left = p->length - p->pos;
    if (left >= 4 && memcmp(rest, "True", 4) == 0) {
        *out = true;
        p->pos += 4;
        return CS_OK;
    }
    if (left >= 5 && memcmp(rest, "False", 5) == 0) {
        *out = false;
        p->pos += 5;
        return CS_OK;
    }
    return parse_error(p, "True or False");
}

static cs_status parse_dimension(header_parser *p, int64_t *out)
{
    skip_space(p);
    int64_t value = 0;
    size_t digits = 0;
    while (p->pos < p->length && p->text[p->pos] >= '0' &&
           p->text[p->pos] <= '9') {
        const int digit = p->text[p->pos] - '0';
        if (value > (INT64_MAX - digit) / 10)
            return parse_error(p, "a dimension below 2^63");
        value = value * 10 + digit;
        p->pos++;
        digits++;
    }
    /* numpy writes Python 2 longs as "3L" in old files. */
    if (digits > 0 && p->pos < p->length && p->text[p->pos] == 'L')
        p->pos++;
    if (digits == 0)
        return parse_error(p, "a nonnegative integer dimension");
    *out = value;
    return CS_OK;
}

static cs_status parse_shape(header_parser *p, cs__array *out)
{
    if (!accept(p, '('))
        return parse_error(p, "'(' opening the shape");
    out->ndim = 0;
    while (!accept(p, ')')) {
        if (out->ndim == CS__NPY_MAX_DIMS)
            return parse_error(p, "at most 8 dimensions");
        cs_status st = parse_dimension(p, &out->shape[out->ndim]);
        if (st != CS_OK)
            return st;
        out->ndim++;
        if (!accept(p, ',')) {
            if (!accept(p, ')'))
                return parse_error(p, "',' or ')' in the shape");
            break;
        }
    }
    return CS_OK;
}

/* The parsed header, before the data is read. */
typedef struct npy_header {
    char descr[16];
    bool fortran_order;
    bool have_descr, have_order, have_shape;
} npy_header;

static cs_status parse_entry(header_parser *p, npy_header *h, cs__array *out)
{
    char key[32];
    cs_status st = parse_string(p, key, sizeof key);
    if (st != CS_OK)
        return st;
    if (!accept(p, ':'))
        return parse_error(p, "':' after a key");

    if (strcmp(key, "descr") == 0) {
        h->have_descr = true;
        return parse_string(p, h->descr, sizeof h->descr);
    }
    if (strcmp(key, "fortran_order") == 0) {
        h->have_order = true;
        return parse_bool(p, &h->fortran_order);
    }
    if (strcmp(key, "shape") == 0) {
        h->have_shape = true;
        return parse_shape(p, out);
    }
    return npy_error(p->where, p->member, (int64_t)p->text_offset,
                     "unknown header key '%s'", key);
}

static cs_status parse_dict(header_parser *p, npy_header *h, cs__array *out)
{
    if (!accept(p, '{'))
        return parse_error(p, "'{' opening the header");
    while (!accept(p, '}')) {
        cs_status st = parse_entry(p, h, out);
        if (st != CS_OK)
            return st;
        if (!accept(p, ',')) {
            if (!accept(p, '}'))
                return parse_error(p, "',' or '}' in the header");
            break;
        }
    }
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return npy_error(p->where, p->member, (int64_t)p->text_offset,
                         "the header lacks one of 'descr', 'fortran_order' "
                         "and 'shape'");
    return CS_OK;
}

/* Maps a descr such as "<f4" to an element type and byte order. */
static bool decode_descr(const char *descr, cs__element *element,
                         bool *big_endian)
{
    static const struct {
        const char *code;
        cs__element element;
    } codes[] = {
        {"b1", CS__ELEMENT_BOOL}, {"u1", CS__ELEMENT_U8},
        {"i4", CS__ELEMENT_I32},  {"i8", CS__ELEMENT_I64},
        {"f4", CS__ELEMENT_F32},  {"f8", CS__ELEMENT_F64},
    };
    const char order = descr[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return false;
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        if (strcmp(descr + 1, codes[k].code) != 0)
            continue;
        /* '|' means "not applicable" and only fits one-byte types. */
        if (order == '|' && element_size(codes[k].element) != 1)
            return false;
        *element = codes[k].element;
        *big_endian = order == '>';
        return true;
    }
    return false;
}

static bool host_is_big_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 0;
}

static void swap_bytes(unsigned char *data, size_t count, size_t width)
{
    for (size_t i = 0; i < count; i++) {
        unsigned char *e = data + i * width;
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            unsigned char t = e[a];
            e[a] = e[b];
            e[b] = t;
        }
    }
}

/* Reads the version and header length; sets the header text span. */
static cs_status read_preamble(const unsigned char *bytes, size_t size,
                               const cs__where *where, const char *member,
                               size_t *text_offset, size_t *text_length)
{
    if (size < 10 || memcmp(bytes, npy_magic, sizeof npy_magic) != 0)
        return npy_error(where, member, 0,
                         "the file does not start with the .npy magic "
                         "\\x93NUMPY");
    const unsigned major = bytes[6];
    if (major == 1) {
        *text_offset = 10;
        *text_length = (size_t)bytes[8] | (size_t)bytes[9] << 8;
    } else if (major == 2 || major == 3) {
        if (size < 12)
            return npy_error(where, member, (int64_t)size,
                             "the file ends inside the header length");
        *text_offset = 12;
        *text_length = (size_t)bytes[8] | (size_t)bytes[9] << 8 |
                       (size_t)bytes[10] << 16 | (size_t)bytes[11] << 24;
    } else {
        cs__where w = *where;
        w.offset = 6;
        return cs__fail(CS_E_UNSUPPORTED_VERSION, &w, NULL,
                        "%s: .npy format version %u.%u is not supported; "
                        "versions 1.0, 2.0 and 3.0 are",
                        where->path ? where->path : "(memory)", major,
                        (unsigned)bytes[7]);
    }
    if (*text_length > size - *text_offset)
        return npy_error(where, member, (int64_t)size,
                         "the header claims %zu bytes but the file has only "
                         "%zu after the preamble",
                         *text_length, size - *text_offset);
    return CS_OK;
}

/* Computes count and byte size of the parsed shape, with overflow and
 * file-size checks, and checks the element type and layout. */
static cs_status check_data_span(const npy_header *h, cs__array *out,
                                 bool *big_endian, size_t data_bytes,
                                 const cs__where *where, const char *member,
                                 size_t data_offset)
{
    if (!decode_descr(h->descr, &out->element, big_endian))
        return npy_error(where, member, (int64_t)data_offset,
                         "dtype '%s' is not supported; use bool, uint8, "
                         "int32, int64, float32 or float64",
                         h->descr);
    if (h->fortran_order && out->ndim > 1)
        return npy_error(where, member, (int64_t)data_offset,
                         "Fortran-order arrays of %d dimensions are not "
                         "supported; save numpy.ascontiguousarray(a)",
                         out->ndim);

    size_t count = 1;
    for (int k = 0; k < out->ndim; k++)
        if (!cs__mul_size(count, (size_t)out->shape[k], &count))
            return npy_error(where, member, (int64_t)data_offset,
                             "the shape's element count overflows");
    size_t bytes;
    if (!cs__mul_size(count, element_size(out->element), &bytes))
        return npy_error(where, member, (int64_t)data_offset,
                         "the shape's byte count overflows");
    if (bytes != data_bytes)
        return npy_error(where, member, (int64_t)(data_offset + data_bytes),
                         "the shape needs %zu bytes of data but the file "
                         "has %zu, so it is truncated or has trailing bytes",
                         bytes, data_bytes);
    out->count = count;
    return CS_OK;
}

cs_status cs__npy_parse(const unsigned char *bytes, size_t size,
                        const cs__where *where, const char *member,
                        cs__array *out)
{
    memset(out, 0, sizeof *out);
    size_t text_offset = 0, text_length = 0;
    cs_status st = read_preamble(bytes, size, where, member, &text_offset,
                                 &text_length);
    if (st != CS_OK)
        return st;

    header_parser p = {(const char *)bytes + text_offset, text_length, 0,
                       where, member, text_offset};
    npy_header h = {{0}, false, false, false, false};
    cs__array parsed = {0};
    st = parse_dict(&p, &h, &parsed);
    if (st != CS_OK)
        return st;

    bool big_endian = false;
    const size_t data_offset = text_offset + text_length;
    st = check_data_span(&h, &parsed, &big_endian, size - data_offset, where,
                         member, data_offset);
    if (st != CS_OK)
        return st;

    const size_t width = element_size(parsed.element);
    parsed.data = cs__malloc(parsed.count * width);
    if (parsed.data == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, where, NULL,
                        "out of memory reading %zu elements of %s",
                        parsed.count, where->path ? where->path : "(memory)");
    memcpy(parsed.data, bytes + data_offset, parsed.count * width);
    if (width > 1 && big_endian != host_is_big_endian())
        swap_bytes(parsed.data, parsed.count, width);
    if (parsed.element == CS__ELEMENT_BOOL) {
        unsigned char *b = parsed.data;
        for (size_t i = 0; i < parsed.count; i++)
            b[i] = b[i] != 0;
    }
    *out = parsed;
    return CS_OK;
}

cs_status cs__read_whole_file(const char *path, const char *function,
                              unsigned char **out, size_t *size)
{
    cs__where where = cs__where_none(function);
    where.path = path;
    *out = NULL;
    *size = 0;

    FILE *fp = fopen(path, "rb");
    struct stat info;
    if (fp == NULL || fstat(fileno(fp), &info) != 0) {
        int saved = errno;
        if (fp)
            fclose(fp);
        return cs__fail(CS_E_IO, &where, NULL, "cannot open %s: %s", path,
                        strerror(saved));
    }
    if (!S_ISREG(info.st_mode)) {
        fclose(fp);
        return cs__fail(CS_E_IO, &where, NULL, "%s is not a regular file",
                        path);
    }

    const size_t bytes = (size_t)info.st_size;
    unsigned char *data = cs__malloc(bytes);
    if (data == NULL) {
        fclose(fp);
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory reading %zu bytes of %s", bytes, path);
    }
    if (fread(data, 1, bytes, fp) != bytes) {
        int saved = errno;
        fclose(fp);
        cs__free(data);
        return cs__fail(CS_E_IO, &where, NULL, "reading %s failed: %s", path,
                        saved ? strerror(saved) : "the file shrank");
    }
    fclose(fp);
    *out = data;
    *size = bytes;
    return CS_OK;
}

cs_status cs__npy_read_file(const char *path, const char *function,
                            cs__array *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *bytes;
    size_t size;
    cs_status st = cs__read_whole_file(path, function, &bytes, &size);
    if (st != CS_OK)
        return st;

    cs__where where = cs__where_none(function);
    where.path = path;
    st = cs__npy_parse(bytes, size, &where, NULL, out);
    cs__free(bytes);
    return st;
}

void cs__array_free(cs__array *a)
{
    if (a == NULL)
        return;
    cs__free(a->data);
    a->data = NULL;
}

/* Reads element i of any type as double. */
static double value_at(const cs__array *a, size_t i)
{
    switch (a->element) {
    case CS__ELEMENT_BOOL:
    case CS__ELEMENT_U8:
        return ((const uint8_t *)a->data)[i];
    case CS__ELEMENT_I32:
        return ((const int32_t *)a->data)[i];
    case CS__ELEMENT_I64:
        return (double)((const int64_t *)a->data)[i];
    case CS__ELEMENT_F32:
        return ((const float *)a->data)[i];
    case CS__ELEMENT_F64:
        return ((const double *)a->data)[i];
    }
    return 0.0;
}

bool cs__array_to_f32(const cs__array *a, float **out)
{
    float *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL)
        return false;
    for (size_t i = 0; i < a->count; i++)
        values[i] = (float)value_at(a, i);
    *out = values;
    return true;
}

bool cs__array_to_f64(const cs__array *a, double **out)
{
    double *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL)
        return false;
    for (size_t i = 0; i < a->count; i++)
        values[i] = value_at(a, i);
    *out = values;
    return true;
}

bool cs__array_to_i64(const cs__array *a, int64_t **out, int64_t *bad_index)
{
    *bad_index = -1;
    int64_t *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->element == CS__ELEMENT_I64) {
            values[i] = ((const int64_t *)a->data)[i];
            continue;
        }
        const double v = value_at(a, i);
        /* 2^63 is the first double that does not fit; NaN fails both
         * range tests. */
        const bool in_range =
            v >= -9223372036854775808.0 && v < 9223372036854775808.0;
        if (!in_range || v != (double)(int64_t)v) {
            cs__free(values);
            *bad_index = (int64_t)i;
            return false;
        }
        values[i] = (int64_t)v;
    }
    *out = values;
    return true;
}

bool cs__array_to_i32(const cs__array *a, int32_t **out, int64_t *bad_index)
{
    int64_t *wide;
    if (!cs__array_to_i64(a, &wide, bad_index))
        return false;
    int32_t *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL) {
        cs__free(wide);
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (wide[i] < INT32_MIN || wide[i] > INT32_MAX) {
            cs__free(wide);
            cs__free(values);
            *bad_index = (int64_t)i;
            return false;
        }
        values[i] = (int32_t)wide[i];
    }
    cs__free(wide);
    *out = values;
    return true;
}
