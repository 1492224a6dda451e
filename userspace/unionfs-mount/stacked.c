// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacked.h"

/*
 * Decode one escaped path of a mountinfo line into @out (at most PATH_MAX):
 * "\ooo" (octal, as the kernel writes ' ', ',', '\t', '\n') and "\c" (c,
 * as unionfs writes ':' and '\' in lowerdir). Stops at an unescaped
 * character of @stops or at the end; returns where it stopped, NULL when
 * too long.
 */
static const char *um_unescape(const char *s, const char *stops, char *out)
{
	size_t n = 0;

	while (*s && !strchr(stops, *s)) {
		char c = *s++;

		if (c == '\\' && s[0] >= '0' && s[0] <= '7' &&
		    s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
			s += 3;
		} else if (c == '\\' && *s) {
			c = *s++;
		}
		if (n + 1 >= PATH_MAX)
			return NULL;
		out[n++] = c;
	}
	out[n] = '\0';
	return s;
}

static bool um_same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Where the value of option @key starts in a union's options @opts, or
 * NULL. unionfs escapes every ',' of a path: an unescaped one ends an
 * option.
 */
static const char *um_opt_value(const char *opts, const char *key)
{
	size_t len = strlen(key);
	const char *p = opts;

	while (p) {
		if (!strncmp(p, key, len) && p[len] == '=')
			return p + len + 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}

/* Is the directory @opts name for @key the directory @want? */
static bool um_same_opt_dir(const char *opts, const char *key, const char *want)
{
	const char *v = um_opt_value(opts, key);
	char path[PATH_MAX];

	return v && um_unescape(v, ",", path) && um_same_dir(path, want);
}

/* Do the union's options @opts name the layers of @req, and only those? */
static bool um_same_layers(const char *opts, const struct um_request *req)
{
	const char *lower = um_opt_value(opts, "lowerdir");
	char path[PATH_MAX];
	size_t i, lowers = 0;

	if (!lower || !um_opt_value(opts, "upperdir") != !req->has_upper)
		return false;
	for (i = 0; i < req->nr_params; i++) {
		const struct um_param *param = &req->params[i];

		if (!strcmp(param->key, "upperdir") || !strcmp(param->key, "workdir")) {
			if (!um_same_opt_dir(opts, param->key, param->value))
				return false;
		} else if (!strcmp(param->key, "lowerdir+")) {
			if (lowers && *lower++ != ':')
				return false;	/* fewer layers mounted */
			lower = um_unescape(lower, ":,", path);
			if (!lower || !um_same_dir(path, param->value))
				return false;
			lowers++;
		}
	}
	return lowers && *lower != ':';	/* not more layers mounted */
}

int um_same_union_mounted(FILE *mountinfo, const struct um_request *req,
			  struct um_error *err)
{
	char *line = NULL, target[PATH_MAX], mnt[PATH_MAX];
	size_t cap = 0;
	int same = 0;

	if (!realpath(req->target, target))
		return 0;	/* the mount will say what is wrong with it */
	while (getline(&line, &cap, mountinfo) > 0) {
		char *save, *field, *fstype = NULL, *opts = NULL;
		int i;

		line[strcspn(line, "\n")] = '\0';
		field = strtok_r(line, " ", &save);
		for (i = 0; field && i < 4; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field || !um_unescape(field, "", mnt) || strcmp(mnt, target))
			continue;
		while ((field = strtok_r(NULL, " ", &save)) && strcmp(field, "-"))
			;
		if (field)
			fstype = strtok_r(NULL, " ", &save);
		if (fstype && strtok_r(NULL, " ", &save))
			opts = strtok_r(NULL, " ", &save);
		/* a later line for the target is a mount on top of this one */
		same = fstype && opts && !strcmp(fstype, "unionfs") &&
		       um_same_layers(opts, req);
	}
	free(line);
	if (ferror(mountinfo))
		return um_fail(err, "reading the mount table failed");
	return same;
}

int um_stack_union(const struct um_request *req, struct um_error *err)
{
	int fd = open_tree(AT_FDCWD, req->target, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return um_fail_errno(err, errno, "cloning the union on '%s'", req->target);
	if (move_mount(fd, "", AT_FDCWD, req->target, MOVE_MOUNT_F_EMPTY_PATH))
		ret = um_fail_errno(err, errno, "stacking the union on '%s'", req->target);
	close(fd);
	return ret;
}
