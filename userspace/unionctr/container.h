/* SPDX-License-Identifier: GPL-2.0 */
/* Container records: create, find, list, remove, inspect. */
#ifndef UNIONCTR_CONTAINER_H
#define UNIONCTR_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "error.h"
#include "security.h"
#include "store.h"
#include "volspec.h"

struct uc_container {
	char *id;
	char *name;		/* without the leading "/" */
	char *image_id;
	char *image_name;
	char *created;
	char **argv;		/* Path + Args */
	char **cmd;		/* as configured, for commit/inspect */
	char **entrypoint;
	char **env;
	char *workdir;
	char *user;		/* -u or the image's User; NULL: root */
	char *hostname;
	char *storage;
	bool read_only, tty, open_stdin, auto_remove;
	struct uc_mounts mounts;
	char **binds;		/* -v as given */
	char **volumes_from;	/* as given */
	struct uc_security sec;	/* capabilities, seccomp, no_new_privs, ... */
	/* state */
	char *status;		/* created, running, exited */
	int pid;
	unsigned long long pid_start;
	int exit_code;
	char *started_at, *finished_at;
	char *error;
};

struct uc_create_opts {
	const char *name;
	const char *image;
	char **cmd;		/* NULL: the image's */
	const char *entrypoint;	/* NULL: the image's; "": none */
	char **env;		/* -e KEY=VAL or KEY (from our environment) */
	const char *workdir;
	const char *user;
	const char *hostname;
	char **volumes;		/* -v specs */
	char **volumes_from;
	char **cap_add, **cap_drop, **security_opt;	/* as given */
	bool auto_remove, tty, open_stdin, read_only, privileged, no_pivot;
};

int container_create(struct uc_store *s, const struct uc_create_opts *o,
		     struct uc_container **out, uc_error_t *err);
/* By name ("/name" too), full id, or unique id prefix. */
int container_find(struct uc_store *s, const char *ref,
		   struct uc_container **out, uc_error_t *err);
int container_load(struct uc_store *s, const char *id,
		   struct uc_container **out, uc_error_t *err);
int container_save(struct uc_store *s, struct uc_container *c,
		   uc_error_t *err);
int container_list(struct uc_store *s, struct uc_container ***out, size_t *n,
		   uc_error_t *err);
void container_list_free(struct uc_container **v, size_t n);
/* Remove a stopped container (force: kill it first); volumes: also its
 * anonymous volumes that no other container uses. */
int container_remove(struct uc_store *s, const char *ref, bool force,
		     bool volumes, uc_error_t *err);
int container_remove_record(struct uc_store *s, struct uc_container *c,
			    bool volumes, uc_error_t *err);
/*
 * commit: the container's layer becomes the new top layer of a new image
 * (named name, if not NULL), with the container's command, environment,
 * working directory and user; its id in *id.  A running container is
 * paused meanwhile.
 */
int container_commit(struct uc_store *s, const char *ref, const char *name,
		     char **id, uc_error_t *err);
bool container_running(const struct uc_container *c);
/*
 * The start lock of container id (a flock of its directory): a start holds
 * it from before it checks the container's state until it has recorded it
 * running (or failed), so that two starts, or a start and an rm, of one
 * container do not cross.  The fd to close, or -1 (errno EWOULDBLOCK, err
 * not set, when !wait and a start holds it).
 */
int container_start_lock(struct uc_store *s, const char *id, bool wait,
			 uc_error_t *err);
char *container_dir(struct uc_store *s, const struct uc_container *c,
		    const char *rel);
struct json_object *container_to_json(struct uc_store *s,
				      const struct uc_container *c);
void container_free(struct uc_container *c);
/* "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
char *container_status_text(const struct uc_container *c);
unsigned long long proc_start_time(int pid);
bool container_name_valid(const char *name);

#endif
