// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive_dl.h"
#include "layer.h"
#include "safepath.h"
#include "tree.h"
#include "utils.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static struct archive *open_tar(const char *tarball, uc_error_t *err)
{
	struct archive *a;

	if (uc_archive_load(err) < 0)
		return NULL;
	a = archive_read_new();

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_cpio(a);
	if (archive_read_open_filename(a, tarball, 1 << 16) != ARCHIVE_OK) {
		uc_error(err, 0, "open archive `%s`: %s", tarball,
			 archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* "./a/b/" -> "a/b"; NULL if the name is unsafe. */
static char *entry_name(const char *raw)
{
	char *clean;

	if (!raw || raw[0] == '/')
		return NULL;
	clean = path_clean(raw);
	if (!strcmp(clean, "..") || str_has_prefix(clean, "../")) {
		free(clean);
		return NULL;
	}
	return clean;
}

int tar_has_entry(const char *tarball, const char *name, bool *found,
		  uc_error_t *err)
{
	struct archive *a = open_tar(tarball, err);
	struct archive_entry *e;
	int r;

	*found = false;
	if (!a)
		return -1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char *n = entry_name(archive_entry_pathname(e));

		if (n && !strcmp(n, name))
			*found = true;
		free(n);
		if (*found)
			break;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_EOF && !*found) {
		uc_error(err, 0, "read archive `%s`: %s", tarball,
			 archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	archive_read_free(a);
	return 0;
}

struct marker {
	char *dir;	/* parent directory, relative */
	char *name;	/* hidden name; NULL for an opaque marker */
};

static int apply_markers(const char *root, struct marker *m, size_t n,
			 uc_error_t *err)
{
	int rootfd, dfd, ret = 0;
	size_t i;

	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return uc_error_errno(err, errno, "open `%s`", root);
	for (i = 0; i < n && ret == 0; i++) {
		char p[64];

		dfd = safe_mkdir_p(rootfd, m[i].dir, 0755, err);
		if (dfd < 0) {
			ret = -1;
			break;
		}
		if (m[i].name) {
			unlinkat(dfd, m[i].name, 0);
			if (mknodat(dfd, m[i].name, S_IFCHR | 0, makedev(0, 0)) < 0)
				ret = uc_error_errno(err, errno, "whiteout `%s/%s`",
						     m[i].dir, m[i].name);
		} else {
			fd_path(dfd, p);
			ret = mark_opaque(p, err);
		}
		close(dfd);
	}
	close(rootfd);
	return ret;
}

/* Names the store could not walk: refused whole, not extracted in part. */
static bool name_too_long(const char *name)
{
	const char *p = name, *slash;

	if (strlen(name) >= PATH_MAX)
		return true;
	for (; *p; p = *slash ? slash + 1 : slash) {
		slash = strchrnul(p, '/');
		if (slash - p > NAME_MAX)
			return true;
	}
	return false;
}

/*
 * Block and character devices, but for 0/0 (an overlay-format whiteout):
 * without a device cgroup, a node in the image would reach the host's
 * device from inside the container.
 */
static bool is_device(struct archive_entry *e)
{
	mode_t type = archive_entry_filetype(e);

	if (type == AE_IFBLK)
		return true;
	return type == AE_IFCHR &&
	       (archive_entry_rdevmajor(e) || archive_entry_rdevminor(e));
}

/* One extraction: the archive, the disk writer, what is kept for the end. */
struct extract {
	const char *tarball;
	struct archive *a, *ext;
	bool whiteouts;
	struct marker *markers;	/* applied once every entry is out */
	size_t n_markers;
	bool have_top;		/* the "." entry: the layer root's mode, owner */
	mode_t top_mode;
	uid_t top_uid;
	gid_t top_gid;
	uc_error_t *err;
};

static int archive_failed(struct extract *x, struct archive *which)
{
	return uc_error(x->err, 0, "archive `%s`: %s", x->tarball,
			archive_error_string(which));
}

/* An OCI whiteout or opaque marker: kept for apply_markers. */
static void add_marker(struct extract *x, const char *name, const char *base)
{
	struct marker *m;

	x->markers = xrealloc(x->markers, (x->n_markers + 1) * sizeof(*x->markers));
	m = &x->markers[x->n_markers++];
	m->dir = base == name ? xstrdup(".") : strndup(name, base - name - 1);
	m->name = strcmp(base, WH_OPAQUE) ? xstrdup(base + strlen(WH_PREFIX)) : NULL;
}

/* Refused entries: whole-archive errors, nothing extracted in part. */
static int check_entry(struct extract *x, struct archive_entry *e, const char *name)
{
	const char *link = archive_entry_hardlink(e);
	char *l;

	if (name_too_long(name))
		return uc_error(x->err, 0, "archive `%s`: entry `%.64s...`: file name too long "
				"(%zu bytes; a component over %d or the whole over %d)",
				x->tarball, name, strlen(name), NAME_MAX, PATH_MAX - 1);
	if (is_device(e))
		return uc_error(x->err, 0, "archive `%s`: device node `%s` (%s %u:%u): "
				"images may not carry devices", x->tarball, name,
				archive_entry_filetype(e) == AE_IFBLK ? "block" : "char",
				(unsigned int)archive_entry_rdevmajor(e),
				(unsigned int)archive_entry_rdevminor(e));
	archive_entry_set_pathname(e, name);
	if (!link)
		return 0;
	l = entry_name(link);
	if (!l)
		return uc_error(x->err, 0, "archive `%s`: hard link `%s` leaves the layer",
				x->tarball, link);
	archive_entry_set_hardlink(e, l);
	free(l);
	return 0;
}

static int write_entry(struct extract *x, struct archive_entry *e)
{
	const void *buf;
	size_t size;
	int64_t off;
	int r;

	if (archive_write_header(x->ext, e) != ARCHIVE_OK)
		return archive_failed(x, x->ext);
	if (archive_entry_size(e) > 0) {
		while ((r = archive_read_data_block(x->a, &buf, &size, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(x->ext, buf, size, off) != ARCHIVE_OK)
				return archive_failed(x, x->ext);
		if (r != ARCHIVE_EOF)
			return archive_failed(x, x->a);
	}
	if (archive_write_finish_entry(x->ext) != ARCHIVE_OK)
		return archive_failed(x, x->ext);
	return 0;
}

static int extract_entry(struct extract *x, struct archive_entry *e)
{
	char *name = entry_name(archive_entry_pathname(e));
	const char *base;
	int ret = 0;

	if (!name)
		return uc_error(x->err, 0, "archive `%s`: unsafe entry `%s`", x->tarball,
				archive_entry_pathname(e));
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (!strcmp(name, ".")) {
		/* The root is ours (a staging dir): only its mode and owner. */
		x->have_top = archive_entry_filetype(e) == AE_IFDIR;
		x->top_mode = archive_entry_perm(e) & 07777;
		x->top_uid = archive_entry_uid(e);
		x->top_gid = archive_entry_gid(e);
	} else if (x->whiteouts && str_has_prefix(base, WH_PREFIX)) {
		add_marker(x, name, base);
	} else {
		ret = check_entry(x, e, name);
		if (ret == 0)
			ret = write_entry(x, e);
	}
	free(name);
	return ret;
}

/* The layer root: the archive's "." entry, else root's 0755 (as Docker). */
static int set_top(struct extract *x, const char *dir)
{
	if (!x->have_top) {
		x->top_mode = 0755;
		x->top_uid = 0;
		x->top_gid = 0;
	}
	if (lchown(dir, x->top_uid, x->top_gid) < 0 || chmod(dir, x->top_mode) < 0)
		return uc_error_errno(x->err, errno, "set the mode of `%s`", dir);
	return 0;
}

static int extract_all(struct extract *x, const char *dir)
{
	struct archive_entry *e;
	int cwd, r, ret = -1;

	/* libarchive's checks (no "..", no write through symlinks) are
	 * relative to the working directory. */
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0) {
		uc_error_errno(x->err, errno, "chdir `%s`", dir);
		goto out;
	}
	while ((r = archive_read_next_header(x->a, &e)) == ARCHIVE_OK)
		if (extract_entry(x, e) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		uc_error(x->err, 0, "read archive `%s`: %s", x->tarball,
			 archive_error_string(x->a));
		goto out;
	}
	if (archive_write_close(x->ext) != ARCHIVE_OK) {
		archive_failed(x, x->ext);
		goto out;
	}
	ret = 0;
out:
	if (cwd >= 0 && fchdir(cwd) < 0)
		ret = uc_error_errno(x->err, errno, "chdir back");
	if (cwd >= 0)
		close(cwd);
	return ret;
}

int layer_extract(const char *tarball, const char *dir, bool whiteouts,
		  uc_error_t *err)
{
	struct extract x = { .tarball = tarball, .whiteouts = whiteouts, .err = err };
	size_t i;
	int ret;

	x.a = open_tar(tarball, err);
	if (!x.a)
		return -1;
	x.ext = archive_write_disk_new();
	archive_write_disk_set_options(x.ext,
		ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
		ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR |
		ARCHIVE_EXTRACT_ACL |
		ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	ret = extract_all(&x, dir);
	if (ret == 0)
		ret = apply_markers(dir, x.markers, x.n_markers, err);
	if (ret == 0)
		ret = set_top(&x, dir);
	for (i = 0; i < x.n_markers; i++) {
		free(x.markers[i].dir);
		free(x.markers[i].name);
	}
	free(x.markers);
	archive_write_free(x.ext);
	archive_read_free(x.a);
	return ret;
}

/* ---- digest ------------------------------------------------------------- */

/*
 * A layer's id is the digest of everything that makes it what it is: each
 * entry's name, type, mode, owner, size, device number, content or link
 * target, its xattrs (sorted; file capabilities, ACLs and the opaque marker
 * among them) and which names are hard links of one inode.  Two trees that
 * differ in any of these get different ids, so an import can never be given
 * a stored layer that merely looks like its own.  Times are left out: they
 * do not change what a container can do.  Walked by directory fds.
 */
#define DIGEST_VERSION "unionctr layer digest 2"

struct digest_link {
	dev_t dev;
	ino_t ino;
	char *rel;
};

struct digest_ctx {
	struct uc_sha256 *h;
	struct digest_link *links;
	size_t n_links;
	char rel[PATH_MAX];
	uc_error_t *err;
};

static int digest_error(struct digest_ctx *d, const char *what)
{
	return uc_error_errno(d->err, errno, "digest: %s `%s`", what,
			      *d->rel ? d->rel : ".");
}

static void hash_str(struct digest_ctx *d, const char *s)
{
	sha256_update(d->h, s, strlen(s) + 1);
}

/* Sorted names and values: the same set of xattrs hashes the same. */
static int digest_xattrs(struct digest_ctx *d, int fd, int dirfd, const char *name)
{
	struct uc_xattr *v;
	char len[32];
	size_t n, i;

	if (xattrs_read(fd, dirfd, name, &v, &n) < 0)
		return digest_error(d, "listxattr");
	for (i = 0; i < n; i++) {
		snprintf(len, sizeof(len), "%zd", v[i].len);
		hash_str(d, "xattr");
		hash_str(d, v[i].name);
		hash_str(d, len);
		sha256_update(d->h, v[i].value, v[i].len);
	}
	xattrs_free(v, n);
	return 0;
}

static void digest_stat(struct digest_ctx *d, const struct stat *st)
{
	char hdr[128];

	snprintf(hdr, sizeof(hdr), "%o %u %u %lld %llx", st->st_mode, st->st_uid,
		 st->st_gid, (long long)st->st_size, (unsigned long long)st->st_rdev);
	hash_str(d, hdr);
}

/* A further name of an inode seen before: hashed as "link to" that name. */
static bool digest_hardlink(struct digest_ctx *d, const struct stat *st)
{
	size_t i;

	if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
		return false;
	for (i = 0; i < d->n_links; i++) {
		if (d->links[i].dev == st->st_dev && d->links[i].ino == st->st_ino) {
			hash_str(d, "hardlink");
			hash_str(d, d->links[i].rel);
			return true;
		}
	}
	d->links = xrealloc(d->links, (d->n_links + 1) * sizeof(*d->links));
	d->links[d->n_links++] = (struct digest_link){ st->st_dev, st->st_ino,
						       xstrdup(d->rel) };
	return false;
}

static int digest_content(struct digest_ctx *d, int dirfd, const char *name,
			  const struct stat *st)
{
	char buf[65536], t[PATH_MAX];
	ssize_t r;
	int fd;

	if (S_ISLNK(st->st_mode)) {
		r = readlinkat(dirfd, name, t, sizeof(t));
		if (r < 0)
			return digest_error(d, "readlink");
		sha256_update(d->h, t, r);
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return digest_error(d, "open");
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		sha256_update(d->h, buf, r);
	close(fd);
	return r < 0 ? digest_error(d, "read") : 0;
}

static int digest_dir(struct digest_ctx *d, int dirfd);

static int digest_entry(struct digest_ctx *d, int dirfd, const char *name)
{
	struct stat st;
	int fd, ret;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return digest_error(d, "stat");
	hash_str(d, d->rel);
	digest_stat(d, &st);
	if (digest_hardlink(d, &st))
		return 0;
	if (digest_xattrs(d, -1, dirfd, name) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return digest_content(d, dirfd, name, &st);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return digest_error(d, "open directory");
	ret = digest_dir(d, fd);
	close(fd);
	return ret;
}

static int digest_dir(struct digest_ctx *d, int dirfd)
{
	size_t len = strlen(d->rel);
	struct dirent **ents = NULL;
	char p[64];
	int n, i, ret = 0;

	/* scandir by path: the magic link of our own fd, sorted by name */
	fd_path(dirfd, p);
	n = scandir(p, &ents, NULL, alphasort);
	if (n < 0)
		return digest_error(d, "read directory");
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (ret == 0 && strcmp(name, ".") && strcmp(name, "..")) {
			if (len + strlen(name) + 2 > sizeof(d->rel)) {
				errno = ENAMETOOLONG;
				ret = digest_error(d, "walk below");
			} else {
				snprintf(d->rel + len, sizeof(d->rel) - len, "/%s", name);
				ret = digest_entry(d, dirfd, name);
				d->rel[len] = '\0';
			}
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int tree_digest(const char *dir, char out[65], uc_error_t *err)
{
	struct digest_ctx d = { .h = sha256_new(), .err = err };
	struct stat st;
	size_t i;
	int fd, ret = -1;

	hash_str(&d, DIGEST_VERSION);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		uc_error_errno(err, errno, "digest: open `%s`", dir);
	} else if (fstat(fd, &st) < 0) {
		digest_error(&d, "stat");
	} else {
		/* The top's own metadata too: a layer's root is the image's /. */
		digest_stat(&d, &st);
		ret = digest_xattrs(&d, fd, -1, ".");
		if (ret == 0)
			ret = digest_dir(&d, fd);
	}
	if (fd >= 0)
		close(fd);
	sha256_final(d.h, out);
	for (i = 0; i < d.n_links; i++)
		free(d.links[i].rel);
	free(d.links);
	return ret;
}

/* ---- diff --------------------------------------------------------------- */

/*
 * What the launcher itself creates in a container's layer when the image
 * lacks it: mount points of the default table and the /etc files.  Docker
 * keeps these in a hidden "init" layer, so they never show in diff/commit.
 */
static const char *const init_paths[] = {
	"/proc", "/sys", "/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
};

bool layer_init_path(const char *rel)
{
	size_t i;

	for (i = 0; i < sizeof(init_paths) / sizeof(init_paths[0]); i++)
		if (!strcmp(rel, init_paths[i]))
			return true;
	return false;
}

/* The image's entry at rel (lowers top first): 0 and *st, or -1. */
static int lower_stat(char *const *lowers, const char *rel, struct stat *st)
{
	size_t i;

	for (i = 0; lowers && lowers[i]; i++) {
		char *p = xasprintf("%s%s", lowers[i], rel);
		int r = lstat(p, st);

		free(p);
		if (r == 0)
			return is_whiteout(st) ? -1 : 0;
	}
	return -1;
}

static bool in_lowers(char *const *lowers, const char *rel)
{
	struct stat st;

	return lower_stat(lowers, rel, &st) == 0;
}

/* An added entry the launcher made: an empty file or directory. */
static bool made_by_launcher(const char *rel,
			     const struct stat *st)
{
	if (!layer_init_path(rel))
		return false;
	return S_ISDIR(st->st_mode) || (S_ISREG(st->st_mode) && st->st_size == 0);
}

struct diff_walk {
	char *const *lowers;
	diff_fn fn;		/* NULL: only count */
	void *data;
	uc_error_t *err;
};

static int diff_dir(const struct diff_walk *w, int dirfd, const char *rel, int *count);

static void report(const struct diff_walk *w, char kind, const char *rel, int *count)
{
	(*count)++;
	if (w->fn)
		w->fn(kind, rel, w->data);
}

/* Below directory name of dirfd (opened without following): changes. */
static int diff_below(const struct diff_walk *w, int dirfd, const char *name,
		      const char *rel, int *count, bool *opaque)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret;
	char v[4];

	if (fd < 0)
		return uc_error_errno(w->err, errno, "diff: open `%s`", rel);
	if (opaque)
		*opaque = (fgetxattr(fd, XATTR_OVERLAY_OPAQUE, v, sizeof(v)) == 1 && v[0] == 'y') ||
			  (fgetxattr(fd, XATTR_UNIONFS_OPAQUE, v, sizeof(v)) == 1 && v[0] == 'y');
	ret = opaque && *opaque ? 0 : diff_dir(w, fd, rel, count);
	close(fd);
	return ret;
}

/* A directory copied up on the way to a change below it: "C" only if
 * something below is reported. */
static int diff_copied_dir(const struct diff_walk *w, int dirfd, const char *name,
			   const char *rel, int *count)
{
	struct diff_walk quiet = { w->lowers, NULL, NULL, w->err };
	bool opaque = false;
	int below = 0;

	if (diff_below(&quiet, dirfd, name, rel, &below, &opaque) < 0)
		return -1;
	if (opaque) {	/* it hides the image's content: changed itself */
		report(w, 'C', rel, count);
		return diff_below(w, dirfd, name, rel, count, NULL);
	}
	if (below == 0)
		return 0;
	report(w, 'C', rel, count);
	return w->fn ? diff_below(w, dirfd, name, rel, count, NULL) : (*count += below, 0);
}

static int diff_entry(const struct diff_walk *w, int dirfd, const char *name,
		      const char *rel, int *count)
{
	struct stat st, lst;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return uc_error_errno(w->err, errno, "diff: stat `%s`", rel);
	if (is_whiteout(&st)) {
		if (in_lowers(w->lowers, rel))
			report(w, 'D', rel, count);
		return 0;
	}
	if (lower_stat(w->lowers, rel, &lst) < 0) {
		if (!made_by_launcher(rel, &st))
			report(w, 'A', rel, count);
		return S_ISDIR(st.st_mode) ? diff_below(w, dirfd, name, rel, count, NULL) : 0;
	}
	if (S_ISDIR(st.st_mode) && S_ISDIR(lst.st_mode) && st.st_mode == lst.st_mode &&
	    st.st_uid == lst.st_uid && st.st_gid == lst.st_gid)
		return diff_copied_dir(w, dirfd, name, rel, count);
	report(w, 'C', rel, count);
	return S_ISDIR(st.st_mode) ? diff_below(w, dirfd, name, rel, count, NULL) : 0;
}

/*
 * Report changes under rel (dirfd), sorted by name.  A running container
 * can rename entries in its upper directory meanwhile: the walk goes by
 * directory fds and follows nothing.
 */
static int diff_dir(const struct diff_walk *w, int dirfd, const char *rel, int *count)
{
	struct dirent **ents = NULL;
	char p[64];
	int n, i, ret = 0;

	fd_path(dirfd, p);
	n = scandir(p, &ents, NULL, alphasort);
	if (n < 0)
		return uc_error_errno(w->err, errno, "diff: read `%s`", *rel ? rel : "/");
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (ret == 0 && strcmp(name, ".") && strcmp(name, "..")) {
			char *r = xasprintf("%s/%s", rel, name);

			ret = diff_entry(w, dirfd, name, r, count);
			free(r);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int layer_diff(const char *upper, char *const *lowers, diff_fn fn, void *data,
	       uc_error_t *err)
{
	struct diff_walk w = { lowers, fn, data, err };
	int count = 0, fd, ret;

	fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return uc_error_errno(err, errno, "diff: open `%s`", upper);
	ret = diff_dir(&w, fd, "", &count);
	close(fd);
	return ret;
}

void layer_strip_init(const char *dir, char *const *lowers)
{
	size_t i;

	for (i = 0; i < sizeof(init_paths) / sizeof(init_paths[0]); i++) {
		char *p = xasprintf("%s%s", dir, init_paths[i]);
		struct stat st;

		if (lstat(p, &st) == 0 && !in_lowers(lowers, init_paths[i]) &&
		    made_by_launcher(init_paths[i], &st)) {
			if (S_ISDIR(st.st_mode))
				rmdir(p);	/* only if empty */
			else
				unlink(p);
		}
		free(p);
	}
}
