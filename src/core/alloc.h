/* The one allocation wrapper.  Tests can make the N-th allocation fail
 * (ig_alloc_fail_after) to exercise every out-of-memory path. */
#ifndef IG_CORE_ALLOC_H
#define IG_CORE_ALLOC_H

#include <stddef.h>

void *ig_malloc(size_t n);
void *ig_calloc(size_t count, size_t size);
void *ig_realloc(void *p, size_t n);
void ig_free(void *p);

/* After `n` more successful allocations, every allocation fails; a negative
 * `n` disables failure injection (the default).  Not thread-safe: tests only. */
void ig_alloc_fail_after(long n);

#endif
