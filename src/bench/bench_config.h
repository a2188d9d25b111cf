/*
 * Configuration of a correlation bench, read from a YAML file: the
 * ground-truth C-scores, the proxy files to compare with them, the
 * optional label-noise run and the figures. `cscore bench` is the main
 * user. Errors name the file, the 1-based line and column (also stored in
 * the last-error record) and what to change.
 *
 * The format, with optional keys marked:
 *
 *   truth:
 *     path: FILE           .npz or .npy ground truth
 *     key: NAME            optional; default "scores", else "integral"
 *   proxy_files:           one entry or more
 *     - name: NAME         unique, used in results
 *       path: FILE         proxies.npz of `cscore train`, or a CSV file
 *       keys: [K, ...]     optional; default every per-example array
 *       optional: BOOL     optional, default false; true skips the file
 *                          when it does not exist
 *   proxies: [K, ...]      optional; which proxies of files without keys
 *   output: FOLDER         where results.csv and results.json go
 *   bootstrap: B           optional, resamples, default 1000; 0 skips
 *   confidence: LEVEL      optional, in (0, 1), default 0.95
 *   seed: S                optional, bootstrap seed, default 0
 *   per_epoch: NAME        optional, the proxy file whose hist_* arrays
 *                          are analysed; default the first that has them
 *   label_noise:           optional
 *     name: NAME           optional, default "label_noise"
 *     path: FILE           proxies.npz with a `flipped` array
 *     keys: [K, ...]       optional
 *     optional: BOOL       optional, as in proxy_files
 *   figures:               optional
 *     images: FILE         IDX images of the truth's examples, row = id
 *     score: NAME          optional; "truth" (default) or a proxy key
 *     per_class: K         optional, images per class and end, default 8
 *     class_names: [...]   optional, one name per class
 *
 * Relative paths are resolved against the folder of the YAML file.
 */
#ifndef CS_BENCH_CONFIG_H
#define CS_BENCH_CONFIG_H

#include "internal.h"

/* A string from the file and the 1-based line and column where its value
 * starts. text is NULL for an optional key that was absent. */
typedef struct cs__bench_text {
    char *text;
    int64_t line;
    int64_t column;
} cs__bench_text;

/* A proxies file: its name in results, its path (resolved) and the
 * proxies to take from it. */
typedef struct cs__bench_source {
    cs__bench_text name;
    cs__bench_text path;
    cs__bench_text *keys; /* n_keys entries; NULL when `keys` is absent */
    size_t n_keys;
    bool optional; /* a missing file is skipped, not an error */
} cs__bench_source;

/* Limits checked while parsing. */
#define CS__BENCH_MAX_BOOTSTRAP 1000000
#define CS__BENCH_MAX_PER_CLASS 64

typedef struct cs__bench_config {
    char *config_path; /* the YAML file, as given */
    cs__bench_text truth_path;
    cs__bench_text truth_key; /* text NULL: choose the default key */

    cs__bench_source *sources; /* n_sources >= 1 proxy files */
    size_t n_sources;
    cs__bench_text *proxies; /* n_proxies; NULL when `proxies` is absent */
    size_t n_proxies;

    cs__bench_text output; /* resolved folder */
    int32_t bootstrap;     /* resamples, 0 .. CS__BENCH_MAX_BOOTSTRAP */
    double confidence;     /* in (0, 1) */
    uint64_t seed;
    cs__bench_text per_epoch; /* text NULL: the first file with history */

    bool has_label_noise;
    cs__bench_source label_noise;

    bool has_figures;
    cs__bench_text images;     /* resolved IDX path; text NULL if absent */
    cs__bench_text grid_score; /* "truth" unless the file names another */
    int32_t per_class;         /* 1 .. CS__BENCH_MAX_PER_CLASS */
    cs__bench_text *class_names;
    size_t n_class_names;
} cs__bench_config;

/* Parses YAML text. config_path names the file in messages and is the base
 * of relative paths. On success *out owns a new configuration that the
 * caller releases with cs__bench_config_free(); on failure *out is NULL.
 * Errors: CS_E_NULL_ARGUMENT, CS_E_FORMAT (malformed YAML, a missing or
 * unknown key, a value of the wrong type or out of range, a repeated key
 * or proxy file name), CS_E_OUT_OF_MEMORY. For CS_E_FORMAT the last-error
 * record contains the path, line and column, and the message starts with
 * "PATH:LINE:COLUMN: ". */
cs_status cs__bench_config_parse(const char *text, size_t length,
                                 const char *config_path,
                                 cs__bench_config **out);

/* Reads and parses a YAML file as cs__bench_config_parse() does. Errors:
 * those of cs__bench_config_parse(), and CS_E_IO when the file cannot be
 * read. */
cs_status cs__bench_config_load(const char *path, cs__bench_config **out);

/* Releases a configuration; accepts NULL. */
void cs__bench_config_free(cs__bench_config *config);

/* Records a CS_E_FORMAT failure about a value of the file, such as a proxy
 * name that no proxy file contains, at that value's line and column, and
 * returns CS_E_FORMAT. The message starts with "PATH:LINE:COLUMN: ". */
cs_status cs__bench_config_reject(const cs__bench_config *config,
                                  const cs__bench_text *value,
                                  const char *message_fmt, ...)
    CS_PRINTF(3, 4);

#endif /* CS_BENCH_CONFIG_H */
