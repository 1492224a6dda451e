/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule format of seccomp profiles (seccomp_profile.c): Docker's JSON fields,
 * decoded.  Shared by the built-in default profile and the JSON parser.
 */
#ifndef UNIONCTR_SECCOMP_RULES_H
#define UNIONCTR_SECCOMP_RULES_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_MAX_CONDS 6

struct sc_cond {
	unsigned int index;	/* syscall argument 0..5 */
	uint64_t value, value_two;
	enum scmp_compare op;
};

struct sc_rule {
	const char *const *names;	/* NULL-terminated */
	uint32_t action;		/* SCMP_ACT_*, SCMP_ACT_ERRNO(0)/TRACE(0) + errno_ret */
	bool has_errno;			/* errno_ret given, else the profile's */
	int errno_ret;
	struct sc_cond conds[SC_MAX_CONDS];
	size_t n_conds;
	/* includes/excludes: only when the container has all of caps_all_of
	 * and none of caps_none_of, the native architecture (Go names:
	 * amd64, arm64, ...) is in arches_in and not in arches_out, and the
	 * kernel is at least min_kernel (major << 16 | minor) */
	uint64_t caps_all_of, caps_none_of;
	const char *const *arches_in, *const *arches_out;
	unsigned int min_kernel;
};

/* Docker's archMap: the sub-architectures filtered with a native one. */
struct sc_archmap {
	const char *arch;		/* libseccomp name: x86_64 */
	const char *const *sub;		/* x86, x32 */
};

struct sc_profile {
	/* built in: a hash of its source, made at build time (the cache key
	 * then needs no hashing of the table at every start); NULL for a
	 * parsed profile, whose rules are hashed */
	const char *id;
	uint32_t default_action;	/* as sc_rule.action */
	int default_errno;
	const struct sc_rule *rules;
	size_t n_rules;
	/* the filter's architectures: the native one, then either these
	 * (a profile's "architectures") or the native one's archmap entry */
	const char *const *arches;
	const struct sc_archmap *archmap;
	size_t n_archmap;
	bool log;			/* SECCOMP_FILTER_FLAG_LOG */
	bool spec_allow;		/* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
	/* what a parsed profile owns (freed by sc_profile_free) */
	void *owned;
};

extern const struct sc_profile sc_default_profile;

#endif
