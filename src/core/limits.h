/* Every limit applied to untrusted input lives here (IG_MAX_*). */
#ifndef IG_CORE_LIMITS_H
#define IG_CORE_LIMITS_H

/* EVTX: a chunk is always 64 KiB; the header block is 4 KiB (libevtx §2, §3). */
#define IG_EVTX_HEADER_SIZE       4096u
#define IG_EVTX_CHUNK_SIZE        65536u
#define IG_EVTX_CHUNK_HEADER_SIZE 512u
/* Nesting of elements and nested Binary XML (value type 0x21) in one record. */
#define IG_MAX_XML_DEPTH          64u
/* Nested template instances / BinXML substitutions within one record. */
#define IG_MAX_TEMPLATE_NESTING   8u
/* Substitution values in one template instance. */
#define IG_MAX_TEMPLATE_VALUES    4096u
/* BinXML tokens decoded from one template or record body. */
#define IG_MAX_BINXML_TOKENS      65536u
/* Rendered output for one record (JSON or XML); a larger one is reported
 * and replaced by a line that names it. */
#define IG_MAX_RECORD_OUTPUT      (4u * 1024u * 1024u)
/* Rendered output for one chunk; records past it are reported likewise. */
#define IG_MAX_CHUNK_OUTPUT       (32u * 1024u * 1024u)
/* Compiled templates cached per decoding thread across chunks. */
#define IG_MAX_TEMPLATE_CACHE     4096u
/* Anomalies recorded per file before further ones are only counted. */
#define IG_MAX_ANOMALIES_PER_FILE 10000u
/* Fields of one normalised event. */
#define IG_MAX_EVENT_FIELDS       4096u
/* Patterns of one Sigma detection item after modifiers (windash, base64offset
 * multiply them). */
#define IG_MAX_ITEM_PATTERNS      65536u
/* Nesting of a compiled Sigma condition. */
#define IG_MAX_COND_DEPTH         64u
/* PCRE2 limits for one match of an attacker-controlled value. */
#define IG_RE_MATCH_LIMIT         100000u
#define IG_RE_DEPTH_LIMIT         1000u
/* The JIT's stack for one thread (PCRE2's own default is 32 KiB, which a
 * nested repetition fills long before the match limit). */
#define IG_RE_JIT_STACK           (1024u * 1024u)
/* PE images: sections (the Windows loader's own limit), exports, imported
 * DLLs and functions, characters of one name or path, anomalies recorded
 * per file, resource directory entries visited, debug directory entries. */
#define IG_MAX_PE_SECTIONS        96u
#define IG_MAX_PE_EXPORTS         65536u
#define IG_MAX_PE_IMPORT_DLLS     4096u
#define IG_MAX_PE_IMPORTS         65536u
#define IG_MAX_PE_NAME            4096u
#define IG_MAX_PE_ANOMALIES       256u
#define IG_MAX_PE_RSRC_ENTRIES    4096u
#define IG_MAX_PE_DEBUG_ENTRIES   64u
/* Decoding threads. */
#define IG_MAX_THREADS            256u
/* An EVTX log read from a pipe or standard input is held in memory whole. */
#define IG_MAX_PIPED_EVTX         (1024u * 1024u * 1024u)

#endif
