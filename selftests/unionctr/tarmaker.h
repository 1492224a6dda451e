/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tarballs with whatever entries a test wants, unsafe ones included (names
 * with "..", absolute names, links leaving the layer, device nodes), written
 * with libarchive.  Used by layer_test and by the mktar helper of the
 * end-to-end tests.
 */
#ifndef UNIONCTR_TARMAKER_H
#define UNIONCTR_TARMAKER_H

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ent {
	const char *path;
	/* f file, d dir, l symlink, h hard link, c/b char/block device
	 * ("MAJOR,MINOR" in data), p fifo */
	char type;
	const char *data;	/* content, link target or device numbers */
};

/* Write the entries to path (gzip-compressed if gzip); 0 or -1. */
static inline int tar_write(const char *path, const struct ent *e, bool gzip)
{
	struct archive *a = archive_write_new();
	int ret = 0;
	size_t i;

	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return -1;
	}
	for (i = 0; e[i].path; i++) {
		struct archive_entry *ae = archive_entry_new();
		unsigned int maj = 0, min = 0;

		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, 1000000000, 0);
		switch (e[i].type) {
		case 'd':	/* data: an octal mode, else 0755 */
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].data ? strtoul(e[i].data, NULL, 8) : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			break;
		case 'c':
		case 'b':
			archive_entry_set_filetype(ae, e[i].type == 'c' ? AE_IFCHR : AE_IFBLK);
			archive_entry_set_perm(ae, 0666);
			if (e[i].data && sscanf(e[i].data, "%u,%u", &maj, &min) != 2)
				ret = -1;
			archive_entry_set_rdevmajor(ae, maj);
			archive_entry_set_rdevminor(ae, min);
			break;
		case 'p':
			archive_entry_set_filetype(ae, AE_IFIFO);
			archive_entry_set_perm(ae, 0644);
			break;
		default:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0640);
			archive_entry_set_uid(ae, 1234);
			archive_entry_set_gid(ae, 5678);
			archive_entry_set_size(ae, strlen(e[i].data ? e[i].data : ""));
		}
		if (archive_write_header(a, ae) != ARCHIVE_OK)
			ret = -1;
		if (e[i].type == 'f' && e[i].data)
			archive_write_data(a, e[i].data, strlen(e[i].data));
		archive_entry_free(ae);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		ret = -1;
	archive_write_free(a);
	return ret;
}

#endif
