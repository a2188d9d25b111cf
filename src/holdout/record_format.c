/*
 * The byte layout of holdout record files (documented in cscore.h):
 * encoding and checking the header and the per-run records, the CRC-32 of
 * each, and the label hash. Reading and writing the file itself is in
 * record_file.c.
 */
#include "holdout/holdout_internal.h"

#include "io/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define FNV_PRIME UINT64_C(0x100000001b3)
static const uint8_t record_tag[4] = {'R', 'U', 'N', 0};

/* Little-endian encoding, independent of the host's byte order. */
static void put_u32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put_f64(uint8_t *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u64(p, bits);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int k = 3; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

static double get_f64(const uint8_t *p)
{
    const uint64_t bits = get_u64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

uint64_t cs__fnv1a(uint64_t hash, const void *bytes, size_t size)
{
    const uint8_t *p = bytes;
    for (size_t k = 0; k < size; k++) {
        hash ^= p[k];
        hash *= FNV_PRIME;
    }
    return hash;
}

uint64_t cs__label_hash(const int32_t *labels, size_t n)
{
    uint64_t hash = CS__FNV_OFFSET;
    for (size_t j = 0; j < n; j++) {
        uint8_t bytes[4];
        put_u32(bytes, (uint32_t)labels[j]);
        hash = cs__fnv1a(hash, bytes, sizeof bytes);
    }
    return hash;
}

uint32_t cs__crc32(const void *bytes, size_t size)
{
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), bytes, size);
}

size_t cs__bit_bytes(size_t n)
{
    return n / 8 + (n % 8 != 0);
}

size_t cs__record_size(size_t n)
{
    return CS__RECORD_FIXED_BYTES + 2 * cs__bit_bytes(n) +
           CS__RECORD_CRC_BYTES;
}

/* Computes H for n labels and a recipe of recipe_length bytes; false on
 * overflow. */
static bool header_size(uint64_t n, uint64_t recipe_length, size_t *out)
{
    if (n > (SIZE_MAX - CS__HEADER_FIXED_BYTES - 4 - recipe_length) / 4)
        return false;
    *out = CS__HEADER_FIXED_BYTES + (size_t)recipe_length + 4 * (size_t)n + 4;
    return true;
}

cs_status cs__header_encode(const char *fn, const cs_holdout *holdout,
                            uint8_t **out, size_t *size)
{
    const size_t recipe_length = strlen(holdout->recipe);
    size_t total;
    if (!header_size(holdout->n, recipe_length, &total))
        return cs__fail_arg(CS_E_OVERFLOW, fn, NULL,
                            "a record file header for %zu examples does "
                            "not fit in memory",
                            holdout->n);
    uint8_t *h = cs__malloc(total);
    if (h == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate a record file header of %zu "
                            "bytes",
                            total);

    memcpy(h, CS__RECORDS_MAGIC, 8);
    put_u32(h + 8, CS__RECORDS_VERSION);
    put_u32(h + 12, (uint32_t)total);
    put_u64(h + 16, holdout->n);
    put_u64(h + 24, holdout->label_hash);
    put_u64(h + 32, holdout->master_seed);
    put_u32(h + 40, (uint32_t)recipe_length);
    memcpy(h + CS__HEADER_FIXED_BYTES, holdout->recipe, recipe_length);
    uint8_t *labels = h + CS__HEADER_FIXED_BYTES + recipe_length;
    for (size_t j = 0; j < holdout->n; j++)
        put_u32(labels + 4 * j, (uint32_t)holdout->labels[j]);
    put_u32(h + total - 4, cs__crc32(h, total - 4));

    *out = h;
    *size = total;
    return CS_OK;
}

/* Reads size bytes at offset. Returns false on an error, with errno set,
 * or at an early end of the file, with errno 0. */
static bool read_at(int fd, void *buffer, size_t size, int64_t offset)
{
    uint8_t *p = buffer;
    while (size > 0) {
        const ssize_t got = pread(fd, p, size, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = 0;
            return false;
        }
        p += got;
        size -= (size_t)got;
        offset += got;
    }
    return true;
}

static cs_status read_failed(const char *fn, const char *path, int64_t offset)
{
    char reason[128];
    cs__where where = cs__where_path(fn, path);
    where.offset = offset;
    if (errno == 0)
        return cs__fail(CS_E_FORMAT, &where, NULL,
                        "'%s' ends inside its header at byte %" PRId64
                        "; it is not a complete holdout record file",
                        path, offset);
    return cs__fail(CS_E_IO, &where, NULL, "cannot read '%s': %s", path,
                    cs__errno_text(errno, reason, sizeof reason));
}

static cs_status format_error(const char *fn, const char *path, int64_t offset,
                              const char *what)
{
    cs__where where = cs__where_path(fn, path);
    where.offset = offset;
    return cs__fail(CS_E_FORMAT, &where, NULL,
                    "'%s' is not a holdout record file: %s", path, what);
}

/* Checks the fixed part of a header and sets the sizes it declares. */
static cs_status check_fixed(const char *fn, const char *path,
                             const uint8_t *fixed, int64_t file_size,
                             cs__records_header *out, uint32_t *recipe_length)
{
    if (memcmp(fixed, CS__RECORDS_MAGIC, 8) != 0)
        return format_error(fn, path, 0,
                            "it does not start with "
                            "\"" CS__RECORDS_MAGIC "\"");
    const uint32_t version = get_u32(fixed + 8);
    if (version != CS__RECORDS_VERSION) {
        cs__where where = cs__where_path(fn, path);
        where.offset = 8;
        return cs__fail(CS_E_UNSUPPORTED_VERSION, &where, NULL,
                        "'%s' has record format version %u; this library "
                        "reads version %u",
                        path, (unsigned)version, CS__RECORDS_VERSION);
    }

    out->n = get_u64(fixed + 16);
    out->label_hash = get_u64(fixed + 24);
    out->master_seed = get_u64(fixed + 32);
    *recipe_length = get_u32(fixed + 40);
    const uint32_t declared = get_u32(fixed + 12);

    size_t expected;
    if (out->n == 0 || *recipe_length > CS_HOLDOUT_MAX_RECIPE_LENGTH ||
        !header_size(out->n, *recipe_length, &expected) ||
        expected != declared)
        return format_error(fn, path, 12,
                            "its header sizes are "
                            "inconsistent");
    if ((int64_t)expected > file_size)
        return format_error(fn, path, file_size,
                            "the file is shorter than its header");
    out->size = expected;
    return CS_OK;
}

/* Copies the recipe and the labels out of a whole header whose CRC is
 * good. */
static cs_status decode_body(const char *fn, const char *path,
                             const uint8_t *h, uint32_t recipe_length,
                             cs__records_header *out)
{
    const uint8_t *recipe = h + CS__HEADER_FIXED_BYTES;
    if (memchr(recipe, 0, recipe_length) != NULL)
        return format_error(fn, path, CS__HEADER_FIXED_BYTES,
                            "its recipe text contains a NUL byte");

    out->recipe = cs__malloc((size_t)recipe_length + 1);
    out->labels = cs__alloc_array((size_t)out->n, sizeof *out->labels);
    if (out->recipe == NULL || out->labels == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the %" PRIu64 " labels of "
                            "'%s'",
                            out->n, path);
    memcpy(out->recipe, recipe, recipe_length);
    out->recipe[recipe_length] = '\0';

    const uint8_t *labels = recipe + recipe_length;
    for (size_t j = 0; j < out->n; j++) {
        out->labels[j] = (int32_t)get_u32(labels + 4 * j);
        if (out->labels[j] < 0)
            return format_error(fn, path,
                                (int64_t)(labels - h) + 4 * (int64_t)j,
                                "it stores a negative label");
    }
    if (cs__label_hash(out->labels, out->n) != out->label_hash)
        return format_error(fn, path, 24,
                            "its label hash does not match "
                            "its labels");
    return CS_OK;
}

cs_status cs__header_read(const char *fn, const char *path, int fd,
                          int64_t file_size, cs__records_header *out)
{
    memset(out, 0, sizeof *out);
    if (file_size < (int64_t)CS__HEADER_FIXED_BYTES + 4)
        return format_error(fn, path, file_size,
                            "it is too short for a header");

    uint8_t fixed[CS__HEADER_FIXED_BYTES];
    if (!read_at(fd, fixed, sizeof fixed, 0))
        return read_failed(fn, path, 0);
    uint32_t recipe_length = 0;
    cs_status status = check_fixed(fn, path, fixed, file_size, out,
                                   &recipe_length);
    if (status != CS_OK)
        return status;

    uint8_t *h = cs__malloc(out->size);
    if (h == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the %zu-byte header of '%s'",
                            out->size, path);
    if (!read_at(fd, h, out->size, 0)) {
        cs__free(h);
        return read_failed(fn, path, 0);
    }

    if (cs__crc32(h, out->size - 4) != get_u32(h + out->size - 4)) {
        cs__where where = cs__where_path(fn, path);
        where.offset = (int64_t)out->size - 4;
        status = cs__fail(CS_E_CHECKSUM, &where, NULL,
                          "the header of '%s' fails its CRC-32 check; the "
                          "file is damaged",
                          path);
    } else {
        status = decode_body(fn, path, h, recipe_length, out);
    }
    cs__free(h);
    if (status != CS_OK)
        cs__header_clear(out);
    return status;
}

void cs__header_clear(cs__records_header *header)
{
    cs__free(header->recipe);
    cs__free(header->labels);
    header->recipe = NULL;
    header->labels = NULL;
}

/* Copies the space-separated word of text that starts at or before
 * position into word, shortened to fit. */
static void word_at(const char *text, size_t position, char *word,
                    size_t capacity)
{
    size_t start = position;
    while (start > 0 && text[start - 1] != ' ')
        start--;
    size_t end = position;
    while (text[end] != '\0' && text[end] != ' ')
        end++;
    snprintf(word, capacity, "%.*s", (int)(end - start), text + start);
    if (end == start)
        snprintf(word, capacity, "(end of text)");
}

static cs_status recipe_mismatch(const char *fn, const char *path,
                                 const char *file_recipe, const char *recipe)
{
    size_t k = 0;
    while (file_recipe[k] != '\0' && file_recipe[k] == recipe[k])
        k++;
    char theirs[96], ours[96];
    word_at(file_recipe, k, theirs, sizeof theirs);
    word_at(recipe, k, ours, sizeof ours);

    cs__where where = cs__where_path(fn, path);
    return cs__fail(CS_E_RECORDS_MISMATCH, &where, "recipe",
                    "'%s' holds runs of another trainer recipe: the file "
                    "has '%s' where this estimate has '%s'. Use the same "
                    "trainer options to resume, or another record file",
                    path, theirs, ours);
}

static cs_status labels_mismatch(const char *fn, const char *path,
                                 const cs__records_header *header,
                                 const cs_holdout *holdout)
{
    size_t j = 0;
    while (j < holdout->n && header->labels[j] == holdout->labels[j])
        j++;
    cs__where where = cs__where_path(fn, path);
    where.example_id = (int64_t)j;
    return cs__fail(CS_E_RECORDS_MISMATCH, &where, "labels",
                    "'%s' holds runs on other labels (hash %016" PRIx64
                    ", this estimate %016" PRIx64 "; first difference at "
                    "example %zu). Use the same data, or another record "
                    "file",
                    path, header->label_hash, holdout->label_hash, j);
}

cs_status cs__header_compare(const char *fn, const char *path,
                             const cs__records_header *header,
                             const cs_holdout *holdout)
{
    cs__where where = cs__where_path(fn, path);
    if (header->n != holdout->n)
        return cs__fail(CS_E_RECORDS_MISMATCH, &where, "n",
                        "'%s' holds runs on %" PRIu64 " examples, but this "
                        "estimate has %zu. Use the same data, or another "
                        "record file",
                        path, header->n, holdout->n);
    if (header->label_hash != holdout->label_hash ||
        memcmp(header->labels, holdout->labels,
               holdout->n * sizeof *holdout->labels) != 0)
        return labels_mismatch(fn, path, header, holdout);
    if (header->master_seed != holdout->master_seed)
        return cs__fail(CS_E_RECORDS_MISMATCH, &where, "master_seed",
                        "'%s' holds runs of master seed %" PRIu64 ", but "
                        "this estimate uses %" PRIu64 ". Pass the same "
                        "seed to resume, or use another record file",
                        path, header->master_seed, holdout->master_seed);
    if (strcmp(header->recipe, holdout->recipe) != 0)
        return recipe_mismatch(fn, path, header->recipe, holdout->recipe);
    return CS_OK;
}

void cs__record_encode(const cs__run_record *record, size_t n, uint8_t *buffer)
{
    const size_t bits = cs__bit_bytes(n);
    memcpy(buffer, record_tag, 4);
    put_u32(buffer + 4, (uint32_t)record->ratio);
    put_u32(buffer + 8, (uint32_t)record->run);
    put_u32(buffer + 12, 0);
    put_u64(buffer + 16, record->seed);
    put_f64(buffer + 24, record->test_accuracy);
    put_f64(buffer + 32, record->seconds);
    memcpy(buffer + CS__RECORD_FIXED_BYTES, record->mask, bits);
    memcpy(buffer + CS__RECORD_FIXED_BYTES + bits, record->correct, bits);

    const size_t body = CS__RECORD_FIXED_BYTES + 2 * bits;
    put_u32(buffer + body, cs__crc32(buffer, body));
}

bool cs__record_decode(const uint8_t *buffer, size_t n, cs__run_record *out)
{
    const size_t bits = cs__bit_bytes(n);
    const size_t body = CS__RECORD_FIXED_BYTES + 2 * bits;
    if (memcmp(buffer, record_tag, 4) != 0 ||
        cs__crc32(buffer, body) != get_u32(buffer + body))
        return false;

    out->ratio = (int32_t)get_u32(buffer + 4);
    out->run = (int32_t)get_u32(buffer + 8);
    out->padding = get_u32(buffer + 12);
    out->seed = get_u64(buffer + 16);
    out->test_accuracy = get_f64(buffer + 24);
    out->seconds = get_f64(buffer + 32);
    out->mask = buffer + CS__RECORD_FIXED_BYTES;
    out->correct = buffer + CS__RECORD_FIXED_BYTES + bits;
    return true;
}

/* Counts the set bits among the first n of bits, and reports whether any
 * bit past n in the last byte is set. */
static size_t count_bits(const uint8_t *bits, size_t n, bool *stray)
{
    size_t count = 0;
    for (size_t b = 0; b < n / 8; b++)
        count += (size_t)__builtin_popcount(bits[b]);
    *stray = false;
    if (n % 8 != 0) {
        const uint8_t last = bits[n / 8];
        const uint8_t valid = (uint8_t)((1u << (n % 8)) - 1);
        count += (size_t)__builtin_popcount(last & valid);
        *stray = (last & ~valid) != 0;
    }
    return count;
}

/* Describes in problem what is wrong with a record whose CRC is good, or
 * leaves problem empty. */
static void describe_problem(const cs__run_record *record, size_t n,
                             uint64_t master_seed, char *problem,
                             size_t capacity)
{
    if (record->ratio < 1 || record->ratio > 99) {
        snprintf(problem, capacity, "ratio %d is outside 1 to 99",
                 (int)record->ratio);
        return;
    }
    if (record->run < 0 || record->run >= CS_HOLDOUT_MAX_RUNS) {
        snprintf(problem, capacity, "run index %d is outside 0 to %d",
                 (int)record->run, CS_HOLDOUT_MAX_RUNS - 1);
        return;
    }
    if (record->padding != 0) {
        snprintf(problem, capacity,
                 "its reserved bytes 12 to 15 are not "
                 "zero");
        return;
    }
    if (record->seed !=
        cs_holdout_run_seed(master_seed, record->ratio, record->run)) {
        snprintf(problem, capacity,
                 "seed %" PRIu64 " is not the seed of run %d of ratio %d",
                 record->seed, (int)record->run, (int)record->ratio);
        return;
    }

    bool stray = false;
    const size_t n_train = cs_holdout_subset_size(n, record->ratio);
    if (count_bits(record->mask, n, &stray) != n_train || stray) {
        snprintf(problem, capacity,
                 "its training mask does not hold the %zu examples of "
                 "ratio %d",
                 n_train, (int)record->ratio);
        return;
    }
    (void)count_bits(record->correct, n, &stray);
    if (stray)
        snprintf(problem, capacity, "its correctness bits go past example %zu",
                 n - 1);
}

cs_status cs__record_check(const char *fn, const char *path, int64_t offset,
                           const cs__run_record *record, size_t n,
                           uint64_t master_seed)
{
    char problem[160] = "";
    describe_problem(record, n, master_seed, problem, sizeof problem);
    if (problem[0] == '\0')
        return CS_OK;

    cs__where where = cs__where_path(fn, path);
    where.offset = offset;
    return cs__fail(CS_E_FORMAT, &where, NULL,
                    "the record at byte %" PRId64 " of '%s' passes its "
                    "CRC-32 check but is invalid: %s",
                    offset, path, problem);
}
