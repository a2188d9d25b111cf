/*
 * `cscore kde`: kernel density scores (KDE +-L, KDE L, class-free) of
 * features saved as .npy, such as the features.npy and labels.npy that
 * `cscore train` writes, and optionally the neighbour scores over a FAISS
 * index. Everything goes to one .npz, written atomically, so a failed run
 * leaves no output.
 */
#include "cli/cli.h"

#include "io/io.h"
#include "io/npy_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char kde_help[] =
    "Usage: cscore kde --features FILE --labels FILE [options] --out FILE\n"
    "\n"
    "Computes the kernel density scores of every example among the others,\n"
    "with the kernel exp(-||a - b||^2 / h^2), and writes them to a .npz:\n"
    "kde_pm, kde_l, kde_free (float32, N) and bandwidth (float64 scalar),\n"
    "and with --neighbors also knn_kde_pm, knn_kde_l, knn_kde_free and\n"
    "knn_agree (float32, N), the scores over the k nearest neighbours.\n"
    "\n"
    "Input and output:\n"
    "  --features FILE     .npy of N x d float32 or float64 features\n"
    "                      (required)\n"
    "  --labels FILE       .npy of N int32 or int64 labels in [0, C)\n"
    "                      (required)\n"
    "  --out FILE          .npz to write, replaced whole (required)\n"
    "\n"
    "Kernel sums:\n"
    "  --bandwidth auto|H  kernel bandwidth h in the units of the features;\n"
    "                      auto (default) is half the mean distance between\n"
    "                      examples\n"
    "  --method M          exact (every pair) or sampled (each example\n"
    "                      against a stratified random reference set;\n"
    "                      default sampled, which is exact when N is at most\n"
    "                      the reference size)\n"
    "  --reference-size M  examples in the sampled reference set (default "
    "5000)\n"
    "  --seed S            seed of the reference set, the sampled bandwidth\n"
    "                      pairs and IVF's training sample (default 0)\n"
    "\n"
    "Neighbour scores (need a cscore built with FAISS):\n"
    "  --neighbors INDEX   flat (exact), ivf or hnsw; off by default\n"
    "  --k K               neighbours per example, 1 .. N - 1 (default 10)\n"
    "  --nlist L           IVF lists (default round(4 sqrt(N)))\n"
    "  --nprobe P          IVF lists scanned per example (default 16)\n"
    "  --hnsw-m M          HNSW links per example (default 32)\n"
    "  --ef-construction E HNSW candidates per insertion (default 40)\n"
    "  --ef-search E       HNSW candidates per search, at least k + 1 are\n"
    "                      used (default 64)\n"
    "\n"
    "  --threads T         worker threads; 0 (default) uses one per CPU\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 on success, 1 when the input is invalid or the job\n"
    "fails, 2 on a usage error.\n";

enum {
    OPT_FEATURES = 1,
    OPT_LABELS,
    OPT_OUT,
    OPT_BANDWIDTH,
    OPT_METHOD,
    OPT_REFERENCE_SIZE,
    OPT_SEED,
    OPT_NEIGHBORS,
    OPT_K,
    OPT_NLIST,
    OPT_NPROBE,
    OPT_HNSW_M,
    OPT_EF_CONSTRUCTION,
    OPT_EF_SEARCH,
    OPT_THREADS,
    OPT_HELP = 'h'
};

typedef struct kde_args {
    const char *features;
    const char *labels;
    const char *out;
    bool neighbors;
    cs_kde_options options;
} kde_args;

/* Parses a value that is one of names[0 .. count-1] into its index. */
static bool parse_choice(const char *option, const char *text,
                         const char *const *names, int count, int *out)
{
    for (int k = 0; k < count; k++)
        if (strcmp(text, names[k]) == 0) {
            *out = k;
            return true;
        }
    cli_usage_error("kde", "invalid value '%s' for %s: expected %s or %s%s%s",
                    text, option, names[0], names[1], count > 2 ? " or " : "",
                    count > 2 ? names[2] : "");
    return false;
}

static bool parse_bandwidth(const char *text, double *out)
{
    if (strcmp(text, "auto") == 0) {
        *out = 0.0;
        return true;
    }
    if (!cli_parse_double("kde", "--bandwidth", text, 0.0, HUGE_VAL, out))
        return false;
    if (*out > 0.0)
        return true;
    cli_usage_error("kde", "invalid value '%s' for --bandwidth: expected "
                           "auto or a number above 0",
                    text);
    return false;
}

/* Applies an option other than the paths and --bandwidth to its field. */
static bool apply_option(int code, const char *text, cs_kde_options *o)
{
    static const char *const kinds[] = {"flat", "ivf", "hnsw"};
    static const char *const methods[] = {"exact", "sampled"};
    int64_t v = 0;
    int choice = 0;
    switch (code) {
    case OPT_METHOD:
        if (!parse_choice("--method", text, methods, 2, &choice))
            return false;
        o->method = (cs_kde_method)choice;
        return true;
    case OPT_NEIGHBORS:
        if (!parse_choice("--neighbors", text, kinds, 3, &choice))
            return false;
        o->neighbor_index = (cs_kde_neighbor_index)choice;
        return true;
    case OPT_REFERENCE_SIZE:
        if (!cli_parse_i64("kde", "--reference-size", text, 1, INT64_MAX, &v))
            return false;
        o->reference_size = v;
        return true;
    case OPT_SEED:
        if (!cli_parse_i64("kde", "--seed", text, 0, INT64_MAX, &v))
            return false;
        o->seed = (uint64_t)v;
        return true;
    case OPT_K:
        if (!cli_parse_i64("kde", "--k", text, 1, CS_KDE_MAX_NEIGHBORS, &v))
            return false;
        o->neighbors = v;
        return true;
    case OPT_NLIST:
        if (!cli_parse_i64("kde", "--nlist", text, 1, INT64_MAX, &v))
            return false;
        o->ivf_nlist = v;
        return true;
    case OPT_NPROBE:
        if (!cli_parse_i64("kde", "--nprobe", text, 1, INT64_MAX, &v))
            return false;
        o->ivf_nprobe = v;
        return true;
    case OPT_HNSW_M:
        if (!cli_parse_i64("kde", "--hnsw-m", text, 2, CS_KDE_MAX_HNSW_M, &v))
            return false;
        o->hnsw_m = (int32_t)v;
        return true;
    case OPT_EF_CONSTRUCTION:
        if (!cli_parse_i64("kde", "--ef-construction", text, 1, INT32_MAX, &v))
            return false;
        o->hnsw_ef_construction = (int32_t)v;
        return true;
    case OPT_EF_SEARCH:
        if (!cli_parse_i64("kde", "--ef-search", text, 1, INT32_MAX, &v))
            return false;
        o->hnsw_ef_search = (int32_t)v;
        return true;
    case OPT_THREADS:
        if (!cli_parse_i64("kde", "--threads", text, 0, CS_KDE_MAX_THREADS,
                           &v))
            return false;
        o->threads = (int32_t)v;
        return true;
    }
    return false;
}

static int parse_args(int argc, char **argv, kde_args *a)
{
    static const struct option options[] = {
        {"features", required_argument, NULL, OPT_FEATURES},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"out", required_argument, NULL, OPT_OUT},
        {"bandwidth", required_argument, NULL, OPT_BANDWIDTH},
        {"method", required_argument, NULL, OPT_METHOD},
        {"reference-size", required_argument, NULL, OPT_REFERENCE_SIZE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"neighbors", required_argument, NULL, OPT_NEIGHBORS},
        {"k", required_argument, NULL, OPT_K},
        {"nlist", required_argument, NULL, OPT_NLIST},
        {"nprobe", required_argument, NULL, OPT_NPROBE},
        {"hnsw-m", required_argument, NULL, OPT_HNSW_M},
        {"ef-construction", required_argument, NULL, OPT_EF_CONSTRUCTION},
        {"ef-search", required_argument, NULL, OPT_EF_SEARCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (code == OPT_FEATURES)
            a->features = optarg;
        else if (code == OPT_LABELS)
            a->labels = optarg;
        else if (code == OPT_OUT)
            a->out = optarg;
        else if (code == OPT_BANDWIDTH) {
            if (!parse_bandwidth(optarg, &a->options.bandwidth))
                return CLI_EXIT_USAGE;
        } else if (code == OPT_HELP) {
            fputs(kde_help, stdout);
            return -1;
        } else if (code == '?') {
            return cli_usage_error("kde", "invalid option");
        } else if (!apply_option(code, optarg, &a->options)) {
            return CLI_EXIT_USAGE;
        }
        a->neighbors = a->neighbors || code == OPT_NEIGHBORS;
    }
    if (optind < argc)
        return cli_usage_error("kde", "unexpected argument '%s'",
                               argv[optind]);
    const char *missing = a->features == NULL ? "--features"
                          : a->labels == NULL ? "--labels"
                          : a->out == NULL    ? "--out"
                                              : NULL;
    if (missing != NULL)
        return cli_usage_error("kde",
                               "%s is missing; --features, --labels and "
                               "--out are all required",
                               missing);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------
 * Input files
 * ------------------------------------------------------------------------ */

/* Features, labels and their sizes as the library takes them. */
typedef struct kde_input {
    float *features; /* n x dim */
    int32_t *labels; /* n */
    size_t n;
    int32_t dim;
    int32_t classes;
} kde_input;

static int read_features(const char *path, kde_input *in)
{
    cs__array array = {0};
    if (cs__npy_read_file(path, "--features", &array) != CS_OK)
        return cli_library_error("kde");

    int rc = CLI_EXIT_OK;
    if ((array.element != CS__ELEMENT_F32 &&
         array.element != CS__ELEMENT_F64) ||
        array.ndim != 2)
        rc = cli_runtime_error("kde",
                               "--features %s is %s with %d dimensions; "
                               "expected a 2-D float32 or float64 array "
                               "(examples x features)",
                               path, cs__element_name(array.element),
                               array.ndim);
    else if (array.shape[0] < 2)
        rc = cli_runtime_error("kde",
                               "--features %s has %lld examples; the scores "
                               "need at least 2",
                               path, (long long)array.shape[0]);
    else if (array.shape[1] < 1 || array.shape[1] > INT32_MAX)
        rc = cli_runtime_error("kde",
                               "--features %s has %lld features per "
                               "example; expected 1 to %d",
                               path, (long long)array.shape[1], INT32_MAX);
    else if (!cs__array_to_f32(&array, &in->features))
        rc = cli_runtime_error("kde", "out of memory reading %s", path);

    in->n = array.ndim == 2 ? (size_t)array.shape[0] : 0;
    in->dim = array.ndim == 2 ? (int32_t)array.shape[1] : 0;
    cs__array_free(&array);
    return rc;
}

/* Every feature must be finite, also after float64 values are rounded to
 * float32. */
static int check_finite(const char *path, const kde_input *in)
{
    const size_t dim = (size_t)in->dim;
    for (size_t v = 0; v < in->n * dim; v++)
        if (!isfinite(in->features[v]))
            return cli_runtime_error(
                "kde",
                "--features %s: example %zu, feature %zu is %g; every "
                "feature must be a finite float32 value",
                path, v / dim, v % dim, (double)in->features[v]);
    return CLI_EXIT_OK;
}

static int convert_labels(const char *path, const cs__array *array,
                          kde_input *in)
{
    int64_t bad = -1;
    int64_t *values = NULL;
    if (!cs__array_to_i64(array, &values, &bad))
        return cli_runtime_error("kde", "out of memory reading %s", path);

    in->labels = malloc(array->count * sizeof *in->labels + 1);
    int rc = in->labels != NULL
                 ? CLI_EXIT_OK
                 : cli_runtime_error("kde", "out of memory reading %s", path);
    for (size_t i = 0; i < array->count && rc == CLI_EXIT_OK; i++) {
        if (values[i] < 0 || values[i] >= INT32_MAX)
            rc = cli_runtime_error("kde",
                                   "--labels %s: label %zu is %lld; labels "
                                   "must be class numbers from 0",
                                   path, i, (long long)values[i]);
        else {
            in->labels[i] = (int32_t)values[i];
            if (in->labels[i] >= in->classes)
                in->classes = in->labels[i] + 1;
        }
    }
    cs__free(values);
    return rc;
}

static int read_labels(const char *path, kde_input *in)
{
    cs__array array = {0};
    if (cs__npy_read_file(path, "--labels", &array) != CS_OK)
        return cli_library_error("kde");

    int rc = CLI_EXIT_OK;
    if ((array.element != CS__ELEMENT_I32 &&
         array.element != CS__ELEMENT_I64) ||
        array.ndim != 1)
        rc = cli_runtime_error("kde",
                               "--labels %s is %s with %d dimensions; "
                               "expected a 1-D int32 or int64 array",
                               path, cs__element_name(array.element),
                               array.ndim);
    else if ((size_t)array.shape[0] != in->n)
        rc = cli_runtime_error("kde",
                               "--labels %s has %lld labels but --features "
                               "has %zu examples; both must have one row per "
                               "example",
                               path, (long long)array.shape[0], in->n);
    else
        rc = convert_labels(path, &array, in);
    cs__array_free(&array);
    return rc;
}

static void free_input(kde_input *in)
{
    cs__free(in->features);
    free(in->labels);
}

/* ------------------------------------------------------------------------
 * Scores and output
 * ------------------------------------------------------------------------ */

#define KDE_ARRAYS 7

/* Output arrays in .npz order: the three kernel sums, then the four
 * neighbour scores. */
static const char *const array_names[KDE_ARRAYS] = {
    "kde_pm",       "kde_l",     "kde_free",  "knn_kde_pm",
    "knn_kde_l",    "knn_kde_free", "knn_agree"};

typedef struct kde_output {
    float *arrays[KDE_ARRAYS];
    cs_kde_result result;
    double seconds;
} kde_output;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compute(const kde_args *a, const kde_input *in, kde_output *out)
{
    const int arrays = a->neighbors ? KDE_ARRAYS : 3;
    for (int k = 0; k < arrays; k++) {
        out->arrays[k] = malloc(in->n * sizeof(float));
        if (out->arrays[k] == NULL)
            return cli_runtime_error("kde", "out of memory for the scores");
    }

    cs_kde_result_init(&out->result);
    out->result.n = in->n;
    out->result.kde_pm = out->arrays[0];
    out->result.kde_l = out->arrays[1];
    out->result.kde_free = out->arrays[2];
    out->result.knn_kde_pm = out->arrays[3];
    out->result.knn_kde_l = out->arrays[4];
    out->result.knn_kde_free = out->arrays[5];
    out->result.knn_agree = out->arrays[6];

    /* Named after the option here; the library would name its field. */
    if (a->neighbors && (uint64_t)a->options.neighbors > in->n - 1)
        return cli_runtime_error("kde",
                                 "--k %lld is larger than N - 1 = %zu, the "
                                 "number of other examples; pass a smaller "
                                 "--k",
                                 (long long)a->options.neighbors, in->n - 1);

    const cs_examples examples = {in->features, in->labels, in->n, in->dim};
    const double start = now_seconds();
    if (cs_kde_scores(&examples, in->classes, &a->options, &out->result) !=
        CS_OK)
        return cli_library_error("kde");
    out->seconds = now_seconds() - start;
    return CLI_EXIT_OK;
}

static int write_npz(const char *path, const kde_output *out, size_t n)
{
    cs__npz_writer *w = NULL;
    cs_status st = cs__npz_open(path, "--out", &w);
    const int64_t shape[1] = {(int64_t)n};
    for (int k = 0; k < KDE_ARRAYS && st == CS_OK; k++)
        if (out->arrays[k] != NULL)
            st = cs__npz_add(w, array_names[k], CS__DTYPE_F32, shape, 1,
                             out->arrays[k]);
    if (st == CS_OK)
        st = cs__npz_add(w, "bandwidth", CS__DTYPE_F64, NULL, 0,
                         &out->result.bandwidth);

    if (st == CS_OK)
        st = cs__npz_close(w);
    else
        cs__npz_abort(w);
    return st == CS_OK ? CLI_EXIT_OK : cli_library_error("kde");
}

static void print_summary(const kde_args *a, const kde_input *in,
                          const kde_output *out)
{
    static const char *const kinds[] = {"flat", "ivf", "hnsw"};
    const cs_kde_result *r = &out->result;
    printf("Scored %zu examples (%d features, %d classes) in %.2f s; "
           "bandwidth %.6g",
           in->n, (int)in->dim, (int)in->classes, out->seconds, r->bandwidth);
    if (r->bandwidth_se > 0.0)
        printf(" (standard error %.2g)", r->bandwidth_se);
    printf(", kernel sums over %lld reference examples\n",
           (long long)r->reference_count);
    if (a->neighbors)
        printf("Neighbour scores: %s index, k = %lld, %lld empty neighbour "
               "slots\n",
               kinds[a->options.neighbor_index],
               (long long)a->options.neighbors, (long long)r->knn_missing);
    printf("Wrote %s\n", a->out);
}

int cli_kde(int argc, char **argv)
{
    kde_args a = {0};
    cs_kde_options_init(&a.options);
    a.options.method = CS_KDE_SAMPLED;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;

    kde_input in = {0};
    kde_output out = {0};
    rc = read_features(a.features, &in);
    if (rc == CLI_EXIT_OK)
        rc = check_finite(a.features, &in);
    if (rc == CLI_EXIT_OK)
        rc = read_labels(a.labels, &in);
    if (rc == CLI_EXIT_OK)
        rc = compute(&a, &in, &out);
    if (rc == CLI_EXIT_OK)
        rc = write_npz(a.out, &out, in.n);
    if (rc == CLI_EXIT_OK)
        print_summary(&a, &in, &out);

    for (int k = 0; k < KDE_ARRAYS; k++)
        free(out.arrays[k]);
    free_input(&in);
    return rc;
}
