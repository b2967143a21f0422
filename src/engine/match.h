/* Per-scanner match state and rule evaluation (internal). */
#ifndef IG_ENGINE_MATCH_H
#define IG_ENGINE_MATCH_H

#include "core/buf.h"
#include "engine/engine.h"

typedef struct em_state {
    uint8_t *memo; /* per search of the rule being evaluated: 0 ?, 1 no, 2 yes */
    uint32_t memo_cap;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* match and depth limits, the JIT stack */
    pcre2_jit_stack *jit;
    uint64_t re_limit_hits; /* regex matches stopped by a limit */
    /* prefilter results for the current event */
    const ig_rules *rs;
    uint32_t epoch;
    uint32_t *seen;  /* per pattern id: epoch when it held */
    uint32_t *fscan; /* per field id: epoch when its text was scanned */
    uint32_t *hits;  /* literals that held, in the order found */
    uint32_t nhits;
    uint32_t *rule_epoch; /* per rule: epoch when one of its triggers held */
    uint32_t *trules;     /* the rules triggered by the current event, ascending */
    uint32_t ntrules;
    /* the event's lower-cased values joined by NUL bytes (keywords) */
    ig_buf joined;
    uint32_t joined_epoch, joined_min; /* values of joined_min bytes or more */
} em_state;

/* Scans the fields of `ev` marked in `fields` (by prefilter field id:
 * interned fields, then keyword fields) for their literals and marks the
 * rules they trigger (rule_epoch), listing them in ascending order
 * (trules). */
void em_prefilter_event(em_state *st, ig_event *ev, const bool *fields);

bool em_state_init(em_state *st, const ig_rules *rs);
/* Starts a new event (forgets the previous one's prefilter results). */
void em_state_next_event(em_state *st);
void em_state_free(em_state *st);

/* Does rule `r` match `ev` (bound to the rule set's names)? */
bool em_match_rule(em_state *st, const em_rule *r, ig_event *ev);

#endif
