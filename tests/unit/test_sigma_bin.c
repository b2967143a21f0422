/* Compiled rule files (sigma_bin.c): a file read back delivers what its
 * YAML delivered (rules, errors, files and lines), damaged files are
 * reported with a byte offset and never read out of bounds, and the limits
 * of the YAML stage hold for trees that never were YAML. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/crc32.h"
#include "engine/sigma_ast.h"
#include "engine/sigma_limits.h"
#include "test.h"

/* What a load delivered, as text. */
typedef struct out {
    ig_buf text;
    unsigned rules, errors;
} out;

static void put(out *o, const char *s)
{
    ig_buf_puts(&o->text, s ? s : "(null)");
    ig_buf_putc(&o->text, '|');
}

static void putu(out *o, uint64_t v)
{
    ig_buf_u64(&o->text, v);
    ig_buf_putc(&o->text, '|');
}

static void put_cond(out *o, const sg_cond *c)
{
    if (c == NULL) {
        put(o, "-");
        return;
    }
    putu(o, c->kind);
    put(o, c->name);
    put_cond(o, c->a);
    put_cond(o, c->b);
}

static void put_item(out *o, const sg_item *it)
{
    put(o, it->field);
    putu(o, it->line);
    for (unsigned k = 0; k < it->nmods; k++)
        put(o, it->mods[k]);
    for (unsigned v = 0; v < it->nvals; v++) {
        putu(o, it->vals[v].kind);
        ig_buf_put(&o->text, it->vals[v].s, it->vals[v].len);
        putu(o, it->vals[v].line);
        putu(o, (uint64_t)it->vals[v].i);
    }
}

static void on_rule(void *ud, const sg_rule *r)
{
    out *o = ud;
    o->rules++;
    put(o, "\nRULE");
    put(o, r->file);
    putu(o, r->line);
    put(o, r->title);
    put(o, r->id);
    put(o, r->name);
    put(o, r->status);
    put(o, r->description);
    putu(o, r->level);
    for (unsigned i = 0; i < r->ntags; i++)
        put(o, r->tags[i]);
    put(o, r->product);
    put(o, r->category);
    put(o, r->service);
    for (unsigned i = 0; i < r->nsearches; i++) {
        const sg_search *s = &r->searches[i];
        put(o, s->name);
        putu(o, s->line);
        if (s->keywords != NULL)
            put_item(o, s->keywords);
        for (unsigned m = 0; m < s->nmaps; m++)
            for (unsigned k = 0; k < s->maps[m].nitems; k++)
                put_item(o, &s->maps[m].items[k]);
    }
    for (unsigned i = 0; i < r->nconds; i++)
        put_cond(o, r->conds[i]);
    putu(o, r->timeframe_ms);
    putu(o, r->corr.type);
    for (unsigned i = 0; i < r->corr.nrules; i++)
        put(o, r->corr.rules[i]);
    for (unsigned i = 0; i < r->corr.ngroup_by; i++)
        put(o, r->corr.group_by[i]);
    putu(o, r->corr.timespan_ms);
    putu(o, r->corr.threshold);
}

static void on_error(void *ud, const sg_error *e)
{
    out *o = ud;
    o->errors++;
    put(o, "\nERROR");
    put(o, e->file);
    putu(o, e->line);
    put(o, e->reason);
}

static void out_init(out *o)
{
    memset(o, 0, sizeof(*o));
    ig_buf_init(&o->text, (size_t)1 << 26);
}

static const char *out_text(out *o)
{
    ig_buf_putc(&o->text, '\0');
    o->text.len--;
    return (const char *)o->text.data;
}

/* `yaml` as file `name`, compiled: header + records into *bin. */
static void compile(const char *name, const char *yaml, ig_buf *bin, out *o)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    ig_buf rec;
    ig_buf_init(&rec, (size_t)1 << 26);
    sg_load_text_rec(name, yaml, strlen(yaml), &a, on_rule, on_error, o, &rec);
    CHECK(!rec.failed);
    uint8_t head[SG_COMPILED_HEADER];
    sg_compiled_header(head, ig_crc32(0, rec.data, rec.len));
    ig_buf_init(bin, (size_t)1 << 26);
    ig_buf_put(bin, head, sizeof(head));
    ig_buf_put(bin, rec.data, rec.len);
    ig_buf_free(&rec);
    ig_arena_destroy(&a);
}

static void load_bin(const uint8_t *data, size_t len, out *o)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    sg_load_compiled("x.igr", data, len, &a, on_rule, on_error, o);
    ig_arena_destroy(&a);
}

#define HDR                                                                                        \
    "title: t\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\nlevel: high\n"              \
    "logsource:\n  product: windows\n  service: security\n"

static const char *const sample =
    "action: global\n"
    "logsource:\n  product: windows\n  service: security\n"
    "level: high\n"
    "---\n"
    "title: first\nid: 11111111-2222-3333-4444-555555555555\n"
    "detection:\n"
    "  base: &b\n    EventID: 4688\n    CommandLine|contains|all: ['a', 'b']\n"
    "  other:\n    - *b\n    - Image|endswith: '\\x.exe'\n"
    "  kw:\n    - 'mimikatz'\n    - 42\n"
    "  condition: base and not 1 of other* or kw\n"
    "---\n"
    "action: repeat\n"
    "title: repeated\nid: 22222222-2222-3333-4444-555555555555\n"
    "---\n"
    "title: [broken\n"
    "---\n"
    "- a list, not a rule\n"
    "---\n"
    "title: no detection\nid: 33333333-2222-3333-4444-555555555555\n"
    "---\n"
    "title: corr\nid: 44444444-2222-3333-4444-555555555555\nname: c\n"
    "correlation:\n  type: event_count\n  rules: [11111111-2222-3333-4444-555555555555]\n"
    "  group-by: [Computer]\n  timespan: 5m\n  condition:\n    gte: 3\n"
    "---\n"
    "title: s\nid: 55555555-2222-3333-4444-555555555555\n"
    "detection:\n  sel:\n    Field: |\n      two\n      lines\n  condition: sel\n"
    "  sel: again\n";

/* The same rules, errors, files and lines through the compiled file. */
static void round_trip(void)
{
    out y, c;
    out_init(&y);
    out_init(&c);
    ig_buf bin;
    compile("rules/sample.yml", sample, &bin, &y);
    load_bin(bin.data, bin.len, &c);
    CHECK(y.rules == 3 && y.errors == 4);
    CHECK_STR(out_text(&c), out_text(&y));
    CHECK(strstr(out_text(&c), "rules/sample.yml|26|YAML: ") != NULL); /* "title: [broken" */
    ig_buf_free(&bin);
    ig_buf_free(&y.text);
    ig_buf_free(&c.text);
}

/* Every prefix of a compiled file and every byte changed: no crash (the
 * sanitizers watch), and a damaged file says so. */
static void damage(void)
{
    out y;
    out_init(&y);
    ig_buf bin;
    compile("rules/sample.yml", sample, &bin, &y);
    int silent = 0, runs = 0;
    uint8_t *copy = malloc(bin.len);
    for (size_t n = 0; n < bin.len && copy != NULL; n++) {
        out c;
        out_init(&c);
        load_bin(bin.data, n, &c);
        silent += strstr(out_text(&c), "x.igr|0|") == NULL;
        ig_buf_free(&c.text);
        runs++;
    }
    CHECK(runs > 500 && silent == 0);
    silent = 0;
    for (size_t i = 0; i < bin.len && copy != NULL; i++) {
        memcpy(copy, bin.data, bin.len);
        copy[i] ^= (uint8_t)(1 + i % 255); /* never 0 */
        out c;
        out_init(&c);
        load_bin(copy, bin.len, &c);
        silent += strstr(out_text(&c), "x.igr|0|") == NULL;
        ig_buf_free(&c.text);
    }
    CHECK(silent == 0); /* the checksum at least */
    free(copy);
    ig_buf_free(&bin);
    ig_buf_free(&y.text);
}

/* Hand-made records: the header, framing, tree limits and references. */
typedef struct mk {
    ig_buf b;
} mk;

static void u32(ig_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ig_buf_put(b, p, 4);
}

static void scalar(ig_buf *b, const char *s)
{
    ig_buf_putc(b, 4);
    u32(b, 1);
    u32(b, (uint32_t)strlen(s));
    ig_buf_puts(b, s);
}

static void coll(ig_buf *b, unsigned kind, uint32_t n)
{
    ig_buf_putc(b, (uint8_t)kind);
    u32(b, 1);
    u32(b, n);
}

/* A compiled file: header (valid CRC) + 'F' + one 'D' record of `tree`. */
static const char *with_tree(const ig_buf *tree, unsigned *rules)
{
    static char text[4096];
    ig_buf rec, bin;
    ig_buf_init(&rec, (size_t)1 << 26);
    ig_buf_init(&bin, (size_t)1 << 26);
    ig_buf_putc(&rec, 'F');
    u32(&rec, 4 + 5);
    u32(&rec, 5);
    ig_buf_puts(&rec, "f.yml");
    ig_buf_putc(&rec, 'Z'); /* an unknown record: skipped */
    u32(&rec, 3);
    ig_buf_puts(&rec, "abc");
    ig_buf_putc(&rec, 'D');
    u32(&rec, (uint32_t)tree->len);
    ig_buf_put(&rec, tree->data, tree->len);
    uint8_t head[SG_COMPILED_HEADER];
    sg_compiled_header(head, ig_crc32(0, rec.data, rec.len));
    ig_buf_put(&bin, head, sizeof(head));
    ig_buf_put(&bin, rec.data, rec.len);
    out c;
    out_init(&c);
    load_bin(bin.data, bin.len, &c);
    snprintf(text, sizeof(text), "%s", out_text(&c));
    *rules = c.rules;
    ig_buf_free(&c.text);
    ig_buf_free(&rec);
    ig_buf_free(&bin);
    return text;
}

/* A valid rule mapping of `extra` + 8 keys, as a tree. */
static void rule_tree(ig_buf *t, unsigned extra)
{
    coll(t, 2, 5 + extra);
    scalar(t, "title");
    scalar(t, "t");
    scalar(t, "id");
    scalar(t, "11111111-2222-3333-4444-555555555555");
    scalar(t, "logsource");
    coll(t, 2, 2);
    scalar(t, "product");
    scalar(t, "windows");
    scalar(t, "service");
    scalar(t, "security");
    scalar(t, "level");
    scalar(t, "high");
    scalar(t, "detection");
    coll(t, 2, 2);
    scalar(t, "sel");
    coll(t, 2, 1);
    scalar(t, "EventID");
    scalar(t, "4688");
    scalar(t, "condition");
    scalar(t, "sel");
}

static void hand_made(void)
{
    unsigned rules;
    ig_buf t;
    ig_buf_init(&t, (size_t)1 << 26);
    rule_tree(&t, 0);
    const char *r = with_tree(&t, &rules);
    CHECK(rules == 1 && strstr(r, "ERROR") == NULL); /* the unknown record skipped */
    /* a duplicate key */
    ig_buf_reset(&t);
    rule_tree(&t, 1);
    scalar(&t, "title");
    scalar(&t, "again");
    r = with_tree(&t, &rules);
    CHECK(rules == 0 && strstr(r, "duplicate key") != NULL);
    /* a key that is not a scalar */
    ig_buf_reset(&t);
    rule_tree(&t, 1);
    coll(&t, 1, 0);
    scalar(&t, "v");
    r = with_tree(&t, &rules);
    CHECK(rules == 0 && strstr(r, "key is not a scalar") != NULL);
    /* nesting: IG_MAX_SIGMA_DEPTH sequences hold, one more does not */
    for (unsigned d = IG_MAX_SIGMA_DEPTH; d <= IG_MAX_SIGMA_DEPTH + 1; d++) {
        ig_buf_reset(&t);
        for (unsigned k = 0; k < d; k++)
            coll(&t, 1, 1);
        scalar(&t, "x");
        r = with_tree(&t, &rules);
        CHECK((strstr(r, "nested too deep") != NULL) == (d > IG_MAX_SIGMA_DEPTH));
        CHECK(strstr(r, "not a mapping") != NULL || d > IG_MAX_SIGMA_DEPTH);
    }
    /* references: to a completed node (a billion laughs stops at the node
     * cap), never to one not read yet or being read */
    ig_buf_reset(&t);
    coll(&t, 1, 10);
    scalar(&t, "lol");
    for (int k = 0; k < 9; k++) {
        ig_buf_putc(&t, 8);
        u32(&t, 0);
    }
    r = with_tree(&t, &rules);
    CHECK(strstr(r, "not a mapping") != NULL && strstr(r, "x.igr") == NULL);
    ig_buf_reset(&t);
    coll(&t, 1, 2);
    coll(&t, 1, 1);
    ig_buf_putc(&t, 8);
    u32(&t, 0); /* the sequence it is in */
    r = with_tree(&t, &rules);
    CHECK(strstr(r, "not read yet") != NULL);
    ig_buf_reset(&t); /* 2^20 nodes from 20 levels of two references */
    for (int k = 0; k < 20; k++)
        coll(&t, 1, 2);
    scalar(&t, "x");
    for (uint32_t k = 0; k < 20; k++) {
        ig_buf_putc(&t, 8);
        u32(&t, k);
    }
    r = with_tree(&t, &rules);
    CHECK(strstr(r, "too many nodes") != NULL);
    /* bytes after the tree; a collection longer than its record */
    ig_buf_reset(&t);
    rule_tree(&t, 0);
    ig_buf_putc(&t, 0);
    r = with_tree(&t, &rules);
    CHECK(rules == 0 && strstr(r, "bytes after") != NULL);
    ig_buf_reset(&t);
    coll(&t, 1, 1000000);
    r = with_tree(&t, &rules);
    CHECK(strstr(r, "cut short") != NULL);
    ig_buf_free(&t);

    /* header: not one, another version */
    out c;
    out_init(&c);
    load_bin((const uint8_t *)"IGSIGMA", 7, &c);
    CHECK(strstr(out_text(&c), "not a compiled rule file") != NULL);
    ig_buf_reset(&c.text);
    load_bin((const uint8_t *)"IGSIGMA\x1a\x01", 9, &c);
    CHECK(strstr(out_text(&c), "at byte 9: the header is cut short") != NULL);
    uint8_t head[SG_COMPILED_HEADER];
    sg_compiled_header(head, 0);
    head[8] = 99;
    ig_buf_reset(&c.text);
    load_bin(head, sizeof(head), &c);
    CHECK(strstr(out_text(&c), "format version 99") != NULL);
    /* a rule record before any file name */
    ig_buf bin;
    ig_buf_init(&bin, 1024);
    sg_compiled_header(head, 0);
    ig_buf_put(&bin, head, sizeof(head));
    ig_buf_putc(&bin, 'E');
    u32(&bin, 9);
    u32(&bin, 3);
    u32(&bin, 1);
    ig_buf_putc(&bin, 'x');
    ig_buf_reset(&c.text);
    load_bin(bin.data, bin.len, &c);
    CHECK(strstr(out_text(&c), "before any file name") != NULL);
    ig_buf_free(&bin);
    ig_buf_free(&c.text);
}

int main(void)
{
    round_trip();
    damage();
    hand_made();
    TEST_MAIN_END();
}
