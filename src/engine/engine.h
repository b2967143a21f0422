/* The compiled form of Sigma rules (internal to src/engine).
 *
 *   rule  = logsource prefilter + searches + condition
 *   search = OR of maps;  map = AND of items;  item = field + patterns
 *   pattern = one value after modifiers (op + operand)
 *
 * Everything is built once by compile.c into the rule set's arena and never
 * changes afterwards, so any number of scanners share it. */
#ifndef IG_ENGINE_ENGINE_H
#define IG_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/arena.h"
#include "engine/sigma_ast.h"
#include "event/event.h"
#include "iisguard/rules.h"

typedef enum em_op {
    EM_EQ,       /* whole value equals */
    EM_CONTAINS, /* value contains */
    EM_STARTS,
    EM_ENDS,
    EM_GLOB,   /* wildcards * and ? (segments in `glob`) */
    EM_RE,     /* PCRE2 */
    EM_NULL,   /* field absent or empty */
    EM_EXISTS, /* field present (negated by `neg`) */
    EM_LT,
    EM_LTE,
    EM_GT,
    EM_GTE,
    EM_CIDR,
    EM_FIELDREF, /* equals another field's value */
    EM_NUMEQ     /* numeric equality (a time part) */
} em_op;

/* Time modifiers: the part of a date value a pattern compares (em_pat.part). */
typedef enum em_part {
    EM_PART_NONE,
    EM_PART_MINUTE,
    EM_PART_HOUR,
    EM_PART_DAY,
    EM_PART_WEEK, /* ISO 8601 week of the year, 1-53 */
    EM_PART_MONTH,
    EM_PART_YEAR
} em_part;

typedef struct em_pat {
    uint8_t op;    /* em_op */
    bool cased;    /* compare case-sensitively */
    bool neg;      /* EM_EXISTS false / neq */
    const char *s; /* operand (lower-cased unless cased); EM_RE: a literal every
                      match contains (lower case, em_re_literal), len 0: none known */
    uint32_t len;
    double num;                    /* EM_LT.., EM_NUMEQ */
    uint8_t part;                  /* em_part: compare that part of a date value */
    char rc;                       /* EM_RE: a character every match holds rcount times */
    uint32_t rcount;               /* (in lower case; 0: none known) */
    pcre2_code *re;                /* EM_RE */
    uint8_t net[16], bits, family; /* EM_CIDR: 4 or 6 */
    uint32_t ref;                  /* EM_FIELDREF: field id */
    uint32_t pid;                  /* index in the literal prefilter, or UINT32_MAX */
    uint32_t req; /* prefilter index of a literal it needs (a wildcard pattern's longest
                     plain piece, a case-sensitive literal's lower case, a regex's s),
                     or UINT32_MAX */
} em_pat;

typedef struct em_item {
    uint32_t field; /* interned id, EV_NO_ID for keywords (any field) */
    uint32_t kf;    /* keywords: their prefilter field (pf_table, set by pf_build_begin) */
    bool all;       /* patterns ANDed (modifier `all`), else ORed */
    const em_pat *pats;
    uint32_t npats;
} em_item;

typedef struct em_map {
    const em_item *items;
    uint32_t nitems;
} em_map;

typedef struct em_search {
    const char *name;
    const em_map *maps;
    uint32_t nmaps;
} em_search;

typedef enum em_ckind { EM_C_SEARCH, EM_C_AND, EM_C_OR, EM_C_NOT, EM_C_ANY, EM_C_ALL } em_ckind;

typedef struct em_cond {
    uint8_t kind;
    uint32_t search;     /* EM_C_SEARCH */
    const uint32_t *set; /* EM_C_ANY / EM_C_ALL: search indices */
    uint32_t nset;
    const struct em_cond *a, *b;
} em_cond;

/* A log source alternative: events of this channel (and, when neids > 0,
 * one of these EventIDs). */
typedef struct em_source {
    const char *channel; /* NULL: any channel */
    const uint16_t *eids;
    uint32_t neids;
} em_source;

/* A correlation rule (correlate.c). */
typedef struct em_corr {
    sg_corr_type type;
    const char *const *refs; /* referenced rule ids or names, as written */
    uint32_t nrefs;
    uint32_t *bases; /* resolved rule indices (by refs order) */
    const char *const *group_by;
    uint32_t ngroup;
    /* field id of group-by i for base k: gfield[k * ngroup + i] (aliases) */
    uint32_t *gfield;
    uint32_t vfield; /* value_count: field id per base, vfield_of[k] */
    uint32_t *vfield_of;
    uint64_t span; /* timespan in FILETIME ticks */
    sg_cmp cmp, cmp2;
    uint64_t threshold, threshold2;
    const sg_alias *aliases;
    uint32_t naliases;
    const char *field;
    bool generate;
} em_corr;

typedef struct em_rule {
    ig_rule_info info;
    const char *name;        /* the rule's `name` (correlations may refer to it) */
    const em_corr *corr;     /* a correlation rule: no searches, never scanned */
    bool suppress;           /* a base rule whose own alerts are not wanted */
    bool recorded;           /* a base rule of some correlation: matches are kept */
    bool generate_seen;      /* suppress was set by a correlation's generate */
    bool adopted;            /* left out by the selection, kept as a correlation's base */
    const uint32_t *rfields; /* fields kept with its matches (group-by, value) */
    uint32_t nrfields;
    const em_source *srcs;
    uint32_t nsrcs; /* 0: every event */
    const em_search *searches;
    uint32_t nsearches;
    const em_cond *const *conds; /* ORed */
    uint32_t nconds;
    const uint32_t *fields; /* fields the rule reads (for alerts) */
    uint32_t nfields;
    /* set by pf_triggers: the rule can only match when one of its trigger
     * literals holds (always false for rules without triggers) */
    bool triggered;
    /* set by em_rule_eids: the EventIDs its detection needs (ascending;
     * none: any) */
    const uint16_t *deids;
    uint32_t ndeids;
} em_rule;

/* Interned field names. */
struct ev_names {
    const char **names;
    uint32_t *lens;
    uint32_t n, cap;
    uint64_t *slots; /* open addressing: hash << 32 | (index + 1) (fields.c) */
    uint32_t nslots;
};

typedef struct ig_corr ig_corr;

/* The literal prefilter (prefilter.c): every case-insensitive literal
 * pattern (EQ, CONTAINS, STARTS, ENDS) of every rule, found for a field in
 * one pass over its text instead of one search per pattern. */
typedef struct pf_pat {
    const char *s;
    uint32_t len;
    uint32_t w1; /* bytes 4..7 (little-endian) when len >= 8: a quick reject */
    uint8_t op;
} pf_pat;

typedef struct pf_slot {
    uint64_t key;   /* kind, field id + 1, 32 bits of text (prefilter.c); 0 = empty */
    uint32_t first; /* into pf_table.list */
    uint32_t n;     /* literals: */
    uint32_t nlin;  /* the first nlin tried one by one, */
    uint32_t nmid;  /* the next nmid ordered by a 32-bit, the rest by a 64-bit sub-key
                       (prefilter.h: pf_sub) */
} pf_slot;

#define PF_FP_MAX     32 /* contains keys of a field given fingerprints (pf_fp) */
#define PF_BLOOM_LOG2 18 /* 32 KiB: stays in L1/L2 while slots may not */

typedef struct pf_table {
    pf_pat *pats; /* by pid */
    uint32_t npats;
    pf_slot *slots;
    uint32_t nslots;
    uint32_t *list;   /* pids grouped by slot */
    uint64_t *lsub;   /* the sub-key of each pid in list */
    uint64_t *bloom;  /* 2^PF_BLOOM_LOG2 bits: set for every key in slots */
    uint32_t nnamed;  /* interned fields; */
    uint32_t nfields; /* then keyword fields: one per set of channels (keyword_groups) */
    /* per field (prefilter.c: index_shorts): the kinds of literals it has,
     * its longest equals literal, its contains literals of 1 byte (one), of
     * 2-3 bytes (two, by first two bytes twop, in bitmap twomap), and its
     * other literals too short for a key (anch) */
    uint8_t *kinds;
    uint32_t *eqmax;
    uint32_t **one;
    uint32_t **two;
    uint32_t **twop;
    uint64_t **twomap;
    uint32_t *ntwo;
    uint32_t **anch;
    uint32_t *nanch;
    struct pf_fp **fp; /* per field with few contains keys (NULL: none, or no SSSE3) */
    bool *joinable;    /* per keyword field: only contains literals, none with a NUL byte */
    uint32_t *minlen;  /* per field: its shortest literal (UINT32_MAX: none) */
    /* rules a literal triggers: trig[tfirst[pid] .. tfirst[pid + 1]) */
    uint32_t *tfirst;
    uint32_t *trig;
} pf_table;

struct ig_rules {
    ig_arena arena;
    pf_table pf;
    pcre2_code **regex;
    uint32_t nregex, capregex;
    em_rule *rules;
    uint32_t n;
    ev_names names;
    uint32_t f_channel, f_eventid; /* ids of Channel and EventID */
    /* rules by channel (hash of channel name) and rules for any channel */
    struct em_bucket *buckets;
    uint32_t nbuckets;
    const uint32_t *any; /* rules without a channel */
    uint32_t nany;
    const bool *any_fields; /* fields with literals of any-channel rules */
};

/* Interning (fields.c). */
bool em_names_init(ev_names *n);
void em_names_free(ev_names *n);
/* Returns the id of `name`, adding it (copied into `arena`) if new;
 * EV_NO_ID when out of memory. */
uint32_t em_names_intern(ev_names *n, ig_arena *arena, const char *name, size_t len);

/* Log sources (logsource.c): the channels/EventIDs of a Sigma logsource, or
 * false when it is not a Windows event log source iisguard knows. */
bool em_logsource(const sg_rule *r, ig_arena *a, const em_source **out, uint32_t *n,
                  const char **why);

/* Compiles one loaded rule into `out` (compile.c).  False with *why set
 * when the rule cannot run (unknown modifier, bad regex, ...). */
bool em_compile(ig_rules *rs, const sg_rule *r, em_rule *out, const char **why);

/* Sets r->deids / r->ndeids (eids.c), allocated in `a`: the EventIDs (field
 * `f_eventid`) without which r's detection cannot match.  False when out
 * of memory. */
bool em_rule_eids(em_rule *r, uint32_t f_eventid, ig_arena *a);

/* What every match of a regular expression contains (re_literal.c), in
 * lower case: a literal, and a character at least `count` times. */
#define IG_RE_LITERAL_MAX 64u
typedef struct em_re_need {
    char lit[IG_RE_LITERAL_MAX];
    uint32_t len;   /* 0: no literal known */
    char c;         /* ASCII */
    uint32_t count; /* 0: none known (else 2 or more) */
} em_re_need;

/* Fills *out for regular expression re[0, len) (`caseless`: compiled with
 * PCRE2_CASELESS). */
void em_re_needs(const char *re, size_t len, bool caseless, em_re_need *out);

/* True when regex re[0, len) matches the same subjects whether its
 * quantifiers are greedy or lazy (re_literal.c): nothing in it commits to
 * a choice (atomic groups, possessive quantifiers, verbs, lookarounds,
 * conditions, back references, calls).  A scan that only asks "does it
 * match" may then compile it with PCRE2_UNGREEDY, which finds a match
 * after less backtracking when the same character recurs (`\+.*\+.*\+`). */
bool em_re_lazy_ok(const char *re, size_t len);

/* Builds the prefilter over all compiled rules (sets em_pat.pid): all but
 * the key index, which it leaves to a thread of its own when `helper`, or
 * builds before it returns.  Meanwhile the caller works out what needs no
 * key index (the channel index; pf_triggers: the rules' triggers; the
 * channel views); then pf_build_end, which joins that thread and says
 * whether all went well.  NULL when out of memory. */
typedef struct pf_job pf_job;
pf_job *pf_build_begin(ig_rules *rs, bool helper);
bool pf_build_end(pf_job *job);
void pf_free(pf_table *t);
/* Marks seen[pid] = epoch for every prefiltered pattern of `field` that
 * holds for the (lower-cased) text `v`. */
void pf_scan(const pf_table *t, uint32_t field, const char *v, size_t len, uint32_t *seen,
             uint32_t epoch, uint32_t *hits, uint32_t *nhits);

/* Keeps a compiled regex with the rule set (freed with it). */
bool em_rules_keep_regex(ig_rules *rs, pcre2_code *re);

/* The builder, for rules_files.c (rules.c): a rejection counted and passed
 * to the error callback; a loaded rule compiled (and counted) into the set;
 * the arena rule trees live in; the counters of the current add call; the
 * threads it may parse with (0: one per processor). */
void em_builder_report(ig_rules_builder *b, const char *file, unsigned line, const char *reason);
void em_builder_rule(ig_rules_builder *b, const sg_rule *r);
ig_arena *em_builder_arena(ig_rules_builder *b);
void em_builder_counts(ig_rules_builder *b, unsigned **loaded, unsigned **rejected);
unsigned em_builder_threads(const ig_rules_builder *b);
/* The records of the compiled rule file being made (NULL: not compiling). */
struct ig_buf *em_builder_rec(ig_rules_builder *b);

#endif
