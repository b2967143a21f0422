/* What a default IIS 10 installation loads: native modules (name → image),
 * ASP.NET's managed modules, the Microsoft add-ons that are information
 * only, the security modules, and the folders a component may live in. */
#ifndef IG_AUDIT_BASELINE_H
#define IG_AUDIT_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bl_module {
    const char *name, *image, *feature;
    bool addon; /* a Microsoft add-on (URL Rewrite, ARR, ASP.NET Core Module): info */
} bl_module;

extern const bl_module bl_native[];
extern const size_t bl_nnative;

typedef struct bl_managed {
    const char *name, *type;
} bl_managed;

extern const bl_managed bl_managed_modules[];
extern const size_t bl_nmanaged;

/* The native or managed baseline entry named `name` (case-insensitive). */
const bl_module *bl_native_find(const char *name);
const bl_managed *bl_managed_find(const char *name);

/* Modules whose removal at a location weakens it. */
bool bl_security_module(const char *name);

/* True when a Windows path (expanded, lower case, backslashes) lies in a
 * folder IIS components are installed to. */
bool bl_trusted_dir(const char *winpath_lower);

/* Two paths that name the same file: %variables% expanded, case and
 * slashes ignored, System32 ↔ %windir%\System32 forms equal. */
bool bl_same_image(const char *a, const char *b);

/* Expands %windir%, %SystemRoot%, %SystemDrive%, %ProgramFiles%,
 * %ProgramFiles(x86)%, %ProgramData%, %IIS_BIN% (C: drive) into out;
 * false when a variable is unknown. */
bool bl_expand(const char *in, char *out, size_t n);

#endif
