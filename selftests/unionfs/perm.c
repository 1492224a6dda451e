// SPDX-License-Identifier: GPL-2.0-only
/*
 * Permissions: the caller's rights on the union inode (mode and ACLs), the
 * union mount's nosuid/nodev/noexec/ro flags, and a busybox rootfs that
 * runs from a lower layer through chroot.
 */
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/falloc.h>
#include <linux/fs.h>
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

/* Drop the mounter's DAC overrides (the effective set only). */
static int drop_dac_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) |
			    (1u << CAP_DAC_READ_SEARCH));
	return syscall(SYS_capset, &h, d);
}

/* Mount from a child without DAC overrides; 0 or the errno. */
static int mount_without_dac(const char *type, const char *mnt,
			     const char *opts)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (drop_dac_caps())
			_exit(99);
		_exit(mount("none", mnt, type, 0, opts) ? errno : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

static int shows_option(const char *mnt, const char *opt)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[16384], mp[4096];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %4095s", mp) == 1 && !strcmp(mp, mnt) &&
		    strstr(line, opt))
			found = 1;
	fclose(f);
	return found;
}

/*
 * default_permissions (fstests overlay/009) means what it means to
 * overlayfs on 6.1 and 6.12: nothing changes, ovl_permission() never reads
 * it. The caller is checked on the union inode and the mounter on the real
 * one, with or without it. A lower file of uid 1000, mode 0600, passes the
 * check of uid 1000 on the union inode; a mounter without DAC overrides
 * fails the check on the real inode: EACCES on both filesystems. (Only
 * checking the union inode would let uid 1000 read through a mount what
 * its mounter may not read.)
 */
TEST_F_TIMEOUT(perm, default_permissions_keeps_the_mounter_check, UFS_TEST_TIMEOUT)
{
	static const char *const types[] = { "unionfs", "overlay" };
	struct ufs_env *e = &self->e;
	char *mine = ufs_path(e->lower[0], "mine");
	char *empty = ufs_path(e->base, "empty");
	char opts[4096];
	int t, dp, err;

	ASSERT_EQ(0, ufs_put(e->lower[0], "mine", "m"));
	ASSERT_EQ(0, chown(mine, 1000, 1000));
	ASSERT_EQ(0, chmod(mine, 0600));
	ASSERT_EQ(0, mkdir(empty, 0755));
	for (t = 0; t < 2; t++) {
		for (dp = 0; dp < 2; dp++) {
			/* overlayfs wants two layers without an upper */
			snprintf(opts, sizeof(opts), "lowerdir=%s:%s%s",
				 e->lower[0], empty,
				 dp ? ",default_permissions" : "");
			err = mount_without_dac(types[t], e->mnt, opts);
			if (t && err == ENODEV) {
				TH_LOG("no overlayfs to compare with");
				goto control;
			}
			ASSERT_EQ(0, err) TH_LOG("%s %s", types[t], opts);
			e->mounted = 1;
			EXPECT_EQ(dp, shows_option(e->mnt, ",default_permissions"));
			EXPECT_EQ(EACCES, as_user(try_open, ufs_path(e->mnt, "mine")))
				TH_LOG("%s %s", types[t], opts);
			ASSERT_EQ(0, umount(e->mnt));
			e->mounted = 0;
		}
	}
control:
	/* a mounter with DAC overrides lets uid 1000 read it */
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	EXPECT_EQ(0, as_user(try_open, ufs_path(e->mnt, "mine")));
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

/* --- set-id bits and capabilities on fallocate and FICLONE --------------- */

static int as_user_arg(int (*fn)(void *), void *arg)
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

/* the last two are clones the filesystem refuses: unaligned, past EOF */
enum { OP_PUNCH, OP_ALLOC, OP_CLONE, OP_CLONE_UNALIGNED, OP_CLONE_PAST_EOF, NR_OPS };
static const char *const op_names[NR_OPS] = {
	"punch", "alloc", "clone", "badclone", "eofclone"
};

struct modify {
	char *path;
	char *src;
	int op;
};

/* As uid 1000: open for write and change the file's data by @m->op. */
static int do_modify(void *arg)
{
	struct modify *m = arg;
	int fd = open(m->path, O_RDWR), sfd, ret = 0;

	if (fd < 0)
		return 100;
	switch (m->op) {
	case OP_PUNCH:
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, 4096);
		break;
	case OP_ALLOC:
		ret = fallocate(fd, 0, 0, 65536);
		break;
	case OP_CLONE:
		sfd = open(m->src, O_RDONLY);
		if (sfd < 0)
			return 101;
		ret = ioctl(fd, FICLONE, sfd);
		close(sfd);
		break;
	case OP_CLONE_UNALIGNED:
	case OP_CLONE_PAST_EOF: {
		struct file_clone_range r = {
			.src_offset = m->op == OP_CLONE_UNALIGNED ? 1 : 1 << 20,
			.src_length = 4096,
		};

		r.src_fd = open(m->src, O_RDONLY);
		if (r.src_fd < 0)
			return 101;
		ret = ioctl(fd, FICLONERANGE, &r);
		close(r.src_fd);
		break;
	}
	}
	ret = ret ? errno : 0;
	close(fd);
	return ret;
}

static const struct vfs_cap_data fcap = {
	.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
	.data = { { .permitted = 1u << CAP_NET_RAW } },
};

static int put_priv(const char *dir, const char *rel, mode_t mode, int cap)
{
	static char data[8192];
	char *p = ufs_path(dir, "%s", rel);
	int fd, ret;

	memset(data, 'd', sizeof(data));
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ret = fd < 0 || write(fd, data, sizeof(data)) != sizeof(data);
	if (fd >= 0)
		close(fd);
	ret = ret || chmod(p, mode);
	if (!ret && cap)
		ret = setxattr(p, "security.capability", &fcap, sizeof(fcap), 0);
	free(p);
	return ret;
}

static int has_fcap(const char *path)
{
	return getxattr(path, "security.capability", NULL, 0) > 0;
}

/*
 * Issue 14 item 3: fallocate and FICLONE into a world-writable set-id (or
 * file-capability) file by uid 1000 drop what the bare filesystem drops;
 * the union ran them with the mounter's CAP_FSETID and dropped nothing.
 * A clone the filesystem refuses (badclone, eofclone) drops nothing there:
 * nor may the union (it dropped them before the real clone failed).
 * The oracle: the same files in a directory of the same filesystem.
 */
TEST_F_TIMEOUT(perm, fallocate_clone_drop_privs, UFS_TEST_TIMEOUT)
{
	static const struct { const char *name; mode_t mode; int cap; } kinds[] = {
		{ "suid", 04777, 0 }, { "sgid", 02777, 0 }, { "fcap", 0777, 1 },
	};
	struct ufs_env *e = &self->e;
	char *ctl = ufs_path(e->base, "control");
	char rel[64];
	unsigned int k;
	int op;

	ASSERT_EQ(0, mkdir(ctl, 0755));
	ASSERT_EQ(0, put_priv(ctl, "src", 0644, 0));
	ASSERT_EQ(0, put_priv(e->lower[0], "src", 0644, 0));
	for (op = 0; op < NR_OPS; op++)
		for (k = 0; k < 3; k++) {
			snprintf(rel, sizeof(rel), "%s-%s", op_names[op], kinds[k].name);
			ASSERT_EQ(0, put_priv(ctl, rel, kinds[k].mode, kinds[k].cap));
			ASSERT_EQ(0, put_priv(e->lower[0], rel, kinds[k].mode,
					      kinds[k].cap));
		}
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));

	for (op = 0; op < NR_OPS; op++)
		for (k = 0; k < 3; k++) {
			struct modify bare = { .op = op, .src = ufs_path(ctl, "src") };
			struct modify uni = { .op = op,
					      .src = ufs_path(e->mnt, "src") };
			struct stat bst, ust;
			int berr, uerr;

			snprintf(rel, sizeof(rel), "%s-%s", op_names[op], kinds[k].name);
			bare.path = ufs_path(ctl, "%s", rel);
			uni.path = ufs_path(e->mnt, "%s", rel);
			berr = as_user_arg(do_modify, &bare);
			uerr = as_user_arg(do_modify, &uni);
			EXPECT_EQ(berr, uerr) TH_LOG("%s: errno", rel);
			ASSERT_EQ(0, stat(bare.path, &bst));
			ASSERT_EQ(0, stat(uni.path, &ust));
			EXPECT_EQ(bst.st_mode, ust.st_mode)
				TH_LOG("%s: mode %o, bare fs %o", rel,
				       ust.st_mode & 07777, bst.st_mode & 07777);
			EXPECT_EQ(has_fcap(bare.path), has_fcap(uni.path))
				TH_LOG("%s: file capability", rel);
			TH_LOG("%s: errno %d/%d mode %o/%o (union/bare)", rel,
			       uerr, berr, ust.st_mode & 07777, bst.st_mode & 07777);
			free(bare.path);
			free(uni.path);
			free(bare.src);
			free(uni.src);
		}
	free(ctl);
}

/* --- append-only and immutable ------------------------------------------ */

static int get_flags(const char *path, int *flags)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), ret;

	if (fd < 0)
		return errno;
	ret = ioctl(fd, FS_IOC_GETFLAGS, flags) ? errno : 0;
	close(fd);
	return ret;
}

static int set_flags(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), ret;

	if (fd < 0)
		return errno;
	ret = ioctl(fd, FS_IOC_SETFLAGS, &flags) ? errno : 0;
	close(fd);
	return ret;
}

static int chflags(const char *path, int set, int clear)
{
	int flags = 0, err = get_flags(path, &flags);

	return err ? err : set_flags(path, (flags | set) & ~clear);
}

static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* errno of each change a protected file refuses, as one string */
static void refusals(const char *dir, const char *rel, char *out, size_t size)
{
	char *p = ufs_path(dir, "%s", rel), *q = ufs_path(dir, "%s.moved", rel);
	int err[7], i = 0;

	/* in this order: each one only if the ones before were refused */
	err[i++] = open_errno(p, O_WRONLY);
	err[i++] = open_errno(p, O_RDWR | O_TRUNC);
	err[i++] = truncate(p, 0) ? errno : 0;
	err[i++] = chmod(p, 0600) ? errno : 0;
	err[i++] = setxattr(p, "user.x", "1", 1, 0) ? errno : 0;
	err[i++] = rename(p, q) ? errno : 0;
	err[i++] = unlink(p) ? errno : 0;
	snprintf(out, size, "wronly %d trunc %d truncate %d chmod %d xattr %d rename %d unlink %d",
		 err[0], err[1], err[2], err[3], err[4], err[5], err[6]);
	free(p);
	free(q);
}

/*
 * Issue 14 item 4: S_APPEND and S_IMMUTABLE of the real inode hold for
 * the union inode, lsattr/chattr work through the union, and a protected
 * lower file is never copied up.
 */
TEST_F_TIMEOUT(perm, append_only_and_immutable, UFS_TEST_TIMEOUT)
{
	static const struct { const char *name; int flag; } prot[] = {
		{ "imm", FS_IMMUTABLE_FL }, { "app", FS_APPEND_FL },
	};
	struct ufs_env *e = &self->e;
	char *ctl = ufs_path(e->base, "control");
	char want[256], got[256];
	int flags, err;
	unsigned int i;

	ASSERT_EQ(0, mkdir(ctl, 0755));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ufs_put(ctl, prot[i].name, "data"));
		ASSERT_EQ(0, ufs_put(e->lower[0], prot[i].name, "data"));
		err = chflags(ufs_path(ctl, "%s", prot[i].name), prot[i].flag, 0);
		if (err == ENOTTY || err == EOPNOTSUPP)
			SKIP(return, "backing fs has no append-only/immutable");
		ASSERT_EQ(0, err);
		ASSERT_EQ(0, chflags(ufs_path(e->lower[0], "%s", prot[i].name),
				     prot[i].flag, 0));
	}
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	/* lower files: every change refused as by the bare fs, no copy-up */
	for (i = 0; i < 2; i++) {
		refusals(ctl, prot[i].name, want, sizeof(want));
		refusals(e->mnt, prot[i].name, got, sizeof(got));
		EXPECT_STREQ(want, got) TH_LOG("%s", prot[i].name);
		flags = 0;
		EXPECT_EQ(0, get_flags(ufs_path(e->mnt, "%s", prot[i].name), &flags));
		EXPECT_TRUE(flags & prot[i].flag) TH_LOG("lsattr %s: %x", prot[i].name, flags);
		EXPECT_FALSE(ufs_exists(e->upper, prot[i].name));
	}
	EXPECT_STREQ("data", ufs_get(e->mnt, "imm"));
	/* appending to a lower append-only file would copy it up: refused */
	EXPECT_EQ(EPERM, open_errno(ufs_path(e->mnt, "app"), O_WRONLY | O_APPEND));
	EXPECT_FALSE(ufs_exists(e->upper, "app"));

	/* chattr +a through the union on an upper file */
	ASSERT_EQ(0, ufs_put(e->mnt, "new", "data"));
	ASSERT_EQ(0, ufs_put(ctl, "new", "data"));
	EXPECT_EQ(0, chflags(ufs_path(ctl, "new"), FS_APPEND_FL, 0));
	EXPECT_EQ(0, chflags(ufs_path(e->mnt, "new"), FS_APPEND_FL, 0));
	flags = 0;
	EXPECT_EQ(0, get_flags(ufs_path(e->upper, "new"), &flags));
	EXPECT_TRUE(flags & FS_APPEND_FL);
	EXPECT_EQ(0, open_errno(ufs_path(e->mnt, "new"), O_WRONLY | O_APPEND));
	refusals(ctl, "new", want, sizeof(want));
	refusals(e->mnt, "new", got, sizeof(got));
	EXPECT_STREQ(want, got);
	EXPECT_STREQ("data", ufs_get(e->mnt, "new"));
	/* and off again */
	EXPECT_EQ(0, chflags(ufs_path(e->mnt, "new"), 0, FS_APPEND_FL));
	EXPECT_EQ(0, open_errno(ufs_path(e->mnt, "new"), O_WRONLY | O_TRUNC));

	/* what the teardown must be able to remove */
	for (i = 0; i < 2; i++) {
		chflags(ufs_path(ctl, "%s", prot[i].name), 0, prot[i].flag);
		chflags(ufs_path(e->lower[0], "%s", prot[i].name), 0, prot[i].flag);
	}
	chflags(ufs_path(ctl, "new"), 0, FS_APPEND_FL);
	chflags(ufs_path(e->upper, "new"), 0, FS_APPEND_FL);
	free(ctl);
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
