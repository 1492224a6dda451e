/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Images: records, lookup, removal, the merged view; import (import.c:
 * rootfs dir or tarball, OCI layout, docker save).
 */
#ifndef UNIONCTR_IMAGES_H
#define UNIONCTR_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

struct uc_image {
	char *id;		/* 64 hex */
	char **names;		/* "repo:tag"s (RepoTags), or NULL */
	char *created;
	char **layers;		/* layer digests, bottom first */
	/* The parts of the OCI image config that run uses. */
	char **cmd;
	char **entrypoint;
	char **env;
	char *workdir;
	char *user;		/* "name|uid[:group|gid]" or NULL */
	char **volumes;		/* paths */
};

/* "busybox" -> "busybox:latest". */
char *image_normalize_name(const char *name);
int image_import(struct uc_store *s, const char *source, const char *name,
		 struct uc_image **out, uc_error_t *err);
/* Find an image by name, full id or unique id prefix. */
int image_find(struct uc_store *s, const char *ref, struct uc_image **out,
	       uc_error_t *err);
int image_save(struct uc_store *s, struct uc_image *img, uc_error_t *err);
int image_list(struct uc_store *s, struct uc_image ***out, size_t *n,
	       uc_error_t *err);
/* Remove an image, or only the tag ref when the image has others. */
int image_remove(struct uc_store *s, const char *ref, bool *untagged,
		 uc_error_t *err);
/*
 * The image's merged tree, read-only: a directory fd of its only layer, or
 * of a detached union mount of its layers (gone with the fd).  Nothing is
 * mounted in anyone's mount table.
 */
int image_view_open(struct uc_store *s, const struct uc_image *img,
		    uc_error_t *err);
/* Layer directories, top first, NULL-terminated. */
char **image_layer_dirs(struct uc_store *s, const struct uc_image *img);
/*
 * Store directory dir (staged under tmp/) as a layer, by digest; dir is
 * consumed (renamed in, or removed when the layer already exists).
 */
int layer_store(struct uc_store *s, const char *dir, char out[65],
		uc_error_t *err);
/* Give the image its id (digest of its record) and save it under name. */
int image_register(struct uc_store *s, struct uc_image *img, const char *name,
		   uc_error_t *err);
void image_free(struct uc_image *img);

struct json_object *image_to_json(const struct uc_image *img);

#endif
