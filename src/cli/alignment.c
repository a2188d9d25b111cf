/*
 * Aligning a proxies table with ground-truth scores: row r of the table
 * is example ids[r] of the truth (or example r when the table has no
 * ids), and the labels on both sides must then agree. A disagreement
 * almost always means the two files list the examples in different
 * orders, so the error names the row of the first difference.
 */
#include "cli/proxy_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fills alignment->example_id from the table's ids after checking that
 * each is a distinct index into the truth. */
static int map_by_ids(const char *subcommand, const cli_truth *truth,
                      const cli_proxy_table *table, cli_alignment *alignment)
{
    uint8_t *seen = calloc(truth->n, 1);
    if (seen == NULL)
        return cli_runtime_error(subcommand, "out of memory");

    int rc = CLI_EXIT_OK;
    for (size_t r = 0; r < table->n && rc == CLI_EXIT_OK; r++) {
        const int64_t id = table->ids[r];
        if (id < 0 || (uint64_t)id >= truth->n)
            rc = cli_runtime_error(subcommand,
                                   "row %zu of %s has the example id %lld, "
                                   "but the truth file %s has only %zu "
                                   "examples (ids 0 to %zu). Every row of "
                                   "the proxies must have a truth value, so "
                                   "compute them on the truth's examples "
                                   "only (for Fashion-MNIST, `cscore train "
                                   "--first %zu`), or check that the two "
                                   "files come from the same data set",
                                   r, table->path, (long long)id, truth->path,
                                   truth->n, truth->n - 1, truth->n);
        else if (seen[id])
            rc = cli_runtime_error(subcommand,
                                   "the example id %lld appears twice in %s "
                                   "(again at row %zu); each example must "
                                   "have one row",
                                   (long long)id, table->path, r);
        else
            seen[id] = 1;
        alignment->example_id[r] = id;
    }
    free(seen);
    return rc;
}

static int map_by_position(const char *subcommand, const cli_truth *truth,
                           const cli_proxy_table *table,
                           cli_alignment *alignment)
{
    if (table->n != truth->n)
        return cli_runtime_error(
            subcommand,
            "%s has %zu examples and the truth file %s has %zu, and the "
            "proxies file has no ids to match them by; export the proxies "
            "with ids (proxies.npz of `cscore train` has them) or give both "
            "files the same examples in the same order",
            table->path, table->n, truth->path, truth->n);
    for (size_t r = 0; r < table->n; r++)
        alignment->example_id[r] = (int64_t)r;
    return CLI_EXIT_OK;
}

/* Compares labels row by row, skipping rows marked flipped (their label
 * was changed on purpose). */
static int check_labels(const char *subcommand, const cli_truth *truth,
                        const cli_proxy_table *table,
                        const cli_alignment *alignment)
{
    size_t first = table->n, differing = 0;
    for (size_t r = 0; r < table->n; r++) {
        if (table->flipped != NULL && table->flipped[r])
            continue;
        if (truth->labels[alignment->example_id[r]] != table->labels[r]) {
            differing++;
            if (first == table->n)
                first = r;
        }
    }
    if (differing == 0)
        return CLI_EXIT_OK;

    const int64_t id = alignment->example_id[first];
    return cli_runtime_error(
        subcommand,
        "labels differ first at row %zu of %s (example %lld): the proxies "
        "file has label %lld and the truth file %s has %lld; %zu of %zu "
        "labels differ. The two files are not in the same example order: "
        "the proxies must list the examples in the order of the truth "
        "file, or carry ids into it",
        first, table->path, (long long)id, (long long)table->labels[first],
        truth->path, (long long)truth->labels[id], differing, table->n);
}

int cli_align(const char *subcommand, const cli_truth *truth,
              const cli_proxy_table *table, cli_alignment *alignment)
{
    memset(alignment, 0, sizeof *alignment);
    const size_t n = table->n > 0 ? table->n : 1;
    alignment->n = table->n;
    alignment->truth = malloc(n * sizeof *alignment->truth);
    alignment->example_id = malloc(n * sizeof *alignment->example_id);
    if (alignment->truth == NULL || alignment->example_id == NULL) {
        cli_alignment_free(alignment);
        return cli_runtime_error(subcommand, "out of memory");
    }

    int rc = table->ids != NULL
                 ? map_by_ids(subcommand, truth, table, alignment)
                 : map_by_position(subcommand, truth, table, alignment);
    if (rc == CLI_EXIT_OK && truth->labels != NULL && table->labels != NULL)
        rc = check_labels(subcommand, truth, table, alignment);
    if (rc != CLI_EXIT_OK) {
        cli_alignment_free(alignment);
        return rc;
    }

    for (size_t r = 0; r < table->n; r++)
        alignment->truth[r] = truth->values[alignment->example_id[r]];
    return CLI_EXIT_OK;
}

void cli_alignment_free(cli_alignment *alignment)
{
    if (alignment == NULL)
        return;
    free(alignment->truth);
    free(alignment->example_id);
    memset(alignment, 0, sizeof *alignment);
}
