/*
 * .npy reader. The format (numpy's NEP 1 and numpy.lib.format) starts with
 * the magic "\x93NUMPY", a major and a minor version byte, and the header
 * length (uint16 little-endian in 1.0, uint32 in 2.0 and 3.0). The header
 * follows: a Python dict literal with keys 'descr', 'fortran_order' and
 * 'shape', padded with spaces and ending in a newline. The raw data comes
 * last.
 *
 * The header is read and checked first, against the size the source
 * states, so a header that lies about its shape is rejected before the
 * data is allocated; the data is then read straight into its final buffer.
 */
#include "io/npy_read.h"

#include "io/io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Preamble sizes: magic, version, and a 2- or 4-byte header length. */
#define PREAMBLE_V1 10
#define PREAMBLE_V2 12

const char *cs__element_name(cs__element element)
{
    static const char *const names[] = {"bool",  "uint8",   "int32",
                                        "int64", "float32", "float64"};
    return (unsigned)element < 6 ? names[element] : "unknown";
}

size_t cs__element_size(cs__element element)
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

static cs_status npy_fail(cs_status status, const cs__where *where_in,
                          const char *member, int64_t offset, const char *fmt,
                          ...) CS_PRINTF(5, 6);

/* Records a failure whose message names the file, the member if any, and
 * the problem. */
static cs_status npy_fail(cs_status status, const cs__where *where_in,
                          const char *member, int64_t offset, const char *fmt,
                          ...)
{
    char reason[320];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);

    cs__where where = *where_in;
    where.offset = offset;
    const char *path = where.path ? where.path : "(memory)";
    const char *kind = status == CS_E_FORMAT ? "not a valid .npy array: " : "";
    if (member != NULL)
        return cs__fail(status, &where, member, "%s, member %s: %s%s", path,
                        member, kind, reason);
    return cs__fail(status, &where, NULL, "%s: %s%s", path, kind, reason);
}

#define npy_error(where, member, offset, ...)                                 \
    npy_fail(CS_E_FORMAT, where, member, offset, __VA_ARGS__)

static cs_status parse_error(header_parser *p, const char *expected)
{
    return npy_error(p->where, p->member, (int64_t)(p->text_offset + p->pos),
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

    const char *start = p->text + p->pos;
    const char *end = memchr(start, quote, p->length - p->pos);
    if (end == NULL)
        return parse_error(p, "a closing quote");
    const size_t n = (size_t)(end - start);
    if (n + 1 > capacity)
        return parse_error(p, "a shorter string");
    memcpy(out, start, n);
    out[n] = '\0';
    p->pos += n + 1;
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
    char descr[64];
    bool fortran_order;
    bool have_descr, have_order, have_shape;
} npy_header;

static cs_status parse_descr(header_parser *p, npy_header *h)
{
    /* A structured dtype is a list of fields, e.g. [('a', '<f4')]. */
    skip_space(p);
    if (p->pos < p->length &&
        (p->text[p->pos] == '[' || p->text[p->pos] == '{'))
        return npy_error(p->where, p->member,
                         (int64_t)(p->text_offset + p->pos),
                         "structured dtypes are not supported; save one "
                         "plain array per field");
    h->have_descr = true;
    return parse_string(p, h->descr, sizeof h->descr);
}

static cs_status parse_entry(header_parser *p, npy_header *h, cs__array *out)
{
    char key[32];
    cs_status st = parse_string(p, key, sizeof key);
    if (st != CS_OK)
        return st;
    if (!accept(p, ':'))
        return parse_error(p, "':' after a key");

    if (strcmp(key, "descr") == 0)
        return parse_descr(p, h);
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

    /* Only the padding (spaces and the final newline) may follow. */
    skip_space(p);
    if (p->pos < p->length)
        return parse_error(p, "only spaces after the header's '}'");
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return npy_error(p->where, p->member, (int64_t)p->text_offset,
                         "the header lacks one of 'descr', 'fortran_order' "
                         "and 'shape'");
    return CS_OK;
}

static bool host_is_big_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 0;
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
        if (order == '|' && cs__element_size(codes[k].element) != 1)
            return false;
        *element = codes[k].element;
        /* '=' is the byte order of the machine that wrote the file, which
         * the format cannot tell; numpy reads it as the host's. */
        *big_endian = order == '>' || (order == '=' && host_is_big_endian());
        return true;
    }
    return false;
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

/* Reads exactly size bytes, or fails: CS_E_FORMAT naming `what` when the
 * source ends first, or the source's own error. */
static cs_status read_exact(const cs__npy_source *source, void *buffer,
                            size_t size, uint64_t offset, const char *what,
                            const cs__where *where, const char *member)
{
    char reason[256] = "";
    size_t got = 0;
    const cs_status st = source->read(source->context, buffer, size, &got,
                                      reason, sizeof reason);
    if (st != CS_OK)
        return npy_fail(st, where, member, (int64_t)offset,
                        "reading %s failed: %s", what, reason);
    if (got < size)
        return npy_error(where, member, (int64_t)(offset + got),
                         "the data ends inside %s, after %zu of %zu bytes",
                         what, got, size);
    return CS_OK;
}

static cs_status unsupported_version(const cs__where *where,
                                     const char *member, unsigned major,
                                     unsigned minor)
{
    return npy_fail(CS_E_UNSUPPORTED_VERSION, where, member, 6,
                    ".npy format version %u.%u is not supported; versions "
                    "1.0, 2.0 and 3.0 are",
                    major, minor);
}

/* Reads the magic, the version and the header length, and checks that the
 * header fits in source->size. */
static cs_status read_preamble(const cs__npy_source *source,
                               const cs__where *where, const char *member,
                               size_t *text_offset, size_t *text_length)
{
    unsigned char bytes[PREAMBLE_V2];
    if (source->size < PREAMBLE_V1)
        return npy_error(where, member, 0,
                         "the file has %llu bytes, fewer than a .npy "
                         "preamble",
                         (unsigned long long)source->size);
    cs_status st = read_exact(source, bytes, PREAMBLE_V1, 0, "the preamble",
                              where, member);
    if (st != CS_OK)
        return st;
    if (memcmp(bytes, npy_magic, sizeof npy_magic) != 0)
        return npy_error(where, member, 0,
                         "the file does not start with the .npy magic "
                         "\\x93NUMPY");

    const unsigned major = bytes[6];
    const unsigned minor = bytes[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return unsupported_version(where, member, major, minor);

    if (major == 1) {
        *text_offset = PREAMBLE_V1;
        *text_length = (size_t)bytes[8] | (size_t)bytes[9] << 8;
    } else {
        st = read_exact(source, bytes + PREAMBLE_V1, 2, PREAMBLE_V1,
                        "the header length", where, member);
        if (st != CS_OK)
            return st;
        *text_offset = PREAMBLE_V2;
        *text_length = (size_t)bytes[8] | (size_t)bytes[9] << 8 |
                       (size_t)bytes[10] << 16 | (size_t)bytes[11] << 24;
    }

    const uint64_t after_preamble = source->size - *text_offset;
    if (*text_length > after_preamble)
        return npy_error(where, member, (int64_t)*text_offset,
                         "the header claims %zu bytes but the file has only "
                         "%llu after the preamble",
                         *text_length, (unsigned long long)after_preamble);
    return CS_OK;
}

/* Checks the element type and layout, and that the shape's byte count is
 * exactly data_bytes, with overflow checks; sets out->count. */
static cs_status check_data_span(const npy_header *h, cs__array *out,
                                 bool *big_endian, uint64_t data_bytes,
                                 const cs__where *where, const char *member,
                                 size_t data_offset)
{
    if (!decode_descr(h->descr, &out->element, big_endian))
        return npy_error(where, member, (int64_t)data_offset,
                         "dtype '%s' is not supported; use bool, uint8, "
                         "int32, int64, float32 or float64",
                         h->descr);

    int long_dims = 0;
    for (int k = 0; k < out->ndim; k++)
        long_dims += out->shape[k] > 1;
    if (h->fortran_order && long_dims > 1)
        return npy_error(where, member, (int64_t)data_offset,
                         "Fortran-order arrays with more than one dimension "
                         "above 1 are not supported; save "
                         "numpy.ascontiguousarray(a)");

    size_t count = 1;
    for (int k = 0; k < out->ndim; k++)
        if (!cs__mul_size(count, (size_t)out->shape[k], &count))
            return npy_error(where, member, (int64_t)data_offset,
                             "the shape's element count overflows");
    size_t bytes;
    if (!cs__mul_size(count, cs__element_size(out->element), &bytes))
        return npy_error(where, member, (int64_t)data_offset,
                         "the shape's byte count overflows");
    if (bytes != data_bytes)
        return npy_error(where, member, (int64_t)(data_offset + data_bytes),
                         "the shape needs %zu bytes of data but the file "
                         "has %llu, so it is truncated or has trailing "
                         "bytes",
                         bytes, (unsigned long long)data_bytes);
    out->count = count;
    return CS_OK;
}

/* Reads and parses the header dictionary; leaves the source at the data. */
static cs_status read_header(const cs__npy_source *source,
                             const cs__where *where, const char *member,
                             cs__array *parsed, bool *big_endian,
                             size_t *data_offset)
{
    size_t text_offset = 0, text_length = 0;
    cs_status st = read_preamble(source, where, member, &text_offset,
                                 &text_length);
    if (st != CS_OK)
        return st;

    char *text = cs__malloc(text_length);
    if (text == NULL)
        return npy_fail(CS_E_OUT_OF_MEMORY, where, member, -1,
                        "out of memory for a %zu-byte header", text_length);
    st = read_exact(source, text, text_length, text_offset, "the header",
                    where, member);
    if (st == CS_OK) {
        header_parser p = {text, text_length, 0, where, member, text_offset};
        npy_header h = {{0}, false, false, false, false};
        st = parse_dict(&p, &h, parsed);
        *data_offset = text_offset + text_length;
        if (st == CS_OK)
            st = check_data_span(&h, parsed, big_endian,
                                 source->size - *data_offset, where, member,
                                 *data_offset);
    }
    cs__free(text);
    return st;
}

cs_status cs__npy_read_source(const cs__npy_source *source,
                              const cs__where *where, const char *member,
                              cs__array *out)
{
    memset(out, 0, sizeof *out);
    cs__array parsed = {0};
    bool big_endian = false;
    size_t data_offset = 0;
    cs_status st = read_header(source, where, member, &parsed, &big_endian,
                               &data_offset);
    if (st != CS_OK)
        return st;

    const size_t width = cs__element_size(parsed.element);
    const size_t bytes = parsed.count * width;
    parsed.data = cs__malloc(bytes);
    if (parsed.data == NULL)
        return npy_fail(CS_E_OUT_OF_MEMORY, where, member, -1,
                        "out of memory for %zu elements of %s (%zu bytes)",
                        parsed.count, cs__element_name(parsed.element), bytes);
    st = read_exact(source, parsed.data, bytes, data_offset, "the data", where,
                    member);
    if (st != CS_OK) {
        cs__free(parsed.data);
        return st;
    }

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

/* Bytes in memory as a source. */
typedef struct memory_source {
    const unsigned char *bytes;
    size_t size;
    size_t position;
} memory_source;

static cs_status read_memory(void *context, void *buffer, size_t size,
                             size_t *got, char *reason, size_t reason_size)
{
    (void)reason;
    (void)reason_size;
    memory_source *m = context;
    const size_t left = m->size - m->position;
    *got = size < left ? size : left;
    memcpy(buffer, m->bytes + m->position, *got);
    m->position += *got;
    return CS_OK;
}

cs_status cs__npy_parse(const unsigned char *bytes, size_t size,
                        const cs__where *where, const char *member,
                        cs__array *out)
{
    memory_source memory = {bytes, size, 0};
    const cs__npy_source source = {read_memory, &memory, size};
    return cs__npy_read_source(&source, where, member, out);
}

static cs_status read_file(void *context, void *buffer, size_t size,
                           size_t *got, char *reason, size_t reason_size)
{
    FILE *fp = context;
    *got = fread(buffer, 1, size, fp);
    if (*got < size && ferror(fp)) {
        cs__errno_text(errno, reason, reason_size);
        return CS_E_IO;
    }
    return CS_OK;
}

cs_status cs__npy_read_file(const char *path, const char *function,
                            cs__array *out)
{
    memset(out, 0, sizeof *out);
    cs__where where = cs__where_path(function, path);

    FILE *fp = NULL;
    uint64_t size = 0;
    cs_status opened = cs__open_regular_file(path, &where, &fp, &size);
    if (opened != CS_OK)
        return opened;

    const cs__npy_source source = {read_file, fp, size};
    const cs_status st = cs__npy_read_source(&source, &where, NULL, out);
    fclose(fp);
    return st;
}
