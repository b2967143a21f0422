/* libFuzzer target: one JSON-lines line through jsonl_event (JSON parser,
 * shape detection, field mapping) with a fresh event and arena, then every
 * field's text; the token array's invariants are checked on the side, and
 * the input is also tried as a time string.
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
