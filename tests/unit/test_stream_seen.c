/* The set of correlation alerts a stream has written (src/cli/stream_seen.c),
 * built here with a cap of 64 keys so that forgetting the oldest is reached. */
#include <stdint.h>

#include "cli/stream.h"
#include "test.h"

int main(void)
{
    stream s;
    memset(&s, 0, sizeof(s));
    CHECK(stream_seen_init(&s));
    /* keys that share low bits, so the index has to probe */
    for (uint64_t i = 0; i < 64; i++)
        stream_seen_add(&s, (i << 40) | 7, 100 + i);
    int found = 0;
    for (uint64_t i = 0; i < 64; i++)
        found += stream_seen(&s, (i << 40) | 7);
    CHECK(found == 64);
    CHECK(!stream_seen(&s, 7u | (99ull << 40)));
    /* full: one more forgets the oldest eighth (8 keys) */
    stream_seen_add(&s, 12345, 500);
    CHECK(s.nseen == 57);
    found = 0;
    for (uint64_t i = 0; i < 8; i++)
        found += stream_seen(&s, (i << 40) | 7);
    CHECK(found == 0);
    found = 0;
    for (uint64_t i = 8; i < 64; i++)
        found += stream_seen(&s, (i << 40) | 7);
    CHECK(found == 56 && stream_seen(&s, 12345));
    /* added after a compaction, before the next lookup */
    stream_seen_add(&s, 777, 600);
    CHECK(stream_seen(&s, 777));
    /* pruned by the time of their last event */
    stream_seen_prune(&s, 140); /* keys 0..39 had last < 140 */
    found = 0;
    for (uint64_t i = 0; i < 64; i++)
        found += stream_seen(&s, (i << 40) | 7);
    CHECK(found == 24 && stream_seen(&s, 12345) && stream_seen(&s, 777));
    CHECK(s.nseen == 26);
    stream_seen_free(&s);
    TEST_MAIN_END();
}
