// SPDX-License-Identifier: GPL-2.0-only
/*
 * ufsbench: the timed part of every unionfs benchmark workload, so that no
 * shell loop sits inside a measurement.
 *
 *   ufsbench [-w LABEL] [-c CONTENDER] [-p PARAM] [-t MS] CMD ARGS...
 *
 *   stat PATH N          N stat(2) of PATH                     ns per stat
 *   coldstat DIR K       stat DIR/c0 .. DIR/c<K-1> once each    ns per stat
 *   negstat DIR N        N stat(2) of DIR/<missing name>        ns per stat
 *   openread DIR         open+read+close of every regular file   ns per file
 *                        under DIR (paths collected first)
 *   seqread FILE         read FILE in 1 MiB chunks               ns per MiB
 *   randread FILE N      N 4 KiB pread at random 4 KiB-aligned    ns per pread
 *                        offsets (fixed seed)
 *   readdir DIR N        N times open+getdents64 to end+close    ns per listing
 *
 * Helpers (not timed): mkfiles DIR PREFIX START COUNT SIZE creates files
 * PREFIX<START>..; mount-unionfs MNT LAYER... mounts a read-only union with
 * the new mount API, one fsconfig("lowerdir+") per layer, top layer first.
 *
 * -t MS bounds the loops of stat, coldstat, negstat, randread and readdir:
 * they stop after MS milliseconds (at least one operation) and report the
 * mean over the operations done, so a slow contender costs time, not hours.
 *
 * Output: one CSV line "workload,contender,param,ns_per_op".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *label;
static const char *contender = "-";
static const char *param = "-";
static uint64_t budget_ns;	/* -t MS: stop a loop once it ran this long */

static void die(const char *what)
{
	fprintf(stderr, "ufsbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int over(uint64_t t0)
{
	return budget_ns && now_ns() - t0 > budget_ns;
}

static void report(const char *workload, uint64_t ns, uint64_t ops)
{
	if (ops == 0) {
		fprintf(stderr, "ufsbench: %s: no operations\n", workload);
		exit(1);
	}
	printf("%s,%s,%s,%.1f\n", label ? label : workload, contender, param,
	       (double)ns / (double)ops);
}

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "ufsbench: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int cmd_stat(const char *path, long n)
{
	struct stat st;
	uint64_t t0;
	long i;

	if (stat(path, &st))
		die(path);
	t0 = now_ns();
	for (i = 0; i < n && !(i && over(t0)); i++)
		if (stat(path, &st))
			die(path);
	report("stat", now_ns() - t0, i);
	return 0;
}

static int cmd_coldstat(const char *dir, long k)
{
	char path[4096];
	struct stat st;
	uint64_t total = 0, t0, start = now_ns();
	long i;

	for (i = 0; i < k && !(i && over(start)); i++) {
		snprintf(path, sizeof(path), "%s/c%ld", dir, i);
		t0 = now_ns();
		if (stat(path, &st))
			die(path);
		total += now_ns() - t0;
	}
	report("coldstat", total, i);
	return 0;
}

static int cmd_negstat(const char *dir, long n)
{
	char path[4096];
	struct stat st;
	uint64_t t0;
	long i;

	snprintf(path, sizeof(path), "%s/no-such-name", dir);
	t0 = now_ns();
	for (i = 0; i < n && !(i && over(t0)); i++)
		if (stat(path, &st) == 0 || errno != ENOENT)
			die("negstat: name exists");
	report("negstat", now_ns() - t0, i);
	return 0;
}

struct pathlist {
	char **v;
	size_t n, cap;
};

static void collect(struct pathlist *pl, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		die(dir);
	while ((de = readdir(d))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			die("asprintf");
		if (de->d_type == DT_DIR) {
			collect(pl, p);
			free(p);
		} else if (de->d_type == DT_REG) {
			if (pl->n == pl->cap) {
				pl->cap = pl->cap ? 2 * pl->cap : 1024;
				pl->v = realloc(pl->v, pl->cap * sizeof(*pl->v));
				if (!pl->v)
					die("realloc");
			}
			pl->v[pl->n++] = p;
		} else {
			free(p);
		}
	}
	closedir(d);
}

static int cmd_openread(const char *dir)
{
	struct pathlist pl = { 0 };
	char buf[4096];
	uint64_t t0;
	size_t i;

	collect(&pl, dir);
	t0 = now_ns();
	for (i = 0; i < pl.n; i++) {
		int fd = open(pl.v[i], O_RDONLY);

		if (fd < 0)
			die(pl.v[i]);
		if (read(fd, buf, sizeof(buf)) < 0)
			die(pl.v[i]);
		close(fd);
	}
	report("openread", now_ns() - t0, pl.n);
	return 0;
}

static int cmd_seqread(const char *file)
{
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	uint64_t t0, total = 0;
	ssize_t r;
	int fd;

	if (!buf)
		die("malloc");
	t0 = now_ns();
	fd = open(file, O_RDONLY);
	if (fd < 0)
		die(file);
	while ((r = read(fd, buf, bufsz)) > 0)
		total += r;
	if (r < 0)
		die(file);
	close(fd);
	report("seqread", now_ns() - t0, total >> 20);
	free(buf);
	return 0;
}

static int cmd_randread(const char *file, long n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, t0, blocks;
	char buf[4096];
	struct stat st;
	long i;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(file);
	blocks = st.st_size / 4096;
	if (blocks == 0) {
		fprintf(stderr, "ufsbench: %s: smaller than 4 KiB\n", file);
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < n && !(i && over(t0)); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, sizeof(buf), (off_t)(x % blocks) * 4096) !=
		    (ssize_t)sizeof(buf))
			die("pread");
	}
	report("randread", now_ns() - t0, i);
	close(fd);
	return 0;
}

static int cmd_readdir(const char *dir, long n)
{
	static char buf[1 << 16];
	uint64_t t0, entries = 0;
	long i, r;

	t0 = now_ns();
	for (i = 0; i < n && !(i && over(t0)); i++) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY);

		if (fd < 0)
			die(dir);
		while ((r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			long off = 0;

			while (off < r) {
				struct dirent64 *de = (void *)(buf + off);

				entries++;
				off += de->d_reclen;
			}
		}
		if (r < 0)
			die("getdents64");
		close(fd);
	}
	report("readdir", now_ns() - t0, i);
	fprintf(stderr, "ufsbench: readdir %s: %lu entries per listing\n", dir,
		(unsigned long)(i ? entries / i : 0));
	return 0;
}

static int cmd_mkfiles(const char *dir, const char *prefix, long start,
		       long count, long size)
{
	char path[4096], *buf = calloc(1, size ? size : 1);
	long i;

	if (!buf)
		die("calloc");
	memset(buf, 'x', size);
	for (i = start; i < start + count; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s%ld", dir, prefix, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(path);
		if (size && write(fd, buf, size) != size)
			die(path);
		close(fd);
	}
	free(buf);
	return 0;
}

static int cmd_mount_unionfs(const char *mnt, int nlayers, char **layers)
{
	int fd = fsopen("unionfs", FSOPEN_CLOEXEC), mfd, i;

	if (fd < 0)
		die("fsopen unionfs");
	for (i = 0; i < nlayers; i++)
		if (fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", layers[i], 0))
			die(layers[i]);
	if (fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		die("fsconfig create");
	mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		die("fsmount");
	if (move_mount(mfd, "", AT_FDCWD, mnt, MOVE_MOUNT_F_EMPTY_PATH))
		die(mnt);
	close(mfd);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ufsbench [-w LABEL] [-c CONTENDER] [-p PARAM] [-t MS] CMD ARGS...\n"
		"  stat PATH N | coldstat DIR K | negstat DIR N | openread DIR\n"
		"  seqread FILE | randread FILE N | readdir DIR N\n"
		"  mkfiles DIR PREFIX START COUNT SIZE | mount-unionfs MNT LAYER...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int opt;

	while ((opt = getopt(argc, argv, "+w:c:p:t:")) != -1) {
		switch (opt) {
		case 'w':
			label = optarg;
			break;
		case 'c':
			contender = optarg;
			break;
		case 'p':
			param = optarg;
			break;
		case 't':
			budget_ns = (uint64_t)num(optarg) * 1000000ull;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if (!strcmp(cmd, "stat") && argc == 3)
		return cmd_stat(argv[1], num(argv[2]));
	if (!strcmp(cmd, "coldstat") && argc == 3)
		return cmd_coldstat(argv[1], num(argv[2]));
	if (!strcmp(cmd, "negstat") && argc == 3)
		return cmd_negstat(argv[1], num(argv[2]));
	if (!strcmp(cmd, "openread") && argc == 2)
		return cmd_openread(argv[1]);
	if (!strcmp(cmd, "seqread") && argc == 2)
		return cmd_seqread(argv[1]);
	if (!strcmp(cmd, "randread") && argc == 3)
		return cmd_randread(argv[1], num(argv[2]));
	if (!strcmp(cmd, "readdir") && argc == 3)
		return cmd_readdir(argv[1], num(argv[2]));
	if (!strcmp(cmd, "mkfiles") && argc == 6)
		return cmd_mkfiles(argv[1], argv[2], num(argv[3]), num(argv[4]),
				   num(argv[5]));
	if (!strcmp(cmd, "mount-unionfs") && argc >= 3)
		return cmd_mount_unionfs(argv[1], argc - 2, argv + 2);
	usage();
	return 2;
}
