// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execshim.h"
#include "safepath.h"

/* unionctr-exec (execshim.c), linked in by execshim_blob.S */
extern const char uc_execshim_start[], uc_execshim_end[];

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static int write_shim(int fd, uc_error_t *err)
{
	size_t size = (size_t)(uc_execshim_end - uc_execshim_start), done = 0;
	ssize_t w;

	while (done < size) {
		w = write(fd, uc_execshim_start + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return uc_error_errno(err, w < 0 ? errno : EIO, "write the exec shim");
		done += (size_t)w;
	}
	return 0;
}

/* -1 with errno EACCES when executable memfds are not allowed. */
static int shim_memfd(uc_error_t *err)
{
	int fd;

	/* MFD_EXEC: 6.3+ log a warning for a memfd that says neither */
	fd = memfd_create("unionctr-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)	/* before 6.3 */
		fd = memfd_create("unionctr-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return errno == EACCES ? -1 : uc_error_errno(err, errno, "memfd_create");
	if (write_shim(fd, err) < 0)
		goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE) < 0) {
		uc_error_errno(err, errno, "seal the exec shim");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = 0;
	return -1;
}

/*
 * vm.memfd_noexec=2: an unnamed file in dir, written once, then only a
 * read-only fd of it kept (a writable one would make the exec ETXTBSY).
 * It cannot be sealed, but it is this start's own copy: whatever the
 * container does to it reaches no other file.
 */
static int shim_tmpfile(const char *dir, uc_error_t *err)
{
	char p[64];
	int wfd, fd;

	wfd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0500);
	if (wfd < 0)
		return uc_error_errno(err, errno,
				      "executable memfds are refused (vm.memfd_noexec) and an O_TMPFILE copy of the exec shim in `%s` failed",
				      dir);
	if (write_shim(wfd, err) < 0) {
		close(wfd);
		return -1;
	}
	fd_path(wfd, p);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		uc_error_errno(err, errno, "reopen the exec shim read-only");
	close(wfd);
	return fd;
}

int execshim_open(const char *dir, uc_error_t *err)
{
	int fd = shim_memfd(err);

	if (fd >= 0 || errno != EACCES)
		return fd;
	return shim_tmpfile(dir, err);
}
