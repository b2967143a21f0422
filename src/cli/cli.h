/* iisguard command line: one file per command; public API only. */
#ifndef IG_CLI_H
#define IG_CLI_H

#include <stdbool.h>
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

#endif
