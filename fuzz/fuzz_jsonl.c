/* libFuzzer target: one JSON-lines line through jsonl_event (JSON parser,
 * shape detection, field mapping) with a fresh event and arena, then every
 * field's text; the token array's invariants are checked on the side, and
 * the input is also tried as a time string.  The input is also split into
 * JSON objects (jstream.c) whole and in blocks of input-chosen sizes: both
 * ways must find the same objects and problems, each inside the input.
 *
 * Seeds: single-line objects of ../shared/data/sigma/regression_data (jq -c)
 * and the unit tests' lines; crashers are kept in fuzz/corpus/fuzz_jsonl/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "event/event.h"
#include "formats/jsonl/jsonl.h"
#include "formats/jsonl/jstream.h"

/* A parsed document must be a well-formed tree: every `next` stays inside
 * it and past its token, containers hold exactly their counted children. */
static void check_doc(const char *text, size_t size)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    json_doc d;
    const char *why = NULL;
    size_t at = 0;
    if (json_parse(text, size, &a, &d, &why, &at)) {
        if (d.n == 0 || d.t[0].next != d.n)
            abort();
        for (uint32_t i = 0; i < d.n; i++) {
            const json_tok *t = &d.t[i];
            if (t->next <= i || t->next > d.n || t->off >= size)
                abort();
            if (t->type == JT_ARRAY || t->type == JT_OBJECT) {
                uint32_t kids = 0, k = i + 1;
                while (k < t->next) {
                    k = t->type == JT_OBJECT ? d.t[k + 1].next : d.t[k].next;
                    kids++;
                }
                if (k != t->next || kids != t->len)
                    abort();
            } else if (t->next != i + 1) {
                abort();
            }
        }
    } else if (why == NULL || at > size) {
        abort();
    }
    ig_arena_destroy(&a);
}

/* What a split found: a hash of the objects' bytes and lines, and of the
 * problems' lines and texts, with counts. */
typedef struct found {
    uint64_t h;
    size_t values, bad;
    const uint8_t *lo, *hi; /* the buffer objects must lie in */
} found;

static void mix(found *f, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        f->h = (f->h ^ b[i]) * 1099511628211ull;
}

static void on_value(void *ud, const char *p, size_t n, uint64_t line)
{
    found *f = ud;
    if ((const uint8_t *)p < f->lo || (const uint8_t *)p + n > f->hi || n < 2 || p[0] != '{' ||
        (p[n - 1] != '}' && p[n - 1] != ']'))
        abort();
    f->values++;
    mix(f, p, n);
    mix(f, &line, sizeof(line));
}

static void on_bad(void *ud, uint64_t line, const char *what)
{
    found *f = ud;
    f->bad++;
    mix(f, &line, sizeof(line));
    mix(f, what, strlen(what));
}

/* Feeds `text` in blocks whose sizes come from the input's bytes, keeping
 * and dropping like the file reader does.  max: the object size limit. */
static found split_blocks(const char *text, size_t size, size_t max)
{
    found f = {1469598103934665603ull, 0, 0, NULL, NULL};
    js_split s;
    js_split_init(&s, max);
    uint8_t *buf = malloc(size + 1);
    size_t len = 0, fed = 0, k = 0;
    if (buf == NULL)
        abort();
    for (;;) {
        size_t step = size ? 1 + (unsigned char)text[k++ % size] % 61 : 0;
        if (step > size - fed)
            step = size - fed;
        memcpy(buf + len, text + fed, step);
        len += step;
        fed += step;
        bool eof = fed == size;
        f.lo = buf;
        f.hi = buf + len;
        size_t done = js_split_feed(&s, buf, len, eof, on_value, on_bad, &f);
        if (done > len)
            abort();
        if (eof)
            break;
        memmove(buf, buf + done, len - done);
        len -= done;
    }
    free(buf);
    return f;
}

static void check_split(const char *text, size_t size)
{
    found whole = {1469598103934665603ull, 0, 0, (const uint8_t *)text,
                   (const uint8_t *)text + size};
    js_split s;
    js_split_init(&s, SIZE_MAX / 2);
    if (js_split_feed(&s, (const uint8_t *)text, size, true, on_value, on_bad, &whole) != size)
        abort();
    found blocks = split_blocks(text, size, SIZE_MAX / 2);
    if (blocks.h != whole.h || blocks.values != whole.values || blocks.bad != whole.bad)
        abort();
    /* with a small limit, long objects are skipped, never a crash */
    (void)split_blocks(text, size, 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly `size` bytes, so that reading past it is caught */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    if (size)
        memcpy(text, data, size);
    check_doc(text, size);
    check_split(text, size);

    ig_arena a;
    ig_event ev;
    ig_arena_init(&a, 0);
    ev_init(&ev, &a);
    const char *why = NULL;
    size_t at = 0;
    bool ok = jsonl_event(text, size, &ev, &why, &at);
    if (!ok && (why == NULL || at > size))
        abort();
    volatile unsigned sink = 0;
    for (uint32_t i = 0; i < ev.n; i++) {
        ig_strv v;
        if (ev_lower(&ev, i, &v) && v.len)
            sink += (unsigned char)v.p[v.len - 1];
        if (ev.f[i].nlen)
            sink += (unsigned char)ev.f[i].name[ev.f[i].nlen - 1];
    }
    sink += (unsigned)jsonl_parse_time(text, size);
    (void)sink;
    ev_free(&ev);
    ig_arena_destroy(&a);
    free(text);
    return 0;
}
