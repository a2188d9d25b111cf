/*
 * Tests of the IDX reader and the MNIST-style data-set loader. Every file
 * is generated in a fresh temporary folder, plain or gzip-compressed with
 * zlib, including damaged ones: wrong magic, unknown types, truncation,
 * trailing bytes, dimensions larger than the file, and image and label
 * files that disagree. Each failure checks its status and that the error
 * names the file. One test loads the real Fashion-MNIST and skips when it
 * is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/idx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PATH_SIZE 512

/* Big enough for every generated file. */
#define FILE_BYTES_MAX 4096

/* A fresh, empty folder per test. */
typedef struct fixture {
    char dir[256];
} fixture;

/* Bytes of one IDX file being built. */
typedef struct idx_bytes {
    unsigned char data[FILE_BYTES_MAX];
    size_t size;
} idx_bytes;

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
    snprintf(f->dir, sizeof f->dir, "%s/cs-idx-XXXXXX",
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

static void join(char *out, const fixture *f, const char *name)
{
    snprintf(out, PATH_SIZE, "%s/%s", f->dir, name);
}

static void put_u32(idx_bytes *b, uint32_t v)
{
    b->data[b->size++] = (unsigned char)(v >> 24);
    b->data[b->size++] = (unsigned char)(v >> 16);
    b->data[b->size++] = (unsigned char)(v >> 8);
    b->data[b->size++] = (unsigned char)v;
}

/* Starts an IDX file: magic, type, dimensions. */
static void put_header(idx_bytes *b, int type, int ndim, const uint32_t *dims)
{
    b->size = 0;
    b->data[b->size++] = 0;
    b->data[b->size++] = 0;
    b->data[b->size++] = (unsigned char)type;
    b->data[b->size++] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        put_u32(b, dims[i]);
}

static void put_bytes(idx_bytes *b, const void *bytes, size_t n)
{
    assert_true(b->size + n <= FILE_BYTES_MAX);
    memcpy(b->data + b->size, bytes, n);
    b->size += n;
}

/* An unsigned-byte file with count elements valued (i * step) % 256. */
static void make_u8(idx_bytes *b, int ndim, const uint32_t *dims, size_t count,
                    unsigned step)
{
    put_header(b, CS__IDX_U8, ndim, dims);
    for (size_t i = 0; i < count; i++)
        b->data[b->size++] = (unsigned char)((i * step) % 256);
}

static void write_plain(const char *path, const idx_bytes *b)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->data, 1, b->size, fp), b->size);
    assert_int_equal(fclose(fp), 0);
}

static void write_gzip(const char *path, const idx_bytes *b)
{
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, b->data, (unsigned)b->size), (int)b->size);
    assert_int_equal(gzclose(gz), Z_OK);
}

static long file_size(const char *path)
{
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    return (long)info.st_size;
}

static void cut_file(const char *path, long size)
{
    assert_int_equal(truncate(path, size), 0);
}

/* Asserts that the last error has this status and names path both in
 * the path field and in the message. */
static void assert_error_names(cs_status status, cs_status expected,
                               const char *path)
{
    assert_int_equal(status, expected);
    const cs_error_info *e = cs_last_error();
    assert_int_equal(e->status, expected);
    assert_string_equal(e->path, path);
    assert_non_null(strstr(e->message, path));
}

static cs_status read_file(const char *path, cs__idx_array *out)
{
    return cs__idx_read(path, "cs_dataset_load_idx", out);
}

/* Writes a complete data set into the fixture folder: n_train and n_test
 * images of rows x cols with labels i % classes. Image files are
 * gzip-compressed and label files plain, so both kinds are loaded. */
static void write_dataset(const fixture *f, uint32_t n_train, uint32_t n_test,
                          uint32_t rows, uint32_t cols, unsigned classes)
{
    const char *images[2] = {"train-images-idx3-ubyte.gz",
                             "t10k-images-idx3-ubyte.gz"};
    const char *labels[2] = {"train-labels-idx1-ubyte",
                             "t10k-labels-idx1-ubyte"};
    const uint32_t counts[2] = {n_train, n_test};
    char path[PATH_SIZE];
    idx_bytes b;

    for (int split = 0; split < 2; split++) {
        const uint32_t image_dims[3] = {counts[split], rows, cols};
        make_u8(&b, 3, image_dims, (size_t)counts[split] * rows * cols, 51);
        join(path, f, images[split]);
        write_gzip(path, &b);

        put_header(&b, CS__IDX_U8, 1, &counts[split]);
        for (uint32_t i = 0; i < counts[split]; i++)
            b.data[b.size++] = (unsigned char)(i % classes);
        join(path, f, labels[split]);
        write_plain(path, &b);
    }
}

static cs_status load_folder(const fixture *f, int64_t train_count,
                             cs_dataset **out)
{
    cs_dataset_options options;
    cs_dataset_options_init(&options);
    options.train_count = train_count;
    return cs_dataset_load_idx(f->dir, &options, out);
}

/* ------------------------------------------------------------------------
 * Reader: valid files
 * ------------------------------------------------------------------------ */

static void check_u8_array(const cs__idx_array *a)
{
    assert_int_equal(a->type, CS__IDX_U8);
    assert_int_equal(a->ndim, 3);
    assert_int_equal(a->dims[0], 3);
    assert_int_equal(a->dims[1], 4);
    assert_int_equal(a->dims[2], 5);
    assert_int_equal(a->count, 60);
    const unsigned char *data = a->data;
    for (size_t i = 0; i < 60; i++)
        assert_int_equal(data[i], (i * 7) % 256);
}

static void test_read_plain_u8(void **state)
{
    const uint32_t dims[3] = {3, 4, 5};
    idx_bytes b;
    make_u8(&b, 3, dims, 60, 7);
    char path[PATH_SIZE];
    join(path, *state, "plain-idx3-ubyte");
    write_plain(path, &b);

    cs__idx_array a;
    assert_int_equal(read_file(path, &a), CS_OK);
    check_u8_array(&a);
    cs__idx_array_free(&a);
    assert_null(a.data);
}

static void test_read_gzip_u8(void **state)
{
    const uint32_t dims[3] = {3, 4, 5};
    idx_bytes b;
    make_u8(&b, 3, dims, 60, 7);
    char path[PATH_SIZE];
    join(path, *state, "packed-idx3-ubyte.gz");
    write_gzip(path, &b);

    cs__idx_array a;
    assert_int_equal(read_file(path, &a), CS_OK);
    check_u8_array(&a);
    cs__idx_array_free(&a);
}

/* Wider types are big-endian in the file and host order after reading. */
static void test_read_wide_types_gzip_and_plain(void **state)
{
    const uint32_t n = 3;
    const unsigned char i16[] = {0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00};
    const unsigned char i32[] = {0x00, 0x00, 0x01, 0x00, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF};
    const unsigned char f32[] = {0x3F, 0x80, 0x00, 0x00, 0xC0, 0x20,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    char path[PATH_SIZE];
    idx_bytes b;

    for (int compressed = 0; compressed < 2; compressed++) {
        join(path, *state, compressed ? "wide.gz" : "wide");
        cs__idx_array a;

        put_header(&b, CS__IDX_I16, 1, &n);
        put_bytes(&b, i16, sizeof i16);
        compressed ? write_gzip(path, &b) : write_plain(path, &b);
        assert_int_equal(read_file(path, &a), CS_OK);
        const int16_t *v16 = a.data;
        assert_int_equal(v16[0], 0x0102);
        assert_int_equal(v16[1], -2);
        assert_int_equal(v16[2], INT16_MIN);
        cs__idx_array_free(&a);

        put_header(&b, CS__IDX_I32, 1, &n);
        put_bytes(&b, i32, sizeof i32);
        compressed ? write_gzip(path, &b) : write_plain(path, &b);
        assert_int_equal(read_file(path, &a), CS_OK);
        const int32_t *v32 = a.data;
        assert_int_equal(v32[0], 256);
        assert_int_equal(v32[1], -1);
        assert_int_equal(v32[2], INT32_MAX);
        cs__idx_array_free(&a);

        put_header(&b, CS__IDX_F32, 1, &n);
        put_bytes(&b, f32, sizeof f32);
        compressed ? write_gzip(path, &b) : write_plain(path, &b);
        assert_int_equal(read_file(path, &a), CS_OK);
        const float *vf = a.data;
        assert_true(vf[0] == 1.0f);
        assert_true(vf[1] == -2.5f);
        assert_true(vf[2] == 0.0f);
        cs__idx_array_free(&a);
    }
}

/* A dimension of 0 is a valid, empty array. */
static void test_read_empty_array(void **state)
{
    const uint32_t dims[2] = {0, 28};
    idx_bytes b;
    put_header(&b, CS__IDX_U8, 2, dims);
    char path[PATH_SIZE];
    join(path, *state, "empty-idx2-ubyte");
    write_plain(path, &b);

    cs__idx_array a;
    assert_int_equal(read_file(path, &a), CS_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.dims[1], 28);
    cs__idx_array_free(&a);
}

/* ------------------------------------------------------------------------
 * Reader: malformed files
 * ------------------------------------------------------------------------ */

static void test_read_wrong_magic(void **state)
{
    const uint32_t dims[1] = {4};
    idx_bytes b;
    make_u8(&b, 1, dims, 4, 1);
    b.data[1] = 0x08;
    char path[PATH_SIZE];
    join(path, *state, "bad-magic");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 0);
    assert_string_equal(cs_last_error()->value, "0x00 0x08");
    assert_null(a.data);
}

static void test_read_wrong_magic_gzip(void **state)
{
    idx_bytes b;
    b.size = 0;
    put_bytes(&b, "PK\x03\x04 not idx", 12);
    char path[PATH_SIZE];
    join(path, *state, "bad-magic.gz");
    write_gzip(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 0);
}

static void test_read_unknown_type(void **state)
{
    const uint32_t dims[1] = {4};
    idx_bytes b;
    make_u8(&b, 1, dims, 4, 1);
    b.data[2] = 0x0A;
    char path[PATH_SIZE];
    join(path, *state, "bad-type");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 2);
    assert_string_equal(cs_last_error()->value, "0x0a");
}

static void test_read_zero_dimensions(void **state)
{
    idx_bytes b;
    put_header(&b, CS__IDX_U8, 0, NULL);
    char path[PATH_SIZE];
    join(path, *state, "no-dims");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 3);
}

static void test_read_empty_file(void **state)
{
    idx_bytes b;
    b.size = 0;
    char path[PATH_SIZE];
    join(path, *state, "empty");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 0);
    assert_non_null(strstr(cs_last_error()->message, "empty"));
}

static void test_read_truncated_header(void **state)
{
    const uint32_t dims[3] = {3, 4, 5};
    idx_bytes b;
    make_u8(&b, 3, dims, 60, 1);
    b.size = 10; /* inside the second dimension */
    char path[PATH_SIZE];
    join(path, *state, "cut-header");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 10);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
}

static void test_read_truncated_plain(void **state)
{
    const uint32_t dims[3] = {3, 4, 5};
    idx_bytes b;
    make_u8(&b, 3, dims, 60, 1);
    b.size -= 7;
    char path[PATH_SIZE];
    join(path, *state, "cut-data");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, (int64_t)b.size);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
}

/* A gzip file cut in the middle of its compressed data. */
static void test_read_truncated_gzip(void **state)
{
    const uint32_t dims[2] = {40, 50};
    idx_bytes b;
    make_u8(&b, 2, dims, 2000, 37);
    char path[PATH_SIZE];
    join(path, *state, "cut-data.gz");
    write_gzip(path, &b);
    cut_file(path, file_size(path) / 2);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_true(cs_last_error()->offset < (int64_t)b.size);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
}

/* All data is there but the gzip trailer (CRC-32 and length) is cut. */
static void test_read_gzip_without_trailer(void **state)
{
    const uint32_t dims[1] = {100};
    idx_bytes b;
    make_u8(&b, 1, dims, 100, 3);
    char path[PATH_SIZE];
    join(path, *state, "no-trailer.gz");
    write_gzip(path, &b);
    cut_file(path, file_size(path) - 4);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
}

static void test_read_gzip_bad_checksum(void **state)
{
    const uint32_t dims[1] = {100};
    idx_bytes b;
    make_u8(&b, 1, dims, 100, 3);
    char path[PATH_SIZE];
    join(path, *state, "bad-crc.gz");
    write_gzip(path, &b);

    /* The CRC-32 is the first 4 of the last 8 bytes. */
    const long size = file_size(path);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, size - 8, SEEK_SET), 0);
    const int byte = fgetc(fp);
    assert_int_equal(fseek(fp, size - 8, SEEK_SET), 0);
    fputc(byte ^ 0xFF, fp);
    assert_int_equal(fclose(fp), 0);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_non_null(strstr(cs_last_error()->message, "corrupt"));
}

static void test_read_trailing_bytes_plain(void **state)
{
    const uint32_t dims[2] = {2, 3};
    idx_bytes b;
    make_u8(&b, 2, dims, 6, 1);
    const size_t expected = b.size;
    put_bytes(&b, "xyz", 3);
    char path[PATH_SIZE];
    join(path, *state, "trailing");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, (int64_t)expected);
    assert_non_null(strstr(cs_last_error()->message, "3 unexpected bytes"));
}

static void test_read_trailing_bytes_gzip(void **state)
{
    const uint32_t dims[2] = {2, 3};
    idx_bytes b;
    make_u8(&b, 2, dims, 6, 1);
    const size_t expected = b.size;
    put_bytes(&b, "xyz", 3);
    char path[PATH_SIZE];
    join(path, *state, "trailing.gz");
    write_gzip(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, (int64_t)expected);
    assert_non_null(strstr(cs_last_error()->message, "unexpected bytes"));
}

/* A header that declares far more data than the file contains fails on
 * the size check before anything is allocated. So with every allocation
 * made to fail, the status is still the format error. */
static void test_read_dimension_larger_than_plain_file(void **state)
{
    const uint32_t dims[3] = {1000000, 28, 28};
    idx_bytes b;
    put_header(&b, CS__IDX_U8, 3, dims);
    put_bytes(&b, "some pixels", 11);
    char path[PATH_SIZE];
    join(path, *state, "huge-idx3-ubyte");
    write_plain(path, &b);

    cs__idx_array a;
    cs__set_alloc_failure_countdown(1);
    const cs_status status = read_file(path, &a);
    cs__set_alloc_failure_countdown(0);
    assert_error_names(status, CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, (int64_t)b.size);
    assert_string_equal(cs_last_error()->value, "1000000 x 28 x 28");
}

/* The gzip case cannot check sizes in advance; it must fail on the
 * stream's end without having allocated the 3.9 GB the header claims. */
static void test_read_dimension_larger_than_gzip_stream(void **state)
{
    const uint32_t dims[3] = {5000000, 28, 28};
    idx_bytes b;
    put_header(&b, CS__IDX_U8, 3, dims);
    put_bytes(&b, "some pixels", 11);
    char path[PATH_SIZE];
    join(path, *state, "huge-idx3-ubyte.gz");
    write_gzip(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, (int64_t)b.size);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
}

static void test_read_dimensions_overflow(void **state)
{
    const uint32_t dims[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, 2};
    idx_bytes b;
    put_header(&b, CS__IDX_I32, 4, dims);
    char path[PATH_SIZE];
    join(path, *state, "overflow");
    write_plain(path, &b);

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 4);
}

static void test_read_missing_file(void **state)
{
    char path[PATH_SIZE];
    join(path, *state, "absent-idx1-ubyte");

    cs__idx_array a;
    assert_error_names(read_file(path, &a), CS_E_IO, path);
}

static void test_read_folder_instead_of_file(void **state)
{
    const fixture *f = *state;
    cs__idx_array a;
    assert_error_names(read_file(f->dir, &a), CS_E_IO, f->dir);
}

/* ------------------------------------------------------------------------
 * Data-set loader
 * ------------------------------------------------------------------------ */

static void test_load_dataset(void **state)
{
    write_dataset(*state, 7, 3, 4, 5, 4);

    cs_dataset *dataset = NULL;
    assert_int_equal(load_folder(*state, 0, &dataset), CS_OK);
    assert_int_equal(cs_dataset_n_classes(dataset), 4);

    cs_examples train;
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &train),
                     CS_OK);
    assert_int_equal(train.n, 7);
    assert_int_equal(train.n_inputs, 20);
    for (size_t i = 0; i < 7 * 20; i++)
        assert_true(train.inputs[i] == (float)((i * 51) % 256) / 255.0f);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(train.labels[i], (int32_t)(i % 4));

    /* 51 * 5 = 255 is the brightest pixel and maps to exactly 1. */
    assert_true(train.inputs[5] == 1.0f);
    assert_true(train.inputs[0] == 0.0f);

    cs_examples test;
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TEST, &test),
                     CS_OK);
    assert_int_equal(test.n, 3);
    assert_int_equal(test.n_inputs, 20);
    assert_int_equal(test.labels[2], 2);
    cs_dataset_free(dataset);
}

/* With a trailing slash on the folder, and with both a plain and a .gz
 * copy, where the plain one wins. */
static void test_load_prefers_plain_file(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 6, 2, 2, 2, 3);

    /* A plain copy of the training images, all pixels 255. */
    const uint32_t dims[3] = {6, 2, 2};
    idx_bytes b;
    put_header(&b, CS__IDX_U8, 3, dims);
    memset(b.data + b.size, 255, 24);
    b.size += 24;
    char path[PATH_SIZE];
    join(path, f, "train-images-idx3-ubyte");
    write_plain(path, &b);

    char folder[PATH_SIZE];
    snprintf(folder, sizeof folder, "%s/", f->dir);
    cs_dataset_options options;
    cs_dataset_options_init(&options);
    cs_dataset *dataset = NULL;
    assert_int_equal(cs_dataset_load_idx(folder, &options, &dataset), CS_OK);

    cs_examples train;
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &train),
                     CS_OK);
    for (size_t i = 0; i < 24; i++)
        assert_true(train.inputs[i] == 1.0f);
    cs_dataset_free(dataset);
}

static void test_load_train_count(void **state)
{
    write_dataset(*state, 10, 4, 3, 3, 5);

    cs_dataset *dataset = NULL;
    assert_int_equal(load_folder(*state, 3, &dataset), CS_OK);
    cs_examples train;
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &train),
                     CS_OK);
    assert_int_equal(train.n, 3);
    assert_int_equal(train.labels[2], 2);
    assert_true(train.inputs[9] == (float)((9 * 51) % 256) / 255.0f);

    /* The class count comes from the whole files, not the kept rows. */
    assert_int_equal(cs_dataset_n_classes(dataset), 5);

    cs_examples test;
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TEST, &test),
                     CS_OK);
    assert_int_equal(test.n, 4);
    cs_dataset_free(dataset);
}

static void test_load_train_count_too_large(void **state)
{
    write_dataset(*state, 10, 4, 3, 3, 5);

    cs_dataset *dataset = (cs_dataset *)1;
    assert_int_equal(load_folder(*state, 11, &dataset), CS_E_INVALID_ARGUMENT);
    assert_null(dataset);
    assert_string_equal(cs_last_error()->argument, "options->train_count");
}

static void test_load_count_mismatch(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 8, 3, 2, 2, 2);

    /* Replace the training labels by a file of 9 labels. */
    const uint32_t nine = 9;
    idx_bytes b;
    make_u8(&b, 1, &nine, 9, 1);
    char labels[PATH_SIZE];
    join(labels, f, "train-labels-idx1-ubyte");
    write_plain(labels, &b);

    cs_dataset *dataset = NULL;
    char images[PATH_SIZE];
    join(images, f, "train-images-idx3-ubyte.gz");
    assert_error_names(load_folder(f, 0, &dataset), CS_E_FORMAT, images);
    assert_null(dataset);
    assert_non_null(strstr(cs_last_error()->message, labels));
    assert_non_null(strstr(cs_last_error()->message, "8 images"));
    assert_non_null(strstr(cs_last_error()->message, "9 labels"));
}

static void test_load_images_of_wrong_type(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 4, 2, 2, 2, 2);

    const uint32_t dims[3] = {2, 2, 2};
    idx_bytes b;
    put_header(&b, CS__IDX_I16, 3, dims);
    memset(b.data + b.size, 0, 16);
    b.size += 16;
    char path[PATH_SIZE];
    join(path, f, "t10k-images-idx3-ubyte.gz");
    write_gzip(path, &b);

    cs_dataset *dataset = NULL;
    assert_error_names(load_folder(f, 0, &dataset), CS_E_FORMAT, path);
    assert_non_null(strstr(cs_last_error()->message, "int16"));
}

static void test_load_labels_in_two_dimensions(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 4, 2, 2, 2, 2);

    const uint32_t dims[2] = {4, 1};
    idx_bytes b;
    make_u8(&b, 2, dims, 4, 1);
    char path[PATH_SIZE];
    join(path, f, "train-labels-idx1-ubyte");
    write_plain(path, &b);

    cs_dataset *dataset = NULL;
    assert_error_names(load_folder(f, 0, &dataset), CS_E_FORMAT, path);
}

static void test_load_test_shape_differs(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 4, 2, 2, 2, 2);

    const uint32_t dims[3] = {2, 2, 3};
    idx_bytes b;
    make_u8(&b, 3, dims, 12, 1);
    char path[PATH_SIZE];
    join(path, f, "t10k-images-idx3-ubyte.gz");
    write_gzip(path, &b);

    cs_dataset *dataset = NULL;
    assert_error_names(load_folder(f, 0, &dataset), CS_E_FORMAT, path);
    assert_int_equal(cs_last_error()->offset, 8);
}

static void test_load_truncated_member(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 30, 5, 8, 8, 3);

    char path[PATH_SIZE];
    join(path, f, "train-images-idx3-ubyte.gz");
    cut_file(path, file_size(path) - 20);

    cs_dataset *dataset = NULL;
    assert_error_names(load_folder(f, 0, &dataset), CS_E_FORMAT, path);
    assert_null(dataset);
}

static void test_load_missing_file(void **state)
{
    const fixture *f = *state;
    write_dataset(f, 4, 2, 2, 2, 2);

    char path[PATH_SIZE];
    join(path, f, "t10k-labels-idx1-ubyte");
    assert_int_equal(unlink(path), 0);

    cs_dataset *dataset = NULL;
    assert_error_names(load_folder(f, 0, &dataset), CS_E_IO, path);
    assert_non_null(strstr(cs_last_error()->message, "not found"));
}

static void test_load_rejects_bad_arguments(void **state)
{
    const fixture *f = *state;
    cs_dataset_options options;
    cs_dataset_options_init(&options);
    cs_dataset *dataset = NULL;

    assert_int_equal(cs_dataset_load_idx(f->dir, &options, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_dataset_load_idx(NULL, &options, &dataset),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_dataset_load_idx(f->dir, NULL, &dataset),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_dataset_load_idx("", &options, &dataset),
                     CS_E_INVALID_ARGUMENT);

    options.struct_size = sizeof(size_t);
    assert_int_equal(cs_dataset_load_idx(f->dir, &options, &dataset),
                     CS_E_INVALID_ARGUMENT);
    cs_dataset_options_init(&options);
    options.train_count = -1;
    assert_int_equal(cs_dataset_load_idx(f->dir, &options, &dataset),
                     CS_E_INVALID_ARGUMENT);
    assert_null(dataset);

    cs_examples examples;
    assert_int_equal(cs_dataset_examples(NULL, CS_SPLIT_TRAIN, &examples),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_dataset_n_classes(NULL), -1);
    cs_dataset_free(NULL);
}

static void test_load_bad_split(void **state)
{
    write_dataset(*state, 4, 2, 2, 2, 2);
    cs_dataset *dataset = NULL;
    assert_int_equal(load_folder(*state, 0, &dataset), CS_OK);

    cs_examples examples;
    assert_int_equal(cs_dataset_examples(dataset, (cs_split)2, &examples),
                     CS_E_INVALID_ARGUMENT);
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TEST, NULL),
                     CS_E_NULL_ARGUMENT);
    cs_dataset_free(dataset);
}

/* Fails each allocation in turn: every failure reports
 * CS_E_OUT_OF_MEMORY and returns no data set, until loading succeeds. */
static void test_load_allocation_failures(void **state)
{
    write_dataset(*state, 12, 4, 3, 3, 3);

    cs_status status = CS_E_OUT_OF_MEMORY;
    long failing = 1;
    for (; status != CS_OK && failing < 200; failing++) {
        cs_dataset *dataset = (cs_dataset *)1;
        cs__set_alloc_failure_countdown(failing);
        status = load_folder(*state, 0, &dataset);
        cs__set_alloc_failure_countdown(0);
        if (status != CS_OK) {
            assert_int_equal(status, CS_E_OUT_OF_MEMORY);
            assert_null(dataset);
        }
        cs_dataset_free(status == CS_OK ? dataset : NULL);
    }
    assert_int_equal(status, CS_OK);
    assert_true(failing > 5);
}

/* The real files of Debian's dataset-fashion-mnist package. */
static void test_load_fashion_mnist(void **state)
{
    (void)state;
    struct stat info;
    if (stat(CS_FASHION_MNIST_DIR, &info) != 0) {
        print_message("skipped: %s is absent; install Debian's "
                      "dataset-fashion-mnist package\n",
                      CS_FASHION_MNIST_DIR);
        skip();
    }

    cs_dataset_options options;
    cs_dataset_options_init(&options);
    cs_dataset *dataset = NULL;
    assert_int_equal(cs_dataset_load_idx(CS_FASHION_MNIST_DIR, &options,
                                         &dataset),
                     CS_OK);
    assert_int_equal(cs_dataset_n_classes(dataset), 10);

    cs_examples train;
    cs_examples test;
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &train),
                     CS_OK);
    assert_int_equal(cs_dataset_examples(dataset, CS_SPLIT_TEST, &test),
                     CS_OK);
    assert_int_equal(train.n, 60000);
    assert_int_equal(test.n, 10000);
    assert_int_equal(train.n_inputs, 784);

    /* Fashion-MNIST is balanced: 6,000 training images per class. */
    int counts[10] = {0};
    for (size_t i = 0; i < train.n; i++)
        counts[train.labels[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(counts[c], 6000);
    cs_dataset_free(dataset);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_plain_u8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_gzip_u8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_wide_types_gzip_and_plain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_empty_array, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_wrong_magic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_wrong_magic_gzip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_unknown_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_zero_dimensions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_truncated_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_truncated_plain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_truncated_gzip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_gzip_without_trailer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_gzip_bad_checksum, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_trailing_bytes_plain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_trailing_bytes_gzip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_read_dimension_larger_than_plain_file, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_read_dimension_larger_than_gzip_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_dimensions_overflow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_missing_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_folder_instead_of_file,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_prefers_plain_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_train_count, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_train_count_too_large, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_count_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_images_of_wrong_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_labels_in_two_dimensions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_test_shape_differs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_truncated_member, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_missing_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_rejects_bad_arguments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_bad_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_allocation_failures, setup,
                                        teardown),
        cmocka_unit_test(test_load_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
