/* Minimal test harness: CHECK records a failure and goes on; TEST_MAIN
 * prints "N passed, M failed" and exits non-zero on any failure. */
#ifndef IG_TEST_H
#define IG_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            t_pass++;                                                                              \
        } else {                                                                                   \
            t_fail++;                                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ != NULL && strcmp(g_, w_) == 0) {                                                   \
            t_pass++;                                                                              \
        } else {                                                                                   \
            t_fail++;                                                                              \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,                \
                    g_ ? g_ : "(null)", w_);                                                       \
        }                                                                                          \
    } while (0)

/* Calls fn(ud, path, data, len) for every file of `dir` (names starting
 * with '.' left out), read up to 1 MiB and NUL-terminated.  Returns the
 * number of files, or -1 when `dir` cannot be opened (a message says so).
 * Used to replay saved fuzzer inputs. */
typedef void (*test_file_fn)(void *ud, const char *path, char *data, size_t len);

static inline int test_each_file(const char *dir, test_file_fn fn, void *ud)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("no saved inputs in %s\n", dir);
        return -1;
    }
    static char buf[(1 << 20) + 1];
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        fn(ud, path, buf, len);
        n++;
    }
    closedir(d);
    return n;
}

#define TEST_MAIN_END()                                                                            \
    do {                                                                                           \
        printf("%d passed, %d failed\n", t_pass, t_fail);                                          \
        return t_fail ? 1 : 0;                                                                     \
    } while (0)

#endif
