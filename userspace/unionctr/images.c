// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "images.h"
#include "layer.h"
#include "mounts.h"
#include "tree.h"
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
	json_object_object_add(o, k, v ? json_strv(v) : NULL);
}

/* The record without Name: what the id is computed over. */
static struct json_object *image_content_json(const struct uc_image *img)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cfg = json_object_new_object();

	json_object_object_add(o, "Layers", json_strv(img->layers));
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
	json_object_object_add(o, "RepoTags", json_strv(img->names));
	json_object_object_add(o, "Created",
			       json_object_new_string(img->created ? img->created : ""));
	return o;
}

static struct uc_image *image_from_json(struct json_object *o)
{
	struct uc_image *img = xcalloc(1, sizeof(*img));
	struct json_object *cfg = jget(o, "Config");

	img->id = xstrdup(jstr(o, "Id"));
	img->names = jstrv(o, "RepoTags");
	img->created = xstrdup(jstr(o, "Created"));
	img->layers = jstrv(o, "Layers");
	img->cmd = jstrv(cfg, "Cmd");
	img->entrypoint = jstrv(cfg, "Entrypoint");
	img->env = jstrv(cfg, "Env");
	img->workdir = xstrdup(jstr(cfg, "WorkingDir"));
	img->user = xstrdup(jstr(cfg, "User"));
	img->volumes = jstrv(cfg, "Volumes");
	if (!img->layers)
		img->layers = xcalloc(1, sizeof(char *));
	return img;
}

int image_save(struct uc_store *s, struct uc_image *img, uc_error_t *err)
{
	struct json_object *o = image_to_json(img);
	char *p = store_path(s, "images/%s.json", img->id);
	int ret = json_save(p, o, err);

	free(p);
	json_object_put(o);
	return ret;
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
		struct json_object *o;
		char *p;

		if (l == 69 && !strcmp(nm + 64, ".json")) {
			p = xasprintf("%s/%s", dir, nm);
			if (json_load(p, &o, NULL) == 0) {
				*out = xrealloc(*out, (*n + 1) * sizeof(**out));
				(*out)[(*n)++] = image_from_json(o);
				json_object_put(o);
			}
			free(p);
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

static void layers_gc(struct uc_store *s)
{
	struct uc_image **v;
	size_t n, i, j;
	char *dir = store_path(s, "layers");
	struct dirent *de;
	DIR *d;

	if (image_list(s, &v, &n, NULL) < 0)
		goto out;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		bool used = false;

		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < n && !used; i++)
			for (j = 0; v[i]->layers[j] && !used; j++)
				used = !strcmp(v[i]->layers[j], de->d_name);
		if (!used) {
			char *p = xasprintf("%s/%s", dir, de->d_name);

			rm_rf(p, NULL);
			free(p);
		}
	}
	if (d)
		closedir(d);
	image_list_free(v, n);
out:
	free(dir);
}

int image_remove(struct uc_store *s, const char *ref, bool *untagged,
		 uc_error_t *err)
{
	struct uc_container **cs = NULL;
	struct uc_image *img = NULL;
	char *tag = image_normalize_name(ref);
	size_t n = 0, i;
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
	if (container_list(s, &cs, &n, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!strcmp(cs[i]->image_id, img->id)) {
			uc_error(err, 0,
				 "conflict: unable to delete %.12s (cannot be forced) - image is being used by container %.12s",
				 img->id, cs[i]->id);
			goto out;
		}
	}
	p = store_path(s, "images/%s.json", img->id);
	if (unlink(p) < 0) {
		uc_error_errno(err, errno, "remove `%s`", p);
		free(p);
		goto out;
	}
	free(p);
	layers_gc(s);
	ret = 0;
out:
	for (i = 0; i < n; i++)
		container_free(cs[i]);
	free(cs);
	image_free(img);
	free(tag);
	store_unlock(s);
	return ret;
}

/* ---- import -------------------------------------------------------------- */

static int import_layer_tar(struct uc_store *s, const char *tarball,
			    char out[65], uc_error_t *err)
{
	char *tmp = store_mktemp(s, err);
	int ret;

	if (!tmp)
		return -1;
	ret = layer_extract(tarball, tmp, true, err);
	if (ret == 0)
		ret = layer_store(s, tmp, out, err);
	else
		rm_rf(tmp, NULL);
	free(tmp);
	return ret;
}

static int import_rootfs_dir(struct uc_store *s, const char *src, char out[65],
			     uc_error_t *err)
{
	char *tmp = store_mktemp(s, err);
	int ret;

	if (!tmp)
		return -1;
	ret = copy_dir_contents(src, tmp, err);
	if (ret == 0)
		ret = layer_store(s, tmp, out, err);
	else
		rm_rf(tmp, NULL);
	free(tmp);
	return ret;
}

/* Read an OCI/docker image config: the parts under "config". */
static int read_image_config(const char *path, struct uc_image *img,
			     uc_error_t *err)
{
	struct json_object *o, *cfg, *vols;

	if (json_load(path, &o, err) < 0)
		return -1;
	cfg = jget(o, "config");
	if (!cfg)
		cfg = jget(o, "Config");
	if (cfg) {
		img->cmd = jstrv(cfg, "Cmd");
		img->entrypoint = jstrv(cfg, "Entrypoint");
		img->env = jstrv(cfg, "Env");
		img->workdir = xstrdup(jstr(cfg, "WorkingDir"));
		img->user = xstrdup(jstr(cfg, "User"));
		vols = jget(cfg, "Volumes");
		if (vols && json_object_is_type(vols, json_type_object)) {
			json_object_object_foreach(vols, k, v) {
				(void)v;
				strv_push(&img->volumes, k);
			}
		}
	}
	img->created = xstrdup(jstr(o, "created"));
	json_object_put(o);
	return 0;
}

static char *blob_path(const char *base, const char *digest, uc_error_t *err)
{
	const char *colon = strchr(digest ? digest : "", ':');

	if (!colon || strchr(colon + 1, '/') || strstr(digest, "..")) {
		uc_error(err, 0, "bad digest `%s`", digest ? digest : "");
		return NULL;
	}
	return xasprintf("%s/blobs/%.*s/%s", base, (int)(colon - digest), digest,
			 colon + 1);
}

static int verify_blob(const char *path, const char *digest, uc_error_t *err)
{
	char d[65];

	if (!str_has_prefix(digest, "sha256:"))
		return 0;
	if (sha256_file(path, d, err) < 0)
		return -1;
	if (strcmp(d, digest + 7))
		return uc_error(err, 0, "blob `%s` does not match its digest", path);
	return 0;
}

/* An OCI image layout directory: index.json -> manifest -> config, layers. */
static int import_oci(struct uc_store *s, const char *base, struct uc_image *img,
		      char **name, uc_error_t *err)
{
	struct json_object *index = NULL, *man = NULL, *desc, *layers, *ann;
	char *p = xasprintf("%s/index.json", base), *bp = NULL;
	size_t i, n;
	int ret = -1;

	if (json_load(p, &index, err) < 0)
		goto out;
	desc = json_object_array_get_idx(jget(index, "manifests"), 0);
	if (!desc) {
		uc_error(err, 0, "`%s`: no manifest", p);
		goto out;
	}
	ann = jget(desc, "annotations");
	if (!*name && jstr(ann, "io.containerd.image.name"))
		*name = xstrdup(jstr(ann, "io.containerd.image.name"));
	else if (!*name && jstr(ann, "org.opencontainers.image.ref.name"))
		*name = xstrdup(jstr(ann, "org.opencontainers.image.ref.name"));
	/* Follow nested indexes down to the first manifest. */
	for (;;) {
		bp = blob_path(base, jstr(desc, "digest"), err);
		if (!bp || verify_blob(bp, jstr(desc, "digest"), err) < 0 ||
		    json_load(bp, &man, err) < 0)
			goto out;
		free(bp);
		bp = NULL;
		if (!jget(man, "manifests"))
			break;
		desc = json_object_array_get_idx(jget(man, "manifests"), 0);
		json_object_put(index);
		index = man;
		man = NULL;
		if (!desc) {
			uc_error(err, 0, "empty image index");
			goto out;
		}
	}
	bp = blob_path(base, jstr(jget(man, "config"), "digest"), err);
	if (!bp || verify_blob(bp, jstr(jget(man, "config"), "digest"), err) < 0 ||
	    read_image_config(bp, img, err) < 0)
		goto out;
	layers = jget(man, "layers");
	n = layers ? json_object_array_length(layers) : 0;
	for (i = 0; i < n; i++) {
		const char *dg = jstr(json_object_array_get_idx(layers, i), "digest");
		char d[65];

		free(bp);
		bp = blob_path(base, dg, err);
		if (!bp || verify_blob(bp, dg, err) < 0 ||
		    import_layer_tar(s, bp, d, err) < 0)
			goto out;
		strv_push(&img->layers, d);
	}
	ret = 0;
out:
	free(bp);
	free(p);
	if (man)
		json_object_put(man);
	if (index)
		json_object_put(index);
	return ret;
}

/* A docker save archive, extracted: manifest.json with Config and Layers. */
static int import_docker_save(struct uc_store *s, const char *base,
			      struct uc_image *img, char **name, uc_error_t *err)
{
	struct json_object *man = NULL, *m, *layers;
	char *p = xasprintf("%s/manifest.json", base), *lp;
	const char *cfg;
	size_t i, n;
	int ret = -1;

	if (json_load(p, &man, err) < 0)
		goto out;
	m = json_object_array_get_idx(man, 0);
	cfg = jstr(m, "Config");
	if (!m || !cfg || strstr(cfg, "..") || cfg[0] == '/') {
		uc_error(err, 0, "`%s`: bad manifest", p);
		goto out;
	}
	if (!*name && jget(m, "RepoTags") &&
	    json_object_array_length(jget(m, "RepoTags")) > 0)
		*name = xstrdup(json_object_get_string(
			json_object_array_get_idx(jget(m, "RepoTags"), 0)));
	lp = xasprintf("%s/%s", base, cfg);
	ret = read_image_config(lp, img, err);
	free(lp);
	if (ret < 0)
		goto out;
	ret = -1;
	layers = jget(m, "Layers");
	n = layers ? json_object_array_length(layers) : 0;
	for (i = 0; i < n; i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(layers, i));
		char d[65];

		if (!l || strstr(l, "..") || l[0] == '/') {
			uc_error(err, 0, "`%s`: bad layer path", p);
			goto out;
		}
		lp = xasprintf("%s/%s", base, l);
		ret = import_layer_tar(s, lp, d, err);
		free(lp);
		if (ret < 0)
			goto out;
		ret = -1;
		strv_push(&img->layers, d);
	}
	ret = 0;
out:
	free(p);
	if (man)
		json_object_put(man);
	return ret;
}

static bool file_exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static int import_layout_dir(struct uc_store *s, const char *dir,
			     struct uc_image *img, char **name, bool *handled,
			     uc_error_t *err)
{
	*handled = true;
	if (file_exists(dir, "manifest.json"))
		return import_docker_save(s, dir, img, name, err);
	if (file_exists(dir, "oci-layout") && file_exists(dir, "index.json"))
		return import_oci(s, dir, img, name, err);
	*handled = false;
	return 0;
}

int image_import(struct uc_store *s, const char *source, const char *name,
		 struct uc_image **out, uc_error_t *err)
{
	struct uc_image *img = xcalloc(1, sizeof(*img));
	char *nm = name ? xstrdup(name) : NULL, *tmp = NULL;
	bool handled = false, is_image = false;
	struct stat st;
	char d[65];
	int ret = -1;

	/* Held throughout, so that rmi's layer collection never sees a new
	 * layer before the image that uses it. */
	if (store_lock(s, err) < 0) {
		image_free(img);
		free(nm);
		return -1;
	}
	if (stat(source, &st) < 0) {
		uc_error_errno(err, errno, "import `%s`", source);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (import_layout_dir(s, source, img, &nm, &handled, err) < 0)
			goto out;
		if (!handled) {
			if (import_rootfs_dir(s, source, d, err) < 0)
				goto out;
			strv_push(&img->layers, d);
		}
	} else {
		if (tar_has_entry(source, "manifest.json", &is_image, err) < 0)
			goto out;
		if (!is_image && tar_has_entry(source, "oci-layout", &is_image, err) < 0)
			goto out;
		if (is_image) {
			tmp = store_mktemp(s, err);
			if (!tmp || layer_extract(source, tmp, false, err) < 0 ||
			    import_layout_dir(s, tmp, img, &nm, &handled, err) < 0)
				goto out;
		} else {
			if (import_layer_tar(s, source, d, err) < 0)
				goto out;
			strv_push(&img->layers, d);
		}
	}
	if (!img->layers)
		img->layers = xcalloc(1, sizeof(char *));
	if (!img->cmd && !img->entrypoint) {
		img->cmd = NULL;
		strv_push(&img->cmd, "/bin/sh");
	}
	if (!img->env)
		strv_push(&img->env,
			  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (image_register(s, img, nm, err) < 0)
		goto out;
	*out = img;
	img = NULL;
	ret = 0;
out:
	if (tmp) {
		rm_rf(tmp, NULL);
		free(tmp);
	}
	free(nm);
	image_free(img);
	store_unlock(s);
	return ret;
}
