/* SPDX-License-Identifier: GPL-2.0 */
/* Terminals: raw mode, window size, passing the pty master between processes. */
#ifndef UNIONCTR_TERMINAL_H
#define UNIONCTR_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

struct uc_tty_state {
	int fd;
	bool saved;
	struct termios tio;
};

/* Put fd in raw mode if it is a terminal; remember how it was. */
int terminal_make_raw(int fd, struct uc_tty_state *st);
void terminal_restore(struct uc_tty_state *st);
/* The first of stdin, stdout, stderr that is a terminal, or -1. */
int terminal_fd(void);
/* Copy the window size of terminal from to terminal to (if from is one). */
void terminal_copy_winsize(int from, int to);
/* SCM_RIGHTS helpers; recv returns -1 when the peer closed. */
int send_fd(int sock, int fd);
int recv_fd(int sock);
/* Allocate a pty from the devpts instance whose ptmx is ptmx_fd's path. */
int terminal_open_pty(int ptmx_fd, int *master, int *slave);

#endif
