// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

char *um_abspath(const char *cwd, const char *path, struct um_error *err)
{
	char *out;

	if (!*path) {
		um_fail(err, "empty path");
		return NULL;
	}
	if (path[0] == '/') {
		out = strdup(path);
	} else {
		if (!cwd || cwd[0] != '/') {
			um_fail(err, "relative path '%s' without a working directory", path);
			return NULL;
		}
		while (path[0] == '.' && path[1] == '/')
			path += 2;
		if (asprintf(&out, "%s%s%s", cwd,
			     cwd[strlen(cwd) - 1] == '/' ? "" : "/", path) < 0)
			out = NULL;
	}
	if (!out)
		um_fail_errno(err, ENOMEM, "cannot store path '%s'", path);
	return out;
}

char *um_unescape(const char *s, size_t len, struct um_error *err)
{
	char *out = malloc(len + 1);
	size_t i, o = 0;

	if (!out) {
		um_fail_errno(err, ENOMEM, "cannot copy an option value");
		return NULL;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}
