// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images.h"
#include "layer.h"
#include "mounts.h"
#include "tree.h"
#include "ucjson.h"
#include "utils.h"

char *image_normalize_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');

	if (colon)
		return xstrdup(name);
	return xasprintf("%s:latest", name);
}

void image_free(struct uc_image *img)
{
	if (!img)
		return;
	free(img->id);
	strv_free(img->names);
	free(img->created);
	strv_free(img->layers);
	strv_free(img->cmd);
	strv_free(img->entrypoint);
	strv_free(img->env);
	free(img->workdir);
	free(img->user);
	strv_free(img->volumes);
	free(img);
}

static void add_strv(struct json_object *o, const char *k, char **v)
{
	json_object_object_add(o, k, v ? uc_json_new_strv(v) : NULL);
}

/* The record without Name: what the id is computed over. */
static struct json_object *image_content_json(const struct uc_image *img)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cfg = json_object_new_object();

	json_object_object_add(o, "Layers", uc_json_new_strv(img->layers));
	add_strv(cfg, "Cmd", img->cmd);
	add_strv(cfg, "Entrypoint", img->entrypoint);
	add_strv(cfg, "Env", img->env);
	json_object_object_add(cfg, "WorkingDir",
			       json_object_new_string(img->workdir ? img->workdir : ""));
	add_strv(cfg, "Volumes", img->volumes);
	if (img->user && *img->user)
		json_object_object_add(cfg, "User", json_object_new_string(img->user));
	json_object_object_add(o, "Config", cfg);
	return o;
}

struct json_object *image_to_json(const struct uc_image *img)
{
	struct json_object *o = image_content_json(img);

	json_object_object_add(o, "Id", json_object_new_string(img->id));
	json_object_object_add(o, "RepoTags", uc_json_new_strv(img->names));
	json_object_object_add(o, "Created",
			       json_object_new_string(img->created ? img->created : ""));
	return o;
}

/* The parts of an image config that run uses ("config" of OCI's). */
static void config_from_json(struct uc_json_reader *r, struct json_object *cfg,
			     struct uc_image *img)
{
	img->cmd = uc_json_strv(r, cfg, "Cmd");
	img->entrypoint = uc_json_strv(r, cfg, "Entrypoint");
	img->env = uc_json_strv(r, cfg, "Env");
	img->workdir = xstrdup(uc_json_string(r, cfg, "WorkingDir"));
	img->user = xstrdup(uc_json_string(r, cfg, "User"));
}

/*
 * A record from images/ID.json, checked: members of their types, an Id
 * that is its file's name, layer ids that are ids (never a path).
 */
static struct uc_image *image_from_json(struct json_object *o, const char *file_id,
					uc_error_t *err)
{
	struct uc_image *img = xcalloc(1, sizeof(*img));
	char *what = xasprintf("images/%s.json", file_id);
	struct uc_json_reader r = { .what = what, .err = err };
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		uc_json_invalid(&r, "(top)", "is not an object");
	img->id = xstrdup(uc_json_string(&r, o, "Id"));
	img->names = uc_json_strv(&r, o, "RepoTags");
	img->created = xstrdup(uc_json_string(&r, o, "Created"));
	img->layers = uc_json_strv(&r, o, "Layers");
	config_from_json(&r, uc_json_object(&r, o, "Config"), img);
	img->volumes = uc_json_strv(&r, uc_json_object(&r, o, "Config"), "Volumes");
	if (!img->layers)
		img->layers = xcalloc(1, sizeof(char *));
	if (!r.bad && (!uc_id_valid(img->id) || strcmp(img->id, file_id)))
		uc_json_invalid(&r, "Id", "is not the 64 hex characters of its file's name");
	for (i = 0; !r.bad && img->layers[i]; i++)
		if (!uc_id_valid(img->layers[i]))
			uc_json_invalid(&r, "Layers", "holds something that is not a layer id");
	free(what);
	if (r.bad) {
		image_free(img);
		return NULL;
	}
	return img;
}

int image_save(struct uc_store *s, struct uc_image *img, uc_error_t *err)
{
	struct json_object *o = image_to_json(img);
	char *p = store_path(s, "images/%s.json", img->id);
	int ret = uc_json_save(p, o, true, err);

	free(p);
	json_object_put(o);
	return ret;
}

/* A record that cannot be used: said once per process, then left out. */
static void report_skipped(uc_error_t *e)
{
	static char **said;

	if (!strv_contains(said, (*e)->msg)) {
		uc_warning("skipping an image record: %s", (*e)->msg);
		strv_push(&said, (*e)->msg);
	}
	uc_error_release(e);
}

static struct uc_image *image_load(const char *dir, const char *file, uc_error_t *err)
{
	char *p = xasprintf("%s/%s", dir, file), *id = strndup(file, strlen(file) - 5);
	struct uc_image *img = NULL;
	struct json_object *o;

	if (uc_json_load(p, &o, err) == 0) {
		img = image_from_json(o, id, err);
		json_object_put(o);
	}
	free(p);
	free(id);
	return img;
}

int image_list(struct uc_store *s, struct uc_image ***out, size_t *n,
	       uc_error_t *err)
{
	char *dir = store_path(s, "images");
	struct dirent **ents;
	int i, cnt;

	*out = NULL;
	*n = 0;
	cnt = scandir(dir, &ents, NULL, alphasort);
	if (cnt < 0) {
		uc_error_errno(err, errno, "scandir `%s`", dir);
		free(dir);
		return -1;
	}
	for (i = 0; i < cnt; i++) {
		const char *nm = ents[i]->d_name;
		size_t l = strlen(nm);
		struct uc_image *img;
		uc_error_t e = NULL;

		/* records are ID.json; the rest (ID.json.tmp.PID) is not one */
		if (l > 5 && !strcmp(nm + l - 5, ".json")) {
			img = image_load(dir, nm, &e);
			if (img) {
				*out = xrealloc(*out, (*n + 1) * sizeof(**out));
				(*out)[(*n)++] = img;
			} else {
				report_skipped(&e);
			}
		}
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return 0;
}

static void image_list_free(struct uc_image **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		image_free(v[i]);
	free(v);
}

int image_find(struct uc_store *s, const char *ref, struct uc_image **out,
	       uc_error_t *err)
{
	struct uc_image **v, *found = NULL;
	char *name = image_normalize_name(ref);
	size_t n, i, matches = 0;

	if (str_has_prefix(ref, "sha256:"))
		ref += 7;
	if (image_list(s, &v, &n, err) < 0) {
		free(name);
		return -1;
	}
	for (i = 0; i < n && !found; i++)
		if (strv_contains(v[i]->names, name))
			found = v[i];
	for (i = 0; i < n && !found; i++)
		if (!strcmp(v[i]->id, ref))
			found = v[i];
	if (!found && strlen(ref) >= 4) {
		for (i = 0; i < n; i++) {
			if (str_has_prefix(v[i]->id, ref)) {
				matches++;
				found = v[i];
			}
		}
		if (matches > 1)
			found = NULL;
	}
	free(name);
	if (!found) {
		image_list_free(v, n);
		return uc_error(err, 0, "Unable to find image '%s' locally", ref);
	}
	for (i = 0; i < n; i++)
		if (v[i] != found)
			image_free(v[i]);
	free(v);
	*out = found;
	return 0;
}

char **image_layer_dirs(struct uc_store *s, const struct uc_image *img)
{
	size_t n = strv_len(img->layers), i;
	char **dirs = xcalloc(n + 1, sizeof(char *));

	for (i = 0; i < n; i++)
		dirs[i] = store_path(s, "layers/%s", img->layers[n - 1 - i]);
	return dirs;
}

int image_view_open(struct uc_store *s, const struct uc_image *img,
		    uc_error_t *err)
{
	char **dirs = image_layer_dirs(s, img);
	int fd;

	if (!dirs[0]) {
		fd = uc_error(err, 0, "image %.12s has no layers", img->id);
	} else if (!dirs[1]) {
		fd = open(dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			uc_error_errno(err, errno, "open layer `%s`", dirs[0]);
	} else {
		char *scratch = store_path(s, "tmp");

		fd = mount_union_detached(s->storage, dirs, scratch, err);
		free(scratch);
	}
	strv_free(dirs);
	return fd;
}

int layer_store(struct uc_store *s, const char *dir, char out[65],
		uc_error_t *err)
{
	char *dst;
	struct stat st;
	int ret = 0;

	if (tree_digest(dir, out, err) < 0)
		return -1;
	dst = store_path(s, "layers/%s", out);
	if (lstat(dst, &st) == 0) {
		ret = rm_rf(dir, err);
	} else if (rename(dir, dst) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			ret = rm_rf(dir, err);	/* stored meanwhile */
		else
			ret = uc_error_errno(err, errno, "store layer `%s`", dst);
	}
	free(dst);
	return ret;
}

int image_register(struct uc_store *s, struct uc_image *img, const char *name,
		   uc_error_t *err)
{
	struct json_object *c = image_content_json(img);
	const char *txt = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
	struct uc_image **v = NULL;
	char id[65], *tag = NULL;
	size_t n, i, j;
	int ret = -1;

	sha256_buf(txt, strlen(txt), id);
	json_object_put(c);
	free(img->id);
	img->id = xstrdup(id);
	if (!img->created)
		img->created = now_rfc3339();
	n = 0;
	if (store_lock(s, err) < 0)
		return -1;
	if (image_list(s, &v, &n, err) < 0)
		goto out;
	tag = name ? image_normalize_name(name) : NULL;
	for (i = 0; i < n; i++) {
		if (!strcmp(v[i]->id, img->id)) {
			/* Same content: keep its other tags. */
			for (j = 0; v[i]->names && v[i]->names[j]; j++)
				if (!strv_contains(img->names, v[i]->names[j]))
					strv_push(&img->names, v[i]->names[j]);
			continue;
		}
		/* A tag moves to the newest image, like docker tag. */
		if (tag && strv_contains(v[i]->names, tag)) {
			strv_remove(v[i]->names, tag);
			if (image_save(s, v[i], err) < 0)
				goto out_list;
		}
	}
	if (tag && !strv_contains(img->names, tag))
		strv_push(&img->names, tag);
	ret = image_save(s, img, err);
out_list:
	image_list_free(v, n);
out:
	free(tag);
	store_unlock(s);
	return ret;
}

/*
 * The layers some image record names, read from every images/ID.json as it
 * is: a record skipped elsewhere for a bad member still keeps its layers.
 * -1 when a record cannot be read at all: then which layers are unused is
 * not known.
 */
static int layers_in_use(const char *dir, char ***used, uc_error_t *err)
{
	struct dirent **ents;
	int i, cnt, ret = 0;

	cnt = scandir(dir, &ents, NULL, alphasort);
	if (cnt < 0)
		return uc_error_errno(err, errno, "scandir `%s`", dir);
	for (i = 0; i < cnt; i++) {
		const char *nm = ents[i]->d_name;
		size_t l = strlen(nm), k;
		struct uc_json_reader r = { .what = nm, .err = err };
		struct json_object *o = NULL, *layers;
		char *p;

		if (ret == 0 && l > 5 && !strcmp(nm + l - 5, ".json")) {
			p = xasprintf("%s/%s", dir, nm);
			if (uc_json_load(p, &o, err) < 0 || !json_object_is_type(o, json_type_object))
				ret = uc_error(err, 0, "`%s` cannot be read", p);
			layers = ret == 0 ? uc_json_array(&r, o, "Layers") : NULL;
			for (k = 0; k < uc_json_length(layers); k++) {
				struct json_object *e = json_object_array_get_idx(layers, k);

				if (json_object_is_type(e, json_type_string))
					strv_push(used, json_object_get_string(e));
			}
			if (o)
				json_object_put(o);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

/* Remove the layers no image names (what rmi left unused). */
static int layers_gc(struct uc_store *s, uc_error_t *err)
{
	char *dir = store_path(s, "images"), *ldir = store_path(s, "layers");
	char **used = xcalloc(1, sizeof(char *));
	struct dirent *de;
	int ret = -1;
	DIR *d = NULL;

	if (layers_in_use(dir, &used, err) < 0)
		goto out;
	d = opendir(ldir);
	if (!d) {
		uc_error_errno(err, errno, "opendir `%s`", ldir);
		goto out;
	}
	ret = 0;
	while ((de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.' || strv_contains(used, de->d_name))
			continue;
		p = xasprintf("%s/%s", ldir, de->d_name);
		if (rm_rf(p, err) < 0)
			ret = -1;
		free(p);
	}
out:
	if (d)
		closedir(d);
	strv_free(used);
	free(ldir);
	free(dir);
	return ret;
}

int image_remove(struct uc_store *s, const char *ref, bool *untagged,
		 uc_error_t *err)
{
	struct uc_image *img = NULL;
	char *tag = image_normalize_name(ref), **users = NULL;
	uc_error_t gc_err = NULL;
	char *p;
	int ret = -1;

	*untagged = false;
	if (store_lock(s, err) < 0) {
		free(tag);
		return -1;
	}
	if (image_find(s, ref, &img, err) < 0)
		goto out;
	/* One tag of several: only the tag goes, like docker rmi. */
	if (strv_len(img->names) > 1 && strv_contains(img->names, tag)) {
		strv_remove(img->names, tag);
		ret = image_save(s, img, err);
		*untagged = true;
		goto out;
	}
	if (store_image_users(s, img->id, &users, err) < 0)
		goto out;
	if (users[0]) {
		uc_error(err, 0,
			 "conflict: unable to delete %.12s (cannot be forced) - image is being used by container %.12s",
			 img->id, users[0]);
		goto out;
	}
	p = store_path(s, "images/%s.json", img->id);
	if (unlink(p) < 0) {
		uc_error_errno(err, errno, "remove `%s`", p);
		free(p);
		goto out;
	}
	free(p);
	ret = 0;
	/* The image is gone: layers left behind are reported, not an error. */
	if (layers_gc(s, &gc_err) < 0) {
		uc_warning("unused layers not removed: %s", gc_err->msg);
		uc_error_release(&gc_err);
	}
out:
	strv_free(users);
	image_free(img);
	free(tag);
	store_unlock(s);
	return ret;
}
