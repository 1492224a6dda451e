// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: union inodes, attributes, permissions, symlinks, xattrs, ACLs.
 *
 * A union inode mirrors the topmost real inode of its dentry's stack. It is
 * found by that real inode (iget5), so hard links to one real inode share
 * one union inode and one st_ino. The exception: on a writable union, each
 * name of a multiply-linked lower file gets its own union inode, because
 * copy-up gives that name alone an upper file (ufs_get_inode()).
 */
#include <linux/slab.h>
#include <linux/xattr.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/fileattr.h>
#include "unionfs.h"

/*
 * Union inode number: the real one, with the index of the layer's
 * filesystem in the top xino_bits bits when the layers span several
 * filesystems, so numbers from different filesystems never collide.
 */
u64 ufs_ino(struct unionfs_fs *fs, unsigned int layer, u64 real_ino)
{
	unsigned int shift;

	if (!fs->xino_bits)
		return real_ino;
	shift = 64 - fs->xino_bits;
	return (real_ino & (U64_MAX >> fs->xino_bits)) ^
	       ((u64)fs->layers[layer].fsidx << shift);
}

/* The real inode's flags that the VFS checks on the union inode. */
#define UFS_COPY_I_FLAGS	(S_SYNC | S_APPEND | S_IMMUTABLE)

void ufs_copy_attr(struct inode *inode, struct inode *real)
{
	inode_set_flags(inode, real->i_flags & UFS_COPY_I_FLAGS,
			UFS_COPY_I_FLAGS);
	inode->i_mode = real->i_mode;
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	inode->i_rdev = real->i_rdev;
	inode->i_blkbits = real->i_blkbits;
	inode_set_atime_to_ts(inode, inode_get_atime(real));
	inode_set_mtime_to_ts(inode, inode_get_mtime(real));
	inode_set_ctime_to_ts(inode, inode_get_ctime(real));
	set_nlink(inode, real->i_nlink);
	i_size_write(inode, i_size_read(real));
	inode->i_blocks = real->i_blocks;
}

static int ufs_inode_test(struct inode *inode, void *data)
{
	return UFS_I(inode)->key == data;
}

/* For inodes that must never be shared: see ufs_get_inode(). */
static int ufs_inode_unique(struct inode *inode, void *data)
{
	return 0;
}

static int ufs_inode_set(struct inode *inode, void *data)
{
	UFS_I(inode)->key = data;
	UFS_I(inode)->real = data;
	return 0;
}

/*
 * A union may be a layer of another union: give each stacking depth its
 * own lock classes, so lockdep sees the upper union's i_rwsem and the
 * lower union's as different locks (they nest in that order).
 */
static struct lock_class_key ufs_i_rwsem_key[FILESYSTEM_MAX_STACK_DEPTH];
static struct lock_class_key ufs_i_rwsem_dir_key[FILESYSTEM_MAX_STACK_DEPTH];

static void ufs_lockdep_annotate(struct inode *inode)
{
	int depth = clamp(inode->i_sb->s_stack_depth - 1, 0,
			  FILESYSTEM_MAX_STACK_DEPTH - 1);

	if (S_ISDIR(inode->i_mode))
		lockdep_set_class(&inode->i_rwsem, &ufs_i_rwsem_dir_key[depth]);
	else
		lockdep_set_class(&inode->i_rwsem, &ufs_i_rwsem_key[depth]);
}

static void ufs_init_ops(struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &unionfs_dir_iops;
		inode->i_fop = &unionfs_dir_fops;
		break;
	case S_IFREG:
		inode->i_op = &unionfs_file_iops;
		inode->i_fop = &unionfs_file_fops;
		break;
	case S_IFLNK:
		inode->i_op = &unionfs_symlink_iops;
		break;
	default:
		inode->i_op = &unionfs_special_iops;
		init_special_inode(inode, inode->i_mode, inode->i_rdev);
		break;
	}
}

/*
 * The union inode number recorded in an upper object at copy-up (a copied
 * object keeps the number it had). False when there is none. The record
 * ("N:UPPER", ufs_set_origin_ino()) names the upper inode it was written
 * on: a copy of the object made in the layer (cp -a keeps xattrs) is
 * another object, whose record is not its own, so it shows a number of its
 * own, not the original's (fstests overlay/049). A record without it (an
 * upper layer written before it was added) is taken as it is. Called with
 * the mounter's credentials.
 */
bool ufs_read_origin_ino(struct dentry *upper, u64 *ino)
{
	char buf[48], *owner;
	u64 upper_ino;
	ssize_t len;

	len = vfs_getxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_INO, buf,
			   sizeof(buf) - 1);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	owner = strchr(buf, ':');
	if (owner) {
		*owner++ = '\0';
		if (kstrtou64(owner, 10, &upper_ino) ||
		    upper_ino != d_inode(upper)->i_ino)
			return false;
	}
	return !kstrtou64(buf, 10, ino);
}

static void ufs_origin_ino(struct super_block *sb, struct dentry *upper,
			   struct inode *inode)
{
	const struct cred *old = ufs_override_creds(sb);
	u64 ino;

	if (ufs_read_origin_ino(upper, &ino))
		inode->i_ino = ino;
	revert_creds(old);
}

/*
 * Copy-up gave @inode its upper inode: from now on it is found by that,
 * as a new lookup of its name looks for it. An inode that outlives its
 * dentry (pages written through a mapping still dirty, an inotify watch)
 * must not get a twin with its own page cache and chunk map. Lookups of
 * the name cannot run meanwhile: the dentry being copied up is positive
 * and hashed, and a fresh upper file has no other name.
 */
void ufs_inode_rehash(struct inode *inode)
{
	struct unionfs_inode *ui = UFS_I(inode);

	remove_inode_hash(inode);
	ui->key = ui->upper;
	__insert_inode_hash(inode, (unsigned long)ui->upper);
}

struct inode *ufs_get_inode(struct super_block *sb, struct unionfs_stack *stack,
			    bool merged_dir)
{
	struct unionfs_real *top = &stack->real[ufs_stack_first(stack)];
	struct inode *real = d_inode(top->dentry);
	bool is_lower = !(top->layer == 0 && UFS_FS(sb)->has_upper);
	struct inode *inode;

	/*
	 * Copy-up of one name of a multiply-linked lower file gives that name
	 * its own upper file and leaves the other names on the lower file
	 * (as overlayfs does without its index). A union inode shared by the
	 * names could not show both, so each name gets its own; they still
	 * share st_ino and st_nlink until one of them is copied up.
	 */
	if (is_lower && UFS_FS(sb)->has_upper && !S_ISDIR(real->i_mode) &&
	    real->i_nlink > 1)
		inode = iget5_locked(sb, (unsigned long)real, ufs_inode_unique,
				     ufs_inode_set, real);
	else
		inode = iget5_locked(sb, (unsigned long)real, ufs_inode_test,
				     ufs_inode_set, real);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	ihold(real);
	if (!is_lower)
		UFS_I(inode)->upper = real;
	else
		UFS_I(inode)->lower = real;
	UFS_I(inode)->layer = top->layer;
	UFS_I(inode)->metacopy = stack->metacopy;
	inode->i_ino = ufs_ino(UFS_FS(sb), top->layer, real->i_ino);
	if (UFS_I(inode)->upper)
		ufs_origin_ino(sb, top->dentry, inode);
	ufs_copy_attr(inode, real);
	/* Times live in the real inode; the VFS must not update ours. */
	inode->i_flags |= S_NOATIME | S_NOCMTIME;
	inode->i_mapping->a_ops = &unionfs_aops;
	/* ACLs are read from the real inode each time, never cached here. */
	inode->i_acl = ACL_DONT_CACHE;
	inode->i_default_acl = ACL_DONT_CACHE;
	ufs_init_ops(inode);
	ufs_lockdep_annotate(inode);
	unlock_new_inode(inode);
	return inode;
}

int unionfs_getattr(UFS_IDMAP_T *idmap, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct dentry *dentry = path->dentry;
	struct inode *inode = d_inode(dentry);
	struct path realpath;
	const struct cred *old;
	int err;

	ufs_top_path(dentry, &realpath);
	old = ufs_override_creds(dentry->d_sb);
	err = ufs_vfs_getattr(&realpath, stat, request_mask, flags);
	/* A metacopy file's blocks are still the lower file's. */
	if (!err && ufs_data_in_lower(inode) && (request_mask & STATX_BLOCKS)) {
		struct path datapath;
		struct kstat lstat;

		err = ufs_data_path(dentry, &datapath);
		if (!err)
			err = ufs_vfs_getattr(&datapath, &lstat, STATX_BLOCKS,
					      flags);
		if (!err)
			stat->blocks = lstat.blocks;
	}
	revert_creds(old);
	if (err)
		return err;

	stat->dev = dentry->d_sb->s_dev;
	stat->ino = inode->i_ino;
	return 0;
}

/*
 * The caller must be allowed by the union inode (its mode and ACLs, which
 * mirror the real ones); the mounter must be allowed by the real inode.
 * Writing a lower file will copy it up, so for a lower real inode the
 * mounter only needs to read it.
 */
int unionfs_permission(UFS_IDMAP_T *idmap, struct inode *inode, int mask)
{
	struct super_block *sb = inode->i_sb;
	struct inode *real = ufs_real_inode(inode);
	const struct cred *old;
	unsigned int layer;
	int err;

	err = generic_permission(idmap, inode, mask);
	if (err)
		return err;

	layer = ufs_real_layer(inode);
	if (layer || !UFS_FS(sb)->has_upper) {
		/* A write will copy up; the lower layer is only read. */
		if (mask & (MAY_WRITE | MAY_APPEND)) {
			mask &= ~(MAY_WRITE | MAY_APPEND);
			mask |= MAY_READ;
		}
	}
	old = ufs_override_creds(sb);
	err = inode_permission(ufs_mnt_idmap(ufs_layer_mnt(sb, layer)),
			       real, mask);
	revert_creds(old);
	return err;
}

static const char *unionfs_get_link(struct dentry *dentry, struct inode *inode,
				    struct delayed_call *done)
{
	const struct cred *old;
	const char *link;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	old = ufs_override_creds(dentry->d_sb);
	link = vfs_get_link(ufs_top(dentry)->dentry, done);
	revert_creds(old);
	return link;
}

/* Our markers, and overlayfs's that we interpret, are not user data. */
bool ufs_is_private_xattr(const char *name)
{
	return !strncmp(name, UNIONFS_XATTR_PREFIX,
			sizeof(UNIONFS_XATTR_PREFIX) - 1) ||
	       !strncmp(name, OVERLAY_XATTR_PREFIX,
			sizeof(OVERLAY_XATTR_PREFIX) - 1);
}

ssize_t unionfs_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct dentry *real = ufs_top(dentry)->dentry;
	const struct cred *old;
	ssize_t len, out = 0, pos;
	char *buf;

	old = ufs_override_creds(dentry->d_sb);
	len = vfs_listxattr(real, NULL, 0);
	if (len <= 0)
		goto out;
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf) {
		len = -ENOMEM;
		goto out;
	}
	len = vfs_listxattr(real, buf, len);
	if (len <= 0)
		goto out_free;

	/* Drop private names in place, keeping the NUL-separated format. */
	for (pos = 0; pos < len;) {
		size_t n = strnlen(buf + pos, len - pos) + 1;

		if (!ufs_is_private_xattr(buf + pos)) {
			memmove(buf + out, buf + pos, n);
			out += n;
		}
		pos += n;
	}
	len = out;
	if (size) {
		if (out > size)
			len = -ERANGE;
		else
			memcpy(list, buf, out);
	}
out_free:
	kvfree(buf);
out:
	revert_creds(old);
	return len;
}

static int unionfs_xattr_get(const struct xattr_handler *handler,
			     struct dentry *dentry, struct inode *inode,
			     const char *name, void *value, size_t size)
{
	struct dentry *real;
	const struct cred *old;
	int err;

	name = xattr_full_name(handler, name);
	if (ufs_is_private_xattr(name))
		return -ENODATA;
	/* Called for the union dentry: find the real one behind it. */
	real = ufs_top(dentry)->dentry;
	old = ufs_override_creds(dentry->d_sb);
	err = vfs_getxattr(UFS_NOP_IDMAP, real, name, value, size);
	revert_creds(old);
	return err;
}

/* setxattr (value != NULL) and removexattr (value == NULL) copy up first. */
static int unionfs_xattr_set(const struct xattr_handler *handler,
			     UFS_IDMAP_T *idmap, struct dentry *dentry,
			     struct inode *inode, const char *name,
			     const void *value, size_t size, int flags)
{
	struct super_block *sb = dentry->d_sb;
	struct vfsmount *umnt = ufs_layer_mnt(sb, 0);
	const struct cred *old;
	struct dentry *upper;
	int err;

	name = xattr_full_name(handler, name);
	if (ufs_is_private_xattr(name))
		return -EPERM;
	err = ufs_copy_up_meta(dentry);
	if (err)
		return err;
	upper = ufs_upper(dentry);
	ufs_attr_lock(d_inode(dentry));
	old = ufs_override_creds(sb);
	err = mnt_want_write(umnt);
	if (!err) {
		if (value)
			err = vfs_setxattr(ufs_mnt_idmap(umnt), upper, name,
					   value, size, flags);
		else
			err = vfs_removexattr(ufs_mnt_idmap(umnt), upper, name);
		mnt_drop_write(umnt);
	}
	revert_creds(old);
	ufs_attr_unlock(d_inode(dentry));
	ufs_copy_attr(d_inode(dentry), d_inode(upper));
	return err;
}

/*
 * An ACL change by a caller outside the file's group and without
 * CAP_FSETID drops the set-group-id bit (posix_acl_update_mode() on a
 * plain filesystem). The upper file gets the ACL with the mounter's
 * credentials, which would keep it: drop it first, as the caller.
 */
static int ufs_acl_kill_sgid(UFS_IDMAP_T *idmap, struct dentry *dentry,
			     int type)
{
	struct inode *inode = d_inode(dentry);
	struct iattr iattr = { .ia_valid = ATTR_KILL_SGID };

	if (type != ACL_TYPE_ACCESS || !(inode->i_mode & S_ISGID) ||
	    in_group_p(inode->i_gid) ||
	    capable_wrt_inode_uidgid(idmap, inode, CAP_FSETID))
		return 0;
	return unionfs_setattr(idmap, dentry, &iattr);
}

/*
 * ACLs are kept by the upper layer: when it cannot store them, the union
 * refuses them before it changes anything (no copy-up, no set-group-id
 * bit dropped), as a filesystem without ACLs does.
 */
static int ufs_upper_takes_acls(struct super_block *sb)
{
	if (!UFS_FS(sb)->has_upper)
		return 0;	/* the copy-up refuses: read-only union */
	if (!(ufs_layer_mnt(sb, 0)->mnt_sb->s_flags & SB_POSIXACL))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * system.posix_acl_* writes on 6.1 (6.12 takes ->set_acl): the checks
 * set_posix_acl() makes for a plain filesystem, on the union inode with
 * the caller's credentials, before the catch-all handler writes the
 * value to the upper file with the mounter's.
 */
static int unionfs_acl_xattr_set(const struct xattr_handler *handler,
				 UFS_IDMAP_T *idmap, struct dentry *dentry,
				 struct inode *inode, const char *name,
				 const void *value, size_t size, int flags)
{
	struct posix_acl *acl;
	int err;

	err = ufs_upper_takes_acls(dentry->d_sb);
	if (err)
		return err;
	if (handler->flags == ACL_TYPE_DEFAULT && !S_ISDIR(inode->i_mode))
		return value ? -EACCES : 0;
	if (!inode_owner_or_capable(idmap, inode))
		return -EPERM;
	if (value) {
		acl = posix_acl_from_xattr(&init_user_ns, value, size);
		if (IS_ERR(acl))
			return PTR_ERR(acl);
		err = acl ? posix_acl_valid(&init_user_ns, acl) : 0;
		posix_acl_release(acl);
		if (err)
			return err;
	}
	err = ufs_acl_kill_sgid(idmap, dentry, handler->flags);
	if (err)
		return err;
	return unionfs_xattr_set(handler, idmap, dentry, inode, name, value,
				 size, flags);
}

/* 6.12 sets ACLs here, after the VFS checked the caller owns the file. */
int unionfs_set_acl(UFS_IDMAP_T *idmap, struct dentry *dentry,
		    struct posix_acl *acl, int type)
{
	struct super_block *sb = dentry->d_sb;
	struct vfsmount *umnt = ufs_layer_mnt(sb, 0);
	const struct cred *old;
	struct dentry *upper;
	int err;

	err = ufs_upper_takes_acls(sb);
	if (err)
		return err;
	err = ufs_acl_kill_sgid(idmap, dentry, type);
	if (err)
		return err;
	err = ufs_copy_up_meta(dentry);
	if (err)
		return err;
	upper = ufs_upper(dentry);
	ufs_attr_lock(d_inode(dentry));
	old = ufs_override_creds(sb);
	err = mnt_want_write(umnt);
	if (!err) {
		err = ufs_layer_set_acl(umnt, upper, type, acl);
		mnt_drop_write(umnt);
	}
	revert_creds(old);
	ufs_attr_unlock(d_inode(dentry));
	ufs_copy_attr(d_inode(dentry), d_inode(upper));
	return err;
}

/*
 * chmod, chown, utimes, truncate: checked against the union inode, then
 * done on the upper copy (copied up first; only the attributes, unless the
 * size changes).
 */
int unionfs_setattr(UFS_IDMAP_T *idmap, struct dentry *dentry,
		    struct iattr *attr)
{
	struct super_block *sb = dentry->d_sb;
	struct vfsmount *umnt = ufs_layer_mnt(sb, 0);
	struct iattr real_attr;
	const struct cred *old;
	struct dentry *upper;
	int err;

	/* may drop S_ISGID from ia_mode: the upper gets what it leaves */
	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	real_attr = *attr;
	/* Pages written through a mapping land before the size changes. */
	if (attr->ia_valid & ATTR_SIZE) {
		err = ufs_flush_mapped(d_inode(dentry), 0, LLONG_MAX);
		if (err)
			return err;
	}
	/* A size change needs the data; to 0 it needs none of it. */
	if (!(attr->ia_valid & ATTR_SIZE))
		err = ufs_copy_up_meta(dentry);
	else if (attr->ia_size == 0)
		err = ufs_copy_up_flags(dentry, O_TRUNC);
	else
		err = ufs_copy_up(dentry);
	if (err)
		return err;
	upper = ufs_upper(dentry);

	/* The union's file is not the upper's; the upper fs redoes kill-suid. */
	real_attr.ia_valid &= ~ATTR_FILE;
	if (real_attr.ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		real_attr.ia_valid &= ~ATTR_MODE;
	/*
	 * O_TRUNC of an upper file that is empty and holds no blocks (as an
	 * O_TRUNC open copies a lower file up) changes only its times. Not
	 * truncating it spares the next close a flush: ext4 writes out data
	 * written after a truncate to 0 when the file is closed.
	 */
	if ((real_attr.ia_valid & ATTR_SIZE) && !real_attr.ia_size &&
	    !i_size_read(d_inode(upper)) && !d_inode(upper)->i_blocks)
		real_attr.ia_valid &= ~(ATTR_SIZE | ATTR_OPEN);

	/* writeback of mapped pages sees the old size or the new one */
	if (attr->ia_valid & ATTR_SIZE)
		filemap_invalidate_lock(d_inode(dentry)->i_mapping);
	ufs_attr_lock(d_inode(dentry));
	old = ufs_override_creds(sb);
	err = mnt_want_write(umnt);
	if (!err) {
		inode_lock(d_inode(upper));
		err = notify_change(ufs_mnt_idmap(umnt), upper, &real_attr, NULL);
		inode_unlock(d_inode(upper));
		mnt_drop_write(umnt);
	}
	revert_creds(old);
	ufs_attr_unlock(d_inode(dentry));
	ufs_copy_attr(d_inode(dentry), d_inode(upper));
	if (attr->ia_valid & ATTR_SIZE) {
		if (!err)
			truncate_pagecache(d_inode(dentry), attr->ia_size);
		filemap_invalidate_unlock(d_inode(dentry)->i_mapping);
	}
	return err;
}

/*
 * The LSMs saw lsattr/chattr of the union file as an ioctl on it; the
 * real file gets the same question, asked with the mounter's credentials
 * (called with them) of a file opened for it: there is no hook that takes
 * an inode.
 */
static int ufs_fileattr_lsm(const struct path *real, struct fileattr *fa,
			    bool set)
{
	unsigned int cmd;
	struct file *file;
	int err;

	file = dentry_open(real, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(file))
		return PTR_ERR(file);
	if (set)
		cmd = fa->fsx_valid ? FS_IOC_FSSETXATTR : FS_IOC_SETFLAGS;
	else
		cmd = fa->fsx_valid ? FS_IOC_FSGETXATTR : FS_IOC_GETFLAGS;
	err = security_file_ioctl(file, cmd, 0);
	fput(file);
	return err;
}

/* lsattr: the flags of the topmost real inode. */
int unionfs_fileattr_get(struct dentry *dentry, struct fileattr *fa)
{
	const struct cred *old;
	struct path real;
	int err;

	ufs_top_path(dentry, &real);
	old = ufs_override_creds(dentry->d_sb);
	err = ufs_fileattr_lsm(&real, fa, false);
	if (!err)
		err = vfs_fileattr_get(real.dentry, fa);
	revert_creds(old);
	return err;
}

/*
 * chattr, after the VFS checked the caller (owner, CAP_LINUX_IMMUTABLE
 * for append-only and immutable): on the upper copy, which gets all its
 * data first, as an append-only or immutable upper file cannot take it
 * later. That includes pages written through a shared mapping of a
 * partial file: they go out (and bring their chunks up) before the rest
 * of the data is copied and the flag is set.
 */
int unionfs_fileattr_set(UFS_IDMAP_T *idmap, struct dentry *dentry,
			 struct fileattr *fa)
{
	struct super_block *sb = dentry->d_sb;
	struct vfsmount *umnt = ufs_layer_mnt(sb, 0);
	const struct cred *old;
	struct dentry *upper;
	int err;

	err = ufs_flush_mapped(d_inode(dentry), 0, LLONG_MAX);
	if (err)
		return err;
	err = ufs_copy_up(dentry);
	if (err)
		return err;
	upper = ufs_upper(dentry);
	ufs_attr_lock(d_inode(dentry));
	old = ufs_override_creds(sb);
	err = mnt_want_write(umnt);
	if (!err) {
		struct path real = { .mnt = umnt, .dentry = upper };

		err = ufs_fileattr_lsm(&real, fa, true);
		if (!err)
			err = vfs_fileattr_set(ufs_mnt_idmap(umnt), upper, fa);
		mnt_drop_write(umnt);
	}
	revert_creds(old);
	ufs_attr_unlock(d_inode(dentry));
	ufs_copy_attr(d_inode(dentry), d_inode(upper));
	return err;
}

static const struct xattr_handler unionfs_other_xattr_handler = {
	.prefix	= "",	/* every name not claimed by a handler before it */
	.get	= unionfs_xattr_get,
	.set	= unionfs_xattr_set,
};

static const struct xattr_handler __maybe_unused unionfs_acl_access_handler = {
	.name	= XATTR_NAME_POSIX_ACL_ACCESS,
	.flags	= ACL_TYPE_ACCESS,
	.get	= unionfs_xattr_get,
	.set	= unionfs_acl_xattr_set,
};

static const struct xattr_handler __maybe_unused unionfs_acl_default_handler = {
	.name	= XATTR_NAME_POSIX_ACL_DEFAULT,
	.flags	= ACL_TYPE_DEFAULT,
	.get	= unionfs_xattr_get,
	.set	= unionfs_acl_xattr_set,
};

static const struct xattr_handler *ufs_xattr_handlers_acl[] __maybe_unused = {
	&unionfs_acl_access_handler,
	&unionfs_acl_default_handler,
	&unionfs_other_xattr_handler,
	NULL
};

static const struct xattr_handler *ufs_xattr_handlers_plain[] __maybe_unused = {
	&unionfs_other_xattr_handler,
	NULL
};

const struct xattr_handler **unionfs_xattr_handlers =
	UFS_XATTR_HANDLERS(ufs_xattr_handlers_acl, ufs_xattr_handlers_plain);

/* The real inode's ACL, for permission checks. */
struct posix_acl *unionfs_get_inode_acl(struct inode *inode, int type, bool rcu)
{
	struct inode *real = ufs_real_inode(inode);
	const struct cred *old;
	struct posix_acl *acl;

	if (!IS_POSIXACL(real))
		return NULL;
	if (rcu)
		return ERR_PTR(-ECHILD);

	old = ufs_override_creds(inode->i_sb);
	acl = ufs_real_inode_acl(real, type);
	revert_creds(old);
	return acl;
}

/* The ACL as getxattr shows it (only 6.12 routes ACL reads here). */
struct posix_acl *unionfs_get_acl(UFS_IDMAP_T *idmap, struct dentry *dentry,
				  int type)
{
	struct unionfs_real *top = ufs_top(dentry);
	const struct cred *old;
	struct posix_acl *acl;

	old = ufs_override_creds(dentry->d_sb);
	acl = ufs_layer_get_acl(ufs_layer_mnt(dentry->d_sb, top->layer),
				top->dentry, type);
	revert_creds(old);
	if (acl == ERR_PTR(-EOPNOTSUPP) || acl == ERR_PTR(-ENODATA))
		return NULL;
	return acl;
}

const struct inode_operations unionfs_file_iops = {
	.getattr	= unionfs_getattr,
	.setattr	= unionfs_setattr,
	.permission	= unionfs_permission,
	.listxattr	= unionfs_listxattr,
	.fileattr_get	= unionfs_fileattr_get,
	.fileattr_set	= unionfs_fileattr_set,
	UFS_ACL_OPS(unionfs_get_inode_acl, unionfs_get_acl, unionfs_set_acl),
};

const struct inode_operations unionfs_symlink_iops = {
	.get_link	= unionfs_get_link,
	.getattr	= unionfs_getattr,
	.setattr	= unionfs_setattr,
	.listxattr	= unionfs_listxattr,
};

const struct inode_operations unionfs_special_iops = {
	.getattr	= unionfs_getattr,
	.setattr	= unionfs_setattr,
	.permission	= unionfs_permission,
	.listxattr	= unionfs_listxattr,
	UFS_ACL_OPS(unionfs_get_inode_acl, unionfs_get_acl, unionfs_set_acl),
};
