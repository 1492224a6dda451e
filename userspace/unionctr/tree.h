/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trees copied by directory fds: the one walker behind every copy of the
 * launcher (a rootfs directory into a layer, an image's content into a new
 * volume, a container's upper directory into a committed layer).  A volume
 * may be shared with a running container, which can swap any entry for a
 * symlink while the copy runs: so every step is relative to an open
 * directory fd and nothing is followed.  A swapped entry is copied as what
 * it now is, or stops the copy with an error; it is never written or read
 * through.
 */
#ifndef UNIONCTR_TREE_H
#define UNIONCTR_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/*
 * Copy what is in directory srcfd into directory dstfd (owners, modes,
 * times, xattrs, hard links, devices kept), then srcfd's owner, mode,
 * xattrs and times onto dstfd.  Overlay-format private xattrs are dropped,
 * but for the opaque marker, written under both names.
 */
int tree_copy(int srcfd, int dstfd, uc_error_t *err);
/*
 * The same by path: src is opened following symlinks (a user's directory,
 * /proc/self/fd/N), dst must be an existing directory, not a symlink.
 */
int copy_dir_contents(const char *src, const char *dst, uc_error_t *err);
struct uc_xattr {
	char *name;
	char *value;
	ssize_t len;
};

/*
 * The xattrs of an entry, sorted by name: of fd when fd >= 0, else of name
 * in directory dirfd, not followed.  -1 and errno on failure; none (0, *n
 * 0) where the filesystem has no xattrs.
 */
int xattrs_read(int fd, int dirfd, const char *name, struct uc_xattr **out,
		size_t *n);
void xattrs_free(struct uc_xattr *v, size_t n);
/* Is the directory open as fd empty (or unreadable)? */
bool dir_fd_is_empty(int fd);

#endif
