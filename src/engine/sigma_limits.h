/* Limits applied to untrusted Sigma rule files (sigma_load.c, condition.c).
 * Real rules are far below every one of them: the largest file of the
 * SigmaHQ corpus is ~60 KiB, its deepest YAML nesting 5, its longest
 * condition ~400 characters. */
#ifndef IG_ENGINE_SIGMA_LIMITS_H
#define IG_ENGINE_SIGMA_LIMITS_H

/* Bytes of one rule file; a larger file is rejected as a whole. */
#define IG_MAX_SIGMA_FILE_BYTES (4u * 1024u * 1024u)
/* YAML documents in one file; the ones past it are reported once and ignored. */
#define IG_MAX_SIGMA_DOCUMENTS  1024u
/* YAML nodes of one document, aliases counted as the size of what they
 * expand to (so "billion laughs" is stopped here). */
#define IG_MAX_SIGMA_NODES      100000u
/* Nesting of sequences and mappings in one document (aliases included). */
#define IG_MAX_SIGMA_DEPTH      32u
/* Keys of one mapping (duplicate detection and merging are quadratic). */
#define IG_MAX_SIGMA_MAP_KEYS   512u
/* Anchors defined in one document. */
#define IG_MAX_SIGMA_ANCHORS    256u
/* Bytes of one scalar (a title, a value, a condition). */
#define IG_MAX_SIGMA_STRING     (256u * 1024u)
/* Scratch memory (YAML trees, collection templates) for one file. */
#define IG_MAX_SIGMA_SCRATCH    (64u * 1024u * 1024u)
/* Bytes of one condition expression. */
#define IG_MAX_SIGMA_COND_LEN   (64u * 1024u)
/* Bytes of a search identifier (a key under detection, a name or pattern
 * in a condition). */
#define IG_MAX_SIGMA_NAME       256u
/* Conditions in one rule's condition list. */
#define IG_MAX_SIGMA_CONDITIONS 64u
/* Character steps spent resolving one rule's condition names and patterns
 * against its searches (each pattern is glob-matched against each name). */
#define IG_MAX_SIGMA_COND_WORK  20000000u
/* Nodes of one parsed condition (identifiers, operators). */
#define IG_MAX_SIGMA_COND_NODES 4096u
/* Depth of a parsed condition tree (parentheses, not, and/or chains, which
 * are built balanced so a chain of n operands costs log2(n) levels). */
#define IG_MAX_SIGMA_COND_DEPTH 64u

#endif
