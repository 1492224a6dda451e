/* SPDX-License-Identifier: GPL-2.0 */
/* The command line: one entry per subcommand, each returning an exit status. */
#ifndef UNIONCTR_CLI_H
#define UNIONCTR_CLI_H

#include <getopt.h>

#include "error.h"
#include "store.h"

struct uc_cli {
	const char *root;
	const char *storage;
};

/* Options every subcommand accepts: --root DIR, --storage unionfs|overlay. */
#define CLI_GLOBAL_OPTS \
	{ "root", required_argument, NULL, 0x100 }, \
	{ "storage", required_argument, NULL, 0x101 }
/* Handle a global option in a getopt loop; true if it was one. */
int cli_global_opt(struct uc_cli *g, int opt);
int cli_open_store(struct uc_cli *g, struct uc_store *s, uc_error_t *err);
int cli_usage_error(const char *cmd, const char *msg);

int cmd_create(struct uc_cli *g, int argc, char **argv);
int cmd_run(struct uc_cli *g, int argc, char **argv);
int cmd_start(struct uc_cli *g, int argc, char **argv);
int cmd_ps(struct uc_cli *g, int argc, char **argv);
int cmd_rm(struct uc_cli *g, int argc, char **argv);
int cmd_logs(struct uc_cli *g, int argc, char **argv);
int cmd_kill(struct uc_cli *g, int argc, char **argv);
int cmd_stop(struct uc_cli *g, int argc, char **argv);
int cmd_inspect(struct uc_cli *g, int argc, char **argv);
int cmd_diff(struct uc_cli *g, int argc, char **argv);
int cmd_commit(struct uc_cli *g, int argc, char **argv);
int cmd_import(struct uc_cli *g, int argc, char **argv);
int cmd_images(struct uc_cli *g, int argc, char **argv);
int cmd_rmi(struct uc_cli *g, int argc, char **argv);
int cmd_volume(struct uc_cli *g, int argc, char **argv);

#endif
