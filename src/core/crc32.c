/* CRC-32 with carry-less multiplication where the processor has it
 * (folding by four 128-bit lanes, then a Barrett reduction: Gopal et al.,
 * "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ", Intel
 * 2009), and zlib's table-driven crc32() for short inputs and elsewhere. */
#include "core/crc32.h"

#include <zlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define IG_CRC_CLMUL 1

/* x^(4*128+32), x^(4*128-32), x^(128+32), x^(128-32), x^64 mod P (bit-
 * reflected), and the Barrett constants P' and mu for P = 0x04C11DB7. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t crc, const uint8_t *p,
                                                                   size_t n)
{
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
    const __m128i poly = _mm_set_epi64x(0x1F7011641, 0x1DB710641);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);

    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
#define FOLD(x, off)                                                                               \
    do {                                                                                           \
        __m128i t_ = _mm_clmulepi64_si128(x, k1k2, 0x00);                                          \
        x = _mm_clmulepi64_si128(x, k1k2, 0x11);                                                   \
        x = _mm_xor_si128(_mm_xor_si128(x, t_),                                                    \
                          _mm_loadu_si128((const __m128i *)(const void *)(p + (off))));            \
    } while (0)
        FOLD(x1, 0);
        FOLD(x2, 16);
        FOLD(x3, 32);
        FOLD(x4, 48);
#undef FOLD
        p += 64;
        n -= 64;
    }
    /* four lanes into one */
#define FOLD1(acc, next)                                                                           \
    do {                                                                                           \
        __m128i t_ = _mm_clmulepi64_si128(acc, k3k4, 0x00);                                        \
        acc = _mm_clmulepi64_si128(acc, k3k4, 0x11);                                               \
        acc = _mm_xor_si128(_mm_xor_si128(acc, t_), next);                                         \
    } while (0)
    FOLD1(x1, x2);
    FOLD1(x1, x3);
    FOLD1(x1, x4);
    while (n >= 16) {
        FOLD1(x1, _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        n -= 16;
    }
#undef FOLD1
    /* 128 → 64 bits (appending 32 zero bits) */
    __m128i t = _mm_clmulepi64_si128(k3k4, x1, 0x01);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    /* 64 → 32 bits */
    __m128i x2b = _mm_srli_si128(x1, 4);
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
    x1 = _mm_xor_si128(x1, x2b);
    /* Barrett reduction */
    x2b = x1;
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x00);
    x1 = _mm_xor_si128(x1, x2b);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

uint32_t ig_crc32(uint32_t seed, const uint8_t *p, size_t n)
{
#ifdef IG_CRC_CLMUL
    static int have = -1;
    if (have < 0)
        have = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    if (have && n >= 64) {
        size_t bulk = n & ~(size_t)15;
        seed = ~crc_clmul(~seed, p, bulk);
        p += bulk;
        n -= bulk;
    }
#endif
    while (n > 0) {
        uInt part = n > 0x40000000u ? 0x40000000u : (uInt)n;
        seed = (uint32_t)crc32(seed, p, part);
        p += part;
        n -= part;
    }
    return seed;
}
