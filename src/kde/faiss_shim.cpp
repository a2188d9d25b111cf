/*
 * faiss_index.h over the FAISS C++ classes (written against the headers of
 * FAISS 1.7.3 as Debian 12 ships them, whose static libfaiss.a has no C
 * API). Used when no libfaiss_c is installed.
 *
 * Every entry point catches every exception: std::bad_alloc becomes
 * CS_E_OUT_OF_MEMORY, anything else CS_E_EXTERNAL with FAISS's text, so no
 * C++ exception reaches C code.
 */
#include "kde/faiss_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#ifdef _OPENMP
#include <omp.h>
#endif

struct cs__faiss_index {
    std::unique_ptr<faiss::Index> index;
    cs__faiss_params params;
};

namespace {

/* Formats the message of a caught exception. */
void describe(char *message, const char *step, const char *detail)
{
    std::snprintf(message, CS__FAISS_MESSAGE_SIZE, "FAISS failed to %s: %s",
                  step, detail);
}

/* Runs body() and turns whatever it throws into a status and a message
 * naming the step ("build the index", "search"). */
template <typename Body>
cs_status guarded(const char *step, char *message, Body body) noexcept
{
    try {
        body();
        return CS_OK;
    } catch (const std::bad_alloc &) {
        describe(message, step, "out of memory");
        return CS_E_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        describe(message, step, e.what());
        return CS_E_EXTERNAL;
    } catch (...) {
        describe(message, step, "an exception of unknown type");
        return CS_E_EXTERNAL;
    }
}

std::unique_ptr<faiss::Index> make_ivf(const cs__faiss_params &p)
{
    auto quantizer = std::make_unique<faiss::IndexFlatL2>(p.dim);
    auto ivf = std::make_unique<faiss::IndexIVFFlat>(
        quantizer.get(), static_cast<size_t>(p.dim),
        static_cast<size_t>(p.nlist), faiss::METRIC_L2);
    quantizer.release();
    ivf->own_fields = true;
    ivf->nprobe = static_cast<size_t>(p.nprobe);

    /* FAISS prints a warning to stderr when it trains fewer than
     * min_points_per_centroid (39) rows per list. The library never
     * prints, and the caller always passes at least one row per list. */
    ivf->cp.min_points_per_centroid = 1;
    return ivf;
}

std::unique_ptr<faiss::Index> make_hnsw(const cs__faiss_params &p)
{
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(p.dim, p.hnsw_m,
                                                       faiss::METRIC_L2);
    hnsw->hnsw.efConstruction = p.ef_construction;
    hnsw->hnsw.efSearch = p.ef_search;
    return hnsw;
}

std::unique_ptr<faiss::Index> make_index(const cs__faiss_params &p)
{
    switch (p.kind) {
    case CS_KDE_NEIGHBORS_IVF:
        return make_ivf(p);
    case CS_KDE_NEIGHBORS_HNSW:
        return make_hnsw(p);
    case CS_KDE_NEIGHBORS_FLAT:
        break;
    }
    return std::make_unique<faiss::IndexFlatL2>(p.dim);
}

} // namespace

extern "C" {

cs_status cs__faiss_check_available(char *message)
{
    (void)message;
    return CS_OK;
}

cs_status cs__faiss_create(const cs__faiss_params *params,
                           cs__faiss_index **index, char *message)
{
    return guarded("build the index", message, [&] {
        auto created = std::make_unique<cs__faiss_index>();
        created->params = *params;
        created->index = make_index(*params);
        *index = created.release();
    });
}

cs_status cs__faiss_train(cs__faiss_index *index, int64_t n,
                          const float *rows, char *message)
{
    return guarded("train the index", message,
                   [&] { index->index->train(n, rows); });
}

cs_status cs__faiss_add(cs__faiss_index *index, int64_t n, const float *rows,
                        char *message)
{
    return guarded("add rows to the index", message,
                   [&] { index->index->add(n, rows); });
}

cs_status cs__faiss_search(cs__faiss_index *index, int64_t n,
                           const float *queries, int64_t k, float *distances,
                           int64_t *ids, char *message)
{
    return guarded("search the index", message, [&] {
        /* An HNSW search keeps efSearch candidates, so fewer than k would
         * leave slots empty. */
        if (index->params.kind == CS_KDE_NEIGHBORS_HNSW) {
            auto *hnsw = static_cast<faiss::IndexHNSW *>(index->index.get());
            const int64_t ef = std::max<int64_t>(index->params.ef_search, k);
            hnsw->hnsw.efSearch = static_cast<int>(ef);
        }
        index->index->search(n, queries, k, distances, ids);
    });
}

void cs__faiss_free(cs__faiss_index *index)
{
    /* Destructors of FAISS indexes only release memory and do not throw. */
    delete index;
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

} // extern "C"

/* The squared L2 distance that FAISS's IVF and HNSW scans call for every
 * candidate. Debian 12 builds libfaiss.a for baseline x86-64, without
 * SSE3, so its own faiss::fvec_L2sqr() is the scalar reference loop; perf
 * put 76% of an IVF run (N = 20,000, d = 256) in it. cmake/faiss.cmake
 * links with --wrap for that symbol, so the calls from FAISS's other
 * objects land here, in a vector loop that also gets an AVX2 clone. The
 * name is the one --wrap prescribes for the mangled symbol. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&        \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CS__DISTANCE_CLONES                                                   \
    __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CS__DISTANCE_CLONES
#endif

typedef float cs__v8f __attribute__((vector_size(32)));

extern "C" CS__DISTANCE_CLONES float
__wrap__ZN5faiss10fvec_L2sqrEPKfS1_m(const float *x, const float *y,
                                     size_t d)
{
    /* Two accumulators, so that consecutive blocks do not wait on each
     * other's additions. */
    cs__v8f sum_a = {0, 0, 0, 0, 0, 0, 0, 0};
    cs__v8f sum_b = sum_a;
    size_t k = 0;
    for (; k + 16 <= d; k += 16) {
        cs__v8f xa, ya, xb, yb;
        std::memcpy(&xa, x + k, sizeof xa);
        std::memcpy(&ya, y + k, sizeof ya);
        std::memcpy(&xb, x + k + 8, sizeof xb);
        std::memcpy(&yb, y + k + 8, sizeof yb);
        const cs__v8f da = xa - ya;
        const cs__v8f db = xb - yb;
        sum_a += da * da;
        sum_b += db * db;
    }
    sum_a += sum_b;

    float total = 0.0f;
    for (int lane = 0; lane < 8; lane++)
        total += sum_a[lane];
    for (; k < d; k++) {
        const float diff = x[k] - y[k];
        total += diff * diff;
    }
    return total;
}
