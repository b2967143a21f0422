/* iisguard stream --stdin [--rules FILE|DIR]... [--no-builtin] [--min-level L]
 *                 [--format jsonl|text|csv] [--late SECONDS] [-q]
 *
 * Continuous detection: JSON-lines events (every shape `hunt` reads) are
 * scanned as they arrive and their alerts written at once.  Correlation
 * rules are evaluated as time moves on (every 1,000 events, or every as
 * many events as there are kept matches when more, but at least every
 * second under load, and after a second without input): an alert is
 * written once, and matches a correlation can no longer use — older than
 * the watermark (the latest event time) minus the longest timespan minus
 * --late — are forgotten, so memory stays bounded.  SIGTERM or SIGINT
 * drains: the lines read are finished, correlations evaluated, the output
 * flushed, exit 0.  Exit 1 when alerts were written, 2 on errors (as
 * `hunt`). */
#define _DEFAULT_SOURCE /* sigaction */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/num.h"
#include "iisguard/rules.h"
#include "iisguard/source.h"
#include "output/alerts.h"
#include "cli/stream.h"

#define EVAL_EVERY 1000u
#define MAX_LINE   (8u << 20)

atomic_int stream_stopping; /* set by the signal handler, read by threads */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may store only to a lock-free atomic");

static void on_signal(int sig)
{
    (void)sig;
    stream_stopping = 1;
}

/* An alert's text (s->line) to its destination, with message id `id`. */
static void write_out(stream *s, const char *id)
{
    if (s->publish != NULL) {
        if (!s->publish(s, id, (const char *)s->line.data, s->line.len))
            s->publish_failed = true;
        return;
    }
    if (s->line.len && fwrite(s->line.data, 1, s->line.len, s->out) != s->line.len)
        s->errors++;
    fflush(s->out);
}

static void on_alert(void *ud, const ig_alert *a)
{
    stream *s = ud;
    if (s->quiet_alerts)
        return;
    ig_buf_reset(&s->line);
    char id[96];
    snprintf(id, sizeof(id), "%s-%llu", a->rule->id, (unsigned long long)s->event_id);
    if (out_alert(&s->line, s->fmt, a, false, &s->tz))
        write_out(s, id);
    s->alerts++;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A correlation alert's identity: rule, group and its first event. */
static uint64_t corr_key(const ig_corr_alert *a)
{
    uint64_t h = 1469598103934665603ull;
    h = fnv(h, a->rule->id, strlen(a->rule->id));
    h = fnv(h, a->group.p, a->group.len);
    if (a->nevents > 0) {
        h = fnv(h, &a->events[0].time, sizeof(a->events[0].time));
        h = fnv(h, &a->events[0].record_id, sizeof(a->events[0].record_id));
        h = fnv(h, &a->events[0].offset, sizeof(a->events[0].offset));
    }
    return h;
}

static void on_corr(void *ud, const ig_corr_alert *a)
{
    stream *s = ud;
    /* an absence is known only once no event can still arrive to fill it:
     * the newest event is a timespan (and --late) past it, or the input ended */
    if (!s->final && strcmp(a->type, "absent") == 0 && s->watermark < a->last + a->span + s->late)
        return;
    uint64_t k = corr_key(a);
    if (stream_seen(s, k))
        return; /* written when an earlier evaluation found it */
    stream_seen_add(s, k, a->last);
    if (s->quiet_alerts)
        return;
    ig_buf_reset(&s->line);
    char id[96];
    snprintf(id, sizeof(id), "%s-c%016llx", a->rule->id, (unsigned long long)k);
    if (out_corr_alert(&s->line, s->fmt, a, false, &s->tz))
        write_out(s, id);
    s->alerts++;
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Correlations over what is kept, then what can no longer matter goes. */
void stream_evaluate(stream *s)
{
    s->since_eval = 0;
    if (s->corr == NULL)
        return;
    s->last_eval = now_ms();
    if (!ig_scanner_flush(s->sc))
        s->errors++;
    ig_corr_run(s->corr, on_corr, s);
    uint64_t keep = s->horizon + s->late;
    if (s->watermark > keep) {
        uint64_t before = s->watermark - keep;
        ig_corr_prune(s->corr, before);
        stream_seen_prune(s, before);
    }
    size_t kept = ig_corr_kept(s->corr);
    s->eval_every = kept > EVAL_EVERY ? (unsigned)(kept < UINT_MAX ? kept : UINT_MAX) : EVAL_EVERY;
}

void stream_on_event(void *ud, ig_event *ev)
{
    stream *s = ud;
    s->events++;
    uint64_t t = ig_event_time(ev);
    if (t > s->watermark)
        s->watermark = t;
    ig_scanner_scan(s->sc, ev);
    /* correlations are evaluated over everything kept, so not more often than
     * once per as many events as there are kept matches (the cost of an
     * evaluation, spread over the events), but at least every second */
    if (++s->since_eval >= EVAL_EVERY &&
        (s->since_eval >= s->eval_every ||
         ((s->since_eval & 255) == 0 && now_ms() - s->last_eval >= 1000)))
        stream_evaluate(s);
}

void stream_on_error(void *ud, const char *path, uint64_t line, const char *what)
{
    stream *s = ud;
    s->errors++;
    if (!s->quiet)
        fprintf(stderr, "iisguard: %s:%llu: %s\n", path, (unsigned long long)line, what);
}

static void on_rule_error(void *ud, const ig_rule_error *e)
{
    (void)ud;
    fprintf(stderr, "iisguard: %s:%u: %s\n", e->file, e->line, e->reason);
}

static void usage(FILE *f)
{
    fputs("usage: iisguard stream --stdin [--rules FILE|DIR]... [--no-builtin] [--min-level L]\n"
          "                       [--format jsonl|text|csv] [--late SECONDS] [-q]\n"
          "       iisguard stream --follow PATH... [--state FILE] [--output FILE] [--poll MS]\n"
          "       iisguard stream --nats URL --stream NAME --subject SUBJ --durable NAME\n"
          "                       [--alerts-subject SUBJ] [--dead-letter SUBJ] [rule options]\n"
          "  --follow  JSON-lines and .evtx files still being written, polled; --state keeps\n"
          "            a checkpoint so a restart resumes where the last run stopped (with\n"
          "            --output FILE every alert is written once, even after a SIGKILL)\n"
          "  --nats    a JetStream pull consumer: alerts published to --alerts-subject (with\n"
          "            message ids; stdout without it), malformed messages to --dead-letter\n"
          "            (default iisguard.deadletter), each message acknowledged after its\n"
          "            alerts are published (see docs/deploy.md)\n"
          "  Reads JSON-lines events from standard input as they arrive and writes alerts\n"
          "  at once (JSON lines by default); correlations are evaluated as time moves on.\n"
          "  --late    how far behind the latest event an event may still arrive and count\n"
          "            in correlations (default 300 seconds)\n"
          "  SIGTERM or SIGINT: finish, evaluate, flush, exit.\n",
          f);
}

int cmd_stream(int argc, char **argv)
{
    stream s;
    memset(&s, 0, sizeof(s));
    s.fmt = OUT_JSONL;
    s.out = stdout;
    s.late = 300ull * 10000000ull;
    s.eval_every = EVAL_EVERY;
    bool builtin = true, have_stdin = false, follow = false;
    const char *state = NULL, *outp = NULL;
    int poll_ms = 500;
    char *files[256];
    int nfiles = 0;
    stream_nats_opts no = {NULL, NULL, NULL, NULL, NULL, NULL, 256};
    ig_level min = IG_LEVEL_INFORMATIONAL;
    const char *rule_paths[64];
    int nrules = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--stdin") == 0) {
            have_stdin = true;
        } else if (strcmp(a, "--follow") == 0) {
            follow = true;
        } else if (strcmp(a, "--state") == 0 && has) {
            state = argv[++i];
        } else if (strcmp(a, "--output") == 0 && has) {
            outp = argv[++i];
        } else if (strcmp(a, "--poll") == 0 && has) {
            uint64_t ms = 0;
            if (!ig_parse_u64(argv[++i], 60000u, &ms) || ms == 0) {
                fputs("iisguard stream: --poll wants milliseconds (1 to 60000)\n", stderr);
                return 2;
            }
            poll_ms = (int)ms;
        } else if (strcmp(a, "--nats") == 0 && has) {
            no.url = argv[++i];
        } else if (strcmp(a, "--stream") == 0 && has) {
            no.stream = argv[++i];
        } else if (strcmp(a, "--subject") == 0 && has) {
            no.subject = argv[++i];
        } else if (strcmp(a, "--durable") == 0 && has) {
            no.durable = argv[++i];
        } else if (strcmp(a, "--alerts-subject") == 0 && has) {
            no.alerts_subject = argv[++i];
        } else if (strcmp(a, "--dead-letter") == 0 && has) {
            no.dead_letter = argv[++i];
        } else if (strcmp(a, "--rules") == 0 && has && nrules < 64) {
            rule_paths[nrules++] = argv[++i];
        } else if (strcmp(a, "--no-builtin") == 0) {
            builtin = false;
        } else if (strcmp(a, "--min-level") == 0 && has) {
            if (!out_level_parse(argv[++i], &min)) {
                fprintf(stderr, "iisguard stream: unknown level '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--format") == 0 && has) {
            const char *f = argv[++i];
            if (strcmp(f, "jsonl") == 0)
                s.fmt = OUT_JSONL;
            else if (strcmp(f, "text") == 0)
                s.fmt = OUT_TEXT;
            else if (strcmp(f, "csv") == 0)
                s.fmt = OUT_CSV;
            else {
                fprintf(stderr, "iisguard stream: unknown format '%s'\n", f);
                return 2;
            }
        } else if (strcmp(a, "--late") == 0 && has) {
            uint64_t secs = 0;
            if (!ig_parse_u64(argv[++i], 31536000u, &secs)) {
                fputs("iisguard stream: --late wants seconds (up to a year)\n", stderr);
                return 2;
            }
            s.late = secs * 10000000ull;
        } else if (strcmp(a, "-q") == 0) {
            s.quiet = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (follow && a[0] != '-' && nfiles < 256) {
            files[nfiles++] = argv[i];
        } else {
            fprintf(stderr, "iisguard stream: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if ((int)have_stdin + (no.url != NULL) + (int)follow != 1 || (follow && nfiles == 0) ||
        (no.url && (no.stream == NULL || no.subject == NULL || no.durable == NULL))) {
        usage(stderr);
        return 2;
    }
    ig_rules_builder *b = ig_rules_builder_create(on_rule_error, NULL);
    if (b == NULL)
        return 2;
    ig_rules_builder_set_min_level(b, min);
    if (builtin)
        ig_rules_builder_add_builtin(b, NULL, NULL);
    for (int i = 0; i < nrules; i++)
        ig_rules_builder_add_path(b, rule_paths[i], NULL, NULL);
    s.rules = ig_rules_builder_finish(b);
    if (s.rules == NULL)
        return 2;
    s.horizon = ig_rules_max_timespan(s.rules);
    s.corr = ig_corr_create(s.rules);
    s.sc = ig_scanner_create(s.rules, on_alert, &s);
    bool seen_ok = stream_seen_init(&s);
    ig_json_lines *jl = ig_json_lines_create(stream_on_event, stream_on_error, &s);
    ig_buf in;
    ig_buf_init(&in, MAX_LINE + 65536);
    ig_buf_init(&s.line, 1u << 24);
    if (s.corr == NULL || s.sc == NULL || !seen_ok || jl == NULL) {
        fputs("iisguard stream: out of memory\n", stderr);
        return 2;
    }
    ig_scanner_set_corr(s.sc, s.corr);
    struct sigaction sa;
    if (no.url != NULL || follow) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        int rc = follow ? stream_follow_run(&s, files, nfiles, state, outp, poll_ms)
                        : stream_nats_run(&s, &no, jl);
        ig_json_lines_destroy(jl);
        ig_scanner_destroy(s.sc);
        ig_corr_destroy(s.corr);
        ig_rules_destroy(s.rules);
        ig_buf_free(&in);
        ig_buf_free(&s.line);
        stream_seen_free(&s);
        return rc;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    uint64_t lineno = 1;
    bool eof = false, skipping = false;
    while (!eof && !stream_stopping) {
        struct pollfd p = {0, POLLIN, 0};
        int pr = poll(&p, 1, 1000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            if (s.since_eval)
                stream_evaluate(&s); /* quiet input: time to look at correlations */
            continue;
        }
        if (ig_buf_reserve(&in, 65536) != IG_OK)
            break;
        ssize_t r = read(0, in.data + in.len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            eof = true;
            if (r < 0)
                s.errors++;
        } else {
            in.len += (size_t)r;
        }
        size_t start = 0;
        for (;;) {
            uint8_t *nl = memchr(in.data + start, '\n', in.len - start);
            size_t end = nl ? (size_t)(nl - in.data) : in.len;
            if (nl == NULL && !eof)
                break;
            if (end > start || nl != NULL) {
                size_t n = end - start;
                if (n && in.data[start + n - 1] == '\r')
                    n--;
                if (!skipping)
                    ig_json_lines_feed(jl, "<stdin>", lineno, (const char *)in.data + start, n);
                skipping = false;
                lineno++;
            }
            start = end + (nl != NULL);
            if (nl == NULL)
                break;
        }
        memmove(in.data, in.data + start, in.len - start);
        in.len -= start;
        if (in.len > MAX_LINE) {
            stream_on_error(&s, "<stdin>", lineno, "line longer than the limit (8 MiB); skipped");
            in.len = 0;
            skipping = true;
        }
    }
    /* drain: the lines read are done; correlations over everything kept */
    s.final = true; /* ended or stopped: open absences are decided now */
    stream_evaluate(&s);
    fflush(s.out);
    if (!s.quiet)
        fprintf(stderr, "iisguard: stream: %llu events, %llu alerts, %llu errors%s\n",
                (unsigned long long)s.events, (unsigned long long)s.alerts,
                (unsigned long long)s.errors, stream_stopping ? " (stopped by a signal)" : "");
    ig_json_lines_destroy(jl);
    ig_scanner_destroy(s.sc);
    ig_corr_destroy(s.corr);
    ig_rules_destroy(s.rules);
    ig_buf_free(&in);
    ig_buf_free(&s.line);
    stream_seen_free(&s);
    return s.errors ? 2 : s.alerts ? 1 : 0;
}
