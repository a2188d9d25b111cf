/*
 * Reading a bench configuration (the format is in bench_config.h) from
 * YAML into a cs__bench_config. Each section has its own reader. Every
 * value keeps its line and column, so that checks made later, once the
 * data files are open, can point at the line to fix.
 */
#include "bench/bench_config.h"

#include "bench/yaml_tree.h"
#include "io/io.h"
#include "io/npy_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char function_name[] = "cs__bench_config_load";

/* State of one parse. */
typedef struct parse_context {
    cs__yaml_tree tree;
    char *base_dir; /* folder of the YAML file, "" for the working folder */
    cs__bench_config *config;
} parse_context;

/* ---- small helpers ----------------------------------------------------- */

static cs_status out_of_memory(const parse_context *ctx)
{
    return cs__fail_arg(CS_E_OUT_OF_MEMORY, function_name, NULL,
                        "out of memory while reading %s", ctx->tree.path);
}

/* Copies a scalar into *out with its 1-based position. */
static cs_status read_text(const parse_context *ctx, const yaml_node_t *node,
                           const char *what, cs__bench_text *out)
{
    cs_status st = cs__yaml_copy_text(&ctx->tree, node, what, &out->text);
    if (st != CS_OK)
        return st;
    out->line = (int64_t)node->start_mark.line + 1;
    out->column = (int64_t)node->start_mark.column + 1;
    return CS_OK;
}

/* Reads a scalar path and resolves it against the YAML file's folder
 * unless it is absolute. */
static cs_status read_path(const parse_context *ctx, const yaml_node_t *node,
                           const char *what, cs__bench_text *out)
{
    cs_status st = read_text(ctx, node, what, out);
    if (st != CS_OK || out->text[0] == '/' || ctx->base_dir[0] == '\0')
        return st;

    const size_t base = strlen(ctx->base_dir);
    const char *separator = ctx->base_dir[base - 1] == '/' ? "" : "/";
    const size_t length = base + 1 + strlen(out->text) + 1;
    char *joined = cs__malloc(length);
    if (joined == NULL)
        return out_of_memory(ctx);
    snprintf(joined, length, "%s%s%s", ctx->base_dir, separator, out->text);
    cs__free(out->text);
    out->text = joined;
    return CS_OK;
}

/* Reads a list of names, either a flow list "[a, b]" or one "- a" line
 * per name. An empty list is rejected: leave the key out instead. */
static cs_status read_names(const parse_context *ctx, const yaml_node_t *node,
                            const char *what, cs__bench_text **out,
                            size_t *count)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return cs__yaml_fail(&ctx->tree, node,
                             "%s must be a list of names, such as "
                             "[cbtl, p_l_mean]",
                             what);
    const size_t n = (size_t)(node->data.sequence.items.top -
                              node->data.sequence.items.start);
    if (n == 0)
        return cs__yaml_fail(&ctx->tree, node,
                             "%s is an empty list; name at least one entry "
                             "or remove the key",
                             what);

    cs__bench_text *names = cs__calloc(n, sizeof *names);
    if (names == NULL)
        return out_of_memory(ctx);
    *out = names;
    *count = n;
    for (size_t k = 0; k < n; k++) {
        const yaml_node_t *item =
            cs__yaml_node(&ctx->tree, node->data.sequence.items.start[k]);
        cs_status st = read_text(ctx, item, what, &names[k]);
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

/* The value of an optional key, or NULL when it is absent or null. */
static const yaml_node_t *optional(const parse_context *ctx,
                                   const yaml_node_t *mapping, const char *key)
{
    const yaml_node_t *value = cs__yaml_find(&ctx->tree, mapping, key, NULL);
    return cs__yaml_is_null(value) ? NULL : value;
}

/* ---- sections ----------------------------------------------------------- */

static cs_status read_truth(parse_context *ctx, const yaml_node_t *node)
{
    static const char *const keys[] = {"path", "key"};
    cs_status st = cs__yaml_check_mapping(&ctx->tree, node, "'truth'", keys,
                                          2);
    const yaml_node_t *value = NULL;
    if (st == CS_OK)
        st = cs__yaml_require(&ctx->tree, node, "'truth'", "path", &value);
    if (st == CS_OK)
        st = read_path(ctx, value, "truth path", &ctx->config->truth_path);
    if (st == CS_OK && (value = optional(ctx, node, "key")) != NULL)
        st = read_text(ctx, value, "truth key", &ctx->config->truth_key);
    return st;
}

/* Reads one proxies file. `what` names it in messages ("an entry of
 * 'proxy_files'", "'label_noise'"); a NULL default_name makes `name`
 * required. */
static cs_status read_source(parse_context *ctx, const yaml_node_t *node,
                             const char *what, const char *default_name,
                             cs__bench_source *out)
{
    static const char *const keys[] = {"name", "path", "keys", "optional"};
    cs_status st = cs__yaml_check_mapping(&ctx->tree, node, what, keys, 4);
    const yaml_node_t *value = NULL;
    if (st == CS_OK && default_name == NULL)
        st = cs__yaml_require(&ctx->tree, node, what, "name", &value);
    else if (st == CS_OK)
        value = optional(ctx, node, "name");

    if (st == CS_OK && value != NULL) {
        st = read_text(ctx, value, "the name of a proxy file", &out->name);
    } else if (st == CS_OK) {
        out->name.text = cs__copy_string(default_name);
        out->name.line = (int64_t)node->start_mark.line + 1;
        out->name.column = (int64_t)node->start_mark.column + 1;
        if (out->name.text == NULL)
            st = out_of_memory(ctx);
    }

    if (st == CS_OK)
        st = cs__yaml_require(&ctx->tree, node, what, "path", &value);
    if (st == CS_OK)
        st = read_path(ctx, value, "the path of a proxy file", &out->path);
    if (st == CS_OK && (value = optional(ctx, node, "keys")) != NULL)
        st = read_names(ctx, value, "'keys'", &out->keys, &out->n_keys);
    if (st == CS_OK && (value = optional(ctx, node, "optional")) != NULL)
        st = cs__yaml_boolean(&ctx->tree, value, "'optional'", &out->optional);
    return st;
}

/* Fails when source k has the name of an earlier one. */
static cs_status check_unique_name(const parse_context *ctx, size_t k)
{
    const cs__bench_source *sources = ctx->config->sources;
    for (size_t j = 0; j < k; j++)
        if (strcmp(sources[j].name.text, sources[k].name.text) == 0)
            return cs__bench_config_reject(ctx->config, &sources[k].name,
                                           "the proxy file name '%s' is "
                                           "already used at line %lld; "
                                           "give each file its own name",
                                           sources[k].name.text,
                                           (long long)sources[j].name.line);
    return CS_OK;
}

static cs_status read_sources(parse_context *ctx, const yaml_node_t *node)
{
    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top == node->data.sequence.items.start)
        return cs__yaml_fail(&ctx->tree, node,
                             "'proxy_files' must be a list with one entry "
                             "per file, each with 'name' and 'path' "
                             "(and optionally 'keys')");

    const size_t n = (size_t)(node->data.sequence.items.top -
                              node->data.sequence.items.start);
    ctx->config->sources = cs__calloc(n, sizeof *ctx->config->sources);
    if (ctx->config->sources == NULL)
        return out_of_memory(ctx);
    ctx->config->n_sources = n;

    for (size_t k = 0; k < n; k++) {
        const yaml_node_t *item =
            cs__yaml_node(&ctx->tree, node->data.sequence.items.start[k]);
        cs_status st = read_source(ctx, item, "an entry of 'proxy_files'",
                                   NULL, &ctx->config->sources[k]);
        if (st == CS_OK)
            st = check_unique_name(ctx, k);
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

static cs_status read_figures(parse_context *ctx, const yaml_node_t *node)
{
    static const char *const keys[] = {"images", "score", "per_class",
                                       "class_names"};
    cs__bench_config *c = ctx->config;
    cs_status st = cs__yaml_check_mapping(&ctx->tree, node, "'figures'", keys,
                                          4);
    c->has_figures = true;

    const yaml_node_t *value = NULL;
    if (st == CS_OK && (value = optional(ctx, node, "images")) != NULL)
        st = read_path(ctx, value, "'images'", &c->images);
    if (st == CS_OK && (value = optional(ctx, node, "score")) != NULL) {
        cs__free(c->grid_score.text);
        c->grid_score.text = NULL;
        st = read_text(ctx, value, "'score'", &c->grid_score);
    }
    if (st == CS_OK && (value = optional(ctx, node, "per_class")) != NULL) {
        int64_t per_class = 0;
        st = cs__yaml_integer(&ctx->tree, value, "'per_class'", 1,
                              CS__BENCH_MAX_PER_CLASS, &per_class);
        c->per_class = (int32_t)per_class;
    }
    if (st == CS_OK && (value = optional(ctx, node, "class_names")) != NULL)
        st = read_names(ctx, value, "'class_names'", &c->class_names,
                        &c->n_class_names);
    return st;
}

/* Reads bootstrap, confidence and seed. */
static cs_status read_numbers(parse_context *ctx, const yaml_node_t *root)
{
    cs__bench_config *c = ctx->config;
    const yaml_node_t *value = NULL;
    cs_status st = CS_OK;
    int64_t number = 0;

    if ((value = optional(ctx, root, "bootstrap")) != NULL) {
        st = cs__yaml_integer(&ctx->tree, value, "'bootstrap'", 0,
                              CS__BENCH_MAX_BOOTSTRAP, &number);
        c->bootstrap = (int32_t)number;
    }
    if (st == CS_OK && (value = optional(ctx, root, "confidence")) != NULL)
        st = cs__yaml_open_interval(&ctx->tree, value, "'confidence'", 0.0,
                                    1.0, &c->confidence);
    if (st == CS_OK && (value = optional(ctx, root, "seed")) != NULL) {
        st = cs__yaml_integer(&ctx->tree, value, "'seed'", 0, INT64_MAX,
                              &number);
        c->seed = (uint64_t)number;
    }
    return st;
}

/* Reads the sections that have no required keys. */
static cs_status read_optional_sections(parse_context *ctx,
                                        const yaml_node_t *root)
{
    cs__bench_config *c = ctx->config;
    const yaml_node_t *value = NULL;
    cs_status st = read_numbers(ctx, root);

    if (st == CS_OK && (value = optional(ctx, root, "proxies")) != NULL)
        st = read_names(ctx, value, "'proxies'", &c->proxies, &c->n_proxies);
    if (st == CS_OK && (value = optional(ctx, root, "per_epoch")) != NULL)
        st = read_text(ctx, value, "'per_epoch'", &c->per_epoch);
    if (st == CS_OK && (value = optional(ctx, root, "label_noise")) != NULL) {
        c->has_label_noise = true;
        st = read_source(ctx, value, "'label_noise'", "label_noise",
                         &c->label_noise);
    }
    if (st == CS_OK && (value = optional(ctx, root, "figures")) != NULL)
        st = read_figures(ctx, value);
    return st;
}

static cs_status read_root(parse_context *ctx)
{
    static const char *const keys[] = {"truth",  "proxy_files", "proxies",
                                       "output", "bootstrap",   "confidence",
                                       "seed",   "per_epoch",   "label_noise",
                                       "figures"};
    const yaml_node_t *root = cs__yaml_root(&ctx->tree);
    cs_status st = cs__yaml_check_mapping(&ctx->tree, root, "the file", keys,
                                          sizeof keys / sizeof keys[0]);

    const yaml_node_t *value = NULL;
    if (st == CS_OK)
        st = cs__yaml_require(&ctx->tree, root, "the file", "truth", &value);
    if (st == CS_OK)
        st = read_truth(ctx, value);
    if (st == CS_OK)
        st = cs__yaml_require(&ctx->tree, root, "the file", "proxy_files",
                              &value);
    if (st == CS_OK)
        st = read_sources(ctx, value);
    if (st == CS_OK)
        st = cs__yaml_require(&ctx->tree, root, "the file", "output", &value);
    if (st == CS_OK)
        st = read_path(ctx, value, "'output'", &ctx->config->output);
    if (st == CS_OK)
        st = read_optional_sections(ctx, root);
    return st;
}

/* ---- entry points ------------------------------------------------------- */

/* Sets the defaults of the optional keys. */
static cs_status init_config(cs__bench_config *c, const char *config_path)
{
    c->bootstrap = 1000;
    c->confidence = 0.95;
    c->seed = 0;
    c->per_class = 8;
    c->config_path = cs__copy_string(config_path);
    c->grid_score.text = cs__copy_string("truth");
    if (c->config_path == NULL || c->grid_score.text == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, function_name, NULL,
                            "out of memory while reading %s", config_path);
    return CS_OK;
}

/* Sets ctx->base_dir to the part of path before its last '/'. */
static cs_status set_base_dir(parse_context *ctx, const char *path)
{
    ctx->base_dir = cs__copy_string(path);
    if (ctx->base_dir == NULL)
        return out_of_memory(ctx);
    char *slash = strrchr(ctx->base_dir, '/');
    if (slash == NULL)
        ctx->base_dir[0] = '\0';
    else if (slash == ctx->base_dir)
        slash[1] = '\0'; /* "/bench.yaml": the root folder */
    else
        *slash = '\0';
    return CS_OK;
}

cs_status cs__bench_config_parse(const char *text, size_t length,
                                 const char *config_path,
                                 cs__bench_config **out)
{
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function_name, "out",
                            "out is NULL");
    *out = NULL;
    if (text == NULL || config_path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function_name,
                            text == NULL ? "text" : "config_path",
                            "%s is NULL",
                            text == NULL ? "text" : "config_path");

    parse_context ctx = {.config = cs__calloc(1, sizeof(cs__bench_config))};
    ctx.tree.path = config_path;
    if (ctx.config == NULL)
        return out_of_memory(&ctx);

    cs_status st = init_config(ctx.config, config_path);
    if (st == CS_OK)
        st = set_base_dir(&ctx, config_path);
    if (st == CS_OK)
        st = cs__yaml_tree_parse(text, length, config_path, function_name,
                                 &ctx.tree);
    if (st == CS_OK)
        st = read_root(&ctx);

    cs__yaml_tree_free(&ctx.tree);
    cs__free(ctx.base_dir);
    if (st != CS_OK) {
        cs__bench_config_free(ctx.config);
        return st;
    }
    *out = ctx.config;
    return CS_OK;
}

cs_status cs__bench_config_load(const char *path, cs__bench_config **out)
{
    if (out == NULL || path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, function_name,
                            out == NULL ? "out" : "path", "%s is NULL",
                            out == NULL ? "out" : "path");
    *out = NULL;

    unsigned char *bytes = NULL;
    size_t size = 0;
    cs_status st = cs__read_whole_file(path, function_name, &bytes, &size);
    if (st != CS_OK)
        return st;
    st = cs__bench_config_parse((const char *)bytes, size, path, out);
    cs__free(bytes);
    return st;
}

static void free_texts(cs__bench_text *texts, size_t count)
{
    for (size_t k = 0; texts != NULL && k < count; k++)
        cs__free(texts[k].text);
    cs__free(texts);
}

static void free_source(cs__bench_source *source)
{
    cs__free(source->name.text);
    cs__free(source->path.text);
    free_texts(source->keys, source->n_keys);
}

void cs__bench_config_free(cs__bench_config *config)
{
    if (config == NULL)
        return;
    cs__free(config->config_path);
    cs__free(config->truth_path.text);
    cs__free(config->truth_key.text);
    for (size_t k = 0; config->sources != NULL && k < config->n_sources; k++)
        free_source(&config->sources[k]);
    cs__free(config->sources);
    free_texts(config->proxies, config->n_proxies);
    cs__free(config->output.text);
    cs__free(config->per_epoch.text);
    free_source(&config->label_noise);
    cs__free(config->images.text);
    cs__free(config->grid_score.text);
    free_texts(config->class_names, config->n_class_names);
    cs__free(config);
}

cs_status cs__bench_config_reject(const cs__bench_config *config,
                                  const cs__bench_text *value,
                                  const char *message_fmt, ...)
{
    char reason[600];
    va_list args;
    va_start(args, message_fmt);
    vsnprintf(reason, sizeof reason, message_fmt, args);
    va_end(args);

    cs__where where = cs__where_none(function_name);
    where.path = config->config_path;
    where.line = value->line;
    where.column = value->column;
    return cs__fail(CS_E_FORMAT, &where, value->text, "%s:%lld:%lld: %s",
                    config->config_path, (long long)value->line,
                    (long long)value->column, reason);
}
