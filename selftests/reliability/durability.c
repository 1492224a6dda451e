// SPDX-License-Identifier: GPL-2.0-only
/*
 * Durability of partially copied files across a power cut, played with
 * device-mapper as fstests does: right after a sync call returns, the
 * upper's device is switched to dm-flakey drop_writes (from then on
 * nothing the filesystem writes reaches the disk, as after a power cut),
 * the union and the upper are unmounted, the device switched back, and
 * both mounted again (the upper replays its journal). Whatever fsync,
 * fdatasync, msync(MS_SYNC) or an O_DSYNC write made durable must be
 * there: the data and the chunk map that says where it is. And bytes a
 * cut leaves in a chunk the map does not record never come back.
 *
 * Each test is a kill point of its own, on a fresh ext4 or xfs upper. The
 * lower layer is on tmpfs, so writes copy chunks (an upper on the lower's
 * filesystem could clone whole files instead).
 */
#include "rel.h"
#include "kselftest_harness.h"

#define DM_NAME "ufsdur"
#define CHUNK (64 << 10)
#define BIG (16 * CHUNK)
#define SMALL 8192
#define SEED_BIG 1
#define SEED_SMALL 2

FIXTURE(cut) {
	struct ufs_env e;
	char img[PATH_MAX];
	char loop[64];
	char dev[64];
	char fs[PATH_MAX];	/* the upper filesystem's mount point */
	char opts[4096];
	int dm;
	int fs_mounted;
};

FIXTURE_VARIANT(cut) {
	const char *fstype;
};

FIXTURE_VARIANT_ADD(cut, ext4) {
	.fstype = "ext4",
};

FIXTURE_VARIANT_ADD(cut, xfs) {
	.fstype = "xfs",
};

/* A sparse lower file of BIG bytes: pattern SEED_BIG in chunk 0 only. */
static int put_sparse(const char *path)
{
	static unsigned char buf[CHUNK];
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	size_t i;

	if (fd < 0)
		return -1;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = rel_byte(SEED_BIG, i);
	if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf) || ftruncate(fd, BIG)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int dm_load(FIXTURE_DATA(cut) *self, const char *target)
{
	return rel_sh("dmsetup suspend --noudevsync --nolockfs " DM_NAME
		      " && dmsetup load " DM_NAME
		      " --table \"0 $(blockdev --getsz %s) %s %s 0%s\""
		      " && dmsetup resume --noudevsync " DM_NAME " >&2",
		      self->loop, target, self->loop,
		      strcmp(target, "flakey") ? "" : " 0 3600 1 drop_writes");
}

static int mount_union(FIXTURE_DATA(cut) *self)
{
	if (ufs_mount(self->e.mnt, self->opts))
		return -1;
	self->e.mounted = 1;
	return 0;
}

FIXTURE_SETUP(cut)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 1));
	ASSERT_EQ(0, rel_fill(ufs_path(e->lower[0], "big"), BIG, SEED_BIG));
	ASSERT_EQ(0, rel_fill(ufs_path(e->lower[0], "small"), SMALL, SEED_SMALL));
	ASSERT_EQ(0, put_sparse(ufs_path(e->lower[0], "sparse")));
	e->fp[0] = ufs_fingerprint(e->lower[0]);

	snprintf(self->img, sizeof(self->img), "%s/upper.img", e->base);
	snprintf(self->fs, sizeof(self->fs), "%s/fs", e->base);
	/* xfs wants 300 MiB at least; the image is sparse */
	ASSERT_EQ(0, rel_loop(self->img, 320, self->loop, sizeof(self->loop)));
	rel_sh("modprobe -q dm-mod; modprobe -q dm-flakey");
	ASSERT_EQ(0, rel_sh("dmsetup create --noudevsync " DM_NAME
			    " --table \"0 $(blockdev --getsz %s) linear %s 0\" >&2",
			    self->loop, self->loop));
	self->dm = 1;
	ASSERT_EQ(0, rel_out(self->dev, sizeof(self->dev), "echo /dev/$(dmsetup info "
			     "-c --noheadings -o blkdevname " DM_NAME ")"));
	ASSERT_EQ(0, rel_mkfs_mount(variant->fstype, self->dev, self->fs, ""));
	self->fs_mounted = 1;
	ASSERT_EQ(0, mkdir(ufs_path(self->fs, "u"), 0755));
	ASSERT_EQ(0, mkdir(ufs_path(self->fs, "w"), 0755));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 e->lower[0], self->fs, self->fs);
	ASSERT_EQ(0, mount_union(self));
}

FIXTURE_TEARDOWN(cut)
{
	if (self->e.mounted)
		umount2(self->e.mnt, MNT_DETACH);
	self->e.mounted = 0;
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	if (self->fs_mounted)
		umount2(self->fs, MNT_DETACH);
	if (self->dm)
		rel_sh("dmsetup remove --noudevsync " DM_NAME " >&2");
	if (self->loop[0])
		rel_sh("losetup -d %s", self->loop);
	ufs_env_fini(&self->e);
}

/* The power cut: nothing the upper writes from now on reaches its disk. */
static int cut_power(FIXTURE_DATA(cut) *self)
{
	return dm_load(self, "flakey");
}

/*
 * After the cut (the caller has closed its files): unmount everything, the
 * writes made meanwhile are lost; the disk back, mount again.
 */
static int restart(FIXTURE_DATA(cut) *self, const char *fstype)
{
	if (rel_umount(self->e.mnt))
		return -1;
	self->e.mounted = 0;
	if (rel_umount(self->fs))
		return -1;
	self->fs_mounted = 0;
	if (dm_load(self, "linear"))
		return -1;
	if (mount(self->dev, self->fs, fstype, 0, ""))
		return -1;
	self->fs_mounted = 1;
	return mount_union(self);
}

/* Bytes written at some offset: what the file must show after the cut. */
struct poke {
	off_t off;
	char c;
};

/*
 * Is @path the pattern @seed (@size bytes) but for @pokes? For the sparse
 * file (@seed 0): the pattern in chunk 0, zeros elsewhere.
 */
static int shows(const char *path, size_t size, unsigned int seed,
		 const struct poke *pokes, int nr)
{
	static unsigned char buf[BIG];
	int fd = open(path, O_RDONLY), i;
	ssize_t n;
	size_t j;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)size)
		return 0;
	for (j = 0; j < size; j++) {
		unsigned char want = seed ? rel_byte(seed, j) :
				     j < CHUNK ? rel_byte(SEED_BIG, j) : 0;

		for (i = 0; i < nr; i++)
			if (pokes[i].off == (off_t)j)
				want = pokes[i].c;
		if (buf[j] != want) {
			fprintf(stderr, "# %s: byte %zu is %#x, not %#x\n",
				path, j, buf[j], want);
			return 0;
		}
	}
	return 1;
}

static int pwrite1(int fd, char c, off_t off)
{
	return pwrite(fd, &c, 1, off) == 1 ? 0 : -1;
}

/* A chunk written and fsync'd: the plain case. */
TEST_F_TIMEOUT(cut, fsync_after_a_chunk_write, UFS_TEST_TIMEOUT)
{
	const char *big = ufs_path(self->e.mnt, "big");
	struct poke p[] = { { 7 * CHUNK + 3, 'S' } };
	int fd = open(big, O_WRONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite1(fd, p[0].c, p[0].off));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, cut_power(self));
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	EXPECT_TRUE(shows(big, BIG, SEED_BIG, p, 1));
}

/*
 * msync(MS_SYNC) of a page whose writeback already ran (a read of the
 * range flushed it and wrote the chunk map, without a sync): the map must
 * be made durable by the msync all the same.
 */
TEST_F_TIMEOUT(cut, msync_after_a_read_wrote_the_page_back, UFS_TEST_TIMEOUT)
{
	const char *big = ufs_path(self->e.mnt, "big");
	struct poke p[] = { { 3 * CHUNK + 5, 'M' } };
	char *map, c;
	int fd, rfd;

	fd = open(big, O_RDWR);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map[p[0].off] = p[0].c;
	rfd = open(big, O_RDONLY);
	ASSERT_GE(rfd, 0);
	ASSERT_EQ(1, pread(rfd, &c, 1, p[0].off));
	EXPECT_EQ(p[0].c, c);
	ASSERT_EQ(0, msync(map, BIG, MS_SYNC));
	ASSERT_EQ(0, cut_power(self));
	munmap(map, BIG);
	close(rfd);
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	EXPECT_TRUE(shows(big, BIG, SEED_BIG, p, 1));
}

/*
 * fdatasync after the close of another writer recorded the chunk (the map
 * written without a sync): the fdatasync must make the map durable.
 */
TEST_F_TIMEOUT(cut, fdatasync_after_another_writer_closed, UFS_TEST_TIMEOUT)
{
	const char *big = ufs_path(self->e.mnt, "big");
	struct poke p[] = { { 5 * CHUNK + 7, 'D' } };
	int fd = open(big, O_WRONLY), fd2 = open(big, O_WRONLY);

	ASSERT_GE(fd, 0);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, pwrite1(fd, p[0].c, p[0].off));
	close(fd2);
	ASSERT_EQ(0, fdatasync(fd));
	ASSERT_EQ(0, cut_power(self));
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	EXPECT_TRUE(shows(big, BIG, SEED_BIG, p, 1));
}

/* An O_DSYNC write to a chunk whose map bit was written without a sync. */
TEST_F_TIMEOUT(cut, odsync_write_to_a_chunk_already_up, UFS_TEST_TIMEOUT)
{
	const char *big = ufs_path(self->e.mnt, "big");
	struct poke p[] = { { 2 * CHUNK, 'a' }, { 2 * CHUNK + 1, 'b' } };
	int fd = open(big, O_WRONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite1(fd, p[0].c, p[0].off));
	close(fd);
	fd = open(big, O_WRONLY | O_DSYNC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite1(fd, p[1].c, p[1].off));
	ASSERT_EQ(0, cut_power(self));
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	/* the chunk is durable with the O_DSYNC write, 'a' in it */
	EXPECT_TRUE(shows(big, BIG, SEED_BIG, p, 2));
}

/*
 * A metacopy file (chmod) given its data by an open for write: the mark's
 * removal must be durable before a later fdatasync counts on it.
 */
TEST_F_TIMEOUT(cut, fdatasync_after_a_metacopy_file_was_filled, UFS_TEST_TIMEOUT)
{
	const char *small = ufs_path(self->e.mnt, "small");
	struct poke p[] = { { 100, 'C' } };
	struct stat st;
	int fd;

	ASSERT_EQ(0, chmod(small, 0600));
	fd = open(small, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite1(fd, p[0].c, p[0].off));
	ASSERT_EQ(0, fdatasync(fd));
	ASSERT_EQ(0, cut_power(self));
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	EXPECT_TRUE(shows(small, SMALL, SEED_SMALL, p, 1));
	ASSERT_EQ(0, stat(small, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
}

/*
 * Every chunk written: the last close removes the mark. A write and an
 * fdatasync after it must survive (the removal must be durable first).
 */
TEST_F_TIMEOUT(cut, fdatasync_after_the_last_chunk_came_up, UFS_TEST_TIMEOUT)
{
	const char *big = ufs_path(self->e.mnt, "big");
	struct poke p[BIG / CHUNK + 1];
	int fd, i;

	fd = open(big, O_WRONLY);
	ASSERT_GE(fd, 0);
	for (i = 0; i < BIG / CHUNK; i++) {
		p[i] = (struct poke){ (off_t)i * CHUNK + 11, 'w' };
		ASSERT_EQ(0, pwrite1(fd, p[i].c, p[i].off));
	}
	close(fd);
	EXPECT_EQ(-1, getxattr(ufs_path(self->fs, "u/big"), "trusted.unionfs.metacopy",
			       NULL, 0));
	p[i] = (struct poke){ 9 * CHUNK + 300, 'F' };
	fd = open(big, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite1(fd, p[i].c, p[i].off));
	ASSERT_EQ(0, fdatasync(fd));
	ASSERT_EQ(0, cut_power(self));
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	EXPECT_TRUE(shows(big, BIG, SEED_BIG, p, i + 1));
}

/*
 * A chunk over a hole of the lower file, written and synced (syncfs) but
 * not yet recorded in the map when the power goes: it reads from below
 * again (zeros), and when it is copied up again, or the file completed,
 * the bytes written before the cut must not come back.
 */
TEST_F_TIMEOUT(cut, bytes_of_an_unrecorded_chunk_never_come_back, UFS_TEST_TIMEOUT)
{
	const char *sparse = ufs_path(self->e.mnt, "sparse");
	struct poke p[] = { { 4 * CHUNK + 9000, 'T' }, { 6 * CHUNK + 5, 'U' } };
	int fd = open(sparse, O_WRONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(7, pwrite(fd, "STALE-1", 7, 4 * CHUNK + 100));
	ASSERT_EQ(7, pwrite(fd, "STALE-2", 7, 6 * CHUNK + 100));
	ASSERT_EQ(0, syncfs(fd));
	ASSERT_EQ(0, cut_power(self));
	close(fd);
	ASSERT_EQ(0, restart(self, variant->fstype));
	EXPECT_TRUE(shows(sparse, BIG, 0, p, 0));
	fd = open(sparse, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite1(fd, p[0].c, p[0].off));
	close(fd);
	EXPECT_TRUE(shows(sparse, BIG, 0, p, 1));
	/* completing the file copies chunk 6 */
	fd = open(sparse, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, BIG));
	ASSERT_EQ(0, pwrite1(fd, p[1].c, p[1].off));
	close(fd);
	EXPECT_TRUE(shows(sparse, BIG, 0, p, 2));
	EXPECT_EQ(-1, getxattr(ufs_path(self->fs, "u/sparse"), "trusted.unionfs.metacopy",
			       NULL, 0));
}

TEST_HARNESS_MAIN
