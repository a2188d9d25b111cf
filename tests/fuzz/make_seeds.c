/*
 * Writes the generated seed corpora of the harnesses. Some are files that
 * cscore itself writes: a tracker checkpoint, its .npz and CSV exports,
 * .npy arrays and the record file of a tiny holdout run. The others are
 * hand-made edge cases: truncated headers, huge dimensions, wrong magic
 * bytes, bad dtypes and zero sizes. tests/fuzz/corpus/ contains its
 * output, each file a few KB at most.
 *
 * Usage: fuzz_make_seeds FOLDER
 * writes FOLDER/NAME/FILE for each harness NAME; the folders must exist.
 * Exits 1 with a message when any file cannot be made.
 */
#include "io/io.h"

#include <cscore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

static const char *out_folder;
static int failures;

static void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "fuzz_make_seeds: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    failures++;
}

/* Returns FOLDER/harness/name in a static buffer. */
static const char *seed_path(const char *harness, const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", out_folder, harness, name);
    return path;
}

static void write_bytes(const char *harness, const char *name,
                        const void *data, size_t size)
{
    const char *path = seed_path(harness, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(data, 1, size, fp) != size) {
        fail("cannot write %s", path);
        if (fp != NULL)
            fclose(fp);
        return;
    }
    if (fclose(fp) != 0)
        fail("cannot write %s", path);
}

static void write_text(const char *harness, const char *name, const char *text)
{
    write_bytes(harness, name, text, strlen(text));
}

static void check(cs_status status, const char *step)
{
    if (status != CS_OK)
        fail("%s failed: %s", step, cs_last_error_message());
}

/* ---- trackers ----------------------------------------------------------- */

#define TRACKER_N 6
#define TRACKER_C 3
#define TRACKER_D 2

/* Observes three epochs of made-up logits, so that every proxy differs
 * between examples, and leaves a fourth epoch open with one observation. */
static cs_tracker *tiny_tracker(bool history, bool features)
{
    cs_tracker_options options;
    cs_tracker_options_init(&options);
    options.n_examples = TRACKER_N;
    options.n_classes = TRACKER_C;
    options.keep_history = history;
    options.feature_dim = features ? TRACKER_D : 0;

    cs_tracker *tracker = NULL;
    check(cs_tracker_create(&options, &tracker), "cs_tracker_create");
    if (tracker == NULL)
        return NULL;

    int32_t labels[TRACKER_N];
    int64_t ids[TRACKER_N];
    float logits[TRACKER_N * TRACKER_C];
    float rows[TRACKER_N * TRACKER_D];
    for (int epoch = 0; epoch < 4; epoch++) {
        for (int i = 0; i < TRACKER_N; i++) {
            labels[i] = i % TRACKER_C;
            ids[i] = i;
            for (int c = 0; c < TRACKER_C; c++) {
                const int step = (i * 7 + c * 3 + epoch * 5) % 11;
                logits[i * TRACKER_C + c] = (float)step / 4.0f;
            }
            for (int k = 0; k < TRACKER_D; k++)
                rows[i * TRACKER_D + k] = (float)(i + k * epoch) / 8.0f;
        }
        const size_t n = epoch < 3 ? TRACKER_N : 1;
        check(cs_observe_batch(tracker, logits, labels, ids,
                               features ? rows : NULL, n),
              "cs_observe_batch");
        if (epoch < 3)
            check(cs_end_epoch(tracker), "cs_end_epoch");
    }
    return tracker;
}

static void make_tracker_seeds(void)
{
    cs_tracker *full = tiny_tracker(true, true);
    cs_tracker *plain = tiny_tracker(false, false);
    if (full == NULL || plain == NULL) {
        cs_tracker_free(full);
        cs_tracker_free(plain);
        return;
    }

    check(cs_tracker_save(full, seed_path("checkpoint", "history-features")),
          "cs_tracker_save");
    check(cs_tracker_save(plain, seed_path("checkpoint", "plain")),
          "cs_tracker_save");
    check(cs_tracker_export_npz(full, seed_path("npz", "proxies-history")),
          "cs_tracker_export_npz");
    check(cs_tracker_export_npz(plain, seed_path("npz", "proxies")),
          "cs_tracker_export_npz");
    check(cs_tracker_export_csv(full, seed_path("csv", "proxies")),
          "cs_tracker_export_csv");
    cs_tracker_free(full);
    cs_tracker_free(plain);
}

/* ---- .npy images -------------------------------------------------------- */

/* Writes a .npy image of the given format version whose header dictionary
 * is dict (padded with spaces and a newline to a multiple of 64 bytes),
 * followed by size data bytes. */
static void write_npy(const char *name, int major, const char *dict,
                      const void *data, size_t size)
{
    const size_t prefix = major == 1 ? 10 : 12;
    size_t header = strlen(dict) + 1;
    header += (64 - (prefix + header) % 64) % 64;

    unsigned char image[1024];
    if (prefix + header + size > sizeof image) {
        fail("the .npy seed %s is too large", name);
        return;
    }
    memcpy(image, "\x93NUMPY", 6);
    image[6] = (unsigned char)major;
    image[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++)
        image[8 + i] = (unsigned char)(header >> (8 * i));
    memset(image + prefix, ' ', header);
    memcpy(image + prefix, dict, strlen(dict));
    image[prefix + header - 1] = '\n';
    if (size > 0)
        memcpy(image + prefix + header, data, size);
    write_bytes("npy", name, image, prefix + header + size);
}

static void make_written_npy(void)
{
    const float f32[6] = {0.5f, -1.0f, 2.25f, 0.0f, 1e-3f, 3.0f};
    const int64_t i64[4] = {0, -1, INT64_MAX, 7};
    const int32_t i32[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    const double f64 = 0.25;
    const uint8_t u8[3] = {0, 128, 255};
    const int64_t shape_2x3[2] = {2, 3};
    const int64_t shape_4[1] = {4};
    const int64_t shape_2222[4] = {2, 2, 2, 2};
    const int64_t shape_0[1] = {0};
    const int64_t shape_3[1] = {3};
    const char *fn = "fuzz_make_seeds";

    check(cs__npy_write_file(seed_path("npy", "f32-2x3"), CS__DTYPE_F32,
                             shape_2x3, 2, f32, fn),
          "cs__npy_write_file");
    check(cs__npy_write_file(seed_path("npy", "i64-4"), CS__DTYPE_I64, shape_4,
                             1, i64, fn),
          "cs__npy_write_file");
    check(cs__npy_write_file(seed_path("npy", "i32-2x2x2x2"), CS__DTYPE_I32,
                             shape_2222, 4, i32, fn),
          "cs__npy_write_file");
    check(cs__npy_write_file(seed_path("npy", "f64-scalar"), CS__DTYPE_F64,
                             NULL, 0, &f64, fn),
          "cs__npy_write_file");
    check(cs__npy_write_file(seed_path("npy", "u8-empty"), CS__DTYPE_U8,
                             shape_0, 1, NULL, fn),
          "cs__npy_write_file");
    check(cs__npy_write_file(seed_path("npy", "u8-3"), CS__DTYPE_U8, shape_3,
                             1, u8, fn),
          "cs__npy_write_file");
}

static void make_handmade_npy(void)
{
    const unsigned char eight[8] = {0x3f, 0xd0, 0, 0, 0, 0, 0, 0};
    const unsigned char bools[3] = {1, 0, 1};

    write_npy("big-endian-f8", 1,
              "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
              eight, 8);
    write_npy("fortran-column", 1,
              "{'descr': '<i2', 'fortran_order': True, 'shape': (4, 1), }",
              eight, 8);
    write_npy("fortran-matrix", 1,
              "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 1, 1), }",
              eight, 8);
    write_npy("bool", 1,
              "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
              bools, 3);
    write_npy("version-2", 2,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
              eight, 8);
    write_npy("version-3-utf8", 3,
              "{'descr': '<u1', 'fortran_order': False, 'shape': (8,), "
              "'x\xc3\xa9': 1}",
              eight, 8);
    write_npy("bad-dtype-complex", 1,
              "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
              eight, 8);
    write_npy("bad-dtype-unicode", 1,
              "{'descr': '<U2', 'fortran_order': False, 'shape': (1,), }",
              eight, 8);
    write_npy("huge-dims", 1,
              "{'descr': '<f8', 'fortran_order': False, "
              "'shape': (4294967296, 4294967296, 4294967296), }",
              eight, 8);
    write_npy("negative-dim", 1,
              "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
              eight, 8);
    write_npy("nine-dims", 1,
              "{'descr': '|u1', 'fortran_order': False, "
              "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 8), }",
              eight, 8);
    write_npy("zero-size-2d", 1,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }",
              NULL, 0);
    write_npy("trailing-bytes", 1,
              "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }",
              eight, 8);
    write_npy("missing-key", 1, "{'descr': '<f8', 'shape': (1,), }", eight, 8);
    write_npy("version-9", 9,
              "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
              eight, 8);
    write_bytes("npy", "truncated-preamble", "\x93NUMPY\x01\x00\x76", 9);
    write_bytes("npy", "wrong-magic", "\x93NUMPX\x01\x00\x10\x00{}", 12);
    write_bytes("npy", "empty", "", 0);
}

/* ---- .npz archives ------------------------------------------------------ */

/* Writes an archive of two .npy members through libzip: one deflated (as
 * numpy.savez_compressed() writes them) and one stored. */
static void make_deflated_npz(void)
{
    /* seed_path() reuses one buffer, and libzip reads the member file
     * only in zip_close(). */
    char npy_path[1024];
    char path[1024];
    snprintf(npy_path, sizeof npy_path, "%s", seed_path("npy", "f32-2x3"));
    snprintf(path, sizeof path, "%s", seed_path("npz", "deflated"));
    int error = 0;
    zip_t *zip = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &error);
    if (zip == NULL) {
        fail("cannot create %s (libzip error %d)", path, error);
        return;
    }

    zip_source_t *deflated = zip_source_file(zip, npy_path, 0, -1);
    zip_source_t *stored = zip_source_file(zip, npy_path, 0, -1);
    zip_int64_t first = -1;
    zip_int64_t second = -1;
    if (deflated != NULL)
        first = zip_file_add(zip, "scores.npy", deflated, ZIP_FL_OVERWRITE);
    if (stored != NULL)
        second = zip_file_add(zip, "other.npy", stored, ZIP_FL_OVERWRITE);
    if (first < 0 || second < 0 ||
        zip_set_file_compression(zip, (zip_uint64_t)first, ZIP_CM_DEFLATE,
                                 9) != 0 ||
        zip_set_file_compression(zip, (zip_uint64_t)second, ZIP_CM_STORE, 0) !=
            0) {
        fail("cannot add members to %s: %s", path, zip_strerror(zip));
        zip_discard(zip);
        return;
    }
    if (zip_close(zip) != 0) {
        fail("cannot write %s: %s", path, zip_strerror(zip));
        zip_discard(zip);
    }
}

static void make_npz_seeds(void)
{
    make_deflated_npz();
    write_bytes("npz", "not-a-zip", "PK\x05\x06not really", 15);
    write_bytes("npz", "empty", "", 0);
    /* The smallest valid zip: an end-of-central-directory record alone. */
    const unsigned char empty_zip[22] = {'P', 'K', 5, 6};
    write_bytes("npz", "no-members", empty_zip, sizeof empty_zip);
}

/* ---- IDX files ---------------------------------------------------------- */

static void write_gzip(const char *name, const void *data, size_t size)
{
    const char *path = seed_path("idx", name);
    gzFile gz = gzopen(path, "wb9");
    if (gz == NULL) {
        fail("cannot create %s", path);
        return;
    }
    const int written = gzwrite(gz, data, (unsigned)size);
    if (gzclose(gz) != Z_OK || written != (int)size)
        fail("cannot write %s", path);
}

static void make_idx_seeds(void)
{
    /* 3 images of 2 x 3 pixels, big-endian dimensions. */
    const unsigned char images[] = {0,  0,   8,   3,   0,   0,   0,  3,  0,
                                    0,  0,   2,   0,   0,   0,   3,  0,  1,
                                    2,  3,   4,   5,   10,  20,  30, 40, 50,
                                    60, 255, 254, 253, 252, 251, 250};
    const unsigned char labels[] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};
    const unsigned char floats[] = {0,    0,    0x0D, 1, 0,    0, 0, 2,
                                    0x3f, 0x80, 0,    0, 0x40, 0, 0, 0};
    const unsigned char shorts[] = {0, 0, 0x0B, 2, 0,    0,    0,    1,
                                    0, 0, 0,    2, 0x12, 0x34, 0xff, 0xfe};
    const unsigned char doubles[] = {0,    0,    0x0E, 1, 0, 0, 0, 1,
                                     0x3f, 0xf0, 0,    0, 0, 0, 0, 0};
    const unsigned char huge[] = {0,    0,    8,    4,    0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1};
    const unsigned char zero_dims[] = {0, 0, 8, 0, 42};
    const unsigned char zero_count[] = {0, 0, 8, 3, 0, 0, 0, 0,
                                        0, 0, 0, 2, 0, 0, 0, 2};
    const unsigned char bad_type[] = {0, 0, 0x07, 1, 0, 0, 0, 1, 9};
    const unsigned char bad_magic[] = {1, 0, 8, 1, 0, 0, 0, 1, 9};

    write_bytes("idx", "images-2x3", images, sizeof images);
    write_bytes("idx", "labels-2", labels, sizeof labels);
    write_gzip("images-2x3.gz", images, sizeof images);
    write_gzip("labels-2.gz", labels, sizeof labels);
    write_bytes("idx", "float-2", floats, sizeof floats);
    write_bytes("idx", "short-1x2", shorts, sizeof shorts);
    write_bytes("idx", "double-1", doubles, sizeof doubles);
    write_bytes("idx", "huge-dims", huge, sizeof huge);
    write_bytes("idx", "zero-dims", zero_dims, sizeof zero_dims);
    write_bytes("idx", "zero-count", zero_count, sizeof zero_count);
    write_bytes("idx", "bad-type", bad_type, sizeof bad_type);
    write_bytes("idx", "bad-magic", bad_magic, sizeof bad_magic);
    write_bytes("idx", "truncated-data", images, sizeof images - 5);
    write_bytes("idx", "truncated-header", images, 6);
    write_gzip("truncated-data.gz", images, sizeof images - 5);

    /* A gzip stream cut in the middle, and one with bytes after its end. */
    write_gzip("cut.gz", images, sizeof images);
    FILE *fp = fopen(seed_path("idx", "cut.gz"), "r+b");
    if (fp == NULL || ftruncate(fileno(fp), 20) != 0)
        fail("cannot cut %s", seed_path("idx", "cut.gz"));
    if (fp != NULL)
        fclose(fp);
}

/* ---- holdout record files ----------------------------------------------- */

/* A trainer that predicts the label of every example whose id is even or
 * in the training subset, so the counts differ between examples. */
static cs_status toy_train(const cs_holdout_run_info *run, int32_t *predicted,
                           double *test_accuracy, void *user_data)
{
    const int32_t *labels = user_data;
    for (size_t j = 0; j < run->n_examples; j++)
        predicted[j] = j % 2 == 0 ? labels[j] : (labels[j] + 1) % 3;
    for (size_t k = 0; k < run->n_train; k++)
        predicted[run->train_indices[k]] = labels[run->train_indices[k]];
    *test_accuracy = 0.5;
    return CS_OK;
}

static void make_holdout_seeds(void)
{
    enum { n = 12 };
    int32_t labels[n];
    for (int j = 0; j < n; j++)
        labels[j] = j % 3;

    cs_holdout_options options;
    cs_holdout_options_init(&options);
    options.n_ratios = 3;
    options.ratios[0] = 25;
    options.ratios[1] = 50;
    options.ratios[2] = 75;
    options.runs = 2;
    options.seed = 7;

    cs_holdout *holdout = NULL;
    check(cs_holdout_create(&options, labels, n, "fuzz seed trainer",
                            &holdout),
          "cs_holdout_create");
    if (holdout == NULL)
        return;
    cs_holdout_trainer trainer = {.struct_size = sizeof trainer,
                                  .train = toy_train,
                                  .user_data = labels};
    const char *path = seed_path("holdout", "run-12x3x2");
    remove(path);
    check(cs_holdout_open_records(holdout, path), "cs_holdout_open_records");
    check(cs_holdout_run(holdout, &trainer, NULL, NULL), "cs_holdout_run");
    cs_holdout_free(holdout);
}

/* Writes the first size bytes of the holdout seed under another name. */
static void cut_holdout_seed(const char *name, size_t size)
{
    unsigned char buffer[4096];
    FILE *fp = fopen(seed_path("holdout", "run-12x3x2"), "rb");
    const size_t got = fp != NULL ? fread(buffer, 1, sizeof buffer, fp) : 0;
    if (fp != NULL)
        fclose(fp);
    if (got < size) {
        fail("the holdout seed is shorter than %zu bytes", size);
        return;
    }
    write_bytes("holdout", name, buffer, size);
}

/* ---- YAML and CSV text -------------------------------------------------- */

static void make_yaml_seeds(void)
{
    write_text("bench_config", "minimal",
               "truth:\n  path: truth.npz\n"
               "proxy_files:\n  - name: mlp\n    path: proxies.npz\n"
               "output: results\n");
    write_text("bench_config", "every-key",
               "truth: {path: t.npy, key: integral}\n"
               "proxy_files:\n"
               "  - name: a\n    path: a.npz\n    keys: [cbtl, p_l_mean]\n"
               "  - name: b\n    path: /abs/b.csv\n    optional: true\n"
               "proxies: [cbtl, aum]\noutput: out\nbootstrap: 0\n"
               "confidence: 0.9\nseed: 18446744073709551615\n"
               "per_epoch: a\n"
               "label_noise:\n  name: noisy\n  path: n.npz\n"
               "  keys: [cbtl]\n  optional: false\n"
               "figures:\n  images: img.idx\n  score: cbtl\n"
               "  per_class: 64\n  class_names: [zero, 'one', \"two\"]\n");
    write_text("bench_config", "repeated-key",
               "truth:\n  path: a\n  path: b\nproxy_files: []\n");
    write_text("bench_config", "anchors",
               "truth: &t {path: x}\nproxy_files:\n  - *t\n  - <<: *t\n"
               "    name: y\noutput: o\n");
    write_text("bench_config", "wrong-types",
               "truth: [1, 2]\nproxy_files: {name: a}\noutput: 3\n"
               "bootstrap: -1\nconfidence: 1.5\nseed: -2\n");
    write_text("bench_config", "tab-and-unclosed",
               "truth:\n\tpath: x\nproxy_files: [\n");
    write_text("bench_config", "documents", "--- \n...\n--- !!map\n{}\n");
}

static void make_csv_seeds(void)
{
    write_text("csv", "quoted-crlf",
               "\"id\",\"label\",\"cbtl\"\r\n1,\"2\",\" 3.5 \"\r\n"
               "2,0,\"\"\r\n");
    write_text("csv", "special-numbers",
               "id,label,cbtl,x\n0,1,nan,a\n1,2,-inf,\"b,\"\"c\"\n"
               "2,3,1e308,\n3,4,   ,z\n");
    write_text("csv", "wrong-field-count", "id,label,cbtl\n1,2\n");
    write_text("csv", "unterminated-quote", "id,label,cbtl\n1,2,\"3\n");
    write_text("csv", "not-a-number", "id,label,cbtl\n1,2,0x1p3\n1,2,abc\n");
    write_text("csv", "repeated-header", "cbtl,id,label,cbtl\n1,2,3,4\n");
    write_text("csv", "header-only", "id,label,cbtl");
    write_text("csv", "empty", "");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
        return 2;
    }
    out_folder = argv[1];

    make_tracker_seeds();
    make_written_npy();
    make_handmade_npy();
    make_npz_seeds();
    make_idx_seeds();
    make_holdout_seeds();
    if (failures == 0) {
        /* The header of 12 labels is 44 + 17 + 48 + 4 = 113 bytes and
         * each record 40 + 2 * 2 + 4 = 48 bytes. */
        cut_holdout_seed("header-only", 113);
        cut_holdout_seed("torn-last-record", 113 + 48 + 30);
        cut_holdout_seed("truncated-header", 60);
    }
    make_yaml_seeds();
    make_csv_seeds();
    return failures == 0 ? 0 : 1;
}
