/*
 * Spearman and Kendall correlations of a proxy with the truth, and the
 * rows of the table that prints them.
 */
#include "cli/correlation_table.h"

#include <math.h>

int cli_correlate_pairs(const char *subcommand, const double *proxy,
                        const double *truth, size_t n, const cs_subset *subset,
                        const cs_bootstrap_options *bootstrap,
                        cli_correlation *out)
{
    cli_correlation c = {.has_intervals = bootstrap != NULL};
    cs_status st;
    if (bootstrap != NULL) {
        /* Each interval also returns the estimate on all pairs. */
        st = cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, proxy, truth, n,
                                   subset, bootstrap, &c.spearman_interval);
        if (st == CS_OK)
            st = cs_bootstrap_interval(CS_STATISTIC_KENDALL_TAU_B, proxy,
                                       truth, n, subset, bootstrap,
                                       &c.kendall_interval);
        c.spearman = c.spearman_interval.estimate;
        c.kendall = c.kendall_interval.estimate;
        c.n = c.spearman_interval.n_used;
    } else {
        st = cs_spearman(proxy, truth, n, subset, &c.spearman, &c.n);
        if (st == CS_OK)
            st = cs_kendall_tau_b(proxy, truth, n, subset, &c.kendall, NULL);
    }
    if (st != CS_OK)
        return cli_library_error(subcommand);
    *out = c;
    return CLI_EXIT_OK;
}

/* Prints a value in a field of `width` with 4 decimals; NaN as "nan"
 * (printf may print "-nan"). */
static void print_value(FILE *fp, int width, double value)
{
    if (isnan(value))
        fprintf(fp, "%*s", width, "nan");
    else
        fprintf(fp, "%*.4f", width, value);
}

static void print_interval(FILE *fp, const cs_interval *interval)
{
    fputs("  [", fp);
    print_value(fp, 7, interval->lower);
    fputs(", ", fp);
    print_value(fp, 7, interval->upper);
    fputs("]", fp);
}

void cli_print_correlation_header(FILE *fp, int name_width, double confidence,
                                  bool intervals)
{
    fprintf(fp, "%-*s %9s %9s", name_width, "proxy", "spearman", "kendall");
    if (intervals) {
        char title[32];
        snprintf(title, sizeof title, "spearman %g%% CI", 100.0 * confidence);
        fprintf(fp, "  %-18s", title);
        snprintf(title, sizeof title, "kendall %g%% CI", 100.0 * confidence);
        fprintf(fp, "  %-18s", title);
    }
    fprintf(fp, " %9s\n", "n");
}

void cli_print_correlation_row(FILE *fp, int name_width, const char *name,
                               const cli_correlation *c)
{
    fprintf(fp, "%-*s ", name_width, name);
    print_value(fp, 9, c->spearman);
    fputc(' ', fp);
    print_value(fp, 9, c->kendall);
    if (c->has_intervals) {
        print_interval(fp, &c->spearman_interval);
        print_interval(fp, &c->kendall_interval);
    }
    fprintf(fp, " %9zu\n", c->n);
}
