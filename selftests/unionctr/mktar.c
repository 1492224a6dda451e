// SPDX-License-Identifier: GPL-2.0
/*
 * mktar OUT.tar TYPE:PATH[:DATA]...: a tarball with exactly these entries,
 * unsafe ones included, for the end-to-end import tests.  TYPE is one of
 * tarmaker.h's (f file, d dir, l symlink, h hard link, c/b device with
 * DATA "MAJOR,MINOR", p fifo).  PATH "@LONG" is a name of NAME_MAX + 1
 * bytes.
 */
#include <limits.h>

#include "tarmaker.h"

int main(int argc, char **argv)
{
	struct ent *e = calloc(argc, sizeof(*e));
	char long_name[NAME_MAX + 2];
	int i;

	if (argc < 3 || !e) {
		fprintf(stderr, "usage: mktar OUT.tar TYPE:PATH[:DATA]...\n");
		return 2;
	}
	memset(long_name, 'n', NAME_MAX + 1);
	long_name[NAME_MAX + 1] = '\0';
	for (i = 2; i < argc; i++) {
		char *spec = argv[i], *path = strchr(spec, ':'), *data;

		if (!path || path != spec + 1) {
			fprintf(stderr, "mktar: bad entry `%s`\n", spec);
			return 2;
		}
		*path++ = '\0';
		data = strchr(path, ':');
		if (data)
			*data++ = '\0';
		e[i - 2] = (struct ent){ strcmp(path, "@LONG") ? path : long_name,
					 spec[0], data };
	}
	if (tar_write(argv[1], e, false) < 0) {
		fprintf(stderr, "mktar: cannot write `%s`\n", argv[1]);
		return 1;
	}
	free(e);
	return 0;
}
