/*
 * Proxies files for `cscore correlate` and `cscore bench`: a .npz archive
 * as `cscore train` writes it, or a CSV file with one row per example.
 * Each is read into named per-example columns, plus the ids, labels and
 * flipped flags that alignment and the label-noise analysis need.
 */
#include "cli/proxy_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest CSV header line read, in bytes. */
#define MAX_HEADER_BYTES (1 << 20)

/* ---- names and directions ------------------------------------------- */

/* True for names that are not proxies: alignment and noise metadata. */
static bool is_metadata(const char *name)
{
    static const char *const names[] = {"ids", "id", "labels", "label",
                                        "flipped"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(name, names[k]) == 0)
            return true;
    return false;
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* Length of name without an epoch suffix "_e<digits>". */
static size_t base_length(const char *name)
{
    const size_t length = strlen(name);
    size_t k = length;
    while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9')
        k--;
    if (k < length && k >= 2 && name[k - 1] == 'e' && name[k - 2] == '_')
        return k - 2;
    return length;
}

int cli_proxy_direction_of(const char *name)
{
    const size_t length = base_length(name);
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        const char *known = cs_proxy_name((cs_proxy)p);
        if (strlen(known) == length && strncmp(name, known, length) == 0)
            return cs_proxy_direction((cs_proxy)p);
    }
    /* Kernel density and neighbour agreement rise with regularity. */
    if (starts_with(name, "kde_") || starts_with(name, "knn_"))
        return 1;
    return 0;
}

/* ---- conversions ----------------------------------------------------- */

/* Converts a 1-D integer-valued array to new int64 values. */
static int to_int64(const char *subcommand, const cs_array *array,
                    const char *what, int64_t **out)
{
    *out = malloc((array->count > 0 ? array->count : 1) * sizeof **out);
    double *values = malloc((array->count > 0 ? array->count : 1) *
                            sizeof *values);
    if (*out == NULL || values == NULL) {
        free(*out), free(values);
        *out = NULL;
        return cli_runtime_error(subcommand, "out of memory for %s", what);
    }
    if (array->type == CS_ELEMENT_INT64) {
        memcpy(*out, array->data, array->count * sizeof **out);
        free(values);
        return CLI_EXIT_OK;
    }

    cs_array_to_float64(array, values);
    for (size_t i = 0; i < array->count; i++) {
        if (!(values[i] == floor(values[i]) && fabs(values[i]) < 9e15)) {
            int rc = cli_runtime_error(subcommand,
                                       "%s must hold integers, but row %zu "
                                       "is %g",
                                       what, i, values[i]);
            free(*out), free(values);
            *out = NULL;
            return rc;
        }
        (*out)[i] = (int64_t)values[i];
    }
    free(values);
    return CLI_EXIT_OK;
}

/* Converts 0/1 flags (bool, uint8 or any integer type) to bytes. */
static int to_flags(const char *subcommand, const cs_array *array,
                    const char *what, uint8_t **out)
{
    int64_t *values = NULL;
    int rc = to_int64(subcommand, array, what, &values);
    if (rc != CLI_EXIT_OK)
        return rc;
    *out = malloc(array->count > 0 ? array->count : 1);
    if (*out == NULL)
        rc = cli_runtime_error(subcommand, "out of memory for %s", what);
    for (size_t i = 0; rc == CLI_EXIT_OK && i < array->count; i++) {
        if (values[i] != 0 && values[i] != 1)
            rc = cli_runtime_error(subcommand,
                                   "%s must be 0 or 1 per example, but row "
                                   "%zu is %lld",
                                   what, i, (long long)values[i]);
        else
            (*out)[i] = (uint8_t)values[i];
    }
    free(values);
    if (rc != CLI_EXIT_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int cli_proxy_column_values(const char *subcommand,
                            const cli_proxy_column *column, size_t n,
                            double **values)
{
    *values = malloc((n > 0 ? n : 1) * sizeof **values);
    if (*values == NULL)
        return cli_runtime_error(subcommand, "out of memory for '%s'",
                                 column->name);
    cs_array_to_float64(column->array, *values);

    /* -1 marks "never learned", which comes after every epoch. */
    if (strcmp(column->name, "first_learned") == 0)
        for (size_t i = 0; i < n; i++)
            if ((*values)[i] == -1.0)
                (*values)[i] = INFINITY;
    return CLI_EXIT_OK;
}

/* ---- the table -------------------------------------------------------- */

static int add_column(const char *subcommand, cli_proxy_table *table,
                      const char *name, cs_array *array)
{
    cli_proxy_column *grown = realloc(table->columns,
                                      (table->n_columns + 1) * sizeof *grown);
    char *copy = strdup(name);
    if (grown == NULL || copy == NULL) {
        free(copy);
        if (grown != NULL)
            table->columns = grown;
        return cli_runtime_error(subcommand, "out of memory");
    }
    table->columns = grown;
    table->columns[table->n_columns++] = (cli_proxy_column){copy, array};
    return CLI_EXIT_OK;
}

const cli_proxy_column *cli_proxy_table_find(const cli_proxy_table *table,
                                             const char *name)
{
    for (size_t k = 0; k < table->n_columns; k++)
        if (strcmp(table->columns[k].name, name) == 0)
            return &table->columns[k];
    return NULL;
}

void cli_proxy_table_list(const cli_proxy_table *table, char *buffer,
                          size_t capacity)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t k = 0; k < table->n_columns && used < capacity; k++) {
        int written = snprintf(buffer + used, capacity - used, "%s%s",
                               k > 0 ? ", " : "", table->columns[k].name);
        if (written < 0)
            return;
        used += (size_t)written;
    }
}

void cli_proxy_table_free(cli_proxy_table *table)
{
    if (table == NULL)
        return;
    for (size_t k = 0; k < table->n_columns; k++) {
        free(table->columns[k].name);
        cs_array_free(table->columns[k].array);
    }
    free(table->columns);
    free(table->path);
    free(table->ids);
    free(table->labels);
    free(table->flipped);
    cs_npz_close(table->npz);
    memset(table, 0, sizeof *table);
}

/* Reads ids, labels and flipped from a metadata array. */
static int take_metadata(const char *subcommand, cli_proxy_table *table,
                         const char *name, const cs_array *array)
{
    char what[600];
    snprintf(what, sizeof what, "'%s' of %s", name, table->path);
    if (array->ndim != 1 || array->count != table->n)
        return cli_runtime_error(subcommand,
                                 "%s must be 1-D with %zu entries, one per "
                                 "example",
                                 what, table->n);
    if (strcmp(name, "flipped") == 0)
        return to_flags(subcommand, array, what, &table->flipped);
    if (strcmp(name, "ids") == 0 || strcmp(name, "id") == 0)
        return to_int64(subcommand, array, what, &table->ids);
    return to_int64(subcommand, array, what, &table->labels);
}

/* ---- .npz ---------------------------------------------------------- */

/* Sets table->n from ids, else labels, else the first 1-D member other
 * than the history arrays. */
static int npz_count_examples(const char *subcommand, cli_proxy_table *table)
{
    static const char *const sizing[] = {"ids", "labels"};
    for (size_t k = 0; k < 2; k++) {
        if (cs_npz_contains(table->npz, sizing[k]) != 1)
            continue;
        cs_array *array = NULL;
        if (cs_npz_read(table->npz, sizing[k], &array) != CS_OK)
            return cli_library_error(subcommand);
        table->n = array->count;
        cs_array_free(array);
        return CLI_EXIT_OK;
    }

    for (size_t k = 0; k < cs_npz_count(table->npz); k++) {
        const char *key = cs_npz_key(table->npz, k);
        if (starts_with(key, "hist_"))
            continue;
        cs_array *array = NULL;
        if (cs_npz_read(table->npz, key, &array) != CS_OK)
            return cli_library_error(subcommand);
        const bool vector = array->ndim == 1;
        table->n = array->count;
        cs_array_free(array);
        if (vector)
            return CLI_EXIT_OK;
    }
    return cli_runtime_error(subcommand,
                             "%s has no 1-D array with one value per "
                             "example",
                             table->path);
}

static int npz_read_members(const char *subcommand, cli_proxy_table *table)
{
    int rc = CLI_EXIT_OK;
    for (size_t k = 0; rc == CLI_EXIT_OK && k < cs_npz_count(table->npz);
         k++) {
        const char *key = cs_npz_key(table->npz, k);
        if (starts_with(key, "hist_"))
            continue; /* epochs x N, read on demand */

        cs_array *array = NULL;
        if (cs_npz_read(table->npz, key, &array) != CS_OK)
            return cli_library_error(subcommand);
        if (is_metadata(key)) {
            rc = take_metadata(subcommand, table, key, array);
            cs_array_free(array);
        } else if (array->ndim == 1 && array->count == table->n) {
            rc = add_column(subcommand, table, key, array);
            if (rc != CLI_EXIT_OK)
                cs_array_free(array);
        } else {
            cs_array_free(array); /* a scalar such as a bandwidth */
        }
    }
    return rc;
}

static int open_npz(const char *subcommand, cli_proxy_table *table)
{
    if (cs_npz_open(table->path, &table->npz) != CS_OK)
        return cli_library_error(subcommand);
    int rc = npz_count_examples(subcommand, table);
    if (rc == CLI_EXIT_OK)
        rc = npz_read_members(subcommand, table);
    return rc;
}

/* ---- CSV ----------------------------------------------------------- */

/* Splits an RFC 4180 header line into new strings in *names. */
static int split_header(const char *subcommand, const char *path,
                        const char *line, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    const char *p = line;
    for (;;) {
        char *field = malloc(strlen(p) + 1);
        char **grown = realloc(*names, (*count + 1) * sizeof *grown);
        if (field == NULL || grown == NULL) {
            free(field);
            if (grown != NULL)
                *names = grown;
            return cli_runtime_error(subcommand, "out of memory for %s", path);
        }
        *names = grown;
        (*names)[(*count)++] = field;

        size_t used = 0;
        const bool quoted = *p == '"';
        p += quoted;
        while (*p != '\0' && (quoted || *p != ',')) {
            if (quoted && *p == '"' && p[1] != '"') {
                p++;
                break; /* the closing quote */
            }
            p += quoted && *p == '"'; /* "" stands for one quote */
            field[used++] = *p++;
        }
        field[used] = '\0';
        if (*p != ',')
            return CLI_EXIT_OK;
        p++;
    }
}

/* Reads the first line of a text file into a new string without its line
 * end. */
static int read_first_line(const char *subcommand, const char *path,
                           char **line)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return cli_runtime_error(subcommand, "cannot open %s", path);
    *line = malloc(MAX_HEADER_BYTES);
    if (*line == NULL) {
        fclose(fp);
        return cli_runtime_error(subcommand, "out of memory for %s", path);
    }
    const bool got = fgets(*line, MAX_HEADER_BYTES, fp) != NULL;
    fclose(fp);
    if (!got) {
        free(*line);
        *line = NULL;
        return cli_runtime_error(subcommand,
                                 "%s is empty; a CSV file of "
                                 "proxies needs a header line",
                                 path);
    }
    (*line)[strcspn(*line, "\r\n")] = '\0';
    return CLI_EXIT_OK;
}

/* Moves the columns read from a CSV file into the table. */
static int take_csv_columns(const char *subcommand, cli_proxy_table *table,
                            char **names, size_t count, cs_array **columns)
{
    table->n = columns[0]->count;
    int rc = CLI_EXIT_OK;
    for (size_t k = 0; k < count; k++) {
        if (rc == CLI_EXIT_OK && is_metadata(names[k])) {
            rc = take_metadata(subcommand, table, names[k], columns[k]);
        } else if (rc == CLI_EXIT_OK) {
            rc = add_column(subcommand, table, names[k], columns[k]);
            if (rc == CLI_EXIT_OK)
                columns[k] = NULL;
        }
        cs_array_free(columns[k]);
    }
    return rc;
}

static int open_csv(const char *subcommand, cli_proxy_table *table)
{
    char *line = NULL;
    int rc = read_first_line(subcommand, table->path, &line);
    char **header = NULL;
    size_t n_header = 0;
    if (rc == CLI_EXIT_OK)
        rc = split_header(subcommand, table->path, line, &header, &n_header);
    free(line);

    /* Keep everything but the rank_* columns, which `cscore train` derives
     * from the proxies themselves. */
    size_t n_wanted = 0;
    for (size_t k = 0; k < n_header; k++)
        if (!starts_with(header[k], "rank_"))
            header[n_wanted++] = header[k];
        else
            free(header[k]);
    cs_array **columns = calloc(n_wanted > 0 ? n_wanted : 1, sizeof *columns);
    if (rc == CLI_EXIT_OK && columns == NULL)
        rc = cli_runtime_error(subcommand, "out of memory");
    if (rc == CLI_EXIT_OK &&
        cs_csv_read_columns(table->path, (const char *const *)header, n_wanted,
                            columns) != CS_OK)
        rc = cli_library_error(subcommand);
    if (rc == CLI_EXIT_OK)
        rc = take_csv_columns(subcommand, table, header, n_wanted, columns);

    for (size_t k = 0; k < n_wanted; k++)
        free(header[k]);
    free(header);
    free(columns);
    return rc;
}

/* ---- opening ------------------------------------------------------- */

/* True when the file starts with a zip signature, as every .npz does. */
static bool is_zip_file(const char *path)
{
    unsigned char head[4] = {0};
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return false;
    const size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    return got == 4 && head[0] == 'P' && head[1] == 'K' &&
           ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
}

static bool ends_with(const char *text, const char *suffix)
{
    const size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

int cli_proxy_table_open(const char *subcommand, const char *path,
                         cli_proxy_table *table)
{
    memset(table, 0, sizeof *table);
    table->path = strdup(path);
    if (table->path == NULL)
        return cli_runtime_error(subcommand, "out of memory");

    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        cli_proxy_table_free(table);
        return cli_runtime_error(subcommand,
                                 "cannot open the proxies file %s; give the "
                                 "proxies.npz that `cscore train` wrote, or "
                                 "a CSV file",
                                 path);
    }
    fclose(fp);

    int rc;
    if (is_zip_file(path)) {
        rc = open_npz(subcommand, table);
    } else if (ends_with(path, ".csv")) {
        table->csv = true;
        rc = open_csv(subcommand, table);
    } else {
        rc = cli_runtime_error(subcommand,
                               "%s is neither a .npz archive nor a file "
                               "ending in .csv",
                               path);
    }
    if (rc != CLI_EXIT_OK)
        cli_proxy_table_free(table);
    return rc;
}
