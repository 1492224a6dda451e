// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults during copy-up and writes: ENOSPC on a small ext4 upper, EIO from a
 * device-mapper upper (error and flakey targets) while copy-ups and writes
 * run. Each test checks the layer directories afterwards: no staging
 * leftover in workdir, no partial file in upper, every union file is either
 * its lower content or a complete copy-up, and the lower layer is unchanged
 * (fingerprint before/after). Layers: lower on tmpfs (/tmp), upper on a
 * filesystem in a loop-backed image (optionally through device-mapper).
 */
#include "rel.h"
#include "kselftest_harness.h"

#define DM_NAME "ufsrel"

FIXTURE(f) {
	struct ufs_env e;
	char img[PATH_MAX];
	char loop[64];
	char dev[64];		/* what the upper fs sits on: loop or dm */
	char fs[PATH_MAX];	/* the upper filesystem's mount point */
	char up[PATH_MAX];
	char work[PATH_MAX];
	char opts[4096];
	int dm;
	int fs_mounted;
};

FIXTURE_SETUP(f)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 1));
	snprintf(self->img, sizeof(self->img), "%s/upper.img", self->e.base);
	snprintf(self->fs, sizeof(self->fs), "%s/fs", self->e.base);
	snprintf(self->up, sizeof(self->up), "%s/fs/u", self->e.base);
	snprintf(self->work, sizeof(self->work), "%s/fs/w", self->e.base);
}

FIXTURE_TEARDOWN(f)
{
	if (self->e.mounted)
		umount2(self->e.mnt, MNT_DETACH);
	self->e.mounted = 0;
	if (self->fs_mounted)
		umount2(self->fs, MNT_DETACH);
	if (self->dm)
		rel_sh("dmsetup remove --noudevsync " DM_NAME " >&2");
	if (self->loop[0])
		rel_sh("losetup -d %s", self->loop);
	ufs_env_fini(&self->e);
}

/* Upper filesystem of @mb MiB (through dm linear when @dm), union mounted. */
static int setup_upper(FIXTURE_DATA(f) *self, int mb, int dm)
{
	if (rel_loop(self->img, mb, self->loop, sizeof(self->loop)))
		return -1;
	snprintf(self->dev, sizeof(self->dev), "%s", self->loop);
	if (dm) {
		rel_sh("modprobe -q dm-mod; modprobe -q dm-flakey");
		if (rel_sh("dmsetup create --noudevsync " DM_NAME
			   " --table \"0 $(blockdev --getsz %s) linear %s 0\" >&2",
			   self->loop, self->loop))
			return -1;
		self->dm = 1;
		if (rel_out(self->dev, sizeof(self->dev),
			    "echo /dev/$(dmsetup info -c --noheadings -o blkdevname "
			    DM_NAME ")"))
			return -1;
	}
	if (rel_mkfs_mount("ext4", self->dev, self->fs, ""))
		return -1;
	self->fs_mounted = 1;
	if (mkdir(self->up, 0755) || mkdir(self->work, 0755))
		return -1;
	/*
	 * Whole-file copy-ups (chunk=0): an open for write copies all the
	 * data. Partial copy-ups running out of space: write.c.
	 */
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s,upperdir=%s,workdir=%s,chunk=0",
		 self->e.lower[0], self->up, self->work);
	return 0;
}

static int mount_union(FIXTURE_DATA(f) *self)
{
	self->e.fp[0] = ufs_fingerprint(self->e.lower[0]);
	if (ufs_mount(self->e.mnt, self->opts))
		return -1;
	self->e.mounted = 1;
	return 0;
}

static void dm_table(const char *table_fmt, const char *loop)
{
	char table[256];

	snprintf(table, sizeof(table), table_fmt, loop);
	rel_sh("dmsetup suspend --noudevsync --nolockfs " DM_NAME
	       " && dmsetup load " DM_NAME " --table \"0 $(blockdev --getsz %s) %s\""
	       " && dmsetup resume --noudevsync " DM_NAME " >&2", loop, table);
}

/* Union file NAME is the lower content or a complete copy-up (maybe poked). */
static int old_or_complete(FIXTURE_DATA(f) *self, const char *name,
			   size_t size, unsigned int seed, char poke)
{
	char *p = ufs_path(self->e.mnt, "%s", name);
	int r = rel_check(p, size, seed);

	if (r == 1 && poke)
		r = rel_check_poked(p, size, seed, 0, poke);
	free(p);
	return r;
}

/*
 * A copy-up that does not fit in an ext4 upper fails with ENOSPC and leaves
 * nothing behind; copy-ups that fit work; after space is freed, writes work
 * again; a remount shows the same.
 */
TEST_F_TIMEOUT(f, enospc_ext4_copy_up, UFS_TEST_TIMEOUT)
{
	long long avail;
	size_t big, med;
	int i, fd, ok = 0, nospc = 0;
	char name[32];

	ASSERT_EQ(0, setup_upper(self, 20, 0));
	avail = rel_free(self->fs);
	ASSERT_GT(avail, 4 << 20);
	big = avail + (2 << 20);
	med = avail / 4;
	ASSERT_EQ(0, rel_fill(ufs_path(self->e.lower[0], "big"), big, 1));
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "d/m%d", i);
		ASSERT_EQ(0, ufs_mkdir_in(self->e.lower[0], "d"));
		ASSERT_EQ(0, rel_fill(ufs_path(self->e.lower[0], "%s", name), med, 10 + i));
	}
	ASSERT_EQ(0, ufs_put(self->e.lower[0], "tiny", "t"));
	ASSERT_EQ(0, mount_union(self));

	/*
	 * does not fit: ENOSPC, nothing in upper, the lower file still shown
	 * (an open for write takes the whole file with chunk=0)
	 */
	EXPECT_EQ(-1, open(ufs_path(self->e.mnt, "big"), O_RDWR));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_FALSE(ufs_exists(self->up, "big"));
	EXPECT_EQ(0, rel_staging_left(self->work));
	EXPECT_EQ(0, old_or_complete(self, "big", big, 1, 0));
	/* a metadata change needs the data too: refused the same way, or done */
	if (chmod(ufs_path(self->e.mnt, "big"), 0600)) {
		EXPECT_EQ(ENOSPC, errno);
		EXPECT_FALSE(ufs_exists(self->up, "big"));
	}
	EXPECT_EQ(0, old_or_complete(self, "big", big, 1, 0));

	/* a quarter each: some fit, the rest fail cleanly */
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "d/m%d", i);
		fd = open(ufs_path(self->e.mnt, "%s", name), O_RDWR);
		if (fd >= 0) {
			ok++;
			close(fd);
			EXPECT_EQ(0, rel_check(ufs_path(self->up, "%s", name), med, 10 + i));
		} else {
			EXPECT_EQ(ENOSPC, errno);
			nospc++;
			EXPECT_FALSE(rel_existsf(self->up, "%s", name));
		}
		EXPECT_EQ(0, old_or_complete(self, name, med, 10 + i, 0));
		EXPECT_EQ(0, rel_staging_left(self->work));
	}
	EXPECT_GE(ok, 2);
	EXPECT_GE(nospc, 1);
	/* a write that fits into the space left still works */
	ASSERT_EQ(0, ufs_put(self->e.mnt, "tiny", "T"));
	EXPECT_STREQ("T", ufs_get(self->up, "tiny"));
	/* a new file that fits can still be made */
	ASSERT_EQ(0, rel_fill(ufs_path(self->e.mnt, "d/new"), 64 << 10, 3));
	EXPECT_EQ(0, rel_check(ufs_path(self->up, "d/new"), 64 << 10, 3));
	/* (space freed by unlinking a copied-up file: pending.c) */

	/* after a remount: the same view, nothing staged */
	ASSERT_EQ(0, rel_umount(self->e.mnt));
	self->e.mounted = 0;
	ASSERT_EQ(0, ufs_mount(self->e.mnt, self->opts));
	self->e.mounted = 1;
	EXPECT_EQ(0, old_or_complete(self, "big", big, 1, 0));
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "d/m%d", i);
		EXPECT_EQ(0, old_or_complete(self, name, med, 10 + i, 0));
	}
	EXPECT_EQ(0, rel_staging_left(self->work));
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
}

/*
 * Concurrent copy-ups racing for the last space: each is all or nothing
 * (all of them may fail: each holds part of the space when it runs out).
 * Retried one by one afterwards, as many fit as the space allows.
 */
TEST_F_TIMEOUT(f, enospc_ext4_concurrent_copy_ups, UFS_TEST_TIMEOUT)
{
	enum { N = 4 };
	long long avail;
	size_t sz;
	pid_t pid[N];
	int i, st, ok = 0, fd;

	ASSERT_EQ(0, setup_upper(self, 20, 0));
	avail = rel_free(self->fs);
	sz = avail * 2 / 5;
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, rel_fill(ufs_path(self->e.lower[0], "c%d", i), sz, 20 + i));
	ASSERT_EQ(0, mount_union(self));
	for (i = 0; i < N; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i]) {
			fd = open(ufs_path(self->e.mnt, "c%d", i), O_RDWR);
			if (fd < 0)
				_exit(errno == ENOSPC ? 10 : 1);
			if (pwrite(fd, "C", 1, 1) != 1)
				_exit(2);
			_exit(close(fd) ? 3 : 0);
		}
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		ASSERT_TRUE(WIFEXITED(st));
		if (WEXITSTATUS(st) == 0) {
			ok++;
			EXPECT_EQ(0, rel_check_poked(ufs_path(self->e.mnt, "c%d", i),
						     sz, 20 + i, 1, 'C'));
		} else {
			EXPECT_EQ(10, WEXITSTATUS(st));
			EXPECT_FALSE(rel_existsf(self->up, "c%d", i));
			EXPECT_EQ(0, rel_check(ufs_path(self->e.mnt, "c%d", i), sz, 20 + i));
		}
	}
	EXPECT_LE(ok, 2);
	EXPECT_EQ(0, rel_staging_left(self->work));
	TH_LOG("%d of %d concurrent copy-ups fitted", ok, N);
	/* one by one: two fit in all */
	for (i = 0; i < N; i++) {
		if (rel_existsf(self->up, "c%d", i))
			continue;
		fd = open(ufs_path(self->e.mnt, "c%d", i), O_RDWR);
		if (fd >= 0) {
			ok++;
			close(fd);
			EXPECT_EQ(0, rel_check(ufs_path(self->up, "c%d", i), sz, 20 + i));
		} else {
			EXPECT_EQ(ENOSPC, errno);
			EXPECT_FALSE(rel_existsf(self->up, "c%d", i));
			EXPECT_EQ(0, rel_check(ufs_path(self->e.mnt, "c%d", i), sz, 20 + i));
		}
		EXPECT_EQ(0, rel_staging_left(self->work));
	}
	EXPECT_EQ(2, ok);
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
}

/*
 * The union and the upper's filesystem both unmount (while the device
 * fails); then the device works again: fsck, mount both anew. 0 or -1.
 */
static int unmount_recover_remount(struct __test_metadata *_metadata,
				   FIXTURE_DATA(f) *self)
{
	EXPECT_EQ(0, rel_umount(self->e.mnt));
	self->e.mounted = 0;
	EXPECT_EQ(0, rel_umount(self->fs));
	self->fs_mounted = 0;
	dm_table("linear %s 0", self->loop);
	rel_sh("e2fsck -fy %s >/dev/null 2>&1", self->dev);
	if (mount(self->dev, self->fs, "ext4", 0, ""))
		return -1;
	self->fs_mounted = 1;
	if (ufs_mount(self->e.mnt, self->opts))
		return -1;
	self->e.mounted = 1;
	return 0;
}

/*
 * Workers copy up and write while the upper's device starts failing. Every
 * operation ends with success or an I/O error (no hang, no signal); files
 * whose copy-up failed still show the lower content; the union and the upper
 * unmount. Then the device works again: after fsck and a remount, every
 * file is its lower content or a complete copy-up, and nothing is staged.
 */
enum { EIO_FILES = 36, EIO_LATE = 6, EIO_WORKERS = 3 };
#define EIO_SIZE (64 << 10)

struct eio_result {
	int open_err[EIO_FILES];	/* 0, or errno of the copy-up */
	int done[EIO_FILES];
	int bad_errno;
};

static void eio_worker(FIXTURE_DATA(f) *self, struct eio_result *r, int w)
{
	int i;

	for (i = w; i < EIO_FILES; i += EIO_WORKERS) {
		char *p = ufs_path(self->e.mnt, "e/f%d", i);
		int fd = open(p, O_RDWR);

		free(p);
		if (fd < 0) {
			r->open_err[i] = errno;
			if (errno != EIO && errno != EROFS)
				r->bad_errno = errno;
			r->done[i] = 1;
			continue;
		}
		if (pwrite(fd, "W", 1, 0) != 1 || fsync(fd)) {
			if (errno != EIO && errno != EROFS && errno != ENOSPC)
				r->bad_errno = errno;
		}
		close(fd);
		r->done[i] = 1;
		usleep(10000);
		/* new files and renames in the same upper directory */
		p = ufs_path(self->e.mnt, "e/new%d", i);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0) {
			if (write(fd, "new", 3) < 0 && errno != EIO && errno != EROFS &&
			    errno != ENOSPC)
				r->bad_errno = errno;
			close(fd);
			char *q = ufs_path(self->e.mnt, "e/ren%d", i);

			if (rename(p, q) && errno != EIO && errno != EROFS)
				r->bad_errno = errno;
			free(q);
		} else if (errno != EIO && errno != EROFS && errno != ENOSPC) {
			r->bad_errno = errno;
		}
		free(p);
	}
}

static void eio_run(struct __test_metadata *_metadata, FIXTURE_DATA(f) *self,
		    const char *fail_table, int must_fail)
{
	struct eio_result *r;
	pid_t pid[EIO_WORKERS];
	int i, st, errs = 0, fd;
	char name[32];

	ASSERT_EQ(0, setup_upper(self, 64, 1));
	for (i = 0; i < EIO_FILES + EIO_LATE; i++) {
		snprintf(name, sizeof(name), "e/f%d", i);
		ASSERT_EQ(0, ufs_mkdir_in(self->e.lower[0], "e"));
		ASSERT_EQ(0, rel_fill(ufs_path(self->e.lower[0], "%s", name),
				      EIO_SIZE, 100 + i));
	}
	ASSERT_EQ(0, mount_union(self));
	/* a few copy-ups before the device fails */
	for (i = 0; i < 4; i++) {
		fd = open(ufs_path(self->e.mnt, "e/f%d", i), O_RDWR);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(1, pwrite(fd, "A", 1, 0));
		close(fd);
	}
	fd = open(self->e.mnt, O_RDONLY);
	ASSERT_EQ(0, syncfs(fd));
	close(fd);

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	for (i = 0; i < EIO_WORKERS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i]) {
			eio_worker(self, r, i);
			_exit(0);
		}
	}
	/* let some copy-ups go through, then fail the device under them */
	for (i = 0; i < 100 && r->done[EIO_WORKERS * 2] + r->done[EIO_WORKERS * 2 + 1] == 0; i++)
		usleep(20000);
	dm_table(fail_table, self->loop);
	for (i = 0; i < EIO_WORKERS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	EXPECT_EQ(0, r->bad_errno);
	for (i = 0; i < EIO_FILES; i++) {
		EXPECT_TRUE(r->done[i]);
		if (!r->open_err[i])
			continue;
		errs++;
		/* the copy-up failed: the union still shows the lower file */
		snprintf(name, sizeof(name), "e/f%d", i);
		EXPECT_EQ(0, old_or_complete(self, name, EIO_SIZE, 100 + i, 0));
	}
	/*
	 * Copy-ups on the failed device: errors (a flakey device that is up
	 * again may take them: then they are complete).
	 */
	for (i = EIO_FILES; i < EIO_FILES + EIO_LATE; i++) {
		/* flakey: spread over more than one period (2 s), so some fail */
		if (!must_fail)
			usleep(400000);
		fd = open(ufs_path(self->e.mnt, "e/f%d", i), O_RDWR);
		if (fd >= 0) {
			EXPECT_FALSE(must_fail)
				TH_LOG("copy-up of e/f%d on a failed device succeeded", i);
			close(fd);
		} else {
			EXPECT_TRUE(errno == EIO || errno == EROFS);
			errs++;
		}
		snprintf(name, sizeof(name), "e/f%d", i);
		EXPECT_EQ(0, old_or_complete(self, name, EIO_SIZE, 100 + i, 0));
	}
	EXPECT_GT(errs, 0);
	TH_LOG("%d copy-ups refused with I/O errors", errs);
	/* readdir and stat on the failed upper: any result but no crash */
	rel_entries(ufs_path(self->e.mnt, "e"));

	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ASSERT_EQ(0, unmount_recover_remount(_metadata, self));
	EXPECT_EQ(0, rel_staging_left(self->work));
	for (i = 0; i < EIO_FILES + EIO_LATE; i++) {
		snprintf(name, sizeof(name), "e/f%d", i);
		EXPECT_TRUE(!old_or_complete(self, name, EIO_SIZE, 100 + i, 'A') ||
			    !old_or_complete(self, name, EIO_SIZE, 100 + i, 'W'))
			TH_LOG("%s: neither its lower content nor a complete copy-up",
			       name);
	}
	EXPECT_EQ(0, rel_umount(self->e.mnt));
	self->e.mounted = 0;
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	munmap(r, sizeof(*r));
}

/* dm "error": every I/O of the upper fails from one moment on. */
TEST_F_TIMEOUT(f, eio_error_target, UFS_TEST_TIMEOUT)
{
	eio_run(_metadata, self, "error", 1);
}

/* dm-flakey: the upper fails one second in two (reads and writes). */
TEST_F_TIMEOUT(f, eio_flakey_target, UFS_TEST_TIMEOUT)
{
	const char *dbg = getenv("UNIONFS_DEBUG_KERNEL");

	/* (error and error_writes cover EIO there; the whole test takes minutes) */
	if (dbg && *dbg == '1')
		SKIP(return, "slow on the KASAN kernel");
	eio_run(_metadata, self, "flakey %s 0 1 1", 0);
}

/* dm-flakey error_writes: reads work, every write fails. */
TEST_F_TIMEOUT(f, eio_flakey_error_writes, UFS_TEST_TIMEOUT)
{
	eio_run(_metadata, self, "flakey %s 0 0 1 1 error_writes", 1);
}

/*
 * @path is pattern @seed of @size bytes, except that byte @must_off is
 * @must, and byte @may_off is @may or the pattern. 0: so; 1: different
 * (a zeroed or stale range); -errno: unreadable.
 */
static int pattern_with_writes(const char *path, size_t size, unsigned int seed,
			       long must_off, char must, long may_off, char may)
{
	static unsigned char buf[65536];
	int fd = open(path, O_RDONLY), diff = 0;
	size_t off = 0, j;
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (size_t)st.st_size != size) {
		close(fd);
		return 1;
	}
	while (!diff && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (j = 0; j < (size_t)n && !diff; j++) {
			long i = off + j;
			unsigned char want = rel_byte(seed, i);

			if (i == must_off)
				want = (unsigned char)must;
			else if (i == may_off && buf[j] == (unsigned char)may)
				want = (unsigned char)may;
			diff = buf[j] != want;
		}
		off += n;
	}
	if (!diff && n < 0)
		diff = -errno;
	close(fd);
	return diff ? diff : off != size;
}

/* an I/O error, or the read-only state ext4 falls into after one */
static int io_failed(long ret)
{
	return ret < 0 && (errno == EIO || errno == EROFS);
}

/*
 * Partial copy-ups (64 KiB chunks) and the completion of a metadata-only
 * copy-up while every write to the upper's device fails (dm-flakey
 * error_writes: the chunk data, the chunk map xattr and the journal all
 * fail to reach the disk). The writes that were synced before the failure
 * are kept; what could not be written is reported (EIO, or EROFS once ext4
 * gave up); reads never show zeros or stale bytes, neither on the failed
 * device nor after recovery (fsck, remount): each file is its lower
 * content plus exactly the writes that were made durable, and a chunk the
 * map marks copied holds its data.
 */
TEST_F_TIMEOUT(f, eio_during_partial_copy_up_and_fill, UFS_TEST_TIMEOUT)
{
	const size_t big = 8 << 20, meta = 2 << 20;
	const long late = (1 << 20) + 5;	/* chunk 16 */
	char buf[65536];
	struct stat st;
	int fd, mfd, ret;
	size_t i;

	ASSERT_EQ(0, setup_upper(self, 64, 1));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s,upperdir=%s,workdir=%s,chunk=64k",
		 self->e.lower[0], self->up, self->work);
	ASSERT_EQ(0, rel_fill(ufs_path(self->e.lower[0], "p"), big, 7));
	ASSERT_EQ(0, rel_fill(ufs_path(self->e.lower[0], "m"), meta, 9));
	ASSERT_EQ(0, mount_union(self));

	/* a chunk copied up and synced; a metadata-only copy-up, synced */
	fd = open(ufs_path(self->e.mnt, "p"), O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pwrite(fd, "A", 1, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, chmod(ufs_path(self->e.mnt, "m"), 0600));
	ASSERT_EQ(0, syncfs(fd));
	/* the partial copy-up really is partial: the upper file is sparse */
	ASSERT_EQ(0, stat(ufs_path(self->up, "p"), &st));
	ASSERT_LT((size_t)st.st_blocks * 512, big / 2);

	dm_table("flakey %s 0 0 1 1 error_writes", self->loop);

	/* a new chunk: its copy or the sync after it fails */
	ret = pwrite(fd, "B", 1, late);
	if (ret == 1)
		ret = fsync(fd);
	EXPECT_TRUE(io_failed(ret))
		TH_LOG("a chunk copy-up on a failing device: %d (%s)", ret,
		       strerror(errno));
	/* reading that chunk back: its data or an error, never zeros */
	ret = pread(fd, buf, sizeof(buf), late & ~0xffffL);
	if (ret >= 0) {
		EXPECT_EQ((int)sizeof(buf), ret);
		for (i = 0; i < sizeof(buf); i++) {
			long at = (late & ~0xffffL) + i;

			if (at == late && buf[i] == 'B')
				continue;
			if ((unsigned char)buf[i] != rel_byte(7, at)) {
				EXPECT_EQ(rel_byte(7, at), (unsigned char)buf[i])
					TH_LOG("byte %ld", at);
				break;
			}
		}
	} else {
		EXPECT_TRUE(io_failed(ret));
	}
	close(fd);

	/* completing the metadata-only copy-up (truncate fills it first) */
	mfd = open(ufs_path(self->e.mnt, "m"), O_RDWR);
	if (mfd >= 0) {
		ret = ftruncate(mfd, meta / 2);
		if (!ret)
			ret = fsync(mfd);
		EXPECT_TRUE(io_failed(ret))
			TH_LOG("completing a metadata-only copy-up on a failing device: %d",
			       ret);
		close(mfd);
	} else {
		EXPECT_TRUE(io_failed(mfd));
	}

	ASSERT_EQ(0, unmount_recover_remount(_metadata, self));

	EXPECT_EQ(0, pattern_with_writes(ufs_path(self->e.mnt, "p"), big, 7,
					 0, 'A', late, 'B'));
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "m"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	/* the fill or truncate was not made durable, or all of it was */
	EXPECT_EQ(0, rel_check(ufs_path(self->e.mnt, "m"),
			       (size_t)st.st_size == meta ? meta : meta / 2, 9));
	EXPECT_EQ(0, rel_staging_left(self->work));

	/* and the union works on: the lost write can be made again */
	fd = open(ufs_path(self->e.mnt, "p"), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, pwrite(fd, "B", 1, late));
	EXPECT_EQ(0, fsync(fd));
	close(fd);
	EXPECT_EQ(0, rel_umount(self->e.mnt));
	self->e.mounted = 0;
	ASSERT_EQ(0, ufs_mount(self->e.mnt, self->opts));
	self->e.mounted = 1;
	EXPECT_EQ(0, pattern_with_writes(ufs_path(self->e.mnt, "p"), big, 7,
					 0, 'A', late, 'B'));
	fd = open(ufs_path(self->e.mnt, "p"), O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, pread(fd, buf, 1, late));
	EXPECT_EQ('B', buf[0]);
	close(fd);
	EXPECT_EQ(0, rel_umount(self->e.mnt));
	self->e.mounted = 0;
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
}

TEST_HARNESS_MAIN
