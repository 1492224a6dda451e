/* SPDX-License-Identifier: GPL-2.0 */
/* The container's mount table: the union root and everything on it. */
#ifndef UNIONCTR_MOUNTS_H
#define UNIONCTR_MOUNTS_H

#include <stdbool.h>

#include "error.h"

struct uc_container;

/*
 * Mount the union of lowers (top first) with optional upper/work at target:
 * `-t unionfs` or `-t overlay`, through mount(2) when the options fit in a
 * page, else one fsconfig("lowerdir+") per layer.
 */
int mount_union(const char *storage, char *const *lowers, const char *upper,
		const char *work, const char *target, uc_error_t *err);
/*
 * A read-only union of lowers (top first), attached nowhere: a child
 * process mounts it on scratch (any directory) in a mount namespace of its
 * own and passes its root back as the returned fd; the namespace is gone
 * with the child, the mount with the fd.  The caller's mount table never
 * changes.
 */
int mount_union_detached(const char *storage, char *const *lowers,
			 const char *scratch, uc_error_t *err);
/*
 * First in the container's new mount namespace: check the sources of
 * [r]shared and [r]slave binds (Docker's errors), then make / rslave as
 * Docker does (0), or, with a shared bind, keep the host's peers and make
 * the mount holding rootdir (where the union goes) private (1).
 */
int mounts_root_propagation(const struct uc_container *c, const char *rootdir,
			    uc_error_t *err);
/*
 * Inside the container's mount namespace, before pivot_root: Docker's
 * default mounts (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys,
 * masked and read-only paths), /etc/{hostname,hosts,resolv.conf}, then the
 * container's binds and volumes.  Every target is resolved inside rootfd.
 * With pty_master, a pty is allocated from the new devpts and its slave
 * bound on /dev/console.
 */
int mounts_setup(int rootfd, const struct uc_container *c, const char *cdir,
		 int *pty_master, int *pty_slave, uc_error_t *err);

#endif
