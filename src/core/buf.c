#include "core/buf.h"

#include "core/alloc.h"

void ig_buf_init(ig_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
    b->failed = false;
}

void ig_buf_free(ig_buf *b)
{
    if (b == NULL)
        return;
    ig_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

ig_err ig_buf_reserve(ig_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return IG_OK;
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = true;
        return IG_ELIMIT;
    }
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max; /* the fast paths trust cap ≤ max */
    uint8_t *p = ig_realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return IG_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return IG_OK;
}

static const char digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

bool ig_buf_u64(ig_buf *b, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--i] = digits2[d + 1];
        tmp[--i] = digits2[d];
    }
    if (v >= 10) {
        tmp[--i] = digits2[v * 2 + 1];
        tmp[--i] = digits2[v * 2];
    } else {
        tmp[--i] = (char)('0' + v);
    }
    return ig_buf_put(b, tmp + i, sizeof(tmp) - i);
}

bool ig_buf_i64(ig_buf *b, int64_t v)
{
    if (v < 0) {
        if (!ig_buf_putc(b, '-'))
            return false;
        return ig_buf_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return ig_buf_u64(b, (uint64_t)v);
}

static const char hexl[] = "0123456789abcdef";
static const char hexu[] = "0123456789ABCDEF";

bool ig_buf_hex0x(ig_buf *b, uint64_t v)
{
    char tmp[18];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = hexl[v & 15u];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    return ig_buf_put(b, tmp + i, sizeof(tmp) - i);
}

bool ig_buf_udec_pad(ig_buf *b, uint64_t v, unsigned width)
{
    char tmp[24];
    if (width > sizeof(tmp))
        width = sizeof(tmp);
    for (unsigned i = width; i > 0; i--) {
        tmp[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return ig_buf_put(b, tmp, width);
}

bool ig_buf_hexbytes(ig_buf *b, const uint8_t *p, size_t n)
{
    if (n == 0)
        return true;
    if (n > (SIZE_MAX / 2) || ig_buf_reserve(b, n * 2) != IG_OK)
        return false;
    uint8_t *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = (uint8_t)hexu[p[i] >> 4];
        o[2 * i + 1] = (uint8_t)hexu[p[i] & 15u];
    }
    b->len += n * 2;
    return true;
}
