/*
 * Progress lines and the closing summary of the holdout subcommands. The
 * summary's Spearman rho between each ratio and the integral shows which
 * single ratio can best replace the full sweep on data sets too large to
 * run every ratio.
 */
#include "cli/holdout_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double cli_seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Writes a duration as "42s", "3m05s" or "2h07m". */
static void format_duration(double seconds, char *out, size_t capacity)
{
    const long total = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (total < 60)
        snprintf(out, capacity, "%lds", total);
    else if (total < 3600)
        snprintf(out, capacity, "%ldm%02lds", total / 60, total % 60);
    else
        snprintf(out, capacity, "%ldh%02ldm", total / 3600,
                 (total % 3600) / 60);
}

cs_status cli_holdout_print_progress(const cs_holdout_progress *p,
                                     void *user_data)
{
    const cli_holdout_progress *state = user_data;
    const double elapsed = cli_seconds_now() - state->started;
    const int64_t left_runs = p->call_runs_total - p->call_runs_done;

    char elapsed_text[32], left_text[32];
    format_duration(elapsed, elapsed_text, sizeof elapsed_text);
    format_duration(elapsed / (double)p->call_runs_done * (double)left_runs,
                    left_text, sizeof left_text);

    fprintf(stderr, "%srun %lld/%lld  ratio %2d%% #%-4d held-out acc %.4f",
            state->prefix, (long long)p->runs_done, (long long)p->runs_planned,
            (int)p->ratio, (int)p->run, p->heldout_accuracy);
    if (!isnan(p->test_accuracy))
        fprintf(stderr, "  test acc %.4f", p->test_accuracy);
    fprintf(stderr, "  %.1f s  elapsed %s, about %s left\n", p->train_seconds,
            elapsed_text, left_text);
    return CS_OK;
}

/* Computes the mean of the non-NaN scores and counts the NaN ones. */
static double mean_score(const double *score, size_t n, size_t *missing)
{
    double sum = 0.0;
    size_t used = 0;
    *missing = 0;
    for (size_t j = 0; j < n; j++) {
        if (isnan(score[j])) {
            (*missing)++;
            continue;
        }
        sum += score[j];
        used++;
    }
    return used > 0 ? sum / (double)used : NAN;
}

static int print_ratio(const char *subcommand, const cs_holdout *holdout,
                       int32_t ratio, size_t n, bool with_rho,
                       const double *integral, double *score)
{
    int64_t runs = 0;
    if (cs_holdout_counts(holdout, ratio, NULL, NULL, n, &runs) != CS_OK ||
        cs_holdout_scores(holdout, ratio, score, NULL, NULL, n) != CS_OK)
        return cli_library_error(subcommand);

    size_t missing = 0;
    const double mean = mean_score(score, n, &missing);
    printf("%5d%% %7lld %11.4f %15zu", (int)ratio, (long long)runs, mean,
           missing);
    if (with_rho) {
        double rho = NAN;
        if (cs_spearman(score, integral, n, NULL, &rho, NULL) != CS_OK)
            return cli_library_error(subcommand);
        printf(" %16.4f", rho);
    }
    printf("\n");
    return CLI_EXIT_OK;
}

static void print_header(const cs_holdout_summary *summary, size_t n,
                         bool with_rho)
{
    printf("Runs counted: %lld", (long long)summary->runs_done);
    if (summary->runs_planned >= 0)
        printf(" of %lld planned", (long long)summary->runs_planned);
    printf(", on %zu examples\n", n);
    if (summary->records_duplicate > 0 || summary->records_outside > 0 ||
        summary->records_torn > 0)
        printf("Records: %lld read, %lld duplicates not counted again, "
               "%lld outside the plan, %lld torn last records dropped\n",
               (long long)summary->records_read,
               (long long)summary->records_duplicate,
               (long long)summary->records_outside,
               (long long)summary->records_torn);
    printf("ratio    runs  mean score  never held out%s\n",
           with_rho ? "  rho vs integral" : "");
}

/* Prints the table, given N and the ratios. */
static int print_table(const char *subcommand, const cs_holdout *holdout,
                       size_t n, const int32_t *ratios, size_t n_ratios)
{
    const bool with_rho = n_ratios > 1;
    double *integral = malloc(n * sizeof *integral);
    double *score = malloc(n * sizeof *score);
    int rc = CLI_EXIT_OK;
    if (integral == NULL || score == NULL)
        rc = cli_runtime_error(subcommand, "out of memory for %zu scores", n);
    if (rc == CLI_EXIT_OK &&
        cs_holdout_integral(holdout, integral, NULL, n) != CS_OK)
        rc = cli_library_error(subcommand);

    cs_holdout_summary summary = {.struct_size = sizeof summary};
    if (rc == CLI_EXIT_OK &&
        cs_holdout_get_summary(holdout, &summary) != CS_OK)
        rc = cli_library_error(subcommand);
    if (rc == CLI_EXIT_OK)
        print_header(&summary, n, with_rho);
    for (size_t k = 0; k < n_ratios && rc == CLI_EXIT_OK; k++)
        rc = print_ratio(subcommand, holdout, ratios[k], n, with_rho, integral,
                         score);
    if (rc == CLI_EXIT_OK && with_rho) {
        size_t missing = 0;
        const double mean = mean_score(integral, n, &missing);
        printf("integral %4s %11.4f %15zu\n", "", mean, missing);
    }
    free(integral);
    free(score);
    return rc;
}

int cli_holdout_print_summary(const char *subcommand,
                              const cs_holdout *holdout)
{
    int32_t ratios[CS_HOLDOUT_MAX_RATIOS];
    size_t n_ratios = 0;
    if (cs_holdout_ratios(holdout, ratios, CS_HOLDOUT_MAX_RATIOS, &n_ratios) !=
        CS_OK)
        return cli_library_error(subcommand);
    const int64_t n = cs_holdout_n_examples(holdout);
    return print_table(subcommand, holdout, (size_t)n, ratios, n_ratios);
}
