/*
 * Scratch files for the harnesses. Each process gets its own folder, and
 * each file name in it is reused for every input, so a long fuzzing run
 * does not fill the file system.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct scratch_file {
    char name[64];
    char path[512];
} scratch_file;

static char scratch_folder[448];
static scratch_file files[FUZZ_MAX_FILES];
static int file_count;

static void remove_scratch(void)
{
    for (int i = 0; i < file_count; i++)
        unlink(files[i].path);
    rmdir(scratch_folder);
}

static const char *base_folder(void)
{
    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir != NULL && tmpdir[0] != '\0')
        return tmpdir;

    struct stat info;
    if (stat("/dev/shm", &info) == 0 && S_ISDIR(info.st_mode))
        return "/dev/shm";
    return "/tmp";
}

const char *fuzz_scratch_folder(void)
{
    if (scratch_folder[0] != '\0')
        return scratch_folder;

    const int length = snprintf(scratch_folder, sizeof scratch_folder,
                                "%s/cscore-fuzz-%ld", base_folder(),
                                (long)getpid());
    if (length < 0 || (size_t)length >= sizeof scratch_folder) {
        fprintf(stderr, "fuzz: the scratch folder path is too long\n");
        abort();
    }
    if (mkdir(scratch_folder, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz: cannot create the scratch folder %s: %s\n",
                scratch_folder, strerror(errno));
        abort();
    }
    atexit(remove_scratch);
    return scratch_folder;
}

/* Returns the slot of name, adding it on first use. */
static scratch_file *file_slot(const char *name)
{
    for (int i = 0; i < file_count; i++)
        if (strcmp(files[i].name, name) == 0)
            return &files[i];

    if (file_count == FUZZ_MAX_FILES || strlen(name) >= sizeof files[0].name) {
        fprintf(stderr, "fuzz: no room for the scratch file name '%s'\n",
                name);
        abort();
    }
    scratch_file *slot = &files[file_count++];
    strcpy(slot->name, name);
    snprintf(slot->path, sizeof slot->path, "%s/%s", fuzz_scratch_folder(),
             name);
    return slot;
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    const scratch_file *slot = file_slot(name);

    FILE *fp = fopen(slot->path, "wb");
    if (fp == NULL) {
        fprintf(stderr, "fuzz: cannot create %s: %s\n", slot->path,
                strerror(errno));
        abort();
    }
    const bool written = size == 0 || fwrite(data, 1, size, fp) == size;
    if (fclose(fp) != 0 || !written) {
        fprintf(stderr, "fuzz: cannot write %zu bytes to %s\n", size,
                slot->path);
        abort();
    }
    return slot->path;
}
