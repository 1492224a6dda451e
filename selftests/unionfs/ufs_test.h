/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the unionfs selftests: scratch directories, building
 * layers (files, whiteouts, opaque dirs), mounting, and a fingerprint of a
 * layer tree so every test can assert that lower layers never change.
 *
 * Layers live under $UNIONFS_SCRATCH (default /tmp), so the same test runs
 * on tmpfs, ext4, xfs or btrfs depending on where that points.
 */
#ifndef UFS_TEST_H
#define UFS_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>

#define UFS_MAGIC 0x756e696f

/* Per-test timeout: TCG, KASAN and a loaded host make 30 s too short. */
#define UFS_TEST_TIMEOUT 600

/*
 * Tests of known module bugs are pending: they skip, saying why, unless
 * UNIONFS_PENDING=1 (selftests/unionfs/pending lists them with their bug).
 */
#define PENDING(why) do {						\
	const char *_p = getenv("UNIONFS_PENDING");			\
	if (!_p || strcmp(_p, "1"))					\
		SKIP(return, "pending, module bug: %s", why);		\
} while (0)

static inline const char *ufs_scratch(void)
{
	const char *s = getenv("UNIONFS_SCRATCH");

	return s && *s ? s : "/tmp";
}

/* True where big tests run at full size: tmpfs on a production kernel. */
static inline int ufs_heavy(void)
{
	const char *fs = getenv("UNIONFS_FS");
	const char *dbg = getenv("UNIONFS_DEBUG_KERNEL");

	return (!fs || !strcmp(fs, "tmpfs")) && !(dbg && *dbg == '1');
}

/* Make a fresh directory under the scratch area; returns a static-free copy. */
static inline char *ufs_mkdtemp(const char *tag)
{
	char *p;

	if (asprintf(&p, "%s/ufs-%s-XXXXXX", ufs_scratch(), tag) < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static inline char *ufs_path(const char *dir, const char *fmt, ...)
{
	char *rel, *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	va_end(ap);
	if (!rel || asprintf(&p, "%s/%s", dir, rel) < 0)
		p = NULL;
	free(rel);
	return p;
}

/* mkdir -p of a path */
static inline int ufs_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -1;
	return 0;
}

/* Write @content to DIR/REL, creating parent directories. */
static inline int ufs_put(const char *dir, const char *rel, const char *content)
{
	char path[PATH_MAX], parent[PATH_MAX];
	char *slash;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	if (ufs_mkdirs(parent, 0755))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	n = write(fd, content, strlen(content));
	close(fd);
	return n == (ssize_t)strlen(content) ? 0 : -1;
}

static inline int ufs_mkdir_in(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return ufs_mkdirs(path, 0755);
}

/* A whiteout: character device 0/0. */
static inline int ufs_whiteout(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return mknod(path, S_IFCHR | 0000, makedev(0, 0));
}

static inline int ufs_set_opaque(const char *dir, const char *rel,
				 const char *xattr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return setxattr(path, xattr ? xattr : "trusted.unionfs.opaque", "y", 1, 0);
}

/* Read DIR/REL into a static buffer (NULL on error). */
static inline const char *ufs_get(const char *dir, const char *rel)
{
	static char buf[65536];
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static inline int ufs_exists(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

/* The number of entries of @dir but "." and "..", or -1. */
static inline int ufs_count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static inline int ufs_errno_of_lstat(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) ? errno : 0;
}

/*
 * What the backing filesystem (the scratch area) can do, asked of it
 * directly: a test skips only when the filesystem below cannot do what it
 * tests, never because the union failed at it (then it asserts and fails).
 */
/* 1 when a regular file on the backing fs takes xattr @name, else 0 (errno set). */
static inline int ufs_backing_takes_xattr(const char *name)
{
	char *d = ufs_mkdtemp("probe"), *f = NULL;
	int ok = 0, err = 0;

	if (!d)
		return 0;
	f = ufs_path(d, "f");
	if (!f || ufs_put(d, "f", "x"))
		err = errno;
	else if (setxattr(f, name, "1", 1, 0))
		err = errno;
	else
		ok = 1;
	if (f)
		unlink(f);
	rmdir(d);
	free(f);
	free(d);
	errno = err;
	return ok;
}

/* 0 only when the backing fs refuses O_TMPFILE as unsupported (EOPNOTSUPP). */
static inline int ufs_backing_has_tmpfile(void)
{
	int fd = open(ufs_scratch(), O_TMPFILE | O_RDWR, 0600);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno != EOPNOTSUPP;
}

static inline int ufs_mount(const char *mnt, const char *opts)
{
	return mount("none", mnt, "unionfs", 0, opts);
}

static inline int ufs_mount_flags(const char *mnt, unsigned long flags,
				  const char *opts)
{
	return mount("none", mnt, "unionfs", flags, opts);
}

/* --- new mount API (glibc 2.36 has no wrappers for all of it) --- */
#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_FLAG	0
#define FSCONFIG_SET_STRING	1
#define FSCONFIG_CMD_CREATE	6
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH	0x00000004
#endif

static inline int ufs_fsopen(const char *name)
{
	return syscall(SYS_fsopen, name, 1 /* FSOPEN_CLOEXEC */);
}

static inline int ufs_fsconfig(int fd, unsigned int cmd, const char *key,
			       const void *value, int aux)
{
	return syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int ufs_fsmount_at(int fsfd, const char *mnt)
{
	int mfd = syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */, 0);
	int ret;

	if (mfd < 0)
		return -1;
	ret = syscall(SYS_move_mount, mfd, "", AT_FDCWD, mnt,
		      MOVE_MOUNT_F_EMPTY_PATH);
	close(mfd);
	return ret;
}

/* Read every message queued on an fs_context fd into @buf. */
static inline void ufs_fslog(int fsfd, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;

	buf[0] = '\0';
	while (off + 1 < size) {
		n = read(fsfd, buf + off, size - off - 1);
		if (n <= 0)
			break;
		off += n;
		buf[off++] = '\n';
	}
	buf[off < size ? off : size - 1] = '\0';
}

/* --- cleanup --- */
static int ufs_rm_cb(const char *p, const struct stat *st, int flag,
		     struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static inline void ufs_rm_rf(const char *path)
{
	if (path)
		nftw(path, ufs_rm_cb, 64, FTW_DEPTH | FTW_PHYS);
}

/*
 * --- fingerprint of a tree: names, types, modes, owners, link counts, inode
 * numbers, sizes, times, contents, xattrs; a file that cannot be read counts
 * by its errno, so that it never drops out unseen ---
 */
static uint64_t ufs_fp_acc;

static inline void ufs_fp_mix(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		ufs_fp_acc ^= p[i];
		ufs_fp_acc *= 0x100000001b3ULL;	/* FNV-1a */
	}
}

static int ufs_fp_cb(const char *p, const struct stat *st, int flag,
		     struct FTW *f)
{
	char buf[8192], names[8192];
	ssize_t n, len;
	int fd;

	(void)f;
	ufs_fp_mix(p, strlen(p));
	ufs_fp_mix(&st->st_mode, sizeof(st->st_mode));
	ufs_fp_mix(&st->st_uid, sizeof(st->st_uid));
	ufs_fp_mix(&st->st_gid, sizeof(st->st_gid));
	ufs_fp_mix(&st->st_ino, sizeof(st->st_ino));
	ufs_fp_mix(&st->st_rdev, sizeof(st->st_rdev));
	ufs_fp_mix(&st->st_mtim, sizeof(st->st_mtim));
	if (!S_ISDIR(st->st_mode)) {
		/* (a directory's link count follows its subdirectories: named anyway) */
		ufs_fp_mix(&st->st_nlink, sizeof(st->st_nlink));
		ufs_fp_mix(&st->st_size, sizeof(st->st_size));
	}
	if (flag == FTW_NS || flag == FTW_DNR)
		ufs_fp_mix(&flag, sizeof(flag));
	if (S_ISREG(st->st_mode)) {
		int err = 0;

		fd = open(p, O_RDONLY | O_NOATIME);
		if (fd < 0 && errno == EPERM)
			fd = open(p, O_RDONLY);
		if (fd >= 0) {
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				ufs_fp_mix(buf, n);
			if (n < 0)
				err = errno;
			close(fd);
		} else {
			err = errno;
		}
		ufs_fp_mix(&err, sizeof(err));
	} else if (S_ISLNK(st->st_mode)) {
		n = readlink(p, buf, sizeof(buf));
		if (n > 0)
			ufs_fp_mix(buf, n);
	}
	len = llistxattr(p, names, sizeof(names));
	for (n = 0; len > 0 && n < len; n += strlen(names + n) + 1) {
		ssize_t v = lgetxattr(p, names + n, buf, sizeof(buf));

		ufs_fp_mix(names + n, strlen(names + n));
		if (v > 0)
			ufs_fp_mix(buf, v);
	}
	return 0;
}

static inline uint64_t ufs_fingerprint(const char *dir)
{
	ufs_fp_acc = 0xcbf29ce484222325ULL;
	nftw(dir, ufs_fp_cb, 64, FTW_PHYS);
	return ufs_fp_acc;
}


/* --- a standard scratch stack: lower0 (top) .. lowerN-1, upper, work, mnt --- */
#define UFS_MAX_ENV_LOWERS 8

struct ufs_env {
	char *base;
	char *lower[UFS_MAX_ENV_LOWERS];
	int nr_lowers;
	char *upper;
	char *work;
	char *mnt;
	uint64_t fp[UFS_MAX_ENV_LOWERS];
	int fp_taken;	/* fp[] holds the lowers as ufs_env_mount found them */
	int mounted;
};

static inline int ufs_env_init(struct ufs_env *e, int nr_lowers)
{
	int i;

	memset(e, 0, sizeof(*e));
	e->base = ufs_mkdtemp("t");
	if (!e->base)
		return -1;
	e->nr_lowers = nr_lowers;
	for (i = 0; i < nr_lowers; i++) {
		e->lower[i] = ufs_path(e->base, "lower%d", i);
		if (mkdir(e->lower[i], 0755))
			return -1;
	}
	e->upper = ufs_path(e->base, "upper");
	e->work = ufs_path(e->base, "work");
	e->mnt = ufs_path(e->base, "mnt");
	if (mkdir(e->upper, 0755) || mkdir(e->work, 0755) || mkdir(e->mnt, 0755))
		return -1;
	return 0;
}

/* Mount the lowers (and the upper when @with_upper); remember fingerprints. */
static inline int ufs_env_mount(struct ufs_env *e, int with_upper,
				unsigned long flags)
{
	char opts[4096];
	int i, n;

	n = snprintf(opts, sizeof(opts), "lowerdir=");
	for (i = 0; i < e->nr_lowers; i++)
		n += snprintf(opts + n, sizeof(opts) - n, "%s%s",
			      i ? ":" : "", e->lower[i]);
	if (with_upper)
		snprintf(opts + n, sizeof(opts) - n, ",upperdir=%s,workdir=%s",
			 e->upper, e->work);
	for (i = 0; i < e->nr_lowers; i++)
		e->fp[i] = ufs_fingerprint(e->lower[i]);
	e->fp_taken = 1;
	if (ufs_mount_flags(e->mnt, flags, opts))
		return -1;
	e->mounted = 1;
	return 0;
}

/*
 * Index of the first lower layer that changed since the last
 * ufs_env_mount took its fingerprint, or -1 (also when none was taken).
 */
static inline int ufs_env_lower_changed(struct ufs_env *e)
{
	int i;

	for (i = 0; e->fp_taken && i < e->nr_lowers; i++)
		if (ufs_fingerprint(e->lower[i]) != e->fp[i])
			return i;
	return -1;
}

static inline void ufs_env_fini(struct ufs_env *e)
{
	int i;

	if (e->mounted)
		umount2(e->mnt, MNT_DETACH);
	ufs_rm_rf(e->base);
	for (i = 0; i < e->nr_lowers; i++)
		free(e->lower[i]);
	free(e->upper);
	free(e->work);
	free(e->mnt);
	free(e->base);
}

/*
 * --- per-mount counters: /sys/fs/unionfs/<id>/, found by the union's device
 * number (the "dev" attribute, "MAJ:MIN"). @path is the union's mount point
 * or the upper directory of a mounted union (looked up in mountinfo).
 */
static inline int ufs_union_dev(const char *path, unsigned int *maj,
				unsigned int *min)
{
	char line[16384], want[PATH_MAX + 16], *sep;
	struct statfs sfs;
	struct stat st;
	FILE *f;
	int found = -1;

	if (!statfs(path, &sfs) && sfs.f_type == UFS_MAGIC && !stat(path, &st)) {
		*maj = major(st.st_dev);
		*min = minor(st.st_dev);
		return 0;
	}
	snprintf(want, sizeof(want), "upperdir=%s,", path);
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - unionfs ");
		if (!sep || !strstr(sep, want))
			continue;
		if (sscanf(line, "%*s %*s %u:%u", maj, min) == 2)
			found = 0;
	}
	fclose(f);
	return found;
}

static inline long long ufs_counter(const char *path, const char *name)
{
	char file[PATH_MAX], buf[64], want[32];
	unsigned int maj, min;
	struct dirent *de;
	long long val = -1;
	DIR *d;
	FILE *f;

	if (ufs_union_dev(path, &maj, &min))
		return -1;
	snprintf(want, sizeof(want), "%u:%u\n", maj, min);
	d = opendir("/sys/fs/unionfs");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "/sys/fs/unionfs/%s/dev", de->d_name);
		f = fopen(file, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (strcmp(buf, want))
			continue;
		snprintf(file, sizeof(file), "/sys/fs/unionfs/%s/%s", de->d_name, name);
		f = fopen(file, "r");
		if (f) {
			if (fscanf(f, "%lld", &val) != 1)
				val = -1;
			fclose(f);
		}
		break;
	}
	if (d)
		closedir(d);
	return val;
}

#endif /* UFS_TEST_H */
