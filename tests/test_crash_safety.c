/*
 * Crash-safety tests of the file writers, run against real child
 * processes.
 *
 * Kills: a child rewrites a file in a loop (checkpoint, CSV export, .npz
 * export, .npy file), alternating between two contents A and B. The parent
 * kills it with SIGKILL 120 times, after delays spread from 0 to twice the
 * time of one write (at least 4 ms). After every kill the file must
 * contain all of A or all of B, and any other file beside it must be a
 * temporary file of the writer. A control writer that writes in place
 * shows that the same loop catches a torn file. A second loop kills a
 * holdout estimate while it appends records. It checks that every run
 * reported as finished is still in the record file with the bytes of an
 * uninterrupted run, and that resuming gives the uninterrupted counts.
 *
 * Full disk: a child with a small RLIMIT_FSIZE (SIGXFSZ ignored, so
 * write() fails with EFBIG) and, when a tmpfs can be mounted, a full tmpfs
 * (ENOSPC) make each writer fail. The call must return CS_E_IO with a
 * message that names the path, the reason and what to check, the previous
 * file must be unchanged byte for byte, and no temporary file may remain.
 */
#include "tracker_fixtures.h"

#include "internal.h"
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <zlib.h>

/* Tracker size: large enough that one write takes a few milliseconds, so
 * that kills land inside it. */
#define T_N 1500
#define T_CLASSES 10
#define T_NPY_FLOATS 100000

/* Kills per writer. The delays before the kills spread over 0 to twice
 * the time of one write, and over at least 0 to MIN_KILL_SPAN_US. */
#define KILLS 120
#define MIN_KILL_SPAN_US 4000

/* File size limit of the full-disk child, in bytes: smaller than every
 * file that the tracker writers produce here. */
#define FSIZE_LIMIT 16384

/* The two contents a writer alternates between. */
enum { STATE_A = 0, STATE_B = 1, STATE_NEITHER = -1 };

static char temp_dir[64];

/* Folder of the kill tests and the reference files: a folder on /dev/shm
 * where one can be made, otherwise temp_dir. fsync(2) on a tmpfs returns
 * at once, so a write there takes milliseconds rather than tens of them,
 * and the kills fit the time budget. A killed process leaves the page
 * cache as it was on any file system, so this changes what fsync costs,
 * not what the tests check. */
static char kill_root[64];
static cs_tracker *trackers[2]; /* state A has 3 epochs, state B 5 */
static float *npy_data[2];

/* ------------------------------------------------------------------------
 * Writers and their reference copies
 * ------------------------------------------------------------------------ */

typedef cs_status (*write_fn)(const char *path, int state);

typedef struct crash_writer {
    const char *name;        /* file name in the test folder */
    write_fn write;          /* writes state A or B to path */
    bool same_bytes;         /* the same state always gives the same bytes */
    char references[2][256]; /* paths of reference copies of A and B */
} crash_writer;

static cs_status write_checkpoint(const char *path, int state)
{
    return cs_tracker_save(trackers[state], path);
}

static cs_status write_csv(const char *path, int state)
{
    return cs_tracker_export_csv(trackers[state], path);
}

static cs_status write_npz(const char *path, int state)
{
    return cs_tracker_export_npz(trackers[state], path);
}

static cs_status write_npy(const char *path, int state)
{
    const int64_t shape[1] = {T_NPY_FLOATS};
    return cs__npy_write_file(path, CS__DTYPE_F32, shape, 1, npy_data[state],
                              "test_crash_safety");
}

/* Control: writes the reference bytes of the .npy writer in place, 4 KiB
 * at a time, as a writer without a temporary file would. */
static cs_status write_in_place(const char *path, int state);

static crash_writer writers[] = {
    {"state.ckpt", write_checkpoint, true, {"", ""}},
    {"proxies.csv", write_csv, true, {"", ""}},
    /* libzip stores the time of writing in each member, so .npz files are
     * compared by their arrays. */
    {"proxies.npz", write_npz, false, {"", ""}},
    {"features.npy", write_npy, true, {"", ""}},
    {"in_place.npy", write_in_place, true, {"", ""}},
};

enum { W_CHECKPOINT, W_CSV, W_NPZ, W_NPY, W_IN_PLACE, W_COUNT };

static cs_status write_in_place(const char *path, int state)
{
    size_t size = 0;
    char *bytes = tf_read_file(writers[W_NPY].references[state], &size);
    FILE *file = fopen(path, "wb");
    cs_status status = file == NULL ? CS_E_IO : CS_OK;

    for (size_t at = 0; status == CS_OK && at < size; at += 4096) {
        const size_t chunk = size - at < 4096 ? size - at : 4096;

        if (fwrite(bytes + at, 1, chunk, file) != chunk || fflush(file) != 0)
            status = CS_E_IO;
    }
    if (file != NULL && fclose(file) != 0)
        status = CS_E_IO;
    free(bytes);
    return status;
}

/* Builds a tracker with history over `epochs` epochs of seeded logits. */
static cs_tracker *make_tracker(int32_t epochs, uint64_t seed)
{
    cs_tracker *tracker = tf_create(T_N, T_CLASSES, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    float *logits = malloc((size_t)T_N * T_CLASSES * sizeof(float));
    int32_t *labels = malloc(T_N * sizeof(int32_t));
    uint64_t random_state = seed;

    assert_non_null(logits);
    assert_non_null(labels);
    tf_fill_labels(labels, T_N, &random_state, T_CLASSES);
    for (int32_t e = 0; e < epochs; e++) {
        tf_fill_uniform(logits, (size_t)T_N * T_CLASSES, &random_state, -3.0,
                        3.0);
        assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, T_N),
                         CS_OK);
    }
    free(logits);
    free(labels);
    return tracker;
}

/* Writes the reference copies of A and B of every writer under
 * kill_root/refs. */
static void write_references(void)
{
    char folder[256];

    tf_join_path(folder, sizeof folder, kill_root, "refs");
    assert_int_equal(mkdir(folder, 0700), 0);
    for (int w = 0; w < W_COUNT; w++) {
        for (int state = 0; state < 2; state++) {
            char name[64];

            snprintf(name, sizeof name, "%c.%s", state == 0 ? 'a' : 'b',
                     writers[w].name);
            tf_join_path(writers[w].references[state], 256, folder, name);
            assert_int_equal(writers[w].write(writers[w].references[state],
                                              state),
                             CS_OK);
        }
    }
}

static int holdout_setup(void);
static char *h_reference; /* bytes of an uninterrupted record file */

static int group_setup(void **state)
{
    (void)state;
    tf_make_temp_dir(temp_dir, sizeof temp_dir);
    snprintf(kill_root, sizeof kill_root, "/dev/shm/cscore_crash_XXXXXX");
    if (mkdtemp(kill_root) == NULL)
        snprintf(kill_root, sizeof kill_root, "%s", temp_dir);
    trackers[STATE_A] = make_tracker(3, 0x1234567u);
    trackers[STATE_B] = make_tracker(5, 0x89abcdefu);

    uint64_t random_state = 42;
    for (int s = 0; s < 2; s++) {
        npy_data[s] = malloc(T_NPY_FLOATS * sizeof(float));
        assert_non_null(npy_data[s]);
        tf_fill_uniform(npy_data[s], T_NPY_FLOATS, &random_state, -1.0, 1.0);
    }
    write_references();
    return holdout_setup();
}

/* Removes root/name/ and its plain files. */
static void remove_subfolder(const char *root, const char *name)
{
    char folder[256];

    tf_join_path(folder, sizeof folder, root, name);
    tf_remove_dir(folder);
}

/* Removes root, its subfolders and their plain files, also those that a
 * failed test left. */
static void remove_root(const char *root)
{
    DIR *handle = opendir(root);
    const struct dirent *entry;

    if (handle == NULL)
        return;
    while ((entry = readdir(handle)) != NULL) {
        if (entry->d_name[0] != '.')
            remove_subfolder(root, entry->d_name);
    }
    closedir(handle);
    tf_remove_dir(root);
}

static int group_teardown(void **state)
{
    (void)state;
    if (strcmp(kill_root, temp_dir) != 0)
        remove_root(kill_root);
    remove_root(temp_dir);
    for (int s = 0; s < 2; s++) {
        cs_tracker_free(trackers[s]);
        free(npy_data[s]);
    }
    free(h_reference);
    return 0;
}

/* Creates root/name/ for one test, removing an old one first. */
static void make_subfolder(const char *root, const char *name, char *folder,
                           size_t size)
{
    remove_subfolder(root, name);
    tf_join_path(folder, size, root, name);
    assert_int_equal(mkdir(folder, 0700), 0);
}

/* ------------------------------------------------------------------------
 * Comparing a file with the references
 * ------------------------------------------------------------------------ */

static bool same_file_bytes(const char *path, const char *reference)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return false;

    size_t want_size = 0;
    char *want = tf_read_file(reference, &want_size);
    char *got = malloc(want_size + 1);
    assert_non_null(got);

    /* Reading one byte more than expected catches a longer file. */
    const size_t got_size = fread(got, 1, want_size + 1, file);
    const bool same = got_size == want_size &&
                      memcmp(got, want, want_size) == 0;
    fclose(file);
    free(want);
    free(got);
    return same;
}

static size_t element_size(cs_element_type type)
{
    switch (type) {
    case CS_ELEMENT_INT32:
    case CS_ELEMENT_FLOAT32:
        return 4;
    case CS_ELEMENT_INT64:
    case CS_ELEMENT_FLOAT64:
        return 8;
    default:
        return 1;
    }
}

static bool same_array(const cs_array *a, const cs_array *b)
{
    if (a->type != b->type || a->ndim != b->ndim || a->count != b->count)
        return false;
    if (memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int64_t)) != 0)
        return false;
    return memcmp(a->data, b->data, a->count * element_size(a->type)) == 0;
}

/* True when both archives hold the same keys in the same order with equal
 * arrays. A file that does not open as an archive is not equal. */
static bool same_npz_arrays(const char *path, const char *reference)
{
    cs_npz *got = NULL;
    cs_npz *want = NULL;
    if (cs_npz_open(path, &got) != CS_OK)
        return false;
    assert_int_equal(cs_npz_open(reference, &want), CS_OK);

    bool same = cs_npz_count(got) == cs_npz_count(want);
    for (size_t i = 0; same && i < cs_npz_count(want); i++) {
        const char *key = cs_npz_key(want, i);
        cs_array *a = NULL;
        cs_array *b = NULL;

        same = strcmp(key, cs_npz_key(got, i)) == 0 &&
               cs_npz_read(got, key, &a) == CS_OK;
        assert_int_equal(cs_npz_read(want, key, &b), CS_OK);
        same = same && same_array(a, b);
        cs_array_free(a);
        cs_array_free(b);
    }
    cs_npz_close(got);
    cs_npz_close(want);
    return same;
}

/* Returns STATE_A or STATE_B when path contains all of that state, else
 * STATE_NEITHER. */
static int state_on_disk(const crash_writer *writer, const char *path)
{
    for (int state = 0; state < 2; state++) {
        const char *reference = writer->references[state];
        const bool same = writer->same_bytes
                              ? same_file_bytes(path, reference)
                              : same_npz_arrays(path, reference);
        if (same)
            return state;
    }
    return STATE_NEITHER;
}

/* Counts the entries of folder other than name, and fails unless each is
 * a temporary file of name: "name.tmp." and random characters. */
static int count_temporary_files(const char *folder, const char *name)
{
    DIR *handle = opendir(folder);
    const struct dirent *entry;
    char prefix[128];
    int count = 0;

    assert_non_null(handle);
    snprintf(prefix, sizeof prefix, "%s.tmp.", name);
    while ((entry = readdir(handle)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0 ||
            strcmp(entry->d_name, name) == 0)
            continue;
        if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0) {
            print_error("unexpected file %s/%s\n", folder, entry->d_name);
            closedir(handle);
            fail();
        }
        count++;
    }
    closedir(handle);
    return count;
}

/* ------------------------------------------------------------------------
 * Killing a writer
 * ------------------------------------------------------------------------ */

typedef struct kill_result {
    int on_disk[2];      /* kills after which the file held A, B */
    int neither;         /* kills after which it held neither */
    int first_bad_kill;  /* index of the first such kill, or -1 */
    int first_bad_delay; /* its delay in microseconds */
    int temporary_files; /* left in the folder after the last kill */
    int span_us;         /* largest delay before a kill */
} kill_result;

/* Delay before kill k of KILLS: the values 0 .. span_us in equal steps,
 * visited in a stride coprime with KILLS, so that neighbouring kills land
 * far apart. */
static int kill_delay_us(int k, int span_us)
{
    const long step = (long)(k * 37 % KILLS);
    return (int)(step * span_us / (KILLS - 1));
}

static int64_t now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static void sleep_us(int microseconds)
{
    struct timespec delay = {microseconds / 1000000,
                             (long)(microseconds % 1000000) * 1000};
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
        ;
}

/* Child: signals the parent, then writes B, A, B, ... to path until it is
 * killed. Exits with 2 if a write fails, which the parent reports. */
static void rewrite_until_killed(const crash_writer *writer, const char *path,
                                 int ready_fd)
{
    const char byte = 1;
    if (write(ready_fd, &byte, 1) != 1)
        _exit(3);
    close(ready_fd);
    for (unsigned i = 0;; i++) {
        if (writer->write(path, (int)((i + 1) % 2)) != CS_OK)
            _exit(2);
    }
}

/* Starts a child that rewrites path, kills it with SIGKILL delay_us after
 * it started writing, and waits for it. */
static void kill_one_writer(const crash_writer *writer, const char *path,
                            int delay_us)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);

    const pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(ready[0]);
        rewrite_until_killed(writer, path, ready[1]);
    }

    close(ready[1]);
    char byte = 0;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    sleep_us(delay_us);
    assert_int_equal(kill(child, SIGKILL), 0);

    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFSIGNALED(status))
        print_error("the writer child exited with %d before the kill\n",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Writes A to folder/name, then kills KILLS rewriting children, recording
 * what each kill left on disk. */
static kill_result kill_writer_repeatedly(const crash_writer *writer,
                                          const char *folder)
{
    kill_result result = {{0, 0}, 0, -1, -1, 0, 0};
    char path[256];

    tf_join_path(path, sizeof path, folder, writer->name);
    const int64_t start = now_us();
    assert_int_equal(writer->write(path, STATE_A), CS_OK);
    const int64_t write_us = now_us() - start;
    assert_int_equal(state_on_disk(writer, path), STATE_A);
    result.span_us = (int)(2 * write_us > MIN_KILL_SPAN_US ? 2 * write_us
                                                           : MIN_KILL_SPAN_US);

    for (int k = 0; k < KILLS; k++) {
        const int delay = kill_delay_us(k, result.span_us);

        kill_one_writer(writer, path, delay);
        const int state = state_on_disk(writer, path);
        if (state != STATE_NEITHER) {
            result.on_disk[state]++;
            continue;
        }
        result.neither++;
        if (result.first_bad_kill < 0) {
            result.first_bad_kill = k;
            result.first_bad_delay = delay;
        }
        /* Start the next kill from a whole file again. */
        assert_int_equal(writer->write(path, STATE_A), CS_OK);
    }
    result.temporary_files = count_temporary_files(folder, writer->name);
    return result;
}

/* Kills the writer of the test's state at many points and fails unless
 * every kill left a whole A or a whole B. */
static void kill_leaves_whole_file(void **state)
{
    const crash_writer *writer = *state;
    char folder[256];
    char subfolder[64];

    snprintf(subfolder, sizeof subfolder, "kill_%s", writer->name);
    make_subfolder(kill_root, subfolder, folder, sizeof folder);

    const kill_result result = kill_writer_repeatedly(writer, folder);
    print_message("%s: of %d kills within %d us, %d left A, %d left B, "
                  "%d left neither; %d temporary files left\n",
                  writer->name, KILLS, result.span_us, result.on_disk[STATE_A],
                  result.on_disk[STATE_B], result.neither,
                  result.temporary_files);
    if (result.neither > 0)
        print_error("kill %d after %d us left a file that is neither A nor "
                    "B\n",
                    result.first_bad_kill, result.first_bad_delay);
    assert_int_equal(result.neither, 0);

    /* Both states seen: the kills landed before and after renames. */
    assert_true(result.on_disk[STATE_A] > 0);
    assert_true(result.on_disk[STATE_B] > 0);

    /* Each write removes what killed writers left, so only the last
     * kill's temporary files remain: ours, and libzip's for .npz. */
    assert_true(result.temporary_files <= 2);

    /* The next whole write removes those too. */
    char path[256];
    tf_join_path(path, sizeof path, folder, writer->name);
    assert_int_equal(writer->write(path, STATE_A), CS_OK);
    assert_int_equal(count_temporary_files(folder, writer->name), 0);
    remove_subfolder(kill_root, subfolder);
}

/* The same loop finds the torn files of a writer that writes in place, so
 * kill_leaves_whole_file can fail. */
static void kill_catches_in_place_writer(void **state)
{
    (void)state;
    char folder[256];

    make_subfolder(kill_root, "kill_in_place", folder, sizeof folder);
    const kill_result result = kill_writer_repeatedly(&writers[W_IN_PLACE],
                                                      folder);
    print_message("in-place writer: %d of %d kills left a torn file\n",
                  result.neither, KILLS);
    assert_true(result.neither > 0);
    remove_subfolder(kill_root, "kill_in_place");
}

/* ------------------------------------------------------------------------
 * Full disk
 * ------------------------------------------------------------------------ */

/* Fails unless path contains exactly the size bytes of want. */
static void assert_file_bytes(const char *path, const char *want, size_t size)
{
    size_t got_size = 0;
    char *got = tf_read_file(path, &got_size);

    assert_int_equal(got_size, size);
    assert_memory_equal(got, want, size);
    free(got);
}

/* What a failing write returned, sent from the child to the parent. */
typedef struct write_outcome {
    cs_status status;
    char message[768];
} write_outcome;

/* Fails unless the outcome is CS_E_IO with a message naming path, the
 * reason text of errnum and what to check: free space, and for EFBIG the
 * file size limit. */
static void assert_io_failure(const write_outcome *outcome, const char *path,
                              int errnum)
{
    const char *reason = strerror(errnum);

    if (strstr(outcome->message, path) == NULL ||
        strstr(outcome->message, reason) == NULL ||
        strstr(outcome->message, "disk space") == NULL)
        print_error("message for '%s': \"%s\"\n", path, outcome->message);
    assert_int_equal(outcome->status, CS_E_IO);
    assert_non_null(strstr(outcome->message, path));
    assert_non_null(strstr(outcome->message, reason));
    assert_non_null(strstr(outcome->message, "disk space"));
    if (errnum == EFBIG)
        assert_non_null(strstr(outcome->message, "ulimit -f"));
}

/* Child: limits the size of files it writes to limit_bytes, ignoring
 * SIGXFSZ so that write() fails with EFBIG, then runs write(path, state)
 * and sends the outcome to outcome_fd. */
static void run_with_size_limit(write_fn write_file, const char *path,
                                int state, rlim_t limit_bytes, int outcome_fd)
{
    const struct rlimit limit = {limit_bytes, limit_bytes};
    write_outcome outcome;

    memset(&outcome, 0, sizeof outcome);
    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
        setrlimit(RLIMIT_FSIZE, &limit) != 0)
        _exit(3);
    outcome.status = write_file(path, state);
    snprintf(outcome.message, sizeof outcome.message, "%s",
             cs_last_error_message());
    if (write(outcome_fd, &outcome, sizeof outcome) != sizeof outcome)
        _exit(4);
    _exit(0);
}

/* Runs write(path, state) in a child whose files may not grow past
 * limit_bytes, and returns what it returned. */
static write_outcome write_with_size_limit(write_fn write_file,
                                           const char *path, int state,
                                           rlim_t limit_bytes)
{
    int channel[2];
    assert_int_equal(pipe(channel), 0);

    const pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(channel[0]);
        run_with_size_limit(write_file, path, state, limit_bytes, channel[1]);
    }

    close(channel[1]);
    write_outcome outcome;
    assert_int_equal(read(channel[0], &outcome, sizeof outcome),
                     sizeof outcome);
    close(channel[0]);

    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return outcome;
}

/* Writes A, then B under a file size limit, and checks the failure. */
static void size_limit_keeps_old_file(void **state)
{
    const crash_writer *writer = *state;
    char folder[256];
    char subfolder[64];
    char path[256];

    snprintf(subfolder, sizeof subfolder, "fsize_%s", writer->name);
    make_subfolder(temp_dir, subfolder, folder, sizeof folder);
    tf_join_path(path, sizeof path, folder, writer->name);
    assert_int_equal(writer->write(path, STATE_A), CS_OK);
    size_t size_before = 0;
    char *before = tf_read_file(path, &size_before);

    const write_outcome outcome = write_with_size_limit(writer->write, path,
                                                        STATE_B, FSIZE_LIMIT);
    assert_io_failure(&outcome, path, EFBIG);
    assert_file_bytes(path, before, size_before);
    TF_ASSERT_DIR_HOLDS_ONLY(folder, writer->name);
    free(before);
    remove_subfolder(temp_dir, subfolder);
}

/* ------------------------------------------------------------------------
 * Holdout record files
 * ------------------------------------------------------------------------ */

/* The estimate: H_N examples, ratios 30 and 70, H_RUNS runs each, and a
 * rule trainer that needs microseconds per run, so that the append with
 * its fsync is most of each run. */
#define H_N 40
#define H_CLASSES 3
#define H_RUNS 1500
#define H_SEED 2024u
#define H_PLANNED (2 * H_RUNS)

static int32_t h_labels[H_N];
static const char *const h_recipe = "crash-safety rule trainer v1";

/* Bytes of one record and of the header, from the layout in cscore.h. */
static size_t h_record_bytes(void)
{
    return 40 + 2 * ((H_N + 7) / 8) + 4;
}

static size_t h_header_bytes(void)
{
    return 44 + strlen(h_recipe) + 4 * H_N + 4;
}

/* Predicts example j correctly when it is trained on or when bit j % 61
 * of the run's seed is set, so every run has its own correctness bits. */
static cs_status rule_train(const cs_holdout_run_info *run, int32_t *predicted,
                            double *test_accuracy, void *user_data)
{
    (void)user_data;
    bool trained[H_N] = {false};

    for (size_t k = 0; k < run->n_train; k++)
        trained[run->train_indices[k]] = true;
    for (size_t j = 0; j < run->n_examples; j++) {
        const bool correct = trained[j] || ((run->seed >> (j % 61)) & 1);
        predicted[j] = correct ? h_labels[j] : (h_labels[j] + 1) % H_CLASSES;
    }
    *test_accuracy = (double)(run->seed % 1000) / 1000.0;
    return CS_OK;
}

static cs_holdout_trainer rule_trainer(void)
{
    const cs_holdout_trainer trainer = {.struct_size = sizeof trainer,
                                        .train = rule_train};
    return trainer;
}

static cs_holdout_options holdout_plan(int32_t runs)
{
    cs_holdout_options options;

    cs_holdout_options_init(&options);
    options.n_ratios = 2;
    options.ratios[0] = 30;
    options.ratios[1] = 70;
    options.runs = runs;
    options.seed = H_SEED;
    return options;
}

/* Slot of (ratio, run) in tables of H_PLANNED entries, or -1 when the
 * pair is outside the plan. */
static int run_slot(int32_t ratio, int32_t run)
{
    if ((ratio != 30 && ratio != 70) || run < 0 || run >= H_RUNS)
        return -1;
    return (ratio == 30 ? 0 : H_RUNS) + run;
}

static cs_holdout *create_holdout(int32_t runs)
{
    const cs_holdout_options options = holdout_plan(runs);
    cs_holdout *holdout = NULL;

    assert_int_equal(cs_holdout_create(&options, h_labels, H_N, h_recipe,
                                       &holdout),
                     CS_OK);
    return holdout;
}

/* Runs the rest of the plan of `runs` runs per ratio, appending to the
 * record file path, and returns the status of the first failing call. */
static cs_status run_records(const char *path, int32_t runs,
                             cs_holdout_progress_fn progress, void *user_data)
{
    const cs_holdout_options options = holdout_plan(runs);
    const cs_holdout_trainer trainer = rule_trainer();
    cs_holdout *holdout = NULL;

    cs_status status = cs_holdout_create(&options, h_labels, H_N, h_recipe,
                                         &holdout);
    if (status == CS_OK)
        status = cs_holdout_open_records(holdout, path);
    if (status == CS_OK)
        status = cs_holdout_run(holdout, &trainer, progress, user_data);
    cs_holdout_free(holdout);
    return status;
}

/* Fails unless two estimates have equal counts for both ratios. */
static void assert_same_counts(const cs_holdout *want, const cs_holdout *got)
{
    static const int32_t ratios[2] = {30, 70};

    for (int r = 0; r < 2; r++) {
        int32_t heldout_want[H_N], correct_want[H_N];
        int32_t heldout_got[H_N], correct_got[H_N];
        int64_t runs_want = 0, runs_got = 0;

        assert_int_equal(cs_holdout_counts(want, ratios[r], heldout_want,
                                           correct_want, H_N, &runs_want),
                         CS_OK);
        assert_int_equal(cs_holdout_counts(got, ratios[r], heldout_got,
                                           correct_got, H_N, &runs_got),
                         CS_OK);
        assert_int_equal(runs_got, runs_want);
        assert_memory_equal(heldout_got, heldout_want, sizeof heldout_want);
        assert_memory_equal(correct_got, correct_want, sizeof correct_want);
    }
}

/* Fails unless the record file path, resumed to the end of the plan of
 * `runs` runs per ratio, gives the counts of an uninterrupted run. */
static void assert_resume_matches(const char *path, int32_t runs)
{
    const cs_holdout_trainer trainer = rule_trainer();
    cs_holdout *resumed = create_holdout(runs);
    cs_holdout *reference = create_holdout(runs);

    assert_int_equal(cs_holdout_open_records(resumed, path), CS_OK);
    assert_int_equal(cs_holdout_run(resumed, &trainer, NULL, NULL), CS_OK);
    assert_int_equal(cs_holdout_run(reference, &trainer, NULL, NULL), CS_OK);
    assert_same_counts(reference, resumed);
    cs_holdout_free(resumed);
    cs_holdout_free(reference);
}

/* Size of h_reference, which holds the whole plan, and where each run's
 * record starts in it. */
static size_t h_reference_size;
static size_t h_reference_offset[H_PLANNED];

static uint32_t load_u32(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
           (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
}

static int32_t load_i32(const uint8_t *bytes)
{
    return (int32_t)load_u32(bytes);
}

static bool record_crc_ok(const uint8_t *record)
{
    const size_t size = h_record_bytes();
    return (uint32_t)crc32(0L, record, (uInt)(size - 4)) ==
           load_u32(record + size - 4);
}

static void write_reference_records(void)
{
    char path[256];

    tf_join_path(path, sizeof path, kill_root, "refs/reference.records");
    assert_int_equal(run_records(path, H_RUNS, NULL, NULL), CS_OK);
    h_reference = tf_read_file(path, &h_reference_size);
    assert_int_equal(h_reference_size,
                     h_header_bytes() + H_PLANNED * h_record_bytes());

    for (size_t i = 0; i < H_PLANNED; i++) {
        const size_t offset = h_header_bytes() + i * h_record_bytes();
        const uint8_t *record = (const uint8_t *)h_reference + offset;
        const int slot = run_slot(load_i32(record + 4), load_i32(record + 8));

        assert_true(slot >= 0);
        h_reference_offset[slot] = offset;
    }
}

/* Fails unless record equals the uninterrupted run's record of the same
 * run in every byte but the seconds and the CRC that covers them. */
static void assert_record_as_reference(const uint8_t *record, int slot)
{
    const uint8_t *want = (const uint8_t *)h_reference +
                          h_reference_offset[slot];
    const size_t seconds_end = 40;

    assert_memory_equal(record, want, 32);
    assert_memory_equal(record + seconds_end, want + seconds_end,
                        h_record_bytes() - seconds_end - 4);
}

/* What a check of a record file found. */
typedef struct records_found {
    int whole; /* valid whole records */
    int torn;  /* 1 when a torn last record follows them */
} records_found;

/* Checks a record file left by a killed job: the header of the
 * uninterrupted file, then valid records, each of a run not seen before
 * and equal to the uninterrupted run's, then at most a torn last record.
 * Every run in reported must be in the file. */
static records_found check_record_file(const char *path, const bool *reported)
{
    const size_t header = h_header_bytes();
    const size_t record_size = h_record_bytes();
    bool seen[H_PLANNED] = {false};
    records_found found = {0, 0};
    size_t size = 0;
    uint8_t *bytes = (uint8_t *)tf_read_file(path, &size);

    assert_true(size >= header);
    assert_memory_equal(bytes, h_reference, header);

    const size_t whole = (size - header) / record_size;
    found.torn = (size - header) % record_size != 0;
    for (size_t i = 0; i < whole; i++) {
        const uint8_t *record = bytes + header + i * record_size;
        if (!record_crc_ok(record)) {
            /* Only the last record may be torn. */
            assert_int_equal(i, whole - 1);
            assert_int_equal(found.torn, 0);
            found.torn = 1;
            break;
        }
        const int slot = run_slot(load_i32(record + 4), load_i32(record + 8));
        assert_true(slot >= 0);
        assert_false(seen[slot]);
        seen[slot] = true;
        assert_record_as_reference(record, slot);
        found.whole++;
    }
    for (int slot = 0; slot < H_PLANNED; slot++) {
        if (reported[slot] && !seen[slot])
            print_error("run %d of ratio %d was reported finished but is "
                        "not in '%s'\n",
                        slot % H_RUNS, slot < H_RUNS ? 30 : 70, path);
        assert_true(!reported[slot] || seen[slot]);
    }
    free(bytes);
    return found;
}

/* Fails unless opening path counts `found.whole` runs and drops the torn
 * record, if any, from the file. */
static void assert_open_drops_torn(const char *path, records_found found)
{
    cs_holdout *holdout = create_holdout(H_RUNS);
    cs_holdout_summary summary = {.struct_size = sizeof summary};
    struct stat info;

    assert_int_equal(cs_holdout_open_records(holdout, path), CS_OK);
    assert_int_equal(cs_holdout_get_summary(holdout, &summary), CS_OK);
    assert_int_equal(summary.runs_done, found.whole);
    assert_int_equal(summary.records_torn, found.torn);
    cs_holdout_free(holdout);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal((size_t)info.st_size,
                     h_header_bytes() +
                         (size_t)found.whole * h_record_bytes());
}

/* Progress callback of the child: sends (ratio, run) of each recorded
 * run to the file descriptor in user_data. */
static cs_status report_run(const cs_holdout_progress *progress,
                            void *user_data)
{
    const int fd = *(const int *)user_data;
    const int32_t message[2] = {progress->ratio, progress->run};

    if (write(fd, message, sizeof message) != sizeof message)
        return CS_E_IO;
    return CS_OK;
}

/* Child: sends a start message, then resumes the estimate at path until
 * it is killed or done. */
static void run_holdout_until_killed(const char *path, int report_fd)
{
    const int32_t start[2] = {-1, -1};

    if (write(report_fd, start, sizeof start) != sizeof start)
        _exit(3);
    if (run_records(path, H_RUNS, report_run, &report_fd) != CS_OK)
        _exit(4);
    _exit(0);
}

/* Starts a child that resumes the estimate at path, kills it delay_us
 * after it started, and marks the runs it reported in reported. Returns
 * true when the child finished the plan before the kill. */
static bool kill_holdout_child(const char *path, int delay_us, bool *reported)
{
    int channel[2];
    assert_int_equal(pipe(channel), 0);

    const pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(channel[0]);
        run_holdout_until_killed(path, channel[1]);
    }

    close(channel[1]);
    int32_t message[2];
    assert_int_equal(read(channel[0], message, sizeof message),
                     sizeof message);
    sleep_us(delay_us);
    assert_int_equal(kill(child, SIGKILL), 0);

    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    const bool finished = WIFEXITED(status);
    if (finished)
        assert_int_equal(WEXITSTATUS(status), 0);
    else
        assert_int_equal(WTERMSIG(status), SIGKILL);

    /* The child is gone, so the pipe ends after its last message. */
    while (read(channel[0], message, sizeof message) == sizeof message) {
        const int slot = run_slot(message[0], message[1]);
        assert_true(slot >= 0);
        reported[slot] = true;
    }
    close(channel[0]);
    return finished;
}

/* Kills an estimate at many points while it appends records, resuming the
 * same record file each time. */
static void kill_holdout_resumes_exactly(void **state)
{
    (void)state;
    const char *name = "estimate.records";
    char folder[256];
    char path[256];
    bool reported[H_PLANNED] = {false};
    int partial = 0;
    int torn = 0;
    int completed = 0;

    make_subfolder(kill_root, "kill_holdout", folder, sizeof folder);
    tf_join_path(path, sizeof path, folder, name);
    for (int k = 0; k < KILLS; k++) {
        const bool finished =
            kill_holdout_child(path, kill_delay_us(k, MIN_KILL_SPAN_US),
                               reported);
        if (access(path, F_OK) != 0) {
            /* Killed before the header was linked into place. */
            for (int slot = 0; slot < H_PLANNED; slot++)
                assert_false(reported[slot]);
            continue;
        }

        const records_found found = check_record_file(path, reported);
        if (found.whole > 0 && found.whole < H_PLANNED)
            partial++;
        torn += found.torn;
        assert_open_drops_torn(path, found);
        if (finished) {
            /* Start a new estimate once the plan is done. */
            assert_int_equal(found.whole, H_PLANNED);
            assert_resume_matches(path, H_RUNS);
            assert_int_equal(unlink(path), 0);
            memset(reported, 0, sizeof reported);
            completed++;
        }
    }
    if (access(path, F_OK) == 0)
        assert_resume_matches(path, H_RUNS);

    const int temporary = count_temporary_files(folder, name);
    print_message("holdout: %d kills, %d left part of the plan, %d a torn "
                  "last record, %d plans completed, %d temporary files "
                  "left\n",
                  KILLS, partial, torn, completed, temporary);
    assert_true(partial > 0);
    assert_true(temporary <= KILLS);
    remove_subfolder(kill_root, "kill_holdout");
}

/* Full-disk helpers for record files: write functions in the form of
 * write_fn. "state" is unused. */
static cs_status extend_records(const char *path, int state)
{
    (void)state;
    return run_records(path, 4, NULL, NULL);
}

static cs_status create_records(const char *path, int state)
{
    (void)state;
    return run_records(path, 1, NULL, NULL);
}

/* A record file that cannot grow keeps its whole records, and a new one
 * that cannot hold its header is not created. */
static void size_limit_keeps_records(void **state)
{
    (void)state;
    const char *name = "estimate.records";
    char folder[256];
    char path[256];
    char new_path[256];

    make_subfolder(temp_dir, "fsize_holdout", folder, sizeof folder);
    tf_join_path(path, sizeof path, folder, name);
    assert_int_equal(run_records(path, 2, NULL, NULL), CS_OK);
    size_t size_before = 0;
    char *before = tf_read_file(path, &size_before);

    /* The limit falls inside the next record, so its first bytes are
     * written before write() fails. */
    const rlim_t limit = (rlim_t)(size_before + h_record_bytes() / 2);
    const write_outcome outcome = write_with_size_limit(extend_records, path,
                                                        0, limit);
    assert_io_failure(&outcome, path, EFBIG);
    assert_file_bytes(path, before, size_before);
    TF_ASSERT_DIR_HOLDS_ONLY(folder, name);
    assert_resume_matches(path, 4);
    free(before);

    tf_join_path(new_path, sizeof new_path, folder, "new.records");
    const write_outcome created = write_with_size_limit(create_records,
                                                        new_path, 0, 64);
    assert_io_failure(&created, new_path, EFBIG);
    assert_int_equal(access(new_path, F_OK), -1);
    TF_ASSERT_DIR_HOLDS_ONLY(folder, name);
    remove_subfolder(temp_dir, "fsize_holdout");
}

/* ------------------------------------------------------------------------
 * Full tmpfs (ENOSPC)
 * ------------------------------------------------------------------------ */

/* Size of the tmpfs, with room for any one file written here. The filler
 * then takes the rest. */
#define TMPFS_OPTIONS "size=4m"

static char tmpfs_folder[256]; /* mounted folder, or "" */

/* Mounts a tmpfs on temp_dir/name/ for one test. Returns false, leaving
 * nothing mounted, when mounting is not permitted. */
static bool mount_tmpfs(const char *name, char *folder, size_t size)
{
    make_subfolder(temp_dir, name, folder, size);
    if (mount("tmpfs", folder, "tmpfs", 0, TMPFS_OPTIONS) != 0) {
        print_message("skipped: cannot mount a tmpfs on %s (%s); the "
                      "ENOSPC tests need root with CAP_SYS_ADMIN\n",
                      folder, strerror(errno));
        return false;
    }
    snprintf(tmpfs_folder, sizeof tmpfs_folder, "%s", folder);
    return true;
}

/* Teardown of the ENOSPC tests: unmounts the tmpfs, also after a failed
 * assertion, and removes its folder. */
static int unmount_tmpfs(void **state)
{
    (void)state;
    if (tmpfs_folder[0] != '\0') {
        if (umount2(tmpfs_folder, MNT_DETACH) != 0)
            print_error("cannot unmount %s: %s\n", tmpfs_folder,
                        strerror(errno));
        rmdir(tmpfs_folder);
        tmpfs_folder[0] = '\0';
    }
    return 0;
}

/* Fills the file system of folder with folder/filler until a write fails
 * with ENOSPC. */
static void fill_file_system(const char *folder)
{
    static const char zeros[65536];
    char path[256];

    tf_join_path(path, sizeof path, folder, "filler");
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    for (;;) {
        const ssize_t put = write(fd, zeros, sizeof zeros);
        if (put < 0) {
            assert_int_equal(errno, ENOSPC);
            break;
        }
    }
    close(fd);
}

static void remove_filler(const char *folder)
{
    char path[256];

    tf_join_path(path, sizeof path, folder, "filler");
    assert_int_equal(unlink(path), 0);
}

/* Writes A on a tmpfs, fills it, then writes B and checks the failure. */
static void full_disk_keeps_old_file(void **state)
{
    const crash_writer *writer = *state;
    char folder[256];
    char subfolder[64];
    char path[256];

    snprintf(subfolder, sizeof subfolder, "enospc_%s", writer->name);
    if (!mount_tmpfs(subfolder, folder, sizeof folder))
        skip();
    tf_join_path(path, sizeof path, folder, writer->name);
    assert_int_equal(writer->write(path, STATE_A), CS_OK);
    size_t size_before = 0;
    char *before = tf_read_file(path, &size_before);
    fill_file_system(folder);

    write_outcome outcome = {writer->write(path, STATE_B), ""};
    snprintf(outcome.message, sizeof outcome.message, "%s",
             cs_last_error_message());
    assert_io_failure(&outcome, path, ENOSPC);
    assert_file_bytes(path, before, size_before);
    remove_filler(folder);
    TF_ASSERT_DIR_HOLDS_ONLY(folder, writer->name);
    free(before);
}

/* Appends to a record file on a tmpfs until it is full. The failed append
 * leaves only whole records, and resuming after space is freed gives the
 * uninterrupted counts. */
static void full_disk_keeps_records(void **state)
{
    (void)state;
    const char *name = "estimate.records";
    char folder[256];
    char path[256];
    bool reported[H_PLANNED] = {false};

    if (!mount_tmpfs("enospc_holdout", folder, sizeof folder))
        skip();
    tf_join_path(path, sizeof path, folder, name);
    assert_int_equal(run_records(path, 2, NULL, NULL), CS_OK);
    size_t size_before = 0;
    char *before = tf_read_file(path, &size_before);
    fill_file_system(folder);

    /* A tmpfs allocates whole pages, so appends go on until one needs a
     * new page. */
    write_outcome outcome = {run_records(path, H_RUNS, NULL, NULL), ""};
    snprintf(outcome.message, sizeof outcome.message, "%s",
             cs_last_error_message());
    assert_io_failure(&outcome, path, ENOSPC);

    size_t size_after = 0;
    char *after = tf_read_file(path, &size_after);
    assert_true(size_after >= size_before);
    assert_memory_equal(after, before, size_before);
    const records_found found = check_record_file(path, reported);
    assert_int_equal(found.torn, 0);
    assert_true(found.whole < H_PLANNED);

    remove_filler(folder);
    TF_ASSERT_DIR_HOLDS_ONLY(folder, name);
    assert_resume_matches(path, H_RUNS);
    free(before);
    free(after);
}

/* ------------------------------------------------------------------------
 * Runner
 * ------------------------------------------------------------------------ */

static int holdout_setup(void)
{
    for (int j = 0; j < H_N; j++)
        h_labels[j] = (int32_t)(j % H_CLASSES);
    write_reference_records();
    return 0;
}

#define WRITER_TEST(test_name, function, index)                               \
    {                                                                         \
        .name = (test_name), .test_func = (function),                         \
        .initial_state = &writers[(index)]                                    \
    }

#define TMPFS_TEST(test_name, function, index)                                \
    {                                                                         \
        .name = (test_name), .test_func = (function),                         \
        .teardown_func = unmount_tmpfs, .initial_state = &writers[(index)]    \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_catches_in_place_writer),
        WRITER_TEST("kill_checkpoint_save", kill_leaves_whole_file,
                    W_CHECKPOINT),
        WRITER_TEST("kill_csv_export", kill_leaves_whole_file, W_CSV),
        WRITER_TEST("kill_npz_export", kill_leaves_whole_file, W_NPZ),
        WRITER_TEST("kill_npy_write", kill_leaves_whole_file, W_NPY),
        cmocka_unit_test(kill_holdout_resumes_exactly),
        WRITER_TEST("size_limit_checkpoint_save", size_limit_keeps_old_file,
                    W_CHECKPOINT),
        WRITER_TEST("size_limit_csv_export", size_limit_keeps_old_file, W_CSV),
        WRITER_TEST("size_limit_npz_export", size_limit_keeps_old_file, W_NPZ),
        WRITER_TEST("size_limit_npy_write", size_limit_keeps_old_file, W_NPY),
        cmocka_unit_test(size_limit_keeps_records),
        TMPFS_TEST("full_disk_checkpoint_save", full_disk_keeps_old_file,
                   W_CHECKPOINT),
        TMPFS_TEST("full_disk_csv_export", full_disk_keeps_old_file, W_CSV),
        TMPFS_TEST("full_disk_npz_export", full_disk_keeps_old_file, W_NPZ),
        TMPFS_TEST("full_disk_npy_write", full_disk_keeps_old_file, W_NPY),
        cmocka_unit_test_teardown(full_disk_keeps_records, unmount_tmpfs),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
