/*
 * faiss_index.h over FAISS's own C API (libfaiss_c), used where that
 * library is installed. Indexes come from the index factory ("Flat",
 * "IVF<nlist>,Flat", "HNSW<M>"), and their search settings are set
 * through a ParameterSpace, which accepts nprobe, efConstruction and
 * efSearch (the strings in FAISS 1.7.3's AutoTune.cpp.o).
 *
 * NOTE: no build of these machines has libfaiss_c, so this file is
 * compiled only by hand against Debian's c_api headers and never run by
 * the tests. Unlike faiss_shim.cpp it cannot lower FAISS's
 * min_points_per_centroid, so FAISS prints a warning to stderr when IVF
 * trains fewer than 39 rows per list.
 */
#include "kde/faiss_index.h"

#include "internal.h"

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>

#include <stdio.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

struct cs__faiss_index {
    FaissIndex *index;
    FaissParameterSpace *space;
    cs__faiss_params params;
};

/* Turns a FAISS C API return code into a status and a message. FAISS
 * reports std::bad_alloc as a standard library exception. */
static cs_status check(int code, const char *step, char *message)
{
    if (code == 0)
        return CS_OK;

    const char *text = faiss_get_last_error();
    if (text == NULL)
        text = "no message";
    snprintf(message, CS__FAISS_MESSAGE_SIZE, "FAISS failed to %s: %s", step,
             text);
    if (code == STD_EXCEPT && strstr(text, "bad_alloc") != NULL)
        return CS_E_OUT_OF_MEMORY;
    return CS_E_EXTERNAL;
}

static void describe(const cs__faiss_params *p, char *text, size_t size)
{
    switch (p->kind) {
    case CS_KDE_NEIGHBORS_IVF:
        snprintf(text, size, "IVF%lld,Flat", (long long)p->nlist);
        return;
    case CS_KDE_NEIGHBORS_HNSW:
        snprintf(text, size, "HNSW%d", (int)p->hnsw_m);
        return;
    case CS_KDE_NEIGHBORS_FLAT:
        break;
    }
    snprintf(text, size, "Flat");
}

static cs_status set_parameter(cs__faiss_index *index, const char *name,
                               double value, char *message)
{
    return check(faiss_ParameterSpace_set_index_parameter(
                     index->space, index->index, name, value),
                 "set an index parameter", message);
}

static cs_status apply_settings(cs__faiss_index *index, char *message)
{
    const cs__faiss_params *p = &index->params;
    cs_status status = CS_OK;
    if (p->kind == CS_KDE_NEIGHBORS_IVF)
        status = set_parameter(index, "nprobe", (double)p->nprobe, message);
    if (p->kind == CS_KDE_NEIGHBORS_HNSW) {
        status = set_parameter(index, "efConstruction",
                               (double)p->ef_construction, message);
        if (status == CS_OK)
            status = set_parameter(index, "efSearch", (double)p->ef_search,
                                   message);
    }
    return status;
}

cs_status cs__faiss_check_available(char *message)
{
    (void)message;
    return CS_OK;
}

cs_status cs__faiss_create(const cs__faiss_params *params,
                           cs__faiss_index **index, char *message)
{
    cs__faiss_index *created = cs__calloc(1, sizeof *created);
    if (created == NULL) {
        snprintf(message, CS__FAISS_MESSAGE_SIZE,
                 "cannot allocate a FAISS index handle");
        return CS_E_OUT_OF_MEMORY;
    }
    created->params = *params;

    char description[64];
    describe(params, description, sizeof description);
    cs_status status =
        check(faiss_index_factory(&created->index, params->dim, description,
                                  METRIC_L2),
              "build the index", message);
    if (status == CS_OK)
        status = check(faiss_ParameterSpace_new(&created->space),
                       "build the index", message);
    if (status == CS_OK)
        status = apply_settings(created, message);

    if (status != CS_OK) {
        cs__faiss_free(created);
        return status;
    }
    *index = created;
    return CS_OK;
}

cs_status cs__faiss_train(cs__faiss_index *index, int64_t n,
                          const float *rows, char *message)
{
    return check(faiss_Index_train(index->index, n, rows), "train the index",
                 message);
}

cs_status cs__faiss_add(cs__faiss_index *index, int64_t n, const float *rows,
                        char *message)
{
    return check(faiss_Index_add(index->index, n, rows),
                 "add rows to the index", message);
}

cs_status cs__faiss_search(cs__faiss_index *index, int64_t n,
                           const float *queries, int64_t k, float *distances,
                           int64_t *ids, char *message)
{
    /* An HNSW search keeps efSearch candidates, so fewer than k would
     * leave slots empty. */
    if (index->params.kind == CS_KDE_NEIGHBORS_HNSW &&
        index->params.ef_search < k) {
        const cs_status status =
            set_parameter(index, "efSearch", (double)k, message);
        if (status != CS_OK)
            return status;
    }
    return check(faiss_Index_search(index->index, n, queries, k, distances,
                                    ids),
                 "search the index", message);
}

void cs__faiss_free(cs__faiss_index *index)
{
    if (index == NULL)
        return;
    faiss_ParameterSpace_free(index->space);
    faiss_Index_free(index->index);
    cs__free(index);
}

int cs__faiss_set_threads(int threads)
{
#ifdef _OPENMP
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    return previous;
#else
    return threads;
#endif
}
