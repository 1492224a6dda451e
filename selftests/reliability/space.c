// SPDX-License-Identifier: GPL-2.0-only
/*
 * Space on the upper: deleting through the union gives it back at once
 * (a cached negative union dentry once kept the deleted upper file).
 */
#include "rel.h"
#include "kselftest_harness.h"

/*
 * Unlinking a copied-up file through the union must give its space back on
 * the upper layer: the upper inode is deleted, and nothing may keep it
 * alive once no file is open. Bug: the union inode keeps the deleted upper
 * inode until memory reclaim evicts it (drop_caches frees the space), so an
 * upper that ran full stays full after files are deleted through the union.
 */
TEST(unlink_of_copied_up_file_frees_upper_space)
{
	struct ufs_env e;
	char img[PATH_MAX], loop[64], fs[PATH_MAX], opts[4096];
	long long before, after;
	const size_t sz = 8 << 20;
	int i;

	ASSERT_EQ(0, ufs_env_init(&e, 1));
	snprintf(img, sizeof(img), "%s/upper.img", e.base);
	snprintf(fs, sizeof(fs), "%s/fs", e.base);
	ASSERT_EQ(0, rel_loop(img, 32, loop, sizeof(loop)));
	ASSERT_EQ(0, rel_mkfs_mount("ext4", loop, fs, ""));
	ASSERT_EQ(0, ufs_mkdir_in(fs, "u"));
	ASSERT_EQ(0, ufs_mkdir_in(fs, "w"));
	ASSERT_EQ(0, rel_fill(ufs_path(e.lower[0], "f"), sz, 1));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 e.lower[0], fs, fs);
	ASSERT_EQ(0, ufs_mount(e.mnt, opts));
	e.mounted = 1;

	/* a truncate copies all the data up (an open for write: chunks) */
	ASSERT_EQ(0, truncate(ufs_path(e.mnt, "f"), sz));
	sync();
	before = rel_free(fs);
	ASSERT_EQ(0, unlink(ufs_path(e.mnt, "f")));
	for (i = 0; i < 20; i++) {
		sync();
		after = rel_free(fs);
		if (after - before >= (long long)sz * 9 / 10)
			break;
		usleep(100000);
	}
	EXPECT_GE(after - before, (long long)sz * 9 / 10)
		TH_LOG("%lld KiB freed by unlinking an %zu KiB copied-up file",
		       (after - before) >> 10, sz >> 10);
	rel_sh("echo 2 > /proc/sys/vm/drop_caches; sync");
	TH_LOG("after drop_caches: %lld KiB freed", (rel_free(fs) - before) >> 10);
	umount(e.mnt);
	e.mounted = 0;
	umount(fs);
	rel_sh("losetup -d %s", loop);
	ufs_env_fini(&e);
}

TEST_HARNESS_MAIN
