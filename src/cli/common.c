/* Error reporting and option-value parsing for the `cscore` program. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vprint_error(const char *subcommand, const char *fmt,
                         va_list args)
{
    fprintf(stderr, "cscore %s: ", subcommand);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
}

int cli_usage_error(const char *subcommand, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vprint_error(subcommand, fmt, args);
    va_end(args);
    fprintf(stderr, "Run 'cscore %s --help' for the options.\n", subcommand);
    return CLI_EXIT_USAGE;
}

int cli_runtime_error(const char *subcommand, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vprint_error(subcommand, fmt, args);
    va_end(args);
    return CLI_EXIT_RUNTIME;
}

/* The library's hints name C API settings; the program's users need the
 * options that set them. */
static const char *const program_words[][2] = {
    {"create the tracker with CS_REPEAT_KEEP_FIRST", "pass --keep-first"},
    {"logits with CS_INPUT_LOGITS", "logits without --probabilities"},
};

/* Writes message to stderr with each phrase of program_words replaced. */
static void print_in_program_words(const char *message)
{
    const size_t phrases = sizeof program_words / sizeof program_words[0];
    while (*message != '\0') {
        size_t k = 0;
        while (k < phrases &&
               strncmp(message, program_words[k][0],
                       strlen(program_words[k][0])) != 0)
            k++;
        if (k < phrases) {
            fputs(program_words[k][1], stderr);
            message += strlen(program_words[k][0]);
        } else {
            fputc(*message++, stderr);
        }
    }
}

int cli_library_error(const char *subcommand)
{
    fprintf(stderr, "cscore %s: ", subcommand);
    print_in_program_words(cs_last_error_message());
    fputc('\n', stderr);
    return CLI_EXIT_RUNTIME;
}

bool cli_parse_i64(const char *subcommand, const char *option,
                   const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min ||
        value > max) {
        cli_usage_error(subcommand,
                        "invalid value '%s' for %s: expected an integer "
                        "from %lld to %lld",
                        text, option, (long long)min, (long long)max);
        return false;
    }
    *out = value;
    return true;
}

bool cli_parse_double(const char *subcommand, const char *option,
                      const char *text, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(value) ||
        value < min || value > max) {
        cli_usage_error(subcommand,
                        "invalid value '%s' for %s: expected a number from "
                        "%g to %g",
                        text, option, min, max);
        return false;
    }
    *out = value;
    return true;
}

bool cli_parse_i32_list(const char *subcommand, const char *option,
                        const char *text, int32_t min, int32_t max,
                        int32_t *out, int capacity, int *count)
{
    char buffer[512];
    if (strlen(text) >= sizeof buffer) {
        cli_usage_error(subcommand, "the list given to %s is too long",
                        option);
        return false;
    }
    strcpy(buffer, text);

    *count = 0;
    char *save = NULL;
    for (char *item = strtok_r(buffer, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        if (*count == capacity) {
            cli_usage_error(subcommand, "%s takes at most %d values",
                            option, capacity);
            return false;
        }
        int64_t value;
        if (!cli_parse_i64(subcommand, option, item, min, max, &value))
            return false;
        out[(*count)++] = (int32_t)value;
    }
    if (*count == 0) {
        cli_usage_error(subcommand, "%s needs a comma-separated list",
                        option);
        return false;
    }
    return true;
}
