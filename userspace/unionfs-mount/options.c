// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "options.h"
#include "paths.h"

struct um_attr_opt {
	const char *name;
	unsigned int set;	/* MOUNT_ATTR_* bits it sets */
	unsigned int clear;	/* ... and clears */
};

#define UM_ATIME_BITS (MOUNT_ATTR__ATIME)

static const struct um_attr_opt um_attr_opts[] = {
	{ "ro", MOUNT_ATTR_RDONLY, 0 },
	{ "rw", 0, MOUNT_ATTR_RDONLY },
	{ "nosuid", MOUNT_ATTR_NOSUID, 0 },
	{ "suid", 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, 0 },
	{ "dev", 0, MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0 },
	{ "exec", 0, MOUNT_ATTR_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, UM_ATIME_BITS },
	{ "relatime", MOUNT_ATTR_RELATIME, UM_ATIME_BITS },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, UM_ATIME_BITS },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
};

/* Options fuse-overlayfs or overlayfs take and unionfs does not: why. */
struct um_refused {
	const char *name;
	const char *why;
};

static const char um_no_shift[] =
	"unionfs does not shift UIDs/GIDs (containers/storage asks for it when the "
	"storage or the container has ID mappings: use them with native overlay)";

static const struct um_refused um_refused_opts[] = {
	{ "uidmapping", um_no_shift },
	{ "gidmapping", um_no_shift },
	{ "squash_to_uid", um_no_shift },
	{ "squash_to_gid", um_no_shift },
	{ "squash_to_root", um_no_shift },
	{ "xattr_permissions",
	  "unionfs does not keep permissions in xattrs (storage.conf force_mask)" },
	{ "userxattr",
	  "unionfs keeps its markers in trusted.* xattrs and mounts only as root "
	  "in the initial user namespace" },
};

/* Context options the LSM takes from fsconfig before the filesystem. */
static const char *const um_lsm_opts[] = {
	"context", "fscontext", "defcontext", "rootcontext",
};

#define UM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The next comma-separated item of *pos (commas inside double quotes or
 * after a backslash do not separate). Returns its length; *start is set.
 */
static int um_next_item(const char **pos, const char **start, size_t *len,
			struct um_error *err)
{
	const char *p = *pos;
	bool quoted = false;

	*start = p;
	for (; *p && (quoted || *p != ','); p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
	}
	if (quoted)
		return um_fail(err, "unterminated quote in option '%s'", *start);
	*len = p - *start;
	*pos = *p ? p + 1 : p;
	return 0;
}

static int um_add_path(struct um_request *req, const char *key, const char *s,
		       size_t len, const char *cwd, struct um_error *err)
{
	char *raw, *abs;
	int ret;

	raw = um_unescape(s, len, err);
	if (!raw)
		return -1;
	abs = um_abspath(cwd, raw, err);
	free(raw);
	if (!abs)
		return um_fail(err, "%s: empty path", key);
	ret = um_request_add(req, key, abs, err);
	free(abs);
	return ret;
}

/* lowerdir=TOP:...:BOTTOM: one lowerdir+ per layer. */
static int um_add_lowers(struct um_request *req, const char *val,
			 const char *cwd, struct um_error *err)
{
	const char *p = val, *start;

	if (req->nr_lowers)
		return um_fail(err, "lowerdir given twice");
	if (!*val)
		return um_fail(err, "lowerdir: empty list of layers");
	for (;;) {
		start = p;
		while (*p && *p != ':') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (p == start)
			return um_fail(err, "lowerdir: empty layer path in '%s'", val);
		if (um_add_path(req, "lowerdir+", start, p - start, cwd, err))
			return -1;
		req->nr_lowers++;
		if (!*p)
			return 0;
		p++;
	}
}

static int um_add_dir(struct um_request *req, const char *key, const char *val,
		      const char *cwd, struct um_error *err)
{
	bool *seen = !strcmp(key, "upperdir") ? &req->has_upper : &req->has_work;

	if (*seen)
		return um_fail(err, "%s given twice", key);
	if (!*val)
		return um_fail(err, "%s: empty path", key);
	if (um_add_path(req, key, val, strlen(val), cwd, err))
		return -1;
	*seen = true;
	return 0;
}

/* A value in double quotes ("a,b") without them. */
static int um_add_lsm(struct um_request *req, const char *key, const char *val,
		      struct um_error *err)
{
	size_t len = strlen(val);
	char *v;
	int ret;

	if (len >= 2 && val[0] == '"' && val[len - 1] == '"') {
		val++;
		len -= 2;
	}
	v = strndup(val, len);
	if (!v)
		return um_fail(err, "cannot copy option '%s'", key);
	ret = um_request_add(req, key, v, err);
	free(v);
	return ret;
}

/* A mount attribute: true when key is one. */
static bool um_add_attr(struct um_request *req, const char *key)
{
	size_t i;

	for (i = 0; i < UM_ARRAY_SIZE(um_attr_opts); i++) {
		if (strcmp(key, um_attr_opts[i].name))
			continue;
		req->attrs &= ~um_attr_opts[i].clear;
		req->attrs |= um_attr_opts[i].set;
		return true;
	}
	return false;
}

static int um_refuse(const char *key, const char *val, struct um_error *err)
{
	size_t i;

	for (i = 0; i < UM_ARRAY_SIZE(um_refused_opts); i++)
		if (!strcmp(key, um_refused_opts[i].name))
			return um_fail(err, "option '%s%s%s' is not supported: %s",
				       key, val ? "=" : "", val ? val : "",
				       um_refused_opts[i].why);
	return um_fail(err, "unknown or unsupported option '%s%s%s'",
		       key, val ? "=" : "", val ? val : "");
}

/* One key[=value] item; val is NULL for a bare key. */
static int um_translate_one(struct um_request *req, const char *key,
			    const char *val, const char *cwd,
			    struct um_error *err)
{
	size_t i;

	if (!strcmp(key, "lowerdir") && val)
		return um_add_lowers(req, val, cwd, err);
	if ((!strcmp(key, "upperdir") || !strcmp(key, "workdir")) && val)
		return um_add_dir(req, key, val, cwd, err);
	if (!strcmp(key, "volatile") && !val)
		return um_request_find(req, "volatile") ? 0 :
			um_request_add(req, "volatile", NULL, err);
	/* always given (um_options_translate()): accepted, once */
	if (!strcmp(key, UM_AUFS_WHITEOUTS) && !val)
		return 0;
	if (!strcmp(key, "metacopy") && val &&
	    (!strcmp(val, "on") || !strcmp(val, "off")))
		return um_request_add(req, key, val, err);
	for (i = 0; i < UM_ARRAY_SIZE(um_lsm_opts); i++)
		if (!strcmp(key, um_lsm_opts[i]) && val)
			return um_add_lsm(req, key, val, err);
	if (!val && um_add_attr(req, key))
		return 0;
	return um_refuse(key, val, err);
}

int um_options_translate(const char *opts, const char *cwd,
			 struct um_request *req, struct um_error *err)
{
	const char *pos = opts, *start;
	char *item, *eq;
	size_t len = 0;
	int ret;

	while (*pos) {
		if (um_next_item(&pos, &start, &len, err))
			return -1;
		if (!len)
			continue;
		item = strndup(start, len);
		if (!item)
			return um_fail(err, "cannot copy option '%.*s'", (int)len, start);
		eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		ret = um_translate_one(req, item, eq ? eq + 1 : NULL, cwd, err);
		free(item);
		if (ret)
			return -1;
	}
	/* containers/storage writes AUFS whiteouts for a mount_program */
	return um_request_add(req, UM_AUFS_WHITEOUTS, NULL, err);
}

int um_options_check(const struct um_request *req, struct um_error *err)
{
	if (!req->nr_lowers)
		return um_fail(err, "no lowerdir: unionfs needs at least one lower layer");
	if (req->has_upper != req->has_work)
		return um_fail(err, "%s without %s: give both, or neither for a read-only union",
			       req->has_upper ? "upperdir" : "workdir",
			       req->has_upper ? "workdir" : "upperdir");
	return 0;
}
