/*
 * Label noise for measuring how well each proxy finds mislabeled examples:
 * a seeded share of the training labels is replaced by another class, the
 * network trains on the corrupted labels, and the export records which
 * examples were flipped.
 */
#include "cli/label_noise.h"

#include "cli/cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 (Steele, Lea and Flood 2014): a 64-bit generator whose every
 * seed gives a full-period, well-mixed stream. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A uniform integer in [0, bound) by rejection, so no value is favoured. */
static uint64_t uniform_below(uint64_t *state, uint64_t bound)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t value;
    do
        value = next_random(state);
    while (value >= limit);
    return value % bound;
}

int cli_flip_labels(const char *subcommand, const int32_t *labels, size_t n,
                    int32_t n_classes, double rate, uint64_t seed,
                    cli_label_noise *out)
{
    memset(out, 0, sizeof *out);
    size_t *order = malloc(n * sizeof *order);
    out->labels = malloc(n * sizeof *out->labels);
    out->flipped = calloc(n, sizeof *out->flipped);
    if (order == NULL || out->labels == NULL || out->flipped == NULL) {
        free(order);
        cli_label_noise_free(out);
        return cli_runtime_error(subcommand,
                                 "out of memory flipping %zu labels", n);
    }
    memcpy(out->labels, labels, n * sizeof *labels);

    /* The first m entries of a partial Fisher-Yates shuffle are a uniform
     * sample of m examples without replacement. */
    const size_t m = (size_t)llround(rate * (double)n);
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 0; i < m; i++) {
        const size_t j = i + (size_t)uniform_below(&state, n - i);
        const size_t chosen = order[j];
        order[j] = order[i];
        order[i] = chosen;

        /* Adding 1 .. C-1 modulo C reaches every other class once. */
        const int32_t shift =
            1 + (int32_t)uniform_below(&state, (uint64_t)(n_classes - 1));
        out->labels[chosen] = (labels[chosen] + shift) % n_classes;
        out->flipped[chosen] = 1.0f;
    }
    out->n_flipped = m;
    free(order);
    return CLI_EXIT_OK;
}

void cli_label_noise_free(cli_label_noise *noise)
{
    free(noise->labels);
    free(noise->flipped);
    noise->labels = NULL;
    noise->flipped = NULL;
}
