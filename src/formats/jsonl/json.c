/* A bounded JSON parser (RFC 8259) into a flat token array.
 *
 * One pass over the text with an explicit stack (IG_MAX_JSON_DEPTH), no
 * recursion.  Tokens live in the caller's arena and grow by doubling (the
 * abandoned arrays cost at most as much again); strings without escapes and
 * numbers borrow the input, escaped strings are decoded in the same pass
 * into one arena block of the text's length (a decoded string is never
 * longer than its escaped form).
 *
 * Strictness: RFC 8259 §2 (white space), §4 (objects; duplicate names are
 * kept in order), §6 (numbers: no leading zeros, no '+', no bare '.'),
 * §7 (strings: control characters must be escaped, only the eight short
 * escapes and \uXXXX), §8.2 (an unpaired surrogate becomes U+FFFD).  Bytes
 * of strings are not checked to be UTF-8 (NXLog may write CP-1252). */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "formats/jsonl/jsonl.h"
#include "formats/jsonl/jsonl_limits.h"

typedef struct jp {
    const unsigned char *s;
    size_t len, pos;
    ig_arena *a;
    json_tok *t;
    uint32_t n, cap;
    char *scratch; /* decoded strings (p->len bytes), NULL until needed */
    size_t sused;
    const char *why;
    size_t at;
} jp;

static bool fail(jp *p, const char *why, size_t at)
{
    p->why = why;
    p->at = at;
    return false;
}

static bool grow(jp *p)
{
    if (p->cap >= IG_MAX_JSON_TOKENS)
        return fail(p, "too many values (IG_MAX_JSON_TOKENS)", p->pos);
    uint32_t cap = p->cap > IG_MAX_JSON_TOKENS / 2 ? IG_MAX_JSON_TOKENS : p->cap * 2;
    json_tok *t = ig_arena_alloc(p->a, sizeof(*t) * cap);
    if (t == NULL)
        return fail(p, "out of memory", p->pos);
    memcpy(t, p->t, sizeof(*t) * p->n);
    p->t = t;
    p->cap = cap;
    return true;
}

/* Appends a token; false when over the limit or out of memory. */
static inline bool push(jp *p, uint8_t type, size_t off, const char *s, uint32_t len)
{
    if (p->n == p->cap && !grow(p))
        return false;
    p->t[p->n] = (json_tok){s, len, p->n + 1, (uint32_t)off, type};
    p->n++;
    return true;
}

static inline size_t skip_ws(const unsigned char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Four hex digits at s (already validated). */
static uint32_t hex4(const unsigned char *s)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 4) | (uint32_t)hexval(s[i]);
    return v;
}

static size_t utf8_put(char *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Index of the first byte at or after i that ends a run of plain string
 * bytes ('"', '\\' or a control character), n when none.  Sixteen bytes at
 * a time with SSE2 (every x86-64), else eight with "determine if a word has
 * a zero byte / a byte less than n" (Bit Twiddling Hacks); bytes then tell
 * where. */
static inline size_t special(const unsigned char *s, size_t i, size_t n)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);
    while (n - i >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                         _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m != 0)
            return i + (unsigned)__builtin_ctz(m);
        i += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
        if (hit & high)
            break;
        i += 8;
    }
#endif
    while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20)
        i++;
    return i;
}

static bool hex4_ok(const unsigned char *s)
{
    return hexval(s[0]) >= 0 && hexval(s[1]) >= 0 && hexval(s[2]) >= 0 && hexval(s[3]) >= 0;
}

static bool string_escaped(jp *p, size_t start, size_t i, const char **out, uint32_t *olen);

/* The string whose opening quote is at p->pos; p->pos moves past it.  A
 * string without escapes (nearly all of them) is borrowed; one with
 * escapes is decoded by string_escaped. */
static inline bool string(jp *p, const char **out, uint32_t *olen)
{
    const unsigned char *s = p->s;
    size_t n = p->len, start = p->pos + 1, i = special(s, start, n);
    if (i < n && s[i] == '"') {
        *out = (const char *)s + start;
        *olen = (uint32_t)(i - start);
        p->pos = i + 1;
        return true;
    }
    return string_escaped(p, start, i, out, olen);
}

/* The rest of string(): the string's text starts at `start`, `i` is its
 * first byte that is not plain.  Decoded, in the same pass, into the
 * text's scratch (p->len bytes, made on first use: the decoded form of
 * every string is no longer than its escaped form). */
static bool string_escaped(jp *p, size_t start, size_t i, const char **out, uint32_t *olen)
{
    const unsigned char *s = p->s;
    size_t n = p->len;
    if (p->scratch == NULL) {
        p->scratch = ig_arena_alloc(p->a, n);
        if (p->scratch == NULL)
            return fail(p, "out of memory", p->pos);
    }
    char *d = p->scratch + p->sused;
    size_t o = 0;
    for (;;) {
        if (i >= n)
            return fail(p, "unterminated string", p->pos);
        memcpy(d + o, s + start, i - start);
        o += i - start;
        unsigned char c = s[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, "control character in string", i);
        if (n - i < 2)
            return fail(p, "unterminated string", p->pos);
        switch (s[i + 1]) {
        case '"': d[o++] = '"'; break;
        case '\\': d[o++] = '\\'; break;
        case '/': d[o++] = '/'; break;
        case 'b': d[o++] = '\b'; break;
        case 'f': d[o++] = '\f'; break;
        case 'n': d[o++] = '\n'; break;
        case 'r': d[o++] = '\r'; break;
        case 't': d[o++] = '\t'; break;
        case 'u': {
            if (n - i < 6 || !hex4_ok(s + i + 2))
                return fail(p, "invalid \\u escape", i);
            uint32_t cp = hex4(s + i + 2);
            i += 4; /* + 2 below */
            if (cp >= 0xd800 && cp <= 0xdbff) {
                /* RFC 8259 §7: a pair of escapes for one code point */
                uint32_t lo = 0;
                if (n - i >= 8 && s[i + 2] == '\\' && s[i + 3] == 'u' && hex4_ok(s + i + 4))
                    lo = hex4(s + i + 4);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000u + ((cp - 0xd800u) << 10) + (lo - 0xdc00u);
                    i += 6;
                } else {
                    cp = 0xfffd;
                }
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            o += utf8_put(d + o, cp);
            break;
        }
        default: return fail(p, "invalid escape", i);
        }
        i += 2;
        start = i;
        i = special(s, i, n);
    }
    p->sused += o;
    *out = d;
    *olen = (uint32_t)o;
    p->pos = i + 1;
    return true;
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool number(jp *p)
{
    const unsigned char *s = p->s;
    size_t n = p->len, i = p->pos;
    if (s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return fail(p, "invalid number", p->pos);
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return fail(p, "invalid number", p->pos);
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return fail(p, "invalid number", p->pos);
        while (i < n && is_digit(s[i]))
            i++;
    }
    size_t at = p->pos;
    p->pos = i;
    return push(p, JT_NUMBER, at, (const char *)s + at, (uint32_t)(i - at));
}

static bool literal(jp *p, const char *word, size_t wlen, uint8_t type)
{
    if (p->len - p->pos < wlen || memcmp(p->s + p->pos, word, wlen) != 0)
        return fail(p, "invalid literal", p->pos);
    size_t at = p->pos;
    p->pos += wlen;
    return push(p, type, at, NULL, 0);
}

bool json_parse(const char *text, size_t len, ig_arena *arena, json_doc *doc, const char **why,
                size_t *at)
{
    jp p = {(const unsigned char *)text, len, 0, arena, NULL, 0, 0, NULL, 0, NULL, 0};
    uint32_t stack[IG_MAX_JSON_DEPTH]; /* the open containers' tokens */
    bool isobj[IG_MAX_JSON_DEPTH];     /* and whether each is an object */
    unsigned depth = 0;
    const unsigned char *s = p.s;
    bool ok = true;
    const char *str;
    uint32_t slen;
    size_t start;
    unsigned char c;

    if (len > IG_MAX_JSON_LINE) {
        ok = fail(&p, "line too long (IG_MAX_JSON_LINE)", IG_MAX_JSON_LINE);
        goto out;
    }
    p.cap = (uint32_t)(len / 16 + 16);
    if (p.cap > IG_MAX_JSON_TOKENS)
        p.cap = IG_MAX_JSON_TOKENS;
    p.t = ig_arena_alloc(arena, sizeof(*p.t) * p.cap);
    if (p.t == NULL) {
        ok = fail(&p, "out of memory", 0);
        goto out;
    }
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
        p.pos = 3; /* RFC 8259 §8.1: a parser MAY ignore a BOM */
    p.pos = skip_ws(s, p.pos, len);
    if (p.pos == len) {
        ok = fail(&p, "no JSON value", p.pos);
        goto out;
    }
    /* The states are labels, one pass: a value (p.pos at its first byte,
     * after white space), what follows a value, the close of a container,
     * an object's key. */
value:
    if (p.pos >= len) {
        ok = fail(&p, "unexpected end of text", len);
        goto out;
    }
    if (depth > 0 && !isobj[depth - 1])
        p.t[stack[depth - 1]].len++;
    c = s[p.pos];
    if (c == '"') {
        start = p.pos;
        ok = string(&p, &str, &slen) && push(&p, JT_STRING, start, str, slen);
    } else if (c == '{' || c == '[') {
        if (depth == IG_MAX_JSON_DEPTH) {
            ok = fail(&p, "nesting too deep (IG_MAX_JSON_DEPTH)", p.pos);
            goto out;
        }
        stack[depth] = p.n;
        isobj[depth++] = c == '{';
        if (!push(&p, c == '{' ? JT_OBJECT : JT_ARRAY, p.pos, NULL, 0)) {
            ok = false;
            goto out;
        }
        p.pos = skip_ws(s, p.pos + 1, len);
        if (p.pos < len && s[p.pos] == (c == '{' ? '}' : ']')) {
            p.pos++;
            goto close;
        }
        if (c == '{')
            goto key;
        goto value;
    } else if (c == '-' || is_digit(c)) {
        ok = number(&p);
    } else if (c == 't') {
        ok = literal(&p, "true", 4, JT_TRUE);
    } else if (c == 'f') {
        ok = literal(&p, "false", 5, JT_FALSE);
    } else if (c == 'n') {
        ok = literal(&p, "null", 4, JT_NULL);
    } else {
        ok = fail(&p, "expected a value", p.pos);
    }
    if (!ok)
        goto out;
after:
    p.pos = skip_ws(s, p.pos, len);
    if (depth == 0) {
        if (p.pos != len)
            ok = fail(&p, "trailing characters after the value", p.pos);
        goto out;
    }
    if (p.pos >= len) {
        ok = fail(&p, "unexpected end of text", len);
        goto out;
    }
    if (s[p.pos] == ',') {
        p.pos = skip_ws(s, p.pos + 1, len);
        if (isobj[depth - 1])
            goto key;
        goto value;
    }
    if (s[p.pos] == (isobj[depth - 1] ? '}' : ']')) {
        p.pos++;
        goto close;
    }
    ok = fail(&p, isobj[depth - 1] ? "expected ',' or '}'" : "expected ',' or ']'", p.pos);
    goto out;
close:
    depth--;
    p.t[stack[depth]].next = p.n;
    goto after;
key:
    if (p.pos >= len || s[p.pos] != '"') {
        ok = fail(&p, "expected a string key", p.pos < len ? p.pos : len);
        goto out;
    }
    start = p.pos;
    if (!string(&p, &str, &slen) || !push(&p, JT_STRING, start, str, slen)) {
        ok = false;
        goto out;
    }
    p.t[stack[depth - 1]].len++;
    p.pos = skip_ws(s, p.pos, len);
    if (p.pos >= len || s[p.pos] != ':') {
        ok = fail(&p, "expected ':'", p.pos < len ? p.pos : len);
        goto out;
    }
    p.pos = skip_ws(s, p.pos + 1, len);
    goto value;
out:
    if (!ok) {
        *why = p.why;
        *at = p.at;
        return false;
    }
    doc->t = p.t;
    doc->n = p.n;
    return true;
}

uint32_t json_member(const json_doc *d, uint32_t obj, const char *key, size_t klen)
{
    if (obj >= d->n || d->t[obj].type != JT_OBJECT)
        return 0;
    uint32_t i = obj + 1, m = d->t[obj].len;
    for (uint32_t k = 0; k < m; k++) {
        const json_tok *t = &d->t[i];
        if (t->len == klen && memcmp(t->s, key, klen) == 0)
            return i + 1;
        i = d->t[i + 1].next;
    }
    return 0;
}
