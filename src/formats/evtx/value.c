/* Substitution values → text (libevtx notes §6 "Value types").  JSON
 * renderings follow the evtx_dump JSON conventions (GUIDs without braces,
 * times with microseconds, size_t as a number); XML follows Event Viewer
 * (GUIDs in braces, times with 100 ns digits, size_t in hex). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/civil.h"
#include "core/rd.h"
#include "core/utf16.h"
#include "formats/evtx/evtx_int.h"

/* Unicode White_Space (what Rust's str::trim_end removes). */
static bool is_white(uint16_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

static ig_esc esc_of(vf_mode m)
{
    return m == VF_JSON ? IG_ESC_JSON : m == VF_XML ? IG_ESC_XML : IG_ESC_NONE;
}

/* Writes `v` as exactly `n` decimal digits at `o` (right to left). */
static void digits_at(char *o, uint64_t v, unsigned n)
{
    while (n-- > 0) {
        o[n] = (char)('0' + v % 10u);
        v /= 10u;
    }
}

static bool put_datetime(ig_buf *b, int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                         unsigned s, uint64_t frac, unsigned digits)
{
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    /* "YYYY-MM-DDTHH:MM:SS." + digits + "Z", built in place */
    char t[32] = "0000-00-00T00:00:00.";
    digits_at(t, (uint64_t)y, 4);
    digits_at(t + 5, mo, 2);
    digits_at(t + 8, d, 2);
    digits_at(t + 11, h, 2);
    digits_at(t + 14, mi, 2);
    digits_at(t + 17, s, 2);
    digits_at(t + 20, frac, digits);
    t[20 + digits] = 'Z';
    return ig_buf_put(b, t, 21 + digits);
}

bool evtx_filetime(ig_buf *b, uint64_t ft, unsigned digits)
{
    /* 100 ns ticks since 1601-01-01; the calendar day of the previous
     * call is remembered (records of a chunk share their day) */
    static _Thread_local int64_t last_days = INT64_MIN, ly;
    static _Thread_local unsigned lm, ld;
    uint64_t secs = ft / 10000000u, ticks = ft % 10000000u;
    int64_t days = (int64_t)(secs / 86400u) - IG_DAYS_1601_TO_1970;
    uint64_t rem = secs % 86400u;
    if (days != last_days) {
        ig_civil_from_days(days, &ly, &lm, &ld);
        last_days = days;
    }
    uint64_t frac = digits == 7 ? ticks : ticks / 10u;
    return put_datetime(b, ly, lm, ld, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                        (unsigned)(rem % 60), frac, digits);
}

static bool put_systime(ig_buf *b, const uint8_t *p, vf_mode mode)
{
    unsigned ms = ig_le16(p + 14) % 1000u;
    return put_datetime(b, ig_le16(p), ig_le16(p + 2) % 100u, ig_le16(p + 6) % 100u,
                        ig_le16(p + 8) % 100u, ig_le16(p + 10) % 100u, ig_le16(p + 12) % 100u,
                        (uint64_t)ms * (mode != VF_XML ? 1000u : 10000u), mode != VF_XML ? 6 : 7);
}

static bool put_guid(ig_buf *b, const uint8_t *p, vf_mode mode)
{
    uint8_t be[16];
    be[0] = p[3], be[1] = p[2], be[2] = p[1], be[3] = p[0];
    be[4] = p[5], be[5] = p[4], be[6] = p[7], be[7] = p[6];
    memcpy(be + 8, p + 8, 8);
    if (mode == VF_XML && !ig_buf_putc(b, '{'))
        return false;
    bool ok = ig_buf_hexbytes(b, be, 4) && ig_buf_putc(b, '-') && ig_buf_hexbytes(b, be + 4, 2) &&
              ig_buf_putc(b, '-') && ig_buf_hexbytes(b, be + 6, 2) && ig_buf_putc(b, '-') &&
              ig_buf_hexbytes(b, be + 8, 2) && ig_buf_putc(b, '-') &&
              ig_buf_hexbytes(b, be + 10, 6);
    if (ok && mode == VF_XML)
        ok = ig_buf_putc(b, '}');
    return ok;
}

/* SID (MS-DTYP 2.4.2): revision, count, 48-bit big-endian authority,
 * count × 32-bit sub-authorities.  Returns 0 when `n` bytes are not a SID. */
static size_t sid_len(const uint8_t *p, size_t n)
{
    if (n < 8)
        return 0;
    size_t need = 8 + (size_t)p[1] * 4;
    return need <= n ? need : 0;
}

static bool put_sid(ig_buf *b, const uint8_t *p, size_t n)
{
    size_t len = sid_len(p, n);
    if (len == 0)
        return ig_buf_hexbytes(b, p, n);
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
        auth = (auth << 8) | p[i];
    if (!ig_buf_lit(b, "S-") || !ig_buf_u64(b, p[0]) || !ig_buf_putc(b, '-'))
        return false;
    if (!(auth >> 32 ? ig_buf_hex0x(b, auth) : ig_buf_u64(b, auth)))
        return false;
    for (unsigned i = 0; i < p[1]; i++)
        if (!ig_buf_putc(b, '-') || !ig_buf_u64(b, ig_le32(p + 8 + 4 * i)))
            return false;
    return true;
}

static bool put_real(ig_buf *b, double d, int prec)
{
    char tmp[40];
    int n;
    if (!isfinite(d))
        n = snprintf(tmp, sizeof(tmp), "%s", isnan(d) ? "NaN" : (d < 0 ? "-Infinity" : "Infinity"));
    else
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
    return n > 0 && ig_buf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static size_t fixed_size(uint8_t t)
{
    switch (t) {
    case BX_T_I8:
    case BX_T_U8: return 1;
    case BX_T_I16:
    case BX_T_U16: return 2;
    case BX_T_I32:
    case BX_T_U32:
    case BX_T_R32:
    case BX_T_BOOL:
    case BX_T_HEX32: return 4;
    case BX_T_I64:
    case BX_T_U64:
    case BX_T_R64:
    case BX_T_FILETIME:
    case BX_T_HEX64: return 8;
    case BX_T_GUID:
    case BX_T_SYSTIME: return 16;
    default: return 0;
    }
}

static uint64_t uval(const uint8_t *p, size_t n)
{
    switch (n) {
    case 1: return p[0];
    case 2: return ig_le16(p);
    case 4: return ig_le32(p);
    default: return ig_le64(p);
    }
}

/* One scalar of type `t` from `n` bytes, as text. */
static bool scalar_text(ig_buf *b, uint8_t t, const uint8_t *p, size_t n, vf_mode mode)
{
    ig_esc esc = esc_of(mode);
    size_t fs = fixed_size(t);
    if (fs && n < fs)
        return ig_buf_hexbytes(b, p, n); /* too short for its type: show the bytes */
    switch (t) {
    case BX_T_NULL: return true;
    case BX_T_STRING: {
        size_t chars = n / 2;
        while (chars > 0 && ig_le16(p + 2 * (chars - 1)) == 0)
            chars--;
        /* JSON follows evtx_dump, which trims trailing white space from
         * string values (the regression data shows it: "cmd.exe " →
         * "cmd.exe"); XML keeps every character. */
        if (mode != VF_XML)
            while (chars > 0 && is_white(ig_le16(p + 2 * (chars - 1))))
                chars--;
        return ig_utf16le_append(b, p, chars, esc);
    }
    case BX_T_ANSI:
        while (n > 0 && p[n - 1] == 0)
            n--;
        return ig_cp1252_append(b, p, n, esc);
    case BX_T_I8: return ig_buf_i64(b, (int8_t)p[0]);
    case BX_T_U8: return ig_buf_u64(b, p[0]);
    case BX_T_I16: return ig_buf_i64(b, (int16_t)ig_le16(p));
    case BX_T_U16: return ig_buf_u64(b, ig_le16(p));
    case BX_T_I32: return ig_buf_i64(b, (int32_t)ig_le32(p));
    case BX_T_U32: return ig_buf_u64(b, ig_le32(p));
    case BX_T_I64: return ig_buf_i64(b, (int64_t)ig_le64(p));
    case BX_T_U64: return ig_buf_u64(b, ig_le64(p));
    case BX_T_R32: {
        float f;
        uint32_t u = ig_le32(p);
        memcpy(&f, &u, 4);
        return put_real(b, f, 9);
    }
    case BX_T_R64: {
        double d;
        uint64_t u = ig_le64(p);
        memcpy(&d, &u, 8);
        return put_real(b, d, 17);
    }
    case BX_T_BOOL: return uval(p, n >= 4 ? 4 : n) ? ig_buf_lit(b, "true") : ig_buf_lit(b, "false");
    case BX_T_GUID: return put_guid(b, p, mode);
    case BX_T_SIZET:
        if (n != 4 && n != 8)
            return ig_buf_hexbytes(b, p, n);
        return mode != VF_XML ? ig_buf_u64(b, uval(p, n)) : ig_buf_hex0x(b, uval(p, n));
    case BX_T_FILETIME: return evtx_filetime(b, ig_le64(p), mode != VF_XML ? 6 : 7);
    case BX_T_SYSTIME: return put_systime(b, p, mode);
    case BX_T_SID: return put_sid(b, p, n);
    case BX_T_HEX32: return ig_buf_hex0x(b, ig_le32(p));
    case BX_T_HEX64: return ig_buf_hex0x(b, ig_le64(p));
    default: return ig_buf_hexbytes(b, p, n);
    }
}

static bool bare_type(uint8_t t)
{
    switch (t) {
    case BX_T_I8:
    case BX_T_U8:
    case BX_T_I16:
    case BX_T_U16:
    case BX_T_I32:
    case BX_T_U32:
    case BX_T_I64:
    case BX_T_U64:
    case BX_T_BOOL:
    case BX_T_SIZET: return true;
    default: return false;
    }
}

bool evtx_value_is_json_bare(const bx_value *v)
{
    if (v->type == BX_T_STRING)
        return false; /* the common case first */
    if (v->type & BX_T_ARRAY)
        return true; /* rendered as a JSON array by evtx_value_json */
    size_t fs = fixed_size(v->type);
    if (fs && v->len < fs)
        return false;
    if (v->type == BX_T_R32 || v->type == BX_T_R64) {
        double d;
        if (v->type == BX_T_R64) {
            uint64_t u = ig_le64(v->p);
            memcpy(&d, &u, 8);
        } else {
            float f;
            uint32_t u = ig_le32(v->p);
            memcpy(&f, &u, 4);
            d = f;
        }
        return isfinite(d);
    }
    if (v->type == BX_T_SIZET)
        return v->len == 4 || v->len == 8;
    return bare_type(v->type);
}

/* Calls `fn` for each element of an array value. */
typedef bool (*elem_fn)(ig_buf *b, uint8_t t, const uint8_t *p, size_t n, vf_mode mode, size_t idx);

static bool each_elem(ig_buf *b, const bx_value *v, vf_mode mode, elem_fn fn)
{
    uint8_t t = v->type & 0x7f;
    const uint8_t *p = v->p;
    size_t n = v->len, idx = 0;
    if (t == BX_T_STRING) {
        size_t i = 0, start = 0, chars = n / 2;
        for (; i < chars; i++) {
            if (ig_le16(p + 2 * i) == 0) {
                if (!fn(b, t, p + 2 * start, 2 * (i - start), mode, idx++))
                    return false;
                start = i + 1;
            }
        }
        if (start < chars && !fn(b, t, p + 2 * start, 2 * (chars - start), mode, idx++))
            return false;
        return true;
    }
    if (t == BX_T_ANSI) {
        size_t start = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == 0) {
                if (!fn(b, t, p + start, i - start, mode, idx++))
                    return false;
                start = i + 1;
            }
        }
        if (start < n && !fn(b, t, p + start, n - start, mode, idx++))
            return false;
        return true;
    }
    size_t fs = fixed_size(t);
    if (t == BX_T_SID) {
        size_t off = 0;
        while (off < n) {
            size_t l = sid_len(p + off, n - off);
            if (l == 0)
                l = n - off;
            if (!fn(b, t, p + off, l, mode, idx++))
                return false;
            off += l;
        }
        return true;
    }
    if (t == BX_T_SIZET)
        fs = 8;
    if (fs == 0)
        return fn(b, t, p, n, mode, 0);
    for (size_t off = 0; off + fs <= n; off += fs)
        if (!fn(b, t, p + off, fs, mode, idx++))
            return false;
    if (n % fs && !fn(b, BX_T_BINARY, p + n - n % fs, n % fs, mode, idx++))
        return false;
    return true;
}

static bool elem_text(ig_buf *b, uint8_t t, const uint8_t *p, size_t n, vf_mode mode, size_t idx)
{
    if (idx > 0 && !ig_buf_lit(b, ", "))
        return false;
    return scalar_text(b, t, p, n, mode);
}

static bool elem_json(ig_buf *b, uint8_t t, const uint8_t *p, size_t n, vf_mode mode, size_t idx)
{
    (void)mode;
    if (idx > 0 && !ig_buf_putc(b, ','))
        return false;
    bx_value e = {p, (uint32_t)n, t, NULL};
    bool bare = evtx_value_is_json_bare(&e);
    if (!bare && !ig_buf_putc(b, '"'))
        return false;
    if (!scalar_text(b, t, p, n, VF_JSON))
        return false;
    return bare || ig_buf_putc(b, '"');
}

bool evtx_value_text(ig_buf *b, const bx_value *v, vf_mode mode)
{
    if (v->type & BX_T_ARRAY)
        return each_elem(b, v, mode, elem_text);
    return scalar_text(b, v->type, v->p, v->len, mode);
}

bool evtx_value_json(ig_buf *b, const bx_value *v)
{
    if (v->type & BX_T_ARRAY)
        return ig_buf_putc(b, '[') && each_elem(b, v, VF_JSON, elem_json) && ig_buf_putc(b, ']');
    bool bare = evtx_value_is_json_bare(v);
    if (!bare && !ig_buf_putc(b, '"'))
        return false;
    if (!scalar_text(b, v->type, v->p, v->len, VF_JSON))
        return false;
    return bare || ig_buf_putc(b, '"');
}
