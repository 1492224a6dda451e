// SPDX-License-Identifier: GPL-2.0-only
/*
 * Metadata-only copy-up (metacopy=on, the default): chmod, chown, utimes,
 * xattrs and ACLs of a lower file copy up its attributes and leave its data
 * below until the first open for write, truncate, rename or link. Checks
 * the union view, the upper layer on disk (size as a hole, the mark), the
 * mount's counters, remounts, and marks left by a crash or made by hand.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/inotify.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

#define MARK "trusted.unionfs.metacopy"
#define BIG (8 << 20)

FIXTURE(mc) {
	struct ufs_env e;
};

static char pattern_at(off_t off)
{
	return 'a' + (off * 7 + off / 4096) % 26;
}

/* A dense lower file of @size bytes with a known pattern. */
static int put_dense(const char *path, off_t size)
{
	static char buf[65536];
	off_t off;
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t i, n = size - off < (off_t)sizeof(buf) ? size - off : sizeof(buf);

		for (i = 0; i < n; i++)
			buf[i] = pattern_at(off + i);
		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			close(fd);
			return -1;
		}
	}
	return close(fd);
}

/* Does @path hold exactly the pattern of put_dense() (@size bytes)? */
static int has_pattern(const char *path, off_t size)
{
	static char buf[65536];
	off_t off = 0;
	ssize_t n, i;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != pattern_at(off + i)) {
				close(fd);
				return 0;
			}
		off += n;
	}
	close(fd);
	return n == 0 && off == size;
}

static int marked(const char *path)
{
	return getxattr(path, MARK, NULL, 0) >= 0;
}

/* A counter of the mount whose upper is @upper, from /sys/fs/unionfs. */
static long long counter(const char *upper, const char *name)
{
	return ufs_counter(upper, name);
}

/* Does /proc/mounts hold @text? */
static int mounts_show(const char *text)
{
	static char mounts[8192];
	FILE *f = fopen("/proc/mounts", "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(mounts, 1, sizeof(mounts) - 1, f);
	fclose(f);
	mounts[n] = '\0';
	return strstr(mounts, text) != NULL;
}

/* Upper and lower share a filesystem that clones extents (reflink). */
static int can_clone(void)
{
	const char *fs = getenv("UNIONFS_FS");

	return fs && (!strcmp(fs, "btrfs") || !strcmp(fs, "xfs"));
}

static int remount(struct ufs_env *e)
{
	if (umount(e->mnt))
		return -1;
	e->mounted = 0;
	return ufs_env_mount(e, 1, 0);
}

FIXTURE_SETUP(mc)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 2));
	ASSERT_EQ(0, ufs_put(e->lower[1], "f", "lower-content"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[1], "d"));
	ASSERT_EQ(0, put_dense(ufs_path(e->lower[1], "d/big"), BIG));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/top", "top"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
}

FIXTURE_TEARDOWN(mc)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

TEST_F_TIMEOUT(mc, chmod_copies_attributes_not_data, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat lower, st, up;

	ASSERT_EQ(0, stat(ufs_path(e->lower[1], "d/big"), &lower));
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "d/big"), 0600));

	ASSERT_EQ(0, stat(ufs_path(e->upper, "d/big"), &up));
	EXPECT_EQ(0100600, up.st_mode);
	EXPECT_EQ(BIG, up.st_size);
	EXPECT_LT(up.st_blocks * 512, 64 << 10);	/* a hole, not 8 MiB */
	EXPECT_TRUE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_EQ(lower.st_mtim.tv_sec, up.st_mtim.tv_sec);

	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(0100600, st.st_mode);
	EXPECT_EQ(BIG, st.st_size);
	EXPECT_EQ(lower.st_blocks, st.st_blocks);	/* the data's blocks */
	EXPECT_TRUE(has_pattern(ufs_path(e->mnt, "d/big"), BIG));
	/* the mark is ours: not listed, not readable through the union */
	EXPECT_EQ(-1, getxattr(ufs_path(e->mnt, "d/big"), MARK, NULL, 0));

	EXPECT_EQ(1, counter(e->upper, "metacopy_ups"));
	EXPECT_EQ(BIG, counter(e->upper, "metacopy_bytes"));
	EXPECT_EQ(0, counter(e->upper, "copy_up_bytes"));
	EXPECT_EQ(0, counter(e->upper, "data_completions"));
}

#define PAUSE "/sys/module/unionfs/parameters/test_open_pause"
#define PAUSED "/sys/module/unionfs/parameters/test_open_paused"

static int put_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = -1;

	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) == (ssize_t)strlen(val))
		ret = 0;
	close(fd);
	return ret;
}

static int get_param(const char *path)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/*
 * Issue 14 item 15: a read-only open that a chmod's metacopy copy-up
 * overtakes halfway reads the file's data (neither zeros nor an oops).
 * The module's test-only knob holds the open between its two looks at
 * the union inode (the stack top, the chunk map) while the chmod runs.
 */
TEST_F_TIMEOUT(mc, read_only_open_overtaken_by_a_metacopy_copy_up, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *path = ufs_path(e->mnt, "d/big");
	int status, i;
	pid_t pid;

	ASSERT_EQ(0, put_param(PAUSE, "1"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[4096];
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			_exit(2);
		if (pread(fd, buf, sizeof(buf), 8192) != sizeof(buf))
			_exit(3);
		for (i = 0; i < (int)sizeof(buf); i++)
			if (buf[i] != pattern_at(8192 + i))
				_exit(4);
		_exit(0);
	}
	/* a state to wait for, not a time: bounded by a count */
	for (i = 0; i < 20000 && get_param(PAUSED) != 1; i++)
		usleep(1000);
	EXPECT_EQ(1, get_param(PAUSED));
	EXPECT_EQ(0, chmod(path, 0600));
	EXPECT_TRUE(marked(ufs_path(e->upper, "d/big")));
	ASSERT_EQ(0, put_param(PAUSE, "0"));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("reader killed by signal %d",
					      WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("2: open, 3: read, 4: wrong bytes");
	EXPECT_TRUE(has_pattern(path, BIG));
	free(path);
}

TEST_F_TIMEOUT(mc, chown_utimes_xattr_are_metadata_only, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct timespec ts[2] = { { 1000000, 0 }, { 2000000, 0 } };
	struct stat st;
	char val[8] = "";

	ASSERT_EQ(0, chown(ufs_path(e->mnt, "f"), 1234, 5678));
	ASSERT_EQ(0, utimensat(AT_FDCWD, ufs_path(e->mnt, "d/big"), ts, 0));
	/* tmpfs has user xattrs from 6.6 on (and in some 6.1 builds) */
	if (setxattr(ufs_path(e->mnt, "d/top"), "user.k", "v", 1, 0)) {
		ASSERT_EQ(EOPNOTSUPP, errno);
		ASSERT_EQ(0, setxattr(ufs_path(e->mnt, "d/top"), "trusted.k", "v", 1, 0));
		EXPECT_EQ(1, getxattr(ufs_path(e->mnt, "d/top"), "trusted.k", val, sizeof(val)));
	} else {
		EXPECT_EQ(1, getxattr(ufs_path(e->mnt, "d/top"), "user.k", val, sizeof(val)));
	}

	EXPECT_TRUE(marked(ufs_path(e->upper, "f")));
	EXPECT_TRUE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_TRUE(marked(ufs_path(e->upper, "d/top")));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "f"), &st));
	EXPECT_EQ(1234, st.st_uid);
	EXPECT_EQ(5678, st.st_gid);
	EXPECT_STREQ("lower-content", ufs_get(e->mnt, "f"));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(2000000, st.st_mtim.tv_sec);
	EXPECT_STREQ("top", ufs_get(e->mnt, "d/top"));
	EXPECT_EQ(3, counter(e->upper, "metacopy_ups"));
}

/* Without partial copy-up (chunk=0), a read-write open takes all the data. */
TEST_F_TIMEOUT(mc, read_write_open_without_chunks_brings_the_data, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[4096];
	struct stat st;
	char c;
	int fd;

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s,chunk=0",
		 e->lower[0], e->lower[1], e->upper, e->work);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "d/big"), 0640));
	fd = open(ufs_path(e->mnt, "d/big"), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	c = pattern_at(12345);
	EXPECT_EQ(1, pwrite(fd, &c, 1, 12345));	/* the same byte: still the pattern */
	close(fd);
	EXPECT_TRUE(has_pattern(ufs_path(e->upper, "d/big"), BIG));
	EXPECT_TRUE(has_pattern(ufs_path(e->mnt, "d/big"), BIG));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(0100640, st.st_mode);
	EXPECT_EQ(1, counter(e->upper, "data_completions"));
	/* byte for byte, or no bytes at all where the data was cloned */
	EXPECT_EQ(can_clone() ? 0 : BIG, counter(e->upper, "copy_up_bytes"));

	ASSERT_EQ(0, remount(e));
	EXPECT_TRUE(has_pattern(ufs_path(e->mnt, "d/big"), BIG));
}

TEST_F_TIMEOUT(mc, completion_keeps_times_set_id_and_capabilities, UFS_TEST_TIMEOUT)
{
	static const struct vfs_cap_data cap = {
		.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
		.data = { { .permitted = 1u << CAP_NET_RAW } },
	};
	struct ufs_env *e = &self->e;
	struct timespec ts[2] = { { 1000000, 0 }, { 2000000, 0 } };
	struct stat st;
	int fd;

	ASSERT_EQ(0, setxattr(ufs_path(e->mnt, "f"), "security.capability",
			      &cap, sizeof(cap), 0));
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "f"), 04755));
	ASSERT_EQ(0, utimensat(AT_FDCWD, ufs_path(e->mnt, "f"), ts, 0));
	EXPECT_TRUE(marked(ufs_path(e->upper, "f")));

	/* opened for write, not written: the file is as it was */
	fd = open(ufs_path(e->mnt, "f"), O_RDWR);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_FALSE(marked(ufs_path(e->upper, "f")));
	EXPECT_STREQ("lower-content", ufs_get(e->upper, "f"));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "f"), &st));
	EXPECT_EQ(0104755, st.st_mode);
	EXPECT_EQ(2000000, st.st_mtim.tv_sec);
	EXPECT_EQ(sizeof(cap), getxattr(ufs_path(e->upper, "f"),
					"security.capability", NULL, 0));
}

TEST_F_TIMEOUT(mc, o_trunc_and_truncate_after_chmod, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	int fd;

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "d/big"), 0600));
	fd = open(ufs_path(e->mnt, "d/big"), O_WRONLY | O_TRUNC);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_STREQ("", ufs_get(e->mnt, "d/big"));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "d/big"), &st));
	EXPECT_EQ(0, st.st_size);
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_EQ(0, counter(e->upper, "copy_up_bytes"));

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "f"), 0600));
	ASSERT_EQ(0, truncate(ufs_path(e->mnt, "f"), 5));
	EXPECT_STREQ("lower", ufs_get(e->mnt, "f"));
	EXPECT_FALSE(marked(ufs_path(e->upper, "f")));
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("lower", ufs_get(e->mnt, "f"));
	EXPECT_STREQ("", ufs_get(e->mnt, "d/big"));
}

TEST_F_TIMEOUT(mc, rename_and_link_take_the_data_along, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "f"), 0600));
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "d/big"), 0600));
	ASSERT_EQ(0, rename(ufs_path(e->mnt, "f"), ufs_path(e->mnt, "g")));
	ASSERT_EQ(0, link(ufs_path(e->mnt, "d/big"), ufs_path(e->mnt, "d/big2")));
	EXPECT_FALSE(marked(ufs_path(e->upper, "g")));
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_STREQ("lower-content", ufs_get(e->upper, "g"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "f"));

	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("lower-content", ufs_get(e->mnt, "g"));
	EXPECT_TRUE(has_pattern(ufs_path(e->mnt, "d/big"), BIG));
	EXPECT_TRUE(has_pattern(ufs_path(e->mnt, "d/big2"), BIG));
}

/* A replaced rename target needs no data: only a place in the upper. */
TEST_F_TIMEOUT(mc, rename_over_a_lower_file_copies_no_target_data, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_put(e->mnt, "new", "new"));
	ASSERT_EQ(0, rename(ufs_path(e->mnt, "new"), ufs_path(e->mnt, "d/big")));
	EXPECT_STREQ("new", ufs_get(e->mnt, "d/big"));
	EXPECT_EQ(0, counter(e->upper, "copy_up_bytes"));
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("new", ufs_get(e->mnt, "d/big"));
}

TEST_F_TIMEOUT(mc, survives_remount_and_reads_through_mmap, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	char *map;
	int fd;

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "d/big"), 0604));
	ASSERT_EQ(0, remount(e));
	EXPECT_TRUE(marked(ufs_path(e->upper, "d/big")));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(0100604, st.st_mode);
	fd = open(ufs_path(e->mnt, "d/big"), O_RDONLY);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, BIG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(pattern_at(0), map[0]);
	EXPECT_EQ(pattern_at(BIG - 1), map[BIG - 1]);
	munmap(map, BIG);
	close(fd);
	/* the data comes up after the remount too (a truncate needs it all) */
	ASSERT_EQ(0, truncate(ufs_path(e->mnt, "d/big"), BIG));
	EXPECT_TRUE(has_pattern(ufs_path(e->upper, "d/big"), BIG));
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
}

/*
 * A descriptor opened read-only on a metacopy file reads through the upper
 * file, so it sees what is written later through another descriptor.
 */
TEST_F_TIMEOUT(mc, read_only_fd_sees_later_writes, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char buf[32] = "";
	int ro;

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "f"), 0600));
	ro = open(ufs_path(e->mnt, "f"), O_RDONLY);
	ASSERT_GE(ro, 0);
	ASSERT_EQ(0, ufs_put(e->mnt, "f", "new"));
	/* it reads the upper file, which O_TRUNC emptied and "new" filled */
	EXPECT_EQ(3, pread(ro, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("new", buf);
	close(ro);
	EXPECT_STREQ("new", ufs_get(e->mnt, "f"));
}

TEST_F_TIMEOUT(mc, sparse_lower_stays_sparse, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const off_t size = 1LL << 30;
	static char data[4096] = "data";
	struct stat st;
	int fd;

	fd = open(ufs_path(e->lower[1], "sparse"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4096, pwrite(fd, data, 4096, 0));
	ASSERT_EQ(0, ftruncate(fd, size));
	close(fd);
	e->fp[1] = ufs_fingerprint(e->lower[1]);

	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "sparse"), 0600));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "sparse"), &st));
	EXPECT_EQ(size, st.st_size);
	EXPECT_LT(st.st_blocks * 512, 64 << 10);
	fd = open(ufs_path(e->mnt, "sparse"), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, pwrite(fd, "D", 1, 0));
	close(fd);
	/* one chunk up (or a clone of the whole file) */
	EXPECT_EQ(!can_clone(), marked(ufs_path(e->upper, "sparse")));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "sparse"), &st));
	EXPECT_EQ(size, st.st_size);
	EXPECT_LT(st.st_blocks * 512, 1 << 20);
	EXPECT_STREQ("Data", ufs_get(e->mnt, "sparse"));
	/* completing the file keeps the holes */
	ASSERT_EQ(0, truncate(ufs_path(e->mnt, "sparse"), size));
	EXPECT_FALSE(marked(ufs_path(e->upper, "sparse")));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "sparse"), &st));
	EXPECT_EQ(size, st.st_size);
	EXPECT_LT(st.st_blocks * 512, 1 << 20);
	EXPECT_STREQ("Data", ufs_get(e->mnt, "sparse"));
}

TEST_F_TIMEOUT(mc, metacopy_off_copies_the_data, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[4096];

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	snprintf(opts, sizeof(opts),
		 "lowerdir=%s:%s,upperdir=%s,workdir=%s,metacopy=off",
		 e->lower[0], e->lower[1], e->upper, e->work);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	ASSERT_EQ(0, chmod(ufs_path(e->mnt, "f"), 0600));
	EXPECT_FALSE(marked(ufs_path(e->upper, "f")));
	EXPECT_STREQ("lower-content", ufs_get(e->upper, "f"));
	EXPECT_TRUE(mounts_show(",metacopy=off"));
	/* the option cannot change on remount */
	EXPECT_EQ(-1, mount(NULL, e->mnt, NULL, MS_REMOUNT, "metacopy=on"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ufs_mount(e->mnt, "metacopy=maybe"));
}

/*
 * Marks left by a crash or made by hand: emptying a metacopy file
 * truncates it before it drops the mark, so a mark on a file whose size
 * differs from the lower's is stale and the file is its own data; a mark
 * with no lower file, or a directory below it, is corrupt: EIO.
 */
TEST_F_TIMEOUT(mc, stale_and_corrupt_marks, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_put(e->upper, "f", ""));
	ASSERT_EQ(0, setxattr(ufs_path(e->upper, "f"), MARK, "", 0, 0));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[1], "adir"));
	ASSERT_EQ(0, ufs_put(e->upper, "adir", "x"));
	ASSERT_EQ(0, setxattr(ufs_path(e->upper, "adir"), MARK, "", 0, 0));
	ASSERT_EQ(0, ufs_mkdir_in(e->upper, "d"));
	ASSERT_EQ(0, ufs_put(e->upper, "d/orphan", "x"));
	ASSERT_EQ(0, setxattr(ufs_path(e->upper, "d/orphan"), MARK, "", 0, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	ASSERT_EQ(0, stat(ufs_path(e->mnt, "f"), &st));
	EXPECT_EQ(0, st.st_size);
	EXPECT_STREQ("", ufs_get(e->mnt, "f"));
	EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, "adir"));
	EXPECT_EQ(EIO, ufs_errno_of_lstat(e->mnt, "d/orphan"));
	/* the rest of the directory still works */
	EXPECT_STREQ("top", ufs_get(e->mnt, "d/top"));
}

/* --- partial copy-up: write-only opens take only the chunks they write --- */

#define CHUNK (64 << 10)

/* The chunk map on disk: header (16 bytes) and one bit per chunk. */
static int map_bit(const char *path, unsigned long nr)
{
	unsigned char v[4096];
	ssize_t len = getxattr(path, MARK, v, sizeof(v));

	if (len < 16 + (ssize_t)(nr / 8 + 1) || v[0] != 1)
		return -1;
	return !!(v[16 + nr / 8] & (1 << (nr % 8)));
}

static int pwrite_at(const char *path, int flags, const char *buf, off_t off)
{
	int fd = open(path, flags);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pwrite(fd, buf, strlen(buf), off);
	close(fd);
	return n == (ssize_t)strlen(buf) ? 0 : -1;
}

/* @len (< 16) bytes at @off, as a string. */
static const char *read_at(const char *path, off_t off, size_t len)
{
	static char buf[16];
	int fd = open(path, O_RDONLY);

	memset(buf, 0, sizeof(buf));
	if (fd >= 0) {
		if (pread(fd, buf, len, off) != (ssize_t)len)
			buf[0] = '\0';
		close(fd);
	}
	return buf;
}

/* d/big as the union shows it: the pattern but @buf at @off. */
static int big_is(const char *path, off_t off, const char *buf)
{
	static char data[BIG];
	off_t i;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, data, BIG);
	close(fd);
	if (n != BIG)
		return 0;
	for (i = 0; i < BIG; i++) {
		char want = i >= off && i < off + (off_t)strlen(buf) ?
			    buf[i - off] : pattern_at(i);

		if (data[i] != want)
			return 0;
	}
	return 1;
}

TEST_F_TIMEOUT(mc, write_only_open_copies_only_the_chunk_written, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const off_t off = 3 * (1 << 20) + 10;
	struct stat st;

	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "XYZ", off));
	EXPECT_TRUE(big_is(ufs_path(e->mnt, "d/big"), off, "XYZ"));
	/* on disk: the size as a hole, one chunk of data, the map */
	ASSERT_EQ(0, stat(ufs_path(e->upper, "d/big"), &st));
	EXPECT_EQ(BIG, st.st_size);
	if (!can_clone()) {
		EXPECT_LT(st.st_blocks * 512, 4 * CHUNK);
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), off / CHUNK));
		EXPECT_EQ(0, map_bit(ufs_path(e->upper, "d/big"), 0));
		EXPECT_EQ(1, counter(e->upper, "chunks_copied"));
		EXPECT_EQ(CHUNK, counter(e->upper, "copy_up_bytes"));
	} else {
		/* a clone of the whole file is cheaper still */
		EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
		EXPECT_EQ(0, counter(e->upper, "chunks_copied"));
	}
	ASSERT_EQ(0, remount(e));
	EXPECT_TRUE(big_is(ufs_path(e->mnt, "d/big"), off, "XYZ"));
	/* a write across a chunk boundary takes both chunks */
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "ab", 5 * CHUNK - 1));
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("ab", read_at(ufs_path(e->mnt, "d/big"), 5 * CHUNK - 1, 2));
	EXPECT_STREQ("XYZ", read_at(ufs_path(e->mnt, "d/big"), off, 3));
	EXPECT_EQ(pattern_at(7 << 20), read_at(ufs_path(e->mnt, "d/big"), 7 << 20, 1)[0]);
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(BIG, st.st_size);
	if (!can_clone()) {
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 4));
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 5));
	}
}

TEST_F_TIMEOUT(mc, append_and_reads_after_it, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char tail[8] = "";
	struct stat st;
	char *map;
	int fd;

	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY | O_APPEND, "tail", 0));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(BIG + 4, st.st_size);
	if (!can_clone())
		EXPECT_EQ(0, counter(e->upper, "chunks_copied"));
	ASSERT_EQ(0, remount(e));
	fd = open(ufs_path(e->mnt, "d/big"), O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(4, pread(fd, tail, 4, BIG));
	EXPECT_STREQ("tail", tail);
	/* a read-only mapping shows both parts */
	map = mmap(NULL, BIG + 4, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(pattern_at(BIG - 1), map[BIG - 1]);
	EXPECT_EQ('t', map[BIG]);
	EXPECT_EQ('l', map[BIG + 3]);
	munmap(map, BIG + 4);
	close(fd);
}

TEST_F_TIMEOUT(mc, read_only_mapping_follows_chunk_writes, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *map;
	int fd;

	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "one", 100));
	fd = open(ufs_path(e->mnt, "d/big"), O_RDONLY);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, BIG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, memcmp(map + 100, "one", 3));
	EXPECT_EQ(pattern_at(2 * CHUNK + 7), map[2 * CHUNK + 7]);
	EXPECT_EQ(pattern_at(BIG - 1), map[BIG - 1]);
	/* a later write shows through the mapping */
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "two", 2 * CHUNK + 7));
	EXPECT_EQ(0, memcmp(map + 2 * CHUNK + 7, "two", 3));
	EXPECT_EQ(0, memcmp(map + 100, "one", 3));
	munmap(map, BIG);
	close(fd);
	/* a private writable mapping is the caller's own copy */
	fd = open(ufs_path(e->mnt, "d/big"), O_RDONLY);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map[0] = '!';
	munmap(map, BIG);
	close(fd);
	EXPECT_EQ(pattern_at(0), read_at(ufs_path(e->mnt, "d/big"), 0, 1)[0]);
	EXPECT_STREQ("one", read_at(ufs_path(e->mnt, "d/big"), 100, 3));
}

TEST_F_TIMEOUT(mc, every_chunk_written_completes_the_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	off_t off;
	int fd;

	if (can_clone())
		SKIP(return, "the upper clones whole files");
	fd = open(ufs_path(e->mnt, "d/big"), O_WRONLY);
	ASSERT_GE(fd, 0);
	for (off = 0; off < BIG; off += CHUNK) {
		char c = pattern_at(off);

		ASSERT_EQ(1, pwrite(fd, &c, 1, off));
	}
	EXPECT_TRUE(marked(ufs_path(e->upper, "d/big")));
	close(fd);
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_TRUE(has_pattern(ufs_path(e->upper, "d/big"), BIG));
	EXPECT_EQ(BIG / CHUNK, counter(e->upper, "chunks_copied"));
	EXPECT_EQ(1, counter(e->upper, "data_completions"));
}

TEST_F_TIMEOUT(mc, truncate_fsync_and_read_write_open_of_a_partial_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char buf[8] = "";
	int fd;

	fd = open(ufs_path(e->mnt, "d/big"), O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(3, pwrite(fd, "abc", 3, CHUNK));
	/* fsync writes the map: the chunk is recorded while still open */
	ASSERT_EQ(0, fsync(fd));
	if (!can_clone())
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 1));
	close(fd);

	/* read-write: only the chunks written come up, reads see both */
	fd = open(ufs_path(e->mnt, "d/big"), O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(2, pwrite(fd, "de", 2, 3 * CHUNK));
	ASSERT_EQ(3, pread(fd, buf, 3, CHUNK));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(1, pread(fd, buf, 1, 2 * CHUNK));
	EXPECT_EQ(pattern_at(2 * CHUNK), buf[0]);
	close(fd);
	if (!can_clone()) {
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 1));
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 3));
		EXPECT_EQ(0, map_bit(ufs_path(e->upper, "d/big"), 2));
		EXPECT_EQ(2, counter(e->upper, "chunks_copied"));
	}
	/* a truncate needs all the data: the rest comes up, the writes stay */
	ASSERT_EQ(0, truncate(ufs_path(e->mnt, "d/big"), BIG));
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_STREQ("abc", read_at(ufs_path(e->upper, "d/big"), CHUNK, 3));
	EXPECT_STREQ("de", read_at(ufs_path(e->upper, "d/big"), 3 * CHUNK, 2));
	EXPECT_EQ(pattern_at(BIG - 1), read_at(ufs_path(e->upper, "d/big"), BIG - 1, 1)[0]);

	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "f"), O_WRONLY, "L", 0));
	/* a small file is copied whole */
	EXPECT_STREQ("Lower-content", ufs_get(e->upper, "f"));
	EXPECT_FALSE(marked(ufs_path(e->upper, "f")));

	ASSERT_EQ(0, put_dense(ufs_path(e->lower[1], "d/big2"), BIG));
	e->fp[1] = ufs_fingerprint(e->lower[1]);
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big2"), O_WRONLY, "zz", 2));
	ASSERT_EQ(0, truncate(ufs_path(e->mnt, "d/big2"), 5));
	fd = open(ufs_path(e->mnt, "d/big2"), O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(5, read(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_EQ(pattern_at(0), buf[0]);
	EXPECT_EQ('z', buf[2]);
	EXPECT_EQ(pattern_at(4), buf[4]);
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big2")));
}

/* Is [@off, @off + @len) of @map the pattern? */
static int map_has_pattern(const char *map, off_t off, off_t len)
{
	off_t i;

	for (i = off; i < off + len; i++)
		if (map[i] != pattern_at(i))
			return 0;
	return 1;
}

/* d/big opened read-write and mapped whole, shared and writable. */
static char *map_big(struct ufs_env *e, int *fd)
{
	char *map;

	*fd = open(ufs_path(e->mnt, "d/big"), O_RDWR);
	if (*fd < 0)
		return MAP_FAILED;
	map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (map == MAP_FAILED)
		close(*fd);
	return map;
}

/*
 * A shared writable mapping of a file opened read-write: its pages are
 * merged reads, and the pages it writes come up with their chunks at
 * writeback (msync), the rest stays below. read() and write() through
 * other descriptors see the mapping's writes and it sees theirs.
 */
TEST_F_TIMEOUT(mc, shared_writable_mapping_of_a_partial_file, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	char *map;
	int fd;

	map = map_big(e, &fd);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_TRUE(map_has_pattern(map, 0, 3 * CHUNK));
	EXPECT_EQ(pattern_at(BIG - 1), map[BIG - 1]);
	map[2 * CHUNK + 5] = 'M';
	memcpy(map + 5 * CHUNK - 3, "mapped", 6);	/* across two chunks */
	/* read() sees the mapping's writes before any msync */
	EXPECT_STREQ("M", read_at(ufs_path(e->mnt, "d/big"), 2 * CHUNK + 5, 1));
	EXPECT_STREQ("mapped", read_at(ufs_path(e->mnt, "d/big"), 5 * CHUNK - 3, 6));
	ASSERT_EQ(0, msync(map, BIG, MS_SYNC));
	if (!can_clone()) {
		/* on disk: three chunks up and marked, the others still below */
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 2));
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 4));
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 5));
		EXPECT_EQ(0, map_bit(ufs_path(e->upper, "d/big"), 3));
		EXPECT_EQ(3, counter(e->upper, "chunks_copied"));
		ASSERT_EQ(0, stat(ufs_path(e->upper, "d/big"), &st));
		EXPECT_LT(st.st_blocks * 512, 8 * CHUNK);
	}
	EXPECT_STREQ("M", read_at(ufs_path(e->upper, "d/big"), 2 * CHUNK + 5, 1));
	/* the rest of a chunk the mapping wrote to is the lower data */
	EXPECT_EQ(pattern_at(2 * CHUNK + 4),
		  read_at(ufs_path(e->upper, "d/big"), 2 * CHUNK + 4, 1)[0]);
	/* write() shows through the mapping, whose own writes stay */
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "W", 2 * CHUNK + 6));
	EXPECT_EQ('W', map[2 * CHUNK + 6]);
	EXPECT_EQ('M', map[2 * CHUNK + 5]);
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "V", 6 * CHUNK));
	EXPECT_EQ('V', map[6 * CHUNK]);
	munmap(map, BIG);
	close(fd);

	ASSERT_EQ(0, remount(e));
	ASSERT_EQ(0, stat(ufs_path(e->mnt, "d/big"), &st));
	EXPECT_EQ(BIG, st.st_size);
	EXPECT_STREQ("MW", read_at(ufs_path(e->mnt, "d/big"), 2 * CHUNK + 5, 2));
	EXPECT_STREQ("mapped", read_at(ufs_path(e->mnt, "d/big"), 5 * CHUNK - 3, 6));
	EXPECT_STREQ("V", read_at(ufs_path(e->mnt, "d/big"), 6 * CHUNK, 1));
	EXPECT_EQ(pattern_at(3 * CHUNK), read_at(ufs_path(e->mnt, "d/big"), 3 * CHUNK, 1)[0]);
	EXPECT_EQ(pattern_at(BIG - 1), read_at(ufs_path(e->mnt, "d/big"), BIG - 1, 1)[0]);
	if (!can_clone())
		EXPECT_TRUE(marked(ufs_path(e->upper, "d/big")));
}

/* Write @val to /proc/sys/vm/@name; its old value in @old (if not NULL). */
static int set_vm(const char *name, const char *val, char *old, size_t len)
{
	char path[128];
	int fd, ret = -1;

	snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
	/* drop_caches is write-only */
	fd = open(path, old ? O_RDWR : O_WRONLY);
	if (fd < 0)
		return -1;
	if (old) {
		ssize_t n = read(fd, old, len - 1);

		if (n <= 0)
			goto out;
		old[n] = '\0';
	}
	if (pwrite(fd, val, strlen(val), 0) == (ssize_t)strlen(val))
		ret = 0;
out:
	close(fd);
	return ret;
}

/*
 * A union inode that outlives its dentry after a copy-up (pages written
 * through a mapping, still dirty; an inotify watch) is the inode a new
 * lookup of the name finds: a second inode would have its own chunk map,
 * and writeback of the first one would copy the chunk up again over the
 * second one's write; the watch would not see writes to the name.
 *
 * The pages must wait for the sync: periodic writeback is set to an hour
 * while they do. (0 would not do: a bdi's first dirty inode then wakes
 * its flusher at once, and the background flush of a new bdi writes
 * whatever it has.)
 */
TEST_F_TIMEOUT(mc, copied_up_inode_outliving_its_dentry_is_found_again, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *path = ufs_path(e->mnt, "d/big");
	char old_wb[32], ev[256];
	struct stat st1, st2;
	int fd, in, i;
	char *map;

	ASSERT_EQ(0, set_vm("dirty_writeback_centisecs", "360000", old_wb, sizeof(old_wb)));
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st1));
	map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map[0] = 'X';
	munmap(map, BIG);
	close(fd);
	/* the watch holds the union inode whatever writeback does */
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	ASSERT_LE(0, in);
	ASSERT_LE(0, inotify_add_watch(in, path, IN_MODIFY));
	/*
	 * The dentry goes, the inode stays: the first round of drop_caches
	 * only takes the dentry's "referenced" mark, the second frees it.
	 * Nothing touches the name between them; the stat after them looks
	 * it up again (the lookups counter says when).
	 */
	for (i = 0; i < 20; i++) {
		long long before = counter(e->upper, "lookups");

		ASSERT_EQ(0, set_vm("drop_caches", "2", NULL, 0));
		ASSERT_EQ(0, set_vm("drop_caches", "2", NULL, 0));
		ASSERT_EQ(0, set_vm("drop_caches", "2", NULL, 0));
		ASSERT_EQ(0, stat(path, &st2));
		if (counter(e->upper, "lookups") > before)
			break;
	}
	ASSERT_GT(20, i);
	EXPECT_EQ(st1.st_ino, st2.st_ino);
	ASSERT_EQ(0, pwrite_at(path, O_WRONLY, "Y", 8192));
	/* the write went to the watched inode */
	EXPECT_LT(0, read(in, ev, sizeof(ev)));
	ASSERT_EQ(0, stat(path, &st2));
	EXPECT_EQ(st1.st_ino, st2.st_ino);
	sync();
	set_vm("dirty_writeback_centisecs", old_wb, NULL, 0);
	close(in);
	EXPECT_STREQ("X", read_at(path, 0, 1));
	EXPECT_STREQ("Y", read_at(path, 8192, 1));
	EXPECT_EQ(pattern_at(8193), read_at(path, 8193, 1)[0]);
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("X", read_at(path, 0, 1));
	EXPECT_STREQ("Y", read_at(path, 8192, 1));
	EXPECT_EQ(pattern_at(BIG - 1), read_at(path, BIG - 1, 1)[0]);
	free(path);
}

/* Set @set and clear @clear in the inode flags of @path: 0 or errno. */
static int chflags(const char *path, int set, int clear)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags = 0, err = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags))
		err = errno;
	flags = (flags | set) & ~clear;
	if (!err && ioctl(fd, FS_IOC_SETFLAGS, &flags))
		err = errno;
	close(fd);
	return err;
}

/*
 * chattr +i or +a of a partial file whose shared mapping holds written
 * pages not yet written back: the pages reach the upper file before it
 * gets the rest of the data and the flag, which would refuse them later.
 * Periodic writeback waits an hour meanwhile (see above).
 */
static void chattr_of_a_mapped_partial_file(struct __test_metadata *_metadata,
					    struct ufs_env *e, int flag)
{
	char *path = ufs_path(e->mnt, "d/big");
	char *upper = ufs_path(e->upper, "d/big");
	char old_wb[32];
	char *map;
	int fd, err;

	ASSERT_EQ(0, set_vm("dirty_writeback_centisecs", "360000", old_wb, sizeof(old_wb)));
	map = map_big(e, &fd);
	ASSERT_NE(MAP_FAILED, map);
	map[2 * CHUNK + 5] = 'M';
	memcpy(map + BIG - 6, "mapped", 6);
	err = chflags(path, flag, 0);
	munmap(map, BIG);
	close(fd);
	ASSERT_EQ(0, err);
	/* the upper file: the mapping's writes and all the rest, no mark */
	EXPECT_STREQ("M", read_at(upper, 2 * CHUNK + 5, 1));
	EXPECT_STREQ("mapped", read_at(upper, BIG - 6, 6));
	EXPECT_EQ(pattern_at(2 * CHUNK + 4), read_at(upper, 2 * CHUNK + 4, 1)[0]);
	EXPECT_EQ(pattern_at(0), read_at(upper, 0, 1)[0]);
	EXPECT_FALSE(marked(upper));
	EXPECT_STREQ("M", read_at(path, 2 * CHUNK + 5, 1));
	EXPECT_STREQ("mapped", read_at(path, BIG - 6, 6));
	/* off again: the teardown removes the file */
	EXPECT_EQ(0, chflags(path, 0, flag));
	sync();
	set_vm("dirty_writeback_centisecs", old_wb, NULL, 0);
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("M", read_at(path, 2 * CHUNK + 5, 1));
	EXPECT_STREQ("mapped", read_at(path, BIG - 6, 6));
	free(upper);
	free(path);
}

TEST_F_TIMEOUT(mc, chattr_immutable_of_a_mapped_partial_file, UFS_TEST_TIMEOUT)
{
	chattr_of_a_mapped_partial_file(_metadata, &self->e, FS_IMMUTABLE_FL);
}

TEST_F_TIMEOUT(mc, chattr_append_only_of_a_mapped_partial_file, UFS_TEST_TIMEOUT)
{
	chattr_of_a_mapped_partial_file(_metadata, &self->e, FS_APPEND_FL);
}

/*
 * Pages written through a mapping and never synced reach the upper file
 * (and the chunk map) by the unmount at the latest. A truncate while they
 * are dirty writes them first and then cuts the file: writeback never
 * extends it again.
 */
TEST_F_TIMEOUT(mc, mapped_writes_without_msync_and_truncate, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat st;
	char *map;
	int fd;

	map = map_big(e, &fd);
	ASSERT_NE(MAP_FAILED, map);
	memcpy(map + CHUNK + 1, "late", 4);
	map[BIG - 2] = 'Z';
	munmap(map, BIG);
	close(fd);
	ASSERT_EQ(0, remount(e));
	EXPECT_STREQ("late", read_at(ufs_path(e->mnt, "d/big"), CHUNK + 1, 4));
	EXPECT_STREQ("Z", read_at(ufs_path(e->mnt, "d/big"), BIG - 2, 1));
	EXPECT_EQ(pattern_at(BIG - 1), read_at(ufs_path(e->mnt, "d/big"), BIG - 1, 1)[0]);
	if (!can_clone()) {
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), 1));
		EXPECT_EQ(1, map_bit(ufs_path(e->upper, "d/big"), BIG / CHUNK - 1));
		EXPECT_EQ(0, map_bit(ufs_path(e->upper, "d/big"), 2));
	}

	/* dirty pages past a truncate do not come back after it */
	map = map_big(e, &fd);
	ASSERT_NE(MAP_FAILED, map);
	map[10] = 'a';
	map[BIG - 3] = 'b';
	ASSERT_EQ(0, ftruncate(fd, BIG / 2));
	EXPECT_EQ('a', map[10]);
	munmap(map, BIG);
	close(fd);
	ASSERT_EQ(0, remount(e));
	ASSERT_EQ(0, stat(ufs_path(e->upper, "d/big"), &st));
	EXPECT_EQ(BIG / 2, st.st_size);
	EXPECT_STREQ("a", read_at(ufs_path(e->mnt, "d/big"), 10, 1));
	EXPECT_STREQ("late", read_at(ufs_path(e->mnt, "d/big"), CHUNK + 1, 4));
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
}

/* The union's d/big, whole, against @want of @size bytes. */
static int big_equals(const char *path, const char *want, off_t size)
{
	static char data[BIG + CHUNK];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, data, sizeof(data));
	close(fd);
	return n == size && !memcmp(data, want, size);
}

/*
 * fallocate on a partially copied file: the file gets all its data first
 * (space and holes concern the whole file), then the mode does what it
 * does on the upper fs. Modes the upper fs lacks fail as they do there.
 */
TEST_F_TIMEOUT(mc, fallocate_modes_on_a_partial_file, UFS_TEST_TIMEOUT)
{
	static char want[BIG + CHUNK];
	struct ufs_env *e = &self->e;
	const char *big = ufs_path(e->mnt, "d/big");
	off_t size = BIG, i;
	int fd, ret;

	for (i = 0; i < BIG; i++)
		want[i] = pattern_at(i);
	fd = open(big, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pwrite(fd, "w", 1, 2 * CHUNK));
	want[2 * CHUNK] = 'w';
	EXPECT_EQ(!can_clone(), marked(ufs_path(e->upper, "d/big")));

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       4 * CHUNK, CHUNK));
	memset(want + 4 * CHUNK, 0, CHUNK);
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	EXPECT_TRUE(big_equals(big, want, size));

	ret = fallocate(fd, FALLOC_FL_ZERO_RANGE, 6 * CHUNK + 10, 100);
	if (!ret)
		memset(want + 6 * CHUNK + 10, 0, 100);
	else
		EXPECT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, fallocate(fd, 0, size, CHUNK));	/* extends with zeros */
	memset(want + size, 0, CHUNK);
	size += CHUNK;
	EXPECT_TRUE(big_equals(big, want, size));

	ret = fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 8 * CHUNK, CHUNK);
	if (!ret) {
		memmove(want + 8 * CHUNK, want + 9 * CHUNK, size - 9 * CHUNK);
		size -= CHUNK;
	} else {
		EXPECT_TRUE(errno == EOPNOTSUPP || errno == EINVAL);
	}
	close(fd);
	EXPECT_TRUE(big_equals(big, want, size));
	EXPECT_TRUE(big_equals(ufs_path(e->upper, "d/big"), want, size));
	ASSERT_EQ(0, remount(e));
	EXPECT_TRUE(big_equals(big, want, size));
}

struct rw_race {
	const char *path;
	int id;			/* writer: its letter is 'A' + id */
	volatile int *stop;
	long bad;		/* reader: bytes neither below nor written */
};

static void *race_writer(void *arg)
{
	struct rw_race *r = arg;
	int fd = open(r->path, r->id ? O_WRONLY : O_RDWR);
	char c = 'A' + r->id;
	off_t nr;

	if (fd < 0) {
		r->bad = -1;
		return NULL;
	}
	for (nr = r->id; nr < BIG / CHUNK; nr += 2)
		if (pwrite(fd, &c, 1, nr * CHUNK + 17) != 1)
			r->bad++;
	close(fd);
	return NULL;
}

/* A byte the union may show at @off while the writers run. */
static int race_byte_ok(off_t off, char c)
{
	if (c == pattern_at(off))
		return 1;
	return off % CHUNK == 17 && c == 'A' + (off / CHUNK) % 2;
}

static void *race_reader(void *arg)
{
	struct rw_race *r = arg;
	char buf[4096];
	unsigned int seed = r->id;
	int fd = open(r->path, O_RDONLY);
	char *map = NULL;
	off_t off, i;

	if (fd < 0) {
		r->bad = -1;
		return NULL;
	}
	if (r->id) {
		map = mmap(NULL, BIG, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			r->bad = -1;
			close(fd);
			return NULL;
		}
	}
	while (!*r->stop) {
		off = (rand_r(&seed) % (BIG / CHUNK)) * CHUNK;
		if (map) {
			for (i = 0; i < 64; i++)
				r->bad += !race_byte_ok(off + i, map[off + i]);
			continue;
		}
		if (pread(fd, buf, sizeof(buf), off) != sizeof(buf)) {
			r->bad++;
			continue;
		}
		for (i = 0; i < (off_t)sizeof(buf); i++)
			r->bad += !race_byte_ok(off + i, buf[i]);
	}
	if (map)
		munmap(map, BIG);
	close(fd);
	return NULL;
}

/*
 * Two writers (read-write and write-only) copy up every chunk of d/big
 * between them while two readers (read() and a shared mapping) check that
 * each byte is the lower one or a written one, never a zero of the upper
 * file's holes. Then every chunk is up: the file is complete.
 */
TEST_F_TIMEOUT(mc, concurrent_readers_and_writers, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *big = ufs_path(e->mnt, "d/big");
	volatile int stop = 0;
	struct rw_race w[2], rd[2];
	pthread_t wt[2], rt[2];
	off_t nr;
	int i;

	for (i = 0; i < 2; i++) {
		rd[i] = (struct rw_race){ .path = big, .id = i, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, race_reader, &rd[i]));
	}
	for (i = 0; i < 2; i++) {
		w[i] = (struct rw_race){ .path = big, .id = i, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, race_writer, &w[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(wt[i], NULL);
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(rt[i], NULL);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, w[i].bad);
		EXPECT_EQ(0, rd[i].bad);
	}
	for (nr = 0; nr < BIG / CHUNK; nr++) {
		char want[2] = { 'A' + nr % 2, 0 };

		EXPECT_STREQ(want, read_at(big, nr * CHUNK + 17, 1));
		EXPECT_EQ(pattern_at(nr * CHUNK + 16), read_at(big, nr * CHUNK + 16, 1)[0]);
	}
	EXPECT_FALSE(marked(ufs_path(e->upper, "d/big")));
	if (!can_clone())
		EXPECT_EQ(BIG / CHUNK, counter(e->upper, "chunks_copied"));
}

/* copy_file_range, splice and O_DIRECT through a partially copied file. */
TEST_F_TIMEOUT(mc, copy_file_range_splice_and_direct_io, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	static char block[4096] __attribute__((aligned(4096)));
	loff_t in_off = 0;
	int in, out, p[2];
	ssize_t n;

	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "cfr", 2 * CHUNK));
	/* out of it: the merged data */
	in = open(ufs_path(e->mnt, "d/big"), O_RDONLY);
	ASSERT_GE(in, 0);
	out = open(ufs_path(e->mnt, "copy"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(out, 0);
	while ((n = copy_file_range(in, &in_off, out, NULL, BIG, 0)) > 0)
		;
	EXPECT_EQ(0, n);
	close(out);
	EXPECT_TRUE(big_is(ufs_path(e->mnt, "copy"), 2 * CHUNK, "cfr"));
	/* into it, through a pipe: the chunk written comes up first */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(3, write(p[1], "spl", 3));
	out = open(ufs_path(e->mnt, "d/big"), O_WRONLY);
	ASSERT_GE(out, 0);
	in_off = 6 * CHUNK + 5;
	EXPECT_EQ(3, splice(p[0], NULL, out, &in_off, 3, 0));
	close(out);
	close(p[0]);
	close(p[1]);
	EXPECT_STREQ("spl", read_at(ufs_path(e->mnt, "d/big"), 6 * CHUNK + 5, 3));
	EXPECT_EQ(pattern_at(6 * CHUNK + 4), read_at(ufs_path(e->mnt, "d/big"), 6 * CHUNK + 4, 1)[0]);
	EXPECT_EQ(pattern_at(6 * CHUNK + 8), read_at(ufs_path(e->mnt, "d/big"), 6 * CHUNK + 8, 1)[0]);
	EXPECT_STREQ("cfr", read_at(ufs_path(e->mnt, "d/big"), 2 * CHUNK, 3));
	close(in);

	/* O_DIRECT where the backing filesystem has it (not tmpfs on 6.1) */
	out = open(ufs_path(e->mnt, "d/big"), O_WRONLY | O_DIRECT);
	if (out < 0) {
		EXPECT_EQ(EINVAL, errno);
		return;
	}
	memset(block, 'D', sizeof(block));
	EXPECT_EQ(4096, pwrite(out, block, 4096, 5 * CHUNK + 8192));
	close(out);
	EXPECT_STREQ("DDD", read_at(ufs_path(e->mnt, "d/big"), 5 * CHUNK + 8192, 3));
	EXPECT_EQ(pattern_at(5 * CHUNK + 8191), read_at(ufs_path(e->mnt, "d/big"), 5 * CHUNK + 8191, 1)[0]);
	EXPECT_EQ(pattern_at(5 * CHUNK + 12288), read_at(ufs_path(e->mnt, "d/big"), 5 * CHUNK + 12288, 1)[0]);
}

TEST_F_TIMEOUT(mc, chunk_option, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char opts[4096];

	EXPECT_TRUE(mounts_show(",metacopy=on,chunk=64k"));

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s,chunk=1m",
		 e->lower[0], e->lower[1], e->upper, e->work);
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "1", 0));
	if (!can_clone())
		EXPECT_EQ(1 << 20, counter(e->upper, "copy_up_bytes"));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	/* chunk=0: write-only opens copy the whole file */
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s,chunk=0",
		 e->lower[0], e->lower[1], ufs_path(e->base, "u2"), ufs_path(e->base, "w2"));
	ASSERT_EQ(0, mkdir(ufs_path(e->base, "u2"), 0755));
	ASSERT_EQ(0, mkdir(ufs_path(e->base, "w2"), 0755));
	ASSERT_EQ(0, ufs_mount(e->mnt, opts));
	e->mounted = 1;
	ASSERT_EQ(0, pwrite_at(ufs_path(e->mnt, "d/big"), O_WRONLY, "1", 0));
	EXPECT_FALSE(marked(ufs_path(e->base, "u2/d/big")));
	EXPECT_TRUE(big_is(ufs_path(e->base, "u2/d/big"), 0, "1"));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;

	snprintf(opts, sizeof(opts), "lowerdir=%s,chunk=3k", e->lower[0]);
	EXPECT_EQ(-1, ufs_mount(e->mnt, opts));
	EXPECT_EQ(EINVAL, errno);
	snprintf(opts, sizeof(opts), "lowerdir=%s,chunk=128m", e->lower[0]);
	EXPECT_EQ(-1, ufs_mount(e->mnt, opts));
	snprintf(opts, sizeof(opts), "lowerdir=%s,chunk=x", e->lower[0]);
	EXPECT_EQ(-1, ufs_mount(e->mnt, opts));
}

/* A chunk map that does not fit the lower file is corrupt: EIO, no oops. */
TEST_F_TIMEOUT(mc, corrupt_chunk_maps, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	unsigned char v[64] = { 1, 16 };
	int fd;

	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_put(e->upper, "d/big", ""));
	ASSERT_EQ(0, truncate(ufs_path(e->upper, "d/big"), BIG));
	ASSERT_EQ(0, setxattr(ufs_path(e->upper, "d/big"), MARK, v, 20, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	fd = open(ufs_path(e->mnt, "d/big"), O_RDONLY);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EIO, errno);
	if (fd >= 0)
		close(fd);
	/* the right length, a wrong lower size */
	v[8] = 1;
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, setxattr(ufs_path(e->upper, "d/big"), MARK, v, 16 + BIG / CHUNK / 8, 0));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	EXPECT_EQ(-1, open(ufs_path(e->mnt, "d/big"), O_RDONLY));
	EXPECT_EQ(EIO, errno);
}

/* --- a lower layer on a filesystem of its own --- */

/*
 * The lower layer on a tmpfs of its own. An upper that can share extents
 * with a lower on its own filesystem (xfs, btrfs) clones whole files at the
 * first write; with the lower elsewhere, fills and chunk copies copy bytes
 * on every upper filesystem.
 */
FIXTURE(mcx) {
	struct ufs_env e;
	int lower_fs;
	char opts[4096];
};

FIXTURE_SETUP(mcx)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 1));
	ASSERT_EQ(0, mount("tmpfs", self->e.lower[0], "tmpfs", 0,
			   "size=512m,mode=755"));
	self->lower_fs = 1;
}

FIXTURE_TEARDOWN(mcx)
{
	if (self->e.mounted) {
		EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
		if (!umount(self->e.mnt))
			self->e.mounted = 0;
	}
	if (self->lower_fs)
		umount2(self->e.lower[0], MNT_DETACH);
	ufs_env_fini(&self->e);
}

/* Mount the union of lower[0] and the upper, with @extra options (or ""). */
static int mcx_mount(FIXTURE_DATA(mcx) *self, const char *extra)
{
	struct ufs_env *e = &self->e;

	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s,upperdir=%s,workdir=%s%s%s", e->lower[0],
		 e->upper, e->work, *extra ? "," : "", extra);
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	if (ufs_mount(e->mnt, self->opts))
		return -1;
	e->mounted = 1;
	return 0;
}

static int mcx_remount(FIXTURE_DATA(mcx) *self)
{
	if (umount(self->e.mnt))
		return -1;
	self->e.mounted = 0;
	if (ufs_mount(self->e.mnt, self->opts))
		return -1;
	self->e.mounted = 1;
	return 0;
}

/*
 * A sparse lower file of @size bytes: 4 KiB of the pattern at the start of
 * every @stride bytes, holes between. Many extents make a slow fill.
 */
static int put_striped(const char *path, off_t size, off_t stride)
{
	static char buf[4096];
	off_t off;
	size_t i;
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, size))
		goto fail;
	for (off = 0; off < size; off += stride) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pattern_at(off + i);
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf))
			goto fail;
	}
	return close(fd);
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Does @path hold what put_striped() made? */
static int is_striped(const char *path, off_t size, off_t stride)
{
	static char buf[65536];
	off_t off = 0;
	ssize_t n, i;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			off_t at = off + i;
			char want = at % stride < 4096 ? pattern_at(at) : 0;

			if (buf[i] != want) {
				close(fd);
				return 0;
			}
		}
		off += n;
	}
	close(fd);
	return n == 0 && off == size;
}

/* --- attribute changes while a metacopy file is filled --- */

#define FILL_SIZE	(64 << 20)
#define FILL_STRIDE	(32 << 10)

enum attr_change { CH_MODE, CH_OWNER, CH_TIMES, CH_CAPS, CH_NR };

static const char *attr_change_name(enum attr_change kind)
{
	static const char *const names[CH_NR] = {
		"chmod", "chown", "utimes", "setcap"
	};

	return kind < CH_NR ? names[kind] : "?";
}

static const struct vfs_cap_data fill_cap = {
	.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
	.data = { { .permitted = 1u << CAP_NET_BIND_SERVICE } },
};

static int change_attr(const char *path, enum attr_change kind)
{
	struct timespec ts[2] = { { 1000000, 0 }, { 2000000, 0 } };

	switch (kind) {
	case CH_MODE:
		return chmod(path, 0710);
	case CH_OWNER:
		return chown(path, 1234, 5678);
	case CH_TIMES:
		return utimensat(AT_FDCWD, path, ts, 0);
	default:
		return setxattr(path, "security.capability", &fill_cap,
				sizeof(fill_cap), 0);
	}
}

/* Does @path show the change change_attr() made? */
static int has_attr(const char *path, enum attr_change kind)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	switch (kind) {
	case CH_MODE:
		return (st.st_mode & 07777) == 0710;
	case CH_OWNER:
		return st.st_uid == 1234 && st.st_gid == 5678;
	case CH_TIMES:
		return st.st_mtim.tv_sec == 2000000;
	default:
		return getxattr(path, "security.capability", NULL, 0) ==
		       sizeof(fill_cap);
	}
}

struct fill_job {
	const char *path;
	int err;
	int done;
};

/*
 * An open for write on a mount without partial copy-up: the union gives the
 * file all its data, without the union inode's lock (a truncate holds it,
 * and so keeps chmod and the others out already).
 */
static void *fill_by_open(void *arg)
{
	struct fill_job *job = arg;
	int fd = open(job->path, O_WRONLY);

	job->err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Wait until the upper file is being filled in place: blocks appear while
 * it still has the mark. 0 if the fill ended first.
 */
static int fill_running(const char *upper, struct fill_job *job)
{
	struct stat st;

	while (!__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		if (!stat(upper, &st) && st.st_blocks >= 256 && marked(upper))
			return 1;
	return 0;
}

/*
 * chmod, chown, utimes and setcap made while a metacopy file is given its
 * data stay made: the fill must not put back the attributes it found when
 * it started (each change lands in the middle of a fill of 64 MiB).
 */
TEST_F_TIMEOUT(mcx, attribute_changes_during_a_fill_stay, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	int kind;

	for (kind = 0; kind < CH_NR; kind++)
		ASSERT_EQ(0, put_striped(ufs_path(e->lower[0], "fill%d", kind),
					 FILL_SIZE, FILL_STRIDE));
	ASSERT_EQ(0, mcx_mount(self, "chunk=0"));
	for (kind = 0; kind < CH_NR; kind++) {
		const char *path = ufs_path(e->mnt, "fill%d", kind);
		const char *upper = ufs_path(e->upper, "fill%d", kind);
		struct fill_job job = { .path = path };
		pthread_t thread;
		int during;

		/* a metacopy file: the attributes up, the data below */
		ASSERT_EQ(0, chmod(path, 0644));
		ASSERT_TRUE(marked(upper));
		ASSERT_EQ(0, pthread_create(&thread, NULL, fill_by_open, &job));
		during = fill_running(upper, &job);
		if (during)
			EXPECT_EQ(0, change_attr(path, kind));
		pthread_join(thread, NULL);
		ASSERT_EQ(0, job.err);
		/* else the change did not race with the fill: nothing proven */
		ASSERT_TRUE(during) TH_LOG("the fill of %s ended before the %s",
					   path, attr_change_name(kind));
		EXPECT_FALSE(marked(upper));
		EXPECT_TRUE(has_attr(path, kind)) TH_LOG("%s undone", attr_change_name(kind));
		EXPECT_TRUE(has_attr(upper, kind));
		EXPECT_TRUE(is_striped(path, FILL_SIZE, FILL_STRIDE));
	}
	ASSERT_EQ(0, mcx_remount(self));
	for (kind = 0; kind < CH_NR; kind++) {
		EXPECT_TRUE(has_attr(ufs_path(e->mnt, "fill%d", kind), kind))
			TH_LOG("%s undone after remount", attr_change_name(kind));
	}
}

/* --- chunk copies over bytes a crash left in the upper file --- */

#define SP_SIZE (32 * CHUNK)

/* The sparse lower: chunk 0, the second half of chunk 2 and chunk 6. */
static int sp_lower_data(off_t off)
{
	return off < CHUNK || (off >= 2 * CHUNK + CHUNK / 2 && off < 3 * CHUNK) ||
	       (off >= 6 * CHUNK && off < 7 * CHUNK);
}

static int put_sp(const char *path, char *model)
{
	off_t off;
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, SP_SIZE))
		goto fail;
	for (off = 0; off < SP_SIZE; off++)
		model[off] = sp_lower_data(off) ? pattern_at(off) : 0;
	for (off = 0; off < SP_SIZE; off += 4096)
		if (sp_lower_data(off) &&
		    pwrite(fd, model + off, 4096, off) != 4096)
			goto fail;
	return close(fd);
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The union file is @model (SP_SIZE bytes); the first difference in @at. */
static int same_as(const char *path, const char *model, off_t *at)
{
	static char buf[SP_SIZE + 1];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	off_t i;

	*at = -1;
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	for (i = 0; i < SP_SIZE && i < n; i++)
		if (buf[i] != model[i]) {
			*at = i;
			return 0;
		}
	return n == SP_SIZE;
}

static int write_model(const char *path, char *model, const char *text,
		       off_t off)
{
	if (model)
		memcpy(model + off, text, strlen(text));
	return pwrite_at(path, O_WRONLY, text, off);
}

/*
 * A crash can lose chunk-map bits whose chunks reached the upper's disk
 * (the data is synced before the map, which is written later). Such a
 * chunk reads from below again; copied up again, or filled when the file
 * is completed, none of the bytes written before may come back where the
 * lower file has holes. The crash is played by rewriting the map to the
 * one on disk before the writes (empty: no chunk up).
 */
TEST_F_TIMEOUT(mcx, lost_map_bits_bring_back_no_stale_bytes, UFS_TEST_TIMEOUT)
{
	static char sp[SP_SIZE], sp2[SP_SIZE];
	struct ufs_env *e = &self->e;
	const char *usp = ufs_path(e->upper, "sp"), *usp2 = ufs_path(e->upper, "sp2");
	const char *msp = ufs_path(e->mnt, "sp"), *msp2 = ufs_path(e->mnt, "sp2");
	off_t at;

	ASSERT_EQ(0, put_sp(ufs_path(e->lower[0], "sp"), sp));
	ASSERT_EQ(0, put_sp(ufs_path(e->lower[0], "sp2"), sp2));
	ASSERT_EQ(0, mcx_mount(self, ""));
	/* before the crash: chunks 1, 2, 4 of sp and 3 of sp2 written */
	ASSERT_EQ(0, write_model(msp, NULL, "STALE-1", CHUNK + 100));
	ASSERT_EQ(0, write_model(msp, NULL, "STALE-2", 2 * CHUNK + 10));
	ASSERT_EQ(0, write_model(msp, NULL, "STALE-3", 2 * CHUNK + CHUNK / 2 + 5));
	ASSERT_EQ(0, write_model(msp, NULL, "STALE-4", 4 * CHUNK + 7));
	ASSERT_EQ(0, write_model(msp2, NULL, "STALE-5", 3 * CHUNK + 9));
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(1, map_bit(usp, 1));
	ASSERT_EQ(1, map_bit(usp2, 3));
	/* the crash: the bytes are in the upper file, the map is the old one */
	ASSERT_EQ(0, setxattr(usp, MARK, "", 0, 0));
	ASSERT_EQ(0, setxattr(usp2, MARK, "", 0, 0));
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;
	EXPECT_TRUE(same_as(msp, sp, &at)) TH_LOG("sp differs at %lld", (long long)at);
	EXPECT_TRUE(same_as(msp2, sp2, &at)) TH_LOG("sp2 differs at %lld", (long long)at);

	/* a chunk that is all hole below, and one with a leading hole */
	ASSERT_EQ(0, write_model(msp, sp, "T", CHUNK + 5000));
	ASSERT_EQ(0, write_model(msp, sp, "U", 2 * CHUNK + CHUNK - 100));
	EXPECT_TRUE(same_as(msp, sp, &at)) TH_LOG("chunk copies: sp differs at %lld",
						  (long long)at);
	/* completion: the chunks left (4), and a file with none up */
	ASSERT_EQ(0, truncate(msp, SP_SIZE));
	ASSERT_EQ(0, truncate(msp2, SP_SIZE));
	EXPECT_FALSE(marked(usp));
	EXPECT_FALSE(marked(usp2));
	EXPECT_TRUE(same_as(msp, sp, &at)) TH_LOG("completed: sp differs at %lld",
						  (long long)at);
	EXPECT_TRUE(same_as(msp2, sp2, &at)) TH_LOG("completed: sp2 differs at %lld",
						    (long long)at);
	ASSERT_EQ(0, mcx_remount(self));
	EXPECT_TRUE(same_as(msp, sp, &at));
	EXPECT_TRUE(same_as(msp2, sp2, &at));
}

/* --- writeback of mapped pages --- */

#define WB_SIZE ((64 << 20) + 4096)

struct wb_child {
	pid_t pid;
	int caught;		/* killed while it copied the chunk up */
};

/*
 * A reader of @path whose read writes back the dirty mapped page at 100
 * first (copying up its 64 MiB chunk); killed while the copy runs.
 */
static void wb_kill_reader(const char *path, const char *upper,
			   struct wb_child *c)
{
	struct stat st;
	int status;

	c->caught = 0;
	c->pid = fork();
	if (!c->pid) {
		char byte;
		int fd = open(path, O_RDONLY);

		_exit(fd < 0 || pread(fd, &byte, 1, 100) != 1);
	}
	if (c->pid < 0)
		return;
	for (;;) {
		if (waitpid(c->pid, &status, WNOHANG) == c->pid)
			return;		/* done before it could be caught */
		if (!stat(upper, &st) && st.st_blocks > 64 &&
		    st.st_blocks < (64 << 20) / 512 - 64)
			break;
	}
	kill(c->pid, SIGKILL);
	c->caught = waitpid(c->pid, &status, 0) == c->pid &&
		    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/*
 * Writeback of a page written through a mapping copies its chunk up first;
 * when it runs in a task that is being killed (here a reader of the page,
 * whose read writes the page back), the write must not be lost: the page
 * stays dirty for later writeback, and msync/fsync report no error.
 */
TEST_F_TIMEOUT(mcx, writeback_in_a_killed_task_keeps_mapped_writes, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *path = ufs_path(e->mnt, "wb");
	struct wb_child child;
	char *map;
	int fd;

	ASSERT_EQ(0, put_dense(ufs_path(e->lower[0], "wb"), WB_SIZE));
	ASSERT_EQ(0, mcx_mount(self, "chunk=64m"));
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(marked(ufs_path(e->upper, "wb")));
	map = mmap(NULL, WB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_NE('#', pattern_at(100));
	map[100] = '#';
	wb_kill_reader(path, ufs_path(e->upper, "wb"), &child);
	ASSERT_GT(child.pid, 0);
	ASSERT_TRUE(child.caught) TH_LOG("the reader finished before it was killed");
	EXPECT_EQ(0, msync(map, WB_SIZE, MS_SYNC)) TH_LOG("msync: %s", strerror(errno));
	EXPECT_STREQ("#", read_at(path, 100, 1));
	EXPECT_EQ(pattern_at(99), read_at(path, 99, 1)[0]);
	EXPECT_EQ(0, fsync(fd)) TH_LOG("fsync: %s", strerror(errno));
	munmap(map, WB_SIZE);
	close(fd);
	ASSERT_EQ(0, mcx_remount(self));
	EXPECT_STREQ("#", read_at(path, 100, 1));
	EXPECT_EQ(pattern_at(WB_SIZE - 1), read_at(path, WB_SIZE - 1, 1)[0]);
}

/*
 * A mapped write that is really lost (its chunk cannot be copied up: the
 * upper is full) is reported: msync(MS_SYNC) fails with ENOSPC, and so does
 * fsync on a descriptor that was open before, once; the file shows the
 * lower data there.
 */
TEST_F_TIMEOUT(mcx, lost_mapped_writes_are_reported, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const char *small = ufs_path(e->base, "small");
	const char *path = ufs_path(e->mnt, "big");
	char *map, buf[65536];
	int fd, fd2, filler;

	ASSERT_EQ(0, put_dense(ufs_path(e->lower[0], "big"), BIG));
	ASSERT_EQ(0, mkdir(small, 0755));
	ASSERT_EQ(0, mount("tmpfs", small, "tmpfs", 0, "size=1m"));
	ASSERT_EQ(0, mkdir(ufs_path(small, "u"), 0755));
	ASSERT_EQ(0, mkdir(ufs_path(small, "w"), 0755));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 e->lower[0], ufs_path(small, "u"), ufs_path(small, "w"));
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	ASSERT_EQ(0, ufs_mount(e->mnt, self->opts));
	e->mounted = 1;

	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	fd2 = open(path, O_WRONLY);
	ASSERT_GE(fd2, 0);
	ASSERT_TRUE(marked(ufs_path(small, "u/big")));
	/* no room left for a chunk */
	filler = open(ufs_path(small, "filler"), O_CREAT | O_WRONLY, 0600);
	ASSERT_GE(filler, 0);
	memset(buf, 'f', sizeof(buf));
	while (write(filler, buf, sizeof(buf)) > 0)
		;
	close(filler);
	map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map[3 * CHUNK + 1] = 'E';
	EXPECT_EQ(-1, msync(map, BIG, MS_SYNC));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, fsync(fd2));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, fsync(fd2));	/* reported once */
	EXPECT_EQ(pattern_at(3 * CHUNK + 1), read_at(path, 3 * CHUNK + 1, 1)[0]);
	munmap(map, BIG);
	close(fd2);
	close(fd);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, umount(small));
}

TEST_HARNESS_MAIN
