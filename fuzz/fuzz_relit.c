/* libFuzzer target: what a regex's matches contain (em_re_needs), and
 * whether it may be matched lazily (em_re_lazy_ok), checked against PCRE2.
 * The input is a flags byte (bit 0: caseless), a regex up to the first
 * NUL, and a subject (the rest).  Whenever PCRE2 matches, the ASCII-lower-
 * cased subject must hold the literal and the character as many times as
 * said; a pattern said lazy-safe must match the subject lazily exactly
 * when it does greedily.  Otherwise the target aborts. */
#define _GNU_SOURCE           /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    bool caseless = data[0] & 1;
    const char *re = (const char *)data + 1;
    const char *nul = memchr(re, '\0', size - 1);
    size_t rlen = nul ? (size_t)(nul - re) : size - 1;
    const char *subj = nul ? nul + 1 : re + rlen;
    size_t slen = size - 1 - rlen - (nul != NULL);
    em_re_need need;
    em_re_needs(re, rlen, caseless, &need);
    if (need.len > sizeof(need.lit) || (need.count == 1) || (need.count && !need.c))
        abort();
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile(
        (PCRE2_SPTR)re, rlen, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0),
        &err, &off, NULL);
    if (code == NULL)
        return 0;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, 20000);
    pcre2_set_depth_limit(mc, 2000);
    if (md != NULL && mc != NULL && (need.len > 0 || need.count > 0) &&
        pcre2_match(code, (PCRE2_SPTR)subj, slen, 0, 0, md, mc) >= 0) {
        char *low = malloc(slen ? slen : 1);
        if (low == NULL)
            abort();
        for (size_t i = 0; i < slen; i++)
            low[i] = subj[i] >= 'A' && subj[i] <= 'Z' ? (char)(subj[i] + 32) : subj[i];
        if (need.len > 0 && memmem(low, slen, need.lit, need.len) == NULL)
            abort(); /* a match without the literal */
        uint32_t k = 0;
        for (size_t i = 0; i < slen; i++)
            k += low[i] == need.c;
        if (k < need.count)
            abort(); /* a match with fewer of the character */
        free(low);
    }
    /* a pattern said to need no greed matches the same subjects lazily */
    pcre2_code *lz = md != NULL && mc != NULL && em_re_lazy_ok(re, rlen)
                         ? pcre2_compile((PCRE2_SPTR)re, rlen,
                                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_UNGREEDY |
                                             (caseless ? PCRE2_CASELESS : 0),
                                         &err, &off, NULL)
                         : NULL;
    if (lz != NULL) {
        int a = pcre2_match(code, (PCRE2_SPTR)subj, slen, 0, 0, md, mc);
        int b = pcre2_match(lz, (PCRE2_SPTR)subj, slen, 0, 0, md, mc);
        if (a >= -1 && b >= -1 && (a >= 0) != (b >= 0))
            abort(); /* (a limit hit on either side says nothing) */
        pcre2_code_free(lz);
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return 0;
}
