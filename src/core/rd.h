/* Bounded reader over untrusted bytes.
 *
 * Every read checks with offsets first and forms a pointer only after the
 * check; values are decoded little-endian from bytes, never by casting.  A
 * failed read leaves the reader unchanged and returns false. */
#ifndef IG_CORE_RD_H
#define IG_CORE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ig_rd {
    const uint8_t *base; /* borrowed */
    size_t len;
    size_t pos;
} ig_rd;

static inline ig_rd ig_rd_make(const uint8_t *base, size_t len)
{
    ig_rd r = {base, len, 0};
    return r;
}

/* True when `n` more bytes can be read at the current position. */
static inline bool ig_rd_can(const ig_rd *r, size_t n)
{
    return r->pos <= r->len && n <= r->len - r->pos;
}

static inline size_t ig_rd_left(const ig_rd *r)
{
    return r->pos <= r->len ? r->len - r->pos : 0;
}

static inline uint16_t ig_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t ig_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t ig_le64(const uint8_t *p)
{
    return (uint64_t)ig_le32(p) | ((uint64_t)ig_le32(p + 4) << 32);
}

static inline bool ig_rd_skip(ig_rd *r, size_t n)
{
    if (!ig_rd_can(r, n))
        return false;
    r->pos += n;
    return true;
}

static inline bool ig_rd_u8(ig_rd *r, uint8_t *out)
{
    if (!ig_rd_can(r, 1))
        return false;
    *out = r->base[r->pos++];
    return true;
}

static inline bool ig_rd_u16le(ig_rd *r, uint16_t *out)
{
    if (!ig_rd_can(r, 2))
        return false;
    *out = ig_le16(r->base + r->pos);
    r->pos += 2;
    return true;
}

static inline bool ig_rd_u32le(ig_rd *r, uint32_t *out)
{
    if (!ig_rd_can(r, 4))
        return false;
    *out = ig_le32(r->base + r->pos);
    r->pos += 4;
    return true;
}

static inline bool ig_rd_u64le(ig_rd *r, uint64_t *out)
{
    if (!ig_rd_can(r, 8))
        return false;
    *out = ig_le64(r->base + r->pos);
    r->pos += 8;
    return true;
}

/* Borrows `n` bytes at the current position and advances past them. */
static inline bool ig_rd_bytes(ig_rd *r, size_t n, const uint8_t **out)
{
    if (!ig_rd_can(r, n))
        return false;
    *out = r->base + r->pos;
    r->pos += n;
    return true;
}

#endif
