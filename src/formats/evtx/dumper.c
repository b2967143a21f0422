/* File header (libevtx notes §2) and the chunk pipeline: the calling thread
 * reads chunks in order into a ring of slots, worker threads decode them in
 * parallel, and the calling thread emits finished slots in ring order, so
 * output order is file order then record order whatever the thread count.
 * Memory is bounded by the ring (4 slots per thread), not by file size. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/rd.h"
#include "core/thread.h"
#include "formats/evtx/chunk.h"

enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

/* An open input file shared by the slots that still have to read from it;
 * the last one closes it. */
typedef struct fref {
    int fd;
    atomic_uint refs;
} fref;

static void fref_release(fref *f)
{
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
        close(f->fd);
        ig_free(f);
    }
}

typedef struct slot {
    int state;
    uint8_t *data; /* IG_EVTX_CHUNK_SIZE bytes */
    fref *src;     /* when set, the decoding thread reads the chunk itself */
    uint32_t len;
    uint64_t file_off;
    int64_t index;
    ig_buf name; /* the input's name, NUL-terminated */
    evtx_chunk_out out;
} slot;

struct ig_evtx_dumper {
    ig_evtx_opts opts;
    unsigned nthreads, nworkers, started;
    pthread_t *threads;
    evtx_worker *workers; /* one per thread (or one for inline decoding) */
    bx_tcache *tcache;    /* templates shared by the workers */
    slot *slots;
    unsigned nslots;
    unsigned head, tail; /* head: next to emit; tail: next to fill */
    unsigned inflight;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    bool stop, stopped_by_output;
    ig_evtx_stats stats;
    evtx_chunk_out hdr_out; /* file-level anomalies */
};

static void report(ig_evtx_dumper *d, const char *name, const evtx_chunk_out *o)
{
    for (uint32_t i = 0; i < o->nan; i++) {
        d->stats.anomalies++;
        if (d->opts.anomaly != NULL) {
            ig_evtx_anomaly a = {name, o->an[i].offset, o->an[i].chunk,
                                 (const char *)o->msgs.data + o->an[i].msg};
            d->opts.anomaly(d->opts.anomaly_ud, &a);
        }
    }
}

static void emit(ig_evtx_dumper *d, slot *s)
{
    evtx_chunk_out *o = &s->out;
    report(d, (const char *)s->name.data, o);
    d->stats.chunks += o->chunks;
    d->stats.records += o->records;
    d->stats.bad_records += o->bad_records;
    d->stats.chunk_bytes += o->chunk_bytes;
    d->stats.templates_compiled += o->templates_compiled;
    d->stats.templates_reused += o->templates_reused;
    if (o->text.len > 0 && !d->stopped_by_output && d->opts.output != NULL &&
        d->opts.output(d->opts.output_ud, (const char *)o->text.data, o->text.len) != 0)
        d->stopped_by_output = true;
    evtx_chunk_out_reset(o);
    if (d->opts.progress != NULL)
        d->opts.progress(d->opts.progress_ud, s->len);
}

static bool read_all(int fd, uint8_t *dst, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* Reads the chunk at `off` (`*len` bytes are there): its header, then only
 * the used part up to the free-space offset — unused chunk space is never
 * read (a damaged chunk or one with a bad offset is read whole).  On return
 * *len is what the decoder may look at. */
static bool read_chunk(int fd, uint64_t off, uint8_t *dst, uint32_t *len)
{
    if (!read_all(fd, dst, IG_EVTX_CHUNK_HEADER_SIZE, off))
        return false;
    uint32_t want = *len;
    if (memcmp(dst, "ElfChnk", 8) != 0) {
        want = IG_EVTX_CHUNK_HEADER_SIZE; /* only its signature is looked at */
    } else {
        uint32_t free_off = ig_le32(dst + 48);
        if (free_off >= IG_EVTX_CHUNK_HEADER_SIZE && free_off <= *len)
            want = free_off;
    }
    if (want > IG_EVTX_CHUNK_HEADER_SIZE &&
        !read_all(fd, dst + IG_EVTX_CHUNK_HEADER_SIZE, want - IG_EVTX_CHUNK_HEADER_SIZE,
                  off + IG_EVTX_CHUNK_HEADER_SIZE))
        return false;
    *len = want;
    return true;
}

/* Reads the slot's chunk when it is still in its file, then decodes it
 * (in whichever thread runs it, so reading is parallel too). */
static void slot_run(evtx_worker *w, slot *s)
{
    if (s->src != NULL) {
        bool ok = read_chunk(s->src->fd, s->file_off, s->data, &s->len);
        fref_release(s->src);
        s->src = NULL;
        if (!ok) {
            evtx_anom_add(&s->out, s->file_off, s->index, "read error; chunk skipped");
            return;
        }
    }
    evtx_job job = {s->data, s->len, s->file_off, s->index, (const char *)s->name.data};
    evtx_chunk_decode(w, &job, &s->out);
}

static void *worker_main(void *arg)
{
    ig_evtx_dumper *d = ((void **)arg)[0];
    evtx_worker *w = ((void **)arg)[1];
    ig_free(arg);
    pthread_mutex_lock(&d->mu);
    for (;;) {
        slot *s = NULL;
        while (!d->stop) {
            /* oldest ready slot first, in ring order from head */
            for (unsigned k = 0; k < d->nslots; k++) {
                unsigned i = (d->head + k) % d->nslots;
                if (d->slots[i].state == SLOT_READY) {
                    s = &d->slots[i];
                    break;
                }
            }
            if (s != NULL)
                break;
            pthread_cond_wait(&d->work, &d->mu);
        }
        if (s == NULL)
            break;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&d->mu);
        slot_run(w, s);
        pthread_mutex_lock(&d->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&d->done);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

ig_evtx_dumper *ig_evtx_dumper_create(const ig_evtx_opts *opts)
{
    ig_evtx_dumper *d = ig_calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->opts = *opts;
    unsigned n = opts->threads;
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
    }
    if (n > IG_MAX_THREADS)
        n = IG_MAX_THREADS;
    d->nthreads = n;
    d->nworkers = n;
    d->nslots = n == 1 ? 1 : 4 * n;
    d->slots = ig_calloc(d->nslots, sizeof(*d->slots));
    d->workers = ig_calloc(n, sizeof(*d->workers));
    d->tcache = bx_tcache_create();
    evtx_chunk_out_init(&d->hdr_out);
    if (d->slots == NULL || d->workers == NULL || d->tcache == NULL)
        goto fail;
    for (unsigned i = 0; i < d->nslots; i++) {
        evtx_chunk_out_init(&d->slots[i].out);
        ig_buf_init(&d->slots[i].name, 65536);
        d->slots[i].data = ig_malloc(IG_EVTX_CHUNK_SIZE);
        if (d->slots[i].data == NULL)
            goto fail;
    }
    for (unsigned i = 0; i < n; i++) {
        evtx_worker *w = &d->workers[i];
        if (!evtx_worker_init(w, d->tcache))
            goto fail;
        w->fmt = opts->format;
        if (opts->on_event != NULL) {
            w->on_event = opts->on_event;
            w->tud = opts->thread_init ? opts->thread_init(opts->event_ud) : opts->event_ud;
            if (opts->thread_init && w->tud == NULL)
                goto fail;
        }
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->work, NULL);
    pthread_cond_init(&d->done, NULL);
    if (n > 1) {
        d->threads = ig_calloc(n, sizeof(*d->threads));
        if (d->threads == NULL)
            goto fail_sync;
        /* the calling thread decodes too (with workers[0]) while it waits */
        for (unsigned i = 1; i < n; i++) {
            void **arg = ig_malloc(2 * sizeof(void *));
            if (arg == NULL)
                goto fail_threads;
            arg[0] = d;
            arg[1] = &d->workers[i];
            if (ig_thread_start(&d->threads[i - 1], i - 1, worker_main, arg) != 0) {
                ig_free(arg);
                goto fail_threads;
            }
            d->started = i;
        }
    }
    return d;
fail_threads:
    /* keep the threads that started; with none, decode inline */
    d->nthreads = d->started + 1;
    if (d->started > 0)
        return d;
    ig_free(d->threads);
    d->threads = NULL;
    d->nthreads = 1;
    d->nslots = 1;
    return d;
fail_sync:
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->work);
    pthread_cond_destroy(&d->done);
fail:
    if (d->slots != NULL)
        for (unsigned i = 0; i < d->nslots; i++) {
            ig_free(d->slots[i].data);
            evtx_chunk_out_free(&d->slots[i].out);
            ig_buf_free(&d->slots[i].name);
        }
    if (d->workers != NULL)
        for (unsigned i = 0; i < n; i++) {
            if (d->workers[i].tud != NULL && opts->thread_fini != NULL)
                opts->thread_fini(d->workers[i].tud);
            evtx_worker_free(&d->workers[i]);
        }
    evtx_chunk_out_free(&d->hdr_out);
    bx_tcache_destroy(d->tcache);
    ig_free(d->slots);
    ig_free(d->workers);
    ig_free(d);
    return NULL;
}

/* Waits for the head slot, emits it and frees it.  Called with mu held
 * (threaded mode). */
static void drain_one(ig_evtx_dumper *d)
{
    slot *s = &d->slots[d->head];
    while (s->state != SLOT_DONE) {
        /* rather than wait, decode the oldest chunk nobody has taken */
        slot *r = NULL;
        for (unsigned k = 0; k < d->nslots && r == NULL; k++) {
            slot *c = &d->slots[(d->head + k) % d->nslots];
            if (c->state == SLOT_READY)
                r = c;
        }
        if (r == NULL) {
            pthread_cond_wait(&d->done, &d->mu);
            continue;
        }
        r->state = SLOT_BUSY;
        pthread_mutex_unlock(&d->mu);
        slot_run(&d->workers[0], r);
        pthread_mutex_lock(&d->mu);
        r->state = SLOT_DONE;
    }
    pthread_mutex_unlock(&d->mu);
    emit(d, s);
    pthread_mutex_lock(&d->mu);
    s->state = SLOT_FREE;
    d->head = (d->head + 1) % d->nslots;
    d->inflight--;
}

/* Queues one chunk for decoding: `data` is copied, or when `ref` is set the
 * chunk is read from that file by the thread that decodes it.  Emits
 * finished work as needed. */
static void submit(ig_evtx_dumper *d, const char *name, const uint8_t *data, fref *ref,
                   uint32_t len, uint64_t file_off, int64_t index)
{
    if (d->threads == NULL) {
        slot *s = &d->slots[0];
        ig_buf_reset(&s->name);
        ig_buf_puts(&s->name, name);
        ig_buf_putc(&s->name, 0);
        if (s->name.failed)
            ig_buf_reset(&s->name), ig_buf_lit(&s->name, "?\0");
        evtx_job job = {data, len, file_off, index, (const char *)s->name.data};
        evtx_chunk_decode(&d->workers[0], &job, &s->out);
        emit(d, s);
        return;
    }
    pthread_mutex_lock(&d->mu);
    while (d->inflight == d->nslots)
        drain_one(d);
    slot *s = &d->slots[d->tail];
    pthread_mutex_unlock(&d->mu);
    if (ref != NULL) {
        atomic_fetch_add_explicit(&ref->refs, 1, memory_order_relaxed);
        s->src = ref;
    } else if (s->data != data) {
        memcpy(s->data, data, len);
    }
    s->len = len;
    s->file_off = file_off;
    s->index = index;
    ig_buf_reset(&s->name);
    ig_buf_puts(&s->name, name);
    ig_buf_putc(&s->name, 0);
    if (s->name.failed)
        ig_buf_reset(&s->name), ig_buf_lit(&s->name, "?\0");
    pthread_mutex_lock(&d->mu);
    s->state = SLOT_READY;
    d->tail = (d->tail + 1) % d->nslots;
    d->inflight++;
    pthread_cond_signal(&d->work);
    /* emit whatever is already finished, without waiting */
    while (d->inflight > 0 && d->slots[d->head].state == SLOT_DONE)
        drain_one(d);
    pthread_mutex_unlock(&d->mu);
}

static void file_anomaly(ig_evtx_dumper *d, const char *name, uint64_t off, const char *fmt,
                         const char *detail)
{
    evtx_chunk_out *o = &d->hdr_out;
    evtx_anom_add(o, off, -1, fmt, detail);
    report(d, name, o);
    evtx_chunk_out_reset(o);
}

/* Reads up to `n` bytes at `off` from either a file or a buffer. */
typedef struct src {
    int fd;
    const uint8_t *buf;
    uint64_t size;
    fref *ref; /* threaded file input: chunks are read by the decoders */
} src;

static bool src_read(const src *s, uint64_t off, uint8_t *dst, uint32_t n, const uint8_t **out)
{
    if (off >= s->size)
        return false;
    if (s->buf != NULL) {
        *out = s->buf + off;
        return true;
    }
    if (!read_all(s->fd, dst, n, off))
        return false;
    *out = dst;
    return true;
}

static ig_err dump_src(ig_evtx_dumper *d, const char *name, const src *s)
{
    uint8_t hdr[IG_EVTX_HEADER_SIZE];
    const uint8_t *h = NULL;
    d->stats.files++;
    if (s->size < 128 || !src_read(s, 0, hdr, 128, &h) || memcmp(h, "ElfFile", 8) != 0) {
        /* a header may be damaged while its chunks are fine */
        uint8_t probe[8];
        const uint8_t *pc = NULL;
        if (s->size >= IG_EVTX_HEADER_SIZE + 8 && src_read(s, IG_EVTX_HEADER_SIZE, probe, 8, &pc) &&
            memcmp(pc, "ElfChnk", 8) == 0) {
            file_anomaly(d, name, 0, "%s", "bad file header signature; reading chunks anyway");
        } else {
            d->stats.files_failed++;
            file_anomaly(d, name, 0, "%s", "not an EVTX file (no ElfFile signature)");
            return IG_EFORMAT;
        }
    } else {
        uint32_t stored = ig_le32(h + 124), crc = evtx_crc32(h, 120, 0);
        if (stored != crc) {
            char det[64];
            snprintf(det, sizeof(det), "stored %08x, computed %08x", stored, crc);
            file_anomaly(d, name, 124, "file header CRC32 mismatch (%s)", det);
        }
        uint16_t minor = ig_le16(h + 36), major = ig_le16(h + 38);
        if (major != 3 || (minor != 1 && minor != 2)) {
            char det[32];
            snprintf(det, sizeof(det), "%u.%u", major, minor);
            file_anomaly(d, name, 36, "unknown format version %s; decoding anyway", det);
        }
    }
    uint8_t *buf = d->threads == NULL ? d->slots[0].data : NULL;
    int64_t index = 0;
    for (uint64_t off = IG_EVTX_HEADER_SIZE; off < s->size; off += IG_EVTX_CHUNK_SIZE, index++) {
        uint64_t left = s->size - off;
        uint32_t len = left < IG_EVTX_CHUNK_SIZE ? (uint32_t)left : IG_EVTX_CHUNK_SIZE;
        if (len < IG_EVTX_CHUNK_SIZE) {
            char det[48];
            snprintf(det, sizeof(det), "%u", len);
            file_anomaly(d, name, off, "truncated chunk at end of file (%s bytes); skipped", det);
            break;
        }
        const uint8_t *chunk = NULL;
        uint8_t *dst = buf;
        if (s->ref != NULL) {
            submit(d, name, NULL, s->ref, len, off, index);
            if (d->stopped_by_output)
                break;
            continue;
        }
        if (dst == NULL) {
            /* threaded: read straight into the next slot's buffer */
            pthread_mutex_lock(&d->mu);
            while (d->inflight == d->nslots)
                drain_one(d);
            dst = d->slots[d->tail].data;
            pthread_mutex_unlock(&d->mu);
        }
        bool ok;
        if (s->buf == NULL && dst != NULL) {
            ok = read_chunk(s->fd, off, dst, &len); /* the used part only */
            chunk = dst;
        } else {
            ok = src_read(s, off, dst, len, &chunk);
        }
        if (!ok) {
            file_anomaly(d, name, off, "%s", "read error; rest of file skipped");
            return IG_EIO;
        }
        submit(d, name, chunk, NULL, len, off, index);
        if (d->stopped_by_output)
            break;
    }
    return IG_OK;
}

ig_err ig_evtx_dumper_buffer(ig_evtx_dumper *d, const char *name, const uint8_t *data, size_t len)
{
    src s = {-1, data, len, NULL};
    return dump_src(d, name, &s);
}

ig_err ig_evtx_dumper_file(ig_evtx_dumper *d, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        d->stats.files++;
        d->stats.files_failed++;
        file_anomaly(d, path, 0, "cannot read: %s",
                     fd >= 0 && e == 0 ? "not a regular file" : strerror(e ? e : EISDIR));
        if (fd >= 0)
            close(fd);
        return IG_EIO;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    src s = {fd, NULL, (uint64_t)st.st_size, NULL};
    if (d->threads != NULL) {
        /* the decoding threads read the chunks; the last one closes */
        s.ref = ig_malloc(sizeof(*s.ref));
        if (s.ref != NULL) {
            s.ref->fd = fd;
            atomic_init(&s.ref->refs, 1);
        }
    }
    ig_err e = dump_src(d, path, &s);
    if (s.ref != NULL)
        fref_release(s.ref);
    else
        close(fd);
    return e;
}

static void finish(ig_evtx_dumper *d)
{
    if (d->threads == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    while (d->inflight > 0)
        drain_one(d);
    pthread_mutex_unlock(&d->mu);
}

void ig_evtx_dumper_stats(ig_evtx_dumper *d, ig_evtx_stats *out)
{
    finish(d);
    *out = d->stats;
}

void ig_evtx_dumper_destroy(ig_evtx_dumper *d)
{
    if (d == NULL)
        return;
    finish(d);
    if (d->threads != NULL) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_broadcast(&d->work);
        pthread_mutex_unlock(&d->mu);
        for (unsigned i = 0; i < d->started; i++)
            pthread_join(d->threads[i], NULL);
        ig_free(d->threads);
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->work);
    pthread_cond_destroy(&d->done);
    for (unsigned i = 0; i < d->nslots; i++) {
        ig_free(d->slots[i].data);
        evtx_chunk_out_free(&d->slots[i].out);
        ig_buf_free(&d->slots[i].name);
    }
    for (unsigned i = 0; i < d->nworkers; i++) {
        if (d->workers[i].tud != NULL && d->opts.thread_fini != NULL)
            d->opts.thread_fini(d->workers[i].tud);
        evtx_worker_free(&d->workers[i]);
    }
    evtx_chunk_out_free(&d->hdr_out);
    bx_tcache_destroy(d->tcache);
    ig_free(d->slots);
    ig_free(d->workers);
    ig_free(d);
}
