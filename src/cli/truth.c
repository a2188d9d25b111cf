/*
 * Loading ground-truth C-scores for `cscore correlate` and `cscore bench`
 * from "FILE" or "FILE:KEY": a .npy file holding one 1-D array, or a
 * member of a .npz archive, with the archive's `labels` when it has them.
 */
#include "cli/proxy_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

/* Splits "FILE:KEY" at its last colon, unless the whole spec names a file
 * (a path may contain colons). */
static int split_spec(const char *subcommand, const char *spec, char **path,
                      char **key)
{
    const char *colon = strrchr(spec, ':');
    *key = NULL;
    if (file_exists(spec) || colon == NULL || colon == spec ||
        colon[1] == '\0' || strchr(colon, '/') != NULL) {
        *path = strdup(spec);
    } else {
        *path = strndup(spec, (size_t)(colon - spec));
        *key = strdup(colon + 1);
        if (*key == NULL) {
            free(*path);
            *path = NULL;
        }
    }
    return *path != NULL ? CLI_EXIT_OK
                         : cli_runtime_error(subcommand, "out of memory");
}

/* True when the file starts with numpy's .npy magic string. */
static bool is_npy_file(const char *path)
{
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    unsigned char head[6] = {0};
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return false;
    const size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    return got == sizeof head && memcmp(head, magic, sizeof magic) == 0;
}

/* Converts a 1-D array to a new array of doubles. `what` names it. */
static int to_doubles(const char *subcommand, const cs_array *array,
                      const char *what, double **out)
{
    if (array->ndim != 1)
        return cli_runtime_error(subcommand,
                                 "%s has %d dimensions; it must be a 1-D "
                                 "array with one value per example",
                                 what, (int)array->ndim);
    *out = malloc((array->count > 0 ? array->count : 1) * sizeof **out);
    if (*out == NULL)
        return cli_runtime_error(subcommand, "out of memory for %s", what);
    cs_array_to_float64(array, *out);
    return CLI_EXIT_OK;
}

static int load_npy(const char *subcommand, cli_truth *truth)
{
    if (truth->key != NULL)
        return cli_usage_error(subcommand,
                               "%s is a .npy file, which holds one array; "
                               "remove ':%s' from --truth",
                               truth->path, truth->key);
    cs_array *array = NULL;
    if (cs_npy_read(truth->path, &array) != CS_OK)
        return cli_library_error(subcommand);

    char what[600];
    snprintf(what, sizeof what, "the truth file %s", truth->path);
    int rc = to_doubles(subcommand, array, what, &truth->values);
    truth->n = array->count;
    cs_array_free(array);
    return rc;
}

/* Writes the archive's keys as "a, b, c" into buffer. */
static void list_keys(const cs_npz *npz, char *buffer, size_t capacity)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t k = 0; k < cs_npz_count(npz) && used < capacity; k++) {
        int written = snprintf(buffer + used, capacity - used, "%s%s",
                               k > 0 ? ", " : "", cs_npz_key(npz, k));
        if (written < 0)
            return;
        used += (size_t)written;
    }
}

/* Picks the truth key: the one given, else `scores`, else `integral`. */
static int choose_key(const char *subcommand, const cs_npz *npz,
                      cli_truth *truth)
{
    char keys[400];
    list_keys(npz, keys, sizeof keys);
    if (truth->key != NULL) {
        if (cs_npz_contains(npz, truth->key) == 1)
            return CLI_EXIT_OK;
        return cli_runtime_error(subcommand,
                                 "the truth file %s has no array '%s'; its "
                                 "keys are: %s",
                                 truth->path, truth->key, keys);
    }

    const char *key = cs_npz_contains(npz, "scores") == 1     ? "scores"
                      : cs_npz_contains(npz, "integral") == 1 ? "integral"
                                                              : NULL;
    if (key == NULL)
        return cli_runtime_error(subcommand,
                                 "the truth file %s has neither 'scores' nor "
                                 "'integral'; choose one of its keys with "
                                 "FILE:KEY. Keys: %s",
                                 truth->path, keys);
    truth->key = strdup(key);
    return truth->key != NULL ? CLI_EXIT_OK
                              : cli_runtime_error(subcommand, "out of memory");
}

/* Reads `labels` into truth->labels; a non-integer label is an error. */
static int read_labels(const char *subcommand, cs_npz *npz, cli_truth *truth)
{
    cs_array *array = NULL;
    if (cs_npz_read(npz, "labels", &array) != CS_OK)
        return cli_library_error(subcommand);

    char what[600];
    snprintf(what, sizeof what, "'labels' of %s", truth->path);
    double *values = NULL;
    int rc = to_doubles(subcommand, array, what, &values);
    if (rc == CLI_EXIT_OK && array->count != truth->n)
        rc = cli_runtime_error(subcommand,
                               "%s has %zu entries but '%s' has %zu; they "
                               "must have one entry per example each",
                               what, array->count, truth->key, truth->n);
    cs_array_free(array);

    if (rc == CLI_EXIT_OK)
        truth->labels = malloc((truth->n > 0 ? truth->n : 1) *
                               sizeof *truth->labels);
    if (rc == CLI_EXIT_OK && truth->labels == NULL)
        rc = cli_runtime_error(subcommand, "out of memory for %s", what);
    for (size_t i = 0; rc == CLI_EXIT_OK && i < truth->n; i++) {
        if (values[i] != floor(values[i]) || fabs(values[i]) > 9e15)
            rc = cli_runtime_error(subcommand,
                                   "%s has the non-integer value %g at "
                                   "index %zu",
                                   what, values[i], i);
        else
            truth->labels[i] = (int64_t)values[i];
    }
    free(values);
    return rc;
}

static int load_npz(const char *subcommand, cli_truth *truth)
{
    cs_npz *npz = NULL;
    if (cs_npz_open(truth->path, &npz) != CS_OK)
        return cli_library_error(subcommand);

    int rc = choose_key(subcommand, npz, truth);
    cs_array *array = NULL;
    if (rc == CLI_EXIT_OK && cs_npz_read(npz, truth->key, &array) != CS_OK)
        rc = cli_library_error(subcommand);
    if (rc == CLI_EXIT_OK) {
        char what[600];
        snprintf(what, sizeof what, "'%s' of %s", truth->key, truth->path);
        rc = to_doubles(subcommand, array, what, &truth->values);
        truth->n = array->count;
    }
    cs_array_free(array);

    if (rc == CLI_EXIT_OK && strcmp(truth->key, "labels") != 0 &&
        cs_npz_contains(npz, "labels") == 1)
        rc = read_labels(subcommand, npz, truth);
    cs_npz_close(npz);
    return rc;
}

int cli_truth_load(const char *subcommand, const char *spec,
                   const char *key_override, cli_truth *truth)
{
    memset(truth, 0, sizeof *truth);
    int rc = split_spec(subcommand, spec, &truth->path, &truth->key);
    if (rc == CLI_EXIT_OK && key_override != NULL) {
        free(truth->key);
        truth->key = strdup(key_override);
        if (truth->key == NULL)
            rc = cli_runtime_error(subcommand, "out of memory");
    }
    if (rc == CLI_EXIT_OK && !file_exists(truth->path))
        rc = cli_runtime_error(subcommand,
                               "the truth file %s does not exist; give the "
                               "path of a .npz or .npy file of C-scores",
                               truth->path);
    if (rc == CLI_EXIT_OK)
        rc = is_npy_file(truth->path) ? load_npy(subcommand, truth)
                                      : load_npz(subcommand, truth);
    if (rc == CLI_EXIT_OK && truth->n == 0)
        rc = cli_runtime_error(subcommand, "the truth array in %s is empty",
                               truth->path);
    if (rc != CLI_EXIT_OK)
        cli_truth_free(truth);
    return rc;
}

void cli_truth_free(cli_truth *truth)
{
    if (truth == NULL)
        return;
    free(truth->path);
    free(truth->key);
    free(truth->values);
    free(truth->labels);
    memset(truth, 0, sizeof *truth);
}
