// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: regular files. Each open union file holds an open file of the
 * real (topmost) inode and hands every operation to it.
 */
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include "unionfs.h"

static struct file *ufs_real_file(struct file *file)
{
	return file->private_data;
}

/*
 * Opening for write (or with O_TRUNC) copies the file up first (without
 * its data when O_TRUNC drops it anyway); a read-only open never does. A
 * descriptor opened read-only before a copy-up keeps reading the lower
 * file it opened. A read-only open of a metacopy file reads the lower
 * file that still holds its data.
 */
static int unionfs_open(struct inode *inode, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct path realpath;
	struct file *real;
	int flags = file->f_flags &
		    ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | __O_TMPFILE);
	int err;

	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC)) {
		err = ufs_copy_up_flags(dentry, file->f_flags);
		if (err)
			return err;
	}
	if (ufs_data_in_lower(inode)) {
		struct unionfs_real *data = &ufs_stack(dentry)->real[1];

		realpath.mnt = ufs_layer_mnt(inode->i_sb, data->layer);
		realpath.dentry = data->dentry;
	} else {
		ufs_top_path(dentry, &realpath);
	}
	real = dentry_open(&realpath, flags, UFS_FS(inode->i_sb)->creator_cred);
	if (IS_ERR(real))
		return PTR_ERR(real);
	ufs_inherit_odirect(file, real);
	file->private_data = real;
	return 0;
}

static int unionfs_release(struct inode *inode, struct file *file)
{
	fput(ufs_real_file(file));
	return 0;
}

/* The per-I/O flags of a kiocb that the real file should honour too. */
static rwf_t ufs_iocb_rwf(int ki_flags)
{
	rwf_t flags = 0;

	if (ki_flags & IOCB_HIPRI)
		flags |= RWF_HIPRI;
	if (ki_flags & IOCB_DSYNC)
		flags |= RWF_DSYNC;
	if (ki_flags & IOCB_SYNC)
		flags |= RWF_SYNC;
	return flags;
}

static ssize_t unionfs_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	old = ufs_override_creds(file_inode(file)->i_sb);
	ret = vfs_iter_read(real, iter, &iocb->ki_pos,
			    ufs_iocb_rwf(iocb->ki_flags));
	revert_creds(old);
	return ret;
}

static ssize_t unionfs_write_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	if (!(iocb->ki_flags & IOCB_NOWAIT))
		inode_lock(inode);
	else if (!inode_trylock(inode))
		return -EAGAIN;
	/*
	 * Set-id bits and file capabilities go on a write by the caller, not
	 * by the mounter (whose CAP_FSETID the upper fs would honour).
	 */
	ufs_copy_attr(inode, file_inode(real));
	ret = file_remove_privs(file);
	if (ret)
		goto out_unlock;
	old = ufs_override_creds(inode->i_sb);
	ret = ufs_write_real(real, iter, &iocb->ki_pos,
			     ufs_iocb_rwf(iocb->ki_flags));
	revert_creds(old);
	/* size and times as the upper has them now */
	ufs_copy_attr(inode, file_inode(real));
out_unlock:
	inode_unlock(inode);
	return ret;
}

static long unionfs_fallocate(struct file *file, int mode, loff_t offset,
			      loff_t len)
{
	struct inode *inode = file_inode(file);
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	long ret;

	old = ufs_override_creds(inode->i_sb);
	ret = vfs_fallocate(real, mode, offset, len);
	revert_creds(old);
	ufs_copy_attr(inode, file_inode(real));
	return ret;
}

static loff_t unionfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *real = ufs_real_file(file);
	loff_t ret;

	/*
	 * SEEK_DATA/SEEK_HOLE/SEEK_END need the real file; keep both
	 * positions in step. Callers sharing the file hold f_pos_lock.
	 */
	real->f_pos = file->f_pos;
	ret = vfs_llseek(real, offset, whence);
	file->f_pos = real->f_pos;
	return ret;
}

static int unionfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	int ret;

	if (!real->f_op->mmap)
		return -ENODEV;
	/* The mapping belongs to the real file from now on. */
	vma_set_file(vma, real);
	old = ufs_override_creds(file_inode(file)->i_sb);
	ret = call_mmap(real, vma);
	revert_creds(old);
	return ret;
}

static int unionfs_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	int ret;

	old = ufs_override_creds(file_inode(file)->i_sb);
	ret = vfs_fsync_range(real, start, end, datasync);
	revert_creds(old);
	return ret;
}

/*
 * FICLONE, FIDEDUPERANGE and copy_file_range between union files: the real
 * files do it (a reflink when both are on one filesystem that can share
 * extents; otherwise the VFS falls back to copying). The destination was
 * copied up when it was opened for write. A dedupe may be asked of a file
 * opened read-only: never touch a lower file's extents for it.
 */
static loff_t unionfs_remap_file_range(struct file *in, loff_t pos_in,
				       struct file *out, loff_t pos_out,
				       loff_t len, unsigned int flags)
{
	struct inode *inode_out = file_inode(out);
	struct file *real_in = ufs_real_file(in);
	struct file *real_out = ufs_real_file(out);
	const struct cred *old;
	loff_t ret;

	if (flags & ~(REMAP_FILE_DEDUP | REMAP_FILE_ADVISORY))
		return -EINVAL;
	if ((flags & REMAP_FILE_DEDUP) &&
	    (file_inode(real_in) != UFS_I(file_inode(in))->upper ||
	     file_inode(real_out) != UFS_I(inode_out)->upper))
		return -EPERM;

	old = ufs_override_creds(inode_out->i_sb);
	if (flags & REMAP_FILE_DEDUP)
		ret = vfs_dedupe_file_range_one(real_in, pos_in, real_out,
						pos_out, len, flags);
	else
		ret = vfs_clone_file_range(real_in, pos_in, real_out, pos_out,
					   len, flags);
	revert_creds(old);
	ufs_copy_attr(inode_out, file_inode(real_out));
	return ret;
}

static int unionfs_fadvise(struct file *file, loff_t offset, loff_t len,
			   int advice)
{
	return vfs_fadvise(ufs_real_file(file), offset, len, advice);
}

const struct file_operations unionfs_file_fops = {
	.open		= unionfs_open,
	.release	= unionfs_release,
	.llseek		= unionfs_llseek,
	.read_iter	= unionfs_read_iter,
	.write_iter	= unionfs_write_iter,
	.fallocate	= unionfs_fallocate,
	.splice_write	= iter_file_splice_write,
	.mmap		= unionfs_mmap,
	.fsync		= unionfs_fsync,
	.fadvise	= unionfs_fadvise,
	.remap_file_range = unionfs_remap_file_range,
	.splice_read	= UFS_SPLICE_READ,
};
