/* iisguard command line: one file per command; public API only. */
#ifndef IG_CLI_H
#define IG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

int cmd_dump(int argc, char **argv);
int cmd_hunt(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_stream(int argc, char **argv);

/* Collects the inputs named on the command line: files as given, folders
 * walked recursively for files whose name ends in one of `ext` ("|"-separated
 * endings, case-insensitive; NULL: every file),
 * sorted by path.  Returns the count (caller frees with cli_free_paths) or
 * -1 when out of memory; unreadable entries are reported on stderr and
 * counted in *errors. */
long cli_collect(char **args, int nargs, const char *ext, char ***out, unsigned *errors);
void cli_free_paths(char **paths, long n);

/* Where a command's records or alerts go, and whether diagnostics are
 * wanted.  cli_out_write and cli_out_anomaly fit ig_evtx_opts' callbacks
 * (ud = the cli_out). */
typedef struct cli_out {
    FILE *f;
    bool failed; /* a write failed: stop */
    bool quiet;  /* no anomaly lines */
    bool clear;  /* a progress bar is on stderr: clear its line first */
} cli_out;

int cli_out_write(void *ud, const char *data, size_t len);
struct ig_evtx_anomaly;
void cli_out_anomaly(void *ud, const struct ig_evtx_anomaly *a);

/* Opens the output file `path` ("-": standard output): an existing regular
 * file is refused (with a message naming `cmd`) unless `force`.  NULL on
 * failure, reported. */
FILE *cli_open_output(const char *path, bool force, const char *cmd);

/* Inputs that are not regular files: standard input ("-") and pipes
 * (process substitution, FIFOs) can be read once only, so their first
 * bytes, read to tell their format, are kept (piped.c). */
typedef struct cli_pipe {
    int fd;
    uint8_t head[4096];
    size_t nhead;
} cli_pipe;

/* Is `path` standard input or something other than a regular file or a
 * folder? */
bool cli_is_piped(const char *path);
/* Opens `path` ("-": standard input) and reads its first bytes into
 * p->head.  False when it cannot be read (errno set). */
bool cli_pipe_open(cli_pipe *p, const char *path);
/* Reads the whole input (an EVTX log, at most IG_MAX_PIPED_EVTX bytes,
 * head included) and decodes it with `d` as `name`; false with *why when
 * it cannot be read whole. */
struct ig_evtx_dumper;
bool cli_pipe_dump_evtx(cli_pipe *p, struct ig_evtx_dumper *d, const char *name, const char **why);
void cli_pipe_close(cli_pipe *p);

#endif
