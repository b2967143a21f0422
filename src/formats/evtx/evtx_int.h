/* Internal interfaces of the EVTX reader (src/formats/evtx only). */
#ifndef IG_EVTX_INT_H
#define IG_EVTX_INT_H

#include "core/arena.h"
#include "core/buf.h"
#include "formats/evtx/binxml.h"
#include "iisguard/evtx.h"

/* Per-thread template cache that survives across chunks (by identity:
 * GUID + size + identical definition bytes). */
typedef struct bx_tcache bx_tcache;

bx_tcache *bx_tcache_create(void);
void bx_tcache_destroy(bx_tcache *c);

/* Per-chunk decoding context. */
struct bx_ctx {
    const uint8_t *chunk; /* borrowed: the whole chunk */
    uint32_t chunk_len;
    ig_arena *chunk_arena;  /* chunk-lifetime allocations (local templates, names) */
    ig_arena *record_arena; /* reset per record */
    bx_tcache *tcache;
    /* chunk-local map: template definition offset → compiled template */
    struct bx_tmap_ent *tmap;
    uint32_t tmap_cap, tmap_len;
    /* chunk-local map: name offset → decoded name */
    struct bx_nmap_ent *nmap;
    uint32_t nmap_cap, nmap_len;
    uint32_t gen;      /* chunk generation: map entries of other chunks are stale */
    void *chunk_local; /* templates owned by this chunk only */
    uint32_t tokens;   /* tokens decoded for the current record (step limit) */
    uint32_t nesting;
    /* the first problem found in the current record, if any */
    const char *err;
    uint32_t err_off;
    /* statistics */
    uint64_t templates_compiled, templates_reused;
};

/* Prepares `ctx` for a new chunk.  Returns false on allocation failure. */
bool bx_ctx_begin_chunk(bx_ctx *ctx, const uint8_t *chunk, uint32_t len);
void bx_ctx_end_chunk(bx_ctx *ctx);
void bx_ctx_free(bx_ctx *ctx);

/* Parses the Binary XML of one record body at chunk offsets [off, end) into
 * a node list allocated in the record arena.  Returns NULL and sets ctx->err
 * on malformed input (partial trees are never returned). */
bx_node *bx_parse_record(bx_ctx *ctx, uint32_t off, uint32_t end);

/* Record being rendered. */
typedef struct evtx_rec {
    uint64_t record_id;
    uint64_t written; /* FILETIME */
    const bx_node *root;
} evtx_rec;

/* Value renderings: JSON (evtx_dump conventions, escaped), XML (Event
 * Viewer conventions, escaped), TEXT (JSON conventions, unescaped: what
 * rules match against). */
typedef enum { VF_JSON, VF_XML, VF_TEXT } vf_mode;

/* A node in the context of the values of its template instance. */
typedef struct rn_item {
    const bx_node *n;
    const bx_value *vals;
    uint32_t nvals;
} rn_item;

/* Stack of items shared by the renderers of one thread. */
typedef struct rn_stack {
    rn_item *v;
    uint32_t len, cap;
} rn_stack;

/* Pushes the content nodes `kids` (in values context vals/nvals) with
 * template instances and Binary XML values expanded in place.  Returns
 * false when out of memory or over the item limit. */
bool rn_expand(rn_stack *st, const bx_node *kids, const bx_value *vals, uint32_t nvals,
               unsigned depth);
/* The value a substitution refers to, or NULL when it is out of range. */
static inline const bx_value *rn_subst_value(const rn_item *it)
{
    if (it->vals == NULL || it->n->sid >= it->nvals)
        return NULL;
    return &it->vals[it->n->sid];
}

/* True when a substitution resolves to nothing (NULL type, missing, or an
 * empty value of a non-string type). */
static inline bool rn_is_null(const rn_item *it)
{
    if (it->n->kind != BX_SUBST)
        return false;
    const bx_value *v = rn_subst_value(it);
    if (v == NULL || v->type == BX_T_NULL)
        return true;
    return v->len == 0 && (v->type & 0x7f) != BX_T_STRING && (v->type & 0x7f) != BX_T_ANSI;
}

/* Is this item a text part (not an element / PI)? */
static inline bool rn_is_text(const rn_item *it)
{
    return it->n->kind != BX_ELEM && it->n->kind != BX_PI;
}
/* Appends a text part (substitution, text, char/entity reference, CDATA)
 * unquoted with the escaping of `mode`. */
bool rn_text(ig_buf *b, const rn_item *it, vf_mode mode);

/* Renderers: append one record (and a trailing newline) to `out`.  Return
 * false when the output buffer refused to grow. */
bool evtx_render_json(bx_ctx *ctx, rn_stack *st, const evtx_rec *rec, ig_buf *out);
bool evtx_render_xml(rn_stack *st, const evtx_rec *rec, ig_buf *out);

/* Value formatting shared by the renderers.  `esc` is applied to string
 * content; numbers are bare.  Returns false on buffer failure. */
bool evtx_value_text(ig_buf *b, const bx_value *v, vf_mode mode);
/* Appends `v` as a complete JSON value (quoted string, number, bool, array). */
bool evtx_value_json(ig_buf *b, const bx_value *v);
/* True when `v` renders as a bare JSON scalar (number/bool) rather than a
 * quoted string. */
bool evtx_value_is_json_bare(const bx_value *v);
/* Appends FILETIME as ISO 8601 with `digits` fractional digits (6 or 7). */
bool evtx_filetime(ig_buf *b, uint64_t ft, unsigned digits);

/* Flattens a decoded record into the normalised event `ev` (already reset;
 * names and joined values go to `arena`). */
struct ig_event;
bool evtx_event_build(rn_stack *st, const evtx_rec *rec, struct ig_event *ev, ig_arena *arena);

uint32_t evtx_crc32(const uint8_t *p, size_t n, uint32_t seed);

#endif
