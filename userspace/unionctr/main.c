// SPDX-License-Identifier: GPL-2.0
/*
 * unionctr: a small Docker-compatible container launcher whose root is a
 * unionfs (or overlayfs) mount of image layers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "utils.h"

static const struct {
	const char *name;
	int (*fn)(struct uc_cli *g, int argc, char **argv);
	const char *help;
} commands[] = {
	{ "create", cmd_create, "Create a container" },
	{ "run", cmd_run, "Create and start a container, wait for it" },
	{ "start", cmd_start, "Start a created or stopped container" },
	{ "ps", cmd_ps, "List containers" },
	{ "logs", cmd_logs, "Output of a detached container" },
	{ "stop", cmd_stop, "Stop containers (SIGTERM, SIGKILL after -t seconds)" },
	{ "kill", cmd_kill, "Signal containers (-s SIGNAL, default KILL)" },
	{ "rm", cmd_rm, "Remove containers" },
	{ "inspect", cmd_inspect, "Show a container or image as JSON" },
	{ "diff", cmd_diff, "Changes of a container's layer (A/C/D)" },
	{ "commit", cmd_commit, "Make an image of a container's layer" },
	{ "import", cmd_import, "Import an image (rootfs dir/tarball, OCI, docker save)" },
	{ "images", cmd_images, "List images" },
	{ "rmi", cmd_rmi, "Remove images" },
	{ "volume", cmd_volume, "Manage volumes (ls, create, rm, inspect)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: unionctr [--root DIR] [--storage unionfs|overlay] COMMAND [ARGS...]\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nState root: --root, $UNIONCTR_ROOT or %s.\n"
		"Storage: --storage, $UNIONCTR_STORAGE or unionfs.\n", UC_DEFAULT_ROOT);
}

int cli_global_opt(struct uc_cli *g, int opt)
{
	if (opt == 0x100) {
		g->root = optarg;
		return 1;
	}
	if (opt == 0x101) {
		g->storage = optarg;
		return 1;
	}
	return 0;
}

int cli_open_store(struct uc_cli *g, struct uc_store *s, uc_error_t *err)
{
	return store_open(s, g->root, g->storage, err);
}

int cli_usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "unionctr %s: %s\nSee 'unionctr %s --help'.\n", cmd, msg, cmd);
	return UC_EXIT_LAUNCHER;
}

int main(int argc, char **argv)
{
	struct uc_cli g = {
		.root = getenv("UNIONCTR_ROOT") ? getenv("UNIONCTR_ROOT") : UC_DEFAULT_ROOT,
		.storage = getenv("UNIONCTR_STORAGE") ? getenv("UNIONCTR_STORAGE") : "unionfs",
	};
	int i = 1;
	size_t c;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			g.root = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--root=", 7)) {
			g.root = argv[i++] + 7;
		} else if (!strcmp(argv[i], "--storage") && i + 1 < argc) {
			g.storage = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--storage=", 10)) {
			g.storage = argv[i++] + 10;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("unionctr version 0.1\n");
			return 0;
		} else {
			fprintf(stderr, "unionctr: unknown flag: %s\n", argv[i]);
			usage(stderr);
			return UC_EXIT_LAUNCHER;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return UC_EXIT_LAUNCHER;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name))
			continue;
		optind = 1;
		return commands[c].fn(&g, argc - i, argv + i);
	}
	fprintf(stderr, "unionctr: '%s' is not a unionctr command.\nSee 'unionctr --help'\n",
		argv[i]);
	return UC_EXIT_LAUNCHER;
}
