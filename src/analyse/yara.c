/* The user's YARA rules through libyara: compiled once (file or folder),
 * then run over each file's bytes. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yara.h>

#include "core/alloc.h"
#include "iisguard/yara.h"

#define MAX_DEPTH    16
#define SCAN_TIMEOUT 60 /* seconds per file */

struct ig_yara {
    YR_RULES *rules;
    size_t nrules;
};

typedef struct load_ctx {
    ig_yara_error_fn on_error;
    void *ud;
    unsigned errors, files;
} load_ctx;

static void on_compile(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                       void *ud)
{
    load_ctx *c = ud;
    (void)rule;
    if (level != YARA_ERROR_LEVEL_ERROR)
        return;
    c->errors++;
    if (c->on_error != NULL)
        c->on_error(c->ud, file ? file : "?", line, msg);
}

static bool yara_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && strcasecmp(n + l - 4, ".yar") == 0) ||
           (l > 5 && strcasecmp(n + l - 5, ".yara") == 0);
}

static void add_file(YR_COMPILER *comp, load_ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        c->errors++;
        if (c->on_error != NULL)
            c->on_error(c->ud, path, 0, "cannot be read");
        return;
    }
    c->files++;
    yr_compiler_add_file(comp, f, NULL, path);
    fclose(f);
}

static void add_dir(YR_COMPILER *comp, load_ctx *c, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= sizeof(p))
            continue;
        struct stat sb;
        if (lstat(p, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode) && depth < MAX_DEPTH)
            add_dir(comp, c, p, depth + 1);
        else if (S_ISREG(sb.st_mode) && yara_name(e->d_name))
            add_file(comp, c, p);
    }
    if (d != NULL)
        closedir(d);
}

ig_yara *ig_yara_load(const char *path, ig_yara_error_fn on_error, void *ud)
{
    load_ctx c = {on_error, ud, 0, 0};
    if (yr_initialize() != ERROR_SUCCESS)
        return NULL;
    YR_COMPILER *comp = NULL;
    ig_yara *y = ig_calloc(1, sizeof(*y));
    if (y == NULL || yr_compiler_create(&comp) != ERROR_SUCCESS) {
        ig_free(y);
        yr_finalize();
        return NULL;
    }
    yr_compiler_set_callback(comp, on_compile, &c);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        add_dir(comp, &c, path, 0);
    else
        add_file(comp, &c, path);
    if (c.files == 0 && c.errors == 0 && on_error != NULL) {
        on_error(ud, path, 0, "no .yar or .yara file");
        c.errors++;
    }
    if (c.errors == 0 && yr_compiler_get_rules(comp, &y->rules) != ERROR_SUCCESS)
        c.errors++;
    yr_compiler_destroy(comp);
    if (c.errors) {
        if (y->rules != NULL)
            yr_rules_destroy(y->rules);
        ig_free(y);
        yr_finalize();
        return NULL;
    }
    YR_RULE *r;
    yr_rules_foreach(y->rules, r)
    {
        y->nrules++;
    }
    return y;
}

size_t ig_yara_rule_count(const ig_yara *y)
{
    return y ? y->nrules : 0;
}

typedef struct scan_ctx {
    ig_yara_match_fn fn;
    void *ud;
    int matches;
} scan_ctx;

static int on_scan(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *ud)
{
    (void)ctx;
    scan_ctx *s = ud;
    if (msg == CALLBACK_MSG_RULE_MATCHING) {
        const YR_RULE *r = data;
        s->matches++;
        if (s->fn != NULL)
            s->fn(s->ud, r->ns ? r->ns->name : "default", r->identifier);
    }
    return CALLBACK_CONTINUE;
}

int ig_yara_scan(const ig_yara *y, const uint8_t *data, size_t len, ig_yara_match_fn fn, void *ud)
{
    scan_ctx s = {fn, ud, 0};
    int rc = yr_rules_scan_mem(y->rules, data, len, SCAN_FLAGS_REPORT_RULES_MATCHING, on_scan, &s,
                               SCAN_TIMEOUT);
    return rc == ERROR_SUCCESS ? s.matches : -1;
}

void ig_yara_free(ig_yara *y)
{
    if (y == NULL)
        return;
    yr_rules_destroy(y->rules);
    ig_free(y);
    yr_finalize();
}
