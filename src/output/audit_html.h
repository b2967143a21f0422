/* The audit report as a self-contained HTML page (audit_html.c). */
#ifndef IG_OUTPUT_AUDIT_HTML_H
#define IG_OUTPUT_AUDIT_HTML_H

#include <stdbool.h>

#include "core/buf.h"
#include "iisguard/audit.h"

bool out_audit_html(ig_buf *b, const ig_audit_report *r);

#endif
