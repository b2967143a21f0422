/* The literal prefilter.  Most Sigma patterns are literals compared
 * case-insensitively (contains, startswith, endswith, equals).  Instead of
 * one memmem per pattern per event, every literal of every rule is indexed
 * in one hash table by where it can hold in a field's value: a contains
 * literal by (field, its first four bytes), looked up at every position of
 * the value; an equals literal by a hash of it, looked up once for the whole
 * value; a startswith / endswith literal by its first / last four bytes (or
 * a hash of its first / last eight), looked up once at the start / end.
 * Each hit is verified.  Literals too short for a key are checked one by
 * one.  This file builds the index; prefilter_scan.c scans values with it
 * (per event bits, match.c: em_prefilter_event); triggers.c gives each rule
 * the literals one of which it needs. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/thread.h"
#include "engine/prefilter.h"

static bool prefilterable(const em_item *it, const em_pat *p)
{
    (void)it;
    if (p->cased)
        return false;
    return p->op == EM_EQ || p->op == EM_CONTAINS || p->op == EM_STARTS || p->op == EM_ENDS;
}

/* Hash of a literal for the table that finds it when it comes again. */
static uint32_t lit_hash(uint32_t field, const char *s, uint32_t len, uint8_t op)
{
    return ig_hash_bytes(s, len) ^ (uint32_t)((field * 8u + op) * 0x9E3779B1u);
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

/* A literal every match of a named field's regex contains (3 bytes or
 * more): necessary (em_pat.req).  Its length, 0: none. */
static uint32_t regex_piece(const em_item *it, const em_pat *p)
{
    return p->op == EM_RE && it->field != EV_NO_ID && p->len >= 3 ? p->len : 0;
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
    uint64_t sub; /* order within a key's class (pf_sub) */
    uint32_t field, pid;
    uint8_t cls; /* PF_LINEAR, PF_MID, PF_LONG */
} ent;

/* Entries in index order: by key, then class, sub-key and pattern id. */
static inline bool ent_less(const ent *x, const ent *y)
{
    if (x->key != y->key)
        return x->key < y->key;
    if (x->cls != y->cls)
        return x->cls < y->cls;
    if (x->sub != y->sub)
        return x->sub < y->sub;
    return x->pid < y->pid;
}

static int cmp_ent(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    return ent_less(x, y) ? -1 : ent_less(y, x);
}

/* Sorts v[0, n) by ent_less: a quicksort with the comparison inlined (the
 * index of every SigmaHQ rule sorts 26,000 entries), insertion sort below
 * 16 entries, qsort past 2 log2(n) levels (no quadratic case). */
static void sort_ents(ent *v, size_t n, unsigned depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            qsort(v, n, sizeof(*v), cmp_ent);
            return;
        }
        ent *a = &v[0], *b = &v[n / 2], *c = &v[n - 1], t;
        const ent *m = ent_less(a, b) ? (ent_less(b, c)   ? b
                                         : ent_less(a, c) ? c
                                                          : a)
                                      : (ent_less(a, c)   ? a
                                         : ent_less(b, c) ? c
                                                          : b);
        ent pivot = *m;
        size_t i = 0, j = n - 1;
        for (;;) { /* Hoare: v[0, i) <= pivot <= v(j, n) */
            while (ent_less(&v[i], &pivot))
                i++;
            while (ent_less(&pivot, &v[j]))
                j--;
            if (i >= j)
                break;
            t = v[i], v[i] = v[j], v[j] = t;
            i++, j--;
        }
        /* v[0, j] and v[j + 1, n): recurse into the smaller */
        size_t left = j + 1;
        if (left < n - left) {
            sort_ents(v, left, depth);
            v += left, n -= left;
        } else {
            sort_ents(v + left, n - left, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        ent x = v[i];
        size_t k = i;
        for (; k > 0 && ent_less(&x, &v[k - 1]); k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
}

/* The prefilter index of literal `s` (op `op`) on field `f`, added if new:
 * the same literal in many rules is looked for once. */
static uint32_t lit_add(pf_table *t, ent *ents, uint32_t *dedup, uint32_t dcap, uint32_t f,
                        const char *s, uint32_t len, uint8_t op)
{
    uint32_t h = lit_hash(f, s, len, op);
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
    uint64_t key = lit_key(f, s, len, op), sub = 0;
    uint8_t cls = (uint8_t)(key != 0 ? pf_sub(key_kind(key), s, len, &sub) : PF_LINEAR);
    ents[pid] = (ent){key, sub, f, pid, cls};
    return pid;
}

/* Short contains literals (1-3 bytes, too short for a key) */
static bool is_short(const ent *e, const pf_pat *p)
{
    return e->key == 0 && p->op == EM_CONTAINS && p->len > 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
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
    t->joinable = ig_calloc(nf, sizeof(*t->joinable));
    t->minlen = ig_malloc(sizeof(*t->minlen) * (nf ? nf : 1));
    bool *nul = ig_calloc(nf, sizeof(*nul));
    bool ok = t->kinds != NULL && t->eqmax != NULL && t->one != NULL && t->two != NULL &&
              t->twop != NULL && t->twomap != NULL && t->ntwo != NULL && t->anch != NULL &&
              t->nanch != NULL && t->joinable != NULL && t->minlen != NULL && nul != NULL;
    for (uint32_t f = 0; ok && f < nf; f++)
        t->minlen[f] = UINT32_MAX;
    for (uint32_t i = 0; ok && i < t->npats; i++) {
        const pf_pat *p = &t->pats[i];
        uint32_t f = ents[i].field;
        nul[f] |= p->len > 0 && memchr(p->s, 0, p->len) != NULL;
        if (p->len < t->minlen[f])
            t->minlen[f] = p->len;
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
            t->two[f][t->ntwo[f]++] = i;
            t->twomap[f][pr >> 6] |= 1ull << (pr & 63);
        }
    }
    /* each field's 2-3 byte literals by their first two bytes */
    for (uint32_t f = 0; ok && f < nf; f++) {
        if (t->ntwo[f] == 0)
            continue;
        uint64_t *o = ig_malloc(sizeof(*o) * t->ntwo[f]);
        if (!(ok = o != NULL))
            break;
        for (uint32_t k = 0; k < t->ntwo[f]; k++)
            o[k] = (uint64_t)pair_of(t->pats[t->two[f][k]].s) << 32 | t->two[f][k];
        qsort(o, t->ntwo[f], sizeof(*o), cmp_u64);
        for (uint32_t k = 0; k < t->ntwo[f]; k++) {
            t->twop[f][k] = (uint32_t)(o[k] >> 32);
            t->two[f][k] = (uint32_t)o[k];
        }
        ig_free(o);
    }
    /* keyword fields whose values can be scanned joined (match.c) */
    for (uint32_t f = t->nnamed; ok && f < nf; f++)
        t->joinable[f] = (t->kinds[f] & ~(1u << PF_K_SCAN | PF_SHORTS)) == 0 && !nul[f];
    ig_free(nul);
    return ok;
}

/* Fields with few contains keys (keyword fields, most named fields) get a
 * pf_fp: the first three bytes of each key, in eight buckets, as bitmaps
 * by low and high nibble (prefilter_scan.c tests 16 positions at a time
 * with them).  Keys are bucketed in order, so that keys alike share a
 * bucket and its nibble sets stay small.  Only where the processor has
 * SSSE3. */
static bool index_fingerprints(pf_table *t)
{
    t->fp = ig_calloc(t->nfields, sizeof(*t->fp));
    if (t->fp == NULL)
        return false;
    if (!pf_simd_usable())
        return true;
    /* the contains keys as field << 32 | their first four bytes in reading
     * order, sorted: by field, then alike keys together */
    uint64_t *k = ig_malloc(sizeof(*k) * t->nslots);
    if (k == NULL)
        return false;
    uint32_t nk = 0;
    for (uint32_t h = 0; h < t->nslots; h++) {
        uint64_t key = t->slots[h].key;
        if (key != 0 && key_kind(key) == PF_K_SCAN)
            k[nk++] = ((key >> 32) - 1) << 32 | __builtin_bswap32((uint32_t)key);
    }
    qsort(k, nk, sizeof(*k), cmp_u64);
    bool ok = true;
    for (uint32_t i = 0, j; ok && i < nk; i = j) {
        uint32_t f = (uint32_t)(k[i] >> 32);
        for (j = i; j < nk && (uint32_t)(k[j] >> 32) == f; j++)
            ;
        if (j - i > PF_FP_MAX)
            continue;
        pf_fp *fp = ig_calloc(1, sizeof(*fp));
        if (!(ok = fp != NULL))
            break;
        for (uint32_t x = i; x < j; x++) {
            uint8_t bit = (uint8_t)(1u << ((x - i) * 8 / (j - i)));
            for (int b = 0; b < 3; b++) {
                uint8_t c = (uint8_t)(k[x] >> (24 - 8 * b)); /* byte b of the key */
                fp->lo[b][c & 15] |= bit;
                fp->hi[b][c >> 4] |= bit;
            }
        }
        t->fp[f] = fp;
    }
    ig_free(k);
    return ok;
}

/* The literals with a key, grouped by key into the open-addressing table
 * (sorts `ents`). */
static bool index_keys(pf_table *t, ent *ents)
{
    unsigned depth = 2;
    for (uint32_t m = t->npats; m > 1; m >>= 1)
        depth += 2;
    sort_ents(ents, t->npats, depth);
    uint32_t nkeys = 0;
    for (uint32_t i = 0; i < t->npats; i++)
        if (ents[i].key != 0 && (i == 0 || ents[i].key != ents[i - 1].key))
            nkeys++;
    t->nslots = 64;
    while (t->nslots < nkeys * 2)
        t->nslots *= 2;
    t->slots = ig_calloc(t->nslots, sizeof(*t->slots));
    t->list = ig_malloc(sizeof(*t->list) * (t->npats ? t->npats : 1));
    t->lsub = ig_malloc(sizeof(*t->lsub) * (t->npats ? t->npats : 1));
    t->bloom = ig_calloc((size_t)1 << (PF_BLOOM_LOG2 - 6), sizeof(*t->bloom));
    if (t->slots == NULL || t->list == NULL || t->lsub == NULL || t->bloom == NULL)
        return false;
    uint32_t at = 0;
    for (uint32_t i = 0; i < t->npats;) {
        if (ents[i].key == 0) {
            i++;
            continue;
        }
        uint32_t j = i, nlin = 0, nmid = 0;
        for (; j < t->npats && ents[j].key == ents[i].key; j++) {
            t->list[at + (j - i)] = ents[j].pid;
            t->lsub[at + (j - i)] = ents[j].sub;
            nlin += ents[j].cls == PF_LINEAR;
            nmid += ents[j].cls == PF_MID;
        }
        uint64_t kh = key_hash(ents[i].key);
        uint32_t h = slot_of(kh, t->nslots - 1);
        while (t->slots[h].key != 0)
            h = (h + 1) & (t->nslots - 1);
        t->slots[h] = (pf_slot){ents[i].key, at, j - i, nlin, nmid};
        t->bloom[bloom_word(kh)] |= bloom_bits(kh);
        at += j - i;
        i = j;
    }
    return index_fingerprints(t);
}

/* Is every channel of rule a one of rule b's? */
static bool channels_within(const em_rule *a, const em_rule *b)
{
    for (uint32_t i = 0; i < a->nsrcs; i++) {
        const char *ch = a->srcs[i].channel;
        bool found = false;
        for (uint32_t k = 0; k < b->nsrcs && !found; k++) {
            const char *o = b->srcs[k].channel;
            found = ch == NULL || o == NULL ? ch == o : strcmp(ch, o) == 0;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Do rules a and b have the same channels (any: none given)? */
static bool same_channels(const em_rule *a, const em_rule *b)
{
    return (a->nsrcs == 0) == (b->nsrcs == 0) && channels_within(a, b) && channels_within(b, a);
}

/* Gives every keyword item its prefilter field (em_item.kf): one from
 * `first` on per set of channels, so that an event is scanned for the
 * keywords of its channel's rules (and of rules of any channel) only.
 * Returns the number of those fields (at least one), UINT32_MAX when out of
 * memory. */
static uint32_t keyword_groups(ig_rules *rs, uint32_t first)
{
    uint32_t *rep = ig_malloc(sizeof(*rep) * (rs->n ? rs->n : 1)); /* a rule per group */
    if (rep == NULL)
        return UINT32_MAX;
    uint32_t ng = 0;
    for (uint32_t r = 0; r < rs->n; r++) {
        const em_rule *er = &rs->rules[r];
        uint32_t g = UINT32_MAX;
        for (uint32_t s = 0; s < er->nsearches; s++)
            for (uint32_t m = 0; m < er->searches[s].nmaps; m++)
                for (uint32_t i = 0; i < er->searches[s].maps[m].nitems; i++) {
                    em_item *it = (em_item *)&er->searches[s].maps[m].items[i]; /* ours */
                    if (it->field != EV_NO_ID)
                        continue;
                    for (g = 0; g < ng && !same_channels(&rs->rules[rep[g]], er); g++)
                        ;
                    if (g == ng)
                        rep[ng++] = r;
                    it->kf = first + g;
                }
    }
    ig_free(rep);
    return ng ? ng : 1;
}

struct pf_job {
    pf_table *t;
    ent *ents;
    pthread_t tid;
    bool started, ok;
};

/* The key index (index_keys), then the literal list freed. */
static void *keys_thread(void *ud)
{
    pf_job *job = ud;
    job->ok = job->ok && index_keys(job->t, job->ents);
    ig_free(job->ents);
    job->ents = NULL;
    return NULL;
}

pf_job *pf_build_begin(ig_rules *rs, bool helper)
{
    pf_job *job = ig_calloc(1, sizeof(*job));
    if (job == NULL)
        return NULL;
    pf_table *t = &rs->pf;
    job->t = t;
    memset(t, 0, sizeof(*t));
    /* at most one literal per pattern: prefilterable, glob_piece,
     * cased_literal and regex_piece take patterns of different kinds */
    uint64_t total = 0;
    for (uint32_t r = 0; r < rs->n; r++)
        for (uint32_t s = 0; s < rs->rules[r].nsearches; s++)
            for (uint32_t m = 0; m < rs->rules[r].searches[s].nmaps; m++) {
                const em_map *map = &rs->rules[r].searches[s].maps[m];
                for (uint32_t i = 0; i < map->nitems; i++)
                    total += map->items[i].npats;
            }
    if (total >= UINT32_MAX / 4) {
        ig_free(job);
        return NULL;
    }
    uint32_t n = (uint32_t)total;
    /* more "fields" for keywords (items without a field, looked for in every
     * field): one per set of channels of the rules that have them */
    t->nnamed = ev_names_count(&rs->names);
    uint32_t nkw = keyword_groups(rs, t->nnamed);
    if (nkw == UINT32_MAX) {
        ig_free(job);
        return NULL;
    }
    t->nfields = t->nnamed + nkw;
    t->pats = ig_malloc(sizeof(*t->pats) * (n ? n : 1));
    ent *ents = ig_malloc(sizeof(*ents) * (n ? n : 1));
    if (t->pats == NULL || ents == NULL || t->nfields >= (1u << 28)) {
        ig_free(ents);
        ig_free(job);
        return NULL;
    }
    uint32_t dcap = 64;
    while (dcap < n * 2)
        dcap *= 2;
    uint32_t *dedup = ig_calloc(dcap, sizeof(*dedup)); /* pid + 1 */
    if (dedup == NULL) {
        ig_free(ents);
        ig_free(job);
        return NULL;
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
                        uint32_t f = it->field == EV_NO_ID ? it->kf : it->field;
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
                        if (regex_piece(it, p))
                            p->req = lit_add(t, ents, dedup, dcap, f, p->s, p->len, EM_CONTAINS);
                    }
                }
            }
    ig_free(dedup);
    if (!index_shorts(t, ents)) {
        ig_free(ents);
        ig_free(job);
        return NULL;
    }
    job->ents = ents;
    job->ok = true;
    if (helper && ig_thread_start(&job->tid, 0, keys_thread, job) == 0)
        job->started = true;
    else
        keys_thread(job); /* here, now */
    return job;
}

bool pf_build_end(pf_job *job)
{
    if (job == NULL)
        return false;
    if (job->started)
        pthread_join(job->tid, NULL);
    bool ok = job->ok;
    ig_free(job);
    return ok;
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
    for (uint32_t f = 0; t->fp != NULL && f < t->nfields; f++)
        ig_free(t->fp[f]);
    ig_free(t->fp);
    ig_free(t->joinable);
    ig_free(t->minlen);
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
    ig_free(t->lsub);
    ig_free(t->pats);
    ig_free(t->tfirst);
    ig_free(t->trig);
    memset(t, 0, sizeof(*t));
}
