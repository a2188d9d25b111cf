/*
 * The image grid of `cscore bench`: per class, the examples that a score
 * ranks least and most regular, for bench/plot.py to draw from the image
 * file. Example ids are indices into the truth's order, which for the
 * Fashion-MNIST bench is the row of the IDX training file.
 */
#include "cli/bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct scored {
    double score; /* oriented: higher is more regular */
    int64_t id;
    int64_t label;
} scored;

/* Orders by label, then from least to most regular, then by id. */
static int compare_scored(const void *a, const void *b)
{
    const scored *x = a;
    const scored *y = b;
    if (x->label != y->label)
        return (x->label > y->label) - (x->label < y->label);
    if (x->score != y->score)
        return (x->score > y->score) - (x->score < y->score);
    return (x->id > y->id) - (x->id < y->id);
}

/* Copies up to per_class examples from one end of a class's run. */
static int take_end(const scored *run, size_t length, int32_t per_class,
                    int direction, bool lowest, int64_t **ids, double **scores,
                    size_t *count)
{
    *count = length < (size_t)per_class ? length : (size_t)per_class;
    *ids = malloc((*count + 1) * sizeof **ids);
    *scores = malloc((*count + 1) * sizeof **scores);
    if (*ids == NULL || *scores == NULL)
        return cli_runtime_error("bench", "out of memory");
    for (size_t k = 0; k < *count; k++) {
        const scored *s = lowest ? &run[k] : &run[length - 1 - k];
        (*ids)[k] = s->id;
        (*scores)[k] = direction * s->score; /* back to the raw value */
    }
    return CLI_EXIT_OK;
}

static int add_class(bench_grid *grid, const scored *run, size_t length,
                     int32_t per_class)
{
    bench_grid_class *grown = realloc(grid->classes,
                                      (grid->n_classes + 1) * sizeof *grown);
    if (grown == NULL)
        return cli_runtime_error("bench", "out of memory");
    grid->classes = grown;
    bench_grid_class *c = &grid->classes[grid->n_classes++];
    memset(c, 0, sizeof *c);
    c->label = run[0].label;

    int rc = take_end(run, length, per_class, grid->direction, true,
                      &c->low_ids, &c->low_scores, &c->n_low);
    if (rc == CLI_EXIT_OK)
        rc = take_end(run, length, per_class, grid->direction, false,
                      &c->high_ids, &c->high_scores, &c->n_high);
    return rc;
}

/* Collects the examples that have a label and a score. */
static int collect(const double *values, const cli_proxy_table *table,
                   const cli_alignment *alignment, const cli_truth *truth,
                   int direction, scored **items, size_t *count)
{
    *count = 0;
    *items = malloc((table->n + 1) * sizeof **items);
    if (*items == NULL)
        return cli_runtime_error("bench", "out of memory");
    for (size_t r = 0; r < table->n; r++) {
        const int64_t id = alignment->example_id[r];
        if (isnan(values[r]))
            continue;
        const int64_t label = table->labels != NULL ? table->labels[r]
                                                    : truth->labels[id];
        (*items)[(*count)++] = (scored){direction * values[r], id, label};
    }
    return CLI_EXIT_OK;
}

int bench_grid_run(const char *score, const char *file,
                   const cli_proxy_table *table,
                   const cli_alignment *alignment, const cli_truth *truth,
                   int32_t per_class, bench_grid *out)
{
    memset(out, 0, sizeof *out);
    out->score = score;
    out->file = file;
    if (table->labels == NULL && truth->labels == NULL)
        return cli_runtime_error("bench",
                                 "the image grid groups examples by class, "
                                 "but neither %s nor %s has labels",
                                 table->path, truth->path);

    const bool by_truth = strcmp(score, "truth") == 0;
    double *values = NULL;
    int rc = CLI_EXIT_OK;
    if (by_truth) {
        out->direction = 1;
    } else {
        const int direction = cli_proxy_direction_of(score);
        out->direction = direction != 0 ? direction : 1;
        rc = cli_proxy_column_values("bench",
                                     cli_proxy_table_find(table, score),
                                     table->n, &values);
    }

    scored *items = NULL;
    size_t count = 0;
    if (rc == CLI_EXIT_OK)
        rc = collect(by_truth ? alignment->truth : values, table, alignment,
                     truth, out->direction, &items, &count);
    if (rc == CLI_EXIT_OK)
        qsort(items, count, sizeof *items, compare_scored);

    /* One run of equal labels per class. */
    size_t start = 0;
    while (rc == CLI_EXIT_OK && start < count) {
        size_t end = start;
        while (end < count && items[end].label == items[start].label)
            end++;
        rc = add_class(out, items + start, end - start, per_class);
        start = end;
    }
    free(items);
    free(values);
    return rc;
}
