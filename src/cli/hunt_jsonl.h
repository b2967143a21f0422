/* Hunting a JSON-lines file over several threads (this one among them):
 * each in turn reads the next piece of whole lines and hunts it; each
 * piece's alerts and messages are written in input order. */
#ifndef IG_CLI_HUNT_JSONL_H
#define IG_CLI_HUNT_JSONL_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "iisguard/evtx.h"
#include "iisguard/source.h"

/* Scans one event with the scanner of hunting thread `tud`, its alerts
 * appended to `out`. */
typedef void (*hj_event_fn)(void *tud, ig_event *ev, ig_evtx_emit *out);

/* True for a JSON-lines file whose first bytes are head[0, n) (its first
 * line a whole object): those can be hunted by hj_hunt; other layouts go one
 * event after the other. */
bool hj_line_per_event(const uint8_t *head, size_t n);

/* Hunts JSON-lines file `path` with `nt` threads, thread i scanning with
 * state tuds[i] through `on_event`; writes to `os`; adds the events and
 * damaged lines to `st`; tells `tick` (may be NULL) of the bytes done.
 * False when the file cannot be read (said on stderr). */
bool hj_hunt(void *const *tuds, unsigned nt, hj_event_fn on_event, const char *path, cli_out *os,
             ig_src_stats *st, void (*tick)(void *, uint64_t), void *tick_ud);

#endif
