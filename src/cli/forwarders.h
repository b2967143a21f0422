/* Forwarded exports followed within the files a command reads: which file
 * a forwarder ("iisproxy.RegisterModule") lands in, and for IIS entry
 * points what that file is. */
#ifndef IG_CLI_FORWARDERS_H
#define IG_CLI_FORWARDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "iisguard/pe.h"

typedef struct fwd_index fwd_index;

/* Indexes the files by base name (case-insensitive); with `siblings`, the
 * other files of their folders too.  NULL when out of memory. */
fwd_index *fwd_index_build(char **paths, long n, bool siblings);
void fwd_index_free(fwd_index *x);

/* The file a forwarder's module ("KERNEL32" of "KERNEL32.Sleep") names:
 * MODULE.dll, or MODULE when it has an extension; NULL when not indexed. */
const char *fwd_file(const fwd_index *x, const char *forwarder);

/* An IIS entry point that is forwarded, followed. */
typedef struct fwd_entry {
    const char *name, *to; /* "RegisterModule", "iisproxy.RegisterModule" */
    const char *file;      /* the target file, NULL when not among the files */
    bool exported;         /* the target exports the forwarded name */
    const char *cls;       /* the target's classification, or NULL */
} fwd_entry;

/* Follows p's forwarded IIS entry points; returns how many (≤ max). */
size_t fwd_entry_points(const fwd_index *x, const ig_pe *p, fwd_entry *out, size_t max);

#endif
