/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The container process: clone into new mount, pid, uts, ipc, net and cgroup
 * namespaces, build the root, pivot_root, harden, exec.  Like bubblewrap, the
 * sequence is short and every step is checked; a failure is reported to the
 * parent over a close-on-exec pipe as "STATUS\nmessage".
 */
#ifndef UNIONCTR_LINUX_H
#define UNIONCTR_LINUX_H

#include <stdbool.h>
#include <sys/types.h>

#include "container.h"
#include "security.h"
#include "store.h"

struct uc_spawn {
	/* in */
	const struct uc_container *c;
	char **lowers;		/* layer dirs, top first */
	char *cdir;		/* container dir */
	bool stdin_open;	/* keep our stdin; else /dev/null */
	int stdio[3];		/* without -t: fds for 0, 1, 2 (relay.h), -1: as above */
	const struct uc_sec_runtime *sec;	/* caps, seccomp, no_new_privs */
	/* out */
	pid_t pid;
	int sync_fd;		/* read end: EOF at exec, or an error */
	int console_sock;	/* receives the pty master (tty only) */
};

int linux_spawn(struct uc_spawn *sp, uc_error_t *err);
/* Read the child's report; 0 when it reached exec. */
int linux_spawn_result(struct uc_spawn *sp, uc_error_t *err);

#endif
