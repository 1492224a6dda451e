/* SPDX-License-Identifier: GPL-2.0 */
/* Starting a created container and waiting for it, as its parent. */
#ifndef UNIONCTR_START_H
#define UNIONCTR_START_H

#include <stdbool.h>

#include "container.h"
#include "store.h"

struct uc_start_opts {
	bool attach;		/* stay and wait (run, start -a) */
	bool interactive;	/* -i: relay our stdin */
	int notify_fd;		/* detached start: "0\n" when running, or an error */
};

/*
 * Start container ref.  Attached, returns its exit status (Docker's: the
 * process's code, 128+n on signal n, 125/126/127 for launcher, cannot
 * execute, not found) in *status.
 */
int container_start(struct uc_store *s, const char *ref,
		    const struct uc_start_opts *o, int *status, uc_error_t *err);
/* start without -a: fork a keeper, return once the container runs. */
int container_start_detached(struct uc_store *s, const char *ref,
			     uc_error_t *err);

#endif
