/* Triggers: per rule, a set of literals one of which must hold for it to
 * match (from its condition: AND keeps the set expected in fewer events,
 * OR joins them, NOT and non-literal patterns leave the rule without one).  A rule
 * with triggers is only evaluated for events where one of them was found
 * by the prefilter; the others are evaluated for every event of their
 * channels. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "engine/prefilter.h"

/* A set of literals at least one of which must hold for a condition to be
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

/* How often a set's literals can be expected in events, roughly: an
 * equals of a short number (an event id, a logon type, a flag) holds in
 * many events of a channel, a short literal in more than a long one. */
static uint32_t pset_weight(const pf_table *t, pset p)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < p.n; i++) {
        const pf_pat *q = &t->pats[p.v[i]];
        bool number = q->op == EM_EQ && q->len <= 5;
        for (uint32_t k = 0; number && k < q->len; k++)
            number = q->s[k] >= '0' && q->s[k] <= '9';
        w += number ? 16u : q->len < 6 ? 4u : 1u;
    }
    return w;
}

/* The better of two alternatives that are both necessary (AND): the one
 * whose literals are expected in fewer events. */
static pset pset_pick(const pf_table *t, pset a, pset b)
{
    if (a.any)
        return b;
    if (b.any || pset_weight(t, a) <= pset_weight(t, b)) {
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

static pset req_search(const pf_table *t, const em_search *s)
{
    pset acc = {NULL, 0, false};
    if (s->nmaps == 0)
        return unconstrained();
    for (uint32_t m = 0; m < s->nmaps; m++) {
        pset best = unconstrained();
        for (uint32_t i = 0; i < s->maps[m].nitems; i++)
            best = pset_pick(t, best, req_item(&s->maps[m].items[i]));
        acc = pset_union(acc, best);
        if (acc.any)
            return acc;
    }
    return acc;
}

static pset req_cond(const pf_table *t, const em_rule *r, const em_cond *c)
{
    switch (c->kind) {
    case EM_C_SEARCH: return req_search(t, &r->searches[c->search]);
    case EM_C_AND: return pset_pick(t, req_cond(t, r, c->a), req_cond(t, r, c->b));
    case EM_C_OR: return pset_union(req_cond(t, r, c->a), req_cond(t, r, c->b));
    case EM_C_ANY: {
        pset acc = {NULL, 0, false};
        for (uint32_t i = 0; i < c->nset && !acc.any; i++)
            acc = pset_union(acc, req_search(t, &r->searches[c->set[i]]));
        return acc;
    }
    case EM_C_ALL: {
        pset best = unconstrained();
        for (uint32_t i = 0; i < c->nset; i++)
            best = pset_pick(t, best, req_search(t, &r->searches[c->set[i]]));
        return best;
    }
    default: return unconstrained();
    }
}

bool pf_triggers(ig_rules *rs)
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
            acc = pset_union(acc, req_cond(t, er, er->conds[i]));
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
