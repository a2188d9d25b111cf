/*
 * MPI support of `cscore holdout` (see cluster.h). MPI is started only
 * when a launcher's environment variables are present, so that the same
 * program also runs as a plain process without MPI's start-up cost.
 */
#include "cli/cluster.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef CSCORE_WITH_MPI
#include <mpi.h>
#endif

/* Environment variables that MPI launchers set in every process: Open MPI's
 * mpirun, PMIx-based launchers (Slurm's srun among them), and MPICH's
 * Hydra. Each is set to the process count, except PMIX_RANK, whose
 * presence is enough. */
static const char *const launcher_sizes[] = {"OMPI_COMM_WORLD_SIZE",
                                             "PMI_SIZE", "MPI_LOCALNRANKS"};

/* Returns the process count a launcher announced: 0 when none did. */
static long launcher_size(const char **variable)
{
    for (size_t k = 0; k < sizeof launcher_sizes / sizeof *launcher_sizes;
         k++) {
        const char *value = getenv(launcher_sizes[k]);
        if (value != NULL) {
            *variable = launcher_sizes[k];
            return strtol(value, NULL, 10);
        }
    }
    *variable = "PMIX_RANK";
    return getenv("PMIX_RANK") != NULL ? 1 : 0;
}

#ifdef CSCORE_WITH_MPI

const bool cli_cluster_built_with_mpi = true;

int cli_cluster_start(const char *subcommand, cli_cluster *cluster)
{
    *cluster = (cli_cluster){.rank = 0, .size = 1, .active = false};
    const char *variable = NULL;
    if (launcher_size(&variable) == 0)
        return CLI_EXIT_OK;

    if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return cli_runtime_error(subcommand, "MPI_Init failed");
    cluster->active = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &cluster->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &cluster->size);
    return CLI_EXIT_OK;
}

int cli_cluster_agree(const cli_cluster *cluster, int rc)
{
    if (!cluster->active)
        return rc;
    int largest = rc;
    MPI_Allreduce(&rc, &largest, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return largest;
}

/* Sums one ratio's counts at rank 0 and adds them to total there. */
static int reduce_ratio(const char *subcommand, const cs_holdout *local,
                        int32_t ratio, int32_t *counts, int32_t *sums,
                        size_t n, cs_holdout *total)
{
    int64_t runs = 0, all_runs = 0;
    int rc = CLI_EXIT_OK;
    if (cs_holdout_counts(local, ratio, counts, counts + n, n, &runs) != CS_OK)
        rc = cli_library_error(subcommand);

    /* Every rank takes part in the reductions even after a local failure,
     * so that none of them waits forever. */
    MPI_Reduce(counts, sums, (int)(2 * n), MPI_INT32_T, MPI_SUM, 0,
               MPI_COMM_WORLD);
    MPI_Reduce(&runs, &all_runs, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rc == CLI_EXIT_OK && total != NULL &&
        cs_holdout_add_counts(total, ratio, sums, sums + n, n, all_runs) !=
            CS_OK)
        rc = cli_library_error(subcommand);
    return rc;
}

/* Creates the estimate that receives the sums at rank 0. */
static int create_total(const char *subcommand, const cs_holdout *local,
                        const cs_holdout_options *options,
                        const int32_t *labels, cs_holdout **total)
{
    cs_holdout_options whole = *options;
    whole.slice_index = 0;
    whole.slice_count = 1;
    const size_t n = (size_t)cs_holdout_n_examples(local);
    if (cs_holdout_create(&whole, labels, n, cs_holdout_recipe(local),
                          total) != CS_OK)
        return cli_library_error(subcommand);
    return CLI_EXIT_OK;
}

int cli_cluster_reduce(const char *subcommand, const cli_cluster *cluster,
                       const cs_holdout *local,
                       const cs_holdout_options *options,
                       const int32_t *labels, cs_holdout **total,
                       double *train_seconds, double *overhead_seconds)
{
    *total = NULL;
    const size_t n = (size_t)cs_holdout_n_examples(local);
    if (n > INT_MAX / 2)
        return cli_cluster_agree(cluster, cli_runtime_error(subcommand,
                                                            "%zu examples are "
                                                            "too many for one "
                                                            "MPI reduction",
                                                            n));

    int rc = CLI_EXIT_OK;
    if (cluster->rank == 0)
        rc = create_total(subcommand, local, options, labels, total);
    int32_t *counts = malloc(2 * n * sizeof *counts);
    int32_t *sums = malloc(2 * n * sizeof *sums);
    if (counts == NULL || sums == NULL)
        rc = cli_runtime_error(subcommand, "out of memory for the counts");
    rc = cli_cluster_agree(cluster, rc);

    for (int32_t k = 0; k < options->n_ratios && rc == CLI_EXIT_OK; k++)
        rc = cli_cluster_agree(cluster, reduce_ratio(subcommand, local,
                                                     options->ratios[k],
                                                     counts, sums, n, *total));
    free(counts);
    free(sums);

    cs_holdout_summary summary = {.struct_size = sizeof summary};
    cs_holdout_get_summary(local, &summary);
    const double mine[2] = {summary.train_seconds, summary.overhead_seconds};
    double all[2] = {0.0, 0.0};
    MPI_Reduce(mine, all, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    *train_seconds = all[0];
    *overhead_seconds = all[1];
    if (rc != CLI_EXIT_OK) {
        cs_holdout_free(*total);
        *total = NULL;
    }
    return rc;
}

void cli_cluster_finish(cli_cluster *cluster)
{
    if (cluster->active)
        MPI_Finalize();
    cluster->active = false;
}

#else /* CSCORE_WITH_MPI */

const bool cli_cluster_built_with_mpi = false;

int cli_cluster_start(const char *subcommand, cli_cluster *cluster)
{
    *cluster = (cli_cluster){.rank = 0, .size = 1, .active = false};
    const char *variable = NULL;
    const long size = launcher_size(&variable);
    if (size > 1)
        return cli_runtime_error(subcommand,
                                 "an MPI launcher started %ld processes "
                                 "(%s is set), but this cscore was built "
                                 "without MPI, so each would run the whole "
                                 "plan. Rebuild with -DCSCORE_WITH_MPI=ON, "
                                 "or run one process",
                                 size, variable);
    return CLI_EXIT_OK;
}

int cli_cluster_agree(const cli_cluster *cluster, int rc)
{
    (void)cluster;
    return rc;
}

int cli_cluster_reduce(const char *subcommand, const cli_cluster *cluster,
                       const cs_holdout *local,
                       const cs_holdout_options *options,
                       const int32_t *labels, cs_holdout **total,
                       double *train_seconds, double *overhead_seconds)
{
    (void)cluster;
    (void)local;
    (void)options;
    (void)labels;
    (void)train_seconds;
    (void)overhead_seconds;
    *total = NULL;
    return cli_runtime_error(subcommand, "this cscore was built without MPI");
}

void cli_cluster_finish(cli_cluster *cluster)
{
    cluster->active = false;
}

#endif /* CSCORE_WITH_MPI */
