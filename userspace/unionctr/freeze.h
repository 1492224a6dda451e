/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pausing a running container (what docker pause does with the cgroup
 * freezer; the launcher makes no cgroup of its own): every process in the
 * container's pid namespace is stopped with SIGSTOP through a pidfd, and
 * continued afterwards.  For commit, which must read the container's upper
 * directory while nothing in it changes.
 */
#ifndef UNIONCTR_FREEZE_H
#define UNIONCTR_FREEZE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct uc_frozen {
	int *pidfds;		/* the processes we stopped, to continue */
	pid_t *pids;
	size_t n;
};

/*
 * Stop every process of the pid namespace of init_pid (the container's
 * init, as the host sees it), and those they fork meanwhile, and wait until
 * all are stopped (or gone).  Processes found stopped already are left as
 * they are, then and at thaw.  On failure nothing stays stopped.
 */
int container_freeze(pid_t init_pid, struct uc_frozen *f, uc_error_t *err);
/* Continue what container_freeze stopped; f is emptied. */
void container_thaw(struct uc_frozen *f);

#endif
