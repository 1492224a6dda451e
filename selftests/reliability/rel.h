/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the reliability selftests, on top of ../unionfs/ufs_test.h:
 * shell commands, loop/device-mapper backed upper layers, patterned file
 * contents that show any mix of old and new data, and checks of the layer
 * directories (no staging leftovers, no partial file in upper).
 */
#ifndef REL_H
#define REL_H

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include "ufs_test.h"

/* Run a shell command (output to stderr, which the TAP file keeps). */
static inline int rel_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	fprintf(stderr, "# $ %s\n", cmd);
	fflush(stderr);
	st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The first line of a command's output into @buf; 0 when it printed one. */
static inline int rel_out(char *buf, size_t size, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	FILE *f;
	int ok;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return -1;
	ok = fgets(buf, size, f) != NULL;
	pclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -1;
}

/* Byte @i of the patterned content number @seed: every 4 KiB block differs. */
static inline unsigned char rel_byte(unsigned int seed, size_t i)
{
	return (unsigned char)(seed * 131 + i * 7 + (i >> 12) * 29 + 1);
}

static inline int rel_fill(const char *path, size_t size, unsigned int seed)
{
	static unsigned char buf[65536];
	size_t off, n, j;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	for (off = 0; off < size; off += n) {
		n = size - off < sizeof(buf) ? size - off : sizeof(buf);
		for (j = 0; j < n; j++)
			buf[j] = rel_byte(seed, off + j);
		if (write(fd, buf, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
	}
	return close(fd);
}

/*
 * Compare a file with pattern @seed of @size bytes, byte @poke_off (if
 * >= 0) replaced by @poke. 0: equal; 1: different; -errno: unreadable.
 */
static inline int rel_check_poked(const char *path, size_t size,
				  unsigned int seed, long poke_off, char poke)
{
	static unsigned char buf[65536];
	size_t off = 0, j;
	ssize_t n;
	int fd = open(path, O_RDONLY), diff = 0;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (size_t)st.st_size != size) {
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (j = 0; j < (size_t)n && !diff; j++) {
			unsigned char want = (long)(off + j) == poke_off ?
				(unsigned char)poke : rel_byte(seed, off + j);

			diff = buf[j] != want;
		}
		off += n;
		if (diff)
			break;
	}
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return diff || off != size;
}

static inline int rel_check(const char *path, size_t size, unsigned int seed)
{
	return rel_check_poked(path, size, seed, -1, 0);
}

/* lstat of DIR/FMT... succeeds */
static inline int rel_existsf(const char *dir, const char *fmt, ...)
{
	char *rel;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	va_end(ap);
	if (!rel)
		return -1;
	r = ufs_exists(dir, rel);
	free(rel);
	return r;
}

/* Entries (other than . and ..) in DIR; -1 when it cannot be read. */
static inline int rel_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Staging leftovers in a workdir (0 when clean). */
static inline int rel_staging_left(const char *work)
{
	char p[PATH_MAX];
	int n;

	snprintf(p, sizeof(p), "%s/staging", work);
	n = rel_entries(p);
	return n < 0 ? 0 : n;	/* no staging dir: nothing left either */
}

/* A loop device over a fresh sparse image of @mb MiB; its path in @dev. */
static inline int rel_loop(const char *img, int mb, char *dev, size_t size)
{
	int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)mb << 20)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	rel_sh("modprobe -q loop 2>/dev/null");
	return rel_out(dev, size, "losetup -f --show %s", img);
}

/* mkfs + mount; @fstype ext4 or xfs. */
static inline int rel_mkfs_mount(const char *fstype, const char *dev,
				 const char *mnt, const char *mntopts)
{
	rel_sh("modprobe -q %s 2>/dev/null", fstype);
	if (!strcmp(fstype, "xfs")) {
		if (rel_sh("mkfs.xfs -q -f %s >&2", dev))
			return -1;
	} else if (rel_sh("mkfs.%s -q -F -m 0 %s >&2", fstype, dev)) {
		return -1;
	}
	if (ufs_mkdirs(mnt, 0755))
		return -1;
	return mount(dev, mnt, fstype, 0, mntopts);
}

/* Free bytes of the filesystem holding @path. */
static inline long long rel_free(const char *path)
{
	struct statfs s;

	if (statfs(path, &s))
		return -1;
	return (long long)s.f_bavail * s.f_bsize;
}

/* umount, retrying while the last users go away. */
static inline int rel_umount(const char *mnt)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (!umount(mnt))
			return 0;
		if (errno != EBUSY)
			return -1;
		usleep(100000);
	}
	return -1;
}

#endif /* REL_H */
