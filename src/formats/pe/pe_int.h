/* PE reader internals shared by pe.c (headers, sections, exports, imports,
 * debug), pe_rsrc.c (version resource) and pe_class.c (what it is to IIS). */
#ifndef IG_FORMATS_PE_PE_INT_H
#define IG_FORMATS_PE_PE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/limits.h"
#include "iisguard/pe.h"

/* IMAGE_DIRECTORY_ENTRY_* */
enum {
    PE_DIR_EXPORT = 0,
    PE_DIR_IMPORT = 1,
    PE_DIR_RESOURCE = 2,
    PE_DIR_SECURITY = 4,
    PE_DIR_DEBUG = 6,
    PE_DIR_CLR = 14,
    PE_NDIRS = 16
};

typedef struct pe_dir {
    uint32_t rva, size;
} pe_dir;

typedef struct pe_ctx {
    ig_pe pub;
    ig_arena arena;
    const uint8_t *d;
    size_t len;
    uint32_t file_align, size_of_headers;
    size_t export_dir_off; /* file offset of the export directory, 0 if none */
    pe_dir dirs[PE_NDIRS];
    uint32_t ndirs;
    ig_pe_section *secs;
    ig_pe_managed *managed; /* in the arena */
    ig_pe_import *imports;  /* growable (ig_realloc) */
    size_t cap_imports;
    ig_pe_anomaly anomalies[IG_MAX_PE_ANOMALIES];
    size_t nanomalies, dropped_anomalies;
    bool oom;
} pe_ctx;

/* Records an anomaly at file offset `off` (a printf format; copied). */
void pe_anomaly(pe_ctx *c, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The file offset of `rva` with `need` bytes readable there, or false. */
bool pe_rva_to_off(const pe_ctx *c, uint32_t rva, uint32_t need, size_t *off);

/* p[0, n) as a NUL-terminated UTF-8 string in the arena: kept when it is
 * UTF-8, else read as Windows-1252. */
const char *pe_text(pe_ctx *c, const uint8_t *p, size_t n);

/* A NUL-terminated ASCII string at `rva` (at most IG_MAX_PE_NAME bytes),
 * copied into the arena; NULL when unreadable or unterminated. */
const char *pe_string_at(pe_ctx *c, uint32_t rva);

/* The version resource's strings (pe_rsrc.c). */
void pe_read_version(pe_ctx *c);

/* .NET metadata: the types implementing System.Web interfaces (dotnet.c). */
void pe_read_dotnet(pe_ctx *c);

/* Classification and IIS evidence (pe_class.c). */
void pe_classify(pe_ctx *c);

#endif
