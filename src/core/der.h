/* Bounded DER reader (ITU-T X.690) for untrusted ASN.1: one tag-length-value
 * at a time, definite lengths only, single-byte tags, every length checked
 * against what is left. */
#ifndef IG_CORE_DER_H
#define IG_CORE_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct der {
    const uint8_t *p; /* borrowed */
    size_t len;
} der;

#define DER_SEQUENCE 0x30
#define DER_SET      0x31
#define DER_OID      0x06
#define DER_OCTETS   0x04
#define DER_INTEGER  0x02
#define DER_NULL     0x05
#define DER_UTCTIME  0x17
#define DER_GENTIME  0x18
#define DER_CTX(n)   (0xA0 | (n)) /* [n] constructed, context-specific */

/* Reads the next TLV of `in` into *tag and *val (its contents) and, when
 * `whole` is not NULL, the TLV with its header; advances `in`.  False at
 * the end or on a malformed header (in is then unchanged). */
static inline bool der_next(der *in, uint8_t *tag, der *val, der *whole)
{
    if (in->len < 2 || (in->p[0] & 0x1F) == 0x1F)
        return false;
    size_t hl = 2, n = in->p[1];
    if (n & 0x80) {
        size_t k = n & 0x7F;
        if (k == 0 || k > 4 || in->len < 2 + k)
            return false; /* indefinite, or longer than 4 GiB */
        n = 0;
        for (size_t i = 0; i < k; i++)
            n = n << 8 | in->p[2 + i];
        hl += k;
    }
    if (n > in->len - hl)
        return false;
    *tag = in->p[0];
    val->p = in->p + hl;
    val->len = n;
    if (whole != NULL) {
        whole->p = in->p;
        whole->len = hl + n;
    }
    in->p += hl + n;
    in->len -= hl + n;
    return true;
}

/* Like der_next, but only when the next tag is `want`. */
static inline bool der_expect(der *in, uint8_t want, der *val, der *whole)
{
    der save = *in;
    uint8_t tag;
    if (!der_next(in, &tag, val, whole))
        return false;
    if (tag != want) {
        *in = save;
        return false;
    }
    return true;
}

/* True when the OID contents `v` equal the encoded OID `enc` (n bytes). */
static inline bool der_oid_is(der v, const uint8_t *enc, size_t n)
{
    return v.len == n && memcmp(v.p, enc, n) == 0;
}

#endif
