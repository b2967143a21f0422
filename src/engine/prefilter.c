#define _GNU_SOURCE /* memmem */
/* The literal prefilter.  Most Sigma patterns are literals compared
 * case-insensitively (contains, startswith, endswith, equals).  Instead of
 * one memmem per pattern per event, every literal of every rule is indexed
 * in one hash table by where it can hold in a field's value: a contains
 * literal by (field, its first four bytes), looked up at every position of
 * the value; an equals literal by a hash of it, looked up once for the whole
 * value; a startswith / endswith literal by its first / last four bytes (or
 * a hash of its first / last eight), looked up once at the start / end.
 * Each hit is verified.  Literals too short for a key are checked one by
 * one.  Results are per event bits (match.c: em_prefilter_event). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/rd.h"
#include "engine/engine.h"

/* Keys of the literal index: the literal's kind (where in a value it is
 * looked for, below), its field and 32 bits of its text.  Key 0 is an empty
 * slot (field + 1 is never 0). */
enum {
    PF_K_SCAN,  /* contains, >= 4 bytes: its first 4 bytes, at every position */
    PF_K_EQ,    /* equals, any length: a hash of it, against the whole value */
    PF_K_HEAD4, /* startswith, 4-7 bytes: its first 4 bytes, at position 0 */
    PF_K_HEAD8, /* startswith, >= 8 bytes: a hash of its first 8, at position 0 */
    PF_K_TAIL4, /* endswith, 4-7 bytes: its last 4 bytes, at the end */
    PF_K_TAIL8, /* endswith, >= 8 bytes: a hash of its last 8, at the end */
};

/* pf_table.kinds bits beyond 1 << PF_K_*: short literals */
#define PF_SHORTS   0x40u /* contains, 1-3 bytes */
#define PF_ANCHORED 0x80u /* startswith / endswith, 0-3 bytes; contains "" */

static uint64_t key_make(unsigned kind, uint32_t field, uint32_t text)
{
    return (uint64_t)kind << 61 | (uint64_t)(field + 1) << 32 | text;
}

static uint32_t text4(const char *s)
{
    return ig_le32((const uint8_t *)s);
}

static uint32_t text8(const char *s)
{
    return ig_hash_bytes(s, 8);
}

/* The key of literal `s` (op `op`) of `field`; 0 when it is too short for
 * the index (a short literal: pf_table.one / two / anch). */
static uint64_t lit_key(uint32_t field, const char *s, uint32_t len, uint8_t op)
{
    switch (op) {
    case EM_EQ: return key_make(PF_K_EQ, field, ig_hash_bytes(s, len));
    case EM_STARTS:
        return len >= 8   ? key_make(PF_K_HEAD8, field, text8(s))
               : len >= 4 ? key_make(PF_K_HEAD4, field, text4(s))
                          : 0;
    case EM_ENDS:
        return len >= 8   ? key_make(PF_K_TAIL8, field, text8(s + len - 8))
               : len >= 4 ? key_make(PF_K_TAIL4, field, text4(s + len - 4))
                          : 0;
    default: return len >= 4 ? key_make(PF_K_SCAN, field, text4(s)) : 0;
    }
}

static unsigned key_kind(uint64_t key)
{
    return (unsigned)(key >> 61);
}

/* Hash of a key; its bits 32 and up pick the slot, its top bits the bloom
 * word (bloom_word). */
static uint64_t key_hash(uint64_t k)
{
    return k * 0x9E3779B97F4A7C15ull;
}

static uint32_t slot_of(uint64_t hash, uint32_t mask)
{
    return (uint32_t)(hash >> 32) & mask;
}

/* The bloom bitmap is blocked: a key sets two bits of one 64-bit word,
 * the word picked by the hash's top bits, the bits by bits 20..31 (which
 * the slot's bits, 32 and up, leave alone). */
static uint32_t bloom_word(uint64_t hash)
{
    return (uint32_t)(hash >> (64 - (PF_BLOOM_LOG2 - 6)));
}

static uint64_t bloom_bits(uint64_t hash)
{
    return 1ull << (hash >> 20 & 63) | 1ull << (hash >> 26 & 63);
}

static bool prefilterable(const em_item *it, const em_pat *p)
{
    (void)it;
    if (p->cased)
        return false;
    return p->op == EM_EQ || p->op == EM_CONTAINS || p->op == EM_STARTS || p->op == EM_ENDS;
}

static uint64_t lit_hash(uint32_t field, const char *s, uint32_t len, uint8_t op)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)field << 8) ^ op;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

/* The longest run of plain characters (no `*`, `?` or `\`) of a
 * case-insensitive field wildcard pattern: every value it matches contains
 * it.  Returns its length (0: none of 4 bytes or more). */
static uint32_t glob_piece(const em_item *it, const em_pat *p, const char **piece)
{
    if (p->op != EM_GLOB || p->cased || it->field == EV_NO_ID)
        return 0;
    uint32_t best = 0, run = 0;
    for (uint32_t i = 0; i <= p->len; i++) {
        char c = i < p->len ? p->s[i] : '*';
        if (c == '*' || c == '?' || c == '\\') {
            if (run > best) {
                best = run;
                *piece = p->s + i - run;
            }
            run = 0;
        } else {
            run++;
        }
    }
    return best >= 4 ? best : 0;
}

/* A case-sensitive literal (`cased`, or produced by base64/base64offset)
 * of a named field: its lower case, found in the lower-cased value, is
 * necessary (em_pat.req). */
static bool cased_literal(const em_item *it, const em_pat *p)
{
    return p->cased && it->field != EV_NO_ID && p->len >= 4 &&
           (p->op == EM_EQ || p->op == EM_CONTAINS || p->op == EM_STARTS || p->op == EM_ENDS);
}

static char *lower_dup(ig_arena *a, const char *s, uint32_t len)
{
    char *d = ig_arena_alloc(a, len ? len : 1);
    for (uint32_t i = 0; d != NULL && i < len; i++)
        d[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
    return d;
}

typedef struct ent {
    uint64_t key; /* 0 for a short pattern */
    uint64_t sub; /* order within a key: 0 below 8 bytes, else 1 << 32 | w1 */
    uint32_t field, pid;
} ent;

static int cmp_ent(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* ---- triggers ------------------------------------------------------------
 * A set of literals at least one of which must hold for a condition to be
 * true ("unconstrained" when there is none, e.g. under NOT). */
typedef struct pset {
    uint32_t *v;
    uint32_t n;
    bool any; /* unconstrained */
} pset;

static pset unconstrained(void)
{
    pset p = {NULL, 0, true};
    return p;
}

static void pset_free(pset *p)
{
    ig_free(p->v);
    p->v = NULL;
}

static pset pset_union(pset a, pset b)
{
    if (a.any || b.any) {
        pset_free(&a);
        pset_free(&b);
        return unconstrained();
    }
    uint32_t *v = ig_realloc(a.v, sizeof(*v) * (a.n + b.n + 1));
    if (v == NULL) {
        pset_free(&a);
        pset_free(&b);
        return unconstrained();
    }
    memcpy(v + a.n, b.v, sizeof(*v) * b.n);
    pset r = {v, a.n + b.n, false};
    pset_free(&b);
    return r;
}

/* The better of two alternatives that are both necessary (AND). */
static pset pset_pick(pset a, pset b)
{
    if (a.any)
        return b;
    if (b.any || a.n <= b.n) {
        pset_free(&b);
        return a;
    }
    pset_free(&a);
    return b;
}

static pset req_item(const em_item *it)
{
    if (it->npats == 0)
        return unconstrained();
    for (uint32_t k = 0; k < it->npats; k++)
        if ((it->pats[k].pid == UINT32_MAX && it->pats[k].req == UINT32_MAX) || it->pats[k].neg)
            return unconstrained();
    pset p = {ig_malloc(sizeof(uint32_t) * it->npats), it->npats, false};
    if (p.v == NULL)
        return unconstrained();
    for (uint32_t k = 0; k < it->npats; k++) /* a literal it needs when not one itself */
        p.v[k] = it->pats[k].pid != UINT32_MAX ? it->pats[k].pid : it->pats[k].req;
    return p;
}

static pset req_search(const em_search *s)
{
    pset acc = {NULL, 0, false};
    if (s->nmaps == 0)
        return unconstrained();
    for (uint32_t m = 0; m < s->nmaps; m++) {
        pset best = unconstrained();
        for (uint32_t i = 0; i < s->maps[m].nitems; i++)
            best = pset_pick(best, req_item(&s->maps[m].items[i]));
        acc = pset_union(acc, best);
        if (acc.any)
            return acc;
    }
    return acc;
}

static pset req_cond(const em_rule *r, const em_cond *c)
{
    switch (c->kind) {
    case EM_C_SEARCH: return req_search(&r->searches[c->search]);
    case EM_C_AND: return pset_pick(req_cond(r, c->a), req_cond(r, c->b));
    case EM_C_OR: return pset_union(req_cond(r, c->a), req_cond(r, c->b));
    case EM_C_ANY: {
        pset acc = {NULL, 0, false};
        for (uint32_t i = 0; i < c->nset && !acc.any; i++)
            acc = pset_union(acc, req_search(&r->searches[c->set[i]]));
        return acc;
    }
    case EM_C_ALL: {
        pset best = unconstrained();
        for (uint32_t i = 0; i < c->nset; i++)
            best = pset_pick(best, req_search(&r->searches[c->set[i]]));
        return best;
    }
    default: return unconstrained();
    }
}

static bool pf_triggers(ig_rules *rs)
{
    pf_table *t = &rs->pf;
    pset *req = ig_calloc(rs->n ? rs->n : 1, sizeof(*req));
    t->tfirst = ig_calloc((size_t)t->npats + 1, sizeof(*t->tfirst));
    if (req == NULL || t->tfirst == NULL) {
        ig_free(req);
        return false;
    }
    for (uint32_t r = 0; r < rs->n; r++) {
        em_rule *er = &rs->rules[r];
        pset acc = {NULL, 0, false};
        for (uint32_t i = 0; i < er->nconds && !acc.any; i++)
            acc = pset_union(acc, req_cond(er, er->conds[i]));
        if (er->nconds == 0)
            acc = unconstrained();
        req[r] = acc;
        er->triggered = !acc.any;
        for (uint32_t k = 0; !acc.any && k < acc.n; k++)
            t->tfirst[acc.v[k] + 1]++;
    }
    for (uint32_t p = 0; p < t->npats; p++)
        t->tfirst[p + 1] += t->tfirst[p];
    uint32_t total = t->tfirst[t->npats];
    t->trig = ig_malloc(sizeof(*t->trig) * (total ? total : 1));
    uint32_t *fill = ig_malloc(sizeof(*fill) * ((size_t)t->npats + 1));
    bool ok = t->trig != NULL && fill != NULL;
    if (ok) {
        memcpy(fill, t->tfirst, sizeof(*fill) * ((size_t)t->npats + 1));
        for (uint32_t r = 0; r < rs->n; r++)
            for (uint32_t k = 0; !req[r].any && k < req[r].n; k++)
                t->trig[fill[req[r].v[k]]++] = r;
    }
    for (uint32_t r = 0; r < rs->n; r++)
        pset_free(&req[r]);
    ig_free(req);
    ig_free(fill);
    return ok;
}

/* The prefilter index of literal `s` (op `op`) on field `f`, added if new:
 * the same literal in many rules is looked for once. */
static uint32_t lit_add(pf_table *t, ent *ents, uint32_t *dedup, uint32_t dcap, uint32_t f,
                        const char *s, uint32_t len, uint8_t op)
{
    uint64_t h = lit_hash(f, s, len, op);
    uint32_t slot = (uint32_t)h & (dcap - 1);
    for (;; slot = (slot + 1) & (dcap - 1)) {
        uint32_t d = dedup[slot];
        if (d == 0)
            break;
        const pf_pat *q = &t->pats[d - 1];
        if (ents[d - 1].field == f && q->op == op && q->len == len && memcmp(q->s, s, len) == 0)
            return d - 1;
    }
    uint32_t pid = t->npats++;
    dedup[slot] = pid + 1;
    t->pats[pid] = (pf_pat){s, len, len >= 8 ? ig_le32((const uint8_t *)s + 4) : 0, op};
    ents[pid] = (ent){lit_key(f, s, len, op), len >= 8 ? 1ull << 32 | t->pats[pid].w1 : 0, f, pid};
    return pid;
}

/* Short contains literals (1-3 bytes, too short for a key) */
static bool is_short(const ent *e, const pf_pat *p)
{
    return e->key == 0 && p->op == EM_CONTAINS && p->len > 0;
}

static uint16_t pair_of(const char *s)
{
    return ig_le16((const uint8_t *)s);
}

/* Per field: the kinds of keys it has (PF_K_* bits, PF_SHORTS,
 * PF_ANCHORED), its longest equals literal, its short contains literals —
 * one byte: one[f][c] = pid + 1; two or three bytes: pids ordered by their
 * first two bytes (two[f], those bytes in twop[f], a bitmap of them in
 * twomap[f]) — and its other literals too short for a key (startswith /
 * endswith below 4 bytes, contains ""): anch[f]. */
static bool index_shorts(pf_table *t, const ent *ents)
{
    uint32_t nf = t->nfields;
    t->kinds = ig_calloc(nf, sizeof(*t->kinds));
    t->eqmax = ig_calloc(nf, sizeof(*t->eqmax));
    t->one = ig_calloc(nf, sizeof(*t->one));
    t->two = ig_calloc(nf, sizeof(*t->two));
    t->twop = ig_calloc(nf, sizeof(*t->twop));
    t->twomap = ig_calloc(nf, sizeof(*t->twomap));
    t->ntwo = ig_calloc(nf, sizeof(*t->ntwo));
    t->anch = ig_calloc(nf, sizeof(*t->anch));
    t->nanch = ig_calloc(nf, sizeof(*t->nanch));
    bool ok = t->kinds != NULL && t->eqmax != NULL && t->one != NULL && t->two != NULL &&
              t->twop != NULL && t->twomap != NULL && t->ntwo != NULL && t->anch != NULL &&
              t->nanch != NULL;
    for (uint32_t i = 0; ok && i < t->npats; i++) {
        const pf_pat *p = &t->pats[i];
        uint32_t f = ents[i].field;
        if (ents[i].key != 0) {
            t->kinds[f] |= (uint8_t)(1u << key_kind(ents[i].key));
            if (p->op == EM_EQ && p->len > t->eqmax[f])
                t->eqmax[f] = p->len;
        } else if (is_short(&ents[i], p)) {
            t->kinds[f] |= PF_SHORTS;
            if (p->len == 1 && t->one[f] == NULL)
                ok = (t->one[f] = ig_calloc(256, sizeof(**t->one))) != NULL;
            t->ntwo[f] += p->len > 1;
        } else {
            t->nanch[f]++;
            t->kinds[f] |= PF_ANCHORED;
        }
    }
    for (uint32_t f = 0; ok && f < nf; f++) {
        if (t->nanch[f] > 0) {
            ok = (t->anch[f] = ig_malloc(sizeof(**t->anch) * t->nanch[f])) != NULL;
            t->nanch[f] = 0;
        }
        if (ok && t->ntwo[f] > 0) {
            ok = (t->two[f] = ig_malloc(sizeof(**t->two) * t->ntwo[f])) != NULL &&
                 (t->twop[f] = ig_malloc(sizeof(**t->twop) * t->ntwo[f])) != NULL &&
                 (t->twomap[f] = ig_calloc(65536 / 64, sizeof(uint64_t))) != NULL;
            t->ntwo[f] = 0;
        }
    }
    for (uint32_t i = 0; ok && i < t->npats; i++) {
        const pf_pat *p = &t->pats[i];
        uint32_t f = ents[i].field;
        if (!is_short(&ents[i], p)) {
            if (ents[i].key == 0)
                t->anch[f][t->nanch[f]++] = i;
        } else if (p->len == 1) {
            t->one[f][(uint8_t)p->s[0]] = i + 1; /* one literal per byte: they are unique */
        } else {
            uint16_t pr = pair_of(p->s);
            uint32_t k = t->ntwo[f]++;
            for (; k > 0 && t->twop[f][k - 1] > pr; k--) { /* by pair, stable */
                t->twop[f][k] = t->twop[f][k - 1];
                t->two[f][k] = t->two[f][k - 1];
            }
            t->twop[f][k] = pr;
            t->two[f][k] = i;
            t->twomap[f][pr >> 6] |= 1ull << (pr & 63);
        }
    }
    return ok;
}

/* Fields with few contains literals (the keyword field, most named ones)
 * get a bitmap of their literals' first two bytes: a value's positions are
 * tested against it before any hashing. */
static bool index_pairs(pf_table *t)
{
    uint32_t *n = ig_calloc(t->nfields, sizeof(*n));
    t->pairs = ig_calloc(t->nfields, sizeof(*t->pairs));
    if (n == NULL || t->pairs == NULL) {
        ig_free(n);
        return false;
    }
    for (uint32_t h = 0; h < t->nslots; h++)
        if (t->slots[h].key != 0 && key_kind(t->slots[h].key) == PF_K_SCAN)
            n[(uint32_t)(t->slots[h].key >> 32) - 1]++;
    bool ok = true;
    for (uint32_t f = 0; ok && f < t->nfields; f++)
        if (n[f] > 0 && n[f] <= PF_PAIRS_MAX)
            ok = (t->pairs[f] = ig_calloc(65536 / 64, sizeof(uint64_t))) != NULL;
    for (uint32_t h = 0; ok && h < t->nslots; h++) {
        uint64_t key = t->slots[h].key;
        if (key == 0 || key_kind(key) != PF_K_SCAN || t->pairs[(uint32_t)(key >> 32) - 1] == NULL)
            continue;
        uint32_t pair = (uint32_t)key & 0xFFFF;
        t->pairs[(uint32_t)(key >> 32) - 1][pair >> 6] |= 1ull << (pair & 63);
    }
    ig_free(n);
    return ok;
}

/* The literals with a key, grouped by key into the open-addressing table
 * (sorts `ents`). */
static bool index_keys(pf_table *t, ent *ents)
{
    qsort(ents, t->npats, sizeof(*ents), cmp_ent);
    uint32_t nkeys = 0;
    for (uint32_t i = 0; i < t->npats; i++)
        if (ents[i].key != 0 && (i == 0 || ents[i].key != ents[i - 1].key))
            nkeys++;
    t->nslots = 64;
    while (t->nslots < nkeys * 2)
        t->nslots *= 2;
    t->slots = ig_calloc(t->nslots, sizeof(*t->slots));
    t->list = ig_malloc(sizeof(*t->list) * (t->npats ? t->npats : 1));
    t->lw1 = ig_malloc(sizeof(*t->lw1) * (t->npats ? t->npats : 1));
    t->bloom = ig_calloc((size_t)1 << (PF_BLOOM_LOG2 - 6), sizeof(*t->bloom));
    if (t->slots == NULL || t->list == NULL || t->lw1 == NULL || t->bloom == NULL)
        return false;
    uint32_t at = 0;
    for (uint32_t i = 0; i < t->npats;) {
        if (ents[i].key == 0) {
            i++;
            continue;
        }
        uint32_t j = i, nshort = 0;
        for (; j < t->npats && ents[j].key == ents[i].key; j++) {
            t->list[at + (j - i)] = ents[j].pid;
            t->lw1[at + (j - i)] = (uint32_t)ents[j].sub;
            nshort += ents[j].sub == 0;
        }
        uint64_t kh = key_hash(ents[i].key);
        uint32_t h = slot_of(kh, t->nslots - 1);
        while (t->slots[h].key != 0)
            h = (h + 1) & (t->nslots - 1);
        t->slots[h] = (pf_slot){ents[i].key, at, j - i, nshort};
        t->bloom[bloom_word(kh)] |= bloom_bits(kh);
        at += j - i;
        i = j;
    }
    return index_pairs(t);
}

bool pf_build(ig_rules *rs)
{
    pf_table *t = &rs->pf;
    memset(t, 0, sizeof(*t));
    /* count */
    uint32_t n = 0;
    for (uint32_t r = 0; r < rs->n; r++)
        for (uint32_t s = 0; s < rs->rules[r].nsearches; s++)
            for (uint32_t m = 0; m < rs->rules[r].searches[s].nmaps; m++) {
                const em_map *map = &rs->rules[r].searches[s].maps[m];
                for (uint32_t i = 0; i < map->nitems; i++)
                    for (uint32_t k = 0; k < map->items[i].npats; k++) {
                        const char *piece;
                        n += prefilterable(&map->items[i], &map->items[i].pats[k]);
                        n += glob_piece(&map->items[i], &map->items[i].pats[k], &piece) > 0;
                        n += cased_literal(&map->items[i], &map->items[i].pats[k]);
                    }
            }
    /* one more "field" for keywords (items without a field): every field */
    t->nfields = ev_names_count(&rs->names) + 1;
    t->pats = ig_malloc(sizeof(*t->pats) * (n ? n : 1));
    ent *ents = ig_malloc(sizeof(*ents) * (n ? n : 1));
    if (t->pats == NULL || ents == NULL || t->nfields >= (1u << 28)) {
        ig_free(ents);
        return false;
    }
    uint32_t dcap = 64;
    while (dcap < n * 2)
        dcap *= 2;
    uint32_t *dedup = ig_calloc(dcap, sizeof(*dedup)); /* pid + 1 */
    if (dedup == NULL) {
        ig_free(ents);
        return false;
    }
    /* assign pattern ids */
    for (uint32_t r = 0; r < rs->n; r++)
        for (uint32_t s = 0; s < rs->rules[r].nsearches; s++)
            for (uint32_t m = 0; m < rs->rules[r].searches[s].nmaps; m++) {
                const em_map *map = &rs->rules[r].searches[s].maps[m];
                for (uint32_t i = 0; i < map->nitems; i++) {
                    const em_item *it = &map->items[i];
                    for (uint32_t k = 0; k < it->npats; k++) {
                        em_pat *p = (em_pat *)&it->pats[k]; /* ours until finished */
                        uint32_t f = it->field == EV_NO_ID ? t->nfields - 1 : it->field;
                        const char *piece;
                        uint32_t plen = glob_piece(it, p, &piece);
                        p->pid = UINT32_MAX;
                        p->req = plen ? lit_add(t, ents, dedup, dcap, f, piece, plen, EM_CONTAINS)
                                      : UINT32_MAX;
                        if (prefilterable(it, p))
                            p->pid = lit_add(t, ents, dedup, dcap, f, p->s, p->len, p->op);
                        char *low =
                            cased_literal(it, p) ? lower_dup(&rs->arena, p->s, p->len) : NULL;
                        if (low != NULL) /* the lower-cased value holds its lower case */
                            p->req = lit_add(t, ents, dedup, dcap, f, low, p->len, p->op);
                    }
                }
            }
    ig_free(dedup);
    bool ok = index_shorts(t, ents) && index_keys(t, ents);
    ig_free(ents);
    return ok && pf_triggers(rs);
}

void pf_free(pf_table *t)
{
    for (uint32_t f = 0; f < t->nfields; f++) {
        if (t->one != NULL)
            ig_free(t->one[f]);
        if (t->two != NULL)
            ig_free(t->two[f]);
        if (t->twop != NULL)
            ig_free(t->twop[f]);
        if (t->twomap != NULL)
            ig_free(t->twomap[f]);
        if (t->anch != NULL)
            ig_free(t->anch[f]);
    }
    for (uint32_t f = 0; t->pairs != NULL && f < t->nfields; f++)
        ig_free(t->pairs[f]);
    ig_free(t->pairs);
    ig_free(t->one);
    ig_free(t->two);
    ig_free(t->twop);
    ig_free(t->twomap);
    ig_free(t->ntwo);
    ig_free(t->anch);
    ig_free(t->nanch);
    ig_free(t->kinds);
    ig_free(t->eqmax);
    ig_free(t->slots);
    ig_free(t->bloom);
    ig_free(t->list);
    ig_free(t->lw1);
    ig_free(t->pats);
    ig_free(t->tfirst);
    ig_free(t->trig);
    memset(t, 0, sizeof(*t));
}

/* Does pattern `p` hold at position `i` of `v`, its first `known` bytes
 * (0 or 4) being known to agree? */
static inline bool holds(const pf_pat *p, const char *v, size_t len, size_t i, uint32_t known)
{
    if (i + p->len > len)
        return false;
    switch (p->op) {
    case EM_EQ:
        if (i != 0 || p->len != len)
            return false;
        break;
    case EM_STARTS:
        if (i != 0)
            return false;
        break;
    case EM_ENDS:
        if (i + p->len != len)
            return false;
        break;
    default: break;
    }
    if (p->len >= 8 && ig_le32((const uint8_t *)v + i + 4) != p->w1)
        return false;
    return memcmp(v + i + known, p->s + known, p->len - known) == 0;
}

#define MARK(pid)                                                                                  \
    do {                                                                                           \
        seen[pid] = epoch;                                                                         \
        if (hits != NULL)                                                                          \
            hits[(*nhits)++] = (pid);                                                              \
    } while (0)

/* The slot of `key`, whose hash is `kh`, known to be in the bloom bitmap
 * (NULL: no literal has it after all). */
static inline const pf_slot *probe(const pf_table *t, uint64_t key, uint64_t kh)
{
    uint32_t mask = t->nslots - 1;
    for (uint32_t h = slot_of(kh, mask);; h = (h + 1) & mask) {
        const pf_slot *s = &t->slots[h];
        if (s->key == key)
            return s;
        if (s->key == 0)
            return NULL;
    }
}

static inline bool in_bloom(const pf_table *t, uint64_t kh)
{
    uint64_t bits = bloom_bits(kh);
    return (t->bloom[bloom_word(kh)] & bits) == bits;
}

#define PF_AT_END SIZE_MAX

/* Marks the literals of `key` (hash `kh`, in the bloom bitmap) that hold at
 * position `i` of `v` (PF_AT_END: ending where `v` ends), `known` bytes of
 * them agreeing by the key. */
static void try_key(const pf_table *t, uint64_t key, uint64_t kh, const char *v, size_t len,
                    size_t i, uint32_t known, uint32_t *seen, uint32_t epoch, uint32_t *hits,
                    uint32_t *nhits)
{
    const pf_slot *s = probe(t, key, kh);
    for (uint32_t k = 0; s != NULL && k < s->n; k++) {
        uint32_t pid = t->list[s->first + k];
        const pf_pat *p = &t->pats[pid];
        if (seen[pid] == epoch || p->len > len)
            continue;
        if (holds(p, v, len, i == PF_AT_END ? len - p->len : i, known))
            MARK(pid);
    }
}

/* Marks the contains literals of `key` (hash `kh`, in the bloom bitmap)
 * that hold at position `i` of `v`: those below 8 bytes one by one, the
 * others (ordered by their bytes 4..7) from a binary search for the
 * value's. */
static void try_scan(const pf_table *t, uint64_t key, uint64_t kh, const char *v, size_t len,
                     size_t i, uint32_t *seen, uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    const pf_slot *s = probe(t, key, kh);
    if (s == NULL)
        return;
    const uint32_t *list = t->list + s->first;
    for (uint32_t k = 0; k < s->nshort; k++)
        if (seen[list[k]] != epoch && holds(&t->pats[list[k]], v, len, i, 4))
            MARK(list[k]);
    if (s->n == s->nshort || i + 8 > len)
        return;
    const uint32_t *w1 = t->lw1 + s->first;
    uint32_t w = ig_le32((const uint8_t *)v + i + 4), lo = s->nshort, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (w1[mid] < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t k = lo; k < s->n && w1[k] == w; k++)
        if (seen[list[k]] != epoch && holds(&t->pats[list[k]], v, len, i, 4))
            MARK(list[k]);
}

/* Marks the short contains literals of `field` (1-3 bytes) found in `v`:
 * a table lookup per byte, a bitmap test per pair of bytes, a binary
 * search on the pairs that some literal starts with. */
static void scan_shorts(const pf_table *t, uint32_t field, const char *v, size_t len,
                        uint32_t *seen, uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    const uint32_t *one = t->one[field];
    for (size_t i = 0; one != NULL && i < len; i++) {
        uint32_t pid = one[(uint8_t)v[i]];
        if (pid != 0 && seen[pid - 1] != epoch)
            MARK(pid - 1);
    }
    const uint64_t *map = t->twomap[field];
    if (map == NULL)
        return;
    const uint32_t *two = t->two[field];
    const uint16_t *twop = t->twop[field];
    uint32_t n = t->ntwo[field];
    for (size_t i = 0; i + 2 <= len; i++) {
        uint16_t pr = pair_of(v + i);
        if ((map[pr >> 6] >> (pr & 63) & 1) == 0)
            continue;
        uint32_t lo = 0, hi = n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (twop[mid] < pr)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (uint32_t k = lo; k < n && twop[k] == pr; k++) {
            const pf_pat *p = &t->pats[two[k]];
            if (seen[two[k]] != epoch && (p->len == 2 || (i + 3 <= len && v[i + 2] == p->s[2])))
                MARK(two[k]);
        }
    }
}

/* try_key at one anchored place of the value. */
static void try_once(const pf_table *t, uint64_t key, const char *v, size_t len, size_t i,
                     uint32_t known, uint32_t *seen, uint32_t epoch, uint32_t *hits,
                     uint32_t *nhits)
{
    uint64_t kh = key_hash(key);
    if (in_bloom(t, kh))
        try_key(t, key, kh, v, len, i, known, seen, epoch, hits, nhits);
}

void pf_scan(const pf_table *t, uint32_t field, const char *v, size_t len, uint32_t *seen,
             uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    if (field >= t->nfields || t->kinds[field] == 0)
        return;
    unsigned kinds = t->kinds[field];
    if (kinds & PF_ANCHORED)
        for (uint32_t k = 0; k < t->nanch[field]; k++) {
            uint32_t pid = t->anch[field][k];
            const pf_pat *p = &t->pats[pid];
            if (seen[pid] != epoch && p->len <= len &&
                holds(p, v, len, p->op == EM_ENDS ? len - p->len : 0, 0))
                MARK(pid);
        }
    if (kinds & PF_SHORTS)
        scan_shorts(t, field, v, len, seen, epoch, hits, nhits);
    if ((kinds & 1u << PF_K_EQ) && len <= t->eqmax[field])
        try_once(t, key_make(PF_K_EQ, field, ig_hash_bytes(v, len)), v, len, 0, 0, seen, epoch,
                 hits, nhits);
    if (len < 4)
        return;
    if (kinds & 1u << PF_K_HEAD4)
        try_once(t, key_make(PF_K_HEAD4, field, text4(v)), v, len, 0, 4, seen, epoch, hits, nhits);
    if (kinds & 1u << PF_K_TAIL4)
        try_once(t, key_make(PF_K_TAIL4, field, text4(v + len - 4)), v, len, PF_AT_END, 0, seen,
                 epoch, hits, nhits);
    if (len >= 8 && (kinds & 1u << PF_K_HEAD8))
        try_once(t, key_make(PF_K_HEAD8, field, text8(v)), v, len, 0, 0, seen, epoch, hits, nhits);
    if (len >= 8 && (kinds & 1u << PF_K_TAIL8))
        try_once(t, key_make(PF_K_TAIL8, field, text8(v + len - 8)), v, len, PF_AT_END, 0, seen,
                 epoch, hits, nhits);
    if ((kinds & 1u << PF_K_SCAN) == 0)
        return;
    uint64_t base = key_make(PF_K_SCAN, field, 0);
    const uint64_t *pairs = t->pairs[field];
    if (pairs != NULL) {
        for (size_t i = 0; i + 4 <= len; i++) {
            uint32_t pair = ig_le16((const uint8_t *)v + i);
            if ((pairs[pair >> 6] >> (pair & 63) & 1) == 0)
                continue;
            uint64_t key = base | text4(v + i), kh = key_hash(key);
            if (in_bloom(t, kh))
                try_scan(t, key, kh, v, len, i, seen, epoch, hits, nhits);
        }
        return;
    }
    for (size_t i = 0; i + 4 <= len; i++) {
        uint64_t key = base | text4(v + i), kh = key_hash(key);
        if (in_bloom(t, kh))
            try_scan(t, key, kh, v, len, i, seen, epoch, hits, nhits);
    }
}
