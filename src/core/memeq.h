/* Equality of short byte strings without a call: field names and literals
 * are mostly under 32 bytes, where memcmp's call and dispatch cost more
 * than the comparison (longer ones go to memcmp). */
#ifndef IG_CORE_MEMEQ_H
#define IG_CORE_MEMEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* a[0, n) == b[0, n)?  Reads nothing outside them. */
static inline bool ig_mem_eq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t p, q;
    if (n > 64)
        return memcmp(a, b, n) == 0;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&p, x + i, 8);
            memcpy(&q, y + i, 8);
            if (p != q)
                return false;
        }
        memcpy(&p, x + n - 8, 8); /* the last 8, overlapping */
        memcpy(&q, y + n - 8, 8);
        return p == q;
    }
    if (n >= 4) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, x, 4);
        memcpy(&a1, x + n - 4, 4);
        memcpy(&b0, y, 4);
        memcpy(&b1, y + n - 4, 4);
        return a0 == b0 && a1 == b1;
    }
    if (n == 0)
        return true;
    /* 1-3 bytes: the first, middle and last cover them all */
    p = x[0] | (uint64_t)x[n / 2] << 8 | (uint64_t)x[n - 1] << 16;
    q = y[0] | (uint64_t)y[n / 2] << 8 | (uint64_t)y[n - 1] << 16;
    return p == q;
}

#endif
