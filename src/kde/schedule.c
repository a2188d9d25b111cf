/*
 * The order in which the tiles of a symmetric pass (every pair of rows of
 * one set) are evaluated.
 *
 * Rows are cut into B blocks of T rows. Tile (I, J) with I <= J covers
 * the pairs between blocks I and J, so the B (B + 1) / 2 tiles cover every
 * pair once. They are grouped in rounds in which no block appears twice:
 * round 0 contains the B diagonal tiles (I, I), and the B' - 1 rounds
 * after it the other tiles, paired by the circle method that schedules
 * round-robin tournaments. Two tiles of one round never touch the same
 * rows, so they can run at the same time, and each block receives the
 * contributions of its tiles in round order whatever the number of
 * threads.
 *
 * Circle method: with B' = B rounded up to even, keep position B' - 1
 * fixed and rotate the others. Circle round r (from 0) pairs r with B' - 1
 * and (r + k) mod (B' - 1) with (r - k) mod (B' - 1) for k = 1 .. B'/2 - 1.
 * When B is odd, position B' - 1 = B is a dummy block, and its pair is
 * skipped, leaving (B - 1) / 2 tiles per round.
 */
#include "kde/kde_internal.h"

void cs__kde_schedule_init(cs__kde_schedule *schedule, size_t n_rows,
                           size_t tile)
{
    const size_t blocks = (n_rows + tile - 1) / tile;
    const size_t even = blocks + (blocks % 2);

    schedule->n_rows = n_rows;
    schedule->tile = tile;
    schedule->n_blocks = blocks;
    schedule->tiles_per_round = blocks / 2;
    schedule->n_rounds = blocks > 1 ? 1 + (even - 1) : 1;
    schedule->n_items = blocks + blocks * (blocks - 1) / 2;
}

size_t cs__kde_schedule_round_end(const cs__kde_schedule *schedule,
                                  size_t round)
{
    return schedule->n_blocks + round * schedule->tiles_per_round;
}

void cs__kde_schedule_tile(const cs__kde_schedule *schedule, size_t item,
                           size_t *first, size_t *second)
{
    const size_t blocks = schedule->n_blocks;
    if (item < blocks) {
        *first = item;
        *second = item;
        return;
    }

    const size_t even = blocks + (blocks % 2);
    const size_t ring = even - 1; /* positions that rotate */
    const size_t offset = item - blocks;
    const size_t r = offset / schedule->tiles_per_round;
    /* With B odd the pair k = 0 contains the dummy block and is skipped. */
    const size_t k = offset % schedule->tiles_per_round + (blocks % 2);

    size_t a;
    size_t b;
    if (k == 0) {
        a = r;
        b = ring;
    } else {
        a = (r + k) % ring;
        b = (r + ring - k) % ring;
    }
    *first = a < b ? a : b;
    *second = a < b ? b : a;
}

size_t cs__kde_schedule_block_rows(const cs__kde_schedule *schedule,
                                   size_t block)
{
    const size_t first = block * schedule->tile;
    const size_t left = schedule->n_rows - first;
    return left < schedule->tile ? left : schedule->tile;
}
