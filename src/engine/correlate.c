/* Correlation rules (sigma-correlation-rules-specification.md): event_count,
 * value_count, temporal and temporal_ordered, with group-by and timespan;
 * and the extension `absent`: events of the first rule with no event of the
 * other rules in their group within ± timespan.
 *
 * Scanners keep the matches of the rules correlations refer to (time,
 * origin, the group-by and value fields); when the input is read, the
 * matches are sorted by time and every correlation is evaluated per group
 * over sliding windows.  Sorting first makes the result independent of
 * arrival order: events from several threads, files read out of order and
 * late events all count where their time puts them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "engine/correlate.h"

struct ig_corr {
    const ig_rules *rs;
    pthread_mutex_t mu;
    cm_match *m; /* merged from scanners */
    size_t n, cap;
    ig_arena arena; /* strings of merged matches */
    uint64_t dropped;
};

ig_corr *ig_corr_create(const ig_rules *r)
{
    ig_corr *c = ig_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->rs = r;
    ig_arena_init(&c->arena, 0);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void ig_corr_destroy(ig_corr *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    ig_free(c->m);
    ig_arena_destroy(&c->arena);
    ig_free(c);
}

uint64_t ig_corr_dropped(const ig_corr *c)
{
    return c->dropped;
}

size_t ig_corr_kept(ig_corr *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

bool cm_buf_add(cm_buf *b, const em_rule *r, uint32_t rule, ig_event *ev, const ig_rules *rs)
{
    if (b->n >= CM_MAX_MATCHES) {
        b->dropped++;
        return true;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        cm_match *v = ig_realloc(b->m, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        b->m = v;
        b->cap = cap;
    }
    cm_match *m = &b->m[b->n];
    memset(m, 0, sizeof(*m));
    m->rule = rule;
    m->time = ev->time;
    m->record_id = ig_event_record_id(ev);
    m->offset = ev->origin.offset;
    /* the input's name: one copy per distinct name (slots reuse buffers) */
    const char *path = ev->origin.path ? ev->origin.path : "";
    if (b->last_path == NULL || strcmp(b->last_path, path) != 0) {
        b->last_path = ig_arena_dup(&b->arena, path, strlen(path) + 1);
        if (b->last_path == NULL)
            return false;
    }
    m->path = b->last_path;
    m->nvals = r->nrfields < CM_MAX_FIELDS ? r->nrfields : CM_MAX_FIELDS;
    for (uint32_t i = 0; i < m->nvals; i++) {
        uint32_t fi = ev_index(ev, r->rfields[i]);
        ig_strv v = {"", 0};
        m->fid[i] = r->rfields[i];
        if (fi != UINT32_MAX)
            ev_text(ev, fi, &v);
        m->present[i] = fi != UINT32_MAX;
        m->val[i] = v.len ? ig_arena_dup(&b->arena, v.p, v.len) : "";
        m->vlen[i] = (uint32_t)v.len;
        if (m->val[i] == NULL)
            return false;
    }
    (void)rs;
    b->n++;
    return true;
}

void cm_buf_free(cm_buf *b)
{
    ig_free(b->m);
    ig_arena_destroy(&b->arena);
    memset(b, 0, sizeof(*b));
}

bool cm_buf_merge(ig_corr *c, cm_buf *b)
{
    bool ok = true;
    pthread_mutex_lock(&c->mu);
    c->dropped += b->dropped;
    if (c->n + b->n > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < c->n + b->n)
            cap *= 2;
        cm_match *v = ig_realloc(c->m, sizeof(*v) * cap);
        if (v == NULL)
            ok = false;
        else {
            c->m = v;
            c->cap = cap;
        }
    }
    if (ok && b->n > 0) {
        /* the scanner's strings move with it: adopt its arena's blocks by
         * copying the strings once into ours */
        for (size_t i = 0; i < b->n && ok; i++) {
            cm_match m = b->m[i];
            const char *p = ig_arena_dup(&c->arena, m.path, strlen(m.path) + 1);
            ok = p != NULL;
            m.path = p;
            for (uint32_t k = 0; ok && k < m.nvals; k++) {
                m.val[k] = m.vlen[k] ? ig_arena_dup(&c->arena, m.val[k], m.vlen[k]) : "";
                ok = m.val[k] != NULL;
            }
            if (ok)
                c->m[c->n++] = m;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

size_t ig_corr_prune(ig_corr *c, uint64_t before)
{
    pthread_mutex_lock(&c->mu);
    ig_arena fresh;
    ig_arena_init(&fresh, 0);
    size_t kept = 0, dropped = 0;
    bool ok = true;
    for (size_t i = 0; i < c->n; i++) {
        cm_match m = c->m[i];
        if (m.time < before) {
            dropped++;
            continue;
        }
        /* the strings move to a fresh arena, so memory stays bounded */
        const char *p = ig_arena_dup(&fresh, m.path, strlen(m.path) + 1);
        ok = ok && p != NULL;
        m.path = p ? p : "";
        for (uint32_t k = 0; ok && k < m.nvals; k++) {
            m.val[k] = m.vlen[k] ? ig_arena_dup(&fresh, m.val[k], m.vlen[k]) : "";
            ok = m.val[k] != NULL;
        }
        if (!ok)
            break;
        c->m[kept++] = m;
    }
    if (ok) {
        c->n = kept;
        ig_arena_destroy(&c->arena);
        c->arena = fresh;
    } else {
        ig_arena_destroy(&fresh); /* out of memory: keep everything as it was */
        dropped = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return dropped;
}

/* ---- evaluation ------------------------------------------------------------ */

static bool cmp_ok(sg_cmp op, uint64_t v, uint64_t t)
{
    switch (op) {
    case SG_CMP_GT: return v > t;
    case SG_CMP_GTE: return v >= t;
    case SG_CMP_LT: return v < t;
    case SG_CMP_LTE: return v <= t;
    case SG_CMP_EQ: return v == t;
    case SG_CMP_NEQ: return v != t;
    default: return true;
    }
}

static bool cond_ok(const em_corr *c, uint64_t v)
{
    return cmp_ok(c->cmp, v, c->threshold) && cmp_ok(c->cmp2, v, c->threshold2);
}

/* Value of field `fid` kept with match `m`; NULL when absent. */
static const char *val_of(const cm_match *m, uint32_t fid, uint32_t *len)
{
    for (uint32_t i = 0; i < m->nvals; i++)
        if (m->fid[i] == fid) {
            *len = m->vlen[i];
            return m->present[i] ? m->val[i] : NULL;
        }
    return NULL;
}

/* One candidate event of a correlation: a match of one of its bases. */
typedef struct cand {
    const cm_match *m;
    uint32_t base; /* position in the correlation's rule list */
    char *group;   /* "Field=value, Field=value" (arena) */
    uint32_t glen;
} cand;

static int by_group_time(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    uint32_t n = x->glen < y->glen ? x->glen : y->glen;
    int c = memcmp(x->group, y->group, n);
    if (c != 0)
        return c;
    if (x->glen != y->glen)
        return x->glen < y->glen ? -1 : 1;
    if (x->m->time != y->m->time)
        return x->m->time < y->m->time ? -1 : 1;
    /* stable: input order (path, offset), then the rule and the record */
    c = strcmp(x->m->path, y->m->path);
    if (c != 0)
        return c;
    if (x->m->offset != y->m->offset)
        return x->m->offset < y->m->offset ? -1 : 1;
    if (x->base != y->base)
        return x->base < y->base ? -1 : 1;
    return x->m->record_id < y->m->record_id ? -1 : x->m->record_id > y->m->record_id;
}

/* Drops repeated events from the sorted candidates; the new count.  A
 * repeat (a message delivered again, a file given twice) compares equal:
 * same group, time, input, place and record, for the same rule. */
static size_t drop_repeats(cand *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || by_group_time(&v[k - 1], &v[i]) != 0)
            v[k++] = v[i];
    return k;
}

static void emit(const ig_rules *rs, const em_rule *r, const cand *v, size_t n, uint64_t count,
                 const char *group, uint32_t glen, ig_corr_alert_fn fn, void *ud)
{
    ig_corr_event ev[CM_MAX_ALERT_EVENTS];
    size_t k = n < CM_MAX_ALERT_EVENTS ? n : CM_MAX_ALERT_EVENTS;
    for (size_t i = 0; i < k; i++) {
        const cm_match *m = v[i].m;
        ev[i] =
            (ig_corr_event){rs->rules[m->rule].info.id, m->time, m->record_id, m->path, m->offset};
    }
    static const char *const types[] = {"",         "event_count",      "value_count",
                                        "temporal", "temporal_ordered", "absent"};
    ig_corr_alert a = {&r->info,
                       types[r->corr->type],
                       {group, glen},
                       count,
                       v[0].m->time,
                       v[n - 1].m->time,
                       r->corr->span,
                       ev,
                       k,
                       n};
    fn(ud, &a);
}

/* absent: the first rule's events with no other rule's event within ± span.
 * Unaccompanied events closer than span to each other make one alert (a
 * burst of changes saved together); no other event can lie between them,
 * since it would accompany one of them. */
static size_t eval_absent(const ig_rules *rs, const em_rule *r, cand *v, size_t n,
                          ig_corr_alert_fn fn, void *ud)
{
    const uint64_t span = r->corr->span;
    size_t alerts = 0, run = 0, run_start = 0;
    size_t prev_other = SIZE_MAX; /* last index of another rule's event */
    size_t next_other = 0;        /* first index > i of another rule's event (or n) */
    for (size_t i = 0; i <= n; i++) {
        bool lonely = false;
        if (i < n && v[i].base == 0) {
            uint64_t t = v[i].m->time;
            if (next_other <= i)
                for (next_other = i + 1; next_other < n && v[next_other].base == 0; next_other++)
                    ;
            bool before = prev_other != SIZE_MAX && t - v[prev_other].m->time <= span;
            bool after = next_other < n && v[next_other].m->time - t <= span;
            lonely = !before && !after;
        } else if (i < n) {
            prev_other = i;
        }
        /* extend the run, or close it and maybe start another */
        if (lonely && run > 0 && v[i].m->time - v[i - 1].m->time <= span && run_start + run == i) {
            run++;
            continue;
        }
        if (run > 0) {
            emit(rs, r, v + run_start, run, run, v[run_start].group, v[run_start].glen, fn, ud);
            alerts++;
            run = 0;
        }
        if (lonely) {
            run_start = i;
            run = 1;
        }
    }
    return alerts;
}

/* The windows of one group [a, b) of candidates sorted by time. */
static size_t eval_group(const ig_rules *rs, const em_rule *r, cand *v, size_t n,
                         ig_corr_alert_fn fn, void *ud)
{
    const em_corr *c = r->corr;
    size_t alerts = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t end = v[i].m->time + c->span;
        size_t j = i;
        while (j < n && v[j].m->time <= end)
            j++;
        /* window [i, j) */
        bool hit = false;
        size_t used = j - i;
        uint64_t count = used;
        if (c->type == SG_CORR_EVENT_COUNT) {
            hit = cond_ok(c, count);
        } else if (c->type == SG_CORR_VALUE_COUNT) {
            /* distinct values of the field (per base, through aliases) */
            count = 0;
            for (size_t a = i; a < j; a++) {
                uint32_t la = 0, lb = 0;
                const char *va = val_of(v[a].m, c->vfield_of[v[a].base], &la);
                if (va == NULL)
                    continue;
                bool seen = false;
                for (size_t b2 = i; b2 < a && !seen; b2++) {
                    const char *vb = val_of(v[b2].m, c->vfield_of[v[b2].base], &lb);
                    seen = vb != NULL && la == lb && memcmp(va, vb, la) == 0;
                }
                count += !seen;
            }
            hit = cond_ok(c, count);
        } else {
            /* temporal: every base in the window (ordered: in rule order) */
            uint32_t need = c->nrefs, have = 0;
            bool ordered = c->type == SG_CORR_TEMPORAL_ORDERED;
            uint64_t got = 0; /* bit per base (≤ 64 bases) */
            size_t last = i;
            for (size_t a = i; a < j && have < need; a++) {
                uint32_t b2 = v[a].base;
                if (b2 >= 64 || (got >> b2) & 1u)
                    continue;
                if (ordered && b2 != have)
                    continue;
                got |= 1ull << b2;
                have++;
                last = a;
            }
            /* an ordered sequence starts with the first rule: a window opened by
             * another rule's event is found again, longer, from the next first one */
            hit = have == need && (!ordered || v[i].base == 0);
            if (hit)
                used = last - i + 1;
            count = have;
            hit = hit && cond_ok(c, count);
        }
        if (hit) {
            emit(rs, r, v + i, used, count, v[i].group, v[i].glen, fn, ud);
            alerts++;
            i += used; /* windows of one alert do not overlap */
        } else {
            i++;
        }
    }
    return alerts;
}

size_t ig_corr_run(ig_corr *cr, ig_corr_alert_fn fn, void *ud)
{
    const ig_rules *rs = cr->rs;
    size_t alerts = 0;
    cand *v = ig_malloc(sizeof(*v) * (cr->n ? cr->n : 1));
    ig_arena a;
    ig_arena_init(&a, 0);
    if (v == NULL)
        return 0;
    for (uint32_t ri = 0; ri < rs->n; ri++) {
        const em_rule *r = &rs->rules[ri];
        const em_corr *c = r->corr;
        if (c == NULL || c->bases == NULL)
            continue;
        size_t n = 0;
        ig_arena_reset(&a);
        for (size_t i = 0; i < cr->n; i++) {
            const cm_match *m = &cr->m[i];
            for (uint32_t k = 0; k < c->nrefs; k++) {
                if (c->bases[k] != m->rule)
                    continue;
                /* group key: every group-by field must be present */
                ig_buf g;
                ig_buf_init(&g, 1u << 16);
                bool ok = true;
                for (uint32_t gi = 0; gi < c->ngroup && ok; gi++) {
                    uint32_t len = 0;
                    const char *val = val_of(m, c->gfield[k * c->ngroup + gi], &len);
                    ok = val != NULL;
                    if (ok)
                        ok = (gi == 0 || ig_buf_lit(&g, ", ")) &&
                             ig_buf_puts(&g, c->group_by[gi]) && ig_buf_putc(&g, '=') &&
                             ig_buf_put(&g, val, len);
                }
                if (ok) {
                    char *gs = g.len ? ig_arena_dup(&a, g.data, g.len) : "";
                    if (gs != NULL)
                        v[n++] = (cand){m, k, gs, (uint32_t)g.len};
                }
                ig_buf_free(&g);
                break;
            }
        }
        qsort(v, n, sizeof(*v), by_group_time);
        n = drop_repeats(v, n);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && v[j].glen == v[i].glen &&
                   memcmp(v[j].group, v[i].group, v[i].glen) == 0)
                j++;
            alerts += c->type == SG_CORR_ABSENT ? eval_absent(rs, r, v + i, j - i, fn, ud)
                                                : eval_group(rs, r, v + i, j - i, fn, ud);
            i = j;
        }
    }
    ig_arena_destroy(&a);
    ig_free(v);
    return alerts;
}

/* ---- resolution ------------------------------------------------------------- */

uint32_t cm_find_rule(const em_rule *rules, uint32_t n, const char *ref)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(rules[i].info.id, ref) == 0 ||
            (rules[i].name != NULL && strcmp(rules[i].name, ref) == 0))
            return i;
    return UINT32_MAX;
}

/* The field a correlation reads for `name` on its k-th rule (aliases map a
 * shared name to each rule's own field). */
static const char *field_for(const em_corr *c, const char *name, uint32_t k)
{
    for (uint32_t a = 0; a < c->naliases; a++) {
        if (strcmp(c->aliases[a].name, name) != 0)
            continue;
        for (uint32_t m = 0; m < c->aliases[a].nmaps; m++)
            if (strcmp(c->aliases[a].maps[m].rule, c->refs[k]) == 0)
                return c->aliases[a].maps[m].field;
    }
    return name;
}

static bool keep_field(ig_rules *rs, em_rule *base, uint32_t fid)
{
    for (uint32_t i = 0; i < base->nrfields; i++)
        if (base->rfields[i] == fid)
            return true;
    if (base->nrfields >= CM_MAX_FIELDS)
        return false;
    uint32_t *v = ig_arena_alloc(&rs->arena, sizeof(*v) * (base->nrfields + 1));
    if (v == NULL)
        return false;
    if (base->nrfields)
        memcpy(v, base->rfields, sizeof(*v) * base->nrfields);
    v[base->nrfields] = fid;
    base->rfields = v;
    base->nrfields++;
    return true;
}

bool cm_resolve(ig_rules *rs, cm_err_fn err, void *ud)
{
    /* bases are suppressed unless a correlation that refers to them says
     * generate: true */
    for (uint32_t ri = 0; ri < rs->n; ri++) {
        em_rule *r = &rs->rules[ri];
        em_corr *c = (em_corr *)r->corr;
        if (c == NULL)
            continue;
        uint32_t *bases = ig_arena_alloc(&rs->arena, sizeof(*bases) * c->nrefs);
        size_t ng = (size_t)c->nrefs * c->ngroup;
        uint32_t *gf = ig_arena_alloc(&rs->arena, sizeof(*gf) * (ng ? ng : 1));
        uint32_t *vf = ig_arena_alloc(&rs->arena, sizeof(*vf) * c->nrefs);
        if (bases == NULL || gf == NULL || vf == NULL)
            return false;
        const char *why = NULL;
        for (uint32_t k = 0; k < c->nrefs && why == NULL; k++) {
            bases[k] = cm_find_rule(rs->rules, rs->n, c->refs[k]);
            if (bases[k] == UINT32_MAX)
                why = "correlation refers to a rule that is not loaded";
            else if (rs->rules[bases[k]].corr != NULL)
                why = "correlation of correlations is not supported";
        }
        if (c->nrefs > 64 && why == NULL)
            why = "correlation refers to more than 64 rules";
        for (uint32_t k = 0; k < c->nrefs && why == NULL; k++) {
            em_rule *base = &rs->rules[bases[k]];
            for (uint32_t g = 0; g < c->ngroup && why == NULL; g++) {
                const char *f = field_for(c, c->group_by[g], k);
                gf[k * c->ngroup + g] = em_names_intern(&rs->names, &rs->arena, f, strlen(f));
                if (gf[k * c->ngroup + g] == EV_NO_ID ||
                    !keep_field(rs, base, gf[k * c->ngroup + g]))
                    why = "correlation: too many group-by fields";
            }
            vf[k] = EV_NO_ID;
            if (c->type == SG_CORR_VALUE_COUNT && why == NULL) {
                const char *f = field_for(c, c->field, k);
                vf[k] = em_names_intern(&rs->names, &rs->arena, f, strlen(f));
                if (vf[k] == EV_NO_ID || !keep_field(rs, base, vf[k]))
                    why = "correlation: too many fields";
            }
        }
        if (why != NULL) {
            if (err != NULL)
                err(ud, r->info.file, r->info.line, why);
            c->bases = NULL; /* inactive */
            continue;
        }
        c->bases = bases;
        c->gfield = gf;
        c->vfield_of = vf;
        /* absent reports the first rule's events, it does not consume them:
         * generate governs only the rules whose events must be missing */
        for (uint32_t k = 0; k < c->nrefs; k++) {
            em_rule *base = &rs->rules[bases[k]];
            base->recorded = true;
            if (k == 0 && c->type == SG_CORR_ABSENT)
                continue;
            if (!base->generate_seen) {
                base->generate_seen = true;
                base->suppress = !c->generate;
            } else if (c->generate) {
                base->suppress = false;
            }
        }
    }
    return true;
}
