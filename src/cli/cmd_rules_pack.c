/* iisguard rules test | coverage | export | navigator: the built-in pack's
 * tests, its coverage of the ways an IIS component gets installed, and the
 * pack for other tools (Sigma YAML, an ATT&CK Navigator layer). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/rules_cli.h"
#include "core/buf.h"
#include "output/alerts.h"

/* ---- test -------------------------------------------------------------------- */

static void print_result(const ig_rule_info *r, const ig_rule_test_result *t, ig_err e)
{
    if (e == IG_EIO) {
        printf("NO TESTS  %s  %s\n", r->id, r->title);
        return;
    }
    printf("%-8s  %s  %s  (%u of %u checks%s)\n", t->failed || e != IG_OK ? "FAIL" : "PASS", r->id,
           r->title, t->passed, t->passed + t->failed, e != IG_OK ? ", not run" : "");
    for (const char *p = t->failures; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("          %.*s\n", n, p);
        p += n + (nl != NULL);
    }
}

/* DIR/<base name of `file` without .yml/.yaml>.jsonl, malloc'd */
static char *test_path(const char *dir, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t bl = strlen(base);
    if (bl > 4 && strcasecmp(base + bl - 4, ".yml") == 0)
        bl -= 4;
    else if (bl > 5 && strcasecmp(base + bl - 5, ".yaml") == 0)
        bl -= 5;
    size_t n = strlen(dir) + bl + 8;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%.*s.jsonl", dir, (int)bl, base);
    return p;
}

int rules_test(int argc, char **argv)
{
    bool builtin = !rules_cli_flag(&argc, argv, "--no-builtin"), bad = false;
    const char *dir = rules_cli_option(&argc, argv, "--tests", &bad);
    if (bad || (argc > 0 && dir == NULL) || (dir != NULL && argc == 0)) {
        fputs("usage: iisguard rules test [--no-builtin] [--tests DIR FILE|DIR...]\n", stderr);
        return 2;
    }
    unsigned rules = 0, failed = 0, untested = 0, checks = 0;
    if (builtin) {
        ig_rules *rs = rules_cli_load(0, NULL, true);
        if (rs == NULL)
            return 2;
        for (size_t i = 0; i < ig_rules_count(rs); i++) {
            const ig_rule_info *r = ig_rules_info(rs, i);
            ig_rule_test_result t;
            ig_err e = ig_builtin_rule_test(r->id, &t);
            print_result(r, &t, e);
            rules++;
            untested += e == IG_EIO;
            failed += e != IG_EIO && (e != IG_OK || t.failed);
            checks += t.passed + t.failed;
        }
        ig_rules_destroy(rs);
    }
    if (dir != NULL) {
        /* the rules given (and the pack, which correlations may refer to) */
        ig_rules *rs = rules_cli_load(argc, argv, builtin);
        if (rs == NULL)
            return 2;
        for (size_t i = 0; i < ig_rules_count(rs); i++) {
            const ig_rule_info *r = ig_rules_info(rs, i);
            if (builtin && strncmp(r->file, "rules/", 6) == 0) {
                const char *t;
                size_t l;
                bool is_builtin = false;
                for (size_t k = 0; !is_builtin && ig_builtin_rule_file(k, &t, &l); k++)
                    is_builtin = strcmp(ig_builtin_rule_file(k, &t, &l), r->file) == 0;
                if (is_builtin)
                    continue;
            }
            char *p = test_path(dir, r->file);
            size_t len = 0;
            char *own = NULL;
            const char *text = p ? rules_cli_text(p, &len, &own) : NULL;
            ig_rule_test_result t;
            memset(&t, 0, sizeof(t));
            ig_err e = text ? ig_rules_test(rs, r->id, text, len, &t) : IG_EIO;
            print_result(r, &t, e);
            rules++;
            untested += e == IG_EIO;
            failed += e != IG_EIO && (e != IG_OK || t.failed);
            checks += t.passed + t.failed;
            free(own);
            free(p);
        }
        ig_rules_destroy(rs);
    }
    printf("%u rules: %u passed, %u failed, %u without tests (%u checks)\n", rules,
           rules - failed - untested, failed, untested, checks);
    return failed ? 1 : 0;
}

/* ---- coverage ------------------------------------------------------------------ */

/* The ways an IIS component gets installed (rows of the matrix); rules name
 * them in their custom field `iisguard_install_paths`. */
static const struct {
    const char *id, *title;
} paths[] = {
    {"appcmd-module", "appcmd install/add module"},
    {"appcmd-set-config", "appcmd set config on module/filter/handler sections"},
    {"notlisted", "ISAPI/CGI restriction opened (notListed*Allowed)"},
    {"gac", "assembly into the GAC (gacutil, Publish.GacInstall)"},
    {"powershell", "PowerShell (WebAdministration, ServerManager, AHADMIN)"},
    {"config-edit", "configuration file edited directly"},
    {"dll-drop", "DLL written into an IIS load path"},
    {"worker-load", "worker process loads the DLL"},
    {"load-failure", "module or filter fails to load"},
    {"worker-shell", "component used: w3wp starts a shell"},
};
#define NPATHS  (sizeof(paths) / sizeof(paths[0]))
#define MAXCOLS 32

/* The telemetry source of a rule: its logsource category or service. */
static const char *source_of(const ig_rule_info *r)
{
    if (r->correlation)
        return "correlation";
    if (r->category != NULL)
        return r->category;
    if (r->service != NULL)
        return r->service;
    return r->product != NULL ? r->product : "any";
}

typedef struct cov {
    ig_rules *rs;
    size_t n;
    ig_rule_test_result *t;
    ig_err *te;
    const char *cols[MAXCOLS];
    size_t ncols;
    size_t *col_of; /* per rule */
} cov;

static bool has_path(const ig_rule_info *r, const char *id)
{
    for (size_t i = 0; i < r->ninstall_paths; i++)
        if (strcasecmp(r->install_paths[i], id) == 0)
            return true;
    return false;
}

static bool known_paths(const ig_rule_info *r)
{
    for (size_t p = 0; p < NPATHS; p++)
        if (has_path(r, paths[p].id))
            return true;
    return false;
}

static void cov_text(const cov *c)
{
    /* cells: rule numbers (1-based, the legend's), '!' after a failing one */
    size_t width[MAXCOLS];
    char cell[MAXCOLS][96];
    size_t tw = 6;
    for (size_t p = 0; p < NPATHS; p++)
        if (strlen(paths[p].title) > tw)
            tw = strlen(paths[p].title);
    for (size_t k = 0; k < c->ncols; k++)
        width[k] = strlen(c->cols[k]);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            printf("%-*s", (int)tw, "install path \\ telemetry");
            for (size_t k = 0; k < c->ncols; k++)
                printf("  %-*s", (int)width[k], c->cols[k]);
            putchar('\n');
        }
        for (size_t p = 0; p < NPATHS; p++) {
            size_t seen = 0;
            for (size_t k = 0; k < c->ncols; k++) {
                size_t o = 0;
                cell[k][0] = '\0';
                for (size_t i = 0; i < c->n; i++) {
                    const ig_rule_info *r = ig_rules_info(c->rs, i);
                    if (c->col_of[i] != k || !has_path(r, paths[p].id))
                        continue;
                    bool fail = c->te[i] != IG_OK || c->t[i].failed;
                    int w = snprintf(cell[k] + o, sizeof(cell[k]) - o, "%s%zu%s", o ? "," : "",
                                     i + 1, fail ? "!" : "");
                    if (w > 0 && (size_t)w < sizeof(cell[k]) - o)
                        o += (size_t)w;
                }
                if (o == 0)
                    snprintf(cell[k], sizeof(cell[k]), "-");
                else
                    seen++;
                if (strlen(cell[k]) > width[k])
                    width[k] = strlen(cell[k]);
            }
            if (pass == 1) {
                printf("%-*s", (int)tw, paths[p].title);
                for (size_t k = 0; k < c->ncols; k++)
                    printf("  %-*s", (int)width[k], cell[k]);
                printf("%s\n", seen == 0 ? "  <- not covered" : "");
            }
        }
    }
    printf("\nrules (! = its tests fail)\n");
    for (size_t i = 0; i < c->n; i++) {
        const ig_rule_info *r = ig_rules_info(c->rs, i);
        char tests[64];
        if (c->te[i] == IG_EIO)
            snprintf(tests, sizeof(tests), "no tests");
        else if (c->te[i] != IG_OK)
            snprintf(tests, sizeof(tests), "tests not run");
        else
            snprintf(tests, sizeof(tests), "tests %s %u/%u", c->t[i].failed ? "FAIL" : "pass",
                     c->t[i].passed, c->t[i].passed + c->t[i].failed);
        printf("%3zu  %s  %-13s %-16s  %s%s\n", i + 1, r->id, out_level_name(r->level), tests,
               r->title, known_paths(r) ? "" : "  (no install path named)");
    }
    printf("\ntelemetry sources\n");
    for (size_t k = 0; k < c->ncols; k++) {
        printf("  %-18s", c->cols[k]);
        for (size_t i = 0; i < c->n; i++) {
            if (c->col_of[i] != k)
                continue;
            const char *ch;
            const uint16_t *eids;
            size_t ne;
            for (size_t s = 0; ig_rule_source(c->rs, i, s, &ch, &eids, &ne); s++) {
                printf("  %s", ch ? ch : "any channel");
                for (size_t e = 0; e < ne; e++)
                    printf("%s%u", e ? "," : " ", eids[e]);
                putchar(';');
            }
            break; /* every rule of a column maps alike */
        }
        if (strcmp(c->cols[k], "correlation") == 0)
            printf("  several rules' events, per host");
        putchar('\n');
    }
}

static void cov_json(const cov *c)
{
    ig_buf b;
    ig_buf_init(&b, 64u << 20);
    ig_buf_lit(&b, "{\"install_paths\":[");
    for (size_t p = 0; p < NPATHS; p++) {
        ig_buf_lit(&b, "{\"id\":");
        out_json_str(&b, paths[p].id, strlen(paths[p].id));
        ig_buf_lit(&b, ",\"title\":");
        out_json_str(&b, paths[p].title, strlen(paths[p].title));
        ig_buf_lit(&b, ",\"telemetry\":{");
        bool firstk = true;
        for (size_t k = 0; k < c->ncols; k++) {
            bool first = true;
            for (size_t i = 0; i < c->n; i++) {
                const ig_rule_info *r = ig_rules_info(c->rs, i);
                if (c->col_of[i] != k || !has_path(r, paths[p].id))
                    continue;
                if (first) {
                    if (!firstk)
                        ig_buf_putc(&b, ',');
                    out_json_str(&b, c->cols[k], strlen(c->cols[k]));
                    ig_buf_lit(&b, ":[");
                    firstk = false;
                } else {
                    ig_buf_putc(&b, ',');
                }
                first = false;
                out_json_str(&b, r->id, strlen(r->id));
            }
            if (!first)
                ig_buf_putc(&b, ']');
        }
        ig_buf_lit(&b, "}}");
        if (p + 1 < NPATHS)
            ig_buf_putc(&b, ',');
    }
    ig_buf_lit(&b, "],\"rules\":[");
    for (size_t i = 0; i < c->n; i++) {
        const ig_rule_info *r = ig_rules_info(c->rs, i);
        const char *lv = out_level_name(r->level), *src = source_of(r);
        ig_buf_lit(&b, "{\"id\":");
        out_json_str(&b, r->id, strlen(r->id));
        ig_buf_lit(&b, ",\"title\":");
        out_json_str(&b, r->title, strlen(r->title));
        ig_buf_lit(&b, ",\"level\":");
        out_json_str(&b, lv, strlen(lv));
        ig_buf_lit(&b, ",\"telemetry\":");
        out_json_str(&b, src, strlen(src));
        ig_buf_lit(&b, ",\"tests\":");
        if (c->te[i] == IG_EIO) {
            ig_buf_lit(&b, "null");
        } else {
            ig_buf_lit(&b, "{\"passed\":");
            ig_buf_u64(&b, c->t[i].passed);
            ig_buf_lit(&b, ",\"failed\":");
            ig_buf_u64(&b, c->t[i].failed + (c->te[i] != IG_OK));
            ig_buf_putc(&b, '}');
        }
        ig_buf_putc(&b, '}');
        if (i + 1 < c->n)
            ig_buf_putc(&b, ',');
    }
    ig_buf_lit(&b, "]}\n");
    if (!b.failed)
        fwrite(b.data, 1, b.len, stdout);
    ig_buf_free(&b);
}

/* Columns in the order telemetry is usually collected (others after). */
static void cov_sort_columns(cov *c)
{
    static const char *const order[] = {"process_creation",  "ps_script",  "ps_module",
                                        "iis-configuration", "file_event", "file_change",
                                        "file_delete",       "security",   "image_load",
                                        "application",       "system",     "correlation"};
    size_t rank[MAXCOLS], perm[MAXCOLS], inv[MAXCOLS];
    for (size_t k = 0; k < c->ncols; k++) {
        rank[k] = sizeof(order) / sizeof(order[0]) + k;
        for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
            if (strcmp(c->cols[k], order[o]) == 0)
                rank[k] = o;
        perm[k] = k;
    }
    for (size_t a = 1; a < c->ncols; a++) /* insertion sort by rank */
        for (size_t b = a; b > 0 && rank[perm[b - 1]] > rank[perm[b]]; b--) {
            size_t t = perm[b];
            perm[b] = perm[b - 1];
            perm[b - 1] = t;
        }
    const char *cols[MAXCOLS];
    for (size_t k = 0; k < c->ncols; k++) {
        cols[k] = c->cols[perm[k]];
        inv[perm[k]] = k;
    }
    memcpy(c->cols, cols, sizeof(cols[0]) * c->ncols);
    for (size_t i = 0; i < c->n; i++)
        c->col_of[i] = inv[c->col_of[i]];
}

int rules_coverage(int argc, char **argv)
{
    bool bad = false;
    const char *fmt = rules_cli_option(&argc, argv, "--format", &bad);
    bool builtin = !rules_cli_flag(&argc, argv, "--no-builtin");
    if (bad || (fmt != NULL && strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0)) {
        fputs("usage: iisguard rules coverage [--no-builtin] [--format text|json] [FILE|DIR...]\n",
              stderr);
        return 2;
    }
    cov c;
    memset(&c, 0, sizeof(c));
    c.rs = rules_cli_load(argc, argv, builtin);
    if (c.rs == NULL)
        return 2;
    c.n = ig_rules_count(c.rs);
    c.t = calloc(c.n + 1, sizeof(*c.t));
    c.te = calloc(c.n + 1, sizeof(*c.te));
    c.col_of = calloc(c.n + 1, sizeof(*c.col_of));
    if (c.t == NULL || c.te == NULL || c.col_of == NULL) {
        ig_rules_destroy(c.rs);
        free(c.t), free(c.te), free(c.col_of);
        return 2;
    }
    unsigned failing = 0;
    for (size_t i = 0; i < c.n; i++) {
        const ig_rule_info *r = ig_rules_info(c.rs, i);
        c.te[i] =
            strncmp(r->file, "rules/", 6) == 0 ? ig_builtin_rule_test(r->id, &c.t[i]) : IG_EIO;
        failing += c.te[i] != IG_EIO && (c.te[i] != IG_OK || c.t[i].failed);
        const char *s = source_of(r);
        size_t k = 0;
        while (k < c.ncols && strcmp(c.cols[k], s) != 0)
            k++;
        if (k == c.ncols && c.ncols < MAXCOLS)
            c.cols[c.ncols++] = s;
        c.col_of[i] = k < MAXCOLS ? k : MAXCOLS - 1;
    }
    cov_sort_columns(&c);
    if (fmt != NULL && strcmp(fmt, "json") == 0)
        cov_json(&c);
    else
        cov_text(&c);
    ig_rules_destroy(c.rs);
    free(c.t), free(c.te), free(c.col_of);
    return failing ? 1 : 0;
}

/* ---- export ---------------------------------------------------------------------- */

int rules_export(int argc, char **argv)
{
    bool force = rules_cli_flag(&argc, argv, "--force");
    if (argc != 1) {
        fputs("usage: iisguard rules export DIR [--force]\n", stderr);
        return 2;
    }
    const char *dir = argv[0];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "iisguard rules export: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    ig_rules *rs = rules_cli_load(0, NULL, true);
    if (rs == NULL)
        return 2;
    unsigned written = 0, kept = 0, failed = 0;
    const char *text;
    size_t len;
    for (size_t i = 0;; i++) {
        const char *name = ig_builtin_rule_file(i, &text, &len);
        if (name == NULL)
            break;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, base);
        FILE *f = cli_open_output(path, force, "rules export");
        if (f == NULL) {
            kept++;
            continue;
        }
        bool ok = fwrite(text, 1, len, f) == len;
        ok = fclose(f) == 0 && ok;
        if (!ok) {
            fprintf(stderr, "iisguard rules export: %s: write failed\n", path);
            failed++;
            continue;
        }
        written++;
        for (size_t k = 0; k < ig_rules_count(rs); k++) {
            const ig_rule_info *r = ig_rules_info(rs, k);
            if (strcmp(r->file, name) == 0 && r->extension)
                fprintf(stderr,
                        "iisguard rules export: note: %s uses the correlation type 'absent', an "
                        "iisguard extension other Sigma tools reject\n",
                        base);
        }
    }
    ig_rules_destroy(rs);
    fprintf(stderr, "iisguard rules export: %u rules written to %s", written, dir);
    if (kept)
        fprintf(stderr, ", %u not written (they exist; --force replaces them)", kept);
    fputc('\n', stderr);
    return failed ? 2 : kept ? 1 : 0;
}

/* ---- navigator --------------------------------------------------------------------- */

/* "attack.t1505.004" -> "T1505.004"; false for other tags */
static bool technique_of(const char *tag, char *out, size_t n)
{
    if (strncasecmp(tag, "attack.t", 8) != 0 || tag[8] < '0' || tag[8] > '9')
        return false;
    size_t i = 0;
    out[i++] = 'T';
    for (const char *p = tag + 8; *p && i + 1 < n; p++) {
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
        out[i++] = *p;
    }
    out[i] = '\0';
    return true;
}

/* A technique and the rules tagged with it.  Layers name no tactic: the
 * Navigator then marks the technique under every tactic it belongs to. */
typedef struct nav_entry {
    char technique[16];
    size_t rules[64], n, total;
} nav_entry;

int rules_navigator(int argc, char **argv)
{
    bool bad = false;
    bool force = rules_cli_flag(&argc, argv, "--force");
    const char *outp = rules_cli_option(&argc, argv, "--output", &bad);
    bool builtin = !rules_cli_flag(&argc, argv, "--no-builtin");
    if (bad) {
        fputs("usage: iisguard rules navigator [--no-builtin] [FILE|DIR...] [--output FILE "
              "[--force]]\n",
              stderr);
        return 2;
    }
    ig_rules *rs = rules_cli_load(argc, argv, builtin);
    if (rs == NULL)
        return 2;
    size_t cap = 256, ne = 0, maxscore = 0;
    nav_entry *v = calloc(cap, sizeof(*v));
    for (size_t i = 0; v != NULL && i < ig_rules_count(rs); i++) {
        const ig_rule_info *r = ig_rules_info(rs, i);
        for (size_t t = 0; t < r->ntags; t++) {
            char tech[16];
            if (!technique_of(r->tags[t], tech, sizeof(tech)))
                continue;
            size_t e = 0;
            while (e < ne && strcmp(v[e].technique, tech) != 0)
                e++;
            if (e == ne) {
                if (ne == cap) {
                    nav_entry *nv = realloc(v, sizeof(*v) * cap * 2);
                    if (nv == NULL)
                        break;
                    memset(nv + cap, 0, sizeof(*v) * cap);
                    v = nv;
                    cap *= 2;
                }
                memcpy(v[e].technique, tech, sizeof(tech));
                ne++;
            }
            if (v[e].n < 64)
                v[e].rules[v[e].n++] = i;
            v[e].total++;
            if (v[e].total > maxscore)
                maxscore = v[e].total;
        }
    }
    if (v == NULL) {
        ig_rules_destroy(rs);
        return 2;
    }
    ig_buf b;
    ig_buf_init(&b, 256u << 20);
    ig_buf_lit(&b, "{\n  \"name\": \"iisguard rules\",\n  \"versions\": {\"attack\": \"16\", "
                   "\"navigator\": \"5.1.0\", \"layer\": \"4.5\"},\n  \"domain\": "
                   "\"enterprise-attack\",\n  \"description\": ");
    char desc[160];
    snprintf(desc, sizeof(desc), "Techniques seen by %zu iisguard rules%s (score: rules)",
             ig_rules_count(rs), builtin ? ", built-in pack included" : "");
    out_json_str(&b, desc, strlen(desc));
    ig_buf_lit(&b, ",\n  \"sorting\": 3,\n  \"hideDisabled\": false,\n  \"techniques\": [");
    for (size_t e = 0; e < ne; e++) {
        ig_buf_puts(&b, e ? ",\n    {" : "\n    {");
        ig_buf_lit(&b, "\"techniqueID\": ");
        out_json_str(&b, v[e].technique, strlen(v[e].technique));
        ig_buf_lit(&b, ", \"score\": ");
        ig_buf_u64(&b, v[e].total);
        ig_buf_lit(&b, ", \"enabled\": true, \"comment\": ");
        char cm[64];
        snprintf(cm, sizeof(cm), "%zu rule%s", v[e].total, v[e].total == 1 ? "" : "s");
        out_json_str(&b, cm, strlen(cm));
        ig_buf_lit(&b, ", \"metadata\": [");
        for (size_t k = 0; k < v[e].n; k++) {
            const ig_rule_info *r = ig_rules_info(rs, v[e].rules[k]);
            const char *lv = out_level_name(r->level);
            char val[512];
            snprintf(val, sizeof(val), "%s (%s, %s)", r->title, lv, r->id);
            ig_buf_puts(&b, k ? ", {\"name\": \"rule\", \"value\": "
                              : "{\"name\": \"rule\", \"value\": ");
            out_json_str(&b, val, strlen(val));
            ig_buf_putc(&b, '}');
        }
        ig_buf_lit(&b, "]}");
    }
    ig_buf_lit(&b, "\n  ],\n  \"gradient\": {\"colors\": [\"#ffe766ff\", \"#ff6666ff\"], "
                   "\"minValue\": 1, \"maxValue\": ");
    ig_buf_u64(&b, maxscore > 1 ? maxscore : 2);
    ig_buf_lit(&b,
               "},\n  \"legendItems\": [],\n  \"showTacticRowBackground\": false,\n"
               "  \"selectTechniquesAcrossTactics\": true,\n  \"selectSubtechniquesWithParent\": "
               "false\n}\n");
    int rc = 0;
    FILE *f = outp ? cli_open_output(outp, force, "rules navigator") : stdout;
    if (f == NULL || b.failed) {
        rc = 2;
    } else {
        if (fwrite(b.data, 1, b.len, f) != b.len)
            rc = 2;
        if (f != stdout && fclose(f) != 0)
            rc = 2;
        if (rc == 0 && outp != NULL)
            fprintf(stderr, "iisguard rules navigator: %zu techniques from %zu rules in %s\n", ne,
                    ig_rules_count(rs), outp);
    }
    ig_buf_free(&b);
    free(v);
    ig_rules_destroy(rs);
    return rc;
}
