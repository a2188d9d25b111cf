/*
 * The cs_holdout handle: construction with its checks, release, and the
 * queries of its recipe and summary. Drawing runs is in run.c, record
 * files in record_file.c, results in result.c.
 */
#include "holdout/holdout_internal.h"

#include "io/io.h"

#include <stdio.h>
#include <string.h>

#define SUMMARY_MIN_SIZE                                                      \
    (offsetof(cs_holdout_summary, overhead_seconds) + sizeof(double))

/* Creates the tallies of every planned ratio up front, with room for the
 * done bit of every run, so that counting a run never allocates. */
static bool allocate_plan_tallies(cs_holdout *holdout)
{
    for (int32_t k = 0; k < holdout->options.n_ratios; k++) {
        cs__tally *tally = cs__tally_get(&holdout->tallies,
                                         holdout->options.ratios[k]);
        if (tally == NULL ||
            !cs__tally_reserve(tally, holdout->options.runs - 1))
            return false;
    }
    return true;
}

cs_status cs__holdout_new(const char *fn, const cs_holdout_options *options,
                          bool has_plan, size_t n, int32_t *labels,
                          char *recipe, uint64_t master_seed, cs_holdout **out)
{
    cs_holdout *h = cs__calloc(1, sizeof *h);
    if (h == NULL) {
        cs__free(labels);
        cs__free(recipe);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the estimate");
    }
    h->n = n;
    h->labels = labels;
    h->label_hash = cs__label_hash(labels, n);
    h->recipe = recipe;
    h->master_seed = master_seed;
    h->has_plan = has_plan;
    if (has_plan)
        h->options = *options;
    else
        cs_holdout_options_init(&h->options);
    h->tallies.n = n;
    cs__holdout_index_plan(h);
    pthread_mutex_init(&h->lock, NULL);

    h->summary.struct_size = sizeof h->summary;
    h->summary.runs_planned = cs__holdout_planned_runs(h);

    if (has_plan && !allocate_plan_tallies(h)) {
        cs_holdout_free(h);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the counts of %d ratios for "
                            "%zu examples",
                            (int)options->n_ratios, n);
    }
    *out = h;
    return CS_OK;
}

static cs_status check_labels(const char *fn, const int32_t *labels, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        if (labels[j] >= 0)
            continue;
        cs__where where = cs__where_none(fn);
        where.argument = "labels";
        where.index = (int64_t)j;
        where.example_id = (int64_t)j;
        char value[16];
        snprintf(value, sizeof value, "%d", (int)labels[j]);
        return cs__fail(CS_E_LABEL_OUT_OF_RANGE, &where, value,
                        "labels[%zu] is %d; class labels must be >= 0", j,
                        (int)labels[j]);
    }
    return CS_OK;
}

static cs_status check_create_arguments(const char *fn,
                                        const cs_holdout_options *options,
                                        const int32_t *labels, size_t n,
                                        const char *recipe)
{
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "options",
                            "options is NULL; initialise a "
                            "cs_holdout_options with "
                            "cs_holdout_options_init()");
    if (labels == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "labels",
                            "labels is NULL");
    if (recipe == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "recipe",
                            "recipe is NULL; pass a text naming the trainer "
                            "and its settings, e.g. cs_holdout_mlp_recipe()");
    if (n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n", "n is 0");
    if (n < 2)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n",
                            "n is %zu; the estimator needs at least 2 "
                            "examples, one to train on and one to hold out",
                            n);
    if (n > SIZE_MAX / 16)
        return cs__fail_arg(CS_E_OVERFLOW, fn, "n",
                            "n is %zu; the per-example arrays of that many "
                            "examples do not fit in memory",
                            n);
    if (strnlen(recipe, CS_HOLDOUT_MAX_RECIPE_LENGTH + 1) >
        CS_HOLDOUT_MAX_RECIPE_LENGTH)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "recipe",
                            "the recipe text is longer than %d bytes",
                            CS_HOLDOUT_MAX_RECIPE_LENGTH);
    return check_labels(fn, labels, n);
}

cs_status cs_holdout_create(const cs_holdout_options *options,
                            const int32_t *labels, size_t n,
                            const char *recipe, cs_holdout **out)
{
    const char *fn = "cs_holdout_create";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out",
                            "out is NULL; pass the address of a cs_holdout "
                            "pointer");
    *out = NULL;
    cs_status status = check_create_arguments(fn, options, labels, n, recipe);
    if (status != CS_OK)
        return status;

    cs_holdout_options opts;
    status = cs__holdout_read_options(fn, options, &opts);
    if (status == CS_OK)
        status = cs__holdout_check_options(fn, &opts, n);
    if (status != CS_OK)
        return status;

    int32_t *labels_copy = cs__alloc_array(n, sizeof *labels_copy);
    char *recipe_copy = cs__copy_string(recipe);
    if (labels_copy == NULL || recipe_copy == NULL) {
        cs__free(labels_copy);
        cs__free(recipe_copy);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot copy %zu labels and the recipe", n);
    }
    memcpy(labels_copy, labels, n * sizeof *labels_copy);
    return cs__holdout_new(fn, &opts, true, n, labels_copy, recipe_copy,
                           opts.seed, out);
}

void cs_holdout_free(cs_holdout *holdout)
{
    if (holdout == NULL)
        return;
    cs__records_close(holdout->records);
    cs__tallies_clear(&holdout->tallies);
    pthread_mutex_destroy(&holdout->lock);
    cs__free(holdout->labels);
    cs__free(holdout->recipe);
    cs__free(holdout);
}

const char *cs_holdout_recipe(const cs_holdout *holdout)
{
    return holdout == NULL ? NULL : holdout->recipe;
}

int64_t cs_holdout_n_examples(const cs_holdout *holdout)
{
    return holdout == NULL ? -1 : (int64_t)holdout->n;
}

cs_status cs_holdout_get_summary(const cs_holdout *holdout,
                                 cs_holdout_summary *summary)
{
    const char *fn = "cs_holdout_get_summary";
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "holdout",
                            "holdout is NULL");
    if (summary == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "summary",
                            "summary is NULL; pass a cs_holdout_summary "
                            "with struct_size set");
    if (summary->struct_size < SUMMARY_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "summary",
                            "summary->struct_size is %zu, below the minimum "
                            "%zu; set it to sizeof(cs_holdout_summary)",
                            summary->struct_size, (size_t)SUMMARY_MIN_SIZE);

    cs_holdout_summary copy = holdout->summary;
    for (int32_t r = 1; r < CS__RATIO_SLOTS; r++)
        if (holdout->tallies.ratio[r] != NULL)
            copy.runs_done += holdout->tallies.ratio[r]->runs;

    const size_t given = summary->struct_size;
    memcpy(summary, &copy, given < sizeof copy ? given : sizeof copy);
    summary->struct_size = given;
    return CS_OK;
}

bool cs__holdout_has_ratio(const cs_holdout *holdout, int32_t ratio)
{
    if (ratio < 1 || ratio > 99)
        return false;
    if (holdout->has_plan)
        return holdout->ratio_position[ratio] >= 0;
    const cs__tally *tally = holdout->tallies.ratio[ratio];
    return tally != NULL && tally->runs > 0;
}
