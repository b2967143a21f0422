/* iisguard dump FILE|DIR... [--format jsonl|xml] [--threads N] [-o FILE] [-q] */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/num.h"
#include "iisguard/iisguard.h"

static void usage(FILE *f)
{
    fputs("usage: iisguard dump FILE|DIR... [--format jsonl|xml] [--threads N] [-o FILE [--force]] "
          "[-q]\n"
          "  Decodes Windows event logs (.evtx; folders are searched recursively) to\n"
          "  JSON lines (default) or event XML, one record per line, in file order.\n"
          "  --format F    jsonl | xml\n"
          "  --threads N   decoding threads (default: one per core)\n"
          "  -o FILE       write records to FILE instead of standard output (an existing\n"
          "                FILE is kept unless --force is given; -: standard output)\n"
          "  -q            do not print anomalies (the summary still counts them)\n"
          "  Exit status: 0 all decoded, 2 some input was damaged or unreadable, 1 usage.\n",
          f);
}

int cmd_dump(int argc, char **argv)
{
    ig_evtx_opts opts = {0};
    cli_out st = {stdout, false, false, false};
    const char *out_path = NULL;
    bool force = false;
    char **inputs = argv;
    int ninputs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "jsonl") == 0 || strcmp(f, "json") == 0)
                opts.format = IG_EVTX_JSONL;
            else if (strcmp(f, "xml") == 0)
                opts.format = IG_EVTX_XML;
            else {
                fprintf(stderr, "iisguard dump: unknown format '%s'\n", f);
                return 1;
            }
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            uint64_t n;
            if (!ig_parse_u64(argv[++i], 256, &n)) {
                fprintf(stderr, "iisguard dump: --threads wants a number from 0 to 256\n");
                return 1;
            }
            opts.threads = (unsigned)n;
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if (strcmp(a, "-q") == 0) {
            st.quiet = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "iisguard dump: unknown option '%s'\n", a);
            usage(stderr);
            return 1;
        } else {
            inputs[ninputs++] = argv[i];
        }
    }
    if (ninputs == 0) {
        usage(stderr);
        return 1;
    }
    unsigned errors = 0;
    char **paths = NULL;
    long n = cli_collect(inputs, ninputs, ".evtx", &paths, &errors);
    if (n < 0) {
        fprintf(stderr, "iisguard dump: out of memory\n");
        return 1;
    }
    if (out_path != NULL) {
        st.f = cli_open_output(out_path, force, "dump");
        if (st.f == NULL) {
            cli_free_paths(paths, n);
            return 1;
        }
    }
    static char obuf[1 << 20];
    setvbuf(st.f, obuf, _IOFBF, sizeof(obuf));
    opts.output = cli_out_write;
    opts.output_ud = &st;
    opts.anomaly = cli_out_anomaly;
    opts.anomaly_ud = &st;
    ig_evtx_dumper *d = ig_evtx_dumper_create(&opts);
    if (d == NULL) {
        fprintf(stderr, "iisguard dump: out of memory\n");
        cli_free_paths(paths, n);
        return 1;
    }
    uint64_t piped_failed = 0;
    for (long i = 0; i < n && !st.failed; i++) {
        if (!cli_is_piped(paths[i])) {
            ig_evtx_dumper_file(d, paths[i]);
            continue;
        }
        /* standard input or a pipe: held in memory whole */
        cli_pipe p;
        const char *why = NULL;
        if (!cli_pipe_open(&p, paths[i]))
            why = strerror(errno);
        else
            cli_pipe_dump_evtx(&p, d, paths[i], &why);
        cli_pipe_close(&p);
        if (why != NULL) {
            fprintf(stderr, "iisguard: %s: cannot read: %s\n", paths[i], why);
            piped_failed++;
        }
    }
    ig_evtx_stats s;
    ig_evtx_dumper_stats(d, &s);
    s.files += piped_failed;
    s.files_failed += piped_failed;
    ig_evtx_dumper_destroy(d);
    cli_free_paths(paths, n);
    if (fflush(st.f) != 0)
        st.failed = true;
    if (st.f != stdout && fclose(st.f) != 0)
        st.failed = true;
    fprintf(stderr,
            "iisguard: dump: %llu files (%llu unreadable), %llu chunks, %llu records, "
            "%llu bad records, %llu anomalies, %llu templates (%llu reused)\n",
            (unsigned long long)s.files, (unsigned long long)(s.files_failed + errors),
            (unsigned long long)s.chunks, (unsigned long long)s.records,
            (unsigned long long)s.bad_records, (unsigned long long)s.anomalies,
            (unsigned long long)s.templates_compiled, (unsigned long long)s.templates_reused);
    if (st.failed) {
        fprintf(stderr, "iisguard dump: write error\n");
        return 2;
    }
    return (s.files_failed || s.anomalies || errors) ? 2 : 0;
}
