/*
 * The estimator loop: worker threads take the plan's runs that are not
 * counted yet, draw each run's subset, call the trainer, and then, one at
 * a time under the handle's lock, append the run's record, count it and
 * report progress. A failure stops the hand-out of new runs; runs already
 * training still finish and are kept.
 */
#include "holdout/holdout_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RUN_FN "cs_holdout_run"

#define TRAINER_MIN_SIZE                                                      \
    (offsetof(cs_holdout_trainer, user_data) + sizeof(void *))

/* Where a failure came from, which decides how its message is passed on
 * to the caller's thread. */
typedef enum failure_kind {
    FAILURE_NONE = 0,
    FAILURE_TRAINER,  /* trainer->train returned an error */
    FAILURE_PROGRESS, /* the progress callback returned an error */
    FAILURE_ESTIMATOR /* the estimator's own work, e.g. appending */
} failure_kind;

/* State shared by the workers of one cs_holdout_run() call. Fields below
 * `lock` change only while holding holdout->lock. */
typedef struct run_state {
    cs_holdout *holdout;
    cs_holdout_trainer trainer;
    cs_holdout_progress_fn progress;
    void *progress_data;
    size_t record_size;
    int64_t call_total; /* runs to do when the call started */

    /* Under holdout->lock: */
    int32_t next_run;   /* cursor over the plan: run index ... */
    int32_t next_ratio; /* ... and index into options.ratios */
    bool stop;
    int64_t runs_done; /* counted runs of the plan */
    int64_t call_done; /* runs finished by this call */
    failure_kind failure;
    cs_status failure_status;
    cs_error_info failure_info;
    int32_t failed_ratio;
    int32_t failed_run;
} run_state;

/* One worker's buffers. */
typedef struct worker {
    run_state *state;
    int32_t index;
    size_t *shuffle;    /* N: partial Fisher-Yates workspace */
    uint8_t *in_subset; /* N: 1 for trained-on examples */
    int64_t *indices;   /* largest subset of the plan */
    int32_t *predicted; /* N */
    uint8_t *mask_bits; /* ceil(N / 8) */
    uint8_t *correct_bits;
    uint8_t *record; /* record_size */
} worker;

/* A finished run on its way to the counts. */
typedef struct finished_run {
    int32_t ratio;
    int32_t run;
    uint64_t seed;
    double test_accuracy;
    double heldout_accuracy;
    double train_seconds;
    double started;          /* monotonic clock at the start */
    double trainer_returned; /* monotonic clock after the trainer */
} finished_run;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Returns whether (ratio, run) is still to do in this call. */
static bool needs_run(const cs_holdout *holdout, int32_t ratio, int32_t run)
{
    return cs__holdout_in_plan(holdout, ratio, run) &&
           !cs__tally_has_run(holdout->tallies.ratio[ratio], run);
}

/* Counts the runs still to do. */
static int64_t count_pending(const cs_holdout *holdout)
{
    const cs_holdout_options *o = &holdout->options;
    int64_t pending = 0;
    for (int32_t run = 0; run < o->runs; run++)
        for (int32_t k = 0; k < o->n_ratios; k++)
            pending += needs_run(holdout, o->ratios[k], run);
    return pending;
}

/* Hands out the next run, by run index and then in the order of
 * options.ratios. Call with the lock held. Returns false when none is
 * left or the estimator is stopping. */
static bool take_run(run_state *s, int32_t *ratio, int32_t *run)
{
    const cs_holdout_options *o = &s->holdout->options;
    while (!s->stop && s->next_run < o->runs) {
        const int32_t r = o->ratios[s->next_ratio];
        const int32_t j = s->next_run;
        if (++s->next_ratio == o->n_ratios) {
            s->next_ratio = 0;
            s->next_run++;
        }
        if (needs_run(s->holdout, r, j)) {
            *ratio = r;
            *run = j;
            return true;
        }
    }
    return false;
}

/* Keeps the first failure, with this thread's last-error record, and
 * stops the hand-out. Call with the lock held. */
static void note_failure(run_state *s, failure_kind kind, cs_status status,
                         int32_t ratio, int32_t run)
{
    s->stop = true;
    if (s->failure != FAILURE_NONE)
        return;
    s->failure = kind;
    s->failure_status = status;
    s->failure_info = *cs_last_error();
    s->failed_ratio = ratio;
    s->failed_run = run;
}

/* Sets the mask and correctness bits and returns the accuracy on the
 * held-out examples. */
static double fill_bits(worker *w)
{
    const cs_holdout *h = w->state->holdout;
    const size_t bytes = cs__bit_bytes(h->n);
    memset(w->mask_bits, 0, bytes);
    memset(w->correct_bits, 0, bytes);

    size_t heldout = 0, heldout_correct = 0;
    for (size_t j = 0; j < h->n; j++) {
        const bool correct = w->predicted[j] == h->labels[j];
        if (w->in_subset[j]) {
            cs__bit_set(w->mask_bits, j);
        } else {
            heldout++;
            heldout_correct += correct;
        }
        if (correct)
            cs__bit_set(w->correct_bits, j);
    }
    return (double)heldout_correct / (double)heldout;
}

static cs_status report_progress(run_state *s, const finished_run *f)
{
    const cs_holdout_progress progress = {
        .struct_size = sizeof progress,
        .ratio = f->ratio,
        .run = f->run,
        .seed = f->seed,
        .runs_done = s->runs_done,
        .runs_planned = s->holdout->summary.runs_planned,
        .call_runs_done = s->call_done,
        .call_runs_total = s->call_total,
        .heldout_accuracy = f->heldout_accuracy,
        .test_accuracy = f->test_accuracy,
        .train_seconds = f->train_seconds,
    };
    return s->progress(&progress, s->progress_data);
}

/* Appends, counts and reports one finished run. Call with the lock held. */
static cs_status keep_run(worker *w, const finished_run *f)
{
    run_state *s = w->state;
    cs_holdout *h = s->holdout;

    if (h->records != NULL) {
        const cs_status status = cs__records_append(RUN_FN, h->records,
                                                    w->record, s->record_size);
        if (status != CS_OK) {
            note_failure(s, FAILURE_ESTIMATOR, status, f->ratio, f->run);
            return status;
        }
    }

    /* The done bit of every planned run was reserved at creation. */
    cs__tally_add_run(h->tallies.ratio[f->ratio], f->run, w->mask_bits,
                      w->correct_bits, h->n);
    s->runs_done++;
    s->call_done++;
    h->summary.train_seconds += f->train_seconds;
    h->summary.overhead_seconds += (f->trainer_returned - f->started -
                                    f->train_seconds) +
                                   (now_seconds() - f->trainer_returned);

    /* After a failure, runs that finish are kept but not reported, so a
     * progress callback that asked to stop is not called again. */
    if (s->progress == NULL || s->stop)
        return CS_OK;
    const cs_status status = report_progress(s, f);
    if (status != CS_OK)
        note_failure(s, FAILURE_PROGRESS, status, f->ratio, f->run);
    return status;
}

/* Calls the trainer. Its failure is noted with the message it recorded,
 * if any: the thread's last-error record is marked beforehand, so that a
 * stale record from an earlier failure is not taken for the trainer's.
 * After a success the record is put back as it was, because on worker 0
 * it is the caller's. cs_last_error() points at this thread's record,
 * which is writable; it is only exposed as const. */
static cs_status call_trainer(run_state *s, const cs_holdout_run_info *info,
                              int32_t *predicted, double *test_accuracy)
{
    cs_error_info *record = (cs_error_info *)cs_last_error();
    const cs_error_info saved = *record;
    record->status = CS_OK;

    const cs_status status = s->trainer.train(info, predicted, test_accuracy,
                                              s->trainer.user_data);
    if (status == CS_OK) {
        *record = saved;
        return CS_OK;
    }
    pthread_mutex_lock(&s->holdout->lock);
    note_failure(s, FAILURE_TRAINER, status, info->ratio, info->run);
    pthread_mutex_unlock(&s->holdout->lock);
    return status;
}

/* Trains, records and counts run `run` of `ratio`. */
static cs_status do_run(worker *w, int32_t ratio, int32_t run)
{
    run_state *s = w->state;
    cs_holdout *h = s->holdout;
    finished_run f = {.ratio = ratio, .run = run, .started = now_seconds()};

    f.seed = cs_holdout_run_seed(h->master_seed, ratio, run);
    const size_t n_train = cs_holdout_subset_size(h->n, ratio);
    cs__holdout_draw(f.seed, h->n, n_train, w->shuffle, w->in_subset,
                     w->indices);

    const cs_holdout_run_info info = {
        .struct_size = sizeof info,
        .ratio = ratio,
        .run = run,
        .seed = f.seed,
        .train_indices = w->indices,
        .n_train = n_train,
        .n_examples = h->n,
        .worker = w->index,
    };
    f.test_accuracy = NAN;
    const double train_start = now_seconds();
    cs_status status = call_trainer(s, &info, w->predicted, &f.test_accuracy);
    f.trainer_returned = now_seconds();
    f.train_seconds = f.trainer_returned - train_start;
    if (status != CS_OK)
        return status;

    f.heldout_accuracy = fill_bits(w);
    const cs__run_record record = {
        .ratio = ratio,
        .run = run,
        .seed = f.seed,
        .test_accuracy = f.test_accuracy,
        .seconds = f.train_seconds,
        .mask = w->mask_bits,
        .correct = w->correct_bits,
    };
    cs__record_encode(&record, h->n, w->record);

    pthread_mutex_lock(&h->lock);
    status = keep_run(w, &f);
    pthread_mutex_unlock(&h->lock);
    return status;
}

static void *work(void *argument)
{
    worker *w = argument;
    cs_holdout *h = w->state->holdout;
    for (;;) {
        int32_t ratio = 0, run = 0;
        pthread_mutex_lock(&h->lock);
        const bool found = take_run(w->state, &ratio, &run);
        pthread_mutex_unlock(&h->lock);
        if (!found || do_run(w, ratio, run) != CS_OK)
            break;
    }
    return NULL;
}

static void free_workers(worker *workers, int32_t count)
{
    if (workers == NULL)
        return;
    for (int32_t k = 0; k < count; k++) {
        cs__free(workers[k].shuffle);
        cs__free(workers[k].in_subset);
        cs__free(workers[k].indices);
        cs__free(workers[k].predicted);
        cs__free(workers[k].mask_bits);
        cs__free(workers[k].correct_bits);
        cs__free(workers[k].record);
    }
    cs__free(workers);
}

/* Returns the largest training subset of the planned ratios. */
static size_t largest_subset(const cs_holdout *h)
{
    size_t largest = 0;
    for (int32_t k = 0; k < h->options.n_ratios; k++) {
        const size_t size = cs_holdout_subset_size(h->n, h->options.ratios[k]);
        if (size > largest)
            largest = size;
    }
    return largest;
}

static bool allocate_worker(worker *w, const cs_holdout *h, size_t subset,
                            size_t record_size)
{
    const size_t bytes = cs__bit_bytes(h->n);
    w->shuffle = cs__alloc_array(h->n, sizeof *w->shuffle);
    w->in_subset = cs__malloc(h->n);
    w->indices = cs__alloc_array(subset, sizeof *w->indices);
    w->predicted = cs__alloc_array(h->n, sizeof *w->predicted);
    w->mask_bits = cs__malloc(bytes);
    w->correct_bits = cs__malloc(bytes);
    w->record = cs__malloc(record_size);
    return w->shuffle != NULL && w->in_subset != NULL && w->indices != NULL &&
           w->predicted != NULL && w->mask_bits != NULL &&
           w->correct_bits != NULL && w->record != NULL;
}

static cs_status create_workers(run_state *s, int32_t count, worker **out)
{
    worker *workers = cs__calloc((size_t)count, sizeof *workers);
    if (workers == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, RUN_FN, NULL,
                            "cannot allocate %d workers", (int)count);
    const size_t subset = largest_subset(s->holdout);
    for (int32_t k = 0; k < count; k++) {
        workers[k].state = s;
        workers[k].index = k;
        if (!allocate_worker(&workers[k], s->holdout, subset,
                             s->record_size)) {
            free_workers(workers, count);
            return cs__fail_arg(CS_E_OUT_OF_MEMORY, RUN_FN, NULL,
                                "cannot allocate the buffers of %d workers "
                                "for %zu examples",
                                (int)count, s->holdout->n);
        }
    }
    *out = workers;
    return CS_OK;
}

/* Runs worker 0 on this thread and the others on threads of their own. A
 * thread that cannot start leaves its runs to the others. */
static void run_workers(worker *workers, int32_t count)
{
    pthread_t *threads = cs__calloc((size_t)count, sizeof *threads);
    int32_t started = 0;
    for (int32_t k = 1; k < count && threads != NULL; k++) {
        if (pthread_create(&threads[started], NULL, work, &workers[k]) != 0)
            break;
        started++;
    }
    work(&workers[0]);
    for (int32_t k = 0; k < started; k++)
        pthread_join(threads[k], NULL);
    cs__free(threads);
}

/* Records info again on this thread, as the thread that failed recorded
 * it: the same fields, and the message without its "function: " lead. */
static cs_status restore_error(const cs_error_info *info)
{
    cs__where where = cs__where_none(info->function);
    where.argument = info->argument[0] ? info->argument : NULL;
    where.index = info->index;
    where.example_id = info->example_id;
    where.path = info->path[0] ? info->path : NULL;
    where.offset = info->offset;
    where.line = info->line;
    where.column = info->column;

    const char *message = info->message;
    const size_t lead = strlen(info->function);
    if (strncmp(message, info->function, lead) == 0 &&
        strncmp(message + lead, ": ", 2) == 0)
        message += lead + 2;
    return cs__fail(info->status, &where, info->value[0] ? info->value : NULL,
                    "%s", message);
}

/* Passes the first failure of the workers on to the calling thread. */
static cs_status report_failure(const run_state *s)
{
    const cs_error_info *info = &s->failure_info;
    const cs_status status = s->failure_status;
    const uint64_t seed = cs_holdout_run_seed(s->holdout->master_seed,
                                              s->failed_ratio, s->failed_run);

    if (s->failure == FAILURE_ESTIMATOR)
        return restore_error(info);
    if (s->failure == FAILURE_PROGRESS)
        return info->status == status ? restore_error(info) : status;

    cs__where where = cs__where_none(RUN_FN);
    where.argument = "trainer";
    if (info->status != status)
        return cs__fail(status, &where, NULL,
                        "the trainer returned %s (%s) on run %d of ratio "
                        "%d%% (seed %llu) without recording an error",
                        cs_status_name(status), cs_strerror(status),
                        (int)s->failed_run, (int)s->failed_ratio,
                        (unsigned long long)seed);
    where.path = info->path[0] ? info->path : NULL;
    where.offset = info->offset;
    return cs__fail(status, &where, info->value[0] ? info->value : NULL,
                    "the trainer failed on run %d of ratio %d%% (seed "
                    "%llu): %s",
                    (int)s->failed_run, (int)s->failed_ratio,
                    (unsigned long long)seed, info->message);
}

static cs_status check_run_arguments(const cs_holdout *holdout,
                                     const cs_holdout_trainer *trainer)
{
    if (holdout == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, RUN_FN, "holdout",
                            "holdout is NULL");
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, RUN_FN, "trainer",
                            "trainer is NULL");
    if (trainer->struct_size < TRAINER_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, RUN_FN, "trainer",
                            "trainer->struct_size is %zu, below the minimum "
                            "%zu; set it to sizeof(cs_holdout_trainer)",
                            trainer->struct_size, (size_t)TRAINER_MIN_SIZE);
    if (trainer->train == NULL)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, RUN_FN, "trainer",
                            "trainer->train is NULL; set it to the function "
                            "that trains one run");
    if (!holdout->has_plan)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, RUN_FN, "holdout",
                            "the estimate was made from record files and "
                            "has no plan; create one with "
                            "cs_holdout_create() to run");
    if (holdout->counts_added)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, RUN_FN, "holdout",
                            "the estimate holds counts added with "
                            "cs_holdout_add_counts(), whose runs are "
                            "unknown, so running could count a run twice");
    return CS_OK;
}

/* Calls begin, runs the workers and calls end. */
static cs_status run_plan(run_state *s, int32_t count)
{
    worker *workers = NULL;
    cs_status status = create_workers(s, count, &workers);
    if (status != CS_OK)
        return status;

    if (s->trainer.begin != NULL)
        status = s->trainer.begin(count, s->trainer.user_data);
    if (status == CS_OK) {
        run_workers(workers, count);
        if (s->trainer.end != NULL)
            s->trainer.end(s->trainer.user_data);
        if (s->failure != FAILURE_NONE)
            status = report_failure(s);
    }
    free_workers(workers, count);
    return status;
}

cs_status cs_holdout_run(cs_holdout *holdout,
                         const cs_holdout_trainer *trainer,
                         cs_holdout_progress_fn progress, void *user_data)
{
    cs_status status = check_run_arguments(holdout, trainer);
    if (status != CS_OK)
        return status;

    run_state s = {
        .holdout = holdout,
        .progress = progress,
        .progress_data = user_data,
        .record_size = cs__record_size(holdout->n),
        .call_total = count_pending(holdout),
    };
    memset(&s.trainer, 0, sizeof s.trainer);
    memcpy(&s.trainer, trainer,
           trainer->struct_size < sizeof s.trainer ? trainer->struct_size
                                                   : sizeof s.trainer);
    s.runs_done = holdout->summary.runs_planned - s.call_total;
    if (s.call_total == 0)
        return CS_OK;

    const int32_t count = holdout->options.workers < s.call_total
                              ? holdout->options.workers
                              : (int32_t)s.call_total;
    return run_plan(&s, count);
}
