/*
 * Fuzzes the holdout record files: cs_holdout_create_from_records() reads
 * the header and every record of a scratch file, and a second
 * cs_holdout_merge_records() of the same file then finds every run
 * already counted.
 *
 * Each input is read as it is and, when that changes anything, once more
 * after repair(): the header's label hash and CRC-32, and each whole
 * record's seed and CRC-32, are recomputed. Random mutations almost never
 * keep those values consistent, so without the repair the fuzzer would
 * stop at the first checksum. The layout is the one in cscore.h, with
 * all integers little-endian. The header stores its size H at byte 12, N
 * at 16, the label hash at 24, the master seed at 32 and the recipe length
 * L at 40. L recipe bytes, N int32 labels and a CRC follow. Records of
 * cs__record_size(N) bytes each come after the header.
 */
#include "fuzz_common.h"

#include "holdout/holdout_internal.h"

#include <cscore.h>
#include <stdlib.h>
#include <string.h>

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(uint8_t *p, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t value)
{
    put_u32(p, (uint32_t)value);
    put_u32(p + 4, (uint32_t)(value >> 32));
}

static void read_records(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("input.records", data, size);
    cs_holdout *holdout = NULL;
    if (cs_holdout_create_from_records(path, &holdout) != CS_OK)
        return;

    cs_holdout_merge_records(holdout, path);
    cs_holdout_summary summary;
    summary.struct_size = sizeof summary;
    cs_holdout_get_summary(holdout, &summary);
    cs_holdout_free(holdout);
}

/* Recomputes the label hash and CRC of a header of `header_size` bytes
 * for n labels after a recipe of recipe_length bytes. */
static void repair_header(uint8_t *data, size_t header_size, uint64_t n,
                          uint32_t recipe_length)
{
    const uint8_t *stored = data + CS__HEADER_FIXED_BYTES + recipe_length;
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    if (labels != NULL) {
        for (uint64_t j = 0; j < n; j++)
            labels[j] = (int32_t)get_u32(stored + 4 * j);
        put_u64(data + 24, cs__label_hash(labels, (size_t)n));
        free(labels);
    }
    put_u32(data + header_size - 4, cs__crc32(data, header_size - 4));
}

/* Recomputes the seed and CRC of every whole record after the header. */
static void repair_records(uint8_t *data, size_t size, size_t header_size,
                           uint64_t n, uint64_t master_seed)
{
    const size_t record_size = cs__record_size((size_t)n);
    const size_t body = record_size - CS__RECORD_CRC_BYTES;
    for (size_t at = header_size; size - at >= record_size;
         at += record_size) {
        uint8_t *record = data + at;
        const int32_t ratio = (int32_t)get_u32(record + 4);
        const int32_t run = (int32_t)get_u32(record + 8);
        put_u64(record + 16, cs_holdout_run_seed(master_seed, ratio, run));
        put_u32(record + body, cs__crc32(record, body));
    }
}

/* Makes the checksums and derived fields of data consistent, where its
 * header sizes fit in size bytes. Returns false when they do not. */
static bool repair(uint8_t *data, size_t size)
{
    if (size < CS__HEADER_FIXED_BYTES + 4)
        return false;
    const size_t header_size = get_u32(data + 12);
    const uint64_t n = get_u64(data + 16);
    const uint32_t recipe_length = get_u32(data + 40);

    /* Only sizes that the reader's own checks could accept are repaired:
     * H = 44 + L + 4 N + 4 within the input. */
    if (n == 0 || n > size / 4 || recipe_length > size || header_size > size ||
        header_size != CS__HEADER_FIXED_BYTES + recipe_length + 4 * n + 4)
        return false;

    repair_header(data, header_size, n, recipe_length);
    repair_records(data, size, header_size, n, get_u64(data + 32));
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_records(data, size);

    uint8_t *repaired = malloc(size > 0 ? size : 1);
    if (repaired == NULL)
        return 0;
    memcpy(repaired, data, size);
    if (repair(repaired, size) && memcmp(repaired, data, size) != 0)
        read_records(repaired, size);
    free(repaired);
    return 0;
}
