/* Capped growable byte buffer (curl's dynbuf idea): every buffer has a
 * maximum size; an append past it fails with IG_ELIMIT and leaves the
 * buffer as it was.  Appends are inline on the fast path. */
#ifndef IG_CORE_BUF_H
#define IG_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iisguard/error.h"

typedef struct ig_buf {
    uint8_t *data; /* owned; NULL until first append */
    size_t len, cap;
    size_t max;  /* hard cap on len */
    bool failed; /* sticky: an append failed since the last reset */
} ig_buf;

void ig_buf_init(ig_buf *b, size_t max);
void ig_buf_free(ig_buf *b);

/* Grows capacity so that `extra` more bytes fit.  On failure sets `failed`
 * and returns IG_ENOMEM or IG_ELIMIT. */
ig_err ig_buf_reserve(ig_buf *b, size_t extra);

static inline void ig_buf_reset(ig_buf *b)
{
    b->len = 0;
    b->failed = false;
}

static inline bool ig_buf_put(ig_buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len && ig_buf_reserve(b, n) != IG_OK)
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

static inline bool ig_buf_putc(ig_buf *b, uint8_t c)
{
    if (b->len == b->cap && ig_buf_reserve(b, 1) != IG_OK)
        return false;
    b->data[b->len++] = c;
    return true;
}

#define ig_buf_lit(b, s) ig_buf_put((b), (s), sizeof(s) - 1)

static inline bool ig_buf_puts(ig_buf *b, const char *s)
{
    return ig_buf_put(b, s, strlen(s));
}

/* Appends the decimal form of `v` / `v` signed. */
bool ig_buf_u64(ig_buf *b, uint64_t v);
bool ig_buf_i64(ig_buf *b, int64_t v);
/* Appends "0x" and lowercase hex digits of `v` without leading zeros. */
bool ig_buf_hex0x(ig_buf *b, uint64_t v);
/* Appends `v` as exactly `width` zero-padded decimal digits. */
bool ig_buf_udec_pad(ig_buf *b, uint64_t v, unsigned width);
/* Appends uppercase hex of `n` bytes. */
bool ig_buf_hexbytes(ig_buf *b, const uint8_t *p, size_t n);

#endif
