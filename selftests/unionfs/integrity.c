// SPDX-License-Identifier: GPL-2.0-only
/*
 * Data integrity through the union: open flags and per-I/O flags reach the
 * real file (fcntl O_APPEND/O_DIRECT, RWF_APPEND, RWF_NOWAIT), what a file
 * shows only ever comes from the right layer. Where the behaviour depends
 * on the backing filesystem, the same operations run on a bare directory
 * of that filesystem first and the union must do the same.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020
#endif

FIXTURE(ig) {
	struct ufs_env e;
	char *bare;		/* a plain directory on the same filesystem */
};

FIXTURE_SETUP(ig)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 1));
	self->bare = ufs_path(e->base, "bare");
	ASSERT_EQ(0, mkdir(self->bare, 0755));
	ASSERT_EQ(0, ufs_put(e->lower[0], "f", "AAAA"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
}

FIXTURE_TEARDOWN(ig)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	free(self->bare);
	ufs_env_fini(&self->e);
}

/* The result of an I/O call as text: "ok N" or the errno's name. */
static const char *io_result(ssize_t ret)
{
	static char buf[4][32];
	static int n;
	char *p = buf[n++ % 4];

	if (ret >= 0)
		snprintf(p, sizeof(buf[0]), "ok %zd", ret);
	else
		snprintf(p, sizeof(buf[0]), "%s", strerrorname_np(errno));
	return p;
}

/* As io_result(), but RWF_NOWAIT may say EAGAIN where it would wait. */
static const char *nowait_result(ssize_t ret)
{
	if (ret >= 0 || errno == EAGAIN)
		return "supported";
	return io_result(ret);
}

static ssize_t pwrite2(int fd, const char *s, off_t off, int flags)
{
	struct iovec iov = { .iov_base = (void *)s, .iov_len = strlen(s) };

	return pwritev2(fd, &iov, 1, off, flags);
}

/* fcntl(F_SETFL, O_APPEND) after open: the next write appends. */
static void setfl_append(const char *path)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	if (!fcntl(fd, F_SETFL, O_APPEND))
		write(fd, "BB", 2);
	/* and pwrite after clearing it again writes where it is told */
	if (!fcntl(fd, F_SETFL, 0))
		pwrite(fd, "C", 1, 0);
	close(fd);
}

TEST_F_TIMEOUT(ig, fcntl_o_append_reaches_real_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char bare_f[PATH_MAX];

	snprintf(bare_f, sizeof(bare_f), "%s/f", self->bare);
	ASSERT_EQ(0, ufs_put(self->bare, "f", "AAAA"));
	setfl_append(bare_f);
	setfl_append(ufs_path(e->mnt, "f"));
	EXPECT_STREQ("CAAABB", ufs_get(self->bare, "f"));
	EXPECT_STREQ("CAAABB", ufs_get(e->mnt, "f"));
	EXPECT_STREQ("CAAABB", ufs_get(e->upper, "f"));
}

TEST_F_TIMEOUT(ig, fcntl_clearing_o_append_reaches_real_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	int fd = open(ufs_path(e->mnt, "f"), O_WRONLY | O_APPEND);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, write(fd, "x", 1));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, 0));
	EXPECT_EQ(1, pwrite(fd, "y", 1, 1));
	close(fd);
	EXPECT_STREQ("AyAAx", ufs_get(e->mnt, "f"));
}

/* RWF_APPEND, and RWF_NOAPPEND where the kernel has it, as on the bare fs. */
static void rwf_appends(const char *path, const char **r1, const char **r2)
{
	int fd = open(path, O_WRONLY);

	*r1 = *r2 = "open failed";
	if (fd < 0)
		return;
	*r1 = io_result(pwrite2(fd, "DD", 0, RWF_APPEND));
	close(fd);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return;
	*r2 = io_result(pwrite2(fd, "E", 1, RWF_NOAPPEND));
	close(fd);
}

TEST_F_TIMEOUT(ig, rwf_append_and_noappend_reach_real_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *b1, *b2, *u1, *u2;
	char bare_f[PATH_MAX];
	char want[64];

	snprintf(bare_f, sizeof(bare_f), "%s/f", self->bare);
	ASSERT_EQ(0, ufs_put(self->bare, "f", "AAAA"));
	rwf_appends(bare_f, &b1, &b2);
	rwf_appends(ufs_path(e->mnt, "f"), &u1, &u2);
	EXPECT_STREQ("ok 2", b1);
	EXPECT_STREQ(b1, u1);
	EXPECT_STREQ(b2, u2);
	strncpy(want, ufs_get(self->bare, "f") ?: "", sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	EXPECT_STREQ(!strcmp(b2, "ok 1") ? "AEAADD" : "AAAADD", want);
	EXPECT_STREQ(want, ufs_get(e->mnt, "f"));
}

/*
 * fcntl(F_SETFL, O_DIRECT), then a misaligned write and read: what the
 * bare filesystem does (EINVAL on ext4 and xfs, buffered elsewhere). On
 * 6.1 the union accepts O_DIRECT at fcntl (as overlayfs does: it cannot
 * ask the real file), so where the bare fs refuses it there, the I/O must.
 */
struct direct_result {
	int setfl;		/* 0 or errno */
	const char *write, *read;
};

static void setfl_direct(const char *path, struct direct_result *r)
{
	char buf[8192] __attribute__((aligned(4096))) = "";
	int fd = open(path, O_RDWR);

	r->setfl = EBADF;
	r->write = r->read = "not run";
	if (fd < 0)
		return;
	r->setfl = fcntl(fd, F_SETFL, O_DIRECT) ? errno : 0;
	r->write = io_result(pwrite(fd, "zz", 2, 1));
	r->read = io_result(pread(fd, buf + 1, 100, 1));
	close(fd);
}

TEST_F_TIMEOUT(ig, fcntl_o_direct_reaches_real_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct direct_result b, u;
	char bare_f[PATH_MAX];

	snprintf(bare_f, sizeof(bare_f), "%s/f", self->bare);
	ASSERT_EQ(0, ufs_put(self->bare, "f", "AAAA"));
	setfl_direct(bare_f, &b);
	setfl_direct(ufs_path(e->mnt, "f"), &u);
	TH_LOG("bare: setfl %d write %s read %s; union: setfl %d write %s read %s",
	       b.setfl, b.write, b.read, u.setfl, u.write, u.read);
	if (b.setfl && !u.setfl) {
		EXPECT_STREQ("EINVAL", u.write);
		EXPECT_STREQ("EINVAL", u.read);
	} else {
		EXPECT_EQ(b.setfl, u.setfl);
		EXPECT_STREQ(b.write, u.write);
		EXPECT_STREQ(b.read, u.read);
	}
	EXPECT_STREQ(ufs_get(self->bare, "f"), ufs_get(e->mnt, "f"));
}

/* RWF_NOWAIT reads and writes: supported exactly where the bare fs has it. */
static void nowait_io(const char *path, const char **rd, const char **wr)
{
	char buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	int fd = open(path, O_RDWR);

	*rd = *wr = "open failed";
	if (fd < 0)
		return;
	*rd = nowait_result(preadv2(fd, &iov, 1, 0, RWF_NOWAIT));
	*wr = nowait_result(pwrite2(fd, "N", 0, RWF_NOWAIT));
	close(fd);
}

TEST_F_TIMEOUT(ig, rwf_nowait_as_on_the_bare_fs, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *br, *bw, *ur, *uw, *lr, *lw;
	char bare_f[PATH_MAX];

	snprintf(bare_f, sizeof(bare_f), "%s/f", self->bare);
	ASSERT_EQ(0, ufs_put(self->bare, "f", "AAAA"));
	ASSERT_EQ(0, ufs_put(e->mnt, "up", "AAAA"));
	nowait_io(bare_f, &br, &bw);
	nowait_io(ufs_path(e->mnt, "up"), &ur, &uw);
	/* a lower file: copied up at open, then the same */
	nowait_io(ufs_path(e->mnt, "f"), &lr, &lw);
	TH_LOG("bare: read %s write %s; union: read %s write %s; lower: read %s write %s",
	       br, bw, ur, uw, lr, lw);
	EXPECT_STREQ(br, ur);
	EXPECT_STREQ(bw, uw);
	EXPECT_STREQ(br, lr);
	EXPECT_STREQ(bw, lw);
}

#define MARK "trusted.unionfs.metacopy"
#define BIG (256 << 10)

/* A lower file of @size bytes, every byte @c. */
static int put_filled(const char *path, size_t size, char c)
{
	char *buf = malloc(size);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ssize_t n = -1;

	if (buf && fd >= 0) {
		memset(buf, c, size);
		n = write(fd, buf, size);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return n == (ssize_t)size ? 0 : -1;
}

/* Upper and lower share a filesystem that clones extents (reflink). */
static int can_clone(void)
{
	const char *fs = getenv("UNIONFS_FS");

	return fs && (!strcmp(fs, "btrfs") || !strcmp(fs, "xfs"));
}

/* The byte at @off of @path, or -1. */
static int byte_at(const char *path, off_t off)
{
	unsigned char c;
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : pread(fd, &c, 1, off);

	if (fd >= 0)
		close(fd);
	return n == 1 ? c : -1;
}

/*
 * A write to a chunk of a partially copied file that is still below
 * copies it up first: with RWF_NOWAIT that is EAGAIN, and nothing moves.
 */
TEST_F_TIMEOUT(ig, rwf_nowait_never_waits_for_a_chunk_copy, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *path = ufs_path(e->mnt, "big");
	char buf[4];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	int fd, bare_fd;

	ASSERT_EQ(0, put_filled(ufs_path(e->lower[0], "big"), BIG, 'L'));
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	if (getxattr(ufs_path(e->upper, "big"), MARK, NULL, 0) < 0) {
		/* only an upper that clones takes the whole file at open */
		EXPECT_EQ(ENODATA, errno);
		EXPECT_TRUE(can_clone());
		close(fd);
		return;
	}
	/*
	 * Ask the bare fs, not the union, whether it has RWF_NOWAIT at all
	 * (reads: ext4 has them, but refuses buffered RWF_NOWAIT writes).
	 */
	ASSERT_EQ(0, ufs_put(self->bare, "f", "AAAA"));
	bare_fd = open(ufs_path(self->bare, "f"), O_RDWR);
	ASSERT_GE(bare_fd, 0);
	if (preadv2(bare_fd, &iov, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP) {
		/* no RWF_NOWAIT on this fs: the union refuses it too */
		EXPECT_EQ(-1, pwrite2(fd, "W", 128 << 10, RWF_NOWAIT));
		EXPECT_EQ(EOPNOTSUPP, errno);
	} else {
		EXPECT_EQ(-1, pwrite2(fd, "W", 128 << 10, RWF_NOWAIT));
		EXPECT_EQ(EAGAIN, errno);
	}
	close(bare_fd);
	EXPECT_EQ('L', byte_at(path, 128 << 10));
	EXPECT_EQ(1, pwrite(fd, "W", 1, 128 << 10));
	close(fd);
	EXPECT_EQ('W', byte_at(path, 128 << 10));
	EXPECT_EQ('L', byte_at(path, (128 << 10) + 1));
}

/* The whole of @path (malloc'd, *len bytes), or NULL. */
static char *slurp(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	char *data = slurp(from, &len);
	int fd, ret = -1;

	if (!data)
		return -1;
	fd = open(to, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd >= 0 && write(fd, data, len) == (ssize_t)len)
		ret = 0;
	if (fd >= 0)
		close(fd);
	free(data);
	return ret;
}

/* Does @path hold exactly @len bytes of @want? */
static int same_data(const char *path, const char *want, size_t len)
{
	size_t n;
	char *got = slurp(path, &n);
	int ret = got && n == len && !memcmp(got, want, len);

	free(got);
	return ret;
}

/*
 * Run @prog (cat, blocked reading a pipe) until it has been executed: its
 * /proc/PID/exe names @prog. Returns the pid; *wfd the pipe's write end.
 */
static pid_t run_blocked(const char *prog, int *wfd)
{
	char exe[PATH_MAX], link[64];
	int p[2];
	pid_t pid;
	ssize_t n;
	long i;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(p[0], 0);
		close(p[1]);
		execl(prog, "cat", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	*wfd = p[1];
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	for (i = 0; i < 100000000; i++) {
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			if (!strcmp(exe, prog))
				return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		sched_yield();
	}
	return -1;
}

/*
 * An open with O_TRUNC that fails after the union has opened the file
 * (the VFS truncates after ->open, and refuses with ETXTBSY a file being
 * executed, even for O_RDONLY|O_TRUNC) leaves the data as it was: for a
 * lower file (copied up by the open) and a metacopy file (chmod'ed). The
 * same open on a bare file of the backing fs fails the same way.
 */
TEST_F_TIMEOUT(ig, o_trunc_open_that_fails_keeps_the_data, UFS_TEST_TIMEOUT)
{
	static const char *const names[] = { "prog", "prog-chmod" };
	struct ufs_env *e = &self->e;
	char *bare = ufs_path(self->bare, "prog");
	size_t len;
	char *want = slurp("/usr/bin/cat", &len);
	unsigned int i;
	int fd, wfd;
	pid_t pid;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, umount2(e->mnt, 0));
	e->mounted = 0;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, copy_file("/usr/bin/cat",
				       ufs_path(e->lower[0], "%s", names[i]), 0755));
	ASSERT_EQ(0, copy_file("/usr/bin/cat", bare, 0755));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "prog-chmod"), 0700));

	/* the bare fs: ETXTBSY, nothing truncated */
	pid = run_blocked(bare, &wfd);
	ASSERT_LT(0, pid);
	fd = open(bare, O_RDONLY | O_TRUNC);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ETXTBSY, errno);
	close(wfd);
	waitpid(pid, NULL, 0);
	EXPECT_TRUE(same_data(bare, want, len));

	for (i = 0; i < 2; i++) {
		char *path = ufs_path(e->mnt, "%s", names[i]);

		pid = run_blocked(path, &wfd);
		ASSERT_LT(0, pid) TH_LOG("name %u did not run", i);
		fd = open(path, O_RDONLY | O_TRUNC);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(ETXTBSY, errno);
		close(wfd);
		waitpid(pid, NULL, 0);
		EXPECT_TRUE(same_data(path, want, len)) TH_LOG("name %u emptied", i);
		free(path);
	}
	/* and so it stays on disk */
	ASSERT_EQ(0, umount2(e->mnt, 0));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	for (i = 0; i < 2; i++)
		EXPECT_TRUE(same_data(ufs_path(e->mnt, "%s", names[i]), want, len))
			TH_LOG("name %u emptied after remount", i);
	/* an O_TRUNC open that succeeds still empties it */
	fd = open(ufs_path(e->mnt, "prog"), O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_TRUE(same_data(ufs_path(e->mnt, "prog"), "", 0));
	free(want);
	free(bare);
}

/*
 * O_DIRECT|O_TRUNC where the backing fs may refuse O_DIRECT (tmpfs on
 * 6.1): the union's open fails as the bare fs's does, and then the data
 * is still there; where it succeeds the file is empty.
 */
TEST_F_TIMEOUT(ig, o_trunc_o_direct_as_on_the_bare_fs, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *bare = ufs_path(self->bare, "f");
	char *path = ufs_path(e->mnt, "f");
	char want_bare[32], got_union[32];
	const char *got;
	int fd;

	ASSERT_EQ(0, ufs_put(self->bare, "f", "AAAA"));
	fd = open(bare, O_WRONLY | O_TRUNC | O_DIRECT);
	snprintf(want_bare, sizeof(want_bare), "%s",
		 fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = open(path, O_WRONLY | O_TRUNC | O_DIRECT);
	snprintf(got_union, sizeof(got_union), "%s",
		 fd >= 0 ? "ok" : strerror(errno));
	EXPECT_STREQ(want_bare, got_union);
	if (fd >= 0)
		close(fd);
	got = ufs_get(e->mnt, "f");
	ASSERT_NE(NULL, got);
	EXPECT_STREQ(fd >= 0 ? "" : "AAAA", got);
	free(bare);
	free(path);
}

TEST_HARNESS_MAIN
