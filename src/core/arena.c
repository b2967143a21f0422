#include "core/arena.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

struct ig_arena_block {
    ig_arena_block *next;
    size_t size, used;
    /* data follows, 16-byte aligned by the header's size */
    max_align_t data[];
};

#define ARENA_MIN_BLOCK (64u * 1024u)

void ig_arena_init(ig_arena *a, size_t max_bytes)
{
    a->head = NULL;
    a->used_total = 0;
    a->max_bytes = max_bytes;
    a->block = ARENA_MIN_BLOCK;
}

void ig_arena_init_block(ig_arena *a, size_t max_bytes, size_t block)
{
    ig_arena_init(a, max_bytes);
    a->block = block >= 256 ? block : 256;
}

void *ig_arena_alloc(ig_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + 7u) & ~(size_t)7u;
    if (n == 0)
        n = 8;
    if (a->max_bytes && (n > a->max_bytes || a->used_total > a->max_bytes - n))
        return NULL;
    ig_arena_block *b = a->head;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > a->block ? n : a->block;
        if (size > SIZE_MAX - sizeof(*b))
            return NULL;
        ig_arena_block *nb = ig_malloc(sizeof(*nb) + size);
        if (nb == NULL)
            return NULL;
        nb->size = size;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = (uint8_t *)b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

void *ig_arena_dup(ig_arena *a, const void *src, size_t n)
{
    void *p = ig_arena_alloc(a, n);
    if (p != NULL && n > 0)
        memcpy(p, src, n);
    return p;
}

void ig_arena_reset(ig_arena *a)
{
    if (a->head == NULL)
        return;
    /* keep the oldest block (the last in the list), free the others */
    ig_arena_block *b = a->head;
    while (b->next != NULL) {
        ig_arena_block *next = b->next;
        ig_free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->used_total = 0;
}

void ig_arena_destroy(ig_arena *a)
{
    if (a == NULL)
        return;
    ig_arena_block *b = a->head;
    while (b != NULL) {
        ig_arena_block *next = b->next;
        ig_free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void ig_arena_adopt(ig_arena *into, ig_arena *from)
{
    if (from->head == NULL)
        return;
    ig_arena_block *tail = from->head;
    while (tail->next != NULL)
        tail = tail->next;
    /* after `into`'s current block, which stays the one allocations use */
    if (into->head != NULL) {
        tail->next = into->head->next;
        into->head->next = from->head;
    } else {
        into->head = from->head;
    }
    into->used_total += from->used_total;
    from->head = NULL;
    from->used_total = 0;
}
