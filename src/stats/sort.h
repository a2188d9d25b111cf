/*
 * Sorting doubles for the rank statistics: a stable LSD radix sort, and
 * dense ranks (codes) built on it. Codes turn every later step (average
 * ranks, tie counts, ordering by two keys, bootstrap resamples) into
 * counting over small integers, with no further comparison sort.
 */
#ifndef CS_STATS_SORT_H
#define CS_STATS_SORT_H

#include "internal.h"

#include <string.h>

/* Largest element count the statistics accept: indices are uint32. */
#define CS__STATS_MAX_COUNT UINT32_MAX

/* Returns a key whose unsigned order is the numeric order of value (not
 * NaN): negative numbers get every bit flipped, the others only the sign
 * bit. -0.0 becomes +0.0 first, so the two zeros share a key and tie, as
 * they compare equal. */
static inline uint64_t cs__sort_key(double value)
{
    if (value == 0.0)
        value = 0.0;

    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    const uint64_t sign = UINT64_C(1) << 63;
    return (bits & sign) ? ~bits : bits | sign;
}

/* A radix sort's workspace, reusable for several sorts of up to capacity
 * keys: 20 bytes per key and 8 KiB. The caller writes the keys to sort
 * into keys[0 .. m-1] with cs__sort_key(). */
typedef struct cs__sorter {
    uint32_t capacity;
    uint64_t *keys;
    uint64_t *keys_tmp;
    uint32_t *index_tmp;
    uint32_t *counts;
} cs__sorter;

/* Returns CS_E_OUT_OF_MEMORY (without recording an error) on allocation
 * failure, after which cs__sorter_free() is still safe. */
cs_status cs__sorter_init(cs__sorter *sorter, uint32_t capacity);
void cs__sorter_free(cs__sorter *sorter);

/* Sorts sorter->keys[0 .. m-1] (m <= capacity) ascending, stable. Writes
 * to order[k] the input position of the k-th smallest key and, when
 * sorted_codes is not NULL, to sorted_codes[k] its dense code (the number
 * of distinct keys below it), and to *n_distinct the number of distinct
 * keys. The keys are left sorted. */
void cs__sorter_run(cs__sorter *sorter, uint32_t m, uint32_t *order,
                    uint32_t *sorted_codes, uint32_t *n_distinct);

/* Writes to codes[i] the number of distinct values smaller than values[i]
 * (a dense rank from 0), and to *n_distinct the number of distinct values.
 * values must hold no NaN. Returns CS_E_OUT_OF_MEMORY (without recording
 * an error) on allocation failure. */
cs_status cs__dense_codes(const double *values, uint32_t m, uint32_t *codes,
                          uint32_t *n_distinct);

#endif /* CS_STATS_SORT_H */
