// SPDX-License-Identifier: GPL-2.0
/*
 * unionfs-mount: containers/storage's overlay mount_program for unionfs.
 *
 *   [storage.options.overlay]
 *   mount_program = "/usr/local/bin/unionfs-mount"
 *
 * The driver runs "unionfs-mount -o OPTIONS TARGET" in its home directory;
 * see docs/podman.md. As the driver does for overlayfs, the volatile
 * marker of an earlier mount is removed first (workdir.h); a union that
 * is already mounted on the target is stacked once more (stacked.h),
 * as fuse-overlayfs stacks a second FUSE mount. Unmounting
 * needs no helper: the driver's fusermount3 -u (as root) or
 * umount2(MNT_DETACH) fallback unmounts a unionfs mount like any other.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "fsmount.h"
#include "stacked.h"
#include "workdir.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: unionfs-mount -o lowerdir=TOP:...:BOTTOM[,upperdir=U,workdir=W][,OPT...] TARGET\n"
		"Mounts a unionfs union as containers/storage's overlay driver asks its\n"
		"mount_program to (relative paths are taken from the working directory).\n");
}

/*
 * The same union already on the target (stacked.h): stack it once more.
 * Else clear the volatile marker of an earlier mount (never that of the
 * live union), and mount.
 */
static int um_run(const struct um_request *req, struct um_error *err)
{
	FILE *mountinfo = fopen("/proc/self/mountinfo", "re");
	int same;

	if (!mountinfo)
		return um_fail_errno(err, errno, "/proc/self/mountinfo");
	same = um_same_union_mounted(mountinfo, req, err);
	fclose(mountinfo);
	if (same < 0)
		return -1;
	if (same)
		return um_stack_union(req, err);
	if (um_workdir_clear_volatile(req, err))
		return -1;
	return um_mount(req, err);
}

int main(int argc, char *argv[])
{
	struct um_error err = { "" };
	struct um_request req;
	struct um_args args;
	char cwd[PATH_MAX];
	int ret = 1;

	if (um_args_parse(argc, argv, &args, &err)) {
		fprintf(stderr, "unionfs-mount: %s\n", err.msg);
		usage(stderr);
		um_args_release(&args);
		return 2;
	}
	if (args.help) {
		usage(stdout);
		um_args_release(&args);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "unionfs-mount: working directory: %m\n");
		um_args_release(&args);
		return 1;
	}
	if (um_args_request(&args, cwd, &req, &err) == 0) {
		if (um_run(&req, &err) == 0)
			ret = 0;
		um_request_release(&req);
	}
	if (ret)
		fprintf(stderr, "unionfs-mount: %s\n", err.msg);
	um_args_release(&args);
	return ret;
}
