/* SPDX-License-Identifier: GPL-2.0 */
/* The container's mount table: the union root and everything on it. */
#ifndef UNIONCTR_MOUNTS_H
#define UNIONCTR_MOUNTS_H

#include <stdbool.h>

#include "container.h"
#include "error.h"
#include "images.h"
#include "store.h"

/*
 * Mount the union of lowers (top first) with optional upper/work at target:
 * `-t unionfs` or `-t overlay`, through mount(2) when the options fit in a
 * page, else one fsconfig("lowerdir+") per layer.
 */
int mount_union(const char *storage, char *const *lowers, const char *upper,
		const char *work, const char *target, uc_error_t *err);
/* Run fn with a read-only view of the image's merged tree (in a private
 * mount namespace of this process when more than one layer). */
int image_view_run(struct uc_store *s, const struct uc_image *img,
		   int (*fn)(const char *root, void *data, uc_error_t *err),
		   void *data, uc_error_t *err);
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
