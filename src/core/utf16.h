/* UTF-16LE (untrusted) → UTF-8, optionally escaped for JSON or XML. */
#ifndef IG_CORE_UTF16_H
#define IG_CORE_UTF16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum ig_esc {
    IG_ESC_NONE, /* raw UTF-8 */
    IG_ESC_JSON, /* inside a JSON string: " \ and controls escaped */
    IG_ESC_XML   /* XML text/attribute: & < > " ' and controls as refs */
} ig_esc;

/* Appends `nchars` UTF-16LE code units read from `p` (which must hold
 * 2*nchars bytes) as UTF-8.  Unpaired surrogates become U+FFFD.  Returns
 * false when the buffer refused to grow. */
bool ig_utf16le_append(ig_buf *b, const uint8_t *p, size_t nchars, ig_esc esc);

/* Appends `n` bytes of UTF-8 (trusted to be ours, e.g. already converted)
 * with escaping. */
bool ig_utf8_append_escaped(ig_buf *b, const uint8_t *p, size_t n, ig_esc esc);

/* Appends Windows-1252 bytes as UTF-8 with escaping. */
bool ig_cp1252_append(ig_buf *b, const uint8_t *p, size_t n, ig_esc esc);

#endif
