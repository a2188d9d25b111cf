/*
 * numpy .npy encoding: the preamble (magic "\x93NUMPY", format version,
 * header length, and a Python dict literal giving dtype, order and shape)
 * followed by the raw little-endian elements in C order, as specified in
 * numpy/lib/format.py (numpy 1.24). The .npz writer reuses the preamble
 * for each member.
 */
#include "io/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Magic string (6 bytes) plus the major and minor version bytes. */
#define NPY_MAGIC_SIZE 8

/* Format 1.0 stores the header length in 2 bytes, 2.0 in 4 bytes. */
#define NPY_V1_LENGTH_SIZE 2
#define NPY_V2_LENGTH_SIZE 4

/* numpy aligns the start of the data to 64 bytes so that it can be
 * memory-mapped with any element type. */
#define NPY_ALIGNMENT 64

size_t cs__dtype_size(cs__dtype dtype)
{
    switch (dtype) {
    case CS__DTYPE_U8:
        return 1;
    case CS__DTYPE_I32:
    case CS__DTYPE_F32:
        return 4;
    case CS__DTYPE_I64:
    case CS__DTYPE_F64:
        return 8;
    }
    return 0;
}

/* numpy's dtype string: byte order, kind, size in bytes. */
static const char *dtype_descr(cs__dtype dtype)
{
    switch (dtype) {
    case CS__DTYPE_U8:
        return "<u1";
    case CS__DTYPE_I32:
        return "<i4";
    case CS__DTYPE_I64:
        return "<i8";
    case CS__DTYPE_F32:
        return "<f4";
    case CS__DTYPE_F64:
        return "<f8";
    }
    return NULL;
}

cs_status cs__npy_check_array(const cs__where *where, const char *what,
                              cs__dtype dtype, const int64_t *shape, int ndim,
                              const void *data, size_t *data_size)
{
    cs__where at = *where;
    char value[32];

    if (cs__dtype_size(dtype) == 0) {
        at.argument = "dtype";
        snprintf(value, sizeof value, "%d", (int)dtype);
        return cs__fail(CS_E_INVALID_ARGUMENT, &at, value,
                        "cannot write %s: dtype %d is not a known cs__dtype",
                        what, (int)dtype);
    }

    if (ndim < 0 || ndim > CS__NPY_MAX_NDIM) {
        at.argument = "ndim";
        snprintf(value, sizeof value, "%d", ndim);
        return cs__fail(CS_E_INVALID_ARGUMENT, &at, value,
                        "cannot write %s: ndim is %d but must be 0 to %d",
                        what, ndim, CS__NPY_MAX_NDIM);
    }

    if (ndim > 0 && shape == NULL) {
        at.argument = "shape";
        return cs__fail(CS_E_NULL_ARGUMENT, &at, NULL,
                        "cannot write %s: shape is NULL but ndim is %d", what,
                        ndim);
    }

    /* A scalar (ndim 0) has one element. */
    size_t size = cs__dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            at.argument = "shape";
            at.index = i;
            snprintf(value, sizeof value, "%" PRId64, shape[i]);
            return cs__fail(CS_E_INVALID_ARGUMENT, &at, value,
                            "cannot write %s: dimension %d is %" PRId64
                            " but must be 0 or more",
                            what, i, shape[i]);
        }
        if ((uint64_t)shape[i] > SIZE_MAX ||
            !cs__mul_size(size, (size_t)shape[i], &size)) {
            at.argument = "shape";
            at.index = i;
            return cs__fail(CS_E_OVERFLOW, &at, NULL,
                            "cannot write %s: its size in bytes overflows "
                            "size_t at dimension %d. Write smaller arrays.",
                            what, i);
        }
    }

    if (size > 0 && data == NULL) {
        at.argument = "data";
        return cs__fail(CS_E_NULL_ARGUMENT, &at, NULL,
                        "cannot write %s: data is NULL but the array has "
                        "%zu bytes",
                        what, size);
    }

    *data_size = size;
    return CS_OK;
}

/* Appends formatted text at out[*used], as far as capacity allows, and
 * advances *used by the full length. With capacity 0 it only measures. */
static void append(char *out, size_t capacity, size_t *used,
                   const char *format, ...) CS_PRINTF(4, 5);

static void append(char *out, size_t capacity, size_t *used,
                   const char *format, ...)
{
    char *at = *used < capacity ? out + *used : NULL;
    size_t room = *used < capacity ? capacity - *used : 0;

    va_list args;
    va_start(args, format);
    int length = vsnprintf(at, room, format, args);
    va_end(args);

    if (length > 0)
        *used += (size_t)length;
}

/* Writes the header dict as Python's repr() would print it and returns its
 * length. With capacity 0 it only measures. A 1-D shape prints as "(N,)"
 * and a scalar's as "()". */
static size_t format_dict(char *out, size_t capacity, const char *descr,
                          const int64_t *shape, int ndim)
{
    size_t used = 0;

    append(out, capacity, &used,
           "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++)
        append(out, capacity, &used, i == 0 ? "%" PRId64 : ", %" PRId64,
               shape[i]);
    if (ndim == 1)
        append(out, capacity, &used, ",");
    append(out, capacity, &used, "), }");
    return used;
}

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

cs_status cs__npy_header_encode(const cs__where *where, const char *what,
                                cs__dtype dtype, const int64_t *shape,
                                int ndim, char **header, size_t *header_size)
{
    *header = NULL;
    *header_size = 0;

    const char *descr = dtype_descr(dtype);
    if (descr == NULL)
        return cs__fail(CS_E_INVALID_ARGUMENT, where, NULL,
                        "cannot write %s: dtype %d is not a known "
                        "cs__dtype",
                        what, (int)dtype);

    /* The dict is followed by padding spaces and one '\n'. */
    const size_t dict_length = format_dict(NULL, 0, descr, shape, ndim);
    if (dict_length > SIZE_MAX / 2)
        return cs__fail(CS_E_OVERFLOW, where, NULL,
                        "cannot write %s: its .npy header of %zu bytes is "
                        "too long",
                        what, dict_length);

    /* Format 1.0 unless its 2-byte length field is too small. */
    size_t length_size = NPY_V1_LENGTH_SIZE;
    size_t total = round_up(NPY_MAGIC_SIZE + length_size + dict_length + 1,
                            NPY_ALIGNMENT);
    if (total - NPY_MAGIC_SIZE - length_size > UINT16_MAX) {
        length_size = NPY_V2_LENGTH_SIZE;
        total = round_up(NPY_MAGIC_SIZE + length_size + dict_length + 1,
                         NPY_ALIGNMENT);
    }
    const size_t header_length = total - NPY_MAGIC_SIZE - length_size;
    if (header_length > UINT32_MAX)
        return cs__fail(CS_E_OVERFLOW, where, NULL,
                        "cannot write %s: its .npy header of %zu bytes "
                        "exceeds the 4 GiB that format 2.0 allows",
                        what, header_length);

    unsigned char *bytes = cs__malloc(total);
    if (bytes == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, where, NULL,
                        "out of memory for the %zu-byte .npy header of %s",
                        total, what);

    memcpy(bytes, "\x93NUMPY", 6);
    bytes[6] = length_size == NPY_V1_LENGTH_SIZE ? 1 : 2;
    bytes[7] = 0;
    for (size_t i = 0; i < length_size; i++)
        bytes[NPY_MAGIC_SIZE + i] = (unsigned char)(header_length >> (8 * i));

    /* vsnprintf() ends the dict with a '\0', which the padding or the
     * final '\n' then overwrites. */
    char *dict = (char *)bytes + NPY_MAGIC_SIZE + length_size;
    format_dict(dict, dict_length + 1, descr, shape, ndim);
    memset(dict + dict_length, ' ', header_length - dict_length - 1);
    bytes[total - 1] = '\n';

    *header = (char *)bytes;
    *header_size = total;
    return CS_OK;
}

static bool host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

void cs__copy_little_endian(void *dst, const void *src, size_t count,
                            size_t elem_size)
{
    /* memcpy needs valid pointers even for 0 bytes, and an empty array may
     * come with NULL data. */
    if (count == 0)
        return;
    if (host_is_little_endian() || elem_size == 1) {
        memcpy(dst, src, count * elem_size);
        return;
    }

    /* NOTE: only big-endian hosts take this path, and the tests have only
     * run on x86_64. */
    unsigned char *out = dst;
    const unsigned char *in = src;
    for (size_t i = 0; i < count; i++) {
        for (size_t b = 0; b < elem_size; b++)
            out[b] = in[elem_size - 1 - b];
        out += elem_size;
        in += elem_size;
    }
}

/* Returns the errno of a failed fwrite(), or EIO if it left none. */
static int write_error(void)
{
    return errno != 0 ? errno : EIO;
}

/* Writes the elements little-endian. Returns 0 or an errno value. */
static int write_elements(FILE *fp, const void *data, size_t data_size,
                          size_t elem_size)
{
    errno = 0;
    if (host_is_little_endian()) {
        if (fwrite(data, 1, data_size, fp) != data_size)
            return write_error();
        return 0;
    }

    /* The buffer's size is a multiple of 8, so it fits a whole number of
     * elements of any dtype. */
    unsigned char chunk[4096];
    const unsigned char *in = data;
    size_t left = data_size;
    while (left > 0) {
        size_t bytes = left < sizeof chunk ? left : sizeof chunk;
        cs__copy_little_endian(chunk, in, bytes / elem_size, elem_size);
        if (fwrite(chunk, 1, bytes, fp) != bytes)
            return write_error();
        in += bytes;
        left -= bytes;
    }
    return 0;
}

/* Writes header and data into the open atomic file. */
static cs_status write_contents(cs__atomic_file *file, const char *header,
                                size_t header_size, const void *data,
                                size_t data_size, cs__dtype dtype,
                                const cs__where *where)
{
    errno = 0;
    int error = 0;
    if (fwrite(header, 1, header_size, file->fp) != header_size)
        error = write_error();
    if (error == 0 && data_size > 0)
        error = write_elements(file->fp, data, data_size,
                               cs__dtype_size(dtype));
    if (error == 0)
        return CS_OK;

    char reason[128];
    return cs__fail(CS_E_IO, where, NULL,
                    "cannot write '%s': %s. Check free disk space and the "
                    "file size limit (ulimit -f). The previous file, if "
                    "any, is unchanged.",
                    where->path, cs__errno_text(error, reason, sizeof reason));
}

cs_status cs__npy_write_file(const char *path, cs__dtype dtype,
                             const int64_t *shape, int ndim, const void *data,
                             const char *function)
{
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function, "path",
                            "the output path is NULL. Pass a file name.");

    const cs__where where = cs__where_path(function, path);
    char what[600];
    snprintf(what, sizeof what, "'%s'", path);

    size_t data_size;
    cs_status status = cs__npy_check_array(&where, what, dtype, shape, ndim,
                                           data, &data_size);
    if (status != CS_OK)
        return status;

    char *header;
    size_t header_size;
    status = cs__npy_header_encode(&where, what, dtype, shape, ndim, &header,
                                   &header_size);
    if (status != CS_OK)
        return status;

    cs__atomic_file file;
    status = cs__atomic_open(&file, path, function);
    if (status == CS_OK)
        status = write_contents(&file, header, header_size, data, data_size,
                                dtype, &where);
    cs__free(header);

    if (status != CS_OK) {
        cs__atomic_abort(&file);
        return status;
    }
    return cs__atomic_commit(&file, function);
}
