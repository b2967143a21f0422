/* Catalog files (.cat): a PKCS#7 SignedData whose content is a certificate
 * trust list (szOID_CTL, 1.3.6.1.4.1.311.10.1):
 *   CTL ::= SEQUENCE { subjectUsage, listIdentifier?, sequenceNumber?,
 *     thisUpdate, nextUpdate?, subjectAlgorithm, trustedSubjects?, [0] ext? }
 *   TrustedSubject ::= SEQUENCE { subjectIdentifier OCTET STRING,
 *     subjectAttributes SET OF Attribute }
 * A member's Authenticode digest is in its SPC_INDIRECT_DATA attribute (an
 * SpcIndirectDataContent, as in an embedded signature); the identifier is
 * often the same digest, raw or as UTF-16 hex, and is indexed too.  Each
 * catalog's signature is verified and its chain built to the trust store at
 * its signing time when it has one, else without a time check (Windows
 * accepts catalogs whose certificates have since expired). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/der.h"
#include "formats/pe/sig_int.h"

#define MAX_CATALOG_FILE (64u << 20)
#define MAX_MEMBERS      (4u << 20) /* digests indexed, in all */
#define MAX_DEPTH        16

static const uint8_t OID_CTL[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0a, 0x01};
static const uint8_t OID_SPC_INDIRECT[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x01, 0x04};

typedef struct cat_info {
    const char *path, *signer, *why;
    ig_sig_status status;
    int64_t signing_time;
} cat_info;

typedef struct slot {
    uint8_t d[32];
    uint8_t len; /* 0: empty */
    uint32_t cat;
} slot;

struct ig_catalogs {
    ig_arena arena;
    cat_info *cats;
    size_t ncats, cap;
    slot *tab;
    size_t nslots, used;
    X509_STORE *store;
    ig_catalog_error_fn on_error;
    void *ud;
};

static uint64_t hash_of(const uint8_t *d, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

static bool grow(ig_catalogs *c)
{
    size_t n = c->nslots ? c->nslots * 2 : 1024;
    slot *t = ig_calloc(n, sizeof(*t));
    if (t == NULL)
        return false;
    for (size_t i = 0; i < c->nslots; i++) {
        if (c->tab[i].len == 0)
            continue;
        size_t k = hash_of(c->tab[i].d, c->tab[i].len) & (n - 1);
        while (t[k].len)
            k = (k + 1) & (n - 1);
        t[k] = c->tab[i];
    }
    ig_free(c->tab);
    c->tab = t;
    c->nslots = n;
    return true;
}

static void index_digest(ig_catalogs *c, const uint8_t *d, size_t n, uint32_t cat)
{
    if ((n != 20 && n != 32) || c->used >= MAX_MEMBERS)
        return;
    if ((c->used + 1) * 2 > c->nslots && !grow(c))
        return;
    size_t k = hash_of(d, n) & (c->nslots - 1);
    while (c->tab[k].len) {
        if (c->tab[k].len == n && memcmp(c->tab[k].d, d, n) == 0)
            return; /* the first catalog listing it is kept */
        k = (k + 1) & (c->nslots - 1);
    }
    memcpy(c->tab[k].d, d, n);
    c->tab[k].len = (uint8_t)n;
    c->tab[k].cat = cat;
    c->used++;
}

static const slot *find(const ig_catalogs *c, const uint8_t *d, size_t n)
{
    if (c->nslots == 0)
        return NULL;
    size_t k = hash_of(d, n) & (c->nslots - 1);
    while (c->tab[k].len) {
        if (c->tab[k].len == n && memcmp(c->tab[k].d, d, n) == 0)
            return &c->tab[k];
        k = (k + 1) & (c->nslots - 1);
    }
    return NULL;
}

/* A subject identifier holding a digest as UTF-16LE hex (40 or 64 digits). */
static void index_hex_id(ig_catalogs *c, der id, uint32_t cat)
{
    if (id.len != 80 && id.len != 128 && id.len != 82 && id.len != 130)
        return;
    uint8_t d[32];
    size_t n = (id.len >= 128 ? 64 : 40) / 2;
    for (size_t i = 0; i < 2 * n; i++) {
        uint8_t ch = id.p[2 * i];
        int v = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                         : -1;
        if (v < 0 || id.p[2 * i + 1] != 0)
            return;
        d[i / 2] = (uint8_t)(i % 2 ? d[i / 2] | v : v << 4);
    }
    index_digest(c, d, n, cat);
}

/* Members of the CTL `ctl` (its SEQUENCE contents). */
static size_t read_members(ig_catalogs *c, der ctl, uint32_t cat)
{
    size_t members = 0;
    der el;
    uint8_t tag;
    while (der_next(&ctl, &tag, &el, NULL)) {
        /* trustedSubjects: a SEQUENCE of SEQUENCE { OCTET STRING, SET } */
        if (tag != DER_SEQUENCE)
            continue;
        der probe = el, first, id;
        if (!der_expect(&probe, DER_SEQUENCE, &first, NULL) ||
            !der_expect(&first, DER_OCTETS, &id, NULL))
            continue;
        der subjects = el, subj;
        while (der_expect(&subjects, DER_SEQUENCE, &subj, NULL)) {
            der attrs, attr;
            if (!der_expect(&subj, DER_OCTETS, &id, NULL))
                continue;
            members++;
            index_digest(c, id.p, id.len, cat);
            index_hex_id(c, id, cat);
            if (!der_expect(&subj, DER_SET, &attrs, NULL))
                continue;
            while (der_expect(&attrs, DER_SEQUENCE, &attr, NULL)) {
                der oid, vals, val, whole, alg, digest;
                if (!der_expect(&attr, DER_OID, &oid, NULL) ||
                    !der_oid_is(oid, OID_SPC_INDIRECT, sizeof(OID_SPC_INDIRECT)) ||
                    !der_expect(&attr, DER_SET, &vals, NULL))
                    continue;
                if (der_expect(&vals, DER_SEQUENCE, &val, &whole) &&
                    sig_read_indirect(whole, &alg, &digest))
                    index_digest(c, digest.p, digest.len, cat);
            }
        }
    }
    return members;
}

static void cat_error(ig_catalogs *c, const char *path, uint64_t off, const char *what)
{
    if (c->on_error != NULL)
        c->on_error(c->ud, path, off, what);
}

static void load_one(ig_catalogs *c, const char *path, const uint8_t *data, size_t len)
{
    const unsigned char *p = data;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    X509_STORE_CTX *xc = NULL;
    if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign->contents == NULL ||
        p7->d.sign->contents->type == NULL) {
        cat_error(c, path, 0, "not a PKCS#7 SignedData");
        goto done;
    }
    ASN1_OBJECT *ct = p7->d.sign->contents->type;
    ASN1_TYPE *other = p7->d.sign->contents->d.other;
    if ((size_t)OBJ_length(ct) != sizeof(OID_CTL) ||
        memcmp(OBJ_get0_data(ct), OID_CTL, sizeof(OID_CTL)) != 0 || other == NULL ||
        other->type != V_ASN1_SEQUENCE) {
        cat_error(c, path, 0, "content is not a certificate trust list");
        goto done;
    }
    if (c->ncats == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        cat_info *v = ig_realloc(c->cats, sizeof(*v) * cap);
        if (v == NULL)
            goto done;
        c->cats = v;
        c->cap = cap;
    }
    cat_info *ci = &c->cats[c->ncats];
    memset(ci, 0, sizeof(*ci));
    ci->path = ig_arena_dup(&c->arena, path, strlen(path) + 1);
    der body = {other->value.sequence->data, (size_t)other->value.sequence->length}, ctl;
    if (ci->path == NULL || !der_expect(&body, DER_SEQUENCE, &ctl, NULL)) {
        cat_error(c, path, 0, "the certificate trust list does not parse");
        goto done;
    }
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
    PKCS7_SIGNER_INFO *si =
        sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
    STACK_OF(X509) *signers = si ? PKCS7_get0_signers(p7, NULL, 0) : NULL;
    X509 *signer = signers && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
    sk_X509_free(signers);
    ERR_clear_error();
    if (signer == NULL) {
        ci->status = IG_SIG_MALFORMED;
        ci->why = "no single signer with its certificate";
    } else {
        ci->signer = sig_name_text(&c->arena, X509_get_subject_name(signer));
        ASN1_TYPE *st = PKCS7_get_signed_attribute(si, NID_pkcs9_signingTime);
        if (st != NULL && (st->type == V_ASN1_UTCTIME || st->type == V_ASN1_GENERALIZEDTIME)) {
            struct tm tm;
            if (ASN1_TIME_to_tm(st->value.utctime, &tm))
                ci->signing_time = (int64_t)timegm(&tm);
        }
        if (!sig_pkcs7_verify(p7, si, signer, ctl.p, ctl.len)) {
            ci->status = IG_SIG_INVALID;
            ci->why = "the catalog's signature does not verify";
        } else if ((xc = X509_STORE_CTX_new()) == NULL || c->store == NULL ||
                   !X509_STORE_CTX_init(xc, c->store, signer, p7->d.sign->cert)) {
            ci->status = IG_SIG_UNTRUSTED;
            ci->why = "no trust store";
        } else {
            X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_ANY);
            X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(xc);
            if (ci->signing_time)
                X509_VERIFY_PARAM_set_time(vp, (time_t)ci->signing_time);
            else
                X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
            if (X509_verify_cert(xc) == 1) {
                ci->status = IG_SIG_CATALOG;
            } else {
                char *why = ig_arena_alloc(&c->arena, 160);
                if (why != NULL)
                    snprintf(why, 160, "catalog certificate chain: %s",
                             X509_verify_cert_error_string(X509_STORE_CTX_get_error(xc)));
                ci->status = IG_SIG_UNTRUSTED;
                ci->why = why;
            }
        }
        ERR_clear_error();
    }
    read_members(c, ctl, (uint32_t)c->ncats);
    c->ncats++;
done:
    X509_STORE_CTX_free(xc);
    PKCS7_free(p7);
}

static void walk(ig_catalogs *c, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        cat_error(c, dir, 0, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            continue;
        struct stat sb;
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth < MAX_DEPTH)
                walk(c, path, depth + 1);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (!S_ISREG(sb.st_mode) || n < 4 || strcasecmp(e->d_name + n - 4, ".cat") != 0)
            continue;
        if ((uint64_t)sb.st_size > MAX_CATALOG_FILE) {
            cat_error(c, path, 0, "larger than 64 MiB; not read");
            continue;
        }
        FILE *f = fopen(path, "rb");
        uint8_t *buf = f ? ig_malloc((size_t)sb.st_size + 1) : NULL;
        size_t got = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
        if (f != NULL)
            fclose(f);
        if (buf == NULL || got != (size_t)sb.st_size)
            cat_error(c, path, 0, "cannot be read");
        else
            load_one(c, path, buf, got);
        ig_free(buf);
    }
    closedir(d);
}

ig_catalogs *catalogs_new(const ig_trust *trust, ig_catalog_error_fn on_error, void *ud)
{
    ig_catalogs *c = ig_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    ig_arena_init(&c->arena, 0);
    c->store = trust_store(trust);
    c->on_error = on_error;
    c->ud = ud;
    return c;
}

void catalogs_add(ig_catalogs *c, const char *name, const uint8_t *data, size_t len)
{
    if (len <= MAX_CATALOG_FILE)
        load_one(c, name, data, len);
}

int catalogs_lookup_digest(const ig_catalogs *c, const uint8_t *d, size_t n)
{
    return find(c, d, n) != NULL;
}

ig_catalogs *ig_catalogs_load(const char *dir, const ig_trust *trust, ig_catalog_error_fn on_error,
                              void *ud)
{
    ig_catalogs *c = catalogs_new(trust, on_error, ud);
    if (c == NULL)
        return NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cat_error(c, dir, 0, "not a folder");
        ig_catalogs_free(c);
        return NULL;
    }
    walk(c, dir, 0);
    return c;
}

size_t ig_catalogs_count(const ig_catalogs *c)
{
    return c ? c->ncats : 0;
}

size_t ig_catalogs_members(const ig_catalogs *c)
{
    return c ? c->used : 0;
}

void ig_catalogs_free(ig_catalogs *c)
{
    if (c == NULL)
        return;
    ig_free(c->tab);
    ig_free(c->cats);
    ig_arena_destroy(&c->arena);
    ig_free(c);
}

int ig_catalogs_lookup(const ig_catalogs *c, const uint8_t *data, size_t len, const ig_pe *pe,
                       ig_catalog_hit *out)
{
    static const char *const algs[] = {"sha256", "sha1"};
    if (c == NULL || c->used == 0)
        return 0;
    for (size_t i = 0; i < 2; i++) {
        uint8_t d[64];
        unsigned n = 0;
        if (!ig_pe_authenticode_digest(data, len, pe, algs[i], d, &n))
            return 0;
        const slot *s = find(c, d, n);
        if (s != NULL) {
            const cat_info *ci = &c->cats[s->cat];
            *out = (ig_catalog_hit){ci->status, ci->path, ci->signer, ci->why, ci->signing_time};
            return 1;
        }
    }
    return 0;
}
