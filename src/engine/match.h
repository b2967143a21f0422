/* Per-scanner match state and rule evaluation (internal). */
#ifndef IG_ENGINE_MATCH_H
#define IG_ENGINE_MATCH_H

#include "engine/engine.h"

typedef struct em_state {
    uint8_t *memo; /* per search of the rule being evaluated: 0 ?, 1 no, 2 yes */
    uint32_t memo_cap;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* match and depth limits */
    uint64_t re_limit_hits;    /* regex matches stopped by a limit */
} em_state;

bool em_state_init(em_state *st);
void em_state_free(em_state *st);

/* Does rule `r` match `ev` (bound to the rule set's names)? */
bool em_match_rule(em_state *st, const em_rule *r, ig_event *ev);

#endif
