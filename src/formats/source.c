/* Text event sources: JSON lines split into lines, XML fed in blocks. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "event/event.h"
#include "formats/jsonl/jsonl.h"
#include "formats/jsonl/jsonl_limits.h"
#include "formats/jsonl/jstream.h"
#include "formats/winxml/winxml.h"
#include "iisguard/source.h"

#define BLOCK    (1u << 20)
#define MAX_LINE IG_MAX_JSON_LINE

ig_src_format ig_source_detect(const uint8_t *p, size_t n)
{
    size_t i = 0;
    /* UTF-16 event XML (PowerShell's Out-File writes it): a byte order mark
     * or '<' with a zero byte beside it */
    if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF) ||
                   (p[0] == '<' && p[1] == 0) || (p[0] == 0 && p[1] == '<')))
        return IG_SRC_XML;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    if (n - i >= 8 && memcmp(p + i, "ElfFile", 8) == 0)
        return IG_SRC_EVTX;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == n)
        return IG_SRC_UNKNOWN;
    if (p[i] == '{' || p[i] == '[')
        return IG_SRC_JSONL;
    /* evtx_dump's JSON output: "Record N" before each pretty-printed record */
    if (n - i > 8 && memcmp(p + i, "Record ", 7) == 0 && p[i + 7] >= '0' && p[i + 7] <= '9')
        return IG_SRC_JSONL;
    if (p[i] == '<')
        return IG_SRC_XML;
    return IG_SRC_UNKNOWN;
}

typedef struct text_ctx {
    const char *path;
    ig_src_event_fn on_event;
    ig_src_error_fn on_error;
    void *ud;
    ig_src_stats *st;
    ig_event ev;
    ig_arena arena;
    int fd;
    const uint8_t *head; /* bytes of fd already read, given back first */
    size_t nhead;
} text_ctx;

/* read(2) on the input, the bytes already read first. */
static ssize_t in_read(text_ctx *c, void *buf, size_t n)
{
    if (c->nhead > 0) {
        size_t k = n < c->nhead ? n : c->nhead;
        memcpy(buf, c->head, k);
        c->head += k;
        c->nhead -= k;
        return (ssize_t)k;
    }
    return read(c->fd, buf, n);
}

/* One JSON text (a line, or a value spanning lines that starts on line
 * `lineno`): an event, or an error naming the line and column. */
/* A line longer than MAX_LINE: counted and said, not read. */
static void too_long(text_ctx *c, uint64_t lineno)
{
    c->st->bad_records++;
    if (c->on_error != NULL)
        c->on_error(c->ud, c->path, lineno, "line longer than the limit (8 MiB); skipped");
}

static void jsonl_line(text_ctx *c, const char *line, size_t len, uint64_t lineno)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return; /* blank line */
    ev_reset(&c->ev);
    ig_arena_reset(&c->arena);
    c->ev.origin.path = c->path;
    c->ev.origin.offset = lineno;
    const char *why = NULL;
    size_t at = 0;
    if (!jsonl_event(line, len, &c->ev, &why, &at)) {
        c->st->bad_records++;
        if (c->on_error != NULL) {
            /* the error's own line within a value spanning several */
            size_t col0 = 0;
            uint64_t eline = lineno;
            for (size_t k = 0; k < at && k < len; k++)
                if (line[k] == '\n') {
                    eline++;
                    col0 = k + 1;
                }
            char msg[160];
            snprintf(msg, sizeof(msg), "%s at column %zu", why ? why : "malformed JSON",
                     at - col0 + 1);
            c->on_error(c->ud, c->path, eline, msg);
        }
        return;
    }
    c->st->events++;
    c->on_event(c->ud, &c->ev);
}

static ig_err read_json_values(text_ctx *c, ig_buf *b);

/* True when the text is not one JSON object per line: pretty-printed
 * objects (the first line is a lone "{"), a JSON array, evtx_dump's
 * "Record N" headers. */
static bool multiline_json(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == n)
        return false;
    if (p[i] == '[' || p[i] == 'R')
        return true;
    size_t j = i + 1;
    while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r'))
        j++;
    return p[i] == '{' && j < n && p[j] == '\n';
}

static ig_err read_jsonl(text_ctx *c)
{
    ig_buf b;
    ig_buf_init(&b, MAX_LINE + BLOCK);
    uint64_t lineno = 1;
    ig_err res = IG_OK;
    bool skipping = false; /* inside a line longer than MAX_LINE */
    for (;;) {
        if (ig_buf_reserve(&b, BLOCK) != IG_OK) {
            res = IG_ENOMEM;
            break;
        }
        ssize_t r = in_read(c, b.data + b.len, BLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            res = IG_EIO;
            break;
        }
        size_t old = b.len;
        b.len += (size_t)r;
        if (lineno == 1 && old == 0 && multiline_json(b.data, b.len)) {
            res = read_json_values(c, &b);
            break;
        }
        size_t start = 0;
        for (const uint8_t *nl = memchr(b.data + old, '\n', b.len - old); nl != NULL;
             nl = memchr(b.data + start, '\n', b.len - start)) {
            size_t i = (size_t)(nl - b.data), n = i - start;
            if (n > 0 && b.data[i - 1] == '\r')
                n--; /* the limit is on the text, as ig_json_lines_feed has it */
            if (!skipping && n > MAX_LINE)
                too_long(c, lineno); /* whole in the buffer, still over the limit */
            else if (!skipping)
                jsonl_line(c, (const char *)b.data + start, i - start, lineno);
            skipping = false;
            lineno++;
            start = i + 1;
        }
        /* keep the unfinished line */
        memmove(b.data, b.data + start, b.len - start);
        b.len -= start;
        if (b.len > MAX_LINE) {
            if (!skipping)
                too_long(c, lineno);
            skipping = true;
            b.len = 0;
        }
        if (r == 0) {
            if (b.len > 0 && !skipping)
                jsonl_line(c, (const char *)b.data, b.len, lineno);
            break;
        }
    }
    ig_buf_free(&b);
    return res;
}

static void js_value(void *ud, const char *p, size_t n, uint64_t line)
{
    jsonl_line(ud, p, n, line);
}

static void js_bad(void *ud, uint64_t line, const char *what)
{
    text_ctx *c = ud;
    c->st->bad_records++;
    if (c->on_error != NULL)
        c->on_error(c->ud, c->path, line, what);
}

/* JSON texts in any layout (jstream.h); `b` holds the first bytes read. */
static ig_err read_json_values(text_ctx *c, ig_buf *b)
{
    js_split sp;
    js_split_init(&sp, MAX_LINE);
    bool eof = false;
    if (b->len >= 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0) {
        memmove(b->data, b->data + 3, b->len - 3);
        b->len -= 3;
    }
    for (;;) {
        size_t done = js_split_feed(&sp, b->data, b->len, eof, js_value, js_bad, c);
        if (eof)
            break;
        memmove(b->data, b->data + done, b->len - done);
        b->len -= done;
        if (ig_buf_reserve(b, BLOCK) != IG_OK)
            return IG_ENOMEM;
        ssize_t r = in_read(c, b->data + b->len, BLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return IG_EIO;
        b->len += (size_t)r;
        eof = r == 0;
    }
    return IG_OK;
}

static void wx_on_event(void *ud, ig_event *ev)
{
    text_ctx *c = ud;
    c->st->events++;
    c->on_event(c->ud, ev);
}

static void wx_on_error(void *ud, uint64_t line, uint64_t column, const char *what)
{
    text_ctx *c = ud;
    c->st->bad_records++;
    if (c->on_error != NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s at column %llu", what, (unsigned long long)column);
        c->on_error(c->ud, c->path, line, msg);
    }
}

static ig_err read_xml(text_ctx *c)
{
    wx_reader *r = wx_create(c->path, wx_on_event, wx_on_error, c);
    char *buf = ig_malloc(BLOCK);
    if (r == NULL || buf == NULL) {
        wx_destroy(r);
        ig_free(buf);
        return IG_ENOMEM;
    }
    ig_err res = IG_OK;
    for (;;) {
        ssize_t n = in_read(c, buf, BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            res = IG_EIO;
            break;
        }
        if (!wx_feed(r, buf, (size_t)n, n == 0)) {
            res = IG_EMALFORMED;
            break;
        }
        if (n == 0)
            break;
    }
    wx_destroy(r);
    ig_free(buf);
    return res;
}

struct ig_json_lines {
    text_ctx c;
    ig_src_stats st;
};

ig_json_lines *ig_json_lines_create(ig_src_event_fn on_event, ig_src_error_fn on_error, void *ud)
{
    ig_json_lines *j = ig_calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    j->c.on_event = on_event;
    j->c.on_error = on_error;
    j->c.ud = ud;
    j->c.st = &j->st;
    ig_arena_init(&j->c.arena, 0);
    ev_init(&j->c.ev, &j->c.arena);
    return j;
}

void ig_json_lines_feed(ig_json_lines *j, const char *name, uint64_t lineno, const char *line,
                        size_t len)
{
    j->c.path = name;
    if (len > MAX_LINE) {
        too_long(&j->c, lineno);
        return;
    }
    /* an event is a JSON object: an array or a scalar on its own line is not */
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* a byte order mark */
        line += 3;
        len -= 3;
    }
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < len && line[i] != '{') {
        j->st.bad_records++;
        if (j->c.on_error != NULL)
            j->c.on_error(j->c.ud, name, lineno, "not a JSON object; line skipped");
        return;
    }
    jsonl_line(&j->c, line, len, lineno);
}

void ig_json_lines_stats(const ig_json_lines *j, ig_src_stats *out)
{
    *out = j->st;
}

void ig_json_lines_destroy(ig_json_lines *j)
{
    if (j == NULL)
        return;
    ev_free(&j->c.ev);
    ig_arena_destroy(&j->c.arena);
    ig_free(j);
}

ig_err ig_source_read_text_fd(const char *name, int fd, const uint8_t *head, size_t nhead,
                              ig_src_format fmt, ig_src_event_fn on_event, ig_src_error_fn on_error,
                              void *ud, ig_src_stats *stats)
{
    if (fmt != IG_SRC_JSONL && fmt != IG_SRC_XML)
        return IG_EFORMAT;
    ig_src_stats local = {0, 0};
    text_ctx c = {name, on_event, on_error, ud, stats ? stats : &local, {0}, {0}, fd, head, nhead};
    ig_arena_init(&c.arena, 0);
    ev_init(&c.ev, &c.arena);
    ig_err e = fmt == IG_SRC_JSONL ? read_jsonl(&c) : read_xml(&c);
    if (e == IG_EIO && on_error != NULL)
        on_error(ud, name, 0, "read error");
    ev_free(&c.ev);
    ig_arena_destroy(&c.arena);
    return e;
}

ig_err ig_source_read_text(const char *path, ig_src_format fmt, ig_src_event_fn on_event,
                           ig_src_error_fn on_error, void *ud, ig_src_stats *stats)
{
    if (fmt != IG_SRC_JSONL && fmt != IG_SRC_XML)
        return IG_EFORMAT;
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (on_error != NULL)
            on_error(ud, path, 0, strerror(errno));
        return IG_EIO;
    }
    ig_err e = ig_source_read_text_fd(path, fd, NULL, 0, fmt, on_event, on_error, ud, stats);
    if (fd != 0)
        close(fd);
    return e;
}
