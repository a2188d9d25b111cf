/*
 * Tests of the bench configuration reader (src/bench/): a complete file,
 * the defaults of a minimal one, relative paths and the configurations in
 * bench/. Every kind of rejected file is checked with the 1-based line
 * and column that the error names: malformed YAML, a missing key, an
 * unknown key, a value of the wrong type, a repeated key or name, an
 * empty file and two documents. Unknown proxy names need the proxy files,
 * so tests/cli/test_bench.sh tests them, and this file tests only
 * cs__bench_config_reject(), which reports them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench/bench_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The configuration file's name in messages and the base of relative
 * paths. */
#define CONFIG_PATH "configs/bench.yaml"

static const char minimal[] = "truth:\n"
                              "  path: truth.npz\n"
                              "proxy_files:\n"
                              "  - name: run\n"
                              "    path: /abs/proxies.npz\n"
                              "output: results\n";

static cs__bench_config *parse_ok(const char *text)
{
    cs__bench_config *config = NULL;
    const cs_status st = cs__bench_config_parse(text, strlen(text),
                                                CONFIG_PATH, &config);
    if (st != CS_OK)
        print_message("unexpected failure: %s\n", cs_last_error_message());
    assert_int_equal(st, CS_OK);
    assert_non_null(config);
    return config;
}

/* Parses text that must fail with CS_E_FORMAT at line:column, and checks
 * that the message names the position and contains `phrase`. */
static void expect_reject(const char *text, int64_t line, int64_t column,
                          const char *phrase)
{
    cs__bench_config *config = (cs__bench_config *)&config;
    const cs_status st = cs__bench_config_parse(text, strlen(text),
                                                CONFIG_PATH, &config);
    const cs_error_info *e = cs_last_error();
    if (st != CS_E_FORMAT || e->line != line || e->column != column ||
        strstr(e->message, phrase) == NULL)
        print_message("message: %s\n", e->message);

    assert_int_equal(st, CS_E_FORMAT);
    assert_null(config);
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, column);
    assert_string_equal(e->path, CONFIG_PATH);

    char position[64];
    snprintf(position, sizeof position,
             CONFIG_PATH ":%lld:%lld: ", (long long)line, (long long)column);
    assert_non_null(strstr(e->message, position));
    assert_non_null(strstr(e->message, phrase));
}

/* ------------------------------------------------------------------------
 * Accepted files
 * ------------------------------------------------------------------------ */

static void minimal_file_defaults(void **state)
{
    (void)state;
    cs__bench_config *c = parse_ok(minimal);

    assert_string_equal(c->truth_path.text, "configs/truth.npz");
    assert_null(c->truth_key.text);
    assert_int_equal(c->n_sources, 1);
    assert_string_equal(c->sources[0].name.text, "run");
    assert_string_equal(c->sources[0].path.text, "/abs/proxies.npz");
    assert_null(c->sources[0].keys);
    assert_null(c->proxies);
    assert_string_equal(c->output.text, "configs/results");
    assert_int_equal(c->bootstrap, 1000);
    assert_true(c->confidence == 0.95);
    assert_int_equal(c->seed, 0);
    assert_null(c->per_epoch.text);
    assert_false(c->has_label_noise);
    assert_false(c->has_figures);
    assert_string_equal(c->grid_score.text, "truth");
    assert_int_equal(c->per_class, 8);
    cs__bench_config_free(c);
}

static void complete_file(void **state)
{
    (void)state;
    const char text[] = "# every key\n"
                        "truth: {path: t.npz, key: integral}\n"
                        "proxy_files:\n"
                        "  - name: a\n"
                        "    path: a.npz\n"
                        "    keys: [cbtl, p_l_mean]\n"
                        "  - {name: b, path: b.csv}\n"
                        "proxies:\n"
                        "  - cbtl\n"
                        "  - el2n\n"
                        "output: /out\n"
                        "bootstrap: 0\n"
                        "confidence: 0.9\n"
                        "seed: 42\n"
                        "per_epoch: a\n"
                        "label_noise:\n"
                        "  path: flip.npz\n"
                        "  keys: [aum]\n"
                        "figures:\n"
                        "  images: img.gz\n"
                        "  score: p_l_mean\n"
                        "  per_class: 3\n"
                        "  class_names: [zero, 'one, with a comma']\n";
    cs__bench_config *c = parse_ok(text);

    assert_string_equal(c->truth_path.text, "configs/t.npz");
    assert_string_equal(c->truth_key.text, "integral");
    assert_int_equal(c->truth_key.line, 2);
    assert_int_equal(c->truth_key.column, 27);
    assert_int_equal(c->n_sources, 2);
    assert_int_equal(c->sources[0].n_keys, 2);
    assert_string_equal(c->sources[0].keys[1].text, "p_l_mean");
    assert_int_equal(c->sources[0].keys[1].line, 6);
    assert_int_equal(c->sources[0].keys[1].column, 18);
    assert_string_equal(c->sources[1].name.text, "b");
    assert_string_equal(c->sources[1].path.text, "configs/b.csv");
    assert_int_equal(c->n_proxies, 2);
    assert_string_equal(c->proxies[1].text, "el2n");
    assert_int_equal(c->proxies[1].line, 10);
    assert_int_equal(c->proxies[1].column, 5);
    assert_string_equal(c->output.text, "/out");
    assert_int_equal(c->bootstrap, 0);
    assert_true(c->confidence == 0.9);
    assert_int_equal(c->seed, 42);
    assert_string_equal(c->per_epoch.text, "a");
    assert_true(c->has_label_noise);
    assert_string_equal(c->label_noise.name.text, "label_noise");
    assert_string_equal(c->label_noise.path.text, "configs/flip.npz");
    assert_int_equal(c->label_noise.n_keys, 1);
    assert_true(c->has_figures);
    assert_string_equal(c->images.text, "configs/img.gz");
    assert_string_equal(c->grid_score.text, "p_l_mean");
    assert_int_equal(c->per_class, 3);
    assert_int_equal(c->n_class_names, 2);
    assert_string_equal(c->class_names[1].text, "one, with a comma");
    cs__bench_config_free(c);
}

static void paths_beside_bare_name(void **state)
{
    (void)state;
    cs__bench_config *c = NULL;
    assert_int_equal(cs__bench_config_parse(minimal, strlen(minimal),
                                            "bench.yaml", &c),
                     CS_OK);
    assert_string_equal(c->truth_path.text, "truth.npz");
    cs__bench_config_free(c);

    assert_int_equal(cs__bench_config_parse(minimal, strlen(minimal),
                                            "/bench.yaml", &c),
                     CS_OK);
    assert_string_equal(c->truth_path.text, "/truth.npz");
    cs__bench_config_free(c);
}

static void null_values_are_absent(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sseed: ~\nper_epoch: null\nproxies:\n",
             minimal);
    cs__bench_config *c = parse_ok(text);
    assert_int_equal(c->seed, 0);
    assert_null(c->per_epoch.text);
    assert_null(c->proxies);
    cs__bench_config_free(c);
}

static void load_reads_a_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/cs-bench-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/b.yaml", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(minimal, fp);
    fclose(fp);

    cs__bench_config *c = NULL;
    assert_int_equal(cs__bench_config_load(path, &c), CS_OK);
    char expected[300];
    snprintf(expected, sizeof expected, "%s/truth.npz", dir);
    assert_string_equal(c->truth_path.text, expected);
    cs__bench_config_free(c);

    unlink(path);
    assert_int_equal(cs__bench_config_load(path, &c), CS_E_IO);
    assert_null(c);
    assert_string_equal(cs_last_error()->path, path);
    rmdir(dir);
}

/* The configurations shipped in bench/ must stay readable. */
static void ready_configs_parse(void **state)
{
    (void)state;
    static const char *const names[] = {"fashion-mnist", "cifar10",
                                        "cifar100"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/bench/%s.yaml", CS_SOURCE_DIR,
                 names[k]);
        cs__bench_config *c = NULL;
        const cs_status st = cs__bench_config_load(path, &c);
        if (st != CS_OK)
            print_message("%s\n", cs_last_error_message());
        assert_int_equal(st, CS_OK);
        assert_true(c->n_sources >= 1);
        cs__bench_config_free(c);
    }
}

/* ------------------------------------------------------------------------
 * Rejected files, each with its position
 * ------------------------------------------------------------------------ */

static void malformed_yaml(void **state)
{
    (void)state;
    /* The third line is indented more than the key before it. */
    expect_reject("truth:\n"
                  "  path: t.npz\n"
                  "   key: scores\n",
                  3, 7, "invalid YAML");
    /* An unclosed flow list. */
    expect_reject("proxies: [cbtl, p_l_mean\n"
                  "output: x\n",
                  2, 7, "flow sequence that started at line 1, column 10");
    /* A tab where YAML requires spaces. */
    expect_reject("truth:\n\tpath: t.npz\n", 2, 1, "invalid YAML");
}

static void missing_keys(void **state)
{
    (void)state;
    expect_reject("truth:\n"
                  "  path: t.npz\n"
                  "proxy_files:\n"
                  "  - {name: a, path: a.npz}\n",
                  1, 1, "missing required key 'output'");
    expect_reject("truth:\n"
                  "  key: scores\n"
                  "proxy_files:\n"
                  "  - {name: a, path: a.npz}\n"
                  "output: o\n",
                  2, 3, "missing required key 'path' in 'truth'");
    expect_reject("truth: {path: t.npz}\n"
                  "proxy_files:\n"
                  "  - name: a\n"
                  "  - name: b\n"
                  "    path: b.npz\n"
                  "output: o\n",
                  3, 5, "missing required key 'path'");
    expect_reject("truth: {path: t.npz}\n"
                  "proxy_files:\n"
                  "  - path: a.npz\n"
                  "output: o\n",
                  3, 5, "missing required key 'name'");
    expect_reject("truth:\n"
                  "  path:\n"
                  "proxy_files: [{name: a, path: a.npz}]\n"
                  "output: o\n",
                  2, 3, "has no value");
}

static void unknown_keys(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sbootsrap: 10\n", minimal);
    expect_reject(text, 7, 1, "unknown key 'bootsrap'");

    expect_reject("truth: {path: t.npz, kye: scores}\n"
                  "proxy_files: [{name: a, path: a.npz}]\n"
                  "output: o\n",
                  1, 22, "unknown key 'kye' in 'truth'");
    snprintf(text, sizeof text, "%sfigures:\n  image: x.gz\n", minimal);
    expect_reject(text, 8, 3, "unknown key 'image' in 'figures'");
}

static void values_of_wrong_type(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int64_t column;
        const char *phrase;
    } cases[] = {
        {"bootstrap: many\n", 12, "'bootstrap' must be an integer"},
        {"bootstrap: -1\n", 12, "'bootstrap' must be an integer"},
        {"bootstrap: 1e9\n", 12, "'bootstrap' must be an integer"},
        {"confidence: 1.5\n", 13, "'confidence' must be a number"},
        {"confidence: 0\n", 13, "'confidence' must be a number"},
        {"seed: [1]\n", 7, "'seed' must be an integer"},
        {"proxies: cbtl\n", 10, "'proxies' must be a list"},
        {"proxies: []\n", 10, "'proxies' is an empty list"},
        {"proxies: [[a]]\n", 11, "'proxies' must be a single"},
        {"figures: {per_class: 0}\n", 22, "'per_class' must be an integer"},
        {"figures: [a]\n", 10, "'figures' must be a mapping"},
        {"label_noise: flip.npz\n", 14, "'label_noise' must be a mapping"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", minimal, cases[k].line);
        expect_reject(text, 7, cases[k].column, cases[k].phrase);
    }

    expect_reject("truth: t.npz\n"
                  "proxy_files: [{name: a, path: a.npz}]\n"
                  "output: o\n",
                  1, 8, "'truth' must be a mapping");
    expect_reject("truth: {path: t.npz}\n"
                  "proxy_files: {name: a, path: a.npz}\n"
                  "output: o\n",
                  2, 14, "'proxy_files' must be a list");
    expect_reject("- truth\n", 1, 1, "the file must be a mapping");
}

static void repeated_keys_and_names(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%soutput: again\n", minimal);
    expect_reject(text, 7, 1, "the key 'output' appears twice");

    expect_reject("truth: {path: t.npz}\n"
                  "proxy_files:\n"
                  "  - {name: run, path: a.npz}\n"
                  "  - {name: run, path: b.npz}\n"
                  "output: o\n",
                  4, 12, "the proxy file name 'run' is already used");
}

static void empty_and_two_documents(void **state)
{
    (void)state;
    expect_reject("", 1, 1, "the file is empty");
    expect_reject("# only a comment\n", 1, 1, "the file is empty");

    char text[512];
    snprintf(text, sizeof text, "%s---\nmore: 1\n", minimal);
    expect_reject(text, 8, 1, "a second YAML document");
}

static void reject_points_at_value(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sproxies: [cbtl, cbtll]\n", minimal);
    cs__bench_config *c = parse_ok(text);

    const cs_status st = cs__bench_config_reject(c, &c->proxies[1],
                                                 "unknown proxy '%s'",
                                                 c->proxies[1].text);
    assert_int_equal(st, CS_E_FORMAT);
    const cs_error_info *e = cs_last_error();
    assert_int_equal(e->line, 7);
    assert_int_equal(e->column, 17);
    assert_string_equal(e->value, "cbtll");
    assert_non_null(
        strstr(e->message, CONFIG_PATH ":7:17: unknown proxy 'cbtll'"));
    cs__bench_config_free(c);
}

static void null_arguments(void **state)
{
    (void)state;
    cs__bench_config *c = NULL;
    assert_int_equal(cs__bench_config_parse(NULL, 0, CONFIG_PATH, &c),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs__bench_config_parse(minimal, 1, NULL, &c),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs__bench_config_parse(minimal, 1, CONFIG_PATH, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs__bench_config_load(NULL, &c), CS_E_NULL_ARGUMENT);
    cs__bench_config_free(NULL);
}

/* Every allocation of the reader fails in turn: each failure must be
 * reported as out of memory and leave nothing allocated (checked by the
 * sanitizer build). libyaml's own allocations are not hooked. */
static void allocation_failures(void **state)
{
    (void)state;
    const char text[] = "truth: {path: t.npz, key: k}\n"
                        "proxy_files:\n"
                        "  - {name: a, path: a.npz, keys: [x, y]}\n"
                        "proxies: [x]\n"
                        "output: o\n"
                        "per_epoch: a\n"
                        "label_noise: {path: n.npz}\n"
                        "figures: {images: i.gz, class_names: [p, q]}\n";
    for (long k = 1;; k++) {
        cs__bench_config *c = (cs__bench_config *)&c;
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs__bench_config_parse(text, strlen(text),
                                                    CONFIG_PATH, &c);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK) {
            cs__bench_config_free(c);
            break;
        }
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        assert_null(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_file_defaults),
        cmocka_unit_test(complete_file),
        cmocka_unit_test(paths_beside_bare_name),
        cmocka_unit_test(null_values_are_absent),
        cmocka_unit_test(load_reads_a_file),
        cmocka_unit_test(ready_configs_parse),
        cmocka_unit_test(malformed_yaml),
        cmocka_unit_test(missing_keys),
        cmocka_unit_test(unknown_keys),
        cmocka_unit_test(values_of_wrong_type),
        cmocka_unit_test(repeated_keys_and_names),
        cmocka_unit_test(empty_and_two_documents),
        cmocka_unit_test(reject_points_at_value),
        cmocka_unit_test(null_arguments),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
