/* Entry point of the `cscore` program: dispatches to the subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char main_help[] =
    "Usage: cscore COMMAND [options]\n"
    "\n"
    "Per-example C-score proxies from the learning dynamics of one training\n"
    "run.\n"
    "\n"
    "Commands:\n"
    "  train      train the built-in MLP on an IDX data set and export the\n"
    "             proxies of every training example\n"
    "  proxies    compute the proxies from predictions saved per epoch by\n"
    "             any framework\n"
    "  kde        kernel density and neighbour scores of saved features\n"
    "  holdout    estimate ground-truth C-scores by training many models\n"
    "             on random subsets (resumable, parallel, MPI)\n"
    "  holdout-merge\n"
    "             merge holdout record files from separate jobs\n"
    "  correlate  rank correlations of proxies with C-scores, with\n"
    "             bootstrap intervals\n"
    "  bench      run a YAML-described bench: correlations, per-epoch\n"
    "             analysis, label noise and figures\n"
    "\n"
    "Run 'cscore COMMAND --help' for a command's options.\n"
    "  --version  print the version\n"
    "  --help     show this help\n"
    "\n"
    "Exit status: 0 on success, 1 when the job fails, 2 on a usage error.\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"train", cli_train},
    {"proxies", cli_proxies},
    {"kde", cli_kde},
    {"holdout", cli_holdout},
    {"holdout-merge", cli_holdout_merge},
    {"correlate", cli_correlate},
    {"bench", cli_bench},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        fputs(main_help, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("cscore %s\n", cs_version_string());
        return CLI_EXIT_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(name, commands[k].name) == 0)
            return commands[k].run(argc - 1, argv + 1);

    fprintf(stderr,
            "cscore: unknown command '%s'\nRun 'cscore --help' for the "
            "commands.\n",
            name);
    return CLI_EXIT_USAGE;
}
