/* Per-epoch progress lines, with a progress bar when stderr is a
 * terminal. */
#ifndef CS_CLI_PROGRESS_H
#define CS_CLI_PROGRESS_H

#include "cscore.h"

#include <stdbool.h>

typedef struct cli_progress {
    int32_t epochs;
    bool terminal;
    double started;
} cli_progress;

void cli_progress_start(cli_progress *p, int32_t epochs);
void cli_progress_epoch(cli_progress *p, const cs_epoch_report *r);
void cli_progress_end(cli_progress *p);

#endif /* CS_CLI_PROGRESS_H */
