/* Binary XML tokens → node trees (libevtx format notes §5 "Binary XML").
 *
 * Templates compile once per chunk and are shared across chunks through the
 * per-thread cache (tcache.c).  Record bodies that carry elements directly
 * ("template-less" records) and Binary XML substitution values (type 0x21)
 * are parsed with the same code into the record arena. */
#include <string.h>

#include "core/limits.h"
#include "core/rd.h"
#include "core/utf16.h"
#include "formats/evtx/evtx_int.h"
#include "formats/evtx/tcache.h"

/* Token values (libevtx notes §5 "Token types"); 0x40 = "more" flag. */
enum {
    TOK_EOF = 0x00,
    TOK_OPEN = 0x01,
    TOK_CLOSE_START = 0x02,
    TOK_CLOSE_EMPTY = 0x03,
    TOK_END = 0x04,
    TOK_VALUE = 0x05,
    TOK_ATTR = 0x06,
    TOK_CDATA = 0x07,
    TOK_CHARREF = 0x08,
    TOK_ENTREF = 0x09,
    TOK_PI_TARGET = 0x0a,
    TOK_PI_DATA = 0x0b,
    TOK_TEMPLATE = 0x0c,
    TOK_SUBST = 0x0d,
    TOK_OSUBST = 0x0e,
    TOK_FRAGMENT = 0x0f
};

/* What is being parsed decides where allocations go and how names behave. */
typedef struct parse {
    bx_ctx *ctx;
    ig_rd rd; /* base = chunk; pos/len are chunk offsets */
    ig_arena *arena;
    uint32_t lo; /* template bytes start (for chunk_local detection) */
    bool in_template;
    bool chunk_local; /* set when the template holds values of this chunk */
    bx_extname *ext;  /* names outside [lo, rd.len), in the template's arena */
    uint32_t next, cap_ext;
    uint16_t max_sid;
} parse;

static bool fail(parse *ps, const char *what)
{
    if (ps->ctx->err == NULL) {
        ps->ctx->err = what;
        ps->ctx->err_off = (uint32_t)ps->rd.pos;
    }
    return false;
}

static bx_node *new_node(parse *ps, bx_kind kind)
{
    bx_node *n = ig_arena_alloc(ps->arena, sizeof(*n));
    if (n == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    return n;
}

/* UTF-16LE → UTF-8 copy in the arena. */
static bool utf16_dup(parse *ps, const uint8_t *p, size_t nchars, const char **out,
                      uint32_t *outlen)
{
    /* fast path: ASCII only */
    char *s = ig_arena_alloc(ps->arena, nchars * 3 + 1);
    if (s == NULL)
        return fail(ps, "out of memory");
    size_t k = 0, i = 0;
    for (; i < nchars; i++) {
        uint16_t c = ig_le16(p + 2 * i);
        if (c >= 0x80 || c == 0)
            break;
        s[k++] = (char)c;
    }
    if (i < nchars) {
        ig_buf b;
        ig_buf_init(&b, nchars * 6 + 16);
        if (!ig_utf16le_append(&b, p + 2 * i, nchars - i, IG_ESC_NONE)) {
            ig_buf_free(&b);
            return fail(ps, "out of memory");
        }
        char *t = ig_arena_alloc(ps->arena, k + b.len + 1);
        if (t == NULL) {
            ig_buf_free(&b);
            return fail(ps, "out of memory");
        }
        memcpy(t, s, k);
        if (b.len)
            memcpy(t + k, b.data, b.len);
        k += b.len;
        ig_buf_free(&b);
        s = t;
    }
    s[k] = '\0';
    *out = s;
    *outlen = (uint32_t)k;
    return true;
}

/* A name structure (§5 "Name"): next offset(4), hash(2), nchars(2), UTF-16,
 * NUL(2).  `off` is a chunk offset. */
static bool name_at(parse *ps, uint32_t off, const char **out, uint32_t *outlen,
                    uint32_t *struct_len)
{
    bx_ctx *ctx = ps->ctx;
    ig_rd r = ig_rd_make(ctx->chunk, ctx->chunk_len);
    r.pos = off;
    uint16_t nchars;
    const uint8_t *chars;
    if (!ig_rd_skip(&r, 6) || !ig_rd_u16le(&r, &nchars) ||
        !ig_rd_bytes(&r, (size_t)nchars * 2, &chars) || !ig_rd_skip(&r, 2))
        return fail(ps, "name outside the chunk");
    *struct_len = (uint32_t)(r.pos - off);
    if (ps->in_template) /* the template outlives the chunk: own copy */
        return utf16_dup(ps, chars, nchars, out, outlen);
    /* names are cached per chunk by offset */
    const char *cached;
    uint32_t clen;
    if (tmap_name_get(ctx, off, &cached, &clen)) {
        *out = cached;
        *outlen = clen;
        return true;
    }
    ig_arena *saved = ps->arena;
    ps->arena = ctx->chunk_arena;
    bool ok = utf16_dup(ps, chars, nchars, out, outlen);
    ps->arena = saved;
    if (!ok)
        return false;
    tmap_name_put(ctx, off, *out, *outlen);
    return true;
}

/* Records a name outside the template's bytes (its raw UTF-16) so that the
 * template is reused in another chunk only where that name is the same. */
static bool remember_ext(parse *ps, uint32_t off, uint32_t slen)
{
    for (uint32_t i = 0; i < ps->next; i++)
        if (ps->ext[i].off == off)
            return true;
    if (ps->next == ps->cap_ext) {
        uint32_t cap = ps->cap_ext ? ps->cap_ext * 2 : 8;
        bx_extname *v = ig_arena_alloc(ps->arena, sizeof(*v) * cap);
        if (v == NULL)
            return fail(ps, "out of memory");
        if (ps->next)
            memcpy(v, ps->ext, sizeof(*v) * ps->next);
        ps->ext = v;
        ps->cap_ext = cap;
    }
    uint32_t nbytes = slen - 10; /* next(4) hash(2) count(2) ... NUL(2) */
    const uint8_t *copy = ig_arena_dup(ps->arena, ps->ctx->chunk + off + 8, nbytes);
    if (copy == NULL)
        return fail(ps, "out of memory");
    ps->ext[ps->next++] = (bx_extname){off, nbytes, copy};
    return true;
}

/* Reads a name reference at the cursor: the name is inline when its offset
 * equals the cursor's, else it was stored earlier in the chunk. */
static bool read_name(parse *ps, const char **out, uint32_t *outlen)
{
    uint32_t off;
    if (!ig_rd_u32le(&ps->rd, &off))
        return fail(ps, "truncated name offset");
    uint32_t slen;
    if (off == ps->rd.pos) {
        if (!name_at(ps, off, out, outlen, &slen))
            return false;
        if (!ig_rd_skip(&ps->rd, slen))
            return fail(ps, "inline name past the end");
        return true;
    }
    if (!name_at(ps, off, out, outlen, &slen))
        return false;
    if (ps->in_template && (off < ps->lo || off >= ps->rd.len) && !remember_ext(ps, off, slen))
        return false;
    return true;
}

/* Is there a plausible name structure at chunk offset `off`? */
static bool name_plausible(const bx_ctx *ctx, uint32_t off, uint32_t before)
{
    if (off < IG_EVTX_CHUNK_HEADER_SIZE || off >= before || (uint64_t)off + 10 > ctx->chunk_len)
        return false;
    uint16_t n = ig_le16(ctx->chunk + off + 6);
    uint64_t end = (uint64_t)off + 8 + (uint64_t)n * 2;
    if (n == 0 || end + 2 > ctx->chunk_len)
        return false;
    return ig_le16(ctx->chunk + end) == 0;
}

static bool parse_content(parse *ps, bx_node **head, unsigned depth, bool in_attr);

/* Names and texts that need no escaping are copied as they are. */
static uint8_t is_plain(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c == '&' || c == '<' || c == '>' || c == '\'')
            return 0;
    }
    return 1;
}

/* Value text token (§5 "Value text"): type byte (0x01), nchars, UTF-16. */
static bool parse_value_text(parse *ps, bx_node **out, bx_kind kind)
{
    uint8_t vt = BX_T_STRING;
    uint16_t n;
    const uint8_t *p;
    if (kind == BX_TEXT && !ig_rd_u8(&ps->rd, &vt))
        return fail(ps, "truncated value text");
    if (!ig_rd_u16le(&ps->rd, &n) || !ig_rd_bytes(&ps->rd, (size_t)n * 2, &p))
        return fail(ps, "truncated value text");
    bx_node *t = new_node(ps, kind);
    if (t == NULL)
        return false;
    if (vt == BX_T_STRING || kind != BX_TEXT) {
        if (!utf16_dup(ps, p, n, &t->str, &t->len))
            return false;
        t->plain = is_plain(t->str, t->len);
    } else {
        /* other value types in a value token are not written by Windows;
         * keep the bytes as text of their ANSI reading */
        t->str = ig_arena_dup(ps->arena, p, (size_t)n * 2);
        if (t->str == NULL)
            return fail(ps, "out of memory");
        t->len = (uint32_t)n * 2;
    }
    *out = t;
    return true;
}

static bool parse_subst(parse *ps, bx_node **out, bool optional)
{
    uint16_t sid;
    uint8_t vt;
    if (!ig_rd_u16le(&ps->rd, &sid) || !ig_rd_u8(&ps->rd, &vt))
        return fail(ps, "truncated substitution");
    bx_node *s = new_node(ps, BX_SUBST);
    if (s == NULL)
        return false;
    s->sid = sid;
    s->vtype = vt;
    s->optional = optional;
    if (sid >= ps->max_sid)
        ps->max_sid = (uint16_t)(sid + 1u < 0xffffu ? sid + 1u : 0xffffu);
    *out = s;
    return true;
}

/* Element start (§5 "Element start").  The dependency identifier is absent
 * in some records (MS-EVEN6: element starts used in substitutions; seen in
 * forwarded-event samples with inline values), so its presence is decided
 * by where the name offset points. */
static bool parse_element(parse *ps, uint8_t tok, bx_node **out, unsigned depth)
{
    if (depth >= IG_MAX_XML_DEPTH)
        return fail(ps, "elements nested too deeply");
    size_t t = ps->rd.pos; /* just after the token byte */
    const uint8_t *c = ps->ctx->chunk;
    bool has_dep = true;
    if (ig_rd_can(&ps->rd, 10)) {
        uint32_t with_dep = ig_le32(c + t + 6);
        uint32_t without = ig_le32(c + t + 4);
        if (with_dep == t + 10)
            has_dep = true;
        else if (without == t + 8)
            has_dep = false;
        else if (name_plausible(ps->ctx, with_dep, (uint32_t)t))
            has_dep = true;
        else if (name_plausible(ps->ctx, without, (uint32_t)t))
            has_dep = false;
    }
    if (has_dep && !ig_rd_skip(&ps->rd, 2))
        return fail(ps, "truncated element start");
    uint32_t data_size;
    if (!ig_rd_u32le(&ps->rd, &data_size))
        return fail(ps, "truncated element start");
    bx_node *e = new_node(ps, BX_ELEM);
    if (e == NULL || !read_name(ps, &e->str, &e->len))
        return false;
    e->plain = is_plain(e->str, e->len);
    if (tok & 0x40) {
        uint32_t attr_size;
        if (!ig_rd_u32le(&ps->rd, &attr_size))
            return fail(ps, "truncated attribute list");
    }
    /* attributes, then close-start or close-empty */
    bx_node **atail = &e->attrs;
    bx_node *cur_attr = NULL;
    for (;;) {
        uint8_t k;
        if (!ig_rd_u8(&ps->rd, &k))
            return fail(ps, "element start not closed");
        if (++ps->ctx->tokens > IG_MAX_BINXML_TOKENS)
            return fail(ps, "too many tokens");
        if ((k & ~0x40) == TOK_ATTR) {
            bx_node *a = new_node(ps, BX_ATTR);
            if (a == NULL || !read_name(ps, &a->str, &a->len))
                return false;
            a->plain = is_plain(a->str, a->len);
            *atail = a;
            atail = &a->next;
            cur_attr = a;
            continue;
        }
        if (k == TOK_CLOSE_START) {
            if (!parse_content(ps, &e->kids, depth + 1, false))
                return false;
            break;
        }
        if (k == TOK_CLOSE_EMPTY)
            break;
        if (cur_attr == NULL)
            return fail(ps, "unexpected token in element start");
        /* a value part of the current attribute */
        ps->rd.pos--;
        bx_node **vt = &cur_attr->kids;
        while (*vt != NULL)
            vt = &(*vt)->next;
        if (!parse_content(ps, vt, depth + 1, true))
            return false;
    }
    *out = e;
    return true;
}

static bool parse_template_instance(parse *ps, bx_node **out, unsigned depth);

/* Content of an element (until its end token), or the value parts of an
 * attribute (until the next non-value token, which is left unread). */
static bool parse_content(parse *ps, bx_node **head, unsigned depth, bool in_attr)
{
    bx_node **tail = head;
    while (*tail != NULL)
        tail = &(*tail)->next;
    for (;;) {
        uint8_t k;
        size_t at = ps->rd.pos;
        if (!ig_rd_u8(&ps->rd, &k))
            return fail(ps, "element not closed");
        if (++ps->ctx->tokens > IG_MAX_BINXML_TOKENS)
            return fail(ps, "too many tokens");
        bx_node *n = NULL;
        bool value_part = true;
        switch (k) {
        case TOK_VALUE:
        case TOK_VALUE | 0x40:
            if (!parse_value_text(ps, &n, BX_TEXT))
                return false;
            break;
        case TOK_SUBST:
        case TOK_OSUBST:
            if (!parse_subst(ps, &n, k == TOK_OSUBST))
                return false;
            break;
        case TOK_CHARREF:
        case TOK_CHARREF | 0x40: {
            uint16_t v;
            if (!ig_rd_u16le(&ps->rd, &v))
                return fail(ps, "truncated character reference");
            if ((n = new_node(ps, BX_CHARREF)) == NULL)
                return false;
            n->sid = v;
            break;
        }
        case TOK_ENTREF:
        case TOK_ENTREF | 0x40:
            if ((n = new_node(ps, BX_ENTREF)) == NULL || !read_name(ps, &n->str, &n->len))
                return false;
            break;
        default: value_part = false; break;
        }
        if (value_part) {
            *tail = n;
            tail = &n->next;
            continue;
        }
        if (in_attr) {
            ps->rd.pos = at; /* not ours */
            return true;
        }
        switch (k) {
        case TOK_END: return true;
        case TOK_OPEN:
        case TOK_OPEN | 0x40:
            if (!parse_element(ps, k, &n, depth))
                return false;
            break;
        case TOK_CDATA:
        case TOK_CDATA | 0x40:
            if (!parse_value_text(ps, &n, BX_CDATA))
                return false;
            break;
        case TOK_PI_TARGET: {
            if ((n = new_node(ps, BX_PI)) == NULL || !read_name(ps, &n->str, &n->len))
                return false;
            uint8_t d;
            if (ig_rd_can(&ps->rd, 1) && ps->ctx->chunk[ps->rd.pos] == TOK_PI_DATA) {
                bx_node *tmp;
                ig_rd_u8(&ps->rd, &d);
                if (!parse_value_text(ps, &tmp, BX_CDATA))
                    return false;
                n->str2 = tmp->str;
                n->len2 = tmp->len;
            }
            break;
        }
        case TOK_TEMPLATE:
            if (!parse_template_instance(ps, &n, depth))
                return false;
            break;
        case TOK_EOF: return fail(ps, "end of data inside an element");
        default: return fail(ps, "unknown token");
        }
        *tail = n;
        tail = &n->next;
    }
}

/* A fragment: optional fragment header, then one element or template
 * instance, then EOF (which may be missing at the very end of the data). */
static bool parse_fragment(parse *ps, bx_node **head, unsigned depth)
{
    bx_node **tail = head;
    for (;;) {
        uint8_t k;
        if (!ig_rd_u8(&ps->rd, &k))
            return true; /* end of data */
        if (++ps->ctx->tokens > IG_MAX_BINXML_TOKENS)
            return fail(ps, "too many tokens");
        bx_node *n = NULL;
        switch (k) {
        case TOK_EOF: return true;
        case TOK_FRAGMENT:
            if (!ig_rd_skip(&ps->rd, 3))
                return fail(ps, "truncated fragment header");
            continue;
        case TOK_OPEN:
        case TOK_OPEN | 0x40:
            if (!parse_element(ps, k, &n, depth))
                return false;
            break;
        case TOK_TEMPLATE:
            if (!parse_template_instance(ps, &n, depth))
                return false;
            break;
        case TOK_PI_TARGET:
        case TOK_VALUE:
        case TOK_VALUE | 0x40:
        case TOK_SUBST:
        case TOK_OSUBST:
        case TOK_CHARREF:
        case TOK_CHARREF | 0x40:
        case TOK_ENTREF:
        case TOK_ENTREF | 0x40:
        case TOK_CDATA:
        case TOK_CDATA | 0x40:
            /* top-level text (seen in 0x21 values): parse as content parts */
            ps->rd.pos--;
            if (!parse_content(ps, tail, depth, true))
                return false;
            while (*tail != NULL)
                tail = &(*tail)->next;
            if (ps->rd.pos < ps->rd.len && ps->ctx->chunk[ps->rd.pos] == k && k == TOK_PI_TARGET) {
                ps->rd.pos++;
                if ((n = new_node(ps, BX_PI)) == NULL || !read_name(ps, &n->str, &n->len))
                    return false;
                break;
            }
            continue;
        default: return fail(ps, "unknown token at fragment level");
        }
        *tail = n;
        tail = &n->next;
    }
}

/* Compiles the template whose definition header is at chunk offset `off`
 * (next offset(4), GUID(16), data size(4), data). */
static const bx_template *template_at(parse *ps, uint32_t off)
{
    bx_ctx *ctx = ps->ctx;
    const bx_template *t = tmap_get(ctx, off);
    if (t != NULL)
        return t;
    ig_rd r = ig_rd_make(ctx->chunk, ctx->chunk_len);
    r.pos = off;
    const uint8_t *guid;
    uint32_t size;
    if (!ig_rd_skip(&r, 4) || !ig_rd_bytes(&r, 16, &guid) || !ig_rd_u32le(&r, &size) ||
        !ig_rd_can(&r, size)) {
        fail(ps, "template definition outside the chunk");
        return NULL;
    }
    if (ctx->nesting >= IG_MAX_TEMPLATE_NESTING) {
        fail(ps, "templates nested too deeply");
        return NULL;
    }
    uint32_t data_off = (uint32_t)r.pos;
    t = tcache_get(ctx, guid, ctx->chunk + data_off, size);
    if (t != NULL) {
        ctx->templates_reused++;
        tmap_put(ctx, off, t);
        return t;
    }
    /* compile into the cache's arena unless it turns out chunk-local */
    parse sub = {
        ctx, ig_rd_make(ctx->chunk, data_off + size), NULL, data_off, true, false, NULL, 0, 0, 0};
    sub.rd.pos = data_off;
    ig_arena scratch;
    ig_arena_init_block(&scratch, 0, 4096);
    sub.arena = &scratch;
    bx_node *root = NULL;
    ctx->nesting++;
    bool ok = parse_fragment(&sub, &root, 0);
    ctx->nesting--;
    if (!ok) {
        ig_arena_destroy(&scratch);
        return NULL;
    }
    bx_template tpl;
    memset(&tpl, 0, sizeof(tpl));
    memcpy(tpl.guid, guid, 16);
    tpl.root = root;
    tpl.data_size = size;
    tpl.chunk_off = off;
    tpl.chunk_local = sub.chunk_local;
    tpl.ext = sub.ext;
    tpl.next_ext = sub.next;
    tpl.max_sid = sub.max_sid;
    t = tcache_adopt(ctx, &tpl, &scratch, ctx->chunk + data_off, size);
    if (t == NULL) {
        ig_arena_destroy(&scratch);
        fail(ps, "out of memory");
        return NULL;
    }
    ctx->templates_compiled++;
    tmap_put(ctx, off, t);
    return t;
}

/* Parses a 0x21 (Binary XML) value's bytes into a tree. */
static bool parse_binxml_value(parse *ps, bx_value *v, unsigned depth)
{
    uint32_t off = (uint32_t)(v->p - ps->ctx->chunk);
    parse sub = *ps;
    sub.rd = ig_rd_make(ps->ctx->chunk, off + v->len);
    sub.rd.pos = off;
    sub.in_template = false;
    bx_node *root = NULL;
    if (!parse_fragment(&sub, &root, depth + 1))
        return false;
    v->tree = root;
    return true;
}

/* Template instance (§5): unknown(1), template id(4), definition offset(4),
 * [inline definition], then instance data: count(4), descriptors(4 each:
 * size u16, type u8, pad u8), values. */
static bool parse_template_instance(parse *ps, bx_node **out, unsigned depth)
{
    bx_ctx *ctx = ps->ctx;
    uint32_t def_off;
    if (ps->in_template)
        ps->chunk_local = true; /* its values are bytes of this chunk */
    if (!ig_rd_skip(&ps->rd, 5) || !ig_rd_u32le(&ps->rd, &def_off))
        return fail(ps, "truncated template instance");
    const bx_template *t = template_at(ps, def_off);
    if (t == NULL)
        return false;
    if (def_off == ps->rd.pos) {
        /* definition inline: skip its header and data */
        if (!ig_rd_skip(&ps->rd, 24 + (size_t)t->data_size))
            return fail(ps, "truncated template definition");
    }
    uint32_t n;
    if (!ig_rd_u32le(&ps->rd, &n))
        return fail(ps, "truncated template values");
    if (n > IG_MAX_TEMPLATE_VALUES || !ig_rd_can(&ps->rd, (size_t)n * 4))
        return fail(ps, "template value count out of range");
    bx_value *vals = ig_arena_alloc(ps->arena, sizeof(*vals) * (n ? n : 1));
    if (vals == NULL)
        return fail(ps, "out of memory");
    const uint8_t *desc = ctx->chunk + ps->rd.pos;
    ps->rd.pos += (size_t)n * 4;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t size = ig_le16(desc + 4 * i);
        vals[i].type = desc[4 * i + 2];
        vals[i].len = size;
        vals[i].tree = NULL;
        if (!ig_rd_bytes(&ps->rd, size, &vals[i].p))
            return fail(ps, "template value past the end of the record");
    }
    for (uint32_t i = 0; i < n; i++) {
        if (vals[i].type == BX_T_BINXML && vals[i].len > 0) {
            if (depth >= IG_MAX_TEMPLATE_NESTING * 4 || ctx->nesting >= IG_MAX_TEMPLATE_NESTING)
                return fail(ps, "Binary XML values nested too deeply");
            ctx->nesting++;
            bool ok = parse_binxml_value(ps, &vals[i], depth);
            ctx->nesting--;
            if (!ok)
                return false;
        }
    }
    bx_node *ti = new_node(ps, BX_TINST);
    if (ti == NULL)
        return false;
    ti->tpl = t;
    ti->vals = vals;
    ti->nvals = n;
    *out = ti;
    return true;
}

bx_node *bx_parse_record(bx_ctx *ctx, uint32_t off, uint32_t end)
{
    parse ps = {ctx, ig_rd_make(ctx->chunk, end), ctx->record_arena, off, false, false, NULL, 0, 0,
                0};
    ps.rd.pos = off;
    ctx->err = NULL;
    ctx->tokens = 0;
    ctx->nesting = 0;
    bx_node *root = NULL;
    if (!parse_fragment(&ps, &root, 0))
        return NULL;
    if (root == NULL) {
        fail(&ps, "record has no content");
        return NULL;
    }
    return root;
}
