/* iisguard rules check [--builtin] FILE|DIR...
 * iisguard rules compile FILE|DIR... -o OUT [--force]
 * iisguard rules list|show ID|test [--no-builtin] [FILE|DIR...]
 * (coverage, export and navigator: cmd_rules_pack.c) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/rules_cli.h"
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
          "       iisguard rules compile FILE|DIR... -o OUT [--force]\n"
          "       iisguard rules list [--no-builtin] [FILE|DIR...]\n"
          "       iisguard rules show ID [--no-builtin] [FILE|DIR...]\n"
          "       iisguard rules test [--no-builtin] [--tests DIR FILE|DIR...]\n"
          "       iisguard rules coverage [--format text|json] [FILE|DIR...]\n"
          "       iisguard rules export DIR [--force]\n"
          "       iisguard rules navigator [--no-builtin] [FILE|DIR...] [--output FILE [--force]]\n"
          "  check     loads Sigma rules (folders are searched for *.yml and *.yaml), prints one\n"
          "            line per rejected rule (file:line: reason) and ends with\n"
          "            'loaded N, rejected M'; --builtin checks the built-in pack too.\n"
          "            Exit status: 0 all loaded, 1 some rejected, 2 usage.\n"
          "  compile   checks like 'check' and writes the rules to OUT as one compiled rule\n"
          "            file (kept if it exists, unless --force), which --rules of hunt,\n"
          "            stream and rules take like the YAML, with the same messages, without\n"
          "            parsing YAML again.  Exit 2 when OUT cannot be written.\n"
          "  list      prints id, level, status and title of every rule that loads (the\n"
          "            built-in pack first, unless --no-builtin).\n"
          "  show      prints a rule (by id or name): its YAML and the event log channels\n"
          "            and EventIDs its log source reads.\n"
          "  test      runs the built-in rules' own tests; with --tests DIR, the tests of\n"
          "            the rules given (DIR/<rule file name>.jsonl: events marked\n"
          "            \"_expect\": \"match\" or \"nomatch\").  Exit 1 when one fails.\n"
          "  coverage  the matrix of IIS component install paths and telemetry sources,\n"
          "            with the rules that see each and whether their tests pass.\n"
          "  export    writes the built-in rules as Sigma YAML files into DIR.\n"
          "  navigator writes an ATT&CK Navigator layer of the rules' techniques.\n",
          f);
}

/* Loads the rules of `paths` (and the built-in pack), printing every
 * rejection and the counts; when `out` is set, also writes them as a
 * compiled rule file there.  Exit status: 0 all loaded, 1 some rejected,
 * 2 the compiled file could not be written. */
static int check_paths(char **paths, int npaths, bool builtin, const char *out, bool force)
{
    unsigned errors = 0;
    ig_rules_builder *b = ig_rules_builder_create(on_error, &errors);
    if (b == NULL || (out != NULL && ig_rules_builder_record(b) != IG_OK)) {
        ig_rules_builder_destroy(b);
        fputs("iisguard rules: out of memory\n", stderr);
        return 2;
    }
    unsigned loaded = 0, rejected = 0;
    if (builtin)
        ig_rules_builder_add_builtin(b, &loaded, &rejected);
    for (int i = 0; i < npaths; i++) {
        unsigned l = 0, r = 0;
        ig_rules_builder_add_path(b, paths[i], &l, &r);
        loaded += l;
        rejected += r;
    }
    if (out != NULL) {
        FILE *f = cli_open_output(out, force, "rules compile");
        ig_err e = f != NULL ? ig_rules_builder_save(b, f) : IG_EIO;
        long size = f != NULL && f != stdout ? ftell(f) : -1;
        if (f != NULL && f != stdout && fclose(f) != 0 && e == IG_OK)
            e = IG_EIO;
        if (e == IG_OK && size >= 0)
            fprintf(stderr, "iisguard rules compile: %s written (%ld bytes)\n", out, size);
        if (e != IG_OK) {
            if (f != NULL) {
                fprintf(stderr, "iisguard rules compile: %s: %s\n", out, ig_strerror(e));
                if (f != stdout)
                    remove(out); /* not half a file */
            }
            ig_rules_builder_destroy(b);
            return 2;
        }
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

static int check(int argc, char **argv)
{
    bool builtin = rules_cli_flag(&argc, argv, "--builtin");
    if (argc == 0 && !builtin) {
        usage(stderr);
        return 2;
    }
    return check_paths(argv, argc, builtin, NULL, false);
}

static int compile(int argc, char **argv)
{
    bool bad = false, force = rules_cli_flag(&argc, argv, "--force");
    const char *out = rules_cli_option(&argc, argv, "-o", &bad);
    const char *out2 = rules_cli_option(&argc, argv, "--output", &bad);
    out = out2 != NULL ? out2 : out;
    for (int i = 0; i < argc && !bad; i++)
        bad = argv[i][0] == '-' && argv[i][1] != '\0';
    if (bad || out == NULL || argc == 0) {
        usage(stderr);
        return 2;
    }
    return check_paths(argv, argc, false, out, force);
}

ig_rules *rules_cli_load(int argc, char **argv, bool builtin)
{
    ig_rules_builder *b = ig_rules_builder_create(NULL, NULL);
    if (b == NULL)
        return NULL;
    if (builtin)
        ig_rules_builder_add_builtin(b, NULL, NULL);
    for (int i = 0; i < argc; i++)
        ig_rules_builder_add_path(b, argv[i], NULL, NULL);
    return ig_rules_builder_finish(b);
}

/* Removes the flag `flag` from argv; true when it was there. */
bool rules_cli_flag(int *argc, char **argv, const char *flag)
{
    bool seen = false;
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], flag) == 0)
            seen = true;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return seen;
}

/* Removes "flag VALUE" from argv; the value, or NULL (*bad when the flag
 * has no value). */
const char *rules_cli_option(int *argc, char **argv, const char *flag, bool *bad)
{
    const char *v = NULL;
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            if (i + 1 >= *argc) {
                *bad = true;
                continue;
            }
            v = argv[++i];
        } else {
            argv[n++] = argv[i];
        }
    }
    *argc = n;
    return v;
}

static int list(int argc, char **argv)
{
    bool builtin = !rules_cli_flag(&argc, argv, "--no-builtin");
    ig_rules *rs = rules_cli_load(argc, argv, builtin);
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

/* The YAML text of a rule file: built-in, or read from disk (malloc'd into
 * *own).  NULL when unreadable. */
const char *rules_cli_text(const char *file, size_t *len, char **own)
{
    *own = NULL;
    const char *text = NULL;
    for (size_t i = 0;; i++) {
        const char *name = ig_builtin_rule_file(i, &text, len);
        if (name == NULL)
            break;
        if (strcmp(name, file) == 0)
            return text;
    }
    FILE *f = fopen(file, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1u << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap && cap < (64u << 20)) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        } else if (n == cap) {
            break;
        }
    }
    fclose(f);
    *own = buf;
    *len = n;
    return buf;
}

/* Prints the YAML document that starts at line `line` of `text`: up to the
 * next column-0 "---" line. */
static void print_document(const char *text, size_t len, unsigned line)
{
    unsigned ln = 1;
    size_t p = 0;
    while (p < len && ln < line) {
        const char *nl = memchr(text + p, '\n', len - p);
        if (nl == NULL)
            return;
        p = (size_t)(nl - text) + 1;
        ln++;
    }
    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t n = nl ? (size_t)(nl - text) - p : len - p;
        if (ln > line && n >= 3 && memcmp(text + p, "---", 3) == 0)
            break;
        fwrite(text + p, 1, n, stdout);
        fputc('\n', stdout);
        p += n + 1;
        ln++;
    }
}

static int show(int argc, char **argv)
{
    bool builtin = !rules_cli_flag(&argc, argv, "--no-builtin");
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    const char *want = argv[0];
    ig_rules *rs = rules_cli_load(argc - 1, argv + 1, builtin);
    if (rs == NULL)
        return 2;
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < ig_rules_count(rs) && found == SIZE_MAX; i++)
        if (strcasecmp(ig_rules_info(rs, i)->id, want) == 0)
            found = i;
    int rc = 0;
    if (found == SIZE_MAX) {
        fprintf(stderr, "iisguard rules show: no rule with id '%s' (see 'iisguard rules list')\n",
                want);
        rc = 2;
    } else {
        const ig_rule_info *r = ig_rules_info(rs, found);
        size_t len = 0;
        char *own = NULL;
        const char *text = rules_cli_text(r->file, &len, &own);
        printf("# %s:%u%s\n", r->file, r->line,
               strncmp(r->file, "rules/", 6) == 0 && own == NULL ? " (built-in)" : "");
        if (text == NULL) { /* e.g. a compiled rule file without its YAML: what it holds */
            printf("# (the file cannot be read: %s; the rule as loaded:)\n", strerror(errno));
            printf("title: %s\nid: %s\n", r->title ? r->title : "", r->id ? r->id : "");
            if (r->status != NULL && r->status[0] != '\0')
                printf("status: %s\n", r->status);
            printf("level: %s\n", out_level_name(r->level));
            for (size_t t = 0; t < r->ntags; t++)
                printf("%s  - %s\n", t ? "" : "tags:\n", r->tags[t]);
            const char *ls[3][2] = {
                {"product", r->product}, {"category", r->category}, {"service", r->service}};
            for (int k = 0, any = 0; k < 3; k++)
                if (ls[k][1] != NULL)
                    printf("%s  %s: %s\n", any++ ? "" : "logsource:\n", ls[k][0], ls[k][1]);
        } else
            print_document(text, len, r->line);
        free(own);
        const char *ch;
        const uint16_t *eids;
        size_t ne;
        for (size_t k = 0; ig_rule_source(rs, found, k, &ch, &eids, &ne); k++) {
            printf("# reads: %s", ch ? ch : "any channel");
            for (size_t e = 0; e < ne; e++)
                printf("%s%u", e ? ", " : " EventID ", eids[e]);
            putchar('\n');
        }
    }
    ig_rules_destroy(rs);
    return rc;
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") == 0)
        return check(argc - 2, argv + 2);
    if (strcmp(argv[1], "compile") == 0)
        return compile(argc - 2, argv + 2);
    if (strcmp(argv[1], "list") == 0)
        return list(argc - 2, argv + 2);
    if (strcmp(argv[1], "show") == 0)
        return show(argc - 2, argv + 2);
    if (strcmp(argv[1], "test") == 0)
        return rules_test(argc - 2, argv + 2);
    if (strcmp(argv[1], "coverage") == 0)
        return rules_coverage(argc - 2, argv + 2);
    if (strcmp(argv[1], "export") == 0)
        return rules_export(argc - 2, argv + 2);
    if (strcmp(argv[1], "navigator") == 0)
        return rules_navigator(argc - 2, argv + 2);
    usage(stderr);
    return 2;
}
