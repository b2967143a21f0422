/* iisguard — Windows XML Event Log (.evtx) reader.
 *
 * Every byte of an .evtx file is untrusted.  Damage never stops a file: a
 * problem becomes an anomaly (file, chunk, offset, what) and decoding goes on
 * with the next record or chunk. */
#ifndef IISGUARD_EVTX_H
#define IISGUARD_EVTX_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/error.h"
#include "iisguard/event.h"
#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ig_evtx_format {
    IG_EVTX_JSONL = 0, /* one JSON object per record, shaped like evtx_dump's JSON */
    IG_EVTX_XML = 1    /* one standard event XML document per record and line */
} ig_evtx_format;

/* A problem found in the input.  All pointers are borrowed for the duration
 * of the callback. */
typedef struct ig_evtx_anomaly {
    const char *path; /* the input's name */
    uint64_t offset;  /* absolute file offset of the problem */
    int64_t chunk;    /* chunk index, -1 for the file header */
    const char *what; /* description */
} ig_evtx_anomaly;

typedef struct ig_evtx_stats {
    uint64_t files;        /* inputs opened */
    uint64_t files_failed; /* inputs that were not EVTX or could not be read */
    uint64_t chunks;       /* chunks with a valid signature */
    uint64_t records;      /* records decoded and emitted */
    uint64_t bad_records;  /* records framed but not decodable */
    uint64_t anomalies;    /* anomalies reported (file, chunk and record level) */
    uint64_t chunk_bytes;  /* bytes of used chunk space (header + records) */
    uint64_t templates_compiled, templates_reused;
} ig_evtx_stats;

/* Receives rendered output, in input order.  Return non-zero to stop. */
typedef int (*ig_evtx_output_fn)(void *ud, const char *data, size_t len);
typedef void (*ig_evtx_anomaly_fn)(void *ud, const ig_evtx_anomaly *a);

/* Bytes an event handler wants in the output, in input order. */
typedef struct ig_evtx_emit ig_evtx_emit;
IG_API void ig_evtx_emit_write(ig_evtx_emit *e, const char *data, size_t len);

/* Receives each record as a normalised event in a decoding thread (with
 * that thread's `tud`).  The event is valid during the call only. */
typedef void (*ig_evtx_event_fn)(void *tud, ig_event *ev, ig_evtx_emit *out);

typedef struct ig_evtx_opts {
    ig_evtx_format format;
    unsigned threads; /* 0 = one per core */
    ig_evtx_output_fn output;
    void *output_ud;
    ig_evtx_anomaly_fn anomaly; /* may be NULL */
    void *anomaly_ud;
    /* Events instead of rendering (hunting): when on_event is set, records
     * are not rendered; thread_init(event_ud) makes each decoding thread's
     * `tud` (NULL return = out of memory), thread_fini releases it. */
    ig_evtx_event_fn on_event;
    void *(*thread_init)(void *event_ud);
    void (*thread_fini)(void *tud);
    void *event_ud;
    /* Called in the caller's thread after each chunk is emitted, with the
     * chunk's size in bytes (progress displays); may be NULL. */
    void (*progress)(void *ud, uint64_t bytes);
    void *progress_ud;
} ig_evtx_opts;

typedef struct ig_evtx_dumper ig_evtx_dumper;

/* Creates a dumper that decodes inputs with `opts` (copied).  Worker threads
 * live as long as the dumper.  Returns NULL when out of memory. */
IG_API ig_evtx_dumper *ig_evtx_dumper_create(const ig_evtx_opts *opts);

/* Decodes the file at `path` and emits every record through opts.output.
 * Returns IG_OK when the file was decoded, even with anomalies (see stats);
 * IG_EFORMAT when it is not an EVTX file, IG_EIO when it cannot be read (an
 * anomaly naming the file is reported too). */
IG_API ig_err ig_evtx_dumper_file(ig_evtx_dumper *d, const char *path);

/* Same for an in-memory image (borrowed for the call); `name` names it in
 * anomalies. */
IG_API ig_err ig_evtx_dumper_buffer(ig_evtx_dumper *d, const char *name, const uint8_t *data,
                                    size_t len);

/* Emits every chunk still in flight, then copies the totals since creation
 * to `out`. */
IG_API void ig_evtx_dumper_stats(ig_evtx_dumper *d, ig_evtx_stats *out);

/* Stops the workers and frees everything.  NULL is a no-op. */
IG_API void ig_evtx_dumper_destroy(ig_evtx_dumper *d);

#ifdef __cplusplus
}
#endif
#endif
