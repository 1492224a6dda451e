// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: per-mount counters in /sys/fs/unionfs/<id>/, for people who
 * need to explain a number (lookups per layer, readdir builds, copy-ups).
 * The directory of a mount is named in /proc/self/mountinfo? No: its id is
 * printed at mount (dmesg) and in /sys/fs/unionfs/<id>/layers.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/idr.h>
#include <linux/slab.h>
#include "unionfs.h"

static struct kset *unionfs_kset;
static DEFINE_IDA(unionfs_ida);

#define UFS_STAT_ATTR(field)						\
static ssize_t field##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj); \
	return sysfs_emit(buf, "%lld\n",				\
			  (long long)atomic64_read(&fs->stats.field));	\
}									\
static struct kobj_attribute field##_attr = __ATTR_RO(field)

UFS_STAT_ATTR(lookups);
UFS_STAT_ATTR(lookup_layers);
UFS_STAT_ATTR(readdir_builds);
UFS_STAT_ATTR(readdir_cache_hits);
UFS_STAT_ATTR(copy_ups);
UFS_STAT_ATTR(copy_up_bytes);
UFS_STAT_ATTR(whiteouts);

static ssize_t layers_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj);

	return sysfs_emit(buf, "%u\n", fs->nr_layers);
}
static struct kobj_attribute layers_attr = __ATTR_RO(layers);

static struct attribute *unionfs_stat_attrs[] = {
	&lookups_attr.attr,
	&lookup_layers_attr.attr,
	&readdir_builds_attr.attr,
	&readdir_cache_hits_attr.attr,
	&copy_ups_attr.attr,
	&copy_up_bytes_attr.attr,
	&whiteouts_attr.attr,
	&layers_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(unionfs_stat);

static void unionfs_kobj_release(struct kobject *kobj)
{
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj);

	ida_free(&unionfs_ida, fs->id);
	kfree(fs);
}

static const struct kobj_type unionfs_ktype = {
	.release	= unionfs_kobj_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= unionfs_stat_groups,
};

int ufs_sysfs_add(struct unionfs_fs *fs)
{
	int id, err;

	id = ida_alloc(&unionfs_ida, GFP_KERNEL);
	if (id < 0)
		return id;
	fs->kobj.kset = unionfs_kset;
	err = kobject_init_and_add(&fs->kobj, &unionfs_ktype, NULL, "%d", id);
	/* From here on the kobject owns @fs, even on failure. */
	fs->id = id;
	return err;
}

void ufs_sysfs_del(struct unionfs_fs *fs)
{
	kobject_del(&fs->kobj);
	kobject_put(&fs->kobj);
}

int ufs_sysfs_init(void)
{
	unionfs_kset = kset_create_and_add(UNIONFS_NAME, NULL, fs_kobj);
	return unionfs_kset ? 0 : -ENOMEM;
}

void ufs_sysfs_exit(void)
{
	kset_unregister(unionfs_kset);
}
