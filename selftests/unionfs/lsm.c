// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LSM hooks of a union (issue 14 item 7): a copy-up asks
 * security_inode_copy_up(), an object made as the caller asks
 * security_dentry_create_files_as(). Proof without SELinux or Smack: a BPF
 * LSM program (lsm_hooks.bpf.c) refuses both hooks to this test's process
 * only; what the union then does shows whether it asked. It also counts
 * the chattr ioctls the LSMs are asked about.
 */
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <bpf/libbpf.h>
#include "ufs_test.h"
#include "kselftest_harness.h"
#include "lsm_hooks.skel.h"

/* Is @name a filesystem type of the running kernel (/proc/filesystems)? */
static bool has_filesystem(const char *name)
{
	char line[128], *type;
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "re");

	if (!f)
		return true;	/* cannot tell: let the mount decide */
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		type = strrchr(line, '\t');
		found = !strcmp(type ? type + 1 : line, name);
	}
	fclose(f);
	return found;
}

/* 1: "bpf" is an active LSM, 0: it is not, -1: cannot tell */
static int bpf_lsm_active(void)
{
	const char *lsm = "/sys/kernel/security/lsm";
	char buf[512], *tok, *save;
	ssize_t n;
	int fd;

	fd = open(lsm, O_RDONLY);
	if (fd < 0 && errno == ENOENT) {
		/*
		 * A kernel without securityfs (the debug kernel) has no
		 * /sys/kernel/security to mount it on, and no list of LSMs:
		 * the BPF LSM needs it to be told apart.
		 */
		if (!has_filesystem("securityfs"))
			return 0;
		if (!mount("securityfs", "/sys/kernel/security", "securityfs",
			   0, NULL))
			fd = open(lsm, O_RDONLY);
	}
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/*
 * The hooks, attached for this process until lsm_hooks__destroy(); they
 * refuse copy-up and create-as when @refuse.
 */
static struct lsm_hooks *attach_hooks(int refuse)
{
	struct lsm_hooks *skel = lsm_hooks__open();

	if (!skel)
		return NULL;
	skel->rodata->target_tgid = getpid();
	if (lsm_hooks__load(skel) || lsm_hooks__attach(skel)) {
		lsm_hooks__destroy(skel);
		return NULL;
	}
	skel->bss->refuse = refuse;
	return skel;
}

FIXTURE(lsm) {
	struct ufs_env e;
	bool no_bpf_lsm;
};

/*
 * 6.1's harness runs the test body after a SKIP() in FIXTURE_SETUP: each
 * body skips itself.
 */
#define REQUIRE_BPF_LSM()						\
	do {								\
		if (self->no_bpf_lsm)					\
			SKIP(return, "the kernel runs without the BPF LSM (not in /sys/kernel/security/lsm)"); \
	} while (0)

FIXTURE_SETUP(lsm)
{
	int active = bpf_lsm_active();

	ASSERT_EQ(0, ufs_env_init(&self->e, 1));
	ASSERT_NE(-1, active) TH_LOG("cannot read /sys/kernel/security/lsm: %s",
				     strerror(errno));
	self->no_bpf_lsm = !active;
}

FIXTURE_TEARDOWN(lsm)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

static char *M(struct ufs_env *e, const char *rel)
{
	return ufs_path(e->mnt, "%s", rel);
}

static int write_str(const char *path, int flags, const char *s)
{
	int fd = open(path, O_WRONLY | flags, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * Copying a lower file up asks the LSM: refused, the write fails with the
 * LSM's EPERM and nothing reaches the upper; allowed again, it works.
 */
TEST_F_TIMEOUT(lsm, copy_up_asks_the_lsm, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct lsm_hooks *skel;
	char *data = M(e, "data"), *meta = M(e, "meta");

	REQUIRE_BPF_LSM();
	ASSERT_EQ(0, ufs_put(e->lower[0], "data", "lower"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "meta", "lower"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	skel = attach_hooks(1);
	ASSERT_NE(NULL, skel) TH_LOG("cannot load/attach the BPF LSM program");
	errno = 0;
	EXPECT_EQ(-1, write_str(data, 0, "union"));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, chmod(meta, 0600));
	EXPECT_EQ(EPERM, errno);
	EXPECT_LE(2, skel->bss->copy_up_denied);
	EXPECT_EQ(0, ufs_exists(e->upper, "data"));
	EXPECT_EQ(0, ufs_exists(e->upper, "meta"));
	EXPECT_STREQ("lower", ufs_get(e->mnt, "data"));
	lsm_hooks__destroy(skel);

	EXPECT_EQ(0, write_str(data, O_TRUNC, "union"));
	EXPECT_STREQ("union", ufs_get(e->mnt, "data"));
	EXPECT_STREQ("union", ufs_get(e->upper, "data"));
	EXPECT_EQ(0, chmod(meta, 0600));
	EXPECT_EQ(1, ufs_exists(e->upper, "meta"));
	free(data);
	free(meta);
}

/*
 * Making an object as the caller asks the LSM, over a whiteout (made in
 * the staging directory, renamed into place) as for a new name.
 */
TEST_F_TIMEOUT(lsm, create_as_caller_asks_the_lsm, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct lsm_hooks *skel;
	char *gone = M(e, "gone"), *dir = M(e, "newdir");

	REQUIRE_BPF_LSM();
	ASSERT_EQ(0, ufs_put(e->lower[0], "gone", "lower"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, unlink(gone));

	skel = attach_hooks(1);
	ASSERT_NE(NULL, skel) TH_LOG("cannot load/attach the BPF LSM program");
	errno = 0;
	EXPECT_EQ(-1, write_str(gone, O_CREAT | O_EXCL, "new"));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, mkdir(dir, 0755));
	EXPECT_EQ(EPERM, errno);
	EXPECT_LE(2, skel->bss->create_as_denied);
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "gone"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "newdir"));
	lsm_hooks__destroy(skel);

	EXPECT_EQ(0, write_str(gone, O_CREAT | O_EXCL, "new"));
	EXPECT_STREQ("new", ufs_get(e->mnt, "gone"));
	EXPECT_EQ(0, mkdir(dir, 0755));
	free(gone);
	free(dir);
}

static int setflags(const char *path, int add)
{
	int fd = open(path, O_RDONLY), flags, ret = -1;

	if (fd < 0)
		return -1;
	if (!ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
		flags |= add;
		ret = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return ret;
}

/*
 * chattr through the union asks the LSMs about the union file (the VFS)
 * and about the real file the flags go to (no hook takes an inode: an
 * ioctl check on a file opened for it, as overlayfs does), once each;
 * on the bare filesystem, once.
 */
TEST_F_TIMEOUT(lsm, chattr_asks_the_lsm_about_the_real_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct lsm_hooks *skel;
	char *bare = ufs_path(e->base, "bare"), *f = M(e, "f");
	__u64 n;

	REQUIRE_BPF_LSM();
	ASSERT_EQ(0, ufs_put(e->base, "bare", "data"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "f", "lower"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	skel = attach_hooks(0);
	ASSERT_NE(NULL, skel) TH_LOG("cannot load/attach the BPF LSM program");

	EXPECT_EQ(0, setflags(bare, FS_NODUMP_FL)) TH_LOG("bare: %s", strerror(errno));
	n = skel->bss->setflags_asked;
	EXPECT_EQ(1, n) TH_LOG("bare filesystem");
	EXPECT_EQ(0, setflags(f, FS_NODUMP_FL)) TH_LOG("union: %s", strerror(errno));
	EXPECT_EQ(2, skel->bss->setflags_asked - n) TH_LOG("union file, then the upper");
	lsm_hooks__destroy(skel);
	free(bare);
	free(f);
}

/*
 * Lower file @rel, deleted through the union: it must stay deleted, as
 * the union shows it now, after the caches go and after a remount.
 */
static void expect_still_deleted(struct __test_metadata *_metadata,
				 struct ufs_env *e, const char *dir,
				 const char *rel, int entries)
{
	int i;

	for (i = 0; i < 2; i++) {
		char *d = M(e, dir);

		EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, rel))
			TH_LOG("%s %s", rel, i ? "after remount" : "right after");
		EXPECT_EQ(entries, ufs_count_entries(d))
			TH_LOG("ls %s %s", dir, i ? "after remount" : "right after");
		free(d);
		if (!i) {
			ASSERT_EQ(0, umount(e->mnt));
			e->mounted = 0;
			ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
		}
	}
}

/*
 * A directory whose lower files were deleted through the union holds their
 * whiteouts. When the rename of the layer that would remove it (rmdir) is
 * refused, the rmdir fails and the deleted files stay deleted.
 */
TEST_F_TIMEOUT(lsm, refused_rmdir_keeps_deleted_lower_files_hidden,
	       UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct lsm_hooks *skel;
	char *d = M(e, "d"), *x = M(e, "d/x");

	REQUIRE_BPF_LSM();
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/x", "deleted data"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, unlink(x));

	skel = attach_hooks(0);
	ASSERT_NE(NULL, skel) TH_LOG("cannot load/attach the BPF LSM program");
	skel->data->renames_allowed = 0;
	errno = 0;
	EXPECT_EQ(-1, rmdir(d));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(1, skel->bss->rename_denied);
	lsm_hooks__destroy(skel);
	expect_still_deleted(_metadata, e, "d", "d/x", 0);
	EXPECT_EQ(0, rmdir(d));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "d"));
	free(d);
	free(x);
}

/*
 * The same for a rename onto that directory: the union's rename passes
 * the LSM, the layer's is refused; the target directory is emptied for
 * it first, and what its whiteouts hid stays hidden.
 */
TEST_F_TIMEOUT(lsm, refused_rename_over_dir_keeps_deleted_lower_files_hidden,
	       UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct lsm_hooks *skel;
	char *a = M(e, "a"), *b = M(e, "b"), *x = M(e, "b/x");

	REQUIRE_BPF_LSM();
	ASSERT_EQ(0, ufs_put(e->lower[0], "b/x", "deleted data"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, unlink(x));
	ASSERT_EQ(0, mkdir(a, 0755));

	skel = attach_hooks(0);
	ASSERT_NE(NULL, skel) TH_LOG("cannot load/attach the BPF LSM program");
	skel->data->renames_allowed = 1;
	errno = 0;
	EXPECT_EQ(-1, rename(a, b));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(1, skel->bss->rename_denied);
	lsm_hooks__destroy(skel);
	expect_still_deleted(_metadata, e, "b", "b/x", 0);
	EXPECT_EQ(0, rename(a, b));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "a"));
	expect_still_deleted(_metadata, e, "b", "b/x", 0);
	free(a);
	free(b);
	free(x);
}

TEST_HARNESS_MAIN
