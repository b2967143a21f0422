/* Rule tests: events marked "_expect": "match" | "nomatch", run through a
 * rule set; the rule under test must alert on (or, for a correlation, list)
 * exactly the "match" events.  The built-in pack carries its own tests
 * (tests/rules/<rule file name>.jsonl), embedded like the rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "engine/engine.h"
#include "event/event.h"
#include "formats/jsonl/jsonl.h"
#include "iisguard/rules.h"

extern const struct ig_embedded_file {
    const char *name;
    const char *text;
    size_t len;
} ig_builtin_rule_tests[];

/* Hits per test line (1-based; lines are numbered in the text). */
typedef struct hits {
    const char *rule_id;
    bool *hit;
    size_t n;
} hits;

static void on_alert(void *ud, const ig_alert *a)
{
    hits *h = ud;
    ig_event_origin o;
    ig_event_origin_get(a->event, &o);
    if (strcmp(a->rule->id, h->rule_id) == 0 && o.offset < h->n)
        h->hit[o.offset] = true;
}

static void on_corr(void *ud, const ig_corr_alert *a)
{
    hits *h = ud;
    if (strcmp(a->rule->id, h->rule_id) != 0)
        return;
    for (size_t i = 0; i < a->nevents; i++)
        if (a->events[i].offset < h->n)
            h->hit[a->events[i].offset] = true;
}

static void note_failure(ig_rule_test_result *r, uint64_t line, const char *why, size_t wlen,
                         const char *what)
{
    r->failed++;
    size_t o = strlen(r->failures);
    if (o + 1 < sizeof(r->failures))
        snprintf(r->failures + o, sizeof(r->failures) - o, "line %llu (%.*s): %s\n",
                 (unsigned long long)line, (int)(wlen > 120 ? 120 : wlen), why, what);
}

/* The value of string member `key` of the root object, or false. */
static bool member_text(const json_doc *d, const char *key, const char **p, size_t *len)
{
    uint32_t k = json_member(d, 0, key, strlen(key));
    if (k == 0 || d->t[k].type != JT_STRING)
        return false;
    *p = d->t[k].s;
    *len = d->t[k].len;
    return true;
}

ig_err ig_rules_test(const ig_rules *rs, const char *rule_id, const char *jsonl, size_t len,
                     ig_rule_test_result *out)
{
    memset(out, 0, sizeof(*out));
    const ig_rule_info *target = NULL;
    for (size_t i = 0; i < ig_rules_count(rs) && target == NULL; i++)
        if (strcmp(ig_rules_info(rs, i)->id, rule_id) == 0)
            target = ig_rules_info(rs, i);
    if (target == NULL)
        return IG_EARG;
    /* lines: count them for the hit table */
    size_t nlines = 1;
    for (size_t i = 0; i < len; i++)
        nlines += jsonl[i] == '\n';
    hits h = {rule_id, ig_calloc(nlines + 1, sizeof(bool)), nlines + 1};
    /* 1 match, 0 nomatch, -1 blank, -2 not a marked event, -3 not an event */
    signed char *want = ig_calloc(nlines + 1, 1);
    ig_corr *corr = target->correlation ? ig_corr_create(rs) : NULL;
    ig_scanner *sc = ig_scanner_create(rs, on_alert, &h);
    ig_arena line_arena, ev_arena;
    ig_arena_init(&line_arena, 0);
    ig_arena_init(&ev_arena, 0);
    ig_err res = IG_OK;
    if (h.hit == NULL || want == NULL || sc == NULL || (target->correlation && corr == NULL)) {
        res = IG_ENOMEM;
        goto done;
    }
    if (corr != NULL)
        ig_scanner_set_corr(sc, corr);
    ig_event ev;
    ev_init(&ev, &ev_arena);
    size_t pos = 0;
    for (uint64_t line = 1; pos < len && res == IG_OK; line++) {
        const char *s = jsonl + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        want[line] = -1;
        size_t b = 0;
        while (b < n && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r'))
            b++;
        if (b == n)
            continue;
        ig_arena_reset(&line_arena);
        json_doc d;
        const char *why = NULL, *exp = NULL;
        size_t at = 0, elen = 0;
        if (!json_parse(s, n, &line_arena, &d, &why, &at) || d.t[0].type != JT_OBJECT ||
            !member_text(&d, "_expect", &exp, &elen) ||
            !((elen == 5 && memcmp(exp, "match", 5) == 0) ||
              (elen == 7 && memcmp(exp, "nomatch", 7) == 0))) {
            out->bad_lines++;
            want[line] = -2;
            continue;
        }
        want[line] = elen == 5;
        ev_reset(&ev);
        ig_arena_reset(&ev_arena);
        if (!jsonl_event(s, n, &ev, &why, &at)) {
            out->bad_lines++;
            want[line] = -3;
            continue;
        }
        ev.origin.path = "test";
        ev.origin.offset = line;
        if (ev.origin.record_id == 0)
            ev.origin.record_id = line;
        out->events++;
        if (ig_scanner_scan(sc, &ev) < 0)
            res = IG_ENOMEM;
    }
    ev_free(&ev);
    ig_scanner_destroy(sc); /* hands its matches to the correlation state */
    sc = NULL;
    if (corr != NULL && res == IG_OK)
        ig_corr_run(corr, on_corr, &h);
    /* compare, naming the first failure with its "_why" */
    pos = 0;
    for (uint64_t line = 1; pos < len && res == IG_OK; line++) {
        const char *s = jsonl + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        if (line >= h.n || want[line] == -1)
            continue;
        if (want[line] < -1) {
            note_failure(out, line, "", 0,
                         want[line] == -2 ? "not a JSON object with \"_expect\": \"match\" or "
                                            "\"nomatch\""
                                          : "not an event the JSON-lines reader knows");
            continue;
        }
        if ((want[line] == 1) == h.hit[line]) {
            out->passed++;
            continue;
        }
        const char *why = "", *w = NULL;
        size_t wl = 0, at = 0;
        json_doc d;
        ig_arena_reset(&line_arena);
        if (json_parse(s, n, &line_arena, &d, &why, &at) && member_text(&d, "_why", &w, &wl))
            why = w;
        else
            wl = 0;
        note_failure(out, line, why, wl, want[line] == 1 ? "no alert" : "unexpected alert");
    }
done:
    ig_scanner_destroy(sc);
    ig_corr_destroy(corr);
    ig_arena_destroy(&line_arena);
    ig_arena_destroy(&ev_arena);
    ig_free(h.hit);
    ig_free(want);
    return res;
}

/* tests/rules/<base name of the rule file>.jsonl */
static const struct ig_embedded_file *test_for(const char *rule_file)
{
    const char *base = strrchr(rule_file, '/');
    base = base ? base + 1 : rule_file;
    size_t bl = strlen(base);
    if (bl > 4 && strcmp(base + bl - 4, ".yml") == 0)
        bl -= 4;
    for (size_t i = 0; ig_builtin_rule_tests[i].name != NULL; i++) {
        const char *t = strrchr(ig_builtin_rule_tests[i].name, '/');
        t = t ? t + 1 : ig_builtin_rule_tests[i].name;
        if (strncmp(t, base, bl) == 0 && strcmp(t + bl, ".jsonl") == 0)
            return &ig_builtin_rule_tests[i];
    }
    return NULL;
}

ig_err ig_builtin_rule_test(const char *rule_id, ig_rule_test_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *text = NULL;
    size_t len = 0;
    const char *file = NULL;
    bool corr = false;
    /* find the rule's file: load each alone */
    for (size_t i = 0; file == NULL; i++) {
        const char *name = ig_builtin_rule_file(i, &text, &len);
        if (name == NULL)
            return IG_EARG;
        ig_rules_builder *b = ig_rules_builder_create(NULL, NULL);
        if (b == NULL)
            return IG_ENOMEM;
        ig_rules_builder_add_text(b, name, text, len, NULL, NULL);
        ig_rules *one = ig_rules_builder_finish(b);
        if (one == NULL)
            return IG_ENOMEM;
        for (size_t k = 0; k < ig_rules_count(one); k++)
            if (strcmp(ig_rules_info(one, k)->id, rule_id) == 0) {
                file = name;
                corr = ig_rules_info(one, k)->correlation != 0;
            }
        ig_rules_destroy(one);
    }
    const struct ig_embedded_file *t = test_for(file);
    if (t == NULL)
        return IG_EIO;
    /* the rule alone (no other rule suppresses it); a correlation with the
     * pack, whose rules it refers to */
    ig_rules_builder *b = ig_rules_builder_create(NULL, NULL);
    if (b == NULL)
        return IG_ENOMEM;
    if (corr)
        ig_rules_builder_add_builtin(b, NULL, NULL);
    else
        ig_rules_builder_add_text(b, file, text, len, NULL, NULL);
    ig_rules *rs = ig_rules_builder_finish(b);
    if (rs == NULL)
        return IG_ENOMEM;
    ig_err e = ig_rules_test(rs, rule_id, t->text, t->len, out);
    ig_rules_destroy(rs);
    return e;
}
