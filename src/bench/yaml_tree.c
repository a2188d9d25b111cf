/*
 * YAML documents for configuration files: parsing with libyaml's loader
 * into a node tree, and checked access to mappings and scalars. Positions
 * in messages are 1-based; libyaml's marks are 0-based.
 */
#include "bench/yaml_tree.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records CS_E_FORMAT at a 0-based libyaml mark. */
static cs_status fail_at_mark(const cs__yaml_tree *tree, yaml_mark_t mark,
                              const char *message_fmt, va_list args)
{
    char reason[600];
    vsnprintf(reason, sizeof reason, message_fmt, args);

    cs__where where = cs__where_none(tree->function);
    where.path = tree->path;
    where.line = (int64_t)mark.line + 1;
    where.column = (int64_t)mark.column + 1;
    where.offset = (int64_t)mark.index;
    return cs__fail(CS_E_FORMAT, &where, NULL, "%s:%lld:%lld: %s", tree->path,
                    (long long)where.line, (long long)where.column, reason);
}

static cs_status fail_mark(const cs__yaml_tree *tree, yaml_mark_t mark,
                           const char *message_fmt, ...) CS_PRINTF(3, 4);

static cs_status fail_mark(const cs__yaml_tree *tree, yaml_mark_t mark,
                           const char *message_fmt, ...)
{
    va_list args;
    va_start(args, message_fmt);
    cs_status st = fail_at_mark(tree, mark, message_fmt, args);
    va_end(args);
    return st;
}

cs_status cs__yaml_fail(const cs__yaml_tree *tree, const yaml_node_t *node,
                        const char *message_fmt, ...)
{
    va_list args;
    va_start(args, message_fmt);
    cs_status st = fail_at_mark(tree, node->start_mark, message_fmt, args);
    va_end(args);
    return st;
}

/* Reports libyaml's own description of a syntax error, with the context
 * it gives ("while parsing a block mapping") and where that began. */
static cs_status fail_syntax(const cs__yaml_tree *tree,
                             const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, tree->function, NULL,
                            "out of memory while parsing %s", tree->path);

    const char *problem = parser->problem ? parser->problem : "unknown error";
    if (parser->context == NULL)
        return fail_mark(tree, parser->problem_mark,
                         "invalid YAML: %s. Check the indentation and the "
                         "quoting on this line or the one above",
                         problem);
    return fail_mark(tree, parser->problem_mark,
                     "invalid YAML: %s (%s that started at line %zu, "
                     "column %zu). Check the indentation and the quoting",
                     problem, parser->context, parser->context_mark.line + 1,
                     parser->context_mark.column + 1);
}

/* Fails when the text contains a second document after the first. */
static cs_status check_single_document(cs__yaml_tree *tree,
                                       yaml_parser_t *parser)
{
    yaml_document_t next;
    if (!yaml_parser_load(parser, &next))
        return fail_syntax(tree, parser);

    const yaml_node_t *root = yaml_document_get_root_node(&next);
    cs_status st = CS_OK;
    if (root != NULL)
        st = fail_mark(tree, root->start_mark,
                       "a second YAML document starts here; a configuration "
                       "file holds exactly one, so remove the '---' line "
                       "and what follows");
    yaml_document_delete(&next);
    return st;
}

cs_status cs__yaml_tree_parse(const char *text, size_t length,
                              const char *path, const char *function,
                              cs__yaml_tree *tree)
{
    memset(tree, 0, sizeof *tree);
    tree->path = path;
    tree->function = function;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, function, NULL,
                            "out of memory while parsing %s", path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);

    cs_status st = CS_OK;
    if (!yaml_parser_load(&parser, &tree->document)) {
        st = fail_syntax(tree, &parser);
    } else {
        tree->loaded = true;
        if (cs__yaml_root(tree) == NULL) {
            yaml_mark_t start = {0, 0, 0};
            st = fail_mark(tree, start,
                           "the file is empty; it must hold a YAML mapping "
                           "such as 'truth:', 'proxy_files:' and 'output:'");
        } else {
            st = check_single_document(tree, &parser);
        }
    }
    yaml_parser_delete(&parser);
    if (st != CS_OK)
        cs__yaml_tree_free(tree);
    return st;
}

void cs__yaml_tree_free(cs__yaml_tree *tree)
{
    if (tree == NULL || !tree->loaded)
        return;
    yaml_document_delete(&tree->document);
    tree->loaded = false;
}

const yaml_node_t *cs__yaml_root(const cs__yaml_tree *tree)
{
    /* libyaml's getters take a non-const document but do not change it. */
    return yaml_document_get_root_node((yaml_document_t *)&tree->document);
}

const yaml_node_t *cs__yaml_node(const cs__yaml_tree *tree, int index)
{
    return yaml_document_get_node((yaml_document_t *)&tree->document, index);
}

/* Compares a scalar node's text, which may hold NUL bytes, with a C
 * string. */
static bool scalar_equals(const yaml_node_t *node, const char *text)
{
    if (node == NULL || node->type != YAML_SCALAR_NODE)
        return false;
    const size_t length = strlen(text);
    return node->data.scalar.length == length &&
           memcmp(node->data.scalar.value, text, length) == 0;
}

const yaml_node_t *cs__yaml_find(const cs__yaml_tree *tree,
                                 const yaml_node_t *mapping, const char *key,
                                 const yaml_node_t **key_node)
{
    if (mapping == NULL || mapping->type != YAML_MAPPING_NODE)
        return NULL;
    for (const yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        const yaml_node_t *k = cs__yaml_node(tree, pair->key);
        if (!scalar_equals(k, key))
            continue;
        if (key_node != NULL)
            *key_node = k;
        return cs__yaml_node(tree, pair->value);
    }
    return NULL;
}

bool cs__yaml_is_null(const yaml_node_t *node)
{
    if (node == NULL)
        return true;
    if (node->type != YAML_SCALAR_NODE ||
        node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return node->data.scalar.length == 0 || scalar_equals(node, "~") ||
           scalar_equals(node, "null") || scalar_equals(node, "Null") ||
           scalar_equals(node, "NULL");
}

/* Writes the allowed keys as "a, b, c" into buffer. */
static void join_keys(char *buffer, size_t capacity,
                      const char *const *allowed, size_t n_allowed)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t k = 0; k < n_allowed && used < capacity; k++) {
        int written = snprintf(buffer + used, capacity - used, "%s%s",
                               k > 0 ? ", " : "", allowed[k]);
        if (written < 0)
            return;
        used += (size_t)written;
    }
}

static bool is_allowed(const yaml_node_t *key, const char *const *allowed,
                       size_t n_allowed)
{
    for (size_t k = 0; k < n_allowed; k++)
        if (scalar_equals(key, allowed[k]))
            return true;
    return false;
}

/* Fails when the key of pair `pair` also appears earlier in the mapping:
 * YAML requires unique keys, but libyaml's loader keeps both. */
static cs_status check_repeated(const cs__yaml_tree *tree,
                                const yaml_node_t *mapping,
                                const yaml_node_pair_t *pair, const char *what)
{
    const yaml_node_t *key = cs__yaml_node(tree, pair->key);
    for (const yaml_node_pair_t *earlier = mapping->data.mapping.pairs.start;
         earlier < pair; earlier++) {
        const yaml_node_t *other = cs__yaml_node(tree, earlier->key);
        if (other->data.scalar.length == key->data.scalar.length &&
            memcmp(other->data.scalar.value, key->data.scalar.value,
                   key->data.scalar.length) == 0)
            return cs__yaml_fail(tree, key,
                                 "the key '%s' appears twice in %s (first at "
                                 "line %zu); keep one",
                                 (const char *)key->data.scalar.value, what,
                                 other->start_mark.line + 1);
    }
    return CS_OK;
}

cs_status cs__yaml_check_mapping(const cs__yaml_tree *tree,
                                 const yaml_node_t *node, const char *what,
                                 const char *const *allowed, size_t n_allowed)
{
    char valid[300];
    join_keys(valid, sizeof valid, allowed, n_allowed);
    if (node->type != YAML_MAPPING_NODE)
        return cs__yaml_fail(tree, node,
                             "%s must be a mapping of 'key: value' lines "
                             "(keys: %s)",
                             what, valid);

    for (const yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = cs__yaml_node(tree, pair->key);
        if (key->type != YAML_SCALAR_NODE)
            return cs__yaml_fail(tree, key,
                                 "a key of %s must be a plain name "
                                 "(valid keys: %s)",
                                 what, valid);
        if (!is_allowed(key, allowed, n_allowed))
            return cs__yaml_fail(tree, key,
                                 "unknown key '%s' in %s; valid keys: %s",
                                 (const char *)key->data.scalar.value, what,
                                 valid);
        cs_status st = check_repeated(tree, node, pair, what);
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

cs_status cs__yaml_require(const cs__yaml_tree *tree,
                           const yaml_node_t *mapping, const char *what,
                           const char *key, const yaml_node_t **value)
{
    const yaml_node_t *key_node = NULL;
    const yaml_node_t *found = cs__yaml_find(tree, mapping, key, &key_node);
    if (found == NULL)
        return cs__yaml_fail(tree, mapping,
                             "missing required key '%s' in %s; add a line "
                             "'%s: ...'",
                             key, what, key);
    if (cs__yaml_is_null(found))
        return cs__yaml_fail(tree, key_node,
                             "the key '%s' in %s has no value; give one", key,
                             what);
    *value = found;
    return CS_OK;
}

cs_status cs__yaml_copy_text(const cs__yaml_tree *tree,
                             const yaml_node_t *node, const char *what,
                             char **out)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.length == 0)
        return cs__yaml_fail(tree, node,
                             "%s must be a single non-empty value, not a "
                             "list or a mapping",
                             what);
    const size_t length = node->data.scalar.length;
    if (memchr(node->data.scalar.value, '\0', length) != NULL)
        return cs__yaml_fail(tree, node, "%s contains a NUL character", what);

    char *copy = cs__malloc(length + 1);
    if (copy == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, tree->function, NULL,
                            "out of memory while reading %s", tree->path);
    memcpy(copy, node->data.scalar.value, length);
    copy[length] = '\0';
    *out = copy;
    return CS_OK;
}

cs_status cs__yaml_integer(const cs__yaml_tree *tree, const yaml_node_t *node,
                           const char *what, int64_t min, int64_t max,
                           int64_t *out)
{
    const bool scalar = node->type == YAML_SCALAR_NODE;
    const char *text = scalar ? (const char *)node->data.scalar.value : "";
    char *end = NULL;
    errno = 0;
    long long value = scalar ? strtoll(text, &end, 10) : 0;
    if (!scalar || end == text || *end != '\0' || errno != 0 || value < min ||
        value > max)
        return cs__yaml_fail(tree, node,
                             "%s must be an integer from %lld to %lld, not "
                             "'%s'",
                             what, (long long)min, (long long)max,
                             scalar ? text : "a list or a mapping");
    *out = value;
    return CS_OK;
}

cs_status cs__yaml_boolean(const cs__yaml_tree *tree, const yaml_node_t *node,
                           const char *what, bool *out)
{
    if (scalar_equals(node, "true") || scalar_equals(node, "false")) {
        *out = scalar_equals(node, "true");
        return CS_OK;
    }
    return cs__yaml_fail(tree, node, "%s must be true or false", what);
}

/* strtod() in the C locale, so that "0.95" parses whatever locale the
 * program has set; *out_of_range is set when strtod() reported ERANGE.
 * Returns false when the C locale cannot be created. */
static bool parse_c_double(const char *text, double *value, char **end,
                           bool *out_of_range)
{
    locale_t c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_numeric == (locale_t)0)
        return false;
    const locale_t previous = uselocale(c_numeric);
    errno = 0;
    *value = strtod(text, end);
    *out_of_range = errno == ERANGE;
    uselocale(previous);
    freelocale(c_numeric);
    return true;
}

cs_status cs__yaml_open_interval(const cs__yaml_tree *tree,
                                 const yaml_node_t *node, const char *what,
                                 double min, double max, double *out)
{
    const bool scalar = node->type == YAML_SCALAR_NODE;
    const char *text = scalar ? (const char *)node->data.scalar.value : "";
    double value = NAN;
    char *end = NULL;
    bool out_of_range = false;
    if (scalar && !parse_c_double(text, &value, &end, &out_of_range))
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, tree->function, NULL,
                            "cannot create the C locale for parsing %s",
                            tree->path);
    if (!scalar || end == text || *end != '\0' || out_of_range ||
        !(value > min && value < max))
        return cs__yaml_fail(tree, node,
                             "%s must be a number between %g and %g "
                             "(exclusive), not '%s'",
                             what, min, max,
                             scalar ? text : "a list or a mapping");
    *out = value;
    return CS_OK;
}
