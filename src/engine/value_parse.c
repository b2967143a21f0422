/* Sigma value handling for the compiler: wildcards and escapes (spec
 * "String Wildcard", "Escape Character"), and the value-rewriting modifiers
 * (appendix: windash, base64, base64offset, utf16le/utf16be/utf16/wide). */
#include "engine/value_parse.h"

#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "engine/engine.h"

void vp_reset(vp_list *l)
{
    l->n = 0;
}

void vp_free(vp_list *l)
{
    ig_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static bool push(vp_list *l, vp_str s)
{
    if (l->n == l->cap) {
        if (l->cap >= IG_MAX_ITEM_PATTERNS * 2)
            return false;
        uint32_t cap = l->cap ? l->cap * 2 : 16;
        vp_str *v = ig_realloc(l->v, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return true;
}

bool vp_add_value(vp_list *l, ig_arena *a, const sg_value *v)
{
    (void)a;
    vp_str s = {v->s ? v->s : "", (uint32_t)v->len, v->kind == SG_V_STR, false, v};
    return push(l, s);
}

/* ---- windash ------------------------------------------------------------ */

static const char *const dashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
#define NDASH        5u
#define MAX_DASH_POS 4u

static bool is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

/* Flag-like positions: a '-' or '/' not preceded by a word character and
 * followed by one (pySigma's \B[-/]\b). */
static uint32_t dash_positions(const vp_str *v, uint32_t *pos, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < v->len && n < max + 1; i++) {
        unsigned char c = (unsigned char)v->s[i];
        if (c != '-' && c != '/')
            continue;
        bool before = i > 0 && is_word((unsigned char)v->s[i - 1]);
        bool after = i + 1 < v->len && is_word((unsigned char)v->s[i + 1]);
        if (!before && after)
            pos[n++] = i;
    }
    return n;
}

static const char *windash(vp_list *l, ig_arena *a)
{
    vp_list out = {0};
    for (uint32_t k = 0; k < l->n; k++) {
        const vp_str *v = &l->v[k];
        uint32_t pos[MAX_DASH_POS + 1];
        uint32_t np = dash_positions(v, pos, MAX_DASH_POS);
        if (np == 0) {
            if (!push(&out, *v))
                goto oom;
            continue;
        }
        bool uniform = np > MAX_DASH_POS; /* too many: replace all alike */
        uint32_t combos = 1;
        if (!uniform)
            for (uint32_t i = 0; i < np; i++)
                combos *= NDASH;
        else
            combos = NDASH;
        for (uint32_t c = 0; c < combos; c++) {
            char *s = ig_arena_alloc(a, (size_t)v->len * 3 + 1);
            if (s == NULL)
                goto oom;
            uint32_t o = 0, pi = 0, code = c;
            for (uint32_t i = 0; i < v->len; i++) {
                bool here = false;
                if (uniform) {
                    unsigned char ch = (unsigned char)v->s[i];
                    here = ch == '-' || ch == '/';
                } else if (pi < np && pos[pi] == i) {
                    here = true;
                }
                if (!here) {
                    s[o++] = v->s[i];
                    continue;
                }
                uint32_t alt = uniform ? c : code % NDASH;
                if (!uniform) {
                    code /= NDASH;
                    pi++;
                }
                size_t dl = strlen(dashes[alt]);
                memcpy(s + o, dashes[alt], dl);
                o += (uint32_t)dl;
            }
            s[o] = '\0';
            vp_str ns = *v;
            ns.s = s;
            ns.len = o;
            if (!push(&out, ns))
                goto oom;
        }
    }
    ig_free(l->v);
    *l = out;
    return NULL;
oom:
    vp_free(&out);
    return "windash: too many values";
}

/* ---- encodings ------------------------------------------------------------ */

/* UTF-8 → UTF-16 (le or be), optionally with a byte order mark. */
static const char *utf16(vp_list *l, ig_arena *a, bool be, bool bom)
{
    for (uint32_t k = 0; k < l->n; k++) {
        vp_str *v = &l->v[k];
        uint8_t *o = ig_arena_alloc(a, (size_t)v->len * 4 + 2);
        if (o == NULL)
            return "out of memory";
        size_t n = 0;
        if (bom) {
            o[n++] = 0xFF;
            o[n++] = 0xFE;
        }
        const unsigned char *p = (const unsigned char *)v->s;
        for (uint32_t i = 0; i < v->len;) {
            uint32_t c = p[i], need = 0;
            if (c < 0x80)
                need = 0;
            else if ((c & 0xE0) == 0xC0)
                need = 1, c &= 0x1F;
            else if ((c & 0xF0) == 0xE0)
                need = 2, c &= 0x0F;
            else if ((c & 0xF8) == 0xF0)
                need = 3, c &= 0x07;
            else
                return "utf16: value is not UTF-8";
            if (i + need >= v->len + (need == 0))
                return "utf16: value is not UTF-8";
            for (uint32_t j = 1; j <= need; j++) {
                if ((p[i + j] & 0xC0) != 0x80)
                    return "utf16: value is not UTF-8";
                c = (c << 6) | (p[i + j] & 0x3F);
            }
            i += need + 1;
            uint16_t u[2];
            int nu = 1;
            if (c >= 0x10000) {
                c -= 0x10000;
                u[0] = (uint16_t)(0xD800 + (c >> 10));
                u[1] = (uint16_t)(0xDC00 + (c & 0x3FF));
                nu = 2;
            } else {
                u[0] = (uint16_t)c;
            }
            for (int j = 0; j < nu; j++) {
                uint8_t lo = (uint8_t)(u[j] & 0xFF), hi = (uint8_t)(u[j] >> 8);
                o[n++] = be && !bom ? hi : lo;
                o[n++] = be && !bom ? lo : hi;
            }
        }
        v->s = (const char *)o;
        v->len = (uint32_t)n;
        v->glob = false;
        v->orig = NULL;
    }
    return NULL;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = '=';
    }
    return o;
}

/* The raw bytes of a value: wildcards can not survive an encoding, escapes
 * are resolved. */
static uint32_t unescape(const vp_str *v, char *out)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (v->glob && c == '\\' && i + 1 < v->len &&
            (v->s[i + 1] == '*' || v->s[i + 1] == '?' || v->s[i + 1] == '\\'))
            c = v->s[++i];
        out[o++] = c;
    }
    return o;
}

static const char *base64(vp_list *l, ig_arena *a, bool offsets)
{
    vp_list out = {0};
    for (uint32_t k = 0; k < l->n; k++) {
        const vp_str *v = &l->v[k];
        char *raw = ig_arena_alloc(a, (size_t)v->len + 3);
        if (raw == NULL)
            goto oom;
        /* base64offset: the value at each of the three byte alignments,
         * keeping only the characters that do not depend on neighbours */
        static const unsigned start[3] = {0, 2, 3};
        static const int end_cut[3] = {0, 3, 2};
        for (unsigned off = 0; off < (offsets ? 3u : 1u); off++) {
            memset(raw, ' ', off);
            uint32_t n = off + unescape(v, raw + off);
            char *enc = ig_arena_alloc(a, (size_t)n / 3 * 4 + 8);
            if (enc == NULL)
                goto oom;
            size_t el = b64_encode((const uint8_t *)raw, n, enc);
            size_t s0 = 0, e0 = el;
            if (offsets) {
                s0 = start[off];
                size_t cut = (size_t)end_cut[(v->len + off) % 3];
                e0 = el >= cut ? el - cut : 0;
            }
            if (e0 < s0)
                e0 = s0;
            vp_str ns = {enc + s0, (uint32_t)(e0 - s0), false, true, NULL};
            if (!push(&out, ns))
                goto oom;
        }
    }
    ig_free(l->v);
    *l = out;
    return NULL;
oom:
    vp_free(&out);
    return "base64: too many values";
}

const char *vp_transform(vp_list *l, ig_arena *a, int x)
{
    switch (x) {
    case 1: return windash(l, a);
    case 2: return base64(l, a, false);
    case 3: return base64(l, a, true);
    case 4: return utf16(l, a, false, false);
    case 5: return utf16(l, a, true, false);
    case 6: return utf16(l, a, false, true);
    default: return "unknown transformation";
    }
}

/* ---- wildcards ------------------------------------------------------------ */

enum { G_LIT, G_STAR, G_ONE };

bool vp_glob_build(ig_arena *a, const vp_str *v, bool lead, bool trail, vp_glob *out)
{
    /* tokens: kind + byte (on the stack unless the value is long: only
     * the pattern made of them is kept) */
    uint8_t kind_buf[256];
    char byte_buf[256];
    uint8_t *kind = kind_buf;
    char *byte = byte_buf;
    if ((size_t)v->len + 2 > sizeof(kind_buf)) {
        kind = ig_arena_alloc(a, (size_t)v->len + 2);
        byte = ig_arena_alloc(a, (size_t)v->len + 2);
        if (kind == NULL || byte == NULL)
            return false;
    }
    uint32_t n = 0;
    if (lead)
        kind[n] = G_STAR, byte[n++] = '*';
    for (uint32_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (v->glob && c == '\\' && i + 1 < v->len &&
            (v->s[i + 1] == '*' || v->s[i + 1] == '?' || v->s[i + 1] == '\\')) {
            kind[n] = G_LIT, byte[n++] = v->s[++i];
        } else if (v->glob && c == '*') {
            if (n == 0 || kind[n - 1] != G_STAR)
                kind[n] = G_STAR, byte[n++] = '*';
        } else if (v->glob && c == '?') {
            kind[n] = G_ONE, byte[n++] = '?';
        } else {
            kind[n] = G_LIT, byte[n++] = c;
        }
    }
    if (trail && (n == 0 || kind[n - 1] != G_STAR))
        kind[n] = G_STAR, byte[n++] = '*';
    /* only literals between an optional leading and trailing star? */
    uint32_t b = 0, e = n;
    bool ls = n > 0 && kind[0] == G_STAR, ts = n > 1 && kind[n - 1] == G_STAR;
    if (ls)
        b = 1;
    if (ts)
        e = n - 1;
    bool simple = true;
    for (uint32_t i = b; i < e; i++)
        simple &= kind[i] == G_LIT;
    if (n == 1 && kind[0] == G_STAR) /* "*" alone: anything */
        b = e = 1, ls = true, ts = true;
    if (simple) {
        char *s = ig_arena_alloc(a, (size_t)(e - b) + 1);
        if (s == NULL)
            return false;
        memcpy(s, byte + b, e - b);
        s[e - b] = '\0';
        out->s = s;
        out->len = e - b;
        out->op = ls && ts ? EM_CONTAINS : ls ? EM_ENDS : ts ? EM_STARTS : EM_EQ;
        return true;
    }
    char *s = ig_arena_alloc(a, (size_t)n * 2 + 1);
    if (s == NULL)
        return false;
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (kind[i] == G_LIT && (byte[i] == '*' || byte[i] == '?' || byte[i] == '\\'))
            s[o++] = '\\';
        s[o++] = byte[i];
    }
    s[o] = '\0';
    out->s = s;
    out->len = o;
    out->op = EM_GLOB;
    return true;
}

/* ---- numbers and addresses ------------------------------------------------ */

bool vp_parse_number(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i + 2 < len + 1 && i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        i += 2;
        if (i == len)
            return false;
        double v = 0;
        for (; i < len; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return false;
            v = v * 16 + d;
        }
        *out = neg ? -v : v;
        return true;
    }
    double v = 0, scale = 0;
    bool digits = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digits = true;
            if (scale > 0) {
                v += (c - '0') / scale;
                scale *= 10;
            } else {
                v = v * 10 + (c - '0');
            }
        } else if (c == '.' && scale == 0) {
            scale = 10;
        } else {
            return false;
        }
    }
    if (!digits)
        return false;
    *out = neg ? -v : v;
    return true;
}

static bool parse_v4(const char *s, size_t len, uint8_t out[4])
{
    unsigned part = 0, val = 0, nd = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (nd == 0 || part > 3 || val > 255)
                return false;
            out[part++] = (uint8_t)val;
            val = nd = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || nd >= 3)
            return false;
        val = val * 10 + (unsigned)(s[i] - '0');
        nd++;
    }
    return part == 4;
}

static bool parse_v6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t w[8] = {0};
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < len) {
        if (n >= 8)
            return false;
        /* an embedded IPv4 tail */
        size_t j = i;
        while (j < len && s[j] != ':')
            j++;
        if (j == len && memchr(s + i, '.', len - i) != NULL) {
            uint8_t v4[4];
            if (n > 6 || !parse_v4(s + i, len - i, v4))
                return false;
            w[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            w[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = len;
            break;
        }
        unsigned v = 0, nd = 0;
        for (; i < j; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0 || nd >= 4)
                return false;
            v = v * 16 + (unsigned)d;
            nd++;
        }
        if (nd == 0)
            return false;
        w[n++] = (uint16_t)v;
        if (i < len) { /* at ':' */
            i++;
            if (i < len && s[i] == ':') {
                if (gap >= 0)
                    return false;
                gap = n;
                i++;
            } else if (i == len) {
                return false;
            }
        }
    }
    if (gap >= 0) {
        int tail = n - gap;
        if (n == 8)
            return false;
        memmove(w + 8 - tail, w + gap, sizeof(*w) * (size_t)tail);
        memset(w + gap, 0, sizeof(*w) * (size_t)(8 - n));
    } else if (n != 8) {
        return false;
    }
    for (int k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(w[k] >> 8);
        out[2 * k + 1] = (uint8_t)w[k];
    }
    return true;
}

bool vp_parse_ip(const char *s, size_t len, uint8_t addr[16], uint8_t *family)
{
    memset(addr, 0, 16);
    if (memchr(s, ':', len) != NULL) {
        *family = 6;
        return parse_v6(s, len, addr);
    }
    *family = 4;
    return parse_v4(s, len, addr);
}

bool vp_parse_cidr(const char *s, size_t len, uint8_t net[16], uint8_t *bits, uint8_t *family)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (!vp_parse_ip(s, alen, net, family))
        return false;
    unsigned max = *family == 4 ? 32 : 128, b = max;
    if (slash != NULL) {
        size_t i = alen + 1;
        if (i == len)
            return false;
        b = 0;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || b > 128)
                return false;
            b = b * 10 + (unsigned)(s[i] - '0');
        }
        if (b > max)
            return false;
    }
    *bits = (uint8_t)b;
    return true;
}
