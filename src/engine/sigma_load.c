#define _GNU_SOURCE /* memmem */
/* Sigma rule loader: YAML text (untrusted) → the AST of sigma_ast.h.
 *
 * Three stages, each bounded by sigma_limits.h:
 *  1. The file is split into YAML documents at column-0 "---" lines (YAML
 *     1.2 §9.1.2 forbids such a line inside any scalar, and libyaml ends a
 *     document there too), each parsed by its own libyaml parser: a syntax
 *     error loses one document, not the rest of the file.
 *  2. libyaml's event API builds a small generic tree (ynode) in a scratch
 *     arena, with node, depth, key, anchor and string caps; aliases share
 *     nodes and are charged the size of what they expand to.  A segment in
 *     the plain block YAML that rules are written in is read by
 *     yaml_fast.c instead (the same nodes, a quarter of the time); anything
 *     else, and every error, is libyaml's.
 *  3. Rule collections (action: global/reset/repeat, from Sigma 1.0's "rule
 *     collections": a global document is deep-merged into every following
 *     rule, reset forgets it, repeat deep-merges into the previous rule) are
 *     applied, and the tree is checked and converted into an sg_rule in the
 *     caller's arena.
 *
 * This is the only file of the library that includes <yaml.h>. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "core/alloc.h"
#include "core/num.h"
#include "engine/sigma_ast.h"
#include "engine/sigma_limits.h"
#include "engine/sigma_tree.h"
#include "engine/yaml_fast.h"

/* ---------------------------------------------------------------- tree -- */

static const char oom_text[] = "out of memory";

/* ------------------------------------------------------------ messages -- */

/* Records the first error of the current document. */
static bool fail(loader *L, unsigned line, const char *fmt, ...)
{
    if (L->failed)
        return false;
    L->failed = true;
    L->converting_error = L->converting;
    L->eline = line;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    char *s = ig_arena_alloc(L->out, len + 1);
    if (s == NULL) {
        L->ereason = oom_text;
        return false;
    }
    memcpy(s, buf, len);
    s[len] = '\0';
    L->ereason = s;
    return false;
}

/* Delivers the current error (if any) and clears it. */
void sgt_flush_error(loader *L)
{
    if (!L->failed)
        return;
    sg_error e = {L->file, L->eline ? L->eline : 1, L->ereason ? L->ereason : oom_text};
    if (L->rec != NULL && !L->converting_error) /* found again when the tree is read back */
        sgt_put_error(L->rec, e.line, e.reason);
    if (L->on_error != NULL)
        L->on_error(L->ud, &e);
    L->failed = false;
    L->ereason = NULL;
}

/* Untrusted text made safe to quote in a message: at most 60 bytes (cut on
 * a UTF-8 boundary, "..." appended), control bytes as '?'. */
static const char *q(loader *L, const char *s, size_t len)
{
    size_t n = len > 60 ? 60 : len;
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    char *d = ig_arena_alloc(&L->scratch, n + 4);
    if (d == NULL)
        return "...";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        d[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    if (n < len) {
        memcpy(d + n, "...", 4);
    } else {
        d[n] = '\0';
    }
    return d;
}

static const char *qn(loader *L, const ynode *n)
{
    return n->kind == YN_SCALAR ? q(L, n->s, n->len) : n->kind == YN_SEQ ? "(list)" : "(map)";
}

static const char *kind_name(const ynode *n)
{
    return n->kind == YN_SCALAR ? "a scalar" : n->kind == YN_SEQ ? "a list" : "a mapping";
}

/* --------------------------------------------------- YAML → tree (2) -- */

static unsigned to_line(loader *L, size_t mark_line)
{
    size_t l = (size_t)L->base_line + mark_line + 1;
    return l < UINT32_MAX ? (unsigned)l : UINT32_MAX;
}

static void tree_reset(loader *L)
{
    for (unsigned i = 0; i < L->depth; i++)
        ig_free(L->stack[i].kids);
    L->depth = 0;
    L->root = NULL;
    L->nanchors = 0;
    L->used = 0;
}

static bool charge(loader *L, uint32_t n, unsigned line)
{
    if (n > IG_MAX_SIGMA_NODES - L->used)
        return fail(L, line, "document has more than %u YAML nodes", IG_MAX_SIGMA_NODES);
    L->used += n;
    return true;
}

static bool add_node(loader *L, ynode *n)
{
    if (L->depth == 0) {
        L->root = n;
        return true;
    }
    frame *f = &L->stack[L->depth - 1];
    if (f->node->kind == YN_MAP && f->nkids % 2 == 0 && f->nkids / 2 >= IG_MAX_SIGMA_MAP_KEYS)
        return fail(L, n->line, "mapping has more than %u keys", IG_MAX_SIGMA_MAP_KEYS);
    if (f->nkids == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        ynode **k = ig_realloc(f->kids, cap * sizeof(*k));
        if (k == NULL)
            return fail(L, n->line, "%s", oom_text);
        f->kids = k;
        f->cap = cap;
    }
    f->kids[f->nkids++] = n;
    return true;
}

static bool add_anchor(loader *L, const char *name, ynode *n)
{
    if (name == NULL)
        return true;
    if (L->nanchors >= IG_MAX_SIGMA_ANCHORS)
        return fail(L, n->line, "document defines more than %u YAML anchors", IG_MAX_SIGMA_ANCHORS);
    L->anchors[L->nanchors].name = name;
    L->anchors[L->nanchors].node = n;
    L->nanchors++;
    return true;
}

static const char *scratch_str(loader *L, const unsigned char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen((const char *)s);
    char *d = ig_arena_alloc(&L->scratch, n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

/* A node starting on line `mark_line` (0-based) of the current segment. */
static ynode *new_ynode(loader *L, yn_kind kind, size_t mark_line)
{
    ynode *n = ig_arena_alloc(&L->scratch, sizeof(*n));
    if (n == NULL) {
        fail(L, to_line(L, mark_line), "%s", oom_text);
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->line = to_line(L, mark_line);
    n->size = 1;
    n->height = 1;
    return n;
}

bool sgt_same_key(const ynode *a, const ynode *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Closes the innermost sequence or mapping. */
static bool close_node(loader *L)
{
    frame *f = &L->stack[L->depth - 1];
    ynode *n = f->node;
    size_t count = f->nkids;
    n->kids = ig_arena_alloc(&L->scratch, (count ? count : 1) * sizeof(*n->kids));
    if (n->kids == NULL)
        return fail(L, n->line, "%s", oom_text);
    if (count)
        memcpy(n->kids, f->kids, count * sizeof(*n->kids));
    ig_free(f->kids);
    f->kids = NULL;
    const char *anchor_name = f->anchor;
    L->depth--;
    uint32_t h = 0;
    for (size_t i = 0; i < count; i++) {
        n->size += n->kids[i]->size; /* charged already: no overflow past the cap */
        if (n->kids[i]->height > h)
            h = n->kids[i]->height;
    }
    n->height = h + 1;
    if (n->kind == YN_MAP) {
        n->n = (unsigned)(count / 2);
        for (unsigned i = 0; i < n->n; i++) {
            const ynode *k = n->kids[2 * i];
            if (k->kind != YN_SCALAR)
                return fail(L, k->line, "a mapping key must be a scalar, not %s", kind_name(k));
            for (unsigned j = 0; j < i; j++)
                if (sgt_same_key(n->kids[2 * j], k))
                    return fail(L, k->line, "duplicate key '%s'", qn(L, k));
        }
    } else {
        n->n = (unsigned)count;
    }
    return add_anchor(L, anchor_name, n) && add_node(L, n);
}

static bool open_node(loader *L, yn_kind kind, size_t mark_line, const unsigned char *anch)
{
    if (L->depth >= IG_MAX_SIGMA_DEPTH)
        return fail(L, to_line(L, mark_line), "YAML nesting is deeper than %u", IG_MAX_SIGMA_DEPTH);
    ynode *n = new_ynode(L, kind, mark_line);
    if (n == NULL || !charge(L, 1, n->line))
        return false;
    frame *f = &L->stack[L->depth++];
    memset(f, 0, sizeof(*f));
    f->node = n;
    if (anch != NULL && (f->anchor = scratch_str(L, anch)) == NULL)
        return fail(L, n->line, "%s", oom_text);
    return true;
}

/* A scalar of `len` bytes at `text` (copied), starting on line
 * `mark_line`; `plain`: plain style without a tag that makes it a string. */
static bool add_scalar(loader *L, size_t mark_line, const char *text, size_t len, bool plain,
                       const unsigned char *anch)
{
    ynode *n = new_ynode(L, YN_SCALAR, mark_line);
    if (n == NULL || !charge(L, 1, n->line))
        return false;
    if (len > IG_MAX_SIGMA_STRING)
        return fail(L, n->line, "scalar is longer than %u bytes", IG_MAX_SIGMA_STRING);
    char *s = ig_arena_alloc(&L->scratch, len + 1);
    if (s == NULL)
        return fail(L, n->line, "%s", oom_text);
    if (len)
        memcpy(s, text, len);
    s[len] = '\0';
    n->s = s;
    n->len = len;
    n->plain = plain;
    const char *a = NULL;
    if (anch != NULL && (a = scratch_str(L, anch)) == NULL)
        return fail(L, n->line, "%s", oom_text);
    return add_anchor(L, a, n) && add_node(L, n);
}

static bool on_scalar(loader *L, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                 (tag == NULL || (strcmp(tag, "!") != 0 && strcmp(tag, YAML_STR_TAG) != 0));
    return add_scalar(L, ev->start_mark.line, (const char *)ev->data.scalar.value,
                      ev->data.scalar.length, plain, ev->data.scalar.anchor);
}

static bool on_alias(loader *L, const yaml_event_t *ev)
{
    unsigned line = to_line(L, ev->start_mark.line);
    const char *name = (const char *)ev->data.alias.anchor;
    ynode *target = NULL;
    for (unsigned i = L->nanchors; i-- > 0 && name != NULL;)
        if (strcmp(L->anchors[i].name, name) == 0) {
            target = L->anchors[i].node;
            break;
        }
    if (target == NULL)
        return fail(L, line, "unknown YAML alias '*%s'", name ? q(L, name, strlen(name)) : "");
    if (target->height > IG_MAX_SIGMA_DEPTH - L->depth)
        return fail(L, line, "YAML nesting is deeper than %u", IG_MAX_SIGMA_DEPTH);
    return charge(L, target->size, line) && add_node(L, target);
}

/* Feeds one event of a document's content to the tree builder. */
static bool on_event(loader *L, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return on_scalar(L, ev);
    case YAML_ALIAS_EVENT: return on_alias(L, ev);
    case YAML_SEQUENCE_START_EVENT:
        return open_node(L, YN_SEQ, ev->start_mark.line, ev->data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
        return open_node(L, YN_MAP, ev->start_mark.line, ev->data.mapping_start.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return L->depth > 0 ? close_node(L) : true;
    default: return true;
    }
}

/* ------------------------------------------------- collections (3) -- */

static const ynode *map_get(const ynode *m, const char *key)
{
    if (m == NULL || m->kind != YN_MAP)
        return NULL;
    size_t len = strlen(key);
    for (unsigned i = 0; i < m->n; i++) {
        const ynode *k = m->kids[2 * i];
        if (k->len == len && memcmp(k->s, key, len) == 0)
            return m->kids[2 * i + 1];
    }
    return NULL;
}

static const ynode *map_key(const ynode *m, const char *key)
{
    size_t len = strlen(key);
    for (unsigned i = 0; m != NULL && m->kind == YN_MAP && i < m->n; i++) {
        const ynode *k = m->kids[2 * i];
        if (k->len == len && memcmp(k->s, key, len) == 0)
            return k;
    }
    return NULL;
}

/* The scalar `n` is exactly `lit` (no NUL tricks: lengths compared). */
static bool sc_eq(const ynode *n, const char *lit)
{
    size_t len = strlen(lit);
    return n->kind == YN_SCALAR && n->len == len && memcmp(n->s, lit, len) == 0;
}

static bool has_nul(const ynode *n)
{
    return strlen(n->s) != n->len;
}

static bool is_null(const ynode *n)
{
    if (n == NULL)
        return true;
    if (n->kind != YN_SCALAR || !n->plain)
        return false;
    return n->len == 0 || sc_eq(n, "~") || sc_eq(n, "null") || sc_eq(n, "Null") || sc_eq(n, "NULL");
}

/* A new mapping: `a`'s pairs deep-updated by `b`'s (sigmac's
 * deep_dict_update: mappings under the same key merge, anything else from
 * `b` replaces), without the key `skip`.  Neither input is modified. */
static const ynode *merge(loader *L, const ynode *a, const ynode *b, const char *skip)
{
    if (a == NULL || a->kind != YN_MAP || b->kind != YN_MAP) {
        if (skip == NULL || b->kind != YN_MAP)
            return b;
        a = NULL;
    }
    size_t cap = (size_t)(a ? a->n : 0) + b->n;
    ynode *m = ig_arena_alloc(&L->scratch, sizeof(*m));
    ynode **kids = ig_arena_alloc(&L->scratch, (cap ? cap : 1) * 2 * sizeof(*kids));
    if (m == NULL || kids == NULL) {
        fail(L, b->line, "%s", oom_text);
        return NULL;
    }
    memset(m, 0, sizeof(*m));
    m->kind = YN_MAP;
    m->line = b->line;
    m->kids = kids;
    unsigned n = 0;
    for (unsigned i = 0; a != NULL && i < a->n; i++) {
        kids[2 * n] = a->kids[2 * i];
        kids[2 * n + 1] = a->kids[2 * i + 1];
        n++;
    }
    size_t skiplen = skip ? strlen(skip) : 0;
    for (unsigned i = 0; i < b->n; i++) {
        ynode *k = b->kids[2 * i], *v = b->kids[2 * i + 1];
        if (skip != NULL && k->len == skiplen && memcmp(k->s, skip, skiplen) == 0)
            continue;
        unsigned j = 0;
        while (j < n && !sgt_same_key(kids[2 * j], k))
            j++;
        if (j < n) {
            const ynode *mv = merge(L, kids[2 * j + 1], v, NULL);
            if (mv == NULL)
                return NULL;
            kids[2 * j + 1] = (ynode *)mv;
        } else {
            kids[2 * n] = k;
            kids[2 * n + 1] = v;
            n++;
        }
    }
    m->n = n;
    if (n > IG_MAX_SIGMA_MAP_KEYS) {
        fail(L, b->line, "merged mapping has more than %u keys", IG_MAX_SIGMA_MAP_KEYS);
        return NULL;
    }
    uint64_t size = 1;
    uint32_t h = 0;
    for (unsigned i = 0; i < 2 * n; i++) {
        size += kids[i]->size;
        if (kids[i]->height > h)
            h = kids[i]->height;
    }
    if (size > IG_MAX_SIGMA_NODES) {
        fail(L, b->line, "merged rule has more than %u YAML nodes", IG_MAX_SIGMA_NODES);
        return NULL;
    }
    m->size = (uint32_t)size;
    m->height = h + 1;
    return m;
}

/* --------------------------------------------------- tree → AST (4) -- */

static void *oalloc(loader *L, size_t count, size_t size, unsigned line)
{
    if (count == 0)
        count = 1;
    if (count > SIZE_MAX / size) {
        fail(L, line, "%s", oom_text);
        return NULL;
    }
    void *p = ig_arena_alloc(L->out, count * size);
    if (p == NULL) {
        fail(L, line, "%s", oom_text);
        return NULL;
    }
    memset(p, 0, count * size);
    return p;
}

static const char *ostr(loader *L, const ynode *n)
{
    char *s = ig_arena_alloc(L->out, n->len + 1);
    if (s == NULL) {
        fail(L, n->line, "%s", oom_text);
        return NULL;
    }
    memcpy(s, n->s, n->len);
    s[n->len] = '\0';
    return s;
}

static bool ascii_ieq(const char *a, const char *lower)
{
    for (; *a && *lower; a++, lower++) {
        char c = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (c != *lower)
            return false;
    }
    return *a == '\0' && *lower == '\0';
}

/* Optional string attribute: absent or null → NULL. */
static bool get_text(loader *L, const ynode *m, const char *key, const char **out)
{
    const ynode *v = map_get(m, key);
    *out = NULL;
    if (is_null(v))
        return true;
    if (v->kind != YN_SCALAR)
        return fail(L, v->line, "'%s' must be a string, not %s", key, kind_name(v));
    return (*out = ostr(L, v)) != NULL;
}

/* Optional list of strings (a single string counts as a list of one; null
 * items are skipped). */
static bool get_list(loader *L, const ynode *m, const char *key, const char *const **out,
                     unsigned *count)
{
    const ynode *v = map_get(m, key);
    *out = NULL;
    *count = 0;
    if (is_null(v))
        return true;
    const ynode *const *items = (const ynode *const *)&v;
    unsigned n = 1;
    if (v->kind == YN_SEQ) {
        items = (const ynode *const *)v->kids;
        n = v->n;
    } else if (v->kind != YN_SCALAR) {
        return fail(L, v->line, "'%s' must be a list of strings, not %s", key, kind_name(v));
    }
    const char **arr = oalloc(L, n, sizeof(*arr), v->line);
    if (arr == NULL)
        return false;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (is_null(items[i]))
            continue;
        if (items[i]->kind != YN_SCALAR)
            return fail(L, items[i]->line, "'%s' must be a list of strings, found %s", key,
                        kind_name(items[i]));
        if ((arr[k++] = ostr(L, items[i])) == NULL)
            return false;
    }
    *out = arr;
    *count = k;
    return true;
}

/* YAML 1.2 core schema resolution of a plain scalar. */
static void resolve(sg_value *v, const ynode *n)
{
    const char *s = n->s;
    v->kind = SG_V_STR;
    if (!n->plain || has_nul(n))
        return;
    if (is_null(n)) {
        v->kind = SG_V_NULL;
        v->s = "";
        v->len = 0;
        return;
    }
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
        !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        v->kind = SG_V_BOOL;
        v->b = s[0] == 't' || s[0] == 'T';
        return;
    }
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    uint64_t u;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p == s) {
        unsigned base = p[1] == 'x' ? 16 : 8;
        const char *d = p + 2;
        u = 0;
        bool ok = *d != '\0', big = false;
        for (; *d && ok; d++) {
            unsigned c = (unsigned char)*d, dv;
            if (c >= '0' && c <= '9')
                dv = c - '0';
            else if (base == 16 && c >= 'a' && c <= 'f')
                dv = c - 'a' + 10;
            else if (base == 16 && c >= 'A' && c <= 'F')
                dv = c - 'A' + 10;
            else
                dv = 99;
            if (dv >= base)
                ok = false;
            else if (u > ((uint64_t)INT64_MAX - dv) / base)
                big = true;
            else
                u = u * base + dv;
        }
        if (ok) {
            v->kind = big ? SG_V_NUM : SG_V_INT;
            v->i = big ? 0 : (int64_t)u;
        }
        return;
    }
    bool digits = *p >= '0' && *p <= '9';
    for (const char *d = p; *d && digits; d++)
        digits = *d >= '0' && *d <= '9';
    if (digits) {
        if (ig_parse_u64(p, (uint64_t)INT64_MAX + (neg ? 1u : 0u), &u)) {
            v->kind = SG_V_INT;
            v->i = neg ? (u == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)u) : (int64_t)u;
        } else {
            v->kind = SG_V_NUM; /* out of int64 range */
        }
        return;
    }
    /* [-+]? ( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?  or .inf / .nan */
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") ||
        (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN")))) {
        v->kind = SG_V_NUM;
        return;
    }
    const char *d = p;
    size_t mant = 0;
    while (*d >= '0' && *d <= '9')
        d++, mant++;
    if (*d == '.') {
        d++;
        while (*d >= '0' && *d <= '9')
            d++, mant++;
    }
    if (mant == 0)
        return;
    if (*d == 'e' || *d == 'E') {
        d++;
        if (*d == '-' || *d == '+')
            d++;
        if (!(*d >= '0' && *d <= '9'))
            return;
        while (*d >= '0' && *d <= '9')
            d++;
    }
    if (*d == '\0')
        v->kind = SG_V_NUM;
}

static bool conv_value(loader *L, const ynode *n, sg_value *v)
{
    memset(v, 0, sizeof(*v));
    v->line = n->line;
    v->len = n->len;
    resolve(v, n);
    if (v->kind != SG_V_NULL && (v->s = ostr(L, n)) == NULL)
        return false;
    return true;
}

/* The values of one detection item: a scalar or a list of scalars. */
static bool conv_values(loader *L, const ynode *v, const ynode *key, sg_item *it)
{
    const char *what = key ? qn(L, key) : "keywords";
    if (v->kind == YN_MAP)
        return fail(L, v->line, "the value of '%s' must be a scalar or a list of scalars, not %s",
                    what, kind_name(v));
    const ynode *const *items = (const ynode *const *)&v;
    unsigned n = 1;
    if (v->kind == YN_SEQ) {
        items = (const ynode *const *)v->kids;
        n = v->n;
        if (n == 0)
            return fail(L, v->line, "empty list of values for '%s'", what);
    }
    sg_value *vals = oalloc(L, n, sizeof(*vals), v->line);
    if (vals == NULL)
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (items[i]->kind != YN_SCALAR)
            return fail(L, items[i]->line,
                        "the values of '%s' must be scalars, found %s inside the list", what,
                        kind_name(items[i]));
        /* spec "Special Field Values": null cannot be part of a list */
        if (n > 1 && is_null(items[i]))
            return fail(L, items[i]->line,
                        "null cannot be part of a list of values for '%s'; use a separate search",
                        what);
        if (!conv_value(L, items[i], &vals[i]))
            return false;
    }
    it->vals = vals;
    it->nvals = n;
    return true;
}

/* "Field|mod1|mod2: values" or "|mod: values" (keywords with modifiers). */
static bool conv_item(loader *L, const ynode *key, const ynode *val, sg_item *it)
{
    it->line = key->line;
    if (strlen(key->s) != key->len)
        return fail(L, key->line, "key '%s' contains a NUL character", qn(L, key));
    if (key->len == 0)
        return fail(L, key->line, "empty field name");
    unsigned nparts = 1;
    for (size_t i = 0; i < key->len; i++)
        nparts += key->s[i] == '|';
    const char **mods = NULL;
    if (nparts > 1 && (mods = oalloc(L, nparts - 1, sizeof(*mods), key->line)) == NULL)
        return false;
    size_t start = 0;
    for (unsigned part = 0; part < nparts; part++) {
        const char *bar = memchr(key->s + start, '|', key->len - start);
        size_t end = bar ? (size_t)(bar - key->s) : key->len;
        if (end == start && part > 0)
            return fail(L, key->line, "empty modifier in '%s'", qn(L, key));
        if (part == 0 && end == start) {
            it->field = NULL; /* "|all: [...]": keywords */
        } else {
            char *s = ig_arena_alloc(L->out, end - start + 1);
            if (s == NULL)
                return fail(L, key->line, "%s", oom_text);
            memcpy(s, key->s + start, end - start);
            s[end - start] = '\0';
            if (part == 0)
                it->field = s;
            else
                mods[part - 1] = s;
        }
        start = end + 1;
    }
    it->mods = mods;
    it->nmods = nparts - 1;
    return conv_values(L, val, it->field || it->nmods ? key : NULL, it);
}

static bool conv_map(loader *L, const ynode *m, const char *search, sg_map *out)
{
    out->line = m->line;
    if (m->n == 0)
        return fail(L, m->line, "search '%s' contains an empty mapping", search);
    sg_item *items = oalloc(L, m->n, sizeof(*items), m->line);
    if (items == NULL)
        return false;
    for (unsigned i = 0; i < m->n; i++)
        if (!conv_item(L, m->kids[2 * i], m->kids[2 * i + 1], &items[i]))
            return false;
    out->items = items;
    out->nitems = m->n;
    return true;
}

/* A keyword item (field NULL, no modifiers) over `n` scalars. */
static bool keyword_item(loader *L, const ynode *v, sg_item *it)
{
    it->line = v->line;
    return conv_values(L, v, NULL, it);
}

static bool conv_search(loader *L, const ynode *key, const ynode *v, sg_search *s)
{
    s->line = key->line;
    const char *name = qn(L, key);
    if (key->len > IG_MAX_SIGMA_NAME)
        return fail(L, key->line, "search name '%s' is longer than %u bytes", name,
                    IG_MAX_SIGMA_NAME);
    if (key->len == 0 || has_nul(key))
        return fail(L, key->line, "search name '%s' is empty or contains a NUL character", name);
    if ((s->name = ostr(L, key)) == NULL)
        return false;
    if (is_null(v))
        return fail(L, key->line, "search '%s' is empty", name);
    if (v->kind == YN_MAP) {
        sg_map *m = oalloc(L, 1, sizeof(*m), v->line);
        if (m == NULL || !conv_map(L, v, name, m))
            return false;
        s->maps = m;
        s->nmaps = 1;
        return true;
    }
    bool all_scalars = true;
    for (unsigned i = 0; v->kind == YN_SEQ && i < v->n; i++) {
        if (v->kids[i]->kind == YN_SEQ)
            return fail(L, v->kids[i]->line, "search '%s': a list inside a list is not allowed",
                        name);
        all_scalars = all_scalars && v->kids[i]->kind == YN_SCALAR;
    }
    if (v->kind == YN_SEQ && v->n == 0)
        return fail(L, v->line, "search '%s' is an empty list", name);
    if (all_scalars) { /* keywords: a scalar or a list of scalars, ORed */
        sg_item *it = oalloc(L, 1, sizeof(*it), v->line);
        if (it == NULL || !keyword_item(L, v, it))
            return false;
        s->keywords = it;
        return true;
    }
    /* a list of maps (ORed); plain values become one-keyword maps */
    sg_map *maps = oalloc(L, v->n, sizeof(*maps), v->line);
    if (maps == NULL)
        return false;
    for (unsigned i = 0; i < v->n; i++) {
        const ynode *e = v->kids[i];
        if (e->kind == YN_MAP) {
            if (!conv_map(L, e, name, &maps[i]))
                return false;
            continue;
        }
        sg_item *it = oalloc(L, 1, sizeof(*it), e->line);
        if (it == NULL || !keyword_item(L, e, it))
            return false;
        maps[i].items = it;
        maps[i].nitems = 1;
        maps[i].line = e->line;
    }
    s->maps = maps;
    s->nmaps = v->n;
    return true;
}

/* "<digits><unit>" with s, m, h, d, w (correlation spec "Time Selection"). */
static bool parse_timespan(const ynode *n, uint64_t *ms)
{
    if (n == NULL || n->kind != YN_SCALAR || n->len < 2 || n->len > 24 || has_nul(n))
        return false;
    char digits[32];
    memcpy(digits, n->s, n->len - 1);
    digits[n->len - 1] = '\0';
    uint64_t unit;
    switch (n->s[n->len - 1]) {
    case 's': unit = 1000u; break;
    case 'm': unit = 60u * 1000u; break;
    case 'h': unit = 3600u * 1000u; break;
    case 'd': unit = 86400u * 1000u; break;
    case 'w': unit = 7u * 86400u * 1000u; break;
    default: return false;
    }
    uint64_t v;
    if (!ig_parse_u64(digits, UINT64_MAX / unit, &v) || v == 0)
        return false;
    *ms = v * unit;
    return true;
}

/* '*' only; iterative with one backtrack point, so O(len(pat) * len(s))
 * steps at worst, each charged to *work. */
static bool glob_match(const char *pat, const char *s, uint64_t *work)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        ++*work;
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star != NULL) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* Every identifier of the condition names a search; every pattern matches
 * one (the compiler would reject the rule anyway, this says where). */
static bool check_refs(loader *L, const sg_rule *r, const sg_cond *c, unsigned line)
{
    if (c == NULL)
        return true;
    if (L->work > IG_MAX_SIGMA_COND_WORK)
        return fail(L, line, "condition is too costly to resolve against %u searches",
                    r->nsearches);
    switch (c->kind) {
    case SG_C_ID:
        for (unsigned i = 0; i < r->nsearches; i++) {
            L->work += IG_MAX_SIGMA_NAME / 8; /* a strcmp of short names */
            if (strcmp(r->searches[i].name, c->name) == 0)
                return true;
        }
        return fail(L, line, "condition refers to unknown search '%s'",
                    q(L, c->name, strlen(c->name)));
    case SG_C_ONE_OF:
    case SG_C_ALL_OF: {
        bool them = strcmp(c->name, "them") == 0;
        for (unsigned i = 0; i < r->nsearches; i++)
            if (them ? r->searches[i].name[0] != '_'
                     : glob_match(c->name, r->searches[i].name, &L->work))
                return true;
        return fail(L, line, "condition pattern '%s' matches no search",
                    q(L, c->name, strlen(c->name)));
    }
    case SG_C_NOT: return check_refs(L, r, c->a, line);
    case SG_C_AND:
    case SG_C_OR: return check_refs(L, r, c->a, line) && check_refs(L, r, c->b, line);
    }
    return true;
}

static bool conv_conditions(loader *L, const ynode *key, const ynode *v, sg_rule *r)
{
    if (is_null(v))
        return fail(L, key->line, "detection: condition is empty");
    const ynode *const *items = (const ynode *const *)&v;
    unsigned n = 1;
    if (v->kind == YN_SEQ) {
        items = (const ynode *const *)v->kids;
        n = v->n;
        if (n == 0)
            return fail(L, v->line, "detection: condition is an empty list");
    } else if (v->kind != YN_SCALAR) {
        return fail(L, v->line, "detection: condition must be a string or a list of strings");
    }
    if (n > IG_MAX_SIGMA_CONDITIONS)
        return fail(L, v->line, "detection: more than %u conditions", IG_MAX_SIGMA_CONDITIONS);
    const sg_cond **conds = oalloc(L, n, sizeof(*conds), v->line);
    if (conds == NULL)
        return false;
    for (unsigned i = 0; i < n; i++) {
        const ynode *c = items[i];
        if (c->kind != YN_SCALAR)
            return fail(L, c->line, "detection: condition must be a string or a list of strings");
        if (strlen(c->s) != c->len)
            return fail(L, c->line, "detection: condition contains a NUL character");
        const char *reason = NULL;
        conds[i] = sg_parse_condition(c->s, L->out, &reason);
        if (conds[i] == NULL)
            return fail(L, c->line, "condition: %s", reason ? reason : "invalid");
    }
    r->conds = conds;
    r->nconds = n;
    L->work = 0;
    for (unsigned i = 0; i < n; i++)
        if (!check_refs(L, r, conds[i], items[i]->line))
            return false;
    return true;
}

static bool conv_detection(loader *L, const ynode *key, const ynode *d, sg_rule *r)
{
    if (d->kind != YN_MAP)
        return fail(L, d->line, "detection must be a mapping, not %s", kind_name(d));
    sg_search *searches = oalloc(L, d->n, sizeof(*searches), d->line);
    if (searches == NULL)
        return false;
    const ynode *cond_key = NULL, *cond = NULL;
    unsigned ns = 0;
    for (unsigned i = 0; i < d->n; i++) {
        const ynode *k = d->kids[2 * i], *v = d->kids[2 * i + 1];
        if (sc_eq(k, "condition")) {
            cond_key = k;
            cond = v;
        } else if (sc_eq(k, "timeframe")) {
            if (!parse_timespan(v, &r->timeframe_ms))
                return fail(L, v->line,
                            "detection: timeframe '%s' is not a number followed by s, m, h, d "
                            "or w",
                            qn(L, v));
        } else if (!conv_search(L, k, v, &searches[ns++])) {
            return false;
        }
    }
    r->searches = searches;
    r->nsearches = ns;
    if (ns == 0)
        return fail(L, key->line, "detection: no search identifier");
    if (cond_key == NULL)
        return fail(L, key->line, "detection: missing condition");
    return conv_conditions(L, cond_key, cond, r);
}

static bool conv_threshold(loader *L, const ynode *k, const ynode *v, uint64_t *out)
{
    if (v->kind != YN_SCALAR || has_nul(v) || !ig_parse_u64(v->s, UINT64_MAX, out))
        return fail(L, v->line, "correlation: condition '%s' must be a non-negative integer",
                    qn(L, k));
    return true;
}

static bool conv_corr_condition(loader *L, const ynode *c, sg_correlation *k)
{
    static const struct {
        const char *name;
        sg_cmp cmp;
    } ops[] = {{"gt", SG_CMP_GT},   {"gte", SG_CMP_GTE}, {"lt", SG_CMP_LT},
               {"lte", SG_CMP_LTE}, {"eq", SG_CMP_EQ},   {"neq", SG_CMP_NEQ}};
    if (c->kind != YN_MAP)
        return fail(L, c->line, "correlation: condition must be a mapping such as 'gte: 10'");
    for (unsigned i = 0; i < c->n; i++) {
        const ynode *key = c->kids[2 * i], *v = c->kids[2 * i + 1];
        if (sc_eq(key, "field")) {
            if (v->kind == YN_SEQ && v->n == 1)
                v = v->kids[0];
            if (v->kind != YN_SCALAR || is_null(v))
                return fail(L, v->line, "correlation: condition 'field' must be one field name");
            if ((k->field = ostr(L, v)) == NULL)
                return false;
            continue;
        }
        size_t o = 0;
        while (o < sizeof(ops) / sizeof(ops[0]) && !sc_eq(key, ops[o].name))
            o++;
        if (o == sizeof(ops) / sizeof(ops[0]))
            return fail(L, key->line,
                        "correlation: condition '%s' is not one of gt, gte, lt, lte, eq, neq, "
                        "field",
                        qn(L, key));
        if (k->cmp == SG_CMP_NONE) {
            k->cmp = ops[o].cmp;
            if (!conv_threshold(L, key, v, &k->threshold))
                return false;
        } else if (k->cmp2 == SG_CMP_NONE) {
            k->cmp2 = ops[o].cmp;
            if (!conv_threshold(L, key, v, &k->threshold2))
                return false;
        } else {
            return fail(L, key->line, "correlation: condition has more than two comparisons");
        }
    }
    return true;
}

static bool conv_aliases(loader *L, const ynode *a, sg_correlation *k)
{
    if (is_null(a))
        return true;
    if (a->kind != YN_MAP)
        return fail(L, a->line, "correlation: aliases must be a mapping");
    sg_alias *al = oalloc(L, a->n, sizeof(*al), a->line);
    if (al == NULL)
        return false;
    for (unsigned i = 0; i < a->n; i++) {
        const ynode *name = a->kids[2 * i], *m = a->kids[2 * i + 1];
        if (m->kind != YN_MAP || m->n == 0)
            return fail(L, m->line, "correlation: alias '%s' must map rule names to field names",
                        qn(L, name));
        sg_alias_map *maps = oalloc(L, m->n, sizeof(*maps), m->line);
        if (maps == NULL || (al[i].name = ostr(L, name)) == NULL)
            return false;
        for (unsigned j = 0; j < m->n; j++) {
            const ynode *f = m->kids[2 * j + 1];
            if (f->kind != YN_SCALAR || is_null(f))
                return fail(L, f->line,
                            "correlation: alias '%s' must map rule names to field "
                            "names",
                            qn(L, name));
            if ((maps[j].rule = ostr(L, m->kids[2 * j])) == NULL ||
                (maps[j].field = ostr(L, f)) == NULL)
                return false;
        }
        al[i].maps = maps;
        al[i].nmaps = m->n;
    }
    k->aliases = al;
    k->naliases = a->n;
    return true;
}

static bool get_bool(loader *L, const ynode *v, const char *what, bool *out)
{
    if (v == NULL)
        return true;
    sg_value tmp;
    if (v->kind == YN_SCALAR) {
        resolve(&tmp, v);
        if (tmp.kind == SG_V_BOOL) {
            *out = tmp.b;
            return true;
        }
    }
    return fail(L, v->line, "'%s' must be true or false", what);
}

static bool conv_correlation(loader *L, const ynode *key, const ynode *c, const ynode *root,
                             sg_rule *r)
{
    static const struct {
        const char *name;
        sg_corr_type type;
    } types[] = {{"event_count", SG_CORR_EVENT_COUNT},
                 {"value_count", SG_CORR_VALUE_COUNT},
                 {"temporal", SG_CORR_TEMPORAL},
                 {"temporal_ordered", SG_CORR_TEMPORAL_ORDERED},
                 {"absent", SG_CORR_ABSENT}};
    sg_correlation *k = &r->corr;
    if (c->kind != YN_MAP)
        return fail(L, c->line, "correlation must be a mapping, not %s", kind_name(c));
    const ynode *t = map_get(c, "type");
    if (is_null(t))
        return fail(L, key->line, "correlation: missing type");
    size_t i = 0;
    while (i < sizeof(types) / sizeof(types[0]) && !sc_eq(t, types[i].name))
        i++;
    if (i == sizeof(types) / sizeof(types[0])) {
        if (sc_eq(t, "value_sum") || sc_eq(t, "value_avg") || sc_eq(t, "value_percentile"))
            return fail(L, t->line,
                        "correlation type '%s' is not supported (supported: event_count, "
                        "value_count, temporal, temporal_ordered, absent)",
                        qn(L, t));
        return fail(L, t->line,
                    "correlation type '%s' is not one of event_count, value_count, temporal, "
                    "temporal_ordered, absent",
                    qn(L, t));
    }
    k->type = types[i].type;
    const ynode *rules = map_get(c, "rules");
    if (is_null(rules))
        return fail(L, key->line, "correlation: missing rules");
    if (!get_list(L, c, "rules", &k->rules, &k->nrules) ||
        !get_list(L, c, "group-by", &k->group_by, &k->ngroup_by))
        return false;
    if (k->nrules == 0)
        return fail(L, rules->line, "correlation: rules is empty");
    if (k->type == SG_CORR_ABSENT && k->nrules < 2)
        return fail(L, rules->line,
                    "correlation: absent needs the rule to report and at least one rule whose "
                    "events must be missing");
    const ynode *ts = map_get(c, "timespan");
    if (is_null(ts))
        return fail(L, key->line, "correlation: missing timespan");
    if (!parse_timespan(ts, &k->timespan_ms))
        return fail(L, ts->line,
                    "correlation: timespan '%s' is not a number followed by s, m, h, d or w",
                    qn(L, ts));
    const ynode *cond = map_get(c, "condition");
    if (!is_null(cond) && !conv_corr_condition(L, cond, k))
        return false;
    if (k->type == SG_CORR_ABSENT && k->cmp != SG_CMP_NONE)
        return fail(L, cond->line, "correlation: absent takes no condition");
    if ((k->type == SG_CORR_EVENT_COUNT || k->type == SG_CORR_VALUE_COUNT) && k->cmp == SG_CMP_NONE)
        return fail(L, cond ? cond->line : key->line,
                    "correlation: %s needs a condition such as 'gte: 10'", types[i].name);
    if (k->type == SG_CORR_VALUE_COUNT && k->field == NULL)
        return fail(L, cond ? cond->line : key->line,
                    "correlation: value_count needs a 'field' in its condition");
    if (!conv_aliases(L, map_get(c, "aliases"), k))
        return false;
    return get_bool(L, map_get(root, "generate"), "generate", &k->generate) &&
           get_bool(L, map_get(c, "generate"), "generate", &k->generate);
}

static bool conv_level(loader *L, const ynode *root, sg_rule *r)
{
    static const char *const names[] = {"informational", "low", "medium", "high", "critical"};
    const ynode *v = map_get(root, "level");
    if (is_null(v))
        return true;
    for (unsigned i = 0; v->kind == YN_SCALAR && !has_nul(v) && i < 5; i++)
        if (ascii_ieq(v->s, names[i])) {
            r->level = (sg_level)(SG_LEVEL_INFORMATIONAL + i);
            return true;
        }
    return fail(L, v->line, "level '%s' is not one of informational, low, medium, high, critical",
                qn(L, v));
}

static bool check_status(loader *L, const ynode *root)
{
    static const char *const names[] = {"stable", "test", "experimental", "deprecated",
                                        "unsupported"};
    const ynode *v = map_get(root, "status");
    if (is_null(v))
        return true;
    for (unsigned i = 0; v->kind == YN_SCALAR && !has_nul(v) && i < 5; i++)
        if (ascii_ieq(v->s, names[i]))
            return true;
    return fail(L, v->line,
                "status '%s' is not one of stable, test, experimental, deprecated, unsupported",
                qn(L, v));
}

/* Checks and converts one rule document (after collections). */
static bool convert(loader *L, const ynode *root, sg_rule *r)
{
    r->file = L->file;
    r->line = root->line;
    if (!get_text(L, root, "title", &r->title))
        return false;
    if (r->title == NULL)
        return fail(L, root->line, "missing title");
    if (r->title[0] == '\0')
        return fail(L, map_get(root, "title")->line, "title is empty");
    if (!get_text(L, root, "id", &r->id) || !get_text(L, root, "name", &r->name) ||
        !get_text(L, root, "status", &r->status) ||
        !get_text(L, root, "description", &r->description) ||
        !get_text(L, root, "author", &r->author) || !get_text(L, root, "date", &r->date) ||
        !get_text(L, root, "modified", &r->modified) || !check_status(L, root) ||
        !conv_level(L, root, r) || !get_list(L, root, "tags", &r->tags, &r->ntags) ||
        !get_list(L, root, "falsepositives", &r->falsepositives, &r->nfalsepositives) ||
        !get_list(L, root, "fields", &r->fields, &r->nfields) ||
        !get_list(L, root, "iisguard_install_paths", &r->install_paths, &r->ninstall_paths))
        return false;
    const ynode *det = map_get(root, "detection"), *corr = map_get(root, "correlation");
    if (!is_null(corr)) {
        if (!is_null(det))
            return fail(L, map_key(root, "detection")->line,
                        "a rule cannot have both 'detection' and 'correlation'");
        return conv_correlation(L, map_key(root, "correlation"), corr, root, r);
    }
    if (is_null(det) && map_get(root, "filter") != NULL)
        return fail(L, map_key(root, "filter")->line,
                    "Sigma filters (a 'filter' section) are not supported");
    if (is_null(det))
        return fail(L, root->line, "missing detection (or correlation)");
    const ynode *ls = map_get(root, "logsource");
    if (is_null(ls))
        return fail(L, root->line, "missing logsource");
    if (ls->kind != YN_MAP)
        return fail(L, ls->line, "logsource must be a mapping, not %s", kind_name(ls));
    if (!get_text(L, ls, "product", &r->product) || !get_text(L, ls, "category", &r->category) ||
        !get_text(L, ls, "service", &r->service))
        return false;
    return conv_detection(L, map_key(root, "detection"), det, r);
}

/* A finished YAML document: collections, then conversion and delivery. */
void sgt_process_document(loader *L, const ynode *root)
{
    if (root == NULL || (root->kind == YN_SCALAR && is_null(root)))
        return; /* an empty document */
    if (root->kind != YN_MAP) {
        fail(L, root->line, "document is %s, not a mapping", kind_name(root));
        return;
    }
    const ynode *rule = root, *action = map_get(root, "action");
    if (action != NULL) {
        if (sc_eq(action, "global")) {
            L->global = merge(L, L->global, root, "action");
            return;
        }
        if (sc_eq(action, "reset")) {
            L->global = NULL;
            return;
        }
        if (!sc_eq(action, "repeat")) {
            fail(L, action->line, "action '%s' is not one of global, reset, repeat", qn(L, action));
            return;
        }
        if (L->prev == NULL) {
            fail(L, action->line, "action 'repeat' needs a previous rule in the file");
            return;
        }
        rule = merge(L, L->prev, root, "action");
    } else if (L->global != NULL) {
        rule = merge(L, L->global, root, NULL);
    }
    if (rule == NULL)
        return;
    L->prev = rule;
    sg_rule *r = oalloc(L, 1, sizeof(*r), root->line);
    if (r == NULL || !convert(L, rule, r))
        return;
    /* the rule's first line is its own document's, even when merged */
    r->line = root->line;
    L->delivered++;
    if (L->on_rule != NULL)
        L->on_rule(L->ud, r);
}

/* ------------------------------------------------------ documents (1) -- */

/* Start of the line after the one at `pos`; counts line breaks as libyaml
 * does (LF, CR, CRLF, NEL, LS, PS). */
static size_t next_line(const char *t, size_t len, size_t pos)
{
    while (pos < len) {
        unsigned char c = (unsigned char)t[pos];
        if (c == '\n')
            return pos + 1;
        if (c == '\r')
            return pos + 1 < len && t[pos + 1] == '\n' ? pos + 2 : pos + 1;
        if (c == 0xC2 && pos + 1 < len && (unsigned char)t[pos + 1] == 0x85)
            return pos + 2;
        if (c == 0xE2 && pos + 2 < len && (unsigned char)t[pos + 1] == 0x80 &&
            ((unsigned char)t[pos + 2] == 0xA8 || (unsigned char)t[pos + 2] == 0xA9))
            return pos + 3;
        pos++;
    }
    return len;
}

/* next_line for a text without CR, NEL, LS or PS (only LF breaks). */
static size_t next_lf(const char *t, size_t len, size_t pos)
{
    const char *nl = memchr(t + pos, '\n', len - pos);
    return nl != NULL ? (size_t)(nl - t) + 1 : len;
}

static unsigned line_of_offset(const char *t, size_t len, size_t off)
{
    unsigned line = 0;
    for (size_t p = next_line(t, len, 0); p <= off && p < len && line < UINT32_MAX - 1;
         p = next_line(t, len, p))
        line++;
    return line;
}

static bool is_doc_start(const char *t, size_t len, size_t pos)
{
    return len - pos >= 3 && memcmp(t + pos, "---", 3) == 0 &&
           (len - pos == 3 || t[pos + 3] == ' ' || t[pos + 3] == '\t' || t[pos + 3] == '\n' ||
            t[pos + 3] == '\r');
}

static void yaml_failure(loader *L, yaml_parser_t *p, const char *seg, size_t seglen)
{
    unsigned line;
    if (p->error == YAML_READER_ERROR)
        line = to_line(L, line_of_offset(seg, seglen, p->problem_offset));
    else
        line = to_line(L, p->problem_mark.line);
    if (p->error == YAML_MEMORY_ERROR)
        fail(L, line, "YAML: %s", oom_text);
    else if (p->context != NULL)
        fail(L, line, "YAML: %s (%s at line %u)", p->problem ? p->problem : "syntax error",
             p->context, to_line(L, p->context_mark.line));
    else
        fail(L, line, "YAML: %s", p->problem ? p->problem : "syntax error");
}

/* A document starts on line `mark_line`; false when the file has too many
 * (the rest of it is then left out). */
static bool doc_start(loader *L, size_t mark_line)
{
    tree_reset(L);
    if (L->ndocs++ >= IG_MAX_SIGMA_DOCUMENTS) {
        fail(L, to_line(L, mark_line),
             "more than %u YAML documents; the rest of the file is ignored",
             IG_MAX_SIGMA_DOCUMENTS);
        return false;
    }
    return true;
}

/* The current document has ended: its tree becomes a rule (or errors). */
static void doc_end(loader *L)
{
    if (!L->failed) {
        if (L->rec != NULL && L->root != NULL)
            sgt_put_tree(L->rec, L->root);
        L->converting = true;
        sgt_process_document(L, L->root);
        L->converting = false;
    }
    sgt_flush_error(L);
    tree_reset(L);
}

/* Parses a segment that yaml_fast.c reads (false: it does not; nothing
 * was done).  *more: false when the file has too many documents. */
static bool fast_segment(loader *L, const char *seg, size_t seglen, bool *more)
{
    ig_arena tmp; /* the events: gone once the tree is built */
    ig_arena_init(&tmp, IG_MAX_SIGMA_SCRATCH);
    yf_events evs;
    if (!yf_read(seg, seglen, &tmp, &evs)) {
        ig_arena_destroy(&tmp);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < evs.n; i++) {
        const yf_ev *e = &evs.v[i];
        switch (e->kind) {
        case YF_DOC: ok = *more = doc_start(L, e->line); break;
        case YF_SCALAR: ok = add_scalar(L, e->line, e->s, e->len, e->plain, NULL); break;
        case YF_SEQ: ok = open_node(L, YN_SEQ, e->line, NULL); break;
        case YF_MAP: ok = open_node(L, YN_MAP, e->line, NULL); break;
        default: ok = L->depth == 0 || close_node(L); break;
        }
    }
    ig_arena_destroy(&tmp);
    if (ok && evs.n > 0)
        doc_end(L);
    sgt_flush_error(L);
    tree_reset(L);
    return true;
}

/* Parses one segment of the file (normally one document): by yaml_fast.c
 * when it reads it, else by libyaml. */
static bool parse_segment(loader *L, const char *seg, size_t seglen)
{
    bool more = true;
    if (fast_segment(L, seg, seglen, &more))
        return more;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fail(L, to_line(L, 0), "%s", oom_text);
        sgt_flush_error(L);
        return true;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)seg, seglen);
    bool in_doc = false;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            yaml_failure(L, &p, seg, seglen);
            break;
        }
        bool stop = ev.type == YAML_STREAM_END_EVENT;
        if (ev.type == YAML_DOCUMENT_START_EVENT) {
            if (!doc_start(L, ev.start_mark.line)) {
                stop = true;
                more = false;
            }
            in_doc = true;
        } else if (ev.type == YAML_DOCUMENT_END_EVENT) {
            if (in_doc)
                doc_end(L);
            sgt_flush_error(L);
            tree_reset(L);
            in_doc = false;
        } else if (!on_event(L, &ev)) {
            stop = true; /* a limit: give up this segment */
        }
        yaml_event_delete(&ev);
        if (stop)
            break;
    }
    sgt_flush_error(L);
    tree_reset(L);
    yaml_parser_delete(&p);
    return more;
}

unsigned sg_load_text(const char *file, const char *text, size_t len, ig_arena *arena,
                      sg_rule_fn on_rule, sg_error_fn on_error, void *ud)
{
    return sg_load_text_rec(file, text, len, arena, on_rule, on_error, ud, NULL);
}

unsigned sg_load_text_rec(const char *file, const char *text, size_t len, ig_arena *arena,
                          sg_rule_fn on_rule, sg_error_fn on_error, void *ud, ig_buf *rec)
{
    if (arena == NULL || (text == NULL && len > 0))
        return 0;
    loader *L = ig_calloc(1, sizeof(*L));
    if (L == NULL)
        return 0;
    L->out = arena;
    L->on_rule = on_rule;
    L->on_error = on_error;
    L->ud = ud;
    ig_arena_init(&L->scratch, IG_MAX_SIGMA_SCRATCH);
    if (file == NULL)
        file = "(text)";
    size_t flen = strlen(file);
    char *f = ig_arena_alloc(arena, flen + 1);
    if (f != NULL)
        memcpy(f, file, flen + 1);
    L->file = f ? f : file;
    L->rec = rec;
    if (rec != NULL)
        sgt_put_file(rec, L->file);
    if (len > IG_MAX_SIGMA_FILE_BYTES) {
        fail(L, 1, "file is larger than %u bytes", IG_MAX_SIGMA_FILE_BYTES);
        sgt_flush_error(L);
    } else if (len >= 2 && (((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE) ||
                            ((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF))) {
        parse_segment(L, text, len); /* UTF-16: libyaml decodes; no splitting */
    } else {
        /* split before every column-0 "---" line (and the %directives
         * directly above it) */
        size_t start = 0, pos = 0, dir = SIZE_MAX;
        unsigned line = 0, start_line = 0, dir_line = 0;
        bool more = true;
        bool lf_only = len > 0 && memchr(text, '\r', len) == NULL &&
                       memchr(text, 0xC2, len) == NULL && memchr(text, 0xE2, len) == NULL;
        if (lf_only && memmem(text, len, "\n---", 4) == NULL)
            pos = len; /* one segment (most files): no line to look at */
        while (pos < len && more) {
            if (pos > 0 && is_doc_start(text, len, pos)) {
                size_t b = dir != SIZE_MAX ? dir : pos;
                unsigned bl = dir != SIZE_MAX ? dir_line : line;
                if (b > start) {
                    L->base_line = start_line;
                    more = parse_segment(L, text + start, b - start);
                }
                start = b;
                start_line = bl;
            }
            if (text[pos] == '%') {
                if (dir == SIZE_MAX) {
                    dir = pos;
                    dir_line = line;
                }
            } else {
                dir = SIZE_MAX;
            }
            pos = lf_only ? next_lf(text, len, pos) : next_line(text, len, pos);
            line++;
        }
        if (more && start < len) {
            L->base_line = start_line;
            parse_segment(L, text + start, len - start);
        }
    }
    unsigned n = L->delivered;
    tree_reset(L);
    ig_arena_destroy(&L->scratch);
    ig_free(L);
    return n;
}
