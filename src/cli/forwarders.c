/* Forwarded exports followed within the files read (forwarders.h). */
#define _DEFAULT_SOURCE /* strdup, O_CLOEXEC */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/forwarders.h"

#define MAX_FILE (1ull << 31)

typedef struct entry {
    const char *base; /* points into path */
    char *path;
} entry;

struct fwd_index {
    entry *v;
    size_t n, cap;
};

static bool add(fwd_index *x, const char *path)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        entry *v = realloc(x->v, sizeof(*v) * cap);
        if (v == NULL)
            return false;
        x->v = v;
        x->cap = cap;
    }
    char *p = strdup(path);
    if (p == NULL)
        return false;
    const char *b = strrchr(p, '/');
    x->v[x->n++] = (entry){b ? b + 1 : p, p};
    return true;
}

static int by_base(const void *a, const void *b)
{
    return strcasecmp(((const entry *)a)->base, ((const entry *)b)->base);
}

fwd_index *fwd_index_build(char **paths, long n, bool siblings)
{
    fwd_index *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    for (long i = 0; i < n; i++) {
        if (!add(x, paths[i]))
            goto fail;
        if (!siblings)
            continue;
        char dir[4096];
        const char *slash = strrchr(paths[i], '/');
        size_t dl = slash ? (size_t)(slash - paths[i]) : 0;
        if (dl >= sizeof(dir))
            continue;
        memcpy(dir, slash ? paths[i] : ".", slash ? dl : 1);
        dir[slash ? dl : 1] = '\0';
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            char p[4096];
            struct stat sb;
            if (e->d_name[0] == '.' ||
                (size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= sizeof(p) ||
                stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
                continue;
            if (!add(x, p)) {
                closedir(d);
                goto fail;
            }
        }
        if (d != NULL)
            closedir(d);
    }
    if (x->n > 1)
        qsort(x->v, x->n, sizeof(*x->v), by_base);
    return x;
fail:
    fwd_index_free(x);
    return NULL;
}

void fwd_index_free(fwd_index *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->n; i++)
        free(x->v[i].path);
    free(x->v);
    free(x);
}

const char *fwd_file(const fwd_index *x, const char *forwarder)
{
    const char *dot = strrchr(forwarder, '.');
    if (x == NULL || dot == NULL || dot == forwarder)
        return NULL;
    char name[512];
    size_t ml = (size_t)(dot - forwarder);
    if (ml + 5 > sizeof(name))
        return NULL;
    memcpy(name, forwarder, ml);
    name[ml] = '\0';
    /* "MODULE.Function": the module is MODULE.dll unless it has its own extension */
    if (memchr(forwarder, '.', ml) == NULL)
        memcpy(name + ml, ".dll", 5);
    entry key = {name, NULL};
    const entry *e = bsearch(&key, x->v, x->n, sizeof(*x->v), by_base);
    return e ? e->path : NULL;
}

static const char *const entry_points[] = {"RegisterModule", "GetExtensionVersion",
                                           "HttpExtensionProc", "GetFilterVersion",
                                           "HttpFilterProc"};

/* Reads `path` and tells whether it exports `fn` ("Name" or "#ordinal"). */
static void look_at(const char *path, const char *fn, fwd_entry *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size <= 0 || (uint64_t)sb.st_size > MAX_FILE) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t len = (size_t)sb.st_size;
    const uint8_t *d = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (d == MAP_FAILED)
        return;
    ig_pe *t = ig_pe_parse(d, len);
    if (t != NULL) {
        out->cls = ig_pe_class_name(t->cls);
        unsigned long ord = fn[0] == '#' ? strtoul(fn + 1, NULL, 10) : 0;
        for (size_t i = 0; i < t->nexports && !out->exported; i++)
            out->exported = fn[0] == '#'
                                ? t->exports[i].ordinal == ord
                                : t->exports[i].name && strcmp(t->exports[i].name, fn) == 0;
        ig_pe_free(t);
    }
    munmap((void *)d, len);
}

size_t fwd_entry_points(const fwd_index *x, const ig_pe *p, fwd_entry *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nexports && n < max; i++) {
        const ig_pe_export *e = &p->exports[i];
        if (e->forwarder == NULL || e->name == NULL)
            continue;
        bool iis = false;
        for (size_t k = 0; k < sizeof(entry_points) / sizeof(entry_points[0]); k++)
            iis |= strcmp(e->name, entry_points[k]) == 0;
        if (!iis)
            continue;
        fwd_entry *f = &out[n++];
        memset(f, 0, sizeof(*f));
        f->name = e->name;
        f->to = e->forwarder;
        f->file = fwd_file(x, e->forwarder);
        if (f->file != NULL)
            look_at(f->file, strrchr(e->forwarder, '.') + 1, f);
    }
    return n;
}
