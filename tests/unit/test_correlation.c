/* Correlation rules: every type, group-by, timespan, aliases, generate, and
 * events that arrive out of order or late (several scanners, shuffled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "event/event.h"
#include "iisguard/rules.h"
#include "test.h"

#define MIN (60ull * 10000000ull) /* one minute in FILETIME ticks */
#define T0  (133000000000000000ull)

static char errors[2048];
static void on_error(void *ud, const ig_rule_error *e)
{
    (void)ud;
    size_t n = strlen(errors);
    snprintf(errors + n, sizeof(errors) - n, "%u: %s\n", e->line, e->reason);
}

static const char *base_rules =
    "title: failed logon\nid: 10000000-0000-0000-0000-000000000001\nname: failed\n"
    "logsource:\n  product: windows\n  service: security\n"
    "detection:\n  sel:\n    EventID: 4625\n  condition: sel\nlevel: low\n---\n"
    "title: logon\nid: 10000000-0000-0000-0000-000000000002\nname: success\n"
    "logsource:\n  product: windows\n  service: security\n"
    "detection:\n  sel:\n    EventID: 4624\n  condition: sel\nlevel: low\n---\n";

static ig_level min_level = IG_LEVEL_INFORMATIONAL;

static ig_rules *rules(const char *corr)
{
    char text[4096];
    snprintf(text, sizeof(text), "%s%s", base_rules, corr);
    errors[0] = '\0';
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    ig_rules_builder_set_min_level(b, min_level);
    ig_rules_builder_add_text(b, "c.yml", text, strlen(text), NULL, NULL);
    return ig_rules_builder_finish(b);
}

typedef struct evspec {
    int eid;
    const char *host, *user;
    uint64_t minute;
} evspec;

/* Record ids of the events fed next (0: the event's position); NULL: all
 * by position.  A repeat gives an earlier event's. */
static const uint64_t *records;

static int plain_alerts;
static void on_alert(void *ud, const ig_alert *a)
{
    (void)ud, (void)a;
    plain_alerts++;
}

/* Feeds events (in the given order) to `nscan` scanners round-robin. */
static ig_corr *feed(ig_rules *rs, const evspec *ev, size_t n, unsigned nscan)
{
    ig_corr *c = ig_corr_create(rs);
    ig_scanner *sc[4];
    for (unsigned i = 0; i < nscan; i++) {
        sc[i] = ig_scanner_create(rs, on_alert, NULL);
        ig_scanner_set_corr(sc[i], c);
    }
    ig_arena a;
    ig_arena_init(&a, 0);
    plain_alerts = 0;
    for (size_t i = 0; i < n; i++) {
        ig_event e;
        ev_init(&e, &a);
        char eid[16];
        snprintf(eid, sizeof(eid), "%d", ev[i].eid);
        ev_add(&e, "Channel", 7, "Security", 8, NULL);
        ev_add(&e, "EventID", 7, ig_arena_dup(&a, eid, strlen(eid)), (uint32_t)strlen(eid), NULL);
        ev_add(&e, "Computer", 8, ev[i].host, (uint32_t)strlen(ev[i].host), NULL);
        ev_add(&e, "TargetUserName", 14, ev[i].user, (uint32_t)strlen(ev[i].user), NULL);
        e.time = T0 + ev[i].minute * MIN;
        e.origin.record_id = records && records[i] ? records[i] : i + 1;
        e.origin.path = "mem";
        ig_scanner_scan(sc[i % nscan], &e);
        ev_free(&e);
    }
    for (unsigned i = 0; i < nscan; i++)
        ig_scanner_destroy(sc[i]);
    ig_arena_destroy(&a);
    return c;
}

static char got[4096];
static void on_corr(void *ud, const ig_corr_alert *a)
{
    (void)ud;
    size_t n = strlen(got);
    snprintf(got + n, sizeof(got) - n, "%s %.*s count=%llu n=%zu first=%llu;", a->type,
             (int)a->group.len, a->group.p, (unsigned long long)a->count, a->total,
             (unsigned long long)((a->first - T0) / MIN));
}

static void run(const char *corr, const evspec *ev, size_t n, unsigned nscan, const char *want,
                int line)
{
    ig_rules *rs = rules(corr);
    got[0] = '\0';
    ig_corr *c = feed(rs, ev, n, nscan);
    ig_corr_run(c, on_corr, NULL);
    if (strcmp(got, want) == 0) {
        t_pass++;
    } else {
        t_fail++;
        fprintf(stderr, "test_correlation.c:%d: got '%s'\n  want '%s' (errors: %s)\n", line, got,
                want, errors);
    }
    ig_corr_destroy(c);
    ig_rules_destroy(rs);
}
#define RUN(corr, ev, nscan, want) run(corr, ev, sizeof(ev) / sizeof(ev[0]), nscan, want, __LINE__)

static const char *brute =
    "title: brute force\nid: 20000000-0000-0000-0000-000000000001\n"
    "correlation:\n  type: event_count\n  rules: [failed]\n  group-by: [Computer]\n"
    "  timespan: 10m\n  condition:\n    gte: 3\nlevel: high\n";

static void event_count(void)
{
    /* three failures within 10 minutes on A (given out of order), two on B */
    const evspec ev[] = {{4625, "A", "u", 9}, {4625, "B", "u", 0},  {4625, "A", "u", 0},
                         {4625, "A", "u", 5}, {4625, "B", "u", 30}, {4624, "A", "u", 6}};
    RUN(brute, ev, 1, "event_count Computer=A count=3 n=3 first=0;");
    /* the same events through three scanners (threads) */
    RUN(brute, ev, 3, "event_count Computer=A count=3 n=3 first=0;");
    /* spread over more than the timespan: no alert */
    const evspec slow[] = {{4625, "A", "u", 0}, {4625, "A", "u", 6}, {4625, "A", "u", 12}};
    RUN(brute, slow, 1, "");
    /* a late event (read last, time in the middle) completes the window */
    const evspec late[] = {
        {4625, "A", "u", 0}, {4625, "A", "u", 9}, {4624, "A", "u", 3}, {4625, "A", "u", 4}};
    RUN(brute, late, 2, "event_count Computer=A count=3 n=3 first=0;");
    /* base rule alerts are not emitted (generate: false) ... */
    CHECK(plain_alerts == 1); /* only the logon rule (not referenced) */
    /* ... unless the correlation asks for them */
    char gen[1024];
    snprintf(gen, sizeof(gen), "%sgenerate: true\n", brute);
    RUN(gen, late, 1, "event_count Computer=A count=3 n=3 first=0;");
    CHECK(plain_alerts == 4);
    /* an event seen twice (a message delivered again) counts once */
    const evspec again[] = {{4625, "A", "u", 0}, {4625, "A", "u", 5}, {4625, "A", "u", 0}};
    const uint64_t again_rec[] = {0, 0, 1};
    records = again_rec;
    RUN(brute, again, 1, "");
    RUN(brute, again, 2, "");
    const evspec again3[] = {
        {4625, "A", "u", 0}, {4625, "A", "u", 5}, {4625, "A", "u", 5}, {4625, "A", "u", 7}};
    const uint64_t again3_rec[] = {0, 0, 2, 0};
    records = again3_rec;
    RUN(brute, again3, 1, "event_count Computer=A count=3 n=3 first=0;");
    records = NULL;
    /* events alike but for their record are distinct events */
    const evspec twins[] = {{4625, "A", "u", 0}, {4625, "A", "u", 0}, {4625, "A", "u", 0}};
    RUN(brute, twins, 1, "event_count Computer=A count=3 n=3 first=0;");
}

static void value_count(void)
{
    const char *spray =
        "title: password spray\nid: 20000000-0000-0000-0000-000000000002\n"
        "correlation:\n  type: value_count\n  rules: [failed]\n  group-by: [Computer]\n"
        "  timespan: 1h\n  condition:\n    field: TargetUserName\n    gte: 3\nlevel: high\n";
    const evspec ev[] = {{4625, "A", "alice", 0},  {4625, "A", "bob", 10}, {4625, "A", "alice", 20},
                         {4625, "A", "carol", 30}, {4625, "B", "dave", 0}, {4625, "B", "dave", 1}};
    RUN(spray, ev, 2, "value_count Computer=A count=3 n=4 first=0;");
    const evspec few[] = {{4625, "A", "alice", 0}, {4625, "A", "alice", 1}, {4625, "A", "bob", 2}};
    RUN(spray, few, 1, "");
}

static void temporal(void)
{
    const char *any =
        "title: failure and success\nid: 20000000-0000-0000-0000-000000000003\n"
        "correlation:\n  type: temporal\n  rules: [failed, success]\n  group-by: [Computer]\n"
        "  timespan: 5m\nlevel: medium\n";
    const char *ordered = "title: failure then success\nid: 20000000-0000-0000-0000-000000000004\n"
                          "correlation:\n  type: temporal_ordered\n  rules: [failed, success]\n"
                          "  group-by: [Computer]\n  timespan: 5m\nlevel: high\n";
    /* success before failure: temporal yes, ordered no */
    const evspec rev[] = {{4625, "A", "u", 3}, {4624, "A", "u", 1}};
    RUN(any, rev, 1, "temporal Computer=A count=2 n=2 first=1;");
    RUN(ordered, rev, 1, "");
    /* failure then success (delivered in reverse order): both */
    const evspec fwd[] = {{4624, "A", "u", 4}, {4625, "A", "u", 2}};
    RUN(ordered, fwd, 2, "temporal_ordered Computer=A count=2 n=2 first=2;");
    /* too far apart */
    const evspec far[] = {{4625, "A", "u", 0}, {4624, "A", "u", 9}};
    RUN(any, far, 1, "");
    /* different hosts do not combine */
    const evspec hosts[] = {{4625, "A", "u", 0}, {4624, "B", "u", 1}};
    RUN(any, hosts, 1, "");
}

/* absent (extension): failures with no logon on their host within ± 5 min */
static void absent(void)
{
    const char *lonely = "title: failure alone\nid: 20000000-0000-0000-0000-000000000007\n"
                         "correlation:\n  type: absent\n  rules: [failed, success]\n"
                         "  group-by: [Computer]\n  timespan: 5m\nlevel: high\n";
    /* A: a logon 4 min after (accompanied); B: the logon is 6 min before
     * (alone); C: a logon on another host; D: two failures 3 min apart, alone
     * together, then a third 20 min later (a second alert); E: accompanied
     * by a logon read late from another scanner */
    const evspec ev[] = {{4625, "A", "u", 10}, {4624, "A", "u", 14}, {4624, "B", "u", 4},
                         {4625, "B", "u", 10}, {4625, "C", "u", 10}, {4624, "X", "u", 10},
                         {4625, "D", "u", 13}, {4625, "D", "u", 10}, {4625, "D", "u", 33},
                         {4625, "E", "u", 10}, {4624, "E", "u", 5}};
    RUN(lonely, ev, 2,
        "absent Computer=B count=1 n=1 first=10;absent Computer=C count=1 n=1 first=10;"
        "absent Computer=D count=2 n=2 first=10;absent Computer=D count=1 n=1 first=33;");
    /* the reported rule keeps its own alerts; the absent one's are suppressed */
    CHECK(plain_alerts == 7);
    /* loader errors: one rule only, a condition */
    ig_rules *rs = rules("title: x\nid: 20000000-0000-0000-0000-000000000008\n"
                         "correlation:\n  type: absent\n  rules: [failed]\n"
                         "  timespan: 5m\n");
    CHECK(strstr(errors, "absent needs") != NULL);
    ig_rules_destroy(rs);
    rs = rules("title: x\nid: 20000000-0000-0000-0000-000000000009\n"
               "correlation:\n  type: absent\n  rules: [failed, success]\n"
               "  timespan: 5m\n  condition:\n    gte: 2\n");
    CHECK(strstr(errors, "absent takes no condition") != NULL);
    ig_rules_destroy(rs);
}

static void aliases_and_errors(void)
{
    /* group by a name that is a different field per rule */
    const char *alias =
        "title: same account\nid: 20000000-0000-0000-0000-000000000005\n"
        "correlation:\n  type: temporal\n  rules: [failed, success]\n  group-by: [acct]\n"
        "  timespan: 5m\n  aliases:\n    acct:\n      failed: TargetUserName\n"
        "      success: Computer\nlevel: medium\n";
    const evspec ev[] = {{4625, "X", "bob", 0}, {4624, "bob", "other", 2}};
    RUN(alias, ev, 1, "temporal acct=bob count=2 n=2 first=0;");
    /* a reference to nothing is reported, the rest still loads */
    ig_rules *rs = rules("title: broken\nid: 20000000-0000-0000-0000-000000000006\n"
                         "correlation:\n  type: event_count\n  rules: [nothere]\n"
                         "  group-by: [Computer]\n  timespan: 5m\n  condition:\n    gte: 2\n");
    CHECK(strstr(errors, "refers to a rule that is not loaded") != NULL);
    CHECK(rs != NULL && ig_rules_count(rs) == 3);
    ig_rules_destroy(rs);
}

/* Rules left out by the selection (here --min-level high: the low base
 * rules) stay as bases of a selected correlation, without alerts of their
 * own even when it says generate: true; a correlation left out does not
 * keep its bases. */
static void selection(void)
{
    const evspec ev[] = {
        {4625, "A", "u", 0}, {4625, "A", "u", 1}, {4625, "A", "u", 2}, {4624, "A", "u", 3}};
    min_level = IG_LEVEL_HIGH;
    RUN(brute, ev, 1, "event_count Computer=A count=3 n=3 first=0;");
    CHECK(plain_alerts == 0);
    char gen[1024];
    snprintf(gen, sizeof(gen), "%sgenerate: true\n", brute);
    RUN(gen, ev, 2, "event_count Computer=A count=3 n=3 first=0;");
    CHECK(plain_alerts == 0);
    ig_rules *rs = rules(brute);
    CHECK(rs != NULL && ig_rules_count(rs) == 2 && ig_rules_adopted(rs) == 1 && errors[0] == '\0');
    ig_rules_destroy(rs);
    min_level = IG_LEVEL_CRITICAL;
    rs = rules(brute);
    CHECK(rs != NULL && ig_rules_count(rs) == 0 && ig_rules_adopted(rs) == 0);
    ig_rules_destroy(rs);
    min_level = IG_LEVEL_INFORMATIONAL;
}

int main(void)
{
    event_count();
    value_count();
    temporal();
    absent();
    aliases_and_errors();
    selection();
    TEST_MAIN_END();
}
