/*
 * cs_tracker_merge(): union of two trackers' (example, epoch) observations
 * from their per-epoch history, then every proxy replayed from the union
 * through the same accumulator the live path uses, so a merge of shards is
 * bit-identical to one tracker fed every observation.
 */
#include "tracker_internal.h"

#include <stdio.h>
#include <string.h>

static cs_status check_shapes(const cs_tracker *dst, const cs_tracker *src)
{
    const char *fn = "cs_tracker_merge";
    const cs_tracker_options *a = &dst->options;
    const cs_tracker_options *b = &src->options;

    if (!a->keep_history || !b->keep_history)
        return cs__fail_arg(CS_E_NO_HISTORY, fn,
                            a->keep_history ? "src" : "dst",
                            "merging needs per-epoch history; create both "
                            "trackers with keep_history set");
    if (a->n_examples != b->n_examples || a->n_classes != b->n_classes ||
        a->input_kind != b->input_kind || a->feature_dim != b->feature_dim)
        return cs__fail_arg(CS_E_INCOMPATIBLE, fn, "src",
                            "dst has N=%lld, C=%d, input kind %d, "
                            "feature_dim %d but src has N=%lld, C=%d, input "
                            "kind %d, feature_dim %d; only trackers of the "
                            "same run can be merged",
                            (long long)a->n_examples, (int)a->n_classes,
                            (int)a->input_kind, (int)a->feature_dim,
                            (long long)b->n_examples, (int)b->n_classes,
                            (int)b->input_kind, (int)b->feature_dim);
    if (dst->open_observations > 0 || src->open_observations > 0)
        return cs__fail_arg(CS_E_EPOCH_OPEN, fn,
                            dst->open_observations > 0 ? "dst" : "src",
                            "%s has observations in an epoch not yet ended; "
                            "call cs_end_epoch() on it before merging",
                            dst->open_observations > 0 ? "dst" : "src");
    return CS_OK;
}

static cs_status check_labels(const cs_tracker *dst, const cs_tracker *src)
{
    for (size_t i = 0; i < dst->n_examples; i++) {
        const int32_t a = dst->examples[i].label;
        const int32_t b = src->examples[i].label;
        if (a < 0 || b < 0 || a == b)
            continue;

        cs__where where = cs__where_none("cs_tracker_merge");
        where.argument = "src";
        where.example_id = (int64_t)i;
        char value[32];
        snprintf(value, sizeof value, "%d", (int)b);
        return cs__fail(CS_E_LABEL_CHANGED, &where, value,
                        "example id %zu has label %d in dst but %d in src; "
                        "the trackers did not see the same data set",
                        i, (int)a, (int)b);
    }
    return CS_OK;
}

/* Copies src's observations that dst lacks into dst's history and returns
 * how many pairs both had (dropped as repeats, dst winning). */
static int64_t union_history(cs_tracker *dst, const cs_tracker *src)
{
    int64_t overlaps = 0;
    const size_t n = dst->n_examples;

    for (int32_t e = 0; e < src->epochs_ended; e++) {
        cs__epoch_history *to = &dst->history[e];
        const cs__epoch_history *from = &src->history[e];
        for (size_t i = 0; i < n; i++) {
            if (!from->observed[i])
                continue;
            if (to->observed[i]) {
                overlaps++;
                continue;
            }
            to->observed[i] = 1;
            to->correct[i] = from->correct[i];
            to->p_l[i] = from->p_l[i];
            to->p_max[i] = from->p_max[i];
            to->margin[i] = from->margin[i];
            to->el2n[i] = from->el2n[i];
        }
    }
    return overlaps;
}

/* Takes labels dst lacks, and feature rows src saw more recently. Runs
 * before the replay, which rewrites last_epoch. */
static void union_labels_and_features(cs_tracker *dst, const cs_tracker *src)
{
    const size_t d = dst->feature_dim;
    for (size_t i = 0; i < dst->n_examples; i++) {
        cs__example *to = &dst->examples[i];
        const cs__example *from = &src->examples[i];
        if (to->label < 0)
            to->label = from->label;
        if (d > 0 && from->last_epoch > to->last_epoch)
            memcpy(dst->features + i * d, src->features + i * d,
                   d * sizeof(float));
    }
}

static void replay_history(cs_tracker *t)
{
    cs__tracker_reset_accumulators(t);
    for (int32_t e = 0; e < t->epochs_ended; e++) {
        const cs__epoch_history *h = &t->history[e];
        for (size_t i = 0; i < t->n_examples; i++) {
            if (!h->observed[i])
                continue;
            const cs__row_stats row = {
                .p_l = h->p_l[i],
                .p_max = h->p_max[i],
                .margin = h->margin[i],
                .el2n = h->el2n[i],
                .correct = h->correct[i],
            };
            cs__tracker_accumulate(t, i, e + 1, &row);
        }
    }
}

cs_status cs_tracker_merge(cs_tracker *dst, const cs_tracker *src)
{
    const char *fn = "cs_tracker_merge";
    if (dst == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "dst", "dst is NULL");
    if (src == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "src", "src is NULL");
    if (dst == src)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "src",
                            "src and dst are the same tracker");

    cs_status st = check_shapes(dst, src);
    if (st == CS_OK)
        st = check_labels(dst, src);
    if (st != CS_OK)
        return st;

    const int32_t epochs = dst->epochs_ended > src->epochs_ended
                               ? dst->epochs_ended
                               : src->epochs_ended;
    st = cs__tracker_reserve_history(dst, epochs);
    if (st != CS_OK)
        return cs__tracker_history_failure(st, fn, "dst", dst, epochs);

    const int64_t overlaps = union_history(dst, src);
    union_labels_and_features(dst, src);
    dst->epochs_ended = epochs;
    replay_history(dst);
    dst->repeats_dropped += src->repeats_dropped + overlaps;
    return CS_OK;
}
