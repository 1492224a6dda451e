// SPDX-License-Identifier: GPL-2.0
/* -u USER[:GROUP] resolution against passwd/group texts, Docker's rules. */
#include "tap.h"
#include "user.h"

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"app:x:1000:1001:App:/home/app:/bin/sh\n"
	"# a comment line\n"
	"nohome:x:1002:1002::\n";
static const char group[] =
	"root:x:0:\n"
	"appgrp:x:1001:\n"
	"extra:x:2000:other,app\n"
	"more:x:2001:app\n"
	"notme:x:2002:apple\n"
	"staff:x:50:\n";

int main(void)
{
	static const struct {
		const char *spec;
		int uid, gid, n_groups;
		const char *home, *err;
	} t[] = {
		{ "app", 1000, 1001, 2, "/home/app", NULL },
		{ "1000", 1000, 1001, 2, "/home/app", NULL },
		{ "app:staff", 1000, 50, 2, "/home/app", NULL },
		{ "app:77", 1000, 77, 2, "/home/app", NULL },
		{ "4242", 4242, 0, 0, "", NULL },
		{ "4242:4243", 4242, 4243, 0, "", NULL },
		{ "root", 0, 0, 0, "/root", NULL },
		{ "nohome", 1002, 1002, 0, "", NULL },
		{ "nosuch", 0, 0, 0, NULL, "unable to find user nosuch: no matching entries in passwd file" },
		{ "app:nogroup", 0, 0, 0, NULL, "unable to find group nogroup: no matching entries in group file" },
		{ "x:y", 0, 0, 0, NULL, "unable to find user x: no matching entries in passwd file" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct uc_user u;
		uc_error_t err = NULL;
		int r = user_resolve(t[i].spec, passwd, group, &u, &err);

		if (t[i].err) {
			if (ok(r < 0, "-u %s refused", t[i].spec))
				is_str(err->msg, t[i].err, "  with Docker's message");
			uc_error_release(&err);
			continue;
		}
		if (!ok(r == 0, "-u %s resolves", t[i].spec)) {
			diag("%s", err ? err->msg : "?");
			uc_error_release(&err);
			continue;
		}
		ok((int)u.uid == t[i].uid && (int)u.gid == t[i].gid,
		   "  uid %u gid %u (want %d %d)", u.uid, u.gid, t[i].uid, t[i].gid);
		ok(u.n_groups == t[i].n_groups, "  %d supplementary groups (want %d)",
		   u.n_groups, t[i].n_groups);
		is_str(u.home, t[i].home, "  home");
	}
	{
		struct uc_user u;
		uc_error_t err = NULL;

		ok(user_resolve("app", passwd, group, &u, &err) == 0 && u.n_groups == 2 &&
		   u.groups[0] == 2000 && u.groups[1] == 2001,
		   "supplementary groups: those listing the user, not 'apple'");
		ok(user_resolve("1234", NULL, NULL, &u, &err) == 0 && u.uid == 1234 && u.gid == 0,
		   "numeric uid without a passwd file");
		ok(user_resolve("app", NULL, NULL, &u, &err) < 0, "a name without a passwd file fails");
		uc_error_release(&err);
	}
	return tap_done();
}
