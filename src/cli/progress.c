/*
 * Progress output of long-running subcommands. Each epoch prints one line
 * to stderr; on a terminal a bar with the estimated time left is redrawn
 * below the lines.
 */
#include "cli/progress.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void draw_bar(const cli_progress *p, int32_t done)
{
    const double elapsed = now_seconds() - p->started;
    const int filled = p->epochs > 0 ? BAR_WIDTH * done / p->epochs : 0;
    char bar[BAR_WIDTH + 1];
    for (int k = 0; k < BAR_WIDTH; k++)
        bar[k] = k < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';

    fprintf(stderr, "\r[%s] %d/%d epochs, %.0f s", bar, (int)done,
            (int)p->epochs, elapsed);
    if (done > 0 && done < p->epochs)
        fprintf(stderr, ", about %.0f s left",
                elapsed / done * (p->epochs - done));
    fflush(stderr);
}

static void clear_bar(const cli_progress *p)
{
    if (p->terminal)
        fputs("\r\033[K", stderr);
}

void cli_progress_start(cli_progress *p, int32_t epochs)
{
    p->epochs = epochs;
    p->terminal = isatty(fileno(stderr)) != 0;
    p->started = now_seconds();
    if (p->terminal)
        draw_bar(p, 0);
}

static void print_accuracy(const char *name, double value)
{
    if (isnan(value))
        fprintf(stderr, "  %s    -  ", name);
    else
        fprintf(stderr, "  %s %.4f", name, value);
}

void cli_progress_epoch(cli_progress *p, const cs_epoch_report *r)
{
    clear_bar(p);
    fprintf(stderr, "epoch %3d/%d  loss %.4f", (int)r->epoch, (int)r->epochs,
            r->train_loss);
    print_accuracy("train acc", r->train_accuracy);
    print_accuracy("test acc", r->test_accuracy);
    fprintf(stderr, "  %.1f s (train %.1f s, eval %.1f s)\n",
            r->train_seconds + r->eval_seconds, r->train_seconds,
            r->eval_seconds);
    if (p->terminal)
        draw_bar(p, r->epoch);
}

void cli_progress_end(cli_progress *p)
{
    clear_bar(p);
    fflush(stderr);
}
