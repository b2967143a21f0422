/* Inputs from the command line: files and folders (walked recursively). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "iisguard/evtx.h"

typedef struct plist {
    char **v;
    long n, cap;
} plist;

static bool add(plist *l, const char *p)
{
    if (l->n == l->cap) {
        long cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, sizeof(*v) * (size_t)cap);
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    size_t len = strlen(p);
    char *c = malloc(len + 1);
    if (c == NULL)
        return false;
    memcpy(c, p, len + 1);
    l->v[l->n++] = c;
    return true;
}

/* `exts`: "|"-separated endings, e.g. ".evtx|.jsonl". */
static bool has_ext(const char *name, const char *exts)
{
    if (exts == NULL)
        return true; /* every file */
    size_t n = strlen(name);
    while (*exts) {
        const char *bar = strchr(exts, '|');
        size_t e = bar ? (size_t)(bar - exts) : strlen(exts);
        if (n > e && strncasecmp(name + n - e, exts, e) == 0)
            return true;
        exts += e + (bar != NULL);
    }
    return false;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the files of `dir` and its subfolders whose names end in `ext`;
 * counts the other regular files in *skipped. */
static bool walk(plist *l, const char *dir, const char *ext, unsigned *errors, unsigned *skipped,
                 int depth)
{
    if (depth > 64)
        return true;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "iisguard: %s: %s\n", dir, strerror(errno));
        (*errors)++;
        return true;
    }
    long start = l->n;
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(need);
        if (p == NULL) {
            ok = false;
            break;
        }
        snprintf(p, need, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            fprintf(stderr, "iisguard: %s: %s\n", p, strerror(errno));
            (*errors)++;
        } else if (S_ISDIR(st.st_mode)) {
            ok = walk(l, p, ext, errors, skipped, depth + 1);
        } else if (S_ISREG(st.st_mode) && has_ext(e->d_name, ext)) {
            ok = add(l, p);
        } else if (S_ISREG(st.st_mode)) {
            (*skipped)++;
        }
        free(p);
    }
    closedir(d);
    if (ok && l->n - start > 1)
        qsort(l->v + start, (size_t)(l->n - start), sizeof(*l->v), cmp);
    return ok;
}

/* Says that folder `dir` gave no input: no file ending in one of `ext`,
 * `skipped` other files. */
static void say_nothing(const char *dir, const char *ext, unsigned skipped)
{
    fprintf(stderr, "iisguard: %s: no input in this folder", dir);
    if (ext != NULL) {
        fputs(" (no file named ", stderr);
        for (const char *e = ext; *e;) {
            size_t n = strcspn(e, "|");
            fprintf(stderr, "%s*%.*s", e == ext ? "" : ", ", (int)n, e);
            e += n + (e[n] == '|');
        }
        fprintf(stderr, "; %u other file%s)", skipped, skipped == 1 ? "" : "s");
    }
    fputc('\n', stderr);
}

long cli_collect(char **args, int nargs, const char *ext, char ***out, unsigned *errors)
{
    plist l = {0};
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        bool ok;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            long before = l.n;
            unsigned skipped = 0;
            ok = walk(&l, args[i], ext, errors, &skipped, 0);
            if (ok && l.n == before) { /* not a silent nothing */
                say_nothing(args[i], ext, skipped);
                (*errors)++;
            }
        } else
            ok = add(&l, args[i]); /* errors are reported when it is opened */
        if (!ok) {
            cli_free_paths(l.v, l.n);
            return -1;
        }
    }
    *out = l.v;
    return l.n;
}

void cli_free_paths(char **paths, long n)
{
    for (long i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

FILE *cli_open_output(const char *path, bool force, const char *cmd)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    struct stat st;
    /* an existing regular file is kept unless forced; devices and pipes
     * (/dev/null, a FIFO) are written to as they are */
    bool regular = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    FILE *f = fopen(path, regular && force ? "wb" : regular ? "wbx" : "wb");
    if (f == NULL) {
        if (errno == EEXIST)
            fprintf(stderr, "iisguard %s: %s exists (use --force to overwrite)\n", cmd, path);
        else
            fprintf(stderr, "iisguard %s: %s: %s\n", cmd, path, strerror(errno));
    }
    return f;
}

int cli_out_write(void *ud, const char *data, size_t len)
{
    cli_out *o = ud;
    if (fwrite(data, 1, len, o->f) != len) {
        o->failed = true;
        return 1;
    }
    return 0;
}

void cli_out_anomaly(void *ud, const struct ig_evtx_anomaly *a)
{
    const cli_out *o = ud;
    if (o->quiet)
        return;
    if (o->clear)
        fputs("\r\033[K", stderr);
    if (a->chunk >= 0)
        fprintf(stderr, "iisguard: %s: chunk %lld at offset 0x%llx: %s\n", a->path,
                (long long)a->chunk, (unsigned long long)a->offset, a->what);
    else
        fprintf(stderr, "iisguard: %s: offset 0x%llx: %s\n", a->path, (unsigned long long)a->offset,
                a->what);
}
