#define _DEFAULT_SOURCE /* O_CLOEXEC */
/* JSON lines over several threads (hunt_jsonl.h).
 *
 * The hunting threads read the file themselves, one after the other: under
 * the lock a thread takes the next piece — the unfinished line the previous
 * piece left, then about HJ_PIECE bytes more, cut after its last line break
 * — counts its lines, and hunts it after letting go of the lock.  The piece
 * is still in that core's cache when its lines are parsed, and no thread
 * does nothing but read.  A line longer than the reader takes (HJ_READ
 * bytes with its line break) is read through and skipped, reported in its
 * place.  Each piece's alerts and messages wait in a slot of a ring until
 * the pieces before it are written; whichever thread finishes the oldest
 * writes it and the ones done after it.  A thread waits for a slot when
 * HJ_SLOTS(nt) pieces are waiting to be written. */
#include "cli/hunt_jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/thread.h"
#include "formats/jsonl/jsonl_limits.h"

/* the longest line taken, with its line break */
#define HJ_READ      (IG_MAX_JSON_LINE + 2u)
/* bytes a piece reads after the unfinished line it starts with (a piece
 * and the thread's state fit in its core's cache) */
#define HJ_PIECE     (256u << 10)
/* pieces hunted or waiting to be written at once */
#define HJ_SLOTS(nt) (4u * (nt))

/* A piece's results, until it is written. */
typedef struct hj_slot {
    ig_buf out;     /* its alerts */
    ig_buf err;     /* its message lines */
    uint64_t bytes; /* of the file it took (for the progress bar) */
    bool done;      /* hunted (under hj.mu) */
} hj_slot;

typedef struct hj {
    hj_event_fn on_event;
    const char *path;
    cli_out *os;
    void (*tick)(void *, uint64_t);
    void *tick_ud;
    pthread_mutex_t mu;
    pthread_cond_t slot_free; /* a piece written, or the end */
    /* the input (under mu) */
    int fd;
    bool eof, failed, stop; /* stop: no piece more to take */
    uint64_t line;          /* of the next piece's first byte */
    uint64_t too_long;      /* lines skipped */
    ig_buf carry;           /* the unfinished line the last piece left */
    bool carry_lines;       /* ... or, after a skipped line, what followed it: whole lines too */
    /* the pieces: taken [0, seq), written [0, wseq) (under mu) */
    hj_slot *slots;
    unsigned nslots;
    uint64_t seq, wseq;
    bool writing; /* a thread is writing slots */
} hj;

/* A hunting thread: its buffer (the piece it hunts) and reader. */
typedef struct hj_worker {
    hj *h;
    void *tud;
    ig_json_lines *jl;
    char *buf;
    size_t cap;
    hj_slot *cur; /* where the piece's results go */
} hj_worker;

static void say(cli_out *o, const char *path, uint64_t line, const char *what)
{
    if (!o->quiet)
        fprintf(stderr, "%siisguard: %s:%llu: %s\n", o->clear ? "\r\033[K" : "", path,
                (unsigned long long)line, what);
}

static void put_msg(ig_buf *err, const char *path, uint64_t line, const char *what)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "%s:%llu: %s\n", path, (unsigned long long)line, what);
    if (n > 0)
        ig_buf_put(err, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

static void on_error(void *ud, const char *path, uint64_t line, const char *what)
{
    hj_worker *w = ud;
    put_msg(&w->cur->err, path, line, what);
}

static void on_event(void *ud, ig_event *ev)
{
    hj_worker *w = ud;
    w->h->on_event(w->tud, ev, (ig_evtx_emit *)&w->cur->out);
}

/* Writes a slot's message lines, then its alerts, and empties both. */
static void flush_slot(hj_slot *s, cli_out *os)
{
    const char *e = (const char *)s->err.data;
    for (size_t pos = 0; pos < s->err.len;) {
        const char *nl = memchr(e + pos, '\n', s->err.len - pos);
        size_t end = nl ? (size_t)(nl - e) : s->err.len;
        if (!os->quiet)
            fprintf(stderr, "%siisguard: %.*s\n", os->clear ? "\r\033[K" : "", (int)(end - pos),
                    e + pos);
        pos = end + 1;
    }
    if (s->out.len)
        cli_out_write(os, (const char *)s->out.data, s->out.len);
    ig_buf_reset(&s->err);
    ig_buf_reset(&s->out);
}

/* Under h->mu: writes the slots that are done, in order, unless another
 * thread is at it (it will write those done meanwhile: it looks again under
 * the lock before it stops). */
static void write_ready(hj *h)
{
    if (h->writing)
        return;
    h->writing = true;
    while (h->wseq < h->seq && h->slots[h->wseq % h->nslots].done) {
        hj_slot *s = &h->slots[h->wseq % h->nslots];
        pthread_mutex_unlock(&h->mu);
        flush_slot(s, h->os);
        if (h->tick != NULL)
            h->tick(h->tick_ud, s->bytes);
        pthread_mutex_lock(&h->mu);
        s->done = false;
        h->wseq++;
        if (h->os->failed)  /* written by the writing thread only */
            h->stop = true; /* what is in flight is let go */
        pthread_cond_broadcast(&h->slot_free);
    }
    h->writing = false;
}

/* Feeds a piece's lines (CR LF taken; the reader passes over blank ones)
 * to the reader. */
static void hunt_piece(hj_worker *w, const char *data, size_t len, uint64_t line)
{
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t n = end - pos;
        if (n && data[pos + n - 1] == '\r')
            n--;
        ig_json_lines_feed(w->jl, w->h->path, line, data + pos, n);
        line++;
        pos = end + 1;
    }
}

/* Reads up to `want` bytes into w->buf (holding `have`); returns the bytes
 * held.  Sets h->eof at the end of the file, h->failed (said) on an error. */
static size_t read_upto(hj *h, hj_worker *w, size_t have, size_t want)
{
    while (!h->eof && have < want) {
        ssize_t n = read(h->fd, w->buf + have, want - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            say(h->os, h->path, h->line, strerror(errno));
            h->failed = true;
        }
        if (n <= 0)
            h->eof = true;
        else
            have += (size_t)n;
    }
    return have;
}

static bool reserve(hj_worker *w, size_t n)
{
    if (n <= w->cap)
        return true;
    char *b = ig_realloc(w->buf, n);
    if (b == NULL)
        return false;
    w->buf = b;
    w->cap = n;
    return true;
}

/* Reads through the line over the limit that starts the piece (its message
 * in `s`); what follows its line break is left in h->carry. */
static void skip_line(hj *h, hj_worker *w, hj_slot *s)
{
    put_msg(&s->err, h->path, h->line, "line longer than the limit (8 MiB); skipped");
    h->too_long++;
    for (;;) {
        size_t have = read_upto(h, w, 0, w->cap);
        s->bytes += have;
        const char *nl = memchr(w->buf, '\n', have);
        if (nl != NULL) {
            size_t after = (size_t)(nl - w->buf) + 1;
            s->bytes -= have - after;
            if (!ig_buf_put(&h->carry, nl + 1, have - after))
                h->failed = true; /* said by the caller */
            h->carry_lines = true;
            h->line++;
            return;
        }
        if (h->eof)
            return;
    }
}

/* Under h->mu: takes the next piece into w->buf (its results going to `s`);
 * returns its length (0: none, or a skipped line) and sets *line to the
 * number of its first line.  Sets h->stop when nothing follows. */
static size_t take(hj *h, hj_worker *w, hj_slot *s, uint64_t *line)
{
    size_t have = h->carry.len, len = 0;
    size_t want = have + HJ_PIECE < HJ_READ ? have + HJ_PIECE : HJ_READ;
    /* bytes known to hold no line break: an unfinished line carried has
     * none; what followed a skipped line may hold whole lines */
    size_t scanned = h->carry_lines ? 0 : have;
    h->carry_lines = false;
    if (want < have)
        want = have;
    *line = h->line;
    s->bytes = 0;
    if (!reserve(w, want)) {
        say(h->os, h->path, h->line, "out of memory");
        h->failed = h->stop = true;
        return 0;
    }
    if (have > 0)
        memcpy(w->buf, h->carry.data, have);
    ig_buf_reset(&h->carry);
    for (;;) {
        have = read_upto(h, w, have, want);
        size_t k = have;
        while (k > scanned && w->buf[k - 1] != '\n')
            k--;
        if (k > scanned || h->eof) { /* whole lines, or the last one */
            len = k > scanned ? k : have;
            break;
        }
        scanned = have;
        if (have >= HJ_READ) { /* one line, over the limit */
            s->bytes = have;
            skip_line(h, w, s);
            break;
        }
        want = want * 2 < HJ_READ ? want * 2 : HJ_READ;
        if (!reserve(w, want)) {
            say(h->os, h->path, h->line, "out of memory");
            h->failed = true;
            break;
        }
    }
    if (len > 0) {
        if (!ig_buf_put(&h->carry, w->buf + len, have - len)) {
            say(h->os, h->path, h->line, "out of memory");
            h->failed = true;
        }
        s->bytes += len;
        for (const char *p = w->buf; (p = memchr(p, '\n', (size_t)(w->buf + len - p))) != NULL; p++)
            h->line++;
    }
    h->stop = h->stop || h->failed || (h->eof && h->carry.len == 0);
    return len;
}

static void *work(void *ud)
{
    hj_worker *w = ud;
    hj *h = w->h;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && h->seq - h->wseq >= h->nslots)
            pthread_cond_wait(&h->slot_free, &h->mu);
        if (h->stop)
            break;
        hj_slot *s = &h->slots[h->seq++ % h->nslots];
        uint64_t line;
        size_t len = take(h, w, s, &line);
        if (h->stop)
            pthread_cond_broadcast(&h->slot_free); /* the others end */
        pthread_mutex_unlock(&h->mu);
        w->cur = s;
        hunt_piece(w, w->buf, len, line);
        pthread_mutex_lock(&h->mu);
        s->done = true;
        write_ready(h);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

bool hj_line_per_event(const uint8_t *head, size_t n)
{
    const char *buf = (const char *)head;
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    const char *nl = i < n ? memchr(buf + i, '\n', n - i) : NULL;
    if (nl == NULL || buf[i] != '{')
        return false;
    size_t e = (size_t)(nl - buf);
    while (e > i && (buf[e - 1] == '\r' || buf[e - 1] == ' ' || buf[e - 1] == '\t'))
        e--;
    return e > i && buf[e - 1] == '}';
}

bool hj_hunt(void *const *tuds, unsigned nt, hj_event_fn on_event_fn, const char *path, cli_out *os,
             ig_src_stats *st, void (*tick)(void *, uint64_t), void *tick_ud)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        say(os, path, 0, strerror(errno));
        return false;
    }
    if (nt > IG_MAX_THREADS)
        nt = IG_MAX_THREADS;
    if (nt == 0)
        nt = 1;
    hj h = {.on_event = on_event_fn,
            .path = path,
            .os = os,
            .tick = tick,
            .tick_ud = tick_ud,
            .mu = PTHREAD_MUTEX_INITIALIZER,
            .slot_free = PTHREAD_COND_INITIALIZER,
            .fd = fd,
            .line = 1,
            .nslots = HJ_SLOTS(nt)};
    ig_buf_init(&h.carry, 0);
    hj_worker w[IG_MAX_THREADS];
    memset(w, 0, sizeof(w));
    h.slots = calloc(h.nslots, sizeof(*h.slots));
    bool ok = h.slots != NULL;
    for (unsigned i = 0; ok && i < h.nslots; i++) {
        ig_buf_init(&h.slots[i].out, 0);
        ig_buf_init(&h.slots[i].err, 0);
    }
    for (unsigned i = 0; ok && i < nt; i++) {
        w[i] = (hj_worker){&h, tuds[i], NULL, NULL, 0, NULL};
        ok = (w[i].jl = ig_json_lines_create(on_event, on_error, &w[i])) != NULL;
    }
    if (!ok)
        say(os, path, 0, "out of memory");
    /* this thread hunts too, with the first state */
    pthread_t tid[IG_MAX_THREADS];
    unsigned started = 1;
    for (; ok && started < nt; started++)
        if (ig_thread_start(&tid[started], started - 1, work, &w[started]) != 0)
            break;
    if (ok)
        work(&w[0]);
    for (unsigned i = 1; ok && i < started; i++)
        pthread_join(tid[i], NULL);
    if (ok) { /* every piece is written: each thread wrote what it finished */
        pthread_mutex_lock(&h.mu);
        write_ready(&h);
        pthread_mutex_unlock(&h.mu);
    }
    st->bad_records += h.too_long;
    for (unsigned i = 0; i < nt; i++) {
        if (w[i].jl != NULL) {
            ig_src_stats js;
            ig_json_lines_stats(w[i].jl, &js);
            st->events += js.events;
            st->bad_records += js.bad_records;
            ig_json_lines_destroy(w[i].jl);
        }
        free(w[i].buf);
    }
    for (unsigned i = 0; h.slots != NULL && i < h.nslots; i++) {
        ig_buf_free(&h.slots[i].out);
        ig_buf_free(&h.slots[i].err);
    }
    free(h.slots);
    ig_buf_free(&h.carry);
    pthread_cond_destroy(&h.slot_free);
    pthread_mutex_destroy(&h.mu);
    close(fd);
    return ok && !h.failed;
}
