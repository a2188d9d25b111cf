/*
 * Tests of the file-output module: atomic replacement, .npy headers and
 * files, and .npz archives. Archives are read back with libzip, and with
 * numpy when Debian's /usr/bin/python3 has it. Write failures are produced
 * with a file size limit (RLIMIT_FSIZE) in a forked child, because a
 * read-only directory does not stop root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#define PATH_SIZE 512

/* Small enough that every oversized test file exceeds it, large enough for
 * the old files that must survive. */
#define FILE_SIZE_LIMIT 4096

/* A fresh, empty directory per test. */
typedef struct fixture {
    char dir[256];
} fixture;

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void remove_tree(const char *path)
{
    struct stat info;
    if (lstat(path, &info) != 0)
        return;

    if (S_ISDIR(info.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *entry;
        while (dir != NULL && (entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 ||
                strcmp(entry->d_name, "..") == 0)
                continue;
            char child[PATH_SIZE * 2];
            snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
            remove_tree(child);
        }
        if (dir != NULL)
            closedir(dir);
        rmdir(path);
        return;
    }
    unlink(path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;

    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/cs-io-write-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cs__set_alloc_failure_countdown(0);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* Writes "<fixture dir>/<name>" into out and returns out. */
static char *path_in(const fixture *f, const char *name, char *out)
{
    snprintf(out, PATH_SIZE, "%s/%s", f->dir, name);
    return out;
}

/* Returns the file's contents in a malloc'd buffer, or NULL if it cannot
 * be read. */
static unsigned char *read_whole_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;

    size_t capacity = 4096;
    size_t used = 0;
    unsigned char *bytes = malloc(capacity);
    size_t got;
    while (bytes != NULL &&
           (got = fread(bytes + used, 1, capacity - used, fp)) > 0) {
        used += got;
        if (used == capacity) {
            capacity *= 2;
            unsigned char *grown = realloc(bytes, capacity);
            if (grown == NULL)
                free(bytes);
            bytes = grown;
        }
    }
    fclose(fp);
    *size = used;
    return bytes;
}

static void write_text_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void assert_file_text(const char *path, const char *expected)
{
    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    assert_non_null(bytes);
    assert_int_equal(size, strlen(expected));
    assert_memory_equal(bytes, expected, size);
    free(bytes);
}

static int compare_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Writes the directory's entries, sorted and comma-separated, into out. Tests
 * compare it with the expected names to catch stray temporary files. */
static const char *list_directory(const char *dir, char *out, size_t size)
{
    struct dirent **entries;
    int count = scandir(dir, &entries, NULL, compare_names);
    out[0] = '\0';
    for (int i = 0; i < count; i++) {
        const char *name = entries[i]->d_name;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            if (out[0] != '\0')
                strncat(out, ",", size - strlen(out) - 1);
            strncat(out, name, size - strlen(out) - 1);
        }
        free(entries[i]);
    }
    if (count >= 0)
        free(entries);
    return out;
}

#define assert_directory_entries(f, expected)                                 \
    do {                                                                      \
        char listing_[2048];                                                  \
        assert_string_equal(list_directory((f)->dir, listing_,                \
                                           sizeof listing_),                  \
                            (expected));                                      \
    } while (0)

/* The last error names the path both in its message and in its path
 * field. */
#define assert_error_names_path(path_)                                        \
    do {                                                                      \
        assert_non_null(strstr(cs_last_error_message(), (path_)));            \
        assert_string_equal(cs_last_error()->path, (path_));                  \
    } while (0)

#define assert_message_contains(text_)                                        \
    assert_non_null(strstr(cs_last_error_message(), (text_)))

static mode_t file_mode(const char *path)
{
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    return info.st_mode & 07777;
}

/* ------------------------------------------------------------------------
 * Failures in a child under a file size limit
 * ------------------------------------------------------------------------ */

/* What the child reports back through a pipe. */
typedef struct child_report {
    cs_status status;
    char message[768];
    char error_path[512];
} child_report;

typedef cs_status (*child_action)(const char *path);

/* Runs action(path) in a forked child whose files may not grow beyond
 * FILE_SIZE_LIMIT bytes. SIGXFSZ is ignored there, so an oversized write
 * fails with EFBIG as it would on a full disk. */
static child_report run_with_file_limit(child_action action, const char *path)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit limit = {FILE_SIZE_LIMIT, FILE_SIZE_LIMIT};
        child_report report;
        memset(&report, 0, sizeof report);
        report.status = CS_OK;
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
            _exit(2);

        report.status = action(path);
        snprintf(report.message, sizeof report.message, "%s",
                 cs_last_error_message());
        snprintf(report.error_path, sizeof report.error_path, "%s",
                 cs_last_error()->path);
        ssize_t written = write(fds[1], &report, sizeof report);
        _exit(written == (ssize_t)sizeof report ? 0 : 3);
    }

    close(fds[1]);
    child_report report;
    memset(&report, 0, sizeof report);
    size_t got = 0;
    while (got < sizeof report) {
        ssize_t n = read(fds[0], (char *)&report + got, sizeof report - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);

    int wait_status;
    assert_int_equal(waitpid(pid, &wait_status, 0), pid);
    assert_true(WIFEXITED(wait_status));
    assert_int_equal(WEXITSTATUS(wait_status), 0);
    assert_int_equal(got, sizeof report);
    return report;
}

/* 64 KiB of float64, far above FILE_SIZE_LIMIT. */
#define BIG_COUNT 8192

static double *big_array(void)
{
    double *values = malloc(BIG_COUNT * sizeof *values);
    assert_non_null(values);
    for (size_t i = 0; i < BIG_COUNT; i++)
        values[i] = (double)i * 0.5;
    return values;
}

/* ------------------------------------------------------------------------
 * dtype sizes and .npy headers
 * ------------------------------------------------------------------------ */

static void dtype_size_per_type(void **state)
{
    (void)state;
    assert_int_equal(cs__dtype_size(CS__DTYPE_U8), 1);
    assert_int_equal(cs__dtype_size(CS__DTYPE_I32), 4);
    assert_int_equal(cs__dtype_size(CS__DTYPE_I64), 8);
    assert_int_equal(cs__dtype_size(CS__DTYPE_F32), 4);
    assert_int_equal(cs__dtype_size(CS__DTYPE_F64), 8);
    assert_int_equal(cs__dtype_size((cs__dtype)99), 0);
}

/* Checks a format 1.0 preamble byte for byte against hand-worked values:
 * header_length is the little-endian length field, and the dict is
 * followed by pad_spaces spaces and '\n'. */
static void check_v1_header(cs__dtype dtype, const int64_t *shape, int ndim,
                            const char *dict, size_t header_length,
                            size_t pad_spaces)
{
    const cs__where where = cs__where_none("test");
    char *header;
    size_t size;
    assert_int_equal(cs__npy_header_encode(&where, "test array", dtype, shape,
                                           ndim, &header, &size),
                     CS_OK);

    char expected[512];
    size_t used = 0;
    memcpy(expected, "\x93NUMPY\x01\x00", 8);
    used += 8;
    expected[used++] = (char)(header_length & 0xff);
    expected[used++] = (char)(header_length >> 8);
    memcpy(expected + used, dict, strlen(dict));
    used += strlen(dict);
    memset(expected + used, ' ', pad_spaces);
    used += pad_spaces;
    expected[used++] = '\n';

    assert_int_equal(used, 10 + header_length);
    assert_int_equal(size, used);
    assert_memory_equal(header, expected, used);
    assert_int_equal(size % 64, 0);
    cs__free(header);
}

static void npy_header_1d_f8(void **state)
{
    (void)state;
    const int64_t shape[] = {3};
    check_v1_header(CS__DTYPE_F64, shape, 1,
                    "{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (3,), }",
                    118, 60);
}

static void npy_header_scalar_i4(void **state)
{
    (void)state;
    check_v1_header(CS__DTYPE_I32, NULL, 0,
                    "{'descr': '<i4', 'fortran_order': False, "
                    "'shape': (), }",
                    118, 62);
}

static void npy_header_2d_u1(void **state)
{
    (void)state;
    const int64_t shape[] = {2, 3};
    check_v1_header(CS__DTYPE_U8, shape, 2,
                    "{'descr': '<u1', 'fortran_order': False, "
                    "'shape': (2, 3), }",
                    118, 58);
}

static void npy_header_3d_i8_with_zero(void **state)
{
    (void)state;
    const int64_t shape[] = {0, 5, 7};
    check_v1_header(CS__DTYPE_I64, shape, 3,
                    "{'descr': '<i8', 'fortran_order': False, "
                    "'shape': (0, 5, 7), }",
                    118, 55);
}

static void npy_header_large_1d_i8(void **state)
{
    (void)state;
    const int64_t shape[] = {INT64_C(4611686018427387904)};
    check_v1_header(CS__DTYPE_I64, shape, 1,
                    "{'descr': '<i8', 'fortran_order': False, "
                    "'shape': (4611686018427387904,), }",
                    118, 42);
}

/* A dict of 117 bytes plus the 10-byte preamble and '\n' fills exactly 128
 * bytes, so no padding is needed. */
static void npy_header_exactly_aligned(void **state)
{
    (void)state;
    const int64_t shape[] = {INT64_C(12345678901234), INT64_C(12345678901234),
                             INT64_C(12345678901234), INT64_C(12345678901234)};
    check_v1_header(CS__DTYPE_F32, shape, 4,
                    "{'descr': '<f4', 'fortran_order': False, "
                    "'shape': (12345678901234, 12345678901234, "
                    "12345678901234, 12345678901234), }",
                    118, 0);
}

static void npy_header_spills_to_192(void **state)
{
    (void)state;
    const int64_t shape[] = {INT64_C(123456789012345678),
                             INT64_C(1234567890123456789),
                             INT64_C(1234567890123456789), 1234567};
    check_v1_header(CS__DTYPE_F64, shape, 4,
                    "{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (123456789012345678, 1234567890123456789, "
                    "1234567890123456789, 1234567), }",
                    182, 57);
}

static void npy_header_aligned_for_all_shapes(void **state)
{
    (void)state;
    const cs__where where = cs__where_none("test");
    int64_t shape[4] = {0, 0, 0, 0};

    for (int ndim = 0; ndim <= 4; ndim++) {
        for (int64_t value = 0; value < 100000; value = value * 7 + 1) {
            for (int i = 0; i < ndim; i++)
                shape[i] = value + i;

            char *header;
            size_t size;
            assert_int_equal(cs__npy_header_encode(&where, "test array",
                                                   CS__DTYPE_F32, shape, ndim,
                                                   &header, &size),
                             CS_OK);
            assert_int_equal(size % 64, 0);
            assert_int_equal(header[size - 1], '\n');
            assert_int_equal((unsigned char)header[6], 1);
            size_t length = (unsigned char)header[8] |
                            (size_t)(unsigned char)header[9] << 8;
            assert_int_equal(length, size - 10);
            cs__free(header);
        }
    }
}

/* Encodes a header with ndim dimensions of 1. Each adds 3 bytes to the
 * dict ("1, "), so the dict is 53 + 3 * ndim bytes long. */
static char *encode_ones(int ndim, size_t *size)
{
    const cs__where where = cs__where_none("test");
    int64_t *shape = malloc((size_t)ndim * sizeof *shape);
    assert_non_null(shape);
    for (int i = 0; i < ndim; i++)
        shape[i] = 1;

    char *header;
    assert_int_equal(cs__npy_header_encode(&where, "test array", CS__DTYPE_U8,
                                           shape, ndim, &header, size),
                     CS_OK);
    free(shape);
    return header;
}

/* Format 1.0's length field stores at most 65535. With 21824 dimensions
 * the dict is 65525 bytes and the header just fits in 65536 bytes. One
 * more dimension needs format 2.0 and its 4-byte length. */
static void npy_header_version_switch(void **state)
{
    (void)state;
    size_t size;

    char *header = encode_ones(21824, &size);
    assert_int_equal(size, 65536);
    assert_int_equal((unsigned char)header[6], 1);
    assert_int_equal((unsigned char)header[7], 0);
    assert_int_equal((unsigned char)header[8], 0xf6);
    assert_int_equal((unsigned char)header[9], 0xff);
    assert_memory_equal(header + 10, "{'descr': '<u1'", 15);
    assert_memory_equal(header + 10 + 65525 - 5, "1), }\n", 6);
    cs__free(header);

    header = encode_ones(21825, &size);
    assert_int_equal(size, 65600);
    assert_int_equal((unsigned char)header[6], 2);
    assert_int_equal((unsigned char)header[7], 0);
    size_t length = (unsigned char)header[8] |
                    (size_t)(unsigned char)header[9] << 8 |
                    (size_t)(unsigned char)header[10] << 16 |
                    (size_t)(unsigned char)header[11] << 24;
    assert_int_equal(length, 65600 - 12);
    assert_memory_equal(header + 12, "{'descr': '<u1'", 15);
    assert_int_equal(header[size - 1], '\n');
    assert_int_equal(header[12 + 65528], ' ');
    cs__free(header);
}

static void npy_header_rejects_unknown_dtype(void **state)
{
    (void)state;
    const cs__where where = cs__where_none("test");
    char *header;
    size_t size;
    assert_int_equal(cs__npy_header_encode(&where, "test array", (cs__dtype)7,
                                           NULL, 0, &header, &size),
                     CS_E_INVALID_ARGUMENT);
    assert_null(header);
    assert_message_contains("dtype 7");
}

static void npy_header_out_of_memory(void **state)
{
    (void)state;
    const cs__where where = cs__where_none("test");
    char *header;
    size_t size;
    cs__set_alloc_failure_countdown(1);
    cs_status status = cs__npy_header_encode(&where, "test array",
                                             CS__DTYPE_U8, NULL, 0, &header,
                                             &size);
    cs__set_alloc_failure_countdown(0);
    assert_int_equal(status, CS_E_OUT_OF_MEMORY);
    assert_null(header);
    assert_message_contains("out of memory");
}

/* ------------------------------------------------------------------------
 * Atomic files
 * ------------------------------------------------------------------------ */

static void atomic_commit_replaces_file(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);
    write_text_file(path, "old contents");

    cs__atomic_file file;
    assert_int_equal(cs__atomic_open(&file, path, "test"), CS_OK);
    assert_non_null(strstr(file.temp_path, "out.txt.tmp."));
    assert_int_equal(fputs("new contents", file.fp) >= 0, 1);

    /* Until the commit, readers still see the old file. */
    assert_file_text(path, "old contents");
    assert_int_equal(cs__atomic_commit(&file, "test"), CS_OK);
    assert_null(file.fp);
    assert_null(file.temp_path);

    assert_file_text(path, "new contents");
    assert_directory_entries(f, "out.txt");

    /* Abort after a commit does nothing. */
    cs__atomic_abort(&file);
    assert_file_text(path, "new contents");
}

static void atomic_abort_removes_temp(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);
    write_text_file(path, "old contents");

    cs__atomic_file file;
    assert_int_equal(cs__atomic_open(&file, path, "test"), CS_OK);
    assert_int_equal(fputs("new contents", file.fp) >= 0, 1);
    char listing[2048];
    list_directory(f->dir, listing, sizeof listing);
    assert_int_equal(strncmp(listing, "out.txt,out.txt.tmp.", 20), 0);
    assert_int_equal(strlen(listing), strlen("out.txt,out.txt.tmp.XXXXXX"));
    cs__atomic_abort(&file);

    assert_file_text(path, "old contents");
    assert_directory_entries(f, "out.txt");

    /* A zeroed handle and a NULL one are safe to abort. */
    cs__atomic_file never_opened = {0};
    cs__atomic_abort(&never_opened);
    cs__atomic_abort(NULL);
}

/* Writes an empty file at path under the given umask and returns its
 * mode. */
static mode_t mode_under_umask(const char *path, mode_t mask)
{
    mode_t old_mask = umask(mask);
    cs__atomic_file file;
    cs_status status = cs__atomic_open(&file, path, "test");
    if (status == CS_OK)
        status = cs__atomic_commit(&file, "test");
    mode_t expected = cs__new_file_mode();
    umask(old_mask);

    assert_int_equal(status, CS_OK);
    assert_int_equal(expected, 0666 & ~mask);
    return file_mode(path);
}

static void atomic_mode_follows_umask(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);

    assert_int_equal(mode_under_umask(path, 022), 0644);
    assert_int_equal(mode_under_umask(path, 027), 0640);
    assert_int_equal(mode_under_umask(path, 0), 0666);
}

static void atomic_open_missing_directory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "missing/out.txt", path);

    cs__atomic_file file;
    assert_int_equal(cs__atomic_open(&file, path, "test"), CS_E_IO);
    assert_error_names_path(path);
    assert_message_contains(strerror(ENOENT));
    assert_null(file.fp);
    assert_null(file.temp_path);
    assert_directory_entries(f, "");
    cs__atomic_abort(&file);
}

static void atomic_open_null_arguments(void **state)
{
    (void)state;
    cs__atomic_file file;
    assert_int_equal(cs__atomic_open(&file, NULL, "test"), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "path");
    assert_message_contains("path is NULL");

    assert_int_equal(cs__atomic_open(NULL, "x", "test"), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "file");
}

static void atomic_commit_unopened(void **state)
{
    (void)state;
    cs__atomic_file file = {0};
    assert_int_equal(cs__atomic_commit(&file, "test"), CS_E_NULL_ARGUMENT);
    assert_message_contains("not open");
}

static void atomic_open_out_of_memory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);

    /* The path copy is the first allocation, the temporary name the
     * second. */
    for (long n = 1; n <= 2; n++) {
        cs__atomic_file file;
        cs__set_alloc_failure_countdown(n);
        cs_status status = cs__atomic_open(&file, path, "test");
        cs__set_alloc_failure_countdown(0);
        assert_int_equal(status, CS_E_OUT_OF_MEMORY);
        assert_error_names_path(path);
        assert_directory_entries(f, "");
    }
}

/* Renaming a file over a directory fails with EISDIR. */
static void atomic_commit_rename_fails(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);
    assert_int_equal(mkdir(path, 0755), 0);

    cs__atomic_file file;
    assert_int_equal(cs__atomic_open(&file, path, "test"), CS_OK);
    assert_int_equal(fputs("new contents", file.fp) >= 0, 1);
    assert_int_equal(cs__atomic_commit(&file, "test"), CS_E_IO);
    assert_error_names_path(path);
    assert_message_contains("cannot rename");
    assert_message_contains(strerror(EISDIR));

    assert_null(file.temp_path);
    assert_directory_entries(f, "out.txt");
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_true(S_ISDIR(info.st_mode));
}

/* Writes 3000 bytes through a 64 KiB stdio buffer, so nothing reaches the
 * file until the commit flushes it. */
static cs_status write_buffered_then_commit(const char *path)
{
    cs__atomic_file file;
    cs_status status = cs__atomic_open(&file, path, "test");
    if (status != CS_OK)
        return status;

    static char buffer[65536];
    setvbuf(file.fp, buffer, _IOFBF, sizeof buffer);
    char block[3000];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 2; i++) {
        if (fwrite(block, 1, sizeof block, file.fp) != sizeof block) {
            cs__atomic_abort(&file);
            return CS_E_INVALID_ARGUMENT; /* fails the CS_E_IO check */
        }
    }
    return cs__atomic_commit(&file, "test");
}

static void atomic_commit_reports_late_write_error(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);
    write_text_file(path, "old contents");

    child_report report = run_with_file_limit(write_buffered_then_commit,
                                              path);
    assert_int_equal(report.status, CS_E_IO);
    assert_non_null(strstr(report.message, path));
    assert_non_null(strstr(report.message, strerror(EFBIG)));
    assert_string_equal(report.error_path, path);

    assert_file_text(path, "old contents");
    assert_directory_entries(f, "out.txt");
}

/* Writes far more than the limit, so fwrite() itself fails and the commit
 * must notice the stream's error flag. */
static cs_status write_unbuffered_then_commit(const char *path)
{
    cs__atomic_file file;
    cs_status status = cs__atomic_open(&file, path, "test");
    if (status != CS_OK)
        return status;

    static char block[4 * FILE_SIZE_LIMIT];
    memset(block, 'y', sizeof block);
    (void)fwrite(block, 1, sizeof block, file.fp);
    return cs__atomic_commit(&file, "test");
}

static void atomic_commit_reports_early_write_error(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.txt", path);
    write_text_file(path, "old contents");

    child_report report = run_with_file_limit(write_unbuffered_then_commit,
                                              path);
    assert_int_equal(report.status, CS_E_IO);
    assert_non_null(strstr(report.message, path));
    assert_non_null(strstr(report.message, "earlier write failed"));
    assert_string_equal(report.error_path, path);

    assert_file_text(path, "old contents");
    assert_directory_entries(f, "out.txt");
}

/* ------------------------------------------------------------------------
 * .npy files
 * ------------------------------------------------------------------------ */

static void npy_file_round_trip(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "scores.npy", path);
    write_text_file(path, "old contents");

    const int64_t shape[] = {2, 3};
    const int32_t values[] = {-1, 0, 1, INT32_MAX, INT32_MIN, 42};
    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_I32, shape, 2, values,
                                        "test"),
                     CS_OK);

    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    assert_non_null(bytes);
    assert_int_equal(size, 128 + sizeof values);
    assert_memory_equal(bytes, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(bytes + 10,
                        "{'descr': '<i4', 'fortran_order': False, "
                        "'shape': (2, 3), }",
                        59);
    assert_int_equal(bytes[127], '\n');
    assert_memory_equal(bytes + 128, values, sizeof values);
    free(bytes);

    assert_directory_entries(f, "scores.npy");
}

static void npy_file_scalar(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "scalar.npy", path);

    const double value = 3.25;
    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F64, NULL, 0, &value,
                                        "test"),
                     CS_OK);

    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    assert_non_null(bytes);
    assert_int_equal(size, 128 + sizeof value);
    assert_memory_equal(bytes + 10,
                        "{'descr': '<f8', 'fortran_order': False, "
                        "'shape': (), }",
                        55);
    assert_memory_equal(bytes + 128, &value, sizeof value);
    free(bytes);
}

/* A shape with a 0 has no data, so data may be NULL. */
static void npy_file_empty_array(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "empty.npy", path);

    const int64_t shape[] = {0};
    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, shape, 1, NULL,
                                        "test"),
                     CS_OK);

    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    assert_non_null(bytes);
    assert_int_equal(size, 128);
    assert_memory_equal(bytes + 10,
                        "{'descr': '<f4', 'fortran_order': False, "
                        "'shape': (0,), }",
                        57);
    free(bytes);
}

static void npy_file_null_path(void **state)
{
    (void)state;
    const uint8_t value = 1;
    assert_int_equal(cs__npy_write_file(NULL, CS__DTYPE_U8, NULL, 0, &value,
                                        "test"),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "path");
    assert_message_contains("path is NULL");
}

static void npy_file_invalid_arguments(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "bad.npy", path);
    const int64_t shape[] = {2, 3};
    const int64_t negative[] = {2, -3};
    const int64_t huge[] = {INT64_MAX, INT64_MAX};
    const float data[6] = {0};

    assert_int_equal(cs__npy_write_file(path, (cs__dtype)9, shape, 2, data,
                                        "test"),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_string_equal(cs_last_error()->argument, "dtype");
    assert_message_contains("dtype 9");

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, shape, 5, data,
                                        "test"),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_string_equal(cs_last_error()->argument, "ndim");
    assert_message_contains("ndim is 5");

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, shape, -1, data,
                                        "test"),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("ndim is -1");

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, NULL, 2, data,
                                        "test"),
                     CS_E_NULL_ARGUMENT);
    assert_error_names_path(path);
    assert_string_equal(cs_last_error()->argument, "shape");

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, negative, 2, data,
                                        "test"),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_int_equal(cs_last_error()->index, 1);
    assert_string_equal(cs_last_error()->value, "-3");

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, huge, 2, data,
                                        "test"),
                     CS_E_OVERFLOW);
    assert_error_names_path(path);
    assert_message_contains("overflows");

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F32, shape, 2, NULL,
                                        "test"),
                     CS_E_NULL_ARGUMENT);
    assert_error_names_path(path);
    assert_string_equal(cs_last_error()->argument, "data");

    assert_directory_entries(f, "");
}

static void npy_file_missing_directory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "missing/out.npy", path);
    const uint8_t value = 7;

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_U8, NULL, 0, &value,
                                        "test"),
                     CS_E_IO);
    assert_error_names_path(path);
    assert_message_contains(strerror(ENOENT));
    assert_string_equal(cs_last_error()->function, "test");
    assert_directory_entries(f, "");
}

static void npy_file_over_directory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npy", path);
    assert_int_equal(mkdir(path, 0755), 0);
    const uint8_t value = 7;

    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_U8, NULL, 0, &value,
                                        "test"),
                     CS_E_IO);
    assert_error_names_path(path);
    assert_message_contains(strerror(EISDIR));
    assert_directory_entries(f, "out.npy");
}

static cs_status write_big_npy(const char *path)
{
    double *values = big_array();
    const int64_t shape[] = {BIG_COUNT};
    cs_status status = cs__npy_write_file(path, CS__DTYPE_F64, shape, 1,
                                          values, "test");
    free(values);
    return status;
}

static void npy_file_write_fails_keeps_old(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npy", path);
    write_text_file(path, "old contents");

    child_report report = run_with_file_limit(write_big_npy, path);
    assert_int_equal(report.status, CS_E_IO);
    assert_non_null(strstr(report.message, path));
    assert_non_null(strstr(report.message, strerror(EFBIG)));
    assert_string_equal(report.error_path, path);

    assert_file_text(path, "old contents");
    assert_directory_entries(f, "out.npy");
}

static void npy_file_out_of_memory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npy", path);
    write_text_file(path, "old contents");
    const int64_t shape[] = {3};
    const int64_t values[] = {1, 2, 3};

    cs_status status = CS_E_OUT_OF_MEMORY;
    long n = 1;
    for (; n < 100 && status != CS_OK; n++) {
        cs__set_alloc_failure_countdown(n);
        status = cs__npy_write_file(path, CS__DTYPE_I64, shape, 1, values,
                                    "test");
        cs__set_alloc_failure_countdown(0);
        if (status != CS_OK) {
            assert_int_equal(status, CS_E_OUT_OF_MEMORY);
            assert_error_names_path(path);
            assert_file_text(path, "old contents");
            assert_directory_entries(f, "out.npy");
        }
    }
    assert_int_equal(status, CS_OK);
    assert_true(n > 2);
}

/* ------------------------------------------------------------------------
 * .npz archives
 * ------------------------------------------------------------------------ */

/* Reads member `name` into a malloc'd buffer and checks that it is stored
 * uncompressed. */
static unsigned char *read_member(zip_t *archive, const char *name,
                                  size_t *size)
{
    zip_stat_t info;
    zip_stat_init(&info);
    assert_int_equal(zip_stat(archive, name, 0, &info), 0);
    assert_int_equal(info.comp_method, ZIP_CM_STORE);

    unsigned char *bytes = malloc(info.size + 1);
    assert_non_null(bytes);
    zip_file_t *member = zip_fopen(archive, name, 0);
    assert_non_null(member);
    assert_int_equal(zip_fread(member, bytes, info.size),
                     (zip_int64_t)info.size);
    assert_int_equal(zip_fclose(member), 0);
    *size = info.size;
    return bytes;
}

/* Checks that member `name` is the .npy header of the array followed by
 * its data. */
static void check_member(zip_t *archive, const char *name, cs__dtype dtype,
                         const int64_t *shape, int ndim, const void *data,
                         size_t data_size)
{
    const cs__where where = cs__where_none("test");
    char *header;
    size_t header_size;
    assert_int_equal(cs__npy_header_encode(&where, "test array", dtype, shape,
                                           ndim, &header, &header_size),
                     CS_OK);

    size_t size;
    unsigned char *bytes = read_member(archive, name, &size);
    assert_int_equal(size, header_size + data_size);
    assert_memory_equal(bytes, header, header_size);
    if (data_size > 0)
        assert_memory_equal(bytes + header_size, data, data_size);
    free(bytes);
    cs__free(header);
}

static zip_t *open_for_reading(const char *path)
{
    int error = 0;
    zip_t *archive = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    assert_non_null(archive);
    return archive;
}

static void npz_round_trip(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "scores.npz", path);
    write_text_file(path, "old contents");

    const int64_t ids_shape[] = {4};
    const int64_t ids[] = {0, 1, INT64_MAX, INT64_MIN};
    const int64_t grid_shape[] = {2, 3};
    const float grid[] = {0.5f, -1.0f, 2.25f, 0.0f, 1e30f, -3.5f};
    const int64_t flags_shape[] = {3};
    const uint8_t flags[] = {0, 1, 255};
    const double scalar = -7.125;
    const int64_t empty_shape[] = {0, 5};

    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_add(writer, "ids", CS__DTYPE_I64, ids_shape, 1,
                                 ids),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "grid", CS__DTYPE_F32, grid_shape, 2,
                                 grid),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "flags", CS__DTYPE_U8, flags_shape, 1,
                                 flags),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "scalar", CS__DTYPE_F64, NULL, 0,
                                 &scalar),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "empty", CS__DTYPE_I32, empty_shape,
                                 2, NULL),
                     CS_OK);

    /* The destination is replaced only by the close. */
    assert_file_text(path, "old contents");
    assert_int_equal(cs__npz_close(writer), CS_OK);
    assert_directory_entries(f, "scores.npz");

    zip_t *archive = open_for_reading(path);
    assert_int_equal(zip_get_num_entries(archive, 0), 5);
    assert_string_equal(zip_get_name(archive, 0, 0), "ids.npy");
    assert_string_equal(zip_get_name(archive, 4, 0), "empty.npy");
    check_member(archive, "ids.npy", CS__DTYPE_I64, ids_shape, 1, ids,
                 sizeof ids);
    check_member(archive, "grid.npy", CS__DTYPE_F32, grid_shape, 2, grid,
                 sizeof grid);
    check_member(archive, "flags.npy", CS__DTYPE_U8, flags_shape, 1, flags,
                 sizeof flags);
    check_member(archive, "scalar.npy", CS__DTYPE_F64, NULL, 0, &scalar,
                 sizeof scalar);
    check_member(archive, "empty.npy", CS__DTYPE_I32, empty_shape, 2, NULL, 0);

    /* One member checked against a hand-worked header as well. */
    size_t size;
    unsigned char *bytes = read_member(archive, "flags.npy", &size);
    assert_int_equal(size, 128 + 3);
    assert_memory_equal(bytes, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(bytes + 10,
                        "{'descr': '<u1', 'fortran_order': False, "
                        "'shape': (3,), }",
                        57);
    assert_memory_equal(bytes + 128, flags, 3);
    free(bytes);
    zip_discard(archive);

    assert_int_equal(file_mode(path), cs__new_file_mode());
}

/* cs__npz_add() copies the data, so the caller may reuse its buffer. */
static void npz_add_copies_data(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "copy.npz", path);

    const int64_t shape[] = {5};
    const int32_t expected[] = {5, 4, 3, 2, 1};
    int32_t *values = malloc(sizeof expected);
    assert_non_null(values);
    memcpy(values, expected, sizeof expected);

    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_add(writer, "values", CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_OK);
    memset(values, 0xaa, sizeof expected);
    free(values);
    assert_int_equal(cs__npz_close(writer), CS_OK);

    zip_t *archive = open_for_reading(path);
    check_member(archive, "values.npy", CS__DTYPE_I32, shape, 1, expected,
                 sizeof expected);
    zip_discard(archive);
}

/* zip_close() writes no archive without members, so the writer stores the
 * 22-byte end record itself. Zip readers and numpy accept it. */
static void npz_without_arrays(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "none.npz", path);

    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_close(writer), CS_OK);
    assert_directory_entries(f, "none.npz");

    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    assert_non_null(bytes);
    assert_int_equal(size, 22);
    assert_memory_equal(bytes, "PK\x05\x06", 4);
    free(bytes);

    zip_t *archive = open_for_reading(path);
    assert_int_equal(zip_get_num_entries(archive, 0), 0);
    zip_discard(archive);
}

static void npz_abort_removes_everything(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npz", path);
    write_text_file(path, "old contents");

    const int64_t shape[] = {2};
    const double values[] = {1.0, 2.0};
    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_add(writer, "values", CS__DTYPE_F64, shape, 1,
                                 values),
                     CS_OK);
    cs__npz_abort(writer);

    assert_file_text(path, "old contents");
    assert_directory_entries(f, "out.npz");
    cs__npz_abort(NULL);
}

static void npz_null_arguments(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npz", path);

    /* Any non-NULL value, to see that a failed open resets it. */
    cs__npz_writer *writer = (cs__npz_writer *)&writer;
    assert_int_equal(cs__npz_open(NULL, "test", &writer), CS_E_NULL_ARGUMENT);
    assert_null(writer);
    assert_string_equal(cs_last_error()->argument, "path");

    assert_int_equal(cs__npz_open(path, "test", NULL), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "out");

    const uint8_t value = 1;
    assert_int_equal(cs__npz_add(NULL, "x", CS__DTYPE_U8, NULL, 0, &value),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "writer");

    assert_int_equal(cs__npz_close(NULL), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "writer");
    assert_directory_entries(f, "");
}

/* Each rejected array leaves the writer as it was, so the archive still
 * closes with the arrays added before. */
static void npz_add_invalid_arguments(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npz", path);
    const int64_t shape[] = {3};
    const int64_t negative[] = {-2};
    const int64_t huge[] = {INT64_MAX, 4};
    const int32_t values[] = {7, 8, 9};

    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_add(writer, "kept", CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_OK);

    assert_int_equal(cs__npz_add(writer, NULL, CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "name");
    assert_message_contains(path);

    assert_int_equal(cs__npz_add(writer, "", CS__DTYPE_I32, shape, 1, values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("non-empty");

    assert_int_equal(cs__npz_add(writer, "a/b", CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("'a/b'");

    assert_int_equal(cs__npz_add(writer, "kept", CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("already has an array");

    /* libzip rejects a name that is not valid UTF-8. */
    assert_int_equal(cs__npz_add(writer, "bad\xff", CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("array 'bad\xff'");

    char *long_name = malloc(UINT16_MAX + 1);
    assert_non_null(long_name);
    memset(long_name, 'n', UINT16_MAX);
    long_name[UINT16_MAX] = '\0';
    assert_int_equal(cs__npz_add(writer, long_name, CS__DTYPE_I32, shape, 1,
                                 values),
                     CS_E_INVALID_ARGUMENT);
    free(long_name);
    assert_error_names_path(path);
    assert_message_contains("65535 bytes");

    assert_int_equal(cs__npz_add(writer, "bad_dtype", (cs__dtype)-1, shape, 1,
                                 values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("array 'bad_dtype'");

    assert_int_equal(cs__npz_add(writer, "bad_ndim", CS__DTYPE_I32, shape, 5,
                                 values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("array 'bad_ndim'");

    assert_int_equal(cs__npz_add(writer, "no_shape", CS__DTYPE_I32, NULL, 1,
                                 values),
                     CS_E_NULL_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("array 'no_shape'");

    assert_int_equal(cs__npz_add(writer, "negative", CS__DTYPE_I32, negative,
                                 1, values),
                     CS_E_INVALID_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("array 'negative'");

    assert_int_equal(cs__npz_add(writer, "huge", CS__DTYPE_I32, huge, 2,
                                 values),
                     CS_E_OVERFLOW);
    assert_error_names_path(path);
    assert_message_contains("array 'huge'");

    assert_int_equal(cs__npz_add(writer, "no_data", CS__DTYPE_I32, shape, 1,
                                 NULL),
                     CS_E_NULL_ARGUMENT);
    assert_error_names_path(path);
    assert_message_contains("array 'no_data'");

    assert_int_equal(cs__npz_close(writer), CS_OK);
    zip_t *archive = open_for_reading(path);
    assert_int_equal(zip_get_num_entries(archive, 0), 1);
    check_member(archive, "kept.npy", CS__DTYPE_I32, shape, 1, values,
                 sizeof values);
    zip_discard(archive);
    assert_directory_entries(f, "out.npz");
}

static void npz_open_missing_directory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "missing/out.npz", path);

    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_E_IO);
    assert_null(writer);
    assert_error_names_path(path);
    assert_message_contains(strerror(ENOENT));
    assert_directory_entries(f, "");
}

static void npz_close_over_directory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npz", path);
    assert_int_equal(mkdir(path, 0755), 0);

    const int64_t shape[] = {1};
    const uint8_t value = 9;
    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_add(writer, "value", CS__DTYPE_U8, shape, 1,
                                 &value),
                     CS_OK);
    assert_int_equal(cs__npz_close(writer), CS_E_IO);
    assert_error_names_path(path);
    assert_message_contains(strerror(EISDIR));
    assert_directory_entries(f, "out.npz");
}

static cs_status write_big_npz(const char *path)
{
    double *values = big_array();
    const int64_t shape[] = {BIG_COUNT};
    cs__npz_writer *writer;
    cs_status status = cs__npz_open(path, "test", &writer);
    if (status == CS_OK)
        status = cs__npz_add(writer, "big", CS__DTYPE_F64, shape, 1, values);
    free(values);
    if (status != CS_OK) {
        cs__npz_abort(writer);
        return CS_E_INVALID_ARGUMENT; /* fails the CS_E_IO check */
    }
    return cs__npz_close(writer);
}

static void npz_write_fails_keeps_old(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npz", path);
    write_text_file(path, "old contents");

    child_report report = run_with_file_limit(write_big_npz, path);
    assert_int_equal(report.status, CS_E_IO);
    assert_non_null(strstr(report.message, path));
    assert_non_null(strstr(report.message, "ulimit -f"));
    assert_string_equal(report.error_path, path);

    assert_file_text(path, "old contents");
    assert_directory_entries(f, "out.npz");
}

/* Fails each allocation in turn across a whole open, add, add, close. */
static void npz_out_of_memory(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    path_in(f, "out.npz", path);
    write_text_file(path, "old contents");
    const int64_t shape[] = {3};
    const float values[] = {1.0f, 2.0f, 3.0f};

    cs_status status = CS_E_OUT_OF_MEMORY;
    long n = 1;
    for (; n < 100 && status != CS_OK; n++) {
        cs__npz_writer *writer = NULL;
        cs__set_alloc_failure_countdown(n);
        status = cs__npz_open(path, "test", &writer);
        if (status == CS_OK)
            status = cs__npz_add(writer, "a", CS__DTYPE_F32, shape, 1, values);
        if (status == CS_OK)
            status = cs__npz_add(writer, "b", CS__DTYPE_F32, shape, 1, values);
        if (status == CS_OK) {
            status = cs__npz_close(writer);
            writer = NULL;
        }
        cs__set_alloc_failure_countdown(0);
        cs__npz_abort(writer);

        if (status != CS_OK) {
            assert_int_equal(status, CS_E_OUT_OF_MEMORY);
            assert_error_names_path(path);
            assert_file_text(path, "old contents");
            assert_directory_entries(f, "out.npz");
        }
    }
    assert_int_equal(status, CS_OK);
    assert_true(n > 4);

    zip_t *archive = open_for_reading(path);
    assert_int_equal(zip_get_num_entries(archive, 0), 2);
    zip_discard(archive);
}

/* ------------------------------------------------------------------------
 * numpy reads what we write
 * ------------------------------------------------------------------------ */

/* Debian's interpreter, because the python3 on PATH may lack numpy. It
 * runs with -E so that PYTHONOPTIMIZE cannot turn the asserts off and
 * PYTHONPATH cannot swap in another numpy. */
#define SYSTEM_PYTHON "/usr/bin/python3"

static const char numpy_check_script[] =
    "import sys\n"
    "import numpy as np\n"
    "def check(a, dtype, shape, values):\n"
    "    assert a.dtype == np.dtype(dtype), (dtype, a.dtype)\n"
    "    assert a.shape == shape, (shape, a.shape)\n"
    "    assert a.ravel().tolist() == values, (values, a.tolist())\n"
    "z = np.load(sys.argv[1])\n"
    "assert sorted(z.files) == "
    "[\"empty\", \"f32\", \"i32\", \"i64\", \"scalar\", \"u8\"], z.files\n"
    "check(z[\"u8\"], \"uint8\", (3,), [0, 1, 255])\n"
    "check(z[\"i32\"], \"int32\", (2, 2), "
    "[-2147483648, -1, 0, 2147483647])\n"
    "check(z[\"i64\"], \"int64\", (3,), "
    "[-9223372036854775808, 0, 9223372036854775807])\n"
    "check(z[\"f32\"], \"float32\", (4,), "
    "[1.5, -0.25, 65504.0, 0.0009765625])\n"
    "check(z[\"scalar\"], \"float64\", (), [3.25])\n"
    "check(z[\"empty\"], \"float64\", (0, 3), [])\n"
    "a = np.load(sys.argv[2])\n"
    "check(a, \"float64\", (2, 3), "
    "[0.1, -2.5, 1e+300, 3.141592653589793, -0.0, 6.0])\n"
    "assert np.load(sys.argv[3]).files == []\n";

static bool system_numpy_available(void)
{
    if (access(SYSTEM_PYTHON, X_OK) != 0)
        return false;
    return system(SYSTEM_PYTHON " -E -c 'import numpy' >/dev/null 2>&1") == 0;
}

static void write_numpy_fixtures(const char *npz_path, const char *npy_path,
                                 const char *empty_path)
{
    const uint8_t u8[] = {0, 1, 255};
    const int32_t i32[] = {INT32_MIN, -1, 0, INT32_MAX};
    const int64_t i64[] = {INT64_MIN, 0, INT64_MAX};
    const float f32[] = {1.5f, -0.25f, 65504.0f, 0.0009765625f};
    const double scalar = 3.25;
    const double f64[] = {0.1, -2.5, 1e300, 3.141592653589793, -0.0, 6.0};
    const int64_t shape_3[] = {3}, shape_2x2[] = {2, 2}, shape_4[] = {4};
    const int64_t shape_0x3[] = {0, 3}, shape_2x3[] = {2, 3};

    cs__npz_writer *writer;
    assert_int_equal(cs__npz_open(npz_path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_add(writer, "u8", CS__DTYPE_U8, shape_3, 1, u8),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "i32", CS__DTYPE_I32, shape_2x2, 2,
                                 i32),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "i64", CS__DTYPE_I64, shape_3, 1,
                                 i64),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "f32", CS__DTYPE_F32, shape_4, 1,
                                 f32),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "scalar", CS__DTYPE_F64, NULL, 0,
                                 &scalar),
                     CS_OK);
    assert_int_equal(cs__npz_add(writer, "empty", CS__DTYPE_F64, shape_0x3, 2,
                                 NULL),
                     CS_OK);
    assert_int_equal(cs__npz_close(writer), CS_OK);

    assert_int_equal(cs__npy_write_file(npy_path, CS__DTYPE_F64, shape_2x3, 2,
                                        f64, "test"),
                     CS_OK);

    assert_int_equal(cs__npz_open(empty_path, "test", &writer), CS_OK);
    assert_int_equal(cs__npz_close(writer), CS_OK);
}

static void numpy_loads_npz_and_npy(void **state)
{
    fixture *f = *state;
    if (!system_numpy_available()) {
        printf("skipped: " SYSTEM_PYTHON " is missing or cannot import "
               "numpy\n");
        skip();
    }

    char npz_path[PATH_SIZE];
    char npy_path[PATH_SIZE];
    char empty_path[PATH_SIZE];
    path_in(f, "check.npz", npz_path);
    path_in(f, "check.npy", npy_path);
    path_in(f, "empty.npz", empty_path);
    write_numpy_fixtures(npz_path, npy_path, empty_path);

    /* The script has no single quotes, and mkdtemp() paths need no
     * quoting beyond single quotes. */
    char command[4096];
    int length = snprintf(command, sizeof command,
                          SYSTEM_PYTHON " -E -c '%s' '%s' '%s' '%s'",
                          numpy_check_script, npz_path, npy_path, empty_path);
    assert_true(length > 0 && (size_t)length < sizeof command);
    assert_int_equal(system(command), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dtype_size_per_type),
        cmocka_unit_test(npy_header_1d_f8),
        cmocka_unit_test(npy_header_scalar_i4),
        cmocka_unit_test(npy_header_2d_u1),
        cmocka_unit_test(npy_header_3d_i8_with_zero),
        cmocka_unit_test(npy_header_large_1d_i8),
        cmocka_unit_test(npy_header_exactly_aligned),
        cmocka_unit_test(npy_header_spills_to_192),
        cmocka_unit_test(npy_header_aligned_for_all_shapes),
        cmocka_unit_test(npy_header_version_switch),
        cmocka_unit_test(npy_header_rejects_unknown_dtype),
        cmocka_unit_test(npy_header_out_of_memory),
        cmocka_unit_test_setup_teardown(atomic_commit_replaces_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(atomic_abort_removes_temp, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(atomic_mode_follows_umask, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(atomic_open_missing_directory, setup,
                                        teardown),
        cmocka_unit_test(atomic_open_null_arguments),
        cmocka_unit_test(atomic_commit_unopened),
        cmocka_unit_test_setup_teardown(atomic_open_out_of_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(atomic_commit_rename_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(atomic_commit_reports_late_write_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            atomic_commit_reports_early_write_error, setup, teardown),
        cmocka_unit_test_setup_teardown(npy_file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(npy_file_scalar, setup, teardown),
        cmocka_unit_test_setup_teardown(npy_file_empty_array, setup, teardown),
        cmocka_unit_test(npy_file_null_path),
        cmocka_unit_test_setup_teardown(npy_file_invalid_arguments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npy_file_missing_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npy_file_over_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npy_file_write_fails_keeps_old, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npy_file_out_of_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npz_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(npz_add_copies_data, setup, teardown),
        cmocka_unit_test_setup_teardown(npz_without_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(npz_abort_removes_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npz_null_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(npz_add_invalid_arguments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npz_open_missing_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npz_close_over_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npz_write_fails_keeps_old, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(npz_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(numpy_loads_npz_and_npy, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
