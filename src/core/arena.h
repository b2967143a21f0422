/* Bump allocator for one input unit (file, chunk, record).  Memory is
 * released all at once by ig_arena_reset (kept for reuse) or
 * ig_arena_destroy.  Blocks are capped by `max_bytes`. */
#ifndef IG_CORE_ARENA_H
#define IG_CORE_ARENA_H

#include <stddef.h>

typedef struct ig_arena_block ig_arena_block;

typedef struct ig_arena {
    ig_arena_block *head; /* current block; older blocks follow */
    size_t used_total;
    size_t max_bytes; /* 0 = unlimited */
    size_t block;     /* size of a new block */
} ig_arena;

/* Initialises an empty arena; no allocation happens until first use. */
void ig_arena_init(ig_arena *a, size_t max_bytes);
/* Same with a chosen block size (small arenas for many small objects). */
void ig_arena_init_block(ig_arena *a, size_t max_bytes, size_t block);

/* Returns `n` bytes aligned to 8, or NULL when out of memory or over the
 * arena's cap.  The memory lives until the next reset/destroy. */
void *ig_arena_alloc(ig_arena *a, size_t n);

/* Copies `n` bytes into the arena (not NUL-terminated unless `n` says so). */
void *ig_arena_dup(ig_arena *a, const void *src, size_t n);

/* Forgets every allocation; keeps the first block for reuse. */
void ig_arena_reset(ig_arena *a);

/* Moves every block of `from` into `into` (their memory now lives until
 * `into` is destroyed); `from` is left empty. */
void ig_arena_adopt(ig_arena *into, ig_arena *from);

/* Frees every block; the arena may be initialised again. NULL is a no-op. */
void ig_arena_destroy(ig_arena *a);

#endif
