/*
 * Copying proxies, labels, features and history out of a tracker into
 * caller buffers. Float proxies are derived here from the running sums.
 */
#include "tracker_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Mean of a running sum over the observed epochs, NaN if never observed. */
static float mean_or_nan(double sum, int32_t count)
{
    return count > 0 ? (float)(sum / count) : NAN;
}

/* The value of float proxy `proxy` for one example. */
static float proxy_f32(const cs__example *x, cs_proxy proxy)
{
    const int32_t seen = x->epochs_observed;
    switch (proxy) {
    case CS_PROXY_CBTL_FRAC:
        return mean_or_nan(x->cbtl, seen);
    case CS_PROXY_P_L_LAST:
        return x->p_l_last;
    case CS_PROXY_P_L_MEAN:
        return seen > 0 ? (float)x->p_l_mean : NAN;
    case CS_PROXY_P_MAX_LAST:
        return x->p_max_last;
    case CS_PROXY_P_MAX_MEAN:
        return mean_or_nan(x->p_max_sum, seen);
    case CS_PROXY_P_L_STD:
        return seen > 0 ? (float)sqrt(x->p_l_m2 / seen) : NAN;
    case CS_PROXY_AUM:
        return mean_or_nan(x->margin_sum, seen);
    case CS_PROXY_EL2N:
        return x->el2n_last;
    default:
        return NAN;
    }
}

void cs__tracker_fill_f32(const cs_tracker *t, cs_proxy proxy, float *out)
{
    for (size_t i = 0; i < t->n_examples; i++)
        out[i] = proxy_f32(&t->examples[i], proxy);
}

void cs__tracker_fill_i32(const cs_tracker *t, cs_proxy proxy, int32_t *out)
{
    for (size_t i = 0; i < t->n_examples; i++) {
        const cs__example *x = &t->examples[i];
        switch (proxy) {
        case CS_PROXY_CBTL:
            out[i] = x->cbtl;
            break;
        case CS_PROXY_FORGETTING:
            out[i] = x->forgetting;
            break;
        case CS_PROXY_FIRST_LEARNED:
            out[i] = x->first_learned;
            break;
        default:
            return;
        }
    }
}

void cs__tracker_fill_labels(const cs_tracker *t, int32_t *out)
{
    for (size_t i = 0; i < t->n_examples; i++)
        out[i] = t->examples[i].label;
}

/* Records a size argument that differs from what the call needs. */
static cs_status size_mismatch(const char *fn, const char *argument,
                               size_t given, size_t expected)
{
    cs__where where = cs__where_none(fn);
    where.argument = argument;
    char value[32];
    snprintf(value, sizeof value, "%zu", given);
    return cs__fail(CS_E_SIZE_MISMATCH, &where, value,
                    "%s is %zu but the output needs %zu values; allocate "
                    "and pass exactly that many",
                    argument, given, expected);
}

/* Checks the arguments shared by every getter that fills N values; the
 * size argument is named `size_name`. */
static cs_status check_output_named(const cs_tracker *t, const void *out,
                                    size_t n, size_t expected, const char *fn,
                                    const char *size_name)
{
    if (t == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "tracker",
                            "tracker is NULL");
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out", "out is NULL");
    if (n != expected)
        return size_mismatch(fn, size_name, n, expected);
    return CS_OK;
}

static cs_status check_output(const cs_tracker *t, const void *out, size_t n,
                              size_t expected, const char *fn)
{
    return check_output_named(t, out, n, expected, fn, "n");
}

static cs_status check_proxy(cs_proxy proxy, int want_integer, const char *fn)
{
    int is_integer = cs_proxy_is_integer(proxy);
    if (is_integer < 0) {
        cs__where where = cs__where_none(fn);
        where.argument = "proxy";
        char value[32];
        snprintf(value, sizeof value, "%d", (int)proxy);
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                        "proxy is %d; use a cs_proxy value from 0 to %d",
                        (int)proxy, CS_PROXY_COUNT - 1);
    }
    if (is_integer != want_integer)
        return cs__fail_arg(CS_E_WRONG_TYPE, fn, "proxy",
                            "proxy %s is %s; call %s instead",
                            cs_proxy_name(proxy),
                            is_integer ? "int32" : "float32",
                            is_integer ? "cs_tracker_proxy_i32"
                                       : "cs_tracker_proxy_f32");
    return CS_OK;
}

cs_status cs_tracker_proxy_i32(const cs_tracker *tracker, cs_proxy proxy,
                               int32_t *out, size_t n)
{
    const char *fn = "cs_tracker_proxy_i32";
    cs_status st = check_output(tracker, out, n,
                                tracker ? tracker->n_examples : 0, fn);
    if (st == CS_OK)
        st = check_proxy(proxy, 1, fn);
    if (st != CS_OK)
        return st;
    cs__tracker_fill_i32(tracker, proxy, out);
    return CS_OK;
}

cs_status cs_tracker_proxy_f32(const cs_tracker *tracker, cs_proxy proxy,
                               float *out, size_t n)
{
    const char *fn = "cs_tracker_proxy_f32";
    cs_status st = check_output(tracker, out, n,
                                tracker ? tracker->n_examples : 0, fn);
    if (st == CS_OK)
        st = check_proxy(proxy, 0, fn);
    if (st != CS_OK)
        return st;
    cs__tracker_fill_f32(tracker, proxy, out);
    return CS_OK;
}

cs_status cs_tracker_labels(const cs_tracker *tracker, int32_t *out, size_t n)
{
    cs_status st = check_output(tracker, out, n,
                                tracker ? tracker->n_examples : 0,
                                "cs_tracker_labels");
    if (st != CS_OK)
        return st;
    cs__tracker_fill_labels(tracker, out);
    return CS_OK;
}

cs_status cs_tracker_epochs_observed(const cs_tracker *tracker, int32_t *out,
                                     size_t n)
{
    cs_status st = check_output(tracker, out, n,
                                tracker ? tracker->n_examples : 0,
                                "cs_tracker_epochs_observed");
    if (st != CS_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        out[i] = tracker->examples[i].epochs_observed;
    return CS_OK;
}

cs_status cs_tracker_features(const cs_tracker *tracker, float *out,
                              size_t n_values)
{
    const char *fn = "cs_tracker_features";
    if (tracker != NULL && tracker->feature_dim == 0)
        return cs__fail_arg(CS_E_MISSING_FEATURES, fn, "tracker",
                            "the tracker was created with feature_dim 0, so "
                            "it keeps no features");

    size_t expected = 0;
    if (tracker != NULL)
        expected = tracker->n_examples * tracker->feature_dim;
    cs_status st =
        check_output_named(tracker, out, n_values, expected, fn, "n_values");
    if (st != CS_OK)
        return st;
    memcpy(out, tracker->features, n_values * sizeof *out);
    return CS_OK;
}

/* Returns the number of epochs whose history can be read: the ended ones,
 * plus the open one once it has observations. */
static int32_t readable_epochs(const cs_tracker *t)
{
    return t->epochs_ended + (t->open_observations > 0 ? 1 : 0);
}

cs_status cs_tracker_history(const cs_tracker *tracker, int32_t epoch,
                             uint8_t *observed, uint8_t *correct, float *p_l,
                             float *p_max, size_t n)
{
    const char *fn = "cs_tracker_history";
    if (tracker == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "tracker",
                            "tracker is NULL");
    if (!tracker->options.keep_history)
        return cs__fail_arg(CS_E_NO_HISTORY, fn, "tracker",
                            "the tracker was created with keep_history 0; "
                            "set keep_history to record per-epoch history");
    if (epoch < 1 || epoch > readable_epochs(tracker)) {
        cs__where where = cs__where_none(fn);
        where.argument = "epoch";
        char value[32];
        snprintf(value, sizeof value, "%d", (int)epoch);
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                        "epoch is %d but the tracker has history for epochs "
                        "1 to %d",
                        (int)epoch, (int)readable_epochs(tracker));
    }
    if (n != tracker->n_examples)
        return size_mismatch(fn, "n", n, tracker->n_examples);

    const cs__epoch_history *h = &tracker->history[epoch - 1];
    if (observed)
        memcpy(observed, h->observed, n);
    if (correct)
        memcpy(correct, h->correct, n);
    for (size_t i = 0; i < n; i++) {
        if (p_l)
            p_l[i] = h->observed[i] ? h->p_l[i] : NAN;
        if (p_max)
            p_max[i] = h->observed[i] ? h->p_max[i] : NAN;
    }
    return CS_OK;
}
