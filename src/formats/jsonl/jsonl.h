/* JSON-lines events (internal): a bounded JSON parser (json.c) and the
 * mapping of one JSON object onto the normalised event (jsonl.c).
 *
 * Recognised shapes, per line and by content:
 *   - evtx_dump / Rust `evtx` crate JSON {"Event":{"System":..,"EventData":..}}:
 *     the same field names and values as the EVTX reader (event_evtx.c);
 *   - Winlogbeat / Elastic ECS 7-8 ({"winlog":{..},"event":..,"process":..}):
 *     winlog.event_data.* by key plus the System names (EventID, Channel,
 *     Computer, Provider_Name, ...) and Sigma names from ECS process fields;
 *   - NXLog-style flat objects: top-level keys as fields, plus Computer,
 *     Provider_Name, EventRecordID, ... from Hostname, SourceName, RecordNumber;
 *   - anything else: flattened ("a.b.c"; an array of scalars repeats the
 *     field), so that keyword rules still apply. */
#ifndef IG_FORMATS_JSONL_H
#define IG_FORMATS_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "event/event.h"

typedef enum json_type {
    JT_NULL = 0,
    JT_FALSE,
    JT_TRUE,
    JT_NUMBER,
    JT_STRING,
    JT_ARRAY,
    JT_OBJECT
} json_type;

/* One value of a parsed JSON text, in document order.  An object's tokens
 * are its members as key (a JT_STRING) then value; an array's are its
 * elements.  The token after a value and everything in it is `next`. */
typedef struct json_tok {
    const char *s; /* JT_STRING: the decoded UTF-8 text (borrowed from the
                      input when it has no escapes, else in the arena);
                      JT_NUMBER: its text in the input; otherwise NULL */
    uint32_t len;  /* bytes of s; JT_OBJECT: members; JT_ARRAY: elements */
    uint32_t next; /* index of the token after this value */
    uint32_t off;  /* byte offset of the value in the input */
    uint8_t type;  /* json_type */
} json_tok;

typedef struct json_doc {
    json_tok *t; /* in the arena; t[0] is the root value */
    uint32_t n;
} json_doc;

/* Parses one JSON text (RFC 8259) of `len` bytes; untrusted.  Leading and
 * trailing white space and one leading UTF-8 BOM are allowed; anything else
 * after the value is an error.  Invalid UTF-8 inside strings is passed on
 * as is; an unpaired surrogate escape becomes U+FFFD.  Tokens and decoded
 * strings are allocated in `arena`; unescaped strings and numbers borrow
 * `text`, which must outlive the tokens.  Limits: IG_MAX_JSON_LINE bytes,
 * IG_MAX_JSON_DEPTH nesting, IG_MAX_JSON_TOKENS values.
 * Returns true and fills *doc; on error returns false, sets *why (a static
 * string) and *at (the byte offset where the text went wrong) and leaves
 * *doc unspecified.  One pass, no recursion. */
bool json_parse(const char *text, size_t len, ig_arena *arena, json_doc *doc, const char **why,
                size_t *at);

/* Value of member `key` (klen bytes) of the object at token `obj`, or 0
 * when absent (token 0 is the root and never a member).  Linear in the
 * object's members. */
uint32_t json_member(const json_doc *d, uint32_t obj, const char *key, size_t klen);

/* Parses one JSON text (one line of a JSON-lines file; untrusted) into the
 * fields of `ev` (already reset; names/values copied into ev->arena as
 * needed).  Sets ev->time (FILETIME, from TimeCreated/@timestamp/EventTime;
 * 0 when absent or unreadable; times without a zone are taken as UTC) and
 * ev->origin.record_id (from EventRecordID/record_id/RecordNumber); leaves
 * ev->origin.path and .offset to the caller.
 *
 * Lifetime: field names and values borrow `text` wherever they need no
 * decoding, so the caller keeps the line buffer unchanged until the event
 * is reset or released (the JSON-lines reader reads each line into a buffer
 * that it reuses only after the event is done).
 *
 * Returns true on success; on malformed input (or an exceeded limit, or out
 * of memory) returns false and sets *why (static string) and *at (byte
 * offset in the line).  A blank line is malformed ("no JSON value"): callers
 * skip blank lines first.  When the text parsed but the fields exceeded
 * IG_MAX_EVENT_FIELDS, `ev` keeps the fields added before the limit. */
bool jsonl_event(const char *text, size_t len, ig_event *ev, const char **why, size_t *at);

/* FILETIME of an ISO 8601 / RFC 3339 date-time ("2025-11-27T07:40:10.165324Z",
 * "...+02:00", "...-0500") or "YYYY-MM-DD HH:MM:SS[.fffffff]" (no zone:
 * UTC); a fraction is kept to 100 ns.  Returns 0 when `s` is not one, or
 * before 1601. */
uint64_t jsonl_parse_time(const char *s, size_t len);

#endif
