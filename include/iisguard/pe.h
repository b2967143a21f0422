/* iisguard — what a DLL is: the PE32/PE32+ headers, sections, exports,
 * imports, version strings and debug path of an untrusted file, and what it
 * is to IIS (an ISAPI extension or filter, a native module, ...). */
#ifndef IISGUARD_PE_H
#define IISGUARD_PE_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/error.h"
#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a file is to IIS. */
typedef enum ig_pe_class {
    IG_PE_NOT_PE = 0,
    IG_PE_EXE,             /* a PE image that is not a DLL */
    IG_PE_DLL,             /* a DLL that is none of the below */
    IG_PE_ISAPI_EXTENSION, /* GetExtensionVersion + HttpExtensionProc */
    IG_PE_ISAPI_FILTER,    /* GetFilterVersion + HttpFilterProc */
    IG_PE_NATIVE_MODULE,   /* RegisterModule */
    IG_PE_MANAGED_MODULE,  /* a .NET type implementing System.Web.IHttpModule */
    IG_PE_MANAGED_HANDLER  /* ... IHttpHandler / IHttpHandlerFactory / IHttpAsyncHandler */
} ig_pe_class;

/* "isapi_extension", "native_module", ... ("not_pe", "exe", "dll"). */
IG_API const char *ig_pe_class_name(ig_pe_class c);

typedef struct ig_pe_section {
    char name[9]; /* NUL-terminated, as stored (may be empty) */
    uint32_t vaddr, vsize;
    uint32_t raw_offset, raw_size; /* raw_size clamped to the file */
    uint32_t flags;                /* IMAGE_SCN_* */
    double entropy;                /* Shannon entropy of its raw bytes, bits per byte */
} ig_pe_section;

typedef struct ig_pe_export {
    const char *name;      /* NULL: exported by ordinal only */
    uint32_t ordinal;      /* biased by the directory's Base */
    uint32_t rva;          /* 0 for a forwarder */
    const char *forwarder; /* "OTHER.Function" or NULL */
} ig_pe_export;

typedef struct ig_pe_import {
    const char *dll;  /* as named in the file */
    const char *name; /* NULL: imported by ordinal */
    uint32_t ordinal;
} ig_pe_import;

/* A .NET type that IIS can load: it implements a System.Web interface. */
typedef struct ig_pe_managed {
    const char *type; /* "Namespace.Name" */
    const char
        *iface;      /* "IHttpModule", "IHttpHandler", "IHttpHandlerFactory", "IHttpAsyncHandler" */
    const char *via; /* the base class (in the same assembly) it inherits it from, or NULL */
    int abstract;
} ig_pe_managed;

typedef struct ig_pe_string { /* a version resource string */
    const char *key, *value;
} ig_pe_string;

/* One problem with the file: what, and the file offset it concerns. */
typedef struct ig_pe_anomaly {
    uint64_t offset;
    const char *what;
} ig_pe_anomaly;

typedef struct ig_pe {
    ig_pe_class cls;
    const char *why; /* the evidence for cls ("exports RegisterModule"), or why not a PE */
    uint64_t size;   /* bytes given */
    /* headers */
    uint16_t machine; /* IMAGE_FILE_MACHINE_* */
    int pe32plus;     /* 64-bit optional header */
    uint16_t characteristics, dll_characteristics, subsystem;
    uint32_t timestamp, entry_rva, size_of_image, checksum;
    uint64_t image_base;
    const ig_pe_section *sections;
    size_t nsections;
    /* exports: the directory's own name, and every export */
    const char *export_dll_name;
    const ig_pe_export *exports;
    size_t nexports;
    const ig_pe_import *imports;
    size_t nimports;
    char imphash[33]; /* "" without imports */
    const ig_pe_string *version;
    size_t nversion;
    const char *pdb_path; /* CodeView RSDS/NB10 path, or NULL */
    /* bytes after the last section's raw data, and the certificate table
     * (a file offset and size, as the data directory says) */
    uint64_t overlay_offset, overlay_size;
    uint32_t cert_offset, cert_size;
    int clr;                      /* has a CLI header: .NET */
    const char *clr_version;      /* the metadata's runtime version ("v4.0.30319") */
    const char *assembly_name;    /* the Assembly table's name */
    const ig_pe_managed *managed; /* types implementing System.Web interfaces */
    size_t nmanaged;
    /* an IIS entry point exported in a way IIS cannot use (decorated,
     * mangled), forwarded elsewhere, or hidden behind ordinals */
    int iis_suspect;
    /* IIS evidence besides the exports: C++ class names such as CHttpModule */
    const char *const *evidence;
    size_t nevidence;
    const ig_pe_anomaly *anomalies;
    size_t nanomalies;
} ig_pe;

/* Reads the PE image in data[0, len) (untrusted; borrowed only during the
 * call).  Every count and offset is checked against the file; what cannot
 * be read is recorded as an anomaly and the rest is still read.  A file
 * that is not a PE image gives cls IG_PE_NOT_PE and the reason in `why`.
 * Returns NULL only when out of memory; free with ig_pe_free. */
IG_API ig_pe *ig_pe_parse(const uint8_t *data, size_t len);
IG_API void ig_pe_free(ig_pe *pe);

/* Fills in the sections' entropy from the same bytes (a pass over them all,
 * so left to callers that show it). */
IG_API void ig_pe_entropy(ig_pe *pe, const uint8_t *data, size_t len);

/* ---- signatures ---------------------------------------------------------------- */

typedef enum ig_sig_status {
    IG_SIG_UNSIGNED = 0,  /* no certificate table */
    IG_SIG_MALFORMED,     /* a table or signature that does not parse */
    IG_SIG_HASH_MISMATCH, /* the file changed after it was signed */
    IG_SIG_INVALID,       /* the signature does not verify */
    IG_SIG_UNTRUSTED,     /* valid, but its chain does not end in the trust store */
    IG_SIG_TRUSTED,       /* valid and trusted */
    IG_SIG_CATALOG,       /* the file's hash is in a signed catalog */
    IG_SIG_NOT_VERIFIABLE /* unsigned itself; a catalog would be needed */
} ig_sig_status;

/* "unsigned", "malformed", "hash_mismatch", "signature_invalid", "untrusted",
 * "trusted", "catalog_signed", "not_verifiable_offline". */
IG_API const char *ig_sig_status_name(ig_sig_status s);

typedef struct ig_signature {
    ig_sig_status status;
    const char *why;    /* what went wrong (NULL when trusted) */
    const char *signer; /* subject of the signing certificate (RFC 2253) */
    const char *issuer;
    const char *digest;        /* the image digest algorithm ("sha256") */
    int64_t signing_time;      /* Unix time: from a countersignature or time-stamp when
                                * `timestamp` says so, else the signer's own claim; 0: none */
    const char *timestamp;     /* "pkcs9", "rfc3161", or NULL (not countersigned) */
    int timestamp_ok;          /* the countersignature or time-stamp verifies and chains */
    const char *timestamp_why; /* why not, when it does not */
    unsigned entry;            /* WIN_CERTIFICATE entry */
    unsigned depth;            /* 0: the entry's signature; 1..: nested in it */
    uint64_t offset;           /* file offset of the entry */
} ig_signature;

typedef struct ig_signatures {
    ig_sig_status status; /* of the first entry's signature: what Windows checks */
    const char *why;
    const ig_signature *v; /* every signature, entries in order, nested after theirs */
    size_t n;
} ig_signatures;

/* A trust store: the certificates (PEM or DER) in the file or folder
 * `path`, or the system's store when NULL.  NULL on error (*err says). */
typedef struct ig_trust ig_trust;
IG_API ig_trust *ig_trust_load(const char *path, char *err, size_t errlen);
IG_API void ig_trust_free(ig_trust *t);

/* Verifies every Authenticode signature of the image `data` (the bytes
 * `pe` was parsed from) against `trust` (NULL: nothing is trusted).
 * Returns NULL only when out of memory. */
IG_API ig_signatures *ig_pe_verify(const uint8_t *data, size_t len, const ig_pe *pe,
                                   const ig_trust *trust);
IG_API void ig_signatures_free(ig_signatures *s);

/* The Authenticode digest of the image (what a signature or a catalog
 * lists) with the digest `alg` ("sha1", "sha256"); false when it cannot be
 * computed.  `out` holds at least 64 bytes. */
IG_API int ig_pe_authenticode_digest(const uint8_t *data, size_t len, const ig_pe *pe,
                                     const char *alg, uint8_t *out, unsigned *outlen);

/* ---- catalogs ---------------------------------------------------------------------
 * Windows signs most of its own files through catalogs (.cat): PKCS#7
 * SignedData over a certificate trust list whose members are files'
 * Authenticode digests.  A catalog root (System32\CatRoot) is read once;
 * files are then looked up by digest. */
typedef struct ig_catalogs ig_catalogs;

/* One problem with a catalog file (it is left out, the others are read). */
typedef void (*ig_catalog_error_fn)(void *ud, const char *path, uint64_t offset, const char *what);

/* Reads every *.cat under `dir` (recursively), verifies each catalog's
 * signature and chain against `trust` and indexes its members.  NULL when
 * out of memory or `dir` cannot be read (reported). */
IG_API ig_catalogs *ig_catalogs_load(const char *dir, const ig_trust *trust,
                                     ig_catalog_error_fn on_error, void *ud);
IG_API size_t ig_catalogs_count(const ig_catalogs *c);   /* catalogs indexed */
IG_API size_t ig_catalogs_members(const ig_catalogs *c); /* digests indexed */
IG_API void ig_catalogs_free(ig_catalogs *c);

/* The catalog listing the image's Authenticode digest (SHA-1 or SHA-256):
 * fills *out (path in `signer`'s place: see below) and returns 1, or 0 when
 * no catalog lists it.  out->status is IG_SIG_CATALOG when the catalog's
 * signature is valid and trusted, else the catalog's own status. */
typedef struct ig_catalog_hit {
    ig_sig_status status;
    const char *catalog; /* path of the .cat */
    const char *signer;  /* the catalog's signer */
    const char *why;     /* when not trusted */
    int64_t signing_time;
} ig_catalog_hit;
IG_API int ig_catalogs_lookup(const ig_catalogs *c, const uint8_t *data, size_t len,
                              const ig_pe *pe, ig_catalog_hit *out);

/* SHA-256 of data[0, len) as 64 lowercase hex digits and a NUL. */
IG_API void ig_sha256_hex(const uint8_t *data, size_t len, char out[65]);

#ifdef __cplusplus
}
#endif
#endif
