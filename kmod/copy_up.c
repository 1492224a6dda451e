// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: copy-up of an object from a lower layer into the upper layer.
 *
 * The copy is made in workdir/staging under a temporary name: created,
 * filled (reflink first, else data chunks that skip holes), given the
 * lower object's xattrs, owner, mode and times, fsync'd, and only then
 * renamed into the upper directory. A failure at any point removes the
 * staging entry and leaves the union showing the lower object unchanged.
 * Parents are copied up first. Runs with the mounter's credentials.
 */
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/file.h>
#include <linux/namei.h>
#include <linux/xattr.h>
#include <linux/sched/signal.h>
#include <linux/fsnotify.h>
#include "unionfs.h"

static atomic_t ufs_tmp_seq = ATOMIC_INIT(0);

/* A staging entry: a fresh, unused name in workdir/staging. */
struct dentry *ufs_staging_lookup(struct unionfs_fs *fs)
{
	char name[32];
	int len = snprintf(name, sizeof(name), "#%x.%x", current->pid,
			   atomic_inc_return(&ufs_tmp_seq));

	return lookup_one_len(name, fs->staging, len);
}

/* Remove a staging entry (staging must be locked). */
void ufs_staging_remove(struct unionfs_fs *fs, struct dentry *tmp)
{
	struct inode *sdir = d_inode(fs->staging);
	UFS_IDMAP_T *idmap = ufs_mnt_idmap(fs->layers[0].mnt);

	if (d_is_negative(tmp) || tmp->d_parent != fs->staging)
		return;
	if (d_is_dir(tmp))
		vfs_rmdir(idmap, sdir, tmp);
	else
		vfs_unlink(idmap, sdir, tmp, NULL);
}

/*
 * Copy @size bytes of @lower into @tmp: a clone when the filesystem can
 * share extents (@clone_only: nothing else), else the data without holes.
 * Synced unless the mount is volatile.
 */
static int ufs_copy_data(struct unionfs_fs *fs, const struct path *lower,
			 struct dentry *tmp, loff_t size, bool clone_only)
{
	struct path upath = { .mnt = fs->layers[0].mnt, .dentry = tmp };
	struct file *in, *out;
	ssize_t copied;
	int err = 0;

	in = dentry_open(lower, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(in))
		return PTR_ERR(in);
	out = dentry_open(&upath, O_WRONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(out)) {
		fput(in);
		return PTR_ERR(out);
	}

	/* Same filesystem and it can share extents: no data moves at all. */
	if (size && vfs_clone_file_range(in, 0, out, 0, size, 0) == size)
		goto sync;
	if (clone_only) {
		err = -EOPNOTSUPP;
		goto out;
	}
	copied = ufs_copy_range(in, out, 0, size, false);
	if (copied < 0) {
		err = copied;
		goto out;
	}
	/* A trailing hole: give the copy its full size. */
	if (i_size_read(file_inode(out)) < size) {
		err = vfs_truncate(&upath, size);
		if (err)
			goto out;
	}
	ufs_stat_add(fs, copy_up_bytes, copied);
sync:
	if (!fs->is_volatile)
		err = vfs_fsync(out, 0);
out:
	fput(out);
	fput(in);
	return err;
}

/* Copy every xattr but our own (and overlayfs's markers). */
static int ufs_copy_xattrs(struct unionfs_fs *fs, const struct path *lower,
			   struct dentry *tmp)
{
	UFS_IDMAP_T *uidmap = ufs_mnt_idmap(fs->layers[0].mnt);
	UFS_IDMAP_T *lidmap = ufs_mnt_idmap(lower->mnt);
	ssize_t len, pos, vlen;
	char *names, *value = NULL;
	size_t vsize = 0;
	int err = 0;

	len = vfs_listxattr(lower->dentry, NULL, 0);
	if (len <= 0)
		return len == -EOPNOTSUPP ? 0 : len;
	names = kvmalloc(len, GFP_KERNEL);
	if (!names)
		return -ENOMEM;
	len = vfs_listxattr(lower->dentry, names, len);
	if (len < 0) {
		err = len;
		goto out;
	}
	for (pos = 0; pos < len; pos += strlen(names + pos) + 1) {
		const char *name = names + pos;

		if (ufs_is_private_xattr(name))
			continue;
		/* an LSM may keep its own labels (security.evm, selinux) */
		err = ufs_lsm_copy_up_xattr(lower->dentry, name);
		if (err < 0)
			goto out;
		if (err) {
			err = 0;
			continue;
		}
		if (ufs_is_acl_xattr(name)) {
			err = ufs_copy_acl(lower->mnt, lower->dentry,
					   fs->layers[0].mnt, tmp, name);
			if (err)
				goto out;
			continue;
		}
		vlen = vfs_getxattr(lidmap, lower->dentry, name, NULL, 0);
		if (vlen == -ENODATA)
			continue;
		if (vlen < 0) {
			err = vlen;
			goto out;
		}
		if (vlen > vsize) {
			kvfree(value);
			value = kvmalloc(vlen, GFP_KERNEL);
			vsize = value ? vlen : 0;
			if (!value) {
				err = -ENOMEM;
				goto out;
			}
		}
		vlen = vfs_getxattr(lidmap, lower->dentry, name, value, vlen);
		if (vlen < 0) {
			err = vlen;
			goto out;
		}
		err = vfs_setxattr(uidmap, tmp, name, value, vlen, 0);
		/* A name the upper fs has no room for is not ours to invent. */
		if (err == -EOPNOTSUPP)
			err = 0;
		if (err)
			goto out;
	}
out:
	kvfree(value);
	kvfree(names);
	return err;
}

/* Owner first (it clears set-id bits), then mode, then times. */
static int ufs_copy_attrs(struct unionfs_fs *fs, struct dentry *tmp,
			  const struct kstat *stat)
{
	UFS_IDMAP_T *idmap = ufs_mnt_idmap(fs->layers[0].mnt);
	struct inode *inode = d_inode(tmp);
	struct iattr attr = {
		.ia_valid = ATTR_UID | ATTR_GID,
		.ia_vfsuid = VFSUIDT_INIT(stat->uid),
		.ia_vfsgid = VFSGIDT_INIT(stat->gid),
	};
	int err;

	inode_lock(inode);
	err = notify_change(idmap, tmp, &attr, NULL);
	if (!err && !S_ISLNK(stat->mode)) {
		attr.ia_valid = ATTR_MODE;
		attr.ia_mode = stat->mode;
		err = notify_change(idmap, tmp, &attr, NULL);
	}
	if (!err) {
		attr.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
				ATTR_MTIME_SET;
		attr.ia_atime = stat->atime;
		attr.ia_mtime = stat->mtime;
		err = notify_change(idmap, tmp, &attr, NULL);
	}
	inode_unlock(inode);
	return err;
}

/* Make the staging object of the lower's type (staging is locked). */
static int ufs_create_staging(struct unionfs_fs *fs, struct dentry *tmp,
			      struct dentry *lower, const struct kstat *stat)
{
	UFS_IDMAP_T *idmap = ufs_mnt_idmap(fs->layers[0].mnt);
	struct inode *sdir = d_inode(fs->staging);
	DEFINE_DELAYED_CALL(done);
	const char *link;
	int err;

	switch (stat->mode & S_IFMT) {
	case S_IFREG:
		return vfs_create(idmap, sdir, tmp, S_IFREG | 0600, true);
	case S_IFDIR:
		return vfs_mkdir(idmap, sdir, tmp, 0700);
	case S_IFLNK:
		link = vfs_get_link(lower, &done);
		if (IS_ERR(link))
			return PTR_ERR(link);
		err = vfs_symlink(idmap, sdir, tmp, link);
		do_delayed_call(&done);
		return err;
	default:
		return vfs_mknod(idmap, sdir, tmp, stat->mode, stat->rdev);
	}
}

/*
 * Make the staging object with the credentials an LSM asks for a copy of
 * @dentry (security_inode_copy_up(): SELinux gives it the label of the
 * object copied, not the mounter's).
 */
static int ufs_create_staging_as(struct unionfs_fs *fs, struct dentry *dentry,
				 struct dentry *tmp, struct dentry *lower,
				 const struct kstat *stat)
{
	struct cred *cred = NULL;
	const struct cred *old = NULL;
	int err;

	err = security_inode_copy_up(dentry, &cred);
	if (err)
		return err;
	if (cred)
		old = override_creds(cred);
	err = ufs_create_staging(fs, tmp, lower, stat);
	if (cred) {
		revert_creds(old);
		put_cred(cred);
	}
	return err;
}

/*
 * Record the union inode number so st_ino survives umount/mount, with the
 * number of the upper inode it belongs to (ufs_read_origin_ino()).
 */
static int ufs_set_origin_ino(struct unionfs_fs *fs, struct dentry *tmp,
			      u64 ino)
{
	char buf[48];
	int len = snprintf(buf, sizeof(buf), "%llu:%lu", ino,
			   d_inode(tmp)->i_ino);

	return vfs_setxattr(ufs_mnt_idmap(fs->layers[0].mnt), tmp,
			    UNIONFS_XATTR_INO, buf, len, 0);
}

/*
 * What a copy-up of a regular file takes along. Directories, symlinks and
 * special files are always copied whole.
 */
enum ufs_copy_mode {
	UFS_COPY_DATA,		/* the whole file */
	UFS_COPY_NO_DATA,	/* the caller truncates it to 0 right after */
	UFS_COPY_META,		/* attributes only, if the mount allows it */
	UFS_COPY_PARTIAL,	/* for a write: chunks as they are written */
	UFS_COPY_CLONE,		/* completion: a whole-file clone or nothing */
};

static int ufs_copy_up_one(struct dentry *dentry, enum ufs_copy_mode mode)
{
	struct super_block *sb = dentry->d_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct unionfs_inode *ui = UFS_I(d_inode(dentry));
	struct dentry *parent = dentry->d_parent;
	struct dentry *uparent = ufs_upper(parent);
	struct vfsmount *umnt = fs->layers[0].mnt;
	UFS_IDMAP_T *idmap = ufs_mnt_idmap(umnt);
	struct dentry *tmp = NULL, *target, *trap;
	struct path lower;
	struct kstat stat;
	bool metacopy = false;
	int err;

	if (!uparent)
		return -EIO;	/* parents are copied up first */

	mutex_lock(&ui->copy_up_lock);
	if (ufs_upper(dentry)) {
		err = 0;	/* another task did it while we waited */
		goto out_unlock;
	}
	/*
	 * The inode got an upper through another name: only lower layers
	 * that overlap (one inside another) can show one inode twice.
	 */
	if (ui->upper) {
		pr_warn_ratelimited("unionfs: %pd: already copied up under another name (overlapping lower layers?)\n",
				    dentry);
		err = -EIO;
		goto out_unlock;
	}
	ufs_top_path(dentry, &lower);
	/*
	 * An append-only or immutable object is never copied up: an upper
	 * copy would not be protected (nor could it be renamed into place if
	 * it were), and nothing may change it anyway.
	 */
	if (IS_APPEND(d_inode(lower.dentry)) ||
	    IS_IMMUTABLE(d_inode(lower.dentry))) {
		err = -EPERM;
		goto out_unlock;
	}
	err = vfs_getattr(&lower, &stat, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out_unlock;
	/* Never copy up with an owner we cannot represent. */
	if (!uid_valid(stat.uid) || !gid_valid(stat.gid)) {
		err = -EOVERFLOW;
		goto out_unlock;
	}

	err = mnt_want_write(umnt);
	if (err)
		goto out_unlock;
	inode_lock_nested(d_inode(fs->staging), I_MUTEX_PARENT);
	tmp = ufs_staging_lookup(fs);
	if (IS_ERR(tmp)) {
		err = PTR_ERR(tmp);
		tmp = NULL;
	} else {
		err = ufs_create_staging_as(fs, dentry, tmp, lower.dentry,
					    &stat);
	}
	inode_unlock(d_inode(fs->staging));
	mnt_drop_write(umnt);
	if (err)
		goto out_put;

	/* Data is copied without holding freeze protection (6.12 rule). */
	/*
	 * A metadata-only copy gets the lower file's size as a hole and the
	 * metacopy mark (below); reads keep going to the lower file.
	 */
	if (S_ISREG(stat.mode) && stat.size && fs->metacopy &&
	    (mode == UFS_COPY_META ||
	     (mode == UFS_COPY_PARTIAL && fs->chunk_shift &&
	      stat.size > (1LL << fs->chunk_shift)))) {
		struct path upath = { .mnt = umnt, .dentry = tmp };

		metacopy = true;
		err = vfs_truncate(&upath, stat.size);
		if (err)
			goto out_cleanup;
	} else if (S_ISREG(stat.mode) && mode != UFS_COPY_NO_DATA) {
		err = ufs_copy_data(fs, &lower, tmp, stat.size, false);
		if (err)
			goto out_cleanup;
	}

	err = mnt_want_write(umnt);
	if (err)
		goto out_cleanup;
	err = metacopy ? vfs_setxattr(idmap, tmp, UNIONFS_XATTR_METACOPY,
				      "", 0, 0) : 0;
	if (!err)
		err = ufs_copy_xattrs(fs, &lower, tmp);
	if (!err)
		err = ufs_set_origin_ino(fs, tmp, d_inode(dentry)->i_ino);
	if (!err)
		err = ufs_copy_attrs(fs, tmp, &stat);
	/* its parent's listings read the ino it keeps (readdir.c) */
	if (!err)
		err = ufs_set_impure(fs, uparent, tmp);
	if (err)
		goto out_drop;

	trap = lock_rename(fs->staging, uparent);
	if (IS_ERR(trap)) {
		err = PTR_ERR(trap);
		goto out_drop;
	}
	err = -EIO;
	if (trap == tmp || tmp->d_parent != fs->staging)
		goto out_unlock_rename;
	target = lookup_one_len(dentry->d_name.name, uparent,
				dentry->d_name.len);
	if (IS_ERR(target)) {
		err = PTR_ERR(target);
		goto out_unlock_rename;
	}
	if (d_is_positive(target) || target == trap)
		err = -ESTALE;	/* the upper changed under us */
	else
		err = ufs_vfs_rename(idmap, d_inode(fs->staging), tmp,
				     d_inode(uparent), target, 0);
	dput(target);
out_unlock_rename:
	unlock_rename(fs->staging, uparent);
out_drop:
	mnt_drop_write(umnt);
	if (err)
		goto out_cleanup;

	/*
	 * tmp now is the upper object: publish it. A metacopy keeps its data
	 * in the stack's lower entry, real[1], which stays. Whoever sees the
	 * upper in the stack (ufs_stack_first() pairs with the release in
	 * ufs_stack_set_upper()) must see the metacopy state and ui->upper
	 * that go with it: an open decides by them how to read (merged with
	 * the chunk map, or not), so they are set first.
	 */
	if (metacopy) {
		ui->metacopy = true;
		ufs_stat_inc(fs, metacopy_ups);
		ufs_stat_add(fs, metacopy_bytes, stat.size);
	}
	ui->upper = igrab(d_inode(tmp));
	/*
	 * Found by its upper inode before anyone can reach the upper file:
	 * a link() that sees the upper and a lookup of that new name must
	 * find this inode, not make a second one.
	 */
	ufs_inode_rehash(d_inode(dentry));
	ufs_stack_set_upper(ufs_stack(dentry), tmp);
	/* pairs with ufs_real_inode(): upper is complete before it shows */
	smp_store_release(&ui->real, ui->upper);
	ufs_stat_inc(fs, copy_ups);
	goto out_put;

out_cleanup:
	if (!mnt_want_write(umnt)) {
		inode_lock_nested(d_inode(fs->staging), I_MUTEX_PARENT);
		ufs_staging_remove(fs, tmp);
		inode_unlock(d_inode(fs->staging));
		mnt_drop_write(umnt);
	}
out_put:
	dput(tmp);
out_unlock:
	mutex_unlock(&ui->copy_up_lock);
	return err;
}

/* Copy up every chunk still below and sync (copy_up_lock held). */
static int ufs_fill_chunks(struct unionfs_fs *fs, struct inode *inode,
			   const struct path *upath)
{
	struct file *out;
	int err;

	out = ufs_open_for_chunks(upath);
	if (IS_ERR(out))
		return PTR_ERR(out);
	err = ufs_chunks_fill_locked(inode, out);
	if (!err && !fs->is_volatile)
		err = vfs_fsync(out, 0);
	fput(out);
	return err;
}

/*
 * Sync the upper file at @path, metadata included: removing a metacopy
 * mark must be durable before the file counts as complete. From then on
 * an fdatasync of the file syncs only its data (ext4 commits no xattr
 * change for it), and after a crash that kept the mark the file would read
 * the lower data again: synced writes lost.
 */
static int ufs_sync_upper(struct unionfs_fs *fs, const struct path *path)
{
	struct file *file;
	int err;

	if (fs->is_volatile)
		return 0;
	file = dentry_open(path, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = vfs_fsync(file, 0);
	fput(file);
	return err;
}

/*
 * Give a metacopy file its data: the chunks still below (all of them, by
 * a clone where the filesystem can) are copied into the upper file in
 * place, synced, and only then is the mark removed, so a crash before the
 * end still reads the lower data. UFS_COPY_NO_DATA: the caller truncates
 * it to 0 right after, so it is emptied instead (a stale mark on an upper
 * file smaller than the lower one is ignored at lookup). UFS_COPY_CLONE:
 * only if a clone of the whole file can do it; else nothing changes.
 */
static int ufs_complete_data(struct dentry *dentry, enum ufs_copy_mode mode)
{
	struct unionfs_fs *fs = UFS_FS(dentry->d_sb);
	struct inode *inode = d_inode(dentry);
	struct unionfs_inode *ui = UFS_I(inode);
	struct unionfs_stack *stack = ufs_stack(dentry);
	struct vfsmount *umnt = fs->layers[0].mnt;
	struct path upath = { .mnt = umnt, .dentry = stack->real[0].dentry };
	struct path lower;
	struct kstat stat;
	void *fcaps = NULL;
	ssize_t fcaps_len;
	int err = 0;

	mutex_lock(&ui->copy_up_lock);
	if (!ui->metacopy)
		goto out;	/* another task did it while we waited */
	err = ufs_data_path(dentry, &lower);
	if (err)
		goto out;
	if (mode != UFS_COPY_NO_DATA) {
		err = ufs_chunks_load_locked(dentry);
		if (err)
			goto out;
		/* chunks already up hold writes: a clone would undo them */
		if (mode == UFS_COPY_CLONE && ufs_chunks_any(ui->chunks))
			goto out;
	}
	/*
	 * Filling the file is a write: the upper fs drops its file
	 * capabilities and set-id bits and sets its times. It is not the
	 * user's write; put them back as they were.
	 */
	err = vfs_getattr(&upath, &stat, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out;
	fcaps_len = vfs_getxattr(ufs_mnt_idmap(umnt), upath.dentry,
				 XATTR_NAME_CAPS, NULL, 0);
	if (fcaps_len > 0 && fcaps_len <= XATTR_SIZE_MAX) {
		fcaps = kmalloc(fcaps_len, GFP_KERNEL);
		if (!fcaps) {
			err = -ENOMEM;
			goto out;
		}
		fcaps_len = vfs_getxattr(ufs_mnt_idmap(umnt), upath.dentry,
					 XATTR_NAME_CAPS, fcaps, fcaps_len);
	}
	if (mode == UFS_COPY_NO_DATA)
		err = vfs_truncate(&upath, 0);
	else if (!ufs_chunks_any(ui->chunks))
		err = ufs_copy_data(fs, &lower, upath.dentry,
				    ui->chunks->lower_size,
				    mode == UFS_COPY_CLONE);
	else
		err = ufs_fill_chunks(fs, inode, &upath);
	if (err == -EOPNOTSUPP && mode == UFS_COPY_CLONE) {
		err = 0;	/* no clone: chunks come up as they are written */
		goto out;
	}
	if (err)
		goto out;
	err = mnt_want_write(umnt);
	if (err)
		goto out;
	err = ufs_copy_attrs(fs, upath.dentry, &stat);
	if (!err && fcaps_len > 0)
		err = vfs_setxattr(ufs_mnt_idmap(umnt), upath.dentry,
				   XATTR_NAME_CAPS, fcaps, fcaps_len, 0);
	if (!err)
		err = vfs_removexattr(ufs_mnt_idmap(umnt), upath.dentry,
				      UNIONFS_XATTR_METACOPY);
	mnt_drop_write(umnt);
	/*
	 * An emptied file needs no sync: a mark that a crash keeps on it is
	 * stale (the sizes differ) until a write gives it the lower size,
	 * and a datasync of that write commits the removal with the size.
	 */
	if (!err && mode != UFS_COPY_NO_DATA)
		err = ufs_sync_upper(fs, &upath);
	if (err)
		goto out;
	/* pairs with ufs_data_in_lower(): the data is there before it shows */
	smp_store_release(&ui->metacopy, false);
	ufs_stat_inc(fs, data_completions);
out:
	kfree(fcaps);
	mutex_unlock(&ui->copy_up_lock);
	return err;
}

static int ufs_copy_up_mode(struct dentry *dentry, enum ufs_copy_mode mode)
{
	const struct cred *old;
	int err = 0;

	if (!UFS_FS(dentry->d_sb)->has_upper)
		return -EROFS;
	old = ufs_override_creds(dentry->d_sb);
	while (!err && !ufs_upper(dentry)) {
		struct dentry *next = dget(dentry), *parent;

		/* Find the topmost ancestor still without an upper. */
		for (;;) {
			parent = dget_parent(next);
			if (ufs_upper(parent)) {
				dput(parent);
				break;
			}
			dput(next);
			next = parent;
		}
		/* Ancestors are directories: always copied whole. */
		err = ufs_copy_up_one(next, next == dentry ? mode : UFS_COPY_DATA);
		dput(next);
	}
	/*
	 * A metacopy file opened for write: a clone if it can, else its
	 * chunks as they are written, unless one chunk holds it all.
	 */
	if (!err && mode == UFS_COPY_PARTIAL &&
	    i_size_read(d_inode(dentry)) <= (1LL << UFS_FS(dentry->d_sb)->chunk_shift))
		mode = UFS_COPY_DATA;
	if (!err && mode != UFS_COPY_META && ufs_data_in_lower(d_inode(dentry)))
		err = ufs_complete_data(dentry, mode == UFS_COPY_PARTIAL ?
					UFS_COPY_CLONE : mode);
	revert_creds(old);
	return err;
}

/*
 * Give @dentry an upper object with all its data, copying up its parents
 * first. Called without the mounter's credentials; takes them for the
 * layer work.
 */
int ufs_copy_up(struct dentry *dentry)
{
	return ufs_copy_up_mode(dentry, UFS_COPY_DATA);
}

/*
 * As ufs_copy_up(); with O_TRUNC in @flags the caller is about to truncate
 * the file to size 0, so its data is not copied (its parents' are).
 */
int ufs_copy_up_flags(struct dentry *dentry, int flags)
{
	return ufs_copy_up_mode(dentry, (flags & O_TRUNC) ? UFS_COPY_NO_DATA :
							   UFS_COPY_DATA);
}

/*
 * For an open for write (@flags are the open's): the data is copied up,
 * but where the mount copies up partially, a big file opened for write
 * gets only its attributes now and each chunk of data just before it is
 * first written (chunks.c); a whole-file clone is still taken where the
 * upper can.
 *
 * O_TRUNC drops nothing here: the VFS truncates (unionfs_setattr()) only
 * once the open has succeeded, and an open may still fail after this
 * (ETXTBSY, the upper refusing the open's flags). Where the mount can,
 * only the attributes come up now, so an O_TRUNC open copies no data.
 */
int ufs_copy_up_for_write(struct dentry *dentry, int flags)
{
	if ((flags & O_TRUNC) && UFS_FS(dentry->d_sb)->metacopy)
		return ufs_copy_up_mode(dentry, UFS_COPY_META);
	/*
	 * Read-write opens too: pages written through a shared mapping come
	 * up at writeback, chunk by chunk, like writes (unionfs_writepages()).
	 */
	if (UFS_FS(dentry->d_sb)->chunk_shift)
		return ufs_copy_up_mode(dentry, UFS_COPY_PARTIAL);
	return ufs_copy_up_mode(dentry, UFS_COPY_DATA);
}

/*
 * For a change of attributes only (chmod, chown, utimes, xattrs, ACLs): a
 * regular file's data stays below on a metacopy mount, until it is first
 * opened for write or truncated.
 */
int ufs_copy_up_meta(struct dentry *dentry)
{
	return ufs_copy_up_mode(dentry, UFS_COPY_META);
}
