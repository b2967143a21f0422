#define _POSIX_C_SOURCE 200809L
/* iisguard hunt PATH... [--rules FILE|DIR]... [--no-builtin] [--format text|jsonl|csv]
 *                [--min-level L] [--threads N] [--output FILE [--force]] [-q] */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/hostcount.h"
#include "cli/hunt_jsonl.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/num.h"
#include "core/timefmt.h"
#include "formats/jsonl/jsonl_limits.h"
#include "iisguard/iisguard.h"
#include "iisguard/rules.h"
#include "iisguard/source.h"
#include "output/alerts.h"

#define MAX_RULE_PATHS 64
#define MAX_LIST       256

/* Splits a comma-separated argument into `out` (NULL-terminated). */
static bool split_list(char *arg, const char **out, size_t *n)
{
    for (char *p = arg; *p;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p != '\0') {
            if (*n + 1 >= MAX_LIST)
                return false;
            out[(*n)++] = p;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    out[*n] = NULL;
    return true;
}

/* Rule ids, one per line (# comments), from FILE into `out`. */
static bool read_ids(const char *path, char **keep, const char **out, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t cap = 1u << 20;
    char *buf = malloc(cap + 1);
    size_t len = buf ? fread(buf, 1, cap, f) : 0;
    fclose(f);
    if (buf == NULL)
        return false;
    buf[len] = '\0';
    *keep = buf;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *e = line + strlen(line);
        while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line != '\0') {
            if (*n + 1 >= MAX_LIST * 16)
                break;
            out[(*n)++] = line;
        }
        line = nl ? nl + 1 : NULL;
    }
    out[*n] = NULL;
    return true;
}

typedef struct hunt {
    const ig_rules *rules;
    ig_corr *corr;
    out_format fmt;
    bool color, quiet;
    out_tz tz;
    uint64_t from, to; /* FILETIME bounds, 0 = open */
    uint64_t outside;  /* events left out by --from/--to */
    /* totals, gathered from the threads when they end */
    uint64_t alerts, by_level[6], events, re_limit;
    uint64_t first_ev, last_ev, first_hit, last_hit;
    uint64_t *by_rule;
    host_counts hosts;
    pthread_mutex_t mu;
} hunt;

/* Per decoding thread. */
typedef struct hunt_thread {
    hunt *h;
    ig_scanner *sc;
    ig_evtx_emit *out;
    ig_buf line;
    uint64_t alerts, by_level[6], events, outside;
    uint64_t first_ev, last_ev, first_hit, last_hit;
    uint64_t *by_rule;
    host_counts hosts;
    /* JSON: each rule's object (out_rule_json) once made, at rule_at[i] - 1
     * in rule_json (0: not yet), rule_len[i] bytes */
    ig_buf rule_json;
    uint32_t *rule_at, *rule_len;
} hunt_thread;

static void span(uint64_t *first, uint64_t *last, uint64_t t)
{
    if (t == 0)
        return;
    if (*first == 0 || t < *first)
        *first = t;
    if (t > *last)
        *last = t;
}

/* Appends alert `a` as JSON, with its rule's object made once. */
static bool alert_json(hunt_thread *t, const ig_alert *a)
{
    size_t r = a->rule->index, at = t->rule_json.len; /* rule_json stays under 64 MiB */
    if (t->rule_at[r] == 0 && out_rule_json(&t->rule_json, a->rule)) {
        t->rule_at[r] = (uint32_t)at + 1;
        t->rule_len[r] = (uint32_t)(t->rule_json.len - at);
    }
    if (t->rule_at[r] == 0) /* no room to keep it */
        return out_alert_json(&t->line, a, NULL, 0);
    return out_alert_json(&t->line, a, (const char *)t->rule_json.data + t->rule_at[r] - 1,
                          t->rule_len[r]);
}

static void on_alert(void *ud, const ig_alert *a)
{
    hunt_thread *t = ud;
    ig_buf_reset(&t->line);
    if (t->h->fmt == OUT_JSONL ? alert_json(t, a)
                               : out_alert(&t->line, t->h->fmt, a, t->h->color, &t->h->tz))
        ig_evtx_emit_write(t->out, (const char *)t->line.data, t->line.len);
    t->alerts++;
    t->by_level[a->rule->level <= IG_LEVEL_CRITICAL ? a->rule->level : 0]++;
    t->by_rule[a->rule->index]++;
    span(&t->first_hit, &t->last_hit, ig_event_time(a->event));
    ig_strv comp;
    if (ig_event_field(a->event, "Computer", &comp))
        hc_add(&t->hosts, comp.p, comp.len, 1);
}

typedef struct corr_out {
    hunt *h;
    void *os;
    uint64_t n;
} corr_out;

static void on_corr_alert(void *ud, const ig_corr_alert *a)
{
    corr_out *c = ud;
    ig_buf b;
    ig_buf_init(&b, 1u << 24);
    if (out_corr_alert(&b, c->h->fmt, a, c->h->color, &c->h->tz))
        cli_out_write(c->os, (const char *)b.data, b.len);
    ig_buf_free(&b);
    c->n++;
    c->h->by_level[a->rule->level <= IG_LEVEL_CRITICAL ? a->rule->level : 0]++;
    c->h->by_rule[a->rule->index]++;
    span(&c->h->first_hit, &c->h->last_hit, a->first);
}

static void *thread_init(void *ud)
{
    hunt *h = ud;
    hunt_thread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->h = h;
    size_t nr = ig_rules_count(h->rules) + 1;
    t->by_rule = calloc(nr, sizeof(*t->by_rule));
    t->rule_at = calloc(nr, sizeof(*t->rule_at));
    t->rule_len = calloc(nr, sizeof(*t->rule_len));
    t->sc = ig_scanner_create(h->rules, on_alert, t);
    if (t->sc != NULL && h->corr != NULL)
        ig_scanner_set_corr(t->sc, h->corr);
    ig_buf_init(&t->line, 1u << 24);
    ig_buf_init(&t->rule_json, 1u << 26);
    if (t->by_rule == NULL || t->rule_at == NULL || t->rule_len == NULL || t->sc == NULL) {
        ig_scanner_destroy(t->sc);
        free(t->by_rule);
        free(t->rule_at);
        free(t->rule_len);
        free(t);
        return NULL;
    }
    return t;
}

static void thread_fini(void *tud)
{
    hunt_thread *t = tud;
    hunt *h = t->h;
    pthread_mutex_lock(&h->mu);
    h->alerts += t->alerts;
    h->events += t->events;
    h->outside += t->outside;
    for (int i = 0; i < 6; i++)
        h->by_level[i] += t->by_level[i];
    for (size_t i = 0; i < ig_rules_count(h->rules); i++)
        h->by_rule[i] += t->by_rule[i];
    span(&h->first_ev, &h->last_ev, t->first_ev);
    span(&h->first_ev, &h->last_ev, t->last_ev);
    span(&h->first_hit, &h->last_hit, t->first_hit);
    span(&h->first_hit, &h->last_hit, t->last_hit);
    hc_merge(&h->hosts, &t->hosts);
    h->re_limit += ig_scanner_regex_limit_hits(t->sc);
    pthread_mutex_unlock(&h->mu);
    hc_free(&t->hosts);
    ig_scanner_destroy(t->sc);
    ig_buf_free(&t->line);
    ig_buf_free(&t->rule_json);
    free(t->by_rule);
    free(t->rule_at);
    free(t->rule_len);
    free(t);
}

static void on_event(void *tud, ig_event *ev, ig_evtx_emit *out)
{
    hunt_thread *t = tud;
    uint64_t when = ig_event_time(ev);
    if ((t->h->from && when < t->h->from) || (t->h->to && when > t->h->to)) {
        t->outside++;
        return;
    }
    t->out = out;
    t->events++;
    span(&t->first_ev, &t->last_ev, when);
    ig_scanner_scan(t->sc, ev);
}

/* Text inputs (JSON lines, XML) are scanned in the calling thread; their
 * alerts are written after each event. */
typedef struct text_run {
    hunt_thread *t;
    ig_buf *out;
    void *os;
} text_run;

static void on_text_event(void *ud, ig_event *ev)
{
    text_run *r = ud;
    on_event(r->t, ev, (ig_evtx_emit *)r->out);
    if (r->out->len >= (1u << 20)) {
        cli_out_write(r->os, (const char *)r->out->data, r->out->len);
        ig_buf_reset(r->out);
    }
}

/* The format of file `path`, told from its first bytes (up to `cap`, read
 * into head, *n of them: JSON lines are then looked at again). */
static ig_src_format detect(const char *path, uint8_t *head, size_t cap, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = f != NULL ? fread(head, 1, cap, f) : 0;
    if (f == NULL)
        return IG_SRC_UNKNOWN;
    fclose(f);
    return ig_source_detect(head, *n < 4096 ? *n : 4096);
}

static void on_text_error(void *ud, const char *path, uint64_t line, const char *what);

/* Standard input or a pipe, read once: JSON lines and event XML as they
 * come, an EVTX log held in memory whole (IG_MAX_PIPED_EVTX). */
static void hunt_piped(hunt *h, ig_evtx_dumper *d, const char *path, cli_out *os,
                       hunt_thread **main_t, ig_src_stats *tst, uint64_t *files, uint64_t *failed)
{
    cli_pipe p;
    if (!cli_pipe_open(&p, path)) {
        text_run run = {NULL, NULL, os};
        on_text_error(&run, path, 0, strerror(errno));
        ++*files, ++*failed;
        return;
    }
    ig_src_format f = ig_source_detect(p.head, p.nhead);
    if (f == IG_SRC_JSONL || f == IG_SRC_XML) {
        ig_evtx_stats flush; /* what the EVTX threads have in flight goes first */
        ig_evtx_dumper_stats(d, &flush);
        ++*files;
        if (*main_t == NULL && (*main_t = thread_init(h)) == NULL) {
            ++*failed;
            cli_pipe_close(&p);
            return;
        }
        ig_buf out;
        ig_buf_init(&out, 0);
        text_run run = {*main_t, &out, os};
        if (ig_source_read_text_fd(path, p.fd, p.head, p.nhead, f, on_text_event, on_text_error,
                                   &run, tst) != IG_OK)
            ++*failed;
        if (out.len)
            cli_out_write(os, (const char *)out.data, out.len);
        ig_buf_free(&out);
    } else { /* EVTX, or not an event log: the EVTX reader says which */
        const char *why;
        if (!cli_pipe_dump_evtx(&p, d, path, &why)) {
            text_run run = {NULL, NULL, os};
            on_text_error(&run, path, 0, why);
            ++*files, ++*failed;
        }
    }
    cli_pipe_close(&p);
}

static void on_text_error(void *ud, const char *path, uint64_t line, const char *what)
{
    text_run *r = ud;
    cli_out *o = r->os;
    if (!o->quiet)
        fprintf(stderr, "%siisguard: %s:%llu: %s\n", o->clear ? "\r\033[K" : "", path,
                (unsigned long long)line, what);
}

/* A progress bar on stderr when it is a terminal (and not -q): bytes of
 * input done out of the total, redrawn at most ten times a second. */
typedef struct progress {
    bool on;
    uint64_t total, done;
    struct timespec last;
} progress;

static void progress_draw(progress *p, bool final)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt =
        (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
    if (!final && dt < 0.1)
        return;
    p->last = now;
    unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 100;
    if (pct > 100)
        pct = 100;
    char bar[31];
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3u%% %.1f / %.1f MB%s", bar, pct, (double)p->done / 1e6,
            (double)p->total / 1e6, final ? "\r\033[K" : "");
}

static void on_progress(void *ud, uint64_t bytes)
{
    progress *p = ud;
    p->done += bytes;
    progress_draw(p, false);
}

typedef struct rule_errs {
    bool quiet;
    unsigned n;
} rule_errs;

static void on_rule_error(void *ud, const ig_rule_error *e)
{
    rule_errs *r = ud;
    r->n++;
    if (!r->quiet)
        fprintf(stderr, "iisguard: rule %s:%u: %s\n", e->file, e->line, e->reason);
}

/* Is `z` the name of a zone of the system's tz database (Europe/Berlin)? */
static bool zone_known(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n > 64 || z[0] == '/' || strstr(z, "..") != NULL)
        return false;
    for (size_t k = 0; k < n; k++)
        if (!((z[k] >= 'A' && z[k] <= 'Z') || (z[k] >= 'a' && z[k] <= 'z') ||
              (z[k] >= '0' && z[k] <= '9') || strchr("/_-+", z[k]) != NULL))
            return false;
    char path[128];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", z);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void usage(FILE *f)
{
    fputs("usage: iisguard hunt PATH... [--rules FILE|DIR]... [options]\n"
          "  Runs Sigma rules over Windows events and prints an alert per matching event,\n"
          "  in input order.  Inputs (folders are searched recursively): .evtx files,\n"
          "  JSON lines (evtx_dump JSON, Winlogbeat/ECS, NXLog) and event XML (wevtutil),\n"
          "  told apart by content.\n"
          "  --rules P        Sigma rule file or folder (repeatable), added to the\n"
          "                   built-in T1505.004 pack\n"
          "  --no-builtin     leave the built-in pack out\n"
          "  --format F       text (default) | jsonl | csv\n"
          "  --min-level L    informational | low | medium | high | critical\n"
          "  --status S,...   only rules with one of these statuses (stable, test, ...)\n"
          "  --tags T,...     only rules with one of these tags (attack.t1505.004, ...)\n"
          "  --exclude-rules FILE  rule ids to leave out, one per line\n"
          "  --from T, --to T only events in this time range (ISO 8601; UTC unless an\n"
          "                   offset is given: 2024-03-12T09:00+01:00)\n"
          "  --timezone Z     show times in text and CSV in this zone: an offset (+02:00,\n"
          "                   UTC) or a tz database name (Europe/Berlin, daylight saving\n"
          "                   applied per event)\n"
          "  --local          show times in the machine's time zone\n"
          "  --threads N      decoding and matching threads (default: one per core)\n"
          "  --output FILE    write alerts to FILE (kept if it exists, unless --force;\n"
          "                   -: standard output)\n"
          "  -q               no per-rule and per-file diagnostics, no summary\n"
          "  Exit status: 0 no alert, 1 alerts, 2 errors (damaged or unreadable input, usage).\n",
          f);
}

static void fmt_time(char *buf, size_t n, uint64_t ft)
{
    ig_buf b;
    ig_buf_init(&b, 64);
    if (ft != 0 && out_time(&b, ft) && ig_buf_putc(&b, 0))
        snprintf(buf, n, "%s", (const char *)b.data);
    else
        snprintf(buf, n, "-");
    ig_buf_free(&b);
}

static void summary(const hunt *h, const ig_evtx_stats *s, unsigned loaded, unsigned rejected,
                    unsigned filtered, double secs)
{
    char a[40], b[40];
    fmt_time(a, sizeof(a), h->first_ev);
    fmt_time(b, sizeof(b), h->last_ev);
    fprintf(stderr,
            "iisguard: hunt: %llu files (%llu unreadable), %llu records, %llu anomalies, "
            "events from %s to %s\n",
            (unsigned long long)s->files, (unsigned long long)s->files_failed,
            (unsigned long long)s->records, (unsigned long long)s->anomalies, a, b);
    size_t kept = ig_rules_adopted(h->rules);
    if (kept > 0)
        fprintf(stderr,
                "iisguard: hunt: %u rules loaded, %u rejected, %u not selected (%zu of them kept "
                "as bases of selected correlations, without alerts of their own)\n",
                loaded, rejected, filtered, kept);
    else
        fprintf(stderr, "iisguard: hunt: %u rules loaded, %u rejected, %u not selected\n", loaded,
                rejected, filtered);
    if (h->outside)
        fprintf(stderr, "iisguard: hunt: %llu events outside --from/--to left out\n",
                (unsigned long long)h->outside);
    fprintf(stderr,
            "iisguard: hunt: %llu alerts (critical %llu, high %llu, medium %llu, low %llu, "
            "informational %llu) in %.2f s\n",
            (unsigned long long)h->alerts, (unsigned long long)h->by_level[5],
            (unsigned long long)h->by_level[4], (unsigned long long)h->by_level[3],
            (unsigned long long)h->by_level[2], (unsigned long long)h->by_level[1], secs);
    if (h->alerts) {
        fmt_time(a, sizeof(a), h->first_hit);
        fmt_time(b, sizeof(b), h->last_hit);
        fprintf(stderr, "iisguard: hunt: first hit %s, last hit %s\n", a, b);
        /* top rules and hosts (five each) */
        size_t n = ig_rules_count(h->rules);
        bool *shown = calloc(n + 1, 1);
        for (int k = 0; k < 5 && shown; k++) {
            size_t best = n;
            for (size_t i = 0; i < n; i++)
                if (!shown[i] && h->by_rule[i] && (best == n || h->by_rule[i] > h->by_rule[best]))
                    best = i;
            if (best == n)
                break;
            shown[best] = true;
            const ig_rule_info *ri = ig_rules_info(h->rules, best);
            fprintf(stderr, "iisguard: hunt: top rule %6llu  %s (%s)\n",
                    (unsigned long long)h->by_rule[best], ri->title, ri->id);
        }
        free(shown);
        const host_count *top[5];
        size_t ntop = hc_top(&h->hosts, top, 5);
        for (size_t k = 0; k < ntop; k++)
            fprintf(stderr, "iisguard: hunt: top host %6llu  %s\n", (unsigned long long)top[k]->n,
                    top[k]->name);
        if (h->hosts.lost)
            fprintf(stderr,
                    "iisguard: hunt: %llu alerts left out of the host counts (out of memory)\n",
                    (unsigned long long)h->hosts.lost);
    }
    if (h->re_limit)
        fprintf(stderr,
                "iisguard: hunt: %llu regular-expression matches stopped at the match limit "
                "(counted as no match)\n",
                (unsigned long long)h->re_limit);
}

int cmd_hunt(int argc, char **argv)
{
    const char *rule_paths[MAX_RULE_PATHS];
    int nrule_paths = 0;
    const char *out_path = NULL;
    bool force = false, quiet = false, builtin = true;
    ig_level min_level = IG_LEVEL_INFORMATIONAL;
    unsigned threads = 0;
    out_format fmt = OUT_TEXT;
    const char *statuses[MAX_LIST], *tags[MAX_LIST];
    static const char *excluded[MAX_LIST * 16];
    size_t nstatus = 0, ntags = 0, nexcl = 0;
    bool have_status = false, have_tags = false, have_excl = false;
    out_tz tz = {false, 0};
    uint64_t from = 0, to = 0;
    char *excl_buf = NULL;
    char **inputs = argv;
    int ninputs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--rules") == 0 && has) {
            if (nrule_paths == MAX_RULE_PATHS) {
                fprintf(stderr, "iisguard hunt: too many --rules\n");
                return 2;
            }
            rule_paths[nrule_paths++] = argv[++i];
        } else if (strcmp(a, "--status") == 0 && has) {
            have_status = true;
            if (!split_list(argv[++i], statuses, &nstatus)) {
                fprintf(stderr, "iisguard hunt: too many statuses\n");
                return 2;
            }
        } else if (strcmp(a, "--tags") == 0 && has) {
            have_tags = true;
            if (!split_list(argv[++i], tags, &ntags)) {
                fprintf(stderr, "iisguard hunt: too many tags\n");
                return 2;
            }
        } else if (strcmp(a, "--exclude-rules") == 0 && has) {
            have_excl = true;
            free(excl_buf);
            excl_buf = NULL;
            nexcl = 0;
            if (!read_ids(argv[++i], &excl_buf, excluded, &nexcl)) {
                fprintf(stderr, "iisguard hunt: %s: cannot read rule ids\n", argv[i]);
                return 2;
            }
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) && has) {
            uint64_t *dst = a[2] == 'f' ? &from : &to;
            if (!ig_parse_time(argv[i + 1], strlen(argv[i + 1]), dst)) {
                fprintf(stderr,
                        "iisguard hunt: %s wants a time like 2024-03-12T08:00:00Z or "
                        "2024-03-12 09:00+01:00\n",
                        a);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--timezone") == 0 && has) {
            const char *z = argv[++i];
            if (ig_parse_offset(z, &tz.offset)) {
                tz.local = false;
            } else if (zone_known(z)) { /* shown as the machine's zone would be */
                setenv("TZ", z, 1);
                tzset();
                tz.local = true;
            } else {
                fprintf(stderr,
                        "iisguard hunt: --timezone wants UTC, an offset like +02:00 or a zone "
                        "of the tz database like Europe/Berlin (not found: %s)\n",
                        z);
                return 2;
            }
        } else if (strcmp(a, "--local") == 0) {
            tz.local = true;
        } else if (strcmp(a, "--no-builtin") == 0) {
            builtin = false;
        } else if (strcmp(a, "--format") == 0 && has) {
            const char *f = argv[++i];
            if (strcmp(f, "text") == 0)
                fmt = OUT_TEXT;
            else if (strcmp(f, "jsonl") == 0 || strcmp(f, "json") == 0)
                fmt = OUT_JSONL;
            else if (strcmp(f, "csv") == 0)
                fmt = OUT_CSV;
            else {
                fprintf(stderr, "iisguard hunt: unknown format '%s'\n", f);
                return 2;
            }
        } else if (strcmp(a, "--min-level") == 0 && has) {
            if (!out_level_parse(argv[++i], &min_level)) {
                fprintf(stderr, "iisguard hunt: unknown level '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--threads") == 0 && has) {
            uint64_t n;
            if (!ig_parse_u64(argv[++i], 256, &n)) {
                fprintf(stderr, "iisguard hunt: --threads wants a number from 0 to 256\n");
                return 2;
            }
            threads = (unsigned)n;
        } else if ((strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0) && has) {
            out_path = argv[++i];
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if (strcmp(a, "-q") == 0) {
            quiet = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "iisguard hunt: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            inputs[ninputs++] = argv[i];
        }
    }
    if (ninputs == 0) {
        usage(stderr);
        return 2;
    }
    if (nrule_paths == 0 && !builtin) {
        fprintf(stderr, "iisguard hunt: no rules: give --rules FILE|DIR or drop --no-builtin\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rule_errs rerr = {quiet, 0};
    ig_rules_builder *rb = ig_rules_builder_create(on_rule_error, &rerr);
    if (rb == NULL)
        return 2;
    ig_rules_builder_set_min_level(rb, min_level);
    ig_rules_builder_set_threads(rb, threads);
    ig_rules_builder_select(rb, have_status ? statuses : NULL, have_tags ? tags : NULL,
                            have_excl ? excluded : NULL);
    unsigned loaded = 0, rejected = 0;
    if (builtin)
        ig_rules_builder_add_builtin(rb, &loaded, &rejected);
    for (int i = 0; i < nrule_paths; i++) {
        unsigned l = 0, r = 0;
        ig_rules_builder_add_path(rb, rule_paths[i], &l, &r);
        loaded += l;
        rejected += r;
    }
    unsigned filtered = ig_rules_builder_filtered(rb);
    unsigned before = rerr.n;
    ig_rules *rules = ig_rules_builder_finish(rb);
    /* correlations whose references did not resolve were counted as loaded */
    unsigned late = rerr.n - before;
    loaded -= late < loaded ? late : loaded;
    rejected += late;
    free(excl_buf);
    if (rules == NULL) {
        fprintf(stderr, "iisguard hunt: out of memory\n");
        return 2;
    }
    if (ig_rules_count(rules) == 0) {
        if (filtered > 0)
            fprintf(stderr,
                    "iisguard hunt: no rule selected: %u loaded, all left out by --min-level, "
                    "--status, --tags or --exclude-rules\n",
                    filtered);
        else
            fprintf(stderr, "iisguard hunt: no rule could be loaded (%u rejected)\n", rejected);
        ig_rules_destroy(rules);
        return 2;
    }
    unsigned path_errors = 0;
    char **paths = NULL;
    long n = cli_collect(inputs, ninputs, ".evtx|.json|.jsonl|.ndjson|.xml", &paths, &path_errors);
    cli_out os = {stdout, false, quiet, false};
    if (n < 0) {
        ig_rules_destroy(rules);
        return 2;
    }
    if (out_path != NULL) {
        os.f = cli_open_output(out_path, force, "hunt");
        if (os.f == NULL) {
            cli_free_paths(paths, n);
            ig_rules_destroy(rules);
            return 2;
        }
    }
    static char obuf[1 << 20];
    setvbuf(os.f, obuf, _IOFBF, sizeof(obuf));
    hunt h;
    memset(&h, 0, sizeof(h));
    h.rules = rules;
    h.fmt = fmt;
    h.tz = tz;
    h.from = from;
    h.to = to;
    h.quiet = quiet;
    h.color =
        fmt == OUT_TEXT && os.f == stdout && isatty(fileno(stdout)) && getenv("NO_COLOR") == NULL;
    h.by_rule = calloc(ig_rules_count(rules) + 1, sizeof(*h.by_rule));
    h.corr = ig_corr_create(rules);
    pthread_mutex_init(&h.mu, NULL);
    ig_buf head;
    ig_buf_init(&head, 4096);
    if (out_header(&head, fmt, h.color) && head.len)
        fwrite(head.data, 1, head.len, os.f);
    ig_buf_free(&head);
    progress prog = {!quiet && isatty(fileno(stderr)), 0, 0, {0, 0}};
    if (prog.on)
        for (long i = 0; i < n; i++) {
            struct stat sb;
            if (stat(paths[i], &sb) == 0)
                prog.total += (uint64_t)sb.st_size;
        }
    os.clear = prog.on;
    ig_evtx_opts opts = {0};
    opts.threads = threads;
    if (prog.on) {
        opts.progress = on_progress;
        opts.progress_ud = &prog;
    }
    opts.output = cli_out_write;
    opts.output_ud = &os;
    opts.anomaly = cli_out_anomaly;
    opts.anomaly_ud = &os;
    opts.on_event = on_event;
    opts.thread_init = thread_init;
    opts.thread_fini = thread_fini;
    opts.event_ud = &h;
    ig_evtx_dumper *d = h.by_rule ? ig_evtx_dumper_create(&opts) : NULL;
    if (d == NULL) {
        fprintf(stderr, "iisguard hunt: out of memory\n");
        cli_free_paths(paths, n);
        ig_rules_destroy(rules);
        free(h.by_rule);
        return 2;
    }
    hunt_thread *main_t = NULL; /* scans text inputs in this thread */
    ig_src_stats tst = {0, 0};
    uint64_t text_files = 0, text_failed = 0;
    for (long i = 0; i < n && !os.failed; i++) {
        if (cli_is_piped(paths[i])) {
            hunt_piped(&h, d, paths[i], &os, &main_t, &tst, &text_files, &text_failed);
            continue;
        }
        uint8_t first[65536];
        size_t nfirst;
        ig_src_format f = detect(paths[i], first, sizeof(first), &nfirst);
        if (f == IG_SRC_EVTX || f == IG_SRC_UNKNOWN) {
            /* not EVTX either: the reader says so, naming the file */
            ig_evtx_dumper_file(d, paths[i]);
            continue;
        }
        /* a text input: what the EVTX threads have in flight goes first */
        ig_evtx_stats flush;
        ig_evtx_dumper_stats(d, &flush);
        text_files++;
        unsigned nt = threads ? threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
        if (nt > IG_MAX_THREADS)
            nt = IG_MAX_THREADS;
        if (f == IG_SRC_JSONL && nt > 1 && hj_line_per_event(first, nfirst)) {
            /* JSON lines: blocks of lines over several threads */
            hunt_thread *ts[IG_MAX_THREADS];
            unsigned made = 0;
            while (made < nt && (ts[made] = thread_init(&h)) != NULL)
                made++;
            if (made == 0 || !hj_hunt((void *const *)ts, made, on_event, paths[i], &os, &tst,
                                      prog.on ? on_progress : NULL, &prog))
                text_failed++;
            for (unsigned k = 0; k < made; k++)
                thread_fini(ts[k]);
            continue;
        }
        if (main_t == NULL && (main_t = thread_init(&h)) == NULL)
            break;
        ig_buf out;
        ig_buf_init(&out, 0);
        text_run run = {main_t, &out, &os};
        if (ig_source_read_text(paths[i], f, on_text_event, on_text_error, &run, &tst) != IG_OK)
            text_failed++;
        struct stat sb;
        if (prog.on && strcmp(paths[i], "-") != 0 && stat(paths[i], &sb) == 0)
            on_progress(&prog, (uint64_t)sb.st_size); /* a text file counts when done */
        if (out.len)
            cli_out_write(&os, (const char *)out.data, out.len);
        ig_buf_free(&out);
    }
    ig_evtx_stats st;
    ig_evtx_dumper_stats(d, &st);
    if (prog.on)
        progress_draw(&prog, true);
    if (main_t != NULL)
        thread_fini(main_t);
    st.files += text_files;
    st.files_failed += text_failed;
    st.records += tst.events;
    st.bad_records += tst.bad_records;
    st.anomalies += tst.bad_records;
    ig_evtx_dumper_destroy(d); /* threads end: their counts and matches are in h */
    /* correlations, once every event is in */
    uint64_t corr_alerts = 0;
    if (h.corr != NULL && !os.failed) {
        corr_out co = {&h, &os, 0};
        ig_corr_run(h.corr, on_corr_alert, &co);
        corr_alerts = co.n;
        if (ig_corr_dropped(h.corr) && !quiet)
            fprintf(stderr, "iisguard: hunt: %llu matches not kept for correlation (limit)\n",
                    (unsigned long long)ig_corr_dropped(h.corr));
    }
    h.alerts += corr_alerts;
    if (fflush(os.f) != 0)
        os.failed = true;
    if (os.f != stdout && fclose(os.f) != 0)
        os.failed = true;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    st.files_failed += path_errors;
    if (!quiet)
        summary(&h, &st, loaded, rejected, filtered, secs);
    int rc = (st.files_failed || st.anomalies || os.failed) ? 2 : h.alerts ? 1 : 0;
    if (os.failed)
        fprintf(stderr, "iisguard hunt: write error\n");
    hc_free(&h.hosts);
    free(h.by_rule);
    pthread_mutex_destroy(&h.mu);
    ig_corr_destroy(h.corr);
    cli_free_paths(paths, n);
    ig_rules_destroy(rules);
    return rc;
}
