#define _GNU_SOURCE /* CPU_*, pthread_getaffinity_np */
/* Core parts: bounded reader, arena, capped buffer, UTF-16, numbers,
 * allocation failure injection, starting threads. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/crc32.h"
#include "core/memeq.h"
#include "core/num.h"
#include "core/rd.h"
#include "core/thread.h"
#include "core/utf16.h"
#include "iisguard/error.h"
#include "test.h"

static const char *cstr(ig_buf *b)
{
    ig_buf_putc(b, 0);
    b->len--;
    return (const char *)b->data;
}

static void test_rd(void)
{
    const uint8_t bytes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    ig_rd r = ig_rd_make(bytes, sizeof(bytes));
    uint32_t v32;
    uint64_t v64;
    uint16_t v16;
    CHECK(ig_rd_u32le(&r, &v32) && v32 == 0x04030201u);
    CHECK(ig_rd_u16le(&r, &v16) && v16 == 0x0605);
    CHECK(!ig_rd_u64le(&r, &v64)); /* 3 left */
    CHECK(r.pos == 6);             /* failed read leaves the reader unchanged */
    CHECK(!ig_rd_skip(&r, 4));
    CHECK(ig_rd_skip(&r, 3) && ig_rd_left(&r) == 0);
    r.pos = SIZE_MAX; /* an out-of-range position never reads */
    CHECK(!ig_rd_can(&r, 0) && !ig_rd_u16le(&r, &v16));
}

static void test_arena(void)
{
    ig_arena a;
    ig_arena_init(&a, 1000);
    void *p = ig_arena_alloc(&a, 10);
    CHECK(p != NULL && ((uintptr_t)p & 7u) == 0);
    CHECK(ig_arena_alloc(&a, 2000) == NULL); /* over the cap */
    CHECK(ig_arena_alloc(&a, SIZE_MAX) == NULL);
    ig_arena_reset(&a);
    CHECK(a.used_total == 0 && ig_arena_alloc(&a, 900) != NULL);
    ig_arena_destroy(&a);
    ig_arena_destroy(NULL);
}

static void test_buf(void)
{
    ig_buf b;
    ig_buf_init(&b, 8);
    CHECK(ig_buf_lit(&b, "12345678"));
    CHECK(!ig_buf_putc(&b, 'x') && b.failed && b.len == 8); /* capped */
    ig_buf_free(&b);
    ig_buf_init(&b, 0);
    ig_buf_u64(&b, 0);
    ig_buf_putc(&b, ' ');
    ig_buf_i64(&b, INT64_MIN);
    ig_buf_putc(&b, ' ');
    ig_buf_hex0x(&b, 0xdeadbeefu);
    ig_buf_putc(&b, ' ');
    ig_buf_udec_pad(&b, 7, 3);
    ig_buf_putc(&b, ' ');
    ig_buf_hexbytes(&b, (const uint8_t *)"\x01\xab", 2);
    CHECK_STR(cstr(&b), "0 -9223372036854775808 0xdeadbeef 007 01AB");
    ig_buf_free(&b);
}

static void test_utf16(void)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    /* "a\"é" + U+1F600 (surrogate pair) + lone high surrogate + "<" */
    const uint8_t s[] = {'a', 0, '"', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde, 0x00, 0xd8, '<', 0};
    CHECK(ig_utf16le_append(&b, s, 7, IG_ESC_JSON));
    CHECK_STR(cstr(&b), "a\\\"\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd<");
    ig_buf_reset(&b);
    CHECK(ig_utf16le_append(&b, s, 7, IG_ESC_XML));
    CHECK_STR(cstr(&b), "a&quot;\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd&lt;");
    ig_buf_reset(&b);
    const uint8_t ctl[] = {'\n', 0, 1, 0, '\t', 0};
    CHECK(ig_utf16le_append(&b, ctl, 3, IG_ESC_JSON));
    CHECK_STR(cstr(&b), "\\n\\u0001\\t");
    ig_buf_reset(&b);
    CHECK(ig_utf16le_append(&b, ctl, 3, IG_ESC_XML));
    CHECK_STR(cstr(&b), "&#10;\xe2\x90\x81\t");
    ig_buf_reset(&b);
    CHECK(ig_cp1252_append(&b, (const uint8_t *)"\x80\xe9", 2, IG_ESC_NONE));
    CHECK_STR(cstr(&b), "\xe2\x82\xac\xc3\xa9");
    ig_buf_free(&b);
}

/* Escaping UTF-8 text (sixteen bytes a step) agrees with escaping the same
 * ASCII text given as UTF-16 (a byte at a time), for JSON and XML, every
 * ASCII byte at every offset; bytes above 0x7F are copied as they are. */
static void test_escape_runs(void)
{
    ig_buf a, b;
    ig_buf_init(&a, 0);
    ig_buf_init(&b, 0);
    uint8_t s[80], w[160];
    int wrong = 0;
    uint32_t seed = 7;
    for (int round = 0; round < 4000; round++) {
        size_t n = (size_t)round % 80;
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            uint8_t c = (uint8_t)(seed >> 16);
            s[k] = (seed >> 8) % 5 ? (uint8_t)('a' + c % 26) : (uint8_t)(c & 0x7f);
        }
        for (size_t k = 0; k < n; k++)
            w[2 * k] = s[k], w[2 * k + 1] = 0;
        for (int e = 0; e < 2; e++) {
            ig_esc esc = e ? IG_ESC_XML : IG_ESC_JSON;
            ig_buf_reset(&a);
            ig_buf_reset(&b);
            wrong += !ig_utf8_append_escaped(&a, s, n, esc) || !ig_utf16le_append(&b, w, n, esc) ||
                     a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0);
        }
    }
    CHECK(wrong == 0);
    /* bytes above 0x7F (UTF-8 sequences, or anything) are not touched */
    for (size_t k = 0; k < 64; k++)
        s[k] = (uint8_t)(0x80 + k);
    ig_buf_reset(&a);
    CHECK(ig_utf8_append_escaped(&a, s, 64, IG_ESC_JSON) && a.len == 64 &&
          memcmp(a.data, s, 64) == 0);
    ig_buf_free(&a);
    ig_buf_free(&b);
}

static void test_num(void)
{
    uint64_t v = 42;
    CHECK(ig_parse_u64("256", 256, &v) && v == 256);
    CHECK(!ig_parse_u64("257", 256, &v) && v == 256);
    CHECK(!ig_parse_u64("", 10, &v));
    CHECK(!ig_parse_u64("1x", 10, &v));
    CHECK(!ig_parse_u64("18446744073709551616", UINT64_MAX, &v));
    CHECK(ig_parse_u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
}

static void test_alloc_failure(void)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    ig_alloc_fail_after(0);
    CHECK(ig_arena_alloc(&a, 16) == NULL);
    ig_buf b;
    ig_buf_init(&b, 0);
    CHECK(!ig_buf_lit(&b, "x") && b.failed);
    ig_alloc_fail_after(-1);
    CHECK(ig_arena_alloc(&a, 16) != NULL);
    ig_arena_destroy(&a);
    ig_buf_free(&b);
    CHECK_STR(ig_strerror(IG_ENOMEM), "out of memory");
    CHECK_STR(ig_strerror((ig_err)999), "unknown error");
}

static void test_crc32(void)
{
    static uint8_t data[70000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(data); i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    CHECK(ig_crc32(0, (const uint8_t *)"123456789", 9) == 0xCBF43926u); /* check value */
    int bad = 0;
    for (size_t n = 0; n < 2000; n++) {
        size_t len = n < 300 ? n : (size_t)(x = x * 1103515245u + 12345u) % 65000;
        size_t off = n % 13;
        uint32_t seed = n % 3 ? (uint32_t)n * 2654435761u : 0;
        if (ig_crc32(seed, data + off, len) != (uint32_t)crc32(seed, data + off, (uInt)len))
            bad++;
    }
    CHECK(bad == 0); /* same as zlib whatever the length, alignment and seed */
}

/* ig_mem_eq agrees with memcmp for every length up to past its memcmp
 * threshold and a difference at every place (buffers ending where the
 * strings do, for ASan to see a read past them). */
static void test_mem_eq(void)
{
    unsigned bad = 0;
    for (size_t n = 0; n <= 80; n++) {
        char *a = malloc(n ? n : 1), *b = malloc(n ? n : 1);
        if (a == NULL || b == NULL) {
            free(a), free(b);
            CHECK(false);
            return;
        }
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (char)('a' + (i * 7) % 26);
        bad += !ig_mem_eq(a, b, n);
        for (size_t i = 0; i < n; i++) {
            b[i] ^= 0x20;
            bad += ig_mem_eq(a, b, n) || ig_mem_eq(b, a, n);
            b[i] ^= 0x20;
        }
        free(a), free(b);
    }
    CHECK(bad == 0);
}

/* ig_thread_start: each thread runs its function with its argument, and
 * may run wherever the process may once it runs. */
typedef struct th_seen {
    int ran;
    cpu_set_t mask;
} th_seen;

static void *th_note(void *ud)
{
    th_seen *s = ud;
    s->ran++;
    pthread_getaffinity_np(pthread_self(), sizeof(s->mask), &s->mask);
    return ud;
}

static void test_thread_start(void)
{
    cpu_set_t all;
    CHECK(sched_getaffinity(0, sizeof(all), &all) == 0);
    th_seen seen[5];
    memset(seen, 0, sizeof(seen));
    pthread_t t[5];
    for (unsigned i = 0; i < 5; i++)
        CHECK(ig_thread_start(&t[i], i, th_note, &seen[i]) == 0);
    for (unsigned i = 0; i < 5; i++) {
        void *ret = NULL;
        CHECK(pthread_join(t[i], &ret) == 0 && ret == &seen[i]);
        CHECK(seen[i].ran == 1 && CPU_EQUAL(&seen[i].mask, &all));
    }
}

int main(void)
{
    test_thread_start();
    test_crc32();
    test_mem_eq();
    test_rd();
    test_arena();
    test_buf();
    test_utf16();
    test_escape_runs();
    test_num();
    test_alloc_failure();
    TEST_MAIN_END();
}
