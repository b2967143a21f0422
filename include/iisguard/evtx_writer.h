/* iisguard — Windows XML Event Log (.evtx) writer, used to generate the
 * project's own fixtures and demo logs.
 *
 * Output is EVTX 3.1 (libevtx notes §2–§5): a 4 KiB file header, then 64 KiB
 * chunks of records.  Every record is one template instance whose template
 * renders the standard Windows event shape:
 *
 *   <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
 *    <System><Provider Name= Guid=/><EventID/><Version/><Level/><Task/>
 *     <Opcode/><Keywords/><TimeCreated SystemTime=/><EventRecordID/>
 *     <Correlation/><Execution ProcessID= ThreadID=/><Channel/><Computer/>
 *     <Security UserID=/></System>
 *    <EventData><Data Name="...">...</Data>...</EventData></Event>
 *
 * Templates are defined once per chunk for each distinct EventData shape
 * (provider + list of data names) and referenced by offset afterwards.
 * Record identifiers are assigned by the writer: 1, 2, 3, ...
 *
 * Inputs are trusted (the caller builds them); invalid ones are refused with
 * IG_EARG, never crash. */
#ifndef IISGUARD_EVTX_WRITER_H
#define IISGUARD_EVTX_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/error.h"
#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One event.  All strings are NUL-terminated UTF-8 and borrowed for the
 * duration of ig_evtx_writer_add only. */
typedef struct ig_evtx_event {
    const char *provider;      /* Provider Name, required */
    const char *provider_guid; /* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (braces
                                  optional) or NULL: Provider without Guid */
    uint16_t event_id;
    uint8_t version;
    uint8_t level;
    uint16_t task;
    uint8_t opcode;
    uint64_t keywords;              /* rendered as 0x... */
    uint64_t time_filetime;         /* TimeCreated and the record's written time
                                       (100 ns since 1601-01-01 UTC) */
    uint32_t pid, tid;              /* Execution ProcessID / ThreadID */
    const char *channel;            /* required */
    const char *computer;           /* required */
    const char *user_sid;           /* "S-1-5-18" etc., or NULL: Security without UserID */
    size_t ndata;                   /* number of EventData/Data elements */
    const char *const *data_names;  /* ndata Data Name attributes (non-empty) */
    const char *const *data_values; /* ndata values; a NULL entry is an empty string */
} ig_evtx_event;

typedef struct ig_evtx_writer ig_evtx_writer;

/* Creates an empty writer.  Returns NULL when out of memory.  The caller
 * destroys it with ig_evtx_writer_destroy. */
IG_API ig_evtx_writer *ig_evtx_writer_create(void);

/* Appends one event as the next record (id = records so far + 1), starting a
 * new chunk when the current one is full.  The event is copied; nothing of
 * it is kept.  Returns IG_OK; IG_EARG when a required field is missing, a
 * GUID or SID does not parse, a string is not valid UTF-8 or a value is too
 * long for one record (a record must fit in a 64 KiB chunk); IG_ELIMIT when
 * the file would exceed 65535 chunks; IG_ENOMEM.  On failure the writer is
 * unchanged. */
IG_API ig_err ig_evtx_writer_add(ig_evtx_writer *w, const ig_evtx_event *ev);

/* Number of records added so far. */
IG_API uint64_t ig_evtx_writer_count(const ig_evtx_writer *w);

/* Completes the file image (headers and checksums) and returns it through
 * *out / *len.  The image is owned by the writer and stays valid until the
 * next ig_evtx_writer_add or ig_evtx_writer_destroy; more events may be
 * added afterwards and finish called again.  An empty writer yields a valid
 * file of the header only.  Returns IG_OK (out-params written only then). */
IG_API ig_err ig_evtx_writer_finish(ig_evtx_writer *w, const uint8_t **out, size_t *len);

/* Completes the image and writes it to `path` (created or truncated).
 * Returns IG_OK or IG_EIO. */
IG_API ig_err ig_evtx_writer_save(ig_evtx_writer *w, const char *path);

/* Frees the writer and its image.  NULL is a no-op. */
IG_API void ig_evtx_writer_destroy(ig_evtx_writer *w);

#ifdef __cplusplus
}
#endif
#endif
