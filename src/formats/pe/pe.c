/* PE32/PE32+ reader (Microsoft PE/COFF specification): DOS and NT headers,
 * section table, export and import directories, CodeView debug path,
 * certificate table location, CLI header presence, overlay and section
 * entropy.  Every offset is checked against the file before it is used and
 * every count is clamped (core/limits.h); problems become anomalies and
 * reading goes on with what remains. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/rd.h"
#include "core/utf16.h"
#include "formats/pe/pe_int.h"

const char *ig_pe_class_name(ig_pe_class c)
{
    static const char *const names[] = {"not_pe",
                                        "exe",
                                        "dll",
                                        "isapi_extension",
                                        "isapi_filter",
                                        "native_module",
                                        "managed_module",
                                        "managed_handler"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}

void pe_anomaly(pe_ctx *c, uint64_t off, const char *fmt, ...)
{
    if (c->nanomalies >= IG_MAX_PE_ANOMALIES) {
        c->dropped_anomalies++;
        return;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    char *s = ig_arena_alloc(&c->arena, len + 1);
    if (s == NULL) {
        c->oom = true;
        return;
    }
    memcpy(s, msg, len);
    s[len] = '\0';
    c->anomalies[c->nanomalies++] = (ig_pe_anomaly){off, s};
}

static uint16_t u16(const pe_ctx *c, size_t off)
{
    return off + 2 <= c->len ? ig_le16(c->d + off) : 0;
}

static uint32_t u32(const pe_ctx *c, size_t off)
{
    return off + 4 <= c->len ? ig_le32(c->d + off) : 0;
}

static uint64_t u64(const pe_ctx *c, size_t off)
{
    return off + 8 <= c->len ? ig_le64(c->d + off) : 0;
}

/* Where the loader reads a section's raw data: PointerToRawData rounded
 * down to 512 bytes when the file alignment is at least that. */
static uint32_t raw_start(const pe_ctx *c, const ig_pe_section *s)
{
    return c->file_align >= 0x200 ? s->raw_offset & ~0x1FFu : s->raw_offset;
}

bool pe_rva_to_off(const pe_ctx *c, uint32_t rva, uint32_t need, size_t *off)
{
    for (size_t i = 0; i < c->pub.nsections; i++) {
        const ig_pe_section *s = &c->secs[i];
        uint32_t span = s->vsize > s->raw_size ? s->vsize : s->raw_size;
        if (rva < s->vaddr || rva - s->vaddr >= span)
            continue;
        uint64_t delta = rva - s->vaddr;
        if (delta + need > s->raw_size)
            continue; /* in the section, but not in its file data */
        uint64_t o = (uint64_t)raw_start(c, s) + delta;
        if (o + need > c->len)
            continue;
        *off = (size_t)o;
        return true;
    }
    /* the headers map at RVA 0 */
    if (rva < c->size_of_headers && (uint64_t)rva + need <= c->len) {
        *off = rva;
        return true;
    }
    return false;
}

/* True when p[0, n) is well-formed UTF-8 (no overlongs or surrogates). */
static bool utf8_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        size_t k = b < 0x80             ? 0
                   : (b & 0xE0) == 0xC0 ? 1
                   : (b & 0xF0) == 0xE0 ? 2
                   : (b & 0xF8) == 0xF0 ? 3
                                        : 9;
        if (k == 9 || (k == 1 && b < 0xC2) || (k == 3 && b > 0xF4) || n - i <= k)
            return k == 0;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        if ((k == 2 && b == 0xE0 && p[i + 1] < 0xA0) || (k == 2 && b == 0xED && p[i + 1] >= 0xA0) ||
            (k == 3 && b == 0xF0 && p[i + 1] < 0x90) || (k == 3 && b == 0xF4 && p[i + 1] >= 0x90))
            return false;
        i += k + 1;
    }
    return true;
}

const char *pe_text(pe_ctx *c, const uint8_t *p, size_t n)
{
    if (utf8_ok(p, n)) {
        char *s = ig_arena_alloc(&c->arena, n + 1);
        if (s == NULL) {
            c->oom = true;
            return NULL;
        }
        memcpy(s, p, n);
        s[n] = '\0';
        return s;
    }
    /* not UTF-8: read as Windows-1252, the usual ANSI code page */
    ig_buf b;
    ig_buf_init(&b, 4 * IG_MAX_PE_NAME + 4);
    const char *s = NULL;
    if (ig_cp1252_append(&b, p, n, IG_ESC_NONE) && ig_buf_putc(&b, 0))
        s = ig_arena_dup(&c->arena, b.data, b.len);
    ig_buf_free(&b);
    if (s == NULL)
        c->oom = true;
    return s;
}

const char *pe_string_at(pe_ctx *c, uint32_t rva)
{
    size_t off;
    if (!pe_rva_to_off(c, rva, 1, &off))
        return NULL;
    size_t max = c->len - off < IG_MAX_PE_NAME ? c->len - off : IG_MAX_PE_NAME;
    const uint8_t *z = memchr(c->d + off, 0, max);
    if (z == NULL)
        return NULL;
    return pe_text(c, c->d + off, (size_t)(z - (c->d + off)));
}

static double entropy(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    /* four histograms, so that runs of one byte value do not serialise */
    uint32_t h[4][256];
    memset(h, 0, sizeof(h));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        h[0][p[i]]++;
        h[1][p[i + 1]]++;
        h[2][p[i + 2]]++;
        h[3][p[i + 3]]++;
    }
    for (; i < n; i++)
        h[0][p[i]]++;
    double e = 0;
    for (int k = 0; k < 256; k++) {
        uint64_t cnt = (uint64_t)h[0][k] + h[1][k] + h[2][k] + h[3][k];
        if (cnt) {
            double q = (double)cnt / (double)n;
            e -= q * log2(q);
        }
    }
    return e;
}

void ig_pe_entropy(ig_pe *pe, const uint8_t *data, size_t len)
{
    pe_ctx *c = (pe_ctx *)pe;
    for (size_t i = 0; i < pe->nsections; i++) {
        ig_pe_section *s = &c->secs[i];
        uint32_t start = c->file_align >= 0x200 ? s->raw_offset & ~0x1FFu : s->raw_offset;
        s->entropy =
            start <= len && s->raw_size <= len - start ? entropy(data + start, s->raw_size) : 0;
    }
}

/* ---- headers and sections ---------------------------------------------------- */

static bool read_headers(pe_ctx *c)
{
    ig_pe *p = &c->pub;
    if (c->len < 64 || c->d[0] != 'M' || c->d[1] != 'Z') {
        p->why = c->len < 2 ? "too short for a DOS header" : "no MZ signature at offset 0";
        return false;
    }
    uint32_t lfanew = u32(c, 0x3C);
    if (lfanew > c->len || c->len - lfanew < 24) {
        p->why = "e_lfanew (offset 0x3c) points outside the file";
        return false;
    }
    if (memcmp(c->d + lfanew, "PE\0\0", 4) != 0) {
        p->why = "no PE signature where e_lfanew points";
        return false;
    }
    size_t coff = lfanew + 4;
    p->machine = u16(c, coff);
    uint32_t nsec = u16(c, coff + 2);
    p->timestamp = u32(c, coff + 4);
    uint32_t opt_size = u16(c, coff + 16);
    p->characteristics = u16(c, coff + 18);
    size_t opt = coff + 20;
    uint16_t magic = u16(c, opt);
    if (magic != 0x10B && magic != 0x20B) {
        p->why = "optional header magic is neither PE32 (0x10b) nor PE32+ (0x20b)";
        return false;
    }
    p->pe32plus = magic == 0x20B;
    size_t min_opt = p->pe32plus ? 112 : 96;
    if (opt_size < min_opt || opt + min_opt > c->len) {
        p->why = "optional header too short";
        return false;
    }
    p->entry_rva = u32(c, opt + 16);
    p->image_base = p->pe32plus ? u64(c, opt + 24) : u32(c, opt + 28);
    c->file_align = u32(c, opt + 36);
    p->size_of_image = u32(c, opt + 56);
    c->size_of_headers = u32(c, opt + 60);
    p->checksum = u32(c, opt + 64);
    p->subsystem = u16(c, opt + 68);
    p->dll_characteristics = u16(c, opt + 70);
    size_t ndir_at = opt + (p->pe32plus ? 108 : 92);
    c->ndirs = u32(c, ndir_at);
    if (c->ndirs > PE_NDIRS) {
        pe_anomaly(c, ndir_at, "NumberOfRvaAndSizes is %u; the first 16 are read", c->ndirs);
        c->ndirs = PE_NDIRS;
    }
    size_t dirs = ndir_at + 4;
    for (uint32_t i = 0; i < c->ndirs; i++) {
        if (dirs + 8 * (i + 1) > opt + opt_size || dirs + 8 * (i + 1) > c->len) {
            pe_anomaly(c, dirs + 8 * i, "data directory %u lies outside the optional header", i);
            c->ndirs = i;
            break;
        }
        c->dirs[i].rva = u32(c, dirs + 8 * i);
        c->dirs[i].size = u32(c, dirs + 8 * i + 4);
    }
    /* sections */
    size_t st = opt + opt_size;
    if (nsec > IG_MAX_PE_SECTIONS) {
        pe_anomaly(c, coff + 2, "%u sections; the first %u are read", nsec, IG_MAX_PE_SECTIONS);
        nsec = IG_MAX_PE_SECTIONS;
    }
    if (st > c->len || (c->len - st) / 40 < nsec) {
        size_t fit = st > c->len ? 0 : (c->len - st) / 40;
        pe_anomaly(c, st, "section table ends past the end of the file (%u sections, %zu fit)",
                   nsec, fit);
        nsec = (uint32_t)fit;
    }
    c->secs = ig_arena_alloc(&c->arena, sizeof(*c->secs) * (nsec ? nsec : 1));
    if (c->secs == NULL) {
        c->oom = true;
        return false;
    }
    for (uint32_t i = 0; i < nsec; i++) {
        size_t h = st + 40 * (size_t)i;
        ig_pe_section *s = &c->secs[i];
        memset(s, 0, sizeof(*s));
        for (int k = 0; k < 8 && c->d[h + k]; k++) /* printable ASCII, '?' for the rest */
            s->name[k] = c->d[h + k] >= 0x20 && c->d[h + k] < 0x7F ? (char)c->d[h + k] : '?';
        s->vsize = u32(c, h + 8);
        s->vaddr = u32(c, h + 12);
        s->raw_size = u32(c, h + 16);
        s->raw_offset = u32(c, h + 20);
        s->flags = u32(c, h + 36);
        uint32_t start = c->file_align >= 0x200 ? s->raw_offset & ~0x1FFu : s->raw_offset;
        if (s->raw_size > 0 && start >= c->len) {
            pe_anomaly(c, h + 20, "section %u (%.8s) raw data starts past the end of the file", i,
                       s->name);
            s->raw_size = 0;
        } else if (s->raw_size > c->len - start) {
            pe_anomaly(c, h + 16, "section %u (%.8s) raw data runs past the end of the file", i,
                       s->name);
            s->raw_size = (uint32_t)(c->len - start);
        }
        uint64_t end = (uint64_t)start + s->raw_size;
        if (s->raw_size && end > p->overlay_offset)
            p->overlay_offset = end;
    }
    p->sections = c->secs;
    p->nsections = nsec;
    if (p->overlay_offset < c->size_of_headers)
        p->overlay_offset = c->size_of_headers < c->len ? c->size_of_headers : c->len;
    p->overlay_size = p->overlay_offset < c->len ? c->len - p->overlay_offset : 0;
    /* overlapping raw data, an entry point outside every section */
    for (uint32_t i = 0; i < nsec; i++)
        for (uint32_t k = i + 1; k < nsec; k++) {
            const ig_pe_section *a = &c->secs[i], *b = &c->secs[k];
            if (a->raw_size && b->raw_size && raw_start(c, a) < raw_start(c, b) + b->raw_size &&
                raw_start(c, b) < raw_start(c, a) + a->raw_size)
                pe_anomaly(c, st + 40 * (size_t)k, "sections %u and %u share file bytes", i, k);
        }
    if (p->entry_rva != 0) {
        bool in = false;
        for (uint32_t i = 0; i < nsec && !in; i++)
            in = p->entry_rva >= c->secs[i].vaddr &&
                 p->entry_rva - c->secs[i].vaddr < (c->secs[i].vsize > c->secs[i].raw_size
                                                        ? c->secs[i].vsize
                                                        : c->secs[i].raw_size);
        if (!in)
            pe_anomaly(c, opt + 16, "entry point 0x%x is outside every section", p->entry_rva);
    }
    return true;
}

/* ---- exports ------------------------------------------------------------------- */

static void read_exports(pe_ctx *c)
{
    pe_dir d = c->dirs[PE_DIR_EXPORT];
    size_t off;
    if (c->ndirs <= PE_DIR_EXPORT || d.rva == 0)
        return;
    if (!pe_rva_to_off(c, d.rva, 40, &off)) {
        pe_anomaly(c, 0, "export directory (RVA 0x%x) is not in the file", d.rva);
        return;
    }
    c->export_dir_off = off;
    uint32_t name_rva = u32(c, off + 12), base = u32(c, off + 16);
    uint32_t nfunc = u32(c, off + 20), nname = u32(c, off + 24);
    uint32_t funcs = u32(c, off + 28), names = u32(c, off + 32), ords = u32(c, off + 36);
    if (name_rva)
        c->pub.export_dll_name = pe_string_at(c, name_rva);
    if (nfunc > IG_MAX_PE_EXPORTS) {
        pe_anomaly(c, off + 20, "%u exported functions; the first %u are read", nfunc,
                   IG_MAX_PE_EXPORTS);
        nfunc = IG_MAX_PE_EXPORTS;
    }
    if (nname > nfunc) {
        pe_anomaly(c, off + 24, "%u export names for %u functions", nname, nfunc);
        nname = nfunc;
    }
    size_t foff = 0, noff = 0, ooff = 0;
    if (nfunc && !pe_rva_to_off(c, funcs, nfunc * 4, &foff)) {
        pe_anomaly(c, off + 28, "export address table (RVA 0x%x) is not in the file", funcs);
        return;
    }
    if (nname &&
        (!pe_rva_to_off(c, names, nname * 4, &noff) || !pe_rva_to_off(c, ords, nname * 2, &ooff))) {
        pe_anomaly(c, off + 32, "export name tables (RVA 0x%x, 0x%x) are not in the file", names,
                   ords);
        nname = 0;
    }
    ig_pe_export *v = ig_arena_alloc(&c->arena, sizeof(*v) * (nfunc ? nfunc : 1));
    bool *named = ig_calloc(nfunc ? nfunc : 1, sizeof(bool));
    if (v == NULL || named == NULL) {
        ig_free(named);
        c->oom = true;
        return;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < nname; i++) {
        uint32_t nrva = u32(c, noff + 4 * (size_t)i);
        uint16_t idx = u16(c, ooff + 2 * (size_t)i);
        if (idx >= nfunc) {
            pe_anomaly(c, ooff + 2 * (size_t)i, "export name %u refers to function %u of %u", i,
                       idx, nfunc);
            continue;
        }
        const char *name = pe_string_at(c, nrva);
        if (name == NULL) {
            pe_anomaly(c, noff + 4 * (size_t)i, "export name %u (RVA 0x%x) is not readable", i,
                       nrva);
            continue;
        }
        named[idx] = true;
        v[n++] = (ig_pe_export){name, base + idx, u32(c, foff + 4 * (size_t)idx), NULL};
    }
    /* functions exported by ordinal only */
    for (uint32_t i = 0; i < nfunc; i++)
        if (!named[i] && u32(c, foff + 4 * (size_t)i) != 0 && n < nfunc)
            v[n++] = (ig_pe_export){NULL, base + i, u32(c, foff + 4 * (size_t)i), NULL};
    ig_free(named);
    /* forwarders: an address inside the export directory names "DLL.Function" */
    for (size_t i = 0; i < n; i++) {
        if (v[i].rva >= d.rva && v[i].rva - d.rva < d.size) {
            v[i].forwarder = pe_string_at(c, v[i].rva);
            if (v[i].forwarder == NULL)
                pe_anomaly(c, foff, "forwarder of export %u is not readable", v[i].ordinal);
            v[i].rva = 0;
        }
    }
    c->pub.exports = v;
    c->pub.nexports = n;
}

/* ---- imports ------------------------------------------------------------------- */

static bool add_import(pe_ctx *c, const char *dll, const char *name, uint32_t ord)
{
    if (c->pub.nimports == c->cap_imports) {
        size_t cap = c->cap_imports ? c->cap_imports * 2 : 64;
        ig_pe_import *v = ig_realloc(c->imports, sizeof(*v) * cap);
        if (v == NULL) {
            c->oom = true;
            return false;
        }
        c->imports = v;
        c->cap_imports = cap;
    }
    c->imports[c->pub.nimports++] = (ig_pe_import){dll, name, ord};
    c->pub.imports = c->imports; /* (it moves as it grows) */
    return true;
}

static void read_imports(pe_ctx *c)
{
    pe_dir d = c->dirs[PE_DIR_IMPORT];
    if (c->ndirs <= PE_DIR_IMPORT || d.rva == 0)
        return;
    size_t tw = c->pub.pe32plus ? 8 : 4;
    for (uint32_t k = 0;; k++) {
        size_t off;
        if (k >= IG_MAX_PE_IMPORT_DLLS) {
            pe_anomaly(c, 0, "more than %u imported DLLs; the rest are not read",
                       IG_MAX_PE_IMPORT_DLLS);
            break;
        }
        if (!pe_rva_to_off(c, d.rva + 20 * k, 20, &off)) {
            pe_anomaly(c, 0, "import descriptor %u (RVA 0x%x) is not in the file", k,
                       d.rva + 20 * k);
            break;
        }
        uint32_t oft = u32(c, off), name = u32(c, off + 12), ft = u32(c, off + 16);
        if (oft == 0 && name == 0 && ft == 0)
            break; /* the terminating descriptor */
        const char *dll = pe_string_at(c, name);
        if (dll == NULL) {
            pe_anomaly(c, off + 12, "name of imported DLL %u (RVA 0x%x) is not readable", k, name);
            continue;
        }
        uint32_t thunks = oft ? oft : ft;
        for (uint32_t i = 0;; i++) {
            size_t to;
            if (c->pub.nimports >= IG_MAX_PE_IMPORTS) {
                pe_anomaly(c, off, "more than %u imported functions; the rest are not read",
                           IG_MAX_PE_IMPORTS);
                return;
            }
            if (!pe_rva_to_off(c, thunks + (uint32_t)(tw * i), (uint32_t)tw, &to)) {
                pe_anomaly(c, off, "import thunks of %s run out of the file", dll);
                break;
            }
            uint64_t t = tw == 8 ? u64(c, to) : u32(c, to);
            if (t == 0)
                break;
            bool by_ord = tw == 8 ? (t >> 63) != 0 : (t >> 31) != 0;
            if (by_ord) {
                if (!add_import(c, dll, NULL, (uint32_t)(t & 0xFFFF)))
                    return;
                continue;
            }
            const char *fn = pe_string_at(c, (uint32_t)(t & 0x7FFFFFFF) + 2);
            if (fn == NULL) {
                pe_anomaly(c, to, "imported function %u of %s is not readable", i, dll);
                continue;
            }
            if (!add_import(c, dll, fn, 0))
                return;
        }
    }
    c->pub.imports = c->imports;
}

/* pefile's imphash: md5 of "dll.function" (lower case, the DLL without a
 * .dll/.ocx/.sys extension, "ordN" for ordinals) joined by commas. */
static void imphash(pe_ctx *c)
{
    if (c->pub.nimports == 0)
        return;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || !EVP_DigestInit_ex(md, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(md);
        return;
    }
    for (size_t i = 0; i < c->pub.nimports; i++) {
        const ig_pe_import *im = &c->imports[i];
        char buf[2 * IG_MAX_PE_NAME + 32];
        size_t n = 0, dl = strlen(im->dll);
        const char *dot = strrchr(im->dll, '.');
        if (dot != NULL && (strcasecmp(dot, ".dll") == 0 || strcasecmp(dot, ".ocx") == 0 ||
                            strcasecmp(dot, ".sys") == 0))
            dl = (size_t)(dot - im->dll);
        if (i > 0)
            buf[n++] = ',';
        for (size_t k = 0; k < dl && n < IG_MAX_PE_NAME; k++)
            buf[n++] =
                (char)((im->dll[k] >= 'A' && im->dll[k] <= 'Z') ? im->dll[k] + 32 : im->dll[k]);
        buf[n++] = '.';
        if (im->name != NULL)
            for (const char *p = im->name; *p && n < sizeof(buf) - 1; p++)
                buf[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        else
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ord%u", im->ordinal);
        EVP_DigestUpdate(md, buf, n);
    }
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    if (EVP_DigestFinal_ex(md, h, &hl) && hl == 16)
        for (unsigned i = 0; i < 16; i++)
            snprintf(c->pub.imphash + 2 * i, 3, "%02x", h[i]);
    EVP_MD_CTX_free(md);
}

/* ---- debug, certificates, CLI header ----------------------------------------------- */

static void read_debug(pe_ctx *c)
{
    pe_dir d = c->dirs[PE_DIR_DEBUG];
    size_t off;
    if (c->ndirs <= PE_DIR_DEBUG || d.rva == 0)
        return;
    uint32_t n = d.size / 28;
    if (n > IG_MAX_PE_DEBUG_ENTRIES)
        n = IG_MAX_PE_DEBUG_ENTRIES;
    if (n == 0 || !pe_rva_to_off(c, d.rva, 28 * n, &off)) {
        pe_anomaly(c, 0, "debug directory (RVA 0x%x) is not in the file", d.rva);
        return;
    }
    for (uint32_t i = 0; i < n && c->pub.pdb_path == NULL; i++) {
        size_t e = off + 28 * (size_t)i;
        uint32_t type = u32(c, e + 12), size = u32(c, e + 16), ptr = u32(c, e + 24);
        if (type != 2 /* CODEVIEW */)
            continue;
        if (ptr >= c->len || size > c->len - ptr || size < 16) {
            pe_anomaly(c, e + 24, "CodeView debug data (offset 0x%x, %u bytes) is not in the file",
                       ptr, size);
            continue;
        }
        size_t at = memcmp(c->d + ptr, "RSDS", 4) == 0   ? 24
                    : memcmp(c->d + ptr, "NB10", 4) == 0 ? 16
                                                         : 0;
        if (at == 0 || at >= size)
            continue;
        size_t max = size - at < IG_MAX_PE_NAME ? size - at : IG_MAX_PE_NAME;
        const uint8_t *z = memchr(c->d + ptr + at, 0, max);
        size_t len = z ? (size_t)(z - (c->d + ptr + at)) : max;
        c->pub.pdb_path = pe_text(c, c->d + ptr + at, len);
    }
}

static void read_cert_and_clr(pe_ctx *c)
{
    if (c->ndirs > PE_DIR_SECURITY && c->dirs[PE_DIR_SECURITY].rva != 0) {
        /* a file offset, not an RVA */
        pe_dir d = c->dirs[PE_DIR_SECURITY];
        c->pub.cert_offset = d.rva;
        c->pub.cert_size = d.size;
        if (d.rva >= c->len || d.size > c->len - d.rva)
            pe_anomaly(c, d.rva, "certificate table (%u bytes) runs past the end of the file",
                       d.size);
        else if ((uint64_t)d.rva + d.size < c->len)
            pe_anomaly(c, (uint64_t)d.rva + d.size,
                       "%zu bytes follow the certificate table (appended data)",
                       c->len - d.rva - d.size);
    }
    if (c->ndirs > PE_DIR_CLR && c->dirs[PE_DIR_CLR].rva != 0) {
        size_t off;
        c->pub.clr = 1;
        if (!pe_rva_to_off(c, c->dirs[PE_DIR_CLR].rva, 72, &off))
            pe_anomaly(c, 0, "CLI header (RVA 0x%x) is not in the file", c->dirs[PE_DIR_CLR].rva);
    }
}

void ig_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    out[0] = '\0';
    if (!EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL) || hl != 32)
        return;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ---- entry ------------------------------------------------------------------------- */

ig_pe *ig_pe_parse(const uint8_t *data, size_t len)
{
    pe_ctx *c = ig_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    ig_arena_init(&c->arena, 0);
    c->d = data;
    c->len = len;
    c->pub.size = len;
    c->pub.cls = IG_PE_NOT_PE;
    if (read_headers(c)) {
        read_exports(c);
        read_imports(c);
        imphash(c);
        pe_read_version(c);
        read_debug(c);
        read_cert_and_clr(c);
        pe_read_dotnet(c);
        pe_classify(c);
    }
    if (c->dropped_anomalies)
        pe_anomaly(c, 0, "%zu more anomalies not listed", c->dropped_anomalies);
    c->pub.anomalies = c->anomalies;
    c->pub.nanomalies = c->nanomalies;
    c->d = NULL; /* not kept */
    if (c->oom) {
        ig_pe_free(&c->pub);
        return NULL;
    }
    return &c->pub;
}

void ig_pe_free(ig_pe *pe)
{
    if (pe == NULL)
        return;
    pe_ctx *c = (pe_ctx *)pe;
    ig_free(c->imports);
    ig_arena_destroy(&c->arena);
    ig_free(c);
}
