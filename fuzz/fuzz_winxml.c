/* libFuzzer target: Windows event XML (src/formats/winxml) fed to a reader
 * in 1–3 pieces, every field of every event read back; the same input fed
 * in one piece must read the same (events, fields, origins and errors), or
 * the target aborts.
 *
 * The input is the XML itself (seeds are `iisguard dump --format xml`
 * output); how it is split is derived from its length, so that a saved
 * input replays the same way (tests/unit/test_winxml.c uses the same rule):
 * 1 + len % 3 pieces, cut at len/3 and 2·(len/3), or at len/2 for two. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/winxml/winxml.h"

/* FNV-1a over everything the reader reports. */
typedef struct digest {
    uint64_t h;
    uint64_t events, errors;
} digest;

static void mix(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ b[i]) * 0x100000001b3ull;
}

static void mix_u64(digest *d, uint64_t v)
{
    mix(d, &v, sizeof(v));
}

static void on_event(void *ud, ig_event *ev)
{
    digest *d = ud;
    ig_event_origin o;
    ig_event_origin_get(ev, &o);
    mix_u64(d, o.offset);
    mix_u64(d, o.record_id);
    mix_u64(d, ig_event_time(ev));
    for (size_t i = 0; i < ig_event_field_count(ev); i++) {
        ig_strv n, v;
        if (!ig_event_field_at(ev, i, &n, &v))
            continue;
        mix_u64(d, n.len);
        mix(d, n.p, n.len);
        mix_u64(d, v.len);
        mix(d, v.p, v.len);
    }
    d->events++;
}

static void on_error(void *ud, uint64_t line, uint64_t column, const char *what)
{
    digest *d = ud;
    mix_u64(d, line);
    mix_u64(d, column);
    for (; *what; what++)
        mix(d, what, 1);
    d->errors++;
}

/* Reads data[0..size) cut at c1 and c2 (c1 <= c2 <= size; empty pieces are
 * skipped but the last one is always fed). */
static digest read_split(const uint8_t *data, size_t size, size_t c1, size_t c2)
{
    digest d = {0xcbf29ce484222325ull, 0, 0};
    wx_reader *r = wx_create("fuzz", on_event, on_error, &d);
    if (r == NULL)
        abort();
    const char *p = data != NULL ? (const char *)data : "";
    bool ok = true;
    if (c1 > 0)
        ok = wx_feed(r, p, c1, false);
    if (ok && c2 > c1)
        ok = wx_feed(r, p + c1, c2 - c1, false);
    if (ok)
        ok = wx_feed(r, p + c2, size - c2, true);
    mix_u64(&d, ok);
    wx_destroy(r);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pieces = 1 + size % 3;
    size_t c1 = pieces == 3 ? size / 3 : pieces == 2 ? size / 2 : size;
    size_t c2 = pieces == 3 ? 2 * (size / 3) : size;
    digest split = read_split(data, size, c1, c2);
    if (pieces > 1) {
        digest whole = read_split(data, size, size, size);
        if (whole.h != split.h || whole.events != split.events || whole.errors != split.errors)
            abort(); /* streaming changed what was read */
    }
    return 0;
}
