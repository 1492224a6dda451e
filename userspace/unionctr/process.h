/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A container's process, held by a pidfd: signals go to that process or to
 * nobody, never to another that got its PID since (stop, kill, rm -f).
 */
#ifndef UNIONCTR_PROCESS_H
#define UNIONCTR_PROCESS_H

#include <stdbool.h>

/*
 * A pidfd of pid if it is still the process that started at start_time
 * (proc_start_time(): checked after the pidfd is open, so a PID reused
 * before that is told apart), else -1.
 */
int process_open(int pid, unsigned long long start_time);
/* 0, or -1 with errno (ESRCH: it has exited). */
int process_signal(int pidfd, int sig);
/* Wait up to timeout_ms (-1: no limit) for it to exit; true if it has. */
bool process_wait_exit(int pidfd, int timeout_ms);

#endif
