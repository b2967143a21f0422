/* What the JSON and XML renderers share: expanding template instances and
 * Binary XML values into a flat list of content items, and text parts. */
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/utf16.h"
#include "formats/evtx/evtx_int.h"

static bool push(rn_stack *st, const bx_node *n, const bx_value *vals, uint32_t nvals)
{
    if (st->len == st->cap) {
        if (st->cap >= IG_MAX_BINXML_TOKENS)
            return false;
        uint32_t cap = st->cap ? st->cap * 2 : 256;
        rn_item *v = ig_realloc(st->v, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        st->v = v;
        st->cap = cap;
    }
    st->v[st->len++] = (rn_item){n, vals, nvals};
    return true;
}

bool rn_expand(rn_stack *st, const bx_node *kids, const bx_value *vals, uint32_t nvals,
               unsigned depth)
{
    if (depth > IG_MAX_XML_DEPTH)
        return false;
    for (const bx_node *n = kids; n != NULL; n = n->next) {
        if (n->kind == BX_TINST) {
            if (!rn_expand(st, n->tpl->root, n->vals, n->nvals, depth + 1))
                return false;
            continue;
        }
        if (n->kind == BX_SUBST && vals != NULL && n->sid < nvals &&
            vals[n->sid].type == BX_T_BINXML) {
            if (vals[n->sid].tree != NULL && !rn_expand(st, vals[n->sid].tree, NULL, 0, depth + 1))
                return false;
            continue;
        }
        if (!push(st, n, vals, nvals))
            return false;
    }
    return true;
}

static bool entity_text(ig_buf *b, const bx_node *n, vf_mode mode)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    ig_esc esc = mode == VF_JSON ? IG_ESC_JSON : mode == VF_XML ? IG_ESC_XML : IG_ESC_NONE;
    if (mode != VF_XML) {
        for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
            if (n->len == strlen(ents[i].name) && memcmp(n->str, ents[i].name, n->len) == 0)
                return ig_utf8_append_escaped(b, (const uint8_t *)&ents[i].c, 1, esc);
    }
    return ig_buf_putc(b, '&') && ig_utf8_append_escaped(b, (const uint8_t *)n->str, n->len, esc) &&
           ig_buf_putc(b, ';');
}

bool rn_text(ig_buf *b, const rn_item *it, vf_mode mode)
{
    const bx_node *n = it->n;
    ig_esc esc = mode == VF_JSON ? IG_ESC_JSON : mode == VF_XML ? IG_ESC_XML : IG_ESC_NONE;
    switch (n->kind) {
    case BX_TEXT:
        if (n->plain)
            return ig_buf_put(b, n->str, n->len);
        return ig_utf8_append_escaped(b, (const uint8_t *)n->str, n->len, esc);
    case BX_CDATA:
        if (mode == VF_XML)
            return ig_buf_lit(b, "<![CDATA[") && ig_buf_put(b, n->str, n->len) &&
                   ig_buf_lit(b, "]]>");
        return ig_utf8_append_escaped(b, (const uint8_t *)n->str, n->len, esc);
    case BX_CHARREF:
        if (mode == VF_XML)
            return ig_buf_lit(b, "&#") && ig_buf_u64(b, n->sid) && ig_buf_putc(b, ';');
        {
            uint8_t u[2] = {(uint8_t)(n->sid & 0xff), (uint8_t)(n->sid >> 8)};
            return ig_utf16le_append(b, u, 1, esc);
        }
    case BX_ENTREF: return entity_text(b, n, mode);
    case BX_SUBST: {
        const bx_value *v = rn_subst_value(it);
        return v == NULL || evtx_value_text(b, v, mode);
    }
    default: return true;
    }
}
