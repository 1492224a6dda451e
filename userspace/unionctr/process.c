// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "container.h"
#include "process.h"

int process_open(int pid, unsigned long long start_time)
{
	int fd;

	if (pid <= 0)
		return -1;
	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return -1;
	/* the pidfd pins whatever has pid now: make sure it is ours */
	if (!start_time || proc_start_time(pid) != start_time) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int process_signal(int pidfd, int sig)
{
	return pidfd_send_signal(pidfd, sig, NULL, 0);
}

bool process_wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}
