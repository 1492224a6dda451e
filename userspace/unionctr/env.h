/* SPDX-License-Identifier: GPL-2.0 */
/* Environment lists ("KEY=VALUE" string vectors) and the container's. */
#ifndef UNIONCTR_ENV_H
#define UNIONCTR_ENV_H

#include <stdbool.h>

/* Replace KEY's entry with kv ("KEY=VALUE"), or append it. */
void env_set(char ***env, const char *kv);
bool env_has(char *const *env, const char *key);
void env_unset(char ***env, const char *key);

/*
 * What the container's process runs with, as Docker's daemon builds it:
 * PATH (a default), HOSTNAME, TERM=xterm with a tty, overridden by the
 * container's own Env (the image's plus -e), then HOME = home unless set.
 * The container's record keeps only its own Env, so commit carries no
 * HOSTNAME, TERM or HOME of this container into an image.
 */
char **env_for_process(char *const *config_env, const char *hostname, bool tty,
		       const char *home);

#endif
