/*
 * Synthetic clustered features shared by the KDE tests: a seeded
 * xorshift generator, normal draws and labelled Gaussian clusters.
 * Header-only, and every function is static.
 */
#ifndef KDE_FIXTURES_H
#define KDE_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

typedef struct dataset {
    float *x;
    int32_t *y;
    size_t n;
    size_t d;
    int32_t classes;
} dataset;

static inline uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

static inline double uniform(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller. */
static inline double normal(uint64_t *state)
{
    const double u = 1.0 - uniform(state);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * uniform(state));
}

/* Clustered data: class c sits around a centre drawn in [0, 4)^d, points
 * spread around it normally with deviation 0.5 (so densities range from
 * cluster cores to sparse tails), and one label in eight is swapped for a
 * random class. An offset of 100 on every value checks that the library's
 * centring copes with features far from the origin. */
static inline dataset make_data(size_t n, size_t d, int32_t classes, uint64_t seed)
{
    uint64_t state = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
    dataset data = {malloc(n * d * sizeof(float)), malloc(n * sizeof(int32_t)),
                    n, d, classes};
    double *centres = malloc((size_t)classes * d * sizeof(double));
    assert_non_null(data.x);
    assert_non_null(data.y);
    assert_non_null(centres);

    for (size_t k = 0; k < (size_t)classes * d; k++)
        centres[k] = 4.0 * uniform(&state);
    for (size_t i = 0; i < n; i++) {
        const size_t c = (size_t)(next_random(&state) % (uint64_t)classes);
        for (size_t k = 0; k < d; k++)
            data.x[i * d + k] = (float)(100.0 + centres[c * d + k] +
                                        0.5 * normal(&state));
        data.y[i] = uniform(&state) < 0.125
                        ? (int32_t)(next_random(&state) % (uint64_t)classes)
                        : (int32_t)c;
    }
    free(centres);
    return data;
}

static inline void free_data(dataset *data)
{
    free(data->x);
    free(data->y);
}

#endif /* KDE_FIXTURES_H */
