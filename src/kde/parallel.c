/*
 * The worker pool of the kernel density module and the OpenBLAS thread
 * setting around it.
 *
 * Work comes as numbered items grouped in rounds. Workers take items in
 * increasing order, and an item waits until every item of the earlier
 * rounds has finished. The symmetric sums use rounds so that two items
 * running at the same time never add to the same rows, which keeps the
 * order of every floating-point sum independent of the thread count.
 */
#include "kde/kde_internal.h"

#include <cblas.h>
#include <pthread.h>
#include <unistd.h>

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t round_done; /* signalled when `finished` grows */
    size_t next_item;          /* next item to hand out */
    size_t finished;           /* items completed */
    size_t n_items;
    const size_t *round_end;
    size_t n_rounds;
    cs__kde_task task;
    void *context;
} pool;

typedef struct worker {
    pool *pool;
    size_t index;
} worker;

/* Returns the first item of the round that contains item, advancing *round
 * from where this worker last was (its items only increase). */
static size_t round_start(const pool *p, size_t item, size_t *round)
{
    if (p->round_end == NULL)
        return 0;
    while (*round < p->n_rounds && p->round_end[*round] <= item)
        (*round)++;
    return *round == 0 ? 0 : p->round_end[*round - 1];
}

static void *work(void *argument)
{
    const worker *w = argument;
    pool *p = w->pool;
    size_t round = 0;

    pthread_mutex_lock(&p->lock);
    while (p->next_item < p->n_items) {
        const size_t item = p->next_item++;
        const size_t start = round_start(p, item, &round);
        while (p->finished < start)
            pthread_cond_wait(&p->round_done, &p->lock);
        pthread_mutex_unlock(&p->lock);

        p->task(p->context, w->index, item);

        pthread_mutex_lock(&p->lock);
        p->finished++;
        pthread_cond_broadcast(&p->round_done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Runs every item on the calling thread, in order. */
static void run_serially(size_t n_items, cs__kde_task task, void *context)
{
    for (size_t item = 0; item < n_items; item++)
        task(context, 0, item);
}

void cs__kde_run(size_t threads, size_t n_items, const size_t *round_end,
                 size_t n_rounds, cs__kde_task task, void *context)
{
    if (threads > n_items)
        threads = n_items;
    if (threads > CS_KDE_MAX_THREADS)
        threads = CS_KDE_MAX_THREADS;
    if (threads <= 1) {
        run_serially(n_items, task, context);
        return;
    }

    pool p = {
        .next_item = 0,
        .finished = 0,
        .n_items = n_items,
        .round_end = round_end,
        .n_rounds = n_rounds,
        .task = task,
        .context = context,
    };
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.round_done, NULL);

    /* Handles and worker records for the largest thread count take 24 KiB
     * of stack. */
    pthread_t handles[CS_KDE_MAX_THREADS];
    worker workers[CS_KDE_MAX_THREADS];
    size_t started = 0;
    for (size_t t = 1; t < threads; t++) {
        workers[t] = (worker){&p, t};
        /* A thread that cannot start leaves its items to the others. */
        if (pthread_create(&handles[started], NULL, work, &workers[t]) != 0)
            break;
        started++;
    }

    workers[0] = (worker){&p, 0};
    work(&workers[0]);

    for (size_t t = 0; t < started; t++)
        pthread_join(handles[t], NULL);
    pthread_cond_destroy(&p.round_done);
    pthread_mutex_destroy(&p.lock);
}

cs__kde_blas_state cs__kde_blas_threads_begin(size_t threads)
{
    const int count = threads > (size_t)CS_KDE_MAX_THREADS
                          ? CS_KDE_MAX_THREADS
                          : (int)threads;
    cs__kde_blas_state state = {openblas_get_num_threads(), false};
    if (state.previous != count) {
        openblas_set_num_threads(count);
        state.changed = true;
    }
    return state;
}

cs__kde_blas_state cs__kde_blas_single_begin(void)
{
    return cs__kde_blas_threads_begin(1);
}

void cs__kde_blas_single_end(cs__kde_blas_state state)
{
    if (state.changed)
        openblas_set_num_threads(state.previous);
}

size_t cs__kde_online_cpus(void)
{
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        return 1;
    if (cpus > CS_KDE_MAX_THREADS)
        return CS_KDE_MAX_THREADS;
    return (size_t)cpus;
}
