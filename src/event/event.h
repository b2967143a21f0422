/* The normalised event, inside the library (formats build it; the engine
 * and outputs read it).  A format flattens a record into fields: a name and
 * a value source; values are decoded to UTF-8 on first access and cached.
 * The engine binds an event to its interned field names so that it reads
 * fields by id (ev_bind, ev_get_id). */
#ifndef IG_EVENT_EVENT_H
#define IG_EVENT_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "iisguard/event.h"

#define EV_NO_ID UINT32_MAX

typedef struct ev_field ev_field;

/* How a format turns a field's source into text (appended to `out`). */
typedef bool (*ev_decode_fn)(const ev_field *f, ig_buf *out);

struct ev_field {
    const char *name; /* borrowed for the event's lifetime */
    uint32_t nlen;
    uint32_t id;     /* interned id once bound, EV_NO_ID otherwise */
    const void *src; /* format-specific value source */
    uint32_t srclen;
    ev_decode_fn decode; /* NULL: src is UTF-8 text of srclen bytes */
    bool decoded, lowered;
    uint32_t next_same; /* after ev_bind: the next field with the same id, or UINT32_MAX */
    uint32_t len;       /* of the decoded text */
    const char *str;    /* decoded text: stable until the event is reset */
    const char *lstr;   /* its ASCII lower-case copy, same length */
};

/* Interned field names (the engine's): name → id. */
typedef struct ev_names ev_names;
uint32_t ev_names_lookup(const ev_names *n, const char *name, size_t len);
uint32_t ev_names_count(const ev_names *n);

struct ig_event {
    ev_field *f;
    uint32_t n, cap;
    ig_buf text;     /* scratch for decoding; values are kept in `arena` */
    ig_arena *arena; /* per-event allocations (reset by the owner) */
    /* binding: slot[id] = index of the field + 1, 0 when absent */
    const ev_names *bound;
    uint32_t *slot;
    uint32_t nslots;
    ig_event_origin origin;
    uint64_t time; /* FILETIME */
};

/* Initialises an empty event; `arena` holds the field array. */
void ev_init(ig_event *ev, ig_arena *arena);
void ev_free(ig_event *ev);
/* Forgets all fields (keeps buffers) for the next record. */
void ev_reset(ig_event *ev);

/* ev_add when the field array is full (event.c). */
bool ev_add_grow(ig_event *ev, const char *name, uint32_t nlen, const void *src, uint32_t srclen,
                 ev_decode_fn decode);

/* Adds a field; false when out of memory or over the field limit.  A field
 * without a decoder has its text (src) from the start. */
static inline bool ev_add(ig_event *ev, const char *name, uint32_t nlen, const void *src,
                          uint32_t srclen, ev_decode_fn decode)
{
    if (ev->n == ev->cap)
        return ev_add_grow(ev, name, nlen, src, srclen, decode);
    bool plain = decode == NULL;
    ev->f[ev->n++] = (ev_field){name,
                                nlen,
                                EV_NO_ID,
                                src,
                                srclen,
                                decode,
                                plain,
                                false,
                                UINT32_MAX,
                                plain ? srclen : 0,
                                plain ? (srclen ? (const char *)src : "") : NULL,
                                NULL};
    return true;
}

/* Binds the event to `names`: afterwards ev_get_id works.  A field that
 * repeats (several unnamed <Data>) is found at its first occurrence, the
 * others follow through next_same. */
bool ev_bind(ig_event *ev, const ev_names *names);

/* ev_text and ev_lower the first time (event.c). */
bool ev_text_decode(ig_event *ev, uint32_t i, ig_strv *out);
bool ev_lower_make(ig_event *ev, uint32_t i, ig_strv *out);

/* The text of field index `i` (decoding it once; a field added without a
 * decoder is its text from the start). */
static inline bool ev_text(ig_event *ev, uint32_t i, ig_strv *out)
{
    const ev_field *f = &ev->f[i];
    if (!f->decoded)
        return ev_text_decode(ev, i, out);
    out->p = f->str;
    out->len = f->len;
    return true;
}

/* The ASCII lower-case text of field index `i` (made once). */
static inline bool ev_lower(ig_event *ev, uint32_t i, ig_strv *out)
{
    const ev_field *f = &ev->f[i];
    if (!f->lowered)
        return ev_lower_make(ev, i, out);
    out->p = f->lstr;
    out->len = f->len;
    return true;
}

/* By interned id (after ev_bind): true when present. */
static inline bool ev_get_id(ig_event *ev, uint32_t id, ig_strv *out)
{
    if (id >= ev->nslots || ev->slot[id] == 0)
        return false;
    return ev_text(ev, ev->slot[id] - 1, out);
}

/* Field index of an interned id, or UINT32_MAX. */
static inline uint32_t ev_index(const ig_event *ev, uint32_t id)
{
    return id < ev->nslots && ev->slot[id] != 0 ? ev->slot[id] - 1 : UINT32_MAX;
}

/* Adds the Sigma taxonomy's names for fields that a source names
 * otherwise (Security 4688 NewProcessName → Image, ...). */
bool ev_apply_aliases(ig_event *ev);

/* By name (linear; for outputs and tools). */
bool ev_get(ig_event *ev, const char *name, size_t len, ig_strv *out);

#endif
