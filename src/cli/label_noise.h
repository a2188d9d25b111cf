/* Seeded label corruption for `cscore train --flip-labels`. */
#ifndef CS_CLI_LABEL_NOISE_H
#define CS_CLI_LABEL_NOISE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_label_noise {
    int32_t *labels; /* N labels with the chosen ones replaced */
    float *flipped;  /* N values, 1 where the label was replaced, else 0 */
    size_t n_flipped;
} cli_label_noise;

/* Replaces round(rate * n) labels, chosen uniformly without replacement
 * from a generator seeded with seed, each by a class drawn uniformly from
 * the n_classes - 1 other classes. Returns an exit code; on failure
 * nothing is left allocated. */
int cli_flip_labels(const char *subcommand, const int32_t *labels, size_t n,
                    int32_t n_classes, double rate, uint64_t seed,
                    cli_label_noise *out);

void cli_label_noise_free(cli_label_noise *noise);

#endif /* CS_CLI_LABEL_NOISE_H */
