/* Scanning a value for the prefilter's literals (prefilter.c builds the
 * index): the literals anchored at its start or end, or equal to it, are
 * looked up once; contains literals at every position, through a bloom
 * bitmap (for fields with few, after a SIMD test of sixteen positions at a
 * time against their first three bytes); short literals by a byte table and
 * a byte-pair bitmap. */
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PF_SIMD 1
#else
#define PF_SIMD 0
#endif

#include "core/memeq.h"
#include "engine/prefilter.h"

/* Does pattern `p` hold at position `i` of `v`, its first `known` bytes
 * (0 or 4) being known to agree? */
static inline bool holds(const pf_pat *p, const char *v, size_t len, size_t i, uint32_t known)
{
    if (i + p->len > len)
        return false;
    switch (p->op) {
    case EM_EQ:
        if (i != 0 || p->len != len)
            return false;
        break;
    case EM_STARTS:
        if (i != 0)
            return false;
        break;
    case EM_ENDS:
        if (i + p->len != len)
            return false;
        break;
    default: break;
    }
    if (p->len >= 8 && ig_le32((const uint8_t *)v + i + 4) != p->w1)
        return false;
    return ig_mem_eq(v + i + known, p->s + known, p->len - known);
}

#define MARK(pid)                                                                                  \
    do {                                                                                           \
        seen[pid] = epoch;                                                                         \
        if (hits != NULL)                                                                          \
            hits[(*nhits)++] = (pid);                                                              \
    } while (0)

/* The first index of sorted v[lo, hi) whose value is not below x (hi: none),
 * for 32- and 64-bit values. */
#define LOWER_BOUND(name, T)                                                                       \
    static inline uint32_t name(const T *v, uint32_t lo, uint32_t hi, T x)                         \
    {                                                                                              \
        while (lo < hi) {                                                                          \
            uint32_t mid = lo + (hi - lo) / 2;                                                     \
            if (v[mid] < x)                                                                        \
                lo = mid + 1;                                                                      \
            else                                                                                   \
                hi = mid;                                                                          \
        }                                                                                          \
        return lo;                                                                                 \
    }
LOWER_BOUND(lower_bound, uint32_t)
LOWER_BOUND(lower_bound64, uint64_t)

/* The slot of `key`, whose hash is `kh`, known to be in the bloom bitmap
 * (NULL: no literal has it after all). */
static inline const pf_slot *probe(const pf_table *t, uint64_t key, uint64_t kh)
{
    uint32_t mask = t->nslots - 1;
    for (uint32_t h = slot_of(kh, mask);; h = (h + 1) & mask) {
        const pf_slot *s = &t->slots[h];
        if (s->key == key)
            return s;
        if (s->key == 0)
            return NULL;
    }
}

static inline bool in_bloom(const pf_table *t, uint64_t kh)
{
    uint64_t bits = bloom_bits(kh);
    return (t->bloom[bloom_word(kh)] & bits) == bits;
}

#define PF_AT_END SIZE_MAX

/* Marks the literals of slot `s` list[from, to) whose sub-key is `x`
 * (sorted by it) and that hold at position `i` of `v`. */
static inline void try_sorted(const pf_table *t, const pf_slot *s, uint32_t from, uint32_t to,
                              uint64_t x, const char *v, size_t len, size_t i, uint32_t known,
                              uint32_t *seen, uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    const uint32_t *list = t->list + s->first;
    const uint64_t *sub = t->lsub + s->first;
    for (uint32_t k = lower_bound64(sub, from, to, x); k < to && sub[k] == x; k++) {
        const pf_pat *p = &t->pats[list[k]];
        if (seen[list[k]] != epoch && p->len <= len &&
            holds(p, v, len, i == PF_AT_END ? len - p->len : i, known))
            MARK(list[k]);
    }
}

/* Marks the literals of `key` (hash `kh`, in the bloom bitmap) that hold at
 * position `i` of `v` (PF_AT_END: ending where `v` ends), `known` bytes of
 * them agreeing by the key: those tried one by one, then (startswith /
 * endswith of 16 bytes or more) those whose next 8 bytes are the value's. */
static void try_key(const pf_table *t, uint64_t key, uint64_t kh, const char *v, size_t len,
                    size_t i, uint32_t known, uint32_t *seen, uint32_t epoch, uint32_t *hits,
                    uint32_t *nhits)
{
    const pf_slot *s = probe(t, key, kh);
    if (s == NULL)
        return;
    for (uint32_t k = 0; k < s->nlin; k++) {
        uint32_t pid = t->list[s->first + k];
        const pf_pat *p = &t->pats[pid];
        if (seen[pid] == epoch || p->len > len)
            continue;
        if (holds(p, v, len, i == PF_AT_END ? len - p->len : i, known))
            MARK(pid);
    }
    if (s->nlin < s->n && len >= 16) {
        const uint8_t *u = (const uint8_t *)v;
        uint64_t x = ig_le64(key_kind(key) == PF_K_HEAD8 ? u + 8 : u + len - 16);
        try_sorted(t, s, s->nlin + s->nmid, s->n, x, v, len, i, known, seen, epoch, hits, nhits);
    }
}

/* Marks the contains literals of `key` (hash `kh`, in the bloom bitmap)
 * that hold at position `i` of `v`: those below 8 bytes one by one, those
 * of 8-11 bytes from a binary search for the value's bytes 4..7, longer
 * ones for its bytes 4..11. */
static void try_scan(const pf_table *t, uint64_t key, uint64_t kh, const char *v, size_t len,
                     size_t i, uint32_t *seen, uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    const pf_slot *s = probe(t, key, kh);
    if (s == NULL)
        return;
    const uint32_t *list = t->list + s->first;
    for (uint32_t k = 0; k < s->nlin; k++)
        if (seen[list[k]] != epoch && holds(&t->pats[list[k]], v, len, i, 4))
            MARK(list[k]);
    if (s->n == s->nlin || i + 8 > len)
        return;
    const uint8_t *u = (const uint8_t *)v + i;
    uint32_t mid = s->nlin + s->nmid;
    if (s->nmid > 0)
        try_sorted(t, s, s->nlin, mid, ig_le32(u + 4), v, len, i, 4, seen, epoch, hits, nhits);
    if (mid < s->n && i + 12 <= len)
        try_sorted(t, s, mid, s->n, ig_le64(u + 4), v, len, i, 4, seen, epoch, hits, nhits);
}

/* Marks the short contains literals of `field` (1-3 bytes) found in `v`:
 * a table lookup per byte, a bitmap test per pair of bytes, a binary
 * search on the pairs that some literal starts with. */
static void scan_shorts(const pf_table *t, uint32_t field, const char *v, size_t len,
                        uint32_t *seen, uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    const uint32_t *one = t->one[field];
    for (size_t i = 0; one != NULL && i < len; i++) {
        uint32_t pid = one[(uint8_t)v[i]];
        if (pid != 0 && seen[pid - 1] != epoch)
            MARK(pid - 1);
    }
    const uint64_t *map = t->twomap[field];
    if (map == NULL)
        return;
    const uint32_t *two = t->two[field], *twop = t->twop[field];
    uint32_t n = t->ntwo[field];
    for (size_t i = 0; i + 2 <= len; i++) {
        uint16_t pr = pair_of(v + i);
        if ((map[pr >> 6] >> (pr & 63) & 1) == 0)
            continue;
        for (uint32_t k = lower_bound(twop, 0, n, pr); k < n && twop[k] == pr; k++) {
            const pf_pat *p = &t->pats[two[k]];
            if (seen[two[k]] != epoch && (p->len == 2 || (i + 3 <= len && v[i + 2] == p->s[2])))
                MARK(two[k]);
        }
    }
}

/* try_key at one anchored place of the value. */
static void try_once(const pf_table *t, uint64_t key, const char *v, size_t len, size_t i,
                     uint32_t known, uint32_t *seen, uint32_t epoch, uint32_t *hits,
                     uint32_t *nhits)
{
    uint64_t kh = key_hash(key);
    if (in_bloom(t, kh))
        try_key(t, key, kh, v, len, i, known, seen, epoch, hits, nhits);
}

#if PF_SIMD
bool pf_simd_usable(void)
{
    return __builtin_cpu_supports("ssse3");
}

/* The positions of s[0, 16) whose first three bytes are, by nibble, in a
 * bucket of the fingerprints lo / hi (s[0, 18) is read). */
__attribute__((target("ssse3"))) static inline unsigned fp_block(const __m128i *lo,
                                                                 const __m128i *hi, const char *s)
{
    const __m128i nib = _mm_set1_epi8(0x0f);
    __m128i m = _mm_set1_epi8(-1);
    for (int j = 0; j < 3; j++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
        __m128i l = _mm_shuffle_epi8(lo[j], _mm_and_si128(x, nib));
        __m128i h = _mm_shuffle_epi8(hi[j], _mm_and_si128(_mm_srli_epi16(x, 4), nib));
        m = _mm_and_si128(m, _mm_and_si128(l, h));
    }
    return ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128())) & 0xffffu;
}

/* The contains keys of fingerprints `fp` at every position of v: sixteen
 * positions at a time, each byte of a position's first three classified by
 * nibble into the buckets that have it there; a position in some bucket for
 * all three is looked up like any other.  The last bytes are copied into a
 * zeroed block first (no read past v; positions without 4 bytes left out). */
__attribute__((target("ssse3"))) static void scan_fp(const pf_table *t, const pf_fp *fp,
                                                     uint64_t base, const char *v, size_t len,
                                                     uint32_t *seen, uint32_t epoch, uint32_t *hits,
                                                     uint32_t *nhits)
{
    __m128i lo[3], hi[3];
    for (int j = 0; j < 3; j++) {
        lo[j] = _mm_loadu_si128((const __m128i *)(const void *)fp->lo[j]);
        hi[j] = _mm_loadu_si128((const __m128i *)(const void *)fp->hi[j]);
    }
    char tail[48];
    for (size_t i = 0; i + 4 <= len; i += 16) {
        const char *s = v + i;
        if (len - i < 18) { /* the block would read past v */
            memset(tail, 0, sizeof(tail));
            memcpy(tail, v + i, len - i);
            s = tail;
        }
        for (unsigned bits = fp_block(lo, hi, s); bits != 0; bits &= bits - 1) {
            size_t p = i + (unsigned)__builtin_ctz(bits);
            if (p + 4 > len)
                break; /* and so are the higher ones */
            uint64_t key = base | text4(v + p), kh = key_hash(key);
            if (in_bloom(t, kh))
                try_scan(t, key, kh, v, len, p, seen, epoch, hits, nhits);
        }
    }
}
#else
bool pf_simd_usable(void)
{
    return false;
}
#endif

void pf_scan(const pf_table *t, uint32_t field, const char *v, size_t len, uint32_t *seen,
             uint32_t epoch, uint32_t *hits, uint32_t *nhits)
{
    if (field >= t->nfields || t->kinds[field] == 0)
        return;
    unsigned kinds = t->kinds[field];
    if (kinds & PF_ANCHORED)
        for (uint32_t k = 0; k < t->nanch[field]; k++) {
            uint32_t pid = t->anch[field][k];
            const pf_pat *p = &t->pats[pid];
            if (seen[pid] != epoch && p->len <= len &&
                holds(p, v, len, p->op == EM_ENDS ? len - p->len : 0, 0))
                MARK(pid);
        }
    if (kinds & PF_SHORTS)
        scan_shorts(t, field, v, len, seen, epoch, hits, nhits);
    if ((kinds & 1u << PF_K_EQ) && len <= t->eqmax[field])
        try_once(t, key_make(PF_K_EQ, field, ig_hash_bytes(v, len)), v, len, 0, 0, seen, epoch,
                 hits, nhits);
    if (len < 4)
        return;
    if (kinds & 1u << PF_K_HEAD4)
        try_once(t, key_make(PF_K_HEAD4, field, text4(v)), v, len, 0, 4, seen, epoch, hits, nhits);
    if (kinds & 1u << PF_K_TAIL4)
        try_once(t, key_make(PF_K_TAIL4, field, text4(v + len - 4)), v, len, PF_AT_END, 0, seen,
                 epoch, hits, nhits);
    if (len >= 8 && (kinds & 1u << PF_K_HEAD8))
        try_once(t, key_make(PF_K_HEAD8, field, text8(v)), v, len, 0, 0, seen, epoch, hits, nhits);
    if (len >= 8 && (kinds & 1u << PF_K_TAIL8))
        try_once(t, key_make(PF_K_TAIL8, field, text8(v + len - 8)), v, len, PF_AT_END, 0, seen,
                 epoch, hits, nhits);
    if ((kinds & 1u << PF_K_SCAN) == 0)
        return;
    uint64_t base = key_make(PF_K_SCAN, field, 0);
#if PF_SIMD
    if (t->fp[field] != NULL) {
        scan_fp(t, t->fp[field], base, v, len, seen, epoch, hits, nhits);
        return;
    }
#endif
    for (size_t i = 0; i + 4 <= len; i++) {
        uint64_t key = base | text4(v + i), kh = key_hash(key);
        if (in_bloom(t, kh))
            try_scan(t, key, kh, v, len, i, seen, epoch, hits, nhits);
    }
}
