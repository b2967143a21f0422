/* Record → one line of JSON, shaped like evtx_dump's JSON so that both can
 * be compared (see ../shared/data/sigma/regression_data/ *.json):
 *   - an element with neither attributes nor child elements is its text value
 *     (typed: numbers stay numbers), or null when empty;
 *   - otherwise an object: "#attributes" (attributes whose value is NULL are
 *     left out), then child elements by name, then "#text";
 *   - <Data Name="X">v</Data> becomes "X": v; unnamed <Data> elements of one
 *     parent become "Data": {"#text": v} or {"#text": [v, ...]};
 *   - a repeated key gets a suffix: "Key", "Key_1", "Key_2", ... */
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/utf16.h"
#include "formats/evtx/evtx_int.h"
#include "formats/evtx/tcache.h"

/* Records where values land while a template instance renders, to compile
 * the template's JSON for that shape of values. */
#define JP_MAX_OPS    1024u
#define JP_MAX_VALUES 1024u
#define JP_MAX_INST   16u

/* The template instances of one record: the record's own, then those of its
 * Binary XML values (EventData/UserData are nested instances), pre-order. */
typedef struct jinst {
    const bx_value *vals;
    uint32_t nvals;
} jinst;

typedef struct jrec {
    const jinst *inst;
    uint32_t ninst;
    uint32_t n;
    bool abort;
    jp_op ops[JP_MAX_OPS];
    size_t at[JP_MAX_OPS], end[JP_MAX_OPS];
} jrec;

typedef struct jr {
    rn_stack *st;
    ig_buf *out;
    jrec *rec; /* NULL when not recording */
} jr;

/* Emits the value of substitution `it`, as a JSON value or as text inside a
 * string, and records the slot when recording. */
static bool emit_value(jr *r, const rn_item *it, uint8_t kind)
{
    size_t at = r->out->len;
    const bx_value *v = rn_subst_value(it);
    bool ok = kind == JP_JSON ? evtx_value_json(r->out, v) : evtx_value_text(r->out, v, VF_JSON);
    jrec *rc = r->rec;
    if (rc != NULL && !rc->abort) {
        uint32_t k = 0;
        while (k < rc->ninst && rc->inst[k].vals != it->vals)
            k++;
        if (k == rc->ninst || rc->n == JP_MAX_OPS) {
            rc->abort = true;
        } else {
            size_t end = r->out->len;
            /* a quoted scalar: the quotes become part of the literals */
            if (ok && kind == JP_JSON && !(v->type & BX_T_ARRAY) && !evtx_value_is_json_bare(v)) {
                kind = JP_TEXT;
                at++;
                end--;
            }
            rc->ops[rc->n] = (jp_op){0, 0, it->n->sid, (uint8_t)k, kind};
            rc->at[rc->n] = at;
            rc->end[rc->n] = end;
            rc->n++;
        }
    }
    return ok;
}

typedef struct keyref {
    size_t off;
    size_t len;
} keyref;

#define MAX_DEDUP_KEYS 256

static bool is_name(const bx_node *n, const char *s, size_t len)
{
    return n->len == len && memcmp(n->str, s, len) == 0;
}

/* Non-null text parts among items [a, b). */
static uint32_t count_text(const rn_stack *st, uint32_t a, uint32_t b, bool *has_elem)
{
    uint32_t n = 0;
    for (uint32_t i = a; i < b; i++) {
        const rn_item *it = &st->v[i];
        if (!rn_is_text(it)) {
            if (has_elem != NULL && it->n->kind == BX_ELEM)
                *has_elem = true;
            continue;
        }
        if (!rn_is_null(it))
            n++;
    }
    return n;
}

/* Writes the text parts of items [a, b) as one JSON value. */
static bool text_value(jr *r, uint32_t a, uint32_t b, uint32_t ntext)
{
    ig_buf *o = r->out;
    if (ntext == 0)
        return ig_buf_lit(o, "null");
    if (ntext == 1) {
        for (uint32_t i = a; i < b; i++) {
            const rn_item *it = &r->st->v[i];
            if (rn_is_text(it) && !rn_is_null(it)) {
                if (it->n->kind == BX_SUBST)
                    return emit_value(r, it, JP_JSON);
                break;
            }
        }
    }
    if (!ig_buf_putc(o, '"'))
        return false;
    for (uint32_t i = a; i < b; i++) {
        const rn_item *it = &r->st->v[i];
        if (!rn_is_text(it) || rn_is_null(it))
            continue;
        if (!(it->n->kind == BX_SUBST ? emit_value(r, it, JP_TEXT) : rn_text(o, it, VF_JSON)))
            return false;
    }
    return ig_buf_putc(o, '"');
}

/* Expands the value parts of attribute `a` onto the stack; returns the
 * number of non-null text parts, or -1 on failure. */
static long attr_expand(jr *r, const bx_node *a, const rn_item *owner)
{
    uint32_t s = r->st->len;
    if (!rn_expand(r->st, a->kids, owner->vals, owner->nvals, 0))
        return -1;
    return (long)count_text(r->st, s, r->st->len, NULL);
}

/* Writes `"key"` (with a de-duplicating suffix) and the colon.  `keys`
 * remembers the keys already written to this object. */
static bool put_key_end(jr *r, size_t key_off, keyref *keys, uint32_t *nkeys)
{
    ig_buf *o = r->out;
    size_t len = o->len - key_off;
    unsigned dup = 0;
    for (uint32_t i = 0; i < *nkeys; i++) {
        if (keys[i].len == len && memcmp(o->data + keys[i].off, o->data + key_off, len) == 0)
            dup++;
    }
    if (*nkeys < MAX_DEDUP_KEYS)
        keys[(*nkeys)++] = (keyref){key_off, len};
    if (dup > 0 && (!ig_buf_putc(o, '_') || !ig_buf_u64(o, dup)))
        return false;
    return ig_buf_lit(o, "\":");
}

static bool elem_value(jr *r, uint32_t idx, bool named_data, unsigned depth);

/* Writes the members of an object from the element items among [a, b). */
static bool members(jr *r, uint32_t a, uint32_t b, bool first, unsigned depth)
{
    keyref keys[MAX_DEDUP_KEYS];
    uint32_t nkeys = 0;
    bool data_done = false;
    ig_buf *o = r->out;
    for (uint32_t i = a; i < b; i++) {
        const rn_item it = r->st->v[i];
        if (it.n->kind != BX_ELEM)
            continue;
        const bx_node *e = it.n;
        const bx_node *name_attr = NULL;
        if (is_name(e, "Data", 4)) {
            for (const bx_node *at = e->attrs; at != NULL; at = at->next)
                if (is_name(at, "Name", 4))
                    name_attr = at;
            if (name_attr == NULL) {
                if (data_done)
                    continue;
                data_done = true;
            }
        }
        if (!first && !ig_buf_putc(o, ','))
            return false;
        first = false;
        if (!ig_buf_putc(o, '"'))
            return false;
        size_t key_off = o->len;
        if (name_attr != NULL) {
            uint32_t s = r->st->len;
            if (!rn_expand(r->st, name_attr->kids, it.vals, it.nvals, 0))
                return false;
            for (uint32_t k = s; k < r->st->len; k++) {
                if (r->rec != NULL && r->st->v[k].n->kind == BX_SUBST)
                    r->rec->abort = true; /* a key from a value: shape varies */
                if (rn_is_text(&r->st->v[k]) && !rn_text(o, &r->st->v[k], VF_JSON))
                    return false;
            }
            r->st->len = s;
        } else if (!(e->plain ? ig_buf_put(o, e->str, e->len)
                              : ig_utf8_append_escaped(o, (const uint8_t *)e->str, e->len,
                                                       IG_ESC_JSON))) {
            return false;
        }
        if (!put_key_end(r, key_off, keys, &nkeys))
            return false;
        if (name_attr == NULL && is_name(e, "Data", 4)) {
            /* every unnamed <Data> of this parent, in order */
            uint32_t n = 0;
            for (uint32_t k = i; k < b; k++) {
                const bx_node *d = r->st->v[k].n;
                if (d->kind == BX_ELEM && is_name(d, "Data", 4)) {
                    bool named = false;
                    for (const bx_node *at = d->attrs; at != NULL; at = at->next)
                        named |= is_name(at, "Name", 4);
                    n += !named;
                }
            }
            if (!ig_buf_lit(o, "{\"#text\":") || (n > 1 && !ig_buf_putc(o, '[')))
                return false;
            bool f = true;
            for (uint32_t k = i; k < b; k++) {
                const bx_node *d = r->st->v[k].n;
                bool named = false;
                if (d->kind != BX_ELEM || !is_name(d, "Data", 4))
                    continue;
                for (const bx_node *at = d->attrs; at != NULL; at = at->next)
                    named |= is_name(at, "Name", 4);
                if (named)
                    continue;
                if (!f && !ig_buf_putc(o, ','))
                    return false;
                f = false;
                if (!elem_value(r, k, true, depth + 1))
                    return false;
            }
            if ((n > 1 && !ig_buf_putc(o, ']')) || !ig_buf_putc(o, '}'))
                return false;
            continue;
        }
        if (!elem_value(r, i, name_attr != NULL, depth + 1))
            return false;
    }
    return true;
}

/* Writes the JSON value of the element at stack index `idx`.  A named
 * <Data> element shows only its content. */
static bool elem_value(jr *r, uint32_t idx, bool named_data, unsigned depth)
{
    if (depth > IG_MAX_XML_DEPTH)
        return ig_buf_lit(r->out, "null");
    ig_buf *o = r->out;
    const rn_item it = r->st->v[idx];
    const bx_node *e = it.n;
    uint32_t base = r->st->len;

    /* attributes that have a value */
    uint32_t nattr = 0;
    if (!named_data) {
        for (const bx_node *a = e->attrs; a != NULL; a = a->next) {
            long n = attr_expand(r, a, &it);
            if (n < 0)
                return false;
            if (n > 0 || a->kids == NULL)
                nattr++;
            r->st->len = base;
        }
    }
    /* content */
    if (!rn_expand(r->st, e->kids, it.vals, it.nvals, 0))
        return false;
    uint32_t c0 = base, c1 = r->st->len;
    bool has_elem = false;
    uint32_t ntext = count_text(r->st, c0, c1, &has_elem);
    bool ok = true;
    if (nattr == 0 && !has_elem) {
        ok = text_value(r, c0, c1, ntext);
    } else {
        ok = ig_buf_putc(o, '{');
        bool first = true;
        if (ok && nattr > 0) {
            ok = ig_buf_lit(o, "\"#attributes\":{");
            bool f = true;
            for (const bx_node *a = e->attrs; ok && a != NULL; a = a->next) {
                uint32_t s = r->st->len;
                long n = attr_expand(r, a, &it);
                if (n < 0)
                    return false;
                if (n > 0 || a->kids == NULL) {
                    ok =
                        (f || ig_buf_putc(o, ',')) && ig_buf_putc(o, '"') &&
                        (a->plain ? ig_buf_put(o, a->str, a->len)
                                  : ig_utf8_append_escaped(o, (const uint8_t *)a->str, a->len,
                                                           IG_ESC_JSON)) &&
                        ig_buf_lit(o, "\":") &&
                        (n > 0 ? text_value(r, s, r->st->len, (uint32_t)n) : ig_buf_lit(o, "\"\""));
                    f = false;
                }
                r->st->len = s;
            }
            ok = ok && ig_buf_putc(o, '}');
            first = false;
        }
        if (ok && has_elem) {
            ok = members(r, c0, c1, first, depth);
            first = false;
        }
        if (ok && ntext > 0) {
            ok = (first || ig_buf_putc(o, ',')) && ig_buf_lit(o, "\"#text\":") &&
                 text_value(r, c0, c1, ntext);
        }
        ok = ok && ig_buf_putc(o, '}');
    }
    r->st->len = base;
    return ok;
}

static bool render_tree(jr *r, const bx_node *root)
{
    rn_stack *st = r->st;
    st->len = 0;
    if (!rn_expand(st, root, NULL, 0, 0))
        return false;
    uint32_t n = st->len;
    bool ok = ig_buf_putc(r->out, '{') && members(r, 0, n, true, 0) && ig_buf_lit(r->out, "}\n");
    st->len = 0;
    return ok;
}

/* The shape of a record's values: per value its type and whether it is
 * NULL / a bare JSON scalar; for a Binary XML value, the nested template and
 * the shape of its values.  Collects the instances into `inst`.  Returns
 * false when the record cannot use a compiled program. */
typedef struct jsig {
    uint8_t b[2 * JP_MAX_VALUES];
    uint32_t len;
    jinst inst[JP_MAX_INST];
    uint32_t ninst;
} jsig;

static bool signature(jsig *sg, const bx_node *ti, unsigned depth)
{
    if (sg->ninst == JP_MAX_INST || depth > 4 || ti->nvals > JP_MAX_VALUES || !ti->tpl->shared ||
        __atomic_load_n(&ti->tpl->no_prog, __ATOMIC_RELAXED))
        return false; /* programs live only as long as cached templates */
    sg->inst[sg->ninst++] = (jinst){ti->vals, ti->nvals};
    if (sg->len + 2 * ti->nvals + 4 > sizeof(sg->b))
        return false;
    uint8_t *p = sg->b + sg->len;
    sg->len += 2 * ti->nvals;
    uint32_t n = sg->len;
    /* count first, so that nested signatures follow this one */
    for (uint32_t i = 0; i < ti->nvals; i++) {
        const bx_value *v = &ti->vals[i];
        uint8_t t = v->type;
        /* as rn_is_null: NULL, or empty and not a string */
        bool null =
            t == BX_T_NULL || (v->len == 0 && (t & 0x7f) != BX_T_STRING && (t & 0x7f) != BX_T_ANSI);
        p[2 * i] = t;
        p[2 * i + 1] =
            (uint8_t)(null | (!null && t != BX_T_STRING && evtx_value_is_json_bare(v)) << 1);
        if ((v->type & 0x7f) != BX_T_BINXML || null)
            continue;
        const bx_node *tree = v->tree;
        if (v->type & BX_T_ARRAY || tree == NULL || tree->kind != BX_TINST || tree->next != NULL)
            return false;
        /* the nested template's identity, then its values */
        uintptr_t id = (uintptr_t)tree->tpl;
        if (sg->len + sizeof(id) > sizeof(sg->b))
            return false;
        memcpy(sg->b + sg->len, &id, sizeof(id));
        sg->len += (uint32_t)sizeof(id);
        if (!signature(sg, tree, depth + 1))
            return false;
    }
    (void)n;
    return true;
}

static bool run_prog(const jprog *p, const jsig *sg, ig_buf *out)
{
    for (uint32_t i = 0; i < p->nops; i++) {
        const jp_op *op = &p->ops[i];
        if (!ig_buf_put(out, p->lit + op->lit_off, op->lit_len))
            return false;
        const bx_value *v = &sg->inst[op->inst].vals[op->sid];
        if (!(op->kind == JP_JSON ? evtx_value_json(out, v) : evtx_value_text(out, v, VF_JSON)))
            return false;
    }
    return ig_buf_put(out, p->lit + p->tail_off, p->tail_len);
}

/* Turns what was recorded while rendering out[start..] into a program: one
 * block holding the program, its operations, literals and signature. */
static void compile_prog(bx_tcache *c, const void *tpl, uint64_t h, const jrec *rc,
                         const ig_buf *out, size_t start, const uint8_t *sig, uint32_t siglen)
{
    size_t total = out->len - start, vbytes = 0;
    for (uint32_t i = 0; i < rc->n; i++)
        vbytes += rc->end[i] - rc->at[i];
    size_t litlen = total - vbytes;
    if (total > UINT32_MAX)
        return;
    size_t size = sizeof(jprog) + sizeof(jp_op) * rc->n + litlen + siglen;
    jprog *p = ig_malloc(size);
    if (p == NULL)
        return;
    jp_op *ops = (jp_op *)(void *)(p + 1);
    char *lit = (char *)(ops + rc->n);
    uint8_t *sg = (uint8_t *)lit + litlen;
    size_t from = start, lo = 0;
    for (uint32_t i = 0; i < rc->n; i++) {
        size_t n = rc->at[i] - from;
        memcpy(lit + lo, out->data + from, n);
        ops[i] = rc->ops[i];
        ops[i].lit_off = (uint32_t)lo;
        ops[i].lit_len = (uint32_t)n;
        lo += n;
        from = rc->end[i];
    }
    memcpy(lit + lo, out->data + from, out->len - from);
    if (siglen)
        memcpy(sg, sig, siglen);
    p->bytes = size;
    p->tail_off = (uint32_t)lo;
    p->tail_len = (uint32_t)(out->len - from);
    p->lit = lit;
    p->ops = ops;
    p->nops = rc->n;
    p->sig = sg;
    p->siglen = siglen;
    p->tpl = tpl;
    p->hash = h;
    tcache_prog_put(c, p);
}

bool evtx_render_json(bx_ctx *ctx, rn_stack *st, const evtx_rec *rec, ig_buf *out)
{
    jr r = {st, out, NULL};
    const bx_node *ti = rec->root;
    /* the common case: one template instance (with nested ones in its Binary
     * XML values); its JSON is compiled once per shape of values, after
     * which records only fill in values */
    if (ti->kind != BX_TINST || ti->next != NULL || ctx->tcache == NULL)
        return render_tree(&r, rec->root);
    static _Thread_local jsig sg;
    sg.len = sg.ninst = 0;
    if (!signature(&sg, ti, 0))
        return render_tree(&r, rec->root);
    uint64_t h = tcache_hash(ti->tpl, sg.b, sg.len);
    const jprog *p = tcache_prog_get(ctx->tcache, ti->tpl, h, sg.b, sg.len);
    if (p != NULL)
        return run_prog(p, &sg, out);
    static _Thread_local jrec rc;
    rc.inst = sg.inst;
    rc.ninst = sg.ninst;
    rc.n = 0;
    rc.abort = false;
    r.rec = &rc;
    size_t start = out->len;
    if (!render_tree(&r, rec->root))
        return false;
    if (rc.abort) /* shared templates: the flag is set atomically */
        __atomic_store_n(&((bx_template *)ti->tpl)->no_prog, true, __ATOMIC_RELAXED);
    else
        compile_prog(ctx->tcache, ti->tpl, h, &rc, out, start, sg.b, sg.len);
    return true;
}
