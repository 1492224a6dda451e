// SPDX-License-Identifier: GPL-2.0
/* unionctr import / images / rmi. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "images.h"
#include "utils.h"

int cmd_import(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 0x205 },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	struct uc_image *img;
	struct uc_store s;
	uc_error_t err = NULL;
	int opt, st = 0;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt == 'n') {
			name = optarg;
		} else if (opt == 0x205) {
			printf("Usage: unionctr import [--name NAME] SOURCE\n\n"
			       "SOURCE: a rootfs directory or tarball (any compression),\n"
			       "an OCI image layout directory, or a docker save tarball.\n");
			return 0;
		} else {
			return cli_usage_error("import", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("import", "requires exactly 1 argument");
	if (cli_open_store(g, &s, &err) < 0 ||
	    image_import(&s, argv[optind], name, &img, &err) < 0) {
		st = uc_error_report(&err);
	} else {
		printf("sha256:%s\n", img->id);
		image_free(img);
	}
	store_close(&s);
	return st;
}

int cmd_images(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct uc_image **v;
	struct uc_store s;
	uc_error_t err = NULL;
	bool quiet = false;
	size_t n, i;
	int opt;

	while ((opt = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt == 'q')
			quiet = true;
		else
			return cli_usage_error("images", "bad option");
	}
	if (cli_open_store(g, &s, &err) < 0 || image_list(&s, &v, &n, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	if (!quiet)
		printf("%-30s %-12s   %-6s %s\n", "REPOSITORY:TAG", "IMAGE ID", "LAYERS", "CREATED");
	for (i = 0; i < n; i++) {
		size_t j = 0;

		if (quiet)
			printf("%.12s\n", v[i]->id);
		else
			do {
				printf("%-30s %.12s   %-6zu %s\n",
				       v[i]->names && v[i]->names[j] ? v[i]->names[j] : "<none>",
				       v[i]->id, strv_len(v[i]->layers),
				       v[i]->created ? v[i]->created : "");
			} while (v[i]->names && v[i]->names[j] && v[i]->names[++j]);
		image_free(v[i]);
	}
	free(v);
	store_close(&s);
	return 0;
}

int cmd_rmi(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct uc_store s;
	uc_error_t err = NULL;
	int opt, st = 0, i;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		if (!cli_global_opt(g, opt))
			return cli_usage_error("rmi", "bad option");
	if (optind >= argc)
		return cli_usage_error("rmi", "requires at least 1 argument");
	if (cli_open_store(g, &s, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	for (i = optind; i < argc; i++) {
		bool untagged;

		if (image_remove(&s, argv[i], &untagged, &err) < 0) {
			uc_error_report(&err);
			st = 1;
		} else {
			printf("%s: %s\n", untagged ? "Untagged" : "Deleted", argv[i]);
		}
	}
	store_close(&s);
	return st;
}
