/*
 * Record files on disk: creating one with its header in a single step,
 * locking it for one writer, reading its records into staged counts,
 * dropping a torn last record, and appending a record with fsync. The byte
 * layout is in record_format.c.
 */
#define _DEFAULT_SOURCE /* flock() in glibc's <sys/file.h> */

#include "holdout/holdout_internal.h"

#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* What reading one file's records found. */
typedef struct scan_result {
    int64_t good_end; /* byte offset after the last whole valid record */
    int64_t read;
    int64_t duplicate;
    int64_t outside;
    int64_t torn;
} scan_result;

static cs_status io_error(const char *fn, const char *path, int errnum,
                          const char *action)
{
    char reason[128];
    const cs__where where = cs__where_path(fn, path);
    return cs__fail(CS_E_IO, &where, NULL, "cannot %s '%s': %s", action, path,
                    cs__errno_text(errnum, reason, sizeof reason));
}

/* Reports a failed write to path, saying what to check and what state the
 * failure left behind (`outcome`, a sentence). */
static cs_status write_failed(const char *fn, const char *path, int errnum,
                              const char *action, const char *outcome)
{
    char reason[128];
    const cs__where where = cs__where_path(fn, path);
    return cs__fail(CS_E_IO, &where, NULL,
                    "cannot %s '%s': %s. Check free disk space and the file "
                    "size limit (ulimit -f). %s",
                    action, path,
                    cs__errno_text(errnum, reason, sizeof reason), outcome);
}

static bool write_all_at(int fd, const uint8_t *bytes, size_t size,
                         int64_t offset)
{
    while (size > 0) {
        const ssize_t put = pwrite(fd, bytes, size, (off_t)offset);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0) {
            if (put == 0)
                errno = EIO;
            return false;
        }
        bytes += put;
        size -= (size_t)put;
        offset += put;
    }
    return true;
}

/* Makes a new directory entry in path's folder durable. Best-effort, as in
 * io/atomic_file.c: some file systems reject fsync on folders. */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char folder[4096] = ".";
    if (slash == path)
        snprintf(folder, sizeof folder, "/");
    else if (slash != NULL)
        snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);

    const int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Writes the header into a temporary file and links it to path, so that
 * path never names a half-written header. link() fails when path exists,
 * so a file created meanwhile by another process is kept (and checked by
 * the caller like any existing file). File systems without hard links
 * fall back to rename(). */
static cs_status create_file(const char *fn, const cs_holdout *holdout,
                             const char *path)
{
    uint8_t *header = NULL;
    size_t size = 0;
    cs_status status = cs__header_encode(fn, holdout, &header, &size);
    if (status != CS_OK)
        return status;

    char *temp = NULL;
    int fd = -1;
    status = cs__temp_create(path, fn, &temp, &fd);
    if (status != CS_OK) {
        cs__free(header);
        return status;
    }
    const bool written = write_all_at(fd, header, size, 0) && fsync(fd) == 0;
    const int write_error = errno;
    cs__free(header);
    close(fd);
    if (!written) {
        unlink(temp);
        cs__free(temp);
        return write_failed(fn, path, write_error, "write the header of",
                            "The file was not created.");
    }

    if (link(temp, path) == 0) {
        unlink(temp);
        sync_parent(path);
    } else if (errno == EEXIST) {
        unlink(temp);
    } else {
        status = cs__temp_install(temp, path, fn);
    }
    cs__free(temp);
    return status;
}

/* Opens path for reading and appending, creating it first when missing,
 * and takes its lock. */
static cs_status open_locked(const char *fn, const cs_holdout *holdout,
                             const char *path, int *out)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        const cs_status status = create_file(fn, holdout, path);
        if (status != CS_OK)
            return status;
        fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0)
        return io_error(fn, path, errno, "open");

    /* flock() locks belong to the open file description, so a second
     * handle in the same process is turned away too. Where the file
     * system has no locks (ENOLCK, EINVAL) the file is used unlocked. */
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno == ENOLCK ||
        errno == EINVAL) {
        *out = fd;
        return CS_OK;
    }
    const int error = errno;
    close(fd);
    if (error != EWOULDBLOCK)
        return io_error(fn, path, error, "lock");
    const cs__where where = cs__where_path(fn, path);
    return cs__fail(CS_E_IO, &where, NULL,
                    "'%s' is locked by another process or handle that is "
                    "appending to it; give each job its own record file",
                    path);
}

static cs_status file_size(const char *fn, const char *path, int fd,
                           int64_t *size)
{
    struct stat info;
    if (fstat(fd, &info) != 0)
        return io_error(fn, path, errno, "read the size of");
    *size = (int64_t)info.st_size;
    return CS_OK;
}

/* Counts one valid record into staged when its run is planned and not
 * counted yet. */
static cs_status stage_record(const char *fn, const cs_holdout *holdout,
                              const cs__run_record *record,
                              cs__tallies *staged, scan_result *result)
{
    result->read++;
    if (!cs__holdout_in_plan(holdout, record->ratio, record->run)) {
        result->outside++;
        return CS_OK;
    }
    if (cs__tally_has_run(holdout->tallies.ratio[record->ratio],
                          record->run) ||
        cs__tally_has_run(staged->ratio[record->ratio], record->run)) {
        result->duplicate++;
        return CS_OK;
    }

    cs__tally *tally = cs__tally_get(staged, record->ratio);
    if (tally == NULL || !cs__tally_reserve(tally, record->run))
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the counts of ratio %d",
                            (int)record->ratio);
    cs__tally_add_run(tally, record->run, record->mask, record->correct,
                      holdout->n);
    return CS_OK;
}

static cs_status read_record(const char *fn, const char *path, int fd,
                             uint8_t *buffer, size_t size, int64_t offset)
{
    size_t done = 0;
    while (done < size) {
        const ssize_t got = pread(fd, buffer + done, size - done,
                                  (off_t)(offset + (int64_t)done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return io_error(fn, path, errno, "read");
        if (got == 0) {
            cs__where where = cs__where_path(fn, path);
            where.offset = offset + (int64_t)done;
            return cs__fail(CS_E_IO, &where, NULL,
                            "'%s' became shorter while it was read; is "
                            "another program truncating it?",
                            path);
        }
        done += (size_t)got;
    }
    return CS_OK;
}

static cs_status damaged_record(const char *fn, const char *path,
                                int64_t offset)
{
    cs__where where = cs__where_path(fn, path);
    where.offset = offset;
    return cs__fail(CS_E_CHECKSUM, &where, NULL,
                    "the record at byte %" PRId64 " of '%s' fails its "
                    "CRC-32 check and is not the last one, so the file is "
                    "damaged rather than cut short by a crash",
                    offset, path);
}

/* Reads every record after the header into staged. Only the last record
 * may be torn: one cut short by the end of the file, or a whole last one
 * whose tag or CRC fails. */
static cs_status scan_records(const char *fn, const char *path, int fd,
                              int64_t size, int64_t header_size,
                              const cs_holdout *holdout, cs__tallies *staged,
                              scan_result *result)
{
    const size_t record_size = cs__record_size(holdout->n);
    const int64_t body = size - header_size;
    const int64_t whole = body / (int64_t)record_size;
    const bool cut_short = body % (int64_t)record_size != 0;

    memset(result, 0, sizeof *result);
    result->good_end = header_size;
    uint8_t *buffer = cs__malloc(record_size);
    if (buffer == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate a record buffer of %zu bytes",
                            record_size);

    cs_status status = CS_OK;
    for (int64_t i = 0; i < whole && status == CS_OK; i++) {
        const int64_t offset = header_size + i * (int64_t)record_size;
        status = read_record(fn, path, fd, buffer, record_size, offset);
        if (status != CS_OK)
            break;

        cs__run_record record;
        if (!cs__record_decode(buffer, holdout->n, &record)) {
            if (i == whole - 1 && !cut_short)
                result->torn = 1;
            else
                status = damaged_record(fn, path, offset);
            break;
        }
        status = cs__record_check(fn, path, offset, &record, holdout->n,
                                  holdout->master_seed);
        if (status == CS_OK)
            status = stage_record(fn, holdout, &record, staged, result);
        if (status == CS_OK)
            result->good_end = offset + (int64_t)record_size;
    }
    if (status == CS_OK && cut_short)
        result->torn = 1;
    cs__free(buffer);
    return status;
}

/* Reads the header and the records of an open file into staged, checking
 * the header against holdout's. */
static cs_status load_file(const char *fn, const char *path, int fd,
                           const cs_holdout *holdout, cs__tallies *staged,
                           scan_result *result)
{
    int64_t size = 0;
    cs_status status = file_size(fn, path, fd, &size);
    if (status != CS_OK)
        return status;

    cs__records_header header;
    status = cs__header_read(fn, path, fd, size, &header);
    if (status != CS_OK)
        return status;
    status = cs__header_compare(fn, path, &header, holdout);
    const int64_t header_size = (int64_t)header.size;
    cs__header_clear(&header);
    if (status != CS_OK)
        return status;

    return scan_records(fn, path, fd, size, header_size, holdout, staged,
                        result);
}

static void add_to_summary(cs_holdout *holdout, const scan_result *result)
{
    cs_holdout_summary *s = &holdout->summary;
    s->records_read += result->read;
    s->records_duplicate += result->duplicate;
    s->records_outside += result->outside;
    s->records_torn += result->torn;
}

/* Adds staged to the handle's counts. */
static cs_status commit(const char *fn, cs_holdout *holdout,
                        const cs__tallies *staged, const scan_result *result)
{
    if (!cs__tallies_commit(&holdout->tallies, staged))
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the counts of the records");
    add_to_summary(holdout, result);
    return CS_OK;
}

/* Cuts a torn last record off the file and flushes the new size. */
static cs_status drop_torn_record(const char *fn, const char *path, int fd,
                                  int64_t good_end)
{
    if (ftruncate(fd, (off_t)good_end) != 0 || fsync(fd) != 0)
        return io_error(fn, path, errno, "cut the torn last record off");
    return CS_OK;
}

/* Returns the state of an open record file, or NULL when out of memory.
 * The descriptor stays the caller's until this succeeds. */
static cs__record_file *new_record_file(int fd, const char *path, int64_t end)
{
    cs__record_file *file = cs__calloc(1, sizeof *file);
    char *copy = cs__copy_string(path);
    if (file == NULL || copy == NULL) {
        cs__free(file);
        cs__free(copy);
        return NULL;
    }
    *file = (cs__record_file){fd, copy, end};
    return file;
}

static cs_status attach(const char *fn, cs_holdout *holdout, const char *path,
                        int fd)
{
    cs__tallies staged = {.n = holdout->n};
    scan_result result;
    cs_status status = load_file(fn, path, fd, holdout, &staged, &result);
    if (status == CS_OK && result.torn)
        status = drop_torn_record(fn, path, fd, result.good_end);

    cs__record_file *file = NULL;
    if (status == CS_OK) {
        file = new_record_file(fd, path, result.good_end);
        if (file == NULL)
            status = cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                                  "cannot allocate the record file state");
    }
    if (status == CS_OK)
        status = commit(fn, holdout, &staged, &result);
    cs__tallies_clear(&staged);
    if (status != CS_OK) {
        if (file != NULL) {
            file->fd = -1; /* the caller closes the descriptor */
            cs__records_close(file);
        }
        return status;
    }

    cs__records_close(holdout->records);
    holdout->records = file;
    return CS_OK;
}

cs_status cs_holdout_open_records(cs_holdout *holdout, const char *path)
{
    const char *fn = "cs_holdout_open_records";
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "holdout",
                            "holdout is NULL");
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");

    int fd = -1;
    cs_status status = open_locked(fn, holdout, path, &fd);
    if (status != CS_OK)
        return status;
    status = attach(fn, holdout, path, fd);
    if (status != CS_OK)
        close(fd);
    return status;
}

/* Counts the records of path into holdout without changing the file. */
static cs_status merge_file(const char *fn, cs_holdout *holdout,
                            const char *path)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(fn, path, errno, "open");

    cs__tallies staged = {.n = holdout->n};
    scan_result result;
    cs_status status = load_file(fn, path, fd, holdout, &staged, &result);
    close(fd);
    if (status == CS_OK)
        status = commit(fn, holdout, &staged, &result);
    cs__tallies_clear(&staged);
    return status;
}

cs_status cs_holdout_merge_records(cs_holdout *holdout, const char *path)
{
    const char *fn = "cs_holdout_merge_records";
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "holdout",
                            "holdout is NULL");
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");
    return merge_file(fn, holdout, path);
}

/* Creates a handle without a plan from the header of an open file. */
static cs_status handle_from_header(const char *fn, const char *path, int fd,
                                    cs_holdout **out)
{
    int64_t size = 0;
    cs_status status = file_size(fn, path, fd, &size);
    if (status != CS_OK)
        return status;
    cs__records_header header;
    status = cs__header_read(fn, path, fd, size, &header);
    if (status != CS_OK)
        return status;
    if (header.n > SIZE_MAX / 16) {
        cs__header_clear(&header);
        return cs__fail_arg(CS_E_OVERFLOW, fn, "path",
                            "'%s' holds %" PRIu64 " examples, too many "
                            "for this machine",
                            path, header.n);
    }
    return cs__holdout_new(fn, NULL, false, (size_t)header.n, header.labels,
                           header.recipe, header.master_seed, out);
}

cs_status cs_holdout_create_from_records(const char *path, cs_holdout **out)
{
    const char *fn = "cs_holdout_create_from_records";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out",
                            "out is NULL; pass the address of a cs_holdout "
                            "pointer");
    *out = NULL;
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");

    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(fn, path, errno, "open");
    cs_holdout *holdout = NULL;
    cs_status status = handle_from_header(fn, path, fd, &holdout);
    close(fd);
    if (status == CS_OK)
        status = merge_file(fn, holdout, path);
    if (status != CS_OK) {
        cs_holdout_free(holdout);
        return status;
    }
    *out = holdout;
    return CS_OK;
}

cs_status cs__records_append(const char *fn, cs__record_file *file,
                             const uint8_t *record, size_t size)
{
    if (write_all_at(file->fd, record, size, file->end) &&
        fsync(file->fd) == 0) {
        file->end += (int64_t)size;
        return CS_OK;
    }

    const int error = errno;
    /* A partial record would read as torn anyway; cutting it off now
     * keeps the file clean for the next append. */
    (void)ftruncate(file->fd, (off_t)file->end);
    return write_failed(fn, file->path, error, "append a record to",
                        "The runs recorded before are kept, so running "
                        "again resumes after them.");
}

void cs__records_close(cs__record_file *file)
{
    if (file == NULL)
        return;
    if (file->fd >= 0)
        close(file->fd); /* also releases the flock() lock */
    cs__free(file->path);
    cs__free(file);
}
