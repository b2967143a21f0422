/* Record → standard event XML on one line (as Event Viewer's "XML view",
 * without indentation): attributes whose value is NULL are left out, empty
 * elements are written as <Name/>. */
#include "core/limits.h"
#include "core/utf16.h"
#include "formats/evtx/evtx_int.h"

static bool xml_items(rn_stack *st, ig_buf *o, uint32_t a, uint32_t b, unsigned depth);

static bool xml_elem(rn_stack *st, ig_buf *o, uint32_t idx, unsigned depth)
{
    const rn_item it = st->v[idx];
    const bx_node *e = it.n;
    uint32_t base = st->len;
    if (depth > IG_MAX_XML_DEPTH)
        return true;
    if (!ig_buf_putc(o, '<') || !ig_buf_put(o, e->str, e->len))
        return false;
    for (const bx_node *a = e->attrs; a != NULL; a = a->next) {
        if (!rn_expand(st, a->kids, it.vals, it.nvals, 0))
            return false;
        bool any = a->kids == NULL;
        for (uint32_t i = base; i < st->len; i++)
            any |= rn_is_text(&st->v[i]) && !rn_is_null(&st->v[i]);
        if (any) {
            if (!ig_buf_putc(o, ' ') || !ig_buf_put(o, a->str, a->len) || !ig_buf_lit(o, "=\""))
                return false;
            for (uint32_t i = base; i < st->len; i++)
                if (rn_is_text(&st->v[i]) && !rn_text(o, &st->v[i], VF_XML))
                    return false;
            if (!ig_buf_putc(o, '"'))
                return false;
        }
        st->len = base;
    }
    if (!rn_expand(st, e->kids, it.vals, it.nvals, 0))
        return false;
    bool empty = true;
    for (uint32_t i = base; i < st->len && empty; i++)
        empty = rn_is_text(&st->v[i]) && rn_is_null(&st->v[i]);
    bool ok;
    if (empty) {
        ok = ig_buf_lit(o, "/>");
    } else {
        ok = ig_buf_putc(o, '>') && xml_items(st, o, base, st->len, depth + 1) &&
             ig_buf_lit(o, "</") && ig_buf_put(o, e->str, e->len) && ig_buf_putc(o, '>');
    }
    st->len = base;
    return ok;
}

static bool xml_items(rn_stack *st, ig_buf *o, uint32_t a, uint32_t b, unsigned depth)
{
    for (uint32_t i = a; i < b; i++) {
        const rn_item *it = &st->v[i];
        bool ok = true;
        if (it->n->kind == BX_ELEM) {
            ok = xml_elem(st, o, i, depth);
        } else if (it->n->kind == BX_PI) {
            ok = ig_buf_lit(o, "<?") && ig_buf_put(o, it->n->str, it->n->len) &&
                 (it->n->len2 == 0 ||
                  (ig_buf_putc(o, ' ') && ig_buf_put(o, it->n->str2, it->n->len2))) &&
                 ig_buf_lit(o, "?>");
        } else if (!rn_is_null(it)) {
            ok = rn_text(o, it, VF_XML);
        }
        if (!ok)
            return false;
    }
    return true;
}

bool evtx_render_xml(rn_stack *st, const evtx_rec *rec, ig_buf *out)
{
    st->len = 0;
    if (!rn_expand(st, rec->root, NULL, 0, 0))
        return false;
    bool ok = xml_items(st, out, 0, st->len, 0) && ig_buf_putc(out, '\n');
    st->len = 0;
    return ok;
}
