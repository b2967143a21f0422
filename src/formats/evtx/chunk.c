/* Chunk header and record framing (libevtx notes §3 "Chunk", §4 "Event
 * record").  Framing follows the strict walk: records from offset 512 up to
 * the free-space offset, each with signature 2a2a0000, a size that fits, and
 * an equal trailing copy of the size. */
#include "formats/evtx/chunk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/crc32.h"
#include "core/limits.h"
#include "core/rd.h"
#include "event/event.h"
#include "formats/evtx/tcache.h"

void ig_evtx_emit_write(ig_evtx_emit *e, const char *data, size_t len)
{
    ig_buf_put((ig_buf *)e, data, len);
}

bool evtx_worker_init(evtx_worker *w, bx_tcache *shared)
{
    memset(w, 0, sizeof(*w));
    ig_arena_init(&w->chunk_arena, 0);
    ig_arena_init(&w->record_arena, 0);
    ig_arena_init(&w->ev_arena, 0);
    ev_init(&w->ev, &w->ev_arena);
    w->ctx.chunk_arena = &w->chunk_arena;
    w->ctx.record_arena = &w->record_arena;
    w->ctx.tcache = shared;
    return true;
}

void evtx_worker_free(evtx_worker *w)
{
    if (w == NULL)
        return;
    bx_ctx_free(&w->ctx);
    w->ctx.tcache = NULL;
    ig_arena_destroy(&w->chunk_arena);
    ig_arena_destroy(&w->record_arena);
    ev_free(&w->ev);
    ig_arena_destroy(&w->ev_arena);
    ig_free(w->st.v);
    w->st.v = NULL;
}

void evtx_chunk_out_init(evtx_chunk_out *o)
{
    memset(o, 0, sizeof(*o));
    ig_buf_init(&o->text, 0);
    ig_buf_init(&o->msgs, 1u << 20);
}

void evtx_chunk_out_reset(evtx_chunk_out *o)
{
    ig_buf_reset(&o->text);
    ig_buf_reset(&o->msgs);
    o->nan = 0;
    o->records = o->bad_records = o->chunk_bytes = o->chunks = 0;
    o->templates_compiled = o->templates_reused = 0;
}

void evtx_chunk_out_free(evtx_chunk_out *o)
{
    if (o == NULL)
        return;
    ig_buf_free(&o->text);
    ig_buf_free(&o->msgs);
    ig_free(o->an);
    o->an = NULL;
}

void evtx_anom_add(evtx_chunk_out *o, uint64_t offset, int64_t chunk, const char *fmt, ...)
{
    if (o->nan >= IG_MAX_ANOMALIES_PER_FILE)
        return;
    if (o->nan == o->cap_an) {
        uint32_t cap = o->cap_an ? o->cap_an * 2 : 16;
        evtx_anom *an = ig_realloc(o->an, sizeof(*an) * cap);
        if (an == NULL)
            return;
        o->an = an;
        o->cap_an = cap;
    }
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
    size_t at = o->msgs.len;
    if (!ig_buf_put(&o->msgs, tmp, len) || !ig_buf_putc(&o->msgs, 0))
        return;
    o->an[o->nan++] = (evtx_anom){offset, chunk, at};
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Fallback when a framed record cannot be decoded: one line that keeps the
 * record's identity and says why, so that no record disappears. */
static void render_failed(evtx_chunk_out *out, ig_evtx_format fmt, uint64_t rid, uint64_t written,
                          const char *why)
{
    ig_buf *b = &out->text;
    if (fmt == IG_EVTX_JSONL) {
        ig_buf_lit(b, "{\"Event\":{\"System\":{\"EventRecordID\":");
        ig_buf_u64(b, rid);
        ig_buf_lit(b, ",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"");
        evtx_filetime(b, written, 6);
        ig_buf_lit(b, "\"}}}},\"#decode_error\":\"");
        ig_buf_puts(b, why);
        ig_buf_lit(b, "\"}\n");
    } else {
        ig_buf_lit(b, "<Event><System><TimeCreated SystemTime=\"");
        evtx_filetime(b, written, 7);
        ig_buf_lit(b, "\"/><EventRecordID>");
        ig_buf_u64(b, rid);
        ig_buf_lit(b, "</EventRecordID></System><!-- decode error: ");
        ig_buf_puts(b, why);
        ig_buf_lit(b, " --></Event>\n");
    }
}

void evtx_chunk_decode(evtx_worker *w, const evtx_job *job, evtx_chunk_out *out)
{
    const uint8_t *c = job->data;
    uint32_t len = job->len;
    uint64_t file_off = job->file_off;
    int64_t index = job->index;
    ig_evtx_format fmt = w->fmt;
    if (len < IG_EVTX_CHUNK_HEADER_SIZE || memcmp(c, "ElfChnk", 8) != 0) {
        if (!all_zero(c, len < 512 ? len : 512))
            evtx_anom_add(out, file_off, index, "bad chunk signature; chunk skipped");
        return;
    }
    out->chunks++;
    /* flag 0x4: the chunk carries no checksums (libevtx notes §3; sample
     * Application_no_crc32.evtx) */
    bool no_crc = (ig_le32(c + 120) & 4u) != 0;
    uint32_t stored_hcrc = ig_le32(c + 124);
    uint32_t hcrc = no_crc ? stored_hcrc : evtx_crc32(c + 128, 384, evtx_crc32(c, 120, 0));
    if (hcrc != stored_hcrc)
        evtx_anom_add(out, file_off + 124, index,
                      "chunk header CRC32 mismatch (stored %08x, computed %08x)", stored_hcrc,
                      hcrc);
    uint32_t free_off = ig_le32(c + 48);
    uint32_t lim = len;
    if (free_off >= IG_EVTX_CHUNK_HEADER_SIZE && free_off <= len) { /* 512: no records */
        lim = free_off;
        uint32_t stored = ig_le32(c + 52);
        uint32_t dcrc = no_crc ? stored : evtx_crc32(c + 512, lim - 512, 0);
        if (dcrc != stored)
            evtx_anom_add(out, file_off + 52, index,
                          "chunk records CRC32 mismatch (stored %08x, computed %08x)", stored,
                          dcrc);
    } else {
        evtx_anom_add(out, file_off + 48, index, "free space offset %u out of range", free_off);
    }
    out->chunk_bytes += lim;
    if (!bx_ctx_begin_chunk(&w->ctx, c, len)) {
        evtx_anom_add(out, file_off, index, "out of memory; chunk skipped");
        return;
    }
    uint32_t p = IG_EVTX_CHUNK_HEADER_SIZE;
    while ((uint64_t)p + 28 <= lim) {
        if (memcmp(c + p, "\x2a\x2a\x00\x00", 4) != 0) {
            if (!all_zero(c + p, lim - p < 28 ? lim - p : 28))
                evtx_anom_add(out, file_off + p, index,
                              "no record signature; rest of chunk (%u bytes) skipped", lim - p);
            break;
        }
        uint32_t size = ig_le32(c + p + 4);
        if (size < 28 || size > lim - p) {
            evtx_anom_add(out, file_off + p + 4, index, "record size %u out of range", size);
            out->bad_records++;
            break;
        }
        uint64_t rid = ig_le64(c + p + 8), written = ig_le64(c + p + 16);
        uint32_t copy = ig_le32(c + p + size - 4);
        if (copy != size) {
            evtx_anom_add(out, file_off + p, index,
                          "record %llu: size %u differs from its trailing copy %u; skipped",
                          (unsigned long long)rid, size, copy);
            out->bad_records++;
            p += size;
            continue;
        }
        ig_arena_reset(&w->record_arena);
        bx_node *root = bx_parse_record(&w->ctx, p + 24, p + size - 4);
        size_t mark = out->text.len;
        bool ok = false;
        if (root != NULL && mark >= IG_MAX_CHUNK_OUTPUT) {
            w->ctx.err = "chunk output over its limit";
            w->ctx.err_off = p;
        } else if (root != NULL && w->on_event != NULL) {
            evtx_rec rec = {rid, written, root};
            ev_reset(&w->ev);
            ig_arena_reset(&w->ev_arena);
            w->ev.origin.path = job->name;
            w->ev.origin.offset = file_off + p;
            ok = evtx_event_build(&w->st, &rec, &w->ev, &w->ev_arena);
            if (ok)
                w->on_event(w->tud, &w->ev, (ig_evtx_emit *)&out->text);
            else
                w->ctx.err = "record has too many fields";
        } else if (root != NULL) {
            /* a few bytes can name one value many times: cap what a record
             * may expand to */
            size_t max = out->text.max;
            out->text.max = mark + IG_MAX_RECORD_OUTPUT;
            evtx_rec rec = {rid, written, root};
            ok = fmt == IG_EVTX_XML ? evtx_render_xml(&w->st, &rec, &out->text)
                                    : evtx_render_json(&w->ctx, &w->st, &rec, &out->text);
            out->text.max = max;
            if (!ok) {
                out->text.len = mark;
                out->text.failed = false;
                w->ctx.err = "record too large or nested too deeply to render";
                w->ctx.err_off = p;
            }
        }
        if (!ok) {
            evtx_anom_add(out, file_off + w->ctx.err_off, index, "record %llu: %s",
                          (unsigned long long)rid, w->ctx.err ? w->ctx.err : "undecodable");
            if (w->on_event == NULL)
                render_failed(out, fmt, rid, written, w->ctx.err ? w->ctx.err : "undecodable");
        }
        out->records++;
        p += size;
    }
    out->templates_compiled += w->ctx.templates_compiled;
    out->templates_reused += w->ctx.templates_reused;
    w->ctx.templates_compiled = w->ctx.templates_reused = 0;
    bx_ctx_end_chunk(&w->ctx);
}

uint32_t evtx_crc32(const uint8_t *p, size_t n, uint32_t seed)
{
    return ig_crc32(seed, p, n);
}
