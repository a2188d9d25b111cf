/*
 * CSV reader: columns chosen by header name, parsed into float64 arrays.
 *
 * The text follows RFC 4180 (comma separators, optional double quotes
 * with "" for a quote inside them, LF or CRLF line ends). The file is read
 * whole and walked twice. The first walk counts the records and checks
 * that each has as many fields as the header, so the columns are
 * allocated once at their final size; the second parses the requested
 * cells. Numbers are parsed by strtod() in the C locale (POSIX
 * uselocale()), whatever locale the program has set, so "0.5" never
 * depends on the user's settings.
 */
#include "io/array.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maximum length of a numeric cell, in characters. */
#define MAX_NUMBER_LENGTH 127

typedef struct csv_cursor {
    const char *text;
    size_t size;
    size_t pos;
    int64_t line; /* 1-based line of text[pos] */
    const char *path;
    const char *function;
} csv_cursor;

/* One field as it appears in the text. */
typedef struct csv_field {
    const char *start; /* raw characters, without enclosing quotes */
    size_t length;
    bool quoted;  /* "" inside stands for one quote */
    int64_t line; /* line where the field starts */
} csv_field;

static cs_status csv_fail(cs_status status, const csv_cursor *c, int64_t line,
                          int64_t column, const char *fmt, ...)
    CS_PRINTF(5, 6);

/* Records a failure at a line (and field number, or -1); the message
 * starts with "path:line:". */
static cs_status csv_fail(cs_status status, const csv_cursor *c, int64_t line,
                          int64_t column, const char *fmt, ...)
{
    char reason[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);

    cs__where where = cs__where_none(c->function);
    where.path = c->path;
    where.line = line;
    where.column = column;
    return cs__fail(status, &where, NULL, "%s:%lld: %s", c->path,
                    (long long)line, reason);
}

static bool at_line_end(const csv_cursor *c)
{
    if (c->pos >= c->size)
        return true;
    if (c->text[c->pos] == '\n')
        return true;
    return c->text[c->pos] == '\r' && c->pos + 1 < c->size &&
           c->text[c->pos + 1] == '\n';
}

/* Moves past a line end at pos, if any. */
static void skip_line_end(csv_cursor *c)
{
    if (c->pos < c->size && c->text[c->pos] == '\r')
        c->pos++;
    if (c->pos < c->size && c->text[c->pos] == '\n') {
        c->pos++;
        c->line++;
    }
}

static cs_status read_quoted(csv_cursor *c, csv_field *f)
{
    const int64_t opened = c->line;
    c->pos++;
    f->start = c->text + c->pos;
    f->quoted = true;
    for (;;) {
        if (c->pos >= c->size)
            return csv_fail(CS_E_FORMAT, c, opened, -1,
                            "a quoted field opened on this line is never "
                            "closed");
        const char ch = c->text[c->pos];
        if (ch == '"' && c->pos + 1 < c->size && c->text[c->pos + 1] == '"') {
            c->pos += 2;
            continue;
        }
        if (ch == '"')
            break;
        if (ch == '\n')
            c->line++;
        c->pos++;
    }
    f->length = (size_t)(c->text + c->pos - f->start);
    c->pos++;

    if (c->pos < c->size && c->text[c->pos] != ',' && !at_line_end(c))
        return csv_fail(CS_E_FORMAT, c, c->line, -1,
                        "unexpected '%c' after a closing quote; quote the "
                        "whole field",
                        c->text[c->pos]);
    return CS_OK;
}

/* Reads one field and the separator after it; *last is set when the field
 * ends its record (the line end is consumed too). */
static cs_status next_field(csv_cursor *c, csv_field *f, bool *last)
{
    f->line = c->line;
    f->quoted = false;
    if (c->pos < c->size && c->text[c->pos] == '"') {
        const cs_status st = read_quoted(c, f);
        if (st != CS_OK)
            return st;
    } else {
        f->start = c->text + c->pos;
        while (c->pos < c->size && c->text[c->pos] != ',' && !at_line_end(c))
            c->pos++;
        f->length = (size_t)(c->text + c->pos - f->start);
    }

    if (c->pos < c->size && c->text[c->pos] == ',') {
        c->pos++;
        *last = false;
        return CS_OK;
    }
    skip_line_end(c);
    *last = true;
    return CS_OK;
}

/* Skips empty lines; returns false at the end of the text. */
static bool next_record(csv_cursor *c)
{
    while (c->pos < c->size && at_line_end(c))
        skip_line_end(c);
    return c->pos < c->size;
}

/* Copies a field's value, with "" unescaped, into out (capacity bytes,
 * NUL-terminated). Returns false if it does not fit. */
static bool field_text(const csv_field *f, char *out, size_t capacity)
{
    size_t n = 0;
    for (size_t i = 0; i < f->length; i++) {
        if (f->quoted && f->start[i] == '"')
            i++;
        if (n + 1 >= capacity)
            return false;
        out[n++] = f->start[i];
    }
    out[n] = '\0';
    return true;
}

/* Field index of each requested name in the header, and the header's
 * field count. */
typedef struct csv_layout {
    size_t n_fields;
    size_t *field_of; /* n_names entries */
} csv_layout;

static cs_status missing_column(const csv_cursor *c, const char *name,
                                const char *header_line, size_t length)
{
    cs__where where = cs__where_none(c->function);
    where.path = c->path;
    where.argument = "names";
    where.line = 1;
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, name,
                    "%s has no column '%s'; its header is: %.*s", c->path,
                    name, (int)(length < 300 ? length : 300), header_line);
}

/* Matches one header field against the requested names. */
static cs_status match_header_field(const csv_cursor *c, const csv_field *f,
                                    size_t index, const char *const *names,
                                    size_t n_names, csv_layout *layout)
{
    char *text = cs__malloc(f->length + 1);
    if (text == NULL)
        return csv_fail(CS_E_OUT_OF_MEMORY, c, f->line, -1,
                        "out of memory reading the header");
    field_text(f, text, f->length + 1);

    cs_status st = CS_OK;
    for (size_t k = 0; k < n_names && st == CS_OK; k++) {
        if (strcmp(text, names[k]) != 0)
            continue;
        if (layout->field_of[k] != SIZE_MAX)
            st = csv_fail(CS_E_FORMAT, c, f->line, (int64_t)index + 1,
                          "the header names column '%s' twice (fields %zu "
                          "and %zu)",
                          names[k], layout->field_of[k] + 1, index + 1);
        layout->field_of[k] = index;
    }
    cs__free(text);
    return st;
}

/* Returns the length of the line at text[pos], without its line end. */
static size_t line_length(const csv_cursor *c, size_t pos)
{
    size_t end = pos;
    while (end < c->size && c->text[end] != '\n' && c->text[end] != '\r')
        end++;
    return end - pos;
}

static cs_status read_header(csv_cursor *c, const char *const *names,
                             size_t n_names, csv_layout *layout)
{
    /* A UTF-8 byte order mark, as spreadsheet programs write, is not part
     * of the first name. */
    if (c->size >= 3 && memcmp(c->text, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    if (!next_record(c))
        return csv_fail(CS_E_FORMAT, c, c->line, -1,
                        "the file is empty; expected a header line");

    const size_t line_start = c->pos;
    for (size_t k = 0; k < n_names; k++)
        layout->field_of[k] = SIZE_MAX;
    bool last = false;
    size_t index = 0;
    while (!last) {
        csv_field f;
        cs_status st = next_field(c, &f, &last);
        if (st == CS_OK)
            st = match_header_field(c, &f, index, names, n_names, layout);
        if (st != CS_OK)
            return st;
        index++;
    }
    layout->n_fields = index;

    for (size_t k = 0; k < n_names; k++)
        if (layout->field_of[k] == SIZE_MAX)
            return missing_column(c, names[k], c->text + line_start,
                                  line_length(c, line_start));
    return CS_OK;
}

/* Settings of one walk over the records. With columns NULL the walk only
 * counts the records and checks their field counts. Otherwise it also
 * parses the requested cells into columns[k][record]. */
typedef struct csv_pass {
    const char *const *names;
    size_t n_names;
    const csv_layout *layout;
    double **columns;
} csv_pass;

static cs_status parse_cell(const csv_cursor *c, const csv_field *f,
                            size_t field_index, const char *name, double *out)
{
    char text[MAX_NUMBER_LENGTH + 1];
    const bool fits = field_text(f, text, sizeof text);

    const char *begin = text;
    while (*begin == ' ' || *begin == '\t')
        begin++;
    if (fits && *begin == '\0') {
        *out = NAN;
        return CS_OK;
    }

    char *end = NULL;
    const double value = fits ? strtod(begin, &end) : 0.0;
    if (fits && end != begin) {
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end == '\0') {
            *out = value;
            return CS_OK;
        }
    }
    return csv_fail(CS_E_FORMAT, c, f->line, (int64_t)field_index + 1,
                    "column '%s' (field %zu): '%.*s' is not a number", name,
                    field_index + 1, (int)(f->length < 60 ? f->length : 60),
                    f->start);
}

static cs_status read_record(csv_cursor *c, const csv_pass *pass,
                             size_t record)
{
    const int64_t line = c->line;
    bool last = false;
    size_t index = 0;
    while (!last) {
        csv_field f;
        cs_status st = next_field(c, &f, &last);
        if (st != CS_OK)
            return st;
        for (size_t k = 0; pass->columns != NULL && k < pass->n_names; k++) {
            if (pass->layout->field_of[k] != index)
                continue;
            st = parse_cell(c, &f, index, pass->names[k],
                            &pass->columns[k][record]);
            if (st != CS_OK)
                return st;
        }
        index++;
    }

    if (index != pass->layout->n_fields)
        return csv_fail(CS_E_FORMAT, c, line, -1,
                        "the record has %zu fields but the header has %zu",
                        index, pass->layout->n_fields);
    return CS_OK;
}

static cs_status walk_records(csv_cursor *c, const csv_pass *pass,
                              size_t *n_records)
{
    size_t record = 0;
    while (next_record(c)) {
        const cs_status st = read_record(c, pass, record);
        if (st != CS_OK)
            return st;
        record++;
    }
    *n_records = record;
    return CS_OK;
}

static cs_status check_arguments(const char *fn, const char *path,
                                 const char *const *names, size_t n_names,
                                 cs_array **columns)
{
    if (columns == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "columns",
                            "columns is NULL");
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");
    if (names == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "names", "names is NULL");
    if (n_names == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n_names",
                            "n_names is 0; request at least one column");
    for (size_t k = 0; k < n_names; k++) {
        if (names[k] == NULL)
            return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "names",
                                "names[%zu] is NULL", k);
        for (size_t j = 0; j < k; j++)
            if (strcmp(names[j], names[k]) == 0)
                return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "names",
                                    "names[%zu] and names[%zu] are both "
                                    "'%s'; request each column once",
                                    j, k, names[k]);
    }
    return CS_OK;
}

/* Allocates the n_names output arrays of n_records values each. */
static cs_status allocate_columns(const char *fn, size_t n_names,
                                  size_t n_records, cs_array **columns,
                                  double **values)
{
    for (size_t k = 0; k < n_names; k++) {
        cs__array array = {.element = CS__ELEMENT_F64,
                           .ndim = 1,
                           .shape = {(int64_t)n_records},
                           .count = n_records};
        array.data = cs__alloc_array(n_records, sizeof(double));
        if (array.data == NULL)
            return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                                "out of memory for %zu columns of %zu "
                                "values",
                                n_names, n_records);
        values[k] = array.data;
        const cs_status st = cs__array_publish(&array, fn, &columns[k]);
        cs__array_free(&array);
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

/* Runs both passes over the text; on success columns[] are filled. */
static cs_status read_columns(csv_cursor *c, const char *const *names,
                              size_t n_names, cs_array **columns)
{
    const char *fn = c->function;
    csv_layout layout = {0, cs__alloc_array(n_names, sizeof(size_t))};
    double **values = cs__calloc(n_names, sizeof *values);
    cs_status st = CS_OK;
    if (layout.field_of == NULL || values == NULL)
        st = cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                          "out of memory for %zu column names", n_names);
    if (st == CS_OK)
        st = read_header(c, names, n_names, &layout);

    const size_t data_start = c->pos;
    const int64_t data_line = c->line;
    csv_pass pass = {names, n_names, &layout, NULL};
    size_t n_records = 0;
    if (st == CS_OK)
        st = walk_records(c, &pass, &n_records);
    if (st == CS_OK)
        st = allocate_columns(fn, n_names, n_records, columns, values);
    if (st == CS_OK) {
        c->pos = data_start;
        c->line = data_line;
        pass.columns = values;
        st = walk_records(c, &pass, &n_records);
    }

    cs__free(layout.field_of);
    cs__free(values);
    return st;
}

cs_status cs_csv_read_columns(const char *path, const char *const *names,
                              size_t n_names, cs_array **columns)
{
    const char *fn = "cs_csv_read_columns";
    cs_status st = check_arguments(fn, path, names, n_names, columns);
    if (st != CS_OK)
        return st;
    for (size_t k = 0; k < n_names; k++)
        columns[k] = NULL;

    unsigned char *bytes = NULL;
    size_t size = 0;
    st = cs__read_whole_file(path, fn, &bytes, &size);
    if (st != CS_OK)
        return st;

    locale_t c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_numeric == (locale_t)0) {
        cs__free(bytes);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot create the C locale for parsing "
                            "numbers");
    }
    const locale_t previous = uselocale(c_numeric);

    csv_cursor cursor = {(const char *)bytes, size, 0, 1, path, fn};
    st = read_columns(&cursor, names, n_names, columns);

    uselocale(previous);
    freelocale(c_numeric);
    cs__free(bytes);
    if (st != CS_OK) {
        for (size_t k = 0; k < n_names; k++) {
            cs_array_free(columns[k]);
            columns[k] = NULL;
        }
    }
    return st;
}
