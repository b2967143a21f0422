/* `stream --nats`: a JetStream pull consumer (libnats) feeding the
 * continuous-detection loop.
 *
 * At least once, and exactly once on the alert stream:
 *  - a message is acknowledged only after the alerts it raised were
 *    published (JetStream publish, acknowledged by the server); after a
 *    failed publish it is negatively acknowledged, redelivered a second later;
 *  - each alert carries a message id made of its rule id and the event's
 *    stream sequence (or, for a correlation, its rule, group and first
 *    event), so JetStream's duplicate window drops a re-published alert;
 *  - correlation state is rebuilt from redelivered events: a message whose
 *    event some correlation may still need is held unacknowledged until it
 *    is pruned (older than the longest timespan plus --late behind the
 *    latest event); while held it is kept alive with "in progress" acks
 *    every 10 s (AckWait is 30 s), so after a crash it is redelivered
 *    within 30 s and rebuilds the state.  The alert stream's duplicate
 *    window must cover the redelivery (docs/deploy.md);
 *  - a message that is not an event is published with its reason to the
 *    dead-letter subject, then acknowledged.
 * Batches are fetched ahead by a thread (stream_fetch.c), so the server
 * delivers the next one while this one is worked on.
 * SIGTERM: stop fetching, finish the batches fetched, evaluate correlations
 * over all that is kept, acknowledge everything, exit 0/1 (a graceful stop
 * gives up the state of windows still open; a crash does not).  The server
 * takes acknowledgements in through a queue it works on later, so the last
 * one is sent again as a request: its reply, which comes after the server
 * has handled every acknowledgement before it, means none is still waiting
 * there when the process exits. */
#define _DEFAULT_SOURCE /* nanosleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "cli/stream.h"
#include "cli/stream_fetch.h"

typedef struct held {
    natsMsg *msg;
    uint64_t time; /* the event's FILETIME */
} held;

typedef struct nats_ctx {
    natsConnection *nc;
    jsCtx *js;
    const stream_nats_opts *o;
    held *held;
    size_t nheld, capheld;
    uint64_t dead, acked;
    char why[256]; /* the current message's parse error */
    bool bad;      /* the current message is not an event */
    uint64_t last_time;
    volatile bool closing; /* the disconnection is ours: not worth a line */
    natsMsg **toack;       /* done with in this batch: acknowledged together after it */
    size_t ntoack, captoack;
    char last_ack[256]; /* reply subject of the latest acknowledged message ("" if none) */
} nats_ctx;

/* Acknowledges `m` (not destroyed) and remembers where the acknowledgement
 * went, for the confirmation at the end. */
static void ack(nats_ctx *n, natsMsg *m)
{
    natsMsg_Ack(m, NULL);
    n->acked++;
    const char *r = natsMsg_GetReply(m);
    size_t l = r ? strlen(r) : 0;
    if (l < sizeof(n->last_ack))
        memcpy(n->last_ack, r ? r : "", l + 1);
}

/* The stop's last round trip: the latest acknowledgement again, as a
 * request.  The server handles the acknowledgements of a consumer in the
 * order they came, and answers this one once it is handled (acknowledging
 * a message twice changes nothing). */
static void confirm_acks(nats_ctx *n)
{
    if (natsConnection_Status(n->nc) != NATS_CONN_STATUS_CONNECTED) {
        fputs("iisguard: stream: not connected to NATS at the stop: the messages whose "
              "acknowledgement did not reach it are delivered again\n",
              stderr);
        return;
    }
    if (n->last_ack[0] == '\0') {
        natsConnection_Flush(n->nc);
        return;
    }
    natsMsg *reply = NULL;
    natsStatus st = natsConnection_RequestString(&reply, n->nc, n->last_ack, "+ACK", 5000);
    natsMsg_Destroy(reply);
    if (st != NATS_OK)
        fprintf(stderr, "iisguard: stream: the server did not confirm the acknowledgements: %s\n",
                natsStatus_GetText(st));
}

static bool publish(stream *s, const char *id, const char *data, size_t len)
{
    nats_ctx *n = s->publish_ud;
    const char *subj = n->o->alerts_subject;
    if (subj == NULL) { /* alerts to stdout only */
        if (fwrite(data, 1, len, s->out) != len)
            return false;
        fflush(s->out);
        return true;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    /* one alert per message: without the line break */
    size_t l = len && data[len - 1] == '\n' ? len - 1 : len;
    natsStatus st = js_Publish(&pa, n->js, subj, data, (int)l, &po, &jerr);
    jsPubAck_Destroy(pa);
    if (st != NATS_OK) {
        fprintf(stderr, "iisguard: stream: publishing an alert to %s failed: %s\n", subj,
                natsStatus_GetText(st));
        return false;
    }
    return true;
}

static void on_parse_error(void *ud, const char *path, uint64_t line, const char *what)
{
    nats_ctx *n = ud;
    (void)path, (void)line;
    n->bad = true;
    snprintf(n->why, sizeof(n->why), "%s", what);
}

/* ig_json_lines delivers here first: remember the event's time */
typedef struct feed_ctx {
    stream *s;
    nats_ctx *n;
} feed_ctx;

static void on_event(void *ud, ig_event *ev)
{
    feed_ctx *f = ud;
    f->n->last_time = ig_event_time(ev);
    stream_on_event(f->s, ev);
}

static void on_error(void *ud, const char *path, uint64_t line, const char *what)
{
    feed_ctx *f = ud;
    on_parse_error(f->n, path, line, what);
}

static void on_disconnected(natsConnection *nc, void *ud)
{
    (void)nc;
    if (((nats_ctx *)ud)->closing)
        return;
    fputs("iisguard: stream: disconnected from NATS; reconnecting\n", stderr);
}

static void on_connected(natsConnection *nc, void *ud)
{
    (void)nc, (void)ud;
    fputs("iisguard: stream: connected to NATS\n", stderr);
}

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until connected (the library retries in the background) and binds
 * the pull consumer, retrying while the server or its JetStream is not
 * there yet.  NATS_OK, or the error that retrying cannot mend; a stop
 * request while waiting gives NATS_CONNECTION_CLOSED. */
static natsStatus subscribe(nats_ctx *n, const stream_nats_opts *o, natsSubscription **sub)
{
    bool said = false;
    for (long wait = 250;; wait = wait < 4000 ? wait * 2 : 4000) {
        while (!stream_stopping && natsConnection_Status(n->nc) != NATS_CONN_STATUS_CONNECTED)
            nap(100);
        if (stream_stopping)
            return NATS_CONNECTION_CLOSED;
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = o->stream;
        so.Config.AckPolicy = js_AckExplicit;
        /* held messages are kept alive with "in progress" acks */
        so.Config.AckWait = 30ll * 1000000000ll;
        so.Config.MaxAckPending = 1000000;
        jsErrCode jerr = 0;
        natsStatus st = js_PullSubscribe(sub, n->js, o->subject, o->durable, NULL, &so, &jerr);
        if (st == NATS_OK || jerr != 0 ||
            (st != NATS_TIMEOUT && st != NATS_NO_RESPONDERS && st != NATS_CONNECTION_DISCONNECTED &&
             st != NATS_NOT_YET_CONNECTED && st != NATS_CONNECTION_CLOSED))
            return st;
        if (!said)
            fprintf(stderr, "iisguard: stream: JetStream at %s not ready (%s); retrying\n", o->url,
                    natsStatus_GetText(st));
        said = true;
        nap(wait);
    }
}

static void on_reconnected(natsConnection *nc, void *ud)
{
    (void)nc, (void)ud;
    fputs("iisguard: stream: reconnected to NATS\n", stderr);
}

/* Acknowledges the held messages whose events are now older than the
 * correlation horizon. */
static void release_held(stream *s, nats_ctx *n, bool all_pruned)
{
    uint64_t keep = s->horizon + s->late;
    uint64_t before = s->watermark > keep ? s->watermark - keep : 0;
    size_t k = 0;
    for (size_t i = 0; i < n->nheld; i++) {
        if (all_pruned || n->held[i].time < before) {
            ack(n, n->held[i].msg);
            natsMsg_Destroy(n->held[i].msg);
        } else {
            n->held[k++] = n->held[i];
        }
    }
    n->nheld = k;
}

static bool hold(nats_ctx *n, natsMsg *m, uint64_t t)
{
    if (n->nheld == n->capheld) {
        size_t cap = n->capheld ? n->capheld * 2 : 256;
        held *v = realloc(n->held, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        n->held = v;
        n->capheld = cap;
    }
    n->held[n->nheld++] = (held){m, t};
    return true;
}

/* A message whose alerts or dead letter could not be published: the server
 * delivers it again in a second (it would wait the 30 s AckWait). */
static void retry_later(natsMsg *m)
{
    natsMsg_NakWithDelay(m, 1000, NULL);
}

/* One message: an event (its alerts published, then acknowledged or held)
 * or not (to the dead-letter subject, then acknowledged). */
static void one_message(stream *s, nats_ctx *n, ig_json_lines *jl, natsMsg *m)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    s->event_id = seq;
    n->bad = false;
    n->why[0] = '\0';
    s->publish_failed = false;
    size_t before = ig_scanner_pending(s->sc);
    const char *data = natsMsg_GetData(m);
    int len = natsMsg_GetDataLength(m);
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len <= 0) {
        n->bad = true;
        snprintf(n->why, sizeof(n->why), "empty message");
    } else {
        ig_json_lines_feed(jl, natsMsg_GetSubject(m), seq, data, (size_t)len);
    }
    if (n->bad) {
        /* not an event: the dead-letter subject gets it with the reason */
        natsMsg *dl = NULL;
        const char *dsub = n->o->dead_letter ? n->o->dead_letter : "iisguard.deadletter";
        natsStatus pst = natsMsg_Create(&dl, dsub, NULL, data, len > 0 ? len : 0);
        char id[64];
        snprintf(id, sizeof(id), "dl-%llu", (unsigned long long)seq);
        if (pst == NATS_OK) {
            natsMsgHeader_Set(dl, "Iisguard-Error", n->why);
            natsMsgHeader_Set(dl, "Iisguard-Subject", natsMsg_GetSubject(m));
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MsgId = id;
            jsPubAck *pa = NULL;
            jsErrCode jerr = 0;
            pst = js_PublishMsg(&pa, n->js, dl, &po, &jerr);
            jsPubAck_Destroy(pa);
        }
        natsMsg_Destroy(dl);
        s->errors++;
        if (pst == NATS_OK) {
            n->dead++;
            ack(n, m);
        } else {
            fprintf(stderr,
                    "iisguard: stream: publishing message %llu to %s failed: %s; it comes back\n",
                    (unsigned long long)seq, dsub, natsStatus_GetText(pst));
            retry_later(m);
        }
        natsMsg_Destroy(m);
        return;
    }
    if (s->publish_failed) {
        retry_later(m);
        natsMsg_Destroy(m);
        return;
    }
    if (ig_scanner_pending(s->sc) > before && hold(n, m, n->last_time))
        return; /* a correlation may need it: acknowledged once pruned */
    if (n->ntoack == n->captoack) {
        size_t cap = n->captoack ? n->captoack * 2 : 256;
        natsMsg **v = realloc(n->toack, sizeof(*v) * cap);
        if (v == NULL) {
            ack(n, m);
            natsMsg_Destroy(m);
            return;
        }
        n->toack = v;
        n->captoack = cap;
    }
    n->toack[n->ntoack++] = m;
}

/* Acknowledges the messages of the batch just done, in one burst (the
 * client's writer thread is woken once instead of once per message). */
static void ack_batch(nats_ctx *n)
{
    for (size_t i = 0; i < n->ntoack; i++) {
        ack(n, n->toack[i]);
        natsMsg_Destroy(n->toack[i]);
    }
    n->ntoack = 0;
}

static natsStatus bind_again(void *ud, natsSubscription **sub)
{
    nats_ctx *n = ud;
    return subscribe(n, n->o, sub);
}

static void nats_close(nats_ctx *n, natsSubscription *sub, natsOptions *opts)
{
    n->closing = true;
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(n->js);
    natsConnection_Destroy(n->nc);
    natsOptions_Destroy(opts);
}

int stream_nats_run(stream *s, const stream_nats_opts *o, ig_json_lines *unused)
{
    (void)unused;
    nats_ctx n;
    memset(&n, 0, sizeof(n));
    n.o = o;
    feed_ctx f = {s, &n};
    ig_json_lines *jl = ig_json_lines_create(on_event, on_error, &f);
    natsOptions *opts = NULL;
    natsSubscription *sub = NULL;
    natsStatus st = jl ? natsOptions_Create(&opts) : NATS_NO_MEMORY;
    if (st == NATS_OK)
        st = natsOptions_SetURL(opts, o->url);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(opts, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(opts, 1000);
    if (st == NATS_OK)
        st = natsOptions_SetDisconnectedCB(opts, on_disconnected, &n);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectedCB(opts, on_reconnected, NULL);
    if (st == NATS_OK) /* a first connection that fails is retried in the background */
        st = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, NULL);
    if (st == NATS_OK) {
        st = natsConnection_Connect(&n.nc, opts);
        if (st == NATS_NOT_YET_CONNECTED) {
            fprintf(stderr,
                    "iisguard: stream: NATS at %s is not reachable; retrying every second\n",
                    o->url);
            st = NATS_OK;
        }
    }
    if (st == NATS_OK)
        st = natsConnection_JetStream(&n.js, n.nc, NULL);
    if (st == NATS_OK)
        st = subscribe(&n, o, &sub);
    if (st == NATS_CONNECTION_CLOSED && stream_stopping) { /* stopped before it could start */
        nats_close(&n, sub, opts);
        ig_json_lines_destroy(jl);
        return 0;
    }
    if (st != NATS_OK) {
        const char *why = nats_GetLastError(NULL);
        fprintf(stderr, "iisguard: stream: NATS %s: %s\n", o->url,
                why && *why ? why : natsStatus_GetText(st));
        nats_close(&n, sub, opts);
        ig_json_lines_destroy(jl);
        return 2;
    }
    nats_fetcher *fe = nats_fetcher_start(n.nc, sub, o->batch, bind_again, &n);
    if (fe == NULL) {
        fputs("iisguard: stream: out of memory\n", stderr);
        nats_close(&n, sub, opts);
        ig_json_lines_destroy(jl);
        return 2;
    }
    s->publish = publish;
    s->publish_ud = &n;
    int idle = 0;
    time_t last_touch = time(NULL);
    for (;;) {
        if (stream_stopping)
            nats_fetcher_stop(fe); /* what was fetched is still worked on */
        if (time(NULL) - last_touch >= 10) {
            for (size_t i = 0; i < n.nheld; i++)
                natsMsg_InProgress(n.held[i].msg, NULL);
            last_touch = time(NULL);
        }
        natsMsgList list = {0};
        st = nats_fetcher_next(fe, &list);
        if (st == NATS_CONNECTION_CLOSED)
            break;
        if (st == NATS_TIMEOUT) {
            if (++idle == 1 && s->since_eval) {
                stream_evaluate(s);
                release_held(s, &n, false);
            }
            continue;
        }
        idle = 0;
        for (int i = 0; i < list.Count; i++) {
            one_message(s, &n, jl, list.Msgs[i]);
            list.Msgs[i] = NULL; /* destroyed, acknowledged, held or to acknowledge */
        }
        natsMsgList_Destroy(&list);
        ack_batch(&n);
        if (s->since_eval == 0)
            release_held(s, &n, false); /* an evaluation just pruned */
    }
    /* drain: what was fetched is done; correlations over everything kept
     * (open absences decided), then every message is acknowledged */
    s->final = true;
    stream_evaluate(s);
    release_held(s, &n, true);
    confirm_acks(&n);
    fprintf(stderr,
            "iisguard: stream: %llu events, %llu alerts, %llu dead-lettered, %llu acknowledged, "
            "%zu still held\n",
            (unsigned long long)s->events, (unsigned long long)s->alerts,
            (unsigned long long)n.dead, (unsigned long long)n.acked, n.nheld);
    for (size_t i = 0; i < n.nheld; i++)
        natsMsg_Destroy(n.held[i].msg);
    free(n.held);
    free(n.toack);
    nats_fetcher_free(fe);
    nats_close(&n, NULL, opts);
    ig_json_lines_destroy(jl);
    return s->alerts ? 1 : 0;
}
