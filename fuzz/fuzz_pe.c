/* libFuzzer target: one file through ig_pe_parse (headers, sections,
 * exports, imports, version resource, debug directory, classification),
 * then every string it returns is read to its end and the counts are
 * checked against the limits; then Authenticode verification of its
 * certificate table (PKCS#7, SpcIndirectDataContent, countersignatures,
 * nested signatures) without a trust store.
 *
 * Seeds: the MinGW-w64 fixtures (tests/pe/fixtures) built by tools/fuzz.sh
 * when MinGW is installed, and small files of the PE corpus
 * (../shared/bench/pe-corpus.sh) when it is present. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "iisguard/pe.h"

static volatile size_t sink;

static void touch(const char *s)
{
    if (s != NULL)
        sink += strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_pe *p = ig_pe_parse(data, size);
    if (p == NULL)
        return 0;
    if (p->nsections > IG_MAX_PE_SECTIONS || p->nexports > IG_MAX_PE_EXPORTS ||
        p->nimports > IG_MAX_PE_IMPORTS || p->nanomalies > IG_MAX_PE_ANOMALIES ||
        p->overlay_offset > size || p->overlay_offset + p->overlay_size != size)
        if (p->cls != IG_PE_NOT_PE)
            abort();
    touch(p->why);
    touch(ig_pe_class_name(p->cls));
    touch(p->export_dll_name);
    touch(p->pdb_path);
    for (size_t i = 0; i < p->nsections; i++) {
        touch(p->sections[i].name);
        if ((uint64_t)p->sections[i].raw_size > size)
            abort();
    }
    for (size_t i = 0; i < p->nexports; i++) {
        touch(p->exports[i].name);
        touch(p->exports[i].forwarder);
    }
    for (size_t i = 0; i < p->nimports; i++) {
        touch(p->imports[i].dll);
        touch(p->imports[i].name);
    }
    for (size_t i = 0; i < p->nversion; i++) {
        touch(p->version[i].key);
        touch(p->version[i].value);
    }
    for (size_t i = 0; i < p->nevidence; i++)
        touch(p->evidence[i]);
    for (size_t i = 0; i < p->nanomalies; i++)
        touch(p->anomalies[i].what);
    /* Authenticode: the certificate table's PKCS#7 (no trust store) */
    ig_signatures *sig = ig_pe_verify(data, size, p, NULL);
    if (sig != NULL) {
        if (sig->n > 16)
            abort();
        for (size_t i = 0; i < sig->n; i++) {
            touch(sig->v[i].why);
            touch(sig->v[i].signer);
            touch(sig->v[i].issuer);
            touch(sig->v[i].digest);
            touch(ig_sig_status_name(sig->v[i].status));
        }
        ig_signatures_free(sig);
    }
    if (size < 1u << 20) {
        char sha[65];
        ig_sha256_hex(data, size, sha);
        if (strlen(sha) != 64)
            abort();
    }
    ig_pe_free(p);
    return 0;
}
