/*
 * Tests of the holdout estimator. A deterministic fake trainer, whose
 * correctness on each example follows a fixed rule, gives C-scores known in
 * closed form (always right, never right, memorised only, right only at
 * large ratios, right when a neighbour is trained on). Further tests cover
 * run seeds and subsets, slices, worker counts, record files (resume,
 * resume after SIGKILL of a child process, torn and damaged records,
 * foreign headers, locking), merging, added counts, the .npz export, the
 * built-in MLP trainer, and argument checks.
 */
#include "tracker_fixtures.h"

#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <zlib.h>

#define PYTHON "/usr/bin/python3"

/* The fake trainer's examples: rule j % 5 decides whether it predicts
 * example j correctly. */
#define F_N 40
#define F_CLASSES 3
#define F_SEED 12345u

enum {
    RULE_ALWAYS = 0,    /* right whether trained on or not: score 1 */
    RULE_NEVER = 1,     /* always wrong: score 0 */
    RULE_MEMORISED = 2, /* right only when trained on: score 0 */
    RULE_LARGE = 3,     /* right when the ratio is at least 50 */
    RULE_NEIGHBOUR = 4  /* right when example j - 1 is trained on */
};

typedef struct fake_trainer {
    uint64_t master_seed;
    const int32_t *labels;
    size_t n;
    pthread_mutex_t lock;
    int calls;
    int begin_calls;
    int end_calls;
    int32_t begin_workers;
    int fail_at_call;     /* the call number (from 1) that fails, or 0 */
    bool fail_with_error; /* record a message before failing */
    int signal_at_call;   /* write to signal_fd and sleep at this call */
    int signal_fd;
    int bad_subsets;          /* calls whose subset or seed was wrong */
    uint8_t trained[100][64]; /* calls per ratio and run, runs below 64 */
} fake_trainer;

static char temp_dir[64];
static int32_t f_labels[F_N];
static const char *const f_recipe = "fake-trainer v1";

static void fake_init(fake_trainer *fake, uint64_t master_seed)
{
    memset(fake, 0, sizeof *fake);
    fake->master_seed = master_seed;
    fake->labels = f_labels;
    fake->n = F_N;
    pthread_mutex_init(&fake->lock, NULL);
}

static cs_status fake_begin(int32_t workers, void *user_data)
{
    fake_trainer *fake = user_data;
    fake->begin_calls++;
    fake->begin_workers = workers;
    return CS_OK;
}

static void fake_end(void *user_data)
{
    fake_trainer *fake = user_data;
    fake->end_calls++;
}

/* Checks that the estimator passed the seed and subset that the public
 * functions give for this run. */
static bool subset_is_expected(const fake_trainer *fake,
                               const cs_holdout_run_info *run)
{
    if (run->seed !=
        cs_holdout_run_seed(fake->master_seed, run->ratio, run->run))
        return false;
    if (run->n_train != cs_holdout_subset_size(fake->n, run->ratio))
        return false;
    int64_t expected[F_N];
    if (cs_holdout_subset(run->seed, fake->n, run->ratio, expected,
                          run->n_train) != CS_OK)
        return false;
    return memcmp(expected, run->train_indices,
                  run->n_train * sizeof *expected) == 0;
}

static bool rule_correct(int32_t ratio, size_t j, const uint8_t *trained)
{
    switch (j % 5) {
    case RULE_ALWAYS:
        return true;
    case RULE_NEVER:
        return false;
    case RULE_MEMORISED:
        return trained[j];
    case RULE_LARGE:
        return ratio >= 50;
    default:
        return trained[j - 1];
    }
}

static cs_status fake_train(const cs_holdout_run_info *run, int32_t *predicted,
                            double *test_accuracy, void *user_data)
{
    fake_trainer *fake = user_data;
    pthread_mutex_lock(&fake->lock);
    const int call = ++fake->calls;
    if (!subset_is_expected(fake, run))
        fake->bad_subsets++;
    if (run->run < 64)
        fake->trained[run->ratio][run->run]++;
    pthread_mutex_unlock(&fake->lock);

    if (call == fake->signal_at_call) {
        const char byte = 1;
        assert_int_equal(write(fake->signal_fd, &byte, 1), 1);
        for (;;)
            pause(); /* until the parent kills this process */
    }
    if (call == fake->fail_at_call) {
        if (fake->fail_with_error)
            return cs__fail_arg(CS_E_NONFINITE_PREDICTION, "fake_train",
                                "model", "the fake model diverged");
        return CS_E_NONFINITE_PREDICTION;
    }

    uint8_t trained[F_N] = {0};
    for (size_t k = 0; k < run->n_train; k++)
        trained[run->train_indices[k]] = 1;
    for (size_t j = 0; j < run->n_examples; j++) {
        const bool correct = rule_correct(run->ratio, j, trained);
        predicted[j] = correct ? fake->labels[j]
                               : (fake->labels[j] + 1) % F_CLASSES;
    }
    *test_accuracy = 0.5;
    return CS_OK;
}

static cs_holdout_trainer fake_interface(fake_trainer *fake)
{
    cs_holdout_trainer trainer = {
        .struct_size = sizeof trainer,
        .begin = fake_begin,
        .train = fake_train,
        .end = fake_end,
        .user_data = fake,
    };
    return trainer;
}

static cs_holdout_options plan(int32_t runs, int32_t workers)
{
    cs_holdout_options options;
    cs_holdout_options_init(&options);
    options.n_ratios = 2;
    options.ratios[0] = 70;
    options.ratios[1] = 30;
    options.runs = runs;
    options.seed = F_SEED;
    options.workers = workers;
    return options;
}

static cs_holdout *create(const cs_holdout_options *options)
{
    cs_holdout *holdout = NULL;
    assert_int_equal(cs_holdout_create(options, f_labels, F_N, f_recipe,
                                       &holdout),
                     CS_OK);
    assert_non_null(holdout);
    return holdout;
}

/* Runs the plan with a fresh fake trainer and checks its bookkeeping. */
static void run_fake(cs_holdout *holdout, uint64_t master_seed)
{
    fake_trainer fake;
    fake_init(&fake, master_seed);
    const cs_holdout_trainer trainer = fake_interface(&fake);
    assert_int_equal(cs_holdout_run(holdout, &trainer, NULL, NULL), CS_OK);
    assert_int_equal(fake.bad_subsets, 0);
    assert_int_equal(fake.end_calls, fake.begin_calls);
}

static void join(char *path, const char *name)
{
    tf_join_path(path, 256, temp_dir, name);
}

/* Fails unless both estimates have the same ratios, runs and counts. */
static void assert_same_counts(const cs_holdout *want, const cs_holdout *got)
{
    int32_t ratios_want[CS_HOLDOUT_MAX_RATIOS], ratios_got[99];
    size_t n_want = 0, n_got = 0;
    assert_int_equal(cs_holdout_ratios(want, ratios_want, 99, &n_want), CS_OK);
    assert_int_equal(cs_holdout_ratios(got, ratios_got, 99, &n_got), CS_OK);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(ratios_got, ratios_want, n_want * sizeof(int32_t));

    for (size_t k = 0; k < n_want; k++) {
        int32_t heldout_want[F_N], correct_want[F_N];
        int32_t heldout_got[F_N], correct_got[F_N];
        int64_t runs_want = 0, runs_got = 0;
        assert_int_equal(cs_holdout_counts(want, ratios_want[k], heldout_want,
                                           correct_want, F_N, &runs_want),
                         CS_OK);
        assert_int_equal(cs_holdout_counts(got, ratios_want[k], heldout_got,
                                           correct_got, F_N, &runs_got),
                         CS_OK);
        assert_int_equal(runs_got, runs_want);
        assert_memory_equal(heldout_got, heldout_want, sizeof heldout_want);
        assert_memory_equal(correct_got, correct_want, sizeof correct_want);
    }
}

static int64_t runs_done(const cs_holdout *holdout)
{
    cs_holdout_summary summary = {.struct_size = sizeof summary};
    assert_int_equal(cs_holdout_get_summary(holdout, &summary), CS_OK);
    return summary.runs_done;
}

static cs_holdout_summary summary_of(const cs_holdout *holdout)
{
    cs_holdout_summary summary = {.struct_size = sizeof summary};
    assert_int_equal(cs_holdout_get_summary(holdout, &summary), CS_OK);
    return summary;
}

static int64_t file_size(const char *path)
{
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    return (int64_t)info.st_size;
}

/* Bytes of one record and of the header of the fake estimate. */
static int64_t record_bytes(void)
{
    return 40 + 2 * ((F_N + 7) / 8) + 4;
}

static int64_t header_bytes(void)
{
    return 44 + (int64_t)strlen(f_recipe) + 4 * F_N + 4;
}

static int group_setup(void **state)
{
    (void)state;
    tf_make_temp_dir(temp_dir, sizeof temp_dir);
    for (int j = 0; j < F_N; j++)
        f_labels[j] = (int32_t)(j % F_CLASSES);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tf_remove_dir(temp_dir);
    return 0;
}

/* ------------------------------------------------------------------------
 * Seeds and subsets
 * ------------------------------------------------------------------------ */

/* splitmix64's output function, written out again as the header states
 * it. */
static uint64_t reference_mix(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9u;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void run_seed_formula(void **state)
{
    (void)state;
    for (int32_t ratio = 1; ratio <= 99; ratio += 7) {
        for (int32_t run = 0; run < 50; run += 3) {
            const uint64_t key = ((uint64_t)ratio << 32) | (uint32_t)run;
            assert_true(cs_holdout_run_seed(99, ratio, run) ==
                        reference_mix(99 ^ reference_mix(key)));
        }
    }
}

static int compare_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void run_seeds_distinct(void **state)
{
    (void)state;
    enum { RUNS = 200 };
    static uint64_t seeds[99 * RUNS];
    size_t count = 0;
    for (int32_t ratio = 1; ratio <= 99; ratio++)
        for (int32_t run = 0; run < RUNS; run++)
            seeds[count++] = cs_holdout_run_seed(7, ratio, run);
    qsort(seeds, count, sizeof *seeds, compare_u64);
    for (size_t k = 1; k < count; k++)
        assert_true(seeds[k] != seeds[k - 1]);
    assert_true(cs_holdout_run_seed(7, 50, 0) !=
                cs_holdout_run_seed(8, 50, 0));
}

static void subset_size_rounding(void **state)
{
    (void)state;
    assert_int_equal(cs_holdout_subset_size(10, 25), 3); /* 2.5 up */
    assert_int_equal(cs_holdout_subset_size(10, 15), 2); /* 1.5 up */
    assert_int_equal(cs_holdout_subset_size(10, 14), 1); /* 1.4 down */
    assert_int_equal(cs_holdout_subset_size(3, 50), 2);
    assert_int_equal(cs_holdout_subset_size(10000, 50), 5000);
    assert_int_equal(cs_holdout_subset_size(60000, 10), 6000);
    assert_int_equal(cs_holdout_subset_size(10, 0), 0);
    assert_int_equal(cs_holdout_subset_size(10, 100), 0);
    /* No overflow near SIZE_MAX: 99% of it is just below it. */
    const size_t big = cs_holdout_subset_size(SIZE_MAX, 99);
    assert_true(big < SIZE_MAX && big > SIZE_MAX / 100 * 98);
}

static void subset_reproducible(void **state)
{
    (void)state;
    int64_t a[30], b[30], c[30];
    const uint64_t seed = cs_holdout_run_seed(1, 60, 4);
    assert_int_equal(cs_holdout_subset(seed, 50, 60, a, 30), CS_OK);
    assert_int_equal(cs_holdout_subset(seed, 50, 60, b, 30), CS_OK);
    assert_memory_equal(a, b, sizeof a);
    for (int k = 0; k < 30; k++) {
        assert_true(a[k] >= 0 && a[k] < 50);
        if (k > 0)
            assert_true(a[k] > a[k - 1]); /* increasing, so distinct */
    }
    assert_int_equal(cs_holdout_subset(seed + 1, 50, 60, c, 30), CS_OK);
    assert_memory_not_equal(a, c, sizeof a);
}

/* Each example is in about n_train / N of the subsets: over 4000 draws of
 * 3 from 12, each count is binomial with mean 1000 and standard deviation
 * 27, so 150 is more than 5 deviations. */
static void subset_uniform(void **state)
{
    (void)state;
    int counts[12] = {0};
    for (int32_t run = 0; run < 4000; run++) {
        int64_t subset[3];
        const uint64_t seed = cs_holdout_run_seed(5, 25, run);
        assert_int_equal(cs_holdout_subset(seed, 12, 25, subset, 3), CS_OK);
        for (int k = 0; k < 3; k++)
            counts[subset[k]]++;
    }
    for (int j = 0; j < 12; j++)
        assert_true(abs(counts[j] - 1000) < 150);
}

static void subset_errors(void **state)
{
    (void)state;
    int64_t out[10];
    TF_EXPECT_ERROR(cs_holdout_subset(1, 10, 50, NULL, 5), CS_E_NULL_ARGUMENT,
                    "cs_holdout_subset", "indices");
    TF_EXPECT_ERROR(cs_holdout_subset(1, 0, 50, out, 0), CS_E_ZERO_SIZE,
                    "cs_holdout_subset", "n");
    TF_EXPECT_ERROR(cs_holdout_subset(1, 10, 0, out, 0), CS_E_INVALID_ARGUMENT,
                    "cs_holdout_subset", "ratio");
    TF_EXPECT_ERROR(cs_holdout_subset(1, 10, 100, out, 10),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_subset", "ratio");
    TF_EXPECT_ERROR(cs_holdout_subset(1, 2, 10, out, 0), CS_E_INVALID_ARGUMENT,
                    "cs_holdout_subset", "ratio");
    TF_EXPECT_ERROR(cs_holdout_subset(1, 10, 50, out, 4),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_subset", "n_indices");
}

/* ------------------------------------------------------------------------
 * The estimate
 * ------------------------------------------------------------------------ */

/* Adds up, from the public subsets, how often each example is held out. */
static void recount_heldout(int32_t ratio, int32_t runs, int32_t *heldout)
{
    const size_t n_train = cs_holdout_subset_size(F_N, ratio);
    memset(heldout, 0, F_N * sizeof *heldout);
    for (int32_t run = 0; run < runs; run++) {
        int64_t subset[F_N];
        uint8_t trained[F_N] = {0};
        const uint64_t seed = cs_holdout_run_seed(F_SEED, ratio, run);
        assert_int_equal(cs_holdout_subset(seed, F_N, ratio, subset, n_train),
                         CS_OK);
        for (size_t k = 0; k < n_train; k++)
            trained[subset[k]] = 1;
        for (int j = 0; j < F_N; j++)
            heldout[j] += !trained[j];
    }
}

static void check_ratio_closed_form(const cs_holdout *holdout, int32_t ratio,
                                    int32_t runs)
{
    double score[F_N], se[F_N];
    int32_t count[F_N], recount[F_N];
    assert_int_equal(cs_holdout_scores(holdout, ratio, score, count, se, F_N),
                     CS_OK);
    recount_heldout(ratio, runs, recount);
    assert_memory_equal(count, recount, sizeof count);

    /* Every run holds out exactly N - n examples. */
    int64_t total = 0;
    for (int j = 0; j < F_N; j++)
        total += count[j];
    assert_int_equal(total, (int64_t)runs *
                                (F_N - cs_holdout_subset_size(F_N, ratio)));

    /* Example j - 1 is trained on in a run that holds j out with
     * probability n / (N - 1). */
    const double neighbour = (double)cs_holdout_subset_size(F_N, ratio) /
                             (F_N - 1);
    for (int j = 0; j < F_N; j++) {
        assert_true(count[j] > 0);
        const int rule = j % 5;
        if (rule == RULE_ALWAYS)
            assert_true(score[j] == 1.0);
        else if (rule == RULE_NEVER || rule == RULE_MEMORISED)
            assert_true(score[j] == 0.0);
        else if (rule == RULE_LARGE)
            assert_true(score[j] == (ratio >= 50 ? 1.0 : 0.0));
        else
            assert_true(fabs(score[j] - neighbour) <
                        5.0 * sqrt(neighbour * (1 - neighbour) / count[j]));
        TF_ASSERT_CLOSE(se[j], sqrt(score[j] * (1 - score[j]) / count[j]),
                        1e-15);
    }
}

static void closed_form_scores(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(300, 1);
    cs_holdout *holdout = create(&options);
    run_fake(holdout, F_SEED);

    check_ratio_closed_form(holdout, 30, 300);
    check_ratio_closed_form(holdout, 70, 300);

    double integral[F_N], s30[F_N], s70[F_N];
    int32_t heldout[F_N], c30[F_N], c70[F_N];
    assert_int_equal(cs_holdout_integral(holdout, integral, heldout, F_N),
                     CS_OK);
    assert_int_equal(cs_holdout_scores(holdout, 30, s30, c30, NULL, F_N),
                     CS_OK);
    assert_int_equal(cs_holdout_scores(holdout, 70, s70, c70, NULL, F_N),
                     CS_OK);
    for (int j = 0; j < F_N; j++) {
        TF_ASSERT_CLOSE(integral[j], 0.5 * (s30[j] + s70[j]), 1e-15);
        assert_int_equal(heldout[j], c30[j] + c70[j]);
        if (j % 5 == RULE_LARGE)
            assert_true(integral[j] == 0.5);
    }

    const cs_holdout_summary s = summary_of(holdout);
    assert_int_equal(s.runs_planned, 600);
    assert_int_equal(s.runs_done, 600);
    cs_holdout_free(holdout);
}

static void never_held_out_is_nan(void **state)
{
    (void)state;
    /* N = 4: ratio 75 trains on 3 and holds out 1; ratio 50 holds out 2. */
    const int32_t labels[4] = {0, 1, 0, 1};
    cs_holdout_options options;
    cs_holdout_options_init(&options);
    options.n_ratios = 2;
    options.ratios[0] = 50;
    options.ratios[1] = 75;
    options.runs = 1;
    cs_holdout *holdout = NULL;
    assert_int_equal(cs_holdout_create(&options, labels, 4, "r", &holdout),
                     CS_OK);

    /* Before any run every score is missing. */
    double score[4], se[4], integral[4];
    int32_t count[4], total[4];
    assert_int_equal(cs_holdout_scores(holdout, 50, score, count, se, 4),
                     CS_OK);
    for (int j = 0; j < 4; j++) {
        assert_true(isnan(score[j]) && isnan(se[j]));
        assert_int_equal(count[j], 0);
    }

    fake_trainer fake;
    fake_init(&fake, 0);
    fake.labels = labels;
    fake.n = 4;
    const cs_holdout_trainer trainer = fake_interface(&fake);
    assert_int_equal(cs_holdout_run(holdout, &trainer, NULL, NULL), CS_OK);

    double s50[4], s75[4];
    int32_t c50[4], c75[4];
    cs_holdout_scores(holdout, 50, s50, c50, NULL, 4);
    cs_holdout_scores(holdout, 75, s75, c75, NULL, 4);
    cs_holdout_integral(holdout, integral, total, 4);
    int missing_both = 0;
    for (int j = 0; j < 4; j++) {
        assert_int_equal(isnan(s50[j]), c50[j] == 0);
        assert_int_equal(isnan(s75[j]), c75[j] == 0);
        assert_int_equal(total[j], c50[j] + c75[j]);
        if (c50[j] == 0 && c75[j] == 0) {
            assert_true(isnan(integral[j]));
            missing_both++;
        } else if (c50[j] == 0) {
            assert_true(integral[j] == s75[j]);
        } else if (c75[j] == 0) {
            assert_true(integral[j] == s50[j]);
        }
    }
    assert_true(missing_both <= 2);
    cs_holdout_free(holdout);
}

static void workers_give_same_counts(void **state)
{
    (void)state;
    const cs_holdout_options one_worker = plan(40, 1);
    const cs_holdout_options four_workers = plan(40, 4);
    cs_holdout *serial = create(&one_worker);
    cs_holdout *parallel = create(&four_workers);

    fake_trainer fake;
    fake_init(&fake, F_SEED);
    const cs_holdout_trainer trainer = fake_interface(&fake);
    run_fake(serial, F_SEED);
    assert_int_equal(cs_holdout_run(parallel, &trainer, NULL, NULL), CS_OK);
    assert_int_equal(fake.calls, 80);
    assert_int_equal(fake.begin_calls, 1);
    assert_int_equal(fake.end_calls, 1);
    assert_int_equal(fake.begin_workers, 4);
    assert_same_counts(serial, parallel);

    /* Nothing is left, so a second call trains nothing. */
    assert_int_equal(cs_holdout_run(parallel, &trainer, NULL, NULL), CS_OK);
    assert_int_equal(fake.calls, 80);
    cs_holdout_free(serial);
    cs_holdout_free(parallel);
}

typedef struct progress_log {
    int calls;
    int stop_after;
    int64_t last_done;
    int64_t call_total;
} progress_log;

static cs_status log_progress(const cs_holdout_progress *p, void *user_data)
{
    progress_log *log = user_data;
    log->calls++;
    assert_int_equal(p->call_runs_done, log->calls);
    assert_int_equal(p->runs_done, log->last_done + 1);
    assert_true(p->ratio == 30 || p->ratio == 70);
    assert_true(p->seed == cs_holdout_run_seed(F_SEED, p->ratio, p->run));
    assert_true(p->heldout_accuracy >= 0.0 && p->heldout_accuracy <= 1.0);
    assert_true(p->test_accuracy == 0.5);
    log->last_done = p->runs_done;
    log->call_total = p->call_runs_total;
    if (log->calls == log->stop_after)
        return cs__fail_arg(CS_E_IO, "log_progress", "progress",
                            "stopped by the test");
    return CS_OK;
}

static void progress_and_stop(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(10, 2);
    cs_holdout *holdout = create(&options);
    fake_trainer fake;
    fake_init(&fake, F_SEED);
    const cs_holdout_trainer trainer = fake_interface(&fake);

    progress_log log = {.stop_after = 5};
    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, log_progress, &log),
                    CS_E_IO, "log_progress", "progress");
    assert_int_equal(log.calls, 5);
    assert_int_equal(log.call_total, 20);
    /* The run that was training on the other worker is kept too. */
    const int64_t done = runs_done(holdout);
    assert_true(done >= 5 && done <= 6);

    log = (progress_log){.stop_after = -1, .last_done = done};
    assert_int_equal(cs_holdout_run(holdout, &trainer, log_progress, &log),
                     CS_OK);
    assert_int_equal(log.call_total, 20 - done);
    assert_int_equal(runs_done(holdout), 20);
    cs_holdout_free(holdout);
}

static void trainer_failure_is_reported(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(5, 1);
    cs_holdout *holdout = create(&options);
    fake_trainer fake;
    fake_init(&fake, F_SEED);
    fake.fail_at_call = 3;
    fake.fail_with_error = true;
    const cs_holdout_trainer trainer = fake_interface(&fake);

    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, NULL, NULL),
                    CS_E_NONFINITE_PREDICTION, "cs_holdout_run", "trainer");
    /* Call 3 is run 1 of ratio 70, the first ratio listed. */
    assert_non_null(strstr(cs_last_error_message(), "run 1 of ratio 70%"));
    assert_non_null(strstr(cs_last_error_message(), "fake model diverged"));
    assert_int_equal(fake.end_calls, 1);
    assert_int_equal(runs_done(holdout), 2);

    /* A status without a message is named too. */
    fake.calls = 0;
    fake.fail_at_call = 1;
    fake.fail_with_error = false;
    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, NULL, NULL),
                    CS_E_NONFINITE_PREDICTION, "cs_holdout_run", "trainer");
    assert_non_null(
        strstr(cs_last_error_message(), "CS_E_NONFINITE_PREDICTION"));
    assert_int_equal(runs_done(holdout), 2);

    /* Calling again resumes after the failure. */
    fake.calls = 0;
    fake.fail_at_call = 0;
    assert_int_equal(cs_holdout_run(holdout, &trainer, NULL, NULL), CS_OK);
    assert_int_equal(runs_done(holdout), 10);
    cs_holdout_free(holdout);
}

/* ------------------------------------------------------------------------
 * Slices and merging
 * ------------------------------------------------------------------------ */

static void slices_partition_the_plan(void **state)
{
    (void)state;
    enum { SLICES = 4, RUNS = 7 };
    cs_holdout_options options = plan(RUNS, 1);
    options.n_ratios = 3;
    options.ratios[2] = 50;

    int owners[100][RUNS];
    memset(owners, 0, sizeof owners);
    int64_t planned = 0;
    double cost[SLICES] = {0};
    for (int32_t s = 0; s < SLICES; s++) {
        options.slice_index = s;
        options.slice_count = SLICES;
        cs_holdout *holdout = create(&options);
        planned += summary_of(holdout).runs_planned;

        fake_trainer fake;
        fake_init(&fake, F_SEED);
        const cs_holdout_trainer trainer = fake_interface(&fake);
        assert_int_equal(cs_holdout_run(holdout, &trainer, NULL, NULL), CS_OK);
        assert_int_equal(fake.calls, summary_of(holdout).runs_planned);
        for (int k = 0; k < 3; k++) {
            const int32_t ratio = options.ratios[k];
            for (int32_t run = 0; run < RUNS; run++) {
                owners[ratio][run] += fake.trained[ratio][run];
                cost[s] += fake.trained[ratio][run] * (double)ratio;
            }
        }
        cs_holdout_free(holdout);
    }

    assert_int_equal(planned, 3 * RUNS);
    for (int k = 0; k < 3; k++)
        for (int32_t run = 0; run < RUNS; run++)
            assert_int_equal(owners[options.ratios[k]][run], 1);
    /* Dealing in both directions keeps the slices' training costs (the
     * sum of their ratios) within two runs of the largest ratio. */
    for (int s = 1; s < SLICES; s++)
        assert_true(fabs(cost[s] - cost[0]) <= 2 * 70);
}

static void merge_equals_single_run(void **state)
{
    (void)state;
    enum { SLICES = 3 };
    const cs_holdout_options whole = plan(12, 1);
    cs_holdout *single = create(&whole);
    run_fake(single, F_SEED);

    char paths[SLICES][256];
    for (int32_t s = 0; s < SLICES; s++) {
        cs_holdout_options options = whole;
        options.slice_index = s;
        options.slice_count = SLICES;
        cs_holdout *part = create(&options);
        char name[32];
        snprintf(name, sizeof name, "slice%d.records", (int)s);
        join(paths[s], name);
        assert_int_equal(cs_holdout_open_records(part, paths[s]), CS_OK);
        run_fake(part, F_SEED);
        cs_holdout_free(part);
    }

    cs_holdout *merged = NULL;
    assert_int_equal(cs_holdout_create_from_records(paths[0], &merged), CS_OK);
    assert_string_equal(cs_holdout_recipe(merged), f_recipe);
    assert_int_equal(cs_holdout_n_examples(merged), F_N);
    for (int s = 1; s < SLICES; s++)
        assert_int_equal(cs_holdout_merge_records(merged, paths[s]), CS_OK);
    assert_same_counts(single, merged);

    /* The same file again adds nothing: every run counts once. */
    assert_int_equal(cs_holdout_merge_records(merged, paths[1]), CS_OK);
    assert_same_counts(single, merged);
    const cs_holdout_summary s = summary_of(merged);
    assert_int_equal(s.runs_planned, -1);
    assert_int_equal(s.runs_done, 24);
    assert_int_equal(s.records_read, 24 + s.records_duplicate);
    assert_true(s.records_duplicate > 0);

    /* A handle without a plan cannot run. */
    fake_trainer fake;
    fake_init(&fake, F_SEED);
    const cs_holdout_trainer trainer = fake_interface(&fake);
    TF_EXPECT_ERROR(cs_holdout_run(merged, &trainer, NULL, NULL),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_run", "holdout");
    cs_holdout_free(merged);

    /* A planned handle counts only its own ratios and runs. */
    cs_holdout_options fewer = plan(3, 1);
    fewer.n_ratios = 1;
    cs_holdout *partial = create(&fewer);
    for (int s = 0; s < SLICES; s++)
        assert_int_equal(cs_holdout_merge_records(partial, paths[s]), CS_OK);
    assert_int_equal(runs_done(partial), 3);
    assert_int_equal(summary_of(partial).records_outside, 21);
    cs_holdout_free(partial);
    cs_holdout_free(single);
}

/* ------------------------------------------------------------------------
 * Record files
 * ------------------------------------------------------------------------ */

static void resume_from_records(void **state)
{
    (void)state;
    char path[256];
    join(path, "resume.records");
    const cs_holdout_options options = plan(8, 2);
    cs_holdout *first = create(&options);
    assert_int_equal(cs_holdout_open_records(first, path), CS_OK);

    fake_trainer fake;
    fake_init(&fake, F_SEED);
    fake.fail_at_call = 7;
    const cs_holdout_trainer trainer = fake_interface(&fake);
    assert_int_equal(cs_holdout_run(first, &trainer, NULL, NULL),
                     CS_E_NONFINITE_PREDICTION);
    /* Calls 1 to 6 finished before call 7 started. The other worker may
     * have finished more while call 7 was on its way to failing, and every
     * run that finished is kept. */
    const int64_t done = runs_done(first);
    assert_true(done >= 6);
    assert_int_equal(done, fake.calls - 1);
    assert_int_equal(file_size(path), header_bytes() + done * record_bytes());
    cs_holdout_free(first);

    cs_holdout *second = create(&options);
    assert_int_equal(cs_holdout_open_records(second, path), CS_OK);
    assert_int_equal(runs_done(second), done);
    fake_init(&fake, F_SEED);
    assert_int_equal(cs_holdout_run(second, &trainer, NULL, NULL), CS_OK);
    assert_int_equal(fake.calls, 16 - done);
    assert_int_equal(file_size(path), header_bytes() + 16 * record_bytes());

    cs_holdout *reference = create(&options);
    run_fake(reference, F_SEED);
    assert_same_counts(reference, second);
    cs_holdout_free(second);
    cs_holdout_free(reference);
}

/* Runs the plan in a child process that is killed with SIGKILL while its
 * trainer is inside run `kill_at`, then resumes from the record file. */
static void resume_after_kill(void **state)
{
    (void)state;
    char path[256];
    join(path, "killed.records");
    const cs_holdout_options options = plan(6, 1);
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);

    const pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pipe_fds[0]);
        cs_holdout *holdout = NULL;
        if (cs_holdout_create(&options, f_labels, F_N, f_recipe, &holdout) !=
                CS_OK ||
            cs_holdout_open_records(holdout, path) != CS_OK)
            _exit(3);
        fake_trainer fake;
        fake_init(&fake, F_SEED);
        fake.signal_at_call = 5;
        fake.signal_fd = pipe_fds[1];
        const cs_holdout_trainer trainer = fake_interface(&fake);
        cs_holdout_run(holdout, &trainer, NULL, NULL);
        _exit(4); /* not reached: the parent kills the child in run 5 */
    }

    close(pipe_fds[1]);
    char byte = 0;
    assert_int_equal(read(pipe_fds[0], &byte, 1), 1);
    assert_int_equal(kill(child, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(pipe_fds[0]);
    assert_int_equal(file_size(path), header_bytes() + 4 * record_bytes());

    cs_holdout *resumed = create(&options);
    assert_int_equal(cs_holdout_open_records(resumed, path), CS_OK);
    assert_int_equal(runs_done(resumed), 4);
    run_fake(resumed, F_SEED);
    cs_holdout *reference = create(&options);
    run_fake(reference, F_SEED);
    assert_same_counts(reference, resumed);
    cs_holdout_free(resumed);
    cs_holdout_free(reference);
}

/* Writes a record file of the fake plan with `runs` runs per ratio. */
static void write_records(const char *path, int32_t runs)
{
    unlink(path);
    const cs_holdout_options options = plan(runs, 1);
    cs_holdout *holdout = create(&options);
    assert_int_equal(cs_holdout_open_records(holdout, path), CS_OK);
    run_fake(holdout, F_SEED);
    cs_holdout_free(holdout);
}

static void torn_last_record_dropped(void **state)
{
    (void)state;
    char path[256];
    join(path, "torn.records");
    const cs_holdout_options options = plan(3, 1);
    const int64_t whole = header_bytes() + 6 * record_bytes();

    /* Cut inside the last record. */
    write_records(path, 3);
    assert_int_equal(truncate(path, whole - 10), 0);
    cs_holdout *holdout = create(&options);
    assert_int_equal(cs_holdout_open_records(holdout, path), CS_OK);
    assert_int_equal(runs_done(holdout), 5);
    assert_int_equal(summary_of(holdout).records_torn, 1);
    assert_int_equal(file_size(path), whole - record_bytes());
    run_fake(holdout, F_SEED);
    assert_int_equal(file_size(path), whole);
    cs_holdout_free(holdout);

    /* A whole last record of zeros, as a crash can leave after the size
     * was extended but before the data reached the disk. */
    size_t size = 0;
    char *bytes = tf_read_file(path, &size);
    memset(bytes + size - record_bytes(), 0, (size_t)record_bytes());
    tf_write_file(path, bytes, size);
    free(bytes);
    holdout = create(&options);
    assert_int_equal(cs_holdout_open_records(holdout, path), CS_OK);
    assert_int_equal(runs_done(holdout), 5);
    assert_int_equal(file_size(path), whole - record_bytes());
    cs_holdout_free(holdout);

    /* Merging only reads: the torn record is skipped, the file kept. */
    write_records(path, 3);
    assert_int_equal(truncate(path, whole - 1), 0);
    cs_holdout *merged = NULL;
    assert_int_equal(cs_holdout_create_from_records(path, &merged), CS_OK);
    assert_int_equal(runs_done(merged), 5);
    assert_int_equal(summary_of(merged).records_torn, 1);
    assert_int_equal(file_size(path), whole - 1);
    cs_holdout_free(merged);
}

static void damaged_record_rejected(void **state)
{
    (void)state;
    char path[256];
    join(path, "damaged.records");
    write_records(path, 3);
    size_t size = 0;
    char *bytes = tf_read_file(path, &size);
    const int64_t second = header_bytes() + record_bytes();
    bytes[second + 45] ^= 0x10; /* a mask bit of the second record */
    tf_write_file(path, bytes, size);
    free(bytes);

    const cs_holdout_options options = plan(3, 1);
    cs_holdout *holdout = create(&options);
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, path), CS_E_CHECKSUM,
                    "cs_holdout_open_records", NULL);
    assert_int_equal(cs_last_error()->offset, second);
    assert_string_equal(cs_last_error()->path, path);
    /* The handle is unchanged and the file is not cut. */
    assert_int_equal(runs_done(holdout), 0);
    assert_int_equal(file_size(path), (int64_t)size);
    cs_holdout_free(holdout);

    cs_holdout *merged = NULL;
    TF_EXPECT_ERROR(cs_holdout_create_from_records(path, &merged),
                    CS_E_CHECKSUM, "cs_holdout_create_from_records", NULL);
    assert_null(merged);

    /* A damaged header. */
    write_records(path, 1);
    bytes = tf_read_file(path, &size);
    bytes[50] ^= 1;
    tf_write_file(path, bytes, size);
    free(bytes);
    holdout = create(&options);
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, path), CS_E_CHECKSUM,
                    "cs_holdout_open_records", NULL);
    cs_holdout_free(holdout);
}

/* Expects opening the fake record file with these options to fail with a
 * mismatch in `field`. */
static void expect_mismatch(const char *path, const cs_holdout_options *o,
                            const int32_t *labels, size_t n,
                            const char *recipe, const char *field)
{
    cs_holdout *holdout = NULL;
    assert_int_equal(cs_holdout_create(o, labels, n, recipe, &holdout), CS_OK);
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, path),
                    CS_E_RECORDS_MISMATCH, "cs_holdout_open_records", NULL);
    assert_string_equal(cs_last_error()->value, field);
    assert_non_null(strstr(cs_last_error_message(), path));
    TF_EXPECT_ERROR(cs_holdout_merge_records(holdout, path),
                    CS_E_RECORDS_MISMATCH, "cs_holdout_merge_records", NULL);
    assert_int_equal(runs_done(holdout), 0);
    cs_holdout_free(holdout);
}

static void foreign_header_rejected(void **state)
{
    (void)state;
    char path[256];
    join(path, "foreign.records");
    write_records(path, 2);
    const int64_t size = file_size(path);

    cs_holdout_options options = plan(2, 1);
    options.seed = F_SEED + 1;
    expect_mismatch(path, &options, f_labels, F_N, f_recipe, "master_seed");
    options.seed = F_SEED;
    expect_mismatch(path, &options, f_labels, F_N, "fake-trainer v2",
                    "recipe");
    assert_non_null(strstr(cs_last_error_message(), "'v1'"));
    assert_non_null(strstr(cs_last_error_message(), "'v2'"));
    expect_mismatch(path, &options, f_labels, F_N - 1, f_recipe, "n");
    int32_t other[F_N];
    memcpy(other, f_labels, sizeof other);
    other[17] = (other[17] + 1) % F_CLASSES;
    expect_mismatch(path, &options, other, F_N, f_recipe, "labels");
    assert_int_equal(cs_last_error()->example_id, 17);
    assert_int_equal(file_size(path), size);

    /* Not a record file at all. */
    char text_path[256];
    join(text_path, "notes.txt");
    const char text[] = "these are notes, not a record file of runs";
    tf_write_file(text_path, text, sizeof text);
    cs_holdout *holdout = create(&options);
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, text_path), CS_E_FORMAT,
                    "cs_holdout_open_records", NULL);

    /* A later format version. */
    size_t length = 0;
    char *bytes = tf_read_file(path, &length);
    bytes[8] = 2;
    tf_write_file(text_path, bytes, length);
    free(bytes);
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, text_path),
                    CS_E_UNSUPPORTED_VERSION, "cs_holdout_open_records", NULL);

    char missing[256];
    join(missing, "no-such-folder/x.records");
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, missing), CS_E_IO,
                    "cs_holdout_open_records", NULL);
    TF_EXPECT_ERROR(cs_holdout_merge_records(holdout, missing), CS_E_IO,
                    "cs_holdout_merge_records", NULL);
    cs_holdout_free(holdout);
}

static void record_file_locked(void **state)
{
    (void)state;
    char path[256];
    join(path, "locked.records");
    unlink(path);
    const cs_holdout_options options = plan(2, 1);
    cs_holdout *a = create(&options);
    cs_holdout *b = create(&options);
    assert_int_equal(cs_holdout_open_records(a, path), CS_OK);
    TF_EXPECT_ERROR(cs_holdout_open_records(b, path), CS_E_IO,
                    "cs_holdout_open_records", NULL);
    assert_non_null(strstr(cs_last_error_message(), "locked"));
    /* Reading is allowed while another handle appends. */
    assert_int_equal(cs_holdout_merge_records(b, path), CS_OK);

    /* Freeing the first handle releases the lock. */
    cs_holdout_free(a);
    assert_int_equal(cs_holdout_open_records(b, path), CS_OK);
    cs_holdout_free(b);
}

/* A record whose CRC is right but whose contents are impossible is a
 * format error, not a torn record. */
static void invalid_record_rejected(void **state)
{
    (void)state;
    char path[256];
    join(path, "invalid.records");
    write_records(path, 1);
    size_t size = 0;
    char *bytes = tf_read_file(path, &size);
    const int64_t first = header_bytes();
    uint8_t *record = (uint8_t *)bytes + first;
    record[16] ^= 1; /* the seed */
    const size_t body = (size_t)record_bytes() - 4;
    const uint32_t crc = (uint32_t)crc32(0, record, (unsigned)body);
    for (int k = 0; k < 4; k++)
        record[body + k] = (uint8_t)(crc >> (8 * k));
    tf_write_file(path, bytes, size);
    free(bytes);

    const cs_holdout_options options = plan(1, 1);
    cs_holdout *holdout = create(&options);
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, path), CS_E_FORMAT,
                    "cs_holdout_open_records", NULL);
    assert_non_null(strstr(cs_last_error_message(), "seed"));
    assert_int_equal(cs_last_error()->offset, first);
    cs_holdout_free(holdout);
}

/* ------------------------------------------------------------------------
 * Added counts, export and argument checks
 * ------------------------------------------------------------------------ */

static void add_counts_round_trip(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(10, 1);
    cs_holdout *source = create(&options);
    run_fake(source, F_SEED);
    cs_holdout *total = create(&options);

    for (int k = 0; k < 2; k++) {
        const int32_t ratio = options.ratios[k];
        int32_t heldout[F_N], correct[F_N];
        int64_t runs = 0;
        assert_int_equal(cs_holdout_counts(source, ratio, heldout, correct,
                                           F_N, &runs),
                         CS_OK);
        assert_int_equal(cs_holdout_add_counts(total, ratio, heldout, correct,
                                               F_N, runs),
                         CS_OK);
    }
    assert_same_counts(source, total);

    /* Checks before anything is added. */
    int32_t heldout[F_N] = {0}, correct[F_N] = {0};
    correct[3] = 1;
    TF_EXPECT_ERROR(cs_holdout_add_counts(total, 30, heldout, correct, F_N, 1),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_add_counts", "heldout");
    TF_EXPECT_ERROR(cs_holdout_add_counts(total, 50, heldout, heldout, F_N, 0),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_add_counts", "ratio");
    TF_EXPECT_ERROR(cs_holdout_add_counts(total, 30, heldout, heldout, F_N,
                                          -1),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_add_counts", "runs");
    TF_EXPECT_ERROR(cs_holdout_add_counts(total, 30, heldout, heldout, F_N,
                                          CS_HOLDOUT_MAX_RUNS),
                    CS_E_OVERFLOW, "cs_holdout_add_counts", "runs");
    TF_EXPECT_ERROR(cs_holdout_add_counts(total, 30, NULL, heldout, F_N, 0),
                    CS_E_NULL_ARGUMENT, "cs_holdout_add_counts", "heldout");
    TF_EXPECT_ERROR(cs_holdout_add_counts(total, 30, heldout, heldout, 3, 0),
                    CS_E_SIZE_MISMATCH, "cs_holdout_add_counts", "n");
    assert_same_counts(source, total);

    /* Runs behind added counts are unknown, so running is rejected. */
    fake_trainer fake;
    fake_init(&fake, F_SEED);
    const cs_holdout_trainer trainer = fake_interface(&fake);
    TF_EXPECT_ERROR(cs_holdout_run(total, &trainer, NULL, NULL),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_run", "holdout");
    cs_holdout_free(source);
    cs_holdout_free(total);
}

static void result_errors(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(1, 1);
    cs_holdout *holdout = create(&options);
    double values[F_N];
    int32_t ratios[2];
    size_t count = 0;

    assert_int_equal(cs_holdout_ratios(holdout, NULL, 0, &count), CS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(cs_holdout_ratios(holdout, ratios, 2, &count), CS_OK);
    assert_int_equal(ratios[0],
                     30); /* increasing, whatever the plan's order */
    assert_int_equal(ratios[1], 70);
    TF_EXPECT_ERROR(cs_holdout_ratios(holdout, ratios, 1, &count),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_ratios", "capacity");
    TF_EXPECT_ERROR(cs_holdout_ratios(NULL, ratios, 2, &count),
                    CS_E_NULL_ARGUMENT, "cs_holdout_ratios", "holdout");
    TF_EXPECT_ERROR(cs_holdout_scores(holdout, 50, values, NULL, NULL, F_N),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_scores", "ratio");
    TF_EXPECT_ERROR(cs_holdout_scores(holdout, 30, values, NULL, NULL, 3),
                    CS_E_SIZE_MISMATCH, "cs_holdout_scores", "n");
    TF_EXPECT_ERROR(cs_holdout_integral(NULL, values, NULL, F_N),
                    CS_E_NULL_ARGUMENT, "cs_holdout_integral", "holdout");
    TF_EXPECT_ERROR(cs_holdout_counts(holdout, 0, NULL, NULL, F_N, NULL),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_counts", "ratio");
    cs_holdout_summary small = {.struct_size = 8};
    TF_EXPECT_ERROR(cs_holdout_get_summary(holdout, &small),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_get_summary",
                    "summary");
    assert_null(cs_holdout_recipe(NULL));
    assert_int_equal(cs_holdout_n_examples(NULL), -1);
    cs_holdout_free(holdout);
    cs_holdout_free(NULL);
}

static int numpy_available(void)
{
    return system(PYTHON " -c 'import numpy' >/dev/null 2>&1") == 0;
}

static void export_npz_arrays(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(20, 1);
    cs_holdout *holdout = create(&options);
    run_fake(holdout, F_SEED);
    char path[256], script[256];
    join(path, "result.npz");
    assert_int_equal(cs_holdout_export_npz(holdout, path), CS_OK);
    TF_EXPECT_ERROR(cs_holdout_export_npz(holdout, NULL), CS_E_NULL_ARGUMENT,
                    "cs_holdout_export_npz", "path");
    if (!numpy_available()) {
        cs_holdout_free(holdout);
        print_message("numpy checks skipped: " PYTHON " lacks numpy\n");
        return;
    }

    /* Writes the expected values as Python literals next to the archive
     * and lets numpy compare them. */
    double score[F_N], se[F_N], integral[F_N];
    int32_t count[F_N], total[F_N];
    join(script, "check.py");
    FILE *py = fopen(script, "w");
    assert_non_null(py);
    fprintf(py,
            "import sys\nimport numpy as np\nnan = float('nan')\n"
            "z = np.load(sys.argv[1])\n"
            "names = ['labels', 'score_s30', 'count_s30', 'se_s30',\n"
            "         'score_s70', 'count_s70', 'se_s70', 'integral',\n"
            "         'heldout_count']\n"
            "assert sorted(z.files) == sorted(names), z.files\n"
            "def same(name, dtype, values):\n"
            "    a = z[name]\n"
            "    assert a.dtype == dtype and a.shape == (%d,), name\n"
            "    assert np.array_equal(a, np.array(values, dtype),\n"
            "                          equal_nan=True), name\n",
            F_N);
    fprintf(py, "same('labels', 'int32', [");
    for (int j = 0; j < F_N; j++)
        fprintf(py, "%d,", (int)f_labels[j]);
    fprintf(py, "])\n");
    for (int32_t ratio = 30; ratio <= 70; ratio += 40) {
        cs_holdout_scores(holdout, ratio, score, count, se, F_N);
        fprintf(py, "same('score_s%d', 'float64', [", (int)ratio);
        for (int j = 0; j < F_N; j++)
            fprintf(py, "%.17g,", score[j]);
        fprintf(py, "])\nsame('count_s%d', 'int32', [", (int)ratio);
        for (int j = 0; j < F_N; j++)
            fprintf(py, "%d,", (int)count[j]);
        fprintf(py, "])\nsame('se_s%d', 'float64', [", (int)ratio);
        for (int j = 0; j < F_N; j++)
            fprintf(py, "%.17g,", se[j]);
        fprintf(py, "])\n");
    }
    cs_holdout_integral(holdout, integral, total, F_N);
    fprintf(py, "same('integral', 'float64', [");
    for (int j = 0; j < F_N; j++)
        fprintf(py, "%.17g,", integral[j]);
    fprintf(py, "])\nsame('heldout_count', 'int32', [");
    for (int j = 0; j < F_N; j++)
        fprintf(py, "%d,", (int)total[j]);
    fprintf(py, "])\n");
    fclose(py);

    char command[600];
    snprintf(command, sizeof command, PYTHON " %s %s", script, path);
    assert_int_equal(system(command), 0);
    cs_holdout_free(holdout);
}

static void create_errors(void **state)
{
    (void)state;
    cs_holdout_options options = plan(3, 1);
    cs_holdout *holdout = (cs_holdout *)&options; /* set to NULL on failure */
    const char *fn = "cs_holdout_create";

    TF_EXPECT_ERROR(cs_holdout_create(&options, f_labels, F_N, f_recipe, NULL),
                    CS_E_NULL_ARGUMENT, fn, "out");
    TF_EXPECT_ERROR(cs_holdout_create(NULL, f_labels, F_N, f_recipe, &holdout),
                    CS_E_NULL_ARGUMENT, fn, "options");
    assert_null(holdout);
    TF_EXPECT_ERROR(cs_holdout_create(&options, NULL, F_N, f_recipe, &holdout),
                    CS_E_NULL_ARGUMENT, fn, "labels");
    TF_EXPECT_ERROR(cs_holdout_create(&options, f_labels, F_N, NULL, &holdout),
                    CS_E_NULL_ARGUMENT, fn, "recipe");
    TF_EXPECT_ERROR(cs_holdout_create(&options, f_labels, 0, f_recipe,
                                      &holdout),
                    CS_E_ZERO_SIZE, fn, "n");
    TF_EXPECT_ERROR(cs_holdout_create(&options, f_labels, 1, f_recipe,
                                      &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "n");
    TF_EXPECT_ERROR(cs_holdout_create(&options, f_labels, SIZE_MAX, f_recipe,
                                      &holdout),
                    CS_E_OVERFLOW, fn, "n");

    int32_t labels[F_N];
    memcpy(labels, f_labels, sizeof labels);
    labels[5] = -1;
    TF_EXPECT_ERROR(cs_holdout_create(&options, labels, F_N, f_recipe,
                                      &holdout),
                    CS_E_LABEL_OUT_OF_RANGE, fn, "labels");
    assert_int_equal(cs_last_error()->index, 5);

    /* Each option outside its range. */
    cs_holdout_options bad = options;
    bad.n_ratios = 0;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->n_ratios");
    bad = options;
    bad.ratios[1] = 100;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->ratios");
    assert_int_equal(cs_last_error()->index, 1);
    bad = options;
    bad.ratios[1] = 70;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->ratios");
    bad = options;
    bad.ratios[1] = 1; /* 1% of 40 rounds to 0 examples */
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->ratios");
    bad = options;
    bad.runs = 0;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->runs");
    bad.runs = CS_HOLDOUT_MAX_RUNS + 1;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->runs");
    bad = options;
    bad.workers = 0;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->workers");
    bad = options;
    bad.slice_count = 0;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->slice_count");
    bad = options;
    bad.slice_index = 1;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options->slice_index");
    bad = options;
    bad.struct_size = 8;
    TF_EXPECT_ERROR(cs_holdout_create(&bad, f_labels, F_N, f_recipe, &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "options");

    char *long_recipe = malloc(CS_HOLDOUT_MAX_RECIPE_LENGTH + 2);
    assert_non_null(long_recipe);
    memset(long_recipe, 'x', CS_HOLDOUT_MAX_RECIPE_LENGTH + 1);
    long_recipe[CS_HOLDOUT_MAX_RECIPE_LENGTH + 1] = '\0';
    TF_EXPECT_ERROR(cs_holdout_create(&options, f_labels, F_N, long_recipe,
                                      &holdout),
                    CS_E_INVALID_ARGUMENT, fn, "recipe");
    free(long_recipe);
    assert_null(holdout);
}

static void run_errors(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(1, 1);
    cs_holdout *holdout = create(&options);
    fake_trainer fake;
    fake_init(&fake, F_SEED);
    cs_holdout_trainer trainer = fake_interface(&fake);

    TF_EXPECT_ERROR(cs_holdout_run(NULL, &trainer, NULL, NULL),
                    CS_E_NULL_ARGUMENT, "cs_holdout_run", "holdout");
    TF_EXPECT_ERROR(cs_holdout_run(holdout, NULL, NULL, NULL),
                    CS_E_NULL_ARGUMENT, "cs_holdout_run", "trainer");
    trainer.train = NULL;
    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, NULL, NULL),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_run", "trainer");
    trainer = fake_interface(&fake);
    trainer.struct_size = 8;
    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, NULL, NULL),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_run", "trainer");
    assert_int_equal(fake.calls, 0);
    assert_int_equal(fake.begin_calls, 0);
    TF_EXPECT_ERROR(cs_holdout_open_records(NULL, "x"), CS_E_NULL_ARGUMENT,
                    "cs_holdout_open_records", "holdout");
    TF_EXPECT_ERROR(cs_holdout_open_records(holdout, NULL), CS_E_NULL_ARGUMENT,
                    "cs_holdout_open_records", "path");
    TF_EXPECT_ERROR(cs_holdout_create_from_records("x", NULL),
                    CS_E_NULL_ARGUMENT, "cs_holdout_create_from_records",
                    "out");
    cs_holdout_free(holdout);
}

/* Fails each allocation of cs_holdout_create() and of
 * cs_holdout_open_records() in turn: every failure is reported as out of
 * memory and leaves nothing behind (checked by the sanitizer build). */
static void allocation_failures(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(2, 1);
    char path[256];
    join(path, "alloc.records");
    write_records(path, 2);

    bool succeeded = false;
    for (long n = 1; n < 100 && !succeeded; n++) {
        cs_holdout *holdout = NULL;
        cs__set_alloc_failure_countdown(n);
        cs_status status = cs_holdout_create(&options, f_labels, F_N, f_recipe,
                                             &holdout);
        if (status == CS_OK)
            status = cs_holdout_open_records(holdout, path);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK) {
            assert_int_equal(runs_done(holdout), 4);
            succeeded = true;
        } else {
            assert_int_equal(status, CS_E_OUT_OF_MEMORY);
            if (holdout != NULL)
                assert_int_equal(runs_done(holdout), 0);
        }
        cs_holdout_free(holdout);
    }
    assert_true(succeeded);
}

/* The same loop for cs_holdout_create_from_records() and
 * cs_holdout_merge_records(): a failed merge leaves the handle's counts as
 * they were. */
static void records_allocation_failures(void **state)
{
    (void)state;
    char path[256];
    join(path, "alloc-merge.records");
    write_records(path, 2);

    long n = 1;
    for (; n < 100; n++) {
        cs_holdout *holdout = NULL;
        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_create_from_records(path,
                                                                &holdout);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK) {
            assert_int_equal(runs_done(holdout), 4);
            cs_holdout_free(holdout);
            break;
        }
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY,
                        "cs_holdout_create_from_records", NULL);
        assert_null(holdout);
    }
    assert_true(n > 1 && n < 100);

    const cs_holdout_options options = plan(2, 1);
    cs_holdout *holdout = create(&options);
    for (n = 1; n < 100; n++) {
        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_merge_records(holdout, path);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK)
            break;
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY,
                        "cs_holdout_merge_records", NULL);
        assert_int_equal(runs_done(holdout), 0);
    }
    assert_true(n > 1 && n < 100);
    assert_int_equal(runs_done(holdout), 4);
    cs_holdout_free(holdout);
}

/* The same loop for cs_holdout_run() with one worker, which runs on this
 * thread, so that the allocation hook (per thread) reaches every buffer.
 * Each attempt starts from a fresh handle. */
static void run_allocation_failures(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(2, 1);
    long n = 1;
    for (; n < 100; n++) {
        cs_holdout *holdout = create(&options);
        fake_trainer fake;
        fake_init(&fake, F_SEED);
        const cs_holdout_trainer trainer = fake_interface(&fake);

        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_run(holdout, &trainer, NULL,
                                                NULL);
        cs__set_alloc_failure_countdown(0);

        assert_int_equal(fake.end_calls, fake.begin_calls);
        const int64_t done = runs_done(holdout);
        cs_holdout_free(holdout);
        if (status == CS_OK) {
            assert_int_equal(done, 4);
            break;
        }
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, "cs_holdout_run", NULL);
        assert_true(done < 4);
    }
    assert_true(n > 1 && n < 100);
}

/* The same loop for cs_holdout_export_npz(): a failure leaves no file in
 * a folder of its own, neither the archive nor a temporary file. */
static void export_allocation_failures(void **state)
{
    (void)state;
    const cs_holdout_options options = plan(2, 1);
    cs_holdout *holdout = create(&options);
    run_fake(holdout, F_SEED);
    char folder[256], path[256];
    join(folder, "export-alloc");
    assert_int_equal(mkdir(folder, 0700), 0);
    tf_join_path(path, sizeof path, folder, "result.npz");

    long n = 1;
    for (; n < 1000; n++) {
        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_export_npz(holdout, path);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK)
            break;
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, "cs_holdout_export_npz",
                        NULL);
        assert_int_equal(tf_count_dir_entries(folder), 0);
    }
    assert_true(n > 1 && n < 1000);
    TF_ASSERT_DIR_HOLDS_ONLY(folder, "result.npz");
    tf_remove_dir(folder);
    cs_holdout_free(holdout);
}

/* The same loop for cs_holdout_add_counts(), whose first call for a ratio
 * outside the records allocates that ratio's counts: a failure adds
 * nothing. A planned handle has the counts of its ratios from the start,
 * so the handle here comes from a record file. */
static void add_counts_allocation_failures(void **state)
{
    (void)state;
    char path[256];
    join(path, "alloc-add.records");
    write_records(path, 1);
    cs_holdout *holdout = NULL;
    assert_int_equal(cs_holdout_create_from_records(path, &holdout), CS_OK);
    size_t ratios_before = 0;
    assert_int_equal(cs_holdout_ratios(holdout, NULL, 0, &ratios_before),
                     CS_OK);
    int32_t heldout[F_N], correct[F_N];
    for (int j = 0; j < F_N; j++) {
        heldout[j] = 2;
        correct[j] = j % 3 == 0;
    }

    long n = 1;
    for (; n < 10; n++) {
        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_add_counts(holdout, 50, heldout,
                                                       correct, F_N, 2);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK)
            break;
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, "cs_holdout_add_counts",
                        NULL);
        size_t count = 0;
        assert_int_equal(cs_holdout_ratios(holdout, NULL, 0, &count), CS_OK);
        assert_int_equal(count, ratios_before);
    }
    assert_true(n > 1 && n < 10);
    int64_t runs = 0;
    int32_t got_heldout[F_N], got_correct[F_N];
    assert_int_equal(cs_holdout_counts(holdout, 50, got_heldout, got_correct,
                                       F_N, &runs),
                     CS_OK);
    assert_int_equal(runs, 2);
    assert_memory_equal(got_heldout, heldout, sizeof heldout);
    cs_holdout_free(holdout);
}

/* The same loop for cs_holdout_subset(). */
static void subset_allocation_failures(void **state)
{
    (void)state;
    int64_t indices[F_N];
    const size_t size = cs_holdout_subset_size(F_N, 50);

    long n = 1;
    for (; n < 10; n++) {
        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_subset(7, F_N, 50, indices, size);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK)
            break;
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, "cs_holdout_subset",
                        NULL);
    }
    assert_true(n > 1 && n < 10);
}

/* ------------------------------------------------------------------------
 * The built-in MLP trainer
 * ------------------------------------------------------------------------ */

#define M_N 60
#define M_INPUTS 4

/* Points in four quadrants, labeled by quadrant. */
static void make_quadrants(float *inputs, int32_t *labels)
{
    uint64_t random = 0x5eed;
    for (int j = 0; j < M_N; j++) {
        labels[j] = j % 4;
        for (int k = 0; k < M_INPUTS; k++)
            inputs[j * M_INPUTS + k] = (float)(tf_random_uniform(&random) *
                                               0.5);
        inputs[j * M_INPUTS + 0] += (labels[j] & 1) ? 1.0f : -1.0f;
        inputs[j * M_INPUTS + 1] += (labels[j] & 2) ? 1.0f : -1.0f;
    }
}

/* The small network that the built-in trainer tests fit to the quadrant
 * examples. */
static void quadrant_recipe(cs_trainer_options *recipe)
{
    cs_trainer_options_init(recipe);
    recipe->n_inputs = M_INPUTS;
    recipe->n_classes = 4;
    recipe->hidden_widths[0] = 16;
    recipe->hidden_widths[1] = 8;
}

static cs_holdout *run_mlp(const cs_examples *train, int32_t workers,
                           const char *records, int32_t threads)
{
    cs_trainer_options recipe;
    quadrant_recipe(&recipe);
    recipe.epochs = 10;
    recipe.batch_size = 8;
    recipe.threads = threads;
    cs_holdout_mlp *mlp = NULL;
    assert_int_equal(cs_holdout_mlp_create(&recipe, train, train, &mlp),
                     CS_OK);
    cs_holdout_trainer trainer = {.struct_size = sizeof trainer};
    assert_int_equal(cs_holdout_mlp_trainer(mlp, &trainer), CS_OK);

    cs_holdout_options options;
    cs_holdout_options_init(&options);
    options.n_ratios = 2;
    options.ratios[0] = 50;
    options.ratios[1] = 80;
    options.runs = 3;
    options.workers = workers;
    cs_holdout *holdout = NULL;
    assert_int_equal(cs_holdout_create(&options, train->labels, train->n,
                                       cs_holdout_mlp_recipe(mlp), &holdout),
                     CS_OK);
    if (records != NULL)
        assert_int_equal(cs_holdout_open_records(holdout, records), CS_OK);
    assert_int_equal(cs_holdout_run(holdout, &trainer, NULL, NULL), CS_OK);
    cs_holdout_mlp_free(mlp);
    return holdout;
}

static void mlp_trainer_runs(void **state)
{
    (void)state;
    float inputs[M_N * M_INPUTS];
    int32_t labels[M_N];
    make_quadrants(inputs, labels);
    const cs_examples train = {inputs, labels, M_N, M_INPUTS};

    char path[256];
    join(path, "mlp.records");
    unlink(path);
    cs_holdout *single = run_mlp(&train, 1, path, 1);
    cs_holdout *parallel = run_mlp(&train, 2, NULL, 1);
    /* One thread per trainer in both, so the runs are bit-identical. */
    int32_t heldout_single[M_N], correct_single[M_N], heldout_parallel[M_N],
        correct_parallel[M_N];
    for (int32_t ratio = 50; ratio <= 80; ratio += 30) {
        cs_holdout_counts(single, ratio, heldout_single, correct_single, M_N,
                          NULL);
        cs_holdout_counts(parallel, ratio, heldout_parallel, correct_parallel,
                          M_N, NULL);
        assert_memory_equal(heldout_single, heldout_parallel,
                            sizeof heldout_single);
        assert_memory_equal(correct_single, correct_parallel,
                            sizeof correct_single);
    }
    /* The quadrants are easy: most held-out examples come out right. */
    double integral[M_N], mean = 0.0;
    cs_holdout_integral(single, integral, NULL, M_N);
    for (int j = 0; j < M_N; j++)
        mean += isnan(integral[j]) ? 1.0 : integral[j];
    assert_true(mean / M_N > 0.7);

    const char *recipe = cs_holdout_recipe(single);
    assert_non_null(strstr(recipe, "cscore-mlp v1 inputs=4 classes=4 "
                                   "hidden=16,8 epochs=10 batch=8 lr=0.1 "));
    assert_non_null(strstr(recipe, " momentum=0.9 "));
    assert_non_null(strstr(recipe, " inputs_fnv1a="));
    assert_null(strstr(recipe, "seed"));
    assert_null(strstr(recipe, "threads"));
    cs_holdout_free(single);
    cs_holdout_free(parallel);
}

/* The same loop for cs_holdout_mlp_create(): a failure hands back no
 * trainer. */
static void mlp_allocation_failures(void **state)
{
    (void)state;
    float inputs[M_N * M_INPUTS];
    int32_t labels[M_N];
    make_quadrants(inputs, labels);
    const cs_examples train = {inputs, labels, M_N, M_INPUTS};
    cs_trainer_options recipe;
    quadrant_recipe(&recipe);

    long n = 1;
    for (; n < 100; n++) {
        cs_holdout_mlp *mlp = NULL;
        cs__set_alloc_failure_countdown(n);
        const cs_status status = cs_holdout_mlp_create(&recipe, &train,
                                                       &train, &mlp);
        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK) {
            assert_non_null(mlp);
            cs_holdout_mlp_free(mlp);
            break;
        }
        assert_int_equal(status, CS_E_OUT_OF_MEMORY);
        assert_null(mlp);
    }
    assert_true(n > 1 && n < 100);
}

static void mlp_trainer_errors(void **state)
{
    (void)state;
    float inputs[M_N * M_INPUTS];
    int32_t labels[M_N];
    make_quadrants(inputs, labels);
    const cs_examples train = {inputs, labels, M_N, M_INPUTS};
    cs_trainer_options recipe;
    cs_trainer_options_init(&recipe);
    recipe.n_inputs = M_INPUTS;
    recipe.n_classes = 4;
    cs_holdout_mlp *mlp = NULL;
    const char *fn = "cs_holdout_mlp_create";

    TF_EXPECT_ERROR(cs_holdout_mlp_create(&recipe, &train, NULL, NULL),
                    CS_E_NULL_ARGUMENT, fn, "out");
    TF_EXPECT_ERROR(cs_holdout_mlp_create(NULL, &train, NULL, &mlp),
                    CS_E_NULL_ARGUMENT, fn, "recipe");
    TF_EXPECT_ERROR(cs_holdout_mlp_create(&recipe, NULL, NULL, &mlp),
                    CS_E_NULL_ARGUMENT, fn, "train");
    cs_trainer_options bad = recipe;
    bad.n_inputs = 5;
    TF_EXPECT_ERROR(cs_holdout_mlp_create(&bad, &train, NULL, &mlp),
                    CS_E_INVALID_ARGUMENT, fn, "train");
    bad = recipe;
    bad.epochs = 0;
    TF_EXPECT_ERROR(cs_holdout_mlp_create(&bad, &train, NULL, &mlp),
                    CS_E_INVALID_ARGUMENT, fn, NULL);
    labels[7] = 9;
    TF_EXPECT_ERROR(cs_holdout_mlp_create(&recipe, &train, NULL, &mlp),
                    CS_E_LABEL_OUT_OF_RANGE, fn, "train->labels");
    assert_null(mlp);
    labels[7] = 3;

    /* Several workers need single-threaded trainers. */
    recipe.threads = 2;
    assert_int_equal(cs_holdout_mlp_create(&recipe, &train, NULL, &mlp),
                     CS_OK);
    cs_holdout_trainer trainer = {.struct_size = sizeof trainer};
    assert_int_equal(cs_holdout_mlp_trainer(mlp, &trainer), CS_OK);
    cs_holdout_options options;
    cs_holdout_options_init(&options);
    options.n_ratios = 1;
    options.ratios[0] = 50;
    options.runs = 2;
    options.workers = 2;
    cs_holdout *holdout = NULL;
    assert_int_equal(cs_holdout_create(&options, labels, M_N,
                                       cs_holdout_mlp_recipe(mlp), &holdout),
                     CS_OK);
    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, NULL, NULL),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_run",
                    "options->workers");
    cs_holdout_free(holdout);

    /* An estimate on other data than the trainer's. */
    options.workers = 1;
    assert_int_equal(cs_holdout_create(&options, labels, M_N - 1,
                                       cs_holdout_mlp_recipe(mlp), &holdout),
                     CS_OK);
    TF_EXPECT_ERROR(cs_holdout_run(holdout, &trainer, NULL, NULL),
                    CS_E_SIZE_MISMATCH, "cs_holdout_run", "trainer");
    cs_holdout_free(holdout);

    trainer.struct_size = 4;
    TF_EXPECT_ERROR(cs_holdout_mlp_trainer(mlp, &trainer),
                    CS_E_INVALID_ARGUMENT, "cs_holdout_mlp_trainer",
                    "trainer");
    TF_EXPECT_ERROR(cs_holdout_mlp_trainer(NULL, &trainer), CS_E_NULL_ARGUMENT,
                    "cs_holdout_mlp_trainer", "mlp");
    assert_null(cs_holdout_mlp_recipe(NULL));
    cs_holdout_mlp_free(mlp);
    cs_holdout_mlp_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_seed_formula),
        cmocka_unit_test(run_seeds_distinct),
        cmocka_unit_test(subset_size_rounding),
        cmocka_unit_test(subset_reproducible),
        cmocka_unit_test(subset_uniform),
        cmocka_unit_test(subset_errors),
        cmocka_unit_test(closed_form_scores),
        cmocka_unit_test(never_held_out_is_nan),
        cmocka_unit_test(workers_give_same_counts),
        cmocka_unit_test(progress_and_stop),
        cmocka_unit_test(trainer_failure_is_reported),
        cmocka_unit_test(slices_partition_the_plan),
        cmocka_unit_test(merge_equals_single_run),
        cmocka_unit_test(resume_from_records),
        cmocka_unit_test(resume_after_kill),
        cmocka_unit_test(torn_last_record_dropped),
        cmocka_unit_test(damaged_record_rejected),
        cmocka_unit_test(foreign_header_rejected),
        cmocka_unit_test(record_file_locked),
        cmocka_unit_test(invalid_record_rejected),
        cmocka_unit_test(add_counts_round_trip),
        cmocka_unit_test(result_errors),
        cmocka_unit_test(export_npz_arrays),
        cmocka_unit_test(create_errors),
        cmocka_unit_test(run_errors),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(records_allocation_failures),
        cmocka_unit_test(run_allocation_failures),
        cmocka_unit_test(export_allocation_failures),
        cmocka_unit_test(add_counts_allocation_failures),
        cmocka_unit_test(subset_allocation_failures),
        cmocka_unit_test(mlp_trainer_runs),
        cmocka_unit_test(mlp_allocation_failures),
        cmocka_unit_test(mlp_trainer_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
