/*
 * Neighbour scores from a built index. The queries go to FAISS in chunks.
 * When the examples are scored among themselves, each query's own row is
 * dropped from its neighbours. The kernel sums over the k neighbours left
 * are taken in double from the caller's rows.
 */
#include "kde/faiss_index.h"
#include "kde/kde_internal.h"

#include <math.h>

/* A chunk of queries takes at most about this many bytes of shifted rows
 * and search results. */
#define CHUNK_BYTES ((size_t)64 << 20)

/* Largest chunk, so that progress through FAISS stays fine-grained. */
#define CHUNK_MAX_ROWS 65536

/* Queries per work item of the kernel sums. */
#define SUM_ITEM_ROWS 256

typedef struct knn_job {
    const cs__kde_points *reference;
    const cs__kde_points *queries;
    bool exclude_self;
    size_t k;           /* neighbours per query */
    size_t searched;    /* slots per query in ids: k, or k + 1 */
    double inverse_h2;  /* 1 / h^2 */
    size_t first;       /* first query of the chunk */
    size_t count;       /* queries in the chunk */
    const int64_t *ids; /* count x searched, from FAISS */
    cs__kde_knn_outputs *out;
    int64_t *missing;   /* per work item, summed after the chunk */
} knn_job;

static double squared_distance(const float *a, const float *b, size_t dim)
{
    double total = 0.0;
    for (size_t k = 0; k < dim; k++) {
        const double difference = (double)a[k] - (double)b[k];
        total += difference * difference;
    }
    return total;
}

/* Scores query q (index `query` over all chunks) from its slots of ids;
 * returns the number of neighbour slots left empty. */
static int64_t score_query(const knn_job *job, size_t query,
                           const int64_t *ids)
{
    const cs__kde_points *reference = job->reference;
    const cs__kde_points *queries = job->queries;
    const float *row = queries->rows + query * queries->dim;
    const int32_t label = queries->labels != NULL ? queries->labels[query]
                                                  : -1;

    double total = 0.0;
    double same = 0.0;
    size_t found = 0;
    size_t agree = 0;
    for (size_t s = 0; s < job->searched && found < job->k; s++) {
        const int64_t id = ids[s];
        if (id < 0 || (job->exclude_self && (size_t)id == query))
            continue;

        const float *other = reference->rows + (size_t)id * reference->dim;
        const double kernel =
            exp(-squared_distance(row, other, reference->dim) *
                job->inverse_h2);
        const bool shared =
            reference->labels != NULL && reference->labels[id] == label;
        total += kernel;
        same += shared ? kernel : 0.0;
        agree += shared ? 1 : 0;
        found++;
    }

    const double n = (double)reference->n;
    cs__kde_knn_outputs *out = job->out;
    if (out->free != NULL)
        out->free[query] = (float)(total / n);
    if (out->l != NULL)
        out->l[query] = (float)(same / n);
    if (out->pm != NULL)
        out->pm[query] = (float)((2.0 * same - total) / n);
    if (out->agree != NULL)
        out->agree[query] = found > 0 ? (float)((double)agree / (double)found)
                                      : NAN;
    return (int64_t)(job->k - found);
}

static void sum_item(void *context, size_t worker, size_t item)
{
    (void)worker;
    knn_job *job = context;
    const size_t begin = item * SUM_ITEM_ROWS;
    const size_t end = begin + SUM_ITEM_ROWS < job->count
                           ? begin + SUM_ITEM_ROWS
                           : job->count;

    int64_t missing = 0;
    for (size_t r = begin; r < end; r++)
        missing += score_query(job, job->first + r,
                               job->ids + r * job->searched);
    job->missing[item] = missing;
}

/* Rows per chunk: as many as fit in CHUNK_BYTES, at least 1. */
static size_t chunk_rows(size_t dim, size_t searched, size_t n)
{
    const size_t per_row = dim * sizeof(float) +
                           searched * (sizeof(float) + sizeof(int64_t));
    size_t rows = CHUNK_BYTES / per_row;
    if (rows > CHUNK_MAX_ROWS)
        rows = CHUNK_MAX_ROWS;
    if (rows > n)
        rows = n;
    return rows > 0 ? rows : 1;
}

/* Chunk buffers: shifted queries, FAISS's distances and ids, and the
 * per-item counts of empty slots. */
typedef struct chunk_buffers {
    float *shifted;
    float *distances;
    int64_t *ids;
    int64_t *missing;
} chunk_buffers;

static void free_buffers(chunk_buffers *b)
{
    cs__free(b->shifted);
    cs__free(b->distances);
    cs__free(b->ids);
    cs__free(b->missing);
}

static cs_status allocate_buffers(const char *fn, size_t rows, size_t dim,
                                  size_t searched, chunk_buffers *b)
{
    size_t values = 0;
    size_t slots = 0;
    const bool fits = cs__mul_size(rows, dim, &values) &&
                      cs__mul_size(rows, searched, &slots);
    *b = (chunk_buffers){NULL, NULL, NULL, NULL};
    if (fits) {
        b->shifted = cs__alloc_array(values, sizeof(float));
        b->distances = cs__alloc_array(slots, sizeof(float));
        b->ids = cs__alloc_array(slots, sizeof(int64_t));
        b->missing = cs__alloc_array(rows / SUM_ITEM_ROWS + 1,
                                     sizeof(int64_t));
    }
    if (b->shifted != NULL && b->distances != NULL && b->ids != NULL &&
        b->missing != NULL)
        return CS_OK;

    free_buffers(b);
    *b = (chunk_buffers){NULL, NULL, NULL, NULL};
    return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                        "cannot allocate the search buffers of %zu queries "
                        "with %zu neighbours each",
                        rows, searched);
}

static void shift_queries(const cs__kde_points *queries, size_t first,
                          size_t count, const double *centre, float *out)
{
    const size_t dim = queries->dim;
    for (size_t r = 0; r < count; r++) {
        const float *source = queries->rows + (first + r) * dim;
        float *target = out + r * dim;
        for (size_t k = 0; k < dim; k++)
            target[k] = (float)((double)source[k] - centre[k]);
    }
}

/* Searches one chunk of queries and scores them. */
static cs_status score_chunk(const char *fn, cs__faiss_index *index,
                             const double *centre,
                             const cs__kde_config *config,
                             const chunk_buffers *b, knn_job *job)
{
    shift_queries(job->queries, job->first, job->count, centre, b->shifted);

    char message[CS__FAISS_MESSAGE_SIZE];
    const int previous_threads = cs__faiss_set_threads((int)config->threads);
    const cs__kde_blas_state blas = cs__kde_blas_threads_begin(config->threads);
    const cs_status status = cs__faiss_search(
        index, (int64_t)job->count, b->shifted, (int64_t)job->searched,
        b->distances, b->ids, message);
    cs__kde_blas_single_end(blas);
    cs__faiss_set_threads(previous_threads);
    if (status != CS_OK)
        return cs__fail_arg(status, fn, NULL, "%s", message);

    const size_t items = (job->count + SUM_ITEM_ROWS - 1) / SUM_ITEM_ROWS;
    job->ids = b->ids;
    job->missing = b->missing;
    cs__kde_run(config->threads, items, NULL, 0, sum_item, job);
    for (size_t item = 0; item < items; item++)
        job->out->missing += b->missing[item];
    return CS_OK;
}

cs_status cs__kde_knn_scores(const char *fn, cs__faiss_index *index,
                             const cs__kde_points *reference,
                             const cs__kde_points *queries,
                             const double *centre, double h,
                             const cs__kde_config *config,
                             cs__kde_knn_outputs *out)
{
    const bool exclude_self = queries == NULL;
    const size_t k = (size_t)config->options.neighbors;
    knn_job job = {
        .reference = reference,
        .queries = exclude_self ? reference : queries,
        .exclude_self = exclude_self,
        .k = k,
        .searched = exclude_self ? k + 1 : k,
        .inverse_h2 = 1.0 / (h * h),
        .out = out,
    };

    const size_t n_queries = job.queries->n;
    const size_t rows = chunk_rows(reference->dim, job.searched, n_queries);
    chunk_buffers buffers;
    cs_status status =
        allocate_buffers(fn, rows, reference->dim, job.searched, &buffers);

    out->missing = 0;
    for (size_t first = 0; first < n_queries && status == CS_OK;
         first += rows) {
        job.first = first;
        job.count = n_queries - first < rows ? n_queries - first : rows;
        status = score_chunk(fn, index, centre, config, &buffers, &job);
    }
    free_buffers(&buffers);
    return status;
}

cs_status cs__kde_knn_run(const char *fn, const cs__kde_points *reference,
                          const cs__kde_points *queries, const double *centre,
                          double h, const cs__kde_config *config,
                          const cs_kde_result *result,
                          cs__kde_knn_outputs *scratch)
{
    cs_status status = cs__kde_knn_allocate(fn, result, result->n, scratch);
    if (status != CS_OK)
        return status;

    cs__faiss_index *index = NULL;
    status = cs__kde_knn_build(fn, reference, centre, config, &index);
    if (status == CS_OK)
        status = cs__kde_knn_scores(fn, index, reference, queries, centre, h,
                                    config, scratch);
    cs__faiss_free(index);
    if (status != CS_OK)
        cs__kde_knn_release(scratch);
    return status;
}
