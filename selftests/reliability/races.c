// SPDX-License-Identifier: GPL-2.0-only
/*
 * Targeted races on a union: renames of lower files against lookups and
 * readdir of the same directories; unlink of a lower file that another
 * process has open and mapped; umount while the union is busy. Each test
 * ends with the layer checks: nothing staged in workdir, lower unchanged.
 * (Many processes copying up one file: selftests/unionfs/write.c.)
 */
#include "rel.h"
#include "kselftest_harness.h"

FIXTURE(r) {
	struct ufs_env e;
};

FIXTURE_SETUP(r)
{
	ASSERT_EQ(0, ufs_env_init(&self->e, 2));
}

FIXTURE_TEARDOWN(r)
{
	EXPECT_EQ(0, rel_staging_left(self->e.work));
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds a race runs: shorter on the debug kernel. */
static double race_secs(void)
{
	const char *dbg = getenv("UNIONFS_DEBUG_KERNEL");

	return dbg && *dbg == '1' ? 3 : 5;
}

enum { NF = 16, NS = 6 };

struct race_log {
	int rename_err, lookup_err, read_err, readdir_err;
	long renames, lookups, readdirs;
	char what[256];
};

static void note(struct race_log *l, int *ctr, const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
	if (l->what[0])
		return;
	va_start(ap, fmt);
	vsnprintf(l->what, sizeof(l->what), fmt, ap);
	va_end(ap);
}

static int name_ok(const char *n)
{
	return (n[0] == 'f' || n[0] == 'g' || n[0] == 'h' || n[0] == 's') &&
		n[1] >= '0' && n[1] <= '9';
}

/* f<i> <-> g<i> in d (i < NF/2); h<i> between d and e (i >= NF/2) */
static void renamer(const char *mnt, struct race_log *l, double end)
{
	char a[PATH_MAX], b[PATH_MAX];
	int i;

	while (now() < end) {
		for (i = 0; i < NF; i++) {
			if (i < NF / 2) {
				snprintf(a, sizeof(a), "%s/d/f%d", mnt, i);
				snprintf(b, sizeof(b), "%s/d/g%d", mnt, i);
			} else {
				snprintf(a, sizeof(a), "%s/d/h%d", mnt, i);
				snprintf(b, sizeof(b), "%s/e/h%d", mnt, i);
			}
			if (rename(a, b))
				note(l, &l->rename_err, "rename %s: %s", a, strerror(errno));
			if (rename(b, a))
				note(l, &l->rename_err, "rename %s: %s", b, strerror(errno));
			l->renames += 2;
		}
	}
}

static void looker(const char *mnt, struct race_log *l, double end)
{
	static const char *const names[] = { "d/f%d", "d/g%d", "d/h%d", "e/h%d" };
	char p[PATH_MAX], want[16], buf[16];
	struct stat st;
	unsigned int k;
	int i, fd;
	ssize_t n;

	while (now() < end) {
		for (i = 0; i < NF; i++) {
			for (k = 0; k < 4; k++) {
				snprintf(p, sizeof(p), "%s/", mnt);
				snprintf(p + strlen(p), sizeof(p) - strlen(p), names[k], i);
				if (lstat(p, &st) && errno != ENOENT)
					note(l, &l->lookup_err, "lstat %s: %s", p, strerror(errno));
				fd = open(p, O_RDONLY);
				if (fd < 0) {
					if (errno != ENOENT)
						note(l, &l->read_err, "open %s: %s", p, strerror(errno));
					continue;
				}
				snprintf(want, sizeof(want), "c%d", i);
				n = read(fd, buf, sizeof(buf) - 1);
				close(fd);
				buf[n > 0 ? n : 0] = '\0';
				if (strcmp(buf, want))
					note(l, &l->read_err, "%s reads \"%s\", not \"%s\"", p, buf, want);
				l->lookups++;
			}
		}
		for (i = 0; i < NS; i++) {
			snprintf(p, sizeof(p), "%s/d/s%d", mnt, i);
			if (lstat(p, &st))
				note(l, &l->lookup_err, "lstat %s: %s", p, strerror(errno));
		}
	}
}

static void lister(const char *mnt, struct race_log *l, double end)
{
	char p[PATH_MAX];
	char seen[64][16];
	struct dirent *de;
	int n, j, statics, dir;
	DIR *d;

	while (now() < end) {
		for (dir = 0; dir < 2; dir++) {
			snprintf(p, sizeof(p), "%s/%s", mnt, dir ? "e" : "d");
			d = opendir(p);
			if (!d) {
				note(l, &l->readdir_err, "opendir %s: %s", p, strerror(errno));
				continue;
			}
			n = statics = 0;
			while ((de = readdir(d))) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (!name_ok(de->d_name) || n >= 64) {
					note(l, &l->readdir_err, "%s: unexpected entry \"%s\"",
					     p, de->d_name);
					continue;
				}
				for (j = 0; j < n; j++)
					if (!strcmp(seen[j], de->d_name))
						note(l, &l->readdir_err, "%s: \"%s\" listed twice",
						     p, de->d_name);
				snprintf(seen[n++], 16, "%s", de->d_name);
				statics += de->d_name[0] == 's';
			}
			closedir(d);
			if (!dir && statics != NS)
				note(l, &l->readdir_err, "%s: %d of %d unrenamed entries listed",
				     p, statics, NS);
			l->readdirs++;
		}
	}
}

static void check_final(struct __test_metadata *_metadata, const char *mnt)
{
	char want[16];
	int i, a, b;

	for (i = 0; i < NF; i++) {
		snprintf(want, sizeof(want), "c%d", i);
		if (i < NF / 2) {
			a = rel_existsf(mnt, "d/f%d", i);
			b = rel_existsf(mnt, "d/g%d", i);
			EXPECT_TRUE(a && !b) TH_LOG("f%d: %d, g%d: %d", i, a, i, b);
			if (a)
				EXPECT_STREQ(want, ufs_get(mnt, ufs_path("d", "f%d", i)));
		} else {
			a = rel_existsf(mnt, "d/h%d", i);
			b = rel_existsf(mnt, "e/h%d", i);
			EXPECT_TRUE(a && !b) TH_LOG("d/h%d: %d, e/h%d: %d", i, a, i, b);
			if (a)
				EXPECT_STREQ(want, ufs_get(mnt, ufs_path("d", "h%d", i)));
		}
	}
	EXPECT_EQ(NF + NS, rel_entries(ufs_path(mnt, "d")));
	EXPECT_EQ(1, rel_entries(ufs_path(mnt, "e")));
}

/*
 * Lower files are renamed back and forth (within d, and between d and e:
 * copy-up, whiteouts) while others stat, open and read them and list both
 * directories. Lookups see a file or ENOENT, never an error or foreign
 * content; listings hold no unknown or doubled name and never lose an entry
 * that is not being renamed; at the end every file is where it started.
 */
TEST_F_TIMEOUT(r, rename_vs_lookup_vs_readdir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct race_log *l;
	double end;
	pid_t pid[5];
	char c[16];
	int i, st;

	for (i = 0; i < NF; i++) {
		snprintf(c, sizeof(c), "c%d", i);
		/* spread over both lowers: merged directories */
		ASSERT_EQ(0, ufs_put(e->lower[i % 2], ufs_path("d", i < NF / 2 ? "f%d" : "h%d", i), c));
	}
	for (i = 0; i < NS; i++)
		ASSERT_EQ(0, ufs_put(e->lower[i % 2], ufs_path("d", "s%d", i), "s"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "e/s9", "s"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], "e"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));

	l = mmap(NULL, 5 * sizeof(*l), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, l);
	memset(l, 0, 5 * sizeof(*l));
	end = now() + race_secs();	/* from here: setup is slow on KASAN */
	for (i = 0; i < 5; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i])
			continue;
		if (i == 0)
			renamer(e->mnt, &l[i], end);
		else if (i <= 2)
			looker(e->mnt, &l[i], end);
		else
			lister(e->mnt, &l[i], end);
		_exit(0);
	}
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	}
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(0, l[i].rename_err + l[i].lookup_err + l[i].read_err +
			     l[i].readdir_err)
			TH_LOG("process %d: %s", i, l[i].what);
	}
	TH_LOG("%ld renames, %ld lookups+reads, %ld listings", l[0].renames,
	       l[1].lookups + l[2].lookups, l[3].readdirs + l[4].readdirs);
	EXPECT_GT(l[0].renames, 0);
	EXPECT_GT(l[3].readdirs, 0);
	check_final(_metadata, e->mnt);
	/* the same after a remount (from the upper layer's records) */
	ASSERT_EQ(0, rel_umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	check_final(_metadata, e->mnt);
	munmap(l, 5 * sizeof(*l));
}

/*
 * A lower file is unlinked while another process has it open and mapped:
 * the mapping and the descriptor keep reading the old content, the name is
 * gone (a whiteout in upper), and a new file of that name is separate.
 */
TEST_F_TIMEOUT(r, unlink_lower_while_open_and_mapped, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const size_t sz = 256 << 10;
	int fd, pfd[2], gfd[2], st;
	unsigned char *p, b;
	struct stat s;
	size_t i, bad = 0;
	pid_t pid;
	char c;

	ASSERT_EQ(0, rel_fill(ufs_path(e->lower[1], "m"), sz, 7));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	fd = open(ufs_path(e->mnt, "m"), O_RDONLY);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, sz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(rel_byte(7, 5000), p[5000]);	/* fault a page in now */

	/* a child keeps its own mapping and reads it after the unlink */
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, pipe(gfd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int cfd = open(ufs_path(e->mnt, "m"), O_RDONLY);
		unsigned char *q = cfd < 0 ? MAP_FAILED :
			mmap(NULL, sz, PROT_READ, MAP_PRIVATE, cfd, 0);

		if (q == MAP_FAILED)
			_exit(1);
		if (write(pfd[1], "r", 1) != 1 || read(gfd[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < sz; i++)
			if (q[i] != rel_byte(7, i))
				_exit(3);
		_exit(0);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(0, unlink(ufs_path(e->mnt, "m")));
	ASSERT_EQ(1, write(gfd[1], "g", 1));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "m"));
	EXPECT_TRUE(ufs_exists(e->upper, "m"));	/* the whiteout */

	for (i = 0; i < sz; i++)
		bad += p[i] != rel_byte(7, i);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(1, pread(fd, &b, 1, 100000));
	EXPECT_EQ(rel_byte(7, 100000), b);
	EXPECT_EQ(0, fstat(fd, &s));
	EXPECT_EQ(sz, (size_t)s.st_size);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));

	/* a new file of the same name does not touch the old mapping */
	ASSERT_EQ(0, ufs_put(e->mnt, "m", "new"));
	EXPECT_STREQ("new", ufs_get(e->mnt, "m"));
	EXPECT_EQ(rel_byte(7, 4096 * 3 + 1), p[4096 * 3 + 1]);
	munmap(p, sz);
	close(fd);
	close(pfd[0]);
	close(pfd[1]);
	close(gfd[0]);
	close(gfd[1]);
}

/*
 * The same with a copied-up file written through a shared mapping while it
 * is unlinked by another process: the writes stay visible in the mapping,
 * nothing reaches the lower file, and nothing stays in upper.
 */
TEST_F_TIMEOUT(r, unlink_copied_up_while_mapped_for_write, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	const size_t sz = 64 << 10;
	unsigned char *p;
	pid_t pid;
	int fd, st;

	ASSERT_EQ(0, rel_fill(ufs_path(e->lower[0], "w"), sz, 9));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	fd = open(ufs_path(e->mnt, "w"), O_RDWR);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p, "BEFORE", 6);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(unlink(ufs_path(e->mnt, "w")) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	memcpy(p + 8192, "AFTER", 5);
	EXPECT_EQ(0, msync(p, sz, MS_SYNC));
	EXPECT_EQ(0, memcmp(p, "BEFORE", 6));
	EXPECT_EQ(0, memcmp(p + 8192, "AFTER", 5));
	EXPECT_EQ(rel_byte(9, 20000), p[20000]);
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "w"));
	munmap(p, sz);
	close(fd);
	EXPECT_EQ(0, rel_check(ufs_path(e->lower[0], "w"), sz, 9));
}

static pid_t busy_child(const char *mnt, int kind, int *ready, int *go)
{
	pid_t pid = fork();
	char c = 'x';
	int fd, i;

	if (pid)
		return pid;
	switch (kind) {
	case 0:		/* an open file */
		fd = open(ufs_path(mnt, "f"), O_RDONLY);
		if (fd < 0)
			_exit(1);
		break;
	case 1:		/* the working directory */
		if (chdir(ufs_path(mnt, "dir")))
			_exit(1);
		break;
	case 2: {	/* a mapping of a closed file, read when told */
		char *m;

		fd = open(ufs_path(mnt, "f"), O_RDONLY);
		m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			_exit(1);
		close(fd);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(memcmp(m, "lower", 5) ? 3 : 0);
	}
	case 3:		/* copy-ups and writes in a loop, from inside */
		if (chdir(mnt) || write(ready[1], &c, 1) != 1)
			_exit(1);
		for (i = 0;; i++) {
			char n[32];

			snprintf(n, sizeof(n), "dir/x%d", i % 64);
			ufs_put(".", n, "busy");
			snprintf(n, sizeof(n), "dir/x%d", (i + 32) % 64);
			unlink(n);
			fd = open("f", O_WRONLY | O_APPEND);
			if (fd >= 0)
				close(fd);
		}
	}
	if (write(ready[1], &c, 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

/*
 * umount of a busy union (an open file, a working directory, a mapping, a
 * process copying up and writing) fails with EBUSY and leaves the union
 * working; once the user is gone it succeeds. A lazy umount of a busy union
 * succeeds and the user carries on until it closes.
 */
TEST_F_TIMEOUT(r, umount_while_busy, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	static const char *const kinds[] = { "open file", "cwd", "mapping", "writer" };
	int kind, i, st, ready[2], go[2], fd;
	pid_t pid;
	char c;

	ASSERT_EQ(0, ufs_put(e->lower[1], "f", "lower"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "dir/a", "a"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (kind = 0; kind < 4; kind++) {
		pid = busy_child(e->mnt, kind, ready, go);
		ASSERT_GE(pid, 0);
		ASSERT_EQ(1, read(ready[0], &c, 1));
		if (kind == 2) {
			/*
			 * As in overlayfs, a mapping refers to the real file,
			 * not to the union: umount may go ahead. Then the
			 * mapping must still read the data.
			 */
			if (!umount(e->mnt)) {
				e->mounted = 0;
				TH_LOG("mapping: umount went ahead (the mapping holds the real file)");
			} else {
				EXPECT_EQ(EBUSY, errno);
			}
			ASSERT_EQ(1, write(go[1], "g", 1));
			ASSERT_EQ(pid, waitpid(pid, &st, 0));
			EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
				TH_LOG("the mapping after umount: status %#x", st);
			if (e->mounted) {
				EXPECT_EQ(0, rel_umount(e->mnt));
				e->mounted = 0;
			}
			EXPECT_EQ(0, rel_staging_left(e->work));
			ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
			continue;
		}
		for (i = 0; i < 5; i++) {
			EXPECT_EQ(-1, umount(e->mnt)) {
				TH_LOG("%s: umount succeeded", kinds[kind]);
				e->mounted = 0;
				ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
			}
			EXPECT_EQ(EBUSY, errno);
		}
		/* still a working union */
		EXPECT_EQ(0, ufs_put(e->mnt, "dir/b", "b"));
		EXPECT_TRUE(ufs_exists(e->mnt, "f"));
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_EQ(0, rel_umount(e->mnt)) TH_LOG("%s: umount after the user left: %s",
							kinds[kind], strerror(errno));
		e->mounted = 0;
		EXPECT_EQ(0, rel_staging_left(e->work));
		ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
		EXPECT_STREQ("b", ufs_get(e->mnt, "dir/b") ?: "(none)");
		unlink(ufs_path(e->mnt, "dir/b"));
	}

	/* lazy: detached at once, the open file keeps working */
	fd = open(ufs_path(e->mnt, "dir/a"), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, umount2(e->mnt, MNT_DETACH));
	e->mounted = 0;
	EXPECT_EQ(1, pwrite(fd, "A", 1, 0));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, close(fd));
	EXPECT_STREQ("A", ufs_get(e->upper, "dir/a"));
	EXPECT_EQ(0, rel_staging_left(e->work));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

TEST_HARNESS_MAIN
