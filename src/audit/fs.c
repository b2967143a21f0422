/* Offline file access (fs.h).  Each path component is matched against the
 * folder's entries without regard to case, as Windows does; symbolic links
 * are not followed, so resolution never leaves the root and never loops. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "audit/baseline.h"
#include "audit/fs.h"

#define MAX_COMPONENTS 64

struct au_fs {
    char *root;
};

au_fs *au_fs_offline(const char *root)
{
    au_fs *fs = calloc(1, sizeof(*fs));
    if (fs == NULL || (fs->root = strdup(root)) == NULL) {
        free(fs);
        return NULL;
    }
    size_t n = strlen(fs->root);
    while (n > 1 && fs->root[n - 1] == '/')
        fs->root[--n] = '\0';
    return fs;
}

void au_fs_free(au_fs *fs)
{
    if (fs == NULL)
        return;
    free(fs->root);
    free(fs);
}

/* The entry of folder `dir` named `name` without regard to case. */
static bool find_entry(const char *dir, const char *name, char *out, size_t n)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    struct dirent *e;
    bool found = false;
    while ((e = readdir(d)) != NULL && !found)
        if (strcasecmp(e->d_name, name) == 0 && strlen(e->d_name) < n) {
            memcpy(out, e->d_name, strlen(e->d_name) + 1);
            found = true;
        }
    closedir(d);
    return found;
}

char *au_fs_resolve(const au_fs *fs, const char *win, bool wow64, const char **why)
{
    char exp[2048];
    *why = NULL;
    if (win == NULL || *win == '\0') {
        *why = "no path";
        return NULL;
    }
    if (!bl_expand(win, exp, sizeof(exp))) {
        *why = "an environment variable this audit does not know";
        return NULL;
    }
    if (exp[0] == '\\' && exp[1] == '\\') {
        *why = "a network share (not in the image)";
        return NULL;
    }
    const char *p = exp;
    if (((exp[0] | 0x20) >= 'a' && (exp[0] | 0x20) <= 'z') && exp[1] == ':') {
        if ((exp[0] | 0x20) != 'c') {
            *why = "another drive than the system drive";
            return NULL;
        }
        p = exp + 2;
    } else if (exp[0] != '\\') {
        *why = "a relative path";
        return NULL;
    }
    size_t cap = strlen(fs->root) + strlen(p) + 64;
    char *cur = malloc(cap);
    if (cur == NULL) {
        *why = "out of memory";
        return NULL;
    }
    snprintf(cur, cap, "%s", fs->root);
    unsigned parts = 0;
    bool after_windows = false;
    while (*p) {
        while (*p == '\\')
            p++;
        if (*p == '\0')
            break;
        const char *end = strchr(p, '\\');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        char comp[256], real[256];
        if (l >= sizeof(comp) || ++parts > MAX_COMPONENTS) {
            *why = "a path component too long or too many";
            free(cur);
            return NULL;
        }
        memcpy(comp, p, l);
        comp[l] = '\0';
        p += l;
        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
            *why = "a path with . or .. components";
            free(cur);
            return NULL;
        }
        /* 32-bit worker processes see SysWOW64 as System32 */
        if (wow64 && after_windows && strcasecmp(comp, "System32") == 0)
            snprintf(comp, sizeof(comp), "SysWOW64");
        after_windows = parts == 1 && strcasecmp(comp, "Windows") == 0;
        if (!find_entry(cur, comp, real, sizeof(real))) {
            *why = "not found in the image";
            free(cur);
            return NULL;
        }
        size_t cl = strlen(cur);
        snprintf(cur + cl, cap - cl, "/%s", real);
        struct stat sb;
        if (lstat(cur, &sb) != 0) {
            *why = "not found in the image";
            free(cur);
            return NULL;
        }
        if (S_ISLNK(sb.st_mode)) {
            *why = "a symbolic link in the image (not followed)";
            free(cur);
            return NULL;
        }
    }
    return cur;
}

bool au_fs_read(const char *local, size_t max, uint8_t **data, size_t *len, const char **why)
{
    *data = NULL;
    *len = 0;
    struct stat sb;
    if (lstat(local, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
        return false;
    }
    if ((uint64_t)sb.st_size > max) {
        *why = "larger than the limit for this kind of file";
        return false;
    }
    FILE *f = fopen(local, "rb");
    uint8_t *buf = f ? malloc((size_t)sb.st_size + 1) : NULL;
    size_t got = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    if (f != NULL)
        fclose(f);
    if (buf == NULL || got != (size_t)sb.st_size) {
        free(buf);
        *why = buf == NULL ? strerror(errno) : "read error";
        return false;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return true;
}

bool au_fs_list(const au_fs *fs, const char *local, au_fs_entry_fn fn, void *ud)
{
    (void)fs;
    DIR *d = opendir(local);
    if (d == NULL)
        return false;
    struct dirent *e;
    bool go = true;
    while (go && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", local, e->d_name) >= sizeof(path))
            continue;
        struct stat sb;
        au_fs_kind k = AU_FS_OTHER;
        int64_t mtime = 0;
        if (lstat(path, &sb) == 0) {
            k = S_ISREG(sb.st_mode) ? AU_FS_FILE : S_ISDIR(sb.st_mode) ? AU_FS_DIR : AU_FS_OTHER;
            mtime = (int64_t)sb.st_mtime;
        }
        go = fn(ud, e->d_name, path, k, mtime);
    }
    closedir(d);
    return true;
}
