// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: module init, mount options (fs_context), superblock setup.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/xattr.h>
#include <linux/log2.h>
#include <linux/magic.h>
#include "unionfs.h"

struct kmem_cache *unionfs_inode_cachep;

/* Mount options as given, before any path is resolved. */
struct unionfs_config {
	char **lowers;
	unsigned int nr_lowers;
	unsigned int cap_lowers;
	char *upperdir;
	char *workdir;
	bool is_volatile;
	bool aufs_whiteouts;
	bool default_permissions;
	int redirect_dir;	/* UFS_REDIRECT_*; UFS_REDIRECT_NONE: not given */
	int xino;		/* UFS_XINO_*; UFS_XINO_NONE: not given */
	int metacopy;		/* -1: not given */
	int chunk_shift;	/* -1: not given; 0: whole-file copy-up */
	int lookup_index;	/* -1: not given */
};

/*
 * Report a mount error to the fsconfig log and, when that log has a reader
 * (new mount API), to the kernel log too: errorfc() alone prints only for
 * legacy mount(2). Returns -EINVAL.
 */
static __printf(2, 3) int ufs_invalfc(struct fs_context *fc,
				      const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	errorfc(fc, "%pV", &vaf);
	if (fc->log.log)
		pr_err_ratelimited(UNIONFS_NAME ": %pV\n", &vaf);
	va_end(args);
	return -EINVAL;
}

enum unionfs_param {
	UFS_OPT_LOWERDIR,
	UFS_OPT_LOWERDIR_ADD,
	UFS_OPT_UPPERDIR,
	UFS_OPT_WORKDIR,
	UFS_OPT_VOLATILE,
	UFS_OPT_METACOPY,
	UFS_OPT_CHUNK,
	UFS_OPT_LOOKUP_INDEX,
	UFS_OPT_AUFS_WHITEOUTS,
	UFS_OPT_DEFAULT_PERMISSIONS,
	UFS_OPT_REDIRECT_DIR,
	UFS_OPT_XINO,
};

/*
 * overlayfs's redirect_dir values. unionfs always records a renamed lower
 * directory with a redirect and always follows redirects: that is "on";
 * "follow" (follow, never record) is the same where nothing is renamed,
 * in a union without an upper layer. "off" and "nofollow" it cannot do.
 */
enum {
	UFS_REDIRECT_NONE,
	UFS_REDIRECT_ON,
	UFS_REDIRECT_FOLLOW,
	UFS_REDIRECT_OFF,
	UFS_REDIRECT_NOFOLLOW,
};

static const struct constant_table ufs_redirect_dir[] = {
	{ "on",		UFS_REDIRECT_ON },
	{ "follow",	UFS_REDIRECT_FOLLOW },
	{ "off",	UFS_REDIRECT_OFF },
	{ "nofollow",	UFS_REDIRECT_NOFOLLOW },
	{}
};

/*
 * overlayfs's xino values. unionfs always gives every object the union's
 * st_dev and an st_ino unique across layers on different filesystems
 * (ufs_ino()): that is "on" (and "auto", which is "on" wherever it can
 * be); "off" it cannot do.
 */
enum {
	UFS_XINO_NONE,
	UFS_XINO_ON,
	UFS_XINO_AUTO,
	UFS_XINO_OFF,
};

static const struct constant_table ufs_xino[] = {
	{ "on",		UFS_XINO_ON },
	{ "auto",	UFS_XINO_AUTO },
	{ "off",	UFS_XINO_OFF },
	{}
};

static const struct constant_table ufs_on_off[] = {
	{ "off", false },
	{ "on", true },
	{}
};

static const struct fs_parameter_spec unionfs_param_spec[] = {
	__fsparam(fs_param_is_string, "lowerdir", UFS_OPT_LOWERDIR,
		  fs_param_can_be_empty, NULL),
	__fsparam(fs_param_is_string, "lowerdir+", UFS_OPT_LOWERDIR_ADD,
		  fs_param_can_be_empty, NULL),
	__fsparam(fs_param_is_string, "upperdir", UFS_OPT_UPPERDIR,
		  fs_param_can_be_empty, NULL),
	__fsparam(fs_param_is_string, "workdir", UFS_OPT_WORKDIR,
		  fs_param_can_be_empty, NULL),
	fsparam_flag("volatile", UFS_OPT_VOLATILE),
	fsparam_enum("metacopy", UFS_OPT_METACOPY, ufs_on_off),
	fsparam_string("chunk", UFS_OPT_CHUNK),
	fsparam_enum("lookup_index", UFS_OPT_LOOKUP_INDEX, ufs_on_off),
	fsparam_flag("aufs_whiteouts", UFS_OPT_AUFS_WHITEOUTS),
	fsparam_flag("default_permissions", UFS_OPT_DEFAULT_PERMISSIONS),
	fsparam_enum("redirect_dir", UFS_OPT_REDIRECT_DIR, ufs_redirect_dir),
	fsparam_enum("xino", UFS_OPT_XINO, ufs_xino),
	{}
};

static void ufs_config_clear_lowers(struct unionfs_config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_lowers; i++)
		kfree(cfg->lowers[i]);
	kvfree(cfg->lowers);
	cfg->lowers = NULL;
	cfg->nr_lowers = 0;
	cfg->cap_lowers = 0;
}

static int ufs_config_add_lower(struct fs_context *fc, char *path)
{
	struct unionfs_config *cfg = fc->fs_private;

	if (cfg->nr_lowers >= UNIONFS_MAX_LAYERS) {
		kfree(path);
		return ufs_invalfc(fc, "too many lower layers (max %u)",
				   UNIONFS_MAX_LAYERS);
	}
	if (cfg->nr_lowers == cfg->cap_lowers) {
		unsigned int cap = max(16U, cfg->cap_lowers * 2);
		char **n = kvmalloc_array(cap, sizeof(*n), GFP_KERNEL);

		if (!n) {
			kfree(path);
			return -ENOMEM;
		}
		if (cfg->nr_lowers)
			memcpy(n, cfg->lowers, cfg->nr_lowers * sizeof(*n));
		kvfree(cfg->lowers);
		cfg->lowers = n;
		cfg->cap_lowers = cap;
	}
	cfg->lowers[cfg->nr_lowers++] = path;
	return 0;
}

/*
 * Split "a:b\:c:d" into layers; a backslash makes the next character
 * literal, so "\:" is a colon inside a path and "\\" a backslash.
 */
static int ufs_parse_lowerdir(struct fs_context *fc, const char *s)
{
	size_t len = strlen(s);
	char *buf, *out;
	int err;

	if (!len)
		return ufs_invalfc(fc, "lowerdir: empty list of layers");

	while (true) {
		buf = kmalloc(len + 1, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		out = buf;
		while (*s && *s != ':') {
			if (*s == '\\' && s[1])
				s++;
			*out++ = *s++;
		}
		*out = '\0';
		if (out == buf) {
			kfree(buf);
			return ufs_invalfc(fc, "lowerdir: empty layer path in list");
		}
		err = ufs_config_add_lower(fc, buf);
		if (err)
			return err;
		if (!*s)
			return 0;
		s++;
		if (!*s)
			return ufs_invalfc(fc, "lowerdir: empty layer path in list");
	}
}

/* chunk=SIZE: 0, or a power of two from 4k to 64m (k and m suffixes). */
static int ufs_parse_chunk(struct fs_context *fc, const char *str)
{
	struct unionfs_config *cfg = fc->fs_private;
	char *end;
	unsigned long long size = memparse(str, &end);

	if (end == str || *end)
		goto bad;
	if (!size) {
		cfg->chunk_shift = 0;
		return 0;
	}
	if (!is_power_of_2(size) || size < (1ULL << UFS_CHUNK_MIN_SHIFT) ||
	    size > (1ULL << UFS_CHUNK_MAX_SHIFT))
		goto bad;
	cfg->chunk_shift = ilog2(size);
	return 0;
bad:
	return ufs_invalfc(fc, "chunk: '%s' is not 0 or a power of two from 4k to 64m", str);
}

static int unionfs_parse_param(struct fs_context *fc,
			       struct fs_parameter *param)
{
	struct unionfs_config *cfg = fc->fs_private;
	struct fs_parse_result result;
	int opt, err;

	opt = fs_parse(fc, unionfs_param_spec, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case UFS_OPT_LOWERDIR:
		ufs_config_clear_lowers(cfg);
		return ufs_parse_lowerdir(fc, param->string);
	case UFS_OPT_LOWERDIR_ADD:
		if (!*param->string)
			return ufs_invalfc(fc, "lowerdir+: empty layer path");
		/* One layer per call: the path is taken as it is. */
		err = ufs_config_add_lower(fc, param->string);
		param->string = NULL;
		return err;
	case UFS_OPT_UPPERDIR:
		if (!*param->string)
			return ufs_invalfc(fc, "upperdir: empty path");
		kfree(cfg->upperdir);
		cfg->upperdir = param->string;
		param->string = NULL;
		return 0;
	case UFS_OPT_WORKDIR:
		if (!*param->string)
			return ufs_invalfc(fc, "workdir: empty path");
		kfree(cfg->workdir);
		cfg->workdir = param->string;
		param->string = NULL;
		return 0;
	case UFS_OPT_VOLATILE:
		cfg->is_volatile = true;
		return 0;
	case UFS_OPT_METACOPY:
		cfg->metacopy = result.uint_32;
		return 0;
	case UFS_OPT_CHUNK:
		return ufs_parse_chunk(fc, param->string);
	case UFS_OPT_LOOKUP_INDEX:
		cfg->lookup_index = result.uint_32;
		return 0;
	case UFS_OPT_AUFS_WHITEOUTS:
		cfg->aufs_whiteouts = true;
		return 0;
	case UFS_OPT_DEFAULT_PERMISSIONS:
		/*
		 * As in overlayfs (6.1, 6.12), where it changes nothing: the
		 * caller is checked on the union inode and the mounter on the
		 * real one, with or without it (unionfs_permission()).
		 */
		cfg->default_permissions = true;
		return 0;
	case UFS_OPT_REDIRECT_DIR:
		if (result.uint_32 == UFS_REDIRECT_OFF ||
		    result.uint_32 == UFS_REDIRECT_NOFOLLOW)
			return ufs_invalfc(fc,
				"redirect_dir=%s: unionfs always follows and makes redirects (=on)",
				param->string);
		cfg->redirect_dir = result.uint_32;
		return 0;
	case UFS_OPT_XINO:
		if (result.uint_32 == UFS_XINO_OFF)
			return ufs_invalfc(fc,
				"xino=off: unionfs always makes st_ino unique across layers (=on)");
		cfg->xino = result.uint_32;
		return 0;
	}
	return -EINVAL;
}

static void ufs_free_layers(struct unionfs_fs *fs)
{
	struct vfsmount **mnts;
	unsigned int i;

	if (!fs->layers)
		return;
	/* One RCU grace period for all layers, not one per layer. */
	mnts = kvcalloc(fs->nr_layers, sizeof(*mnts), GFP_KERNEL | __GFP_NOFAIL);
	for (i = 0; i < fs->nr_layers; i++) {
		mnts[i] = fs->layers[i].mnt;
		kfree(fs->layers[i].name);
	}
	kern_unmount_array(mnts, fs->nr_layers);
	kvfree(mnts);
	kvfree(fs->layers);
	fs->layers = NULL;
}

/*
 * An upper or work directory serves one mount at a time: a mount empties
 * workdir/staging, where another mount's copy-ups may be in flight, and
 * two mounts writing one upper would each trust caches the other makes
 * stale. The mark is the inode flag overlayfs keeps for the same purpose,
 * I_OVL_INUSE, changed under i_lock like every i_state bit: a directory
 * an overlay mount holds is refused too (and overlayfs sees ours). It is
 * dropped at unmount and on every failed mount (ufs_free_fs()).
 */
/*
 * The layer filesystems the lookup index trusts (see unionfs_fs): local
 * ones whose directory inode changes with every change made to it.
 * NFS, CIFS, FUSE, 9p (stamps move when asked), overlayfs and unions
 * (stamps not their layers') are not here.
 */
static bool ufs_index_trusts_fs(unsigned long magic)
{
	switch (magic) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

static bool ufs_inuse_trylock(struct dentry *dir)
{
	struct inode *inode = d_inode(dir);
	bool taken;

	spin_lock(&inode->i_lock);
	taken = !(inode->i_state & I_OVL_INUSE);
	if (taken)
		inode->i_state |= I_OVL_INUSE;
	spin_unlock(&inode->i_lock);
	return taken;
}

static void ufs_inuse_unlock(struct dentry *dir)
{
	struct inode *inode = d_inode(dir);

	spin_lock(&inode->i_lock);
	inode->i_state &= ~I_OVL_INUSE;
	spin_unlock(&inode->i_lock);
}

static int ufs_take_upper_and_workdir(struct fs_context *fc,
				      struct unionfs_fs *fs)
{
	fs->upper_locked = ufs_inuse_trylock(fs->layers[0].mnt->mnt_root);
	if (!fs->upper_locked) {
		ufs_invalfc(fc, "upperdir \"%s\" is in use by another mount",
			    fs->layers[0].name);
		return -EBUSY;
	}
	fs->work_locked = ufs_inuse_trylock(fs->workdir.dentry);
	if (!fs->work_locked) {
		ufs_invalfc(fc, "workdir \"%s\" is in use by another mount",
			    fs->workdir_name);
		return -EBUSY;
	}
	return 0;
}

static void ufs_release_upper_and_workdir(struct unionfs_fs *fs)
{
	if (fs->work_locked)
		ufs_inuse_unlock(fs->workdir.dentry);
	if (fs->upper_locked)
		ufs_inuse_unlock(fs->layers[0].mnt->mnt_root);
	fs->work_locked = false;
	fs->upper_locked = false;
}

static void ufs_free_fs(struct unionfs_fs *fs)
{
	/* No sysfs reader may find what is freed below. */
	if (fs->id >= 0)
		ufs_sysfs_del(fs);
	ufs_release_upper_and_workdir(fs);
	dput(fs->staging);
	path_put(&fs->workdir);
	kfree(fs->workdir_name);
	ufs_free_layers(fs);
	if (fs->creator_cred)
		put_cred(fs->creator_cred);
	if (fs->id >= 0)
		ufs_sysfs_put(fs);	/* frees @fs through the kobject */
	else
		kfree(fs);
}

static int ufs_resolve_dir(struct fs_context *fc, const char *role,
			   const char *name, struct path *path)
{
	int err = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);

	if (err == -ENOTDIR)
		return ufs_invalfc(fc, "%s \"%s\": not a directory", role, name);
	if (err)
		return ufs_invalfc(fc, "%s \"%s\": cannot resolve (%d)",
				   role, name, err);
	/*
	 * Owners seen through an idmapped mount may have no mapping: copy-up
	 * could not keep them. Not supported rather than half right.
	 */
	if (is_idmapped_mnt(path->mnt)) {
		path_put(path);
		return ufs_invalfc(fc, "%s \"%s\": idmapped mounts are not supported as layers",
				   role, name);
	}
	return 0;
}

/* True when @a is @b or lies below it (same filesystem only). */
static bool ufs_path_within(const struct path *a, const struct path *b)
{
	return a->dentry->d_sb == b->dentry->d_sb &&
	       is_subdir(a->dentry, b->dentry);
}

static const char *ufs_cfg_layer_name(struct unionfs_config *cfg,
				      bool has_upper, unsigned int i)
{
	if (has_upper)
		return i ? cfg->lowers[i - 1] : cfg->upperdir;
	return cfg->lowers[i];
}

static int ufs_check_layout(struct fs_context *fc, struct unionfs_config *cfg,
			    struct path *paths, unsigned int nr,
			    bool has_upper, struct path *workpath)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		for (j = 0; j < i; j++) {
			if (paths[i].dentry == paths[j].dentry)
				return ufs_invalfc(fc,
					"the same directory is used twice as a layer (\"%s\")",
					ufs_cfg_layer_name(cfg, has_upper, i));
		}
	}
	if (!has_upper)
		return 0;

	for (i = 1; i < nr; i++) {
		if (ufs_path_within(&paths[0], &paths[i]))
			return ufs_invalfc(fc, "upperdir is inside lowerdir \"%s\"",
					   cfg->lowers[i - 1]);
		if (ufs_path_within(&paths[i], &paths[0]))
			return ufs_invalfc(fc, "lowerdir \"%s\" is inside upperdir",
					   cfg->lowers[i - 1]);
		if (ufs_path_within(workpath, &paths[i]))
			return ufs_invalfc(fc, "workdir is inside lowerdir \"%s\"",
					   cfg->lowers[i - 1]);
	}
	if (workpath->mnt != paths[0].mnt)
		return ufs_invalfc(fc, "workdir must be on the same mount as upperdir");
	if (ufs_path_within(workpath, &paths[0]))
		return ufs_invalfc(fc, "workdir must not be inside upperdir");
	if (ufs_path_within(&paths[0], workpath))
		return ufs_invalfc(fc, "upperdir must not be inside workdir");
	if (__mnt_is_readonly(paths[0].mnt))
		return ufs_invalfc(fc, "upperdir is on a read-only mount");
	return 0;
}

/*
 * Give each distinct filesystem among the layers an index; inode numbers
 * carry it in their high bits so (st_dev, st_ino) stays unique.
 */
static void ufs_assign_fsidx(struct unionfs_fs *fs)
{
	unsigned int i, j;

	fs->nr_fs = 0;
	for (i = 0; i < fs->nr_layers; i++) {
		struct super_block *sb = fs->layers[i].mnt->mnt_sb;

		for (j = 0; j < i; j++) {
			if (fs->layers[j].mnt->mnt_sb == sb)
				break;
		}
		fs->layers[i].fsidx = j < i ? fs->layers[j].fsidx : fs->nr_fs++;
	}
	fs->xino_bits = fs->nr_fs > 1 ? ilog2(fs->nr_fs - 1) + 1 : 0;
}

/*
 * A volatile mount never syncs the upper layer, so after a crash its
 * content is undefined. It leaves workdir/volatile behind; any later mount
 * of that upper refuses while the marker is there: the user must start
 * with a fresh upper and workdir (or remove the marker, at their risk).
 */
static int ufs_volatile_marker(struct fs_context *fc, struct unionfs_fs *fs)
{
	struct dentry *work = fs->workdir.dentry;
	struct dentry *marker;
	int err = 0;

	inode_lock_nested(d_inode(work), I_MUTEX_PARENT);
	marker = lookup_one_len(UNIONFS_WORK_VOLATILE, work,
				strlen(UNIONFS_WORK_VOLATILE));
	if (IS_ERR(marker)) {
		err = PTR_ERR(marker);
	} else {
		if (d_is_positive(marker))
			err = -EEXIST;
		else if (fs->is_volatile)
			err = vfs_mkdir(ufs_mnt_idmap(fs->workdir.mnt),
					d_inode(work), marker, 0700);
		dput(marker);
	}
	inode_unlock(d_inode(work));
	if (err == -EEXIST)
		return ufs_invalfc(fc, "workdir/%s exists: upper may be inconsistent",
				   UNIONFS_WORK_VOLATILE);
	if (err)
		return ufs_invalfc(fc, "workdir: cannot create volatile marker (%d)", err);
	return 0;
}

struct ufs_names_ctx {
	struct dir_context ctx;
	struct list_head names;
	int err;
};

static bool ufs_collect_name(struct dir_context *ctx, const char *name,
			     int len, loff_t offset, u64 ino, unsigned int type)
{
	struct ufs_names_ctx *nc = container_of(ctx, struct ufs_names_ctx, ctx);
	struct ufs_dirname *n;

	if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
		return true;
	n = kmalloc(struct_size(n, name, len + 1), GFP_KERNEL);
	if (!n) {
		nc->err = -ENOMEM;
		return false;
	}
	n->len = len;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	list_add_tail(&n->next, &nc->names);
	return true;
}

/*
 * Empty @dir of what a copy-up or whiteout exchange interrupted by a crash
 * left behind: files, and directories that hold at most one level of
 * leftovers (an exchanged-out directory only ever holds whiteouts).
 */
static void ufs_clean_dir(struct path *dir, bool recurse)
{
	struct ufs_names_ctx nc = { .ctx.actor = ufs_collect_name };
	UFS_IDMAP_T *idmap = ufs_mnt_idmap(dir->mnt);
	struct inode *dinode = d_inode(dir->dentry);
	struct ufs_dirname *n;
	struct file *file;

	INIT_LIST_HEAD(&nc.names);
	file = dentry_open(dir, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(file))
		return;
	iterate_dir(file, &nc.ctx);
	fput(file);

	list_for_each_entry(n, &nc.names, next) {
		struct path child = { .mnt = dir->mnt };

		inode_lock_nested(dinode, I_MUTEX_PARENT);
		child.dentry = lookup_one_len(n->name, dir->dentry, n->len);
		if (IS_ERR(child.dentry)) {
			inode_unlock(dinode);
			continue;
		}
		if (d_is_dir(child.dentry) && recurse) {
			inode_unlock(dinode);
			ufs_clean_dir(&child, false);
			inode_lock_nested(dinode, I_MUTEX_PARENT);
		}
		if (d_is_dir(child.dentry))
			vfs_rmdir(idmap, dinode, child.dentry);
		else if (d_is_positive(child.dentry))
			vfs_unlink(idmap, dinode, child.dentry, NULL);
		inode_unlock(dinode);
		dput(child.dentry);
	}
	ufs_free_names(&nc.names);
}

struct ufs_dtype_ctx {
	struct dir_context ctx;
	bool has_dtype;
};

static bool ufs_dtype_actor(struct dir_context *ctx, const char *name,
			    int len, loff_t offset, u64 ino, unsigned int type)
{
	struct ufs_dtype_ctx *dc = container_of(ctx, struct ufs_dtype_ctx, ctx);

	if (type != DT_UNKNOWN)
		dc->has_dtype = true;
	return !dc->has_dtype;
}

/* Merged readdir needs d_type to spot whiteouts without a lookup each. */
static int ufs_check_dtype(struct fs_context *fc, struct unionfs_fs *fs)
{
	struct ufs_dtype_ctx dc = { .ctx.actor = ufs_dtype_actor };
	struct file *dir;
	int err;

	dir = dentry_open(&fs->workdir, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(dir))
		return ufs_invalfc(fc, "workdir: cannot open (%ld)", PTR_ERR(dir));
	err = iterate_dir(dir, &dc.ctx);
	fput(dir);
	if (err)
		return ufs_invalfc(fc, "workdir: cannot read (%d)", err);
	if (!dc.has_dtype)
		return ufs_invalfc(fc, "upper filesystem does not report d_type");
	return 0;
}

/*
 * Copy-ups are made in workdir/staging, and a new object there inherits
 * staging's default ACL, which staging inherits from a workdir that has
 * one: the copy would then carry ACL entries (and a mode cut by their mask)
 * that the lower object never had. Staging holds no ACL of its own.
 */
static int ufs_staging_drop_acls(struct fs_context *fc, struct unionfs_fs *fs)
{
	static const int types[] = { ACL_TYPE_DEFAULT, ACL_TYPE_ACCESS };
	int i, err;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		err = ufs_layer_remove_acl(fs->workdir.mnt, fs->staging,
					   types[i]);
		if (err && err != -ENODATA && err != -EOPNOTSUPP)
			return ufs_invalfc(fc, "workdir: cannot remove the ACLs of \"%s\" (%d)",
					   UNIONFS_WORK_STAGING, err);
	}
	return 0;
}

/*
 * Prepare workdir/staging (created if missing) and check that the upper
 * filesystem takes trusted xattrs, which whiteouts and opaque dirs need,
 * and reports file types in readdir.
 */
static int ufs_setup_workdir(struct fs_context *fc, struct unionfs_fs *fs)
{
	struct dentry *work = fs->workdir.dentry;
	UFS_IDMAP_T *idmap = ufs_mnt_idmap(fs->workdir.mnt);
	struct dentry *staging;
	int err;

	err = mnt_want_write(fs->workdir.mnt);
	if (err)
		return ufs_invalfc(fc, "workdir: not writable (%d)", err);

	inode_lock_nested(d_inode(work), I_MUTEX_PARENT);
	staging = lookup_one_len(UNIONFS_WORK_STAGING, work,
				 strlen(UNIONFS_WORK_STAGING));
	if (!IS_ERR(staging) && d_is_negative(staging)) {
		err = vfs_mkdir(idmap, d_inode(work), staging, 0700);
		if (!err && d_is_negative(staging))
			err = -EIO;	/* mkdir left no inode: be safe */
		if (err) {
			dput(staging);
			staging = ERR_PTR(err);
		}
	}
	inode_unlock(d_inode(work));
	if (IS_ERR(staging)) {
		err = ufs_invalfc(fc, "workdir: cannot create \"%s\" (%ld)",
				  UNIONFS_WORK_STAGING, PTR_ERR(staging));
		goto out;
	}
	if (!d_is_dir(staging)) {
		dput(staging);
		err = ufs_invalfc(fc, "workdir: \"%s\" is not a directory",
				  UNIONFS_WORK_STAGING);
		goto out;
	}
	fs->staging = staging;
	{
		struct path spath = { .mnt = fs->workdir.mnt, .dentry = staging };

		ufs_clean_dir(&spath, true);
	}
	err = ufs_staging_drop_acls(fc, fs);
	if (err)
		goto out;

	err = vfs_setxattr(idmap, staging, UNIONFS_XATTR_PREFIX "check",
			   "y", 1, 0);
	if (err) {
		err = ufs_invalfc(fc, "upper filesystem does not support trusted xattrs (%d)",
				  err);
		goto out;
	}
	vfs_removexattr(idmap, staging, UNIONFS_XATTR_PREFIX "check");
	err = ufs_check_dtype(fc, fs);
	if (!err)
		err = ufs_volatile_marker(fc, fs);
out:
	mnt_drop_write(fs->workdir.mnt);
	return err;
}

static int ufs_setup_layers(struct fs_context *fc, struct unionfs_fs *fs,
			    struct path *paths)
{
	struct unionfs_config *cfg = fc->fs_private;
	unsigned int i;

	fs->layers = kvcalloc(fs->nr_layers, sizeof(*fs->layers), GFP_KERNEL);
	if (!fs->layers)
		return -ENOMEM;

	for (i = 0; i < fs->nr_layers; i++) {
		bool upper = fs->has_upper && i == 0;
		const char *name = ufs_cfg_layer_name(cfg, fs->has_upper, i);
		struct vfsmount *mnt;

		fs->layers[i].name = kstrdup(name, GFP_KERNEL);
		if (!fs->layers[i].name)
			goto enomem;
		mnt = clone_private_mount(&paths[i]);
		if (IS_ERR(mnt)) {
			fs->nr_layers = i;
			kfree(fs->layers[i].name);
			return ufs_invalfc(fc, "\"%s\": cannot clone mount (%ld)",
					   name, PTR_ERR(mnt));
		}
		/* Lower layers are never written, and their atime never moves. */
		if (!upper)
			mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
		fs->layers[i].mnt = mnt;
	}
	ufs_assign_fsidx(fs);
	return 0;

enomem:
	kfree(fs->layers[i].name);
	fs->nr_layers = i;
	return -ENOMEM;
}

static struct unionfs_stack *ufs_root_stack(struct unionfs_fs *fs)
{
	struct unionfs_stack *stack = ufs_stack_alloc(fs->nr_lowers);
	unsigned int i;

	if (!stack)
		return NULL;
	if (fs->has_upper)
		ufs_stack_set_upper(stack, fs->layers[0].mnt->mnt_root);
	for (i = fs->has_upper; i < fs->nr_layers; i++) {
		stack->real[stack->end].dentry = dget(fs->layers[i].mnt->mnt_root);
		stack->real[stack->end].layer = i;
		stack->end++;
	}
	return stack;
}

static const struct super_operations unionfs_super_ops;

static int unionfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct unionfs_config *cfg = fc->fs_private;
	struct unionfs_fs *fs;
	struct path *paths = NULL;
	struct path workpath = {};
	struct unionfs_stack *stack;
	struct inode *root_inode;
	unsigned int i, nr, resolved = 0;
	int depth = 0, err;

	if (!cfg->nr_lowers)
		return ufs_invalfc(fc, "missing lowerdir");
	if (cfg->upperdir && !cfg->workdir)
		return ufs_invalfc(fc, "upperdir requires workdir");
	if (cfg->workdir && !cfg->upperdir)
		return ufs_invalfc(fc, "workdir requires upperdir");
	if (cfg->is_volatile && !cfg->upperdir)
		return ufs_invalfc(fc, "volatile requires upperdir");
	if (cfg->redirect_dir == UFS_REDIRECT_FOLLOW && cfg->upperdir)
		return ufs_invalfc(fc,
			"redirect_dir=follow: with an upperdir, renames make redirects (=on)");

	fs = kzalloc(sizeof(*fs), GFP_KERNEL);
	if (!fs)
		return -ENOMEM;
	fs->id = -1;
	fs->dev = sb->s_dev;
	fs->has_upper = !!cfg->upperdir;
	fs->is_volatile = cfg->is_volatile;
	fs->aufs_whiteouts = cfg->aufs_whiteouts;
	fs->default_permissions = cfg->default_permissions;
	fs->redirect_dir = cfg->redirect_dir;
	fs->xino = cfg->xino;
	fs->metacopy = cfg->metacopy != 0;	/* on unless turned off */
	fs->lookup_index = cfg->lookup_index != 0;	/* likewise */
	/* partial copy-up: 64 KiB chunks unless set; it needs metacopy */
	fs->chunk_shift = cfg->chunk_shift < 0 ? 16 : cfg->chunk_shift;
	if (!fs->metacopy)
		fs->chunk_shift = 0;
	fs->nr_lowers = cfg->nr_lowers;
	fs->nr_layers = cfg->nr_lowers + fs->has_upper;
	sb->s_fs_info = fs;

	nr = fs->nr_layers;
	paths = kvcalloc(nr, sizeof(*paths), GFP_KERNEL);
	if (!paths)
		return -ENOMEM;

	for (i = 0; i < nr; i++) {
		bool upper = fs->has_upper && i == 0;

		err = ufs_resolve_dir(fc, upper ? "upperdir" : "lowerdir",
				      ufs_cfg_layer_name(cfg, fs->has_upper, i),
				      &paths[i]);
		if (err)
			goto out;
		resolved++;
		depth = max(depth, paths[i].mnt->mnt_sb->s_stack_depth);
	}
	fs->index_layers_ok = true;
	for (i = 0; i < nr; i++) {
		struct super_block *lsb = paths[i].mnt->mnt_sb;
		const struct dentry_operations *dop = lsb->s_d_op;

		/*
		 * Local filesystems known to change a directory's stamp in
		 * memory with every change, not stacked, names byte-exact.
		 */
		if (!ufs_index_trusts_fs(lsb->s_magic) || lsb->s_stack_depth ||
		    (dop && (dop->d_hash || dop->d_compare)))
			fs->index_layers_ok = false;
	}
	if (fs->has_upper) {
		err = ufs_resolve_dir(fc, "workdir", cfg->workdir, &workpath);
		if (err)
			goto out;
	}
	err = ufs_check_layout(fc, cfg, paths, nr, fs->has_upper, &workpath);
	if (err)
		goto out;

	sb->s_stack_depth = depth + 1;
	if (sb->s_stack_depth > FILESYSTEM_MAX_STACK_DEPTH) {
		err = ufs_invalfc(fc, "maximum filesystem stacking depth exceeded");
		goto out;
	}

	err = -ENOMEM;
	fs->creator_cred = prepare_creds();
	if (!fs->creator_cred)
		goto out;

	err = ufs_setup_layers(fc, fs, paths);
	if (err)
		goto out;

	if (fs->has_upper) {
		fs->workdir_name = kstrdup(cfg->workdir, GFP_KERNEL);
		if (!fs->workdir_name) {
			err = -ENOMEM;
			goto out;
		}
		fs->workdir = workpath;
		workpath.mnt = NULL;
		workpath.dentry = NULL;
		err = ufs_take_upper_and_workdir(fc, fs);
		if (err)
			goto out;
		err = ufs_setup_workdir(fc, fs);
		if (err)
			goto out;
	}

	sb->s_magic = UNIONFS_SUPER_MAGIC;
	sb->s_op = &unionfs_super_ops;
	sb->s_d_op = &unionfs_dentry_ops;
	sb->s_xattr = unionfs_xattr_handlers;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	/* A write checks for set-id bits and capabilities once, then skips it */
	sb->s_flags |= SB_POSIXACL | SB_NOSEC;
	/* Without an upper layer there is nowhere to write. */
	if (!fs->has_upper)
		sb->s_flags |= SB_RDONLY;
	/*
	 * Shared writable mappings of metacopy files live in the union's
	 * page cache, which writeback must flush: a real bdi.
	 */
	if (fs->has_upper) {
		err = super_setup_bdi(sb);
		if (err)
			goto out;
	}

	err = -ENOMEM;
	stack = ufs_root_stack(fs);
	if (!stack)
		goto out;
	root_inode = ufs_get_inode(sb, stack, true);
	if (IS_ERR(root_inode)) {
		err = PTR_ERR(root_inode);
		ufs_stack_free(stack);
		goto out;
	}
	sb->s_root = d_make_root(root_inode);
	if (!sb->s_root) {
		ufs_stack_free(stack);
		goto out;
	}
	sb->s_root->d_fsdata = stack;

	err = ufs_sysfs_add(fs);
	if (err)
		goto out;
	err = 0;
out:
	for (i = 0; i < resolved; i++)
		path_put(&paths[i]);
	kvfree(paths);
	path_put(&workpath);
	return err;
}

static int unionfs_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, unionfs_fill_super);
}

static void unionfs_free_fc(struct fs_context *fc)
{
	struct unionfs_config *cfg = fc->fs_private;

	if (!cfg)
		return;
	ufs_config_clear_lowers(cfg);
	kfree(cfg->upperdir);
	kfree(cfg->workdir);
	kfree(cfg);
}

/* Remount may repeat the layer options (mount(8) does) but not change them. */
static bool ufs_config_matches(struct unionfs_config *cfg,
			       struct unionfs_fs *fs)
{
	unsigned int i;

	if (cfg->nr_lowers && cfg->nr_lowers != fs->nr_lowers)
		return false;
	for (i = 0; i < cfg->nr_lowers; i++) {
		if (strcmp(cfg->lowers[i], fs->layers[i + fs->has_upper].name))
			return false;
	}
	if (cfg->upperdir && (!fs->has_upper ||
			      strcmp(cfg->upperdir, fs->layers[0].name)))
		return false;
	if (cfg->workdir && (!fs->has_upper ||
			     strcmp(cfg->workdir, fs->workdir_name)))
		return false;
	if (cfg->metacopy >= 0 && cfg->metacopy != fs->metacopy)
		return false;
	if (cfg->chunk_shift >= 0 && cfg->chunk_shift != fs->chunk_shift)
		return false;
	if (cfg->lookup_index >= 0 && cfg->lookup_index != fs->lookup_index)
		return false;
	/* how the layers read cannot change under cached dentries */
	if (cfg->aufs_whiteouts && !fs->aufs_whiteouts)
		return false;
	/* what /proc/mounts shows stays what the mount was given */
	if (cfg->default_permissions && !fs->default_permissions)
		return false;
	if (cfg->redirect_dir != UFS_REDIRECT_NONE &&
	    cfg->redirect_dir != fs->redirect_dir)
		return false;
	if (cfg->xino != UFS_XINO_NONE && cfg->xino != fs->xino)
		return false;
	return true;
}

static int unionfs_reconfigure(struct fs_context *fc)
{
	/* Layers are fixed for the life of a mount; only flags may change. */
	struct unionfs_config *cfg = fc->fs_private;

	if (!ufs_config_matches(cfg, UFS_FS(fc->root->d_sb)))
		return ufs_invalfc(fc,
			"cannot change layers, metacopy, chunk, lookup_index, aufs_whiteouts, default_permissions, redirect_dir or xino on remount");
	sync_filesystem(fc->root->d_sb);
	if (!UFS_FS(fc->root->d_sb)->has_upper && !(fc->sb_flags & SB_RDONLY)) {
		/* as a read-only block device: EROFS ("write-protected") */
		ufs_invalfc(fc, "no upperdir: the union is read-only");
		return -EROFS;
	}
	return 0;
}

static const struct fs_context_operations unionfs_context_ops = {
	.parse_param	= unionfs_parse_param,
	.get_tree	= unionfs_get_tree,
	.reconfigure	= unionfs_reconfigure,
	.free		= unionfs_free_fc,
};

static int unionfs_init_fs_context(struct fs_context *fc)
{
	struct unionfs_config *cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);

	if (!cfg)
		return -ENOMEM;
	cfg->metacopy = -1;
	cfg->chunk_shift = -1;
	cfg->lookup_index = -1;
	fc->fs_private = cfg;
	fc->ops = &unionfs_context_ops;
	return 0;
}

static void unionfs_kill_sb(struct super_block *sb)
{
	struct unionfs_fs *fs = UFS_FS(sb);

	kill_anon_super(sb);
	if (fs)
		ufs_free_fs(fs);
}

static struct inode *unionfs_alloc_inode(struct super_block *sb)
{
	struct unionfs_inode *ui;

	ui = alloc_inode_sb(sb, unionfs_inode_cachep, GFP_KERNEL);
	if (!ui)
		return NULL;
	ui->real = NULL;
	ui->key = NULL;
	ui->lower = NULL;
	ui->upper = NULL;
	ui->layer = 0;
	ui->metacopy = false;
	ui->slow_lookups = 0;
	ui->chunks = NULL;
	ui->data_file = NULL;
	ui->map_upper = NULL;
	mutex_init(&ui->copy_up_lock);
	ui->dir_cache = NULL;
	ui->dir_version = 0;
	return &ui->vfs_inode;
}

static void unionfs_free_inode(struct inode *inode)
{
	kmem_cache_free(unionfs_inode_cachep, UFS_I(inode));
}

/*
 * A union inode goes with its last reference, except while its page cache
 * holds pages written through a shared mapping that have not reached the
 * upper file: the inode stays until writeback is done with them.
 */
static int unionfs_drop_inode(struct inode *inode)
{
	if (ufs_has_mapped_writes(inode))
		return 0;
	return generic_delete_inode(inode);
}

static void unionfs_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	ufs_dir_cache_evict(inode);
	iput(UFS_I(inode)->lower);
	iput(UFS_I(inode)->upper);
	kfree(UFS_I(inode)->chunks);
	UFS_I(inode)->chunks = NULL;
	if (UFS_I(inode)->data_file)
		fput(UFS_I(inode)->data_file);
	UFS_I(inode)->data_file = NULL;
	dput(UFS_I(inode)->map_upper);
	UFS_I(inode)->map_upper = NULL;
	UFS_I(inode)->real = NULL;
}

static int unionfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct unionfs_fs *fs = UFS_FS(dentry->d_sb);
	struct path top = {
		.mnt = fs->layers[0].mnt,
		.dentry = fs->layers[0].mnt->mnt_root,
	};
	const struct cred *old = ufs_override_creds(dentry->d_sb);
	int err;

	err = vfs_statfs(&top, buf);
	revert_creds(old);
	if (!err) {
		buf->f_type = UNIONFS_SUPER_MAGIC;
		buf->f_namelen = min_t(long, buf->f_namelen, NAME_MAX);
	}
	return err;
}

/*
 * Print a layer path so that the option string parses back the same:
 * separators of the option list are octal-escaped as /proc/mounts does,
 * and in lowerdir a colon or backslash gets a backslash before it.
 */
static void ufs_show_path(struct seq_file *m, const char *path, bool lower)
{
	const char *p;

	for (p = path; *p; p++) {
		if (lower && (*p == ':' || *p == '\\'))
			seq_putc(m, '\\');
		if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n')
			seq_printf(m, "\\%03o", (unsigned char)*p);
		else
			seq_putc(m, *p);
	}
}

static int unionfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct unionfs_fs *fs = UFS_FS(root->d_sb);
	unsigned int i;

	seq_puts(m, ",lowerdir=");
	for (i = fs->has_upper; i < fs->nr_layers; i++) {
		if (i > fs->has_upper)
			seq_putc(m, ':');
		ufs_show_path(m, fs->layers[i].name, true);
	}
	if (fs->has_upper) {
		seq_puts(m, ",upperdir=");
		ufs_show_path(m, fs->layers[0].name, false);
		seq_puts(m, ",workdir=");
		ufs_show_path(m, fs->workdir_name, false);
		if (fs->is_volatile)
			seq_puts(m, ",volatile");
		seq_printf(m, ",metacopy=%s", fs->metacopy ? "on" : "off");
		if (!fs->chunk_shift)
			seq_puts(m, ",chunk=0");
		else if (fs->chunk_shift >= 20)
			seq_printf(m, ",chunk=%um", 1U << (fs->chunk_shift - 20));
		else
			seq_printf(m, ",chunk=%uk", 1U << (fs->chunk_shift - 10));
	}
	if (!fs->lookup_index)
		seq_puts(m, ",lookup_index=off");
	if (fs->aufs_whiteouts)
		seq_puts(m, ",aufs_whiteouts");
	if (fs->default_permissions)
		seq_puts(m, ",default_permissions");
	if (fs->redirect_dir == UFS_REDIRECT_ON)
		seq_puts(m, ",redirect_dir=on");
	else if (fs->redirect_dir == UFS_REDIRECT_FOLLOW)
		seq_puts(m, ",redirect_dir=follow");
	if (fs->xino == UFS_XINO_ON)
		seq_puts(m, ",xino=on");
	else if (fs->xino == UFS_XINO_AUTO)
		seq_puts(m, ",xino=auto");
	return 0;
}

/* syncfs on the union syncs the upper layer (never for volatile mounts). */
static int unionfs_sync_fs(struct super_block *sb, int wait)
{
	struct unionfs_fs *fs = UFS_FS(sb);
	struct super_block *upper_sb;
	int err;

	if (!fs->has_upper || fs->is_volatile || !wait)
		return 0;
	upper_sb = fs->layers[0].mnt->mnt_sb;
	down_read(&upper_sb->s_umount);
	err = sync_filesystem(upper_sb);
	up_read(&upper_sb->s_umount);
	return err;
}

static const struct super_operations unionfs_super_ops = {
	.sync_fs	= unionfs_sync_fs,
	.alloc_inode	= unionfs_alloc_inode,
	.free_inode	= unionfs_free_inode,
	.evict_inode	= unionfs_evict_inode,
	.drop_inode	= unionfs_drop_inode,
	.statfs		= unionfs_statfs,
	.show_options	= unionfs_show_options,
};

static struct file_system_type unionfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= UNIONFS_NAME,
	.init_fs_context	= unionfs_init_fs_context,
	.parameters		= unionfs_param_spec,
	.kill_sb		= unionfs_kill_sb,
};
MODULE_ALIAS_FS(UNIONFS_NAME);

static void unionfs_inode_init_once(void *p)
{
	struct unionfs_inode *ui = p;

	inode_init_once(&ui->vfs_inode);
}

static int __init unionfs_init(void)
{
	int err;

	unionfs_inode_cachep = kmem_cache_create("unionfs_inode",
						 sizeof(struct unionfs_inode), 0,
						 SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
						 unionfs_inode_init_once);
	if (!unionfs_inode_cachep)
		return -ENOMEM;

	err = ufs_sysfs_init();
	if (err)
		goto out_cache;
	err = register_filesystem(&unionfs_fs_type);
	if (err)
		goto out_sysfs;
	return 0;

out_sysfs:
	ufs_sysfs_exit();
out_cache:
	kmem_cache_destroy(unionfs_inode_cachep);
	return err;
}

static void __exit unionfs_exit(void)
{
	unregister_filesystem(&unionfs_fs_type);
	ufs_sysfs_exit();
	/* Inodes are freed by RCU: wait for them before the cache goes. */
	rcu_barrier();
	kmem_cache_destroy(unionfs_inode_cachep);
}

module_init(unionfs_init);
module_exit(unionfs_exit);

MODULE_DESCRIPTION("unionfs: union (copy-on-write) filesystem");
MODULE_AUTHOR("The unionfs developers");
MODULE_LICENSE("GPL");
