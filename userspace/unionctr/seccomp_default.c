// SPDX-License-Identifier: GPL-2.0
/*
 * Docker's default seccomp profile (moby profiles/seccomp/default.json) as
 * a table of the rule format seccomp_profile.c builds filters from.  Everything not
 * allowed here fails with EPERM: keyctl, add_key, request_key, the mount
 * and namespace calls without CAP_SYS_ADMIN, clone with namespace flags,
 * ptrace and process_vm_* on kernels before 4.8, personality but the five
 * harmless values, AF_VSOCK sockets, kernel modules, reboot, ...
 */
#include <linux/capability.h>
#include <seccomp.h>
#include <stdbool.h>

#include "seccomp_rules.h"

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ARCHES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CAP(c) (1ULL << (c))
#define KV(maj, min) (((maj) << 16) | (min))
/* clone flags of new namespaces: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|
 * NEWUSER|NEWPID|NEWNET */
#define CLONE_NS_FLAGS 0x7E020000ULL

static const struct sc_rule rules[] = {
	{ .action = SCMP_ACT_ALLOW, .names = NAMES(
		"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
		"capget", "capset", "chdir", "chmod", "chown", "chown32",
		"clock_adjtime", "clock_adjtime64", "clock_getres",
		"clock_getres_time64", "clock_gettime", "clock_gettime64",
		"clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
		"connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
		"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
		"epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
		"eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
		"faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
		"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
		"fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
		"flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
		"fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
		"ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat",
		"getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
		"geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
		"getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
		"getpid", "getppid", "getpriority", "getrandom", "getresgid",
		"getresgid32", "getresuid", "getresuid32", "getrlimit",
		"get_robust_list", "getrusage", "getsid", "getsockname",
		"getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
		"getuid32", "getxattr", "inotify_add_watch", "inotify_init",
		"inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
		"io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
		"ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter",
		"io_uring_register", "io_uring_setup", "ipc", "kill",
		"landlock_add_rule", "landlock_create_ruleset",
		"landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
		"linkat", "listen", "listxattr", "llistxattr", "_llseek",
		"lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
		"membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
		"mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
		"mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
		"mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
		"mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget",
		"msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
		"name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
		"openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal",
		"pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
		"ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
		"prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
		"pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
		"readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
		"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
		"rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
		"rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
		"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
		"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
		"sched_getattr", "sched_getparam", "sched_get_priority_max",
		"sched_get_priority_min", "sched_getscheduler",
		"sched_rr_get_interval", "sched_rr_get_interval_time64",
		"sched_setaffinity", "sched_setattr", "sched_setparam",
		"sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
		"semget", "semop", "semtimedop", "semtimedop_time64", "send",
		"sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
		"setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
		"setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
		"setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
		"setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
		"set_robust_list", "setsid", "setsockopt", "set_thread_area",
		"set_tid_address", "setuid", "setuid32", "setxattr", "shmat",
		"shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
		"signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
		"splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
		"symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee",
		"tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
		"timer_gettime", "timer_gettime64", "timer_settime",
		"timer_settime64", "timerfd_create", "timerfd_gettime",
		"timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
		"tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
		"unlink", "unlinkat", "utime", "utimensat", "utimensat_time64",
		"utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
		"writev") },
	/* ptrace could bypass seccomp before 4.8 */
	{ .action = SCMP_ACT_ALLOW, .min_kernel = KV(4, 8),
	  .names = NAMES("process_vm_readv", "process_vm_writev", "ptrace") },
	/* no AF_VSOCK: it reaches the host */
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("socket"),
	  .n_conds = 1, .conds = { { 0, 40, 0, SCMP_CMP_NE } } },
	/* personality: query, PER_LINUX, UNAME26, PER_LINUX32 (+UNAME26) */
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("personality"),
	  .n_conds = 1, .conds = { { 0, 0x0, 0, SCMP_CMP_EQ } } },
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("personality"),
	  .n_conds = 1, .conds = { { 0, 0x8, 0, SCMP_CMP_EQ } } },
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("personality"),
	  .n_conds = 1, .conds = { { 0, 0x20000, 0, SCMP_CMP_EQ } } },
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("personality"),
	  .n_conds = 1, .conds = { { 0, 0x20008, 0, SCMP_CMP_EQ } } },
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("personality"),
	  .n_conds = 1, .conds = { { 0, 0xffffffff, 0, SCMP_CMP_EQ } } },
	{ .action = SCMP_ACT_ALLOW, .arches_in = ARCHES("ppc64le"),
	  .names = NAMES("sync_file_range2", "swapcontext") },
	{ .action = SCMP_ACT_ALLOW, .arches_in = ARCHES("arm", "arm64"),
	  .names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
			 "breakpoint", "cacheflush", "set_tls") },
	{ .action = SCMP_ACT_ALLOW, .arches_in = ARCHES("amd64", "x32"),
	  .names = NAMES("arch_prctl") },
	{ .action = SCMP_ACT_ALLOW, .arches_in = ARCHES("amd64", "x32", "x86"),
	  .names = NAMES("modify_ldt") },
	{ .action = SCMP_ACT_ALLOW, .arches_in = ARCHES("s390", "s390x"),
	  .names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr") },
	{ .action = SCMP_ACT_ALLOW, .arches_in = ARCHES("riscv64"),
	  .names = NAMES("riscv_flush_icache") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_DAC_READ_SEARCH),
	  .names = NAMES("open_by_handle_at") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_ADMIN),
	  .names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig",
			 "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
			 "mount_setattr", "move_mount", "open_tree", "perf_event_open",
			 "quotactl", "quotactl_fd", "setdomainname", "sethostname",
			 "setns", "syslog", "umount", "umount2", "unshare") },
	/* without CAP_SYS_ADMIN, clone without namespace flags only */
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("clone"),
	  .caps_none_of = CAP(CAP_SYS_ADMIN), .arches_out = ARCHES("s390", "s390x"),
	  .n_conds = 1, .conds = { { 0, CLONE_NS_FLAGS, 0, SCMP_CMP_MASKED_EQ } } },
	{ .action = SCMP_ACT_ALLOW, .names = NAMES("clone"),
	  .caps_none_of = CAP(CAP_SYS_ADMIN), .arches_in = ARCHES("s390", "s390x"),
	  .n_conds = 1, .conds = { { 1, CLONE_NS_FLAGS, 0, SCMP_CMP_MASKED_EQ } } },
	/* clone3's flags are in memory, out of seccomp's reach: ENOSYS makes
	 * the C library fall back to clone */
	{ .action = SCMP_ACT_ERRNO(0), .has_errno = true, .errno_ret = 38,
	  .names = NAMES("clone3"),
	  .caps_none_of = CAP(CAP_SYS_ADMIN) },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_BOOT),
	  .names = NAMES("reboot") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_CHROOT),
	  .names = NAMES("chroot") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_MODULE),
	  .names = NAMES("delete_module", "init_module", "finit_module") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_PACCT),
	  .names = NAMES("acct") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_PTRACE),
	  .names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
			 "process_vm_writev", "ptrace") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_RAWIO),
	  .names = NAMES("iopl", "ioperm") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_TIME),
	  .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_TTY_CONFIG),
	  .names = NAMES("vhangup") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYS_NICE),
	  .names = NAMES("get_mempolicy", "mbind", "set_mempolicy",
			 "set_mempolicy_home_node") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_SYSLOG),
	  .names = NAMES("syslog") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_BPF),
	  .names = NAMES("bpf") },
	{ .action = SCMP_ACT_ALLOW, .caps_all_of = CAP(CAP_PERFMON),
	  .names = NAMES("perf_event_open") },
};

/* The sub-architectures Docker's archMap adds to each native one. */
static const struct sc_archmap archmap[] = {
	{ "x86_64", ARCHES("x86", "x32") },
	{ "aarch64", ARCHES("arm") },
	{ "mips64", ARCHES("mips", "mips64n32") },
	{ "mips64n32", ARCHES("mips", "mips64") },
	{ "mipsel64", ARCHES("mipsel", "mipsel64n32") },
	{ "mipsel64n32", ARCHES("mipsel", "mipsel64") },
	{ "s390x", ARCHES("s390") },
};

const struct sc_profile sc_default_profile = {
	.id = "default " SC_DEFAULT_ID,		/* Makefile: sha256 of this file */
	.default_action = SCMP_ACT_ERRNO(0),
	.default_errno = 1,	/* EPERM */
	.rules = rules,
	.n_rules = sizeof(rules) / sizeof(rules[0]),
	.archmap = archmap,
	.n_archmap = sizeof(archmap) / sizeof(archmap[0]),
};
