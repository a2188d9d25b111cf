/*
 * MPI for `cscore holdout`: when the program was built with
 * CSCORE_WITH_MPI and an MPI launcher such as mpirun started it, each rank
 * runs its own slice of the plan and rank 0 sums the counts. Without MPI
 * these functions act as a single process.
 */
#ifndef CS_CLI_CLUSTER_H
#define CS_CLI_CLUSTER_H

#include "cli/cli.h"

typedef struct cli_cluster {
    int rank;    /* 0 .. size-1 */
    int size;    /* 1 without MPI */
    bool active; /* MPI_Init was called */
} cli_cluster;

/* True when the program was built with MPI. */
extern const bool cli_cluster_built_with_mpi;

/* Starts MPI when an MPI launcher started the program. Returns an exit
 * code; CLI_EXIT_RUNTIME when a launcher started several processes but
 * the program has no MPI. */
int cli_cluster_start(const char *subcommand, cli_cluster *cluster);

/* Returns the largest rc over the ranks. Every rank must call it. */
int cli_cluster_agree(const cli_cluster *cluster, int rc);

/* Creates at rank 0 in *total an estimate with local's options but the
 * whole plan as one slice, holding the sum of every rank's counts of
 * every planned ratio; *total stays NULL on other ranks. Also sums the
 * ranks' trainer and estimator seconds into *train_seconds and
 * *overhead_seconds at rank 0. Every rank must call it. Returns an exit
 * code, the same on every rank. */
int cli_cluster_reduce(const char *subcommand, const cli_cluster *cluster,
                       const cs_holdout *local,
                       const cs_holdout_options *options,
                       const int32_t *labels, cs_holdout **total,
                       double *train_seconds, double *overhead_seconds);

/* Ends MPI if it was started. */
void cli_cluster_finish(cli_cluster *cluster);

#endif /* CS_CLI_CLUSTER_H */
