// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safepath.h"
#include "utils.h"

bool safepath_force_fallback;

#define MAX_SYMLINKS 40

void fd_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

static int sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	int fd, tries = 0;

	if (safepath_force_fallback) {
		errno = ENOSYS;
		return -1;
	}
	/*
	 * EAGAIN: a rename or mount anywhere raced with a ".." step (the
	 * kernel cannot prove it stayed in the root); try again, as
	 * libpathrs does.  A busy host renames all the time; past the tries
	 * resolve() takes the walk below, which needs no such proof.
	 */
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 16);
	return fd;
}

/*
 * The fallback: walk path one component at a time from rootfd with
 * O_PATH|O_NOFOLLOW, expanding symlinks by hand.  The stack of directory
 * fds lets ".." go up but never above the root.
 */
static int walk_in_root(int rootfd, const char *path)
{
	int stack[PATH_MAX / 2], depth = 0, links = 0, fd, saved;
	char *todo = xstrdup(path), *rest, *comp, *next;
	struct stat st;

	stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (stack[0] < 0) {
		free(todo);
		return -1;
	}
	rest = todo;
	while (rest && *rest) {
		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		comp = rest;
		next = strchr(rest, '/');
		if (next)
			*next++ = '\0';
		rest = next;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(stack[depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		if (fstat(fd, &st) < 0) {
			close(fd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], *joined;
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);

			close(fd);
			if (n < 0 || ++links > MAX_SYMLINKS) {
				errno = n < 0 ? errno : ELOOP;
				goto fail;
			}
			target[n] = '\0';
			if (target[0] == '/') {
				while (depth > 0)
					close(stack[depth--]);
			}
			joined = xasprintf("%s/%s", target, rest ? rest : "");
			free(todo);
			todo = rest = joined;
			continue;
		}
		if (depth + 1 >= (int)(sizeof(stack) / sizeof(stack[0]))) {
			close(fd);
			errno = ENAMETOOLONG;
			goto fail;
		}
		stack[++depth] = fd;
		if (!S_ISDIR(st.st_mode) && rest && *rest) {
			errno = ENOTDIR;
			goto fail;
		}
	}
	free(todo);
	fd = stack[depth];
	while (depth > 0)
		close(stack[--depth]);
	return fd;
fail:
	saved = errno;
	free(todo);
	while (depth >= 0)
		close(stack[depth--]);
	errno = saved;
	return -1;
}

static int resolve(int rootfd, const char *path, int flags)
{
	int fd = sys_openat2(rootfd, path, flags);
	char buf[64];
	int rfd;

	if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != EAGAIN))
		return fd;
	fd = walk_in_root(rootfd, path);
	if (fd < 0 || flags == (O_PATH))
		return fd;
	/* Re-open the resolved O_PATH fd with the wanted flags. */
	fd_path(fd, buf);
	rfd = open(buf, flags | O_CLOEXEC);
	close(fd);
	return rfd;
}

/*
 * Kernels without openat2: one component at a time with O_NOFOLLOW; ".."
 * is refused rather than interpreted.
 */
static int walk_no_symlinks(int dirfd, const char *path, int flags)
{
	char *todo = xstrdup(path), *comp, *save = NULL;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0), next, saved;
	struct stat st;

	if (!*path && fd >= 0) {
		close(fd);
		fd = -1;
		errno = ENOENT;
	}
	for (comp = strtok_r(todo, "/", &save); comp && fd >= 0;
	     comp = strtok_r(NULL, "/", &save)) {
		bool last = !save || !*save || strspn(save, "/") == strlen(save);

		if (!strcmp(comp, ".") && !last)
			continue;
		if (!strcmp(comp, "..")) {
			close(fd);
			fd = -1;
			errno = EXDEV;
			break;
		}
		next = openat(fd, comp, last ? flags | O_NOFOLLOW | O_CLOEXEC :
				  O_PATH | O_NOFOLLOW | O_CLOEXEC);
		saved = errno;
		close(fd);
		fd = next;
		errno = saved;
		/* O_PATH | O_NOFOLLOW opens a symlink itself: refuse it here */
		if (fd >= 0 && (!last || (flags & O_PATH)) &&
		    (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode) ||
		     (!last && !S_ISDIR(st.st_mode)))) {
			saved = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
			close(fd);
			fd = -1;
			errno = saved;
		}
	}
	free(todo);
	return fd;
}

int safe_open_beneath(int dirfd, const char *path, int flags, uc_error_t *err)
{
	struct open_how how = {
		.flags = flags | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd, tries = 0;

	do
		fd = safepath_force_fallback ? (errno = ENOSYS, -1) :
			syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 16);
	if (fd < 0 && errno == ENOSYS)
		fd = walk_no_symlinks(dirfd, path, flags);
	if (fd < 0)
		return uc_error_errno(err, errno, "open `%s`%s", path,
				      errno == ELOOP ? " (a symbolic link on the way)" : "");
	return fd;
}

int safe_resolve(int rootfd, const char *path, uc_error_t *err)
{
	int fd = resolve(rootfd, path, O_PATH);

	if (fd < 0)
		return uc_error_errno(err, errno, "resolve `%s` in the root", path);
	return fd;
}

int safe_open(int rootfd, const char *path, int flags, uc_error_t *err)
{
	int fd = resolve(rootfd, path, flags);

	if (fd < 0)
		return uc_error_errno(err, errno, "open `%s` in the root", path);
	return fd;
}

/*
 * mkdir -p of path (absolute, inside rootfd), one prefix at a time.  A
 * dangling symlink on the way is followed, inside the root, by creating
 * its target (as runc does); depth bounds symlink chains.
 */
static int mkdir_in_root(int rootfd, const char *path, mode_t mode, int depth)
{
	char *prefix, *p, *clean = xstrdup(path);
	int fd = -1, parent, saved;

	if (depth > MAX_SYMLINKS) {
		free(clean);
		errno = ELOOP;
		return -1;
	}
	parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (parent < 0)
		goto fail;
	for (p = clean + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p == clean + 1 || p[-1] == '/') {
			if (*p == '\0')
				break;
			continue;	/* "//" or the root itself */
		}
		prefix = strndup(clean, p - clean);
		fd = resolve(rootfd, prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			char *name = strrchr(prefix, '/') + 1, target[PATH_MAX];
			ssize_t n;

			if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
				free(prefix);
				goto fail;
			}
			/*
			 * By the fd of the parent, not the path again: a
			 * component swapped for a symlink meanwhile (a racing
			 * rename in a shared volume) cannot fail or redirect
			 * the rest of the walk.
			 */
			fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
			saved = errno;
			if (fd < 0 &&
			    (n = readlinkat(parent, name, target, sizeof(target) - 1)) > 0) {
				char *next;

				target[n] = '\0';
				name[-1] = '\0';	/* prefix is now the link's parent */
				next = target[0] == '/' ?
					xasprintf("%s%s", target, p) :
					xasprintf("%s/%s%s", prefix, target, p);
				free(prefix);
				close(parent);
				free(clean);
				fd = mkdir_in_root(rootfd, next, mode, depth + 1);
				free(next);
				return fd;
			}
			errno = saved;
		}
		free(prefix);
		if (fd < 0)
			goto fail;
		close(parent);
		parent = fd;
		fd = -1;
		if (*p == '\0')
			break;
	}
	free(clean);
	return parent;
fail:
	saved = errno;
	if (parent >= 0)
		close(parent);
	free(clean);
	errno = saved;
	return -1;
}

int safe_mkdir_p(int rootfd, const char *path, mode_t mode, uc_error_t *err)
{
	char *abs = xasprintf("/%s", path), *clean = path_clean(abs);
	int fd = mkdir_in_root(rootfd, clean, mode, 0);

	if (fd < 0)
		uc_error_errno(err, errno, "create directory `%s` in the root", path);
	free(abs);
	free(clean);
	return fd;
}

/*
 * A file mount target: resolved inside the root, else created (parents
 * too).  A dangling symlink as the last component is followed inside the
 * root, like one on the way (runc does the same): /etc/hosts -> /host/x
 * makes /host/x in the root, never on the host.
 */
static int file_target(int rootfd, const char *path, int depth, uc_error_t *err)
{
	char *clean, *slash, *parent_path, *name, target[PATH_MAX];
	int parent, fd;
	struct stat st;
	ssize_t n;

	fd = resolve(rootfd, path, O_PATH);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			return uc_error(err, 0,
					"mount target `%s` is a directory, not a file",
					path);
		}
		return fd;
	}
	clean = path_clean(path);
	slash = strrchr(clean, '/');
	parent_path = slash && slash != clean ? strndup(clean, slash - clean) : xstrdup("/");
	name = slash ? slash + 1 : clean;
	parent = safe_mkdir_p(rootfd, parent_path, 0755, err);
	if (parent < 0) {
		free(parent_path);
		free(clean);
		return -1;
	}
	fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
	} else if (errno == EEXIST && depth < MAX_SYMLINKS &&
		   (n = readlinkat(parent, name, target, sizeof(target) - 1)) > 0) {
		char *next;

		target[n] = '\0';
		next = target[0] == '/' ? xstrdup(target) :
			xasprintf("%s/%s", parent_path, target);
		close(parent);
		fd = file_target(rootfd, next, depth + 1, err);
		free(next);
		free(parent_path);
		free(clean);
		return fd;
	}
	close(parent);
	fd = resolve(rootfd, path, O_PATH);
	if (fd < 0)
		uc_error_errno(err, errno, "create mount target `%s` in the root", path);
	free(parent_path);
	free(clean);
	return fd;
}

int safe_mount_target(int rootfd, const char *path, bool dir, uc_error_t *err)
{
	if (dir)
		return safe_mkdir_p(rootfd, path, 0755, err);
	return file_target(rootfd, path, 0, err);
}
