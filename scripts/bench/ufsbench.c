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
 *   createunlink DIR N SIZE  in a new directory DIR/cu.<pid> (made
 *                        untimed): N x create+write SIZE+close, then N
 *                        unlinks; two lines "create" and "unlink"  ns per file
 *   copyup FILE w|c      one open(O_WRONLY)+1-byte pwrite+close (w) or one
 *                        chmod (c) of FILE: the first write to a lower file
 *                        is the copy-up                          ns (one op)
 *   untar TAR DIR        extract a ustar archive (files and dirs) ns total
 *   find DIR             walk DIR with getdents64 (d_type, no stat) ns total
 *   du DIR               walk DIR and lstat every entry           ns total
 *   grep DIR STRING      walk DIR, read every file, count lines with
 *                        STRING                                  ns total
 *   lstatlist DIR LIST   lstat DIR/<path> for every path of the file LIST
 *                        (one a line, read untimed), in its order: what
 *                        `git status` does to the tracked files  ns total
 *   exec ROOT PROG ARG...  fork, chroot ROOT, exec PROG (a path inside
 *                        ROOT) with ARGs and a fixed environment, wait;
 *                        stdout and stderr are read back      ns total
 *
 * Helpers (not timed): mkfiles DIR PREFIX START COUNT SIZE creates files
 * PREFIX<START>..; mklayers STACK N makes STACK/l/0..N-1 each holding a file
 * layer<i>; spread STACK SUB PREFIX NDIRS PERDIR NLAYERS SIZE mod|block
 * creates NDIRS directories SUB/d<d> (NDIRS 0: SUB itself) in every layer and
 * PERDIR files PREFIX<k> in each, file k in layer k % NLAYERS (mod) or in
 * contiguous ranges per layer (block), and with a trailing "bare" each file
 * also in STACK/bare (the merged tree, made without a copy); mkfile PATH SIZE dense|sparse;
 * mktree DIR NFILES generates a source-like tree (2 levels of directories,
 * 50 files each, 200 B - 16 KiB of text); mount-unionfs MNT LAYER... mounts
 * a read-only union with the new mount API, one fsconfig("lowerdir+") per
 * layer, top layer first; mount-unionfs-rw MNT UPPER WORK LAYER... the same
 * with an upper layer. layerize SRC STACK NLAYERS MAXFILES copy|sparse [WH...]
 * splits the tree SRC over the layers STACK/l/0..NLAYERS-1 and copies it into
 * STACK/bare (sparse: regular files get their size but no data):
 * every directory in every layer, the k-th non-directory (regular file or
 * symlink, in sorted walk order) in layer k % NLAYERS, at most MAXFILES of
 * them (0: all); each WH (a path relative to SRC) goes to the bottom layer
 * and gets a whiteout (char 0/0) in the middle one, and is absent from bare
 * (with one layer it is left out); the tracked-file list of lstatlist (every
 * non-directory, sorted by strcmp like git's index) goes to STACK/list.
 * layerize-list LIST STACK NLAYERS MAXFILES does the same, sparse, for the
 * files of LIST (lines PATH<TAB>SIZE, sorted by strcmp) instead of a walk.
 *
 * -t MS bounds the loops of stat, coldstat, negstat, randread, readdir and
 * createunlink: they stop after MS milliseconds (at least one operation) and
 * report the mean over the operations done, so a slow contender costs time,
 * not hours. -x SUFFIX is appended to every workload name (e.g. "@ext4").
 * -D: sync and drop the page, dentry and inode caches before the command.
 * -W: one untimed pass of readdir, openread, seqread, du, lstatlist or exec
 * first, so that a warm run measures the caches it fills (not the first
 * listing of a cold FUSE daemon, 100 s for fuse-overlayfs at 100 000 entries
 * over 64 layers).
 * Every run kills itself after 300 s (alarm), which counts as a failure.
 *
 * Output: one CSV line "workload,contender,param,ns_per_op,work" per result.
 * work is the work the run did, as space-separated key=value, in terms that
 * do not depend on how many operations the time budget allowed, so that every
 * contender over the same stack must report the same (guest-bench collects it,
 * scripts/bench/workcheck fails the run otherwise):
 *   stat        size=<st_size of PATH>
 *   coldstat    size_per_name=<st_size summed over the names stated / names>
 *   negstat     found=0
 *   openread    files=<opened> bytes=<read>
 *   seqread     bytes=<read>
 *   randread    size=<st_size> bytes_per_pread=4096
 *   readdir     entries=<per listing> (entries=<min>..<max> if listings differ)
 *   create/unlink  bytes_per_file=SIZE
 *   copyup      size=<st_size after> mode=<mode after, octal>
 *   untar       files=<files> dirs=<directories> bytes=<file bytes written>
 *   find, du    entries=<entries> bytes=<st_size of regular files, du only>
 *   grep        entries=<entries> files=<read> bytes=<read> matches=<lines>
 *   lstatlist   paths=<listed> missing=<ENOENT> bytes=<st_size of regular files>
 *   exec        status=<exit status or sig<N>> out=<bytes>:<FNV-1a of stdout>
 *               err=<bytes>:<FNV-1a of stderr>
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

static const char *label;
static const char *contender = "-";
static const char *param = "-";
static const char *suffix = "";
static uint64_t budget_ns;	/* -t MS: stop a loop once it ran this long */
static int quiet;		/* the -W warm-up pass: report nothing */
static char work[256];		/* what the command did: see Output above */

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
	if (quiet)
		return;
	printf("%s%s,%s,%s,%.1f,%s\n", label ? label : workload, suffix,
	       contender, param, (double)ns / (double)ops, work);
	fflush(stdout);
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
	snprintf(work, sizeof(work), "size=%lld", (long long)st.st_size);
	report("stat", now_ns() - t0, i);
	return 0;
}

static int cmd_coldstat(const char *dir, long k)
{
	char path[4096];
	struct stat st;
	uint64_t total = 0, t0, start = now_ns();
	long long size = 0;
	long i;

	for (i = 0; i < k && !(i && over(start)); i++) {
		snprintf(path, sizeof(path), "%s/c%ld", dir, i);
		t0 = now_ns();
		if (stat(path, &st))
			die(path);
		total += now_ns() - t0;
		size += st.st_size;
	}
	snprintf(work, sizeof(work), "size_per_name=%lld", size / (i ? i : 1));
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
	snprintf(work, sizeof(work), "found=0");
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
	uint64_t t0, bytes = 0;
	ssize_t r;
	size_t i;

	collect(&pl, dir);
	t0 = now_ns();
	for (i = 0; i < pl.n; i++) {
		int fd = open(pl.v[i], O_RDONLY);

		if (fd < 0)
			die(pl.v[i]);
		r = read(fd, buf, sizeof(buf));
		if (r < 0)
			die(pl.v[i]);
		bytes += r;
		close(fd);
	}
	snprintf(work, sizeof(work), "files=%zu bytes=%llu", pl.n,
		 (unsigned long long)bytes);
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
	snprintf(work, sizeof(work), "bytes=%llu", (unsigned long long)total);
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
	snprintf(work, sizeof(work), "size=%lld bytes_per_pread=4096",
		 (long long)st.st_size);
	report("randread", now_ns() - t0, i);
	close(fd);
	return 0;
}

static int cmd_readdir(const char *dir, long n)
{
	static char buf[1 << 16];
	uint64_t t0, entries = 0, lo = UINT64_MAX, hi = 0, before;
	long i, r;

	t0 = now_ns();
	for (i = 0; i < n && !(i && over(t0)); i++) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY);

		if (fd < 0)
			die(dir);
		before = entries;
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
		if (entries - before < lo)
			lo = entries - before;
		if (entries - before > hi)
			hi = entries - before;
	}
	if (lo == hi)
		snprintf(work, sizeof(work), "entries=%llu",
			 (unsigned long long)lo);
	else
		snprintf(work, sizeof(work), "entries=%llu..%llu",
			 (unsigned long long)lo, (unsigned long long)hi);
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

static void mkdir_p(const char *path)
{
	char tmp[4096], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			die(tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		die(tmp);
}

static void write_file(const char *path, const char *buf, long size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	if (size && write(fd, buf, size) != size)
		die(path);
	if (close(fd))
		die(path);
}

static int cmd_mklayers(const char *stack, long n)
{
	char path[4096];
	long i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/l/%ld", stack, i);
		mkdir_p(path);
		snprintf(path, sizeof(path), "%s/l/%ld/layer%ld", stack, i, i);
		write_file(path, NULL, 0);
	}
	return 0;
}

/* The path of file k (k < 0: the directory) of directory d in layer i of
 * a spread stack, or in its bare copy when i < 0.
 */
static void spread_path(char *path, size_t len, const char *stack, long i,
			const char *sub, long ndirs, long d, const char *prefix,
			long k)
{
	char where[64], dir[64] = "", name[64] = "";

	if (i < 0)
		snprintf(where, sizeof(where), "bare");
	else
		snprintf(where, sizeof(where), "l/%ld", i);
	if (ndirs)
		snprintf(dir, sizeof(dir), "/d%ld", d);
	if (k >= 0)
		snprintf(name, sizeof(name), "/%s%ld", prefix, k);
	snprintf(path, len, "%s/%s/%s%s%s", stack, where, sub, dir, name);
}

static int cmd_spread(const char *stack, const char *sub, const char *prefix,
		      long ndirs, long perdir, long nlayers, long size,
		      const char *mode, int bare)
{
	char path[4096], *buf = calloc(1, size ? size : 1);
	long d, k, i, per = (perdir + nlayers - 1) / nlayers;
	int mod = !strcmp(mode, "mod");

	if (!buf)
		die("calloc");
	memset(buf, 'x', size);
	for (d = 0; d < (ndirs ? ndirs : 1); d++) {
		for (i = bare ? -1 : 0; i < nlayers; i++) {
			spread_path(path, sizeof(path), stack, i, sub, ndirs, d,
				    prefix, -1);
			mkdir_p(path);
		}
		for (k = 0; k < perdir; k++) {
			i = mod ? k % nlayers : k / per;
			spread_path(path, sizeof(path), stack, i, sub, ndirs, d,
				    prefix, k);
			write_file(path, buf, size);
			if (!bare)
				continue;
			spread_path(path, sizeof(path), stack, -1, sub, ndirs,
				    d, prefix, k);
			write_file(path, buf, size);
		}
	}
	free(buf);
	return 0;
}

static int cmd_mkfile(const char *path, long size, const char *how)
{
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	long done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || !buf)
		die(path);
	memset(buf, 'd', chunk);
	if (!strcmp(how, "sparse")) {
		/* one 4 KiB block of data at each end, a hole in between */
		if (ftruncate(fd, size) || pwrite(fd, buf, 4096, 0) != 4096 ||
		    pwrite(fd, buf, 4096, size - 4096) != 4096)
			die(path);
	} else {
		while (done < size) {
			long n = size - done < (long)chunk ? size - done : (long)chunk;

			if (write(fd, buf, n) != n)
				die(path);
			done += n;
		}
	}
	close(fd);
	free(buf);
	return 0;
}

static int cmd_createunlink(const char *dir, long n, long size)
{
	char sub[2048], path[4096], *buf = calloc(1, size ? size : 1);
	uint64_t t0, tc, tu;
	long i, done;

	if (!buf)
		die("calloc");
	memset(buf, 'c', size);
	snprintf(sub, sizeof(sub), "%s/cu.%d", dir, (int)getpid());
	if (mkdir(sub, 0755))
		die(sub);
	t0 = now_ns();
	for (i = 0; i < n && !(i && over(t0)); i++) {
		snprintf(path, sizeof(path), "%s/f%ld", sub, i);
		write_file(path, buf, size);
	}
	tc = now_ns() - t0;
	done = i;
	t0 = now_ns();
	for (i = 0; i < done; i++) {
		snprintf(path, sizeof(path), "%s/f%ld", sub, i);
		if (unlink(path))
			die(path);
	}
	tu = now_ns() - t0;
	if (rmdir(sub))
		die(sub);
	snprintf(work, sizeof(work), "bytes_per_file=%ld", size);
	report("create", tc, done);
	report("unlink", tu, done);
	free(buf);
	return 0;
}

static int cmd_copyup(const char *file, const char *how)
{
	uint64_t t0 = now_ns(), t;
	struct stat st;

	if (!strcmp(how, "c")) {
		if (chmod(file, 0600))
			die(file);
	} else {
		int fd = open(file, O_WRONLY);

		if (fd < 0)
			die(file);
		if (pwrite(fd, "w", 1, 0) != 1)
			die(file);
		if (close(fd))
			die(file);
	}
	t = now_ns() - t0;
	if (stat(file, &st))
		die(file);
	snprintf(work, sizeof(work), "size=%lld mode=%o", (long long)st.st_size,
		 (unsigned int)(st.st_mode & 07777));
	report(!strcmp(how, "c") ? "copyup-chmod" : "copyup-write", t, 1);
	return 0;
}

static int cmd_mktree(const char *dir, long nfiles)
{
	static const char *words[] = { "static", "int", "return", "struct",
		"inode", "dentry", "lock", "unlock", "layer", "copy_up", "err",
		"if", "else", "for", "while", "goto out;", "NULL", "{", "}" };
	char path[4096], *buf = malloc(16384);
	uint64_t x = 0x2545f4914f6cdd1dull;
	long f;

	if (!buf)
		die("malloc");
	for (f = 0; f < nfiles; f++) {
		long len = 0, want;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		want = 200 + (long)(x % 16184);
		if (f % 50 == 0) {
			snprintf(path, sizeof(path), "%s/a%ld/b%ld", dir,
				 f / 2500, (f / 50) % 50);
			mkdir_p(path);
		}
		while (len < want - 40) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			len += snprintf(buf + len, 16384 - len, "%s%s",
					words[x % (sizeof(words) / sizeof(*words))],
					x % 7 ? " " : "\n");
		}
		if (f % 7 == 0)
			len += snprintf(buf + len, 16384 - len, "\n/* needle */\n");
		snprintf(path, sizeof(path), "%s/a%ld/b%ld/f%ld.c", dir,
			 f / 2500, (f / 50) % 50, f);
		write_file(path, buf, len);
	}
	free(buf);
	return 0;
}

static long octal(const char *s, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n && s[i]; i++)
		if (s[i] >= '0' && s[i] <= '7')
			v = v * 8 + (s[i] - '0');
	return v;
}

static int cmd_untar(const char *tar, const char *dir)
{
	struct stat st;
	char *a, path[4096];
	uint64_t t0;
	long off = 0, files = 0, dirs = 0, bytes = 0;
	int fd = open(tar, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(tar);
	a = malloc(st.st_size);
	if (!a || read(fd, a, st.st_size) != st.st_size)
		die(tar);
	close(fd);
	t0 = now_ns();
	while (off + 512 <= st.st_size && a[off]) {
		const char *h = a + off;
		long size = octal(h + 124, 12);
		char name[260];

		if (h[345])
			snprintf(name, sizeof(name), "%.155s/%.100s", h + 345, h);
		else
			snprintf(name, sizeof(name), "%.100s", h);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (h[156] == '5') {
			size_t l = strlen(path);

			if (l > 1 && path[l - 1] == '/')
				path[l - 1] = '\0';
			if (mkdir(path, octal(h + 100, 8) & 07777) && errno != EEXIST)
				die(path);
			dirs++;
		} else if (h[156] == '0' || h[156] == '\0') {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
				  octal(h + 100, 8) & 07777);
			if (fd < 0)
				die(path);
			if (size && write(fd, h + 512, size) != size)
				die(path);
			if (close(fd))
				die(path);
			files++;
			bytes += size;
		}
		off += 512 + (size + 511) / 512 * 512;
	}
	t0 = now_ns() - t0;
	snprintf(work, sizeof(work), "files=%ld dirs=%ld bytes=%ld", files, dirs,
		 bytes);
	report("untar", t0, 1);
	free(a);
	return 0;
}

struct walkstat {
	long entries, files, lines;
	uint64_t blocks, bytes;
};

static void walk(int dirfd, const char *name, int mode, const char *needle,
		 struct walkstat *ws)
{
	static char buf[1 << 16];
	char *dbuf = malloc(1 << 15);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY);
	long r;

	if (fd < 0 || !dbuf)
		die(name);
	while ((r = syscall(SYS_getdents64, fd, dbuf, 1 << 15)) > 0) {
		long off = 0;

		while (off < r) {
			struct dirent64 *de = (void *)(dbuf + off);

			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			ws->entries++;
			if (mode == 'd') {
				struct stat st;

				if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
					die(de->d_name);
				ws->blocks += st.st_blocks;
				if (S_ISREG(st.st_mode))
					ws->bytes += st.st_size;
			}
			if (de->d_type == DT_DIR) {
				walk(fd, de->d_name, mode, needle, ws);
			} else if (de->d_type == DT_REG && mode == 'g') {
				int f = openat(fd, de->d_name, O_RDONLY);
				ssize_t n;

				if (f < 0)
					die(de->d_name);
				ws->files++;
				/* files are < 64 KiB: one read finds every line */
				while ((n = read(f, buf, sizeof(buf) - 1)) > 0) {
					char *p = buf;

					ws->bytes += n;
					buf[n] = '\0';
					while ((p = memmem(p, buf + n - p, needle,
							   strlen(needle)))) {
						ws->lines++;
						p += strlen(needle);
					}
				}
				if (n < 0)
					die(de->d_name);
				close(f);
			}
		}
	}
	if (r < 0)
		die("getdents64");
	close(fd);
	free(dbuf);
}

static int cmd_walk(const char *dir, int mode, const char *needle)
{
	struct walkstat ws = { 0 };
	uint64_t t0 = now_ns();

	walk(AT_FDCWD, dir, mode, needle, &ws);
	t0 = now_ns() - t0;
	if (mode == 'f')
		snprintf(work, sizeof(work), "entries=%ld", ws.entries);
	else if (mode == 'd')
		snprintf(work, sizeof(work), "entries=%ld bytes=%llu",
			 ws.entries, (unsigned long long)ws.bytes);
	else
		snprintf(work, sizeof(work),
			 "entries=%ld files=%ld bytes=%llu matches=%ld",
			 ws.entries, ws.files, (unsigned long long)ws.bytes,
			 ws.lines);
	report(mode == 'f' ? "find" : mode == 'd' ? "du" : "grep", t0, 1);
	fprintf(stderr, "ufsbench: walk %s: %ld entries, %ld files read, "
		"%ld matches, %llu blocks\n", dir, ws.entries, ws.files,
		ws.lines, (unsigned long long)ws.blocks);
	return 0;
}

static int cmd_lstatlist(const char *dir, const char *list)
{
	struct pathlist pl = { 0 };
	char line[4096], path[8192];
	long missing = 0;
	uint64_t t0, bytes = 0;
	struct stat st;
	size_t i;
	FILE *f = fopen(list, "r");

	if (!f)
		die(list);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (pl.n == pl.cap) {
			pl.cap = pl.cap ? 2 * pl.cap : 1024;
			pl.v = realloc(pl.v, pl.cap * sizeof(*pl.v));
			if (!pl.v)
				die("realloc");
		}
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		pl.v[pl.n] = strdup(path);
		if (!pl.v[pl.n++])
			die("strdup");
	}
	fclose(f);
	t0 = now_ns();
	for (i = 0; i < pl.n; i++) {
		if (lstat(pl.v[i], &st)) {
			if (errno != ENOENT)
				die(pl.v[i]);
			missing++;
			continue;
		}
		if (S_ISREG(st.st_mode))
			bytes += st.st_size;
	}
	t0 = now_ns() - t0;
	snprintf(work, sizeof(work), "paths=%zu missing=%ld bytes=%llu", pl.n,
		 missing, (unsigned long long)bytes);
	report("lstatlist", t0, 1);
	return 0;
}

static uint64_t fnv1a(uint64_t h, const char *p, ssize_t n)
{
	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int cmd_exec(const char *root, char **argv)
{
	static char *envp[] = { "PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1",
				"HOME=/", NULL };
	uint64_t h[2] = { 0xcbf29ce484222325ull, 0xcbf29ce484222325ull };
	long long len[2] = { 0, 0 };
	int out[2], err[2], st, open_fds = 2;
	struct pollfd pfd[2];
	char buf[4096], status[32];
	uint64_t t0 = now_ns();
	pid_t pid;

	if (pipe(out) || pipe(err))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0 || dup2(fd, 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(err[1], 2) < 0)
			_exit(126);
		close(out[0]);
		close(err[0]);
		if (chroot(root) || chdir("/"))
			_exit(126);
		alarm(0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_fds) {
		int i;

		if (poll(pfd, 2, -1) < 0)
			die("poll");
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			h[i] = fnv1a(h[i], buf, n);
			len[i] += n;
		}
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	t0 = now_ns() - t0;
	if (WIFEXITED(st))
		snprintf(status, sizeof(status), "%d", WEXITSTATUS(st));
	else
		snprintf(status, sizeof(status), "sig%d", WTERMSIG(st));
	snprintf(work, sizeof(work), "status=%s out=%lld:%016llx err=%lld:%016llx",
		 status, len[0], (unsigned long long)h[0], len[1],
		 (unsigned long long)h[1]);
	report("exec", t0, 1);
	return 0;
}

struct layerize {
	const char *stack;
	long nlayers, max, k, dirs, whs;
	int sparse;
	char **wh;
	int nwh;
	struct pathlist list;
};

static void copy_file(const char *from, const char *to, const struct stat *st,
		      int sparse)
{
	static char buf[1 << 16];
	mode_t mode = st->st_mode;
	int in = -1, o;
	ssize_t n = 0;

	o = open(to, O_WRONLY | O_CREAT | O_EXCL, mode & 07777);
	if (o < 0)
		die(to);
	if (sparse) {
		if (ftruncate(o, st->st_size) || fchmod(o, mode & 07777) ||
		    close(o))
			die(to);
		return;
	}
	in = open(from, O_RDONLY);
	if (in < 0)
		die(from);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(o, buf, n) != n)
			die(to);
	if (n < 0)
		die(from);
	if (fchmod(o, mode & 07777) || close(o))
		die(to);
	close(in);
}

/* place SRC/rel (its lstat st) into where ("l/<i>" or "bare") */
static void place(struct layerize *z, const char *src, const char *rel,
		  const struct stat *st, const char *where)
{
	char to[8192], target[4096];
	ssize_t n;

	snprintf(to, sizeof(to), "%s/%s/%s", z->stack, where, rel);
	if (S_ISREG(st->st_mode)) {
		copy_file(src, to, st, z->sparse);
	} else if (S_ISLNK(st->st_mode)) {
		n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			die(src);
		target[n] = '\0';
		if (symlink(target, to))
			die(to);
	}
}

static int layerize_walk(struct layerize *z, const char *src, const char *rel)
{
	struct dirent **names;
	char path[8192], r[4096], where[32];
	struct stat st;
	int n, j, w;
	long i;

	n = scandir(src, &names, NULL, alphasort);
	if (n < 0)
		die(src);
	for (i = -1; i < z->nlayers; i++) {
		if (i < 0)
			snprintf(path, sizeof(path), "%s/bare/%s", z->stack, rel);
		else
			snprintf(path, sizeof(path), "%s/l/%ld/%s", z->stack, i, rel);
		mkdir_p(path);
	}
	z->dirs++;
	for (j = 0; j < n; j++) {
		const char *name = names[j]->d_name;

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    (z->max && z->k >= z->max))
			goto next;
		snprintf(path, sizeof(path), "%s/%s", src, name);
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", name);
		if (lstat(path, &st))
			die(path);
		if (S_ISDIR(st.st_mode)) {
			layerize_walk(z, path, r);
			goto next;
		}
		if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			goto next;
		for (w = 0; w < z->nwh; w++)
			if (!strcmp(z->wh[w], r))
				break;
		if (w < z->nwh) {
			char wh[8192];

			if (z->nlayers < 2)
				goto next;
			snprintf(where, sizeof(where), "l/%ld", z->nlayers - 1);
			place(z, path, r, &st, where);
			snprintf(wh, sizeof(wh), "%s/l/%ld/%s", z->stack,
				 (z->nlayers - 1) / 2, r);
			if (mknod(wh, S_IFCHR | 0, makedev(0, 0)))
				die(wh);
			z->whs++;
			goto next;
		}
		snprintf(where, sizeof(where), "l/%ld", z->k % z->nlayers);
		place(z, path, r, &st, where);
		place(z, path, r, &st, "bare");
		z->k++;
		if (z->list.n == z->list.cap) {
			z->list.cap = z->list.cap ? 2 * z->list.cap : 1024;
			z->list.v = realloc(z->list.v, z->list.cap * sizeof(char *));
			if (!z->list.v)
				die("realloc");
		}
		z->list.v[z->list.n] = strdup(r);
		if (!z->list.v[z->list.n++])
			die("strdup");
next:
		free(names[j]);
	}
	free(names);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static int cmd_layerize(const char *src, const char *stack, long nlayers,
			long max, const char *how, int nwh, char **wh)
{
	struct layerize z = { .stack = stack, .nlayers = nlayers, .max = max,
			      .wh = wh, .nwh = nwh,
			      .sparse = !strcmp(how, "sparse") };
	char path[4096];
	size_t i;
	FILE *f;

	if (nlayers < 1) {
		fprintf(stderr, "ufsbench: layerize: no layers\n");
		return 2;
	}
	layerize_walk(&z, src, "");
	qsort(z.list.v, z.list.n, sizeof(char *), cmp_str);
	snprintf(path, sizeof(path), "%s/list", stack);
	f = fopen(path, "w");
	if (!f)
		die(path);
	for (i = 0; i < z.list.n; i++)
		fprintf(f, "%s\n", z.list.v[i]);
	if (fclose(f))
		die(path);
	printf("files=%ld dirs=%ld whiteouts=%ld layers=%ld\n", z.k, z.dirs,
	       z.whs, nlayers);
	return 0;
}

/* layerize-list: the same split from a manifest (lines "PATH<TAB>SIZE",
 * sorted): no walk of the source, which the guest reaches only over 9p.
 */
static int cmd_layerize_list(const char *list, const char *stack, long nlayers,
			     long max)
{
	char line[4096], prev[4096] = "", path[8192], *tab, *slash;
	struct stat st = { .st_mode = S_IFREG | 0644 };
	long k = 0, i;
	FILE *f = fopen(list, "r"), *o;

	if (!f)
		die(list);
	if (nlayers < 1) {
		fprintf(stderr, "ufsbench: layerize-list: no layers\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/list", stack);
	o = fopen(path, "w");
	if (!o)
		die(path);
	while ((!max || k < max) && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		st.st_size = num(tab + 1);
		slash = strrchr(line, '/');
		if (slash)
			*slash = '\0';
		if (!k || strcmp(slash ? line : "", prev)) {
			snprintf(prev, sizeof(prev), "%s", slash ? line : "");
			for (i = -1; i < nlayers; i++) {
				if (i < 0)
					snprintf(path, sizeof(path), "%s/bare/%s",
						 stack, prev);
				else
					snprintf(path, sizeof(path), "%s/l/%ld/%s",
						 stack, i, prev);
				mkdir_p(path);
			}
		}
		if (slash)
			*slash = '/';
		snprintf(path, sizeof(path), "%s/l/%ld/%s", stack, k % nlayers, line);
		copy_file(NULL, path, &st, 1);
		snprintf(path, sizeof(path), "%s/bare/%s", stack, line);
		copy_file(NULL, path, &st, 1);
		fprintf(o, "%s\n", line);
		k++;
	}
	fclose(f);
	if (fclose(o))
		die("list");
	printf("files=%ld whiteouts=0 layers=%ld\n", k, nlayers);
	return 0;
}

static int cmd_mount_unionfs(const char *mnt, const char *upper,
			     const char *work, int nlayers, char **layers)
{
	int fd = fsopen("unionfs", FSOPEN_CLOEXEC), mfd, i;

	if (fd < 0)
		die("fsopen unionfs");
	if (upper && (fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) ||
		      fsconfig(fd, FSCONFIG_SET_STRING, "workdir", work, 0)))
		die(upper);
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
		"  createunlink DIR N SIZE | copyup FILE w|c | untar TAR DIR\n"
		"  find DIR | du DIR | grep DIR STRING | lstatlist DIR LIST\n"
		"  exec ROOT PROG ARG...\n"
		"  layerize SRC STACK NLAYERS MAXFILES copy|sparse [WHITEOUT...]\n"
		"  layerize-list LIST STACK NLAYERS MAXFILES\n"
		"  mkfiles DIR PREFIX START COUNT SIZE | mklayers STACK N\n"
		"  spread STACK SUB PREFIX NDIRS PERDIR NLAYERS SIZE mod|block [bare]\n"
		"  mkfile PATH SIZE dense|sparse | mktree DIR NFILES\n"
		"  mount-unionfs MNT LAYER... | mount-unionfs-rw MNT UPPER WORK LAYER...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int opt, drop = 0, warmup = 0;

	while ((opt = getopt(argc, argv, "+w:c:p:t:x:DW")) != -1) {
		switch (opt) {
		case 'D':
			drop = 1;
			break;
		case 'W':
			warmup = 1;
			break;
		case 'x':
			suffix = optarg;
			break;
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
	alarm(300);
	if (drop) {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

		sync();
		if (fd < 0 || write(fd, "3", 1) != 1)
			die("drop_caches");
		close(fd);
	}
	if (warmup) {
		quiet = 1;
		if (!strcmp(cmd, "readdir") && argc == 3)
			cmd_readdir(argv[1], 1);
		else if (!strcmp(cmd, "openread") && argc == 2)
			cmd_openread(argv[1]);
		else if (!strcmp(cmd, "seqread") && argc == 2)
			cmd_seqread(argv[1]);
		else if (!strcmp(cmd, "exec") && argc >= 3)
			cmd_exec(argv[1], argv + 2);
		else if (!strcmp(cmd, "lstatlist") && argc == 3)
			cmd_lstatlist(argv[1], argv[2]);
		else if (!strcmp(cmd, "du") && argc == 2)
			cmd_walk(argv[1], 'd', NULL);
		quiet = 0;
	}
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
	if (!strcmp(cmd, "createunlink") && argc == 4)
		return cmd_createunlink(argv[1], num(argv[2]), num(argv[3]));
	if (!strcmp(cmd, "copyup") && argc == 3)
		return cmd_copyup(argv[1], argv[2]);
	if (!strcmp(cmd, "untar") && argc == 3)
		return cmd_untar(argv[1], argv[2]);
	if (!strcmp(cmd, "find") && argc == 2)
		return cmd_walk(argv[1], 'f', NULL);
	if (!strcmp(cmd, "du") && argc == 2)
		return cmd_walk(argv[1], 'd', NULL);
	if (!strcmp(cmd, "grep") && argc == 3)
		return cmd_walk(argv[1], 'g', argv[2]);
	if (!strcmp(cmd, "lstatlist") && argc == 3)
		return cmd_lstatlist(argv[1], argv[2]);
	if (!strcmp(cmd, "exec") && argc >= 3)
		return cmd_exec(argv[1], argv + 2);
	if (!strcmp(cmd, "layerize") && argc >= 6)
		return cmd_layerize(argv[1], argv[2], num(argv[3]), num(argv[4]),
				    argv[5], argc - 6, argv + 6);
	if (!strcmp(cmd, "layerize-list") && argc == 5)
		return cmd_layerize_list(argv[1], argv[2], num(argv[3]),
					 num(argv[4]));
	if (!strcmp(cmd, "mklayers") && argc == 3)
		return cmd_mklayers(argv[1], num(argv[2]));
	if (!strcmp(cmd, "spread") &&
	    (argc == 9 || (argc == 10 && !strcmp(argv[9], "bare"))))
		return cmd_spread(argv[1], argv[2], argv[3], num(argv[4]),
				  num(argv[5]), num(argv[6]), num(argv[7]),
				  argv[8], argc == 10);
	if (!strcmp(cmd, "mkfile") && argc == 4)
		return cmd_mkfile(argv[1], num(argv[2]), argv[3]);
	if (!strcmp(cmd, "mktree") && argc == 3)
		return cmd_mktree(argv[1], num(argv[2]));
	if (!strcmp(cmd, "mount-unionfs") && argc >= 3)
		return cmd_mount_unionfs(argv[1], NULL, NULL, argc - 2, argv + 2);
	if (!strcmp(cmd, "mount-unionfs-rw") && argc >= 5)
		return cmd_mount_unionfs(argv[1], argv[2], argv[3], argc - 4,
					 argv + 4);
	usage();
	return 2;
}
