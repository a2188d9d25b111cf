/*
 * Fuzzes the .npz reader (libzip underneath): opens the input as an
 * archive, lists its keys and reads every member by key and by full name.
 */
#include "fuzz_common.h"

#include <cscore.h>
#include <stdio.h>

static void read_member(cs_npz *npz, const char *key)
{
    cs_array *array = NULL;
    if (cs_npz_read(npz, key, &array) == CS_OK)
        cs_array_free(array);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("input.npz", data, size);
    cs_npz *npz = NULL;
    if (cs_npz_open(path, &npz) != CS_OK)
        return 0;

    const size_t count = cs_npz_count(npz);
    for (size_t i = 0; i < count; i++) {
        const char *key = cs_npz_key(npz, i);
        if (key == NULL || cs_npz_contains(npz, key) != 1)
            continue;
        read_member(npz, key);

        /* The full member name reaches the same array by another path. */
        char name[512];
        if (snprintf(name, sizeof name, "%s.npy", key) < (int)sizeof name)
            read_member(npz, name);
    }

    /* A key that no archive contains exercises the list of keys in the
     * error message. */
    read_member(npz, "no such member");
    cs_npz_close(npz);
    return 0;
}
