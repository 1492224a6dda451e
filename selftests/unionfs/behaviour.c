// SPDX-License-Identifier: GPL-2.0-only
/*
 * Behaviour that had no test: locks held across a copy-up, inotify and
 * fanotify events seen through the union, file handles, ENOSPC during a
 * partial copy-up and a metacopy fill, files with more chunks than a map
 * holds, a frozen upper, an upper remounted read-only under a live union,
 * and two unions over one lower layer. Where "right" is defined by
 * something else, the test runs the same steps there too (the bare
 * filesystem, or overlayfs) and compares.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200
#endif

static int fill(const char *path, off_t size, char c)
{
	char buf[65536];
	off_t off;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	memset(buf, c, sizeof(buf));
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < (off_t)sizeof(buf) ? size - off : sizeof(buf);

		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			close(fd);
			return -1;
		}
	}
	return close(fd);
}

static int drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	sync();
	ret = write(fd, "2", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

static int run_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 97;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

/* An overlayfs mount of @lower at @mnt (the oracle); 0 or -1. */
static int ovl_mount(const char *base, const char *lower, const char *mnt)
{
	char opts[3 * PATH_MAX], *up = ufs_path(base, "oup"), *wk = ufs_path(base, "owk");
	int ret;

	mkdir(up, 0755);
	mkdir(wk, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, up, wk);
	ret = mount("overlay", mnt, "overlay", 0, opts);
	free(up);
	free(wk);
	return ret;
}

FIXTURE(bh) {
	struct ufs_env e;
};

FIXTURE_SETUP(bh)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 1));
	ASSERT_EQ(0, chmod(self->e.base, 0755));
}

FIXTURE_TEARDOWN(bh)
{
	if (self->e.mounted)
		EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

/* --- a) locks held across a copy-up --- */

enum { LK_FLOCK, LK_POSIX, LK_OFD };
static const char *const lk_name[] = { "flock", "posix", "ofd" };

static int lock_fd(int fd, int kind, int excl)
{
	struct flock fl = { .l_type = excl ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET };

	switch (kind) {
	case LK_FLOCK:
		return flock(fd, (excl ? LOCK_EX : LOCK_SH) | LOCK_NB);
	case LK_POSIX:
		return fcntl(fd, F_SETLK, &fl);
	default:
		return fcntl(fd, F_OFD_SETLK, &fl);
	}
}

struct lk_try {
	const char *path;
	int kind;
};

/* A second opener asks for an exclusive lock: 0 conflict, 1 granted. */
static int try_excl(void *arg)
{
	struct lk_try *t = arg;
	int fd = open(t->path, O_RDWR);

	if (fd < 0)
		return 10;
	if (!lock_fd(fd, t->kind, 1))
		return 1;
	return errno == EAGAIN || errno == EACCES || errno == EWOULDBLOCK ? 0 : 11;
}

enum { CU_WRITE, CU_CHMOD, CU_BIG_WRITE };
static const char *const cu_name[] = { "write", "chmod", "chunk-write" };

struct cu_arg {
	const char *path;
	int how;
};

static int copy_up_now(void *arg)
{
	struct cu_arg *c = arg;
	int fd;

	if (c->how == CU_CHMOD)
		return chmod(c->path, 0640) ? 1 : 0;
	fd = open(c->path, O_WRONLY);
	if (fd < 0)
		return 2;
	if (pwrite(fd, "W", 1, c->how == CU_BIG_WRITE ? 200000 : 1) != 1)
		return 3;
	return close(fd) ? 4 : 0;
}

/*
 * Under @mnt, file @name (a lower file) is locked shared through a read-only
 * fd, then copied up by another process; a third process must still be
 * refused an exclusive lock, and get it once the holder lets go. Returns a
 * code: 0 as expected, else which step differed.
 */
static int lock_across_copy_up(const char *mnt, const char *name, int kind, int how)
{
	char *path = ufs_path(mnt, "%s", name);
	struct lk_try t = { path, kind };
	struct cu_arg c = { path, how };
	int fd, ret = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0 || lock_fd(fd, kind, 0)) {
		ret = 1;
		goto out;
	}
	if (run_child(copy_up_now, &c)) {
		ret = 2;
		goto out;
	}
	if (run_child(try_excl, &t) != 0) {
		ret = 3;	/* the lock no longer conflicts */
		goto out;
	}
	close(fd);
	fd = -1;
	if (run_child(try_excl, &t) != 1)
		ret = 4;	/* not granted once released */
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

static void lock_layer(const char *lower)
{
	char name[PATH_MAX];
	int i;

	for (i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "%s/f%d", lower, i);
		fill(name, i % 3 == CU_BIG_WRITE ? 1 << 20 : 4096, 'l');
	}
}

TEST_F_TIMEOUT(bh, locks_conflict_after_copy_up_as_on_overlayfs, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *olow = ufs_path(e->base, "olower"), *omnt = ufs_path(e->base, "omnt");
	char name[32];
	int kind, how, u, o, bad = 0;

	lock_layer(e->lower[0]);
	ASSERT_EQ(0, mkdir(olow, 0755));
	ASSERT_EQ(0, mkdir(omnt, 0755));
	lock_layer(olow);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, ovl_mount(e->base, olow, omnt)) TH_LOG("overlay: %s", strerror(errno));
	for (kind = LK_FLOCK; kind <= LK_OFD; kind++) {
		for (how = CU_WRITE; how <= CU_BIG_WRITE; how++) {
			snprintf(name, sizeof(name), "f%d", kind * 3 + how);
			u = lock_across_copy_up(e->mnt, name, kind, how);
			o = lock_across_copy_up(omnt, name, kind, how);
			fprintf(stderr, "# %s lock, copy-up by %s: unionfs %d overlayfs %d\n",
			       lk_name[kind], cu_name[how], u, o);
			EXPECT_TRUE(ufs_exists(e->upper, name));
			bad |= u || o;
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, umount(omnt));
	free(olow);
	free(omnt);
}

/* --- b) inotify and fanotify through the union --- */

/* Drain @ifd into "EVENT:name;" text (the queue is filled synchronously). */
static void inotify_text(int ifd, int dwd, char *out, size_t size)
{
	char buf[8192] __attribute__((aligned(8)));
	static const struct { uint32_t m; const char *n; } names[] = {
		{ IN_CREATE, "CREATE" }, { IN_DELETE, "DELETE" },
		{ IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
		{ IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_MOVED_FROM, "MOVED_FROM" },
		{ IN_MOVED_TO, "MOVED_TO" }, { IN_MOVE_SELF, "MOVE_SELF" },
		{ IN_DELETE_SELF, "DELETE_SELF" }, { IN_IGNORED, "IGNORED" },
	};
	size_t off = 0;
	ssize_t n;
	char *p;
	int i;

	out[0] = '\0';
	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; ) {
			struct inotify_event *ev = (void *)p;

			for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
				if (ev->mask & names[i].m)
					off += snprintf(out + off, size - off, "%s%s:%s%s;",
							ev->wd == dwd ? "" : "f.",
							names[i].n, ev->len ? ev->name : "",
							ev->mask & IN_ISDIR ? "/" : "");
			p += sizeof(*ev) + ev->len;
		}
	}
}

/*
 * The same operations under @dir (whose d/ holds lowerfile and upperfile):
 * create, write, chmod, rename and delete, with a watch on d/ and one on
 * d/lowerfile. Events as text in @out.
 */
static int inotify_script(const char *dir, char *out, size_t size)
{
	char *d = ufs_path(dir, "d"), *lf = ufs_path(dir, "d/lowerfile");
	char *uf = ufs_path(dir, "d/upperfile"), *nf = ufs_path(dir, "d/new");
	char *r1 = ufs_path(dir, "d/renamed"), *r2 = ufs_path(dir, "d/renamed2");
	char *sub = ufs_path(dir, "d/sub");
	int ifd, dwd, fd, ret = -1;

	ifd = inotify_init1(IN_NONBLOCK);
	if (ifd < 0)
		goto out;
	dwd = inotify_add_watch(ifd, d, IN_ALL_EVENTS & ~(IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE));
	if (dwd < 0 || inotify_add_watch(ifd, lf, IN_ALL_EVENTS &
					 ~(IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE)) < 0)
		goto out;
	fd = open(nf, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, "n", 1) != 1 || close(fd))
		goto out;
	if (chmod(lf, 0600))
		goto out;
	fd = open(lf, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "L", 1) != 1 || close(fd))
		goto out;
	fd = open(uf, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "U", 1) != 1 || close(fd))
		goto out;
	if (truncate(uf, 1) || mkdir(sub, 0755) || rmdir(sub))
		goto out;
	if (rename(lf, r1) || rename(uf, r2) || rename(nf, lf))
		goto out;
	if (unlink(r1) || unlink(r2) || unlink(lf))
		goto out;
	inotify_text(ifd, dwd, out, size);
	ret = 0;
out:
	if (ifd >= 0)
		close(ifd);
	free(d); free(lf); free(uf); free(nf); free(r1); free(r2); free(sub);
	return ret;
}

TEST_F_TIMEOUT(bh, inotify_events_as_on_the_bare_fs, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *bare = ufs_path(e->base, "bare");
	static char want[8192], got[8192];

	ASSERT_EQ(0, ufs_put(e->lower[0], "d/lowerfile", "lower"));
	ASSERT_EQ(0, ufs_put(e->upper, "d/upperfile", "upper"));
	ASSERT_EQ(0, ufs_put(bare, "d/lowerfile", "lower"));
	ASSERT_EQ(0, ufs_put(bare, "d/upperfile", "upper"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, inotify_script(bare, want, sizeof(want)));
	ASSERT_EQ(0, inotify_script(e->mnt, got, sizeof(got)));
	fprintf(stderr, "# bare:  %s\n# union: %s\n", want, got);
	ASSERT_NE(NULL, strstr(want, "f.DELETE_SELF"));	/* the script works */
	EXPECT_STREQ(want, got);
	EXPECT_FALSE(ufs_exists(e->mnt, "d/lowerfile"));
	free(bare);
}

/* Mount-wide fanotify: each event names the union path and the right mask. */
TEST_F_TIMEOUT(bh, fanotify_mount_mark_sees_union_paths, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char buf[8192] __attribute__((aligned(8))), link[64], target[PATH_MAX];
	char *lf, *uf, *nf;
	unsigned int seen_l = 0, seen_u = 0, seen_n = 0, other = 0;
	ssize_t n, len;
	char *p;
	int fan, fd;

	ASSERT_EQ(0, ufs_put(e->lower[0], "d/lowerfile", "lower"));
	ASSERT_EQ(0, ufs_put(e->upper, "d/upperfile", "upper"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	lf = ufs_path(e->mnt, "d/lowerfile");
	uf = ufs_path(e->mnt, "d/upperfile");
	nf = ufs_path(e->mnt, "d/new");
	fan = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	ASSERT_LE(0, fan);
	ASSERT_EQ(0, fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT,
				   FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, e->mnt));
	fd = open(lf, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "L", 1));
	ASSERT_EQ(0, close(fd));
	fd = open(uf, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "U", 1));
	ASSERT_EQ(0, close(fd));
	fd = open(nf, O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "N", 1));
	ASSERT_EQ(0, close(fd));
	while ((n = read(fan, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; ) {
			struct fanotify_event_metadata *m = (void *)p;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
			len = m->fd >= 0 ? readlink(link, target, sizeof(target) - 1) : -1;
			target[len > 0 ? len : 0] = '\0';
			if (!strcmp(target, lf))
				seen_l |= m->mask;
			else if (!strcmp(target, uf))
				seen_u |= m->mask;
			else if (!strcmp(target, nf))
				seen_n |= m->mask;
			else
				other++, fprintf(stderr, "# unexpected event %llx on '%s'\n",
						(unsigned long long)m->mask, target);
			if (m->fd >= 0)
				close(m->fd);
			p += m->event_len;
		}
	}
	close(fan);
	EXPECT_EQ(FAN_MODIFY | FAN_CLOSE_WRITE, seen_l);
	EXPECT_EQ(FAN_MODIFY | FAN_CLOSE_WRITE, seen_u);
	EXPECT_EQ(FAN_MODIFY | FAN_CLOSE_WRITE, seen_n);
	EXPECT_EQ(0, other);
	free(lf); free(uf); free(nf);
}

/* --- c) file handles --- */

static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &a, &b);
	return a > maj || (a == maj && b >= min);
}

static int get_handle(const char *path, int flags, struct file_handle *fh)
{
	int mid;

	fh->handle_bytes = MAX_HANDLE_SZ;
	return name_to_handle_at(AT_FDCWD, path, fh, &mid, flags);
}

TEST_F_TIMEOUT(bh, file_handles_are_eopnotsupp_fids_stable, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char hb[sizeof(struct file_handle) + MAX_HANDLE_SZ], hb2[sizeof(hb)];
	struct file_handle *fh = (void *)hb, *fh2 = (void *)hb2;
	static const char *const names[] = { "", "d", "d/lowerfile", "d/upperfile" };
	char *path, *upath;
	int i, root;

	ASSERT_EQ(0, ufs_put(e->lower[0], "d/lowerfile", "lower"));
	ASSERT_EQ(0, ufs_put(e->upper, "d/upperfile", "upper"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	for (i = 0; i < 4; i++) {
		path = ufs_path(e->mnt, "%s", names[i]);
		EXPECT_EQ(-1, get_handle(path, 0, fh));
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("%s", names[i]);
		free(path);
	}
	/* A handle of the real upper file does not open through the union. */
	upath = ufs_path(e->upper, "d/upperfile");
	ASSERT_EQ(0, get_handle(upath, 0, fh));
	root = open(e->mnt, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, root);
	EXPECT_EQ(-1, open_by_handle_at(root, fh, O_RDONLY));
	EXPECT_EQ(ESTALE, errno);
	close(root);
	free(upath);

	/* AT_HANDLE_FID (6.5+, fanotify's FID mode): stable across copy-up. */
	path = ufs_path(e->mnt, "d/lowerfile");
	if (!kernel_at_least(6, 5)) {
		EXPECT_EQ(-1, get_handle(path, AT_HANDLE_FID, fh));
		EXPECT_EQ(EINVAL, errno);
		free(path);
		return;
	}
	ASSERT_EQ(0, get_handle(path, AT_HANDLE_FID, fh));
	ASSERT_EQ(0, chmod(path, 0600));
	ASSERT_TRUE(ufs_exists(e->upper, "d/lowerfile"));
	ASSERT_EQ(0, drop_caches());
	ASSERT_EQ(0, get_handle(path, AT_HANDLE_FID, fh2));
	EXPECT_EQ(fh->handle_bytes, fh2->handle_bytes);
	EXPECT_EQ(fh->handle_type, fh2->handle_type);
	EXPECT_EQ(0, memcmp(fh->f_handle, fh2->f_handle, fh->handle_bytes));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, get_handle(path, AT_HANDLE_FID, fh2));
	EXPECT_EQ(0, memcmp(fh->f_handle, fh2->f_handle, fh->handle_bytes));
	free(path);
}

/* --- d) ENOSPC during a partial copy-up and a metacopy fill --- */

/* Byte @off of the lower files these tests make. */
static char lower_byte(off_t off)
{
	return 'a' + (off / 4096 + off) % 23;
}

static int make_lower(const char *path, off_t size)
{
	char buf[65536];
	off_t off;
	size_t i;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	for (off = 0; off < size; off += sizeof(buf)) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = lower_byte(off + i);
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf))
			return close(fd), -1;
	}
	return close(fd);
}

/* Every byte of @path: 'W' where @w[chunk] says it was written, else lower. */
static int check_file(const char *path, off_t size, const char *w, off_t step)
{
	char buf[65536];
	off_t off;
	ssize_t n;
	size_t i;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	for (off = 0; off < size; off += n) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n <= 0)
			return close(fd), -2;
		for (i = 0; i < (size_t)n; i++) {
			off_t o = off + i;
			char want = (o % step == 0 && w[o / step]) ? 'W' : lower_byte(o);

			if (buf[i] != want) {
				fprintf(stderr, "# %s: byte %lld is '%c', not '%c'\n",
					path, (long long)o, buf[i], want);
				return close(fd), 1;
			}
		}
	}
	return close(fd);
}

#define SP_SIZE	(8 << 20)
#define SP_STEP	(64 << 10)

/*
 * The upper is a 2 MiB tmpfs, the lower an 8 MiB file. One byte is
 * written into each 64 KiB chunk until the upper is full: every write that
 * succeeded reads back, every other byte is the lower's, before and after
 * a remount; no staging file stays behind. Then a metacopy fill
 * (chunk=0 mount) that cannot fit fails with ENOSPC and leaves the file
 * as it was; once there is room it completes.
 */
TEST_F_TIMEOUT(bh, enospc_in_partial_copy_up_and_fill_loses_nothing, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ufs = ufs_path(e->base, "ufs"), *lf, *mf, *up, *wk, *staging;
	char opts[3 * PATH_MAX], written[SP_SIZE / SP_STEP] = { 0 }, none[1] = { 0 };
	int fd, i, nok = 0, nfull = 0;
	struct stat st;
	DIR *d;

	ASSERT_EQ(0, make_lower(ufs_path(e->lower[0], "big"), SP_SIZE));
	ASSERT_EQ(0, make_lower(ufs_path(e->lower[0], "meta"), SP_SIZE));
	ASSERT_EQ(0, mkdir(ufs, 0755));
	ASSERT_EQ(0, mount("tmpfs", ufs, "tmpfs", 0, "size=2m,mode=755"));
	up = ufs_path(ufs, "upper");
	wk = ufs_path(ufs, "work");
	ASSERT_EQ(0, mkdir(up, 0755));
	ASSERT_EQ(0, mkdir(wk, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], up, wk);
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	lf = ufs_path(e->mnt, "big");
	mf = ufs_path(e->mnt, "meta");

	fd = open(lf, O_WRONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < SP_SIZE / SP_STEP; i++) {
		/* scattered: odd chunks first, then even ones */
		int c = i < SP_SIZE / SP_STEP / 2 ? 2 * i + 1 : 2 * (i - SP_SIZE / SP_STEP / 2);
		ssize_t n = pwrite(fd, "W", 1, (off_t)c * SP_STEP);

		if (n == 1) {
			written[c] = 1;
			nok++;
		} else {
			ASSERT_EQ(-1, n);
			ASSERT_EQ(ENOSPC, errno);
			nfull++;
		}
	}
	fprintf(stderr, "# %d chunk writes succeeded, %d got ENOSPC\n", nok, nfull);
	ASSERT_LT(0, nok);
	ASSERT_LT(0, nfull);
	/* fsync may fail (the map has to go somewhere); close must not lose data */
	fsync(fd);
	close(fd);
	EXPECT_EQ(0, check_file(lf, SP_SIZE, written, SP_STEP));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	EXPECT_EQ(0, check_file(lf, SP_SIZE, written, SP_STEP));
	staging = ufs_path(wk, "staging");
	d = opendir(staging);
	if (d) {
		struct dirent *de;
		int left = 0;

		while ((de = readdir(d)))
			left += de->d_name[0] != '.';
		closedir(d);
		EXPECT_EQ(0, left);
	}
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	/* metacopy fill with no room: chunk=0, so an open for write fills */
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,chunk=0",
		 e->lower[0], up, wk);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	ASSERT_EQ(0, chmod(mf, 0600));
	EXPECT_EQ(-1, open(mf, O_WRONLY));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, truncate(mf, SP_SIZE + 1));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, stat(mf, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(SP_SIZE, st.st_size);
	EXPECT_EQ(0, check_file(mf, SP_SIZE, none, SP_SIZE * 2));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	EXPECT_EQ(0, check_file(mf, SP_SIZE, none, SP_SIZE * 2));
	/* room again: the fill completes and the data is the lower's */
	ASSERT_EQ(0, mount(NULL, ufs, NULL, MS_REMOUNT, "size=64m"));
	fd = open(mf, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, "W", 1, 0));
	ASSERT_EQ(0, close(fd));
	written[0] = 1;
	EXPECT_EQ(0, check_file(mf, SP_SIZE, written, SP_SIZE * 2));
	EXPECT_EQ(-1, getxattr(ufs_path(up, "meta"), "trusted.unionfs.metacopy", NULL, 0));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, umount(ufs));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/* --- e) more chunks than a map holds: bigger chunks, nothing lost --- */

#define MC_SIZE	((off_t)(16384 + 4096) * 4096)	/* 20480 chunks of 4 KiB */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Compare @a and @b whole; 0 if equal. */
static int same_files(const char *a, const char *b)
{
	static char ba[1 << 20], bb[1 << 20];
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	off_t off = 0;
	ssize_t na, nb;
	int ret = -1;

	if (fa < 0 || fb < 0)
		goto out;
	for (;;) {
		na = pread(fa, ba, sizeof(ba), off);
		nb = pread(fb, bb, sizeof(bb), off);
		if (na != nb || na < 0) {
			fprintf(stderr, "# read at %lld: %zd vs %zd\n", (long long)off, na, nb);
			goto out;
		}
		if (!na)
			break;
		if (memcmp(ba, bb, na)) {
			fprintf(stderr, "# differ in [%lld, +%zd)\n", (long long)off, na);
			goto out;
		}
		off += na;
	}
	ret = 0;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

TEST_F_TIMEOUT(bh, more_than_16384_chunks_scattered_writes, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[3 * PATH_MAX], buf[10000], map[8192];
	char *lower = ufs_path(e->lower[0], "huge"), *ref = ufs_path(e->base, "ref");
	char *uf, *upf = ufs_path(e->upper, "huge");
	int fd, rf, i;
	ssize_t len;

	/* a sparse lower file with some data in it, and a copy of it */
	fd = open(lower, O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, MC_SIZE));
	for (i = 0; i < 64; i++) {
		memset(buf, 'A' + i % 26, sizeof(buf));
		ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), rnd() % (MC_SIZE - sizeof(buf))));
	}
	ASSERT_EQ(0, close(fd));
	snprintf(opts, sizeof(opts), "cp --sparse=always %s %s", lower, ref);
	ASSERT_EQ(0, system(opts));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,chunk=4k",
		 e->lower[0], e->upper, e->work);
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	uf = ufs_path(e->mnt, "huge");
	fd = open(uf, O_RDWR);
	ASSERT_LE(0, fd);
	rf = open(ref, O_RDWR);
	ASSERT_LE(0, rf);
	for (i = 0; i < 300; i++) {
		off_t off = rnd() % MC_SIZE;
		size_t n = 1 + rnd() % (i % 10 ? 64 : sizeof(buf));

		if (off + n > MC_SIZE)
			n = MC_SIZE - off;
		memset(buf, '0' + i % 10, n);
		ASSERT_EQ(n, pwrite(fd, buf, n, off));
		ASSERT_EQ(n, pwrite(rf, buf, n, off));
	}
	/* before the close, after it (map written), after a remount */
	EXPECT_EQ(0, same_files(uf, ref));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(rf));
	EXPECT_EQ(0, same_files(uf, ref));
	len = getxattr(upf, "trusted.unionfs.metacopy", map, sizeof(map));
	if (len >= 0) {
		/* a map of 8 KiB chunks: the smallest size that needs <= 16384 */
		EXPECT_EQ(13, map[1]);
		EXPECT_EQ(16 + ((MC_SIZE >> 13) + 7) / 8, len);
	} else {
		/* cloned at open (upper and lower share a filesystem that can) */
		EXPECT_EQ(ENODATA, errno);
	}
	fprintf(stderr, "# map: %zd bytes, chunk shift %d\n", len, len > 1 ? map[1] : -1);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	EXPECT_EQ(0, same_files(uf, ref));
	/* more writes after the remount, over the map read back */
	fd = open(uf, O_WRONLY);
	rf = open(ref, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, rf);
	for (i = 0; i < 50; i++) {
		off_t off = rnd() % (MC_SIZE - 100);

		memset(buf, 'z', 100);
		ASSERT_EQ(100, pwrite(fd, buf, 100, off));
		ASSERT_EQ(100, pwrite(rf, buf, 100, off));
	}
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(rf));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	EXPECT_EQ(0, same_files(uf, ref));
	free(lower); free(ref); free(uf); free(upf);
}

/* --- f) a frozen upper --- */

struct fz_op {
	const char *path;
	int what;	/* 0 write to an upper file, 1 copy-up by write, 2 chmod, 3 create */
	pid_t tid;
	int done;
	int err;
};

static void *fz_run(void *arg)
{
	struct fz_op *op = arg;
	int fd;

	__atomic_store_n(&op->tid, gettid(), __ATOMIC_RELEASE);
	switch (op->what) {
	case 0:
	case 1:
		fd = open(op->path, O_WRONLY | O_APPEND);
		op->err = fd < 0 || write(fd, "F", 1) != 1 ? errno : 0;
		if (fd >= 0)
			close(fd);
		break;
	case 2:
		op->err = chmod(op->path, 0600) ? errno : 0;
		break;
	default:
		fd = open(op->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		op->err = fd < 0 || write(fd, "F", 1) != 1 ? errno : 0;
		if (fd >= 0)
			close(fd);
	}
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * True once thread @tid sleeps uninterruptibly (waiting for the frozen
 * filesystem: nothing it does can finish while the upper is frozen, so the
 * "not done" check below holds whatever it waits for).
 */
static int waits_for_freeze(pid_t tid)
{
	char path[64], buf[512] = "", *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'D';
}

TEST_F_TIMEOUT(bh, frozen_upper_blocks_and_loses_nothing, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *fs = getenv("UNIONFS_FS");
	struct fz_op ops[4];
	pthread_t th[4];
	struct stat st;
	char rbuf[8];
	int i, sfd, rfd, ret;

	if (!fs || (strcmp(fs, "ext4") && strcmp(fs, "xfs")))
		SKIP(return, "fsfreeze is tested on ext4 and xfs uppers (tmpfs cannot freeze)");
	ASSERT_EQ(0, ufs_put(e->upper, "u", "u"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "l", "l"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "m", "m"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "r", "r"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	/*
	 * Read during the freeze through an fd opened before it: a lookup or
	 * an open then may wait behind a frozen copy-up's locks (on 6.1 a
	 * read-only open of "l" waited for the thaw, which this thread never
	 * got to do: the whole suite hung).
	 */
	rfd = open(ufs_path(e->mnt, "r"), O_RDONLY);
	ASSERT_LE(0, rfd);
	for (i = 0; i < 4; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].what = i;
		ops[i].path = ufs_path(e->mnt, "%s", (const char *[]){ "u", "l", "m", "n" }[i]);
	}
	sfd = open(ufs_scratch(), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, ioctl(sfd, FIFREEZE, 0));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fz_run, &ops[i]));
	/* each blocks on the freeze (polled: no time limit but the test's) */
	for (i = 0; i < 4; i++) {
		while (!__atomic_load_n(&ops[i].tid, __ATOMIC_ACQUIRE) ||
		       (!waits_for_freeze(ops[i].tid) &&
			!__atomic_load_n(&ops[i].done, __ATOMIC_ACQUIRE)))
			sched_yield();
	}
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, __atomic_load_n(&ops[i].done, __ATOMIC_ACQUIRE)) TH_LOG("op %d", i);
	/* reads go on meanwhile */
	memset(rbuf, 0, sizeof(rbuf));
	EXPECT_EQ(1, pread(rfd, rbuf, sizeof(rbuf) - 1, 0));
	EXPECT_STREQ("r", rbuf);
	ret = ioctl(sfd, FITHAW, 0);
	ASSERT_EQ(0, ret);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, ops[i].err) TH_LOG("op %d: %s", i, strerror(ops[i].err));
	}
	close(sfd);
	close(rfd);
	EXPECT_STREQ("uF", ufs_get(e->mnt, "u"));
	EXPECT_STREQ("lF", ufs_get(e->mnt, "l"));
	EXPECT_STREQ("F", ufs_get(e->mnt, "n"));
	ASSERT_EQ(0, stat(ops[2].path, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_STREQ("uF", ufs_get(e->mnt, "u"));
	EXPECT_STREQ("lF", ufs_get(e->mnt, "l"));
	EXPECT_STREQ("m", ufs_get(e->mnt, "m"));
	EXPECT_STREQ("F", ufs_get(e->mnt, "n"));
	for (i = 0; i < 4; i++)
		free((char *)ops[i].path);
}

/* --- g) the upper's filesystem remounted read-only under a live union --- */

TEST_F_TIMEOUT(bh, upper_remounted_read_only_under_live_union, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ufs = ufs_path(e->base, "ufs"), *up, *wk, opts[3 * PATH_MAX];
	char *lf, *uf;
	struct stat st;
	int fd, rfd;

	/* the upper on a filesystem of its own: its remount touches nothing else */
	ASSERT_EQ(0, mkdir(ufs, 0755));
	ASSERT_EQ(0, mount("tmpfs", ufs, "tmpfs", 0, "size=64m,mode=755"));
	up = ufs_path(ufs, "upper");
	wk = ufs_path(ufs, "work");
	ASSERT_EQ(0, mkdir(up, 0755));
	ASSERT_EQ(0, mkdir(wk, 0755));
	ASSERT_EQ(0, ufs_put(up, "u", "upper"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "l", "lower"));
	ASSERT_EQ(0, make_lower(ufs_path(e->lower[0], "big"), 1 << 20));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], up, wk);
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	lf = ufs_path(e->mnt, "l");
	uf = ufs_path(e->mnt, "u");
	rfd = open(uf, O_RDONLY);
	ASSERT_LE(0, rfd);

	ASSERT_EQ(0, mount(NULL, ufs, NULL, MS_REMOUNT | MS_RDONLY, "size=64m"))
		TH_LOG("remount ro: %s", strerror(errno));
	EXPECT_STREQ("upper", ufs_get(e->mnt, "u"));
	EXPECT_STREQ("lower", ufs_get(e->mnt, "l"));
	EXPECT_EQ(-1, open(uf, O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(lf, O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(ufs_path(e->mnt, "big"), O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, chmod(lf, 0600));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, chmod(uf, 0600));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(ufs_path(e->mnt, "n"), O_WRONLY | O_CREAT, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, unlink(lf));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, unlink(uf));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mkdir(ufs_path(e->mnt, "d"), 0755));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, rename(lf, ufs_path(e->mnt, "l2")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, truncate(ufs_path(e->mnt, "big"), 10));
	EXPECT_EQ(EROFS, errno);
	fd = open(ufs_path(e->mnt, "big"), O_RDONLY);
	EXPECT_EQ(0, check_file(ufs_path(e->mnt, "big"), 1 << 20, "", 1 << 21));
	close(fd);
	ASSERT_EQ(0, stat(lf, &st));
	EXPECT_EQ(0644, st.st_mode & 07777);
	EXPECT_FALSE(ufs_exists(up, "l"));

	/* back to read-write under the same union: writes work again */
	ASSERT_EQ(0, mount(NULL, ufs, NULL, MS_REMOUNT, "size=64m"));
	fd = open(lf, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "!", 1));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ("lower!", ufs_get(e->mnt, "l"));

	/* read-only again, then umount the live union */
	ASSERT_EQ(0, mount(NULL, ufs, NULL, MS_REMOUNT | MS_RDONLY, "size=64m"));
	close(rfd);
	EXPECT_EQ(0, umount(e->mnt));
	e->mounted = !!umount2(e->mnt, MNT_DETACH);
	e->mounted = 0;
	ASSERT_EQ(0, mount(NULL, ufs, NULL, MS_REMOUNT, "size=64m"));
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	EXPECT_STREQ("lower!", ufs_get(e->mnt, "l"));
	EXPECT_STREQ("upper", ufs_get(e->mnt, "u"));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, umount(ufs));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
}

/* --- h) two unions over one lower --- */

TEST_F_TIMEOUT(bh, two_unions_share_a_lower, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *up2 = ufs_path(e->base, "upper2"), *wk2 = ufs_path(e->base, "work2");
	char *mnt2 = ufs_path(e->base, "mnt2"), opts[3 * PATH_MAX];
	struct stat a, b;
	int fd;

	ASSERT_EQ(0, ufs_put(e->lower[0], "d/f", "lower"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/g", "gee"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "keep", "keep"));
	ASSERT_EQ(0, make_lower(ufs_path(e->lower[0], "big"), 1 << 20));
	ASSERT_EQ(0, mkdir(up2, 0755));
	ASSERT_EQ(0, mkdir(wk2, 0755));
	ASSERT_EQ(0, mkdir(mnt2, 0755));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], up2, wk2);
	ASSERT_EQ(0, ufs_mount(mnt2, opts));

	EXPECT_STREQ("lower", ufs_get(e->mnt, "d/f"));
	EXPECT_STREQ("lower", ufs_get(mnt2, "d/f"));
	/* copy-ups, a whiteout, a new file, a rename, a chmod in the first */
	fd = open(ufs_path(e->mnt, "d/f"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1));
	ASSERT_EQ(0, close(fd));
	fd = open(ufs_path(e->mnt, "big"), O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, "W", 1, 300000));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, unlink(ufs_path(e->mnt, "d/g")));
	ASSERT_EQ(0, ufs_put(e->mnt, "d/new", "new"));
	ASSERT_EQ(0, rename(ufs_path(e->mnt, "d"), ufs_path(e->mnt, "d2")));
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "keep"), 0600));
	/* the second sees none of it, and writes its own copy */
	EXPECT_STREQ("lower", ufs_get(mnt2, "d/f"));
	EXPECT_STREQ("gee", ufs_get(mnt2, "d/g"));
	EXPECT_FALSE(ufs_exists(mnt2, "d/new"));
	EXPECT_FALSE(ufs_exists(mnt2, "d2"));
	ASSERT_EQ(0, stat(ufs_path(mnt2, "keep"), &b));
	EXPECT_EQ(0644, b.st_mode & 07777);
	EXPECT_EQ(0, check_file(ufs_path(mnt2, "big"), 1 << 20, "", 1 << 21));
	fd = open(ufs_path(mnt2, "d/f"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "2", 1));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ("lower1", ufs_get(e->mnt, "d2/f"));
	EXPECT_STREQ("lower2", ufs_get(mnt2, "d/f"));
	EXPECT_STREQ("new", ufs_get(e->mnt, "d2/new"));
	EXPECT_FALSE(ufs_exists(e->mnt, "d2/g"));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "keep"), &a));
	EXPECT_EQ(0600, a.st_mode & 07777);
	/* both still read the shared lower file the same */
	EXPECT_STREQ("keep", ufs_get(e->mnt, "keep"));
	EXPECT_STREQ("keep", ufs_get(mnt2, "keep"));
	EXPECT_EQ(0, umount(mnt2));
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
	free(up2); free(wk2); free(mnt2);
}

TEST_HARNESS_MAIN
