/* Hashing for the project's open-addressing tables. */
#ifndef IG_CORE_HASH_H
#define IG_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A 32-bit hash of s[0, len) for hash tables of short strings (names):
 * eight bytes a step (byte by byte was a tenth of reading JSON lines); a
 * tail of 4-7 bytes is read as two overlapping words, one of 1-3 bytes as
 * its first, middle and last.  Not keyed (as FNV-1a was before it). */
static inline uint32_t ig_hash_bytes(const char *s, size_t len)
{
    const uint64_t k = 0xff51afd7ed558ccdu;
    uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;
    for (; len >= 8; s += 8, len -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        w = a | (uint64_t)b << 32;
    } else if (len > 0) {
        w = (uint64_t)(uint8_t)s[0] | (uint64_t)(uint8_t)s[len / 2] << 8 |
            (uint64_t)(uint8_t)s[len - 1] << 16;
    } else {
        w = 0;
    }
    h = (h ^ w) * k;
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 32;
    return (uint32_t)h;
}

#endif
