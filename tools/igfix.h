/* igfix internals shared by its source files. */
#ifndef IGFIX_H
#define IGFIX_H

#include "iisguard/evtx_writer.h"

/* Appends the events of the flat JSON-lines file `path` to `w`
 * (igfix_jsonl.c).  Returns 0, or 1 after printing why to stderr. */
int igfix_from_jsonl(ig_evtx_writer *w, const char *path);

#endif
