// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "env.h"
#include "freeze.h"
#include "images.h"
#include "layer.h"
#include "process.h"
#include "safepath.h"
#include "tree.h"
#include "ucjson.h"
#include "utils.h"
#include "volumes.h"

void container_free(struct uc_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image_id);
	free(c->image_name);
	free(c->created);
	strv_free(c->argv);
	strv_free(c->cmd);
	strv_free(c->entrypoint);
	strv_free(c->env);
	free(c->workdir);
	free(c->user);
	free(c->hostname);
	free(c->storage);
	uc_mounts_free(&c->mounts);
	strv_free(c->binds);
	strv_free(c->volumes_from);
	security_free(&c->sec);
	free(c->status);
	free(c->started_at);
	free(c->finished_at);
	free(c->error);
	free(c);
}

void container_list_free(struct uc_container **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		container_free(v[i]);
	free(v);
}

char *container_dir(struct uc_store *s, const struct uc_container *c,
		    const char *rel)
{
	return rel ? store_path(s, "containers/%s/%s", c->id, rel) :
		     store_path(s, "containers/%s", c->id);
}

unsigned long long proc_start_time(int pid)
{
	char path[64], *buf = NULL, *p;
	unsigned long long t = 0;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (pid <= 0 || read_file(path, &buf, NULL, NULL) < 0)
		return 0;
	p = strrchr(buf, ')');	/* comm may contain spaces */
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(buf);
	return t;
}

int container_start_lock(struct uc_store *s, const char *id, bool wait,
			 uc_error_t *err)
{
	char *dir = store_path(s, "containers/%s", id);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), saved;

	if (fd < 0) {
		uc_error_errno(err, errno, "open `%s`", dir);
		free(dir);
		return -1;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		if (saved != EWOULDBLOCK)
			uc_error_errno(err, saved, "lock `%s`", dir);
		close(fd);
		free(dir);
		errno = saved;
		return -1;
	}
	free(dir);
	return fd;
}

bool container_running(const struct uc_container *c)
{
	return c->status && !strcmp(c->status, "running") && c->pid > 0 &&
	       proc_start_time(c->pid) == c->pid_start;
}

bool container_name_valid(const char *name)
{
	size_t i;

	if (name[0] == '/')
		name++;
	if (strlen(name) < 2 || !isalnum((unsigned char)name[0]))
		return false;
	for (i = 1; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

/* ---- JSON (the saved record is what inspect prints) ---------------------- */

struct json_object *container_to_json(struct uc_store *s,
				      const struct uc_container *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *st = json_object_new_object();
	struct json_object *cfg = json_object_new_object();
	struct json_object *hc = json_object_new_object();
	struct json_object *gd = json_object_new_object();
	struct json_object *gdd = json_object_new_object();
	struct json_object *mounts = json_object_new_array();
	bool running = container_running(c);
	size_t i;

	json_object_object_add(o, "Id", uc_json_new_string(c->id));
	json_object_object_add(o, "Created", uc_json_new_string(c->created));
	json_object_object_add(o, "Path", uc_json_new_string(c->argv ? c->argv[0] : ""));
	json_object_object_add(o, "Args", uc_json_new_strv(c->argv && c->argv[0] ? c->argv + 1 : NULL));
	json_object_object_add(st, "Status",
			       uc_json_new_string(running || strcmp(c->status, "running") ? c->status : "exited"));
	json_object_object_add(st, "Running", json_object_new_boolean(running));
	json_object_object_add(st, "Pid", json_object_new_int(running ? c->pid : 0));
	json_object_object_add(st, "PidStart", json_object_new_uint64(c->pid_start));
	json_object_object_add(st, "ExitCode", json_object_new_int(c->exit_code));
	json_object_object_add(st, "Error", uc_json_new_string(c->error));
	json_object_object_add(st, "StartedAt", uc_json_new_string(c->started_at));
	json_object_object_add(st, "FinishedAt", uc_json_new_string(c->finished_at));
	json_object_object_add(o, "State", st);
	json_object_object_add(o, "Image", uc_json_new_string(c->image_id));
	{
		char *n = xasprintf("/%s", c->name ? c->name : "");	/* as Docker shows it */

		json_object_object_add(o, "Name", json_object_new_string(n));
		free(n);
	}
	json_object_object_add(hc, "Binds", uc_json_new_strv(c->binds));
	json_object_object_add(hc, "VolumesFrom", uc_json_new_strv(c->volumes_from));
	json_object_object_add(hc, "AutoRemove", json_object_new_boolean(c->auto_remove));
	json_object_object_add(hc, "ReadonlyRootfs", json_object_new_boolean(c->read_only));
	security_to_json(&c->sec, hc);
	json_object_object_add(o, "HostConfig", hc);
	json_object_object_add(gd, "Name", uc_json_new_string(c->storage));
	if (s) {
		char *p;

		p = container_dir(s, c, "upper");
		json_object_object_add(gdd, "UpperDir", uc_json_new_string(p));
		free(p);
		p = container_dir(s, c, "work");
		json_object_object_add(gdd, "WorkDir", uc_json_new_string(p));
		free(p);
		p = container_dir(s, c, "merged");
		json_object_object_add(gdd, "MergedDir", uc_json_new_string(p));
		free(p);
	}
	json_object_object_add(gd, "Data", gdd);
	json_object_object_add(o, "GraphDriver", gd);
	for (i = 0; i < c->mounts.n; i++)
		json_object_array_add(mounts, uc_mount_to_json(&c->mounts.v[i]));
	json_object_object_add(o, "Mounts", mounts);
	json_object_object_add(cfg, "Hostname", uc_json_new_string(c->hostname));
	json_object_object_add(cfg, "Tty", json_object_new_boolean(c->tty));
	json_object_object_add(cfg, "OpenStdin", json_object_new_boolean(c->open_stdin));
	json_object_object_add(cfg, "Env", uc_json_new_strv(c->env));
	json_object_object_add(cfg, "Cmd", c->cmd ? uc_json_new_strv(c->cmd) : NULL);
	json_object_object_add(cfg, "Image", uc_json_new_string(c->image_name ? c->image_name : c->image_id));
	json_object_object_add(cfg, "WorkingDir", uc_json_new_string(c->workdir));
	json_object_object_add(cfg, "User", uc_json_new_string(c->user));
	json_object_object_add(cfg, "Entrypoint", c->entrypoint ? uc_json_new_strv(c->entrypoint) : NULL);
	json_object_object_add(o, "Config", cfg);
	return o;
}

/* Id, Name, Image, storage: what names the record and what it uses. */
static void record_identity(struct uc_json_reader *r, struct json_object *o,
			    const char *dir, struct uc_container *c)
{
	const char *name = uc_json_string(r, o, "Name");

	c->id = xstrdup(uc_json_string(r, o, "Id"));
	c->name = xstrdup(name && name[0] == '/' ? name + 1 : name);
	c->image_id = xstrdup(uc_json_string(r, o, "Image"));
	c->storage = xstrdup(uc_json_string(r, uc_json_object(r, o, "GraphDriver"), "Name"));
	c->created = xstrdup(uc_json_string(r, o, "Created"));
	if (r->bad)
		return;
	if (!uc_id_valid(c->id) || strcmp(c->id, dir))
		uc_json_invalid(r, "Id", "is not the 64 hex characters of its directory's name");
	else if (!c->name || !container_name_valid(c->name))
		uc_json_invalid(r, "Name", "is not a container name");
	else if (!uc_id_valid(c->image_id))
		uc_json_invalid(r, "Image", "is not an image id");
	else if (!c->storage || (strcmp(c->storage, "unionfs") && strcmp(c->storage, "overlay")))
		uc_json_invalid(r, "GraphDriver.Name", "is neither unionfs nor overlay");
}

static void record_state(struct uc_json_reader *r, struct json_object *st,
			 struct uc_container *c)
{
	const char *status = uc_json_string(r, st, "Status");

	c->status = xstrdup(status ? status : "created");
	c->pid = uc_json_int(r, st, "Pid");
	c->pid_start = uc_json_int(r, st, "PidStart");
	c->exit_code = uc_json_int(r, st, "ExitCode");
	c->started_at = xstrdup(uc_json_string(r, st, "StartedAt"));
	c->finished_at = xstrdup(uc_json_string(r, st, "FinishedAt"));
	c->error = xstrdup(uc_json_string(r, st, "Error"));
	if (!r->bad && strcmp(c->status, "created") && strcmp(c->status, "running") &&
	    strcmp(c->status, "exited"))
		uc_json_invalid(r, "State.Status", "is not created, running or exited");
	else if (!r->bad && (c->pid < 0))
		uc_json_invalid(r, "State.Pid", "is negative");
}

static void record_config(struct uc_json_reader *r, struct json_object *o,
			  struct uc_container *c)
{
	struct json_object *cfg = uc_json_object(r, o, "Config");
	const char *path = uc_json_string(r, o, "Path"), *wd, *user;
	char **args = uc_json_strv(r, o, "Args");
	size_t i;

	strv_push(&c->argv, path ? path : "");
	for (i = 0; args && args[i]; i++)
		strv_push(&c->argv, args[i]);
	strv_free(args);
	c->image_name = xstrdup(uc_json_string(r, cfg, "Image"));
	c->hostname = xstrdup(uc_json_string(r, cfg, "Hostname"));
	c->tty = uc_json_bool(r, cfg, "Tty");
	c->open_stdin = uc_json_bool(r, cfg, "OpenStdin");
	c->env = uc_json_strv(r, cfg, "Env");
	c->cmd = uc_json_strv(r, cfg, "Cmd");
	c->entrypoint = uc_json_strv(r, cfg, "Entrypoint");
	wd = uc_json_string(r, cfg, "WorkingDir");
	c->workdir = xstrdup(wd && *wd ? wd : "/");
	user = uc_json_string(r, cfg, "User");
	c->user = user && *user ? xstrdup(user) : NULL;
	if (!c->hostname && c->id)
		c->hostname = xasprintf("%.12s", c->id);
}

static void record_host_config(struct uc_json_reader *r, struct json_object *o,
			       struct uc_container *c)
{
	struct json_object *hc = uc_json_object(r, o, "HostConfig");

	c->binds = uc_json_strv(r, hc, "Binds");
	c->volumes_from = uc_json_strv(r, hc, "VolumesFrom");
	c->auto_remove = uc_json_bool(r, hc, "AutoRemove");
	c->read_only = uc_json_bool(r, hc, "ReadonlyRootfs");
	security_from_json(&c->sec, r, hc);
}

/* A volume's mount must be that volume's directory, nothing else. */
static void record_mounts(struct uc_json_reader *r, struct uc_store *s,
			  struct json_object *o, struct uc_container *c)
{
	struct json_object *ms = uc_json_array(r, o, "Mounts");
	size_t i, n = uc_json_length(ms);

	for (i = 0; i < n && !r->bad; i++) {
		struct uc_mount m;
		char *want;

		if (uc_mount_from_json(json_object_array_get_idx(ms, i), &m, r->err) < 0) {
			r->bad = true;
			uc_error_wrap(r->err, "%s: Mounts[%zu]", r->what, i);
			return;
		}
		want = !strcmp(m.type, "volume") ?
			store_path(s, "volumes/%s/_data", m.name) : NULL;
		if (want && strcmp(m.source, want))
			uc_json_invalid(r, "Mounts", "has a volume whose Source is not its directory");
		else
			uc_mounts_push(&c->mounts, &m);
		free(want);
		uc_mount_free(&m);
	}
}

/*
 * A record from containers/DIR/config.json, checked: every member of the
 * type it was written with, an Id that is its directory's name, names and
 * mounts that create could have made.  Anything else is refused whole.
 */
static struct uc_container *container_from_json(struct uc_store *s,
						struct json_object *o,
						const char *dir, uc_error_t *err)
{
	struct uc_container *c = xcalloc(1, sizeof(*c));
	char *what = xasprintf("containers/%s/config.json", dir);
	struct uc_json_reader r = { .what = what, .err = err };

	if (!json_object_is_type(o, json_type_object))
		uc_json_invalid(&r, "(top)", "is not an object");
	record_identity(&r, o, dir, c);
	record_state(&r, uc_json_object(&r, o, "State"), c);
	record_config(&r, o, c);
	record_host_config(&r, o, c);
	record_mounts(&r, s, o, c);
	free(what);
	if (r.bad) {
		container_free(c);
		return NULL;
	}
	return c;
}

int container_save(struct uc_store *s, struct uc_container *c, uc_error_t *err)
{
	struct json_object *o = container_to_json(s, c);
	char *p = container_dir(s, c, "config.json");
	/* State changes after create: atomic, not synced (a crash loses a
	 * running/exited mark that is stale by then anyway). */
	int ret = uc_json_save(p, o, false, err);

	json_object_put(o);
	free(p);
	return ret;
}

int container_load(struct uc_store *s, const char *id,
		   struct uc_container **out, uc_error_t *err)
{
	char *p;
	struct json_object *o;

	if (!uc_id_valid(id))
		return uc_error(err, 0, "containers/%s: not a container id", id);
	p = store_path(s, "containers/%s/config.json", id);
	if (uc_json_load(p, &o, err) < 0) {
		free(p);
		return -1;
	}
	free(p);
	/* Pid/Status as recorded, whether or not the process is still alive. */
	*out = container_from_json(s, o, id, err);
	json_object_put(o);
	return *out ? 0 : -1;
}

/* A record that cannot be used: said once per process, then left out. */
static void report_skipped(uc_error_t *e)
{
	static char **said;

	if (!strv_contains(said, (*e)->msg)) {
		uc_warning("skipping a container record: %s", (*e)->msg);
		strv_push(&said, (*e)->msg);
	}
	uc_error_release(e);
}

int container_list(struct uc_store *s, struct uc_container ***out, size_t *n,
		   uc_error_t *err)
{
	char *dir = store_path(s, "containers");
	struct dirent **ents;
	int i, cnt;

	*out = NULL;
	*n = 0;
	cnt = scandir(dir, &ents, NULL, NULL);
	free(dir);
	if (cnt < 0)
		return uc_error_errno(err, errno, "list containers");
	for (i = 0; i < cnt; i++) {
		struct uc_container *c;
		uc_error_t e = NULL;

		if (ents[i]->d_name[0] == '.') {
			/* not a record */
		} else if (container_load(s, ents[i]->d_name, &c, &e) == 0) {
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = c;
		} else {
			report_skipped(&e);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

int container_find(struct uc_store *s, const char *ref,
		   struct uc_container **out, uc_error_t *err)
{
	struct uc_container **v, *found = NULL;
	const char *name = ref[0] == '/' ? ref + 1 : ref;
	size_t n, i, matches = 0;

	if (container_list(s, &v, &n, err) < 0)
		return -1;
	for (i = 0; i < n && !found; i++)
		if (!strcmp(v[i]->id, ref) || !strcmp(v[i]->name, name))
			found = v[i];
	if (!found && *ref) {
		for (i = 0; i < n; i++) {
			if (str_has_prefix(v[i]->id, ref)) {
				found = v[i];
				matches++;
			}
		}
		if (matches > 1)
			found = NULL;
	}
	for (i = 0; i < n; i++)
		if (v[i] != found)
			container_free(v[i]);
	free(v);
	if (!found)
		return uc_error(err, 0, "No such container: %s", ref);
	*out = found;
	return 0;
}

/* ---- create --------------------------------------------------------------- */

static const char *const adjectives[] = {
	"brave", "calm", "eager", "fervent", "gentle", "happy", "jolly",
	"keen", "lucid", "merry", "nifty", "quirky", "serene", "vibrant",
};
static const char *const surnames[] = {
	"babbage", "curie", "dijkstra", "euler", "gauss", "hopper", "knuth",
	"lovelace", "noether", "ritchie", "shannon", "thompson", "turing",
};

static char *random_name(struct uc_container **v, size_t n)
{
	unsigned char r[3];
	char *name;
	size_t i;
	bool used;

	for (;;) {
		if (getentropy(r, sizeof(r)) < 0)
			r[0] = r[1] = r[2] = (unsigned char)getpid();
		if (r[2] < 128)
			name = xasprintf("%s_%s", adjectives[r[0] % 14],
					 surnames[r[1] % 13]);
		else
			name = xasprintf("%s_%s%d", adjectives[r[0] % 14],
					 surnames[r[1] % 13], r[2] % 10);
		for (used = false, i = 0; i < n && !used; i++)
			used = !strcmp(v[i]->name, name);
		if (!used)
			return name;
		free(name);
	}
}

static int build_config(struct uc_container *c, const struct uc_create_opts *o,
			const struct uc_image *img, uc_error_t *err)
{
	size_t i;

	if (o->entrypoint) {
		c->entrypoint = NULL;
		if (*o->entrypoint)
			strv_push(&c->entrypoint, o->entrypoint);
		c->cmd = strv_dup(o->cmd);
	} else {
		c->entrypoint = img->entrypoint ? strv_dup(img->entrypoint) : NULL;
		c->cmd = o->cmd && o->cmd[0] ? strv_dup(o->cmd) :
			 img->cmd ? strv_dup(img->cmd) : NULL;
	}
	for (i = 0; c->entrypoint && c->entrypoint[i]; i++)
		strv_push(&c->argv, c->entrypoint[i]);
	for (i = 0; c->cmd && c->cmd[i]; i++)
		strv_push(&c->argv, c->cmd[i]);
	if (!c->argv || !c->argv[0] || !*c->argv[0])
		return uc_error(err, 0, "No command specified");

	c->hostname = o->hostname ? xstrdup(o->hostname) : xasprintf("%.12s", c->id);
	/* Docker's Config.Env: the image's, then -e; PATH, HOSTNAME, TERM and
	 * HOME are added for the process only (env_for_process). */
	for (i = 0; img->env && img->env[i]; i++)
		env_set(&c->env, img->env[i]);
	for (i = 0; o->env && o->env[i]; i++) {
		if (strchr(o->env[i], '=')) {
			env_set(&c->env, o->env[i]);
		} else if (getenv(o->env[i])) {
			char *kv = xasprintf("%s=%s", o->env[i], getenv(o->env[i]));

			env_set(&c->env, kv);
			free(kv);
		} else {
			env_unset(&c->env, o->env[i]);
		}
	}

	c->user = o->user && *o->user ? xstrdup(o->user) :
		  img->user && *img->user ? xstrdup(img->user) : NULL;
	c->workdir = xstrdup(o->workdir ? o->workdir :
			     img->workdir && *img->workdir ? img->workdir : "/");
	if (c->workdir[0] != '/')
		return uc_error(err, 0,
				"the working directory '%s' is invalid, it needs to be an absolute path",
				c->workdir);
	return 0;
}

/* -v, --volumes-from and the image's VOLUMEs into one table. */
static int build_mounts(struct uc_store *s, struct uc_container *c,
			const struct uc_create_opts *o,
			const struct uc_image *img, uc_error_t *err)
{
	struct uc_mounts binds = { 0 }, inherited = { 0 };
	size_t i, j;
	int ret = -1;

	for (i = 0; o->volumes && o->volumes[i]; i++) {
		struct uc_mount m;

		if (volspec_parse(o->volumes[i], &m, err) < 0)
			goto out;
		uc_mounts_push(&binds, &m);
		uc_mount_free(&m);
	}
	for (i = 0; o->volumes_from && o->volumes_from[i]; i++) {
		struct uc_container *from;
		char *ref, *mode;

		if (volspec_parse_from(o->volumes_from[i], &ref, &mode, err) < 0)
			goto out;
		if (container_find(s, ref, &from, err) < 0) {
			free(ref);
			free(mode);
			goto out;
		}
		for (j = 0; j < from->mounts.n; j++) {
			struct uc_mount m;

			volspec_inherit(&m, &from->mounts.v[j], mode);
			uc_mounts_push(&inherited, &m);
			uc_mount_free(&m);
		}
		container_free(from);
		free(ref);
		free(mode);
	}
	if (volspec_merge(&c->mounts, &inherited, &binds, err) < 0)
		goto out;
	for (i = 0; img->volumes && img->volumes[i]; i++) {
		char *dst = path_clean(img->volumes[i]);

		if (dst[0] == '/' && strcmp(dst, "/") && !uc_mounts_find(&c->mounts, dst)) {
			struct uc_mount m = {
				.type = "volume", .destination = dst, .mode = "",
				.propagation = "", .rw = true, .copy_data = true,
				.anonymous = true,
			};

			uc_mounts_push(&c->mounts, &m);
		}
		free(dst);
	}
	ret = 0;
out:
	uc_mounts_free(&binds);
	uc_mounts_free(&inherited);
	return ret;
}

/*
 * Fill the volume's directory data from the image's content at dst.  A
 * running container may share the volume and change it meanwhile: the
 * copy goes by directory fds (tree.c), never by path.
 */
static int copy_in(int viewfd, const char *dst, const char *data, uc_error_t *err)
{
	int src, dfd, ret;
	struct stat st;

	src = safe_open(viewfd, dst, O_PATH, NULL);
	if (src < 0)
		return 0;	/* nothing in the image there */
	if (fstat(src, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(src);
		return uc_error(err, 0, "cannot mount volume over existing file, file exists %s",
				dst);
	}
	ret = -1;
	dfd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		uc_error_errno(err, errno, "open volume `%s`", data);
	} else if (!dir_fd_is_empty(dfd)) {
		ret = 0;	/* filled meanwhile: Docker copies only into empty ones */
	} else {
		int sfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		ret = sfd < 0 ? uc_error_errno(err, errno, "open `%s` in the image", dst) :
				tree_copy(sfd, dfd, err);
		if (sfd >= 0)
			close(sfd);
	}
	if (dfd >= 0)
		close(dfd);
	close(src);
	return ret;
}

/* Create the volumes of the table; fill new or empty ones from the image. */
static int make_volumes(struct uc_store *s, struct uc_container *c,
			const struct uc_image *img, char ***created,
			uc_error_t *err)
{
	size_t i;

	for (i = 0; i < c->mounts.n; i++) {
		struct uc_mount *m = &c->mounts.v[i];
		struct uc_volume *v;
		bool made;

		if (!strcmp(m->type, "bind")) {
			if (mkdir_p(m->source, 0755, err) < 0)
				return -1;
			continue;
		}
		if (m->source && m->name) {
			/* inherited: must still exist */
			if (volume_get(s, m->name, &v, err) < 0)
				return -1;
			volume_free(v);
			continue;
		}
		if (volume_ensure(s, m->name, m->anonymous, &v, &made, err) < 0)
			return -1;
		if (made)
			strv_push(created, v->name);
		free(m->name);
		m->name = xstrdup(v->name);
		free(m->source);
		m->source = xstrdup(v->mountpoint);
		volume_free(v);
		if (m->copy_data && dir_is_empty(m->source)) {
			int view = image_view_open(s, img, err), ret;

			if (view < 0)
				return -1;
			ret = copy_in(view, m->destination, m->source, err);
			close(view);
			if (ret < 0)
				return uc_error_wrap(err, "copy the image's %s into volume %s",
						     m->destination, m->name);
		}
	}
	return 0;
}

static int write_etc_files(struct uc_store *s, struct uc_container *c,
			   const char *dir, uc_error_t *err)
{
	char *p, *txt, *resolv = NULL;
	int ret;

	(void)s;
	p = xasprintf("%s/hostname", dir);
	txt = xasprintf("%s\n", c->hostname);
	ret = write_file(p, txt, 0644, err);
	free(p);
	free(txt);
	if (ret < 0)
		return -1;
	p = xasprintf("%s/hosts", dir);
	txt = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			"127.0.0.1\t%s\n", c->hostname);
	ret = write_file(p, txt, 0644, err);
	free(p);
	free(txt);
	if (ret < 0)
		return -1;
	p = xasprintf("%s/resolv.conf", dir);
	if (read_file("/etc/resolv.conf", &resolv, NULL, NULL) < 0)
		resolv = xstrdup("");
	ret = write_file(p, resolv, 0644, err);
	free(resolv);
	free(p);
	return ret;
}

/* A fresh id, and the name asked for (unless taken) or a random one. */
static int name_container(struct uc_store *s, struct uc_container *c,
			  const char *name, uc_error_t *err)
{
	struct uc_container **all = NULL;
	char id[UC_ID_LEN + 1];
	size_t n_all = 0, i;
	int ret = -1;

	if (container_list(s, &all, &n_all, err) < 0)
		return -1;
	random_id(id);
	c->id = xstrdup(id);
	if (!name) {
		c->name = random_name(all, n_all);
		ret = 0;
		goto out;
	}
	if (name[0] == '/')
		name++;
	for (i = 0; i < n_all; i++) {
		if (!strcmp(all[i]->name, name)) {
			uc_error(err, 0,
				 "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.",
				 name, all[i]->id);
			goto out;
		}
	}
	c->name = xstrdup(name);
	ret = 0;
out:
	container_list_free(all, n_all);
	return ret;
}

/* The record from the options and the image (before anything is made). */
static int build_record(struct uc_store *s, struct uc_container *c,
			const struct uc_create_opts *o, const struct uc_image *img,
			uc_error_t *err)
{
	c->image_id = xstrdup(img->id);
	c->image_name = xstrdup(img->names && img->names[0] ? img->names[0] : o->image);
	c->created = now_rfc3339();
	c->storage = xstrdup(s->storage);
	c->read_only = o->read_only;
	c->tty = o->tty;
	c->open_stdin = o->open_stdin;
	c->auto_remove = o->auto_remove;
	c->status = xstrdup("created");
	c->binds = strv_dup(o->volumes);
	c->volumes_from = strv_dup(o->volumes_from);
	c->sec.privileged = o->privileged;
	c->sec.no_pivot = o->no_pivot;
	if (security_from_cli(&c->sec, o->cap_add, o->cap_drop, o->security_opt, err) < 0 ||
	    build_config(c, o, img, err) < 0 || build_mounts(s, c, o, img, err) < 0)
		return -1;
	return 0;
}

/*
 * The container's directory, made in staging (tmp): upper/, work/,
 * merged/, the /etc files, config.json; and its volumes (those it made in
 * *created).
 */
static int stage_container(struct uc_store *s, struct uc_container *c,
			   const struct uc_image *img, const char *tmp, char ***created,
			   uc_error_t *err)
{
	static const char *const subdirs[] = { "upper", "work", "merged" };
	struct json_object *j;
	size_t i;
	char *p;
	int ret;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		p = xasprintf("%s/%s", tmp, subdirs[i]);
		ret = mkdir(p, 0755);
		if (ret < 0)
			uc_error_errno(err, errno, "mkdir `%s`", p);
		free(p);
		if (ret < 0)
			return -1;
	}
	if (write_etc_files(s, c, tmp, err) < 0 || make_volumes(s, c, img, created, err) < 0)
		return -1;
	j = container_to_json(s, c);
	p = xasprintf("%s/config.json", tmp);
	/* --rm containers do not outlive a crash: no need to sync them */
	ret = uc_json_save(p, j, !c->auto_remove, err);
	free(p);
	json_object_put(j);
	return ret;
}

int container_create(struct uc_store *s, const struct uc_create_opts *o,
		     struct uc_container **out, uc_error_t *err)
{
	struct uc_container *c = xcalloc(1, sizeof(*c));
	struct uc_image *img = NULL;
	char **created = NULL, *tmp = NULL, *dst = NULL;
	size_t i;
	int ret = -1;

	if (o->name && !container_name_valid(o->name)) {
		uc_error(err, 0, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			 o->name);
		container_free(c);
		return -1;
	}
	if (store_lock(s, err) < 0) {
		container_free(c);
		return -1;
	}
	store_gc_tmp(s);
	if (image_find(s, o->image, &img, err) < 0 || name_container(s, c, o->name, err) < 0 ||
	    build_record(s, c, o, img, err) < 0)
		goto out;
	tmp = store_mktemp(s, err);
	if (!tmp || stage_container(s, c, img, tmp, &created, err) < 0)
		goto out;
	/* Visible at once and whole: renamed in from staging. */
	dst = container_dir(s, c, NULL);
	if (rename(tmp, dst) < 0) {
		uc_error_errno(err, errno, "create `%s`", dst);
		goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	/* Undone on failure; err keeps the first error, the one reported. */
	if (ret < 0) {
		for (i = 0; created && created[i]; i++)
			volume_remove(s, created[i], err);
	}
	if (tmp && ret < 0)
		rm_rf(tmp, err);
	free(tmp);
	free(dst);
	strv_free(created);
	image_free(img);
	container_free(c);
	store_unlock(s);
	return ret;
}

/* ---- commit ----------------------------------------------------------------- */

/* The container's layer, as a new layer in the store (its digest in d). */
static int commit_layer(struct uc_store *s, struct uc_container *c,
			const struct uc_image *img, char d[65], uc_error_t *err)
{
	char *upper = container_dir(s, c, "upper"), *tmp = NULL, **lowers = NULL;
	struct uc_frozen frozen;
	bool paused = false;
	int ret = -1;

	/* Paused, as docker commit does: nothing in upper/ changes while it
	 * is read (and the copy goes by directory fds all the same). */
	if (container_running(c)) {
		if (container_freeze(c->pid, &frozen, err) < 0)
			goto out;
		paused = true;
	}
	tmp = store_mktemp(s, err);
	if (tmp && copy_dir_contents(upper, tmp, err) == 0)
		ret = 0;
	if (paused)
		container_thaw(&frozen);
	if (ret < 0)
		goto out;
	lowers = image_layer_dirs(s, img);
	layer_strip_init(tmp, lowers);
	ret = layer_store(s, tmp, d, err);
	free(tmp);
	tmp = NULL;
out:
	if (tmp) {
		rm_rf(tmp, err);	/* err holds the first error already */
		free(tmp);
	}
	strv_free(lowers);
	free(upper);
	return ret;
}

int container_commit(struct uc_store *s, const char *ref, const char *name,
		     char **id, uc_error_t *err)
{
	struct uc_container *c = NULL;
	struct uc_image *img = NULL;
	char d[65];
	int ret = -1;

	if (store_lock(s, err) < 0)
		return -1;
	if (container_find(s, ref, &c, err) < 0 || image_find(s, c->image_id, &img, err) < 0 ||
	    commit_layer(s, c, img, d, err) < 0)
		goto out;
	strv_push(&img->layers, d);
	/* The container's command and environment become the image's. */
	strv_free(img->cmd);
	img->cmd = strv_dup(c->cmd);
	strv_free(img->entrypoint);
	img->entrypoint = c->entrypoint ? strv_dup(c->entrypoint) : NULL;
	strv_free(img->env);
	img->env = strv_dup(c->env);
	free(img->workdir);
	img->workdir = xstrdup(c->workdir);
	free(img->user);
	img->user = xstrdup(c->user);
	free(img->created);
	img->created = NULL;
	strv_free(img->names);
	img->names = NULL;
	if (image_register(s, img, name, err) < 0)
		goto out;
	*id = xstrdup(img->id);
	ret = 0;
out:
	if (ret < 0 && c)
		uc_error_wrap(err, "commit %s", c->name);
	image_free(img);
	container_free(c);
	store_unlock(s);
	return ret;
}

/* ---- remove ----------------------------------------------------------------- */

/*
 * The container's anonymous volumes that no other container uses.  The
 * container is gone by then: a volume left behind is reported, not an
 * error of rm.
 */
static void remove_anonymous_volumes(struct uc_store *s, const struct uc_container *c)
{
	size_t i;

	for (i = 0; i < c->mounts.n; i++) {
		const struct uc_mount *m = &c->mounts.v[i];
		uc_error_t e = NULL;
		char **users = NULL;

		if (strcmp(m->type, "volume") || !m->anonymous || !m->name)
			continue;
		if (store_volume_users(s, m->name, &users, &e) == 0 && !users[0])
			volume_remove(s, m->name, &e);
		if (e) {
			uc_warning("volume %s left: %s", m->name, e->msg);
			uc_error_release(&e);
		}
		strv_free(users);
	}
}

int container_remove_record(struct uc_store *s, struct uc_container *c,
			    bool volumes, uc_error_t *err)
{
	char *dir = container_dir(s, c, NULL);
	int ret;

	ret = store_discard(s, dir, err);
	free(dir);
	if (ret == 0 && volumes)
		remove_anonymous_volumes(s, c);
	return ret;
}

int container_remove(struct uc_store *s, const char *ref, bool force,
		     bool volumes, uc_error_t *err)
{
	struct uc_container *c = NULL;
	int ret = -1, lock = -1, fd, i;

	if (store_lock(s, err) < 0)
		return -1;
	if (container_find(s, ref, &c, err) < 0)
		goto out;
	/* a start in progress holds it: the container is as good as running */
	lock = container_start_lock(s, c->id, false, err);
	if (lock < 0 && errno == EWOULDBLOCK) {
		uc_error(err, 0, "You cannot remove a container that is being started: %s", c->id);
		goto out;
	}
	if (lock < 0)
		goto out;
	if (container_running(c)) {
		if (!force) {
			uc_error(err, 0,
				 "You cannot remove a running container %s. Stop the container before attempting removal or force remove",
				 c->id);
			goto out;
		}
		/* through a pidfd: never a process that got its PID since */
		fd = process_open(c->pid, c->pid_start);
		if (fd >= 0 && process_signal(fd, SIGKILL) == 0)
			process_wait_exit(fd, 10000);
		if (fd >= 0)
			close(fd);
		/* and reaped by its keeper (a zombie still has its PID) */
		for (i = 0; i < 200 && container_running(c); i++)
			usleep(10000);
	}
	ret = container_remove_record(s, c, volumes, err);
out:
	if (lock >= 0)
		close(lock);
	container_free(c);
	store_unlock(s);
	return ret;
}

/* ---- ps ------------------------------------------------------------------ */

static char *ago(const char *rfc)
{
	struct tm tm = { 0 };
	time_t t, now = time(NULL);
	long d;

	if (!rfc || !strptime(rfc, "%Y-%m-%dT%H:%M:%S", &tm))
		return xstrdup("");
	t = timegm(&tm);
	d = now - t;
	if (d < 60)
		return xasprintf("%ld seconds", d < 1 ? 1 : d);
	if (d < 3600)
		return xasprintf("%ld minutes", d / 60);
	if (d < 86400)
		return xasprintf("%ld hours", d / 3600);
	return xasprintf("%ld days", d / 86400);
}

char *container_status_text(const struct uc_container *c)
{
	char *a, *r;

	if (container_running(c)) {
		a = ago(c->started_at);
		r = xasprintf("Up %s", a);
	} else if (!strcmp(c->status, "created")) {
		return xstrdup("Created");
	} else {
		a = ago(c->finished_at);
		r = xasprintf("Exited (%d) %s ago", c->exit_code, a);
	}
	free(a);
	return r;
}
