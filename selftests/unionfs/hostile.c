// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corrupt and changing layers: malformed or looping redirect xattrs,
 * whiteouts of the wrong type, opaque xattrs with odd values, names at
 * NAME_MAX and paths past PATH_MAX, and layers changed underneath a live
 * mount. Nothing may oops or loop; each case asserts its defined result
 * (EIO for a corrupt redirect, the object as it is for anything that is not
 * exactly our format, the new state of the layers after a remount).
 */
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

FIXTURE(h) {
	struct ufs_env e;
};

FIXTURE_SETUP(h)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 2));
}

FIXTURE_TEARDOWN(h)
{
	ufs_env_fini(&self->e);
}

static char *P(const char *dir, const char *rel)
{
	return ufs_path(dir, "%s", rel);
}

/* Sorted, comma-separated names of a directory ("" when empty); NULL on error. */
static char *listing(const char *dir, const char *rel)
{
	static char buf[8192];
	char *names[256];
	struct dirent *de;
	char *path = P(dir, rel);
	int n = 0, i, j, off = 0;
	DIR *d = opendir(path);

	free(path);
	if (!d)
		return NULL;
	while ((de = readdir(d)) && n < 256) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
				i ? "," : "", names[i]);
		free(names[i]);
	}
	return buf;
}

static int set_redirect(const char *dir, const char *rel, const void *val,
			size_t len)
{
	char *p = P(dir, rel);
	int ret = setxattr(p, "trusted.unionfs.redirect", val, len, 0);

	free(p);
	return ret;
}

static int remount(struct ufs_env *e)
{
	if (e->mounted && umount2(e->mnt, 0))
		return -1;
	e->mounted = 0;
	return ufs_env_mount(e, 1, 0);
}

/* Count the entries below @dir; -1 past @limit (a loop would get there). */
static int walk_count(const char *dir, int limit)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, m;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++n > limit)
			break;
		if (de->d_type == DT_DIR) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			m = walk_count(path, limit - n);
			if (m < 0) {
				n = limit + 1;
				break;
			}
			n += m;
		}
	}
	closedir(d);
	return n > limit ? -1 : n;
}

/* Malformed redirects: the directory says EIO, its parent still works. */
TEST_F_TIMEOUT(h, malformed_redirect_is_eio, UFS_TEST_TIMEOUT)
{
	static const struct { const char *val; size_t len; } bad[] = {
		{ "", 0 }, { "/", 1 }, { "rel/ative", 9 }, { "/a//b", 5 },
		{ "/a/../b", 7 }, { "/a/./b", 6 }, { "/a/", 3 }, { "/..", 3 },
		{ "/.", 2 }, { "/a/..", 5 }, { "/a\0b", 4 }, { "../a", 4 },
	};
	struct ufs_env *e = &self->e;
	char name[32], *big;
	unsigned int i;

	ASSERT_EQ(0, ufs_put(e->lower[0], "a/x", "x"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "bad%u", i);
		ASSERT_EQ(0, ufs_mkdir_in(e->upper, name));
		ASSERT_EQ(0, set_redirect(e->upper, name, bad[i].val, bad[i].len));
	}
	/* longer than PATH_MAX */
	big = malloc(6000);
	ASSERT_NE(NULL, big);
	memset(big, 'a', 6000);
	big[0] = '/';
	ASSERT_EQ(0, ufs_mkdir_in(e->upper, "huge"));
	ASSERT_EQ(0, set_redirect(e->upper, "huge", big, 6000));
	free(big);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "bad%u", i);
		EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, name))
			TH_LOG("redirect '%.*s'", (int)bad[i].len, bad[i].val);
		/* and again, nothing was cached */
		EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, name));
	}
	EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, "huge"));
	EXPECT_NE(NULL, listing(e->mnt, ""));
	EXPECT_STREQ("x", ufs_get(e->mnt, "a/x"));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/*
 * Well-formed redirects that lead nowhere sensible: a missing path, a file,
 * a name longer than NAME_MAX, the directory itself, an ancestor, each
 * other. Defined results: missing or file = no lower part; the others show
 * the lower directory they name; every walk ends.
 */
TEST_F_TIMEOUT(h, odd_redirects_have_defined_results, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char longname[300];
	struct stat st;

	ASSERT_EQ(0, ufs_put(e->lower[1], "src/s1", "1"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "afile", "f"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "anc/child/c", "c"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "anc/a1", "a"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "x/xin", "x"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "y/yin", "y"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "self/sin", "s"));
	/* a redirect in a lower layer is not ours to follow */
	ASSERT_EQ(0, ufs_put(e->lower[0], "lowred/own", "o"));
	ASSERT_EQ(0, set_redirect(e->lower[0], "lowred", "/src", 4));

	ASSERT_EQ(0, ufs_put(e->upper, "missing/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "missing", "/nope/nope", 10));
	ASSERT_EQ(0, ufs_put(e->upper, "tofile/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "tofile", "/afile", 6));
	memset(longname, 'n', sizeof(longname));
	longname[0] = '/';
	ASSERT_EQ(0, ufs_put(e->upper, "toolong/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "toolong", longname, sizeof(longname)));
	ASSERT_EQ(0, ufs_put(e->upper, "self/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "self", "/self", 5));
	ASSERT_EQ(0, ufs_put(e->upper, "anc/child/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "anc/child", "/anc", 4));
	ASSERT_EQ(0, ufs_put(e->upper, "x/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "x", "/y", 2));
	ASSERT_EQ(0, ufs_put(e->upper, "y/u", "u"));
	ASSERT_EQ(0, set_redirect(e->upper, "y", "/x", 2));
	ASSERT_EQ(0, ufs_put(e->upper, "onfile", "regular file"));
	ASSERT_EQ(0, set_redirect(e->upper, "onfile", "/src", 4));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	EXPECT_STREQ("u", listing(e->mnt, "missing"));
	EXPECT_STREQ("u", listing(e->mnt, "tofile"));
	{
		int err = ufs_errno_of_lstat(e->mnt, "toolong");

		EXPECT_TRUE(err == 0 || err == ENAMETOOLONG || err == EIO)
			TH_LOG("redirect past NAME_MAX: %d", err);
		if (!err)
			EXPECT_STREQ("u", listing(e->mnt, "toolong"));
	}
	EXPECT_STREQ("sin,u", listing(e->mnt, "self"));
	EXPECT_STREQ("a1,child,u", listing(e->mnt, "anc/child"));
	/* the ancestor's child, as the lower has it, one level down */
	EXPECT_STREQ("c", listing(e->mnt, "anc/child/child"));
	EXPECT_STREQ("u,yin", listing(e->mnt, "x"));
	EXPECT_STREQ("u,xin", listing(e->mnt, "y"));
	EXPECT_STREQ("own", listing(e->mnt, "lowred"));
	EXPECT_STREQ("regular file", ufs_get(e->mnt, "onfile"));
	ASSERT_EQ(0, lstat(P(e->mnt, "onfile"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_LT(0, walk_count(e->mnt, 10000));
	/* the redirects are not shown, and a rename on top keeps working */
	EXPECT_EQ(-1, getxattr(P(e->mnt, "x"), "trusted.unionfs.redirect",
			       NULL, 0));
	EXPECT_EQ(0, rename(P(e->mnt, "x"), P(e->mnt, "x2")));
	EXPECT_STREQ("u,yin", listing(e->mnt, "x2"));
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("u,yin", listing(e->mnt, "x2"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "x"));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/* Only a character device 0/0 is a whiteout; anything else is itself. */
TEST_F_TIMEOUT(h, whiteouts_of_the_wrong_type_are_objects, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	const char *names[] = { "c13", "c01", "c10", "b00", "fifo" };
	unsigned int i;

	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, ufs_put(e->lower[1], names[i], "below"));
	ASSERT_EQ(0, mknod(P(e->lower[0], "c13"), S_IFCHR | 0600, makedev(1, 3)));
	ASSERT_EQ(0, mknod(P(e->lower[0], "c01"), S_IFCHR | 0600, makedev(0, 1)));
	ASSERT_EQ(0, mknod(P(e->lower[0], "c10"), S_IFCHR | 0600, makedev(1, 0)));
	ASSERT_EQ(0, mknod(P(e->lower[0], "b00"), S_IFBLK | 0600, makedev(0, 0)));
	ASSERT_EQ(0, mkfifo(P(e->lower[0], "fifo"), 0600));
	/* real whiteouts with extra baggage: an xattr, an odd mode */
	ASSERT_EQ(0, ufs_put(e->lower[1], "wx", "below"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], "wx"));
	ASSERT_EQ(0, setxattr(P(e->lower[0], "wx"), "trusted.unionfs.opaque",
			      "y", 1, 0));
	ASSERT_EQ(0, ufs_put(e->lower[1], "wmode", "below"));
	ASSERT_EQ(0, mknod(P(e->lower[0], "wmode"), S_IFCHR | 04777, makedev(0, 0)));
	/* a whiteout over a directory, and a directory "whiteout" in upper */
	ASSERT_EQ(0, ufs_put(e->lower[1], "wdir/in", "i"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], "wdir"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	ASSERT_EQ(0, lstat(P(e->mnt, "c13"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	ASSERT_EQ(0, lstat(P(e->mnt, "c01"), &st));
	EXPECT_EQ(makedev(0, 1), st.st_rdev);
	ASSERT_EQ(0, lstat(P(e->mnt, "c10"), &st));
	EXPECT_EQ(makedev(1, 0), st.st_rdev);
	ASSERT_EQ(0, lstat(P(e->mnt, "b00"), &st));
	EXPECT_TRUE(S_ISBLK(st.st_mode));
	ASSERT_EQ(0, lstat(P(e->mnt, "fifo"), &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "wx"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "wmode"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "wdir"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "wdir/in"));
	EXPECT_STREQ("b00,c01,c10,c13,fifo", listing(e->mnt, ""));
	/* the device impostors can be removed like any object */
	EXPECT_EQ(0, unlink(P(e->mnt, "c13")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "c13"));
	ASSERT_EQ(0, remount(e));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "c13"));
	EXPECT_STREQ("b00,c01,c10,fifo", listing(e->mnt, ""));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/* Opaque only with the value "y" exactly; elsewhere (files) ignored. */
TEST_F_TIMEOUT(h, opaque_xattr_odd_values, UFS_TEST_TIMEOUT)
{
	static const struct { const char *val; size_t len; int opaque; } v[] = {
		{ "y", 1, 1 }, { "", 0, 0 }, { "Y", 1, 0 }, { "yes", 3, 0 },
		{ "y\n", 2, 0 }, { "yy", 2, 0 }, { "\0", 1, 0 }, { "n", 1, 0 },
		{ "y\0", 2, 0 }, { "1", 1, 0 },
	};
	const char *xa[] = { "trusted.unionfs.opaque", "trusted.overlay.opaque" };
	struct ufs_env *e = &self->e;
	unsigned int i, x;
	char name[32];

	for (x = 0; x < 2; x++)
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			snprintf(name, sizeof(name), "o%u-%u/below", x, i);
			ASSERT_EQ(0, ufs_put(e->lower[1], name, "b"));
			snprintf(name, sizeof(name), "o%u-%u/top", x, i);
			ASSERT_EQ(0, ufs_put(e->lower[0], name, "t"));
			snprintf(name, sizeof(name), "o%u-%u", x, i);
			ASSERT_EQ(0, setxattr(P(e->lower[0], name), xa[x],
					      v[i].val, v[i].len, 0));
		}
	/* on a file: nothing to hide, the file is just a file */
	ASSERT_EQ(0, ufs_put(e->lower[0], "f", "file"));
	ASSERT_EQ(0, setxattr(P(e->lower[0], "f"), xa[0], "y", 1, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	for (x = 0; x < 2; x++)
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			snprintf(name, sizeof(name), "o%u-%u", x, i);
			EXPECT_STREQ(v[i].opaque ? "top" : "below,top",
				     listing(e->mnt, name))
				TH_LOG("%s = '%.*s'", xa[x], (int)v[i].len, v[i].val);
		}
	EXPECT_STREQ("file", ufs_get(e->mnt, "f"));
	/* copy-up of an odd-valued dir does not make it opaque */
	snprintf(name, sizeof(name), "o0-3/new");
	ASSERT_EQ(0, ufs_put(e->mnt, name, "n"));
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("below,new,top", listing(e->mnt, "o0-3"));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/* Names of NAME_MAX bytes through every operation; NAME_MAX + 1 refused. */
TEST_F_TIMEOUT(h, names_at_name_max, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char n1[NAME_MAX + 1], n2[NAME_MAX + 1], n3[NAME_MAX + 2];
	char rel[2 * NAME_MAX + 8];
	struct stat st;

	memset(n1, 'a', NAME_MAX);
	n1[NAME_MAX] = '\0';
	memset(n2, 'b', NAME_MAX);
	n2[NAME_MAX] = '\0';
	memset(n3, 'c', NAME_MAX + 1);
	n3[NAME_MAX + 1] = '\0';
	snprintf(rel, sizeof(rel), "%s/%s", n1, n1);
	ASSERT_EQ(0, ufs_put(e->lower[1], rel, "deep"));
	ASSERT_EQ(0, ufs_put(e->lower[1], n2, "file"));
	snprintf(rel, sizeof(rel), "%s/%s", n1, n2);
	ASSERT_EQ(0, ufs_put(e->lower[1], rel, "hidden"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], n1));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], rel));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	snprintf(rel, sizeof(rel), "%s/%s", n1, n1);
	EXPECT_STREQ("deep", ufs_get(e->mnt, rel));
	snprintf(rel, sizeof(rel), "%s/%s", n1, n2);
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, rel));
	EXPECT_STREQ(n1, listing(e->mnt, n1));
	EXPECT_EQ(ENAMETOOLONG, ufs_errno_of_lstat(e->mnt, n3));
	EXPECT_EQ(-1, mkdir(P(e->mnt, n3), 0755));
	EXPECT_EQ(ENAMETOOLONG, errno);
	/* copy-up, whiteout, redirect and rename with long names */
	snprintf(rel, sizeof(rel), "%s/%s", n1, n1);
	ASSERT_EQ(0, ufs_put(e->mnt, rel, "written"));
	ASSERT_EQ(0, unlink(P(e->mnt, n2)));
	EXPECT_EQ(0, lstat(P(e->upper, n2), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, rename(P(e->mnt, n1), P(e->mnt, n2)));
	EXPECT_EQ(-1, rename(P(e->mnt, n2), P(e->mnt, n3)));
	EXPECT_EQ(ENAMETOOLONG, errno);
	ASSERT_EQ(0, remount(e));
	snprintf(rel, sizeof(rel), "%s/%s", n2, n1);
	EXPECT_STREQ("written", ufs_get(e->mnt, rel));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, n1));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/*
 * A lower directory deeper than PATH_MAX renamed through the union: its
 * redirect would not fit. Either the rename is refused (the directory
 * stays), or it works and the content follows across a remount.
 */
TEST_F_TIMEOUT(h, rename_of_dir_deeper_than_path_max, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char name[NAME_MAX + 1];
	int fd, dfd, i, depth = 17, err;

	memset(name, 'd', NAME_MAX);
	name[NAME_MAX] = '\0';
	dfd = open(e->lower[1], O_DIRECTORY | O_RDONLY);
	ASSERT_LE(0, dfd);
	for (i = 0; i < depth; i++) {
		ASSERT_EQ(0, mkdirat(dfd, name, 0755));
		fd = openat(dfd, name, O_DIRECTORY | O_RDONLY);
		ASSERT_LE(0, fd);
		close(dfd);
		dfd = fd;
	}
	ASSERT_EQ(0, mkdirat(dfd, "leaf", 0755));
	fd = openat(dfd, "leaf/f", O_CREAT | O_WRONLY, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	close(dfd);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	/* walk down through the union, rename the leaf's parent there */
	dfd = open(e->mnt, O_DIRECTORY | O_RDONLY);
	ASSERT_LE(0, dfd);
	for (i = 0; i < depth - 1; i++) {
		fd = openat(dfd, name, O_DIRECTORY | O_RDONLY);
		ASSERT_LE(0, fd);
		close(dfd);
		dfd = fd;
	}
	err = renameat(dfd, name, dfd, "moved") ? errno : 0;
	EXPECT_TRUE(err == 0 || err == EXDEV || err == ENAMETOOLONG)
		TH_LOG("rename: %d", err);
	close(dfd);
	ASSERT_EQ(0, remount(e));
	dfd = open(e->mnt, O_DIRECTORY | O_RDONLY);
	ASSERT_LE(0, dfd);
	for (i = 0; i < depth - 1; i++) {
		fd = openat(dfd, name, O_DIRECTORY | O_RDONLY);
		ASSERT_LE(0, fd);
		close(dfd);
		dfd = fd;
	}
	{
		char rel[NAME_MAX + 16];

		/* renamed: under its new name; refused: where it was */
		snprintf(rel, sizeof(rel), "%s/leaf/f", err ? name : "moved");
		fd = openat(dfd, rel, O_RDONLY);
	}
	EXPECT_LE(0, fd) TH_LOG("content lost after rename (err %d): %d", err, errno);
	if (fd >= 0)
		close(fd);
	close(dfd);
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/*
 * What an operation on a name whose layers changed underneath may return:
 * success, the name being gone (ENOENT), or a clean refusal to trust what
 * changed (ESTALE, EIO); plus @also, the one errno the new shape of the
 * layers explains (a file that became a directory: EISDIR; ...), or 0.
 */
static int allowed_also(int err, int also)
{
	return err == 0 || err == ENOENT || err == ESTALE || err == EIO ||
	       (also && err == also);
}

static int allowed(int err)
{
	return allowed_also(err, 0);
}

/*
 * A directory listing of DIR/REL under changed layers: opendir fails
 * cleanly, or every name it lists can be looked up (a listed name that
 * lstat does not find is a stale listing). Returns the number of names
 * listed that are missing, and logs them.
 */
static int listing_stale(struct __test_metadata *_metadata, const char *dir,
			 const char *rel, int also)
{
	char *path = P(dir, rel);
	DIR *d = opendir(path);
	struct dirent *de;
	struct stat st;
	int stale = 0, err;

	if (!d) {
		err = errno;
		EXPECT_TRUE(allowed_also(err, also))
			TH_LOG("opendir %s: %s", rel, strerror(err));
		free(path);
		return 0;
	}
	while ((de = readdir(d))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = P(path, de->d_name);
		if (lstat(p, &st) && errno == ENOENT) {
			TH_LOG("%s lists '%s', which lstat does not find", rel, de->d_name);
			stale++;
		}
		free(p);
	}
	closedir(d);
	free(path);
	return stale;
}

static int try_read(const char *dir, const char *rel)
{
	char *p = P(dir, rel), buf[64];
	int fd = open(p, O_RDONLY), err = 0;

	free(p);
	if (fd < 0)
		return errno;
	if (read(fd, buf, sizeof(buf)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int try_write(const char *dir, const char *rel)
{
	char *p = P(dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644), err = 0;

	free(p);
	if (fd < 0)
		return errno;
	if (write(fd, "w", 1) != 1)
		err = errno;
	close(fd);
	return err;
}

/*
 * Layers changed behind the union's back while it is mounted and has
 * looked at them: every operation returns success or a clean errno, and a
 * remount shows the layers as they now are.
 */
TEST_F_TIMEOUT(h, layers_changed_under_live_mount, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	int fd, err;
	const char *got;
	char *lst;
	int renamed;

	ASSERT_EQ(0, ufs_put(e->lower[1], "gone-file", "g"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "gone-dir/a/b", "b"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "swap", "file"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "dir/keep", "k"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "upgone", "lower"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	/* look at everything; copy some of it up; keep a file open */
	EXPECT_STREQ("g", ufs_get(e->mnt, "gone-file"));
	EXPECT_STREQ("b", ufs_get(e->mnt, "gone-dir/a/b"));
	EXPECT_STREQ("file", ufs_get(e->mnt, "swap"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "dir/later"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "newdir"));
	ASSERT_EQ(0, ufs_put(e->mnt, "upgone", "upper"));
	ASSERT_EQ(0, ufs_put(e->mnt, "dir/up", "u"));
	EXPECT_NE(NULL, listing(e->mnt, "dir"));
	fd = open(P(e->mnt, "gone-file"), O_RDONLY);
	ASSERT_LE(0, fd);

	/* now change the layers underneath */
	ASSERT_EQ(0, unlink(P(e->lower[1], "gone-file")));
	ufs_rm_rf(P(e->lower[1], "gone-dir"));
	ASSERT_EQ(0, unlink(P(e->lower[1], "swap")));
	ASSERT_EQ(0, ufs_put(e->lower[1], "swap/inside", "i"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "dir/later", "l"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "newdir/n", "n"));
	ASSERT_EQ(0, unlink(P(e->upper, "upgone")));
	ASSERT_EQ(0, unlink(P(e->upper, "dir/up")));
	ASSERT_EQ(0, rmdir(P(e->upper, "dir")));
	ASSERT_EQ(0, ufs_put(e->upper, "dir", "now a file in the upper"));

	/* the open file keeps working, or fails cleanly */
	{
		char buf[8];
		ssize_t n = read(fd, buf, sizeof(buf));

		EXPECT_TRUE((n == 1 && buf[0] == 'g') || (n < 0 && allowed(errno)))
			TH_LOG("read of the open gone-file: %zd (%s)", n, n < 0 ? strerror(errno) : "");
		close(fd);
	}
	/* everything returns something sane */
	err = ufs_errno_of_lstat(e->mnt, "gone-file");
	EXPECT_TRUE(allowed(err)) TH_LOG("stat gone-file: %d", err);
	err = try_read(e->mnt, "gone-file");
	EXPECT_TRUE(allowed(err)) TH_LOG("read gone-file: %d", err);
	err = try_write(e->mnt, "gone-file");
	EXPECT_TRUE(allowed(err)) TH_LOG("write gone-file: %d", err);
	err = try_read(e->mnt, "gone-dir/a/b");
	EXPECT_TRUE(allowed(err)) TH_LOG("read gone-dir/a/b: %d", err);
	err = try_write(e->mnt, "gone-dir/a/new");
	EXPECT_TRUE(allowed(err)) TH_LOG("create in gone-dir/a: %d", err);
	lst = listing(e->mnt, "gone-dir");
	(void)lst;
	err = try_read(e->mnt, "swap");
	EXPECT_TRUE(allowed_also(err, EISDIR)) TH_LOG("read swap: %d", err);
	err = try_read(e->mnt, "swap/inside");
	EXPECT_TRUE(allowed_also(err, ENOTDIR)) TH_LOG("read swap/inside: %d", err);
	err = try_read(e->mnt, "upgone");
	EXPECT_TRUE(allowed(err)) TH_LOG("read upgone: %d", err);
	err = try_write(e->mnt, "upgone");
	EXPECT_TRUE(allowed(err)) TH_LOG("write upgone: %d", err);
	err = try_write(e->mnt, "dir/new");
	EXPECT_TRUE(allowed_also(err, ENOTDIR)) TH_LOG("create in dir: %d", err);
	lst = listing(e->mnt, "dir");	/* (whether it is fresh: listing_follows_layer_changes) */
	(void)lst;
	err = unlink(P(e->mnt, "gone-file")) ? errno : 0;
	EXPECT_TRUE(allowed(err)) TH_LOG("unlink gone-file: %d", err);
	err = rename(P(e->mnt, "swap"), P(e->mnt, "swapped")) ? errno : 0;
	EXPECT_TRUE(allowed_also(err, EXDEV)) TH_LOG("rename swap: %d", err);
	renamed = err;
	EXPECT_LT(0, walk_count(e->mnt, 10000));

	/* a fresh mount sees the layers as they are now */
	ASSERT_EQ(0, remount(e));
	ASSERT_EQ(0, lstat(P(e->mnt, "dir"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_STREQ("n", ufs_get(e->mnt, "newdir/n"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "gone-dir/a/b"));
	/* the upper's file hides the lower directory of the same name */
	got = ufs_get(e->mnt, "dir");
	EXPECT_TRUE(got && !strcmp(got, "now a file in the upper")) TH_LOG("dir: %s", got);
	/* a refused rename left the lower's new directory in place */
	if (renamed) {
		got = ufs_get(e->mnt, "swap/inside");
		EXPECT_TRUE(got && !strcmp(got, "i")) TH_LOG("swap/inside: %s", got);
	}
	/* a fresh mount lists only names it can look up */
	EXPECT_EQ(0, listing_stale(_metadata, e->mnt, "", 0));
	EXPECT_EQ(0, listing_stale(_metadata, e->mnt, "newdir", 0));
}

/*
 * A listing under changed layers names only what lookup finds: a name
 * added to a lower directly (after the union looked it up and found
 * nothing), and one removed from under a directory the union has listed.
 */
TEST_F_TIMEOUT(h, listing_follows_layer_changes, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	PENDING("issue 14 item 19: the merged listing outlives changes it cannot see");
	ASSERT_EQ(0, ufs_put(e->lower[1], "dir/keep", "k"));
	ASSERT_EQ(0, ufs_put(e->upper, "dir/up", "u"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "newdir"));
	EXPECT_NE(NULL, listing(e->mnt, "dir"));
	EXPECT_NE(NULL, listing(e->mnt, ""));

	ASSERT_EQ(0, ufs_put(e->lower[0], "newdir/n", "n"));
	ASSERT_EQ(0, unlink(P(e->lower[1], "dir/keep")));
	ASSERT_EQ(0, unlink(P(e->upper, "dir/up")));
	ASSERT_EQ(0, rmdir(P(e->upper, "dir")));
	ASSERT_EQ(0, ufs_put(e->upper, "dir", "now a file in the upper"));

	EXPECT_EQ(0, listing_stale(_metadata, e->mnt, "", 0));
	EXPECT_EQ(0, listing_stale(_metadata, e->mnt, "dir", ENOTDIR));
}

/* An upper file marked metacopy with @size bytes of hole, data in lower0. */
static int put_metacopy(struct ufs_env *e, const char *rel, const char *data)
{
	char *up = P(e->upper, rel);
	int ret = -1;

	if (ufs_put(e->lower[0], rel, data) || ufs_put(e->upper, rel, ""))
		goto out;
	if (truncate(up, strlen(data)) ||
	    setxattr(up, "trusted.unionfs.metacopy", "", 0, 0))
		goto out;
	ret = 0;
out:
	free(up);
	return ret;
}

/* Read all of DIR/REL: its bytes (static), or NULL with errno. */
static const char *read_all(const char *dir, const char *rel)
{
	static char buf[256];
	char *p = P(dir, rel);
	int fd = open(p, O_RDONLY);
	ssize_t n;

	free(p);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return NULL;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/*
 * A metacopy upper file with a second name in an opaque directory (there
 * is no lower data of that name): the union never makes one (a link copies
 * the data up first), so it is corrupt. Whichever name is looked up first,
 * the marked name is EIO, nothing oopses, and no name reads the wrong
 * bytes (the other name shows the upper file as it is: a hole).
 */
TEST_F_TIMEOUT(h, metacopy_hardlink_in_opaque_dir_is_eio, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *got;
	struct stat st;
	int order;

	ASSERT_EQ(0, put_metacopy(e, "d/f", "lowerdata"));
	ASSERT_EQ(0, ufs_mkdir_in(e->upper, "o"));
	ASSERT_EQ(0, ufs_set_opaque(e->upper, "o", NULL));
	ASSERT_EQ(0, link(P(e->upper, "d/f"), P(e->upper, "o/link")));
	for (order = 0; order < 2; order++) {
		ASSERT_EQ(0, order ? remount(e) : ufs_env_mount(e, 1, 0));
		if (order) {
			/* the unmarked name first */
			ASSERT_EQ(0, lstat(P(e->mnt, "o/link"), &st));
			EXPECT_EQ(9, st.st_size);
		}
		EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, "d/f"));
		EXPECT_EQ(NULL, read_all(e->mnt, "d/f"));
		EXPECT_EQ(EIO, errno);
		/* the old code oopsed here (unionfs_getattr, real[1]) */
		ASSERT_EQ(0, lstat(P(e->mnt, "o/link"), &st));
		EXPECT_EQ(9, st.st_size);
		got = read_all(e->mnt, "o/link");
		ASSERT_NE(NULL, got) TH_LOG("read o/link: %s", strerror(errno));
		EXPECT_EQ(0, memcmp(got, "\0\0\0\0\0\0\0\0\0", 9));
	}
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/*
 * The same upper file, marked, with lower data under both names (two
 * directories that have lower data of that name): EIO for both, never one
 * name's lower data read through the other.
 */
TEST_F_TIMEOUT(h, metacopy_hardlink_with_two_lowers_is_eio, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, put_metacopy(e, "a/f", "AAAAAAAA"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "b/f", "BBBBBBBB"));
	ASSERT_EQ(0, ufs_mkdir_in(e->upper, "b"));
	ASSERT_EQ(0, link(P(e->upper, "a/f"), P(e->upper, "b/f")));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_EQ(NULL, read_all(e->mnt, "a/f"));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(NULL, read_all(e->mnt, "b/f"));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, "b/f"));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

TEST_HARNESS_MAIN
