// SPDX-License-Identifier: GPL-2.0
/*
 * ufs_fault: deliberately broken kernel code, loaded only by the test
 * harness's self-test (selftests/harness/check-harness) to prove that the
 * harness notices a WARN and a use-after-free.
 *
 * Trigger at load time:  insmod ufs_fault.ko trigger=warn|uaf
 * or later:              echo warn|uaf > /sys/kernel/debug/ufs_fault/trigger
 *
 * "warn" hits WARN_ON(1). "uaf" reads a kmalloc'ed object after kfree():
 * KASAN reports it on the debug kernel; elsewhere it goes unnoticed.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static char *trigger = "";
module_param(trigger, charp, 0444);
MODULE_PARM_DESC(trigger, "fault to cause at load time: warn or uaf");

static struct dentry *ufs_fault_dir;

static noinline void ufs_fault_warn(void)
{
	pr_info("ufs_fault: deliberate WARN_ON(1)\n");
	WARN_ON(1);
}

static noinline int ufs_fault_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);
	char v;

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 64);
	kfree(p);
	/* Hide the pointer's history from the compiler: it must really load. */
	OPTIMIZER_HIDE_VAR(p);
	v = READ_ONCE(p[8]);
	pr_info("ufs_fault: deliberate use-after-free read 0x%02x\n", (u8)v);
	return 0;
}

static int ufs_fault_fire(const char *what)
{
	if (sysfs_streq(what, "warn")) {
		ufs_fault_warn();
		return 0;
	}
	if (sysfs_streq(what, "uaf"))
		return ufs_fault_uaf();
	return -EINVAL;
}

static ssize_t ufs_fault_trigger_write(struct file *file, const char __user *ubuf,
				       size_t len, loff_t *ppos)
{
	char buf[16];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	ret = ufs_fault_fire(buf);
	return ret ? ret : len;
}

static const struct file_operations ufs_fault_trigger_fops = {
	.owner	= THIS_MODULE,
	.write	= ufs_fault_trigger_write,
	.llseek	= noop_llseek,
};

static int __init ufs_fault_init(void)
{
	int ret;

	ufs_fault_dir = debugfs_create_dir("ufs_fault", NULL);
	debugfs_create_file("trigger", 0200, ufs_fault_dir, NULL,
			    &ufs_fault_trigger_fops);
	if (*trigger) {
		ret = ufs_fault_fire(trigger);
		if (ret) {
			debugfs_remove_recursive(ufs_fault_dir);
			return ret;
		}
	}
	return 0;
}

static void __exit ufs_fault_exit(void)
{
	debugfs_remove_recursive(ufs_fault_dir);
}

module_init(ufs_fault_init);
module_exit(ufs_fault_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Deliberate faults for the unionfs test harness self-test");
