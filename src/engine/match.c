#define _GNU_SOURCE /* memmem */
/* Evaluating compiled rules against one event.  Searches are evaluated at
 * most once per rule and event (memoised for `1 of`/`all of` and repeated
 * identifiers); field text is decoded and lower-cased at most once per
 * event (src/event). */
#include "engine/match.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ascii.h"
#include "core/civil.h"
#include "core/limits.h"
#include "core/timefmt.h"
#include "engine/value_parse.h"

bool em_state_init(em_state *st, const ig_rules *rs)
{
    memset(st, 0, sizeof(*st));
    st->rs = rs;
    ig_buf_init(&st->joined, (size_t)1 << 30); /* an event's values are far smaller */
    st->seen = ig_calloc(rs->pf.npats ? rs->pf.npats : 1, sizeof(*st->seen));
    st->fscan = ig_calloc(rs->pf.nfields ? rs->pf.nfields : 1, sizeof(*st->fscan));
    st->hits = ig_calloc(rs->pf.npats ? rs->pf.npats : 1, sizeof(*st->hits));
    st->rule_epoch = ig_calloc(rs->n ? rs->n : 1, sizeof(*st->rule_epoch));
    st->trules = ig_calloc(rs->n ? rs->n : 1, sizeof(*st->trules));
    if (st->seen == NULL || st->fscan == NULL || st->hits == NULL || st->rule_epoch == NULL ||
        st->trules == NULL) {
        em_state_free(st);
        return false;
    }
    st->mctx = pcre2_match_context_create(NULL);
    st->md = pcre2_match_data_create(1, NULL);
    st->jit = pcre2_jit_stack_create(32 * 1024, IG_RE_JIT_STACK, NULL);
    if (st->mctx == NULL || st->md == NULL || st->jit == NULL) {
        em_state_free(st);
        return false;
    }
    pcre2_set_match_limit(st->mctx, IG_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(st->mctx, IG_RE_DEPTH_LIMIT);
    pcre2_jit_stack_assign(st->mctx, NULL, st->jit);
    return true;
}

void em_state_free(em_state *st)
{
    pcre2_match_data_free(st->md);
    pcre2_match_context_free(st->mctx);
    pcre2_jit_stack_free(st->jit);
    ig_free(st->memo);
    ig_free(st->seen);
    ig_free(st->fscan);
    ig_free(st->hits);
    ig_free(st->rule_epoch);
    ig_free(st->trules);
    ig_buf_free(&st->joined);
    memset(st, 0, sizeof(*st));
}

void em_state_next_event(em_state *st)
{
    if (++st->epoch == 0) { /* wrapped: clear once */
        memset(st->seen, 0, sizeof(*st->seen) * (st->rs->pf.npats ? st->rs->pf.npats : 1));
        memset(st->fscan, 0, sizeof(*st->fscan) * (st->rs->pf.nfields ? st->rs->pf.nfields : 1));
        memset(st->rule_epoch, 0, sizeof(*st->rule_epoch) * (st->rs->n ? st->rs->n : 1));
        st->joined_epoch = 0;
        st->epoch = 1;
    }
    st->nhits = 0;
    st->ntrules = 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void qsort_u32(uint32_t *v, uint32_t n)
{
    qsort(v, n, sizeof(*v), cmp_u32);
}

static void sort_u32(uint32_t *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) { /* few: insertion sort */
        uint32_t x = v[i], j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* The event's values of `min` bytes or more, lower-cased, joined by NUL
 * bytes into st->joined (once per event, again for a smaller `min`).
 * False when out of memory. */
static bool join_values(em_state *st, ig_event *ev, uint32_t min)
{
    ig_buf *j = &st->joined;
    if (st->joined_epoch == st->epoch && st->joined_min <= min)
        return !j->failed;
    ig_buf_reset(j);
    st->joined_epoch = st->epoch;
    st->joined_min = min;
    for (uint32_t fi = 0; fi < ev->n; fi++) {
        ig_strv v;
        if (!ev_text(ev, fi, &v) || v.len < min)
            continue; /* too short to hold a literal */
        if (v.len + 1 > j->cap - j->len && ig_buf_reserve(j, v.len + 1) != IG_OK)
            return false;
        const ev_field *f = &ev->f[fi];
        if (f->lowered)
            memcpy(j->data + j->len, f->lstr, v.len);
        else
            ig_lower_copy((char *)j->data + j->len, v.p, v.len);
        j->len += v.len;
        j->data[j->len++] = '\0';
    }
    return true;
}

/* Scans every value of `ev` for the literals of keyword field `kf` (those
 * found recorded in st->hits when `record`): joined when the field's
 * literals are all contains and hold no NUL (none can then be found across
 * two values; values shorter than `min`, at most the shortest literal, are
 * left out), else value by value. */
static void scan_keywords(em_state *st, ig_event *ev, uint32_t kf, uint32_t min, bool record)
{
    const pf_table *t = &st->rs->pf;
    uint32_t *hits = record ? st->hits : NULL, *nhits = record ? &st->nhits : NULL;
    if (t->joinable[kf] && join_values(st, ev, min)) {
        pf_scan(t, kf, (const char *)st->joined.data, st->joined.len, st->seen, st->epoch, hits,
                nhits);
    } else {
        ig_strv v;
        for (uint32_t fi = 0; fi < ev->n; fi++)
            if (ev_lower(ev, fi, &v))
                pf_scan(t, kf, v.p, v.len, st->seen, st->epoch, hits, nhits);
    }
    st->fscan[kf] = st->epoch;
}

void em_prefilter_event(em_state *st, ig_event *ev, const bool *fields)
{
    const pf_table *t = &st->rs->pf;
    if (t->npats == 0)
        return;
    ig_strv v;
    for (uint32_t fi = 0; fi < ev->n; fi++) {
        uint32_t id = ev->f[fi].id;
        if (id == EV_NO_ID || id >= t->nfields || !fields[id] || st->fscan[id] == st->epoch)
            continue;
        if (ev_index(ev, id) != fi)
            continue; /* from its first occurrence, every occurrence */
        for (uint32_t k = fi; k != UINT32_MAX; k = ev->f[k].next_same)
            if (ev_lower(ev, k, &v))
                pf_scan(t, id, v.p, v.len, st->seen, st->epoch, st->hits, &st->nhits);
        st->fscan[id] = st->epoch;
    }
    /* keywords: every value long enough for some keyword field's literals */
    uint32_t min = UINT32_MAX;
    for (uint32_t kf = t->nnamed; kf < t->nfields; kf++)
        if (fields[kf] && st->fscan[kf] != st->epoch && t->minlen[kf] < min)
            min = t->minlen[kf];
    for (uint32_t kf = t->nnamed; kf < t->nfields; kf++)
        if (fields[kf] && st->fscan[kf] != st->epoch)
            scan_keywords(st, ev, kf, min, true);
    for (uint32_t h = 0; h < st->nhits; h++) {
        uint32_t pid = st->hits[h];
        for (uint32_t k = t->tfirst[pid]; k < t->tfirst[pid + 1]; k++) {
            uint32_t r = t->trig[k];
            if (st->rule_epoch[r] != st->epoch) {
                st->rule_epoch[r] = st->epoch;
                st->trules[st->ntrules++] = r;
            }
        }
    }
    if (st->ntrules > 64)
        qsort_u32(st->trules, st->ntrules);
    else
        sort_u32(st->trules, st->ntrules);
}

/* Wildcard match: `*` any run, `?` one UTF-8 character, `\` escapes. */
static bool glob_match(const char *p, size_t plen, const char *v, size_t vlen)
{
    size_t pi = 0, vi = 0, star_p = SIZE_MAX, star_v = 0;
    while (vi < vlen) {
        if (pi < plen && p[pi] == '*') {
            star_p = pi++;
            star_v = vi;
            continue;
        }
        if (pi < plen) {
            if (p[pi] == '?') {
                vi++;
                while (vi < vlen && ((unsigned char)v[vi] & 0xC0) == 0x80)
                    vi++;
                pi++;
                continue;
            }
            size_t lit = pi;
            if (p[pi] == '\\' && pi + 1 < plen)
                lit = pi + 1;
            if (p[lit] == v[vi]) {
                pi = lit + 1;
                vi++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p + 1;
        vi = ++star_v;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

static bool match_text(const em_pat *p, ig_strv v)
{
    switch (p->op) {
    case EM_EQ: return v.len == p->len && memcmp(v.p, p->s, p->len) == 0;
    case EM_CONTAINS:
        return p->len == 0 || (v.len >= p->len && memmem(v.p, v.len, p->s, p->len) != NULL);
    case EM_STARTS: return v.len >= p->len && memcmp(v.p, p->s, p->len) == 0;
    case EM_ENDS: return v.len >= p->len && memcmp(v.p + v.len - p->len, p->s, p->len) == 0;
    case EM_GLOB: return glob_match(p->s, p->len, v.p, v.len);
    default: return false;
    }
}

static bool cidr_match(const em_pat *p, ig_strv v)
{
    uint8_t a[16], fam;
    if (!vp_parse_ip(v.p, v.len, a, &fam) || fam != p->family)
        return false;
    unsigned full = p->bits / 8u, rest = p->bits % 8u;
    if (memcmp(a, p->net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (a[full] & mask) == (p->net[full] & mask);
}

/* Part `part` (em_part) of date value v (ISO 8601, as ig_parse_time reads
 * it; UTC when it has no offset); false when v is not a date. */
static bool time_part(ig_strv v, uint8_t part, double *out)
{
    uint64_t ft;
    if (!ig_parse_time(v.p, v.len, &ft))
        return false;
    uint64_t secs = ft / 10000000u;
    int64_t days = (int64_t)(secs / 86400u) - IG_DAYS_1601_TO_1970; /* since 1970-01-01 */
    unsigned sod = (unsigned)(secs % 86400u), m, d;
    int64_t y;
    ig_civil_from_days(days, &y, &m, &d);
    switch (part) {
    case EM_PART_MINUTE: *out = sod / 60 % 60; return true;
    case EM_PART_HOUR: *out = sod / 3600; return true;
    case EM_PART_DAY: *out = d; return true;
    case EM_PART_MONTH: *out = m; return true;
    case EM_PART_YEAR: *out = (double)y; return true;
    default: break;
    }
    /* ISO 8601 week: the week (Monday first) that holds the Thursday of
     * v's week, counted in that Thursday's year */
    int64_t wd = ((days % 7) + 7 + 3) % 7; /* 0 = Monday (1970-01-01 was a Thursday) */
    int64_t thu = days - wd + 3, ty;
    unsigned tm, td;
    ig_civil_from_days(thu, &ty, &tm, &td);
    int64_t jan1 = ig_days_from_civil(ty, 1, 1);
    *out = (double)((thu - jan1) / 7 + 1);
    return true;
}

/* Has literal `pid` of field `fid` (present, first at index `fi`) been
 * seen in the event?  Scans the field's text for literals if not done yet. */
static bool seen_lit(em_state *st, ig_event *ev, uint32_t pid, uint32_t fi, uint32_t fid)
{
    if (st->fscan[fid] != st->epoch) {
        ig_strv v;
        for (uint32_t k = fi; k != UINT32_MAX; k = ev->f[k].next_same)
            if (ev_lower(ev, k, &v))
                pf_scan(&st->rs->pf, fid, v.p, v.len, st->seen, st->epoch, NULL, NULL);
        st->fscan[fid] = st->epoch;
    }
    return st->seen[pid] == st->epoch;
}

/* Does v hold byte c `n` times or more? */
static bool holds_times(ig_strv v, char c, uint32_t n)
{
    const char *p = v.p, *end = v.p + v.len;
    while (n > 0 && p < end && (p = memchr(p, c, (size_t)(end - p))) != NULL) {
        p++;
        n--;
    }
    return n == 0;
}

/* One pattern against the field at index `fi` (UINT32_MAX: absent) whose
 * interned id is `fid`. */
static bool pat_match(em_state *st, ig_event *ev, const em_pat *p, uint32_t fi, uint32_t fid)
{
    ig_strv v;
    if (p->pid != UINT32_MAX)
        return fi != UINT32_MAX && seen_lit(st, ev, p->pid, fi, fid); /* fi: the first */
    switch (p->op) {
    case EM_EXISTS: return (fi != UINT32_MAX) != p->neg;
    case EM_NULL: return fi == UINT32_MAX || (ev_text(ev, fi, &v) && v.len == 0);
    default: break;
    }
    if (fi == UINT32_MAX)
        return false;
    switch (p->op) {
    case EM_LT:
    case EM_LTE:
    case EM_GT:
    case EM_GTE:
    case EM_NUMEQ: {
        double d;
        if (!ev_text(ev, fi, &v) ||
            !(p->part ? time_part(v, p->part, &d) : vp_parse_number(v.p, v.len, &d)))
            return false;
        return p->op == EM_LT    ? d < p->num
               : p->op == EM_LTE ? d <= p->num
               : p->op == EM_GT  ? d > p->num
               : p->op == EM_GTE ? d >= p->num
                                 : d == p->num;
    }
    case EM_CIDR: return ev_text(ev, fi, &v) && cidr_match(p, v);
    case EM_FIELDREF: {
        uint32_t ri = ev_index(ev, p->ref);
        ig_strv w;
        if (ri == UINT32_MAX)
            return false;
        bool ok = p->cased ? ev_text(ev, fi, &v) && ev_text(ev, ri, &w)
                           : ev_lower(ev, fi, &v) && ev_lower(ev, ri, &w);
        return ok && v.len == w.len && memcmp(v.p, w.p, v.len) == 0;
    }
    case EM_RE: {
        if (p->req != UINT32_MAX && !seen_lit(st, ev, p->req, ev_index(ev, fid), fid))
            return false; /* without a literal every match holds */
        if (p->rcount > 1 && !(ev_lower(ev, fi, &v) && holds_times(v, p->rc, p->rcount)))
            return false; /* without as many of a character as every match holds */
        if (!ev_text(ev, fi, &v))
            return false;
        int rc = pcre2_match(p->re, (PCRE2_SPTR)v.p, v.len, 0, 0, st->md, st->mctx);
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
            rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
            st->re_limit_hits++;
        return rc >= 0;
    }
    default:
        if (p->req != UINT32_MAX && !seen_lit(st, ev, p->req, ev_index(ev, fid), fid))
            return false; /* a wildcard pattern without its longest literal piece */
        if (p->cased ? !ev_text(ev, fi, &v) : !ev_lower(ev, fi, &v))
            return false;
        return match_text(p, v);
    }
}

static bool item_match(em_state *st, ig_event *ev, const em_item *it)
{
    if (it->field == EV_NO_ID) {
        /* keywords: a pattern matches when any field's value does; the
         * literals are found by one prefilter pass over every field */
        if (st->fscan[it->kf] != st->epoch)
            scan_keywords(st, ev, it->kf, st->rs->pf.minlen[it->kf], false);
        for (uint32_t k = 0; k < it->npats; k++) {
            bool hit = false;
            if (it->pats[k].pid != UINT32_MAX)
                hit = st->seen[it->pats[k].pid] == st->epoch;
            else
                for (uint32_t fi = 0; fi < ev->n && !hit; fi++)
                    hit = pat_match(st, ev, &it->pats[k], fi, EV_NO_ID);
            if (it->pats[k].neg)
                hit = !hit;
            if (it->all && !hit)
                return false;
            if (!it->all && hit)
                return true;
        }
        return it->all;
    }
    uint32_t fi = ev_index(ev, it->field);
    for (uint32_t k = 0; k < it->npats; k++) {
        const em_pat *p = &it->pats[k];
        bool hit = pat_match(st, ev, p, fi, it->field);
        /* a repeated field: any occurrence (prefiltered literals already
         * looked at all of them; presence tests are about the field) */
        if (!hit && p->pid == UINT32_MAX && p->op != EM_EXISTS && p->op != EM_NULL &&
            fi != UINT32_MAX)
            for (uint32_t o = ev->f[fi].next_same; o != UINT32_MAX && !hit; o = ev->f[o].next_same)
                hit = pat_match(st, ev, p, o, it->field);
        if (p->neg && p->op != EM_EXISTS)
            hit = !hit;
        if (it->all && !hit)
            return false;
        if (!it->all && hit)
            return true;
    }
    return it->all && it->npats > 0;
}

static bool search_match(em_state *st, ig_event *ev, const em_search *s)
{
    for (uint32_t m = 0; m < s->nmaps; m++) {
        const em_map *map = &s->maps[m];
        bool all = true;
        for (uint32_t i = 0; i < map->nitems && all; i++)
            all = item_match(st, ev, &map->items[i]);
        if (all)
            return true;
    }
    return false;
}

static bool search_cached(em_state *st, ig_event *ev, const em_rule *r, uint32_t i)
{
    if (st->memo[i] == 0)
        st->memo[i] = search_match(st, ev, &r->searches[i]) ? 2 : 1;
    return st->memo[i] == 2;
}

static bool cond_eval(em_state *st, ig_event *ev, const em_rule *r, const em_cond *c)
{
    switch (c->kind) {
    case EM_C_SEARCH: return search_cached(st, ev, r, c->search);
    case EM_C_AND: return cond_eval(st, ev, r, c->a) && cond_eval(st, ev, r, c->b);
    case EM_C_OR: return cond_eval(st, ev, r, c->a) || cond_eval(st, ev, r, c->b);
    case EM_C_NOT: return !cond_eval(st, ev, r, c->a);
    case EM_C_ANY:
        for (uint32_t i = 0; i < c->nset; i++)
            if (search_cached(st, ev, r, c->set[i]))
                return true;
        return false;
    case EM_C_ALL:
        for (uint32_t i = 0; i < c->nset; i++)
            if (!search_cached(st, ev, r, c->set[i]))
                return false;
        return true;
    default: return false;
    }
}

bool em_match_rule(em_state *st, const em_rule *r, ig_event *ev)
{
    if (r->nsearches > st->memo_cap) {
        uint8_t *m = ig_realloc(st->memo, r->nsearches);
        if (m == NULL)
            return false;
        st->memo = m;
        st->memo_cap = r->nsearches;
    }
    memset(st->memo, 0, r->nsearches);
    for (uint32_t i = 0; i < r->nconds; i++)
        if (cond_eval(st, ev, r, r->conds[i]))
            return true;
    return false;
}
