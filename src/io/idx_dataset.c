/*
 * Loader of MNIST-style data sets: the four standard IDX files of a folder,
 * read with the IDX reader and turned into float32 inputs in [0, 1] and
 * int32 labels for the trainer and the tracker.
 */
#include "io/idx.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define LOAD_FN "cs_dataset_load_idx"

/* Byte offsets in an IDX header: the example count (first dimension) and
 * the dimensions after it. */
#define IDX_COUNT_OFFSET 4
#define IDX_SHAPE_OFFSET 8

/* Largest pixel value of an unsigned-byte image, mapped to 1.0. */
#define PIXEL_MAX 255.0f

struct cs_dataset {
    float *inputs[2];   /* by cs_split: n x n_inputs */
    int32_t *labels[2]; /* by cs_split: n */
    size_t n[2];
    int32_t n_inputs;
    int32_t n_classes;
};

/* The standard file names, by cs_split. */
static const char *const image_names[2] = {"train-images-idx3-ubyte",
                                           "t10k-images-idx3-ubyte"};
static const char *const label_names[2] = {"train-labels-idx1-ubyte",
                                           "t10k-labels-idx1-ubyte"};

/* Paths of the four files and the raw arrays while loading. */
typedef struct load_state {
    char *image_paths[2];
    char *label_paths[2];
    cs__idx_array images;
    cs__idx_array labels[2];
} load_state;

void cs_dataset_options_init(cs_dataset_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
}

/* Every field up to train_count, the last field of version 0.1. */
#define DATASET_OPTIONS_MIN_SIZE                                              \
    (offsetof(cs_dataset_options, train_count) + sizeof(int64_t))

static cs_status read_options(const cs_dataset_options *given,
                              cs_dataset_options *out)
{
    cs_dataset_options_init(out);
    if (given->struct_size < DATASET_OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, LOAD_FN, "options",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; initialise options with "
                            "cs_dataset_options_init()",
                            given->struct_size,
                            (size_t)DATASET_OPTIONS_MIN_SIZE);

    const size_t known = given->struct_size < sizeof *out ? given->struct_size
                                                          : sizeof *out;
    memcpy(out, given, known);
    out->struct_size = sizeof *out;

    if (out->train_count < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, LOAD_FN,
                            "options->train_count",
                            "options->train_count is %lld; pass 0 to keep "
                            "every training example or a positive count",
                            (long long)out->train_count);
    return CS_OK;
}

/* Sets *out to folder/name, or to folder/name.gz when only that exists.
 * The caller frees *out. */
static cs_status find_file(const char *folder, const char *name, char **out)
{
    const size_t folder_length = strlen(folder);
    const bool has_slash = folder[folder_length - 1] == '/';
    const size_t size = folder_length + 1 + strlen(name) + sizeof ".gz";

    char *path = cs__malloc(size);
    if (path == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, LOAD_FN, "folder",
                            "cannot allocate a %zu-byte path", size);
    snprintf(path, size, "%s%s%s", folder, has_slash ? "" : "/", name);

    struct stat info;
    if (stat(path, &info) == 0) {
        *out = path;
        return CS_OK;
    }

    const size_t plain_length = strlen(path);
    strcpy(path + plain_length, ".gz");
    if (stat(path, &info) == 0) {
        *out = path;
        return CS_OK;
    }

    path[plain_length] = '\0';
    cs__where where = cs__where_none(LOAD_FN);
    where.argument = "folder";
    where.path = path;
    const cs_status status = cs__fail(
        CS_E_IO, &where, NULL,
        "%s: not found, with or without .gz; pass a folder that holds "
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte",
        path);
    cs__free(path);
    return status;
}

static cs_status find_files(const char *folder, load_state *state)
{
    for (int split = 0; split < 2; split++) {
        cs_status status = find_file(folder, image_names[split],
                                     &state->image_paths[split]);
        if (status == CS_OK)
            status = find_file(folder, label_names[split],
                               &state->label_paths[split]);
        if (status != CS_OK)
            return status;
    }
    return CS_OK;
}

/* Records a format failure about path; offset as in cs_error_info. */
static cs_status fail_format(const char *path, int64_t offset,
                             const char *value, const char *problem)
{
    cs__where where = cs__where_none(LOAD_FN);
    where.path = path;
    where.offset = offset;
    return cs__fail(CS_E_FORMAT, &where, value, "%s: %s", path, problem);
}

static cs_status read_labels(const char *path, cs__idx_array *labels)
{
    cs_status status = cs__idx_read(path, LOAD_FN, labels);
    if (status != CS_OK)
        return status;

    if (labels->type != CS__IDX_U8 || labels->ndim != 1) {
        char problem[160];
        snprintf(problem, sizeof problem,
                 "labels must be unsigned bytes (IDX type 0x08) in 1 "
                 "dimension, but the file holds %s elements in %d "
                 "dimensions",
                 cs__idx_type_name(labels->type), labels->ndim);
        return fail_format(path, 2, cs__idx_type_name(labels->type), problem);
    }
    return CS_OK;
}

/* Returns the product of the dimensions after the first, or SIZE_MAX when
 * it overflows (possible only in a file that declares 0 images). */
static size_t pixels_per_image(const cs__idx_array *images)
{
    size_t pixels = 1;
    for (int i = 1; i < images->ndim; i++)
        if (!cs__mul_size(pixels, images->dims[i], &pixels))
            return SIZE_MAX;
    return pixels;
}

/* Reads one split's images and checks them against its labels and, for
 * the test split, against the training images' shape (train_shape, NULL
 * for the training split). */
static cs_status read_images(const load_state *state, int split,
                             const cs__idx_array *train_shape,
                             cs__idx_array *images)
{
    const char *path = state->image_paths[split];
    cs_status status = cs__idx_read(path, LOAD_FN, images);
    if (status != CS_OK)
        return status;

    char problem[640];
    if (images->type != CS__IDX_U8 || images->ndim < 2) {
        snprintf(problem, sizeof problem,
                 "images must be unsigned bytes (IDX type 0x08) in at least "
                 "2 dimensions, but the file holds %s elements in %d "
                 "dimensions",
                 cs__idx_type_name(images->type), images->ndim);
        return fail_format(path, 2, cs__idx_type_name(images->type), problem);
    }

    const uint32_t n_labels = state->labels[split].dims[0];
    if (images->dims[0] != n_labels) {
        snprintf(problem, sizeof problem,
                 "holds %lu images but %s holds %lu labels; both files "
                 "must come from the same data set",
                 (unsigned long)images->dims[0], state->label_paths[split],
                 (unsigned long)n_labels);
        return fail_format(path, IDX_COUNT_OFFSET, NULL, problem);
    }

    const size_t pixels = pixels_per_image(images);
    if (pixels == 0 || pixels > INT32_MAX) {
        snprintf(problem, sizeof problem,
                 "the header declares images of %zu pixels; the loader "
                 "accepts 1 to %d",
                 pixels, INT32_MAX);
        return fail_format(path, IDX_SHAPE_OFFSET, NULL, problem);
    }

    if (train_shape != NULL) {
        bool same = images->ndim == train_shape->ndim;
        for (int i = 1; same && i < images->ndim; i++)
            same = images->dims[i] == train_shape->dims[i];
        if (!same) {
            snprintf(problem, sizeof problem,
                     "its images have another shape than those of %s",
                     state->image_paths[CS_SPLIT_TRAIN]);
            return fail_format(path, IDX_SHAPE_OFFSET, NULL, problem);
        }
    }
    return CS_OK;
}

/* Converts the first n images to float32 in [0, 1] and their labels to
 * int32, and stores them as that split of dataset. */
static cs_status convert_split(cs_dataset *dataset, int split,
                               const cs__idx_array *images,
                               const cs__idx_array *labels, size_t n)
{
    const size_t per_image = pixels_per_image(images);
    size_t values = 0;
    if (!cs__mul_size(n, per_image, &values) ||
        values > SIZE_MAX / sizeof(float))
        return cs__fail_arg(CS_E_OVERFLOW, LOAD_FN, NULL,
                            "%zu images of %zu pixels do not fit in memory", n,
                            per_image);

    float *inputs = cs__alloc_array(values, sizeof *inputs);
    int32_t *classes = cs__alloc_array(n, sizeof *classes);
    if (inputs == NULL || classes == NULL) {
        cs__free(inputs);
        cs__free(classes);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, LOAD_FN, NULL,
                            "cannot allocate the %s split: %zu images of "
                            "%zu float32 pixels",
                            split == CS_SPLIT_TRAIN ? "training" : "test", n,
                            per_image);
    }

    const uint8_t *pixels = images->data;
    for (size_t i = 0; i < values; i++)
        inputs[i] = (float)pixels[i] / PIXEL_MAX;
    const uint8_t *label_bytes = labels->data;
    for (size_t i = 0; i < n; i++)
        classes[i] = label_bytes[i];

    dataset->inputs[split] = inputs;
    dataset->labels[split] = classes;
    dataset->n[split] = n;
    dataset->n_inputs = (int32_t)per_image;
    return CS_OK;
}

/* Returns 1 + the largest label of both splits' full label files. */
static int32_t count_classes(const load_state *state)
{
    int32_t largest = -1;
    for (int split = 0; split < 2; split++) {
        const uint8_t *labels = state->labels[split].data;
        for (size_t i = 0; i < state->labels[split].count; i++)
            if (labels[i] > largest)
                largest = labels[i];
    }
    return largest + 1;
}

/* Loads the training split, of which the first train_count examples are
 * kept (all when 0), then the test split. */
static cs_status load_splits(load_state *state, int64_t train_count,
                             cs_dataset *dataset)
{
    cs_status status = read_labels(state->label_paths[CS_SPLIT_TRAIN],
                                   &state->labels[CS_SPLIT_TRAIN]);
    if (status != CS_OK)
        return status;

    const size_t n_train = state->labels[CS_SPLIT_TRAIN].count;
    if ((uint64_t)train_count > n_train)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, LOAD_FN,
                            "options->train_count",
                            "options->train_count is %lld but %s contains "
                            "only %zu training examples",
                            (long long)train_count,
                            state->label_paths[CS_SPLIT_TRAIN], n_train);
    const size_t n_kept = train_count > 0 ? (size_t)train_count : n_train;

    status = read_labels(state->label_paths[CS_SPLIT_TEST],
                         &state->labels[CS_SPLIT_TEST]);
    if (status == CS_OK)
        status = read_images(state, CS_SPLIT_TRAIN, NULL, &state->images);
    if (status == CS_OK)
        status = convert_split(dataset, CS_SPLIT_TRAIN, &state->images,
                               &state->labels[CS_SPLIT_TRAIN], n_kept);
    if (status != CS_OK)
        return status;

    /* The training images' shape is all the test split needs from them. */
    cs__idx_array train_shape = state->images;
    train_shape.data = NULL;
    cs__free(state->images.data);
    state->images.data = NULL;

    status = read_images(state, CS_SPLIT_TEST, &train_shape, &state->images);
    if (status == CS_OK)
        status = convert_split(dataset, CS_SPLIT_TEST, &state->images,
                               &state->labels[CS_SPLIT_TEST],
                               state->labels[CS_SPLIT_TEST].count);
    if (status == CS_OK)
        dataset->n_classes = count_classes(state);
    return status;
}

static void free_state(load_state *state)
{
    for (int split = 0; split < 2; split++) {
        cs__free(state->image_paths[split]);
        cs__free(state->label_paths[split]);
        cs__idx_array_free(&state->labels[split]);
    }
    cs__idx_array_free(&state->images);
}

cs_status cs_dataset_load_idx(const char *folder,
                              const cs_dataset_options *options,
                              cs_dataset **out)
{
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, LOAD_FN, "out",
                            "out is NULL; pass the address of a "
                            "cs_dataset pointer");
    *out = NULL;
    if (folder == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, LOAD_FN, "folder",
                            "folder is NULL; pass a folder such as "
                            "CS_FASHION_MNIST_DIR");
    if (folder[0] == '\0')
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, LOAD_FN, "folder",
                            "folder is an empty string; pass \".\" for the "
                            "current folder");
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, LOAD_FN, "options",
                            "options is NULL; initialise a "
                            "cs_dataset_options with "
                            "cs_dataset_options_init()");

    cs_dataset_options opts;
    cs_status status = read_options(options, &opts);
    if (status != CS_OK)
        return status;

    cs_dataset *dataset = cs__calloc(1, sizeof *dataset);
    if (dataset == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, LOAD_FN, NULL,
                            "cannot allocate the data set");

    load_state state;
    memset(&state, 0, sizeof state);
    status = find_files(folder, &state);
    if (status == CS_OK)
        status = load_splits(&state, opts.train_count, dataset);
    free_state(&state);

    if (status != CS_OK) {
        cs_dataset_free(dataset);
        return status;
    }
    *out = dataset;
    return CS_OK;
}

void cs_dataset_free(cs_dataset *dataset)
{
    if (dataset == NULL)
        return;
    for (int split = 0; split < 2; split++) {
        cs__free(dataset->inputs[split]);
        cs__free(dataset->labels[split]);
    }
    cs__free(dataset);
}

cs_status cs_dataset_examples(const cs_dataset *dataset, cs_split split,
                              cs_examples *out)
{
    const char *fn = "cs_dataset_examples";
    if (dataset == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "dataset",
                            "dataset is NULL");
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out",
                            "out is NULL; pass a cs_examples to fill");
    if (split != CS_SPLIT_TRAIN && split != CS_SPLIT_TEST)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "split",
                            "split is %d; use CS_SPLIT_TRAIN (0) or "
                            "CS_SPLIT_TEST (1)",
                            (int)split);

    out->inputs = dataset->inputs[split];
    out->labels = dataset->labels[split];
    out->n = dataset->n[split];
    out->n_inputs = dataset->n_inputs;
    return CS_OK;
}

int32_t cs_dataset_n_classes(const cs_dataset *dataset)
{
    return dataset == NULL ? -1 : dataset->n_classes;
}
