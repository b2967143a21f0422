/* One chunk → rendered records + anomalies (internal to src/formats/evtx).
 * Chunks are independent (libevtx notes §3), so any thread can decode any
 * chunk with its own worker state. */
#ifndef IG_EVTX_CHUNK_H
#define IG_EVTX_CHUNK_H

#include "event/event.h"
#include "formats/evtx/evtx_int.h"

typedef struct evtx_anom {
    uint64_t offset; /* absolute file offset */
    int64_t chunk;
    size_t msg; /* offset of the NUL-terminated message in out->msgs */
} evtx_anom;

typedef struct evtx_chunk_out {
    ig_buf text; /* rendered records */
    ig_buf msgs;
    evtx_anom *an;
    uint32_t nan, cap_an;
    uint64_t records, bad_records, chunk_bytes, chunks;
    uint64_t templates_compiled, templates_reused;
} evtx_chunk_out;

/* Per-thread decoding state. */
typedef struct evtx_worker {
    bx_ctx ctx;
    ig_arena chunk_arena, record_arena;
    rn_stack st;
    ig_evtx_format fmt;
    /* event mode */
    ig_evtx_event_fn on_event;
    void *tud;
    ig_event ev;
    ig_arena ev_arena;
} evtx_worker;

/* One chunk to decode. */
typedef struct evtx_job {
    const uint8_t *data; /* ≤ 64 KiB, untrusted */
    uint32_t len;
    uint64_t file_off; /* where the chunk starts in its file */
    int64_t index;     /* chunk number */
    const char *name;  /* the input's name (event origins) */
} evtx_job;

/* `shared`: the template cache of all workers of one dumper (borrowed). */
bool evtx_worker_init(evtx_worker *w, bx_tcache *shared);
void evtx_worker_free(evtx_worker *w);

void evtx_chunk_out_init(evtx_chunk_out *o);
void evtx_chunk_out_reset(evtx_chunk_out *o);
void evtx_chunk_out_free(evtx_chunk_out *o);

/* Records an anomaly (printf-style message). */
void evtx_anom_add(evtx_chunk_out *o, uint64_t offset, int64_t chunk, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Decodes one chunk, appending rendered records (or what the event handler
 * emits) and anomalies to `out`. */
void evtx_chunk_decode(evtx_worker *w, const evtx_job *job, evtx_chunk_out *out);

#endif
