// SPDX-License-Identifier: GPL-2.0
/*
 * unionctr-exec: the container's first exec.
 *
 * The launcher's child does not exec the container's command itself: it
 * execs this small static program from a sealed memfd (linux.c), and this
 * program execs the command. So the container's process never runs with
 * the launcher's binary as /proc/self/exe: a command that is a
 * "#!/proc/self/exe" script gets this sealed copy, not a host file it could
 * write through /proc (CVE-2019-5736). Re-executing the whole launcher from
 * a memfd, as before, did the same for 4-5 ms more per container start.
 *
 *   unionctr-exec SYNC_FD COMMAND [ARG...]
 *
 * COMMAND is looked up in $PATH as execvp() does (a file without "#!" runs
 * with /bin/sh). On failure "STATUS\nMESSAGE" goes to SYNC_FD (the
 * launcher's report format) and the program exits with STATUS; SYNC_FD is
 * close-on-exec, so its end of file tells the launcher that the exec worked.
 *
 * No libc (it is copied into a memfd on every start): freestanding, static,
 * raw system calls.
 */
#include <asm/unistd.h>
#include <linux/errno.h>

#include "error.h"

#define F_SETFD 2
#define FD_CLOEXEC 1
#define PATH_BUF 4096

#if defined(__x86_64__)
asm(".text\n"
    ".global _start\n"
    "_start:\n"
    "	xor %rbp, %rbp\n"
    "	mov %rsp, %rdi\n"
    "	and $-16, %rsp\n"
    "	call shim_main\n"
    "	hlt\n");

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
asm(".text\n"
    ".global _start\n"
    "_start:\n"
    "	mov x0, sp\n"
    "	bl shim_main\n");

static long sys3(long nr, long a, long b, long c)
{
	register long x8 asm("x8") = nr;
	register long x0 asm("x0") = a;
	register long x1 asm("x1") = b;
	register long x2 asm("x2") = c;

	asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
#else
#error "unionctr-exec: no system call stub for this architecture"
#endif

static __attribute__((noreturn)) void sys_exit(int status)
{
	for (;;)
		sys3(__NR_exit_group, status, 0, 0);
}

/* execve(): returns the error number */
static int sys_execve(const char *path, char **argv, char **envp)
{
	return (int)-sys3(__NR_execve, (long)path, (long)argv, (long)envp);
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static int has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return 1;
	return 0;
}

/* The message buffer: appended to, then written once. */
static char msg[PATH_BUF];
static unsigned long msg_len;

static void put(const char *s)
{
	while (*s && msg_len < sizeof(msg) - 1)
		msg[msg_len++] = *s++;
}

static void put_num(unsigned int v)
{
	char d[16];
	int i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(d + i);
}

/* glibc's strerror() text for what execve() can return */
static const char *error_text(int e)
{
	switch (e) {
	case ENOENT: return "No such file or directory";
	case EACCES: return "Permission denied";
	case EPERM: return "Operation not permitted";
	case ENOEXEC: return "Exec format error";
	case ENOTDIR: return "Not a directory";
	case EISDIR: return "Is a directory";
	case ELOOP: return "Too many levels of symbolic links";
	case ENAMETOOLONG: return "File name too long";
	case ETXTBSY: return "Text file busy";
	case E2BIG: return "Argument list too long";
	case ENOMEM: return "Cannot allocate memory";
	case EINVAL: return "Invalid argument";
	case EIO: return "Input/output error";
	case ELIBBAD: return "Accessing a corrupted shared library";
	case EFAULT: return "Bad address";
	default: return 0;
	}
}

static __attribute__((noreturn)) void fail(int sync_fd, const char *cmd, int e,
					   int not_in_path)
{
	int status = e == ENOENT || e == ENOTDIR ? UC_EXIT_NOT_FOUND :
			UC_EXIT_CANNOT_EXEC;

	put_num(status);
	put("\nexec: \"");
	put(cmd);
	if (not_in_path) {
		put("\": executable file not found in $PATH");
	} else {
		put("\": ");
		if (error_text(e)) {
			put(error_text(e));
		} else {
			put("error ");
			put_num(e);
		}
	}
	if (sync_fd >= 0)
		sys3(__NR_write, sync_fd, (long)msg, (long)msg_len);
	sys_exit(status);
}

/*
 * execve() PATH with the command's ARGV, and as a /bin/sh script when it
 * has no "#!" (ENOEXEC), as execvp() does: ARGV[-1] is ours to overwrite.
 */
static int try_exec(const char *path, char **argv, char **envp)
{
	char *arg0 = argv[0];
	int e = sys_execve(path, argv, envp);

	if (e != ENOEXEC)
		return e;
	argv[-1] = "/bin/sh";
	argv[0] = (char *)path;
	sys_execve("/bin/sh", argv - 1, envp);
	argv[0] = arg0;
	return ENOEXEC;
}

static const char *path_of(char **envp)
{
	for (; *envp; envp++) {
		const char *s = *envp;

		if (s[0] == 'P' && s[1] == 'A' && s[2] == 'T' && s[3] == 'H' &&
		    s[4] == '=')
			return s + 5;
	}
	return "/bin:/usr/bin";	/* glibc's execvp() without $PATH */
}

__attribute__((noreturn, used)) void shim_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
	char **cargv = argv + 2;	/* the command's: argv[1] is free in front */
	static char buf[PATH_BUF];
	const char *cmd, *p;
	int sync_fd = 0, e = ENOENT, eacces = 0;

	if (argc < 3) {
		static const char usage[] =
			"unionctr-exec: the container's first exec, run by unionctr only\n";

		sys3(__NR_write, 2, (long)usage, sizeof(usage) - 1);
		sys_exit(UC_EXIT_LAUNCHER);
	}
	for (p = argv[1]; *p >= '0' && *p <= '9'; p++)
		sync_fd = sync_fd * 10 + (*p - '0');
	if (*p || p == argv[1])
		sync_fd = -1;
	else
		sys3(__NR_fcntl, sync_fd, F_SETFD, FD_CLOEXEC);
	cmd = cargv[0];
	if (has_slash(cmd))
		fail(sync_fd, cmd, try_exec(cmd, cargv, envp), 0);
	if (!cmd[0])
		fail(sync_fd, cmd, ENOENT, 1);
	for (p = path_of(envp);; p++) {
		const char *dir = p;
		unsigned long dlen, n = 0, i;

		while (*p && *p != ':')
			p++;
		dlen = (unsigned long)(p - dir);
		if (dlen + len(cmd) + 2 <= sizeof(buf)) {
			for (i = 0; i < dlen; i++)
				buf[n++] = dir[i];
			if (dlen)	/* an empty element is the working directory */
				buf[n++] = '/';
			for (i = 0; cmd[i]; i++)
				buf[n++] = cmd[i];
			buf[n] = '\0';
			e = try_exec(buf, cargv, envp);
			if (e == EACCES)
				eacces = 1;
			else if (e != ENOENT && e != ENOTDIR && e != ESTALE &&
				 e != ENODEV && e != ETIMEDOUT)
				fail(sync_fd, cmd, e, 0);
		}
		if (!*p)
			break;
	}
	if (eacces)
		fail(sync_fd, cmd, EACCES, 0);
	fail(sync_fd, cmd, e, e == ENOENT);
}
