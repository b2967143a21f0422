/* The correlation alerts a stream has written (stream.h: stream_seen*): an
 * array in the order they were written, for pruning by time and for the
 * --follow checkpoint, and an open-addressing index over it (rebuilt after
 * the array is compacted), so that each alert an evaluation finds again is
 * looked up in constant time instead of by a scan of up to STREAM_SEEN_MAX
 * keys. */
#include <stdlib.h>
#include <string.h>

#include "cli/stream.h"

#define SLOTS (2u * STREAM_SEEN_MAX) /* load at most one half */

static uint32_t slot_of(uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (SLOTS - 1);
}

static void put(stream *s, size_t i)
{
    uint32_t h = slot_of(s->seen[i].key);
    while (s->seen_slot[h] != 0)
        h = (h + 1) & (SLOTS - 1);
    s->seen_slot[h] = (uint32_t)i + 1;
}

static void rebuild(stream *s)
{
    memset(s->seen_slot, 0, sizeof(*s->seen_slot) * SLOTS);
    for (size_t i = 0; i < s->nseen; i++)
        put(s, i);
    s->seen_stale = false;
}

bool stream_seen_init(stream *s)
{
    s->seen = calloc(STREAM_SEEN_MAX, sizeof(*s->seen));
    s->seen_slot = calloc(SLOTS, sizeof(*s->seen_slot));
    s->nseen = 0;
    s->seen_stale = false;
    return s->seen != NULL && s->seen_slot != NULL;
}

void stream_seen_free(stream *s)
{
    free(s->seen);
    free(s->seen_slot);
    s->seen = NULL;
    s->seen_slot = NULL;
    s->nseen = 0;
}

bool stream_seen(stream *s, uint64_t key)
{
    if (s->seen_stale)
        rebuild(s);
    for (uint32_t h = slot_of(key); s->seen_slot[h] != 0; h = (h + 1) & (SLOTS - 1))
        if (s->seen[s->seen_slot[h] - 1].key == key)
            return true;
    return false;
}

void stream_seen_add(stream *s, uint64_t key, uint64_t last)
{
    if (s->nseen == STREAM_SEEN_MAX) { /* full: the oldest eighth is forgotten */
        size_t drop = STREAM_SEEN_MAX / 8;
        memmove(s->seen, s->seen + drop, sizeof(*s->seen) * (s->nseen - drop));
        s->nseen -= drop;
        s->seen_stale = true;
    }
    s->seen[s->nseen] = (seen_key){key, last};
    if (!s->seen_stale)
        put(s, s->nseen);
    s->nseen++;
}

void stream_seen_prune(stream *s, uint64_t before)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nseen; i++)
        if (s->seen[i].last >= before)
            s->seen[n++] = s->seen[i];
    if (n != s->nseen)
        s->seen_stale = true;
    s->nseen = n;
}
