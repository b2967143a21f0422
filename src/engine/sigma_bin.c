/* Compiled rule files: the loader's YAML trees, written once and read back
 * without YAML (sigma_ast.h: sg_load_text_rec, sg_load_compiled).
 *
 * What is kept is the output of the YAML stage of sigma_load.c — each
 * document's tree (a node a YAML alias repeats is written once, then
 * referred to) and each error found before a tree was made — so reading a
 * compiled file runs the same rule collections, checks and conversion as
 * loading the YAML, and gives the same rules and the same messages, with
 * the same file names and lines.
 *
 * Layout (little-endian):
 *   header   "IGSIGMA\x1a", u32 version, u32 CRC-32 of everything after it
 *   record   u8 tag, u32 length, payload:
 *     'F'    u32 n, n bytes: the rule file the following records come from
 *     'D'    a node: one document's tree
 *     'E'    u32 line, u32 n, n bytes: an error of the YAML stage
 *   node     u8 kind (0 scalar, 1 sequence, 2 mapping) | 4 when plain,
 *            u32 line, then a scalar's u32 n and n bytes, or a collection's
 *            u32 n and its n items (a mapping: n keys and values, 2n nodes);
 *            or u8 8, u32 k: the k-th node of the document completed before
 *            (counted as they end), which a YAML alias made appear again —
 *            the tree keeps the size the YAML gave it
 * A reader meets records of tags it does not know with their length and
 * skips them. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/crc32.h"
#include "core/rd.h"
#include "engine/sigma_tree.h"

#define SG_COMPILED_VERSION 1u

/* ---------------------------------------------------------------- write -- */

static void put_u32(ig_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ig_buf_put(b, p, 4);
}

static void put_str(ig_buf *b, const char *s, size_t n)
{
    if (n > UINT32_MAX) {
        b->failed = true;
        return;
    }
    put_u32(b, (uint32_t)n);
    ig_buf_put(b, s, n);
}

/* Starts a record; returns where its length goes (end_record fills it). */
static size_t begin_record(ig_buf *b, uint8_t tag)
{
    ig_buf_putc(b, tag);
    size_t at = b->len;
    put_u32(b, 0);
    return at;
}

static void end_record(ig_buf *b, size_t at)
{
    if (b->failed || b->len - at - 4 > UINT32_MAX) {
        b->failed = true;
        return;
    }
    uint32_t n = (uint32_t)(b->len - at - 4);
    uint8_t p[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    memcpy(b->data + at, p, 4);
}

/* The nodes of the document being written, by address: the number of
 * each (in the order they were completed), to write a node met again (an
 * alias) as a reference. */
typedef struct wmap {
    const ynode **keys;
    uint32_t *ids;
    uint32_t cap, n;
} wmap;

static uint32_t wmap_slot(const wmap *m, const ynode *n)
{
    uint64_t h = (uint64_t)(uintptr_t)n * 0x9e3779b97f4a7c15u;
    uint32_t i = (uint32_t)(h >> 32) & (m->cap - 1);
    while (m->keys[i] != NULL && m->keys[i] != n)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* The tree's height is at most IG_MAX_SIGMA_DEPTH + 1 (the YAML stage's
 * cap), so the recursion is bounded. */
static void put_node(ig_buf *b, wmap *m, const ynode *n)
{
    uint32_t i = wmap_slot(m, n);
    if (m->keys[i] == n) {
        ig_buf_putc(b, 8);
        put_u32(b, m->ids[i]);
        return;
    }
    ig_buf_putc(b, (uint8_t)(n->kind | (n->plain ? 4u : 0u)));
    put_u32(b, n->line);
    if (n->kind == YN_SCALAR) {
        put_str(b, n->s, n->len);
    } else {
        put_u32(b, n->n);
        unsigned kids = n->kind == YN_MAP ? 2 * n->n : n->n;
        for (unsigned k = 0; k < kids && !b->failed; k++)
            put_node(b, m, n->kids[k]);
    }
    i = wmap_slot(m, n); /* the table may have changed below */
    m->keys[i] = n;
    m->ids[i] = m->n++;
}

/* Distinct nodes of a tree (an upper bound: its expanded size). */
static uint32_t distinct_bound(const ynode *root)
{
    return root->size < IG_MAX_SIGMA_NODES ? root->size : IG_MAX_SIGMA_NODES;
}

void sgt_put_file(ig_buf *rec, const char *file)
{
    size_t at = begin_record(rec, 'F');
    put_str(rec, file, strlen(file));
    end_record(rec, at);
}

void sgt_put_tree(ig_buf *rec, const ynode *root)
{
    uint32_t cap = 16;
    while (cap < 2 * distinct_bound(root))
        cap *= 2;
    wmap m = {ig_calloc(cap, sizeof(*m.keys)), ig_malloc(sizeof(*m.ids) * cap), cap, 0};
    if (m.keys == NULL || m.ids == NULL) {
        rec->failed = true;
    } else {
        size_t at = begin_record(rec, 'D');
        put_node(rec, &m, root);
        end_record(rec, at);
    }
    ig_free(m.keys);
    ig_free(m.ids);
}

void sgt_put_error(ig_buf *rec, unsigned line, const char *reason)
{
    size_t at = begin_record(rec, 'E');
    put_u32(rec, line);
    put_str(rec, reason, strlen(reason));
    end_record(rec, at);
}

void sg_record_error(ig_buf *rec, const char *file, unsigned line, const char *reason)
{
    sgt_put_file(rec, file);
    sgt_put_error(rec, line, reason);
}

void sg_compiled_header(uint8_t out[SG_COMPILED_HEADER], uint32_t crc)
{
    memcpy(out, SG_COMPILED_MAGIC, 8);
    uint32_t v[2] = {SG_COMPILED_VERSION, crc};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            out[8 + 4 * i + k] = (uint8_t)(v[i] >> (8 * k));
}

bool sg_is_compiled(const uint8_t *data, size_t len)
{
    return len >= 8 && memcmp(data, SG_COMPILED_MAGIC, 8) == 0;
}

/* ----------------------------------------------------------------- read -- */

typedef struct bin {
    const char *path; /* the compiled file */
    const uint8_t *base;
    ig_arena *arena;
    sg_rule_fn on_rule;
    sg_error_fn on_error;
    void *ud;
    loader *L; /* of the current rule file; NULL before the first 'F' */
    unsigned delivered;
    uint32_t nodes; /* of the current tree, expanded (as the YAML stage counts) */
    ynode **done;   /* the current tree's completed nodes, in order */
    uint32_t ndone, capdone;
    const char *why; /* why the current record is damaged */
    size_t at;       /* and where */
} bin;

static void report(bin *c, size_t at, const char *why)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "damaged compiled rule file at byte %zu: %s", at, why);
    char *s = ig_arena_dup(c->arena, buf, strlen(buf) + 1);
    sg_error e = {c->path, 0, s != NULL ? s : "damaged compiled rule file"};
    if (c->on_error != NULL)
        c->on_error(c->ud, &e);
}

static bool bad(bin *c, const ig_rd *r, const char *why)
{
    c->why = why;
    c->at = (size_t)(r->base - c->base) + r->pos;
    return false;
}

static void close_file(bin *c)
{
    if (c->L == NULL)
        return;
    c->delivered += c->L->delivered;
    ig_arena_destroy(&c->L->scratch);
    ig_free(c->L);
    c->L = NULL;
}

/* Starts rule file `name` (as sg_load_text does). */
static bool open_file(bin *c, const uint8_t *name, uint32_t n)
{
    close_file(c);
    loader *L = ig_calloc(1, sizeof(*L));
    char *f = ig_arena_alloc(c->arena, (size_t)n + 1);
    if (L == NULL || f == NULL) {
        ig_free(L);
        return false;
    }
    memcpy(f, name, n);
    f[n] = '\0';
    L->file = f;
    L->out = c->arena;
    L->on_rule = c->on_rule;
    L->on_error = c->on_error;
    L->ud = c->ud;
    ig_arena_init(&L->scratch, IG_MAX_SIGMA_SCRATCH);
    c->L = L;
    return true;
}

static bool completed(bin *c, ynode *y)
{
    if (c->ndone == c->capdone) {
        uint32_t cap = c->capdone ? c->capdone * 2 : 256;
        ynode **v = ig_realloc(c->done, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        c->done = v;
        c->capdone = cap;
    }
    c->done[c->ndone++] = y;
    return true;
}

/* A node met again at nesting `depth`, as on_alias in sigma_load.c takes
 * it: charged its size, refused when it would nest too deep. */
static ynode *read_ref(bin *c, ig_rd *r, unsigned depth)
{
    uint32_t k;
    if (!ig_rd_u32le(r, &k) || k >= c->ndone) {
        bad(c, r, "a reference to a node not read yet");
        return NULL;
    }
    ynode *y = c->done[k];
    if (y->height > IG_MAX_SIGMA_DEPTH - depth) {
        bad(c, r, "a document is nested too deep");
        return NULL;
    }
    if (y->size > IG_MAX_SIGMA_NODES - c->nodes) {
        bad(c, r, "a document has too many nodes");
        return NULL;
    }
    c->nodes += y->size;
    return y;
}

/* One node at nesting `depth` (the root: 0), checked against the limits
 * of the YAML stage (nesting, nodes, keys, scalar bytes, keys that are
 * scalars and unique). */
static ynode *read_node(bin *c, ig_rd *r, unsigned depth)
{
    uint8_t tag;
    uint32_t line, n;
    if (!ig_rd_u8(r, &tag)) {
        bad(c, r, "a node is cut short");
        return NULL;
    }
    if (tag == 8)
        return read_ref(c, r, depth);
    if (!ig_rd_u32le(r, &line) || !ig_rd_u32le(r, &n)) {
        bad(c, r, "a node is cut short");
        return NULL;
    }
    unsigned kind = tag & 3u;
    if ((tag & ~7u) != 0 || kind > YN_MAP) {
        bad(c, r, "unknown node kind");
        return NULL;
    }
    if (c->nodes >= IG_MAX_SIGMA_NODES) {
        bad(c, r, "a document has too many nodes");
        return NULL;
    }
    c->nodes++;
    if (kind != YN_SCALAR && depth >= IG_MAX_SIGMA_DEPTH) {
        bad(c, r, "a document is nested too deep");
        return NULL;
    }
    ynode *y = ig_arena_alloc(&c->L->scratch, sizeof(*y));
    if (y == NULL) {
        bad(c, r, "out of memory");
        return NULL;
    }
    *y = (ynode){(yn_kind)kind, (tag & 4u) != 0, line, 1, 1, NULL, 0, NULL, 0};
    if (kind == YN_SCALAR) {
        const uint8_t *p;
        char *s;
        if (n > IG_MAX_SIGMA_STRING || !ig_rd_bytes(r, n, &p)) {
            bad(c, r, "a scalar is too long or cut short");
            return NULL;
        }
        if ((s = ig_arena_alloc(&c->L->scratch, (size_t)n + 1)) == NULL) {
            bad(c, r, "out of memory");
            return NULL;
        }
        memcpy(s, p, n);
        s[n] = '\0';
        y->s = s;
        y->len = n;
    } else {
        if (kind == YN_MAP && n > IG_MAX_SIGMA_MAP_KEYS) {
            bad(c, r, "a mapping has too many keys");
            return NULL;
        }
        size_t kids = kind == YN_MAP ? 2u * (size_t)n : n;
        if (kids > ig_rd_left(r) / 5u) { /* a node takes 5 bytes at least */
            bad(c, r, "a collection is cut short");
            return NULL;
        }
        y->kids = ig_arena_alloc(&c->L->scratch, (kids ? kids : 1) * sizeof(*y->kids));
        if (y->kids == NULL) {
            bad(c, r, "out of memory");
            return NULL;
        }
        y->n = n;
        for (size_t i = 0; i < kids; i++) {
            ynode *k = read_node(c, r, depth + 1);
            if (k == NULL)
                return NULL;
            if (kind == YN_MAP && i % 2 == 0) {
                if (k->kind != YN_SCALAR) {
                    bad(c, r, "a mapping key is not a scalar");
                    return NULL;
                }
                for (size_t j = 0; j < i; j += 2)
                    if (sgt_same_key(y->kids[j], k)) {
                        bad(c, r, "a mapping has a duplicate key");
                        return NULL;
                    }
            }
            y->kids[i] = k;
            y->size += k->size;
            if (k->height + 1 > y->height)
                y->height = k->height + 1;
        }
    }
    if (!completed(c, y)) {
        bad(c, r, "out of memory");
        return NULL;
    }
    return y;
}

/* One record's payload `r` of tag `tag`; false (c->why set) if damaged. */
static bool record(bin *c, uint8_t tag, ig_rd *r)
{
    uint32_t n, line;
    const uint8_t *p;
    if (tag == 'F') {
        if (!ig_rd_u32le(r, &n) || !ig_rd_bytes(r, n, &p) || memchr(p, 0, n) != NULL)
            return bad(c, r, "a file name is cut short or holds a NUL byte");
        if (!open_file(c, p, n))
            return bad(c, r, "out of memory");
    } else if (tag == 'E' || tag == 'D') {
        if (c->L == NULL)
            return bad(c, r, "a rule record comes before any file name");
        if (tag == 'E') {
            if (!ig_rd_u32le(r, &line) || !ig_rd_u32le(r, &n) || !ig_rd_bytes(r, n, &p))
                return bad(c, r, "an error record is cut short");
            char *s = ig_arena_alloc(c->arena, (size_t)n + 1);
            if (s == NULL)
                return bad(c, r, "out of memory");
            memcpy(s, p, n);
            s[n] = '\0';
            sg_error e = {c->L->file, line, s};
            if (c->on_error != NULL)
                c->on_error(c->ud, &e);
        } else {
            if (c->L->ndocs++ >= IG_MAX_SIGMA_DOCUMENTS)
                return bad(c, r, "a rule file has too many documents");
            c->nodes = 0;
            c->ndone = 0;
            const ynode *root = read_node(c, r, 0);
            if (root == NULL)
                return false;
            if (ig_rd_left(r) != 0)
                return bad(c, r, "bytes after a document's tree");
            sgt_process_document(c->L, root);
            sgt_flush_error(c->L);
        }
    }
    return true; /* an unknown tag: skipped */
}

bool sg_compiled_open(const char *path, const uint8_t *data, size_t len, ig_arena *arena,
                      sg_error_fn on_error, void *ud)
{
    bin c = {path, data, arena, NULL, on_error, ud, NULL, 0, 0, NULL, 0, 0, NULL, 0};
    if (!sg_is_compiled(data, len) || len < SG_COMPILED_HEADER) {
        report(&c, sg_is_compiled(data, len) ? len : 0,
               sg_is_compiled(data, len) ? "the header is cut short"
                                         : "not a compiled rule file (no IGSIGMA header)");
        return false;
    }
    uint32_t version = ig_le32(data + 8), crc = ig_le32(data + 12);
    if (version != SG_COMPILED_VERSION) {
        char why[96];
        snprintf(why, sizeof(why), "format version %u, this iisguard reads version %u", version,
                 SG_COMPILED_VERSION);
        report(&c, 8, why);
        return false;
    }
    if (ig_crc32(0, data + SG_COMPILED_HEADER, len - SG_COMPILED_HEADER) != crc)
        report(&c, 12, "the checksum of the records does not match (the records are still read)");
    return true;
}

/* The record at `pos`: its tag, and where the next one starts; false when
 * it is cut short. */
static bool framed(const uint8_t *data, size_t len, size_t pos, uint8_t *tag, size_t *next)
{
    ig_rd r = ig_rd_make(data, len);
    uint32_t n;
    r.pos = pos;
    if (!ig_rd_u8(&r, tag) || !ig_rd_u32le(&r, &n) || !ig_rd_skip(&r, n))
        return false;
    *next = r.pos;
    return true;
}

size_t sg_compiled_run(const uint8_t *data, size_t len, size_t pos, bool *cut)
{
    uint8_t tag;
    size_t next;
    *cut = false;
    for (bool first = true; pos < len; first = false) {
        if (!framed(data, len, pos, &tag, &next)) {
            *cut = true;
            return pos;
        }
        if (tag == 'F' && !first)
            return pos;
        pos = next;
    }
    return pos;
}

unsigned sg_load_compiled_run(const char *path, const uint8_t *data, size_t start, size_t end,
                              bool cut, ig_arena *arena, sg_rule_fn on_rule, sg_error_fn on_error,
                              void *ud)
{
    bin c = {path, data, arena, on_rule, on_error, ud, NULL, 0, 0, NULL, 0, 0, NULL, 0};
    for (size_t pos = start, next; pos < end; pos = next) {
        uint8_t tag;
        if (!framed(data, end, pos, &tag, &next))
            break; /* not for a run sg_compiled_run gave */
        ig_rd body = ig_rd_make(data + pos + 5, next - pos - 5);
        if (!record(&c, tag, &body))
            report(&c, c.at, c.why);
    }
    if (cut)
        report(&c, end, "a record is cut short (the rest of the file is not read)");
    close_file(&c);
    ig_free(c.done);
    return c.delivered;
}

unsigned sg_load_compiled(const char *path, const uint8_t *data, size_t len, ig_arena *arena,
                          sg_rule_fn on_rule, sg_error_fn on_error, void *ud)
{
    if (!sg_compiled_open(path, data, len, arena, on_error, ud))
        return 0;
    unsigned n = 0;
    bool cut = false;
    size_t pos = SG_COMPILED_HEADER;
    while (pos < len && !cut) {
        size_t end = sg_compiled_run(data, len, pos, &cut);
        n += sg_load_compiled_run(path, data, pos, end, cut, arena, on_rule, on_error, ud);
        pos = end;
    }
    return n;
}
