/* Sigma values on their way to patterns (compile.c): the value list of one
 * item, transformations (windash, utf16, base64) and wildcard parsing. */
#ifndef IG_ENGINE_VALUE_PARSE_H
#define IG_ENGINE_VALUE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "engine/sigma_ast.h"

typedef struct vp_str {
    const char *s; /* bytes (arena) */
    uint32_t len;
    bool glob;            /* Sigma wildcards and escapes are active */
    bool literal_cased;   /* produced by an encoding: compare byte for byte */
    const sg_value *orig; /* the value as written, NULL once transformed */
} vp_str;

typedef struct vp_list {
    vp_str *v;
    uint32_t n, cap;
} vp_list;

void vp_reset(vp_list *l);
void vp_free(vp_list *l);
bool vp_add_value(vp_list *l, ig_arena *a, const sg_value *v);

/* Applies transformation `x` (compile.c's xform values: 1 windash,
 * 2 base64, 3 base64offset, 4 utf16le, 5 utf16be, 6 utf16) to every value.
 * Returns NULL, or a reason. */
const char *vp_transform(vp_list *l, ig_arena *a, int x);

/* A comparison ready for matching. */
typedef struct vp_glob {
    uint8_t op; /* EM_EQ, EM_CONTAINS, EM_STARTS, EM_ENDS or EM_GLOB */
    char *s;    /* literal bytes, or for EM_GLOB a pattern where * and ? are
                   wildcards and \ escapes the next byte */
    uint32_t len;
} vp_glob;

/* Builds the comparison of value `v`, with an implied `*` before (`lead`)
 * and/or after (`trail`). */
bool vp_glob_build(ig_arena *a, const vp_str *v, bool lead, bool trail, vp_glob *out);

/* Numbers in decimal (with optional sign and fraction) or 0x hex. */
bool vp_parse_number(const char *s, size_t len, double *out);
/* "a.b.c.d/n" or IPv6 "x:y::z/n" (a missing /n means a host). */
bool vp_parse_cidr(const char *s, size_t len, uint8_t net[16], uint8_t *bits, uint8_t *family);
/* An address without prefix; family 4 or 6. */
bool vp_parse_ip(const char *s, size_t len, uint8_t addr[16], uint8_t *family);

#endif
