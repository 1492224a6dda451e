// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF LSM program of the lsm test: refuses the copy-up and create-as hooks
 * (security_inode_copy_up(), security_dentry_create_files_as()) to one
 * process, the test's, while @refuse is set, and counts how often it
 * refused; counts the chattr/lsattr ioctls that process is asked about;
 * refuses that process's rename once @renames_allowed more have passed.
 * No vmlinux.h: no struct is read, so opaque struct pointers do.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/fs.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

struct dentry;
struct cred;
struct qstr;
struct file;
struct inode;

const volatile __u32 target_tgid;	/* set by the loader */
__u32 refuse;				/* set by the test */
__u64 copy_up_denied;
__u64 create_as_denied;
__u64 setflags_asked;			/* FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR */
/*
 * Renames (security_inode_rename(): the union's, then the layers' the
 * union makes, an exchange twice) that pass before one is refused; -1:
 * all pass. The refusal sets it back to -1.
 */
__s32 renames_allowed = -1;
__u64 rename_denied;

static __always_inline int is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid && refuse;
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

SEC("lsm/file_ioctl")
int BPF_PROG(count_setflags, struct file *file, unsigned int cmd,
	     unsigned long arg, int ret)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid &&
	    (cmd == FS_IOC_SETFLAGS || cmd == FS_IOC_FSSETXATTR))
		__sync_fetch_and_add(&setflags_asked, 1);
	return ret;
}

SEC("lsm/inode_rename")
int BPF_PROG(deny_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret || (bpf_get_current_pid_tgid() >> 32) != target_tgid ||
	    renames_allowed < 0)
		return ret;
	if (renames_allowed > 0) {
		renames_allowed--;
		return ret;
	}
	renames_allowed = -1;
	__sync_fetch_and_add(&rename_denied, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
