/* The literal prefilter's keys, shared by building (prefilter.c) and
 * scanning (prefilter_scan.c). */
#ifndef IG_ENGINE_PREFILTER_H
#define IG_ENGINE_PREFILTER_H

#include <stdint.h>

#include "core/hash.h"
#include "core/rd.h"
#include "engine/engine.h"

/* Keys of the literal index: the literal's kind (where in a value it is
 * looked for, below), its field and 32 bits of its text.  Key 0 is an empty
 * slot (field + 1 is never 0). */
enum {
    PF_K_SCAN,  /* contains, >= 4 bytes: its first 4 bytes, at every position */
    PF_K_EQ,    /* equals, any length: a hash of it, against the whole value */
    PF_K_HEAD4, /* startswith, 4-7 bytes: its first 4 bytes, at position 0 */
    PF_K_HEAD8, /* startswith, >= 8 bytes: a hash of its first 8, at position 0 */
    PF_K_TAIL4, /* endswith, 4-7 bytes: its last 4 bytes, at the end */
    PF_K_TAIL8, /* endswith, >= 8 bytes: a hash of its last 8, at the end */
};

/* pf_table.kinds bits beyond 1 << PF_K_*: short literals */
#define PF_SHORTS   0x40u /* contains, 1-3 bytes */
#define PF_ANCHORED 0x80u /* startswith / endswith, 0-3 bytes; contains "" */

static inline uint64_t key_make(unsigned kind, uint32_t field, uint32_t text)
{
    return (uint64_t)kind << 61 | (uint64_t)(field + 1) << 32 | text;
}

static inline uint32_t text4(const char *s)
{
    return ig_le32((const uint8_t *)s);
}

static inline uint32_t text8(const char *s)
{
    return ig_hash_bytes(s, 8);
}

/* The key of literal `s` (op `op`) of `field`; 0 when it is too short for
 * the index (a short literal: pf_table.one / two / anch). */
static inline uint64_t lit_key(uint32_t field, const char *s, uint32_t len, uint8_t op)
{
    switch (op) {
    case EM_EQ: return key_make(PF_K_EQ, field, ig_hash_bytes(s, len));
    case EM_STARTS:
        return len >= 8   ? key_make(PF_K_HEAD8, field, text8(s))
               : len >= 4 ? key_make(PF_K_HEAD4, field, text4(s))
                          : 0;
    case EM_ENDS:
        return len >= 8   ? key_make(PF_K_TAIL8, field, text8(s + len - 8))
               : len >= 4 ? key_make(PF_K_TAIL4, field, text4(s + len - 4))
                          : 0;
    default: return len >= 4 ? key_make(PF_K_SCAN, field, text4(s)) : 0;
    }
}

static inline unsigned key_kind(uint64_t key)
{
    return (unsigned)(key >> 61);
}

/* Hash of a key; its bits 32 and up pick the slot, its top bits the bloom
 * word (bloom_word). */
static inline uint64_t key_hash(uint64_t k)
{
    return k * 0x9E3779B97F4A7C15ull;
}

static inline uint32_t slot_of(uint64_t hash, uint32_t mask)
{
    return (uint32_t)(hash >> 32) & mask;
}

/* The bloom bitmap is blocked: a key sets two bits of one 64-bit word,
 * the word picked by the hash's top bits, the bits by bits 20..31 (which
 * the slot's bits, 32 and up, leave alone). */
static inline uint32_t bloom_word(uint64_t hash)
{
    return (uint32_t)(hash >> (64 - (PF_BLOOM_LOG2 - 6)));
}

static inline uint64_t bloom_bits(uint64_t hash)
{
    return 1ull << (hash >> 20 & 63) | 1ull << (hash >> 26 & 63);
}

/* The literals of one key are tried in three classes: one by one
 * (PF_LINEAR), or found by a binary search on the bytes that follow those
 * the key covers (many literals share a key: 810 imphash values in
 * SigmaHQ's Hashes literals, 88 startswith "c:\\program files (x86)\\...").
 * Contains literals (key: bytes 0..3): below 8 bytes linear, 8-11 by
 * bytes 4..7 (PF_MID), longer by bytes 4..11 (PF_LONG); startswith /
 * endswith of 16 bytes or more (key: a hash of the first / last 8): by the
 * 8 bytes after / before those (PF_LONG); all others linear. */
enum { PF_LINEAR, PF_MID, PF_LONG };

static inline unsigned pf_sub(unsigned kind, const char *s, uint32_t len, uint64_t *sub)
{
    const uint8_t *u = (const uint8_t *)s;
    switch (kind) {
    case PF_K_SCAN:
        if (len >= 12) {
            *sub = ig_le64(u + 4);
            return PF_LONG;
        }
        if (len >= 8) {
            *sub = ig_le32(u + 4);
            return PF_MID;
        }
        return PF_LINEAR;
    case PF_K_HEAD8:
    case PF_K_TAIL8:
        if (len < 16)
            return PF_LINEAR;
        *sub = ig_le64(u + (kind == PF_K_HEAD8 ? 8 : len - 16));
        return PF_LONG;
    default: return PF_LINEAR;
    }
}

static inline uint16_t pair_of(const char *s)
{
    return ig_le16((const uint8_t *)s);
}

/* Fingerprints of a field's contains keys: bit b of lo[j][n] / hi[j][n]:
 * some key of bucket b has low / high nibble n in its byte j (0..2). */
typedef struct pf_fp {
    uint8_t lo[3][16], hi[3][16];
} pf_fp;

/* Can this processor run the fingerprint scan (SSSE3)? */
bool pf_simd_usable(void);

/* Sets em_rule.triggered and pf_table's trigger lists (triggers.c). */
bool pf_triggers(ig_rules *rs);

#endif
