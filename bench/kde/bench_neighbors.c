/*
 * bench_neighbors: times the neighbour scores of cs_kde_scores() (flat,
 * IVF and HNSW indexes) next to a kernel-sum method on the same features,
 * and prints key=value lines.
 *
 *   --features F.npy --labels L.npy   float32 N x d features, int32 or
 *                                     int64 labels (as `cscore train`
 *                                     writes them)
 *   --random N --dim D --classes C    synthetic clustered features
 *                                     instead (defaults 100000, 256, 10)
 *   --kde M            exact, sampled (default) or none: the kernel-sum
 *                      method timed first; its bandwidth is passed to the
 *                      neighbour runs, and each neighbour score is ranked
 *                      against its kde_pm by Spearman's rho
 *   --index LIST       comma-separated flat, ivf, hnsw (default ivf,hnsw)
 *   --k K              neighbours per example (default the library's)
 *   --nlist L --nprobe P --hnsw-m M --ef-construction E --ef-search E
 *                      index settings (default the library's)
 *   --threads T        worker threads (default 0: one per online CPU)
 *   --seed S           seed of the synthetic data's labels, the sampled
 *                      method and IVF's training sample (default 0)
 *
 * When flat runs first, every later index is compared with it: the share
 * of examples whose knn_kde_free equals flat's within 1e-6 (a proxy for
 * finding the same neighbours) and rho of knn_kde_pm against flat's.
 * peak_rss_mib is the process's largest resident set, from getrusage().
 */
#include <cscore.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_INDEXES 3

typedef struct settings {
    const char *features_path;
    const char *labels_path;
    size_t n;
    int32_t dim;
    int32_t classes;
    int kde; /* -1 none, else a cs_kde_method */
    int indexes[MAX_INDEXES];
    int n_indexes;
    cs_kde_options options;
} settings;

typedef struct data {
    float *features;
    int32_t *labels;
    size_t n;
    int32_t dim;
    int32_t classes;
} data;

/* The four neighbour scores in the order of cs_kde_result. */
typedef struct knn_scores {
    float *arrays[4];
} knn_scores;

static const char *const index_names[MAX_INDEXES] = {"flat", "ivf", "hnsw"};

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fail(const char *message)
{
    fprintf(stderr, "bench_neighbors: %s\n", message);
    exit(2);
}

static void fail_status(const char *step)
{
    fprintf(stderr, "bench_neighbors: %s failed: %s\n", step,
            cs_last_error_message());
    exit(1);
}

static void *checked_malloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL)
        fail("out of memory");
    return p;
}

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

static int index_number(const char *name, size_t length)
{
    for (int k = 0; k < MAX_INDEXES; k++)
        if (strlen(index_names[k]) == length &&
            strncmp(name, index_names[k], length) == 0)
            return k;
    fail("--index takes flat, ivf and hnsw, comma separated");
    return -1;
}

static void parse_indexes(const char *list, settings *s)
{
    s->n_indexes = 0;
    while (*list != '\0') {
        const size_t length = strcspn(list, ",");
        if (s->n_indexes == MAX_INDEXES)
            fail("--index takes at most three indexes");
        s->indexes[s->n_indexes++] = index_number(list, length);
        list += length + (list[length] == ',' ? 1 : 0);
    }
}

static void parse_kde(const char *value, settings *s)
{
    if (strcmp(value, "none") == 0)
        s->kde = -1;
    else if (strcmp(value, "exact") == 0)
        s->kde = CS_KDE_EXACT;
    else if (strcmp(value, "sampled") == 0)
        s->kde = CS_KDE_SAMPLED;
    else
        fail("--kde takes exact, sampled or none");
}

static void parse(int argc, char **argv, settings *s)
{
    *s = (settings){.n = 100000, .dim = 256, .classes = 10,
                    .kde = CS_KDE_SAMPLED};
    cs_kde_options_init(&s->options);
    parse_indexes("ivf,hnsw", s);
    cs_kde_options *o = &s->options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i];
        const char *v = argv[i + 1];
        if (strcmp(a, "--features") == 0)
            s->features_path = v;
        else if (strcmp(a, "--labels") == 0)
            s->labels_path = v;
        else if (strcmp(a, "--random") == 0)
            s->n = strtoull(v, NULL, 10);
        else if (strcmp(a, "--dim") == 0)
            s->dim = atoi(v);
        else if (strcmp(a, "--classes") == 0)
            s->classes = atoi(v);
        else if (strcmp(a, "--kde") == 0)
            parse_kde(v, s);
        else if (strcmp(a, "--index") == 0)
            parse_indexes(v, s);
        else if (strcmp(a, "--k") == 0)
            o->neighbors = strtoll(v, NULL, 10);
        else if (strcmp(a, "--nlist") == 0)
            o->ivf_nlist = strtoll(v, NULL, 10);
        else if (strcmp(a, "--nprobe") == 0)
            o->ivf_nprobe = strtoll(v, NULL, 10);
        else if (strcmp(a, "--hnsw-m") == 0)
            o->hnsw_m = atoi(v);
        else if (strcmp(a, "--ef-construction") == 0)
            o->hnsw_ef_construction = atoi(v);
        else if (strcmp(a, "--ef-search") == 0)
            o->hnsw_ef_search = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            o->threads = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else
            fail("unknown option; see the comment at the top of "
                 "bench_neighbors.c");
    }
    if (argc % 2 == 0)
        fail("every option takes a value");
}

/* ------------------------------------------------------------------------
 * Input data
 * ------------------------------------------------------------------------ */

static void load_files(const settings *s, data *d)
{
    cs_array *features = NULL;
    cs_array *labels = NULL;
    if (cs_npy_read(s->features_path, &features) != CS_OK)
        fail_status("reading --features");
    if (cs_npy_read(s->labels_path, &labels) != CS_OK)
        fail_status("reading --labels");
    if (features->type != CS_ELEMENT_FLOAT32 || features->ndim != 2)
        fail("--features must be a float32 N x d array");
    if (labels->ndim != 1 || labels->shape[0] != features->shape[0])
        fail("--labels must hold one label per feature row");

    /* The features stay in the array that cs_npy_read() allocated. */
    d->n = (size_t)features->shape[0];
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
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * uniform(state));
}

/* The synthetic data of bench_kde: C Gaussian clusters of unit spread
 * around centres drawn with spread 3, and 10% of the labels replaced by a
 * random class, as mislabelled examples would be. */
static void make_clusters(const settings *s, data *d)
{
    uint64_t state = UINT64_C(0x9e3779b97f4a7c15) ^ s->options.seed;
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
        const size_t cluster =
            (size_t)(next_random(&state) % (uint64_t)s->classes);
        for (size_t k = 0; k < dim; k++)
            d->features[i * dim + k] =
                centres[cluster * dim + k] + (float)normal(&state);
        d->labels[i] = uniform(&state) < 0.1
                           ? (int32_t)(next_random(&state) %
                                       (uint64_t)s->classes)
                           : (int32_t)cluster;
    }
    free(centres);
}

/* ------------------------------------------------------------------------
 * Timed runs
 * ------------------------------------------------------------------------ */

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
    if (cs_spearman(x, y, n, NULL, &rho, &used) != CS_OK)
        fail_status("cs_spearman");
    free(x);
    free(y);
    return rho;
}

static double peak_rss_mib(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_maxrss / 1024.0;
}

/* Times the kernel-sum method and returns its kde_pm; sets the options'
 * bandwidth to the one it used. */
static float *run_kde(const settings *s, const data *d,
                      cs_kde_options *options)
{
    cs_kde_options o = *options;
    o.method = (cs_kde_method)s->kde;
    float *pm = checked_malloc(d->n * sizeof(float));
    cs_kde_result result;
    cs_kde_result_init(&result);
    result.n = d->n;
    result.kde_pm = pm;

    const cs_examples examples = {d->features, d->labels, d->n, d->dim};
    const double start = now_seconds();
    if (cs_kde_scores(&examples, d->classes, &o, &result) != CS_OK)
        fail_status("cs_kde_scores (kernel sums)");
    printf("kde_method=%s kde_seconds=%.2f reference_count=%lld "
           "bandwidth=%.9g bandwidth_se=%.3g\n",
           s->kde == CS_KDE_EXACT ? "exact" : "sampled",
           now_seconds() - start, (long long)result.reference_count,
           result.bandwidth, result.bandwidth_se);
    options->bandwidth = result.bandwidth;
    return pm;
}

static knn_scores run_index(const data *d, const cs_kde_options *options,
                            int index)
{
    cs_kde_options o = *options;
    o.neighbor_index = (cs_kde_neighbor_index)index;
    knn_scores scores;
    for (int a = 0; a < 4; a++)
        scores.arrays[a] = checked_malloc(d->n * sizeof(float));
    cs_kde_result result;
    cs_kde_result_init(&result);
    result.n = d->n;
    result.knn_kde_pm = scores.arrays[0];
    result.knn_kde_l = scores.arrays[1];
    result.knn_kde_free = scores.arrays[2];
    result.knn_agree = scores.arrays[3];

    const cs_examples examples = {d->features, d->labels, d->n, d->dim};
    const double start = now_seconds();
    if (cs_kde_scores(&examples, d->classes, &o, &result) != CS_OK)
        fail_status("cs_kde_scores (neighbour scores)");
    printf("index=%s k=%lld knn_seconds=%.2f knn_missing=%lld "
           "bandwidth=%.9g\n",
           index_names[index], (long long)o.neighbors, now_seconds() - start,
           (long long)result.knn_missing, result.bandwidth);
    return scores;
}

static void free_knn(knn_scores *scores)
{
    for (int a = 0; a < 4; a++)
        free(scores->arrays[a]);
}

/* Share of examples whose knn_kde_free equals the flat index's within a
 * relative 1e-6. */
static double same_as_flat(const float *flat, const float *other, size_t n)
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(flat[i] - other[i]) <= 1e-6f * fabsf(flat[i]))
            same++;
    return (double)same / (double)n;
}

static void compare(const data *d, const char *name, const knn_scores *scores,
                    const float *kde_pm, const knn_scores *flat)
{
    if (kde_pm != NULL)
        printf("index=%s rho_vs_kde_pm: knn_kde_pm=%.4f knn_kde_l=%.4f "
               "knn_kde_free=%.4f knn_agree=%.4f\n",
               name, spearman(kde_pm, scores->arrays[0], d->n),
               spearman(kde_pm, scores->arrays[1], d->n),
               spearman(kde_pm, scores->arrays[2], d->n),
               spearman(kde_pm, scores->arrays[3], d->n));
    if (flat != NULL && flat != scores)
        printf("index=%s same_knn_kde_free_as_flat=%.4f "
               "rho_knn_kde_pm_vs_flat=%.5f\n",
               name, same_as_flat(flat->arrays[2], scores->arrays[2], d->n),
               spearman(flat->arrays[0], scores->arrays[0], d->n));
}

int main(int argc, char **argv)
{
    settings s;
    parse(argc, argv, &s);
    /* Line by line, so that a long run shows its progress in a log. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    data d;
    if (s.features_path != NULL && s.labels_path != NULL)
        load_files(&s, &d);
    else
        make_clusters(&s, &d);
    printf("n=%zu dim=%d classes=%d threads=%d\n", d.n, d.dim, d.classes,
           s.options.threads);

    float *kde_pm = s.kde >= 0 ? run_kde(&s, &d, &s.options) : NULL;
    knn_scores runs[MAX_INDEXES];
    const knn_scores *flat = NULL;
    for (int k = 0; k < s.n_indexes; k++) {
        runs[k] = run_index(&d, &s.options, s.indexes[k]);
        if (s.indexes[k] == CS_KDE_NEIGHBORS_FLAT)
            flat = &runs[k];
        compare(&d, index_names[s.indexes[k]], &runs[k], kde_pm, flat);
    }
    printf("peak_rss_mib=%.0f\n", peak_rss_mib());

    for (int k = 0; k < s.n_indexes; k++)
        free_knn(&runs[k]);
    free(kde_pm);
    return 0;
}
