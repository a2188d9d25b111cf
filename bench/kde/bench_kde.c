/*
 * bench_kde: times cs_kde_scores() on real or synthetic features and
 * prints key=value lines for run.sh.
 *
 *   --features F.npy --labels L.npy   float32 N x d features, int32 or
 *                                     int64 labels (the files that
 *                                     `cscore train` writes)
 *   --random N --dim D --classes C    synthetic clustered features
 *                                     instead (defaults 20000, 256, 10)
 *   --first N          keep the first N examples of the files
 *   --method M         exact, sampled, both (default) or none. With both,
 *                      the sampled scores are compared with the exact ones
 *                      by Spearman's rho. None only loads the data, for a
 *                      baseline of the peak memory.
 *   --reference M,...  reference-set sizes of the sampled method, each
 *                      run and compared in turn (default the library's)
 *   --seed S           seed of the reference sets and sampled pairs
 *                      (default 0)
 *   --threads T        worker threads (default 0: one per online CPU)
 *   --tile T           rows per tile (default the library's)
 *   --repeat R         timed runs per method (default 3); the figures are
 *                      the best and the median
 *   --sgemm            also time plain cblas_sgemm on the tile shapes the
 *                      exact path uses, with the same thread count
 *   --save DIR         write raw files for kde_numpy.py and --compare:
 *                      DIR/features.f32 (N x d), DIR/labels.i32 (N) and,
 *                      after the exact method, DIR/scores_exact.f32
 *                      (3 x N: KDE +-L, KDE L, class-free)
 *   --compare DIR      compare the sampled scores with DIR/scores_exact.f32
 *                      of an earlier --save run on the same data
 *
 * The exact path's distance stage does N^2 d multiply-adds for N (N - 1)
 * / 2 pairs, so N^2 d * 2 flops over its whole run time gives a lower
 * bound of its GFLOP/s (the run also includes exp and the sums).
 */
#include <cscore.h>

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPEAT 32
#define MAX_REFERENCES 16

typedef struct settings {
    const char *features_path;
    const char *labels_path;
    const char *save_dir;
    const char *compare_dir;
    size_t n;
    int32_t dim;
    int32_t classes;
    size_t first;
    int run_exact;
    int run_sampled;
    int64_t references[MAX_REFERENCES];
    int n_references;
    uint64_t seed;
    int32_t threads;
    int32_t tile;
    int repeat;
    int sgemm;
} settings;

typedef struct data {
    float *features;
    int32_t *labels;
    size_t n;
    int32_t dim;
    int32_t classes;
} data;

typedef struct scores {
    float *pm;
    float *l;
    float *free;
    double bandwidth;
    double bandwidth_se;
    int64_t reference_count;
} scores;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fail(const char *message)
{
    fprintf(stderr, "bench_kde: %s\n", message);
    exit(2);
}

static void fail_status(const char *step, cs_status status)
{
    fprintf(stderr, "bench_kde: %s failed: %s (%s)\n", step,
            cs_status_name(status), cs_last_error_message());
    exit(1);
}

static void *checked_malloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL)
        fail("out of memory");
    return p;
}

/* Reads a comma-separated list of reference-set sizes. */
static void parse_references(const char *list, settings *s)
{
    s->n_references = 0;
    while (*list != '\0') {
        char *end = NULL;
        const long long value = strtoll(list, &end, 10);
        if (end == list || value < 1 || s->n_references == MAX_REFERENCES)
            fail("--reference takes up to 16 positive sizes, comma "
                 "separated");
        s->references[s->n_references++] = value;
        list = *end == ',' ? end + 1 : end;
    }
}

static void parse(int argc, char **argv, settings *s)
{
    *s = (settings){.n = 20000,
                    .dim = 256,
                    .classes = 10,
                    .run_exact = 1,
                    .run_sampled = 1,
                    .n_references = 1,
                    .repeat = 3};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--sgemm") == 0) {
            s->sgemm = 1;
            continue;
        }
        if (v == NULL)
            fail("every option except --sgemm needs a value");
        i++;
        if (strcmp(a, "--features") == 0)
            s->features_path = v;
        else if (strcmp(a, "--labels") == 0)
            s->labels_path = v;
        else if (strcmp(a, "--save") == 0)
            s->save_dir = v;
        else if (strcmp(a, "--compare") == 0)
            s->compare_dir = v;
        else if (strcmp(a, "--random") == 0)
            s->n = strtoull(v, NULL, 10);
        else if (strcmp(a, "--dim") == 0)
            s->dim = atoi(v);
        else if (strcmp(a, "--classes") == 0)
            s->classes = atoi(v);
        else if (strcmp(a, "--first") == 0)
            s->first = strtoull(v, NULL, 10);
        else if (strcmp(a, "--method") == 0) {
            s->run_exact = strcmp(v, "exact") == 0 || strcmp(v, "both") == 0;
            s->run_sampled = strcmp(v, "sampled") == 0 ||
                             strcmp(v, "both") == 0;
            if (!s->run_exact && !s->run_sampled && strcmp(v, "none") != 0)
                fail("--method takes exact, sampled, both or none");
        } else if (strcmp(a, "--reference") == 0)
            parse_references(v, s);
        else if (strcmp(a, "--seed") == 0)
            s->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            s->threads = atoi(v);
        else if (strcmp(a, "--tile") == 0)
            s->tile = atoi(v);
        else if (strcmp(a, "--repeat") == 0)
            s->repeat = atoi(v);
        else
            fail("unknown option; see the comment at the top of "
                 "bench_kde.c");
    }
    if (s->repeat < 1 || s->repeat > MAX_REPEAT)
        fail("--repeat must be in [1, 32]");
}

/* ------------------------------------------------------------------------
 * Input data
 * ------------------------------------------------------------------------ */

static void load_files(const settings *s, data *d)
{
    cs_array *features = NULL;
    cs_array *labels = NULL;
    cs_status status = cs_npy_read(s->features_path, &features);
    if (status != CS_OK)
        fail_status("reading --features", status);
    status = cs_npy_read(s->labels_path, &labels);
    if (status != CS_OK)
        fail_status("reading --labels", status);
    if (features->type != CS_ELEMENT_FLOAT32 || features->ndim != 2)
        fail("--features must be a float32 N x d array");
    if (labels->ndim != 1 || labels->shape[0] != features->shape[0])
        fail("--labels must hold one label per feature row");

    /* The features stay in the array that cs_npy_read() allocated, which
     * lives until the program exits, so that the baseline run's peak
     * memory includes one copy of them. */
    d->n = (size_t)features->shape[0];
    if (s->first > 0 && s->first < d->n)
        d->n = s->first;
    d->dim = (int32_t)features->shape[1];
    d->features = features->data;

    d->labels = checked_malloc(d->n * sizeof(int32_t));
    d->classes = 0;
    for (size_t i = 0; i < d->n; i++) {
        const int64_t label = labels->type == CS_ELEMENT_INT64
                                  ? ((const int64_t *)labels->data)[i]
                                  : ((const int32_t *)labels->data)[i];
        d->labels[i] = (int32_t)label;
        if (label + 1 > d->classes)
            d->classes = (int32_t)(label + 1);
    }
    cs_array_free(labels);
}

/* xorshift64*, enough for synthetic data. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

static double uniform(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller. */
static double normal(uint64_t *state)
{
    const double u = 1.0 - uniform(state);
    const double v = uniform(state);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* C Gaussian clusters of unit spread around centres drawn with spread 3,
 * with 10% of the labels replaced by a random class, as mislabelled
 * examples would be. */
static void make_clusters(const settings *s, data *d)
{
    uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
    const size_t dim = (size_t)s->dim;
    float *centres = checked_malloc((size_t)s->classes * dim * sizeof(float));
    for (size_t k = 0; k < (size_t)s->classes * dim; k++)
        centres[k] = (float)(3.0 * normal(&state));

    d->n = s->n;
    d->dim = s->dim;
    d->classes = s->classes;
    d->features = checked_malloc(d->n * dim * sizeof(float));
    d->labels = checked_malloc(d->n * sizeof(int32_t));
    for (size_t i = 0; i < d->n; i++) {
        const size_t cluster = (size_t)(next_random(&state) %
                                        (uint64_t)s->classes);
        for (size_t k = 0; k < dim; k++)
            d->features[i * dim + k] = centres[cluster * dim + k] +
                                       (float)normal(&state);
        d->labels[i] = uniform(&state) < 0.1 ? (int32_t)(next_random(&state) %
                                                         (uint64_t)s->classes)
                                             : (int32_t)cluster;
    }
    free(centres);
}

/* ------------------------------------------------------------------------
 * Timed runs
 * ------------------------------------------------------------------------ */

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run_method(const settings *s, const data *d, cs_kde_method method,
                       int64_t reference, scores *out, double *best,
                       double *median)
{
    cs_examples examples = {d->features, d->labels, d->n, d->dim};
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.method = method;
    options.threads = s->threads;
    options.seed = s->seed;
    if (s->tile > 0)
        options.tile_size = s->tile;
    if (reference > 0)
        options.reference_size = reference;

    out->pm = checked_malloc(d->n * sizeof(float));
    out->l = checked_malloc(d->n * sizeof(float));
    out->free = checked_malloc(d->n * sizeof(float));
    cs_kde_result result;
    cs_kde_result_init(&result);
    result.n = d->n;
    result.kde_pm = out->pm;
    result.kde_l = out->l;
    result.kde_free = out->free;

    double seconds[MAX_REPEAT];
    for (int r = 0; r < s->repeat; r++) {
        const double start = now_seconds();
        const cs_status status = cs_kde_scores(&examples, d->classes, &options,
                                               &result);
        seconds[r] = now_seconds() - start;
        if (status != CS_OK)
            fail_status("cs_kde_scores", status);
    }
    qsort(seconds, (size_t)s->repeat, sizeof seconds[0], compare_doubles);
    *best = seconds[0];
    *median = seconds[s->repeat / 2];
    out->bandwidth = result.bandwidth;
    out->bandwidth_se = result.bandwidth_se;
    out->reference_count = result.reference_count;
}

static void free_scores(scores *s)
{
    free(s->pm);
    free(s->l);
    free(s->free);
    s->pm = s->l = s->free = NULL;
}

static double spearman(const float *a, const float *b, size_t n)
{
    double *x = checked_malloc(n * sizeof(double));
    double *y = checked_malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        x[i] = a[i];
        y[i] = b[i];
    }
    double rho = NAN;
    size_t used = 0;
    const cs_status status = cs_spearman(x, y, n, NULL, &rho, &used);
    if (status != CS_OK)
        fail_status("cs_spearman", status);
    free(x);
    free(y);
    return rho;
}

/* ------------------------------------------------------------------------
 * Plain sgemm on the exact path's tile shapes
 * ------------------------------------------------------------------------ */

typedef struct gemm_job {
    const float *a;
    int rows;
    int dim;
    int calls;
    float *c;
} gemm_job;

static void *gemm_worker(void *argument)
{
    gemm_job *job = argument;
    for (int k = 0; k < job->calls; k++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, job->rows,
                    job->rows, job->dim, 1.0f, job->a, job->dim,
                    job->a + (size_t)job->rows * (size_t)job->dim, job->dim,
                    0.0f, job->c, job->rows);
    return NULL;
}

/* GFLOP/s of `threads` threads each running tile x tile x dim sgemm calls
 * with OpenBLAS at 1 thread, as the exact path's workers do, over about
 * as many flops as the exact path's distance stage (capped at 2e12). */
static double sgemm_rate(const data *d, int tile, int threads)
{
    const size_t rows = (size_t)tile;
    const size_t dim = (size_t)d->dim;
    const double flops_per_call = 2.0 * (double)rows * (double)rows *
                                  (double)dim;
    double target = (double)d->n * (double)d->n * (double)dim;
    if (target > 2e12)
        target = 2e12;
    int calls = (int)(target / flops_per_call / threads) + 1;

    gemm_job jobs[64];
    pthread_t handles[64];
    if (threads > 64)
        threads = 64;
    for (int t = 0; t < threads; t++) {
        float *a = checked_malloc(2 * rows * dim * sizeof(float));
        for (size_t k = 0; k < 2 * rows * dim; k++)
            a[k] = d->features[k % (d->n * dim)];
        jobs[t] = (gemm_job){a, tile, d->dim, calls,
                             checked_malloc(rows * rows * sizeof(float))};
    }

    const int previous = openblas_get_num_threads();
    openblas_set_num_threads(1);
    const double start = now_seconds();
    for (int t = 1; t < threads; t++)
        pthread_create(&handles[t], NULL, gemm_worker, &jobs[t]);
    gemm_worker(&jobs[0]);
    for (int t = 1; t < threads; t++)
        pthread_join(handles[t], NULL);
    const double seconds = now_seconds() - start;
    openblas_set_num_threads(previous);

    for (int t = 0; t < threads; t++) {
        free((void *)jobs[t].a);
        free(jobs[t].c);
    }
    return flops_per_call * calls * threads / seconds / 1e9;
}

/* GFLOP/s of one large sgemm (N rows against 4096 columns) with OpenBLAS's
 * own threads, the machine's usual reference figure. */
static double sgemm_rate_large(const data *d, int threads)
{
    const size_t cols = d->n < 4096 ? d->n : 4096;
    const size_t dim = (size_t)d->dim;
    float *c = checked_malloc(d->n * cols * sizeof(float));
    const int previous = openblas_get_num_threads();
    openblas_set_num_threads(threads);

    double best = 0.0;
    for (int r = 0; r < 3; r++) {
        const double start = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d->n,
                    (int)cols, (int)dim, 1.0f, d->features, (int)dim,
                    d->features, (int)dim, 0.0f, c, (int)cols);
        const double rate = 2.0 * (double)d->n * (double)cols * (double)dim /
                            (now_seconds() - start) / 1e9;
        if (rate > best)
            best = rate;
    }
    openblas_set_num_threads(previous);
    free(c);
    return best;
}

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

static void save_raw(const char *dir, const char *name, const void *bytes,
                     size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write under --save");
}

/* Reads DIR/scores_exact.f32 into *exact (three arrays of n floats). */
static void load_exact(const char *dir, size_t n, scores *exact)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/scores_exact.f32", dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail("cannot open scores_exact.f32 under --compare");

    float **arrays[3] = {&exact->pm, &exact->l, &exact->free};
    for (int k = 0; k < 3; k++) {
        *arrays[k] = checked_malloc(n * sizeof(float));
        if (fread(*arrays[k], sizeof(float), n, f) != n)
            fail("scores_exact.f32 under --compare is shorter than 3 x N");
    }
    fclose(f);
}

static void save(const settings *s, const data *d, const scores *exact)
{
    const size_t n = d->n;
    save_raw(s->save_dir, "features.f32", d->features,
             n * (size_t)d->dim * sizeof(float));
    save_raw(s->save_dir, "labels.i32", d->labels, n * sizeof(int32_t));
    if (exact->pm == NULL)
        return;
    float *all = checked_malloc(3 * n * sizeof(float));
    memcpy(all, exact->pm, n * sizeof(float));
    memcpy(all + n, exact->l, n * sizeof(float));
    memcpy(all + 2 * n, exact->free, n * sizeof(float));
    save_raw(s->save_dir, "scores_exact.f32", all, 3 * n * sizeof(float));
    free(all);
}

int main(int argc, char **argv)
{
    settings s;
    parse(argc, argv, &s);

    data d;
    if (s.features_path != NULL && s.labels_path != NULL)
        load_files(&s, &d);
    else
        make_clusters(&s, &d);
    printf("n=%zu dim=%d classes=%d threads=%d\n", d.n, d.dim, d.classes,
           s.threads);

    scores exact = {0};
    scores sampled = {0};
    double best = 0.0;
    double median = 0.0;
    if (s.run_exact) {
        run_method(&s, &d, CS_KDE_EXACT, 0, &exact, &best, &median);
        /* N^2 / 2 pairs of 2 d flops each. */
        const double flops = (double)d.n * (double)d.n * d.dim;
        printf("exact_seconds_best=%.3f exact_seconds_median=%.3f "
               "bandwidth=%.17g bandwidth_se=%.3g\n",
               best, median, exact.bandwidth, exact.bandwidth_se);
        printf("exact_distance_gflops_lower_bound=%.1f\n", flops / best / 1e9);
    }
    if (!s.run_exact && s.compare_dir != NULL)
        load_exact(s.compare_dir, d.n, &exact);
    const int have_exact = exact.pm != NULL;
    for (int k = 0; s.run_sampled && k < s.n_references; k++) {
        run_method(&s, &d, CS_KDE_SAMPLED, s.references[k], &sampled, &best,
                   &median);
        printf("sampled_seconds_best=%.3f sampled_seconds_median=%.3f "
               "reference_count=%lld bandwidth=%.17g\n",
               best, median, (long long)sampled.reference_count,
               sampled.bandwidth);
        if (have_exact)
            printf("rho_pm=%.5f rho_l=%.5f rho_free=%.5f\n",
                   spearman(exact.pm, sampled.pm, d.n),
                   spearman(exact.l, sampled.l, d.n),
                   spearman(exact.free, sampled.free, d.n));
        free_scores(&sampled);
    }
    if (s.sgemm) {
        cs_kde_options defaults;
        cs_kde_options_init(&defaults);
        const int tile = s.tile > 0 ? s.tile : defaults.tile_size;
        /* The library's default: one thread per online CPU. */
        const int threads = s.threads > 0 ? s.threads
                                          : (int)sysconf(_SC_NPROCESSORS_ONLN);
        printf("sgemm_tile_gflops=%.1f sgemm_large_gflops=%.1f\n",
               sgemm_rate(&d, tile, threads), sgemm_rate_large(&d, threads));
    }
    if (s.save_dir != NULL)
        save(&s, &d, &exact);
    return 0;
}
