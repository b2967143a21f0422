/* iisguard rules check [--builtin] FILE|DIR...
 * iisguard rules list [--no-builtin] [FILE|DIR...] */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "iisguard/rules.h"
#include "output/alerts.h"

/* Every rejection, including those found when the set is built
 * (correlations referring to rules that did not load). */
static void on_error(void *ud, const ig_rule_error *e)
{
    unsigned *count = ud;
    (*count)++;
    printf("%s:%u: %s\n", e->file, e->line, e->reason);
}

static void usage(FILE *f)
{
    fputs("usage: iisguard rules check [--builtin] FILE|DIR...\n"
          "       iisguard rules list [--no-builtin] [FILE|DIR...]\n"
          "  check  loads Sigma rules (folders are searched for *.yml and *.yaml), prints one\n"
          "         line per rejected rule (file:line: reason) and ends with\n"
          "         'loaded N, rejected M'; --builtin checks the built-in pack too.\n"
          "         Exit status: 0 all loaded, 1 some rejected, 2 usage.\n"
          "  list   prints id, level, status and title of every rule that loads (the\n"
          "         built-in pack first, unless --no-builtin).\n",
          f);
}

static int check(int argc, char **argv)
{
    bool builtin = false;
    int npaths = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--builtin") == 0)
            builtin = true;
        else
            argv[npaths++] = argv[i];
    }
    if (npaths == 0 && !builtin) {
        usage(stderr);
        return 2;
    }
    unsigned errors = 0;
    ig_rules_builder *b = ig_rules_builder_create(on_error, &errors);
    if (b == NULL)
        return 2;
    unsigned loaded = 0, rejected = 0;
    if (builtin)
        ig_rules_builder_add_builtin(b, &loaded, &rejected);
    for (int i = 0; i < npaths; i++) {
        unsigned l = 0, r = 0;
        ig_rules_builder_add_path(b, argv[i], &l, &r);
        loaded += l;
        rejected += r;
    }
    /* references of correlation rules are resolved when the set is built:
     * a correlation rejected then was counted as loaded */
    unsigned before = errors;
    ig_rules *rs = ig_rules_builder_finish(b);
    unsigned late = errors - before;
    ig_rules_destroy(rs);
    loaded -= late < loaded ? late : loaded;
    rejected += late;
    printf("loaded %u, rejected %u\n", loaded, rejected);
    return rejected ? 1 : 0;
}

static int list(int argc, char **argv)
{
    bool builtin = true;
    ig_rules_builder *b = ig_rules_builder_create(NULL, NULL);
    if (b == NULL)
        return 2;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--no-builtin") == 0)
            builtin = false;
    if (builtin)
        ig_rules_builder_add_builtin(b, NULL, NULL);
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--no-builtin") != 0)
            ig_rules_builder_add_path(b, argv[i], NULL, NULL);
    ig_rules *rs = ig_rules_builder_finish(b);
    if (rs == NULL)
        return 2;
    for (size_t i = 0; i < ig_rules_count(rs); i++) {
        const ig_rule_info *r = ig_rules_info(rs, i);
        printf("%-36s  %-13s %-12s %s%s\n", r->id, out_level_name(r->level), r->status, r->title,
               r->correlation ? "  [correlation]" : "");
    }
    ig_rules_destroy(rs);
    return 0;
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") == 0)
        return check(argc - 2, argv + 2);
    if (strcmp(argv[1], "list") == 0)
        return list(argc - 2, argv + 2);
    usage(stderr);
    return 2;
}
