/* SPDX-License-Identifier: GPL-2.0 */
/* Layer directories: extraction of tarballs, tree digests, diffs. */
#ifndef UNIONCTR_LAYER_H
#define UNIONCTR_LAYER_H

#include <stdbool.h>

#include "error.h"

/*
 * Extract a tarball (any compression libarchive reads) into the existing
 * directory dir.  Unsafe entries (absolute paths, "..", writing through
 * symlinks, hard links leaving the tree) are refused.  With whiteouts, OCI
 * markers become layer-format ones: ".wh.NAME" a 0/0 character device,
 * ".wh..wh..opq" the opaque xattrs (unionfs and overlay) on the directory.
 */
int layer_extract(const char *tarball, const char *dir, bool whiteouts,
		  uc_error_t *err);
/* List the top-level-relative names in a tarball (for format sniffing). */
int tar_has_entry(const char *tarball, const char *name, bool *found,
		  uc_error_t *err);
/*
 * Deterministic digest of a tree (a layer's id): names, types, modes,
 * owners, sizes, devices, contents, link targets, xattrs (ACLs, file
 * capabilities, the opaque marker) and hard-link groups; not times.
 */
int tree_digest(const char *dir, char out[65], uc_error_t *err);

/* One change of a container layer, as docker diff prints it. */
typedef void (*diff_fn)(char kind, const char *path, void *data);
/*
 * Walk upper (a container's upper dir) and report A/C/D against the image
 * layers (lowers, top first), sorted by path.  Like Docker, what the
 * launcher made itself (empty mount points, /etc/hostname...) and
 * directories only copied up on the way to a change are not reported.
 */
int layer_diff(const char *upper, char *const *lowers, diff_fn fn, void *data,
	       uc_error_t *err);

/* Is rel one of the paths the launcher creates (/proc, /etc/hosts...)? */
bool layer_init_path(const char *rel);
/* Remove from a layer being committed what the launcher made there. */
void layer_strip_init(const char *dir, char *const *lowers);

#endif
