/* Replays every saved fuzzer input (fuzz/corpus/fuzz_evtx/) through the
 * reader in both formats; under the asan preset any memory error fails. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iisguard/evtx.h"
#include "test.h"

static int sink(void *ud, const char *p, size_t n)
{
    (void)ud, (void)p, (void)n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        printf("no saved inputs in %s\n0 passed, 0 failed\n", argv[1]);
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        for (int fmt = 0; fmt < 2; fmt++) {
            ig_evtx_opts o = {0};
            o.format = (ig_evtx_format)fmt;
            o.threads = 1;
            o.output = sink;
            ig_evtx_dumper *dd = ig_evtx_dumper_create(&o);
            ig_err err = ig_evtx_dumper_file(dd, path);
            ig_evtx_dumper_destroy(dd);
            CHECK(err == IG_OK || err == IG_EFORMAT);
        }
    }
    closedir(d);
    TEST_MAIN_END();
}
