// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lookup across layers: top wins, directories merge, whiteouts and opaque
 * directories hide what is below, overlayfs-format layers work as they are,
 * internal xattrs stay invisible.
 */
#include "ufs_test.h"
#include "kselftest_harness.h"

FIXTURE(lookup) {
	struct ufs_env e;
};

FIXTURE_SETUP(lookup)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 3));
	/* lower0 is the top lower layer, lower2 the bottom one. */
	ASSERT_EQ(0, ufs_put(e->lower[2], "f", "bottom"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "f", "middle"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "only-bottom", "b"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/a", "a2"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/b", "b1"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/c", "c0"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/a-shadowed", "old"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/a-shadowed", "new"));
	/* whiteouts */
	ASSERT_EQ(0, ufs_put(e->lower[2], "gone", "x"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[1], "gone"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "back", "top"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[1], "back"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "back", "bottom"));
	/* opaque dirs, ours and overlayfs's */
	ASSERT_EQ(0, ufs_put(e->lower[2], "op/hidden", "h"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "op/shown", "s"));
	ASSERT_EQ(0, ufs_set_opaque(e->lower[1], "op", NULL));
	ASSERT_EQ(0, ufs_put(e->lower[2], "ovop/hidden", "h"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "ovop/shown", "s"));
	ASSERT_EQ(0, ufs_set_opaque(e->lower[0], "ovop", "trusted.overlay.opaque"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "notop/below", "b"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], "notop"));
	ASSERT_EQ(0, setxattr(ufs_path(e->lower[0], "notop"),
			      "trusted.unionfs.opaque", "n", 1, 0));
	/* type conflicts */
	ASSERT_EQ(0, ufs_put(e->lower[2], "fod/inside", "i"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "fod", "file-over-dir"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "dof", "dir-over-file"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "dof/inside", "i"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "deep/x/y/z", "deep"));
	ASSERT_EQ(0, ufs_env_mount(e, 0, 0));
}

FIXTURE_TEARDOWN(lookup)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

TEST_F_TIMEOUT(lookup, topmost_file_wins, UFS_TEST_TIMEOUT)
{
	EXPECT_STREQ("middle", ufs_get(self->e.mnt, "f"));
	EXPECT_STREQ("b", ufs_get(self->e.mnt, "only-bottom"));
}

TEST_F_TIMEOUT(lookup, directories_merge, UFS_TEST_TIMEOUT)
{
	EXPECT_STREQ("a2", ufs_get(self->e.mnt, "d/a"));
	EXPECT_STREQ("b1", ufs_get(self->e.mnt, "d/b"));
	EXPECT_STREQ("c0", ufs_get(self->e.mnt, "d/c"));
	EXPECT_STREQ("new", ufs_get(self->e.mnt, "d/a-shadowed"));
	EXPECT_STREQ("deep", ufs_get(self->e.mnt, "deep/x/y/z"));
}

TEST_F_TIMEOUT(lookup, whiteout_hides_below_and_is_invisible, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "gone"));
	/* Above the whiteout, the name shows the upper layer's file. */
	EXPECT_STREQ("top", ufs_get(self->e.mnt, "back"));
	/* On disk the whiteout is a 0/0 character device. */
	{
		struct stat st;

		ASSERT_EQ(0, lstat(ufs_path(self->e.lower[1], "gone"), &st));
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(0, st.st_rdev);
	}
}

TEST_F_TIMEOUT(lookup, opaque_dir_hides_below, UFS_TEST_TIMEOUT)
{
	EXPECT_STREQ("s", ufs_get(self->e.mnt, "op/shown"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "op/hidden"));
}

TEST_F_TIMEOUT(lookup, overlay_opaque_honoured, UFS_TEST_TIMEOUT)
{
	EXPECT_STREQ("s", ufs_get(self->e.mnt, "ovop/shown"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "ovop/hidden"));
}

TEST_F_TIMEOUT(lookup, opaque_value_other_than_y_does_not_hide, UFS_TEST_TIMEOUT)
{
	EXPECT_STREQ("b", ufs_get(self->e.mnt, "notop/below"));
}

TEST_F_TIMEOUT(lookup, file_over_dir_hides_dir, UFS_TEST_TIMEOUT)
{
	struct stat st;

	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "fod"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_STREQ("file-over-dir", ufs_get(self->e.mnt, "fod"));
	EXPECT_EQ(ENOTDIR, ufs_errno_of_lstat(self->e.mnt, "fod/inside"));
}

TEST_F_TIMEOUT(lookup, dir_over_file_hides_file, UFS_TEST_TIMEOUT)
{
	struct stat st;

	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "dof"), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_STREQ("i", ufs_get(self->e.mnt, "dof/inside"));
}

TEST_F_TIMEOUT(lookup, missing_name_is_enoent, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "nope"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/nope"));
	/* and again, from the negative dentry */
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "nope"));
}

TEST_F_TIMEOUT(lookup, private_xattrs_invisible, UFS_TEST_TIMEOUT)
{
	char names[4096], val[16];
	ssize_t len, n;
	char *op = ufs_path(self->e.mnt, "op");
	char *ovop = ufs_path(self->e.mnt, "ovop");

	EXPECT_EQ(-1, getxattr(op, "trusted.unionfs.opaque", val, sizeof(val)));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, getxattr(ovop, "trusted.overlay.opaque", val, sizeof(val)));
	EXPECT_EQ(ENODATA, errno);
	len = listxattr(op, names, sizeof(names));
	ASSERT_GE(len, 0);
	for (n = 0; n < len; n += strlen(names + n) + 1) {
		EXPECT_EQ(NULL, strstr(names + n, "unionfs"));
		EXPECT_EQ(NULL, strstr(names + n, "overlay"));
	}
	/* listxattr size query agrees with the filtered list */
	EXPECT_EQ(len, listxattr(op, NULL, 0));
	free(op);
	free(ovop);
}

TEST_F_TIMEOUT(lookup, private_xattrs_not_settable, UFS_TEST_TIMEOUT)
{
	char *op = ufs_path(self->e.mnt, "op");

	EXPECT_EQ(-1, setxattr(op, "trusted.unionfs.opaque", "n", 1, 0));
	EXPECT_EQ(-1, removexattr(op, "trusted.unionfs.opaque"));
	free(op);
}

TEST_F_TIMEOUT(lookup, user_xattr_readable, UFS_TEST_TIMEOUT)
{
	char val[16] = "";
	char *f = ufs_path(self->e.lower[1], "f");
	char *uf = ufs_path(self->e.mnt, "f");

	if (setxattr(f, "user.color", "blue", 4, 0))
		SKIP(return, "backing fs has no user xattrs");
	/* The union caches nothing about xattrs: the new value shows. */
	EXPECT_EQ(4, getxattr(uf, "user.color", val, sizeof(val)));
	EXPECT_EQ(0, memcmp(val, "blue", 4));
	removexattr(f, "user.color");
	/* keep the fingerprint check honest: we changed the lower ourselves */
	self->e.fp[1] = ufs_fingerprint(self->e.lower[1]);
	free(f);
	free(uf);
}

TEST_F_TIMEOUT(lookup, union_is_read_only_without_upper, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(-1, open(ufs_path(self->e.mnt, "f"), O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mkdir(ufs_path(self->e.mnt, "newdir"), 0755));
	EXPECT_EQ(EROFS, errno);
	/* a read-write remount is EROFS, as overlayfs's (fstests overlay/035) */
	EXPECT_EQ(-1, mount(NULL, self->e.mnt, NULL, MS_REMOUNT, NULL));
	EXPECT_EQ(EROFS, errno);
}

/* --- the lookup index (a current listing answers lookups) --- */

static long long ctr(struct ufs_env *e, const char *name)
{
	return ufs_counter(e->mnt, name);
}

/* List @rel through the union; the number of entries, or -1. */
static int list_dir(struct ufs_env *e, const char *rel)
{
	char *p = ufs_path(e->mnt, "%s", rel);
	DIR *d = opendir(p);
	int n = 0;

	free(p);
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

/*
 * Where a directory's stamp is its times, a listing read in the tick of
 * its last change is not kept: let the setup's changes age.
 */
static void let_changes_age(void)
{
	usleep(30 * 1000);
}

/* After a readdir, lookups ask only the layer that has the name, or none. */
TEST_F_TIMEOUT(lookup, index_answers_lookups_after_readdir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	long long layers, hits, negatives;

	let_changes_age();
	ASSERT_EQ(4, list_dir(e, "d"));	/* a a-shadowed b c */
	layers = ctr(e, "lookup_layers");
	hits = ctr(e, "index_hits");
	negatives = ctr(e, "index_negatives");
	ASSERT_LE(0, layers);
	EXPECT_STREQ("a2", ufs_get(e->mnt, "d/a"));	/* bottom layer */
	EXPECT_STREQ("b1", ufs_get(e->mnt, "d/b"));
	EXPECT_STREQ("new", ufs_get(e->mnt, "d/a-shadowed"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "d/none"));
	EXPECT_EQ(hits + 3, ctr(e, "index_hits"));
	EXPECT_EQ(negatives + 1, ctr(e, "index_negatives"));
	/* one layer each, none for the missing name (9 without the index) */
	EXPECT_EQ(layers + 3, ctr(e, "lookup_layers"));
}

/*
 * Changes made to the layers directly after the listing was read are seen
 * by the next lookup: a file put above the one listed, a new name, a
 * whiteout, a name removed.
 */
TEST_F_TIMEOUT(lookup, index_sees_changes_made_to_layers, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *b = ufs_path(e->lower[1], "d/b");
	int i;

	let_changes_age();
	ASSERT_EQ(4, list_dir(e, "d"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/a", "put above"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/new", "new below"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], "d/c-gone"));
	ASSERT_EQ(0, unlink(b));
	for (i = 0; i < e->nr_lowers; i++)
		e->fp[i] = ufs_fingerprint(e->lower[i]);
	EXPECT_STREQ("put above", ufs_get(e->mnt, "d/a"));
	EXPECT_STREQ("new below", ufs_get(e->mnt, "d/new"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "d/b"));
	EXPECT_STREQ("c0", ufs_get(e->mnt, "d/c"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "d/c-gone"));
	EXPECT_EQ(4, list_dir(e, "d"));	/* a a-shadowed c new */
	free(b);
}

/*
 * A directory looked up a few times is never read whole for it; one that
 * takes many lookups without a readdir gets a listing built for them.
 */
TEST_F_TIMEOUT(lookup, index_built_after_many_lookups, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	long long builds;
	char name[32];
	int i;

	let_changes_age();
	builds = ctr(e, "index_builds");
	ASSERT_LE(0, builds);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "d/few-%d", i);
		EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, name));
	}
	EXPECT_EQ(builds, ctr(e, "index_builds"));
	/* 3 ext4 blocks of 4 KiB count as 96 real lookups, 3 x 33 pay */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "d/many-%d", i);
		EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, name));
	}
	EXPECT_EQ(builds + 1, ctr(e, "index_builds"));
	EXPECT_LE(24, ctr(e, "index_negatives"));
	EXPECT_STREQ("a2", ufs_get(e->mnt, "d/a"));
	EXPECT_STREQ("c0", ufs_get(e->mnt, "d/c"));
}

/* lookup_index=off: every lookup asks every layer, as before. */
TEST_F_TIMEOUT(lookup, index_off_asks_every_layer, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[4096], line[8192];
	long long layers;
	bool shown = false;
	FILE *f;
	int i;

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s:%s,lookup_index=off",
		 e->lower[0], e->lower[1], e->lower[2]);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts)) TH_LOG("%s", strerror(errno));
	e->mounted = 1;
	f = fopen("/proc/self/mounts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, e->mnt) && strstr(line, ",lookup_index=off"))
			shown = true;
	fclose(f);
	EXPECT_TRUE(shown);
	let_changes_age();
	ASSERT_EQ(4, list_dir(e, "d"));
	layers = ctr(e, "lookup_layers");
	EXPECT_STREQ("a2", ufs_get(e->mnt, "d/a"));
	for (i = 0; i < 32; i++) {
		char name[32];

		snprintf(name, sizeof(name), "d/many-%d", i);
		EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, name));
	}
	EXPECT_EQ(layers + 3 + 32 * 3, ctr(e, "lookup_layers"));
	EXPECT_EQ(0, ctr(e, "index_hits"));
	EXPECT_EQ(0, ctr(e, "index_negatives"));
	EXPECT_EQ(0, ctr(e, "index_builds"));
	/* and it stays off: a remount cannot turn it on */
	EXPECT_NE(0, mount("none", e->mnt, NULL, MS_REMOUNT,
			   "lookup_index=on"));
}

/*
 * A union over a union: the lower union's directory stamps do not move
 * when its layers change, so the upper union must not trust a listing to
 * answer its lookups (it asks the layers, which see the change).
 */
TEST_F_TIMEOUT(lookup, index_not_used_over_a_stacked_layer, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *top = ufs_path(e->base, "top"), *other = ufs_path(e->base, "other");
	const char *got;
	char opts[4096];

	ASSERT_EQ(0, ufs_mkdirs(top, 0755));
	ASSERT_EQ(0, ufs_mkdirs(other, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", other, e->mnt);
	ASSERT_EQ(0, ufs_mount(top, opts)) TH_LOG("%s", strerror(errno));
	let_changes_age();
	ASSERT_EQ(4, list_dir(e, "d"));
	{
		char *d = ufs_path(top, "d");
		DIR *dir = opendir(d);

		ASSERT_NE(NULL, dir);
		while (readdir(dir))
			;
		closedir(dir);
		free(d);
	}
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/added", "added"));
	e->fp[1] = ufs_fingerprint(e->lower[1]);
	got = ufs_get(top, "d/added");
	EXPECT_TRUE(got && !strcmp(got, "added")) TH_LOG("d/added: %s", got ? got : strerror(errno));
	EXPECT_EQ(0, ufs_counter(top, "index_hits"));
	EXPECT_EQ(0, ufs_counter(top, "index_negatives"));
	EXPECT_EQ(0, umount(top));
	free(top);
	free(other);
}

TEST_HARNESS_MAIN
