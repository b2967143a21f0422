/* iisguard — the normalised event: what rules and outputs see of a record,
 * whatever its input format.  Fields are named as in the event (EventData
 * "Data Name" values, System element names, Elem_Attr for attributes such
 * as Provider_Name) and decoded to UTF-8 only when asked for. */
#ifndef IISGUARD_EVENT_H
#define IISGUARD_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ig_event ig_event;

/* A borrowed UTF-8 string (not necessarily NUL-terminated). */
typedef struct ig_strv {
    const char *p;
    size_t len;
} ig_strv;

/* Where an event came from. */
typedef struct ig_event_origin {
    const char *path;   /* input name */
    uint64_t offset;    /* byte offset of the record in the file (or line number for text) */
    uint64_t record_id; /* EventRecordID, 0 when unknown */
} ig_event_origin;

/* Looks up field `name` (case-sensitive, as named in the event) and writes
 * its text to *out, valid until the event is released.  Returns 1 when the
 * field exists (its value may be empty), 0 when it does not. */
IG_API int ig_event_field(ig_event *ev, const char *name, ig_strv *out);

/* Number of fields, and the i-th field's name and value (same lifetime). */
IG_API size_t ig_event_field_count(const ig_event *ev);
IG_API int ig_event_field_at(ig_event *ev, size_t i, ig_strv *name, ig_strv *value);

IG_API void ig_event_origin_get(const ig_event *ev, ig_event_origin *out);

/* EventRecordID as the event says it (an EVTX record header may differ),
 * else the record id its reader knew; 0 when unknown. */
IG_API uint64_t ig_event_record_id(ig_event *ev);

/* TimeCreated as a FILETIME (100 ns since 1601-01-01 UTC), 0 when unknown. */
IG_API uint64_t ig_event_time(const ig_event *ev);

#ifdef __cplusplus
}
#endif
#endif
