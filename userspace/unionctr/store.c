// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "ucjson.h"
#include "utils.h"

static const char *const subdirs[] = {
	"layers", "images", "containers", "volumes", "tmp",
};

int store_open(struct uc_store *s, const char *root, const char *storage,
	       uc_error_t *err)
{
	size_t i;
	char *p;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	s->root = path_clean(root);
	s->storage = xstrdup(storage);
	if (strcmp(storage, "unionfs") && strcmp(storage, "overlay"))
		return uc_error(err, 0, "unknown storage `%s` (unionfs or overlay)",
				storage);
	if (mkdir_p(s->root, 0711, err) < 0)
		return -1;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		p = store_path(s, "%s", subdirs[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			uc_error_errno(err, errno, "mkdir `%s`", p);
			free(p);
			return -1;
		}
		free(p);
	}
	p = store_path(s, "lock");
	s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (s->lock_fd < 0)
		return uc_error_errno(err, errno, "open the state lock in `%s`",
				      s->root);
	return 0;
}

void store_close(struct uc_store *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->root);
	free(s->storage);
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
}

int store_lock(struct uc_store *s, uc_error_t *err)
{
	if (s->lock_depth++ > 0)
		return 0;
	while (flock(s->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			s->lock_depth--;
			return uc_error_errno(err, errno, "lock `%s`", s->root);
		}
	}
	return 0;
}

int store_lock_reopen(struct uc_store *s, uc_error_t *err)
{
	char *p = store_path(s, "lock");
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(p);
	if (fd < 0)
		return uc_error_errno(err, errno, "open the state lock in `%s`", s->root);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = fd;
	s->lock_depth = 0;
	return 0;
}

void store_unlock(struct uc_store *s)
{
	if (s->lock_depth > 0 && --s->lock_depth == 0)
		flock(s->lock_fd, LOCK_UN);
}

char *store_path(struct uc_store *s, const char *fmt, ...)
{
	char *rel, *full;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	full = xasprintf("%s/%s", s->root, rel);
	free(rel);
	return full;
}

int store_discard(struct uc_store *s, const char *path, uc_error_t *err)
{
	char id[UC_ID_LEN + 1], *tmp;
	pid_t pid;
	int st;

	random_id(id);
	tmp = store_path(s, "tmp/rm-%.16s", id);
	if (rename(path, tmp) < 0) {
		int e = errno;

		free(tmp);
		if (e == ENOENT)
			return 0;
		return uc_error_errno(err, e, "remove `%s`", path);
	}
	/* Gone from the state already: the slow unlinks happen detached. */
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			rm_rf(tmp, NULL);
		}
		_exit(0);
	}
	if (pid < 0)
		rm_rf(tmp, NULL);
	else
		waitpid(pid, &st, 0);
	free(tmp);
	return 0;
}

void store_gc_tmp(struct uc_store *s)
{
	char *dir = store_path(s, "tmp");
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		uc_error_t e = NULL;
		struct stat st;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		/* Removals in progress get a minute before they count as stale. */
		if (lstat(p, &st) == 0 &&
		    (strncmp(de->d_name, "rm-", 3) || now - st.st_mtime > 60) &&
		    rm_rf(p, &e) < 0) {
			uc_warning("left in the state's tmp/: %s", e->msg);
			uc_error_release(&e);
		}
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
}

char *store_mktemp(struct uc_store *s, uc_error_t *err)
{
	char id[UC_ID_LEN + 1];
	char *p;

	random_id(id);
	p = store_path(s, "tmp/%.16s", id);
	if (mkdir(p, 0700) < 0) {
		uc_error_errno(err, errno, "mkdir `%s`", p);
		free(p);
		return NULL;
	}
	return p;
}

/* ---- who references what ------------------------------------------------ */

/* Does the container record o name volume (Mounts[].Name) / image (Image)? */
static bool record_uses(struct json_object *o, const char *what, const char *volume)
{
	struct uc_json_reader r = { .what = "container record" };
	struct json_object *ms;
	size_t i, n;

	if (!volume) {
		const char *image = uc_json_string(&r, o, "Image");

		return image && !strcmp(image, what);
	}
	ms = uc_json_array(&r, o, "Mounts");
	n = uc_json_length(ms);
	for (i = 0; i < n && !r.bad; i++) {
		const char *name = uc_json_string(&r, uc_json_object_at(&r, ms, i), "Name");

		if (name && !strcmp(name, volume))
			return true;
	}
	return false;
}

/*
 * The containers whose records name image (or volume).  Only the references
 * are read here: a record whose other members are bad still holds what it
 * names (the container listing reports it).  A record that cannot be read
 * at all is an error: what it names is not known, and removing the image
 * or volume could lose what it needs.
 */
static int store_users(struct uc_store *s, const char *image, const char *volume,
		       char ***ids, uc_error_t *err)
{
	char *dir = store_path(s, "containers");
	struct dirent **ents;
	int i, cnt, ret = 0;

	*ids = xcalloc(1, sizeof(char *));
	cnt = scandir(dir, &ents, NULL, alphasort);
	free(dir);
	if (cnt < 0) {
		strv_free(*ids);
		*ids = NULL;
		return uc_error_errno(err, errno, "list containers");
	}
	for (i = 0; i < cnt; i++) {
		struct json_object *o = NULL;
		char *p;

		if (ret == 0 && uc_id_valid(ents[i]->d_name)) {
			p = store_path(s, "containers/%s/config.json", ents[i]->d_name);
			if (uc_json_load(p, &o, err) < 0)
				ret = uc_error_wrap(err, "whether container %.12s uses %s cannot be read",
						    ents[i]->d_name, image ? image : volume);
			else if (!json_object_is_type(o, json_type_object))
				ret = uc_error(err, 0, "whether container %.12s uses %s cannot be read: "
					       "`%s` is not a JSON object", ents[i]->d_name,
					       image ? image : volume, p);
			else if (record_uses(o, image, volume))
				strv_push(ids, ents[i]->d_name);
			if (o)
				json_object_put(o);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	if (ret < 0) {
		strv_free(*ids);
		*ids = NULL;
	}
	return ret;
}

int store_image_users(struct uc_store *s, const char *image_id, char ***ids,
		      uc_error_t *err)
{
	return store_users(s, image_id, NULL, ids, err);
}

int store_volume_users(struct uc_store *s, const char *volume, char ***ids,
		       uc_error_t *err)
{
	return store_users(s, NULL, volume, ids, err);
}
