// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"
#include "user.h"
#include "utils.h"

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && *out < 0xffffffffUL;
}

/* Field f (0-based) of a colon-separated line, copied into buf. */
static bool field(const char *line, int f, char *buf, size_t size)
{
	const char *p = line, *e;
	size_t n;

	while (f-- > 0) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	e = strpbrk(p, ":\n");
	n = e ? (size_t)(e - p) : strlen(p);
	if (n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* Find the line whose field key_f equals key; NULL if none. */
static const char *find_line(const char *text, int key_f, const char *key)
{
	const char *line = text;
	char buf[256];

	while (line && *line) {
		if (field(line, key_f, buf, sizeof(buf)) && !strcmp(buf, key))
			return line;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

static bool member_of(const char *line, const char *name)
{
	char members[4096], *tok, *save = NULL;

	if (!field(line, 3, members, sizeof(members)))
		return false;
	for (tok = strtok_r(members, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

int user_resolve(const char *spec, const char *passwd, const char *group,
		 struct uc_user *u, uc_error_t *err)
{
	char *user = xstrdup(spec), *grp = strchr(user, ':'), name[256] = "";
	const char *line = NULL;
	unsigned long id;
	char buf[256];
	int ret = -1;

	memset(u, 0, sizeof(*u));
	if (grp)
		*grp++ = '\0';
	if (parse_id(user, &id)) {
		u->uid = id;
		u->gid = 0;
		snprintf(buf, sizeof(buf), "%lu", id);
		line = passwd ? find_line(passwd, 2, buf) : NULL;
	} else {
		line = passwd ? find_line(passwd, 0, user) : NULL;
		if (!line) {
			uc_error(err, 0, "unable to find user %s: no matching entries in passwd file",
				 user);
			goto out;
		}
	}
	if (line) {
		if (!field(line, 0, name, sizeof(name)) || !field(line, 2, buf, sizeof(buf)) ||
		    !parse_id(buf, &id)) {
			uc_error(err, 0, "bad passwd entry for user %s", user);
			goto out;
		}
		u->uid = id;
		if (field(line, 3, buf, sizeof(buf)) && parse_id(buf, &id))
			u->gid = id;
		field(line, 5, u->home, sizeof(u->home));
	}
	if (grp && *grp) {
		if (parse_id(grp, &id)) {
			u->gid = id;
		} else {
			const char *g = group ? find_line(group, 0, grp) : NULL;

			if (!g || !field(g, 2, buf, sizeof(buf)) || !parse_id(buf, &id)) {
				uc_error(err, 0, "unable to find group %s: no matching entries in group file",
					 grp);
				goto out;
			}
			u->gid = id;
		}
	}
	/* Supplementary groups: every group that lists the user. */
	if (*name && group) {
		const char *g = group;

		while (g && *g && u->n_groups < UC_MAX_GROUPS) {
			if (member_of(g, name) && field(g, 2, buf, sizeof(buf)) &&
			    parse_id(buf, &id))
				u->groups[u->n_groups++] = id;
			g = strchr(g, '\n');
			if (g)
				g++;
		}
	}
	ret = 0;
out:
	free(user);
	return ret;
}

/* A regular file of the container, or NULL. */
static char *read_etc(int rootfd, const char *path)
{
	int fd = safe_open(rootfd, path, O_RDONLY | O_NONBLOCK, NULL);
	struct stat st;
	char *buf = NULL;
	char p[64];

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (1 << 22)) {
		fd_path(fd, p);
		if (read_file(p, &buf, NULL, NULL) < 0)
			buf = NULL;
	}
	close(fd);
	return buf;
}

int user_switch(const char *spec, struct uc_user *u, uc_error_t *err)
{
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *passwd, *group;
	int ret;

	if (rootfd < 0)
		return uc_error_errno(err, errno, "open /");
	passwd = read_etc(rootfd, "/etc/passwd");
	group = read_etc(rootfd, "/etc/group");
	close(rootfd);
	ret = user_resolve(spec, passwd, group, u, err);
	free(passwd);
	free(group);
	if (ret < 0)
		return -1;
	if (setgroups(u->n_groups, u->groups) < 0)
		return uc_error_errno(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return uc_error_errno(err, errno, "setgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return uc_error_errno(err, errno, "setuid %u", u->uid);
	return 0;
}
