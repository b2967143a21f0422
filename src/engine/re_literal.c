/* What every match of a regular expression contains (em_re_needs): a
 * literal, and a character it holds at least so many times; and whether
 * its quantifiers may be made lazy (em_re_lazy_ok).
 *
 * The pattern is read at its top level only: a run of plain characters
 * (or escaped punctuation) not made optional by a quantifier must occur in
 * every match, in that order and without a gap; and each such character is
 * a distinct character of the match, so a pattern like `\+.*\+.*\+` needs
 * three '+' (a cheap test before a regex that backtracks a lot without).
 * Groups, classes, `.` and class escapes end a run; a top-level `|` means
 * no run is necessary.  Whatever this reader does not know for sure
 * (\Q..\E, \x.., back references, verbs, extended mode, a `{` that is
 * not a quantifier, bytes over 0x7F) gives "nothing known": the answer is
 * then only slower, never wrong.  In caseless parts `k` and `s` end a run
 * too: PCRE2 matches them with U+212A and U+017F, which no ASCII literal
 * holds.  tests/unit/test_re_literal.c and fuzz/fuzz_relit.c check all
 * this against PCRE2 itself. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/engine.h"

typedef struct rl {
    const char *s;
    size_t n, i;
    bool caseless;
    char *out; /* the best run so far, lower case */
    uint32_t cap, best;
    char run[IG_RE_LITERAL_MAX];
    uint32_t rlen;
    uint32_t cnt[128]; /* how many times a match holds each (lower-cased) character */
} rl;

static void flush(rl *r)
{
    if (r->rlen > r->best) {
        memcpy(r->out, r->run, r->rlen);
        r->best = r->rlen;
    }
    r->rlen = 0;
}

/* Plain character c, needed `times` times in a row: continues the run. */
static void add_char(rl *r, char c, unsigned times)
{
    if (r->rlen == r->cap)
        flush(r); /* long: keep what it has, start again */
    c = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    r->run[r->rlen++] = c;
    r->cnt[(unsigned char)c] += times < 100000 ? times : 100000;
}

/* Skips a class whose '[' is at r->i; false when it does not end. */
static bool skip_class(rl *r)
{
    size_t i = r->i + 1;
    if (i < r->n && r->s[i] == '^')
        i++;
    if (i < r->n && r->s[i] == ']')
        i++; /* a leading ']' is a member */
    while (i < r->n && r->s[i] != ']') {
        if (r->s[i] == '\\') {
            if (i + 1 < r->n && (r->s[i + 1] == 'Q' || r->s[i + 1] == 'E'))
                return false;
            i += 2;
        } else if (r->s[i] == '[' && i + 1 < r->n && r->s[i + 1] == ':') {
            /* [:alpha:] or [:^alpha:]; else '[' is a member */
            size_t j = i + 2;
            if (j < r->n && r->s[j] == '^')
                j++;
            while (j < r->n &&
                   ((r->s[j] >= 'a' && r->s[j] <= 'z') || (r->s[j] >= 'A' && r->s[j] <= 'Z')))
                j++;
            i = j + 1 < r->n && r->s[j] == ':' && r->s[j + 1] == ']' ? j + 2 : i + 1;
        } else {
            i++;
        }
    }
    if (i >= r->n)
        return false;
    r->i = i + 1;
    return true;
}

/* Does the group opening at s[i] ("(?") set options with x (extended:
 * spaces and # comments), or is it a comment or callout? */
static bool opaque_group(const char *s, size_t n, size_t i)
{
    if (i + 2 >= n || s[i + 1] != '?')
        return false;
    if (s[i + 2] == '#' || s[i + 2] == 'C')
        return true;
    for (i += 2; i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                           s[i] == '^' || s[i] == '-');
         i++)
        if (s[i] == 'x')
            return true;
    return false;
}

/* Skips a group whose '(' is at r->i; false when it does not end or holds
 * what could confuse the count of parentheses. */
static bool skip_group(rl *r)
{
    unsigned depth = 0;
    while (r->i < r->n) {
        char c = r->s[r->i];
        if (c == '\\') {
            if (r->i + 1 < r->n && (r->s[r->i + 1] == 'Q' || r->s[r->i + 1] == 'E'))
                return false;
            r->i += 2;
        } else if (c == '[') {
            if (!skip_class(r))
                return false;
        } else if (c == '(') {
            if (opaque_group(r->s, r->n, r->i))
                return false;
            depth++;
            r->i++;
        } else if (c == ')') {
            r->i++;
            if (--depth == 0)
                return true;
        } else {
            r->i++;
        }
    }
    return false;
}

/* An option setting "(?letters)" at r->i: applies it and returns true;
 * false when it is a group. */
static bool option_setting(rl *r)
{
    size_t i = r->i + 2;
    bool off = false, on_i = false;
    for (; i < r->n && r->s[i] != ')'; i++) {
        char c = r->s[i];
        if (c == '-')
            off = true;
        else if (c == 'i' || c == '^')
            on_i = on_i || !off || c == '^';
        else if (c != 'm' && c != 's' && c != 'n' && c != 'U' && c != 'J')
            return false; /* (?:, (?=, (?<name>, (?i:, ... */
    }
    if (i >= r->n)
        return false;
    if (on_i)
        r->caseless = true; /* a later (?-i) is not followed: still caseless */
    r->i = i + 1;
    return true;
}

/* A quantifier at r->i: skips it and sets *min; false if there is none.
 * *bad: a '{' that is not a quantifier. */
static bool quantifier(rl *r, unsigned *min, bool *bad)
{
    *bad = false;
    if (r->i >= r->n)
        return false;
    char c = r->s[r->i];
    if (c == '?' || c == '*' || c == '+') {
        *min = c == '+';
        r->i++;
    } else if (c == '{') {
        size_t i = r->i + 1;
        unsigned v = 0;
        bool digits = false;
        while (i < r->n && r->s[i] >= '0' && r->s[i] <= '9') {
            v = v < 100000 ? v * 10 + (unsigned)(r->s[i] - '0') : v;
            digits = true;
            i++;
        }
        if (i < r->n && r->s[i] == ',') {
            i++;
            while (i < r->n && r->s[i] >= '0' && r->s[i] <= '9')
                i++;
        }
        if (!digits || i >= r->n || r->s[i] != '}') {
            *bad = true;
            return false;
        }
        *min = v;
        r->i = i + 1;
    } else {
        return false;
    }
    if (r->i < r->n && (r->s[r->i] == '?' || r->s[r->i] == '+'))
        r->i++; /* lazy, possessive */
    return true;
}

/* Reads the pattern into r; false when some part of it is not followed. */
static bool read_pattern(rl *r)
{
    while (r->i < r->n) {
        char c = r->s[r->i];
        int lit = -1; /* the atom's character, or -1: not a plain character */
        switch (c) {
        case '|': return false; /* alternatives at the top: none is necessary */
        case ')':
        case '*':
        case '+':
        case '?':
        case '{': return false; /* not after an atom: not followed */
        case '^':
        case '$':
            flush(r);
            r->i++;
            continue; /* zero width */
        case '.': r->i++; break;
        case '[':
            if (!skip_class(r))
                return false;
            break;
        case '(':
            if (r->i + 1 < r->n && r->s[r->i + 1] == '*')
                return false; /* verbs */
            if (opaque_group(r->s, r->n, r->i))
                return false;
            if (r->i + 1 < r->n && r->s[r->i + 1] == '?' && option_setting(r)) {
                flush(r);
                continue;
            }
            if (!skip_group(r))
                return false;
            break;
        case '\\': {
            if (r->i + 1 >= r->n)
                return false;
            unsigned char e = (unsigned char)r->s[r->i + 1];
            r->i += 2;
            if (e >= 0x80)
                return false;
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                if (strchr("bBAzZGK", e) != NULL) {
                    flush(r);
                    continue; /* zero width */
                }
                if (strchr("dDwWsShHvVRXntrfea", e) == NULL)
                    return false; /* \x.., \p{..}, \1, \Q, \N, ... */
            } else {
                lit = (char)e;
            }
            break;
        }
        default:
            if ((unsigned char)c >= 0x80) {
                r->i++;
                while (r->i < r->n && ((unsigned char)r->s[r->i] & 0xC0) == 0x80)
                    r->i++; /* one character */
            } else {
                r->i++;
                if (c >= 0x20 && c < 0x7F)
                    lit = c;
            }
            break;
        }
        if (lit >= 0 && r->caseless && strchr("kKsS", lit) != NULL)
            lit = -1;
        unsigned min;
        bool bad;
        bool q = quantifier(r, &min, &bad);
        if (bad)
            return false;
        if (lit < 0) {
            flush(r);
        } else if (!q) {
            add_char(r, (char)lit, 1);
        } else {
            if (min > 0)
                add_char(r, (char)lit, min); /* min times at least, then maybe more */
            flush(r);
        }
        if (q && r->i < r->n &&
            (r->s[r->i] == '?' || r->s[r->i] == '*' || r->s[r->i] == '+' || r->s[r->i] == '{'))
            return false; /* a quantifier after a quantifier: not followed */
    }
    flush(r);
    return true;
}

void em_re_needs(const char *re, size_t len, bool caseless, em_re_need *out)
{
    memset(out, 0, sizeof(*out));
    rl r = {.s = re, .n = len, .caseless = caseless, .out = out->lit, .cap = IG_RE_LITERAL_MAX};
    if (re == NULL || !read_pattern(&r)) {
        memset(out, 0, sizeof(*out)); /* what was read before says nothing */
        return;
    }
    out->len = r.best;
    for (unsigned c = 1; c < 128; c++) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
        if (r.cnt[c] > out->count || (r.cnt[c] == out->count && out->count && !alnum))
            if (r.cnt[c] > 1) {
                out->c = (char)c;
                out->count = r.cnt[c];
            }
    }
}

bool em_re_lazy_ok(const char *re, size_t len)
{
    static const char *const commits[] = {"(?>", "(*",  "(?=", "(?!", "(?<=", "(?<!", "(?(",
                                          "(?R", "(?&", "(?P", "(?|", "(?C",  "\\g",  "\\k"};
    if (re == NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof(commits) / sizeof(*commits); k++) {
            size_t n = strlen(commits[k]);
            if (len - i >= n && memcmp(re + i, commits[k], n) == 0)
                return false;
        }
        char c = re[i], d = i + 1 < len ? re[i + 1] : '\0';
        if (c == '\\' && d >= '1' && d <= '9')
            return false; /* a back reference */
        if (c == '(' && d == '?' && i + 2 < len &&
            ((re[i + 2] >= '0' && re[i + 2] <= '9') || re[i + 2] == '+' || re[i + 2] == '-'))
            return false; /* (?1), (?+1), (?-1): calls */
        if ((c == '*' || c == '+' || c == '?' || c == '}') && d == '+')
            return false; /* possessive (or an escaped '+' before one: either way) */
    }
    return true;
}
