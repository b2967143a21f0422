/* Rule sets: loading (sigma_load.c), compiling (compile.c), the index by
 * channel that pre-filters events, and scanners (match.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/crc32.h"
#include "core/limits.h"
#include "engine/engine.h"
#include "engine/prefilter.h"
#include "engine/correlate.h"
#include "engine/match.h"

/* A rule under one channel, with the EventIDs it wants there (none: all). */
typedef struct em_entry {
    uint32_t rule;
    const uint16_t *eids; /* from its logsource */
    uint32_t neids;
    const uint16_t *ids; /* and its detection too (entry_eids; none: any) */
    uint32_t nids;
} em_entry;

/* The event's EventID (the number of its first EventID field). */
typedef struct ev_eid {
    bool have;  /* a decimal number */
    bool multi; /* the field repeats: detections may match another one */
    uint64_t v;
} ev_eid;

/* What is scanned and always evaluated for events of a channel: for all
 * of them, or for those with one EventID (only the rules that can match
 * it). */
typedef struct em_view {
    uint32_t *open; /* entries of the rules without triggers (always evaluated) */
    uint32_t nopen;
    bool *fields; /* fields whose literals these rules (or any-channel rules) need */
} em_view;

typedef struct em_sub {
    uint16_t eid;
    em_view v;
} em_sub;

typedef struct em_bucket {
    const char *channel; /* NULL: empty slot */
    uint32_t chlen;
    em_entry *rules; /* ascending by rule, one entry per rule */
    uint32_t n, cap;
    em_view all;   /* every rule of the channel */
    em_view other; /* the rules that want no particular EventID */
    em_sub *subs;  /* per EventID some rule wants, ascending */
    uint32_t nsubs;
} em_bucket;

struct ig_rules_builder {
    ig_rules *rs;
    ig_rule_error_fn on_error;
    void *ud;
    uint32_t cap;
    unsigned loaded, rejected; /* of the current add call */
    ig_level min_level;
    unsigned filtered;
    const char *const *statuses, *const *tags, *const *exclude;
    /* rules left out by the selection, kept aside: a selected correlation
     * may refer to them (adopt_bases) */
    em_rule *aside;
    uint32_t naside, capaside;
    unsigned threads; /* for parsing rule files; 0: one per processor */
    ig_buf *rec;      /* compiling: the records of a compiled rule file (sigma_bin.c) */
};

#define MAX_COMPILED_RECORDS ((size_t)1 << 30)

ig_err ig_rules_builder_record(ig_rules_builder *b)
{
    if (b->rec != NULL)
        return IG_OK;
    if ((b->rec = ig_malloc(sizeof(*b->rec))) == NULL)
        return IG_ENOMEM;
    ig_buf_init(b->rec, MAX_COMPILED_RECORDS);
    return IG_OK;
}

ig_buf *em_builder_rec(ig_rules_builder *b)
{
    return b->rec;
}

ig_err ig_rules_builder_save(ig_rules_builder *b, FILE *f)
{
    if (b->rec == NULL)
        return IG_EARG;
    if (b->rec->failed)
        return IG_ENOMEM;
    uint8_t head[SG_COMPILED_HEADER];
    sg_compiled_header(head, ig_crc32(0, b->rec->data, b->rec->len));
    if (fwrite(head, 1, sizeof(head), f) != sizeof(head) ||
        (b->rec->len > 0 && fwrite(b->rec->data, 1, b->rec->len, f) != b->rec->len) ||
        fflush(f) != 0)
        return IG_EIO;
    return IG_OK;
}

void ig_rules_builder_set_threads(ig_rules_builder *b, unsigned n)
{
    b->threads = n;
}

unsigned em_builder_threads(const ig_rules_builder *b)
{
    return b->threads;
}

void ig_rules_builder_select(ig_rules_builder *b, const char *const *statuses,
                             const char *const *tags, const char *const *exclude_ids)
{
    b->statuses = statuses;
    b->tags = tags;
    b->exclude = exclude_ids;
}

static bool in_list(const char *const *list, const char *s, bool nocase)
{
    for (; *list != NULL; list++)
        if (nocase ? strcasecmp(*list, s) == 0 : strcmp(*list, s) == 0)
            return true;
    return false;
}

static bool selected(const ig_rules_builder *b, const ig_rule_info *ri)
{
    if (ri->level < b->min_level)
        return false;
    if (b->statuses != NULL && !in_list(b->statuses, ri->status, true))
        return false;
    if (b->exclude != NULL && in_list(b->exclude, ri->id, true))
        return false;
    if (b->tags != NULL) {
        bool any = false;
        for (size_t i = 0; i < ri->ntags && !any; i++)
            any = in_list(b->tags, ri->tags[i], true);
        if (!any)
            return false;
    }
    return true;
}

void ig_rules_builder_set_min_level(ig_rules_builder *b, ig_level min)
{
    b->min_level = min;
}

unsigned ig_rules_builder_filtered(const ig_rules_builder *b)
{
    return b->filtered;
}

bool em_rules_keep_regex(ig_rules *rs, pcre2_code *re)
{
    if (rs->nregex == rs->capregex) {
        uint32_t cap = rs->capregex ? rs->capregex * 2 : 64;
        pcre2_code **v = ig_realloc(rs->regex, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        rs->regex = v;
        rs->capregex = cap;
    }
    rs->regex[rs->nregex++] = re;
    return true;
}

void em_builder_report(ig_rules_builder *b, const char *file, unsigned line, const char *reason)
{
    b->rejected++;
    if (b->on_error != NULL) {
        ig_rule_error e = {file, line, reason};
        b->on_error(b->ud, &e);
    }
}

static void on_load_error(void *ud, const sg_error *e)
{
    em_builder_report(ud, e->file, e->line, e->reason);
}

/* Keeps a rule the selection left out (its trees live in the set's arena). */
static void set_aside(ig_rules_builder *b, const em_rule *r)
{
    if (b->naside == b->capaside) {
        uint32_t cap = b->capaside ? b->capaside * 2 : 64;
        em_rule *v = ig_realloc(b->aside, sizeof(*v) * cap);
        if (v == NULL)
            return; /* a correlation referring to it is then reported */
        b->aside = v;
        b->capaside = cap;
    }
    b->aside[b->naside++] = *r;
}

/* Rules left out by the selection (--min-level, --status, --tags,
 * --exclude-rules) that a selected correlation refers to join the set as
 * its bases, without alerts of their own (em_rule.adopted): leaving out a
 * low-level rule must not disable a high-level correlation built on it.
 * False when out of memory. */
static bool adopt_bases(ig_rules_builder *b)
{
    ig_rules *rs = b->rs;
    uint32_t n = rs->n;
    for (uint32_t ri = 0; ri < n; ri++) {
        const em_corr *c = rs->rules[ri].corr;
        for (uint32_t k = 0; c != NULL && k < c->nrefs; k++) {
            if (cm_find_rule(rs->rules, rs->n, c->refs[k]) != UINT32_MAX)
                continue;
            uint32_t a = cm_find_rule(b->aside, b->naside, c->refs[k]);
            if (a == UINT32_MAX)
                continue; /* reported by cm_resolve */
            if (rs->n == b->cap) {
                em_rule *v = ig_realloc(rs->rules, sizeof(*v) * b->cap * 2);
                if (v == NULL)
                    return false;
                rs->rules = v;
                b->cap *= 2;
                c = rs->rules[ri].corr;
            }
            rs->rules[rs->n] = b->aside[a];
            rs->rules[rs->n].info.index = rs->n;
            rs->rules[rs->n].adopted = true;
            rs->n++;
        }
    }
    return true;
}

void em_builder_rule(ig_rules_builder *b, const sg_rule *r)
{
    ig_rules *rs = b->rs;
    if (rs->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 256;
        em_rule *v = ig_realloc(rs->rules, sizeof(*v) * cap);
        if (v == NULL) {
            em_builder_report(b, r->file, r->line, "out of memory");
            return;
        }
        rs->rules = v;
        b->cap = cap;
    }
    const char *why = NULL;
    if (!em_compile(rs, r, &rs->rules[rs->n], &why)) {
        em_builder_report(b, r->file, r->line, why);
        return;
    }
    /* here, while other threads still parse, not in the serial finish */
    if (rs->rules[rs->n].corr == NULL &&
        !em_rule_eids(&rs->rules[rs->n], rs->f_eventid, &rs->arena)) {
        em_builder_report(b, r->file, r->line, "out of memory");
        return;
    }
    if (!selected(b, &rs->rules[rs->n].info)) {
        b->filtered++;
        if (rs->rules[rs->n].corr == NULL)
            set_aside(b, &rs->rules[rs->n]);
        return;
    }
    rs->rules[rs->n].info.index = rs->n;
    rs->n++;
    b->loaded++;
}

static void on_rule(void *ud, const sg_rule *r)
{
    em_builder_rule(ud, r);
}

ig_arena *em_builder_arena(ig_rules_builder *b)
{
    return &b->rs->arena;
}

void em_builder_counts(ig_rules_builder *b, unsigned **loaded, unsigned **rejected)
{
    *loaded = &b->loaded;
    *rejected = &b->rejected;
}

ig_rules_builder *ig_rules_builder_create(ig_rule_error_fn on_error, void *ud)
{
    ig_rules_builder *b = ig_calloc(1, sizeof(*b));
    ig_rules *rs = ig_calloc(1, sizeof(*rs));
    if (b == NULL || rs == NULL || !em_names_init(&rs->names)) {
        ig_free(b);
        ig_free(rs);
        return NULL;
    }
    ig_arena_init(&rs->arena, 0);
    rs->f_channel = em_names_intern(&rs->names, &rs->arena, "Channel", 7);
    rs->f_eventid = em_names_intern(&rs->names, &rs->arena, "EventID", 7);
    b->rs = rs;
    b->on_error = on_error;
    b->ud = ud;
    return b;
}

ig_err ig_rules_builder_add_text(ig_rules_builder *b, const char *name, const char *text,
                                 size_t len, unsigned *loaded, unsigned *rejected)
{
    b->loaded = b->rejected = 0;
    const char *file = ig_arena_dup(&b->rs->arena, name, strlen(name) + 1);
    if (file == NULL)
        return IG_ENOMEM;
    sg_load_text_rec(file, text, len, &b->rs->arena, on_rule, on_load_error, b, b->rec);
    if (loaded)
        *loaded = b->loaded;
    if (rejected)
        *rejected = b->rejected;
    return IG_OK;
}

extern const struct ig_embedded_file {
    const char *name;
    const char *text;
    size_t len;
} ig_builtin_rules[];

int ig_rule_source(const ig_rules *r, size_t i, size_t k, const char **channel,
                   const uint16_t **eids, size_t *neids)
{
    if (i >= r->n || k >= r->rules[i].nsrcs)
        return 0;
    *channel = r->rules[i].srcs[k].channel;
    *eids = r->rules[i].srcs[k].eids;
    *neids = r->rules[i].srcs[k].neids;
    return 1;
}

const char *ig_builtin_rule_file(size_t i, const char **text, size_t *len)
{
    size_t n = 0;
    while (ig_builtin_rules[n].name != NULL)
        n++;
    if (i >= n)
        return NULL;
    *text = ig_builtin_rules[i].text;
    *len = ig_builtin_rules[i].len;
    return ig_builtin_rules[i].name;
}

ig_err ig_rules_builder_add_builtin(ig_rules_builder *b, unsigned *loaded, unsigned *rejected)
{
    unsigned l = 0, r = 0;
    for (size_t i = 0; ig_builtin_rules[i].name != NULL; i++) {
        unsigned li = 0, ri = 0;
        ig_err e = ig_rules_builder_add_text(b, ig_builtin_rules[i].name, ig_builtin_rules[i].text,
                                             ig_builtin_rules[i].len, &li, &ri);
        if (e != IG_OK)
            return e;
        l += li;
        r += ri;
    }
    if (loaded)
        *loaded = l;
    if (rejected)
        *rejected = r;
    return IG_OK;
}

/* ---- index ------------------------------------------------------------ */

static uint32_t chan_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 16777619u;
    }
    return h;
}

static em_bucket *bucket_find(const ig_rules *rs, const char *ch, size_t len, bool *found)
{
    uint32_t i = chan_hash(ch, len) & (rs->nbuckets - 1);
    for (;; i = (i + 1) & (rs->nbuckets - 1)) {
        em_bucket *b = &rs->buckets[i];
        if (b->channel == NULL) {
            *found = false;
            return b;
        }
        if (b->chlen == len && strncasecmp(b->channel, ch, len) == 0) {
            *found = true;
            return b;
        }
    }
}

static bool bucket_add(ig_rules *rs, em_bucket *b, uint32_t rule, const em_source *src)
{
    if (b->n > 0 && b->rules[b->n - 1].rule == rule) {
        /* a rule with two sources on one channel: the union of their ids */
        em_entry *e = &b->rules[b->n - 1];
        if (e->neids == 0 || src->neids == 0) {
            e->neids = 0;
            return true;
        }
        uint16_t *u = ig_arena_alloc(&rs->arena, sizeof(*u) * (e->neids + src->neids));
        if (u == NULL)
            return false;
        memcpy(u, e->eids, sizeof(*u) * e->neids);
        memcpy(u + e->neids, src->eids, sizeof(*u) * src->neids);
        e->eids = u;
        e->neids += src->neids;
        return true;
    }
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        em_entry *v = ig_realloc(b->rules, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        b->rules = v;
        b->cap = cap;
    }
    b->rules[b->n++] = (em_entry){rule, src->eids, src->neids, NULL, 0};
    return true;
}

static bool build_index(ig_rules *rs)
{
    rs->nbuckets = 256;
    rs->buckets = ig_calloc(rs->nbuckets, sizeof(*rs->buckets));
    uint32_t *any = ig_arena_alloc(&rs->arena, sizeof(*any) * (rs->n ? rs->n : 1));
    if (rs->buckets == NULL || any == NULL)
        return false;
    uint32_t nany = 0, used = 0;
    for (uint32_t i = 0; i < rs->n; i++) {
        em_rule *r = &rs->rules[i];
        if (r->corr != NULL)
            continue; /* correlations are evaluated at the end */
        if (r->nsrcs == 0) {
            any[nany++] = i;
            continue;
        }
        for (uint32_t k = 0; k < r->nsrcs; k++) {
            const char *ch = r->srcs[k].channel;
            bool found;
            em_bucket *b = bucket_find(rs, ch, strlen(ch), &found);
            if (!found) {
                if (used + 1 >= rs->nbuckets / 2)
                    return false; /* more distinct channels than the table holds */
                b->channel = ch;
                b->chlen = (uint32_t)strlen(ch);
                used++;
            }
            if (!bucket_add(rs, b, i, &r->srcs[k]))
                return false;
        }
    }
    rs->any = any;
    rs->nany = nany;
    return true;
}

/* Marks the fields whose literals rule `r` looks for. */
static void mark_fields(const em_rule *r, bool *f)
{
    for (uint32_t s = 0; s < r->nsearches; s++)
        for (uint32_t m = 0; m < r->searches[s].nmaps; m++) {
            const em_map *map = &r->searches[s].maps[m];
            for (uint32_t i = 0; i < map->nitems; i++)
                for (uint32_t k = 0; k < map->items[i].npats; k++)
                    if (map->items[i].pats[k].pid != UINT32_MAX ||
                        map->items[i].pats[k].req != UINT32_MAX) {
                        uint32_t id = map->items[i].field;
                        f[id == EV_NO_ID ? map->items[i].kf : id] = true;
                    }
        }
}

/* The EventIDs entry `e` of rule `r` can match (*n = 0: any), at most
 * `cap` of them in v: those of its logsource, of its detection, or in both. */
static uint32_t entry_eids(const em_entry *e, const em_rule *r, uint16_t *v, uint32_t cap)
{
    uint32_t n = 0;
    if (e->neids == 0 || r->ndeids == 0) {
        const uint16_t *src = e->neids ? e->eids : r->deids;
        uint32_t m = e->neids ? e->neids : r->ndeids;
        if (m > cap)
            return 0; /* too many to list: under any */
        for (uint32_t k = 0; k < m; k++)
            v[n++] = src[k];
        return n;
    }
    for (uint32_t k = 0; k < e->neids; k++)
        for (uint32_t d = 0; d < r->ndeids; d++)
            if (r->deids[d] == e->eids[k]) {
                if (n == cap)
                    return 0;
                v[n++] = e->eids[k];
                break;
            }
    return n; /* 0, none in both: left to evaluation (eid_fits), under any */
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

#define EIDS_CAP 64u

/* Sets e->ids / e->nids (entry_eids), kept in the rule set's arena. */
static bool entry_ids(ig_rules *rs, em_entry *e)
{
    uint16_t v[EIDS_CAP];
    e->nids = entry_eids(e, &rs->rules[e->rule], v, EIDS_CAP);
    e->ids = e->nids ? ig_arena_dup(&rs->arena, v, sizeof(*v) * e->nids) : NULL;
    return e->nids == 0 || e->ids != NULL;
}

/* The entries a view takes: all, those that want no particular EventID,
 * those that can match EventID `eid`. */
enum { VIEW_ALL, VIEW_OTHER, VIEW_EID };

static bool view_takes(const em_entry *e, int kind, uint16_t eid)
{
    if (kind == VIEW_ALL || e->nids == 0)
        return true;
    for (uint32_t k = 0; kind == VIEW_EID && k < e->nids; k++)
        if (e->ids[k] == eid)
            return true;
    return false;
}

/* A view of bucket `b` over the entries it takes (view_takes): the fields
 * of `base` and theirs, and those of them without triggers. */
static bool view_make(ig_rules *rs, const em_bucket *b, const bool *base, uint32_t nf, int kind,
                      uint16_t eid, em_view *v)
{
    v->fields = ig_arena_dup(&rs->arena, base, nf);
    v->open = ig_arena_alloc(&rs->arena, sizeof(*v->open) * (b->n ? b->n : 1));
    v->nopen = 0;
    if (v->fields == NULL || v->open == NULL)
        return false;
    for (uint32_t i = 0; i < b->n; i++) {
        if (!view_takes(&b->rules[i], kind, eid))
            continue;
        mark_fields(&rs->rules[b->rules[i].rule], v->fields);
        if (!rs->rules[b->rules[i].rule].triggered)
            v->open[v->nopen++] = i;
    }
    return true;
}

/* Per channel, the fields worth scanning for literals: an event is only
 * scanned for what the rules of its channel (and any-channel rules) need —
 * of those rules, the ones that can match its EventID — and the rules
 * evaluated whatever literals the event holds. */
static bool bucket_fields(ig_rules *rs)
{
    uint32_t nf = rs->pf.nfields ? rs->pf.nfields : 1;
    bool *any = ig_arena_alloc(&rs->arena, nf);
    if (any == NULL)
        return false;
    memset(any, 0, nf);
    for (uint32_t i = 0; i < rs->nany; i++)
        mark_fields(&rs->rules[rs->any[i]], any);
    rs->any_fields = any;
    for (uint32_t bi = 0; bi < rs->nbuckets; bi++) {
        em_bucket *b = &rs->buckets[bi];
        if (b->channel == NULL)
            continue;
        uint32_t cap = 0, n = 0;
        for (uint32_t i = 0; i < b->n; i++) {
            if (!entry_ids(rs, &b->rules[i]))
                return false;
            cap += b->rules[i].nids;
        }
        if (!view_make(rs, b, any, nf, VIEW_ALL, 0, &b->all) ||
            !view_make(rs, b, any, nf, VIEW_OTHER, 0, &b->other))
            return false;
        /* the EventIDs wanted, each once */
        uint16_t *ids = ig_malloc(sizeof(*ids) * (cap ? cap : 1));
        if (ids == NULL)
            return false;
        for (uint32_t i = 0; i < b->n; i++)
            for (uint32_t k = 0; k < b->rules[i].nids; k++)
                ids[n++] = b->rules[i].ids[k];
        qsort(ids, n, sizeof(*ids), cmp_u16);
        uint32_t u = 0;
        for (uint32_t i = 0; i < n; i++)
            if (u == 0 || ids[u - 1] != ids[i])
                ids[u++] = ids[i];
        b->subs = ig_arena_alloc(&rs->arena, sizeof(*b->subs) * (u ? u : 1));
        bool ok = b->subs != NULL;
        for (uint32_t i = 0; ok && i < u; i++) {
            b->subs[i].eid = ids[i];
            ok = view_make(rs, b, b->other.fields, nf, VIEW_EID, ids[i], &b->subs[i].v);
        }
        b->nsubs = ok ? u : 0;
        ig_free(ids);
        if (!ok)
            return false;
    }
    return true;
}

/* The view of bucket `b` for an event with EventID `id`. */
static const em_view *view_of(const em_bucket *b, const ev_eid *id)
{
    if (id->multi)
        return &b->all;
    if (!id->have || id->v > 65535)
        return &b->other;
    uint32_t lo = 0, hi = b->nsubs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->subs[mid].eid < id->v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->nsubs && b->subs[lo].eid == id->v ? &b->subs[lo].v : &b->other;
}

static void corr_error(void *ud, const char *file, unsigned line, const char *why)
{
    em_builder_report(ud, file, line, why);
}

ig_rules *ig_rules_builder_finish(ig_rules_builder *b)
{
    ig_rules *rs = b->rs;
    bool resolved = adopt_bases(b) && cm_resolve(rs, corr_error, b);
    for (uint32_t i = 0; i < rs->n; i++)
        if (rs->rules[i].adopted)
            rs->rules[i].suppress = true; /* whatever `generate` says */
    bool helper = b->threads != 1;        /* the key index on a thread of its own */
    b->rs = NULL;
    ig_rules_builder_destroy(b);
    /* the channel index needs no prefilter: it is made while the key index is */
    pf_job *job = resolved ? pf_build_begin(rs, helper) : NULL;
    bool ok = job != NULL && build_index(rs) && pf_triggers(rs) && bucket_fields(rs);
    ok = pf_build_end(job) && ok;
    if (!ok) {
        ig_rules_destroy(rs);
        return NULL;
    }
    return rs;
}

void ig_rules_builder_destroy(ig_rules_builder *b)
{
    if (b == NULL)
        return;
    ig_rules_destroy(b->rs);
    ig_free(b->aside);
    if (b->rec != NULL)
        ig_buf_free(b->rec);
    ig_free(b->rec);
    ig_free(b);
}

size_t ig_rules_count(const ig_rules *r)
{
    return r->n;
}

size_t ig_rules_adopted(const ig_rules *r)
{
    size_t n = 0;
    for (uint32_t i = 0; i < r->n; i++)
        n += r->rules[i].adopted;
    return n;
}

const ig_rule_info *ig_rules_info(const ig_rules *r, size_t i)
{
    return i < r->n ? &r->rules[i].info : NULL;
}

void ig_rules_destroy(ig_rules *rs)
{
    if (rs == NULL)
        return;
    for (uint32_t i = 0; i < rs->nregex; i++)
        pcre2_code_free(rs->regex[i]);
    ig_free(rs->regex);
    if (rs->buckets != NULL)
        for (uint32_t i = 0; i < rs->nbuckets; i++)
            ig_free(rs->buckets[i].rules);
    ig_free(rs->buckets);
    ig_free(rs->rules);
    em_names_free(&rs->names);
    pf_free(&rs->pf);
    ig_arena_destroy(&rs->arena);
    ig_free(rs);
}

/* ---- scanning ----------------------------------------------------------- */

struct ig_scanner {
    const ig_rules *rs;
    ig_alert_fn on_alert;
    void *ud;
    em_state st;
    ig_corr *corr; /* may be NULL */
    cm_buf kept;   /* matches of correlation bases, merged at destroy */
    ig_alert_field *af;
    uint32_t afcap;
};

ig_scanner *ig_scanner_create(const ig_rules *r, ig_alert_fn on_alert, void *ud)
{
    ig_scanner *s = ig_calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    ig_arena_init(&s->kept.arena, 0);
    if (!em_state_init(&s->st, r)) {
        ig_free(s);
        return NULL;
    }
    s->rs = r;
    s->on_alert = on_alert;
    s->ud = ud;
    return s;
}

void ig_scanner_set_corr(ig_scanner *s, ig_corr *c)
{
    s->corr = c;
}

void ig_scanner_destroy(ig_scanner *s)
{
    if (s == NULL)
        return;
    if (s->corr != NULL)
        cm_buf_merge(s->corr, &s->kept);
    cm_buf_free(&s->kept);
    em_state_free(&s->st);
    ig_free(s->af);
    ig_free(s);
}

bool ig_scanner_flush(ig_scanner *s)
{
    if (s->corr == NULL || s->kept.n == 0)
        return true;
    bool ok = cm_buf_merge(s->corr, &s->kept);
    /* the shared state copied what it needs: start the buffer afresh */
    s->kept.n = 0;
    s->kept.last_path = NULL;
    ig_arena_reset(&s->kept.arena);
    return ok;
}

size_t ig_scanner_pending(const ig_scanner *s)
{
    return s->kept.n;
}

uint64_t ig_rules_max_timespan(const ig_rules *r)
{
    uint64_t m = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->rules[i].corr != NULL && r->rules[i].corr->span > m)
            m = r->rules[i].corr->span;
    return m;
}

uint64_t ig_scanner_regex_limit_hits(const ig_scanner *s)
{
    return s->st.re_limit_hits;
}

/* Can rule `r`, under channel entry `e` (NULL: a rule of any channel), match
 * an event with EventID `id`?  Its logsource's ids are the first field's;
 * the ids its detection needs are any field's. */
static bool eid_fits(const em_entry *e, const em_rule *r, const ev_eid *id)
{
    if (e != NULL && e->neids != 0) {
        bool in = false;
        for (uint32_t k = 0; id->have && k < e->neids && !in; k++)
            in = e->eids[k] == id->v;
        if (!in)
            return false;
    }
    if (r->ndeids == 0 || id->multi)
        return true;
    for (uint32_t k = 0; id->have && k < r->ndeids; k++)
        if (r->deids[k] == id->v)
            return true;
    return false;
}

/* The entry of rule `rule` in `b`, or NULL. */
static const em_entry *entry_find(const em_bucket *b, uint32_t rule)
{
    uint32_t lo = 0, hi = b->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->rules[mid].rule < rule)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->n && b->rules[lo].rule == rule ? &b->rules[lo] : NULL;
}

static int alert(ig_scanner *s, const em_rule *r, ig_event *ev)
{
    /* the values of the fields the rule reads, as they are in the event */
    uint32_t n = 0;
    if (r->nfields > s->afcap) {
        ig_alert_field *v = ig_realloc(s->af, sizeof(*v) * r->nfields);
        if (v == NULL)
            return -1;
        s->af = v;
        s->afcap = r->nfields;
    }
    for (uint32_t i = 0; i < r->nfields; i++) {
        uint32_t fi = ev_index(ev, r->fields[i]);
        ig_strv v;
        if (fi == UINT32_MAX || !ev_text(ev, fi, &v))
            continue;
        s->af[n].name.p = s->rs->names.names[r->fields[i]];
        s->af[n].name.len = s->rs->names.lens[r->fields[i]];
        s->af[n].value = v;
        n++;
    }
    if (r->recorded && s->corr != NULL &&
        !cm_buf_add(&s->kept, r, (uint32_t)r->info.index, ev, s->rs))
        return -1;
    if (r->suppress)
        return 0; /* only its correlations speak */
    ig_alert a = {&r->info, ev, s->af, n};
    if (s->on_alert != NULL)
        s->on_alert(s->ud, &a);
    return 1;
}

int ig_scanner_scan(ig_scanner *s, ig_event *ev)
{
    const ig_rules *rs = s->rs;
    if (ev->bound != &rs->names && (!ev_apply_aliases(ev) || !ev_bind(ev, &rs->names)))
        return -1;
    em_state_next_event(&s->st);
    ig_strv ch = {"", 0}, eidtext;
    ev_eid id = {false, false, 0};
    uint32_t ci = ev_index(ev, rs->f_channel), ei = ev_index(ev, rs->f_eventid);
    if (ci != UINT32_MAX)
        ev_text(ev, ci, &ch);
    if (ei != UINT32_MAX && ev_text(ev, ei, &eidtext)) {
        id.multi = ev->f[ei].next_same != UINT32_MAX;
        id.have = eidtext.len > 0 && eidtext.len < 20;
        for (size_t i = 0; id.have && i < eidtext.len; i++) {
            char c = eidtext.p[i];
            id.have = c >= '0' && c <= '9';
            id.v = id.v * 10 + (uint64_t)(c - '0');
        }
    }
    int alerts = 0;
    bool found = false;
    em_bucket *b = ch.len ? bucket_find(rs, ch.p, ch.len, &found) : NULL;
    const em_view *view = found ? view_of(b, &id) : NULL;
    em_prefilter_event(&s->st, ev, view ? view->fields : rs->any_fields);
    if (found) {
        /* candidates in rule order: the channel's rules without triggers
         * (that can match the EventID), merged with the triggered rules
         * that are on this channel */
        const uint32_t *tr = s->st.trules, *open = view->open;
        uint32_t no = view->nopen, nt = s->st.ntrules, io = 0, it = 0;
        while (io < no || it < nt) {
            const em_entry *e;
            if (it == nt || (io < no && b->rules[open[io]].rule < tr[it]))
                e = &b->rules[open[io++]];
            else if ((e = entry_find(b, tr[it++])) == NULL)
                continue;
            const em_rule *r = &rs->rules[e->rule];
            if (!eid_fits(e, r, &id) || !em_match_rule(&s->st, r, ev))
                continue;
            int k = alert(s, r, ev);
            if (k < 0)
                return -1;
            alerts += k;
        }
    }
    for (uint32_t i = 0; i < rs->nany; i++) {
        const em_rule *r = &rs->rules[rs->any[i]];
        if (r->triggered && s->st.rule_epoch[rs->any[i]] != s->st.epoch)
            continue;
        if (!eid_fits(NULL, r, &id) || !em_match_rule(&s->st, r, ev))
            continue;
        int k = alert(s, r, ev);
        if (k < 0)
            return -1;
        alerts += k;
    }
    return alerts;
}
