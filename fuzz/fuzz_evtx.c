/* libFuzzer target: a whole .evtx image (file header, chunks, records,
 * Binary XML, templates) through the reader, rendered as JSON and XML.
 *
 * An input that does not start with "ElfFile\0" is treated as the content of
 * one chunk: it is placed after a minimal 4096-byte file header (magic,
 * version 3.1, rest zero; the CRC is not fixed up) in a single 65536-byte
 * chunk, zero padded or truncated.  This lets the fuzzer work on small
 * inputs without having to build a whole file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iisguard/evtx.h"

#define FZ_HEADER_SIZE 4096u
#define FZ_CHUNK_SIZE  65536u

static uint8_t image[FZ_HEADER_SIZE + FZ_CHUNK_SIZE];

static int sink(void *ud, const char *data, size_t len)
{
    (void)ud;
    volatile char c = 0;
    for (size_t i = 0; i < len; i += 4096)
        c ^= data[i];
    (void)c;
    return 0;
}

static void run(const uint8_t *data, size_t size)
{
    for (int fmt = 0; fmt < 2; fmt++) {
        ig_evtx_opts o = {0};
        o.format = fmt ? IG_EVTX_XML : IG_EVTX_JSONL;
        o.threads = 1;
        o.output = sink;
        ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
        if (d == NULL)
            return;
        ig_evtx_dumper_buffer(d, "fuzz", data, size);
        ig_evtx_dumper_destroy(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, "ElfFile\0", 8) == 0) {
        run(data, size);
        return 0;
    }
    /* chunk mode: minimal header + the input as the only chunk */
    memset(image, 0, sizeof(image));
    memcpy(image, "ElfFile\0", 8);
    image[36] = 1; /* minor version, le16 */
    image[38] = 3; /* major version, le16 */
    size_t n = size < FZ_CHUNK_SIZE ? size : FZ_CHUNK_SIZE;
    if (n > 0)
        memcpy(image + FZ_HEADER_SIZE, data, n);
    run(image, sizeof(image));
    return 0;
}
