/*
 * Status names and messages, generated from CS_STATUS_TABLE, and the
 * per-thread last-error record.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local cs_error_info last_error = {
    .status = CS_OK,
    .index = -1,
    .example_id = -1,
    .offset = -1,
    .line = -1,
    .column = -1,
};

const char *cs_status_name(cs_status status)
{
    switch (status) {
#define CS_STATUS_NAME_CASE(name, value, text) \
    case name:                                 \
        return #name;
        CS_STATUS_TABLE(CS_STATUS_NAME_CASE)
#undef CS_STATUS_NAME_CASE
    }
    return "CS_UNKNOWN_STATUS";
}

const char *cs_strerror(cs_status status)
{
    switch (status) {
#define CS_STATUS_TEXT_CASE(name, value, text) \
    case name:                                 \
        return text;
        CS_STATUS_TABLE(CS_STATUS_TEXT_CASE)
#undef CS_STATUS_TEXT_CASE
    }
    return "unknown status code";
}

const cs_error_info *cs_last_error(void)
{
    return &last_error;
}

const char *cs_last_error_message(void)
{
    return last_error.message;
}

cs__where cs__where_none(const char *fn)
{
    cs__where where = {
        .function = fn,
        .argument = NULL,
        .index = -1,
        .example_id = -1,
        .path = NULL,
        .offset = -1,
        .line = -1,
        .column = -1,
    };
    return where;
}

static void copy_text(char *dst, size_t capacity, const char *src)
{
    if (src == NULL)
        src = "";
    snprintf(dst, capacity, "%s", src);
}

static cs_status record(cs_status status, const cs__where *where,
                        const char *value, const char *message_fmt,
                        va_list args)
{
    cs_error_info *e = &last_error;

    e->status = status;
    copy_text(e->function, sizeof e->function, where->function);
    copy_text(e->argument, sizeof e->argument, where->argument);
    copy_text(e->value, sizeof e->value, value);
    copy_text(e->path, sizeof e->path, where->path);
    e->index = where->index;
    e->example_id = where->example_id;
    e->offset = where->offset;
    e->line = where->line;
    e->column = where->column;

    /* The message leads with the function so that a log line read alone
     * still says which call failed. */
    int used = snprintf(e->message, sizeof e->message, "%s: ",
                        where->function ? where->function : "cscore");
    if (used < 0 || (size_t)used >= sizeof e->message)
        used = 0;
    vsnprintf(e->message + used, sizeof e->message - (size_t)used,
              message_fmt, args);
    return status;
}

cs_status cs__fail(cs_status status, const cs__where *where,
                   const char *value, const char *message_fmt, ...)
{
    va_list args;
    va_start(args, message_fmt);
    record(status, where, value, message_fmt, args);
    va_end(args);
    return status;
}

cs_status cs__fail_arg(cs_status status, const char *function,
                       const char *argument, const char *message_fmt, ...)
{
    cs__where where = cs__where_none(function);
    where.argument = argument;

    va_list args;
    va_start(args, message_fmt);
    record(status, &where, NULL, message_fmt, args);
    va_end(args);
    return status;
}
