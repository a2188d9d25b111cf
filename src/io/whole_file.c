/*
 * Reading a whole regular file into memory, for the text readers.
 */
#include "io/npy_read.h"

#include "io/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

cs_status cs__open_regular_file(const char *path, const cs__where *where,
                                FILE **fp_out, uint64_t *size)
{
    char reason[128];
    *fp_out = NULL;

    FILE *fp = fopen(path, "rb");
    struct stat info;
    if (fp == NULL || fstat(fileno(fp), &info) != 0) {
        const int error = errno;
        if (fp != NULL)
            fclose(fp);
        return cs__fail(CS_E_IO, where, NULL, "cannot open %s: %s", path,
                        cs__errno_text(error, reason, sizeof reason));
    }
    if (!S_ISREG(info.st_mode)) {
        fclose(fp);
        return cs__fail(CS_E_IO, where, NULL, "%s is not a regular file",
                        path);
    }
    *fp_out = fp;
    *size = (uint64_t)info.st_size;
    return CS_OK;
}

cs_status cs__read_whole_file(const char *path, const char *function,
                              unsigned char **out, size_t *size)
{
    cs__where where = cs__where_path(function, path);
    *out = NULL;
    *size = 0;

    FILE *fp = NULL;
    uint64_t file_size = 0;
    cs_status st = cs__open_regular_file(path, &where, &fp, &file_size);
    if (st != CS_OK)
        return st;

    const size_t bytes = (size_t)file_size;
    unsigned char *data = cs__malloc(bytes);
    if (data == NULL) {
        fclose(fp);
        return cs__fail(CS_E_OUT_OF_MEMORY, &where, NULL,
                        "out of memory reading %zu bytes of %s", bytes, path);
    }
    errno = 0;
    if (fread(data, 1, bytes, fp) != bytes) {
        char reason[128];
        const int error = ferror(fp) ? errno : 0;
        fclose(fp);
        cs__free(data);
        return cs__fail(CS_E_IO, &where, NULL, "reading %s failed: %s", path,
                        error != 0
                            ? cs__errno_text(error, reason, sizeof reason)
                            : "the file shrank while being read");
    }
    fclose(fp);
    *out = data;
    *size = bytes;
    return CS_OK;
}
