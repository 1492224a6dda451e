// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#include "caps.h"
#include "seccomp_dl.h"
#include "seccomp_profile.h"
#include "seccomp_rules.h"
#include "utils.h"

const struct sc_profile *sc_profile_default(void)
{
	return &sc_default_profile;
}

/* ---- Docker's JSON format --------------------------------------------------- */

/* A parsed profile and everything its rules point at. */
struct sc_parsed {
	struct sc_profile p;		/* first: sc_profile_free casts back */
	struct sc_rule *rules;
	struct sc_archmap *archmap;
	char ***strvs;			/* names and arch lists */
	size_t n_strvs;
};

void sc_profile_free(struct sc_profile *p)
{
	struct sc_parsed *x = (struct sc_parsed *)p;
	size_t i;

	if (!p || p == &sc_default_profile)
		return;
	for (i = 0; i < x->n_strvs; i++)
		strv_free(x->strvs[i]);
	free(x->strvs);
	free(x->rules);
	free(x->archmap);
	free(x);
}

static const char *const *keep_strv(struct sc_parsed *x, char **v)
{
	x->strvs = xrealloc(x->strvs, (x->n_strvs + 1) * sizeof(*x->strvs));
	x->strvs[x->n_strvs++] = v;
	return (const char *const *)v;
}

static const struct {
	const char *name;
	uint32_t action;
} actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG },
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static int bad(uc_error_t *err, const char *what, const char *detail)
{
	return uc_error(err, 0, "seccomp profile: %s%s%s", what, detail ? ": " : "",
			detail ? detail : "");
}

static int parse_action(struct json_object *o, uint32_t *out, uc_error_t *err)
{
	const char *s = json_object_is_type(o, json_type_string) ?
			json_object_get_string(o) : NULL;
	size_t i;

	if (!s)
		return bad(err, "an action is missing or not a string", NULL);
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (!strcmp(s, actions[i].name)) {
			*out = actions[i].action;
			return 0;
		}
	}
	return bad(err, "unsupported action", s);
}

/* An array of strings (or null/absent: NULL). */
static int parse_strv(struct json_object *o, const char *what, char ***out,
		      uc_error_t *err)
{
	size_t i, n;

	*out = NULL;
	if (!o || json_object_is_type(o, json_type_null))
		return 0;
	if (!json_object_is_type(o, json_type_array))
		return bad(err, what, "not an array");
	n = json_object_array_length(o);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(o, i);

		if (!json_object_is_type(e, json_type_string)) {
			strv_free(*out);
			*out = NULL;
			return bad(err, what, "not an array of strings");
		}
		strv_push(out, json_object_get_string(e));
	}
	return 0;
}

static int parse_uint(struct json_object *o, const char *what, uint64_t max,
		      uint64_t *out, uc_error_t *err)
{
	if (!json_object_is_type(o, json_type_int))
		return bad(err, what, "not an integer");
	if (json_object_get_int64(o) < 0)
		return bad(err, what, "out of range");
	*out = json_object_get_uint64(o);
	if (*out > max)
		return bad(err, what, "out of range");
	return 0;
}

static int parse_arg(struct json_object *o, struct sc_cond *c, uc_error_t *err)
{
	struct json_object *v;
	uint64_t index;
	const char *op;
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		return bad(err, "an argument is not an object", NULL);
	if (!json_object_object_get_ex(o, "index", &v) ||
	    parse_uint(v, "argument index", 5, &index, err) < 0)
		return uc_error(err, 0, "seccomp profile: an argument needs an index 0-5");
	c->index = (unsigned int)index;
	if (!json_object_object_get_ex(o, "value", &v) ||
	    parse_uint(v, "argument value", UINT64_MAX, &c->value, err) < 0)
		return uc_error(err, 0, "seccomp profile: an argument needs a value");
	c->value_two = 0;
	if (json_object_object_get_ex(o, "valueTwo", &v) &&
	    parse_uint(v, "argument valueTwo", UINT64_MAX, &c->value_two, err) < 0)
		return -1;
	op = json_object_object_get_ex(o, "op", &v) &&
	     json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	for (i = 0; op && i < sizeof(operators) / sizeof(operators[0]); i++) {
		if (!strcmp(op, operators[i].name)) {
			c->op = operators[i].op;
			return 0;
		}
	}
	return bad(err, "unsupported argument operator", op ? op : "(none)");
}

static int parse_caps(struct json_object *o, const char *what, uint64_t unknown,
		      uint64_t *out, uc_error_t *err)
{
	char **v;
	size_t i;

	*out = 0;
	if (parse_strv(o, what, &v, err) < 0)
		return -1;
	for (i = 0; v && v[i]; i++) {
		int cap = caps_from_name(v[i]);

		/* a capability this table does not know: no container has it */
		*out |= cap >= 0 ? 1ULL << cap : unknown;
	}
	strv_free(v);
	return 0;
}

static int parse_kernel(const char *s, unsigned int *out)
{
	unsigned int maj, min = 0;
	char tail;

	if (sscanf(s, "%u.%u%c", &maj, &min, &tail) < 1 &&
	    sscanf(s, "%u%c", &maj, &tail) != 1)
		return -1;
	if (maj > 0xffff || min > 0xffff)
		return -1;
	*out = maj << 16 | min;
	return 0;
}

/* "includes" or "excludes" of a syscall rule. */
static int parse_filter(struct sc_parsed *x, struct json_object *o, bool include,
			struct sc_rule *r, uc_error_t *err)
{
	struct json_object *v;
	char **arches;

	if (!o || json_object_is_type(o, json_type_null))
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return bad(err, include ? "includes" : "excludes", "not an object");
	json_object_object_get_ex(o, "caps", &v);
	/* an unknown capability to include: never there (bit 63 is no cap) */
	if (parse_caps(v, "caps", include ? 1ULL << 63 : 0,
		       include ? &r->caps_all_of : &r->caps_none_of, err) < 0)
		return -1;
	json_object_object_get_ex(o, "arches", &v);
	if (parse_strv(v, "arches", &arches, err) < 0)
		return -1;
	if (arches) {
		if (include)
			r->arches_in = keep_strv(x, arches);
		else
			r->arches_out = keep_strv(x, arches);
	}
	if (include && json_object_object_get_ex(o, "minKernel", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string) ||
		    parse_kernel(json_object_get_string(v), &r->min_kernel) < 0)
			return bad(err, "minKernel", "not a kernel version like \"4.8\"");
	}
	return 0;
}

static int parse_syscall(struct sc_parsed *x, struct json_object *o, struct sc_rule *r,
			 uc_error_t *err)
{
	struct json_object *v, *args;
	char **names = NULL;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(o, json_type_object))
		return bad(err, "a syscalls entry is not an object", NULL);
	json_object_object_get_ex(o, "names", &v);
	if (parse_strv(v, "names", &names, err) < 0)
		return -1;
	if (json_object_object_get_ex(o, "name", &v) &&
	    json_object_is_type(v, json_type_string))	/* the old single name */
		strv_push(&names, json_object_get_string(v));
	if (!names)
		return bad(err, "a syscalls entry has no names", NULL);
	r->names = keep_strv(x, names);
	if (parse_action(json_object_object_get_ex(o, "action", &v) ? v : NULL,
			 &r->action, err) < 0)
		return -1;
	if (json_object_object_get_ex(o, "errnoRet", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		uint64_t e;

		if (parse_uint(v, "errnoRet", 0xffff, &e, err) < 0)
			return -1;
		r->has_errno = true;
		r->errno_ret = (int)e;
	}
	if (json_object_object_get_ex(o, "args", &args) &&
	    !json_object_is_type(args, json_type_null)) {
		if (!json_object_is_type(args, json_type_array))
			return bad(err, "args", "not an array");
		n = json_object_array_length(args);
		if (n > SC_MAX_CONDS)
			return bad(err, "args", "more than 6 conditions");
		for (i = 0; i < n; i++)
			if (parse_arg(json_object_array_get_idx(args, i), &r->conds[i], err) < 0)
				return -1;
		r->n_conds = n;
	}
	if (parse_filter(x, json_object_object_get_ex(o, "includes", &v) ? v : NULL,
			 true, r, err) < 0 ||
	    parse_filter(x, json_object_object_get_ex(o, "excludes", &v) ? v : NULL,
			 false, r, err) < 0)
		return -1;
	return 0;
}

/* "SCMP_ARCH_X86_64" -> "x86_64", libseccomp's name */
static char *arch_name(const char *scmp)
{
	char *s, *p;

	if (!str_has_prefix(scmp, "SCMP_ARCH_"))
		return NULL;
	s = xstrdup(scmp + strlen("SCMP_ARCH_"));
	for (p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!seccomp_arch_resolve_name(s)) {
		free(s);
		return NULL;
	}
	return s;
}

static int parse_arch_list(struct sc_parsed *x, struct json_object *o, const char *what,
			   const char *const **out, uc_error_t *err)
{
	char **v, **names = NULL;
	size_t i;

	*out = NULL;
	if (parse_strv(o, what, &v, err) < 0)
		return -1;
	for (i = 0; v && v[i]; i++) {
		char *a = arch_name(v[i]);

		if (!a) {
			bad(err, "unknown architecture", v[i]);
			strv_free(v);
			strv_free(names);
			return -1;
		}
		strv_push(&names, a);
		free(a);
	}
	strv_free(v);
	if (names)
		*out = keep_strv(x, names);
	return 0;
}

static int parse_archmap(struct sc_parsed *x, struct json_object *o, uc_error_t *err)
{
	size_t i, n;

	if (!o || json_object_is_type(o, json_type_null))
		return 0;
	if (!json_object_is_type(o, json_type_array))
		return bad(err, "archMap", "not an array");
	n = json_object_array_length(o);
	x->archmap = xcalloc(n + 1, sizeof(*x->archmap));
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(o, i), *v;
		char **one = NULL, *a;

		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "architecture", &v) ||
		    !json_object_is_type(v, json_type_string))
			return bad(err, "archMap", "an entry without an architecture");
		a = arch_name(json_object_get_string(v));
		if (!a)
			return bad(err, "unknown architecture", json_object_get_string(v));
		strv_push(&one, a);
		free(a);
		x->archmap[i].arch = keep_strv(x, one)[0];
		json_object_object_get_ex(e, "subArchitectures", &v);
		if (parse_arch_list(x, v, "subArchitectures", &x->archmap[i].sub, err) < 0)
			return -1;
	}
	x->p.archmap = x->archmap;
	x->p.n_archmap = n;
	return 0;
}

static int parse_flags(struct sc_parsed *x, struct json_object *o, uc_error_t *err)
{
	char **v;
	size_t i;
	int ret = 0;

	if (parse_strv(o, "flags", &v, err) < 0)
		return -1;
	for (i = 0; v && v[i] && !ret; i++) {
		if (!strcmp(v[i], "SECCOMP_FILTER_FLAG_LOG"))
			x->p.log = true;
		else if (!strcmp(v[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			x->p.spec_allow = true;
		else if (strcmp(v[i], "SECCOMP_FILTER_FLAG_TSYNC"))	/* one thread: moot */
			ret = bad(err, "unsupported flag", v[i]);
	}
	strv_free(v);
	return ret;
}

static int parse_profile(struct sc_parsed *x, struct json_object *root, uc_error_t *err)
{
	struct json_object *v, *calls;
	size_t i, n;

	if (!json_object_is_type(root, json_type_object))
		return bad(err, "not a JSON object", NULL);
	if (parse_action(json_object_object_get_ex(root, "defaultAction", &v) ? v : NULL,
			 &x->p.default_action, err) < 0)
		return uc_error_wrap(err, "defaultAction");
	x->p.default_errno = 1;	/* EPERM, as runc */
	if (json_object_object_get_ex(root, "defaultErrnoRet", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		uint64_t e;

		if (parse_uint(v, "defaultErrnoRet", 0xffff, &e, err) < 0)
			return -1;
		x->p.default_errno = (int)e;
	}
	if (json_object_object_get_ex(root, "architectures", &v) &&
	    parse_arch_list(x, v, "architectures", &x->p.arches, err) < 0)
		return -1;
	if (json_object_object_get_ex(root, "archMap", &v) &&
	    parse_archmap(x, v, err) < 0)
		return -1;
	if (x->p.arches && x->p.n_archmap)
		return bad(err, "use either 'architectures' or 'archMap'", NULL);
	if (json_object_object_get_ex(root, "flags", &v) && parse_flags(x, v, err) < 0)
		return -1;
	if (json_object_object_get_ex(root, "syscalls", &calls) &&
	    !json_object_is_type(calls, json_type_null)) {
		if (!json_object_is_type(calls, json_type_array))
			return bad(err, "syscalls", "not an array");
		n = json_object_array_length(calls);
		x->rules = xcalloc(n + 1, sizeof(*x->rules));
		for (i = 0; i < n; i++)
			if (parse_syscall(x, json_object_array_get_idx(calls, i),
					  &x->rules[i], err) < 0)
				return -1;
		x->p.rules = x->rules;
		x->p.n_rules = n;
	}
	return 0;
}

struct sc_profile *sc_profile_parse(const char *json, uc_error_t *err)
{
	struct sc_parsed *x;
	enum json_tokener_error jerr;
	struct json_object *root;

	/* architecture names are checked against libseccomp's */
	if (uc_seccomp_load(err) < 0)
		return NULL;
	x = xcalloc(1, sizeof(*x));

	root = json_tokener_parse_verbose(json, &jerr);
	if (!root) {
		uc_error(err, 0, "seccomp profile: %s", json_tokener_error_desc(jerr));
		free(x);
		return NULL;
	}
	if (parse_profile(x, root, err) < 0) {
		json_object_put(root);
		sc_profile_free(&x->p);
		return NULL;
	}
	json_object_put(root);
	return &x->p;
}

/* ---- the filter ----------------------------------------------------------------- */

struct sc_host {
	const char *go_arch;		/* amd64, arm64, ... (Docker's arch names) */
	const char *machine;		/* x86_64: libseccomp's native name */
	unsigned int kernel;		/* major << 16 | minor */
};

static void host_of(struct sc_host *h, struct utsname *u)
{
	static const struct { const char *machine, *go; } go_arches[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },
		{ "i386", "386" }, { "armv7l", "arm" }, { "ppc64le", "ppc64le" },
		{ "s390x", "s390x" }, { "riscv64", "riscv64" }, { "mips64", "mips64" },
	};
	size_t i;

	uname(u);
	h->machine = u->machine;
	h->go_arch = u->machine;
	for (i = 0; i < sizeof(go_arches) / sizeof(go_arches[0]); i++)
		if (!strcmp(u->machine, go_arches[i].machine))
			h->go_arch = go_arches[i].go;
	h->kernel = 0;
	parse_kernel(u->release, &h->kernel);
}

static bool rule_applies(const struct sc_rule *r, const struct sc_host *h, uint64_t caps)
{
	if (r->arches_out && strv_contains((char *const *)r->arches_out, h->go_arch))
		return false;
	if (r->arches_in && !strv_contains((char *const *)r->arches_in, h->go_arch))
		return false;
	if (r->caps_none_of & caps)
		return false;
	if (r->min_kernel && h->kernel < r->min_kernel)
		return false;
	return (r->caps_all_of & caps) == r->caps_all_of;
}

static uint32_t full_action(uint32_t action, bool has_errno, int errno_ret, int dflt)
{
	if (action == SCMP_ACT_ERRNO(0))
		return SCMP_ACT_ERRNO(has_errno ? errno_ret : dflt);
	if (action == SCMP_ACT_TRACE(0))
		return SCMP_ACT_TRACE(has_errno ? errno_ret : dflt);
	return action;
}

static int add_arches(scmp_filter_ctx ctx, const struct sc_profile *p,
		      const struct sc_host *h, uc_error_t *err)
{
	const char *const *list = p->arches;
	size_t i;
	int r;

	for (i = 0; !list && i < p->n_archmap; i++)
		if (!strcmp(p->archmap[i].arch, h->machine))
			list = p->archmap[i].sub;
	for (i = 0; list && list[i]; i++) {
		r = seccomp_arch_add(ctx, seccomp_arch_resolve_name(list[i]));
		if (r < 0 && r != -EEXIST)
			return uc_error_errno(err, -r, "seccomp: architecture %s", list[i]);
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r, uint32_t action,
		    uc_error_t *err)
{
	struct scmp_arg_cmp conds[SC_MAX_CONDS];
	bool repeated = false;
	unsigned int seen = 0;
	size_t i, j;
	int nr, ret;

	for (i = 0; i < r->n_conds; i++) {
		conds[i] = (struct scmp_arg_cmp){ r->conds[i].index, r->conds[i].op,
						  r->conds[i].value, r->conds[i].value_two };
		repeated |= seen & (1U << r->conds[i].index);
		seen |= 1U << r->conds[i].index;
	}
	for (i = 0; r->names[i]; i++) {
		nr = seccomp_syscall_resolve_name(r->names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* newer than this libseccomp: as runc */
		if (!repeated) {
			ret = seccomp_rule_add_array(ctx, action, nr, r->n_conds, conds);
		} else {
			/* two conditions on one argument cannot be ANDed by
			 * libseccomp: one rule each (ORed), as runc does */
			for (j = 0, ret = 0; j < r->n_conds && !ret; j++)
				ret = seccomp_rule_add_array(ctx, action, nr, 1, &conds[j]);
		}
		if (ret < 0)
			return uc_error_errno(err, -ret, "seccomp: rule for %s", r->names[i]);
	}
	return 0;
}

static int build(const struct sc_profile *p, uint64_t caps, scmp_filter_ctx *out,
		 uc_error_t *err)
{
	uint32_t dflt = full_action(p->default_action, true, p->default_errno, 0);
	scmp_filter_ctx ctx;
	struct utsname u;
	struct sc_host h;
	size_t i;

	if (uc_seccomp_load(err) < 0)
		return -1;
	ctx = seccomp_init(dflt);
	if (!ctx)
		return uc_error(err, 0, "seccomp: cannot make a filter");
	host_of(&h, &u);
	/* a binary tree of syscall numbers: cheaper for the kernel to check
	 * at load (5.11+ runs the filter for every syscall to cache the
	 * always-allowed ones) and for every syscall the container makes */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
		uc_error(err, 0, "seccomp: libseccomp cannot optimize filters");
		goto fail;
	}
	if (add_arches(ctx, p, &h, err) < 0)
		goto fail;
	for (i = 0; i < p->n_rules; i++) {
		const struct sc_rule *r = &p->rules[i];
		uint32_t action = full_action(r->action, r->has_errno, r->errno_ret,
					      p->default_errno);

		if (!rule_applies(r, &h, caps) || action == dflt)
			continue;
		if (add_rule(ctx, r, action, err) < 0)
			goto fail;
	}
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

int sc_profile_check(const struct sc_profile *p, uc_error_t *err)
{
	scmp_filter_ctx ctx;

	/* every capability: the rules that need some are checked too */
	if (build(p, caps_all(), &ctx, err) < 0)
		return -1;
	seccomp_release(ctx);
	return 0;
}

/* ---- compiled filters, cached ------------------------------------------------ */

/*
 * Compiling Docker's profile for three architectures costs libseccomp ~8 ms
 * of CPU, a third of a container start; the result depends only on the
 * profile, the capabilities, the kernel and libseccomp.  So it is compiled
 * once and kept in the cache directory under the hash of all that; a file
 * that does not check out is compiled again.  Files are renamed into
 * place whole, and the kernel checks the program it loads: no checksum
 * (hashing it cost more than the rest of the lookup).
 *
 *   "unionctr-seccomp-2\n" KEY(64 hex) "\n" BPF
 */
#define SC_MAGIC "unionctr-seccomp-2\n"
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#define SC_HEADER_LEN (sizeof(SC_MAGIC) - 1 + 65)

static void hash_str(struct uc_sha256 *h, const char *s)
{
	sha256_update(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static void hash_strv(struct uc_sha256 *h, const char *const *v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		hash_str(h, v[i]);
	hash_str(h, v ? "\1end" : "\1none");
}

/* Everything the filter is made of. */
static void filter_key(const struct sc_profile *p, uint64_t caps, char key[65])
{
	/* libseccomp as built against: loading it to ask costs a start more
	 * than the rest of this (a filter cached by an older one is what that
	 * one made, and still a valid filter) */
	const unsigned int lib[] = { SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO };
	struct uc_sha256 *h = sha256_new();
	struct utsname u;
	struct sc_host host;
	size_t i;

	host_of(&host, &u);
	hash_str(h, SC_MAGIC);
	sha256_update(h, &caps, sizeof(caps));
	sha256_update(h, &host.kernel, sizeof(host.kernel));
	hash_str(h, host.machine);
	sha256_update(h, lib, sizeof(lib));
	if (p->id) {
		hash_str(h, p->id);
		sha256_final(h, key);
		return;
	}
	sha256_update(h, &p->default_action, sizeof(p->default_action));
	sha256_update(h, &p->default_errno, sizeof(p->default_errno));
	hash_strv(h, p->arches);
	for (i = 0; i < p->n_archmap; i++) {
		hash_str(h, p->archmap[i].arch);
		hash_strv(h, p->archmap[i].sub);
	}
	for (i = 0; i < p->n_rules; i++) {
		const struct sc_rule *r = &p->rules[i];
		size_t j;

		hash_strv(h, r->names);
		sha256_update(h, &r->action, sizeof(r->action));
		sha256_update(h, &r->has_errno, sizeof(r->has_errno));
		sha256_update(h, &r->errno_ret, sizeof(r->errno_ret));
		for (j = 0; j < r->n_conds; j++) {
			sha256_update(h, &r->conds[j].index, sizeof(r->conds[j].index));
			sha256_update(h, &r->conds[j].value, sizeof(r->conds[j].value));
			sha256_update(h, &r->conds[j].value_two, sizeof(r->conds[j].value_two));
			sha256_update(h, &r->conds[j].op, sizeof(r->conds[j].op));
		}
		hash_str(h, "\1conds");
		sha256_update(h, &r->caps_all_of, sizeof(r->caps_all_of));
		sha256_update(h, &r->caps_none_of, sizeof(r->caps_none_of));
		hash_strv(h, r->arches_in);
		hash_strv(h, r->arches_out);
		sha256_update(h, &r->min_kernel, sizeof(r->min_kernel));
	}
	sha256_final(h, key);
}

/* libseccomp 2.5 exports BPF to an fd only: a memfd, read back. */
static int compile(const struct sc_profile *p, uint64_t caps, char **bpf, size_t *len,
		   uc_error_t *err)
{
	scmp_filter_ctx ctx;
	char path[64];
	int fd, ret;

	if (build(p, caps, &ctx, err) < 0)
		return -1;
	fd = memfd_create("unionctr-seccomp", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)	/* before 6.3 */
		fd = memfd_create("unionctr-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		seccomp_release(ctx);
		return uc_error_errno(err, errno, "seccomp: memfd_create");
	}
	ret = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (ret < 0) {
		close(fd);
		return uc_error_errno(err, -ret, "seccomp: export the filter");
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = read_file(path, bpf, len, err);
	close(fd);
	if (ret == 0 && (*len == 0 || *len % sizeof(struct sock_filter) ||
			 *len / sizeof(struct sock_filter) > BPF_MAXINSNS)) {
		free(*bpf);
		return uc_error(err, 0, "seccomp: the filter has %zu bytes", *len);
	}
	return ret;
}

/* The BPF of a cache file, if it is one for key and intact. */
static bool cache_read(const char *path, const char key[65], char **bpf, size_t *len)
{
	char *buf = NULL;
	size_t n;

	if (read_file(path, &buf, &n, NULL) < 0)
		return false;
	if (n <= SC_HEADER_LEN || memcmp(buf, SC_MAGIC, sizeof(SC_MAGIC) - 1) ||
	    memcmp(buf + sizeof(SC_MAGIC) - 1, key, 64) || buf[SC_HEADER_LEN - 1] != '\n' ||
	    (n - SC_HEADER_LEN) % sizeof(struct sock_filter) ||
	    (n - SC_HEADER_LEN) / sizeof(struct sock_filter) > BPF_MAXINSNS)
		goto bad;
	*len = n - SC_HEADER_LEN;
	*bpf = xmalloc(*len);
	memcpy(*bpf, buf + SC_HEADER_LEN, *len);
	free(buf);
	return true;
bad:
	free(buf);
	return false;
}

static void cache_write(const char *dir, const char *path, const char key[65],
			const char *bpf, size_t len)
{
	size_t n = SC_HEADER_LEN + len;
	char *buf;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;		/* no cache: compiled again next time */
	buf = xmalloc(n);
	snprintf(buf, SC_HEADER_LEN + 1, "%s%s\n", SC_MAGIC, key);
	memcpy(buf + SC_HEADER_LEN, bpf, len);
	write_file_atomic(path, buf, n, 0600, false, NULL);
	free(buf);
}

int sc_filter_get(const struct sc_profile *p, uint64_t caps, const char *cache_dir,
		  struct sc_filter *out, uc_error_t *err)
{
	char key[65], *path;

	memset(out, 0, sizeof(*out));
	filter_key(p, caps, key);
	path = xasprintf("%s/%s.bpf", cache_dir, key);
	if (!cache_read(path, key, &out->bpf, &out->len)) {
		if (compile(p, caps, &out->bpf, &out->len, err) < 0) {
			free(path);
			return -1;
		}
		cache_write(cache_dir, path, key, out->bpf, out->len);
	}
	free(path);
	if (p->log)
		out->flags |= SECCOMP_FILTER_FLAG_LOG;
	if (p->spec_allow)
		out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	return 0;
}

int sc_filter_load(const struct sc_filter *f, uc_error_t *err)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(f->len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)f->bpf,
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog) < 0)
		return uc_error_errno(err, errno, "seccomp: load the filter");
	return 0;
}

void sc_filter_release(struct sc_filter *f)
{
	free(f->bpf);
	memset(f, 0, sizeof(*f));
}
