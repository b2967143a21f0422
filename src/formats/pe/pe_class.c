#define _GNU_SOURCE /* memmem */
/* What a PE image is to IIS, from its exports: an ISAPI extension
 * (GetExtensionVersion + HttpExtensionProc), an ISAPI filter
 * (GetFilterVersion + HttpFilterProc) or a native module (RegisterModule).
 * IIS finds these by their plain names (GetProcAddress), so a decorated
 * stdcall name ("RegisterModule@12", "_RegisterModule@12"), a C++-mangled
 * one or a forwarded one is reported: the DLL looks like a component but
 * IIS would not load it as one (or loads code from elsewhere).  Class names
 * a native module's C++ code carries (CHttpModule, CGlobalModule) are kept
 * as supporting evidence.  .NET assemblies are classified from their
 * metadata elsewhere; here they are DLLs with a CLI header. */
#include <stdio.h>
#include <string.h>

#include "formats/pe/pe_int.h"

/* The plain name inside a decorated or mangled export: "_Name@12",
 * "Name@12" and "?Name@@..." give "Name"; NULL when not decorated. */
static bool undecorated_is(const char *s, const char *want)
{
    size_t w = strlen(want);
    if (s[0] == '?')
        return strncmp(s + 1, want, w) == 0 && s[1 + w] == '@';
    if (s[0] == '_')
        s++;
    if (strncmp(s, want, w) != 0 || s[w] != '@')
        return false;
    for (const char *p = s + w + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return s[w + 1] != '\0';
}

typedef struct fn_state {
    const ig_pe_export *exact, *decorated;
} fn_state;

static fn_state find(const ig_pe *p, const char *name)
{
    fn_state s = {NULL, NULL};
    for (size_t i = 0; i < p->nexports; i++) {
        const char *n = p->exports[i].name;
        if (n == NULL)
            continue;
        if (strcmp(n, name) == 0)
            s.exact = &p->exports[i];
        else if (s.decorated == NULL && undecorated_is(n, name))
            s.decorated = &p->exports[i];
    }
    return s;
}

/* Reports an entry point IIS looks up that is decorated or forwarded. */
static void check_entry(pe_ctx *c, const char *name, fn_state s)
{
    if ((s.exact == NULL && s.decorated != NULL) || (s.exact != NULL && s.exact->forwarder))
        c->pub.iis_suspect = 1;
    if (s.exact == NULL && s.decorated != NULL)
        pe_anomaly(c, c->export_dir_off,
                   "exports %s as '%s' (%s): IIS looks up the plain name and would not find it",
                   name, s.decorated->name,
                   s.decorated->name[0] == '?' ? "C++-mangled" : "stdcall-decorated");
    if (s.exact != NULL && s.exact->forwarder != NULL)
        pe_anomaly(c, c->export_dir_off,
                   "%s is forwarded to %s: the code IIS runs lives in that DLL", name,
                   s.exact->forwarder);
}

static const char *evidence_names[] = {"CHttpModule",         "CGlobalModule",
                                       "IHttpModuleFactory",  "IHttpModuleRegistrationInfo",
                                       "OnBeginRequest",      "OnAuthenticateRequest",
                                       "OnSendResponse",      "OnGlobalPreBeginRequest",
                                       "HTTP_FILTER_CONTEXT", "EXTENSION_CONTROL_BLOCK"};

static bool contains(const uint8_t *d, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memmem(d, len, s, n) != NULL;
}

void pe_classify(pe_ctx *c)
{
    ig_pe *p = &c->pub;
    fn_state reg = find(p, "RegisterModule");
    fn_state gev = find(p, "GetExtensionVersion"), hep = find(p, "HttpExtensionProc");
    fn_state gfv = find(p, "GetFilterVersion"), hfp = find(p, "HttpFilterProc");
    check_entry(c, "RegisterModule", reg);
    check_entry(c, "GetExtensionVersion", gev);
    check_entry(c, "HttpExtensionProc", hep);
    check_entry(c, "GetFilterVersion", gfv);
    check_entry(c, "HttpFilterProc", hfp);
    bool is_dll = (p->characteristics & 0x2000) != 0;
    if (reg.exact != NULL) {
        p->cls = IG_PE_NATIVE_MODULE;
        p->why = "exports RegisterModule";
    } else if (gfv.exact != NULL && hfp.exact != NULL) {
        p->cls = IG_PE_ISAPI_FILTER;
        p->why = "exports GetFilterVersion and HttpFilterProc";
    } else if (gev.exact != NULL && hep.exact != NULL) {
        p->cls = IG_PE_ISAPI_EXTENSION;
        p->why = "exports GetExtensionVersion and HttpExtensionProc";
    } else if (p->nmanaged > 0) {
        /* a module when some type is one, else a handler */
        size_t k = 0;
        while (k < p->nmanaged && strcmp(p->managed[k].iface, "IHttpModule") != 0)
            k++;
        p->cls = k < p->nmanaged ? IG_PE_MANAGED_MODULE : IG_PE_MANAGED_HANDLER;
        const ig_pe_managed *t = &p->managed[k < p->nmanaged ? k : 0];
        size_t n = strlen(t->type) + strlen(t->iface) + 48;
        char *why = ig_arena_alloc(&c->arena, n);
        if (why != NULL)
            snprintf(why, n, "type %s implements System.Web.%s", t->type, t->iface);
        p->why = why;
    } else {
        p->cls = is_dll ? IG_PE_DLL : IG_PE_EXE;
        p->why = !is_dll          ? "not a DLL (IMAGE_FILE_DLL is not set)"
                 : p->iis_suspect ? "exports an IIS entry point in a form IIS cannot use"
                 : p->clr         ? "a .NET assembly (CLI header)"
                                  : "exports no IIS entry point";
    }
    if (p->cls >= IG_PE_ISAPI_EXTENSION && !is_dll)
        pe_anomaly(c, 0, "exports IIS entry points but is not marked as a DLL");
    if ((gev.exact || hep.exact) && !(gev.exact && hep.exact))
        pe_anomaly(c, 0, "exports only one of GetExtensionVersion and HttpExtensionProc");
    if ((gfv.exact || hfp.exact) && !(gfv.exact && hfp.exact))
        pe_anomaly(c, 0, "exports only one of GetFilterVersion and HttpFilterProc");
    if (reg.exact && (gev.exact || gfv.exact))
        pe_anomaly(c, 0, "exports both RegisterModule and ISAPI entry points");
    /* supporting evidence: names the module's code carries — looked for in
     * candidates only (IIS entry points, or nothing but ordinals), since it
     * is a pass over the whole file per name */
    size_t ordinal_only = 0;
    for (size_t i = 0; i < p->nexports; i++)
        ordinal_only += p->exports[i].name == NULL;
    bool candidate = p->cls >= IG_PE_ISAPI_EXTENSION || p->iis_suspect ||
                     (ordinal_only && ordinal_only == p->nexports);
    const char **ev = ig_arena_alloc(&c->arena, sizeof(evidence_names));
    if (ev == NULL) {
        c->oom = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; candidate && i < sizeof(evidence_names) / sizeof(evidence_names[0]); i++)
        if (contains(c->d, c->len, evidence_names[i]))
            ev[n++] = evidence_names[i];
    p->evidence = ev;
    p->nevidence = n;
    if (ordinal_only && ordinal_only == p->nexports && p->cls == IG_PE_DLL && n > 0) {
        p->iis_suspect = 1;
        p->why = "exports only by ordinal, with IIS module names inside";
        pe_anomaly(c, c->export_dir_off,
                   "exports only by ordinal and carries IIS module names: a component hiding "
                   "its entry points");
    }
}
