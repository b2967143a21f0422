/* What changed and what is approved: IIS's own history copies of
 * applicationHost.config (inetpub/history/CFGHISTORY_n) date when a
 * component first appeared; --baseline compares with a saved snapshot;
 * --allow approves components by name or file hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "formats/jsonl/jsonl.h"
#include "output/alerts.h"

#define MAX_HISTORY 256
#define MAX_ALLOW   (1u << 20)

/* ---- IIS configuration history ------------------------------------------------ */

typedef struct hist {
    char path[4096];
    time_t mtime;
} hist;

static int by_time(const void *a, const void *b)
{
    const hist *x = a, *y = b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* True when the configuration tree names component `c` (by kind and name). */
static bool names(const xt_node *conf, const ig_audit_component *c)
{
    const char *section = c->kind == IG_COMP_NATIVE_MODULE  ? "system.webServer/globalModules"
                          : c->kind == IG_COMP_ISAPI_FILTER ? "system.webServer/isapiFilters"
                          : c->kind == IG_COMP_HANDLER || c->kind == IG_COMP_MANAGED_HANDLER
                              ? "system.webServer/handlers"
                          : c->kind == IG_COMP_MANAGED_MODULE ? "system.webServer/modules"
                                                              : NULL;
    if (section == NULL)
        return false;
    const xt_node *s = xt_path(conf, section);
    for (const xt_node *a = s ? s->first : NULL; a != NULL; a = a->next) {
        const char *n = xt_attr(a, "name");
        if (n && strcasecmp(n, c->name) == 0)
            return true;
    }
    /* the same section inside <location> elements */
    for (const xt_node *l = conf->first; l != NULL; l = l->next) {
        if (strcmp(l->name, "location") != 0)
            continue;
        const xt_node *ls = xt_path(l, section);
        for (const xt_node *a = ls ? ls->first : NULL; a != NULL; a = a->next) {
            const char *n = xt_attr(a, "name");
            if (n && strcasecmp(n, c->name) == 0)
                return true;
        }
    }
    return false;
}

typedef struct hist_scan {
    const au_fs *fs;
    hist *h;
    size_t n;
} hist_scan;

/* An entry of a CFGHISTORY_* folder: its applicationHost.config. */
static bool history_file(void *ud, const char *name, const char *local, au_fs_kind kind,
                         int64_t mtime)
{
    hist_scan *sc = ud;
    if (strcasecmp(name, "applicationHost.config") != 0)
        return true;
    if (kind == AU_FS_FILE && snprintf(sc->h[sc->n].path, sizeof(sc->h[sc->n].path), "%s", local) <
                                  (int)sizeof(sc->h[sc->n].path)) {
        sc->h[sc->n].mtime = mtime;
        sc->n++;
    }
    return false;
}

/* An entry of inetpub/history: the CFGHISTORY_* folders. */
static bool history_dir(void *ud, const char *name, const char *local, au_fs_kind kind,
                        int64_t mtime)
{
    (void)mtime;
    hist_scan *sc = ud;
    if (kind == AU_FS_DIR && strncasecmp(name, "CFGHISTORY_", 11) == 0)
        au_fs_list(sc->fs, local, history_file, sc);
    return sc->n < MAX_HISTORY;
}

void au_history(au_run *r)
{
    const char *why = NULL;
    char *dir = au_fs_resolve(r->fs, "%SystemDrive%\\inetpub\\history", false, &why);
    if (dir == NULL)
        return;
    hist *h = ig_calloc(MAX_HISTORY, sizeof(*h));
    hist_scan sc = {r->fs, h, 0};
    if (h != NULL)
        au_fs_list(r->fs, dir, history_dir, &sc);
    size_t n = sc.n;
    free(dir);
    if (n == 0) {
        ig_free(h);
        return;
    }
    qsort(h, n, sizeof(*h), by_time);
    for (size_t i = 0; i < r->ncomps; i++)
        if (r->comps[i].config && strstr(r->comps[i].config, "applicationHost.config"))
            r->comps[i].first_seen = "not in history";
    for (size_t k = 0; k < n; k++) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (!au_fs_read(h[k].path, AU_MAX_CONFIG, &data, &len, &why)) {
            au_error(r, h[k].path, 0, 0, au_fmt(r, "cannot be read: %s", why));
            continue;
        }
        xt_doc doc;
        if (!xt_parse((const char *)data, len, &r->arena, &doc))
            r->oom = true;
        free(data);
        if (doc.error != NULL)
            au_error(r, h[k].path, doc.error_line, doc.error_col, doc.error);
        if (doc.root == NULL)
            continue;
        char when[32];
        struct tm tm;
        gmtime_r(&h[k].mtime, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        for (size_t i = 0; i < r->ncomps; i++) {
            ig_audit_component *c = &r->comps[i];
            if (c->first_seen && strcmp(c->first_seen, "not in history") == 0 && names(doc.root, c))
                c->first_seen = au_fmt(r, "%s", when);
        }
    }
    ig_free(h);
}

/* ---- --allow -------------------------------------------------------------------- */

void au_allow(au_run *r, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    const char *why = NULL;
    if (!au_fs_read(path, MAX_ALLOW, &data, &len, &why)) {
        au_error(r, path, 0, 0, au_fmt(r, "allow list cannot be read: %s", why));
        return;
    }
    unsigned line = 0;
    for (char *p = (char *)data; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        char *s = p;
        p = nl ? nl + 1 : NULL;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t l = strlen(s);
        while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
            s[--l] = '\0';
        if (l == 0 || s[0] == '#')
            continue;
        for (size_t i = 0; i < r->nfinds; i++) {
            long ci = r->find_comp[i];
            if (ci < 0 || r->finds[i].allowed_by)
                continue;
            const ig_audit_component *c = &r->comps[ci];
            if (strcasecmp(c->name, s) == 0 ||
                (c->file.sha256[0] && strcasecmp(c->file.sha256, s) == 0)) {
                r->finds[i].allowed_by = au_fmt(r, "%s:%u", path, line);
                r->finds[i].severity = IG_LEVEL_INFORMATIONAL;
            }
        }
    }
    free(data);
    au_sort_findings(r);
}

/* ---- baselines -------------------------------------------------------------------- */

static const char *comp_key(au_run *r, const ig_audit_component *c)
{
    return au_fmt(r, "%s|%s|%s", ig_comp_kind_name(c->kind), c->scope, c->name);
}

static bool jstr(ig_buf *b, const char *s)
{
    return s == NULL ? ig_buf_lit(b, "null") : out_json_str(b, s, strlen(s));
}

int ig_audit_save(const ig_audit_report *rep, const char *path)
{
    ig_buf b;
    ig_buf_init(&b, 256u << 20);
    ig_buf_lit(&b, "{\"iisguard_baseline\":1,\"root\":");
    jstr(&b, rep->root);
    ig_buf_lit(&b, ",\"components\":[\n");
    for (size_t i = 0; i < rep->ncomponents; i++) {
        const ig_audit_component *c = &rep->components[i];
        ig_buf_lit(&b, "{\"kind\":");
        jstr(&b, ig_comp_kind_name(c->kind));
        ig_buf_lit(&b, ",\"scope\":");
        jstr(&b, c->scope);
        ig_buf_lit(&b, ",\"name\":");
        jstr(&b, c->name);
        ig_buf_lit(&b, ",\"detail\":");
        jstr(&b, c->detail);
        ig_buf_lit(&b, ",\"file\":");
        jstr(&b, c->has_file ? c->file.configured : NULL);
        ig_buf_lit(&b, ",\"sha256\":");
        jstr(&b, c->has_file && c->file.sha256[0] ? c->file.sha256 : NULL);
        ig_buf_puts(&b, i + 1 < rep->ncomponents ? "},\n" : "}\n");
    }
    ig_buf_lit(&b, "]}\n");
    FILE *f = b.failed ? NULL : fopen(path, "w");
    int rc = f != NULL && fwrite(b.data, 1, b.len, f) == b.len ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    ig_buf_free(&b);
    return rc;
}

/* The string member `key` of object token `obj`, or NULL. */
static const char *member(au_run *r, const json_doc *d, uint32_t obj, const char *key)
{
    uint32_t v = json_member(d, obj, key, strlen(key));
    if (v == 0 || d->t[v].type != JT_STRING)
        return NULL;
    return au_fmt(r, "%.*s", (int)d->t[v].len, d->t[v].s);
}

void au_baseline_compare(au_run *r, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    const char *why = NULL;
    if (!au_fs_read(path, 64u << 20, &data, &len, &why)) {
        au_error(r, path, 0, 0, au_fmt(r, "baseline cannot be read: %s", why));
        return;
    }
    json_doc d;
    size_t at = 0;
    ig_arena a;
    ig_arena_init(&a, 0);
    if (!json_parse((const char *)data, len, &a, &d, &why, &at) || d.t[0].type != JT_OBJECT ||
        json_member(&d, 0, "iisguard_baseline", 17) == 0) {
        au_error(r, path, 1, (unsigned)at + 1,
                 au_fmt(r, "not an iisguard baseline: %s", why ? why : "no iisguard_baseline"));
        ig_arena_destroy(&a);
        free(data);
        return;
    }
    uint32_t arr = json_member(&d, 0, "components", 10);
    size_t nb = arr && d.t[arr].type == JT_ARRAY ? d.t[arr].len : 0;
    const char **keys = ig_calloc(nb + 1, sizeof(*keys)), **shas = ig_calloc(nb + 1, sizeof(*shas)),
               **files = ig_calloc(nb + 1, sizeof(*files));
    bool *seen = ig_calloc(nb + 1, sizeof(*seen));
    uint32_t *objs = ig_calloc(nb + 1, sizeof(*objs));
    if (keys == NULL || shas == NULL || files == NULL || seen == NULL || objs == NULL) {
        r->oom = true;
        goto done;
    }
    uint32_t t = arr + 1;
    for (size_t i = 0; i < nb; i++) {
        objs[i] = t;
        if (d.t[t].type == JT_OBJECT) {
            const char *kind = member(r, &d, t, "kind"), *scope = member(r, &d, t, "scope"),
                       *name = member(r, &d, t, "name");
            keys[i] = au_fmt(r, "%s|%s|%s", kind ? kind : "", scope ? scope : "", name ? name : "");
            shas[i] = member(r, &d, t, "sha256");
            files[i] = member(r, &d, t, "file");
        }
        t = d.t[t].next;
    }
    for (size_t i = 0; i < r->ncomps; i++) {
        ig_audit_component *c = &r->comps[i];
        const char *k = comp_key(r, c);
        size_t j = 0;
        while (j < nb && (keys[j] == NULL || strcasecmp(keys[j], k) != 0))
            j++;
        r->cur_comp = (long)i;
        bool major = c->kind == IG_COMP_NATIVE_MODULE || c->kind == IG_COMP_ISAPI_FILTER ||
                     c->kind == IG_COMP_HANDLER || c->kind == IG_COMP_MANAGED_MODULE ||
                     c->kind == IG_COMP_MANAGED_HANDLER;
        if (j == nb) {
            c->baseline = "added";
            au_finding(r, "baseline-added", major ? IG_LEVEL_HIGH : IG_LEVEL_MEDIUM,
                       "A component that the baseline does not have",
                       au_fmt(r, "%s %s (%s)%s%s", ig_comp_kind_name(c->kind), c->name, c->scope,
                              c->has_file ? " file=" : "", c->has_file ? c->file.configured : ""),
                       c->config, c->line, "M1047",
                       "Find out who added it and when (IIS history, the event logs).");
            continue;
        }
        seen[j] = true;
        const char *sha = c->has_file && c->file.sha256[0] ? c->file.sha256 : NULL;
        const char *file = c->has_file ? c->file.configured : NULL;
        bool file_moved = (file == NULL) != (files[j] == NULL) ||
                          (file && files[j] && strcasecmp(file, files[j]) != 0);
        bool hash_changed = sha && shas[j] && strcasecmp(sha, shas[j]) != 0;
        if (file_moved || hash_changed) {
            c->baseline = "changed";
            au_finding(r, "baseline-changed", IG_LEVEL_HIGH,
                       file_moved ? "A component now names another file"
                                  : "A component's file changed since the baseline",
                       au_fmt(r, "%s %s (%s): %s%s -> %s%s", ig_comp_kind_name(c->kind), c->name,
                              c->scope, files[j] ? files[j] : "-",
                              hash_changed ? au_fmt(r, " sha256 %.16s…", shas[j]) : "",
                              file ? file : "-",
                              hash_changed ? au_fmt(r, " sha256 %.16s…", sha) : ""),
                       c->config, c->line, "M1047",
                       "Compare the file with the baseline's; an update explains some changes.");
        }
    }
    r->cur_comp = -1;
    for (size_t j = 0; j < nb; j++)
        if (!seen[j] && keys[j] != NULL)
            au_finding(r, "baseline-removed", IG_LEVEL_LOW, "A component of the baseline is gone",
                       au_fmt(r, "%s", keys[j]), path, 0, "M1047",
                       "Confirm the removal was intended.");
done:
    ig_free(keys);
    ig_free(shas);
    ig_free(files);
    ig_free(seen);
    ig_free(objs);
    ig_arena_destroy(&a);
    free(data);
}
