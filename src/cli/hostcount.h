/* Alerts per host (the Computer of the events), for hunt's summary: a hash
 * table of names, merged from the threads at their end. */
#ifndef IG_CLI_HOSTCOUNT_H
#define IG_CLI_HOSTCOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef struct host_count {
    char *name; /* NUL-terminated copy of `len` bytes */
    size_t len;
    uint64_t n;
} host_count;

typedef struct host_counts {
    host_count *v;
    size_t n, cap;
    uint32_t *slot; /* index + 1 into v, 0 = empty */
    size_t nslot;
    uint64_t lost; /* alerts not counted for want of memory */
} host_counts;

/* Adds `add` alerts to host `name`/`len`. */
void hc_add(host_counts *c, const char *name, size_t len, uint64_t add);
/* Adds every count of `from` to `into`. */
void hc_merge(host_counts *into, const host_counts *from);
/* The `k` hosts with the most alerts into `out` (most first, ties by
 * name); returns how many there are. */
size_t hc_top(const host_counts *c, const host_count **out, size_t k);
void hc_free(host_counts *c);

#endif
