// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mount options: valid stacks, 1024 layers through fsconfig lowerdir+,
 * every refused configuration with its message, /proc/mounts round trip,
 * statfs.
 */
#include <sched.h>
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

FIXTURE(mnt) {
	struct ufs_env e;
	char opts[8192];
};

FIXTURE_SETUP(mnt)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 2));
	ASSERT_EQ(0, ufs_put(self->e.lower[0], "top", "t"));
	ASSERT_EQ(0, ufs_put(self->e.lower[1], "bottom", "b"));
}

FIXTURE_TEARDOWN(mnt)
{
	/* the lower layers never change (fingerprints from ufs_env_mount) */
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

/* Try a mount that must fail with EINVAL-like errors and leave nothing. */
static int try_mount(struct ufs_env *e, const char *fmt, ...)
{
	char opts[8192];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(opts, sizeof(opts), fmt, ap);
	va_end(ap);
	ret = ufs_mount(e->mnt, opts);
	if (ret == 0) {
		umount(e->mnt);
		return 0;
	}
	return errno;
}

/* fsconfig-based attempt; returns errno and the log message. */
static int try_fsconfig(const char *key, const char *val, char *log,
			size_t logsz)
{
	int fd = ufs_fsopen("unionfs");
	int ret = 0;

	if (fd < 0)
		return errno;
	if (ufs_fsconfig(fd, FSCONFIG_SET_STRING, key, val, 0) ||
	    ufs_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		ret = errno;
	ufs_fslog(fd, log, logsz);
	close(fd);
	return ret;
}

TEST_F_TIMEOUT(mnt, two_lowers_read_only, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_mount(e, 0, 0));
	EXPECT_STREQ("t", ufs_get(e->mnt, "top"));
	EXPECT_STREQ("b", ufs_get(e->mnt, "bottom"));
}

TEST_F_TIMEOUT(mnt, with_upper_and_workdir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_put(e->upper, "top", "upper"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_STREQ("upper", ufs_get(e->mnt, "top"));
	EXPECT_STREQ("b", ufs_get(e->mnt, "bottom"));
	/* the staging dir lives in workdir, never in upper */
	EXPECT_TRUE(ufs_exists(e->work, "staging"));
	EXPECT_FALSE(ufs_exists(e->upper, "staging"));
}

TEST_F_TIMEOUT(mnt, colon_escape_in_lowerdir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *odd = ufs_path(e->base, "a:b");

	ASSERT_EQ(0, mkdir(odd, 0755));
	ASSERT_EQ(0, ufs_put(odd, "x", "colon"));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a\\:b:%s",
		 e->base, e->lower[1]);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	EXPECT_STREQ("colon", ufs_get(e->mnt, "x"));
	EXPECT_STREQ("b", ufs_get(e->mnt, "bottom"));
}

static int read_mount_opts(const char *mnt, char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[16384], dev[64], mp[4096], type[64], opts[12288];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %4095s %63s %12287s", dev, mp, type, opts) != 4)
			continue;
		if (!strcmp(mp, mnt) && !strcmp(type, "unionfs")) {
			snprintf(buf, size, "%s", opts);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

TEST_F_TIMEOUT(mnt, proc_mounts_shows_options_that_mount_again, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[12288], again[12288];
	char *p, *q;

	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	snprintf(again, sizeof(again), "lowerdir=%s:%s", e->lower[0], e->lower[1]);
	EXPECT_NE(NULL, strstr(opts, again));
	snprintf(again, sizeof(again), "upperdir=%s", e->upper);
	EXPECT_NE(NULL, strstr(opts, again));
	snprintf(again, sizeof(again), "workdir=%s", e->work);
	EXPECT_NE(NULL, strstr(opts, again));

	/* Feed the option string (minus generic flags) back to mount. */
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	p = strstr(opts, "lowerdir=");
	ASSERT_NE(NULL, p);
	q = strdup(p);
	ASSERT_EQ(0, ufs_mount(e->mnt, q));
	e->mounted = 1;
	EXPECT_STREQ("b", ufs_get(e->mnt, "bottom"));
	free(q);
}

TEST_F_TIMEOUT(mnt, statfs_reports_upper, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct statfs u, s;

	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, statfs(e->mnt, &u));
	ASSERT_EQ(0, statfs(e->upper, &s));
	EXPECT_EQ(UFS_MAGIC, (unsigned long)u.f_type);
	EXPECT_EQ(s.f_blocks, u.f_blocks);
	EXPECT_EQ(s.f_bsize, u.f_bsize);
}

TEST_F_TIMEOUT(mnt, refuses_missing_layer, UFS_TEST_TIMEOUT)
{
	EXPECT_NE(0, try_mount(&self->e, "lowerdir=%s/nonexistent", self->e.base));
}

TEST_F_TIMEOUT(mnt, refuses_file_as_layer, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char log[1024];

	ASSERT_EQ(0, ufs_put(e->base, "afile", "x"));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s/afile", e->base));
	snprintf(self->opts, sizeof(self->opts), "%s/afile", e->base);
	EXPECT_EQ(EINVAL, try_fsconfig("lowerdir", self->opts, log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "not a directory"));
}

TEST_F_TIMEOUT(mnt, refuses_same_dir_twice, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s:%s", e->lower[0], e->lower[0]));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    e->lower[0], e->lower[0], e->work));
}

TEST_F_TIMEOUT(mnt, refuses_upper_inside_lower_and_lower_inside_upper, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *inner = ufs_path(e->lower[0], "inner");
	char *inner_lower = ufs_path(e->upper, "inner");

	ASSERT_EQ(0, mkdir(inner, 0755));
	ASSERT_EQ(0, mkdir(inner_lower, 0755));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    e->lower[0], inner, e->work));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    inner_lower, e->upper, e->work));
}

TEST_F_TIMEOUT(mnt, refuses_bad_workdir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *inside = ufs_path(e->upper, "w");
	char *other = ufs_path(e->base, "othermnt");

	ASSERT_EQ(0, mkdir(inside, 0755));
	/* missing workdir, workdir without upper, workdir inside upper */
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s", e->lower[0], e->upper));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,workdir=%s", e->lower[0], e->work));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    e->lower[0], e->upper, inside));
	/* workdir on another filesystem */
	ASSERT_EQ(0, mkdir(other, 0755));
	ASSERT_EQ(0, mount("tmpfs", other, "tmpfs", 0, NULL));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    e->lower[0], e->upper, other));
	umount(other);
	/* nothing was created in upper by the failed attempts */
	EXPECT_FALSE(ufs_exists(e->upper, "staging"));
}

TEST_F_TIMEOUT(mnt, refuses_upper_without_xattrs, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *r = ufs_path(e->base, "ramfs");
	char log[1024];
	int fd;

	ASSERT_EQ(0, mkdir(r, 0755));
	if (mount("ramfs", r, "ramfs", 0, NULL))
		SKIP(return, "no ramfs");
	ASSERT_EQ(0, mkdir(ufs_path(r, "u"), 0755));
	ASSERT_EQ(0, mkdir(ufs_path(r, "w"), 0755));
	fd = ufs_fsopen("unionfs");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ufs_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir", e->lower[0], 0));
	ASSERT_EQ(0, ufs_fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", ufs_path(r, "u"), 0));
	ASSERT_EQ(0, ufs_fsconfig(fd, FSCONFIG_SET_STRING, "workdir", ufs_path(r, "w"), 0));
	EXPECT_EQ(-1, ufs_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	ufs_fslog(fd, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "xattr"));
	close(fd);
	umount2(r, MNT_DETACH);
}

TEST_F_TIMEOUT(mnt, refuses_unknown_and_empty_options, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char log[1024];

	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,bogus=1", e->lower[0]));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir="));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s::%s", e->lower[0], e->lower[1]));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s:", e->lower[0]));
	EXPECT_EQ(EINVAL, try_mount(e, "upperdir=%s,workdir=%s", e->upper, e->work));
	EXPECT_EQ(EINVAL, try_fsconfig("bogus", "1", log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "bogus"));
	EXPECT_EQ(EINVAL, try_fsconfig("lowerdir", "", log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "lowerdir"));
}

/*
 * overlayfs's default_permissions (fstests overlay/009): taken, shown in
 * /proc/mounts, and repeated but not turned on by a remount. What it means
 * (nothing changes: perm.c default_permissions_keeps_the_mounter_check).
 */
TEST_F_TIMEOUT(mnt, default_permissions_option, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[12288];

	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s:%s,upperdir=%s,workdir=%s,default_permissions",
		 e->lower[0], e->lower[1], e->upper, e->work);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",default_permissions"));
	EXPECT_STREQ("b", ufs_get(e->mnt, "bottom"));
	EXPECT_EQ(0, mount(NULL, e->mnt, NULL, MS_REMOUNT, "default_permissions"));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	EXPECT_EQ(NULL, strstr(opts, "default_permissions"));
	EXPECT_EQ(-1, mount(NULL, e->mnt, NULL, MS_REMOUNT, "default_permissions"));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * redirect_dir (fstests overlay/017 mounts with redirect_dir=on): unionfs
 * always records a renamed lower directory with a redirect and follows
 * redirects, which is overlayfs's redirect_dir=on. "on" is taken, shown,
 * and means just that, across a umount and mount.
 */
TEST_F_TIMEOUT(mnt, redirect_dir_on, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[12288];

	ASSERT_EQ(0, ufs_put(e->lower[1], "d/f", "f"));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s:%s,upperdir=%s,workdir=%s,redirect_dir=on",
		 e->lower[0], e->lower[1], e->upper, e->work);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",redirect_dir=on"));
	ASSERT_EQ(0, rename(ufs_path(e->mnt, "d"), ufs_path(e->mnt, "moved")));
	EXPECT_LT(0, getxattr(ufs_path(e->upper, "moved"),
			      "trusted.unionfs.redirect", NULL, 0));
	EXPECT_STREQ("f", ufs_get(e->mnt, "moved/f"));
	/* a remount may repeat it, not change it */
	EXPECT_EQ(0, mount(NULL, e->mnt, NULL, MS_REMOUNT, "redirect_dir=on"));
	EXPECT_EQ(-1, mount(NULL, e->mnt, NULL, MS_REMOUNT, "redirect_dir=follow"));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	EXPECT_STREQ("f", ufs_get(e->mnt, "moved/f"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "d"));
}

/*
 * redirect_dir=follow is overlayfs's "follow redirects, never record one".
 * Without an upper layer nothing is ever renamed, so it is exactly what
 * unionfs does; with one, unionfs would record redirects anyway: refused,
 * as are "off" and "nofollow" (redirects are always followed).
 */
TEST_F_TIMEOUT(mnt, redirect_dir_follow_off_nofollow, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[12288], log[1024];

	/* overlayfs moved lower1's d to lower0's moved */
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/f", "f"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], "moved"));
	ASSERT_EQ(0, setxattr(ufs_path(e->lower[0], "moved"),
			      "trusted.overlay.redirect", "/d", 2, 0));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s:%s,redirect_dir=follow", e->lower[0], e->lower[1]);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",redirect_dir=follow"));
	EXPECT_STREQ("f", ufs_get(e->mnt, "moved/f"));
	EXPECT_EQ(0, mount(NULL, e->mnt, NULL, MS_REMOUNT | MS_RDONLY,
			   "redirect_dir=follow"));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=follow",
				    e->lower[0], e->upper, e->work));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off",
				    e->lower[0], e->upper, e->work));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,redirect_dir=nofollow", e->lower[0]));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,redirect_dir=off", e->lower[0]));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,redirect_dir=maybe", e->lower[0]));
	EXPECT_EQ(EINVAL, try_fsconfig("redirect_dir", "off", log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "redirect_dir"));
	EXPECT_EQ(EINVAL, try_fsconfig("redirect_dir", "nofollow", log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "redirect_dir"));
}

/*
 * xino (fstests overlay/043 mounts with xino=on): unionfs always gives
 * every object the union's st_dev and an st_ino unique across layers on
 * different filesystems (attr.c), which is overlayfs's xino=on. "on" and
 * "auto" are taken and shown; "off" it cannot do: refused.
 */
TEST_F_TIMEOUT(mnt, xino_on_auto_off, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[12288], log[1024];
	struct stat mnt, f;

	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s:%s,upperdir=%s,workdir=%s,xino=on",
		 e->lower[0], e->lower[1], e->upper, e->work);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",xino=on"));
	ASSERT_EQ(0, stat(e->mnt, &mnt));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "bottom"), &f));
	EXPECT_EQ(mnt.st_dev, f.st_dev);
	/* a remount may repeat it, not change it */
	EXPECT_EQ(0, mount(NULL, e->mnt, NULL, MS_REMOUNT, "xino=on"));
	EXPECT_EQ(-1, mount(NULL, e->mnt, NULL, MS_REMOUNT, "xino=auto"));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,xino=auto",
		 e->lower[0]);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	ASSERT_EQ(0, read_mount_opts(e->mnt, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",xino=auto"));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,xino=off", e->lower[0]));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,xino=maybe", e->lower[0]));
	EXPECT_EQ(EINVAL, try_fsconfig("xino", "off", log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "xino"));
}

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP	0x00100000
#endif
#define UFS_OPEN_TREE_CLONE	1
#define UFS_AT_RECURSIVE	0x8000

struct ufs_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/*
 * An idmapped mount of @src at @dst (uids 0-65535 shown as 100000+).
 * Returns 0, or an errno (EINVAL when the fs cannot be idmapped).
 */
static int write_map(pid_t pid, const char *which)
{
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, which);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	ok = write(fd, "0 100000 65536\n", 15) == 15;
	close(fd);
	return ok ? 0 : errno;
}

static int make_idmapped(const char *src, const char *dst)
{
	struct ufs_mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
	int go[2], ready[2], tree = -1, ns = -1, err = 0;
	char path[64];
	pid_t pid;
	char c;

	if (pipe(go) || pipe(ready))
		return errno;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		/* hold the namespace until the parent has it */
		_exit(read(go[0], &c, 1) < 0);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		err = ECHILD;
	if (!err)
		err = write_map(pid, "uid_map");
	if (!err)
		err = write_map(pid, "gid_map");
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	if (!err) {
		ns = open(path, O_RDONLY);
		if (ns < 0)
			err = errno;
	}
	close(go[1]);
	close(ready[0]);
	waitpid(pid, NULL, 0);
	if (err)
		goto out;
	tree = syscall(SYS_open_tree, AT_FDCWD, src, UFS_OPEN_TREE_CLONE);
	if (tree < 0) {
		err = errno;
		goto out;
	}
	attr.userns_fd = ns;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr,
		    sizeof(attr)) ||
	    syscall(SYS_move_mount, tree, "", AT_FDCWD, dst,
		    MOVE_MOUNT_F_EMPTY_PATH))
		err = errno;
out:
	if (tree >= 0)
		close(tree);
	if (ns >= 0)
		close(ns);
	return err;
}

/*
 * Owners seen through an idmapped layer may have no mapping, and copy-up
 * could not keep them: such layers are refused, with a message.
 */
TEST_F_TIMEOUT(mnt, refuses_idmapped_layers, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *mapped = ufs_path(e->base, "mapped");
	char log[1024];
	struct stat st;
	int err;

	ASSERT_EQ(0, mkdir(mapped, 0755));
	err = make_idmapped(e->lower[1], mapped);
	if (err == EINVAL || err == ENOSYS)
		SKIP(return, "backing fs cannot be idmapped here");
	ASSERT_EQ(0, err) TH_LOG("idmapped mount: %s", strerror(err));
	/* it is idmapped: root's files show as 100000 */
	ASSERT_EQ(0, stat(ufs_path(mapped, "bottom"), &st));
	EXPECT_EQ(100000, st.st_uid);

	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s:%s", e->lower[0], mapped));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    e->lower[0], mapped, e->work));
	EXPECT_EQ(EINVAL, try_fsconfig("lowerdir+", mapped, log, sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "idmapped"));
	EXPECT_EQ(0, umount(mapped));
}

TEST_F_TIMEOUT(mnt, refuses_too_deep_stacking, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *m1 = ufs_path(e->base, "m1");
	char *m2 = ufs_path(e->base, "m2");

	ASSERT_EQ(0, mkdir(m1, 0755));
	ASSERT_EQ(0, mkdir(m2, 0755));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s", e->lower[1]);
	ASSERT_EQ(0, ufs_mount(m1, self->opts));
	/* a union of a union is fine (depth 2) ... */
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s:%s", m1, e->lower[0]);
	ASSERT_EQ(0, ufs_mount(m2, self->opts));
	EXPECT_STREQ("b", ufs_get(m2, "bottom"));
	/* ... one more level is refused */
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s", m2));
	umount(m2);
	umount(m1);
}

TEST_F_TIMEOUT(mnt, layers_stay_usable_after_failed_mounts, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	EXPECT_NE(0, try_mount(e, "lowerdir=%s:%s/missing", e->lower[0], e->base));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_STREQ("t", ufs_get(e->mnt, "top"));
}

TEST_F_TIMEOUT(mnt, remount_keeps_layers, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_mount(e, 0, 0));
	EXPECT_EQ(0, mount(NULL, e->mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s", e->lower[1]);
	EXPECT_EQ(-1, mount(NULL, e->mnt, NULL, MS_REMOUNT | MS_RDONLY, self->opts));
	EXPECT_STREQ("t", ufs_get(e->mnt, "top"));
}

TEST_F_TIMEOUT(mnt, stale_staging_entries_cleaned_at_mount, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct dirent *de;
	int left = 0;
	DIR *d;

	/* what a crash in the middle of a copy-up or rmdir leaves behind */
	ASSERT_EQ(0, ufs_put(e->work, "staging/#1.1", "half a file"));
	ASSERT_EQ(0, ufs_mkdir_in(e->work, "staging/#1.2"));
	ASSERT_EQ(0, ufs_whiteout(e->work, "staging/#1.2/wh"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	d = opendir(ufs_path(e->work, "staging"));
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		left += de->d_name[0] != '.';
	closedir(d);
	EXPECT_EQ(0, left);
	EXPECT_STREQ("t", ufs_get(e->mnt, "top"));
}

/* fsconfig a writable union; returns errno of the create and its log. */
static int try_fsconfig_rw(const char *lower, const char *upper,
			   const char *work, char *log, size_t logsz)
{
	int fd = ufs_fsopen("unionfs");
	int ret = 0;

	if (fd < 0)
		return errno;
	if (ufs_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir", lower, 0) ||
	    ufs_fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) ||
	    ufs_fsconfig(fd, FSCONFIG_SET_STRING, "workdir", work, 0) ||
	    ufs_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		ret = errno;
	ufs_fslog(fd, log, logsz);
	close(fd);
	return ret;
}

/*
 * One upper or workdir, one mount: a mount cleans workdir/staging, which
 * holds another mount's copy-ups in flight. A second user is refused with
 * EBUSY and a message naming the directory, until the first goes.
 */
TEST_F_TIMEOUT(mnt, refuses_upper_or_workdir_in_use, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *upper2 = ufs_path(e->base, "upper2");
	char *work2 = ufs_path(e->base, "work2");
	char *mnt2 = ufs_path(e->base, "mnt2");
	char log[4096];

	ASSERT_EQ(0, mkdir(upper2, 0755));
	ASSERT_EQ(0, mkdir(work2, 0755));
	ASSERT_EQ(0, mkdir(mnt2, 0755));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	/* a copy-up in flight, as the second mount would find it */
	ASSERT_EQ(0, ufs_put(e->work, "staging/#1.1", "in flight"));

	EXPECT_EQ(EBUSY, try_fsconfig_rw(e->lower[0], e->upper, work2, log,
					 sizeof(log)));
	EXPECT_NE(NULL, strstr(log, e->upper)) TH_LOG("log: %s", log);
	EXPECT_EQ(EBUSY, try_fsconfig_rw(e->lower[0], upper2, e->work, log,
					 sizeof(log)));
	EXPECT_NE(NULL, strstr(log, e->work)) TH_LOG("log: %s", log);
	/* as mount(2) too; the first mount's staging is left alone */
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[1], upper2, e->work);
	if (ufs_mount(mnt2, self->opts) == 0) {
		umount(mnt2);
		errno = 0;
	}
	EXPECT_EQ(EBUSY, errno);
	EXPECT_TRUE(ufs_exists(e->work, "staging/#1.1"));
	/* a workdir used as the other's upper, and the reverse */
	EXPECT_EQ(EBUSY, try_fsconfig_rw(e->lower[0], e->work, work2, log,
					 sizeof(log)));
	EXPECT_EQ(EBUSY, try_fsconfig_rw(e->lower[0], upper2, e->upper, log,
					 sizeof(log)));

	/* released at umount */
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], e->upper, work2);
	ASSERT_EQ(0, ufs_mount(mnt2, self->opts));
	ASSERT_EQ(0, umount(mnt2));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], upper2, e->work);
	ASSERT_EQ(0, ufs_mount(mnt2, self->opts));
	ASSERT_EQ(0, umount(mnt2));
}

/* overlayfs keeps the same mark: neither takes what the other holds. */
TEST_F_TIMEOUT(mnt, refuses_upper_an_overlay_mount_uses, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *mnt2 = ufs_path(e->base, "mnt2");
	char log[4096];

	ASSERT_EQ(0, mkdir(mnt2, 0755));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], e->upper, e->work);
	ASSERT_EQ(0, mount("overlay", mnt2, "overlay", 0, self->opts));
	EXPECT_EQ(EBUSY, try_fsconfig_rw(e->lower[1], e->upper, e->work, log,
					 sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "in use")) TH_LOG("log: %s", log);
	ASSERT_EQ(0, umount(mnt2));
	/* overlayfs, with index=on, refuses ours in turn */
	ASSERT_EQ(0, rmdir(ufs_path(e->work, "work")));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s,upperdir=%s,workdir=%s,index=on",
		 e->lower[0], e->upper, e->work);
	if (mount("overlay", mnt2, "overlay", 0, self->opts) == 0) {
		umount(mnt2);
		errno = 0;
	}
	EXPECT_EQ(EBUSY, errno);
}

/* A mount that fails after taking the directories gives them back. */
TEST_F_TIMEOUT(mnt, failed_mount_releases_upper_and_workdir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char log[4096];

	/* refused late: after upper and workdir are taken */
	ASSERT_EQ(0, mkdir(ufs_path(e->work, "volatile"), 0700));
	EXPECT_EQ(EINVAL, try_fsconfig_rw(e->lower[0], e->upper, e->work, log,
					  sizeof(log)));
	EXPECT_NE(NULL, strstr(log, "volatile")) TH_LOG("log: %s", log);
	ASSERT_EQ(0, rmdir(ufs_path(e->work, "volatile")));
	EXPECT_EQ(0, try_fsconfig_rw(e->lower[0], e->upper, e->work, log,
				     sizeof(log))) TH_LOG("log: %s", log);
	/* refused in the middle: a workdir without room for staging */
	ASSERT_EQ(0, rmdir(ufs_path(e->work, "staging")));
	ASSERT_EQ(0, ufs_put(e->work, "staging", "a file, not a directory"));
	EXPECT_EQ(EINVAL, try_fsconfig_rw(e->lower[0], e->upper, e->work, log,
					  sizeof(log)));
	ASSERT_EQ(0, unlink(ufs_path(e->work, "staging")));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_STREQ("t", ufs_get(e->mnt, "top"));
}

TEST_F_TIMEOUT(mnt, volatile_marker_refuses_next_mount, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[8192];

	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,volatile",
		 e->lower[0], e->upper, e->work);
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,volatile", e->lower[0]));
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	EXPECT_TRUE(ufs_exists(e->work, "volatile"));
	ASSERT_EQ(0, ufs_put(e->mnt, "top", "written"));
	ASSERT_EQ(0, umount(e->mnt));
	/* the upper may be inconsistent: refused until reset */
	EXPECT_EQ(EINVAL, try_mount(e, "%s", opts));
	EXPECT_EQ(EINVAL, try_mount(e, "lowerdir=%s,upperdir=%s,workdir=%s",
				    e->lower[0], e->upper, e->work));
	ASSERT_EQ(0, rmdir(ufs_path(e->work, "volatile")));
	ASSERT_EQ(0, ufs_mount(e->mnt, opts + 0));
	EXPECT_STREQ("written", ufs_get(e->mnt, "top"));
	ASSERT_EQ(0, umount(e->mnt));
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

/* 1024 layers through fsconfig("lowerdir+"), far past the option page. */
TEST_F_TIMEOUT(big, thousand_layers_through_lowerdir_plus, UFS_TEST_TIMEOUT)
{
	/* 1024 on tmpfs; disk filesystems and the debug kernel use fewer */
	const int N = ufs_heavy() ? 1024 : 256;
	char *base = ufs_mkdtemp("many");
	char *mnt, *layer, name[64];
	int fd, i;

	ASSERT_NE(NULL, base);
	mnt = ufs_path(base, "mnt");
	ASSERT_EQ(0, mkdir(mnt, 0755));
	for (i = 0; i < N; i++) {
		layer = ufs_path(base, "l%04d", i);
		ASSERT_EQ(0, mkdir(layer, 0755));
		snprintf(name, sizeof(name), "in-%d", i);
		ASSERT_EQ(0, ufs_put(layer, name, name));
		ASSERT_EQ(0, ufs_put(layer, "shared", name));
		free(layer);
	}
	fd = ufs_fsopen("unionfs");
	ASSERT_GE(fd, 0);
	for (i = 0; i < N; i++) {
		layer = ufs_path(base, "l%04d", i);
		ASSERT_EQ(0, ufs_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", layer, 0));
		free(layer);
	}
	ASSERT_EQ(0, ufs_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	ASSERT_EQ(0, ufs_fsmount_at(fd, mnt));
	close(fd);

	EXPECT_STREQ("in-0", ufs_get(mnt, "shared"));
	EXPECT_STREQ("in-0", ufs_get(mnt, "in-0"));
	snprintf(name, sizeof(name), "in-%d", N / 2);
	EXPECT_STREQ(name, ufs_get(mnt, name) ?: "(missing)");
	snprintf(name, sizeof(name), "in-%d", N - 1);
	EXPECT_STREQ(name, ufs_get(mnt, name) ?: "(missing)");
	snprintf(name, sizeof(name), "in-%d", N);
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(mnt, name));
	{
		DIR *d = opendir(mnt);
		struct dirent *de;
		int count = 0;

		ASSERT_NE(NULL, d);
		while ((de = readdir(d)))
			count++;
		closedir(d);
		EXPECT_EQ(N + 1 + 2, count);	/* in-*, shared, . and .. */
	}
	EXPECT_EQ(0, umount(mnt));
	ufs_rm_rf(base);
}

TEST_HARNESS_MAIN
