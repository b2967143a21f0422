/* Binary XML (MS-EVEN6 §2.2.12, libevtx format notes §5): tokens → a small
 * node tree.  Templates compile once into such a tree; a record is a tree
 * plus the substitution values of its template instance.  Internal to
 * src/formats/evtx. */
#ifndef IG_EVTX_BINXML_H
#define IG_EVTX_BINXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

/* Value types (libevtx notes §6 "Value types"). */
enum {
    BX_T_NULL = 0x00,
    BX_T_STRING = 0x01,
    BX_T_ANSI = 0x02,
    BX_T_I8 = 0x03,
    BX_T_U8 = 0x04,
    BX_T_I16 = 0x05,
    BX_T_U16 = 0x06,
    BX_T_I32 = 0x07,
    BX_T_U32 = 0x08,
    BX_T_I64 = 0x09,
    BX_T_U64 = 0x0a,
    BX_T_R32 = 0x0b,
    BX_T_R64 = 0x0c,
    BX_T_BOOL = 0x0d,
    BX_T_BINARY = 0x0e,
    BX_T_GUID = 0x0f,
    BX_T_SIZET = 0x10,
    BX_T_FILETIME = 0x11,
    BX_T_SYSTIME = 0x12,
    BX_T_SID = 0x13,
    BX_T_HEX32 = 0x14,
    BX_T_HEX64 = 0x15,
    BX_T_EVTHANDLE = 0x20,
    BX_T_BINXML = 0x21,
    BX_T_EVTXML = 0x23,
    BX_T_ARRAY = 0x80
};

typedef enum bx_kind {
    BX_ELEM,    /* element: name, attrs, kids */
    BX_ATTR,    /* attribute: name, kids = value parts */
    BX_TEXT,    /* literal text (UTF-8 in `str`) */
    BX_CDATA,   /* CDATA text (UTF-8 in `str`) */
    BX_SUBST,   /* substitution: sid, vtype, optional */
    BX_CHARREF, /* character reference: code in `sid` */
    BX_ENTREF,  /* entity reference: name in `str` */
    BX_PI,      /* processing instruction: target in `str`, data in `str2` */
    BX_TINST    /* nested template instance (inside a record body or 0x21 value) */
} bx_kind;

typedef struct bx_template bx_template;
typedef struct bx_node bx_node;

typedef struct bx_value {
    const uint8_t *p; /* borrowed from the chunk */
    uint32_t len;
    uint8_t type;
    const bx_node *tree; /* BX_T_BINXML: the parsed value */
} bx_value;

struct bx_node {
    uint8_t kind;     /* bx_kind */
    uint8_t vtype;    /* BX_SUBST: declared value type */
    uint8_t optional; /* BX_SUBST: optional substitution */
    uint16_t sid;     /* BX_SUBST: value index; BX_CHARREF: code point */
    uint32_t len, len2;
    const char *str;  /* name or text, UTF-8, not NUL-terminated */
    const char *str2; /* BX_PI data */
    bx_node *attrs;   /* BX_ELEM */
    bx_node *kids;    /* BX_ELEM content, BX_ATTR value parts */
    bx_node *next;
    /* BX_TINST */
    const bx_template *tpl;
    const bx_value *vals;
    uint32_t nvals;
};

struct bx_template {
    bx_node *root; /* first top-level node */
    uint8_t guid[16];
    uint32_t data_size; /* bytes of definition data */
    uint32_t chunk_off; /* where it was defined in its chunk */
    bool chunk_local;   /* refers to names outside its own bytes */
    uint16_t max_sid;   /* highest substitution id + 1 */
};

/* Decoding context for one chunk. */
typedef struct bx_ctx bx_ctx;

/* A problem found while decoding; offset is chunk-relative. */
typedef void (*bx_anomaly_fn)(void *ud, uint32_t chunk_off, const char *what);

#endif
