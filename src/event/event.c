#include "event/event.h"

#include <string.h>

#include "core/alloc.h"
#include "core/ascii.h"
#include "core/limits.h"
#include "core/memeq.h"

void ev_init(ig_event *ev, ig_arena *arena)
{
    memset(ev, 0, sizeof(*ev));
    ig_buf_init(&ev->text, IG_MAX_RECORD_OUTPUT);
    ev->arena = arena;
}

void ev_free(ig_event *ev)
{
    if (ev == NULL)
        return;
    ig_buf_free(&ev->text);
    ig_free(ev->f);
    ig_free(ev->slot);
    ev->f = NULL;
    ev->slot = NULL;
}

void ev_reset(ig_event *ev)
{
    if (ev->bound != NULL)
        for (uint32_t i = 0; i < ev->n; i++)
            if (ev->f[i].id != EV_NO_ID && ev->f[i].id < ev->nslots)
                ev->slot[ev->f[i].id] = 0;
    ev->n = 0;
    ev->bound = NULL;
    memset(&ev->origin, 0, sizeof(ev->origin));
    ev->time = 0;
}

bool ev_add_grow(ig_event *ev, const char *name, uint32_t nlen, const void *src, uint32_t srclen,
                 ev_decode_fn decode)
{
    if (ev->cap >= IG_MAX_EVENT_FIELDS)
        return false;
    uint32_t cap = ev->cap ? ev->cap * 2 : 64;
    ev_field *f = ig_realloc(ev->f, sizeof(*f) * cap);
    if (f == NULL)
        return false;
    ev->f = f;
    ev->cap = cap;
    return ev_add(ev, name, nlen, src, srclen, decode);
}

bool ev_bind(ig_event *ev, const ev_names *names)
{
    uint32_t need = ev_names_count(names);
    if (need > ev->nslots) {
        uint32_t *s = ig_realloc(ev->slot, sizeof(*s) * need);
        if (s == NULL)
            return false;
        memset(s + ev->nslots, 0, sizeof(*s) * (need - ev->nslots));
        ev->slot = s;
        ev->nslots = need;
    }
    ev->bound = names;
    for (uint32_t i = 0; i < ev->n; i++) {
        uint32_t id = ev_names_lookup(names, ev->f[i].name, ev->f[i].nlen);
        if (id == EV_NO_ID && memchr(ev->f[i].name, ' ', ev->f[i].nlen) != NULL &&
            ev->f[i].nlen < 256) {
            /* "Threat Name" (Defender) is ThreatName to rules */
            char tight[256];
            size_t k = 0;
            for (uint32_t j = 0; j < ev->f[i].nlen; j++)
                if (ev->f[i].name[j] != ' ')
                    tight[k++] = ev->f[i].name[j];
            id = ev_names_lookup(names, tight, k);
        }
        ev->f[i].id = id;
    }
    /* chains of repeated fields, in event order: walk backwards, each field
     * links to the one its id pointed at so far */
    for (uint32_t i = ev->n; i-- > 0;) {
        uint32_t id = ev->f[i].id;
        if (id == EV_NO_ID)
            continue;
        ev->f[i].next_same = ev->slot[id] ? ev->slot[id] - 1 : UINT32_MAX;
        ev->slot[id] = i + 1;
    }
    return true;
}

bool ev_text_decode(ig_event *ev, uint32_t i, ig_strv *out)
{
    ev_field *f = &ev->f[i];
    if (!f->decoded) {
        ig_buf_reset(&ev->text);
        if (f->decode == NULL || !f->decode(f, &ev->text)) {
            ev->text.failed = false;
            return false;
        }
        char *s = ev->text.len ? ig_arena_dup(ev->arena, ev->text.data, ev->text.len) : "";
        if (s == NULL)
            return false;
        f->str = s;
        f->len = (uint32_t)ev->text.len;
        f->decoded = true;
    }
    out->p = f->str;
    out->len = f->len;
    return true;
}

bool ev_lower_make(ig_event *ev, uint32_t i, ig_strv *out)
{
    ig_strv t;
    if (!ev_text(ev, i, &t))
        return false;
    ev_field *f = &ev->f[i];
    if (!f->lowered) {
        if (!ig_has_capital(t.p, t.len)) {
            f->lstr = t.p; /* already lower case: share */
        } else {
            char *d = ig_arena_alloc(ev->arena, t.len + 1);
            if (d == NULL)
                return false;
            ig_lower_copy(d, t.p, t.len);
            f->lstr = d;
        }
        f->lowered = true;
    }
    out->p = f->lstr;
    out->len = f->len;
    return true;
}

bool ev_get(ig_event *ev, const char *name, size_t len, ig_strv *out)
{
    for (uint32_t i = 0; i < ev->n; i++)
        if (ev->f[i].nlen == len && ig_mem_eq(ev->f[i].name, name, len))
            return ev_text(ev, i, out);
    return false;
}

int ig_event_field(ig_event *ev, const char *name, ig_strv *out)
{
    return ev_get(ev, name, strlen(name), out) ? 1 : 0;
}

size_t ig_event_field_count(const ig_event *ev)
{
    return ev->n;
}

int ig_event_field_at(ig_event *ev, size_t i, ig_strv *name, ig_strv *value)
{
    if (i >= ev->n || !ev_text(ev, (uint32_t)i, value))
        return 0;
    name->p = ev->f[i].name;
    name->len = ev->f[i].nlen;
    return 1;
}

void ig_event_origin_get(const ig_event *ev, ig_event_origin *out)
{
    *out = ev->origin;
}

uint64_t ig_event_record_id(ig_event *ev)
{
    ig_strv v;
    if (ev_get(ev, "EventRecordID", 13, &v) && v.len > 0 && v.len < 20) {
        uint64_t n = 0;
        size_t i = 0;
        for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++)
            n = n * 10 + (uint64_t)(v.p[i] - '0');
        if (i == v.len)
            return n;
    }
    return ev->origin.record_id;
}

uint64_t ig_event_time(const ig_event *ev)
{
    return ev->time;
}

/* Field names of one source mapped onto the Sigma taxonomy's (Security
 * 4688 names the process fields differently from Sysmon 1). */
typedef struct ev_alias {
    const char *channel;
    uint32_t eid;
    const char *from, *to;
} ev_alias;

static const ev_alias aliases[] = {
    {"Security", 4688, "NewProcessName", "Image"},
    {"Security", 4688, "ParentProcessName", "ParentImage"},
};

bool ev_apply_aliases(ig_event *ev)
{
    ig_strv ch, id;
    if (!ev_get(ev, "EventID", 7, &id))
        return true;
    uint32_t eid = 0;
    for (size_t i = 0; i < id.len && i < 10; i++) {
        if (id.p[i] < '0' || id.p[i] > '9')
            return true;
        eid = eid * 10 + (uint32_t)(id.p[i] - '0');
    }
    bool some = false; /* an alias for this id (most events have none) */
    for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]) && !some; k++)
        some = aliases[k].eid == eid;
    if (!some || !ev_get(ev, "Channel", 7, &ch))
        return true;
    for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++) {
        const ev_alias *a = &aliases[k];
        if (a->eid != eid || strlen(a->channel) != ch.len || memcmp(a->channel, ch.p, ch.len) != 0)
            continue;
        ig_strv exists;
        if (ev_get(ev, a->to, strlen(a->to), &exists))
            continue;
        for (uint32_t i = 0; i < ev->n; i++) {
            const ev_field *f = &ev->f[i];
            if (f->nlen == strlen(a->from) && memcmp(f->name, a->from, f->nlen) == 0) {
                ev_field copy = *f;
                if (!ev_add(ev, a->to, (uint32_t)strlen(a->to), copy.src, copy.srclen, copy.decode))
                    return false;
                break;
            }
        }
    }
    return true;
}
