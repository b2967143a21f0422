#include "output/alerts.h"

#include <string.h>
#include <time.h>

#include "core/civil.h"
#include "core/utf16.h"

static const char *const level_names[] = {"", "informational", "low", "medium", "high", "critical"};

const char *out_level_name(ig_level l)
{
    return (unsigned)l <= IG_LEVEL_CRITICAL ? level_names[l] : "medium";
}

bool out_level_parse(const char *s, ig_level *out)
{
    for (unsigned i = IG_LEVEL_INFORMATIONAL; i <= IG_LEVEL_CRITICAL; i++)
        if (strcmp(s, level_names[i]) == 0 || (strcmp(s, "info") == 0 && i == 1)) {
            *out = (ig_level)i;
            return true;
        }
    return false;
}

bool out_time(ig_buf *b, uint64_t ft)
{
    uint64_t secs = ft / 10000000u, us = ft % 10000000u / 10u;
    int64_t days = (int64_t)(secs / 86400u) - IG_DAYS_1601_TO_1970, y;
    unsigned m, d, sod = (unsigned)(secs % 86400u);
    ig_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0;
    return ig_buf_udec_pad(b, (uint64_t)y, 4) && ig_buf_putc(b, '-') && ig_buf_udec_pad(b, m, 2) &&
           ig_buf_putc(b, '-') && ig_buf_udec_pad(b, d, 2) && ig_buf_putc(b, 'T') &&
           ig_buf_udec_pad(b, sod / 3600, 2) && ig_buf_putc(b, ':') &&
           ig_buf_udec_pad(b, sod / 60 % 60, 2) && ig_buf_putc(b, ':') &&
           ig_buf_udec_pad(b, sod % 60, 2) && ig_buf_putc(b, '.') && ig_buf_udec_pad(b, us, 6) &&
           ig_buf_putc(b, 'Z');
}

bool out_time_tz(ig_buf *b, uint64_t ft, const out_tz *tz)
{
    if (tz == NULL || (!tz->local && tz->offset == 0))
        return out_time(b, ft);
    int64_t off = tz->offset;
    if (tz->local) {
        time_t t = (time_t)(ft / 10000000u) - (time_t)11644473600LL;
        struct tm tm;
        off = localtime_r(&t, &tm) != NULL ? tm.tm_gmtoff : 0;
    }
    int64_t shifted = (int64_t)ft + off * 10000000;
    if (shifted < 0)
        shifted = 0;
    if (!out_time(b, (uint64_t)shifted))
        return false;
    b->len--; /* the Z */
    int64_t a = off < 0 ? -off : off;
    return ig_buf_putc(b, off < 0 ? '-' : '+') && ig_buf_udec_pad(b, (uint64_t)(a / 3600), 2) &&
           ig_buf_putc(b, ':') && ig_buf_udec_pad(b, (uint64_t)(a / 60 % 60), 2);
}

static ig_strv field(ig_event *ev, const char *name)
{
    ig_strv v = {"", 0};
    if (!ig_event_field(ev, name, &v))
        v.p = "", v.len = 0;
    return v;
}

/* ---- JSON ---------------------------------------------------------------- */

bool out_json_str(ig_buf *b, const char *p, size_t n)
{
    return ig_buf_putc(b, '"') && ig_utf8_append_escaped(b, (const uint8_t *)p, n, IG_ESC_JSON) &&
           ig_buf_putc(b, '"');
}

static bool jkey(ig_buf *b, const char *k)
{
    return out_json_str(b, k, strlen(k)) && ig_buf_putc(b, ':');
}

static bool is_number(ig_strv v)
{
    if (v.len == 0 || v.len > 18)
        return false;
    for (size_t i = 0; i < v.len; i++)
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
    return v.len == 1 || v.p[0] != '0';
}

bool out_rule_json(ig_buf *b, const ig_rule_info *r)
{
    const char *lv = out_level_name(r->level);
    bool ok = ig_buf_lit(b, "{\"id\":") && out_json_str(b, r->id, strlen(r->id)) &&
              ig_buf_lit(b, ",\"name\":") && out_json_str(b, r->title, strlen(r->title)) &&
              ig_buf_lit(b, ",\"level\":") && out_json_str(b, lv, strlen(lv)) &&
              ig_buf_lit(b, ",\"tags\":[");
    for (size_t i = 0; ok && i < r->ntags; i++)
        ok = (i == 0 || ig_buf_putc(b, ',')) && out_json_str(b, r->tags[i], strlen(r->tags[i]));
    return ok && ig_buf_lit(b, "]}");
}

bool out_alert_json(ig_buf *b, const ig_alert *a, const char *rule, size_t rlen)
{
    ig_event *ev = a->event;
    ig_event_origin o;
    ig_event_origin_get(ev, &o);
    ig_strv eid = field(ev, "EventID"), comp = field(ev, "Computer"), ch = field(ev, "Channel"),
            prov = field(ev, "Provider_Name");
    bool ok = ig_buf_lit(b, "{\"@timestamp\":\"") && out_time(b, ig_event_time(ev)) &&
              ig_buf_lit(b, "\",\"rule\":") &&
              (rule != NULL ? ig_buf_put(b, rule, rlen) : out_rule_json(b, a->rule)) &&
              ig_buf_lit(b, ",\"event\":{\"code\":");
    ok = ok && (is_number(eid) ? ig_buf_put(b, eid.p, eid.len) : out_json_str(b, eid.p, eid.len));
    ok = ok && ig_buf_lit(b, ",\"provider\":") && out_json_str(b, prov.p, prov.len) &&
         ig_buf_lit(b, "},\"host\":{\"name\":") && out_json_str(b, comp.p, comp.len) &&
         ig_buf_lit(b, "},\"winlog\":{\"channel\":") && out_json_str(b, ch.p, ch.len) &&
         ig_buf_lit(b, ",\"record_id\":") && ig_buf_u64(b, ig_event_record_id(ev)) &&
         ig_buf_lit(b, ",\"event_data\":{");
    for (size_t i = 0; ok && i < a->nfields; i++)
        ok = (i == 0 || ig_buf_putc(b, ',')) &&
             out_json_str(b, a->fields[i].name.p, a->fields[i].name.len) && ig_buf_putc(b, ':') &&
             out_json_str(b, a->fields[i].value.p, a->fields[i].value.len);
    ok = ok && ig_buf_lit(b, "}},\"log\":{\"file\":{\"path\":") &&
         out_json_str(b, o.path ? o.path : "", o.path ? strlen(o.path) : 0) &&
         ig_buf_lit(b, "},\"offset\":") && ig_buf_u64(b, o.offset) && ig_buf_lit(b, "}}\n");
    return ok;
}

/* ---- CSV ------------------------------------------------------------------- */

static bool cstr(ig_buf *b, const char *p, size_t n)
{
    if (!ig_buf_putc(b, '"'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '"' && !ig_buf_putc(b, '"'))
            return false;
        if (!ig_buf_putc(b, (uint8_t)(c == '\n' || c == '\r' ? ' ' : c)))
            return false;
    }
    return ig_buf_putc(b, '"');
}

static bool alert_csv(ig_buf *b, const ig_alert *a, const out_tz *tz)
{
    ig_event *ev = a->event;
    ig_event_origin o;
    ig_event_origin_get(ev, &o);
    ig_strv eid = field(ev, "EventID"), comp = field(ev, "Computer"), ch = field(ev, "Channel");
    const char *lv = out_level_name(a->rule->level);
    /* an event without a time: an empty cell */
    bool ok = (ig_event_time(ev) == 0 || out_time_tz(b, ig_event_time(ev), tz)) &&
              ig_buf_putc(b, ',') && cstr(b, lv, strlen(lv)) && ig_buf_putc(b, ',') &&
              cstr(b, a->rule->id, strlen(a->rule->id)) && ig_buf_putc(b, ',') &&
              cstr(b, a->rule->title, strlen(a->rule->title)) && ig_buf_putc(b, ',') &&
              cstr(b, comp.p, comp.len) && ig_buf_putc(b, ',') && cstr(b, ch.p, ch.len) &&
              ig_buf_putc(b, ',') && cstr(b, eid.p, eid.len) && ig_buf_putc(b, ',') &&
              ig_buf_u64(b, ig_event_record_id(ev)) && ig_buf_putc(b, ',') &&
              cstr(b, o.path ? o.path : "", o.path ? strlen(o.path) : 0) && ig_buf_putc(b, ',') &&
              ig_buf_u64(b, o.offset) && ig_buf_lit(b, ",\"");
    for (size_t i = 0; ok && i < a->nfields; i++) {
        const ig_alert_field *f = &a->fields[i];
        ok = (i == 0 || ig_buf_lit(b, " | ")) && ig_buf_put(b, f->name.p, f->name.len) &&
             ig_buf_putc(b, '=');
        for (size_t k = 0; ok && k < f->value.len; k++) {
            char c = f->value.p[k];
            ok = (c != '"' || ig_buf_putc(b, '"')) &&
                 ig_buf_putc(b, (uint8_t)(c == '\n' || c == '\r' ? ' ' : c));
        }
    }
    return ok && ig_buf_lit(b, "\"\n");
}

/* ---- text timeline ---------------------------------------------------------- */

static const char *const level_color[] = {"",         "\033[2m",  "\033[32m",
                                          "\033[33m", "\033[31m", "\033[1;31m"};

static bool pad(ig_buf *b, const char *p, size_t n, size_t width)
{
    if (n > width) {
        /* cut on a UTF-8 boundary, mark the cut */
        size_t k = width - 1;
        while (k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80)
            k--;
        return ig_buf_put(b, p, k) && ig_buf_lit(b, "\xe2\x80\xa6") && ig_buf_putc(b, ' ');
    }
    if (!ig_buf_put(b, p, n))
        return false;
    for (size_t i = n; i <= width; i++)
        if (!ig_buf_putc(b, ' '))
            return false;
    return true;
}

static bool text_value(ig_buf *b, ig_strv v)
{
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (!ig_buf_putc(b, (uint8_t)c))
            return false;
    }
    return true;
}

static bool alert_text(ig_buf *b, const ig_alert *a, bool color, const out_tz *tz)
{
    ig_event *ev = a->event;
    ig_event_origin o;
    ig_event_origin_get(ev, &o);
    ig_strv eid = field(ev, "EventID"), comp = field(ev, "Computer"), ch = field(ev, "Channel");
    const char *lv = out_level_name(a->rule->level);
    /* an event without a time: "-" in the column */
    bool ok = (ig_event_time(ev) != 0 ? out_time_tz(b, ig_event_time(ev), tz)
                                      : ig_buf_lit(b, "-                          ")) &&
              ig_buf_lit(b, "  ");
    if (ok && color)
        ok = ig_buf_puts(b, level_color[a->rule->level <= IG_LEVEL_CRITICAL ? a->rule->level : 3]);
    ok = ok && pad(b, lv, strlen(lv), 13);
    if (ok && color)
        ok = ig_buf_lit(b, "\033[0m");
    ok = ok && pad(b, a->rule->title, strlen(a->rule->title), 60) && pad(b, comp.p, comp.len, 16);
    /* CHANNEL/EVENTID #RECORD */
    ok = ok && ig_buf_put(b, ch.p, ch.len) && ig_buf_putc(b, '/') &&
         ig_buf_put(b, eid.p, eid.len) && ig_buf_lit(b, " #") &&
         ig_buf_u64(b, ig_event_record_id(ev));
    for (size_t i = 0; ok && i < a->nfields; i++)
        ok = ig_buf_lit(b, "  ") && ig_buf_put(b, a->fields[i].name.p, a->fields[i].name.len) &&
             ig_buf_putc(b, '=') && text_value(b, a->fields[i].value);
    return ok && ig_buf_putc(b, '\n');
}

bool out_header(ig_buf *b, out_format f, bool color)
{
    (void)color;
    switch (f) {
    case OUT_CSV:
        return ig_buf_lit(b, "timestamp,level,rule_id,rule_title,computer,channel,event_id,"
                             "record_id,file,offset,fields\n");
    case OUT_TEXT: {
        bool ok = ig_buf_lit(b, "TIME (UTC)                   ") && pad(b, "LEVEL", 5, 13) &&
                  pad(b, "RULE", 4, 60) && pad(b, "COMPUTER", 8, 16) &&
                  ig_buf_lit(b, "CHANNEL/EVENTID #RECORD  FIELDS\n");
        return ok;
    }
    default: return true;
    }
}

bool out_alert(ig_buf *b, out_format f, const ig_alert *a, bool color, const out_tz *tz)
{
    switch (f) {
    case OUT_JSONL: return out_alert_json(b, a, NULL, 0);
    case OUT_CSV: return alert_csv(b, a, tz);
    default: return alert_text(b, a, color, tz);
    }
}

/* ---- correlation alerts -------------------------------------------------- */

bool out_corr_alert(ig_buf *b, out_format f, const ig_corr_alert *a, bool color, const out_tz *tz)
{
    const char *lv = out_level_name(a->rule->level);
    bool ok;
    if (f == OUT_JSONL) {
        ok = ig_buf_putc(b, '{') && jkey(b, "@timestamp") && ig_buf_putc(b, '"') &&
             out_time(b, a->first) && ig_buf_lit(b, "\",") && jkey(b, "rule") &&
             ig_buf_putc(b, '{') && jkey(b, "id") &&
             out_json_str(b, a->rule->id, strlen(a->rule->id)) && ig_buf_putc(b, ',') &&
             jkey(b, "name") && out_json_str(b, a->rule->title, strlen(a->rule->title)) &&
             ig_buf_putc(b, ',') && jkey(b, "level") && out_json_str(b, lv, strlen(lv)) &&
             ig_buf_lit(b, "},") && jkey(b, "correlation") && ig_buf_putc(b, '{') &&
             jkey(b, "type") && out_json_str(b, a->type, strlen(a->type)) && ig_buf_putc(b, ',') &&
             jkey(b, "group") && out_json_str(b, a->group.p, a->group.len) && ig_buf_putc(b, ',') &&
             jkey(b, "count") && ig_buf_u64(b, a->count) && ig_buf_putc(b, ',') &&
             jkey(b, "last") && ig_buf_putc(b, '"') && out_time(b, a->last) &&
             ig_buf_lit(b, "\",") && jkey(b, "events_total") && ig_buf_u64(b, a->total) &&
             ig_buf_putc(b, ',') && jkey(b, "events") && ig_buf_putc(b, '[');
        for (size_t i = 0; ok && i < a->nevents; i++) {
            const ig_corr_event *e = &a->events[i];
            ok = (i == 0 || ig_buf_putc(b, ',')) && ig_buf_putc(b, '{') && jkey(b, "rule") &&
                 out_json_str(b, e->rule_id, strlen(e->rule_id)) && ig_buf_putc(b, ',') &&
                 jkey(b, "@timestamp") && ig_buf_putc(b, '"') && out_time(b, e->time) &&
                 ig_buf_lit(b, "\",") && jkey(b, "record_id") && ig_buf_u64(b, e->record_id) &&
                 ig_buf_putc(b, ',') && jkey(b, "file") &&
                 out_json_str(b, e->path, strlen(e->path)) && ig_buf_putc(b, ',') &&
                 jkey(b, "offset") && ig_buf_u64(b, e->offset) && ig_buf_putc(b, '}');
        }
        return ok && ig_buf_lit(b, "]}}\n");
    }
    if (f == OUT_CSV) {
        ok = out_time_tz(b, a->first, tz) && ig_buf_putc(b, ',') && cstr(b, lv, strlen(lv)) &&
             ig_buf_putc(b, ',') && cstr(b, a->rule->id, strlen(a->rule->id)) &&
             ig_buf_putc(b, ',') && cstr(b, a->rule->title, strlen(a->rule->title)) &&
             ig_buf_lit(b, ",,,,,,,\"") && ig_buf_puts(b, a->type) && ig_buf_lit(b, ": ") &&
             ig_buf_u64(b, a->count) && ig_buf_lit(b, " | ");
        for (size_t i = 0; ok && i < a->group.len; i++)
            ok = (a->group.p[i] != '"' || ig_buf_putc(b, '"')) &&
                 ig_buf_putc(b, (uint8_t)a->group.p[i]);
        return ok && ig_buf_lit(b, "\"\n");
    }
    ok = out_time_tz(b, a->first, tz) && ig_buf_lit(b, "  ");
    if (ok && color)
        ok = ig_buf_puts(b, level_color[a->rule->level <= IG_LEVEL_CRITICAL ? a->rule->level : 3]);
    ok = ok && pad(b, lv, strlen(lv), 13);
    if (ok && color)
        ok = ig_buf_lit(b, "\033[0m");
    ok = ok && pad(b, a->rule->title, strlen(a->rule->title), 60) && ig_buf_puts(b, a->type) &&
         ig_buf_lit(b, " count=") && ig_buf_u64(b, a->count) && ig_buf_lit(b, "  ") &&
         text_value(b, a->group) && ig_buf_lit(b, "  records");
    for (size_t i = 0; ok && i < a->nevents && i < 16; i++)
        ok = ig_buf_lit(b, " #") && ig_buf_u64(b, a->events[i].record_id);
    if (ok && a->total > 16)
        ok = ig_buf_lit(b, " \xe2\x80\xa6");
    return ok && ig_buf_putc(b, '\n');
}
