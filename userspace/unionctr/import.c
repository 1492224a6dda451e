// SPDX-License-Identifier: GPL-2.0
/*
 * Image import: a rootfs directory or tarball, an OCI image layout, a
 * docker save archive (a directory, or a tarball extracted to staging).
 *
 * An image archive is someone else's.  Its documents and blobs are opened
 * inside it without following any symlink (RESOLVE_NO_SYMLINKS: a
 * layer.tar -> /root/secret.tar must not make a host file a layer) and
 * must be regular files (a link to /dev/zero must not be read forever);
 * JSON documents are size-limited (ucjson.c); every OCI blob is checked
 * against its sha256 digest, any other algorithm is refused (a digest that
 * is not checked is no digest); docker save layers are checked against
 * the config's diff_ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images.h"
#include "layer.h"
#include "safepath.h"
#include "tree.h"
#include "ucjson.h"
#include "utils.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* An index may name itself: nested indexes are followed this far. */
#define MAX_INDEX_DEPTH 8

/* An image archive as a directory: its fd, and its name for messages. */
struct archive_dir {
	int fd;
	const char *name;
};

/* A blob of the archive: a regular file at rel, reached without symlinks. */
static int open_blob(const struct archive_dir *a, const char *rel, uc_error_t *err)
{
	struct stat st;
	char p[64];
	int pfd, fd;

	pfd = safe_open_beneath(a->fd, rel, O_PATH, NULL);
	if (pfd < 0)
		return uc_error_errno(err, errno, "`%s`: `%s`%s", a->name, rel,
				      errno == ELOOP ? " (a symbolic link on the way)" : "");
	if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(pfd);
		return uc_error(err, 0, "`%s`: `%s` is %s", a->name, rel,
				S_ISLNK(st.st_mode) ? "a symbolic link (an archive's blobs must be its own files)" :
				"not a regular file");
	}
	/* reopened from the checked O_PATH fd: the same file, never a device */
	fd_path(pfd, p);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		uc_error_errno(err, errno, "`%s`: open `%s`", a->name, rel);
	close(pfd);
	return fd;
}

static int read_json_blob(const struct archive_dir *a, const char *rel, int fd,
			  struct json_object **out, uc_error_t *err)
{
	char *what = xasprintf("%s/%s", a->name, rel);
	int own = fd < 0 ? open_blob(a, rel, err) : fd, ret;

	if (own < 0) {
		free(what);
		return -1;
	}
	ret = uc_json_read_fd(own, what, out, err);
	if (fd < 0)
		close(own);
	free(what);
	return ret;
}

/* "sha256:" and 64 lowercase hex characters; anything else is refused. */
static int parse_digest(const char *digest, char hex[65], uc_error_t *err)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;

	if (!colon || colon == digest)
		return uc_error(err, 0, "bad digest `%s`", digest ? digest : "");
	if (colon - digest != 6 || strncmp(digest, "sha256", 6))
		return uc_error(err, 0, "unsupported digest algorithm `%.*s` in `%s` (only sha256 is checked)",
				(int)(colon - digest), digest, digest);
	if (!uc_id_valid(colon + 1))
		return uc_error(err, 0, "bad digest `%s`", digest);
	memcpy(hex, colon + 1, 65);
	return 0;
}

/* Does what fd holds hash to hex?  (Then back to its start.) */
static int check_digest(int fd, const char *hex, const char *what, const char *kind,
			uc_error_t *err)
{
	char d[65];

	if (sha256_fd(fd, d) < 0)
		return uc_error_errno(err, errno, "read `%s`", what);
	if (strcmp(d, hex))
		return uc_error(err, 0, "`%s` does not match its %s sha256:%.12s...", what,
				kind, hex);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return uc_error_errno(err, errno, "seek `%s`", what);
	return 0;
}

/* An OCI blob by digest: blobs/sha256/HEX, checked against it. */
static int open_digest(const struct archive_dir *a, const char *digest, uc_error_t *err)
{
	char hex[65], *rel;
	int fd;

	if (parse_digest(digest, hex, err) < 0)
		return -1;
	rel = xasprintf("blobs/sha256/%s", hex);
	fd = open_blob(a, rel, err);
	if (fd >= 0 && check_digest(fd, hex, rel, "digest", err) < 0) {
		close(fd);
		fd = -1;
	}
	free(rel);
	return fd;
}

/* A layer tarball (any compression libarchive reads) into the store. */
static int import_layer_fd(struct uc_store *s, int fd, const char *what, char out[65],
			   uc_error_t *err)
{
	char *tmp = store_mktemp(s, err), p[64];
	int ret;

	if (!tmp)
		return -1;
	fd_path(fd, p);
	ret = layer_extract(p, tmp, true, err);
	if (ret < 0)
		uc_error_wrap(err, "layer `%s`", what);
	if (ret == 0)
		ret = layer_store(s, tmp, out, err);
	else
		rm_rf(tmp, err);
	free(tmp);
	return ret;
}

static int import_layer_tar(struct uc_store *s, const char *tarball, char out[65],
			    uc_error_t *err)
{
	char *tmp = store_mktemp(s, err);
	int ret;

	if (!tmp)
		return -1;
	ret = layer_extract(tarball, tmp, true, err);
	if (ret == 0)
		ret = layer_store(s, tmp, out, err);
	else
		rm_rf(tmp, err);
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
		rm_rf(tmp, err);
	free(tmp);
	return ret;
}

/*
 * An OCI/docker image config: the parts under "config" that run uses, and
 * (diff_ids not NULL) rootfs.diff_ids.
 */
static int read_image_config(struct json_object *o, const char *what,
			     struct uc_image *img, char ***diff_ids, uc_error_t *err)
{
	struct uc_json_reader r = { .what = what, .err = err };
	struct json_object *cfg, *vols;

	cfg = uc_json_object(&r, o, "config");
	if (!cfg)
		cfg = uc_json_object(&r, o, "Config");
	img->cmd = uc_json_strv(&r, cfg, "Cmd");
	img->entrypoint = uc_json_strv(&r, cfg, "Entrypoint");
	img->env = uc_json_strv(&r, cfg, "Env");
	img->workdir = xstrdup(uc_json_string(&r, cfg, "WorkingDir"));
	img->user = xstrdup(uc_json_string(&r, cfg, "User"));
	vols = uc_json_object(&r, cfg, "Volumes");
	if (vols) {
		json_object_object_foreach(vols, k, v) {
			(void)v;
			strv_push(&img->volumes, k);
		}
	}
	img->created = xstrdup(uc_json_string(&r, o, "created"));
	if (diff_ids)
		*diff_ids = uc_json_strv(&r, uc_json_object(&r, o, "rootfs"), "diff_ids");
	return r.bad ? -1 : 0;
}

/* ---- OCI image layout -------------------------------------------------- */

/* The first descriptor of an index's "manifests", and image names from it. */
static struct json_object *first_manifest(struct uc_json_reader *r,
					  struct json_object *index, char **name)
{
	struct json_object *desc, *ann;
	const char *n;

	desc = uc_json_object_at(r, uc_json_array(r, index, "manifests"), 0);
	if (!desc) {
		if (!r->bad)
			uc_json_invalid(r, "manifests", "holds no manifest");
		return NULL;
	}
	ann = uc_json_object(r, desc, "annotations");
	n = uc_json_string(r, ann, "io.containerd.image.name");
	if (!n)
		n = uc_json_string(r, ann, "org.opencontainers.image.ref.name");
	if (!*name && n)
		*name = xstrdup(n);
	return desc;
}

/* A JSON blob named by a descriptor's digest. */
static int read_digest_json(const struct archive_dir *a, struct uc_json_reader *r,
			    struct json_object *desc, struct json_object **out)
{
	const char *dg = uc_json_string(r, desc, "digest");
	int fd, ret;

	if (r->bad)
		return -1;
	fd = open_digest(a, dg, r->err);
	if (fd < 0)
		return -1;
	ret = read_json_blob(a, dg, fd, out, r->err);
	close(fd);
	return ret;
}

/* index.json, down through nested indexes, to the first image manifest. */
static struct json_object *oci_manifest(const struct archive_dir *a, char **name,
					uc_error_t *err)
{
	struct uc_json_reader r = { .what = "index.json", .err = err };
	struct json_object *index = NULL, *doc = NULL, *desc;
	int depth;

	if (read_json_blob(a, "index.json", -1, &index, err) < 0)
		return NULL;
	desc = first_manifest(&r, index, name);
	for (depth = 0; desc; depth++) {
		if (depth == MAX_INDEX_DEPTH) {
			uc_error(err, 0, "`%s`: image indexes nested too deep", a->name);
			break;
		}
		if (read_digest_json(a, &r, desc, &doc) < 0)
			break;
		r.what = "image index or manifest";
		if (!uc_json_array(&r, doc, "manifests") && !r.bad) {
			json_object_put(index);
			return doc;	/* a manifest */
		}
		desc = first_manifest(&r, doc, name);
		json_object_put(index);
		index = doc;
		doc = NULL;
	}
	if (doc)
		json_object_put(doc);
	json_object_put(index);
	return NULL;
}

static int oci_layers(struct uc_store *s, const struct archive_dir *a,
		      struct json_object *man, struct uc_image *img, uc_error_t *err)
{
	struct uc_json_reader r = { .what = "image manifest", .err = err };
	struct json_object *layers = uc_json_array(&r, man, "layers");
	size_t i, n = uc_json_length(layers);

	for (i = 0; i < n && !r.bad; i++) {
		const char *dg = uc_json_string(&r, uc_json_object_at(&r, layers, i), "digest");
		char d[65];
		int fd, ret;

		if (r.bad)
			break;
		fd = open_digest(a, dg, err);
		if (fd < 0)
			return -1;
		ret = import_layer_fd(s, fd, dg, d, err);
		close(fd);
		if (ret < 0)
			return -1;
		strv_push(&img->layers, d);
	}
	return r.bad ? -1 : 0;
}

static int import_oci(struct uc_store *s, const struct archive_dir *a,
		      struct uc_image *img, char **name, uc_error_t *err)
{
	struct uc_json_reader r = { .what = "image manifest", .err = err };
	struct json_object *man = oci_manifest(a, name, err), *cfg = NULL;
	int ret = -1;

	if (!man)
		return -1;
	if (read_digest_json(a, &r, uc_json_object(&r, man, "config"), &cfg) == 0 &&
	    read_image_config(cfg, "image config", img, NULL, err) == 0)
		ret = oci_layers(s, a, man, img, err);
	if (cfg)
		json_object_put(cfg);
	json_object_put(man);
	return ret;
}

/* ---- docker save --------------------------------------------------------- */

/* A config named by its digest (HEX.json, blobs/sha256/HEX) is checked. */
static int check_named_digest(int fd, const char *rel, uc_error_t *err)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	size_t len = strlen(base);
	char hex[65];

	if (len < 64 || strspn(base, "0123456789abcdef") != 64 ||
	    (len != 64 && strcmp(base + 64, ".json")))
		return 0;
	memcpy(hex, base, 64);
	hex[64] = '\0';
	return check_digest(fd, hex, rel, "name's", err);
}

static int save_config(const struct archive_dir *a, const char *rel,
		       struct uc_image *img, char ***diff_ids, uc_error_t *err)
{
	struct json_object *o = NULL;
	int fd = open_blob(a, rel, err), ret = -1;

	if (fd < 0)
		return -1;
	if (check_named_digest(fd, rel, err) == 0 &&
	    read_json_blob(a, rel, fd, &o, err) == 0)
		ret = read_image_config(o, rel, img, diff_ids, err);
	if (o)
		json_object_put(o);
	close(fd);
	return ret;
}

/* Each layer.tar is the uncompressed layer: its sha256 is its diff_id. */
static int save_layers(struct uc_store *s, const struct archive_dir *a,
		       struct uc_json_reader *r, struct json_object *layers,
		       char **diff_ids, struct uc_image *img)
{
	size_t i, n = uc_json_length(layers);

	if (strv_len(diff_ids) != n)
		return uc_error(r->err, 0, "`%s`: %zu layer(s), but the config lists %zu diff_id(s)",
				a->name, n, strv_len(diff_ids));
	for (i = 0; i < n; i++) {
		const char *l = uc_json_string_at(r, layers, i);
		char hex[65], d[65];
		int fd, ret;

		if (!l)
			return -1;
		if (parse_digest(diff_ids[i], hex, r->err) < 0)
			return uc_error_wrap(r->err, "diff_id %zu", i);
		fd = open_blob(a, l, r->err);
		if (fd < 0)
			return -1;
		ret = check_digest(fd, hex, l, "diff_id", r->err);
		if (ret == 0)
			ret = import_layer_fd(s, fd, l, d, r->err);
		close(fd);
		if (ret < 0)
			return -1;
		strv_push(&img->layers, d);
	}
	return 0;
}

static int import_docker_save(struct uc_store *s, const struct archive_dir *a,
			      struct uc_image *img, char **name, uc_error_t *err)
{
	struct uc_json_reader r = { .what = "manifest.json", .err = err };
	struct json_object *man = NULL, *m;
	const char *cfg, *tag;
	char **diff_ids = NULL;
	int ret = -1;

	if (read_json_blob(a, "manifest.json", -1, &man, err) < 0)
		return -1;
	if (!json_object_is_type(man, json_type_array)) {
		uc_error(err, 0, "`%s`: manifest.json is not an array of images", a->name);
		goto out;
	}
	m = uc_json_object_at(&r, man, 0);
	cfg = uc_json_string(&r, m, "Config");
	tag = uc_json_string_at(&r, uc_json_array(&r, m, "RepoTags"), 0);
	uc_json_array(&r, m, "Layers");
	if (r.bad)
		goto out;
	if (!cfg) {
		uc_error(err, 0, "`%s`: manifest.json names no Config", a->name);
		goto out;
	}
	if (!*name && tag)
		*name = xstrdup(tag);
	if (save_config(a, cfg, img, &diff_ids, err) == 0)
		ret = save_layers(s, a, &r, uc_json_array(&r, m, "Layers"), diff_ids, img);
out:
	strv_free(diff_ids);
	json_object_put(man);
	return ret;
}

/* ---- import ---------------------------------------------------------------- */

/* Is name in the archive (as anything: a symlink is then refused by name)? */
static bool has_entry(const struct archive_dir *a, const char *name)
{
	struct stat st;

	return fstatat(a->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* An image archive as a directory; *handled false: a plain rootfs. */
static int import_layout_dir(struct uc_store *s, const char *dir, const char *name_of,
			     struct uc_image *img, char **name, bool *handled,
			     uc_error_t *err)
{
	struct archive_dir a = { .name = name_of };
	int ret = 0;

	a.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.fd < 0)
		return uc_error_errno(err, errno, "open `%s`", dir);
	*handled = true;
	if (has_entry(&a, "manifest.json"))
		ret = import_docker_save(s, &a, img, name, err);
	else if (has_entry(&a, "oci-layout") && has_entry(&a, "index.json"))
		ret = import_oci(s, &a, img, name, err);
	else
		*handled = false;
	close(a.fd);
	return ret;
}

/* A tarball: an image archive (extracted to staging first), or a rootfs. */
static int import_tarball(struct uc_store *s, const char *source, struct uc_image *img,
			  char **name, char **tmp, uc_error_t *err)
{
	bool is_image = false, handled;
	char d[65];

	if (tar_has_entry(source, "manifest.json", &is_image, err) < 0)
		return -1;
	if (!is_image && tar_has_entry(source, "oci-layout", &is_image, err) < 0)
		return -1;
	if (!is_image) {
		if (import_layer_tar(s, source, d, err) < 0)
			return -1;
		strv_push(&img->layers, d);
		return 0;
	}
	*tmp = store_mktemp(s, err);
	if (!*tmp || layer_extract(source, *tmp, false, err) < 0)
		return -1;
	return import_layout_dir(s, *tmp, source, img, name, &handled, err);
}

static int import_source(struct uc_store *s, const char *source, struct uc_image *img,
			 char **name, char **tmp, uc_error_t *err)
{
	bool handled = false;
	struct stat st;
	char d[65];

	if (stat(source, &st) < 0)
		return uc_error_errno(err, errno, "import `%s`", source);
	if (!S_ISDIR(st.st_mode))
		return import_tarball(s, source, img, name, tmp, err);
	if (import_layout_dir(s, source, source, img, name, &handled, err) < 0)
		return -1;
	if (handled)
		return 0;
	if (import_rootfs_dir(s, source, d, err) < 0)
		return -1;
	strv_push(&img->layers, d);
	return 0;
}

int image_import(struct uc_store *s, const char *source, const char *name,
		 struct uc_image **out, uc_error_t *err)
{
	struct uc_image *img = xcalloc(1, sizeof(*img));
	char *nm = name ? xstrdup(name) : NULL, *tmp = NULL;
	int ret = -1;

	/* Held throughout, so that rmi's layer collection never sees a new
	 * layer before the image that uses it. */
	if (store_lock(s, err) < 0) {
		image_free(img);
		free(nm);
		return -1;
	}
	if (import_source(s, source, img, &nm, &tmp, err) < 0)
		goto out;
	if (!img->layers)
		img->layers = xcalloc(1, sizeof(char *));
	if (!img->cmd && !img->entrypoint)
		strv_push(&img->cmd, "/bin/sh");
	if (!img->env)
		strv_push(&img->env, DEFAULT_PATH);
	if (image_register(s, img, nm, err) < 0)
		goto out;
	*out = img;
	img = NULL;
	ret = 0;
out:
	if (tmp) {
		uc_error_t e = NULL;

		/* the extracted archive: staging, whatever the outcome */
		if (rm_rf(tmp, &e) < 0) {
			uc_warning("left in the state's tmp/: %s", e->msg);
			uc_error_release(&e);
		}
		free(tmp);
	}
	free(nm);
	image_free(img);
	store_unlock(s);
	return ret;
}
