/*
 * A parsed YAML document (libyaml's node tree) with the lookups and
 * checks that configuration readers need. Every failure is CS_E_FORMAT
 * with the file's path and the 1-based line and column of the node at
 * fault, and a message that starts with "PATH:LINE:COLUMN: ".
 */
#ifndef CS_BENCH_YAML_TREE_H
#define CS_BENCH_YAML_TREE_H

#include "internal.h"

#include <yaml.h>

typedef struct cs__yaml_tree {
    yaml_document_t document;
    bool loaded;          /* document has nodes to delete */
    const char *path;     /* names the file in messages; borrowed */
    const char *function; /* the caller recorded in the last-error record */
} cs__yaml_tree;

/* Parses exactly one YAML document from text. Errors: CS_E_FORMAT for
 * malformed YAML (libyaml's problem and position), an empty text, or a
 * second document; CS_E_OUT_OF_MEMORY. On failure nothing needs freeing,
 * but cs__yaml_tree_free() is still safe to call. */
cs_status cs__yaml_tree_parse(const char *text, size_t length,
                              const char *path, const char *function,
                              cs__yaml_tree *tree);

/* Releases the document; accepts a tree that failed to parse. */
void cs__yaml_tree_free(cs__yaml_tree *tree);

/* The root node of a parsed tree. */
const yaml_node_t *cs__yaml_root(const cs__yaml_tree *tree);

/* The node a pair or sequence item refers to. */
const yaml_node_t *cs__yaml_node(const cs__yaml_tree *tree, int index);

/* Returns the value of key in mapping, or NULL when the key is absent.
 * The key node goes to *key_node when key_node is not NULL. */
const yaml_node_t *cs__yaml_find(const cs__yaml_tree *tree,
                                 const yaml_node_t *mapping, const char *key,
                                 const yaml_node_t **key_node);

/* True for a missing value, "~", "null" and the empty plain scalar. */
bool cs__yaml_is_null(const yaml_node_t *node);

/* Records CS_E_FORMAT at node's position and returns it. */
cs_status cs__yaml_fail(const cs__yaml_tree *tree, const yaml_node_t *node,
                        const char *message_fmt, ...) CS_PRINTF(3, 4);

/* Checks that node is a mapping whose keys are scalars from allowed, each
 * at most once. `what` names the mapping in messages ("truth", "the
 * file"). */
cs_status cs__yaml_check_mapping(const cs__yaml_tree *tree,
                                 const yaml_node_t *node, const char *what,
                                 const char *const *allowed, size_t n_allowed);

/* Sets *value to the value of a key that must be present and not null. */
cs_status cs__yaml_require(const cs__yaml_tree *tree,
                           const yaml_node_t *mapping, const char *what,
                           const char *key, const yaml_node_t **value);

/* Checks that node is a non-empty scalar and copies its text into *out,
 * allocated with cs__malloc(). `what` names the value in messages. */
cs_status cs__yaml_copy_text(const cs__yaml_tree *tree,
                             const yaml_node_t *node, const char *what,
                             char **out);

/* Parses a scalar as a base-10 integer in [min, max]. */
cs_status cs__yaml_integer(const cs__yaml_tree *tree, const yaml_node_t *node,
                           const char *what, int64_t min, int64_t max,
                           int64_t *out);

/* Parses a scalar "true" or "false". */
cs_status cs__yaml_boolean(const cs__yaml_tree *tree, const yaml_node_t *node,
                           const char *what, bool *out);

/* Parses a scalar as a finite number strictly between min and max. */
cs_status cs__yaml_open_interval(const cs__yaml_tree *tree,
                                 const yaml_node_t *node, const char *what,
                                 double min, double max, double *out);

#endif /* CS_BENCH_YAML_TREE_H */
