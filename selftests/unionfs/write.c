// SPDX-License-Identifier: GPL-2.0-only
/*
 * The write side: copy-up (data, holes, metadata, parents, atomicity,
 * concurrency, ENOSPC), whiteouts and opaque directories on disk, and the
 * namespace operations. Every test also checks the layer directories and
 * that no lower layer changed.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <time.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

FIXTURE(w) {
	struct ufs_env e;
};

FIXTURE_SETUP(w)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 2));
	ASSERT_EQ(0, ufs_put(e->lower[1], "f", "lower-content"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/sub/deep", "deep"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[1], "d"), 0750));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/top", "top"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "gone/x", "x"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], "gone"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "dir/a", "a"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "dir/b", "b"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "empty/w", "w"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], "empty"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], "empty/w"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "hl", "linked"));
	ASSERT_EQ(0, link(ufs_path(e->lower[1], "hl"), ufs_path(e->lower[1], "hl2")));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
}

FIXTURE_TEARDOWN(w)
{
	char *staging = ufs_path(self->e.work, "staging");
	DIR *d = opendir(staging);
	struct dirent *de;
	int left = 0;

	/* nothing is ever left half-made in workdir */
	if (d) {
		while ((de = readdir(d)))
			left += de->d_name[0] != '.';
		closedir(d);
	}
	EXPECT_EQ(0, left);
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

static int is_whiteout(const char *dir, const char *rel)
{
	struct stat st;

	if (lstat(ufs_path(dir, "%s", rel), &st))
		return 0;
	return S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

TEST_F_TIMEOUT(w, read_only_open_does_not_copy_up, UFS_TEST_TIMEOUT)
{
	int fd = open(ufs_path(self->e.mnt, "f"), O_RDONLY);

	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_FALSE(ufs_exists(self->e.upper, "f"));
}

TEST_F_TIMEOUT(w, write_copies_up_whole_file, UFS_TEST_TIMEOUT)
{
	int fd = open(ufs_path(self->e.mnt, "f"), O_WRONLY);

	ASSERT_GE(fd, 0);
	EXPECT_TRUE(ufs_exists(self->e.upper, "f"));
	EXPECT_EQ(5, pwrite(fd, "UPPER", 5, 0));
	close(fd);
	EXPECT_STREQ("UPPER-content", ufs_get(self->e.mnt, "f"));
	EXPECT_STREQ("UPPER-content", ufs_get(self->e.upper, "f"));
	EXPECT_STREQ("lower-content", ufs_get(self->e.lower[1], "f"));
}

TEST_F_TIMEOUT(w, o_trunc_and_append, UFS_TEST_TIMEOUT)
{
	struct timespec old[2] = { { 1000000, 0 }, { 1000000, 0 } };
	struct stat st;
	time_t t0;
	int fd;

	/* an O_TRUNC open of a lower file changes its times, as truncation */
	ASSERT_EQ(0, utimensat(AT_FDCWD, ufs_path(self->e.lower[1], "f"), old, 0));
	self->e.fp[1] = ufs_fingerprint(self->e.lower[1]);
	t0 = time(NULL);
	fd = open(ufs_path(self->e.mnt, "f"), O_WRONLY | O_TRUNC);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_STREQ("", ufs_get(self->e.mnt, "f"));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &st));
	EXPECT_GE(st.st_mtime, t0 - 1);
	EXPECT_GE(st.st_ctime, t0 - 1);
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "f"), &st));
	EXPECT_GE(st.st_mtime, t0 - 1);
	EXPECT_EQ(0, st.st_size);
	fd = open(ufs_path(self->e.mnt, "f"), O_WRONLY | O_APPEND);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(2, write(fd, "ab", 2));
	EXPECT_EQ(2, write(fd, "cd", 2));
	close(fd);
	EXPECT_STREQ("abcd", ufs_get(self->e.mnt, "f"));
}

TEST_F_TIMEOUT(w, parents_copied_up_with_their_mode, UFS_TEST_TIMEOUT)
{
	struct stat l, u;

	/* the union shows the topmost layer's directory: that is copied */
	ASSERT_EQ(0, chmod(ufs_path(self->e.lower[0], "d"), 0710));
	self->e.fp[0] = ufs_fingerprint(self->e.lower[0]);
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "d/sub"), &l));
	ASSERT_EQ(0, ufs_put(self->e.mnt, "d/sub/deep", "changed"));
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "d"), &u));
	EXPECT_EQ(040710, u.st_mode);
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "d/sub"), &u));
	EXPECT_EQ(l.st_mode, u.st_mode);
	EXPECT_EQ(l.st_uid, u.st_uid);
	EXPECT_STREQ("changed", ufs_get(self->e.upper, "d/sub/deep"));
	/* the merged dir still shows the other layer's file */
	EXPECT_STREQ("top", ufs_get(self->e.mnt, "d/top"));
}

TEST_F_TIMEOUT(w, chmod_chown_utimes_copy_up, UFS_TEST_TIMEOUT)
{
	struct timespec ts[2] = { { 1000000, 0 }, { 2000000, 0 } };
	struct stat st, before;

	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &before));
	ASSERT_EQ(0, chmod(ufs_path(self->e.mnt, "f"), 0600));
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "f"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	/* the copy keeps the lower file's times */
	EXPECT_EQ(before.st_mtim.tv_sec, st.st_mtim.tv_sec);
	EXPECT_EQ(before.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	ASSERT_EQ(0, chown(ufs_path(self->e.mnt, "f"), 1234, 5678));
	ASSERT_EQ(0, utimensat(AT_FDCWD, ufs_path(self->e.mnt, "f"), ts, 0));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &st));
	EXPECT_EQ(1234, st.st_uid);
	EXPECT_EQ(5678, st.st_gid);
	EXPECT_EQ(2000000, st.st_mtim.tv_sec);
	EXPECT_STREQ("lower-content", ufs_get(self->e.mnt, "f"));
}

TEST_F_TIMEOUT(w, truncate_copies_up, UFS_TEST_TIMEOUT)
{
	struct stat st;

	ASSERT_EQ(0, truncate(ufs_path(self->e.mnt, "f"), 5));
	EXPECT_STREQ("lower", ufs_get(self->e.mnt, "f"));
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "f"), &st));
	EXPECT_EQ(5, st.st_size);
}

TEST_F_TIMEOUT(w, sparse_file_copies_only_data, UFS_TEST_TIMEOUT)
{
	const off_t size = 256 << 20;
	static char data[4096] = "data";
	struct stat st;
	int fd;

	fd = open(ufs_path(self->e.lower[1], "sparse"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4096, pwrite(fd, data, 4096, 0));
	ASSERT_EQ(0, ftruncate(fd, size));
	close(fd);
	self->e.fp[1] = ufs_fingerprint(self->e.lower[1]);
	fd = open(ufs_path(self->e.mnt, "sparse"), O_WRONLY);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "sparse"), &st));
	EXPECT_EQ(size, st.st_size);
	EXPECT_LT(st.st_blocks * 512, 1 << 20);	/* far less than 256 MiB */
}

TEST_F_TIMEOUT(w, st_ino_survives_copy_up_and_remount, UFS_TEST_TIMEOUT)
{
	struct stat a, b;

	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &a));
	ASSERT_EQ(0, ufs_put(self->e.mnt, "f", "new"));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	ASSERT_EQ(0, umount(self->e.mnt));
	self->e.mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_STREQ("new", ufs_get(self->e.mnt, "f"));
}

/*
 * A copy made inside the upper layer of a copied-up file or renamed
 * directory (cp -a keeps the union's xattrs, the recorded inode number
 * and the redirect with them) is another object: it must not show the
 * original's st_ino (fstests overlay/049: diff took two such directories
 * for one). The originals keep theirs.
 */
TEST_F_TIMEOUT(w, copies_made_in_the_upper_get_their_own_st_ino,
	       UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat f, d, f2, d2;
	struct dirent *de;
	char cmd[4096];
	int found = 0;
	DIR *dir;

	ASSERT_EQ(0, ufs_put(e->mnt, "f", "new"));
	ASSERT_EQ(0, rename(ufs_path(e->mnt, "dir"), ufs_path(e->mnt, "moved")));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "f"), &f));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "moved"), &d));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	snprintf(cmd, sizeof(cmd), "cp -a %s/f %s/f2 && cp -a %s/moved %s/moved2",
		 e->upper, e->upper, e->upper, e->upper);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "f"), &f2));
	EXPECT_EQ(f.st_ino, f2.st_ino);
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "moved"), &d2));
	EXPECT_EQ(d.st_ino, d2.st_ino);
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "f2"), &f2));
	EXPECT_NE(f.st_ino, f2.st_ino);
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "moved2"), &d2));
	EXPECT_NE(d.st_ino, d2.st_ino);
	/* both directories still merge with the lower one */
	EXPECT_TRUE(ufs_exists(e->mnt, "moved2/a"));
	EXPECT_TRUE(ufs_exists(e->mnt, "moved/a"));
	/* and readdir's d_ino says the same */
	dir = opendir(e->mnt);
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, "f2") && strcmp(de->d_name, "moved2"))
			continue;
		ASSERT_EQ(0, fstatat(dirfd(dir), de->d_name, &f2,
				     AT_SYMLINK_NOFOLLOW));
		EXPECT_EQ(f2.st_ino, de->d_ino) TH_LOG("%s", de->d_name);
		found++;
	}
	closedir(dir);
	EXPECT_EQ(2, found);
}

TEST_F_TIMEOUT(w, unlink_lower_leaves_whiteout, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "f")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "f"));
	EXPECT_TRUE(is_whiteout(self->e.upper, "f"));
	/* and after a copy-up too */
	ASSERT_EQ(0, ufs_put(self->e.mnt, "d/top", "x"));
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "d/top")));
	EXPECT_TRUE(is_whiteout(self->e.upper, "d/top"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/top"));
}

TEST_F_TIMEOUT(w, unlink_upper_only_leaves_nothing, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, ufs_put(self->e.mnt, "new", "n"));
	EXPECT_STREQ("n", ufs_get(self->e.upper, "new"));
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "new")));
	EXPECT_FALSE(ufs_exists(self->e.upper, "new"));
}

TEST_F_TIMEOUT(w, rmdir_merged, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(-1, rmdir(ufs_path(self->e.mnt, "dir")));
	EXPECT_EQ(ENOTEMPTY, errno);
	/* "empty" only holds a name that a whiteout hides */
	ASSERT_EQ(0, rmdir(ufs_path(self->e.mnt, "empty")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "empty"));
	EXPECT_TRUE(is_whiteout(self->e.upper, "empty"));
	/* emptied through the union, then removed */
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "dir/a")));
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "dir/b")));
	ASSERT_EQ(0, rmdir(ufs_path(self->e.mnt, "dir")));
	EXPECT_TRUE(is_whiteout(self->e.upper, "dir"));
}

TEST_F_TIMEOUT(w, mkdir_over_whiteout_is_opaque, UFS_TEST_TIMEOUT)
{
	char v[4] = "";

	ASSERT_EQ(0, mkdir(ufs_path(self->e.mnt, "gone"), 0755));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "gone/x"));
	EXPECT_EQ(1, getxattr(ufs_path(self->e.upper, "gone"),
			      "trusted.unionfs.opaque", v, sizeof(v)));
	EXPECT_EQ('y', v[0]);
	/* recreate over a fresh whiteout as well */
	EXPECT_EQ(-1, rmdir(ufs_path(self->e.mnt, "d/sub")));
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "d/sub/deep")));
	ASSERT_EQ(0, rmdir(ufs_path(self->e.mnt, "d/sub")));
	ASSERT_EQ(0, mkdir(ufs_path(self->e.mnt, "d/sub"), 0700));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/sub/deep"));
}

TEST_F_TIMEOUT(w, create_over_whiteout, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "f")));
	ASSERT_EQ(0, ufs_put(self->e.mnt, "f", "again"));
	EXPECT_STREQ("again", ufs_get(self->e.mnt, "f"));
	EXPECT_FALSE(is_whiteout(self->e.upper, "f"));
	/* removing it again brings the whiteout back, not the lower file */
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "f")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "f"));
	EXPECT_TRUE(is_whiteout(self->e.upper, "f"));
}

TEST_F_TIMEOUT(w, whiteouts_cannot_be_made_by_users, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(-1, mknod(ufs_path(self->e.mnt, "wh"), S_IFCHR | 0600, 0));
	EXPECT_EQ(EPERM, errno);
}

TEST_F_TIMEOUT(w, rename_file, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, rename(ufs_path(self->e.mnt, "f"), ufs_path(self->e.mnt, "g")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "f"));
	EXPECT_STREQ("lower-content", ufs_get(self->e.mnt, "g"));
	EXPECT_TRUE(is_whiteout(self->e.upper, "f"));
	/* across merged directories */
	ASSERT_EQ(0, rename(ufs_path(self->e.mnt, "g"), ufs_path(self->e.mnt, "d/g")));
	EXPECT_STREQ("lower-content", ufs_get(self->e.mnt, "d/g"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "g"));
	EXPECT_FALSE(ufs_exists(self->e.upper, "g"));	/* upper-only: no whiteout */
}

TEST_F_TIMEOUT(w, rename_noreplace_and_exchange, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, ufs_put(self->e.mnt, "other", "o"));
	EXPECT_EQ(-1, renameat2(AT_FDCWD, ufs_path(self->e.mnt, "f"), AT_FDCWD,
				ufs_path(self->e.mnt, "other"), RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, renameat2(AT_FDCWD, ufs_path(self->e.mnt, "f"), AT_FDCWD,
			       ufs_path(self->e.mnt, "other"), RENAME_EXCHANGE));
	EXPECT_STREQ("o", ufs_get(self->e.mnt, "f"));
	EXPECT_STREQ("lower-content", ufs_get(self->e.mnt, "other"));
}

TEST_F_TIMEOUT(w, rename_upper_dir_becomes_opaque, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, mkdir(ufs_path(self->e.mnt, "nd"), 0755));
	ASSERT_EQ(0, ufs_put(self->e.mnt, "nd/in", "in"));
	ASSERT_EQ(0, rename(ufs_path(self->e.mnt, "nd"), ufs_path(self->e.mnt, "moved")));
	EXPECT_STREQ("in", ufs_get(self->e.mnt, "moved/in"));
	EXPECT_FALSE(ufs_exists(self->e.mnt, "nd"));
}

TEST_F_TIMEOUT(w, rename_lower_dir_with_redirect, UFS_TEST_TIMEOUT)
{
	char v[64] = "";

	ASSERT_EQ(0, rename(ufs_path(self->e.mnt, "dir"), ufs_path(self->e.mnt, "moved")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "dir"));
	EXPECT_STREQ("a", ufs_get(self->e.mnt, "moved/a"));
	EXPECT_STREQ("b", ufs_get(self->e.mnt, "moved/b"));
	EXPECT_TRUE(is_whiteout(self->e.upper, "dir"));
	EXPECT_EQ(4, getxattr(ufs_path(self->e.upper, "moved"),
			      "trusted.unionfs.redirect", v, sizeof(v)));
	EXPECT_STREQ("/dir", v);
	/* and again, into a merged directory */
	ASSERT_EQ(0, rename(ufs_path(self->e.mnt, "moved"), ufs_path(self->e.mnt, "d/again")));
	EXPECT_STREQ("a", ufs_get(self->e.mnt, "d/again/a"));
	/* it survives umount/mount */
	ASSERT_EQ(0, umount(self->e.mnt));
	self->e.mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));
	EXPECT_STREQ("b", ufs_get(self->e.mnt, "d/again/b"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "moved"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "dir"));
	/* still a normal directory: write, remove, rmdir */
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "d/again/a")));
	EXPECT_EQ(-1, rmdir(ufs_path(self->e.mnt, "d/again")));
	EXPECT_EQ(ENOTEMPTY, errno);
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "d/again/b")));
	ASSERT_EQ(0, rmdir(ufs_path(self->e.mnt, "d/again")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/again"));
}

TEST_F_TIMEOUT(w, rename_dir_over_empty_merged_dir, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, mkdir(ufs_path(self->e.mnt, "src"), 0755));
	ASSERT_EQ(0, ufs_put(self->e.mnt, "src/file", "s"));
	/* "empty" shows nothing although lower layers hold a whited-out name */
	ASSERT_EQ(0, rename(ufs_path(self->e.mnt, "src"), ufs_path(self->e.mnt, "empty")));
	EXPECT_STREQ("s", ufs_get(self->e.mnt, "empty/file"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "empty/w"));
	/* a non-empty target is refused */
	ASSERT_EQ(0, mkdir(ufs_path(self->e.mnt, "src2"), 0755));
	EXPECT_EQ(-1, rename(ufs_path(self->e.mnt, "src2"), ufs_path(self->e.mnt, "d")));
	EXPECT_EQ(ENOTEMPTY, errno);
}

TEST_F_TIMEOUT(w, xattr_set_copies_up, UFS_TEST_TIMEOUT)
{
	char v[16] = "";

	/* skip only where the backing fs has no trusted xattrs; the union must */
	if (!ufs_backing_takes_xattr("trusted.note"))
		SKIP(return, "the backing fs takes no trusted xattrs: %s", strerror(errno));
	ASSERT_EQ(0, setxattr(ufs_path(self->e.mnt, "f"), "trusted.note", "hi", 2, 0))
		TH_LOG("setxattr trusted.note through the union: %s", strerror(errno));
	EXPECT_EQ(2, getxattr(ufs_path(self->e.upper, "f"), "trusted.note", v, sizeof(v)));
	EXPECT_EQ(2, getxattr(ufs_path(self->e.mnt, "f"), "trusted.note", v, sizeof(v)));
	EXPECT_EQ(0, removexattr(ufs_path(self->e.mnt, "f"), "trusted.note"));
	EXPECT_EQ(-1, getxattr(ufs_path(self->e.mnt, "f"), "trusted.note", v, sizeof(v)));
}

TEST_F_TIMEOUT(w, hard_link_of_lower_file, UFS_TEST_TIMEOUT)
{
	struct stat a, b;

	ASSERT_EQ(0, link(ufs_path(self->e.mnt, "f"), ufs_path(self->e.mnt, "f2")));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f"), &a));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "f2"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(2, b.st_nlink);
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "f"), &a));
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "f2"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F_TIMEOUT(w, create_symlink_mknod_in_merged_dir, UFS_TEST_TIMEOUT)
{
	char buf[32];

	ASSERT_EQ(0, symlink("top", ufs_path(self->e.mnt, "d/ln")));
	EXPECT_EQ(3, readlink(ufs_path(self->e.mnt, "d/ln"), buf, sizeof(buf)));
	EXPECT_STREQ("top", ufs_get(self->e.mnt, "d/ln"));
	ASSERT_EQ(0, mkfifo(ufs_path(self->e.mnt, "d/fifo"), 0600));
	EXPECT_TRUE(ufs_exists(self->e.upper, "d/fifo"));
}

TEST_F_TIMEOUT(w, created_files_belong_to_the_caller, UFS_TEST_TIMEOUT)
{
	pid_t pid;
	int status;
	struct stat st;

	ASSERT_EQ(0, chmod(self->e.base, 0755));
	ASSERT_EQ(0, chmod(ufs_path(self->e.mnt, "d"), 0777));
	pid = fork();
	if (pid == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			_exit(2);
		_exit(ufs_put(self->e.mnt, "d/mine", "m") ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, stat(ufs_path(self->e.upper, "d/mine"), &st));
	EXPECT_EQ(1000, st.st_uid);
	EXPECT_EQ(1000, st.st_gid);
}

TEST_F_TIMEOUT(w, shared_mapping_writes_reach_upper, UFS_TEST_TIMEOUT)
{
	int fd = open(ufs_path(self->e.mnt, "f"), O_RDWR);
	char *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p, "MAPPED", 6);
	EXPECT_EQ(0, msync(p, 4096, MS_SYNC));
	munmap(p, 4096);
	close(fd);
	EXPECT_STREQ("MAPPEDcontent", ufs_get(self->e.upper, "f"));
}

TEST_F_TIMEOUT(w, concurrent_writers_one_copy_up, UFS_TEST_TIMEOUT)
{
	enum { N = 8 };
	pid_t pids[N];
	int i, status, ok = 0;

	for (i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int fd = open(ufs_path(self->e.mnt, "f"), O_WRONLY);

			if (fd < 0)
				_exit(1);
			if (pwrite(fd, "W", 1, i) != 1)
				_exit(2);
			close(fd);
			_exit(0);
		}
	}
	for (i = 0; i < N; i++) {
		waitpid(pids[i], &status, 0);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	EXPECT_EQ(N, ok);
	/* every writer wrote into the same upper file */
	EXPECT_STREQ("WWWWWWWWntent", ufs_get(self->e.mnt, "f"));
}

/*
 * Copy-up of one name of a multiply-linked lower file gives that name its
 * own upper file; the other names keep showing the lower file (as
 * overlayfs does without its index). A link made through the union is a
 * real link in the upper layer. Both survive umount/mount.
 */
TEST_F_TIMEOUT(w, hard_link_names_copy_up_separately, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat a, b, c;
	int round;

	ASSERT_EQ(0, stat(ufs_path(e->mnt, "hl"), &a));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "hl2"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(2, b.st_nlink);

	ASSERT_EQ(0, ufs_put(e->mnt, "hl", "changed"));
	ASSERT_EQ(0, link(ufs_path(e->mnt, "hl2"), ufs_path(e->mnt, "hl3")));
	for (round = 0; round < 2; round++) {
		EXPECT_STREQ("changed", ufs_get(e->mnt, "hl"));
		EXPECT_STREQ("linked", ufs_get(e->mnt, "hl2"));
		EXPECT_STREQ("linked", ufs_get(e->mnt, "hl3"));
		/* on disk: hl alone; hl2 and hl3 one upper inode */
		ASSERT_EQ(0, stat(ufs_path(e->upper, "hl"), &a));
		ASSERT_EQ(0, stat(ufs_path(e->upper, "hl2"), &b));
		ASSERT_EQ(0, stat(ufs_path(e->upper, "hl3"), &c));
		EXPECT_EQ(1, a.st_nlink);
		EXPECT_NE(a.st_ino, b.st_ino);
		EXPECT_EQ(b.st_ino, c.st_ino);
		EXPECT_EQ(2, c.st_nlink);
		/* through the union too */
		ASSERT_EQ(0, stat(ufs_path(e->mnt, "hl2"), &b));
		ASSERT_EQ(0, stat(ufs_path(e->mnt, "hl3"), &c));
		EXPECT_EQ(b.st_ino, c.st_ino);
		EXPECT_EQ(2, c.st_nlink);
		ASSERT_EQ(0, ufs_put(e->mnt, "hl3", "both"));
		EXPECT_STREQ("both", ufs_get(e->mnt, "hl2"));
		ASSERT_EQ(0, ufs_put(e->mnt, "hl3", "linked"));
		ASSERT_EQ(0, umount(e->mnt));
		e->mounted = 0;
		ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	}
}

TEST_F_TIMEOUT(w, o_tmpfile_then_linkat, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char proc[64];
	struct stat st;
	int fd, fd2;

	/* skip only where the upper's fs has no O_TMPFILE; the union must have it */
	if (!ufs_backing_has_tmpfile())
		SKIP(return, "the backing fs has no O_TMPFILE");
	/* in a lower-only directory: the directory is copied up */
	fd = open(ufs_path(e->mnt, "d/sub"), O_TMPFILE | O_RDWR, 0640);
	ASSERT_GE(fd, 0)
		TH_LOG("O_TMPFILE through the union: %s", strerror(errno));
	ASSERT_EQ(4, write(fd, "temp", 4));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_nlink);
	EXPECT_EQ(4, st.st_size);
	EXPECT_EQ(0640, st.st_mode & 07777);
	ASSERT_EQ(0, stat(ufs_path(e->upper, "d/sub"), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_FALSE(ufs_exists(e->upper, "d/sub/named"));

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ASSERT_EQ(0, linkat(AT_FDCWD, proc, AT_FDCWD,
			    ufs_path(e->mnt, "d/sub/named"), AT_SYMLINK_FOLLOW));
	EXPECT_STREQ("temp", ufs_get(e->mnt, "d/sub/named"));
	EXPECT_STREQ("temp", ufs_get(e->upper, "d/sub/named"));
	EXPECT_STREQ("deep", ufs_get(e->mnt, "d/sub/deep"));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(1, st.st_nlink);
	close(fd);

	/* O_EXCL: never linkable */
	fd2 = open(ufs_path(e->mnt, "dir"), O_TMPFILE | O_RDWR | O_EXCL, 0600);
	ASSERT_GE(fd2, 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd2);
	EXPECT_EQ(-1, linkat(AT_FDCWD, proc, AT_FDCWD,
			     ufs_path(e->mnt, "dir/x"), AT_SYMLINK_FOLLOW));
	EXPECT_EQ(ENOENT, errno);
	close(fd2);
	EXPECT_FALSE(ufs_exists(e->mnt, "dir/x"));
	EXPECT_FALSE(ufs_exists(e->upper, "dir/x"));
}

/* What FICLONE does on the backing fs itself, for the same two files. */
static int bare_clone_errno(const char *dir)
{
	char *a = ufs_path(dir, "clone-probe-a"), *b = ufs_path(dir, "clone-probe-b");
	int fa, fb, err = 0;

	fa = open(a, O_CREAT | O_RDWR, 0600);
	fb = open(b, O_CREAT | O_RDWR, 0600);
	if (fa < 0 || fb < 0 || write(fa, "0123456789", 10) != 10)
		err = -1;
	else if (ioctl(fb, FICLONE, fa))
		err = errno;
	close(fa);
	close(fb);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	return err;
}

TEST_F_TIMEOUT(w, ficlone_and_copy_file_range_into_union, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	int bare = bare_clone_errno(e->base);
	int src, dst, ro;
	loff_t off = 0;
	struct file_dedupe_range *dd;
	char buf[32] = "";

	ASSERT_LE(0, bare);
	/* a lower file read-only as the source, a new union file as target */
	src = open(ufs_path(e->mnt, "f"), O_RDONLY);
	ASSERT_GE(src, 0);
	dst = open(ufs_path(e->mnt, "cfr"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(dst, 0);
	EXPECT_EQ(13, copy_file_range(src, &off, dst, NULL, 100, 0));
	EXPECT_STREQ("lower-content", ufs_get(e->upper, "cfr"));
	EXPECT_FALSE(ufs_exists(e->upper, "f"));

	/* FICLONE between union files does what the upper fs does */
	ASSERT_EQ(0, ftruncate(dst, 0));
	if (ioctl(dst, FICLONE, src)) {
		EXPECT_EQ(bare, errno);
	} else {
		EXPECT_EQ(0, bare);
	}
	if (!bare) {
		EXPECT_STREQ("lower-content", ufs_get(e->mnt, "cfr"));
	}
	EXPECT_FALSE(ufs_exists(e->upper, "f"));

	/* dedupe into a file opened read-only must not reach a lower file */
	ro = open(ufs_path(e->mnt, "dir/a"), O_RDONLY);
	ASSERT_GE(ro, 0);
	dd = calloc(1, sizeof(*dd) + sizeof(struct file_dedupe_range_info));
	dd->src_length = 1;
	dd->dest_count = 1;
	dd->info[0].dest_fd = ro;
	if (ioctl(src, FIDEDUPERANGE, dd) == 0) {
		EXPECT_NE(0, dd->info[0].status);
	} else {
		EXPECT_EQ(EPERM, errno);
	}
	free(dd);
	close(ro);
	EXPECT_EQ(1, pread(src, buf, 1, 0));
	close(src);
	close(dst);
	EXPECT_FALSE(ufs_exists(e->upper, "dir/a"));
}

TEST_F_TIMEOUT(w, rename_flags_exchange_dirs_and_whiteout, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	/* directories that lower layers hold cannot be exchanged */
	EXPECT_EQ(-1, renameat2(AT_FDCWD, ufs_path(e->mnt, "dir"), AT_FDCWD,
				ufs_path(e->mnt, "d"), RENAME_EXCHANGE));
	EXPECT_EQ(EXDEV, errno);
	EXPECT_FALSE(ufs_exists(e->upper, "dir"));
	/* upper-only directories can */
	ASSERT_EQ(0, ufs_put(e->mnt, "n1/one", "1"));
	ASSERT_EQ(0, ufs_put(e->mnt, "n2/two", "2"));
	EXPECT_EQ(0, renameat2(AT_FDCWD, ufs_path(e->mnt, "n1"), AT_FDCWD,
			       ufs_path(e->mnt, "n2"), RENAME_EXCHANGE));
	EXPECT_STREQ("1", ufs_get(e->mnt, "n2/one"));
	EXPECT_STREQ("2", ufs_get(e->upper, "n1/two"));
	/* whiteouts are ours to make */
	EXPECT_EQ(-1, renameat2(AT_FDCWD, ufs_path(e->mnt, "f"), AT_FDCWD,
				ufs_path(e->mnt, "g"), RENAME_WHITEOUT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("lower-content", ufs_get(e->mnt, "f"));
	EXPECT_FALSE(ufs_exists(e->mnt, "g"));
}

/* A write by an unprivileged user drops set-id bits, as on any fs. */
TEST_F_TIMEOUT(w, write_by_user_drops_setid_bits, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	int status;
	pid_t pid;

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_put(e->lower[0], "suid", "binary"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[0], "suid"), 06777));
	ASSERT_EQ(0, chmod(e->base, 0755));	/* let the user reach mnt */
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "suid"), &st));
	EXPECT_EQ(06777, st.st_mode & 07777);

	pid = fork();
	if (pid == 0) {
		int fd;

		if (setgid(1000) || setuid(1000))
			_exit(2);
		fd = open(ufs_path(e->mnt, "suid"), O_WRONLY);
		if (fd < 0)
			_exit(3);
		_exit(write(fd, "B", 1) == 1 ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "suid"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);
	ASSERT_EQ(0, stat(ufs_path(e->upper, "suid"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_STREQ("Binary", ufs_get(e->upper, "suid"));
	/* root keeps them (CAP_FSETID) */
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "suid"), 06777));
	ASSERT_EQ(0, ufs_put(e->mnt, "suid", "root"));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "suid"), &st));
	EXPECT_EQ(06777, st.st_mode & 07777);
}

/*
 * A descriptor opened read-only before a copy-up reads the upper file once
 * it exists: here one that O_TRUNC emptied and "new" filled.
 */
TEST_F_TIMEOUT(w, read_only_fd_from_before_copy_up_reads_upper, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char buf[32] = "";
	int ro = open(ufs_path(e->mnt, "f"), O_RDONLY);

	ASSERT_GE(ro, 0);
	EXPECT_EQ(13, pread(ro, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("lower-content", buf);
	ASSERT_EQ(0, ufs_put(e->mnt, "f", "new"));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, pread(ro, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("new", buf);
	close(ro);
	EXPECT_STREQ("new", ufs_get(e->mnt, "f"));
	EXPECT_STREQ("lower-content", ufs_get(e->lower[1], "f") ?: "");
}

/* What fallocate(mode) gives on the backing fs itself. */
static int bare_fallocate_errno(const char *dir, int mode)
{
	char *p = ufs_path(dir, "falloc-probe");
	int fd = open(p, O_CREAT | O_RDWR, 0600), err = 0;

	if (fd < 0 || ftruncate(fd, 1 << 20))
		err = -1;
	else if (fallocate(fd, mode, 0, 4096))
		err = errno;
	close(fd);
	unlink(p);
	free(p);
	return err;
}

TEST_F_TIMEOUT(w, writev_sync_calls_and_fallocate_modes, UFS_TEST_TIMEOUT)
{
	static const int modes[] = {
		0, FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_ZERO_RANGE, FALLOC_FL_COLLAPSE_RANGE,
		FALLOC_FL_INSERT_RANGE,
	};
	struct ufs_env *e = &self->e;
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	struct stat st;
	unsigned int i;
	int fd = open(ufs_path(e->mnt, "dir/a"), O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(4, pwritev(fd, iov, 2, 0));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, fdatasync(fd));
	EXPECT_EQ(0, syncfs(fd));
	EXPECT_STREQ("abcd", ufs_get(e->upper, "dir/a"));
	ASSERT_EQ(0, fallocate(fd, 0, 0, 1 << 20));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "dir/a"), &st));
	EXPECT_EQ(1 << 20, st.st_size);
	/* every other mode: as the upper fs answers it */
	for (i = 1; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int bare = bare_fallocate_errno(e->base, modes[i]);
		int got = fallocate(fd, modes[i], 0, 4096) ? errno : 0;

		EXPECT_EQ(bare, got) TH_LOG("fallocate mode %#x", modes[i]);
	}
	ASSERT_EQ(0, fstat(fd, &st));
	close(fd);
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "dir/a"), &st));
	struct stat ust;
	ASSERT_EQ(0, stat(ufs_path(e->upper, "dir/a"), &ust));
	EXPECT_EQ(ust.st_size, st.st_size);
}

TEST_F_TIMEOUT(w, chmod_chown_utimes_of_directories, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct timespec ts[2] = { { 3000000, 0 }, { 4000000, 0 } };
	struct stat st;

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "d/sub"), 0711));
	ASSERT_EQ(0, chown(ufs_path(e->mnt, "d/sub"), 4321, 8765));
	ASSERT_EQ(0, utimensat(AT_FDCWD, ufs_path(e->mnt, "d/sub"), ts, 0));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "d/sub"), &st));
	EXPECT_EQ(0711, st.st_mode & 07777);
	EXPECT_EQ(4321, st.st_uid);
	EXPECT_EQ(8765, st.st_gid);
	EXPECT_EQ(4000000, st.st_mtim.tv_sec);
	/* the parent came up with the topmost's mode; the merge still holds */
	struct stat top;
	ASSERT_EQ(0, stat(ufs_path(e->lower[0], "d"), &top));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "d"), &st));
	EXPECT_EQ(top.st_mode, st.st_mode);
	EXPECT_STREQ("deep", ufs_get(e->mnt, "d/sub/deep"));
	EXPECT_STREQ("top", ufs_get(e->mnt, "d/top"));
	EXPECT_FALSE(ufs_exists(e->upper, "d/sub/deep"));
}

/* A copy-up killed half-way leaves the lower file showing, nothing else. */
TEST_F_TIMEOUT(w, killed_copy_up_leaves_nothing, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	size_t size = (ufs_heavy() ? 256 : 64) << 20;
	char *buf = malloc(1 << 20), c;
	int fd, i, p[2], status, round, copied = 0;
	struct stat st;

	ASSERT_NE(NULL, buf);
	memset(buf, 'k', 1 << 20);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	fd = open(ufs_path(e->lower[0], "huge"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	for (i = 0; i < (int)(size >> 20); i++)
		ASSERT_EQ(1 << 20, write(fd, buf, 1 << 20));
	close(fd);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	for (round = 0; round < 4 && !copied; round++) {
		pid_t pid;

		ASSERT_EQ(0, pipe(p));
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			if (write(p[1], "go", 2) != 2)
				_exit(2);
			fd = open(ufs_path(e->mnt, "huge"), O_WRONLY);
			_exit(fd < 0);
		}
		close(p[1]);
		ASSERT_EQ(1, read(p[0], &c, 1));
		usleep(2000 << round);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(p[0]);
		/* all or nothing: no partial file ever shows */
		if (stat(ufs_path(e->upper, "huge"), &st) == 0) {
			EXPECT_EQ(size, st.st_size);
			copied = 1;
		}
		ASSERT_EQ(0, stat(ufs_path(e->mnt, "huge"), &st));
		EXPECT_EQ(size, st.st_size);
		fd = open(ufs_path(e->mnt, "huge"), O_RDONLY);
		ASSERT_GE(fd, 0);
		EXPECT_EQ(1, pread(fd, &c, 1, size - 1));
		EXPECT_EQ('k', c);
		close(fd);
	}
	free(buf);
	/* staging is checked empty by the teardown */
}

/* POSIX ACLs (access and default) are copied exactly. */
TEST_F_TIMEOUT(w, acls_copied_up_exactly, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	/* user:1000:r-- (version 2 xattr format) */
	static const unsigned char acl[] = {
		2, 0, 0, 0,
		1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		2, 0, 4, 0, 0xe8, 3, 0, 0,
		4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};
	unsigned char got[128];

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	if (setxattr(ufs_path(e->lower[1], "dir/a"), "system.posix_acl_access",
		     acl, sizeof(acl), 0))
		SKIP(return, "backing fs has no POSIX ACLs");
	ASSERT_EQ(0, setxattr(ufs_path(e->lower[1], "dir"),
			      "system.posix_acl_default", acl, sizeof(acl), 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	ASSERT_EQ(0, ufs_put(e->mnt, "dir/a", "A"));
	EXPECT_EQ((ssize_t)sizeof(acl),
		  getxattr(ufs_path(e->upper, "dir/a"), "system.posix_acl_access",
			   got, sizeof(got)));
	EXPECT_EQ(0, memcmp(acl, got, sizeof(acl)));
	EXPECT_EQ((ssize_t)sizeof(acl),
		  getxattr(ufs_path(e->upper, "dir"), "system.posix_acl_default",
			   got, sizeof(got)));
	EXPECT_EQ(0, memcmp(acl, got, sizeof(acl)));
	/* a new file in the copied-up dir inherits the default ACL */
	ASSERT_EQ(0, ufs_put(e->mnt, "dir/new", "n"));
	EXPECT_LT(0, getxattr(ufs_path(e->upper, "dir/new"),
			      "system.posix_acl_access", got, sizeof(got)));
}

/*
 * A default ACL on workdir must not reach copy-ups: they are made in
 * workdir/staging, which would inherit it (overlayfs strips its work dir's
 * ACLs at mount for the same reason; fstests overlay/023).
 */
TEST_F_TIMEOUT(w, workdir_default_acl_reaches_no_copy_up, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	/* user:1000:rwx, and a mask that would cut the group bits */
	static const unsigned char acl[] = {
		2, 0, 0, 0,
		1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
		2, 0, 7, 0, 0xe8, 3, 0, 0,
		4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
		0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};
	unsigned char got[128];
	struct stat lst, ust;

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	if (setxattr(e->work, "system.posix_acl_default", acl, sizeof(acl), 0))
		SKIP(return, "backing fs has no POSIX ACLs");
	/* the next mount makes workdir/staging afresh, under that ACL */
	rmdir(ufs_path(e->work, "staging"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[1], "dir/b"), 0664));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	ASSERT_EQ(0, ufs_put(e->mnt, "dir/b", "B"));
	ASSERT_EQ(0, ufs_mkdir_in(e->mnt, "dir/newdir"));
	ASSERT_EQ(0, stat(ufs_path(e->lower[1], "dir/b"), &lst));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "dir/b"), &ust));
	EXPECT_EQ(lst.st_mode, ust.st_mode);
	EXPECT_EQ(-1, getxattr(ufs_path(e->upper, "dir/b"),
			       "system.posix_acl_access", got, sizeof(got)));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, getxattr(ufs_path(e->upper, "dir"),
			       "system.posix_acl_default", got, sizeof(got)));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, getxattr(ufs_path(e->upper, "dir/newdir"),
			       "system.posix_acl_default", got, sizeof(got)));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, getxattr(ufs_path(e->work, "staging"),
			       "system.posix_acl_default", got, sizeof(got)));
	EXPECT_EQ(ENODATA, errno);
}

/* Whole-stack tests that build their own layers. */
FIXTURE(big) {
	int unused;
};

FIXTURE_SETUP(big)
{
}

FIXTURE_TEARDOWN(big)
{
}

/* A copy-up that does not fit fails cleanly; a smaller one still works. */
TEST_F_TIMEOUT(big, enospc_copy_up, UFS_TEST_TIMEOUT)
{
	struct ufs_env e;
	char *small = NULL, opts[4096], *up;
	char *buf = calloc(1, 4 << 20);
	int fd;

	ASSERT_EQ(0, ufs_env_init(&e, 1));
	up = ufs_path(e.base, "small");
	ASSERT_EQ(0, mkdir(up, 0755));
	ASSERT_EQ(0, mount("tmpfs", up, "tmpfs", 0, "size=1m"));
	small = ufs_path(up, "u");
	ASSERT_EQ(0, mkdir(small, 0755));
	ASSERT_EQ(0, mkdir(ufs_path(up, "w"), 0755));
	memset(buf, 'x', 4 << 20);
	fd = open(ufs_path(e.lower[0], "big"), O_CREAT | O_WRONLY, 0644);
	ASSERT_EQ(4 << 20, write(fd, buf, 4 << 20));
	close(fd);
	ASSERT_EQ(0, ufs_put(e.lower[0], "tiny", "t"));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s/w",
		 e.lower[0], small, up);
	ASSERT_EQ(0, ufs_mount(e.mnt, opts));
	e.mounted = 1;

	/* a truncate needs the whole file (opens for write: chunks, below) */
	EXPECT_EQ(-1, truncate(ufs_path(e.mnt, "big"), 4 << 20));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_FALSE(ufs_exists(small, "big"));
	{
		DIR *d = opendir(ufs_path(up, "w/staging"));
		struct dirent *de;
		int left = 0;

		ASSERT_NE(NULL, d);
		while ((de = readdir(d)))
			left += de->d_name[0] != '.';
		closedir(d);
		EXPECT_EQ(0, left);
	}
	/* the union still shows the lower file */
	fd = open(ufs_path(e.mnt, "big"), O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(4096, read(fd, buf, 4096));
	EXPECT_EQ('x', buf[0]);
	close(fd);
	/* a file that fits still copies up */
	ASSERT_EQ(0, ufs_put(e.mnt, "tiny", "T"));
	EXPECT_STREQ("T", ufs_get(small, "tiny"));
	/*
	 * Opened for write: chunks come up as they are written, until the
	 * space runs out; the chunks not written still show the lower data.
	 */
	fd = open(ufs_path(e.mnt, "big"), O_RDWR);
	ASSERT_GE(fd, 0);
	{
		/* which of the 64 offsets took their 'W': exactly those show it */
		char took[(4 << 20) / (64 << 10)] = { 0 };
		off_t off;
		int written = 0, nospc = 0;

		for (off = 0; off < (4 << 20); off += 64 << 10) {
			if (pwrite(fd, "W", 1, off) == 1) {
				took[off / (64 << 10)] = 1;
				written++;
			} else {
				EXPECT_EQ(ENOSPC, errno);
				nospc++;
			}
		}
		EXPECT_GE(written, 1);
		EXPECT_GE(nospc, 1);
		close(fd);
		fd = open(ufs_path(e.mnt, "big"), O_RDONLY);
		ASSERT_GE(fd, 0);
		for (off = 0; off < (4 << 20); off += 64 << 10) {
			char c[2] = "";

			ASSERT_EQ(2, pread(fd, c, 2, off));
			EXPECT_EQ(took[off / (64 << 10)] ? 'W' : 'x', c[0])
				TH_LOG("offset %lld: pwrite %s, read back '%c'", (long long)off,
				       took[off / (64 << 10)] ? "succeeded" : "failed", c[0]);
			EXPECT_EQ('x', c[1]);
		}
		close(fd);
	}
	umount(e.mnt);
	e.mounted = 0;
	umount2(up, MNT_DETACH);
	ufs_env_fini(&e);
	free(buf);
}

TEST_HARNESS_MAIN
