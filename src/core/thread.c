#define _GNU_SOURCE /* sched_getcpu, pthread_attr_setaffinity_np */
#include "core/thread.h"

#include <sched.h>
#include <stdlib.h>

#include "core/alloc.h"

typedef struct start {
    void *(*fn)(void *);
    void *arg;
    cpu_set_t all; /* where the process may run: the thread's mask once it runs */
} start;

static void *trampoline(void *ud)
{
    start s = *(start *)ud;
    ig_free(ud);
    pthread_setaffinity_np(pthread_self(), sizeof(s.all), &s.all);
    return s.fn(s.arg);
}

/* The processor `index` + 1 places after `me` among those of `set`
 * (wrapping around), or -1. */
static int after(const cpu_set_t *set, int me, unsigned index)
{
    int n = CPU_COUNT(set), pos = 0;
    int order[CPU_SETSIZE];
    for (int c = 0, k = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set)) {
            if (c == me)
                pos = k;
            order[k++] = c;
        }
    return n > 0 ? order[(unsigned)(pos + 1 + (int)(index % (unsigned)n)) % (unsigned)n] : -1;
}

int ig_thread_start(pthread_t *t, unsigned index, void *(*fn)(void *), void *arg)
{
    start *s = ig_malloc(sizeof(*s));
    if (s == NULL || sched_getaffinity(0, sizeof(s->all), &s->all) != 0 || CPU_COUNT(&s->all) < 2) {
        ig_free(s);
        return pthread_create(t, NULL, fn, arg);
    }
    s->fn = fn;
    s->arg = arg;
    int pick = after(&s->all, sched_getcpu(), index);
    pthread_attr_t at;
    int rc = -1;
    if (pick >= 0 && pthread_attr_init(&at) == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(pick, &one);
        if (pthread_attr_setaffinity_np(&at, sizeof(one), &one) == 0)
            rc = pthread_create(t, &at, trampoline, s);
        pthread_attr_destroy(&at);
    }
    if (rc != 0) {
        ig_free(s);
        return pthread_create(t, NULL, fn, arg);
    }
    return 0;
}
