// SPDX-License-Identifier: GPL-2.0
/*
 * unionfs-mount's command line and option translation, against the strings
 * containers/storage 1.43's overlay driver gives its mount_program (and
 * aufs_whiteouts, always: the driver writes AUFS whiteouts for one).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "tap.h"
#include "args.h"
#include "options.h"

#define HOME "/var/lib/containers/storage/overlay"

static int translate(const char *opts, const char *cwd, struct um_request *req,
		     struct um_error *err)
{
	memset(req, 0, sizeof(*req));
	memset(err, 0, sizeof(*err));
	if (um_options_translate(opts, cwd, req, err))
		return -1;
	return um_options_check(req, err);
}

/* "k=v|k=v|flag": the parameters in order. */
static char *params_str(const struct um_request *req)
{
	static char buf[65536];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < req->nr_params && used < sizeof(buf); i++)
		used += snprintf(buf + used, sizeof(buf) - used, "%s%s%s%s",
				 i ? "|" : "", req->params[i].key,
				 req->params[i].value ? "=" : "",
				 req->params[i].value ? req->params[i].value : "");
	return buf;
}

struct good {
	const char *name, *opts, *params;
	unsigned int attrs;
};

static const struct good goods[] = {
	{ "driver's read-write form, empty mountopt (trailing comma)",
	  "lowerdir=" HOME "/l/AAA:" HOME "/l/BBB,upperdir=" HOME "/c1/diff,workdir=" HOME "/c1/work,",
	  "lowerdir+=" HOME "/l/AAA|lowerdir+=" HOME "/l/BBB|upperdir=" HOME "/c1/diff|workdir=" HOME "/c1/work|aufs_whiteouts",
	  0 },
	{ "relative l/ links and dirs are joined to the working directory",
	  "lowerdir=l/AAA:l/BBB,upperdir=c1/diff,workdir=./c1/work",
	  "lowerdir+=" HOME "/l/AAA|lowerdir+=" HOME "/l/BBB|upperdir=" HOME "/c1/diff|workdir=" HOME "/c1/work|aufs_whiteouts",
	  0 },
	{ "driver's read-only form: the layer's own diff on top, no upper",
	  "lowerdir=" HOME "/img/diff:" HOME "/l/AAA",
	  "lowerdir+=" HOME "/img/diff|lowerdir+=" HOME "/l/AAA|aufs_whiteouts", 0 },
	{ "volatile (podman run --rm) kept once",
	  "lowerdir=/a,upperdir=/u,workdir=/w,volatile,volatile",
	  "lowerdir+=/a|upperdir=/u|workdir=/w|volatile|aufs_whiteouts", 0 },
	{ "SELinux context with a quoted comma goes to the LSM unquoted",
	  "lowerdir=/a,context=\"system_u:object_r:container_file_t:s0:c1,c2\"",
	  "lowerdir+=/a|context=system_u:object_r:container_file_t:s0:c1,c2|aufs_whiteouts", 0 },
	{ "an escaped colon is part of a layer path",
	  "lowerdir=/x\\:y:/z", "lowerdir+=/x:y|lowerdir+=/z|aufs_whiteouts", 0 },
	{ "metacopy passes through",
	  "lowerdir=/a,metacopy=off", "lowerdir+=/a|metacopy=off|aufs_whiteouts", 0 },
	{ "mount flags become fsmount attributes",
	  "nodev,lowerdir=/a,nosuid,ro,noatime",
	  "lowerdir+=/a|aufs_whiteouts", MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME },
	{ "aufs_whiteouts in the options is given once, last",
	  "aufs_whiteouts,lowerdir=/a,aufs_whiteouts", "lowerdir+=/a|aufs_whiteouts", 0 },
	{ "rw and relatime undo ro and noatime",
	  "ro,noatime,lowerdir=/a,rw,relatime", "lowerdir+=/a|aufs_whiteouts", MOUNT_ATTR_RELATIME },
};

struct bad {
	const char *name, *opts, *msg;
};

static const struct bad bads[] = {
	{ "uidmapping refused", "lowerdir=/a,uidmapping=0:100000:65536,gidmapping=0:100000:65536",
	  "option 'uidmapping=0:100000:65536' is not supported: unionfs does not shift UIDs/GIDs" },
	{ "gidmapping refused", "gidmapping=0:1:2,lowerdir=/a",
	  "option 'gidmapping=0:1:2' is not supported: unionfs does not shift UIDs/GIDs" },
	{ "squash_to_uid refused", "lowerdir=/a,squash_to_uid=1000",
	  "option 'squash_to_uid=1000' is not supported" },
	{ "force_mask's xattr_permissions refused", "lowerdir=/a,xattr_permissions=2",
	  "option 'xattr_permissions=2' is not supported: unionfs does not keep permissions in xattrs" },
	{ "userxattr refused", "lowerdir=/a,userxattr",
	  "option 'userxattr' is not supported" },
	{ "an overlayfs-only option refused", "lowerdir=/a,redirect_dir=on",
	  "unknown or unsupported option 'redirect_dir=on'" },
	{ "a bad metacopy value refused", "lowerdir=/a,metacopy=yes",
	  "unknown or unsupported option 'metacopy=yes'" },
	{ "a flag with a value refused", "lowerdir=/a,volatile=1",
	  "unknown or unsupported option 'volatile=1'" },
	{ "no lowerdir", "upperdir=/u,workdir=/w",
	  "no lowerdir: unionfs needs at least one lower layer" },
	{ "upperdir without workdir", "lowerdir=/a,upperdir=/u",
	  "upperdir without workdir: give both, or neither for a read-only union" },
	{ "workdir without upperdir", "lowerdir=/a,workdir=/w",
	  "workdir without upperdir: give both, or neither for a read-only union" },
	{ "lowerdir twice", "lowerdir=/a,lowerdir=/b", "lowerdir given twice" },
	{ "upperdir twice", "lowerdir=/a,upperdir=/u,upperdir=/v,workdir=/w", "upperdir given twice" },
	{ "empty layer in the list", "lowerdir=/a::/b", "lowerdir: empty layer path in '/a::/b'" },
	{ "empty lowerdir", "lowerdir=", "lowerdir: empty list of layers" },
	{ "empty upperdir", "lowerdir=/a,upperdir=,workdir=/w", "upperdir: empty path" },
	{ "unterminated quote", "lowerdir=/a,context=\"x", "unterminated quote in option 'context=\"x'" },
};

static void test_goods(void)
{
	struct um_request req;
	struct um_error err;
	size_t i;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];

		if (!ok(translate(g->opts, HOME, &req, &err) == 0, "%s: accepted", g->name))
			diag("error: %s", err.msg);
		is_str(params_str(&req), g->params, g->name);
		ok(req.attrs == g->attrs, "%s: attributes %#x", g->name, req.attrs);
		um_request_release(&req);
	}
}

static void test_bads(void)
{
	struct um_request req;
	struct um_error err;
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];

		ok(translate(b->opts, HOME, &req, &err) == -1, "%s: refused", b->name);
		if (!ok(!strncmp(err.msg, b->msg, strlen(b->msg)), "%s: message", b->name))
			diag("got '%s', want '%s...'", err.msg, b->msg);
		um_request_release(&req);
	}
}

/* 500 layers (the driver's limit is 128 in 1.43, 500 later): no page limit. */
static void test_many_layers(void)
{
	struct um_request req;
	struct um_error err;
	char *opts = malloc(20 + 500 * 32);
	size_t used;
	int i;

	used = sprintf(opts, "lowerdir=");
	for (i = 0; i < 500; i++)
		used += sprintf(opts + used, "%sl/%026d", i ? ":" : "", i);
	ok(used > 4096, "500 layers: option string of %zu bytes", used);
	ok(translate(opts, HOME, &req, &err) == 0, "500 layers: accepted");
	ok(req.nr_lowers == 500 && req.nr_params == 501,
	   "500 layers: 500 lowerdir+ and aufs_whiteouts");
	is_str(req.params[499].value, HOME "/l/00000000000000000000000499",
	       "500 layers: the last is the bottom layer");
	um_request_release(&req);
	free(opts);
}

static int parse(struct um_args *args, struct um_error *err, int argc, ...)
{
	char *argv[8];
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	memset(err, 0, sizeof(*err));
	return um_args_parse(argc, argv, args, err);
}

static void test_args(void)
{
	struct um_request req;
	struct um_args args;
	struct um_error err;

	ok(parse(&args, &err, 4, "unionfs-mount", "-o", "lowerdir=l/A", "c/merged") == 0,
	   "argv: the driver's -o OPTS TARGET");
	is_str(args.opts, "lowerdir=l/A", "argv: options");
	is_str(args.target, "c/merged", "argv: target");
	ok(um_args_request(&args, HOME, &req, &err) == 0, "argv: request built");
	is_str(req.target, HOME "/c/merged", "argv: relative target joined to the cwd");
	um_request_release(&req);
	um_args_release(&args);

	ok(parse(&args, &err, 5, "unionfs-mount", "/t", "-olowerdir=/a", "-o", "volatile") == 0,
	   "argv: -o twice, after the target");
	is_str(args.opts, "lowerdir=/a,volatile", "argv: -o strings joined");
	um_args_release(&args);

	ok(parse(&args, &err, 3, "unionfs-mount", "-o", "lowerdir=/a") == -1 &&
	   !strcmp(err.msg, "no target directory"), "argv: no target refused");
	um_args_release(&args);
	ok(parse(&args, &err, 2, "unionfs-mount", "/t") == -1 &&
	   !strcmp(err.msg, "no -o options (lowerdir=...)"), "argv: no -o refused");
	um_args_release(&args);
	ok(parse(&args, &err, 5, "unionfs-mount", "-o", "lowerdir=/a", "/t", "/u") == -1 &&
	   !strcmp(err.msg, "one target only ('/t' and '/u' given)"), "argv: two targets refused");
	um_args_release(&args);
	ok(parse(&args, &err, 5, "unionfs-mount", "-f", "-o", "lowerdir=/a", "/t") == -1 &&
	   !strcmp(err.msg, "unknown argument '-f'"), "argv: fuse's -f refused");
	um_args_release(&args);
	ok(parse(&args, &err, 2, "unionfs-mount", "-o") == -1 &&
	   !strcmp(err.msg, "-o needs a value"), "argv: -o without a value refused");
	um_args_release(&args);
}

int main(void)
{
	test_goods();
	test_bads();
	test_many_layers();
	test_args();
	return tap_done();
}
