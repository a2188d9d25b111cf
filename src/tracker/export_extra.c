/*
 * Checks of the extra arrays of cs_tracker_export_csv_extra() and
 * cs_tracker_export_npz_extra(): present, of the tracker's length, and
 * named so that they cannot collide with a built-in column or array, or
 * break a CSV header or a .npz member name.
 */
#include "tracker/export_extra.h"

#include <stdio.h>
#include <string.h>

/* Names of the built-in CSV columns and .npz arrays besides the proxies. */
static const char *const reserved_names[] = {"id", "ids", "label", "labels"};

/* Prefixes of the built-in rank columns and history arrays. */
static const char *const reserved_prefixes[] = {"rank_", "hist_"};

static bool has_valid_characters(const char *name)
{
    const size_t length = strlen(name);
    if (length == 0 || length > CS__EXPORT_EXTRA_MAX_NAME)
        return false;
    for (size_t k = 0; k < length; k++) {
        const char c = name[k];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !digit && c != '_')
            return false;
    }
    return true;
}

static bool is_built_in(const char *name)
{
    for (size_t k = 0; k < sizeof reserved_names / sizeof *reserved_names;
         k++)
        if (strcmp(name, reserved_names[k]) == 0)
            return true;
    for (size_t k = 0;
         k < sizeof reserved_prefixes / sizeof *reserved_prefixes; k++) {
        const char *prefix = reserved_prefixes[k];
        if (strncmp(name, prefix, strlen(prefix)) == 0)
            return true;
    }
    for (int p = 0; p < CS_PROXY_COUNT; p++)
        if (strcmp(name, cs_proxy_name((cs_proxy)p)) == 0)
            return true;
    return false;
}

static cs_status fail_name(const char *fn, size_t index, const char *name,
                           const char *problem)
{
    cs__where where = cs__where_none(fn);
    where.argument = "names";
    where.index = (int64_t)index;
    char value[CS__EXPORT_EXTRA_MAX_NAME + 1];
    snprintf(value, sizeof value, "%s", name);
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                    "names[%zu] is \"%.*s\", which %s", index,
                    CS__EXPORT_EXTRA_MAX_NAME, name, problem);
}

static cs_status check_name(const char *fn, const char *const *names,
                            size_t index)
{
    const char *name = names[index];
    if (!has_valid_characters(name))
        return fail_name(fn, index, name,
                         "is not 1 to 63 characters from [A-Za-z0-9_]");
    if (is_built_in(name))
        return fail_name(fn, index, name,
                         "is a built-in name or starts with rank_ or hist_");
    for (size_t earlier = 0; earlier < index; earlier++)
        if (strcmp(name, names[earlier]) == 0)
            return fail_name(fn, index, name, "repeats an earlier name");
    return CS_OK;
}

static cs_status check_pointers(const char *fn, const char *const *names,
                                const float *const *values, size_t count)
{
    if (names == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "names",
                            "names is NULL but n_columns is %zu", count);
    if (values == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "values",
                            "values is NULL but n_columns is %zu", count);

    for (size_t c = 0; c < count; c++) {
        const char *argument = names[c] == NULL    ? "names"
                               : values[c] == NULL ? "values"
                                                   : NULL;
        if (argument == NULL)
            continue;
        cs__where where = cs__where_none(fn);
        where.argument = argument;
        where.index = (int64_t)c;
        return cs__fail(CS_E_NULL_ARGUMENT, &where, NULL, "%s[%zu] is NULL",
                        argument, c);
    }
    return CS_OK;
}

cs_status cs__export_extra_check(const char *fn, size_t n_examples,
                                 const char *const *names,
                                 const float *const *values, size_t count,
                                 size_t n, cs__export_extra *extra)
{
    *extra = (cs__export_extra){NULL, NULL, 0};
    if (count == 0)
        return CS_OK;

    cs_status status = check_pointers(fn, names, values, count);
    if (status != CS_OK)
        return status;
    if (n != n_examples) {
        cs__where where = cs__where_none(fn);
        where.argument = "n";
        char value[24];
        snprintf(value, sizeof value, "%zu", n);
        return cs__fail(CS_E_SIZE_MISMATCH, &where, value,
                        "n is %zu, but the tracker has %zu examples; each "
                        "extra array must hold one value per example",
                        n, n_examples);
    }
    for (size_t c = 0; c < count && status == CS_OK; c++)
        status = check_name(fn, names, c);
    if (status != CS_OK)
        return status;

    *extra = (cs__export_extra){names, values, count};
    return CS_OK;
}
