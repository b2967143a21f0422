/* Correlation state (internal): the matches scanners keep for correlation
 * rules, and their evaluation (correlate.c). */
#ifndef IG_ENGINE_CORRELATE_H
#define IG_ENGINE_CORRELATE_H

#include "engine/engine.h"

/* Matches kept per run, beyond which further ones are counted, not kept. */
#define CM_MAX_MATCHES      (4u * 1024u * 1024u)
/* Fields kept with one match (group-by and value fields of its rule). */
#define CM_MAX_FIELDS       16u
/* Contributing events listed in one correlation alert. */
#define CM_MAX_ALERT_EVENTS 256u

typedef struct cm_match {
    uint32_t rule; /* base rule index */
    uint64_t time, record_id, offset;
    const char *path;
    uint32_t nvals;
    uint32_t fid[CM_MAX_FIELDS];
    const char *val[CM_MAX_FIELDS];
    uint32_t vlen[CM_MAX_FIELDS];
    bool present[CM_MAX_FIELDS];
} cm_match;

/* A scanner's own list (no locking while scanning). */
typedef struct cm_buf {
    cm_match *m;
    size_t n, cap;
    uint64_t dropped;
    ig_arena arena;
    const char *last_path;
} cm_buf;

bool cm_buf_add(cm_buf *b, const em_rule *r, uint32_t rule, ig_event *ev, const ig_rules *rs);
/* Moves a scanner's matches into the shared state (thread-safe). */
bool cm_buf_merge(ig_corr *c, cm_buf *b);
void cm_buf_free(cm_buf *b);

/* Resolves the references of every correlation rule once all rules are
 * loaded (rules.c calls it from finish); reports problems through `err`. */
typedef void (*cm_err_fn)(void *ud, const char *file, unsigned line, const char *why);
bool cm_resolve(ig_rules *rs, cm_err_fn err, void *ud);

/* The index of the rule of rules[0, n) whose id or name is `ref`, or
 * UINT32_MAX. */
uint32_t cm_find_rule(const em_rule *rules, uint32_t n, const char *ref);

#endif
