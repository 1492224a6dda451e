// SPDX-License-Identifier: GPL-2.0
/*
 * unionctr: a small Docker-compatible container launcher whose root is a
 * unionfs (or overlayfs) mount of image layers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli.h"
#include "utils.h"

extern char **environ;

static const struct {
	const char *name;
	int (*fn)(struct uc_cli *g, int argc, char **argv);
	bool cloned;	/* runs container code: re-exec from a sealed copy */
	const char *help;
} commands[] = {
	{ "create", cmd_create, false, "Create a container" },
	{ "run", cmd_run, true, "Create and start a container, wait for it" },
	{ "start", cmd_start, true, "Start a created or stopped container" },
	{ "ps", cmd_ps, false, "List containers" },
	{ "logs", cmd_logs, false, "Output of a detached container" },
	{ "stop", cmd_stop, false, "Stop containers (SIGTERM, SIGKILL after -t seconds)" },
	{ "kill", cmd_kill, false, "Signal containers (-s SIGNAL, default KILL)" },
	{ "rm", cmd_rm, false, "Remove containers" },
	{ "inspect", cmd_inspect, false, "Show a container or image as JSON" },
	{ "diff", cmd_diff, false, "Changes of a container's layer (A/C/D)" },
	{ "commit", cmd_commit, false, "Make an image of a container's layer" },
	{ "import", cmd_import, false, "Import an image (rootfs dir/tarball, OCI, docker save)" },
	{ "images", cmd_images, false, "List images" },
	{ "rmi", cmd_rmi, false, "Remove images" },
	{ "volume", cmd_volume, false, "Manage volumes (ls, create, rm, inspect)" },
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

int ensure_cloned_binary(char **argv)
{
	char link[64] = "";
	ssize_t n;
	struct statvfs sv;
	struct stat st;
	int self, mfd;
	off_t off = 0;

	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (str_has_prefix(link, "/memfd:unionctr"))
			return 0;
	}
	if (getenv("UNIONCTR_NO_CLONE"))
		return 0;
	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0 || fstat(self, &st) < 0)
		return -1;
	/* On a read-only mount the binary cannot be written through /proc. */
	if (fstatvfs(self, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		close(self);
		return 0;
	}
	mfd = memfd_create("unionctr", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		close(self);
		return -1;
	}
	while (off < st.st_size)
		if (sendfile(mfd, self, &off, st.st_size - off) <= 0)
			break;
	close(self);
	if (off != st.st_size ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE) < 0) {
		close(mfd);
		return -1;
	}
	fexecve(mfd, argv, environ);
	close(mfd);
	return -1;
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
		if (commands[c].cloned)
			ensure_cloned_binary(argv);	/* best effort */
		optind = 1;
		return commands[c].fn(&g, argc - i, argv + i);
	}
	fprintf(stderr, "unionctr: '%s' is not a unionctr command.\nSee 'unionctr --help'\n",
		argv[i]);
	return UC_EXIT_LAUNCHER;
}
