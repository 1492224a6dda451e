// SPDX-License-Identifier: GPL-2.0
/*
 * unionfs-mount recognises the same union already mounted on its target
 * (from a mountinfo text) by the layers' directories, and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "request.h"
#include "stacked.h"

static char root[] = "/tmp/um-stacked.XXXXXX";

static char *P(const char *rel)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
	return buf[i];
}

/* The request for TARGET with lowers L ("a:b"), upper and work (or NULL). */
static void request(struct um_request *req, const char *target, const char *lowers,
		    const char *upper, const char *work)
{
	struct um_error err;
	char *l = strdup(lowers), *save, *t;

	memset(req, 0, sizeof(*req));
	req->target = strdup(P(target));
	for (t = strtok_r(l, ":", &save); t; t = strtok_r(NULL, ":", &save))
		um_request_add(req, "lowerdir+", P(t), &err);
	if (upper) {
		um_request_add(req, "upperdir", P(upper), &err);
		um_request_add(req, "workdir", P(work), &err);
		req->has_upper = req->has_work = true;
	}
	free(l);
}

/* One mountinfo line for TARGET of type FSTYPE with super options OPTS. */
static int same(const struct um_request *req, const char *lines)
{
	struct um_error err = { "" };
	FILE *f = fmemopen((void *)lines, strlen(lines), "r");
	int ret = um_same_union_mounted(f, req, &err);

	fclose(f);
	return ret;
}

static char *line(const char *fstype, const char *target, const char *opts)
{
	static char buf[4][2048];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]),
		 "99 1 0:55 / %s rw,relatime shared:7 - %s unionfs rw,%s\n",
		 P(target), fstype, opts);
	return buf[i];
}

int main(void)
{
	const char *dirs[] = { "a", "b", "c", "up", "wk", "mnt", "odd dir,x", "l" };
	char opts[2048], two[4096];
	struct um_request req, ro;
	size_t i;

	if (!mkdtemp(root)) {
		tap_skip_all("mkdtemp failed");
		return 1;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(P(dirs[i]), 0755);
	/* an l/ short link, as the driver passes lowers */
	ok(symlink(P("a"), P("l/A")) == 0, "a short link l/A to a");

	request(&req, "mnt", "l/A:b", "up", "wk");
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s,metacopy=off,aufs_whiteouts",
		 P("a"), P("b"), P("up"), P("wk"));
	ok(same(&req, line("unionfs", "mnt", opts)) == 1,
	   "the same layers (a lower through a short link) on the target: the same union");
	ok(same(&req, line("overlay", "mnt", opts)) == 0, "an overlay mount there: not ours");
	ok(same(&req, line("unionfs", "a", opts)) == 0, "the union mounted elsewhere: no");
	ok(same(&req, "") == 0, "nothing mounted: no");

	snprintf(two, sizeof(two), "%s%s", line("unionfs", "mnt", opts), line("tmpfs", "mnt", "size=1k"));
	ok(same(&req, two) == 0, "the union covered by another mount on the target: no");
	snprintf(two, sizeof(two), "%s%s", line("tmpfs", "mnt", "size=1k"), line("unionfs", "mnt", opts));
	ok(same(&req, two) == 1, "the union on top of another mount on the target: yes");

	snprintf(opts, sizeof(opts), "lowerdir=%s:%s:%s,upperdir=%s,workdir=%s",
		 P("a"), P("b"), P("c"), P("up"), P("wk"));
	ok(same(&req, line("unionfs", "mnt", opts)) == 0, "one more layer mounted: no");
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", P("a"), P("up"), P("wk"));
	ok(same(&req, line("unionfs", "mnt", opts)) == 0, "one layer fewer mounted: no");
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s", P("b"), P("a"), P("up"), P("wk"));
	ok(same(&req, line("unionfs", "mnt", opts)) == 0, "the layers in another order: no");
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s", P("a"), P("b"), P("c"), P("wk"));
	ok(same(&req, line("unionfs", "mnt", opts)) == 0, "another upper: no");
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", P("a"), P("b"));
	ok(same(&req, line("unionfs", "mnt", opts)) == 0, "a read-only union of the same lowers: no");

	request(&ro, "mnt", "a:b", NULL, NULL);
	ok(same(&ro, line("unionfs", "mnt", opts)) == 1, "read-only, the same lowers: yes");
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s", P("a"), P("b"), P("up"), P("wk"));
	ok(same(&ro, line("unionfs", "mnt", opts)) == 0, "read-only asked, a writable union there: no");
	um_request_release(&ro);

	/* escapes: ',' as \054 in any path, ':' and '\' as \: and \\ in lowerdir */
	request(&ro, "mnt", "odd dir,x:b", NULL, NULL);
	snprintf(opts, sizeof(opts), "lowerdir=%s/odd\\040dir\\054x:%s", root, P("b"));
	ok(same(&ro, line("unionfs", "mnt", opts)) == 1, "escaped ' ' and ',' in a lower: decoded");
	um_request_release(&ro);

	um_request_release(&req);
	for (i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
		unlink(P("l/A"));
		rmdir(P(dirs[i]));
	}
	rmdir(root);
	return tap_done();
}
