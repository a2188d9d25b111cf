/*
 * Atomic replacement of a file: write under a temporary name in the
 * destination's directory, flush it to disk, then rename it over the
 * destination. rename() within one directory is atomic on POSIX file systems,
 * so readers and crashes see either the old file or the whole new one.
 */
#include "io/io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CS__TEMP_SUFFIX ".tmp.XXXXXX"

/* Fallback when /proc is not mounted: the usual default umask. */
#define CS__FALLBACK_UMASK 022

const char *cs__errno_text(int errnum, char *buffer, size_t size)
{
    if (strerror_r(errnum, buffer, size) != 0)
        snprintf(buffer, size, "error %d", errnum);
    return buffer;
}

/* Reads the process umask from /proc/self/status (Linux 4.7 and later).
 * The portable way, umask(0) followed by umask(old), briefly changes the
 * mode of files that other threads create, which a library must not do. */
static mode_t current_umask(void)
{
    FILE *status = fopen("/proc/self/status", "r");
    if (status == NULL)
        return CS__FALLBACK_UMASK;

    char line[256];
    unsigned int mask = CS__FALLBACK_UMASK;
    while (fgets(line, sizeof line, status) != NULL) {
        if (sscanf(line, "Umask: %o", &mask) == 1)
            break;
    }
    fclose(status);
    return (mode_t)(mask & 0777);
}

char *cs__copy_string(const char *text)
{
    size_t size = strlen(text) + 1;
    char *copy = cs__malloc(size);
    if (copy != NULL)
        memcpy(copy, text, size);
    return copy;
}

mode_t cs__new_file_mode(void)
{
    return 0666 & ~current_umask();
}

/* Returns a new string holding path's directory ("." for a bare file name),
 * or NULL when out of memory. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *start = slash == NULL ? "." : path;
    size_t length = 1;
    if (slash != NULL && slash != path)
        length = (size_t)(slash - path);

    char *directory = cs__malloc(length + 1);
    if (directory == NULL)
        return NULL;
    memcpy(directory, start, length);
    directory[length] = '\0';
    return directory;
}

/* Makes the rename of a file in path's directory durable. This is
 * best-effort: the rename has already replaced the destination, so a
 * failure here cannot be reported without breaking the promise that a
 * failed call leaves the destination untouched. Some file systems also
 * reject fsync on directories. */
static void sync_directory_of(const char *path)
{
    char *directory = directory_of(path);
    if (directory == NULL)
        return;

    int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    cs__free(directory);
}

static char *temp_template(const char *path)
{
    size_t length = strlen(path);
    size_t suffix_length = strlen(CS__TEMP_SUFFIX);
    if (length > SIZE_MAX - suffix_length - 1)
        return NULL;

    char *name = cs__malloc(length + suffix_length + 1);
    if (name == NULL)
        return NULL;
    memcpy(name, path, length);
    memcpy(name + length, CS__TEMP_SUFFIX, suffix_length + 1);
    return name;
}

/* Whether text starts with `count` letters or digits, the characters that
 * mkstemp() puts in place of its X's. */
static bool starts_with_alnum(const char *text, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (!isalnum((unsigned char)text[k]))
            return false;
    return true;
}

/* Whether name is base + ".tmp." + six characters, optionally followed by
 * "." and six more (libzip 1.7.3 names its temporary file after ours). */
static bool is_temp_name(const char *name, const char *base)
{
    const size_t base_length = strlen(base);
    const size_t marker_length = strlen(".tmp.");
    if (strncmp(name, base, base_length) != 0 ||
        strncmp(name + base_length, ".tmp.", marker_length) != 0)
        return false;

    const char *rest = name + base_length + marker_length;
    const size_t rest_length = strlen(rest);
    if (rest_length == 6)
        return starts_with_alnum(rest, 6);
    return rest_length == 13 && starts_with_alnum(rest, 6) &&
           rest[6] == '.' && starts_with_alnum(rest + 7, 6);
}

void cs__remove_stale_temps(const char *path)
{
    char *directory = directory_of(path);
    if (directory == NULL)
        return;
    DIR *listing = opendir(directory);
    if (listing == NULL) {
        cs__free(directory);
        return;
    }

    const char *slash = strrchr(path, '/');
    const char *base = slash == NULL ? path : slash + 1;
    const struct dirent *entry;
    while (*base != '\0' && (entry = readdir(listing)) != NULL) {
        if (is_temp_name(entry->d_name, base))
            (void)unlinkat(dirfd(listing), entry->d_name, 0);
    }
    closedir(listing);
    cs__free(directory);
}

cs_status cs__temp_create(const char *path, const char *function,
                          char **temp_path, int *fd)
{
    const cs__where where = cs__where_path(function, path);
    char reason[128];

    *temp_path = NULL;
    *fd = -1;

    char *name = temp_template(path);
    if (name == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory for the temporary file name of '%s'",
                        path);

    int created = mkstemp(name);
    if (created < 0) {
        int error = errno;
        cs__free(name);
        return cs__fail(CS_E_IO, &where, NULL,
                        "cannot create a temporary file next to '%s': %s. "
                        "Check that the directory exists and is "
                        "writable.",
                        path, cs__errno_text(error, reason, sizeof reason));
    }

    /* mkstemp() creates the file with mode 0600, so give it the mode that
     * fopen() would. The descriptor must not leak into exec'd children. */
    if (fchmod(created, cs__new_file_mode()) != 0 ||
        fcntl(created, F_SETFD, FD_CLOEXEC) != 0) {
        int error = errno;
        close(created);
        unlink(name);
        cs__free(name);
        return cs__fail(CS_E_IO, &where, NULL,
                        "cannot set the mode of a temporary file next to "
                        "'%s': %s. Check the directory's permissions.",
                        path, cs__errno_text(error, reason, sizeof reason));
    }

    *temp_path = name;
    *fd = created;
    return CS_OK;
}

cs_status cs__temp_install(const char *temp_path, const char *final_path,
                           const char *function)
{
    if (rename(temp_path, final_path) != 0) {
        int error = errno;
        char reason[128];
        const cs__where where = cs__where_path(function, final_path);
        unlink(temp_path);
        return cs__fail(CS_E_IO, &where, NULL,
                        "cannot rename '%s' to '%s': %s. Check that '%s' is "
                        "not a directory and that its directory is "
                        "writable. The previous file, if any, is unchanged.",
                        temp_path, final_path,
                        cs__errno_text(error, reason, sizeof reason),
                        final_path);
    }

    sync_directory_of(final_path);
    return CS_OK;
}

/* Closes and frees whatever file holds, leaving it all NULL. The temporary
 * file is removed unless keep_temp is set. */
static void release(cs__atomic_file *file, bool keep_temp)
{
    if (file->fp != NULL)
        fclose(file->fp);
    if (file->temp_path != NULL && !keep_temp)
        unlink(file->temp_path);

    cs__free(file->temp_path);
    cs__free(file->final_path);
    file->fp = NULL;
    file->temp_path = NULL;
    file->final_path = NULL;
}

cs_status cs__atomic_open(cs__atomic_file *file, const char *path,
                          const char *function)
{
    if (file == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function, "file",
                            "the atomic file handle is NULL");
    file->fp = NULL;
    file->final_path = NULL;
    file->temp_path = NULL;
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function, "path",
                            "the output path is NULL. Pass a file name.");

    const cs__where where = cs__where_path(function, path);
    file->final_path = cs__copy_string(path);
    if (file->final_path == NULL)
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory copying the path '%s'", path);

    /* Files of this kind have one writer at a time, so any temporary file
     * of path belongs to a writer that was killed. */
    cs__remove_stale_temps(path);
    int fd;
    cs_status status = cs__temp_create(path, function, &file->temp_path, &fd);
    if (status != CS_OK) {
        release(file, false);
        return status;
    }

    file->fp = fdopen(fd, "wb");
    if (file->fp == NULL) {
        int error = errno;
        char reason[128];
        close(fd);
        release(file, false);
        return cs__fail(CS_E_IO, &where, NULL,
                        "cannot open a stream on the temporary file for "
                        "'%s': %s",
                        path, cs__errno_text(error, reason, sizeof reason));
    }
    return CS_OK;
}

/* Flushes and closes file->fp, syncing its contents to disk. Returns 0,
 * the errno of the first failure, or -1 when an earlier write failed and
 * its errno is lost. file->fp is closed either way. */
static int flush_and_close(cs__atomic_file *file)
{
    FILE *fp = file->fp;
    file->fp = NULL;

    /* A failed fwrite() sets the stream's error flag, and the bytes it could
     * not write may be gone, so a later successful fflush() proves nothing. */
    int error = 0;
    if (ferror(fp))
        error = -1;
    if (error == 0 && fflush(fp) != 0)
        error = errno;
    if (error == 0 && fsync(fileno(fp)) != 0)
        error = errno;
    if (fclose(fp) != 0 && error == 0)
        error = errno;
    return error;
}

cs_status cs__atomic_commit(cs__atomic_file *file, const char *function)
{
    if (file == NULL || file->fp == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function, "file",
                            "the atomic file is not open");

    const cs__where where = cs__where_path(function, file->final_path);
    char reason[128];

    int error = flush_and_close(file);
    if (error != 0) {
        const char *text = error < 0
                               ? "an earlier write failed"
                               : cs__errno_text(error, reason, sizeof reason);
        cs__fail(CS_E_IO, &where, NULL,
                 "cannot write '%s': %s. Check free disk space and the file "
                 "size limit (ulimit -f). The previous file, if any, is "
                 "unchanged.",
                 file->final_path, text);
        release(file, false);
        return CS_E_IO;
    }

    cs_status status = cs__temp_install(file->temp_path, file->final_path,
                                        function);

    /* cs__temp_install() has either renamed or removed the temporary file. */
    release(file, true);
    return status;
}

void cs__atomic_abort(cs__atomic_file *file)
{
    if (file != NULL)
        release(file, false);
}
