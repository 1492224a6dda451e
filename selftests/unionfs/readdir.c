// SPDX-License-Identifier: GPL-2.0-only
/*
 * Merged readdir: every visible name once with the right d_type, no
 * whiteouts or hidden names, . and .., tiny buffers, telldir/seekdir,
 * rewinddir sees changes, d_ino matches st_ino, 100 000 entries.
 */
#include "ufs_test.h"
#include "kselftest_harness.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Read the whole directory with getdents64 and a buffer of @bufsz bytes. */
static int list_dir(const char *path, size_t bufsz, char names[][64],
		    unsigned char *types, uint64_t *inos, int max)
{
	char *buf = malloc(bufsz);
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	int count = 0;
	long n, off;

	if (fd < 0 || !buf)
		return -1;
	while ((n = syscall(SYS_getdents64, fd, buf, bufsz)) > 0) {
		for (off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			if (count < max) {
				snprintf(names[count], 64, "%s", d->d_name);
				types[count] = d->d_type;
				inos[count] = d->d_ino;
			}
			count++;
			off += d->d_reclen;
		}
	}
	close(fd);
	free(buf);
	return n < 0 ? -1 : count;
}

static int find(char names[][64], int count, const char *name)
{
	int i, hits = 0;

	for (i = 0; i < count; i++)
		if (!strcmp(names[i], name))
			hits++;
	return hits;
}

static int index_of(char names[][64], int count, const char *name)
{
	int i;

	for (i = 0; i < count; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

FIXTURE(rd) {
	struct ufs_env e;
	char names[256][64];
	unsigned char types[256];
	uint64_t inos[256];
};

FIXTURE_SETUP(rd)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_init(e, 3));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/a", "a"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/both", "old"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/both", "new"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/b", "b"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/c", "c"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/wh", "hidden"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[1], "d/wh"));
	ASSERT_EQ(0, ufs_whiteout(e->lower[0], "d/wh-alone"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[2], "d/sub"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], "d/sub"));
	ASSERT_EQ(0, symlink("a", ufs_path(e->lower[0], "d/link")));
	ASSERT_EQ(0, mkfifo(ufs_path(e->lower[1], "d/fifo"), 0644));
	ASSERT_EQ(0, mknod(ufs_path(e->lower[1], "d/null"), S_IFCHR | 0644, makedev(1, 3)));
	ASSERT_EQ(0, ufs_put(e->lower[2], "o/below", "x"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "o/above", "y"));
	ASSERT_EQ(0, ufs_set_opaque(e->lower[1], "o", NULL));
	ASSERT_EQ(0, ufs_env_mount(e, 0, 0));
}

FIXTURE_TEARDOWN(rd)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

TEST_F_TIMEOUT(rd, names_once_with_types, UFS_TEST_TIMEOUT)
{
	int n = list_dir(ufs_path(self->e.mnt, "d"), 32768, self->names,
			 self->types, self->inos, 256);

	ASSERT_EQ(10, n);	/* . .. a both b c sub link fifo null */
	EXPECT_EQ(1, find(self->names, n, "."));
	EXPECT_EQ(1, find(self->names, n, ".."));
	EXPECT_EQ(1, find(self->names, n, "a"));
	EXPECT_EQ(1, find(self->names, n, "both"));
	EXPECT_EQ(1, find(self->names, n, "sub"));
	EXPECT_EQ(0, find(self->names, n, "wh"));
	EXPECT_EQ(0, find(self->names, n, "wh-alone"));
	EXPECT_EQ(DT_DIR, self->types[index_of(self->names, n, "sub")]);
	EXPECT_EQ(DT_LNK, self->types[index_of(self->names, n, "link")]);
	EXPECT_EQ(DT_FIFO, self->types[index_of(self->names, n, "fifo")]);
	EXPECT_EQ(DT_CHR, self->types[index_of(self->names, n, "null")]);
	EXPECT_EQ(DT_REG, self->types[index_of(self->names, n, "a")]);
}

TEST_F_TIMEOUT(rd, opaque_dir_lists_only_its_layer, UFS_TEST_TIMEOUT)
{
	int n = list_dir(ufs_path(self->e.mnt, "o"), 4096, self->names,
			 self->types, self->inos, 256);

	ASSERT_EQ(3, n);
	EXPECT_EQ(1, find(self->names, n, "above"));
	EXPECT_EQ(0, find(self->names, n, "below"));
}

TEST_F_TIMEOUT(rd, tiny_buffer_gives_same_set, UFS_TEST_TIMEOUT)
{
	char big[256][64];
	unsigned char t[256];
	uint64_t ino[256];
	int n1 = list_dir(ufs_path(self->e.mnt, "d"), 32768, big, t, ino, 256);
	/* room for one entry per call */
	int n2 = list_dir(ufs_path(self->e.mnt, "d"), 48, self->names,
			  self->types, self->inos, 256);
	int i;

	ASSERT_EQ(n1, n2);
	for (i = 0; i < n1; i++)
		EXPECT_EQ(1, find(self->names, n2, big[i]));
}

TEST_F_TIMEOUT(rd, d_ino_matches_st_ino, UFS_TEST_TIMEOUT)
{
	char *d = ufs_path(self->e.mnt, "d");
	int n = list_dir(d, 32768, self->names, self->types, self->inos, 256);
	struct stat st;
	int i;

	ASSERT_GT(n, 2);
	for (i = 0; i < n; i++) {
		char *p = ufs_path(d, "%s", self->names[i]);

		ASSERT_EQ(0, lstat(p, &st));
		EXPECT_EQ(st.st_ino, self->inos[i]) {
			TH_LOG("%s: d_ino %llu st_ino %llu", self->names[i],
			       (unsigned long long)self->inos[i],
			       (unsigned long long)st.st_ino);
		}
		free(p);
	}
}

TEST_F_TIMEOUT(rd, telldir_seekdir_rewinddir, UFS_TEST_TIMEOUT)
{
	DIR *dir = opendir(ufs_path(self->e.mnt, "d"));
	struct dirent *de;
	char after[64] = "";
	long pos;

	ASSERT_NE(NULL, dir);
	ASSERT_NE(NULL, readdir(dir));
	ASSERT_NE(NULL, readdir(dir));
	ASSERT_NE(NULL, readdir(dir));
	pos = telldir(dir);
	de = readdir(dir);
	ASSERT_NE(NULL, de);
	strncpy(after, de->d_name, sizeof(after) - 1);
	after[sizeof(after) - 1] = 0;
	while (readdir(dir))
		;
	seekdir(dir, pos);
	de = readdir(dir);
	ASSERT_NE(NULL, de);
	EXPECT_STREQ(after, de->d_name);

	/* A name added to a layer shows after rewinddir. */
	ASSERT_EQ(0, ufs_put(self->e.lower[2], "d/late", "l"));
	self->e.fp[2] = ufs_fingerprint(self->e.lower[2]);
	rewinddir(dir);
	{
		int found = 0;

		while ((de = readdir(dir)))
			found += !strcmp(de->d_name, "late");
		EXPECT_EQ(1, found);
	}
	closedir(dir);
}

TEST_F_TIMEOUT(rd, dotdot_of_subdir_is_parent, UFS_TEST_TIMEOUT)
{
	char *sub = ufs_path(self->e.mnt, "d/sub");
	int n = list_dir(sub, 4096, self->names, self->types, self->inos, 256);
	struct stat st;

	ASSERT_EQ(2, n);
	ASSERT_EQ(0, stat(ufs_path(self->e.mnt, "d"), &st));
	EXPECT_EQ(st.st_ino, self->inos[index_of(self->names, n, "..")]);
	ASSERT_EQ(0, stat(sub, &st));
	EXPECT_EQ(st.st_ino, self->inos[index_of(self->names, n, ".")]);
}

/* Whole-stack tests that build their own layers. */
FIXTURE(big) {
	int unused;
};

FIXTURE_SETUP(big)
{
}

FIXTURE_TEARDOWN(big)
{
}

/* 100 000 entries over 8 layers, some shadowed and some whited out. */
TEST_F_TIMEOUT(big, hundred_thousand_entries_over_eight_layers, UFS_TEST_TIMEOUT)
{
	enum { LAYERS = 8 };
	/* full size on tmpfs; disk filesystems and the debug kernel run less */
	int PER = ufs_heavy() ? 12500 : 1250;
	struct ufs_env e;
	char opts[4096], name[64], *p;
	int i, l, n, fd, count = 0, bad = 0;
	char buf[32768];
	long r, off;

	ASSERT_EQ(0, ufs_env_init(&e, LAYERS));
	for (l = 0; l < LAYERS; l++) {
		p = ufs_path(e.lower[l], "big");
		ASSERT_EQ(0, mkdir(p, 0755));
		for (i = 0; i < PER; i++) {
			snprintf(name, sizeof(name), "%s/e-%d-%d", p, l, i);
			fd = open(name, O_CREAT | O_WRONLY, 0644);
			ASSERT_GE(fd, 0);
			close(fd);
		}
		/* every layer also has "common", and the top whites out one name */
		snprintf(name, sizeof(name), "%s/common", p);
		close(open(name, O_CREAT | O_WRONLY, 0644));
		free(p);
	}
	ASSERT_EQ(0, ufs_whiteout(e.lower[0], "big/e-7-0"));
	n = snprintf(opts, sizeof(opts), "lowerdir=");
	for (l = 0; l < LAYERS; l++)
		n += snprintf(opts + n, sizeof(opts) - n, "%s%s", l ? ":" : "", e.lower[l]);
	ASSERT_EQ(0, ufs_mount(e.mnt, opts));
	e.mounted = 1;

	fd = open(ufs_path(e.mnt, "big"), O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	while ((r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < r;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			count++;
			if (!strcmp(d->d_name, "e-7-0"))
				bad++;
			off += d->d_reclen;
		}
	}
	close(fd);
	EXPECT_EQ(0, bad);
	/* 8*12500 names, one whited out, "common" once, . and .. */
	EXPECT_EQ(LAYERS * PER - 1 + 1 + 2, count);
	ufs_env_fini(&e);
}

TEST_HARNESS_MAIN
