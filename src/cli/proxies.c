/*
 * `cscore proxies`: replays predictions that any framework saved, one .npy
 * per epoch, through the tracker and writes the same exports as `cscore
 * train`. This is how to use cscore without touching a training loop.
 */
#include "cli/cli.h"
#include "cli/output.h"

#include "io/npy_read.h"

#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char proxies_help[] =
    "Usage: cscore proxies --logits PATTERN --labels FILE [options] --out "
    "DIR\n"
    "\n"
    "Reads one .npy of predictions per epoch, observes them in epoch order\n"
    "and writes DIR/proxies.csv, DIR/proxies.npz and DIR/labels.npy.\n"
    "\n"
    "  --logits PATTERN    glob of the per-epoch files, quoted so the shell\n"
    "                      leaves it alone, e.g. 'run/epoch_*.npy'; each is\n"
    "                      n x C float32 or float64; files are ordered by the\n"
    "                      last number in their names\n"
    "  --labels FILE       .npy of N integer labels, indexed by example id\n"
    "  --ids FILE          .npy of integer example ids of the rows: n ids\n"
    "                      used for every epoch, or epochs x n (default: row\n"
    "                      i is example i, and n must equal N)\n"
    "  --probabilities     the files hold probabilities, not logits\n"
    "  --keep-first        keep the first of repeated observations of an\n"
    "                      example in an epoch and count the rest (default:\n"
    "                      a repeat is an error)\n"
    "  --out DIR           output folder, created if missing (required)\n"
    "  -h, --help          show this help\n";

enum {
    OPT_LOGITS = 1,
    OPT_LABELS,
    OPT_IDS,
    OPT_PROBABILITIES,
    OPT_KEEP_FIRST,
    OPT_OUT,
    OPT_HELP = 'h'
};

typedef struct proxies_args {
    const char *logits;
    const char *labels;
    const char *ids;
    const char *out;
    bool probabilities;
    bool keep_first;
} proxies_args;

static int parse_args(int argc, char **argv, proxies_args *a)
{
    static const struct option options[] = {
        {"logits", required_argument, NULL, OPT_LOGITS},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"ids", required_argument, NULL, OPT_IDS},
        {"probabilities", no_argument, NULL, OPT_PROBABILITIES},
        {"keep-first", no_argument, NULL, OPT_KEEP_FIRST},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (code) {
        case OPT_LOGITS:
            a->logits = optarg;
            break;
        case OPT_LABELS:
            a->labels = optarg;
            break;
        case OPT_IDS:
            a->ids = optarg;
            break;
        case OPT_PROBABILITIES:
            a->probabilities = true;
            break;
        case OPT_KEEP_FIRST:
            a->keep_first = true;
            break;
        case OPT_OUT:
            a->out = optarg;
            break;
        case OPT_HELP:
            fputs(proxies_help, stdout);
            return -1;
        default:
            return cli_usage_error("proxies", "invalid option");
        }
    }
    if (optind < argc)
        return cli_usage_error("proxies", "unexpected argument '%s'",
                               argv[optind]);
    if (a->logits == NULL || a->labels == NULL || a->out == NULL)
        return cli_usage_error("proxies",
                               "--logits, --labels and --out are required");
    return CLI_EXIT_OK;
}

/* An epoch file and the number its name carries. */
typedef struct epoch_file {
    const char *path;
    long long number;
} epoch_file;

static int compare_epoch_files(const void *a, const void *b)
{
    const epoch_file *x = a;
    const epoch_file *y = b;
    return (x->number > y->number) - (x->number < y->number);
}

/* Finds the last run of digits in the file name (not the folders). */
static bool number_in_name(const char *path, long long *out)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    const char *end = NULL;
    for (const char *p = name; *p; p++)
        if (isdigit((unsigned char)*p) && !isdigit((unsigned char)p[1]))
            end = p + 1;
    if (end == NULL)
        return false;
    const char *start = end;
    while (start > name && isdigit((unsigned char)start[-1]))
        start--;
    *out = strtoll(start, NULL, 10);
    return true;
}

/* Expands the pattern and orders the files by epoch number. */
static int list_epoch_files(const char *pattern, glob_t *matches,
                            epoch_file **out, size_t *count)
{
    int rc = glob(pattern, 0, NULL, matches);
    if (rc == GLOB_NOMATCH)
        return cli_runtime_error("proxies", "no file matches --logits '%s'",
                                 pattern);
    if (rc != 0)
        return cli_runtime_error("proxies", "cannot expand --logits '%s'",
                                 pattern);

    const size_t n = matches->gl_pathc;
    epoch_file *files = calloc(n, sizeof *files);
    if (files == NULL)
        return cli_runtime_error("proxies", "out of memory");
    for (size_t k = 0; k < n; k++) {
        files[k].path = matches->gl_pathv[k];
        if (!number_in_name(files[k].path, &files[k].number)) {
            free(files);
            return cli_runtime_error("proxies",
                                     "%s has no epoch number in its name; "
                                     "name the files like epoch_001.npy",
                                     matches->gl_pathv[k]);
        }
    }
    qsort(files, n, sizeof *files, compare_epoch_files);
    for (size_t k = 1; k < n; k++) {
        if (files[k].number == files[k - 1].number) {
            int code = cli_runtime_error(
                "proxies", "%s and %s carry the same epoch number %lld",
                files[k - 1].path, files[k].path, files[k].number);
            free(files);
            return code;
        }
    }
    *out = files;
    *count = n;
    return CLI_EXIT_OK;
}

/* Reads an integer .npy of the given dimensions into int64 values. */
static int read_integers(const char *path, const char *option,
                         cs__array *array, int64_t **values)
{
    if (cs__npy_read_file(path, option, array) != CS_OK)
        return cli_library_error("proxies");
    if (array->element == CS__ELEMENT_F32 ||
        array->element == CS__ELEMENT_F64 || array->ndim < 1 ||
        array->ndim > 2)
        return cli_runtime_error("proxies",
                                 "%s given to %s is %s with %d dimensions; "
                                 "expected integers in 1 or 2 dimensions",
                                 path, option,
                                 cs__element_name(array->element),
                                 array->ndim);
    int64_t bad;
    if (!cs__array_to_i64(array, values, &bad))
        return cli_runtime_error("proxies", "out of memory reading %s", path);
    return CLI_EXIT_OK;
}

/* Everything read before the epochs: labels by id, and the row ids. */
typedef struct replay {
    const proxies_args *args;
    int64_t *labels; /* N labels */
    size_t n_examples;
    int64_t *ids;    /* n or epochs x n ids, or NULL */
    size_t ids_per_epoch;
    bool ids_per_file; /* ids has one row per epoch file */
    cs_tracker *tracker;
} replay;

static int read_labels_and_ids(replay *r, size_t n_files)
{
    cs__array labels = {0}, ids = {0};
    int rc = read_integers(r->args->labels, "--labels", &labels, &r->labels);
    if (rc == CLI_EXIT_OK && labels.ndim != 1)
        rc = cli_runtime_error("proxies", "--labels %s must be 1-D, not %d-D",
                               r->args->labels, labels.ndim);
    r->n_examples = labels.count;
    if (rc == CLI_EXIT_OK && r->args->ids != NULL) {
        rc = read_integers(r->args->ids, "--ids", &ids, &r->ids);
        r->ids_per_file = ids.ndim == 2;
        r->ids_per_epoch = (size_t)ids.shape[ids.ndim - 1];
        if (rc == CLI_EXIT_OK && r->ids_per_file &&
            (size_t)ids.shape[0] != n_files)
            rc = cli_runtime_error("proxies",
                                   "--ids %s has %lld rows but %zu epoch "
                                   "files matched",
                                   r->args->ids, (long long)ids.shape[0],
                                   n_files);
    }
    cs__array_free(&labels);
    cs__array_free(&ids);
    return rc;
}

/* Reads one epoch file as n x C float32. */
static int read_predictions(const char *path, cs__array *array, float **rows,
                            size_t *n, size_t *classes)
{
    if (cs__npy_read_file(path, "--logits", array) != CS_OK)
        return cli_library_error("proxies");
    if ((array->element != CS__ELEMENT_F32 &&
         array->element != CS__ELEMENT_F64) ||
        array->ndim != 2)
        return cli_runtime_error("proxies",
                                 "%s is %s with %d dimensions; expected a "
                                 "2-D float32 or float64 array (examples x "
                                 "classes)",
                                 path, cs__element_name(array->element),
                                 array->ndim);
    if (!cs__array_to_f32(array, rows))
        return cli_runtime_error("proxies", "out of memory reading %s", path);
    *n = (size_t)array->shape[0];
    *classes = (size_t)array->shape[1];
    return CLI_EXIT_OK;
}

static int create_tracker(replay *r, size_t classes)
{
    cs_tracker_options o;
    cs_tracker_options_init(&o);
    o.n_examples = (int64_t)r->n_examples;
    o.n_classes = (int32_t)classes;
    o.input_kind =
        r->args->probabilities ? CS_INPUT_PROBABILITIES : CS_INPUT_LOGITS;
    o.keep_history = 1;
    o.repeat_policy =
        r->args->keep_first ? CS_REPEAT_KEEP_FIRST : CS_REPEAT_REJECT;
    if (cs_tracker_create(&o, &r->tracker) != CS_OK)
        return cli_library_error("proxies");
    return CLI_EXIT_OK;
}

/* Looks up each row's label by its id; ids out of range are left to the
 * tracker, which reports them. */
static int observe_rows(replay *r, const epoch_file *file, size_t epoch,
                        const float *rows, size_t n)
{
    const int64_t *ids = NULL;
    int64_t *own_ids = NULL;
    if (r->ids != NULL) {
        if (n != r->ids_per_epoch)
            return cli_runtime_error("proxies",
                                     "%s has %zu rows but --ids gives %zu ids "
                                     "per epoch",
                                     file->path, n, r->ids_per_epoch);
        ids = r->ids + (r->ids_per_file ? epoch * n : 0);
    } else {
        if (n != r->n_examples)
            return cli_runtime_error("proxies",
                                     "%s has %zu rows but --labels has %zu "
                                     "examples; pass --ids to say which "
                                     "example each row is",
                                     file->path, n, r->n_examples);
        own_ids = malloc(n * sizeof *own_ids);
        if (own_ids == NULL)
            return cli_runtime_error("proxies", "out of memory");
        for (size_t i = 0; i < n; i++)
            own_ids[i] = (int64_t)i;
        ids = own_ids;
    }

    int32_t *labels = malloc(n * sizeof *labels);
    int rc = CLI_EXIT_OK;
    if (labels == NULL)
        rc = cli_runtime_error("proxies", "out of memory");
    for (size_t i = 0; rc == CLI_EXIT_OK && i < n; i++) {
        const int64_t id = ids[i];
        const bool known = id >= 0 && (uint64_t)id < r->n_examples;
        const int64_t y = known ? r->labels[id] : 0;
        labels[i] = y >= INT32_MIN && y <= INT32_MAX ? (int32_t)y : -1;
    }
    if (rc == CLI_EXIT_OK &&
        (cs_observe_batch(r->tracker, rows, labels, ids, NULL, n) != CS_OK ||
         cs_end_epoch(r->tracker) != CS_OK)) {
        fprintf(stderr, "cscore proxies: in %s:\n", file->path);
        rc = cli_library_error("proxies");
    }
    free(labels);
    free(own_ids);
    return rc;
}

static int replay_epochs(replay *r, const epoch_file *files, size_t n_files)
{
    size_t classes = 0;
    for (size_t e = 0; e < n_files; e++) {
        cs__array array = {0};
        float *rows = NULL;
        size_t n = 0, file_classes = 0;
        int rc = read_predictions(files[e].path, &array, &rows, &n,
                                  &file_classes);
        if (rc == CLI_EXIT_OK && e == 0) {
            classes = file_classes;
            rc = create_tracker(r, classes);
        }
        if (rc == CLI_EXIT_OK && file_classes != classes)
            rc = cli_runtime_error("proxies",
                                   "%s has %zu classes but %s has %zu",
                                   files[e].path, file_classes, files[0].path,
                                   classes);
        if (rc == CLI_EXIT_OK)
            rc = observe_rows(r, &files[e], e, rows, n);
        free(rows);
        cs__array_free(&array);
        if (rc != CLI_EXIT_OK)
            return rc;
        fprintf(stderr, "epoch %zu: %s (%zu rows)\n", e + 1, files[e].path,
                n);
    }
    return CLI_EXIT_OK;
}

int cli_proxies(int argc, char **argv)
{
    proxies_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;

    glob_t matches = {0};
    epoch_file *files = NULL;
    size_t n_files = 0;
    replay r = {.args = &a};
    rc = list_epoch_files(a.logits, &matches, &files, &n_files);
    if (rc == CLI_EXIT_OK)
        rc = read_labels_and_ids(&r, n_files);
    if (rc == CLI_EXIT_OK)
        rc = replay_epochs(&r, files, n_files);
    if (rc == CLI_EXIT_OK)
        rc = cli_make_folder("proxies", a.out);
    if (rc == CLI_EXIT_OK)
        rc = cli_write_exports("proxies", r.tracker, a.out);
    if (rc == CLI_EXIT_OK) {
        cli_print_least_regular("proxies", r.tracker, 5);
        printf("Wrote %s/proxies.csv, proxies.npz and labels.npy\n", a.out);
    }

    cs_tracker_free(r.tracker);
    free(r.labels);
    free(r.ids);
    free(files);
    globfree(&matches);
    return rc;
}
