// SPDX-License-Identifier: GPL-2.0
#define UC_SECCOMP_DL_IMPL
#include <dlfcn.h>
#include <stddef.h>

#include "seccomp_dl.h"

struct uc_seccomp_api uc_seccomp;

int uc_seccomp_load(uc_error_t *err)
{
	static const char *const names[] = { "libseccomp.so.2", "libseccomp.so" };
	static void *handle;
	size_t i;

	if (handle)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !handle; i++)
		handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return uc_error(err, 0, "cannot load libseccomp: %s", dlerror());
#define UC_SECCOMP_LOAD(f)						\
	uc_seccomp.f = (__typeof__(f) *)dlsym(handle, #f);		\
	if (!uc_seccomp.f) {						\
		handle = NULL;						\
		return uc_error(err, 0, "libseccomp lacks %s", #f);	\
	}
	UC_SECCOMP_FUNCS(UC_SECCOMP_LOAD)
#undef UC_SECCOMP_LOAD
	return 0;
}
