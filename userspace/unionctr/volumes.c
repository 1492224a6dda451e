// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucjson.h"
#include "utils.h"
#include "volspec.h"
#include "volumes.h"

void volume_free(struct uc_volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->mountpoint);
	free(v->created);
	free(v);
}

int volume_get(struct uc_store *s, const char *name, struct uc_volume **out,
	       uc_error_t *err)
{
	char *p, *what;
	struct json_object *o;
	struct uc_json_reader r = { .err = err };
	struct uc_volume *v;
	const char *recorded;

	if (!volspec_valid_volume_name(name))
		return uc_error(err, 0, "get %s: no such volume", name);
	p = store_path(s, "volumes/%s/meta.json", name);
	if (access(p, F_OK) < 0) {
		free(p);
		return uc_error(err, 0, "get %s: no such volume", name);
	}
	if (uc_json_load(p, &o, err) < 0) {
		free(p);
		return -1;
	}
	free(p);
	what = xasprintf("volumes/%s/meta.json", name);
	r.what = what;
	v = xcalloc(1, sizeof(*v));
	v->name = xstrdup(name);
	v->mountpoint = store_path(s, "volumes/%s/_data", name);
	v->created = xstrdup(uc_json_string(&r, o, "CreatedAt"));
	v->anonymous = uc_json_bool(&r, o, "Anonymous");
	recorded = uc_json_string(&r, o, "Name");
	if (!r.bad && recorded && strcmp(recorded, name))
		uc_json_invalid(&r, "Name", "is not its directory's name");
	json_object_put(o);
	free(what);
	if (r.bad) {
		volume_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

int volume_ensure(struct uc_store *s, const char *name, bool anonymous,
		  struct uc_volume **out, bool *created, uc_error_t *err)
{
	char id[UC_ID_LEN + 1], *tmp = NULL, *data = NULL, *meta = NULL, *dst = NULL;
	struct json_object *o;
	int ret = -1;

	*created = false;
	if (!name) {
		random_id(id);
		name = id;
	}
	if (!volspec_valid_volume_name(name))
		return uc_error(err, 0, "volume name `%s` is invalid", name);
	if (store_lock(s, err) < 0)
		return -1;
	dst = store_path(s, "volumes/%s", name);
	if (access(dst, F_OK) == 0) {
		/* there already: used as it is, if its record is sound */
		ret = volume_get(s, name, out, err);
		goto out;
	}
	tmp = store_mktemp(s, err);
	if (!tmp)
		goto out;
	data = xasprintf("%s/_data", tmp);
	if (mkdir(data, 0755) < 0) {
		uc_error_errno(err, errno, "mkdir `%s`", data);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "Name", json_object_new_string(name));
	json_object_object_add(o, "Driver", json_object_new_string("local"));
	json_object_object_add(o, "Anonymous", json_object_new_boolean(anonymous));
	{
		char *now = now_rfc3339();

		json_object_object_add(o, "CreatedAt", json_object_new_string(now));
		free(now);
	}
	meta = xasprintf("%s/meta.json", tmp);
	ret = uc_json_save(meta, o, true, err);
	json_object_put(o);
	if (ret < 0)
		goto out;
	ret = -1;
	if (rename(tmp, dst) < 0) {
		uc_error_errno(err, errno, "create volume `%s`", name);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	*created = true;
	ret = volume_get(s, name, out, err);
out:
	if (tmp) {
		rm_rf(tmp, err);
		free(tmp);
	}
	free(data);
	free(meta);
	free(dst);
	store_unlock(s);
	return ret;
}

int volume_list(struct uc_store *s, struct uc_volume ***out, size_t *n,
		uc_error_t *err)
{
	char *dir = store_path(s, "volumes");
	struct dirent **ents;
	int i, cnt;

	*out = NULL;
	*n = 0;
	cnt = scandir(dir, &ents, NULL, alphasort);
	free(dir);
	if (cnt < 0)
		return uc_error_errno(err, errno, "list volumes");
	for (i = 0; i < cnt; i++) {
		struct uc_volume *v;
		uc_error_t e = NULL;

		if (ents[i]->d_name[0] == '.') {
			/* not a volume */
		} else if (volume_get(s, ents[i]->d_name, &v, &e) == 0) {
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = v;
		} else {
			uc_warning("skipping volume `%s`: %s", ents[i]->d_name, e->msg);
			uc_error_release(&e);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

int volume_remove(struct uc_store *s, const char *name, uc_error_t *err)
{
	struct uc_volume *v = NULL;
	char **users = NULL, *dir;
	int ret = -1;

	if (store_lock(s, err) < 0)
		return -1;
	if (volume_get(s, name, &v, err) < 0)
		goto out;
	if (store_volume_users(s, name, &users, err) < 0)
		goto out;
	if (users[0]) {
		uc_error(err, 0, "remove %s: volume is in use - [%s]", name, users[0]);
		goto out;
	}
	dir = store_path(s, "volumes/%s", name);
	ret = store_discard(s, dir, err);
	free(dir);
out:
	strv_free(users);
	volume_free(v);
	store_unlock(s);
	return ret;
}
