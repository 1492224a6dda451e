/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mount itself, with the new mount API: fsopen("unionfs"), one
 * fsconfig() per parameter (each layer its own "lowerdir+", so no option
 * page limits the number of layers), FSCONFIG_CMD_CREATE, fsmount() with
 * the attributes, move_mount() onto the target. The kernel's own message
 * (the fs_context log) is part of the error.
 */
#ifndef UNIONFS_MOUNT_FSMOUNT_H
#define UNIONFS_MOUNT_FSMOUNT_H

#include "error.h"
#include "request.h"

int um_mount(const struct um_request *req, struct um_error *err);

#endif
