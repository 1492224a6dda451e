// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>


#include "utils.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

char **strv_dup(char *const *v)
{
	char **r = xcalloc(strv_len(v) + 1, sizeof(char *));
	size_t i;

	for (i = 0; v && v[i]; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

bool strv_contains(char *const *v, const char *s)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

void strv_remove(char **v, const char *s)
{
	size_t i, w = 0;

	for (i = 0; v && v[i]; i++) {
		if (!strcmp(v[i], s))
			free(v[i]);
		else
			v[w++] = v[i];
	}
	if (v)
		v[w] = NULL;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *path_clean(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	bool rooted = path[0] == '/';
	size_t w = 0, i = 0, dotdot = 0;

	if (rooted) {
		out[w++] = '/';
		dotdot = 1;
		i = 1;
	}
	while (i < n) {
		if (path[i] == '/') {
			i++;
		} else if (path[i] == '.' && (i + 1 == n || path[i + 1] == '/')) {
			i++;
		} else if (path[i] == '.' && path[i + 1] == '.' &&
			   (i + 2 == n || path[i + 2] == '/')) {
			i += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (i < n && path[i] != '/')
				out[w++] = path[i++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

int mkdir_p(const char *path, mode_t mode, uc_error_t *err)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			uc_error_errno(err, errno, "mkdir `%s`", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		uc_error_errno(err, errno, "mkdir `%s`", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

int read_fd_max(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	ssize_t r;

	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return -1;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int read_file(const char *path, char **out, size_t *len, uc_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return uc_error_errno(err, errno, "open `%s`", path);
	ret = read_fd_max(fd, SIZE_MAX / 4, out, len);
	if (ret < 0)
		uc_error_errno(err, errno, "read `%s`", path);
	close(fd);
	return ret;
}

int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= w;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len,
		      mode_t mode, bool durable, uc_error_t *err)
{
	char *tmp = xasprintf("%s.tmp.%d", path, getpid());
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		uc_error_errno(err, errno, "create `%s`", tmp);
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		uc_error_errno(err, errno, "write `%s`", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		uc_error_errno(err, errno, "close `%s`", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		uc_error_errno(err, errno, "rename `%s`", path);
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int write_file(const char *path, const char *data, mode_t mode, uc_error_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return uc_error_errno(err, errno, "create `%s`", path);
	if (write_all(fd, data, strlen(data)) < 0) {
		uc_error_errno(err, errno, "write `%s`", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path, uc_error_t *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return uc_error_errno(err, errno, "stat `%s`", path);
	}
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return uc_error_errno(err, errno, "remove `%s`", path);
	return 0;
}

bool dir_is_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return true;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

/* ---- layer format ------------------------------------------------------ */

int mark_opaque(const char *dir, uc_error_t *err)
{
	/* setxattr, not lsetxattr: dir may be a /proc/self/fd/N link */
	if (setxattr(dir, XATTR_UNIONFS_OPAQUE, "y", 1, 0) < 0 ||
	    setxattr(dir, XATTR_OVERLAY_OPAQUE, "y", 1, 0) < 0)
		return uc_error_errno(err, errno, "mark `%s` opaque", dir);
	return 0;
}

bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* ---- ids, time, digests ---------------------------------------------- */

bool uc_id_valid(const char *s)
{
	return s && strlen(s) == UC_ID_LEN && strspn(s, "0123456789abcdef") == UC_ID_LEN;
}

void random_id(char out[UC_ID_LEN + 1])
{
	unsigned char b[UC_ID_LEN / 2];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		srandom(ts.tv_nsec ^ getpid());
		for (i = 0; i < sizeof(b); i++)
			b[i] = random();
	}
	for (i = 0; i < sizeof(b); i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[UC_ID_LEN] = '\0';
}

char *now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

/* SHA-256 (FIPS 180-4), small and dependency-free: layer and image ids. */
struct uc_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct uc_sha256 *h, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++)
		w[i] = (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10)) + w[i - 7] +
		       (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
	a = h->h[0]; b = h->h[1]; c = h->h[2]; d = h->h[3];
	e = h->h[4]; f = h->h[5]; g = h->h[6]; hh = h->h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h->h[0] += a; h->h[1] += b; h->h[2] += c; h->h[3] += d;
	h->h[4] += e; h->h[5] += f; h->h[6] += g; h->h[7] += hh;
}

struct uc_sha256 *sha256_new(void)
{
	static const uint32_t init[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	struct uc_sha256 *h = xcalloc(1, sizeof(*h));

	memcpy(h->h, init, sizeof(init));
	return h;
}

void sha256_update(struct uc_sha256 *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->len += len;
	while (len) {
		size_t take = 64 - h->n < len ? 64 - h->n : len;

		memcpy(h->buf + h->n, p, take);
		h->n += take;
		p += take;
		len -= take;
		if (h->n == 64) {
			sha256_block(h, h->buf);
			h->n = 0;
		}
	}
}

void sha256_final(struct uc_sha256 *h, char out[65])
{
	uint64_t bits = h->len * 8;
	unsigned char pad = 0x80, zero = 0, lenbuf[8];
	int i;

	sha256_update(h, &pad, 1);
	while (h->n != 56)
		sha256_update(h, &zero, 1);
	for (i = 0; i < 8; i++)
		lenbuf[i] = bits >> (56 - 8 * i);
	sha256_update(h, lenbuf, 8);
	for (i = 0; i < 8; i++)
		sprintf(out + 8 * i, "%08x", h->h[i]);
	out[64] = '\0';
	free(h);
}

void sha256_buf(const void *buf, size_t len, char out[65])
{
	struct uc_sha256 *h = sha256_new();

	sha256_update(h, buf, len);
	sha256_final(h, out);
}

int sha256_fd(int fd, char out[65])
{
	struct uc_sha256 *h = sha256_new();
	char buf[65536];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		sha256_update(h, buf, r);
	}
	sha256_final(h, out);
	return r < 0 ? -1 : 0;
}
