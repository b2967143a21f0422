/* iisguard — the user's YARA rules (libyara) over files. */
#ifndef IISGUARD_YARA_H
#define IISGUARD_YARA_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ig_yara ig_yara;

/* A rule file that does not compile: its name, line and libyara's message. */
typedef void (*ig_yara_error_fn)(void *ud, const char *file, int line, const char *what);

/* Compiles the rules in `path`: a file, or every *.yar / *.yara under a
 * folder.  NULL when a rule does not compile (every error is reported) or
 * nothing can be read. */
IG_API ig_yara *ig_yara_load(const char *path, ig_yara_error_fn on_error, void *ud);
IG_API size_t ig_yara_rule_count(const ig_yara *y);

/* A matching rule: its namespace and identifier. */
typedef void (*ig_yara_match_fn)(void *ud, const char *ns, const char *rule);

/* Scans data[0, len) (at most 60 s); returns the number of matching rules,
 * or -1 when the scan failed (timeout, out of memory). */
IG_API int ig_yara_scan(const ig_yara *y, const uint8_t *data, size_t len, ig_yara_match_fn fn,
                        void *ud);
IG_API void ig_yara_free(ig_yara *y);

#ifdef __cplusplus
}
#endif
#endif
