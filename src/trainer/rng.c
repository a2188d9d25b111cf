/*
 * xoshiro256** seeded through splitmix64 (see rng.h), written here from
 * the published definitions of both algorithms.
 */
#include "trainer/rng.h"

/* One splitmix64 step: advances *x by the golden-ratio increment and
 * returns a mixed copy. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void cs__rng_seed(cs__rng *rng, uint64_t seed)
{
    /* splitmix64's output is a bijection of its counter, so at most one of
     * the four words is 0. The state is therefore never all zeros, the one
     * state that xoshiro cannot leave. */
    for (int i = 0; i < 4; i++)
        rng->state[i] = splitmix64(&seed);
}

uint64_t cs__rng_next(cs__rng *rng)
{
    uint64_t *s = rng->state;
    const uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    const uint64_t shifted = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = rotate_left(s[3], 45);
    return result;
}

double cs__rng_uniform(cs__rng *rng)
{
    return (double)(cs__rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t cs__rng_below(cs__rng *rng, uint64_t bound)
{
    /* Draws at or above the largest multiple of bound would make the low
     * residues more likely, so they are redrawn (at most half of all draws,
     * and for small bounds almost none). */
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = cs__rng_next(rng);
    } while (x >= limit);
    return x % bound;
}

void cs__rng_permutation(cs__rng *rng, size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;

    for (size_t i = n; i > 1; i--) {
        const size_t j = (size_t)cs__rng_below(rng, (uint64_t)i);
        const size_t swap = order[i - 1];
        order[i - 1] = order[j];
        order[j] = swap;
    }
}
