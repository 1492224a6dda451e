// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "security.h"
#include "ucjson.h"
#include "utils.h"

void security_free(struct uc_security *sec)
{
	strv_free(sec->cap_add);
	strv_free(sec->cap_drop);
	strv_free(sec->security_opt);
	memset(sec, 0, sizeof(*sec));
}

/* Go's strconv.ParseBool, which Docker uses for no-new-privileges=... */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -1;
}

/* "key=value" (or the old "key:value"); NULL key when neither. */
static void split_opt(const char *opt, char **key, const char **value)
{
	const char *sep = strchr(opt, '=');

	if (!sep)
		sep = strchr(opt, ':');
	*key = sep ? strndup(opt, (size_t)(sep - opt)) : NULL;
	*value = sep ? sep + 1 : NULL;
}

/* seccomp=FILE: the profile's JSON, compact, checked (the docker CLI
 * reads the file; the daemon decodes it). */
static int read_profile(const char *file, char **json, uc_error_t *err)
{
	struct json_object *o;
	struct sc_profile *p;
	char *text = NULL;
	int ret;

	if (read_file(file, &text, NULL, NULL) < 0)
		return uc_error_errno(err, errno, "opening seccomp profile (%s) failed", file);
	p = sc_profile_parse(text, err);
	free(text);
	if (!p)
		return uc_error_wrap(err, "decoding seccomp profile (%s) failed", file);
	ret = sc_profile_check(p, err);
	sc_profile_free(p);
	if (ret < 0)
		return uc_error_wrap(err, "seccomp profile (%s)", file);
	if (uc_json_load(file, &o, err) < 0)
		return -1;
	*json = xasprintf("seccomp=%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
									  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

/* One --security-opt, with the docker CLI's and daemon's rules. */
static int security_opt(struct uc_security *sec, const char *opt, uc_error_t *err)
{
	const char *value;
	char *key, *json = NULL;
	bool b;
	int ret = 0;

	if (!strcmp(opt, "no-new-privileges")) {
		strv_push(&sec->security_opt, opt);
		return 0;
	}
	split_opt(opt, &key, &value);
	if (!key)
		return uc_error(err, 0, "Invalid --security-opt: \"%s\"", opt);
	if (!strcmp(key, "seccomp") && strcmp(value, "unconfined")) {
		ret = read_profile(value, &json, err);
		if (ret == 0)
			strv_push(&sec->security_opt, json);
		free(json);
	} else if (!strcmp(key, "seccomp")) {
		strv_push(&sec->security_opt, "seccomp=unconfined");
	} else if (!strcmp(key, "no-new-privileges")) {
		if (parse_bool(value, &b) < 0)
			ret = uc_error(err, 0, "invalid --security-opt 2: \"%s\"", opt);
		else if (b)
			strv_push(&sec->security_opt, "no-new-privileges");
	} else if ((!strcmp(key, "label") && !strcmp(value, "disable")) ||
		   (!strcmp(key, "apparmor") && !strcmp(value, "unconfined"))) {
		strv_push(&sec->security_opt, opt);	/* no SELinux or AppArmor here */
	} else if (!strcmp(key, "label") || !strcmp(key, "apparmor")) {
		ret = uc_error(err, 0, "--security-opt %s: unionctr has no SELinux or AppArmor support",
			       opt);
	} else {
		ret = uc_error(err, 0, "invalid --security-opt 2: \"%s\"", opt);
	}
	free(key);
	return ret;
}

int security_from_cli(struct uc_security *sec, char *const *cap_add,
		      char *const *cap_drop, char *const *security_opts,
		      uc_error_t *err)
{
	size_t i;

	if (caps_normalize(cap_add, "CapAdd", &sec->cap_add, err) < 0 ||
	    caps_normalize(cap_drop, "CapDrop", &sec->cap_drop, err) < 0)
		return -1;
	for (i = 0; security_opts && security_opts[i]; i++)
		if (security_opt(sec, security_opts[i], err) < 0)
			return -1;
	if (sec->no_pivot && (strv_contains(sec->cap_add, "CAP_SYS_CHROOT") ||
			      strv_contains(sec->cap_add, "ALL")))
		return uc_error(err, 0,
				"--no-pivot and --cap-add %s: a container without pivot_root never gets CAP_SYS_CHROOT (chroot would lead out of it)",
				strv_contains(sec->cap_add, "ALL") ? "ALL" : "SYS_CHROOT");
	return 0;
}

void security_to_json(const struct uc_security *sec, struct json_object *hc)
{
	json_object_object_add(hc, "CapAdd", sec->cap_add ? uc_json_new_strv(sec->cap_add) : NULL);
	json_object_object_add(hc, "CapDrop", sec->cap_drop ? uc_json_new_strv(sec->cap_drop) : NULL);
	json_object_object_add(hc, "Privileged", json_object_new_boolean(sec->privileged));
	json_object_object_add(hc, "SecurityOpt",
			       sec->security_opt ? uc_json_new_strv(sec->security_opt) : NULL);
	json_object_object_add(hc, "NoPivotRoot", json_object_new_boolean(sec->no_pivot));
}

void security_from_json(struct uc_security *sec, struct uc_json_reader *r,
			struct json_object *hc)
{
	uc_error_t ignored = NULL;
	char **add = uc_json_strv(r, hc, "CapAdd"), **drop = uc_json_strv(r, hc, "CapDrop");

	/* names a hand-edited record cannot sneak past create's checks */
	if (caps_normalize(add, "CapAdd", &sec->cap_add, &ignored) < 0 ||
	    caps_normalize(drop, "CapDrop", &sec->cap_drop, &ignored) < 0)
		uc_error_release(&ignored);
	strv_free(add);
	strv_free(drop);
	sec->security_opt = uc_json_strv(r, hc, "SecurityOpt");
	sec->privileged = uc_json_bool(r, hc, "Privileged");
	sec->no_pivot = uc_json_bool(r, hc, "NoPivotRoot");
}

int security_runtime(const struct uc_security *sec, const char *cache_dir,
		     struct uc_sec_runtime *rt, uc_error_t *err)
{
	struct sc_profile *custom = NULL;
	size_t i;
	int ret;

	memset(rt, 0, sizeof(*rt));
	rt->caps = caps_compute(sec->cap_add, sec->cap_drop, sec->privileged);
	/* --no-pivot leaves the host's root under the container's: chroot
	 * would lead back to it (and seccomp then refuses chroot too) */
	if (sec->no_pivot)
		rt->caps &= ~(1ULL << CAP_SYS_CHROOT);
	if (rt->caps & ~caps_all()) {
		int cap = __builtin_ctzll(rt->caps & ~caps_all());

		return uc_error(err, 0, "the container is to have %s, which unionctr itself lacks",
				caps_name(cap));
	}
	rt->mask_paths = !sec->privileged;
	rt->seccomp = !sec->privileged;
	for (i = 0; sec->security_opt && sec->security_opt[i]; i++) {
		const char *o = sec->security_opt[i];

		if (!strcmp(o, "no-new-privileges")) {
			rt->no_new_privs = true;
		} else if (!strcmp(o, "seccomp=unconfined")) {
			rt->seccomp = false;
		} else if (str_has_prefix(o, "seccomp=")) {
			sc_profile_free(custom);
			custom = sc_profile_parse(o + strlen("seccomp="), err);
			if (!custom)
				return uc_error_wrap(err, "the container's seccomp profile");
		}
	}
	if (!rt->seccomp) {
		sc_profile_free(custom);
		return 0;
	}
	ret = sc_filter_get(custom ? custom : sc_profile_default(), rt->caps, cache_dir,
			    &rt->filter, err);
	sc_profile_free(custom);
	return ret;
}

void security_runtime_release(struct uc_sec_runtime *rt)
{
	sc_filter_release(&rt->filter);
}
