// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: namespace operations: create, mkdir, mknod, symlink, link,
 * unlink, rmdir, rename. Everything happens in the upper layer; a name
 * that a lower layer also has is hidden with a whiteout; a directory made
 * where a whiteout stood is opaque, so old lower content cannot reappear.
 * With aufs_whiteouts no .wh.* name can be made (EINVAL): the user could
 * forge a whiteout or an opaque mark of the AUFS format.
 *
 * Locking: the VFS holds the union parent's i_rwsem; we take the upper
 * parent's (and staging's, with lock_rename() when both are involved).
 */
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/namei.h>
#include <linux/xattr.h>
#include <linux/cred.h>
#include <linux/posix_acl.h>
#include <linux/security.h>
#include "unionfs.h"

/*
 * Credentials for creating @dentry: the mounter's, but owned by the
 * caller (fsuid/fsgid), as if the caller had created it; an LSM may
 * adjust them too (security_dentry_create_files_as(): SELinux labels
 * the object as one the caller made).
 */
static const struct cred *ufs_creator_as_caller(struct dentry *dentry,
						umode_t mode)
{
	const struct cred *caller = current_cred();
	const struct cred *old;
	struct cred *cred;
	int err;

	old = ufs_override_creds(dentry->d_sb);
	cred = prepare_creds();		/* a copy of the mounter's */
	revert_creds(old);
	if (!cred)
		return ERR_PTR(-ENOMEM);
	cred->fsuid = caller->fsuid;
	cred->fsgid = caller->fsgid;
	err = security_dentry_create_files_as(dentry, mode, &dentry->d_name,
					      caller, cred);
	if (err) {
		put_cred(cred);
		return ERR_PTR(err);
	}
	return cred;
}

struct ufs_new_object {
	umode_t mode;
	dev_t rdev;
	const char *link;
	struct dentry *hardlink;	/* upper dentry to link to */
};

/* Make the object at @dentry (a negative dentry of a locked @dir). */
static int ufs_make_real(struct inode *dir, struct dentry *dentry,
			 const struct ufs_new_object *obj)
{
	UFS_IDMAP_T *idmap = UFS_NOP_IDMAP;

	switch (obj->mode & S_IFMT) {
	case S_IFREG:
		if (obj->hardlink)
			return vfs_link(obj->hardlink, idmap, dir, dentry, NULL);
		return vfs_create(idmap, dir, dentry, obj->mode, true);
	case S_IFDIR:
		return vfs_mkdir(idmap, dir, dentry, obj->mode);
	case S_IFLNK:
		if (obj->hardlink)
			return vfs_link(obj->hardlink, idmap, dir, dentry, NULL);
		return vfs_symlink(idmap, dir, dentry, obj->link);
	default:
		if (obj->hardlink)
			return vfs_link(obj->hardlink, idmap, dir, dentry, NULL);
		return vfs_mknod(idmap, dir, dentry, obj->mode, obj->rdev);
	}
}

static int ufs_set_opaque(struct dentry *upper)
{
	return vfs_setxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_OPAQUE, "y", 1, 0);
}

/*
 * What a plain create in an upper directory gives a new object, and
 * making it in staging does not: the directory's group when it is
 * set-group-id (and the bit, for a directory), its default ACL and the
 * mode that implies (posix_acl_create(); the umask where it has none).
 */
struct ufs_inherit {
	struct iattr attr;
	struct posix_acl *acl;
	struct posix_acl *default_acl;
};

static int ufs_inherit_prepare(struct inode *udir,
			       const struct ufs_new_object *obj,
			       struct ufs_inherit *inh)
{
	umode_t mode = obj->mode;
	int err;

	memset(inh, 0, sizeof(*inh));
	if (obj->hardlink)
		return 0;
	if (udir->i_mode & S_ISGID) {
		inh->attr.ia_valid |= ATTR_GID;
		inh->attr.ia_gid = udir->i_gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	if (S_ISLNK(mode))
		return 0;
	err = posix_acl_create(udir, &mode, &inh->default_acl, &inh->acl);
	if (err)
		return err;
	inh->attr.ia_valid |= ATTR_MODE;
	inh->attr.ia_mode = mode;
	return 0;
}

/* Give @tmp, just made in staging, what ufs_inherit_prepare() found. */
static int ufs_inherit_apply(struct vfsmount *umnt, struct dentry *tmp,
			     struct ufs_inherit *inh)
{
	struct inode *inode = d_inode(tmp);
	struct iattr *attr = &inh->attr;
	int err = 0;

	if ((attr->ia_valid & ATTR_GID) && gid_eq(inode->i_gid, attr->ia_gid))
		attr->ia_valid &= ~ATTR_GID;
	if (attr->ia_valid & ATTR_MODE) {
		attr->ia_mode = (attr->ia_mode & S_IALLUGO) |
				(inode->i_mode & ~S_IALLUGO);
		if (attr->ia_mode == inode->i_mode)
			attr->ia_valid &= ~ATTR_MODE;
	}
	if (attr->ia_valid) {
		inode_lock(inode);
		err = notify_change(UFS_NOP_IDMAP, tmp, attr, NULL);
		inode_unlock(inode);
	}
	if (!err && inh->acl)
		err = ufs_layer_set_acl(umnt, tmp, ACL_TYPE_ACCESS, inh->acl);
	if (!err && inh->default_acl)
		err = ufs_layer_set_acl(umnt, tmp, ACL_TYPE_DEFAULT,
					inh->default_acl);
	return err;
}

static void ufs_inherit_release(struct ufs_inherit *inh)
{
	posix_acl_release(inh->acl);
	posix_acl_release(inh->default_acl);
}

/*
 * Replace the whiteout at @uparent/@name by a new object, atomically: the
 * object is made in staging, then renamed over the whiteout (a directory
 * is exchanged with it and the whiteout removed from staging). It gets
 * the group, mode and ACLs a plain create in @uparent would give it.
 */
static struct dentry *ufs_create_over_whiteout(struct unionfs_fs *fs,
					       struct dentry *uparent,
					       const struct qstr *name,
					       const struct ufs_new_object *obj)
{
	bool dir = S_ISDIR(obj->mode);
	struct dentry *tmp, *target, *trap;
	struct ufs_inherit inh;
	int err;

	err = ufs_inherit_prepare(d_inode(uparent), obj, &inh);
	if (err)
		return ERR_PTR(err);
	trap = lock_rename(fs->staging, uparent);
	if (IS_ERR(trap)) {
		ufs_inherit_release(&inh);
		return trap;
	}
	tmp = ufs_staging_lookup(fs);
	if (IS_ERR(tmp)) {
		unlock_rename(fs->staging, uparent);
		ufs_inherit_release(&inh);
		return tmp;
	}
	target = lookup_one_len(name->name, uparent, name->len);
	if (IS_ERR(target)) {
		err = PTR_ERR(target);
		target = NULL;
		goto out;
	}
	err = -ESTALE;
	if (!ufs_is_whiteout(target) || target == trap)
		goto out;
	err = ufs_make_real(d_inode(fs->staging), tmp, obj);
	if (!err)
		err = ufs_inherit_apply(fs->layers[0].mnt, tmp, &inh);
	if (!err && dir)
		err = ufs_set_opaque(tmp);
	if (!err)
		err = ufs_vfs_rename(UFS_NOP_IDMAP, d_inode(fs->staging), tmp,
				     d_inode(uparent), target,
				     dir ? RENAME_EXCHANGE : 0);
	if (!err && dir)
		vfs_unlink(UFS_NOP_IDMAP, d_inode(fs->staging), target, NULL);
	if (err)
		ufs_staging_remove(fs, tmp);
out:
	dput(target);
	unlock_rename(fs->staging, uparent);
	ufs_inherit_release(&inh);
	if (err) {
		dput(tmp);
		return ERR_PTR(err);
	}
	return tmp;
}

static int ufs_instantiate(struct dentry *dentry, struct dentry *upper,
			   struct inode *inode)
{
	struct unionfs_stack *stack = ufs_stack_alloc(0);

	if (!stack)
		return -ENOMEM;
	ufs_stack_set_upper(stack, upper);
	if (!inode) {
		inode = ufs_get_inode(dentry->d_sb, stack, d_is_dir(upper));
		if (IS_ERR(inode)) {
			ufs_stack_free(stack);
			return PTR_ERR(inode);
		}
	}
	/* A negative dentry may still hold the stack of what it was. */
	ufs_stack_free(dentry->d_fsdata);
	dentry->d_fsdata = stack;
	d_instantiate(dentry, inode);
	return 0;
}

static int ufs_create_object(struct inode *dir, struct dentry *dentry,
			     struct ufs_new_object *obj, struct inode *inode)
{
	struct super_block *sb = dentry->d_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct dentry *uparent, *upper;
	const struct cred *cred, *old;
	int err;

	if (ufs_aufs_reserved(fs, &dentry->d_name))
		return -EINVAL;
	err = ufs_copy_up(dentry->d_parent);
	if (err)
		return err;
	uparent = ufs_upper(dentry->d_parent);

	cred = ufs_creator_as_caller(dentry, obj->mode);
	if (IS_ERR(cred))
		return PTR_ERR(cred);
	old = override_creds(cred);
	if (!IS_POSIXACL(d_inode(uparent)))
		obj->mode &= ~current_umask() | S_IFMT;

	err = mnt_want_write(fs->layers[0].mnt);
	if (err)
		goto out_creds;
	/* a link to a copied-up file shows the ino it keeps (readdir.c) */
	if (obj->hardlink) {
		err = ufs_set_impure(fs, uparent, obj->hardlink);
		if (err)
			goto made;
	}
	inode_lock_nested(d_inode(uparent), I_MUTEX_PARENT);
	upper = lookup_one_len(dentry->d_name.name, uparent, dentry->d_name.len);
	if (IS_ERR(upper)) {
		err = PTR_ERR(upper);
	} else if (ufs_is_whiteout(upper)) {
		dput(upper);
		inode_unlock(d_inode(uparent));
		upper = ufs_create_over_whiteout(fs, uparent, &dentry->d_name, obj);
		if (IS_ERR(upper))
			err = PTR_ERR(upper);
		goto made;
	} else if (d_is_positive(upper)) {
		dput(upper);
		err = -EEXIST;
	} else {
		err = ufs_make_real(d_inode(uparent), upper, obj);
		/* Whatever a lower layer held at this name stays hidden. */
		if (!err && S_ISDIR(obj->mode) && d_is_positive(upper) &&
		    ufs_lower_has_name(dentry, true))
			err = ufs_set_opaque(upper);
		if (err)
			dput(upper);
	}
	inode_unlock(d_inode(uparent));
made:
	mnt_drop_write(fs->layers[0].mnt);
	if (err)
		goto out_creds;
	if (d_is_negative(upper) || d_unhashed(upper)) {
		/* Some filesystems leave the dentry unhashed: look it up. */
		struct dentry *again = lookup_one_unlocked(UFS_NOP_IDMAP,
							   dentry->d_name.name,
							   uparent,
							   dentry->d_name.len);
		dput(upper);
		if (IS_ERR(again)) {
			err = PTR_ERR(again);
			goto out_creds;
		}
		upper = again;
		if (d_is_negative(upper)) {
			dput(upper);
			err = -EIO;
			goto out_creds;
		}
	}
	if (inode)
		ihold(inode);
	err = ufs_instantiate(dentry, upper, inode);
	if (err && inode)
		iput(inode);
	dput(upper);
	if (!err) {
		ufs_copy_attr(dir, d_inode(uparent));
		ufs_dir_changed(dir);
	}
out_creds:
	revert_creds(old);
	put_cred(cred);
	return err;
}

static int unionfs_create(UFS_IDMAP_T *idmap, struct inode *dir,
			  struct dentry *dentry, umode_t mode, bool excl)
{
	struct ufs_new_object obj = { .mode = (mode & 07777) | S_IFREG };

	return ufs_create_object(dir, dentry, &obj, NULL);
}

static int unionfs_mkdir(UFS_IDMAP_T *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	struct ufs_new_object obj = { .mode = (mode & 07777) | S_IFDIR };

	return ufs_create_object(dir, dentry, &obj, NULL);
}

static int unionfs_mknod(UFS_IDMAP_T *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct ufs_new_object obj = { .mode = mode, .rdev = rdev };

	/* Whiteouts are ours: users may not make 0/0 devices in a union. */
	if (S_ISCHR(mode) && rdev == WHITEOUT_DEV)
		return -EPERM;
	return ufs_create_object(dir, dentry, &obj, NULL);
}

static int unionfs_symlink(UFS_IDMAP_T *idmap, struct inode *dir,
			   struct dentry *dentry, const char *link)
{
	struct ufs_new_object obj = { .mode = S_IFLNK | 0777, .link = link };

	return ufs_create_object(dir, dentry, &obj, NULL);
}

static int unionfs_link(struct dentry *old, struct inode *dir,
			struct dentry *new)
{
	struct inode *inode = d_inode(old);
	struct ufs_new_object obj = { .mode = inode->i_mode };
	int err;

	err = ufs_copy_up(old);
	if (err)
		return err;
	obj.hardlink = ufs_upper(old);
	err = ufs_create_object(dir, new, &obj, inode);
	if (!err)
		ufs_copy_attr(inode, d_inode(obj.hardlink));
	return err;
}

/*
 * O_TMPFILE: an unnamed file in the upper directory, owned by the caller.
 * linkat() of it later goes through unionfs_link(), which links the
 * upper file (the real one is linkable unless opened with O_EXCL).
 */
static int unionfs_tmpfile(UFS_IDMAP_T *idmap, struct inode *dir,
			   struct file *file, umode_t mode)
{
	struct dentry *dentry = file->f_path.dentry;
	struct super_block *sb = dir->i_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct unionfs_stack *stack;
	const struct cred *cred, *old;
	struct path uparent;
	struct inode *inode;
	struct file *real;
	int err;

	err = ufs_copy_up(dentry->d_parent);
	if (err)
		return err;
	uparent.mnt = fs->layers[0].mnt;
	uparent.dentry = ufs_upper(dentry->d_parent);

	stack = ufs_stack_alloc(0);
	if (!stack)
		return -ENOMEM;
	cred = ufs_creator_as_caller(dentry, mode);
	if (IS_ERR(cred)) {
		ufs_stack_free(stack);
		return PTR_ERR(cred);
	}
	old = override_creds(cred);
	err = mnt_want_write(uparent.mnt);
	if (!err) {
		real = ufs_tmpfile_open(&uparent, mode, file->f_flags, cred);
		mnt_drop_write(uparent.mnt);
		if (IS_ERR(real))
			err = PTR_ERR(real);
	}
	revert_creds(old);
	put_cred(cred);
	if (err) {
		ufs_stack_free(stack);
		return err;
	}

	ufs_stack_set_upper(stack, real->f_path.dentry);
	inode = ufs_get_inode(sb, stack, false);
	fput(real);	/* our open below opens it again, with our flags */
	if (IS_ERR(inode)) {
		ufs_stack_free(stack);
		return PTR_ERR(inode);
	}
	dentry->d_fsdata = stack;
	/* d_tmpfile() takes away the link a new inode is born with */
	set_nlink(inode, 1);
	d_tmpfile(file, inode);
	return finish_open_simple(file, 0);
}

/*
 * Remove every whiteout from an upper directory that shows nothing: ours,
 * and with aufs_whiteouts every .wh.* entry (whiteouts, the opaque mark).
 */
static int ufs_clear_whiteouts(struct unionfs_fs *fs, struct dentry *udir,
			       struct list_head *names)
{
	struct ufs_dirname *n;
	int err = 0;

	inode_lock_nested(d_inode(udir), I_MUTEX_CHILD);
	list_for_each_entry(n, names, next) {
		struct dentry *wh = lookup_one_len(n->name, udir, n->len);

		if (IS_ERR(wh)) {
			err = PTR_ERR(wh);
			break;
		}
		if (ufs_is_whiteout(wh))
			err = vfs_unlink(UFS_NOP_IDMAP, d_inode(udir), wh, NULL);
		else if (d_is_positive(wh) && fs->aufs_whiteouts &&
			 ufs_is_aufs_name(n->name, n->len))
			err = d_is_dir(wh) ?
			      vfs_rmdir(UFS_NOP_IDMAP, d_inode(udir), wh) :
			      vfs_unlink(UFS_NOP_IDMAP, d_inode(udir), wh, NULL);
		dput(wh);
		if (err)
			break;
	}
	inode_unlock(d_inode(udir));
	return err;
}

/*
 * Is @real, just looked up in its locked upper parent, still the upper
 * entry @upper of a union dentry's stack? Removed or replaced in the upper
 * layer directly, it is not: the union dentry is stale, and an operation
 * on it fails with -ESTALE (as on overlayfs) and leaves the upper alone.
 */
static bool ufs_upper_matches(struct dentry *upper, struct dentry *real)
{
	return upper && d_is_positive(real) && d_inode(real) == d_inode(upper);
}

/*
 * Finish a removed directory in staging (locked): it went there whole,
 * whiteouts and all, so that they hid what they hid until the name was
 * gone. What is left of it here is nobody's; a failure to remove it is
 * only logged (a mount empties staging of what it can).
 */
static void ufs_staging_remove_dir(struct unionfs_fs *fs, struct dentry *dir,
				   struct list_head *names)
{
	int err = names ? ufs_clear_whiteouts(fs, dir, names) : 0;

	if (!err)
		err = vfs_rmdir(UFS_NOP_IDMAP, d_inode(fs->staging), dir);
	if (err)
		pr_warn_ratelimited("unionfs: a removed directory is left in workdir/staging: %d\n",
				    err);
}

/*
 * Remove the upper object of @dentry and, when a lower layer has the name,
 * leave a whiteout in its place, atomically: a whiteout made in staging is
 * exchanged with the object, which is then removed in staging. A directory
 * (@names: the whiteouts it holds) with anything below it leaves through
 * staging whole: emptied in place, its whiteouts would stop hiding what
 * they hide before the name goes, for good if anything failed after (or
 * on a crash).
 */
static int ufs_remove_upper(struct unionfs_fs *fs, struct dentry *dentry,
			    struct list_head *names, bool whiteout)
{
	struct inode *sdir = d_inode(fs->staging);
	struct dentry *uparent = ufs_upper(dentry->d_parent);
	const struct qstr *name = &dentry->d_name;
	struct dentry *upper, *target, *tmp = NULL, *trap;
	bool is_dir = names;
	int err;

	trap = lock_rename(fs->staging, uparent);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	target = lookup_one_len(name->name, uparent, name->len);
	if (IS_ERR(target)) {
		err = PTR_ERR(target);
		goto out_unlock;
	}
	err = -ESTALE;
	if (target == trap)
		goto out;
	/*
	 * Read under the lock: a copy-up may have given it one meanwhile.
	 * Without one, the union found nothing here at lookup: an object
	 * now here was made in the layer directly and is not ours to remove.
	 */
	upper = ufs_upper(dentry);
	if (upper ? !ufs_upper_matches(upper, target) : d_is_positive(target))
		goto out;
	if (!whiteout && d_is_negative(target)) {
		err = -ENOENT;
		goto out;
	}
	if (!whiteout && !is_dir) {
		err = vfs_unlink(UFS_NOP_IDMAP, d_inode(uparent), target, NULL);
		goto out;
	}
	/*
	 * Whiteouts in a directory with nothing below it (no lower layer
	 * has it, nor a redirect's origin) hide nothing: they go in place.
	 */
	if (!whiteout && !ufs_stack_lowers(ufs_stack(dentry))) {
		err = ufs_clear_whiteouts(fs, target, names);
		if (!err)
			err = vfs_rmdir(UFS_NOP_IDMAP, d_inode(uparent), target);
		goto out;
	}
	tmp = ufs_staging_lookup(fs);
	if (IS_ERR(tmp)) {
		err = PTR_ERR(tmp);
		tmp = NULL;
		goto out;
	}
	if (!whiteout) {
		/* Nothing below to hide: the directory just moves out. */
		err = ufs_vfs_rename(UFS_NOP_IDMAP, d_inode(uparent), target,
				     sdir, tmp, RENAME_NOREPLACE);
		if (!err)
			ufs_staging_remove_dir(fs, target, names);
		goto out;
	}
	err = vfs_whiteout(UFS_NOP_IDMAP, sdir, tmp);
	if (err)
		goto out;
	if (d_is_negative(target)) {
		/* Only lower layers have it: the whiteout just moves in. */
		err = ufs_vfs_rename(UFS_NOP_IDMAP, sdir, tmp, d_inode(uparent),
				     target, 0);
	} else {
		err = ufs_vfs_rename(UFS_NOP_IDMAP, sdir, tmp, d_inode(uparent),
				     target, RENAME_EXCHANGE);
		/* the old object now sits in staging under tmp's name */
		if (!err && is_dir)
			ufs_staging_remove_dir(fs, target, names);
		else if (!err)
			ufs_staging_remove(fs, target);
	}
	if (err)
		ufs_staging_remove(fs, tmp);
	else
		ufs_stat_inc(fs, whiteouts);
out:
	dput(tmp);
	dput(target);
out_unlock:
	unlock_rename(fs->staging, uparent);
	return err;
}

/*
 * Before a directory's upper is read (is it empty?): is it still in the
 * layer under its name? One removed or replaced there directly reads as
 * gone (ENOENT) or as another's entries; the union dentry is stale. The
 * check that counts is ufs_remove_upper()'s, under the parent's lock.
 */
static int ufs_upper_still_there(struct dentry *dentry)
{
	struct unionfs_fs *fs = UFS_FS(dentry->d_sb);
	struct dentry *upper = ufs_upper(dentry), *real;
	const struct cred *old;
	bool same;

	if (!upper)
		return 0;
	old = ufs_override_creds(dentry->d_sb);
	real = lookup_one_unlocked(ufs_mnt_idmap(fs->layers[0].mnt),
				   dentry->d_name.name,
				   ufs_upper(dentry->d_parent),
				   dentry->d_name.len);
	revert_creds(old);
	if (IS_ERR(real))
		return PTR_ERR(real);
	same = ufs_upper_matches(upper, real);
	dput(real);
	return same ? 0 : -ESTALE;
}

static int ufs_remove(struct inode *dir, struct dentry *dentry, bool is_dir)
{
	struct super_block *sb = dentry->d_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct dentry *upper = ufs_upper(dentry);
	LIST_HEAD(names);
	const struct cred *old;
	bool whiteout;
	int err;

	if (is_dir) {
		err = ufs_upper_still_there(dentry);
		if (err)
			return err;
		/* Empty as the union shows it; whiteouts inside don't count. */
		err = ufs_dir_empty(dentry, &names);
		if (err)
			return err;
	}
	err = ufs_copy_up(dentry->d_parent);
	if (err)
		goto out_names;

	old = ufs_override_creds(sb);
	whiteout = ufs_lower_has_name(dentry, false);
	err = mnt_want_write(fs->layers[0].mnt);
	if (err)
		goto out_creds;
	err = ufs_remove_upper(fs, dentry, is_dir ? &names : NULL, whiteout);
	if (!err) {
		ufs_dir_changed(dir);
		ufs_copy_attr(dir, d_inode(ufs_upper(dentry->d_parent)));
		if (is_dir)
			clear_nlink(d_inode(dentry));
		else if (upper)
			ufs_copy_attr(d_inode(dentry), d_inode(upper));
		else
			drop_nlink(d_inode(dentry));
	}
	mnt_drop_write(fs->layers[0].mnt);
out_creds:
	revert_creds(old);
out_names:
	ufs_free_names(&names);
	return err;
}

static int unionfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return ufs_remove(dir, dentry, false);
}

static int unionfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return ufs_remove(dir, dentry, true);
}

/*
 * A directory that moves must not merge with one below its new name: its
 * lower part comes from where it was (@redirect), or it has none: opaque.
 * Every directory an exchange moves is upper-only, and the name it lands
 * on may be where a lower directory was deleted: without the mark, that
 * deleted content would merge with it. A redirect, once set, stays: it
 * names the lower location, wherever the directory moves later.
 */
static int ufs_mark_moved_dir(struct dentry *upper, const char *redirect)
{
	char probe;

	if (!redirect)
		return ufs_set_opaque(upper);
	if (vfs_getxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_REDIRECT,
			 &probe, 0) >= 0)
		return 0;
	return vfs_setxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_REDIRECT,
			    redirect, strlen(redirect), 0);
}

/*
 * A directory a rename replaces shows nothing, but may hold whiteouts
 * (@names) that the rename cannot replace. It is made opaque first: from
 * then on the mark hides what the whiteouts hid, on disk and (its stack
 * cut to the upper entry) in the dcache, whether the whiteouts then go
 * and the rename succeeds or not.
 */
static int ufs_empty_for_rename(struct unionfs_fs *fs, struct dentry *dentry,
				struct dentry *udir, struct list_head *names)
{
	int err;

	/* vfs_rename() locks a directory it replaces: no reader is in it */
	lockdep_assert_held_write(&d_inode(dentry)->i_rwsem);
	err = ufs_set_opaque(udir);
	if (err)
		return err;
	ufs_stack_drop_lowers(ufs_stack(dentry));
	return ufs_clear_whiteouts(fs, udir, names);
}

/*
 * The changes a rename makes before the move itself, once the upper
 * entries at both names are known to be the ones the union dentries
 * stand for (under lock_rename() of both upper parents): one that is
 * replaced is emptied, then directories that move are marked (both, in an
 * exchange).
 */
static int ufs_rename_prepare(struct unionfs_fs *fs, struct dentry *old,
			      struct dentry *new, struct dentry *unew,
			      const char *redirect, struct list_head *names,
			      unsigned int flags)
{
	int err = 0;

	if (!list_empty(names))
		err = ufs_empty_for_rename(fs, new, unew, names);
	if (!err && d_is_dir(old))
		err = ufs_mark_moved_dir(ufs_upper(old), redirect);
	if (!err && (flags & RENAME_EXCHANGE) && d_is_dir(new))
		err = ufs_mark_moved_dir(ufs_upper(new), NULL);
	return err;
}

static int unionfs_rename(UFS_IDMAP_T *idmap, struct inode *olddir,
			  struct dentry *old, struct inode *newdir,
			  struct dentry *new, unsigned int flags)
{
	struct super_block *sb = old->d_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct unionfs_stack *ostack = ufs_stack(old);
	struct unionfs_stack *nstack = d_is_positive(new) ? ufs_stack(new) : NULL;
	struct dentry *uold_parent, *unew_parent, *uold, *unew, *trap;
	struct dentry *ureal;
	unsigned int rflags = flags & (RENAME_NOREPLACE | RENAME_EXCHANGE);
	LIST_HEAD(names);
	const struct cred *old_cred;
	bool old_lower, over_whiteout = false;
	char *redirect = NULL;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (ufs_aufs_reserved(fs, &new->d_name))
		return -EINVAL;
	/*
	 * Two names of one multiply-linked lower file have union inodes of
	 * their own (see ufs_get_inode()); renaming one onto the other is
	 * still renaming a file onto itself: nothing to do.
	 */
	if (nstack && !(flags & RENAME_EXCHANGE) &&
	    d_inode(ufs_top(old)->dentry) == d_inode(ufs_top(new)->dentry))
		return 0;
	if ((flags & RENAME_EXCHANGE) &&
	    ((d_is_dir(old) && ufs_stack_lowers(ostack)) ||
	     (nstack && d_is_dir(new) && ufs_stack_lowers(nstack))))
		return -EXDEV;
	if (nstack && d_is_dir(new) && !(flags & RENAME_EXCHANGE)) {
		/* Replacing a directory: it must show nothing. */
		err = ufs_upper_still_there(new);
		if (!err)
			err = ufs_dir_empty(new, &names);
		if (err)
			return err;
	}
	/* A directory that lower layers hold moves with a redirect. */
	if (d_is_dir(old) && ufs_stack_lowers(ostack)) {
		redirect = ufs_lower_relpath(old);
		if (IS_ERR(redirect)) {
			err = PTR_ERR(redirect);
			redirect = NULL;
			goto out_names;
		}
	}

	/*
	 * A renamed file takes its data along (a metacopy file finds its
	 * data by its name); a replaced target needs only a place in upper.
	 */
	err = ufs_copy_up(old);
	if (!err && nstack)
		err = (flags & RENAME_EXCHANGE) ? ufs_copy_up(new) :
						   ufs_copy_up_meta(new);
	if (!err)
		err = ufs_copy_up(new->d_parent);
	if (err)
		goto out_names;
	uold_parent = ufs_upper(old->d_parent);
	unew_parent = ufs_upper(new->d_parent);
	uold = ufs_upper(old);

	old_cred = ufs_override_creds(sb);
	/* Whatever lower layers hold at the old name stays hidden. */
	old_lower = !(flags & RENAME_EXCHANGE) && ufs_lower_has_name(old, false);
	if (old_lower)
		rflags |= RENAME_WHITEOUT;
	err = mnt_want_write(fs->layers[0].mnt);
	if (err)
		goto out_creds;
	/* a copied-up object keeps its ino in its new directory (readdir.c) */
	err = ufs_set_impure(fs, unew_parent, uold);
	if (!err && (flags & RENAME_EXCHANGE))
		err = ufs_set_impure(fs, uold_parent, ufs_upper(new));
	if (err)
		goto out_drop;
	trap = lock_rename(uold_parent, unew_parent);
	if (IS_ERR(trap)) {
		err = PTR_ERR(trap);
		goto out_drop;
	}
	/* What the layer has at both names now, as the stacks say it has. */
	ureal = lookup_one_len(old->d_name.name, uold_parent, old->d_name.len);
	if (IS_ERR(ureal)) {
		err = PTR_ERR(ureal);
		goto out_unlock;
	}
	err = -ESTALE;
	if (!ufs_upper_matches(uold, ureal) || trap == ureal)
		goto out_put_old;
	unew = lookup_one_len(new->d_name.name, unew_parent, new->d_name.len);
	if (IS_ERR(unew)) {
		err = PTR_ERR(unew);
		goto out_put_old;
	}
	if (unew == trap) {
		err = d_is_dir(old) ? -EINVAL : -ENOTEMPTY;
	} else if (nstack ? !ufs_upper_matches(ufs_upper(new), unew) :
			    d_is_positive(unew) && !ufs_is_whiteout(unew)) {
		err = -ESTALE;
	} else {
		err = ufs_rename_prepare(fs, old, new, unew, redirect, &names,
					 flags);
		/*
		 * Over a whiteout: exchange, which leaves the whiteout at the
		 * old name, where it stays if a lower layer has that name.
		 */
		if (!err && ufs_is_whiteout(unew)) {
			over_whiteout = true;
			rflags = RENAME_EXCHANGE;
		}
		if (!err)
			err = ufs_vfs_rename(UFS_NOP_IDMAP, d_inode(uold_parent),
					     ureal, d_inode(unew_parent), unew,
					     rflags);
		if (!err && over_whiteout && !old_lower)
			err = vfs_unlink(UFS_NOP_IDMAP, d_inode(uold_parent),
					 unew, NULL);
	}
	dput(unew);
out_put_old:
	dput(ureal);
out_unlock:
	unlock_rename(uold_parent, unew_parent);
	if (!err) {
		ufs_dir_changed(olddir);
		ufs_dir_changed(newdir);
		ufs_copy_attr(olddir, d_inode(uold_parent));
		ufs_copy_attr(newdir, d_inode(unew_parent));
	}
out_drop:
	mnt_drop_write(fs->layers[0].mnt);
out_creds:
	revert_creds(old_cred);
out_names:
	ufs_free_names(&names);
	kfree(redirect);
	return err;
}

const struct inode_operations unionfs_dir_iops = {
	.lookup		= unionfs_lookup,
	.create		= unionfs_create,
	.mkdir		= unionfs_mkdir,
	.mknod		= unionfs_mknod,
	.symlink	= unionfs_symlink,
	.link		= unionfs_link,
	.unlink		= unionfs_unlink,
	.rmdir		= unionfs_rmdir,
	.rename		= unionfs_rename,
	.tmpfile	= unionfs_tmpfile,
	.getattr	= unionfs_getattr,
	.setattr	= unionfs_setattr,
	.permission	= unionfs_permission,
	.listxattr	= unionfs_listxattr,
	.fileattr_get	= unionfs_fileattr_get,
	.fileattr_set	= unionfs_fileattr_set,
	UFS_ACL_OPS(unionfs_get_inode_acl, unionfs_get_acl, unionfs_set_acl),
};
