/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers: strings, string vectors, files, trees, ids, digests. */
#ifndef UNIONCTR_UTILS_H
#define UNIONCTR_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define UC_ID_LEN 64

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated vector of strings. */
size_t strv_len(char *const *v);
void strv_push(char ***v, const char *s);
char **strv_dup(char *const *v);
void strv_free(char **v);
bool strv_contains(char *const *v, const char *s);
/* Remove every s from v (in place). */
void strv_remove(char **v, const char *s);

bool str_has_prefix(const char *s, const char *prefix);
/* Lexically clean an absolute or relative path like Go's path.Clean. */
char *path_clean(const char *path);

/* Files. */
int mkdir_p(const char *path, mode_t mode, uc_error_t *err);
/* write(2) until done (EINTR retried); -1 and errno on failure. */
int write_all(int fd, const char *data, size_t len);
int read_file(const char *path, char **out, size_t *len, uc_error_t *err);
/* Read fd to its end, NUL-terminated; -1 and EFBIG past max bytes. */
int read_fd_max(int fd, size_t max, char **out, size_t *len);
/* Write via a temporary file in the same directory, fsync (if durable),
 * rename. */
int write_file_atomic(const char *path, const char *data, size_t len,
		      mode_t mode, bool durable, uc_error_t *err);
int write_file(const char *path, const char *data, mode_t mode, uc_error_t *err);
/* Remove a tree without following symlinks or crossing mount points. */
int rm_rf(const char *path, uc_error_t *err);
bool dir_is_empty(const char *path);

/* Layer format shared by unionfs and overlayfs. */
#define XATTR_UNIONFS_OPAQUE "trusted.unionfs.opaque"
#define XATTR_OVERLAY_OPAQUE "trusted.overlay.opaque"
struct stat;
int mark_opaque(const char *dir, uc_error_t *err);
bool is_whiteout(const struct stat *st);

/* An id: 64 lowercase hex characters (containers, images, layers). */
bool uc_id_valid(const char *s);
/* 64 hex random characters. */
void random_id(char out[UC_ID_LEN + 1]);
/* RFC 3339 time with nanoseconds, UTC. */
char *now_rfc3339(void);

/* sha256 of what fd holds from its offset on / of a buffer, as 64 hex
 * characters; -1 and errno when a read fails. */
int sha256_fd(int fd, char out[65]);
void sha256_buf(const void *buf, size_t len, char out[65]);
struct uc_sha256;
struct uc_sha256 *sha256_new(void);
void sha256_update(struct uc_sha256 *h, const void *buf, size_t len);
void sha256_final(struct uc_sha256 *h, char out[65]);

#endif
