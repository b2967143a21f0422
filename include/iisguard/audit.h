/* iisguard — the audit of an IIS host: every component its configuration
 * makes IIS load (per server, site and location), the files they name, and
 * what is wrong with them.  Offline: the root of a system drive image. */
#ifndef IISGUARD_AUDIT_H
#define IISGUARD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "iisguard/export.h"
#include "iisguard/rules.h" /* ig_level: findings and alerts share severities */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ig_comp_kind {
    IG_COMP_NATIVE_MODULE = 1,
    IG_COMP_MANAGED_MODULE,
    IG_COMP_ISAPI_FILTER,
    IG_COMP_HANDLER,         /* a handler with a script processor (ISAPI, CGI, FastCGI) */
    IG_COMP_CGI_RESTRICTION, /* an isapiCgiRestriction entry */
    IG_COMP_LOAD_POINT,      /* compression scheme, FastCGI application, ... */
    IG_COMP_MANAGED_HANDLER  /* a handler (or handler factory) class: <handlers>, <httpHandlers> */
} ig_comp_kind;

/* "native_module", "managed_module", "isapi_filter", "handler",
 * "isapi_cgi_restriction", "load_point", "managed_handler". */
IG_API const char *ig_comp_kind_name(ig_comp_kind k);

/* A file a component names, as found in the image. */
typedef struct ig_audit_file {
    const char *configured; /* as written in the configuration */
    const char *local;      /* the file in the image, or NULL */
    const char *missing;    /* why it is not there (when local is NULL) */
    uint64_t size;
    char sha256[65];
    const char *classification; /* "native_module", "dll", ... (see iisguard/pe.h) */
    const char *signature;      /* "trusted", "catalog_signed", "unsigned", ... */
    const char *signer;
} ig_audit_file;

typedef struct ig_audit_component {
    ig_comp_kind kind;
    const char *first_seen; /* the oldest IIS history copy naming it ("2024-03-12T10:06:52Z"),
                             * "not in history" when copies exist without it, NULL otherwise */
    const char *baseline;   /* with --baseline: "added", "changed" or NULL (as before) */
    const char *name;       /* module, filter or handler name; the path for restrictions */
    const char *detail;     /* managed type, handler path and modules, load point kind */
    const char *scope;      /* "server", "site Default Web Site", "location Default Web Site/app" */
    const char *config;     /* the file that declares it */
    unsigned line;
    int enabled;  /* native modules: enabled in the server's <modules> */
    int has_file; /* `file` describes a referenced file */
    ig_audit_file file;
} ig_audit_component;

typedef struct ig_audit_finding {
    const char *id; /* stable identifier, e.g. "unknown-native-module" */
    ig_level severity;
    const char *title;
    const char *evidence; /* what was seen */
    const char *config;   /* file:line of the evidence */
    unsigned line;
    const char *mitigation; /* ATT&CK mitigation id (M1047, M1038, M1045) */
    const char *remediation;
    const char *component;  /* the component's name, or NULL */
    const char *allowed_by; /* "FILE:LINE" of the --allow entry that approved it, or NULL
                             * (its severity is then informational) */
} ig_audit_finding;

/* An application and the modules and handlers it gets once the server's
 * sections have been inherited down its URL path (locations and web.config
 * files). */
typedef struct ig_audit_app {
    const char *site, *path; /* "Default Web Site", "/" */
    const char *physical_path;
    const char *const *modules;
    size_t nmodules;
    const char *const *handlers; /* in the order IIS tries them (a scope's own first) */
    size_t nhandlers;
} ig_audit_app;

typedef struct ig_audit_report {
    const char *root;
    const ig_audit_component *components;
    size_t ncomponents;
    const ig_audit_finding *findings; /* most severe first */
    size_t nfindings;
    const char *const *errors; /* "file:line:col: what" — what could not be read */
    size_t nerrors;
    const ig_audit_app *apps;
    size_t napps;
} ig_audit_report;

typedef struct ig_audit_opts {
    const char *catroot;  /* Windows/System32/CatRoot of the image, or NULL */
    const char *trust;    /* certificates signatures must chain to (NULL: the system's) */
    const char *allow;    /* approved components: one name or SHA-256 per line, or NULL */
    const char *baseline; /* a snapshot written by ig_audit_save (compared), or NULL */
} ig_audit_opts;

/* Audits the offline image rooted at `root` (the folder holding Windows/).
 * Returns NULL only when out of memory; a configuration that cannot be
 * read is in errors, and the rest of the audit still runs. */
IG_API ig_audit_report *ig_audit_run(const char *root, const ig_audit_opts *o);
IG_API void ig_audit_free(ig_audit_report *r);

/* Writes the report's components and their files' hashes as a JSON
 * snapshot to `path` (--save-baseline).  Returns 0, or -1 (errno set). */
IG_API int ig_audit_save(const ig_audit_report *r, const char *path);

#ifdef __cplusplus
}
#endif
#endif
