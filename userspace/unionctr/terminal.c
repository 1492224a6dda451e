// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "terminal.h"

int terminal_make_raw(int fd, struct uc_tty_state *st)
{
	struct termios raw;

	st->fd = fd;
	st->saved = false;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &st->tio) < 0)
		return -1;
	raw = st->tio;
	cfmakeraw(&raw);
	/* keep output post-processing off too: the container's pty does it */
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -1;
	st->saved = true;
	return 0;
}

void terminal_restore(struct uc_tty_state *st)
{
	if (st->saved)
		tcsetattr(st->fd, TCSANOW, &st->tio);
	st->saved = false;
}

int terminal_fd(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (isatty(fd))
			return fd;
	return -1;
}

void terminal_copy_winsize(int from, int to)
{
	struct winsize ws;

	if (from < 0)
		return;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		ioctl(to, TIOCSWINSZ, &ws);
}

int send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int fd;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int terminal_open_pty(int ptmx_fd, int *master, int *slave)
{
	char p[64];
	int m, s;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", ptmx_fd);
	m = open(p, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (unlockpt(m) < 0) {
		close(m);
		return -1;
	}
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		close(m);
		return -1;
	}
	*master = m;
	*slave = s;
	return 0;
}
