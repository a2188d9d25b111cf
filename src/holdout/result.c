/*
 * Results of an estimate: per-ratio scores with their counts and standard
 * errors, the integral over ratios, the raw counts and their addition from
 * elsewhere (reductions over MPI ranks), and the .npz export.
 */
#include "holdout/holdout_internal.h"

#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static cs_status check_result_call(const char *fn, const cs_holdout *holdout,
                                   size_t n)
{
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "holdout",
                            "holdout is NULL");
    if (n != holdout->n)
        return cs__fail_arg(CS_E_SIZE_MISMATCH, fn, "n",
                            "n is %zu, but the estimate has %zu examples", n,
                            holdout->n);
    return CS_OK;
}

static cs_status check_ratio(const char *fn, const cs_holdout *holdout,
                             int32_t ratio)
{
    if (cs__holdout_has_ratio(holdout, ratio))
        return CS_OK;
    cs__where where = cs__where_none(fn);
    where.argument = "ratio";
    char value[16];
    snprintf(value, sizeof value, "%d", (int)ratio);
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                    "ratio %d is not part of this estimate; "
                    "cs_holdout_ratios() lists the ratios it has",
                    (int)ratio);
}

cs_status cs_holdout_ratios(const cs_holdout *holdout, int32_t *ratios,
                            size_t capacity, size_t *count)
{
    const char *fn = "cs_holdout_ratios";
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "holdout",
                            "holdout is NULL");
    if (count == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "count", "count is NULL");
    if (ratios == NULL && capacity > 0)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "ratios",
                            "ratios is NULL but capacity is %zu", capacity);

    size_t total = 0;
    for (int32_t r = 1; r < CS__RATIO_SLOTS; r++)
        total += cs__holdout_has_ratio(holdout, r);
    if (ratios != NULL && capacity < total)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "capacity",
                            "capacity is %zu, but the estimate has %zu "
                            "ratios",
                            capacity, total);

    size_t next = 0;
    for (int32_t r = 1; r < CS__RATIO_SLOTS && ratios != NULL; r++)
        if (cs__holdout_has_ratio(holdout, r))
            ratios[next++] = r;
    *count = total;
    return CS_OK;
}

/* Writes score, count and standard error of example j of a tally (NULL
 * means no runs) to whichever outputs are set. */
static void example_score(const cs__tally *tally, size_t j, double *score,
                          int32_t *count, double *se)
{
    const uint32_t heldout = tally == NULL ? 0 : tally->heldout[j];
    double p = NAN, error = NAN;
    if (heldout > 0) {
        p = (double)tally->correct[j] / (double)heldout;
        error = sqrt(p * (1.0 - p) / (double)heldout);
    }
    if (score != NULL)
        score[j] = p;
    if (count != NULL)
        count[j] = (int32_t)heldout;
    if (se != NULL)
        se[j] = error;
}

cs_status cs_holdout_scores(const cs_holdout *holdout, int32_t ratio,
                            double *score, int32_t *count, double *se,
                            size_t n)
{
    const char *fn = "cs_holdout_scores";
    cs_status status = check_result_call(fn, holdout, n);
    if (status == CS_OK)
        status = check_ratio(fn, holdout, ratio);
    if (status != CS_OK)
        return status;

    const cs__tally *tally = holdout->tallies.ratio[ratio];
    for (size_t j = 0; j < n; j++)
        example_score(tally, j, score, count, se);
    return CS_OK;
}

cs_status cs_holdout_integral(const cs_holdout *holdout, double *integral,
                              int32_t *heldout_count, size_t n)
{
    const char *fn = "cs_holdout_integral";
    const cs_status status = check_result_call(fn, holdout, n);
    if (status != CS_OK)
        return status;

    for (size_t j = 0; j < n; j++) {
        double sum = 0.0;
        int32_t scored = 0;
        int64_t total = 0;
        for (int32_t r = 1; r < CS__RATIO_SLOTS; r++) {
            const cs__tally *tally = holdout->tallies.ratio[r];
            if (!cs__holdout_has_ratio(holdout, r) || tally == NULL ||
                tally->heldout[j] == 0)
                continue;
            sum += (double)tally->correct[j] / (double)tally->heldout[j];
            scored++;
            total += tally->heldout[j];
        }
        if (integral != NULL)
            integral[j] = scored > 0 ? sum / scored : NAN;
        if (heldout_count != NULL)
            heldout_count[j] = (int32_t)total;
    }
    return CS_OK;
}

cs_status cs_holdout_counts(const cs_holdout *holdout, int32_t ratio,
                            int32_t *heldout, int32_t *correct, size_t n,
                            int64_t *runs)
{
    const char *fn = "cs_holdout_counts";
    cs_status status = check_result_call(fn, holdout, n);
    if (status == CS_OK)
        status = check_ratio(fn, holdout, ratio);
    if (status != CS_OK)
        return status;

    const cs__tally *tally = holdout->tallies.ratio[ratio];
    for (size_t j = 0; j < n; j++) {
        if (heldout != NULL)
            heldout[j] = tally == NULL ? 0 : (int32_t)tally->heldout[j];
        if (correct != NULL)
            correct[j] = tally == NULL ? 0 : (int32_t)tally->correct[j];
    }
    if (runs != NULL)
        *runs = tally == NULL ? 0 : tally->runs;
    return CS_OK;
}

/* Checks counts to be added to tally (NULL: no runs yet). */
static cs_status check_added_counts(const char *fn, const cs__tally *tally,
                                    const int32_t *heldout,
                                    const int32_t *correct, size_t n,
                                    int64_t runs)
{
    const int64_t before = tally == NULL ? 0 : tally->runs;
    if (runs < 0 || runs > CS_HOLDOUT_MAX_RUNS - before)
        return cs__fail_arg(runs < 0 ? CS_E_INVALID_ARGUMENT : CS_E_OVERFLOW,
                            fn, "runs",
                            "runs is %lld; with the %lld runs counted "
                            "already, the total must be 0 to %d",
                            (long long)runs, (long long)before,
                            CS_HOLDOUT_MAX_RUNS);
    for (size_t j = 0; j < n; j++) {
        if (heldout[j] >= 0 && heldout[j] <= runs && correct[j] >= 0 &&
            correct[j] <= heldout[j])
            continue;
        cs__where where = cs__where_none(fn);
        where.argument = "heldout";
        where.index = (int64_t)j;
        where.example_id = (int64_t)j;
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, NULL,
                        "example %zu has heldout %d and correct %d; counts "
                        "need 0 <= correct <= heldout <= runs = %lld",
                        j, (int)heldout[j], (int)correct[j], (long long)runs);
    }
    return CS_OK;
}

cs_status cs_holdout_add_counts(cs_holdout *holdout, int32_t ratio,
                                const int32_t *heldout, const int32_t *correct,
                                size_t n, int64_t runs)
{
    const char *fn = "cs_holdout_add_counts";
    cs_status status = check_result_call(fn, holdout, n);
    if (status != CS_OK)
        return status;
    if (heldout == NULL || correct == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn,
                            heldout == NULL ? "heldout" : "correct",
                            "%s is NULL",
                            heldout == NULL ? "heldout" : "correct");
    const bool allowed = holdout->has_plan
                             ? cs__holdout_has_ratio(holdout, ratio)
                             : ratio >= 1 && ratio <= 99;
    if (!allowed)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "ratio",
                            "ratio %d is not planned in this estimate; add "
                            "counts only to the ratios of its plan",
                            (int)ratio);
    status = check_added_counts(fn, holdout->tallies.ratio[ratio], heldout,
                                correct, n, runs);
    if (status != CS_OK)
        return status;

    cs__tally *tally = cs__tally_get(&holdout->tallies, ratio);
    if (tally == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the counts of ratio %d",
                            (int)ratio);
    for (size_t j = 0; j < n; j++) {
        tally->heldout[j] += (uint32_t)heldout[j];
        tally->correct[j] += (uint32_t)correct[j];
    }
    tally->runs += runs;
    holdout->counts_added = true;
    return CS_OK;
}

/* Adds one ratio's three arrays to the archive, computed into buffers of
 * N entries. */
static cs_status add_ratio(cs__npz_writer *writer, const cs_holdout *h,
                           int32_t ratio, double *score, double *se,
                           int32_t *count)
{
    const int64_t shape[1] = {(int64_t)h->n};
    cs_holdout_scores(h, ratio, score, count, se, h->n);

    char name[32];
    snprintf(name, sizeof name, "score_s%d", (int)ratio);
    cs_status status = cs__npz_add(writer, name, CS__DTYPE_F64, shape, 1,
                                   score);
    snprintf(name, sizeof name, "count_s%d", (int)ratio);
    if (status == CS_OK)
        status = cs__npz_add(writer, name, CS__DTYPE_I32, shape, 1, count);
    snprintf(name, sizeof name, "se_s%d", (int)ratio);
    if (status == CS_OK)
        status = cs__npz_add(writer, name, CS__DTYPE_F64, shape, 1, se);
    return status;
}

static cs_status add_arrays(cs__npz_writer *writer, const cs_holdout *h,
                            double *values, double *errors, int32_t *counts)
{
    const int64_t shape[1] = {(int64_t)h->n};
    cs_status status = cs__npz_add(writer, "labels", CS__DTYPE_I32, shape, 1,
                                   h->labels);
    for (int32_t r = 1; r < CS__RATIO_SLOTS && status == CS_OK; r++)
        if (cs__holdout_has_ratio(h, r))
            status = add_ratio(writer, h, r, values, errors, counts);
    if (status != CS_OK)
        return status;

    cs_holdout_integral(h, values, counts, h->n);
    status = cs__npz_add(writer, "integral", CS__DTYPE_F64, shape, 1, values);
    if (status == CS_OK)
        status = cs__npz_add(writer, "heldout_count", CS__DTYPE_I32, shape, 1,
                             counts);
    return status;
}

cs_status cs_holdout_export_npz(const cs_holdout *holdout, const char *path)
{
    const char *fn = "cs_holdout_export_npz";
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "holdout",
                            "holdout is NULL");
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");

    const size_t n = holdout->n;
    double *values = cs__alloc_array(n, sizeof *values);
    double *errors = cs__alloc_array(n, sizeof *errors);
    int32_t *counts = cs__alloc_array(n, sizeof *counts);
    cs_status status = CS_OK;
    if (values == NULL || errors == NULL || counts == NULL)
        status = cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                              "cannot allocate the result arrays of %zu "
                              "examples",
                              n);

    cs__npz_writer *writer = NULL;
    if (status == CS_OK)
        status = cs__npz_open(path, fn, &writer);
    if (status == CS_OK)
        status = add_arrays(writer, holdout, values, errors, counts);
    if (status == CS_OK)
        status = cs__npz_close(writer);
    else
        cs__npz_abort(writer);

    cs__free(values);
    cs__free(errors);
    cs__free(counts);
    return status;
}
