/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line, as containers/storage's overlay driver runs its
 * mount_program (drivers/overlay/overlay.go, get()):
 *
 *   unionfs-mount -o OPTIONS TARGET      (cwd: the driver's home)
 *
 * -o may be repeated (the strings are joined with ","), before or after
 * TARGET, as fuse-overlayfs allows. Nothing else is accepted.
 */
#ifndef UNIONFS_MOUNT_ARGS_H
#define UNIONFS_MOUNT_ARGS_H

#include <stdbool.h>

#include "error.h"
#include "request.h"

struct um_args {
	char *opts;		/* every -o, joined */
	const char *target;
	bool help;
};

int um_args_parse(int argc, char *const argv[], struct um_args *args,
		  struct um_error *err);
void um_args_release(struct um_args *args);
/* argv to a request: options translated, target made absolute. */
int um_args_request(const struct um_args *args, const char *cwd,
		    struct um_request *req, struct um_error *err);

#endif
