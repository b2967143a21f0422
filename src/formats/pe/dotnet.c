/* .NET metadata (ECMA-335 partition II §24): the CLI header → metadata root
 * (BSJB) → streams #~ (tables), #Strings, #Blob → the TypeRef, TypeDef,
 * InterfaceImpl and AssemblyRef tables.  A type is a managed IIS module or
 * handler when it (or a base class defined in the same assembly) implements
 * System.Web.IHttpModule / IHttpHandler / IHttpHandlerFactory /
 * IHttpAsyncHandler through a TypeRef resolved to the AssemblyRef System.Web
 * with Microsoft's public key token b03f5f7f11d50a3a.  A type defined in the
 * assembly itself under those names is an imitation and is reported.
 *
 * Every table row count is clamped and every index checked: the row sizes
 * of all 45 tables are computed from the counts (ECMA-335 §II.22), since
 * the tables are stored one after another. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/rd.h"
#include "formats/pe/pe_int.h"

#define NTABLES      64
#define MAX_ROWS     (1u << 24) /* per table */
#define MAX_BASES    64u        /* base classes followed */
#define MAX_REPORTED 256u

enum {
    T_MODULE = 0x00,
    T_TYPEREF = 0x01,
    T_TYPEDEF = 0x02,
    T_FIELD = 0x04,
    T_METHODDEF = 0x06,
    T_PARAM = 0x08,
    T_INTERFACEIMPL = 0x09,
    T_MEMBERREF = 0x0A,
    T_DECLSECURITY = 0x0E,
    T_STANDALONESIG = 0x11,
    T_EVENT = 0x14,
    T_PROPERTY = 0x17,
    T_MODULEREF = 0x1A,
    T_TYPESPEC = 0x1B,
    T_ASSEMBLY = 0x20,
    T_ASSEMBLYREF = 0x23,
    T_FILE = 0x26,
    T_EXPORTEDTYPE = 0x27,
    T_MANIFESTRESOURCE = 0x28,
    T_GENERICPARAM = 0x2A,
    T_METHODSPEC = 0x2B,
    T_GENERICPARAMCONSTRAINT = 0x2C
};

/* Column kinds: fixed sizes, heap indexes, simple and coded indexes. */
enum {
    C_U8 = 1,
    C_U16,
    C_U32,
    C_STR,
    C_GUID,
    C_BLOB,
    C_IDX, /* + table */
    C_RESSCOPE = 0x40,
    C_TDOR,
    C_HASCONST,
    C_HASCA,
    C_CATYPE,
    C_HASFM,
    C_HASDS,
    C_MRPARENT,
    C_HASSEM,
    C_MDOR,
    C_MFWD,
    C_IMPL,
    C_TOMD
};
#define IDX(t) (0x80 | (t))

/* Columns of tables 0x00..0x2C (0 ends a row). */
static const uint8_t schema[0x2D][10] = {
    [0x00] = {C_U16, C_STR, C_GUID, C_GUID, C_GUID},
    [0x01] = {C_RESSCOPE, C_STR, C_STR},
    [0x02] = {C_U32, C_STR, C_STR, C_TDOR, IDX(T_FIELD), IDX(T_METHODDEF)},
    [0x03] = {IDX(T_FIELD)},
    [0x04] = {C_U16, C_STR, C_BLOB},
    [0x05] = {IDX(T_METHODDEF)},
    [0x06] = {C_U32, C_U16, C_U16, C_STR, C_BLOB, IDX(T_PARAM)},
    [0x07] = {IDX(T_PARAM)},
    [0x08] = {C_U16, C_U16, C_STR},
    [0x09] = {IDX(T_TYPEDEF), C_TDOR},
    [0x0A] = {C_MRPARENT, C_STR, C_BLOB},
    [0x0B] = {C_U16, C_HASCONST, C_BLOB},
    [0x0C] = {C_HASCA, C_CATYPE, C_BLOB},
    [0x0D] = {C_HASFM, C_BLOB},
    [0x0E] = {C_U16, C_HASDS, C_BLOB},
    [0x0F] = {C_U16, C_U32, IDX(T_TYPEDEF)},
    [0x10] = {C_U32, IDX(T_FIELD)},
    [0x11] = {C_BLOB},
    [0x12] = {IDX(T_TYPEDEF), IDX(T_EVENT)},
    [0x13] = {IDX(T_EVENT)},
    [0x14] = {C_U16, C_STR, C_TDOR},
    [0x15] = {IDX(T_TYPEDEF), IDX(T_PROPERTY)},
    [0x16] = {IDX(T_PROPERTY)},
    [0x17] = {C_U16, C_STR, C_BLOB},
    [0x18] = {C_U16, IDX(T_METHODDEF), C_HASSEM},
    [0x19] = {IDX(T_TYPEDEF), C_MDOR, C_MDOR},
    [0x1A] = {C_STR},
    [0x1B] = {C_BLOB},
    [0x1C] = {C_U16, C_MFWD, C_STR, IDX(T_MODULEREF)},
    [0x1D] = {C_U32, IDX(T_FIELD)},
    [0x1E] = {C_U32, C_U32},
    [0x1F] = {C_U32},
    [0x20] = {C_U32, C_U16, C_U16, C_U16, C_U16, C_U32, C_BLOB, C_STR, C_STR},
    [0x21] = {C_U32},
    [0x22] = {C_U32, C_U32, C_U32},
    [0x23] = {C_U16, C_U16, C_U16, C_U16, C_U32, C_BLOB, C_STR, C_STR, C_BLOB},
    [0x24] = {C_U32, IDX(T_ASSEMBLYREF)},
    [0x25] = {C_U32, C_U32, C_U32, IDX(T_ASSEMBLYREF)},
    [0x26] = {C_U32, C_STR, C_BLOB},
    [0x27] = {C_U32, C_U32, C_STR, C_STR, C_IMPL},
    [0x28] = {C_U32, C_U32, C_STR, C_IMPL},
    [0x29] = {IDX(T_TYPEDEF), IDX(T_TYPEDEF)},
    [0x2A] = {C_U16, C_U16, C_TOMD, C_STR},
    [0x2B] = {C_MDOR, C_BLOB},
    [0x2C] = {IDX(T_GENERICPARAM), C_TDOR},
};

/* Coded indexes: tag bits and the tables they point into (0xFF unused). */
static const struct {
    uint8_t bits, n, t[22];
} coded[] = {
    [C_RESSCOPE - C_RESSCOPE] = {2, 4, {T_MODULE, T_MODULEREF, T_ASSEMBLYREF, T_TYPEREF}},
    [C_TDOR - C_RESSCOPE] = {2, 3, {T_TYPEDEF, T_TYPEREF, T_TYPESPEC}},
    [C_HASCONST - C_RESSCOPE] = {2, 3, {T_FIELD, T_PARAM, T_PROPERTY}},
    [C_HASCA - C_RESSCOPE] = {5, 22, {T_METHODDEF,        T_FIELD,        T_TYPEREF,
                                      T_TYPEDEF,          T_PARAM,        T_INTERFACEIMPL,
                                      T_MEMBERREF,        T_MODULE,       T_DECLSECURITY,
                                      T_PROPERTY,         T_EVENT,        T_STANDALONESIG,
                                      T_MODULEREF,        T_TYPESPEC,     T_ASSEMBLY,
                                      T_ASSEMBLYREF,      T_FILE,         T_EXPORTEDTYPE,
                                      T_MANIFESTRESOURCE, T_GENERICPARAM, T_GENERICPARAMCONSTRAINT,
                                      T_METHODSPEC}},
    [C_CATYPE - C_RESSCOPE] = {3, 5, {0xFF, 0xFF, T_METHODDEF, T_MEMBERREF, 0xFF}},
    [C_HASFM - C_RESSCOPE] = {1, 2, {T_FIELD, T_PARAM}},
    [C_HASDS - C_RESSCOPE] = {2, 3, {T_TYPEDEF, T_METHODDEF, T_ASSEMBLY}},
    [C_MRPARENT -
        C_RESSCOPE] = {3, 5, {T_TYPEDEF, T_TYPEREF, T_MODULEREF, T_METHODDEF, T_TYPESPEC}},
    [C_HASSEM - C_RESSCOPE] = {1, 2, {T_EVENT, T_PROPERTY}},
    [C_MDOR - C_RESSCOPE] = {1, 2, {T_METHODDEF, T_MEMBERREF}},
    [C_MFWD - C_RESSCOPE] = {1, 2, {T_FIELD, T_METHODDEF}},
    [C_IMPL - C_RESSCOPE] = {2, 3, {0x26, T_ASSEMBLYREF, T_EXPORTEDTYPE}},
    [C_TOMD - C_RESSCOPE] = {1, 2, {T_TYPEDEF, T_METHODDEF}},
};

typedef struct md {
    pe_ctx *c;
    const uint8_t *tables; /* first row of table 0 */
    size_t tables_len;
    const uint8_t *strings, *blob;
    size_t strings_len, blob_len;
    uint32_t rows[NTABLES];
    uint8_t str_w, guid_w, blob_w;
    uint32_t rowsize[NTABLES];
    size_t table_off[NTABLES];
    uint8_t colw[0x2D][10];
} md;

static uint8_t col_width(const md *m, uint8_t col)
{
    switch (col) {
    case C_U8: return 1;
    case C_U16: return 2;
    case C_U32: return 4;
    case C_STR: return m->str_w;
    case C_GUID: return m->guid_w;
    case C_BLOB: return m->blob_w;
    default: break;
    }
    if (col & 0x80)
        return m->rows[col & 0x3F] < 0x10000 ? 2 : 4;
    const size_t k = (size_t)col - C_RESSCOPE;
    uint32_t max = 0;
    for (uint8_t i = 0; i < coded[k].n; i++)
        if (coded[k].t[i] != 0xFF && m->rows[coded[k].t[i]] > max)
            max = m->rows[coded[k].t[i]];
    return max < (1u << (16 - coded[k].bits)) ? 2 : 4;
}

/* Column `col` (0-based) of row `row` (1-based) of table `t`; 0 when out of range. */
static uint32_t cell(const md *m, unsigned t, uint32_t row, unsigned col)
{
    if (row == 0 || row > m->rows[t])
        return 0;
    size_t off = m->table_off[t] + (size_t)(row - 1) * m->rowsize[t];
    for (unsigned k = 0; k < col; k++)
        off += m->colw[t][k];
    unsigned w = m->colw[t][col];
    if (off + w > m->tables_len)
        return 0;
    const uint8_t *p = m->tables + off;
    return w == 1 ? p[0] : w == 2 ? ig_le16(p) : ig_le32(p);
}

/* A #Strings entry as a NUL-terminated string in the file, or "". */
static const char *str(const md *m, uint32_t idx)
{
    if (idx >= m->strings_len || memchr(m->strings + idx, 0, m->strings_len - idx) == NULL)
        return "";
    return (const char *)m->strings + idx;
}

/* A #Blob entry: compressed length, then bytes. */
static bool blob(const md *m, uint32_t idx, const uint8_t **p, size_t *n)
{
    if (idx >= m->blob_len)
        return false;
    const uint8_t *b = m->blob + idx;
    size_t left = m->blob_len - idx, len, hl;
    if ((b[0] & 0x80) == 0) {
        len = b[0] & 0x7F;
        hl = 1;
    } else if ((b[0] & 0xC0) == 0x80 && left >= 2) {
        len = (size_t)(b[0] & 0x3F) << 8 | b[1];
        hl = 2;
    } else if ((b[0] & 0xE0) == 0xC0 && left >= 4) {
        len = (size_t)(b[0] & 0x1F) << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        hl = 4;
    } else {
        return false;
    }
    if (len > left - hl)
        return false;
    *p = b + hl;
    *n = len;
    return true;
}

/* True when AssemblyRef `row` is System.Web with Microsoft's key token. */
static bool is_system_web(const md *m, uint32_t row)
{
    static const uint8_t token[8] = {0xb0, 0x3f, 0x5f, 0x7f, 0x11, 0xd5, 0x0a, 0x3a};
    if (strcmp(str(m, cell(m, T_ASSEMBLYREF, row, 6)), "System.Web") != 0)
        return false;
    const uint8_t *k;
    size_t n;
    if (!blob(m, cell(m, T_ASSEMBLYREF, row, 5), &k, &n))
        return false;
    if (n == 8)
        return memcmp(k, token, 8) == 0;
    if ((cell(m, T_ASSEMBLYREF, row, 4) & 1) && n > 0) {
        /* a full public key: the token is the last 8 bytes of its SHA-1, reversed */
        uint8_t h[EVP_MAX_MD_SIZE];
        unsigned hl = 0;
        if (!EVP_Digest(k, n, h, &hl, EVP_sha1(), NULL) || hl != 20)
            return false;
        for (int i = 0; i < 8; i++)
            if (h[19 - i] != token[i])
                return false;
        return true;
    }
    return false;
}

static const char *const web_ifaces[] = {"IHttpModule", "IHttpHandler", "IHttpHandlerFactory",
                                         "IHttpAsyncHandler"};

/* Which System.Web interface TypeRef `row` is (0-3), or -1. */
static int web_typeref(const md *m, uint32_t row)
{
    if (strcmp(str(m, cell(m, T_TYPEREF, row, 2)), "System.Web") != 0)
        return -1;
    const char *name = str(m, cell(m, T_TYPEREF, row, 1));
    for (int i = 0; i < 4; i++)
        if (strcmp(name, web_ifaces[i]) == 0) {
            uint32_t scope = cell(m, T_TYPEREF, row, 0);
            if ((scope & 3) == 2 && is_system_web(m, scope >> 2))
                return i;
            return -2 - i; /* the right name, from another assembly */
        }
    return -1;
}

static bool read_tables(md *m, const uint8_t *s, size_t n)
{
    if (n < 24)
        return false;
    uint8_t heaps = s[6];
    uint64_t valid = ig_le64(s + 8);
    m->str_w = heaps & 1 ? 4 : 2;
    m->guid_w = heaps & 2 ? 4 : 2;
    m->blob_w = heaps & 4 ? 4 : 2;
    size_t off = 24;
    for (unsigned t = 0; t < NTABLES; t++) {
        if (!((valid >> t) & 1))
            continue;
        if (off + 4 > n)
            return false;
        m->rows[t] = ig_le32(s + off);
        off += 4;
        if (t >= 0x2D) {
            pe_anomaly(m->c, 0, ".NET metadata names an unknown table 0x%x", t);
            return false;
        }
        if (m->rows[t] > MAX_ROWS) {
            pe_anomaly(m->c, 0, ".NET metadata table 0x%x claims %u rows", t, m->rows[t]);
            return false;
        }
    }
    if (heaps & 0x40) /* EXTRA_DATA: 4 more bytes after the row counts */
        off += 4;
    if (off > n)
        return false;
    m->tables = s + off;
    m->tables_len = n - off;
    size_t at = 0;
    for (unsigned t = 0; t < 0x2D; t++) {
        uint32_t rs = 0;
        for (unsigned k = 0; k < 10 && schema[t][k]; k++)
            rs += m->colw[t][k] = col_width(m, schema[t][k]);
        m->rowsize[t] = rs;
        m->table_off[t] = at;
        at += (size_t)rs * m->rows[t];
    }
    if (at > m->tables_len) {
        pe_anomaly(m->c, 0, ".NET metadata tables run past their stream (%zu of %zu bytes)", at,
                   m->tables_len);
        return false;
    }
    return true;
}

static bool add_type(pe_ctx *c, const md *m, uint32_t td, int iface, const char *via)
{
    if (c->pub.nmanaged >= MAX_REPORTED)
        return false;
    const char *ns = str(m, cell(m, T_TYPEDEF, td, 2)), *name = str(m, cell(m, T_TYPEDEF, td, 1));
    size_t n = strlen(ns) + strlen(name) + 2;
    char *full = ig_arena_alloc(&c->arena, n);
    if (full == NULL) {
        c->oom = true;
        return false;
    }
    snprintf(full, n, "%s%s%s", ns, ns[0] ? "." : "", name);
    ig_pe_managed *v = &c->managed[c->pub.nmanaged++];
    v->type = pe_text(c, (const uint8_t *)full, strlen(full));
    v->iface = web_ifaces[iface];
    v->via = via ? pe_text(c, (const uint8_t *)via, strlen(via)) : NULL; /* not the file's */
    v->abstract = (cell(m, T_TYPEDEF, td, 0) & 0x80) != 0;
    return true;
}

void pe_read_dotnet(pe_ctx *c)
{
    size_t off;
    if (!c->pub.clr || !pe_rva_to_off(c, c->dirs[PE_DIR_CLR].rva, 72, &off))
        return;
    uint32_t md_rva = ig_le32(c->d + off + 8), md_size = ig_le32(c->d + off + 12);
    size_t root;
    if (md_size < 32 || !pe_rva_to_off(c, md_rva, md_size, &root)) {
        pe_anomaly(c, off + 8, ".NET metadata (RVA 0x%x, %u bytes) is not in the file", md_rva,
                   md_size);
        return;
    }
    const uint8_t *r = c->d + root;
    if (ig_le32(r) != 0x424A5342) {
        pe_anomaly(c, root, ".NET metadata root has no BSJB signature");
        return;
    }
    uint32_t vlen = ig_le32(r + 12);
    if (vlen > md_size - 20 || vlen > 255) {
        pe_anomaly(c, root + 12, ".NET metadata version string length %u is out of range", vlen);
        return;
    }
    size_t vl = 0;
    while (vl < vlen && r[16 + vl])
        vl++;
    c->pub.clr_version = pe_text(c, r + 16, vl);
    size_t p = 16 + ((vlen + 3) & ~3u);
    if (p + 4 > md_size)
        return;
    uint16_t nstreams = ig_le16(r + p + 2);
    p += 4;
    md m;
    memset(&m, 0, sizeof(m));
    m.c = c;
    const uint8_t *tables = NULL;
    size_t tables_len = 0;
    for (uint16_t i = 0; i < nstreams && i < 16; i++) {
        if (p + 8 > md_size)
            break;
        uint32_t so = ig_le32(r + p), sz = ig_le32(r + p + 4);
        const uint8_t *name = r + p + 8;
        size_t nmax = md_size - p - 8 < 32 ? md_size - p - 8 : 32;
        const uint8_t *z = memchr(name, 0, nmax);
        if (z == NULL)
            break;
        size_t nl = (size_t)(z - name);
        p += 8 + ((nl + 4) & ~(size_t)3);
        if (so > md_size || sz > md_size - so) {
            pe_anomaly(c, root + p, ".NET metadata stream %.*s lies outside the metadata", (int)nl,
                       (const char *)name);
            continue;
        }
        if ((nl == 2 && memcmp(name, "#~", 2) == 0) || (nl == 2 && memcmp(name, "#-", 2) == 0)) {
            tables = r + so;
            tables_len = sz;
        } else if (nl == 8 && memcmp(name, "#Strings", 8) == 0) {
            m.strings = r + so;
            m.strings_len = sz;
        } else if (nl == 5 && memcmp(name, "#Blob", 5) == 0) {
            m.blob = r + so;
            m.blob_len = sz;
        }
    }
    if (tables == NULL || m.strings == NULL || !read_tables(&m, tables, tables_len))
        return;
    if (m.rows[T_ASSEMBLY] && m.rows[T_MODULE])
        c->pub.assembly_name = pe_text(c, (const uint8_t *)str(&m, cell(&m, T_ASSEMBLY, 1, 7)),
                                       strlen(str(&m, cell(&m, T_ASSEMBLY, 1, 7))));
    uint32_t ntd = m.rows[T_TYPEDEF];
    /* per TypeDef: the System.Web interfaces it implements itself (bits) */
    uint8_t *impl = ig_arena_alloc(&c->arena, ntd + 1);
    c->managed = ig_arena_alloc(&c->arena, sizeof(*c->managed) * MAX_REPORTED);
    if (impl == NULL || c->managed == NULL) {
        c->oom = true;
        return;
    }
    memset(impl, 0, ntd + 1);
    for (uint32_t i = 1; i <= m.rows[T_INTERFACEIMPL]; i++) {
        uint32_t cls = cell(&m, T_INTERFACEIMPL, i, 0), iface = cell(&m, T_INTERFACEIMPL, i, 1);
        if (cls == 0 || cls > ntd)
            continue;
        if ((iface & 3) == 1) { /* a TypeRef */
            int w = web_typeref(&m, iface >> 2);
            if (w >= 0)
                impl[cls] |= (uint8_t)(1u << w);
            else if (w <= -2 && (c->pub.iis_suspect = 1))
                pe_anomaly(c, 0,
                           "type %s implements System.Web.%s from an assembly other than "
                           "Microsoft's System.Web",
                           str(&m, cell(&m, T_TYPEDEF, cls, 1)), web_ifaces[-2 - w]);
        } else if ((iface & 3) == 0) { /* a TypeDef of this assembly */
            uint32_t t = iface >> 2;
            if (t >= 1 && t <= ntd && strcmp(str(&m, cell(&m, T_TYPEDEF, t, 2)), "System.Web") == 0)
                for (int k = 0; k < 4; k++)
                    if (strcmp(str(&m, cell(&m, T_TYPEDEF, t, 1)), web_ifaces[k]) == 0 &&
                        (c->pub.iis_suspect = 1))
                        pe_anomaly(c, 0,
                                   "defines its own System.Web.%s (an imitation of ASP.NET's "
                                   "interface) and implements it",
                                   web_ifaces[k]);
        }
    }
    /* a class implements what its bases in this assembly implement */
    for (uint32_t t = 1; t <= ntd; t++) {
        if (cell(&m, T_TYPEDEF, t, 0) & 0x20)
            continue; /* an interface */
        uint8_t bits = impl[t];
        const char *via = NULL;
        uint32_t cur = t;
        for (unsigned depth = 0; depth < MAX_BASES; depth++) {
            uint32_t ext = cell(&m, T_TYPEDEF, cur, 3);
            if ((ext & 3) != 0 || (ext >> 2) == 0 || (ext >> 2) > ntd || (ext >> 2) == cur)
                break;
            cur = ext >> 2;
            if (impl[cur] & ~bits)
                via = str(&m, cell(&m, T_TYPEDEF, cur, 1));
            bits |= impl[cur];
        }
        for (int k = 0; k < 4; k++)
            if ((bits >> k) & 1)
                add_type(c, &m, t, k, (impl[t] >> k) & 1 ? NULL : via);
    }
    c->pub.managed = c->managed;
}
