/* SPDX-License-Identifier: GPL-2.0 */
/* Named and anonymous volumes under <root>/volumes/<name>/_data. */
#ifndef UNIONCTR_VOLUMES_H
#define UNIONCTR_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

struct uc_volume {
	char *name;
	char *mountpoint;
	char *created;
	bool anonymous;
};

/* Create (or find, with *created false) a volume; NULL name: anonymous. */
int volume_ensure(struct uc_store *s, const char *name, bool anonymous,
		  struct uc_volume **out, bool *created, uc_error_t *err);
int volume_get(struct uc_store *s, const char *name, struct uc_volume **out,
	       uc_error_t *err);
int volume_list(struct uc_store *s, struct uc_volume ***out, size_t *n,
		uc_error_t *err);
/* Remove; refused (force or not) while a container uses it. */
int volume_remove(struct uc_store *s, const char *name, uc_error_t *err);
void volume_free(struct uc_volume *v);

#endif
