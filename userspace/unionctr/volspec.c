// SPDX-License-Identifier: GPL-2.0
/*
 * Docker's rules (moby volume/mounts/linux_parser.go):
 *  - at most two colons; an empty first field is invalid;
 *  - 1 field: anonymous volume at DST; 2 fields: SRC:DST, unless the second
 *    field is a valid mode (a bare "/dst:rw" is invalid); 3 fields: SRC:DST:MODE;
 *  - MODE: comma list, at most one of each class: rw|ro, z|Z,
 *    [r]shared|[r]slave|[r]private, nocopy, consistent|cached|delegated|default;
 *  - absolute SRC: bind; otherwise a named volume [a-zA-Z0-9][a-zA-Z0-9_.-]+;
 *  - DST absolute and not "/"; propagation only on binds, nocopy only on volumes.
 */
#include <ctype.h>
#include <string.h>
#include <stdlib.h>

#include "ucjson.h"
#include "utils.h"
#include "volspec.h"

enum mode_class { MODE_RW, MODE_LABEL, MODE_PROPAGATION, MODE_COPY,
		  MODE_CONSISTENCY, MODE_NCLASSES, MODE_INVALID };

static enum mode_class mode_class(const char *o, size_t n)
{
	static const struct { const char *s; enum mode_class c; } tab[] = {
		{ "rw", MODE_RW }, { "ro", MODE_RW },
		{ "z", MODE_LABEL }, { "Z", MODE_LABEL },
		{ "shared", MODE_PROPAGATION }, { "rshared", MODE_PROPAGATION },
		{ "slave", MODE_PROPAGATION }, { "rslave", MODE_PROPAGATION },
		{ "private", MODE_PROPAGATION }, { "rprivate", MODE_PROPAGATION },
		{ "nocopy", MODE_COPY },
		{ "consistent", MODE_CONSISTENCY }, { "cached", MODE_CONSISTENCY },
		{ "delegated", MODE_CONSISTENCY }, { "default", MODE_CONSISTENCY },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].s) == n && !strncmp(tab[i].s, o, n))
			return tab[i].c;
	return MODE_INVALID;
}

/* Call fn for each comma-separated option; stop when it returns false. */
static bool mode_each(const char *mode,
		      bool (*fn)(const char *o, size_t n, void *data), void *data)
{
	const char *p = mode, *c;

	for (;;) {
		c = strchr(p, ',');
		if (!fn(p, c ? (size_t)(c - p) : strlen(p), data))
			return false;
		if (!c)
			return true;
		p = c + 1;
	}
}

static bool count_option(const char *o, size_t n, void *data)
{
	int *count = data;
	enum mode_class c = mode_class(o, n);

	if (c == MODE_INVALID)
		return false;
	return ++count[c] <= 1;
}

bool volspec_valid_mode(const char *mode)
{
	int count[MODE_NCLASSES] = { 0 };

	if (!mode || !*mode)
		return true;
	return mode_each(mode, count_option, count);
}

static bool find_option(const char *o, size_t n, void *data)
{
	const char *want = data;

	return !(strlen(want) == n && !strncmp(o, want, n));
}

static bool mode_has(const char *mode, const char *opt)
{
	return !mode_each(mode, find_option, (void *)opt);
}

bool volspec_mode_rw(const char *mode)
{
	return !mode || !*mode || !mode_has(mode, "ro");
}

struct prop_find {
	const char *found;
	size_t n;
};

static bool find_propagation(const char *o, size_t n, void *data)
{
	struct prop_find *f = data;

	if (mode_class(o, n) == MODE_PROPAGATION) {
		f->found = o;
		f->n = n;
		return false;
	}
	return true;
}

static char *mode_propagation(const char *mode)
{
	struct prop_find f = { NULL, 0 };

	if (!mode || !*mode)
		return NULL;
	mode_each(mode, find_propagation, &f);
	return f.found ? strndup(f.found, f.n) : NULL;
}

bool volspec_valid_volume_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 2 || !isalnum((unsigned char)name[0]))
		return false;
	for (i = 1; i < n; i++) {
		unsigned char c = name[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

static int invalid_spec(uc_error_t *err, const char *raw)
{
	return uc_error(err, 0, "invalid volume specification: '%s'", raw);
}

static int invalid_config(uc_error_t *err, const char *raw, const char *type,
			  const char *what)
{
	return uc_error(err, 0,
			"invalid volume specification: '%s': invalid mount config for type \"%s\": %s",
			raw, type, what);
}

/* The colon-separated fields of a spec: SRC, DST, MODE as given. */
struct spec {
	char *f[3];
	const char *src, *dst, *mode;
};

static int split_spec(const char *raw, struct spec *sp, uc_error_t *err)
{
	size_t nf = 0, colons = 0;
	const char *p, *start;

	memset(sp, 0, sizeof(*sp));
	for (p = raw; *p; p++)
		colons += *p == ':';
	if (colons > 2)
		return invalid_spec(err, raw);
	for (start = p = raw;; p++) {
		if (*p == ':' || !*p) {
			sp->f[nf++] = strndup(start, p - start);
			if (!*p)
				break;
			start = p + 1;
		}
	}
	if (!*sp->f[0])
		return invalid_spec(err, raw);
	/* 1 field: DST; 2: SRC:DST (a mode where DST belongs is invalid). */
	if (nf == 2 && volspec_valid_mode(sp->f[1]))
		return invalid_spec(err, raw);
	sp->src = nf > 1 ? sp->f[0] : NULL;
	sp->dst = nf > 1 ? sp->f[1] : sp->f[0];
	sp->mode = nf > 2 ? sp->f[2] : "";
	if (!volspec_valid_mode(sp->mode))
		return uc_error(err, 0, "invalid mode: %s", sp->mode);
	return 0;
}

/* DST: not empty, absolute, not "/" (Docker's messages). */
static int parse_destination(const char *raw, const char *dst, struct uc_mount *m,
			     uc_error_t *err)
{
	char *clean, *msg;
	bool root;

	if (!*dst)
		return invalid_config(err, raw, m->type, "field Target must not be empty");
	clean = path_clean(dst);
	root = !strcmp(clean, "/");
	free(clean);
	if (root)
		return invalid_config(err, raw, m->type,
				      "invalid specification: destination can't be '/'");
	if (dst[0] != '/') {
		msg = xasprintf("invalid mount path: '%s' mount path must be absolute", dst);
		invalid_config(err, raw, m->type, msg);
		free(msg);
		return -1;
	}
	m->destination = path_clean(dst);
	return 0;
}

static int parse_bind(const char *raw, const struct spec *sp, struct uc_mount *m,
		      uc_error_t *err)
{
	char *prop = mode_propagation(sp->mode);

	if (mode_has(sp->mode, "nocopy")) {
		free(prop);
		return invalid_config(err, raw, "bind", "field VolumeOptions must not be specified");
	}
	m->source = path_clean(sp->src);
	m->propagation = prop ? prop : xstrdup("rprivate");
	return 0;
}

static int parse_volume(const char *raw, const struct spec *sp, struct uc_mount *m,
			uc_error_t *err)
{
	char *prop = mode_propagation(sp->mode);

	if (prop) {
		free(prop);
		return invalid_config(err, raw, "volume", "field BindOptions must not be specified");
	}
	m->propagation = xstrdup("");
	if (!sp->src) {
		m->anonymous = true;
		return 0;
	}
	if (!volspec_valid_volume_name(sp->src))
		return uc_error(err, 0,
				"create %s: \"%s\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
				sp->src, sp->src);
	m->name = xstrdup(sp->src);
	return 0;
}

int volspec_parse(const char *raw, struct uc_mount *m, uc_error_t *err)
{
	struct spec sp;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = split_spec(raw, &sp, err);
	if (ret == 0) {
		/* Docker 20.10: only an absolute source is a bind ("./x" is a
		 * volume name, refused below); the relative binds of docker
		 * 23's CLI are not taken. */
		m->type = xstrdup(sp.src && sp.src[0] == '/' ? "bind" : "volume");
		m->mode = xstrdup(sp.mode);
		m->rw = volspec_mode_rw(sp.mode);
		m->copy_data = !mode_has(sp.mode, "nocopy");
		ret = parse_destination(raw, sp.dst, m, err);
	}
	if (ret == 0)
		ret = !strcmp(m->type, "bind") ? parse_bind(raw, &sp, m, err) :
						  parse_volume(raw, &sp, m, err);
	free(sp.f[0]);
	free(sp.f[1]);
	free(sp.f[2]);
	if (ret < 0)
		uc_mount_free(m);
	return ret;
}

int volspec_parse_from(const char *spec, char **container, char **mode,
		       uc_error_t *err)
{
	const char *c;
	int count[MODE_NCLASSES] = { 0 };

	if (!*spec)
		return uc_error(err, 0,
				"volumes-from specification cannot be an empty string");
	c = strchr(spec, ':');
	if (!c || !c[1]) {
		*container = c ? strndup(spec, c - spec) : xstrdup(spec);
		*mode = xstrdup("rw");
		return 0;
	}
	/* Only rw/ro (and the label/consistency no-ops) are allowed here. */
	if (!volspec_valid_mode(c + 1) ||
	    (mode_each(c + 1, count_option, count),
	     count[MODE_PROPAGATION] || count[MODE_COPY]))
		return uc_error(err, 0, "invalid mode: %s", c + 1);
	*container = strndup(spec, c - spec);
	*mode = xstrdup(c + 1);
	return 0;
}

void volspec_inherit(struct uc_mount *dst, const struct uc_mount *src,
		     const char *mode)
{
	uc_mount_copy(dst, src);
	dst->rw = src->rw && volspec_mode_rw(mode);
	dst->copy_data = false;
}

const struct uc_mount *uc_mounts_find(const struct uc_mounts *ms,
				      const char *destination)
{
	size_t i;

	for (i = 0; ms && i < ms->n; i++)
		if (!strcmp(ms->v[i].destination, destination))
			return &ms->v[i];
	return NULL;
}

int volspec_merge(struct uc_mounts *out, const struct uc_mounts *inherited,
		  const struct uc_mounts *binds, uc_error_t *err)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; binds && i < binds->n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(binds->v[i].destination,
				    binds->v[j].destination))
				return uc_error(err, 0, "Duplicate mount point: %s",
						binds->v[i].destination);
	for (i = 0; inherited && i < inherited->n; i++) {
		struct uc_mount *m = NULL;

		/* A later --volumes-from replaces an earlier one at one DST. */
		for (j = 0; j < out->n; j++)
			if (!strcmp(out->v[j].destination,
				    inherited->v[i].destination))
				m = &out->v[j];
		if (uc_mounts_find(binds, inherited->v[i].destination))
			continue;
		if (m) {
			uc_mount_free(m);
			uc_mount_copy(m, &inherited->v[i]);
		} else {
			uc_mounts_push(out, &inherited->v[i]);
		}
	}
	for (i = 0; binds && i < binds->n; i++)
		uc_mounts_push(out, &binds->v[i]);
	return 0;
}

void uc_mount_copy(struct uc_mount *dst, const struct uc_mount *src)
{
	*dst = *src;
	dst->type = xstrdup(src->type);
	dst->name = xstrdup(src->name);
	dst->source = xstrdup(src->source);
	dst->destination = xstrdup(src->destination);
	dst->mode = xstrdup(src->mode);
	dst->propagation = xstrdup(src->propagation);
}

void uc_mount_free(struct uc_mount *m)
{
	free(m->type);
	free(m->name);
	free(m->source);
	free(m->destination);
	free(m->mode);
	free(m->propagation);
	memset(m, 0, sizeof(*m));
}

void uc_mounts_push(struct uc_mounts *ms, const struct uc_mount *m)
{
	ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
	uc_mount_copy(&ms->v[ms->n++], m);
}

void uc_mounts_free(struct uc_mounts *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		uc_mount_free(&ms->v[i]);
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

struct json_object *uc_mount_to_json(const struct uc_mount *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "Type", uc_json_new_string(m->type));
	if (m->name)
		json_object_object_add(o, "Name", uc_json_new_string(m->name));
	json_object_object_add(o, "Source", uc_json_new_string(m->source));
	json_object_object_add(o, "Destination", uc_json_new_string(m->destination));
	if (!strcmp(m->type, "volume"))
		json_object_object_add(o, "Driver", uc_json_new_string("local"));
	json_object_object_add(o, "Mode", uc_json_new_string(m->mode));
	json_object_object_add(o, "RW", json_object_new_boolean(m->rw));
	json_object_object_add(o, "Propagation", uc_json_new_string(m->propagation));
	json_object_object_add(o, "Anonymous", json_object_new_boolean(m->anonymous));
	json_object_object_add(o, "CopyData", json_object_new_boolean(m->copy_data));
	return o;
}

/* An absolute path as path_clean leaves it. */
static bool clean_absolute(const char *p)
{
	char *c;
	bool ok;

	if (!p || p[0] != '/')
		return false;
	c = path_clean(p);
	ok = !strcmp(c, p);
	free(c);
	return ok;
}

/* What create could have made; anything else was written by someone else. */
static void check_mount(struct uc_json_reader *r, const struct uc_mount *m)
{
	bool bind = m->type && !strcmp(m->type, "bind");

	if (!bind && (!m->type || strcmp(m->type, "volume")))
		uc_json_invalid(r, "Type", "is neither bind nor volume");
	else if (!clean_absolute(m->destination) || !strcmp(m->destination, "/"))
		uc_json_invalid(r, "Destination", "is not a clean absolute path other than /");
	else if (!clean_absolute(m->source))
		uc_json_invalid(r, "Source", "is not a clean absolute path");
	else if (!bind && (!m->name || !volspec_valid_volume_name(m->name)))
		uc_json_invalid(r, "Name", "is not a volume name");
	else if (!volspec_valid_mode(m->mode))
		uc_json_invalid(r, "Mode", "is not a valid mode");
	else if (*m->propagation && mode_class(m->propagation, strlen(m->propagation)) !=
		 MODE_PROPAGATION)
		uc_json_invalid(r, "Propagation", "is not a propagation");
}

int uc_mount_from_json(struct json_object *o, struct uc_mount *m,
		       uc_error_t *err)
{
	struct uc_json_reader r = { .what = "mount", .err = err };

	memset(m, 0, sizeof(*m));
	if (!o || !json_object_is_type(o, json_type_object))
		return uc_error(err, 0, "mount: not an object");
	m->type = xstrdup(uc_json_string(&r, o, "Type"));
	m->name = xstrdup(uc_json_string(&r, o, "Name"));
	m->source = xstrdup(uc_json_string(&r, o, "Source"));
	m->destination = xstrdup(uc_json_string(&r, o, "Destination"));
	m->mode = xstrdup(uc_json_string(&r, o, "Mode"));
	m->propagation = xstrdup(uc_json_string(&r, o, "Propagation"));
	m->rw = uc_json_bool(&r, o, "RW");
	m->anonymous = uc_json_bool(&r, o, "Anonymous");
	m->copy_data = uc_json_bool(&r, o, "CopyData");
	if (!m->mode)
		m->mode = xstrdup("");
	if (!m->propagation)
		m->propagation = xstrdup("");
	if (!r.bad)
		check_mount(&r, m);
	if (r.bad) {
		uc_mount_free(m);
		return -1;
	}
	return 0;
}
