#include "core/utf16.h"

#include "core/rd.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const uint8_t json_special[128] = {['"'] = 1, ['\\'] = 1};
static const uint8_t xml_special[128] = {['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1};
static const uint8_t none_special[128] = {0};

/* Escape table: 0 = copy, otherwise needs the slow path. */
static bool needs_escape(uint32_t c, ig_esc esc)
{
    if (esc == IG_ESC_NONE)
        return false;
    if (c < 0x20)
        return true;
    if (esc == IG_ESC_JSON)
        return c == '"' || c == '\\';
    return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
}

static bool put_escaped_ascii(ig_buf *b, uint32_t c, ig_esc esc)
{
    static const char hex[] = "0123456789abcdef";
    if (esc == IG_ESC_JSON) {
        switch (c) {
        case '"': return ig_buf_lit(b, "\\\"");
        case '\\': return ig_buf_lit(b, "\\\\");
        case '\n': return ig_buf_lit(b, "\\n");
        case '\r': return ig_buf_lit(b, "\\r");
        case '\t': return ig_buf_lit(b, "\\t");
        case '\b': return ig_buf_lit(b, "\\b");
        case '\f': return ig_buf_lit(b, "\\f");
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 15u], hex[c & 15u]};
            return ig_buf_put(b, u, sizeof(u));
        }
        }
    }
    switch (c) {
    case '&': return ig_buf_lit(b, "&amp;");
    case '<': return ig_buf_lit(b, "&lt;");
    case '>': return ig_buf_lit(b, "&gt;");
    case '"': return ig_buf_lit(b, "&quot;");
    case '\'': return ig_buf_lit(b, "&apos;");
    case '\t': return ig_buf_putc(b, (uint8_t)c);
    case '\n': return ig_buf_lit(b, "&#10;"); /* keeps one record per line */
    case '\r': return ig_buf_lit(b, "&#13;");
    default: {
        /* other C0 controls are not allowed in XML 1.0, not even as
         * references: show them as their Unicode control pictures */
        uint8_t u[3] = {0xE2, 0x90, (uint8_t)(0x80 + c)};
        return ig_buf_put(b, u, sizeof(u));
    }
    }
}

static bool put_cp(ig_buf *b, uint32_t c, ig_esc esc)
{
    if (c < 0x80) {
        if (needs_escape(c, esc))
            return put_escaped_ascii(b, c, esc);
        return ig_buf_putc(b, (uint8_t)c);
    }
    uint8_t o[4];
    size_t n;
    if (c < 0x800) {
        o[0] = (uint8_t)(0xC0 | (c >> 6));
        o[1] = (uint8_t)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        o[0] = (uint8_t)(0xF0 | (c >> 18));
        o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (uint8_t)(0x80 | (c & 0x3F));
        n = 4;
    }
    return ig_buf_put(b, o, n);
}

bool ig_utf16le_append(ig_buf *b, const uint8_t *p, size_t nchars, ig_esc esc)
{
    /* Reserve the worst case once (6 bytes per code unit: a \u00XX escape
     * or an XML reference; a surrogate pair is 4 bytes for 2 units), then
     * write without further checks. */
    if (nchars == 0)
        return true; /* (an empty buffer may have no storage yet) */
    if (nchars > SIZE_MAX / 8 || ig_buf_reserve(b, nchars * 6) != IG_OK)
        return false;
    /* punctuation that needs escaping, per mode (controls are checked apart) */
    const uint8_t *special = esc == IG_ESC_JSON  ? json_special
                             : esc == IG_ESC_XML ? xml_special
                                                 : none_special;
    uint8_t ctl = esc == IG_ESC_NONE ? 0x00 : 0x20;
    uint8_t *o = b->data + b->len;
    size_t i = 0;
    while (i < nchars) {
#ifdef __SSE2__
        /* runs of plain ASCII, eight code units at a time */
        {
            const __m128i hi = _mm_set1_epi16((short)0xFF80);
            const __m128i lim = _mm_set1_epi16((short)ctl);
            const __m128i q1 = _mm_set1_epi16(esc == IG_ESC_JSON  ? '"'
                                              : esc == IG_ESC_XML ? '&'
                                                                  : 0x7fff);
            const __m128i q2 = _mm_set1_epi16(esc == IG_ESC_JSON  ? '\\'
                                              : esc == IG_ESC_XML ? '<'
                                                                  : 0x7fff);
            const __m128i q3 = _mm_set1_epi16(esc == IG_ESC_XML ? '>' : 0x7fff);
            const __m128i q4 = _mm_set1_epi16(esc == IG_ESC_XML ? '"' : 0x7fff);
            const __m128i q5 = _mm_set1_epi16(esc == IG_ESC_XML ? '\'' : 0x7fff);
            while (i + 8 <= nchars) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i));
                __m128i bad =
                    _mm_or_si128(_mm_cmpeq_epi16(_mm_and_si128(v, hi), _mm_setzero_si128()),
                                 _mm_setzero_si128());
                /* bad = lanes that are ASCII; then knock out specials */
                __m128i sp = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi16(v, q1), _mm_cmpeq_epi16(v, q2)),
                    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi16(v, q3), _mm_cmpeq_epi16(v, q4)),
                                 _mm_or_si128(_mm_cmpeq_epi16(v, q5), _mm_cmplt_epi16(v, lim))));
                if (_mm_movemask_epi8(_mm_andnot_si128(sp, bad)) != 0xFFFF)
                    break;
                _mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(v, v));
                o += 8;
                i += 8;
            }
        }
#endif
        /* runs of plain ASCII, four code units at a time */
        while (i + 4 <= nchars) {
            uint64_t w = ig_le64(p + 2 * i);
            if (w & 0xFF80FF80FF80FF80ull)
                break;
            uint8_t c0 = (uint8_t)w, c1 = (uint8_t)(w >> 16), c2 = (uint8_t)(w >> 32),
                    c3 = (uint8_t)(w >> 48);
            if ((c0 < ctl) | (c1 < ctl) | (c2 < ctl) | (c3 < ctl) | special[c0] | special[c1] |
                special[c2] | special[c3])
                break;
            o[0] = c0, o[1] = c1, o[2] = c2, o[3] = c3;
            o += 4;
            i += 4;
        }
        if (i >= nchars)
            break;
        uint32_t c = ig_le16(p + 2 * i);
        i++;
        if (c < 0x80) {
            if (c >= ctl && !special[c]) {
                *o++ = (uint8_t)c;
            } else if (esc == IG_ESC_JSON && (c == '\\' || c == '"')) {
                o[0] = '\\', o[1] = (uint8_t)c;
                o += 2;
            } else {
                b->len = (size_t)(o - b->data);
                if (!put_escaped_ascii(b, c, esc))
                    return false; /* cannot happen: reserved */
                o = b->data + b->len;
            }
            continue;
        }
        if (c < 0x800) {
            o[0] = (uint8_t)(0xC0 | (c >> 6));
            o[1] = (uint8_t)(0x80 | (c & 0x3F));
            o += 2;
            continue;
        }
        if (c >= 0xD800 && c <= 0xDFFF) {
            uint32_t lo = i < nchars ? ig_le16(p + 2 * i) : 0;
            if (c <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
                o[0] = (uint8_t)(0xF0 | (c >> 18));
                o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
                o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
                o[3] = (uint8_t)(0x80 | (c & 0x3F));
                o += 4;
                continue;
            }
            c = 0xFFFD; /* unpaired surrogate */
        }
        o[0] = (uint8_t)(0xE0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
        o += 3;
    }
    b->len = (size_t)(o - b->data);
    return true;
}

/* The index of the first byte of p[i, n) that `esc` (JSON or XML) must
 * escape, n when none: sixteen bytes a step with SSE2. */
static size_t plain_until(const uint8_t *p, size_t i, size_t n, ig_esc esc)
{
#ifdef __SSE2__
    const __m128i ctl = _mm_set1_epi8(0x1f), quot = _mm_set1_epi8('"');
    const __m128i c2 = _mm_set1_epi8(esc == IG_ESC_JSON ? '\\' : '&');
    const __m128i c3 = _mm_set1_epi8(esc == IG_ESC_JSON ? '"' : '<');
    const __m128i c4 = _mm_set1_epi8(esc == IG_ESC_JSON ? '"' : '>');
    const __m128i c5 = _mm_set1_epi8(esc == IG_ESC_JSON ? '"' : '\'');
    for (; n - i >= 16; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x),
                                   _mm_or_si128(_mm_cmpeq_epi8(x, quot), _mm_cmpeq_epi8(x, c2)));
        hit = _mm_or_si128(
            hit, _mm_or_si128(_mm_cmpeq_epi8(x, c3),
                              _mm_or_si128(_mm_cmpeq_epi8(x, c4), _mm_cmpeq_epi8(x, c5))));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m != 0)
            return i + (unsigned)__builtin_ctz(m);
    }
#endif
    while (i < n && !(p[i] < 0x80 && needs_escape(p[i], esc)))
        i++;
    return i;
}

bool ig_utf8_append_escaped(ig_buf *b, const uint8_t *p, size_t n, ig_esc esc)
{
    if (esc == IG_ESC_NONE)
        return ig_buf_put(b, p, n);
    size_t start = 0;
    for (size_t i = 0; (i = plain_until(p, i, n, esc)) < n; i++) {
        if (!ig_buf_put(b, p + start, i - start) || !put_escaped_ascii(b, p[i], esc))
            return false;
        start = i + 1;
    }
    return ig_buf_put(b, p + start, n - start);
}

/* Windows-1252 0x80–0x9F; the rest of the upper half is Latin-1. */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

bool ig_cp1252_append(ig_buf *b, const uint8_t *p, size_t n, ig_esc esc)
{
    const uint8_t *special = esc == IG_ESC_JSON  ? json_special
                             : esc == IG_ESC_XML ? xml_special
                                                 : none_special;
    uint8_t ctl = esc == IG_ESC_NONE ? 0x00 : 0x20;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = p[i];
        if (c < 0x80 && c >= ctl && !special[c])
            continue; /* copied in runs below */
        if (!ig_buf_put(b, p + start, i - start))
            return false;
        start = i + 1;
        if (c >= 0x80 && c < 0xA0)
            c = cp1252_hi[c - 0x80];
        if (!put_cp(b, c, esc))
            return false;
    }
    return ig_buf_put(b, p + start, n - start);
}
