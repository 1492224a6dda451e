/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The volatile marker. A volatile union leaves workdir/volatile behind and
 * unionfs refuses every later mount of that upper while it is there, as
 * overlayfs does with workdir/work/incompat/volatile. containers/storage's
 * overlay driver removes overlayfs's marker before every mount of a layer
 * (overlay.go, get(): os.RemoveAll(workdir/work/incompat/volatile)): it
 * decides itself what a volatile container's upper is worth after a crash.
 * Its mount_program must do the same for unionfs's marker, or the second
 * mount of a volatile container's layer (buildah commit, podman diff) fails.
 */
#ifndef UNIONFS_MOUNT_WORKDIR_H
#define UNIONFS_MOUNT_WORKDIR_H

#include "error.h"
#include "request.h"

#define UM_VOLATILE_MARKER "volatile"

/* Remove workdir/volatile (an empty directory) if it is there. */
int um_workdir_clear_volatile(const struct um_request *req, struct um_error *err);

#endif
