/* igfix internals shared by its source files. */
#ifndef IGFIX_H
#define IGFIX_H

#include "iisguard/evtx_writer.h"

/* 2024-03-12 08:00:00 UTC as FILETIME: where generated timelines start. */
#define IGFIX_T0 ((1710230400ull + 11644473600ull) * 10000000ull)

/* Appends the events of the flat JSON-lines file `path` to `w`
 * (igfix_jsonl.c).  Returns 0, or 1 after printing why to stderr. */
int igfix_from_jsonl(ig_evtx_writer *w, const char *path);

/* Writes a minimal PE32+ DLL named `dll_name` exporting `exports` (by name,
 * each a `ret`) to `path` (igfix_pe.c).  Returns 0, or -1. */
#include <stddef.h>
int igfix_write_dll(const char *path, const char *dll_name, const char *const *exports, size_t n);

/* Writes an IIS host tree under `root` (igfix_iis.c): the IIS 10 baseline,
 * and with `demo` a planted native module, a site-level ISAPI filter and a
 * managed module in bin/.  Returns 0, or -1. */
#include <stdbool.h>
int igfix_iis(const char *root, bool demo);

#endif
