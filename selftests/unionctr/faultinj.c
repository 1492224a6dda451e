// SPDX-License-Identifier: GPL-2.0
/*
 * faultinj.so: LD_PRELOAD into the launcher to hold it at a chosen point,
 * so that a test can act in between (hostile.sh).  Set by the environment:
 *
 *   UC_FAULT_DIR=DIR                 where the library and the test meet
 *   UC_FAULT_HANG_MOUNT=FSTYPE       mount(2) of FSTYPE (the container's
 *                                    root) writes DIR/hanging, then waits
 *                                    for DIR/go: a mount that hangs
 *   UC_FAULT_DELAY_SIGNAL=1          kill(2) and pidfd_send_signal(2) write
 *                                    DIR/signal, then wait for DIR/go: the
 *                                    time between choosing a process and
 *                                    signalling it, stretched
 *
 * The wait ends after 60 s whatever happens.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <unistd.h>

static void hold(const char *event, const char *what)
{
	const char *dir = getenv("UC_FAULT_DIR");
	char path[4096];
	int fd, i;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, event);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, what, strlen(what)) < 0)
			perror("faultinj");
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/go", dir);
	for (i = 0; i < 6000 && access(path, F_OK) < 0; i++)
		usleep(10000);
}

int mount(const char *src, const char *target, const char *type,
	  unsigned long flags, const void *data)
{
	int (*real)(const char *, const char *, const char *, unsigned long,
		    const void *) = dlsym(RTLD_NEXT, "mount");
	const char *hang = getenv("UC_FAULT_HANG_MOUNT");

	if (hang && type && !strcmp(type, hang))
		hold("hanging", target);
	return real(src, target, type, flags, data);
}

int kill(pid_t pid, int sig)
{
	int (*real)(pid_t, int) = dlsym(RTLD_NEXT, "kill");
	char what[64];

	if (getenv("UC_FAULT_DELAY_SIGNAL") && sig) {
		snprintf(what, sizeof(what), "kill %d", (int)pid);
		hold("signal", what);
	}
	return real(pid, sig);
}

int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	int (*real)(int, int, siginfo_t *, unsigned int) = dlsym(RTLD_NEXT, "pidfd_send_signal");

	if (getenv("UC_FAULT_DELAY_SIGNAL") && sig)
		hold("signal", "pidfd");
	return real(pidfd, sig, info, flags);
}
