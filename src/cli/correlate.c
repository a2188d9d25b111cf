/*
 * `cscore correlate`: rank correlations of each proxy of one training run
 * with ground-truth C-scores, after aligning the two files by example id
 * and checking that their labels agree.
 */
#include "cli/cli.h"
#include "cli/correlation_table.h"
#include "cli/proxy_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char correlate_help[] =
    "Usage: cscore correlate --truth FILE[:KEY] --proxies FILE [options]\n"
    "\n"
    "Prints, for each proxy, Spearman's rho and Kendall's tau-b against\n"
    "ground-truth C-scores, a percentile bootstrap interval for each, and\n"
    "the number n of examples used.\n"
    "\n"
    "  --truth FILE[:KEY]  C-scores: a .npy file, or array KEY of a .npz\n"
    "                      file (default 'scores' if present, else\n"
    "                      'integral'). The .npz's 'labels', if any, are\n"
    "                      checked against the proxies file's labels.\n"
    "  --proxies FILE      proxies.npz of `cscore train` or `cscore\n"
    "                      proxies`, or a CSV file with a header line\n"
    "  --keys K1,K2,...    proxies to correlate (default: every 1-D\n"
    "                      per-example array except ids, labels, flipped)\n"
    "  --class C           use only the examples with label C\n"
    "  --ids FILE          use only the example ids listed in FILE: a .npy\n"
    "                      integer array, or text with one id per line;\n"
    "                      every row of the proxies must still have an id\n"
    "                      in the truth file\n"
    "  --bootstrap B       bootstrap resamples per interval (default 1000;\n"
    "                      0 prints no intervals)\n"
    "  --confidence L      level of the intervals in (0, 1) (default 0.95)\n"
    "  --seed S            seed of the resampling (default 0)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Alignment: when the proxies file has 'ids' (or an 'id' column), row r\n"
    "is the truth's example ids[r], so proxies of `cscore train --first N`\n"
    "match the first N truth entries. Without ids both files must list the\n"
    "same examples in the same order. When both have labels, they must\n"
    "agree (rows marked 'flipped' excepted), or the files are taken to be\n"
    "in different orders and nothing is printed.\n"
    "\n"
    "Pairs with a NaN on either side are dropped; n counts the rest.\n"
    "first_learned's -1 (never learned) counts as later than every epoch.\n"
    "\n"
    "Signs: the correlation is that of the proxy's raw values. Proxies that\n"
    "rise with regularity (cbtl, cbtl_frac, p_l_*, p_max_*, aum, kde_*)\n"
    "correlate positively with the C-score; those that fall with it\n"
    "(forgetting, first_learned, el2n, p_l_std) correlate negatively.\n";

enum {
    OPT_TRUTH = 1,
    OPT_PROXIES,
    OPT_KEYS,
    OPT_CLASS,
    OPT_IDS,
    OPT_BOOTSTRAP,
    OPT_CONFIDENCE,
    OPT_SEED,
    OPT_HELP = 'h'
};

typedef struct correlate_args {
    const char *truth;
    const char *proxies;
    const char *keys;
    bool has_class;
    int64_t class_label;
    const char *ids;
    int64_t bootstrap;
    double confidence;
    int64_t seed;
} correlate_args;

static int parse_number_option(int code, const char *value, correlate_args *a)
{
    bool ok = true;
    switch (code) {
    case OPT_CLASS:
        a->has_class = true;
        ok = cli_parse_i64("correlate", "--class", value, INT32_MIN, INT32_MAX,
                           &a->class_label);
        break;
    case OPT_BOOTSTRAP:
        ok = cli_parse_i64("correlate", "--bootstrap", value, 0, 1000000,
                           &a->bootstrap);
        break;
    case OPT_CONFIDENCE:
        ok = cli_parse_double("correlate", "--confidence", value, 0.0, 1.0,
                              &a->confidence);
        if (ok && (a->confidence <= 0.0 || a->confidence >= 1.0)) {
            cli_usage_error("correlate",
                            "invalid value '%s' for --confidence: expected a "
                            "level strictly between 0 and 1, such as 0.95",
                            value);
            ok = false;
        }
        break;
    default:
        ok = cli_parse_i64("correlate", "--seed", value, 0, INT64_MAX,
                           &a->seed);
    }
    return ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Returns CLI_EXIT_OK, an exit code, or -1 after printing the help. */
static int parse_args(int argc, char **argv, correlate_args *a)
{
    static const struct option options[] = {
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"proxies", required_argument, NULL, OPT_PROXIES},
        {"keys", required_argument, NULL, OPT_KEYS},
        {"class", required_argument, NULL, OPT_CLASS},
        {"ids", required_argument, NULL, OPT_IDS},
        {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
        {"confidence", required_argument, NULL, OPT_CONFIDENCE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };

    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int rc = CLI_EXIT_OK;
        if (code == OPT_TRUTH)
            a->truth = optarg;
        else if (code == OPT_PROXIES)
            a->proxies = optarg;
        else if (code == OPT_KEYS)
            a->keys = optarg;
        else if (code == OPT_IDS)
            a->ids = optarg;
        else if (code == OPT_HELP) {
            fputs(correlate_help, stdout);
            return -1;
        } else if (code == '?')
            return cli_usage_error("correlate", "invalid option");
        else
            rc = parse_number_option(code, optarg, a);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error("correlate", "unexpected argument '%s'",
                               argv[optind]);
    if (a->truth == NULL || a->proxies == NULL)
        return cli_usage_error("correlate", "%s is required",
                               a->truth == NULL ? "--truth FILE[:KEY]"
                                                : "--proxies FILE");
    return CLI_EXIT_OK;
}

/* ---- which proxies ----------------------------------------------------- */

/* Splits --keys into columns of the table, or takes every column. */
static int choose_columns(const correlate_args *a,
                          const cli_proxy_table *table,
                          const cli_proxy_column ***chosen, size_t *count)
{
    *count = 0;
    *chosen = calloc(table->n_columns + 1, sizeof **chosen);
    if (*chosen == NULL)
        return cli_runtime_error("correlate", "out of memory");
    if (a->keys == NULL) {
        for (size_t k = 0; k < table->n_columns; k++)
            (*chosen)[(*count)++] = &table->columns[k];
        if (*count == 0)
            return cli_runtime_error("correlate",
                                     "%s has no per-example proxy arrays",
                                     table->path);
        return CLI_EXIT_OK;
    }

    char *list = strdup(a->keys);
    char *save = NULL;
    int rc = list != NULL ? CLI_EXIT_OK
                          : cli_runtime_error("correlate", "out of memory");
    for (char *key = list ? strtok_r(list, ",", &save) : NULL;
         key != NULL && rc == CLI_EXIT_OK; key = strtok_r(NULL, ",", &save)) {
        const cli_proxy_column *column = cli_proxy_table_find(table, key);
        if (column == NULL) {
            char names[2000];
            cli_proxy_table_list(table, names, sizeof names);
            rc = cli_usage_error("correlate",
                                 "--keys names '%s', which is not a "
                                 "per-example array of %s; its proxies are: "
                                 "%s",
                                 key, table->path, names);
        } else if (*count < table->n_columns) {
            (*chosen)[(*count)++] = column;
        }
    }
    free(list);
    if (rc == CLI_EXIT_OK && *count == 0)
        rc = cli_usage_error("correlate", "--keys lists no proxy");
    return rc;
}

/* ---- subsets ----------------------------------------------------------- */

/* Reads example ids from a .npy array or a text file of integers. */
static int read_id_list(const char *path, int64_t **ids, size_t *count)
{
    cs_array *array = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return cli_runtime_error("correlate", "cannot open --ids file %s: %s",
                                 path, strerror(errno));
    const bool npy = fgetc(fp) == 0x93;
    rewind(fp);

    *count = 0;
    *ids = NULL;
    int rc = CLI_EXIT_OK;
    if (npy) {
        fclose(fp);
        if (cs_npy_read(path, &array) != CS_OK)
            return cli_library_error("correlate");
        *ids = malloc((array->count + 1) * sizeof **ids);
        double *values = malloc((array->count + 1) * sizeof *values);
        if (*ids == NULL || values == NULL)
            rc = cli_runtime_error("correlate", "out of memory");
        else
            cs_array_to_float64(array, values);
        for (size_t i = 0; rc == CLI_EXIT_OK && i < array->count; i++) {
            if (values[i] != floor(values[i]) || fabs(values[i]) > 9e15)
                rc = cli_runtime_error("correlate",
                                       "--ids file %s holds %g at index "
                                       "%zu; ids are integers",
                                       path, values[i], i);
            else
                (*ids)[(*count)++] = (int64_t)values[i];
        }
        free(values);
        cs_array_free(array);
        return rc;
    }

    size_t capacity = 0;
    long long id;
    int got;
    while ((got = fscanf(fp, " %lld ,", &id)) == 1) {
        if (*count == capacity) {
            capacity = capacity ? 2 * capacity : 1024;
            int64_t *grown = realloc(*ids, capacity * sizeof *grown);
            if (grown == NULL) {
                rc = cli_runtime_error("correlate", "out of memory");
                break;
            }
            *ids = grown;
        }
        (*ids)[(*count)++] = id;
    }
    if (rc == CLI_EXIT_OK && got != EOF)
        rc = cli_runtime_error("correlate",
                               "--ids file %s holds something other than "
                               "integers after %zu ids; list one example id "
                               "per line",
                               path, *count);
    fclose(fp);
    return rc;
}

/* Keeps in mask only the rows whose example ids are listed in the file. */
static int restrict_to_ids(const char *path, const cli_alignment *alignment,
                           size_t n_truth, uint8_t *mask)
{
    int64_t *ids = NULL;
    size_t count = 0;
    int rc = read_id_list(path, &ids, &count);
    int64_t *row_of = malloc((n_truth + 1) * sizeof *row_of);
    uint8_t *listed = calloc(alignment->n + 1, 1);
    if (rc == CLI_EXIT_OK && (row_of == NULL || listed == NULL))
        rc = cli_runtime_error("correlate", "out of memory");

    for (size_t i = 0; rc == CLI_EXIT_OK && i < n_truth; i++)
        row_of[i] = -1;
    for (size_t r = 0; rc == CLI_EXIT_OK && r < alignment->n; r++)
        row_of[alignment->example_id[r]] = (int64_t)r;
    for (size_t k = 0; rc == CLI_EXIT_OK && k < count; k++) {
        const int64_t id = ids[k];
        if (id < 0 || (uint64_t)id >= n_truth || row_of[id] < 0)
            rc = cli_runtime_error("correlate",
                                   "--ids lists example %lld (entry %zu), "
                                   "which the proxies file does not have",
                                   (long long)id, k);
        else
            listed[row_of[id]] = 1;
    }
    for (size_t r = 0; rc == CLI_EXIT_OK && r < alignment->n; r++)
        mask[r] = mask[r] && listed[r];
    free(ids), free(row_of), free(listed);
    return rc;
}

/* Keeps in mask only the rows of class `label`, by the proxies' labels or
 * else the truth's. */
static int restrict_to_class(int64_t label, const cli_truth *truth,
                             const cli_proxy_table *table,
                             const cli_alignment *alignment, uint8_t *mask)
{
    if (table->labels == NULL && truth->labels == NULL)
        return cli_usage_error("correlate",
                               "--class needs labels, but neither %s nor %s "
                               "has them",
                               table->path, truth->path);
    size_t n_selected = 0;
    for (size_t r = 0; r < alignment->n; r++) {
        const int64_t row_label = table->labels != NULL
                                      ? table->labels[r]
                                      : truth
                                            ->labels[alignment->example_id[r]];
        mask[r] = mask[r] && row_label == label;
        n_selected += mask[r];
    }
    if (n_selected == 0)
        return cli_runtime_error("correlate",
                                 "no example has label %lld (after any "
                                 "--ids restriction); check --class",
                                 (long long)label);
    return CLI_EXIT_OK;
}

/* Builds the subset mask of --class and --ids; *subset stays empty
 * without them. */
static int build_subset(const correlate_args *a, const cli_truth *truth,
                        const cli_proxy_table *table,
                        const cli_alignment *alignment, uint8_t **mask,
                        cs_subset *subset)
{
    memset(subset, 0, sizeof *subset);
    *mask = NULL;
    if (!a->has_class && a->ids == NULL)
        return CLI_EXIT_OK;

    *mask = malloc(alignment->n + 1);
    if (*mask == NULL)
        return cli_runtime_error("correlate", "out of memory");
    memset(*mask, 1, alignment->n);
    int rc = CLI_EXIT_OK;
    if (a->ids != NULL)
        rc = restrict_to_ids(a->ids, alignment, truth->n, *mask);
    if (rc == CLI_EXIT_OK && a->has_class)
        rc = restrict_to_class(a->class_label, truth, table, alignment, *mask);
    subset->mask = *mask;
    return rc;
}

/* ---- the report -------------------------------------------------------- */

static void print_preamble(const correlate_args *a, const cli_truth *truth,
                           const cli_proxy_table *table, const uint8_t *mask)
{
    printf("Truth: %s%s%s (%zu examples)\n", truth->path,
           truth->key ? ", key " : "", truth->key ? truth->key : "", truth->n);
    printf("Proxies: %s (%zu examples, aligned by %s)\n", table->path,
           table->n, table->ids != NULL ? "ids" : "position");
    if (mask != NULL) {
        size_t n_selected = 0;
        for (size_t r = 0; r < table->n; r++)
            n_selected += mask[r];
        printf("Subset: %zu examples", n_selected);
        if (a->has_class)
            printf(" of class %lld", (long long)a->class_label);
        if (a->ids != NULL)
            printf(" listed in %s", a->ids);
        printf("\n");
    }
    if (a->bootstrap > 0)
        printf("Intervals: percentile bootstrap, %lld resamples, seed "
               "%lld\n",
               (long long)a->bootstrap, (long long)a->seed);
    printf("\n");
}

static int print_rows(const correlate_args *a, const cli_proxy_table *table,
                      const cli_alignment *alignment,
                      const cli_proxy_column *const *columns, size_t count,
                      const cs_subset *subset)
{
    cs_bootstrap_options bootstrap;
    cs_bootstrap_options_init(&bootstrap);
    bootstrap.resamples = (int32_t)a->bootstrap;
    bootstrap.confidence = a->confidence;
    bootstrap.seed = (uint64_t)a->seed;

    int width = 5;
    for (size_t k = 0; k < count; k++)
        if ((int)strlen(columns[k]->name) > width)
            width = (int)strlen(columns[k]->name);
    cli_print_correlation_header(stdout, width, a->confidence,
                                 a->bootstrap > 0);

    int rc = CLI_EXIT_OK;
    for (size_t k = 0; k < count && rc == CLI_EXIT_OK; k++) {
        double *values = NULL;
        rc = cli_proxy_column_values("correlate", columns[k], table->n,
                                     &values);
        cli_correlation c;
        if (rc == CLI_EXIT_OK)
            rc = cli_correlate_pairs("correlate", values, alignment->truth,
                                     alignment->n, subset,
                                     a->bootstrap > 0 ? &bootstrap : NULL, &c);
        if (rc == CLI_EXIT_OK)
            cli_print_correlation_row(stdout, width, columns[k]->name, &c);
        fflush(stdout);
        free(values);
    }
    return rc;
}

static int run(const correlate_args *a)
{
    cli_truth truth;
    cli_proxy_table table;
    cli_alignment alignment = {0};
    const cli_proxy_column **columns = NULL;
    size_t count = 0;
    uint8_t *mask = NULL;
    cs_subset subset;

    int rc = cli_truth_load("correlate", a->truth, NULL, &truth);
    if (rc != CLI_EXIT_OK)
        return rc;
    rc = cli_proxy_table_open("correlate", a->proxies, &table);
    if (rc == CLI_EXIT_OK) {
        rc = choose_columns(a, &table, &columns, &count);
        if (rc == CLI_EXIT_OK)
            rc = cli_align("correlate", &truth, &table, &alignment);
        if (rc == CLI_EXIT_OK)
            rc = build_subset(a, &truth, &table, &alignment, &mask, &subset);
        if (rc == CLI_EXIT_OK) {
            print_preamble(a, &truth, &table, mask);
            rc = print_rows(a, &table, &alignment, columns, count, &subset);
        }
        cli_proxy_table_free(&table);
    }
    free(mask);
    free(columns);
    cli_alignment_free(&alignment);
    cli_truth_free(&truth);
    return rc;
}

int cli_correlate(int argc, char **argv)
{
    correlate_args a = {.bootstrap = 1000, .confidence = 0.95};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    return run(&a);
}
