/*
 * Run seeds and training subsets. Every run's subset follows from its seed
 * alone, and its seed from (master seed, ratio, run index), so that any run
 * can be recomputed on its own and separate workers draw identical
 * subsets. The generator is the trainer's xoshiro256** (trainer/rng.h).
 */
#include "holdout/holdout_internal.h"

#include "trainer/rng.h"

#include <string.h>

/* XORed into a run seed before it seeds the subset stream. The built-in
 * trainer seeds its streams with the run seed and the run seed + 1, so this
 * keeps the subset independent of the initial weights. The constant is the
 * first 64 bits of the fractional part of sqrt(2), chosen only for having
 * no structure. */
#define SUBSET_STREAM_KEY UINT64_C(0x6a09e667f3bcc909)

/* splitmix64's output function (Steele, Lea, Flood 2014), a bijection of
 * 64-bit integers that mixes every input bit into every output bit. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t cs_holdout_run_seed(uint64_t master_seed, int32_t ratio, int32_t run)
{
    const uint64_t key = ((uint64_t)(uint32_t)ratio << 32) | (uint32_t)run;
    return mix64(master_seed ^ mix64(key));
}

size_t cs_holdout_subset_size(size_t n, int32_t ratio)
{
    if (ratio < 1 || ratio > 99)
        return 0;

    /* round(ratio * n / 100) with halves up, split so that ratio * n never
     * overflows: n = 100 q + r. */
    const size_t q = n / 100;
    const size_t r = n % 100;
    return q * (size_t)ratio + (r * (size_t)ratio + 50) / 100;
}

void cs__holdout_draw(uint64_t run_seed, size_t n, size_t n_train,
                      size_t *work, uint8_t *mask, int64_t *indices)
{
    cs__rng rng;
    cs__rng_seed(&rng, run_seed ^ SUBSET_STREAM_KEY);

    /* Partial Fisher-Yates: after step i, work[0 .. i] is a uniform
     * random ordered sample of i + 1 distinct ids. */
    for (size_t i = 0; i < n; i++)
        work[i] = i;
    for (size_t i = 0; i < n_train; i++) {
        const size_t j = i + (size_t)cs__rng_below(&rng, (uint64_t)(n - i));
        const size_t swap = work[i];
        work[i] = work[j];
        work[j] = swap;
    }

    /* Through a mask, so that the ids come out sorted in O(n). */
    memset(mask, 0, n);
    for (size_t i = 0; i < n_train; i++)
        mask[work[i]] = 1;
    size_t next = 0;
    for (size_t j = 0; j < n; j++)
        if (mask[j])
            indices[next++] = (int64_t)j;
}

cs_status cs_holdout_subset(uint64_t run_seed, size_t n, int32_t ratio,
                            int64_t *indices, size_t n_indices)
{
    const char *fn = "cs_holdout_subset";
    if (indices == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "indices",
                            "indices is NULL; pass an array of "
                            "cs_holdout_subset_size(n, ratio) ids");
    if (n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n", "n is 0");
    if (ratio < 1 || ratio > 99)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "ratio",
                            "ratio is %d; use a whole percent from 1 to 99",
                            (int)ratio);

    const size_t n_train = cs_holdout_subset_size(n, ratio);
    if (n_train == 0 || n_train == n)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "ratio",
                            "ratio %d%% of %zu examples gives a training "
                            "subset of %zu, which leaves nothing to train on "
                            "or nothing to hold out",
                            (int)ratio, n, n_train);
    if (n_indices != n_train)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_indices",
                            "n_indices is %zu, but ratio %d%% of %zu "
                            "examples gives a subset of %zu",
                            n_indices, (int)ratio, n, n_train);

    size_t bytes;
    if (!cs__mul_size(n, sizeof(size_t) + 1, &bytes))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "n",
                            "a workspace for %zu examples does not fit in "
                            "memory",
                            n);
    size_t *work = cs__malloc(bytes);
    if (work == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate %zu bytes of workspace", bytes);

    uint8_t *mask = (uint8_t *)(work + n);
    cs__holdout_draw(run_seed, n, n_train, work, mask, indices);
    cs__free(work);
    return CS_OK;
}
