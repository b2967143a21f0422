/* Loaded Sigma rules (sigma_ast.h) → matchers (engine.h).
 *
 * Modifiers are one table (modifiers[] below): a name, where it may stand and
 * what it does to the item being compiled; transformations (windash, utf16,
 * base64) rewrite values in the order written, then the last comparison
 * modifier decides the operation.  Values are lower-cased once here unless
 * `cased` (matching is ASCII case-insensitive by default, as in Sigma). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "engine/engine.h"
#include "engine/value_parse.h"

/* ---- modifiers ---------------------------------------------------------- */

enum {
    M_CONTAINS = 1u << 0,
    M_STARTS = 1u << 1,
    M_ENDS = 1u << 2,
    M_ALL = 1u << 3,
    M_RE = 1u << 4,
    M_RE_I = 1u << 5,
    M_RE_M = 1u << 6,
    M_RE_S = 1u << 7,
    M_CIDR = 1u << 8,
    M_EXISTS = 1u << 9,
    M_FIELDREF = 1u << 10,
    M_LT = 1u << 11,
    M_LTE = 1u << 12,
    M_GT = 1u << 13,
    M_GTE = 1u << 14,
    M_NEQ = 1u << 15,
    M_CASED = 1u << 16,
    M_EXPAND = 1u << 17
};

typedef enum { T_NONE, T_WINDASH, T_BASE64, T_BASE64OFF, T_UTF16LE, T_UTF16BE, T_UTF16 } xform;

typedef struct modifier {
    const char *name;
    uint32_t flag;
    xform x;
    uint8_t part; /* em_part: a time modifier */
} modifier;

static const modifier modifiers[] = {
    {"contains", M_CONTAINS, T_NONE, EM_PART_NONE},
    {"startswith", M_STARTS, T_NONE, EM_PART_NONE},
    {"endswith", M_ENDS, T_NONE, EM_PART_NONE},
    {"all", M_ALL, T_NONE, EM_PART_NONE},
    {"re", M_RE, T_NONE, EM_PART_NONE},
    {"i", M_RE_I, T_NONE, EM_PART_NONE},
    {"m", M_RE_M, T_NONE, EM_PART_NONE},
    {"s", M_RE_S, T_NONE, EM_PART_NONE},
    {"cidr", M_CIDR, T_NONE, EM_PART_NONE},
    {"exists", M_EXISTS, T_NONE, EM_PART_NONE},
    {"fieldref", M_FIELDREF, T_NONE, EM_PART_NONE},
    {"lt", M_LT, T_NONE, EM_PART_NONE},
    {"lte", M_LTE, T_NONE, EM_PART_NONE},
    {"gt", M_GT, T_NONE, EM_PART_NONE},
    {"gte", M_GTE, T_NONE, EM_PART_NONE},
    {"neq", M_NEQ, T_NONE, EM_PART_NONE},
    {"cased", M_CASED, T_NONE, EM_PART_NONE},
    {"expand", M_EXPAND, T_NONE, EM_PART_NONE},
    {"windash", 0, T_WINDASH, EM_PART_NONE},
    {"base64", 0, T_BASE64, EM_PART_NONE},
    {"base64offset", 0, T_BASE64OFF, EM_PART_NONE},
    {"utf16le", 0, T_UTF16LE, EM_PART_NONE},
    {"wide", 0, T_UTF16LE, EM_PART_NONE},
    {"utf16be", 0, T_UTF16BE, EM_PART_NONE},
    {"utf16", 0, T_UTF16, EM_PART_NONE},
    {"minute", 0, T_NONE, EM_PART_MINUTE},
    {"hour", 0, T_NONE, EM_PART_HOUR},
    {"day", 0, T_NONE, EM_PART_DAY},
    {"week", 0, T_NONE, EM_PART_WEEK},
    {"month", 0, T_NONE, EM_PART_MONTH},
    {"year", 0, T_NONE, EM_PART_YEAR},
};

#define NMOD (sizeof(modifiers) / sizeof(modifiers[0]))

static const modifier *find_modifier(const char *name)
{
    for (size_t i = 0; i < NMOD; i++)
        if (strcmp(modifiers[i].name, name) == 0)
            return &modifiers[i];
    return NULL;
}

/* ---- compile context ---------------------------------------------------- */

typedef struct cc {
    ig_rules *rs;
    ig_arena *a;
    const char *why;
    char whybuf[256];
    /* the values of the item being compiled, as byte strings */
    vp_list vals;
    /* fields the rule reads (for alerts) */
    uint32_t fields[64];
    uint32_t nfields;
} cc;

static void note_field(cc *c, uint32_t id)
{
    for (uint32_t i = 0; i < c->nfields; i++)
        if (c->fields[i] == id)
            return;
    if (c->nfields < sizeof(c->fields) / sizeof(c->fields[0]))
        c->fields[c->nfields++] = id;
}

static bool fail(cc *c, const char *fmt, const char *arg)
{
    snprintf(c->whybuf, sizeof(c->whybuf), fmt, arg);
    c->why = c->whybuf;
    return false;
}

static void lower_ascii(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] + 32);
}

/* A string pattern from one value (`glob`: wildcards active) under the
 * comparison flags. */
static bool string_pat(cc *c, em_pat *p, const vp_str *v, uint32_t flags)
{
    bool cased = (flags & M_CASED) || v->literal_cased;
    bool lead = (flags & (M_CONTAINS | M_ENDS)) != 0;
    bool trail = (flags & (M_CONTAINS | M_STARTS)) != 0;
    vp_glob g;
    if (!vp_glob_build(c->a, v, lead, trail, &g))
        return fail(c, "%s", "out of memory");
    p->cased = cased;
    p->op = g.op;
    p->s = g.s;
    p->len = g.len;
    if (!cased)
        lower_ascii((char *)g.s, g.len);
    return true;
}

static bool regex_pat(cc *c, em_pat *p, const sg_value *v, uint32_t flags)
{
    if (v->kind == SG_V_NULL)
        return fail(c, "%s", "re: a null value is not a regular expression");
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (flags & M_RE_I)
        opts |= PCRE2_CASELESS;
    if (flags & M_RE_M)
        opts |= PCRE2_MULTILINE;
    if (flags & M_RE_S)
        opts |= PCRE2_DOTALL;
    if (em_re_lazy_ok(v->s, v->len))
        opts |= PCRE2_UNGREEDY; /* only whether it matches is asked */
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->s, v->len, opts, &err, &off, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof(msg));
        char tmp[200];
        snprintf(tmp, sizeof(tmp), "re: %s at offset %zu", (const char *)msg, (size_t)off);
        return fail(c, "%s", tmp);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    if (!em_rules_keep_regex(c->rs, re)) {
        pcre2_code_free(re);
        return fail(c, "%s", "out of memory");
    }
    p->op = EM_RE;
    p->re = re;
    em_re_need need;
    em_re_needs(v->s, v->len, (opts & PCRE2_CASELESS) != 0, &need);
    p->len = need.len;
    p->s = p->len ? ig_arena_dup(c->a, need.lit, p->len) : NULL;
    if (p->len && p->s == NULL)
        return fail(c, "%s", "out of memory");
    p->rc = need.c;
    p->rcount = need.count;
    return true;
}

static bool number_of(const sg_value *v, double *out)
{
    if (v->kind == SG_V_INT) {
        *out = (double)v->i;
        return true;
    }
    return vp_parse_number(v->s, v->len, out);
}

/* Compiles "field|mods: values" into `it`. */
static bool compile_item(cc *c, const sg_item *si, em_item *it)
{
    uint32_t flags = 0;
    xform xs[8];
    unsigned nx = 0;
    uint8_t part = EM_PART_NONE;
    for (unsigned i = 0; i < si->nmods; i++) {
        const modifier *m = find_modifier(si->mods[i]);
        if (m == NULL)
            return fail(c, "unknown modifier '%s'", si->mods[i]);
        if (m->part != EM_PART_NONE) {
            if (part != EM_PART_NONE)
                return fail(c, "%s", "one time modifier (minute .. year) per field");
            part = m->part;
        }
        if (m->x != T_NONE) {
            if (nx == 8)
                return fail(c, "%s", "too many modifiers");
            xs[nx++] = m->x;
        }
        flags |= m->flag;
    }
    if ((flags & (M_RE_I | M_RE_M | M_RE_S)) && !(flags & M_RE))
        return fail(c, "%s", "modifiers i, m and s only go with re");
    if (flags & M_EXPAND)
        return fail(c, "%s", "expand: no value is configured for placeholders (%...%) in this run");
    if (part != EM_PART_NONE && (nx > 0 || (flags & ~(M_LT | M_LTE | M_GT | M_GTE | M_NEQ))))
        return fail(c, "%s",
                    "a time modifier (minute .. year) goes with lt, lte, gt, gte or neq only");
    it->all = (flags & M_ALL) != 0;
    /* keywords search the text of the event: anywhere in a value */
    if (si->field == NULL && !(flags & (M_STARTS | M_ENDS | M_RE)))
        flags |= M_CONTAINS;
    if (si->field == NULL) {
        it->field = EV_NO_ID;
        if ((flags & (M_EXISTS | M_FIELDREF | M_CIDR | M_LT | M_LTE | M_GT | M_GTE)) || part)
            return fail(c, "%s", "keyword searches take string modifiers only");
    } else {
        it->field = em_names_intern(&c->rs->names, c->a, si->field, strlen(si->field));
        if (it->field == EV_NO_ID)
            return fail(c, "%s", "out of memory");
        note_field(c, it->field);
    }
    /* values after transformations */
    vp_reset(&c->vals);
    for (unsigned i = 0; i < si->nvals; i++)
        if (!vp_add_value(&c->vals, c->a, &si->vals[i]))
            return fail(c, "%s", "out of memory");
    for (unsigned i = 0; i < nx; i++) {
        const char *err = vp_transform(&c->vals, c->a, (int)xs[i]);
        if (err != NULL)
            return fail(c, "%s", err);
    }
    if (c->vals.n > IG_MAX_ITEM_PATTERNS)
        return fail(c, "%s", "too many values after modifiers");
    em_pat *pats = ig_arena_alloc(c->a, sizeof(*pats) * (c->vals.n ? c->vals.n : 1));
    if (pats == NULL)
        return fail(c, "%s", "out of memory");
    memset(pats, 0, sizeof(*pats) * (c->vals.n ? c->vals.n : 1));
    for (uint32_t i = 0; i < c->vals.n; i++) {
        const vp_str *v = &c->vals.v[i];
        const sg_value *orig = v->orig;
        em_pat *p = &pats[i];
        p->neg = (flags & M_NEQ) != 0;
        p->part = part;
        if (part != EM_PART_NONE && !(flags & (M_LT | M_LTE | M_GT | M_GTE))) {
            if (orig == NULL || !number_of(orig, &p->num))
                return fail(c, "%s", "a time modifier takes a number");
            p->op = EM_NUMEQ;
        } else if (flags & M_EXISTS) {
            if (orig == NULL || orig->kind != SG_V_BOOL)
                return fail(c, "%s", "exists takes true or false");
            p->op = EM_EXISTS;
            p->neg = !orig->b;
        } else if (flags & (M_LT | M_LTE | M_GT | M_GTE)) {
            if (orig == NULL || !number_of(orig, &p->num))
                return fail(c, "%s", "gt/gte/lt/lte take a number");
            p->op = flags & M_LT ? EM_LT : flags & M_LTE ? EM_LTE : flags & M_GT ? EM_GT : EM_GTE;
        } else if (flags & M_CIDR) {
            if (!vp_parse_cidr(v->s, v->len, p->net, &p->bits, &p->family))
                return fail(c, "%s", "cidr: not an IPv4 or IPv6 network");
            p->op = EM_CIDR;
        } else if (flags & M_FIELDREF) {
            p->op = EM_FIELDREF;
            p->ref = em_names_intern(&c->rs->names, c->a, v->s, v->len);
            p->cased = (flags & M_CASED) != 0;
            if (p->ref == EV_NO_ID)
                return fail(c, "%s", "out of memory");
        } else if (flags & M_RE) {
            if (orig == NULL)
                return fail(c, "%s", "re cannot follow an encoding modifier");
            if (!regex_pat(c, p, orig, flags))
                return false;
        } else if (orig != NULL && orig->kind == SG_V_NULL) {
            p->op = EM_NULL;
        } else if (!string_pat(c, p, v, flags)) {
            return false;
        }
    }
    it->pats = pats;
    it->npats = c->vals.n;
    return true;
}

/* What testing an item costs, roughly: 0 a look at the prefilter's bits
 * or at presence, 1 a comparison, 2 a wildcard or keyword pass, 3 a regex. */
static unsigned item_cost(const em_item *it)
{
    unsigned cost = it->field == EV_NO_ID ? 2 : 0;
    for (uint32_t k = 0; k < it->npats; k++) {
        const em_pat *p = &it->pats[k];
        unsigned c = p->op == EM_RE                           ? 3
                     : p->op == EM_GLOB                       ? 2
                     : p->op == EM_NULL || p->op == EM_EXISTS ? 0
                     : p->op <= EM_ENDS && !p->cased          ? 0
                                                              : 1;
        cost = c > cost ? c : cost;
    }
    return cost;
}

/* Orders a map's items cheapest first (stable): the map is their AND, so
 * a cheap item that fails spares testing the costly ones. */
static void order_items(em_item *items, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        em_item x = items[i];
        unsigned cx = item_cost(&x), j = i;
        while (j > 0 && item_cost(&items[j - 1]) > cx) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
}

static bool compile_search(cc *c, const sg_search *s, em_search *out)
{
    out->name = s->name;
    if (s->keywords != NULL) {
        em_map *m = ig_arena_alloc(c->a, sizeof(*m));
        em_item *it = ig_arena_alloc(c->a, sizeof(*it));
        if (m == NULL || it == NULL)
            return fail(c, "%s", "out of memory");
        if (!compile_item(c, s->keywords, it))
            return false;
        m->items = it;
        m->nitems = 1;
        out->maps = m;
        out->nmaps = 1;
        return true;
    }
    em_map *maps = ig_arena_alloc(c->a, sizeof(*maps) * (s->nmaps ? s->nmaps : 1));
    if (maps == NULL)
        return fail(c, "%s", "out of memory");
    for (unsigned i = 0; i < s->nmaps; i++) {
        const sg_map *sm = &s->maps[i];
        em_item *items = ig_arena_alloc(c->a, sizeof(*items) * (sm->nitems ? sm->nitems : 1));
        if (items == NULL)
            return fail(c, "%s", "out of memory");
        for (unsigned k = 0; k < sm->nitems; k++)
            if (!compile_item(c, &sm->items[k], &items[k]))
                return false;
        order_items(items, sm->nitems);
        maps[i].items = items;
        maps[i].nitems = sm->nitems;
    }
    out->maps = maps;
    out->nmaps = s->nmaps;
    return true;
}

/* Does `name` match the `x of` pattern (a trailing or inner `*`)? */
static bool name_matches(const char *pat, const char *name)
{
    if (*pat == '\0')
        return *name == '\0';
    if (*pat == '*') {
        for (const char *p = name;; p++) {
            if (name_matches(pat + 1, p))
                return true;
            if (*p == '\0')
                return false;
        }
    }
    return *pat == *name && name_matches(pat + 1, name + 1);
}

static const em_cond *compile_cond(cc *c, const sg_rule *r, const em_rule *er, const sg_cond *sc,
                                   unsigned depth)
{
    if (sc == NULL || depth > IG_MAX_COND_DEPTH) {
        fail(c, "%s", "condition nested too deeply");
        return NULL;
    }
    em_cond *e = ig_arena_alloc(c->a, sizeof(*e));
    if (e == NULL) {
        fail(c, "%s", "out of memory");
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    switch (sc->kind) {
    case SG_C_ID:
        for (uint32_t i = 0; i < er->nsearches; i++)
            if (strcmp(er->searches[i].name, sc->name) == 0) {
                e->kind = EM_C_SEARCH;
                e->search = i;
                return e;
            }
        fail(c, "condition refers to unknown search '%s'", sc->name);
        return NULL;
    case SG_C_AND:
    case SG_C_OR:
        e->kind = sc->kind == SG_C_AND ? EM_C_AND : EM_C_OR;
        e->a = compile_cond(c, r, er, sc->a, depth + 1);
        e->b = e->a ? compile_cond(c, r, er, sc->b, depth + 1) : NULL;
        return e->b ? e : NULL;
    case SG_C_NOT:
        e->kind = EM_C_NOT;
        e->a = compile_cond(c, r, er, sc->a, depth + 1);
        return e->a ? e : NULL;
    case SG_C_ONE_OF:
    case SG_C_ALL_OF: {
        e->kind = sc->kind == SG_C_ONE_OF ? EM_C_ANY : EM_C_ALL;
        uint32_t *set = ig_arena_alloc(c->a, sizeof(*set) * (er->nsearches ? er->nsearches : 1));
        if (set == NULL) {
            fail(c, "%s", "out of memory");
            return NULL;
        }
        bool them = strcmp(sc->name, "them") == 0;
        uint32_t n = 0;
        for (uint32_t i = 0; i < er->nsearches; i++) {
            const char *nm = er->searches[i].name;
            /* "them" leaves out identifiers starting with "_" (spec) */
            if (them ? nm[0] != '_' : name_matches(sc->name, nm))
                set[n++] = i;
        }
        if (n == 0) {
            fail(c, "'of %s' matches no search", sc->name);
            return NULL;
        }
        e->set = set;
        e->nset = n;
        return e;
    }
    }
    fail(c, "%s", "bad condition");
    return NULL;
}

/* A correlation rule: its references are resolved when the rule set is
 * finished (rules.c), since they may come later. */
static bool compile_corr(cc *c, const sg_rule *r, em_rule *out)
{
    const sg_correlation *sc = &r->corr;
    if (sc->type != SG_CORR_EVENT_COUNT && sc->type != SG_CORR_VALUE_COUNT &&
        sc->type != SG_CORR_TEMPORAL && sc->type != SG_CORR_TEMPORAL_ORDERED &&
        sc->type != SG_CORR_ABSENT)
        return fail(c, "%s", "correlation type not supported");
    if (sc->nrules == 0)
        return fail(c, "%s", "correlation: no rules");
    if ((sc->type == SG_CORR_EVENT_COUNT || sc->type == SG_CORR_VALUE_COUNT) &&
        sc->cmp == SG_CMP_NONE)
        return fail(c, "%s", "correlation: a condition is required for this type");
    if (sc->type == SG_CORR_VALUE_COUNT && sc->field == NULL)
        return fail(c, "%s", "value_count: condition needs a field");
    em_corr *e = ig_arena_alloc(c->a, sizeof(*e));
    if (e == NULL)
        return fail(c, "%s", "out of memory");
    memset(e, 0, sizeof(*e));
    e->type = sc->type;
    e->refs = sc->rules;
    e->nrefs = sc->nrules;
    e->group_by = sc->group_by;
    e->ngroup = sc->ngroup_by;
    e->span = sc->timespan_ms * 10000u;
    e->cmp = sc->cmp;
    e->cmp2 = sc->cmp2;
    e->threshold = sc->threshold;
    e->threshold2 = sc->threshold2;
    e->aliases = sc->aliases;
    e->naliases = sc->naliases;
    e->field = sc->field;
    e->generate = sc->generate;
    out->corr = e;
    out->info.correlation = 1;
    out->info.extension = sc->type == SG_CORR_ABSENT;
    return true;
}

static ig_level level_of(sg_level l)
{
    switch (l) {
    case SG_LEVEL_INFORMATIONAL: return IG_LEVEL_INFORMATIONAL;
    case SG_LEVEL_LOW: return IG_LEVEL_LOW;
    case SG_LEVEL_HIGH: return IG_LEVEL_HIGH;
    case SG_LEVEL_CRITICAL: return IG_LEVEL_CRITICAL;
    default: return IG_LEVEL_MEDIUM;
    }
}

bool em_compile(ig_rules *rs, const sg_rule *r, em_rule *out, const char **why)
{
    cc c;
    memset(&c, 0, sizeof(c));
    c.rs = rs;
    c.a = &rs->arena;
    memset(out, 0, sizeof(*out));
    out->info.id = r->id ? r->id : "";
    out->info.title = r->title ? r->title : "";
    out->info.status = r->status ? r->status : "";
    out->info.file = r->file;
    out->info.description = r->description ? r->description : "";
    out->info.level = level_of(r->level);
    out->info.tags = r->tags;
    out->info.ntags = r->ntags;
    out->info.line = r->line;
    out->info.product = r->product;
    out->info.category = r->category;
    out->info.service = r->service;
    out->info.install_paths = r->install_paths;
    out->info.ninstall_paths = r->ninstall_paths;
    out->name = r->name;
    bool ok = false;
    if (r->corr.type != SG_CORR_NONE) {
        ok = compile_corr(&c, r, out);
        goto done;
    }
    if (!em_logsource(r, c.a, &out->srcs, &out->nsrcs, &c.why))
        goto done;
    em_search *ss = ig_arena_alloc(c.a, sizeof(*ss) * (r->nsearches ? r->nsearches : 1));
    if (ss == NULL) {
        c.why = "out of memory";
        goto done;
    }
    for (unsigned i = 0; i < r->nsearches; i++)
        if (!compile_search(&c, &r->searches[i], &ss[i]))
            goto done;
    out->searches = ss;
    out->nsearches = r->nsearches;
    const em_cond **cs = ig_arena_alloc(c.a, sizeof(*cs) * (r->nconds ? r->nconds : 1));
    if (cs == NULL) {
        c.why = "out of memory";
        goto done;
    }
    for (unsigned i = 0; i < r->nconds; i++)
        if ((cs[i] = compile_cond(&c, r, out, r->conds[i], 0)) == NULL)
            goto done;
    out->conds = cs;
    out->nconds = r->nconds;
    uint32_t *fl = ig_arena_dup(c.a, c.fields, sizeof(*fl) * (c.nfields ? c.nfields : 1));
    if (fl == NULL) {
        c.why = "out of memory";
        goto done;
    }
    out->fields = fl;
    out->nfields = c.nfields;
    if (r->nconds == 0) {
        c.why = "detection: missing condition";
        goto done;
    }
    ok = true;
done:
    vp_free(&c.vals);
    if (!ok) {
        /* the reason outlives this call: keep a copy with the rule set */
        const char *w = c.why ? c.why : "cannot compile";
        char *copy = ig_arena_dup(c.a, w, strlen(w) + 1);
        *why = copy ? copy : "cannot compile (out of memory)";
    }
    return ok;
}
