/* File access for the audit: Windows paths resolved inside the root of an
 * offline system drive (case-insensitively, %variables% expanded, System32
 * → SysWOW64 for 32-bit worker processes), and bounded reads.  One
 * interface, so that a live Windows implementation can sit behind it. */
#ifndef IG_AUDIT_FS_H
#define IG_AUDIT_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct au_fs au_fs;

/* An offline image rooted at `root` (the folder holding Windows/). */
au_fs *au_fs_offline(const char *root);
void au_fs_free(au_fs *fs);

/* The local path of Windows path `win` (malloc'd), or NULL with *why set
 * (a static string): unknown variable, another drive, a share, not found,
 * a symbolic link (not followed: it could leave the image). */
char *au_fs_resolve(const au_fs *fs, const char *win, bool wow64, const char **why);

/* Reads a resolved file of at most `max` bytes (malloc'd into *data). */
bool au_fs_read(const char *local, size_t max, uint8_t **data, size_t *len, const char **why);

/* What a folder entry is (symbolic links are neither files nor folders). */
typedef enum au_fs_kind { AU_FS_OTHER, AU_FS_FILE, AU_FS_DIR } au_fs_kind;

/* Called for each entry of a folder with its name (not "." or "..") and
 * local path; returns false to stop. */
typedef bool (*au_fs_entry_fn)(void *ud, const char *name, const char *local, au_fs_kind kind,
                               int64_t mtime);

/* Lists resolved folder `local`.  Returns false when it cannot be read. */
bool au_fs_list(const au_fs *fs, const char *local, au_fs_entry_fn fn, void *ud);

#endif
