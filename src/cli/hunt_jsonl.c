#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
/* JSON lines over several threads (hunt_jsonl.h).
 *
 * The file is read in blocks (HJ_READ bytes after the unfinished line the
 * previous block left); a block is cut into pieces of whole lines of about
 * HJ_PIECE bytes, and lines longer than the reader takes are skipped
 * (reported in their place).  The pieces of every block go into one queue
 * the hunting threads take from; each piece keeps its alerts and messages
 * until this thread, in file order, writes them.  HJ_BLOCKS(nt) blocks are
 * in flight: while the threads hunt, the next blocks are read. */
#include "cli/hunt_jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "core/buf.h"
#include "core/limits.h"
#include "formats/jsonl/jsonl_limits.h"

/* bytes a block reads, and the longest line taken with its line break */
#define HJ_READ       (IG_MAX_JSON_LINE + 2u)
/* a block: the unfinished line of the previous one (< HJ_READ) + HJ_READ */
#define HJ_CAP        (2u * HJ_READ)
#define HJ_HUGE       ((size_t)2 << 20)
/* bytes a piece aims at (a longer line makes a piece of its own) */
#define HJ_PIECE      (1u << 20)
/* entries a block cuts into at most: pieces (a piece and the first line
 * of the next are over HJ_PIECE bytes together) and lines over the limit
 * (each over HJ_READ bytes: at most two start in a block) */
#define HJ_ENTRIES    (2u * (HJ_CAP / HJ_PIECE + 1u) + 4u)
/* blocks in flight: enough pieces for every thread to have two */
#define HJ_BLOCKS(nt) (2u + (2u * (nt) + HJ_CAP / HJ_PIECE - 1u) / (HJ_CAP / HJ_PIECE))

typedef struct hj hj;

/* A piece of whole lines and what hunting it gave. */
typedef struct hj_job {
    hj *h;
    void *tud; /* the state of the thread hunting it */
    ig_json_lines *jl;
    const char *data;
    size_t len;
    uint64_t first_line;
    ig_buf out; /* its alerts, written in order by the reading thread */
    ig_buf err; /* its message lines, likewise */
    bool done;  /* hunted (under hj.mu) */
} hj_job;

/* An entry of a block, in file order: a piece (its job), or a line over
 * the limit that was skipped (job NULL, its line number). */
typedef struct hj_entry {
    hj_job *job;
    uint64_t skipped;
} hj_entry;

typedef struct hj_block {
    char *buf;
    hj_job *jobs;   /* HJ_ENTRIES */
    hj_entry *ents; /* HJ_ENTRIES */
    unsigned n;     /* entries */
    size_t used;    /* bytes of the block done with (the rest is carried) */
    bool busy;      /* filled and not all written */
} hj_block;

struct hj {
    hj_event_fn on_event;
    const char *path;
    cli_out *os;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a piece queued, or the end */
    pthread_cond_t done; /* a piece hunted */
    hj_job **queue;      /* pieces not taken yet: a ring */
    unsigned qcap, qhead, qlen;
    bool end; /* nothing more will be queued */
};

static void say(cli_out *o, const char *path, uint64_t line, const char *what)
{
    if (!o->quiet)
        fprintf(stderr, "%siisguard: %s:%llu: %s\n", o->clear ? "\r\033[K" : "", path,
                (unsigned long long)line, what);
}

static void on_error(void *ud, const char *path, uint64_t line, const char *what)
{
    hj_job *j = ud;
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "%s:%llu: %s\n", path, (unsigned long long)line, what);
    if (n > 0)
        ig_buf_put(&j->err, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

static void on_event(void *ud, ig_event *ev)
{
    hj_job *j = ud;
    j->h->on_event(j->tud, ev, (ig_evtx_emit *)&j->out);
}

/* Writes a job's message lines, then its alerts, and empties both. */
static void flush_job(hj_job *j, cli_out *os)
{
    const char *e = (const char *)j->err.data;
    for (size_t pos = 0; pos < j->err.len;) {
        const char *nl = memchr(e + pos, '\n', j->err.len - pos);
        size_t end = nl ? (size_t)(nl - e) : j->err.len;
        if (!os->quiet)
            fprintf(stderr, "%siisguard: %.*s\n", os->clear ? "\r\033[K" : "", (int)(end - pos),
                    e + pos);
        pos = end + 1;
    }
    if (j->out.len)
        cli_out_write(os, (const char *)j->out.data, j->out.len);
    ig_buf_reset(&j->err);
    ig_buf_reset(&j->out);
}

/* Feeds a piece's lines (blank ones left out, CR LF taken) to its reader. */
static void hunt_piece(hj_job *j)
{
    uint64_t line = j->first_line;
    for (size_t pos = 0; pos < j->len;) {
        const char *nl = memchr(j->data + pos, '\n', j->len - pos);
        size_t end = nl ? (size_t)(nl - j->data) : j->len;
        size_t n = end - pos;
        if (n && j->data[pos + n - 1] == '\r')
            n--;
        bool blank = true;
        for (size_t k = pos; k < pos + n && blank; k++)
            blank = j->data[k] == ' ' || j->data[k] == '\t';
        if (!blank)
            ig_json_lines_feed(j->jl, j->h->path, line, j->data + pos, n);
        line++;
        pos = end + 1;
    }
}

typedef struct hj_worker {
    hj *h;
    void *tud;
} hj_worker;

static void *worker(void *ud)
{
    hj_worker *w = ud;
    hj *h = w->h;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->qlen == 0 && !h->end)
            pthread_cond_wait(&h->work, &h->mu);
        if (h->qlen == 0)
            break;
        hj_job *j = h->queue[h->qhead];
        h->qhead = (h->qhead + 1) % h->qcap;
        h->qlen--;
        pthread_mutex_unlock(&h->mu);
        j->tud = w->tud;
        hunt_piece(j);
        pthread_mutex_lock(&h->mu);
        j->done = true;
        pthread_cond_broadcast(&h->done);
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

/* Length of the piece of whole lines at buf[pos, have): about HJ_PIECE
 * bytes cut after a line break, or one longer line.  0 when its line is
 * not all in the buffer yet (it waits for the next block); SIZE_MAX when
 * that line is longer than the reader takes (skipped).  `eof`: nothing
 * follows buf[have), so a last line needs no line break. */
static size_t cut(const char *buf, size_t pos, size_t have, bool eof)
{
    size_t lim = pos + HJ_READ < have ? pos + HJ_READ : have;
    bool rest = eof && lim == have; /* the rest of the input is within reach */
    size_t end = pos + HJ_PIECE < lim ? pos + HJ_PIECE : lim;
    if (rest && end == lim)
        return lim - pos;
    size_t k = end - pos;
    while (k > 0 && buf[pos + k - 1] != '\n')
        k--;
    if (k > 0)
        return k;
    const char *nl = memchr(buf + end, '\n', lim - end); /* a line longer than a piece */
    if (nl != NULL)
        return (size_t)(nl - buf) + 1 - pos;
    if (rest)
        return lim - pos;
    return lim - pos < HJ_READ ? 0 : SIZE_MAX;
}

/* The reading side: where the file is, and the lines counted so far. */
typedef struct hj_reader {
    int fd;
    bool eof, failed;
    bool skipping; /* inside a line over the limit */
    uint64_t line, too_long;
} hj_reader;

/* Fills block `b` (after `carry` bytes already at its start) and cuts it
 * into entries; returns the bytes of an unfinished line left at its end,
 * at b->buf + b->used. */
static size_t fill(hj *h, hj_reader *r, hj_block *b, size_t carry)
{
    size_t have = carry, want = carry + HJ_READ < HJ_CAP ? carry + HJ_READ : HJ_CAP;
    while (!r->eof && have < want) {
        ssize_t n = read(r->fd, b->buf + have, want - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            say(h->os, h->path, r->line, strerror(errno));
            r->failed = true;
        }
        if (n <= 0)
            r->eof = true;
        else
            have += (size_t)n;
    }
    size_t pos = 0;
    b->n = 0;
    while (pos < have && b->n < HJ_ENTRIES) {
        if (r->skipping) { /* the rest of a line over the limit */
            const char *nl = memchr(b->buf + pos, '\n', have - pos);
            pos = nl ? (size_t)(nl - b->buf) + 1 : have;
            r->skipping = nl == NULL;
            r->line += nl != NULL;
            continue;
        }
        size_t k = cut(b->buf, pos, have, r->eof);
        if (k == 0)
            break; /* an unfinished line: with the next block */
        if (k == SIZE_MAX) {
            b->ents[b->n++] = (hj_entry){NULL, r->line}; /* said in order */
            r->too_long++;
            r->skipping = true;
            pos += HJ_READ;
            continue;
        }
        hj_job *j = &b->jobs[b->n];
        j->data = b->buf + pos;
        j->len = k;
        j->first_line = r->line;
        j->done = false;
        for (const char *p = j->data; (p = memchr(p, '\n', (size_t)(j->data + k - p))) != NULL; p++)
            r->line++;
        pos += k;
        b->ents[b->n++] = (hj_entry){j, 0};
    }
    b->used = pos;
    b->busy = true;
    /* queue the pieces */
    pthread_mutex_lock(&h->mu);
    for (unsigned i = 0; i < b->n; i++)
        if (b->ents[i].job != NULL) {
            h->queue[(h->qhead + h->qlen) % h->qcap] = b->ents[i].job;
            h->qlen++;
        }
    pthread_cond_broadcast(&h->work);
    pthread_mutex_unlock(&h->mu);
    return have - pos;
}

/* Writes what block `b` gave, in order, each piece once it is hunted. */
static void flush_block(hj *h, hj_block *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        hj_entry *e = &b->ents[i];
        if (e->job != NULL) {
            pthread_mutex_lock(&h->mu);
            while (!e->job->done)
                pthread_cond_wait(&h->done, &h->mu);
            pthread_mutex_unlock(&h->mu);
            flush_job(e->job, h->os);
        } else {
            say(h->os, h->path, e->skipped, "line longer than the limit (8 MiB); skipped");
        }
    }
    b->busy = false;
}

static void blocks_free(hj_block *blk, unsigned nb, ig_src_stats *st)
{
    for (unsigned i = 0; blk != NULL && i < nb; i++) {
        for (unsigned k = 0; blk[i].jobs != NULL && k < HJ_ENTRIES; k++) {
            hj_job *j = &blk[i].jobs[k];
            if (j->jl != NULL) {
                ig_src_stats js;
                ig_json_lines_stats(j->jl, &js);
                st->events += js.events;
                st->bad_records += js.bad_records;
            }
            ig_json_lines_destroy(j->jl);
            ig_buf_free(&j->out);
            ig_buf_free(&j->err);
        }
        free(blk[i].jobs);
        free(blk[i].ents);
        free(blk[i].buf);
    }
    free(blk);
}

/* A block's buffer, in huge pages where the system gives them on request
 * (fewer page faults for the reading thread). */
static char *block_alloc(void)
{
    void *p = NULL;
    if (posix_memalign(&p, HJ_HUGE, HJ_CAP) != 0)
        return malloc(HJ_CAP);
#ifdef MADV_HUGEPAGE
    madvise(p, HJ_CAP, MADV_HUGEPAGE);
#endif
    return p;
}

static bool blocks_make(hj *h, hj_block *blk, unsigned nb)
{
    for (unsigned i = 0; i < nb; i++) {
        blk[i].buf = block_alloc();
        blk[i].jobs = calloc(HJ_ENTRIES, sizeof(*blk[i].jobs));
        blk[i].ents = calloc(HJ_ENTRIES, sizeof(*blk[i].ents));
        if (blk[i].buf == NULL || blk[i].jobs == NULL || blk[i].ents == NULL)
            return false;
        for (unsigned k = 0; k < HJ_ENTRIES; k++) {
            hj_job *j = &blk[i].jobs[k];
            j->h = h;
            ig_buf_init(&j->out, 0);
            ig_buf_init(&j->err, 0);
            if ((j->jl = ig_json_lines_create(on_event, on_error, j)) == NULL)
                return false;
        }
    }
    return true;
}

bool hj_hunt(void *const *tuds, unsigned nt, hj_event_fn on_event_fn, const char *path, cli_out *os,
             ig_src_stats *st, void (*tick)(void *, uint64_t), void *tick_ud)
{
    hj_reader r = {open(path, O_RDONLY | O_CLOEXEC), false, false, false, 1, 0};
    if (r.fd < 0) {
        say(os, path, 0, strerror(errno));
        return false;
    }
    if (nt > IG_MAX_THREADS)
        nt = IG_MAX_THREADS;
    unsigned nb = HJ_BLOCKS(nt);
    hj h = {on_event_fn,
            path,
            os,
            PTHREAD_MUTEX_INITIALIZER,
            PTHREAD_COND_INITIALIZER,
            PTHREAD_COND_INITIALIZER,
            NULL,
            nb * HJ_ENTRIES,
            0,
            0,
            false};
    hj_block *blk = calloc(nb, sizeof(*blk));
    h.queue = malloc(sizeof(*h.queue) * h.qcap);
    bool ok = blk != NULL && h.queue != NULL && blocks_make(&h, blk, nb);
    pthread_t tid[IG_MAX_THREADS];
    hj_worker w[IG_MAX_THREADS];
    unsigned started = 0;
    for (; ok && started < nt; started++) {
        w[started] = (hj_worker){&h, tuds[started]};
        if (pthread_create(&tid[started], NULL, worker, &w[started]) != 0)
            break;
    }
    if (started == 0)
        ok = false;
    /* blocks in a ring: fill the next one when it is free, write the oldest
     * as its pieces are hunted */
    unsigned next = 0, oldest = 0, inflight = 0;
    size_t carry = 0;
    bool input = ok;
    while (ok && (input || inflight > 0)) {
        if (os->failed)
            input = false; /* writing failed: what is in flight is let go */
        if (input && !blk[next].busy) {
            hj_block *b = &blk[next], *prev = &blk[(next + nb - 1) % nb];
            if (carry > 0) /* the unfinished line the previous block left */
                memcpy(b->buf, prev->buf + prev->used, carry);
            carry = fill(&h, &r, b, carry);
            inflight++;
            next = (next + 1) % nb;
            /* nothing more: the input ended, or a block made no progress */
            input = !r.failed && !(r.eof && (carry == 0 || b->used == 0));
            continue;
        }
        /* every block is in flight, or the input is all read: write the
         * oldest (waiting for its pieces) */
        flush_block(&h, &blk[oldest]);
        if (tick != NULL)
            tick(tick_ud, blk[oldest].used);
        oldest = (oldest + 1) % nb;
        inflight--;
    }
    pthread_mutex_lock(&h.mu);
    h.end = true;
    pthread_cond_broadcast(&h.work);
    pthread_mutex_unlock(&h.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    st->bad_records += r.too_long;
    blocks_free(blk, nb, st);
    free(h.queue);
    pthread_cond_destroy(&h.work);
    pthread_cond_destroy(&h.done);
    pthread_mutex_destroy(&h.mu);
    close(r.fd);
    return ok && !r.failed;
}
