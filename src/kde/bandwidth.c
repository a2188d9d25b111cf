/*
 * The automatic bandwidth: h = half the mean Euclidean distance over
 * pairs i != j, averaged over every pair by a tiled pass for small N and
 * estimated from uniformly drawn pairs above that, with a standard error.
 */
#include "kde/kde_internal.h"

#include "trainer/rng.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Pairs per work item of the sampled estimate. Each item draws from its
 * own random stream, so the pairs do not depend on the thread count. */
#define PAIRS_PER_CHUNK 16384

/* Chunk k's stream is seeded with seed ^ ((k + 1) * this odd constant).
 * Multiplying by an odd number is a bijection modulo 2^64, so the chunks of
 * one call get distinct seeds, and cs__rng_seed() mixes each through
 * splitmix64. */
#define CHUNK_SEED_STRIDE UINT64_C(0xd1b54a32d192ed03)

/* ------------------------------------------------------------------------
 * Every pair
 * ------------------------------------------------------------------------ */

typedef struct exact_job {
    const cs__kde_set *set;
    cs__kde_schedule schedule;
    float *grams;   /* per worker: T x T */
    double *totals; /* per tile: sum of its pair distances */
} exact_job;

static double diagonal_distances(const exact_job *job, float *gram,
                                 size_t block)
{
    const cs__kde_set *set = job->set;
    const size_t first = block * job->schedule.tile;
    const size_t rows = cs__kde_schedule_block_rows(&job->schedule, block);

    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)rows,
                (int)set->dim, 1.0f, set->rows + first * set->dim,
                (int)set->dim, 0.0f, gram, (int)rows);

    double total = 0.0;
    for (size_t r = 0; r + 1 < rows; r++)
        total += cs__kde_distance_row_sum(gram + r * rows + r + 1,
                                          set->norms[first + r],
                                          set->norms + first + r + 1,
                                          rows - r - 1);
    return total;
}

static double off_diagonal_distances(const exact_job *job, float *gram,
                                     size_t block_i, size_t block_j)
{
    const cs__kde_set *set = job->set;
    const size_t first_i = block_i * job->schedule.tile;
    const size_t first_j = block_j * job->schedule.tile;
    const size_t rows_i = cs__kde_schedule_block_rows(&job->schedule, block_i);
    const size_t rows_j = cs__kde_schedule_block_rows(&job->schedule, block_j);

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows_i,
                (int)rows_j, (int)set->dim, 1.0f,
                set->rows + first_i * set->dim, (int)set->dim,
                set->rows + first_j * set->dim, (int)set->dim, 0.0f, gram,
                (int)rows_j);

    double total = 0.0;
    for (size_t r = 0; r < rows_i; r++)
        total += cs__kde_distance_row_sum(gram + r * rows_j,
                                          set->norms[first_i + r],
                                          set->norms + first_j, rows_j);
    return total;
}

static void exact_item(void *context, size_t worker, size_t item)
{
    const exact_job *job = context;
    const size_t tile = job->schedule.tile;
    float *gram = job->grams + worker * tile * tile;

    size_t block_i;
    size_t block_j;
    cs__kde_schedule_tile(&job->schedule, item, &block_i, &block_j);
    job->totals[item] = block_i == block_j
                            ? diagonal_distances(job, gram, block_i)
                            : off_diagonal_distances(job, gram, block_i,
                                                     block_j);
}

cs_status cs__kde_mean_distance_exact(const char *fn, const cs__kde_set *set,
                                      const cs__kde_config *config,
                                      double *mean)
{
    exact_job job = {.set = set};
    cs__kde_schedule_init(&job.schedule, set->n, config->tile);

    const size_t workers = config->threads < job.schedule.n_items
                               ? config->threads
                               : job.schedule.n_items;
    size_t gram_values;
    if (!cs__mul_size(config->tile, config->tile, &gram_values) ||
        !cs__mul_size(gram_values, workers, &gram_values))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "options",
                            "the tile workspace of %zu threads does not fit "
                            "in memory",
                            workers);
    job.grams = cs__alloc_array(gram_values, sizeof(float));
    job.totals = cs__alloc_array(job.schedule.n_items, sizeof(double));
    if (job.grams == NULL || job.totals == NULL) {
        cs__free(job.grams);
        cs__free(job.totals);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the workspace of the bandwidth "
                            "pass");
    }

    /* One round: tiles write only their own total. */
    cs__kde_run(workers, job.schedule.n_items, NULL, 0, exact_item, &job);

    double total = 0.0;
    for (size_t item = 0; item < job.schedule.n_items; item++)
        total += job.totals[item];
    const double pairs = (double)set->n * ((double)set->n - 1.0) / 2.0;
    *mean = total / pairs;

    cs__free(job.grams);
    cs__free(job.totals);
    return CS_OK;
}

/* ------------------------------------------------------------------------
 * Sampled pairs
 * ------------------------------------------------------------------------ */

/* Count, mean and sum of squared deviations of a chunk's distances, which
 * combine exactly (Chan, Golub and LeVeque, 1979). */
typedef struct moments {
    double count;
    double mean;
    double squares;
} moments;

typedef struct sampled_job {
    const cs__kde_points *points;
    uint64_t seed;
    size_t n_pairs;
    moments *chunks;
} sampled_job;

static void sampled_item(void *context, size_t worker, size_t item)
{
    const sampled_job *job = context;
    const cs__kde_points *points = job->points;
    const size_t dim = points->dim;
    (void)worker;

    cs__rng rng;
    cs__rng_seed(&rng, job->seed ^ ((uint64_t)(item + 1) * CHUNK_SEED_STRIDE));

    const size_t first = item * PAIRS_PER_CHUNK;
    const size_t left = job->n_pairs - first;
    const size_t pairs = left < PAIRS_PER_CHUNK ? left : PAIRS_PER_CHUNK;

    /* Welford's running mean and squared deviations. */
    moments m = {0.0, 0.0, 0.0};
    for (size_t p = 0; p < pairs; p++) {
        /* A uniform ordered pair i != j: j drawn from the other n - 1. */
        const size_t i = (size_t)cs__rng_below(&rng, points->n);
        size_t j = (size_t)cs__rng_below(&rng, points->n - 1);
        if (j >= i)
            j++;

        const double distance = cs__kde_row_distance(points->rows + i * dim,
                                                     points->rows + j * dim,
                                                     dim);
        m.count += 1.0;
        const double delta = distance - m.mean;
        m.mean += delta / m.count;
        m.squares += delta * (distance - m.mean);
    }
    job->chunks[item] = m;
}

static moments combine(moments a, moments b)
{
    const double count = a.count + b.count;
    const double delta = b.mean - a.mean;
    moments sum = {
        .count = count,
        .mean = a.mean + delta * (b.count / count),
        .squares = a.squares + b.squares +
                   delta * delta * (a.count * b.count / count),
    };
    return sum;
}

cs_status cs__kde_mean_distance_sampled(const char *fn,
                                        const cs__kde_points *points,
                                        const cs__kde_config *config,
                                        double *mean, double *standard_error)
{
    const size_t n_pairs = (size_t)config->options.bandwidth_pairs;
    const size_t n_chunks = (n_pairs + PAIRS_PER_CHUNK - 1) / PAIRS_PER_CHUNK;
    sampled_job job = {
        .points = points,
        .seed = config->options.seed,
        .n_pairs = n_pairs,
        .chunks = cs__alloc_array(n_chunks, sizeof(moments)),
    };
    if (job.chunks == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the tallies of %zu sampled "
                            "pairs",
                            n_pairs);

    cs__kde_run(config->threads, n_chunks, NULL, 0, sampled_item, &job);

    moments total = job.chunks[0];
    for (size_t c = 1; c < n_chunks; c++)
        total = combine(total, job.chunks[c]);
    cs__free(job.chunks);

    *mean = total.mean;
    /* Pairs are drawn independently, so the standard error of their mean
     * is the sample standard deviation over sqrt(pairs). */
    *standard_error = total.count > 1.0
                          ? sqrt(total.squares / (total.count - 1.0) /
                                 total.count)
                          : 0.0;
    return CS_OK;
}

/* ------------------------------------------------------------------------
 * Choice of h
 * ------------------------------------------------------------------------ */

static cs_status identical_rows(const char *fn, size_t n)
{
    return cs__fail_arg(CS_E_ZERO_BANDWIDTH, fn, "inputs",
                        "all %zu feature rows are identical, so their mean "
                        "distance and the automatic bandwidth are 0; pass "
                        "options->bandwidth > 0",
                        n);
}

/* Averages over every pair. The set is built in units of the RMS radius
 * R, which keeps float32 sums far from overflow whatever the features'
 * scale, and rescaled to units of h afterwards. */
static cs_status bandwidth_from_all_pairs(const char *fn,
                                          const cs__kde_points *points,
                                          const cs__kde_moments *moments,
                                          const cs__kde_config *config,
                                          cs__kde_set *all_rows, double *h)
{
    const double radius = moments->rms_radius;
    cs_status status = cs__kde_set_build(fn, points, NULL, 0, moments->centre,
                                         1.0 / radius, all_rows);
    if (status != CS_OK)
        return status;

    double mean = 0.0;
    status = cs__kde_mean_distance_exact(fn, all_rows, config, &mean);
    if (status == CS_OK && !(mean > 0.0))
        /* Rows differ (R > 0) but by less than float32 resolves. */
        status = cs__fail_arg(CS_E_ZERO_BANDWIDTH, fn, "inputs",
                              "the %zu feature rows differ by less than "
                              "float32 resolves, so the automatic bandwidth "
                              "is 0; pass options->bandwidth > 0",
                              points->n);
    if (status == CS_OK) {
        *h = radius * mean / 2.0;
        status = cs__kde_set_rescale(fn, all_rows, 2.0 / mean);
    }
    if (status != CS_OK)
        cs__kde_set_free(all_rows);
    return status;
}

static cs_status bandwidth_from_sampled_pairs(const char *fn,
                                              const cs__kde_points *points,
                                              const cs__kde_config *config,
                                              double *h, double *error)
{
    double mean = 0.0;
    double mean_error = 0.0;
    cs_status status = cs__kde_mean_distance_sampled(fn, points, config, &mean,
                                                     &mean_error);
    if (status != CS_OK)
        return status;

    if (!(mean > 0.0))
        return cs__fail_arg(CS_E_ZERO_BANDWIDTH, fn, "inputs",
                            "all %lld sampled pairs of feature rows are at "
                            "distance 0, so the estimated bandwidth is 0; "
                            "raise options->bandwidth_pairs or pass "
                            "options->bandwidth > 0",
                            (long long)config->options.bandwidth_pairs);
    *h = mean / 2.0;
    *error = mean_error / 2.0;
    return CS_OK;
}

cs_status cs__kde_resolve_bandwidth(const char *fn,
                                    const cs__kde_points *points,
                                    const cs__kde_moments *moments,
                                    const cs__kde_config *config,
                                    cs__kde_set *all_rows, double *h,
                                    double *error)
{
    memset(all_rows, 0, sizeof *all_rows);
    *error = 0.0;
    if (config->options.bandwidth > 0.0) {
        *h = config->options.bandwidth;
        return CS_OK;
    }

    if (moments->rms_radius == 0.0)
        return identical_rows(fn, points->n);
    if (points->n <= (uint64_t)config->options.bandwidth_exact_limit)
        return bandwidth_from_all_pairs(fn, points, moments, config, all_rows,
                                        h);
    return bandwidth_from_sampled_pairs(fn, points, config, h, error);
}
