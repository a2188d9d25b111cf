/*
 * A main() for the harnesses without libFuzzer: it calls
 * LLVMFuzzerTestOneInput() once on every regular file in the folders named
 * on the command line, so that a build with any compiler replays the seed
 * corpora and the inputs of past crashes. A crash, a sanitizer report or a
 * leak fails the program as it would fail libFuzzer.
 *
 * Usage: fuzz_replay_NAME FOLDER...
 * Exits 1 when a folder or file cannot be read or when the folders hold no
 * file at all, so a missing corpus fails the test instead of passing it.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads a whole file into a new malloc() buffer; NULL on failure. A
 * zero-byte file gives a one-byte buffer and *size 0. */
static uint8_t *read_input(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;

    uint8_t *data = NULL;
    long length = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        length = ftell(fp);
    if (length >= 0 && fseek(fp, 0, SEEK_SET) == 0)
        data = malloc((size_t)length + 1);
    if (data != NULL && fread(data, 1, (size_t)length, fp) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(fp);
    *size = (size_t)length;
    return data;
}

/* Replays every regular file of folder and adds their number to *count.
 * Returns 0, or 1 after printing what could not be read. */
static int replay_folder(const char *folder, long *count)
{
    DIR *dir = opendir(folder);
    if (dir == NULL) {
        fprintf(stderr, "fuzz_replay: cannot open the folder %s: %s\n", folder,
                strerror(errno));
        return 1;
    }

    int failed = 0;
    const struct dirent *entry;
    while (failed == 0 && (entry = readdir(dir)) != NULL) {
        char path[4096];
        struct stat info;
        snprintf(path, sizeof path, "%s/%s", folder, entry->d_name);
        if (stat(path, &info) != 0 || !S_ISREG(info.st_mode))
            continue;

        size_t size = 0;
        uint8_t *data = read_input(path, &size);
        if (data == NULL) {
            fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
            failed = 1;
            break;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        (*count)++;
    }
    closedir(dir);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FOLDER...\n", argv[0]);
        return 2;
    }

    long count = 0;
    for (int i = 1; i < argc; i++) {
        const long before = count;
        if (replay_folder(argv[i], &count) != 0)
            return 1;
        printf("replayed %ld inputs from %s\n", count - before, argv[i]);
    }
    if (count == 0) {
        fprintf(stderr, "fuzz_replay: the folders hold no input files\n");
        return 1;
    }
    return 0;
}
