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

TEST_HARNESS_MAIN
