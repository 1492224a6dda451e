// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static void um_vset(struct um_error *err, const char *fmt, va_list ap)
{
	if (!err || err->msg[0])
		return;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int um_fail(struct um_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	um_vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int um_fail_errno(struct um_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err || err->msg[0])
		return -1;
	va_start(ap, fmt);
	um_vset(err, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return -1;
}
