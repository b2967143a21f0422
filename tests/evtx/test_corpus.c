/* Every file of the shared EVTX corpus (../shared/data/evtx): the records
 * decoded equal MANIFEST.tsv's strict count, bad records equal its
 * bad_records, no file is aborted, output is identical with 1 and 2 threads.
 * usage: test_corpus DIR   (exit 77 = skipped when DIR is absent) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/num.h"
#include "iisguard/evtx.h"

typedef struct sink {
    uint64_t hash, bytes, lines;
} sink;

static int on_out(void *ud, const char *p, size_t n)
{
    sink *s = ud;
    for (size_t i = 0; i < n; i++) {
        s->hash = (s->hash ^ (uint8_t)p[i]) * 0x100000001b3ull;
        s->lines += p[i] == '\n';
    }
    s->bytes += n;
    return 0;
}

static char *field(char **line)
{
    char *s = *line, *t = strchr(s, '\t');
    if (t != NULL) {
        *t = '\0';
        *line = t + 1;
    } else {
        *line = s + strlen(s);
    }
    return s;
}

static void whole_corpus(const char *dir, char **names, size_t n, unsigned threads,
                         ig_evtx_format fmt, sink *out)
{
    ig_evtx_opts o = {0};
    o.threads = threads;
    o.format = fmt;
    o.output = on_out;
    o.output_ud = out;
    ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        ig_evtx_dumper_file(d, path);
    }
    ig_evtx_dumper_destroy(d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_corpus DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
    FILE *m = fopen(path, "r");
    if (m == NULL) {
        printf("SKIP: %s not found (the shared EVTX corpus is absent)\n", path);
        return 77;
    }
    char line[8192];
    int pass = 0, fail = 0;
    uint64_t total = 0, total_bad = 0;
    char **names = NULL;
    size_t nnames = 0;
    if (fgets(line, sizeof(line), m) == NULL) { /* header */
        fclose(m);
        return 1;
    }
    while (fgets(line, sizeof(line), m) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        char *name = field(&p);
        field(&p); /* source */
        field(&p); /* size */
        field(&p); /* chunks */
        uint64_t want = 0, want_bad = 0;
        if (!ig_parse_u64(field(&p), UINT64_MAX, &want) ||
            !ig_parse_u64(field(&p), UINT64_MAX, &want_bad)) {
            fprintf(stderr, "bad manifest line for %s\n", name);
            fail++;
            continue;
        }
        names = realloc(names, sizeof(*names) * (nnames + 1));
        names[nnames++] = strdup(name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        sink s = {0};
        ig_evtx_opts o = {0};
        o.threads = 1;
        o.output = on_out;
        o.output_ud = &s;
        ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
        ig_err e = ig_evtx_dumper_file(d, path);
        ig_evtx_stats st;
        ig_evtx_dumper_stats(d, &st);
        ig_evtx_dumper_destroy(d);
        if (e != IG_OK || st.records != want || st.bad_records != want_bad || s.lines != want) {
            fprintf(stderr,
                    "FAIL %s: err=%s records=%llu (want %llu) lines=%llu bad=%llu (want %llu)\n",
                    name, ig_strerror(e), (unsigned long long)st.records, (unsigned long long)want,
                    (unsigned long long)s.lines, (unsigned long long)st.bad_records,
                    (unsigned long long)want_bad);
            fail++;
        } else {
            pass++;
        }
        total += st.records;
        total_bad += st.bad_records;
    }
    fclose(m);
    printf("corpus: %zu files, %llu records decoded, %llu bad records reported\n", nnames,
           (unsigned long long)total, (unsigned long long)total_bad);
    /* deterministic output whatever the thread count */
    for (int fmt = 0; fmt < 2; fmt++) {
        sink a = {0}, b = {0};
        whole_corpus(dir, names, nnames, 1, (ig_evtx_format)fmt, &a);
        whole_corpus(dir, names, nnames, 2, (ig_evtx_format)fmt, &b);
        if (a.hash != b.hash || a.bytes != b.bytes || a.lines != total) {
            fprintf(stderr, "FAIL %s output differs between 1 and 2 threads (%llu/%llu bytes)\n",
                    fmt ? "xml" : "jsonl", (unsigned long long)a.bytes,
                    (unsigned long long)b.bytes);
            fail++;
        } else {
            pass++;
        }
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    printf("%d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
