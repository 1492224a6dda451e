// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "options.h"
#include "paths.h"

static int um_args_add_opts(struct um_args *args, const char *o,
			    struct um_error *err)
{
	size_t old = args->opts ? strlen(args->opts) : 0;
	char *n = realloc(args->opts, old + strlen(o) + 2);

	if (!n)
		return um_fail_errno(err, errno, "cannot store -o");
	if (old)
		n[old++] = ',';
	strcpy(n + old, o);
	args->opts = n;
	return 0;
}

int um_args_parse(int argc, char *const argv[], struct um_args *args,
		  struct um_error *err)
{
	int i;

	memset(args, 0, sizeof(*args));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			args->help = true;
			return 0;
		}
		if (!strcmp(a, "-o")) {
			if (i + 1 >= argc)
				return um_fail(err, "-o needs a value");
			if (um_args_add_opts(args, argv[++i], err))
				return -1;
		} else if (!strncmp(a, "-o", 2)) {
			if (um_args_add_opts(args, a + 2, err))
				return -1;
		} else if (a[0] == '-' && a[1]) {
			return um_fail(err, "unknown argument '%s'", a);
		} else if (args->target) {
			return um_fail(err, "one target only ('%s' and '%s' given)",
				       args->target, a);
		} else {
			args->target = a;
		}
	}
	if (!args->target)
		return um_fail(err, "no target directory");
	if (!args->opts)
		return um_fail(err, "no -o options (lowerdir=...)");
	return 0;
}

void um_args_release(struct um_args *args)
{
	free(args->opts);
	memset(args, 0, sizeof(*args));
}

int um_args_request(const struct um_args *args, const char *cwd,
		    struct um_request *req, struct um_error *err)
{
	memset(req, 0, sizeof(*req));
	if (um_options_translate(args->opts, cwd, req, err) ||
	    um_options_check(req, err))
		goto fail;
	req->target = um_abspath(cwd, args->target, err);
	if (!req->target)
		goto fail;
	return 0;
fail:
	um_request_release(req);
	return -1;
}
