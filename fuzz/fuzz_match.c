/* libFuzzer target: compiling rules and matching events.  The input is a
 * rule file, optionally followed by a line "%%" and event fields, one
 * "Name=value" per line (a name may repeat).  The rules are compiled (the
 * literal prefilter and channel index built), then the event is scanned
 * twice: as given, and lower-cased field by field by the engine.  Alerts
 * are walked so that the sanitizers see any short or dangling pointer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "event/event.h"
#include "iisguard/rules.h"

static volatile size_t sink;

static void on_error(void *ud, const ig_rule_error *e)
{
    (void)ud;
    sink += e->line + strlen(e->reason);
}

static void on_alert(void *ud, const ig_alert *a)
{
    (void)ud;
    sink += strlen(a->rule->title) + a->nfields;
    for (size_t i = 0; i < a->nfields; i++)
        sink += a->fields[i].value.len + a->fields[i].name.len +
                (a->fields[i].value.len ? (unsigned char)a->fields[i].value.p[0] : 0u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t rlen = size;
    const char *evs = NULL;
    size_t elen = 0;
    for (size_t i = 0; i + 3 <= size; i++)
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, "%%\n", 3) == 0) {
            rlen = i;
            evs = text + i + 3;
            elen = size - i - 3;
            break;
        }
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    if (b == NULL)
        return 0;
    unsigned loaded = 0, rejected = 0;
    ig_rules_builder_add_text(b, "fuzz.yml", text, rlen, &loaded, &rejected);
    ig_rules *rs = ig_rules_builder_finish(b);
    if (rs == NULL)
        return 0;
    ig_arena a;
    ig_arena_init(&a, 0);
    ig_event ev;
    ev_init(&ev, &a);
    ev_add(&ev, "Channel", 7, "Microsoft-Windows-Sysmon/Operational", 36, NULL);
    ev_add(&ev, "EventID", 7, "1", 1, NULL);
    for (size_t pos = 0; evs != NULL && pos < elen;) {
        const char *nl = memchr(evs + pos, '\n', elen - pos);
        size_t end = nl ? (size_t)(nl - evs) : elen;
        const char *eq = memchr(evs + pos, '=', end - pos);
        if (eq != NULL && eq > evs + pos)
            ev_add(&ev, evs + pos, (uint32_t)(eq - (evs + pos)), eq + 1,
                   (uint32_t)(evs + end - (eq + 1)), NULL);
        pos = end + 1;
    }
    ig_scanner *s = ig_scanner_create(rs, on_alert, NULL);
    if (s != NULL) {
        sink += (size_t)ig_scanner_scan(s, &ev);
        sink += (size_t)ig_scanner_scan(s, &ev); /* again: per-event state reset */
        ig_scanner_destroy(s);
    }
    ev_free(&ev);
    ig_arena_destroy(&a);
    ig_rules_destroy(rs);
    return 0;
}
