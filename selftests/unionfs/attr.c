// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attributes: the union's st_dev on everything, (st_dev, st_ino) unique
 * even with layers on different filesystems, st_ino stable and shared by
 * hard links, the rest of stat as the real inode has it.
 */
#include "ufs_test.h"
#include "kselftest_harness.h"

FIXTURE(attr) {
	struct ufs_env e;
	char *other;	/* a second tmpfs, so layers span two filesystems */
	uint64_t fp_other;
};

FIXTURE_SETUP(attr)
{
	struct ufs_env *e = &self->e;
	char opts[4096];

	ASSERT_EQ(0, ufs_env_init(e, 2));
	self->other = ufs_path(e->base, "other");
	ASSERT_EQ(0, mkdir(self->other, 0755));
	ASSERT_EQ(0, mount("tmpfs", self->other, "tmpfs", 0, NULL));
	ASSERT_EQ(0, ufs_put(e->lower[0], "a", "aaaa"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/x", "x"));
	ASSERT_EQ(0, link(ufs_path(e->lower[0], "a"), ufs_path(e->lower[0], "a-link")));
	ASSERT_EQ(0, ufs_put(self->other, "b", "bb"));
	ASSERT_EQ(0, ufs_put(self->other, "d/y", "y"));
	ASSERT_EQ(0, chmod(ufs_path(self->other, "b"), 0640));
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", e->lower[0], self->other);
	for (int i = 0; i < e->nr_lowers; i++)
		e->fp[i] = ufs_fingerprint(e->lower[i]);
	e->fp_taken = 1;
	self->fp_other = ufs_fingerprint(self->other);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
}

FIXTURE_TEARDOWN(attr)
{
	/* the lower layers never change (fingerprints from ufs_env_mount) */
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	EXPECT_EQ(self->fp_other, ufs_fingerprint(self->other));
	umount2(self->other, MNT_DETACH);
	ufs_env_fini(&self->e);
}

TEST_F_TIMEOUT(attr, every_object_has_union_st_dev, UFS_TEST_TIMEOUT)
{
	struct stat m, s;
	const char *names[] = { "", "a", "d", "d/x", "d/y", "b" };
	unsigned int i;

	ASSERT_EQ(0, stat(self->e.mnt, &m));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "%s", names[i]), &s));
		EXPECT_EQ(m.st_dev, s.st_dev);
	}
}

TEST_F_TIMEOUT(attr, inode_numbers_unique_across_filesystems, UFS_TEST_TIMEOUT)
{
	const char *names[] = { "a", "d", "d/x", "d/y", "b" };
	ino_t inos[5];
	unsigned int i, j;
	struct stat s;

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "%s", names[i]), &s));
		inos[i] = s.st_ino;
	}
	for (i = 0; i < 5; i++)
		for (j = 0; j < i; j++)
			EXPECT_NE(inos[i], inos[j]);
}

TEST_F_TIMEOUT(attr, hard_links_share_st_ino_and_nlink, UFS_TEST_TIMEOUT)
{
	struct stat a, b;

	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "a"), &a));
	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "a-link"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(2, a.st_nlink);
}

TEST_F_TIMEOUT(attr, st_ino_stable_across_dentry_eviction, UFS_TEST_TIMEOUT)
{
	struct stat a, b;
	int fd;

	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "d/x"), &a));
	/* drop caches so the union dentry and inode are rebuilt */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		EXPECT_EQ(2, write(fd, "2\n", 2));
		close(fd);
	}
	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "d/x"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F_TIMEOUT(attr, size_mode_times_as_real, UFS_TEST_TIMEOUT)
{
	struct stat u, r;

	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "b"), &u));
	ASSERT_EQ(0, lstat(ufs_path(self->other, "b"), &r));
	EXPECT_EQ(r.st_size, u.st_size);
	EXPECT_EQ(r.st_mode, u.st_mode);
	EXPECT_EQ(r.st_uid, u.st_uid);
	EXPECT_EQ(r.st_gid, u.st_gid);
	EXPECT_EQ(r.st_mtim.tv_sec, u.st_mtim.tv_sec);
	EXPECT_EQ(r.st_mtim.tv_nsec, u.st_mtim.tv_nsec);
	EXPECT_EQ(r.st_nlink, u.st_nlink);
	EXPECT_EQ(r.st_blocks, u.st_blocks);
}

TEST_F_TIMEOUT(attr, find_xdev_stays_inside, UFS_TEST_TIMEOUT)
{
	/* statx on the mount root reports the union, not a layer */
	struct statfs sf;

	ASSERT_EQ(0, statfs(ufs_path(self->e.mnt, "d"), &sf));
	EXPECT_EQ(UFS_MAGIC, (unsigned long)sf.f_type);
}

TEST_HARNESS_MAIN
