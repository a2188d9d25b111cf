/*
 * Fuzzes cs_tracker_load() on a scratch file. Each input is loaded as it
 * is and, when its CRC-32 trailer is wrong, once more with the trailer
 * recomputed, because random mutations almost never keep the checksum
 * valid and would otherwise stop at it. A tracker that loads is then read
 * through every accessor, so that values a crafted file smuggles past the
 * load checks reach the code that uses them.
 */
#include "fuzz_common.h"

#include <cscore.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Copies every proxy, the labels, the features and each epoch's history
 * into buffers of N entries (N x d for the features), as an exporter
 * would. */
static void read_tracker(const cs_tracker *tracker)
{
    cs_tracker_options options;
    options.struct_size = sizeof options;
    if (cs_tracker_get_options(tracker, &options) != CS_OK)
        return;

    const size_t n = (size_t)options.n_examples;
    const size_t n_features = n * (size_t)options.feature_dim;
    int32_t *ints = malloc(n * sizeof *ints);
    float *floats = malloc(n * sizeof *floats);
    float *features = malloc((n_features > 0 ? n_features : 1) *
                             sizeof *features);
    uint8_t *bytes = malloc(n);
    if (ints == NULL || floats == NULL || features == NULL || bytes == NULL)
        goto done;

    for (int proxy = 0; proxy < CS_PROXY_COUNT; proxy++) {
        if (cs_proxy_is_integer((cs_proxy)proxy))
            cs_tracker_proxy_i32(tracker, (cs_proxy)proxy, ints, n);
        else
            cs_tracker_proxy_f32(tracker, (cs_proxy)proxy, floats, n);
    }
    cs_tracker_labels(tracker, ints, n);
    cs_tracker_epochs_observed(tracker, ints, n);
    if (n_features > 0)
        cs_tracker_features(tracker, features, n_features);

    /* Only a tracker with history stores its epochs in the file, so only
     * then is the loop bounded by the input's size. Without history the
     * header may count two billion ended epochs. */
    const int32_t epochs = cs_tracker_epochs(tracker);
    if (options.keep_history) {
        for (int32_t epoch = 1; epoch <= epochs + 1; epoch++)
            cs_tracker_history(tracker, epoch, bytes, bytes, floats, floats,
                               n);
    }
    cs_tracker_history(tracker, 0, bytes, bytes, floats, floats, n);

done:
    free(ints);
    free(floats);
    free(features);
    free(bytes);
}

static void load(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("input.ckpt", data, size);
    cs_tracker *tracker = NULL;
    if (cs_tracker_load(path, &tracker) != CS_OK)
        return;
    read_tracker(tracker);
    cs_tracker_free(tracker);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size < 4)
        return 0;

    /* The trailer is zlib's CRC-32 of every byte before it, stored in
     * host byte order as cs_tracker_save() writes it. */
    const size_t body = size - 4;
    const uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data,
                                         (uInt)body);
    uint8_t trailer[4];
    memcpy(trailer, &crc, 4);
    if (memcmp(data + body, trailer, 4) == 0)
        return 0;

    uint8_t *repaired = malloc(size);
    if (repaired == NULL)
        return 0;
    memcpy(repaired, data, body);
    memcpy(repaired + body, trailer, 4);
    load(repaired, size);
    free(repaired);
    return 0;
}
