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
#include <unistd.h>

#include "archive_dl.h"
#include "layer.h"
#include "safepath.h"
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

int layer_extract(const char *tarball, const char *dir, bool whiteouts,
		  uc_error_t *err)
{
	struct archive *a, *ext;
	struct archive_entry *e;
	struct marker *markers = NULL;
	size_t n_markers = 0, i;
	int cwd = -1, r, ret = -1;

	a = open_tar(tarball, err);
	if (!a)
		return -1;
	ext = archive_write_disk_new();
	archive_write_disk_set_options(ext,
		ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
		ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR |
		ARCHIVE_EXTRACT_ACL |
		ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0) {
		uc_error_errno(err, errno, "chdir `%s`", dir);
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char *name = entry_name(archive_entry_pathname(e));
		const char *base, *link = archive_entry_hardlink(e);
		const void *buf;
		size_t size;
		int64_t off;

		if (!name) {
			uc_error(err, 0, "archive `%s`: unsafe entry `%s`", tarball,
				 archive_entry_pathname(e));
			goto out;
		}
		if (!strcmp(name, ".")) {
			free(name);
			continue;
		}
		base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		if (whiteouts && str_has_prefix(base, WH_PREFIX)) {
			struct marker *m;

			markers = xrealloc(markers, (n_markers + 1) * sizeof(*markers));
			m = &markers[n_markers++];
			m->dir = base == name ? xstrdup(".") : strndup(name, base - name - 1);
			m->name = strcmp(base, WH_OPAQUE) ? xstrdup(base + strlen(WH_PREFIX)) : NULL;
			free(name);
			continue;
		}
		if (name_too_long(name)) {
			uc_error(err, 0, "archive `%s`: entry `%.64s...`: file name too long "
				 "(%zu bytes; a component over %d or the whole over %d)",
				 tarball, name, strlen(name), NAME_MAX, PATH_MAX - 1);
			free(name);
			goto out;
		}
		if (is_device(e)) {
			uc_error(err, 0, "archive `%s`: device node `%s` (%s %u:%u): "
				 "images may not carry devices", tarball, name,
				 archive_entry_filetype(e) == AE_IFBLK ? "block" : "char",
				 (unsigned int)archive_entry_rdevmajor(e),
				 (unsigned int)archive_entry_rdevminor(e));
			free(name);
			goto out;
		}
		archive_entry_set_pathname(e, name);
		free(name);
		if (link) {
			char *l = entry_name(link);

			if (!l) {
				uc_error(err, 0, "archive `%s`: hard link `%s` leaves the layer",
					 tarball, link);
				goto out;
			}
			archive_entry_set_hardlink(e, l);
			free(l);
		}
		if (archive_write_header(ext, e) != ARCHIVE_OK) {
			uc_error(err, 0, "archive `%s`: %s", tarball,
				 archive_error_string(ext));
			goto out;
		}
		if (archive_entry_size(e) > 0) {
			while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
				if (archive_write_data_block(ext, buf, size, off) != ARCHIVE_OK) {
					uc_error(err, 0, "archive `%s`: %s", tarball,
						 archive_error_string(ext));
					goto out;
				}
			}
			if (r != ARCHIVE_EOF) {
				uc_error(err, 0, "archive `%s`: %s", tarball,
					 archive_error_string(a));
				goto out;
			}
		}
		if (archive_write_finish_entry(ext) != ARCHIVE_OK) {
			uc_error(err, 0, "archive `%s`: %s", tarball,
				 archive_error_string(ext));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		uc_error(err, 0, "read archive `%s`: %s", tarball,
			 archive_error_string(a));
		goto out;
	}
	if (archive_write_close(ext) != ARCHIVE_OK) {
		uc_error(err, 0, "archive `%s`: %s", tarball, archive_error_string(ext));
		goto out;
	}
	if (fchdir(cwd) < 0) {
		uc_error_errno(err, errno, "chdir back");
		goto out;
	}
	ret = apply_markers(dir, markers, n_markers, err);
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			ret = -1;
		close(cwd);
	}
	for (i = 0; i < n_markers; i++) {
		free(markers[i].dir);
		free(markers[i].name);
	}
	free(markers);
	archive_write_free(ext);
	archive_read_free(a);
	return ret;
}

/* ---- digest ------------------------------------------------------------- */

static int digest_dir(struct uc_sha256 *h, const char *root, const char *rel,
		      uc_error_t *err)
{
	struct dirent **ents = NULL;
	char *dir = xasprintf("%s%s", root, rel);
	int n, i, ret = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		uc_error_errno(err, errno, "scandir `%s`", dir);
		free(dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *r, *full, hdr[256];
		struct stat st;

		if (ret < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
			goto next;
		r = xasprintf("%s/%s", rel, name);
		full = xasprintf("%s%s", root, r);
		if (lstat(full, &st) < 0) {
			ret = uc_error_errno(err, errno, "stat `%s`", full);
		} else {
			sha256_update(h, r, strlen(r) + 1);
			snprintf(hdr, sizeof(hdr), "%o %u %u %lld %llx", st.st_mode,
				 st.st_uid, st.st_gid, (long long)st.st_size,
				 (unsigned long long)st.st_rdev);
			sha256_update(h, hdr, strlen(hdr) + 1);
			if (S_ISREG(st.st_mode)) {
				char d[65];

				ret = sha256_file(full, d, err);
				sha256_update(h, d, 64);
			} else if (S_ISLNK(st.st_mode)) {
				char t[PATH_MAX];
				ssize_t l = readlink(full, t, sizeof(t));

				if (l > 0)
					sha256_update(h, t, l);
			} else if (S_ISDIR(st.st_mode)) {
				if (is_opaque(full))
					sha256_update(h, "opaque", 6);
				ret = digest_dir(h, root, r, err);
			}
		}
		free(r);
		free(full);
next:
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return ret;
}

int tree_digest(const char *dir, char out[65], uc_error_t *err)
{
	struct uc_sha256 *h = sha256_new();
	int ret = digest_dir(h, dir, "", err);

	sha256_final(h, out);
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

/* Report changes under rel; with fn NULL only count them. */
static int diff_dir(const char *upper, const char *rel, char *const *lowers,
		    diff_fn fn, void *data, int *count, uc_error_t *err)
{
	struct dirent **ents = NULL;
	char *dir = xasprintf("%s%s", upper, rel);
	int n, i, ret = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		uc_error_errno(err, errno, "scandir `%s`", dir);
		free(dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		struct stat st, lst;
		char *r, *full;

		if (ret < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
			goto next;
		r = xasprintf("%s/%s", rel, name);
		full = xasprintf("%s%s", upper, r);
		if (lstat(full, &st) < 0) {
			ret = uc_error_errno(err, errno, "stat `%s`", full);
		} else if (is_whiteout(&st)) {
			if (in_lowers(lowers, r)) {
				(*count)++;
				if (fn)
					fn('D', r, data);
			}
		} else if (lower_stat(lowers, r, &lst) < 0) {
			if (!made_by_launcher(r, &st)) {
				(*count)++;
				if (fn)
					fn('A', r, data);
			}
			if (S_ISDIR(st.st_mode))
				ret = diff_dir(upper, r, lowers, fn, data, count, err);
		} else if (S_ISDIR(st.st_mode) && S_ISDIR(lst.st_mode) &&
			   st.st_mode == lst.st_mode && st.st_uid == lst.st_uid &&
			   st.st_gid == lst.st_gid && !is_opaque(full)) {
			/* A directory copied up on the way to a change below it:
			 * "C" only if something below is reported. */
			int below = 0;

			ret = diff_dir(upper, r, lowers, NULL, NULL, &below, err);
			if (ret == 0 && below > 0) {
				(*count)++;
				if (fn) {
					fn('C', r, data);
					ret = diff_dir(upper, r, lowers, fn, data, count, err);
				} else {
					*count += below;
				}
			}
		} else {
			(*count)++;
			if (fn)
				fn('C', r, data);
			if (S_ISDIR(st.st_mode))
				ret = diff_dir(upper, r, lowers, fn, data, count, err);
		}
		free(r);
		free(full);
next:
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return ret;
}

int layer_diff(const char *upper, char *const *lowers, diff_fn fn, void *data,
	       uc_error_t *err)
{
	int count = 0;

	return diff_dir(upper, "", lowers, fn, data, &count, err);
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
