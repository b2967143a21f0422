/* JSON-lines reader: the JSON parser (escapes, numbers, nesting, errors with
 * their offsets, limits) and the mapping of each shape (evtx_dump JSON,
 * Winlogbeat/ECS, NXLog, anything else) onto event fields.
 *
 * usage: test_jsonl [CORPUS_DIR]  — also replays fuzz/corpus/fuzz_jsonl. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/limits.h"
#include "event/event.h"
#include "formats/jsonl/jsonl.h"
#include "formats/jsonl/jsonl_limits.h"
#include "iisguard/source.h"
#include "test.h"

static ig_arena arena;
static ig_event ev;
static const char *why;
static size_t at;

/* Parses `text` into the shared event (reset first). */
static bool parse_n(const char *text, size_t len)
{
    ev_reset(&ev);
    ig_arena_reset(&arena);
    why = NULL;
    at = SIZE_MAX;
    return jsonl_event(text, len, &ev, &why, &at);
}

static bool parse(const char *text)
{
    return parse_n(text, strlen(text));
}

/* The value of the first field `name` as a C string, NULL when absent. */
static const char *F(const char *name)
{
    static char out[4][4096];
    static int k;
    ig_strv v;
    if (!ev_get(&ev, name, strlen(name), &v) || v.len >= sizeof(out[0]))
        return NULL;
    k = (k + 1) % 4;
    memcpy(out[k], v.p, v.len);
    out[k][v.len] = '\0';
    return out[k];
}

/* The i-th occurrence of field `name`. */
static const char *Fn(const char *name, unsigned i)
{
    static char out[4096];
    for (uint32_t f = 0; f < ev.n; f++) {
        ig_strv n, v;
        if (!ig_event_field_at(&ev, f, &n, &v) || n.len != strlen(name) ||
            memcmp(n.p, name, n.len) != 0)
            continue;
        if (i-- > 0)
            continue;
        if (v.len >= sizeof(out))
            return NULL;
        memcpy(out, v.p, v.len);
        out[v.len] = '\0';
        return out;
    }
    return NULL;
}

static unsigned count(const char *name)
{
    unsigned c = 0;
    for (uint32_t f = 0; f < ev.n; f++)
        c += ev.f[f].nlen == strlen(name) && memcmp(ev.f[f].name, name, ev.f[f].nlen) == 0;
    return c;
}

/* 2025-11-27T07:40:10.165324Z as FILETIME */
#define T_2025_11_27 134087028101653240ull

static void test_evtx_shape(void)
{
    const char *line =
        "{\"Event\":{\"#attributes\":{\"xmlns\":\"http://schemas.microsoft.com/win/2004/08/events/"
        "event\"},\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"Service Control Manager\","
        "\"Guid\":\"555908D1-A6D7-4695-8E1E-26931D2012F4\",\"EventSourceName\":null}},"
        "\"EventID\":{\"#attributes\":{\"Qualifiers\":16384},\"#text\":7036},\"Version\":0,"
        "\"Level\":4,\"Keywords\":\"0x8080000000000000\",\"TimeCreated\":{\"#attributes\":"
        "{\"SystemTime\":\"2025-11-27T07:40:10.165324Z\"}},\"EventRecordID\":571146,"
        "\"Correlation\":null,\"Execution\":{\"#attributes\":{\"ProcessID\":3544,\"ThreadID\":4272}"
        "},"
        "\"Channel\":\"System\",\"Computer\":\"WEB01\",\"Security\":{\"#attributes\":"
        "{\"UserID\":\"S-1-5-18\"}}},\"EventData\":{\"param1\":\"World Wide Web Publishing\","
        "\"Count\":12,\"Ratio\":-1.5e3,\"Flag\":true,\"Off\":false,\"Empty\":null,"
        "\"Binary\":\"0A0B\",\"Multi\":[1,\"two\",3]}}}";
    CHECK(parse(line));
    CHECK_STR(F("EventID"), "7036");
    CHECK_STR(F("EventID_Qualifiers"), "16384");
    CHECK_STR(F("Provider_Name"), "Service Control Manager");
    CHECK_STR(F("Provider_Guid"), "555908D1-A6D7-4695-8E1E-26931D2012F4");
    CHECK(F("Provider_EventSourceName") == NULL); /* null attribute: none */
    CHECK_STR(F("Provider"), "");                 /* as the EVTX reader: the empty element */
    CHECK_STR(F("Correlation"), "");              /* <Correlation/> */
    CHECK(F("Correlation_ActivityID") == NULL);
    CHECK_STR(F("TimeCreated_SystemTime"), "2025-11-27T07:40:10.165324Z");
    CHECK_STR(F("Execution_ProcessID"), "3544");
    CHECK_STR(F("Execution_ThreadID"), "4272");
    CHECK_STR(F("Security_UserID"), "S-1-5-18");
    CHECK_STR(F("Keywords"), "0x8080000000000000");
    CHECK_STR(F("Channel"), "System");
    CHECK_STR(F("Computer"), "WEB01");
    CHECK_STR(F("Version"), "0");
    CHECK_STR(F("EventRecordID"), "571146");
    CHECK(F("xmlns") == NULL && F("Event") == NULL && F("System") == NULL);
    CHECK_STR(F("param1"), "World Wide Web Publishing");
    CHECK_STR(F("Count"), "12");
    CHECK_STR(F("Ratio"), "-1.5e3");
    CHECK_STR(F("Flag"), "true");
    CHECK_STR(F("Off"), "false");
    CHECK_STR(F("Empty"), "");
    CHECK_STR(F("Binary"), "0A0B");
    CHECK_STR(F("Multi"), "1, two, 3"); /* an array value, as evtx_value_text joins it */
    CHECK(ev.origin.record_id == 571146);
    CHECK(ev.time == T_2025_11_27);
    /* order follows the document (System first, as the EVTX reader) */
    CHECK(ev.n > 2 && ev.f[0].nlen == 8 && memcmp(ev.f[0].name, "Provider", 8) == 0);

    /* unnamed Data, repeated keys (evtx_dump's "_1" suffix), UserData */
    CHECK(parse("{\"Event\":{\"System\":{\"EventID\":104,\"Channel\":\"System\"},"
                "\"EventData\":{\"Data\":{\"#text\":[\"first\",2,null]},\"Binary\":null}}}"));
    CHECK(count("Data") == 3);
    CHECK_STR(Fn("Data", 0), "first");
    CHECK_STR(Fn("Data", 1), "2");
    CHECK_STR(Fn("Data", 2), "");
    CHECK_STR(F("Binary"), "");
    CHECK(parse("{\"Event\":{\"System\":{},\"EventData\":{\"Data\":{\"#text\":\"only\"}}}}"));
    CHECK(count("Data") == 1 && F("Data") && strcmp(F("Data"), "only") == 0);
    CHECK(parse("{\"Event\":{\"System\":{},\"EventData\":{\"Name\":\"a\",\"Name_1\":\"b\","
                "\"Other_1\":\"c\",\"Name_2\":\"d\"}}}"));
    CHECK(count("Name") == 3 && count("Other_1") == 1 && count("Name_1") == 0);
    CHECK_STR(Fn("Name", 2), "d");
    CHECK(parse("{\"Event\":{\"System\":{\"EventID\":1},\"UserData\":{\"EventXML\":{"
                "\"#attributes\":{\"xmlns\":\"x\"},\"Param1\":\"p1\",\"Param1_1\":\"p1b\","
                "\"Nested\":{\"Leaf\":{\"#attributes\":{\"a\":\"b\"},\"#text\":\"t\"},"
                "\"Bare\":{\"#attributes\":{\"a\":\"b\"}}}}},\"RenderingInfo\":{\"#attributes\":"
                "{\"Culture\":\"en-US\"},\"Message\":\"m\",\"Keywords\":{\"Keyword\":\"k\"}}}}"));
    CHECK_STR(F("EventID"), "1");
    CHECK(count("Param1") == 2 && count("xmlns") == 0 && count("a") == 0);
    CHECK_STR(F("Leaf"), "t");
    CHECK_STR(F("Bare"), "");
    CHECK_STR(F("Message"), "m");
    CHECK_STR(F("Keyword"), "k");
    CHECK(F("Culture") == NULL && F("EventXML") == NULL);
    CHECK(ev.time == 0);
    /* an empty first element keeps its separator; a record id that is not
     * a number is not one */
    CHECK(parse("{\"Event\":{\"System\":{\"EventRecordID\":\"12x\"},"
                "\"EventData\":{\"M\":[\"\",\"x\"]}}}"));
    CHECK_STR(F("M"), ", x");
    CHECK_STR(F("EventRecordID"), "12x");
    CHECK(ev.origin.record_id == 0);
    CHECK(parse("{\"Event\":{\"System\":{\"EventRecordID\":18446744073709551615}}}"));
    CHECK(ev.origin.record_id == UINT64_MAX);
    CHECK(parse("{\"Event\":{\"System\":{\"EventRecordID\":18446744073709551616}}}"));
    CHECK(ev.origin.record_id == 0);
    /* "Event" that is not an evtx record: flattened */
    CHECK(parse("{\"Event\":{\"kind\":\"x\"}}"));
    CHECK_STR(F("Event.kind"), "x");
}

static void test_ecs_shape(void)
{
    const char *line =
        "{\"@timestamp\":\"2025-11-27T08:40:10.165324+01:00\",\"agent\":{\"type\":\"winlogbeat\"},"
        "\"event\":{\"code\":\"9999\",\"provider\":\"Other\",\"kind\":\"event\"},"
        "\"host\":{\"name\":\"web01.corp\",\"hostname\":\"web01\"},"
        "\"message\":\"A new process has been created.\","
        "\"process\":{\"command_line\":\"ecs-cmd\",\"executable\":\"C:\\\\w\\\\x.exe\",\"pid\":42,"
        "\"parent\":{\"executable\":\"C:\\\\p.exe\",\"command_line\":\"p\"}},"
        "\"user\":{\"name\":\"SYSTEM\"},"
        "\"winlog\":{\"channel\":\"Security\",\"event_id\":4688,\"computer_name\":\"WEB01\","
        "\"provider_name\":\"Microsoft-Windows-Security-Auditing\","
        "\"provider_guid\":\"{54849625-5478-4994-a5ba-3e3b0328c30d}\",\"record_id\":\"123456\","
        "\"user\":{\"identifier\":\"S-1-5-18\"},\"process\":{\"pid\":4,\"thread\":{\"id\":88}},"
        "\"keywords\":[\"Audit Success\"],"
        "\"event_data\":{\"NewProcessName\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
        "\"CommandLine\":\"cmd /c whoami\",\"SubjectUserSid\":\"S-1-5-18\"}}}";
    CHECK(parse(line));
    CHECK_STR(F("EventID"), "4688"); /* winlog.event_id over event.code */
    CHECK_STR(F("Channel"), "Security");
    CHECK_STR(F("Computer"), "WEB01");
    CHECK_STR(F("Provider_Name"), "Microsoft-Windows-Security-Auditing");
    CHECK_STR(F("Provider_Guid"), "54849625-5478-4994-A5BA-3E3B0328C30D");
    CHECK_STR(F("EventRecordID"), "123456");
    CHECK_STR(F("Security_UserID"), "S-1-5-18");
    CHECK_STR(F("Execution_ProcessID"), "4");
    CHECK_STR(F("Execution_ThreadID"), "88");
    CHECK_STR(F("NewProcessName"), "C:\\Windows\\System32\\cmd.exe");
    CHECK_STR(F("CommandLine"), "cmd /c whoami"); /* event_data wins over process.* */
    CHECK(count("CommandLine") == 1);
    CHECK_STR(F("Image"), "C:\\w\\x.exe"); /* absent from event_data: from ECS */
    CHECK_STR(F("ParentImage"), "C:\\p.exe");
    CHECK_STR(F("ParentCommandLine"), "p");
    CHECK_STR(F("ProcessId"), "42");
    CHECK_STR(F("User"), "SYSTEM");
    CHECK_STR(F("SubjectUserSid"), "S-1-5-18");
    CHECK_STR(F("message"), "A new process has been created.");
    CHECK_STR(F("agent.type"), "winlogbeat");
    CHECK_STR(F("winlog.channel"), "Security");
    CHECK_STR(F("winlog.keywords"), "Audit Success");
    CHECK_STR(F("process.parent.executable"), "C:\\p.exe");
    CHECK(F("winlog.event_data.CommandLine") == NULL);
    CHECK(ev.origin.record_id == 123456);
    CHECK(ev.time == T_2025_11_27); /* +01:00 → UTC */

    /* ECS 8 without winlog.event_id: event.code; host.name for Computer */
    CHECK(parse("{\"@timestamp\":\"2024-03-12T08:00:01Z\",\"event\":{\"code\":\"1\","
                "\"provider\":\"Microsoft-Windows-Sysmon\"},\"host\":{\"name\":\"h1\"},"
                "\"winlog\":{\"channel\":\"Microsoft-Windows-Sysmon/Operational\","
                "\"event_data\":{\"Image\":\"C:\\\\a.exe\",\"Multi\":[\"x\",\"y\"]}}}"));
    CHECK_STR(F("EventID"), "1");
    CHECK_STR(F("Computer"), "h1");
    CHECK_STR(F("Provider_Name"), "Microsoft-Windows-Sysmon");
    CHECK_STR(F("Image"), "C:\\a.exe");
    CHECK(count("Multi") == 2);
    CHECK(ev.time == 133547040010000000ull);

    /* Winlogbeat 6: event_data at the top */
    CHECK(parse("{\"event_data\":{\"TargetUserName\":\"bob\"},\"event_id\":4624,"
                "\"log_name\":\"Security\",\"computer_name\":\"dc1\",\"record_number\":\"77\","
                "\"source_name\":\"Microsoft-Windows-Security-Auditing\"}"));
    CHECK_STR(F("TargetUserName"), "bob");
    CHECK_STR(F("EventID"), "4624");
    CHECK_STR(F("Channel"), "Security");
    CHECK_STR(F("Computer"), "dc1");
    CHECK_STR(F("Provider_Name"), "Microsoft-Windows-Security-Auditing");
    CHECK_STR(F("EventRecordID"), "77");
    CHECK(ev.origin.record_id == 77);
}

static void test_nxlog_shape(void)
{
    CHECK(parse("{\"EventTime\":\"2024-03-12 08:00:01\",\"Hostname\":\"WEB01\","
                "\"SourceName\":\"Microsoft-Windows-Sysmon\",\"ProviderGuid\":"
                "\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\",\"Channel\":"
                "\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,\"RecordNumber\":99,"
                "\"ProcessID\":3544,\"ThreadID\":12,\"UserID\":\"S-1-5-18\","
                "\"Image\":\"C:\\\\Windows\\\\System32\\\\w3wp.exe\",\"CommandLine\":\"x\","
                "\"ProcessId\":7}\r\n"));
    CHECK_STR(F("EventID"), "1");
    CHECK_STR(F("Channel"), "Microsoft-Windows-Sysmon/Operational");
    CHECK_STR(F("Hostname"), "WEB01");
    CHECK_STR(F("Computer"), "WEB01");
    CHECK_STR(F("SourceName"), "Microsoft-Windows-Sysmon");
    CHECK_STR(F("Provider_Name"), "Microsoft-Windows-Sysmon");
    CHECK_STR(F("Provider_Guid"), "5770385F-C22A-43E0-BF4C-06F5698FFBD9");
    CHECK_STR(F("EventRecordID"), "99");
    CHECK_STR(F("Execution_ProcessID"), "3544");
    CHECK_STR(F("Execution_ThreadID"), "12");
    CHECK_STR(F("Security_UserID"), "S-1-5-18");
    CHECK_STR(F("ProcessId"), "7");
    CHECK_STR(F("Image"), "C:\\Windows\\System32\\w3wp.exe");
    CHECK(ev.origin.record_id == 99);
    CHECK(ev.time == 133547040010000000ull);
    /* an existing Computer is kept; ProviderName; TimeCreated */
    CHECK(parse("{\"Hostname\":\"a\",\"Computer\":\"b\",\"ProviderName\":\"P\","
                "\"TimeCreated\":\"2024-03-12T08:00:01.5Z\"}"));
    CHECK(count("Computer") == 1 && F("Computer") && strcmp(F("Computer"), "b") == 0);
    CHECK_STR(F("Provider_Name"), "P");
    CHECK(ev.time == 133547040015000000ull);
}

static void test_generic(void)
{
    CHECK(parse("{\"a\":{\"b\":{\"c\":\"deep\"},\"list\":[1,[2,3],{\"x\":\"y\"}],\"e\":{}},"
                "\"top\":\"t\",\"n\":null,\"arr\":[]}"));
    CHECK_STR(F("a.b.c"), "deep");
    CHECK(count("a.list") == 3);
    CHECK_STR(Fn("a.list", 2), "3");
    CHECK_STR(F("a.list.x"), "y");
    CHECK_STR(F("top"), "t");
    CHECK_STR(F("n"), "");
    CHECK(F("a.e") == NULL && F("arr") == NULL);
    CHECK(ev.time == 0 && ev.origin.record_id == 0);
    /* a value that is not an object still gives fields for keyword rules */
    CHECK(parse("\"whoami /all\""));
    CHECK_STR(F("value"), "whoami /all");
    CHECK(parse("[1,{\"k\":\"v\"},\"s\"]"));
    CHECK(count("value") == 2);
    CHECK_STR(F("k"), "v");
    CHECK(parse("{}") && ev.n == 0);
    CHECK(parse("[]") && ev.n == 0);
    /* an over-long flattened name is left out, the rest kept */
    static char big[IG_MAX_JSON_NAME + 64];
    size_t n = 0;
    big[n++] = '{', big[n++] = '"';
    memset(big + n, 'k', IG_MAX_JSON_NAME + 1);
    n += IG_MAX_JSON_NAME + 1;
    memcpy(big + n, "\":1,\"ok\":2}", 11);
    n += 11;
    CHECK(parse_n(big, n));
    CHECK(ev.n == 1);
    CHECK_STR(F("ok"), "2");
    /* a name exactly at the limit, and a member below it (fuzz_jsonl found
     * the overflow: fuzz/corpus/fuzz_jsonl/name-at-limit) */
    n = 0;
    big[n++] = '{', big[n++] = '"';
    memset(big + n, 'k', IG_MAX_JSON_NAME);
    n += IG_MAX_JSON_NAME;
    memcpy(big + n, "\":{\"a\":1},\"b\":3}", 16);
    n += 16;
    CHECK(parse_n(big, n));
    CHECK(ev.n == 1);
    CHECK_STR(F("b"), "3");
}

static void test_strings(void)
{
    CHECK(
        parse("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\u20AC\\ud83d\\ude00\","
              "\"lone\":\"x\\ud800y\",\"lo\":\"\\udc00\",\"k\\u0065y\":\"v\",\"z\":\"\\u0000\"}"));
    CHECK_STR(F("s"), "a\"b\\c/d\b\f\n\r\t");
    CHECK_STR(F("u"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    CHECK_STR(F("lone"), "x\xef\xbf\xbdy");
    CHECK_STR(F("lo"), "\xef\xbf\xbd");
    CHECK_STR(F("key"), "v");
    ig_strv z;
    CHECK(ev_get(&ev, "z", 1, &z) && z.len == 1 && z.p[0] == '\0');
    /* UTF-8 and non-UTF-8 bytes pass through */
    CHECK(parse("{\"s\":\"caf\xc3\xa9 \xe9\"}"));
    CHECK_STR(F("s"), "caf\xc3\xa9 \xe9");
    /* a leading BOM and surrounding white space */
    CHECK(parse("\xef\xbb\xbf \t{\"a\" : 1 , \"b\":[ ] }\r\n"));
    CHECK_STR(F("a"), "1");
    /* strings without escapes borrow the line */
    const char *line = "{\"Image\":\"C:\\\\x\",\"Plain\":\"value\"}";
    CHECK(parse(line));
    bool borrowed = false, copied = false;
    for (uint32_t i = 0; i < ev.n; i++) {
        const char *p = ev.f[i].src;
        bool in = p >= line && p < line + strlen(line);
        if (ev.f[i].nlen == 5 && memcmp(ev.f[i].name, "Plain", 5) == 0)
            borrowed = in && (const char *)ev.f[i].name >= line;
        if (ev.f[i].nlen == 5 && memcmp(ev.f[i].name, "Image", 5) == 0)
            copied = !in;
    }
    CHECK(borrowed && copied);
}

static void test_numbers(void)
{
    static const char *good[] = {
        "0",    "-0",  "1",     "-12",     "1.5",
        "0.25", "1e5", "1E+05", "-1.0e-3", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "{\"n\":%s}", good[i]);
        CHECK(parse_n(buf, (size_t)n));
        CHECK_STR(F("n"), good[i]);
    }
    static const char *bad[] = {"01",  "1.",   ".5",   "+1",  "-",        "1e",       "1e+",
                                "--1", "0x10", "1.e3", "NaN", "Infinity", "-Infinity"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "{\"n\":%s}", bad[i]);
        bool ok = parse_n(buf, (size_t)n);
        CHECK(!ok);
        if (ok)
            fprintf(stderr, "  accepted bad number %s\n", bad[i]);
    }
}

typedef struct bad_case {
    const char *text;
    const char *why;
    size_t at;
} bad_case;

static void test_malformed(void)
{
    static const bad_case cases[] = {
        {"", "no JSON value", 0},
        {"  \r\n", "no JSON value", 4},
        {"{", "expected a string key", 1},
        {"{\"a\"", "expected ':'", 4},
        {"{\"a\" 1}", "expected ':'", 5},
        {"{\"a\":", "unexpected end of text", 5},
        {"{\"a\":1", "unexpected end of text", 6},
        {"{\"a\":1}x", "trailing characters after the value", 7},
        {"{\"a\":1} {\"b\":2}", "trailing characters after the value", 8},
        {"{\"a\":1,}", "expected a string key", 7},
        {"{a:1}", "expected a string key", 1},
        {"{'a':1}", "expected a string key", 1},
        {"[1,]", "expected a value", 3},
        {"[1 2]", "expected ',' or ']'", 3},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}'", 7},
        {"{\"a\":1]", "expected ',' or '}'", 6},
        {"[1}", "expected ',' or ']'", 2},
        {"{\"a\":\"x}", "unterminated string", 5},
        {"{\"a\":\"x\\", "unterminated string", 5},
        {"{\"a\":\"x\ty\"}", "control character in string", 7},
        {"{\"a\":\"x\ny\"}", "control character in string", 7},
        {"{\"a\":\"\\x\"}", "invalid escape", 6},
        {"{\"a\":\"\\u12\"}", "invalid \\u escape", 6},
        {"{\"a\":\"\\u12g4\"}", "invalid \\u escape", 6},
        {"{\"a\":\"\\U0041\"}", "invalid escape", 6},
        {"{\"a\":tru}", "invalid literal", 5},
        {"{\"a\":nul}", "invalid literal", 5},
        {"{\"a\":True}", "expected a value", 5},
        {"{\"a\":01}", "expected ',' or '}'", 6},
        {"{\"a\":-}", "invalid number", 5},
        {"{\"a\":1.}", "invalid number", 5},
        {"\xef\xbb\xbf", "no JSON value", 3},
        {"{\"a\":1}\x00", "trailing characters after the value", 7},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bad_case *c = &cases[i];
        size_t len = strlen(c->text) + (i == sizeof(cases) / sizeof(cases[0]) - 1 ? 1 : 0);
        bool ok = parse_n(c->text, len);
        CHECK(!ok);
        CHECK_STR(why, c->why);
        CHECK(at == c->at);
        if (ok || why == NULL || strcmp(why, c->why) != 0 || at != c->at)
            fprintf(stderr, "  case %zu: got %s at %zu\n", i, why ? why : "(ok)", at);
    }
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    *len = hl + ul * n + tl;
    return s;
}

static void test_limits(void)
{
    size_t len;
    /* depth: IG_MAX_JSON_DEPTH nested arrays parse, one more does not */
    char *s = malloc(2 * IG_MAX_JSON_DEPTH + 4);
    if (s == NULL)
        return;
    for (unsigned d = IG_MAX_JSON_DEPTH; d <= IG_MAX_JSON_DEPTH + 1; d++) {
        memset(s, '[', d);
        memset(s + d, ']', d);
        bool ok = parse_n(s, 2 * d);
        CHECK(ok == (d == IG_MAX_JSON_DEPTH));
        if (!ok) {
            CHECK_STR(why, "nesting too deep (IG_MAX_JSON_DEPTH)");
            CHECK(at == IG_MAX_JSON_DEPTH);
        }
    }
    free(s);
    /* fields: the event limit stops the mapping, keeping what was added */
    s = repeat("{", "\"k\":1,", IG_MAX_EVENT_FIELDS + 10, "\"z\":2}", &len);
    if (s == NULL)
        return;
    CHECK(!parse_n(s, len));
    CHECK_STR(why, "too many fields (IG_MAX_EVENT_FIELDS)");
    CHECK(at == 1 + 6 * IG_MAX_EVENT_FIELDS + 4);
    CHECK(ev.n == IG_MAX_EVENT_FIELDS);
    free(s);
    /* tokens */
    s = repeat("[", "0,", IG_MAX_JSON_TOKENS, "0]", &len);
    if (s == NULL)
        return;
    CHECK(!parse_n(s, len));
    CHECK_STR(why, "too many values (IG_MAX_JSON_TOKENS)");
    free(s);
    /* line length */
    s = repeat("\"", "a", IG_MAX_JSON_LINE, "\"", &len);
    if (s == NULL)
        return;
    CHECK(!parse_n(s, len));
    CHECK_STR(why, "line too long (IG_MAX_JSON_LINE)");
    CHECK(parse_n(s + 2, IG_MAX_JSON_LINE - 2) == false); /* unquoted: not JSON */
    s[IG_MAX_JSON_LINE - 1] = '"';
    CHECK(parse_n(s, IG_MAX_JSON_LINE)); /* exactly at the limit */
    ig_strv v;
    CHECK(ev_get(&ev, "value", 5, &v) && v.len == IG_MAX_JSON_LINE - 2);
    free(s);
    /* many keys that look like evtx_dump suffixes: bounded work */
    s = repeat("{\"Event\":{\"System\":{},\"EventData\":{", "\"a_1\":0,", 3000, "\"a\":1}}}", &len);
    if (s == NULL)
        return;
    CHECK(parse_n(s, len));
    CHECK(count("a_1") == 3000 && count("a") == 1);
    free(s);
}

static void test_time(void)
{
    static const struct {
        const char *s;
        uint64_t ft;
    } cases[] = {
        {"2025-11-27T07:40:10.165324Z", T_2025_11_27},
        {"2025-11-27T07:40:10.1653240Z", T_2025_11_27},
        {"2025-11-27T07:40:10.165324099Z", T_2025_11_27},
        {"2025-11-27 07:40:10.165324", T_2025_11_27},
        {"2025-11-27T02:40:10.165324-05:00", T_2025_11_27},
        {"2025-11-27T13:10:10.165324+0530", T_2025_11_27},
        {"2025-11-27T08:40:10.165324+01", T_2025_11_27},
        {"2024-03-12 08:00:01", 133547040010000000ull},
        {"1601-01-01T00:00:00Z", 0},
        {"1601-01-01T00:00:01Z", 10000000ull},
        {"1970-01-01T00:00:00Z", 116444736000000000ull},
        {"2024-02-29T00:00:00Z", 133536384000000000ull},
        {"2023-02-29T00:00:00Z", 0},
        {"2024-13-01T00:00:00Z", 0},
        {"2024-01-01T24:00:00Z", 0},
        {"2024-01-01T00:00:00.Z", 0},
        {"2024-01-01T00:00:00Zjunk", 0},
        {"2024-01-01", 0},
        {"1600-12-31T23:59:59Z", 0},
        {"1601-01-01T00:00:00+01:00", 0},
        {"24-01-01T00:00:00Z", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t got = jsonl_parse_time(cases[i].s, strlen(cases[i].s));
        CHECK(got == cases[i].ft);
        if (got != cases[i].ft)
            fprintf(stderr, "  time %s: %llu\n", cases[i].s, (unsigned long long)got);
    }
}

/* Every allocation failure point: no crash, no leak, an error or a result. */
static void test_alloc_failures(void)
{
    const char *line = "{\"Event\":{\"System\":{\"EventID\":{\"#attributes\":{\"Qualifiers\":1},"
                       "\"#text\":2}},\"EventData\":{\"A\\n\":\"x\\ty\",\"M\":[1,2]}},"
                       "\"winlog\":{\"provider_guid\":\"{ab}\"},\"n\":{\"m\":[\"a\",\"b\"]}}";
    unsigned ok = 0;
    for (long n = 0; n < 64; n++) {
        ig_arena a;
        ig_event e;
        ig_arena_init(&a, 0);
        ev_init(&e, &a);
        const char *w = NULL;
        size_t where = 0;
        ig_alloc_fail_after(n);
        bool r = jsonl_event(line, strlen(line), &e, &w, &where);
        ig_alloc_fail_after(-1);
        if (r)
            ok++;
        else
            CHECK(w != NULL && strcmp(w, "out of memory") == 0);
        ev_free(&e);
        ig_arena_destroy(&a);
    }
    CHECK(ok > 0);
    /* an arena with a cap runs out the same way */
    ig_arena a;
    ig_event e;
    ig_arena_init(&a, 256);
    ev_init(&e, &a);
    const char *w = NULL;
    size_t where = 0;
    CHECK(!jsonl_event(line, strlen(line), &e, &w, &where));
    CHECK_STR(w, "out of memory");
    ev_free(&e);
    ig_arena_destroy(&a);
}

/* ---- layouts: pretty-printed objects, arrays, evtx_dump's Record headers ---- */

static char seen[2048];
static void lay_event(void *ud, ig_event *e)
{
    (void)ud;
    ig_strv v;
    ig_event_origin o;
    ig_event_origin_get(e, &o);
    size_t n = strlen(seen);
    if (ig_event_field(e, "Computer", &v))
        snprintf(seen + n, sizeof(seen) - n, "%.*s@%llu ", (int)v.len, v.p,
                 (unsigned long long)o.offset);
}
static void lay_error(void *ud, const char *path, uint64_t line, const char *what)
{
    (void)ud, (void)path;
    size_t n = strlen(seen);
    snprintf(seen + n, sizeof(seen) - n, "[%llu: %s] ", (unsigned long long)line, what);
}

/* Reads `text` as a file; returns what was seen: "Computer@line " per event
 * and "[line: error] " per problem. */
static const char *read_layout(const char *text)
{
    char path[] = "/tmp/iisguard-jsonl-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        t_fail++;
        return "";
    }
    close(fd);
    seen[0] = '\0';
    ig_src_stats st;
    ig_source_read_text(path, IG_SRC_JSONL, lay_event, lay_error, NULL, &st);
    unlink(path);
    return seen;
}

#define EV(c) "{\"Event\": {\"System\": {\"EventID\": 1, \"Computer\": \"" c "\"}}}"
#define PRETTY(c)                                                                                  \
    "{\n  \"Event\": {\n    \"System\": {\n      \"EventID\": 1,\n      \"Computer\": \"" c        \
    "\"\n    }\n  }\n}\n"

static void test_layouts(void)
{
    CHECK_STR(read_layout(EV("A") "\n" EV("B") "\n"), "A@1 B@2 ");
    /* pretty-printed, one after another (jq .), and with evtx_dump's headers */
    CHECK_STR(read_layout(PRETTY("A") PRETTY("B")), "A@1 B@9 ");
    CHECK_STR(read_layout("Record 1\n" PRETTY("A") "Record 2\n" PRETTY("B")), "A@2 B@11 ");
    /* a byte order mark first */
    CHECK_STR(read_layout("\xEF\xBB\xBF" PRETTY("A")), "A@1 ");
    /* an array, pretty or on one line (ConvertTo-Json) */
    CHECK_STR(read_layout("[\n  " EV("A") ",\n  " EV("B") "\n]\n"), "A@2 B@3 ");
    CHECK_STR(read_layout("[" EV("A") "," EV("B") "]"), "A@1 B@1 ");
    /* damage: an object cut short is reported at its first line, the next one read */
    CHECK_STR(read_layout("{\n  \"Event\": {\n    \"System\": {\"Computer\": \"A\"}\n" PRETTY("B")),
              "[1: JSON object ends early; skipped] B@4 ");
    /* a string left open, a stray line, a bad value (its own line), an open end */
    CHECK_STR(read_layout("{\n \"a\": \"open\n}\n" PRETTY("B") "stray\n"
                                                               "{\n \"Event\": tru\n}\n{\n"),
              "[1: unterminated string in a JSON object; skipped] [3: not a JSON object; line "
              "skipped] B@4 [12: not a JSON object; line skipped] [14: invalid literal at column "
              "11] [16: JSON object not closed at the end of the input] ");
}

/* Replays fuzz/corpus/fuzz_jsonl: every file parses or fails cleanly. */
static void corpus_file(void *ud, const char *path, char *buf, size_t n)
{
    (void)ud, (void)path;
    bool ok = parse_n(buf, n);
    CHECK(ok || why != NULL);
}

static void test_corpus(const char *dir)
{
    int files = test_each_file(dir, corpus_file, NULL);
    if (files >= 0)
        printf("corpus: %d files\n", files);
}

int main(int argc, char **argv)
{
    ig_arena_init(&arena, 0);
    ev_init(&ev, &arena);
    test_evtx_shape();
    test_ecs_shape();
    test_nxlog_shape();
    test_generic();
    test_strings();
    test_numbers();
    test_malformed();
    test_limits();
    test_time();
    test_layouts();
    if (argc > 1)
        test_corpus(argv[1]);
    ev_free(&ev);
    ig_arena_destroy(&arena);
    test_alloc_failures();
    TEST_MAIN_END();
}
