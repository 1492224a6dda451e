// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fsmount.h"

/* The fs_context log's messages ("e unionfs: ..."), joined into buf. */
static void um_read_log(int fsfd, char *buf, size_t size)
{
	char line[512];
	size_t used = 0;
	ssize_t n;

	buf[0] = '\0';
	while (used + 3 < size &&
	       (n = read(fsfd, line, sizeof(line) - 1)) > 0) {
		while (n > 0 && line[n - 1] == '\n')
			n--;
		line[n] = '\0';
		if (n > 2 && line[1] == ' ')
			memmove(line, line + 2, n - 1);
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? "; " : "", line);
	}
}

static int um_fail_fs(struct um_error *err, int fsfd, int errnum,
		      const char *what)
{
	char log[UM_MSG_MAX / 2];

	um_read_log(fsfd, log, sizeof(log));
	if (log[0])
		return um_fail(err, "%s: %s (kernel: %s)", what, strerror(errnum), log);
	return um_fail(err, "%s: %s", what, strerror(errnum));
}

static int um_configure(int fsfd, const struct um_request *req,
			struct um_error *err)
{
	char what[UM_MSG_MAX / 2];
	size_t i;
	int r;

	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "unionfs", 0))
		return um_fail_fs(err, fsfd, errno, "fsconfig source");
	for (i = 0; i < req->nr_params; i++) {
		const struct um_param *p = &req->params[i];

		if (p->value)
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, p->key, p->value, 0);
		else
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, p->key, NULL, 0);
		if (r) {
			snprintf(what, sizeof(what), "%s%s%s", p->key,
				 p->value ? "=" : "", p->value ? p->value : "");
			return um_fail_fs(err, fsfd, errno, what);
		}
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return um_fail_fs(err, fsfd, errno, "creating the union");
	return 0;
}

int um_mount(const struct um_request *req, struct um_error *err)
{
	int fsfd, mfd, ret = -1;

	fsfd = fsopen("unionfs", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		if (errno == ENODEV)
			return um_fail(err, "the kernel has no unionfs (modprobe unionfs)");
		return um_fail_errno(err, errno, "fsopen unionfs");
	}
	if (um_configure(fsfd, req, err))
		goto out;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, req->attrs);
	if (mfd < 0) {
		um_fail_fs(err, fsfd, errno, "fsmount");
		goto out;
	}
	if (move_mount(mfd, "", AT_FDCWD, req->target, MOVE_MOUNT_F_EMPTY_PATH))
		um_fail_errno(err, errno, "mounting on '%s'", req->target);
	else
		ret = 0;
	close(mfd);
out:
	close(fsfd);
	return ret;
}
