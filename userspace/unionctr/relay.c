// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

static void add(struct uc_stdio *io, int from, int to, bool input, bool own)
{
	struct uc_relay *r = &io->relay[io->n++];

	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	r->input = input;
	r->close_to = input && own;
	r->own = own;
	/* our own ends only: never change the flags of the user's terminal */
	if (input)
		fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK);
	else
		fcntl(from, F_SETFL, fcntl(from, F_GETFL) | O_NONBLOCK);
}

void stdio_init(struct uc_stdio *io)
{
	memset(io, 0, sizeof(*io));
	io->child[0] = io->child[1] = io->child[2] = io->hold = -1;
}

int stdio_prepare(struct uc_stdio *io, bool tty, bool attach, bool interactive,
		  uc_error_t *err)
{
	int fd, p[2];

	if (tty)
		return 0;
	if (!attach) {
		/* docker run -d -i: stdin open for good, nothing written */
		if (interactive) {
			if (pipe2(p, O_CLOEXEC) < 0)
				return uc_error_errno(err, errno, "pipe");
			io->child[0] = p[0];
			io->hold = p[1];
		}
		return 0;
	}
	for (fd = 0; fd <= 2; fd++) {
		if (!isatty(fd) || (fd == 0 && !interactive))
			continue;	/* passed as it is (stdin: /dev/null) */
		if (pipe2(p, O_CLOEXEC) < 0)
			return uc_error_errno(err, errno, "pipe");
		if (fd == 0) {
			io->child[0] = p[0];
			add(io, 0, p[1], true, true);
		} else {
			io->child[fd] = p[1];
			add(io, p[0], fd, false, true);
		}
	}
	return 0;
}

void stdio_spawned(struct uc_stdio *io)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (io->child[fd] >= 0)
			close(io->child[fd]);
		io->child[fd] = -1;
	}
}

void stdio_add_pty(struct uc_stdio *io, int master, bool interactive)
{
	add(io, master, 1, false, false);
	if (interactive)
		add(io, 0, master, true, false);
}

void stdio_release(struct uc_stdio *io)
{
	size_t i;

	stdio_spawned(io);
	if (io->hold >= 0)
		close(io->hold);
	io->hold = -1;
	/* the pipe ends are ours; the pty master is start.c's, stdio the user's */
	for (i = 0; i < io->n; i++) {
		struct uc_relay *r = &io->relay[i];
		int *end = r->input ? &r->to : &r->from;

		if (r->own && *end >= 0)
			close(*end);
		*end = -1;
	}
	io->n = 0;
}

size_t stdio_pollfds(struct uc_stdio *io, struct pollfd *fds, bool exited)
{
	size_t i, n = 0;

	for (i = 0; i < io->n; i++) {
		struct uc_relay *r = &io->relay[i];

		if (r->input && exited)
			r->eof = true;	/* what is typed now is not the container's */
		if (r->len)
			fds[n++] = (struct pollfd){ r->to, POLLOUT, 0 };
		else if (!r->eof)
			fds[n++] = (struct pollfd){ r->from, POLLIN, 0 };
	}
	return n;
}

static void finish(struct uc_relay *r)
{
	r->eof = true;
	r->len = 0;
	if (r->close_to && r->to >= 0) {
		close(r->to);
		r->to = -1;
	}
}

static void step(struct uc_relay *r)
{
	ssize_t n;

	if (r->len) {
		n = write(r->to, r->buf + r->off, r->len);
		if (n > 0) {
			r->off += (size_t)n;
			r->len -= (size_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			finish(r);	/* the reader is gone */
		}
		if (!r->len && r->eof)
			finish(r);
		return;
	}
	n = read(r->from, r->buf, sizeof(r->buf));
	if (n > 0) {
		r->off = 0;
		r->len = (size_t)n;
		step(r);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		finish(r);	/* EOF, or EIO: the pty's last holder is gone */
	}
}

void stdio_handle(struct uc_stdio *io, const struct pollfd *fds, size_t nfds)
{
	size_t i, k;

	for (k = 0; k < nfds; k++) {
		if (!fds[k].revents)
			continue;
		for (i = 0; i < io->n; i++) {
			struct uc_relay *r = &io->relay[i];

			if ((r->len && fds[k].fd == r->to && fds[k].events == POLLOUT) ||
			    (!r->len && !r->eof && fds[k].fd == r->from && fds[k].events == POLLIN)) {
				step(r);
				break;
			}
		}
	}
}

bool stdio_output_open(const struct uc_stdio *io)
{
	size_t i;

	for (i = 0; i < io->n; i++)
		if (!io->relay[i].input && (!io->relay[i].eof || io->relay[i].len))
			return true;
	return false;
}
