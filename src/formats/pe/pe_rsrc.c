/* The version resource (RT_VERSION): the resource directory tree down to
 * its first data entry, then VS_VERSIONINFO → StringFileInfo → StringTable
 * → String blocks, whose keys and values (UTF-16LE) become strings such as
 * CompanyName and OriginalFilename.  Bounded like the rest: entries visited
 * are counted, blocks must nest inside their parent. */
#include <string.h>

#include "core/buf.h"
#include "core/rd.h"
#include "core/utf16.h"
#include "formats/pe/pe_int.h"

#define RT_VERSION  16u
#define MAX_STRINGS 64u

typedef struct vs {
    pe_ctx *c;
    ig_pe_string *out;
    size_t n;
    unsigned visited;
} vs;

/* UTF-16LE text of at most `max` units at `p`, up to a NUL, as UTF-8 in the
 * arena; its length in units (with the NUL) goes to *units. */
static const char *utf16z(pe_ctx *c, const uint8_t *p, size_t max, size_t *units)
{
    size_t n = 0;
    while (n < max && (p[2 * n] | p[2 * n + 1]) != 0)
        n++;
    *units = n < max ? n + 1 : n;
    ig_buf b;
    ig_buf_init(&b, 4 * IG_MAX_PE_NAME);
    const char *s = NULL;
    if (ig_utf16le_append(&b, p, n < IG_MAX_PE_NAME ? n : IG_MAX_PE_NAME, IG_ESC_NONE) &&
        ig_buf_putc(&b, 0))
        s = ig_arena_dup(&c->arena, b.data, b.len);
    ig_buf_free(&b);
    if (s == NULL)
        c->oom = true;
    return s;
}

/* One block at [off, end) of the version data d[0, len); depth 0 is
 * VS_VERSIONINFO, 1 StringFileInfo, 2 StringTable, 3 String. */
static void block(vs *v, const uint8_t *d, size_t len, size_t off, size_t end, int depth)
{
    while (off + 6 <= end && v->visited++ < IG_MAX_PE_RSRC_ENTRIES) {
        size_t blen = ig_le16(d + off), vlen = ig_le16(d + off + 2);
        uint16_t type = ig_le16(d + off + 4);
        if (blen < 6 || blen > end - off)
            return; /* a block that does not fit ends the list */
        size_t bend = off + blen, kunits;
        const char *key = utf16z(v->c, d + off + 6, (bend - off - 6) / 2, &kunits);
        if (key == NULL)
            return;
        size_t val = (off + 6 + 2 * kunits + 3) & ~(size_t)3;
        if (depth == 3) {
            /* a String: its value is vlen UTF-16 units (text type) */
            size_t units = type == 1 ? vlen : vlen / 2;
            if (val <= bend && units <= (bend - val) / 2 && v->n < MAX_STRINGS) {
                size_t u;
                const char *value = utf16z(v->c, d + val, units, &u);
                if (value != NULL)
                    v->out[v->n++] = (ig_pe_string){key, value};
            }
        } else {
            size_t kids = val + (depth == 0 ? vlen : 0);
            kids = (kids + 3) & ~(size_t)3;
            bool wanted =
                depth == 0 || (depth == 1 && strcmp(key, "StringFileInfo") == 0) || depth == 2;
            if (wanted && kids < bend)
                block(v, d, len, kids, bend, depth + 1);
        }
        if (depth == 0)
            return; /* one VS_VERSIONINFO */
        off = (bend + 3) & ~(size_t)3;
    }
}

/* The data entry under resource directory entry `e` of the tree at
 * [root, root + size): follows the first subdirectory entry down. */
static bool first_leaf(pe_ctx *c, size_t root, size_t rsize, uint32_t e, int depth, uint32_t *rva,
                       uint32_t *size)
{
    for (; depth < 3; depth++) {
        if (!(e & 0x80000000u))
            break;
        size_t dir = root + (e & 0x7FFFFFFFu);
        if ((e & 0x7FFFFFFFu) + 16u > rsize || dir + 16 > c->len)
            return false;
        uint32_t n = (uint32_t)ig_le16(c->d + dir + 12) + ig_le16(c->d + dir + 14);
        if (n == 0 || dir + 16 + 8 > c->len)
            return false;
        e = ig_le32(c->d + dir + 16 + 4);
    }
    if (e & 0x80000000u)
        return false;
    if ((uint64_t)e + 16 > rsize || root + e + 16 > c->len)
        return false;
    *rva = ig_le32(c->d + root + e);
    *size = ig_le32(c->d + root + e + 4);
    return true;
}

void pe_read_version(pe_ctx *c)
{
    pe_dir d = c->dirs[PE_DIR_RESOURCE];
    size_t root;
    if (c->ndirs <= PE_DIR_RESOURCE || d.rva == 0)
        return;
    if (!pe_rva_to_off(c, d.rva, 16, &root)) {
        pe_anomaly(c, 0, "resource directory (RVA 0x%x) is not in the file", d.rva);
        return;
    }
    size_t rsize = c->len - root;
    uint32_t n = (uint32_t)ig_le16(c->d + root + 12) + ig_le16(c->d + root + 14);
    if (n > IG_MAX_PE_RSRC_ENTRIES)
        n = IG_MAX_PE_RSRC_ENTRIES;
    for (uint32_t i = 0; i < n; i++) {
        size_t ent = root + 16 + 8 * (size_t)i;
        if (ent + 8 > c->len)
            break;
        if (ig_le32(c->d + ent) != RT_VERSION)
            continue;
        uint32_t rva = 0, size = 0;
        size_t off;
        if (!first_leaf(c, root, rsize, ig_le32(c->d + ent + 4), 0, &rva, &size) ||
            !pe_rva_to_off(c, rva, size, &off)) {
            pe_anomaly(c, ent, "version resource is not readable");
            return;
        }
        vs v = {c, ig_arena_alloc(&c->arena, sizeof(ig_pe_string) * MAX_STRINGS), 0, 0};
        if (v.out == NULL) {
            c->oom = true;
            return;
        }
        block(&v, c->d + off, size, 0, size, 0);
        c->pub.version = v.out;
        c->pub.nversion = v.n;
        return;
    }
}
