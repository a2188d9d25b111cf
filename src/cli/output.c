/*
 * Output folder handling and the exports shared by `train` and `proxies`:
 * proxies.csv, proxies.npz and labels.npy, plus the per-class summary of
 * the least regular examples.
 */
#include "cli/output.h"

#include "io/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_make_folder(const char *subcommand, const char *path)
{
    char buffer[4096];
    if (strlen(path) >= sizeof buffer)
        return cli_usage_error(subcommand, "the path '%s' is too long", path);
    strcpy(buffer, path);

    /* Create each missing parent in turn, as `mkdir -p` does. */
    for (char *p = buffer + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buffer, 0777) != 0 && errno != EEXIST)
            return cli_runtime_error(subcommand, "cannot create folder %s: %s",
                                     buffer, strerror(errno));
        *p = '/';
    }
    if (mkdir(buffer, 0777) != 0 && errno != EEXIST)
        return cli_runtime_error(subcommand, "cannot create folder %s: %s",
                                 buffer, strerror(errno));

    struct stat info;
    if (stat(buffer, &info) != 0 || !S_ISDIR(info.st_mode))
        return cli_runtime_error(subcommand, "%s exists and is not a folder",
                                 buffer);
    return CLI_EXIT_OK;
}

void cli_join(char *out, size_t capacity, const char *folder,
              const char *name)
{
    snprintf(out, capacity, "%s/%s", folder, name);
}

int cli_write_exports(const char *subcommand, const cs_tracker *tracker,
                      const char *folder)
{
    const cli_extra_columns none = {NULL, NULL, 0};
    return cli_write_exports_extra(subcommand, tracker, folder, &none);
}

int cli_write_exports_extra(const char *subcommand, const cs_tracker *tracker,
                            const char *folder,
                            const cli_extra_columns *extra)
{
    cs_tracker_options o;
    cs_tracker_options_init(&o);
    cs_tracker_get_options(tracker, &o);
    const size_t n = (size_t)o.n_examples;

    char path[4096];
    cli_join(path, sizeof path, folder, "proxies.csv");
    if (cs_tracker_export_csv_extra(tracker, path, extra->names,
                                    extra->values, extra->count,
                                    n) != CS_OK)
        return cli_library_error(subcommand);

    cli_join(path, sizeof path, folder, "proxies.npz");
    if (cs_tracker_export_npz_extra(tracker, path, extra->names,
                                    extra->values, extra->count,
                                    n) != CS_OK)
        return cli_library_error(subcommand);

    int32_t *labels = malloc(n * sizeof *labels);
    if (labels == NULL)
        return cli_runtime_error(subcommand, "out of memory");
    cs_tracker_labels(tracker, labels, n);

    cli_join(path, sizeof path, folder, "labels.npy");
    const int64_t shape[1] = {(int64_t)n};
    cs_status st = cs__npy_write_file(path, CS__DTYPE_I32, shape, 1, labels,
                                      "cscore");
    free(labels);
    if (st != CS_OK)
        return cli_library_error(subcommand);
    return CLI_EXIT_OK;
}

/* One candidate for the summary: lower cbtl first, then lower mean p_L,
 * then lower id. */
typedef struct candidate {
    int32_t cbtl;
    float p_l_mean;
    int64_t id;
} candidate;

static int compare_candidates(const void *a, const void *b)
{
    const candidate *x = a;
    const candidate *y = b;
    if (x->cbtl != y->cbtl)
        return x->cbtl < y->cbtl ? -1 : 1;
    if (x->p_l_mean != y->p_l_mean)
        return x->p_l_mean < y->p_l_mean ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int cli_print_least_regular(const char *subcommand, const cs_tracker *tracker,
                            int per_class)
{
    cs_tracker_options o;
    cs_tracker_options_init(&o);
    cs_tracker_get_options(tracker, &o);
    const size_t n = (size_t)o.n_examples;

    int32_t *cbtl = malloc(n * sizeof *cbtl);
    int32_t *labels = malloc(n * sizeof *labels);
    float *p_l = malloc(n * sizeof *p_l);
    candidate *all = malloc(n * sizeof *all);
    if (!cbtl || !labels || !p_l || !all) {
        free(cbtl), free(labels), free(p_l), free(all);
        return cli_runtime_error(subcommand, "out of memory");
    }
    cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, n);
    cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_MEAN, p_l, n);
    cs_tracker_labels(tracker, labels, n);

    printf("Least regular examples by CBTL (ties by mean p_L), %d per "
           "class:\n",
           per_class);
    for (int32_t c = 0; c < o.n_classes; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (labels[i] == c)
                all[m++] = (candidate){cbtl[i], p_l[i], (int64_t)i};
        if (m == 0)
            continue;
        qsort(all, m, sizeof *all, compare_candidates);
        printf("  class %d:", (int)c);
        for (size_t k = 0; k < m && k < (size_t)per_class; k++)
            printf(" %lld", (long long)all[k].id);
        printf("\n");
    }
    free(cbtl), free(labels), free(p_l), free(all);
    return CLI_EXIT_OK;
}
