// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "utils.h"

/* Indexed by number: the kernel's names without "CAP_". */
static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

static const int default_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD,
	CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
	CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

int caps_from_name(const char *name)
{
	int i;

	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return i;
	return -1;
}

const char *caps_name(int cap)
{
	static char buf[64];

	if (cap < 0 || cap >= N_CAPS)
		return NULL;
	snprintf(buf, sizeof(buf), "CAP_%s", cap_names[cap]);
	return buf;
}

/* The launcher's permitted set: a container cannot get more than it has. */
static uint64_t own_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	return (uint64_t)data[1].permitted << 32 | data[0].permitted;
}

uint64_t caps_kernel(void)
{
	static int last = -1;
	char *s = NULL;

	if (last < 0) {
		last = N_CAPS - 1;
		if (read_file("/proc/sys/kernel/cap_last_cap", &s, NULL, NULL) == 0) {
			int k = atoi(s);

			if (k > 0 && k < last)
				last = k;
		}
		free(s);
	}
	return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

uint64_t caps_all(void)
{
	return caps_kernel() & own_caps();
}

uint64_t caps_default(void)
{
	uint64_t set = 0;
	size_t i;

	for (i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
		set |= 1ULL << default_caps[i];
	return set;
}

int caps_normalize(char *const *names, const char *what, char ***out,
		   uc_error_t *err)
{
	size_t i;

	*out = NULL;
	for (i = 0; names && names[i]; i++) {
		int cap;

		if (!strcasecmp(names[i], "ALL")) {
			strv_push(out, "ALL");
			continue;
		}
		cap = caps_from_name(names[i]);
		if (cap < 0 || !(caps_kernel() & (1ULL << cap))) {
			char *up = xasprintf("%s%s", strncasecmp(names[i], "CAP_", 4) ? "CAP_" : "",
					     names[i]), *p;

			for (p = up; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			uc_error(err, 0, "invalid %s: unknown capability: \"%s\"", what, up);
			free(up);
			strv_free(*out);
			*out = NULL;
			return -1;
		}
		strv_push(out, caps_name(cap));
	}
	return 0;
}

static uint64_t caps_mask(char *const *names)
{
	uint64_t set = 0;
	size_t i;

	for (i = 0; names && names[i]; i++) {
		int cap = caps_from_name(names[i]);

		if (cap >= 0)
			set |= 1ULL << cap;
	}
	return set;
}

uint64_t caps_compute(char *const *add, char *const *drop, bool privileged)
{
	if (privileged)
		return caps_all();
	if (strv_contains(add, "ALL"))
		return caps_all() & ~caps_mask(drop);
	if (strv_contains(drop, "ALL"))
		return caps_mask(add);
	return (caps_default() & ~caps_mask(drop)) | caps_mask(add);
}
