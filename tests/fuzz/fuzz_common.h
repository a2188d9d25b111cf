/*
 * Helpers shared by the libFuzzer harnesses in this folder: the scratch
 * files through which readers that only take a path get their input, and
 * the entry point that every harness defines.
 */
#ifndef CS_FUZZ_COMMON_H
#define CS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point. Each harness defines it; libFuzzer's main()
 * or the replay main() in fuzz_replay.c calls it once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns this process's scratch folder, creating it on the first call:
 * $TMPDIR/cscore-fuzz-PID when TMPDIR is set, else /dev/shm/cscore-fuzz-PID
 * when /dev/shm exists, else /tmp/cscore-fuzz-PID. The folder and every
 * file that fuzz_write_file() put in it are removed at exit. Aborts with a
 * message on stderr when the folder cannot be created, because no input
 * can be tested then. */
const char *fuzz_scratch_folder(void);

/* Writes size bytes to the file `name` in the scratch folder, replacing
 * what an earlier call wrote there, and returns its path (static storage,
 * one buffer per name up to FUZZ_MAX_FILES names). Aborts with a message
 * on stderr when the file cannot be written. */
const char *fuzz_write_file(const char *name, const uint8_t *data,
                            size_t size);

#define FUZZ_MAX_FILES 8

#endif /* CS_FUZZ_COMMON_H */
