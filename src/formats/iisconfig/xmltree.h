/* A configuration file (applicationHost.config, web.config, ...) as a tree
 * of elements, read with expat from untrusted bytes: no DTD, no entity of
 * any kind (billion laughs and XXE are refused), depth, element and size
 * limits, every element with its line and column. */
#ifndef IG_FORMATS_IISCONFIG_XMLTREE_H
#define IG_FORMATS_IISCONFIG_XMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#define XT_MAX_DEPTH    64u
#define XT_MAX_ELEMENTS (1u << 20)
#define XT_MAX_BYTES    (32u << 20)

typedef struct xt_node {
    const char *name;
    const char **attrs; /* name, value, ..., NULL */
    unsigned line, col;
    struct xt_node *parent, *first, *last, *next;
} xt_node;

typedef struct xt_doc {
    xt_node *root; /* NULL when nothing could be read */
    /* the first error: "line:col: what", or NULL when the whole file was read */
    const char *error;
    unsigned error_line, error_col;
} xt_doc;

/* Parses data[0, len) into `doc` (nodes and strings in `arena`).  On a
 * syntax error or a refused construct, doc->error says where and what; the
 * elements read before it stay in the tree.  Returns false only when out
 * of memory. */
bool xt_parse(const char *data, size_t len, ig_arena *arena, xt_doc *doc);

/* The value of attribute `name` of `n`, or NULL. */
const char *xt_attr(const xt_node *n, const char *name);
/* The first child element named `name`, or NULL. */
xt_node *xt_child(const xt_node *n, const char *name);
/* The element at the slash-separated path below `n` ("system.webServer/modules"). */
xt_node *xt_path(const xt_node *n, const char *path);

#endif
