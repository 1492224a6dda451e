// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: partial copy-up. A metacopy file (see copy_up.c) that is
 * written gets only the chunks the writes touch: each is copied up from
 * the lower file just before its first write, and reads take every chunk
 * from where it is (struct ufs_chunks). The chunk map is kept in memory
 * and written to the upper file's metacopy xattr once the upper data is
 * synced, at fsync and at the last close of a writer. When every chunk is
 * present the mark goes and the file is an ordinary upper file.
 *
 * Everything here runs with the mounter's credentials.
 */
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/file.h>
#include <linux/bitmap.h>
#include <linux/xattr.h>
#include <linux/sched/signal.h>
#include <linux/falloc.h>
#include "unionfs.h"

/* Chunk size of a new map: the mount's, larger if the file needs it. */
static unsigned int ufs_chunk_shift_for(struct unionfs_fs *fs, loff_t size)
{
	unsigned int shift = fs->chunk_shift ?: 20;

	while (shift < UFS_CHUNK_MAX_SHIFT &&
	       DIV_ROUND_UP_ULL(size, 1ULL << shift) > UFS_CHUNK_MAX_NR)
		shift++;
	return shift;
}

static struct ufs_chunks *ufs_chunks_alloc(loff_t lower_size,
					   unsigned int shift)
{
	unsigned long nr = DIV_ROUND_UP_ULL(lower_size, 1ULL << shift);
	struct ufs_chunks *chunks;

	if (nr > UFS_CHUNK_MAX_NR)
		return ERR_PTR(-EIO);
	chunks = kzalloc(struct_size(chunks, map, BITS_TO_LONGS(nr)),
			 GFP_KERNEL);
	if (!chunks)
		return ERR_PTR(-ENOMEM);
	chunks->lower_size = lower_size;
	chunks->shift = shift;
	chunks->nr = nr;
	return chunks;
}

/*
 * The map as the mark's value says it: empty (no chunk yet), or the
 * header and one bit per chunk. Anything else, or a map of another lower
 * size (the lower file changed), is corrupt.
 */
static struct ufs_chunks *ufs_chunks_parse(struct unionfs_fs *fs,
					   const u8 *value, ssize_t len,
					   loff_t lower_size)
{
	const struct ufs_chunk_disk *disk = (const void *)value;
	struct ufs_chunks *chunks;
	unsigned long i;

	if (!len)
		return ufs_chunks_alloc(lower_size,
					ufs_chunk_shift_for(fs, lower_size));
	if (len < sizeof(*disk) || disk->version != UFS_CHUNK_VERSION ||
	    disk->shift < UFS_CHUNK_MIN_SHIFT ||
	    disk->shift > UFS_CHUNK_MAX_SHIFT ||
	    le64_to_cpu(disk->lower_size) != lower_size)
		return ERR_PTR(-EIO);
	chunks = ufs_chunks_alloc(lower_size, disk->shift);
	if (IS_ERR(chunks))
		return chunks;
	if (len != sizeof(*disk) + DIV_ROUND_UP(chunks->nr, 8)) {
		kfree(chunks);
		return ERR_PTR(-EIO);
	}
	value += sizeof(*disk);
	for (i = 0; i < chunks->nr; i++)
		if (value[i / 8] & (1 << (i % 8)))
			__set_bit(i, chunks->map);
	return chunks;
}

/*
 * Read the chunk map of a metacopy file and open its lower data file
 * (once per inode). Called with copy_up_lock held.
 */
int ufs_chunks_load_locked(struct dentry *dentry)
{
	struct unionfs_fs *fs = UFS_FS(dentry->d_sb);
	struct unionfs_inode *ui = UFS_I(d_inode(dentry));
	struct dentry *upper = ufs_upper(dentry);
	struct path lower;
	struct ufs_chunks *chunks;
	struct file *data;
	ssize_t len;
	u8 *value;
	int err;

	err = ufs_data_path(dentry, &lower);
	if (err || ui->chunks)
		return err;
	len = vfs_getxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_METACOPY,
			   NULL, 0);
	if (len < 0)
		return len;
	if (len > XATTR_SIZE_MAX)
		return -EIO;
	value = kmalloc(len + 1, GFP_KERNEL);
	if (!value)
		return -ENOMEM;
	len = vfs_getxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_METACOPY,
			   value, len);
	chunks = len < 0 ? ERR_PTR(len) :
		 ufs_chunks_parse(fs, value, len,
				  i_size_read(d_inode(lower.dentry)));
	kfree(value);
	if (IS_ERR(chunks)) {
		if (PTR_ERR(chunks) == -EIO)
			pr_warn_ratelimited("unionfs: %pd: corrupt metacopy chunk map\n",
					    dentry);
		return PTR_ERR(chunks);
	}
	data = dentry_open(&lower, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(data)) {
		kfree(chunks);
		return PTR_ERR(data);
	}
	ui->data_file = data;
	/* pairs with the acquires in the readers: the map is complete */
	smp_store_release(&ui->chunks, chunks);
	return 0;
}

int ufs_chunks_load(struct dentry *dentry)
{
	struct unionfs_inode *ui = UFS_I(d_inode(dentry));
	struct path lower;
	int err;

	/* every name of the file must have the data below it */
	err = ufs_data_path(dentry, &lower);
	if (err)
		return err;
	/* pairs with the release above: a map seen is a complete map */
	if (smp_load_acquire(&ui->chunks))
		return 0;
	mutex_lock(&ui->copy_up_lock);
	err = ui->metacopy ? ufs_chunks_load_locked(dentry) : 0;
	mutex_unlock(&ui->copy_up_lock);
	return err;
}

/* Has any chunk been copied up? (The map is loaded.) */
bool ufs_chunks_any(struct ufs_chunks *chunks)
{
	return !bitmap_empty(chunks->map, chunks->nr);
}

/* Is the data at @pos in the upper file? */
bool ufs_chunk_present(struct ufs_chunks *chunks, loff_t pos)
{
	if (pos >= chunks->lower_size)
		return true;
	return test_bit(pos >> chunks->shift, chunks->map);
}

/*
 * Make [start, end) of @out a hole before data is copied there, since the
 * copy skips the holes of the source. An upper file's range may hold
 * bytes a crash left behind: a chunk written and synced whose map bit
 * never reached the disk (the map is written after the data) reads from
 * below again, and its old bytes must not come back through the holes of
 * a new copy. A range without data, as in every file this mount made,
 * costs one SEEK_DATA. Returns 1 when @out cannot punch holes: the copy
 * must then write the source's holes as zeros.
 */
static int ufs_clear_range(struct file *out, loff_t start, loff_t end)
{
	loff_t data = vfs_llseek(out, start, SEEK_DATA);
	int err;

	if (data == -ENXIO || (data >= 0 && data >= end))
		return 0;
	err = vfs_fallocate(out, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    start, end - start);
	return err == -EOPNOTSUPP ? 1 : err;
}

/*
 * Make [start, end) of @out a copy of the same range of @in, leaving the
 * holes of @in holes where @out can have them. With @to_end, a hole after
 * the first data is copied as zeros: finding where a hole starts may walk
 * the whole rest of the file (tmpfs looks at every page), too much for one
 * chunk. Returns the bytes copied.
 */
ssize_t ufs_copy_range(struct file *in, struct file *out, loff_t start,
		       loff_t end, bool to_end)
{
	loff_t pos = start, copied = 0;
	int dense = ufs_clear_range(out, start, end);

	if (dense < 0)
		return dense;
	while (pos < end) {
		loff_t data, hole = end;

		data = dense ? pos : vfs_llseek(in, pos, SEEK_DATA);
		if (data == -ENXIO || data >= end)
			break;			/* only a hole is left */
		if (data < 0)
			data = pos;		/* no SEEK_DATA: copy it all */
		if (!to_end && !dense)
			hole = vfs_llseek(in, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		pos = data;
		while (pos < hole) {
			loff_t opos = pos;
			size_t len = min_t(loff_t, hole - pos, SZ_1M);
			ssize_t n;

			if (fatal_signal_pending(current))
				return -EINTR;
			n = ufs_splice_chunk(in, &pos, out, &opos, len);
			if (n <= 0)
				return n ? n : -EIO;
			copied += n;
		}
	}
	return copied;
}

/* Copy up chunk @nr (copy_up_lock held). */
static int ufs_chunk_copy(struct inode *inode, struct file *out,
			  unsigned long nr)
{
	struct unionfs_fs *fs = UFS_FS(inode->i_sb);
	struct unionfs_inode *ui = UFS_I(inode);
	struct ufs_chunks *chunks = ui->chunks;
	loff_t start = (loff_t)nr << chunks->shift;
	loff_t end = min_t(loff_t, start + (1LL << chunks->shift),
			   chunks->lower_size);
	ssize_t n;

	n = ufs_copy_range(ui->data_file, out, start, end, true);
	if (n < 0)
		return n;
	ufs_stat_inc(fs, chunks_copied);
	ufs_stat_add(fs, copy_up_bytes, n);
	/* the data is in the upper file before the bit says so */
	smp_mb__before_atomic();
	set_bit(nr, chunks->map);
	chunks->dirty = true;
	return 0;
}

/*
 * The upper file at @path, opened for chunk copies and writeback (no
 * O_APPEND, no O_DIRECT: whatever the user's open had).
 */
struct file *ufs_open_for_chunks(const struct path *path)
{
	return dentry_open(path, O_WRONLY | O_LARGEFILE, current_cred());
}

/*
 * Before a write of [start, end) to a metacopy file through @upper: copy
 * up the chunks it touches that are still below.
 */
int ufs_chunks_prepare(struct inode *inode, struct file *upper, loff_t start,
		       loff_t end)
{
	struct unionfs_inode *ui = UFS_I(inode);
	struct ufs_chunks *chunks;
	struct file *out = NULL;
	unsigned long nr, last;
	int err = 0;

	mutex_lock(&ui->copy_up_lock);
	chunks = ui->chunks;
	if (!ui->metacopy || !chunks || start >= chunks->lower_size ||
	    end <= start)
		goto out;
	last = min_t(unsigned long, (end - 1) >> chunks->shift,
		     chunks->nr - 1);
	for (nr = start >> chunks->shift; nr <= last; nr++) {
		if (test_bit(nr, chunks->map))
			continue;
		if (!out) {
			struct path path;

			err = ufs_upper_file_path(UFS_FS(inode->i_sb), upper,
						  &path);
			out = err ? ERR_PTR(err) : ufs_open_for_chunks(&path);
			if (IS_ERR(out)) {
				err = PTR_ERR(out);
				out = NULL;
				break;
			}
		}
		err = ufs_chunk_copy(inode, out, nr);
		if (err)
			break;
	}
	if (out)
		fput(out);
out:
	mutex_unlock(&ui->copy_up_lock);
	return err;
}

/*
 * Copy up every chunk still below (copy_up_lock held, map loaded): the
 * first step of completing a file some chunks of which are up already.
 */
int ufs_chunks_fill_locked(struct inode *inode, struct file *out)
{
	struct ufs_chunks *chunks = UFS_I(inode)->chunks;
	unsigned long nr;
	int err;

	for (nr = 0; nr < chunks->nr; nr++) {
		if (test_bit(nr, chunks->map))
			continue;
		err = ufs_chunk_copy(inode, out, nr);
		if (err)
			return err;
	}
	return 0;
}

static int ufs_chunks_write_mark(struct unionfs_fs *fs, struct dentry *upper,
				 struct ufs_chunks *chunks)
{
	size_t len = sizeof(struct ufs_chunk_disk) + DIV_ROUND_UP(chunks->nr, 8);
	struct ufs_chunk_disk *disk;
	unsigned long i;
	u8 *bits;
	int err;

	disk = kzalloc(len, GFP_KERNEL);
	if (!disk)
		return -ENOMEM;
	disk->version = UFS_CHUNK_VERSION;
	disk->shift = chunks->shift;
	disk->lower_size = cpu_to_le64(chunks->lower_size);
	bits = (u8 *)(disk + 1);
	for_each_set_bit(i, chunks->map, chunks->nr)
		bits[i / 8] |= 1 << (i % 8);
	err = vfs_setxattr(ufs_mnt_idmap(fs->layers[0].mnt), upper,
			   UNIONFS_XATTR_METACOPY, disk, len, 0);
	kfree(disk);
	return err;
}

/*
 * Write the map to the mark (or remove the mark: every chunk is up), after
 * syncing the upper data: the mark may only name chunks whose data is on
 * disk. The mark itself is not synced yet (copy_up_lock held).
 */
static int ufs_chunks_record(struct unionfs_fs *fs, struct file *upper,
			     struct ufs_chunks *chunks)
{
	struct path path;
	int err;

	err = ufs_upper_file_path(fs, upper, &path);
	if (!err && !fs->is_volatile)
		err = vfs_fsync(upper, 1);
	if (!err)
		err = mnt_want_write(path.mnt);
	if (err)
		return err;
	if (bitmap_full(chunks->map, chunks->nr))
		err = vfs_removexattr(ufs_mnt_idmap(path.mnt),
				      path.dentry, UNIONFS_XATTR_METACOPY);
	else
		err = ufs_chunks_write_mark(fs, path.dentry, chunks);
	mnt_drop_write(path.mnt);
	if (err)
		return err;
	chunks->dirty = false;
	chunks->unsynced = true;
	return 0;
}

/*
 * Make the chunk map on disk what it is in memory (ufs_chunks_record()).
 * With @sync (fsync, fdatasync, msync, O_SYNC and O_DSYNC writes), make it
 * durable too, also when an earlier call wrote it without a sync (the last
 * close of another writer, writeback of mapped pages): a full fsync of the
 * upper, as a datasync need not commit an xattr. Removing the mark is
 * always made durable before the file counts as complete: from then on a
 * datasync of the file syncs only its data.
 */
int ufs_chunks_persist(struct inode *inode, struct file *upper, bool sync)
{
	struct unionfs_fs *fs = UFS_FS(inode->i_sb);
	struct unionfs_inode *ui = UFS_I(inode);
	struct ufs_chunks *chunks;
	bool complete;
	int err = 0;

	mutex_lock(&ui->copy_up_lock);
	chunks = ui->chunks;
	if (!ui->metacopy || !chunks)
		goto out;
	if (chunks->dirty) {
		err = ufs_chunks_record(fs, upper, chunks);
		if (err)
			goto out;
	}
	complete = bitmap_full(chunks->map, chunks->nr);
	if (chunks->unsynced && (sync || complete)) {
		if (!fs->is_volatile)
			err = vfs_fsync(upper, 0);
		if (err)
			goto out;
		chunks->unsynced = false;
	}
	if (complete) {
		/* pairs with ufs_data_in_lower() */
		smp_store_release(&ui->metacopy, false);
		ufs_stat_inc(fs, data_completions);
	}
out:
	mutex_unlock(&ui->copy_up_lock);
	return err;
}
