/* Minimal PE32+ DLLs for fixtures and the demo: a .text section of one
 * `ret` per export and an .rdata section holding the export directory
 * (names sorted, as the loader's binary search needs).  Enough for IIS
 * classification (an ISAPI filter, a native module) without a compiler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igfix.h"

static void w16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void w32(unsigned char *p, unsigned long v)
{
    w16(p, (unsigned)(v & 0xFFFF));
    w16(p + 2, (unsigned)(v >> 16));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int igfix_write_dll(const char *path, const char *dll_name, const char *const *exports, size_t n)
{
    enum { HDR = 0x200, TEXT_RVA = 0x1000, RDATA_RVA = 0x2000, TEXT_RAW = 0x200 };
    const char **names = calloc(n ? n : 1, sizeof(*names));
    unsigned char *f = calloc(1, 0x2000);
    if (names == NULL || f == NULL || n > 64) {
        free(names);
        free(f);
        return -1;
    }
    memcpy(names, exports, n * sizeof(*names));
    qsort(names, n, sizeof(*names), by_name);
    /* .rdata layout: directory, functions, names, ordinals, strings */
    unsigned long dir = RDATA_RVA, funcs = dir + 40, nametab = funcs + 4 * n,
                  ords = nametab + 4 * n, str = ords + 2 * n;
    unsigned char *rd = f + HDR + TEXT_RAW; /* file offset of .rdata */
    unsigned long s = str;
    size_t dl = strlen(dll_name) + 1;
    memcpy(rd + (s - RDATA_RVA), dll_name, dl);
    w32(rd + 12, s); /* Name */
    s += dl;
    w32(rd + 16, 1); /* Base */
    w32(rd + 20, n);
    w32(rd + 24, n);
    w32(rd + 28, funcs);
    w32(rd + 32, nametab);
    w32(rd + 36, ords);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]) + 1;
        if (s + l - RDATA_RVA > 0x1000 - HDR - TEXT_RAW) {
            free(names);
            free(f);
            return -1;
        }
        memcpy(rd + (s - RDATA_RVA), names[i], l);
        w32(rd + (funcs - RDATA_RVA) + 4 * i, TEXT_RVA + 16 * i);
        w32(rd + (nametab - RDATA_RVA) + 4 * i, s);
        w16(rd + (ords - RDATA_RVA) + 2 * i, (unsigned)i);
        f[HDR + 16 * i] = 0xC3; /* ret */
        s += l;
    }
    unsigned long rdata_size = s - RDATA_RVA, rdata_raw = (rdata_size + 0x1FF) & ~0x1FFul;
    /* headers */
    f[0] = 'M', f[1] = 'Z';
    w32(f + 0x3C, 0x40);
    memcpy(f + 0x40, "PE\0\0", 4);
    unsigned char *coff = f + 0x44, *opt = coff + 20;
    w16(coff, 0x8664);
    w16(coff + 2, 2);
    w32(coff + 4, 0x5F5E1000); /* a fixed link time */
    w16(coff + 16, 240);
    w16(coff + 18, 0x2022); /* executable, large address aware, DLL */
    w16(opt, 0x20B);
    w32(opt + 4, TEXT_RAW);    /* SizeOfCode */
    w32(opt + 20, TEXT_RVA);   /* BaseOfCode */
    w32(opt + 24, 0x80000000); /* ImageBase 0x180000000 */
    w32(opt + 28, 0x1);
    w32(opt + 32, 0x1000); /* SectionAlignment */
    w32(opt + 36, 0x200);  /* FileAlignment */
    w16(opt + 40, 6);      /* OS version */
    w16(opt + 48, 6);      /* subsystem version */
    w32(opt + 56, RDATA_RVA + 0x1000);
    w32(opt + 60, HDR);
    w16(opt + 68, 2);     /* Windows GUI */
    w16(opt + 70, 0x160); /* high entropy VA, dynamic base, NX */
    w32(opt + 72, 0x100000);
    w32(opt + 80, 0x1000);
    w32(opt + 88, 0x100000);
    w32(opt + 96, 0x1000);
    w32(opt + 108, 16);
    w32(opt + 112, dir); /* export directory */
    w32(opt + 116, rdata_size);
    unsigned char *sec = opt + 240;
    memcpy(sec, ".text", 5);
    w32(sec + 8, 16 * (n ? n : 1));
    w32(sec + 12, TEXT_RVA);
    w32(sec + 16, TEXT_RAW);
    w32(sec + 20, HDR);
    w32(sec + 36, 0x60000020); /* code, execute, read */
    sec += 40;
    memcpy(sec, ".rdata", 6);
    w32(sec + 8, rdata_size);
    w32(sec + 12, RDATA_RVA);
    w32(sec + 16, rdata_raw);
    w32(sec + 20, HDR + TEXT_RAW);
    w32(sec + 36, 0x40000040); /* initialised data, read */
    size_t len = HDR + TEXT_RAW + rdata_raw;
    FILE *out = fopen(path, "wb");
    int rc = out != NULL && fwrite(f, 1, len, out) == len ? 0 : -1;
    if (out != NULL && fclose(out) != 0)
        rc = -1;
    free(names);
    free(f);
    return rc;
}
