// SPDX-License-Identifier: GPL-2.0
/*
 * The fd-based tree copy (tree.c): what it keeps (owners, modes with
 * set-id bits, times, xattrs on files and symlinks, hard links, symlinks,
 * fifos, the opaque marker under both names) and what it refuses to do: a
 * destination name that is a symlink (to a directory or a file outside) is
 * never written or chmod-ed through, and a destination directory is never
 * opened through one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tap.h"
#include "tree.h"
#include "utils.h"

static char tmp[] = "/tmp/uc-tree-test.XXXXXX";

static void sh(const char *fmt, const char *arg)
{
	char *cmd = xasprintf(fmt, arg, arg, arg, arg, arg, arg, arg, arg);

	if (system(cmd) != 0)
		diag("command failed: %s", cmd);
	free(cmd);
}

static int lstat_at(const char *dir, const char *rel, struct stat *st)
{
	char *p = xasprintf("%s/%s", dir, rel);
	int r = lstat(p, st);

	free(p);
	return r;
}

static char *xattr_of(const char *dir, const char *rel, const char *name)
{
	char *p = xasprintf("%s/%s", dir, rel), v[64];
	ssize_t n = lgetxattr(p, name, v, sizeof(v) - 1);

	free(p);
	if (n < 0)
		return NULL;
	v[n] = '\0';
	return xstrdup(v);
}

static void test_keeps(const char *src, const char *dst)
{
	struct stat st, a, b;
	uc_error_t err = NULL;
	char *v;

	sh("mkdir -p %s/d/sub %s/opq && echo data > %s/d/file && ln %s/d/file %s/d/hard && "
	   "ln -s /etc/passwd %s/d/link && mkfifo %s/d/fifo && touch %s/suid", src);
	sh("chown 1234:5678 %s/d/file %s/d/sub && chmod 4750 %s/suid && chmod 0700 %s/d/sub && "
	   "touch -h -d '2001-02-03 04:05:06' %s/d/link %s/d/file && chmod 0751 %s", src);
	sh("setfattr -n trusted.uctest -v onfile %s/d/file && "
	   "setfattr -h -n trusted.uctest -v onlink %s/d/link && "
	   "setfattr -n trusted.overlay.opaque -v y %s/opq && "
	   "setfattr -n trusted.overlay.origin -v x %s/opq", src);
	ok(copy_dir_contents(src, dst, &err) == 0, "copy a tree");
	if (err)
		diag("%s", err->msg);
	uc_error_release(&err);
	ok(lstat_at(dst, "d/file", &st) == 0 && st.st_uid == 1234 && st.st_gid == 5678 &&
	   st.st_mtim.tv_sec == 981173106, "owner and mtime kept");
	ok(lstat_at(dst, "suid", &st) == 0 && (st.st_mode & 07777) == 04750,
	   "set-uid bit kept (mode set after the owner)");
	ok(lstat_at(dst, "d/sub", &st) == 0 && S_ISDIR(st.st_mode) &&
	   (st.st_mode & 07777) == 0700 && st.st_uid == 1234, "directory mode and owner kept");
	ok(lstat_at(dst, ".", &st) == 0 && (st.st_mode & 07777) == 0751,
	   "the top's mode goes onto the destination");
	ok(lstat_at(dst, "d/file", &a) == 0 && lstat_at(dst, "d/hard", &b) == 0 &&
	   a.st_ino == b.st_ino && a.st_nlink == 2, "hard links stay one inode");
	ok(lstat_at(dst, "d/link", &st) == 0 && S_ISLNK(st.st_mode) &&
	   st.st_mtim.tv_sec == 981173106, "symlink copied as a symlink, its own mtime kept");
	ok(lstat_at(dst, "d/fifo", &st) == 0 && S_ISFIFO(st.st_mode), "fifo copied");
	v = xattr_of(dst, "d/file", "trusted.uctest");
	is_str(v, "onfile", "xattr of a file kept");
	free(v);
	v = xattr_of(dst, "d/link", "trusted.uctest");
	is_str(v, "onlink", "xattr of a symlink kept");
	free(v);
	v = xattr_of(dst, "opq", "trusted.unionfs.opaque");
	is_str(v, "y", "the overlay opaque marker is written for unionfs too");
	free(v);
	v = xattr_of(dst, "opq", "trusted.overlay.origin");
	ok(!v, "other private overlay xattrs dropped");
	free(v);
}

/* A destination that already holds symlinks where the source has entries. */
static void test_no_follow(const char *src, const char *dst, const char *outside)
{
	uc_error_t err = NULL;
	struct stat st;

	sh("mkdir -p %s/d && echo x > %s/d/f && echo y > %s/file && chmod 0777 %s/file", src);
	sh("mkdir -p %s/dir && echo keep > %s/victim && chmod 0600 %s/victim", outside);
	{
		char *l1 = xasprintf("%s/dir", outside), *p1 = xasprintf("%s/d", dst);
		char *l2 = xasprintf("%s/victim", outside), *p2 = xasprintf("%s/file", dst);

		ok(symlink(l1, p1) == 0 && symlink(l2, p2) == 0, "destination names are symlinks out");
		free(l1);
		free(p1);
		free(l2);
		free(p2);
	}
	ok(copy_dir_contents(src, dst, &err) < 0 && err, "copy over them fails");
	if (err)
		diag("%s", err->msg);
	uc_error_release(&err);
	ok(lstat_at(outside, "dir/f", &st) < 0 && errno == ENOENT,
	   "nothing written into the directory a symlink points at");
	ok(lstat_at(outside, "victim", &st) == 0 && (st.st_mode & 07777) == 0600 &&
	   st.st_size == 5, "the file a symlink points at keeps its mode and content");
}

/* copy_dir_contents refuses a destination that is itself a symlink. */
static void test_dst_symlink(const char *src, const char *outside)
{
	char *link = xasprintf("%s/dstlink", tmp);
	uc_error_t err = NULL;

	ok(symlink(outside, link) == 0, "a destination path that is a symlink");
	ok(copy_dir_contents(src, link, &err) < 0 && err &&
	   (err->errno_ == ELOOP || err->errno_ == ENOTDIR), "refused (not followed)");
	uc_error_release(&err);
	free(link);
}

int main(void)
{
	char *src, *dst, *src2, *dst2, *outside;

	if (geteuid() != 0) {
		tap_skip_all("needs root (owners, trusted xattrs)");
		return 0;
	}
	if (!mkdtemp(tmp)) {
		tap_skip_all("mkdtemp failed");
		return 0;
	}
	src = xasprintf("%s/src", tmp);
	dst = xasprintf("%s/dst", tmp);
	src2 = xasprintf("%s/src2", tmp);
	dst2 = xasprintf("%s/dst2", tmp);
	outside = xasprintf("%s/outside", tmp);
	sh("mkdir -p %s", src);
	sh("mkdir -p %s", dst);
	sh("mkdir -p %s", src2);
	sh("mkdir -p %s", dst2);
	sh("mkdir -p %s", outside);
	test_keeps(src, dst);
	test_no_follow(src2, dst2, outside);
	test_dst_symlink(src2, outside);
	sh("rm -rf %s", tmp);
	free(src);
	free(dst);
	free(src2);
	free(dst2);
	free(outside);
	return tap_done();
}
