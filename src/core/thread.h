/* Starting threads.  A thread made by a busy thread can wait beside it on
 * the same processor until the scheduler next balances its load (4 ms on
 * some virtual machines, with the other processor idle all along), so
 * workers are started on the processors after their maker's, in turn, then
 * let move freely. */
#ifndef IG_CORE_THREAD_H
#define IG_CORE_THREAD_H

#include <pthread.h>

/* Like pthread_create(t, NULL, fn, arg) (returns its result).  `index`:
 * the thread's number among those the caller starts together (0 first);
 * thread i first runs on the (i + 1)-th processor after the caller's of
 * those the process may use (the caller's own when that comes round). */
int ig_thread_start(pthread_t *t, unsigned index, void *(*fn)(void *), void *arg);

#endif
