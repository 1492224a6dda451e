/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layer paths as containers/storage gives them: absolute, or relative to
 * the working directory it runs the helper in (its overlay home, where the
 * l/ short links live). Relative ones are made absolute by prefixing that
 * directory, without resolving links: the kernel opens the same directory
 * either way, and the mount table shows a path that means something.
 */
#ifndef UNIONFS_MOUNT_PATHS_H
#define UNIONFS_MOUNT_PATHS_H

#include "error.h"

/* A malloc()ed absolute form of path (relative paths are joined to cwd). */
char *um_abspath(const char *cwd, const char *path, struct um_error *err);
/* A malloc()ed copy of s with every "\x" turned into "x". */
char *um_unescape(const char *s, size_t len, struct um_error *err);

#endif
