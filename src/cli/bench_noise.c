/*
 * Label-noise analysis of `cscore bench`: in a run trained on labels of
 * which some were flipped on purpose (the `flipped` array), how well each
 * proxy puts the flipped examples among the least regular. Each proxy's
 * values are oriented so that a higher score means less regular: negated
 * for proxies that rise with regularity, kept for those that fall.
 */
#include "cli/bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One example in the precision ranking. */
typedef struct ranked {
    double score; /* oriented: higher is less regular */
    uint8_t flipped;
} ranked;

static int compare_descending(const void *a, const void *b)
{
    const double x = ((const ranked *)a)->score;
    const double y = ((const ranked *)b)->score;
    return (x < y) - (x > y);
}

/* Precision among the k = (number flipped) highest scores, where k cuts
 * through a group of tied scores, the group counts with the share of its
 * members that are flipped: the expected precision when ties are broken
 * at random. */
static double precision_at_flipped(ranked *items, size_t m, size_t k)
{
    if (k == 0)
        return NAN;
    qsort(items, m, sizeof *items, compare_descending);

    double hits = 0.0;
    size_t n_taken = 0, start = 0;
    while (n_taken < k && start < m) {
        size_t end = start, flipped = 0;
        while (end < m && items[end].score == items[start].score)
            flipped += items[end++].flipped;
        const size_t group = end - start;
        const size_t take = group <= k - n_taken ? group : k - n_taken;
        hits += (double)take * (double)flipped / (double)group;
        n_taken += take;
        start = end;
    }
    return hits / (double)k;
}

static int measure_proxy(const cs__bench_config *config,
                         const cli_proxy_table *table,
                         const cli_proxy_column *column, const double *labels,
                         bench_noise_proxy *out)
{
    double *values = NULL;
    int rc = cli_proxy_column_values("bench", column, table->n, &values);
    ranked *items = malloc((table->n + 1) * sizeof *items);
    if (rc == CLI_EXIT_OK && items == NULL)
        rc = cli_runtime_error("bench", "out of memory");

    const int direction = cli_proxy_direction_of(column->name);
    out->proxy = strdup(column->name);
    if (rc == CLI_EXIT_OK && out->proxy == NULL)
        rc = cli_runtime_error("bench", "out of memory");
    out->direction_known = direction != 0;
    out->direction = direction != 0 ? direction : 1;
    size_t m = 0;
    for (size_t i = 0; rc == CLI_EXIT_OK && i < table->n; i++) {
        values[i] = -out->direction * values[i];
        if (!isnan(values[i]))
            items[m++] = (ranked){values[i], table->flipped[i]};
    }

    cs_bootstrap_options bootstrap;
    cs_bootstrap_options_init(&bootstrap);
    bootstrap.resamples = config->bootstrap;
    bootstrap.confidence = config->confidence;
    bootstrap.seed = config->seed;
    out->has_interval = config->bootstrap > 0;
    cs_status st = CS_OK;
    if (rc == CLI_EXIT_OK && out->has_interval) {
        st = cs_bootstrap_interval(CS_STATISTIC_AUROC, values, labels,
                                   table->n, NULL, &bootstrap,
                                   &out->auroc_interval);
        out->auroc = out->auroc_interval.estimate;
    } else if (rc == CLI_EXIT_OK) {
        st = cs_auroc(values, labels, table->n, NULL, &out->auroc, NULL);
    }
    if (rc == CLI_EXIT_OK && st != CS_OK)
        rc = cli_library_error("bench");

    if (rc == CLI_EXIT_OK) {
        out->n = m;
        out->n_flipped = 0;
        for (size_t i = 0; i < m; i++)
            out->n_flipped += items[i].flipped;
        out->precision = precision_at_flipped(items, m, out->n_flipped);
    }
    free(values);
    free(items);
    return rc;
}

int bench_noise_run(const cs__bench_config *config,
                    const cli_proxy_table *table,
                    const cli_proxy_column *const *columns, size_t count,
                    bench_noise *out)
{
    memset(out, 0, sizeof *out);
    out->file = config->label_noise.name.text;
    out->path = config->label_noise.path.text; /* outlives the table */
    out->n = table->n;
    for (size_t i = 0; i < table->n; i++)
        out->n_flipped += table->flipped[i];

    double *labels = malloc((table->n + 1) * sizeof *labels);
    out->proxies = calloc(count + 1, sizeof *out->proxies);
    if (labels == NULL || out->proxies == NULL) {
        free(labels);
        return cli_runtime_error("bench", "out of memory");
    }
    for (size_t i = 0; i < table->n; i++)
        labels[i] = table->flipped[i];

    int rc = CLI_EXIT_OK;
    for (size_t k = 0; k < count && rc == CLI_EXIT_OK; k++) {
        rc = measure_proxy(config, table, columns[k], labels,
                           &out->proxies[k]);
        out->n_proxies = k + 1;
    }
    free(labels);
    return rc;
}
