/*
 * IDX reader (see idx.h for the layout). Every size is validated before it
 * is trusted. A plain file's length is compared with what its header
 * declares before the data is allocated. A gzip file is decompressed in
 * chunks into a buffer that grows only as data arrives, because the gzip
 * trailer records the length modulo 2^32 only, and a truncated or hostile
 * file could claim any size.
 */
#include "io/idx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Two zero bytes, the type byte and the dimension count. */
#define IDX_PREFIX_SIZE 4

/* Largest request passed to one gzread() call, whose length is an
 * unsigned int. */
#define READ_CHUNK_SIZE ((size_t)1 << 24)

/* First allocation for data whose size cannot be checked in advance. It
 * doubles as data arrives, so it never exceeds twice the data read. */
#define GROWING_FIRST_CAPACITY ((size_t)1 << 22)

/* Size of zlib's input buffer, larger than its 8 KiB default so that
 * fewer read() calls are made. */
#define GZIP_BUFFER_SIZE (1u << 17)

/* Room for "4294967295 x " per dimension. */
#define SHAPE_TEXT_SIZE (CS__IDX_MAX_DIMS * 14)

/* An open IDX file and the read position in its decompressed bytes. */
typedef struct idx_stream {
    gzFile gz;
    const char *path;
    const char *function;
    bool compressed;
    int64_t
        file_size;    /* bytes on disk, or -1 for a file that is not regular */
    int64_t position; /* bytes consumed from the decompressed stream */
} idx_stream;

size_t cs__idx_type_size(int type)
{
    switch (type) {
    case CS__IDX_U8:
    case CS__IDX_I8:
        return 1;
    case CS__IDX_I16:
        return 2;
    case CS__IDX_I32:
    case CS__IDX_F32:
        return 4;
    case CS__IDX_F64:
        return 8;
    }
    return 0;
}

const char *cs__idx_type_name(int type)
{
    switch (type) {
    case CS__IDX_U8:
        return "unsigned byte";
    case CS__IDX_I8:
        return "signed byte";
    case CS__IDX_I16:
        return "int16";
    case CS__IDX_I32:
        return "int32";
    case CS__IDX_F32:
        return "float32";
    case CS__IDX_F64:
        return "float64";
    }
    return "unknown";
}

void cs__idx_array_free(cs__idx_array *array)
{
    if (array == NULL)
        return;
    cs__free(array->data);
    memset(array, 0, sizeof *array);
}

/* Records a failure about the file: the message starts with the path, and
 * the record carries the path and the byte offset (-1 if none applies). */
static cs_status fail_file(const idx_stream *s, cs_status status,
                           int64_t offset, const char *value,
                           const char *format, ...) CS_PRINTF(5, 6);

static cs_status fail_file(const idx_stream *s, cs_status status,
                           int64_t offset, const char *value,
                           const char *format, ...)
{
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);

    cs__where where = cs__where_none(s->function);
    where.path = s->path;
    where.offset = offset;
    return cs__fail(status, &where, value, "%s: %s", s->path, text);
}

/* Formats dims as "60000 x 28 x 28". */
static void format_shape(const cs__idx_array *a, char *text, size_t size)
{
    size_t used = 0;
    text[0] = '\0';
    for (int i = 0; i < a->ndim && used < size; i++) {
        int n = snprintf(text + used, size - used, "%s%lu", i ? " x " : "",
                         (unsigned long)a->dims[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static cs_status open_stream(idx_stream *s, const char *path,
                             const char *function)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->function = function;
    s->file_size = -1;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        return fail_file(s, CS_E_IO, -1, NULL, "cannot open the file: %s",
                         strerror(error));
    }

    struct stat info;
    if (fstat(fd, &info) != 0) {
        const int error = errno;
        close(fd);
        return fail_file(s, CS_E_IO, -1, NULL,
                         "cannot read the file's "
                         "status: %s",
                         strerror(error));
    }
    if (S_ISDIR(info.st_mode)) {
        close(fd);
        return fail_file(s, CS_E_IO, -1, NULL,
                         "is a folder, not an IDX "
                         "file");
    }
    if (S_ISREG(info.st_mode))
        s->file_size = (int64_t)info.st_size;

    /* gzdopen() takes over fd, and gzclose() closes it. */
    s->gz = gzdopen(fd, "rb");
    if (s->gz == NULL) {
        close(fd);
        return fail_file(s, CS_E_OUT_OF_MEMORY, -1, NULL,
                         "zlib could not allocate its reading state");
    }

    /* The buffer size must be set before the first read, and gzdirect()
     * performs that read to see whether the file starts like gzip. */
    gzbuffer(s->gz, GZIP_BUFFER_SIZE);
    s->compressed = gzdirect(s->gz) == 0;
    return CS_OK;
}

static void close_stream(idx_stream *s)
{
    if (s->gz != NULL)
        gzclose(s->gz);
    s->gz = NULL;
}

/* Turns a failed gzread() into a status: a read error of the system, a
 * corrupt gzip stream, or memory. */
static cs_status fail_read(const idx_stream *s)
{
    int zlib_error = Z_OK;
    const char *zlib_message = gzerror(s->gz, &zlib_error);

    if (zlib_error == Z_ERRNO) {
        const int error = errno;
        return fail_file(s, CS_E_IO, s->position, NULL,
                         "reading failed at byte %lld: %s",
                         (long long)s->position, strerror(error));
    }
    if (zlib_error == Z_MEM_ERROR)
        return fail_file(s, CS_E_OUT_OF_MEMORY, s->position, NULL,
                         "zlib ran out of memory while decompressing");
    /* zlib decompresses ahead of the reads, so the damage may lie anywhere
     * after s->position, and no offset is recorded. For a stream opened by
     * gzdopen(), zlib's message starts with a "<fd:N>: " placeholder
     * instead of a path, which is dropped. */
    const char *reason = zlib_message;
    if (strncmp(reason, "<fd:", 4) == 0 && strstr(reason, ": ") != NULL)
        reason = strstr(reason, ": ") + 2;
    return fail_file(s, CS_E_FORMAT, -1, NULL,
                     "the gzip stream is corrupt (zlib: %s); the file is "
                     "damaged, so fetch it again",
                     reason);
}

/* Reads exactly size bytes. part names what is being read ("IDX header",
 * "data") for the message when the stream ends first. */
static cs_status read_exact(idx_stream *s, void *buffer, size_t size,
                            const char *part)
{
    unsigned char *bytes = buffer;
    size_t done = 0;

    while (done < size) {
        size_t request = size - done;
        if (request > READ_CHUNK_SIZE)
            request = READ_CHUNK_SIZE;

        const int got = gzread(s->gz, bytes + done, (unsigned)request);
        if (got < 0)
            return fail_read(s);
        if (got == 0) {
            if (s->position == 0)
                return fail_file(s, CS_E_FORMAT, 0, NULL,
                                 "the file is empty; expected an IDX "
                                 "header");
            return fail_file(s, CS_E_FORMAT, s->position, NULL,
                             "truncated: the %s ends after %lld bytes, "
                             "inside the %s",
                             s->compressed ? "decompressed stream" : "file",
                             (long long)s->position, part);
        }
        done += (size_t)got;
        s->position += got;
    }
    return CS_OK;
}

/* Reads and checks the type byte and dimensions; sets out->type, ndim,
 * dims and count, and *data_size to the data's length in bytes. */
static cs_status read_header(idx_stream *s, cs__idx_array *out,
                             size_t *data_size)
{
    unsigned char prefix[IDX_PREFIX_SIZE];
    cs_status status = read_exact(s, prefix, sizeof prefix, "IDX header");
    if (status != CS_OK)
        return status;

    char value[64];
    if (prefix[0] != 0 || prefix[1] != 0) {
        snprintf(value, sizeof value, "0x%02x 0x%02x", prefix[0], prefix[1]);
        return fail_file(s, CS_E_FORMAT, 0, value,
                         "not an IDX file: it starts with bytes %s where "
                         "IDX has 0x00 0x00",
                         value);
    }

    const size_t element_size = cs__idx_type_size(prefix[2]);
    if (element_size == 0) {
        snprintf(value, sizeof value, "0x%02x", prefix[2]);
        return fail_file(s, CS_E_FORMAT, 2, value,
                         "unknown IDX element type %s; IDX defines 0x08 "
                         "(unsigned byte), 0x09 (signed byte), 0x0B (int16), "
                         "0x0C (int32), 0x0D (float32) and 0x0E (float64)",
                         value);
    }

    const int ndim = prefix[3];
    if (ndim == 0 || ndim > CS__IDX_MAX_DIMS) {
        snprintf(value, sizeof value, "%d", ndim);
        return fail_file(s, CS_E_FORMAT, 3, value,
                         "the header declares %d dimensions; this reader "
                         "accepts 1 to %d",
                         ndim, CS__IDX_MAX_DIMS);
    }

    unsigned char encoded[4 * CS__IDX_MAX_DIMS];
    status = read_exact(s, encoded, 4 * (size_t)ndim, "dimension list");
    if (status != CS_OK)
        return status;

    out->type = (cs__idx_type)prefix[2];
    out->ndim = ndim;
    size_t count = 1;
    bool overflow = false;
    for (int i = 0; i < ndim; i++) {
        const unsigned char *b = encoded + 4 * i;
        out->dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                       (uint32_t)b[2] << 8 | (uint32_t)b[3];
        if (!cs__mul_size(count, out->dims[i], &count))
            overflow = true;
    }

    /* The total must also fit the int64 offsets of the error record. */
    size_t bytes = 0;
    if (overflow || !cs__mul_size(count, element_size, &bytes) ||
        bytes > (size_t)(INT64_MAX - s->position)) {
        char shape[SHAPE_TEXT_SIZE];
        format_shape(out, shape, sizeof shape);
        return fail_file(s, CS_E_FORMAT, IDX_PREFIX_SIZE, shape,
                         "the header declares dimensions %s, more data than "
                         "this machine can address; the header is corrupt",
                         shape);
    }
    out->count = count;
    *data_size = bytes;
    return CS_OK;
}

/* For a plain regular file, compares the size the header implies with
 * the real size, before anything is allocated. */
static cs_status check_plain_size(const idx_stream *s, const cs__idx_array *a,
                                  size_t data_size)
{
    if (s->compressed || s->file_size < 0)
        return CS_OK;

    const int64_t expected = s->position + (int64_t)data_size;
    if (s->file_size == expected)
        return CS_OK;

    char shape[SHAPE_TEXT_SIZE];
    format_shape(a, shape, sizeof shape);
    if (s->file_size < expected)
        return fail_file(s, CS_E_FORMAT, s->file_size, shape,
                         "truncated: the header declares %s %s elements, "
                         "%lld bytes with the header, but the file has "
                         "%lld bytes",
                         shape, cs__idx_type_name(a->type),
                         (long long)expected, (long long)s->file_size);
    return fail_file(s, CS_E_FORMAT, expected, shape,
                     "%lld unexpected bytes follow the %lld bytes that the "
                     "header declares (%s %s elements); the file is corrupt "
                     "or not a single IDX array",
                     (long long)(s->file_size - expected), (long long)expected,
                     shape, cs__idx_type_name(a->type));
}

/* Reads data_size bytes of a plain file into an exact allocation. */
static cs_status read_plain_data(idx_stream *s, size_t data_size,
                                 unsigned char **out)
{
    unsigned char *data = cs__malloc(data_size);
    if (data == NULL)
        return fail_file(s, CS_E_OUT_OF_MEMORY, -1, NULL,
                         "cannot allocate %zu bytes for the data", data_size);

    const cs_status status = read_exact(s, data, data_size, "data");
    if (status != CS_OK) {
        cs__free(data);
        return status;
    }
    *out = data;
    return CS_OK;
}

/* Reads data_size bytes into a buffer that doubles as data arrives, so
 * that a stream shorter than its header claims fails before the claimed
 * size is allocated. Used for gzip files and for plain files whose size is
 * unknown (pipes). */
static cs_status read_growing(idx_stream *s, size_t data_size,
                              unsigned char **out)
{
    size_t capacity = data_size < GROWING_FIRST_CAPACITY
                          ? data_size
                          : GROWING_FIRST_CAPACITY;
    unsigned char *data = cs__malloc(capacity);
    size_t filled = 0;

    while (data != NULL && filled < data_size) {
        if (filled == capacity) {
            capacity = capacity > data_size / 2 ? data_size : 2 * capacity;
            unsigned char *grown = cs__realloc(data, capacity);
            if (grown == NULL) {
                cs__free(data);
                data = NULL;
                break;
            }
            data = grown;
        }

        size_t request = capacity - filled;
        if (request > READ_CHUNK_SIZE)
            request = READ_CHUNK_SIZE;
        const cs_status status = read_exact(s, data + filled, request, "data");
        if (status != CS_OK) {
            cs__free(data);
            return status;
        }
        filled += request;
    }

    if (data == NULL)
        return fail_file(s, CS_E_OUT_OF_MEMORY, -1, NULL,
                         "cannot allocate %zu bytes for the data", capacity);
    *out = data;
    return CS_OK;
}

/* Checks that the stream ends right after the data. Reading one more
 * byte also makes zlib verify the gzip trailer (CRC-32 and length). */
static cs_status check_end(idx_stream *s)
{
    unsigned char extra;
    const int got = gzread(s->gz, &extra, 1);
    if (got < 0)
        return fail_read(s);

    if (got > 0)
        return fail_file(s, CS_E_FORMAT, s->position, NULL,
                         "unexpected bytes follow the data that the header "
                         "declares, from %sbyte %lld on; the file is corrupt "
                         "or not a single IDX array",
                         s->compressed ? "decompressed " : "",
                         (long long)s->position);

    int zlib_error = Z_OK;
    gzerror(s->gz, &zlib_error);
    if (zlib_error == Z_BUF_ERROR)
        return fail_file(s, CS_E_FORMAT, s->position, NULL,
                         "truncated: the gzip stream ends before its "
                         "checksum trailer, after %lld decompressed bytes",
                         (long long)s->position);
    return CS_OK;
}

/* Converts count big-endian elements of size bytes to host order in
 * place. Assembling each value from its bytes works on any host. */
static void to_host_order(unsigned char *data, size_t count, size_t size)
{
    for (size_t i = 0; i < count; i++) {
        unsigned char *p = data + i * size;
        uint64_t value = 0;
        for (size_t k = 0; k < size; k++)
            value = value << 8 | p[k];

        if (size == 2) {
            const uint16_t v16 = (uint16_t)value;
            memcpy(p, &v16, 2);
        } else if (size == 4) {
            const uint32_t v32 = (uint32_t)value;
            memcpy(p, &v32, 4);
        } else if (size == 8) {
            memcpy(p, &value, 8);
        }
    }
}

/* Reads the data after the header and checks that the stream ends. */
static cs_status read_body(idx_stream *s, cs__idx_array *array,
                           size_t data_size)
{
    cs_status status = check_plain_size(s, array, data_size);
    if (status != CS_OK)
        return status;

    unsigned char *data = NULL;
    if (s->compressed || s->file_size < 0)
        status = read_growing(s, data_size, &data);
    else
        status = read_plain_data(s, data_size, &data);
    if (status != CS_OK)
        return status;

    status = check_end(s);
    if (status != CS_OK) {
        cs__free(data);
        return status;
    }

    const size_t element_size = cs__idx_type_size(array->type);
    if (element_size > 1)
        to_host_order(data, array->count, element_size);
    array->data = data;
    return CS_OK;
}

cs_status cs__idx_read(const char *path, const char *function,
                       cs__idx_array *out)
{
    memset(out, 0, sizeof *out);

    idx_stream stream;
    cs_status status = open_stream(&stream, path, function);
    if (status != CS_OK)
        return status;

    cs__idx_array array;
    memset(&array, 0, sizeof array);
    size_t data_size = 0;
    status = read_header(&stream, &array, &data_size);
    if (status == CS_OK)
        status = read_body(&stream, &array, data_size);
    close_stream(&stream);

    if (status == CS_OK)
        *out = array;
    return status;
}
