/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A second mount of a union that is already mounted on its target.
 *
 * With a mount_program, containers/storage's overlay driver counts only
 * FUSE mounts as mounted (docs/podman.md, "Gaps"): it may run the program
 * again for a layer whose union is still mounted on the same target (buildah
 * commit of a running build step does). A second union of the same upper
 * would be refused (the upper is in use); fuse-overlayfs stacks a second
 * FUSE mount instead, which the driver's later unmount pops. unionfs-mount
 * does the same with a bind mount of the union already there.
 */
#ifndef UNIONFS_MOUNT_STACKED_H
#define UNIONFS_MOUNT_STACKED_H

#include <stdio.h>

#include "error.h"
#include "request.h"

/*
 * Is the top mount on req->target, as /proc/self/mountinfo (@mountinfo)
 * lists it, a unionfs union of the same layers (upper, work and every
 * lower: the same directories, compared by device and inode)? 1, 0, or -1
 * with @err set.
 */
int um_same_union_mounted(FILE *mountinfo, const struct um_request *req,
			  struct um_error *err);
/* Stack a bind mount of the union on req->target onto req->target. */
int um_stack_union(const struct um_request *req, struct um_error *err);

#endif
