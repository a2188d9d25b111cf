/*
 * Defaults and validation of cs_kde_options, and the resolved settings
 * (tile size, thread count) that the rest of the module reads.
 */
#include "kde/kde_internal.h"

#include <math.h>
#include <string.h>

/* The smallest struct_size a caller may pass: every field up to threads,
 * the last field of version 0.1. */
#define KDE_OPTIONS_MIN_SIZE                                                  \
    (offsetof(cs_kde_options, threads) + sizeof(int32_t))

void cs_kde_options_init(cs_kde_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->method = CS_KDE_EXACT;
    options->bandwidth = 0.0;
    options->reference_size = CS_KDE_DEFAULT_REFERENCE_SIZE;
    options->bandwidth_pairs = CS_KDE_DEFAULT_BANDWIDTH_PAIRS;
    options->bandwidth_exact_limit = CS_KDE_DEFAULT_EXACT_BANDWIDTH_LIMIT;
    options->seed = 0;
    options->tile_size = CS_KDE_DEFAULT_TILE_SIZE;
    options->threads = 0;
    options->neighbor_index = CS_KDE_NEIGHBORS_FLAT;
    options->neighbors = CS_KDE_DEFAULT_NEIGHBORS;
    options->ivf_nlist = 0;
    options->ivf_nprobe = CS_KDE_DEFAULT_IVF_NPROBE;
    options->hnsw_m = CS_KDE_DEFAULT_HNSW_M;
    options->hnsw_ef_construction = CS_KDE_DEFAULT_HNSW_EF_CONSTRUCTION;
    options->hnsw_ef_search = CS_KDE_DEFAULT_HNSW_EF_SEARCH;
}

/* Copies the first struct_size bytes of *given over the defaults. */
static cs_status read_options(const char *fn, const cs_kde_options *given,
                              cs_kde_options *out)
{
    cs_kde_options_init(out);
    if (given == NULL)
        return CS_OK;

    if (given->struct_size < KDE_OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; initialise options with "
                            "cs_kde_options_init()",
                            given->struct_size, (size_t)KDE_OPTIONS_MIN_SIZE);

    const size_t known = given->struct_size < sizeof *out ? given->struct_size
                                                          : sizeof *out;
    memcpy(out, given, known);
    out->struct_size = sizeof *out;
    return CS_OK;
}

static cs_status check_method_and_bandwidth(const char *fn,
                                            const cs_kde_options *o)
{
    if (o->method != CS_KDE_EXACT && o->method != CS_KDE_SAMPLED)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "method",
                            "method is %d; use CS_KDE_EXACT (0) or "
                            "CS_KDE_SAMPLED (1)",
                            (int)o->method);
    if (!(isfinite(o->bandwidth) && o->bandwidth >= 0.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "bandwidth",
                            "bandwidth is %g; pass h > 0 in the units of the "
                            "features, or 0 for the automatic bandwidth",
                            o->bandwidth);
    return CS_OK;
}

static cs_status check_sample_sizes(const char *fn, const cs_kde_options *o)
{
    if (o->reference_size < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "reference_size",
                            "reference_size is %lld; it must be at least 1, "
                            "default %d",
                            (long long)o->reference_size,
                            CS_KDE_DEFAULT_REFERENCE_SIZE);
    if (o->bandwidth_pairs < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "bandwidth_pairs",
                            "bandwidth_pairs is %lld; it must be at least 1, "
                            "default %d",
                            (long long)o->bandwidth_pairs,
                            CS_KDE_DEFAULT_BANDWIDTH_PAIRS);
    if (o->bandwidth_exact_limit < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "bandwidth_exact_limit",
                            "bandwidth_exact_limit is %lld; it must be >= 0 "
                            "(0 always samples pairs), default %d",
                            (long long)o->bandwidth_exact_limit,
                            CS_KDE_DEFAULT_EXACT_BANDWIDTH_LIMIT);
    return CS_OK;
}

static cs_status check_work_split(const char *fn, const cs_kde_options *o)
{
    if (o->tile_size < 1 || o->tile_size > CS_KDE_MAX_TILE_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "tile_size",
                            "tile_size is %d; it must be in [1, %d], default "
                            "%d",
                            (int)o->tile_size, CS_KDE_MAX_TILE_SIZE,
                            CS_KDE_DEFAULT_TILE_SIZE);
    if (o->threads < 0 || o->threads > CS_KDE_MAX_THREADS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "threads",
                            "threads is %d; it must be in [0, %d], where 0 "
                            "uses one thread per online CPU",
                            (int)o->threads, CS_KDE_MAX_THREADS);
    return CS_OK;
}

static cs_status check_neighbor_index(const char *fn,
                                      const cs_kde_options *o)
{
    if (o->neighbor_index != CS_KDE_NEIGHBORS_FLAT &&
        o->neighbor_index != CS_KDE_NEIGHBORS_IVF &&
        o->neighbor_index != CS_KDE_NEIGHBORS_HNSW)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "neighbor_index",
                            "neighbor_index is %d; use CS_KDE_NEIGHBORS_FLAT "
                            "(0), CS_KDE_NEIGHBORS_IVF (1) or "
                            "CS_KDE_NEIGHBORS_HNSW (2)",
                            (int)o->neighbor_index);
    if (o->neighbors < 1 || o->neighbors > CS_KDE_MAX_NEIGHBORS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "neighbors",
                            "neighbors is %lld; it must be in [1, %d], "
                            "default %d",
                            (long long)o->neighbors, CS_KDE_MAX_NEIGHBORS,
                            CS_KDE_DEFAULT_NEIGHBORS);
    return CS_OK;
}

static cs_status check_index_parameters(const char *fn,
                                        const cs_kde_options *o)
{
    if (o->ivf_nlist < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "ivf_nlist",
                            "ivf_nlist is %lld; it must be >= 0, where 0 "
                            "uses round(4 sqrt(N)) lists",
                            (long long)o->ivf_nlist);
    if (o->ivf_nprobe < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "ivf_nprobe",
                            "ivf_nprobe is %lld; it must be at least 1, "
                            "default %d",
                            (long long)o->ivf_nprobe,
                            CS_KDE_DEFAULT_IVF_NPROBE);
    if (o->hnsw_m < 2 || o->hnsw_m > CS_KDE_MAX_HNSW_M)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "hnsw_m",
                            "hnsw_m is %d; it must be in [2, %d], default %d",
                            (int)o->hnsw_m, CS_KDE_MAX_HNSW_M,
                            CS_KDE_DEFAULT_HNSW_M);
    if (o->hnsw_ef_construction < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "hnsw_ef_construction",
                            "hnsw_ef_construction is %d; it must be at least "
                            "1, default %d",
                            (int)o->hnsw_ef_construction,
                            CS_KDE_DEFAULT_HNSW_EF_CONSTRUCTION);
    if (o->hnsw_ef_search < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "hnsw_ef_search",
                            "hnsw_ef_search is %d; it must be at least 1, "
                            "default %d",
                            (int)o->hnsw_ef_search,
                            CS_KDE_DEFAULT_HNSW_EF_SEARCH);
    return CS_OK;
}

cs_status cs__kde_read_config(const char *fn, const cs_kde_options *given,
                              cs__kde_config *config)
{
    cs_status status = read_options(fn, given, &config->options);
    if (status == CS_OK)
        status = check_method_and_bandwidth(fn, &config->options);
    if (status == CS_OK)
        status = check_sample_sizes(fn, &config->options);
    if (status == CS_OK)
        status = check_work_split(fn, &config->options);
    if (status == CS_OK)
        status = check_neighbor_index(fn, &config->options);
    if (status == CS_OK)
        status = check_index_parameters(fn, &config->options);
    if (status != CS_OK)
        return status;

    config->tile = (size_t)config->options.tile_size;
    config->threads = config->options.threads > 0
                          ? (size_t)config->options.threads
                          : cs__kde_online_cpus();
    return CS_OK;
}

void cs_kde_result_init(cs_kde_result *result)
{
    if (result == NULL)
        return;
    memset(result, 0, sizeof *result);
    result->struct_size = sizeof *result;
}
