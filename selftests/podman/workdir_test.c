// SPDX-License-Identifier: GPL-2.0
/* unionfs-mount removes unionfs's volatile marker before mounting. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "request.h"
#include "workdir.h"

static int clear(const char *work, struct um_error *err)
{
	struct um_request req;
	int ret;

	memset(&req, 0, sizeof(req));
	memset(err, 0, sizeof(*err));
	if (work && um_request_add(&req, "workdir", work, err))
		return -2;
	ret = um_workdir_clear_volatile(&req, err);
	um_request_release(&req);
	return ret;
}

int main(void)
{
	char root[] = "/tmp/um-workdir.XXXXXX", work[64], marker[80], inside[96], gone[64];
	struct um_error err;
	struct stat st;
	int fd;

	if (!mkdtemp(root)) {
		tap_skip_all("mkdtemp failed");
		return 1;
	}
	snprintf(work, sizeof(work), "%s/work", root);
	snprintf(marker, sizeof(marker), "%s/volatile", work);
	snprintf(inside, sizeof(inside), "%s/x", marker);
	snprintf(gone, sizeof(gone), "%s/nonexistent", root);
	mkdir(work, 0700);

	ok(clear(NULL, &err) == 0, "no workdir (read-only union): nothing to do");
	ok(clear(work, &err) == 0, "no marker: nothing to do");
	ok(mkdir(marker, 0700) == 0, "a volatile mount's marker (a directory)");
	ok(clear(work, &err) == 0, "marker: removed without error");
	ok(stat(marker, &st) == -1, "marker: gone");

	fd = mkdir(marker, 0700) ? -1 : open(inside, O_CREAT | O_WRONLY, 0600);
	ok(fd >= 0, "a marker that is not empty");
	if (fd >= 0)
		close(fd);
	ok(clear(work, &err) == -1, "a non-empty marker is refused, not emptied");
	if (!ok(strstr(err.msg, "cannot remove the volatile marker") != NULL, "...with a message"))
		diag("got '%s'", err.msg);
	unlink(inside);
	rmdir(marker);

	ok(clear(gone, &err) == -1 && strstr(err.msg, "workdir '") != NULL,
	   "a missing workdir is an error naming it");

	rmdir(work);
	rmdir(root);
	return tap_done();
}
