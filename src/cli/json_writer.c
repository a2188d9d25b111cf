/*
 * Streaming JSON output. The writer tracks, per nesting level, whether it
 * is inside an object or an array and whether an item was written, so
 * that commas and line breaks land in the right places. Misuse (too deep
 * nesting) is a programming error and is caught by assert().
 */
#include "cli/json_writer.h"

#include <assert.h>
#include <math.h>

void json_init(json_writer *w, FILE *fp)
{
    w->fp = fp;
    w->depth = 0;
    w->after_key = false;
    w->is_object[0] = false;
    w->has_items[0] = false;
}

static void indent(json_writer *w)
{
    fputc('\n', w->fp);
    for (int level = 0; level < w->depth; level++)
        fputs("  ", w->fp);
}

/* Writes what goes before a value: nothing after a key, else a comma
 * between array items. */
static void before_value(json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->has_items[w->depth])
        fputs(", ", w->fp);
    w->has_items[w->depth] = true;
}

static void open_level(json_writer *w, bool object)
{
    before_value(w);
    fputc(object ? '{' : '[', w->fp);
    assert(w->depth + 1 < JSON_MAX_DEPTH);
    w->depth++;
    w->is_object[w->depth] = object;
    w->has_items[w->depth] = false;
}

static void close_level(json_writer *w, bool object)
{
    assert(w->depth > 0);
    assert(w->is_object[w->depth] == object);
    const bool had_items = w->has_items[w->depth];
    w->depth--;
    if (object && had_items)
        indent(w);
    fputc(object ? '}' : ']', w->fp);
    if (w->depth == 0)
        fputc('\n', w->fp);
}

void json_begin_object(json_writer *w)
{
    open_level(w, true);
}

void json_end_object(json_writer *w)
{
    close_level(w, true);
}

void json_begin_array(json_writer *w)
{
    open_level(w, false);
}

void json_end_array(json_writer *w)
{
    close_level(w, false);
}

/* Writes text as a JSON string: quotes, backslashes and control
 * characters escaped; other bytes, UTF-8 included, copied. */
static void write_escaped(FILE *fp, const char *text)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", fp);
        else if (*p == '\t')
            fputs("\\t", fp);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

void json_key(json_writer *w, const char *key)
{
    assert(w->is_object[w->depth]);
    assert(!w->after_key);
    if (w->has_items[w->depth])
        fputc(',', w->fp);
    w->has_items[w->depth] = true;
    indent(w);
    write_escaped(w->fp, key);
    fputs(": ", w->fp);
    w->after_key = true;
}

void json_string(json_writer *w, const char *text)
{
    if (text == NULL) {
        json_null(w);
        return;
    }
    before_value(w);
    write_escaped(w->fp, text);
}

void json_number(json_writer *w, double value)
{
    if (!isfinite(value)) {
        json_null(w);
        return;
    }
    before_value(w);
    /* 10 significant digits are more than any statistic here can resolve
     * and keep the file readable. */
    fprintf(w->fp, "%.10g", value);
}

void json_integer(json_writer *w, int64_t value)
{
    before_value(w);
    fprintf(w->fp, "%lld", (long long)value);
}

void json_bool(json_writer *w, bool value)
{
    before_value(w);
    fputs(value ? "true" : "false", w->fp);
}

void json_null(json_writer *w)
{
    before_value(w);
    fputs("null", w->fp);
}
