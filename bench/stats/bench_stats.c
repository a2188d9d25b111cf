/*
 * Times cs_spearman() and cs_kendall_tau_b() on synthetic proxy/C-score
 * pairs at N = 50,000 (CIFAR) and 1,281,167 (ImageNet), and writes the
 * data as .npy files so that stats_scipy.py times scipy.stats on the same
 * arrays; run.sh runs both and prints the table.
 *
 * Two kinds of data:
 *   continuous: x standard normal, y = 0.6 x + 0.8 noise, no ties;
 *   tied:       x an integer in [0, 200] (like CBTL over 200 epochs), y a
 *               continuous score correlated with it, so x has heavy ties.
 *
 * Each call is timed whole, the way a caller sees it (NaN filtering, the
 * sorts and the statistic). It runs --repeats times after one untimed
 * warm-up, and the program prints the best and the median time.
 *
 * usage: bench_stats [--repeats R] [--seed S] [--save DIR]
 */
#include <cscore.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REPEATS 100

static const size_t sizes[] = {50000, 1281167};
static const char *const kinds[] = {"continuous", "tied"};

typedef struct bench_options {
    int repeats;
    uint64_t seed;
    const char *save_dir; /* NULL: save nothing */
} bench_options;

/* splitmix64, and normals by Box-Muller. stats_scipy.py reads the saved
 * arrays, so only this program needs to regenerate them. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double next_uniform(uint64_t *state)
{
    return (double)(next_u64(state) >> 11) * 0x1.0p-53;
}

static double next_normal(uint64_t *state)
{
    const double u1 = 1.0 - next_uniform(state); /* in (0, 1] */
    const double u2 = next_uniform(state);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void generate(size_t n, int tied, uint64_t seed, double *x, double *y)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        const double a = next_normal(&state);
        const double b = 0.6 * a + 0.8 * next_normal(&state);
        if (tied) {
            /* 201 levels, most examples near the top, as CBTL is. */
            const double level = 200.0 / (1.0 + exp(-1.5 * a - 1.0));
            x[i] = floor(level);
            y[i] = 1.0 / (1.0 + exp(-b));
        } else {
            x[i] = a;
            y[i] = b;
        }
    }
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef cs_status (*statistic_fn)(const double *, const double *, size_t,
                                  const cs_subset *, double *, size_t *);

/* Times one statistic; returns 0 on success. */
static int time_statistic(const char *name, statistic_fn statistic,
                          const double *x, const double *y, size_t n,
                          const char *kind, int repeats)
{
    double seconds[MAX_REPEATS];
    double value = NAN;
    for (int r = -1; r < repeats; r++) {
        const double start = now_seconds();
        const cs_status st = statistic(x, y, n, NULL, &value, NULL);
        const double elapsed = now_seconds() - start;
        if (st != CS_OK) {
            fprintf(stderr, "bench_stats: %s\n", cs_last_error_message());
            return 1;
        }
        if (r >= 0)
            seconds[r] = elapsed;
    }

    qsort(seconds, (size_t)repeats, sizeof seconds[0], compare_doubles);
    printf("n=%zu data=%s statistic=%s seconds_best=%.6f "
           "seconds_median=%.6f value=%.17g\n",
           n, kind, name, seconds[0], seconds[repeats / 2], value);
    return 0;
}

/* Writes a 1-D float64 .npy file (format 1.0, little-endian host). */
static int save_array(const char *dir, const char *name, size_t n,
                      const double *values)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        fprintf(stderr, "bench_stats: cannot create %s: %s\n", path,
                strerror(errno));
        return 1;
    }

    char header[128];
    int length = snprintf(header, sizeof header,
                          "{'descr': '<f8', 'fortran_order': False, "
                          "'shape': (%zu,), }",
                          n);
    /* Pad with spaces so that the data starts at a multiple of 64. */
    while ((10 + length + 1) % 64 != 0)
        header[length++] = ' ';
    header[length++] = '\n';

    const unsigned char preamble[10] = {0x93,
                                        'N',
                                        'U',
                                        'M',
                                        'P',
                                        'Y',
                                        1,
                                        0,
                                        (unsigned char)length,
                                        (unsigned char)(length >> 8)};
    int failed = fwrite(preamble, 1, 10, fp) != 10 ||
                 fwrite(header, 1, (size_t)length, fp) != (size_t)length ||
                 fwrite(values, sizeof *values, n, fp) != n;
    failed |= fclose(fp) != 0;
    if (failed)
        fprintf(stderr, "bench_stats: writing %s failed\n", path);
    return failed;
}

static int parse_options(int argc, char **argv, bench_options *o)
{
    o->repeats = 5;
    o->seed = 1;
    o->save_dir = NULL;
    for (int k = 1; k < argc; k++) {
        const bool has_value = k + 1 < argc;
        if (strcmp(argv[k], "--repeats") == 0 && has_value) {
            o->repeats = atoi(argv[++k]);
        } else if (strcmp(argv[k], "--seed") == 0 && has_value) {
            o->seed = strtoull(argv[++k], NULL, 10);
        } else if (strcmp(argv[k], "--save") == 0 && has_value) {
            o->save_dir = argv[++k];
        } else {
            fprintf(stderr, "usage: bench_stats [--repeats R] [--seed S] "
                            "[--save DIR]\n");
            return 1;
        }
    }
    if (o->repeats < 1 || o->repeats > MAX_REPEATS) {
        fprintf(stderr, "bench_stats: --repeats must be in [1, %d]\n",
                MAX_REPEATS);
        return 1;
    }
    return 0;
}

/* Generates, saves and times one data set. */
static int run_case(size_t n, int kind, const bench_options *o)
{
    double *x = malloc(n * sizeof *x);
    double *y = malloc(n * sizeof *y);
    int failed = x == NULL || y == NULL;
    if (failed)
        fprintf(stderr, "bench_stats: out of memory for n=%zu\n", n);

    if (!failed) {
        generate(n, kind, o->seed + n + (uint64_t)kind, x, y);
        if (o->save_dir != NULL) {
            char name[64];
            snprintf(name, sizeof name, "%s_%zu_x.npy", kinds[kind], n);
            failed |= save_array(o->save_dir, name, n, x);
            snprintf(name, sizeof name, "%s_%zu_y.npy", kinds[kind], n);
            failed |= save_array(o->save_dir, name, n, y);
        }
    }
    if (!failed)
        failed = time_statistic("spearman", cs_spearman, x, y, n, kinds[kind],
                                o->repeats) ||
                 time_statistic("kendall", cs_kendall_tau_b, x, y, n,
                                kinds[kind], o->repeats);
    free(x);
    free(y);
    return failed;
}

int main(int argc, char **argv)
{
    bench_options options;
    if (parse_options(argc, argv, &options) != 0)
        return 2;

    printf("cscore %s, %d timed repeats per call after one warm-up\n",
           cs_version_string(), options.repeats);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int kind = 0; kind < 2; kind++)
            if (run_case(sizes[s], kind, &options) != 0)
                return 1;
    return 0;
}
