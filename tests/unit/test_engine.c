#define _GNU_SOURCE /* memmem */
/* Sigma engine: every modifier and condition form against hand-made events
 * (examples from the Sigma specification and its modifiers appendix). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "engine/engine.h"
#include "engine/prefilter.h"
#include "event/event.h"
#include "iisguard/rules.h"
#include "test.h"

static char errors[4096];

static void on_error(void *ud, const ig_rule_error *e)
{
    (void)ud;
    size_t n = strlen(errors);
    snprintf(errors + n, sizeof(errors) - n, "%u: %s\n", e->line, e->reason);
}

/* One rule (the detection part given; logsource = Security) → rule set. */
static ig_rules *rule(const char *detection)
{
    static char text[20480];
    snprintf(text, sizeof(text),
             "title: t\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\n"
             "logsource:\n  product: windows\n  service: security\n"
             "detection:\n%s",
             detection);
    errors[0] = '\0';
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    unsigned loaded = 0, rejected = 0;
    ig_rules_builder_add_text(b, "test.yml", text, strlen(text), &loaded, &rejected);
    return ig_rules_builder_finish(b);
}

static int alerts;
static void on_alert(void *ud, const ig_alert *a)
{
    (void)ud, (void)a;
    alerts++;
}

/* Scans a Security event made of "name=value" pairs with `rs`, alerts to
 * `fn`; returns what ig_scanner_scan returns, and in *limits (when given)
 * the regex matches a limit stopped. */
static int scan_pairs_limits(ig_rules *rs, const char *const *kv, ig_alert_fn fn, uint64_t *limits)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    ig_event ev;
    ev_init(&ev, &a);
    ev_add(&ev, "Channel", 7, "Security", 8, NULL);
    for (size_t i = 0; kv[i] != NULL; i++) {
        const char *eq = strchr(kv[i], '=');
        ev_add(&ev, kv[i], (uint32_t)(eq - kv[i]), eq + 1, (uint32_t)strlen(eq + 1), NULL);
    }
    ig_scanner *s = ig_scanner_create(rs, fn, NULL);
    int n = ig_scanner_scan(s, &ev);
    if (limits != NULL)
        *limits = ig_scanner_regex_limit_hits(s);
    ig_scanner_destroy(s);
    ev_free(&ev);
    ig_arena_destroy(&a);
    return n;
}

static int scan_pairs(ig_rules *rs, const char *const *kv, ig_alert_fn fn)
{
    return scan_pairs_limits(rs, kv, fn, NULL);
}

/* Does the rule match an event made of "name=value" pairs? */
static int matches(ig_rules *rs, const char *const *kv)
{
    alerts = 0;
    return scan_pairs(rs, kv, on_alert) < 0 ? -1 : alerts;
}

#define EV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void check_rule(const char *det, const char *const *ev, int want, int line)
{
    ig_rules *rs = rule(det);
    int got = rs && ig_rules_count(rs) == 1 ? matches(rs, ev) : -2;
    if (got == want) {
        t_pass++;
    } else {
        t_fail++;
        fprintf(stderr, "test_engine.c:%d: got %d, want %d (errors: %s)\n", line, got, want,
                errors);
    }
    ig_rules_destroy(rs);
}
#define MATCH(det, ev)   check_rule(det, ev, 1, __LINE__)
#define NOMATCH(det, ev) check_rule(det, ev, 0, __LINE__)

static void check_reject(const char *det, const char *reason, int line)
{
    ig_rules *rs = rule(det);
    if (rs != NULL && ig_rules_count(rs) == 0 && strstr(errors, reason) != NULL) {
        t_pass++;
    } else {
        t_fail++;
        fprintf(stderr, "test_engine.c:%d: want rejection '%s', got '%s'\n", line, reason, errors);
    }
    ig_rules_destroy(rs);
}
#define REJECT(det, reason) check_reject(det, reason, __LINE__)

static void strings(void)
{
    /* plain values: whole value, case-insensitive */
    MATCH("  sel:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: sel\n",
          EV("Image=c:\\windows\\CMD.EXE"));
    NOMATCH("  sel:\n    Image: 'cmd.exe'\n  condition: sel\n", EV("Image=c:\\cmd.exe"));
    NOMATCH("  sel:\n    Image|cased: 'CMD.exe'\n  condition: sel\n", EV("Image=cmd.exe"));
    MATCH("  sel:\n    Image|cased: 'CMD.exe'\n  condition: sel\n", EV("Image=CMD.exe"));
    /* case-sensitive literals (prefiltered by their lower case) */
    MATCH("  sel:\n    CommandLine|cased|contains: 'PowerShell'\n  condition: sel\n",
          EV("CommandLine=C:\\x\\PowerShell.exe -nop"));
    NOMATCH("  sel:\n    CommandLine|cased|contains: 'PowerShell'\n  condition: sel\n",
            EV("CommandLine=C:\\x\\powershell.exe -nop"));
    MATCH("  sel:\n    Image|cased|startswith: 'C:\\Win'\n  condition: sel\n",
          EV("Image=C:\\Windows\\a.exe"));
    NOMATCH("  sel:\n    Image|cased|startswith: 'C:\\Win'\n  condition: sel\n",
            EV("Image=c:\\windows\\a.exe"));
    MATCH("  sel:\n    Image|cased|endswith: '.EXE'\n  condition: sel\n", EV("Image=A.EXE"));
    NOMATCH("  sel:\n    Image|cased|endswith: '.EXE'\n  condition: sel\n", EV("Image=A.exe"));
    MATCH("  sel1:\n    Image|cased|endswith: '.EXE'\n  sel2:\n    Image|endswith: '.dll'\n"
          "  condition: 1 of sel*\n",
          EV("Image=A.EXE"));
    MATCH("  sel:\n    Image|cased|endswith: '.EXE'\n  condition: sel\n",
          EV("Image=a.exe", "Image=B.EXE")); /* any occurrence */
    /* contains / startswith / endswith */
    MATCH("  sel:\n    CommandLine|contains: 'WhoAmI'\n  condition: sel\n",
          EV("CommandLine=cmd /c whoami /all"));
    MATCH("  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n",
          EV("Image=C:\\Windows\\System32\\cmd.exe"));
    NOMATCH("  sel:\n    Image|startswith: 'D:'\n  condition: sel\n", EV("Image=C:\\x"));
    /* wildcards, escapes */
    /* \* is a literal star: a wildcard after a backslash needs \\* */
    MATCH("  sel:\n    Image: 'C:\\\\*\\cmd.exe'\n  condition: sel\n",
          EV("Image=C:\\Windows\\System32\\cmd.exe"));
    NOMATCH("  sel:\n    Image: 'C:\\*\\cmd.exe'\n  condition: sel\n",
            EV("Image=C:\\Windows\\System32\\cmd.exe"));
    MATCH("  sel:\n    Image: 'C:\\*\\cmd.exe'\n  condition: sel\n", EV("Image=C:*\\cmd.exe"));
    MATCH("  sel:\n    Image: 'c?d.exe'\n  condition: sel\n", EV("Image=cmd.exe"));
    NOMATCH("  sel:\n    Image: 'c?d.exe'\n  condition: sel\n", EV("Image=cmmd.exe"));
    MATCH("  sel:\n    Name: 'a\\*b'\n  condition: sel\n", EV("Name=a*b"));
    NOMATCH("  sel:\n    Name: 'a\\*b'\n  condition: sel\n", EV("Name=axxb"));
    MATCH("  sel:\n    Name: 'a\\\\'\n  condition: sel\n", EV("Name=a\\"));
    /* a wildcard pattern is looked at only when its longest plain piece is in
     * the field: in any occurrence of it, and not in another field */
    MATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n  condition: sel\n",
          EV("Image=C:\\Users\\a\\AppData\\Local\\UPDATER.EXE"));
    NOMATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n  condition: sel\n",
            EV("Image=C:\\Users\\a\\AppData\\updater.exe"));
    NOMATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n  condition: sel\n",
            EV("Image=C:\\Users\\a\\AppData\\x\\update.exe",
               "ParentImage=C:\\appdata\\x\\updater.exe"));
    MATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n  condition: sel\n",
          EV("Image=C:\\x.exe", "Image=C:\\appdata\\x\\updater.exe"));
    MATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n"
          "  filter:\n    Image|endswith: 'x.exe'\n  condition: sel and not filter\n",
          EV("Image=C:\\appdata\\x\\updater.exe"));
    NOMATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n  condition: not sel\n",
            EV("Image=C:\\appdata\\x\\updater.exe"));
    MATCH("  sel:\n    Image: '*\\appdata\\\\*\\updater.exe'\n  condition: not sel\n",
          EV("Image=C:\\appdata\\x\\updater.com"));
    /* lists are OR, `all` makes them AND */
    MATCH("  sel:\n    Image|endswith:\n      - '\\a.exe'\n      - '\\b.exe'\n  condition: sel\n",
          EV("Image=x\\b.exe"));
    NOMATCH("  sel:\n    CommandLine|contains|all:\n      - '-enc'\n      - 'hidden'\n"
            "  condition: sel\n",
            EV("CommandLine=powershell -enc AAA"));
    MATCH("  sel:\n    CommandLine|contains|all:\n      - '-enc'\n      - 'hidden'\n"
          "  condition: sel\n",
          EV("CommandLine=powershell -w hidden -enc AAA"));
    /* maps are AND; a missing field never matches a value */
    NOMATCH("  sel:\n    A: x\n    B: y\n  condition: sel\n", EV("A=x"));
    MATCH("  sel:\n    A: x\n    B: y\n  condition: sel\n", EV("A=x", "B=y"));
    /* numbers compare as text of the field */
    MATCH("  sel:\n    EventID: 4688\n  condition: sel\n", EV("EventID=4688"));
}

static void special_values(void)
{
    /* null: absent or empty */
    MATCH("  sel:\n    Parent: null\n  condition: sel\n", EV("Other=1"));
    MATCH("  sel:\n    Parent: null\n  condition: sel\n", EV("Parent="));
    NOMATCH("  sel:\n    Parent: null\n  condition: sel\n", EV("Parent=x"));
    /* exists */
    MATCH("  sel:\n    Parent|exists: true\n  condition: sel\n", EV("Parent="));
    MATCH("  sel:\n    Parent|exists: false\n  condition: sel\n", EV("Other=1"));
    NOMATCH("  sel:\n    Parent|exists: false\n  condition: sel\n", EV("Parent=x"));
    REJECT("  sel:\n    Parent|exists: maybe\n  condition: sel\n", "exists takes true or false");
    /* numbers */
    MATCH("  sel:\n    Count|gt: 10\n  condition: sel\n", EV("Count=11"));
    NOMATCH("  sel:\n    Count|gt: 10\n  condition: sel\n", EV("Count=10"));
    MATCH("  sel:\n    Count|gte: 10\n  condition: sel\n", EV("Count=10"));
    MATCH("  sel:\n    Count|lt: 0x10\n  condition: sel\n", EV("Count=0xF"));
    MATCH("  sel:\n    Count|lte: 2.5\n  condition: sel\n", EV("Count=2.5"));
    NOMATCH("  sel:\n    Count|lt: 5\n  condition: sel\n", EV("Count=abc"));
    /* neq */
    MATCH("  sel:\n    User|neq: SYSTEM\n  condition: sel\n", EV("User=admin"));
    NOMATCH("  sel:\n    User|neq: SYSTEM\n  condition: sel\n", EV("User=system"));
    /* cidr */
    MATCH("  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel\n", EV("Ip=10.20.30.40"));
    NOMATCH("  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel\n", EV("Ip=11.0.0.1"));
    MATCH("  sel:\n    Ip|cidr: 'fe80::/10'\n  condition: sel\n", EV("Ip=fe80::1"));
    NOMATCH("  sel:\n    Ip|cidr: 'fe80::/10'\n  condition: sel\n", EV("Ip=2001:db8::1"));
    REJECT("  sel:\n    Ip|cidr: 10.0.0.0/33\n  condition: sel\n", "cidr");
    /* fieldref */
    MATCH("  sel:\n    Target|fieldref: Source\n  condition: sel\n",
          EV("Source=ABC", "Target=abc"));
    NOMATCH("  sel:\n    Target|fieldref: Source\n  condition: sel\n",
            EV("Source=ABC", "Target=abd"));
    /* keywords: any field */
    MATCH("  keywords:\n    - 'mimikatz'\n  condition: keywords\n",
          EV("A=x", "B=run MimiKatz now"));
    NOMATCH("  keywords:\n    - 'mimikatz'\n  condition: keywords\n", EV("A=x"));
    /* placeholders without configuration */
    REJECT("  sel:\n    User|expand: '%admins%'\n  condition: sel\n", "expand");
    REJECT("  sel:\n    User|frobnicate: x\n  condition: sel\n", "unknown modifier 'frobnicate'");
}

/* The rule's regex against 4000 'a' and a '!' gives up at a limit (or,
 * `limits` 0: is not tried). */
static void redos_n(const char *det, unsigned limits)
{
    static char value[4200] = "CommandLine=";
    memset(value + 12, 'a', 4000);
    memcpy(value + 4012, "!", 2);
    ig_rules *rs = rule(det);
    uint64_t hits = UINT64_MAX;
    CHECK(scan_pairs_limits(rs, EV(value), on_alert, &hits) == 0);
    CHECK(hits == limits);
    ig_rules_destroy(rs);
}

#define redos(det) redos_n(det, 1)

static void regexes(void)
{
    MATCH("  sel:\n    CommandLine|re: '\\s-[eE][nN][cC]\\s'\n  condition: sel\n",
          EV("CommandLine=powershell -Enc AAAA"));
    NOMATCH("  sel:\n    CommandLine|re: 'ENC'\n  condition: sel\n", EV("CommandLine=enc"));
    MATCH("  sel:\n    CommandLine|re|i: 'ENC'\n  condition: sel\n", EV("CommandLine=enc"));
    MATCH("  sel:\n    CommandLine|re|m: '^b$'\n  condition: sel\n", EV("CommandLine=a\nb"));
    MATCH("  sel:\n    CommandLine|re|s: 'a.b'\n  condition: sel\n", EV("CommandLine=a\nb"));
    REJECT("  sel:\n    CommandLine|re: '(unclosed'\n  condition: sel\n", "re:");
    /* a regex is tried only when its literal ("route") is in the value */
    MATCH("  sel:\n    CommandLine|re: 'route\\s+print'\n  condition: sel\n",
          EV("CommandLine=c:\\x\\route  print"));
    NOMATCH("  sel:\n    CommandLine|re: 'route\\s+print'\n  condition: sel\n",
            EV("CommandLine=ROUTE print"));
    NOMATCH("  sel:\n    CommandLine|re: 'route\\s+print'\n  condition: sel\n",
            EV("CommandLine=rout print"));
    MATCH("  sel:\n    CommandLine|re: 'route\\s+print'\n  condition: sel\n",
          EV("CommandLine=x", "CommandLine=route print")); /* a repeated field */
    /* caseless: s and k also match U+017F and U+212A, not in the literal */
    MATCH("  sel:\n    CommandLine|re|i: 'powershell'\n  condition: sel\n",
          EV("CommandLine=POWER\xc5\xbfHELL -x"));
    MATCH("  sel:\n    CommandLine|re: '(?i)taskkill'\n  condition: sel\n",
          EV("CommandLine=TAS\xe2\x84\xaaKILL"));
    /* catastrophic patterns against an adversarial value end at a limit
     * (the match limit, or the JIT's stack), counted and reported */
    redos("  sel:\n    CommandLine|re: '^(a+)+$'\n  condition: sel\n");
    redos("  sel:\n    CommandLine|re: '^(a|aa)+$'\n  condition: sel\n");
    redos("  sel:\n    CommandLine|re: '^(?=a)(a|aa)+$'\n  condition: sel\n");
    /* in a map, a literal that fails is tested first: no regex (the rule
     * is tried: `other` has a literal the value holds) */
    redos_n("  sel:\n    CommandLine|re: '^(a+)+$'\n    Image: 'x.exe'\n"
            "  other:\n    CommandLine|contains: 'aaaa'\n    ProcessId|gt: 5\n"
            "  condition: sel or other\n",
            0);
}

static void encodings(void)
{
    /* windash: -, /, en dash, em dash, horizontal bar are interchangeable */
    const char *det = "  sel:\n    CommandLine|windash|contains: ' -exec bypass'\n"
                      "  condition: sel\n";
    MATCH(det, EV("CommandLine=powershell -exec bypass"));
    MATCH(det, EV("CommandLine=powershell /exec bypass"));
    MATCH(det, EV("CommandLine=powershell \xe2\x80\x93"
                  "exec bypass"));
    NOMATCH(det, EV("CommandLine=powershell +exec bypass"));
    /* base64: "http://" */
    MATCH("  sel:\n    Payload|base64: 'http://'\n  condition: sel\n", EV("Payload=aHR0cDovLw=="));
    /* base64offset|contains finds the value at any alignment */
    det = "  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n";
    MATCH(det, EV("CommandLine=x aHR0cDovL3d3dw== y")); /* "http://www" */
    MATCH(det, EV("CommandLine=eGh0dHA6Ly93"));         /* "xhttp://w" */
    MATCH(det, EV("CommandLine=eHhodHRwOi8v"));         /* "xxhttp://" */
    NOMATCH(det, EV("CommandLine=aGVsbG8gd29ybGQ="));   /* "hello world" */
    /* utf16le (wide) + base64offset: PowerShell -EncodedCommand "Invoke" */
    det = "  sel:\n    CommandLine|wide|base64offset|contains: 'Invoke'\n  condition: sel\n";
    MATCH(det, EV("CommandLine=powershell -enc SQBuAHYAbwBrAGUALQBFAHgAcAByAGUAcwBzAGkAbwBuAA=="));
    NOMATCH(det, EV("CommandLine=powershell -enc SQBuAHYAbwA=")); /* "Invo" */
    /* utf16be and utf16 (with BOM), via base64 */
    MATCH("  sel:\n    P|utf16be|base64: 'ab'\n  condition: sel\n", EV("P=AGEAYg=="));
    MATCH("  sel:\n    P|utf16|base64: 'ab'\n  condition: sel\n", EV("P=//5hAGIA"));
}

static void conditions(void)
{
    const char *base = "  sel1:\n    A: 1\n  sel2:\n    B: 2\n  filter_x:\n    C: 3\n"
                       "  filter_y:\n    D: 4\n  condition: ";
    char det[1024];
#define COND(c, ev, want)                                                                          \
    do {                                                                                           \
        snprintf(det, sizeof(det), "%s%s\n", base, c);                                             \
        check_rule(det, ev, want, __LINE__);                                                       \
    } while (0)
    COND("sel1 and sel2", EV("A=1", "B=2"), 1);
    COND("sel1 and sel2", EV("A=1"), 0);
    COND("sel1 or sel2", EV("B=2"), 1);
    COND("sel1 and not sel2", EV("A=1", "B=2"), 0);
    COND("not sel1 or sel2", EV("A=1"), 0);          /* (not sel1) or sel2 */
    COND("sel1 or sel2 and filter_x", EV("A=1"), 1); /* and binds tighter */
    COND("(sel1 or sel2) and filter_x", EV("A=1"), 0);
    COND("1 of sel*", EV("B=2"), 1);
    COND("all of sel*", EV("B=2"), 0);
    COND("all of sel*", EV("A=1", "B=2"), 1);
    COND("1 of sel* and not 1 of filter_*", EV("A=1", "D=4"), 0);
    COND("1 of sel* and not 1 of filter_*", EV("A=1"), 1);
    COND("1 of them", EV("D=4"), 1);
    COND("all of them", EV("A=1", "B=2", "C=3"), 0);
    COND("all of them", EV("A=1", "B=2", "C=3", "D=4"), 1);
    COND("SEL1 AND NOT sel2", EV("A=1"), -2); /* identifiers are case-sensitive: unknown */
    REJECT("  sel:\n    A: 1\n  condition: sel and nothere\n", "unknown search 'nothere'");
    REJECT("  sel:\n    A: 1\n  condition: 1 of x*\n", "matches no search");
    REJECT("  sel:\n    A: 1\n  condition: (sel\n", "condition");
}

static void log_sources(void)
{
    /* a rule for Sysmon process creation does not see Security events */
    const char *text = "title: t\nid: 1\nlogsource:\n  product: windows\n  category: "
                       "process_creation\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n"
                       "  condition: sel\n";
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    ig_rules_builder_add_text(b, "t.yml", text, strlen(text), NULL, NULL);
    ig_rules *rs = ig_rules_builder_finish(b);
    CHECK(ig_rules_count(rs) == 1);
    /* Security 4688: NewProcessName is Image to rules */
    CHECK(matches(rs, EV("EventID=4688", "NewProcessName=C:\\x\\cmd.exe")) == 1);
    CHECK(matches(rs, EV("EventID=4624", "NewProcessName=C:\\x\\cmd.exe")) == 0);
    ig_rules_destroy(rs);
}

static char kw_hits[256];
static void on_kw_alert(void *ud, const ig_alert *a)
{
    (void)ud;
    size_t n = strlen(kw_hits);
    snprintf(kw_hits + n, sizeof(kw_hits) - n, "%s;", a->rule->title);
}

/* The rules that alert for an event of `channel` whose Data is `data`
 * (and Other `other`, when not NULL). */
static const char *kw_scan2(ig_rules *rs, const char *channel, const char *data, const char *other)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    ig_event ev;
    ev_init(&ev, &a);
    ev_add(&ev, "Channel", 7, channel, (uint32_t)strlen(channel), NULL);
    ev_add(&ev, "EventID", 7, "7045", 4, NULL);
    ev_add(&ev, "Data", 4, data, (uint32_t)strlen(data), NULL);
    if (other != NULL)
        ev_add(&ev, "Other", 5, other, (uint32_t)strlen(other), NULL);
    kw_hits[0] = '\0';
    ig_scanner *s = ig_scanner_create(rs, on_kw_alert, NULL);
    ig_scanner_scan(s, &ev);
    ig_scanner_destroy(s);
    ev_free(&ev);
    ig_arena_destroy(&a);
    return kw_hits;
}

static const char *kw_scan(ig_rules *rs, const char *channel, const char *data)
{
    return kw_scan2(rs, channel, data, NULL);
}

/* Keywords are looked for per set of channels: a rule's keywords for the
 * events of its channels, those of a rule of any channel for every event. */
static void keyword_channels(void)
{
#define KWRULE(t, ls, kws)                                                                         \
    "title: " t "\nid: " t "\nlogsource:\n  product: windows\n" ls "detection:\n  kw:\n" kws       \
    "  condition: kw\n---\n"
    const char *text = KWRULE("any", "", "    - 'mimikatz'\n    - 'sekurlsa::'\n")
        KWRULE("sys", "  service: system\n", "    - 'evilsvc'\n")
            KWRULE("app", "  service: application\n", "    - 'evilsvc'\n    - 'crashdump'\n")
                KWRULE("sys2", "  service: system\n", "    - 'othersys'\n    - 'ab'\n");
#undef KWRULE
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    ig_rules_builder_add_text(b, "k.yml", text, strlen(text), NULL, NULL);
    ig_rules *rs = ig_rules_builder_finish(b);
    CHECK(rs != NULL && ig_rules_count(rs) == 4);
    if (rs == NULL)
        return;
    CHECK(rs->pf.nfields - rs->pf.nnamed == 3); /* any, System, Application */
    CHECK_STR(kw_scan(rs, "System", "install EvilSvc now"), "sys;");
    CHECK_STR(kw_scan(rs, "Application", "evilsvc"), "app;");
    CHECK_STR(kw_scan(rs, "Application", "a crashdump and OTHERSYS"), "app;");
    CHECK_STR(kw_scan(rs, "Security", "evilsvc crashdump othersys"), "");
    CHECK_STR(kw_scan(rs, "Security", "run MIMIKATZ"), "any;");
    /* values shorter than every literal are left out, not one as long */
    CHECK_STR(kw_scan(rs, "Security", "MimiKatz"), "any;");
    CHECK_STR(kw_scan2(rs, "Security", "mimikat", "sekurlsa::"), "any;");
    CHECK_STR(kw_scan(rs, "Application", "evilsv"), "");
    CHECK_STR(kw_scan(rs, "System", "othersys mimikatz"), "sys2;any;"); /* channel rules first */
    CHECK_STR(kw_scan(rs, "System", "xaby"), "sys2;");
    /* values are scanned joined: nothing is found across two of them */
    CHECK_STR(kw_scan2(rs, "System", "xa", "by"), "");
    CHECK_STR(kw_scan2(rs, "System", "mimi", "katz"), "");
    CHECK_STR(kw_scan2(rs, "System", "x", "OtherSys"), "sys2;");
    CHECK_STR(kw_scan(rs, "Nowhere", "sekurlsa::logonpasswords evilsvc"), "any;");
    ig_rules_destroy(rs);
}

/* The rules that alert for a Security event made of "name=value" pairs. */
static const char *ids_scan(ig_rules *rs, const char *const *kv)
{
    kw_hits[0] = '\0';
    scan_pairs(rs, kv, on_kw_alert);
    return kw_hits;
}

/* A rule whose detection needs some EventIDs is evaluated only for events
 * with one of them, and an event is scanned for the literals of the rules
 * that can match its EventID; conditions that allow any id (NOT, other
 * modifiers, wildcards, an OR with another field) are not narrowed. */
static void event_ids(void)
{
#define IDRULE(t, det)                                                                             \
    "title: " t "\nid: " t "\nlogsource:\n  product: windows\n  service: security\n"               \
    "detection:\n" det "---\n"
    static const char *const docs[] = {
        IDRULE("one", "  sel:\n    EventID: 4624\n    TargetUserName|contains: 'adm'\n"
                      "  condition: sel\n"),
        IDRULE("two", "  sel:\n    EventID:\n      - 4625\n      - 4771\n"
                      "    IpAddress|startswith: '10.'\n  condition: sel\n"),
        IDRULE("or", "  a:\n    EventID: 4720\n  b:\n    EventID: 4726\n"
                     "    TargetUserName: 'bob'\n  condition: a or b\n"),
        IDRULE("not", "  a:\n    EventID: 4624\n  b:\n    LogonType: 3\n"
                      "  condition: b and not a\n"),
        IDRULE("gt", "  sel:\n    EventID|gt: 4700\n    Status: '0x1'\n  condition: sel\n"),
        IDRULE("glob", "  sel:\n    EventID: '46*'\n    Status: '0x2'\n  condition: sel\n"),
        IDRULE("kw", "  kw:\n    - 'evilword'\n  sel:\n    EventID: 1102\n"
                     "  condition: kw and sel\n"),
        IDRULE("both", "  a:\n    EventID: 4624\n  b:\n    EventID: 4625\n"
                       "  condition: a and b\n"),
        IDRULE("anyof", "  sel1:\n    EventID: 4688\n  sel2:\n"
                        "    CommandLine|contains: 'whoami'\n  condition: 1 of sel*\n"),
        IDRULE("all", "  sel1:\n    EventID:\n      - 4688\n      - 4689\n"
                      "  sel2:\n    EventID:\n      - 4689\n      - 4690\n"
                      "  sel3:\n    ProcessId: '0x4'\n  condition: all of sel*\n"),
        IDRULE("re", "  sel:\n    CommandLine|re: 'w.o.mi'\n  condition: sel\n"),
    };
#undef IDRULE
    char text[4096];
    size_t used = 0;
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]) && used < sizeof(text); i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s", docs[i]);
    CHECK(used < sizeof(text));
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    ig_rules_builder_add_text(b, "ids.yml", text, strlen(text), NULL, NULL);
    ig_rules *rs = ig_rules_builder_finish(b);
    CHECK(rs != NULL && ig_rules_count(rs) == 11);
    if (rs == NULL || ig_rules_count(rs) != 11)
        return;
    /* what the detections need */
    CHECK(rs->rules[0].ndeids == 1 && rs->rules[0].deids[0] == 4624);
    CHECK(rs->rules[1].ndeids == 2 && rs->rules[1].deids[0] == 4625 &&
          rs->rules[1].deids[1] == 4771);
    CHECK(rs->rules[2].ndeids == 2);
    CHECK(rs->rules[3].ndeids == 0 && rs->rules[4].ndeids == 0 && rs->rules[5].ndeids == 0);
    CHECK(rs->rules[6].ndeids == 1 && rs->rules[6].deids[0] == 1102);
    CHECK(rs->rules[7].ndeids == 0 && rs->rules[8].ndeids == 0);
    CHECK(rs->rules[9].ndeids == 1 && rs->rules[9].deids[0] == 4689);
    CHECK(rs->rules[10].ndeids == 0 && !rs->rules[10].triggered);
    CHECK_STR(ids_scan(rs, EV("EventID=4624", "TargetUserName=xADMx")), "one;");
    CHECK_STR(ids_scan(rs, EV("EventID=4625", "TargetUserName=admin")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=4771", "IpAddress=10.0.0.1")), "two;");
    CHECK_STR(ids_scan(rs, EV("EventID=4624", "IpAddress=10.0.0.1")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=4726", "TargetUserName=BOB")), "or;");
    CHECK_STR(ids_scan(rs, EV("EventID=4720")), "or;");
    CHECK_STR(ids_scan(rs, EV("EventID=4725", "TargetUserName=bob")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=4625", "LogonType=3")), "not;");
    CHECK_STR(ids_scan(rs, EV("EventID=4624", "LogonType=3")), "");
    CHECK_STR(ids_scan(rs, EV("LogonType=3")), "not;"); /* no EventID at all */
    CHECK_STR(ids_scan(rs, EV("EventID=4800", "Status=0x1")), "gt;");
    CHECK_STR(ids_scan(rs, EV("EventID=4688", "Status=0x2", "CommandLine=whoami /all")),
              "glob;anyof;re;");
    CHECK_STR(ids_scan(rs, EV("EventID=1", "CommandLine=WHOAMI")), "anyof;");
    CHECK_STR(ids_scan(rs, EV("EventID=1", "CommandLine=whoami")), "anyof;re;");
    /* rules that want no particular id, for an id some rule wants */
    CHECK_STR(ids_scan(rs, EV("EventID=4624", "CommandLine=whoami", "LogonType=3")), "anyof;re;");
    CHECK_STR(ids_scan(rs, EV("EventID=4625", "LogonType=3", "Status=0x2")), "not;glob;");
    CHECK_STR(ids_scan(rs, EV("EventID=1102", "Data=an evilword here")), "kw;");
    CHECK_STR(ids_scan(rs, EV("EventID=1101", "Data=evilword")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=4624")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=4625")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=4689", "ProcessId=0x4")), "all;");
    CHECK_STR(ids_scan(rs, EV("EventID=4688", "ProcessId=0x4")), "anyof;");
    /* the id is text: 04624 is not 4624; no EventID, no rule that needs one */
    CHECK_STR(ids_scan(rs, EV("EventID=04624", "TargetUserName=adm")), "");
    CHECK_STR(ids_scan(rs, EV("TargetUserName=adm", "IpAddress=10.1.1.1")), "");
    CHECK_STR(ids_scan(rs, EV("EventID=x4624", "TargetUserName=adm")), "");
    /* a repeated EventID: a detection may match any of them */
    CHECK_STR(ids_scan(rs, EV("EventID=4625", "EventID=4624", "TargetUserName=adm")), "one;both;");
    CHECK_STR(ids_scan(rs, EV("EventID=4624", "EventID=4771", "IpAddress=10.9.9.9")), "two;");
    ig_rules_destroy(rs);
}

/* Time modifiers (appendix v2.1): a part of a date value, compared as a
 * number; ISO 8601 weeks; an offset moves the date to UTC. */
static void time_parts(void)
{
#define SEL(m, v) "  sel:\n    UtcTime|" m ": " v "\n  condition: sel\n"
    const char *const *tue = EV("UtcTime=2024-03-12 08:05:03.054"); /* Sysmon's layout */
    MATCH(SEL("minute", "5"), tue);
    MATCH(SEL("hour", "8"), tue);
    NOMATCH(SEL("hour", "9"), tue);
    MATCH(SEL("day", "12"), tue);
    MATCH(SEL("month", "3"), tue);
    MATCH(SEL("year", "2024"), tue);
    MATCH(SEL("week", "11"), tue);
    MATCH(SEL("hour", "[7, 8]"), tue);
    MATCH(SEL("hour|lt", "9"), tue);
    NOMATCH(SEL("hour|gte", "22"), tue);
    NOMATCH(SEL("hour|neq", "8"), tue);
    MATCH(SEL("hour|neq", "7"), tue);
    /* 23:30 at -02:00 is 01:30 UTC the next day */
    MATCH(SEL("hour", "1"), EV("UtcTime=2024-03-12T23:30:00-02:00"));
    MATCH(SEL("day", "13"), EV("UtcTime=2024-03-12T23:30:00-02:00"));
    /* ISO weeks at the turn of a year */
    MATCH(SEL("week", "53"), EV("UtcTime=2021-01-01"));
    MATCH(SEL("week", "1"), EV("UtcTime=2024-12-30T10:00:00Z"));
    MATCH(SEL("week", "53"), EV("UtcTime=2026-12-31T10:00:00Z"));
    MATCH(SEL("week", "1"), EV("UtcTime=2024-01-01T00:00:00Z"));
    NOMATCH(SEL("hour", "8"), EV("UtcTime=yesterday at 8"));
    NOMATCH(SEL("hour", "8"), EV("Other=2024-03-12 08:05:03"));
    REJECT(SEL("hour", "eight"), "a time modifier takes a number");
    REJECT(SEL("hour|contains", "8"), "a time modifier (minute .. year) goes with");
    REJECT(SEL("hour|minute", "8"), "one time modifier");
#undef SEL
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Does literal `p` hold for text[0, n) as its operator says? */
static bool pf_want(const pf_pat *p, const char *text, size_t n)
{
    if (p->len > n)
        return false;
    switch (p->op) {
    case EM_EQ: return p->len == n && memcmp(text, p->s, n) == 0;
    case EM_STARTS: return memcmp(text, p->s, p->len) == 0;
    case EM_ENDS: return memcmp(text + n - p->len, p->s, p->len) == 0;
    default: return p->len == 0 || memmem(text, n, p->s, p->len) != NULL;
    }
}

/* A rule on CommandLine with `nlit` random literals (1-20 bytes of a-h,
 * a third of them beginning alike) per operator: contains, startswith,
 * endswith, equals (lits[op]). */
static ig_rules *pf_rule(int nlit, char lits[4][120][24], uint32_t *seed)
{
    static const char *const ops[] = {"contains", "startswith", "endswith", ""};
    char det[24576];
    size_t o = 0;
    for (int op = 0; op < 4; op++) {
        o += (size_t)snprintf(det + o, sizeof(det) - o, "  sel%d:\n    CommandLine%s%s:\n", op,
                              *ops[op] ? "|" : "", ops[op]);
        for (int i = 0; i < nlit; i++) {
            int len = 1 + (int)(lcg(seed) % 20);
            for (int k = 0; k < len; k++) /* a third share their first 10 bytes */
                lits[op][i][k] = i % 3 == 0 && k < 10 ? "abcdefghab"[k] : "abcdefgh"[lcg(seed) % 8];
            lits[op][i][len] = '\0';
            o += (size_t)snprintf(det + o, sizeof(det) - o, "      - '%s'\n", lits[op][i]);
        }
    }
    snprintf(det + o, sizeof(det) - o, "  condition: 1 of sel*\n");
    ig_rules *rs = rule(det);
    CHECK(rs != NULL && ig_rules_count(rs) == 1);
    return rs;
}

/* A random value of up to 95 bytes (a-j) into text, with 0-3 of the
 * literals planted: at its start, its end, anywhere, or as the whole
 * value; returns its length. */
static size_t pf_text(char text[96], char lits[4][120][24], int nlit, uint32_t *seed)
{
    size_t n = lcg(seed) % 96;
    for (size_t k = 0; k < n; k++)
        text[k] = "abcdefghij"[lcg(seed) % 10];
    for (int p = (int)(lcg(seed) % 4); p > 0; p--) {
        int op = (int)(lcg(seed) % 4);
        const char *l = lits[op][lcg(seed) % (uint32_t)nlit];
        size_t ln = strlen(l);
        if (op == 3 && p == 1) /* a whole value */
            memcpy(text, l, n = ln);
        else if (ln <= n)
            memcpy(text + (op == 1 ? 0 : op == 2 ? n - ln : lcg(seed) % (n - ln + 1)), l, ln);
    }
    return n;
}

/* The literal prefilter finds what a plain comparison finds, for every
 * operator (contains, startswith, endswith, equals), literals of 1 to 20
 * bytes (found one by one, or by their bytes after the key's), at every
 * offset of a value including its last bytes; with many
 * literals on a field (`nlit` 120) and with few (`nlit` 16: the field's
 * first-two-bytes bitmap). */
static void prefilter_paths(int nlit)
{
    char lits[4][120][24];
    uint32_t seed = 12345u + (uint32_t)nlit;
    ig_rules *rs = pf_rule(nlit, lits, &seed);
    if (rs == NULL)
        return;
    const pf_table *t = &rs->pf;
    uint32_t field = ev_names_lookup(&rs->names, "CommandLine", 11);
    CHECK(field != EV_NO_ID && t->npats > (uint32_t)nlit * 2);
    CHECK(nlit > 16 || !pf_simd_usable() || (field != EV_NO_ID && t->fp[field] != NULL));
    uint32_t *seen = calloc(t->npats, sizeof(*seen)), *hits = calloc(t->npats, sizeof(*hits));
    bool *got = calloc(t->npats, sizeof(*got));
    int wrong = 0, found[4] = {0};
    uint32_t epoch = 0;
    for (int round = 0; round < 4000 && seen && hits && got; round++) {
        char text[96];
        size_t n = pf_text(text, lits, nlit, &seed);
        uint32_t nhits = 0;
        pf_scan(t, field, text, n, seen, ++epoch, hits, &nhits);
        memset(got, 0, t->npats * sizeof(*got));
        for (uint32_t h = 0; h < nhits; h++)
            got[hits[h]] = true;
        for (uint32_t pid = 0; pid < t->npats; pid++) {
            const pf_pat *pp = &t->pats[pid];
            wrong += pf_want(pp, text, n) != got[pid];
            if (got[pid])
                found[pp->op == EM_EQ ? 3 : pp->op == EM_STARTS ? 1 : pp->op == EM_ENDS ? 2 : 0]++;
        }
    }
    CHECK(wrong == 0);
    for (int op = 0; op < 4; op++)
        CHECK(found[op] > 100); /* the planted literals were there to find */
    free(seen);
    free(hits);
    free(got);
    ig_rules_destroy(rs);
}

/* Lower-casing (event.c, eight bytes a step) agrees with a byte-by-byte
 * one for every byte value at every offset and length. */
static void lowering(void)
{
    char text[300];
    int wrong = 0, shared = 0;
    for (int round = 0; round < 600; round++) {
        size_t n = (size_t)round % 40 + (round >= 300 ? 200 : 0);
        for (size_t k = 0; k < n; k++)
            text[k] =
                (char)(round < 256 && k == (size_t)round % 40 ? round
                                                              : (round * 7 + (int)k * 13) & 0xFF);
        if (round % 5 == 0)
            for (size_t k = 0; k < n; k++)
                text[k] = (char)(text[k] >= 'A' && text[k] <= 'Z' ? text[k] + 32 : text[k]);
        ig_arena a;
        ig_arena_init(&a, 0);
        ig_event ev;
        ev_init(&ev, &a);
        ev_add(&ev, "F", 1, text, (uint32_t)n, NULL);
        ig_strv v;
        bool ok = ev_lower(&ev, 0, &v) && v.len == n;
        for (size_t k = 0; ok && k < n; k++) {
            char c = text[k];
            ok = v.p[k] == (c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
        }
        wrong += !ok;
        shared += ok && n > 0 && v.p == ev.f[0].str;
        ev_free(&ev);
        ig_arena_destroy(&a);
    }
    CHECK(wrong == 0);
    CHECK(shared > 50); /* lower-case values are not copied */
}

int main(void)
{
    prefilter_paths(120);
    prefilter_paths(16);
    lowering();
    time_parts();
    strings();
    special_values();
    regexes();
    encodings();
    conditions();
    log_sources();
    keyword_channels();
    event_ids();
    TEST_MAIN_END();
}
