/* libFuzzer target: .NET metadata.  The input becomes the metadata of a
 * minimal PE32 DLL built around it (one section holding a CLI header whose
 * MetaData directory points at the input), so every run reaches the
 * metadata root, stream headers, table row counts and sizes, TypeRef /
 * TypeDef / InterfaceImpl / AssemblyRef walks and the #Strings and #Blob
 * reads (dotnet.c) through the public parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iisguard/pe.h"

#define HDR 0x200
#define VA  0x1000

static void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
    w16(p, (uint16_t)v);
    w16(p + 2, (uint16_t)(v >> 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    size_t raw = 72 + size, len = HDR + raw;
    uint8_t *f = calloc(1, len);
    if (f == NULL)
        return 0;
    f[0] = 'M', f[1] = 'Z';
    w32(f + 0x3c, 0x40);
    memcpy(f + 0x40, "PE\0\0", 4);
    uint8_t *coff = f + 0x44, *opt = coff + 20;
    w16(coff, 0x14c);       /* i386 */
    w16(coff + 2, 1);       /* one section */
    w16(coff + 16, 224);    /* optional header size */
    w16(coff + 18, 0x2102); /* executable, 32-bit, DLL */
    w16(opt, 0x10b);
    w32(opt + 32, 0x1000); /* section alignment */
    w32(opt + 36, 0x200);  /* file alignment */
    w32(opt + 56, VA + (uint32_t)raw);
    w32(opt + 60, HDR);
    w32(opt + 92, 16);
    w32(opt + 96 + 14 * 8, VA); /* CLI header */
    w32(opt + 96 + 14 * 8 + 4, 72);
    uint8_t *sec = opt + 224;
    memcpy(sec, ".text", 5);
    w32(sec + 8, (uint32_t)raw);
    w32(sec + 12, VA);
    w32(sec + 16, (uint32_t)raw);
    w32(sec + 20, HDR);
    uint8_t *cli = f + HDR;
    w32(cli, 72);
    w32(cli + 8, VA + 72); /* MetaData */
    w32(cli + 12, (uint32_t)size);
    if (size)
        memcpy(f + HDR + 72, data, size);
    ig_pe *p = ig_pe_parse(f, len);
    if (p != NULL) {
        if (p->nmanaged > 256)
            abort();
        volatile size_t sink = 0;
        for (size_t i = 0; i < p->nmanaged; i++)
            sink += strlen(p->managed[i].type) + strlen(p->managed[i].iface) +
                    (p->managed[i].via ? strlen(p->managed[i].via) : 0);
        if (p->clr_version)
            sink += strlen(p->clr_version);
        if (p->assembly_name)
            sink += strlen(p->assembly_name);
        (void)sink;
        ig_pe_free(p);
    }
    free(f);
    return 0;
}
