/* iisguard — event sources other than .evtx files: JSON lines (the evtx
 * crate's JSON, Winlogbeat/ECS, NXLog) and Windows event XML (wevtutil
 * output, one event per line exports).  Formats are told apart by content. */
#ifndef IISGUARD_SOURCE_H
#define IISGUARD_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/error.h"
#include "iisguard/event.h"
#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ig_src_format {
    IG_SRC_UNKNOWN = 0,
    IG_SRC_EVTX,
    IG_SRC_JSONL,
    IG_SRC_XML
} ig_src_format;

/* The format of an input from its first bytes (leading white space and a
 * UTF-8 byte order mark are skipped). */
IG_API ig_src_format ig_source_detect(const uint8_t *head, size_t n);

/* Events in order; the event is valid during the call only. */
typedef void (*ig_src_event_fn)(void *ud, ig_event *ev);
/* A problem in the input: its name, the line (1-based) and what. */
typedef void (*ig_src_error_fn)(void *ud, const char *path, uint64_t line, const char *what);

typedef struct ig_src_stats {
    uint64_t events;      /* events delivered */
    uint64_t bad_records; /* lines or documents that could not be read */
} ig_src_stats;

/* Reads the JSON-lines or XML input `path` ("-" for standard input) of
 * format `fmt` (IG_SRC_JSONL or IG_SRC_XML), delivering every event.  A bad
 * line is reported and skipped; an XML syntax error ends that input.
 * Returns IG_OK, IG_EIO (unreadable), IG_EFORMAT (fmt not a text format) or
 * IG_EMALFORMED (the input ended early because of an error). */
IG_API ig_err ig_source_read_text(const char *path, ig_src_format fmt, ig_src_event_fn on_event,
                                  ig_src_error_fn on_error, void *ud, ig_src_stats *stats);
/* Same for the open descriptor `fd` (a pipe, standard input), whose first
 * `nhead` bytes were already read into `head` (to tell its format): they
 * are read first.  `name` names the input in errors and events; fd is left
 * open. */
IG_API ig_err ig_source_read_text_fd(const char *name, int fd, const uint8_t *head, size_t nhead,
                                     ig_src_format fmt, ig_src_event_fn on_event,
                                     ig_src_error_fn on_error, void *ud, ig_src_stats *stats);

/* JSON events one line at a time, for callers that read the lines
 * themselves (a stream): each line (untrusted, without its line break) is
 * an event delivered to on_event when it is a JSON object, a blank line
 * nothing, anything else an error with the name and line number given. */
typedef struct ig_json_lines ig_json_lines;
IG_API ig_json_lines *ig_json_lines_create(ig_src_event_fn on_event, ig_src_error_fn on_error,
                                           void *ud);
IG_API void ig_json_lines_feed(ig_json_lines *j, const char *name, uint64_t lineno,
                               const char *line, size_t len);
IG_API void ig_json_lines_stats(const ig_json_lines *j, ig_src_stats *out);
IG_API void ig_json_lines_destroy(ig_json_lines *j);

#ifdef __cplusplus
}
#endif
#endif
