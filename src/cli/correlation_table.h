/*
 * Rank correlations of one proxy with the ground truth (Spearman's rho
 * and Kendall's tau-b, each with an optional bootstrap interval) and
 * their rows in the text table that `cscore correlate` and `cscore bench`
 * print.
 */
#ifndef CS_CLI_CORRELATION_TABLE_H
#define CS_CLI_CORRELATION_TABLE_H

#include "cli/cli.h"

#include <stdio.h>

typedef struct cli_correlation {
    double spearman;
    double kendall;
    bool has_intervals;
    cs_interval spearman_interval; /* set when has_intervals */
    cs_interval kendall_interval;
    size_t n; /* pairs used: both values present, inside the subset */
} cli_correlation;

/* Computes both statistics on the n pairs (proxy[i], truth[i]); pairs
 * with a NaN are dropped. bootstrap NULL skips the intervals. Prints the
 * library's error and returns CLI_EXIT_RUNTIME on failure. */
int cli_correlate_pairs(const char *subcommand, const double *proxy,
                        const double *truth, size_t n, const cs_subset *subset,
                        const cs_bootstrap_options *bootstrap,
                        cli_correlation *out);

/* Prints the column titles; name_width is the width of the first
 * column, confidence the level of the intervals (ignored without them). */
void cli_print_correlation_header(FILE *fp, int name_width, double confidence,
                                  bool intervals);

/* Prints one row, the proxy's name first. NaN prints as "nan". */
void cli_print_correlation_row(FILE *fp, int name_width, const char *name,
                               const cli_correlation *c);

#endif /* CS_CLI_CORRELATION_TABLE_H */
