/* Policy: the inventory and the configuration against the IIS 10 baseline
 * → findings.  Severities follow one rule: critical/high for evidence of a
 * rogue or tampered component, medium for a weakened configuration, low
 * for hygiene, informational for inventory notes (Microsoft add-ons). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit_int.h"
#include "audit/baseline.h"

/* Edit distance of two names without regard to case (capped at 3). */
static unsigned distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 3)
        return 3;
    unsigned d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned c = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            unsigned m = d[i - 1][j - 1] + c;
            if (d[i - 1][j] + 1 < m)
                m = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < m)
                m = d[i][j - 1] + 1;
            d[i][j] = m;
        }
    return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* A name folded for look-alike comparison: lower case, digits and
 * characters that pass for letters mapped to them, separators dropped. */
static void fold(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 1 < n; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (c == '0')
            c = 'o';
        else if (c == '1' || c == '|' || c == 'i')
            c = 'l';
        else if (c == '5')
            c = 's';
        else if (c == '-' || c == '_' || c == '.' || c == ' ')
            continue;
        out[o++] = c;
    }
    out[o] = '\0';
}

/* The baseline name `name` imitates, or NULL. */
static const char *lookalike(const char *name)
{
    char f[256], g[256];
    fold(name, f, sizeof(f));
    for (size_t i = 0; i < bl_nnative; i++) {
        if (strcasecmp(name, bl_native[i].name) == 0)
            return NULL;
        fold(bl_native[i].name, g, sizeof(g));
        if (strcmp(f, g) == 0 || distance(name, bl_native[i].name) <= 2)
            return bl_native[i].name;
    }
    return NULL;
}

static bool expanded_lower(const char *in, char *out, size_t n)
{
    if (!bl_expand(in, out, n))
        return false;
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return true;
}

static void native_module(au_run *r, const ig_audit_component *c)
{
    const bl_module *b = bl_native_find(c->name);
    const char *img = c->file.configured ? c->file.configured : "";
    char low[1024];
    bool trusted_dir = expanded_lower(img, low, sizeof(low)) && bl_trusted_dir(low);
    if (b != NULL && !bl_same_image(b->image, img)) {
        au_finding(r, "baseline-name-foreign-image", IG_LEVEL_CRITICAL,
                   "A default IIS module name points at another DLL",
                   au_fmt(r, "%s image=%s (IIS installs %s)", c->name, img, b->image), c->config,
                   c->line, "M1047",
                   "Restore the module's image to the Microsoft DLL and investigate the other "
                   "file.");
    } else if (b != NULL && b->addon) {
        au_finding(r, "microsoft-addon-module", IG_LEVEL_INFORMATIONAL,
                   "A Microsoft add-on module is installed",
                   au_fmt(r, "%s (%s) image=%s", c->name, b->feature, img), c->config, c->line,
                   "M1047", "Keep it if the add-on is in use.");
    } else if (b == NULL) {
        const char *like = lookalike(c->name);
        if (like != NULL)
            au_finding(r, "lookalike-module-name", IG_LEVEL_HIGH,
                       "A native module's name imitates a default IIS module",
                       au_fmt(r, "%s imitates %s; image=%s", c->name, like, img), c->config,
                       c->line, "M1047",
                       "Remove the module unless its vendor and purpose are known.");
        au_finding(r, "unknown-native-module", IG_LEVEL_HIGH,
                   "A native module that a default IIS installation does not have",
                   au_fmt(r, "%s image=%s%s", c->name, img, c->enabled ? " (enabled)" : ""),
                   c->config, c->line, "M1047",
                   "Identify the module's vendor; remove it with appcmd uninstall module if it "
                   "is not wanted.");
    }
    if (c->file.configured && !trusted_dir)
        au_finding(r, "image-outside-trusted-dirs", IG_LEVEL_HIGH,
                   "A native module is loaded from outside the folders IIS components live in",
                   au_fmt(r, "%s image=%s", c->name, img), c->config, c->line, "M1038",
                   "Move legitimate modules under Program Files or inetsrv; treat others as "
                   "suspect.");
    if (c->file.local == NULL && c->file.configured && !r->config_only)
        au_finding(
            r, "image-missing", IG_LEVEL_MEDIUM, "A registered module's DLL is not in the image",
            au_fmt(r, "%s image=%s: %s", c->name, img, c->file.missing ? c->file.missing : "?"),
            c->config, c->line, "M1047",
            "Remove the registration, or find out where the DLL went.");
    if (c->file.signature && trusted_dir &&
        (strcmp(c->file.signature, "unsigned") == 0 ||
         strcmp(c->file.signature, "hash_mismatch") == 0 ||
         strcmp(c->file.signature, "signature_invalid") == 0))
        au_finding(r, "unsigned-in-microsoft-place", IG_LEVEL_CRITICAL,
                   "A module DLL in Microsoft's folders that no signature or catalog vouches for",
                   au_fmt(r, "%s image=%s signature=%s", c->name, img, c->file.signature),
                   c->config, c->line, "M1045",
                   "Compare the file with a known-good copy; replace it from installation "
                   "media.");
    if (!c->enabled)
        au_finding(r, "dormant-module", IG_LEVEL_LOW,
                   "A native module is registered but not enabled",
                   au_fmt(r, "%s image=%s", c->name, img), c->config, c->line, "M1047",
                   "Unregister modules that are not used.");
}

/* Findings of one <system.webServer> section as it is read. */
void au_section_findings(au_run *r, const xt_node *ws, const char *scope, const char *config)
{
    if (ws == NULL)
        return;
    const xt_node *cr = xt_path(ws, "security/isapiCgiRestriction");
    static const struct {
        const char *attr, *id, *title;
    } nl[] = {{"notListedIsapisAllowed", "notlisted-isapis-allowed",
               "Any ISAPI extension may run, listed or not"},
              {"notListedCgisAllowed", "notlisted-cgis-allowed",
               "Any CGI program may run, listed or not"}};
    for (size_t i = 0; cr && i < 2; i++) {
        const char *v = xt_attr(cr, nl[i].attr);
        if (v && strcasecmp(v, "true") == 0)
            au_finding(r, nl[i].id, IG_LEVEL_MEDIUM, nl[i].title,
                       au_fmt(r, "%s %s=true", scope, nl[i].attr), config, cr->line, "M1038",
                       "Set it to false and list the extensions that are needed.");
    }
    const xt_node *m = xt_child(ws, "modules");
    for (const xt_node *a = m ? m->first : NULL; a != NULL; a = a->next)
        if (strcmp(a->name, "remove") == 0 && xt_attr(a, "name") &&
            bl_security_module(xt_attr(a, "name")))
            au_finding(r, "security-module-removed", IG_LEVEL_MEDIUM,
                       "A security or logging module is removed",
                       au_fmt(r, "%s removes %s", scope, xt_attr(a, "name")), config, a->line,
                       "M1047", "Restore the module at this scope.");
    const xt_node *hl = xt_child(ws, "httpLogging");
    const char *dl = hl ? xt_attr(hl, "dontLog") : NULL;
    if (dl && strcasecmp(dl, "true") == 0)
        au_finding(r, "logging-disabled", IG_LEVEL_MEDIUM, "HTTP logging is turned off",
                   au_fmt(r, "%s httpLogging dontLog=true", scope), config, hl->line, "M1047",
                   "Turn logging back on; requests to a backdoor leave no trace without it.");
    const xt_node *frt = xt_path(ws, "tracing/traceFailedRequests");
    for (const xt_node *a = frt ? frt->first : NULL; a != NULL; a = a->next) {
        const xt_node *fd = xt_child(a, "failureDefinitions");
        const char *exe = fd ? xt_attr(fd, "customActionExe") : NULL;
        if (exe && *exe)
            au_finding(
                r, "frt-custom-action", IG_LEVEL_HIGH, "Failed-request tracing runs a program",
                au_fmt(r, "%s customActionExe=%s %s", scope, exe,
                       xt_attr(fd, "customActionParams") ? xt_attr(fd, "customActionParams") : ""),
                config, fd->line, "M1047",
                "Remove the custom action unless a diagnostic needs it now.");
    }
}

static bool listed(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i], name) == 0)
            return true;
    return false;
}

/* "scope name type=T assembly=FILE (classification)" for a managed component. */
static const char *managed_evidence(au_run *r, const ig_audit_component *c, const char *type)
{
    if (!c->has_file)
        return au_fmt(r, "%s %s type=%s", c->scope, c->name, type);
    return au_fmt(r, "%s %s type=%s assembly=%s (%s)", c->scope, c->name, type, c->file.configured,
                  c->file.classification ? c->file.classification : c->file.missing);
}

void au_findings(au_run *r)
{
    if (r->config_only)
        au_finding(r, "files-not-in-image", IG_LEVEL_INFORMATIONAL,
                   "The image holds the configuration but not the IIS binaries",
                   "Windows/System32/inetsrv/iiscore.dll is not under the root; the files "
                   "components name were not checked",
                   NULL, 0, "M1047",
                   "Collect the inetsrv folder and the files the inventory names to check them.");
    /* enabled: at the server, or at some location or site */
    for (size_t i = 0; i < r->ncomps; i++)
        if (r->comps[i].kind == IG_COMP_NATIVE_MODULE)
            r->comps[i].enabled = listed(r->enabled, r->nenabled, r->comps[i].name) ||
                                  listed(r->enabled_loc, r->nenabled_loc, r->comps[i].name);
    for (size_t i = 0; i < r->ncomps; i++) {
        const ig_audit_component *c = &r->comps[i];
        r->cur_comp = (long)i;
        switch (c->kind) {
        case IG_COMP_NATIVE_MODULE: native_module(r, c); break;
        case IG_COMP_MANAGED_MODULE: {
            const bl_managed *b = bl_managed_find(c->name);
            const char *type = c->detail ? c->detail : "";
            bool system = strncmp(type, "System.", 7) == 0 || strncmp(type, "Microsoft.", 10) == 0;
            if (b == NULL && !system)
                au_finding(r, "nonsystem-managed-module", IG_LEVEL_MEDIUM,
                           "A managed module from outside the .NET Framework",
                           managed_evidence(r, c, type), c->config, c->line, "M1047",
                           "Identify the assembly (bin/ or the GAC) and its author.");
            break;
        }
        case IG_COMP_MANAGED_HANDLER: {
            const char *type = c->detail ? c->detail : "";
            if (strncmp(type, "System.", 7) != 0 && strncmp(type, "Microsoft.", 10) != 0)
                au_finding(r, "nonsystem-managed-handler", IG_LEVEL_MEDIUM,
                           "A managed handler from outside the .NET Framework",
                           managed_evidence(r, c, type), c->config, c->line, "M1047",
                           "A handler answers the requests its path matches, as a web shell "
                           "does: identify the assembly (bin/ or the GAC) and its author.");
            break;
        }
        case IG_COMP_ISAPI_FILTER: {
            /* ASP.NET registers its own filter (aspnet_filter.dll) */
            char low[1024];
            const char *fp = c->file.configured ? c->file.configured : "";
            size_t fl = strlen(fp);
            if (expanded_lower(fp, low, sizeof(low)) && bl_trusted_dir(low) && fl > 17 &&
                strcasecmp(fp + fl - 17, "aspnet_filter.dll") == 0 &&
                strncasecmp(c->name, "ASP.Net_", 8) == 0)
                break;
            au_finding(r, "isapi-filter", IG_LEVEL_MEDIUM, "An ISAPI filter is loaded",
                       au_fmt(r, "%s %s path=%s (%s)", c->scope, c->name,
                              c->file.configured ? c->file.configured : "?",
                              c->file.classification ? c->file.classification
                                                     : (c->file.missing ? c->file.missing : "?")),
                       c->config, c->line, "M1038",
                       "A default IIS 10 installation has no ISAPI filter; remove it unless "
                       "known.");
            break;
        }
        case IG_COMP_HANDLER: {
            char low[1024];
            const char *sp = c->file.configured ? c->file.configured : "";
            bool ok = expanded_lower(sp, low, sizeof(low)) && bl_trusted_dir(low);
            if (!ok)
                au_finding(r, "handler-script-processor", IG_LEVEL_MEDIUM,
                           "A handler runs a DLL or program from outside the IIS folders",
                           au_fmt(r, "%s %s scriptProcessor=%s", c->scope, c->name, sp), c->config,
                           c->line, "M1038",
                           "Check the handler's script processor and its vendor.");
            break;
        }
        default: break;
        }
    }
    r->cur_comp = -1;
    /* names enabled at the server that no globalModules entry registers */
    for (size_t i = 0; i < r->nenabled; i++) {
        bool reg = false;
        for (size_t k = 0; k < r->ncomps && !reg; k++)
            reg = r->comps[k].kind == IG_COMP_NATIVE_MODULE &&
                  strcasecmp(r->comps[k].name, r->enabled[i]) == 0;
        /* ASP.NET's modules are enabled by name with preConditions; managed
         * ones need no registration */
        reg = reg || bl_managed_find(r->enabled[i]) != NULL;
        if (!reg)
            au_finding(r, "unregistered-module", IG_LEVEL_MEDIUM,
                       "A module is enabled but not registered in globalModules",
                       au_fmt(r, "server <modules> adds %s", r->enabled[i]), NULL, 0, "M1047",
                       "IIS fails to start worker processes this way; fix the registration.");
    }
    au_sort_findings(r);
}

/* Most severe first, then in the order seen. */
void au_sort_findings(au_run *r)
{
    for (size_t i = 1; i < r->nfinds; i++)
        for (size_t k = i; k > 0 && r->finds[k - 1].severity < r->finds[k].severity; k--) {
            ig_audit_finding t = r->finds[k];
            long tc = r->find_comp[k];
            r->finds[k] = r->finds[k - 1];
            r->find_comp[k] = r->find_comp[k - 1];
            r->finds[k - 1] = t;
            r->find_comp[k - 1] = tc;
        }
}
