/* Fetching ahead (stream_fetch.h).
 *
 * One thread calls natsSubscription_Fetch in a loop and queues what it gets
 * (at most FETCH_AHEAD batches, then it waits for room); the caller takes
 * the batches in order.  A fetch that times out is queued as an empty
 * batch, so the caller still wakes about once a second when the stream is
 * idle.  The library allows one fetch at a time per subscription, which
 * only this thread makes; acknowledging from the caller's thread while a
 * fetch runs is allowed (publishing on a connection is thread-safe).
 *
 * Watchdog: a pull consumer can stop delivering after the server restarts
 * (the pull request is lost with it).  Messages waiting for the consumer
 * but none delivered for 5 s means it is bound again; the old subscription
 * is kept (at most 8) so that the messages it delivered can still be
 * acknowledged. */
#define _DEFAULT_SOURCE /* nanosleep */
#include "cli/stream_fetch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/stream.h"
#include "core/thread.h"

enum { FETCH_AHEAD = 2, MAX_OLD_SUBS = 8 };

typedef struct batch {
    natsMsgList list;
    natsStatus st; /* NATS_OK or NATS_TIMEOUT */
} batch;

struct nats_fetcher {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t ready, room;
    batch q[FETCH_AHEAD];
    unsigned head, count; /* under mu */
    bool stop, done;      /* under mu */
    natsConnection *nc;
    natsSubscription *sub;
    natsSubscription *old[MAX_OLD_SUBS]; /* given up: their messages still ack */
    unsigned nold;
    int size;
    nats_bind_fn bind;
    void *ud;
};

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Messages wait in the stream for this consumer? */
static bool waiting(natsSubscription *sub)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    bool w = natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) == NATS_OK && ci != NULL &&
             ci->NumPending > 0;
    jsConsumerInfo_Destroy(ci);
    return w;
}

static void watchdog(nats_fetcher *f, time_t last_msg, time_t *last_check)
{
    time_t now = time(NULL);
    if (now - last_msg < 5 || now - *last_check < 5 || f->nold == MAX_OLD_SUBS ||
        natsConnection_Status(f->nc) != NATS_CONN_STATUS_CONNECTED)
        return;
    *last_check = now;
    if (!waiting(f->sub))
        return;
    fputs("iisguard: stream: the consumer has messages waiting but delivers none; binding it "
          "again\n",
          stderr);
    natsSubscription *again = NULL;
    if (f->bind(f->ud, &again) == NATS_OK) {
        f->old[f->nold++] = f->sub;
        f->sub = again;
    }
}

/* The batch to fetch.  libnats 3.4 (Debian 12) first takes the messages
 * already waiting in the subscription (those of a pull request answered
 * after its fetch ended, as around a reconnection; at most a batch), then
 * waits until the number it holds equals what is left of the batch
 * (`batch - taken`), not the batch: holding more than half a batch, it
 * goes on storing past the end of its array as messages come.  So when
 * messages wait, the batch is more than twice their number (and twice the
 * usual batch, for those arriving between this look and the fetch's own):
 * what it takes stays below what is left, and it stops at the batch.  (Fetching exactly
 * the waiting messages, as before, left nothing to wait for: any message
 * arriving then was stored past the end.) */
static int fetch_size(nats_fetcher *f)
{
    int msgs = 0, bytes = 0;
    if (natsSubscription_GetPending(f->sub, &msgs, &bytes) == NATS_OK && msgs > 0)
        return 2 * (msgs > f->size ? msgs : f->size) + 2; /* room for more arriving meanwhile */
    return f->size;
}

static bool stopping(nats_fetcher *f)
{
    pthread_mutex_lock(&f->mu);
    bool stop = f->stop || stream_stopping;
    pthread_mutex_unlock(&f->mu);
    return stop;
}

static void *run(void *arg)
{
    nats_fetcher *f = arg;
    time_t last_msg = time(NULL), last_check = 0;
    while (!stopping(f)) {
        watchdog(f, last_msg, &last_check);
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus st = natsSubscription_Fetch(&list, f->sub, fetch_size(f), 1000, &jerr);
        if (st == NATS_OK) {
            last_msg = time(NULL);
        } else if (st != NATS_TIMEOUT) {
            nap(200); /* disconnected: the library reconnects */
            continue;
        }
        pthread_mutex_lock(&f->mu);
        while (f->count == FETCH_AHEAD) /* the caller takes batches until it has them all */
            pthread_cond_wait(&f->room, &f->mu);
        f->q[(f->head + f->count) % FETCH_AHEAD] = (batch){list, st};
        f->count++;
        pthread_cond_signal(&f->ready);
        pthread_mutex_unlock(&f->mu);
    }
    pthread_mutex_lock(&f->mu);
    f->done = true;
    pthread_cond_signal(&f->ready);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

nats_fetcher *nats_fetcher_start(natsConnection *nc, natsSubscription *sub, int size,
                                 nats_bind_fn bind, void *ud)
{
    nats_fetcher *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->nc = nc;
    f->sub = sub;
    f->size = size > 0 ? size : 256;
    f->bind = bind;
    f->ud = ud;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->ready, NULL);
    pthread_cond_init(&f->room, NULL);
    if (ig_thread_start(&f->th, 0, run, f) != 0) {
        pthread_cond_destroy(&f->room);
        pthread_cond_destroy(&f->ready);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return NULL;
    }
    return f;
}

natsStatus nats_fetcher_next(nats_fetcher *f, natsMsgList *list)
{
    pthread_mutex_lock(&f->mu);
    while (f->count == 0 && !f->done)
        pthread_cond_wait(&f->ready, &f->mu);
    if (f->count == 0) {
        pthread_mutex_unlock(&f->mu);
        return NATS_CONNECTION_CLOSED;
    }
    batch b = f->q[f->head];
    f->head = (f->head + 1) % FETCH_AHEAD;
    f->count--;
    pthread_cond_signal(&f->room);
    pthread_mutex_unlock(&f->mu);
    *list = b.list;
    return b.st;
}

void nats_fetcher_stop(nats_fetcher *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_mutex_unlock(&f->mu);
}

void nats_fetcher_free(nats_fetcher *f)
{
    if (f == NULL)
        return;
    nats_fetcher_stop(f);
    /* the thread may be waiting for room: empty the queue until it is done */
    natsMsgList list;
    natsStatus st;
    while ((st = nats_fetcher_next(f, &list)) != NATS_CONNECTION_CLOSED)
        if (st == NATS_OK)
            natsMsgList_Destroy(&list); /* not acknowledged: redelivered */
    pthread_join(f->th, NULL);
    for (unsigned i = 0; i < f->nold; i++)
        natsSubscription_Destroy(f->old[i]);
    natsSubscription_Destroy(f->sub);
    pthread_cond_destroy(&f->room);
    pthread_cond_destroy(&f->ready);
    pthread_mutex_destroy(&f->mu);
    free(f);
}
