/* libyaml's reading of a text, as yaml_fast.h events, and the check that
 * yaml_fast.c reads every text it accepts the way libyaml does (used by
 * test_yaml_fast.c and fuzz/fuzz_yaml_fast.c). */
#ifndef IG_TEST_YAML_REF_H
#define IG_TEST_YAML_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine/yaml_fast.h"

typedef struct yref {
    yf_ev *v;
    size_t n, cap;
    bool other; /* an alias, anchor or tag: nothing yaml_fast.c gives */
} yref;

static inline void yref_free(yref *r)
{
    for (size_t i = 0; i < r->n; i++)
        free((char *)r->v[i].s);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static inline void yref_add(yref *r, yf_kind kind, size_t line, const char *s, size_t len,
                            bool plain)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, sizeof(*r->v) * r->cap);
        if (r->v == NULL)
            abort();
    }
    char *copy = NULL;
    if (s != NULL) {
        copy = malloc(len + 1);
        if (copy == NULL)
            abort();
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    r->v[r->n++] = (yf_ev){copy, (uint32_t)len, (uint32_t)line, (uint8_t)kind, plain};
}

/* libyaml's events for `text` (as sigma_load.c reads them): false when
 * libyaml finds an error. */
static inline bool yref_read(const char *text, size_t len, yref *r)
{
    memset(r, 0, sizeof(*r));
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        abort();
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    bool ok = true;
    for (bool done = false; !done;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            ok = false;
            break;
        }
        size_t line = ev.start_mark.line;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT: yref_add(r, YF_DOC, line, NULL, 0, false); break;
        case YAML_SCALAR_EVENT:
            r->other |= ev.data.scalar.anchor != NULL || ev.data.scalar.tag != NULL;
            yref_add(r, YF_SCALAR, line, (const char *)ev.data.scalar.value, ev.data.scalar.length,
                     ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
            break;
        case YAML_SEQUENCE_START_EVENT:
            r->other |= ev.data.sequence_start.anchor != NULL || ev.data.sequence_start.tag != NULL;
            yref_add(r, YF_SEQ, line, NULL, 0, false);
            break;
        case YAML_MAPPING_START_EVENT:
            r->other |= ev.data.mapping_start.anchor != NULL || ev.data.mapping_start.tag != NULL;
            yref_add(r, YF_MAP, line, NULL, 0, false);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: yref_add(r, YF_END, 0, NULL, 0, false); break;
        case YAML_ALIAS_EVENT: r->other = true; break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return ok;
}

/* NULL when `fast` (what yf_read accepted for `text`) is what libyaml
 * reads, else the first difference, written into buf. */
static inline const char *yref_diff(const char *text, size_t len, const yf_events *fast, char *buf,
                                    size_t cap)
{
    yref r;
    const char *why = NULL;
    if (!yref_read(text, len, &r)) {
        why = "libyaml finds an error";
    } else if (r.other) {
        why = "libyaml reads an alias, anchor or tag";
    } else {
        for (size_t i = 0; i < r.n || i < fast->n; i++) {
            if (i >= r.n || i >= fast->n) {
                snprintf(buf, cap, "event %zu: %s has no more", i, i >= r.n ? "libyaml" : "fast");
                why = buf;
                break;
            }
            const yf_ev *a = &r.v[i], *b = &fast->v[i];
            if (a->kind != b->kind || a->line != b->line ||
                (a->kind == YF_SCALAR &&
                 (a->plain != b->plain || a->len != b->len || memcmp(a->s, b->s, a->len) != 0))) {
                snprintf(buf, cap,
                         "event %zu: libyaml kind %u line %u plain %d \"%.40s\" (%u), fast kind %u "
                         "line %u plain %d \"%.*s\" (%u)",
                         i, a->kind, a->line, a->plain, a->s ? a->s : "", a->len, b->kind, b->line,
                         b->plain, b->len > 40 ? 40 : (int)b->len, b->s ? b->s : "", b->len);
                why = buf;
                break;
            }
        }
    }
    yref_free(&r);
    return why;
}

#endif
