/*
 * Exact per-class kernel sums over every pair of rows of one set, the core
 * of the CS_KDE_EXACT method.
 *
 * Each tile (I, J) of the schedule takes the dot products of blocks I and
 * J from one sgemm (ssyrk on the diagonal, upper triangle only), turns
 * them into kernel values, and adds each value to both rows of its pair:
 * to row i's sum for the class of j, and to row j's sum for the class of
 * i. The row side is summed directly, one class run at a time; the column
 * side is collected per class in a workspace column and added after the
 * tile. So every pair is evaluated once, and memory is the N x C sums plus
 * a T x T tile and C x T columns per worker.
 *
 * Precision: kernel values are float32 and every sum of them is double.
 * Checked with bench/kde/kde_numpy.py --check-precision against a float64
 * evaluation, on the 256 last-layer features of all 60,000 Fashion-MNIST
 * training images after 10 epochs of `cscore train`, at the default
 * bandwidth. Float32 sums over j, added in order, moved the ranks of 21%
 * of the examples for KDE +-L, 6% for KDE L and 17% for class-free, by up
 * to 8 places, and were off by up to 2.7e-4 of the class-free score. These
 * double sums moved 0.3%, 1.8% and 0.4% by at most 2 places, with errors
 * up to 1.3e-5, which come from the float32 dot products and kernel
 * values rather than from the sums.
 */
#include "kde/kde_internal.h"

#include <cblas.h>
#include <string.h>

typedef struct symmetric_job {
    const cs__kde_set *set;
    cs__kde_schedule schedule;
    double *class_sums; /* set->n x C */
    float *grams;       /* per worker: T x T */
    double *columns;    /* per worker: C x T */
} symmetric_job;

/* Classes of the rows of a block: [first, last], a range because the
 * rows are grouped by class. */
static void block_classes(const cs__kde_set *set, size_t first_row,
                          size_t rows, int32_t *first, int32_t *last)
{
    *first = set->labels[first_row];
    *last = set->labels[first_row + rows - 1];
}

/* Adds columns[c][j], for the classes of block I, to the sums of row
 * first_j + j. */
static void add_columns(const symmetric_job *job, const double *columns,
                        int32_t first_class, int32_t last_class,
                        size_t first_j, size_t rows_j)
{
    const size_t n_classes = (size_t)job->set->n_classes;
    for (size_t j = 0; j < rows_j; j++) {
        double *sums = job->class_sums + (first_j + j) * n_classes;
        for (int32_t c = first_class; c <= last_class; c++)
            sums[c] += columns[(size_t)c * rows_j + j];
    }
}

/* Tile (I, I): pairs r < s within one block, from the upper triangle. */
static void diagonal_tile(const symmetric_job *job, float *gram,
                          double *columns, size_t block)
{
    const cs__kde_set *set = job->set;
    const size_t n_classes = (size_t)set->n_classes;
    const size_t first = block * job->schedule.tile;
    const size_t rows = cs__kde_schedule_block_rows(&job->schedule, block);
    const float *x = set->rows + first * set->dim;

    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)rows,
                (int)set->dim, 1.0f, x, (int)set->dim, 0.0f, gram, (int)rows);

    int32_t first_class;
    int32_t last_class;
    block_classes(set, first, rows, &first_class, &last_class);
    memset(columns + (size_t)first_class * rows, 0,
           (size_t)(last_class - first_class + 1) * rows * sizeof(double));

    for (size_t r = 0; r + 1 < rows; r++) {
        const size_t s = r + 1;
        float *kernel = gram + r * rows + s;
        cs__kde_kernel_row(kernel, set->norms[first + r],
                           set->norms + first + s, rows - s);
        cs__kde_add_class_sums(set, first + s, kernel, rows - s,
                               job->class_sums + (first + r) * n_classes);
        double *column = columns + (size_t)set->labels[first + r] * rows;
        cs__kde_add_to_column(column + s, kernel, rows - s);
    }
    add_columns(job, columns, first_class, last_class, first, rows);
}

/* Tile (I, J) with I < J: every pair between the two blocks. */
static void off_diagonal_tile(const symmetric_job *job, float *gram,
                              double *columns, size_t block_i, size_t block_j)
{
    const cs__kde_set *set = job->set;
    const size_t n_classes = (size_t)set->n_classes;
    const size_t first_i = block_i * job->schedule.tile;
    const size_t first_j = block_j * job->schedule.tile;
    const size_t rows_i = cs__kde_schedule_block_rows(&job->schedule, block_i);
    const size_t rows_j = cs__kde_schedule_block_rows(&job->schedule, block_j);

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows_i,
                (int)rows_j, (int)set->dim, 1.0f,
                set->rows + first_i * set->dim, (int)set->dim,
                set->rows + first_j * set->dim, (int)set->dim, 0.0f, gram,
                (int)rows_j);

    int32_t first_class;
    int32_t last_class;
    block_classes(set, first_i, rows_i, &first_class, &last_class);
    memset(columns + (size_t)first_class * rows_j, 0,
           (size_t)(last_class - first_class + 1) * rows_j * sizeof(double));

    for (size_t r = 0; r < rows_i; r++) {
        float *kernel = gram + r * rows_j;
        cs__kde_kernel_row(kernel, set->norms[first_i + r],
                           set->norms + first_j, rows_j);
        cs__kde_add_class_sums(set, first_j, kernel, rows_j,
                               job->class_sums + (first_i + r) * n_classes);
        double *column = columns + (size_t)set->labels[first_i + r] * rows_j;
        cs__kde_add_to_column(column, kernel, rows_j);
    }
    add_columns(job, columns, first_class, last_class, first_j, rows_j);
}

static void symmetric_item(void *context, size_t worker, size_t item)
{
    const symmetric_job *job = context;
    const size_t tile = job->schedule.tile;
    float *gram = job->grams + worker * tile * tile;
    double *columns = job->columns +
                      worker * (size_t)job->set->n_classes * tile;

    size_t block_i;
    size_t block_j;
    cs__kde_schedule_tile(&job->schedule, item, &block_i, &block_j);
    if (block_i == block_j)
        diagonal_tile(job, gram, columns, block_i);
    else
        off_diagonal_tile(job, gram, columns, block_i, block_j);
}

/* Allocates the per-worker tiles and columns. */
static cs_status allocate_workspace(const char *fn, symmetric_job *job,
                                    size_t workers)
{
    const size_t tile = job->schedule.tile;
    size_t gram_values;
    size_t column_values;
    if (!cs__mul_size(tile, tile, &gram_values) ||
        !cs__mul_size(gram_values, workers, &gram_values) ||
        !cs__mul_size(tile, (size_t)job->set->n_classes, &column_values) ||
        !cs__mul_size(column_values, workers, &column_values))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "options",
                            "the tile workspace of %zu threads with %zu-row "
                            "tiles does not fit in memory",
                            workers, tile);

    job->grams = cs__alloc_array(gram_values, sizeof(float));
    job->columns = cs__alloc_array(column_values, sizeof(double));
    if (job->grams == NULL || job->columns == NULL) {
        cs__free(job->grams);
        cs__free(job->columns);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the tile workspace of %zu "
                            "threads with %zu-row tiles",
                            workers, tile);
    }
    return CS_OK;
}

cs_status cs__kde_symmetric_sums(const char *fn, const cs__kde_set *set,
                                 const cs__kde_config *config,
                                 double *class_sums)
{
    symmetric_job job = {.set = set, .class_sums = class_sums};
    cs__kde_schedule_init(&job.schedule, set->n, config->tile);

    const size_t workers = config->threads < job.schedule.n_items
                               ? config->threads
                               : job.schedule.n_items;
    size_t *round_end = cs__alloc_array(job.schedule.n_rounds, sizeof(size_t));
    if (round_end == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the tile schedule");
    cs_status status = allocate_workspace(fn, &job, workers);
    if (status != CS_OK) {
        cs__free(round_end);
        return status;
    }

    for (size_t r = 0; r < job.schedule.n_rounds; r++)
        round_end[r] = cs__kde_schedule_round_end(&job.schedule, r);
    cs__kde_run(workers, job.schedule.n_items, round_end,
                job.schedule.n_rounds, symmetric_item, &job);

    cs__free(round_end);
    cs__free(job.grams);
    cs__free(job.columns);
    return CS_OK;
}
