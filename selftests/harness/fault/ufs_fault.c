// SPDX-License-Identifier: GPL-2.0
/*
 * ufs_fault: deliberately broken kernel code, loaded only by the test
 * harness's self-test (selftests/harness/check-harness) to prove that the
 * harness notices each kind of kernel bug it claims to.
 *
 * Trigger at load time:  insmod ufs_fault.ko trigger=NAME
 * or later:              echo NAME > /sys/kernel/debug/ufs_fault/trigger
 *
 *   warn        WARN_ON(1).
 *   warn_later  WARN_ON(1) from delayed work, 1 s later (after the writer
 *               is gone: as deferred work or a lazy unmount would).
 *   uaf         reads a kmalloc'ed object after kfree(): KASAN reports it.
 *   kfence      allocates until KFENCE samples an object, then reads it
 *               after kfree(): KFENCE reports it. -ENODEV without KFENCE.
 *   leak        kmallocs 4 objects and drops the pointers: kmemleak reports
 *               them, with this module in the allocation backtrace.
 *   ubsan       shifts an int by 40: UBSAN reports shift-out-of-bounds.
 *   spam        prints 4000 lines (~400 KiB) at KERN_INFO, as a chatty
 *               suite does: more than a default 128 KiB log buffer holds.
 *   trace       dump_stack(): a report that leaves no taint behind, as
 *               lockdep's and the hung task detector's do.
 *   lockdep     takes two mutexes in one order, then in the other: lockdep
 *               reports a possible circular locking dependency.
 * Without the matching checker (KASAN, KFENCE, kmemleak, UBSAN), uaf,
 * kfence, leak and ubsan go unnoticed.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kfence.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

static char *trigger = "";
module_param(trigger, charp, 0444);
MODULE_PARM_DESC(trigger, "fault to cause at load time (see the source)");

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

static void ufs_fault_late_warn(struct work_struct *work)
{
	pr_info("ufs_fault: deliberate WARN_ON(1) from delayed work\n");
	WARN_ON(1);
}

/* Flushed (not cancelled) at unload: the WARN fires whatever happens. */
static DECLARE_DELAYED_WORK(ufs_fault_late_work, ufs_fault_late_warn);

static noinline int ufs_fault_kfence_uaf(void)
{
	unsigned long deadline = jiffies + 30 * HZ;
	char *p;
	char v;

	if (!IS_ENABLED(CONFIG_KFENCE))
		return -ENODEV;
	/* KFENCE takes one allocation per sample interval (100 ms). */
	do {
		p = kmalloc(48, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p))
			break;
		kfree(p);
		p = NULL;
		usleep_range(500, 1000);
	} while (time_before(jiffies, deadline));
	if (!p)
		return -EAGAIN;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	v = READ_ONCE(p[8]);
	pr_info("ufs_fault: deliberate use-after-free of a KFENCE object read 0x%02x\n", (u8)v);
	return 0;
}

static noinline int ufs_fault_leak(void)
{
	void *p;
	int i;

	for (i = 0; i < 4; i++) {
		p = kmalloc(200, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x6b, 200);
		/* Forget it: nothing points at it any more. */
		OPTIMIZER_HIDE_VAR(p);
	}
	pr_info("ufs_fault: deliberately leaked 4 objects of 200 bytes\n");
	return 0;
}

static int ufs_fault_shift = 40;

static noinline int ufs_fault_ubsan(void)
{
	int shift = READ_ONCE(ufs_fault_shift);
	int v = 1 << shift;

	pr_info("ufs_fault: deliberate shift out of bounds gave %d\n", v);
	return 0;
}

static void ufs_fault_spam(void)
{
	int i;

	for (i = 0; i < 4000; i++) {
		pr_info("ufs_fault: filler line %4d of 4000, as a chatty suite writes, xxxxxxxxxxxxxxxxxxxxxxxx\n",
			i);
		if (i % 100 == 0)
			cond_resched();
	}
}

static DEFINE_MUTEX(ufs_fault_lock_a);
static DEFINE_MUTEX(ufs_fault_lock_b);

static noinline void ufs_fault_lock_inversion(void)
{
	mutex_lock(&ufs_fault_lock_a);
	mutex_lock(&ufs_fault_lock_b);
	mutex_unlock(&ufs_fault_lock_b);
	mutex_unlock(&ufs_fault_lock_a);
	/* The other order: no deadlock here, but lockdep sees the cycle. */
	mutex_lock(&ufs_fault_lock_b);
	mutex_lock(&ufs_fault_lock_a);
	mutex_unlock(&ufs_fault_lock_a);
	mutex_unlock(&ufs_fault_lock_b);
}

static int ufs_fault_fire(const char *what)
{
	if (sysfs_streq(what, "warn")) {
		ufs_fault_warn();
		return 0;
	}
	if (sysfs_streq(what, "warn_later")) {
		schedule_delayed_work(&ufs_fault_late_work, HZ);
		return 0;
	}
	if (sysfs_streq(what, "uaf"))
		return ufs_fault_uaf();
	if (sysfs_streq(what, "kfence"))
		return ufs_fault_kfence_uaf();
	if (sysfs_streq(what, "leak"))
		return ufs_fault_leak();
	if (sysfs_streq(what, "ubsan"))
		return ufs_fault_ubsan();
	if (sysfs_streq(what, "trace")) {
		pr_info("ufs_fault: deliberate stack dump (leaves no taint)\n");
		dump_stack();
		return 0;
	}
	if (sysfs_streq(what, "lockdep")) {
		ufs_fault_lock_inversion();
		return 0;
	}
	if (sysfs_streq(what, "spam")) {
		ufs_fault_spam();
		return 0;
	}
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
	flush_delayed_work(&ufs_fault_late_work);
}

module_init(ufs_fault_init);
module_exit(ufs_fault_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Deliberate faults for the unionfs test harness self-test");
