/*
 * Times cs_observe_epoch() on synthetic float32 logits and reports
 * nanoseconds per logit.
 *
 * The logits imitate a training run. Every example has a fixed base row
 * of standard normal logits, and in epoch e its true-label logit gets a
 * boost of a * e / T plus fresh normal noise (T epochs in all). The
 * strength a depends on the example: most examples are learned early,
 * some late or never, and some sit near the decision boundary and flip
 * between correct and wrong, which makes forgetting events. Each epoch's
 * logits are written into one buffer before the clock starts, so only
 * cs_observe_epoch() is timed. The first epoch is a warm-up that the
 * tracker observes but the clock does not count.
 *
 * With --save DIR the program also writes the data (base logits, labels,
 * boosts) as .npy files and the tracker's final proxies as a .npz file, so
 * that observe_numpy.py can repeat the same computation in NumPy and
 * compare the results.
 */
#include <cscore.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_options {
    long n_examples;
    long n_classes;
    long epochs; /* timed epochs, after the warm-up epoch */
    int keep_history;
    uint64_t seed;
    const char *save_dir; /* NULL: save nothing */
} bench_options;

/* Synthetic data: labels, base logits (N x C) and per-epoch boosts of the
 * true-label logit (T x N, epoch-major, T = epochs + 1). */
typedef struct bench_data {
    size_t n;
    size_t c;
    size_t total_epochs;
    int32_t *labels;
    float *base;
    float *boost;
} bench_data;

/* ------------------------------------------------------------------------
 * Random numbers: splitmix64 and Box-Muller normals. observe_numpy.py reads
 * the data from the saved files instead of regenerating it, so only this
 * program needs to reproduce it from the seed.
 * ------------------------------------------------------------------------ */

static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double next_uniform(uint64_t *state)
{
    return (double)(next_u64(state) >> 11) * 0x1.0p-53;
}

static double next_normal(uint64_t *state)
{
    const double u1 = 1.0 - next_uniform(state); /* in (0, 1], so log is finite */
    const double u2 = next_uniform(state);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Draws how fast an example is learned: the true-label boost reaches this
 * value at the last epoch. The three kinds give examples that differ in
 * cbtl, forgetting and first_learned; the program prints the resulting
 * spread. */
static double next_strength(uint64_t *state)
{
    const double kind = next_uniform(state);
    const double u = next_uniform(state);
    if (kind < 0.60)
        return 4.0 + 4.0 * u; /* easy: learned in the first half */
    if (kind < 0.85)
        return 1.0 + 3.0 * u; /* hard: learned late, often forgotten */
    return -2.0 + 3.0 * u;    /* mislabeled-like: rarely learned */
}

/* Standard deviation of the per-epoch noise on the true-label logit. */
#define BENCH_BOOST_NOISE 0.7

static void generate_data(bench_data *data, uint64_t seed)
{
    uint64_t state = seed;
    const size_t n = data->n;
    const size_t c = data->c;
    const size_t total = data->total_epochs;

    for (size_t i = 0; i < n; i++) {
        data->labels[i] = (int32_t)(next_u64(&state) % c);
        for (size_t k = 0; k < c; k++)
            data->base[i * c + k] = (float)next_normal(&state);
    }

    for (size_t i = 0; i < n; i++) {
        const double strength = next_strength(&state);
        for (size_t e = 0; e < total; e++) {
            const double progress = (double)(e + 1) / (double)total;
            data->boost[e * n + i] =
                (float)(strength * progress +
                        BENCH_BOOST_NOISE * next_normal(&state));
        }
    }
}

/* Writes the logits of epoch e (0-based) into out. Each row is the base row
 * with the boost added to the true-label entry. That is one float32
 * addition, so observe_numpy.py reproduces the logits bit for bit. */
static void fill_epoch_logits(const bench_data *data, size_t e, float *out)
{
    const size_t n = data->n;
    const size_t c = data->c;
    const float *boost = data->boost + e * n;

    memcpy(out, data->base, n * c * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i * c + (size_t)data->labels[i]] += boost[i];
}

/* ------------------------------------------------------------------------
 * .npy output (format version 1.0, little-endian, C order)
 * ------------------------------------------------------------------------ */

static int host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/* Writes a 1-D (rows = 0) or 2-D array of 4-byte elements to path. descr
 * is the NumPy type string, "<f4" or "<i4". Returns 0 on success, or -1
 * after printing the error to stderr. */
static int write_npy(const char *path, const char *descr, size_t rows,
                     size_t cols, const void *values)
{
    char shape[64];
    if (rows == 0)
        snprintf(shape, sizeof shape, "(%zu,)", cols);
    else
        snprintf(shape, sizeof shape, "(%zu, %zu)", rows, cols);

    /* The magic string, version and header length take 10 bytes, and the
     * header is padded with spaces and a newline to a multiple of 64. */
    char header[256];
    int length = snprintf(header, sizeof header,
                          "{'descr': '%s', 'fortran_order': False, "
                          "'shape': %s, }",
                          descr, shape);
    const int padded = (10 + length + 1 + 63) / 64 * 64 - 10;
    memset(header + length, ' ', (size_t)(padded - length - 1));
    header[padded - 1] = '\n';

    const unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                        (unsigned char)(padded & 0xff),
                                        (unsigned char)(padded >> 8)};
    const size_t count = (rows == 0 ? 1 : rows) * cols;

    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "bench_observe: cannot create %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    int ok = fwrite(preamble, 1, sizeof preamble, file) == sizeof preamble &&
             fwrite(header, 1, (size_t)padded, file) == (size_t)padded &&
             fwrite(values, 4, count, file) == count;
    ok = (fclose(file) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "bench_observe: failed to write %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int save_data(const bench_data *data, const char *dir)
{
    char path[4096];

    snprintf(path, sizeof path, "%s/labels.npy", dir);
    if (write_npy(path, "<i4", 0, data->n, data->labels) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/base_logits.npy", dir);
    if (write_npy(path, "<f4", data->n, data->c, data->base) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/boost.npy", dir);
    return write_npy(path, "<f4", data->total_epochs, data->n, data->boost);
}

/* ------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------ */

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: bench_observe [--n N] [--classes C] [--epochs E] "
            "[--history]\n"
            "                     [--seed S] [--save DIR]\n"
            "\n"
            "Times cs_observe_epoch() on N x C float32 logits over E epochs\n"
            "after one untimed warm-up epoch, on one thread.\n"
            "\n"
            "  --n N        examples (default 50000)\n"
            "  --classes C  classes, at least 2 (default 100)\n"
            "  --epochs E   timed epochs (default 20)\n"
            "  --history    create the tracker with per-epoch history on\n"
            "  --seed S     seed of the synthetic data, a positive integer\n"
            "               (default 1)\n"
            "  --save DIR   write labels.npy, base_logits.npy, boost.npy and\n"
            "               cscore_results.npz into the existing folder DIR\n"
            "               for observe_numpy.py\n");
}

/* Parses a positive integer no larger than max. Returns 0 on success. */
static int parse_count(const char *option, const char *text, long max,
                       long *out)
{
    char *end;
    errno = 0;
    const long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1 ||
        value > max) {
        fprintf(stderr,
                "bench_observe: invalid value '%s' for %s; expected an "
                "integer from 1 to %ld\n",
                text, option, max);
        return -1;
    }
    *out = value;
    return 0;
}

/* Returns 0 on success, 1 after printing help, -1 on an invalid command
 * line. */
static int parse_options(int argc, char **argv, bench_options *options)
{
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *value = a + 1 < argc ? argv[a + 1] : NULL;
        const int takes_value = strcmp(arg, "--n") == 0 ||
                                strcmp(arg, "--classes") == 0 ||
                                strcmp(arg, "--epochs") == 0 ||
                                strcmp(arg, "--seed") == 0 ||
                                strcmp(arg, "--save") == 0;
        int status = 0;

        if (takes_value && value == NULL) {
            fprintf(stderr, "bench_observe: %s requires a value\n", arg);
            return -1;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            return 1;
        } else if (strcmp(arg, "--history") == 0) {
            options->keep_history = 1;
        } else if (strcmp(arg, "--n") == 0) {
            status = parse_count(arg, value, 100000000L, &options->n_examples);
        } else if (strcmp(arg, "--classes") == 0) {
            status = parse_count(arg, value, 100000L, &options->n_classes);
        } else if (strcmp(arg, "--epochs") == 0) {
            status = parse_count(arg, value, 100000L, &options->epochs);
        } else if (strcmp(arg, "--seed") == 0) {
            long seed = 0;
            status = parse_count(arg, value, LONG_MAX, &seed);
            if (status == 0)
                options->seed = (uint64_t)seed;
        } else if (strcmp(arg, "--save") == 0) {
            options->save_dir = value;
        } else {
            fprintf(stderr, "bench_observe: unknown option '%s'\n", arg);
            print_usage(stderr);
            return -1;
        }
        if (status != 0)
            return -1;
        a += takes_value;
    }

    if (options->n_classes < 2) {
        fprintf(stderr, "bench_observe: --classes must be at least 2\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Timing
 * ------------------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int report_failure(const char *call, cs_status status)
{
    fprintf(stderr, "bench_observe: %s failed with %s: %s\n", call,
            cs_status_name(status), cs_last_error_message());
    return -1;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Per-epoch times in seconds over the timed epochs. */
typedef struct epoch_timing {
    double mean;
    double median;
    double best;
} epoch_timing;

/* Sorts seconds[0 .. count-1] and summarises them. */
static epoch_timing summarise_times(double *seconds, size_t count)
{
    qsort(seconds, count, sizeof *seconds, compare_doubles);
    double total = 0.0;
    for (size_t e = 0; e < count; e++)
        total += seconds[e];

    epoch_timing timing;
    timing.mean = total / (double)count;
    timing.median = count % 2 ? seconds[count / 2]
                              : 0.5 * (seconds[count / 2 - 1] +
                                       seconds[count / 2]);
    timing.best = seconds[0];
    return timing;
}

/* Feeds all epochs to the tracker and stores in seconds[e - 1] the time of
 * each epoch e >= 1. Epoch 0 is the untimed warm-up. */
static int run_epochs(cs_tracker *tracker, const bench_data *data,
                      float *logits, double *seconds)
{
    for (size_t e = 0; e < data->total_epochs; e++) {
        fill_epoch_logits(data, e, logits);

        const double start = now_seconds();
        const cs_status status =
            cs_observe_epoch(tracker, logits, data->labels, NULL, data->n);
        const double elapsed = now_seconds() - start;
        if (status != CS_OK)
            return report_failure("cs_observe_epoch", status);

        if (e > 0)
            seconds[e - 1] = elapsed;
    }
    return 0;
}

/* Prints how the synthetic run turned out, to show that examples differ in
 * correctness and forgetting. */
static int print_data_summary(const cs_tracker *tracker, size_t n)
{
    int32_t *values = malloc(n * sizeof *values);
    float *correct_share = malloc(n * sizeof *correct_share);
    if (values == NULL || correct_share == NULL) {
        free(values);
        free(correct_share);
        fprintf(stderr, "bench_observe: out of memory\n");
        return -1;
    }

    const char *call = "cs_tracker_proxy_f32";
    cs_status status =
        cs_tracker_proxy_f32(tracker, CS_PROXY_CBTL_FRAC, correct_share, n);
    double mean_share = 0.0;
    for (size_t i = 0; i < n && status == CS_OK; i++)
        mean_share += correct_share[i];

    long long forgetting = 0;
    if (status == CS_OK) {
        call = "cs_tracker_proxy_i32";
        status = cs_tracker_proxy_i32(tracker, CS_PROXY_FORGETTING, values, n);
    }
    for (size_t i = 0; i < n && status == CS_OK; i++)
        forgetting += values[i];

    size_t never_learned = 0;
    if (status == CS_OK)
        status =
            cs_tracker_proxy_i32(tracker, CS_PROXY_FIRST_LEARNED, values, n);
    for (size_t i = 0; i < n && status == CS_OK; i++)
        never_learned += values[i] < 0;

    free(values);
    free(correct_share);
    if (status != CS_OK)
        return report_failure(call, status);

    printf("mean cbtl_frac        %.3f\n", mean_share / (double)n);
    printf("forgetting events     %.3f per example\n",
           (double)forgetting / (double)n);
    printf("never learned         %.1f%% of examples\n",
           100.0 * (double)never_learned / (double)n);
    return 0;
}

static int run_bench(const bench_options *options, const bench_data *data,
                     float *logits, double *seconds)
{
    cs_tracker_options tracker_options;
    cs_tracker_options_init(&tracker_options);
    tracker_options.n_examples = options->n_examples;
    tracker_options.n_classes = (int32_t)options->n_classes;
    tracker_options.keep_history = options->keep_history;

    cs_tracker *tracker = NULL;
    cs_status status = cs_tracker_create(&tracker_options, &tracker);
    if (status != CS_OK)
        return report_failure("cs_tracker_create", status);

    int result = run_epochs(tracker, data, logits, seconds);
    if (result == 0)
        result = print_data_summary(tracker, data->n);

    if (result == 0 && options->save_dir != NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/cscore_results.npz",
                 options->save_dir);
        status = cs_tracker_export_npz(tracker, path);
        if (status != CS_OK)
            result = report_failure("cs_tracker_export_npz", status);
    }
    cs_tracker_free(tracker);
    if (result != 0)
        return result;

    const epoch_timing timing =
        summarise_times(seconds, data->total_epochs - 1);
    const double ns_scale = 1e9 / ((double)data->n * (double)data->c);
    printf("time per epoch        %.3f ms mean, %.3f ms median, %.3f ms "
           "best\n",
           1e3 * timing.mean, 1e3 * timing.median, 1e3 * timing.best);
    /* One line in a fixed key=value form, read by run.sh. */
    printf("ns_per_logit_mean=%.4f ns_per_logit_median=%.4f "
           "ns_per_logit_best=%.4f\n",
           ns_scale * timing.mean, ns_scale * timing.median,
           ns_scale * timing.best);
    return 0;
}

int main(int argc, char **argv)
{
    bench_options options = {50000, 100, 20, 0, 1, NULL};
    const int parsed = parse_options(argc, argv, &options);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;

    if (options.save_dir != NULL && !host_is_little_endian()) {
        fprintf(stderr, "bench_observe: --save writes little-endian .npy "
                        "files and needs a little-endian host\n");
        return 2;
    }

    bench_data data = {(size_t)options.n_examples, (size_t)options.n_classes,
                       (size_t)options.epochs + 1, NULL, NULL, NULL};
    const size_t n_logits = data.n * data.c;
    data.labels = malloc(data.n * sizeof *data.labels);
    data.base = malloc(n_logits * sizeof *data.base);
    data.boost = malloc(data.total_epochs * data.n * sizeof *data.boost);
    float *logits = malloc(n_logits * sizeof *logits);
    double *seconds = malloc((size_t)options.epochs * sizeof *seconds);

    int result = 0;
    if (data.labels == NULL || data.base == NULL || data.boost == NULL ||
        logits == NULL || seconds == NULL) {
        fprintf(stderr, "bench_observe: out of memory for %zu x %zu logits\n",
                data.n, data.c);
        result = -1;
    }

    if (result == 0) {
        generate_data(&data, options.seed);
        printf("cscore %s, cs_observe_epoch on one thread\n",
               cs_version_string());
        printf("examples x classes    %zu x %zu float32 logits\n", data.n,
               data.c);
        printf("epochs                %ld timed after 1 warm-up\n",
               options.epochs);
        printf("history               %s\n",
               options.keep_history ? "on" : "off");
    }
    if (result == 0 && options.save_dir != NULL)
        result = save_data(&data, options.save_dir);
    if (result == 0)
        result = run_bench(&options, &data, logits, seconds);

    free(seconds);
    free(logits);
    free(data.labels);
    free(data.base);
    free(data.boost);
    return result == 0 ? 0 : 1;
}
