/* Helpers shared by the `iisguard rules` subcommands (cmd_rules.c,
 * cmd_rules_pack.c). */
#ifndef IG_CLI_RULES_CLI_H
#define IG_CLI_RULES_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "iisguard/rules.h"

/* The built-in pack (when `builtin`) and the rules under each path; rules
 * that do not load are left out silently (`rules check` reports them). */
ig_rules *rules_cli_load(int argc, char **argv, bool builtin);
/* Removes `flag` from argv; true when it was there. */
bool rules_cli_flag(int *argc, char **argv, const char *flag);
/* Removes "flag VALUE" from argv and returns VALUE (NULL when absent; sets
 * *bad when the flag ends the list). */
const char *rules_cli_option(int *argc, char **argv, const char *flag, bool *bad);
/* A rule file's YAML: built-in text, or the file read into *own (free it).
 * NULL when it cannot be read. */
const char *rules_cli_text(const char *file, size_t *len, char **own);

int rules_test(int argc, char **argv);
int rules_coverage(int argc, char **argv);
int rules_export(int argc, char **argv);
int rules_navigator(int argc, char **argv);

#endif
