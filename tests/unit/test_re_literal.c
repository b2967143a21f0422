/* em_re_needs: what every match of a regex contains.  Hand-made cases,
 * then a property check against PCRE2 itself: for many generated regexes
 * and subjects, whenever PCRE2 finds a match the ASCII-lower-cased subject
 * holds the literal, and the character as many times as said. */
#define _GNU_SOURCE           /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "test.h"

static void expect(const char *re, bool caseless, const char *want, int line)
{
    em_re_need need;
    em_re_needs(re, strlen(re), caseless, &need);
    char out[IG_RE_LITERAL_MAX + 1];
    memcpy(out, need.lit, need.len);
    out[need.len] = '\0';
    if (strcmp(out, want) == 0) {
        t_pass++;
    } else {
        t_fail++;
        fprintf(stderr, "test_re_literal.c:%d: /%s/%s: got \"%s\", want \"%s\"\n", line, re,
                caseless ? "i" : "", out, want);
    }
}
#define LIT(re, want)  expect(re, false, want, __LINE__)
#define ILIT(re, want) expect(re, true, want, __LINE__)

static void cases(void)
{
    LIT("route\\s+print", "route");
    LIT("ipconfig\\s+/all", "ipconfig");
    LIT("\\$VerbosePreference\\.ToString\\(", "$verbosepreference.tostring(");
    LIT("cmd.{0,5}(?:/c|/r).+powershell.+(?:\\$\\{?input\\}?|noexit).+\"", "powershell");
    LIT("abc?def", "def");  /* c optional: "ab" then "def" */
    LIT("abcd+ef", "abcd"); /* d at least once */
    LIT("abcd{0,3}xy", "abc");
    LIT("abcd{2}xy", "abcd");
    LIT("abcd*?e", "abc");
    LIT("a|bcdef", "");       /* alternatives at the top */
    LIT("(a|b)cdef", "cdef"); /* inside a group: fine */
    LIT("[abc]defg[h]", "defg");
    LIT("[]x]yz", "yz");
    LIT("[^]x]yzw", "yzw");
    LIT("[[:alpha:]]wxyz", "wxyz");
    LIT("[[:^digit:]]wxyz", "wxyz");
    LIT("[[:]x|abcd]wxyz", ""); /* "[:" without ":]": the class ends at the first ']' */
    LIT("^C:\\\\Windows\\\\", "c:\\windows\\");
    LIT("\\bword\\b", "word");
    LIT("ab\\dcd", "ab");
    LIT("x\\x41yz", "");     /* \x.. not followed */
    LIT("\\Qa|b\\E", "");    /* nor \Q..\E */
    LIT("(?x) a b c d", ""); /* nor extended mode */
    LIT("(?^x)abcd", "");
    LIT("(?#c)abcd", "");
    LIT("(*UTF)abcd", "");
    LIT("ab{cd", ""); /* a literal '{' */
    LIT("ab{,3}", "");
    LIT("ab+?c", "ab");
    LIT("\\1abcd", "");
    LIT("caf\xc3\xa9s", "caf");
    LIT("", "");
    LIT("a\\", "");
    /* caseless: k and s may match U+212A and U+017F */
    ILIT("powershell", "power");
    LIT("powershell", "powershell");
    LIT("(?i)powershell", "power");
    LIT("abcd(?i)esxyz", "abcd");
    LIT("(?i:xyz)abcdef", "abcdef");
    ILIT("TASKKILL", "ill");
}

static void expect_count(const char *re, bool caseless, char c, uint32_t count, int line)
{
    em_re_need need;
    em_re_needs(re, strlen(re), caseless, &need);
    if (need.count == count && (count == 0 || need.c == c)) {
        t_pass++;
    } else {
        t_fail++;
        fprintf(stderr, "test_re_literal.c:%d: /%s/: got '%c' x%u, want '%c' x%u\n", line, re,
                need.c ? need.c : '-', need.count, c ? c : '-', count);
    }
}
#define COUNT(re, c, n) expect_count(re, false, c, n, __LINE__)

static void counts(void)
{
    COUNT("\\+.*\\+.*\\+.*\\+", '+', 4);
    COUNT("`.*`.*`.*`.*`", '`', 5);
    COUNT("(?i)&&set.*(\\{\\d\\}){2,}\\\\\"\\s+?-f.*&&.*cmd.*/c", '&', 4);
    COUNT("a{3}b+x?x?", 'a', 3);
    COUNT("ab|aaa", 0, 0);
    COUNT("abc", 0, 0); /* each once: the literal says more */
    COUNT("(?i)s.*s.*s", 0, 0);
    COUNT("A.*a", 'a', 2); /* counted in the lower-cased value */
}

/* ---- the property: a PCRE2 match holds the literal ---- */

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const atoms[] = {
    "a",    "b",      "k",      "s",     "K",      "S",    "x",    "\\.",   "\\\\",
    "\\$",  "\\(",    ".",      "\\d",   "\\s",    "[ab]", "[^a]", "(a|b)", "(?:ks|x)",
    "(?i)", "(?i:k)", "^",      "$",     "\\b",    "|",    "-",    "/",     "{",
    "}",    "]",      "(?>a+)", "(?=b)", "(a)\\1", "(?U)", "a.*?", "(a*)*",
};
static const char *const quants[] = {"",      "",     "",   "?",  "*",  "+", "{2}",
                                     "{0,2}", "{1,}", "??", "+?", "*+", "++"};
/* pieces subjects are made of */
static const char *const bits[] = {
    "a", "b", "k", "s", "K", "S", "x", ".", "\\",           "$",
    "(", "1", " ", "-", "/", "{", "}", "]", "\xe2\x84\xaa", "\xc5\xbf",
    "\n"};

static bool holds(const char *lit, uint32_t n, const char *subj, size_t len)
{
    char low[256];
    for (size_t i = 0; i < len; i++)
        low[i] = subj[i] >= 'A' && subj[i] <= 'Z' ? (char)(subj[i] + 32) : subj[i];
    return n == 0 || memmem(low, len, lit, n) != NULL;
}

static bool holds_count(char c, uint32_t count, const char *subj, size_t len)
{
    uint32_t k = 0;
    for (size_t i = 0; i < len; i++)
        k += (subj[i] >= 'A' && subj[i] <= 'Z' ? (char)(subj[i] + 32) : subj[i]) == c;
    return k >= count;
}

static void property(void)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    unsigned compiled = 0, matched = 0, bad = 0, lazy = 0, differ = 0;
    for (int round = 0; round < 30000; round++) {
        char re[160];
        size_t rl = 0;
        int natoms = 1 + (int)rnd(8);
        for (int i = 0; i < natoms; i++) {
            const char *a = atoms[rnd(sizeof(atoms) / sizeof(*atoms))];
            const char *q = quants[rnd(sizeof(quants) / sizeof(*quants))];
            rl += (size_t)snprintf(re + rl, sizeof(re) - rl, "%s%s", a, q);
        }
        bool caseless = rnd(4) == 0;
        int err;
        PCRE2_SIZE off;
        pcre2_code *code =
            pcre2_compile((PCRE2_SPTR)re, rl,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0),
                          &err, &off, NULL);
        if (code == NULL)
            continue;
        compiled++;
        pcre2_code *lz = NULL;
        if (em_re_lazy_ok(re, rl)) {
            lz = pcre2_compile((PCRE2_SPTR)re, rl,
                               PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_UNGREEDY |
                                   (caseless ? PCRE2_CASELESS : 0),
                               &err, &off, NULL);
            lazy += lz != NULL;
        }
        em_re_need need;
        em_re_needs(re, rl, caseless, &need);
        const char *lit = need.lit;
        uint32_t n = need.len;
        for (int k = 0; k < 40; k++) {
            char subj[128];
            size_t sl = 0;
            int nbits = (int)rnd(12);
            for (int i = 0; i < nbits; i++) {
                const char *b = bits[rnd(sizeof(bits) / sizeof(*bits))];
                sl += (size_t)snprintf(subj + sl, sizeof(subj) - sl, "%s", b);
            }
            if (n > 0 && rnd(2) == 0 && sl + n < sizeof(subj)) { /* near the literal */
                size_t at = rnd((uint32_t)sl + 1);
                memmove(subj + at + n, subj + at, sl - at);
                memcpy(subj + at, lit, n);
                sl += n;
                if (rnd(2) == 0) { /* then spoil or recase one byte */
                    size_t j = at + rnd(n);
                    subj[j] = subj[j] >= 'a' && subj[j] <= 'z' ? (char)(subj[j] - 32) : 'x';
                }
            }
            int rc = pcre2_match(code, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL);
            if (lz != NULL &&
                (rc >= 0) != (pcre2_match(lz, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL) >= 0)) {
                if (differ++ < 5)
                    fprintf(stderr, "/%s/%s: greedy %d, lazy not, on \"%.*s\"\n", re,
                            caseless ? "i" : "", rc, (int)sl, subj);
            }
            if (rc < 0)
                continue;
            matched++;
            if (!holds(lit, n, subj, sl) || !holds_count(need.c, need.count, subj, sl)) {
                if (bad++ < 5)
                    fprintf(stderr, "/%s/%s matches \"%.*s\" without \"%.*s\" or %u '%c'\n", re,
                            caseless ? "i" : "", (int)sl, subj, (int)n, lit, need.count,
                            need.c ? need.c : '-');
            }
        }
        pcre2_code_free(code);
        pcre2_code_free(lz);
    }
    pcre2_match_data_free(md);
    printf("property: %u regexes compiled (%u also lazily), %u matches, %u without what is "
           "needed, %u lazy answers differing\n",
           compiled, lazy, matched, bad, differ);
    CHECK(compiled > 10000 && matched > 50000 && lazy > 5000);
    CHECK(bad == 0);
    CHECK(differ == 0);
}

int main(void)
{
    cases();
    counts();
    property();
    TEST_MAIN_END();
}
