// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int verror(uc_error_t *err, int status, int errnum, const char *fmt,
		  va_list ap)
{
	char *msg = NULL, *full = NULL;

	if (!err || *err)	/* keep the first, innermost error */
		return -1;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (msg && errnum) {
		if (asprintf(&full, "%s: %s", msg, strerror(errnum)) < 0)
			full = NULL;
		free(msg);
		msg = full;
	}
	*err = calloc(1, sizeof(**err));
	if (!*err) {
		free(msg);
		return -1;
	}
	(*err)->status = status ? status : UC_EXIT_LAUNCHER;
	(*err)->errno_ = errnum;
	(*err)->msg = msg ? msg : strdup("out of memory");
	return -1;
}

int uc_error(uc_error_t *err, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(err, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int uc_error_errno(uc_error_t *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(err, 0, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int uc_error_wrap(uc_error_t *err, const char *fmt, ...)
{
	char *prefix = NULL, *full = NULL;
	va_list ap;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (prefix && asprintf(&full, "%s: %s", prefix, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(prefix);
	return -1;
}

void uc_error_release(uc_error_t *err)
{
	if (!err || !*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

int uc_error_report(uc_error_t *err)
{
	int status = UC_EXIT_LAUNCHER;

	if (err && *err) {
		status = (*err)->status;
		fprintf(stderr, "unionctr: %s\n", (*err)->msg);
		uc_error_release(err);
	}
	return status;
}

void uc_warning(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "unionctr: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
