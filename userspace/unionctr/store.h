/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state root (default /var/lib/unionctr):
 *   lock                      flock()ed around every state change
 *   layers/<sha256>/          one directory per layer, stored once by digest
 *   images/<id>.json          image records (layers bottom..top, config)
 *   containers/<id>/          config.json, upper/, work/, merged/, etc files
 *   volumes/<name>/           meta.json and _data/
 *   tmp/                      staging: things are built here and renamed in,
 *                             so a crash never leaves a half-made entry visible
 */
#ifndef UNIONCTR_STORE_H
#define UNIONCTR_STORE_H

#include <stdbool.h>

#include "error.h"

#define UC_DEFAULT_ROOT "/var/lib/unionctr"

struct uc_store {
	char *root;
	char *storage;		/* "unionfs" or "overlay" */
	int lock_fd;
	int lock_depth;
};

int store_open(struct uc_store *s, const char *root, const char *storage,
	       uc_error_t *err);
void store_close(struct uc_store *s);
/* Exclusive lock of the whole state; nests. */
int store_lock(struct uc_store *s, uc_error_t *err);
/*
 * In a forked process that outlives its parent's use of s (a keeper): a
 * lock fd of its own.  flock() belongs to the open file, which fork
 * shares: without this, keepers forked from one command would all hold
 * (and drop) one lock.  Must be called unlocked.
 */
int store_lock_reopen(struct uc_store *s, uc_error_t *err);
void store_unlock(struct uc_store *s);
char *store_path(struct uc_store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * With the lock held, nothing else is being built in tmp/: what is there was
 * left by a crash.  Remove it (removals in progress after a minute).
 */
void store_gc_tmp(struct uc_store *s);
/* A fresh, empty staging directory under tmp/. */
char *store_mktemp(struct uc_store *s, uc_error_t *err);

/* Rename path into tmp/ (atomic removal from the state), delete it in a
 * detached process. */
int store_discard(struct uc_store *s, const char *path, uc_error_t *err);

/*
 * Who references an image (its id) or a volume (its name): the ids of the
 * containers whose records name it, NULL-terminated.  The store answers
 * this, so that images and volumes need not know what a container is.
 */
int store_image_users(struct uc_store *s, const char *image_id, char ***ids,
		      uc_error_t *err);
int store_volume_users(struct uc_store *s, const char *volume, char ***ids,
		       uc_error_t *err);

#endif
