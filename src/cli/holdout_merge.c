/*
 * `cscore holdout-merge`: combines record files written by separate
 * `cscore holdout` processes (array jobs, MPI ranks, machines) into one
 * result, counting a run found in several files once.
 */
#include "cli/cli.h"
#include "cli/holdout_report.h"

#include <stdio.h>
#include <stdlib.h>

#define SUBCOMMAND "holdout-merge"

static const char merge_help[] =
    "Usage: cscore holdout-merge --records F1 [F2 ...] --out O.npz\n"
    "\n"
    "Merges holdout record files into one result with the arrays that\n"
    "`cscore holdout` writes. Every file must come from the same estimate:\n"
    "the same examples and labels, master seed and trainer recipe. A run\n"
    "found in several files is counted once, and a torn last record, as a\n"
    "file still being written may have, is skipped. The files are only\n"
    "read.\n"
    "\n"
    "  --records F1 [F2 ...]  record files; --records may also be repeated\n"
    "                         (at least one file is required)\n"
    "  --out O.npz            result file (required)\n"
    "  -h, --help             show this help\n";

enum { OPT_RECORDS = 1, OPT_OUT, OPT_HELP = 'h' };

typedef struct merge_args {
    const char **files;
    int n_files;
    const char *out;
} merge_args;

/* Returns CLI_EXIT_OK, a usage error, or -1 after printing the help. The
 * file list points into argv. */
static int parse_args(int argc, char **argv, merge_args *a)
{
    static const struct option options[] = {
        {"records", required_argument, NULL, OPT_RECORDS},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };

    /* At most argc files: each is an argument of its own. */
    a->files = malloc((size_t)argc * sizeof *a->files);
    if (a->files == NULL)
        return cli_runtime_error(SUBCOMMAND, "out of memory");

    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (code == OPT_HELP) {
            fputs(merge_help, stdout);
            return -1;
        }
        if (code == OPT_RECORDS)
            a->files[a->n_files++] = optarg;
        else if (code == OPT_OUT)
            a->out = optarg;
        else
            return cli_usage_error(SUBCOMMAND, "invalid option");
    }

    /* getopt_long moves the files after the first one of a --records
     * list behind the options. */
    if (optind < argc && a->n_files == 0)
        return cli_usage_error(SUBCOMMAND,
                               "unexpected argument '%s'; "
                               "list record files after "
                               "--records",
                               argv[optind]);
    while (optind < argc)
        a->files[a->n_files++] = argv[optind++];

    if (a->n_files == 0)
        return cli_usage_error(SUBCOMMAND, "--records F1 [F2 ...] is "
                                           "required");
    if (a->out == NULL)
        return cli_usage_error(SUBCOMMAND, "--out O.npz is required");
    return CLI_EXIT_OK;
}

static int merge(const merge_args *a)
{
    cs_holdout *estimate = NULL;
    if (cs_holdout_create_from_records(a->files[0], &estimate) != CS_OK)
        return cli_library_error(SUBCOMMAND);

    int rc = CLI_EXIT_OK;
    for (int k = 1; k < a->n_files && rc == CLI_EXIT_OK; k++)
        if (cs_holdout_merge_records(estimate, a->files[k]) != CS_OK)
            rc = cli_library_error(SUBCOMMAND);
    if (rc == CLI_EXIT_OK) {
        printf("Merged %d record file%s\n", a->n_files,
               a->n_files == 1 ? "" : "s");
        rc = cli_holdout_print_summary(SUBCOMMAND, estimate);
    }
    if (rc == CLI_EXIT_OK) {
        if (cs_holdout_export_npz(estimate, a->out) == CS_OK)
            printf("Wrote %s\n", a->out);
        else
            rc = cli_library_error(SUBCOMMAND);
    }
    cs_holdout_free(estimate);
    return rc;
}

int cli_holdout_merge(int argc, char **argv)
{
    merge_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == CLI_EXIT_OK)
        rc = merge(&a);
    free(a.files);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
