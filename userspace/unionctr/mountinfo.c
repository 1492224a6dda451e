// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mountinfo.h"
#include "utils.h"

/* The kernel writes ' ', '\t', '\n' and '\\' in paths as \ooo. */
static char *decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
static int parse_line(const char *line, struct uc_mountinfo_entry *e)
{
	const char *f[6], *p = line, *dash;
	size_t i;

	for (i = 0; i < 6; i++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		f[i] = p;
		p = strchr(p, ' ');
		if (!p)
			return -1;
	}
	dash = strstr(p, " - ");
	if (!dash || sscanf(f[0], "%d %d", &e->id, &e->parent) != 2)
		return -1;
	e->mountpoint = decode(f[4], (size_t)(strchr(f[4], ' ') - f[4]));
	/* optional fields: between the options (field 6) and " - " */
	for (; p < dash; p++) {
		if (!strncmp(p, " shared:", 8))
			e->shared = true;
		else if (!strncmp(p, " master:", 8))
			e->slave = true;
	}
	return 0;
}

int mountinfo_read(struct uc_mountinfo *mi, uc_error_t *err)
{
	char *buf, *line, *next;

	memset(mi, 0, sizeof(*mi));
	if (read_file("/proc/self/mountinfo", &buf, NULL, err) < 0)
		return -1;
	for (line = buf; line && *line; line = next) {
		struct uc_mountinfo_entry e = { 0 };

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (parse_line(line, &e) < 0) {
			uc_error(err, 0, "cannot parse /proc/self/mountinfo: `%s`", line);
			free(buf);
			mountinfo_free(mi);
			return -1;
		}
		mi->v = xrealloc(mi->v, (mi->n + 1) * sizeof(*mi->v));
		mi->v[mi->n++] = e;
	}
	free(buf);
	return 0;
}

void mountinfo_free(struct uc_mountinfo *mi)
{
	size_t i;

	for (i = 0; i < mi->n; i++)
		free(mi->v[i].mountpoint);
	free(mi->v);
	memset(mi, 0, sizeof(*mi));
}

const struct uc_mountinfo_entry *mountinfo_of_path(const struct uc_mountinfo *mi,
						   const char *path, uc_error_t *err)
{
	struct statx stx;
	size_t i;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0) {
		uc_error_errno(err, errno, "stat `%s`", path);
		return NULL;
	}
	if (!(stx.stx_mask & STATX_MNT_ID)) {
		uc_error(err, 0, "the kernel gives no mount id for `%s`", path);
		return NULL;
	}
	for (i = 0; i < mi->n; i++)
		if ((uint64_t)mi->v[i].id == stx.stx_mnt_id)
			return &mi->v[i];
	uc_error(err, 0, "`%s` is on no mount of /proc/self/mountinfo", path);
	return NULL;
}
