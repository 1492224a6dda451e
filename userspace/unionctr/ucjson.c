// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucjson.h"
#include "utils.h"

int uc_json_read_fd(int fd, const char *what, struct json_object **out,
		    uc_error_t *err)
{
	enum json_tokener_error jerr;
	struct json_object *o;
	struct stat st;
	size_t len;
	char *buf;

	if (fstat(fd, &st) < 0)
		return uc_error_errno(err, errno, "stat `%s`", what);
	if (!S_ISREG(st.st_mode))
		return uc_error(err, 0, "`%s` is not a regular file", what);
	if (st.st_size > (off_t)UC_JSON_MAX)
		return uc_error(err, 0, "`%s` is too large (%lld bytes, at most %u)", what,
				(long long)st.st_size, UC_JSON_MAX);
	if (read_fd_max(fd, UC_JSON_MAX, &buf, &len) < 0)
		return uc_error_errno(err, errno, "read `%s`%s", what,
				      errno == EFBIG ? " (too large)" : "");
	o = json_tokener_parse_verbose(buf, &jerr);
	free(buf);
	if (!o)
		return uc_error(err, 0, "parse `%s`: %s", what,
				jerr == json_tokener_success ? "not a JSON value" :
				json_tokener_error_desc(jerr));
	*out = o;
	return 0;
}

int uc_json_load(const char *path, struct json_object **out, uc_error_t *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), ret;

	if (fd < 0)
		return uc_error_errno(err, errno, "open `%s`", path);
	ret = uc_json_read_fd(fd, path, out, err);
	close(fd);
	return ret;
}

int uc_json_save(const char *path, struct json_object *o, bool durable,
		 uc_error_t *err)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *data = xasprintf("%s\n", s);
	int ret = write_file_atomic(path, data, len + 1, 0600, durable, err);

	free(data);
	return ret;
}

static const char *type_name(enum json_type t)
{
	switch (t) {
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	case json_type_int: return "an integer";
	case json_type_boolean: return "a boolean";
	default: return "a value of another type";
	}
}

/* Member key of o if it has type t; NULL if absent, null, or bad. */
static struct json_object *member(struct uc_json_reader *r, struct json_object *o,
				  const char *key, enum json_type t)
{
	struct json_object *v;

	if (r->bad || !o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	if (json_object_is_type(v, t))
		return v;
	r->bad = true;
	uc_error(r->err, 0, "%s: `%s` is not %s", r->what, key, type_name(t));
	return NULL;
}

struct json_object *uc_json_object(struct uc_json_reader *r, struct json_object *o,
				   const char *key)
{
	return member(r, o, key, json_type_object);
}

struct json_object *uc_json_array(struct uc_json_reader *r, struct json_object *o,
				  const char *key)
{
	return member(r, o, key, json_type_array);
}

const char *uc_json_string(struct uc_json_reader *r, struct json_object *o,
			   const char *key)
{
	struct json_object *v = member(r, o, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

size_t uc_json_length(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ?
		json_object_array_length(a) : 0;
}

static struct json_object *element(struct uc_json_reader *r, struct json_object *a,
				   size_t i, enum json_type t)
{
	struct json_object *v;

	if (r->bad || i >= uc_json_length(a))
		return NULL;
	v = json_object_array_get_idx(a, i);
	if (v && json_object_is_type(v, t))
		return v;
	r->bad = true;
	uc_error(r->err, 0, "%s: element %zu of an array is not %s", r->what, i,
		 type_name(t));
	return NULL;
}

struct json_object *uc_json_object_at(struct uc_json_reader *r, struct json_object *a,
				      size_t i)
{
	return element(r, a, i, json_type_object);
}

const char *uc_json_string_at(struct uc_json_reader *r, struct json_object *a, size_t i)
{
	struct json_object *v = element(r, a, i, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

char **uc_json_strv(struct uc_json_reader *r, struct json_object *o, const char *key)
{
	struct json_object *a = member(r, o, key, json_type_array);
	size_t n = uc_json_length(a), i;
	char **v;

	if (!a)
		return NULL;
	v = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		const char *s = uc_json_string_at(r, a, i);

		if (!s) {
			strv_free(v);
			return NULL;
		}
		v[i] = xstrdup(s);
	}
	return v;
}

int64_t uc_json_int(struct uc_json_reader *r, struct json_object *o, const char *key)
{
	struct json_object *v = member(r, o, key, json_type_int);

	return v ? json_object_get_int64(v) : 0;
}

bool uc_json_bool(struct uc_json_reader *r, struct json_object *o, const char *key)
{
	struct json_object *v = member(r, o, key, json_type_boolean);

	return v && json_object_get_boolean(v);
}

void uc_json_invalid(struct uc_json_reader *r, const char *key, const char *why)
{
	if (r->bad)
		return;
	r->bad = true;
	uc_error(r->err, 0, "%s: `%s` %s", r->what, key, why);
}

struct json_object *uc_json_new_string(const char *s)
{
	return json_object_new_string(s ? s : "");
}

struct json_object *uc_json_new_strv(char *const *v)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}
