/* The audit (iisguard/audit.h): applicationHost.config (after
 * redirection.config) and each site's root web.config → the components IIS
 * loads, per scope → the files they name, hashed and analysed like
 * `inspect` does → findings (findings.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit_int.h"
#include "audit/baseline.h"
#include "core/alloc.h"

#define APPHOST "%windir%\\System32\\inetsrv\\config\\applicationHost.config"
#define REDIR   "%windir%\\System32\\inetsrv\\config\\redirection.config"

const char *ig_comp_kind_name(ig_comp_kind k)
{
    static const char *const n[] = {
        "",        "native_module",         "managed_module", "isapi_filter",
        "handler", "isapi_cgi_restriction", "load_point",     "managed_handler"};
    return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "unknown";
}

const char *au_fmt(au_run *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return "";
    const char *s = ig_arena_dup(&r->arena, buf, strlen(buf) + 1);
    if (s == NULL) {
        r->oom = true;
        return "";
    }
    return s;
}

static bool grow(void **v, size_t *cap, size_t n, size_t size, size_t max)
{
    if (n < *cap)
        return true;
    if (n >= max)
        return false;
    size_t c = *cap ? *cap * 2 : 64;
    void *nv = ig_realloc(*v, c * size);
    if (nv == NULL)
        return false;
    *v = nv;
    *cap = c;
    return true;
}

void au_error(au_run *r, const char *file, unsigned line, unsigned col, const char *what)
{
    if (!grow((void **)&r->errors, &r->cape, r->nerrors, sizeof(*r->errors), AU_MAX_ERRORS))
        return;
    r->errors[r->nerrors++] = au_fmt(r, "%s:%u:%u: %s", file, line, col, what);
}

ig_audit_component *au_component(au_run *r, ig_comp_kind kind, const char *name, const char *detail,
                                 const char *scope, const char *config, const xt_node *at)
{
    if (!grow((void **)&r->comps, &r->capc, r->ncomps, sizeof(*r->comps), AU_MAX_COMPONENTS))
        return NULL;
    ig_audit_component *c = &r->comps[r->ncomps++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->name = name ? name : "";
    c->detail = detail;
    c->scope = scope;
    c->config = config;
    c->line = at ? at->line : 0;
    return c;
}

void au_finding(au_run *r, const char *id, ig_level sev, const char *title, const char *evidence,
                const char *config, unsigned line, const char *mitigation, const char *remediation)
{
    if (r->oom)
        return;
    size_t cap = r->capf;
    if (!grow((void **)&r->finds, &r->capf, r->nfinds, sizeof(*r->finds), AU_MAX_FINDINGS))
        return;
    if (cap != r->capf) {
        long *v = ig_realloc(r->find_comp, sizeof(*v) * r->capf);
        if (v == NULL) {
            r->oom = true;
            return;
        }
        r->find_comp = v;
    }
    const char *comp = r->cur_comp >= 0 ? r->comps[r->cur_comp].name : NULL;
    r->find_comp[r->nfinds] = r->cur_comp;
    r->finds[r->nfinds++] = (ig_audit_finding){id,   sev,        title,       evidence, config,
                                               line, mitigation, remediation, comp,     NULL};
}

/* ---- files ------------------------------------------------------------------------ */

/* True for a file in the folders Windows and IIS install to. */
static bool microsoft_place(const char *win)
{
    char low[1024];
    if (!bl_expand(win, low, sizeof(low)))
        return false;
    for (char *p = low; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return bl_trusted_dir(low) || strncmp(low, "c:\\windows\\", 11) == 0;
}

/* What the component's file is: resolved in the image, hashed, its PE
 * classification and signature (an embedded one, else a catalog's). */
static void file_facts(au_run *r, ig_audit_component *c, const char *configured, bool wow64)
{
    c->has_file = 1;
    ig_audit_file *f = &c->file;
    f->configured = configured;
    const char *why = NULL;
    char *local = au_fs_resolve(r->fs, configured, wow64, &why);
    if (local == NULL) {
        f->missing = why;
        return;
    }
    f->local = au_fmt(r, "%s", local);
    uint8_t *data = NULL;
    size_t len = 0;
    if (!au_fs_read(local, AU_MAX_IMAGE, &data, &len, &why)) {
        f->missing = why;
        free(local);
        return;
    }
    free(local);
    f->size = len;
    ig_sha256_hex(data, len, f->sha256);
    ig_pe *pe = ig_pe_parse(data, len);
    if (pe != NULL) {
        f->classification = ig_pe_class_name(pe->cls);
        ig_signatures *s = pe->cls != IG_PE_NOT_PE ? ig_pe_verify(data, len, pe, r->trust) : NULL;
        if (s != NULL) {
            ig_sig_status st = s->status;
            const char *signer = s->n ? s->v[0].signer : NULL;
            ig_catalog_hit hit;
            if (st != IG_SIG_TRUSTED && r->cats != NULL &&
                ig_catalogs_lookup(r->cats, data, len, pe, &hit) &&
                (hit.status == IG_SIG_CATALOG || st == IG_SIG_UNSIGNED)) {
                st = hit.status;
                signer = hit.signer;
            } else if (st == IG_SIG_UNSIGNED && r->cats == NULL && microsoft_place(configured)) {
                st = IG_SIG_NOT_VERIFIABLE; /* Windows files are catalog-signed */
            }
            f->signature = ig_sig_status_name(st);
            f->signer = signer ? au_fmt(r, "%s", signer) : NULL;
            ig_signatures_free(s);
        }
        ig_pe_free(pe);
    }
    free(data);
}

/* ---- configuration ------------------------------------------------------------------ */

/* Reads and parses a configuration file of the image; NULL when absent
 * (optional) or unreadable (reported). */
static xt_node *load_config(au_run *r, const char *win, const char **local_out, bool optional)
{
    const char *why = NULL;
    char *local = au_fs_resolve(r->fs, win, false, &why);
    if (local == NULL) {
        if (!optional)
            au_error(r, win, 0, 0, au_fmt(r, "cannot be read: %s", why));
        return NULL;
    }
    *local_out = au_fmt(r, "%s", local);
    uint8_t *data = NULL;
    size_t len = 0;
    if (!au_fs_read(local, AU_MAX_CONFIG, &data, &len, &why)) {
        au_error(r, *local_out, 0, 0, au_fmt(r, "cannot be read: %s", why));
        free(local);
        return NULL;
    }
    free(local);
    xt_doc doc;
    if (!xt_parse((const char *)data, len, &r->arena, &doc))
        r->oom = true;
    free(data);
    if (doc.error != NULL)
        au_error(r, *local_out, doc.error_line, doc.error_col,
                 au_fmt(r, "%s; the rest of this file is not read", doc.error));
    return doc.root;
}

/* <globalModules>: every registered native module. */
static void read_global_modules(au_run *r, const xt_node *ws, const char *cfg)
{
    const xt_node *gm = xt_child(ws, "globalModules");
    for (const xt_node *a = gm ? gm->first : NULL; a != NULL; a = a->next) {
        if (strcmp(a->name, "add") != 0)
            continue;
        const char *pre = xt_attr(a, "preCondition");
        ig_audit_component *c =
            au_component(r, IG_COMP_NATIVE_MODULE, xt_attr(a, "name"),
                         pre ? au_fmt(r, "preCondition %s", pre) : NULL, "server", cfg, a);
        if (c == NULL)
            return;
        /* a 32-bit-only module loads from SysWOW64 */
        bool wow64 = pre != NULL && strstr(pre, "bitness32") != NULL;
        file_facts(r, c, xt_attr(a, "image"), wow64);
    }
}

/* The file of a managed type "Ns.Type, Assembly, Version=..., PublicKeyToken=...":
 * the application's bin\ folder, then the GAC (.NET 4 and 2 layouts). */
typedef struct gac_scan {
    const char *token;
    char version[256]; /* the folder found, "" if none */
} gac_scan;

/* A GAC assembly's version folder ending "__<public key token>". */
static bool gac_version(void *ud, const char *name, const char *local, au_fs_kind kind,
                        int64_t mtime)
{
    (void)local, (void)mtime;
    gac_scan *g = ud;
    size_t el = strlen(name), tl = strlen(g->token);
    if (kind != AU_FS_DIR || el <= tl + 2 || el >= sizeof(g->version) ||
        strcasecmp(name + el - tl, g->token) != 0)
        return true;
    memcpy(g->version, name, el + 1);
    return false;
}

static const char *assembly_file(au_run *r, const char *type, const char *app_dir)
{
    char name[256] = "", token[64] = "";
    const char *comma = strchr(type, ',');
    if (comma == NULL)
        return NULL; /* App_Code or any bin assembly: not resolved here */
    const char *a = comma + 1;
    while (*a == ' ')
        a++;
    size_t n = strcspn(a, ",");
    while (n > 0 && a[n - 1] == ' ')
        n--;
    if (n == 0 || n >= sizeof(name))
        return NULL;
    memcpy(name, a, n);
    name[n] = '\0';
    const char *t = strstr(type, "PublicKeyToken=");
    if (t != NULL) {
        t += 15;
        size_t k = strcspn(t, ", ");
        if (k < sizeof(token)) {
            memcpy(token, t, k);
            token[k] = '\0';
        }
    }
    const char *why = NULL;
    if (app_dir != NULL) {
        const char *bin = au_fmt(r, "%s\\bin\\%s.dll", app_dir, name);
        char *l = au_fs_resolve(r->fs, bin, false, &why);
        if (l != NULL) {
            free(l);
            return bin;
        }
    }
    if (token[0] && strcasecmp(token, "null") != 0) {
        static const char *const gacs[] = {"%windir%\\Microsoft.NET\\assembly\\GAC_MSIL",
                                           "%windir%\\Microsoft.NET\\assembly\\GAC_64",
                                           "%windir%\\Microsoft.NET\\assembly\\GAC_32",
                                           "%windir%\\assembly\\GAC_MSIL"};
        for (size_t i = 0; i < sizeof(gacs) / sizeof(gacs[0]); i++) {
            const char *dir = au_fmt(r, "%s\\%s", gacs[i], name);
            char *l = au_fs_resolve(r->fs, dir, false, &why);
            if (l == NULL)
                continue;
            /* one folder per version: "v4.0_1.0.0.0__token" or "1.0.0.0__token" */
            gac_scan g = {token, ""};
            au_fs_list(r->fs, l, gac_version, &g);
            free(l);
            if (g.version[0] != '\0')
                return au_fmt(r, "%s\\%s\\%s.dll", dir, g.version, name);
        }
    }
    return NULL;
}

/* A managed handler: `type` names the class (and its assembly). */
static void managed_handler(au_run *r, const xt_node *a, const char *scope, const char *cfg,
                            const char *app_dir)
{
    const char *type = xt_attr(a, "type"), *path = xt_attr(a, "path");
    const char *verb = xt_attr(a, "verb"), *name = xt_attr(a, "name");
    ig_audit_component *c =
        au_component(r, IG_COMP_MANAGED_HANDLER, name ? name : (path ? path : "?"),
                     au_fmt(r, "%s (path %s, verb %s)", type, path ? path : "?", verb ? verb : "?"),
                     scope, cfg, a);
    const char *file =
        c && strncmp(type, "System.", 7) != 0 ? assembly_file(r, type, app_dir) : NULL;
    if (file != NULL)
        file_facts(r, c, file, false);
}

/* ASP.NET's classic lists, <system.web><httpModules> and <httpHandlers>:
 * managed modules and handlers of that scope. */
static void read_http_modules(au_run *r, const xt_node *conf, const char *scope, const char *cfg,
                              const char *app_dir)
{
    const xt_node *hm = xt_path(conf, "system.web/httpModules");
    for (const xt_node *a = hm ? hm->first : NULL; a != NULL; a = a->next) {
        const char *name = xt_attr(a, "name"), *type = xt_attr(a, "type");
        if (strcmp(a->name, "add") != 0 || name == NULL || type == NULL)
            continue;
        ig_audit_component *c = au_component(r, IG_COMP_MANAGED_MODULE, name, type,
                                             au_fmt(r, "%s (system.web)", scope), cfg, a);
        const char *file =
            c && strncmp(type, "System.", 7) != 0 ? assembly_file(r, type, app_dir) : NULL;
        if (file != NULL)
            file_facts(r, c, file, false);
    }
    const xt_node *hh = xt_path(conf, "system.web/httpHandlers");
    for (const xt_node *a = hh ? hh->first : NULL; a != NULL; a = a->next)
        if (strcmp(a->name, "add") == 0 && xt_attr(a, "type") != NULL && *xt_attr(a, "type"))
            managed_handler(r, a, au_fmt(r, "%s (system.web)", scope), cfg, app_dir);
}

/* <modules> at one scope: managed modules are components; native names are
 * enablements (the server's set is kept for dormant/unregistered checks). */
static void read_modules(au_run *r, const xt_node *ws, const char *scope, const char *cfg,
                         bool server, const char *app_dir)
{
    const xt_node *m = xt_child(ws, "modules");
    for (const xt_node *a = m ? m->first : NULL; a != NULL; a = a->next) {
        const char *name = xt_attr(a, "name");
        if (strcmp(a->name, "clear") == 0 && server)
            r->nenabled = 0;
        if (name == NULL)
            continue;
        if (strcmp(a->name, "remove") == 0 && server) {
            for (size_t i = 0; i < r->nenabled; i++)
                if (strcasecmp(r->enabled[i], name) == 0)
                    r->enabled[i] = r->enabled[--r->nenabled];
        }
        if (strcmp(a->name, "add") != 0)
            continue;
        const char *type = xt_attr(a, "type");
        if (type != NULL) {
            ig_audit_component *c =
                au_component(r, IG_COMP_MANAGED_MODULE, name, type, scope, cfg, a);
            const char *file =
                c && strncmp(type, "System.", 7) != 0 ? assembly_file(r, type, app_dir) : NULL;
            if (file != NULL)
                file_facts(r, c, file, false);
        } else {
            const char ***set = server ? &r->enabled : &r->enabled_loc;
            size_t *n = server ? &r->nenabled : &r->nenabled_loc;
            const char **v = ig_arena_alloc(&r->arena, sizeof(*v) * (*n + 1));
            if (v == NULL) {
                r->oom = true;
                return;
            }
            if (*n)
                memcpy(v, *set, sizeof(*v) * *n);
            v[(*n)++] = name;
            *set = v;
        }
    }
}

static void read_isapi_filters(au_run *r, const xt_node *ws, const char *scope, const char *cfg)
{
    const xt_node *f = xt_child(ws, "isapiFilters");
    for (const xt_node *a = f ? f->first : NULL; a != NULL; a = a->next) {
        if (strcmp(a->name, "filter") != 0 && strcmp(a->name, "add") != 0)
            continue;
        ig_audit_component *c =
            au_component(r, IG_COMP_ISAPI_FILTER, xt_attr(a, "name"), NULL, scope, cfg, a);
        if (c == NULL)
            return;
        const char *pre = xt_attr(a, "preCondition");
        file_facts(r, c, xt_attr(a, "path"), pre && strstr(pre, "bitness32"));
    }
}

static void read_handlers(au_run *r, const xt_node *ws, const char *scope, const char *cfg,
                          const char *app_dir)
{
    const xt_node *h = xt_child(ws, "handlers");
    for (const xt_node *a = h ? h->first : NULL; a != NULL; a = a->next) {
        const char *sp = xt_attr(a, "scriptProcessor"), *type = xt_attr(a, "type");
        if (strcmp(a->name, "add") != 0)
            continue;
        if ((sp == NULL || *sp == '\0') && type != NULL && *type != '\0') {
            managed_handler(r, a, scope, cfg, app_dir);
            continue;
        }
        if (sp == NULL || *sp == '\0')
            continue;
        const char *mods = xt_attr(a, "modules");
        ig_audit_component *c =
            au_component(r, IG_COMP_HANDLER, xt_attr(a, "name"),
                         au_fmt(r, "path %s, modules %s",
                                xt_attr(a, "path") ? xt_attr(a, "path") : "?", mods ? mods : "?"),
                         scope, cfg, a);
        if (c == NULL)
            return;
        /* FastCGI: "C:\php\php-cgi.exe|-d arg" names the program first */
        char prog[1024];
        snprintf(prog, sizeof(prog), "%s", sp);
        char *bar = strchr(prog, '|');
        if (bar != NULL)
            *bar = '\0';
        const char *pre = xt_attr(a, "preCondition");
        file_facts(r, c, au_fmt(r, "%s", prog), pre && strstr(pre, "bitness32"));
    }
}

static void read_restrictions(au_run *r, const xt_node *ws, const char *scope, const char *cfg)
{
    const xt_node *cr = xt_path(ws, "security/isapiCgiRestriction");
    for (const xt_node *a = cr ? cr->first : NULL; a != NULL; a = a->next) {
        const char *path = xt_attr(a, "path");
        if (strcmp(a->name, "add") != 0 || path == NULL)
            continue;
        const char *allowed = xt_attr(a, "allowed");
        ig_audit_component *c =
            au_component(r, IG_COMP_CGI_RESTRICTION, path,
                         au_fmt(r, "allowed %s%s%s", allowed ? allowed : "false",
                                xt_attr(a, "description") ? ", " : "",
                                xt_attr(a, "description") ? xt_attr(a, "description") : ""),
                         scope, cfg, a);
        if (c != NULL)
            file_facts(r, c, path, false);
    }
}

/* Other places a DLL or program is named. */
static void read_load_points(au_run *r, const xt_node *conf, const xt_node *ws, const char *cfg)
{
    const xt_node *hc = xt_child(ws, "httpCompression");
    for (const xt_node *s = hc ? hc->first : NULL; s != NULL; s = s->next)
        if (strcmp(s->name, "scheme") == 0 && xt_attr(s, "dll")) {
            ig_audit_component *c = au_component(r, IG_COMP_LOAD_POINT, xt_attr(s, "name"),
                                                 "httpCompression scheme", "server", cfg, s);
            if (c)
                file_facts(r, c, xt_attr(s, "dll"), false);
        }
    const xt_node *fc = xt_child(ws, "fastCgi");
    for (const xt_node *s = fc ? fc->first : NULL; s != NULL; s = s->next)
        if (strcmp(s->name, "application") == 0 && xt_attr(s, "fullPath")) {
            ig_audit_component *c = au_component(r, IG_COMP_LOAD_POINT, xt_attr(s, "fullPath"),
                                                 "fastCgi application", "server", cfg, s);
            if (c)
                file_facts(r, c, xt_attr(s, "fullPath"), false);
        }
    const xt_node *ah = xt_child(conf, "system.applicationHost");
    const xt_node *la = xt_child(ah, "listenerAdapters");
    for (const xt_node *s = la ? la->first : NULL; s != NULL; s = s->next)
        if (strcmp(s->name, "add") == 0 && xt_attr(s, "protocolManagerDll")) {
            ig_audit_component *c =
                au_component(r, IG_COMP_LOAD_POINT, xt_attr(s, "name"),
                             "listenerAdapters protocolManagerDll", "server", cfg, s);
            if (c)
                file_facts(r, c, xt_attr(s, "protocolManagerDll"), false);
        }
    const xt_node *ap = xt_child(ah, "applicationPools");
    for (const xt_node *s = ap ? ap->first : NULL; s != NULL; s = s->next) {
        if (strcmp(s->name, "add") != 0 && strcmp(s->name, "applicationPoolDefaults") != 0)
            continue;
        const char *loader = xt_attr(s, "managedRuntimeLoader");
        if (loader && *loader && strcasecmp(loader, "webengine4.dll") != 0 &&
            strcasecmp(loader, "webengine.dll") != 0) {
            ig_audit_component *c =
                au_component(r, IG_COMP_LOAD_POINT, xt_attr(s, "name"),
                             "application pool managedRuntimeLoader", "server", cfg, s);
            if (c)
                file_facts(r, c, loader, false);
        }
        const xt_node *pm = xt_child(s, "processModel");
        if (pm && xt_attr(pm, "orphanActionExe") && *xt_attr(pm, "orphanActionExe")) {
            ig_audit_component *c =
                au_component(r, IG_COMP_LOAD_POINT, xt_attr(s, "name"),
                             "application pool processModel orphanActionExe", "server", cfg, pm);
            if (c)
                file_facts(r, c, xt_attr(pm, "orphanActionExe"), false);
        }
    }
}

/* Every scope of one configuration file: the file itself, and its
 * <location path> elements. */
static void read_scopes(au_run *r, const xt_node *conf, const char *cfg, const char *base_scope,
                        bool server, const char *app_dir)
{
    const xt_node *ws = xt_child(conf, "system.webServer");
    if (server) {
        /* the enabled set first, so that globalModules know it */
        read_modules(r, ws, base_scope, cfg, true, NULL);
        read_global_modules(r, ws, cfg);
        read_load_points(r, conf, ws, cfg);
    } else {
        read_modules(r, ws, base_scope, cfg, false, app_dir);
    }
    read_isapi_filters(r, ws, base_scope, cfg);
    read_handlers(r, ws, base_scope, cfg, app_dir);
    read_restrictions(r, ws, base_scope, cfg);
    read_http_modules(r, conf, base_scope, cfg, app_dir);
    au_section_findings(r, ws, base_scope, cfg);
    for (const xt_node *l = conf->first; l != NULL; l = l->next) {
        if (strcmp(l->name, "location") != 0)
            continue;
        const char *path = xt_attr(l, "path");
        const char *scope = path && *path ? au_fmt(r, "location %s", path) : base_scope;
        read_http_modules(r, l, scope, cfg, app_dir);
        const xt_node *lws = xt_child(l, "system.webServer");
        if (lws == NULL)
            continue;
        read_modules(r, lws, scope, cfg, false, app_dir);
        read_isapi_filters(r, lws, scope, cfg);
        read_handlers(r, lws, scope, cfg, app_dir);
        read_restrictions(r, lws, scope, cfg);
        au_section_findings(r, lws, scope, cfg);
    }
}

/* ---- what each application gets: <modules> inherited down the URL path ---- */

typedef struct modset {
    const char **name;
    bool *locked;
    size_t n, cap;
} modset;

static bool ms_add(au_run *r, modset *m, const char *name, bool locked)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcasecmp(m->name[i], name) == 0)
            return true;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const char **nv = ig_arena_alloc(&r->arena, sizeof(*nv) * cap);
        bool *lv = ig_arena_alloc(&r->arena, sizeof(*lv) * cap);
        if (nv == NULL || lv == NULL) {
            r->oom = true;
            return false;
        }
        if (m->n) {
            memcpy(nv, m->name, sizeof(*nv) * m->n);
            memcpy(lv, m->locked, sizeof(*lv) * m->n);
        }
        m->name = nv;
        m->locked = lv;
        m->cap = cap;
    }
    m->name[m->n] = name;
    m->locked[m->n++] = locked;
    return true;
}

/* Applies one <modules> section (add, remove, clear) to the inherited set;
 * removing an entry the parent locked is what IIS refuses. */
static void ms_apply(au_run *r, modset *m, const xt_node *mods, const char *scope, const char *cfg)
{
    for (const xt_node *a = mods ? mods->first : NULL; a != NULL; a = a->next) {
        const char *name = xt_attr(a, "name");
        if (strcmp(a->name, "clear") == 0) {
            for (size_t i = 0; i < m->n; i++)
                if (m->locked[i])
                    au_finding(r, "locked-module-removed", IG_LEVEL_MEDIUM,
                               "A configuration clears modules the server locked",
                               au_fmt(r, "%s clears <modules>; %s is locked", scope, m->name[i]),
                               cfg, a->line, "M1047",
                               "IIS rejects this configuration (the application fails); find "
                               "out who edited it.");
            m->n = 0;
        } else if (strcmp(a->name, "remove") == 0 && name != NULL) {
            for (size_t i = 0; i < m->n; i++) {
                if (strcasecmp(m->name[i], name) != 0)
                    continue;
                if (m->locked[i])
                    au_finding(r, "locked-module-removed", IG_LEVEL_MEDIUM,
                               "A configuration removes a module the server locked",
                               au_fmt(r, "%s removes %s (lockItem)", scope, name), cfg, a->line,
                               "M1047",
                               "IIS rejects this configuration (the application fails); find "
                               "out who edited it.");
                m->name[i] = m->name[m->n - 1];
                m->locked[i] = m->locked[m->n - 1];
                m->n--;
                break;
            }
        } else if (strcmp(a->name, "add") == 0 && name != NULL) {
            const char *lock = xt_attr(a, "lockItem");
            ms_add(r, m, name, lock != NULL && strcasecmp(lock, "true") == 0);
        }
    }
}

/* <handlers> down the URL path: a scope's own entries come first, before
 * the ones it inherits (IIS prepends them), so its handlers win. */
static void hl_apply(au_run *r, modset *h, const xt_node *handlers)
{
    modset local = {0};
    for (const xt_node *a = handlers ? handlers->first : NULL; a != NULL; a = a->next) {
        const char *name = xt_attr(a, "name");
        if (strcmp(a->name, "clear") == 0) {
            h->n = 0;
            local.n = 0;
        } else if (strcmp(a->name, "remove") == 0 && name != NULL) {
            modset *sets[2] = {h, &local};
            for (int k = 0; k < 2; k++)
                for (size_t i = 0; i < sets[k]->n; i++)
                    if (strcasecmp(sets[k]->name[i], name) == 0) {
                        memmove(&sets[k]->name[i], &sets[k]->name[i + 1],
                                sizeof(*sets[k]->name) * (sets[k]->n - i - 1));
                        sets[k]->n--;
                        break;
                    }
        } else if (strcmp(a->name, "add") == 0 && name != NULL) {
            ms_add(r, &local, name, false);
        }
    }
    for (size_t i = 0; i < h->n; i++)
        ms_add(r, &local, h->name[i], false);
    *h = local;
}

static void hl_location(au_run *r, modset *h, const xt_node *conf, const char *path)
{
    for (const xt_node *l = conf->first; l != NULL; l = l->next) {
        const char *lp = xt_attr(l, "path");
        if (strcmp(l->name, "location") == 0 && lp != NULL && strcasecmp(lp, path) == 0)
            hl_apply(r, h, xt_path(l, "system.webServer/handlers"));
    }
}

/* <location path="P"> elements of the configuration for exactly P. */
static void ms_location(au_run *r, modset *m, const xt_node *conf, const char *path,
                        const char *cfg)
{
    for (const xt_node *l = conf->first; l != NULL; l = l->next) {
        const char *lp = xt_attr(l, "path");
        if (strcmp(l->name, "location") == 0 && lp != NULL && strcasecmp(lp, path) == 0)
            ms_apply(r, m, xt_path(l, "system.webServer/modules"), au_fmt(r, "location %s", path),
                     cfg);
    }
}

static void add_app(au_run *r, const char *site, const char *app, const char *pp, const modset *m,
                    const modset *h)
{
    if (r->napps == r->capa) {
        size_t cap = r->capa ? r->capa * 2 : 16;
        ig_audit_app *v = ig_realloc(r->apps, sizeof(*v) * cap);
        if (v == NULL) {
            r->oom = true;
            return;
        }
        r->apps = v;
        r->capa = cap;
    }
    const char **mods = ig_arena_alloc(&r->arena, sizeof(*mods) * (m->n ? m->n : 1));
    const char **hand = ig_arena_alloc(&r->arena, sizeof(*hand) * (h->n ? h->n : 1));
    if (mods == NULL || hand == NULL) {
        r->oom = true;
        return;
    }
    if (m->n)
        memcpy(mods, m->name, sizeof(*mods) * m->n);
    if (h->n)
        memcpy(hand, h->name, sizeof(*hand) * h->n);
    r->apps[r->napps++] = (ig_audit_app){site, app, pp, mods, m->n, hand, h->n};
}

/* overrideModeDefault of section "system.webServer/NAME" (sectionGroups
 * followed, "security/x" for nested ones); "Allow" when not declared. */
static const char *override_default(const xt_node *conf, const char *section)
{
    const xt_node *g = xt_path(conf, "configSections");
    const char *p = section;
    while (g != NULL) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        const xt_node *next = NULL;
        for (const xt_node *k = g->first; k != NULL && next == NULL; k = k->next) {
            const char *n = xt_attr(k, "name");
            if (n == NULL || strlen(n) != l || strncmp(n, p, l) != 0)
                continue;
            if (slash == NULL && strcmp(k->name, "section") == 0) {
                const char *m = xt_attr(k, "overrideModeDefault");
                return m ? m : "Allow";
            }
            if (slash != NULL && strcmp(k->name, "sectionGroup") == 0)
                next = k;
        }
        if (next == NULL || slash == NULL)
            break;
        g = next;
        p = slash + 1;
    }
    return "Allow";
}

/* Whether IIS lets a web.config at URL path `url` ("Site" or "Site/app")
 * define `section`: the overrideMode of the most specific <location> that
 * holds the section, else the section's default. */
static bool section_locked(const xt_node *conf, const char *section, const char *url)
{
    const char *mode = override_default(conf, section);
    size_t best = 0;
    bool found = false;
    for (const xt_node *l = conf->first; l != NULL; l = l->next) {
        const char *lp = xt_attr(l, "path"), *om = xt_attr(l, "overrideMode");
        if (strcmp(l->name, "location") != 0 || om == NULL)
            continue;
        lp = lp ? lp : "";
        size_t ll = strlen(lp);
        bool covers =
            ll == 0 || (strncasecmp(url, lp, ll) == 0 && (url[ll] == '\0' || url[ll] == '/'));
        if (!covers || (found && ll < best) || xt_path(l, section) == NULL)
            continue;
        best = ll;
        found = true;
        mode = om;
    }
    return strcasecmp(mode, "Deny") == 0;
}

/* A web.config defining sections the server keeps locked: IIS rejects the
 * file (HTTP 500.19) and loads nothing it adds. */
static void check_locked_sections(au_run *r, const xt_node *conf, const xt_node *wc,
                                  const char *url, const char *cfg)
{
    static const char *const sections[] = {"modules", "handlers", "isapiFilters", "httpLogging",
                                           "security/isapiCgiRestriction"};
    const xt_node *ws = xt_child(wc, "system.webServer");
    for (size_t i = 0; ws && i < sizeof(sections) / sizeof(sections[0]); i++) {
        const xt_node *sec = xt_path(ws, sections[i]);
        if (sec == NULL ||
            !section_locked(conf, au_fmt(r, "system.webServer/%s", sections[i]), url))
            continue;
        au_finding(r, "locked-section-overridden", IG_LEVEL_MEDIUM,
                   "A web.config sets a section the server keeps locked",
                   au_fmt(r,
                          "system.webServer/%s at %s (overrideMode Deny): IIS rejects this "
                          "web.config and the application fails",
                          sections[i], url),
                   cfg, sec->line, "M1047",
                   "Find out who edited the web.config; unlock the section with a <location> only "
                   "if the change is intended.");
    }
}

/* Each site's applications: their web.config (components and findings),
 * and the modules each application gets: the server's, then the
 * <location> for the site, the site's web.config, the <location> for the
 * application and its web.config. */
static void read_sites(au_run *r, const xt_node *conf, const char *apphost)
{
    modset server = {0};
    ms_apply(r, &server, xt_path(conf, "system.webServer/modules"), "server", apphost);
    const xt_node *sites = xt_path(conf, "system.applicationHost/sites");
    for (const xt_node *s = sites ? sites->first : NULL; s != NULL; s = s->next) {
        if (strcmp(s->name, "site") != 0)
            continue;
        const char *site = xt_attr(s, "name") ? xt_attr(s, "name") : "?";
        const xt_node *site_wc = NULL;
        const char *site_cfg = NULL;
        /* the root application first: the others inherit its web.config */
        for (int pass = 0; pass < 2; pass++)
            for (const xt_node *app = s->first; app != NULL; app = app->next) {
                if (strcmp(app->name, "application") != 0)
                    continue;
                const char *apath = xt_attr(app, "path") ? xt_attr(app, "path") : "/";
                bool root_app = strcmp(apath, "/") == 0;
                if (root_app != (pass == 0))
                    continue;
                for (const xt_node *vd = app->first; vd != NULL; vd = vd->next) {
                    const char *vp = xt_attr(vd, "path"), *pp = xt_attr(vd, "physicalPath");
                    if (strcmp(vd->name, "virtualDirectory") != 0 || vp == NULL ||
                        strcmp(vp, "/") != 0 || pp == NULL)
                        continue;
                    const char *local = NULL;
                    const char *win = au_fmt(r, "%s\\web.config", pp);
                    xt_node *wc = load_config(r, win, &local, true);
                    const char *scope = au_fmt(r, "site %s%s%s", site, root_app ? "" : " app ",
                                               root_app ? "" : apath);
                    if (wc != NULL) {
                        read_scopes(r, wc, local, scope, false, pp);
                        check_locked_sections(
                            r, conf, wc, root_app ? site : au_fmt(r, "%s%s", site, apath), local);
                    }
                    if (root_app) {
                        site_wc = wc;
                        site_cfg = local;
                    }
                    /* what this application gets */
                    modset m = {0};
                    for (size_t i = 0; i < server.n; i++)
                        ms_add(r, &m, server.name[i], server.locked[i]);
                    ms_location(r, &m, conf, site, apphost);
                    if (site_wc != NULL)
                        ms_apply(r, &m, xt_path(site_wc, "system.webServer/modules"),
                                 au_fmt(r, "site %s", site), site_cfg);
                    if (!root_app) {
                        ms_location(r, &m, conf, au_fmt(r, "%s%s", site, apath), apphost);
                        if (wc != NULL)
                            ms_apply(r, &m, xt_path(wc, "system.webServer/modules"), scope, local);
                    }
                    /* and the handlers, in the order IIS tries them */
                    modset h = {0};
                    hl_apply(r, &h, xt_path(conf, "system.webServer/handlers"));
                    hl_location(r, &h, conf, site);
                    if (site_wc != NULL)
                        hl_apply(r, &h, xt_path(site_wc, "system.webServer/handlers"));
                    if (!root_app) {
                        hl_location(r, &h, conf, au_fmt(r, "%s%s", site, apath));
                        if (wc != NULL)
                            hl_apply(r, &h, xt_path(wc, "system.webServer/handlers"));
                    }
                    add_app(r, site, apath, pp, &m, &h);
                }
            }
    }
}

ig_audit_report *ig_audit_run(const char *root, const ig_audit_opts *o)
{
    au_run *r = ig_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    ig_arena_init(&r->arena, 0);
    r->pub.root = au_fmt(r, "%s", root);
    r->cur_comp = -1;
    r->fs = au_fs_offline(root);
    char err[512];
    r->trust = ig_trust_load(o ? o->trust : NULL, err, sizeof(err));
    if (r->trust == NULL)
        au_error(r, o && o->trust ? o->trust : "trust store", 0, 0, err);
    if (o && o->catroot) {
        r->cats = ig_catalogs_load(o->catroot, r->trust, NULL, NULL);
        if (r->cats == NULL)
            au_error(r, o->catroot, 0, 0, "catalog root cannot be read");
    }
    if (r->fs == NULL) {
        r->oom = true;
    } else {
        const char *local = NULL, *why = NULL;
        char *core = au_fs_resolve(r->fs, "%windir%\\System32\\inetsrv\\iiscore.dll", false, &why);
        r->config_only = core == NULL;
        free(core);
        xt_node *redir = load_config(r, REDIR, &local, true);
        const xt_node *cr = redir ? xt_child(redir, "configurationRedirection") : NULL;
        const char *en = cr ? xt_attr(cr, "enabled") : NULL;
        if (en != NULL && strcasecmp(en, "true") == 0)
            au_finding(r, "config-redirected", IG_LEVEL_MEDIUM,
                       "The IIS configuration is redirected to another location",
                       au_fmt(r,
                              "configurationRedirection path=%s (this audit reads the local "
                              "copy)",
                              xt_attr(cr, "path") ? xt_attr(cr, "path") : "?"),
                       local, cr->line, "M1047",
                       "Check that the redirected configuration is the intended shared one and "
                       "audit it too.");
        xt_node *conf = load_config(r, APPHOST, &local, false);
        if (conf != NULL) {
            read_scopes(r, conf, local, "server", true, NULL);
            read_sites(r, conf, local);
        }
        /* the .NET Framework's machine.config and root web.config: modules and
         * handlers every ASP.NET application of that runtime gets */
        static const char *const fw[] = {"Framework64\\v4.0.30319", "Framework\\v4.0.30319",
                                         "Framework64\\v2.0.50727", "Framework\\v2.0.50727"};
        static const char *const fwfile[] = {"machine.config", "web.config"};
        for (size_t i = 0; i < sizeof(fw) / sizeof(fw[0]); i++)
            for (size_t k = 0; k < 2; k++) {
                const char *fl = NULL;
                xt_node *wc = load_config(
                    r, au_fmt(r, "%%windir%%\\Microsoft.NET\\%s\\Config\\%s", fw[i], fwfile[k]),
                    &fl, true);
                if (wc == NULL)
                    continue;
                const char *scope = au_fmt(r, "%s %s", fw[i], fwfile[k]);
                read_http_modules(r, wc, scope, fl, NULL);
                for (const xt_node *l = wc->first; l != NULL; l = l->next)
                    if (strcmp(l->name, "location") == 0)
                        read_http_modules(r, l, scope, fl, NULL);
            }
        au_history(r);
        if (o && o->baseline)
            au_baseline_compare(r, o->baseline);
        au_findings(r);
        if (o && o->allow)
            au_allow(r, o->allow);
    }
    r->pub.components = r->comps;
    r->pub.ncomponents = r->ncomps;
    r->pub.findings = r->finds;
    r->pub.nfindings = r->nfinds;
    r->pub.errors = r->errors;
    r->pub.nerrors = r->nerrors;
    r->pub.apps = r->apps;
    r->pub.napps = r->napps;
    if (r->oom) {
        ig_audit_free(&r->pub);
        return NULL;
    }
    return &r->pub;
}

void ig_audit_free(ig_audit_report *rep)
{
    if (rep == NULL)
        return;
    au_run *r = (au_run *)rep;
    ig_free(r->comps);
    ig_free(r->finds);
    ig_free(r->find_comp);
    ig_free(r->apps);
    ig_free(r->errors);
    ig_catalogs_free(r->cats);
    ig_trust_free(r->trust);
    au_fs_free(r->fs);
    ig_arena_destroy(&r->arena);
    ig_free(r);
}
