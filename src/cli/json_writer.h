/*
 * A small streaming JSON writer for the results files of `cscore bench`:
 * objects one member per line, arrays on one line, strings escaped as RFC
 * 8259 requires, and NaN or infinite numbers written as null (JSON has no
 * spelling for them).
 */
#ifndef CS_CLI_JSON_WRITER_H
#define CS_CLI_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting of objects and arrays. */
#define JSON_MAX_DEPTH 16

typedef struct json_writer {
    FILE *fp;
    int depth;
    bool is_object[JSON_MAX_DEPTH];
    bool has_items[JSON_MAX_DEPTH];
    bool after_key; /* a key was written and its value comes next */
} json_writer;

void json_init(json_writer *w, FILE *fp);

void json_begin_object(json_writer *w);
void json_end_object(json_writer *w);
void json_begin_array(json_writer *w);
void json_end_array(json_writer *w);

/* Writes a member's key; the next call writes its value. */
void json_key(json_writer *w, const char *key);

/* Values. json_string(w, NULL) writes null. */
void json_string(json_writer *w, const char *text);
void json_number(json_writer *w, double value);
void json_integer(json_writer *w, int64_t value);
void json_bool(json_writer *w, bool value);
void json_null(json_writer *w);

#endif /* CS_CLI_JSON_WRITER_H */
