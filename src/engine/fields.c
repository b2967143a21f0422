/* Interned field names: every field a rule reads gets a small id, so that
 * an event maps its fields to ids once and the engine reads them by id. */
#include <string.h>

#include "core/alloc.h"
#include "core/memeq.h"
#include "engine/engine.h"

/* Only rules' names are in the table, so event field names cannot lengthen
 * its probe chains.  Every field of every event is looked up: the hash
 * takes the first and last eight bytes (names differ there; a collision
 * costs a comparison) with two multiplications and no loop. */
static inline uint32_t hash(const char *s, size_t len)
{
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        a = x, b = y;
    } else if (len > 0) {
        a = (uint8_t)s[0] | (uint64_t)(uint8_t)s[len / 2] << 8 |
            (uint64_t)(uint8_t)s[len - 1] << 16;
    }
    uint64_t h = (a ^ len) * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

bool em_names_init(ev_names *n)
{
    memset(n, 0, sizeof(*n));
    n->nslots = 1024;
    n->slots = ig_calloc(n->nslots, sizeof(*n->slots));
    return n->slots != NULL;
}

void em_names_free(ev_names *n)
{
    ig_free(n->names);
    ig_free(n->lens);
    ig_free(n->slots);
    memset(n, 0, sizeof(*n));
}

uint32_t ev_names_count(const ev_names *n)
{
    return n->n;
}

/* A slot: the name's hash above its id + 1 (0: empty). */
static inline uint64_t slot_make(uint32_t h, uint32_t id)
{
    return (uint64_t)h << 32 | (id + 1u);
}

uint32_t ev_names_lookup(const ev_names *n, const char *name, size_t len)
{
    uint32_t h = hash(name, len);
    for (uint32_t i = h & (n->nslots - 1);; i = (i + 1) & (n->nslots - 1)) {
        uint64_t s = n->slots[i];
        if (s == 0)
            return EV_NO_ID;
        uint32_t id = (uint32_t)s - 1;
        if ((uint32_t)(s >> 32) == h && n->lens[id] == len && ig_mem_eq(n->names[id], name, len))
            return id;
    }
}

static bool grow_slots(ev_names *n)
{
    uint32_t ns = n->nslots * 2;
    uint64_t *slots = ig_calloc(ns, sizeof(*slots));
    if (slots == NULL)
        return false;
    for (uint32_t k = 0; k < n->n; k++) {
        uint32_t h = hash(n->names[k], n->lens[k]), i = h & (ns - 1);
        while (slots[i] != 0)
            i = (i + 1) & (ns - 1);
        slots[i] = slot_make(h, k);
    }
    ig_free(n->slots);
    n->slots = slots;
    n->nslots = ns;
    return true;
}

uint32_t em_names_intern(ev_names *n, ig_arena *arena, const char *name, size_t len)
{
    uint32_t id = ev_names_lookup(n, name, len);
    if (id != EV_NO_ID)
        return id;
    if (len > UINT32_MAX || n->n + 1 >= UINT32_MAX / 2)
        return EV_NO_ID;
    if ((n->n + 1) * 2 > n->nslots && !grow_slots(n))
        return EV_NO_ID;
    if (n->n == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 256;
        const char **names = ig_realloc(n->names, sizeof(*names) * cap);
        if (names == NULL)
            return EV_NO_ID;
        n->names = names;
        uint32_t *lens = ig_realloc(n->lens, sizeof(*lens) * cap);
        if (lens == NULL)
            return EV_NO_ID;
        n->lens = lens;
        n->cap = cap;
    }
    char *copy = ig_arena_alloc(arena, len + 1);
    if (copy == NULL)
        return EV_NO_ID;
    memcpy(copy, name, len);
    copy[len] = '\0';
    id = n->n++;
    n->names[id] = copy;
    n->lens[id] = (uint32_t)len;
    uint32_t h = hash(name, len), i = h & (n->nslots - 1);
    while (n->slots[i] != 0)
        i = (i + 1) & (n->nslots - 1);
    n->slots[i] = slot_make(h, id);
    return id;
}
