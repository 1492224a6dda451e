// SPDX-License-Identifier: GPL-2.0-only
/*
 * The write side: copy-up (data, holes, metadata, parents, atomicity,
 * concurrency, ENOSPC), whiteouts and opaque directories on disk, and the
 * namespace operations. Every test also checks the layer directories and
 * that no lower layer changed.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

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
	int fd = open(ufs_path(self->e.mnt, "f"), O_WRONLY | O_TRUNC);

	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_STREQ("", ufs_get(self->e.mnt, "f"));
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

	if (setxattr(ufs_path(self->e.mnt, "f"), "trusted.note", "hi", 2, 0))
		SKIP(return, "no trusted xattrs: %s", strerror(errno));
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

	EXPECT_EQ(-1, open(ufs_path(e.mnt, "big"), O_WRONLY));
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
	umount(e.mnt);
	e.mounted = 0;
	umount2(up, MNT_DETACH);
	ufs_env_fini(&e);
	free(buf);
}

TEST_HARNESS_MAIN
