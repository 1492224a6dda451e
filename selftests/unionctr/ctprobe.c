// SPDX-License-Identifier: GPL-2.0
/*
 * ctprobe: runs inside a test container (static, copied into the image) and
 * tries what a hostile container would, printing one line per probe:
 *
 *   ctprobe PROBE...        NAME=ok, or NAME=ERRNO-NAME (EPERM, ENOSYS, ...)
 *
 * Probes: keyctl add_key request_key (the keyring syscalls Docker's profile
 * denies), unshare-user unshare-mount clone-newuser clone3 (namespaces
 * without CAP_SYS_ADMIN), personality-ok personality-bad, ptrace-traceme,
 * socket-vsock, chroot, tiocsti:FD (push a byte into the input queue of the
 * terminal on FD), chroot-escape:PATH (the classic escape: chroot into a
 * subdirectory, climb out with "..", chroot there; prints "escaped" when
 * PATH, which exists only outside the container, is then visible), euid
 * (prints euid=N: a setuid copy of ctprobe shows whether set-id works),
 * session-keyring (prints session-keyring=ID: whose keyring it is).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *errname(int e)
{
	static const struct { int e; const char *n; } names[] = {
		{ EPERM, "EPERM" }, { ENOSYS, "ENOSYS" }, { EACCES, "EACCES" },
		{ EINVAL, "EINVAL" }, { ENOENT, "ENOENT" }, { ENOTTY, "ENOTTY" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" }, { ENOKEY, "ENOKEY" },
		{ EBADF, "EBADF" }, { EIO, "EIO" }, { EDQUOT, "EDQUOT" },
	};
	static char buf[32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].n;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

/* Fork, run fn in the child, report its result: clone-like probes
 * must not change the probe process itself. */
static long in_child(long (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		long r = fn();

		_exit(r < 0 ? (int)-r : 0);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -EIO;
	return -WEXITSTATUS(st);
}

static long r_errno(long r)
{
	return r < 0 ? -errno : 0;
}

static long do_unshare_user(void)
{
	return r_errno(unshare(CLONE_NEWUSER));
}

static long do_unshare_mount(void)
{
	return r_errno(unshare(CLONE_NEWNS));
}

static long do_clone_newuser(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	waitpid(pid, NULL, 0);
	return 0;
}

static long do_clone3(void)
{
	struct clone_args args;
	long pid;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	waitpid(pid, NULL, 0);
	return 0;
}

static long do_ptrace(void)
{
	return r_errno(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static long do_chroot(void)
{
	return r_errno(chroot("/"));
}

static long chroot_escape(const char *marker)
{
	int i;

	mkdir("/.ctprobe-jail", 0700);
	if (chroot("/.ctprobe-jail") < 0)
		return -errno;
	/* the cwd stayed outside the new root: climb as far as it goes */
	for (i = 0; i < 256; i++)
		if (chdir("..") < 0)
			return -errno;
	if (chroot(".") < 0)
		return -errno;
	if (access(marker, F_OK) == 0)
		printf("escaped\n");
	return 0;
}

static void probe(const char *name)
{
	const char *arg = strchr(name, ':');
	size_t n = arg ? (size_t)(arg - name) : strlen(name);
	long r;

	if (arg)
		arg++;
#define IS(s) (n == strlen(s) && !strncmp(name, s, n))
	if (IS("keyctl"))
		r = r_errno(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
				    KEY_SPEC_USER_KEYRING, 0));
	else if (IS("add_key"))
		r = r_errno(syscall(SYS_add_key, "user", "ctprobe", "x", 1,
				    KEY_SPEC_PROCESS_KEYRING));
	else if (IS("request_key"))
		r = r_errno(syscall(SYS_request_key, "user", "ctprobe", NULL,
				    KEY_SPEC_PROCESS_KEYRING));
	else if (IS("unshare-user"))
		r = in_child(do_unshare_user);
	else if (IS("unshare-mount"))
		r = in_child(do_unshare_mount);
	else if (IS("clone-newuser"))
		r = do_clone_newuser();
	else if (IS("clone3"))
		r = do_clone3();
	else if (IS("personality-ok"))
		r = personality(0xffffffff) < 0 ? -errno : 0;
	else if (IS("personality-bad"))
		r = personality(PER_LINUX | READ_IMPLIES_EXEC) < 0 ? -errno : 0;
	else if (IS("ptrace-traceme"))
		r = in_child(do_ptrace);
	else if (IS("socket-vsock"))
		r = r_errno(socket(AF_VSOCK, SOCK_STREAM, 0));
	else if (IS("chroot"))
		r = in_child(do_chroot);
	else if (IS("tiocsti") && arg)
		r = r_errno(ioctl(atoi(arg), TIOCSTI, "x"));
	else if (IS("chroot-escape") && arg)
		r = chroot_escape(arg);
	else if (IS("session-keyring")) {
		r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
			    KEY_SPEC_SESSION_KEYRING, 0);
		if (r >= 0) {
			printf("session-keyring=%ld\n", r);
			fflush(stdout);
			return;
		}
		r = -errno;
	} else if (IS("euid")) {
		printf("euid=%u\n", (unsigned int)geteuid());
		fflush(stdout);
		return;
	}
	else {
		fprintf(stderr, "ctprobe: unknown probe %s\n", name);
		exit(2);
	}
#undef IS
	printf("%.*s=%s\n", (int)n, name, r < 0 ? errname((int)-r) : "ok");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: ctprobe PROBE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		probe(argv[i]);
	return 0;
}
