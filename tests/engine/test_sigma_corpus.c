/* Loads every *.yml under DIR (recursively) with sg_load_text, prints every
 * rejection as "file:line: reason", then "loaded N, rejected M (P%)".
 * usage: test_sigma_corpus DIR [MIN_PERCENT]
 * Exit 1 if fewer than MIN_PERCENT (default 99) of the files load without
 * any rejection, 77 (skipped) if DIR does not exist. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/num.h"
#include "engine/sigma_ast.h"
#include "engine/sigma_limits.h"

#define MAX_WALK_DEPTH 32

typedef struct stats {
    unsigned long files, ok, rejected, rules, errors;
    unsigned file_errors; /* errors of the current file */
} stats;

static void on_rule(void *ud, const sg_rule *r)
{
    stats *st = ud;
    (void)r;
    st->rules++;
}

static void on_error(void *ud, const sg_error *e)
{
    stats *st = ud;
    st->file_errors++;
    st->errors++;
    printf("%s:%u: %s\n", e->file, e->line, e->reason);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap > IG_MAX_SIGMA_FILE_BYTES) /* the loader rejects it anyway */
            break;
        char *nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

static bool has_yml_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".yml") == 0;
}

static void load_one(const char *path, stats *st)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    st->files++;
    st->file_errors = 0;
    if (text == NULL) {
        printf("%s:0: cannot read\n", path);
        st->rejected++;
        return;
    }
    ig_arena arena;
    ig_arena_init(&arena, 0);
    unsigned n = sg_load_text(path, text, len, &arena, on_rule, on_error, st);
    ig_arena_destroy(&arena);
    free(text);
    if (st->file_errors == 0 && n > 0) {
        st->ok++;
    } else {
        if (st->file_errors == 0)
            printf("%s:1: no rule in the file\n", path);
        st->rejected++;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks `dir` in name order (stable output). */
static void walk(const char *dir, stats *st, unsigned depth)
{
    if (depth > MAX_WALK_DEPTH)
        return;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (nn == NULL)
                break;
            names = nn;
        }
        size_t l = strlen(e->d_name);
        names[n] = malloc(l + 1);
        if (names[n] == NULL)
            break;
        memcpy(names[n], e->d_name, l + 1);
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        struct stat sb;
        if (w > 0 && (size_t)w < sizeof(path) && stat(path, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                walk(path, st, depth + 1);
            else if (S_ISREG(sb.st_mode) && has_yml_suffix(names[i]))
                load_one(path, st);
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_sigma_corpus DIR [MIN_PERCENT]\n");
        return 2;
    }
    uint64_t min_pct = 99;
    if (argc > 2 && !ig_parse_u64(argv[2], 100, &min_pct)) {
        fprintf(stderr, "MIN_PERCENT must be 0..100\n");
        return 2;
    }
    struct stat sb;
    if (stat(argv[1], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("skipped: %s is not a directory (the shared Sigma corpus is absent)\n", argv[1]);
        return 77;
    }
    stats st = {0};
    walk(argv[1], &st, 0);
    double pct = st.files ? 100.0 * (double)st.ok / (double)st.files : 100.0;
    printf("loaded %lu, rejected %lu (%.2f%%) of %lu files; %lu rules, %lu errors\n", st.ok,
           st.rejected, st.files ? 100.0 * (double)st.rejected / (double)st.files : 0.0, st.files,
           st.rules, st.errors);
    if (st.files == 0) {
        printf("skipped: no *.yml file under %s\n", argv[1]);
        return 77;
    }
    bool pass = pct >= (double)min_pct;
    if (!pass)
        printf("accepted share %.2f%% is below the required %u%%\n", pct, (unsigned)min_pct);
    printf("%d passed, %d failed\n", pass ? 1 : 0, pass ? 0 : 1);
    return pass ? 0 : 1;
}
