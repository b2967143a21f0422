/* Calendar arithmetic (H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms"): days since 1970-01-01 ↔ proleptic Gregorian date. */
#ifndef IG_CORE_CIVIL_H
#define IG_CORE_CIVIL_H

#include <stdint.h>

/* Days from 1601-01-01 (FILETIME's epoch) to 1970-01-01. */
#define IG_DAYS_1601_TO_1970 134774

static inline void ig_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint64_t doe = (uint64_t)(z - era * 146097);
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

/* Days since 1970-01-01 of y-m-d (m 1-12, d 1-31). */
static inline int64_t ig_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    uint64_t yoe = (uint64_t)(y - era * 400);
    uint64_t doy = (153u * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

#endif
