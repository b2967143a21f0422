#include "core/timefmt.h"

#include <string.h>

#include "core/civil.h"

static bool num(const char *s, size_t len, size_t *i, unsigned digits, unsigned *out)
{
    unsigned v = 0;
    for (unsigned k = 0; k < digits; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[*i] - '0');
    }
    *out = v;
    return true;
}

static bool offset_at(const char *s, size_t len, size_t *i, int32_t *secs)
{
    if (*i == len) {
        *secs = 0;
        return true;
    }
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        *secs = 0;
        return true;
    }
    if (s[*i] != '+' && s[*i] != '-')
        return false;
    int sign = s[*i] == '-' ? -1 : 1;
    (*i)++;
    unsigned h, m = 0;
    if (!num(s, len, i, 2, &h))
        return false;
    if (*i < len && s[*i] == ':')
        (*i)++;
    if (*i < len && !num(s, len, i, 2, &m))
        return false;
    if (h > 23 || m > 59)
        return false;
    *secs = sign * (int32_t)(h * 3600 + m * 60);
    return true;
}

bool ig_parse_offset(const char *s, int32_t *secs)
{
    size_t len = strlen(s), i = 0;
    if (strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0) {
        *secs = 0;
        return true;
    }
    int32_t v;
    if (!offset_at(s, len, &i, &v) || i != len)
        return false;
    *secs = v;
    return true;
}

bool ig_parse_time(const char *s, size_t len, uint64_t *out)
{
    size_t i = 0;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    uint64_t frac = 0;
    if (!num(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || !num(s, len, &i, 2, &mo) ||
        i >= len || s[i++] != '-' || !num(s, len, &i, 2, &d))
        return false;
    if (i < len && (s[i] == 'T' || s[i] == ' ')) {
        i++;
        if (!num(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || !num(s, len, &i, 2, &mi))
            return false;
        if (i < len && s[i] == ':') {
            i++;
            if (!num(s, len, &i, 2, &sec))
                return false;
            if (i < len && s[i] == '.') {
                i++;
                unsigned nd = 0;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 7) {
                        frac = frac * 10 + (uint64_t)(s[i] - '0');
                        nd++;
                    }
                    i++;
                }
                if (nd == 0)
                    return false;
                while (nd++ < 7)
                    frac *= 10;
            }
        }
    }
    int32_t off;
    if (!offset_at(s, len, &i, &off) || i != len)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    int64_t days = ig_days_from_civil(y, mo, d) + 134774; /* since 1601-01-01 */
    int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - off;
    if (secs < 0)
        return false;
    *out = (uint64_t)secs * 10000000u + frac;
    return true;
}
