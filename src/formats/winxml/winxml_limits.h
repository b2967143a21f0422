/* Limits the Windows event XML reader applies to untrusted input (see
 * src/core/limits.h for the project-wide IG_MAX_* ones it builds on). */
#ifndef IG_WINXML_LIMITS_H
#define IG_WINXML_LIMITS_H

#include "core/limits.h"

/* Elements open at once anywhere in the input (the synthetic root counts).
 * Deeper nesting is refused as an unrecoverable error: no Windows event
 * nests more than a few levels, and expat keeps every open tag. */
#define WX_MAX_NESTING     1024u
/* Elements below an <Event> that are looked at: deeper ones are ignored,
 * exactly as the EVTX reader ignores them (IG_MAX_XML_DEPTH). */
#define WX_MAX_EVENT_DEPTH IG_MAX_XML_DEPTH
/* An <Event> is recognised only this deep (synthetic root = 0, <Events> = 1,
 * <Event> = 2); deeper ones are treated as unknown content. */
#define WX_MAX_EVENT_LEVEL 8u
/* Bytes of one field value (UTF-8); a longer value is cut at a character
 * boundary and reported.  EVTX values are below 64 KiB (one chunk). */
#define WX_MAX_FIELD_TEXT  (1u << 20)
/* Bytes one event may copy (names, values, attributes); past it further
 * fields are dropped and reported. */
#define WX_MAX_EVENT_TEXT  (8u << 20)
/* Fields of one event (the event's own cap); extra ones are dropped and
 * reported. */
#define WX_MAX_FIELDS      IG_MAX_EVENT_FIELDS
/* Attributes kept per System child element (Execution has two). */
#define WX_MAX_ATTRS       32u
/* Bytes looked at before the first element to find a byte order mark and an
 * XML declaration (<?xml ... ?>). */
#define WX_MAX_PROLOG      1024u
/* Digits of a character reference that the filter of forbidden characters
 * decodes (&#x0000000001; is one); longer ones are left to expat. */
#define WX_MAX_REF         12u
/* Bytes filtered at once (the filter's output is at most 3 times as long). */
#define WX_FILTER_BLOCK    (64u * 1024u)
/* Largest piece handed to expat at once (its length is an int). */
#define WX_MAX_PIECE       (1u << 30)

#endif
