/* Decimal parsing with overflow checks (no atoi/strtol). */
#ifndef IG_CORE_NUM_H
#define IG_CORE_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* Parses all of `s` as an unsigned decimal ≤ max.  False on any junk,
 * empty input or overflow; *out untouched then. */
static inline bool ig_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

#endif
