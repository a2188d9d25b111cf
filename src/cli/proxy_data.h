/*
 * Inputs of `cscore correlate` and `cscore bench`. The ground-truth
 * C-scores come from a .npz or .npy file, and the proxies from a
 * proxies.npz of `cscore train` or `cscore proxies` or from a CSV file
 * with one row per example. Alignment matches the two by example id and
 * checks that their labels agree.
 *
 * Every function prints its own error as "cscore SUBCOMMAND: ..." and
 * returns an exit code (CLI_EXIT_OK on success).
 */
#ifndef CS_CLI_PROXY_DATA_H
#define CS_CLI_PROXY_DATA_H

#include "cli/cli.h"

/* Ground-truth scores, one per example in the truth file's order. */
typedef struct cli_truth {
    char *path;
    char *key; /* member of a .npz; NULL for a .npy file */
    size_t n;
    double *values;  /* n scores */
    int64_t *labels; /* n labels from the .npz member `labels`, or NULL */
} cli_truth;

/* Loads truth from "FILE" or "FILE:KEY". When the whole spec names an
 * existing file it is taken as FILE. Without KEY a .npz file gives
 * `scores` if it has it, else `integral`; with neither the error lists
 * the keys. key_override, when not NULL, replaces KEY. */
int cli_truth_load(const char *subcommand, const char *spec,
                   const char *key_override, cli_truth *truth);

void cli_truth_free(cli_truth *truth);

/* One per-example array of a proxies file, in the file's own type. */
typedef struct cli_proxy_column {
    char *name;
    cs_array *array; /* 1-D, n elements */
} cli_proxy_column;

/* A proxies file. Rows are examples in the file's order. */
typedef struct cli_proxy_table {
    char *path;
    bool csv;
    size_t n;
    int64_t *ids;     /* n ids into the truth's order (`ids`/`id`), or NULL */
    int64_t *labels;  /* n labels (`labels`/`label`), or NULL */
    uint8_t *flipped; /* n flags of `flipped`, or NULL */
    cli_proxy_column *columns; /* every other 1-D per-example array */
    size_t n_columns;
    cs_npz *npz; /* the open archive, for the history arrays; or NULL */
} cli_proxy_table;

/* Opens a .npz archive (by its zip signature) or a CSV file (any other
 * file whose name ends in .csv). An .npz's 1-D members of the length of
 * `ids` (or of `labels`, or of the first 1-D member) become columns, except
 * ids, labels, flipped and the 2-D history arrays (hist_*), which stay in
 * the archive. A CSV file's columns are all but id, label, flipped and
 * the rank_* columns that `cscore train` derives from the others. */
int cli_proxy_table_open(const char *subcommand, const char *path,
                         cli_proxy_table *table);

void cli_proxy_table_free(cli_proxy_table *table);

/* Returns the column called name, or NULL. */
const cli_proxy_column *cli_proxy_table_find(const cli_proxy_table *table,
                                             const char *name);

/* Writes the column names as "a, b, c" into buffer. */
void cli_proxy_table_list(const cli_proxy_table *table, char *buffer,
                          size_t capacity);

/* Converts a column to n doubles in the new array *values (free()). For
 * first_learned, -1 (never learned) becomes +infinity, which ranks after
 * every epoch, as the tracker ranks it. */
int cli_proxy_column_values(const char *subcommand,
                            const cli_proxy_column *column, size_t n,
                            double **values);

/* Returns +1 when a higher value of the named proxy marks a more regular
 * example, -1 when a less regular one, and 0 for an unknown name. Known
 * names are the tracker's proxies and the density scores kde_* and knn_*
 * (+1), each also with an epoch suffix "_eN". */
int cli_proxy_direction_of(const char *name);

/* Truth values aligned with the rows of a proxies table. */
typedef struct cli_alignment {
    size_t n;            /* rows of the table */
    double *truth;       /* n truth values, row r's example */
    int64_t *example_id; /* n ids into the truth's order */
} cli_alignment;

/* Aligns by the table's ids when it has them (each must be a distinct
 * index into the truth), else requires equal lengths. When both sides
 * have labels, they must agree on every row except those marked flipped.
 * Otherwise the files are not in the same example order, and it fails
 * naming the first row that differs. */
int cli_align(const char *subcommand, const cli_truth *truth,
              const cli_proxy_table *table, cli_alignment *alignment);

void cli_alignment_free(cli_alignment *alignment);

#endif /* CS_CLI_PROXY_DATA_H */
