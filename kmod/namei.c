// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: lookup across layers.
 *
 * A name is looked up in each layer of its parent's stack, top down. The
 * first non-directory wins and hides everything below; directories merge
 * until one is opaque; a whiteout hides the name in every layer below it.
 */
#include <linux/slab.h>
#include <linux/namei.h>
#include <linux/xattr.h>
#include "unionfs.h"

struct unionfs_stack *ufs_stack_alloc(unsigned int nr)
{
	struct unionfs_stack *stack;

	stack = kvzalloc(struct_size(stack, real, nr), GFP_KERNEL);
	return stack;
}

void ufs_stack_free(struct unionfs_stack *stack)
{
	unsigned int i;

	if (!stack)
		return;
	for (i = 0; i < stack->nr; i++)
		dput(stack->real[i].dentry);
	kvfree(stack);
}

bool ufs_is_whiteout(struct dentry *real)
{
	struct inode *inode = d_inode(real);

	return inode && IS_WHITEOUT(inode);
}

static bool ufs_xattr_is_y(struct dentry *real, const char *name)
{
	char val;
	ssize_t len;

	len = vfs_getxattr(UFS_NOP_IDMAP, real, name, &val, 1);
	return len == 1 && val == 'y';
}

/*
 * Opaque: ours, or overlayfs's (so docker overlay2 and containerd layer
 * directories mount as they are). Called with the mounter's credentials.
 */
bool ufs_is_opaque_dir(struct dentry *real)
{
	if (!d_is_dir(real))
		return false;
	return ufs_xattr_is_y(real, UNIONFS_XATTR_OPAQUE) ||
	       ufs_xattr_is_y(real, OVERLAY_XATTR_OPAQUE);
}

/*
 * Build the stack of layer dentries for @name below the union directory
 * whose stack is @parent. Returns NULL when the name is not visible.
 * Called with the mounter's credentials.
 */
static struct unionfs_stack *ufs_lookup_stack(struct unionfs_fs *fs,
					      struct unionfs_stack *parent,
					      const struct qstr *name)
{
	struct unionfs_stack *stack;
	unsigned int i, n = 0;
	int err;

	stack = ufs_stack_alloc(parent->nr);
	if (!stack)
		return ERR_PTR(-ENOMEM);

	for (i = 0; i < parent->nr; i++) {
		struct unionfs_real *p = &parent->real[i];
		struct vfsmount *mnt = fs->layers[p->layer].mnt;
		struct dentry *real;

		ufs_stat_inc(fs, lookup_layers);
		real = lookup_one_unlocked(ufs_mnt_idmap(mnt), name->name,
					   p->dentry, name->len);
		if (IS_ERR(real)) {
			err = PTR_ERR(real);
			/* A layer we may not search hides nothing. */
			if (err == -EACCES && n)
				break;
			goto fail;
		}
		if (d_is_negative(real)) {
			dput(real);
			continue;
		}
		if (ufs_is_whiteout(real)) {
			dput(real);
			break;
		}
		if (!d_is_dir(real)) {
			/* A non-directory below a directory is hidden by it. */
			if (n == 0) {
				stack->real[n].dentry = real;
				stack->real[n].layer = p->layer;
				n++;
			} else {
				dput(real);
			}
			break;
		}
		stack->real[n].dentry = real;
		stack->real[n].layer = p->layer;
		n++;
		if (ufs_is_opaque_dir(real)) {
			stack->opaque = true;
			break;
		}
	}
	stack->nr = n;
	if (!n) {
		ufs_stack_free(stack);
		return NULL;
	}
	return stack;

fail:
	stack->nr = n;
	ufs_stack_free(stack);
	return ERR_PTR(err);
}

struct dentry *unionfs_lookup(struct inode *dir, struct dentry *dentry,
			      unsigned int flags)
{
	struct super_block *sb = dentry->d_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct unionfs_stack *parent = ufs_stack(dentry->d_parent);
	struct unionfs_stack *stack;
	struct inode *inode = NULL;
	const struct cred *old;

	if (dentry->d_name.len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);

	ufs_stat_inc(fs, lookups);
	old = ufs_override_creds(sb);
	stack = ufs_lookup_stack(fs, parent, &dentry->d_name);
	revert_creds(old);
	if (IS_ERR(stack))
		return ERR_CAST(stack);

	if (stack) {
		bool dir = d_is_dir(stack->real[0].dentry);

		inode = ufs_get_inode(sb, &stack->real[0], dir);
		if (IS_ERR(inode)) {
			ufs_stack_free(stack);
			return ERR_CAST(inode);
		}
		dentry->d_fsdata = stack;
	}
	return d_splice_alias(inode, dentry);
}

static void unionfs_d_release(struct dentry *dentry)
{
	ufs_stack_free(dentry->d_fsdata);
	dentry->d_fsdata = NULL;
}

const struct dentry_operations unionfs_dentry_ops = {
	.d_release	= unionfs_d_release,
};
