/*
 * .npz reader: a zip archive, opened with libzip, whose members are .npy
 * images. numpy.savez() stores members uncompressed and
 * numpy.savez_compressed() deflates them. numpy 1.24 also writes zip64
 * extra fields into the local headers of small members, which libzip
 * reads. Each member's sizes
 * are checked against the archive before its data is allocated, and the
 * .npy header is checked against the member's size (cs__npy_read_source).
 */
#include "io/npz_read.h"

#include "io/array.h"
#include "io/io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

/* A deflate stream inflates to at most about 1032 times its size, because
 * the longest match (258 bytes) costs at least 2 bits. The slack covers
 * block overhead in short streams. */
#define MAX_DEFLATE_RATIO 1032u
#define DEFLATE_SLACK 1024u

struct cs_npz {
    zip_t *archive;
    char *path;
    uint64_t file_size;
    size_t count;
    zip_uint64_t *entries; /* libzip index of each member */
    char **names;          /* names as stored, e.g. "scores.npy" */
    char **keys;           /* names without ".npy", e.g. "scores" */
};

static cs_status member_fail(cs_status status, const cs__where *where_in,
                             const char *member, const char *fmt, ...)
    CS_PRINTF(4, 5);

/* Records a failure whose message names the archive, the member and the
 * problem. */
static cs_status member_fail(cs_status status, const cs__where *where_in,
                             const char *member, const char *fmt, ...)
{
    char reason[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);

    return cs__fail(status, where_in, member, "%s, member %s: %s",
                    where_in->path, member, reason);
}

/* Maps a libzip error code to a status: the medium failing is CS_E_IO,
 * anything wrong with the bytes is CS_E_FORMAT. */
static cs_status status_of_zip_error(int code)
{
    switch (code) {
    case ZIP_ER_MEMORY:
        return CS_E_OUT_OF_MEMORY;
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_SEEK:
    case ZIP_ER_TELL:
        return CS_E_IO;
    default:
        return CS_E_FORMAT;
    }
}

static void zip_error_text(int code, char *buffer, size_t size)
{
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    snprintf(buffer, size, "%s", zip_error_strerror(&error));
    zip_error_fini(&error);
}

static void free_npz(cs_npz *npz)
{
    if (npz == NULL)
        return;
    for (size_t k = 0; k < npz->count; k++) {
        cs__free(npz->names[k]);
        cs__free(npz->keys[k]);
    }
    cs__free(npz->names);
    cs__free(npz->keys);
    cs__free(npz->entries);
    cs__free(npz->path);
    if (npz->archive != NULL)
        zip_discard(npz->archive);
    cs__free(npz);
}

static bool has_npy_suffix(const char *name)
{
    const size_t length = strlen(name);
    return length >= 4 && strcmp(name + length - 4, ".npy") == 0;
}

/* Adds libzip entry `entry` to the member list, unless it is a folder. */
static cs_status add_member(cs_npz *npz, zip_uint64_t entry,
                            const cs__where *where)
{
    const char *name = zip_get_name(npz->archive, entry, ZIP_FL_ENC_GUESS);
    if (name == NULL)
        return cs__fail(CS_E_FORMAT, where, NULL,
                        "%s: the name of zip entry %llu cannot be read: %s",
                        npz->path, (unsigned long long)entry,
                        zip_strerror(npz->archive));
    const size_t length = strlen(name);
    if (length > 0 && name[length - 1] == '/')
        return CS_OK;

    char *stored = cs__copy_string(name);
    char *key = cs__copy_string(name);
    if (stored == NULL || key == NULL) {
        cs__free(stored);
        cs__free(key);
        return cs__fail(CS_E_OUT_OF_MEMORY, where, NULL,
                        "out of memory listing the members of %s", npz->path);
    }
    if (has_npy_suffix(key))
        key[length - 4] = '\0';
    npz->names[npz->count] = stored;
    npz->keys[npz->count] = key;
    npz->entries[npz->count] = entry;
    npz->count++;
    return CS_OK;
}

static cs_status list_members(cs_npz *npz, const cs__where *where)
{
    const zip_int64_t entries = zip_get_num_entries(npz->archive, 0);
    if (entries < 0)
        return cs__fail(CS_E_FORMAT, where, NULL,
                        "%s: the zip directory cannot be read", npz->path);

    const size_t n = (size_t)entries;
    npz->entries = cs__alloc_array(n, sizeof *npz->entries);
    npz->names = cs__alloc_array(n, sizeof *npz->names);
    npz->keys = cs__alloc_array(n, sizeof *npz->keys);
    if (npz->entries == NULL || npz->names == NULL || npz->keys == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, where, NULL,
                        "out of memory listing the %zu entries of %s", n,
                        npz->path);

    for (size_t k = 0; k < n; k++) {
        const cs_status st = add_member(npz, (zip_uint64_t)k, where);
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

/* Checks that path is a regular file and sets *size. */
static cs_status stat_archive(const char *path, const cs__where *where,
                              uint64_t *size)
{
    struct stat info;
    char reason[128];
    if (stat(path, &info) != 0)
        return cs__fail(CS_E_IO, where, NULL, "cannot open %s: %s", path,
                        cs__errno_text(errno, reason, sizeof reason));
    if (!S_ISREG(info.st_mode))
        return cs__fail(CS_E_IO, where, NULL, "%s is not a regular file",
                        path);
    *size = (uint64_t)info.st_size;
    return CS_OK;
}

static cs_status open_archive(cs_npz *npz, const cs__where *where)
{
    int code = ZIP_ER_OK;
    npz->archive = zip_open(npz->path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (npz->archive != NULL)
        return CS_OK;

    char reason[160];
    zip_error_text(code, reason, sizeof reason);
    const cs_status status = status_of_zip_error(code);
    if (status == CS_E_FORMAT)
        return cs__fail(status, where, NULL,
                        "%s is not a valid .npz (zip) archive: %s", npz->path,
                        reason);
    return cs__fail(status, where, NULL, "cannot open %s: %s", npz->path,
                    reason);
}

cs_status cs__npz_reader_open(const char *path, const char *function,
                              cs_npz **out)
{
    *out = NULL;
    const cs__where where = cs__where_path(function, path);
    uint64_t file_size = 0;
    cs_status st = stat_archive(path, &where, &file_size);
    if (st != CS_OK)
        return st;

    cs_npz *npz = cs__calloc(1, sizeof *npz);
    char *copy = cs__copy_string(path);
    if (npz == NULL || copy == NULL) {
        cs__free(npz);
        cs__free(copy);
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory opening %s", path);
    }
    npz->path = copy;
    npz->file_size = file_size;

    st = open_archive(npz, &where);
    if (st == CS_OK)
        st = list_members(npz, &where);
    if (st != CS_OK) {
        free_npz(npz);
        return st;
    }
    *out = npz;
    return CS_OK;
}

/* Returns the member index of key (a key or a full name), or -1. */
static int64_t find_member(const cs_npz *npz, const char *key)
{
    for (size_t k = 0; k < npz->count; k++)
        if (strcmp(npz->keys[k], key) == 0)
            return (int64_t)k;
    for (size_t k = 0; k < npz->count; k++)
        if (strcmp(npz->names[k], key) == 0)
            return (int64_t)k;
    return -1;
}

static cs_status member_not_found(const cs_npz *npz, const char *key,
                                  const cs__where *where_in)
{
    char keys[400] = "";
    size_t used = 0;
    for (size_t k = 0; k < npz->count && used < sizeof keys; k++) {
        const int written = snprintf(keys + used, sizeof keys - used, "%s%s",
                                     k > 0 ? ", " : "", npz->keys[k]);
        if (written < 0)
            break;
        used += (size_t)written;
    }

    cs__where where = *where_in;
    where.argument = "key";
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, key,
                    "%s has no member '%s'; its keys are: %s", npz->path, key,
                    npz->count > 0 ? keys : "(none)");
}

/* Checks a member's stated sizes and method against the archive. */
static cs_status check_member(const cs_npz *npz, const zip_stat_t *sb,
                              const cs__where *where, const char *name)
{
    const zip_uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
                                ZIP_STAT_COMP_METHOD;
    if ((sb->valid & needed) != needed)
        return member_fail(CS_E_FORMAT, where, name,
                           "the zip directory lacks the member's sizes or "
                           "compression method");
    if ((sb->valid & ZIP_STAT_ENCRYPTION_METHOD) &&
        sb->encryption_method != ZIP_EM_NONE)
        return member_fail(CS_E_FORMAT, where, name,
                           "the member is encrypted, which .npz files "
                           "never are");
    if (sb->comp_method != ZIP_CM_STORE && sb->comp_method != ZIP_CM_DEFLATE)
        return member_fail(CS_E_FORMAT, where, name,
                           "compression method %d is not supported; numpy "
                           "writes stored (0) or deflated (8) members",
                           (int)sb->comp_method);
    if (sb->comp_size > npz->file_size)
        return member_fail(CS_E_FORMAT, where, name,
                           "the member's compressed size %llu exceeds the "
                           "archive's %llu bytes",
                           (unsigned long long)sb->comp_size,
                           (unsigned long long)npz->file_size);
    if (sb->comp_method == ZIP_CM_STORE && sb->size != sb->comp_size)
        return member_fail(CS_E_FORMAT, where, name,
                           "the stored member's size %llu differs from its "
                           "size in the archive, %llu",
                           (unsigned long long)sb->size,
                           (unsigned long long)sb->comp_size);

    const uint64_t inflate_limit = sb->comp_size * MAX_DEFLATE_RATIO +
                                   DEFLATE_SLACK;
    if (sb->comp_method == ZIP_CM_DEFLATE && sb->size > inflate_limit)
        return member_fail(CS_E_FORMAT, where, name,
                           "the member claims %llu bytes, more than its "
                           "%llu deflated bytes can hold",
                           (unsigned long long)sb->size,
                           (unsigned long long)sb->comp_size);
    if (sb->size > SIZE_MAX)
        return member_fail(CS_E_OVERFLOW, where, name,
                           "the member's %llu bytes do not fit in memory",
                           (unsigned long long)sb->size);
    return CS_OK;
}

static cs_status read_member(void *context, void *buffer, size_t size,
                             size_t *got, char *reason, size_t reason_size)
{
    zip_file_t *file = context;
    *got = 0;
    while (*got < size) {
        const zip_int64_t n = zip_fread(file, (char *)buffer + *got,
                                        size - *got);
        if (n < 0) {
            zip_error_t *error = zip_file_get_error(file);
            snprintf(reason, reason_size, "%s", zip_error_strerror(error));
            return status_of_zip_error(zip_error_code_zip(error));
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return CS_OK;
}

/* Reads past the member's last byte: libzip checks the CRC there, and a
 * deflate stream longer than the stated size shows up as an extra byte. */
static cs_status check_member_end(zip_file_t *file, const cs__where *where,
                                  const char *name)
{
    char reason[160] = "";
    unsigned char extra;
    size_t got = 0;
    const cs_status st = read_member(file, &extra, 1, &got, reason,
                                     sizeof reason);
    if (st != CS_OK)
        return member_fail(st, where, name, "reading the member failed: %s",
                           reason);
    if (got > 0)
        return member_fail(CS_E_FORMAT, where, name,
                           "the member holds more bytes than the archive "
                           "states");
    return CS_OK;
}

static cs_status open_member(cs_npz *npz, zip_uint64_t entry,
                             const cs__where *where, const char *name,
                             zip_file_t **file)
{
    *file = zip_fopen_index(npz->archive, entry, 0);
    if (*file != NULL)
        return CS_OK;

    zip_error_t *error = zip_get_error(npz->archive);
    const cs_status status = status_of_zip_error(zip_error_code_zip(error));
    return member_fail(status, where, name, "cannot open the member: %s",
                       zip_error_strerror(error));
}

cs_status cs__npz_read_array(cs_npz *npz, const char *key,
                             const char *function, cs__array *out)
{
    memset(out, 0, sizeof *out);
    const cs__where where = cs__where_path(function, npz->path);
    const int64_t k = find_member(npz, key);
    if (k < 0)
        return member_not_found(npz, key, &where);
    const char *name = npz->names[k];

    zip_stat_t sb;
    zip_stat_init(&sb);
    if (zip_stat_index(npz->archive, npz->entries[k], 0, &sb) != 0)
        return member_fail(CS_E_FORMAT, &where, name,
                           "the member's directory entry cannot be read: %s",
                           zip_strerror(npz->archive));
    cs_status st = check_member(npz, &sb, &where, name);
    if (st != CS_OK)
        return st;

    zip_file_t *file;
    st = open_member(npz, npz->entries[k], &where, name, &file);
    if (st != CS_OK)
        return st;
    const cs__npy_source source = {read_member, file, sb.size};
    st = cs__npy_read_source(&source, &where, name, out);
    if (st == CS_OK) {
        st = check_member_end(file, &where, name);
        if (st != CS_OK)
            cs__array_free(out);
    }
    zip_fclose(file);
    return st;
}

cs_status cs_npz_open(const char *path, cs_npz **out)
{
    const char *fn = "cs_npz_open";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out", "out is NULL");
    *out = NULL;
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");
    return cs__npz_reader_open(path, fn, out);
}

void cs_npz_close(cs_npz *npz)
{
    free_npz(npz);
}

size_t cs_npz_count(const cs_npz *npz)
{
    return npz != NULL ? npz->count : 0;
}

const char *cs_npz_key(const cs_npz *npz, size_t index)
{
    if (npz == NULL || index >= npz->count)
        return NULL;
    return npz->keys[index];
}

int cs_npz_contains(const cs_npz *npz, const char *key)
{
    if (npz == NULL || key == NULL)
        return -1;
    return find_member(npz, key) >= 0;
}

cs_status cs_npz_read(cs_npz *npz, const char *key, cs_array **out)
{
    const char *fn = "cs_npz_read";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out", "out is NULL");
    *out = NULL;
    if (npz == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "npz", "npz is NULL");
    if (key == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "key", "key is NULL");

    cs__array array;
    cs_status st = cs__npz_read_array(npz, key, fn, &array);
    if (st != CS_OK)
        return st;
    st = cs__array_publish(&array, fn, out);
    cs__array_free(&array);
    return st;
}
