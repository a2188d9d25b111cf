/*
 * numpy .npz writing through libzip: a zip archive with one member
 * "name.npy" per array, stored uncompressed as numpy.savez() does.
 *
 * The archive is built at a temporary path in the destination's directory.
 * zip_close() writes it there (libzip itself writes to its own temporary
 * name beside that path and renames it on success), and only then is the
 * result fsynced and renamed over the destination. Every failure removes
 * the temporary files, so the destination keeps its previous contents.
 */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

/* The end-of-central-directory record of a zip archive with no members,
 * which is the whole archive. zip_close() never writes it (libzip 1.7.3
 * removes the file or leaves it unchanged), but numpy.load() reads it as
 * an .npz with no arrays. */
static const unsigned char empty_zip[22] = {'P', 'K', 5, 6};

struct cs__npz_writer {
    zip_t *archive;
    char *final_path;
    char *temp_path;
    const char *function; /* public caller named in errors, a literal */
    size_t n_arrays;      /* members added successfully */
};

/* Discards the archive, removes the temporary file and frees the writer. */
static void destroy(cs__npz_writer *writer)
{
    if (writer->archive != NULL)
        zip_discard(writer->archive);
    if (writer->temp_path != NULL)
        unlink(writer->temp_path);

    cs__free(writer->temp_path);
    cs__free(writer->final_path);
    cs__free(writer);
}

static cs_status open_archive(cs__npz_writer *writer)
{
    int code = 0;
    writer->archive = zip_open(writer->temp_path, ZIP_CREATE | ZIP_TRUNCATE,
                               &code);
    if (writer->archive != NULL)
        return CS_OK;

    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const cs__where where = cs__where_path(writer->function,
                                           writer->final_path);
    cs__fail(CS_E_IO, &where, NULL,
             "cannot start the archive '%s' for '%s': %s", writer->temp_path,
             writer->final_path, zip_error_strerror(&error));
    zip_error_fini(&error);
    return CS_E_IO;
}

cs_status cs__npz_open(const char *path, const char *function,
                       cs__npz_writer **out)
{
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function, "out",
                            "the writer output pointer is NULL");
    *out = NULL;
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function, "path",
                            "the output path is NULL. Pass a file name.");

    const cs__where where = cs__where_path(function, path);
    cs__npz_writer *writer = cs__calloc(1, sizeof *writer);
    if (writer == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory starting the archive '%s'", path);
    writer->function = function;

    writer->final_path = cs__copy_string(path);
    if (writer->final_path == NULL) {
        destroy(writer);
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory copying the path '%s'", path);
    }

    /* mkstemp() reserves a unique name, and libzip opens the file by name.
     * An .npz has one writer at a time, so leftovers of killed writers go
     * first. */
    cs__remove_stale_temps(path);
    int fd;
    cs_status status = cs__temp_create(path, function, &writer->temp_path,
                                       &fd);
    if (status == CS_OK) {
        close(fd);
        status = open_archive(writer);
    }
    if (status != CS_OK) {
        destroy(writer);
        return status;
    }

    *out = writer;
    return CS_OK;
}

/* Rejects an empty name, a name containing '/' (which zip readers take as
 * a directory), a name too long for the zip format's 16-bit name length and
 * a name already in the archive. */
static cs_status check_name(const cs__npz_writer *writer, const char *name,
                            const char *member, const cs__where *where)
{
    cs__where at = *where;
    at.argument = "name";

    if (name[0] == '\0' || strchr(name, '/') != NULL)
        return cs__fail(CS_E_INVALID_ARGUMENT, &at, name,
                        "cannot add array '%s' to '%s': a name must be "
                        "non-empty and contain no '/'",
                        name, writer->final_path);

    if (strlen(member) > UINT16_MAX)
        return cs__fail(CS_E_INVALID_ARGUMENT, &at, NULL,
                        "cannot add an array to '%s': its name has %zu "
                        "bytes, but a zip member name (with \".npy\") has "
                        "at most %u",
                        writer->final_path, strlen(name),
                        (unsigned)UINT16_MAX);

    if (zip_name_locate(writer->archive, member, 0) >= 0)
        return cs__fail(CS_E_INVALID_ARGUMENT, &at, name,
                        "cannot add array '%s' to '%s': the archive already "
                        "has an array of that name. Give each array its own "
                        "name.",
                        name, writer->final_path);
    return CS_OK;
}

/* Returns "name.npy" in a new string, or NULL when out of memory. */
static char *member_name(const char *name)
{
    size_t length = strlen(name);
    char *member = cs__malloc(length + sizeof ".npy");
    if (member == NULL)
        return NULL;
    memcpy(member, name, length);
    memcpy(member + length, ".npy", sizeof ".npy");
    return member;
}

/* Builds the member's bytes (header, then the little-endian data) in one
 * new buffer of *size bytes. */
static cs_status build_member(const cs__where *where, const char *what,
                              cs__dtype dtype, const int64_t *shape, int ndim,
                              const void *data, size_t data_size,
                              unsigned char **bytes, size_t *size)
{
    char *header;
    size_t header_size;
    cs_status status = cs__npy_header_encode(where, what, dtype, shape, ndim,
                                             &header, &header_size);
    if (status != CS_OK)
        return status;

    if (data_size > SIZE_MAX - header_size) {
        cs__free(header);
        return cs__fail(CS_E_OVERFLOW, where, NULL,
                        "cannot add %s: header plus data overflow size_t",
                        what);
    }

    *size = header_size + data_size;
    *bytes = cs__malloc(*size);
    if (*bytes == NULL) {
        cs__free(header);
        return cs__fail(CS_E_OUT_OF_MEMORY, where, NULL,
                        "out of memory copying %s (%zu bytes)", what, *size);
    }

    memcpy(*bytes, header, header_size);
    cs__copy_little_endian(*bytes + header_size, data,
                           data_size / cs__dtype_size(dtype),
                           cs__dtype_size(dtype));
    cs__free(header);
    return CS_OK;
}

/* Maps the archive's last libzip error to a status. libzip reports a name
 * that is not valid UTF-8 as ZIP_ER_INVAL. */
static cs_status status_of_zip_error(zip_t *archive)
{
    switch (zip_error_code_zip(zip_get_error(archive))) {
    case ZIP_ER_INVAL:
        return CS_E_INVALID_ARGUMENT;
    case ZIP_ER_MEMORY:
        return CS_E_OUT_OF_MEMORY;
    default:
        return CS_E_IO;
    }
}

/* Hands bytes to libzip as a stored member. libzip releases bytes with
 * free(), which matches cs__malloc(). On failure bytes are released here
 * and the archive is left as it was. */
static cs_status add_member(cs__npz_writer *writer, const char *member,
                            unsigned char *bytes, size_t size,
                            const cs__where *where, const char *what)
{
    zip_source_t *source = zip_source_buffer(writer->archive, bytes, size, 1);
    if (source == NULL) {
        cs__free(bytes);
        return cs__fail(CS_E_OUT_OF_MEMORY, where, NULL, "cannot add %s: %s",
                        what, zip_strerror(writer->archive));
    }

    zip_int64_t index = zip_file_add(writer->archive, member, source,
                                     ZIP_FL_ENC_UTF_8);
    if (index < 0) {
        zip_source_free(source);
        return cs__fail(status_of_zip_error(writer->archive), where, NULL,
                        "cannot add %s: %s", what,
                        zip_strerror(writer->archive));
    }

    if (zip_set_file_compression(writer->archive, (zip_uint64_t)index,
                                 ZIP_CM_STORE, 0) != 0) {
        cs__fail(CS_E_IO, where, NULL, "cannot store %s uncompressed: %s",
                 what, zip_strerror(writer->archive));
        zip_delete(writer->archive, (zip_uint64_t)index);
        return CS_E_IO;
    }
    return CS_OK;
}

cs_status cs__npz_add(cs__npz_writer *writer, const char *name,
                      cs__dtype dtype, const int64_t *shape, int ndim,
                      const void *data)
{
    if (writer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, NULL, "writer",
                            "the .npz writer is NULL");
    const cs__where where = cs__where_path(writer->function,
                                           writer->final_path);
    if (name == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, writer->function, "name",
                            "cannot add an array to '%s': its name is NULL",
                            writer->final_path);

    char what[700];
    snprintf(what, sizeof what, "array '%s' of '%s'", name,
             writer->final_path);

    size_t data_size;
    cs_status status = cs__npy_check_array(&where, what, dtype, shape, ndim,
                                           data, &data_size);
    if (status != CS_OK)
        return status;

    char *member = member_name(name);
    if (member == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory naming %s", what);

    status = check_name(writer, name, member, &where);

    unsigned char *bytes = NULL;
    size_t size = 0;
    if (status == CS_OK)
        status = build_member(&where, what, dtype, shape, ndim, data,
                              data_size, &bytes, &size);
    if (status == CS_OK)
        status = add_member(writer, member, bytes, size, &where, what);
    cs__free(member);

    if (status == CS_OK)
        writer->n_arrays++;
    return status;
}

/* Writes the bare end record to path. Returns 0 or an errno value. */
static int write_empty_archive(const char *path)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return errno;

    int error = 0;
    errno = 0;
    if (fwrite(empty_zip, 1, sizeof empty_zip, fp) != sizeof empty_zip)
        error = errno != 0 ? errno : EIO;
    if (fclose(fp) != 0 && error == 0)
        error = errno;
    return error;
}

/* Writes the archive to the temporary path: libzip for members, or the
 * bare end record when there are none. */
static cs_status write_archive(cs__npz_writer *writer, const cs__where *where)
{
    if (writer->n_arrays == 0) {
        zip_discard(writer->archive);
        writer->archive = NULL;

        int error = write_empty_archive(writer->temp_path);
        if (error == 0)
            return CS_OK;

        char reason[128];
        return cs__fail(CS_E_IO, where, NULL,
                        "cannot write the empty archive '%s' for '%s': %s",
                        writer->temp_path, writer->final_path,
                        cs__errno_text(error, reason, sizeof reason));
    }

    if (zip_close(writer->archive) != 0)
        return cs__fail(CS_E_IO, where, NULL,
                        "cannot write '%s': %s. Check free disk space and "
                        "the file size limit (ulimit -f). The previous "
                        "file, if any, is unchanged.",
                        writer->final_path, zip_strerror(writer->archive));

    /* zip_close() succeeded, so it has freed the archive. */
    writer->archive = NULL;
    return CS_OK;
}

/* Flushes the written archive to disk. zip_close() replaced the file that
 * cs__temp_create() made. libzip 1.7.3 copies that file's mode, and setting
 * it again keeps the result independent of the libzip version. */
static cs_status sync_archive(const cs__npz_writer *writer,
                              const cs__where *where)
{
    char reason[128];
    int fd = open(writer->temp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs__fail(CS_E_IO, where, NULL,
                        "cannot reopen the written archive '%s': %s",
                        writer->temp_path,
                        cs__errno_text(errno, reason, sizeof reason));

    int error = 0;
    if (fchmod(fd, cs__new_file_mode()) != 0)
        error = errno;
    if (error == 0 && fsync(fd) != 0)
        error = errno;
    close(fd);
    if (error != 0)
        return cs__fail(CS_E_IO, where, NULL, "cannot flush '%s' to disk: %s",
                        writer->temp_path,
                        cs__errno_text(error, reason, sizeof reason));
    return CS_OK;
}

cs_status cs__npz_close(cs__npz_writer *writer)
{
    if (writer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, NULL, "writer",
                            "the .npz writer is NULL");
    const cs__where where = cs__where_path(writer->function,
                                           writer->final_path);

    cs_status status = write_archive(writer, &where);
    if (status == CS_OK)
        status = sync_archive(writer, &where);
    if (status == CS_OK) {
        status = cs__temp_install(writer->temp_path, writer->final_path,
                                  writer->function);

        /* The temporary file was either renamed or removed, so destroy()
         * must not unlink that name again. */
        cs__free(writer->temp_path);
        writer->temp_path = NULL;
    }

    destroy(writer);
    return status;
}

void cs__npz_abort(cs__npz_writer *writer)
{
    if (writer != NULL)
        destroy(writer);
}
