/*
 * The counts of an estimate: per ratio and example, how many counted runs
 * held the example out and how many of those predicted it correctly, with
 * a bit per run index so that a run found twice counts once. Record files
 * are counted into a staged set first and committed whole, so that a file
 * that fails halfway leaves the estimate unchanged.
 */
#include "holdout/holdout_internal.h"

#include <string.h>

cs__tally *cs__tally_get(cs__tallies *tallies, int32_t ratio)
{
    if (tallies->ratio[ratio] != NULL)
        return tallies->ratio[ratio];

    cs__tally *tally = cs__calloc(1, sizeof *tally);
    if (tally == NULL)
        return NULL;
    tally->heldout = cs__calloc(tallies->n, sizeof *tally->heldout);
    tally->correct = cs__calloc(tallies->n, sizeof *tally->correct);
    if (tally->heldout == NULL || tally->correct == NULL) {
        cs__free(tally->heldout);
        cs__free(tally->correct);
        cs__free(tally);
        return NULL;
    }
    tallies->ratio[ratio] = tally;
    return tally;
}

bool cs__tally_has_run(const cs__tally *tally, int32_t run)
{
    if (tally == NULL || run < 0)
        return false;
    const size_t byte = (size_t)run >> 3;
    return byte < tally->done_bytes && cs__bit_get(tally->done, (size_t)run);
}

/* Grows the done bits to at least bytes, doubling so that counting runs
 * one by one reallocates O(log runs) times. */
static bool grow_done(cs__tally *tally, size_t bytes)
{
    if (bytes <= tally->done_bytes)
        return true;

    size_t capacity = tally->done_bytes < 16 ? 16 : tally->done_bytes;
    while (capacity < bytes)
        capacity *= 2;
    uint8_t *done = cs__realloc(tally->done, capacity);
    if (done == NULL)
        return false;
    memset(done + tally->done_bytes, 0, capacity - tally->done_bytes);
    tally->done = done;
    tally->done_bytes = capacity;
    return true;
}

bool cs__tally_reserve(cs__tally *tally, int32_t run)
{
    return grow_done(tally, ((size_t)run >> 3) + 1);
}

void cs__tally_add_run(cs__tally *tally, int32_t run, const uint8_t *mask,
                       const uint8_t *correct, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        if (cs__bit_get(mask, j))
            continue;
        tally->heldout[j]++;
        if (cs__bit_get(correct, j))
            tally->correct[j]++;
    }
    cs__bit_set(tally->done, (size_t)run);
    tally->runs++;
}

/* Creates every tally that staged needs in tallies, with room for its done
 * bits. Tallies created here hold no runs, so a later failure leaves the
 * results as they were. */
static bool prepare_commit(cs__tallies *tallies, const cs__tallies *staged)
{
    for (int32_t r = 1; r < CS__RATIO_SLOTS; r++) {
        const cs__tally *from = staged->ratio[r];
        if (from == NULL || from->runs == 0)
            continue;
        cs__tally *to = cs__tally_get(tallies, r);
        if (to == NULL || !grow_done(to, from->done_bytes))
            return false;
    }
    return true;
}

bool cs__tallies_commit(cs__tallies *tallies, const cs__tallies *staged)
{
    if (!prepare_commit(tallies, staged))
        return false;

    for (int32_t r = 1; r < CS__RATIO_SLOTS; r++) {
        const cs__tally *from = staged->ratio[r];
        if (from == NULL || from->runs == 0)
            continue;
        cs__tally *to = tallies->ratio[r];
        for (size_t j = 0; j < tallies->n; j++) {
            to->heldout[j] += from->heldout[j];
            to->correct[j] += from->correct[j];
        }
        for (size_t b = 0; b < from->done_bytes; b++)
            to->done[b] |= from->done[b];
        to->runs += from->runs;
    }
    return true;
}

void cs__tallies_clear(cs__tallies *tallies)
{
    for (int32_t r = 0; r < CS__RATIO_SLOTS; r++) {
        cs__tally *tally = tallies->ratio[r];
        if (tally == NULL)
            continue;
        cs__free(tally->heldout);
        cs__free(tally->correct);
        cs__free(tally->done);
        cs__free(tally);
        tallies->ratio[r] = NULL;
    }
}
