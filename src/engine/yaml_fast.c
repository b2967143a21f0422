/* The plain block YAML of Sigma rules, read line by line (yaml_fast.h).
 *
 * Every rule here follows what libyaml 0.2 does with the same text (its
 * scanner: yaml_parser_fetch_next_token, scan_plain_scalar,
 * scan_block_scalar; its parser: block mappings, block and indentless
 * sequences, empty scalars at the ':' or '-' that has no value).  Where
 * following it would take more than a few lines, the text is declined.
 * Nesting is bounded by IG_MAX_SIGMA_DEPTH (deeper: declined). */
#include "engine/yaml_fast.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/sigma_limits.h"

/* libyaml looks for a simple key's ':' at most 1024 characters on */
#define YF_MAX_KEY 1000u

/* A line with content (not blank, not a comment). */
typedef struct yl {
    size_t start; /* its first byte */
    size_t text;  /* its first byte that is not a space */
    size_t end;   /* its line break, or the end of the text */
    int indent;   /* text - start */
    uint32_t line;
} yl;

typedef struct yf {
    const char *s;
    size_t n;
    size_t pos;    /* the first line not read yet */
    uint32_t line; /* its number */
    ig_arena *a;
    yf_ev *ev;
    size_t nev, cap;
    unsigned depth;
    bool bad; /* a line only libyaml can read (document markers, directives) */
} yf;

/* The next line with content, from p->pos on (p is left alone); false at
 * the end of the text, or at a document marker or directive (p->bad). */
static bool peek(yf *p, yl *l)
{
    const char *s = p->s;
    size_t pos = p->pos;
    uint32_t line = p->line;
    while (pos < p->n) {
        size_t i = pos;
        while (i < p->n && s[i] == ' ')
            i++;
        const char *nl = i < p->n ? memchr(s + i, '\n', p->n - i) : NULL;
        size_t end = nl != NULL ? (size_t)(nl - s) : p->n;
        if (i == end || s[i] == '#') {
            pos = end < p->n ? end + 1 : p->n;
            line++;
            continue;
        }
        if (i == pos && (s[i] == '%' || (end - i >= 3 && (memcmp(s + i, "---", 3) == 0 ||
                                                          memcmp(s + i, "...", 3) == 0)))) {
            p->bad = true;
            return false;
        }
        *l = (yl){pos, i, end, (int)(i - pos), line};
        return true;
    }
    return false;
}

/* Is every character of the text one libyaml reads as printable, and none
 * a line break but '\n' (no tab, CR, NEL, U+2028/2029) or a BOM (libyaml
 * drops one at the start of a line)?  UTF-8 strictly: no overlong forms,
 * surrogates or code points past U+10FFFF. */
static bool text_ok(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
#if defined(__SSE2__)
        /* sixteen bytes at a time while all are ' '..'~' or '\n' */
        const __m128i lo = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f), nl = _mm_set1_epi8('\n');
        while (len - i >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            /* signed compares: bytes >= 0x80 are negative, so "not above 0x1f" */
            __m128i bad = _mm_or_si128(_mm_cmpgt_epi8(lo, x), _mm_cmpeq_epi8(x, lo));
            bad =
                _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, nl), bad), _mm_cmpeq_epi8(x, del));
            if (_mm_movemask_epi8(bad) != 0)
                break;
            i += 16;
        }
        if (i >= len)
            break;
#endif
        unsigned c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c < 0xC2 || c > 0xF4 || len - i < n)
            return false;
        uint32_t cp = c & (n == 2 ? 0x1Fu : n == 3 ? 0x0Fu : 0x07u);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0xA0 || cp == 0x2028 || cp == 0x2029 ||
            cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF)
            return false;
        i += n;
    }
    return true;
}

static void consume(yf *p, const yl *l)
{
    p->pos = l->end < p->n ? l->end + 1 : p->n;
    p->line = l->line + 1;
}

static bool emit(yf *p, yf_kind kind, uint32_t line, const char *s, size_t len, bool plain)
{
    if (p->nev > 2u * IG_MAX_SIGMA_NODES)
        return false; /* over the loader's node limit: libyaml's path says so */
    if (p->nev == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        yf_ev *v = ig_arena_alloc(p->a, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        if (p->nev)
            memcpy(v, p->ev, sizeof(*v) * p->nev);
        p->ev = v;
        p->cap = cap;
    }
    p->ev[p->nev++] = (yf_ev){s, (uint32_t)len, line, (uint8_t)kind, plain};
    return true;
}

static bool is_entry(const yf *p, const yl *l, size_t k)
{
    return p->s[k] == '-' && (k + 1 == l->end || p->s[k + 1] == ' ');
}

/* Can a plain scalar start at k?  Not at an indicator, except '-', '?' and
 * ':' before a character that is not a space. */
static bool plain_start(const yf *p, const yl *l, size_t k)
{
    char c = p->s[k];
    if (c == '-' || c == '?' || c == ':')
        return k + 1 < l->end && p->s[k + 1] != ' ';
    return strchr(",[]{}#&*!|>'\"%@`", c) == NULL;
}

/* A plain key at k: its end (trailing spaces left out) in *kend and the
 * byte after its ':' in *v.  False when the line holds no plain key. */
static bool key_at(const yf *p, const yl *l, size_t k, size_t *kend, size_t *v)
{
    const char *s = p->s;
    if (!plain_start(p, l, k))
        return false;
    for (size_t j = k; j < l->end && j - k < YF_MAX_KEY; j++) {
        if (s[j] == '#' && s[j - 1] == ' ')
            return false;
        if (s[j] == ':' && (j + 1 == l->end || s[j + 1] == ' ')) {
            size_t e = j;
            while (e > k && s[e - 1] == ' ')
                e--;
            *kend = e;
            *v = j + 1;
            return true;
        }
    }
    return false;
}

/* After a scalar, in a collection indented by ctx: no more-indented line
 * may follow (one would continue a plain scalar, or be an error after any
 * other). */
static bool nothing_deeper(yf *p, int ctx)
{
    yl n;
    return !peek(p, &n) || n.indent <= ctx;
}

/* nothing_deeper after a scalar that ends line l */
static bool scalar_done(yf *p, const yl *l, int ctx)
{
    consume(p, l);
    return nothing_deeper(p, ctx);
}

/* What follows a closing quote at q: spaces, then the end of the line or a
 * comment. */
static bool rest_empty(const yf *p, const yl *l, size_t q)
{
    size_t r = q;
    while (r < l->end && p->s[r] == ' ')
        r++;
    return r == l->end || (p->s[r] == '#' && r > q);
}

/* A quoted scalar whose opening quote is at k: single ('' is a quote) or
 * double (escapes \\ \" \/ \n \t \r only), closed on the same line. */
static bool quoted(yf *p, const yl *l, size_t k, int ctx)
{
    const char *s = p->s;
    char q = s[k];
    size_t j = k + 1, escapes = 0;
    for (;; j++) {
        if (j >= l->end)
            return false; /* continues on the next line */
        if (q == '\'' && s[j] == '\'') {
            if (j + 1 < l->end && s[j + 1] == '\'') {
                escapes++;
                j++;
                continue;
            }
            break;
        }
        if (q == '"' && s[j] == '"')
            break;
        if (q == '"' && s[j] == '\\') {
            if (j + 1 >= l->end || strchr("\\\"/ntr", s[j + 1]) == NULL)
                return false; /* other escapes: libyaml's */
            escapes++;
            j++;
        }
    }
    if (!rest_empty(p, l, j + 1))
        return false;
    const char *v = s + k + 1;
    size_t len = j - k - 1;
    if (escapes > 0) {
        char *d = ig_arena_alloc(p->a, len);
        if (d == NULL)
            return false;
        size_t o = 0;
        for (size_t i = k + 1; i < j; i++) {
            char c = s[i];
            if (c == q) { /* '' */
                i++;
            } else if (q == '"' && c == '\\') {
                c = s[++i];
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
            }
            d[o++] = c;
        }
        v = d;
        len = o;
    }
    return emit(p, YF_SCALAR, l->line, v, len, false) && scalar_done(p, l, ctx);
}

/* A literal block scalar whose '|' is at k of line l, in a collection
 * indented by ctx.  Its indentation is that of its first line that is not
 * blank (declined when a blank line before it has more spaces, or when
 * there is none deeper than ctx: the empty scalar).  Each line gives its
 * text past the indentation and its line break (a blank one: the break);
 * the last breaks are chomped: "|" keeps one, "|-" none, "|+" all. */
static bool literal(yf *p, const yl *l, size_t k, int ctx)
{
    const char *s = p->s;
    size_t h = k + 1;
    int chomp = 0;
    if (h < l->end && (s[h] == '-' || s[h] == '+'))
        chomp = s[h++] == '-' ? -1 : 1;
    if (!rest_empty(p, l, h) || l->end >= p->n)
        return false;
    /* the indentation */
    size_t pos = l->end + 1, first = pos;
    size_t lead = 0; /* most spaces on a blank line before the first text */
    int ind = -1;
    while (pos < p->n) {
        size_t i = pos;
        while (i < p->n && s[i] == ' ')
            i++;
        if (i < p->n && s[i] != '\n') {
            ind = (int)(i - pos);
            break;
        }
        if (i - pos > lead)
            lead = i - pos;
        pos = i < p->n ? i + 1 : p->n;
    }
    if (ind <= ctx || lead > (size_t)ind)
        return false;
    /* its lines: up to the first with text less indented (or the end) */
    size_t stop = first;
    uint32_t line = l->line + 1;
    while (stop < p->n) {
        size_t i = stop;
        while (i < p->n && s[i] == ' ' && i - stop < (size_t)ind)
            i++;
        const char *nl = memchr(s + i, '\n', p->n - i);
        size_t end = nl != NULL ? (size_t)(nl - s) : p->n;
        bool blank = true;
        for (size_t j = i; j < end && blank; j++)
            blank = s[j] == ' ';
        if (!blank && i - stop < (size_t)ind)
            break;
        stop = end < p->n ? end + 1 : p->n;
        line++;
    }
    /* the text: at most the bytes of those lines */
    char *d = ig_arena_alloc(p->a, stop - first + 1);
    if (d == NULL)
        return false;
    size_t o = 0, text_end = 0; /* text_end: after the last line with text */
    bool text_break = false;    /* that line has a break */
    for (pos = first; pos < stop;) {
        size_t i = pos;
        while (i < stop && s[i] == ' ' && i - pos < (size_t)ind)
            i++;
        const char *nl = memchr(s + i, '\n', stop - i);
        size_t end = nl != NULL ? (size_t)(nl - s) : stop;
        if (i == end) { /* a blank line, as a break */
            if (end < stop)
                d[o++] = '\n';
        } else {
            memcpy(d + o, s + i, end - i);
            o += end - i;
            text_end = o;
            text_break = end < stop;
            if (text_break)
                d[o++] = '\n';
        }
        pos = end < stop ? end + 1 : stop;
    }
    size_t len = chomp > 0 ? o : chomp < 0 ? text_end : text_end + (text_break ? 1 : 0);
    if (!emit(p, YF_SCALAR, l->line, d, len, false))
        return false;
    p->pos = stop;
    p->line = line;
    return nothing_deeper(p, ctx);
}

/* A plain scalar from k to the end of line l or a comment; declined when it
 * holds ": " or ends with ':' (a mapping libyaml refuses there). */
static bool plain(yf *p, const yl *l, size_t k, int ctx)
{
    const char *s = p->s;
    size_t end = l->end;
    for (size_t j = k; j < l->end; j++) {
        if (s[j] == '#' && s[j - 1] == ' ') {
            end = j;
            break;
        }
        if (s[j] == ':' && (j + 1 == l->end || s[j + 1] == ' '))
            return false;
    }
    while (end > k && s[end - 1] == ' ')
        end--;
    return emit(p, YF_SCALAR, l->line, s + k, end - k, true) && scalar_done(p, l, ctx);
}

static bool node(yf *p, const yl *l);
static bool mapping(yf *p, yl l, size_t k, int col);
static bool sequence(yf *p, yl l, int col, bool indentless);

/* The value that starts at v of line l (after "key:" or "-"), in a
 * collection indented by ctx: on the line, on the lines below (more
 * indented; after a key also a sequence at the key's indentation), or
 * none (the empty plain scalar, on line l). */
static bool value(yf *p, const yl *l, size_t v, int ctx, bool in_seq)
{
    const char *s = p->s;
    size_t k = v;
    while (k < l->end && s[k] == ' ')
        k++;
    if (k == l->end || s[k] == '#') {
        consume(p, l);
        yl n;
        if (peek(p, &n)) {
            if (n.indent > ctx)
                return node(p, &n);
            if (n.indent == ctx && !in_seq && is_entry(p, &n, n.text))
                return sequence(p, n, ctx, true);
        }
        return emit(p, YF_SCALAR, l->line, s + k, 0, true);
    }
    switch (s[k]) {
    case '\'':
    case '"': return quoted(p, l, k, ctx);
    case '|': return literal(p, l, k, ctx);
    default: return plain_start(p, l, k) && plain(p, l, k, ctx);
    }
}

/* A collection (YF_MAP or YF_SEQ) starts on line `line`: false when that
 * is nested too deep. */
static bool open_collection(yf *p, yf_kind kind, uint32_t line)
{
    return ++p->depth <= IG_MAX_SIGMA_DEPTH && emit(p, kind, line, NULL, 0, false);
}

static bool close_collection(yf *p)
{
    p->depth--;
    return emit(p, YF_END, 0, NULL, 0, false);
}

/* The next line of a collection at column col, in *l: 1 when it is at col,
 * 0 when the collection has ended (no more lines, or a line less
 * indented), -1 when it is deeper (declined). */
static int next_line(yf *p, yl *l, int col)
{
    if (!peek(p, l) || l->indent < col)
        return 0;
    return l->indent > col ? -1 : 1;
}

/* A mapping whose first key is at k of line l, column col. */
static bool mapping(yf *p, yl l, size_t k, int col)
{
    if (!open_collection(p, YF_MAP, l.line))
        return false;
    for (int r = 1; r > 0; r = next_line(p, &l, col), k = l.text) {
        if (r < 0 || is_entry(p, &l, k))
            return false;
        size_t kend, v;
        if (!key_at(p, &l, k, &kend, &v) || !emit(p, YF_SCALAR, l.line, p->s + k, kend - k, true) ||
            !value(p, &l, v, col, false))
            return false;
    }
    return close_collection(p);
}

/* A sequence whose first '-' starts line l, at column col; an indentless
 * one (a key's value at the key's column) ends at a line that is not an
 * item. */
static bool sequence(yf *p, yl l, int col, bool indentless)
{
    if (!open_collection(p, YF_SEQ, l.line))
        return false;
    for (int r = 1; r > 0; r = next_line(p, &l, col)) {
        if (r < 0)
            return false;
        if (!is_entry(p, &l, l.text)) {
            if (indentless)
                break; /* the next key of the mapping around */
            return false;
        }
        size_t v = l.text + 1, k = v, kend, kv;
        while (k < l.end && p->s[k] == ' ')
            k++;
        bool ok;
        if (k < l.end && p->s[k] != '#' && is_entry(p, &l, k))
            ok = false; /* "- - a": declined */
        else if (k < l.end && key_at(p, &l, k, &kend, &kv))
            ok = mapping(p, l, k, (int)(k - l.start));
        else
            ok = value(p, &l, v, col, true);
        if (!ok)
            return false;
    }
    return close_collection(p);
}

/* A collection starting at line l, which the caller saw is deeper than
 * its own (a scalar alone on its line is declined). */
static bool node(yf *p, const yl *l)
{
    if (is_entry(p, l, l->text))
        return sequence(p, *l, l->indent, false);
    return mapping(p, *l, l->text, l->indent); /* declined without a key */
}

bool yf_read(const char *text, size_t len, ig_arena *a, yf_events *out)
{
    out->v = NULL;
    out->n = 0;
    if (len > IG_MAX_SIGMA_FILE_BYTES || (text == NULL && len > 0))
        return false;
    if (!text_ok((const unsigned char *)text, len))
        return false;
    yf p = {text, len, 0, 0, a, NULL, 0, 0, 0, false};
    yl l;
    uint32_t doc_line = 0;
    if (len >= 3 && memcmp(text, "---", 3) == 0 &&
        (len == 3 || text[3] == ' ' || text[3] == '\n')) {
        yl first = {0, 0, len, 0, 0};
        const char *nl = memchr(text, '\n', len);
        first.end = nl != NULL ? (size_t)(nl - text) : len;
        if (!rest_empty(&p, &first, 3))
            return false;
        consume(&p, &first);
        if (!peek(&p, &l))
            return false; /* an empty document */
    } else {
        if (!peek(&p, &l))
            return !p.bad; /* no document */
        doc_line = l.line;
    }
    if (!emit(&p, YF_DOC, doc_line, NULL, 0, false) || !node(&p, &l) || peek(&p, &l) || p.bad)
        return false;
    out->v = p.ev;
    out->n = p.nev;
    return true;
}
