/* yaml_fast.c against libyaml: hand-made texts (accepted or declined as
 * said, and read as libyaml reads them), every SigmaHQ rule and the
 * built-in pack (argv: folders; most segments accepted, every accepted one
 * read as libyaml reads it), and mutants of those texts (whenever one is
 * accepted, libyaml reads it without error and the same way). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "engine/yaml_fast.h"
#include "test.h"
#include "yaml_ref.h"

typedef struct tally {
    size_t segments, accepted, mutants, mutants_accepted, files;
} tally;

static tally T;

/* yf_read on text; when accepted, the libyaml comparison.  Returns
 * whether it was accepted (-1: accepted but read differently). */
static int check_text(const char *what, const char *text, size_t len)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    yf_events ev;
    int r = 0;
    if (yf_read(text, len, &a, &ev)) {
        char buf[512];
        const char *why = yref_diff(text, len, &ev, buf, sizeof(buf));
        r = 1;
        if (why != NULL) {
            fprintf(stderr, "%s: accepted, but %s\n---\n%.*s\n---\n", what, why,
                    len > 2000 ? 2000 : (int)len, text);
            r = -1;
        }
    }
    ig_arena_destroy(&a);
    return r;
}

#define ACCEPT(text)  CHECK(check_text(#text, text, strlen(text)) == 1)
#define DECLINE(text) CHECK(check_text(#text, text, strlen(text)) == 0)

/* The text of the only scalar whose key is `key` in `text`'s events. */
static void expect_value(const char *text, const char *key, const char *want, bool plain)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    yf_events ev;
    bool ok = yf_read(text, strlen(text), &a, &ev);
    CHECK(ok);
    bool found = false;
    for (size_t i = 0; ok && i + 1 < ev.n; i++)
        if (ev.v[i].kind == YF_SCALAR && ev.v[i].len == strlen(key) &&
            memcmp(ev.v[i].s, key, ev.v[i].len) == 0) {
            char got[256];
            snprintf(got, sizeof(got), "%.*s", (int)ev.v[i + 1].len, ev.v[i + 1].s);
            CHECK_STR(got, want);
            CHECK(ev.v[i + 1].plain == plain);
            found = true;
            break;
        }
    CHECK(found);
    ig_arena_destroy(&a);
}

static void hand_cases(void)
{
    ACCEPT("title: a\nid: b\n");
    ACCEPT("");
    ACCEPT("# only a comment\n\n");
    ACCEPT("---\ntitle: a\n");
    ACCEPT("--- # start\ntitle: a\n");
    ACCEPT("a:\n  b: 1\n  c:\n    - x\n    - 'y'\n    - \"z\"\nd: e\n");
    ACCEPT("a:\n- x\n- y\nb: 1\n");                 /* a sequence at its key's column */
    ACCEPT("a:\n- k: v\n  k2: v2\n- k: w\nb: 1\n"); /* mappings as items */
    ACCEPT("a:\n    - k: v\n      k2:\n        - 1\n    -\n    - x\n");
    ACCEPT("a: \nb:\nc: # none\n");
    ACCEPT("a: x # c\nb: 'y' # c\nc: \"z\"   # c\n");
    ACCEPT("a: C:\\Windows\\x.exe\nb: http://x/y\nc: a#b\nd: -1\ne: not [flow\n");
    ACCEPT("a: 'it''s'\nb: \"q\\\"\\\\\\/\\n\\t\\r\"\n");
    ACCEPT("d: |\n  line 1\n\n    more\n  # not a comment\nnext: x\n");
    ACCEPT("d: |-\n  text\n\n\nn: 1\n");
    ACCEPT("d: |+\n  text\n\n\nn: 1\n");
    ACCEPT("d: |\n  text\n   \n  x\n      \n");
    ACCEPT("d: |\n  no final break");
    ACCEPT("- a\n- b: c\n  d: e\n-   f: g\n");
    ACCEPT("  a: 1\n  b: 2\n");
    ACCEPT("key with spaces : v\nSelection|contains|all:\n  - a\n");
    ACCEPT("a:\n  b: 1\n      # a comment deeper\n  c: 2\n");
    DECLINE("a: b: c\n");
    DECLINE("a: x\n  continued\n");
    DECLINE("a: 'x\n  y'\n");
    DECLINE("a: [1, 2]\n");
    DECLINE("a: {b: 1}\n");
    DECLINE("a: &x 1\nb: *x\n");
    DECLINE("a: !!str 1\n");
    DECLINE("a: >\n  folded\n");
    DECLINE("a: |2\n  x\n");
    DECLINE("a: |\n");
    DECLINE("a: |\nb: 1\n");
    DECLINE("a: |\n\n    \n  x\n"); /* a blank line deeper than the text */
    DECLINE("'a': 1\n");
    DECLINE("? a\n: 1\n");
    DECLINE("%YAML 1.1\n---\na: 1\n");
    DECLINE("a: 1\n...\n");
    DECLINE("a: 1\n---\nb: 2\n");
    DECLINE("---\n");
    DECLINE("--- a: 1\n");
    DECLINE("a:\tb\n");
    DECLINE("a: b\r\n");
    ACCEPT("a: caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80\nb: '\xc3\xa9'\n");
    ACCEPT("a: :x\nb: ?y\n:c: 1\n");
    DECLINE("a: x\xc2\x85y\n");     /* NEL: a line break to libyaml */
    DECLINE("a: x\xe2\x80\xa8y\n"); /* U+2028 too */
    DECLINE("\xef\xbb\xbf"
            "a: 1\n");                /* a byte order mark */
    DECLINE("a: \xc2\x80\n");         /* C1 control */
    DECLINE("a: \xc0\xaf\n");         /* overlong */
    DECLINE("a: \xed\xa0\x80\n");     /* a surrogate */
    DECLINE("a: \xf4\x90\x80\x80\n"); /* past U+10FFFF */
    DECLINE("a: \xc3\n");             /* cut short */
    DECLINE("a: \xff\n");
    DECLINE("a: \"\\x41\"\n");
    DECLINE("a:\n  - x\n  b: 1\n");
    DECLINE("a:\n  b: 1\n - c\n");
    DECLINE("- - a\n");
    DECLINE("a: - b\n");
    DECLINE("just a scalar\n");
    DECLINE("a:\n  text on the next line\n");
    DECLINE("a: 1\n b: 2\n");
    DECLINE("a: @x\n");
    DECLINE("a: 'x'y\n");
    /* decoded values */
    expect_value("a: 'it''s' # c\n", "a", "it's", false);
    expect_value("a: \"t\\tx\\\\\"\n", "a", "t\tx\\", false);
    expect_value("a: plain text   # c\n", "a", "plain text", true);
    expect_value("a:\nb: 1\n", "a", "", true);
    expect_value("d: |\n  one\n\n   two\n\n\nn: 1\n", "d", "one\n\n two\n", false);
    expect_value("d: |-\n  one\n\nn: 1\n", "d", "one", false);
    expect_value("d: |+\n  one\n\n\nn: 1\n", "d", "one\n\n\n", false);
    /* nesting: 32 levels read, deeper declined (libyaml's path reports it) */
    char deep[2048];
    size_t o = 0;
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "%*sk%d:\n", i, "", i);
    o += (size_t)snprintf(deep + o, sizeof(deep) - o, "%*sv: 1\n", 40, "");
    CHECK(check_text("40 levels", deep, o) == 0);
}

/* Splits text at column-0 "---" lines, as sigma_load.c does, and checks
 * each segment. */
static void check_segments(const char *path, const char *text, size_t len, bool mutant)
{
    size_t start = 0;
    for (size_t pos = 0; pos <= len;) {
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        size_t next = nl ? (size_t)(nl - text) + 1 : len + 1;
        bool cut = pos < len && pos > start && len - pos >= 3 &&
                   memcmp(text + pos, "---", 3) == 0 &&
                   (len - pos == 3 || text[pos + 3] == ' ' || text[pos + 3] == '\n' ||
                    text[pos + 3] == '\r' || text[pos + 3] == '\t');
        if (cut || pos >= len) {
            int r = check_text(path, text + start, (pos < len ? pos : len) - start);
            CHECK(r >= 0);
            if (mutant) {
                T.mutants++;
                T.mutants_accepted += r > 0;
            } else {
                T.segments++;
                T.accepted += r > 0;
            }
            start = pos;
        }
        pos = next;
    }
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return n ? (uint32_t)(rng % n) : 0;
}

/* A few edits of text: characters that mean something to YAML put in or
 * taken out, lines repeated or re-indented. */
static size_t mutate(const char *text, size_t len, char *out, size_t cap)
{
    static const char alphabet[] = " -:#'\"|+\n\\{}[]&*!>%@`?,.~ab1";
    if (len + 64 > cap)
        len = cap - 64;
    memcpy(out, text, len);
    for (uint32_t k = 0, ops = 1 + rnd(3); k < ops; k++) {
        size_t at = rnd((uint32_t)len + 1);
        switch (rnd(4)) {
        case 0: /* delete 1-3 bytes */
            if (len > 0) {
                size_t d = 1 + rnd(3);
                if (at + d > len)
                    d = len - at;
                memmove(out + at, out + at + d, len - at - d);
                len -= d;
            }
            break;
        case 1: /* insert a character (or a few bytes of UTF-8, not all valid) */
            if (len + 4 < cap) {
                static const char *multi[] = {"\xc3\xa9", "\xe2\x80\x94", "\xf0\x9f\x98\x80",
                                              "\xc2\x85", "\xe2\x80\xa8", "\xef\xbb\xbf",
                                              "\xc3",     "\xa9",         "\xed\xa0\x80",
                                              "\xc2\xa0"};
                const char *ins = &alphabet[rnd(sizeof(alphabet) - 1)];
                size_t n = 1;
                if (rnd(4) == 0) {
                    ins = multi[rnd(sizeof(multi) / sizeof(*multi))];
                    n = strlen(ins);
                }
                memmove(out + at + n, out + at, len - at);
                memcpy(out + at, ins, n);
                len += n;
            }
            break;
        case 2: { /* re-indent a line by one or two spaces */
            while (at > 0 && out[at - 1] != '\n')
                at--;
            size_t d = 1 + rnd(2);
            if (rnd(2) == 0 && len + d < cap) {
                memmove(out + at + d, out + at, len - at);
                memset(out + at, ' ', d);
                len += d;
            } else {
                size_t s = 0;
                while (s < d && at + s < len && out[at + s] == ' ')
                    s++;
                memmove(out + at, out + at + s, len - at - s);
                len -= s;
            }
            break;
        }
        default: { /* repeat a line */
            while (at > 0 && out[at - 1] != '\n')
                at--;
            size_t e = at;
            while (e < len && out[e] != '\n')
                e++;
            size_t l = e - at + (e < len);
            if (len + l < cap) {
                memmove(out + at + l, out + at, len - at);
                len += l;
            }
            break;
        }
        }
    }
    return len;
}

static int mutants_per_file = 12;

static void check_file(const char *path, const char *text, size_t len)
{
    T.files++;
    check_segments(path, text, len, false);
    static char buf[1 << 17];
    for (int i = 0; i < mutants_per_file && len < sizeof(buf) / 2; i++) {
        size_t n = mutate(text, len, buf, sizeof(buf));
        check_segments(path, buf, n, true);
    }
}

static int on_path(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    size_t n = strlen(path);
    if (flag != FTW_F || n < 4 ||
        (strcmp(path + n - 4, ".yml") != 0 && strcmp(path + n - 5, ".yaml") != 0))
        return 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL || st->st_size > (1 << 20)) {
        if (f)
            fclose(f);
        return 0;
    }
    char *text = malloc((size_t)st->st_size + 1);
    size_t len = text ? fread(text, 1, (size_t)st->st_size, f) : 0;
    fclose(f);
    if (text != NULL)
        check_file(path, text, len);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    hand_cases();
    /* mutants of the hand texts' building blocks, with or without a corpus */
    static const char *seeds[] = {
        "title: a\nlogsource:\n    product: windows\ndetection:\n    sel:\n        "
        "Image|endswith:\n"
        "            - '\\\\a.exe'\n            - b\n    condition: sel # c\n",
        "a:\n- k: v\n  k2: v2\n- 'x'\nb: |\n  t\n\n   u\nc: \"q\\\"\"\n",
        "- a\n-\n  - b\n- c: |-\n    d\n  e: f\n",
    };
    for (size_t i = 0; i < sizeof(seeds) / sizeof(*seeds); i++) {
        int keep = mutants_per_file;
        mutants_per_file = 4000;
        check_file("seed", seeds[i], strlen(seeds[i]));
        mutants_per_file = keep;
    }
    size_t seed_files = T.files;
    for (int i = 1; i < argc; i++)
        if (nftw(argv[i], on_path, 16, FTW_PHYS) != 0)
            fprintf(stderr, "test_yaml_fast: cannot walk %s\n", argv[i]);
    printf("segments: %zu, accepted %zu (%.1f%%); mutants: %zu, accepted %zu\n", T.segments,
           T.accepted, T.segments ? 100.0 * (double)T.accepted / (double)T.segments : 0.0,
           T.mutants, T.mutants_accepted);
    if (T.files > seed_files + 100) /* a rule corpus: nearly all of it the fast way */
        CHECK(T.accepted * 100 >= T.segments * 95);
    else
        printf("test_yaml_fast: no rule corpus given (SigmaHQ rules beside the checkout?): "
               "hand cases and seeds only\n");
    CHECK(T.mutants_accepted > 0);
    TEST_MAIN_END();
}
