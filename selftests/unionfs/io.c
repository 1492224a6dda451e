// SPDX-License-Identifier: GPL-2.0-only
/*
 * Read I/O through the union: read/pread/readv, mmap, sendfile, splice,
 * copy_file_range, O_DIRECT, SEEK_DATA/SEEK_HOLE, symlinks, special files,
 * executables.
 */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

#define BIG (1 << 20)

FIXTURE(io) {
	struct ufs_env e;
	char *pattern;
};

static void fill(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + i / 4096);
}

FIXTURE_SETUP(io)
{
	struct ufs_env *e = &self->e;
	int fd;

	ASSERT_EQ(0, ufs_env_init(e, 2));
	self->pattern = malloc(BIG);
	fill(self->pattern, BIG);
	fd = open(ufs_path(e->lower[1], "big"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(BIG, write(fd, self->pattern, BIG));
	close(fd);
	/* a sparse file: data at 0 and at 8 MiB, a hole between */
	fd = open(ufs_path(e->lower[0], "sparse"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4096, pwrite(fd, self->pattern, 4096, 0));
	ASSERT_EQ(4096, pwrite(fd, self->pattern, 4096, 8 << 20));
	close(fd);
	ASSERT_EQ(0, ufs_put(e->lower[1], "target", "via-link"));
	ASSERT_EQ(0, symlink("target", ufs_path(e->lower[0], "rel-link")));
	ASSERT_EQ(0, symlink("../nowhere", ufs_path(e->lower[0], "dangling")));
	ASSERT_EQ(0, mkfifo(ufs_path(e->lower[0], "fifo"), 0666));
	ASSERT_EQ(0, mknod(ufs_path(e->lower[0], "null"), S_IFCHR | 0666, makedev(1, 3)));
	ASSERT_EQ(0, ufs_put(e->lower[0], "script", "#!/bin/sh\necho ran-from-union\n"));
	ASSERT_EQ(0, chmod(ufs_path(e->lower[0], "script"), 0755));
	ASSERT_EQ(0, ufs_env_mount(e, 0, 0));
}

FIXTURE_TEARDOWN(io)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
	free(self->pattern);
}

TEST_F_TIMEOUT(io, read_pread_readv, UFS_TEST_TIMEOUT)
{
	char *buf = malloc(BIG), a[100], b[100];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	int fd = open(ufs_path(self->e.mnt, "big"), O_RDONLY);
	ssize_t n, got = 0;

	ASSERT_GE(fd, 0);
	while ((n = read(fd, buf + got, 65536)) > 0)
		got += n;
	EXPECT_EQ(BIG, got);
	EXPECT_EQ(0, memcmp(buf, self->pattern, BIG));
	EXPECT_EQ(100, pread(fd, a, 100, 12345));
	EXPECT_EQ(0, memcmp(a, self->pattern + 12345, 100));
	ASSERT_EQ(5000, lseek(fd, 5000, SEEK_SET));
	EXPECT_EQ(200, readv(fd, iov, 2));
	EXPECT_EQ(0, memcmp(a, self->pattern + 5000, 100));
	EXPECT_EQ(0, memcmp(b, self->pattern + 5100, 100));
	EXPECT_EQ(5200, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(BIG, lseek(fd, 0, SEEK_END));
	close(fd);
	free(buf);
}

/*
 * fstests overlay/016: a read-only descriptor opened before another one
 * copied the file up reads what that one wrote, as one opened after it
 * would (overlayfs from 4.19 on; POSIX: one file): read, its size for
 * SEEK_END, and a mapping made after the copy-up.
 */
TEST_F_TIMEOUT(io, read_only_fd_sees_writes_after_copy_up, UFS_TEST_TIMEOUT)
{
	char buf[8], *p;
	int ro, rw;

	/* this fixture's union has no upper layer: mount it with one */
	ASSERT_EQ(0, umount(self->e.mnt));
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));
	ro = open(ufs_path(self->e.mnt, "target"), O_RDONLY);
	ASSERT_GE(ro, 0);
	ASSERT_EQ(8, pread(ro, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, "via-link", 8));
	rw = open(ufs_path(self->e.mnt, "target"), O_RDWR);
	ASSERT_GE(rw, 0);
	ASSERT_EQ(8, pwrite(rw, "aaaaaaaa", 8, 0));
	ASSERT_EQ(8, pread(ro, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, "aaaaaaaa", 8));
	/* the size is the upper file's: it grew */
	ASSERT_EQ(4, pwrite(rw, "tail", 4, 4096));
	EXPECT_EQ(4100, lseek(ro, 0, SEEK_END));
	p = mmap(NULL, 4100, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, "aaaaaaaa", 8));
	EXPECT_EQ(0, memcmp(p + 4096, "tail", 4));
	munmap(p, 4100);
	EXPECT_EQ(0, fsync(ro));
	EXPECT_EQ(0, fdatasync(ro));
	close(rw);
	/* and after the writer is gone */
	ASSERT_EQ(4, pread(ro, buf, 4, 4096));
	EXPECT_EQ(0, memcmp(buf, "tail", 4));
	close(ro);
	/* the lower file is as it was */
	EXPECT_STREQ("via-link", ufs_get(self->e.lower[1], "target") ?: "");
}

/*
 * The same for a partial copy-up: the writer copies up one chunk of a big
 * file; the old descriptor reads that chunk from the upper file and the
 * rest from below.
 */
TEST_F_TIMEOUT(io, read_only_fd_sees_chunks_written_after_open,
	       UFS_TEST_TIMEOUT)
{
	char *buf = malloc(BIG), *p;
	int ro, rw;

	ASSERT_EQ(0, umount(self->e.mnt));
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));
	ro = open(ufs_path(self->e.mnt, "big"), O_RDONLY);
	ASSERT_GE(ro, 0);
	rw = open(ufs_path(self->e.mnt, "big"), O_RDWR);
	ASSERT_GE(rw, 0);
	ASSERT_EQ(8, pwrite(rw, "bbbbbbbb", 8, 300000));
	memcpy(self->pattern + 300000, "bbbbbbbb", 8);
	ASSERT_EQ(BIG, pread(ro, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, self->pattern, BIG));
	p = mmap(NULL, BIG, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, self->pattern, BIG));
	munmap(p, BIG);
	close(rw);
	close(ro);
	free(buf);
}

/*
 * After a metadata-only copy-up (chmod), the first use of the old
 * read-only descriptor is a mapping: it maps the lower data (no chunk is
 * up yet, and nothing waits for the copy-up lock under mmap_lock); a
 * chunk written later reaches its reads.
 */
TEST_F_TIMEOUT(io, read_only_fd_maps_after_metadata_copy_up,
	       UFS_TEST_TIMEOUT)
{
	char *p, buf[8];
	int ro, rw;

	ASSERT_EQ(0, umount(self->e.mnt));
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));
	ro = open(ufs_path(self->e.mnt, "big"), O_RDONLY);
	ASSERT_GE(ro, 0);
	ASSERT_EQ(0, chmod(ufs_path(self->e.mnt, "big"), 0600));
	ASSERT_TRUE(ufs_exists(self->e.upper, "big"));
	p = mmap(NULL, BIG, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, self->pattern, BIG));
	munmap(p, BIG);
	rw = open(ufs_path(self->e.mnt, "big"), O_RDWR);
	ASSERT_GE(rw, 0);
	ASSERT_EQ(8, pwrite(rw, "cccccccc", 8, 200000));
	ASSERT_EQ(8, pread(ro, buf, 8, 200000));
	EXPECT_EQ(0, memcmp(buf, "cccccccc", 8));
	close(rw);
	close(ro);
}

/*
 * Lower layers that overlap (one inside the other) show one file under
 * two names, with one union inode. After one name is copied up, a
 * descriptor of the other name keeps reading its lower file (that name
 * was not copied up), as a new open of it does.
 */
TEST_F_TIMEOUT(io, overlapping_layers_other_name_reads_lower,
	       UFS_TEST_TIMEOUT)
{
	char opts[4096], buf[16] = "";
	int ro, rw;

	ASSERT_EQ(0, umount(self->e.mnt));
	self->e.mounted = 0;
	ASSERT_EQ(0, mkdir(ufs_path(self->e.lower[1], "sub"), 0755));
	ASSERT_EQ(0, ufs_put(self->e.lower[1], "sub/f", "lower-f"));
	self->e.fp[1] = ufs_fingerprint(self->e.lower[1]);
	snprintf(opts, sizeof(opts),
		 "lowerdir=%s/sub:%s,upperdir=%s,workdir=%s",
		 self->e.lower[1], self->e.lower[1], self->e.upper,
		 self->e.work);
	ASSERT_EQ(0, ufs_mount(self->e.mnt, opts));
	self->e.mounted = 1;
	ro = open(ufs_path(self->e.mnt, "sub/f"), O_RDONLY);
	ASSERT_GE(ro, 0);
	rw = open(ufs_path(self->e.mnt, "f"), O_RDWR);
	ASSERT_GE(rw, 0);
	ASSERT_EQ(7, pwrite(rw, "upper-f", 7, 0));
	EXPECT_EQ(7, pread(ro, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("lower-f", buf);
	EXPECT_EQ(7, lseek(ro, 0, SEEK_END));
	close(ro);
	EXPECT_STREQ("lower-f", ufs_get(self->e.mnt, "sub/f") ?: "");
	EXPECT_STREQ("upper-f", ufs_get(self->e.mnt, "f") ?: "");
	close(rw);
}

TEST_F_TIMEOUT(io, mmap_private_and_shared_readonly, UFS_TEST_TIMEOUT)
{
	int fd = open(ufs_path(self->e.mnt, "big"), O_RDONLY);
	char *p, *q;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, BIG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, self->pattern, BIG));
	q = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	q[0] ^= 1;	/* private COW: never reaches any layer */
	EXPECT_EQ(self->pattern[0], p[0]);
	munmap(p, BIG);
	munmap(q, BIG);
	/* a writable shared mapping of a read-only fd is refused */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd, 0));
	close(fd);
}

TEST_F_TIMEOUT(io, sendfile_splice_copy_file_range, UFS_TEST_TIMEOUT)
{
	char *out = ufs_path(self->e.base, "out");
	char *buf = malloc(BIG);
	int in = open(ufs_path(self->e.mnt, "big"), O_RDONLY);
	int o = open(out, O_CREAT | O_RDWR | O_TRUNC, 0644);
	int pfd[2];
	loff_t off = 0;
	ssize_t n;

	ASSERT_GE(in, 0);
	ASSERT_GE(o, 0);
	EXPECT_EQ(BIG, sendfile(o, in, &off, BIG));
	EXPECT_EQ(BIG, pread(o, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, self->pattern, BIG));

	ASSERT_EQ(0, pipe(pfd));
	off = 4096;
	n = splice(in, &off, pfd[1], NULL, 4096, 0);
	EXPECT_EQ(4096, n);
	EXPECT_EQ(4096, read(pfd[0], buf, 4096));
	EXPECT_EQ(0, memcmp(buf, self->pattern + 4096, 4096));
	close(pfd[0]);
	close(pfd[1]);

	ASSERT_EQ(0, ftruncate(o, 0));
	off = 0;
	{
		loff_t ooff = 0;
		ssize_t done = 0;

		while (done < BIG) {
			n = copy_file_range(in, &off, o, &ooff, BIG - done, 0);
			if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP))
				break;	/* cross-fs: userspace falls back */
			ASSERT_GT(n, 0);
			done += n;
		}
		if (done == BIG) {
			EXPECT_EQ(BIG, pread(o, buf, BIG, 0));
			EXPECT_EQ(0, memcmp(buf, self->pattern, BIG));
		}
	}
	close(in);
	close(o);
	free(buf);
}

TEST_F_TIMEOUT(io, o_direct_as_backing_fs, UFS_TEST_TIMEOUT)
{
	const char *fs = getenv("UNIONFS_FS");
	void *buf;
	int fd, rfd;

	/* O_DIRECT through the union works exactly where it works below. */
	rfd = open(ufs_path(self->e.lower[1], "big"), O_RDONLY | O_DIRECT);
	fd = open(ufs_path(self->e.mnt, "big"), O_RDONLY | O_DIRECT);
	if (rfd < 0) {
		EXPECT_LT(fd, 0);
		SKIP(return, "%s has no O_DIRECT", fs ? fs : "backing fs");
	}
	close(rfd);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, posix_memalign(&buf, 4096, 65536));
	EXPECT_EQ(65536, pread(fd, buf, 65536, 65536));
	EXPECT_EQ(0, memcmp(buf, self->pattern + 65536, 65536));
	free(buf);
	close(fd);
}

TEST_F_TIMEOUT(io, seek_data_and_hole, UFS_TEST_TIMEOUT)
{
	int fd = open(ufs_path(self->e.mnt, "sparse"), O_RDONLY);
	int rfd = open(ufs_path(self->e.lower[0], "sparse"), O_RDONLY);

	ASSERT_GE(fd, 0);
	ASSERT_GE(rfd, 0);
	EXPECT_EQ(lseek(rfd, 0, SEEK_HOLE), lseek(fd, 0, SEEK_HOLE));
	EXPECT_EQ(lseek(rfd, 4096, SEEK_DATA), lseek(fd, 4096, SEEK_DATA));
	EXPECT_GE(lseek(fd, 4096, SEEK_DATA), 4096);
	close(fd);
	close(rfd);
}

TEST_F_TIMEOUT(io, symlinks_resolve, UFS_TEST_TIMEOUT)
{
	char buf[64];
	ssize_t n = readlink(ufs_path(self->e.mnt, "rel-link"), buf, sizeof(buf));

	ASSERT_EQ(6, n);
	EXPECT_EQ(0, memcmp(buf, "target", 6));
	/* the link is in the top layer, its target in the one below */
	EXPECT_STREQ("via-link", ufs_get(self->e.mnt, "rel-link"));
	EXPECT_EQ(NULL, ufs_get(self->e.mnt, "dangling"));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F_TIMEOUT(io, special_files_behave, UFS_TEST_TIMEOUT)
{
	char c;
	int fd = open(ufs_path(self->e.mnt, "null"), O_RDWR);
	struct stat st;

	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, read(fd, &c, 1));
	EXPECT_EQ(1, write(fd, "x", 1));	/* a device, not a layer write */
	close(fd);
	ASSERT_EQ(0, lstat(ufs_path(self->e.mnt, "fifo"), &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	fd = open(ufs_path(self->e.mnt, "fifo"), O_RDONLY | O_NONBLOCK);
	EXPECT_GE(fd, 0);
	close(fd);
}

TEST_F_TIMEOUT(io, executables_run, UFS_TEST_TIMEOUT)
{
	int pfd[2], status;
	char out[64] = "";
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		execl(ufs_path(self->e.mnt, "script"), "script", NULL);
		_exit(127);
	}
	close(pfd[1]);
	EXPECT_GT(read(pfd[0], out, sizeof(out) - 1), 0);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_STREQ("ran-from-union\n", out);
}

/* --- what /proc/PID/maps shows of a mapped union file -------------------- */

FIXTURE(maps) {
	struct ufs_env e;
};

/* 256 KiB (four chunks of the default 64 KiB), byte i is maps_byte(i) */
#define MAPS_BIG	(256 << 10)
#define MAPS_CHUNK	(64 << 10)

static char maps_byte(off_t off)
{
	return 'a' + (off * 7 + off / 4096) % 26;
}

static int maps_put_big(const char *path)
{
	static char buf[MAPS_BIG];
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	off_t i;

	if (fd < 0)
		return -1;
	for (i = 0; i < MAPS_BIG; i++)
		buf[i] = maps_byte(i);
	if (write(fd, buf, MAPS_BIG) != MAPS_BIG) {
		close(fd);
		return -1;
	}
	return close(fd);
}

FIXTURE_SETUP(maps)
{
	char data[8192];

	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	ASSERT_EQ(0, ufs_env_init(&self->e, 1));
	ASSERT_EQ(0, ufs_put(self->e.lower[0], "lib.so", data));
	ASSERT_EQ(0, maps_put_big(ufs_path(self->e.lower[0], "big")));
	ASSERT_EQ(0, ufs_env_mount(&self->e, 1, 0));
}

FIXTURE_TEARDOWN(maps)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

/*
 * The path /proc/self/maps shows for the mapping at @addr, and the target
 * of its /proc/self/map_files link, into @path and @link ("" if none).
 */
static void maps_entry(void *addr, char *path, char *link, size_t size)
{
	unsigned long a = (unsigned long)addr, start, end;
	char line[PATH_MAX + 256], name[64];
	FILE *f = fopen("/proc/self/maps", "r");
	ssize_t n;
	int off;

	path[0] = link[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*x %*x:%*x %*u %n", &start, &end, &off) < 2 ||
		    a < start || a >= end)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, size, "%s", line + off);
		snprintf(name, sizeof(name), "/proc/self/map_files/%lx-%lx", start, end);
		n = readlink(name, link, size - 1);
		link[n > 0 ? n : 0] = '\0';
		break;
	}
	fclose(f);
}

/*
 * Issue 14 item 22: a mapped union file shows as the union path in
 * /proc/PID/maps and map_files (it showed the layer-relative "/lib.so"),
 * read-only on the lower file, shared and written after copy-up (msync
 * reaches the upper file).
 */
TEST_F_TIMEOUT(maps, maps_show_the_union_path, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *want = ufs_path(e->mnt, "lib.so");
	char path[PATH_MAX], link[PATH_MAX];
	int fd, wfd;
	char *p, *q;

	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ('x', p[0]);
	maps_entry(p, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("lower file: maps");
	EXPECT_STREQ(want, link) TH_LOG("lower file: map_files");

	wfd = open(want, O_RDWR);	/* copies up */
	ASSERT_GE(wfd, 0);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	q[0] = 'y';
	EXPECT_EQ(0, msync(q, 8192, MS_SYNC));
	maps_entry(q, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("upper file: maps");
	EXPECT_STREQ(want, link) TH_LOG("upper file: map_files");
	EXPECT_EQ('y', ufs_get(e->upper, "lib.so")[0]);
	EXPECT_EQ('y', ufs_get(e->mnt, "lib.so")[0]);
	maps_entry(p, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("lower file after copy-up: maps");
	munmap(p, 8192);
	/* the read-only fd maps the upper file now, as the union path */
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ('y', p[0]);
	maps_entry(p, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("old fd after copy-up: maps");
	EXPECT_STREQ(want, link) TH_LOG("old fd after copy-up: map_files");
	munmap(p, 8192);
	munmap(q, 8192);
	close(fd);
	close(wfd);
	free(want);
}

/*
 * Does the mapping of @len bytes at @p hold maps_byte(), but @str at
 * @at (or nowhere if @str is NULL)? Reads every byte through the mapping.
 */
static int maps_big_is(const char *p, size_t len, off_t at, const char *str)
{
	size_t i, n = str ? strlen(str) : 0;

	for (i = 0; i < len; i++) {
		char want = (off_t)i >= at && i - at < n ? str[i - at] :
			    maps_byte(i);

		if (p[i] != want)
			return 0;
	}
	return 1;
}

/*
 * A metacopy file (chmod copies up only its attributes) mapped read-only
 * with no chunk up (the mapping takes the lower data), then with one chunk
 * written (the union's own page cache): the union path either way, and
 * the data through the mapping is the file's.
 */
TEST_F_TIMEOUT(maps, metacopy_maps_show_the_union_path, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *want = ufs_path(e->mnt, "big");
	char path[PATH_MAX], link[PATH_MAX];
	char *p, *q;
	int fd, wfd;

	ASSERT_EQ(0, chmod(want, 0640));
	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, MAPS_BIG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(maps_big_is(p, MAPS_BIG, 0, NULL));
	maps_entry(p, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("metacopy, no chunk up: maps");
	EXPECT_STREQ(want, link) TH_LOG("metacopy, no chunk up: map_files");
	munmap(p, MAPS_BIG);
	close(fd);

	/* one chunk written (or, where it clones, the whole file up) */
	wfd = open(want, O_WRONLY);
	ASSERT_GE(wfd, 0);
	ASSERT_EQ(3, pwrite(wfd, "XYZ", 3, MAPS_CHUNK + 5));
	close(wfd);
	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, MAPS_BIG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(maps_big_is(p, MAPS_BIG, MAPS_CHUNK + 5, "XYZ"));
	maps_entry(p, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("metacopy, a chunk up: maps");
	EXPECT_STREQ(want, link) TH_LOG("metacopy, a chunk up: map_files");
	/* a shared writable mapping, written and synced */
	wfd = open(want, O_RDWR);
	ASSERT_GE(wfd, 0);
	q = mmap(NULL, MAPS_BIG, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	memcpy(q + 3 * MAPS_CHUNK + 1, "mapped", 6);
	EXPECT_EQ(0, msync(q, MAPS_BIG, MS_SYNC));
	maps_entry(q, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("metacopy, written mapping: maps");
	EXPECT_EQ(0, memcmp(p + 3 * MAPS_CHUNK + 1, "mapped", 6));
	munmap(q, MAPS_BIG);
	munmap(p, MAPS_BIG);
	close(fd);
	close(wfd);
	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, MAPS_BIG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p + MAPS_CHUNK + 5, "XYZ", 3));
	EXPECT_EQ(0, memcmp(p + 3 * MAPS_CHUNK + 1, "mapped", 6));
	EXPECT_EQ(maps_byte(0), p[0]);
	EXPECT_EQ(maps_byte(MAPS_BIG - 1), p[MAPS_BIG - 1]);
	munmap(p, MAPS_BIG);
	close(fd);
	free(want);
}

/*
 * A union whose lower layer is another union: its files are mapped
 * through both (this recursed without end on 6.1 in the reverted first
 * fix). The lower union is a stacked layer, opened as it is: a mapping of
 * a file still in it shows what the lower union presents (its private
 * mount's path), one copied up shows the upper union's path.
 */
TEST_F_TIMEOUT(maps, union_on_a_union_maps, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *top = ufs_path(e->base, "top");
	char *up2 = ufs_path(e->base, "upper2");
	char *work2 = ufs_path(e->base, "work2");
	char *want = ufs_path(top, "lib.so");
	char *big = ufs_path(top, "big");
	char path[PATH_MAX], link[PATH_MAX], opts[4096];
	size_t n;
	char *p, *q;
	int fd, wfd;

	ASSERT_EQ(0, mkdir(top, 0755));
	ASSERT_EQ(0, mkdir(up2, 0755));
	ASSERT_EQ(0, mkdir(work2, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->mnt, up2, work2);
	ASSERT_EQ(0, ufs_mount(top, opts)) TH_LOG("mount: %s", strerror(errno));

	/* still in the lower union (the crash of the first fix) */
	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ('x', p[0]);
	EXPECT_EQ('x', p[8190]);
	maps_entry(p, path, link, sizeof(path));
	n = strlen(path);
	EXPECT_TRUE(n >= 7 && !strcmp(path + n - 7, "/lib.so"))
		TH_LOG("lower union's file: maps shows '%s'", path);

	/* the lower union's metacopy file, mapped through the upper union */
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "big"), 0640));
	wfd = open(big, O_RDONLY);
	ASSERT_GE(wfd, 0);
	q = mmap(NULL, MAPS_BIG, PROT_READ, MAP_PRIVATE, wfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_TRUE(maps_big_is(q, MAPS_BIG, 0, NULL));
	munmap(q, MAPS_BIG);
	close(wfd);

	/* copied up into the upper union: its path */
	wfd = open(want, O_RDWR);
	ASSERT_GE(wfd, 0);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	q[0] = 'y';
	EXPECT_EQ(0, msync(q, 8192, MS_SYNC));
	maps_entry(q, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("upper union's file: maps");
	EXPECT_STREQ(want, link) TH_LOG("upper union's file: map_files");
	EXPECT_EQ('y', ufs_get(up2, "lib.so")[0]);
	EXPECT_EQ('y', ufs_get(top, "lib.so")[0]);
	EXPECT_EQ('x', ufs_get(e->mnt, "lib.so")[0]);
	EXPECT_EQ('x', p[0]);

	/* the lower union's own mapping of it shows its path */
	munmap(q, 8192);
	close(wfd);
	free(want);
	want = ufs_path(e->mnt, "lib.so");
	wfd = open(want, O_RDONLY);
	ASSERT_GE(wfd, 0);
	q = mmap(NULL, 8192, PROT_READ, MAP_SHARED, wfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ('x', q[0]);
	maps_entry(q, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("lower union's own mapping: maps");
	munmap(q, 8192);
	close(wfd);

	munmap(p, 8192);
	close(fd);
	EXPECT_EQ(0, umount2(top, 0));
	free(want);
	free(big);
	free(top);
	free(up2);
	free(work2);
}

/*
 * overlayfs on a union, and a union on overlayfs: mappings through either
 * read the file and show the top filesystem's path (the union's real file
 * of a file in an overlayfs lower layer is the overlayfs file, a stacked
 * layer's: its own open, and what overlayfs presents).
 */
TEST_F_TIMEOUT(maps, overlayfs_stacked_with_a_union_maps, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *ovl = ufs_path(e->base, "ovl"), *oup = ufs_path(e->base, "oup");
	char *owk = ufs_path(e->base, "owk"), *top = ufs_path(e->base, "top");
	char *up2 = ufs_path(e->base, "upper2"), *wk2 = ufs_path(e->base, "work2");
	char *want = ufs_path(ovl, "lib.so");
	char path[PATH_MAX], link[PATH_MAX], opts[4096];
	char *p, *q;
	int fd, wfd;

	ASSERT_EQ(0, mkdir(ovl, 0755));
	ASSERT_EQ(0, mkdir(oup, 0755));
	ASSERT_EQ(0, mkdir(owk, 0755));
	ASSERT_EQ(0, mkdir(top, 0755));
	ASSERT_EQ(0, mkdir(up2, 0755));
	ASSERT_EQ(0, mkdir(wk2, 0755));

	/* overlayfs with the union as its lower layer */
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->mnt, oup, owk);
	ASSERT_EQ(0, mount("overlay", ovl, "overlay", 0, opts))
		TH_LOG("overlay on the union: %s", strerror(errno));
	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ('x', p[0]);
	EXPECT_EQ('x', p[8190]);
	maps_entry(p, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("overlayfs on the union: maps");
	EXPECT_STREQ(want, link) TH_LOG("overlayfs on the union: map_files");
	munmap(p, 8192);
	close(fd);
	/* the union's metacopy file, mapped through overlayfs */
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "big"), 0640));
	fd = open(ufs_path(ovl, "big"), O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, MAPS_BIG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(maps_big_is(p, MAPS_BIG, 0, NULL));
	munmap(p, MAPS_BIG);
	close(fd);
	ASSERT_EQ(0, umount(ovl));

	/* a union with an overlayfs mount (over e's lower) as its lower */
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], oup, owk);
	ufs_rm_rf(oup);
	ufs_rm_rf(owk);
	ASSERT_EQ(0, mkdir(oup, 0755));
	ASSERT_EQ(0, mkdir(owk, 0755));
	ASSERT_EQ(0, mount("overlay", ovl, "overlay", 0, opts))
		TH_LOG("overlay: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 ovl, up2, wk2);
	ASSERT_EQ(0, ufs_mount(top, opts)) TH_LOG("union on overlayfs: %s", strerror(errno));
	free(want);
	want = ufs_path(top, "lib.so");
	fd = open(want, O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ('x', p[0]);
	maps_entry(p, path, link, sizeof(path));
	EXPECT_TRUE(path[0] == '/') TH_LOG("union on overlayfs, lower file: '%s'", path);
	wfd = open(want, O_RDWR);	/* copies up into the union's upper */
	ASSERT_GE(wfd, 0);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	q[1] = 'z';
	EXPECT_EQ(0, msync(q, 8192, MS_SYNC));
	maps_entry(q, path, link, sizeof(path));
	EXPECT_STREQ(want, path) TH_LOG("union on overlayfs, copied up: maps");
	EXPECT_EQ('z', ufs_get(up2, "lib.so")[1]);
	EXPECT_EQ('x', p[1]);
	munmap(q, 8192);
	munmap(p, 8192);
	close(wfd);
	close(fd);
	EXPECT_EQ(0, umount(top));
	EXPECT_EQ(0, umount(ovl));
	free(want);
	free(ovl);
	free(oup);
	free(owk);
	free(top);
	free(up2);
	free(wk2);
}

TEST_HARNESS_MAIN
