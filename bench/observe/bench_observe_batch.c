/*
 * Times cs_observe_batch() with the tracker's state in cache and after it
 * has been evicted, as a training step between two calls evicts it.
 *
 * Each epoch visits N = 10 x batch examples in a fresh random order, cut
 * into batches. In the evicted run, each timed call follows a write to
 * every 64-byte line of an --evict MiB buffer. The batch's logits and
 * features are then read again, so the inputs are in cache as a training
 * step leaves them and the tracker's state is not. The figure is the
 * median microseconds per call after two untimed epochs.
 *
 * usage: bench_observe_batch [--batch B] [--classes C] [--features D]
 *                            [--history] [--evict MIB] [--epochs E]
 * (--help describes them). --evict 0 makes the evicted run a second warm
 * run.
 */
#include <cscore.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct options {
    size_t batch;
    size_t classes;
    size_t features;
    int history;
    size_t evict_mib;
    size_t epochs; /* timed epochs, after two untimed ones */
} options;

/* The caller's side of one run: inputs, the id order and the buffer that
 * evicts the caches. */
typedef struct inputs {
    size_t n;
    float *logits;
    int32_t *batch_labels;
    float *features;
    int32_t *label_of_id;
    int64_t *ids;
    unsigned char *evict;
    size_t evict_bytes;
} inputs;

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

/* xorshift64*: enough for synthetic inputs and a shuffle. */
static uint64_t next_random(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static float next_float(void)
{
    return (float)(next_random() >> 40) * 0x1.0p-24f;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define USAGE                                                             \
    "usage: bench_observe_batch [--batch B] [--classes C] [--features D]\n" \
    "                           [--history] [--evict MIB] [--epochs E]\n"  \
    "  --batch B     rows per call (default 1024)\n"                       \
    "  --classes C   classes per row (default 10)\n"                       \
    "  --features D  feature floats per row, 0 for none (default 0)\n"     \
    "  --history     keep per-epoch history\n"                             \
    "  --evict MIB   MiB written before each evicted call (default 64)\n"  \
    "  --epochs E    timed epochs of 10 calls each (default 20)\n"

/* A numeric option: its flag, where it goes and its allowed range. The
 * upper bounds keep every buffer size far from overflowing. */
typedef struct numeric_option {
    const char *flag;
    size_t *target;
    size_t min;
    size_t max;
} numeric_option;

/* Parses `text` as a whole number in [min, max] for `flag`. */
static int parse_value(const numeric_option *option, const char *text)
{
    char *end = NULL;
    unsigned long long value = 0;
    if (text != NULL && text[0] >= '0' && text[0] <= '9') {
        errno = 0;
        value = strtoull(text, &end, 10);
    }
    if (text == NULL) {
        fprintf(stderr,
                "bench_observe_batch: %s needs a value, a whole number from "
                "%zu to %zu\n",
                option->flag, option->min, option->max);
        return -1;
    }
    if (end == NULL || *end != '\0' || errno == ERANGE ||
        value < option->min || value > option->max) {
        fprintf(stderr,
                "bench_observe_batch: %s is '%s'; pass a whole number from "
                "%zu to %zu\n",
                option->flag, text, option->min, option->max);
        return -1;
    }
    *option->target = (size_t)value;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){.batch = 1024, .classes = 10, .evict_mib = 64,
                   .epochs = 20};
    const numeric_option numeric[] = {
        {"--batch", &o->batch, 1, 1000000},
        {"--classes", &o->classes, 2, 100000},
        {"--features", &o->features, 0, 65536},
        {"--evict", &o->evict_mib, 0, 65536},
        {"--epochs", &o->epochs, 1, 100000},
    };
    const size_t count = sizeof numeric / sizeof numeric[0];

    for (int k = 1; k < argc; k++) {
        const char *flag = argv[k];
        if (strcmp(flag, "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strcmp(flag, "--history") == 0) {
            o->history = 1;
            continue;
        }
        size_t f = 0;
        while (f < count && strcmp(flag, numeric[f].flag) != 0)
            f++;
        if (f == count) {
            fprintf(stderr, "bench_observe_batch: unknown option '%s'\n%s",
                    flag, USAGE);
            return -1;
        }
        if (parse_value(&numeric[f], k + 1 < argc ? argv[k + 1] : NULL) != 0)
            return -1;
        k++;
    }
    return 0;
}

static int make_inputs(const options *o, inputs *in)
{
    in->n = 10 * o->batch;
    in->evict_bytes = o->evict_mib << 20;
    in->logits = malloc(o->batch * o->classes * sizeof(float));
    in->batch_labels = malloc(o->batch * sizeof(int32_t));
    in->features = malloc(o->batch * (o->features + 1) * sizeof(float));
    in->label_of_id = malloc(in->n * sizeof(int32_t));
    in->ids = malloc(in->n * sizeof(int64_t));
    in->evict = calloc(in->evict_bytes + 1, 1);
    if (!in->logits || !in->batch_labels || !in->features ||
        !in->label_of_id || !in->ids || !in->evict)
        return -1;

    for (size_t k = 0; k < o->batch * o->classes; k++)
        in->logits[k] = 4.0f * next_float() - 2.0f;
    for (size_t k = 0; k < o->batch * o->features; k++)
        in->features[k] = next_float();
    for (size_t i = 0; i < in->n; i++)
        in->label_of_id[i] = (int32_t)(next_random() % o->classes);
    return 0;
}

static void free_inputs(inputs *in)
{
    free(in->logits);
    free(in->batch_labels);
    free(in->features);
    free(in->label_of_id);
    free(in->ids);
    free(in->evict);
}

static void shuffle_ids(inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        in->ids[i] = (int64_t)i;
    for (size_t i = in->n - 1; i > 0; i--) {
        const size_t j = (size_t)(next_random() % (i + 1));
        const int64_t swap = in->ids[i];
        in->ids[i] = in->ids[j];
        in->ids[j] = swap;
    }
}

/* Evicts the caches, then reads the inputs back in as a training step
 * that produced them would leave them. */
static void evict_caches(const options *o, inputs *in)
{
    for (size_t at = 0; at < in->evict_bytes; at += 64)
        in->evict[at]++;

    volatile float sink = 0.0f;
    for (size_t k = 0; k < o->batch * o->classes; k += 16)
        sink += in->logits[k];
    for (size_t k = 0; k < o->batch * o->features; k += 16)
        sink += in->features[k];
    (void)sink;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs the epochs and returns the median seconds per timed call, or a
 * negative value after printing the library's error. */
static double run(const options *o, inputs *in, cs_tracker *t, int evict)
{
    const size_t per_epoch = 10, untimed = 2;
    double *samples = malloc(o->epochs * per_epoch * sizeof(double));
    size_t count = 0;
    if (samples == NULL)
        return -1.0;

    for (size_t epoch = 0; epoch < o->epochs + untimed; epoch++) {
        shuffle_ids(in);
        for (size_t part = 0; part < per_epoch; part++) {
            const int64_t *ids = in->ids + part * o->batch;
            for (size_t r = 0; r < o->batch; r++)
                in->batch_labels[r] = in->label_of_id[ids[r]];
            if (evict)
                evict_caches(o, in);

            const double start = seconds_now();
            cs_status st = cs_observe_batch(
                t, in->logits, in->batch_labels, ids,
                o->features ? in->features : NULL, o->batch);
            const double elapsed = seconds_now() - start;
            if (st != CS_OK) {
                fprintf(stderr, "bench_observe_batch: %s\n",
                        cs_last_error_message());
                free(samples);
                return -1.0;
            }
            if (epoch >= untimed)
                samples[count++] = elapsed;
        }
        cs_end_epoch(t);
    }
    qsort(samples, count, sizeof *samples, compare_doubles);
    const double median = samples[count / 2];
    free(samples);
    return median;
}

static cs_tracker *make_tracker(const options *o, size_t n)
{
    cs_tracker_options to;
    cs_tracker_options_init(&to);
    to.n_examples = (int64_t)n;
    to.n_classes = (int32_t)o->classes;
    to.feature_dim = (int32_t)o->features;
    to.keep_history = o->history;
    cs_tracker *t = NULL;
    if (cs_tracker_create(&to, &t) != CS_OK)
        fprintf(stderr, "bench_observe_batch: %s\n",
                cs_last_error_message());
    return t;
}

int main(int argc, char **argv)
{
    options o;
    inputs in = {0};
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if (make_inputs(&o, &in) != 0) {
        fprintf(stderr, "bench_observe_batch: out of memory\n");
        free_inputs(&in);
        return 1;
    }

    printf("batch %zu, C = %zu, features %zu, history %s, evicting %zu MiB; "
           "median microseconds per cs_observe_batch() over %zu epochs\n",
           o.batch, o.classes, o.features, o.history ? "on" : "off",
           o.evict_mib, o.epochs);
    int status = 0;
    for (int evict = 0; evict <= 1 && status == 0; evict++) {
        cs_tracker *t = make_tracker(&o, in.n);
        const double median = t ? run(&o, &in, t, evict) : -1.0;
        cs_tracker_free(t);
        if (median < 0.0) {
            status = 1;
            break;
        }
        printf("%-16s %9.1f\n", evict ? "state evicted" : "state in cache",
               median * 1e6);
    }
    free_inputs(&in);
    return status;
}
