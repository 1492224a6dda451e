/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unionfs: every VFS difference between Linux 6.1 and 6.12 lives here.
 *
 * Only these two kernels are supported; intermediate versions are not.
 * LINUX_VERSION_CODE clamps the sublevel on 6.1.y, so compare major.minor.
 */
#ifndef _UNIONFS_COMPAT_H
#define _UNIONFS_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/splice.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/xattr.h>
#include <linux/security.h>

#define UFS_NEW (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0))

#if UFS_NEW
#include <linux/backing-file.h>

#define UFS_IDMAP_T		struct mnt_idmap
#define UFS_NOP_IDMAP		(&nop_mnt_idmap)
#define ufs_mnt_idmap(mnt)	mnt_idmap(mnt)
#define UFS_SPLICE_READ		copy_splice_read
/* write_cache_pages() hands its callback a folio */
#define UFS_WB_ITEM_T		struct folio
#define ufs_wb_folio(folio)	(folio)

static inline void ufs_generic_fillattr(struct mnt_idmap *idmap,
					u32 request_mask, struct inode *inode,
					struct kstat *stat)
{
	generic_fillattr(idmap, request_mask, inode, stat);
}

/* The ACL that permission checks use, taken from the real inode. */
static inline struct posix_acl *ufs_real_inode_acl(struct inode *real, int type)
{
	return get_inode_acl(real, type);
}

/*
 * getattr of a layer. A caller that skipped the security check asks for
 * the same below (vfs_getattr() warns on AT_GETATTR_NOSEC).
 */
static inline int ufs_vfs_getattr(const struct path *path, struct kstat *stat,
				  u32 request_mask, unsigned int flags)
{
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, request_mask, flags);
	return vfs_getattr(path, stat, request_mask, flags);
}

/* The ACL of a layer dentry as getxattr shows it. */
static inline struct posix_acl *ufs_layer_get_acl(struct vfsmount *mnt,
						  struct dentry *real, int type)
{
	return vfs_get_acl(mnt_idmap(mnt), real, posix_acl_xattr_name(type));
}

/* 6.12 split ->get_acl into ->get_inode_acl (permission) and ->get_acl. */
static inline int ufs_layer_set_acl(struct vfsmount *mnt, struct dentry *real,
				    int type, struct posix_acl *acl)
{
	return vfs_set_acl(mnt_idmap(mnt), real, posix_acl_xattr_name(type), acl);
}

static inline int ufs_layer_remove_acl(struct vfsmount *mnt,
				       struct dentry *real, int type)
{
	return vfs_remove_acl(mnt_idmap(mnt), real, posix_acl_xattr_name(type));
}

#define UFS_ACL_OPS(inode_acl_fn, acl_fn, set_acl_fn)	\
	.get_inode_acl	= inode_acl_fn,			\
	.get_acl	= acl_fn,			\
	.set_acl	= set_acl_fn

/* The VFS sends system.posix_acl_* to ->set_acl, not to xattr handlers. */
#define UFS_XATTR_HANDLERS(with_acl, without_acl)	(without_acl)

/* Rename in a layer. */
static inline int ufs_vfs_rename(struct mnt_idmap *idmap, struct inode *odir,
				 struct dentry *old, struct inode *ndir,
				 struct dentry *new, unsigned int flags)
{
	struct renamedata rd = {
		.old_mnt_idmap	= idmap,
		.old_dir	= odir,
		.old_dentry	= old,
		.new_mnt_idmap	= idmap,
		.new_dir	= ndir,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
}

/* One chunk of a copy-up; do_splice_direct takes freeze protection itself. */
static inline ssize_t ufs_splice_chunk(struct file *in, loff_t *ipos,
				       struct file *out, loff_t *opos,
				       size_t len)
{
	ssize_t ret = rw_verify_area(WRITE, out, opos, len);

	if (ret < 0)
		return ret;
	return do_splice_direct(in, ipos, out, opos, len, 0);
}

/* Write to a real file; vfs_iter_write takes freeze protection itself. */
static inline ssize_t ufs_write_real(struct file *real, struct iov_iter *iter,
				     loff_t *pos, rwf_t flags)
{
	return vfs_iter_write(real, iter, pos, flags);
}

/* POSIX ACLs are not xattrs to the 6.12 VFS: copy them as ACLs. */
static inline bool ufs_is_acl_xattr(const char *name)
{
	return is_posix_acl_xattr(name);
}

static inline int ufs_copy_acl(struct vfsmount *lmnt, struct dentry *lower,
			       struct vfsmount *umnt, struct dentry *upper,
			       const char *name)
{
	struct posix_acl *acl = vfs_get_acl(mnt_idmap(lmnt), lower, name);
	int err;

	if (IS_ERR(acl)) {
		err = PTR_ERR(acl);
		return err == -ENODATA || err == -EOPNOTSUPP ? 0 : err;
	}
	if (!acl)
		return 0;
	err = vfs_set_acl(mnt_idmap(umnt), upper, name, acl);
	posix_acl_release(acl);
	return err;
}

/*
 * What the LSMs say of copying xattr @name of @src up: 1 to leave it
 * behind, 0 to copy it, or an error. 6.12: -ECANCELED means leave it.
 */
static inline int ufs_lsm_copy_up_xattr(struct dentry *src, const char *name)
{
	int err = security_inode_copy_up_xattr(src, name);

	if (err == -ECANCELED)
		return 1;
	return err == -EOPNOTSUPP ? 0 : err;
}

/* O_DIRECT opens need FMODE_CAN_ODIRECT from the open method. */
static inline void ufs_inherit_odirect(struct file *file, struct file *real)
{
	file->f_mode |= real->f_mode & FMODE_CAN_ODIRECT;
}

/* An unnamed file in a layer directory (O_TMPFILE), opened with @cred. */
static inline struct file *ufs_tmpfile_open(const struct path *parent,
					    umode_t mode, int flags,
					    const struct cred *cred)
{
	return kernel_tmpfile_open(mnt_idmap(parent->mnt), parent, mode,
				   flags, cred);
}

/*
 * The real file of the union file @file: a backing file, whose f_path is
 * @realpath and whose user path, shown in /proc/PID/maps and map_files,
 * is @file's.
 */
static inline struct file *ufs_open_presented(struct file *file,
					      const struct path *realpath,
					      int flags,
					      const struct cred *cred)
{
	return backing_file_open(file, flags, realpath, cred);
}

/* file_dentry() of a backing file is its real dentry already. */
#define UFS_D_REAL_OP
/* not called: ufs_d_real() is not a dentry operation here */
#define ufs_d_real_of(dentry, inode)	(dentry)

#else /* 6.1 */

#define UFS_IDMAP_T		struct user_namespace
#define UFS_NOP_IDMAP		(&init_user_ns)
#define ufs_mnt_idmap(mnt)	mnt_user_ns(mnt)
#define UFS_SPLICE_READ		generic_file_splice_read
/* write_cache_pages() hands its callback a page */
#define UFS_WB_ITEM_T		struct page
#define ufs_wb_folio(page)	page_folio(page)

static inline void ufs_generic_fillattr(struct user_namespace *idmap,
					u32 request_mask, struct inode *inode,
					struct kstat *stat)
{
	generic_fillattr(idmap, inode, stat);
}

static inline struct posix_acl *ufs_real_inode_acl(struct inode *real, int type)
{
	return get_acl(real, type);
}

static inline struct posix_acl *ufs_layer_get_acl(struct vfsmount *mnt,
						  struct dentry *real, int type)
{
	return get_acl(d_inode(real), type);
}

static inline int ufs_vfs_getattr(const struct path *path, struct kstat *stat,
				  u32 request_mask, unsigned int flags)
{
	return vfs_getattr(path, stat, request_mask, flags);
}

/* 6.1's setxattr path holds the inode lock around set_posix_acl: so do we. */
static inline int ufs_layer_set_acl(struct vfsmount *mnt, struct dentry *real,
				    int type, struct posix_acl *acl)
{
	struct inode *inode = d_inode(real);
	int err;

	inode_lock(inode);
	err = set_posix_acl(mnt_user_ns(mnt), inode, type, acl);
	inode_unlock(inode);
	return err;
}

/* 6.1's removexattr path holds the inode lock around set_posix_acl. */
static inline int ufs_layer_remove_acl(struct vfsmount *mnt,
				       struct dentry *real, int type)
{
	struct inode *inode = d_inode(real);
	int err;

	inode_lock(inode);
	err = set_posix_acl(mnt_user_ns(mnt), inode, type, NULL);
	inode_unlock(inode);
	return err;
}

/* 6.1 reads ACLs through ->get_acl and sets them through xattr handlers. */
#define UFS_ACL_OPS(inode_acl_fn, acl_fn, set_acl_fn)	\
	.get_acl	= inode_acl_fn

/* ... and checks nothing before the handler: ours do (inode.c). */
#define UFS_XATTR_HANDLERS(with_acl, without_acl)	(with_acl)

static inline int ufs_vfs_rename(struct user_namespace *idmap,
				 struct inode *odir, struct dentry *old,
				 struct inode *ndir, struct dentry *new,
				 unsigned int flags)
{
	struct renamedata rd = {
		.old_mnt_userns	= idmap,
		.old_dir	= odir,
		.old_dentry	= old,
		.new_mnt_userns	= idmap,
		.new_dir	= ndir,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
}

/* On 6.1 the caller of do_splice_direct provides freeze protection. */
static inline ssize_t ufs_splice_chunk(struct file *in, loff_t *ipos,
				       struct file *out, loff_t *opos,
				       size_t len)
{
	ssize_t ret = rw_verify_area(WRITE, out, opos, len);

	if (ret < 0)
		return ret;
	file_start_write(out);
	ret = do_splice_direct(in, ipos, out, opos, len, 0);
	file_end_write(out);
	return ret;
}

static inline ssize_t ufs_write_real(struct file *real, struct iov_iter *iter,
				     loff_t *pos, rwf_t flags)
{
	ssize_t ret;

	file_start_write(real);
	ret = vfs_iter_write(real, iter, pos, flags);
	file_end_write(real);
	return ret;
}

/* 6.1 copies ACLs like any other xattr. */
static inline bool ufs_is_acl_xattr(const char *name)
{
	return false;
}

static inline int ufs_copy_acl(struct vfsmount *lmnt, struct dentry *lower,
			       struct vfsmount *umnt, struct dentry *upper,
			       const char *name)
{
	return -EINVAL;
}

/* 6.1: the hook takes no dentry, and returns 1 to leave the xattr. */
static inline int ufs_lsm_copy_up_xattr(struct dentry *src, const char *name)
{
	int err = security_inode_copy_up_xattr(name);

	return err == -EOPNOTSUPP ? 0 : err;
}

/* 6.1 checks a_ops->direct_IO instead, which union inodes provide. */
static inline void ufs_inherit_odirect(struct file *file, struct file *real)
{
}

/* 6.12 has these accessors; 6.1.192 has only the ctime ones. */
static inline struct timespec64 inode_get_atime(const struct inode *inode)
{
	return inode->i_atime;
}

static inline struct timespec64 inode_get_mtime(const struct inode *inode)
{
	return inode->i_mtime;
}

static inline void inode_set_atime_to_ts(struct inode *inode,
					 struct timespec64 ts)
{
	inode->i_atime = ts;
}

static inline void inode_set_mtime_to_ts(struct inode *inode,
					 struct timespec64 ts)
{
	inode->i_mtime = ts;
}

static inline struct file *ufs_tmpfile_open(const struct path *parent,
					    umode_t mode, int flags,
					    const struct cred *cred)
{
	return vfs_tmpfile_open(mnt_user_ns(parent->mnt), parent, mode,
				flags, cred);
}

/*
 * The real file of the union file @file: 6.1 has no backing files, so it
 * has @file's f_path (what /proc/PID/maps and map_files show) and the
 * inode of @realpath, as overlayfs's real files; file_dentry() of it asks
 * ->d_real (ufs_d_real()), and ufs_upper_file_path() finds its real path.
 */
static inline struct file *ufs_open_presented(struct file *file,
					      const struct path *realpath,
					      int flags,
					      const struct cred *cred)
{
	return open_with_fake_path(&file->f_path, flags,
				   d_inode(realpath->dentry), cred);
}

#define UFS_D_REAL_OP			.d_real = ufs_d_real,
#define ufs_d_real_of(dentry, inode)	d_real(dentry, inode)

#endif

#endif /* _UNIONFS_COMPAT_H */
