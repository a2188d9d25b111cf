/*
 * The FAISS index behind the neighbour scores: checks of the neighbour
 * options against the data, the index's settings, IVF's training sample,
 * and the rows added in chunks. Each row is shifted by the mean row first,
 * so that FAISS's float32 distances lose little to cancellation.
 */
#include "kde/faiss_index.h"
#include "kde/kde_internal.h"

#include "trainer/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* IVF trains on at most this many rows per list. FAISS's k-means expects
 * at least 39 per list and subsamples above 256 (its min_ and
 * max_points_per_centroid). Staying near the minimum keeps the training
 * down to 2 x 160,000 x 4,000 x 256 x 25 iterations = 8e12 flops at
 * N = 1,000,000. */
#define IVF_TRAINING_ROWS_PER_LIST 40

/* Rows shifted and handed to FAISS per call of cs__faiss_add(). */
#define ADD_CHUNK_ROWS 16384

/* Seeds the training sample apart from the other streams of options.seed. */
#define TRAINING_SEED_TWEAK UINT64_C(0x2545f4914f6cdd1d)

static size_t ivf_list_count(const cs__kde_config *config, size_t n)
{
    if (config->options.ivf_nlist > 0)
        return (size_t)config->options.ivf_nlist;
    const size_t lists = (size_t)llround(4.0 * sqrt((double)n));
    if (lists > n)
        return n;
    return lists > 0 ? lists : 1;
}

static cs_status fail_too_large(const char *fn, const char *argument,
                                long long value, const char *limit_text,
                                size_t limit)
{
    cs__where where = cs__where_none(fn);
    where.argument = argument;
    char text[24];
    snprintf(text, sizeof text, "%lld", value);
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, text,
                    "%s is %lld, larger than %s (%zu)", argument, value,
                    limit_text, limit);
}

cs_status cs__kde_knn_check(const char *fn, const cs__kde_config *config,
                            size_t n_reference, bool exclude_self)
{
    char message[CS__FAISS_MESSAGE_SIZE];
    if (cs__faiss_check_available(message) != CS_OK)
        return cs__fail_arg(CS_E_UNSUPPORTED, fn, "result", "%s", message);

    const cs_kde_options *o = &config->options;
    const size_t candidates = exclude_self ? n_reference - 1 : n_reference;
    if ((uint64_t)o->neighbors > candidates)
        return fail_too_large(fn, "neighbors", (long long)o->neighbors,
                              exclude_self ? "N - 1, the number of other "
                                             "examples"
                                           : "N, the number of reference "
                                             "examples",
                              candidates);
    if (o->neighbor_index == CS_KDE_NEIGHBORS_IVF &&
        (uint64_t)o->ivf_nlist > n_reference)
        return fail_too_large(fn, "ivf_nlist", (long long)o->ivf_nlist,
                              "N, the number of examples to cluster",
                              n_reference);
    if (o->neighbor_index == CS_KDE_NEIGHBORS_HNSW &&
        n_reference > (size_t)INT32_MAX)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "neighbor_index",
                            "an HNSW index holds at most %d rows, but there "
                            "are %zu; use CS_KDE_NEIGHBORS_IVF",
                            INT32_MAX, n_reference);
    return CS_OK;
}

/* ------------------------------------------------------------------------
 * Scores held back until the call succeeds
 * ------------------------------------------------------------------------ */

cs_status cs__kde_knn_allocate(const char *fn, const cs_kde_result *result,
                               size_t n, cs__kde_knn_outputs *scratch)
{
    const cs__kde_knn_outputs wanted = cs__kde_knn_buffers(result);
    float **arrays[4] = {&scratch->pm, &scratch->l, &scratch->free,
                         &scratch->agree};
    const float *requested[4] = {wanted.pm, wanted.l, wanted.free,
                                 wanted.agree};

    *scratch = (cs__kde_knn_outputs){NULL, NULL, NULL, NULL, 0};
    for (size_t k = 0; k < 4; k++) {
        if (requested[k] == NULL)
            continue;
        *arrays[k] = cs__alloc_array(n, sizeof(float));
        if (*arrays[k] != NULL)
            continue;
        cs__kde_knn_release(scratch);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the neighbour scores of %zu "
                            "examples",
                            n);
    }
    return CS_OK;
}

void cs__kde_knn_commit(const cs__kde_knn_outputs *scratch,
                        cs_kde_result *result)
{
    const cs__kde_knn_outputs target = cs__kde_knn_buffers(result);
    const float *sources[4] = {scratch->pm, scratch->l, scratch->free,
                               scratch->agree};
    float *targets[4] = {target.pm, target.l, target.free, target.agree};

    for (size_t k = 0; k < 4; k++)
        if (sources[k] != NULL && targets[k] != NULL)
            memcpy(targets[k], sources[k], result->n * sizeof(float));
    cs__kde_write_knn_missing(result, scratch->missing);
}

void cs__kde_knn_release(cs__kde_knn_outputs *scratch)
{
    cs__free(scratch->pm);
    cs__free(scratch->l);
    cs__free(scratch->free);
    cs__free(scratch->agree);
    *scratch = (cs__kde_knn_outputs){NULL, NULL, NULL, NULL, 0};
}

/* ------------------------------------------------------------------------
 * Building the index
 * ------------------------------------------------------------------------ */

static cs_status record_faiss_failure(const char *fn, cs_status status,
                                      const char *message)
{
    return cs__fail_arg(status, fn, NULL, "%s", message);
}

/* Writes rows[members[r]] - centre (rows[first + r] when members is NULL)
 * for r < count into out, in float32. */
static void shift_rows(const cs__kde_points *points, const size_t *members,
                       size_t first, size_t count, const double *centre,
                       float *out)
{
    const size_t dim = points->dim;
    for (size_t r = 0; r < count; r++) {
        const size_t row = members != NULL ? members[r] : first + r;
        const float *source = points->rows + row * dim;
        float *target = out + r * dim;
        for (size_t k = 0; k < dim; k++)
            target[k] = (float)((double)source[k] - centre[k]);
    }
}

/* Draws count distinct rows of n uniformly (the first steps of a
 * Fisher-Yates shuffle) into a new array that the caller frees. */
static size_t *draw_rows(size_t n, size_t count, uint64_t seed)
{
    size_t *order = cs__alloc_array(n, sizeof(size_t));
    if (order == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        order[i] = i;

    cs__rng rng;
    cs__rng_seed(&rng, seed ^ TRAINING_SEED_TWEAK);
    for (size_t k = 0; k < count; k++) {
        const size_t pick = k + (size_t)cs__rng_below(&rng, n - k);
        const size_t swap = order[k];
        order[k] = order[pick];
        order[pick] = swap;
    }
    return order;
}

static cs_status train_ivf(const char *fn, cs__faiss_index *index,
                           const cs__kde_points *reference,
                           const double *centre, size_t lists,
                           const cs__kde_config *config)
{
    size_t count = lists * IVF_TRAINING_ROWS_PER_LIST;
    if (count > reference->n || count / IVF_TRAINING_ROWS_PER_LIST != lists)
        count = reference->n;

    size_t values;
    float *sample = NULL;
    size_t *members = draw_rows(reference->n, count, config->options.seed);
    if (members != NULL && cs__mul_size(count, reference->dim, &values))
        sample = cs__alloc_array(values, sizeof(float));
    if (sample == NULL) {
        cs__free(members);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the IVF training sample of "
                            "%zu rows",
                            count);
    }

    shift_rows(reference, members, 0, count, centre, sample);
    char message[CS__FAISS_MESSAGE_SIZE];
    cs_status status =
        cs__faiss_train(index, (int64_t)count, sample, message);
    if (status != CS_OK)
        status = record_faiss_failure(fn, status, message);
    cs__free(sample);
    cs__free(members);
    return status;
}

static cs_status add_rows(const char *fn, cs__faiss_index *index,
                          const cs__kde_points *reference,
                          const double *centre)
{
    const size_t chunk = reference->n < ADD_CHUNK_ROWS ? reference->n
                                                       : ADD_CHUNK_ROWS;
    float *buffer = cs__alloc_array(chunk * reference->dim, sizeof(float));
    if (buffer == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate %zu rows to add to the index",
                            chunk);

    cs_status status = CS_OK;
    char message[CS__FAISS_MESSAGE_SIZE];
    for (size_t first = 0; first < reference->n && status == CS_OK;
         first += chunk) {
        const size_t count = reference->n - first < chunk
                                 ? reference->n - first
                                 : chunk;
        shift_rows(reference, NULL, first, count, centre, buffer);
        status = cs__faiss_add(index, (int64_t)count, buffer, message);
    }
    if (status != CS_OK)
        status = record_faiss_failure(fn, status, message);
    cs__free(buffer);
    return status;
}

static cs__faiss_params index_params(const cs__kde_config *config,
                                     const cs__kde_points *reference)
{
    const cs_kde_options *o = &config->options;
    const size_t lists = ivf_list_count(config, reference->n);
    const size_t probes = (uint64_t)o->ivf_nprobe < lists
                              ? (size_t)o->ivf_nprobe
                              : lists;
    const cs__faiss_params params = {
        .kind = o->neighbor_index,
        .dim = (int32_t)reference->dim,
        .nlist = (int64_t)lists,
        .nprobe = (int64_t)probes,
        .hnsw_m = o->hnsw_m,
        .ef_construction = o->hnsw_ef_construction,
        .ef_search = o->hnsw_ef_search,
    };
    return params;
}

cs_status cs__kde_knn_build(const char *fn, const cs__kde_points *reference,
                            const double *centre,
                            const cs__kde_config *config,
                            cs__faiss_index **index)
{
    const cs__faiss_params params = index_params(config, reference);
    const int previous_threads = cs__faiss_set_threads((int)config->threads);
    const cs__kde_blas_state blas = cs__kde_blas_threads_begin(config->threads);

    char message[CS__FAISS_MESSAGE_SIZE];
    cs__faiss_index *created = NULL;
    cs_status status = cs__faiss_create(&params, &created, message);
    if (status != CS_OK)
        status = record_faiss_failure(fn, status, message);
    if (status == CS_OK && params.kind == CS_KDE_NEIGHBORS_IVF)
        status = train_ivf(fn, created, reference, centre,
                           (size_t)params.nlist, config);
    if (status == CS_OK)
        status = add_rows(fn, created, reference, centre);

    cs__kde_blas_single_end(blas);
    cs__faiss_set_threads(previous_threads);
    if (status != CS_OK) {
        cs__faiss_free(created);
        return status;
    }
    *index = created;
    return CS_OK;
}
