/* Times as users write them and read them: ISO 8601 ↔ FILETIME (100 ns
 * ticks since 1601-01-01 UTC). */
#ifndef IG_CORE_TIMEFMT_H
#define IG_CORE_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fraction]]" (or a space for
 * T), with an optional "Z" or "+HH:MM"/"-HH:MM" (no offset = UTC).  False
 * on anything else; *out untouched then. */
bool ig_parse_time(const char *s, size_t len, uint64_t *out);

/* Parses a UTC offset "+HH:MM", "-HH:MM", "+HHMM", "Z" or "UTC" into
 * seconds east of UTC. */
bool ig_parse_offset(const char *s, int32_t *secs);

#endif
