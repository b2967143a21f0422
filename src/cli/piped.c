/* Standard input and pipes as inputs (cli.h: cli_pipe). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/limits.h"
#include "iisguard/evtx.h"

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

/* The whole input (head included) into b, at most `max` bytes; false with
 * *why on a read error or beyond. */
static bool slurp(cli_pipe *p, size_t max, ig_buf *b, const char **why)
{
    ig_buf_init(b, max + 1); /* one byte more: an input over max shows */
    if (!ig_buf_put(b, p->head, p->nhead)) {
        *why = "out of memory";
        return false;
    }
    for (;;) {
        size_t room = b->max - b->len, want = room < (1u << 20) ? room : 1u << 20;
        if (room == 0) {
            *why = "too large to be read from a pipe; save it to a file";
            return false;
        }
        if (ig_buf_reserve(b, want) != IG_OK) {
            *why = "out of memory";
            return false;
        }
        ssize_t r = read_full(p->fd, b->data + b->len, want);
        if (r < 0) {
            *why = strerror(errno);
            return false;
        }
        b->len += (size_t)r;
        if ((size_t)r < want)
            return true; /* the end */
    }
}

bool cli_pipe_dump_evtx(cli_pipe *p, ig_evtx_dumper *d, const char *name, const char **why)
{
    ig_buf b;
    bool ok = slurp(p, IG_MAX_PIPED_EVTX, &b, why);
    if (ok)
        ig_evtx_dumper_buffer(d, name, b.data ? b.data : p->head, b.len);
    ig_buf_free(&b);
    return ok;
}

void cli_pipe_close(cli_pipe *p)
{
    if (p->fd > 0)
        close(p->fd);
    p->fd = -1;
}
