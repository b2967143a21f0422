/* Test helper for `stream --nats` (libnats):
 *   natsctl URL setup                      streams EVENTS (winlog.>), ALERTS (alerts.>,
 *                                          1 h duplicate window), DEAD (iisguard.deadletter)
 *   natsctl URL publish FILE N             each line to winlog.<k>.<host>, k = the host's
 *                                          partition of N (FNV-1a of the Computer value);
 *                                          lines without one to winlog.0.unknown
 *   natsctl URL dump STREAM                every message's data, one per line
 *   natsctl URL pending DURABLE            "<pending> <ack pending>" of EVENTS' consumer
 *   natsctl URL lastack DURABLE...         watches the acknowledgements of EVENTS'
 *                                          consumers (a plain subscription to $JS.ACK.EVENTS.>):
 *                                          prints "ready", then, once acknowledgements have
 *                                          stopped for 300 ms and none of these consumers has a
 *                                          message left to deliver, the wall-clock time of the
 *                                          last one (seconds since the epoch) and their count.
 *                                          Timing by acknowledgement costs the server one small
 *                                          message per ack; polling consumer info every 10 ms
 *                                          cost it more CPU than the consumers' own traffic
 *   natsctl URL ackall SUBJ DURABLE N      a consumer that only acknowledges: fetches and
 *                                          acks N messages of SUBJ, prints the seconds taken */
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static int fail(const char *what, natsStatus st)
{
    fprintf(stderr, "natsctl: %s: %s\n", what, natsStatus_GetText(st));
    return 1;
}

static natsStatus add_stream(jsCtx *js, const char *name, const char *subj, int64_t dup)
{
    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    c.Name = name;
    const char *subjects[] = {subj};
    c.Subjects = subjects;
    c.SubjectsLen = 1;
    c.Storage = js_FileStorage;
    if (dup)
        c.Duplicates = dup;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_AddStream(&si, js, &c, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    return st;
}

/* The Computer field's value in a JSON line ("Computer":"X"), or NULL. */
static const char *host_of(const char *line, char *out, size_t n)
{
    const char *p = strstr(line, "\"Computer\":\"");
    if (p == NULL)
        return NULL;
    p += 12;
    size_t k = 0;
    while (p[k] && p[k] != '"' && k + 1 < n) {
        char c = p[k];
        out[k] = (c == '.' || c == ' ' || c == '*' || c == '>') ? '_' : c;
        k++;
    }
    out[k] = '\0';
    return k ? out : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = natsConnection_ConnectTo(&nc, argv[1]);
    if (st == NATS_OK)
        st = natsConnection_JetStream(&js, nc, NULL);
    if (st != NATS_OK)
        return fail("connect", st);
    int rc = 0;
    if (strcmp(argv[2], "setup") == 0) {
        if ((st = add_stream(js, "EVENTS", "winlog.>", 0)) != NATS_OK ||
            (st = add_stream(js, "ALERTS", "alerts.>", 3600ll * 1000000000ll)) != NATS_OK ||
            (st = add_stream(js, "DEAD", "iisguard.deadletter", 0)) != NATS_OK)
            rc = fail("add stream", st);
    } else if (strcmp(argv[2], "publish") == 0 && argc == 5) {
        FILE *f = fopen(argv[3], "r");
        unsigned parts = (unsigned)strtoul(argv[4], NULL, 10);
        static char line[1 << 20];
        unsigned long n = 0;
        while (f && fgets(line, sizeof(line), f)) {
            char host[256], subj[320];
            size_t l = strlen(line);
            while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
                line[--l] = '\0';
            if (host_of(line, host, sizeof(host)) != NULL) {
                uint32_t h = 2166136261u;
                for (const char *p = host; *p; p++)
                    h = (h ^ (uint8_t)*p) * 16777619u;
                snprintf(subj, sizeof(subj), "winlog.%u.%s", parts ? h % parts : 0, host);
            } else {
                snprintf(subj, sizeof(subj), "winlog.0.unknown");
            }
            jsPubAck *pa = NULL;
            jsErrCode jerr = 0;
            st = js_Publish(&pa, js, subj, line, (int)l, NULL, &jerr);
            jsPubAck_Destroy(pa);
            if (st != NATS_OK) {
                rc = fail("publish", st);
                break;
            }
            n++;
        }
        if (f)
            fclose(f);
        fprintf(stderr, "natsctl: %lu messages published\n", n);
    } else if (strcmp(argv[2], "dump") == 0 && argc == 4) {
        natsSubscription *sub = NULL;
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = argv[3];
        so.Config.AckPolicy = js_AckNone;
        so.Config.DeliverPolicy = js_DeliverAll;
        jsErrCode jerr = 0;
        st = js_PullSubscribe(&sub, js, ">", NULL, NULL, &so, &jerr);
        if (st != NATS_OK)
            return fail("subscribe", st);
        for (;;) {
            natsMsgList list = {0};
            st = natsSubscription_Fetch(&list, sub, 256, 1500, &jerr);
            if (st != NATS_OK)
                break;
            for (int i = 0; i < list.Count; i++)
                printf("%.*s\n", natsMsg_GetDataLength(list.Msgs[i]),
                       natsMsg_GetData(list.Msgs[i]));
            natsMsgList_Destroy(&list);
        }
        natsSubscription_Destroy(sub);
    } else if (strcmp(argv[2], "pending") == 0 && argc == 4) {
        jsConsumerInfo *ci = NULL;
        jsErrCode jerr = 0;
        st = js_GetConsumerInfo(&ci, js, "EVENTS", argv[3], NULL, &jerr);
        if (st != NATS_OK)
            return fail("consumer info", st);
        printf("%llu %lld\n", (unsigned long long)ci->NumPending, (long long)ci->NumAckPending);
        jsConsumerInfo_Destroy(ci);
    } else if (strcmp(argv[2], "lastack") == 0 && argc >= 4) {
        natsSubscription *sub = NULL;
        st = natsConnection_SubscribeSync(&sub, nc, "$JS.ACK.EVENTS.>");
        if (st == NATS_OK)
            st = natsSubscription_SetPendingLimits(sub, -1, -1);
        if (st == NATS_OK)
            st = natsConnection_Flush(nc);
        if (st != NATS_OK)
            return fail("subscribe", st);
        printf("ready\n");
        fflush(stdout);
        int64_t last = 0;
        long acks = 0;
        for (;;) {
            natsMsg *m = NULL;
            st = natsSubscription_NextMsg(&m, sub, 300);
            if (st == NATS_OK) {
                const char *d = natsMsg_GetData(m);
                if (natsMsg_GetDataLength(m) == 0 || strncmp(d, "+ACK", 4) == 0) {
                    last = nats_Now();
                    acks++;
                }
                natsMsg_Destroy(m);
                continue;
            }
            if (st != NATS_TIMEOUT)
                return fail("next", st);
            if (acks == 0)
                continue;
            bool busy = false;
            for (int i = 3; i < argc && !busy; i++) {
                jsConsumerInfo *ci = NULL;
                jsErrCode jerr = 0;
                busy = js_GetConsumerInfo(&ci, js, "EVENTS", argv[i], NULL, &jerr) != NATS_OK ||
                       ci->NumPending > 0;
                jsConsumerInfo_Destroy(ci);
            }
            if (!busy)
                break;
        }
        printf("%.3f %ld\n", (double)last / 1000.0, acks);
        natsSubscription_Destroy(sub);
    } else if (strcmp(argv[2], "ackall") == 0 && argc == 6) {
        natsSubscription *sub = NULL;
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "EVENTS";
        so.Config.AckPolicy = js_AckExplicit;
        jsErrCode jerr = 0;
        st = js_PullSubscribe(&sub, js, argv[3], argv[4], NULL, &so, &jerr);
        if (st != NATS_OK)
            return fail("subscribe", st);
        long want = strtol(argv[5], NULL, 10), got = 0;
        int64_t t0 = nats_Now();
        while (got < want) {
            natsMsgList list = {0};
            st = natsSubscription_Fetch(&list, sub, 256, 5000, &jerr);
            if (st != NATS_OK)
                break;
            for (int i = 0; i < list.Count; i++)
                natsMsg_Ack(list.Msgs[i], NULL);
            got += list.Count;
            natsMsgList_Destroy(&list);
        }
        printf("%.3f\n", (double)(nats_Now() - t0) / 1000.0);
        natsSubscription_Destroy(sub);
    } else {
        rc = 2;
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}
