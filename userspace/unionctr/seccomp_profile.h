/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The container's seccomp filter, with Docker's semantics: by default
 * Docker's default profile (a syscall allowlist whose extra rules depend on
 * the container's capabilities, the architecture and the kernel), or a
 * profile in Docker's JSON format (--security-opt seccomp=FILE), or none
 * (seccomp=unconfined).  Both kinds of profile become the same rule list;
 * one builder turns it into a libseccomp filter.
 */
#ifndef UNIONCTR_SECCOMP_PROFILE_H
#define UNIONCTR_SECCOMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct sc_profile;

/* Docker's default profile (a static table: nothing to free). */
const struct sc_profile *sc_profile_default(void);
/* A profile in Docker's JSON format; NULL with err set when it is not one. */
struct sc_profile *sc_profile_parse(const char *json, uc_error_t *err);
void sc_profile_free(struct sc_profile *p);

/*
 * Check that every rule of the profile is one libseccomp takes (action,
 * operator, argument index, architecture), without loading anything.
 */
int sc_profile_check(const struct sc_profile *p, uc_error_t *err);
/* A compiled filter (BPF), and the seccomp() flags it is loaded with. */
struct sc_filter {
	char *bpf;
	size_t len;
	unsigned int flags;
};

/*
 * The filter of profile p for a process with capability set caps (it
 * selects the rules with "includes"/"excludes" caps): from cache_dir, or
 * compiled and kept there.
 */
int sc_filter_get(const struct sc_profile *p, uint64_t caps, const char *cache_dir,
		  struct sc_filter *out, uc_error_t *err);
/* Load f on this process.  Needs CAP_SYS_ADMIN or no_new_privs; does not
 * set no_new_privs. */
int sc_filter_load(const struct sc_filter *f, uc_error_t *err);
void sc_filter_release(struct sc_filter *f);

#endif
