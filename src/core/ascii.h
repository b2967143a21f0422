/* ASCII case folding, eight bytes a step (values are lower-cased for
 * case-insensitive matching: event.c, match.c). */
#ifndef IG_CORE_ASCII_H
#define IG_CORE_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The high bit of each byte of `w` that is an ASCII capital letter. */
static inline uint64_t ig_capitals(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
    uint64_t h = w & ~high; /* no carry between bytes below */
    return (h + ones * (0x80 - 'A')) & ~(h + ones * (0x80 - 'Z' - 1)) & ~w & high;
}

/* Any ASCII capital in s[0, len)?  Eight bytes a step. */
static inline bool ig_has_capital(const char *s, size_t len)
{
    uint64_t any = 0, w;
    size_t k = 0;
    for (; k + 8 <= len; k += 8) {
        memcpy(&w, s + k, 8);
        any |= ig_capitals(w);
    }
    for (; k < len; k++)
        any |= s[k] >= 'A' && s[k] <= 'Z';
    return any != 0;
}

/* d = s[0, len) with ASCII capitals lower-cased. */
static inline void ig_lower_copy(char *d, const char *s, size_t len)
{
    uint64_t w;
    size_t k = 0;
    for (; k + 8 <= len; k += 8) {
        memcpy(&w, s + k, 8);
        w |= ig_capitals(w) >> 2; /* 0x80 >> 2: the case bit */
        memcpy(d + k, &w, 8);
    }
    for (; k < len; k++)
        d[k] = s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] + 32) : s[k];
}

#endif
