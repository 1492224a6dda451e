/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarchive, loaded on first use.  It pulls in a dozen libraries (xml2,
 * ICU, the compressors...) whose loading would otherwise be paid by every
 * `unionctr run`; only import needs it.  Include this instead of
 * <archive.h> and call uc_archive_load() before any archive_* call.
 */
#ifndef UNIONCTR_ARCHIVE_DL_H
#define UNIONCTR_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "error.h"

#define UC_ARCHIVE_FUNCS(X) \
	X(archive_read_new) X(archive_read_support_filter_all) \
	X(archive_read_support_format_tar) X(archive_read_support_format_gnutar) \
	X(archive_read_support_format_cpio) X(archive_read_open_filename) \
	X(archive_error_string) X(archive_read_free) X(archive_read_next_header) \
	X(archive_read_data_block) X(archive_entry_pathname) \
	X(archive_entry_hardlink) X(archive_entry_set_pathname) \
	X(archive_entry_set_hardlink) X(archive_entry_size) \
	X(archive_entry_filetype) X(archive_entry_rdevmajor) X(archive_entry_rdevminor) \
	X(archive_entry_perm) X(archive_entry_uid) X(archive_entry_gid) \
	X(archive_write_disk_new) X(archive_write_disk_set_options) \
	X(archive_write_header) X(archive_write_data_block) \
	X(archive_write_finish_entry) X(archive_write_close) X(archive_write_free)

struct uc_archive_api {
#define UC_ARCHIVE_MEMBER(f) __typeof__(f) *f;
	UC_ARCHIVE_FUNCS(UC_ARCHIVE_MEMBER)
#undef UC_ARCHIVE_MEMBER
};

extern struct uc_archive_api uc_archive;
int uc_archive_load(uc_error_t *err);

#ifndef UC_ARCHIVE_DL_IMPL
#define archive_read_new uc_archive.archive_read_new
#define archive_read_support_filter_all uc_archive.archive_read_support_filter_all
#define archive_read_support_format_tar uc_archive.archive_read_support_format_tar
#define archive_read_support_format_gnutar uc_archive.archive_read_support_format_gnutar
#define archive_read_support_format_cpio uc_archive.archive_read_support_format_cpio
#define archive_read_open_filename uc_archive.archive_read_open_filename
#define archive_error_string uc_archive.archive_error_string
#define archive_read_free uc_archive.archive_read_free
#define archive_read_next_header uc_archive.archive_read_next_header
#define archive_read_data_block uc_archive.archive_read_data_block
#define archive_entry_pathname uc_archive.archive_entry_pathname
#define archive_entry_hardlink uc_archive.archive_entry_hardlink
#define archive_entry_set_pathname uc_archive.archive_entry_set_pathname
#define archive_entry_set_hardlink uc_archive.archive_entry_set_hardlink
#define archive_entry_size uc_archive.archive_entry_size
#define archive_entry_filetype uc_archive.archive_entry_filetype
#define archive_entry_rdevmajor uc_archive.archive_entry_rdevmajor
#define archive_entry_rdevminor uc_archive.archive_entry_rdevminor
#define archive_entry_perm uc_archive.archive_entry_perm
#define archive_entry_uid uc_archive.archive_entry_uid
#define archive_entry_gid uc_archive.archive_entry_gid
#define archive_write_disk_new uc_archive.archive_write_disk_new
#define archive_write_disk_set_options uc_archive.archive_write_disk_set_options
#define archive_write_header uc_archive.archive_write_header
#define archive_write_data_block uc_archive.archive_write_data_block
#define archive_write_finish_entry uc_archive.archive_write_finish_entry
#define archive_write_close uc_archive.archive_write_close
#define archive_write_free uc_archive.archive_write_free
#endif

#endif
