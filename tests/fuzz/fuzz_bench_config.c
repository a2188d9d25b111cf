/*
 * Fuzzes the YAML parser of bench configurations (libyaml underneath)
 * through cs__bench_config_parse(), which takes the text in memory.
 */
#include "fuzz_common.h"

#include "bench/bench_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The path only names the file in messages and resolves relative
     * paths; nothing is opened. */
    cs__bench_config *config = NULL;
    if (cs__bench_config_parse((const char *)data, size,
                               "/fuzz/bench/config.yaml", &config) == CS_OK)
        cs__bench_config_free(config);
    return 0;
}
