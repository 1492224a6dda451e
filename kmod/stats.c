// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: per-mount counters in /sys/fs/unionfs/<id>/, for people who
 * need to explain a number (lookups and the layer lookups they cost,
 * readdir builds and cache hits, copy-ups). A directory is matched to its
 * mount by the "dev" attribute: the union's st_dev as "MAJOR:MINOR", which
 * anyone who can stat the mount sees anyway.
 *
 * No layer paths: sysfs is the same in every mount and user namespace, so
 * they would show the host's paths of every union to every user and
 * container. /proc/self/mountinfo shows them to whoever can see the mount.
 *
 * Lifetime: the kobject holds @fs. ufs_sysfs_del() runs before anything
 * the attributes read is torn down: it removes the directory and waits for
 * the readers in it (kernfs drains them); ufs_sysfs_put() frees @fs last.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/idr.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include "unionfs.h"

static struct kset *unionfs_kset;
static DEFINE_IDA(unionfs_ida);

struct ufs_stat_attr {
	struct kobj_attribute attr;
	size_t offset;		/* of the atomic64_t in struct unionfs_stats */
};

static ssize_t ufs_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj);
	struct ufs_stat_attr *sa = container_of(attr, struct ufs_stat_attr, attr);
	atomic64_t *counter = (void *)&fs->stats + sa->offset;

	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(counter));
}

static struct ufs_stat_attr ufs_stat_attrs[] = {
	{ __ATTR(lookups, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, lookups) },
	{ __ATTR(lookup_layers, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, lookup_layers) },
	{ __ATTR(readdir_builds, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, readdir_builds) },
	{ __ATTR(readdir_cache_hits, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, readdir_cache_hits) },
	{ __ATTR(readdir_cache_bytes, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, readdir_cache_bytes) },
	{ __ATTR(readdir_cache_evictions, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, readdir_cache_evictions) },
	{ __ATTR(readdir_cache_stale, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, readdir_cache_stale) },
	{ __ATTR(index_hits, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, index_hits) },
	{ __ATTR(index_negatives, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, index_negatives) },
	{ __ATTR(index_builds, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, index_builds) },
	{ __ATTR(copy_ups, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, copy_ups) },
	{ __ATTR(copy_up_bytes, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, copy_up_bytes) },
	{ __ATTR(metacopy_ups, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, metacopy_ups) },
	{ __ATTR(metacopy_bytes, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, metacopy_bytes) },
	{ __ATTR(data_completions, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, data_completions) },
	{ __ATTR(chunks_copied, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, chunks_copied) },
	{ __ATTR(whiteouts, 0444, ufs_stat_show, NULL),
	  offsetof(struct unionfs_stats, whiteouts) },
};

static ssize_t layers_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj);

	return sysfs_emit(buf, "%u\n", fs->nr_layers);
}

static ssize_t dev_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj);

	return sysfs_emit(buf, "%u:%u\n", MAJOR(fs->dev), MINOR(fs->dev));
}

static struct kobj_attribute layers_attr = __ATTR_RO(layers);
static struct kobj_attribute dev_attr = __ATTR_RO(dev);

static struct attribute *unionfs_attrs[ARRAY_SIZE(ufs_stat_attrs) + 3];

static const struct attribute_group unionfs_group = {
	.attrs = unionfs_attrs,
};

static const struct attribute_group *unionfs_groups[] = {
	&unionfs_group,
	NULL,
};

static void unionfs_kobj_release(struct kobject *kobj)
{
	struct unionfs_fs *fs = container_of(kobj, struct unionfs_fs, kobj);

	ida_free(&unionfs_ida, fs->id);
	kfree(fs);
}

static const struct kobj_type unionfs_ktype = {
	.release	= unionfs_kobj_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= unionfs_groups,
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

/* Remove /sys/fs/unionfs/<id>; no attribute is read once it returns. */
void ufs_sysfs_del(struct unionfs_fs *fs)
{
	kobject_del(&fs->kobj);
}

/* Drop the kobject's reference: frees @fs. */
void ufs_sysfs_put(struct unionfs_fs *fs)
{
	kobject_put(&fs->kobj);
}

int ufs_sysfs_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ufs_stat_attrs); i++)
		unionfs_attrs[i] = &ufs_stat_attrs[i].attr.attr;
	unionfs_attrs[i++] = &layers_attr.attr;
	unionfs_attrs[i++] = &dev_attr.attr;
	unionfs_attrs[i] = NULL;

	unionfs_kset = kset_create_and_add(UNIONFS_NAME, NULL, fs_kobj);
	return unionfs_kset ? 0 : -ENOMEM;
}

void ufs_sysfs_exit(void)
{
	kset_unregister(unionfs_kset);
}
