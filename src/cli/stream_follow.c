/* `stream --follow PATH... --state FILE [--output FILE]`: files still being
 * written — JSON lines (read up to their last complete line) and .evtx
 * (records past the last one seen) — polled, with a checkpoint so that a
 * restart resumes where the last one stopped.
 *
 * The state file holds, per input, its inode and how far it was read (a
 * byte offset, or the last EventRecordID), the size the output file had,
 * the watermark, and the keys of the correlation alerts written within the
 * correlation horizon.  After each poll that read something: alerts are
 * written and the output synced, then the state is replaced atomically
 * (written aside, synced, renamed).  On start, the output is cut back to
 * the size the state recorded (what a killed run wrote after its last
 * checkpoint is written again), and the correlation state is rebuilt by
 * re-reading the inputs' events newer than the watermark minus the horizon
 * without writing their own alerts again.  So with --output, every alert is
 * written exactly once across a SIGKILL; to standard output, at least once.
 * A file whose inode changes or that shrinks was rotated: it is read from
 * its start. */
#define _DEFAULT_SOURCE /* fsync, ftruncate, nanosleep */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/stream.h"
#include "iisguard/evtx.h"

#define MAX_FILES 256

typedef struct fstate {
    const char *path;
    uint64_t inode;
    uint64_t offset;      /* JSON lines: next byte to read */
    uint64_t last_record; /* EVTX: last EventRecordID read */
    uint64_t lineno;      /* JSON lines: next line number */
    uint64_t seen_size;   /* EVTX: the size at the last read (unchanged: nothing new) */
    int64_t seen_mtime;
    bool evtx;
} fstate;

typedef struct follow {
    stream *s;
    fstate f[MAX_FILES];
    int n;
    const char *state_path, *out_path;
    uint64_t out_size;
    /* replay: events before the checkpoint only rebuild correlation state */
    bool replay;
    uint64_t replay_from; /* FILETIME: older events are skipped in replay */
    fstate *cur;
    uint64_t cur_max_record;
    ig_json_lines *jl;
} follow;

static bool is_evtx(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char head[8] = {0};
    bool e = fd >= 0 && read(fd, head, 8) == 8 && memcmp(head, "ElfFile", 8) == 0;
    if (fd >= 0)
        close(fd);
    return e;
}

/* ---- state ------------------------------------------------------------------------ */

static bool load_state(follow *fo)
{
    FILE *f = fopen(fo->state_path, "r");
    if (f == NULL)
        return errno == ENOENT; /* a first run */
    char line[8192];
    bool ok = fgets(line, sizeof(line), f) && strncmp(line, "iisguard-follow 1", 17) == 0;
    while (ok && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char *p = strchr(line, ' ');
        if (p == NULL)
            continue;
        *p++ = '\0';
        char *end = NULL;
        if (strcmp(line, "out") == 0) {
            fo->out_size = strtoull(p, NULL, 10);
        } else if (strcmp(line, "watermark") == 0) {
            fo->s->watermark = strtoull(p, NULL, 10);
        } else if (strcmp(line, "corr") == 0) {
            uint64_t key = strtoull(p, &end, 16), last = strtoull(end, NULL, 10);
            stream_seen_add(fo->s, key, last);
        } else if (strcmp(line, "file") == 0) {
            uint64_t v[4];
            for (int k = 0; k < 4; k++) {
                v[k] = strtoull(p, &end, 10);
                p = end;
            }
            if (*p == ' ')
                p++;
            for (int i = 0; i < fo->n; i++)
                if (strcmp(fo->f[i].path, p) == 0) {
                    fo->f[i].inode = v[0];
                    fo->f[i].offset = v[1];
                    fo->f[i].last_record = v[2];
                    fo->f[i].lineno = v[3];
                }
        }
    }
    fclose(f);
    if (!ok)
        fprintf(stderr, "iisguard: stream: %s is not a state file of this version\n",
                fo->state_path);
    return ok;
}

static bool save_state(follow *fo)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", fo->state_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return false;
    fprintf(f, "iisguard-follow 1\nout %llu\nwatermark %llu\n", (unsigned long long)fo->out_size,
            (unsigned long long)fo->s->watermark);
    for (size_t i = 0; i < fo->s->nseen; i++)
        fprintf(f, "corr %016llx %llu\n", (unsigned long long)fo->s->seen[i].key,
                (unsigned long long)fo->s->seen[i].last);
    for (int i = 0; i < fo->n; i++)
        fprintf(f, "file %llu %llu %llu %llu %s\n", (unsigned long long)fo->f[i].inode,
                (unsigned long long)fo->f[i].offset, (unsigned long long)fo->f[i].last_record,
                (unsigned long long)fo->f[i].lineno, fo->f[i].path);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, fo->state_path) == 0;
}

/* ---- events --------------------------------------------------------------------------- */

/* Events pass here first: in replay, only those the correlations may need,
 * with their own alerts not written again. */
static void on_event(void *ud, ig_event *ev)
{
    follow *fo = ud;
    if (fo->replay && ig_event_time(ev) < fo->replay_from)
        return;
    fo->s->quiet_alerts = fo->replay;
    stream_on_event(fo->s, ev);
    fo->s->quiet_alerts = false;
}

/* JSON lines from `from` to the last complete line (up to `to`). */
static uint64_t read_jsonl(follow *fo, fstate *st, uint64_t from, uint64_t to, uint64_t *lineno)
{
    int fd = open(st->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return from;
    uint64_t pos = from;
    char *buf = malloc(1u << 20);
    size_t have = 0;
    while (buf != NULL && pos + have < to) {
        size_t want = (1u << 20) - have;
        if (to - pos - have < want)
            want = (size_t)(to - pos - have);
        ssize_t r = pread(fd, buf + have, want, (off_t)(pos + have));
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (nl == NULL)
                break;
            size_t len = (size_t)(nl - (buf + start));
            if (len && buf[start + len - 1] == '\r')
                len--;
            bool blank = true;
            for (size_t k = 0; k < len && blank; k++)
                blank = buf[start + k] == ' ' || buf[start + k] == '\t';
            if (!blank)
                ig_json_lines_feed(fo->jl, st->path, *lineno, buf + start, len);
            (*lineno)++;
            start = (size_t)(nl - buf) + 1;
        }
        pos += start;
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == (1u << 20)) { /* a line longer than the buffer: skip it */
            stream_on_error(fo->s, st->path, *lineno, "line longer than 1 MiB; skipped");
            pos += have;
            have = 0;
            (*lineno)++;
        }
    }
    free(buf);
    close(fd);
    return pos;
}

static void on_evtx_event(void *tud, ig_event *ev, ig_evtx_emit *out)
{
    follow *fo = tud;
    (void)out;
    uint64_t rid = ig_event_record_id(ev);
    if (rid > fo->cur_max_record)
        fo->cur_max_record = rid;
    if (fo->replay ? rid > fo->cur->last_record : rid <= fo->cur->last_record)
        return; /* replay: up to the checkpoint; live: past it */
    on_event(fo, ev);
}

static void *evtx_thread_init(void *ud)
{
    return ud;
}

static void evtx_thread_fini(void *tud)
{
    (void)tud;
}

static int discard(void *ud, const char *data, size_t len)
{
    (void)ud, (void)data, (void)len;
    return 0;
}

static void read_evtx(follow *fo, fstate *st)
{
    ig_evtx_opts o = {0};
    o.threads = 1;
    o.output = discard;
    o.on_event = on_evtx_event;
    o.thread_init = evtx_thread_init;
    o.thread_fini = evtx_thread_fini;
    o.event_ud = fo;
    ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
    if (d == NULL)
        return;
    fo->cur = st;
    fo->cur_max_record = st->last_record;
    ig_evtx_dumper_file(d, st->path);
    ig_evtx_dumper_destroy(d);
}

/* One poll of one file; true when it read something new. */
static bool poll_file(follow *fo, fstate *st)
{
    struct stat sb;
    if (stat(st->path, &sb) != 0)
        return false; /* not there (yet, or between rotations) */
    if ((uint64_t)sb.st_ino != st->inode || (uint64_t)sb.st_size < st->offset) {
        /* a new file, or rotated: from its start */
        st->inode = (uint64_t)sb.st_ino;
        st->offset = 0;
        st->last_record = 0;
        st->lineno = 1;
        st->seen_size = 0;
        st->seen_mtime = 0;
        st->evtx = is_evtx(st->path);
    }
    if (st->evtx) {
        if ((uint64_t)sb.st_size == st->seen_size && (int64_t)sb.st_mtime == st->seen_mtime)
            return false; /* not written since: nothing to decode again */
        st->seen_size = (uint64_t)sb.st_size;
        st->seen_mtime = (int64_t)sb.st_mtime;
        uint64_t before = st->last_record;
        read_evtx(fo, st);
        st->last_record = fo->cur_max_record;
        return st->last_record != before;
    }
    if ((uint64_t)sb.st_size == st->offset)
        return false;
    uint64_t next = read_jsonl(fo, st, st->offset, (uint64_t)sb.st_size, &st->lineno);
    bool moved = next != st->offset;
    st->offset = next;
    return moved;
}

/* The correlation state a previous run had: every file's events up to its
 * checkpoint that are recent enough, their own alerts not written again. */
static void replay(follow *fo)
{
    stream *s = fo->s;
    uint64_t keep = s->horizon + s->late;
    fo->replay_from = s->watermark > keep ? s->watermark - keep : 0;
    fo->replay = true;
    for (int i = 0; i < fo->n; i++) {
        fstate *st = &fo->f[i];
        struct stat sb;
        if (stat(st->path, &sb) != 0 || (uint64_t)sb.st_ino != st->inode)
            continue;
        st->evtx = is_evtx(st->path);
        if (st->evtx) {
            read_evtx(fo, st);
        } else {
            uint64_t line = 1;
            read_jsonl(fo, st, 0, st->offset, &line);
        }
    }
    fo->replay = false;
    /* correlations the previous run wrote are among s->seen: not again */
    s->quiet_alerts = true;
    stream_evaluate(s);
    s->quiet_alerts = false;
}

int stream_follow_run(stream *s, char **paths, int n, const char *state_path, const char *out_path,
                      int poll_ms)
{
    follow *fo = calloc(1, sizeof(*fo));
    if (fo == NULL || n > MAX_FILES)
        return 2;
    fo->s = s;
    fo->state_path = state_path;
    fo->out_path = out_path;
    fo->n = n;
    for (int i = 0; i < n; i++)
        fo->f[i] = (fstate){paths[i], 0, 0, 0, 1, 0, 0, false};
    fo->jl = ig_json_lines_create(on_event, stream_on_error, fo);
    if (fo->jl == NULL || (state_path && !load_state(fo))) {
        ig_json_lines_destroy(fo->jl);
        free(fo);
        return 2;
    }
    /* the output, cut back to what the last checkpoint covered */
    if (out_path != NULL) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)fo->out_size) != 0 ||
            (s->out = fdopen(fd, "a")) == NULL) {
            fprintf(stderr, "iisguard: stream: %s: %s\n", out_path, strerror(errno));
            if (fd >= 0)
                close(fd);
            ig_json_lines_destroy(fo->jl);
            free(fo);
            return 2;
        }
    }
    if (state_path && fo->out_size + s->watermark > 0)
        replay(fo);
    while (!stream_stopping) {
        bool moved = false;
        for (int i = 0; i < fo->n; i++)
            moved |= poll_file(fo, &fo->f[i]);
        if (moved || s->since_eval)
            stream_evaluate(s);
        if (moved || s->since_eval == 0) {
            fflush(s->out);
            if (out_path != NULL) {
                fsync(fileno(s->out));
                fo->out_size = (uint64_t)ftell(s->out);
            }
            if (state_path != NULL && !save_state(fo))
                fprintf(stderr, "iisguard: stream: %s: cannot save the state\n", state_path);
        }
        if (!moved) {
            struct timespec ts = {poll_ms / 1000, (long)(poll_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    s->final = true; /* stopped: open absences are decided now */
    stream_evaluate(s);
    fflush(s->out);
    if (out_path != NULL) {
        fsync(fileno(s->out));
        fo->out_size = (uint64_t)ftell(s->out);
    }
    if (state_path != NULL)
        save_state(fo);
    if (out_path != NULL)
        fclose(s->out);
    s->out = stdout;
    ig_json_lines_destroy(fo->jl);
    free(fo);
    return s->alerts ? 1 : 0;
}
