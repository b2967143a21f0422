/* igfix --from-jsonl: flat JSON-lines events (one object per line: Channel,
 * EventID, Computer, optional TimeCreated and Provider_Name, and the event's
 * own fields as string or number members) written as an EVTX file, so that
 * the same fixtures can be hunted both as JSON lines and as EVTX.  Members
 * whose name starts with '_' and RecordNumber are left out (the writer
 * numbers records 1, 2, ... in line order).  The input is the project's own
 * fixture data, but a bad line is still reported with its line number and
 * stops the conversion. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/num.h"
#include "formats/jsonl/jsonl.h"
#include "igfix.h"

#define MAX_DATA 256

/* NUL-terminated copy of s[0..n) in `a`, or NULL when out of memory. */
static const char *dupz(ig_arena *a, const char *s, size_t n)
{
    char *p = ig_arena_alloc(a, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Copy of token `t` (a string or a number) in `a`; NULL for other types. */
static const char *tok_str(ig_arena *a, const json_tok *t)
{
    if (t->type != JT_STRING && t->type != JT_NUMBER)
        return NULL;
    return dupz(a, t->s, t->len);
}

/* The provider a channel's events come from, when the line names none. */
static const char *provider_of(ig_arena *a, const char *channel)
{
    if (strcmp(channel, "Security") == 0)
        return "Microsoft-Windows-Security-Auditing";
    if (strcmp(channel, "System") == 0)
        return "Service Control Manager";
    const char *slash = strchr(channel, '/');
    return slash ? dupz(a, channel, (size_t)(slash - channel)) : channel;
}

static bool line_event(ig_evtx_writer *w, const char *line, size_t len, ig_arena *a,
                       const char **why)
{
    json_doc d;
    size_t at = 0;
    if (!json_parse(line, len, a, &d, why, &at))
        return false;
    if (d.t[0].type != JT_OBJECT) {
        *why = "not a JSON object";
        return false;
    }
    ig_evtx_event ev = {0};
    const char *names[MAX_DATA], *values[MAX_DATA];
    uint64_t id = 0;
    ev.level = 4;
    for (uint32_t i = 1; i < d.t[0].next; i = d.t[i + 1].next) {
        const json_tok *k = &d.t[i], *v = &d.t[i + 1];
        const char *key = dupz(a, k->s, k->len), *val = tok_str(a, v);
        if (key != NULL && (key[0] == '_' || strcmp(key, "RecordNumber") == 0))
            continue;
        if (key == NULL || val == NULL) {
            *why = key == NULL ? "out of memory" : "a member is neither a string nor a number";
            return false;
        }
        if (strcmp(key, "Channel") == 0) {
            ev.channel = val;
        } else if (strcmp(key, "Computer") == 0) {
            ev.computer = val;
        } else if (strcmp(key, "Provider_Name") == 0) {
            ev.provider = val;
        } else if (strcmp(key, "EventID") == 0) {
            if (!ig_parse_u64(val, UINT16_MAX, &id)) {
                *why = "EventID is not a number up to 65535";
                return false;
            }
            ev.event_id = (uint16_t)id;
        } else if (strcmp(key, "TimeCreated") == 0) {
            ev.time_filetime = jsonl_parse_time(val, strlen(val));
        } else if (ev.ndata == MAX_DATA) {
            *why = "too many fields";
            return false;
        } else {
            names[ev.ndata] = key;
            values[ev.ndata++] = val;
        }
    }
    if (ev.channel == NULL || ev.computer == NULL) {
        *why = "Channel and Computer are required";
        return false;
    }
    if (ev.provider == NULL)
        ev.provider = provider_of(a, ev.channel);
    if (ev.time_filetime == 0)
        ev.time_filetime = IGFIX_T0;
    ev.data_names = names;
    ev.data_values = values;
    ig_err e = ig_evtx_writer_add(w, &ev);
    if (e != IG_OK) {
        *why = ig_strerror(e);
        return false;
    }
    return true;
}

int igfix_from_jsonl(ig_evtx_writer *w, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    ig_arena a;
    ig_arena_init(&a, 0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long no = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        no++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        const char *why = NULL;
        ig_arena_reset(&a);
        if (!line_event(w, line, (size_t)n, &a, &why)) {
            fprintf(stderr, "igfix: %s:%lu: %s\n", path, no, why);
            rc = 1;
        }
    }
    if (rc == 0 && ferror(f)) {
        perror(path);
        rc = 1;
    }
    free(line);
    ig_arena_destroy(&a);
    fclose(f);
    return rc;
}
