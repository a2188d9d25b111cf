/*
 * The few FAISS operations that the neighbour scores need, behind a C
 * interface: build a flat, IVF or HNSW index of float32 rows under the
 * squared Euclidean (L2) metric, train it, add rows, and find the k
 * nearest rows of each query.
 *
 * CMake (cmake/faiss.cmake) compiles one of three implementations:
 * - faiss_c_api.c over FAISS's own C API, where libfaiss_c is installed;
 * - faiss_shim.cpp over the FAISS C++ headers, because Debian's
 *   libfaiss-dev ships only a static C++ libfaiss.a;
 * - faiss_none.c when cscore is built without FAISS.
 *
 * Every function returns CS_OK or a status, and on failure writes a
 * sentence into message (at most CS__FAISS_MESSAGE_SIZE bytes with the
 * terminator) for the caller to record with cs__fail(). None of them
 * records an error itself, prints or lets a C++ exception escape.
 */
#ifndef CS_KDE_FAISS_INDEX_H
#define CS_KDE_FAISS_INDEX_H

#include "cscore.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CS__FAISS_MESSAGE_SIZE 512

/* Settings of an index, already checked by the caller: dim >= 1,
 * 1 <= nprobe <= nlist for IVF, and for HNSW hnsw_m >= 2 and both ef
 * values >= 1. */
typedef struct cs__faiss_params {
    cs_kde_neighbor_index kind;
    int32_t dim;
    int64_t nlist;
    int64_t nprobe;
    int32_t hnsw_m;
    int32_t ef_construction;
    int32_t ef_search;
} cs__faiss_params;

typedef struct cs__faiss_index cs__faiss_index;

/* Returns CS_OK when this build can create indexes. The stub of a build
 * without FAISS returns CS_E_UNSUPPORTED here and from every other call,
 * with a message that explains how to build with FAISS. */
cs_status cs__faiss_check_available(char *message);

/* Creates an empty index. On success *index is owned by the caller, who
 * frees it with cs__faiss_free(). */
cs_status cs__faiss_create(const cs__faiss_params *params,
                           cs__faiss_index **index, char *message);

/* Trains the index on n rows of dim floats: k-means into nlist lists for
 * IVF, and nothing for flat and HNSW. Call once, before cs__faiss_add(). */
cs_status cs__faiss_train(cs__faiss_index *index, int64_t n,
                          const float *rows, char *message);

/* Appends n rows. The k-th row added over all calls gets id k, from 0. */
cs_status cs__faiss_add(cs__faiss_index *index, int64_t n, const float *rows,
                        char *message);

/* For each of n query rows, writes the ids of its k nearest rows in the
 * index, nearest first, to ids[q * k ...] and their squared distances to
 * distances[q * k ...]. A slot that the index could not fill has id -1.
 * HNSW searches with max(ef_search, k) candidates. */
cs_status cs__faiss_search(cs__faiss_index *index, int64_t n,
                           const float *queries, int64_t k, float *distances,
                           int64_t *ids, char *message);

/* Frees an index, or does nothing for NULL. */
void cs__faiss_free(cs__faiss_index *index);

/* Sets the OpenMP thread count that FAISS uses on the calling thread and
 * returns the earlier count, for the caller to restore. Without OpenMP it
 * does nothing and returns threads. */
int cs__faiss_set_threads(int threads);

#ifdef __cplusplus
}
#endif

#endif /* CS_KDE_FAISS_INDEX_H */
