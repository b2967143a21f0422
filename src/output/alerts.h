/* Alerts as text: a timeline line, a JSON object with ECS field names, or a
 * CSV row.  Outputs see alerts only (include/iisguard/rules.h). */
#ifndef IG_OUTPUT_ALERTS_H
#define IG_OUTPUT_ALERTS_H

#include <stdbool.h>

#include "core/buf.h"
#include "iisguard/rules.h"

typedef enum { OUT_TEXT, OUT_JSONL, OUT_CSV } out_format;

/* The line that starts the output (text and CSV headers); may be empty. */
bool out_header(ig_buf *b, out_format f, bool color);
/* How times are shown in text and CSV (JSON keeps UTC, as ECS wants). */
typedef struct out_tz {
    bool local;     /* the machine's zone, per event (daylight saving) */
    int32_t offset; /* fixed seconds east of UTC otherwise */
} out_tz;

/* Appends one alert (one line, newline included). */
bool out_alert(ig_buf *b, out_format f, const ig_alert *a, bool color, const out_tz *tz);

/* The rule of an alert as a JSON object ({"id", "name", "level", "tags"}),
 * and a JSON alert with it made already (`rule`, rlen bytes; NULL: made
 * here): a writer of many alerts keeps each rule's. */
bool out_rule_json(ig_buf *b, const ig_rule_info *r);
bool out_alert_json(ig_buf *b, const ig_alert *a, const char *rule, size_t rlen);

/* Appends one correlation alert (one line). */
bool out_corr_alert(ig_buf *b, out_format f, const ig_corr_alert *a, bool color, const out_tz *tz);

/* "informational", "low", ... */
const char *out_level_name(ig_level l);
/* Appends `p` (n bytes of UTF-8) as a JSON string, quoted and escaped. */
bool out_json_str(ig_buf *b, const char *p, size_t n);
/* Parses a level name; false when unknown. */
bool out_level_parse(const char *s, ig_level *out);

/* FILETIME → "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, tz NULL) or with the
 * zone's offset ("+02:00"). */
bool out_time(ig_buf *b, uint64_t filetime);
bool out_time_tz(ig_buf *b, uint64_t filetime, const out_tz *tz);

#endif
