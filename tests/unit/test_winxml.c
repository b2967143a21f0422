/* Windows event XML reader (src/formats/winxml): input shapes, values,
 * streaming in small pieces, errors, limits, and field-for-field agreement
 * with the EVTX reader on the same events.
 *
 * usage: test_winxml [DIR | [--strict] FILE.evtx]...
 *   DIR        replays every saved fuzzer input in DIR (fuzz/corpus/fuzz_winxml)
 *   FILE.evtx  compares the EVTX reader's events with this reader's events
 *              from the XML dump of the same file (`dump --format xml`);
 *              after --strict record ids and times must agree too (files
 *              made by igfix; real samples are often renumbered) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "event/event.h"
#include "formats/winxml/winxml.h"
#include "formats/winxml/winxml_limits.h"
#include "iisguard/evtx.h"
#include "iisguard/evtx_writer.h"
#include "test.h"

/* ---- collecting events ---------------------------------------------------- */

#define MAXEV 64

typedef struct col {
    char *dump; /* "name=value|name=value|...\n" per event */
    size_t len, cap;
    int events, errors;
    uint64_t line[MAXEV], rid[MAXEV], time[MAXEV];
    uint64_t eline, ecol; /* first error */
    char ewhat[200];
} col;

static void put(col *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *d = realloc(c->dump, cap);
        if (d == NULL)
            abort();
        c->dump = d;
        c->cap = cap;
    }
    memcpy(c->dump + c->len, s, n);
    c->len += n;
    c->dump[c->len] = '\0';
}

/* Appends `s` with newlines and | written as \\n, \\r, \\x7c (the dump's
 * separators stay unambiguous). */
static void put_esc(col *c, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put(c, "\\n", 2);
        else if (s[i] == '\r')
            put(c, "\\r", 2);
        else if (s[i] == '|')
            put(c, "\\x7c", 4);
        else
            put(c, s + i, 1);
    }
}

static void on_event(void *ud, ig_event *ev)
{
    col *c = ud;
    for (size_t i = 0; i < ig_event_field_count(ev); i++) {
        ig_strv n, v;
        if (!ig_event_field_at(ev, i, &n, &v))
            continue;
        put_esc(c, n.p, n.len);
        put(c, "=", 1);
        put_esc(c, v.p, v.len);
        put(c, "|", 1);
    }
    put(c, "\n", 1);
    if (c->events < MAXEV) {
        ig_event_origin o;
        ig_event_origin_get(ev, &o);
        c->line[c->events] = o.offset;
        c->rid[c->events] = o.record_id;
        c->time[c->events] = ig_event_time(ev);
        if (o.path == NULL || strcmp(o.path, "t.xml") != 0)
            c->line[c->events] = UINT64_MAX;
    }
    c->events++;
}

static void on_error(void *ud, uint64_t line, uint64_t column, const char *what)
{
    col *c = ud;
    if (c->errors++ == 0) {
        c->eline = line;
        c->ecol = column;
        snprintf(c->ewhat, sizeof(c->ewhat), "%s", what);
    }
}

static void col_free(col *c)
{
    free(c->dump);
    memset(c, 0, sizeof(*c));
}

/* Reads `n` bytes in pieces of `piece` bytes (0: one piece); returns what
 * the last wx_feed returned. */
static bool run_n(col *c, const char *xml, size_t n, size_t piece)
{
    memset(c, 0, sizeof(*c));
    put(c, "", 0);
    wx_reader *r = wx_create("t.xml", on_event, on_error, c);
    if (r == NULL)
        return false;
    bool ok = true;
    if (piece == 0) {
        ok = wx_feed(r, xml, n, true);
    } else {
        size_t i = 0;
        for (; ok && i + piece < n; i += piece)
            ok = wx_feed(r, xml + i, piece, false);
        if (ok)
            ok = wx_feed(r, xml + i, n - i, true);
    }
    wx_destroy(r);
    return ok;
}

static bool run(col *c, const char *xml, size_t piece)
{
    return run_n(c, xml, strlen(xml), piece);
}

/* The reading of `xml` is the same in one piece and in pieces of 1, 2, 3
 * and 7 bytes. */
static void check_pieces(const char *xml, size_t n)
{
    col a, b;
    bool oka = run_n(&a, xml, n, 0);
    static const size_t sizes[] = {1, 2, 3, 7, 4096};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        bool okb = run_n(&b, xml, n, sizes[k]);
        CHECK(oka == okb);
        CHECK(a.events == b.events && a.errors == b.errors);
        CHECK_STR(b.dump, a.dump);
        CHECK(a.eline == b.eline && a.ecol == b.ecol);
        for (int i = 0; i < a.events && i < MAXEV; i++)
            CHECK(a.line[i] == b.line[i] && a.rid[i] == b.rid[i] && a.time[i] == b.time[i]);
        col_free(&b);
    }
    col_free(&a);
}

/* ---- inputs ------------------------------------------------------------- */

#define NS "xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\""

static const char ev1[] =
    "<Event " NS "><System><Provider Name=\"Microsoft-Windows-Security-Auditing\" "
    "Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\"/><EventID>4688</EventID><Version>2</Version>"
    "<Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>"
    "<TimeCreated SystemTime=\"2024-03-12T08:00:01.8740935Z\"/><EventRecordID>2</EventRecordID>"
    "<Correlation/><Execution ProcessID=\"4\" ThreadID=\"7800\"/><Channel>Security</Channel>"
    "<Computer>WEB01</Computer><Security/></System><EventData>"
    "<Data Name=\"SubjectUserName\">DefaultAppPool</Data>"
    "<Data Name=\"NewProcessName\">C:\\Windows\\System32\\cmd.exe</Data></EventData></Event>";

static const char ev1_fields[] =
    "Provider=|Provider_Name=Microsoft-Windows-Security-Auditing|"
    "Provider_Guid={54849625-5478-4994-A5BA-3E3B0328C30D}|EventID=4688|Version=2|Level=0|"
    "Task=13312|Opcode=0|Keywords=0x8020000000000000|TimeCreated=|"
    "TimeCreated_SystemTime=2024-03-12T08:00:01.874093Z|EventRecordID=2|Correlation=|"
    "Execution=|Execution_ProcessID=4|Execution_ThreadID=7800|Channel=Security|Computer=WEB01|"
    "Security=|SubjectUserName=DefaultAppPool|NewProcessName=C:\\Windows\\System32\\cmd.exe|\n";

static const char ev2[] =
    "<Event " NS "><System><Provider Name=\"Service Control Manager\"/>"
    "<EventID Qualifiers=\"16384\">7045</EventID><TimeCreated SystemTime=\"2024-03-12T08:05:00Z\"/>"
    "<EventRecordID>3</EventRecordID><Correlation ActivityID=\"\"/><Channel>System</Channel>"
    "</System><EventData><Data Name=\"ServiceName\">evil</Data><Data Name=\"ImagePath\"/>"
    "<Data Name=\"StartType\"></Data></EventData></Event>";

static const char ev2_fields[] =
    "Provider=|Provider_Name=Service Control Manager|EventID=7045|EventID_Qualifiers=16384|"
    "TimeCreated=|TimeCreated_SystemTime=2024-03-12T08:05:00.000000Z|EventRecordID=3|"
    "Correlation=|Correlation_ActivityID=|Channel=System|ServiceName=evil|ImagePath=|StartType=|\n";

/* FILETIME of 2024-03-12T08:00:01.8740935Z and 2024-03-12T08:05:00Z */
#define FT1 133547040018740935ull
#define FT2 133547043000000000ull

static void test_wevtutil_stream(void)
{
    /* wevtutil qe /f:xml: events back to back, no root, no newline */
    char xml[4096];
    snprintf(xml, sizeof(xml), "%s%s", ev1, ev2);
    col c;
    CHECK(run(&c, xml, 0));
    CHECK(c.events == 2 && c.errors == 0);
    char want[2048];
    snprintf(want, sizeof(want), "%s%s", ev1_fields, ev2_fields);
    CHECK_STR(c.dump, want);
    CHECK(c.line[0] == 1 && c.line[1] == 1);
    CHECK(c.rid[0] == 2 && c.rid[1] == 3);
    CHECK(c.time[0] == FT1 && c.time[1] == FT2);
    col_free(&c);
    check_pieces(xml, strlen(xml));
}

static void test_wrapped(void)
{
    /* Event Viewer "Save as XML": declaration + <Events> root, one per line */
    char xml[4096];
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events>\r\n%s\r\n%s\r\n</Events>\r\n",
             ev1, ev2);
    col c;
    CHECK(run(&c, xml, 0));
    char want[2048];
    snprintf(want, sizeof(want), "%s%s", ev1_fields, ev2_fields);
    CHECK_STR(c.dump, want);
    CHECK(c.events == 2 && c.errors == 0);
    CHECK(c.line[0] == 3 && c.line[1] == 4);
    col_free(&c);
    check_pieces(xml, strlen(xml));

    /* a byte order mark and white space before the declaration */
    snprintf(xml, sizeof(xml), "\xEF\xBB\xBF\n\n  <?xml version=\"1.0\"?>%s\n%s", ev1, ev2);
    CHECK(run(&c, xml, 0));
    CHECK_STR(c.dump, want);
    CHECK(c.line[0] == 3 && c.line[1] == 4);
    col_free(&c);
    check_pieces(xml, strlen(xml));
}

static void test_one_per_line(void)
{
    char xml[8192];
    snprintf(xml, sizeof(xml), "%s\n%s\n%s\n", ev1, ev2, ev1);
    col c;
    CHECK(run(&c, xml, 0));
    CHECK(c.events == 3 && c.errors == 0);
    CHECK(c.line[0] == 1 && c.line[1] == 2 && c.line[2] == 3);
    char want[4096];
    snprintf(want, sizeof(want), "%s%s%s", ev1_fields, ev2_fields, ev1_fields);
    CHECK_STR(c.dump, want);
    col_free(&c);
}

static void test_pretty(void)
{
    static const char xml[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                              "<Events>\n"
                              "  <Event " NS ">\n"
                              "    <System>\n"
                              "      <Provider Name=\"Service Control Manager\" />\n"
                              "      <EventID Qualifiers=\"16384\">7045</EventID>\n"
                              "      <TimeCreated SystemTime=\"2024-03-12T08:05:00Z\" />\n"
                              "      <EventRecordID>3</EventRecordID>\n"
                              "      <Correlation ActivityID=\"\" />\n"
                              "      <Channel>System</Channel>\n"
                              "    </System>\n"
                              "    <EventData>\n"
                              "      <Data Name=\"ServiceName\">evil</Data>\n"
                              "      <Data Name=\"ImagePath\" />\n"
                              "      <Data Name=\"StartType\">\n"
                              "      </Data>\n"
                              "    </EventData>\n"
                              "  </Event>\n"
                              "</Events>\n";
    col c;
    CHECK(run(&c, xml, 0));
    CHECK_STR(c.dump, ev2_fields);
    CHECK(c.events == 1 && c.line[0] == 3 && c.rid[0] == 3 && c.time[0] == FT2);
    col_free(&c);
    check_pieces(xml, strlen(xml));

    /* indentation around child elements of a Data is not text */
    static const char mixed[] =
        "<Event><EventData>\n <Data Name=\"a\">\n  <x>in</x>\n  v1\n  <y/>\n"
        " </Data>\n <Data>w<z/>x</Data>\n <Data>\n  <q/>\n </Data>\n"
        "</EventData></Event>";
    CHECK(run(&c, mixed, 0));
    CHECK_STR(c.dump, "a=\\n  v1|Data=wx|Data=|\n");
    col_free(&c);
}

static void test_values(void)
{
    /* entities, character references, CDATA; trailing white space goes
     * (including U+00A0 and U+3000), leading stays */
    static const char xml[] =
        "<Event><System><Computer>a &amp; b &lt;c&gt; &quot;q&quot; &apos;x&apos;</Computer>"
        "<Channel>&#65;&#x42;&#x20AC;&#x1F600;</Channel></System><EventData>"
        "<Data Name=\"cdata\"><![CDATA[<not> &amp; markup]]></Data>"
        "<Data Name=\"cr\">l1&#13;&#10;l2&#10;</Data>"
        "<Data Name=\"trail\">  x \t&#10; \xC2\xA0\xE3\x80\x80</Data>"
        "<Data Name=\"attr&amp;name\">v</Data>"
        "<Data>u1</Data><Data/><Data>u3</Data>"
        "<Binary>00FF</Binary>"
        "</EventData></Event>";
    col c;
    CHECK(run(&c, xml, 0));
    CHECK_STR(c.dump, "Computer=a & b <c> \"q\" 'x'|Channel=AB\xE2\x82\xAC\xF0\x9F\x98\x80|"
                      "cdata=<not> &amp; markup|cr=l1\\r\\nl2|trail=  x|attr&name=v|"
                      "Data=u1|Data=|Data=u3|Binary=00FF|\n");
    CHECK(c.rid[0] == 0 && c.time[0] == 0);
    col_free(&c);
    check_pieces(xml, strlen(xml));
}

static void test_forbidden_chars(void)
{
    /* C0 controls, raw or as references, become control pictures; the
     * events after them are still read (no evasion by an ill-formed value) */
    char xml[2048];
    snprintf(xml, sizeof(xml),
             "<Event><EventData><Data Name=\"raw\">a\x01 b\x1F\x0B</Data>"
             "<Data Name=\"ref\">&#1;&#x1f;&#X1F;&#x0000000003;&#0;&#9;&#65;&#x;&#;&amp;#1;</Data>"
             "<Data Name=\"bad\">&#xD800;&#xFFFE;&#xFFFF;&#x110000;&#99999999999;</Data>"
             "<Data Name=\"n&#2;\">v</Data></EventData></Event>\n%s",
             ev2);
    col c;
    CHECK(!run(&c, xml, 0)); /* &#x; and &#; are not references: expat's error */
    CHECK(c.events == 0 && c.errors == 1);
    col_free(&c);
    snprintf(xml, sizeof(xml),
             "<Event><EventData><Data Name=\"raw\">a\x01 b\x1F\x0B</Data>"
             "<Data Name=\"ref\">&#1;&#x1f;&#x0000000003;&#0;&#9;&#65;&amp;#1;</Data>"
             "<Data Name=\"bad\">&#xD800;&#xFFFE;&#xFFFF;&#x110000;&#99999999999;</Data>"
             "<Data Name=\"n&#2;\">v</Data></EventData></Event>\n%s",
             ev2);
    CHECK(run(&c, xml, 0));
    CHECK(c.events == 2 && c.errors == 0);
    char want[2048];
    snprintf(want, sizeof(want),
             "raw=a\xE2\x90\x81 b\xE2\x90\x9F\xE2\x90\x8B|"
             "ref=\xE2\x90\x81\xE2\x90\x9F\xE2\x90\x83\xE2\x90\x80\tA&#1;|"
             "bad=\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
             "n\xE2\x90\x82=v|\n%s",
             ev2_fields);
    CHECK_STR(c.dump, want);
    CHECK(c.line[1] == 2);
    col_free(&c);
    check_pieces(xml, strlen(xml));

    /* a reference with more digits than WX_MAX_REF is left to expat */
    CHECK(!run(&c, "<Event><System><Computer>&#x0000000000001;</Computer></System></Event>", 0));
    CHECK(c.errors == 1 && c.events == 0);
    CHECK_STR(c.ewhat, "reference to invalid character number");
    col_free(&c);
    /* an input that ends in a reference */
    CHECK(!run(&c, "<Event/>&#x1", 0));
    CHECK(c.events == 1 && c.errors == 1);
    col_free(&c);

    /* UTF-16: raw control units too */
    static const char src[] = "<Event><System><Computer>a\x01&#2;</Computer></System></Event>";
    char u16[256];
    size_t n = 0;
    for (size_t i = 0; src[i]; i++)
        u16[n++] = src[i], u16[n++] = 0;
    CHECK(run_n(&c, u16, n, 0));
    CHECK_STR(c.dump, "Computer=a\xE2\x90\x81\xE2\x90\x82|\n");
    col_free(&c);
    check_pieces(u16, n);

    /* ISO-8859-1 is left as it is: a raw control is expat's error */
    CHECK(!run(&c,
               "<?xml version='1.0' encoding='ISO-8859-1'?><Event><System><Computer>\x01"
               "</Computer></System></Event>",
               0));
    CHECK(c.errors == 1);
    col_free(&c);
}

static void test_userdata(void)
{
    static const char xml[] =
        "<Event " NS "><System><EventID>1102</EventID><EventRecordID>99</EventRecordID></System>"
        "<UserData><LogFileCleared xmlns=\"http://manifests.microsoft.com/win/2004/08/windows/"
        "eventlog\"><SubjectUserSid>S-1-5-21-1</SubjectUserSid><SubjectUserName>admin"
        "</SubjectUserName><Deep><Deeper a=\"1\">leaf</Deeper></Deep><Empty/></LogFileCleared>"
        "</UserData><RenderingInfo Culture=\"en-US\"><Message>The audit log was cleared."
        "</Message><Level>Information</Level><Keywords><Keyword>Audit Success</Keyword>"
        "</Keywords></RenderingInfo><ProcessingErrorData><ErrorCode>15005</ErrorCode>"
        "</ProcessingErrorData><DebugData>dbg</DebugData></Event>";
    col c;
    CHECK(run(&c, xml, 0));
    CHECK_STR(c.dump, "EventID=1102|EventRecordID=99|SubjectUserSid=S-1-5-21-1|"
                      "SubjectUserName=admin|Deeper=leaf|Empty=|Message=The audit log was cleared.|"
                      "Level=Information|Keyword=Audit Success|ErrorCode=15005|DebugData=dbg|\n");
    CHECK(c.rid[0] == 99);
    col_free(&c);

    /* a System child with child elements keeps only its attributes; text
     * and elements outside events are ignored; an Event inside an event is
     * data */
    static const char odd[] = "junk<Other>t<Event><System><Provider Name=\"p\"><x>y</x></Provider>"
                              "</System><UserData><Event><EventID>5</EventID></Event></UserData>"
                              "</Event></Other>";
    CHECK(run(&c, odd, 0));
    CHECK_STR(c.dump, "Provider_Name=p|EventID=5|\n");
    col_free(&c);
}

static void test_time(void)
{
    static const struct {
        const char *in, *out;
        uint64_t ft;
    } t[] = {
        {"2024-03-12T08:05:00Z", "2024-03-12T08:05:00.000000Z", FT2},
        {"2024-03-12T08:05:00.1Z", "2024-03-12T08:05:00.100000Z", FT2 + 1000000},
        {"2024-03-12T08:05:00.1234567Z", "2024-03-12T08:05:00.123456Z", FT2 + 1234567},
        {"2024-03-12T08:05:00.123456789Z", "2024-03-12T08:05:00.123456Z", FT2 + 1234567},
        {"1601-01-01T00:00:00.0000001Z", "1601-01-01T00:00:00.000000Z", 1},
        {"2000-02-29T23:59:59Z", "2000-02-29T23:59:59.000000Z", 125963423990000000ull},
        {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z", 116444736000000000ull},
        /* not parsed: kept as is, time unknown */
        {"2023-02-29T00:00:00Z", NULL, 0},
        {"2024-03-12T08:05:00", NULL, 0},
        {"2024-03-12T08:05:00.Z", NULL, 0},
        {"2024-03-12T08:05:00.1234567890Z", NULL, 0},
        {"2024-03-12 08:05:00Z", NULL, 0},
        {"1600-12-31T23:59:59Z", NULL, 0},
        {"2024-13-01T00:00:00Z", NULL, 0},
        {"2024-03-12T24:00:00Z", NULL, 0},
        {"2024-03-12T08:05:60Z", NULL, 0},
        {"+024-03-12T08:05:00Z", NULL, 0},
        {"", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char xml[256], want[256];
        snprintf(xml, sizeof(xml),
                 "<Event><System><TimeCreated SystemTime=\"%s\"/></System></Event>", t[i].in);
        snprintf(want, sizeof(want), "TimeCreated=|TimeCreated_SystemTime=%s|\n",
                 t[i].out ? t[i].out : t[i].in);
        col c;
        CHECK(run(&c, xml, 0));
        CHECK_STR(c.dump, want);
        if (c.time[0] != t[i].ft)
            fprintf(stderr, "time of %s: %llu\n", t[i].in, (unsigned long long)c.time[0]);
        CHECK(c.time[0] == t[i].ft);
        col_free(&c);
    }
}

static void test_encodings(void)
{
    /* UTF-16LE with a byte order mark and declaration (Event Viewer) */
    static const char src[] = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Events><Event><System>"
                              "<Computer>WEB\xC3\xBC</Computer></System></Event></Events>";
    char u16[512];
    size_t n = 0;
    u16[n++] = (char)0xFF, u16[n++] = (char)0xFE;
    for (size_t i = 0; src[i]; i++) {
        unsigned ch = (unsigned char)src[i];
        if (ch == 0xC3) /* the one non-ASCII character: ü */
            ch = 0xFC, i++;
        u16[n++] = (char)ch, u16[n++] = 0;
    }
    col c;
    CHECK(run_n(&c, u16, n, 0));
    CHECK_STR(c.dump, "Computer=WEB\xC3\xBC|\n");
    CHECK(c.errors == 0 && c.line[0] == 2);
    col_free(&c);
    check_pieces(u16, n);
    /* without the byte order mark and declaration, big-endian */
    char be[512];
    size_t m = 0;
    for (size_t i = 2 + 2 * 40; i + 1 < n; i += 2)
        be[m++] = u16[i + 1], be[m++] = u16[i];
    CHECK(run_n(&c, be, m, 0));
    CHECK_STR(c.dump, "Computer=WEB\xC3\xBC|\n");
    col_free(&c);
    check_pieces(be, m);

    /* text re-encoded to UTF-8 that kept encoding="UTF-16" */
    CHECK(run(&c, src, 0));
    CHECK_STR(c.dump, "Computer=WEB\xC3\xBC|\n");
    col_free(&c);
    /* ISO-8859-1 as declared */
    CHECK(run(&c,
              "<?xml version='1.0' encoding='ISO-8859-1'?><Event><System><Computer>\xFC"
              "</Computer></System></Event>",
              0));
    CHECK_STR(c.dump, "Computer=\xC3\xBC|\n");
    col_free(&c);
    /* an encoding expat does not know is an error */
    CHECK(!run(&c, "<?xml version='1.0' encoding='x-unknown'?><Event/>", 0));
    CHECK(c.errors == 1);
    col_free(&c);
}

static void test_errors(void)
{
    col c;
    /* the events before are delivered; the error names line 3, column 28 (the
     * name in the end tag) */
    char xml[4096];
    snprintf(xml, sizeof(xml), "%s\n%s\n<Event><System><EventID>1</EventIDx></System></Event>\n%s",
             ev1, ev2, ev1);
    CHECK(!run(&c, xml, 0));
    CHECK(c.events == 2 && c.errors == 1);
    CHECK(c.eline == 3 && c.ecol == 28);
    CHECK_STR(c.ewhat, "mismatched tag");
    col_free(&c);
    check_pieces(xml, strlen(xml));

    /* on the first line the wrapper is not counted */
    CHECK(!run(&c, "<Event><System>&bogus;</System></Event>", 0));
    CHECK(c.eline == 1 && c.ecol == 16);
    CHECK_STR(c.ewhat, "undefined entity");
    col_free(&c);
    CHECK(!run(&c, "<?xml version=\"1.0\"?><Event <", 0));
    CHECK(c.eline == 1 && c.ecol == 29);
    col_free(&c);

    /* truncated input: the last event is dropped and reported */
    snprintf(xml, sizeof(xml), "%s\n<Event><System><EventID>1</Even", ev1);
    CHECK(!run(&c, xml, 0));
    CHECK(c.events == 1 && c.errors == 1 && c.eline == 2);
    col_free(&c);
    snprintf(xml, sizeof(xml), "%s\n<Event><System>", ev1);
    CHECK(!run(&c, xml, 0));
    CHECK(c.events == 1 && c.errors == 1 && c.eline == 2);
    CHECK_STR(c.ewhat, "input ends inside an element");
    col_free(&c);
    snprintf(xml, sizeof(xml), "%s\n<Event><Sys", ev1);
    CHECK(!run(&c, xml, 0));
    CHECK(c.events == 1 && c.errors == 1 && c.eline == 2);
    CHECK_STR(c.ewhat, "input ends inside markup");
    col_free(&c);
    /* an error that expat finds only when the end comes keeps its message */
    CHECK(!run(&c, "</Evve>/&##", 3));
    CHECK_STR(c.ewhat, "mismatched tag");
    col_free(&c);

    /* a reader stays failed; feeding after the final piece fails */
    wx_reader *r = wx_create("t.xml", on_event, on_error, &c);
    memset(&c, 0, sizeof(c));
    CHECK(!wx_feed(r, "<a></b>", 7, false));
    CHECK(!wx_feed(r, "<a/>", 4, true));
    CHECK(c.errors == 1);
    wx_destroy(r);
    r = wx_create("t.xml", on_event, NULL, &c);
    CHECK(wx_feed(r, "", 0, false) && wx_feed(r, NULL, 0, true));
    CHECK(!wx_feed(r, "<a/>", 4, true));
    CHECK(!wx_feed(r, "<a></b>", 7, true)); /* no on_error: no report */
    wx_destroy(r);
    wx_destroy(NULL);
    CHECK(wx_create("x", NULL, NULL, NULL) == NULL);
    col_free(&c);

    /* empty and white-space-only inputs hold no events and no errors */
    CHECK(run(&c, "", 0) && c.events == 0 && c.errors == 0);
    col_free(&c);
    CHECK(run(&c, " \r\n\t", 1) && c.events == 0 && c.errors == 0);
    col_free(&c);
    CHECK(run(&c, "<?xml version=\"1.0\"?>", 1) && c.events == 0 && c.errors == 0);
    col_free(&c);
}

static void test_doctype(void)
{
    static const char *const bad[] = {
        ("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
         "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
         "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
         "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
         "]>\n<Event><System><Computer>&lol3;</Computer></System></Event>"),
        ("<!DOCTYPE Event [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Event><System>"
         "<Computer>&x;</Computer></System></Event>"),
        "<Event><System><Computer>ok</Computer></System></Event>\n<!DOCTYPE x>",
        "<Event><System><Computer>&x;</Computer></System></Event>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        col c;
        CHECK(!run(&c, bad[i], 0));
        CHECK(c.errors == 1);
        CHECK(c.dump == NULL || strstr(c.dump, "lol") == NULL);
        CHECK(c.dump == NULL || strstr(c.dump, "root:") == NULL);
        CHECK(c.events == (i == 2 ? 1 : 0));
        col_free(&c);
    }
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *n)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * times + tl + 1);
    if (s == NULL)
        abort();
    memcpy(s, head, hl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * times, tail, tl + 1);
    *n = hl + ul * times + tl;
    return s;
}

static void test_limits(void)
{
    col c;
    size_t n;
    /* a value over WX_MAX_FIELD_TEXT is cut at a character boundary */
    char *s =
        repeat("<Event><EventData><Data Name=\"big\">", "\xE2\x82\xAC", WX_MAX_FIELD_TEXT / 3 + 10,
               "</Data><Data Name=\"next\">n</Data></EventData></Event>", &n);
    CHECK(run_n(&c, s, n, 0));
    CHECK(c.events == 1 && c.errors == 1);
    CHECK(strstr(c.ewhat, "cut") != NULL);
    size_t want = WX_MAX_FIELD_TEXT / 3 * 3;
    CHECK(c.len == strlen("big=") + want + strlen("|next=n|\n"));
    CHECK(c.dump != NULL && strstr(c.dump, "|next=n|") != NULL);
    col_free(&c);
    free(s);

    /* fields past WX_MAX_FIELDS are dropped (reported once) */
    s = repeat("<Event><EventData>", "<Data>v</Data>", WX_MAX_FIELDS + 50, "</EventData></Event>",
               &n);
    CHECK(run_n(&c, s, n, 0));
    CHECK(c.events == 1 && c.errors == 1);
    CHECK(c.len == WX_MAX_FIELDS * strlen("Data=v|") + 1);
    col_free(&c);
    free(s);

    /* an event larger than WX_MAX_EVENT_TEXT keeps its first fields */
    char unit[4000];
    memset(unit, 'x', sizeof(unit));
    memcpy(unit, "<a>", 3);
    memcpy(unit + sizeof(unit) - 5, "</a>", 5);
    s = repeat("<Event><UserData>", unit, WX_MAX_EVENT_TEXT / 3900, "</UserData></Event>", &n);
    CHECK(run_n(&c, s, n, 0));
    CHECK(c.events == 1 && c.errors == 1);
    CHECK(c.len < WX_MAX_EVENT_TEXT && c.len > WX_MAX_EVENT_TEXT - 65536);
    col_free(&c);
    free(s);

    /* nesting deeper than WX_MAX_NESTING is refused */
    s = repeat("", "<a>", WX_MAX_NESTING + 5, "", &n);
    CHECK(!run_n(&c, s, n, 0));
    CHECK(c.errors == 1 && strstr(c.ewhat, "nested") != NULL);
    CHECK(c.eline == 1 && c.ecol == 3u * (WX_MAX_NESTING - 1) + 1);
    col_free(&c);
    free(s);

    /* below an Event, elements deeper than IG_MAX_XML_DEPTH are ignored (as
     * the EVTX reader ignores them) */
    char deep[4096];
    size_t k = 0;
    k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<Event><UserData>");
    for (unsigned i = 2; i <= WX_MAX_EVENT_DEPTH; i++)
        k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<d%u>", i);
    k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<x>too deep</x><y>z</y></d%u>",
                          WX_MAX_EVENT_DEPTH);
    k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<e>ok</e>");
    for (unsigned i = WX_MAX_EVENT_DEPTH - 1; i >= 2; i--)
        k += (size_t)snprintf(deep + k, sizeof(deep) - k, "</d%u>", i);
    snprintf(deep + k, sizeof(deep) - k, "</UserData></Event>");
    CHECK(run(&c, deep, 0));
    CHECK_STR(c.dump, "e=ok|\n");
    col_free(&c);

    /* many attributes on a System child */
    char attrs[8192];
    k = (size_t)snprintf(attrs, sizeof(attrs), "<Event><System><Execution");
    for (unsigned i = 0; i < WX_MAX_ATTRS + 3; i++)
        k += (size_t)snprintf(attrs + k, sizeof(attrs) - k, " a%u=\"%u\"", i, i);
    snprintf(attrs + k, sizeof(attrs) - k, "/></System></Event>");
    CHECK(run(&c, attrs, 0));
    CHECK(c.events == 1 && c.errors == 1);
    CHECK(c.dump != NULL && strstr(c.dump, "Execution_a31=31|\n") != NULL);
    col_free(&c);
}

/* Every allocation failing in turn: no crash, no leak, events are either
 * delivered whole or the input fails. */
static void test_oom(void)
{
    char xml[4096];
    snprintf(xml, sizeof(xml), "<?xml version=\"1.0\"?><Events>%s%s</Events>", ev1, ev2);
    int completed = 0;
    for (long n = 0; n < 200 && !completed; n++) {
        col c;
        memset(&c, 0, sizeof(c));
        ig_alloc_fail_after(n);
        wx_reader *r = wx_create("t.xml", on_event, on_error, &c);
        bool ok = r != NULL && wx_feed(r, xml, strlen(xml), true);
        ig_alloc_fail_after(-1);
        wx_destroy(r);
        if (ok && c.errors == 0) {
            char want[2048];
            snprintf(want, sizeof(want), "%s%s", ev1_fields, ev2_fields);
            CHECK_STR(c.dump, want);
            completed = 1;
        }
        col_free(&c);
    }
    CHECK(completed);
}

/* ---- agreement with the EVTX reader ----------------------------------- */

static int mem_out(void *ud, const char *data, size_t len)
{
    col *c = ud;
    put(c, data, len);
    return 0;
}

static void evtx_event(void *tud, ig_event *ev, ig_evtx_emit *out)
{
    (void)out;
    on_event(tud, ev);
}

/* Is `x` (winxml) the XML rendering of the GUID-typed `e` (EVTX text)? */
static bool guid_same(const char *x, size_t xl, const char *e, size_t el)
{
    if (xl != 38 || el != 36 || x[0] != '{' || x[37] != '}')
        return false;
    for (size_t i = 0; i < 36; i++) {
        char a = x[i + 1], b = e[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 32);
        if (a != b)
            return false;
    }
    return true;
}

/* Are `x` and `e` the same ISO 8601 time to the microsecond (a typed
 * FILETIME: 7 digits in XML, 6 in the EVTX reader's text)? */
static bool time_same(const char *x, size_t xl, const char *e, size_t el)
{
    if (xl < 21 || el < 21 || memcmp(x, e, 19) != 0 || x[10] != 'T' || x[19] != '.' ||
        e[19] != '.' || x[xl - 1] != 'Z' || e[el - 1] != 'Z')
        return false;
    for (size_t i = 20; i < 26; i++) {
        char a = i < xl - 1 ? x[i] : '0', b = i < el - 1 ? e[i] : '0';
        if (a != b || a < '0' || a > '9')
            return false;
    }
    return true;
}

/* Length of escaped dump text `s` without trailing white space. */
static size_t trim_dump(const char *s, size_t n)
{
    for (;;) {
        if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        else if (n > 1 && s[n - 2] == '\\' && (s[n - 1] == 'n' || s[n - 1] == 'r'))
            n -= 2;
        else
            return n;
    }
}

/* Are `x` and `e` equal but for white space at the end of the value or of an
 * element of a string array (", " joins them; the EVTX reader trims each
 * element, text nodes it keeps as they are)? */
static bool space_same(const char *x, size_t xl, const char *e, size_t el)
{
    xl = trim_dump(x, xl);
    el = trim_dump(e, el);
    size_t i = 0, j = 0;
    for (;;) {
        const char *xs = strstr(x + i, ", "), *es = strstr(e + j, ", ");
        size_t xe = xs != NULL && (size_t)(xs - x) + 2 <= xl ? (size_t)(xs - x) : xl;
        size_t ee = es != NULL && (size_t)(es - e) + 2 <= el ? (size_t)(es - e) : el;
        size_t a = trim_dump(x + i, xe - i), b = trim_dump(e + j, ee - j);
        if (a != b || memcmp(x + i, e + j, a) != 0)
            return false;
        if (xe == xl || ee == el)
            return xe == xl && ee == el;
        i = xe + 2;
        j = ee + 2;
    }
}

/* Is `x` the hexadecimal XML rendering ("0x24c") of the size_t `e` ("588")? */
static bool sizet_same(const char *x, size_t xl, const char *e, size_t el)
{
    if (xl < 3 || xl > 18 || x[0] != '0' || x[1] != 'x' || el == 0 || el > 20)
        return false;
    uint64_t a = 0, b = 0;
    for (size_t i = 2; i < xl; i++) {
        char c = x[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16u;
        if (d == 16u)
            return false;
        a = a * 16u + d;
    }
    for (size_t i = 0; i < el; i++) {
        if (e[i] < '0' || e[i] > '9')
            return false;
        b = b * 10u + (uint64_t)(e[i] - '0');
    }
    return a == b;
}

/* Is `x` `e` with C0 controls shown as control pictures (U+2400 + c), as the
 * XML dump writes them because XML 1.0 cannot hold them? */
static bool controls_same(const char *x, size_t xl, const char *e, size_t el)
{
    size_t i = 0, j = 0;
    bool any = false;
    while (i < xl && j < el) {
        unsigned char c = (unsigned char)e[j];
        if (c < 0x20 && c != '\t' && i + 3 <= xl && (unsigned char)x[i] == 0xE2 &&
            (unsigned char)x[i + 1] == 0x90 && (unsigned char)x[i + 2] == 0x80 + c) {
            i += 3, j++, any = true;
        } else if (x[i] == e[j]) {
            i++, j++;
        } else {
            return false;
        }
    }
    return any && i == xl && j == el;
}

/* Compares the events of the EVTX image `img` as read by the EVTX reader and
 * by this reader from its XML dump (read in 4 KiB pieces).  Values may
 * differ only in the documented ways (counted and printed); `strict` also
 * requires the same record ids and times (the EVTX reader takes them from
 * the record header, which rewritten samples renumber).  Returns the number
 * of events. */
static int compare_evtx(const char *name, const uint8_t *img, size_t len, bool strict)
{
    col xml, ev, wx;
    memset(&xml, 0, sizeof(xml));
    memset(&ev, 0, sizeof(ev));
    ig_evtx_opts o = {0};
    o.format = IG_EVTX_XML;
    o.threads = 1;
    o.output = mem_out;
    o.output_ud = &xml;
    ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
    CHECK(d != NULL && ig_evtx_dumper_buffer(d, name, img, len) == IG_OK);
    ig_evtx_dumper_destroy(d);
    memset(&o, 0, sizeof(o));
    o.threads = 1;
    o.on_event = evtx_event;
    o.event_ud = &ev;
    d = ig_evtx_dumper_create(&o);
    CHECK(d != NULL && ig_evtx_dumper_buffer(d, name, img, len) == IG_OK);
    ig_evtx_dumper_destroy(d);
    CHECK(run_n(&wx, xml.dump ? xml.dump : "", xml.len, 4096));
    CHECK(wx.errors == 0);
    CHECK(ev.events == wx.events);
    /* field by field: "name=value|", events end with "\n" */
    const char *a = ev.dump ? ev.dump : "", *b = wx.dump ? wx.dump : "";
    int fields = 0, guids = 0, times = 0, spaces = 0, sizets = 0, controls = 0, bad = 0;
    while (*a && *b) {
        size_t al = strcspn(a, "|\n"), bl = strcspn(b, "|\n");
        const char *aeq = memchr(a, '=', al), *beq = memchr(b, '=', bl);
        bool same = al == bl && memcmp(a, b, al) == 0 && a[al] == b[bl];
        if (!same && aeq && beq && aeq - a == beq - b && memcmp(a, b, (size_t)(aeq - a)) == 0 &&
            a[al] == b[bl]) {
            const char *ev_v = aeq + 1, *wx_v = beq + 1;
            size_t evl = al - (size_t)(aeq - a) - 1, wxl = bl - (size_t)(beq - b) - 1;
            if (guid_same(wx_v, wxl, ev_v, evl))
                same = true, guids++;
            else if (time_same(wx_v, wxl, ev_v, evl))
                same = true, times++;
            else if (space_same(wx_v, wxl, ev_v, evl))
                same = true, spaces++;
            else if (sizet_same(wx_v, wxl, ev_v, evl))
                same = true, sizets++;
            else if (controls_same(wx_v, wxl, ev_v, evl))
                same = true, controls++;
        }
        if (!same && bad++ < 5)
            fprintf(stderr, "%s: EVTX %.*s\n%s: XML  %.*s\n", name, (int)al, a, name, (int)bl, b);
        fields++;
        a += al + (a[al] != '\0');
        b += bl + (b[bl] != '\0');
    }
    CHECK(bad == 0 && *a == '\0' && *b == '\0');
    int ids = 0;
    for (int i = 0; i < ev.events && i < MAXEV; i++)
        ids += ev.rid[i] != wx.rid[i] || ev.time[i] != wx.time[i];
    CHECK(!strict || ids == 0);
    printf("%s: %d events, %d fields; differing as documented: %d GUID braces/case, "
           "%d time digits, %d white space, %d size_t hex, %d control pictures; "
           "%d of the first %d differ in record id/time\n",
           name, wx.events, fields, guids, times, spaces, sizets, controls, ids,
           ev.events < MAXEV ? ev.events : MAXEV);
    int n = wx.events;
    col_free(&xml);
    col_free(&ev);
    col_free(&wx);
    return n;
}

static void test_vs_evtx_writer(void)
{
    ig_evtx_writer *w = ig_evtx_writer_create();
    static const char *const names[] = {"Plain",  "Markup",  "Trailing", "Leading", "Empty",
                                        "Null",   "Lines",   "Tab",      "Unicode", "Nbsp",
                                        "Braced", "Percent", "Control"};
    static const char *const values[] = {"C:\\Windows\\System32\\inetsrv\\w3wp.exe",
                                         "a & b <c> \"q\" 'x' ]]>",
                                         "cmd.exe   ",
                                         "   lead",
                                         "",
                                         NULL,
                                         "l1\r\nl2\nl3",
                                         "a\tb",
                                         "\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80",
                                         "nbsp\xC2\xA0",
                                         "{9b6d3c1a-f8ae-65f0-aff5-c9c495b19908}",
                                         "%1 %%1833",
                                         "ctl\x01x"};
    ig_evtx_event e = {0};
    e.provider = "Microsoft-Windows-Sysmon";
    e.provider_guid = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}";
    e.event_id = 1;
    e.version = 5;
    e.level = 4;
    e.task = 1;
    e.keywords = 0x8000000000000000ull;
    e.time_filetime = FT1;
    e.pid = 3012;
    e.tid = 3904;
    e.channel = "Microsoft-Windows-Sysmon/Operational";
    e.computer = "WEB01";
    e.user_sid = "S-1-5-18";
    e.ndata = sizeof(names) / sizeof(names[0]);
    e.data_names = names;
    e.data_values = values;
    CHECK(ig_evtx_writer_add(w, &e) == IG_OK);
    e.provider = "Service Control Manager";
    e.provider_guid = NULL;
    e.user_sid = NULL;
    e.ndata = 0;
    e.time_filetime = FT2 + 7; /* 100 ns digit below the rendering */
    CHECK(ig_evtx_writer_add(w, &e) == IG_OK);
    const uint8_t *img;
    size_t len;
    CHECK(ig_evtx_writer_finish(w, &img, &len) == IG_OK);
    CHECK(compare_evtx("writer", img, len, true) == 2);
    ig_evtx_writer_destroy(w);
}

static void compare_file(const char *path, bool igfix)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    CHECK(buf != NULL);
    if (buf != NULL)
        CHECK(compare_evtx(path, buf, len, igfix) > 0);
    free(buf);
}

/* ---- saved fuzzer inputs ------------------------------------------------ */

static void replay_file(void *ud, const char *path, char *buf, size_t len)
{
    (void)ud;
    /* whole, a byte at a time, and as fuzz/fuzz_winxml.c splits it: the
     * same events and the same errors */
    col a, b, c;
    bool oka = run_n(&a, buf, len, 0);
    bool okb = run_n(&b, buf, len, 1);
    memset(&c, 0, sizeof(c));
    wx_reader *r = wx_create("t.xml", on_event, on_error, &c);
    size_t pieces = 1 + len % 3;
    size_t cut1 = pieces == 3 ? len / 3 : pieces == 2 ? len / 2 : len;
    size_t cut2 = pieces == 3 ? 2 * (len / 3) : len;
    bool okc = r != NULL && wx_feed(r, buf, cut1, pieces == 1);
    if (okc && pieces >= 2)
        okc = wx_feed(r, buf + cut1, cut2 - cut1, pieces == 2);
    if (okc && pieces == 3)
        okc = wx_feed(r, buf + cut2, len - cut2, true);
    wx_destroy(r);
    bool same =
        oka == okb && oka == okc && a.events == b.events && a.events == c.events &&
        a.errors == b.errors && a.errors == c.errors && a.eline == b.eline && a.eline == c.eline &&
        a.ecol == b.ecol && a.ecol == c.ecol && a.len == b.len && a.len == c.len &&
        (a.len == 0 || (memcmp(a.dump, b.dump, a.len) == 0 && memcmp(a.dump, c.dump, a.len) == 0));
    if (!same)
        fprintf(stderr,
                "%s: read differently in pieces (%d/%d/%d events, errors at %llu:%llu "
                "/ %llu:%llu / %llu:%llu)\n",
                path, a.events, b.events, c.events, (unsigned long long)a.eline,
                (unsigned long long)a.ecol, (unsigned long long)b.eline, (unsigned long long)b.ecol,
                (unsigned long long)c.eline, (unsigned long long)c.ecol);
    CHECK(same);
    col_free(&a);
    col_free(&b);
    col_free(&c);
}

static void replay_dir(const char *dir)
{
    int n = test_each_file(dir, replay_file, NULL);
    if (n >= 0)
        printf("%s: %d saved inputs replayed\n", dir, n);
}

int main(int argc, char **argv)
{
    test_wevtutil_stream();
    test_wrapped();
    test_one_per_line();
    test_pretty();
    test_values();
    test_forbidden_chars();
    test_userdata();
    test_time();
    test_encodings();
    test_errors();
    test_doctype();
    test_limits();
    test_oom();
    test_vs_evtx_writer();
    bool strict = false;
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (l > 5 && strcmp(argv[i] + l - 5, ".evtx") == 0)
            compare_file(argv[i], strict);
        else if (strcmp(argv[i], "--strict") == 0)
            strict = true;
        else
            replay_dir(argv[i]);
    }
    TEST_MAIN_END();
}
