/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one mount will be: the fsconfig() parameters in the order they are
 * given to the kernel (one "lowerdir+" per layer, top layer first, then
 * upperdir, workdir and the rest), the mount attributes for fsmount() and
 * the target.
 */
#ifndef UNIONFS_MOUNT_REQUEST_H
#define UNIONFS_MOUNT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct um_param {
	char *key;
	char *value;		/* NULL: a flag (FSCONFIG_SET_FLAG) */
};

struct um_request {
	char *target;
	struct um_param *params;
	size_t nr_params;
	size_t cap_params;
	size_t nr_lowers;
	bool has_upper;
	bool has_work;
	unsigned int attrs;	/* MOUNT_ATTR_* for fsmount() */
};

/* Append key (and value, copied; NULL for a flag). */
int um_request_add(struct um_request *req, const char *key, const char *value,
		   struct um_error *err);
/* The first parameter named key, or NULL. */
const struct um_param *um_request_find(const struct um_request *req,
				       const char *key);
void um_request_release(struct um_request *req);

#endif
