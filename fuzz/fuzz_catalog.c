/* libFuzzer target: one catalog file's bytes (PKCS#7 SignedData over a
 * certificate trust list) through the catalog reader — signature and chain
 * checks against an empty trust store, the CTL walk, member digests
 * (raw, UTF-16 hex, SpcIndirectDataContent) — then a lookup.
 * Seeds: catalogs made by tests/pe/mkcat (tools/fuzz.sh builds some). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/pe/sig_int.h"

static void on_error(void *ud, const char *path, uint64_t off, const char *what)
{
    (void)ud, (void)path, (void)off;
    if (what == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_catalogs *c = catalogs_new(NULL, on_error, NULL);
    if (c == NULL)
        return 0;
    catalogs_add(c, "fuzz.cat", data, size);
    if (ig_catalogs_count(c) > 1)
        abort();
    uint8_t d[32] = {0};
    (void)catalogs_lookup_digest(c, d, size % 2 ? 20 : 32);
    ig_catalogs_free(c);
    return 0;
}
