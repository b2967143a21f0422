/* iisguard — Sigma rules: load, compile once into an immutable set shared by
 * threads, scan events with a per-thread scanner, receive alerts. */
#ifndef IISGUARD_RULES_H
#define IISGUARD_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iisguard/error.h"
#include "iisguard/event.h"
#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ig_rules ig_rules;
typedef struct ig_rules_builder ig_rules_builder;
typedef struct ig_scanner ig_scanner;

typedef enum ig_level {
    IG_LEVEL_INFORMATIONAL = 1,
    IG_LEVEL_LOW,
    IG_LEVEL_MEDIUM,
    IG_LEVEL_HIGH,
    IG_LEVEL_CRITICAL
} ig_level;

/* A rule as the user knows it; borrowed from the rule set. */
typedef struct ig_rule_info {
    const char *id, *title, *status, *file, *description;
    ig_level level;
    const char *const *tags;
    size_t ntags;
    unsigned line;
    int correlation; /* non-zero for a correlation rule */
    size_t index;    /* position in the rule set (ig_rules_info) */
    /* logsource as written (NULL when absent; correlations have none) */
    const char *product, *category, *service;
    /* the custom field `iisguard_install_paths`: which ways of installing an
     * IIS component the rule sees (names listed by `iisguard rules coverage`) */
    const char *const *install_paths;
    size_t ninstall_paths;
    int extension; /* uses an iisguard extension (the correlation type absent) */
} ig_rule_info;

/* A rule that was not loaded, and why (file:line: reason). */
typedef struct ig_rule_error {
    const char *file;
    unsigned line;
    const char *reason;
} ig_rule_error;
typedef void (*ig_rule_error_fn)(void *ud, const ig_rule_error *e);

/* Creates a builder.  `on_error` (may be NULL) receives every rejected rule;
 * the other rules still load.  Returns NULL when out of memory. */
IG_API ig_rules_builder *ig_rules_builder_create(ig_rule_error_fn on_error, void *ud);

/* Adds the rules of one YAML text (untrusted; `name` names it in errors) or
 * of a file, or of every *.yml / *.yaml under a folder.  Counts go to
 * *loaded / *rejected when not NULL.  Returns IG_OK, or IG_EIO when a path
 * cannot be read (reported through on_error too). */
IG_API ig_err ig_rules_builder_add_text(ig_rules_builder *b, const char *name, const char *text,
                                        size_t len, unsigned *loaded, unsigned *rejected);
IG_API ig_err ig_rules_builder_add_path(ig_rules_builder *b, const char *path, unsigned *loaded,
                                        unsigned *rejected);

/* How many threads ig_rules_builder_add_path may parse rule files with
 * (0, the default: one per processor; 1: the calling thread only).  The
 * rule set and the errors are the same whatever the number. */
IG_API void ig_rules_builder_set_threads(ig_rules_builder *b, unsigned n);

/* Leaves out rules below `min` (they are counted in *filtered by the add
 * calls that follow, not rejected). */
IG_API void ig_rules_builder_set_min_level(ig_rules_builder *b, ig_level min);

/* Further selection, applied like the level: only rules whose status is one
 * of `statuses` (NULL-terminated, NULL = any), that carry at least one of
 * `tags` (NULL-terminated, case-insensitive, NULL = any), and whose id is
 * not in `exclude_ids` (NULL-terminated).  The arrays are borrowed until
 * the builder is finished. */
IG_API void ig_rules_builder_select(ig_rules_builder *b, const char *const *statuses,
                                    const char *const *tags, const char *const *exclude_ids);
IG_API unsigned ig_rules_builder_filtered(const ig_rules_builder *b);
/* A rule left out by the selection that a selected correlation refers to
 * is kept as that correlation's base, without alerts of its own; this many
 * of the set's rules are such bases (they count in ig_rules_count). */
IG_API size_t ig_rules_adopted(const ig_rules *r);

/* Adds the built-in rule pack (T1505.004: IIS modules and their install
 * paths), carried in the library. */
IG_API ig_err ig_rules_builder_add_builtin(ig_rules_builder *b, unsigned *loaded,
                                           unsigned *rejected);

/* The built-in pack's files, in name order: returns the i-th file's name
 * ("rules/windows/....yml") and sets its YAML text; NULL past the end. */
IG_API const char *ig_builtin_rule_file(size_t i, const char **text, size_t *len);

/* Compiled rule files ("iisguard rules compile"): once recording, every
 * rule file added next is also kept as its YAML reader saw it (the YAML
 * parsed; rules and messages as they were), and ig_rules_builder_save
 * writes that to `f` as one file.  Adding a compiled rule file (a regular
 * file recognised by its first bytes, whatever its name; folders are
 * searched for YAML only) loads the same rules, with the
 * same messages naming the original files and lines, without parsing YAML.
 * The selection (level, status, tags, ids) is not applied to what is
 * saved.  save: IG_EARG when not recording, IG_ENOMEM, IG_EIO. */
IG_API ig_err ig_rules_builder_record(ig_rules_builder *b);
IG_API ig_err ig_rules_builder_save(ig_rules_builder *b, FILE *f);

/* Compiles what was added into an immutable rule set and frees the builder
 * (also on failure).  Returns NULL when out of memory. */
IG_API ig_rules *ig_rules_builder_finish(ig_rules_builder *b);
IG_API void ig_rules_builder_destroy(ig_rules_builder *b);

IG_API size_t ig_rules_count(const ig_rules *r);
IG_API const ig_rule_info *ig_rules_info(const ig_rules *r, size_t i);
IG_API void ig_rules_destroy(ig_rules *r);

/* The event sources the i-th rule's logsource maps to: the k-th channel
 * (NULL: any) and its EventIDs (none: any).  Returns 0 past the last (a
 * correlation has none). */
IG_API int ig_rule_source(const ig_rules *r, size_t i, size_t k, const char **channel,
                          const uint16_t **eids, size_t *neids);

/* One field value that took part in a match. */
typedef struct ig_alert_field {
    ig_strv name, value;
} ig_alert_field;

/* An alert: which rule matched which event.  Everything is borrowed for the
 * duration of the callback. */
typedef struct ig_alert {
    const ig_rule_info *rule;
    ig_event *event;
    const ig_alert_field *fields;
    size_t nfields;
} ig_alert;
typedef void (*ig_alert_fn)(void *ud, const ig_alert *a);

/* A scanner: per-thread match state over a shared rule set. */
IG_API ig_scanner *ig_scanner_create(const ig_rules *r, ig_alert_fn on_alert, void *ud);
/* Runs every rule whose log source fits the event; calls on_alert for each
 * match.  Returns the number of alerts, or -1 when out of memory. */
IG_API int ig_scanner_scan(ig_scanner *s, ig_event *ev);
IG_API void ig_scanner_destroy(ig_scanner *s);

/* Hands the matches this scanner kept for correlations to its ig_corr now
 * (ig_scanner_destroy does it too): for continuous detection, which
 * evaluates correlations while scanning goes on.  False when out of memory. */
IG_API bool ig_scanner_flush(ig_scanner *s);

/* Matches kept for correlations since the last flush: a scan that raises it
 * saw an event some correlation may still need. */
IG_API size_t ig_scanner_pending(const ig_scanner *s);

/* The longest timespan of the set's correlation rules (FILETIME ticks). */
IG_API uint64_t ig_rules_max_timespan(const ig_rules *r);

/* Regular-expression matches this scanner stopped at the match limit (each
 * counts as no match). */
IG_API uint64_t ig_scanner_regex_limit_hits(const ig_scanner *s);

/* ---- correlation rules ---------------------------------------------------
 * Scanners given an ig_corr keep the matches of the rules correlations refer
 * to; once everything is scanned (and the scanners destroyed, which hands
 * their matches over), ig_corr_run evaluates the correlations. */
typedef struct ig_corr ig_corr;

/* One event that took part in a correlation alert (borrowed). */
typedef struct ig_corr_event {
    const char *rule_id; /* the base rule it matched */
    uint64_t time;       /* FILETIME */
    uint64_t record_id;
    const char *path;
    uint64_t offset;
} ig_corr_event;

typedef struct ig_corr_alert {
    const ig_rule_info *rule; /* the correlation rule */
    const char *type;         /* "event_count", "value_count", "temporal", ... */
    ig_strv group;            /* "Field=value, ..." of its group-by fields */
    uint64_t count;           /* events or distinct values or rules seen */
    uint64_t first, last;     /* FILETIMEs of the first and last event */
    uint64_t span;            /* the rule's timespan (FILETIME ticks) */
    const ig_corr_event *events;
    size_t nevents; /* listed (at most 256) */
    size_t total;   /* in the window */
} ig_corr_alert;
typedef void (*ig_corr_alert_fn)(void *ud, const ig_corr_alert *a);

IG_API ig_corr *ig_corr_create(const ig_rules *r);
/* Attaches `c` to a scanner (before it scans). */
IG_API void ig_scanner_set_corr(ig_scanner *s, ig_corr *c);
/* Evaluates every correlation rule; calls fn per alert in (rule, group,
 * time) order.  Returns the number of alerts. */
IG_API size_t ig_corr_run(ig_corr *c, ig_corr_alert_fn fn, void *ud);
/* Forgets the kept matches older than `before` (FILETIME): once time has
 * moved a correlation's timespan past them they can start no new window.
 * Returns how many were dropped. */
IG_API size_t ig_corr_prune(ig_corr *c, uint64_t before);
/* Matches not kept because of the cap on kept matches. */
IG_API uint64_t ig_corr_dropped(const ig_corr *c);
/* Matches kept now (merged from the scanners; not those still buffered). */
IG_API size_t ig_corr_kept(ig_corr *c);
IG_API void ig_corr_destroy(ig_corr *c);

/* ---- rule tests ------------------------------------------------------------
 * A rule's tests are JSON lines, one event each (any shape the JSON-lines
 * reader knows), marked "_expect": "match" or "nomatch" ("_why" says what
 * the event shows).  A detection rule must alert on exactly the "match"
 * events; a correlation rule's alerts must list exactly them. */
typedef struct ig_rule_test_result {
    unsigned events;         /* test events run */
    unsigned passed, failed; /* expectations met / not met (bad lines fail) */
    unsigned bad_lines;      /* lines that are not a marked JSON event */
    char failures[2048];     /* "line N (why): no alert\n"... in line order, as many as fit */
} ig_rule_test_result;

/* Runs the tests in `jsonl` (untrusted) through every rule of `rs` and
 * checks rule `rule_id`'s alerts.  Returns IG_OK (see out->failed),
 * IG_EARG when `rule_id` is not in `rs`, IG_ENOMEM. */
IG_API ig_err ig_rules_test(const ig_rules *rs, const char *rule_id, const char *jsonl, size_t len,
                            ig_rule_test_result *out);

/* Runs a built-in rule's own tests (carried in the library): the rule alone,
 * or a correlation with the whole pack.  Returns IG_OK, IG_EARG when
 * `rule_id` is not a built-in rule, IG_EIO when it has no tests, IG_ENOMEM. */
IG_API ig_err ig_builtin_rule_test(const char *rule_id, ig_rule_test_result *out);

#ifdef __cplusplus
}
#endif
#endif
