/* A decoded record → the normalised event (src/event/event.h).
 *
 * Field names: System children by element name (EventID, Channel, Computer,
 * Level, ...) and their attributes as Element_Attribute (Provider_Name,
 * Execution_ProcessID, Security_UserID, TimeCreated_SystemTime, ...);
 * EventData <Data Name="X"> as X, unnamed <Data> as Data; UserData and
 * other sections by the names of their leaf elements.  Values are rendered
 * as in the JSON output but unescaped, and only when a rule asks. */
#include <string.h>

#include "core/limits.h"
#include "event/event.h"
#include "formats/evtx/evtx_int.h"

typedef struct eb {
    rn_stack *st;
    ig_event *ev;
    ig_arena *arena;
    ig_buf tmp;
    uint64_t created; /* System/TimeCreated/@SystemTime, 0 until seen */
} eb;

enum { SEC_TOP, SEC_SYSTEM, SEC_EVENTDATA, SEC_OTHER };

static bool decode_value(const ev_field *f, ig_buf *out)
{
    return evtx_value_text(out, (const bx_value *)f->src, VF_TEXT);
}

static bool is_name(const bx_node *n, const char *s, size_t len)
{
    return n->len == len && memcmp(n->str, s, len) == 0;
}

/* Text of items [a, b) as one string in the arena. */
static const char *join_text(eb *e, uint32_t a, uint32_t b, uint32_t *len)
{
    ig_buf_reset(&e->tmp);
    for (uint32_t i = a; i < b; i++) {
        const rn_item *it = &e->st->v[i];
        if (rn_is_text(it) && !rn_is_null(it) && !rn_text(&e->tmp, it, VF_TEXT))
            return NULL;
    }
    *len = (uint32_t)e->tmp.len;
    return e->tmp.len ? ig_arena_dup(e->arena, e->tmp.data, e->tmp.len) : "";
}

/* Adds field `name` whose value is the text parts of items [a, b); a single
 * substitution stays undecoded until asked for. */
static bool add_text(eb *e, const char *name, uint32_t nlen, uint32_t a, uint32_t b)
{
    const rn_item *one = NULL;
    uint32_t n = 0;
    for (uint32_t i = a; i < b; i++) {
        const rn_item *it = &e->st->v[i];
        if (rn_is_text(it) && !rn_is_null(it)) {
            one = it;
            n++;
        }
    }
    if (n == 0)
        return ev_add(e->ev, name, nlen, "", 0, NULL);
    if (n == 1 && one->n->kind == BX_SUBST) {
        const bx_value *v = rn_subst_value(one);
        if ((v->type & 0x7f) != BX_T_BINXML)
            return ev_add(e->ev, name, nlen, v, 0, decode_value);
    }
    if (n == 1 && one->n->kind == BX_TEXT)
        return ev_add(e->ev, name, nlen, one->n->str, one->n->len, NULL);
    uint32_t len = 0;
    const char *s = join_text(e, a, b, &len);
    return s != NULL && ev_add(e->ev, name, nlen, s, len, NULL);
}

/* "Element_Attribute" in the arena. */
static const char *compose(eb *e, const bx_node *el, const bx_node *at, uint32_t *len)
{
    size_t n = (size_t)el->len + 1 + at->len;
    char *s = ig_arena_alloc(e->arena, n + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, el->str, el->len);
    s[el->len] = '_';
    memcpy(s + el->len + 1, at->str, at->len);
    s[n] = '\0';
    *len = (uint32_t)n;
    return s;
}

static bool walk(eb *e, uint32_t idx, int sec, unsigned depth);

/* Every child element of the element at idx, in section `sec`. */
static bool children(eb *e, uint32_t idx, int sec, unsigned depth)
{
    const rn_item it = e->st->v[idx];
    uint32_t base = e->st->len;
    if (!rn_expand(e->st, it.n->kids, it.vals, it.nvals, 0))
        return false;
    uint32_t end = e->st->len;
    bool ok = true;
    for (uint32_t i = base; ok && i < end; i++)
        if (e->st->v[i].n->kind == BX_ELEM)
            ok = walk(e, i, sec, depth + 1);
    e->st->len = base;
    return ok;
}

static bool walk(eb *e, uint32_t idx, int sec, unsigned depth)
{
    if (depth > IG_MAX_XML_DEPTH)
        return true;
    const rn_item it = e->st->v[idx];
    const bx_node *el = it.n;
    if (sec == SEC_TOP) {
        if (is_name(el, "System", 6))
            return children(e, idx, SEC_SYSTEM, depth);
        if (is_name(el, "EventData", 9))
            return children(e, idx, SEC_EVENTDATA, depth);
        if (depth == 0 || is_name(el, "UserData", 8) || is_name(el, "RenderingInfo", 13))
            return children(e, idx, depth == 0 ? SEC_TOP : SEC_OTHER, depth);
        sec = SEC_OTHER;
    }
    uint32_t base = e->st->len;
    if (!rn_expand(e->st, el->kids, it.vals, it.nvals, 0))
        return false;
    uint32_t end = e->st->len;
    bool has_elem = false;
    for (uint32_t i = base; i < end; i++)
        has_elem |= e->st->v[i].n->kind == BX_ELEM;
    bool ok = true;
    if (sec == SEC_SYSTEM) {
        if (!has_elem)
            ok = add_text(e, el->str, el->len, base, end);
        for (const bx_node *at = el->attrs; ok && at != NULL; at = at->next) {
            uint32_t s = e->st->len, nlen;
            ok = rn_expand(e->st, at->kids, it.vals, it.nvals, 0);
            bool any = false;
            for (uint32_t i = s; ok && i < e->st->len; i++)
                any |= rn_is_text(&e->st->v[i]) && !rn_is_null(&e->st->v[i]);
            if (ok && any && e->created == 0 && e->st->len == s + 1 &&
                is_name(el, "TimeCreated", 11) && is_name(at, "SystemTime", 10) &&
                e->st->v[s].n->kind == BX_SUBST) {
                const bx_value *v = rn_subst_value(&e->st->v[s]);
                if ((v->type & 0x7f) == BX_T_FILETIME && v->len == 8)
                    for (int k = 7; k >= 0; k--)
                        e->created = e->created << 8 | v->p[k];
            }
            if (ok && any) {
                const char *name = compose(e, el, at, &nlen);
                ok = name != NULL && add_text(e, name, nlen, s, e->st->len);
            }
            e->st->len = s;
        }
    } else if (sec == SEC_EVENTDATA && is_name(el, "Data", 4)) {
        const bx_node *name_attr = NULL;
        for (const bx_node *at = el->attrs; at != NULL; at = at->next)
            if (is_name(at, "Name", 4))
                name_attr = at;
        if (name_attr == NULL) {
            ok = add_text(e, "Data", 4, base, end);
        } else {
            uint32_t s = e->st->len, nlen = 0;
            ok = rn_expand(e->st, name_attr->kids, it.vals, it.nvals, 0);
            const char *name = ok ? join_text(e, s, e->st->len, &nlen) : NULL;
            e->st->len = s;
            ok = name != NULL && add_text(e, name, nlen, base, end);
        }
    } else if (has_elem) {
        for (uint32_t i = base; ok && i < end; i++)
            if (e->st->v[i].n->kind == BX_ELEM)
                ok = walk(e, i, sec, depth + 1);
    } else {
        ok = add_text(e, el->str, el->len, base, end);
    }
    e->st->len = base;
    return ok;
}

bool evtx_event_build(rn_stack *st, const evtx_rec *rec, ig_event *ev, ig_arena *arena)
{
    eb e = {st, ev, arena, {0}, 0};
    ig_buf_init(&e.tmp, IG_MAX_RECORD_OUTPUT);
    st->len = 0;
    bool ok = rn_expand(st, rec->root, NULL, 0, 0);
    uint32_t n = st->len;
    for (uint32_t i = 0; ok && i < n; i++)
        if (st->v[i].n->kind == BX_ELEM)
            ok = walk(&e, i, SEC_TOP, 0);
    st->len = 0;
    ig_buf_free(&e.tmp);
    ev->origin.record_id = rec->record_id;
    /* the event's own time (a forwarded event's record is written later);
     * the record header's when the event has none */
    ev->time = e.created ? e.created : rec->written;
    return ok;
}
