// SPDX-License-Identifier: GPL-2.0-only
/*
 * Security cases from overlayfs's history, one test each: what an
 * unprivileged caller (uid 1000, or root of a user namespace mapped onto
 * uid 1000) must not be able to do through the union, and what copy-up must
 * not hand out (setuid bits, file capabilities, ACLs, trusted xattrs).
 * Every test also checks that the lower layers did not change.
 */
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

#define USER_UID 1000
#define NOBODY_OWNER 12345	/* not mapped in the test's user namespace */

/* --- running as somebody else ------------------------------------------- */

typedef int (*ufs_fn)(void *arg);

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return 98;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 97;
}

/* Run @fn as uid/gid 1000 without supplementary groups; its exit status. */
static int as_user(ufs_fn fn, void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		umask(022);
		if (setgroups(0, NULL) || setresgid(USER_UID, USER_UID, USER_UID) ||
		    setresuid(USER_UID, USER_UID, USER_UID))
			_exit(99);
		_exit(fn(arg));
	}
	return wait_child(pid);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * The kernel refuses new user namespaces to chrooted processes, and the
 * test guest runs everything in a chroot: step out to the real root (as
 * root may), keeping a handle on our root in @rootfd to come back to.
 * Harmless where there is no chroot.
 */
static int leave_chroot(int *rootfd)
{
	char dir[] = "/tmp/ufs-esc-XXXXXX";
	int i;

	*rootfd = open("/", O_DIRECTORY | O_RDONLY);
	if (*rootfd < 0 || !mkdtemp(dir) || chdir("/") || chroot(dir))
		return -1;
	for (i = 0; i < 64; i++)
		if (chdir(".."))
			return -1;
	unlinkat(*rootfd, dir + 1, AT_REMOVEDIR);
	return chroot(".");
}

/*
 * Run @fn as root of a fresh user namespace whose only uid and gid (0) map
 * onto 1000 outside; with a fresh mount namespace too when @newns.
 */
static int in_userns(ufs_fn fn, void *arg, int newns)
{
	int go[2], ready[2];
	char path[64], c = 0;
	int ok, root = -1;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	if (pipe(go) || pipe(ready))
		return 96;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		umask(022);
		if (setgroups(0, NULL) || leave_chroot(&root))
			_exit(95);
		if (unshare(CLONE_NEWUSER))
			_exit(95);
		/* back where we were, now with the namespace's powers */
		if (fchdir(root) || chroot("."))
			_exit(95);
		close(root);
		/* after the chroot: the copy moves our root along */
		if (newns && unshare(CLONE_NEWNS))
			_exit(95);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1 || c != 1)
			_exit(94);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			_exit(93);
		_exit(fn(arg));
	}
	close(go[0]);
	close(ready[1]);
	ok = read(ready[0], &c, 1) == 1;
	if (ok) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
		ok = !write_file(path, "0 1000 1\n");
		snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
		ok = ok && !write_file(path, "deny\n");
		snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
		ok = ok && !write_file(path, "0 1000 1\n");
	}
	c = ok;
	if (write(go[1], &c, 1) != 1)
		ok = 0;
	close(go[1]);
	close(ready[0]);
	return ok ? wait_child(pid) : (wait_child(pid), 92);
}

static int try_open_rd(void *p)
{
	int fd = open(p, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_opendir(void *p)
{
	DIR *d = opendir(p);

	if (!d)
		return errno;
	closedir(d);
	return 0;
}

static int try_stat(void *p)
{
	struct stat st;

	return stat(p, &st) ? errno : 0;
}

static int try_write(void *p)
{
	int fd = open(p, O_WRONLY | O_APPEND);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, "x", 1) != 1)
		err = errno;
	close(fd);
	return err;
}

static int try_chmod(void *p)
{
	return chmod(p, 0777) ? errno : 0;
}

static int try_chown(void *p)
{
	return chown(p, USER_UID, USER_UID) ? errno : 0;
}

/* to ourselves: the only ids a user namespace of ours maps */
static int try_chown_ns(void *p)
{
	return chown(p, 0, 0) ? errno : 0;
}

static int try_set_trusted(void *p)
{
	return setxattr(p, "trusted.evil", "1", 1, 0) ? errno : 0;
}

static int try_set_unionfs_private(void *p)
{
	return setxattr(p, "trusted.unionfs.opaque", "y", 1, 0) ? errno : 0;
}

/* A version 2 file capability: cap_net_raw, effective. */
static const struct vfs_cap_data cap_v2 = {
	.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
	.data = { { .permitted = 1u << CAP_NET_RAW } },
};

static int try_set_cap(void *p)
{
	return setxattr(p, "security.capability", &cap_v2, sizeof(cap_v2), 0) ?
	       errno : 0;
}

static int try_mount_unionfs(void *opts)
{
	char *mnt = ufs_mkdtemp("userns-mnt");
	int err;

	if (!mnt)
		return 91;
	/* the namespace can mount what allows it: tmpfs */
	if (mount("none", mnt, "tmpfs", 0, NULL))
		return 90;
	umount2(mnt, MNT_DETACH);
	err = mount("none", mnt, "unionfs", 0, opts) ? errno : 0;
	if (!err)
		umount2(mnt, MNT_DETACH);
	return err;
}

static int try_fsopen_unionfs(void *opts)
{
	char *mnt = ufs_mkdtemp("userns-mnt");
	int fd = ufs_fsopen("unionfs");
	int err = 0;

	if (!mnt)
		return 91;
	if (fd < 0)
		return errno;
	if (ufs_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir", opts, 0) ||
	    ufs_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		err = errno;
	else if (ufs_fsmount_at(fd, mnt))
		err = errno;
	else
		umount2(mnt, MNT_DETACH);
	close(fd);
	return err;
}

/* --- fixture ------------------------------------------------------------- */

FIXTURE(sec) {
	struct ufs_env e;
};

FIXTURE_SETUP(sec)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 2));
	/* the unprivileged caller must reach the layers */
	ASSERT_EQ(0, chmod(self->e.base, 0755));
}

FIXTURE_TEARDOWN(sec)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

static char *L(struct ufs_env *e, int i, const char *rel)
{
	return ufs_path(e->lower[i], "%s", rel);
}

static char *U(struct ufs_env *e, const char *rel)
{
	return ufs_path(e->upper, "%s", rel);
}

static char *M(struct ufs_env *e, const char *rel)
{
	return ufs_path(e->mnt, "%s", rel);
}

static int put_mode(struct ufs_env *e, int i, const char *rel, mode_t mode,
		    uid_t uid, gid_t gid)
{
	char *p = L(e, i, rel);
	int ret = ufs_put(e->lower[i], rel, "#!/bin/sh\necho hi\n") ||
		  chown(p, uid, gid) || chmod(p, mode);

	free(p);
	return ret;
}

static int upper_entries(struct ufs_env *e)
{
	return ufs_count_entries(e->upper);
}

/*
 * CVE-2023-0386 class: a setuid file and a file-capability file owned by an
 * id the caller's user namespace does not map, in a nosuid lower. Copy-up
 * triggered by that caller must not produce a setuid file or a file
 * capability in the upper: either the write is refused, or the copy loses
 * the bits as a write by a non-owner does on any filesystem.
 */
TEST_F_TIMEOUT(sec, setuid_and_fcap_copy_up_from_unmapped_owner, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	int err;

	ASSERT_EQ(0, put_mode(e, 1, "bin/suid", 04777, NOBODY_OWNER, NOBODY_OWNER));
	ASSERT_EQ(0, put_mode(e, 1, "bin/fcap", 0777, NOBODY_OWNER, NOBODY_OWNER));
	ASSERT_EQ(0, setxattr(L(e, 1, "bin/fcap"), "security.capability",
			      &cap_v2, sizeof(cap_v2), 0));
	/* the lower layer sits on a nosuid mount */
	ASSERT_EQ(0, mount(e->lower[1], e->lower[1], NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mount(NULL, e->lower[1], NULL,
			   MS_REMOUNT | MS_BIND | MS_NOSUID, NULL));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	err = in_userns(try_write, M(e, "bin/suid"), 0);
	EXPECT_TRUE(err == 0 || err == EPERM || err == EOVERFLOW || err == EACCES)
		TH_LOG("write of the setuid file: %d", err);
	if (!lstat(U(e, "bin/suid"), &st)) {
		EXPECT_EQ(0, st.st_mode & (S_ISUID | S_ISGID))
			TH_LOG("copy-up kept setuid: mode %o", st.st_mode);
	} else {
		EXPECT_NE(0, err);
	}
	EXPECT_EQ(0, lstat(M(e, "bin/suid"), &st));
	EXPECT_EQ(0, st.st_mode & S_ISUID);

	err = in_userns(try_write, M(e, "bin/fcap"), 0);
	EXPECT_TRUE(err == 0 || err == EPERM || err == EOVERFLOW || err == EACCES)
		TH_LOG("write of the fcap file: %d", err);
	if (!lstat(U(e, "bin/fcap"), &st)) {
		EXPECT_EQ(-1, getxattr(U(e, "bin/fcap"), "security.capability",
				       NULL, 0));
	}
	EXPECT_EQ(-1, getxattr(M(e, "bin/fcap"), "security.capability", NULL, 0));
	umount2(e->mnt, 0);
	e->mounted = 0;
	umount2(e->lower[1], 0);
}

/* A write by a non-owner clears setuid/setgid, through the union too. */
TEST_F_TIMEOUT(sec, write_by_non_owner_clears_setuid_setgid, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;

	ASSERT_EQ(0, put_mode(e, 0, "suid", 04777, 0, 0));
	ASSERT_EQ(0, put_mode(e, 0, "sgid", 02777, 0, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_EQ(0, as_user(try_write, M(e, "suid")));
	EXPECT_EQ(0, as_user(try_write, M(e, "sgid")));
	ASSERT_EQ(0, stat(M(e, "suid"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);
	ASSERT_EQ(0, stat(M(e, "sgid"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);
	ASSERT_EQ(0, stat(U(e, "suid"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);
}

/* A write to a file with a capability drops it, as on any filesystem. */
TEST_F_TIMEOUT(sec, write_drops_file_capability, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, put_mode(e, 0, "fcap", 0755, USER_UID, USER_UID));
	ASSERT_EQ(0, setxattr(L(e, 0, "fcap"), "security.capability",
			      &cap_v2, sizeof(cap_v2), 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	/* shown as it is before anything happens */
	EXPECT_EQ((ssize_t)sizeof(cap_v2),
		  getxattr(M(e, "fcap"), "security.capability", NULL, 0));
	EXPECT_EQ(0, as_user(try_write, M(e, "fcap")));
	EXPECT_EQ(-1, getxattr(M(e, "fcap"), "security.capability", NULL, 0));
	EXPECT_EQ(-1, getxattr(U(e, "fcap"), "security.capability", NULL, 0));
	/* and the owner may not set one */
	EXPECT_EQ(EPERM, as_user(try_set_cap, M(e, "fcap")));
	EXPECT_EQ(-1, getxattr(U(e, "fcap"), "security.capability", NULL, 0));
}

/*
 * CVE-2021-3493 class: root of a user namespace sets a v2 (global) file
 * capability through the union on a file it owns. The kernel's checked path
 * turns it into a v3 capability bound to the namespace's root (uid 1000);
 * the upper must never get a global v2 one.
 */
TEST_F_TIMEOUT(sec, userns_file_capability_stays_namespaced, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct vfs_ns_cap_data raw;
	ssize_t n;
	int err;

	ASSERT_EQ(0, put_mode(e, 0, "mine", 0755, USER_UID, USER_UID));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	err = in_userns(try_set_cap, M(e, "mine"), 0);
	EXPECT_TRUE(err == 0 || err == EPERM || err == EOPNOTSUPP)
		TH_LOG("setcap in userns: %d", err);
	n = getxattr(U(e, "mine"), "security.capability", &raw, sizeof(raw));
	if (err) {
		EXPECT_EQ(-1, n);
	} else {
		ASSERT_EQ((ssize_t)sizeof(raw), n);
		EXPECT_EQ(VFS_CAP_REVISION_3,
			  raw.magic_etc & VFS_CAP_REVISION_MASK);
		EXPECT_EQ(USER_UID, raw.rootid);
	}
}

/* trusted.* needs CAP_SYS_ADMIN; private xattrs are nobody's; no copy-up. */
TEST_F_TIMEOUT(sec, trusted_xattrs_not_settable_by_users, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char val[8];

	ASSERT_EQ(0, put_mode(e, 0, "mine", 0644, USER_UID, USER_UID));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], "mydir"));
	ASSERT_EQ(0, chown(L(e, 0, "mydir"), USER_UID, USER_UID));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_EQ(EPERM, as_user(try_set_trusted, M(e, "mine")));
	EXPECT_EQ(EPERM, as_user(try_set_unionfs_private, M(e, "mydir")));
	EXPECT_NE(0, in_userns(try_set_trusted, M(e, "mine"), 0));
	EXPECT_NE(0, in_userns(try_set_unionfs_private, M(e, "mydir"), 0));
	EXPECT_EQ(0, upper_entries(e));
	/* root cannot forge our markers either */
	EXPECT_NE(0, try_set_unionfs_private(M(e, "mydir")));
	EXPECT_EQ(-1, getxattr(U(e, "mydir"), "trusted.unionfs.opaque",
			       val, sizeof(val)));
}

/* chmod/chown of a lower file by a non-owner: EPERM, nothing copied up. */
TEST_F_TIMEOUT(sec, chmod_chown_by_non_owner_refused_without_copy_up, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;

	ASSERT_EQ(0, put_mode(e, 1, "d/rootfile", 0666, 0, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_EQ(EPERM, as_user(try_chmod, M(e, "d/rootfile")));
	EXPECT_EQ(EPERM, as_user(try_chown, M(e, "d/rootfile")));
	EXPECT_EQ(EPERM, in_userns(try_chmod, M(e, "d/rootfile"), 0));
	EXPECT_EQ(EPERM, in_userns(try_chown_ns, M(e, "d/rootfile"), 0));
	EXPECT_EQ(EPERM, as_user(try_chmod, M(e, "d")));
	EXPECT_EQ(0, upper_entries(e));
	ASSERT_EQ(0, stat(M(e, "d/rootfile"), &st));
	EXPECT_EQ(0666, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

/* rename(2) of a name onto another hard link of the same file: no-op. */
TEST_F_TIMEOUT(sec, rename_onto_own_hard_link_is_noop, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat a;

	ASSERT_EQ(0, ufs_put(e->lower[0], "x", "lower"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	/* links made in the union */
	ASSERT_EQ(0, ufs_put(e->mnt, "c", "upper"));
	ASSERT_EQ(0, link(M(e, "c"), M(e, "d")));
	EXPECT_EQ(0, rename(M(e, "c"), M(e, "d")));
	EXPECT_TRUE(ufs_exists(e->mnt, "c"));
	EXPECT_TRUE(ufs_exists(e->mnt, "d"));
	ASSERT_EQ(0, stat(M(e, "d"), &a));
	EXPECT_EQ(2, a.st_nlink);
	EXPECT_EQ(0, renameat2(AT_FDCWD, M(e, "c"), AT_FDCWD, M(e, "d"),
			       RENAME_EXCHANGE));
	EXPECT_STREQ("upper", ufs_get(e->mnt, "c"));
	EXPECT_STREQ("upper", ufs_get(e->mnt, "d"));
	/* a copied-up lower file and a link to it made in the union */
	ASSERT_EQ(0, link(M(e, "x"), M(e, "y")));
	EXPECT_EQ(0, rename(M(e, "y"), M(e, "x")));
	EXPECT_TRUE(ufs_exists(e->mnt, "x"));
	EXPECT_TRUE(ufs_exists(e->mnt, "y"));
	EXPECT_STREQ("lower", ufs_get(e->mnt, "y"));
}

/* The same with two names a lower layer linked: both stay. */
TEST_F_TIMEOUT(sec, rename_onto_own_lower_hard_link_is_noop, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat a, b;

	ASSERT_EQ(0, ufs_put(e->lower[0], "a", "lower"));
	ASSERT_EQ(0, link(L(e, 0, "a"), L(e, 0, "b")));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, stat(M(e, "a"), &a));
	ASSERT_EQ(0, stat(M(e, "b"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(0, rename(M(e, "a"), M(e, "b")));
	EXPECT_TRUE(ufs_exists(e->mnt, "a"));
	EXPECT_TRUE(ufs_exists(e->mnt, "b"));
	EXPECT_STREQ("lower", ufs_get(e->mnt, "b"));
}

/*
 * Entries the caller may not read stay closed, whoever looked first (the
 * union caches merged listings and lookups).
 */
TEST_F_TIMEOUT(sec, unreadable_lower_entries_stay_closed, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, put_mode(e, 1, "merged/secret", 0600, 0, 0));
	ASSERT_EQ(0, put_mode(e, 0, "merged/public", 0644, 0, 0));
	ASSERT_EQ(0, chmod(L(e, 0, "merged"), 0700));	/* the top decides */
	ASSERT_EQ(0, ufs_put(e->lower[1], "xonly/known", "k"));
	ASSERT_EQ(0, chmod(L(e, 1, "xonly"), 0711));
	ASSERT_EQ(0, put_mode(e, 1, "open/secret", 0600, 0, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	/* root fills the caches first */
	EXPECT_EQ(0, try_opendir(M(e, "merged")));
	EXPECT_EQ(0, try_open_rd(M(e, "merged/secret")));
	EXPECT_EQ(0, try_opendir(M(e, "xonly")));
	EXPECT_EQ(0, try_open_rd(M(e, "open/secret")));

	EXPECT_EQ(EACCES, as_user(try_opendir, M(e, "merged")));
	EXPECT_EQ(EACCES, as_user(try_stat, M(e, "merged/public")));
	EXPECT_EQ(EACCES, as_user(try_opendir, M(e, "xonly")));
	EXPECT_EQ(0, as_user(try_stat, M(e, "xonly/known")));
	EXPECT_EQ(EACCES, as_user(try_open_rd, M(e, "open/secret")));
	EXPECT_EQ(EACCES, in_userns(try_open_rd, M(e, "open/secret"), 0));
	EXPECT_EQ(EACCES, in_userns(try_opendir, M(e, "merged"), 0));
	/* after a copy-up of the directory the rules are the same */
	ASSERT_EQ(0, ufs_put(e->mnt, "merged/new", "n"));
	EXPECT_EQ(EACCES, as_user(try_opendir, M(e, "merged")));
	EXPECT_EQ(0, upper_entries(e) == 1 ? 0 : -1);
}

/* Mounting unionfs from inside a user namespace is refused. */
TEST_F_TIMEOUT(sec, mount_in_user_namespace_refused, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[PATH_MAX * 2];

	ASSERT_EQ(0, ufs_put(e->lower[0], "f", "f"));
	ASSERT_EQ(0, chown(e->lower[0], USER_UID, USER_UID));
	ASSERT_EQ(0, chown(e->lower[1], USER_UID, USER_UID));
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", e->lower[0], e->lower[1]);
	EXPECT_EQ(EPERM, in_userns(try_mount_unionfs, opts, 1));
	snprintf(opts, sizeof(opts), "%s:%s", e->lower[0], e->lower[1]);
	EXPECT_EQ(EPERM, in_userns(try_fsopen_unionfs, opts, 1));
	/* and by a plain user */
	EXPECT_EQ(EPERM, as_user(try_fsopen_unionfs, opts));
	ASSERT_EQ(0, chown(e->lower[0], 0, 0));
	ASSERT_EQ(0, chown(e->lower[1], 0, 0));
	/* nothing mounted: nothing for the teardown to compare */
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	e->fp[1] = ufs_fingerprint(e->lower[1]);
}

/* --- setgid directories with default ACLs ------------------------------- */

#define ACL_HDR 2, 0, 0, 0
/* tag, perm (le16), id (le32) */
#define ACE(tag, perm, id) (tag) & 0xff, (tag) >> 8, (perm), 0, \
	(id) & 0xff, ((id) >> 8) & 0xff, ((id) >> 16) & 0xff, ((id) >> 24) & 0xff
#define UNDEF 0xffffffffu

static const unsigned char dacl[] = {
	ACL_HDR,
	ACE(0x01, 7, UNDEF),		/* user:: rwx */
	ACE(0x02, 7, 2000u),		/* user:2000: rwx */
	ACE(0x04, 5, UNDEF),		/* group:: r-x */
	ACE(0x08, 6, 3000u),		/* group:3000: rw- */
	ACE(0x10, 7, UNDEF),		/* mask:: rwx */
	ACE(0x20, 5, UNDEF),		/* other:: r-x */
};

static const unsigned char facl[] = {
	ACL_HDR,
	ACE(0x01, 6, UNDEF),
	ACE(0x02, 6, 2000u),
	ACE(0x04, 4, UNDEF),
	ACE(0x10, 6, UNDEF),
	ACE(0x20, 4, UNDEF),
};

struct made {
	const char *dir;
	mode_t mode;
};

static int make_in(void *p)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/newfile", (char *)p);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 02775);
	if (fd < 0)
		return 10;
	close(fd);
	snprintf(path, sizeof(path), "%s/newdir", (char *)p);
	if (mkdir(path, 0777))
		return 11;
	return 0;
}

/* Mode, owner and both ACLs of @path, as bytes to compare. */
static void facts(const char *path, char *out, size_t size)
{
	unsigned char a[256], d[256];
	ssize_t na, nd, i;
	struct stat st;
	int n;

	if (lstat(path, &st)) {
		snprintf(out, size, "missing");
		return;
	}
	na = getxattr(path, "system.posix_acl_access", a, sizeof(a));
	nd = getxattr(path, "system.posix_acl_default", d, sizeof(d));
	n = snprintf(out, size, "mode %o uid %d gid %d acl", st.st_mode,
		     st.st_uid, st.st_gid);
	for (i = 0; i < na && n < (int)size - 4; i++)
		n += snprintf(out + n, size - n, "%02x", a[i]);
	n += snprintf(out + n, size - n, " dacl");
	for (i = 0; i < nd && n < (int)size - 4; i++)
		n += snprintf(out + n, size - n, "%02x", d[i]);
}

static int setup_sgid_dir(const char *dir)
{
	if (ufs_mkdirs(dir, 0755) || chown(dir, 0, 4321) ||
	    chmod(dir, 02777))
		return -1;
	return setxattr(dir, "system.posix_acl_default", dacl, sizeof(dacl), 0);
}

TEST_F_TIMEOUT(sec, setgid_dir_with_default_acl_copy_up_exact, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ctl = ufs_path(e->base, "control/sg");
	char *ctl_old = ufs_path(e->base, "control/sg/old");
	char want[1024], got[1024];
	const char *names[] = { "newfile", "newdir" };
	unsigned int i;
	struct stat st;

	if (setup_sgid_dir(L(e, 1, "sg")))
		SKIP(return, "backing fs has no POSIX ACLs");
	ASSERT_EQ(0, ufs_put(e->lower[1], "sg/old", "old"));
	ASSERT_EQ(0, chown(L(e, 1, "sg/old"), 0, 5555));
	ASSERT_EQ(0, chmod(L(e, 1, "sg/old"), 0664));
	ASSERT_EQ(0, setxattr(L(e, 1, "sg/old"), "system.posix_acl_access",
			      facl, sizeof(facl), 0));
	/* the same by hand outside any union: what the kernel does natively */
	ASSERT_EQ(0, setup_sgid_dir(ctl));
	ASSERT_EQ(0, ufs_put(ctl, "old", "old"));
	ASSERT_EQ(0, chown(ctl_old, 0, 5555));
	ASSERT_EQ(0, chmod(ctl_old, 0664));
	ASSERT_EQ(0, setxattr(ctl_old, "system.posix_acl_access", facl,
			      sizeof(facl), 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	/* copy-up of the old file by a write: everything exact */
	facts(L(e, 1, "sg/old"), want, sizeof(want));
	ASSERT_EQ(0, write_file(M(e, "sg/old"), "new"));
	facts(U(e, "sg/old"), got, sizeof(got));
	EXPECT_STREQ(want, got);
	facts(M(e, "sg/old"), got, sizeof(got));
	EXPECT_STREQ(want, got);
	facts(L(e, 1, "sg"), want, sizeof(want));
	facts(U(e, "sg"), got, sizeof(got));
	EXPECT_STREQ(want, got);

	/* new entries made by a user outside the group: as natively */
	ASSERT_EQ(0, as_user(make_in, ctl));
	ASSERT_EQ(0, as_user(make_in, M(e, "sg")));
	for (i = 0; i < 2; i++) {
		char *c = ufs_path(ctl, "%s", names[i]);
		char *m = ufs_path(e->mnt, "sg/%s", names[i]);
		char *u = ufs_path(e->upper, "sg/%s", names[i]);

		facts(c, want, sizeof(want));
		facts(m, got, sizeof(got));
		EXPECT_STREQ(want, got) TH_LOG("%s through the union", names[i]);
		facts(u, got, sizeof(got));
		EXPECT_STREQ(want, got) TH_LOG("%s in the upper", names[i]);
		free(c);
		free(m);
		free(u);
	}
	ASSERT_EQ(0, stat(M(e, "sg/newfile"), &st));
	EXPECT_EQ(0, st.st_mode & S_ISGID);
	EXPECT_EQ(4321, st.st_gid);
}

/* --- ACL writes and set-group-id: as on a plain filesystem --------------- */

/* user::rw- user:1000:rw- group::--- mask::rw- other::--- */
static const unsigned char acl_u1000[] = {
	ACL_HDR,
	ACE(0x01, 6, UNDEF),
	ACE(0x02, 6, 1000u),
	ACE(0x04, 0, UNDEF),
	ACE(0x10, 6, UNDEF),
	ACE(0x20, 0, UNDEF),
};

/* user::rwx group::r-x other::r-x: the mode as an ACL (no mask) */
static const unsigned char acl_min[] = {
	ACL_HDR,
	ACE(0x01, 7, UNDEF),
	ACE(0x04, 5, UNDEF),
	ACE(0x20, 5, UNDEF),
};

static int try_set_acl(void *p)
{
	return setxattr(p, "system.posix_acl_access", acl_u1000,
			sizeof(acl_u1000), 0) ? errno : 0;
}

static int try_set_min_acl(void *p)
{
	return setxattr(p, "system.posix_acl_access", acl_min,
			sizeof(acl_min), 0) ? errno : 0;
}

static int try_set_default_acl(void *p)
{
	return setxattr(p, "system.posix_acl_default", acl_u1000,
			sizeof(acl_u1000), 0) ? errno : 0;
}

static int try_remove_acl(void *p)
{
	return removexattr(p, "system.posix_acl_access") ? errno : 0;
}

static int try_chmod_2755(void *p)
{
	return chmod(p, 02755) ? errno : 0;
}

/*
 * Set up @rel as a file (or directory when @dir) owned uid:gid with
 * @mode, in lower layer 1 and in a control directory on the same fs.
 */
static int twin(struct ufs_env *e, const char *rel, int dir, mode_t mode,
		uid_t uid, gid_t gid)
{
	char *l = L(e, 1, rel), *c = ufs_path(e->base, "control/%s", rel);
	int ret;

	if (ufs_mkdirs(ufs_path(e->base, "control"), 0755))
		return -1;
	if (dir)
		ret = ufs_mkdirs(l, 0755) || ufs_mkdirs(c, 0755);
	else
		ret = ufs_put(e->lower[1], rel, "data") ||
		      ufs_put(ufs_path(e->base, "control"), rel, "data");
	ret = ret || chown(l, uid, gid) || chmod(l, mode) ||
	      chown(c, uid, gid) || chmod(c, mode);
	free(l);
	free(c);
	return ret;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

/*
 * Issue 14 item 1: only the owner (or CAP_FOWNER) may set or remove a
 * POSIX ACL; 6.1 routed system.posix_acl_* writes to the catch-all
 * handler, which wrote them with the mounter's credentials.
 */
TEST_F_TIMEOUT(sec, acl_writes_need_owner, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ctl = ufs_path(e->base, "control");
	int (*fns[])(void *) = { try_set_acl, try_remove_acl };
	const char *fn_names[] = { "set", "remove" };
	unsigned int i;

	ASSERT_EQ(0, twin(e, "rootfile", 0, 0600, 0, 0));
	ASSERT_EQ(0, twin(e, "rootdir", 1, 0700, 0, 0));
	ASSERT_EQ(0, twin(e, "mine", 0, 0600, USER_UID, USER_UID));
	if (try_set_min_acl(ufs_path(ctl, "mine")))
		SKIP(return, "backing fs has no POSIX ACLs");
	ASSERT_EQ(0, chmod(ufs_path(ctl, "mine"), 0600));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	for (i = 0; i < 2; i++) {
		int want = as_user(fns[i], ufs_path(ctl, "rootfile"));

		EXPECT_EQ(EPERM, want) TH_LOG("plain fs: %s", fn_names[i]);
		EXPECT_EQ(want, as_user(fns[i], M(e, "rootfile")))
			TH_LOG("%s ACL of a root file by uid 1000", fn_names[i]);
	}
	EXPECT_EQ(as_user(try_set_default_acl, ufs_path(ctl, "rootdir")),
		  as_user(try_set_default_acl, M(e, "rootdir")));
	EXPECT_EQ(EACCES, as_user(try_open_rd, M(e, "rootfile")));
	EXPECT_EQ(0, upper_entries(e));
	/* the owner may */
	EXPECT_EQ(0, as_user(try_set_acl, ufs_path(ctl, "mine")));
	EXPECT_EQ(0, as_user(try_set_acl, M(e, "mine")));
	EXPECT_EQ(mode_of(ufs_path(ctl, "mine")), mode_of(M(e, "mine")));
	free(ctl);
}

/*
 * Issue 14 item 2: the owner of a file whose group it is not in cannot
 * make it set-group-id: chmod 2755 gives 0755 (setattr_prepare() drops
 * the bit; the union applied its copy from before, with the mounter's
 * CAP_FSETID), and an ACL change drops the bit as it does on tmpfs.
 */
TEST_F_TIMEOUT(sec, setgid_dropped_for_owner_outside_group, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ctl = ufs_path(e->base, "control");
	mode_t want;

	ASSERT_EQ(0, twin(e, "chmod", 0, 0755, USER_UID, 5000));
	ASSERT_EQ(0, twin(e, "acl", 0, 02755, USER_UID, 5000));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	EXPECT_EQ(0, as_user(try_chmod_2755, ufs_path(ctl, "chmod")));
	EXPECT_EQ(0, as_user(try_chmod_2755, M(e, "chmod")));
	want = mode_of(ufs_path(ctl, "chmod"));
	EXPECT_EQ(0755, want);
	EXPECT_EQ(want, mode_of(M(e, "chmod")));
	EXPECT_EQ(want, mode_of(U(e, "chmod")));

	if (try_set_min_acl(ufs_path(ctl, "acl")) == EOPNOTSUPP)
		SKIP(return, "backing fs has no POSIX ACLs");
	ASSERT_EQ(0, chmod(ufs_path(ctl, "acl"), 02755));
	EXPECT_EQ(0, as_user(try_set_min_acl, ufs_path(ctl, "acl")));
	EXPECT_EQ(0, as_user(try_set_min_acl, M(e, "acl")));
	want = mode_of(ufs_path(ctl, "acl"));
	EXPECT_EQ(0755, want);
	EXPECT_EQ(want, mode_of(M(e, "acl")));
	EXPECT_EQ(want, mode_of(U(e, "acl")));
	free(ctl);
}

/*
 * An upper that cannot store ACLs (btrfs mounted noacl, on a loop device
 * in @e->base; ext4 has no noacl any more): an ACL write is refused with
 * EOPNOTSUPP before anything changes, as on that filesystem itself: no
 * copy-up, no set-group-id bit dropped (the union dropped the bit and
 * copied up, then failed). Makes @e's upper and workdir live there;
 * unmount with noacl_upper_done().
 */
static int noacl_upper(struct ufs_env *e, const char *fsdir)
{
	char cmd[PATH_MAX * 3];

	if (mkdir(fsdir, 0755))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "modprobe -q loop 2>/dev/null; truncate -s 256M %s.img && "
		 "mkfs.btrfs -q -f %s.img >&2 && mount -t btrfs -o loop,noacl %s.img %s",
		 fsdir, fsdir, fsdir, fsdir);
	if (system(cmd))
		return -1;
	free(e->upper);
	free(e->work);
	e->upper = ufs_path(fsdir, "upper");
	e->work = ufs_path(fsdir, "work");
	return mkdir(e->upper, 0755) || mkdir(e->work, 0755) ||
	       ufs_mkdirs(ufs_path(fsdir, "control"), 0755);
}

static void noacl_upper_done(struct ufs_env *e, const char *fsdir)
{
	if (e->mounted && !umount2(e->mnt, 0))
		e->mounted = 0;
	umount2(fsdir, 0);
}

TEST_F_TIMEOUT(sec, acl_refused_before_changes_when_upper_has_none, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *fsdir = ufs_path(e->base, "noacl");
	char *ctl = ufs_path(fsdir, "control/acl");
	int (*fns[])(void *) = { try_set_min_acl, try_set_acl, try_remove_acl };
	unsigned int i;

	ASSERT_EQ(0, twin(e, "acl", 0, 02755, USER_UID, 5000));
	ASSERT_EQ(0, noacl_upper(e, fsdir)) TH_LOG("cannot make a noacl btrfs upper");
	ASSERT_EQ(0, ufs_put(fsdir, "control/acl", "data"));
	ASSERT_EQ(0, chown(ctl, USER_UID, 5000));
	ASSERT_EQ(0, chmod(ctl, 02755));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	for (i = 0; i < 3; i++) {
		int want = as_user(fns[i], ctl);

		EXPECT_EQ(EOPNOTSUPP, want) TH_LOG("noacl btrfs itself, op %u", i);
		EXPECT_EQ(want, as_user(fns[i], M(e, "acl"))) TH_LOG("op %u by the owner", i);
		EXPECT_EQ(want, fns[i](M(e, "acl"))) TH_LOG("op %u by root", i);
		EXPECT_EQ(02755, mode_of(ctl));
		EXPECT_EQ(02755, mode_of(M(e, "acl"))) TH_LOG("op %u", i);
		EXPECT_EQ(0, ufs_exists(e->upper, "acl")) TH_LOG("op %u copied up", i);
	}
	noacl_upper_done(e, fsdir);
	free(ctl);
	free(fsdir);
}

/*
 * Issue 14 item 6: a name made again where a lower entry was removed
 * (over a whiteout: made in the staging directory, then renamed into
 * place) gets what a plain create gives it: the set-group-id directory's
 * group (and bit, for a directory), its default ACL, the mode that
 * implies. Oracle: the same by hand in a directory outside any union.
 */
TEST_F_TIMEOUT(sec, create_over_whiteout_inherits_like_plain_create, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ctl = ufs_path(e->base, "control/sg");
	char want[1024], got[1024];
	const char *names[] = { "newfile", "newdir" };
	unsigned int i;

	if (setup_sgid_dir(L(e, 1, "sg")))
		SKIP(return, "backing fs has no POSIX ACLs");
	ASSERT_EQ(0, setup_sgid_dir(ctl));
	/* lower entries of the names make_in() uses, removed in the union */
	ASSERT_EQ(0, ufs_put(e->lower[1], "sg/newfile", "old"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[1], "sg/newdir"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, unlink(M(e, "sg/newfile")));
	ASSERT_EQ(0, rmdir(M(e, "sg/newdir")));

	ASSERT_EQ(0, as_user(make_in, ctl));
	ASSERT_EQ(0, as_user(make_in, M(e, "sg")));
	for (i = 0; i < 2; i++) {
		char *c = ufs_path(ctl, "%s", names[i]);
		char *m = ufs_path(e->mnt, "sg/%s", names[i]);
		char *u = ufs_path(e->upper, "sg/%s", names[i]);

		facts(c, want, sizeof(want));
		facts(m, got, sizeof(got));
		EXPECT_STREQ(want, got) TH_LOG("%s through the union", names[i]);
		facts(u, got, sizeof(got));
		EXPECT_STREQ(want, got) TH_LOG("%s in the upper", names[i]);
		free(c);
		free(m);
		free(u);
	}
	/* the lower entries stay hidden */
	EXPECT_STREQ("", ufs_get(e->mnt, "sg/newfile"));
	free(ctl);
}

/*
 * Issue 14 item 7: the LSMs decide which xattrs a copy-up takes
 * (security_inode_copy_up_xattr()): EVM leaves behind a security.evm
 * that is not a portable signature (6.12; 6.1 has no EVM hook there).
 * Oracle: overlayfs copying up the same lower files in the same kernel.
 */
TEST_F_TIMEOUT(sec, lsm_decides_which_xattrs_copy_up, UFS_TEST_TIMEOUT)
{
	/* evm_ima_xattr_data: type, then a v2 signature header and bytes */
	static const unsigned char digsig[] = { 3, 2, 4, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 };
	static const unsigned char portable[] = { 5, 2, 4, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 };
	static const struct { const char *name; const unsigned char *v; size_t n; } f[] = {
		{ "evm-digsig", digsig, sizeof(digsig) },
		{ "evm-portable", portable, sizeof(portable) },
	};
	struct ufs_env *e = &self->e;
	char *ou = ufs_path(e->base, "ovl-upper"), *ow = ufs_path(e->base, "ovl-work");
	char *om = ufs_path(e->base, "ovl-mnt");
	char opts[PATH_MAX * 4];
	int want[2], got;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ufs_put(e->lower[1], f[i].name, "data"));
		if (setxattr(L(e, 1, f[i].name), "security.evm", f[i].v, f[i].n, 0))
			SKIP(return, "cannot set security.evm here: %s", strerror(errno));
	}
	ASSERT_EQ(0, mkdir(ou, 0755));
	ASSERT_EQ(0, mkdir(ow, 0755));
	ASSERT_EQ(0, mkdir(om, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[1], ou, ow);
	if (mount("overlay", om, "overlay", 0, opts))
		SKIP(return, "no overlayfs: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		char *p = ufs_path(om, "%s", f[i].name), *u = ufs_path(ou, "%s", f[i].name);

		EXPECT_EQ(0, write_file(p, "x"));
		want[i] = getxattr(u, "security.evm", NULL, 0) > 0;
		free(p);
		free(u);
	}
	umount2(om, 0);
	/* the fingerprints are taken now: overlayfs changed nothing below */
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, write_file(M(e, f[i].name), "x"));
		got = getxattr(U(e, f[i].name), "security.evm", NULL, 0) > 0;
		EXPECT_EQ(want[i], got) TH_LOG("%s: overlayfs %s security.evm, unionfs %s",
					       f[i].name, want[i] ? "keeps" : "drops",
					       got ? "keeps" : "drops");
	}
	free(ou);
	free(ow);
	free(om);
}

TEST_HARNESS_MAIN
