/*
 * Seeded pseudo-random numbers for weight initialisation and shuffling.
 * The stream is xoshiro256** by Blackman and Vigna, with its 256-bit state
 * expanded from a 64-bit seed by splitmix64. Both use only 64-bit integer
 * arithmetic, so a seed gives the same sequence on every platform.
 */
#ifndef CS_TRAINER_RNG_H
#define CS_TRAINER_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct cs__rng {
    uint64_t state[4];
} cs__rng;

/* Expands seed into a full state; any seed, 0 included, is valid. */
void cs__rng_seed(cs__rng *rng, uint64_t seed);

/* Returns the next 64 random bits. */
uint64_t cs__rng_next(cs__rng *rng);

/* Returns a double in [0, 1) with 53 random bits. */
double cs__rng_uniform(cs__rng *rng);

/* Returns an integer uniform in [0, bound), without modulo bias; bound >= 1.
 */
uint64_t cs__rng_below(cs__rng *rng, uint64_t bound);

/* Fills order with 0 .. n-1 and shuffles it uniformly (Fisher-Yates). */
void cs__rng_permutation(cs__rng *rng, size_t *order, size_t n);

#endif /* CS_TRAINER_RNG_H */
