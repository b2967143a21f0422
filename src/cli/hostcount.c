/* Alerts per host (hostcount.h). */
#include "cli/hostcount.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

static size_t find(const host_counts *c, const char *name, size_t len)
{
    size_t i = ig_hash_bytes(name, len) & (c->nslot - 1);
    for (; c->slot[i] != 0; i = (i + 1) & (c->nslot - 1)) {
        const host_count *h = &c->v[c->slot[i] - 1];
        if (h->len == len && memcmp(h->name, name, len) == 0)
            break;
    }
    return i;
}

static int grow(host_counts *c)
{
    size_t ns = c->nslot ? c->nslot * 2 : 64;
    uint32_t *slot = calloc(ns, sizeof(*slot));
    if (slot == NULL)
        return 0;
    uint32_t *old = c->slot;
    c->slot = slot;
    c->nslot = ns;
    for (size_t i = 0; i < c->n; i++)
        c->slot[find(c, c->v[i].name, c->v[i].len)] = (uint32_t)i + 1;
    free(old);
    return 1;
}

void hc_add(host_counts *c, const char *name, size_t len, uint64_t add)
{
    if ((c->n + 1) * 2 > c->nslot && !grow(c)) {
        c->lost += add;
        return;
    }
    size_t i = find(c, name, len);
    if (c->slot[i] != 0) {
        c->v[c->slot[i] - 1].n += add;
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        host_count *v = c->n < UINT32_MAX - 1 ? realloc(c->v, sizeof(*v) * cap) : NULL;
        if (v == NULL) {
            c->lost += add;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    char *s = malloc(len + 1);
    if (s == NULL) {
        c->lost += add;
        return;
    }
    memcpy(s, name, len);
    s[len] = '\0';
    c->v[c->n] = (host_count){s, len, add};
    c->slot[i] = (uint32_t)++c->n;
}

void hc_merge(host_counts *into, const host_counts *from)
{
    for (size_t i = 0; i < from->n; i++)
        hc_add(into, from->v[i].name, from->v[i].len, from->v[i].n);
    into->lost += from->lost;
}

/* Does `a` rank before `b`? */
static int before(const host_count *a, const host_count *b)
{
    return a->n != b->n ? a->n > b->n : strcmp(a->name, b->name) < 0;
}

size_t hc_top(const host_counts *c, const host_count **out, size_t k)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n && k > 0; i++) { /* insertion into the k best so far */
        const host_count *h = &c->v[i];
        if (m == k) {
            if (!before(h, out[k - 1]))
                continue;
            m--; /* the last one drops out */
        }
        size_t j = m++;
        for (; j > 0 && before(h, out[j - 1]); j--)
            out[j] = out[j - 1];
        out[j] = h;
    }
    return m;
}

void hc_free(host_counts *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].name);
    free(c->v);
    free(c->slot);
    memset(c, 0, sizeof(*c));
}
