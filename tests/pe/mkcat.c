/* Test helper: writes a Windows catalog (.cat) listing the Authenticode
 * SHA-256 digests of the given PE files, signed with the given certificate
 * and key — a PKCS#7 SignedData over a certificate trust list, built with
 * OpenSSL the way signing tools build Authenticode signatures.
 * usage: mkcat OUT.cat CERT.pem KEY.pem FILE... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "iisguard/pe.h"

typedef struct out {
    unsigned char *p;
    size_t n, cap;
} out;

static void put(out *o, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL)
            exit(2);
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

/* tag, length, contents */
static void tlv(out *o, unsigned char tag, const out *in)
{
    unsigned char h[6];
    size_t k = 0;
    h[k++] = tag;
    if (in->n < 0x80) {
        h[k++] = (unsigned char)in->n;
    } else if (in->n < 0x10000) {
        h[k++] = 0x82;
        h[k++] = (unsigned char)(in->n >> 8);
        h[k++] = (unsigned char)in->n;
    } else {
        h[k++] = 0x83;
        h[k++] = (unsigned char)(in->n >> 16);
        h[k++] = (unsigned char)(in->n >> 8);
        h[k++] = (unsigned char)in->n;
    }
    put(o, h, k);
    put(o, in->p, in->n);
}

static void raw(out *o, unsigned char tag, const void *p, size_t n)
{
    out t = {(unsigned char *)p, n, n};
    tlv(o, tag, &t);
}

static void oid(out *o, const char *dotted)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(dotted, 1);
    raw(o, 0x06, OBJ_get0_data(obj), OBJ_length(obj));
    ASN1_OBJECT_free(obj);
}

static void wrap(out *o, unsigned char tag, out *in)
{
    tlv(o, tag, in);
    free(in->p);
    memset(in, 0, sizeof(*in));
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *p = malloc(len > 0 ? (size_t)len : 1);
    *n = p ? fread(p, 1, (size_t)len, f) : 0;
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fputs("usage: mkcat OUT.cat CERT.pem KEY.pem FILE...\n", stderr);
        return 2;
    }
    out subjects = {0};
    for (int i = 4; i < argc; i++) {
        size_t n;
        unsigned char *d = slurp(argv[i], &n), dig[64];
        unsigned dl = 0;
        ig_pe *pe = d ? ig_pe_parse(d, n) : NULL;
        if (pe == NULL || !ig_pe_authenticode_digest(d, n, pe, "sha256", dig, &dl)) {
            fprintf(stderr, "mkcat: %s: not a PE image\n", argv[i]);
            return 2;
        }
        ig_pe_free(pe);
        free(d);
        /* identifier: the digest as upper-case UTF-16LE hex */
        unsigned char id[128];
        for (unsigned k = 0; k < dl; k++) {
            static const char hex[] = "0123456789ABCDEF";
            id[4 * k] = (unsigned char)hex[dig[k] >> 4];
            id[4 * k + 1] = 0;
            id[4 * k + 2] = (unsigned char)hex[dig[k] & 15];
            id[4 * k + 3] = 0;
        }
        /* SpcIndirectDataContent { SpcPeImageData, DigestInfo { sha256, digest } } */
        out data = {0}, alg = {0}, di = {0}, spc = {0}, inner = {0};
        oid(&data, "1.3.6.1.4.1.311.2.1.15");
        out empty = {0};
        tlv(&data, 0x30, &empty);
        wrap(&inner, 0x30, &data);
        oid(&alg, "2.16.840.1.101.3.4.2.1");
        raw(&alg, 0x05, "", 0);
        wrap(&di, 0x30, &alg);
        raw(&di, 0x04, dig, dl);
        wrap(&inner, 0x30, &di);
        wrap(&spc, 0x30, &inner);
        /* Attribute { SPC_INDIRECT_DATA, SET { spc } } */
        out attr = {0}, vals = {0}, attrs = {0}, subj = {0};
        oid(&attr, "1.3.6.1.4.1.311.2.1.4");
        wrap(&vals, 0x31, &spc);
        put(&attr, vals.p, vals.n);
        free(vals.p);
        wrap(&attrs, 0x30, &attr);
        raw(&subj, 0x04, id, 4 * (size_t)dl);
        wrap(&subj, 0x31, &attrs);
        wrap(&subjects, 0x30, &subj);
    }
    /* the CTL */
    out ctl = {0}, usage = {0}, salg = {0}, body = {0};
    oid(&usage, "1.3.6.1.4.1.311.12.1.1");
    wrap(&ctl, 0x30, &usage);
    raw(&ctl, 0x04, "iisguard-test-01", 16);
    raw(&ctl, 0x17, "261126000000Z", 13);
    oid(&salg, "1.3.6.1.4.1.311.12.1.2");
    raw(&salg, 0x05, "", 0);
    wrap(&ctl, 0x30, &salg);
    wrap(&ctl, 0x30, &subjects);
    wrap(&body, 0x30, &ctl); /* body: the CTL with its header; ctl's value signed */

    FILE *cf = fopen(argv[2], "r"), *kf = fopen(argv[3], "r");
    X509 *cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    if (cert == NULL || key == NULL) {
        fputs("mkcat: cannot read the certificate or key\n", stderr);
        return 2;
    }
    PKCS7 *p7 = PKCS7_new();
    PKCS7_set_type(p7, NID_pkcs7_signed);
    PKCS7_SIGNER_INFO *si = PKCS7_add_signature(p7, cert, key, EVP_sha256());
    PKCS7_add_certificate(p7, cert);
    ASN1_OBJECT *ctl_oid = OBJ_txt2obj("1.3.6.1.4.1.311.10.1", 1);
    PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_dup(ctl_oid));
    PKCS7_content_new(p7, NID_pkcs7_data);
    BIO *bio = PKCS7_dataInit(p7, NULL);
    size_t hl = body.p[1] & 0x80 ? 2 + (body.p[1] & 0x7F) : 2;
    BIO_write(bio, body.p + hl, (int)(body.n - hl));
    if (!PKCS7_dataFinal(p7, bio)) {
        fputs("mkcat: signing failed\n", stderr);
        return 2;
    }
    BIO_free_all(bio);
    /* the content: the CTL (type szOID_CTL) */
    PKCS7 *td = PKCS7_new();
    td->type = ctl_oid;
    td->d.other = ASN1_TYPE_new();
    td->d.other->type = V_ASN1_SEQUENCE;
    td->d.other->value.sequence = ASN1_STRING_new();
    ASN1_STRING_set(td->d.other->value.sequence, body.p, (int)body.n);
    PKCS7_set_content(p7, td);
    FILE *o = fopen(argv[1], "wb");
    if (o == NULL || !i2d_PKCS7_fp(o, p7)) {
        fputs("mkcat: cannot write the catalog\n", stderr);
        return 2;
    }
    fclose(o);
    fclose(cf);
    fclose(kf);
    PKCS7_free(p7);
    X509_free(cert);
    EVP_PKEY_free(key);
    free(body.p);
    return 0;
}
