/* A reader for the plain block YAML that Sigma rules are written in, taken
 * before libyaml (sigma_load.c).  It gives, for the texts it accepts, the
 * nodes libyaml gives — kinds, order, scalar text and style, 0-based start
 * lines — and declines every other text, valid or not, which libyaml then
 * reads (and reports, when it is not valid).  The property "accepted means
 * the same as libyaml" is checked by tests/unit/test_yaml_fast.c over every
 * SigmaHQ rule and by fuzz/fuzz_yaml_fast.c.
 *
 * Accepted: UTF-8 text without tabs, carriage returns, other control
 * characters or byte order marks; one document, with or without a leading "---"; block mappings
 * with plain keys, block sequences (also at their key's indentation, and
 * "- key: value" items); one-line plain, single-quoted and double-quoted
 * scalars (escapes \\ \" \/ \n \t \r); literal block scalars ("|", "|-",
 * "|+") without an indentation indicator; comments.  Declined: flow
 * collections, anchors, aliases, tags, directives, folded scalars,
 * multi-line flow scalars, complex and quoted keys, and anything libyaml
 * would not read. */
#ifndef IG_ENGINE_YAML_FAST_H
#define IG_ENGINE_YAML_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

typedef enum yf_kind {
    YF_DOC,    /* the document starts (line: its "---" or first node) */
    YF_SCALAR, /* s / len: its text (NUL-terminated); plain: plain style */
    YF_SEQ,    /* a sequence starts */
    YF_MAP,    /* a mapping starts */
    YF_END,    /* the innermost open sequence or mapping ends */
} yf_kind;

typedef struct yf_ev {
    const char *s;
    uint32_t len;
    uint32_t line; /* 0-based, in the text given */
    uint8_t kind;  /* yf_kind */
    bool plain;
} yf_ev;

typedef struct yf_events {
    yf_ev *v;
    size_t n;
} yf_events;

/* Reads `text` (`len` bytes, borrowed; scalars that need no decoding
 * point into it).  True when the text is accepted: out holds its events
 * (none when it holds no node), in arena `a`.  False when it is declined
 * (or memory ran out): the caller reads it with libyaml. */
bool yf_read(const char *text, size_t len, ig_arena *a, yf_events *out);

#endif
