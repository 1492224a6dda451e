// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env.h"
#include "execshim.h"
#include "linux.h"
#include "mountinfo.h"
#include "mounts.h"
#include "safepath.h"
#include "terminal.h"
#include "user.h"
#include "utils.h"

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void report(int fd, int status, const char *msg)
{
	char *buf = xasprintf("%d\n%s", status, msg);
	ssize_t r = write(fd, buf, strlen(buf));

	(void)r;
	free(buf);
}

static int loopback_up(uc_error_t *err)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return uc_error_errno(err, errno, "socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	uc_error_errno(err, errno, "bring up lo");
	close(fd);
	return -1;
}

/*
 * The capability sets, in runc's order: the bounding set first, then (see
 * stage_credentials) the user, then effective and permitted = caps, with
 * inheritable and ambient empty.  The user switch needs CAP_SETUID and
 * CAP_SETGID even when the container is not to keep them.
 */
static int drop_bounding(uint64_t caps, uc_error_t *err)
{
	unsigned int cap;

	for (cap = 0; cap < 64; cap++) {
		if (caps & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;	/* past the kernel's last cap */
			return uc_error_errno(err, errno, "drop capability %u", cap);
		}
	}
	return 0;
}

static int set_caps(uint64_t caps, uc_error_t *err)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	data[0].effective = data[0].permitted = (uint32_t)caps;
	data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
	/* inheritable stays empty: with it, a file's inheritable caps would
	 * be granted to a non-root user's exec (CVE-2022-24769) */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return uc_error_errno(err, errno, "clear ambient capabilities");
	if (syscall(SYS_capset, &hdr, data) < 0)
		return uc_error_errno(err, errno, "capset");
	return 0;
}

/*
 * pivot_root into rootfd; the old root, stacked on the new one, is
 * detached.  peers: the namespace kept the host's peer groups (a shared
 * bind), else it is all rslave already.
 */
static int pivot(int rootfd, bool peers, uc_error_t *err)
{
	int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), ret = -1;

	if (oldroot < 0)
		return uc_error_errno(err, errno, "open /");
	if (fchdir(rootfd) < 0) {
		uc_error_errno(err, errno, "chdir to the rootfs");
		goto out;
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		if (errno == EINVAL)
			uc_error(err, 0,
				 "pivot_root: Invalid argument: the launcher's root cannot be pivoted away from (an initramfs, or a root whose parent mount is shared); --no-pivot moves the container's root over it instead, which is weaker (see the README)");
		else
			uc_error_errno(err, errno, "pivot_root");
		goto out;
	}
	/*
	 * Detach the old root from where it is (runc does the same): made
	 * rslave first, so that the unmounts do not propagate to the host's
	 * peers of its mounts (kept shared for a shared bind).
	 */
	if (fchdir(oldroot) < 0 ||
	    (peers && mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0)) {
		uc_error_errno(err, errno, "make the old root rslave");
		goto out;
	}
	if (umount2(".", MNT_DETACH) < 0) {
		uc_error_errno(err, errno, "detach the old root");
		goto out;
	}
	if (chdir("/") < 0) {
		uc_error_errno(err, errno, "chdir /");
		goto out;
	}
	ret = 0;
out:
	close(oldroot);
	return ret;
}

/* Is path `above` the same as `path` or a directory above it?  ("/a" is
 * above "/a/b", not above "/ab") */
static bool path_above(const char *above, const char *path)
{
	size_t n = strlen(above);

	return !strcmp(above, "/") ||
	       (!strncmp(above, path, n) && (path[n] == '/' || path[n] == '\0'));
}

/*
 * --no-pivot (runc's no-pivot mode, for an initramfs root): move the new
 * root over / and chroot into it.  The old root stays under it, reachable
 * to a chroot escape, so every mount outside the new root is detached
 * first, those above it once it has moved (through fds: their paths then
 * lead into the container), and the caller drops CAP_SYS_CHROOT (seccomp
 * then refuses chroot too).  Only the namespace's own root mount is left.
 */
static int move_root(int rootfd, const char *rootdir, uc_error_t *err)
{
	struct uc_mountinfo mi;
	int *above = NULL, n_above = 0, ret = -1, i;
	size_t k;
	char p[64];

	if (mountinfo_read(&mi, err) < 0)
		return -1;
	for (k = mi.n; k-- > 0;) {	/* children before their parents */
		const char *mp = mi.v[k].mountpoint;

		if (path_above(rootdir, mp))
			continue;	/* the container's */
		if (path_above(mp, rootdir)) {
			int fd = open(mp, O_PATH | O_DIRECTORY | O_CLOEXEC);

			if (strcmp(mp, "/") && fd >= 0) {
				above = xrealloc(above, (n_above + 1) * sizeof(*above));
				above[n_above++] = fd;
			} else if (fd >= 0) {
				close(fd);
			}
			continue;
		}
		if (mount(NULL, mp, NULL, MS_REC | MS_SLAVE, NULL) < 0 && errno != ENOENT &&
		    errno != EINVAL) {
			uc_error_errno(err, errno, "--no-pivot: make `%s` rslave", mp);
			goto out;
		}
		if (umount2(mp, MNT_DETACH) < 0 && errno != ENOENT && errno != EINVAL) {
			uc_error_errno(err, errno, "--no-pivot: detach `%s`", mp);
			goto out;
		}
	}
	if (fchdir(rootfd) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0) {
		uc_error_errno(err, errno, "--no-pivot: move the root over /");
		goto out;
	}
	if (chroot(".") < 0 || chdir("/") < 0) {
		uc_error_errno(err, errno, "--no-pivot: chroot");
		goto out;
	}
	/*
	 * Now /proc is the container's, and the fds lead to the mounts that
	 * were above the root, innermost first.  EINVAL: a second fd of one
	 * mount point (stacked mounts), already detached.
	 */
	for (i = 0; i < n_above; i++) {
		fd_path(above[i], p);
		if ((mount(NULL, p, NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
		     umount2(p, MNT_DETACH) < 0) && errno != EINVAL) {
			uc_error_errno(err, errno, "--no-pivot: detach a mount above the root");
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < n_above; i++)
		close(above[i]);
	free(above);
	mountinfo_free(&mi);
	return ret;
}

/* cwd inside the root (CVE-2024-21626: never a leaked fd's directory). */
static int enter_workdir(const char *workdir, bool read_only, uc_error_t *err)
{
	char cwd[PATH_MAX];
	int rootfd, fd;

	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return uc_error_errno(err, errno, "open /");
	fd = read_only ? safe_open(rootfd, workdir, O_PATH | O_DIRECTORY, err) :
			 safe_mkdir_p(rootfd, workdir, 0755, err);
	close(rootfd);
	if (fd < 0)
		return uc_error_wrap(err, "working directory");
	if (fchdir(fd) < 0) {
		close(fd);
		return uc_error_errno(err, errno, "chdir `%s`", workdir);
	}
	close(fd);
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		return uc_error(err, 0, "working directory `%s` is outside the container",
				workdir);
	return 0;
}

static int setup_stdio(const struct uc_spawn *sp, int slave, uc_error_t *err)
{
	int fd;

	if (slave >= 0) {
		/* Size it before the command runs (the parent follows SIGWINCH). */
		terminal_copy_winsize(terminal_fd(), slave);
		if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
			return uc_error_errno(err, errno, "dup2 the pty");
		if (ioctl(0, TIOCSCTTY, 0) < 0)
			return uc_error_errno(err, errno, "set the controlling terminal");
		if (slave > 2)
			close(slave);
		return 0;
	}
	for (fd = 0; fd <= 2; fd++)
		if (sp->stdio[fd] >= 0 && dup2(sp->stdio[fd], fd) < 0)
			return uc_error_errno(err, errno, "dup2 the stdio pipe");
	if (sp->stdio[0] < 0 && !sp->stdin_open) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			return uc_error_errno(err, errno, "stdin /dev/null");
		close(fd);
	}
	return 0;
}

/*
 * Exec the container's command through unionctr-exec run from shim_fd (a
 * private, sealed copy: execshim.h), so that the container's process never
 * has this binary as its /proc/self/exe (CVE-2019-5736; execshim.c says
 * how).  Returns only on failure.  The shim reports its own failures on
 * sync_w, which it makes close-on-exec again.
 */
static void exec_by_shim(const struct uc_container *c, char **env, int shim_fd,
			 int sync_w, uc_error_t *err)
{
	char **argv, fd_arg[16];
	size_t n = strv_len(c->argv);

	argv = xcalloc(n + 3, sizeof(*argv));
	snprintf(fd_arg, sizeof(fd_arg), "%d", sync_w);
	argv[0] = "unionctr-exec";
	argv[1] = fd_arg;
	memcpy(argv + 2, c->argv, (n + 1) * sizeof(*argv));
	if (fcntl(sync_w, F_SETFD, 0) < 0) {
		uc_error_errno(err, errno, "keep the sync pipe");
		free(argv);
		return;
	}
	syscall(SYS_execveat, shim_fd, "", argv, env, AT_EMPTY_PATH);
	uc_error_errno(err, errno, "exec the exec shim");
	fcntl(sync_w, F_SETFD, FD_CLOEXEC);
	free(argv);
}

/*
 * The child's setup, in the order it runs; each stage returns -1 with err
 * set.  The child is a fresh process in new namespaces: what a stage
 * leaves open is released by the exec (close-on-exec) or the _exit.
 */

/* Key permissions (the kernel's key.h): all for the possessor; view,
 * read, search and link for the owner. */
#define UC_KEY_PERM 0x3f1b0000

/*
 * A session keyring of the container's own, "_ses.<id>", as runc joins:
 * never the launcher's, which on the host may hold root's keys (Docker's
 * profile denies keyctl, but not with seccomp=unconfined or --privileged).
 * Searchable by its owner, so that a user switched to keeps reaching it.
 */
static int join_session_keyring(const struct uc_container *c, uc_error_t *err)
{
	char name[80];
	long ring;

	snprintf(name, sizeof(name), "_ses.%s", c->id);
	ring = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	if (ring < 0 && errno == ENOSYS)
		return 0;	/* no keyrings in this kernel: nothing to inherit */
	if (ring < 0)
		return uc_error_errno(err, errno, "join a session keyring");
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, ring, UC_KEY_PERM) < 0)
		return uc_error_errno(err, errno, "session keyring permissions");
	return 0;
}

/* Session (and session keyring), hostname, and death with the launcher. */
static int stage_init(const struct uc_container *c, uc_error_t *err)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return uc_error_errno(err, errno, "PR_SET_PDEATHSIG");
	if (setsid() < 0)
		return uc_error_errno(err, errno, "setsid");
	if (join_session_keyring(c, err) < 0)
		return -1;
	if (sethostname(c->hostname, strlen(c->hostname)) < 0)
		return uc_error_errno(err, errno, "sethostname");
	return 0;
}

/*
 * The union root at <cdir>/merged; returns an O_PATH fd of it.  *peers:
 * the namespace keeps the host's peer groups (mounts_root_propagation).
 */
static int stage_mount_root(const struct uc_spawn *sp, bool *peers, uc_error_t *err)
{
	const struct uc_container *c = sp->c;
	char *upper = NULL, *work = NULL, *merged = xasprintf("%s/merged", sp->cdir);
	int rootfd = -1, ret;

	ret = mounts_root_propagation(c, merged, err);
	if (ret < 0)
		goto out;
	*peers = ret > 0;
	if (!c->read_only) {
		upper = xasprintf("%s/upper", sp->cdir);
		work = xasprintf("%s/work", sp->cdir);
	}
	if (mount_union(c->storage, sp->lowers, upper, work, merged, err) < 0)
		goto out;
	rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		uc_error_errno(err, errno, "open `%s`", merged);
out:
	free(upper);
	free(work);
	free(merged);
	return rootfd;
}

/*
 * Docker's mount table and the container's volumes under rootfd; with -t,
 * a pty from the container's devpts: the master goes to the parent over
 * sock, the slave is returned in *slave.
 */
static int stage_mounts(int rootfd, const struct uc_spawn *sp, int sock, int *slave,
			uc_error_t *err)
{
	const struct uc_container *c = sp->c;
	int master = -1;

	if (mounts_setup(rootfd, c, sp->cdir, c->tty ? &master : NULL,
			 c->tty ? slave : NULL, err) < 0)
		return -1;
	if (master >= 0) {
		int r = send_fd(sock, master);

		close(master);
		if (r < 0)
			return uc_error_errno(err, errno, "send the pty");
	}
	return 0;
}

/* Make rootfd the root (loopback up first: it needs no path). */
static int stage_enter_root(const struct uc_spawn *sp, int rootfd, bool peers,
			    uc_error_t *err)
{
	char *merged;
	int ret;

	if (loopback_up(err) < 0)
		return -1;
	if (!sp->c->sec.no_pivot)
		return pivot(rootfd, peers, err);
	merged = xasprintf("%s/merged", sp->cdir);
	ret = move_root(rootfd, merged, err);
	free(merged);
	return ret;
}

/*
 * Seccomp, capabilities, user (returned in *u), no_new_privs: what the
 * command runs with.  The filter goes first: without no_new_privs loading
 * it needs CAP_SYS_ADMIN (Docker's profile allows every call made after
 * it here).
 */
static int stage_credentials(const struct uc_spawn *sp, struct uc_user *u,
			     uc_error_t *err)
{
	const struct uc_container *c = sp->c;

	if (sp->sec->seccomp && sc_filter_load(&sp->sec->filter, err) < 0)
		return -1;
	if (drop_bounding(sp->sec->caps, err) < 0)
		return -1;
	/*
	 * Without -u the user is root, with root's groups of the container's
	 * /etc/group: never the launcher's supplementary groups.  KEEPCAPS
	 * keeps the permitted set across a switch to another uid, for
	 * set_caps; the exec of a non-root user's command then clears it, as
	 * Docker's non-root users get no capabilities.
	 */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return uc_error_errno(err, errno, "PR_SET_KEEPCAPS");
	if (user_switch(c->user ? c->user : "0", u, err) < 0 ||
	    set_caps(sp->sec->caps, err) < 0)
		return -1;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	/* Docker: only with --security-opt no-new-privileges, so that
	 * setuid programs (su, sudo) work */
	if (sp->sec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return uc_error_errno(err, errno, "no_new_privs");
	return 0;
}

/* Nothing of the launcher's but stdio (and sync_w) may reach the command. */
static void stage_clean_process(char **env, int sync_w)
{
	sigset_t none;
	int fd, sig;

	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != sync_w)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	environ = env;
	/* Dispositions the launcher inherited (SIG_IGN survives exec) go. */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

#ifdef UNIONCTR_TEST_KNOBS
static int exec_status(int e)
{
	return e == ENOENT || e == ENOTDIR ? UC_EXIT_NOT_FOUND : UC_EXIT_CANNOT_EXEC;
}

/* The tests' control run of the CVE-2019-5736 attack: a plain exec. */
static void exec_unprotected(const struct uc_container *c, uc_error_t *err)
{
	int e;

	execvp(c->argv[0], c->argv);
	e = errno;
	if (e == ENOENT && !strchr(c->argv[0], '/'))
		uc_error(err, UC_EXIT_NOT_FOUND,
			 "exec: \"%s\": executable file not found in $PATH", c->argv[0]);
	else
		uc_error(err, exec_status(e), "exec: \"%s\": %s", c->argv[0], strerror(e));
}
#endif

static void child_main(struct uc_spawn *sp, int sync_w, int sock)
{
	const struct uc_container *c = sp->c;
	uc_error_t err = NULL;
	int rootfd = -1, slave = -1, shim_fd;
	bool peers = false;
	struct uc_user u;
	char **env;
#ifdef UNIONCTR_TEST_KNOBS
	/* read before the container's environment replaces ours */
	bool unprotected = getenv("UNIONCTR_NO_CLONE") != NULL;
#endif

	if (stage_init(c, &err) < 0)
		goto fail;
	/* made while the container's directory is still reachable */
	shim_fd = execshim_open(sp->cdir, &err);
	if (shim_fd < 0)
		goto fail;
	rootfd = stage_mount_root(sp, &peers, &err);
	if (rootfd < 0 || stage_mounts(rootfd, sp, sock, &slave, &err) < 0)
		goto fail;
	if (sock >= 0)
		close(sock);
	if (stage_enter_root(sp, rootfd, peers, &err) < 0)
		goto fail;
	close(rootfd);
	if (enter_workdir(c->workdir, c->read_only, &err) < 0 ||
	    setup_stdio(sp, slave, &err) < 0 || stage_credentials(sp, &u, &err) < 0)
		goto fail;
	env = env_for_process(c->env, c->hostname, c->tty, u.home);
	stage_clean_process(env, sync_w);
#ifdef UNIONCTR_TEST_KNOBS
	if (unprotected) {
		exec_unprotected(c, &err);
		goto fail;
	}
#endif
	exec_by_shim(c, env, shim_fd, sync_w, &err);
fail:
	report(sync_w, err ? err->status : UC_EXIT_LAUNCHER,
	       err ? err->msg : "container setup failed");
	_exit(err ? err->status : UC_EXIT_LAUNCHER);
}

int linux_spawn(struct uc_spawn *sp, uc_error_t *err)
{
	int sync[2], sock[2] = { -1, -1 };
	pid_t pid;
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
			      CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;

	if (pipe2(sync, O_CLOEXEC) < 0)
		return uc_error_errno(err, errno, "pipe");
	if (sp->c->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) {
		close(sync[0]);
		close(sync[1]);
		return uc_error_errno(err, errno, "socketpair");
	}
	pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		uc_error_errno(err, errno, "clone");
		close(sync[0]);
		close(sync[1]);
		if (sock[0] >= 0) {
			close(sock[0]);
			close(sock[1]);
		}
		return -1;
	}
	if (pid == 0) {
		close(sync[0]);
		if (sock[0] >= 0)
			close(sock[0]);
		child_main(sp, sync[1], sock[1]);
	}
	close(sync[1]);
	if (sock[1] >= 0)
		close(sock[1]);
	sp->pid = pid;
	sp->sync_fd = sync[0];
	sp->console_sock = sock[0];
	return 0;
}

int linux_spawn_result(struct uc_spawn *sp, uc_error_t *err)
{
	char buf[4096];
	size_t n = 0;
	ssize_t r;
	char *nl;
	int status;

	while (n < sizeof(buf) - 1) {
		r = read(sp->sync_fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(sp->sync_fd);
	sp->sync_fd = -1;
	if (n == 0)
		return 0;
	buf[n] = '\0';
	status = atoi(buf);
	nl = strchr(buf, '\n');
	return uc_error(err, status ? status : UC_EXIT_LAUNCHER, "%s", nl ? nl + 1 : buf);
}
