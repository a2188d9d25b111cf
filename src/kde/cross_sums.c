/*
 * Kernel sums of query rows against a reference set: the scores of query
 * mode, and of the CS_KDE_SAMPLED method, where every example is a query
 * against the reference sample.
 *
 * Each work item is one block of T queries. It shifts and scales the
 * block as the reference rows were, then walks the reference blocks in
 * order: one sgemm per reference block, the kernel, and the per-class sums
 * of each query row in double. An item owns its queries' sums, so nothing
 * is shared between threads and every sum runs in reference order.
 */
#include "kde/kde_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct cross_job {
    const cs__kde_set *reference;
    const cs__kde_points *queries;
    const double *centre;
    double scale;
    const size_t *reference_row;
    const cs__kde_scaling *scaling;
    const cs_kde_result *result;
    size_t tile;
    float *blocks;      /* per worker: T x dim shifted queries */
    float *norms;       /* per worker: T squared norms */
    float *grams;       /* per worker: T x T dot products */
    double *class_sums; /* per worker: T x C */
} cross_job;

/* Writes (query - centre) * scale for query rows [first, first + rows) to
 * block, and their squared norms (summed in double) to norms. Returns the
 * largest squared norm, with its row in *farthest. */
static double shift_queries(const cs__kde_points *queries,
                            const double *centre, double scale, size_t first,
                            size_t rows, float *block, float *norms,
                            size_t *farthest)
{
    const size_t dim = queries->dim;
    double largest = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *from = queries->rows + (first + r) * dim;
        float *to = block + r * dim;
        double norm = 0.0;
        for (size_t k = 0; k < dim; k++) {
            to[k] = (float)((from[k] - centre[k]) * scale);
            norm += (double)to[k] * to[k];
        }
        if (!(norm <= largest)) {
            largest = norm;
            *farthest = first + r;
        }
        norms[r] = (float)norm;
    }
    return largest;
}

/* Adds to sums (rows x C) the kernel sums of the block's queries against
 * reference rows [first_j, first_j + rows_j). */
static void add_reference_block(const cross_job *job, const float *block,
                                const float *norms, size_t first_query,
                                size_t rows, size_t first_j, size_t rows_j,
                                float *gram, double *sums)
{
    const cs__kde_set *reference = job->reference;
    const size_t n_classes = (size_t)reference->n_classes;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows,
                (int)rows_j, (int)reference->dim, 1.0f, block,
                (int)reference->dim,
                reference->rows + first_j * reference->dim,
                (int)reference->dim, 0.0f, gram, (int)rows_j);

    for (size_t r = 0; r < rows; r++) {
        float *kernel = gram + r * rows_j;
        cs__kde_kernel_row(kernel, norms[r], reference->norms + first_j,
                           rows_j);

        /* A query that is itself a reference row skips its own term. */
        if (job->reference_row != NULL) {
            const size_t self = job->reference_row[first_query + r];
            if (self >= first_j && self < first_j + rows_j)
                kernel[self - first_j] = 0.0f;
        }
        cs__kde_add_class_sums(reference, first_j, kernel, rows_j,
                               sums + r * n_classes);
    }
}

static void cross_item(void *context, size_t worker, size_t item)
{
    const cross_job *job = context;
    const cs__kde_set *reference = job->reference;
    const size_t tile = job->tile;
    const size_t n_classes = (size_t)reference->n_classes;
    const size_t first = item * tile;
    const size_t left = job->queries->n - first;
    const size_t rows = left < tile ? left : tile;

    float *block = job->blocks + worker * tile * reference->dim;
    float *norms = job->norms + worker * tile;
    float *gram = job->grams + worker * tile * tile;
    double *sums = job->class_sums + worker * tile * n_classes;

    size_t farthest = 0;
    shift_queries(job->queries, job->centre, job->scale, first, rows, block,
                  norms, &farthest);
    memset(sums, 0, rows * n_classes * sizeof(double));
    for (size_t first_j = 0; first_j < reference->n; first_j += tile) {
        const size_t rows_j = reference->n - first_j < tile
                                  ? reference->n - first_j
                                  : tile;
        add_reference_block(job, block, norms, first, rows, first_j, rows_j,
                            gram, sums);
    }

    for (size_t r = 0; r < rows; r++) {
        const size_t query = first + r;
        const int32_t label = job->queries->labels != NULL
                                  ? job->queries->labels[query]
                                  : -1;
        const bool in_reference = job->reference_row != NULL &&
                                  job->reference_row[query] != SIZE_MAX;
        cs__kde_write_scores(job->scaling, sums + r * n_classes,
                             reference->n_classes, label, in_reference, query,
                             job->result);
    }
}

/* Checks every query's norm before any output is written, so that a query
 * too far from the reference fails the call cleanly. Uses worker 0's
 * workspace. */
static cs_status check_query_norms(const char *fn, const cross_job *job)
{
    const cs__kde_points *queries = job->queries;
    double largest = 0.0;
    size_t farthest = 0;
    for (size_t first = 0; first < queries->n; first += job->tile) {
        const size_t left = queries->n - first;
        const size_t rows = left < job->tile ? left : job->tile;
        size_t block_farthest = first;
        const double norm = shift_queries(queries, job->centre, job->scale,
                                          first, rows, job->blocks, job->norms,
                                          &block_farthest);
        if (!(norm <= largest)) {
            largest = norm;
            farthest = block_farthest;
        }
    }
    if (largest <= CS__KDE_MAX_SQUARED_NORM)
        return CS_OK;

    cs__where where = cs__where_none(fn);
    where.argument = "queries";
    where.index = (int64_t)farthest;
    where.example_id = (int64_t)farthest;
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, NULL,
                    "query %zu lies more than 1e15 bandwidths from the mean "
                    "reference row, beyond what float32 distances can hold; "
                    "pass a larger bandwidth or rescale the features",
                    farthest);
}

static cs_status allocate_workspace(const char *fn, cross_job *job,
                                    size_t workers)
{
    const size_t tile = job->tile;
    const size_t dim = job->reference->dim;
    const size_t n_classes = (size_t)job->reference->n_classes;
    /* Per worker: shifted queries, their norms, dot products, sums. */
    size_t per_worker[4] = {0, tile, 0, 0};
    bool fits = cs__mul_size(tile, dim, &per_worker[0]) &&
                cs__mul_size(tile, tile, &per_worker[2]) &&
                cs__mul_size(tile, n_classes, &per_worker[3]);
    size_t totals[4] = {0, 0, 0, 0};
    for (size_t k = 0; k < 4; k++)
        fits = fits && cs__mul_size(per_worker[k], workers, &totals[k]);
    if (!fits)
        return cs__fail_arg(CS_E_OVERFLOW, fn, "options",
                            "the tile workspace of %zu threads with %zu-row "
                            "tiles does not fit in memory",
                            workers, tile);

    job->blocks = cs__alloc_array(totals[0], sizeof(float));
    job->norms = cs__alloc_array(totals[1], sizeof(float));
    job->grams = cs__alloc_array(totals[2], sizeof(float));
    job->class_sums = cs__alloc_array(totals[3], sizeof(double));
    if (job->blocks == NULL || job->norms == NULL || job->grams == NULL ||
        job->class_sums == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the tile workspace of %zu "
                            "threads with %zu-row tiles",
                            workers, tile);
    return CS_OK;
}

static void free_workspace(cross_job *job)
{
    cs__free(job->blocks);
    cs__free(job->norms);
    cs__free(job->grams);
    cs__free(job->class_sums);
}

cs_status cs__kde_cross_scores(const char *fn, const cs__kde_set *reference,
                               const cs__kde_points *queries,
                               const double *centre, double scale,
                               const size_t *reference_row,
                               const cs__kde_scaling *scaling,
                               const cs__kde_config *config,
                               const cs_kde_result *result)
{
    cross_job job = {
        .reference = reference,
        .queries = queries,
        .centre = centre,
        .scale = scale,
        .reference_row = reference_row,
        .scaling = scaling,
        .result = result,
        .tile = config->tile,
    };
    const size_t n_items = (queries->n + config->tile - 1) / config->tile;
    const size_t workers = config->threads < n_items ? config->threads
                                                     : n_items;

    cs_status status = allocate_workspace(fn, &job, workers);
    if (status == CS_OK)
        status = check_query_norms(fn, &job);
    if (status == CS_OK)
        cs__kde_run(workers, n_items, NULL, 0, cross_item, &job);
    free_workspace(&job);
    return status;
}
