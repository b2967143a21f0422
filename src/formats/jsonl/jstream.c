/* Splitting a stream into JSON objects (jstream.h). */
#include <string.h>

#include "formats/jsonl/jstream.h"

void js_split_init(js_split *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->line = 1;
    s->max = max;
}

static bool is_header(const uint8_t *p, size_t n)
{
    return n > 7 && memcmp(p, "Record ", 7) == 0 && p[7] >= '0' && p[7] <= '9';
}

size_t js_split_feed(js_split *s, const uint8_t *d, size_t len, bool eof, js_value_fn on_value,
                     js_bad_fn on_bad, void *ud)
{
    size_t i = s->pos;
    while (i < len) {
        uint8_t ch = d[i];
        if (!s->in_value) {
            if (ch == '\n')
                s->line++;
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ',' || ch == '[' ||
                ch == ']') {
                i++;
                continue;
            }
            if (ch == '{') {
                s->in_value = true;
                s->depth = 1;
                s->in_str = s->esc = s->skipping = false;
                s->start = i++;
                s->start_line = s->line;
                continue;
            }
            /* anything else runs to the end of its line */
            const uint8_t *nl = memchr(d + i, '\n', len - i);
            if (nl == NULL && !eof)
                break; /* the rest of that line is not here yet */
            size_t e = nl ? (size_t)(nl - d) : len;
            if (!is_header(d + i, e - i))
                on_bad(ud, s->line, "not a JSON object; line skipped");
            i = e;
            continue;
        }
        if (s->in_str) {
            if (s->esc) {
                s->esc = false;
            } else if (ch == '\\') {
                s->esc = true;
            } else if (ch == '"') {
                s->in_str = false;
            } else if (ch == '\n') {
                /* a line break cannot be in a string: the object is damaged */
                if (!s->skipping)
                    on_bad(ud, s->start_line, "unterminated string in a JSON object; skipped");
                s->in_value = s->in_str = false;
                continue; /* the line break is read again, outside */
            }
            i++;
            continue;
        }
        if (ch == '"') {
            s->in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (ch == '{' && i > 0 && d[i - 1] == '\n') {
                /* an object starting a line inside another: that one ended early */
                if (!s->skipping)
                    on_bad(ud, s->start_line, "JSON object ends early; skipped");
                s->in_value = false;
                continue;
            }
            s->depth++;
        } else if (ch == '}' || ch == ']') {
            if (--s->depth == 0) {
                if (!s->skipping)
                    on_value(ud, (const char *)d + s->start, i + 1 - s->start, s->start_line);
                s->in_value = false;
            }
        } else if (ch == '\n') {
            s->line++;
        }
        i++;
    }
    if (eof) {
        if (s->in_value && !s->skipping)
            on_bad(ud, s->start_line, "JSON object not closed at the end of the input");
        s->in_value = false;
        s->pos = 0;
        return len;
    }
    /* what the caller may drop: everything before the unfinished object
     * (or line); an object over the limit is reported once and dropped as
     * it arrives */
    size_t keep = s->in_value ? s->start : i;
    if (s->in_value && i - s->start > s->max) {
        if (!s->skipping)
            on_bad(ud, s->start_line, "JSON object longer than the limit; skipped");
        s->skipping = true;
    }
    if (s->in_value && s->skipping)
        keep = i;
    /* a "{" at the start of the next buffer must still see the line break
     * before it: keep one byte of context */
    if (keep > 0 && keep == i && d[keep - 1] == '\n')
        keep--;
    s->pos = i - keep;
    s->start = s->in_value && !s->skipping ? s->start - keep : 0;
    return keep;
}
