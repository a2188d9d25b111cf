/* Output shared by `cscore holdout` and `cscore holdout-merge`: the
 * progress line of each finished run, and the summary of an estimate. */
#ifndef CS_CLI_HOLDOUT_REPORT_H
#define CS_CLI_HOLDOUT_REPORT_H

#include "cli/cli.h"

/* State of the progress lines of one cs_holdout_run() call. */
typedef struct cli_holdout_progress {
    double started;     /* monotonic clock when the call started */
    const char *prefix; /* printed before each line, e.g. "" */
} cli_holdout_progress;

/* Returns the monotonic clock in seconds. */
double cli_seconds_now(void);

/* A cs_holdout_progress_fn; user_data is a cli_holdout_progress. Prints
 * one line to stderr per finished run. */
cs_status cli_holdout_print_progress(const cs_holdout_progress *progress,
                                     void *user_data);

/* Prints, per ratio, the runs counted, the mean score, the examples never
 * held out, and with more than one ratio the Spearman rho between the
 * ratio's scores and the integral score. Returns an exit code. */
int cli_holdout_print_summary(const char *subcommand,
                              const cs_holdout *holdout);

#endif /* CS_CLI_HOLDOUT_REPORT_H */
