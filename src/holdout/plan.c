/*
 * The plan of an estimate: which ratios and runs it covers, the checks of
 * cs_holdout_options, and the split of the plan into slices of about
 * equal training cost for separate processes.
 */
#include "holdout/holdout_internal.h"

#include <string.h>

/* The smallest struct_size a caller may pass: every field up to
 * slice_count, the last field of version 0.1. */
#define OPTIONS_MIN_SIZE                                                      \
    (offsetof(cs_holdout_options, slice_count) + sizeof(int32_t))

void cs_holdout_options_init(cs_holdout_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->runs = 1;
    options->workers = 1;
    options->slice_count = 1;
}

cs_status cs__holdout_read_options(const char *fn,
                                   const cs_holdout_options *given,
                                   cs_holdout_options *out)
{
    if (given->struct_size < OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; initialise the options with "
                            "cs_holdout_options_init()",
                            given->struct_size, (size_t)OPTIONS_MIN_SIZE);

    cs_holdout_options_init(out);
    const size_t size = given->struct_size < sizeof *out ? given->struct_size
                                                         : sizeof *out;
    memcpy(out, given, size);
    out->struct_size = sizeof *out;
    return CS_OK;
}

static cs_status check_ratio(const char *fn, const cs_holdout_options *o,
                             int32_t k, size_t n, const bool *seen)
{
    const int32_t ratio = o->ratios[k];
    cs__where where = cs__where_none(fn);
    where.argument = "options->ratios";
    where.index = k;

    if (ratio < 1 || ratio > 99)
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, NULL,
                        "options->ratios[%d] is %d; ratios are whole "
                        "percents from 1 to 99",
                        (int)k, (int)ratio);
    if (seen[ratio])
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, NULL,
                        "options->ratios[%d] repeats ratio %d; list each "
                        "ratio once",
                        (int)k, (int)ratio);

    const size_t n_train = cs_holdout_subset_size(n, ratio);
    if (n_train == 0 || n_train == n)
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, NULL,
                        "ratio %d%% of %zu examples gives a training subset "
                        "of %zu, which leaves nothing to train on or "
                        "nothing to hold out; use more examples or another "
                        "ratio",
                        (int)ratio, n, n_train);
    return CS_OK;
}

static cs_status check_sizes(const char *fn, const cs_holdout_options *o)
{
    if (o->n_ratios < 1 || o->n_ratios > CS_HOLDOUT_MAX_RATIOS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->n_ratios",
                            "options->n_ratios is %d; list 1 to %d ratios",
                            (int)o->n_ratios, CS_HOLDOUT_MAX_RATIOS);
    if (o->runs < 1 || o->runs > CS_HOLDOUT_MAX_RUNS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->runs",
                            "options->runs is %d; use 1 to %d runs per "
                            "ratio",
                            (int)o->runs, CS_HOLDOUT_MAX_RUNS);
    if (o->workers < 1 || o->workers > CS_HOLDOUT_MAX_WORKERS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->workers",
                            "options->workers is %d; use 1 to %d",
                            (int)o->workers, CS_HOLDOUT_MAX_WORKERS);
    if (o->slice_count < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->slice_count",
                            "options->slice_count is %d; use 1 for the "
                            "whole plan",
                            (int)o->slice_count);
    if (o->slice_index < 0 || o->slice_index >= o->slice_count)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->slice_index",
                            "options->slice_index is %d; slices are "
                            "numbered 0 to slice_count - 1 = %d",
                            (int)o->slice_index, (int)o->slice_count - 1);
    return CS_OK;
}

cs_status cs__holdout_check_options(const char *fn,
                                    const cs_holdout_options *options,
                                    size_t n)
{
    cs_status status = check_sizes(fn, options);
    if (status != CS_OK)
        return status;

    bool seen[CS__RATIO_SLOTS] = {false};
    for (int32_t k = 0; k < options->n_ratios; k++) {
        status = check_ratio(fn, options, k, n, seen);
        if (status != CS_OK)
            return status;
        seen[options->ratios[k]] = true;
    }
    return CS_OK;
}

void cs__holdout_index_plan(cs_holdout *holdout)
{
    for (int32_t r = 0; r < CS__RATIO_SLOTS; r++)
        holdout->ratio_position[r] = -1;
    if (!holdout->has_plan)
        return;

    /* Positions count the planned ratios from the largest down, because
     * the slices deal the most expensive runs first. */
    int32_t position = 0;
    for (int32_t r = CS__RATIO_SLOTS - 1; r >= 1; r--) {
        for (int32_t k = 0; k < holdout->options.n_ratios; k++) {
            if (holdout->options.ratios[k] == r) {
                holdout->ratio_position[r] = position++;
                break;
            }
        }
    }
}

/* Returns the slice of the p-th run in the dealing order: slices 0 .. c-1,
 * then c-1 .. 0, and so on, so that neighbouring runs, which have about
 * the same cost, are spread over every slice in both directions. */
static int64_t slice_of_position(int64_t p, int64_t c)
{
    const int64_t cycle = p % (2 * c);
    return cycle < c ? cycle : 2 * c - 1 - cycle;
}

bool cs__holdout_in_plan(const cs_holdout *holdout, int32_t ratio, int32_t run)
{
    if (ratio < 1 || ratio > 99 || run < 0 || run >= CS_HOLDOUT_MAX_RUNS)
        return false;
    if (!holdout->has_plan)
        return true;

    const cs_holdout_options *o = &holdout->options;
    const int32_t position = holdout->ratio_position[ratio];
    if (position < 0 || run >= o->runs)
        return false;
    const int64_t p = (int64_t)position * o->runs + run;
    return slice_of_position(p, o->slice_count) == o->slice_index;
}

int64_t cs__holdout_planned_runs(const cs_holdout *holdout)
{
    if (!holdout->has_plan)
        return -1;

    const cs_holdout_options *o = &holdout->options;
    const int64_t total = (int64_t)o->n_ratios * o->runs;
    const int64_t c = o->slice_count;
    const int64_t s = o->slice_index;

    /* Each full cycle of 2c positions deals two runs to every slice. In the
     * partial cycle at the end, slice s gets cycle values s and 2c - 1 - s
     * if they are reached. */
    const int64_t remainder = total % (2 * c);
    int64_t count = 2 * (total / (2 * c));
    if (s < remainder)
        count++;
    if (2 * c - 1 - s < remainder)
        count++;
    return count;
}
