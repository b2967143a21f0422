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
    uint8_t plain;    /* `str` needs no JSON or XML escaping */
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

/* A name a template refers to outside its own bytes (names are shared
 * within a chunk): part of the template's identity across chunks. */
typedef struct bx_extname {
    uint32_t off;         /* chunk offset of the name structure */
    uint32_t nbytes;      /* UTF-16 bytes */
    const uint8_t *utf16; /* owned copy */
} bx_extname;

/* A template's JSON rendering compiled for one shape of its values (which
 * values are NULL, their types): literal bytes between value slots.  See
 * render_json.c. */
typedef struct jp_op {
    uint32_t lit_off, lit_len; /* literal to copy before the value */
    uint16_t sid;
    uint8_t inst; /* which template instance: 0 = the record's, then nested */
    uint8_t kind; /* JP_JSON: a whole JSON value; JP_TEXT: inside a string */
} jp_op;

enum { JP_JSON = 1, JP_TEXT = 2 };

typedef struct jprog {
    struct jprog *all_next; /* the cache's list of programs */
    size_t bytes;           /* size of the block */
    const void *tpl;        /* the record's template */
    uint64_t hash;
    const uint8_t *sig; /* the shape of the values (render_json.c) */
    uint32_t siglen;
    const char *lit;
    const jp_op *ops;
    uint32_t nops;
    uint32_t tail_off, tail_len;
} jprog;

struct bx_template {
    bx_node *root; /* first top-level node */
    uint8_t guid[16];
    uint32_t data_size;    /* bytes of definition data */
    uint32_t chunk_off;    /* where it was defined in its chunk */
    bool chunk_local;      /* holds values of this chunk: never shared */
    const bx_extname *ext; /* names outside its bytes */
    uint32_t next_ext;
    uint16_t max_sid; /* highest substitution id + 1 */
    /* Set by the decoding thread that owns the template. */
    bool shared;  /* lives in the thread's cache (not only this chunk) */
    bool no_prog; /* its JSON cannot be compiled (a key from a value...) */
};

/* Decoding context for one chunk. */
typedef struct bx_ctx bx_ctx;

/* A problem found while decoding; offset is chunk-relative. */
typedef void (*bx_anomaly_fn)(void *ud, uint32_t chunk_off, const char *what);

#endif
