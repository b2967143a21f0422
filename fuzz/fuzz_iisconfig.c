/* libFuzzer target: one configuration file (applicationHost.config,
 * web.config, redirection.config) through the XML tree reader: expat with
 * DTDs and entities refused, depth, element and size limits; then the tree
 * is walked and looked up the way the audit reads it.
 * Seeds: fuzz/corpus/fuzz_iisconfig (small project-written configurations)
 * and the .config files of ../shared/data/iis when present. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "formats/iisconfig/xmltree.h"

static volatile size_t sink;

static void walk(const xt_node *n, unsigned depth)
{
    for (; n != NULL; n = n->next) {
        if (depth > XT_MAX_DEPTH || n->line == 0)
            abort();
        sink += strlen(n->name);
        for (size_t i = 0; n->attrs[i] != NULL; i += 2)
            sink += strlen(n->attrs[i]) + strlen(n->attrs[i + 1]);
        walk(n->first, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_arena a;
    ig_arena_init(&a, 0);
    xt_doc doc;
    if (xt_parse((const char *)data, size, &a, &doc)) {
        if (doc.error != NULL && doc.error_line == 0)
            abort();
        walk(doc.root, 1);
        const xt_node *m = xt_path(doc.root, "system.webServer/modules");
        sink += m ? strlen(m->name) : 0;
        sink += xt_attr(doc.root, "name") ? 1 : 0;
    }
    ig_arena_destroy(&a);
    return 0;
}
