/* SPDX-License-Identifier: GPL-2.0 */
/* /proc/self/mountinfo, parsed: which mount a path is on, and its propagation. */
#ifndef UNIONCTR_MOUNTINFO_H
#define UNIONCTR_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct uc_mountinfo_entry {
	int id, parent;
	char *mountpoint;	/* decoded (the file escapes space, tab, \, newline) */
	bool shared, slave;	/* optional fields "shared:N", "master:N" */
};

struct uc_mountinfo {
	struct uc_mountinfo_entry *v;	/* in the file's order: parents first */
	size_t n;
};

int mountinfo_read(struct uc_mountinfo *mi, uc_error_t *err);
void mountinfo_free(struct uc_mountinfo *mi);
/* The entry of the mount that path is on (statx's mount id), or NULL. */
const struct uc_mountinfo_entry *mountinfo_of_path(const struct uc_mountinfo *mi,
						   const char *path, uc_error_t *err);

#endif
