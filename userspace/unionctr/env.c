// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "utils.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool is_key(const char *entry, const char *key, size_t klen)
{
	return !strncmp(entry, key, klen) && entry[klen] == '=';
}

void env_set(char ***env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv), i;

	for (i = 0; *env && (*env)[i]; i++) {
		if (is_key((*env)[i], kv, klen)) {
			free((*env)[i]);
			(*env)[i] = xstrdup(kv);
			return;
		}
	}
	strv_push(env, kv);
}

bool env_has(char *const *env, const char *key)
{
	size_t i, k = strlen(key);

	for (i = 0; env && env[i]; i++)
		if (is_key(env[i], key, k))
			return true;
	return false;
}

void env_unset(char ***env, const char *key)
{
	size_t i, j, k = strlen(key);

	for (i = 0; *env && (*env)[i]; i++) {
		if (is_key((*env)[i], key, k)) {
			free((*env)[i]);
			for (j = i; (*env)[j]; j++)
				(*env)[j] = (*env)[j + 1];
			return;
		}
	}
}

char **env_for_process(char *const *config_env, const char *hostname, bool tty,
		       const char *home)
{
	char **env = NULL, *kv;
	size_t i;

	strv_push(&env, DEFAULT_PATH);
	kv = xasprintf("HOSTNAME=%s", hostname);
	strv_push(&env, kv);
	free(kv);
	if (tty)
		strv_push(&env, "TERM=xterm");
	for (i = 0; config_env && config_env[i]; i++)
		env_set(&env, config_env[i]);
	if (!env_has(env, "HOME")) {
		kv = xasprintf("HOME=%s", home && *home ? home : "/");
		strv_push(&env, kv);
		free(kv);
	}
	return env;
}
