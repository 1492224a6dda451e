// SPDX-License-Identifier: GPL-2.0
/* unionctr create / run / start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "start.h"
#include "utils.h"

struct run_args {
	struct uc_create_opts create;
	bool detach;
};

static void run_args_free(struct run_args *a)
{
	strv_free(a->create.env);
	strv_free(a->create.volumes);
	strv_free(a->create.volumes_from);
	strv_free(a->create.cmd);
	strv_free(a->create.cap_add);
	strv_free(a->create.cap_drop);
	strv_free(a->create.security_opt);
}

static void create_usage(const char *cmd)
{
	printf("Usage: unionctr %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
	       "  -v, --volume SPEC        bind mount or volume: [SRC:]DST[:MODE]\n"
	       "      --volumes-from C[:ro|:rw]  mounts of container C\n"
	       "      --name NAME          container name\n"
	       "      --rm                 remove the container (and its anonymous volumes) on exit\n"
	       "  -i, --interactive        keep stdin open\n"
	       "  -t, --tty                allocate a pseudo-terminal\n"
	       "  -e, --env KEY[=VAL]      set an environment variable\n"
	       "  -w, --workdir DIR        working directory\n"
	       "  -h, --hostname NAME      host name\n"
	       "  -u, --user USER[:GROUP]  user (name or uid) and group to run as\n"
	       "      --entrypoint CMD     override the image's entrypoint\n"
	       "      --read-only          no upper layer: the root is read-only\n"
	       "      --cap-add CAP        add a capability (CAP_NET_ADMIN, net_admin, ALL)\n"
	       "      --cap-drop CAP       drop a capability (or ALL)\n"
	       "      --privileged         every capability, no seccomp, no masked paths\n"
	       "      --security-opt OPT   no-new-privileges, seccomp=unconfined, seccomp=FILE\n"
	       "      --no-pivot           MS_MOVE + chroot instead of pivot_root (initramfs)\n"
	       "%s"
	       "      --root DIR, --storage unionfs|overlay\n",
	       cmd, strcmp(cmd, "run") ? "" : "  -d, --detach             run in the background, print the id\n");
}

static const struct option create_opts[] = {
	{ "volume", required_argument, NULL, 'v' },
	{ "volumes-from", required_argument, NULL, 0x200 },
	{ "name", required_argument, NULL, 0x201 },
	{ "rm", no_argument, NULL, 0x202 },
	{ "interactive", no_argument, NULL, 'i' },
	{ "tty", no_argument, NULL, 't' },
	{ "env", required_argument, NULL, 'e' },
	{ "workdir", required_argument, NULL, 'w' },
	{ "hostname", required_argument, NULL, 'h' },
	{ "user", required_argument, NULL, 'u' },
	{ "entrypoint", required_argument, NULL, 0x203 },
	{ "read-only", no_argument, NULL, 0x204 },
	{ "detach", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 0x205 },
	{ "cap-add", required_argument, NULL, 0x206 },
	{ "cap-drop", required_argument, NULL, 0x207 },
	{ "privileged", no_argument, NULL, 0x208 },
	{ "security-opt", required_argument, NULL, 0x209 },
	{ "no-pivot", no_argument, NULL, 0x20a },
	CLI_GLOBAL_OPTS,
	{ NULL, 0, NULL, 0 },
};

/* A list option (-v, -e, ...) into its vector; false if opt is not one. */
static bool list_option(int opt, struct uc_create_opts *c)
{
	char ***v = opt == 'v' ? &c->volumes : opt == 0x200 ? &c->volumes_from :
		    opt == 'e' ? &c->env : opt == 0x206 ? &c->cap_add :
		    opt == 0x207 ? &c->cap_drop : opt == 0x209 ? &c->security_opt : NULL;

	if (v)
		strv_push(v, optarg);
	return v != NULL;
}

/* One option of create/run; -1 ends the parse (status in *st). */
static int create_option(const char *cmd, int opt, struct run_args *a, int *st)
{
	struct uc_create_opts *c = &a->create;

	if (list_option(opt, c))
		return 0;
	switch (opt) {
	case 0x201:
		c->name = optarg;
		break;
	case 0x202:
		c->auto_remove = true;
		break;
	case 'i':
		c->open_stdin = true;
		break;
	case 't':
		c->tty = true;
		break;
	case 'w':
		c->workdir = optarg;
		break;
	case 'h':
		c->hostname = optarg;
		break;
	case 'u':
		c->user = optarg;
		break;
	case 0x203:
		c->entrypoint = optarg;
		break;
	case 0x204:
		c->read_only = true;
		break;
	case 0x208:
		c->privileged = true;
		break;
	case 0x20a:
		c->no_pivot = true;
		break;
	case 'd':
		if (strcmp(cmd, "run")) {
			*st = cli_usage_error(cmd, "unknown shorthand flag: 'd'");
			return -1;
		}
		a->detach = true;
		break;
	case 0x205:
		create_usage(cmd);
		*st = 0;
		return -1;
	default:
		*st = cli_usage_error(cmd, "bad option");
		return -1;
	}
	return 0;
}

/* Parse create/run options; returns -1 for usage errors (status in *st). */
static int parse_create(const char *cmd, struct uc_cli *g, int argc, char **argv,
			struct run_args *a, int *st)
{
	int opt, i;

	memset(a, 0, sizeof(*a));
	while ((opt = getopt_long(argc, argv, "+v:ite:w:h:du:", create_opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (create_option(cmd, opt, a, st) < 0)
			return -1;
	}
	if (optind >= argc) {
		*st = cli_usage_error(cmd, "requires at least 1 argument");
		return -1;
	}
	a->create.image = argv[optind];
	for (i = optind + 1; i < argc; i++)
		strv_push(&a->create.cmd, argv[i]);
	if (a->create.tty && a->create.open_stdin && !a->detach && !isatty(0)) {
		fprintf(stderr, "the input device is not a TTY\n");
		*st = 1;
		return -1;
	}
	return 0;
}

int cmd_create(struct uc_cli *g, int argc, char **argv)
{
	struct uc_container *c = NULL;
	struct run_args a;
	struct uc_store s;
	uc_error_t err = NULL;
	int st = 0;

	if (parse_create("create", g, argc, argv, &a, &st) < 0) {
		run_args_free(&a);
		return st;
	}
	if (cli_open_store(g, &s, &err) < 0 ||
	    container_create(&s, &a.create, &c, &err) < 0) {
		st = uc_error_report(&err);
	} else {
		printf("%s\n", c->id);
		container_free(c);
	}
	store_close(&s);
	run_args_free(&a);
	return st;
}

int cmd_run(struct uc_cli *g, int argc, char **argv)
{
	struct uc_start_opts so = { .attach = true, .notify_fd = -1 };
	struct uc_container *c = NULL;
	struct run_args a;
	struct uc_store s;
	uc_error_t err = NULL;
	int st = 0;

	if (parse_create("run", g, argc, argv, &a, &st) < 0) {
		run_args_free(&a);
		return st;
	}
	if (cli_open_store(g, &s, &err) < 0 ||
	    container_create(&s, &a.create, &c, &err) < 0) {
		st = uc_error_report(&err);
		goto out;
	}
	if (a.detach) {
		if (container_start_detached(&s, c->id, &err) < 0)
			st = uc_error_report(&err);
		else
			printf("%s\n", c->id);
		goto out;
	}
	so.interactive = a.create.open_stdin;
	if (container_start(&s, c->id, &so, &st, &err) < 0)
		st = uc_error_report(&err);
out:
	container_free(c);
	store_close(&s);
	run_args_free(&a);
	return st;
}

int cmd_start(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 0x205 },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct uc_start_opts so = { .notify_fd = -1 };
	struct uc_store s;
	uc_error_t err = NULL;
	int opt, st = 0, i;

	while ((opt = getopt_long(argc, argv, "+ai", opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt == 'a')
			so.attach = true;
		else if (opt == 'i')
			so.interactive = true;
		else if (opt == 0x205) {
			printf("Usage: unionctr start [-a] [-i] CONTAINER...\n");
			return 0;
		} else
			return cli_usage_error("start", "bad option");
	}
	if (optind >= argc)
		return cli_usage_error("start", "requires at least 1 argument");
	if (cli_open_store(g, &s, &err) < 0)
		return uc_error_report(&err);
	for (i = optind; i < argc; i++) {
		if (so.attach || so.interactive) {
			so.attach = true;
			if (container_start(&s, argv[i], &so, &st, &err) < 0)
				st = uc_error_report(&err);
			break;	/* attach to the first only, like docker */
		}
		if (container_start_detached(&s, argv[i], &err) < 0)
			st = uc_error_report(&err);
		else
			printf("%s\n", argv[i]);
	}
	store_close(&s);
	return st;
}
