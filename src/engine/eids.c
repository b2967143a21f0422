/* The EventIDs a rule's detection needs (em_rule_eids): from its
 * condition, like its triggers (triggers.c) — AND keeps the ids both sides
 * allow, OR joins them, NOT and items on other fields allow any.  An item
 * on EventID allows ids only when each of its values is an equality with a
 * decimal number (`EventID: 4624`, lists of them); anything else (modifiers,
 * wildcards, negations) allows any id. */
#include <string.h>

#include "engine/engine.h"

#define EIDS_MAX 32u /* more ids than that: taken as any */

typedef struct eset {
    bool any;
    uint32_t n;
    uint16_t v[EIDS_MAX]; /* ascending */
} eset;

static eset eset_any(void)
{
    eset s;
    s.any = true;
    s.n = 0;
    return s;
}

static void eset_add(eset *s, uint16_t id)
{
    if (s->any)
        return;
    uint32_t i = 0;
    while (i < s->n && s->v[i] < id)
        i++;
    if (i < s->n && s->v[i] == id)
        return;
    if (s->n == EIDS_MAX) {
        *s = eset_any();
        return;
    }
    memmove(&s->v[i + 1], &s->v[i], sizeof(s->v[0]) * (s->n - i));
    s->v[i] = id;
    s->n++;
}

static eset eset_union(eset a, const eset *b)
{
    if (a.any || b->any)
        return eset_any();
    for (uint32_t i = 0; i < b->n && !a.any; i++)
        eset_add(&a, b->v[i]);
    return a;
}

/* Both needed: the ids in both.  None in both: the rule cannot match on
 * EventID alone, but is left to its evaluation (any). */
static eset eset_both(eset a, const eset *b)
{
    if (a.any)
        return *b;
    if (b->any)
        return a;
    eset r = {false, 0, {0}};
    for (uint32_t i = 0, k = 0; i < a.n && k < b->n;) {
        if (a.v[i] < b->v[k])
            i++;
        else if (a.v[i] > b->v[k])
            k++;
        else
            r.v[r.n++] = a.v[i], i++, k++;
    }
    return r.n ? r : eset_any();
}

/* A decimal EventID (1-5 digits, at most 65535). */
static bool eid_value(const em_pat *p, uint16_t *out)
{
    if (p->op != EM_EQ || p->neg || p->len == 0 || p->len > 5)
        return false;
    uint32_t v = 0;
    for (uint32_t i = 0; i < p->len; i++) {
        if (p->s[i] < '0' || p->s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(p->s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

static eset item_eids(const em_item *it, uint32_t f_eventid)
{
    if (it->field != f_eventid || it->npats == 0 || it->all)
        return eset_any();
    eset s = {false, 0, {0}};
    for (uint32_t k = 0; k < it->npats && !s.any; k++) {
        uint16_t id;
        if (!eid_value(&it->pats[k], &id))
            return eset_any();
        eset_add(&s, id);
    }
    return s;
}

static eset search_eids(const em_search *s, uint32_t f_eventid)
{
    if (s->nmaps == 0)
        return eset_any();
    eset acc = {false, 0, {0}};
    for (uint32_t m = 0; m < s->nmaps && !acc.any; m++) {
        eset map = eset_any();
        for (uint32_t i = 0; i < s->maps[m].nitems; i++) {
            eset it = item_eids(&s->maps[m].items[i], f_eventid);
            map = eset_both(map, &it);
        }
        acc = eset_union(acc, &map);
    }
    return acc;
}

static eset cond_eids(const em_rule *r, const em_cond *c, uint32_t f_eventid)
{
    switch (c->kind) {
    case EM_C_SEARCH: return search_eids(&r->searches[c->search], f_eventid);
    case EM_C_AND: {
        eset b = cond_eids(r, c->b, f_eventid);
        return eset_both(cond_eids(r, c->a, f_eventid), &b);
    }
    case EM_C_OR: {
        eset b = cond_eids(r, c->b, f_eventid);
        return eset_union(cond_eids(r, c->a, f_eventid), &b);
    }
    case EM_C_ANY: {
        eset acc = {false, 0, {0}};
        for (uint32_t i = 0; i < c->nset && !acc.any; i++) {
            eset s = search_eids(&r->searches[c->set[i]], f_eventid);
            acc = eset_union(acc, &s);
        }
        return c->nset ? acc : eset_any();
    }
    case EM_C_ALL: {
        eset acc = eset_any();
        for (uint32_t i = 0; i < c->nset; i++) {
            eset s = search_eids(&r->searches[c->set[i]], f_eventid);
            acc = eset_both(acc, &s);
        }
        return acc;
    }
    default: return eset_any();
    }
}

bool em_rule_eids(em_rule *r, uint32_t f_eventid, ig_arena *a)
{
    r->deids = NULL;
    r->ndeids = 0;
    if (r->corr != NULL || r->nconds == 0)
        return true;
    eset acc = {false, 0, {0}};
    for (uint32_t i = 0; i < r->nconds && !acc.any; i++) {
        eset c = cond_eids(r, r->conds[i], f_eventid);
        acc = eset_union(acc, &c);
    }
    if (acc.any || acc.n == 0)
        return true;
    uint16_t *v = ig_arena_dup(a, acc.v, sizeof(acc.v[0]) * acc.n);
    if (v == NULL)
        return false;
    r->deids = v;
    r->ndeids = acc.n;
    return true;
}
