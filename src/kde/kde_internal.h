/*
 * Shared pieces of the kernel density module: the prepared point set that
 * the tiled sums read, the worker pool, the tile kernels, and the stages
 * (bandwidth, reference sample, symmetric and cross sums, scores) that
 * scores.c and query.c chain into the public calls.
 *
 * Units: once the bandwidth h is known, every distance inside the module
 * is in units of h, because the point sets store their centred rows
 * divided by h. A kernel value is then exp(-||a - b||^2) with no further
 * scaling.
 */
#ifndef CS_KDE_INTERNAL_H
#define CS_KDE_INTERNAL_H

#include "internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * Validated arguments
 * ------------------------------------------------------------------------ */

/* The caller's options copied over the defaults, with tile size and thread
 * count resolved to the values actually used. */
typedef struct cs__kde_config {
    cs_kde_options options;
    size_t tile;    /* rows per tile, >= 1 */
    size_t threads; /* worker threads, >= 1 */
} cs__kde_config;

/* One labelled or unlabelled array of examples, as the checks accepted
 * it. labels is NULL for an unlabelled set, and then n_classes is 1. */
typedef struct cs__kde_points {
    const float *rows; /* n x dim */
    const int32_t *labels;
    size_t n;
    size_t dim;
    int32_t n_classes;
} cs__kde_points;

/* Copies *given over the defaults (NULL gives the defaults), checks every
 * field and resolves tile and threads. Records the failure under fn. */
cs_status cs__kde_read_config(const char *fn, const cs_kde_options *given,
                              cs__kde_config *config);

/* Checks an examples argument: non-NULL arrays, n >= min_n, dim >= 1,
 * finite values, labels in [0, n_classes) when present or required, and
 * fills *points. name is the parameter name used in error records. */
cs_status cs__kde_check_examples(const char *fn, const char *name,
                                 const cs_examples *examples,
                                 int32_t n_classes, bool labels_required,
                                 size_t min_n, cs__kde_points *points);

/* Checks the result struct: struct_size, at least one output buffer, and
 * buffer length n equal to expected_n. */
cs_status cs__kde_check_result(const char *fn, const cs_kde_result *result,
                               size_t expected_n);

/* Neighbour scores, n floats each or NULL, and the count of neighbour
 * slots that the index left empty. */
typedef struct cs__kde_knn_outputs {
    float *pm;
    float *l;
    float *free;
    float *agree;
    int64_t missing;
} cs__kde_knn_outputs;

/* Returns the result's knn_ buffers, all NULL when its struct_size ends
 * before them. */
cs__kde_knn_outputs cs__kde_knn_buffers(const cs_kde_result *result);

/* True when the result requests kde_pm, kde_l or kde_free. */
bool cs__kde_wants_sums(const cs_kde_result *result);

/* True when the result requests a neighbour score. */
bool cs__kde_wants_neighbors(const cs_kde_result *result);

/* True when the result requests a score that needs labels: kde_pm,
 * kde_l, knn_kde_pm, knn_kde_l or knn_agree. */
bool cs__kde_wants_labels(const cs_kde_result *result);

/* Sets result->knn_missing when the caller's struct_size covers it. */
void cs__kde_write_knn_missing(cs_kde_result *result, int64_t missing);

/* ------------------------------------------------------------------------
 * Prepared point set
 * ------------------------------------------------------------------------ */

/* Rows copied from the caller's array, shifted by a common centre, scaled
 * by a common factor and grouped by class (stable within a class), with
 * their squared norms. Grouping by class lets a tile sum one class as a
 * contiguous run of columns. */
typedef struct cs__kde_set {
    size_t n;
    size_t dim;
    int32_t n_classes;
    float *rows;         /* n x dim: (source row - centre) * scale */
    float *norms;        /* n squared Euclidean norms of rows */
    int32_t *labels;     /* n, non-decreasing; all 0 when unlabelled */
    size_t *source;      /* n: source[r] is the caller's row index */
    size_t *class_start; /* n_classes + 1: class c is rows
                          * [class_start[c], class_start[c + 1]) */
} cs__kde_set;

/* Mean row and root-mean-square distance from it, in double. */
typedef struct cs__kde_moments {
    double *centre; /* dim values, owned */
    double rms_radius;
} cs__kde_moments;

/* Computes the mean row of points and the root-mean-square distance of
 * the rows from it. rms_radius is exactly 0 when every row is identical,
 * because the mean of identical floats is exact in double. */
cs_status cs__kde_moments_compute(const char *fn, const cs__kde_points *points,
                                  cs__kde_moments *moments);
void cs__kde_moments_free(cs__kde_moments *moments);

/* Builds a set from the rows members[0 .. n_members-1] of points (all rows
 * in order when members is NULL), each stored as (row - centre) * scale.
 * Fails with CS_E_INVALID_ARGUMENT when a scaled squared norm exceeds
 * CS__KDE_MAX_SQUARED_NORM, naming the row. */
cs_status cs__kde_set_build(const char *fn, const cs__kde_points *points,
                            const size_t *members, size_t n_members,
                            const double *centre, double scale,
                            cs__kde_set *set);

/* Multiplies every row by factor and recomputes the norms, failing as
 * cs__kde_set_build() does when a norm grows too large. */
cs_status cs__kde_set_rescale(const char *fn, cs__kde_set *set, double factor);

void cs__kde_set_free(cs__kde_set *set);

/* Per-class counts of the caller's rows (cs__kde_class_counts) or of a
 * set's rows (cs__kde_set_class_sizes), for cs__kde_scaling. Each returns
 * a new array of n_classes entries, or NULL when allocation fails. */
size_t *cs__kde_class_counts(const cs__kde_points *points);
size_t *cs__kde_set_class_sizes(const cs__kde_set *set);

/* Largest squared norm of a scaled row. Its square root bounds every
 * partial dot product in sgemm (Cauchy-Schwarz), so float32 sums of
 * norms and dot products stay far from overflow. */
#define CS__KDE_MAX_SQUARED_NORM 1e30

/* ------------------------------------------------------------------------
 * Worker pool and OpenBLAS thread setting
 * ------------------------------------------------------------------------ */

/* One unit of work: task(context, worker, item), where worker in
 * [0, threads) names the caller's per-worker workspace. */
typedef void (*cs__kde_task)(void *context, size_t worker, size_t item);

/* Runs items 0 .. n_items-1 on up to `threads` threads, the calling thread
 * included. Round r consists of the items from round_end[r - 1] (0 for
 * r = 0) up to round_end[r], and no item of a round starts before every
 * item of the earlier rounds has finished. With round_end NULL all items
 * form one round. If a thread cannot be started, the others do its share,
 * so the call cannot fail. */
void cs__kde_run(size_t threads, size_t n_items, const size_t *round_end,
                 size_t n_rounds, cs__kde_task task, void *context);

/* OpenBLAS's thread count before cs__kde_blas_single_begin() or
 * cs__kde_blas_threads_begin() changed it. */
typedef struct cs__kde_blas_state {
    int previous;
    bool changed;
} cs__kde_blas_state;

cs__kde_blas_state cs__kde_blas_single_begin(void);
void cs__kde_blas_single_end(cs__kde_blas_state state);

/* Sets OpenBLAS's thread count to threads and returns the earlier
 * setting for cs__kde_blas_single_end() to restore. */
cs__kde_blas_state cs__kde_blas_threads_begin(size_t threads);

/* Number of online CPUs, at least 1. */
size_t cs__kde_online_cpus(void);

/* ------------------------------------------------------------------------
 * Tile order of a symmetric pass (schedule.c)
 * ------------------------------------------------------------------------ */

/* Tiles of all pairs of n_rows rows in blocks of `tile` rows, numbered as
 * work items and grouped in rounds of tiles that share no block. */
typedef struct cs__kde_schedule {
    size_t n_rows;
    size_t tile;
    size_t n_blocks;
    size_t tiles_per_round; /* in rounds after the first */
    size_t n_rounds;        /* the first is the diagonal tiles */
    size_t n_items;         /* n_blocks (n_blocks + 1) / 2 tiles */
} cs__kde_schedule;

void cs__kde_schedule_init(cs__kde_schedule *schedule, size_t n_rows,
                           size_t tile);

/* One past the last item of round `round`. */
size_t cs__kde_schedule_round_end(const cs__kde_schedule *schedule,
                                  size_t round);

/* The blocks first <= second of tile `item`. */
void cs__kde_schedule_tile(const cs__kde_schedule *schedule, size_t item,
                           size_t *first, size_t *second);

/* Rows in block `block`: tile, or fewer for the last block. */
size_t cs__kde_schedule_block_rows(const cs__kde_schedule *schedule,
                                   size_t block);

/* ------------------------------------------------------------------------
 * Tile kernels
 * ------------------------------------------------------------------------ */

/* Replaces count dot products values[j] = <a, b_j> by the kernel values
 * exp(-max(norm_a + norms_b[j] - 2 values[j], 0)). */
void cs__kde_kernel_row(float *values, float norm_a, const float *norms_b,
                        size_t count);

/* Returns the sum in double of the count distances
 * sqrt(max(norm_a + norms_b[j] - 2 gram[j], 0)), for dot products gram[j]
 * of a row a with rows b_j. */
double cs__kde_distance_row_sum(const float *gram, float norm_a,
                                const float *norms_b, size_t count);

/* Returns the sum of values[0 .. count-1] in double. */
double cs__kde_sum(const float *values, size_t count);

/* Returns the Euclidean distance between two rows of dim floats, summed
 * in double. */
double cs__kde_row_distance(const float *a, const float *b, size_t dim);

/* Adds values[j] to column[j] for j < count, in double. */
void cs__kde_add_to_column(double *column, const float *values, size_t count);

/* Adds to class_sums[c] (c in [0, set->n_classes)) the sum of kernel[k]
 * over the k in [0, count) whose set row first_row + k has class c. */
void cs__kde_add_class_sums(const cs__kde_set *set, size_t first_row,
                            const float *kernel, size_t count,
                            double *class_sums);

/* ------------------------------------------------------------------------
 * Stages
 * ------------------------------------------------------------------------ */

/* Sets *mean to the mean distance over pairs i != j of the set's rows, in
 * the set's units, by a tiled pass over every pair. Fails only when the
 * per-worker workspace cannot be allocated. */
cs_status cs__kde_mean_distance_exact(const char *fn, const cs__kde_set *set,
                                      const cs__kde_config *config,
                                      double *mean);

/* Estimates the mean Euclidean distance over pairs i != j of points from
 * options.bandwidth_pairs pairs drawn uniformly with replacement, and its
 * standard error. Deterministic for a given seed whatever the thread
 * count. */
cs_status cs__kde_mean_distance_sampled(const char *fn,
                                        const cs__kde_points *points,
                                        const cs__kde_config *config,
                                        double *mean, double *standard_error);

/* Chooses the bandwidth h of a call and its standard error: the given
 * bandwidth, or half the mean distance over every pair when N <=
 * bandwidth_exact_limit, or half the sampled estimate above that. Fails
 * with CS_E_ZERO_BANDWIDTH when the automatic bandwidth is 0. The pass over
 * every pair builds the set of all rows, and hands it back in *all_rows,
 * already divided by h, for the caller to use and free. After the other
 * choices all_rows->rows is NULL. */
cs_status cs__kde_resolve_bandwidth(const char *fn,
                                    const cs__kde_points *points,
                                    const cs__kde_moments *moments,
                                    const cs__kde_config *config,
                                    cs__kde_set *all_rows, double *h,
                                    double *error);

/* Draws the stratified reference sample of the sampled method: about
 * reference_size rows in total, each class c of the N_c rows getting
 * round(reference_size * N_c / N) of them but at least min(N_c, 2), drawn
 * uniformly without replacement. Writes the count to *n_members and the
 * row indices to a new array *members that the caller frees with
 * cs__free(). */
cs_status cs__kde_sample_reference(const char *fn,
                                   const cs__kde_points *points,
                                   size_t reference_size, uint64_t seed,
                                   size_t **members, size_t *n_members);

/* Scores every example of points against a stratified reference sample
 * of about options.reference_size examples, writing score i at index i,
 * with the features shifted by centre and divided by h. Sets
 * *reference_count to the sample's size. */
cs_status cs__kde_sampled_scores(const char *fn, const cs__kde_points *points,
                                 const double *centre, double h,
                                 const cs__kde_config *config,
                                 const cs_kde_result *result,
                                 size_t *reference_count);

/* Kernel sums of every set row against every other row, per class of the
 * other row: class_sums[r * C + c] = sum over rows s != r of class c of
 * exp(-||row_r - row_s||^2), with r and s rows of the set. class_sums
 * must be zeroed. Each pair is evaluated once. Returns CS_E_OUT_OF_MEMORY
 * (recorded under fn) when the per-worker workspace cannot be allocated,
 * before anything is computed. */
cs_status cs__kde_symmetric_sums(const char *fn, const cs__kde_set *set,
                                 const cs__kde_config *config,
                                 double *class_sums);

/* How the class sums of one scored point become its three scores. */
typedef struct cs__kde_scaling {
    size_t population;              /* N: scores are sums divided by N */
    const size_t *class_population; /* N_c for each class */
    const size_t *class_reference;  /* M_c: reference rows of class c */
    bool exclude_self;              /* scored points belong to the data */
} cs__kde_scaling;

/* Writes the scores of point `index` from its class sums. Each class's sum
 * is scaled by (N_c - e_c) / (M_c - s_c). Here e_c is 1 when the point
 * belongs to class c of the data and is excluded from its own sums, and
 * s_c is 1 when the point is one of the M_c reference rows of class c.
 * These factors are 1 for exact sums, and they make sampled sums unbiased
 * estimates of the exact ones. label is the point's class, or -1 for a
 * query without a label. */
void cs__kde_write_scores(const cs__kde_scaling *scaling,
                          const double *class_sums, int32_t n_classes,
                          int32_t label, bool in_reference, size_t index,
                          const cs_kde_result *result);

/* Scores every query row against the reference set and writes the
 * results for query i at index i. The queries are shifted by centre and
 * multiplied by scale as the set's rows were. When reference_row is not
 * NULL, reference_row[i] is the set row that is query i itself (SIZE_MAX
 * for none), and that row is left out of query i's sums. */
cs_status cs__kde_cross_scores(const char *fn, const cs__kde_set *reference,
                               const cs__kde_points *queries,
                               const double *centre, double scale,
                               const size_t *reference_row,
                               const cs__kde_scaling *scaling,
                               const cs__kde_config *config,
                               const cs_kde_result *result);

/* ------------------------------------------------------------------------
 * Neighbour scores (neighbor_index.c, neighbor_scores.c)
 * ------------------------------------------------------------------------ */

/* Checks the neighbour options against a reference set of n_reference
 * examples: k at most n_reference - 1 when the examples are scored among
 * themselves (exclude_self), else at most n_reference; ivf_nlist at most
 * n_reference; at most INT32_MAX rows for HNSW. Also fails with
 * CS_E_UNSUPPORTED in a build without FAISS. */
cs_status cs__kde_knn_check(const char *fn, const cs__kde_config *config,
                            size_t n_reference, bool exclude_self);

/* Allocates a temporary array of n floats for each knn_ buffer that the
 * result sets, so that scores reach the caller only once the whole call
 * has succeeded. */
cs_status cs__kde_knn_allocate(const char *fn, const cs_kde_result *result,
                               size_t n, cs__kde_knn_outputs *scratch);

/* Copies the temporaries into the result's knn_ buffers and sets
 * result->knn_missing. */
void cs__kde_knn_commit(const cs__kde_knn_outputs *scratch,
                        cs_kde_result *result);

void cs__kde_knn_release(cs__kde_knn_outputs *scratch);

/* An index over the rows of a reference set, shifted by centre. */
typedef struct cs__faiss_index cs__faiss_index;

/* Builds the index of options.neighbor_index over every reference row
 * (rows minus centre, in float32). IVF trains first on a sample of the
 * rows drawn with options.seed. Runs FAISS with config->threads threads. */
cs_status cs__kde_knn_build(const char *fn, const cs__kde_points *reference,
                            const double *centre,
                            const cs__kde_config *config,
                            cs__faiss_index **index);

/* Finds the k nearest reference rows of each query and writes the
 * neighbour scores of query i at index i of the arrays in *out (NULL
 * arrays are skipped), adding empty slots to out->missing. With queries
 * NULL the reference rows are the queries, and each leaves itself out.
 * Kernel values use bandwidth h and the caller's rows, in double. */
cs_status cs__kde_knn_scores(const char *fn, cs__faiss_index *index,
                             const cs__kde_points *reference,
                             const cs__kde_points *queries,
                             const double *centre, double h,
                             const cs__kde_config *config,
                             cs__kde_knn_outputs *out);

/* The whole neighbour stage: allocates *scratch for the knn_ buffers of
 * result, builds the index over reference and scores the queries (the
 * reference itself when queries is NULL). On failure *scratch is
 * released; on success the caller commits and releases it. */
cs_status cs__kde_knn_run(const char *fn, const cs__kde_points *reference,
                          const cs__kde_points *queries, const double *centre,
                          double h, const cs__kde_config *config,
                          const cs_kde_result *result,
                          cs__kde_knn_outputs *scratch);

#endif /* CS_KDE_INTERNAL_H */
