// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF LSM program of the lsm test: refuses the copy-up and create-as hooks
 * (security_inode_copy_up(), security_dentry_create_files_as()) to one
 * process, the test's, and counts how often it refused. No vmlinux.h: the
 * hooks' arguments are never read, so opaque struct pointers do.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

struct dentry;
struct cred;
struct qstr;

const volatile __u32 target_tgid;	/* set by the loader */
__u64 copy_up_denied;
__u64 create_as_denied;

static __always_inline int is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("lsm/inode_copy_up")
int BPF_PROG(deny_copy_up, struct dentry *src, struct cred **new, int ret)
{
	if (ret || !is_target())
		return ret;
	__sync_fetch_and_add(&copy_up_denied, 1);
	return -EPERM;
}

SEC("lsm/dentry_create_files_as")
int BPF_PROG(deny_create_as, struct dentry *dentry, int mode, struct qstr *name,
	     const struct cred *old, struct cred *new, int ret)
{
	if (ret || !is_target())
		return ret;
	__sync_fetch_and_add(&create_as_denied, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
