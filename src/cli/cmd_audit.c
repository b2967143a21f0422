/* iisguard audit --root DIR [--catroot DIR] [--trust FILE|DIR] [--format text|json]
 *                [--output FILE [--force]] [-q]
 *
 * Every component an offline IIS host's configuration loads, the files
 * they name, and the findings, most severe first.  Exit 0 when nothing is
 * medium or worse, 1 when something is, 2 when a configuration could not
 * be read (the rest of the audit still runs). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "iisguard/audit.h"
#include "output/alerts.h"
#include "output/audit_html.h"

static void js(ig_buf *b, const char *s)
{
    if (s == NULL)
        ig_buf_lit(b, "null");
    else
        out_json_str(b, s, strlen(s));
}

/* A JSON array of strings. */
static void js_list(ig_buf *b, const char *const *v, size_t n)
{
    ig_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ig_buf_putc(b, ',');
        js(b, v[i]);
    }
    ig_buf_putc(b, ']');
}

static void key(ig_buf *b, const char *k, bool first)
{
    if (!first)
        ig_buf_putc(b, ',');
    js(b, k);
    ig_buf_putc(b, ':');
}

static void json_report(ig_buf *b, const ig_audit_report *r)
{
    ig_buf_putc(b, '{');
    key(b, "root", true);
    js(b, r->root);
    key(b, "findings", false);
    ig_buf_putc(b, '[');
    for (size_t i = 0; i < r->nfindings; i++) {
        const ig_audit_finding *f = &r->findings[i];
        ig_buf_puts(b, i ? ",{" : "{");
        key(b, "id", true);
        js(b, f->id);
        key(b, "severity", false);
        js(b, out_level_name(f->severity));
        key(b, "title", false);
        js(b, f->title);
        key(b, "evidence", false);
        js(b, f->evidence);
        key(b, "file", false);
        js(b, f->config);
        key(b, "line", false);
        ig_buf_u64(b, f->line);
        key(b, "mitigation", false);
        js(b, f->mitigation);
        key(b, "remediation", false);
        js(b, f->remediation);
        key(b, "component", false);
        js(b, f->component);
        key(b, "allowed_by", false);
        js(b, f->allowed_by);
        ig_buf_putc(b, '}');
    }
    ig_buf_putc(b, ']');
    key(b, "components", false);
    ig_buf_putc(b, '[');
    for (size_t i = 0; i < r->ncomponents; i++) {
        const ig_audit_component *c = &r->components[i];
        ig_buf_puts(b, i ? ",{" : "{");
        key(b, "kind", true);
        js(b, ig_comp_kind_name(c->kind));
        key(b, "name", false);
        js(b, c->name);
        key(b, "detail", false);
        js(b, c->detail);
        key(b, "scope", false);
        js(b, c->scope);
        key(b, "file", false);
        js(b, c->config);
        key(b, "line", false);
        ig_buf_u64(b, c->line);
        key(b, "first_seen", false);
        js(b, c->first_seen);
        key(b, "baseline", false);
        js(b, c->baseline);
        if (c->kind == IG_COMP_NATIVE_MODULE) {
            key(b, "enabled", false);
            ig_buf_puts(b, c->enabled ? "true" : "false");
        }
        if (c->has_file) {
            const ig_audit_file *f = &c->file;
            key(b, "image", false);
            ig_buf_putc(b, '{');
            key(b, "configured", true);
            js(b, f->configured);
            key(b, "local", false);
            js(b, f->local);
            key(b, "missing", false);
            js(b, f->missing);
            key(b, "size", false);
            ig_buf_u64(b, f->size);
            key(b, "sha256", false);
            js(b, f->sha256[0] ? f->sha256 : NULL);
            key(b, "classification", false);
            js(b, f->classification);
            key(b, "signature", false);
            js(b, f->signature);
            key(b, "signer", false);
            js(b, f->signer);
            ig_buf_putc(b, '}');
        }
        ig_buf_putc(b, '}');
    }
    ig_buf_putc(b, ']');
    key(b, "applications", false);
    ig_buf_putc(b, '[');
    for (size_t i = 0; i < r->napps; i++) {
        const ig_audit_app *a = &r->apps[i];
        ig_buf_puts(b, i ? ",{" : "{");
        key(b, "site", true);
        js(b, a->site);
        key(b, "path", false);
        js(b, a->path);
        key(b, "physical_path", false);
        js(b, a->physical_path);
        key(b, "modules", false);
        js_list(b, a->modules, a->nmodules);
        key(b, "handlers", false);
        js_list(b, a->handlers, a->nhandlers);
        ig_buf_putc(b, '}');
    }
    ig_buf_putc(b, ']');
    key(b, "errors", false);
    js_list(b, r->errors, r->nerrors);
    ig_buf_lit(b, "}\n");
}

static void text_report(FILE *f, const ig_audit_report *r)
{
    fprintf(f, "IIS audit of %s\n", r->root);
    for (int sev = IG_LEVEL_CRITICAL; sev >= IG_LEVEL_INFORMATIONAL; sev--) {
        bool head = false;
        for (size_t i = 0; i < r->nfindings; i++) {
            const ig_audit_finding *x = &r->findings[i];
            if ((int)x->severity != sev)
                continue;
            if (!head)
                fprintf(f, "\n== %s ==\n", out_level_name((ig_level)sev));
            head = true;
            fprintf(f, "[%s] %s\n    %s\n", x->id, x->title, x->evidence ? x->evidence : "");
            if (x->config)
                fprintf(f, "    at %s:%u\n", x->config, x->line);
            fprintf(f, "    %s: %s\n", x->mitigation ? x->mitigation : "", x->remediation);
            if (x->allowed_by)
                fprintf(f, "    allowed by %s\n", x->allowed_by);
        }
    }
    fprintf(f, "\n== inventory ==\n");
    for (size_t i = 0; i < r->ncomponents; i++) {
        const ig_audit_component *c = &r->components[i];
        fprintf(f, "%-22s %-34s %s%s%s", ig_comp_kind_name(c->kind), c->name, c->scope,
                c->kind == IG_COMP_NATIVE_MODULE ? (c->enabled ? ", enabled" : ", not enabled")
                                                 : "",
                c->detail ? "" : "\n");
        if (c->detail)
            fprintf(f, " (%s)\n", c->detail);
        if (c->first_seen || c->baseline)
            fprintf(f, "%-22s   %s%s%s%s\n", "", c->first_seen ? "first seen: " : "",
                    c->first_seen ? c->first_seen : "", c->baseline ? "  baseline: " : "",
                    c->baseline ? c->baseline : "");
        if (c->has_file)
            fprintf(f, "%-22s   %s -> %s%s%s%s%s\n", "",
                    c->file.configured ? c->file.configured : "",
                    c->file.local ? (c->file.classification ? c->file.classification : "read")
                                  : (c->file.missing ? c->file.missing : "?"),
                    c->file.signature ? ", " : "", c->file.signature ? c->file.signature : "",
                    c->file.signer ? " by " : "", c->file.signer ? c->file.signer : "");
    }
    if (r->napps)
        fprintf(f, "\n== applications (modules after inheritance) ==\n");
    for (size_t i = 0; i < r->napps; i++) {
        const ig_audit_app *a = &r->apps[i];
        fprintf(f, "%s %s (%s): %zu modules:", a->site, a->path,
                a->physical_path ? a->physical_path : "?", a->nmodules);
        for (size_t k = 0; k < a->nmodules; k++)
            fprintf(f, "%s%s", k ? ", " : " ", a->modules[k]);
        fprintf(f, "\n    %zu handlers, in order:", a->nhandlers);
        for (size_t k = 0; k < a->nhandlers; k++)
            fprintf(f, "%s%s", k ? ", " : " ", a->handlers[k]);
        fputc('\n', f);
    }
    if (r->nerrors) {
        fprintf(f, "\n== not read ==\n");
        for (size_t i = 0; i < r->nerrors; i++)
            fprintf(f, "%s\n", r->errors[i]);
    }
}

int cmd_audit(int argc, char **argv)
{
    ig_audit_opts o = {NULL, NULL, NULL, NULL};
    const char *root = NULL, *outp = NULL, *save = NULL;
    bool json = false, html = false, force = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--root") == 0 && has) {
            root = argv[++i];
        } else if (strcmp(a, "--catroot") == 0 && has) {
            o.catroot = argv[++i];
        } else if (strcmp(a, "--trust") == 0 && has) {
            o.trust = argv[++i];
        } else if (strcmp(a, "--allow") == 0 && has) {
            o.allow = argv[++i];
        } else if (strcmp(a, "--baseline") == 0 && has) {
            o.baseline = argv[++i];
        } else if (strcmp(a, "--save-baseline") == 0 && has) {
            save = argv[++i];
        } else if (strcmp(a, "--format") == 0 && has) {
            const char *fmt = argv[++i];
            if (strcmp(fmt, "json") != 0 && strcmp(fmt, "text") != 0 && strcmp(fmt, "html") != 0) {
                fprintf(stderr, "iisguard audit: unknown format '%s' (text, json or html)\n", fmt);
                return 2;
            }
            json = strcmp(fmt, "json") == 0;
            html = strcmp(fmt, "html") == 0;
        } else if (strcmp(a, "--output") == 0 && has) {
            outp = argv[++i];
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if (strcmp(a, "-q") == 0) {
            quiet = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            puts("usage: iisguard audit --root DIR [--catroot DIR] [--trust FILE|DIR]\n"
                 "                      [--baseline FILE] [--save-baseline FILE] [--allow FILE]\n"
                 "                      [--format text|json|html] [--output FILE [--force]] [-q]\n"
                 "  --save-baseline writes the components and file hashes as JSON;\n"
                 "  --baseline reports what was added, removed or changed since;\n"
                 "  --allow lists approved components (a name or a SHA-256 per line),\n"
                 "  whose findings become informational.\n"
                 "  DIR is the root of a Windows system drive (an image or a triage copy)\n"
                 "  holding Windows/System32/inetsrv/config/applicationHost.config.\n"
                 "  Exit 0: nothing medium or worse; 1: findings; 2: something not read.");
            return 0;
        } else {
            fprintf(stderr, "iisguard audit: unknown argument '%s'\n", a);
            return 2;
        }
    }
    if (root == NULL) {
        fputs("usage: iisguard audit --root DIR [--format text|json]\n", stderr);
        return 2;
    }
    FILE *out = stdout;
    if (outp != NULL && (out = cli_open_output(outp, force, "audit")) == NULL)
        return 2;
    ig_audit_report *r = ig_audit_run(root, &o);
    if (r == NULL) {
        fputs("iisguard audit: out of memory\n", stderr);
        return 2;
    }
    if (save != NULL && ig_audit_save(r, save) != 0) {
        fprintf(stderr, "iisguard audit: %s: cannot write the baseline\n", save);
        ig_audit_free(r);
        return 2;
    }
    if (json || html) {
        ig_buf b;
        ig_buf_init(&b, 1u << 30);
        if (json)
            json_report(&b, r);
        else
            out_audit_html(&b, r);
        if (!b.failed)
            fwrite(b.data, 1, b.len, out);
        ig_buf_free(&b);
    } else {
        text_report(out, r);
    }
    unsigned by[6] = {0};
    for (size_t i = 0; i < r->nfindings; i++)
        by[r->findings[i].severity <= IG_LEVEL_CRITICAL ? r->findings[i].severity : 0]++;
    if (!quiet) {
        for (size_t i = 0; i < r->nerrors; i++)
            fprintf(stderr, "iisguard: %s\n", r->errors[i]);
        fprintf(stderr,
                "iisguard: audit: %zu components, %zu findings (critical %u, high %u, medium %u, "
                "low %u, informational %u), %zu not read\n",
                r->ncomponents, r->nfindings, by[5], by[4], by[3], by[2], by[1], r->nerrors);
    }
    int rc = r->nerrors ? 2 : (by[3] + by[4] + by[5]) ? 1 : 0;
    ig_audit_free(r);
    if (out != stdout && fclose(out) != 0)
        return 2;
    return rc;
}
