/* Authenticode (Microsoft "Windows Authenticode Portable Executable
 * Signature Format"): every WIN_CERTIFICATE entry of the certificate table
 * holds a PKCS#7 SignedData whose content, SpcIndirectDataContent, carries
 * the digest of the image (the file without its CheckSum field, its
 * certificate table directory entry and the table itself).  For each
 * signature, and for the signatures nested in its unsigned attributes:
 * the image digest is recomputed with the signed algorithm and compared,
 * the signature is verified over the content, the signer's chain is built
 * to the trust store at the time a countersignature or RFC 3161 time-stamp
 * gives (else now).  OpenSSL parses the PKCS#7; the SpcIndirectDataContent
 * and time-stamp data are read with the bounded DER reader. */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/der.h"
#include "core/rd.h"
#include "formats/pe/pe_int.h"
#include "formats/pe/sig_int.h"

#define MAX_SIGNATURES 16u /* entries and nested signatures, in all */
#define MAX_NESTING    4u

static const uint8_t OID_SPC_INDIRECT[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x01, 0x04};
static const uint8_t OID_NESTED[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x04, 0x01};
static const uint8_t OID_RFC3161[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x03, 0x03, 0x01};

const char *ig_sig_status_name(ig_sig_status s)
{
    static const char *const names[] = {
        "unsigned",  "malformed", "hash_mismatch",  "signature_invalid",
        "untrusted", "trusted",   "catalog_signed", "not_verifiable_offline"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* ---- the image digest --------------------------------------------------------- */

/* Digest of the file without the CheckSum field, the certificate table's
 * directory entry and the table (osslsigncode and Windows agree on this
 * form); NULL md → false. */
bool sig_image_digest(const uint8_t *d, size_t len, const sig_layout *lay, const EVP_MD *md,
                      uint8_t *out, unsigned *outlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL);
    size_t end = lay->cert_offset && lay->cert_offset <= len ? lay->cert_offset : len;
    size_t cks = lay->checksum_off, sec = lay->secdir_off;
    if (ok && (cks + 4 > end || sec + 8 > end || cks >= sec))
        ok = false;
    ok = ok && EVP_DigestUpdate(ctx, d, cks) && EVP_DigestUpdate(ctx, d + cks + 4, sec - cks - 4) &&
         EVP_DigestUpdate(ctx, d + sec + 8, end - sec - 8);
    /* an unsigned file whose length is not a multiple of 8 is hashed padded */
    if (ok && lay->cert_offset == 0 && len % 8) {
        static const uint8_t zero[8] = {0};
        ok = EVP_DigestUpdate(ctx, zero, 8 - len % 8);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, outlen);
    EVP_MD_CTX_free(ctx);
    return ok;
}

static const EVP_MD *md_of_oid(der oid, const char **name)
{
    ASN1_OBJECT *o = oid.len <= 64 ? ASN1_OBJECT_create(NID_undef, (unsigned char *)oid.p,
                                                        (int)oid.len, NULL, NULL)
                                   : NULL;
    int nid = o ? OBJ_obj2nid(o) : NID_undef;
    ASN1_OBJECT_free(o);
    const EVP_MD *md = nid != NID_undef ? EVP_get_digestbynid(nid) : NULL;
    *name = md ? OBJ_nid2sn(nid) : NULL;
    return md;
}

/* SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue,
 *   messageDigest DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING } } */
bool sig_read_indirect(der content, der *alg_oid, der *digest)
{
    der seq, data, di, alg;
    uint8_t tag;
    return der_expect(&content, DER_SEQUENCE, &seq, NULL) && der_next(&seq, &tag, &data, NULL) &&
           tag == DER_SEQUENCE && der_expect(&seq, DER_SEQUENCE, &di, NULL) &&
           der_expect(&di, DER_SEQUENCE, &alg, NULL) && der_expect(&alg, DER_OID, alg_oid, NULL) &&
           der_expect(&di, DER_OCTETS, digest, NULL);
}

/* ---- names and times -------------------------------------------------------------- */

const char *sig_name_text(ig_arena *a, X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    const char *s = NULL;
    if (b != NULL && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        long len = BIO_get_mem_data(b, &p);
        if (len >= 0 && p != NULL) {
            char *t = ig_arena_alloc(a, (size_t)len + 1);
            if (t != NULL) {
                memcpy(t, p, (size_t)len);
                t[len] = '\0';
                s = t;
            }
        }
    }
    BIO_free(b);
    return s;
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    int64_t y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    /* days from civil (Howard Hinnant) */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

/* Digest of the signer's signature value (what a countersignature or a
 * time-stamp signs) with `md`. */
static bool digest_of_signature(PKCS7_SIGNER_INFO *si, const EVP_MD *md, uint8_t *out, unsigned *n)
{
    return md != NULL && si->enc_digest != NULL &&
           EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length, out, n, md, NULL);
}

/* The chain of a countersigner or time-stamping authority, at `when`. */
static bool chain_ok(X509_STORE *store, X509 *cert, STACK_OF(X509) * untrusted, int64_t when)
{
    X509_STORE_CTX *xc = X509_STORE_CTX_new();
    bool ok = xc != NULL && store != NULL && X509_STORE_CTX_init(xc, store, cert, untrusted);
    if (ok) {
        X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_ANY);
        if (when)
            X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(xc), (time_t)when);
        ok = X509_verify_cert(xc) == 1;
    }
    X509_STORE_CTX_free(xc);
    ERR_clear_error();
    return ok;
}

/* A PKCS#9 countersignature: its messageDigest is the digest of the
 * signer's signature, and its own signature covers its authenticated
 * attributes. */
static const char *check_pkcs9(PKCS7 *p7, PKCS7_SIGNER_INFO *si, PKCS7_SIGNER_INFO *csi,
                               X509_STORE *store, int64_t when)
{
    const EVP_MD *md = EVP_get_digestbyobj(csi->digest_alg->algorithm);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    ASN1_OCTET_STRING *want = PKCS7_digest_from_attributes(csi->auth_attr);
    if (!digest_of_signature(si, md, d, &dl) || want == NULL || (unsigned)want->length != dl ||
        memcmp(want->data, d, dl) != 0)
        return "the countersignature does not sign this signature";
    X509 *cert =
        csi->issuer_and_serial
            ? X509_find_by_issuer_and_serial(p7->d.sign->cert, csi->issuer_and_serial->issuer,
                                             csi->issuer_and_serial->serial)
            : NULL;
    unsigned char *abuf = NULL;
    int alen =
        cert ? ASN1_item_i2d((ASN1_VALUE *)csi->auth_attr, &abuf, ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY))
             : -1;
    EVP_MD_CTX *ctx = alen > 0 ? EVP_MD_CTX_new() : NULL;
    bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, md, NULL, X509_get0_pubkey(cert)) &&
              EVP_DigestVerify(ctx, csi->enc_digest->data, (size_t)csi->enc_digest->length, abuf,
                               (size_t)alen) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(abuf);
    ERR_clear_error();
    if (!ok)
        return cert ? "the countersignature's own signature does not verify"
                    : "the countersigner's certificate is not in the signature";
    if (!chain_ok(store, cert, p7->d.sign->cert, when))
        return "the countersigner's certificate chain is not trusted";
    return NULL;
}

/* An RFC 3161 time-stamp token: the TSA's signature over the TSTInfo, whose
 * messageImprint is the digest of the signer's signature; genTime → *when. */
static const char *check_rfc3161(PKCS7 *tok, PKCS7_SIGNER_INFO *si, X509_STORE *store,
                                 int64_t *when)
{
    if (!PKCS7_type_is_signed(tok) || tok->d.sign->contents->type == NULL ||
        tok->d.sign->contents->d.other == NULL ||
        tok->d.sign->contents->d.other->type != V_ASN1_OCTET_STRING)
        return "the time-stamp token is not a SignedData over a TSTInfo";
    ASN1_OCTET_STRING *os = tok->d.sign->contents->d.other->value.octet_string;
    der tst = {os->data, (size_t)os->length}, seq, v, imprint, alg, oid, hashed;
    uint8_t tag;
    /* TSTInfo: version, policy, messageImprint, serialNumber, genTime */
    if (!der_expect(&tst, DER_SEQUENCE, &seq, NULL) || !der_next(&seq, &tag, &v, NULL) ||
        !der_next(&seq, &tag, &v, NULL) || !der_expect(&seq, DER_SEQUENCE, &imprint, NULL) ||
        !der_expect(&imprint, DER_SEQUENCE, &alg, NULL) || !der_expect(&alg, DER_OID, &oid, NULL) ||
        !der_expect(&imprint, DER_OCTETS, &hashed, NULL) || !der_next(&seq, &tag, &v, NULL) ||
        !der_expect(&seq, DER_GENTIME, &v, NULL))
        return "the TSTInfo does not parse";
    ASN1_GENERALIZEDTIME *g = ASN1_GENERALIZEDTIME_new();
    if (g != NULL && ASN1_STRING_set(g, v.p, (int)v.len))
        *when = asn1_time_unix(g);
    ASN1_GENERALIZEDTIME_free(g);
    const char *name = NULL;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (!digest_of_signature(si, md_of_oid(oid, &name), d, &dl) || dl != hashed.len ||
        memcmp(d, hashed.p, dl) != 0)
        return "the time-stamp is not over this signature";
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(tok);
    PKCS7_SIGNER_INFO *tsi =
        sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
    STACK_OF(X509) *signers = tsi ? PKCS7_get0_signers(tok, NULL, 0) : NULL;
    X509 *tsa = signers && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
    sk_X509_free(signers);
    ERR_clear_error();
    if (tsa == NULL || !sig_pkcs7_verify(tok, tsi, tsa, os->data, (size_t)os->length))
        return "the time-stamp's signature does not verify";
    if (!chain_ok(store, tsa, tok->d.sign->cert, *when))
        return "the time-stamping authority's chain is not trusted";
    return NULL;
}

/* The signing time a countersignature gives (PKCS#9 countersignature: its
 * signingTime attribute; RFC 3161 token: TSTInfo genTime), verified:
 * out->timestamp_ok says whether it can be relied on. */
static void read_timestamp(PKCS7 *p7, PKCS7_SIGNER_INFO *si, X509_STORE *store, ig_signature *out)
{
    ASN1_TYPE *cs = PKCS7_get_attribute(si, NID_pkcs9_countersignature);
    if (cs != NULL && cs->type == V_ASN1_SEQUENCE) {
        const unsigned char *p = cs->value.sequence->data;
        PKCS7_SIGNER_INFO *csi = d2i_PKCS7_SIGNER_INFO(NULL, &p, cs->value.sequence->length);
        out->timestamp = "pkcs9";
        if (csi == NULL) {
            out->timestamp_why = "the countersignature does not parse";
            ERR_clear_error();
            return;
        }
        ASN1_TYPE *st = PKCS7_get_signed_attribute(csi, NID_pkcs9_signingTime);
        if (st != NULL && (st->type == V_ASN1_UTCTIME || st->type == V_ASN1_GENERALIZEDTIME))
            out->signing_time = asn1_time_unix(st->value.utctime);
        out->timestamp_why = check_pkcs9(p7, si, csi, store, out->signing_time);
        out->timestamp_ok = out->timestamp_why == NULL;
        PKCS7_SIGNER_INFO_free(csi);
        return;
    }
    /* RFC 3161: unsigned attribute 1.3.6.1.4.1.311.3.3.1 holding the token */
    STACK_OF(X509_ATTRIBUTE) *ua = si->unauth_attr;
    for (int i = 0; i < sk_X509_ATTRIBUTE_num(ua); i++) {
        X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(ua, i);
        const ASN1_OBJECT *o = X509_ATTRIBUTE_get0_object(a);
        if ((size_t)OBJ_length(o) != sizeof(OID_RFC3161) ||
            memcmp(OBJ_get0_data(o), OID_RFC3161, sizeof(OID_RFC3161)) != 0)
            continue;
        ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
        out->timestamp = "rfc3161";
        if (t == NULL || t->type != V_ASN1_SEQUENCE) {
            out->timestamp_why = "the time-stamp token does not parse";
            return;
        }
        const unsigned char *p = t->value.sequence->data;
        PKCS7 *tok = d2i_PKCS7(NULL, &p, t->value.sequence->length);
        if (tok == NULL) {
            out->timestamp_why = "the time-stamp token does not parse";
            ERR_clear_error();
            return;
        }
        out->timestamp_why = check_rfc3161(tok, si, store, &out->signing_time);
        out->timestamp_ok = out->timestamp_why == NULL;
        PKCS7_free(tok);
        return;
    }
}

/* The signer's signature over content[0, len): PKCS7_dataInit chains the
 * digests in front of the content, everything is read through them, then
 * PKCS7_signatureVerify checks the authenticated attributes (messageDigest)
 * and the signature.  (PKCS7_verify does the same, but leaks a buffer on
 * some malformed inputs in the OpenSSL 3.0 series.) */
bool sig_pkcs7_verify(PKCS7 *p7, PKCS7_SIGNER_INFO *si, X509 *signer, const uint8_t *content,
                      size_t len)
{
    if (len > 0x7FFFFFFF)
        return false;
    BIO *in = BIO_new_mem_buf(content, (int)len);
    if (in == NULL)
        return false;
    BIO *chain = PKCS7_dataInit(p7, in);
    if (chain == NULL) {
        BIO_free(in);
        ERR_clear_error();
        return false;
    }
    char buf[4096];
    while (BIO_read(chain, buf, sizeof(buf)) > 0)
        ;
    bool ok = PKCS7_signatureVerify(chain, p7, si, signer) == 1;
    BIO_free_all(chain); /* `in` included */
    ERR_clear_error();
    return ok;
}

/* ---- one SignedData ------------------------------------------------------------------ */

static void verify_one(sig_ctx *c, const uint8_t *blob, size_t len, unsigned entry, unsigned depth,
                       uint64_t offset);

static ig_signature *new_sig(sig_ctx *c, unsigned entry, unsigned depth, uint64_t offset)
{
    if (c->n >= MAX_SIGNATURES)
        return NULL;
    ig_signature *s = &c->v[c->n++];
    memset(s, 0, sizeof(*s));
    s->entry = entry;
    s->depth = depth;
    s->offset = offset;
    return s;
}

static void fail(ig_signature *s, ig_sig_status st, const char *why)
{
    s->status = st;
    s->why = why;
}

/* Signatures nested in the unsigned attribute 1.3.6.1.4.1.311.2.4.1. */
static void nested(sig_ctx *c, PKCS7_SIGNER_INFO *si, unsigned entry, unsigned depth,
                   uint64_t offset)
{
    if (depth >= MAX_NESTING)
        return;
    STACK_OF(X509_ATTRIBUTE) *ua = si->unauth_attr;
    for (int i = 0; i < sk_X509_ATTRIBUTE_num(ua); i++) {
        X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(ua, i);
        const ASN1_OBJECT *o = X509_ATTRIBUTE_get0_object(a);
        if ((size_t)OBJ_length(o) != sizeof(OID_NESTED) ||
            memcmp(OBJ_get0_data(o), OID_NESTED, sizeof(OID_NESTED)) != 0)
            continue;
        for (int k = 0; k < X509_ATTRIBUTE_count(a); k++) {
            ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, k);
            if (t != NULL && t->type == V_ASN1_SEQUENCE)
                verify_one(c, t->value.sequence->data, (size_t)t->value.sequence->length, entry,
                           depth + 1, offset);
        }
    }
}

static void verify_one(sig_ctx *c, const uint8_t *blob, size_t len, unsigned entry, unsigned depth,
                       uint64_t offset)
{
    ig_signature *s = new_sig(c, entry, depth, offset);
    if (s == NULL)
        return;
    const unsigned char *p = blob;
    PKCS7 *p7 = len <= 0x7FFFFFFF ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
    X509_STORE_CTX *xc = NULL;
    if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign->contents == NULL ||
        p7->d.sign->contents->type == NULL) {
        fail(s, IG_SIG_MALFORMED, "not a PKCS#7 SignedData");
        goto done;
    }
    ASN1_OBJECT *ct = p7->d.sign->contents->type;
    ASN1_TYPE *other = p7->d.sign->contents->d.other;
    if ((size_t)OBJ_length(ct) != sizeof(OID_SPC_INDIRECT) ||
        memcmp(OBJ_get0_data(ct), OID_SPC_INDIRECT, sizeof(OID_SPC_INDIRECT)) != 0 ||
        other == NULL || other->type != V_ASN1_SEQUENCE) {
        fail(s, IG_SIG_MALFORMED, "content is not SpcIndirectDataContent");
        goto done;
    }
    der content = {other->value.sequence->data, (size_t)other->value.sequence->length};
    der alg, want, body, whole;
    if (!sig_read_indirect(content, &alg, &want)) {
        fail(s, IG_SIG_MALFORMED, "SpcIndirectDataContent does not parse");
        goto done;
    }
    const EVP_MD *md = md_of_oid(alg, &s->digest);
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned glen = 0;
    if (md == NULL) {
        fail(s, IG_SIG_MALFORMED, "unknown digest algorithm");
        goto done;
    }
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
    PKCS7_SIGNER_INFO *si =
        sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
    STACK_OF(X509) *signers = si ? PKCS7_get0_signers(p7, NULL, 0) : NULL;
    X509 *signer = signers && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
    sk_X509_free(signers);
    if (si == NULL || signer == NULL) {
        ERR_clear_error();
        fail(s, IG_SIG_MALFORMED, "no single signer with its certificate");
        goto done;
    }
    s->signer = sig_name_text(c->arena, X509_get_subject_name(signer));
    s->issuer = sig_name_text(c->arena, X509_get_issuer_name(signer));
    read_timestamp(p7, si, c->store, s);
    /* the chain is checked at a countersigned time only when that checks out */
    int64_t counter_time = s->timestamp_ok ? s->signing_time : 0;
    if (s->signing_time == 0) {
        /* no countersignature: the time the signer claims (not used for the chain) */
        ASN1_TYPE *st = PKCS7_get_signed_attribute(si, NID_pkcs9_signingTime);
        if (st != NULL && (st->type == V_ASN1_UTCTIME || st->type == V_ASN1_GENERALIZEDTIME))
            s->signing_time = asn1_time_unix(st->value.utctime);
    }
    nested(c, si, entry, depth, offset); /* they are listed after this one */
    if (!sig_image_digest(c->data, c->len, &c->lay, md, got, &glen) || glen != want.len ||
        memcmp(got, want.p, glen) != 0) {
        fail(s, IG_SIG_HASH_MISMATCH, "the image digest differs from the signed one");
        goto done;
    }
    /* the signature covers the content's value (without its SEQUENCE header) */
    body = content;
    if (!der_expect(&body, DER_SEQUENCE, &whole, NULL)) {
        fail(s, IG_SIG_MALFORMED, "SpcIndirectDataContent does not parse");
        goto done;
    }
    if (!sig_pkcs7_verify(p7, si, signer, whole.p, whole.len)) {
        fail(s, IG_SIG_INVALID, "the signature does not verify over the signed content");
        goto done;
    }
    /* the chain, at the signing time when a countersignature gives one */
    xc = X509_STORE_CTX_new();
    if (xc == NULL || !X509_STORE_CTX_init(xc, c->store, signer, p7->d.sign->cert)) {
        fail(s, IG_SIG_UNTRUSTED, "no trust store");
        goto done;
    }
    X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_ANY);
    if (counter_time)
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(xc), (time_t)counter_time);
    if (X509_verify_cert(xc) == 1) {
        s->status = IG_SIG_TRUSTED;
    } else {
        int e = X509_STORE_CTX_get_error(xc);
        s->status = IG_SIG_UNTRUSTED;
        char *why = ig_arena_alloc(c->arena, 160);
        if (why != NULL)
            snprintf(why, 160, "certificate chain: %s", X509_verify_cert_error_string(e));
        s->why = why;
    }
    ERR_clear_error();
done:
    X509_STORE_CTX_free(xc);
    PKCS7_free(p7);
}

/* ---- the certificate table --------------------------------------------------------------- */

ig_signatures *ig_pe_verify(const uint8_t *data, size_t len, const ig_pe *pe, const ig_trust *trust)
{
    sig_result *r = ig_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    ig_arena_init(&r->arena, 0);
    r->pub.v = r->sigs;
    sig_ctx c = {data, len, {0, 0, 0}, &r->arena, r->sigs, 0, trust_store(trust)};
    if (pe == NULL || pe->cls == IG_PE_NOT_PE || !sig_layout_of(pe, data, len, &c.lay)) {
        r->pub.status = IG_SIG_UNSIGNED;
        return &r->pub;
    }
    if (pe->cert_size == 0 || pe->cert_offset == 0) {
        r->pub.status = IG_SIG_UNSIGNED;
        return &r->pub;
    }
    if (pe->cert_offset >= len || pe->cert_size > len - pe->cert_offset) {
        ig_signature *s = new_sig(&c, 0, 0, pe->cert_offset);
        fail(s, IG_SIG_MALFORMED, "the certificate table runs past the end of the file");
    } else {
        /* WIN_CERTIFICATE entries: dwLength, wRevision, wCertificateType, data;
         * each starts 8-byte aligned */
        size_t off = pe->cert_offset, end = off + pe->cert_size;
        for (unsigned entry = 0; off + 8 <= end && c.n < MAX_SIGNATURES; entry++) {
            uint32_t dl = ig_le32(data + off);
            uint16_t type = ig_le16(data + off + 6);
            if (dl < 8 || dl > end - off) {
                ig_signature *s = new_sig(&c, entry, 0, off);
                if (s != NULL)
                    fail(s, IG_SIG_MALFORMED, "WIN_CERTIFICATE length is out of range");
                break;
            }
            if (type == 2 /* WIN_CERT_TYPE_PKCS_SIGNED_DATA */)
                verify_one(&c, data + off + 8, dl - 8, entry, 0, off);
            off += ((size_t)dl + 7) & ~(size_t)7;
        }
        if (c.n == 0) {
            ig_signature *s = new_sig(&c, 0, 0, pe->cert_offset);
            fail(s, IG_SIG_MALFORMED, "the certificate table holds no PKCS#7 signature");
        }
    }
    r->pub.n = c.n;
    r->pub.status = c.n ? c.v[0].status : IG_SIG_UNSIGNED;
    r->pub.why = c.n ? c.v[0].why : NULL;
    return &r->pub;
}

int ig_pe_authenticode_digest(const uint8_t *data, size_t len, const ig_pe *pe, const char *alg,
                              uint8_t *out, unsigned *outlen)
{
    sig_layout lay;
    const EVP_MD *md = EVP_get_digestbyname(alg);
    if (pe == NULL || pe->cls == IG_PE_NOT_PE || md == NULL || !sig_layout_of(pe, data, len, &lay))
        return false;
    return sig_image_digest(data, len, &lay, md, out, outlen);
}

void ig_signatures_free(ig_signatures *s)
{
    if (s == NULL)
        return;
    sig_result *r = (sig_result *)s;
    ig_arena_destroy(&r->arena);
    ig_free(r);
}
