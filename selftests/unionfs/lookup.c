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
}

TEST_HARNESS_MAIN
