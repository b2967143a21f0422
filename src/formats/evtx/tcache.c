#include "formats/evtx/tcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/rd.h"

/* An owned, compiled template with the bytes that identify it. */
typedef struct towned {
    struct towned *next; /* chunk-local list / list of all cached templates */
    ig_arena arena;      /* the template's nodes and names */
    bx_template tpl;
    uint64_t hash;
    uint8_t *bytes; /* in arena */
} towned;

/* Shared by every decoding thread of a dumper.  Lookups read the tables
 * without a lock (entries are published whole with release stores and
 * never change or move afterwards); insertions take the mutex.  Nothing is
 * evicted during a run: past its caps the cache stops growing and further
 * templates live as long as their chunk. */
struct bx_tcache {
    _Atomic(towned *) *slots; /* open addressing, power of two */
    uint32_t cap, len;
    _Atomic(const jprog *) *progs; /* compiled JSON programs (render_json.c) */
    uint32_t pcap, plen;
    pthread_mutex_t mu;
    towned *all;  /* every cached template, for destroy */
    jprog *pall;  /* every cached program, for destroy */
    size_t bytes; /* rough memory held */
};

/* Cap on what the cache holds. */
#define TCACHE_MAX_BYTES (24u * 1024u * 1024u)

/* Entries of an older chunk (gen differs) count as empty, so the tables
 * need no clearing per chunk. */
struct bx_tmap_ent {
    uint32_t off;
    uint32_t gen;
    const bx_template *t;
};

struct bx_nmap_ent {
    uint32_t off;
    uint32_t gen;
    uint32_t len;
    const char *s;
};

static uint64_t hash_bytes(const uint8_t *guid, const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (size_t i = 0; i < 16; i += 8)
        h = (h ^ ig_le64(guid + i)) * 0xff51afd7ed558ccdull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h ^= ig_le64(p + i);
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    return h ? h : 1;
}

static void towned_free(towned *o)
{
    ig_arena a = o->arena; /* o lives in its own arena */
    ig_arena_destroy(&a);
}

bx_tcache *bx_tcache_create(void)
{
    bx_tcache *c = ig_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->cap = 8192;
    c->slots = ig_calloc(c->cap, sizeof(*c->slots));
    c->pcap = 16384;
    c->progs = ig_calloc(c->pcap, sizeof(*c->progs));
    if (c->slots == NULL || c->progs == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
        ig_free(c->slots);
        ig_free(c->progs);
        ig_free(c);
        return NULL;
    }
    return c;
}

void bx_tcache_destroy(bx_tcache *c)
{
    if (c == NULL)
        return;
    for (towned *o = c->all; o != NULL;) {
        towned *next = o->next;
        towned_free(o);
        o = next;
    }
    for (jprog *p = c->pall; p != NULL;) {
        jprog *next = p->all_next;
        ig_free(p);
        p = next;
    }
    pthread_mutex_destroy(&c->mu);
    ig_free(c->slots);
    ig_free(c->progs);
    ig_free(c);
}

static bool ext_names_match(const bx_ctx *ctx, const bx_template *t)
{
    for (uint32_t i = 0; i < t->next_ext; i++) {
        const bx_extname *e = &t->ext[i];
        uint64_t end = (uint64_t)e->off + 8 + e->nbytes + 2;
        if (end > ctx->chunk_len || ig_le16(ctx->chunk + e->off + 6) != e->nbytes / 2 ||
            memcmp(ctx->chunk + e->off + 8, e->utf16, e->nbytes) != 0)
            return false;
    }
    return true;
}

static bool same_ext(const bx_template *a, const bx_template *b)
{
    if (a->next_ext != b->next_ext)
        return false;
    for (uint32_t i = 0; i < a->next_ext; i++)
        if (a->ext[i].off != b->ext[i].off || a->ext[i].nbytes != b->ext[i].nbytes ||
            memcmp(a->ext[i].utf16, b->ext[i].utf16, a->ext[i].nbytes) != 0)
            return false;
    return true;
}

const bx_template *tcache_get(const bx_ctx *ctx, const uint8_t guid[16], const uint8_t *data,
                              uint32_t size)
{
    bx_tcache *c = ctx->tcache;
    if (c == NULL)
        return NULL;
    uint64_t h = hash_bytes(guid, data, size);
    for (uint32_t i = (uint32_t)h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        towned *o = atomic_load_explicit(&c->slots[i], memory_order_acquire);
        if (o == NULL)
            return NULL;
        if (o->hash == h && o->tpl.data_size == size && memcmp(o->tpl.guid, guid, 16) == 0 &&
            memcmp(o->bytes, data, size) == 0 && ext_names_match(ctx, &o->tpl))
            return &o->tpl;
    }
}

uint64_t tcache_hash(const void *tpl, const uint8_t *p, size_t n)
{
    uint8_t id[16] = {0};
    uintptr_t u = (uintptr_t)tpl;
    memcpy(id, &u, sizeof(u));
    return hash_bytes(id, p, n);
}

static bool same_prog(const jprog *p, const void *tpl, uint64_t h, const uint8_t *sig, uint32_t len)
{
    return p->hash == h && p->tpl == tpl && p->siglen == len && memcmp(p->sig, sig, len) == 0;
}

const jprog *tcache_prog_get(const bx_tcache *c, const void *tpl, uint64_t h, const uint8_t *sig,
                             uint32_t len)
{
    for (uint32_t i = (uint32_t)h & (c->pcap - 1);; i = (i + 1) & (c->pcap - 1)) {
        const jprog *p = atomic_load_explicit(&c->progs[i], memory_order_acquire);
        if (p == NULL)
            return NULL;
        if (same_prog(p, tpl, h, sig, len))
            return p;
    }
}

void tcache_prog_put(bx_tcache *c, jprog *p)
{
    pthread_mutex_lock(&c->mu);
    if (c->plen + 1 >= c->pcap / 2 || c->bytes > TCACHE_MAX_BYTES) {
        pthread_mutex_unlock(&c->mu);
        ig_free(p); /* full: the template is rendered the slow way */
        return;
    }
    for (uint32_t i = (uint32_t)p->hash & (c->pcap - 1);; i = (i + 1) & (c->pcap - 1)) {
        const jprog *q = atomic_load_explicit(&c->progs[i], memory_order_relaxed);
        if (q == NULL) {
            p->all_next = c->pall;
            c->pall = p;
            c->plen++;
            c->bytes += p->bytes;
            atomic_store_explicit(&c->progs[i], p, memory_order_release);
            break;
        }
        if (same_prog(q, p->tpl, p->hash, p->sig, p->siglen)) {
            ig_free(p); /* another thread was first */
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

const bx_template *tcache_adopt(bx_ctx *ctx, const bx_template *tpl, ig_arena *scratch,
                                const uint8_t *data, uint32_t size)
{
    bx_tcache *c = ctx->tcache;
    bool local = tpl->chunk_local || c == NULL;
    towned *o = ig_arena_alloc(scratch, sizeof(*o));
    uint8_t *bytes = local ? NULL : ig_arena_dup(scratch, data, size);
    if (o == NULL || (!local && bytes == NULL))
        return NULL;
    o->tpl = *tpl;
    o->bytes = bytes;
    o->hash = local ? 0 : hash_bytes(tpl->guid, data, size);
    o->arena = *scratch; /* ownership moves; the copy inside o is the only one */
    if (!local) {
        pthread_mutex_lock(&c->mu);
        if (c->len + 1 >= c->cap / 2 || c->bytes > TCACHE_MAX_BYTES) {
            local = true; /* full: keep it for this chunk only */
        } else {
            for (uint32_t i = (uint32_t)o->hash & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
                towned *q = atomic_load_explicit(&c->slots[i], memory_order_relaxed);
                if (q == NULL) {
                    o->tpl.shared = true;
                    o->next = c->all;
                    c->all = o;
                    c->bytes += o->arena.used_total + sizeof(*o);
                    c->len++;
                    atomic_store_explicit(&c->slots[i], o, memory_order_release);
                    break;
                }
                if (q->hash == o->hash && q->tpl.data_size == size &&
                    memcmp(q->tpl.guid, o->tpl.guid, 16) == 0 &&
                    memcmp(q->bytes, bytes, size) == 0 && same_ext(&q->tpl, &o->tpl)) {
                    /* another thread compiled it first: use theirs */
                    pthread_mutex_unlock(&c->mu);
                    towned_free(o);
                    return &q->tpl;
                }
            }
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (local) {
        o->next = (towned *)ctx->chunk_local;
        ctx->chunk_local = o;
    }
    return &o->tpl;
}

bool bx_ctx_begin_chunk(bx_ctx *ctx, const uint8_t *chunk, uint32_t len)
{
    ctx->chunk = chunk;
    ctx->chunk_len = len;
    if (ctx->tmap == NULL) {
        ctx->tmap_cap = 256;
        ctx->tmap = ig_calloc(ctx->tmap_cap, sizeof(*ctx->tmap));
        ctx->nmap_cap = 1024;
        ctx->nmap = ig_calloc(ctx->nmap_cap, sizeof(*ctx->nmap));
        if (ctx->tmap == NULL || ctx->nmap == NULL)
            return false;
    }
    if (++ctx->gen == 0) { /* wrapped: really clear once */
        memset(ctx->tmap, 0, sizeof(*ctx->tmap) * ctx->tmap_cap);
        memset(ctx->nmap, 0, sizeof(*ctx->nmap) * ctx->nmap_cap);
        ctx->gen = 1;
    }
    ctx->tmap_len = ctx->nmap_len = 0;
    return true;
}

void bx_ctx_end_chunk(bx_ctx *ctx)
{
    towned *o = ctx->chunk_local;
    while (o != NULL) {
        towned *next = o->next;
        towned_free(o);
        o = next;
    }
    ctx->chunk_local = NULL;
    ig_arena_reset(ctx->chunk_arena);
}

void bx_ctx_free(bx_ctx *ctx)
{
    bx_ctx_end_chunk(ctx);
    ig_free(ctx->tmap);
    ig_free(ctx->nmap);
    ctx->tmap = NULL;
    ctx->nmap = NULL;
}

static uint32_t slot_of(uint32_t off, uint32_t cap)
{
    return (off * 2654435761u) & (cap - 1);
}

const bx_template *tmap_get(const bx_ctx *ctx, uint32_t off)
{
    if (ctx->tmap == NULL || off == 0)
        return NULL;
    for (uint32_t i = slot_of(off, ctx->tmap_cap);; i = (i + 1) & (ctx->tmap_cap - 1)) {
        if (ctx->tmap[i].gen != ctx->gen)
            return NULL;
        if (ctx->tmap[i].off == off)
            return ctx->tmap[i].t;
    }
}

void tmap_put(bx_ctx *ctx, uint32_t off, const bx_template *t)
{
    if (ctx->tmap == NULL || off == 0 || ctx->tmap_len + 1 >= ctx->tmap_cap / 2)
        return;
    for (uint32_t i = slot_of(off, ctx->tmap_cap);; i = (i + 1) & (ctx->tmap_cap - 1)) {
        if (ctx->tmap[i].gen != ctx->gen) {
            ctx->tmap[i].off = off;
            ctx->tmap[i].gen = ctx->gen;
            ctx->tmap[i].t = t;
            ctx->tmap_len++;
            return;
        }
        if (ctx->tmap[i].off == off)
            return;
    }
}

bool tmap_name_get(const bx_ctx *ctx, uint32_t off, const char **s, uint32_t *len)
{
    if (ctx->nmap == NULL || off == 0)
        return false;
    for (uint32_t i = slot_of(off, ctx->nmap_cap);; i = (i + 1) & (ctx->nmap_cap - 1)) {
        if (ctx->nmap[i].gen != ctx->gen)
            return false;
        if (ctx->nmap[i].off == off) {
            *s = ctx->nmap[i].s;
            *len = ctx->nmap[i].len;
            return true;
        }
    }
}

void tmap_name_put(bx_ctx *ctx, uint32_t off, const char *s, uint32_t len)
{
    if (ctx->nmap == NULL || off == 0 || ctx->nmap_len + 1 >= ctx->nmap_cap / 2)
        return;
    for (uint32_t i = slot_of(off, ctx->nmap_cap);; i = (i + 1) & (ctx->nmap_cap - 1)) {
        if (ctx->nmap[i].gen != ctx->gen) {
            ctx->nmap[i] = (struct bx_nmap_ent){off, ctx->gen, len, s};
            ctx->nmap_len++;
            return;
        }
        if (ctx->nmap[i].off == off)
            return;
    }
}
