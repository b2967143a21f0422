/* Sigma loader (sigma_load.c) and condition parser (condition.c): YAML
 * forms, values, modifiers, conditions, collections, correlations, errors
 * with lines and columns, limits, allocation failures.
 * usage: test_sigma_load [DIR]  — also replays every saved fuzzer input in
 * DIR (fuzz/corpus/fuzz_sigma) through the loader and the condition parser. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "engine/sigma_ast.h"
#include "engine/sigma_limits.h"
#include "test.h"

#define MAXR 8

typedef struct result {
    const sg_rule *rules[MAXR];
    unsigned nrules;
    unsigned elines[MAXR];
    char ereasons[MAXR][512];
    unsigned nerrors;
    unsigned returned;
    ig_arena arena;
} result;

static void on_rule(void *ud, const sg_rule *r)
{
    result *res = ud;
    if (res->nrules < MAXR)
        res->rules[res->nrules] = r;
    res->nrules++;
}

static void on_error(void *ud, const sg_error *e)
{
    result *res = ud;
    if (res->nerrors < MAXR) {
        res->elines[res->nerrors] = e->line;
        snprintf(res->ereasons[res->nerrors], sizeof(res->ereasons[0]), "%s", e->reason);
    }
    res->nerrors++;
}

/* Loads `text`; the result keeps its arena until done(). */
static result *load_n(const char *text, size_t len)
{
    result *res = calloc(1, sizeof(*res));
    if (res == NULL)
        abort();
    ig_arena_init(&res->arena, 0);
    res->returned = sg_load_text("t.yml", text, len, &res->arena, on_rule, on_error, res);
    return res;
}

static result *load(const char *text)
{
    return load_n(text, strlen(text));
}

static void done(result *res)
{
    ig_arena_destroy(&res->arena);
    free(res);
}

/* The reason of a load that must fail with exactly one error. */
static const char *err1(const char *text, unsigned *line)
{
    static char reason[512];
    result *res = load(text);
    snprintf(reason, sizeof(reason), "%s", res->nerrors == 1 ? res->ereasons[0] : "(none)");
    if (res->nerrors != 1 || res->nrules != 0)
        fprintf(stderr, "expected one error and no rule, got %u errors, %u rules\n", res->nerrors,
                res->nrules);
    if (line != NULL)
        *line = res->nerrors == 1 ? res->elines[0] : 0;
    done(res);
    return reason;
}

/* Renders a condition: "(a and (b or not c))", "1 of sel*". */
static void cstr_rec(const sg_cond *c, char *out, size_t cap)
{
    size_t n = strlen(out);
    if (n + 1 >= cap)
        return;
    switch (c->kind) {
    case SG_C_ID: snprintf(out + n, cap - n, "%s", c->name); break;
    case SG_C_ONE_OF: snprintf(out + n, cap - n, "1 of %s", c->name); break;
    case SG_C_ALL_OF: snprintf(out + n, cap - n, "all of %s", c->name); break;
    case SG_C_NOT:
        snprintf(out + n, cap - n, "not ");
        cstr_rec(c->a, out, cap);
        break;
    case SG_C_AND:
    case SG_C_OR:
        snprintf(out + n, cap - n, "(");
        cstr_rec(c->a, out, cap);
        n = strlen(out);
        snprintf(out + n, cap - n, c->kind == SG_C_AND ? " and " : " or ");
        cstr_rec(c->b, out, cap);
        n = strlen(out);
        snprintf(out + n, cap - n, ")");
        break;
    }
}

static const char *cstr(const char *text)
{
    static char out[1024];
    ig_arena a;
    ig_arena_init(&a, 0);
    const char *reason = NULL;
    const sg_cond *c = sg_parse_condition(text, &a, &reason);
    out[0] = '\0';
    if (c != NULL)
        cstr_rec(c, out, sizeof(out));
    else
        snprintf(out, sizeof(out), "ERR %s", reason ? reason : "(null)");
    ig_arena_destroy(&a);
    return out;
}

static unsigned cond_height(const sg_cond *c)
{
    if (c == NULL)
        return 0;
    unsigned a = cond_height(c->a), b = cond_height(c->b);
    return 1 + (a > b ? a : b);
}

#define HDR "title: t\nlogsource:\n    product: windows\n"

/* ------------------------------------------------------------ rules -- */

static void test_basic(void)
{
    result *r = load("title: Whoami Execution\n"
                     "id: 1234\n"
                     "name: whoami\n"
                     "status: test\n"
                     "description: Detects whoami\n"
                     "author: someone\n"
                     "date: 2019-10-23\n"
                     "modified: 2020/01/01\n"
                     "tags:\n    - attack.discovery\n    - attack.t1033\n"
                     "logsource:\n    category: process_creation\n    product: windows\n"
                     "    service: sysmon\n    definition: x\n"
                     "detection:\n"
                     "    selection:\n"
                     "        EventID: 4688\n"
                     "        Image|endswith: '\\whoami.exe'\n"
                     "    condition: selection\n"
                     "fields:\n    - Image\n"
                     "falsepositives: Admins\n"
                     "level: High\n"
                     "custom: [1, 2]\n");
    CHECK(r->returned == 1 && r->nrules == 1 && r->nerrors == 0);
    if (r->nrules == 1) {
        const sg_rule *x = r->rules[0];
        CHECK_STR(x->file, "t.yml");
        CHECK(x->line == 1);
        CHECK_STR(x->title, "Whoami Execution");
        CHECK_STR(x->id, "1234");
        CHECK_STR(x->name, "whoami");
        CHECK_STR(x->status, "test");
        CHECK_STR(x->description, "Detects whoami");
        CHECK_STR(x->author, "someone");
        CHECK_STR(x->date, "2019-10-23");
        CHECK_STR(x->modified, "2020/01/01");
        CHECK(x->level == SG_LEVEL_HIGH);
        CHECK(x->ntags == 2 && strcmp(x->tags[1], "attack.t1033") == 0);
        CHECK(x->nfields == 1 && strcmp(x->fields[0], "Image") == 0);
        CHECK(x->nfalsepositives == 1 && strcmp(x->falsepositives[0], "Admins") == 0);
        CHECK_STR(x->product, "windows");
        CHECK_STR(x->category, "process_creation");
        CHECK_STR(x->service, "sysmon");
        CHECK(x->nsearches == 1 && x->nconds == 1 && x->corr.type == SG_CORR_NONE);
        const sg_search *s = &x->searches[0];
        CHECK_STR(s->name, "selection");
        CHECK(s->line == 18 && s->nmaps == 1 && s->keywords == NULL);
        CHECK(s->maps[0].nitems == 2 && s->maps[0].line == 19);
        const sg_item *it = &s->maps[0].items[0];
        CHECK_STR(it->field, "EventID");
        CHECK(it->nmods == 0 && it->nvals == 1 && it->line == 19);
        CHECK(it->vals[0].kind == SG_V_INT && it->vals[0].i == 4688);
        CHECK_STR(it->vals[0].s, "4688");
        it = &s->maps[0].items[1];
        CHECK_STR(it->field, "Image");
        CHECK(it->nmods == 1 && strcmp(it->mods[0], "endswith") == 0);
        CHECK(it->vals[0].kind == SG_V_STR && it->vals[0].line == 20);
        CHECK_STR(it->vals[0].s, "\\whoami.exe");
        CHECK(x->conds[0]->kind == SG_C_ID && strcmp(x->conds[0]->name, "selection") == 0);
    }
    done(r);
}

static void test_forms(void)
{
    result *r = load(HDR "detection:\n"
                         "    keywords:\n        - 'evil'\n        - 12\n"
                         "    single: lonely\n"
                         "    maps:\n        - Image|endswith: a.exe\n        - Desc|contains: b\n"
                         "    mixed:\n        - A: 1\n        - plainword\n"
                         "    kwall:\n        '|all':\n            - x\n            - y\n"
                         "    mods:\n        CommandLine|contains|all|windash:\n            - "
                         "' -a'\n            - ' -b'\n"
                         "    condition: 1 of them\n");
    CHECK(r->nrules == 1 && r->nerrors == 0);
    if (r->nrules == 1) {
        const sg_rule *x = r->rules[0];
        CHECK(x->nsearches == 6);
        const sg_search *s = &x->searches[0];
        CHECK(s->keywords != NULL && s->nmaps == 0 && s->maps == NULL);
        CHECK(s->keywords->field == NULL && s->keywords->nmods == 0 && s->keywords->nvals == 2);
        CHECK(s->keywords->vals[0].kind == SG_V_STR && s->keywords->vals[1].kind == SG_V_INT);
        s = &x->searches[1];
        CHECK(s->keywords != NULL && s->keywords->nvals == 1);
        CHECK_STR(s->keywords->vals[0].s, "lonely");
        s = &x->searches[2];
        CHECK(s->keywords == NULL && s->nmaps == 2);
        CHECK_STR(s->maps[1].items[0].field, "Desc");
        CHECK_STR(s->maps[1].items[0].mods[0], "contains");
        s = &x->searches[3];
        CHECK(s->nmaps == 2 && s->maps[1].nitems == 1 && s->maps[1].items[0].field == NULL);
        CHECK_STR(s->maps[1].items[0].vals[0].s, "plainword");
        s = &x->searches[4];
        CHECK(s->nmaps == 1 && s->maps[0].items[0].field == NULL);
        CHECK(s->maps[0].items[0].nmods == 1 && s->maps[0].items[0].nvals == 2);
        CHECK_STR(s->maps[0].items[0].mods[0], "all");
        s = &x->searches[5];
        const sg_item *it = &s->maps[0].items[0];
        CHECK_STR(it->field, "CommandLine");
        CHECK(it->nmods == 3 && it->nvals == 2);
        CHECK_STR(it->mods[0], "contains");
        CHECK_STR(it->mods[1], "all");
        CHECK_STR(it->mods[2], "windash");
        CHECK_STR(it->vals[1].s, " -b");
    }
    done(r);

    CHECK_STR(err1(HDR "detection:\n    s:\n        Image|: x\n    condition: s\n", NULL),
              "empty modifier in 'Image|'");
    CHECK_STR(err1(HDR "detection:\n    s:\n        Image||contains: x\n    condition: s\n", NULL),
              "empty modifier in 'Image||contains'");
    CHECK_STR(err1(HDR "detection:\n    s:\n        '|': x\n    condition: s\n", NULL),
              "empty modifier in '|'");
    CHECK_STR(err1(HDR "detection:\n    s:\n        '': x\n    condition: s\n", NULL),
              "empty field name");
    unsigned line = 0;
    CHECK_STR(
        err1(HDR "detection:\n    s:\n        A:\n            - [1, 2]\n    condition: s\n", &line),
        "the values of 'A' must be scalars, found a list inside the list");
    CHECK(line == 7);
    CHECK_STR(
        err1(HDR "detection:\n    s:\n        A:\n            B: 1\n    condition: s\n", NULL),
        "the value of 'A' must be a scalar or a list of scalars, not a mapping");
    CHECK_STR(err1(HDR "detection:\n    s:\n        A: []\n    condition: s\n", NULL),
              "empty list of values for 'A'");
    CHECK_STR(err1(HDR "detection:\n    s:\n        - [a, b]\n    condition: s\n", NULL),
              "search 's': a list inside a list is not allowed");
    CHECK_STR(err1(HDR "detection:\n    s:\n    condition: s\n", NULL), "search 's' is empty");
    CHECK_STR(err1(HDR "detection:\n    s: {}\n    condition: s\n", NULL),
              "search 's' contains an empty mapping");
    CHECK_STR(err1(HDR "detection:\n    s: []\n    condition: s\n", NULL),
              "search 's' is an empty list");
    /* spec "Special Field Values": null is not part of a list */
    CHECK_STR(err1(HDR "detection:\n    s:\n        B:\n            - ''\n            - null\n"
                       "    condition: s\n",
                   &line),
              "null cannot be part of a list of values for 'B'; use a separate search");
    CHECK(line == 8);
    CHECK_STR(err1(HDR "detection:\n    s:\n        A: 1\n        A: 2\n    condition: s\n", &line),
              "duplicate key 'A'");
    CHECK(line == 7);
}

static void test_values(void)
{
    result *r = load(HDR "detection:\n    s:\n"
                         "        a: null\n        b: ~\n        c:\n        d: ''\n"
                         "        e: 4688\n        f: '4688'\n        g: \"4688\"\n"
                         "        h: -12\n        i: 0x17\n        j: 0o17\n        k: 1.5\n"
                         "        l: 1e3\n        m: true\n        n: False\n        o: 'true'\n"
                         "        p: yes\n        q: 99999999999999999999\n        r: |\n"
                         "            block\n        s2: !!str 12\n        t: 007\n"
                         "        u: \"a\\0b\"\n        v: .inf\n        w: 12abc\n"
                         "        x: -9223372036854775808\n"
                         "    condition: s\n");
    CHECK(r->nrules == 1 && r->nerrors == 0);
    if (r->nrules == 1) {
        const sg_item *it = r->rules[0]->searches[0].maps[0].items;
        CHECK(r->rules[0]->searches[0].maps[0].nitems == 24);
        CHECK(it[0].vals[0].kind == SG_V_NULL && it[0].vals[0].len == 0);
        CHECK_STR(it[0].vals[0].s, "");
        CHECK(it[1].vals[0].kind == SG_V_NULL);
        CHECK(it[2].vals[0].kind == SG_V_NULL);
        CHECK(it[3].vals[0].kind == SG_V_STR && it[3].vals[0].len == 0);
        CHECK(it[4].vals[0].kind == SG_V_INT && it[4].vals[0].i == 4688);
        CHECK(it[5].vals[0].kind == SG_V_STR);
        CHECK(it[6].vals[0].kind == SG_V_STR);
        CHECK(it[7].vals[0].kind == SG_V_INT && it[7].vals[0].i == -12);
        CHECK(it[8].vals[0].kind == SG_V_INT && it[8].vals[0].i == 0x17);
        CHECK_STR(it[8].vals[0].s, "0x17");
        CHECK(it[9].vals[0].kind == SG_V_INT && it[9].vals[0].i == 15);
        CHECK(it[10].vals[0].kind == SG_V_NUM);
        CHECK_STR(it[10].vals[0].s, "1.5");
        CHECK(it[11].vals[0].kind == SG_V_NUM);
        CHECK(it[12].vals[0].kind == SG_V_BOOL && it[12].vals[0].b);
        CHECK(it[13].vals[0].kind == SG_V_BOOL && !it[13].vals[0].b);
        CHECK(it[14].vals[0].kind == SG_V_STR);
        CHECK(it[15].vals[0].kind == SG_V_STR); /* YAML 1.2: yes is a string */
        CHECK(it[16].vals[0].kind == SG_V_NUM);
        CHECK(it[17].vals[0].kind == SG_V_STR);
        CHECK_STR(it[17].vals[0].s, "block\n");
        CHECK(it[18].vals[0].kind == SG_V_STR);
        CHECK(it[19].vals[0].kind == SG_V_INT && it[19].vals[0].i == 7);
        CHECK(it[20].vals[0].kind == SG_V_STR && it[20].vals[0].len == 3);
        CHECK(memcmp(it[20].vals[0].s, "a\0b", 4) == 0);
        CHECK(it[21].vals[0].kind == SG_V_NUM);
        CHECK(it[22].vals[0].kind == SG_V_STR);
        CHECK(it[23].vals[0].kind == SG_V_INT && it[23].vals[0].i == INT64_MIN);
    }
    done(r);
    CHECK_STR(err1(HDR "detection:\n    s:\n        \"A\\0B\": x\n    condition: s\n", NULL),
              "key 'A?B' contains a NUL character");
}

static void test_metadata_errors(void)
{
    unsigned line = 0;
    CHECK_STR(err1("logsource: {}\ndetection:\n    s: x\n    condition: s\n", &line),
              "missing title");
    CHECK(line == 1);
    CHECK_STR(err1("title: ''\nlogsource: {}\ndetection:\n    s: x\n    condition: s\n", NULL),
              "title is empty");
    CHECK_STR(err1("title: t\ndetection:\n    s: x\n    condition: s\n", NULL),
              "missing logsource");
    CHECK_STR(err1("title: t\nlogsource: x\ndetection:\n    s: x\n    condition: s\n", NULL),
              "logsource must be a mapping, not a scalar");
    CHECK_STR(err1("title: t\nlogsource: {}\n", NULL), "missing detection (or correlation)");
    CHECK_STR(err1(HDR "detection:\n    s: x\n", &line), "detection: missing condition");
    CHECK(line == 4);
    CHECK_STR(err1(HDR "detection:\n    condition: s\n", NULL), "detection: no search identifier");
    CHECK_STR(err1(HDR "detection: [a]\n", NULL), "detection must be a mapping, not a list");
    CHECK_STR(err1(HDR "level: severe\ndetection:\n    s: x\n    condition: s\n", &line),
              "level 'severe' is not one of informational, low, medium, high, critical");
    CHECK(line == 4);
    CHECK_STR(err1(HDR "status: beta\ndetection:\n    s: x\n    condition: s\n", NULL),
              "status 'beta' is not one of stable, test, experimental, deprecated, unsupported");
    CHECK_STR(err1(HDR "author: [a]\ndetection:\n    s: x\n    condition: s\n", NULL),
              "'author' must be a string, not a list");
    CHECK_STR(err1(HDR "tags: {a: b}\ndetection:\n    s: x\n    condition: s\n", NULL),
              "'tags' must be a list of strings, not a mapping");
    CHECK_STR(err1("title: t\nfilter:\n    rules: [a]\n", NULL),
              "Sigma filters (a 'filter' section) are not supported");
    CHECK_STR(err1("- a\n- b\n", NULL), "document is a list, not a mapping");
    CHECK_STR(err1(HDR "detection:\n    s: x\n    condition: s\n    timeframe: 5q\n", NULL),
              "detection: timeframe '5q' is not a number followed by s, m, h, d or w");
    result *r = load(HDR "detection:\n    s: x\n    condition: s\n    timeframe: 5m\n");
    CHECK(r->nrules == 1 && r->rules[0]->timeframe_ms == 300000u);
    done(r);
    /* empty documents and comments only: nothing, silently */
    r = load("# nothing\n---\n---\n...\n");
    CHECK(r->nrules == 0 && r->nerrors == 0 && r->returned == 0);
    done(r);
    r = load("");
    CHECK(r->nrules == 0 && r->nerrors == 0);
    done(r);
}

/* ------------------------------------------------------- conditions -- */

static void test_conditions(void)
{
    CHECK_STR(cstr("a"), "a");
    CHECK_STR(cstr("a or b and c"), "(a or (b and c))");
    CHECK_STR(cstr("a and b or c"), "((a and b) or c)");
    CHECK_STR(cstr("not a and b"), "(not a and b)");
    CHECK_STR(cstr("not (a and b)"), "not (a and b)");
    CHECK_STR(cstr("(a or b) and c"), "((a or b) and c)");
    CHECK_STR(cstr("a AND NOT b Or c"), "((a and not b) or c)");
    CHECK_STR(cstr("a or b or c"), "(a or (b or c))");
    CHECK_STR(cstr("1 of selection* and not 1 of filter*"),
              "(1 of selection* and not 1 of filter*)");
    CHECK_STR(cstr("all of them"), "all of them");
    CHECK_STR(cstr("1 OF THEM"), "1 of them");
    CHECK_STR(cstr("ALL of sel_*_x"), "all of sel_*_x");
    CHECK_STR(cstr("not 1 of filter_*"), "not 1 of filter_*");
    CHECK_STR(cstr("sel.a-b_1 and all"), "(sel.a-b_1 and all)");
    CHECK_STR(cstr("selection_parent and\n(\n    1 of selection_generic_*\n)\n"),
              "(selection_parent and 1 of selection_generic_*)");
    CHECK_STR(cstr("((a))"), "a");
    /* errors, with 1-based columns */
    CHECK_STR(cstr("(a or b"), "ERR unbalanced parenthesis at column 1");
    CHECK_STR(cstr("a and (b or (c)"), "ERR unbalanced parenthesis at column 7");
    CHECK_STR(cstr("a or b)"), "ERR unbalanced parenthesis at column 7");
    CHECK_STR(cstr("or a"), "ERR unexpected 'or' at column 1");
    CHECK_STR(cstr("a and or b"), "ERR unexpected 'or' at column 7");
    CHECK_STR(cstr("a b"), "ERR unexpected 'b' at column 3");
    CHECK_STR(cstr("a and"),
              "ERR expected a search identifier after 'and' at column 6 (end of condition)");
    CHECK_STR(cstr("1 of"), "ERR expected a search identifier after 'of' at column 5");
    CHECK_STR(cstr("1 of and"), "ERR expected a search identifier after 'of' at column 6");
    CHECK_STR(cstr("any of sel*"), "ERR 'any of' at column 1 is not Sigma; use '1 of'");
    CHECK_STR(cstr("x and 2 of sel*"),
              "ERR '2 of' at column 7 is not supported; use '1 of' or 'all of'");
    CHECK_STR(cstr("sel*"),
              "ERR wildcard in 'sel*' at column 1 is only allowed after '1 of' or 'all of'");
    CHECK_STR(cstr("them"), "ERR 'them' at column 1 is only allowed after '1 of' or 'all of'");
    CHECK_STR(cstr("sel | count() > 5"),
              "ERR aggregation ('|' at column 5) is not supported in a condition; use a "
              "correlation rule");
    CHECK_STR(cstr("a = b"), "ERR invalid character '=' at column 3");
    CHECK_STR(cstr(""), "ERR condition is empty");
    CHECK_STR(cstr("   "), "ERR condition is empty");
    CHECK_STR(cstr("()"), "ERR unbalanced parenthesis at column 2");
    CHECK_STR(cstr("not"),
              "ERR expected a search identifier after 'not' at column 4 (end of condition)");

    /* depth and size limits */
    char buf[20000];
    size_t n = 0;
    for (unsigned i = 0; i < 100; i++)
        buf[n++] = '(';
    buf[n++] = 'a';
    for (unsigned i = 0; i < 100; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    CHECK(strncmp(cstr(buf), "ERR condition is nested too deeply", 34) == 0);
    n = 0;
    for (unsigned i = 0; i < 100; i++) {
        memcpy(buf + n, "not ", 4);
        n += 4;
    }
    buf[n++] = 'a';
    buf[n] = '\0';
    CHECK(strncmp(cstr(buf), "ERR condition is nested too deeply", 34) == 0);
    /* a long chain is balanced: 2000 operands, depth ~12 */
    n = 0;
    for (unsigned i = 0; i < 2000; i++) {
        memcpy(buf + n, i ? " or a" : "a", i ? 5 : 1);
        n += i ? 5 : 1;
    }
    buf[n] = '\0';
    ig_arena a;
    ig_arena_init(&a, 0);
    const char *reason = NULL;
    const sg_cond *c = sg_parse_condition(buf, &a, &reason);
    CHECK(c != NULL && cond_height(c) <= 13);
    ig_arena_destroy(&a);
    n = 0;
    for (unsigned i = 0; i < 3000; i++) {
        memcpy(buf + n, i ? " or a" : "a", i ? 5 : 1);
        n += i ? 5 : 1;
    }
    buf[n] = '\0';
    CHECK_STR(cstr(buf), "ERR condition is too complex (more than 4096 terms)");
    char *big = malloc(IG_MAX_SIGMA_COND_LEN + 2);
    if (big != NULL) {
        memset(big, 'a', IG_MAX_SIGMA_COND_LEN + 1);
        big[IG_MAX_SIGMA_COND_LEN + 1] = '\0';
        CHECK_STR(cstr(big), "ERR condition is longer than 65536 bytes");
        free(big);
    }
    ig_arena_init(&a, 0);
    CHECK(sg_parse_condition(NULL, &a, &reason) == NULL && reason != NULL);
    ig_arena_destroy(&a);
}

static void test_rule_conditions(void)
{
    result *r = load(HDR "detection:\n    sel1: a\n    sel2: b\n    _x: c\n"
                         "    condition:\n        - sel1\n        - 1 of sel* and not _x\n");
    CHECK(r->nrules == 1 && r->nerrors == 0);
    if (r->nrules == 1)
        CHECK(r->rules[0]->nconds == 2 && r->rules[0]->conds[1]->kind == SG_C_AND);
    done(r);
    unsigned line = 0;
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition: sel1 or sel2\n", &line),
              "condition refers to unknown search 'sel2'");
    CHECK(line == 6);
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition: 1 of filter*\n", NULL),
              "condition pattern 'filter*' matches no search");
    CHECK_STR(err1(HDR "detection:\n    _sel1: a\n    condition: all of them\n", NULL),
              "condition pattern 'them' matches no search");
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition: sel1 or\n", &line),
              "condition: expected a search identifier after 'or' at column 8 (end of "
              "condition)");
    CHECK(line == 6);
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition:\n        - sel1\n        - "
                       "(sel1\n",
                   &line),
              "condition: unbalanced parenthesis at column 1");
    CHECK(line == 8);
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition: {a: b}\n", NULL),
              "detection: condition must be a string or a list of strings");
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition: []\n", NULL),
              "detection: condition is an empty list");
    CHECK_STR(err1(HDR "detection:\n    sel1: a\n    condition:\n", NULL),
              "detection: condition is empty");
}

/* ------------------------------------------------------ collections -- */

static void test_collections(void)
{
    result *r = load("action: global\n"
                     "title: Global title\n"
                     "logsource:\n    product: windows\n"
                     "detection:\n    filter:\n        User: SYSTEM\n"
                     "    condition: selection and not filter\n"
                     "level: high\n"
                     "---\n"
                     "logsource:\n    category: process_creation\n"
                     "detection:\n    selection:\n        Image: a.exe\n"
                     "---\n"
                     "title: Second\n"
                     "logsource:\n    service: security\n"
                     "detection:\n    selection:\n        EventID: 4688\n"
                     "---\n"
                     "action: repeat\n"
                     "title: Third\n"
                     "detection:\n    selection:\n        EventID: 4689\n"
                     "---\n"
                     "action: reset\n"
                     "---\n"
                     "title: Alone\n"
                     "detection:\n    s: x\n    condition: s\n");
    CHECK(r->nrules == 3 && r->nerrors == 1);
    if (r->nrules == 3 && r->nerrors == 1) {
        const sg_rule *a = r->rules[0], *b = r->rules[1], *c = r->rules[2];
        CHECK_STR(a->title, "Global title");
        CHECK(a->line == 11);
        CHECK_STR(a->product, "windows");
        CHECK_STR(a->category, "process_creation");
        CHECK(a->level == SG_LEVEL_HIGH && a->nsearches == 2);
        CHECK_STR(a->searches[0].name, "filter");
        CHECK_STR(a->searches[1].name, "selection");
        CHECK_STR(b->title, "Second");
        CHECK_STR(b->service, "security");
        CHECK_STR(b->product, "windows");
        CHECK(b->searches[1].maps[0].items[0].vals[0].i == 4688);
        /* repeat: the previous rule (Second) updated */
        CHECK_STR(c->title, "Third");
        CHECK_STR(c->service, "security");
        CHECK(c->searches[1].maps[0].items[0].vals[0].i == 4689);
        CHECK(c->line == 24);
        /* after reset: no logsource any more */
        CHECK_STR(r->ereasons[0], "missing logsource");
        CHECK(r->elines[0] == 32);
    }
    done(r);
    CHECK_STR(err1("action: repeat\ntitle: x\n", NULL),
              "action 'repeat' needs a previous rule in the file");
    CHECK_STR(err1("action: copy\ntitle: x\n", NULL),
              "action 'copy' is not one of global, reset, repeat");
    /* a global document alone delivers nothing */
    r = load("action: global\ntitle: x\n");
    CHECK(r->nrules == 0 && r->nerrors == 0);
    done(r);
    /* globals accumulate (deep update) */
    r = load("action: global\nlogsource:\n    product: windows\n---\naction: global\n"
             "logsource:\n    service: system\n---\ntitle: t\ndetection:\n    s: x\n"
             "    condition: s\n");
    CHECK(r->nrules == 1 && r->nerrors == 0);
    if (r->nrules == 1) {
        CHECK_STR(r->rules[0]->product, "windows");
        CHECK_STR(r->rules[0]->service, "system");
    }
    done(r);
}

/* ----------------------------------------------------- correlations -- */

static void test_correlations(void)
{
    result *r = load("title: Many failed logins\n"
                     "id: 0e95725d-7320-415d-80f7-004da920fc11\n"
                     "correlation:\n    type: event_count\n    rules:\n        - failed_login\n"
                     "    group-by:\n        - ComputerName\n        - User\n"
                     "    timespan: 1h\n    condition:\n        gte: 100\n"
                     "level: high\n"
                     "---\n"
                     "title: vc\ncorrelation:\n    type: value_count\n    rules: r1\n"
                     "    timespan: 30s\n    condition:\n        field: User\n        gt: 100\n"
                     "        lte: 200\n"
                     "generate: true\n"
                     "---\n"
                     "title: temporal\ncorrelation:\n    type: temporal\n    rules: [a, b, c]\n"
                     "    group-by: [User]\n    timespan: 5m\n"
                     "    aliases:\n        ip:\n            a: source.ip\n"
                     "            b: destination.ip\n"
                     "---\n"
                     "title: ordered\ncorrelation:\n    type: temporal_ordered\n"
                     "    rules: [a, b]\n    timespan: 2d\n    condition:\n        neq: 1\n"
                     "    generate: false\n"
                     "---\n"
                     "title: weekly\ncorrelation:\n    type: event_count\n    rules: [a]\n"
                     "    timespan: 1w\n    condition: {eq: 0}\n");
    CHECK(r->nrules == 5 && r->nerrors == 0);
    if (r->nrules == 5) {
        const sg_correlation *k = &r->rules[0]->corr;
        CHECK(k->type == SG_CORR_EVENT_COUNT && k->nrules == 1 && k->ngroup_by == 2);
        CHECK_STR(k->rules[0], "failed_login");
        CHECK_STR(k->group_by[1], "User");
        CHECK(k->timespan_ms == 3600000u && k->cmp == SG_CMP_GTE && k->threshold == 100);
        CHECK(k->cmp2 == SG_CMP_NONE && !k->generate);
        CHECK(r->rules[0]->nsearches == 0 && r->rules[0]->level == SG_LEVEL_HIGH);
        k = &r->rules[1]->corr;
        CHECK(k->type == SG_CORR_VALUE_COUNT && k->nrules == 1 && k->timespan_ms == 30000u);
        CHECK_STR(k->field, "User");
        CHECK(k->cmp == SG_CMP_GT && k->threshold == 100);
        CHECK(k->cmp2 == SG_CMP_LTE && k->threshold2 == 200 && k->generate);
        k = &r->rules[2]->corr;
        CHECK(k->type == SG_CORR_TEMPORAL && k->nrules == 3 && k->timespan_ms == 300000u);
        CHECK(k->cmp == SG_CMP_NONE && k->naliases == 1 && k->aliases[0].nmaps == 2);
        CHECK_STR(k->aliases[0].name, "ip");
        CHECK_STR(k->aliases[0].maps[1].rule, "b");
        CHECK_STR(k->aliases[0].maps[1].field, "destination.ip");
        k = &r->rules[3]->corr;
        CHECK(k->type == SG_CORR_TEMPORAL_ORDERED && k->timespan_ms == 2u * 86400000u);
        CHECK(k->cmp == SG_CMP_NEQ && k->threshold == 1 && !k->generate);
        k = &r->rules[4]->corr;
        CHECK(k->timespan_ms == 7u * 86400000u && k->cmp == SG_CMP_EQ && k->threshold == 0);
    }
    done(r);
#define CORR(body) "title: c\ncorrelation:\n" body
    CHECK_STR(err1(CORR("    rules: [a]\n    timespan: 1h\n"), NULL), "correlation: missing type");
    CHECK_STR(err1(CORR("    type: value_sum\n    rules: [a]\n    timespan: 1h\n"), NULL),
              "correlation type 'value_sum' is not supported (supported: event_count, "
              "value_count, temporal, temporal_ordered, absent)");
    CHECK_STR(err1(CORR("    type: count\n    rules: [a]\n    timespan: 1h\n"), NULL),
              "correlation type 'count' is not one of event_count, value_count, temporal, "
              "temporal_ordered, absent");
    CHECK_STR(err1(CORR("    type: temporal\n    timespan: 1h\n"), NULL),
              "correlation: missing rules");
    CHECK_STR(err1(CORR("    type: temporal\n    rules: []\n    timespan: 1h\n"), NULL),
              "correlation: rules is empty");
    CHECK_STR(err1(CORR("    type: temporal\n    rules: [a]\n"), NULL),
              "correlation: missing timespan");
    const char *bad[] = {"5x", "0s", "s", "10", "-5m", "1H", "99999999999999999999d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256], want[256];
        snprintf(text, sizeof(text), CORR("    type: temporal\n    rules: [a]\n    timespan: %s\n"),
                 bad[i]);
        snprintf(want, sizeof(want),
                 "correlation: timespan '%s' is not a number followed by s, m, h, d or w", bad[i]);
        CHECK_STR(err1(text, NULL), want);
    }
    CHECK_STR(err1(CORR("    type: event_count\n    rules: [a]\n    timespan: 1h\n"), NULL),
              "correlation: event_count needs a condition such as 'gte: 10'");
    CHECK_STR(err1(CORR("    type: value_count\n    rules: [a]\n    timespan: 1h\n"
                        "    condition:\n        gte: 3\n"),
                   NULL),
              "correlation: value_count needs a 'field' in its condition");
    CHECK_STR(err1(CORR("    type: event_count\n    rules: [a]\n    timespan: 1h\n"
                        "    condition:\n        gte: -3\n"),
                   NULL),
              "correlation: condition 'gte' must be a non-negative integer");
    CHECK_STR(err1(CORR("    type: event_count\n    rules: [a]\n    timespan: 1h\n"
                        "    condition:\n        over: 3\n"),
                   NULL),
              "correlation: condition 'over' is not one of gt, gte, lt, lte, eq, neq, field");
    CHECK_STR(err1(CORR("    type: event_count\n    rules: [a]\n    timespan: 1h\n"
                        "    condition:\n        gt: 1\n        lt: 9\n        neq: 5\n"),
                   NULL),
              "correlation: condition has more than two comparisons");
    CHECK_STR(err1(CORR("    type: temporal\n    rules: [a]\n    timespan: 1h\n"
                        "    aliases:\n        ip: x\n"),
                   NULL),
              "correlation: alias 'ip' must map rule names to field names");
    CHECK_STR(err1(CORR("    type: temporal\n    rules: [a]\n    timespan: 1h\n"
                        "generate: maybe\n"),
                   NULL),
              "'generate' must be true or false");
    CHECK_STR(err1(CORR("    type: temporal\n    rules: [a]\n    timespan: 1h\n"
                        "detection:\n    s: x\n    condition: s\n"),
                   NULL),
              "a rule cannot have both 'detection' and 'correlation'");
#undef CORR
}

/* ------------------------------------------------- malformed YAML -- */

static void test_malformed(void)
{
    /* a syntax error costs its own document only */
    result *r = load(HDR "detection:\n    s: x\n    condition: s\n"
                         "---\n" HDR "detection:\n    s: 'unclosed\n    condition: s\n"
                         "---\n" HDR "detection:\n  s: x\n    condition: s\n"
                         "---\n" HDR "detection:\n    s: x\n    condition: s\n");
    CHECK(r->nrules == 2 && r->nerrors == 2 && r->returned == 2);
    if (r->nerrors == 2) {
        CHECK(strncmp(r->ereasons[0], "YAML: ", 6) == 0);
        CHECK(r->elines[0] >= 12 && r->elines[0] <= 14);
        CHECK(strstr(r->ereasons[1], "mapping values are not allowed") != NULL ||
              strstr(r->ereasons[1], "did not find expected key") != NULL);
        CHECK(r->elines[1] == 20);
    }
    if (r->nrules == 2)
        CHECK(r->rules[1]->line == 22);
    done(r);
    /* invalid UTF-8 in the second document */
    r = load(HDR "detection:\n    s: x\n    condition: s\n---\n" HDR
                 "detection:\n    s: \"\xff\xfe\"\n    condition: s\n---\n" HDR
                 "detection:\n    s: x\n    condition: s\n");
    CHECK(r->nrules == 2 && r->nerrors == 1);
    if (r->nerrors == 1) {
        CHECK(r->elines[0] == 12);
        CHECK(strstr(r->ereasons[0], "UTF-8") != NULL);
    }
    done(r);
    /* CRLF line ends and a BOM */
    r = load("\xef\xbb\xbftitle: t\r\nlogsource: {}\r\ndetection:\r\n    s: x\r\n"
             "    condition: s or t\r\n");
    CHECK(r->nerrors == 1 && r->elines[0] == 5);
    done(r);
    /* tabs are not indentation */
    unsigned line = 0;
    const char *e = err1("title: t\n\tlogsource: {}\n", &line);
    CHECK(strncmp(e, "YAML: ", 6) == 0 && line == 2);
    /* unknown alias, aliases that work */
    CHECK_STR(err1("title: *nope\n", NULL), "unknown YAML alias '*nope'");
    r = load("title: &t Shared\nlogsource: {}\ndetection:\n    a: &v [x, y]\n    b: *v\n"
             "    condition: a and b\nname: *t\n");
    CHECK(r->nrules == 1 && r->nerrors == 0);
    if (r->nrules == 1) {
        CHECK_STR(r->rules[0]->name, "Shared");
        CHECK(r->rules[0]->searches[1].keywords->nvals == 2);
    }
    done(r);
    CHECK(strncmp(err1("title: [\n", NULL), "YAML: ", 6) == 0);
    CHECK(strncmp(err1("{a: 1}: b\n", NULL), "a mapping key must be a scalar", 30) == 0);
    /* %directives stay with their document */
    r = load(HDR "detection:\n    s: x\n    condition: s\n...\n%YAML 1.1\n---\n" HDR
                 "detection:\n    s: x\n    condition: s\n");
    CHECK(r->nrules == 2 && r->nerrors == 0);
    done(r);
    /* UTF-16 (with BOM) is decoded by libyaml */
    const char *u8 = HDR "detection:\n    s: x\n    condition: s\n";
    size_t n8 = strlen(u8);
    char *u16 = malloc(2 + 2 * n8);
    if (u16 != NULL) {
        u16[0] = (char)0xFF;
        u16[1] = (char)0xFE;
        for (size_t i = 0; i < n8; i++) {
            u16[2 + 2 * i] = u8[i];
            u16[3 + 2 * i] = 0;
        }
        r = load_n(u16, 2 + 2 * n8);
        CHECK(r->nrules == 1 && r->nerrors == 0);
        done(r);
        free(u16);
    }
    /* not NUL-terminated input */
    char exact[64];
    memcpy(exact, "title: t", 8);
    memset(exact + 8, 'x', sizeof(exact) - 8);
    r = load_n(exact, 8);
    CHECK(r->nerrors == 1 && strcmp(r->ereasons[0], "missing logsource") != 0);
    done(r);
}

/* ----------------------------------------------------------- limits -- */

static char *repeat_str(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    if (s == NULL)
        abort();
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + n * ul, tail, tl + 1);
    return s;
}

static void test_limits(void)
{
    unsigned line = 0;
    char *s = repeat_str("title: ", "[", 40, "");
    CHECK_STR(err1(s, &line), "YAML nesting is deeper than 32");
    CHECK(line == 1);
    free(s);
    /* billion laughs */
    const char *laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                         "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    CHECK_STR(err1(laughs, &line), "document has more than 100000 YAML nodes");
    CHECK(line == 5);
    /* keys per mapping */
    char *keys = malloc(IG_MAX_SIGMA_MAP_KEYS * 16 + 64);
    if (keys != NULL) {
        size_t n = 0;
        for (unsigned i = 0; i <= IG_MAX_SIGMA_MAP_KEYS; i++)
            n += (size_t)snprintf(keys + n, 16, "k%u: v\n", i);
        CHECK_STR(err1(keys, &line), "mapping has more than 512 keys");
        CHECK(line == IG_MAX_SIGMA_MAP_KEYS + 1);
        free(keys);
    }
    /* anchors */
    s = repeat_str("- ", "&a x, ", IG_MAX_SIGMA_ANCHORS + 1, "");
    s[0] = '[';
    char *t = repeat_str(s, "", 0, "y]\n");
    CHECK_STR(err1(t, NULL), "document defines more than 256 YAML anchors");
    free(s);
    free(t);
    /* a long scalar */
    s = repeat_str("title: ", "a", IG_MAX_SIGMA_STRING + 1, "\n");
    CHECK_STR(err1(s, NULL), "scalar is longer than 262144 bytes");
    free(s);
    /* documents per file: the rest is ignored */
    s = repeat_str("", "---\nx: 1\n", IG_MAX_SIGMA_DOCUMENTS + 5, "");
    result *r = load(s);
    /* every document is a mapping without title: one error each, plus one */
    CHECK(r->nrules == 0 && r->nerrors == IG_MAX_SIGMA_DOCUMENTS + 1);
    done(r);
    free(s);
    /* the whole file */
    s = malloc(IG_MAX_SIGMA_FILE_BYTES + 1);
    if (s != NULL) {
        memset(s, '#', IG_MAX_SIGMA_FILE_BYTES + 1);
        r = load_n(s, IG_MAX_SIGMA_FILE_BYTES + 1);
        CHECK(r->nerrors == 1 && strcmp(r->ereasons[0], "file is larger than 4194304 bytes") == 0);
        done(r);
        free(s);
    }
    /* names, condition lists, resolution work */
    char name[IG_MAX_SIGMA_NAME + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    char text[1024];
    snprintf(text, sizeof(text), HDR "detection:\n    %s: x\n    condition: x\n", name);
    CHECK(strstr(err1(text, NULL), "is longer than 256 bytes") != NULL);
    snprintf(text, sizeof(text), "x or %s", name);
    CHECK_STR(cstr(text), "ERR identifier at column 6 is longer than 256 bytes");
    s = repeat_str(HDR "detection:\n    s: x\n    condition:\n", "        - s\n",
                   IG_MAX_SIGMA_CONDITIONS + 1, "");
    CHECK_STR(err1(s, NULL), "detection: more than 64 conditions");
    free(s);
    {
        /* 511 searches "a…a" and one "a…ab"; each "1 of *a{128}b" backtracks
         * ~9k steps per name, ~5M per pattern */
        size_t cap = 600u * 300u + 4096u, n = 0;
        char *big = malloc(cap);
        if (big != NULL) {
            n += (size_t)snprintf(big + n, cap - n, HDR "detection:\n");
            for (unsigned i = 0; i < 510; i++)
                n += (size_t)snprintf(big + n, cap - n, "    %03u%.200s: x\n", i,
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
            n += (size_t)snprintf(
                big + n, cap - n, "    zz%.200sb: x\n    condition: ",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
            for (unsigned i = 0; i < 8; i++)
                n += (size_t)snprintf(
                    big + n, cap - n, "%s1 of *%.128sb", i ? " or " : "",
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
            n += (size_t)snprintf(big + n, cap - n, "\n");
            CHECK_STR(err1(big, NULL), "condition is too costly to resolve against 511 searches");
            free(big);
        }
    }
    /* NULL and empty arguments */
    ig_arena a;
    ig_arena_init(&a, 0);
    CHECK(sg_load_text(NULL, NULL, 0, &a, NULL, NULL, NULL) == 0);
    CHECK(sg_load_text("x", "title: t", 8, NULL, NULL, NULL, NULL) == 0);
    CHECK(sg_load_text("x", HDR "detection:\n    s: x\n    condition: s\n",
                       strlen(HDR "detection:\n    s: x\n    condition: s\n"), &a, NULL, NULL,
                       NULL) == 1);
    ig_arena_destroy(&a);
}

/* Every allocation failure point: no crash, no leak (asan), and the loader
 * either delivers or reports. */
static void test_alloc_failures(void)
{
    const char *text = "action: global\nlogsource:\n    product: windows\n---\n"
                       "title: t\nlevel: low\ntags: [a.b]\n"
                       "detection:\n    s:\n        A|contains: [x, y]\n    k: [a, b]\n"
                       "    condition: s and not k\n---\n"
                       "title: c\ncorrelation:\n    type: temporal\n    rules: [a]\n"
                       "    timespan: 1h\n    aliases:\n        ip:\n            a: b\n";
    unsigned ok = 0;
    for (long n = 0; n < 400; n++) {
        ig_alloc_fail_after(n);
        result res;
        memset(&res, 0, sizeof(res));
        ig_arena_init(&res.arena, 0);
        res.returned =
            sg_load_text("t.yml", text, strlen(text), &res.arena, on_rule, on_error, &res);
        ig_alloc_fail_after(-1);
        ig_arena_destroy(&res.arena);
        if (res.nrules == 2 && res.nerrors == 0)
            ok++;
        else
            CHECK(res.nerrors >= 1 || res.nrules + res.nerrors < 2);
    }
    CHECK(ok > 0);
}

/* Replays the saved fuzzer inputs (crashers and hangs once found). */
static void fuzz_file(void *ud, const char *path, char *buf, size_t len)
{
    (void)ud, (void)path;
    result *r = load_n(buf, len);
    CHECK(r->returned == r->nrules);
    done(r);
    ig_arena a;
    ig_arena_init(&a, 0);
    const char *reason = NULL;
    CHECK(sg_parse_condition(buf, &a, &reason) != NULL || reason != NULL);
    ig_arena_destroy(&a);
}

static void test_fuzz_corpus(const char *dir)
{
    int n = test_each_file(dir, fuzz_file, NULL);
    if (n >= 0)
        printf("replayed %d saved fuzzer inputs\n", n);
}

int main(int argc, char **argv)
{
    test_basic();
    test_forms();
    test_values();
    test_metadata_errors();
    test_conditions();
    test_rule_conditions();
    test_collections();
    test_correlations();
    test_malformed();
    test_limits();
    test_alloc_failures();
    if (argc > 1)
        test_fuzz_corpus(argv[1]);
    TEST_MAIN_END();
}
