/* Signature verification internals (authenticode.c, trust.c). */
#ifndef IG_FORMATS_PE_SIG_INT_H
#define IG_FORMATS_PE_SIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "core/arena.h"
#include "core/der.h"
#include "iisguard/pe.h"

/* Where the bytes left out of the image digest are. */
typedef struct sig_layout {
    size_t checksum_off; /* OptionalHeader.CheckSum (4 bytes) */
    size_t secdir_off;   /* the certificate table's data directory entry (8 bytes) */
    size_t cert_offset;  /* the table itself (0: none), to the end of the hashed part */
} sig_layout;

/* The layout of a parsed image; false when its headers are not in `data`. */
bool sig_layout_of(const ig_pe *pe, const uint8_t *data, size_t len, sig_layout *out);

typedef struct sig_ctx {
    const uint8_t *data;
    size_t len;
    sig_layout lay;
    ig_arena *arena;
    ig_signature *v;
    size_t n;
    X509_STORE *store;
} sig_ctx;

typedef struct sig_result {
    ig_signatures pub;
    ig_arena arena;
    ig_signature sigs[16];
} sig_result;

/* The Authenticode digest of an image with the given layout. */
bool sig_image_digest(const uint8_t *d, size_t len, const sig_layout *lay, const EVP_MD *md,
                      uint8_t *out, unsigned *outlen);
/* The digest algorithm OID and digest of an SpcIndirectDataContent (DER). */
bool sig_read_indirect(der content, der *alg_oid, der *digest);
/* The PKCS#7 signer's signature over content[0, len) (no chain check). */
bool sig_pkcs7_verify(PKCS7 *p7, PKCS7_SIGNER_INFO *si, X509 *signer, const uint8_t *content,
                      size_t len);
/* An X.509 name as RFC 2253 text in the arena (NULL on failure). */
const char *sig_name_text(ig_arena *a, X509_NAME *n);

/* Catalogs from memory (the fuzz target and tests): an empty set, one
 * catalog's bytes added under `name`, a digest looked up. */
ig_catalogs *catalogs_new(const ig_trust *trust, ig_catalog_error_fn on_error, void *ud);
void catalogs_add(ig_catalogs *c, const char *name, const uint8_t *data, size_t len);
int catalogs_lookup_digest(const ig_catalogs *c, const uint8_t *d, size_t n);

/* The trust's X509 store (the system's default store when NULL). */
X509_STORE *trust_store(const ig_trust *t);

#endif
