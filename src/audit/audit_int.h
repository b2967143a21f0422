/* Audit internals: the run's state shared by audit.c (configuration →
 * inventory, files) and findings.c (policy → findings). */
#ifndef IG_AUDIT_AUDIT_INT_H
#define IG_AUDIT_AUDIT_INT_H

#include <stdbool.h>

#include "audit/fs.h"
#include "core/arena.h"
#include "formats/iisconfig/xmltree.h"
#include "iisguard/audit.h"
#include "iisguard/pe.h"

#define AU_MAX_COMPONENTS 65536u
#define AU_MAX_FINDINGS   65536u
#define AU_MAX_ERRORS     4096u
#define AU_MAX_CONFIG     (32u << 20)
#define AU_MAX_IMAGE      (512u << 20)

typedef struct au_run {
    ig_audit_report pub;
    ig_arena arena;
    au_fs *fs;
    ig_trust *trust;
    ig_catalogs *cats;
    ig_audit_component *comps;
    size_t ncomps, capc;
    ig_audit_finding *finds;
    size_t nfinds, capf;
    const char **errors;
    size_t nerrors, cape;
    ig_audit_app *apps;
    size_t napps, capa;
    bool oom;
    bool config_only; /* the image has the configuration, not the IIS binaries */
    long cur_comp;    /* the component findings are about now, or -1 */
    long *find_comp;  /* per finding: its component, or -1 */
    /* the server's <modules>: names enabled after add/remove/clear */
    const char **enabled;
    size_t nenabled;
    /* native modules enabled at some <location> or site web.config */
    const char **enabled_loc;
    size_t nenabled_loc;
} au_run;

/* printf into the arena. */
const char *au_fmt(au_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void au_error(au_run *r, const char *file, unsigned line, unsigned col, const char *what);
ig_audit_component *au_component(au_run *r, ig_comp_kind kind, const char *name, const char *detail,
                                 const char *scope, const char *config, const xt_node *at);
void au_finding(au_run *r, const char *id, ig_level sev, const char *title, const char *evidence,
                const char *config, unsigned line, const char *mitigation, const char *remediation);

/* --allow, --baseline and IIS history (history.c). */
void au_allow(au_run *r, const char *path);
void au_baseline_compare(au_run *r, const char *path);
void au_history(au_run *r);

/* Findings from the inventory and the configuration (findings.c). */
void au_findings(au_run *r);
/* Findings of one configuration section as it is read (findings.c). */
void au_section_findings(au_run *r, const xt_node *ws, const char *scope, const char *config);
void au_sort_findings(au_run *r);

#endif
