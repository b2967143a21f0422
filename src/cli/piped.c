/* Standard input and pipes as inputs (cli.h: cli_pipe). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

bool cli_is_piped(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return true;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* read(2) until `n` bytes, the end or an error; the count, or -1. */
static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

bool cli_pipe_open(cli_pipe *p, const char *path)
{
    p->nhead = 0;
    p->fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (p->fd < 0)
        return false;
    ssize_t n = read_full(p->fd, p->head, sizeof(p->head));
    if (n < 0) {
        int e = errno;
        cli_pipe_close(p);
        errno = e;
        return false;
    }
    p->nhead = (size_t)n;
    return true;
}

bool cli_pipe_slurp(cli_pipe *p, size_t max, uint8_t **data, size_t *len, const char **why)
{
    size_t cap = 1u << 20, n = p->nhead;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        *why = "out of memory";
        return false;
    }
    memcpy(buf, p->head, n);
    for (;;) {
        if (n == cap) {
            uint8_t *b = cap < max + 1 ? realloc(buf, cap * 2 < max + 1 ? cap * 2 : max + 1) : NULL;
            if (b == NULL) {
                free(buf);
                *why = cap >= max + 1 ? "too large to be read from a pipe; save it to a file"
                                      : "out of memory";
                return false;
            }
            cap = cap * 2 < max + 1 ? cap * 2 : max + 1;
            buf = b;
        }
        ssize_t r = read_full(p->fd, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            *why = strerror(errno);
            return false;
        }
        n += (size_t)r;
        if (n < cap)
            break; /* the end */
    }
    if (n > max) {
        free(buf);
        *why = "too large to be read from a pipe; save it to a file";
        return false;
    }
    *data = buf;
    *len = n;
    return true;
}

void cli_pipe_close(cli_pipe *p)
{
    if (p->fd > 0)
        close(p->fd);
    p->fd = -1;
}
