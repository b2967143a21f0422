/* libFuzzer target: the Sigma loader (YAML → AST, collections,
 * correlations), compiled rule files, and the condition parser.  The bytes
 * go to sg_load_text as a rule file (fresh arena each run, destroyed
 * after), recorded as a compiled rule file which, read back, must deliver
 * as many rules and errors; then they go to sg_load_compiled as the
 * records of a compiled file; a NUL-terminated copy goes to
 * sg_parse_condition.  Every delivered rule is walked so that the
 * sanitizers see any dangling or short pointer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/crc32.h"
#include "engine/sigma_ast.h"

static volatile size_t sink;

static void touch(const char *s)
{
    if (s != NULL)
        sink += strlen(s);
}

static void walk_cond(const sg_cond *c)
{
    if (c == NULL)
        return;
    touch(c->name);
    walk_cond(c->a);
    walk_cond(c->b);
}

typedef struct counts {
    unsigned rules, errors;
} counts;

static void on_rule(void *ud, const sg_rule *r)
{
    if (ud != NULL)
        ((counts *)ud)->rules++;
    touch(r->file);
    touch(r->title);
    touch(r->id);
    touch(r->product);
    for (unsigned i = 0; i < r->ntags; i++)
        touch(r->tags[i]);
    for (unsigned i = 0; i < r->nsearches; i++) {
        const sg_search *s = &r->searches[i];
        touch(s->name);
        if (s->keywords != NULL)
            for (unsigned v = 0; v < s->keywords->nvals; v++)
                sink += s->keywords->vals[v].len + (s->keywords->vals[v].s[0] != 0);
        for (unsigned m = 0; m < s->nmaps; m++)
            for (unsigned it = 0; it < s->maps[m].nitems; it++) {
                const sg_item *x = &s->maps[m].items[it];
                touch(x->field);
                for (unsigned k = 0; k < x->nmods; k++)
                    touch(x->mods[k]);
                for (unsigned v = 0; v < x->nvals; v++)
                    sink += x->vals[v].len + (x->vals[v].s[x->vals[v].len] == 0);
            }
    }
    for (unsigned i = 0; i < r->nconds; i++)
        walk_cond(r->conds[i]);
    for (unsigned i = 0; i < r->corr.nrules; i++)
        touch(r->corr.rules[i]);
    for (unsigned i = 0; i < r->corr.naliases; i++)
        for (unsigned j = 0; j < r->corr.aliases[i].nmaps; j++)
            touch(r->corr.aliases[i].maps[j].field);
}

static void on_error(void *ud, const sg_error *e)
{
    if (ud != NULL)
        ((counts *)ud)->errors++;
    touch(e->file);
    touch(e->reason);
    sink += e->line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_arena arena;
    ig_arena_init(&arena, 0);
    ig_buf bin;
    ig_buf_init(&bin, (size_t)1 << 28);
    uint8_t head[SG_COMPILED_HEADER] = {0};
    ig_buf_put(&bin, head, sizeof(head)); /* filled below */
    counts yaml = {0, 0}, back = {0, 0};
    sg_load_text_rec("fuzz.yml", (const char *)data, size, &arena, on_rule, on_error, &yaml, &bin);
    ig_arena_destroy(&arena);
    if (!bin.failed) {
        sg_compiled_header(head, ig_crc32(0, bin.data + sizeof(head), bin.len - sizeof(head)));
        memcpy(bin.data, head, sizeof(head));
        ig_arena_init(&arena, 0);
        sg_load_compiled("fuzz.igr", bin.data, bin.len, &arena, on_rule, on_error, &back);
        ig_arena_destroy(&arena);
        if (back.rules != yaml.rules || back.errors != yaml.errors)
            abort(); /* the compiled file does not give what its YAML gave */
    }
    /* the bytes as records */
    ig_buf_reset(&bin);
    sg_compiled_header(head, ig_crc32(0, data, size));
    ig_buf_put(&bin, head, sizeof(head));
    ig_buf_put(&bin, data, size);
    ig_arena_init(&arena, 0);
    sg_load_compiled("fuzz.igr", bin.data, bin.len, &arena, on_rule, on_error, NULL);
    ig_arena_destroy(&arena);
    ig_buf_free(&bin);

    char *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    copy[size] = '\0';
    ig_arena_init(&arena, 0);
    const char *reason = NULL;
    const sg_cond *c = sg_parse_condition(copy, &arena, &reason);
    if (c != NULL)
        walk_cond(c);
    else
        touch(reason);
    ig_arena_destroy(&arena);
    free(copy);
    return 0;
}
