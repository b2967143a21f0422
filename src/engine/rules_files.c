/* Rule files and folders (ig_rules_builder_add_path).  A folder is walked
 * (sorted, recursively, links followed) into a list of rule files; the
 * files are read and parsed (YAML → rule trees) by several threads, each
 * into its own arena; meanwhile the calling thread, in list order, compiles
 * each parsed file's rules and reports its rejections, so that the rule
 * set and the messages are the same whatever the number of threads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/thread.h"
#include "engine/engine.h"

#define MAX_RULE_FILE     (4u * 1024u * 1024u)
#define MAX_COMPILED_FILE ((size_t)1 << 30)
#define MAX_LOADERS       8u   /* parsing threads */
#define MIN_PARALLEL      16u  /* fewer files are parsed by the calling thread */
#define MAX_DIR_FDS       256u /* folders kept open while their files are read */

/* What parsing one file gave, in order: a rule tree or a rejection. */
typedef struct load_ev {
    struct load_ev *next;
    const sg_rule *rule; /* NULL: a rejection */
    const char *file, *reason;
    unsigned line;
} load_ev;

typedef struct load_item {
    char *path;
    int dfd;           /* its folder, open (read through openat), or -1 */
    size_t base;       /* where its name starts in path */
    bool regular;      /* a regular file (found so in its folder) */
    const char *error; /* set: this path could not be read (reported, not parsed) */
    int err;           /* or this errno (strerror is not for the parsing threads) */
    load_ev *first, *last;
    ig_buf rec; /* compiling: its records (sigma_bin.c) */
    /* or a run of a compiled rule file's records, bin[start, end) (path:
     * that file), `cut` when the file's framing breaks at its end */
    const uint8_t *bin;
    size_t start, end;
    bool cut;
    atomic_bool parsed; /* first .. last are complete */
} load_item;

typedef struct load_list {
    load_item *v;
    size_t n, cap;
    int *dirs; /* the folders items are read from, open */
    size_t ndirs, dcap, maxdirs;
    bool oom;
} load_list;

typedef struct loader {
    load_item *items;
    size_t n;
    atomic_size_t next;
    bool record; /* compiling: keep each file's records */
} loader;

typedef struct load_worker {
    loader *l;
    ig_arena arena; /* rule trees, copied messages */
    char *buf;      /* MAX_RULE_FILE + 1 bytes */
    load_item *cur;
    bool oom;
} load_worker;

static bool is_rule_file(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcasecmp(name + n - 5, ".yaml") == 0);
}

static void list_add(load_list *L, const char *path, const char *error)
{
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        load_item *v = ig_realloc(L->v, sizeof(*v) * cap);
        if (v == NULL) {
            L->oom = true;
            return;
        }
        L->v = v;
        L->cap = cap;
    }
    char *p = ig_malloc(strlen(path) + 1);
    if (p == NULL) {
        L->oom = true;
        return;
    }
    memcpy(p, path, strlen(path) + 1);
    L->v[L->n] = (load_item){p, -1, 0, false, error, 0, NULL, NULL, {0}, NULL, 0, 0, false, false};
    ig_buf_init(&L->v[L->n].rec, (size_t)1 << 30);
    L->n++;
}

typedef struct dir_entry {
    char *path;
    const char *name;   /* in path, after the folder's (which all share) */
    unsigned char type; /* DT_DIR, DT_REG, or DT_UNKNOWN: ask stat (links are followed) */
} dir_entry;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const dir_entry *)a)->name, ((const dir_entry *)b)->name);
}

/* Keeps a descriptor of folder `d` open for reading its files by name
 * (openat: no walk of the whole path per file); -1 when it cannot, or
 * when enough are kept already (MAX_DIR_FDS, or a quarter of the process's
 * limit: descriptors stay for other uses). */
static int keep_dir(load_list *L, DIR *d)
{
    if (L->maxdirs == 0) { /* at most a quarter of what the process may open */
        struct rlimit rl;
        rlim_t q = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur / 4 : 0;
        L->maxdirs = q < MAX_DIR_FDS ? (q ? (size_t)q : 1) : MAX_DIR_FDS;
    }
    if (L->ndirs + 1 >= L->maxdirs)
        return -1;
    if (L->ndirs == L->dcap) {
        size_t cap = L->dcap ? L->dcap * 2 : 16;
        int *v = ig_realloc(L->dirs, sizeof(*v) * cap);
        if (v == NULL)
            return -1;
        L->dirs = v;
        L->dcap = cap;
    }
    int fd = fcntl(dirfd(d), F_DUPFD_CLOEXEC, 0);
    if (fd >= 0)
        L->dirs[L->ndirs++] = fd;
    return fd;
}

/* Appends the rule files under `dir` (sorted by path) to `L`; a folder that
 * cannot be read becomes an item with its error. */
static void walk(load_list *L, const char *dir, int depth)
{
    if (depth > 32 || L->oom)
        return;
    DIR *d = opendir(dir);
    if (d == NULL) {
        list_add(L, dir, strerror(errno));
        return;
    }
    bool files = false; /* some name that could be a rule file */
    dir_entry *names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && !L->oom) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            dir_entry *v = ig_realloc(names, sizeof(*v) * cap);
            if (v == NULL) {
                L->oom = true;
                break;
            }
            names = v;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n].path = ig_malloc(len);
        if (names[n].path == NULL) {
            L->oom = true;
            break;
        }
        size_t dl = strlen(dir), nl = strlen(e->d_name);
        memcpy(names[n].path, dir, dl);
        names[n].path[dl] = '/';
        memcpy(names[n].path + dl + 1, e->d_name, nl + 1);
        names[n].name = names[n].path + dl + 1;
        names[n].type = e->d_type == DT_DIR || e->d_type == DT_REG ? e->d_type : DT_UNKNOWN;
        files = files || (names[n].type != DT_DIR && is_rule_file(e->d_name));
        n++;
    }
    int dfd = files ? keep_dir(L, d) : -1;
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_entry);
    for (size_t i = 0; i < n; i++) {
        unsigned char type = names[i].type;
        struct stat st;
        if (type == DT_UNKNOWN && stat(names[i].path, &st) == 0)
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        if (type == DT_DIR)
            walk(L, names[i].path, depth + 1);
        else if (type == DT_REG && is_rule_file(names[i].path)) {
            list_add(L, names[i].path, NULL);
            if (!L->oom) {
                L->v[L->n - 1].dfd = dfd;
                L->v[L->n - 1].base = strlen(dir) + 1;
                L->v[L->n - 1].regular = true;
            }
        }
        ig_free(names[i].path);
    }
    ig_free(names);
}

static void load_add(load_worker *w, const sg_rule *r, const char *file, unsigned line,
                     const char *reason)
{
    load_ev *e = ig_arena_alloc(&w->arena, sizeof(*e));
    if (e != NULL && reason != NULL)
        reason = ig_arena_dup(&w->arena, reason, strlen(reason) + 1);
    if (e == NULL || (r == NULL && reason == NULL)) {
        w->oom = true;
        return;
    }
    *e = (load_ev){NULL, r, file, reason, line};
    if (w->cur->last != NULL)
        w->cur->last->next = e;
    else
        w->cur->first = e;
    w->cur->last = e;
}

static void on_rule(void *ud, const sg_rule *r)
{
    load_add(ud, r, NULL, 0, NULL);
}

static void on_error(void *ud, const sg_error *e)
{
    load_add(ud, NULL, e->file, e->line, e->reason);
}

/* Reads `fd` into dst until `cap` bytes or its end; *n: the bytes read.
 * `regular`: a regular file, whose read returns less than asked only at
 * its end (no read more to see the end).  False on a read error. */
static bool read_file(int fd, uint8_t *dst, size_t cap, size_t *n, bool regular)
{
    ssize_t got = 0;
    *n = 0;
    while (*n < cap && ((got = read(fd, dst + *n, cap - *n)) > 0 || (got < 0 && errno == EINTR))) {
        *n += got > 0 ? (size_t)got : 0;
        if (regular && got > 0 && *n < cap)
            break;
    }
    return got >= 0;
}

static bool read_upto(int fd, uint8_t *dst, size_t cap, size_t *n)
{
    return read_file(fd, dst, cap, n, false);
}

/* Reads and parses item `it`; a read failure becomes its error. */
static void parse_item(load_worker *w, load_item *it)
{
    if (it->error != NULL)
        return;
    if (it->bin != NULL) {
        w->cur = it;
        sg_load_compiled_run(it->path, it->bin, it->start, it->end, it->cut, &w->arena, on_rule,
                             on_error, w);
        return;
    }
    int fd = it->dfd >= 0 ? openat(it->dfd, it->path + it->base, O_RDONLY | O_CLOEXEC)
                          : open(it->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        it->err = errno ? errno : EIO;
        return;
    }
    size_t n;
    bool read_ok = read_file(fd, (uint8_t *)w->buf, MAX_RULE_FILE + 1, &n, it->regular);
    close(fd);
    if (!read_ok || n > MAX_RULE_FILE) {
        it->error = !read_ok ? "read error" : "file larger than 4 MiB";
        return;
    }
    w->cur = it;
    sg_load_text_rec(it->path, w->buf, n, &w->arena, on_rule, on_error, w,
                     w->l->record ? &it->rec : NULL);
}

/* Parses the next item not taken yet; false when there is none. */
static bool parse_next(load_worker *w)
{
    size_t i = atomic_fetch_add(&w->l->next, 1);
    if (i >= w->l->n)
        return false;
    parse_item(w, &w->l->items[i]);
    atomic_store_explicit(&w->l->items[i].parsed, true, memory_order_release);
    return true;
}

static void *work(void *ud)
{
    while (parse_next(ud))
        ;
    return NULL;
}

/* What item `it` gave, to the builder: its read error, its rules (compiled)
 * and its rejections, in order; *e is set to IG_EIO on a read error. */
static void deliver(ig_rules_builder *b, load_item *it, ig_err *e)
{
    ig_buf *rec = em_builder_rec(b);
    if (it->error != NULL || it->err != 0) {
        const char *why = it->error ? it->error : strerror(it->err);
        em_builder_report(b, it->path, 0, why);
        if (rec != NULL)
            sg_record_error(rec, it->path, 0, why);
        *e = IG_EIO;
    }
    if (rec != NULL && (it->rec.failed || !ig_buf_put(rec, it->rec.data, it->rec.len)))
        rec->failed = true;
    ig_buf_free(&it->rec);
    for (const load_ev *v = it->first; v != NULL; v = v->next) {
        if (v->rule != NULL)
            em_builder_rule(b, v->rule);
        else
            em_builder_report(b, v->file, v->line, v->reason);
    }
}

/* Parses every item with the builder's threads, MAX_LOADERS at most (this
 * one included), and delivers them in order as they are parsed (a tree
 * stays where its parsing thread put it until that thread's arena joins
 * the builder's).  False when out of memory (what was delivered stays). */
static bool parse_all(ig_rules_builder *b, load_item *items, size_t n, ig_err *e)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned nt = em_builder_threads(b) ? em_builder_threads(b) : cpus > 1 ? (unsigned)cpus : 1u;
    if (n < MIN_PARALLEL)
        nt = 1;
    if (nt > MAX_LOADERS)
        nt = MAX_LOADERS;
    loader l = {items, n, 0, em_builder_rec(b) != NULL};
    load_worker w[MAX_LOADERS];
    pthread_t tid[MAX_LOADERS];
    bool started[MAX_LOADERS] = {false};
    bool ok = true;
    for (unsigned i = 0; i < nt; i++) {
        w[i] = (load_worker){&l, {0}, ig_malloc(MAX_RULE_FILE + 1), NULL, false};
        ig_arena_init(&w[i].arena, 0);
        ok = ok && w[i].buf != NULL;
    }
    size_t done = 0;
    if (ok) {
        for (unsigned i = 1; i < nt; i++)
            started[i] = ig_thread_start(&tid[i], i - 1, work, &w[i]) == 0;
        for (;;) {
            while (done < n && atomic_load_explicit(&items[done].parsed, memory_order_acquire))
                deliver(b, &items[done++], e);
            if (!parse_next(&w[0]))
                break; /* all taken: the others finish their last ones */
        }
        for (unsigned i = 1; i < nt; i++)
            if (started[i])
                pthread_join(tid[i], NULL);
        while (done < n)
            deliver(b, &items[done++], e);
    }
    for (unsigned i = 0; i < nt; i++) {
        ok = ok && !w[i].oom;
        ig_arena_adopt(em_builder_arena(b), &w[i].arena);
        ig_arena_destroy(&w[i].arena);
        ig_free(w[i].buf);
    }
    return ok;
}

static void list_free(load_list *L)
{
    for (size_t i = 0; i < L->n; i++) {
        ig_free(L->v[i].path);
        ig_buf_free(&L->v[i].rec);
    }
    ig_free(L->v);
    for (size_t i = 0; i < L->ndirs; i++)
        close(L->dirs[i]);
    ig_free(L->dirs);
}

/* The end of ig_rules_builder_add_path: frees the list, passes the counts. */
static ig_err finish_add(ig_rules_builder *b, load_list *L, unsigned *loaded, unsigned *rejected,
                         ig_err e)
{
    unsigned *bl, *br;
    em_builder_counts(b, &bl, &br);
    list_free(L);
    if (loaded)
        *loaded = *bl;
    if (rejected)
        *rejected = *br;
    return e;
}

static void on_compiled_error(void *ud, const sg_error *e)
{
    em_builder_report(ud, e->file, e->line, e->reason);
}

/* When file `path` (stat `st`) is a compiled rule file, loads it (or, when
 * compiling, also keeps its records) and returns true: its runs of records
 * (one per rule file) are read by the builder's threads like rule files;
 * *e is set to IG_EIO when it cannot be read, IG_ENOMEM.  False: not one
 * (YAML), or not a regular file (a compiled rule file is not read from a
 * pipe, whose bytes could be read only once). */
static bool add_compiled(ig_rules_builder *b, const char *path, const struct stat *st, ig_err *e)
{
    if (!S_ISREG(st->st_mode))
        return false; /* a pipe: read once, as YAML */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t head[8];
    size_t n = 0;
    if (fd < 0)
        return false; /* reported when read as YAML */
    if (!read_upto(fd, head, sizeof(head), &n) || !sg_is_compiled(head, n)) {
        close(fd);
        return false;
    }
    size_t len = (size_t)st->st_size;
    uint8_t *data = len <= MAX_COMPILED_FILE ? ig_malloc(len ? len : 1) : NULL;
    if (data != NULL && (lseek(fd, 0, SEEK_SET) != 0 || !read_upto(fd, data, len, &n)))
        n = SIZE_MAX; /* a read error */
    close(fd);
    if (data == NULL || n != len) {
        const char *why = len > MAX_COMPILED_FILE ? "compiled rule file larger than 1 GiB"
                          : data == NULL          ? "out of memory"
                                                  : "read error";
        em_builder_report(b, path, 0, why);
        ig_free(data);
        *e = IG_EIO;
        return true;
    }
    if (!sg_compiled_open(path, data, len, em_builder_arena(b), on_compiled_error, b)) {
        ig_free(data);
        return true;
    }
    load_list L = {NULL, 0, 0, NULL, 0, 0, 0, false};
    bool cut = false;
    size_t pos = SG_COMPILED_HEADER;
    while (pos < len && !cut && !L.oom) {
        size_t end = sg_compiled_run(data, len, pos, &cut);
        list_add(&L, path, NULL);
        if (!L.oom) {
            load_item *it = &L.v[L.n - 1];
            it->bin = data;
            it->start = pos;
            it->end = end;
            it->cut = cut;
        }
        pos = end;
    }
    ig_buf *rec = em_builder_rec(b);
    if (rec != NULL && !ig_buf_put(rec, data + SG_COMPILED_HEADER, pos - SG_COMPILED_HEADER))
        rec->failed = true; /* what is framed */
    if (L.oom || !parse_all(b, L.v, L.n, e))
        *e = IG_ENOMEM;
    list_free(&L);
    ig_free(data);
    return true;
}

ig_err ig_rules_builder_add_path(ig_rules_builder *b, const char *path, unsigned *loaded,
                                 unsigned *rejected)
{
    unsigned *bl, *br;
    em_builder_counts(b, &bl, &br);
    *bl = *br = 0;
    load_list L = {NULL, 0, 0, NULL, 0, 0, 0, false};
    struct stat st;
    ig_err e = IG_OK;
    if (stat(path, &st) != 0) {
        em_builder_report(b, path, 0, strerror(errno));
        e = IG_EIO;
    } else if (S_ISDIR(st.st_mode)) {
        walk(&L, path, 0);
        if (L.n == 0 && !L.oom) { /* not a silent nothing */
            static const char none[] = "no rule file (*.yml, *.yaml) in this folder";
            em_builder_report(b, path, 0, none);
            if (em_builder_rec(b) != NULL)
                sg_record_error(em_builder_rec(b), path, 0, none);
        }
    } else if (add_compiled(b, path, &st, &e)) {
        return finish_add(b, &L, loaded, rejected, e);
    } else {
        list_add(&L, path, NULL);
    }
    if (L.oom || !parse_all(b, L.v, L.n, &e))
        e = IG_ENOMEM;
    return finish_add(b, &L, loaded, rejected, e);
}
