/* Output folders and exports shared by the subcommands. */
#ifndef CS_CLI_OUTPUT_H
#define CS_CLI_OUTPUT_H

#include "cli/cli.h"

/* Creates folder and its missing parents; returns an exit code. */
int cli_make_folder(const char *subcommand, const char *path);

/* Writes folder/name into out. */
void cli_join(char *out, size_t capacity, const char *folder,
              const char *name);

/* Writes proxies.csv, proxies.npz and labels.npy into folder. */
int cli_write_exports(const char *subcommand, const cs_tracker *tracker,
                      const char *folder);

/* Per-example float32 columns that the program adds to the exports. */
typedef struct cli_extra_columns {
    const char *const *names;
    const float *const *values; /* each N floats */
    size_t count;
} cli_extra_columns;

/* cli_write_exports() with the extra columns appended to proxies.csv and
 * proxies.npz. */
int cli_write_exports_extra(const char *subcommand, const cs_tracker *tracker,
                            const char *folder,
                            const cli_extra_columns *extra);

/* Prints, per class, the ids of the per_class least regular examples by
 * CBTL, ties broken by lower mean p_L. */
int cli_print_least_regular(const char *subcommand, const cs_tracker *tracker,
                            int per_class);

#endif /* CS_CLI_OUTPUT_H */
