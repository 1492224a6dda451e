// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "freeze.h"
#include "utils.h"

/* How long the processes get to stop (one in D state waits for its I/O). */
#define FREEZE_TIMEOUT_MS 10000

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* "pid:[4026531836]": which pid namespace pid is in. */
static int pidns_of(pid_t pid, char buf[64])
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)pid);
	n = readlink(p, buf, 63);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The state letter of /proc/PID/stat (R, S, D, T, t, Z...), or 0. */
static char proc_state(pid_t pid)
{
	char p[64], *buf = NULL, *paren, st = 0;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (read_file(p, &buf, NULL, NULL) < 0)
		return 0;
	paren = strrchr(buf, ')');	/* comm may hold anything */
	if (paren && paren[1] == ' ')
		st = paren[2];
	free(buf);
	return st;
}

static bool is_stopped(char st)
{
	return st == 'T' || st == 't' || st == 'Z' || st == 'X';
}

static ssize_t find_pid(const struct uc_frozen *f, pid_t pid)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->pids[i] == pid)
			return i;
	return -1;
}

/*
 * Stop pid through a pidfd (kept for thaw); -1 as pidfd records a process
 * that was stopped already.  The namespace is checked again once the pidfd
 * holds the process: a pid reused meanwhile is not signalled.
 */
static int stop_one(struct uc_frozen *f, ssize_t at, pid_t pid, const char *ns)
{
	char now[64];
	int fd;

	if (at >= 0 && f->pidfds[at] >= 0)
		return 0;
	if (at < 0 && is_stopped(proc_state(pid))) {
		fd = -1;
	} else {
		fd = pidfd_open_(pid);
		if (fd < 0)
			return errno == ESRCH ? 0 : -1;
		if (pidns_of(pid, now) < 0 || strcmp(now, ns)) {
			close(fd);
			return 0;
		}
		if (pidfd_signal(fd, SIGSTOP) < 0 && errno != ESRCH) {
			close(fd);
			return -1;
		}
	}
	if (at >= 0) {
		f->pidfds[at] = fd;
		return 1;
	}
	f->pids = xrealloc(f->pids, (f->n + 1) * sizeof(*f->pids));
	f->pidfds = xrealloc(f->pidfds, (f->n + 1) * sizeof(*f->pidfds));
	f->pids[f->n] = pid;
	f->pidfds[f->n++] = fd;
	return 1;
}

/* One pass over /proc: stop what is in the namespace and not stopped by us. */
static int stop_pass(struct uc_frozen *f, const char *ns, uc_error_t *err)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	char pns[64];
	int added = 0, r;

	if (!d)
		return uc_error_errno(err, errno, "pause: read /proc");
	while ((de = readdir(d))) {
		pid_t pid;
		ssize_t at;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pidns_of(pid, pns) < 0 || strcmp(pns, ns))
			continue;
		at = find_pid(f, pid);
		/* one found stopped before, and running now, is ours to stop */
		if (at >= 0 && f->pidfds[at] < 0 && is_stopped(proc_state(pid)))
			continue;
		r = stop_one(f, at, pid, ns);
		if (r < 0) {
			uc_error_errno(err, errno, "pause: stop process %d", (int)pid);
			closedir(d);
			return -1;
		}
		added += r;
	}
	closedir(d);
	return added;
}

static bool all_stopped(const struct uc_frozen *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (f->pidfds[i] < 0 || pidfd_signal(f->pidfds[i], 0) < 0)
			continue;	/* not ours, or gone */
		if (!is_stopped(proc_state(f->pids[i])))
			return false;
	}
	return true;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int container_freeze(pid_t init_pid, struct uc_frozen *f, uc_error_t *err)
{
	long deadline = now_ms() + FREEZE_TIMEOUT_MS;
	char ns[64];
	int added;

	memset(f, 0, sizeof(*f));
	if (pidns_of(init_pid, ns) < 0)
		return uc_error_errno(err, errno, "pause: process %d", (int)init_pid);
	/* Until a pass finds nothing new (a process stopped cannot fork) and
	 * every one is stopped. */
	for (;;) {
		added = stop_pass(f, ns, err);
		if (added < 0)
			break;
		if (added == 0 && all_stopped(f))
			return 0;
		if (now_ms() > deadline) {
			uc_error(err, 0, "pause: the container's processes did not stop in %d s",
				 FREEZE_TIMEOUT_MS / 1000);
			break;
		}
		usleep(1000);
	}
	container_thaw(f);
	return -1;
}

void container_thaw(struct uc_frozen *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (f->pidfds[i] < 0)
			continue;
		pidfd_signal(f->pidfds[i], SIGCONT);
		close(f->pidfds[i]);
	}
	free(f->pidfds);
	free(f->pids);
	memset(f, 0, sizeof(*f));
}
