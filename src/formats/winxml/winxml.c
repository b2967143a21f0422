/* Windows event XML reader (see winxml.h).  The only file that includes
 * <expat.h>.
 *
 * expat needs one root element, while wevtutil prints <Event> elements back
 * to back: the stream is wrapped in a synthetic <r>...</r>.  The wrapper is
 * inserted after a leading byte order mark and <?xml ...?> declaration (a
 * declaration must come first), which are found in the first
 * WX_MAX_PROLOG bytes; the wrapper is written in the input's encoding.
 *
 * Fields mirror evtx_event_build (src/formats/evtx/event_evtx.c), whose walk
 * is reproduced here on the streaming parse: each open element gets a role
 * from its parent's role and section when it starts.  Only one element at a
 * time collects text (a System child, an EventData Data, or a leaf
 * candidate), and every element that makes a field has no descendant that
 * makes one, so fields are added at end tags in the EVTX reader's order. */
#include "formats/winxml/winxml.h"

#include <expat.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/civil.h"
#include "formats/winxml/winxml_limits.h"

/* Sections of an event (event_evtx.c's SEC_*). */
enum { SEC_TOP, SEC_SYSTEM, SEC_EVENTDATA, SEC_OTHER };

/* What an open element is. */
enum {
    R_OUTSIDE,   /* not in an event (the synthetic root, <Events>, ...) */
    R_EVENT,     /* <Event>: its children are in SEC_TOP */
    R_CONTAINER, /* its child elements are walked in section `sec` */
    R_SYSCHILD,  /* a System child: its text and its attributes */
    R_DATA,      /* an EventData <Data>: its text, named by its Name attribute */
    R_LEAF,      /* a field named after itself unless a child element appears */
    R_IGNORE     /* nothing of it or below it is a field */
};

typedef struct wx_frame {
    uint8_t role, sec;
} wx_frame;

/* Frames are kept for every level where an event's element can be. */
#define WX_FRAMES (WX_MAX_EVENT_LEVEL + WX_MAX_EVENT_DEPTH + 1u)

typedef struct wx_attr {
    const char *name, *val; /* in the event arena */
    uint32_t nlen, vlen;
} wx_attr;

struct wx_reader {
    XML_Parser p;
    const char *name;
    wx_event_fn on_event;
    wx_error_fn on_error;
    void *ud;
    ig_arena arena;
    ig_event ev;
    bool started, failed, finished;
    /* prolog: bytes held until the wrapper's place is known */
    uint8_t pre[WX_MAX_PROLOG];
    size_t prelen;
    unsigned unit;                       /* code unit size of the input: 1 or 2 (UTF-16) */
    bool be;                             /* UTF-16BE */
    uint64_t fed;                        /* bytes given to expat */
    uint64_t end;                        /* where the closing wrapper starts, once it is fed */
    bool in_end;                         /* parsing the closing wrapper */
    bool filter;                         /* replace characters XML 1.0 forbids (see filter_feed) */
    uint8_t carry[2 * (WX_MAX_REF + 4)]; /* held: a split code unit or reference */
    size_t ncarry;
    ig_buf work, out; /* filter_feed's input (carry + block) and output */
    /* expat positions → input positions */
    uint64_t skip_lines, skip_col, wrap_col;
    /* open elements */
    uint32_t depth;
    wx_frame fr[WX_FRAMES];
    /* the event being read */
    uint32_t ev_level;
    uint64_t ev_line, record_id;
    size_t ev_bytes;
    bool warned_fields, warned_bytes, warned_attrs;
    /* the element collecting text */
    bool coll, coll_elems, cut;
    uint32_t coll_level;
    size_t seg; /* start of the text after its last child element */
    ig_buf text;
    wx_attr attrs[WX_MAX_ATTRS];
    uint32_t nattrs;
    int data_name; /* R_DATA: 0 unnamed, 1 named, -1 name dropped */
    const char *dname;
    uint32_t dnlen;
    /* an unrecoverable error raised inside a handler */
    const char *fatal;
    uint64_t fatal_line, fatal_col;
    char msg[160];
};

/* ---- positions and reports ------------------------------------------- */

#define WRAP_LEN 3u /* "<r>" in characters */

static void position(const wx_reader *r, uint64_t *line, uint64_t *col)
{
    uint64_t l = XML_GetCurrentLineNumber(r->p), c = XML_GetCurrentColumnNumber(r->p);
    if (l <= 1) {
        /* the wrapper sits on the first line, after the declaration */
        if (c >= r->wrap_col + WRAP_LEN)
            c -= WRAP_LEN;
        else if (c > r->wrap_col)
            c = r->wrap_col;
        c += r->skip_col;
    }
    *line = l + r->skip_lines;
    *col = c + 1;
}

static void report(wx_reader *r, const char *what)
{
    if (r->on_error == NULL)
        return;
    uint64_t line, col;
    position(r, &line, &col);
    r->on_error(r->ud, line, col, what);
}

/* Stops the parse with `what` (the first reason wins). */
static void fatal(wx_reader *r, const char *what)
{
    if (r->fatal != NULL)
        return;
    r->fatal = what;
    position(r, &r->fatal_line, &r->fatal_col);
    XML_StopParser(r->p, XML_FALSE);
}

/* ---- values ------------------------------------------------------------ */

/* Length of `s` without trailing Unicode White_Space (value.c's is_white,
 * i.e. Rust's trim_end, which the EVTX reader applies to string values). */
static size_t trim_end(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    while (n > 0) {
        uint8_t c = u[n - 1];
        if ((c >= 0x09 && c <= 0x0d) || c == 0x20) {
            n--;
        } else if (n >= 2 && u[n - 2] == 0xC2 && (c == 0x85 || c == 0xA0)) {
            n -= 2; /* U+0085, U+00A0 */
        } else if (n >= 3) {
            uint8_t a = u[n - 3], b = u[n - 2];
            bool w = (a == 0xE1 && b == 0x9A && c == 0x80) || /* U+1680 */
                     (a == 0xE2 && b == 0x80 &&
                      ((c >= 0x80 && c <= 0x8A) || /* 2000-200A */
                       c == 0xA8 || c == 0xA9 || c == 0xAF)) ||
                     (a == 0xE2 && b == 0x81 && c == 0x9F) || /* U+205F */
                     (a == 0xE3 && b == 0x80 && c == 0x80);   /* U+3000 */
            if (!w)
                break;
            n -= 3;
        } else {
            break;
        }
    }
    return n;
}

static bool xml_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copies a || sep || b (sep 0: none) NUL-terminated into the event arena,
 * within the event's byte budget.  NULL when over the budget (reported once)
 * or out of memory (fatal). */
static const char *keep(wx_reader *r, const char *a, size_t an, char sep, const char *b, size_t bn)
{
    size_t n = an + (sep ? 1u : 0u) + bn;
    if (n > WX_MAX_EVENT_TEXT || r->ev_bytes + n + 8u > WX_MAX_EVENT_TEXT) {
        if (!r->warned_bytes) {
            r->warned_bytes = true;
            snprintf(r->msg, sizeof(r->msg), "event larger than %u bytes; further fields dropped",
                     (unsigned)WX_MAX_EVENT_TEXT);
            report(r, r->msg);
        }
        return NULL;
    }
    char *s = ig_arena_alloc(&r->arena, n + 1);
    if (s == NULL) {
        fatal(r, "out of memory");
        return NULL;
    }
    memcpy(s, a, an);
    if (sep)
        s[an] = sep;
    if (bn)
        memcpy(s + an + (sep ? 1u : 0u), b, bn);
    s[n] = '\0';
    r->ev_bytes += n + 8u;
    return s;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" into a FILETIME and re-renders it
 * as the EVTX reader does (6 fractional digits) into out[28]. */
static bool parse_systime(const char *s, size_t n, uint64_t *ft, char *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const size_t base = sizeof(shape) - 1;
    if (n < base + 1 || s[n - 1] != 'Z')
        return false;
    uint32_t v[6] = {0};
    for (size_t i = 0, k = 0; i < base; i++) {
        if (shape[i] != 'd') {
            if (s[i] != shape[i])
                return false;
            k++;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        v[k] = v[k] * 10u + (uint32_t)(s[i] - '0');
    }
    uint32_t y = v[0], mo = v[1], d = v[2], h = v[3], mi = v[4], sec = v[5];
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1601 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return false;
    uint64_t ticks = 0; /* 100 ns */
    size_t i = base;
    if (i < n - 1) {
        if (s[i] != '.' || n - 1 - (i + 1) < 1 || n - 1 - (i + 1) > 9)
            return false;
        unsigned digits = 0;
        for (i++; i < n - 1; i++, digits++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            if (digits < 7)
                ticks = ticks * 10u + (uint64_t)(s[i] - '0');
        }
        for (; digits < 7; digits++)
            ticks *= 10u;
    }
    /* days since 1970-01-01 (Hinnant's days_from_civil; y >= 1601) */
    int64_t yy = (int64_t)y - (mo <= 2);
    int64_t era = yy / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * ((int64_t)mo + (mo > 2 ? -3 : 9)) + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468 + IG_DAYS_1601_TO_1970;
    uint64_t secs = (uint64_t)days * 86400u + h * 3600u + mi * 60u + sec;
    *ft = secs * 10000000u + ticks;
    memcpy(out, s, base);
    out[base] = '.';
    uint64_t us = ticks / 10u;
    for (int k = 5; k >= 0; k--) {
        out[base + 1 + (size_t)k] = (char)('0' + us % 10u);
        us /= 10u;
    }
    out[base + 7] = 'Z';
    return true;
}

/* The decimal value of s[0..n), or false. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned dg = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dg) / 10u)
            return false;
        v = v * 10u + dg;
    }
    *out = v;
    return true;
}

/* Adds field `name` = val[0..vlen) (trailing white space removed); the name
 * is copied unless `static_name`. */
static void add_field(wx_reader *r, const char *name, size_t nlen, bool static_name,
                      const char *val, size_t vlen)
{
    if (r->ev.n >= WX_MAX_FIELDS) {
        if (!r->warned_fields) {
            r->warned_fields = true;
            snprintf(r->msg, sizeof(r->msg), "event has more than %u fields; the rest dropped",
                     (unsigned)WX_MAX_FIELDS);
            report(r, r->msg);
        }
        return;
    }
    vlen = trim_end(val, vlen);
    const char *n = static_name ? name : keep(r, name, nlen, 0, NULL, 0);
    const char *v = vlen ? keep(r, val, vlen, 0, NULL, 0) : "";
    if (n == NULL || v == NULL)
        return;
    if (!ev_add(&r->ev, n, (uint32_t)nlen, v, (uint32_t)vlen, NULL))
        fatal(r, "out of memory");
}

/* ---- element roles ------------------------------------------------------ */

static void collect(wx_reader *r, uint32_t level)
{
    r->coll = true;
    r->coll_elems = false;
    r->cut = false;
    r->coll_level = level;
    r->seg = 0;
    ig_buf_reset(&r->text);
}

static void begin_event(wx_reader *r, uint32_t level)
{
    ev_reset(&r->ev);
    ig_arena_reset(&r->arena);
    uint64_t col;
    position(r, &r->ev_line, &col);
    r->ev_level = level;
    r->record_id = 0;
    r->ev_bytes = 0;
    r->warned_fields = r->warned_bytes = r->warned_attrs = false;
    r->coll = false;
}

static void end_event(wx_reader *r)
{
    r->ev.origin.path = r->name;
    r->ev.origin.offset = r->ev_line;
    r->ev.origin.record_id = r->record_id;
    r->on_event(r->ud, &r->ev);
    ev_reset(&r->ev);
    ig_arena_reset(&r->arena);
}

/* A System child starts: keep its attributes (values trimmed). */
static void start_syschild(wx_reader *r, const XML_Char **atts)
{
    r->nattrs = 0;
    for (size_t i = 0; atts[i] != NULL && atts[i + 1] != NULL; i += 2) {
        if (r->nattrs == WX_MAX_ATTRS) {
            if (!r->warned_attrs) {
                r->warned_attrs = true;
                report(r, "element has too many attributes; the rest ignored");
            }
            break;
        }
        size_t nl = strlen(atts[i]), vl = trim_end(atts[i + 1], strlen(atts[i + 1]));
        const char *n = keep(r, atts[i], nl, 0, NULL, 0);
        const char *v = n != NULL ? keep(r, atts[i + 1], vl, 0, NULL, 0) : NULL;
        if (v == NULL)
            break;
        r->attrs[r->nattrs++] = (wx_attr){n, v, (uint32_t)nl, (uint32_t)vl};
    }
}

static void start_data(wx_reader *r, const XML_Char **atts)
{
    r->data_name = 0;
    for (size_t i = 0; atts[i] != NULL && atts[i + 1] != NULL; i += 2) {
        if (strcmp(atts[i], "Name") != 0)
            continue;
        size_t nl = strlen(atts[i + 1]);
        r->dname = keep(r, atts[i + 1], nl, 0, NULL, 0);
        r->dnlen = (uint32_t)nl;
        r->data_name = r->dname != NULL ? 1 : -1;
    }
}

/* Role of a new element in section `sec` of an event (event_evtx.c walk). */
static wx_frame classify(wx_reader *r, uint8_t sec, const char *name, const XML_Char **atts,
                         uint32_t level)
{
    switch (sec) {
    case SEC_TOP:
        if (strcmp(name, "System") == 0)
            return (wx_frame){R_CONTAINER, SEC_SYSTEM};
        if (strcmp(name, "EventData") == 0)
            return (wx_frame){R_CONTAINER, SEC_EVENTDATA};
        if (strcmp(name, "UserData") == 0 || strcmp(name, "RenderingInfo") == 0)
            return (wx_frame){R_CONTAINER, SEC_OTHER};
        collect(r, level);
        return (wx_frame){R_LEAF, SEC_OTHER};
    case SEC_SYSTEM:
        collect(r, level);
        start_syschild(r, atts);
        return (wx_frame){R_SYSCHILD, SEC_SYSTEM};
    case SEC_EVENTDATA:
        collect(r, level);
        if (strcmp(name, "Data") == 0) {
            start_data(r, atts);
            return (wx_frame){R_DATA, SEC_EVENTDATA};
        }
        return (wx_frame){R_LEAF, SEC_EVENTDATA};
    default: collect(r, level); return (wx_frame){R_LEAF, SEC_OTHER};
    }
}

/* A child element starts inside the collecting System child or Data: the
 * white space before it is indentation, not text. */
static void child_boundary(wx_reader *r)
{
    r->coll_elems = true;
    size_t i = r->seg;
    while (i < r->text.len && xml_space(r->text.data[i]))
        i++;
    if (i == r->text.len)
        r->text.len = r->seg;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    wx_reader *r = ud;
    if (r->fatal != NULL)
        return;
    if (r->depth >= WX_MAX_NESTING) {
        snprintf(r->msg, sizeof(r->msg), "elements nested deeper than %u",
                 (unsigned)WX_MAX_NESTING);
        fatal(r, r->msg);
        return;
    }
    uint32_t level = r->depth++;
    wx_frame f = {R_IGNORE, SEC_OTHER};
    if (level == 0) {
        f.role = R_OUTSIDE; /* the synthetic root */
    } else if (level - 1 < WX_FRAMES) {
        wx_frame *par = &r->fr[level - 1];
        if (par->role == R_LEAF) {
            par->role = R_CONTAINER; /* not a leaf after all: its text goes */
            r->coll = false;
        }
        switch (par->role) {
        case R_OUTSIDE:
            if (level <= WX_MAX_EVENT_LEVEL && strcmp(name, "Event") == 0) {
                begin_event(r, level);
                f = (wx_frame){R_EVENT, SEC_TOP};
            } else {
                f.role = R_OUTSIDE;
            }
            break;
        case R_EVENT:
        case R_CONTAINER:
            if (level - r->ev_level <= WX_MAX_EVENT_DEPTH)
                f = classify(r, par->sec, name, atts, level);
            break;
        case R_SYSCHILD:
        case R_DATA:
            if (r->coll && r->coll_level == level - 1)
                child_boundary(r);
            break;
        default: break;
        }
    }
    if (level < WX_FRAMES)
        r->fr[level] = f;
}

static void end_syschild(wx_reader *r, const char *name)
{
    size_t nl = strlen(name);
    const char *text = (const char *)r->text.data;
    if (!r->coll_elems) {
        add_field(r, name, nl, false, text ? text : "", r->text.len);
        uint64_t rid;
        if (r->record_id == 0 && strcmp(name, "EventRecordID") == 0 &&
            parse_u64(text, trim_end(text ? text : "", r->text.len), &rid))
            r->record_id = rid;
    }
    for (uint32_t i = 0; i < r->nattrs && r->fatal == NULL; i++) {
        const wx_attr *a = &r->attrs[i];
        const char *fname = keep(r, name, nl, '_', a->name, a->nlen);
        if (fname == NULL)
            return;
        char iso[32];
        uint64_t ft;
        if (strcmp(fname, "TimeCreated_SystemTime") == 0 &&
            parse_systime(a->val, a->vlen, &ft, iso)) {
            r->ev.time = ft;
            add_field(r, fname, nl + 1 + a->nlen, true, iso, 27);
        } else {
            add_field(r, fname, nl + 1 + a->nlen, true, a->val, a->vlen);
        }
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    wx_reader *r = ud;
    if (r->fatal != NULL || r->depth == 0)
        return;
    uint32_t level = --r->depth;
    if (level < WX_FRAMES) {
        const char *text = r->text.len ? (const char *)r->text.data : "";
        switch (r->fr[level].role) {
        case R_SYSCHILD:
            end_syschild(r, name);
            r->coll = false;
            break;
        case R_DATA:
            if (r->data_name == 1)
                add_field(r, r->dname, r->dnlen, true, text, r->text.len);
            else if (r->data_name == 0)
                add_field(r, "Data", 4, true, text, r->text.len);
            r->coll = false;
            break;
        case R_LEAF:
            add_field(r, name, strlen(name), false, text, r->text.len);
            r->coll = false;
            break;
        case R_EVENT: end_event(r); break;
        default: break;
        }
    }
    if (r->coll && level == r->coll_level + 1)
        r->seg = r->text.len; /* the next text segment of the collector */
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    wx_reader *r = ud;
    if (r->fatal != NULL || !r->coll || r->cut || len <= 0 || r->depth - 1 != r->coll_level)
        return;
    size_t n = (size_t)len;
    if (n > WX_MAX_FIELD_TEXT - r->text.len) {
        /* cut at a character boundary */
        n = WX_MAX_FIELD_TEXT - r->text.len;
        while (n > 0 && ((uint8_t)s[n] & 0xC0) == 0x80)
            n--;
        r->cut = true;
        snprintf(r->msg, sizeof(r->msg), "value longer than %u bytes; cut",
                 (unsigned)WX_MAX_FIELD_TEXT);
        report(r, r->msg);
    }
    if (!ig_buf_put(&r->text, s, n))
        fatal(r, "out of memory");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    fatal(ud, "DOCTYPE not allowed");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    fatal(ud, "entity declarations not allowed");
}

/* ---- feeding ------------------------------------------------------------- */

static bool parse(wx_reader *r, const void *s, size_t n, bool final)
{
    r->fed += n;
    if (XML_Parse(r->p, s, (int)n, final ? XML_TRUE : XML_FALSE) != XML_STATUS_ERROR)
        return true;
    r->failed = true;
    if (r->on_error == NULL)
        return false;
    if (r->fatal != NULL) {
        r->on_error(r->ud, r->fatal_line, r->fatal_col, r->fatal);
        return false;
    }
    enum XML_Error code = XML_GetErrorCode(r->p);
    const char *what = XML_ErrorString(code);
    /* at the closing wrapper (expat may parse earlier input only then) */
    XML_Index at = XML_GetCurrentByteIndex(r->p);
    if (r->in_end && at >= 0 && (uint64_t)at >= r->end)
        what = code == XML_ERROR_TAG_MISMATCH || code == XML_ERROR_NO_ELEMENTS
                   ? "input ends inside an element"
                   : "input ends inside markup";
    report(r, what != NULL ? what : "XML error");
    return false;
}

/* A failure outside a handler (position unknown): reported, the input is
 * over. */
static bool fail(wx_reader *r, const char *what)
{
    r->failed = true;
    if (r->on_error != NULL)
        r->on_error(r->ud, 0, 0, what);
    return false;
}

/* The wrapper tag `s` (ASCII) in the input's encoding. */
static bool parse_tag(wx_reader *r, const char *s, bool final)
{
    uint8_t b[8];
    size_t n = strlen(s), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->unit == 2 && !r->be)
            b[k++] = (uint8_t)s[i], b[k++] = 0;
        else if (r->unit == 2)
            b[k++] = 0, b[k++] = (uint8_t)s[i];
        else
            b[k++] = (uint8_t)s[i];
    }
    return parse(r, b, k, final);
}

/* ---- characters XML 1.0 forbids ---------------------------------------------
 *
 * Windows puts any UTF-16 in event strings, and a value with a C0 control
 * character (a command line with \x01, raw or as &#1;) makes the XML
 * ill-formed: expat would stop there and every later event of the input
 * would be lost, which an attacker can use to hide what follows.  Before
 * expat sees the input, C0 controls other than tab, CR and LF — raw or as
 * character references — become their Unicode control pictures (U+2400 + c,
 * what `iisguard dump --format xml` writes for them), and references to
 * surrogates, U+FFFE/U+FFFF or past U+10FFFF become U+FFFD.  Applies to
 * UTF-8 and UTF-16 input (also inside CDATA and comments, where a reference
 * is not one); columns after a replaced reference shift by its length. */

/* Code unit at byte offset `off` of `b` in the input's encoding. */
static uint32_t unit_of(const wx_reader *r, const uint8_t *b, size_t off)
{
    if (r->unit == 1)
        return b[off];
    return r->be ? (uint32_t)(b[off] << 8 | b[off + 1]) : (uint32_t)(b[off] | b[off + 1] << 8);
}

/* Appends code point `c` (< U+10000) in the input's encoding. */
static bool put_char(wx_reader *r, uint32_t c)
{
    uint8_t b[3];
    size_t n;
    if (r->unit == 2) {
        b[0] = (uint8_t)(r->be ? c >> 8 : c & 0xff);
        b[1] = (uint8_t)(r->be ? c & 0xff : c >> 8);
        n = 2;
    } else {
        b[0] = (uint8_t)(0xE0 | c >> 12);
        b[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
        b[2] = (uint8_t)(0x80 | (c & 0x3F));
        n = 3;
    }
    return ig_buf_put(&r->out, b, n);
}

static bool xml_char_ok(uint32_t c)
{
    if (c < 0x20)
        return c == 0x09 || c == 0x0A || c == 0x0D;
    return !(c >= 0xD800 && c <= 0xDFFF) && c != 0xFFFE && c != 0xFFFF && c <= 0x10FFFF;
}

/* What replaces the forbidden character `c`. */
static uint32_t stand_in(uint32_t c)
{
    return c < 0x20 ? 0x2400 + c : 0xFFFD;
}

/* At byte `i` of `w` (len n) is a '&': the length in bytes of a character
 * reference to a forbidden character there (its value in *c), 0 when there
 * is none, or SIZE_MAX when the bytes end before it can be told. */
static size_t forbidden_ref(const wx_reader *r, const uint8_t *w, size_t n, size_t i, uint32_t *c)
{
    size_t u = r->unit, j = i + u;
    if (j + u > n)
        return SIZE_MAX;
    if (unit_of(r, w, j) != '#')
        return 0;
    j += u;
    if (j + u > n)
        return SIZE_MAX;
    bool hex = unit_of(r, w, j) == 'x';
    if (hex)
        j += u;
    uint32_t v = 0;
    size_t digits = 0;
    for (; j + u <= n; j += u, digits++) {
        uint32_t d = unit_of(r, w, j);
        if (d >= '0' && d <= '9')
            d -= '0';
        else if (hex && (d | 0x20) >= 'a' && (d | 0x20) <= 'f')
            d = (d | 0x20) - 'a' + 10;
        else
            break;
        if (digits == WX_MAX_REF)
            return 0; /* too long to be ours: expat judges it */
        v = v > 0x10FFFF ? v : v * (hex ? 16u : 10u) + d;
    }
    if (j + u > n)
        return SIZE_MAX;
    if (digits == 0 || unit_of(r, w, j) != ';' || xml_char_ok(v))
        return 0;
    *c = v;
    return j + u - i;
}

/* Filters w[0..n) into r->out; returns the bytes consumed (the rest is an
 * incomplete code unit or reference, unless `final`). */
static size_t filter_block(wx_reader *r, const uint8_t *w, size_t n, bool final)
{
    size_t u = r->unit, i = 0, run = 0; /* run: start of bytes copied as they are */
    while (i + u <= n) {
        uint32_t c = unit_of(r, w, i), v = 0;
        size_t ref = 0;
        if (c == '&') {
            ref = forbidden_ref(r, w, n, i, &v);
            if (ref == SIZE_MAX) {
                if (!final)
                    break;
                ref = 0;
            }
        } else if (c < 0x20 && !xml_char_ok(c)) {
            ref = u;
            v = c;
        }
        if (ref == 0) {
            i += u;
            continue;
        }
        if (!ig_buf_put(&r->out, w + run, i - run) || !put_char(r, stand_in(v)))
            return SIZE_MAX;
        i += ref;
        run = i;
    }
    if (final)
        i = n;
    if (!ig_buf_put(&r->out, w + run, i - run))
        return SIZE_MAX;
    return i;
}

/* Feeds input through the filter (see above) to expat. */
static bool filter_feed(wx_reader *r, const uint8_t *data, size_t len, bool final)
{
    if (!r->filter) {
        while (len > 0) {
            size_t n = len < WX_MAX_PIECE ? len : WX_MAX_PIECE;
            if (!parse(r, data, n, false))
                return false;
            data += n;
            len -= n;
        }
        return true;
    }
    do {
        size_t take = len < WX_FILTER_BLOCK ? len : WX_FILTER_BLOCK;
        ig_buf_reset(&r->work);
        ig_buf_reset(&r->out);
        if (!ig_buf_put(&r->work, r->carry, r->ncarry) || !ig_buf_put(&r->work, data, take))
            return fail(r, "out of memory");
        data += take;
        len -= take;
        if (r->work.len == 0)
            break;
        size_t used = filter_block(r, r->work.data, r->work.len, final && len == 0);
        if (used == SIZE_MAX)
            return fail(r, "out of memory");
        r->ncarry = r->work.len - used;
        if (r->ncarry > sizeof(r->carry))
            return fail(r, "filter holds too much"); /* cannot happen */
        if (r->ncarry > 0)
            memcpy(r->carry, r->work.data + used, r->ncarry);
        if (r->out.len > 0 && !parse(r, r->out.data, r->out.len, false))
            return false;
    } while (len > 0);
    return true;
}

/* Code unit i of the prolog after the byte order mark, or -1 past it. */
static int unit_at(const wx_reader *r, size_t bom, size_t i)
{
    size_t off = bom + i * r->unit;
    if (off + r->unit > r->prelen)
        return -1;
    if (r->unit == 1)
        return r->pre[off];
    return r->be ? (r->pre[off] << 8) | r->pre[off + 1] : r->pre[off] | (r->pre[off + 1] << 8);
}

enum { DECL_NONE, DECL_UTF8, DECL_UTF16, DECL_OTHER };

/* The encoding named by the (ASCII) XML declaration of units [a, b). */
static int decl_encoding(const wx_reader *r, size_t bom, size_t a, size_t b)
{
    static const char kw[] = "encoding";
    for (size_t i = a; i + 8 < b; i++) {
        size_t k = 0;
        while (k < 8 && unit_at(r, bom, i + k) == kw[k])
            k++;
        if (k < 8)
            continue;
        size_t j = i + 8;
        while (j < b && (xml_space((uint8_t)unit_at(r, bom, j)) || unit_at(r, bom, j) == '='))
            j++;
        if (j < b && (unit_at(r, bom, j) == '"' || unit_at(r, bom, j) == '\''))
            j++;
        char name[16];
        for (k = 0; k + 1 < sizeof(name) && j + k < b; k++) {
            int c = unit_at(r, bom, j + k);
            if (c == '"' || c == '\'' || c < 0)
                break;
            name[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : (char)c;
        }
        name[k] = '\0';
        if (strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0)
            return DECL_UTF8;
        if (strncmp(name, "utf-16", 6) == 0 || strcmp(name, "unicode") == 0)
            return DECL_UTF16;
        return DECL_OTHER;
    }
    return DECL_NONE;
}

/* Finds the byte order mark and XML declaration in the prolog, creates the
 * parser and feeds the prolog with the opening wrapper.  Returns 1 when
 * done, 0 when more bytes are needed (only if !force), -1 on failure. */
static int start(wx_reader *r, bool force)
{
    const uint8_t *p = r->pre;
    size_t n = r->prelen, bom = 0;
    if (n < 4 && !force)
        return 0;
    r->unit = 1;
    r->be = false;
    const char *enc = NULL;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        bom = 3;
        enc = "UTF-8";
    } else if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == '<' && p[1] == 0))) {
        bom = p[0] == 0xFF ? 2 : 0;
        r->unit = 2;
        enc = "UTF-16LE";
    } else if (n >= 2 && ((p[0] == 0xFE && p[1] == 0xFF) || (p[0] == 0 && p[1] == '<'))) {
        bom = p[0] == 0xFE ? 2 : 0;
        r->unit = 2;
        r->be = true;
        enc = "UTF-16BE";
    }
    /* white space, then "<?xml" + white space ... "?>" */
    size_t i = 0, lines = 0, col = 0;
    for (int c; (c = unit_at(r, bom, i)) == ' ' || c == '\t' || c == '\r' || c == '\n'; i++) {
        if (c == '\n' && i > 0 && unit_at(r, bom, i - 1) == '\r')
            continue;
        col = c == '\r' || c == '\n' ? 0 : col + 1;
        lines += c == '\r' || c == '\n';
    }
    static const char xml[] = "<?xml";
    size_t k = 0;
    while (k < 5 && unit_at(r, bom, i + k) == xml[k])
        k++;
    int ws = unit_at(r, bom, i + 5);
    if (!force &&
        (unit_at(r, bom, i) < 0 || (k == 5 && ws < 0) || (k < 5 && unit_at(r, bom, i + k) < 0)))
        return 0;
    size_t end = 0; /* unit after the declaration's "?>", 0 when none */
    if (k == 5 && ws >= 0 && xml_space((uint8_t)ws) && ws < 0x80) {
        for (size_t j = i + 6; unit_at(r, bom, j + 1) >= 0; j++)
            if (unit_at(r, bom, j) == '?' && unit_at(r, bom, j + 1) == '>') {
                end = j + 2;
                break;
            }
        if (end == 0 && !force)
            return 0;
    }
    int decl = end != 0 ? decl_encoding(r, bom, i, end) : DECL_NONE;
    if (r->unit == 1 && enc == NULL && decl == DECL_UTF16)
        enc = "UTF-8"; /* re-encoded text that kept its declaration */
    /* ISO-8859-1 and the like are left to expat as they are */
    r->filter = r->unit == 2 || enc != NULL || decl != DECL_OTHER;
    XML_Memory_Handling_Suite ms = {ig_malloc, ig_realloc, ig_free};
    r->p = XML_ParserCreate_MM(enc, &ms, NULL);
    if (r->p == NULL) {
        r->failed = true;
        if (r->on_error != NULL)
            r->on_error(r->ud, 1, 1, "out of memory");
        return -1;
    }
    XML_SetUserData(r->p, r);
    XML_SetElementHandler(r->p, on_start, on_end);
    XML_SetCharacterDataHandler(r->p, on_text);
    XML_SetStartDoctypeDeclHandler(r->p, on_doctype);
    XML_SetEntityDeclHandler(r->p, on_entity_decl);
    XML_SetParamEntityParsing(r->p, XML_PARAM_ENTITY_PARSING_NEVER);
    r->started = true;
    size_t rest = bom; /* byte offset of what follows the wrapper */
    if (end != 0) {
        r->skip_lines = lines;
        r->skip_col = col;
        r->wrap_col = end - i;
        rest = bom + end * r->unit;
        if (!parse(r, p + bom + i * r->unit, (end - i) * r->unit, false))
            return -1;
    }
    if (!parse_tag(r, "<r>", false))
        return -1;
    return n > rest && !filter_feed(r, p + rest, n - rest, false) ? -1 : 1;
}

wx_reader *wx_create(const char *name, wx_event_fn on_event, wx_error_fn on_error, void *ud)
{
    if (on_event == NULL)
        return NULL;
    wx_reader *r = ig_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->name = name;
    r->on_event = on_event;
    r->on_error = on_error;
    r->ud = ud;
    /* the engine copies lower-case values into the same arena */
    ig_arena_init(&r->arena, 4u * (size_t)WX_MAX_EVENT_TEXT);
    ev_init(&r->ev, &r->arena);
    ig_buf_init(&r->text, WX_MAX_FIELD_TEXT);
    ig_buf_init(&r->work, WX_FILTER_BLOCK + sizeof(r->carry));
    ig_buf_init(&r->out, 3u * (WX_FILTER_BLOCK + sizeof(r->carry)));
    return r;
}

bool wx_feed(wx_reader *r, const char *data, size_t len, bool final)
{
    if (r == NULL || r->failed || r->finished)
        return false;
    if (data == NULL) {
        data = "";
        len = 0;
    }
    if (!r->started) {
        size_t take = WX_MAX_PROLOG - r->prelen;
        if (take > len)
            take = len;
        if (take > 0)
            memcpy(r->pre + r->prelen, data, take);
        r->prelen += take;
        data += take;
        len -= take;
        int s = start(r, final || r->prelen == WX_MAX_PROLOG);
        if (s < 0)
            return false;
        if (s == 0)
            return true; /* all of this piece is held in the prolog */
    }
    if (!filter_feed(r, (const uint8_t *)data, len, final))
        return false;
    if (!final)
        return true;
    r->finished = true;
    r->in_end = true;
    r->end = r->fed;
    return parse_tag(r, "</r>", true);
}

void wx_destroy(wx_reader *r)
{
    if (r == NULL)
        return;
    if (r->p != NULL)
        XML_ParserFree(r->p);
    ev_free(&r->ev);
    ig_buf_free(&r->text);
    ig_buf_free(&r->work);
    ig_buf_free(&r->out);
    ig_arena_destroy(&r->arena);
    ig_free(r);
}
