/*
 * Shared pieces of the `cscore` program: exit codes, error reporting,
 * parsing of option values, and the trainer recipe flags that several
 * subcommands accept.
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include "cscore.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_RUNTIME = 1, /* the job failed; a message says why */
    CLI_EXIT_USAGE = 2    /* unknown option or bad value */
};

/* Prints "cscore SUBCOMMAND: message" and a hint to --help to stderr and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *subcommand, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "cscore SUBCOMMAND: " and the library's last error message to
 * stderr and returns CLI_EXIT_RUNTIME. */
int cli_library_error(const char *subcommand);

/* Prints "cscore SUBCOMMAND: message" to stderr; returns CLI_EXIT_RUNTIME. */
int cli_runtime_error(const char *subcommand, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Value parsers: return false (after printing a usage error naming the
 * option and the value) when the whole string is not a valid value in
 * [min, max]. */
bool cli_parse_i64(const char *subcommand, const char *option,
                   const char *text, int64_t min, int64_t max, int64_t *out);
bool cli_parse_double(const char *subcommand, const char *option,
                      const char *text, double min, double max, double *out);

/* Parses a comma-separated list of integers in [min, max] into out
 * (capacity entries); sets *count. */
bool cli_parse_i32_list(const char *subcommand, const char *option,
                        const char *text, int32_t min, int32_t max,
                        int32_t *out, int capacity, int *count);

/* Trainer recipe flags shared by `train` and `holdout`. Codes start at
 * CLI_RECIPE_FIRST so subcommands can number their own flags below it. */
enum {
    CLI_RECIPE_FIRST = 1000,
    CLI_RECIPE_EPOCHS = CLI_RECIPE_FIRST,
    CLI_RECIPE_LR,
    CLI_RECIPE_SCHEDULE,
    CLI_RECIPE_DECAY_EPOCHS,
    CLI_RECIPE_DECAY_FACTOR,
    CLI_RECIPE_MOMENTUM,
    CLI_RECIPE_NESTEROV,
    CLI_RECIPE_WEIGHT_DECAY,
    CLI_RECIPE_BATCH,
    CLI_RECIPE_HIDDEN,
    CLI_RECIPE_THREADS,
    CLI_RECIPE_SEED,
    CLI_RECIPE_LAST
};

/* getopt_long entries for the recipe flags, terminated by a zero entry. */
extern const struct option cli_recipe_options[];

/* Help text lines for the recipe flags, with units and defaults. */
extern const char cli_recipe_help[];

/* Applies one recipe flag. Returns false after printing a usage error. */
bool cli_apply_recipe_option(const char *subcommand, int code,
                             const char *value, cs_trainer_options *recipe);

/* Appends `extra` (terminated by a zero entry) to the recipe options into
 * out, which has room for `capacity` entries. */
void cli_merge_options(const struct option *extra, struct option *out,
                       size_t capacity);

/* Subcommands. Each returns an exit code. */
int cli_train(int argc, char **argv);
int cli_proxies(int argc, char **argv);
int cli_kde(int argc, char **argv);
int cli_holdout(int argc, char **argv);
int cli_holdout_merge(int argc, char **argv);
int cli_correlate(int argc, char **argv);
int cli_bench(int argc, char **argv);

#endif /* CS_CLI_H */
