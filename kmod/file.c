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
#include <linux/writeback.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/wait.h>
#include "unionfs.h"

/*
 * An open union file: its real file, and for a read-only open of a
 * metacopy file a file of its lower data that presents the union path,
 * for mappings of it (ufs_maps_union_cache()), or NULL.
 *
 * @upper: a read-only open whose real file is a lower file that has been
 * copied up since reads the upper file from then on, as an open made now
 * would (ufs_real_file()): opened at its first use after the copy-up and
 * set once (cmpxchg; @data with it for a metacopy file), put at release.
 * A writer's real file is the upper file from the start.
 */
struct ufs_file {
	struct file *real;
	struct file *data;
	struct file *upper;
};

#define UFS_FILE(file)	((struct ufs_file *)(file)->private_data)

/*
 * A real file at @realpath for the union file @file, with @cred. It
 * presents the union path in /proc/PID/maps and map_files
 * (ufs_open_presented()), but over a layer that is itself stacked (a
 * union, overlayfs), whose open would take the union's path for its own,
 * it is opened as it is: mappings of it show what that layer presents.
 * Its fsnotify events are the union file's alone.
 */
static struct file *ufs_open_real(struct file *file,
				  const struct path *realpath, int flags,
				  const struct cred *cred)
{
	flags |= __FMODE_NONOTIFY;
	if (realpath->dentry->d_sb->s_stack_depth)
		return dentry_open(realpath, flags, cred);
	return ufs_open_presented(file, realpath, flags, cred);
}

/*
 * The real path of @upper, an upper file of the union @fs: its f_path, or
 * where that is the union path it presents (6.1), the upper layer's entry
 * of its inode.
 */
int ufs_upper_file_path(struct unionfs_fs *fs, struct file *upper,
			struct path *path)
{
	*path = upper->f_path;
	if (d_inode(path->dentry) == file_inode(upper))
		return 0;
	path->mnt = fs->layers[0].mnt;
	path->dentry = file_dentry(upper);
	if (d_inode(path->dentry) != file_inode(upper))
		return -EIO;
	return 0;
}

/*
 * For a read-only open of a metacopy file: the file of its lower data that
 * a read-only mapping of it may map (ufs_maps_union_cache()), presenting
 * the union path; NULL where the lower layer is stacked (the mapping takes
 * ui->data_file then).
 */
static struct file *ufs_open_data(struct file *file, struct dentry *dentry,
				  const struct cred *cred)
{
	struct path lower;
	int err;

	err = ufs_data_path(dentry, &lower);
	if (err)
		return ERR_PTR(err);
	if (lower.dentry->d_sb->s_stack_depth)
		return NULL;
	return ufs_open_presented(file, &lower,
				  O_RDONLY | O_LARGEFILE | __FMODE_NONOTIFY,
				  cred);
}

/*
 * Opening for write (or with O_TRUNC) copies the file up first (only its
 * attributes for O_TRUNC, whose truncate comes after the open succeeded;
 * chunk by chunk as it is written where the mount copies up partially); a
 * read-only open never does. A descriptor opened read-only before a
 * copy-up reads the upper file after it (ufs_real_file()). A metacopy
 * file is opened in the upper layer and its reads take each chunk from
 * where it is (ufs_read_merged()).
 */
/*
 * Test only (selftests/unionfs/metacopy.c), off by default: with
 * test_open_pause set to 1, the next open of a file for reading waits
 * between the two looks it takes at the union inode (the stack top, the
 * chunk map) until test_open_pause is 0 again, so that a test can run a
 * copy-up in between. test_open_paused says when an open waits there.
 * Only root can set it (0600); an O_TRUNC open, which holds write access
 * to the union, never waits.
 */
static unsigned int test_open_pause;
static unsigned int test_open_paused;
static DECLARE_WAIT_QUEUE_HEAD(ufs_test_open_wq);

static int ufs_test_open_pause_set(const char *val,
				   const struct kernel_param *kp)
{
	int err = param_set_uint(val, kp);

	wake_up_all(&ufs_test_open_wq);
	return err;
}

static const struct kernel_param_ops ufs_test_open_pause_ops = {
	.set	= ufs_test_open_pause_set,
	.get	= param_get_uint,
};

module_param_cb(test_open_pause, &ufs_test_open_pause_ops,
		&test_open_pause, 0600);
MODULE_PARM_DESC(test_open_pause,
		 "test only: the next read-only open waits midway until this is 0 (default 0)");
module_param(test_open_paused, uint, 0400);
MODULE_PARM_DESC(test_open_paused,
		 "test only: an open waits for test_open_pause");

static void ufs_test_open_point(struct file *file)
{
	if (likely(!READ_ONCE(test_open_pause)) ||
	    (file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC) ||
	    cmpxchg(&test_open_paused, 0, 1))
		return;
	wait_event_killable(ufs_test_open_wq, !READ_ONCE(test_open_pause));
	WRITE_ONCE(test_open_paused, 0);
}

/* Is @real the upper file of a metacopy file, whose data is merged? */
static bool ufs_merged(struct inode *inode, struct file *real)
{
	return ufs_data_in_lower(inode) &&
	       file_inode(real) == UFS_I(inode)->upper;
}

/* The flags of a union file that its real files are opened with. */
static int ufs_real_flags(struct file *file)
{
	/* appends are asked for per I/O: see ufs_iocb_rwf() */
	return file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |
				 __O_TMPFILE | O_APPEND);
}

/*
 * What ufs_real_file() may do to open the upper file of a read-only open
 * made before a copy-up (ufs_open_upper_late()):
 * UFS_LATE_OPEN: whatever it takes;
 * UFS_LATE_NOWAIT: nothing that blocks (-EAGAIN where it would have to);
 * UFS_LATE_MMAP: open files but not load a chunk map, which waits for
 *	copy_up_lock: under mmap_lock, a copy-up holding it may be waiting
 *	for a freeze that waits for a fault of this very process.
 */
enum ufs_late {
	UFS_LATE_OPEN,
	UFS_LATE_NOWAIT,
	UFS_LATE_MMAP,
};

/*
 * Open the upper file at @path for @file (and for a metacopy file its
 * lower data, in *@data, or NULL), as unionfs_open() would now: checked
 * for the mounter, never O_DIRECT at open (ufs_sync_flags() asks for it
 * per I/O, where the upper fs may refuse it).
 */
static struct file *ufs_open_upper_files(struct file *file,
					 const struct path *path,
					 struct file **data)
{
	struct inode *inode = file_inode(file);
	const struct cred *cred = UFS_FS(inode->i_sb)->creator_cred;
	const struct cred *old;
	struct file *upper;
	int err;

	*data = NULL;
	old = ufs_override_creds(inode->i_sb);
	err = inode_permission(ufs_mnt_idmap(path->mnt), d_inode(path->dentry),
			       MAY_OPEN | MAY_READ);
	revert_creds(old);
	if (err)
		return ERR_PTR(err);
	upper = ufs_open_real(file, path, ufs_real_flags(file) & ~O_DIRECT,
			      cred);
	if (IS_ERR(upper) || !ufs_data_in_lower(inode))
		return upper;
	*data = ufs_open_data(file, file_dentry(file), cred);
	if (IS_ERR(*data)) {
		fput(upper);
		return ERR_CAST(*data);
	}
	return upper;
}

/*
 * The upper file for @file, a read-only open made before the copy-up: for
 * a metacopy file its chunk map is loaded first, as unionfs_open() does.
 * The first opener's files are kept. Its own real file where this name
 * was not copied up (the inode was, under another name: lower layers that
 * overlap) or, under mmap_lock, where the chunk map is not loaded yet: no
 * chunk has been copied up then, so the lower file holds all the data.
 */
static struct file *ufs_open_upper_late(struct file *file, enum ufs_late how)
{
	struct ufs_file *uf = UFS_FILE(file);
	struct dentry *dentry = file_dentry(file);
	struct inode *inode = file_inode(file);
	struct unionfs_inode *ui = UFS_I(inode);
	struct file *upper, *data;
	const struct cred *old;
	struct path path;
	int err;

	/* published in the stack before ui->real switched */
	path.dentry = ufs_upper(dentry);
	if (!path.dentry || d_inode(path.dentry) != ui->upper)
		return uf->real;
	if (how == UFS_LATE_NOWAIT)
		return ERR_PTR(-EAGAIN);
	path.mnt = ufs_layer_mnt(inode->i_sb, 0);
	if (ufs_data_in_lower(inode)) {
		/* pairs with the release in ufs_chunks_load_locked() */
		if (how == UFS_LATE_MMAP && !smp_load_acquire(&ui->chunks))
			return uf->real;
		old = ufs_override_creds(inode->i_sb);
		err = ufs_chunks_load(dentry);
		revert_creds(old);
		if (err)
			return ERR_PTR(err);
	}
	upper = ufs_open_upper_files(file, &path, &data);
	if (IS_ERR(upper))
		return upper;
	if (data && cmpxchg(&uf->data, NULL, data))
		fput(data);
	/* full barrier: whoever loads @upper sees @data and the file */
	if (cmpxchg(&uf->upper, NULL, upper)) {
		fput(upper);
		upper = READ_ONCE(uf->upper);
	}
	return upper;
}

/*
 * The file that the I/O of @file goes to: the real file it opened, or,
 * where that is a lower file the union file has been copied up from since
 * (by a writer through another descriptor), the upper file, so that a
 * read sees what was written (fstests overlay/016). An ERR_PTR where the
 * upper file cannot be opened (or, for UFS_LATE_NOWAIT, not without
 * blocking).
 */
static struct file *ufs_real_file_how(struct file *file, enum ufs_late how)
{
	struct ufs_file *uf = UFS_FILE(file);
	/* pairs with the cmpxchg() in ufs_open_upper_late() */
	struct file *upper = smp_load_acquire(&uf->upper);

	if (upper)
		return upper;
	if (likely(file_inode(uf->real) == ufs_real_inode(file_inode(file))))
		return uf->real;
	return ufs_open_upper_late(file, how);
}

static struct file *ufs_real_file(struct file *file)
{
	return ufs_real_file_how(file, UFS_LATE_OPEN);
}

static int unionfs_open(struct inode *inode, struct file *file)
{
	/* f_path is a filesystem's stacked on us, on 6.1 */
	struct dentry *dentry = file_dentry(file);
	const struct cred *cred = UFS_FS(inode->i_sb)->creator_cred;
	struct path realpath;
	struct ufs_file *uf;
	struct file *real, *data = NULL;
	const struct cred *old;
	int err;

	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC)) {
		err = ufs_copy_up_for_write(dentry, file->f_flags);
		if (err)
			return err;
	}
	/*
	 * The stack top first, then the chunk map: a copy-up sets the
	 * metacopy state and ui->upper before it publishes the upper in the
	 * stack (ufs_copy_up_one()), so an upper top comes with them, and
	 * reads through it are merged with a map loaded here. A lower top
	 * stays the real file: it has all the data.
	 */
	ufs_top_path(dentry, &realpath);
	ufs_test_open_point(file);
	if (realpath.dentry == ufs_upper(dentry) && ufs_data_in_lower(inode)) {
		old = ufs_override_creds(inode->i_sb);
		err = ufs_chunks_load(dentry);
		revert_creds(old);
		if (err)
			return err;
	}
	uf = kzalloc(sizeof(*uf), GFP_KERNEL);
	if (!uf)
		return -ENOMEM;
	real = ufs_open_real(file, &realpath, ufs_real_flags(file), cred);
	if (IS_ERR(real)) {
		kfree(uf);
		return PTR_ERR(real);
	}
	if (!(file->f_mode & FMODE_WRITE) && ufs_merged(inode, real)) {
		data = ufs_open_data(file, dentry, cred);
		if (IS_ERR(data)) {
			fput(real);
			kfree(uf);
			return PTR_ERR(data);
		}
	}
	ufs_inherit_odirect(file, real);
	/* RWF_NOWAIT where the real file can honour it */
	file->f_mode |= real->f_mode & FMODE_NOWAIT;
	uf->real = real;
	uf->data = data;
	file->private_data = uf;
	return 0;
}

static int unionfs_release(struct inode *inode, struct file *file)
{
	struct ufs_file *uf = UFS_FILE(file);

	/* A writer's last word on which chunks are up goes to disk. */
	if ((file->f_mode & FMODE_WRITE) && ufs_merged(inode, uf->real)) {
		const struct cred *old = ufs_override_creds(inode->i_sb);
		int err = ufs_chunks_persist(inode, uf->real, false);

		revert_creds(old);
		if (err)
			pr_warn_ratelimited("unionfs: %pD: cannot record the chunks copied up (%d)\n",
					    file, err);
	}
	fput(uf->real);
	if (uf->upper)
		fput(uf->upper);
	if (uf->data)
		fput(uf->data);
	kfree(uf);
	return 0;
}

/*
 * The per-I/O flags of a kiocb that the real file must honour too. The
 * real file is opened without O_APPEND: whether a write appends is the
 * union kiocb's IOCB_APPEND, which O_APPEND (also set or cleared later by
 * fcntl), RWF_APPEND and RWF_NOAPPEND decide.
 */
static rwf_t ufs_iocb_rwf(int ki_flags)
{
	rwf_t flags = 0;

	if (ki_flags & IOCB_HIPRI)
		flags |= RWF_HIPRI;
	if (ki_flags & IOCB_DSYNC)
		flags |= RWF_DSYNC;
	if (ki_flags & IOCB_SYNC)
		flags |= RWF_SYNC;
	if (ki_flags & IOCB_NOWAIT)
		flags |= RWF_NOWAIT;
	if (ki_flags & IOCB_APPEND)
		flags |= RWF_APPEND;
	return flags;
}

/* The open flags fcntl(F_SETFL) may change that the real file follows. */
#define UFS_SETFL_MASK	(O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)

/*
 * Give the real file the union file's current F_SETFL flags, before each
 * I/O (fcntl changes only the union file's). Racing callers store the
 * same value.
 */
static int ufs_sync_flags(struct file *file, struct file *real)
{
	unsigned int flags = READ_ONCE(file->f_flags) & UFS_SETFL_MASK;
	int err;

	if (!((flags ^ READ_ONCE(real->f_flags)) & UFS_SETFL_MASK))
		return 0;
	if ((flags & O_DIRECT) && !(real->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	if (real->f_op->check_flags) {
		err = real->f_op->check_flags(flags);
		if (err)
			return err;
	}
	spin_lock(&real->f_lock);
	real->f_flags = (real->f_flags & ~UFS_SETFL_MASK) | flags;
	real->f_iocb_flags = iocb_flags(real);
	spin_unlock(&real->f_lock);
	return 0;
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
	rwf_t flags = ufs_iocb_rwf(iocb->ki_flags & ~IOCB_APPEND);
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

		/* RWF_NOWAIT: try again without it, where it can wait */
		if ((flags & RWF_NOWAIT) && !(src->f_mode & FMODE_NOWAIT)) {
			ret = -EAGAIN;
			break;
		}
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

/* Read through the real file (merged for a metacopy file). */
static ssize_t ufs_read(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	ssize_t ret;

	if (IS_ERR(real))
		return PTR_ERR(real);
	/* RWF_NOWAIT where the file opened now cannot: the caller waits */
	if ((iocb->ki_flags & IOCB_NOWAIT) && !(real->f_mode & FMODE_NOWAIT))
		return -EAGAIN;
	old = ufs_override_creds(file_inode(file)->i_sb);
	if (ufs_merged(file_inode(file), real))
		ret = ufs_read_merged(iocb, iter, real);
	else
		ret = vfs_iter_read(real, iter, &iocb->ki_pos,
				    ufs_iocb_rwf(iocb->ki_flags & ~IOCB_APPEND));
	revert_creds(old);
	return ret;
}

/*
 * The union's page cache (see unionfs_mmap()) may hold pages written
 * through a shared mapping: they reach the upper file before any other
 * I/O of [start, end] goes there, as buffered pages do before direct I/O.
 */
int ufs_flush_mapped(struct inode *inode, loff_t start, loff_t end)
{
	if (!ufs_has_mapped_writes(inode))
		return 0;
	return filemap_write_and_wait_range(inode->i_mapping, start, end);
}

static ssize_t unionfs_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	size_t count = iov_iter_count(iter);
	struct file *real;
	int err;

	if (!count)
		return 0;
	real = ufs_real_file_how(iocb->ki_filp,
				 (iocb->ki_flags & IOCB_NOWAIT) ?
				 UFS_LATE_NOWAIT : UFS_LATE_OPEN);
	if (IS_ERR(real))
		return PTR_ERR(real);
	err = ufs_sync_flags(iocb->ki_filp, real);
	if (err)
		return err;
	if ((iocb->ki_flags & IOCB_NOWAIT) && ufs_has_mapped_writes(inode))
		return -EAGAIN;
	/* a writeback error is for fsync to report, not for this read */
	ufs_flush_mapped(inode, iocb->ki_pos, iocb->ki_pos + count - 1);
	return ufs_read(iocb, iter);
}

/*
 * The union inode's page cache backs the mappings of metacopy files
 * (unionfs_mmap()): a page is read by a merged read, and a page written
 * through a shared mapping goes back through the chunk copy-up of a
 * write (unionfs_writepages()).
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
	ret = ufs_read(&kiocb, &iter);
	if (ret >= 0) {
		folio_zero_segment(folio, ret, PAGE_SIZE);
		folio_mark_uptodate(folio);
		ret = 0;
	}
	folio_unlock(folio);
	return ret;
}

/* One writeback pass: the upper file, opened for its writes. */
struct ufs_writeback {
	struct file *out;
};

/*
 * A writeback failure that says nothing about the data: the task doing
 * the writeback is being killed (the chunk copy and the upper's write
 * stop at a fatal signal; the flush may run in any task, a reader's for
 * one), or memory is short. The page stays dirty for a later writeback.
 */
static bool ufs_writeback_retry(int err)
{
	return err == -EINTR || err == -ERESTARTSYS || err == -EAGAIN ||
	       err == -ENOMEM;
}

/* Write @bvec at @pos of @out, to the last byte (a write may stop short). */
static int ufs_writeback_data(struct file *out, struct bio_vec *bvec, loff_t pos)
{
	struct iov_iter iter;
	ssize_t ret;

	iov_iter_bvec(&iter, ITER_SOURCE, bvec, 1, bvec->bv_len);
	while (iov_iter_count(&iter)) {
		ret = ufs_write_real(out, &iter, &pos, 0);
		if (ret < 0)
			return ret;
		if (!ret)
			return -EIO;
	}
	return 0;
}

/*
 * Write one dirty page to the upper file, after the chunks it lies in
 * (as any write does). Never past the upper file's end: a mapping cannot
 * extend a file, so a page there was cut off by a truncate (which waits
 * for unionfs_writepages() to let go of invalidate_lock). A page that
 * could not be written is dirtied again (ufs_writeback_retry()) or lost:
 * then fsync reports the error (the mapping's errseq).
 */
static int ufs_writeback_page(UFS_WB_ITEM_T *item,
			      struct writeback_control *wbc, void *data)
{
	struct folio *folio = ufs_wb_folio(item);
	struct inode *inode = folio->mapping->host;
	struct ufs_writeback *wb = data;
	loff_t pos = folio_pos(folio);
	loff_t size = min(i_size_read(inode), i_size_read(file_inode(wb->out)));
	struct bio_vec bvec = { .bv_page = &folio->page, .bv_offset = 0 };
	int err;

	if (pos >= size) {
		folio_unlock(folio);
		return 0;
	}
	bvec.bv_len = min_t(loff_t, folio_size(folio), size - pos);
	folio_start_writeback(folio);
	/* written again meanwhile, it is dirtied again by page_mkwrite */
	folio_unlock(folio);
	err = ufs_chunks_prepare(inode, wb->out, pos, pos + bvec.bv_len);
	if (!err)
		err = ufs_writeback_data(wb->out, &bvec, pos);
	/* under writeback, the folio cannot be truncated meanwhile */
	if (err && ufs_writeback_retry(err))
		folio_redirty_for_writepage(wbc, folio);
	else if (err)
		mapping_set_error(folio->mapping, err);
	folio_end_writeback(folio);
	return err;
}

static int unionfs_writepages(struct address_space *mapping,
			      struct writeback_control *wbc)
{
	struct inode *inode = mapping->host;
	/* set before the mapping that dirtied the pages could write */
	struct dentry *map_upper = READ_ONCE(UFS_I(inode)->map_upper);
	struct path path = {
		.mnt = UFS_FS(inode->i_sb)->layers[0].mnt,
		.dentry = map_upper,
	};
	struct ufs_writeback wb;
	const struct cred *old;
	int err;

	if (!map_upper)
		return -EIO;
	old = ufs_override_creds(inode->i_sb);
	wb.out = ufs_open_for_chunks(&path);
	if (IS_ERR(wb.out)) {
		err = PTR_ERR(wb.out);
		goto out;
	}
	/* the size stays as it is while the pages go out (unionfs_setattr()) */
	filemap_invalidate_lock_shared(mapping);
	err = write_cache_pages(mapping, wbc, ufs_writeback_page, &wb);
	filemap_invalidate_unlock_shared(mapping);
	/* chunks these pages brought up are marked, after their data */
	if (!err)
		err = ufs_chunks_persist(inode, wb.out, false);
	fput(wb.out);
out:
	revert_creds(old);
	return err;
}

const struct address_space_operations unionfs_aops = {
	.read_folio	= unionfs_read_folio,
	.dirty_folio	= filemap_dirty_folio,
	.writepages	= unionfs_writepages,
	.migrate_folio	= filemap_migrate_folio,
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

/*
 * Would a write of [start, end) to a metacopy file have to copy up a chunk
 * (which RWF_NOWAIT cannot wait for)? Bits are only ever set, so a "no"
 * stays true.
 */
static bool ufs_write_needs_chunks(struct inode *inode, loff_t start,
				   loff_t end)
{
	struct ufs_chunks *chunks;
	loff_t pos;

	/* pairs with the release in ufs_chunks_load_locked() */
	chunks = smp_load_acquire(&UFS_I(inode)->chunks);

	for (pos = start; pos < end && pos < chunks->lower_size;
	     pos = round_down(pos, 1LL << chunks->shift) + (1LL << chunks->shift))
		if (!ufs_chunk_present(chunks, pos))
			return true;
	return false;
}

/*
 * What a write does before the data goes to the real file (the union
 * inode locked): mapped pages of the range out first, set-id bits and
 * capabilities dropped, a metacopy file's chunks copied up. With
 * IOCB_NOWAIT, -EAGAIN instead of anything that would wait.
 */
static ssize_t ufs_write_prepare(struct kiocb *iocb, struct iov_iter *iter,
				 struct file *real)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	bool nowait = iocb->ki_flags & IOCB_NOWAIT;
	loff_t pos = (iocb->ki_flags & IOCB_APPEND) ?
		     i_size_read(file_inode(real)) : iocb->ki_pos;
	loff_t end = pos + iov_iter_count(iter);
	const struct cred *old;
	ssize_t ret;

	ret = ufs_sync_flags(iocb->ki_filp, real);
	if (ret)
		return ret;
	if (nowait && ufs_has_mapped_writes(inode))
		return -EAGAIN;
	ret = ufs_flush_mapped(inode, (iocb->ki_flags & IOCB_APPEND) ?
			       0 : iocb->ki_pos, LLONG_MAX);
	if (ret)
		return ret;
	/*
	 * Set-id bits and file capabilities go on a write by the caller, not
	 * by the mounter (whose CAP_FSETID the upper fs would honour).
	 */
	ufs_copy_attr(inode, file_inode(real));
	ret = kiocb_modified(iocb);
	if (ret || !ufs_merged(inode, real))
		return ret;
	/* A metacopy file: the chunks written to come up first. */
	if (!ufs_write_needs_chunks(inode, pos, end))
		return 0;
	if (nowait)
		return -EAGAIN;
	old = ufs_override_creds(inode->i_sb);
	ret = ufs_chunks_prepare(inode, real, pos, end);
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

	if (IS_ERR(real))
		return PTR_ERR(real);
	if (!iov_iter_count(iter))
		return 0;
	if (!(iocb->ki_flags & IOCB_NOWAIT))
		inode_lock(inode);
	else if (!inode_trylock(inode))
		return -EAGAIN;
	ret = ufs_write_prepare(iocb, iter, real);
	if (ret)
		goto out_unlock;
	/*
	 * The source may be a mapping of a union file, whose faults read
	 * an upper file: fault it in before the upper fs locks its inode
	 * (xfs reads take the lock its writes hold).
	 */
	if (user_backed_iter(iter))
		fault_in_iov_iter_readable(iter, iov_iter_count(iter));
	old = ufs_override_creds(inode->i_sb);
	ret = ufs_write_real(real, iter, &iocb->ki_pos,
			     ufs_iocb_rwf(iocb->ki_flags));
	/* a synchronous write is durable with the chunks it went to */
	if (ret > 0 && (iocb->ki_flags & (IOCB_DSYNC | IOCB_SYNC)) &&
	    ufs_merged(inode, real)) {
		int err = ufs_chunks_persist(inode, real, true);

		if (err)
			ret = err;
	}
	revert_creds(old);
	/* size and times as the upper has them now */
	ufs_copy_attr(inode, file_inode(real));
	if (ret > 0)
		ufs_data_changed(inode, iocb->ki_pos - ret, iocb->ki_pos - 1);
out_unlock:
	inode_unlock(inode);
	return ret;
}

/*
 * Set-id bits and file capabilities go when the caller changes the data
 * (the upper fs would keep them: it sees the mounter's CAP_FSETID).
 * Called with the union inode locked.
 */
static int ufs_remove_privs(struct file *file, struct file *real)
{
	ufs_copy_attr(file_inode(file), file_inode(real));
	return file_remove_privs(file);
}

static long unionfs_fallocate(struct file *file, int mode, loff_t offset,
			      loff_t len)
{
	struct inode *inode = file_inode(file);
	struct file *real = ufs_real_file(file);
	const struct cred *old;
	long ret;

	if (IS_ERR(real))
		return PTR_ERR(real);
	inode_lock(inode);
	ret = ufs_flush_mapped(inode, 0, LLONG_MAX);
	if (ret)
		goto out_unlock;
	/* Space and holes are the whole file's business: complete it first. */
	if (ufs_merged(inode, real)) {
		ret = ufs_copy_up(file_dentry(file));
		if (ret)
			goto out_unlock;
	}
	ret = ufs_remove_privs(file, real);
	if (ret)
		goto out_unlock;
	old = ufs_override_creds(inode->i_sb);
	ret = vfs_fallocate(real, mode, offset, len);
	revert_creds(old);
	ufs_copy_attr(inode, file_inode(real));
	ufs_data_changed(inode, offset, LLONG_MAX);
out_unlock:
	inode_unlock(inode);
	return ret;
}

static loff_t unionfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *real = ufs_real_file(file);
	loff_t ret;

	if (IS_ERR(real))
		return PTR_ERR(real);
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

/*
 * Should a new mapping of @file use the union inode's page cache? A
 * metacopy file's data is in two files, so yes, unless the mapping only
 * reads a file whose data is all below (it maps the lower data file:
 * returned in *@real). Once the union's cache is mapped or holds pages,
 * later mappings use it too, or they would not see each other's writes.
 */
static bool ufs_maps_union_cache(struct file *file, struct vm_area_struct *vma,
				 struct file **real)
{
	struct inode *inode = file_inode(file);
	struct unionfs_inode *ui = UFS_I(inode);

	if (file_inode(*real) != ui->upper)
		return false;
	if (!ufs_merged(inode, *real))
		return mapping_mapped(inode->i_mapping) ||
		       inode->i_mapping->nrpages;
	if (!(file->f_mode & FMODE_WRITE) && !ufs_chunks_any(ui->chunks) &&
	    i_size_read(file_inode(*real)) == ui->chunks->lower_size &&
	    !mapping_mapped(inode->i_mapping)) {
		*real = UFS_FILE(file)->data ?: ui->data_file;
		return false;
	}
	return true;
}

/*
 * No copy-up may run here (under mmap_lock): the union's page cache is
 * filled by merged reads, and its pages written through a shared mapping
 * are copied up at writeback (unionfs_writepages()).
 */
static int unionfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct unionfs_inode *ui = UFS_I(file_inode(file));
	struct file *real = ufs_real_file_how(file, UFS_LATE_MMAP);
	const struct cred *old;
	int ret;

	if (IS_ERR(real))
		return PTR_ERR(real);
	if (!real->f_op->mmap)
		return -ENODEV;
	if (ufs_maps_union_cache(file, vma, &real)) {
		if ((vma->vm_flags & VM_SHARED) &&
		    (vma->vm_flags & VM_MAYWRITE) && !READ_ONCE(ui->map_upper)) {
			struct path path;
			int err;

			err = ufs_upper_file_path(UFS_FS(file_inode(file)->i_sb),
						  real, &path);
			if (err)
				return err;
			dget(path.dentry);
			if (cmpxchg(&ui->map_upper, NULL, path.dentry))
				dput(path.dentry);
		}
		return generic_file_mmap(file, vma);
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

	if (IS_ERR(real))
		return PTR_ERR(real);
	/* pages written through a mapping, and their errors since open */
	ret = file_write_and_wait_range(file, start, end);
	if (ret)
		return ret;
	old = ufs_override_creds(file_inode(file)->i_sb);
	if (ufs_merged(file_inode(file), real))
		ret = ufs_chunks_persist(file_inode(file), real, true);
	if (!ret)
		ret = vfs_fsync_range(real, start, end, datasync);
	revert_creds(old);
	return ret;
}

/*
 * The range checks a filesystem makes of a clone before it changes anything
 * (generic_remap_file_range_prep(): block-aligned offsets, a source range
 * inside the source file, a length that is not shortened unless the caller
 * allows it, no overlap within one file), made on the real files: a clone
 * they refuse must not drop set-id bits first. Returns 1 when there is
 * nothing to clone, 0 to go on, or the error. Limits it does not model
 * (RLIMIT_FSIZE, s_maxbytes) fail after the drop: the harmless direction.
 */
static int ufs_clone_range_check(struct file *real_in, loff_t pos_in,
				 struct file *real_out, loff_t pos_out,
				 loff_t len, unsigned int flags)
{
	struct inode *in = file_inode(real_in);
	loff_t size_in = i_size_read(in);
	loff_t bs = file_inode(real_out)->i_sb->s_blocksize;
	loff_t count, span;

	if (!len) {		/* to the end of the source */
		if (pos_in > size_in)
			return -EINVAL;
		len = size_in - pos_in;
		if (!len)
			return 1;
	}
	if (!IS_ALIGNED(pos_in, bs) || !IS_ALIGNED(pos_out, bs))
		return -EINVAL;
	if (pos_in + len < pos_in || pos_out + len < pos_out)
		return -EINVAL;
	if (pos_in >= size_in)
		return -EINVAL;
	count = min(len, size_in - pos_in);
	/* a range up to the source's end takes its last partial block */
	if (pos_in + count == size_in) {
		span = ALIGN(size_in, bs) - pos_in;
	} else {
		count = ALIGN_DOWN(count, bs);
		span = count;
	}
	if (in == file_inode(real_out) && pos_out + span > pos_in &&
	    pos_out < pos_in + span)
		return -EINVAL;
	if (count != len && !(flags & REMAP_FILE_CAN_SHORTEN))
		return -EINVAL;
	return count ? 0 : 1;
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

	if (IS_ERR(real_in))
		return PTR_ERR(real_in);
	if (IS_ERR(real_out))
		return PTR_ERR(real_out);
	if (flags & ~(REMAP_FILE_DEDUP | REMAP_FILE_ADVISORY))
		return -EINVAL;
	inode_lock(inode_out);
	ret = ufs_flush_mapped(file_inode(in), 0, LLONG_MAX);
	if (!ret)
		ret = ufs_flush_mapped(inode_out, 0, LLONG_MAX);
	if (ret)
		goto out_unlock;
	/* Extents are shared with the real files: they need all their data. */
	if (ufs_merged(file_inode(in), real_in)) {
		ret = ufs_copy_up(file_dentry(in));
		if (ret)
			goto out_unlock;
	}
	if (ufs_merged(inode_out, real_out)) {
		ret = ufs_copy_up(file_dentry(out));
		if (ret)
			goto out_unlock;
	}
	ret = -EPERM;
	if ((flags & REMAP_FILE_DEDUP) &&
	    (file_inode(real_in) != UFS_I(file_inode(in))->upper ||
	     file_inode(real_out) != UFS_I(inode_out)->upper))
		goto out_unlock;
	/* what the real files cannot do changes nothing, as on a bare fs */
	ret = -EOPNOTSUPP;
	if (!real_out->f_op->remap_file_range)
		goto out_unlock;
	ret = -EXDEV;
	if (file_inode(real_in)->i_sb != file_inode(real_out)->i_sb)
		goto out_unlock;
	/*
	 * a dedupe leaves the data as it was, and set-id bits with it; a
	 * clone drops them once its range is known to be good. A clone of
	 * nothing is done here: the real clone is not asked, as it would
	 * measure the source again under its own locks (a writer may have
	 * grown it meanwhile) and clone data into a file that kept its
	 * set-id bits.
	 */
	ret = 0;
	if (!(flags & REMAP_FILE_DEDUP)) {
		ret = ufs_clone_range_check(real_in, pos_in, real_out, pos_out,
					    len, flags);
		if (ret > 0) {
			ret = 0;
			goto out_unlock;
		}
		if (!ret)
			ret = ufs_remove_privs(out, real_out);
	}
	if (ret)
		goto out_unlock;

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
out_unlock:
	inode_unlock(inode_out);
	return ret;
}

static int unionfs_fadvise(struct file *file, loff_t offset, loff_t len,
			   int advice)
{
	struct file *real = ufs_real_file(file);

	if (IS_ERR(real))
		return PTR_ERR(real);
	return vfs_fadvise(real, offset, len, advice);
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
