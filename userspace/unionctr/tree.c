// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "safepath.h"
#include "tree.h"
#include "utils.h"

/* The first copy of a multiply-linked inode, to link the others to. */
struct hardlink {
	dev_t dev;
	ino_t ino;
	char *rel;		/* its path in the destination, from the top */
};

struct copy_ctx {
	int dst_top;
	struct hardlink *links;
	size_t n_links;
	char rel[PATH_MAX];	/* the entry being copied, from the top */
	uc_error_t *err;
};

/*
 * An entry on one side of the copy.  Directories and regular files are
 * worked on through an fd of their own; symlinks and device nodes by name
 * in their parent's fd, with calls that do not follow the name
 * (AT_SYMLINK_NOFOLLOW, l*xattr on /proc/self/fd/DIR/NAME).
 */
struct node {
	int fd;			/* -1: by name */
	int dirfd;
	const char *name;
};

static void node_path(const struct node *n, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d/%s", n->dirfd, n->name);
}

static ssize_t node_listxattr(const struct node *n, char *list, size_t size)
{
	char p[PATH_MAX];

	if (n->fd >= 0)
		return flistxattr(n->fd, list, size);
	node_path(n, p, sizeof(p));
	return llistxattr(p, list, size);
}

static ssize_t node_getxattr(const struct node *n, const char *name, void *v,
			     size_t size)
{
	char p[PATH_MAX];

	if (n->fd >= 0)
		return fgetxattr(n->fd, name, v, size);
	node_path(n, p, sizeof(p));
	return lgetxattr(p, name, v, size);
}

static int node_setxattr(const struct node *n, const char *name,
			 const void *v, size_t size)
{
	char p[PATH_MAX];

	if (n->fd >= 0)
		return fsetxattr(n->fd, name, v, size, 0);
	node_path(n, p, sizeof(p));
	return lsetxattr(p, name, v, size, 0);
}

static int copy_error(struct copy_ctx *c, const char *what)
{
	return uc_error_errno(c->err, errno, "copy: %s `%s`", what,
			      *c->rel ? c->rel : ".");
}

/* The names of n's xattrs (NUL-separated, *len bytes), or NULL. */
static char *list_xattrs(const struct node *n, ssize_t *len)
{
	char *list = NULL;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		ssize_t size = node_listxattr(n, NULL, 0);

		if (size <= 0) {
			*len = size;
			break;
		}
		list = xrealloc(list, size);
		*len = node_listxattr(n, list, size);
		if (*len >= 0 || errno != ERANGE)
			break;
	}
	if (*len <= 0) {
		free(list);
		return NULL;
	}
	return list;
}

/* The value of xattr name of n (*len bytes), or NULL. */
static char *get_xattr(const struct node *n, const char *name, ssize_t *len)
{
	char *v = NULL;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		ssize_t size = node_getxattr(n, name, NULL, 0);

		if (size < 0) {
			*len = size;
			break;
		}
		v = xrealloc(v, size ? size : 1);
		*len = node_getxattr(n, name, v, size);
		if (*len >= 0 || errno != ERANGE)
			break;
	}
	if (*len < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static int xattr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct uc_xattr *)a)->name, ((const struct uc_xattr *)b)->name);
}

int xattrs_read(int fd, int dirfd, const char *name, struct uc_xattr **out,
		size_t *count)
{
	struct node n = { fd, dirfd, name };
	ssize_t len;
	char *list = list_xattrs(&n, &len), *p;

	*out = NULL;
	*count = 0;
	if (!list)
		return len < 0 && errno != ENOTSUP && errno != ENODATA ? -1 : 0;
	for (p = list; p < list + len; p += strlen(p) + 1) {
		struct uc_xattr x = { .name = p };

		x.value = get_xattr(&n, p, &x.len);
		if (!x.value)
			continue;	/* gone meanwhile */
		x.name = xstrdup(p);
		*out = xrealloc(*out, (*count + 1) * sizeof(**out));
		(*out)[(*count)++] = x;
	}
	free(list);
	if (*count)
		qsort(*out, *count, sizeof(**out), xattr_cmp);
	return 0;
}

void xattrs_free(struct uc_xattr *v, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

/*
 * Overlay-format metadata: the opaque marker is written under both names so
 * the layer works with unionfs and overlayfs; other private xattrs of either
 * (origin, redirect, impure...) describe one mount's upper dir and are dropped.
 */
static int copy_one_xattr(struct copy_ctx *c, const struct node *dst,
			  const struct uc_xattr *x)
{
	bool opaque = !strcmp(x->name, XATTR_OVERLAY_OPAQUE) ||
		      !strcmp(x->name, XATTR_UNIONFS_OPAQUE);

	if (!opaque && (str_has_prefix(x->name, "trusted.overlay.") ||
			str_has_prefix(x->name, "trusted.unionfs.")))
		return 0;
	if (opaque) {
		if (x->len >= 1 && x->value[0] == 'y' &&
		    (node_setxattr(dst, XATTR_UNIONFS_OPAQUE, "y", 1) < 0 ||
		     node_setxattr(dst, XATTR_OVERLAY_OPAQUE, "y", 1) < 0))
			return copy_error(c, "mark opaque");
	} else if (node_setxattr(dst, x->name, x->value, x->len) < 0 &&
		   errno != ENOTSUP && errno != EPERM) {
		return uc_error_errno(c->err, errno, "copy: setxattr %s `%s`", x->name,
				      *c->rel ? c->rel : ".");
	}
	return 0;
}

static int copy_xattrs(struct copy_ctx *c, const struct node *src,
		       const struct node *dst)
{
	struct uc_xattr *v;
	size_t n, i;
	int ret = 0;

	if (xattrs_read(src->fd, src->dirfd, src->name, &v, &n) < 0)
		return copy_error(c, "listxattr");
	for (i = 0; i < n && ret == 0; i++)
		ret = copy_one_xattr(c, dst, &v[i]);
	xattrs_free(v, n);
	return ret;
}

/* chmod of a name that must not be followed (a device node, a fifo). */
static int chmod_nofollow(int dirfd, const char *name, mode_t mode)
{
	struct stat st;
	char p[64];
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
		close(fd);
		errno = ELOOP;
		return -1;
	}
	fd_path(fd, p);
	ret = chmod(p, mode);
	close(fd);
	return ret;
}

/* Owner, mode (after the owner: chown clears set-id bits), xattrs, times. */
static int copy_meta(struct copy_ctx *c, const struct node *src,
		     const struct node *dst, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	mode_t mode = st->st_mode & 07777;

	if (dst->fd >= 0) {
		if (fchown(dst->fd, st->st_uid, st->st_gid) < 0)
			return copy_error(c, "chown");
		if (fchmod(dst->fd, mode) < 0)
			return copy_error(c, "chmod");
	} else {
		if (fchownat(dst->dirfd, dst->name, st->st_uid, st->st_gid,
			     AT_SYMLINK_NOFOLLOW) < 0)
			return copy_error(c, "chown");
		if (!S_ISLNK(st->st_mode) && chmod_nofollow(dst->dirfd, dst->name, mode) < 0)
			return copy_error(c, "chmod");
	}
	if (copy_xattrs(c, src, dst) < 0)
		return -1;
	if ((dst->fd >= 0 ? futimens(dst->fd, ts) :
	     utimensat(dst->dirfd, dst->name, ts, AT_SYMLINK_NOFOLLOW)) < 0)
		return copy_error(c, "set the times of");
	return 0;
}

static int copy_data(int in, int out, off_t size)
{
	char buf[65536];
	ssize_t r;

	while (size > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, size, 0);

		if (n < 0 && (errno == EXDEV || errno == ENOSYS ||
			      errno == EINVAL || errno == EOPNOTSUPP))
			break;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		size -= n;
	}
	if (size <= 0)
		return 0;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, r) < 0)
			return -1;
	return r < 0 ? -1 : 0;
}

/*
 * A regular file is opened O_PATH first and checked before it is read:
 * a name swapped for a device node (a container may make them) must not
 * open the host's device.
 */
static int open_regular(struct copy_ctx *c, int sdir, const char *name)
{
	struct stat st;
	char p[64];
	int pfd, fd;

	pfd = openat(sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return copy_error(c, "open");
	if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(pfd);
		return uc_error(c->err, 0, "copy: `%s` changed during the copy", c->rel);
	}
	fd_path(pfd, p);
	fd = open(p, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		copy_error(c, "open");
	close(pfd);
	return fd;
}

static int copy_regular(struct copy_ctx *c, int sdir, int ddir, const char *name,
			const struct stat *st)
{
	int in, out, ret = -1;

	in = open_regular(c, sdir, name);
	if (in < 0)
		return -1;
	/* O_EXCL: never through a name that exists, symlink or not. */
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		copy_error(c, "create");
		goto out;
	}
	if (copy_data(in, out, st->st_size) < 0) {
		copy_error(c, "write");
		goto out;
	}
	ret = copy_meta(c, &(struct node){ in, sdir, name },
			&(struct node){ out, ddir, name }, st);
out:
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

static int copy_children(struct copy_ctx *c, int sdir, int ddir);

/*
 * The directory is made, then opened without following: if it was swapped
 * for a symlink in between, the open fails; if for another directory, that
 * one must still be on the destination's filesystem (no mount of anyone's
 * choosing).
 */
static int copy_directory(struct copy_ctx *c, int sdir, int ddir, const char *name,
			  const struct stat *st)
{
	struct stat dst_st, parent_st;
	int in, out = -1, ret = -1;

	in = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return copy_error(c, "open directory");
	if (mkdirat(ddir, name, 0700) < 0) {
		copy_error(c, "mkdir");
		goto out;
	}
	out = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0) {
		copy_error(c, "open new directory");
		goto out;
	}
	if (fstat(out, &dst_st) < 0 || fstat(ddir, &parent_st) < 0 ||
	    dst_st.st_dev != parent_st.st_dev) {
		uc_error(c->err, 0, "copy: `%s` was replaced during the copy", c->rel);
		goto out;
	}
	if (copy_children(c, in, out) < 0)
		goto out;
	/* After the children: their creation changed the times. */
	ret = copy_meta(c, &(struct node){ in, sdir, name },
			&(struct node){ out, ddir, name }, st);
out:
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

static int copy_symlink(struct copy_ctx *c, int sdir, int ddir, const char *name,
			const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return copy_error(c, "readlink");
	target[n] = '\0';
	if (symlinkat(target, ddir, name) < 0)
		return copy_error(c, "symlink");
	return copy_meta(c, &(struct node){ -1, sdir, name },
			 &(struct node){ -1, ddir, name }, st);
}

static int copy_node(struct copy_ctx *c, int sdir, int ddir, const char *name,
		     const struct stat *st)
{
	if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
		return copy_error(c, "mknod");
	return copy_meta(c, &(struct node){ -1, sdir, name },
			 &(struct node){ -1, ddir, name }, st);
}

/* The destination's directory that holds rel, opened without symlinks. */
static int open_parent(struct copy_ctx *c, const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');
	char *dir;
	int fd;

	*base = slash ? slash + 1 : rel;
	if (!slash)
		return fcntl(c->dst_top, F_DUPFD_CLOEXEC, 0);
	dir = strndup(rel, slash - rel);
	fd = safe_open_beneath(c->dst_top, dir, O_PATH | O_DIRECTORY, c->err);
	free(dir);
	return fd;
}

/* A further name of an inode already copied: link it to the first copy. */
static int copy_link(struct copy_ctx *c, int ddir, const char *name,
		     const struct hardlink *first)
{
	const char *base;
	int pfd = open_parent(c, first->rel, &base), ret = 0;

	if (pfd < 0)
		return -1;
	if (linkat(pfd, base, ddir, name, 0) < 0)
		ret = copy_error(c, "link");
	close(pfd);
	return ret;
}

static const struct hardlink *find_link(struct copy_ctx *c, const struct stat *st)
{
	size_t i;

	for (i = 0; i < c->n_links; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return &c->links[i];
	return NULL;
}

static int copy_entry(struct copy_ctx *c, int sdir, int ddir, const char *name)
{
	const struct hardlink *first;
	struct stat st;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_error(c, "stat");
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		first = find_link(c, &st);
		if (first)
			return copy_link(c, ddir, name, first);
	}
	if (S_ISDIR(st.st_mode)) {
		if (copy_directory(c, sdir, ddir, name, &st) < 0)
			return -1;
	} else if (S_ISREG(st.st_mode)) {
		if (copy_regular(c, sdir, ddir, name, &st) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		if (copy_symlink(c, sdir, ddir, name, &st) < 0)
			return -1;
	} else if (copy_node(c, sdir, ddir, name, &st) < 0) {
		return -1;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		c->links = xrealloc(c->links, (c->n_links + 1) * sizeof(*c->links));
		c->links[c->n_links++] = (struct hardlink){ st.st_dev, st.st_ino,
							    xstrdup(c->rel) };
	}
	return 0;
}

static int copy_children(struct copy_ctx *c, int sdir, int ddir)
{
	size_t len = strlen(c->rel);
	struct dirent *de;
	int ret = 0, fd;
	DIR *d;

	fd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return copy_error(c, "read directory");
	}
	while (ret == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len + strlen(de->d_name) + 2 > sizeof(c->rel)) {
			errno = ENAMETOOLONG;
			ret = copy_error(c, "copy below");
			break;
		}
		snprintf(c->rel + len, sizeof(c->rel) - len, "%s%s", len ? "/" : "",
			 de->d_name);
		ret = copy_entry(c, sdir, ddir, de->d_name);
		c->rel[len] = '\0';
	}
	if (ret == 0 && errno)
		ret = copy_error(c, "read directory");
	closedir(d);
	return ret;
}

int tree_copy(int srcfd, int dstfd, uc_error_t *err)
{
	struct copy_ctx c = { .dst_top = dstfd, .err = err };
	struct stat st;
	size_t i;
	int ret;

	if (fstat(srcfd, &st) < 0)
		return uc_error_errno(err, errno, "copy: stat the source");
	ret = copy_children(&c, srcfd, dstfd);
	if (ret == 0)
		ret = copy_meta(&c, &(struct node){ srcfd, -1, "." },
				&(struct node){ dstfd, -1, "." }, &st);
	for (i = 0; i < c.n_links; i++)
		free(c.links[i].rel);
	free(c.links);
	return ret;
}

int copy_dir_contents(const char *src, const char *dst, uc_error_t *err)
{
	int sfd, dfd, ret;

	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return uc_error_errno(err, errno, "open `%s`", src);
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		close(sfd);
		return uc_error_errno(err, errno, "open `%s`", dst);
	}
	ret = tree_copy(sfd, dfd, err);
	close(sfd);
	close(dfd);
	return ret;
}

bool dir_fd_is_empty(int fd)
{
	struct dirent *de;
	bool empty = true;
	int dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;

	if (!d) {
		if (dup >= 0)
			close(dup);
		return true;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}
