// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: regular files. Each open union file holds an open file of the
 * real (topmost) inode and hands every operation to it.
 */
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/pagemap.h>
#include <linux/fs.h>
#include "unionfs.h"

static struct file *ufs_real_file(struct file *file)
{
	return file->private_data;
}

/*
 * Opening for write (or with O_TRUNC) copies the file up first (without
 * its data when O_TRUNC drops it anyway; chunk by chunk as it is written
 * where the mount copies up partially); a read-only open never does. A
 * descriptor opened read-only before a copy-up keeps reading the lower
 * file it opened. A metacopy file is opened in the upper layer and its
 * reads take each chunk from where it is (ufs_read_merged()).
 */
static int unionfs_open(struct inode *inode, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct path realpath;
	struct file *real;
	const struct cred *old;
	int flags = file->f_flags &
		    ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | __O_TMPFILE);
	int err;

	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC)) {
		err = ufs_copy_up_for_write(dentry, file->f_flags);
		if (err)
			return err;
	}
	if (ufs_data_in_lower(inode)) {
		old = ufs_override_creds(inode->i_sb);
		err = ufs_chunks_load(dentry);
		revert_creds(old);
		if (err)
			return err;
	}
	ufs_top_path(dentry, &realpath);
	real = dentry_open(&realpath, flags, UFS_FS(inode->i_sb)->creator_cred);
	if (IS_ERR(real))
		return PTR_ERR(real);
	ufs_inherit_odirect(file, real);
	file->private_data = real;
	return 0;
}

/* Is @real the upper file of a metacopy file, whose data is merged? */
static bool ufs_merged(struct inode *inode, struct file *real)
{
	return ufs_data_in_lower(inode) &&
	       file_inode(real) == UFS_I(inode)->upper;
}

static int unionfs_release(struct inode *inode, struct file *file)
{
	struct file *real = ufs_real_file(file);

	/* A writer's last word on which chunks are up goes to disk. */
	if ((file->f_mode & FMODE_WRITE) && ufs_merged(inode, real)) {
		const struct cred *old = ufs_override_creds(inode->i_sb);
		int err = ufs_chunks_persist(inode, real, false);

		revert_creds(old);
		if (err)
			pr_warn_ratelimited("unionfs: %pD: cannot record the chunks copied up (%d)\n",
					    file, err);
	}
	fput(real);
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

/*
 * Read a metacopy file: each run of chunks from the file that holds it,
 * the upper file or the lower data file. Never past the upper file's size
 * (the file's size).
 */
static ssize_t ufs_read_merged(struct kiocb *iocb, struct iov_iter *iter,
			       struct file *real)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct unionfs_inode *ui = UFS_I(inode);
	/* loaded at open, before the file could be merged */
	struct ufs_chunks *chunks = smp_load_acquire(&ui->chunks);
	rwf_t flags = ufs_iocb_rwf(iocb->ki_flags);
	loff_t size = i_size_read(file_inode(real));
	loff_t chunk = 1LL << chunks->shift;
	ssize_t done = 0, ret = 0;

	while (iov_iter_count(iter) && iocb->ki_pos < size) {
		loff_t pos = iocb->ki_pos, end;
		size_t count = iov_iter_count(iter);
		bool below = ufs_data_in_lower(inode) &&
			     !ufs_chunk_present(chunks, pos);
		struct file *src = below ? ui->data_file : real;
		size_t n;

		/* the run of chunks with the same source */
		end = round_down(pos, chunk) + chunk;
		while (end < size && end - pos < count &&
		       below == (ufs_data_in_lower(inode) &&
				 !ufs_chunk_present(chunks, end)))
			end += chunk;
		end = min(end, size);
		if (below)
			end = min(end, chunks->lower_size);
		n = min_t(loff_t, count, end - pos);

		/* the bit is read before the data it stands for */
		smp_rmb();
		iov_iter_truncate(iter, n);
		ret = vfs_iter_read(src, iter, &iocb->ki_pos, flags);
		iov_iter_reexpand(iter, count - (ret > 0 ? ret : 0));
		if (ret <= 0)
			break;
		done += ret;
		if (ret < n)
			break;
	}
	return done ?: ret;
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
	if (ufs_merged(file_inode(file), real))
		ret = ufs_read_merged(iocb, iter, real);
	else
		ret = vfs_iter_read(real, iter, &iocb->ki_pos,
				    ufs_iocb_rwf(iocb->ki_flags));
	revert_creds(old);
	return ret;
}

/*
 * The union inode's page cache only backs read-only mappings of metacopy
 * files with chunks up (unionfs_mmap()): a page is a merged read.
 */
static int unionfs_read_folio(struct file *file, struct folio *folio)
{
	struct bio_vec bvec = {
		.bv_page = &folio->page,
		.bv_len = PAGE_SIZE,
		.bv_offset = 0,
	};
	struct iov_iter iter;
	struct kiocb kiocb;
	ssize_t ret;

	iov_iter_bvec(&iter, ITER_DEST, &bvec, 1, PAGE_SIZE);
	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = folio_pos(folio);
	ret = unionfs_read_iter(&kiocb, &iter);
	if (ret >= 0) {
		folio_zero_segment(folio, ret, PAGE_SIZE);
		folio_mark_uptodate(folio);
		ret = 0;
	}
	folio_unlock(folio);
	return ret;
}

const struct address_space_operations unionfs_aops = {
	.read_folio	= unionfs_read_folio,
	/* Lets O_DIRECT opens through; the real file does the I/O. */
	.direct_IO	= noop_direct_IO,
};

/* Data changed in [start, end]: drop what the union's page cache has. */
void ufs_data_changed(struct inode *inode, loff_t start, loff_t end)
{
	if (inode->i_mapping->nrpages)
		invalidate_inode_pages2_range(inode->i_mapping,
					      start >> PAGE_SHIFT,
					      end >> PAGE_SHIFT);
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
	/* A metacopy file: the chunks written to come up first. */
	if (ufs_merged(inode, real)) {
		loff_t pos = (iocb->ki_flags & IOCB_APPEND) ?
			     i_size_read(file_inode(real)) : iocb->ki_pos;

		ret = ufs_chunks_prepare(inode, real, pos,
					 pos + iov_iter_count(iter));
		if (ret)
			goto out_revert;
	}
	ret = ufs_write_real(real, iter, &iocb->ki_pos,
			     ufs_iocb_rwf(iocb->ki_flags));
	/* a synchronous write is durable with the chunks it went to */
	if (ret > 0 && (iocb->ki_flags & (IOCB_DSYNC | IOCB_SYNC)) &&
	    ufs_merged(inode, real)) {
		int err = ufs_chunks_persist(inode, real, true);

		if (err)
			ret = err;
	}
out_revert:
	revert_creds(old);
	/* size and times as the upper has them now */
	ufs_copy_attr(inode, file_inode(real));
	if (ret > 0)
		ufs_data_changed(inode, iocb->ki_pos - ret, iocb->ki_pos - 1);
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

	/* Space and holes are the whole file's business: complete it first. */
	if (ufs_merged(inode, real)) {
		ret = ufs_copy_up(file->f_path.dentry);
		if (ret)
			return ret;
	}
	old = ufs_override_creds(inode->i_sb);
	ret = vfs_fallocate(real, mode, offset, len);
	revert_creds(old);
	ufs_copy_attr(inode, file_inode(real));
	ufs_data_changed(inode, offset, LLONG_MAX);
	return ret;
}

static loff_t unionfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *real = ufs_real_file(file);
	loff_t ret;

	/*
	 * SEEK_DATA/SEEK_HOLE/SEEK_END need the real file; keep both
	 * positions in step. Callers sharing the file hold f_pos_lock. The
	 * holes of a metacopy file are in two files: it reports all data
	 * (as a filesystem without SEEK_HOLE support does).
	 */
	if ((whence == SEEK_DATA || whence == SEEK_HOLE) &&
	    ufs_merged(file_inode(file), real)) {
		ret = generic_file_llseek(file, offset, whence);
		real->f_pos = file->f_pos;
		return ret;
	}
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
	/*
	 * A metacopy file is only ever open read-only or write-only here
	 * (read-write opens take all the data: see ufs_copy_up_for_write()),
	 * so its mappings cannot write to it. While its data is all below
	 * they map the lower data file; else the union inode's own page
	 * cache, filled by merged reads (no copy-up: that may not run under
	 * mmap_lock).
	 */
	if (ufs_merged(file_inode(file), real)) {
		struct unionfs_inode *ui = UFS_I(file_inode(file));

		if (ufs_chunks_any(ui->chunks) ||
		    i_size_read(file_inode(real)) != ui->chunks->lower_size)
			return generic_file_readonly_mmap(file, vma);
		real = ui->data_file;
	}
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
	if (ufs_merged(file_inode(file), real))
		ret = ufs_chunks_persist(file_inode(file), real, true);
	else
		ret = 0;
	if (!ret)
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
	/* Extents are shared with the real files: they need all their data. */
	if (ufs_merged(file_inode(in), real_in)) {
		ret = ufs_copy_up(in->f_path.dentry);
		if (ret)
			return ret;
	}
	if (ufs_merged(inode_out, real_out)) {
		ret = ufs_copy_up(out->f_path.dentry);
		if (ret)
			return ret;
	}
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
	if (ret > 0)
		ufs_data_changed(inode_out, pos_out, pos_out + ret - 1);
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
