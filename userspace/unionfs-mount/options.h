/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The -o string of an overlay mount, as containers/storage's overlay driver
 * gives it to its mount_program, translated into unionfs parameters:
 *
 *   lowerdir=A:B:C        one "lowerdir+" per layer, top first (no 4 KiB
 *                         page limit); "\:" is a colon inside a path
 *   upperdir=U,workdir=W  kept (both or neither: without them the union is
 *                         read-only, as the driver's read-only form expects)
 *   volatile, metacopy=   unionfs has both
 *   aufs_whiteouts        always given, last: with a mount_program the
 *                         driver stores layers with AUFS whiteouts
 *                         (.wh.NAME files, .wh..wh..opq); given in OPTS
 *                         too, it is accepted and still given once
 *   context= fscontext= defcontext= rootcontext=
 *                         handed to the LSM through fsconfig as they are
 *   ro nosuid nodev noexec noatime nodiratime relatime strictatime
 *                         mount attributes (rw suid dev exec: the default)
 *   empty items           ignored (the driver ends the string with "," when
 *                         storage.conf has no mountopt)
 *
 * Everything else is refused with a message naming the option: ID shifting
 * (uidmapping, gidmapping, squash_to_*), force_mask's xattr_permissions,
 * userxattr, and overlayfs options unionfs does not have.
 */
#ifndef UNIONFS_MOUNT_OPTIONS_H
#define UNIONFS_MOUNT_OPTIONS_H

#include "error.h"
#include "request.h"

#define UM_AUFS_WHITEOUTS "aufs_whiteouts"

/* Add the parameters of opts to req; relative paths are joined to cwd. */
int um_options_translate(const char *opts, const char *cwd,
			 struct um_request *req, struct um_error *err);
/* After every -o: a layer stack the kernel can be asked for. */
int um_options_check(const struct um_request *req, struct um_error *err);

#endif
