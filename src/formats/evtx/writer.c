/* EVTX writer for fixtures (see include/iisguard/evtx_writer.h).
 *
 * Layout follows what Windows writes (libevtx notes §2 "File header", §3
 * "Chunk", §4 "Event record", §5 "Binary XML"; checked against the samples
 * in ../shared/data/evtx):
 *   - names are stored inline the first time a chunk uses them and
 *     referenced by offset afterwards, also from later templates; the
 *     common string table at chunk offset 128 is a hash table of them
 *     (bucket = name hash % 64, chained through each name's first u32,
 *     newest first), the name hash being the low 16 bits of h = h*65599+c;
 *   - a template definition is stored inline in the first record of a chunk
 *     that uses it (template id = first 4 bytes of its GUID); the template
 *     pointer table at 384 chains them the same way (bucket = id % 32);
 *   - substitution ids of the System part follow Windows' numbering
 *     (0 Level … 16 Channel; 4 Qualifiers, 7 ActivityID and 13
 *     RelatedActivityID are optional and always NULL here); 17 is Computer
 *     and 18… the EventData values;
 *   - the Binary XML of a record ends with an EOF token after the instance
 *     data; records are padded with zero bytes to a multiple of 8.
 * The image lives in one buffer: 4 KiB header, then the chunks; the last
 * chunk is the one being filled.  Headers and checksums are (re)computed by
 * ig_evtx_writer_finish. */
#include "iisguard/evtx_writer.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/crc32.h"
#include "core/limits.h"
#include "core/rd.h"

/* The file header counts chunks in 16 bits (libevtx notes §2). */
#define W_MAX_CHUNKS    0xffffu
#define W_NSYS          18u /* System substitution values, ids 0..17 */
/* Longest string value: its size must fit the u16 of a value descriptor. */
#define W_MAX_STR_UNITS 0x7fffu
/* Cap of every scratch buffer (see W_MAX_NAME_TEXT). */
#define W_MAX_SCRATCH   (32u << 20)

/* Value types (libevtx notes §5 "Value types"). */
enum {
    VT_NULL = 0x00,
    VT_STRING = 0x01,
    VT_U8 = 0x04,
    VT_U16 = 0x06,
    VT_U32 = 0x08,
    VT_U64 = 0x0a,
    VT_GUID = 0x0f,
    VT_FILETIME = 0x11,
    VT_SID = 0x13,
    VT_HEX64 = 0x15
};

/* Tokens (libevtx notes §5 "Token types"). */
enum {
    T_EOF = 0x00,
    T_OPEN = 0x01,
    T_CLOSE_START = 0x02,
    T_CLOSE_EMPTY = 0x03,
    T_END = 0x04,
    T_VALUE = 0x05,
    T_ATTR = 0x06,
    T_TEMPLATE = 0x0c,
    T_SUBST = 0x0d,
    T_OSUBST = 0x0e,
    T_FRAGMENT = 0x0f,
    T_MORE = 0x40
};

typedef struct wname {
    uint32_t off; /* chunk offset of the name structure */
    uint16_t hash, nchars;
} wname;

typedef struct wtpl {
    uint32_t off;            /* chunk offset of the definition header */
    size_t key_off, key_len; /* shape key in chunk_state.keys */
} wtpl;

/* What a chunk already holds; `names`/`tpls` only grow while it is filled. */
typedef struct chunk_state {
    uint32_t free_off, last_rec_off;
    uint64_t first_id, last_id;
    wname *names;
    uint32_t nnames, cap_names;
    wtpl *tpls;
    uint32_t ntpls, cap_tpls;
    ig_buf keys;
} chunk_state;

struct ig_evtx_writer {
    ig_buf img; /* header block + chunks */
    uint32_t nchunks;
    uint64_t next_id;
    chunk_state cur, fresh; /* the chunk being filled; a scratch one */
    ig_buf rec;             /* the record being encoded */
    ig_buf vdesc;           /* its value descriptors */
    ig_buf vdata;           /* its value data */
    ig_buf key;             /* its template shape key */
    ig_buf u16;             /* scratch UTF-16 */
};

/* ---- little-endian helpers ------------------------------------------------ */

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool put16(ig_buf *b, uint16_t v)
{
    uint8_t t[2];
    st16(t, v);
    return ig_buf_put(b, t, 2);
}

static uint32_t crc(const uint8_t *p, size_t n, uint32_t seed)
{
    return ig_crc32(seed, p, n);
}

/* ---- text conversions ----------------------------------------------------- */

/* Decodes one code point of strict UTF-8 at *p (not at its NUL) and
 * advances; false on invalid UTF-8 (overlong forms, surrogates, > U+10FFFF,
 * truncated sequences). */
static bool utf8_next(const uint8_t **p, uint32_t *out)
{
    const uint8_t *s = *p;
    uint32_t c = *s++, need = 0, min = 0;
    if (c >= 0xf0 && c <= 0xf4)
        need = 3, min = 0x10000, c &= 0x07;
    else if (c >= 0xe0 && c <= 0xef)
        need = 2, min = 0x800, c &= 0x0f;
    else if (c >= 0xc2 && c <= 0xdf)
        need = 1, min = 0x80, c &= 0x1f;
    else if (c >= 0x80)
        return false;
    for (uint32_t i = 0; i < need; i++) {
        if ((*s & 0xc0) != 0x80) /* also stops at the NUL */
            return false;
        c = (c << 6) | (*s++ & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return false;
    *p = s;
    *out = c;
    return true;
}

/* Number of UTF-16 code units of `s`; false when it is not valid UTF-8. */
static bool utf16_units(const char *s, size_t *units)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = 0;
    uint32_t c;
    while (*p) {
        if (!utf8_next(&p, &c))
            return false;
        n += c >= 0x10000 ? 2 : 1;
    }
    *units = n;
    return true;
}

/* Appends UTF-8 `s` (validated by utf16_units) as UTF-16LE; false when
 * the buffer refused to grow or `s` is invalid. */
static bool utf8_to_utf16(ig_buf *b, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    uint32_t c;
    while (*p) {
        if (!utf8_next(&p, &c))
            return false;
        if (c >= 0x10000) {
            c -= 0x10000;
            if (!put16(b, (uint16_t)(0xd800 + (c >> 10))) ||
                !put16(b, (uint16_t)(0xdc00 + (c & 0x3ff))))
                return false;
        } else if (!put16(b, (uint16_t)c)) {
            return false;
        }
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (braces optional) → the 16-byte
 * GUID as stored: Data1..3 little-endian, Data4 as is. */
static bool parse_guid(const char *s, uint8_t out[16])
{
    size_t len = strlen(s);
    if (len == 38 && s[0] == '{' && s[37] == '}')
        s++, len = 36;
    if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
    uint8_t raw[16];
    size_t k = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            continue;
        int h = hexval(s[i]), l = hexval(s[i + 1]);
        if (h < 0 || l < 0)
            return false;
        raw[k++] = (uint8_t)(h << 4 | l);
        i++;
    }
    static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        out[i] = raw[order[i]];
    return true;
}

/* Parses a decimal number up to `max` at *s, advancing it. */
static bool parse_dec(const char **s, uint64_t max, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *s = p;
    *out = v;
    return true;
}

/* "S-1-<authority>-<sub>..." → binary SID (revision, count, 48-bit
 * big-endian authority, little-endian u32 subauthorities; MS-DTYP §2.4.2.2).
 * `out` holds the longest SID (15 subauthorities, 68 bytes). */
static bool parse_sid(const char *s, uint8_t out[68], size_t *len)
{
    uint64_t rev, auth, sub[15];
    unsigned n = 0;
    if ((s[0] != 'S' && s[0] != 's') || s[1] != '-')
        return false;
    s += 2;
    if (!parse_dec(&s, 255, &rev) || rev != 1 || *s++ != '-' ||
        !parse_dec(&s, 0xffffffffffffull, &auth))
        return false;
    while (*s == '-') {
        s++;
        if (n == 15 || !parse_dec(&s, 0xffffffffu, &sub[n]))
            return false;
        n++;
    }
    if (*s != '\0')
        return false;
    out[0] = (uint8_t)rev;
    out[1] = (uint8_t)n;
    for (int i = 0; i < 6; i++)
        out[2 + i] = (uint8_t)(auth >> (8 * (5 - i)));
    for (unsigned i = 0; i < n; i++)
        st32(out + 8 + 4 * i, (uint32_t)sub[i]);
    *len = 8 + 4 * (size_t)n;
    return true;
}

/* ---- chunk state ---------------------------------------------------------- */

static void cs_init(chunk_state *cs)
{
    memset(cs, 0, sizeof(*cs));
    ig_buf_init(&cs->keys, W_MAX_SCRATCH);
}

static void cs_free(chunk_state *cs)
{
    ig_free(cs->names);
    ig_free(cs->tpls);
    ig_buf_free(&cs->keys);
    memset(cs, 0, sizeof(*cs));
}

/* Forgets everything but keeps the allocations. */
static void cs_clear(chunk_state *cs)
{
    cs->free_off = IG_EVTX_CHUNK_HEADER_SIZE;
    cs->last_rec_off = 0;
    cs->first_id = cs->last_id = 0;
    cs->nnames = cs->ntpls = 0;
    ig_buf_reset(&cs->keys);
}

static bool grow(void **v, uint32_t *cap, uint32_t len, size_t elem)
{
    if (len < *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 32;
    void *p = ig_realloc(*v, (size_t)ncap * elem);
    if (p == NULL)
        return false;
    *v = p;
    *cap = ncap;
    return true;
}

/* ---- record encoding ------------------------------------------------------ */

/* Encoding context for one record placed at chunk offset `base`. */
typedef struct enc {
    ig_evtx_writer *w;
    chunk_state *cs;
    const uint8_t *chunk; /* bytes before `base`; NULL for a new chunk */
    uint32_t base;
    ig_buf *b;
    bool ok;
    ig_err err; /* why `ok` became false */
} enc;

static void e_fail(enc *e, ig_err err)
{
    if (e->ok) {
        e->ok = false;
        e->err = err;
    }
}

static uint32_t enc_pos(const enc *e)
{
    return e->base + (uint32_t)e->b->len;
}

/* Bytes at chunk offset `off` (already written, in the chunk or record). */
static const uint8_t *enc_at(const enc *e, uint32_t off)
{
    return off >= e->base ? e->b->data + (off - e->base) : e->chunk + off;
}

static void e_put(enc *e, const void *p, size_t n)
{
    if (e->ok && !ig_buf_put(e->b, p, n))
        e_fail(e, IG_ENOMEM);
}

static void e_u8(enc *e, uint8_t v)
{
    e_put(e, &v, 1);
}

static void e_u16(enc *e, uint16_t v)
{
    uint8_t t[2];
    st16(t, v);
    e_put(e, t, 2);
}

static void e_u32(enc *e, uint32_t v)
{
    uint8_t t[4];
    st32(t, v);
    e_put(e, t, 4);
}

static void e_patch32(enc *e, size_t at, uint32_t v)
{
    if (e->ok)
        st32(e->b->data + at, v);
}

/* A name reference (§5 "Name"): the offset of an earlier copy in this
 * chunk, or the offset of the inline copy that follows. */
static void e_name(enc *e, const char *name)
{
    ig_buf *u = &e->w->u16;
    size_t n = 0;
    if (!e->ok)
        return;
    if (!utf16_units(name, &n) || n == 0 || n > 0xffff) {
        e_fail(e, IG_EARG);
        return;
    }
    ig_buf_reset(u);
    if (!utf8_to_utf16(u, name)) {
        e_fail(e, IG_ENOMEM);
        return;
    }
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = h * 65599u + (uint32_t)(u->data[2 * i] | u->data[2 * i + 1] << 8);
    uint16_t hash = (uint16_t)h;
    chunk_state *cs = e->cs;
    for (uint32_t i = 0; i < cs->nnames; i++) {
        const wname *nm = &cs->names[i];
        if (nm->hash == hash && nm->nchars == n &&
            memcmp(enc_at(e, nm->off + 8), u->data, 2 * n) == 0) {
            e_u32(e, nm->off);
            return;
        }
    }
    if (!grow((void **)&cs->names, &cs->cap_names, cs->nnames, sizeof(wname))) {
        e_fail(e, IG_ENOMEM);
        return;
    }
    uint32_t off = enc_pos(e) + 4;
    e_u32(e, off);
    e_u32(e, 0); /* next name in the hash bucket: set when sealing */
    e_u16(e, hash);
    e_u16(e, (uint16_t)n);
    e_put(e, u->data, 2 * n);
    e_u16(e, 0);
    if (e->ok)
        cs->names[cs->nnames++] = (wname){off, hash, (uint16_t)n};
}

typedef struct el {
    size_t size_at, attrs_at;
} el;

/* Element start (§5 "Element start") with dependency id 0xffff. */
static el e_open(enc *e, const char *name, bool has_attrs)
{
    el x = {0, 0};
    e_u8(e, has_attrs ? T_OPEN | T_MORE : T_OPEN);
    e_u16(e, 0xffff);
    x.size_at = e->b->len;
    e_u32(e, 0);
    e_name(e, name);
    if (has_attrs) {
        x.attrs_at = e->b->len;
        e_u32(e, 0);
    }
    return x;
}

static void e_attr(enc *e, const char *name, bool more)
{
    e_u8(e, more ? T_ATTR | T_MORE : T_ATTR);
    e_name(e, name);
}

static void e_attrs_done(enc *e, const el *x)
{
    if (x->attrs_at)
        e_patch32(e, x->attrs_at, (uint32_t)(e->b->len - x->attrs_at - 4));
}

/* The data size covers everything after itself up to the end token. */
static void e_close_empty(enc *e, const el *x)
{
    e_attrs_done(e, x);
    e_u8(e, T_CLOSE_EMPTY);
    e_patch32(e, x->size_at, (uint32_t)(e->b->len - x->size_at - 4));
}

static void e_close_start(enc *e, const el *x)
{
    e_attrs_done(e, x);
    e_u8(e, T_CLOSE_START);
}

static void e_end(enc *e, const el *x)
{
    e_u8(e, T_END);
    e_patch32(e, x->size_at, (uint32_t)(e->b->len - x->size_at - 4));
}

static void e_subst(enc *e, bool optional, uint16_t id, uint8_t type)
{
    e_u8(e, optional ? T_OSUBST : T_SUBST);
    e_u16(e, id);
    e_u8(e, type);
}

/* Value text (§5 "Value text"): a literal UTF-16 string. */
static void e_text(enc *e, const char *s)
{
    ig_buf *u = &e->w->u16;
    size_t n = 0;
    if (!e->ok)
        return;
    if (!utf16_units(s, &n) || n > 0xffff) {
        e_fail(e, IG_EARG);
        return;
    }
    ig_buf_reset(u);
    if (!utf8_to_utf16(u, s)) {
        e_fail(e, IG_ENOMEM);
        return;
    }
    e_u8(e, T_VALUE);
    e_u8(e, VT_STRING);
    e_u16(e, (uint16_t)n);
    e_put(e, u->data, 2 * n);
}

/* <Name>%id</Name> */
static void e_simple(enc *e, const char *name, uint16_t id, uint8_t type)
{
    el x = e_open(e, name, false);
    e_close_start(e, &x);
    e_subst(e, true, id, type);
    e_end(e, &x);
}

/* The template body: fragment header, the Event element, EOF. */
static void e_template_body(enc *e, const ig_evtx_event *ev)
{
    e_u8(e, T_FRAGMENT);
    e_u8(e, 1);
    e_u8(e, 1);
    e_u8(e, 0);
    el ev_el = e_open(e, "Event", true);
    e_attr(e, "xmlns", false);
    e_text(e, "http://schemas.microsoft.com/win/2004/08/events/event");
    e_close_start(e, &ev_el);
    el sys = e_open(e, "System", false);
    e_close_start(e, &sys);

    el x = e_open(e, "Provider", true);
    e_attr(e, "Name", true);
    e_subst(e, true, 14, VT_STRING);
    e_attr(e, "Guid", false);
    e_subst(e, true, 15, VT_GUID);
    e_close_empty(e, &x);

    x = e_open(e, "EventID", true);
    e_attr(e, "Qualifiers", false);
    e_subst(e, true, 4, VT_U16);
    e_close_start(e, &x);
    e_subst(e, true, 3, VT_U16);
    e_end(e, &x);

    e_simple(e, "Version", 11, VT_U8);
    e_simple(e, "Level", 0, VT_U8);
    e_simple(e, "Task", 2, VT_U16);
    e_simple(e, "Opcode", 1, VT_U8);
    e_simple(e, "Keywords", 5, VT_HEX64);

    x = e_open(e, "TimeCreated", true);
    e_attr(e, "SystemTime", false);
    e_subst(e, true, 6, VT_FILETIME);
    e_close_empty(e, &x);

    e_simple(e, "EventRecordID", 10, VT_U64);

    x = e_open(e, "Correlation", true);
    e_attr(e, "ActivityID", true);
    e_subst(e, true, 7, VT_GUID);
    e_attr(e, "RelatedActivityID", false);
    e_subst(e, true, 13, VT_GUID);
    e_close_empty(e, &x);

    x = e_open(e, "Execution", true);
    e_attr(e, "ProcessID", true);
    e_subst(e, true, 8, VT_U32);
    e_attr(e, "ThreadID", false);
    e_subst(e, true, 9, VT_U32);
    e_close_empty(e, &x);

    e_simple(e, "Channel", 16, VT_STRING);
    e_simple(e, "Computer", 17, VT_STRING);

    x = e_open(e, "Security", true);
    e_attr(e, "UserID", false);
    e_subst(e, true, 12, VT_SID);
    e_close_empty(e, &x);
    e_end(e, &sys);

    if (ev->ndata > 0) {
        el data = e_open(e, "EventData", false);
        e_close_start(e, &data);
        for (size_t i = 0; i < ev->ndata; i++) {
            x = e_open(e, "Data", true);
            e_attr(e, "Name", false);
            e_text(e, ev->data_names[i]);
            e_close_start(e, &x);
            e_subst(e, false, (uint16_t)(W_NSYS + i), VT_STRING);
            e_end(e, &x);
        }
        e_end(e, &data);
    }
    e_end(e, &ev_el);
    e_u8(e, T_EOF);
}

/* Template GUID: a fixed function of the shape key (two FNV-1a 64 hashes),
 * so a shape has the same GUID in every chunk and file. */
static void shape_guid(const ig_buf *key, uint8_t g[16])
{
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < key->len; i++) {
        h1 = (h1 ^ key->data[i]) * 0x100000001b3ull;
        h2 = (h2 ^ (uint8_t)(key->data[i] + 0x5a)) * 0x100000001b3ull;
    }
    st64(g, h1);
    st64(g + 8, h2);
}

/* Encodes the whole record for chunk state `cs` into w->rec, adding the
 * names and template it defines to `cs` (the caller rolls `cs` back when
 * the record is not committed).  `chunk` holds the bytes before
 * cs->free_off (NULL for a new chunk).  Returns IG_OK, IG_EARG (a name is
 * not valid UTF-8 or too long) or IG_ENOMEM. */
static ig_err encode_record(ig_evtx_writer *w, chunk_state *cs, const uint8_t *chunk,
                            const ig_evtx_event *ev)
{
    ig_buf *b = &w->rec;
    ig_buf_reset(b);
    enc e = {w, cs, chunk, cs->free_off, b, true, IG_OK};
    static const uint8_t sig[4] = {0x2a, 0x2a, 0x00, 0x00};
    e_put(&e, sig, 4);
    e_u32(&e, 0); /* size: patched below */
    e_u32(&e, (uint32_t)w->next_id);
    e_u32(&e, (uint32_t)(w->next_id >> 32));
    e_u32(&e, (uint32_t)ev->time_filetime);
    e_u32(&e, (uint32_t)(ev->time_filetime >> 32));
    /* fragment header + template instance (§5 "Template instance") */
    static const uint8_t frag[4] = {T_FRAGMENT, 1, 1, 0};
    e_put(&e, frag, 4);
    uint8_t guid[16];
    shape_guid(&w->key, guid);
    uint32_t def_off = 0;
    for (uint32_t i = 0; i < cs->ntpls; i++) {
        const wtpl *t = &cs->tpls[i];
        if (t->key_len == w->key.len &&
            memcmp(cs->keys.data + t->key_off, w->key.data, t->key_len) == 0) {
            def_off = t->off;
            break;
        }
    }
    e_u8(&e, T_TEMPLATE);
    e_u8(&e, 1);
    e_put(&e, guid, 4); /* template id */
    if (def_off != 0) {
        e_u32(&e, def_off);
    } else {
        /* inline definition: next(4), GUID(16), data size(4), data */
        def_off = enc_pos(&e) + 4;
        e_u32(&e, def_off);
        e_u32(&e, 0); /* next template in the bucket: set when sealing */
        e_put(&e, guid, 16);
        size_t size_at = b->len;
        e_u32(&e, 0);
        e_template_body(&e, ev);
        e_patch32(&e, size_at, (uint32_t)(b->len - size_at - 4));
        if (!e.ok)
            return e.err;
        if (!grow((void **)&cs->tpls, &cs->cap_tpls, cs->ntpls, sizeof(wtpl)))
            return IG_ENOMEM;
        size_t key_off = cs->keys.len;
        if (!ig_buf_put(&cs->keys, w->key.data, w->key.len))
            return IG_ENOMEM;
        cs->tpls[cs->ntpls++] = (wtpl){def_off, key_off, w->key.len};
    }
    /* instance data (§5 "Template instance data"): count, descriptors, values */
    e_u32(&e, (uint32_t)(w->vdesc.len / 4));
    e_put(&e, w->vdesc.data, w->vdesc.len);
    e_put(&e, w->vdata.data, w->vdata.len);
    e_u8(&e, T_EOF); /* end of the document (MS-EVEN6 §2.2.12; libfwevt needs it) */
    while (e.ok && (b->len + 4) % 8 != 0) /* Windows aligns records to 8 */
        e_u8(&e, 0);
    e_u32(&e, 0);
    if (!e.ok)
        return e.err;
    st32(b->data + 4, (uint32_t)b->len);
    st32(b->data + b->len - 4, (uint32_t)b->len);
    return IG_OK;
}

/* ---- values --------------------------------------------------------------- */

static ig_err val_put(ig_evtx_writer *w, uint8_t type, const void *p, size_t n)
{
    uint8_t d[4] = {(uint8_t)n, (uint8_t)(n >> 8), type, 0};
    if (n > 0xffff || w->vdata.len + n > IG_EVTX_CHUNK_SIZE)
        return IG_EARG; /* cannot fit one record */
    return ig_buf_put(&w->vdesc, d, 4) && ig_buf_put(&w->vdata, p, n) ? IG_OK : IG_ENOMEM;
}

static ig_err val_fixed(ig_evtx_writer *w, uint8_t type, uint64_t v, unsigned size)
{
    uint8_t t[8];
    st64(t, v);
    return val_put(w, type, t, size);
}

static ig_err val_str(ig_evtx_writer *w, const char *s)
{
    size_t n = 0;
    if (s == NULL)
        s = "";
    if (!utf16_units(s, &n) || n > W_MAX_STR_UNITS || w->vdata.len + 2 * n > IG_EVTX_CHUNK_SIZE)
        return IG_EARG;
    uint8_t d[4] = {(uint8_t)(2 * n), (uint8_t)(2 * n >> 8), VT_STRING, 0};
    return ig_buf_put(&w->vdesc, d, 4) && utf8_to_utf16(&w->vdata, s) ? IG_OK : IG_ENOMEM;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((err = (x)) != IG_OK)                                                                  \
            return err;                                                                            \
    } while (0)

/* Builds the values (ids 0..17, then EventData) and the shape key of `ev`. */
static ig_err build_values(ig_evtx_writer *w, const ig_evtx_event *ev)
{
    ig_err err;
    uint8_t guid[16], sid[68];
    size_t sid_len = 0;
    ig_buf_reset(&w->vdesc);
    ig_buf_reset(&w->vdata);
    ig_buf_reset(&w->key);
    if (ev->provider_guid != NULL && !parse_guid(ev->provider_guid, guid))
        return IG_EARG;
    if (ev->user_sid != NULL && !parse_sid(ev->user_sid, sid, &sid_len))
        return IG_EARG;
    TRY(val_fixed(w, VT_U8, ev->level, 1));               /* 0 Level */
    TRY(val_fixed(w, VT_U8, ev->opcode, 1));              /* 1 Opcode */
    TRY(val_fixed(w, VT_U16, ev->task, 2));               /* 2 Task */
    TRY(val_fixed(w, VT_U16, ev->event_id, 2));           /* 3 EventID */
    TRY(val_put(w, VT_NULL, NULL, 0));                    /* 4 Qualifiers */
    TRY(val_fixed(w, VT_HEX64, ev->keywords, 8));         /* 5 Keywords */
    TRY(val_fixed(w, VT_FILETIME, ev->time_filetime, 8)); /* 6 TimeCreated */
    TRY(val_put(w, VT_NULL, NULL, 0));                    /* 7 ActivityID */
    TRY(val_fixed(w, VT_U32, ev->pid, 4));                /* 8 ProcessID */
    TRY(val_fixed(w, VT_U32, ev->tid, 4));                /* 9 ThreadID */
    TRY(val_fixed(w, VT_U64, w->next_id, 8));             /* 10 EventRecordID */
    TRY(val_fixed(w, VT_U8, ev->version, 1));             /* 11 Version */
    TRY(ev->user_sid ? val_put(w, VT_SID, sid, sid_len)   /* 12 UserID */
                     : val_put(w, VT_NULL, NULL, 0));
    TRY(val_put(w, VT_NULL, NULL, 0));                    /* 13 RelatedActivityID */
    TRY(val_str(w, ev->provider));                        /* 14 Provider Name */
    TRY(ev->provider_guid ? val_put(w, VT_GUID, guid, 16) /* 15 Provider Guid */
                          : val_put(w, VT_NULL, NULL, 0));
    TRY(val_str(w, ev->channel));  /* 16 Channel */
    TRY(val_str(w, ev->computer)); /* 17 Computer */
    if (!ig_buf_put(&w->key, ev->provider, strlen(ev->provider) + 1))
        return IG_ENOMEM;
    for (size_t i = 0; i < ev->ndata; i++) {
        const char *name = ev->data_names[i];
        if (name == NULL || name[0] == '\0')
            return IG_EARG;
        TRY(val_str(w, ev->data_values[i])); /* 18 + i */
        if (!ig_buf_put(&w->key, name, strlen(name) + 1))
            return IG_ENOMEM;
    }
    return IG_OK;
}

/* ---- chunks and file ------------------------------------------------------ */

static uint8_t *chunk_ptr(ig_evtx_writer *w, uint32_t index)
{
    return w->img.data + IG_EVTX_HEADER_SIZE + (size_t)index * IG_EVTX_CHUNK_SIZE;
}

/* Writes the chunk header, the hash tables and the checksums of chunk
 * `index` from `cs`.  Idempotent. */
static void chunk_seal(ig_evtx_writer *w, uint32_t index, const chunk_state *cs)
{
    uint8_t *c = chunk_ptr(w, index);
    memset(c, 0, IG_EVTX_CHUNK_HEADER_SIZE);
    memcpy(c, "ElfChnk", 8);
    st64(c + 8, cs->first_id);  /* first event record number */
    st64(c + 16, cs->last_id);  /* last event record number */
    st64(c + 24, cs->first_id); /* first event record identifier */
    st64(c + 32, cs->last_id);  /* last event record identifier */
    st32(c + 40, 128);
    st32(c + 44, cs->last_rec_off);
    st32(c + 48, cs->free_off);
    for (uint32_t i = 0; i < cs->nnames; i++) {
        uint8_t *bucket = c + 128 + 4u * (cs->names[i].hash % 64u);
        st32(c + cs->names[i].off, ig_le32(bucket));
        st32(bucket, cs->names[i].off);
    }
    for (uint32_t i = 0; i < cs->ntpls; i++) {
        uint32_t off = cs->tpls[i].off;
        uint8_t *bucket = c + 384 + 4u * (ig_le32(c + off + 4) % 32u);
        st32(c + off, ig_le32(bucket));
        st32(bucket, off);
    }
    st32(c + 52, crc(c + IG_EVTX_CHUNK_HEADER_SIZE, cs->free_off - IG_EVTX_CHUNK_HEADER_SIZE, 0));
    st32(c + 124, crc(c + 128, 384, crc(c, 120, 0)));
}

static void file_header(ig_evtx_writer *w)
{
    uint8_t *h = w->img.data;
    memset(h, 0, IG_EVTX_HEADER_SIZE);
    memcpy(h, "ElfFile", 8);
    st64(h + 8, 0);                                  /* first chunk number */
    st64(h + 16, w->nchunks ? w->nchunks - 1u : 0u); /* last chunk number */
    st64(h + 24, w->next_id);                        /* next record identifier */
    st32(h + 32, 128);                               /* header size */
    st16(h + 36, 1);                                 /* minor version */
    st16(h + 38, 3);                                 /* major version */
    st16(h + 40, (uint16_t)IG_EVTX_HEADER_SIZE);     /* header block size */
    st16(h + 42, (uint16_t)w->nchunks);
    st32(h + 120, 0); /* flags: clean, not full */
    st32(h + 124, crc(h, 120, 0));
}

ig_evtx_writer *ig_evtx_writer_create(void)
{
    ig_evtx_writer *w = ig_calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    ig_buf_init(&w->img, IG_EVTX_HEADER_SIZE + (size_t)W_MAX_CHUNKS * IG_EVTX_CHUNK_SIZE);
    ig_buf_init(&w->rec, W_MAX_SCRATCH);
    ig_buf_init(&w->vdesc, W_MAX_SCRATCH);
    ig_buf_init(&w->vdata, W_MAX_SCRATCH);
    ig_buf_init(&w->key, W_MAX_SCRATCH);
    ig_buf_init(&w->u16, W_MAX_SCRATCH);
    cs_init(&w->cur);
    cs_init(&w->fresh);
    w->next_id = 1;
    if (ig_buf_reserve(&w->img, IG_EVTX_HEADER_SIZE) != IG_OK) {
        ig_evtx_writer_destroy(w);
        return NULL;
    }
    w->img.len = IG_EVTX_HEADER_SIZE;
    file_header(w);
    return w;
}

/* Copies the encoded record into the current chunk. */
static void commit(ig_evtx_writer *w)
{
    chunk_state *cs = &w->cur;
    memcpy(chunk_ptr(w, w->nchunks - 1u) + cs->free_off, w->rec.data, w->rec.len);
    if (cs->first_id == 0)
        cs->first_id = w->next_id;
    cs->last_id = w->next_id;
    cs->last_rec_off = cs->free_off;
    cs->free_off += (uint32_t)w->rec.len;
    w->next_id++;
}

/* Longest text of the names in a template, in bytes of UTF-8; anything
 * near it cannot fit a chunk anyway, and it keeps every scratch buffer far
 * below its cap, so that a buffer failure means out of memory. */
#define W_MAX_NAME_TEXT (1u << 20)

ig_err ig_evtx_writer_add(ig_evtx_writer *w, const ig_evtx_event *ev)
{
    if (w == NULL || ev == NULL || ev->provider == NULL || ev->channel == NULL ||
        ev->computer == NULL || ev->provider[0] == '\0' ||
        (ev->ndata > 0 && (ev->data_names == NULL || ev->data_values == NULL)) ||
        ev->ndata > 0xffffu - W_NSYS)
        return IG_EARG;
    size_t text = strlen(ev->provider);
    for (size_t i = 0; i < ev->ndata && text <= W_MAX_NAME_TEXT; i++)
        text += ev->data_names[i] ? strlen(ev->data_names[i]) : 0;
    if (text > W_MAX_NAME_TEXT)
        return IG_EARG;
    ig_err err = build_values(w, ev);
    if (err != IG_OK)
        return err;
    if (w->nchunks > 0) {
        chunk_state *cs = &w->cur;
        uint32_t nn = cs->nnames, nt = cs->ntpls;
        size_t nk = cs->keys.len;
        err = encode_record(w, cs, chunk_ptr(w, w->nchunks - 1u), ev);
        if (err == IG_OK && w->rec.len <= IG_EVTX_CHUNK_SIZE - cs->free_off) {
            commit(w);
            return IG_OK;
        }
        cs->nnames = nn; /* forget what the attempt defined */
        cs->ntpls = nt;
        cs->keys.len = nk;
        cs->keys.failed = false;
        if (err != IG_OK)
            return err;
    }
    /* a new chunk: encode for it first, so that a failure changes nothing */
    if (w->nchunks >= W_MAX_CHUNKS)
        return IG_ELIMIT;
    cs_clear(&w->fresh);
    err = encode_record(w, &w->fresh, NULL, ev);
    if (err != IG_OK)
        return err;
    if (w->rec.len > IG_EVTX_CHUNK_SIZE - IG_EVTX_CHUNK_HEADER_SIZE)
        return IG_EARG; /* does not fit even an empty chunk */
    if (ig_buf_reserve(&w->img, IG_EVTX_CHUNK_SIZE) != IG_OK)
        return IG_ENOMEM;
    if (w->nchunks > 0)
        chunk_seal(w, w->nchunks - 1u, &w->cur);
    memset(w->img.data + w->img.len, 0, IG_EVTX_CHUNK_SIZE);
    w->img.len += IG_EVTX_CHUNK_SIZE;
    w->nchunks++;
    chunk_state t = w->cur;
    w->cur = w->fresh;
    w->fresh = t;
    commit(w);
    return IG_OK;
}

uint64_t ig_evtx_writer_count(const ig_evtx_writer *w)
{
    return w ? w->next_id - 1u : 0u;
}

ig_err ig_evtx_writer_finish(ig_evtx_writer *w, const uint8_t **out, size_t *len)
{
    if (w == NULL || out == NULL || len == NULL)
        return IG_EARG;
    if (w->nchunks > 0)
        chunk_seal(w, w->nchunks - 1u, &w->cur);
    file_header(w);
    *out = w->img.data;
    *len = w->img.len;
    return IG_OK;
}

ig_err ig_evtx_writer_save(ig_evtx_writer *w, const char *path)
{
    const uint8_t *p;
    size_t n;
    if (path == NULL)
        return IG_EARG;
    ig_err err = ig_evtx_writer_finish(w, &p, &n);
    if (err != IG_OK)
        return err;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return IG_EIO;
    bool ok = fwrite(p, 1, n, f) == n;
    if (fclose(f) != 0)
        ok = false;
    return ok ? IG_OK : IG_EIO;
}

void ig_evtx_writer_destroy(ig_evtx_writer *w)
{
    if (w == NULL)
        return;
    ig_buf_free(&w->img);
    ig_buf_free(&w->rec);
    ig_buf_free(&w->vdesc);
    ig_buf_free(&w->vdata);
    ig_buf_free(&w->key);
    ig_buf_free(&w->u16);
    cs_free(&w->cur);
    cs_free(&w->fresh);
    ig_free(w);
}
