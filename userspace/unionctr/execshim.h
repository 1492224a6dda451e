/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exec shim (execshim.c, embedded by execshim_blob.S) as a file the
 * container's first exec can run: a sealed memfd, so that nothing in the
 * container can write a host binary through /proc/self/exe (CVE-2019-5736).
 */
#ifndef UNIONCTR_EXECSHIM_H
#define UNIONCTR_EXECSHIM_H

#include "error.h"

/*
 * A close-on-exec, read-only fd of a private copy of the shim, for
 * execveat(fd, "", AT_EMPTY_PATH): a sealed memfd, or where executable
 * memfds are refused (vm.memfd_noexec=2) an unnamed O_TMPFILE in dir.
 * Never the launcher's own binary.
 */
int execshim_open(const char *dir, uc_error_t *err);

#endif
