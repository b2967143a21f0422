/* libFuzzer target: a whole .evtx image (file header, chunks, records,
 * Binary XML, templates) through the reader, rendered as JSON and XML. */
#include <stddef.h>
#include <stdint.h>

#include "iisguard/evtx.h"

static int sink(void *ud, const char *data, size_t len)
{
    (void)ud;
    volatile char c = 0;
    for (size_t i = 0; i < len; i += 4096)
        c ^= data[i];
    (void)c;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int fmt = 0; fmt < 2; fmt++) {
        ig_evtx_opts o = {0};
        o.format = fmt ? IG_EVTX_XML : IG_EVTX_JSONL;
        o.threads = 1;
        o.output = sink;
        ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
        if (d == NULL)
            return 0;
        ig_evtx_dumper_buffer(d, "fuzz", data, size);
        ig_evtx_dumper_destroy(d);
    }
    return 0;
}
