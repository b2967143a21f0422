/* Limits applied to untrusted JSON-lines input (IG_MAX_JSON_*).  The JSON
 * reader's counterpart of src/core/limits.h. */
#ifndef IG_FORMATS_JSONL_LIMITS_H
#define IG_FORMATS_JSONL_LIMITS_H

/* Bytes of one line (one JSON text); a longer line is rejected.  Callers
 * that read lines should cap their line buffer with it. */
#define IG_MAX_JSON_LINE       (8u * 1024u * 1024u)
/* Nesting of arrays and objects in one JSON text (serde_json uses 128). */
#define IG_MAX_JSON_DEPTH      128u
/* Values (tokens: keys, scalars, containers) of one JSON text.  A token
 * takes 24 bytes of the event's arena, so this caps it near 6 MiB. */
#define IG_MAX_JSON_TOKENS     262144u
/* Bytes of a flattened field name ("a.b.c"); longer names are not made
 * (their values are left out, the rest of the text is kept). */
#define IG_MAX_JSON_NAME       1024u
/* evtx_dump suffixes repeated keys ("Data", "Data_1", ...): how many
 * earlier members of the object are searched for the unsuffixed key. */
#define IG_MAX_JSON_DEDUP_SCAN 256u

#endif
