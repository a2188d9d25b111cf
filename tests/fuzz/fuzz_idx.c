/*
 * Fuzzes the IDX reader, plain and gzip-compressed (zlib detects gzip by
 * its magic bytes, whatever the file is called). Each input is read three
 * times. cs__idx_read() reads it alone. cs_dataset_load_idx() then reads
 * it as the training images and as the training labels of a tiny data
 * set whose other files are valid. So the checks across files (image
 * shape, label count, class count) see the fuzzed header and data too.
 */
#include "fuzz_common.h"

#include "io/idx.h"

#include <cscore.h>

/* A valid tiny data set: 2 images of 2 x 2 unsigned bytes per split and
 * the labels 0 and 1. */
static const uint8_t images_2x2x2[] = {0, 0,  8,   3,   0, 0, 0, 2,
                                       0, 0,  0,   2,   0, 0, 0, 2,
                                       0, 64, 128, 255, 1, 2, 3, 4};
static const uint8_t labels_2[] = {0, 0, 8, 1, 0, 0, 0, 2, 0, 1};

static void read_alone(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("input.idx", data, size);
    cs__idx_array array = {0};
    cs__idx_read(path, "fuzz_idx", &array);
    cs__idx_array_free(&array);
}

/* Loads the scratch folder as a data set, first with every training
 * example and then with the first one only. */
static void load_dataset(void)
{
    cs_dataset_options options;
    cs_dataset_options_init(&options);

    cs_dataset *dataset = NULL;
    if (cs_dataset_load_idx(fuzz_scratch_folder(), &options, &dataset) !=
        CS_OK)
        return;
    cs_examples examples;
    cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &examples);
    cs_dataset_free(dataset);

    options.train_count = 1;
    if (cs_dataset_load_idx(fuzz_scratch_folder(), &options, &dataset) ==
        CS_OK)
        cs_dataset_free(dataset);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_alone(data, size);

    fuzz_write_file("t10k-images-idx3-ubyte", images_2x2x2,
                    sizeof images_2x2x2);
    fuzz_write_file("t10k-labels-idx1-ubyte", labels_2, sizeof labels_2);

    fuzz_write_file("train-images-idx3-ubyte", data, size);
    fuzz_write_file("train-labels-idx1-ubyte", labels_2, sizeof labels_2);
    load_dataset();

    fuzz_write_file("train-images-idx3-ubyte", images_2x2x2,
                    sizeof images_2x2x2);
    fuzz_write_file("train-labels-idx1-ubyte", data, size);
    load_dataset();
    return 0;
}
