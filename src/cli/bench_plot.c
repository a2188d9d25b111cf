/*
 * Figures of `cscore bench`: runs bench/plot.py on results.json with
 * Debian's /usr/bin/python3 when its matplotlib (package
 * python3-matplotlib) imports, and otherwise prints the command to run
 * once it is installed.
 */
#include "cli/bench.h"
#include "cli/output.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Debian's interpreter: the one python3-matplotlib installs into. */
#define SYSTEM_PYTHON "/usr/bin/python3"

extern char **environ;

/* Runs argv[0] with argv and returns its exit status, or -1 when it could
 * not be started or did not exit normally. */
static int run_program(char *const argv[])
{
    pid_t pid;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static bool has_matplotlib(void)
{
    char *const argv[] = {SYSTEM_PYTHON, "-c", "import matplotlib", NULL};
    return run_program(argv) == 0;
}

static bool is_file(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

/* Finds plot.py: the given path, else $CSCORE_PLOT_SCRIPT, else plot.py
 * in the folder of the configuration file (where the ready configs in
 * bench/ sit next to it). */
static bool find_script(const char *given, const char *config_path, char *out,
                        size_t capacity)
{
    if (given != NULL) {
        snprintf(out, capacity, "%s", given);
        return true;
    }
    const char *from_env = getenv("CSCORE_PLOT_SCRIPT");
    if (from_env != NULL && from_env[0] != '\0') {
        snprintf(out, capacity, "%s", from_env);
        return true;
    }
    const char *slash = strrchr(config_path, '/');
    if (slash == NULL)
        snprintf(out, capacity, "plot.py");
    else
        snprintf(out, capacity, "%.*s/plot.py", (int)(slash - config_path),
                 config_path);
    return is_file(out);
}

int bench_plot(const bench_results *results, const char *script)
{
    char json[4096], plot_script[4096];
    cli_join(json, sizeof json, results->output, "results.json");
    if (!find_script(script, results->config->config_path, plot_script,
                     sizeof plot_script)) {
        printf("Figures: run bench/plot.py of the cscore sources: %s "
               "bench/plot.py %s\n",
               SYSTEM_PYTHON, json);
        return CLI_EXIT_OK;
    }
    if (!has_matplotlib()) {
        printf("Figures: %s has no matplotlib. Install it (apt-get install "
               "python3-matplotlib), then run: %s %s %s\n",
               SYSTEM_PYTHON, SYSTEM_PYTHON, plot_script, json);
        return CLI_EXIT_OK;
    }

    printf("Figures: %s %s %s\n", SYSTEM_PYTHON, plot_script, json);
    fflush(stdout); /* before the script's own output */
    char *const argv[] = {SYSTEM_PYTHON, plot_script, json, NULL};
    const int status = run_program(argv);
    if (status != 0)
        return cli_runtime_error("bench",
                                 "%s %s failed (exit status %d); the results "
                                 "files are written, so rerun it by hand to "
                                 "see why",
                                 SYSTEM_PYTHON, plot_script, status);
    return CLI_EXIT_OK;
}
