/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Errors travel upward: library functions return -1 (or NULL) and fill a
 * uc_error_t with a message and the exit status the CLI should use, in the
 * manner of crun's libcrun_error_t.  Nothing below main.c calls exit().
 */
#ifndef UNIONCTR_ERROR_H
#define UNIONCTR_ERROR_H

#include <stdarg.h>

/* Docker's exit statuses. */
#define UC_EXIT_LAUNCHER 125	/* the launcher itself failed */
#define UC_EXIT_CANNOT_EXEC 126	/* command found but not executable */
#define UC_EXIT_NOT_FOUND 127	/* command not found */

struct uc_error_s {
	int status;		/* exit status to report */
	int errno_;		/* errno when the error came from a syscall, or 0 */
	char *msg;
};
typedef struct uc_error_s *uc_error_t;

/* Set *err (if NULL) and return -1.  status 0 means UC_EXIT_LAUNCHER. */
int uc_error(uc_error_t *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like uc_error, appending ": strerror(errnum)". */
int uc_error_errno(uc_error_t *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the existing message with "fmt: ". */
int uc_error_wrap(uc_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void uc_error_release(uc_error_t *err);
/*
 * Something skipped that the user should hear of (a corrupt record), on
 * stderr as "unionctr: warning: ...": what is skipped is not an error of
 * the command at hand.
 */
void uc_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "unionctr: msg" on stderr, release, and return the status. */
int uc_error_report(uc_error_t *err);

#endif
