/* libFuzzer target: yaml_fast.c.  Whatever text it accepts, libyaml must
 * read without error, with the same nodes, lines and scalar text and
 * style (tests/unit/yaml_ref.h); otherwise the target aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "engine/yaml_fast.h"
#include "yaml_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    yf_events ev;
    if (yf_read((const char *)data, size, &a, &ev)) {
        char buf[512];
        const char *why = yref_diff((const char *)data, size, &ev, buf, sizeof(buf));
        if (why != NULL) {
            fprintf(stderr, "yaml_fast accepted a text libyaml reads differently: %s\n", why);
            abort();
        }
    }
    ig_arena_destroy(&a);
    return 0;
}
