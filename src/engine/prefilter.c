#define _GNU_SOURCE /* memmem */
/* The literal prefilter.  Most Sigma patterns are literals compared
 * case-insensitively (contains, startswith, endswith, equals).  Instead of
 * one memmem per pattern per event, every literal of every rule is indexed
 * by (field, its first four bytes); a field's text is scanned once, looking
 * up each of its 4-byte windows, and each hit is verified.  Literals shorter
 * than four bytes are checked one by one.  Results are per event bits
 * (match.c: pf_field_scan). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rd.h"
#include "engine/engine.h"

static uint64_t key_of(uint32_t field, const char *s)
{
    return ((uint64_t)(field + 1) << 32) | ig_le32((const uint8_t *)s);
}

/* Hash of a key; its bits 32 and up pick the slot, its top PF_BLOOM_LOG2
 * bits the bloom bit (disjoint from the slot's for tables below 2^14 slots). */
static uint64_t key_hash(uint64_t k)
{
    return k * 0x9E3779B97F4A7C15ull;
}

static uint32_t slot_of(uint64_t hash, uint32_t mask)
{
    return (uint32_t)(hash >> 32) & mask;
}

static uint32_t bloom_of(uint64_t hash)
{
    return (uint32_t)(hash >> (64 - PF_BLOOM_LOG2));
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

typedef struct ent {
    uint64_t key; /* 0 for a short pattern */
    uint32_t field, pid;
} ent;

static int cmp_ent(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
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
        if (it->pats[k].pid == UINT32_MAX || it->pats[k].neg)
            return unconstrained();
    pset p = {ig_malloc(sizeof(uint32_t) * it->npats), it->npats, false};
    if (p.v == NULL)
        return unconstrained();
    for (uint32_t k = 0; k < it->npats; k++)
        p.v[k] = it->pats[k].pid;
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
    ents[pid] = (ent){len >= 4 ? key_of(f, s) : 0, f, pid};
    return pid;
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
                    }
            }
    /* one more "field" for keywords (items without a field): every field */
    t->nfields = ev_names_count(&rs->names) + 1;
    t->pats = ig_malloc(sizeof(*t->pats) * (n ? n : 1));
    ent *ents = ig_malloc(sizeof(*ents) * (n ? n : 1));
    t->shorts = ig_calloc(t->nfields ? t->nfields : 1, sizeof(*t->shorts));
    t->nshorts = ig_calloc(t->nfields ? t->nfields : 1, sizeof(*t->nshorts));
    if (t->pats == NULL || ents == NULL || t->shorts == NULL || t->nshorts == NULL) {
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
                    }
                }
            }
    ig_free(dedup);
    /* short patterns per field */
    for (uint32_t i = 0; i < t->npats; i++)
        if (ents[i].key == 0)
            t->nshorts[ents[i].field]++;
    for (uint32_t f = 0; f < t->nfields; f++) {
        if (t->nshorts[f] == 0)
            continue;
        t->shorts[f] = ig_malloc(sizeof(**t->shorts) * t->nshorts[f]);
        if (t->shorts[f] == NULL) {
            ig_free(ents);
            return false;
        }
        t->nshorts[f] = 0;
    }
    for (uint32_t i = 0; i < t->npats; i++)
        if (ents[i].key == 0)
            t->shorts[ents[i].field][t->nshorts[ents[i].field]++] = ents[i].pid;
    /* group each field's short patterns by first byte (empty ones first,
     * under byte 0 of a separate count) */
    t->sfirst = ig_calloc(t->nfields, sizeof(*t->sfirst));
    if (t->sfirst == NULL) {
        ig_free(ents);
        return false;
    }
    for (uint32_t f = 0; f < t->nfields; f++) {
        uint32_t ns = t->nshorts[f];
        if (ns == 0)
            continue;
        uint32_t *first = ig_calloc(258, sizeof(*first));
        uint32_t *sorted = ig_malloc(sizeof(*sorted) * ns);
        if (first == NULL || sorted == NULL) {
            ig_free(first);
            ig_free(sorted);
            ig_free(ents);
            return false;
        }
        /* bucket 0: empty patterns; bucket c + 1: first byte c */
        for (uint32_t k = 0; k < ns; k++) {
            const pf_pat *p = &t->pats[t->shorts[f][k]];
            first[(p->len ? (uint8_t)p->s[0] + 1u : 0u) + 1]++;
        }
        for (uint32_t c = 1; c < 258; c++)
            first[c] += first[c - 1];
        uint32_t fill[257];
        memcpy(fill, first, sizeof(fill));
        for (uint32_t k = 0; k < ns; k++) {
            const pf_pat *p = &t->pats[t->shorts[f][k]];
            sorted[fill[p->len ? (uint8_t)p->s[0] + 1u : 0u]++] = t->shorts[f][k];
        }
        ig_free(t->shorts[f]);
        t->shorts[f] = sorted;
        t->sfirst[f] = first;
    }
    /* long patterns grouped by key into the hash table */
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
    t->bloom = ig_calloc((size_t)1 << (PF_BLOOM_LOG2 - 6), sizeof(*t->bloom));
    if (t->slots == NULL || t->list == NULL || t->bloom == NULL) {
        ig_free(ents);
        return false;
    }
    uint32_t at = 0;
    for (uint32_t i = 0; i < t->npats;) {
        if (ents[i].key == 0) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < t->npats && ents[j].key == ents[i].key)
            t->list[at + (j - i)] = ents[j].pid, j++;
        uint64_t kh = key_hash(ents[i].key);
        uint32_t h = slot_of(kh, t->nslots - 1);
        while (t->slots[h].key != 0)
            h = (h + 1) & (t->nslots - 1);
        t->slots[h] = (pf_slot){ents[i].key, at, j - i};
        uint32_t b = bloom_of(kh);
        t->bloom[b >> 6] |= 1ull << (b & 63);
        at += j - i;
        i = j;
    }
    ig_free(ents);
    t->has = ig_calloc(t->nfields, sizeof(*t->has));
    if (t->has == NULL)
        return false;
    for (uint32_t r = 0; r < rs->n; r++)
        for (uint32_t s = 0; s < rs->rules[r].nsearches; s++)
            for (uint32_t m = 0; m < rs->rules[r].searches[s].nmaps; m++) {
                const em_map *map = &rs->rules[r].searches[s].maps[m];
                for (uint32_t i = 0; i < map->nitems; i++)
                    for (uint32_t k = 0; k < map->items[i].npats; k++)
                        if (map->items[i].pats[k].pid != UINT32_MAX)
                            t->has[map->items[i].field == EV_NO_ID ? t->nfields - 1
                                                                   : map->items[i].field] = true;
            }
    return pf_triggers(rs);
}

void pf_free(pf_table *t)
{
    if (t->shorts != NULL)
        for (uint32_t f = 0; f < t->nfields; f++)
            ig_free(t->shorts[f]);
    if (t->sfirst != NULL)
        for (uint32_t f = 0; f < t->nfields; f++)
            ig_free(t->sfirst[f]);
    ig_free(t->sfirst);
    ig_free(t->shorts);
    ig_free(t->nshorts);
    ig_free(t->slots);
    ig_free(t->bloom);
    ig_free(t->list);
    ig_free(t->pats);
    ig_free(t->has);
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

void pf_scan(const pf_table *t, uint32_t field, const char *v, size_t len, uint32_t *seen,
             uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    if (field < t->nfields && t->nshorts[field] > 0) {
        const uint32_t *first = t->sfirst[field], *list = t->shorts[field];
        for (uint32_t k = first[0]; k < first[1]; k++) /* empty literals */
            if (seen[list[k]] != epoch &&
                holds(&t->pats[list[k]], v, len, t->pats[list[k]].op == EM_ENDS ? len : 0, 0))
                MARK(list[k]);
        for (size_t i = 0; i < len; i++) {
            uint8_t c = (uint8_t)v[i];
            for (uint32_t k = first[c + 1u]; k < first[c + 2u]; k++)
                if (seen[list[k]] != epoch && holds(&t->pats[list[k]], v, len, i, 0))
                    MARK(list[k]);
        }
    }
    if (t->nslots == 0 || len < 4)
        return;
    uint32_t mask = t->nslots - 1;
    for (size_t i = 0; i + 4 <= len; i++) {
        uint64_t key = key_of(field, v + i);
        uint64_t kh = key_hash(key);
        uint32_t b = bloom_of(kh);
        if ((t->bloom[b >> 6] >> (b & 63) & 1) == 0)
            continue;
        for (uint32_t h = slot_of(kh, mask);; h = (h + 1) & mask) {
            const pf_slot *s = &t->slots[h];
            if (s->key == 0)
                break;
            if (s->key != key)
                continue;
            for (uint32_t k = 0; k < s->n; k++) {
                uint32_t pid = t->list[s->first + k];
                if (seen[pid] != epoch && holds(&t->pats[pid], v, len, i, 4))
                    MARK(pid);
            }
            break;
        }
    }
}
