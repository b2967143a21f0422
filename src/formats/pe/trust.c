/* Trust stores: the certificates a signer's chain must end in — PEM or DER
 * files, or every such file in a folder; the system's store by default. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/alloc.h"
#include "formats/pe/sig_int.h"

struct ig_trust {
    X509_STORE *store;
    unsigned certs;
};

/* Adds every certificate of the PEM (or single DER) file `path`. */
static unsigned add_file(X509_STORE *st, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    unsigned n = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        n += X509_STORE_add_cert(st, x) == 1;
        X509_free(x);
    }
    if (n == 0) {
        rewind(f);
        x = d2i_X509_fp(f, NULL);
        if (x != NULL) {
            n += X509_STORE_add_cert(st, x) == 1;
            X509_free(x);
        }
    }
    ERR_clear_error();
    fclose(f);
    return n;
}

ig_trust *ig_trust_load(const char *path, char *err, size_t errlen)
{
    ig_trust *t = ig_calloc(1, sizeof(*t));
    if (t == NULL || (t->store = X509_STORE_new()) == NULL) {
        ig_free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (path == NULL) {
        X509_STORE_set_default_paths(t->store);
        return t;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot be read", path);
        ig_trust_free(t);
        return NULL;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
            t->certs += add_file(t->store, p);
        }
        if (d != NULL)
            closedir(d);
    } else {
        t->certs = add_file(t->store, path);
    }
    if (t->certs == 0) {
        snprintf(err, errlen, "%s: no certificate found (PEM or DER)", path);
        ig_trust_free(t);
        return NULL;
    }
    return t;
}

void ig_trust_free(ig_trust *t)
{
    if (t == NULL)
        return;
    X509_STORE_free(t->store);
    ig_free(t);
}

X509_STORE *trust_store(const ig_trust *t)
{
    return t ? t->store : NULL;
}

bool sig_layout_of(const ig_pe *pe, const uint8_t *data, size_t len, sig_layout *out)
{
    if (len < 0x40)
        return false;
    size_t lfanew = (size_t)data[0x3c] | (size_t)data[0x3d] << 8 | (size_t)data[0x3e] << 16 |
                    (size_t)data[0x3f] << 24;
    size_t opt = lfanew + 24;
    size_t sec = opt + (pe->pe32plus ? 112 : 96) + 4 * 8;
    if (lfanew > len || sec + 8 > len)
        return false;
    out->checksum_off = opt + 64;
    out->secdir_off = sec;
    out->cert_offset = pe->cert_size ? pe->cert_offset : 0;
    return true;
}
