/* Template and name lookup tables (internal to src/formats/evtx).
 * - tmap: per chunk, definition offset → template (templates are referenced
 *   by offset after their first, inline definition).
 * - names: per chunk, name offset → decoded UTF-8.
 * - tcache: shared by the decoding threads, across chunks, keyed by GUID +
 *   size + the exact definition bytes (and the names they refer to), so a
 *   template is compiled once per run. */
#ifndef IG_EVTX_TCACHE_H
#define IG_EVTX_TCACHE_H

#include "formats/evtx/evtx_int.h"

const bx_template *tmap_get(const bx_ctx *ctx, uint32_t off);
/* Best effort: a failed insert only costs a recompile. */
void tmap_put(bx_ctx *ctx, uint32_t off, const bx_template *t);

bool tmap_name_get(const bx_ctx *ctx, uint32_t off, const char **s, uint32_t *len);
void tmap_name_put(bx_ctx *ctx, uint32_t off, const char *s, uint32_t len);

/* Looks up a template compiled earlier (in any chunk) from identical bytes
 * whose names outside those bytes are also the same in this chunk. */
const bx_template *tcache_get(const bx_ctx *ctx, const uint8_t guid[16], const uint8_t *data,
                              uint32_t size);

/* Takes ownership of `scratch` (the arena holding tpl's nodes) and stores the
 * template: in the thread cache, or for the current chunk only when it is
 * chunk-local.  Returns the stored template, NULL when out of memory (then
 * `scratch` still belongs to the caller). */
const bx_template *tcache_adopt(bx_ctx *ctx, const bx_template *tpl, ig_arena *scratch,
                                const uint8_t *data, uint32_t size);

/* Compiled JSON programs, keyed by (record template, value shape); they
 * live as long as the cached templates they were compiled from. */
uint64_t tcache_hash(const void *tpl, const uint8_t *p, size_t n);
const jprog *tcache_prog_get(const bx_tcache *c, const void *tpl, uint64_t h, const uint8_t *sig,
                             uint32_t len);
/* Publishes `p` (one ig_malloc block; ownership moves to the cache, which
 * frees it at once when full or when another thread was first). */
void tcache_prog_put(bx_tcache *c, jprog *p);

#endif
