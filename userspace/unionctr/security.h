/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A container's security options, as Docker keeps them in HostConfig
 * (CapAdd, CapDrop, Privileged, SecurityOpt), and what they mean for a
 * start: the capability set, no_new_privs, the seccomp filter, Docker's
 * masked paths.
 */
#ifndef UNIONCTR_SECURITY_H
#define UNIONCTR_SECURITY_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"
#include "seccomp_profile.h"

struct uc_security {
	char **cap_add, **cap_drop;	/* "CAP_NET_ADMIN" or "ALL" */
	/* Docker's SecurityOpt: "no-new-privileges", "seccomp=unconfined",
	 * "seccomp=" + a profile's JSON (the file is read at create, as the
	 * docker CLI does), "label=disable", "apparmor=unconfined" */
	char **security_opt;
	bool privileged;
	bool no_pivot;			/* --no-pivot: MS_MOVE + chroot */
};

/* --cap-add, --cap-drop, --security-opt as given: checked, normalized,
 * seccomp=FILE read; into sec (privileged and no_pivot are left alone). */
int security_from_cli(struct uc_security *sec, char *const *cap_add,
		      char *const *cap_drop, char *const *security_opt,
		      uc_error_t *err);
void security_to_json(const struct uc_security *sec, struct json_object *host_config);
struct uc_json_reader;
/* Members of the wrong type are reported through r (ucjson.h). */
void security_from_json(struct uc_security *sec, struct uc_json_reader *r,
			struct json_object *host_config);
void security_free(struct uc_security *sec);

/* What a start does with them. */
struct uc_sec_runtime {
	uint64_t caps;			/* bounding, effective, permitted */
	bool no_new_privs;
	bool mask_paths;		/* Docker's masked and read-only paths */
	bool seccomp;			/* else unconfined */
	struct sc_filter filter;
};

/* Resolve sec for a start; the compiled filter comes from cache_dir. */
int security_runtime(const struct uc_security *sec, const char *cache_dir,
		     struct uc_sec_runtime *rt, uc_error_t *err);
void security_runtime_release(struct uc_sec_runtime *rt);

#endif
