/*
 * Tests of the readers: .npy, .npz and CSV. They read the authors'
 * published C-score files, skipped with a message when CS_SHARED_DIR lacks
 * them. They read files that numpy writes in every supported dtype, byte
 * order and format version, and savez and savez_compressed archives,
 * skipped when Debian's /usr/bin/python3 lacks numpy. Hand-made malformed
 * files must each be rejected with their own status and message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal.h"

#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define PATH_SIZE 1024

/* Debian's interpreter, which has python3-numpy; -E keeps PYTHONPATH from
 * swapping in another numpy. */
#define SYSTEM_PYTHON "/usr/bin/python3"

#define PUBLISHED_DIR CS_SHARED_DIR "/data/published-cscores"

/* A fresh, empty folder per test. */
typedef struct fixture {
    char dir[PATH_SIZE / 2];
} fixture;

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void remove_tree(const char *path)
{
    struct stat info;
    if (lstat(path, &info) != 0)
        return;
    if (!S_ISDIR(info.st_mode)) {
        unlink(path);
        return;
    }

    DIR *dir = opendir(path);
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0)
            continue;
        char child[PATH_SIZE];
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        remove_tree(child);
    }
    if (dir != NULL)
        closedir(dir);
    rmdir(path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/cs-readers-XXXXXX",
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

static char *path_in(const fixture *f, const char *name, char *out)
{
    snprintf(out, PATH_SIZE, "%s/%s", f->dir, name);
    return out;
}

static void write_bytes(const char *path, const void *bytes, size_t size)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, size, fp), size);
    assert_int_equal(fclose(fp), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

static unsigned char *read_bytes(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    const long length = ftell(fp);
    assert_true(length >= 0);
    rewind(fp);
    unsigned char *bytes = malloc((size_t)length + 1);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)length, fp), (size_t)length);
    fclose(fp);
    *size = (size_t)length;
    return bytes;
}

/* Builds a .npy image: magic, version, header length (2 bytes for major
 * 1, else 4), the header text padded with spaces to a multiple of 64 and
 * ended by a newline, then data. Returns a malloc'd buffer. */
static unsigned char *npy_image(unsigned major, unsigned minor,
                                const char *header, const void *data,
                                size_t data_size, size_t *size)
{
    const size_t preamble = major == 1 ? 10 : 12;
    size_t text = strlen(header) + 1;
    text += (64 - (preamble + text) % 64) % 64;
    *size = preamble + text + data_size;

    unsigned char *image = malloc(*size);
    assert_non_null(image);
    memcpy(image, "\x93NUMPY", 6);
    image[6] = (unsigned char)major;
    image[7] = (unsigned char)minor;
    for (size_t k = 0; k < preamble - 8; k++)
        image[8 + k] = (unsigned char)(text >> (8 * k));
    memset(image + preamble, ' ', text);
    memcpy(image + preamble, header, strlen(header));
    image[preamble + text - 1] = '\n';
    if (data_size > 0)
        memcpy(image + preamble + text, data, data_size);
    return image;
}

static void write_npy(const char *path, unsigned major, unsigned minor,
                      const char *header, const void *data, size_t data_size)
{
    size_t size;
    unsigned char *image = npy_image(major, minor, header, data, data_size,
                                     &size);
    write_bytes(path, image, size);
    free(image);
}

/* Writes a zip archive of one member with libzip. */
static void write_zip(const char *path, const char *member, const void *bytes,
                      size_t size, int method)
{
    int error = 0;
    zip_t *archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &error);
    assert_non_null(archive);
    zip_source_t *source = zip_source_buffer(archive, bytes, size, 0);
    assert_non_null(source);
    const zip_int64_t index = zip_file_add(archive, member, source,
                                           ZIP_FL_OVERWRITE);
    assert_true(index >= 0);
    assert_int_equal(zip_set_file_compression(archive, (zip_uint64_t)index,
                                              method, 0),
                     0);
    assert_int_equal(zip_close(archive), 0);
}

/* A .npy image of n float64 values 0.5 * (i % 100), which deflates well. */
static unsigned char *float64_image(size_t n, size_t *size)
{
    double *values = malloc(n * sizeof *values);
    assert_non_null(values);
    for (size_t i = 0; i < n; i++)
        values[i] = 0.5 * (double)(i % 100);
    char header[128];
    snprintf(header, sizeof header,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu,), }", n);
    unsigned char *image = npy_image(1, 0, header, values, n * sizeof *values,
                                     size);
    free(values);
    return image;
}

static void put_u16(unsigned char *p, unsigned value)
{
    p[0] = (unsigned char)value;
    p[1] = (unsigned char)(value >> 8);
}

static void put_u32(unsigned char *p, uint32_t value)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(value >> (8 * k));
}

/* Offsets of the first local header (0) and of the first central
 * directory entry of a one-member archive. */
static size_t central_entry(const unsigned char *bytes, size_t size)
{
    for (size_t k = size - 4; k > 0; k--)
        if (memcmp(bytes + k, "PK\x01\x02", 4) == 0)
            return k;
    fail_msg("no central directory entry");
    return 0;
}

/* Field offsets in a zip local header and in a central directory entry
 * (APPNOTE.TXT 4.3.7 and 4.3.12). */
#define LOCAL_METHOD 8
#define LOCAL_CRC 14
#define LOCAL_UNCOMPRESSED 22
#define CENTRAL_METHOD 10
#define CENTRAL_CRC 16
#define CENTRAL_UNCOMPRESSED 24

#define assert_message_contains(text_)                                        \
    assert_non_null(strstr(cs_last_error_message(), (text_)))

/* The last error is CS_E_FORMAT and names the file and the problem. */
#define assert_format_error(status_, path_, text_)                            \
    do {                                                                      \
        assert_int_equal((status_), CS_E_FORMAT);                             \
        assert_message_contains(path_);                                       \
        assert_message_contains(text_);                                       \
        assert_string_equal(cs_last_error()->path, (path_));                  \
    } while (0)

static bool system_numpy_available(void)
{
    if (access(SYSTEM_PYTHON, X_OK) != 0)
        return false;
    return system(SYSTEM_PYTHON " -E -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* ------------------------------------------------------------------------
 * The published C-scores
 * ------------------------------------------------------------------------ */

static bool published_file_present(const char *path)
{
    if (access(path, R_OK) == 0)
        return true;
    printf("skipped: %s is absent; the published C-scores ship only beside "
           "the project's development checkout\n",
           path);
    return false;
}

/* Checks the labels and scores of a published CIFAR file against values
 * that numpy 1.24 reads from it. */
static void check_published_npz(const char *path, int64_t n_classes,
                                int64_t label_sum, double first_score,
                                double last_score, double score_sum)
{
    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path, &npz), CS_OK);
    assert_int_equal(cs_npz_count(npz), 2);
    assert_string_equal(cs_npz_key(npz, 0), "labels");
    assert_string_equal(cs_npz_key(npz, 1), "scores");

    cs_array *labels = NULL, *scores = NULL;
    assert_int_equal(cs_npz_read(npz, "labels", &labels), CS_OK);
    assert_int_equal(cs_npz_read(npz, "scores.npy", &scores), CS_OK);
    cs_npz_close(npz);

    assert_int_equal(labels->type, CS_ELEMENT_INT64);
    assert_int_equal(labels->ndim, 1);
    assert_int_equal(labels->shape[0], 50000);
    int64_t sum = 0;
    const int64_t *l = labels->data;
    for (size_t i = 0; i < labels->count; i++) {
        assert_in_range(l[i], 0, n_classes - 1);
        sum += l[i];
    }
    assert_int_equal(sum, label_sum);

    assert_int_equal(scores->type, CS_ELEMENT_FLOAT64);
    assert_int_equal(scores->count, 50000);
    const double *s = scores->data;
    double total = 0.0;
    for (size_t i = 0; i < scores->count; i++)
        total += s[i];
    assert_true(s[0] == first_score);
    assert_true(s[49999] == last_score);
    assert_true(fabs(total - score_sum) < 1e-6);

    cs_array_free(labels);
    cs_array_free(scores);
}

static void published_cifar10(void **state)
{
    (void)state;
    const char *path = PUBLISHED_DIR "/cifar10-cscores-orig-order.npz";
    if (!published_file_present(path))
        skip();
    check_published_npz(path, 10, 225000, 0.7031369162340079,
                        0.2392515083221357, 38200.33390653538);
}

/* The CIFAR-100 members are deflated. */
static void published_cifar100(void **state)
{
    (void)state;
    const char *path = PUBLISHED_DIR "/cifar100-cscores-orig-order.npz";
    if (!published_file_present(path))
        skip();
    check_published_npz(path, 100, 2475000, 0.3201686389287021,
                        0.9802685694150868, 28218.43255906593);
}

static void published_mnist(void **state)
{
    (void)state;
    const char *path = PUBLISHED_DIR "/mnist-cscores.npy";
    if (!published_file_present(path))
        skip();

    cs_array *scores = NULL;
    assert_int_equal(cs_npy_read(path, &scores), CS_OK);
    assert_int_equal(scores->type, CS_ELEMENT_FLOAT64);
    assert_int_equal(scores->ndim, 1);
    assert_int_equal(scores->shape[0], 60000);
    const double *s = scores->data;
    double total = 0.0;
    for (size_t i = 0; i < scores->count; i++) {
        assert_true(s[i] >= 0.0 && s[i] <= 1.0);
        total += s[i];
    }
    assert_true(fabs(total - 58415.452007944215) < 1e-6);
    cs_array_free(scores);
}

/* ------------------------------------------------------------------------
 * Files that numpy writes
 * ------------------------------------------------------------------------ */

/* Writes every fixture into the folder given as argv[1]. Values follow
 * base(i) = (7 i mod 11) - 5 so that the C side can recompute them. */
static const char numpy_writer_script[] =
    "import os, sys, zipfile\n"
    "import numpy as np\n"
    "from numpy.lib import format as fmt\n"
    "d = sys.argv[1]\n"
    "base = (np.arange(12) * 7 % 11) - 5\n"
    "kinds = {'bool': (base > 0, ['|b1']),\n"
    "         'uint8': (base + 5, ['|u1']),\n"
    "         'int32': (base * 1000003, ['<i4', '>i4']),\n"
    "         'int64': (base * 10**15, ['<i8', '>i8']),\n"
    "         'float32': (base + 0.25, ['<f4', '>f4']),\n"
    "         'float64': (base + 0.25, ['<f8', '>f8'])}\n"
    "for name, (values, descrs) in kinds.items():\n"
    "    for descr in descrs:\n"
    "        a = values.astype(np.dtype(descr)).reshape(3, 4)\n"
    "        order = 'be' if descr[0] == '>' else 'le'\n"
    "        for major in (1, 2, 3):\n"
    "            path = os.path.join(d, '%s_%s_v%d.npy' % (name, order, "
    "major))\n"
    "            with open(path, 'wb') as f:\n"
    "                fmt.write_array(f, a, version=(major, 0))\n"
    "def fortran(path, shape, values):\n"
    "    with open(os.path.join(d, path), 'wb') as f:\n"
    "        fmt.write_array_header_1_0(f, {'descr': '<f8', "
    "'fortran_order': True, 'shape': shape})\n"
    "        f.write(values.astype('<f8').tobytes())\n"
    "fortran('fortran_1d.npy', (5,), np.arange(5) * 1.5)\n"
    "fortran('fortran_row.npy', (1, 4), np.arange(4) * 1.5)\n"
    "assert np.load(os.path.join(d, 'fortran_1d.npy'))[4] == 6.0\n"
    "np.save(os.path.join(d, 'fortran_2d.npy'), "
    "np.asfortranarray(np.arange(12.0).reshape(3, 4)))\n"
    "np.save(os.path.join(d, 'scalar.npy'), np.float64(2.5))\n"
    "np.save(os.path.join(d, 'empty.npy'), np.zeros((0, 3)))\n"
    "np.save(os.path.join(d, 'cube.npy'), "
    "np.arange(24, dtype=np.int32).reshape(2, 3, 4))\n"
    "labels = np.arange(10, dtype=np.int64) % 3\n"
    "scores = np.linspace(0.0, 1.0, 10)\n"
    "big = np.arange(200000) % 1000 * 0.001\n"
    "np.savez(os.path.join(d, 'stored.npz'), labels=labels, scores=scores)\n"
    "np.savez_compressed(os.path.join(d, 'deflated.npz'), labels=labels, "
    "scores=scores, big=big)\n"
    "np.savez(os.path.join(d, 'positional.npz'), labels, scores)\n"
    "with zipfile.ZipFile(os.path.join(d, 'mixed.npz'), 'w') as z:\n"
    "    z.writestr('notes.txt', 'not an array')\n"
    "    with z.open('a.npy', 'w') as f:\n"
    "        fmt.write_array(f, scores)\n";

static void write_numpy_fixtures(const fixture *f)
{
    char script[PATH_SIZE], command[3 * PATH_SIZE];
    write_text(path_in(f, "writer.py", script), numpy_writer_script);
    snprintf(command, sizeof command, SYSTEM_PYTHON " -E %s %s", script,
             f->dir);
    assert_int_equal(system(command), 0);
}

static double base_value(size_t i)
{
    return (double)((int)(i * 7 % 11) - 5);
}

/* Checks a 3 x 4 array written by the script for one element type. */
static void check_numpy_array(const cs_array *a, cs_element_type type)
{
    assert_int_equal(a->type, type);
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[0], 3);
    assert_int_equal(a->shape[1], 4);
    assert_int_equal(a->count, 12);

    for (size_t i = 0; i < 12; i++) {
        const double b = base_value(i);
        switch (type) {
        case CS_ELEMENT_BOOL:
            assert_int_equal(((const uint8_t *)a->data)[i], b > 0);
            break;
        case CS_ELEMENT_UINT8:
            assert_int_equal(((const uint8_t *)a->data)[i], b + 5);
            break;
        case CS_ELEMENT_INT32:
            assert_int_equal(((const int32_t *)a->data)[i],
                             (int32_t)b * 1000003);
            break;
        case CS_ELEMENT_INT64:
            assert_true(((const int64_t *)a->data)[i] ==
                        (int64_t)b * INT64_C(1000000000000000));
            break;
        case CS_ELEMENT_FLOAT32:
            assert_true(((const float *)a->data)[i] == (float)(b + 0.25));
            break;
        case CS_ELEMENT_FLOAT64:
            assert_true(((const double *)a->data)[i] == b + 0.25);
            break;
        }
    }
}

static void numpy_npy_every_dtype_order_version(void **state)
{
    fixture *f = *state;
    if (!system_numpy_available()) {
        printf("skipped: " SYSTEM_PYTHON " cannot import numpy; install "
               "Debian's python3-numpy\n");
        skip();
    }
    write_numpy_fixtures(f);

    const struct {
        const char *name;
        cs_element_type type;
        bool both_orders;
    } kinds[] = {
        {"bool", CS_ELEMENT_BOOL, false},
        {"uint8", CS_ELEMENT_UINT8, false},
        {"int32", CS_ELEMENT_INT32, true},
        {"int64", CS_ELEMENT_INT64, true},
        {"float32", CS_ELEMENT_FLOAT32, true},
        {"float64", CS_ELEMENT_FLOAT64, true},
    };
    int files = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int order = 0; order < (kinds[k].both_orders ? 2 : 1); order++) {
            for (int major = 1; major <= 3; major++) {
                char name[64], path[PATH_SIZE];
                snprintf(name, sizeof name, "%s_%s_v%d.npy", kinds[k].name,
                         order == 0 ? "le" : "be", major);
                cs_array *a = NULL;
                assert_int_equal(cs_npy_read(path_in(f, name, path), &a),
                                 CS_OK);
                check_numpy_array(a, kinds[k].type);
                cs_array_free(a);
                files++;
            }
        }
    }
    assert_int_equal(files, 30);
}

static void numpy_npy_layouts(void **state)
{
    fixture *f = *state;
    if (!system_numpy_available()) {
        printf("skipped: " SYSTEM_PYTHON " cannot import numpy\n");
        skip();
    }
    write_numpy_fixtures(f);
    char path[PATH_SIZE];
    cs_array *a = NULL;

    assert_int_equal(cs_npy_read(path_in(f, "fortran_1d.npy", path), &a),
                     CS_OK);
    assert_int_equal(a->count, 5);
    assert_true(((const double *)a->data)[4] == 6.0);
    cs_array_free(a);

    assert_int_equal(cs_npy_read(path_in(f, "fortran_row.npy", path), &a),
                     CS_OK);
    assert_int_equal(a->ndim, 2);
    assert_true(((const double *)a->data)[3] == 4.5);
    cs_array_free(a);

    const cs_status st = cs_npy_read(path_in(f, "fortran_2d.npy", path), &a);
    assert_format_error(st, path, "Fortran-order");
    assert_null(a);

    assert_int_equal(cs_npy_read(path_in(f, "scalar.npy", path), &a), CS_OK);
    assert_int_equal(a->ndim, 0);
    assert_int_equal(a->count, 1);
    assert_true(((const double *)a->data)[0] == 2.5);
    cs_array_free(a);

    assert_int_equal(cs_npy_read(path_in(f, "empty.npy", path), &a), CS_OK);
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[0], 0);
    assert_int_equal(a->shape[1], 3);
    assert_int_equal(a->count, 0);
    cs_array_free(a);

    assert_int_equal(cs_npy_read(path_in(f, "cube.npy", path), &a), CS_OK);
    assert_int_equal(a->type, CS_ELEMENT_INT32);
    assert_int_equal(a->ndim, 3);
    assert_int_equal(((const int32_t *)a->data)[23], 23);
    cs_array_free(a);
}

static void check_labels_and_scores(cs_npz *npz)
{
    cs_array *labels = NULL, *scores = NULL;
    assert_int_equal(cs_npz_read(npz, "labels.npy", &labels), CS_OK);
    assert_int_equal(cs_npz_read(npz, "scores", &scores), CS_OK);
    assert_int_equal(labels->type, CS_ELEMENT_INT64);
    assert_int_equal(scores->type, CS_ELEMENT_FLOAT64);
    assert_int_equal(labels->count, 10);
    assert_int_equal(scores->count, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(((const int64_t *)labels->data)[i], (int64_t)i % 3);
        assert_true(fabs(((const double *)scores->data)[i] - (double)i / 9) <
                    1e-15);
    }
    cs_array_free(labels);
    cs_array_free(scores);
}

/* numpy.savez stores members and writes zip64 extra fields in the local
 * headers; savez_compressed deflates them. */
static void numpy_savez_and_savez_compressed(void **state)
{
    fixture *f = *state;
    if (!system_numpy_available()) {
        printf("skipped: " SYSTEM_PYTHON " cannot import numpy\n");
        skip();
    }
    write_numpy_fixtures(f);
    char path[PATH_SIZE];
    cs_npz *npz = NULL;

    assert_int_equal(cs_npz_open(path_in(f, "stored.npz", path), &npz), CS_OK);
    assert_int_equal(cs_npz_count(npz), 2);
    check_labels_and_scores(npz);
    cs_npz_close(npz);

    assert_int_equal(cs_npz_open(path_in(f, "deflated.npz", path), &npz),
                     CS_OK);
    assert_int_equal(cs_npz_count(npz), 3);
    assert_int_equal(cs_npz_contains(npz, "big"), 1);
    assert_int_equal(cs_npz_contains(npz, "big.npy"), 1);
    assert_int_equal(cs_npz_contains(npz, "bi"), 0);
    check_labels_and_scores(npz);
    cs_array *big = NULL;
    assert_int_equal(cs_npz_read(npz, "big", &big), CS_OK);
    assert_int_equal(big->count, 200000);
    assert_true(((const double *)big->data)[199999] == 999 * 0.001);
    cs_array_free(big);
    cs_npz_close(npz);

    assert_int_equal(cs_npz_open(path_in(f, "positional.npz", path), &npz),
                     CS_OK);
    assert_string_equal(cs_npz_key(npz, 0), "arr_0");
    assert_string_equal(cs_npz_key(npz, 1), "arr_1");
    assert_null(cs_npz_key(npz, 2));
    cs_npz_close(npz);
}

static void npz_member_without_npy_suffix(void **state)
{
    fixture *f = *state;
    if (!system_numpy_available()) {
        printf("skipped: " SYSTEM_PYTHON " cannot import numpy\n");
        skip();
    }
    write_numpy_fixtures(f);
    char path[PATH_SIZE];
    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path_in(f, "mixed.npz", path), &npz), CS_OK);
    assert_string_equal(cs_npz_key(npz, 0), "notes.txt");
    assert_string_equal(cs_npz_key(npz, 1), "a");

    cs_array *a = NULL;
    assert_int_equal(cs_npz_read(npz, "a", &a), CS_OK);
    cs_array_free(a);
    const cs_status st = cs_npz_read(npz, "notes.txt", &a);
    assert_format_error(st, path, "member notes.txt");
    assert_message_contains("magic");
    assert_null(a);
    cs_npz_close(npz);
}

/* ------------------------------------------------------------------------
 * Hand-made .npy files: every version and byte order, then malformed ones
 * ------------------------------------------------------------------------ */

static void npy_versions_and_byte_orders(void **state)
{
    fixture *f = *state;
    const unsigned char big_endian[] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
                                        0xc0, 0x04, 0, 0, 0, 0, 0, 0};
    const double little_endian[] = {1.5, -2.5};
    char path[PATH_SIZE];
    path_in(f, "a.npy", path);

    for (unsigned major = 1; major <= 3; major++) {
        write_npy(path, major, 0,
                  "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
                  big_endian, sizeof big_endian);
        cs_array *a = NULL;
        assert_int_equal(cs_npy_read(path, &a), CS_OK);
        assert_true(((const double *)a->data)[0] == 1.5);
        assert_true(((const double *)a->data)[1] == -2.5);
        cs_array_free(a);
    }

    /* '=' is the writer's native order, read as the host's; "2L" is how
     * Python 2 wrote dimensions. */
    write_npy(path, 1, 0,
              "{\"descr\": \"=f8\", \"fortran_order\": False, "
              "\"shape\": (2L,)}",
              little_endian, sizeof little_endian);
    cs_array *a = NULL;
    assert_int_equal(cs_npy_read(path, &a), CS_OK);
    assert_true(((const double *)a->data)[1] == -2.5);
    cs_array_free(a);

    /* Nonzero bool bytes read as 1. */
    const unsigned char flags[] = {0, 1, 7};
    write_npy(path, 1, 0,
              "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
              flags, 3);
    assert_int_equal(cs_npy_read(path, &a), CS_OK);
    assert_int_equal(((const uint8_t *)a->data)[2], 1);
    cs_array_free(a);
}

/* One malformed .npy file per case, each with its status and message. */
typedef struct npy_case {
    const char *name;
    unsigned major, minor;
    const char *header;
    size_t data_size;
    cs_status status;
    const char *message;
} npy_case;

static void npy_malformed_headers(void **state)
{
    fixture *f = *state;
    static const npy_case cases[] = {
        {"truncated", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }", 40,
         CS_E_FORMAT, "truncated"},
        {"shape lie", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", 80,
         CS_E_FORMAT, "needs 40 bytes of data but the file has 80"},
        {"complex", 1, 0,
         "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16,
         CS_E_FORMAT, "dtype '<c16' is not supported"},
        {"int16", 1, 0,
         "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", 2,
         CS_E_FORMAT, "dtype '<i2' is not supported"},
        {"bar on int32", 1, 0,
         "{'descr': '|i4', 'fortran_order': False, 'shape': (1,), }", 4,
         CS_E_FORMAT, "dtype '|i4' is not supported"},
        {"structured", 1, 0,
         "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), "
         "}",
         4, CS_E_FORMAT, "structured dtypes"},
        {"count overflow", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, "
         "'shape': (4611686018427387904, 8), }",
         0, CS_E_FORMAT, "element count overflows"},
        {"byte overflow", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, "
         "'shape': (4611686018427387904,), }",
         0, CS_E_FORMAT, "byte count overflows"},
        {"dimension overflow", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, "
         "'shape': (99999999999999999999,), }",
         0, CS_E_FORMAT, "a dimension below 2^63"},
        {"version 4", 4, 0,
         "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", 0,
         CS_E_UNSUPPORTED_VERSION, "version 4.0 is not supported"},
        {"version 1.1", 1, 1,
         "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", 0,
         CS_E_UNSUPPORTED_VERSION, "version 1.1 is not supported"},
        {"missing shape", 1, 0, "{'descr': '<f8', 'fortran_order': False, }",
         0, CS_E_FORMAT, "lacks one of"},
        {"unknown key", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), "
         "'extra': 1, }",
         0, CS_E_FORMAT, "unknown header key 'extra'"},
        {"fortran 2-D", 1, 0,
         "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 32,
         CS_E_FORMAT, "Fortran-order"},
        {"text after dict", 1, 0,
         "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), } x", 0,
         CS_E_FORMAT, "only spaces after the header's '}'"},
        {"not a dict", 1, 0, "['descr']", 0, CS_E_FORMAT,
         "expected '{' opening the header"},
        {"bad bool", 1, 0,
         "{'descr': '<f8', 'fortran_order': 0, 'shape': (0,), }", 0,
         CS_E_FORMAT, "expected True or False"},
        {"open string", 1, 0, "{'descr", 0, CS_E_FORMAT,
         "expected a closing quote"},
    };
    char path[PATH_SIZE];
    path_in(f, "bad.npy", path);
    unsigned char *zeros = calloc(1, 128);
    assert_non_null(zeros);

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const npy_case *c = &cases[k];
        write_npy(path, c->major, c->minor, c->header, zeros, c->data_size);
        cs_array *a = (cs_array *)zeros;
        const cs_status st = cs_npy_read(path, &a);
        if (st != c->status ||
            strstr(cs_last_error_message(), c->message) == NULL)
            fail_msg("case '%s': status %s, message '%s'", c->name,
                     cs_status_name(st), cs_last_error_message());
        assert_null(a);
        assert_message_contains(path);
        assert_string_equal(cs_last_error()->function, "cs_npy_read");
        assert_string_equal(cs_last_error()->path, path);
    }
    free(zeros);
}

static void npy_malformed_preambles(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    cs_array *a = NULL;
    path_in(f, "bad.npy", path);

    write_bytes(path, "\x93NUMPX\x01\x00\x10\x00{}", 12);
    cs_status st = cs_npy_read(path, &a);
    assert_format_error(st, path, "magic");
    assert_int_equal(cs_last_error()->offset, 0);

    write_bytes(path, "\x93NUM", 5);
    st = cs_npy_read(path, &a);
    assert_format_error(st, path, "fewer than a .npy preamble");

    write_bytes(path, "\x93NUMPY\x01\x00\xff\x00{'descr'", 17);
    st = cs_npy_read(path, &a);
    assert_format_error(st, path, "the header claims 255 bytes");

    write_bytes(path, "\x93NUMPY\x02\x00\x01", 9);
    st = cs_npy_read(path, &a);
    assert_format_error(st, path, "fewer than a .npy preamble");

    write_bytes(path, "\x93NUMPY\x02\x00\x01\x00", 10);
    st = cs_npy_read(path, &a);
    assert_format_error(st, path, "the data ends inside the header length");

    write_bytes(path, "", 0);
    st = cs_npy_read(path, &a);
    assert_format_error(st, path, "has 0 bytes");
    assert_null(a);
}

static void npy_io_errors(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    cs_array *a = (cs_array *)path;

    assert_int_equal(cs_npy_read(path_in(f, "absent.npy", path), &a), CS_E_IO);
    assert_null(a);
    assert_message_contains("cannot open");
    assert_message_contains("absent.npy");

    assert_int_equal(cs_npy_read(f->dir, &a), CS_E_IO);
    assert_message_contains("not a regular file");

    assert_int_equal(cs_npy_read(NULL, &a), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "path");
    assert_int_equal(cs_npy_read(path, NULL), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "out");
}

static void npy_allocation_failures(void **state)
{
    fixture *f = *state;
    const double values[] = {1, 2, 3};
    char path[PATH_SIZE];
    write_npy(path_in(f, "a.npy", path), 1, 0,
              "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
              values, sizeof values);

    for (long k = 1;; k++) {
        cs_array *a = (cs_array *)path;
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs_npy_read(path, &a);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK) {
            cs_array_free(a);
            break;
        }
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        assert_null(a);
    }
}

/* ------------------------------------------------------------------------
 * Malformed .npz archives
 * ------------------------------------------------------------------------ */

static void npz_not_a_zip(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    write_text(path_in(f, "text.npz", path), "labels,scores\n1,0.5\n");
    cs_npz *npz = (cs_npz *)path;

    const cs_status st = cs_npz_open(path, &npz);
    assert_format_error(st, path, "not a valid .npz (zip) archive");
    assert_null(npz);

    assert_int_equal(cs_npz_open(path_in(f, "absent.npz", path), &npz),
                     CS_E_IO);
    assert_message_contains("absent.npz");
    assert_int_equal(cs_npz_open(f->dir, &npz), CS_E_IO);
    assert_int_equal(cs_npz_open(NULL, &npz), CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_npz_open(path, NULL), CS_E_NULL_ARGUMENT);
}

static void npz_truncated_archive(void **state)
{
    fixture *f = *state;
    size_t image_size, size;
    unsigned char *image = float64_image(1000, &image_size);
    char path[PATH_SIZE];
    write_zip(path_in(f, "cut.npz", path), "x.npy", image, image_size,
              ZIP_CM_STORE);
    unsigned char *bytes = read_bytes(path, &size);
    write_bytes(path, bytes, size / 2);

    cs_npz *npz = NULL;
    const cs_status st = cs_npz_open(path, &npz);
    assert_format_error(st, path, "not a valid .npz (zip) archive");
    assert_null(npz);
    free(bytes);
    free(image);
}

static void npz_missing_member(void **state)
{
    fixture *f = *state;
    size_t image_size;
    unsigned char *image = float64_image(4, &image_size);
    char path[PATH_SIZE];
    write_zip(path_in(f, "one.npz", path), "scores.npy", image, image_size,
              ZIP_CM_DEFLATE);

    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path, &npz), CS_OK);
    cs_array *a = (cs_array *)path;
    assert_int_equal(cs_npz_read(npz, "integral", &a), CS_E_INVALID_ARGUMENT);
    assert_null(a);
    assert_message_contains("has no member 'integral'");
    assert_message_contains("its keys are: scores");
    assert_string_equal(cs_last_error()->argument, "key");
    assert_string_equal(cs_last_error()->value, "integral");

    assert_int_equal(cs_npz_read(npz, NULL, &a), CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_npz_read(NULL, "scores", &a), CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_npz_read(npz, "scores", NULL), CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_npz_contains(npz, NULL), -1);
    assert_int_equal(cs_npz_count(NULL), 0);
    assert_null(cs_npz_key(NULL, 0));
    cs_npz_close(npz);
    cs_npz_close(NULL);
    free(image);
}

/* Flips bytes in the middle of a deflate stream: zlib or the CRC check
 * rejects the member. */
static void npz_corrupt_deflate_stream(void **state)
{
    fixture *f = *state;
    size_t image_size, size;
    unsigned char *image = float64_image(20000, &image_size);
    char path[PATH_SIZE];
    write_zip(path_in(f, "corrupt.npz", path), "x.npy", image, image_size,
              ZIP_CM_DEFLATE);
    unsigned char *bytes = read_bytes(path, &size);
    const size_t data_start = 30 + 5; /* local header, then "x.npy" */
    const size_t data_end = central_entry(bytes, size);
    for (size_t k = data_start + (data_end - data_start) / 3;
         k < data_start + (data_end - data_start) / 2; k += 7)
        bytes[k] ^= 0x5a;
    write_bytes(path, bytes, size);

    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path, &npz), CS_OK);
    cs_array *a = NULL;
    const cs_status st = cs_npz_read(npz, "x", &a);
    assert_format_error(st, path, "member x.npy");
    assert_null(a);
    cs_npz_close(npz);
    free(bytes);
    free(image);
}

/* Rewrites a field of the member in both the local header and the central
 * directory, so that the archive stays self-consistent. */
static void patch_member(const char *path, size_t local_offset,
                         size_t central_offset, int width, uint32_t value)
{
    size_t size;
    unsigned char *bytes = read_bytes(path, &size);
    const size_t central = central_entry(bytes, size);
    if (width == 2) {
        put_u16(bytes + local_offset, value);
        put_u16(bytes + central + central_offset, value);
    } else {
        put_u32(bytes + local_offset, value);
        put_u32(bytes + central + central_offset, value);
    }
    write_bytes(path, bytes, size);
    free(bytes);
}

static cs_status read_only_member(const char *path, const char *key)
{
    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path, &npz), CS_OK);
    cs_array *a = (cs_array *)npz;
    const cs_status st = cs_npz_read(npz, key, &a);
    assert_null(a);
    cs_npz_close(npz);
    return st;
}

static void npz_sizes_checked(void **state)
{
    fixture *f = *state;
    size_t image_size;
    unsigned char *image = float64_image(100, &image_size);
    char path[PATH_SIZE];
    path_in(f, "sizes.npz", path);

    /* A stored member whose uncompressed size differs from its stored
     * size. */
    write_zip(path, "x.npy", image, image_size, ZIP_CM_STORE);
    patch_member(path, LOCAL_UNCOMPRESSED, CENTRAL_UNCOMPRESSED, 4,
                 (uint32_t)image_size * 1000);
    cs_status st = read_only_member(path, "x");
    assert_format_error(st, path, "differs from its size in the archive");
    assert_message_contains("member x.npy");

    /* A deflated member claiming far more than deflate can expand to. */
    write_zip(path, "x.npy", image, image_size, ZIP_CM_DEFLATE);
    patch_member(path, LOCAL_UNCOMPRESSED, CENTRAL_UNCOMPRESSED, 4,
                 UINT32_C(0xfffffff0));
    st = read_only_member(path, "x");
    assert_format_error(st, path, "deflated bytes can hold");

    /* A compression method numpy never writes (12 is bzip2). */
    write_zip(path, "x.npy", image, image_size, ZIP_CM_STORE);
    patch_member(path, LOCAL_METHOD, CENTRAL_METHOD, 2, 12);
    st = read_only_member(path, "x");
    assert_format_error(st, path, "compression method 12 is not supported");

    /* A stored member whose CRC does not match. */
    write_zip(path, "x.npy", image, image_size, ZIP_CM_STORE);
    patch_member(path, LOCAL_CRC, CENTRAL_CRC, 4, UINT32_C(0x12345678));
    st = read_only_member(path, "x");
    assert_format_error(st, path, "member x.npy");
    free(image);
}

/* A member whose .npy header lies about its shape. */
static void npz_member_shape_lie(void **state)
{
    fixture *f = *state;
    const double values[] = {1, 2, 3};
    size_t image_size;
    unsigned char *image = npy_image(1, 0,
                                     "{'descr': '<f8', 'fortran_order': "
                                     "False, 'shape': (300,), }",
                                     values, sizeof values, &image_size);
    char path[PATH_SIZE];
    path_in(f, "lie.npz", path);

    for (int method = 0; method < 2; method++) {
        write_zip(path, "x.npy", image, image_size,
                  method == 0 ? ZIP_CM_STORE : ZIP_CM_DEFLATE);
        const cs_status st = read_only_member(path, "x.npy");
        assert_format_error(st, path, "member x.npy");
        assert_message_contains("needs 2400 bytes of data but the file has "
                                "24");
    }
    free(image);
}

static void npz_allocation_failures(void **state)
{
    fixture *f = *state;
    size_t image_size;
    unsigned char *image = float64_image(50, &image_size);
    char path[PATH_SIZE];
    write_zip(path_in(f, "ok.npz", path), "x.npy", image, image_size,
              ZIP_CM_DEFLATE);

    for (long k = 1;; k++) {
        cs_npz *npz = (cs_npz *)path;
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs_npz_open(path, &npz);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK) {
            cs_npz_close(npz);
            break;
        }
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        assert_null(npz);
    }

    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path, &npz), CS_OK);
    for (long k = 1;; k++) {
        cs_array *a = (cs_array *)path;
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs_npz_read(npz, "x", &a);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK) {
            assert_int_equal(a->count, 50);
            cs_array_free(a);
            break;
        }
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        assert_null(a);
    }
    cs_npz_close(npz);
    free(image);
}

/* ------------------------------------------------------------------------
 * Conversions
 * ------------------------------------------------------------------------ */

static void array_to_float64_every_type(void **state)
{
    fixture *f = *state;
    const struct {
        const char *descr;
        const void *data;
        size_t size;
        cs_element_type type;
        const char *name;
    } kinds[] = {
        {"|b1", "\x00\x01", 2, CS_ELEMENT_BOOL, "bool"},
        {"|u1", "\x00\xff", 2, CS_ELEMENT_UINT8, "uint8"},
        {"<i4", "\x00\x00\x00\x00\xff\xff\xff\xff", 8, CS_ELEMENT_INT32,
         "int32"},
        {"<i8", "\0\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 16,
         CS_ELEMENT_INT64, "int64"},
        {"<f4", "\0\0\0\0\x00\x00\x80\xbf", 8, CS_ELEMENT_FLOAT32, "float32"},
        {"<f8", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xf0\xbf", 16, CS_ELEMENT_FLOAT64,
         "float64"},
    };
    const double last[] = {1, 255, -1, -1, -1, -1};
    char path[PATH_SIZE], header[128];
    path_in(f, "a.npy", path);

    for (size_t k = 0; k < 6; k++) {
        snprintf(header, sizeof header,
                 "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
                 kinds[k].descr);
        write_npy(path, 1, 0, header, kinds[k].data, kinds[k].size);
        cs_array *a = NULL;
        assert_int_equal(cs_npy_read(path, &a), CS_OK);
        assert_int_equal(a->type, kinds[k].type);
        assert_string_equal(cs_element_type_name(a->type), kinds[k].name);
        double values[2] = {42, 42};
        assert_int_equal(cs_array_to_float64(a, values), CS_OK);
        assert_true(values[0] == 0.0);
        assert_true(values[1] == last[k]);
        assert_int_equal(cs_array_to_float64(a, NULL), CS_E_NULL_ARGUMENT);
        cs_array_free(a);
    }
    assert_null(cs_element_type_name((cs_element_type)6));
    assert_int_equal(cs_array_to_float64(NULL, (double[1]){0}),
                     CS_E_NULL_ARGUMENT);
    cs_array_free(NULL);
}

/* ------------------------------------------------------------------------
 * CSV
 * ------------------------------------------------------------------------ */

static void csv_columns_by_name(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    write_text(path_in(f, "scores.csv", path),
               "id,score,label,note\n"
               "0,0.5,1,plain\n"
               "1,,0,empty score\n"
               "2, nan ,1,\"quoted, with comma\"\n"
               "\n"
               "3,-1e-3,\"0\",\"a \"\"quote\"\"\"\n"
               "4,  ,1,\"two\nlines\"\n");
    const char *names[] = {"label", "score"};
    cs_array *columns[2] = {NULL, NULL};

    assert_int_equal(cs_csv_read_columns(path, names, 2, columns), CS_OK);
    const double *label = columns[0]->data;
    const double *score = columns[1]->data;
    assert_int_equal(columns[0]->type, CS_ELEMENT_FLOAT64);
    assert_int_equal(columns[0]->ndim, 1);
    assert_int_equal(columns[0]->count, 5);
    assert_int_equal(columns[1]->shape[0], 5);
    assert_true(label[0] == 1 && label[1] == 0 && label[3] == 0);
    assert_true(score[0] == 0.5);
    assert_true(isnan(score[1]));
    assert_true(isnan(score[2]));
    assert_true(score[3] == -1e-3);
    assert_true(isnan(score[4]));
    cs_array_free(columns[0]);
    cs_array_free(columns[1]);
}

static void csv_crlf_bom_and_quoted_header(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    write_text(path_in(f, "windows.csv", path),
               "\xEF\xBB\xBF\"c-score, integral\",id\r\n"
               "0.25,0\r\n"
               "inf,1\r\n");
    const char *names[] = {"c-score, integral"};
    cs_array *column = NULL;

    assert_int_equal(cs_csv_read_columns(path, names, 1, &column), CS_OK);
    assert_int_equal(column->count, 2);
    assert_true(((const double *)column->data)[0] == 0.25);
    assert_true(isinf(((const double *)column->data)[1]));
    cs_array_free(column);

    /* A header without records gives empty columns. */
    write_text(path, "a,b\n");
    const char *b[] = {"b"};
    assert_int_equal(cs_csv_read_columns(path, b, 1, &column), CS_OK);
    assert_int_equal(column->count, 0);
    cs_array_free(column);
}

/* Numbers use '.' even when the program's locale uses ','. */
static void csv_ignores_locale(void **state)
{
    fixture *f = *state;
    const char *locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE"};
    const char *set = NULL;
    for (size_t k = 0; k < 3 && set == NULL; k++)
        set = setlocale(LC_NUMERIC, locales[k]);
    if (set == NULL)
        printf("note: no locale with a decimal comma is installed; the "
               "C locale is checked only\n");

    char path[PATH_SIZE];
    write_text(path_in(f, "locale.csv", path), "x\n1.5\n");
    const char *names[] = {"x"};
    cs_array *column = NULL;
    const cs_status st = cs_csv_read_columns(path, names, 1, &column);
    setlocale(LC_NUMERIC, "C");
    assert_int_equal(st, CS_OK);
    assert_true(((const double *)column->data)[0] == 1.5);
    cs_array_free(column);
}

typedef struct csv_case {
    const char *name;
    const char *text;
    cs_status status;
    int64_t line;
    int64_t column;
    const char *message;
} csv_case;

static void csv_malformed(void **state)
{
    fixture *f = *state;
    static const csv_case cases[] = {
        {"not a number", "id,score\n0,0.5\n1,0.5x\n", CS_E_FORMAT, 3, 2,
         "column 'score' (field 2): '0.5x' is not a number"},
        {"text cell", "id,score\n0,high\n", CS_E_FORMAT, 2, 2,
         "'high' is not a number"},
        {"short record", "id,score\n0,0.5\n1\n", CS_E_FORMAT, 3, -1,
         "the record has 1 fields but the header has 2"},
        {"long record", "id,score\n0,0.5,9\n", CS_E_FORMAT, 2, -1,
         "the record has 3 fields but the header has 2"},
        {"open quote", "id,score\n0,\"0.5\n1,2\n", CS_E_FORMAT, 2, -1,
         "never closed"},
        {"text after quote", "id,score\n0,\"0.5\"x\n", CS_E_FORMAT, 2, -1,
         "unexpected 'x' after a closing quote"},
        {"empty file", "", CS_E_FORMAT, 1, -1, "the file is empty"},
        {"only blank lines", "\n\r\n", CS_E_FORMAT, 3, -1,
         "the file is empty"},
        {"repeated header", "score,id,score\n1,2,3\n", CS_E_FORMAT, 1, 3,
         "the header names column 'score' twice (fields 1 and 3)"},
        {"missing column", "id,label\n0,1\n", CS_E_INVALID_ARGUMENT, 1, -1,
         "has no column 'score'; its header is: id,label"},
    };
    char path[PATH_SIZE];
    path_in(f, "bad.csv", path);
    const char *names[] = {"score"};

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const csv_case *c = &cases[k];
        write_text(path, c->text);
        cs_array *column = (cs_array *)path;
        const cs_status st = cs_csv_read_columns(path, names, 1, &column);
        const cs_error_info *e = cs_last_error();
        if (st != c->status ||
            strstr(cs_last_error_message(), c->message) == NULL ||
            e->line != c->line || e->column != c->column)
            fail_msg("case '%s': status %s, line %lld, column %lld, "
                     "message '%s'",
                     c->name, cs_status_name(st), (long long)e->line,
                     (long long)e->column, cs_last_error_message());
        assert_null(column);
        assert_message_contains(path);
        assert_string_equal(e->path, path);
    }
}

static void csv_argument_errors(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    write_text(path_in(f, "ok.csv", path), "a,b\n1,2\n");
    const char *names[] = {"a", "a"};
    const char *null_name[] = {NULL};
    cs_array *columns[2] = {NULL, NULL};

    assert_int_equal(cs_csv_read_columns(NULL, names, 1, columns),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_csv_read_columns(path, NULL, 1, columns),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_csv_read_columns(path, names, 1, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_csv_read_columns(path, null_name, 1, columns),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_csv_read_columns(path, names, 0, columns),
                     CS_E_ZERO_SIZE);
    assert_int_equal(cs_csv_read_columns(path, names, 2, columns),
                     CS_E_INVALID_ARGUMENT);
    assert_message_contains("request each column once");
    assert_int_equal(cs_csv_read_columns(path_in(f, "absent.csv", path), names,
                                         1, columns),
                     CS_E_IO);
    assert_message_contains("absent.csv");
    assert_null(columns[0]);
}

static void csv_allocation_failures(void **state)
{
    fixture *f = *state;
    char path[PATH_SIZE];
    write_text(path_in(f, "ok.csv", path), "a,b,c\n1,2,3\n4,5,6\n");
    const char *names[] = {"c", "a"};

    for (long k = 1;; k++) {
        cs_array *columns[2] = {(cs_array *)path, (cs_array *)path};
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs_csv_read_columns(path, names, 2, columns);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK) {
            assert_true(((const double *)columns[0]->data)[1] == 6);
            assert_true(((const double *)columns[1]->data)[1] == 4);
            cs_array_free(columns[0]);
            cs_array_free(columns[1]);
            break;
        }
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        assert_null(columns[0]);
        assert_null(columns[1]);
    }
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(published_cifar10),
        TEST(published_cifar100),
        TEST(published_mnist),
        TEST(numpy_npy_every_dtype_order_version),
        TEST(numpy_npy_layouts),
        TEST(numpy_savez_and_savez_compressed),
        TEST(npz_member_without_npy_suffix),
        TEST(npy_versions_and_byte_orders),
        TEST(npy_malformed_headers),
        TEST(npy_malformed_preambles),
        TEST(npy_io_errors),
        TEST(npy_allocation_failures),
        TEST(npz_not_a_zip),
        TEST(npz_truncated_archive),
        TEST(npz_missing_member),
        TEST(npz_corrupt_deflate_stream),
        TEST(npz_sizes_checked),
        TEST(npz_member_shape_lie),
        TEST(npz_allocation_failures),
        TEST(array_to_float64_every_type),
        TEST(csv_columns_by_name),
        TEST(csv_crlf_bom_and_quoted_header),
        TEST(csv_ignores_locale),
        TEST(csv_malformed),
        TEST(csv_argument_errors),
        TEST(csv_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
