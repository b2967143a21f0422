/* Prefilter results remembered by value (match.h: em_scan_value).
 *
 * Event logs repeat themselves: the same image paths, command lines, user
 * names and hashes come back event after event.  A value's prefilter result
 * depends on nothing but the prefilter field and the text, so each scanner
 * keeps the literals found for recently scanned values in a direct-mapped
 * table; a value seen again costs a hash and a comparison instead of a scan
 * at every position.  The stored text is compared byte for byte, so a hash
 * collision (even a crafted one) only costs a scan. */
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "engine/match.h"

#define MEMO_SLOTS  4096u                /* a power of two */
#define MEMO_MIN    8u                   /* shorter values are scanned: a few lookups */
#define MEMO_MAX    4096u                /* longer ones too (rarely repeated, costly to keep) */
#define MEMO_BUDGET (8u * 1024u * 1024u) /* bytes of kept texts and results */

struct em_memo_slot {
    char *data; /* the text (len bytes, padded to 4) then the nhits literals */
    uint32_t h; /* hash of field and text */
    uint32_t field, len, nhits, cap;
    bool used;
};

bool em_memo_init(em_state *st)
{
    uint32_t n = st->rs->pf.npats ? st->rs->pf.npats : 1;
    st->memo_slots = ig_calloc(MEMO_SLOTS, sizeof(*st->memo_slots));
    st->mseen = ig_calloc(n, sizeof(*st->mseen));
    st->mhits = ig_calloc(n, sizeof(*st->mhits));
    return st->memo_slots != NULL && st->mseen != NULL && st->mhits != NULL;
}

void em_memo_free(em_state *st)
{
    for (uint32_t i = 0; st->memo_slots != NULL && i < MEMO_SLOTS; i++)
        ig_free(st->memo_slots[i].data);
    ig_free(st->memo_slots);
    ig_free(st->mseen);
    ig_free(st->mhits);
}

static inline uint32_t pad4(uint32_t n)
{
    return (n + 3u) & ~3u;
}

/* Marks the literals pids[0, n) as found in the current event. */
static void replay(em_state *st, const uint32_t *pids, uint32_t n, bool record)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t pid = pids[k];
        if (st->seen[pid] == st->epoch)
            continue;
        st->seen[pid] = st->epoch;
        if (record)
            st->hits[st->nhits++] = pid;
    }
}

/* Keeps text v and its literals in slot `s` (left empty when over the
 * budget or out of memory). */
static void keep(em_state *st, struct em_memo_slot *s, uint32_t h, uint32_t field, const char *v,
                 uint32_t len, const uint32_t *pids, uint32_t n)
{
    s->used = false;
    size_t need = (size_t)pad4(len) + (size_t)n * sizeof(uint32_t);
    if (need > s->cap) {
        if (st->memo_bytes - s->cap + need > MEMO_BUDGET)
            return;
        char *d = ig_realloc(s->data, need);
        if (d == NULL)
            return;
        st->memo_bytes = st->memo_bytes - s->cap + need;
        s->data = d;
        s->cap = (uint32_t)need;
    }
    memcpy(s->data, v, len);
    if (n > 0)
        memcpy(s->data + pad4(len), pids, (size_t)n * sizeof(uint32_t));
    *s = (struct em_memo_slot){s->data, h, field, len, n, s->cap, true};
}

void em_scan_value(em_state *st, uint32_t field, const char *v, size_t len, bool record)
{
    const pf_table *t = &st->rs->pf;
    if (field >= t->nfields || t->kinds[field] == 0)
        return;
    if (len < MEMO_MIN || len > MEMO_MAX || st->memo_slots == NULL) {
        pf_scan(t, field, v, len, st->seen, st->epoch, record ? st->hits : NULL,
                record ? &st->nhits : NULL);
        return;
    }
    uint32_t h = ig_hash_bytes(v, len) ^ (field * 0x9e3779b9u);
    struct em_memo_slot *s = &st->memo_slots[h & (MEMO_SLOTS - 1u)];
    if (s->used && s->h == h && s->field == field && s->len == len &&
        memcmp(s->data, v, len) == 0) {
        st->memo_hits++;
        replay(st, (const uint32_t *)(const void *)(s->data + pad4(s->len)), s->nhits, record);
        return;
    }
    /* scanned against a scratch epoch, so that literals already found in
     * this event for another value are listed for this one too */
    if (++st->mepoch == 0) {
        memset(st->mseen, 0, sizeof(*st->mseen) * (t->npats ? t->npats : 1));
        st->mepoch = 1;
    }
    uint32_t n = 0;
    pf_scan(t, field, v, len, st->mseen, st->mepoch, st->mhits, &n);
    keep(st, s, h, field, v, (uint32_t)len, st->mhits, n);
    replay(st, st->mhits, n, record);
}
