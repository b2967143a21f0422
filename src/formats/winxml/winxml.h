/* Windows event XML → normalised events (src/event/event.h), streaming.
 *
 * Reads what `wevtutil qe LOG /f:xml` (or /f:RenderedXml) prints — <Event>
 * elements concatenated without a root — as well as the same wrapped in
 * <Events>...</Events> (Event Viewer's "Save as XML"), one event per line
 * exports (`iisguard dump --format xml`) and pretty-printed events.  A byte
 * order mark (UTF-8, UTF-16LE/BE) and a leading <?xml ...?> declaration are
 * handled; the stream is parsed by expat inside a synthetic root element.
 *
 * Fields are those the EVTX reader makes of the same event
 * (src/formats/evtx/event_evtx.c): System children by element name and their
 * attributes as Element_Attribute (an attribute present but empty is still a
 * field), EventData <Data Name="X"> as X and unnamed <Data> as Data, other
 * EventData children, UserData / RenderingInfo leaves and other sections by
 * element name.  Values are the element's own text (CDATA included; white
 * space between child elements is indentation and dropped) with entities and
 * character references resolved and trailing Unicode white space removed.
 *
 * Values are kept as the XML shows them.  Where the EVTX reader renders a
 * typed value differently, they differ (tests/unit/test_winxml.c counts each
 * kind over real samples): GUIDs keep their braces and case ("{5770385F-...}"
 * where EVTX says "5770385F-..."), size_t stays hexadecimal, FILETIME and
 * SYSTEMTIME values keep 7 fractional digits (EVTX: 6), and the elements of a
 * string array (joined with ", ") keep their trailing white space (EVTX trims
 * each; it also keeps trailing white space of text nodes, which this reader
 * removes).  TimeCreated_SystemTime is the exception: when it parses as
 * ISO 8601 UTC (0-9 fractional digits, "Z") it is rewritten with 6 digits,
 * as the EVTX reader renders the native FILETIME, and sets the event's time.
 *
 * Event origin: path = the reader's name, offset = the 1-based line number
 * of the event's start tag (wevtutil prints all events on one line: they
 * share it), record_id = EventRecordID when present and numeric, else 0.
 *
 * Characters XML 1.0 forbids (C0 controls, raw or as references such as
 * &#1;, which Windows strings may hold) would make expat stop and hide every
 * later event: they are read as their Unicode control pictures (U+2400 + c,
 * as `iisguard dump --format xml` writes them), references to surrogates
 * and non-characters as U+FFFD (UTF-8 and UTF-16 input).
 *
 * Errors: after an XML syntax error expat cannot continue: the error is
 * reported with its line and column, the event being read is dropped and
 * that input is over (the caller reports it as damaged); a truncated input
 * is reported as "input ends inside an element" / "... inside markup".  The
 * same holds for nesting deeper than WX_MAX_NESTING.  Limits that only cut
 * an event short (a value too long, too many fields or bytes) are reported
 * the same way but reading goes on.  No DTD is processed: a DOCTYPE can only
 * come inside the synthetic root, where it is a syntax error (handlers that
 * stop the parse on a DOCTYPE or an entity declaration are set as well), so
 * there are no external entities and no entity expansion.  A second
 * <?xml ...?> (concatenated files) is a syntax error too. */
#ifndef IG_FORMATS_WINXML_H
#define IG_FORMATS_WINXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

typedef struct wx_reader wx_reader;

/* Receives each complete event; `ev` (fields, names, values) is valid during
 * the call only.  The callback must not feed or destroy the reader. */
typedef void (*wx_event_fn)(void *ud, ig_event *ev);

/* Receives a problem: 1-based line and column in the input (column counted
 * as expat does, in characters), and a description valid during the call. */
typedef void (*wx_error_fn)(void *ud, uint64_t line, uint64_t column, const char *what);

/* Creates a reader.  `name` names the input in event origins (borrowed: it
 * must outlive the reader).  `on_event` is required, `on_error` may be NULL.
 * The reader owns the arena that holds each event's copies and resets it
 * between events.  Returns NULL when out of memory; free with wx_destroy. */
wx_reader *wx_create(const char *name, wx_event_fn on_event, wx_error_fn on_error, void *ud);

/* Feeds the next piece of input (untrusted, borrowed for the call; any
 * length, may split tokens and characters anywhere); `final` on the last
 * piece (which may be empty).  Events are delivered as their end tags are
 * read.  Returns false after an unrecoverable error (reported through
 * on_error with line and column; events already delivered stay delivered),
 * and for every call after one; true otherwise. */
bool wx_feed(wx_reader *r, const char *data, size_t len, bool final);

/* Frees the reader; NULL is a no-op. */
void wx_destroy(wx_reader *r);

#endif
