/* Configuration XML → element tree (xmltree.h), with expat. */
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "formats/iisconfig/xmltree.h"

typedef struct xt_ctx {
    XML_Parser p;
    ig_arena *arena;
    xt_doc *doc;
    xt_node *cur;
    unsigned depth, count;
    bool oom;
    char why[160];
} xt_ctx;

static void stop(xt_ctx *c, const char *why)
{
    if (c->why[0] == '\0')
        snprintf(c->why, sizeof(c->why), "%s", why);
    XML_StopParser(c->p, XML_FALSE);
}

static const char *dup(xt_ctx *c, const char *s)
{
    const char *d = ig_arena_dup(c->arena, s, strlen(s) + 1);
    if (d == NULL)
        c->oom = true;
    return d;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xt_ctx *c = ud;
    if (++c->depth > XT_MAX_DEPTH) {
        stop(c, "elements nested deeper than the limit (64)");
        return;
    }
    if (++c->count > XT_MAX_ELEMENTS) {
        stop(c, "more elements than the limit (1,048,576)");
        return;
    }
    xt_node *n = ig_arena_alloc(c->arena, sizeof(*n));
    size_t na = 0;
    while (atts[na])
        na++;
    const char **a = ig_arena_alloc(c->arena, sizeof(*a) * (na + 1));
    if (n == NULL || a == NULL) {
        c->oom = true;
        stop(c, "out of memory");
        return;
    }
    memset(n, 0, sizeof(*n));
    for (size_t i = 0; i < na; i++)
        a[i] = dup(c, atts[i]);
    a[na] = NULL;
    n->name = dup(c, name);
    n->attrs = a;
    n->line = (unsigned)XML_GetCurrentLineNumber(c->p);
    n->col = (unsigned)XML_GetCurrentColumnNumber(c->p) + 1;
    n->parent = c->cur;
    if (c->cur == NULL) {
        c->doc->root = n;
    } else {
        if (c->cur->last)
            c->cur->last->next = n;
        else
            c->cur->first = n;
        c->cur->last = n;
    }
    c->cur = n;
}

static void on_end(void *ud, const XML_Char *name)
{
    xt_ctx *c = ud;
    (void)name;
    c->depth--;
    if (c->cur != NULL)
        c->cur = c->cur->parent;
}

/* Any DOCTYPE or entity declaration is refused: configuration files have
 * none, and they are how entity expansion attacks begin. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sys, const XML_Char *pub,
                       int internal)
{
    (void)name, (void)sys, (void)pub, (void)internal;
    stop(ud, "a DOCTYPE declaration (refused: configuration files have none)");
}

static void on_entity(void *ud, const XML_Char *name, int param, const XML_Char *value, int vlen,
                      const XML_Char *base, const XML_Char *sys, const XML_Char *pub,
                      const XML_Char *notation)
{
    (void)name, (void)param, (void)value, (void)vlen, (void)base, (void)sys, (void)pub,
        (void)notation;
    stop(ud, "an entity declaration (refused)");
}

bool xt_parse(const char *data, size_t len, ig_arena *arena, xt_doc *doc)
{
    memset(doc, 0, sizeof(*doc));
    xt_ctx c;
    memset(&c, 0, sizeof(c));
    c.arena = arena;
    c.doc = doc;
    if (len > XT_MAX_BYTES) {
        doc->error = "larger than the limit (32 MiB)";
        doc->error_line = 1;
        return true;
    }
    c.p = XML_ParserCreate(NULL);
    if (c.p == NULL)
        return false;
    XML_SetUserData(c.p, &c);
    XML_SetElementHandler(c.p, on_start, on_end);
    XML_SetStartDoctypeDeclHandler(c.p, on_doctype);
    XML_SetEntityDeclHandler(c.p, on_entity);
    XML_SetParamEntityParsing(c.p, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_STATUS_OK;
    /* fed in pieces: expat takes an int length */
    size_t off = 0;
    do {
        size_t n = len - off > (1u << 20) ? (1u << 20) : len - off;
        st = XML_Parse(c.p, data + off, (int)n, off + n == len);
        off += n;
    } while (st == XML_STATUS_OK && off < len);
    if (st != XML_STATUS_OK || c.why[0]) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", c.why[0] ? c.why : XML_ErrorString(XML_GetErrorCode(c.p)));
        doc->error = ig_arena_dup(arena, msg, strlen(msg) + 1);
        doc->error_line = (unsigned)XML_GetCurrentLineNumber(c.p);
        doc->error_col = (unsigned)XML_GetCurrentColumnNumber(c.p) + 1;
        if (doc->error == NULL)
            c.oom = true;
    }
    XML_ParserFree(c.p);
    return !c.oom;
}

const char *xt_attr(const xt_node *n, const char *name)
{
    for (size_t i = 0; n != NULL && n->attrs[i] != NULL; i += 2)
        if (strcmp(n->attrs[i], name) == 0)
            return n->attrs[i + 1];
    return NULL;
}

xt_node *xt_child(const xt_node *n, const char *name)
{
    for (xt_node *k = n ? n->first : NULL; k != NULL; k = k->next)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

xt_node *xt_path(const xt_node *n, const char *path)
{
    char part[128];
    const xt_node *cur = n;
    while (cur != NULL && *path) {
        const char *slash = strchr(path, '/');
        size_t l = slash ? (size_t)(slash - path) : strlen(path);
        if (l >= sizeof(part))
            return NULL;
        memcpy(part, path, l);
        part[l] = '\0';
        cur = xt_child(cur, part);
        path += l + (slash != NULL);
    }
    return (xt_node *)cur;
}
