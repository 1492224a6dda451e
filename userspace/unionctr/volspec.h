/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mount points of a container, with Docker's parsing and precedence rules
 * for -v/--volume and --volumes-from.  Pure logic: no filesystem access, so
 * it is unit-tested on the host.
 */
#ifndef UNIONCTR_VOLSPEC_H
#define UNIONCTR_VOLSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "error.h"

struct uc_mount {
	char *type;		/* "bind" or "volume" */
	char *name;		/* volume name (NULL for binds, NULL at parse for anonymous) */
	char *source;		/* host path (binds at parse, volumes once created) */
	char *destination;	/* cleaned absolute path in the container */
	char *mode;		/* mode string as given ("" if none) */
	char *propagation;	/* binds: rprivate by default; volumes: "" */
	bool rw;
	bool copy_data;		/* fill an empty volume from the image at create */
	bool anonymous;
};

struct uc_mounts {
	struct uc_mount *v;
	size_t n;
};

/* Is mode a valid -v mode (comma list, at most one option of each class)? */
bool volspec_valid_mode(const char *mode);
/* True unless the mode list contains "ro". */
bool volspec_mode_rw(const char *mode);
/* Parse one -v spec.  A source is a bind when it is absolute, else a volume
 * name (Docker 20.10: "./x" is refused as a name, not made absolute). */
int volspec_parse(const char *raw, struct uc_mount *m, uc_error_t *err);
/* Parse a --volumes-from spec "C[:ro|:rw]". */
int volspec_parse_from(const char *spec, char **container, char **mode,
		       uc_error_t *err);
/* Copy a mount of another container as --volumes-from does with mode. */
void volspec_inherit(struct uc_mount *dst, const struct uc_mount *src,
		     const char *mode);
/*
 * Build the final mount table: every inherited mount, then each -v mount
 * replacing an inherited one at the same destination; two -v mounts at one
 * destination are an error ("Duplicate mount point").
 */
int volspec_merge(struct uc_mounts *out, const struct uc_mounts *inherited,
		  const struct uc_mounts *binds, uc_error_t *err);
const struct uc_mount *uc_mounts_find(const struct uc_mounts *ms,
				      const char *destination);
bool volspec_valid_volume_name(const char *name);

void uc_mount_copy(struct uc_mount *dst, const struct uc_mount *src);
void uc_mount_free(struct uc_mount *m);
void uc_mounts_push(struct uc_mounts *ms, const struct uc_mount *m);
void uc_mounts_free(struct uc_mounts *ms);

struct json_object *uc_mount_to_json(const struct uc_mount *m);
int uc_mount_from_json(struct json_object *o, struct uc_mount *m,
		       uc_error_t *err);

#endif
