// SPDX-License-Identifier: GPL-2.0
/* unionctr volume ls / create / rm / inspect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ucjson.h"
#include "utils.h"
#include "volumes.h"

static struct json_object *volume_json(const struct uc_volume *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "Name", json_object_new_string(v->name));
	json_object_object_add(o, "Driver", json_object_new_string("local"));
	json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
	json_object_object_add(o, "CreatedAt", json_object_new_string(v->created ? v->created : ""));
	json_object_object_add(o, "Anonymous", json_object_new_boolean(v->anonymous));
	return o;
}

static int volume_ls(struct uc_store *s, bool quiet)
{
	struct uc_volume **v;
	uc_error_t err = NULL;
	size_t n, j;

	if (volume_list(s, &v, &n, &err) < 0)
		return uc_error_report(&err);
	if (!quiet)
		printf("%-10s%s\n", "DRIVER", "VOLUME NAME");
	for (j = 0; j < n; j++) {
		if (quiet)
			printf("%s\n", v[j]->name);
		else
			printf("%-10s%s\n", "local", v[j]->name);
		volume_free(v[j]);
	}
	free(v);
	return 0;
}

static int volume_create(struct uc_store *s, const char *name)
{
	struct uc_volume *v;
	uc_error_t err = NULL;
	bool made;

	if (volume_ensure(s, name, !name, &v, &made, &err) < 0)
		return uc_error_report(&err);
	printf("%s\n", v->name);
	volume_free(v);
	return 0;
}

static int volume_rm(struct uc_store *s, int argc, char **argv)
{
	uc_error_t err = NULL;
	int i, st = 0;

	if (optind >= argc)
		return cli_usage_error("volume rm", "requires at least 1 argument");
	for (i = optind; i < argc; i++) {
		if (volume_remove(s, argv[i], &err) < 0) {
			uc_error_report(&err);
			st = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return st;
}

static int volume_inspect(struct uc_store *s, int argc, char **argv)
{
	struct json_object *arr = json_object_new_array();
	uc_error_t err = NULL;
	int i, st = 0;

	for (i = optind; i < argc; i++) {
		struct uc_volume *v;

		if (volume_get(s, argv[i], &v, &err) < 0) {
			uc_error_report(&err);
			st = 1;
			continue;
		}
		json_object_array_add(arr, volume_json(v));
		volume_free(v);
	}
	printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return st;
}

int cmd_volume(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "force", no_argument, NULL, 'f' },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct uc_store s;
	uc_error_t err = NULL;
	const char *sub;
	bool quiet = false;
	int opt, st;

	if (argc < 2) {
		printf("Usage: unionctr volume ls|create [NAME]|rm NAME...|inspect NAME...\n");
		return UC_EXIT_LAUNCHER;
	}
	sub = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "+qf", opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt == 'q')
			quiet = true;
		else if (opt != 'f')
			return cli_usage_error("volume", "bad option");
	}
	if (cli_open_store(g, &s, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		st = volume_ls(&s, quiet);
	else if (!strcmp(sub, "create"))
		st = volume_create(&s, optind < argc ? argv[optind] : NULL);
	else if (!strcmp(sub, "rm") || !strcmp(sub, "remove"))
		st = volume_rm(&s, argc, argv);
	else if (!strcmp(sub, "inspect"))
		st = volume_inspect(&s, argc, argv);
	else
		st = cli_usage_error("volume", "unknown subcommand");
	store_close(&s);
	return st;
}
