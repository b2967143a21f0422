/* The continuous-detection loop shared by `stream`'s sources: stdin
 * (cmd_stream.c) and NATS JetStream (stream_nats.c). */
#ifndef IG_CLI_STREAM_H
#define IG_CLI_STREAM_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "iisguard/rules.h"
#include "iisguard/source.h"
#include "output/alerts.h"

extern atomic_int stream_stopping; /* SIGTERM or SIGINT came */

typedef struct seen_key {
    uint64_t key, last; /* last: FILETIME of the alert's last event */
} seen_key;

typedef struct stream {
    ig_rules *rules;
    ig_scanner *sc;
    ig_corr *corr;
    out_format fmt;
    out_tz tz;
    FILE *out;
    ig_buf line;
    uint64_t events, alerts, errors, watermark, horizon, late;
    unsigned since_eval; /* events since correlations were last evaluated */
    unsigned eval_every; /* evaluate after this many (the matches kept then, at least 1,000) */
    uint64_t last_eval;  /* when (CLOCK_MONOTONIC, ms) */
    seen_key *seen;      /* correlation alerts written (stream_seen.c) */
    size_t nseen;
    uint32_t *seen_slot; /* their index: position + 1, 0 empty */
    bool seen_stale;     /* the index must be rebuilt */
    bool quiet;
    /* alerts go to publish() when set (with a message id), else to `out` */
    bool (*publish)(struct stream *s, const char *id, const char *data, size_t len);
    void *publish_ud;
    bool publish_failed; /* a publish failed since it was last cleared */
    uint64_t event_id;   /* identity of the event being scanned (a stream sequence) */
    bool final;          /* no more events will come (absences can be decided) */
    bool quiet_alerts;   /* rebuilding state: alerts are not written (their keys are kept) */
} stream;

/* The correlation alerts written, by key (at most STREAM_SEEN_MAX; when
 * full, the oldest eighth is forgotten). */
#ifndef STREAM_SEEN_MAX
#define STREAM_SEEN_MAX (1u << 16)
#endif
bool stream_seen_init(stream *s);
void stream_seen_free(stream *s);
bool stream_seen(stream *s, uint64_t key);
void stream_seen_add(stream *s, uint64_t key, uint64_t last);
/* Forgets the alerts whose last event is older than `before`. */
void stream_seen_prune(stream *s, uint64_t before);

/* Scans one event; evaluates correlations when due (cmd_stream.c). */
void stream_on_event(void *ud, ig_event *ev);
void stream_on_error(void *ud, const char *path, uint64_t line, const char *what);
/* Correlations over what is kept, then pruning. */
void stream_evaluate(stream *s);

/* The JetStream source (stream_nats.c): returns the exit status. */
typedef struct stream_nats_opts {
    const char *url, *stream, *subject, *durable, *alerts_subject, *dead_letter;
    int batch;
} stream_nats_opts;
int stream_nats_run(stream *s, const stream_nats_opts *o, ig_json_lines *jl);

/* Files still being written (stream_follow.c): returns the exit status. */
int stream_follow_run(stream *s, char **paths, int n, const char *state_path, const char *out_path,
                      int poll_ms);

#endif
