// SPDX-License-Identifier: GPL-2.0
#define UC_ARCHIVE_DL_IMPL
#include <dlfcn.h>
#include <stddef.h>

#include "archive_dl.h"

struct uc_archive_api uc_archive;

int uc_archive_load(uc_error_t *err)
{
	static const char *const names[] = { "libarchive.so.13", "libarchive.so" };
	static void *handle;
	size_t i;

	if (handle)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !handle; i++)
		handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return uc_error(err, 0, "cannot load libarchive: %s", dlerror());
#define UC_ARCHIVE_LOAD(f)						\
	uc_archive.f = (__typeof__(f) *)dlsym(handle, #f);		\
	if (!uc_archive.f) {						\
		handle = NULL;						\
		return uc_error(err, 0, "libarchive lacks %s", #f);	\
	}
	UC_ARCHIVE_FUNCS(UC_ARCHIVE_LOAD)
#undef UC_ARCHIVE_LOAD
	return 0;
}
