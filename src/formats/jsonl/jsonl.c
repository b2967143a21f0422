/* One JSON object → the normalised event (see jsonl.h for the shapes).
 *
 * evtx_dump JSON is mapped like the EVTX reader maps the record
 * (event_evtx.c), so that a rule matches the same fields either way:
 *   - System children by name; a child with attributes gives Elem="" (or its
 *     "#text") and Elem_Attr per non-null attribute; a null child gives
 *     Elem="" (an empty element: <Correlation/>);
 *   - EventData members by key; unnamed <Data> ("Data": {"#text": v or
 *     [v, ...]}) as one Data field per value; nested elements by leaf name;
 *   - UserData, RenderingInfo and any other section by leaf element name;
 *     "#attributes" below System are dropped, as the EVTX reader drops them;
 *   - an array value (a Binary XML array type) as its elements joined by
 *     ", " (evtx_value_text);
 *   - evtx_dump suffixes repeated keys ("Data", "Data_1", ...: render_json.c);
 *     the suffix is removed when the unsuffixed key precedes it.
 * Numbers are their JSON text, true/false "true"/"false", null "". */
#include <string.h>

#include "core/civil.h"
#include "core/limits.h"
#include "core/memeq.h"
#include "formats/jsonl/jsonl.h"
#include "formats/jsonl/jsonl_limits.h"

typedef struct jl {
    const json_doc *d;
    const json_tok *t;
    ig_event *ev;
    ig_arena *a;
    const char *why;
    size_t at;
    bool stop; /* a field could not be added: stop adding */
    char name[IG_MAX_JSON_NAME];
} jl;

/* Iteration over the members of an object: key token k, value token v. */
#define FOR_MEMBERS(J, OBJ, K, V)                                                                  \
    for (uint32_t K = (OBJ) + 1, m_##K = 0, V = K + 1; m_##K < (J)->t[OBJ].len;                    \
         m_##K++, K = (J)->t[V].next, V = K + 1)

static inline bool key_is(const json_tok *k, const char *s, size_t n)
{
    return k->len == n && ig_mem_eq(k->s, s, n);
}

#define KEY_IS(k, lit) key_is((k), (lit), sizeof(lit) - 1)

static bool add(jl *j, const char *name, size_t nlen, const char *v, size_t vlen, uint32_t tok)
{
    if (j->stop)
        return false;
    if (!ev_add(j->ev, name, (uint32_t)nlen, vlen ? v : "", (uint32_t)vlen, NULL)) {
        j->why = j->ev->n >= IG_MAX_EVENT_FIELDS ? "too many fields (IG_MAX_EVENT_FIELDS)"
                                                 : "out of memory";
        j->at = j->t[tok].off;
        j->stop = true;
        return false;
    }
    return true;
}

static bool oom(jl *j, uint32_t tok)
{
    if (!j->stop) {
        j->why = "out of memory";
        j->at = j->t[tok].off;
        j->stop = true;
    }
    return false;
}

/* All of p[0, n) as an unsigned decimal; *out untouched unless it is one. */
static bool dec_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Text of a scalar; false for arrays and objects. */
static bool scalar(const json_tok *t, const char **p, size_t *n)
{
    switch (t->type) {
    case JT_STRING:
    case JT_NUMBER: *p = t->s, *n = t->len; return true;
    case JT_TRUE: *p = "true", *n = 4; return true;
    case JT_FALSE: *p = "false", *n = 5; return true;
    case JT_NULL: *p = "", *n = 0; return true;
    default: return false;
    }
}

/* Scalars of array `arr` joined by ", " (evtx_value_text renders Binary XML
 * array values so); nested arrays and objects are left out. */
static bool join(jl *j, uint32_t arr, const char **p, size_t *n)
{
    const json_tok *t = j->t;
    size_t total = 0, count = 0;
    const char *s;
    size_t sl;
    for (uint32_t i = arr + 1; i < t[arr].next; i = t[i].next)
        if (scalar(&t[i], &s, &sl)) {
            total += sl + (count ? 2 : 0);
            count++;
        }
    if (count <= 1) {
        *p = "", *n = 0;
        for (uint32_t i = arr + 1; i < t[arr].next; i = t[i].next)
            if (scalar(&t[i], p, n))
                break;
        return true;
    }
    char *d = ig_arena_alloc(j->a, total);
    if (d == NULL)
        return oom(j, arr);
    size_t o = 0, k = 0;
    for (uint32_t i = arr + 1; i < t[arr].next; i = t[i].next)
        if (scalar(&t[i], &s, &sl)) {
            if (k++ > 0) {
                memcpy(d + o, ", ", 2);
                o += 2;
            }
            memcpy(d + o, s, sl);
            o += sl;
        }
    *p = d, *n = o;
    return true;
}

/* An element as evtx_dump renders it: {"#attributes": {..}, children..,
 * "#text": v}; one pass over the object's members. */
typedef struct elem {
    uint32_t attrs, text; /* tokens, 0 when absent */
    uint32_t kids;        /* child elements: members not starting with '#' */
} elem;

static inline void elem_of(const jl *j, uint32_t v, elem *e)
{
    e->attrs = e->text = e->kids = 0;
    if (j->t[v].type != JT_OBJECT)
        return;
    FOR_MEMBERS(j, v, k, val)
    {
        const json_tok *kt = &j->t[k];
        if (kt->len == 0 || kt->s[0] != '#')
            e->kids++;
        else if (KEY_IS(kt, "#attributes"))
            e->attrs = val;
        else if (KEY_IS(kt, "#text"))
            e->text = val;
    }
}

/* Text of an element's value as the EVTX reader has it: a scalar, an array
 * joined, an object's "#text" (or "" without one). */
static bool elem_text(jl *j, uint32_t v, const elem *e, const char **p, size_t *n)
{
    if (j->t[v].type == JT_OBJECT) {
        v = e->text;
        if (v == 0) {
            *p = "", *n = 0;
            return true;
        }
    }
    if (j->t[v].type == JT_ARRAY)
        return join(j, v, p, n);
    if (!scalar(&j->t[v], p, n))
        *p = "", *n = 0;
    return true;
}

/* Length of key k of object obj without an evtx_dump "_N" suffix, when the
 * unsuffixed key is an earlier member of obj. */
static size_t undup(const jl *j, uint32_t obj, uint32_t k)
{
    const json_tok *kt = &j->t[k];
    size_t n = kt->len, u = n;
    while (u > 0 && kt->s[u - 1] >= '0' && kt->s[u - 1] <= '9')
        u--;
    if (u == n || u < 2 || kt->s[u - 1] != '_')
        return n;
    u--;
    uint32_t scanned = 0;
    FOR_MEMBERS(j, obj, ok, ov)
    {
        if (ok >= k || scanned++ >= IG_MAX_JSON_DEDUP_SCAN)
            break;
        if (key_is(&j->t[ok], kt->s, u))
            return u;
    }
    return n;
}

/* undup for a key that may have a suffix (one ending with a digit). */
static inline size_t key_len(const jl *j, uint32_t obj, uint32_t k)
{
    const json_tok *kt = &j->t[k];
    if (kt->len == 0 || kt->s[kt->len - 1] < '0' || kt->s[kt->len - 1] > '9')
        return kt->len;
    return undup(j, obj, k);
}

/* System attributes as the EVTX reader names them (Elem_Attr), without
 * making the name for each event. */
#define SYS_ATTR(s)                                                                                \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static const struct {
    const char *s;
    size_t len;
} sys_attr_names[] = {
    SYS_ATTR("Provider_Name"),
    SYS_ATTR("Provider_Guid"),
    SYS_ATTR("Provider_EventSourceName"),
    SYS_ATTR("TimeCreated_SystemTime"),
    SYS_ATTR("Correlation_ActivityID"),
    SYS_ATTR("Correlation_RelatedActivityID"),
    SYS_ATTR("Execution_ProcessID"),
    SYS_ATTR("Execution_ThreadID"),
    SYS_ATTR("Security_UserID"),
    SYS_ATTR("EventID_Qualifiers"),
};
#undef SYS_ATTR

/* The name `el`_`attr` (n bytes) when it is a usual one, else NULL. */
static const char *sys_attr_name(const char *el, size_t elen, const json_tok *attr, size_t n)
{
    for (size_t i = 0; i < sizeof(sys_attr_names) / sizeof(sys_attr_names[0]); i++) {
        const char *s = sys_attr_names[i].s;
        if (sys_attr_names[i].len == n && s[elen] == '_' && ig_mem_eq(s, el, elen) &&
            ig_mem_eq(s + elen + 1, attr->s, attr->len))
            return s;
    }
    return NULL;
}

/* Adds scalar token v's text as field `name`. */
static bool add_scalar(jl *j, const char *name, size_t nlen, uint32_t v)
{
    const char *p;
    size_t n;
    scalar(&j->t[v], &p, &n);
    return add(j, name, nlen, p, n, v);
}

static bool add_elem(jl *j, const char *name, size_t nlen, uint32_t v, const elem *e)
{
    const char *p = "";
    size_t n = 0;
    elem own;
    if (e == NULL) {
        elem_of(j, v, &own);
        e = &own;
    }
    return elem_text(j, v, e, &p, &n) && add(j, name, nlen, p, n, v);
}

/* <System>: children by name, attributes as Elem_Attr; nothing deeper.
 * Finds EventRecordID and TimeCreated's SystemTime on the way. */
static void sys_section(jl *j, uint32_t sys, uint32_t *rid, uint32_t *tc)
{
    if (j->t[sys].type != JT_OBJECT)
        return;
    FOR_MEMBERS(j, sys, k, v)
    {
        const json_tok *kt = &j->t[k];
        if (kt->len == 0 || kt->s[0] == '#')
            continue;
        size_t nlen = key_len(j, sys, k);
        if (KEY_IS(kt, "EventRecordID"))
            *rid = v;
        if (j->t[v].type < JT_ARRAY) { /* a scalar: the element's text, no attributes */
            if (!add_scalar(j, kt->s, nlen, v))
                return;
            continue;
        }
        elem e;
        elem_of(j, v, &e);
        if (!e.kids && !add_elem(j, kt->s, nlen, v, &e))
            return;
        if (e.attrs == 0 || j->t[e.attrs].type != JT_OBJECT)
            continue;
        FOR_MEMBERS(j, e.attrs, ak, av)
        {
            const json_tok *at = &j->t[ak];
            if (j->t[av].type == JT_NULL)
                continue;
            if (KEY_IS(kt, "TimeCreated") && KEY_IS(at, "SystemTime"))
                *tc = av;
            size_t n = nlen + 1 + at->len;
            const char *name = sys_attr_name(kt->s, nlen, at, n);
            if (name == NULL) {
                char *made = ig_arena_alloc(j->a, n + 1);
                if (made == NULL) {
                    oom(j, ak);
                    return;
                }
                memcpy(made, kt->s, nlen);
                made[nlen] = '_';
                memcpy(made + nlen + 1, at->s, at->len);
                made[n] = '\0';
                name = made;
            }
            if (!add_elem(j, name, n, av, NULL))
                return;
        }
    }
}

/* <EventData> (data = true) or UserData and the like: members by key,
 * elements with children by their leaves. */
static void section(jl *j, uint32_t obj, bool data)
{
    if (j->t[obj].type != JT_OBJECT)
        return;
    FOR_MEMBERS(j, obj, k, v)
    {
        const json_tok *kt = &j->t[k];
        if (kt->len == 0 || kt->s[0] == '#')
            continue;
        size_t nlen = key_len(j, obj, k);
        if (j->t[v].type < JT_ARRAY) { /* a scalar: the element's text (an unnamed Data too) */
            if (!add_scalar(j, kt->s, nlen, v))
                return;
            continue;
        }
        elem e;
        elem_of(j, v, &e);
        if (data && nlen == 4 && memcmp(kt->s, "Data", 4) == 0) {
            /* unnamed <Data> elements: {"#text": v} or {"#text": [v, ...]} */
            if (e.text != 0 && j->t[e.text].type == JT_ARRAY) {
                for (uint32_t i = e.text + 1; i < j->t[e.text].next; i = j->t[i].next)
                    if (!add_elem(j, "Data", 4, i, NULL))
                        return;
            } else if (!add_elem(j, "Data", 4, v, &e)) {
                return;
            }
        } else if (e.kids) {
            section(j, v, data); /* depth ≤ IG_MAX_JSON_DEPTH */
        } else if (!add_elem(j, kt->s, nlen, v, &e)) {
            return;
        }
        if (j->stop)
            return;
    }
}

static void evtx_event(jl *j, uint32_t event)
{
    uint32_t rid = 0, tc = 0;
    FOR_MEMBERS(j, event, k, v)
    {
        const json_tok *kt = &j->t[k];
        if (kt->len == 0 || kt->s[0] == '#')
            continue;
        if (KEY_IS(kt, "System")) {
            sys_section(j, v, &rid, &tc);
        } else if (KEY_IS(kt, "EventData")) {
            section(j, v, true);
        } else if (KEY_IS(kt, "UserData") || KEY_IS(kt, "RenderingInfo")) {
            section(j, v, false);
        } else {
            elem e;
            elem_of(j, v, &e);
            if (e.kids)
                section(j, v, false);
            else
                add_elem(j, kt->s, key_len(j, event, k), v, &e);
        }
        if (j->stop)
            return;
    }
    const char *p = "";
    size_t n = 0;
    if (rid != 0 && scalar(&j->t[rid], &p, &n))
        dec_u64(p, n, &j->ev->origin.record_id);
    if (tc != 0 && j->t[tc].type == JT_STRING)
        j->ev->time = jsonl_parse_time(j->t[tc].s, j->t[tc].len);
}

/* Generic flattening: the current name is j->name[0, nlen), `stable` a
 * copy that outlives the event (NULL until made). */
typedef struct fname {
    const char *stable;
    size_t len;
} fname;

static void flat(jl *j, uint32_t v, fname *nm)
{
    const json_tok *t = &j->t[v];
    if (t->type == JT_OBJECT) {
        FOR_MEMBERS(j, v, k, val)
        {
            const json_tok *kt = &j->t[k];
            size_t dot = nm->len ? 1 : 0;
            if (nm->len + dot + kt->len > IG_MAX_JSON_NAME)
                continue; /* name too long: left out */
            fname sub = {nm->len ? NULL : kt->s, nm->len + dot + kt->len};
            if (dot)
                j->name[nm->len] = '.';
            memcpy(j->name + nm->len + dot, kt->s, kt->len);
            flat(j, val, &sub); /* depth ≤ IG_MAX_JSON_DEPTH */
            if (j->stop)
                return;
        }
    } else if (t->type == JT_ARRAY) {
        for (uint32_t i = v + 1; i < t->next && !j->stop; i = j->t[i].next)
            flat(j, i, nm);
    } else {
        const char *p = "";
        size_t n = 0;
        scalar(t, &p, &n);
        if (nm->len == 0) {
            add(j, "value", 5, p, n, v); /* a scalar at the top */
            return;
        }
        if (nm->stable == NULL) {
            char *s = ig_arena_dup(j->a, j->name, nm->len);
            if (s == NULL) {
                oom(j, v);
                return;
            }
            nm->stable = s;
        }
        add(j, nm->stable, nm->len, p, n, v);
    }
}

/* Members of object obj as fields by key (event_data). */
static void by_key(jl *j, uint32_t obj)
{
    fname root = {NULL, 0};
    if (j->t[obj].type == JT_OBJECT)
        flat(j, obj, &root);
}

/* Fields derived from other shapes' names when the event lacks them. */
typedef struct derive {
    const char *to;
    const char *from[6]; /* paths, '.' between object keys */
    bool guid;           /* {xxxxxxxx-...} → XXXXXXXX-... as the EVTX reader has it */
} derive;

static const derive derived[] = {
    {"EventID", {"winlog.event_id", "event.code", "event_id"}, false},
    {"Channel", {"winlog.channel", "log_name"}, false},
    {"Computer",
     {"winlog.computer_name", "computer_name", "Hostname", "host.name", "host.hostname"},
     false},
    {"Provider_Name",
     {"winlog.provider_name", "source_name", "SourceName", "ProviderName", "event.provider"},
     false},
    {"Provider_Guid", {"winlog.provider_guid", "ProviderGuid"}, true},
    {"EventRecordID", {"winlog.record_id", "record_number", "RecordNumber"}, false},
    {"Security_UserID", {"winlog.user.identifier", "UserID"}, false},
    {"Execution_ProcessID", {"winlog.process.pid", "ProcessID"}, false},
    {"Execution_ThreadID", {"winlog.process.thread.id", "ThreadID"}, false},
    {"Version", {"winlog.version"}, false},
    /* ECS process fields → the Sigma (Sysmon) names */
    {"CommandLine", {"process.command_line"}, false},
    {"Image", {"process.executable"}, false},
    {"ParentImage", {"process.parent.executable"}, false},
    {"ParentCommandLine", {"process.parent.command_line"}, false},
    {"ProcessId", {"process.pid"}, false},
    {"ParentProcessId", {"process.parent.pid"}, false},
    {"CurrentDirectory", {"process.working_directory"}, false},
    {"OriginalFileName", {"process.pe.original_file_name"}, false},
    {"User", {"user.name"}, false},
};

/* Top-level keys that hold a time, best first. */
static const char *const time_keys[] = {"@timestamp",    "TimeCreated",
                                        "EventTime",     "TimeCreated_SystemTime",
                                        "TimeGenerated", "timestamp"};

/* Token at `path` below object obj, or 0. */
static uint32_t lookup(const jl *j, uint32_t obj, const char *path)
{
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        obj = json_member(j->d, obj, path, n);
        if (obj == 0 || dot == NULL)
            return obj;
        path = dot + 1;
    }
}

static void derive_fields(jl *j)
{
    for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]) && !j->stop; i++) {
        const derive *dv = &derived[i];
        uint32_t v = 0;
        for (size_t s = 0; s < 6 && dv->from[s] != NULL && v == 0; s++) {
            v = lookup(j, 0, dv->from[s]);
            if (v != 0 && (j->t[v].type >= JT_ARRAY || j->t[v].type == JT_NULL))
                v = 0;
        }
        ig_strv have;
        if (v == 0 || ev_get(j->ev, dv->to, strlen(dv->to), &have))
            continue;
        const char *p = "";
        size_t n = 0;
        scalar(&j->t[v], &p, &n);
        if (dv->guid && n >= 2 && p[0] == '{' && p[n - 1] == '}') {
            char *g = ig_arena_dup(j->a, p + 1, n - 2);
            if (g == NULL) {
                oom(j, v);
                return;
            }
            for (size_t k = 0; k < n - 2; k++)
                if (g[k] >= 'a' && g[k] <= 'z')
                    g[k] = (char)(g[k] - 32);
            p = g, n -= 2;
        }
        add(j, dv->to, strlen(dv->to), p, n, v);
    }
    if (j->ev->time == 0)
        for (size_t i = 0; i < sizeof(time_keys) / sizeof(time_keys[0]); i++) {
            uint32_t v = json_member(j->d, 0, time_keys[i], strlen(time_keys[i]));
            if (v != 0 && j->t[v].type == JT_STRING) {
                j->ev->time = jsonl_parse_time(j->t[v].s, j->t[v].len);
                if (j->ev->time != 0)
                    break;
            }
        }
    ig_strv rid;
    if (j->ev->origin.record_id == 0 && ev_get(j->ev, "EventRecordID", 13, &rid))
        dec_u64(rid.p, rid.len, &j->ev->origin.record_id);
}

bool jsonl_event(const char *text, size_t len, ig_event *ev, const char **why, size_t *at)
{
    json_doc d;
    if (!json_parse(text, len, ev->arena, &d, why, at))
        return false;
    jl state, *j = &state;
    j->d = &d;
    j->t = d.t;
    j->ev = ev;
    j->a = ev->arena;
    j->why = NULL;
    j->at = 0;
    j->stop = false;
    if (d.t[0].type != JT_OBJECT) {
        fname root = {NULL, 0};
        flat(j, 0, &root);
    } else {
        bool only_evtx = true; /* nothing to derive from */
        FOR_MEMBERS(j, 0, k, v)
        {
            const json_tok *kt = &j->t[k];
            bool evtx = KEY_IS(kt, "Event") &&
                        (json_member(&d, v, "System", 6) || json_member(&d, v, "EventData", 9) ||
                         json_member(&d, v, "UserData", 8));
            only_evtx &= evtx;
            if (evtx) {
                evtx_event(j, v);
            } else if (KEY_IS(kt, "winlog") && j->t[v].type == JT_OBJECT) {
                /* Winlogbeat: winlog.event_data / user_data by key, the rest
                 * as winlog.* */
                FOR_MEMBERS(j, v, wk, wv)
                {
                    const json_tok *wt = &j->t[wk];
                    if ((KEY_IS(wt, "event_data") || KEY_IS(wt, "user_data")) &&
                        j->t[wv].type == JT_OBJECT) {
                        by_key(j, wv);
                    } else if (wt->len <= IG_MAX_JSON_NAME - 7) {
                        memcpy(j->name, "winlog.", 7);
                        memcpy(j->name + 7, wt->s, wt->len);
                        fname nm = {NULL, 7 + wt->len};
                        flat(j, wv, &nm);
                    }
                    if (j->stop)
                        break;
                }
            } else if ((KEY_IS(kt, "event_data") || KEY_IS(kt, "user_data")) &&
                       j->t[v].type == JT_OBJECT) {
                by_key(j, v); /* Winlogbeat 6 */
            } else {
                fname nm = {kt->s, kt->len};
                if (kt->len <= IG_MAX_JSON_NAME) {
                    memcpy(j->name, kt->s, kt->len);
                    flat(j, v, &nm);
                }
            }
            if (j->stop)
                break;
        }
        if (!j->stop && !only_evtx)
            derive_fields(j);
    }
    if (j->stop) {
        *why = j->why;
        *at = j->at;
        return false;
    }
    return true;
}

/* Exactly n digits at s[*i]; advances *i. */
static bool dig(const char *s, size_t len, size_t *i, unsigned n, unsigned *out)
{
    unsigned v = 0;
    if (len - *i < n)
        return false;
    for (unsigned k = 0; k < n; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool lit(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

uint64_t jsonl_parse_time(const char *s, size_t len)
{
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, oh = 0, om = 0;
    size_t i = 0;
    if (!dig(s, len, &i, 4, &y) || !lit(s, len, &i, '-') || !dig(s, len, &i, 2, &mo) ||
        !lit(s, len, &i, '-') || !dig(s, len, &i, 2, &d))
        return 0;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return 0;
    i++;
    if (!dig(s, len, &i, 2, &h) || !lit(s, len, &i, ':') || !dig(s, len, &i, 2, &mi) ||
        !lit(s, len, &i, ':') || !dig(s, len, &i, 2, &se))
        return 0;
    uint64_t frac = 0;
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        i++;
        unsigned nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 7)
                frac = frac * 10 + (uint64_t)(s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0)
            return 0;
        for (; nd < 7; nd++)
            frac *= 10;
    }
    int64_t off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        if (!dig(s, len, &i, 2, &oh))
            return 0;
        if (i < len && s[i] == ':')
            i++;
        if (i < len && !dig(s, len, &i, 2, &om))
            return 0;
        if (oh > 23 || om > 59)
            return 0;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    }
    if (i != len)
        return 0;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1601 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 60)
        return 0;
    int64_t days = ig_days_from_civil(y, mo, d) + 134774; /* 1601-01-01 → 1970-01-01 */
    int64_t secs = days * 86400 + (int64_t)(h * 3600 + mi * 60 + se) - off;
    if (secs < 0)
        return 0;
    return (uint64_t)secs * 10000000u + frac;
}
