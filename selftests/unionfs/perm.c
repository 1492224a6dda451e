// SPDX-License-Identifier: GPL-2.0-only
/*
 * Permissions: the caller's rights on the union inode (mode and ACLs), the
 * union mount's nosuid/nodev/noexec/ro flags, and a busybox rootfs that
 * runs from a lower layer through chroot.
 */
#include <grp.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

FIXTURE(perm) {
	struct ufs_env e;
};

FIXTURE_SETUP(perm)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 1));
	ASSERT_EQ(0, chmod(e->base, 0755));
	ASSERT_EQ(0, ufs_put(e->lower[0], "secret", "s"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[0], "secret"), 0600));
	ASSERT_EQ(0, ufs_put(e->lower[0], "public", "p"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "closed/inside", "i"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[0], "closed"), 0700));
	ASSERT_EQ(0, ufs_put(e->lower[0], "acl", "a"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[0], "acl"), 0600));
	ASSERT_EQ(0, ufs_put(e->lower[0], "run.sh", "#!/bin/sh\nexit 0\n"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[0], "run.sh"), 0755));
	ASSERT_EQ(0, mknod(ufs_path(e->lower[0], "null"), S_IFCHR | 0666, makedev(1, 3)));
}

FIXTURE_TEARDOWN(perm)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

/* Run @fn as uid/gid 1000 in a child; return its exit status. */
static int as_user(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000))
			_exit(99);
		_exit(fn(arg));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_stat(const char *path)
{
	struct stat st;

	return stat(path, &st) ? errno : 0;
}

TEST_F_TIMEOUT(perm, caller_mode_checked, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, ufs_env_mount(&self->e, 0, 0));
	EXPECT_EQ(EACCES, as_user(try_open, ufs_path(self->e.mnt, "secret")));
	EXPECT_EQ(0, as_user(try_open, ufs_path(self->e.mnt, "public")));
	EXPECT_EQ(EACCES, as_user(try_stat, ufs_path(self->e.mnt, "closed/inside")));
	EXPECT_EQ(EACCES, as_user(try_open, ufs_path(self->e.mnt, "closed")));
}

TEST_F_TIMEOUT(perm, acl_grants_access, UFS_TEST_TIMEOUT)
{
	/* user:1000:r-- as a POSIX ACL xattr (version 2 format) */
	static const unsigned char acl[] = {
		2, 0, 0, 0,
		1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,	/* USER_OBJ rw- */
		2, 0, 4, 0, 0xe8, 3, 0, 0,		/* USER 1000 r-- */
		4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,	/* GROUP_OBJ --- */
		0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,	/* MASK r-- */
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,	/* OTHER --- */
	};
	char val[128];

	if (setxattr(ufs_path(self->e.lower[0], "acl"), "system.posix_acl_access",
		     acl, sizeof(acl), 0))
		SKIP(return, "backing fs has no POSIX ACLs");
	ASSERT_EQ(0, ufs_env_mount(&self->e, 0, 0));
	EXPECT_EQ(0, as_user(try_open, ufs_path(self->e.mnt, "acl")));
	EXPECT_EQ(EACCES, as_user(try_open, ufs_path(self->e.mnt, "secret")));
	EXPECT_EQ((ssize_t)sizeof(acl),
		  getxattr(ufs_path(self->e.mnt, "acl"), "system.posix_acl_access",
			   val, sizeof(val)));
}

TEST_F_TIMEOUT(perm, noexec_honoured, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, ufs_env_mount(&self->e, 0, MS_NOEXEC));
	EXPECT_EQ(-1, access(ufs_path(self->e.mnt, "run.sh"), X_OK));
	EXPECT_EQ(-1, execl(ufs_path(self->e.mnt, "run.sh"), "run.sh", NULL));
	EXPECT_EQ(EACCES, errno);
}

TEST_F_TIMEOUT(perm, nodev_honoured, UFS_TEST_TIMEOUT)
{
	ASSERT_EQ(0, ufs_env_mount(&self->e, 0, MS_NODEV));
	EXPECT_EQ(-1, open(ufs_path(self->e.mnt, "null"), O_RDONLY));
	EXPECT_EQ(EACCES, errno);
}

TEST_F_TIMEOUT(perm, nosuid_flag_shown, UFS_TEST_TIMEOUT)
{
	struct statfs sf;

	ASSERT_EQ(0, ufs_env_mount(&self->e, 0, MS_NOSUID));
	ASSERT_EQ(0, statfs(self->e.mnt, &sf));
	EXPECT_TRUE(sf.f_flags & ST_NOSUID);
	EXPECT_TRUE(sf.f_flags & ST_RDONLY);	/* no upper: read-only */
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

/* A busybox rootfs in a lower layer runs through the union. */
TEST_F_TIMEOUT(big, busybox_chroot, UFS_TEST_TIMEOUT)
{
	struct ufs_env e;
	char cmd[4096];
	const char *bb = "/bin/busybox";
	int status;

	if (access(bb, X_OK))
		SKIP(return, "no %s", bb);
	ASSERT_EQ(0, ufs_env_init(&e, 2));
	ASSERT_EQ(0, ufs_mkdir_in(e.lower[1], "bin"));
	snprintf(cmd, sizeof(cmd), "cp %s %s/bin/busybox && "
		 "for a in sh ls cat echo grep; do ln -s busybox %s/bin/$a; done",
		 bb, e.lower[1], e.lower[1]);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, ufs_put(e.lower[0], "etc/motd", "hello"));
	ASSERT_EQ(0, ufs_env_mount(&e, 0, 0));
	snprintf(cmd, sizeof(cmd),
		 "chroot %s /bin/sh -c 'ls / | grep -q etc && cat /etc/motd' | grep -q hello",
		 e.mnt);
	status = system(cmd);
	EXPECT_EQ(0, WEXITSTATUS(status));
	ufs_env_fini(&e);
}

TEST_HARNESS_MAIN
