/* A JetStream pull consumer fetched ahead by a thread of its own: while the
 * caller works on one batch, the next one travels from the server, so the
 * instance and the server work at the same time instead of taking turns.
 * The fetching thread also binds the consumer again when it stops
 * delivering (see stream_fetch.c). */
#ifndef IG_CLI_STREAM_FETCH_H
#define IG_CLI_STREAM_FETCH_H

#include <nats/nats.h>

typedef struct nats_fetcher nats_fetcher;

/* Binds the consumer (again): NATS_OK with *sub, or an error. */
typedef natsStatus (*nats_bind_fn)(void *ud, natsSubscription **sub);

/* Starts fetching `batch` messages at a time from `sub` on `nc` (the
 * subscription is taken over: freed by nats_fetcher_free).  NULL when out
 * of memory or no thread. */
nats_fetcher *nats_fetcher_start(natsConnection *nc, natsSubscription *sub, int batch,
                                 nats_bind_fn bind, void *ud);

/* The next batch, waiting for it: NATS_OK with messages in *list (the
 * caller's, natsMsgList_Destroy), NATS_TIMEOUT when none came within a
 * second, NATS_CONNECTION_CLOSED once the fetcher has stopped and every
 * fetched batch was handed out. */
natsStatus nats_fetcher_next(nats_fetcher *f, natsMsgList *list);

/* No fetch after the current one; batches already fetched are still
 * handed out by nats_fetcher_next.  The thread also stops by itself on
 * stream_stopping. */
void nats_fetcher_stop(nats_fetcher *f);

/* Stops, waits for the thread, destroys the subscriptions (the current one
 * and those given up, whose messages can be acknowledged until then). */
void nats_fetcher_free(nats_fetcher *f);

#endif
