// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coherence: what the union shows stays true to its layers and to itself.
 * The per-mount sysfs directory (no host paths, no freed memory while a
 * union goes away), RENAME_EXCHANGE never lets deleted lower content come
 * back, d_ino equals st_ino, merged listings follow changes made to the
 * layers directly, and layers written by overlayfs (metacopy files,
 * redirected directories) read as overlayfs shows them.
 */
#include <grp.h>
#include <pthread.h>
#include <sys/wait.h>
#include "ufs_test.h"
#include "kselftest_harness.h"

/* Run @fn(@arg) as uid/gid 1000 in a child; return its exit status. */
static int as_user(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000))
			_exit(99);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 97;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

/* Read a small file whole; -1 with errno on failure. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

FIXTURE(coh) {
	struct ufs_env e;
};

FIXTURE_SETUP(coh)
{
	int i;

	ASSERT_EQ(0, ufs_env_init(&self->e, 2));
	ASSERT_EQ(0, chmod(self->e.base, 0755));
	for (i = 0; i < self->e.nr_lowers; i++)
		self->e.fp[i] = ufs_fingerprint(self->e.lower[i]);
}

FIXTURE_TEARDOWN(coh)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

/* --- /sys/fs/unionfs/<id>/ --- */

/*
 * Every file of every union's sysfs directory that uid 1000 can read:
 * none may show a path (the layer paths are the host's, and sysfs is the
 * same in every container). Exit 0: clean; 1: a path leaked; 2: nothing
 * was readable at all (the counters must stay readable).
 */
static int user_reads_no_paths(void *arg)
{
	const char *base = arg;
	char path[PATH_MAX], buf[4096];
	struct dirent *de, *fe;
	int readable = 0;
	DIR *d, *f;

	d = opendir("/sys/fs/unionfs");
	if (!d)
		return 3;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/unionfs/%s", de->d_name);
		f = opendir(path);
		while (f && (fe = readdir(f))) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/fs/unionfs/%s/%s",
				 de->d_name, fe->d_name);
			if (read_small(path, buf, sizeof(buf)) < 0)
				continue;
			readable++;
			if (strstr(buf, base) || strchr(buf, '/')) {
				printf("# uid 1000 reads %s: %s", path, buf);
				closedir(f);
				closedir(d);
				return 1;
			}
		}
		if (f)
			closedir(f);
	}
	closedir(d);
	return readable ? 0 : 2;
}

TEST_F_TIMEOUT(coh, sysfs_shows_no_layer_paths_to_users, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, ufs_put(e->mnt, "f", "x"));
	EXPECT_EQ(0, as_user(user_reads_no_paths, e->base));
	/* the counters stay readable, and are found by the union's device */
	EXPECT_LT(0, ufs_counter(e->mnt, "lookups"));
	EXPECT_EQ(3, ufs_counter(e->mnt, "layers"));
	EXPECT_EQ(0, ufs_counter(e->upper, "copy_ups"));
}

struct sysfs_reader {
	pthread_t thread;
	volatile int *stop;
	const char *paths[2];	/* the only paths a file may show */
	long reads;
	char bad[1024];		/* the first malformed value seen */
};

/* A counter ("123"), a device ("0:45") or one of the layer paths. */
static int well_formed(const struct sysfs_reader *r, const char *v)
{
	size_t n = strspn(v, "0123456789");
	int i;

	if (n && (!strcmp(v + n, "\n") ||
		  (v[n] == ':' && strspn(v + n + 1, "0123456789") &&
		   !strcmp(v + n + 1 + strspn(v + n + 1, "0123456789"), "\n"))))
		return 1;
	for (i = 0; i < 2; i++)
		if (!strncmp(v, r->paths[i], strlen(r->paths[i])) &&
		    !strcmp(v + strlen(r->paths[i]), "\n"))
			return 1;
	return 0;
}

/* @v printable: other bytes as \xNN. */
static void escape(char *out, size_t size, const char *v)
{
	size_t o = 0;

	for (; *v && o + 5 < size; v++) {
		if (*v >= ' ' && *v < 127)
			out[o++] = *v;
		else
			o += snprintf(out + o, size - o, "\\x%02x", (unsigned char)*v);
	}
	out[o] = '\0';
}

/* Read every file of every union's sysfs directory until told to stop. */
static void *sysfs_read_loop(void *arg)
{
	struct sysfs_reader *r = arg;
	char path[PATH_MAX], buf[4096];
	struct dirent *de, *fe;
	DIR *d, *f;

	while (!*r->stop && !r->bad[0]) {
		d = opendir("/sys/fs/unionfs");
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/fs/unionfs/%s", de->d_name);
			f = opendir(path);
			while (f && (fe = readdir(f))) {
				if (fe->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "/sys/fs/unionfs/%s/%s",
					 de->d_name, fe->d_name);
				if (read_small(path, buf, sizeof(buf)) < 0)
					continue;	/* gone: fine */
				r->reads++;
				if (!well_formed(r, buf) && !r->bad[0]) {
					snprintf(r->bad, sizeof(r->bad), "%s: ", fe->d_name);
					escape(r->bad + strlen(r->bad),
					       sizeof(r->bad) - strlen(r->bad), buf);
				}
			}
			if (f)
				closedir(f);
		}
		if (d)
			closedir(d);
	}
	return NULL;
}

/*
 * Readers of /sys/fs/unionfs/ while unions are mounted and unmounted
 * see well-formed values or no file, never freed memory (on the debug
 * kernel KASAN would also report the read). Long layer paths: a freed
 * name is overwritten by the allocator's free-list pointer.
 */
TEST_F_TIMEOUT(coh, sysfs_reads_during_umount_see_no_freed_memory, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct sysfs_reader r[2] = {};
	volatile int stop = 0;
	char opts[8192], *upper, *lower;
	int i, mounts, rounds = ufs_heavy() ? 200 : 50;

	upper = ufs_path(e->base, "an-upper-directory-with-a-long-name-%s",
			 "so-that-it-fills-more-than-one-allocator-word-xxxxxxxxxxxxxxx");
	lower = ufs_path(e->base, "a-lower-directory-with-a-long-name-%s",
			 "so-that-it-fills-more-than-one-allocator-word-yyyyyyyyyyyyyyy");
	ASSERT_EQ(0, mkdir(upper, 0755));
	ASSERT_EQ(0, mkdir(lower, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 lower, upper, e->work);
	for (i = 0; i < 2; i++) {
		r[i].stop = &stop;
		r[i].paths[0] = upper;
		r[i].paths[1] = lower;
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL, sysfs_read_loop, &r[i]));
	}
	for (mounts = 0; mounts < rounds && !r[0].bad[0] && !r[1].bad[0]; mounts++) {
		ASSERT_EQ(0, ufs_mount(e->mnt, opts));
		ASSERT_EQ(0, umount(e->mnt));
	}
	stop = 1;
	for (i = 0; i < 2; i++) {
		pthread_join(r[i].thread, NULL);
		EXPECT_STREQ("", r[i].bad);
	}
	TH_LOG("%d mounts, %ld + %ld reads", mounts, r[0].reads, r[1].reads);
	EXPECT_LT(0, r[0].reads + r[1].reads);
}

/* --- d_ino from readdir equals st_ino --- */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Compare d_ino with lstat's st_ino for every entry below @dir (itself
 * included, through "."); log each mismatch. Returns the number of
 * mismatches, or -1 when @dir cannot be read.
 */
static int dino_mismatches(const char *dir, int *entries)
{
	char buf[8192], path[PATH_MAX];
	int fd, bad = 0;
	long n, off;

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += ((struct linux_dirent64 *)(buf + off))->d_reclen) {
			struct linux_dirent64 *d = (void *)(buf + off);
			struct stat st;

			if (!strcmp(d->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			(*entries)++;
			if (lstat(path, &st)) {
				printf("# %s: listed, but lstat: %s\n", path, strerror(errno));
				bad++;
				continue;
			}
			if (st.st_ino != d->d_ino) {
				printf("# %s: d_ino %llu, st_ino %llu\n", path,
				       (unsigned long long)d->d_ino,
				       (unsigned long long)st.st_ino);
				bad++;
			}
			if (S_ISDIR(st.st_mode) && strcmp(d->d_name, ".")) {
				int sub = dino_mismatches(path, entries);

				bad += sub < 0 ? 1 : sub;
			}
		}
	}
	close(fd);
	return n < 0 ? bad + 1 : bad;
}

/* Lower content for the d_ino tests: a merged tree, hard links, fifos. */
static void dino_layers(struct __test_metadata *_metadata, struct ufs_env *e)
{
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/a", "a"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/b", "b"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/c", "c"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/sub/deep", "deep"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/sub/top", "top"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "root-file", "r"));
	ASSERT_EQ(0, link(ufs_path(e->lower[1], "d/a"), ufs_path(e->lower[1], "d/a-link")));
	ASSERT_EQ(0, mkfifo(ufs_path(e->lower[0], "d/fifo"), 0644));
}

/*
 * Every way an object with a recorded inode number lands in an upper
 * directory: copy-up of data, of metadata, of a directory; rename into
 * another (merged) directory; link; exchange.
 */
static void dino_changes(struct __test_metadata *_metadata, const char *m)
{
	char *p;

	ASSERT_EQ(0, chmod(ufs_path(m, "d/a"), 0600));
	ASSERT_EQ(0, ufs_put(m, "d/b", "written"));
	ASSERT_EQ(0, chmod(ufs_path(m, "root-file"), 0600));
	ASSERT_EQ(0, ufs_put(m, "d/new", "made in the union"));
	ASSERT_EQ(0, mkdir(ufs_path(m, "d/newdir"), 0755));
	ASSERT_EQ(0, chmod(ufs_path(m, "d/fifo"), 0600));
	ASSERT_EQ(0, rename(ufs_path(m, "d/c"), ufs_path(m, "d/sub/c-moved")));
	ASSERT_EQ(0, link(ufs_path(m, "d/b"), ufs_path(m, "d/newdir/b-link")));
	ASSERT_EQ(0, chmod(ufs_path(m, "d/sub/deep"), 0640));
	p = ufs_path(m, "d/sub/top");
	ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD,
			     ufs_path(m, "d/new"), 2 /* RENAME_EXCHANGE */));
	free(p);
}

static void dino_check(struct __test_metadata *_metadata, const char *m,
		       const char *when)
{
	int entries = 0;

	EXPECT_EQ(0, dino_mismatches(m, &entries)) TH_LOG("%s", when);
	EXPECT_LT(12, entries);
}

TEST_F_TIMEOUT(coh, d_ino_is_st_ino_after_copy_up_and_remount, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	dino_layers(_metadata, e);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	dino_check(_metadata, e->mnt, "before any change");
	dino_changes(_metadata, e->mnt);
	dino_check(_metadata, e->mnt, "after copy-ups");
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	dino_check(_metadata, e->mnt, "after remount");
	/* drop the dcache too: the listing must not depend on it */
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	dino_check(_metadata, e->mnt, "after a second remount, listing first");
}

/*
 * Layers on two filesystems: inode numbers carry the filesystem's index in
 * their top bit (xino), in readdir as in stat. The top lower is a tmpfs of
 * its own, whatever the scratch filesystem is.
 */
TEST_F_TIMEOUT(coh, d_ino_is_st_ino_with_layers_on_two_filesystems, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	struct stat up, low;

	ASSERT_EQ(0, mount("tmpfs", e->lower[0], "tmpfs", 0, "mode=0755"));
	dino_layers(_metadata, e);
	ASSERT_EQ(0, stat(e->lower[0], &low));
	ASSERT_EQ(0, stat(e->upper, &up));
	ASSERT_NE(low.st_dev, up.st_dev);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	dino_check(_metadata, e->mnt, "two filesystems, before any change");
	dino_changes(_metadata, e->mnt);
	dino_check(_metadata, e->mnt, "two filesystems, after copy-ups");
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	dino_check(_metadata, e->mnt, "two filesystems, after remount");
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	EXPECT_EQ(-1, ufs_env_lower_changed(e));
	ASSERT_EQ(0, umount2(e->lower[0], MNT_DETACH));
	e->fp[0] = ufs_fingerprint(e->lower[0]);
}

/* --- RENAME_EXCHANGE and deleted lower directories --- */

/* Names in DIR (without . and ..), sorted into @buf, space-separated. */
static int list_names(const char *dir, char *buf, size_t size)
{
	struct dirent **list;
	int i, n;
	size_t off = 0;

	buf[0] = '\0';
	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, ".."))
			off += snprintf(buf + off, off < size ? size - off : 0,
					"%s%s", off ? " " : "", list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return 0;
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

static int exchange(const char *m, const char *a, const char *b)
{
	char *pa = ufs_path(m, "%s", a), *pb = ufs_path(m, "%s", b);
	int ret = syscall(SYS_renameat2, AT_FDCWD, pa, AT_FDCWD, pb,
			  2 /* RENAME_EXCHANGE */);

	free(pa);
	free(pb);
	return ret;
}

/* @rel must list as @want now, after the caches go and after a remount. */
static void expect_listing(struct __test_metadata *_metadata,
			   struct ufs_env *e, const char *rel,
			   const char *want)
{
	static const char * const when[] = {
		"right after", "after drop_caches", "after remount"
	};
	char buf[4096], *dir = ufs_path(e->mnt, "%s", rel);
	int i;

	for (i = 0; i < 3; i++) {
		if (i == 1)
			drop_caches();
		if (i == 2) {
			ASSERT_EQ(0, umount(e->mnt));
			e->mounted = 0;
			ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
		}
		ASSERT_EQ(0, list_names(dir, buf, sizeof(buf)));
		EXPECT_STREQ(want, buf) TH_LOG("ls %s %s the operation", rel,
					       when[i]);
	}
	free(dir);
}

/* Delete a lower directory, put a file there, exchange a new dir with it. */
TEST_F_TIMEOUT(coh, exchange_dir_with_file_over_deleted_lower_dir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *m;

	ASSERT_EQ(0, ufs_put(e->lower[1], "a/secret", "deleted data"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	m = e->mnt;
	ASSERT_EQ(0, unlink(ufs_path(m, "a/secret")));
	ASSERT_EQ(0, rmdir(ufs_path(m, "a")));
	ASSERT_EQ(0, ufs_put(m, "a", "file a"));
	ASSERT_EQ(0, mkdir(ufs_path(m, "x"), 0755));
	ASSERT_EQ(0, exchange(m, "x", "a"));
	EXPECT_STREQ("file a", ufs_get(m, "x"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(m, "a/secret"));
	expect_listing(_metadata, e, "a", "");
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "a/secret"));
	EXPECT_STREQ("file a", ufs_get(e->mnt, "x"));
}

/* The same with two new directories, one of them made over the deleted one. */
TEST_F_TIMEOUT(coh, exchange_two_new_dirs_over_deleted_lower_dir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *m;

	ASSERT_EQ(0, ufs_put(e->lower[0], "a/secret", "deleted data"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	m = e->mnt;
	ASSERT_EQ(0, unlink(ufs_path(m, "a/secret")));
	ASSERT_EQ(0, rmdir(ufs_path(m, "a")));
	ASSERT_EQ(0, mkdir(ufs_path(m, "a"), 0755));
	ASSERT_EQ(0, ufs_put(m, "a/kept", "k"));
	ASSERT_EQ(0, mkdir(ufs_path(m, "x"), 0755));
	ASSERT_EQ(0, ufs_put(m, "x/new", "n"));
	ASSERT_EQ(0, exchange(m, "x", "a"));
	expect_listing(_metadata, e, "a", "new");
	expect_listing(_metadata, e, "x", "kept");
}

/* Across directories: the new directory lands in a merged one. */
TEST_F_TIMEOUT(coh, exchange_into_merged_dir_over_deleted_lower_dir, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *m;

	ASSERT_EQ(0, ufs_put(e->lower[1], "d/a/secret", "deleted data"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/other", "o"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	m = e->mnt;
	ASSERT_EQ(0, unlink(ufs_path(m, "d/a/secret")));
	ASSERT_EQ(0, rmdir(ufs_path(m, "d/a")));
	ASSERT_EQ(0, ufs_put(m, "d/a", "file a"));
	ASSERT_EQ(0, mkdir(ufs_path(m, "x"), 0755));
	ASSERT_EQ(0, exchange(m, "x", "d/a"));
	expect_listing(_metadata, e, "d/a", "");
	expect_listing(_metadata, e, "d", "a other");
	EXPECT_STREQ("file a", ufs_get(e->mnt, "x"));
}

/* --- merged listings and changes made to the layers directly --- */

/* Every listed name of @dir must lstat; returns how many do not. */
static int listed_but_missing(const char *dir)
{
	char names[65536], *save = NULL, *n;
	int bad = 0;

	if (list_names(dir, names, sizeof(names)))
		return -1;
	for (n = strtok_r(names, " ", &save); n; n = strtok_r(NULL, " ", &save))
		if (ufs_errno_of_lstat(dir, n)) {
			fprintf(stderr, "# %s/%s listed, lstat: %s\n", dir, n,
			       strerror(ufs_errno_of_lstat(dir, n)));
			bad++;
		}
	return bad;
}

/*
 * Wait until the clock has moved past the last change of @path: a listing
 * read now can be kept however coarse the filesystem's timestamps are.
 * (Not a timing assumption: it waits for a condition.)
 */
static void wait_past_change(const char *path)
{
	struct timespec now;
	struct stat st;

	if (lstat(path, &st))
		return;
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > st.st_ctim.tv_sec + 1 ||
		    (now.tv_sec - st.st_ctim.tv_sec) * 1000000000LL +
		    now.tv_nsec - st.st_ctim.tv_nsec > 50000000LL)
			return;
		usleep(10000);
	}
}

static void expect_ls(struct __test_metadata *_metadata, const char *dir,
		      const char *want, const char *why)
{
	char buf[65536];

	ASSERT_EQ(0, list_names(dir, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf) TH_LOG("%s", why);
	EXPECT_EQ(0, listed_but_missing(dir)) TH_LOG("%s", why);
}

TEST_F_TIMEOUT(coh, listing_follows_changes_made_to_lowers_directly, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char *d;

	ASSERT_EQ(0, ufs_put(e->lower[1], "d/a", "a"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/b", "b"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	d = ufs_path(e->mnt, "d");
	expect_ls(_metadata, d, "a b", "first listing");
	expect_ls(_metadata, d, "a b", "second listing");
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/c", "c"));
	expect_ls(_metadata, d, "a b c", "file added to the bottom lower");
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/e", "e"));
	expect_ls(_metadata, d, "a b c e", "file added to the top lower");
	ASSERT_EQ(0, unlink(ufs_path(e->lower[1], "d/a")));
	expect_ls(_metadata, d, "b c e", "file removed from a lower");
	ASSERT_EQ(0, rename(ufs_path(e->lower[0], "d/b"), ufs_path(e->lower[0], "d/z")));
	expect_ls(_metadata, d, "c e z", "file renamed in a lower");
	/* the directory gets an upper part, then a lower changes again */
	ASSERT_EQ(0, ufs_put(d, "u", "made in the union"));
	expect_ls(_metadata, d, "c e u z", "file made through the union");
	ASSERT_EQ(0, unlink(ufs_path(e->lower[1], "d/c")));
	expect_ls(_metadata, d, "e u z", "file removed below a copied-up dir");
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/f", "f"));
	expect_ls(_metadata, d, "e f u z", "file added below a copied-up dir");
	/* the root too */
	ASSERT_EQ(0, ufs_put(e->lower[1], "top-level", "t"));
	expect_ls(_metadata, e->mnt, "d top-level", "file added to a lower root");
	free(d);
	/* changes to lowers: the fingerprint check does not apply */
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	e->fp[1] = ufs_fingerprint(e->lower[1]);
}

/* Changes in quick succession, each followed by a fresh opendir. */
TEST_F_TIMEOUT(coh, listing_follows_changes_in_quick_succession, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char name[32], buf[65536], *d;
	int i, n = ufs_heavy() ? 400 : 100;

	ASSERT_EQ(0, ufs_put(e->lower[1], "d/base", "b"));
	ASSERT_EQ(0, ufs_env_mount(e, 0, MS_RDONLY));
	d = ufs_path(e->mnt, "d");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/f%04d", i);
		ASSERT_EQ(0, ufs_put(e->lower[i % 2], name, "x"));
		ASSERT_EQ(0, list_names(d, buf, sizeof(buf)));
		ASSERT_NE(NULL, strstr(buf, name + 2)) TH_LOG("%s not listed", name);
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/f%04d", i);
		ASSERT_EQ(0, unlink(ufs_path(e->lower[i % 2], name)));
		ASSERT_EQ(0, list_names(d, buf, sizeof(buf)));
		ASSERT_EQ(NULL, strstr(buf, name + 2)) TH_LOG("%s still listed", name);
	}
	EXPECT_STREQ("base", buf);
	free(d);
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	e->fp[1] = ufs_fingerprint(e->lower[1]);
}

/* Unchanged layers: a new opendir is served from the kept listing. */
TEST_F_TIMEOUT(coh, listing_kept_while_layers_unchanged, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	long long hits, builds, stale;
	char buf[256], *d;

	ASSERT_EQ(0, ufs_put(e->lower[1], "d/a", "a"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/b", "b"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	d = ufs_path(e->mnt, "d");
	wait_past_change(ufs_path(e->lower[0], "d"));
	wait_past_change(ufs_path(e->lower[1], "d"));
	expect_ls(_metadata, d, "a b", "first listing");
	hits = ufs_counter(e->mnt, "readdir_cache_hits");
	builds = ufs_counter(e->mnt, "readdir_builds");
	stale = ufs_counter(e->mnt, "readdir_cache_stale");
	ASSERT_LE(0, hits);
	ASSERT_LE(0, stale);
	ASSERT_EQ(0, list_names(d, buf, sizeof(buf)));
	EXPECT_STREQ("a b", buf);
	ASSERT_EQ(0, list_names(d, buf, sizeof(buf)));
	EXPECT_STREQ("a b", buf);
	EXPECT_EQ(hits + 2, ufs_counter(e->mnt, "readdir_cache_hits"));
	EXPECT_EQ(builds, ufs_counter(e->mnt, "readdir_builds"));
	EXPECT_LT(0, ufs_counter(e->mnt, "readdir_cache_bytes"));
	/* a change below: found stale, built again */
	ASSERT_EQ(0, ufs_put(e->lower[1], "d/c", "c"));
	ASSERT_EQ(0, list_names(d, buf, sizeof(buf)));
	EXPECT_STREQ("a b c", buf);
	EXPECT_EQ(stale + 1, ufs_counter(e->mnt, "readdir_cache_stale"));
	EXPECT_EQ(builds + 1, ufs_counter(e->mnt, "readdir_builds"));
	free(d);
	e->fp[1] = ufs_fingerprint(e->lower[1]);
}

#define DIR_CACHE_PARAM "/sys/module/unionfs/parameters/dir_cache_max_kb"

static int set_param(const char *path, const char *val, char *old, size_t size)
{
	FILE *f = fopen(path, "r+");
	int ret = -1;

	if (!f)
		return -1;
	if (old && !fgets(old, size, f))
		goto out;
	rewind(f);
	if (fputs(val, f) >= 0)
		ret = 0;
out:
	if (fclose(f))
		ret = -1;
	return ret;
}

/* The cached listings of all directories stay within dir_cache_max_kb. */
TEST_F_TIMEOUT(coh, listing_cache_memory_is_bounded, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	long long hits, bytes, max = 0;
	char old[32], name[64], *d;
	int i, j;

	for (i = 0; i < 8; i++)
		for (j = 0; j < 100; j++) {
			snprintf(name, sizeof(name), "d%d/file-%04d", i, j);
			ASSERT_EQ(0, ufs_put(e->lower[1], name, ""));
		}
	for (j = 0; j < 2000; j++) {
		snprintf(name, sizeof(name), "huge/file-%04d", j);
		ASSERT_EQ(0, ufs_put(e->lower[1], name, ""));
	}
	ASSERT_EQ(0, ufs_env_mount(e, 0, MS_RDONLY));
	wait_past_change(ufs_path(e->lower[1], "huge"));
	ASSERT_EQ(0, set_param(DIR_CACHE_PARAM, "64", old, sizeof(old)));
	for (i = 0; i < 8; i++) {
		d = ufs_path(e->mnt, "d%d", i);
		EXPECT_EQ(0, listed_but_missing(d));
		EXPECT_EQ(0, listed_but_missing(d));
		free(d);
		bytes = ufs_counter(e->mnt, "readdir_cache_bytes");
		EXPECT_GE(64 * 1024, bytes);
		max = bytes > max ? bytes : max;
	}
	EXPECT_LT(0, max);
	EXPECT_LT(0, ufs_counter(e->mnt, "readdir_cache_evictions"));
	/* a listing bigger than the whole budget is never kept */
	d = ufs_path(e->mnt, "huge");
	EXPECT_EQ(0, listed_but_missing(d));
	hits = ufs_counter(e->mnt, "readdir_cache_hits");
	EXPECT_EQ(0, listed_but_missing(d));
	EXPECT_EQ(hits, ufs_counter(e->mnt, "readdir_cache_hits"));
	EXPECT_GE(64 * 1024, ufs_counter(e->mnt, "readdir_cache_bytes"));
	free(d);
	TH_LOG("largest readdir_cache_bytes under a 64 KiB budget: %lld", max);
	EXPECT_EQ(0, set_param(DIR_CACHE_PARAM, old, NULL, 0));
}

/* --- layers written by overlayfs: metacopy files, redirected dirs --- */

/*
 * What one path shows: "d:<names>" for a directory, "f:<bytes>" for a
 * file, "e:<errno>" when it cannot be read.
 */
static void show_path(const char *root, const char *rel, char *buf,
		      size_t size)
{
	char *p = ufs_path(root, "%s", rel);
	struct stat st;
	int n;

	if (lstat(p, &st)) {
		snprintf(buf, size, "e:%d", errno);
	} else if (S_ISDIR(st.st_mode)) {
		n = snprintf(buf, size, "d:");
		if (list_names(p, buf + n, size - n))
			snprintf(buf, size, "e:%d", errno);
	} else {
		n = snprintf(buf, size, "f:");
		if (read_small(p, buf + n, size - n) < 0)
			snprintf(buf, size, "e:%d", errno);
	}
	free(p);
}

static const char * const ovl_paths[] = {
	"", "dir", "dir2", "dir2/sub", "dir2/f1", "dir2/sub/f2",
	"meta", "chmodded", "moved-meta", "plain", "gone",
};

/*
 * overlayfs (metacopy=on, redirect_dir=on) makes a layer: chown and chmod
 * leave metacopy files, rename of a lower directory leaves a redirect,
 * rename of a metacopy file both. Its upper and lower, mounted as unionfs
 * lowers, must show what overlayfs showed; a file whose data cannot be
 * found may fail with EIO instead, never read other bytes.
 */
TEST_F_TIMEOUT(coh, overlayfs_metacopy_and_redirect_layers, UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;
	char want[ARRAY_SIZE(ovl_paths)][4096], got[4096], opts[4096];
	char *ovl = ufs_path(e->base, "ovl"), *ow = ufs_path(e->base, "ovlwork");
	char *lo = e->lower[1], *up = e->lower[0];
	char val[256];
	unsigned int i;

	ASSERT_EQ(0, ufs_put(lo, "dir/f1", "file one"));
	ASSERT_EQ(0, ufs_put(lo, "dir/sub/f2", "file two"));
	ASSERT_EQ(0, ufs_put(lo, "meta", "the data of meta"));
	ASSERT_EQ(0, ufs_put(lo, "chmodded", "the data of chmodded"));
	ASSERT_EQ(0, ufs_put(lo, "to-move", "the data of a moved file"));
	ASSERT_EQ(0, ufs_put(lo, "plain", "plain"));
	ASSERT_EQ(0, ufs_put(lo, "gone", "deleted"));
	ASSERT_EQ(0, mkdir(ovl, 0755));
	ASSERT_EQ(0, mkdir(ow, 0755));
	snprintf(opts, sizeof(opts),
		 "lowerdir=%s,upperdir=%s,workdir=%s,metacopy=on,redirect_dir=on",
		 lo, up, ow);
	ASSERT_EQ(0, mount("overlay", ovl, "overlay", 0, opts)) TH_LOG("overlay: %s", strerror(errno));
	EXPECT_EQ(0, chown(ufs_path(ovl, "meta"), 1000, 1000));
	EXPECT_EQ(0, chmod(ufs_path(ovl, "chmodded"), 0600));
	EXPECT_EQ(0, chown(ufs_path(ovl, "to-move"), 1000, 1000));
	EXPECT_EQ(0, rename(ufs_path(ovl, "to-move"), ufs_path(ovl, "moved-meta")));
	EXPECT_EQ(0, rename(ufs_path(ovl, "dir"), ufs_path(ovl, "dir2")));
	EXPECT_EQ(0, unlink(ufs_path(ovl, "gone")));
	for (i = 0; i < ARRAY_SIZE(ovl_paths); i++)
		show_path(ovl, ovl_paths[i], want[i], sizeof(want[i]));
	ASSERT_EQ(0, umount(ovl));
	/* overlayfs did write what this test is about */
	ASSERT_LE(0, getxattr(ufs_path(up, "meta"), "trusted.overlay.metacopy", val, sizeof(val)));
	ASSERT_LE(0, getxattr(ufs_path(up, "moved-meta"), "trusted.overlay.metacopy", val, sizeof(val)));
	ASSERT_LT(0, getxattr(ufs_path(up, "dir2"), "trusted.overlay.redirect", val, sizeof(val)));

	for (i = 0; i < 2; i++)
		e->fp[i] = ufs_fingerprint(e->lower[i]);
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	for (i = 0; i < ARRAY_SIZE(ovl_paths); i++) {
		show_path(e->mnt, ovl_paths[i], got, sizeof(got));
		if (!strcmp(got, want[i]))
			continue;
		/* a file whose data is out of reach: refused, never other bytes */
		if (!strncmp(want[i], "f:", 2) && !strcmp(got, "e:5")) {
			TH_LOG("%s: EIO (overlayfs read %s)", ovl_paths[i], want[i]);
			continue;
		}
		EXPECT_STREQ(want[i], got) TH_LOG("/%s", ovl_paths[i]);
	}
	/* the directory moved by overlayfs keeps its content when moved again */
	ASSERT_EQ(0, rename(ufs_path(e->mnt, "dir2"), ufs_path(e->mnt, "dir3")));
	show_path(e->mnt, "dir3", got, sizeof(got));
	EXPECT_STREQ(want[2], got);
	ASSERT_EQ(0, umount(e->mnt));
	e->mounted = 0;
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	show_path(e->mnt, "dir3/sub", got, sizeof(got));
	EXPECT_STREQ(want[3], got) TH_LOG("/dir3/sub after remount");
	free(ovl);
	free(ow);
}

/* --- upper entries changed directly under a looked-up name --- */

/*
 * An unlink, rmdir or rename through the union acts on the upper entry the
 * union dentry stands for. When that entry was removed or replaced in the
 * upper layer directly (fstests overlay/012), the union's dentry is stale:
 * the operation fails with ESTALE, as on overlayfs, and leaves whatever
 * now is in the upper layer alone.
 */
struct stale_case {
	const char *lower_dir;	/* made in the lower layer before mounting */
	/* through the union @m, then directly in the upper @u: 0 or -1 */
	int (*prepare)(const char *m, const char *u);
	int (*op)(const char *m);	/* 0 or errno */
	const char *rel;	/* the upper entry to look at afterwards */
	const char *want;	/* what it must be then (upper_shows()) */
};

/* What the upper layer has at REL: "-" nothing, "d" a directory, "f:DATA". */
static const char *upper_shows(const char *u, const char *rel)
{
	static char buf[256];
	struct stat st;
	const char *data;
	char *p = ufs_path(u, "%s", rel);
	int ret = lstat(p, &st);

	free(p);
	if (ret)
		return errno == ENOENT ? "-" : "error";
	if (S_ISDIR(st.st_mode))
		return "d";
	if (!S_ISREG(st.st_mode))
		return "other";
	data = ufs_get(u, rel);
	snprintf(buf, sizeof(buf), "f:%s", data ? data : "(unreadable)");
	return buf;
}

static int err_of(int ret)
{
	return ret ? errno : 0;
}

static int at(int (*fn)(const char *), const char *dir, const char *rel)
{
	char *p = ufs_path(dir, "%s", rel);
	int ret = fn(p);

	free(p);
	return ret;
}

static int mkdir_0755(const char *path)
{
	return mkdir(path, 0755);
}

static int rename_in(const char *m, const char *a, const char *b)
{
	char *pa = ufs_path(m, "%s", a), *pb = ufs_path(m, "%s", b);
	int ret = rename(pa, pb);

	free(pa);
	free(pb);
	return ret;
}

/* overlay/012: a file made where a lower dir was removed, then removed above. */
static int prep_made_over_whiteout(const char *m, const char *u)
{
	if (at(rmdir, m, "test") || ufs_put(m, "test", ""))
		return -1;
	return at(unlink, u, "test");
}

static int op_unlink_test(const char *m)
{
	return err_of(at(unlink, m, "test"));
}

static int prep_file_replaced(const char *m, const char *u)
{
	if (ufs_put(m, "f", "union") || at(unlink, u, "f"))
		return -1;
	return ufs_put(u, "f", "direct");
}

static int op_unlink_f(const char *m)
{
	return err_of(at(unlink, m, "f"));
}

static int prep_dir_replaced(const char *m, const char *u)
{
	if (at(mkdir_0755, m, "d") || at(rmdir, u, "d"))
		return -1;
	return at(mkdir_0755, u, "d");
}

static int op_rmdir_d(const char *m)
{
	return err_of(at(rmdir, m, "d"));
}

static int prep_source_removed(const char *m, const char *u)
{
	if (ufs_put(m, "a", "a"))
		return -1;
	return at(unlink, u, "a");
}

static int op_rename_a_b(const char *m)
{
	return err_of(rename_in(m, "a", "b"));
}

static int prep_target_replaced(const char *m, const char *u)
{
	if (ufs_put(m, "a", "a") || ufs_put(m, "b", "b") || at(unlink, u, "b"))
		return -1;
	return ufs_put(u, "b", "direct");
}

/* The union has looked "b" up and found nothing; then the upper gets one. */
static int prep_target_appeared(const char *m, const char *u)
{
	if (ufs_put(m, "a", "a") || ufs_errno_of_lstat(m, "b") != ENOENT)
		return -1;
	return ufs_put(u, "b", "direct");
}

static int prep_target_dir_replaced(const char *m, const char *u)
{
	if (at(mkdir_0755, m, "a") || at(mkdir_0755, m, "b") ||
	    at(rmdir, u, "b"))
		return -1;
	return at(mkdir_0755, u, "b");
}

static int op_exchange_a_b(const char *m)
{
	return err_of(exchange(m, "a", "b"));
}

static const struct stale_case stale_cases[] = {
	{ "test", prep_made_over_whiteout, op_unlink_test, "test", "-" },
	{ NULL, prep_file_replaced, op_unlink_f, "f", "f:direct" },
	{ NULL, prep_dir_replaced, op_rmdir_d, "d", "d" },
	{ NULL, prep_source_removed, op_rename_a_b, "b", "-" },
	{ NULL, prep_target_replaced, op_rename_a_b, "b", "f:direct" },
	{ NULL, prep_target_appeared, op_rename_a_b, "b", "f:direct" },
	{ NULL, prep_target_dir_replaced, op_rename_a_b, "b", "d" },
	{ NULL, prep_target_replaced, op_exchange_a_b, "b", "f:direct" },
};

/*
 * Run @c through overlayfs (the oracle; *@ovl_err -1 when it does not
 * mount here) and through the union; return the union's errno.
 */
static int stale_run(struct __test_metadata *_metadata, struct ufs_env *e,
		     const struct stale_case *c, int *ovl_err, char *ovl_shows,
		     size_t size)
{
	char *o = ufs_path(e->base, "o"), opts[4096];
	char *ol = ufs_path(o, "lower"), *ou = ufs_path(o, "upper");
	char *ow = ufs_path(o, "work"), *om = ufs_path(o, "mnt");
	int err;

	*ovl_err = -1;
	snprintf(ovl_shows, size, "(overlayfs did not mount)");
	ASSERT_EQ(0, ufs_mkdirs(ol, 0755));
	ASSERT_EQ(0, ufs_mkdirs(ou, 0755));
	ASSERT_EQ(0, ufs_mkdirs(ow, 0755));
	ASSERT_EQ(0, ufs_mkdirs(om, 0755));
	if (c->lower_dir) {
		ASSERT_EQ(0, ufs_mkdir_in(ol, c->lower_dir));
		ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], c->lower_dir));
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 ol, ou, ow);
	if (!mount("overlay", om, "overlay", 0, opts)) {
		ASSERT_EQ(0, c->prepare(om, ou)) TH_LOG("overlayfs: %s", strerror(errno));
		*ovl_err = c->op(om);
		snprintf(ovl_shows, size, "%s", upper_shows(ou, c->rel));
		EXPECT_EQ(0, umount(om));
	} else {
		TH_LOG("overlayfs does not mount here: %s", strerror(errno));
	}
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, c->prepare(e->mnt, e->upper)) TH_LOG("union: %s", strerror(errno));
	err = c->op(e->mnt);
	free(o);
	free(ol);
	free(ou);
	free(ow);
	free(om);
	return err;
}

static void stale_check(struct __test_metadata *_metadata, struct ufs_env *e,
			const struct stale_case *c)
{
	char ovl_shows[256];
	int err, ovl_err;

	err = stale_run(_metadata, e, c, &ovl_err, ovl_shows, sizeof(ovl_shows));
	EXPECT_EQ(ESTALE, err) TH_LOG("union: %s (overlayfs: %s)", strerror(err),
				      ovl_err < 0 ? "-" : strerror(ovl_err));
	EXPECT_STREQ(c->want, upper_shows(e->upper, c->rel))
		TH_LOG("upper %s afterwards (overlayfs: %s)", c->rel, ovl_shows);
	if (ovl_err >= 0) {
		EXPECT_EQ(ovl_err, err) TH_LOG("overlayfs: %s", strerror(ovl_err));
		EXPECT_STREQ(ovl_shows, upper_shows(e->upper, c->rel));
	}
}

TEST_F_TIMEOUT(coh, unlink_of_file_removed_from_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[0]);
}

TEST_F_TIMEOUT(coh, unlink_of_file_replaced_in_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[1]);
}

TEST_F_TIMEOUT(coh, rmdir_of_dir_replaced_in_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[2]);
}

TEST_F_TIMEOUT(coh, rename_of_file_removed_from_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[3]);
}

TEST_F_TIMEOUT(coh, rename_over_file_replaced_in_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[4]);
}

TEST_F_TIMEOUT(coh, rename_over_name_made_in_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[5]);
}

TEST_F_TIMEOUT(coh, rename_over_dir_replaced_in_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[6]);
}

TEST_F_TIMEOUT(coh, exchange_with_file_replaced_in_upper_is_estale, UFS_TEST_TIMEOUT)
{
	stale_check(_metadata, &self->e, &stale_cases[7]);
}


/*
 * A directory that shows nothing but still holds whiteouts is emptied for
 * a rename onto it. When the rename then fails (here ESTALE: its source
 * was replaced in the upper layer directly), what those whiteouts hid
 * stays hidden: the lower file the user deleted does not come back.
 */
TEST_F_TIMEOUT(coh, failed_rename_over_dir_keeps_deleted_lower_files_hidden,
	       UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_put(e->lower[0], "b/deleted", "deleted data"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_EQ(0, at(mkdir_0755, e->mnt, "a"));
	ASSERT_EQ(0, at(unlink, e->mnt, "b/deleted"));
	ASSERT_EQ(0, at(rmdir, e->upper, "a"));
	ASSERT_EQ(0, at(mkdir_0755, e->upper, "a"));
	EXPECT_EQ(ESTALE, err_of(rename_in(e->mnt, "a", "b")));
	EXPECT_STREQ("d", upper_shows(e->upper, "a"));
	expect_listing(_metadata, e, "b", "");
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(e->mnt, "b/deleted"));
}

/*
 * A name the union found only in a lower layer: when that lower file goes
 * and the upper layer gets one of that name directly, the union dentry is
 * stale. unlink fails with ESTALE (as on overlayfs) and leaves the upper
 * file alone: it is not the file the union showed.
 */
TEST_F_TIMEOUT(coh, unlink_of_vanished_lower_file_leaves_new_upper_file,
	       UFS_TEST_TIMEOUT)
{
	struct ufs_env *e = &self->e;

	ASSERT_EQ(0, ufs_put(e->lower[0], "f", "lower"));
	ASSERT_EQ(0, ufs_env_mount(e, 1, 0));
	ASSERT_STREQ("lower", ufs_get(e->mnt, "f"));
	ASSERT_EQ(0, at(unlink, e->lower[0], "f"));
	e->fp[0] = ufs_fingerprint(e->lower[0]);
	ASSERT_EQ(0, ufs_put(e->upper, "f", "direct"));
	EXPECT_EQ(ESTALE, err_of(at(unlink, e->mnt, "f")));
	EXPECT_STREQ("f:direct", upper_shows(e->upper, "f"));
}

TEST_HARNESS_MAIN
