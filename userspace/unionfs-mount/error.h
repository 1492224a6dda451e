/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Errors travel upward: functions return -1 and fill a um_error with the
 * message main() prints on stderr (the engine shows that text to its user).
 */
#ifndef UNIONFS_MOUNT_ERROR_H
#define UNIONFS_MOUNT_ERROR_H

#define UM_MSG_MAX 1024

struct um_error {
	char msg[UM_MSG_MAX];
};

/* Set the message (the first one wins) and return -1. */
int um_fail(struct um_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Like um_fail, appending ": strerror(errnum)". */
int um_fail_errno(struct um_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
