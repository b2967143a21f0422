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

#include "core/limits.h"
#include "core/utf16.h"
#include "formats/evtx/evtx_int.h"

typedef struct jr {
    rn_stack *st;
    ig_buf *out;
} jr;

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
                    return evtx_value_json(o, rn_subst_value(it));
                break;
            }
        }
    }
    if (!ig_buf_putc(o, '"'))
        return false;
    for (uint32_t i = a; i < b; i++) {
        const rn_item *it = &r->st->v[i];
        if (rn_is_text(it) && !rn_is_null(it) && !rn_text(o, it, VF_JSON))
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
            for (uint32_t k = s; k < r->st->len; k++)
                if (rn_is_text(&r->st->v[k]) && !rn_text(o, &r->st->v[k], VF_JSON))
                    return false;
            r->st->len = s;
        } else if (!ig_utf8_append_escaped(o, (const uint8_t *)e->str, e->len, IG_ESC_JSON)) {
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
                        ig_utf8_append_escaped(o, (const uint8_t *)a->str, a->len, IG_ESC_JSON) &&
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

bool evtx_render_json(rn_stack *st, const evtx_rec *rec, ig_buf *out)
{
    jr r = {st, out};
    st->len = 0;
    if (!rn_expand(st, rec->root, NULL, 0, 0))
        return false;
    uint32_t n = st->len;
    bool ok = ig_buf_putc(out, '{') && members(&r, 0, n, true, 0) && ig_buf_lit(out, "}\n");
    st->len = 0;
    return ok;
}
