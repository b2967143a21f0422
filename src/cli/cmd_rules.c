/* iisguard rules check FILE|DIR... */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "iisguard/rules.h"

static void on_error(void *ud, const ig_rule_error *e)
{
    (void)ud;
    printf("%s:%u: %s\n", e->file, e->line, e->reason);
}

static void usage(FILE *f)
{
    fputs("usage: iisguard rules check FILE|DIR...\n"
          "  Loads Sigma rules (folders are searched for *.yml and *.yaml), prints one\n"
          "  line per rejected rule (file:line: reason) and ends with\n"
          "  'loaded N, rejected M'.  Exit status: 0 all loaded, 1 some rejected.\n",
          f);
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") != 0 || argc < 3) {
        usage(stderr);
        return 2;
    }
    ig_rules_builder *b = ig_rules_builder_create(on_error, NULL);
    if (b == NULL)
        return 2;
    unsigned loaded = 0, rejected = 0;
    for (int i = 2; i < argc; i++) {
        unsigned l = 0, r = 0;
        ig_rules_builder_add_path(b, argv[i], &l, &r);
        loaded += l;
        rejected += r;
    }
    ig_rules_builder_destroy(b);
    printf("loaded %u, rejected %u\n", loaded, rejected);
    return rejected ? 1 : 0;
}
