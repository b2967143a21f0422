/* Sigma condition expressions (sigma-rules-specification.md, "Condition"):
 * a tokenizer and a recursive-descent parser.
 *
 *   expr    := and_expr ( "or" and_expr )*
 *   and_expr:= unary ( "and" unary )*
 *   unary   := "not" unary | primary
 *   primary := "(" expr ")" | ( "1" | "all" ) "of" ( pattern | "them" ) | identifier
 *
 * Precedence, least to most binding: or, and, not, "x of", parentheses.
 * Keywords are case-insensitive.  Identifiers are made of letters, digits,
 * '_', '-' and '.'; a pattern after "of" may also contain '*'.  Chains of
 * one operator ("a or b or c") are built as balanced trees, so the tree
 * depth stays logarithmic in the chain length; depth, node count and length
 * are capped (sigma_limits.h).  Input is untrusted. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/sigma_ast.h"
#include "engine/sigma_limits.h"

typedef enum ctok { CT_END, CT_LP, CT_RP, CT_WORD, CT_BAD } ctok;

typedef struct cparser {
    const char *text;
    size_t len, pos;
    ig_arena *arena;
    /* current token */
    ctok tok;
    size_t tstart, tlen;
    /* the token before it (for "... after 'and'") */
    size_t pstart, plen;
    bool have_prev;
    unsigned nodes;
    const char *reason; /* first error */
} cparser;

static const char oom_reason[] = "out of memory";

/* Formats the first error into the arena. */
static void cerr(cparser *P, const char *fmt, ...)
{
    if (P->reason != NULL)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    char *s = ig_arena_alloc(P->arena, len + 1);
    if (s == NULL) {
        P->reason = oom_reason;
        return;
    }
    memcpy(s, buf, len);
    s[len] = '\0';
    P->reason = s;
}

static bool is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '*';
}

static unsigned col_of(size_t off)
{
    return off < UINT32_MAX ? (unsigned)off + 1u : UINT32_MAX;
}

/* Text of the current token for messages, clipped (words hold only
 * identifier characters, so no escaping is needed). */
#define TOKFMT      "%.*s"
#define TOKARG_N(P) (int)((P)->tlen > 40 ? 40 : (P)->tlen)

static void next(cparser *P)
{
    if (P->tok != CT_END || P->tlen != 0) {
        P->pstart = P->tstart;
        P->plen = P->tlen;
        P->have_prev = true;
    }
    while (P->pos < P->len && (P->text[P->pos] == ' ' || P->text[P->pos] == '\t' ||
                               P->text[P->pos] == '\n' || P->text[P->pos] == '\r'))
        P->pos++;
    P->tstart = P->pos;
    if (P->pos >= P->len) {
        P->tok = CT_END;
        P->tlen = 0;
        return;
    }
    unsigned char c = (unsigned char)P->text[P->pos];
    if (c == '(' || c == ')') {
        P->tok = c == '(' ? CT_LP : CT_RP;
        P->tlen = 1;
        P->pos++;
        return;
    }
    if (is_word_char(c)) {
        while (P->pos < P->len && is_word_char((unsigned char)P->text[P->pos]))
            P->pos++;
        P->tok = CT_WORD;
        P->tlen = P->pos - P->tstart;
        if (P->tlen > IG_MAX_SIGMA_NAME) {
            P->tok = CT_BAD;
            cerr(P, "identifier at column %u is longer than %u bytes", col_of(P->tstart),
                 IG_MAX_SIGMA_NAME);
        }
        return;
    }
    P->tok = CT_BAD;
    P->tlen = 1;
    if (c == '|')
        cerr(P,
             "aggregation ('|' at column %u) is not supported in a condition; use a "
             "correlation rule",
             col_of(P->tstart));
    else if (c >= 0x21 && c < 0x7f)
        cerr(P, "invalid character '%c' at column %u", (int)c, col_of(P->tstart));
    else
        cerr(P, "invalid character 0x%02x at column %u", (unsigned)c, col_of(P->tstart));
}

/* Case-insensitive comparison of the current word with a lowercase keyword. */
static bool word_is(const cparser *P, size_t start, size_t len, const char *kw)
{
    size_t n = strlen(kw);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = P->text[start + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != kw[i])
            return false;
    }
    return true;
}

static bool tok_is(const cparser *P, const char *kw)
{
    return P->tok == CT_WORD && word_is(P, P->tstart, P->tlen, kw);
}

static bool is_keyword(const cparser *P, size_t start, size_t len)
{
    static const char *const kws[] = {"and", "or", "not", "of", "them"};
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
        if (word_is(P, start, len, kws[i]))
            return true;
    return false;
}

/* Peeks whether the word after the current token is "of". */
static bool next_is_of(const cparser *P)
{
    size_t p = P->pos;
    while (p < P->len &&
           (P->text[p] == ' ' || P->text[p] == '\t' || P->text[p] == '\n' || P->text[p] == '\r'))
        p++;
    size_t s = p;
    while (p < P->len && is_word_char((unsigned char)P->text[p]))
        p++;
    return word_is(P, s, p - s, "of");
}

static sg_cond *new_node(cparser *P, sg_ckind kind)
{
    if (P->nodes >= IG_MAX_SIGMA_COND_NODES) {
        cerr(P, "condition is too complex (more than %u terms)", IG_MAX_SIGMA_COND_NODES);
        return NULL;
    }
    sg_cond *c = ig_arena_alloc(P->arena, sizeof(*c));
    if (c == NULL) {
        cerr(P, "%s", oom_reason);
        return NULL;
    }
    P->nodes++;
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    return c;
}

static const char *dup_tok(cparser *P)
{
    char *s = ig_arena_alloc(P->arena, P->tlen + 1);
    if (s == NULL) {
        cerr(P, "%s", oom_reason);
        return NULL;
    }
    memcpy(s, P->text + P->tstart, P->tlen);
    s[P->tlen] = '\0';
    return s;
}

/* Reports the current token as unexpected. */
static void unexpected(cparser *P)
{
    if (P->tok == CT_BAD)
        return; /* the tokenizer said why */
    if (P->tok == CT_END) {
        if (P->have_prev)
            cerr(P, "expected a search identifier after '%.*s' at column %u (end of condition)",
                 (int)(P->plen > 40 ? 40 : P->plen), P->text + P->pstart, col_of(P->tstart));
        else
            cerr(P, "condition is empty");
    } else if (P->tok == CT_RP) {
        cerr(P, "unbalanced parenthesis at column %u", col_of(P->tstart));
    } else if (P->tok == CT_LP) {
        cerr(P, "unexpected '(' at column %u", col_of(P->tstart));
    } else {
        cerr(P, "unexpected '" TOKFMT "' at column %u", TOKARG_N(P), P->text + P->tstart,
             col_of(P->tstart));
    }
}

static const sg_cond *parse_or(cparser *P, unsigned depth, unsigned *height);

/* Operand lists of a chain, in the arena (no cleanup on error paths). */
typedef struct operand {
    const sg_cond *c;
    unsigned h;
    struct operand *next;
} operand;

/* Builds a balanced tree of `kind` over ops[lo, hi). */
static const sg_cond *balance(cparser *P, sg_ckind kind, operand **ops, size_t lo, size_t hi,
                              unsigned *height)
{
    if (hi - lo == 1) {
        *height = ops[lo]->h;
        return ops[lo]->c;
    }
    size_t mid = lo + (hi - lo) / 2;
    unsigned ha = 0, hb = 0;
    const sg_cond *a = balance(P, kind, ops, lo, mid, &ha);
    const sg_cond *b = a ? balance(P, kind, ops, mid, hi, &hb) : NULL;
    if (b == NULL)
        return NULL;
    sg_cond *c = new_node(P, kind);
    if (c == NULL)
        return NULL;
    c->a = a;
    c->b = b;
    *height = (ha > hb ? ha : hb) + 1;
    return c;
}

/* Parses operands joined by `op` using `sub`, returning a balanced tree. */
static const sg_cond *parse_chain(cparser *P, unsigned depth, unsigned *height, const char *op,
                                  sg_ckind kind,
                                  const sg_cond *(*sub)(cparser *, unsigned, unsigned *))
{
    unsigned h = 0;
    const sg_cond *first = sub(P, depth, &h);
    if (first == NULL)
        return NULL;
    if (!tok_is(P, op)) {
        *height = h;
        return first;
    }
    operand *head = ig_arena_alloc(P->arena, sizeof(*head)), *tail = head;
    if (head == NULL) {
        cerr(P, "%s", oom_reason);
        return NULL;
    }
    head->c = first;
    head->h = h;
    head->next = NULL;
    size_t n = 1;
    while (tok_is(P, op)) {
        next(P);
        const sg_cond *c = sub(P, depth, &h);
        if (c == NULL)
            return NULL;
        operand *o = ig_arena_alloc(P->arena, sizeof(*o));
        if (o == NULL) {
            cerr(P, "%s", oom_reason);
            return NULL;
        }
        o->c = c;
        o->h = h;
        o->next = NULL;
        tail->next = o;
        tail = o;
        n++;
    }
    operand **ops = ig_arena_alloc(P->arena, n * sizeof(*ops));
    if (ops == NULL) {
        cerr(P, "%s", oom_reason);
        return NULL;
    }
    size_t i = 0;
    for (operand *o = head; o != NULL; o = o->next)
        ops[i++] = o;
    const sg_cond *c = balance(P, kind, ops, 0, n, height);
    if (c != NULL && *height > IG_MAX_SIGMA_COND_DEPTH) {
        cerr(P, "condition is nested too deeply (limit %u)", IG_MAX_SIGMA_COND_DEPTH);
        return NULL;
    }
    return c;
}

static const sg_cond *parse_primary(cparser *P, unsigned depth, unsigned *height)
{
    if (P->tok == CT_LP) {
        size_t open = P->tstart;
        next(P);
        const sg_cond *c = parse_or(P, depth + 1, height);
        if (c == NULL)
            return NULL;
        if (P->tok == CT_RP) {
            next(P);
            return c;
        }
        if (P->tok == CT_END)
            cerr(P, "unbalanced parenthesis at column %u", col_of(open));
        else
            unexpected(P);
        return NULL;
    }
    if (P->tok != CT_WORD) {
        unexpected(P);
        return NULL;
    }
    /* "1 of x", "all of x" (and the non-standard "any of", "2 of") */
    if (next_is_of(P)) {
        sg_ckind kind;
        size_t qstart = P->tstart;
        if (word_is(P, P->tstart, P->tlen, "1")) {
            kind = SG_C_ONE_OF;
        } else if (tok_is(P, "all")) {
            kind = SG_C_ALL_OF;
        } else if (tok_is(P, "any")) {
            cerr(P, "'any of' at column %u is not Sigma; use '1 of'", col_of(qstart));
            return NULL;
        } else {
            bool digits = true;
            for (size_t i = 0; i < P->tlen; i++)
                digits = digits && P->text[P->tstart + i] >= '0' && P->text[P->tstart + i] <= '9';
            if (digits)
                cerr(P, "'" TOKFMT " of' at column %u is not supported; use '1 of' or 'all of'",
                     TOKARG_N(P), P->text + P->tstart, col_of(qstart));
            else
                cerr(P, "unexpected '" TOKFMT "' at column %u before 'of'", TOKARG_N(P),
                     P->text + P->tstart, col_of(qstart));
            return NULL;
        }
        next(P); /* the quantifier */
        next(P); /* "of" */
        if (P->tok != CT_WORD || (is_keyword(P, P->tstart, P->tlen) && !tok_is(P, "them"))) {
            if (P->tok != CT_BAD)
                cerr(P, "expected a search identifier after 'of' at column %u", col_of(P->tstart));
            return NULL;
        }
        sg_cond *c = new_node(P, kind);
        if (c == NULL)
            return NULL;
        if (tok_is(P, "them"))
            c->name = "them";
        else if ((c->name = dup_tok(P)) == NULL)
            return NULL;
        next(P);
        *height = 1;
        return c;
    }
    if (is_keyword(P, P->tstart, P->tlen)) {
        if (tok_is(P, "them"))
            cerr(P, "'them' at column %u is only allowed after '1 of' or 'all of'",
                 col_of(P->tstart));
        else
            unexpected(P);
        return NULL;
    }
    if (memchr(P->text + P->tstart, '*', P->tlen) != NULL) {
        cerr(P, "wildcard in '" TOKFMT "' at column %u is only allowed after '1 of' or 'all of'",
             TOKARG_N(P), P->text + P->tstart, col_of(P->tstart));
        return NULL;
    }
    sg_cond *c = new_node(P, SG_C_ID);
    if (c == NULL || (c->name = dup_tok(P)) == NULL)
        return NULL;
    next(P);
    *height = 1;
    return c;
}

static const sg_cond *parse_unary(cparser *P, unsigned depth, unsigned *height)
{
    if (depth > IG_MAX_SIGMA_COND_DEPTH) {
        cerr(P, "condition is nested too deeply (limit %u) at column %u", IG_MAX_SIGMA_COND_DEPTH,
             col_of(P->tstart));
        return NULL;
    }
    if (tok_is(P, "not")) {
        next(P);
        unsigned h = 0;
        const sg_cond *a = parse_unary(P, depth + 1, &h);
        if (a == NULL)
            return NULL;
        sg_cond *c = new_node(P, SG_C_NOT);
        if (c == NULL)
            return NULL;
        c->a = a;
        *height = h + 1;
        return c;
    }
    return parse_primary(P, depth, height);
}

static const sg_cond *parse_and(cparser *P, unsigned depth, unsigned *height)
{
    return parse_chain(P, depth, height, "and", SG_C_AND, parse_unary);
}

static const sg_cond *parse_or(cparser *P, unsigned depth, unsigned *height)
{
    if (depth > IG_MAX_SIGMA_COND_DEPTH) {
        cerr(P, "condition is nested too deeply (limit %u) at column %u", IG_MAX_SIGMA_COND_DEPTH,
             col_of(P->tstart));
        return NULL;
    }
    return parse_chain(P, depth, height, "or", SG_C_OR, parse_and);
}

const sg_cond *sg_parse_condition(const char *text, ig_arena *arena, const char **reason)
{
    static const char no_text[] = "condition is missing";
    cparser P;
    memset(&P, 0, sizeof(P));
    if (text == NULL || arena == NULL) {
        if (reason != NULL)
            *reason = no_text;
        return NULL;
    }
    P.text = text;
    P.len = strlen(text);
    P.arena = arena;
    if (P.len > IG_MAX_SIGMA_COND_LEN) {
        cerr(&P, "condition is longer than %u bytes", IG_MAX_SIGMA_COND_LEN);
        if (reason != NULL)
            *reason = P.reason;
        return NULL;
    }
    next(&P);
    unsigned height = 0;
    const sg_cond *c = P.reason == NULL ? parse_or(&P, 0, &height) : NULL;
    if (c != NULL && P.tok != CT_END) {
        unexpected(&P);
        c = NULL;
    }
    if (c != NULL && height > IG_MAX_SIGMA_COND_DEPTH) {
        cerr(&P, "condition is nested too deeply (limit %u)", IG_MAX_SIGMA_COND_DEPTH);
        c = NULL;
    }
    if (c == NULL && P.reason == NULL)
        P.reason = "invalid condition";
    if (c == NULL && reason != NULL)
        *reason = P.reason;
    return c;
}
