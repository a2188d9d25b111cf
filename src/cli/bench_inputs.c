/*
 * Checks of a bench configuration against the files it names: that they
 * exist, and that every proxy named in `keys` and `proxies` is an array of
 * a proxies file. Each error points at the line and column of the value
 * to fix.
 */
#include "cli/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int bench_config_error(void)
{
    const cs_error_info *e = cs_last_error();
    const char *message = e->message;

    /* The record's message leads with the internal function's name, which
     * means nothing to the person who wrote the file. */
    const size_t skip = strlen(e->function);
    if (skip > 0 && strncmp(message, e->function, skip) == 0 &&
        strncmp(message + skip, ": ", 2) == 0)
        message += skip + 2;
    fprintf(stderr, "cscore bench: %s\n", message);
    return CLI_EXIT_RUNTIME;
}

bool bench_file_exists(const char *path)
{
    struct stat info;
    return path != NULL && stat(path, &info) == 0;
}

static int check_file(const cs__bench_config *config,
                      const cs__bench_text *path, const char *what)
{
    if (path->text == NULL || bench_file_exists(path->text))
        return CLI_EXIT_OK;
    cs__bench_config_reject(config, path,
                            "the %s %s does not exist; fix the path (a "
                            "relative path starts at the folder of this "
                            "file), or mark the entry 'optional: true'",
                            what, path->text);
    return bench_config_error();
}

/* Checks a proxies file; an optional one that is missing is skipped with
 * a note. */
static int check_source(const cs__bench_config *config,
                        const cs__bench_source *source, const char *what)
{
    if (!source->optional || bench_file_exists(source->path.text))
        return check_file(config, &source->path, what);
    printf("Skipped: the optional %s '%s' (%s) does not exist\n", what,
           source->name.text, source->path.text);
    return CLI_EXIT_OK;
}

int bench_check_files(const cs__bench_config *config)
{
    int rc = check_file(config, &config->truth_path, "truth file");
    for (size_t k = 0; k < config->n_sources && rc == CLI_EXIT_OK; k++)
        rc = check_source(config, &config->sources[k], "proxy file");
    if (rc == CLI_EXIT_OK && config->has_label_noise)
        rc = check_source(config, &config->label_noise, "label-noise file");
    if (rc == CLI_EXIT_OK && config->has_figures)
        rc = check_file(config, &config->images, "image file");
    return rc;
}

/* Rejects a name that is not a column of the table, or with in_any set,
 * of any table (the message then lists the first table's columns). */
static int reject_name(const cs__bench_config *config,
                       const cs__bench_text *name,
                       const cli_proxy_table *table, bool in_any)
{
    char names[1000];
    cli_proxy_table_list(table, names, sizeof names);
    cs__bench_config_reject(config, name,
                            "unknown proxy '%s': %s has no per-example "
                            "array of that name. The proxies of %s are: %s",
                            name->text, in_any ? "no proxy file" : table->path,
                            table->path, names);
    return bench_config_error();
}

int bench_choose_columns(const cs__bench_config *config,
                         const cs__bench_source *source,
                         const cli_proxy_table *table,
                         const cli_proxy_column ***columns, size_t *count)
{
    *count = 0;
    *columns = calloc(table->n_columns + 1, sizeof **columns);
    if (*columns == NULL)
        return cli_runtime_error("bench", "out of memory");

    if (source->keys != NULL) {
        for (size_t k = 0; k < source->n_keys; k++) {
            const cli_proxy_column
                *c = cli_proxy_table_find(table, source->keys[k].text);
            if (c == NULL)
                return reject_name(config, &source->keys[k], table, false);
            if (*count < table->n_columns)
                (*columns)[(*count)++] = c;
        }
        return CLI_EXIT_OK;
    }
    if (config->proxies != NULL) {
        for (size_t k = 0; k < config->n_proxies; k++) {
            const cli_proxy_column
                *c = cli_proxy_table_find(table, config->proxies[k].text);
            if (c != NULL && *count < table->n_columns)
                (*columns)[(*count)++] = c;
        }
        return CLI_EXIT_OK;
    }
    for (size_t k = 0; k < table->n_columns; k++)
        (*columns)[(*count)++] = &table->columns[k];
    return CLI_EXIT_OK;
}

int bench_check_proxy_names(const cs__bench_config *config,
                            const cli_proxy_table *tables, size_t n_tables)
{
    /* Skipped optional files are zeroed tables without a path. */
    const cli_proxy_table *first_open = NULL;
    bool skipped = false;
    for (size_t t = 0; t < n_tables; t++) {
        skipped |= tables[t].path == NULL;
        if (first_open == NULL && tables[t].path != NULL)
            first_open = &tables[t];
    }

    for (size_t k = 0; k < config->n_proxies; k++) {
        bool found = false;
        for (size_t t = 0; t < n_tables && !found; t++)
            found = cli_proxy_table_find(&tables[t],
                                         config->proxies[k].text) != NULL;
        if (found)
            continue;
        if (skipped || first_open == NULL) {
            printf("Note: no proxy file present has the proxy '%s' (line "
                   "%lld); it may be in a skipped optional file\n",
                   config->proxies[k].text,
                   (long long)config->proxies[k].line);
            continue;
        }
        return reject_name(config, &config->proxies[k], first_open, true);
    }
    return CLI_EXIT_OK;
}
