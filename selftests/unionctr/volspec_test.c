// SPDX-License-Identifier: GPL-2.0
/* -v and --volumes-from parsing and precedence, against Docker's rules. */
#include <stdlib.h>

#include "tap.h"
#include "utils.h"
#include "volspec.h"

struct good {
	const char *spec, *type, *name, *source, *dst, *prop;
	bool rw, copy, anon;
};

static const struct good goods[] = {
	{ "/data", "volume", NULL, NULL, "/data", "", true, true, true },
	{ "/data/", "volume", NULL, NULL, "/data", "", true, true, true },
	{ "/a/./b/../c", "volume", NULL, NULL, "/a/c", "", true, true, true },
	{ "vol:/data", "volume", "vol", NULL, "/data", "", true, true, false },
	{ "vol:/data:ro", "volume", "vol", NULL, "/data", "", false, true, false },
	{ "vol:/data:nocopy", "volume", "vol", NULL, "/data", "", true, false, false },
	{ "vol:/data:ro,nocopy", "volume", "vol", NULL, "/data", "", false, false, false },
	{ "my_vol.1-x:/data", "volume", "my_vol.1-x", NULL, "/data", "", true, true, false },
	{ "/host:/data", "bind", NULL, "/host", "/data", "rprivate", true, true, false },
	{ "/host/../x/:/data", "bind", NULL, "/x", "/data", "rprivate", true, true, false },
	{ "/host:/data:ro", "bind", NULL, "/host", "/data", "rprivate", false, true, false },
	{ "/host:/data:rw", "bind", NULL, "/host", "/data", "rprivate", true, true, false },
	{ "/host:/data:ro,rshared", "bind", NULL, "/host", "/data", "rshared", false, true, false },
	{ "/host:/data:slave", "bind", NULL, "/host", "/data", "slave", true, true, false },
	{ "/host:/data:z", "bind", NULL, "/host", "/data", "rprivate", true, true, false },
	{ "/host:/data:Z,ro,cached", "bind", NULL, "/host", "/data", "rprivate", false, true, false },
	{ "/host:/data:", "bind", NULL, "/host", "/data", "rprivate", true, true, false },
};

struct bad {
	const char *spec, *msg;
};

static const struct bad bads[] = {
	{ "/data:rw", "invalid volume specification: '/data:rw'" },
	{ "/data:ro", "invalid volume specification: '/data:ro'" },
	{ "/data:ro,nocopy", "invalid volume specification: '/data:ro,nocopy'" },
	{ "a:/b:ro:d", "invalid volume specification: 'a:/b:ro:d'" },
	{ ":/data", "invalid volume specification: ':/data'" },
	{ "", "invalid volume specification: ''" },
	{ "/host:", "invalid volume specification: '/host:'" },
	{ "/host:/data:bogus", "invalid mode: bogus" },
	{ "/host:/data:rw,ro", "invalid mode: rw,ro" },
	{ "/host:/data:ro,ro", "invalid mode: ro,ro" },
	{ "/host:/data:shared,slave", "invalid mode: shared,slave" },
	{ "/host:/data:nocopy,nocopy", "invalid mode: nocopy,nocopy" },
	{ "/host:/data:z,Z", "invalid mode: z,Z" },
	{ "/host:/data:ro,", "invalid mode: ro," },
	{ "/host:/", "invalid volume specification: '/host:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'" },
	{ "/", "invalid volume specification: '/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'" },
	{ "vol:/..", "invalid volume specification: 'vol:/..': invalid mount config for type \"volume\": invalid specification: destination can't be '/'" },
	{ "data", "invalid volume specification: 'data': invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be absolute" },
	{ "vol:data", "invalid volume specification: 'vol:data': invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be absolute" },
	{ "/host:data:ro", "invalid volume specification: '/host:data:ro': invalid mount config for type \"bind\": invalid mount path: 'data' mount path must be absolute" },
	{ "/host:/data:nocopy", "invalid volume specification: '/host:/data:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified" },
	{ "vol:/data:rshared", "invalid volume specification: 'vol:/data:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified" },
	/* Docker 20.10: a relative source is a volume name, not a bind */
	{ "./rel:/data", "create ./rel: \"./rel\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
	{ "../up:/data", "create ../up: \"../up\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
	{ ".:/data", "create .: \".\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
	{ "v:/data", "create v: \"v\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
	{ "_v:/data", "create _v: \"_v\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
	{ "a b:/data", "create a b: \"a b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
	{ "sub/dir:/data", "create sub/dir: \"sub/dir\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" },
};

static void test_good(void)
{
	size_t i;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		uc_error_t err = NULL;
		struct uc_mount m;
		int r = volspec_parse(g->spec, &m, &err);

		if (!ok(r == 0, "-v %s parses", g->spec)) {
			diag("error: %s", err ? err->msg : "?");
			uc_error_release(&err);
			continue;
		}
		ok(!strcmp(m.type, g->type) &&
		   (g->name ? m.name && !strcmp(m.name, g->name) : !m.name) &&
		   (g->source ? m.source && !strcmp(m.source, g->source) : !m.source) &&
		   !strcmp(m.destination, g->dst) && !strcmp(m.propagation, g->prop) &&
		   m.rw == g->rw && m.copy_data == g->copy && m.anonymous == g->anon,
		   "-v %s: %s name=%s src=%s dst=%s prop=%s rw=%d copy=%d anon=%d", g->spec,
		   m.type, m.name ? m.name : "-", m.source ? m.source : "-", m.destination,
		   m.propagation, m.rw, m.copy_data, m.anonymous);
		uc_mount_free(&m);
	}
}

static void test_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		uc_error_t err = NULL;
		struct uc_mount m;
		int r = volspec_parse(bads[i].spec, &m, &err);
		char name[256];

		snprintf(name, sizeof(name), "-v '%s' is refused with Docker's message", bads[i].spec);
		if (r == 0) {
			ok(0, "%s", name);
			uc_mount_free(&m);
			continue;
		}
		is_str(err->msg, bads[i].msg, name);
		ok(err->status == 125, "-v '%s' exits 125", bads[i].spec);
		uc_error_release(&err);
	}
}

static void test_volumes_from(void)
{
	static const struct { const char *spec, *id, *mode, *err; } t[] = {
		{ "store", "store", "rw", NULL },
		{ "store:ro", "store", "ro", NULL },
		{ "store:rw", "store", "rw", NULL },
		{ "store:", "store", "rw", NULL },
		{ "", NULL, NULL, "volumes-from specification cannot be an empty string" },
		{ "store:rshared", NULL, NULL, "invalid mode: rshared" },
		{ "store:nocopy", NULL, NULL, "invalid mode: nocopy" },
		{ "store:bogus", NULL, NULL, "invalid mode: bogus" },
		{ "store:ro,rw", NULL, NULL, "invalid mode: ro,rw" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *id = NULL, *mode = NULL, name[128];
		uc_error_t err = NULL;
		int r = volspec_parse_from(t[i].spec, &id, &mode, &err);

		snprintf(name, sizeof(name), "--volumes-from '%s'", t[i].spec);
		if (t[i].err) {
			if (ok(r < 0, "%s is refused", name))
				is_str(err->msg, t[i].err, "  with Docker's message");
		} else if (ok(r == 0, "%s parses", name)) {
			is_str(id, t[i].id, "  container");
			is_str(mode, t[i].mode, "  mode");
		}
		uc_error_release(&err);
		free(id);
		free(mode);
	}
}

static struct uc_mount mk(const char *type, const char *name, const char *src,
			  const char *dst, bool rw)
{
	struct uc_mount m = {
		.type = (char *)type, .name = (char *)name, .source = (char *)src,
		.destination = (char *)dst, .mode = "", .propagation = "",
		.rw = rw, .copy_data = true, .anonymous = name && strlen(name) == 64,
	};
	struct uc_mount c;

	uc_mount_copy(&c, &m);
	return c;
}

static void test_precedence(void)
{
	struct uc_mounts from = { 0 }, inherited = { 0 }, binds = { 0 }, out = { 0 };
	struct uc_mount m, b;
	const struct uc_mount *f;
	uc_error_t err = NULL;
	size_t i;

	m = mk("volume", "aaaa", "/vols/aaaa/_data", "/data", true);
	uc_mounts_push(&from, &m);
	uc_mount_free(&m);
	m = mk("bind", NULL, "/host/ro", "/ro", false);
	uc_mounts_push(&from, &m);
	uc_mount_free(&m);
	m = mk("volume", "cccc", "/vols/cccc/_data", "/keep", true);
	uc_mounts_push(&from, &m);
	uc_mount_free(&m);

	/* :ro makes everything read-only; a read-only mount stays so with rw. */
	for (i = 0; i < from.n; i++) {
		volspec_inherit(&m, &from.v[i], "ro");
		ok(!m.rw && !m.copy_data, "volumes-from :ro: %s read-only, no copy", m.destination);
		uc_mount_free(&m);
		volspec_inherit(&m, &from.v[i], "rw");
		ok(m.rw == from.v[i].rw, "volumes-from :rw: %s writable only if it was", m.destination);
		ok(!strcmp(m.source, from.v[i].source) && !strcmp(m.type, from.v[i].type),
		   "volumes-from copies %s's type and source", m.destination);
		uc_mounts_push(&inherited, &m);
		uc_mount_free(&m);
	}

	/* -v replaces an inherited mount at the same destination. */
	if (volspec_parse("/override:/data:ro", &b, &err) == 0) {
		uc_mounts_push(&binds, &b);
		uc_mount_free(&b);
	}
	if (volspec_parse("named:/new", &b, &err) == 0) {
		uc_mounts_push(&binds, &b);
		uc_mount_free(&b);
	}
	ok(volspec_merge(&out, &inherited, &binds, &err) == 0, "merge -v over --volumes-from");
	ok(out.n == 4, "4 mounts: /data replaced, /ro, /keep, /new (got %zu)", out.n);
	f = uc_mounts_find(&out, "/data");
	ok(f && !strcmp(f->type, "bind") && !strcmp(f->source, "/override") && !f->rw,
	   "-v wins at /data");
	f = uc_mounts_find(&out, "/keep");
	ok(f && !strcmp(f->name, "cccc"), "inherited /keep stays");
	f = uc_mounts_find(&out, "/new");
	ok(f && !strcmp(f->name, "named"), "-v /new added");
	uc_mounts_free(&out);

	/* Two -v at one destination: Docker's duplicate error. */
	if (volspec_parse("/other:/data/", &b, &err) == 0) {
		uc_mounts_push(&binds, &b);
		uc_mount_free(&b);
	}
	ok(volspec_merge(&out, &inherited, &binds, &err) < 0 && err &&
	   !strcmp(err->msg, "Duplicate mount point: /data"),
	   "two -v at /data (one with a trailing slash): Duplicate mount point: /data");
	uc_error_release(&err);
	uc_mounts_free(&out);

	/* Two --volumes-from with one destination: the later one wins. */
	m = mk("volume", "bbbb", "/vols/bbbb/_data", "/data", false);
	uc_mounts_push(&inherited, &m);
	uc_mount_free(&m);
	ok(volspec_merge(&out, &inherited, NULL, &err) == 0 && out.n == 3,
	   "volumes-from twice at /data: one mount");
	f = uc_mounts_find(&out, "/data");
	ok(f && !strcmp(f->name, "bbbb"), "the later --volumes-from wins");
	uc_mounts_free(&out);

	/* JSON round trip of a mount. */
	{
		struct json_object *j = uc_mount_to_json(&inherited.v[0]);
		struct uc_mount back;

		ok(uc_mount_from_json(j, &back, &err) == 0 &&
		   !strcmp(back.name, inherited.v[0].name) &&
		   !strcmp(back.source, inherited.v[0].source) &&
		   !strcmp(back.destination, "/data") && back.rw == inherited.v[0].rw &&
		   back.anonymous == inherited.v[0].anonymous,
		   "mount JSON round trip");
		uc_mount_free(&back);
		json_object_put(j);
	}
	uc_mounts_free(&from);
	uc_mounts_free(&inherited);
	uc_mounts_free(&binds);
}

static void test_path_clean(void)
{
	static const char *const t[][2] = {
		{ "/", "/" }, { "//a//b/", "/a/b" }, { "/a/../..", "/" },
		{ "a/../../b", "../b" }, { ".", "." }, { "", "." }, { "/a/./b/.", "/a/b" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *c = path_clean(t[i][0]), name[64];

		snprintf(name, sizeof(name), "path_clean(\"%s\")", t[i][0]);
		is_str(c, t[i][1], name);
		free(c);
	}
}

int main(void)
{
	test_good();
	test_bad();
	test_volumes_from();
	test_precedence();
	test_path_clean();
	return tap_done();
}
