/* em_re_literal: the literal every match of a regex contains.  Hand-made
 * cases, then a property check against PCRE2 itself: for many generated
 * regexes and subjects, whenever PCRE2 finds a match the literal is in the
 * ASCII-lower-cased subject. */
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
    char out[IG_RE_LITERAL_MAX + 1];
    uint32_t n = em_re_literal(re, strlen(re), caseless, out, IG_RE_LITERAL_MAX);
    out[n] = '\0';
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
    "a",   "b", "k",   "s",   "K",    "S",    "x",     "\\.",      "\\\\", "\\$",
    "\\(", ".", "\\d", "\\s", "[ab]", "[^a]", "(a|b)", "(?:ks|x)", "(?i)", "(?i:k)",
    "^",   "$", "\\b", "|",   "-",    "/",    "{",     "}",        "]",
};
static const char *const quants[] = {"", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,}", "??", "+?"};
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

static void property(void)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    unsigned compiled = 0, matched = 0, bad = 0;
    for (int round = 0; round < 20000; round++) {
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
        char lit[IG_RE_LITERAL_MAX];
        uint32_t n = em_re_literal(re, rl, caseless, lit, sizeof(lit));
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
            if (pcre2_match(code, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL) < 0)
                continue;
            matched++;
            if (!holds(lit, n, subj, sl)) {
                if (bad++ < 5)
                    fprintf(stderr, "/%s/%s matches \"%.*s\" without \"%.*s\"\n", re,
                            caseless ? "i" : "", (int)sl, subj, (int)n, lit);
            }
        }
        pcre2_code_free(code);
    }
    pcre2_match_data_free(md);
    printf("property: %u regexes compiled, %u matches, %u without the literal\n", compiled, matched,
           bad);
    CHECK(compiled > 10000 && matched > 50000);
    CHECK(bad == 0);
}

int main(void)
{
    cases();
    property();
    TEST_MAIN_END();
}
