/* JSON texts one after another, whatever their layout: one per line,
 * pretty-printed across lines (jq, evtx_dump -o json, ConvertTo-Json), the
 * elements of a top-level array, with evtx_dump's "Record N" headers
 * between them.  Objects are found by counting brackets outside strings,
 * incrementally, so input can arrive in blocks of any size. */
#ifndef IG_FORMATS_JSONL_JSTREAM_H
#define IG_FORMATS_JSONL_JSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct js_split {
    uint64_t line;       /* 1-based line of the next byte */
    uint64_t start_line; /* line where the current object starts */
    size_t pos;          /* next byte to look at, in the caller's buffer */
    size_t start;        /* the current object's first byte, in the buffer */
    size_t max;          /* longest object kept (longer ones are skipped) */
    uint32_t depth;
    bool in_value, in_str, esc, skipping;
} js_split;

/* One complete top-level object: `n` bytes starting at `p`, from `line`. */
typedef void (*js_value_fn)(void *ud, const char *p, size_t n, uint64_t line);
/* Something that cannot be an object, or an object that is damaged, too
 * long or unfinished: its line and what is wrong (a static string). */
typedef void (*js_bad_fn)(void *ud, uint64_t line, const char *what);

void js_split_init(js_split *s, size_t max);

/* Scans buf[0, len) — the bytes kept from the previous call followed by new
 * ones — calling on_value for every object it completes and on_bad for
 * every problem.  Returns how many leading bytes are finished with: the
 * caller drops them and passes the rest again, with more, next time.
 * `eof` says no more bytes follow: an unfinished object is then reported.
 * A line break inside a string, or "{" at the start of a line inside an
 * unfinished object, ends a damaged object (reported); scanning goes on
 * from there.  Objects longer than `max` are reported once and skipped.
 * Other text outside objects runs to the end of its line and is reported,
 * except "Record N" headers and the separators ',' '[' ']'.  A byte order
 * mark is the caller's to remove. */
size_t js_split_feed(js_split *s, const uint8_t *buf, size_t len, bool eof, js_value_fn on_value,
                     js_bad_fn on_bad, void *ud);

#endif
