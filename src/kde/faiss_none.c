/*
 * faiss_index.h for a cscore built without FAISS (CMake option
 * CSCORE_WITH_FAISS=OFF, or no FAISS found): every index operation fails
 * with CS_E_UNSUPPORTED, so the neighbour scores report that instead of
 * computing anything.
 */
#include "kde/faiss_index.h"

#include <stdio.h>

static cs_status unsupported(char *message)
{
    snprintf(message, CS__FAISS_MESSAGE_SIZE,
             "this cscore was built without FAISS, which the neighbour "
             "scores need; install FAISS (Debian package libfaiss-dev) and "
             "rebuild with the CMake option CSCORE_WITH_FAISS=ON");
    return CS_E_UNSUPPORTED;
}

cs_status cs__faiss_check_available(char *message)
{
    return unsupported(message);
}

cs_status cs__faiss_create(const cs__faiss_params *params,
                           cs__faiss_index **index, char *message)
{
    (void)params;
    (void)index;
    return unsupported(message);
}

cs_status cs__faiss_train(cs__faiss_index *index, int64_t n,
                          const float *rows, char *message)
{
    (void)index;
    (void)n;
    (void)rows;
    return unsupported(message);
}

cs_status cs__faiss_add(cs__faiss_index *index, int64_t n, const float *rows,
                        char *message)
{
    (void)index;
    (void)n;
    (void)rows;
    return unsupported(message);
}

cs_status cs__faiss_search(cs__faiss_index *index, int64_t n,
                           const float *queries, int64_t k, float *distances,
                           int64_t *ids, char *message)
{
    (void)index;
    (void)n;
    (void)queries;
    (void)k;
    (void)distances;
    (void)ids;
    return unsupported(message);
}

void cs__faiss_free(cs__faiss_index *index)
{
    (void)index;
}

int cs__faiss_set_threads(int threads)
{
    return threads;
}
