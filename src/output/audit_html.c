/* The audit as one self-contained HTML page: findings by severity, the
 * inventory per scope, the files.  No script and no external resource;
 * every string from the host is escaped (names in a configuration are
 * attacker-controlled). */
#include <stdio.h>
#include <string.h>

#include "core/utf16.h"
#include "output/audit_html.h"

static bool esc(ig_buf *b, const char *s)
{
    return s == NULL || ig_utf8_append_escaped(b, (const uint8_t *)s, strlen(s), IG_ESC_XML);
}

static bool cell(ig_buf *b, const char *s)
{
    return ig_buf_lit(b, "<td>") && esc(b, s ? s : "") && ig_buf_lit(b, "</td>");
}

static const char *const sev_names[] = {"", "informational", "low", "medium", "high", "critical"};

bool out_audit_html(ig_buf *b, const ig_audit_report *r)
{
    unsigned by[6] = {0};
    for (size_t i = 0; i < r->nfindings; i++)
        by[r->findings[i].severity <= IG_LEVEL_CRITICAL ? r->findings[i].severity : 0]++;
    bool ok = ig_buf_lit(
        b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
           "'none'; style-src 'unsafe-inline'\">\n<title>iisguard audit</title>\n"
           "<style>\nbody{font:14px system-ui,sans-serif;margin:2em;color:#222}\n"
           "table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}\n"
           "td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;"
           "vertical-align:top}\nth{background:#f3f3f3}\n.critical{background:"
           "#f8d0d0}.high{background:#fbe3cf}.medium{background:#fdf3c8}\n.low{"
           "background:#e8f1fb}.informational{background:#eef6ee}\ncode{font:12px "
           "ui-monospace,monospace;word-break:break-all}\n#inventory td:nth-child(5){min-width:"
           "24em}#inventory td:nth-child(8){font-size:11px;min-width:16em}\n"
           "</style></head><body>\n"
           "<h1>IIS audit</h1>\n<p id=\"root\">Root: <code>");
    ok = ok && esc(b, r->root) && ig_buf_lit(b, "</code></p>\n<p id=\"summary\">");
    char line[256];
    snprintf(line, sizeof(line),
             "%zu components, %zu findings: critical %u, high %u, medium %u, low %u, "
             "informational %u; %zu not read",
             r->ncomponents, r->nfindings, by[5], by[4], by[3], by[2], by[1], r->nerrors);
    ok = ok && ig_buf_puts(b, line) && ig_buf_lit(b, "</p>\n<h2>Findings</h2>\n");
    ok = ok && ig_buf_lit(b, "<table id=\"findings\"><tr><th>Severity</th><th>Finding</th>"
                             "<th>Evidence</th><th>Where</th><th>Mitigation</th><th>What to do"
                             "</th></tr>\n");
    for (size_t i = 0; ok && i < r->nfindings; i++) {
        const ig_audit_finding *f = &r->findings[i];
        const char *sev = sev_names[f->severity <= IG_LEVEL_CRITICAL ? f->severity : 0];
        char where[64] = "";
        if (f->line)
            snprintf(where, sizeof(where), ":%u", f->line);
        ok = ig_buf_lit(b, "<tr class=\"") && ig_buf_puts(b, sev) &&
             ig_buf_lit(b, "\" data-id=\"") && esc(b, f->id) && ig_buf_lit(b, "\">") &&
             cell(b, sev) && ig_buf_lit(b, "<td><b>") && esc(b, f->title) &&
             ig_buf_lit(b, "</b><br><code>") && esc(b, f->id) && ig_buf_lit(b, "</code></td>") &&
             ig_buf_lit(b, "<td><code>") && esc(b, f->evidence) &&
             (f->allowed_by == NULL ||
              (ig_buf_lit(b, "<br>allowed by ") && esc(b, f->allowed_by))) &&
             ig_buf_lit(b, "</code></td><td><code>") && esc(b, f->config ? f->config : "") &&
             ig_buf_puts(b, where) && ig_buf_lit(b, "</code></td>") && cell(b, f->mitigation) &&
             cell(b, f->remediation) && ig_buf_lit(b, "</tr>\n");
    }
    ok = ok && ig_buf_lit(b, "</table>\n<h2>Inventory</h2>\n");
    ok = ok && ig_buf_lit(b, "<table id=\"inventory\"><tr><th>Scope</th><th>Kind</th><th>Name"
                             "</th><th>Detail</th><th>File</th><th>Class</th><th>Signature</th>"
                             "<th>SHA-256</th><th>First seen</th></tr>\n");
    for (size_t i = 0; ok && i < r->ncomponents; i++) {
        const ig_audit_component *c = &r->components[i];
        const ig_audit_file *f = &c->file;
        ok = ig_buf_lit(b, "<tr>") && cell(b, c->scope) && cell(b, ig_comp_kind_name(c->kind)) &&
             cell(b, c->name) && cell(b, c->detail) && ig_buf_lit(b, "<td><code>") &&
             esc(b, c->has_file ? f->configured : "") &&
             (!c->has_file || f->local || (ig_buf_lit(b, "<br>") && esc(b, f->missing))) &&
             ig_buf_lit(b, "</code></td>") && cell(b, c->has_file ? f->classification : NULL) &&
             cell(b, c->has_file ? f->signature : NULL) && ig_buf_lit(b, "<td><code>") &&
             esc(b, c->has_file && f->sha256[0] ? f->sha256 : "") &&
             ig_buf_lit(b, "</code></td>") && cell(b, c->first_seen) && ig_buf_lit(b, "</tr>\n");
    }
    ok = ok && ig_buf_lit(b, "</table>\n<h2>Applications</h2>\n<table id=\"applications\"><tr>"
                             "<th>Site</th><th>Path</th><th>Folder</th><th>Modules it gets</th>"
                             "<th>Handlers, in order</th></tr>\n");
    for (size_t i = 0; ok && i < r->napps; i++) {
        const ig_audit_app *a = &r->apps[i];
        ok = ig_buf_lit(b, "<tr>") && cell(b, a->site) && cell(b, a->path) &&
             cell(b, a->physical_path) && ig_buf_lit(b, "<td>");
        for (size_t k = 0; ok && k < a->nmodules; k++)
            ok = (k == 0 || ig_buf_lit(b, ", ")) && esc(b, a->modules[k]);
        ok = ok && ig_buf_lit(b, "</td><td>");
        for (size_t k = 0; ok && k < a->nhandlers; k++)
            ok = (k == 0 || ig_buf_lit(b, ", ")) && esc(b, a->handlers[k]);
        ok = ok && ig_buf_lit(b, "</td></tr>\n");
    }
    ok = ok && ig_buf_lit(b, "</table>\n");
    if (r->nerrors) {
        ok = ok && ig_buf_lit(b, "<h2>Not read</h2>\n<ul id=\"errors\">\n");
        for (size_t i = 0; ok && i < r->nerrors; i++)
            ok = ig_buf_lit(b, "<li><code>") && esc(b, r->errors[i]) &&
                 ig_buf_lit(b, "</code></li>\n");
        ok = ok && ig_buf_lit(b, "</ul>\n");
    }
    return ok && ig_buf_lit(b, "</body></html>\n");
}
