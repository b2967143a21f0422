/* The Sigma loader's generic YAML tree and state (internal to
 * sigma_load.c, which builds trees from YAML, and sigma_bin.c, which
 * writes them to a compiled rule file and reads them back). */
#ifndef IG_ENGINE_SIGMA_TREE_H
#define IG_ENGINE_SIGMA_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "engine/sigma_ast.h"
#include "engine/sigma_limits.h"

typedef enum yn_kind { YN_SCALAR, YN_SEQ, YN_MAP } yn_kind;

typedef struct ynode {
    yn_kind kind;
    bool plain;      /* plain scalar without a tag forcing a string */
    unsigned line;   /* 1-based line in the file */
    uint32_t size;   /* nodes this one expands to (itself included) */
    uint32_t height; /* 1 for a scalar */
    const char *s;   /* scalar text, NUL-terminated */
    size_t len;
    struct ynode **kids; /* seq: n items; map: n (key, value) pairs = 2n */
    unsigned n;
} ynode;

typedef struct frame {
    ynode *node;
    ynode **kids; /* ig_realloc'd while open */
    size_t nkids, cap;
    const char *anchor;
} frame;

typedef struct anchor {
    const char *name;
    ynode *node;
} anchor;

typedef struct loader {
    const char *file;
    ig_arena *out;    /* the caller's: rules and error texts */
    ig_arena scratch; /* trees, collection templates */
    sg_rule_fn on_rule;
    sg_error_fn on_error;
    void *ud;
    unsigned delivered, ndocs;
    uint64_t work;              /* condition resolution steps of the current rule */
    const ynode *global, *prev; /* collection state */
    /* the current document */
    unsigned base_line; /* lines before the current segment */
    frame stack[IG_MAX_SIGMA_DEPTH];
    unsigned depth;
    ynode *root;
    anchor anchors[IG_MAX_SIGMA_ANCHORS];
    unsigned nanchors;
    uint32_t used; /* expanded nodes so far */
    /* the first error of the current document */
    bool failed;
    unsigned eline;
    const char *ereason;
    /* compiling (sigma_bin.c): the trees and the YAML stage's errors are
     * appended to `rec`; an error found while converting a tree is not,
     * as reading the tree back finds it again */
    ig_buf *rec;
    bool converting, converting_error;
} loader;

/* Delivers the current error of L (if any) through L->on_error and clears
 * it (sigma_load.c). */
void sgt_flush_error(loader *L);
/* Applies rule collections to one document's tree and converts it into a
 * rule for L->on_rule, or an error (L->failed) (sigma_load.c). */
void sgt_process_document(loader *L, const ynode *root);
/* Are two scalar keys the same text? */
bool sgt_same_key(const ynode *a, const ynode *b);

/* Compiled rule files (sigma_bin.c): appends a record holding one
 * file's name (the records after it
 * are that file's) / one document's tree / one error of the YAML stage.  Failures are sticky in
 * rec->failed. */
void sgt_put_file(ig_buf *rec, const char *file);
void sgt_put_tree(ig_buf *rec, const ynode *root);
void sgt_put_error(ig_buf *rec, unsigned line, const char *reason);

#endif
