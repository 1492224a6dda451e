// SPDX-License-Identifier: GPL-2.0
/* unionctr ps / rm / inspect / diff / commit / kill / stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "images.h"
#include "layer.h"
#include "process.h"
#include "utils.h"

static int simple_opts(const char *cmd, struct uc_cli *g, int argc, char **argv,
		       const char *shorts, bool *flags, const char *usage)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 0x205 },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	const char *p;

	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt == 0x205) {
			printf("Usage: unionctr %s %s\n", cmd, usage);
			return 1;
		}
		p = strchr(shorts, opt);
		if (!p || opt == ':' || opt == '+') {
			cli_usage_error(cmd, "bad option");
			return -1;
		}
		flags[p - shorts] = true;
	}
	return 0;
}

int cmd_ps(struct uc_cli *g, int argc, char **argv)
{
	bool f[3] = { false };	/* +, a, q */
	struct uc_container **v;
	struct uc_store s;
	uc_error_t err = NULL;
	size_t n, i;
	int r = simple_opts("ps", g, argc, argv, "+aq", f, "[-a] [-q]");

	if (r)
		return r < 0 ? UC_EXIT_LAUNCHER : 0;
	if (cli_open_store(g, &s, &err) < 0 || container_list(&s, &v, &n, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	if (!f[2])
		printf("%-12s   %-20s %-22s %-28s %s\n", "CONTAINER ID", "IMAGE",
		       "COMMAND", "STATUS", "NAMES");
	for (i = 0; i < n; i++) {
		struct uc_container *c = v[i];
		char *status, *cmd = NULL, *quoted;
		size_t j, len = 0;

		if (!f[1] && !container_running(c))
			continue;
		if (f[2]) {
			printf("%.12s\n", c->id);
			continue;
		}
		for (j = 0; c->argv && c->argv[j]; j++) {
			cmd = xrealloc(cmd, len + strlen(c->argv[j]) + 2);
			len += sprintf(cmd + len, "%s%s", j ? " " : "", c->argv[j]);
		}
		/* docker ps truncates the command to 20 characters, quoted */
		if (cmd && strlen(cmd) > 20)
			quoted = xasprintf("\"%.19s\u2026\"", cmd);
		else
			quoted = xasprintf("\"%s\"", cmd ? cmd : "");
		status = container_status_text(c);
		printf("%.12s   %-20.20s %-22s %-28s %s\n", c->id, c->image_name,
		       quoted, status, c->name);
		free(quoted);
		free(status);
		free(cmd);
	}
	container_list_free(v, n);
	store_close(&s);
	return 0;
}

int cmd_rm(struct uc_cli *g, int argc, char **argv)
{
	bool f[3] = { false };	/* +, f, v */
	struct uc_store s;
	uc_error_t err = NULL;
	int r = simple_opts("rm", g, argc, argv, "+fv", f, "[-f] [-v] CONTAINER...");
	int st = 0, i;

	if (r)
		return r < 0 ? UC_EXIT_LAUNCHER : 0;
	if (optind >= argc)
		return cli_usage_error("rm", "requires at least 1 argument");
	if (cli_open_store(g, &s, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	for (i = optind; i < argc; i++) {
		if (container_remove(&s, argv[i], f[1], f[2], &err) < 0) {
			uc_error_report(&err);
			st = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	store_close(&s);
	return st;
}

int cmd_inspect(struct uc_cli *g, int argc, char **argv)
{
	bool f[1] = { false };
	struct json_object *arr = json_object_new_array();
	struct uc_store s;
	uc_error_t err = NULL;
	int r = simple_opts("inspect", g, argc, argv, "+", f, "CONTAINER|IMAGE...");
	int st = 0, i;

	if (r) {
		json_object_put(arr);
		return r < 0 ? UC_EXIT_LAUNCHER : 0;
	}
	if (optind >= argc) {
		json_object_put(arr);
		return cli_usage_error("inspect", "requires at least 1 argument");
	}
	if (cli_open_store(g, &s, &err) < 0) {
		json_object_put(arr);
		store_close(&s);
		return uc_error_report(&err);
	}
	for (i = optind; i < argc; i++) {
		struct uc_container *c;
		struct uc_image *img;

		if (container_find(&s, argv[i], &c, NULL) == 0) {
			json_object_array_add(arr, container_to_json(&s, c));
			container_free(c);
		} else if (image_find(&s, argv[i], &img, NULL) == 0) {
			json_object_array_add(arr, image_to_json(img));
			image_free(img);
		} else {
			fprintf(stderr, "Error: No such object: %s\n", argv[i]);
			st = 1;
		}
	}
	printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	store_close(&s);
	return st;
}

static void print_change(char kind, const char *path, void *data)
{
	(void)data;
	printf("%c %s\n", kind, path);
}

int cmd_diff(struct uc_cli *g, int argc, char **argv)
{
	bool f[1] = { false };
	struct uc_container *c = NULL;
	struct uc_image *img = NULL;
	struct uc_store s;
	uc_error_t err = NULL;
	char **lowers = NULL, *upper = NULL;
	int r = simple_opts("diff", g, argc, argv, "+", f, "CONTAINER");
	int st = 0;

	if (r)
		return r < 0 ? UC_EXIT_LAUNCHER : 0;
	if (optind >= argc)
		return cli_usage_error("diff", "requires exactly 1 argument");
	if (cli_open_store(g, &s, &err) < 0 ||
	    container_find(&s, argv[optind], &c, &err) < 0 ||
	    image_find(&s, c->image_id, &img, &err) < 0) {
		st = uc_error_report(&err);
		goto out;
	}
	lowers = image_layer_dirs(&s, img);
	upper = container_dir(&s, c, "upper");
	if (layer_diff(upper, lowers, print_change, NULL, &err) < 0)
		st = uc_error_report(&err);
out:
	strv_free(lowers);
	free(upper);
	image_free(img);
	container_free(c);
	store_close(&s);
	return st;
}

int cmd_commit(struct uc_cli *g, int argc, char **argv)
{
	bool f[1] = { false };
	struct uc_store s;
	uc_error_t err = NULL;
	char *id = NULL;
	int r = simple_opts("commit", g, argc, argv, "+", f, "CONTAINER [IMAGE]");
	int st = 0;

	if (r)
		return r < 0 ? UC_EXIT_LAUNCHER : 0;
	if (optind >= argc)
		return cli_usage_error("commit", "requires at least 1 argument");
	if (cli_open_store(g, &s, &err) < 0 ||
	    container_commit(&s, argv[optind], argv[optind + 1], &id, &err) < 0)
		st = uc_error_report(&err);
	else
		printf("sha256:%s\n", id);
	free(id);
	store_close(&s);
	return st;
}

int cmd_logs(struct uc_cli *g, int argc, char **argv)
{
	bool f[1] = { false };
	struct uc_container *c = NULL;
	struct uc_store s;
	uc_error_t err = NULL;
	char *p = NULL, *buf = NULL;
	size_t len = 0;
	int r = simple_opts("logs", g, argc, argv, "+", f, "CONTAINER");
	int st = 0;

	if (r)
		return r < 0 ? UC_EXIT_LAUNCHER : 0;
	if (optind >= argc)
		return cli_usage_error("logs", "requires exactly 1 argument");
	if (cli_open_store(g, &s, &err) < 0 || container_find(&s, argv[optind], &c, &err) < 0) {
		st = uc_error_report(&err);
		goto out;
	}
	/* Only detached containers have a log; attached ones wrote to us. */
	p = container_dir(&s, c, "log");
	if (read_file(p, &buf, &len, &err) == 0)
		fwrite(buf, 1, len, stdout);
	else if (err->errno_ == ENOENT)
		uc_error_release(&err);
	else
		st = uc_error_report(&err);
out:
	free(buf);
	free(p);
	container_free(c);
	store_close(&s);
	return st;
}

static int signal_number(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "TERM", SIGTERM }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
		{ "WINCH", SIGWINCH },
	};
	size_t i;
	char *end;
	long n;

	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].sig;
	n = strtol(s, &end, 10);
	return *s && !*end && n > 0 && n < NSIG ? (int)n : -1;
}

/* After its process is gone: until its keeper has recorded the exit
 * (bounded: a keeper that died never will). */
static void wait_recorded(struct uc_store *s, const char *id)
{
	struct uc_container *c;
	int waited;

	for (waited = 0; waited < 2000; waited += 10) {
		bool running;

		if (container_load(s, id, &c, NULL) < 0)
			return;
		running = !strcmp(c->status, "running");
		container_free(c);
		if (!running)
			return;
		usleep(10000);
	}
}

/*
 * Signal a running container's init through a pidfd (never a process that
 * got its PID since); timeout_ms >= 0 (stop): wait that long for it to go,
 * then SIGKILL.
 */
static int signal_container(struct uc_store *s, const char *ref, int sig,
			    int timeout_ms, uc_error_t *err)
{
	struct uc_container *c = NULL;
	int fd = -1, ret = 0;

	if (container_find(s, ref, &c, err) < 0)
		return -1;
	if (container_running(c))
		fd = process_open(c->pid, c->pid_start);
	if (fd >= 0 && process_signal(fd, sig) < 0) {
		if (errno != ESRCH) {
			ret = uc_error_errno(err, errno, "kill %s", ref);
			goto out;
		}
		close(fd);	/* it has exited meanwhile */
		fd = -1;
	}
	if (fd < 0) {
		if (timeout_ms < 0)	/* stop of a stopped one: fine */
			ret = uc_error(err, 0, "Cannot kill container: %s: container %s is not running",
				       ref, c->id);
		goto out;
	}
	if (timeout_ms >= 0) {
		/* docker stop: SIGKILL after the grace period */
		if (!process_wait_exit(fd, timeout_ms)) {
			process_signal(fd, SIGKILL);
			process_wait_exit(fd, 10000);
		}
		wait_recorded(s, c->id);
	}
out:
	if (fd >= 0)
		close(fd);
	container_free(c);
	return ret;
}

int cmd_kill(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signal", required_argument, NULL, 's' },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct uc_store s;
	uc_error_t err = NULL;
	int opt, sig = SIGKILL, st = 0, i;

	while ((opt = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt != 's' || (sig = signal_number(optarg)) < 0)
			return cli_usage_error("kill", "bad option or signal");
	}
	if (optind >= argc)
		return cli_usage_error("kill", "requires at least 1 argument");
	if (cli_open_store(g, &s, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	for (i = optind; i < argc; i++) {
		if (signal_container(&s, argv[i], sig, -1, &err) < 0) {
			uc_error_report(&err);
			st = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	store_close(&s);
	return st;
}

int cmd_stop(struct uc_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		CLI_GLOBAL_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct uc_store s;
	uc_error_t err = NULL;
	int opt, secs = 10, st = 0, i;

	while ((opt = getopt_long(argc, argv, "+t:", opts, NULL)) != -1) {
		if (cli_global_opt(g, opt))
			continue;
		if (opt != 't')
			return cli_usage_error("stop", "bad option");
		secs = atoi(optarg);
	}
	if (optind >= argc)
		return cli_usage_error("stop", "requires at least 1 argument");
	if (cli_open_store(g, &s, &err) < 0) {
		store_close(&s);
		return uc_error_report(&err);
	}
	for (i = optind; i < argc; i++) {
		if (signal_container(&s, argv[i], SIGTERM, secs < 0 ? 0 : secs * 1000, &err) < 0) {
			uc_error_report(&err);
			st = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	store_close(&s);
	return st;
}
