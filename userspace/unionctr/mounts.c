// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "container.h"
#include "mountinfo.h"
#include "mounts.h"
#include "safepath.h"
#include "terminal.h"
#include "utils.h"

static const char *fstype(const char *storage)
{
	return !strcmp(storage, "overlay") ? "overlay" : "unionfs";
}

/* Paths the option string cannot carry as they are (its separators). */
static bool needs_escape(const char *s)
{
	return s && strpbrk(s, ":,\\") != NULL;
}

static void append(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);

	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static int fsconfig_error(int fd, const char *what, uc_error_t *err)
{
	char log[512];
	ssize_t n;
	int saved = errno;

	n = fd >= 0 ? read(fd, log, sizeof(log) - 1) : -1;
	if (n > 0) {
		log[n] = '\0';
		if (log[n - 1] == '\n')
			log[n - 1] = '\0';
		return uc_error(err, 0, "%s: %s", what, log);
	}
	return uc_error_errno(err, saved, "%s", what);
}

/*
 * A detached mount of the union (new mount API), one "lowerdir+" per
 * layer: no 4 KiB limit, each path verbatim.  Returns the mount's fd.
 */
static int union_fsmount(const char *type, char *const *lowers, const char *upper,
			 const char *work, unsigned int attrs, uc_error_t *err)
{
	int fd, mfd = -1;
	size_t i;

	fd = fsopen(type, FSOPEN_CLOEXEC);
	if (fd < 0)
		return uc_error_errno(err, errno, "fsopen %s%s", type,
				      errno == ENODEV ? " (is the module loaded?)" : "");
	for (i = 0; lowers[i]; i++)
		if (fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0) {
			fsconfig_error(fd, "mount: lowerdir+", err);
			goto out;
		}
	if (upper && (fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
		      fsconfig(fd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)) {
		fsconfig_error(fd, "mount: upperdir/workdir", err);
		goto out;
	}
	if (fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		fsconfig_error(fd, "mount", err);
		goto out;
	}
	mfd = fsmount(fd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		fsconfig_error(fd, "fsmount", err);
out:
	close(fd);
	return mfd;
}

static int mount_union_fsconfig(const char *type, char *const *lowers,
				const char *upper, const char *work,
				const char *target, uc_error_t *err)
{
	int mfd, ret = 0;

	mfd = union_fsmount(type, lowers, upper, work,
			    (upper ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NODEV, err);
	if (mfd < 0)
		return -1;
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		ret = uc_error_errno(err, errno, "move_mount to `%s`", target);
	close(mfd);
	return ret;
}

/* "TOP:...:BOTTOM"; *verbatim when a path holds a separator of the list. */
static char *lower_list(char *const *lowers, bool *verbatim)
{
	char *list = xstrdup("");
	size_t len = 0, i;

	for (i = 0; lowers[i]; i++) {
		if (i)
			append(&list, &len, ":");
		append(&list, &len, lowers[i]);
		*verbatim |= needs_escape(lowers[i]);
	}
	return list;
}

int mount_union(const char *storage, char *const *lowers, const char *upper,
		const char *work, const char *target, uc_error_t *err)
{
	const char *type = fstype(storage);
	char *opts = NULL, *list;
	size_t len = 0, n = strv_len(lowers);
	/* fsconfig() takes each path verbatim: used when the option page
	 * is too small or a path holds a separator. */
	bool verbatim = needs_escape(upper) || needs_escape(work);
	int ret;

	if (n == 0)
		return uc_error(err, 0, "image has no layers");
	/* overlayfs wants two lowers without an upper: bind the only one. */
	if (!upper && n == 1 && !strcmp(type, "overlay")) {
		if (mount(lowers[0], target, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV, NULL) < 0)
			return uc_error_errno(err, errno, "bind `%s`", lowers[0]);
		return 0;
	}
	list = lower_list(lowers, &verbatim);
	append(&opts, &len, "lowerdir=");
	append(&opts, &len, list);
	free(list);
	if (upper) {
		append(&opts, &len, ",upperdir=");
		append(&opts, &len, upper);
		append(&opts, &len, ",workdir=");
		append(&opts, &len, work);
	}
	if (verbatim || len >= (size_t)getpagesize() - 1 || getenv("UNIONCTR_FSCONFIG")) {
		free(opts);
		return mount_union_fsconfig(type, lowers, upper, work, target, err);
	}
	ret = mount(type, target, type, (upper ? 0 : MS_RDONLY) | MS_NODEV, opts);
	if (ret < 0) {
		uc_error_errno(err, errno, "mount -t %s on `%s`%s", type, target,
			       errno == ENODEV ? " (is the module loaded?)" : "");
	}
	free(opts);
	return ret;
}

/* The child of mount_union_detached: 0, or 1 with the message on errfd. */
static int view_child(const char *storage, char *const *lowers, const char *scratch,
		      int sock, int errfd)
{
	uc_error_t e = NULL;
	int fd;

	/* Private first: the host's mounts are shared, a mount would reach it. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		uc_error_errno(&e, errno, "private mount namespace");
	} else if (mount_union(storage, lowers, NULL, NULL, scratch, &e) == 0) {
		fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			uc_error_errno(&e, errno, "open the union");
		else if (send_fd(sock, fd) < 0)
			uc_error_errno(&e, errno, "pass the union's fd");
	}
	if (!e)
		return 0;
	if (write_all(errfd, e->msg, strlen(e->msg)) < 0)
		return 1;
	uc_error_release(&e);
	return 1;
}

int mount_union_detached(const char *storage, char *const *lowers,
			 const char *scratch, uc_error_t *err)
{
	int sv[2], ep[2], st, fd = -1;
	char msg[1024];
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return uc_error_errno(err, errno, "socketpair");
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return uc_error_errno(err, errno, "pipe");
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(ep[0]);
		_exit(view_child(storage, lowers, scratch, sv[1], ep[1]));
	}
	close(sv[1]);
	close(ep[1]);
	if (pid < 0) {
		uc_error_errno(err, errno, "fork");
	} else if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st)) {
		fd = recv_fd(sv[0]);
		if (fd < 0)
			uc_error(err, 0, "mount the union: no fd from the child");
	} else {
		n = read(ep[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		uc_error(err, 0, "%s", n > 0 ? msg : "mount the union: the child failed");
	}
	close(sv[0]);
	close(ep[0]);
	return fd;
}

/* ---- inside the container ------------------------------------------------ */

static int mount_at(int rootfd, const char *path, const char *type,
		    unsigned long flags, const char *data, uc_error_t *err)
{
	char p[64];
	int fd = safe_mount_target(rootfd, path, true, err);

	if (fd < 0)
		return -1;
	fd_path(fd, p);
	if (mount(type, p, type, flags, data) < 0) {
		uc_error_errno(err, errno, "mount %s on `%s`", type, path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Clone the tree at srcfd/src (with its submounts if recursive), set
 * attributes (MOUNT_ATTR_*) on all of it, propagation (MS_SHARED, ...) on
 * its top only or, with prop_recursive, on all of it; attach it on
 * targetfd.
 */
static int bind_tree(int srcdfd, const char *src, int targetfd, uint64_t attrs,
		     uint64_t propagation, bool recursive, bool prop_recursive,
		     uc_error_t *err)
{
	struct mount_attr attr = { 0 };
	int tfd, flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
	int rec = recursive ? AT_RECURSIVE : 0;

	if (recursive)
		flags |= AT_RECURSIVE;
	if (!*src)
		flags |= AT_EMPTY_PATH;
	tfd = open_tree(srcdfd, src, flags);
	if (tfd < 0)
		return uc_error_errno(err, errno, "open_tree `%s`", src);
	attr.attr_set = attrs;
	if (attrs && mount_setattr(tfd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
		uc_error_errno(err, errno, "mount_setattr `%s`", src);
		close(tfd);
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.propagation = propagation;
	if (propagation &&
	    mount_setattr(tfd, "", AT_EMPTY_PATH | (recursive && prop_recursive ? rec : 0),
			  &attr, sizeof(attr)) < 0) {
		uc_error_errno(err, errno, "mount propagation of `%s`", src);
		close(tfd);
		return -1;
	}
	if (move_mount(tfd, "", targetfd, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		uc_error_errno(err, errno, "move_mount `%s`", src);
		close(tfd);
		return -1;
	}
	close(tfd);
	return 0;
}

static int bind_file(int rootfd, const char *src, const char *dst, bool optional,
		     uc_error_t *err);

/*
 * /dev is a nodev tmpfs (like the root and the volumes): without a device
 * cgroup, a node the container makes with CAP_MKNOD would otherwise open
 * the host's disks.  The few devices it gets are the host's own nodes,
 * bound one by one (a bind keeps its source's mount flags).
 */
static int make_devices(int rootfd, uc_error_t *err)
{
	static const char *const devs[] = {
		"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
	};
	static const struct { const char *name, *target; } links[] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" }, { "core", "/proc/kcore" },
	};
	static const char *const dirs[] = { "pts", "shm", "mqueue" };
	int dfd;
	size_t i;

	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (bind_file(rootfd, devs[i], devs[i], false, err) < 0)
			return uc_error_wrap(err, "%s", devs[i]);
	dfd = safe_open(rootfd, "/dev", O_DIRECTORY | O_RDONLY, err);
	if (dfd < 0)
		return -1;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i].target, dfd, links[i].name) < 0) {
			uc_error_errno(err, errno, "symlink /dev/%s", links[i].name);
			goto fail;
		}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdirat(dfd, dirs[i], 0755) < 0) {
			uc_error_errno(err, errno, "mkdir /dev/%s", dirs[i]);
			goto fail;
		}
	close(dfd);
	return 0;
fail:
	close(dfd);
	return -1;
}

static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int mask_paths(int rootfd, uc_error_t *err)
{
	struct stat st;
	char p[64];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(masked_paths) / sizeof(masked_paths[0]); i++) {
		fd = safe_open(rootfd, masked_paths[i], O_PATH, NULL);
		if (fd < 0 && errno == ENOENT)
			continue;	/* absent on this kernel */
		if (fd < 0)	/* there, but it cannot be masked: no start */
			return uc_error_errno(err, errno, "mask %s", masked_paths[i]);
		fd_path(fd, p);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") < 0) {
				close(fd);
				return uc_error_errno(err, errno, "mask %s", masked_paths[i]);
			}
		} else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
			close(fd);
			return uc_error_errno(err, errno, "mask %s", masked_paths[i]);
		}
		close(fd);
	}
	for (i = 0; i < sizeof(readonly_paths) / sizeof(readonly_paths[0]); i++) {
		fd = safe_open(rootfd, readonly_paths[i], O_PATH, NULL);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return uc_error_errno(err, errno, "read-only %s", readonly_paths[i]);
		if (bind_tree(fd, "", fd, MOUNT_ATTR_RDONLY, 0, true, false, err) < 0) {
			close(fd);
			return uc_error_wrap(err, "read-only %s", readonly_paths[i]);
		}
		close(fd);
	}
	return 0;
}

static int mount_cgroup(int rootfd, uc_error_t *err)
{
	struct statfs sf;

	uc_error_t ignored = NULL;

	(void)err;
	if (statfs("/sys/fs/cgroup", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
		return 0;	/* cgroup v1 hosts: no cgroup fs inside */
	/* Best effort: a container without its cgroup view still runs. */
	mount_at(rootfd, "/sys/fs/cgroup", "cgroup2",
		 MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, &ignored);
	uc_error_release(&ignored);
	return 0;
}

static int bind_file(int rootfd, const char *src, const char *dst, bool optional,
		     uc_error_t *err)
{
	int fd = safe_mount_target(rootfd, dst, false, optional ? NULL : err);
	int ret;

	if (fd < 0)
		return optional ? 0 : -1;
	ret = bind_tree(AT_FDCWD, src, fd, 0, 0, false, false, err);
	close(fd);
	return ret;
}

/* Docker's [r]shared, [r]slave, [r]private ("": volumes, rprivate). */
static uint64_t propagation_flag(const char *p, bool *recursive)
{
	*recursive = !p || !*p || p[0] == 'r';
	if (!p || !*p)
		return MS_PRIVATE;
	if (strstr(p, "shared"))
		return MS_SHARED;
	if (strstr(p, "slave"))
		return MS_SLAVE;
	return MS_PRIVATE;
}

/*
 * Before the root's propagation changes: a bind that is to be [r]shared
 * must come from a shared mount, [r]slave from a shared or slave one
 * (Docker's ensureShared, ensureSharedOrSlave).  *any_shared: some bind
 * is [r]shared.
 */
static int check_bind_sources(const struct uc_container *c, const struct uc_mountinfo *mi,
			      bool *any_shared, uc_error_t *err)
{
	size_t i;

	*any_shared = false;
	for (i = 0; i < c->mounts.n; i++) {
		const struct uc_mount *m = &c->mounts.v[i];
		const struct uc_mountinfo_entry *e;
		bool rec, shared;
		uint64_t prop;

		if (strcmp(m->type, "bind"))
			continue;
		prop = propagation_flag(m->propagation, &rec);
		if (prop != MS_SHARED && prop != MS_SLAVE)
			continue;
		e = mountinfo_of_path(mi, m->source, err);
		if (!e)
			return uc_error_wrap(err, "mount source");
		shared = prop == MS_SHARED;
		if (shared && !e->shared)
			return uc_error(err, 0, "path %s is mounted on %s but it is not a shared mount",
					m->source, e->mountpoint);
		if (!shared && !e->shared && !e->slave)
			return uc_error(err, 0,
					"path %s is mounted on %s but it is not a shared or slave mount",
					m->source, e->mountpoint);
		*any_shared |= shared;
	}
	return 0;
}

/* Does a bind ask for [r]shared or [r]slave? (else no mountinfo to read) */
static bool any_propagating_bind(const struct uc_container *c)
{
	size_t i;
	bool rec;

	for (i = 0; i < c->mounts.n; i++) {
		uint64_t prop = propagation_flag(c->mounts.v[i].propagation, &rec);

		if (!strcmp(c->mounts.v[i].type, "bind") && (prop == MS_SHARED || prop == MS_SLAVE))
			return true;
	}
	return false;
}

int mounts_root_propagation(const struct uc_container *c, const char *rootdir,
			    uc_error_t *err)
{
	const struct uc_mountinfo_entry *e;
	struct uc_mountinfo mi;
	bool shared;
	int ret = -1;

	if (!any_propagating_bind(c)) {
		if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
			return uc_error_errno(err, errno, "make / rslave");
		return 0;
	}
	ret = -1;
	if (mountinfo_read(&mi, err) < 0)
		return -1;
	if (check_bind_sources(c, &mi, &shared, err) < 0)
		goto out;
	if (!shared) {
		/* Docker's: the host's mounts reach the container, nothing
		 * goes back */
		if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
			uc_error_errno(err, errno, "make / rslave");
		else
			ret = 0;
		goto out;
	}
	/*
	 * A shared bind needs the host's peer groups as they are: keep them,
	 * but make the mount holding the container's root private, so that
	 * the union mount (and all that goes on it) does not propagate out,
	 * and pivot_root accepts it (as runc's rootfsParentMountPrivate).
	 */
	e = mountinfo_of_path(&mi, rootdir, err);
	if (!e)
		goto out;
	if (mount(NULL, e->mountpoint, NULL, MS_PRIVATE, NULL) < 0)
		uc_error_errno(err, errno, "make `%s` private", e->mountpoint);
	else
		ret = 1;	/* the host's peers kept */
out:
	mountinfo_free(&mi);
	return ret;
}

static int depth(const char *p)
{
	int d = 0;

	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int user_mounts(int rootfd, const struct uc_container *c, uc_error_t *err)
{
	int maxd = 0, d;
	size_t i;

	for (i = 0; i < c->mounts.n; i++)
		if (depth(c->mounts.v[i].destination) > maxd)
			maxd = depth(c->mounts.v[i].destination);
	/* Parents before children, like Docker's sort by path depth. */
	for (d = 0; d <= maxd; d++) {
		for (i = 0; i < c->mounts.n; i++) {
			const struct uc_mount *m = &c->mounts.v[i];
			struct stat st;
			bool rec;
			uint64_t prop;
			int fd, ret;

			if (depth(m->destination) != d)
				continue;
			if (stat(m->source, &st) < 0)
				return uc_error_errno(err, errno, "mount source `%s`", m->source);
			fd = safe_mount_target(rootfd, m->destination, S_ISDIR(st.st_mode), err);
			if (fd < 0)
				return uc_error_wrap(err, "mount `%s`", m->destination);
			/* a bind takes its submounts (Docker's rbind); the
			 * propagation mode applies to them with r... only */
			prop = propagation_flag(m->propagation, &rec);
			ret = bind_tree(AT_FDCWD, m->source, fd,
					(m->rw ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NODEV,
					prop, true, rec, err);
			close(fd);
			if (ret < 0)
				return uc_error_wrap(err, "mount `%s`", m->destination);
		}
	}
	return 0;
}

int mounts_setup(int rootfd, const struct uc_container *c, const char *cdir,
		 int *pty_master, int *pty_slave, uc_error_t *err)
{
	char *p;
	int ret, fd;

	if (mount_at(rootfd, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0 ||
	    mount_at(rootfd, "/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
		     "mode=755,size=65536k", err) < 0 ||
	    make_devices(rootfd, err) < 0 ||
	    mount_at(rootfd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0 ||
	    mount_at(rootfd, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=1777,size=65536k", err) < 0 ||
	    mount_at(rootfd, "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL, err) < 0 ||
	    /* --privileged: /sys writable and nothing masked, as Docker */
	    mount_at(rootfd, "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC |
		     (c->sec.privileged ? 0 : MS_RDONLY), NULL, err) < 0 ||
	    mount_cgroup(rootfd, err) < 0 ||
	    (!c->sec.privileged && mask_paths(rootfd, err) < 0))
		return -1;
	if (pty_master) {
		/* The pty comes from the container's own devpts instance. */
		fd = safe_resolve(rootfd, "/dev/pts/ptmx", err);
		if (fd < 0)
			return -1;
		ret = terminal_open_pty(fd, pty_master, pty_slave);
		close(fd);
		if (ret < 0)
			return uc_error_errno(err, errno, "allocate a pty");
		fd = safe_mount_target(rootfd, "/dev/console", false, err);
		if (fd < 0)
			return -1;
		ret = bind_tree(*pty_slave, "", fd, 0, 0, false, false, err);
		close(fd);
		if (ret < 0)
			return -1;
	}
	p = xasprintf("%s/hostname", cdir);
	ret = bind_file(rootfd, p, "/etc/hostname", c->read_only, err);
	free(p);
	if (ret < 0)
		return -1;
	p = xasprintf("%s/hosts", cdir);
	ret = bind_file(rootfd, p, "/etc/hosts", c->read_only, err);
	free(p);
	if (ret < 0)
		return -1;
	p = xasprintf("%s/resolv.conf", cdir);
	ret = bind_file(rootfd, p, "/etc/resolv.conf", c->read_only, err);
	free(p);
	if (ret < 0)
		return -1;
	return user_mounts(rootfd, c, err);
}
