// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "workdir.h"

int um_workdir_clear_volatile(const struct um_request *req, struct um_error *err)
{
	const struct um_param *work = um_request_find(req, "workdir");
	int fd, ret = 0;

	if (!work)
		return 0;
	fd = open(work->value, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return um_fail_errno(err, errno, "workdir '%s'", work->value);
	if (unlinkat(fd, UM_VOLATILE_MARKER, AT_REMOVEDIR) && errno != ENOENT)
		ret = um_fail_errno(err, errno, "cannot remove the volatile marker %s/%s",
				    work->value, UM_VOLATILE_MARKER);
	close(fd);
	return ret;
}
