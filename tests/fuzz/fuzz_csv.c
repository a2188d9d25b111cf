/*
 * Fuzzes the CSV reader cs_csv_read_columns() on a scratch file, three
 * times per input. The requested columns are those of a proxies.csv that
 * cscore writes, then one of them, then the input's own first header
 * field, so that any header the fuzzer makes up gets its cells parsed.
 */
#include "fuzz_common.h"

#include <cscore.h>
#include <stdbool.h>
#include <string.h>

static void read_columns(const char *path, const char *const *names,
                         size_t n_names)
{
    cs_array *columns[3] = {NULL, NULL, NULL};
    if (cs_csv_read_columns(path, names, n_names, columns) != CS_OK)
        return;
    for (size_t k = 0; k < n_names; k++)
        cs_array_free(columns[k]);
}

/* Copies the first header field, up to a comma or line end, into name
 * without the quotes that may enclose it. Returns false when the field is
 * empty or longer than capacity - 1. */
static bool first_field(const uint8_t *data, size_t size, char *name,
                        size_t capacity)
{
    size_t start = 0;
    size_t end = 0;
    while (end < size && data[end] != ',' && data[end] != '\n' &&
           data[end] != '\r')
        end++;
    if (end >= 2 && data[0] == '"' && data[end - 1] == '"') {
        start = 1;
        end--;
    }

    const size_t length = end - start;
    if (length == 0 || length >= capacity ||
        memchr(data + start, '\0', length) != NULL)
        return false;
    memcpy(name, data + start, length);
    name[length] = '\0';
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("input.csv", data, size);

    static const char *const export_columns[] = {"id", "label", "cbtl"};
    read_columns(path, export_columns, 3);
    read_columns(path, export_columns + 2, 1);

    char name[128];
    if (first_field(data, size, name, sizeof name)) {
        const char *const names[] = {name};
        read_columns(path, names, 1);
    }
    return 0;
}
