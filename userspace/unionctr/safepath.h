/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Path resolution confined to a root directory, for every path the launcher
 * touches inside a container's rootfs or a volume: openat2(RESOLVE_IN_ROOT)
 * when the kernel has it, otherwise a component-by-component walk that treats
 * ".." at the root and absolute symlinks as relative to the root.
 */
#ifndef UNIONCTR_SAFEPATH_H
#define UNIONCTR_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Tests set this to exercise the fallback walk. */
extern bool safepath_force_fallback;

/* An O_PATH fd for path inside rootfd, following symlinks inside the root. */
int safe_resolve(int rootfd, const char *path, uc_error_t *err);
/* Open path inside rootfd with flags (no O_CREAT). */
int safe_open(int rootfd, const char *path, int flags, uc_error_t *err);
/*
 * Open path inside dirfd following no symlink at all, on the way or at the
 * end (ELOOP): openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS), or a walk
 * with O_NOFOLLOW that refuses "..".  For what must be exactly where it is
 * named: the blobs of an image archive, a path the launcher made itself.
 */
int safe_open_beneath(int dirfd, const char *path, int flags, uc_error_t *err);
/* Create directory path and its parents inside rootfd; O_PATH fd of it. */
int safe_mkdir_p(int rootfd, const char *path, mode_t mode, uc_error_t *err);
/*
 * Make sure a mount target exists inside rootfd, as a directory (dir) or
 * an empty regular file, creating parents; return an O_PATH fd for it.
 */
int safe_mount_target(int rootfd, const char *path, bool dir, uc_error_t *err);
/* "/proc/self/fd/N" for mounting onto an O_PATH fd. */
void fd_path(int fd, char buf[64]);

#endif
