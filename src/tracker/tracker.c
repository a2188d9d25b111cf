/*
 * Tracker construction, options, per-example state and getters. The
 * observation path lives in observe.c, merging in merge.c, checkpoints in
 * checkpoint.c and exports in export.c.
 */
#include "tracker_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Name, direction and element type of each proxy, indexed by cs_proxy. */
static const struct {
    const char *name;
    int direction;
    int is_integer;
} proxy_table[CS_PROXY_COUNT] = {
    [CS_PROXY_CBTL] = {"cbtl", +1, 1},
    [CS_PROXY_CBTL_FRAC] = {"cbtl_frac", +1, 0},
    [CS_PROXY_P_L_LAST] = {"p_l_last", +1, 0},
    [CS_PROXY_P_L_MEAN] = {"p_l_mean", +1, 0},
    [CS_PROXY_P_MAX_LAST] = {"p_max_last", +1, 0},
    [CS_PROXY_P_MAX_MEAN] = {"p_max_mean", +1, 0},
    [CS_PROXY_P_L_STD] = {"p_l_std", -1, 0},
    [CS_PROXY_FORGETTING] = {"forgetting", -1, 1},
    [CS_PROXY_FIRST_LEARNED] = {"first_learned", -1, 1},
    [CS_PROXY_AUM] = {"aum", +1, 0},
    [CS_PROXY_EL2N] = {"el2n", -1, 0},
};

static bool proxy_valid(cs_proxy proxy)
{
    return (int)proxy >= 0 && (int)proxy < CS_PROXY_COUNT;
}

const char *cs_proxy_name(cs_proxy proxy)
{
    return proxy_valid(proxy) ? proxy_table[proxy].name : NULL;
}

int cs_proxy_direction(cs_proxy proxy)
{
    return proxy_valid(proxy) ? proxy_table[proxy].direction : 0;
}

int cs_proxy_is_integer(cs_proxy proxy)
{
    return proxy_valid(proxy) ? proxy_table[proxy].is_integer : -1;
}

void cs_tracker_options_init(cs_tracker_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->input_kind = CS_INPUT_LOGITS;
    options->repeat_policy = CS_REPEAT_REJECT;
    options->probability_tolerance = CS_DEFAULT_PROBABILITY_TOLERANCE;
}

/* The smallest struct_size a caller may pass: every field up to
 * probability_tolerance, the last field of version 0.1. */
#define CS__OPTIONS_MIN_SIZE                          \
    (offsetof(cs_tracker_options, probability_tolerance) + \
     sizeof(double))

/* Copies the caller's options over the defaults, reading only the bytes
 * the caller's header version knows about. */
static cs_status read_options(const cs_tracker_options *given,
                              cs_tracker_options *out)
{
    const char *fn = "cs_tracker_create";
    cs_tracker_options_init(out);

    if (given->struct_size < CS__OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "struct_size",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; initialise options with "
                            "cs_tracker_options_init()",
                            given->struct_size, (size_t)CS__OPTIONS_MIN_SIZE);

    size_t known = given->struct_size < sizeof *out ? given->struct_size
                                                     : sizeof *out;
    memcpy(out, given, known);
    out->struct_size = sizeof *out;
    return CS_OK;
}

static cs_status check_options(const cs_tracker_options *o)
{
    const char *fn = "cs_tracker_create";

    if (o->n_examples == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n_examples",
                            "n_examples is 0; pass the number of training "
                            "examples the ids will range over");
    if (o->n_examples < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_examples",
                            "n_examples is %lld; it must be positive",
                            (long long)o->n_examples);
    if (o->n_classes == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n_classes",
                            "n_classes is 0; pass the number of classes C");
    if (o->n_classes < 2)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_classes",
                            "n_classes is %d; a classifier needs at least 2 "
                            "classes",
                            (int)o->n_classes);
    if (o->input_kind != CS_INPUT_LOGITS &&
        o->input_kind != CS_INPUT_PROBABILITIES)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "input_kind",
                            "input_kind is %d; use CS_INPUT_LOGITS (0) or "
                            "CS_INPUT_PROBABILITIES (1)",
                            (int)o->input_kind);
    if (o->feature_dim < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "feature_dim",
                            "feature_dim is %d; use 0 for no features or the "
                            "width of the penultimate layer",
                            (int)o->feature_dim);
    if (o->repeat_policy != CS_REPEAT_REJECT &&
        o->repeat_policy != CS_REPEAT_KEEP_FIRST)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "repeat_policy",
                            "repeat_policy is %d; use CS_REPEAT_REJECT (0) or "
                            "CS_REPEAT_KEEP_FIRST (1)",
                            (int)o->repeat_policy);
    if (!(o->probability_tolerance >= 0.0 && o->probability_tolerance < 1.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn,
                            "probability_tolerance",
                            "probability_tolerance is %g; it must be in "
                            "[0, 1), default %g",
                            o->probability_tolerance,
                            CS_DEFAULT_PROBABILITY_TOLERANCE);
    return CS_OK;
}

cs_status cs__tracker_alloc_state(cs_tracker *t)
{
    const size_t n = t->n_examples;
    size_t feature_values;
    if (!cs__mul_size(n, t->feature_dim, &feature_values) ||
        feature_values > SIZE_MAX / sizeof(float))
        return CS_E_OVERFLOW;

    t->examples = cs__alloc_array_aligned(n, sizeof *t->examples,
                                          _Alignof(cs__example));
    if (t->examples == NULL)
        return CS_E_OUT_OF_MEMORY;
    if (feature_values > 0) {
        t->features = cs__alloc_array(feature_values, sizeof *t->features);
        if (t->features == NULL)
            return CS_E_OUT_OF_MEMORY;
        for (size_t k = 0; k < feature_values; k++)
            t->features[k] = NAN;
    }

    for (size_t i = 0; i < n; i++) {
        t->examples[i].label = -1;
        t->examples[i].batch_mark = 0;
        t->examples[i].batch_first_row = 0;
    }
    cs__tracker_reset_accumulators(t);
    return CS_OK;
}

void cs__tracker_reset_accumulators(cs_tracker *t)
{
    for (size_t i = 0; i < t->n_examples; i++) {
        cs__example *x = &t->examples[i];
        x->epochs_observed = 0;
        x->cbtl = 0;
        x->forgetting = 0;
        x->first_learned = -1;
        x->last_epoch = 0;
        x->last_correct = 0;
        x->p_l_last = NAN;
        x->p_max_last = NAN;
        x->el2n_last = NAN;
        x->p_l_mean = 0.0;
        x->p_l_m2 = 0.0;
        x->p_max_sum = 0.0;
        x->margin_sum = 0.0;
    }
}

void cs__tracker_accumulate(cs_tracker *t, size_t i, int32_t epoch,
                            const cs__row_stats *row)
{
    cs__example *x = &t->examples[i];
    const int32_t seen = ++x->epochs_observed;

    if (row->correct) {
        x->cbtl++;
        if (x->first_learned < 0)
            x->first_learned = epoch;
    } else if (seen > 1 && x->last_correct) {
        x->forgetting++;
    }
    x->last_correct = row->correct;
    x->last_epoch = epoch;

    x->p_l_last = row->p_l;
    x->p_max_last = row->p_max;
    x->el2n_last = row->el2n;

    /* Welford's update keeps the variance accurate when p_L barely moves. */
    const double delta = row->p_l - x->p_l_mean;
    x->p_l_mean += delta / seen;
    x->p_l_m2 += delta * (row->p_l - x->p_l_mean);
    x->p_max_sum += row->p_max;
    x->margin_sum += row->margin;
}

/* Carves one epoch's arrays out of a single zeroed allocation. Float arrays
 * come first so they stay aligned. */
static cs_status alloc_epoch_history(size_t n, cs__epoch_history *h)
{
    size_t bytes;
    if (!cs__mul_size(n, CS__HISTORY_BYTES_PER_EXAMPLE, &bytes))
        return CS_E_OVERFLOW;
    char *block = cs__calloc(1, bytes);
    if (block == NULL)
        return CS_E_OUT_OF_MEMORY;

    h->p_l = (float *)block;
    h->p_max = h->p_l + n;
    h->margin = h->p_max + n;
    h->el2n = h->margin + n;
    h->observed = (uint8_t *)(h->el2n + n);
    h->correct = h->observed + n;
    return CS_OK;
}

cs_status cs__tracker_reserve_history(cs_tracker *t, int32_t epoch)
{
    if (epoch <= t->history_count)
        return CS_OK;

    if (epoch > t->history_capacity) {
        /* Doubling in 64 bits and capping at INT32_MAX keeps the capacity
         * from overflowing int32_t past 2^30 epochs. */
        int64_t capacity = t->history_capacity ? t->history_capacity : 16;
        while (capacity < epoch)
            capacity *= 2;
        if (capacity > INT32_MAX)
            capacity = INT32_MAX;

        size_t bytes;
        if (!cs__mul_size((size_t)capacity, sizeof *t->history, &bytes))
            return CS_E_OVERFLOW;
        cs__epoch_history *grown = cs__realloc(t->history, bytes);
        if (grown == NULL)
            return CS_E_OUT_OF_MEMORY;
        t->history = grown;
        t->history_capacity = (int32_t)capacity;
    }

    while (t->history_count < epoch) {
        cs_status st =
            alloc_epoch_history(t->n_examples, &t->history[t->history_count]);
        if (st != CS_OK)
            return st;
        t->history_count++;
    }
    return CS_OK;
}

cs_status cs__tracker_history_failure(cs_status status, const char *fn,
                                       const char *argument,
                                       const cs_tracker *t, int32_t epoch)
{
    if (status == CS_E_OVERFLOW)
        return cs__fail_arg(status, fn, argument,
                            "the history of %d epochs x %zu examples "
                            "overflows size_t",
                            (int)epoch, t->n_examples);
    return cs__fail_arg(status, fn, argument,
                        "out of memory allocating the history of %d epochs "
                        "x %zu examples",
                        (int)epoch, t->n_examples);
}

static void free_state(cs_tracker *t)
{
    cs__free(t->examples);
    cs__free(t->features);
    cs__free(t->rows);
    cs__free(t->row_kept);
    for (int32_t e = 0; e < t->history_count; e++)
        cs__free(t->history[e].p_l);
    cs__free(t->history);
}

void cs_tracker_free(cs_tracker *tracker)
{
    if (tracker == NULL)
        return;
    free_state(tracker);
    cs__free(tracker);
}

static cs_status report_alloc_failure(cs_status st, const cs_tracker *t)
{
    if (st == CS_E_OVERFLOW)
        return cs__fail_arg(st, "cs_tracker_create", "feature_dim",
                            "n_examples (%zu) x feature_dim (%zu) overflows "
                            "the address space",
                            t->n_examples, t->feature_dim);
    return cs__fail_arg(st, "cs_tracker_create", "options",
                        "out of memory allocating the state of %zu examples "
                        "with feature_dim %zu",
                        t->n_examples, t->feature_dim);
}

cs_status cs_tracker_create(const cs_tracker_options *options,
                            cs_tracker **out)
{
    const char *fn = "cs_tracker_create";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out",
                            "out is NULL; pass the address of a cs_tracker "
                            "pointer");
    *out = NULL;
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "options",
                            "options is NULL; initialise a cs_tracker_options "
                            "with cs_tracker_options_init()");

    cs_tracker_options o;
    cs_status st = read_options(options, &o);
    if (st == CS_OK)
        st = check_options(&o);
    if (st != CS_OK)
        return st;
    if ((uint64_t)o.n_examples > SIZE_MAX / sizeof(cs__example))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "n_examples",
                            "n_examples is %lld, too large to address",
                            (long long)o.n_examples);

    cs_tracker *t = cs__calloc(1, sizeof *t);
    if (t == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, "options",
                            "out of memory allocating a tracker");
    t->options = o;
    t->n_examples = (size_t)o.n_examples;
    t->n_classes = (size_t)o.n_classes;
    t->feature_dim = (size_t)o.feature_dim;

    st = cs__tracker_alloc_state(t);
    if (st != CS_OK) {
        report_alloc_failure(st, t);
        cs_tracker_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}

cs_status cs_tracker_get_options(const cs_tracker *tracker,
                                 cs_tracker_options *options)
{
    const char *fn = "cs_tracker_get_options";
    if (tracker == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "tracker",
                            "tracker is NULL");
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "options",
                            "options is NULL");
    /* A caller's older, shorter struct gets the fields it knows. */
    if (options->struct_size < sizeof options->struct_size)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "struct_size",
                            "options->struct_size is %zu; set it to "
                            "sizeof(cs_tracker_options) first",
                            options->struct_size);

    size_t given = options->struct_size;
    size_t known = given < sizeof tracker->options ? given
                                                   : sizeof tracker->options;
    memcpy(options, &tracker->options, known);
    options->struct_size = given;
    return CS_OK;
}

int32_t cs_tracker_epochs(const cs_tracker *tracker)
{
    return tracker ? tracker->epochs_ended : -1;
}

int64_t cs_tracker_repeats_dropped(const cs_tracker *tracker)
{
    return tracker ? tracker->repeats_dropped : -1;
}
