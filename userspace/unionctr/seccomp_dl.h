/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libseccomp, loaded on first use (as archive_dl.h does for libarchive): a
 * start with a cached filter (seccomp_profile.c) needs none of it, and
 * linking it would make every `unionctr` command load it.  Include this
 * instead of <seccomp.h> and call uc_seccomp_load() before any seccomp_*
 * call.
 */
#ifndef UNIONCTR_SECCOMP_DL_H
#define UNIONCTR_SECCOMP_DL_H

#include <seccomp.h>

#include "error.h"

#define UC_SECCOMP_FUNCS(X) \
	X(seccomp_init) X(seccomp_release) X(seccomp_attr_set) X(seccomp_arch_add) \
	X(seccomp_arch_resolve_name) X(seccomp_syscall_resolve_name) \
	X(seccomp_rule_add_array) X(seccomp_export_bpf)

struct uc_seccomp_api {
#define UC_SECCOMP_MEMBER(f) __typeof__(f) *f;
	UC_SECCOMP_FUNCS(UC_SECCOMP_MEMBER)
#undef UC_SECCOMP_MEMBER
};

extern struct uc_seccomp_api uc_seccomp;
int uc_seccomp_load(uc_error_t *err);

#ifndef UC_SECCOMP_DL_IMPL
#define seccomp_init uc_seccomp.seccomp_init
#define seccomp_release uc_seccomp.seccomp_release
#define seccomp_attr_set uc_seccomp.seccomp_attr_set
#define seccomp_arch_add uc_seccomp.seccomp_arch_add
#define seccomp_arch_resolve_name uc_seccomp.seccomp_arch_resolve_name
#define seccomp_syscall_resolve_name uc_seccomp.seccomp_syscall_resolve_name
#define seccomp_rule_add_array uc_seccomp.seccomp_rule_add_array
#define seccomp_export_bpf uc_seccomp.seccomp_export_bpf
#endif

#endif
