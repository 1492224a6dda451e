/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The container's stdio as the launcher, its parent, sees it (docker's
 * attach): with -t a pty from the container's devpts, relayed both ways;
 * without -t the launcher's own fds, except that a terminal is never
 * handed to the container: it gets a pipe and the launcher copies (a
 * container with the host's terminal could change its modes, push input
 * with TIOCSTI, or read what is typed after it exits).
 */
#ifndef UNIONCTR_RELAY_H
#define UNIONCTR_RELAY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define UC_RELAY_BUF 16384
#define UC_RELAY_MAX 4

struct uc_relay {
	int from, to;
	bool input;		/* from our stdin: stops when the container exits */
	bool close_to;		/* at EOF of from, close to (EOF for the container) */
	bool own;		/* the pipe end (to if input, else from) is ours */
	bool eof;
	size_t len, off;	/* pending bytes of buf */
	char buf[UC_RELAY_BUF];
};

struct uc_stdio {
	int child[3];		/* what the child dups onto 0, 1, 2; -1: its default */
	int hold;		/* -d -i: our end of the stdin pipe, kept open, unused */
	struct uc_relay relay[UC_RELAY_MAX];
	size_t n;
};

/* Nothing open yet (stdio_release is then a no-op). */
void stdio_init(struct uc_stdio *io);
/*
 * Before the spawn, without -t: pipes for each of our stdio fds that is a
 * terminal (stdin only with -i), or with -d -i a stdin pipe that stays
 * open.  io->child is for the child; the rest stays here.
 */
int stdio_prepare(struct uc_stdio *io, bool tty, bool attach, bool interactive,
		  uc_error_t *err);
/* After the spawn: close the child's ends. */
void stdio_spawned(struct uc_stdio *io);
/* -t: relay the pty master (to our stdout; from our stdin with -i). */
void stdio_add_pty(struct uc_stdio *io, int master, bool interactive);
void stdio_release(struct uc_stdio *io);

/*
 * The poll loop's part: fill fds (at most 2 * UC_RELAY_MAX) with what the
 * relays wait for; after poll, move the data.  Input stops once the
 * container has exited.  true while some output relay is still open.
 */
size_t stdio_pollfds(struct uc_stdio *io, struct pollfd *fds, bool exited);
void stdio_handle(struct uc_stdio *io, const struct pollfd *fds, size_t nfds);
bool stdio_output_open(const struct uc_stdio *io);

#endif
