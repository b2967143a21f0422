/* Sigma rules as written (../shared/data/sigma-spec/specification): the
 * loader (sigma_load.c, the only file that includes <yaml.h>) fills these
 * structures; the compiler (compile.c) turns them into matchers.  Nothing
 * here is interpreted yet: modifiers are names, values are raw text with
 * their wildcards, conditions are a parsed expression tree.
 *
 * All memory of a rule lives in the arena passed to the loader. */
#ifndef IG_ENGINE_SIGMA_AST_H
#define IG_ENGINE_SIGMA_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

struct ig_buf;

typedef enum sg_level {
    SG_LEVEL_NONE = 0, /* not given */
    SG_LEVEL_INFORMATIONAL,
    SG_LEVEL_LOW,
    SG_LEVEL_MEDIUM,
    SG_LEVEL_HIGH,
    SG_LEVEL_CRITICAL
} sg_level;

/* One value of a detection item, as YAML gave it. */
typedef enum sg_vkind {
    SG_V_STR,  /* a string (wildcards * ? and escapes \ still in `s`) */
    SG_V_INT,  /* an integer scalar (plain, e.g. EventID: 4688; also 0x1F, 0o17); text in `s` too */
    SG_V_NUM,  /* another number (float, .inf, or an integer outside int64); text in `s` */
    SG_V_BOOL, /* true/false; text in `s` */
    SG_V_NULL  /* null, ~ or an empty plain scalar */
} sg_vkind;
/* Kinds follow the YAML 1.2 core schema for plain scalars only: a quoted
 * ('4688', "true"), block (| >) or !!str-tagged scalar is always SG_V_STR.
 * `s` keeps the text as written (for SG_V_NULL it is ""); it may contain a
 * NUL byte from a "\0" escape, `len` is authoritative.  A list of values
 * never contains SG_V_NULL next to other values (spec "Special Field
 * Values": the loader rejects it). */

typedef struct sg_value {
    sg_vkind kind;
    const char *s; /* NUL-terminated; for SG_V_NULL "" */
    size_t len;
    int64_t i;     /* SG_V_INT */
    bool b;        /* SG_V_BOOL */
    unsigned line; /* 1-based line in the file */
} sg_value;

/* "Field|mod1|mod2: value(s)" in a map, or one keyword list (field NULL). */
typedef struct sg_item {
    const char *field;       /* NULL: keyword search over the whole event */
    const char *const *mods; /* modifier names in order, as written */
    unsigned nmods;
    const sg_value *vals; /* a scalar is a list of one */
    unsigned nvals;
    unsigned line;
} sg_item;

/* A map: its items are ANDed. */
typedef struct sg_map {
    const sg_item *items;
    unsigned nitems;
    unsigned line;
} sg_map;

/* A search identifier under `detection:` (not `condition`/`timeframe`).
 *  - a map                      → nmaps = 1
 *  - a list of maps             → nmaps ≥ 1, ORed
 *  - a list of plain values     → keywords (field NULL), values ORed
 *  - a list mixing both is kept as maps, plain values becoming keyword items
 * Exactly one form is used: in the keyword form `keywords` points to ONE
 * item (field NULL, no modifiers, nvals ≥ 1 values ORed) and maps is NULL,
 * nmaps 0 (a single scalar, "sel: foo", is that form with one value);
 * otherwise keywords is NULL and nmaps ≥ 1.  In a mixed list each plain
 * value becomes its own one-item map.  Keywords with modifiers ("'|all':
 * [...]") are an item of a map with field NULL and nmods ≥ 1.  Every item
 * has nvals ≥ 1. */
typedef struct sg_search {
    const char *name;
    const sg_map *maps;
    unsigned nmaps;
    const sg_item *keywords; /* NULL unless the keyword form */
    unsigned line;
} sg_search;

/* Condition expression (spec "Condition"). */
typedef enum sg_ckind {
    SG_C_ID,     /* a search identifier: `name` */
    SG_C_AND,    /* a AND b */
    SG_C_OR,     /* a OR b */
    SG_C_NOT,    /* NOT a */
    SG_C_ONE_OF, /* 1 of pattern ('*' anywhere in it; "them" = all searches not starting with _) */
    SG_C_ALL_OF  /* all of pattern */
} sg_ckind;

/* AND/OR chains are built as balanced trees ("a or b or c" = (a or (b or c))),
 * so any walk recurses at most IG_MAX_SIGMA_COND_DEPTH (sigma_limits.h) deep. */
typedef struct sg_cond {
    sg_ckind kind;
    const char *name; /* SG_C_ID, SG_C_ONE_OF, SG_C_ALL_OF ("them" for every search) */
    const struct sg_cond *a, *b;
} sg_cond;

/* Correlation rules (sigma-correlation-rules-specification.md). */
typedef enum sg_corr_type {
    SG_CORR_NONE = 0,
    SG_CORR_EVENT_COUNT,
    SG_CORR_VALUE_COUNT,
    SG_CORR_TEMPORAL,
    SG_CORR_TEMPORAL_ORDERED,
    SG_CORR_ABSENT /* extension: the first rule's events with no event of the
                    * others in their group within ± timespan */
} sg_corr_type;

typedef enum sg_cmp {
    SG_CMP_NONE = 0,
    SG_CMP_GT,
    SG_CMP_GTE,
    SG_CMP_LT,
    SG_CMP_LTE,
    SG_CMP_EQ,
    SG_CMP_NEQ /* spec v2.1 */
} sg_cmp;

typedef struct sg_alias_map { /* aliases: field name per referenced rule */
    const char *rule;
    const char *field;
} sg_alias_map;

typedef struct sg_alias {
    const char *name;
    const sg_alias_map *maps;
    unsigned nmaps;
} sg_alias;

typedef struct sg_correlation {
    sg_corr_type type;
    const char *const *rules; /* referenced rule ids or names */
    unsigned nrules;
    const char *const *group_by;
    unsigned ngroup_by;
    uint64_t timespan_ms;
    sg_cmp cmp; /* condition: gt/gte/lt/lte/eq/neq with `threshold`; SG_CMP_NONE only
                 * for temporal types without a condition (all rules must match) */
    uint64_t threshold;
    sg_cmp cmp2; /* a second bound ANDed with the first (a range: "gt: 100, lte: 200");
                  * SG_CMP_NONE when absent */
    uint64_t threshold2;
    const char *field; /* value_count: the field whose distinct values count */
    const sg_alias *aliases;
    unsigned naliases;
    bool generate; /* also emit the referenced rules' own matches (top level `generate:`,
                    * also accepted inside `correlation:`) */
} sg_correlation;

typedef struct sg_rule {
    const char *file;
    unsigned line; /* first line of the rule's YAML document */
    const char *title, *id, *name, *status, *description, *author, *date, *modified;
    sg_level level;
    const char *const *tags;
    unsigned ntags;
    const char *const *falsepositives;
    unsigned nfalsepositives;
    const char *const *fields;
    unsigned nfields;
    const char *const *install_paths; /* custom field iisguard_install_paths */
    unsigned ninstall_paths;
    /* logsource */
    const char *product, *category, *service;
    /* detection */
    const sg_search *searches;
    unsigned nsearches;
    const sg_cond *const *conds; /* a list of conditions is ORed */
    unsigned nconds;
    uint64_t timeframe_ms; /* detection `timeframe:` (legacy aggregations), 0 if absent */
    /* correlation (type != NONE); then searches/conds are empty */
    sg_correlation corr;
} sg_rule;

/* A problem with a rule file: where, and why.  `file` and `reason` live in
 * the arena passed to sg_load_text. */
typedef struct sg_error {
    const char *file;
    unsigned line;
    const char *reason;
} sg_error;

typedef void (*sg_rule_fn)(void *ud, const sg_rule *r);
typedef void (*sg_error_fn)(void *ud, const sg_error *e);

/* Parses the YAML text `text`/`len` (untrusted) named `file`: every YAML
 * document that is a Sigma rule (detection or correlation) is delivered to
 * `on_rule` (its memory lives in `arena`); every document that is not is
 * reported to `on_error` with its line and reason, and the others are still
 * read.  Sigma rule collections ("action: global"/"reset"/"repeat") are
 * applied.  Returns the number of rules delivered.
 *
 * A rule is rejected (one sg_error, nothing delivered) for YAML syntax
 * errors (libyaml's problem text), limits (sigma_limits.h), a missing
 * title, logsource or detection, a detection without search or condition,
 * a condition that does not parse or names an unknown search, an invalid
 * level or status, a key with an empty modifier ("Field|"), a null inside a
 * list of values, lists inside lists, duplicate keys, and invalid
 * correlations (type, rules, timespan, condition).  Documents are split at
 * column-0 "---" lines, so a syntax error costs only its own document.
 * Empty documents are skipped silently.  `file` is copied; `text` need not
 * be NUL-terminated and is not referenced after the call. */
unsigned sg_load_text(const char *file, const char *text, size_t len, ig_arena *arena,
                      sg_rule_fn on_rule, sg_error_fn on_error, void *ud);

/* sg_load_text that also appends the file, as its YAML gave it, to `rec`
 * (when not NULL): the name, each document's tree and each error found
 * before a tree was made, as records of a compiled rule file (sigma_bin.c)
 * that sg_load_compiled turns into the same rules and errors without
 * parsing YAML. */
unsigned sg_load_text_rec(const char *file, const char *text, size_t len, ig_arena *arena,
                          sg_rule_fn on_rule, sg_error_fn on_error, void *ud, struct ig_buf *rec);

/* A compiled rule file: SG_COMPILED_MAGIC, a version, the CRC-32 of the
 * records, then records (a tag byte, a 32-bit length, that many bytes).
 * sg_compiled_header writes the header for records of `len` bytes whose
 * CRC-32 is `crc` into out[SG_COMPILED_HEADER]. */
#define SG_COMPILED_MAGIC  "IGSIGMA\x1a"
#define SG_COMPILED_HEADER 16u
void sg_compiled_header(uint8_t out[SG_COMPILED_HEADER], uint32_t crc);
bool sg_is_compiled(const uint8_t *data, size_t len);
/* Appends to `rec` an error about `file` found before it was parsed (it
 * could not be read, a folder without rule files). */
void sg_record_error(struct ig_buf *rec, const char *file, unsigned line, const char *reason);

/* Reads the compiled rule file `data`/`len` (untrusted) named `path`:
 * delivers its rules and errors exactly as sg_load_text delivered them from
 * the YAML (the errors naming the rule files compiled), each document's
 * tree checked against the limits the YAML reader applies.  A damaged
 * header or record is reported to `on_error` (file `path`, line 0, the
 * byte offset in the reason) and reading goes on with the next record
 * while the framing holds.  Returns the number of rules delivered. */
unsigned sg_load_compiled(const char *path, const uint8_t *data, size_t len, ig_arena *arena,
                          sg_rule_fn on_rule, sg_error_fn on_error, void *ud);

/* sg_load_compiled in parts, for several threads: sg_compiled_open checks
 * the header (false, reported, when the records cannot be read) and the
 * checksum (reported); sg_compiled_run returns where the run of records
 * starting at `pos` ends (a file name record and the records up to the
 * next one), *cut set when the framing breaks there; sg_load_compiled_run
 * delivers the rules and errors of records [start, end) (one run, any
 * thread, its own arena) and, when `cut`, reports the break at `end`. */
bool sg_compiled_open(const char *path, const uint8_t *data, size_t len, ig_arena *arena,
                      sg_error_fn on_error, void *ud);
size_t sg_compiled_run(const uint8_t *data, size_t len, size_t pos, bool *cut);
unsigned sg_load_compiled_run(const char *path, const uint8_t *data, size_t start, size_t end,
                              bool cut, ig_arena *arena, sg_rule_fn on_rule, sg_error_fn on_error,
                              void *ud);

/* Parses a condition expression (spec "Condition": and/or/not, parentheses,
 * "1 of x*", "all of x*", "1 of them", "all of them"; keywords are
 * case-insensitive).  Returns NULL and sets *reason on error (a message
 * with a 1-based byte column, in `arena`).  `text` is untrusted; the tree
 * and names live in `arena`. */
const sg_cond *sg_parse_condition(const char *text, ig_arena *arena, const char **reason);

#endif
