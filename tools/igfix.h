/* igfix internals shared by its source files. */
#ifndef IGFIX_H
#define IGFIX_H

#include "iisguard/evtx_writer.h"

/* 2024-03-12 08:00:00 UTC as FILETIME: where generated timelines start. */
#define IGFIX_T0 ((1710230400ull + 11644473600ull) * 10000000ull)

/* Appends the events of the flat JSON-lines file `path` to `w`
 * (igfix_jsonl.c).  Returns 0, or 1 after printing why to stderr. */
int igfix_from_jsonl(ig_evtx_writer *w, const char *path);

#endif
