/* SPDX-License-Identifier: GPL-2.0 */
/* -u USER[:GROUP] / the image's User, resolved inside the container. */
#ifndef UNIONCTR_USER_H
#define UNIONCTR_USER_H

#include <sys/types.h>

#include "error.h"

#define UC_MAX_GROUPS 64

struct uc_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[UC_MAX_GROUPS];	/* supplementary, from the group file */
	int n_groups;
	char home[256];			/* "" when the passwd file has none */
};

/*
 * Resolve spec ("name", "uid", "name:group", "uid:gid"...) against the
 * passwd and group texts (NULL when the files are missing), as Docker does:
 * a numeric uid need not exist (gid 0 then); a name must.
 */
int user_resolve(const char *spec, const char *passwd, const char *group,
		 struct uc_user *u, uc_error_t *err);
/* In the container, after pivot_root: read /etc/passwd and /etc/group
 * (regular files only) and switch to the user. */
int user_switch(const char *spec, struct uc_user *u, uc_error_t *err);

#endif
