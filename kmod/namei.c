// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: lookup across layers.
 *
 * A name is looked up in each layer of its parent's stack, top down. The
 * first non-directory wins and hides everything below; directories merge
 * until one is opaque; a whiteout hides the name in every layer below it.
 *
 * Lower layers written by overlayfs (docker overlay2, containerd): its
 * whiteouts and opaque marks are ours too; a directory it renamed
 * (trusted.overlay.redirect) merges with the lower directories at the
 * place the redirect names, as in overlayfs. A file it left as metadata
 * only (trusted.overlay.metacopy: the data is in a layer below, maybe at
 * another name) is refused with EIO and a message naming it: its own
 * bytes are not its data.
 *
 * Lower layers written by containers/storage for a mount_program, with
 * the mount option aufs_whiteouts: AUFS-format whiteouts. A file .wh.NAME
 * in a layer hides NAME in the layers below that layer (not in the layer
 * itself, as in aufs); .wh..wh..opq in a directory makes it opaque; no
 * .wh.* name is looked up through the union (dir.c refuses to make one).
 */
#include <linux/slab.h>
#include <linux/namei.h>
#include <linux/xattr.h>
#include "unionfs.h"

/* A stack with room for the upper entry and @nr_lowers lower entries. */
struct unionfs_stack *ufs_stack_alloc(unsigned int nr_lowers)
{
	struct unionfs_stack *stack;

	stack = kvzalloc(struct_size(stack, real, nr_lowers + 1), GFP_KERNEL);
	if (stack) {
		stack->first = 1;
		stack->end = 1;
	}
	return stack;
}

void ufs_stack_free(struct unionfs_stack *stack)
{
	unsigned int i, end;

	if (!stack)
		return;
	end = max(stack->end, stack->held);
	for (i = stack->first; i < end; i++)
		dput(stack->real[i].dentry);
	kvfree(stack);
}

/* Publish @upper as the stack's top entry (copy-up, creation). */
void ufs_stack_set_upper(struct unionfs_stack *stack, struct dentry *upper)
{
	stack->real[0].dentry = dget(upper);
	stack->real[0].layer = 0;
	/* pairs with ufs_stack_first(): real[0] is filled before it shows */
	smp_store_release(&stack->first, 0);
}

/*
 * A directory whose upper was made opaque in place stops merging: its
 * stack keeps the upper entry alone, as a lookup would now build it.
 * Called with the directory's inode locked (no lookup or listing in it
 * runs meanwhile); a lockless reader may still use a lower entry it
 * read, so those keep their references until the stack is freed.
 */
void ufs_stack_drop_lowers(struct unionfs_stack *stack)
{
	if (ufs_stack_first(stack) != 0 || stack->end <= 1)
		return;
	stack->held = max(stack->held, stack->end);
	stack->opaque = true;
	WRITE_ONCE(stack->end, 1);
}

bool ufs_is_whiteout(struct dentry *real)
{
	struct inode *inode = d_inode(real);

	return inode && IS_WHITEOUT(inode);
}

/*
 * With aufs_whiteouts: does @dir, a directory of layer @layer, hold
 * .wh.@name (@name is whited out below @layer)? 1, 0, or an error.
 * Called with the mounter's credentials.
 */
int ufs_aufs_whiteout(struct unionfs_fs *fs, unsigned int layer,
		      struct dentry *dir, const struct qstr *name)
{
	char buf[NAME_MAX + 1];
	struct dentry *wh;
	int ret;

	if (!fs->aufs_whiteouts || name->len > NAME_MAX - UFS_AUFS_WH_PREFIX_LEN)
		return 0;
	memcpy(buf, UFS_AUFS_WH_PREFIX, UFS_AUFS_WH_PREFIX_LEN);
	memcpy(buf + UFS_AUFS_WH_PREFIX_LEN, name->name, name->len);
	wh = lookup_one_unlocked(ufs_mnt_idmap(fs->layers[layer].mnt), buf, dir,
				 name->len + UFS_AUFS_WH_PREFIX_LEN);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	ret = d_is_positive(wh);
	dput(wh);
	return ret;
}

/* With aufs_whiteouts: does the directory @real hold .wh..wh..opq? */
static int ufs_aufs_opaque(struct unionfs_fs *fs, unsigned int layer,
			   struct dentry *real)
{
	struct dentry *opq;
	int ret;

	if (!fs->aufs_whiteouts)
		return 0;
	opq = lookup_one_unlocked(ufs_mnt_idmap(fs->layers[layer].mnt),
				  UFS_AUFS_OPAQUE, real, strlen(UFS_AUFS_OPAQUE));
	if (IS_ERR(opq))
		return PTR_ERR(opq);
	ret = d_is_positive(opq);
	dput(opq);
	return ret;
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
 * An upper regular file marked as a metadata-only copy. Only asked where
 * the parent has lower directories to hold the data.
 */
static bool ufs_is_metacopy(struct dentry *upper)
{
	return d_is_reg(upper) &&
	       vfs_getxattr(UFS_NOP_IDMAP, upper, UNIONFS_XATTR_METACOPY,
			    NULL, 0) >= 0;
}

/*
 * A metacopy file is at least as big as the lower file that holds its
 * data (writes may have made it bigger; making it smaller takes all the
 * data first). Emptying one (O_TRUNC) truncates it before it drops the
 * mark: a crash between the two leaves a stale mark on a smaller file,
 * and that file is then its own data.
 */
static bool ufs_metacopy_size_ok(struct dentry *upper, struct dentry *lower)
{
	return i_size_read(d_inode(upper)) >= i_size_read(d_inode(lower));
}

/* "/a/b": every component non-empty and neither "." nor "..". */
static bool ufs_redirect_is_canonical(const char *path)
{
	const char *p = path;

	if (*p != '/')
		return false;
	while (*p == '/') {
		const char *name = ++p;
		size_t n;

		while (*p && *p != '/')
			p++;
		n = p - name;
		if (n == 0 || (n == 1 && name[0] == '.') ||
		    (n == 2 && name[0] == '.' && name[1] == '.'))
			return false;
	}
	return true;
}

/*
 * A renamed directory records where its lower directories are: an
 * absolute path from the layer roots, "/a/b". Anything else is corrupt.
 */
static char *ufs_get_xattr_str(struct dentry *real, const char *name)
{
	char *buf;
	ssize_t len;

	len = vfs_getxattr(UFS_NOP_IDMAP, real, name, NULL, 0);
	if (len == -ENODATA || len == -EOPNOTSUPP)
		return NULL;
	if (len < 1 || len >= PATH_MAX)
		return ERR_PTR(-EIO);
	buf = kmalloc(len + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	len = vfs_getxattr(UFS_NOP_IDMAP, real, name, buf, len);
	if (len < 1) {
		kfree(buf);
		return ERR_PTR(len < 0 ? len : -EIO);
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		kfree(buf);
		return ERR_PTR(-EIO);
	}
	return buf;
}

static char *ufs_get_redirect(struct dentry *upper)
{
	char *buf = ufs_get_xattr_str(upper, UNIONFS_XATTR_REDIRECT);

	if (!IS_ERR_OR_NULL(buf) && !ufs_redirect_is_canonical(buf)) {
		kfree(buf);
		return ERR_PTR(-EIO);
	}
	return buf;
}

/* A single name: no '/', neither "." nor "..". */
static bool ufs_is_plain_name(const char *name)
{
	size_t n = strlen(name);

	return n && n <= NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/*
 * The directory @real of a lower layer, at @path ("/a/b", "" for the
 * root), was renamed by overlayfs: replace @path by where its lower part
 * is. Absolute redirects are taken as they are, relative ones (a sibling)
 * in the same parent. Nothing to do without a redirect.
 */
static int ufs_follow_ovl_redirect(struct dentry *real, char **path)
{
	char *to = ufs_get_xattr_str(real, OVERLAY_XATTR_REDIRECT);
	char *slash, *full;

	if (IS_ERR_OR_NULL(to))
		return PTR_ERR_OR_ZERO(to);
	if (to[0] == '/' ? !ufs_redirect_is_canonical(to) :
			   !ufs_is_plain_name(to)) {
		pr_warn_ratelimited("unionfs: %pd2: invalid trusted.overlay.redirect\n",
				    real);
		kfree(to);
		return -EIO;
	}
	if (to[0] == '/') {
		kfree(*path);
		*path = to;
		return 0;
	}
	slash = strrchr(*path, '/');
	full = kasprintf(GFP_KERNEL, "%.*s/%s",
			 slash ? (int)(slash - *path) : 0, *path, to);
	kfree(to);
	if (!full)
		return -ENOMEM;
	kfree(*path);
	*path = full;
	return 0;
}

/* A file overlayfs copied up without its data. */
static bool ufs_is_ovl_metacopy(struct dentry *real)
{
	if (!d_is_reg(real) ||
	    vfs_getxattr(UFS_NOP_IDMAP, real, OVERLAY_XATTR_METACOPY,
			 NULL, 0) < 0)
		return false;
	pr_warn_ratelimited("unionfs: %pd2: an overlayfs metacopy file in a lower layer: its data is in another layer, not followed (EIO)\n",
			    real);
	return true;
}

/* Walk @path ("/a/b") down from a layer root; NULL if not a directory there. */
static struct dentry *ufs_walk_layer(struct vfsmount *mnt, const char *path,
				     bool *stop)
{
	struct dentry *cur = dget(mnt->mnt_root);
	const char *p = path;

	while (*p == '/') {
		const char *name = ++p;
		struct dentry *next;

		while (*p && *p != '/')
			p++;
		next = lookup_one_unlocked(ufs_mnt_idmap(mnt), name, cur,
					   p - name);
		dput(cur);
		if (IS_ERR(next))
			return next;
		if (d_is_negative(next) || !d_is_dir(next)) {
			/* a whiteout or a file at the end hides what is below */
			if (!*p && d_is_positive(next))
				*stop = true;
			dput(next);
			return NULL;
		}
		cur = next;
	}
	return cur;
}

/* The path of @real from its layer's @root: "/a/b", "" for the root. */
static char *ufs_real_relpath(struct dentry *real, struct dentry *root)
{
	char *buf = kmalloc(PATH_MAX, GFP_KERNEL);
	char *end, *p;
	struct dentry *d;

	if (!buf)
		return ERR_PTR(-ENOMEM);
	end = buf + PATH_MAX - 1;
	*end = '\0';
	p = end;
	for (d = dget(real); d != root;) {
		struct dentry *parent;
		int len = d->d_name.len;

		if (p - buf < len + 1 || IS_ROOT(d)) {
			dput(d);
			kfree(buf);
			return ERR_PTR(-ENAMETOOLONG);
		}
		p -= len;
		memcpy(p, d->d_name.name, len);
		*--p = '/';
		parent = dget_parent(d);
		dput(d);
		d = parent;
	}
	dput(d);
	memmove(buf, p, end - p + 1);
	return buf;
}

/*
 * The lower directories of a redirected directory, at @redirect in the
 * layers from @start down; a directory there that overlayfs renamed sends
 * the layers below it to where its own redirect points.
 */
static int ufs_lookup_redirect(struct unionfs_fs *fs,
			       struct unionfs_stack *stack,
			       const char *redirect, unsigned int start)
{
	char *path = kstrdup(redirect, GFP_KERNEL);
	unsigned int i;
	int err = 0;

	if (!path)
		return -ENOMEM;
	for (i = start; i < fs->nr_layers; i++) {
		struct vfsmount *mnt = fs->layers[i].mnt;
		bool stop = false;
		struct dentry *real;

		ufs_stat_inc(fs, lookup_layers);
		real = ufs_walk_layer(mnt, path, &stop);
		if (IS_ERR(real)) {
			err = PTR_ERR(real);
			break;
		}
		if (stop)
			break;
		if (!real)
			continue;
		stack->real[stack->end].dentry = real;
		stack->real[stack->end].layer = i;
		stack->end++;
		if (ufs_is_opaque_dir(real)) {
			stack->opaque = true;
			break;
		}
		err = ufs_aufs_opaque(fs, i, real);
		if (err) {
			stack->opaque = err > 0;
			err = min(err, 0);
			break;
		}
		err = ufs_follow_ovl_redirect(real, &path);
		if (err)
			break;
	}
	kfree(path);
	return err;
}

/*
 * Room for an entry from every lower layer (a redirect may reach each):
 * the entries move to a bigger stack.
 */
static struct unionfs_stack *ufs_stack_grow(struct unionfs_fs *fs,
					    struct unionfs_stack *stack)
{
	struct unionfs_stack *big = ufs_stack_alloc(fs->nr_lowers);

	if (!big)
		return NULL;
	memcpy(big->real, stack->real,
	       max(stack->end, stack->held) * sizeof(stack->real[0]));
	big->first = stack->first;
	big->end = stack->end;
	big->held = stack->held;
	stack->held = 0;
	big->opaque = stack->opaque;
	big->metacopy = stack->metacopy;
	stack->end = stack->first;	/* moved, not put */
	ufs_stack_free(stack);
	return big;
}

/*
 * @real, a directory in the lower layer below @p, was renamed by
 * overlayfs: *@to gets the path of its lower part, or NULL.
 */
static int ufs_lower_ovl_redirect(struct unionfs_fs *fs,
				  struct unionfs_real *p, struct dentry *real,
				  char **to)
{
	struct dentry *root = fs->layers[p->layer].mnt->mnt_root;
	char *path;
	int err;

	*to = NULL;
	if (vfs_getxattr(UFS_NOP_IDMAP, real, OVERLAY_XATTR_REDIRECT,
			 NULL, 0) < 0)
		return 0;
	path = ufs_real_relpath(p->dentry, root);
	if (IS_ERR(path))
		return PTR_ERR(path);
	/* the parent's path and this name: where a sibling redirect starts */
	*to = kasprintf(GFP_KERNEL, "%s/%pd", path, real);
	kfree(path);
	if (!*to)
		return -ENOMEM;
	err = ufs_follow_ovl_redirect(real, to);
	if (err) {
		kfree(*to);
		*to = NULL;
	}
	return err;
}

/*
 * A redirected directory (ours in the upper layer, overlayfs's in a lower
 * one) just added to *@stackp from below @p: fill in the lower part from
 * where the redirect points. 1: done so; 0: no redirect; or an error.
 */
static int ufs_dir_redirect(struct unionfs_fs *fs,
			    struct unionfs_stack **stackp,
			    struct unionfs_real *p, struct dentry *real)
{
	struct unionfs_stack *big;
	char *redirect;
	int err;

	if (p->layer == 0 && fs->has_upper) {
		redirect = ufs_get_redirect(real);
		err = PTR_ERR_OR_ZERO(redirect);
	} else {
		err = ufs_lower_ovl_redirect(fs, p, real, &redirect);
	}
	if (err || !redirect)
		return err;
	big = ufs_stack_grow(fs, *stackp);
	if (!big) {
		kfree(redirect);
		return -ENOMEM;
	}
	*stackp = big;
	err = ufs_lookup_redirect(fs, big, redirect, p->layer + 1);
	kfree(redirect);
	return err ? err : 1;
}

/*
 * The stages of a lookup below share one convention, that of
 * ufs_dir_redirect(): 1 stops the walk at this layer (nothing of the name
 * below shows), 0 goes on to the next layer down, or an error.
 */

/* @name in the layer directory of @p: a dentry, maybe negative. */
static struct dentry *ufs_lookup_real(struct unionfs_fs *fs,
				      struct unionfs_real *p,
				      const struct qstr *name)
{
	struct vfsmount *mnt = fs->layers[p->layer].mnt;

	ufs_stat_inc(fs, lookup_layers);
	return lookup_one_unlocked(ufs_mnt_idmap(mnt), name->name,
				   p->dentry, name->len);
}

/*
 * @real, found below the metacopy file at the top of @stack, holds its
 * data: the next file of its name, whatever layer it is in. It goes into
 * the stack or is put; the walk stops either way (1, or an error).
 */
static int ufs_lookup_metacopy_data(struct unionfs_stack *stack,
				    struct unionfs_real *p,
				    struct dentry *real)
{
	struct dentry *upper = stack->real[0].dentry;

	/* no data below: ufs_lookup_stack() fails the lookup with EIO */
	if (!d_is_reg(real)) {
		dput(real);
		return 1;
	}
	/* overlayfs's metadata-only copy: its bytes are not its data */
	if (ufs_is_ovl_metacopy(real)) {
		dput(real);
		return -EIO;
	}
	/* a stale mark (see ufs_metacopy_size_ok()): upper is its own data */
	if (!ufs_metacopy_size_ok(upper, real)) {
		stack->metacopy = false;
		dput(real);
		return 1;
	}
	/*
	 * A link copies all the data up first: a marked file
	 * with several names was not made by a union, and its
	 * names would share one inode but not one data file.
	 */
	if (d_inode(upper)->i_nlink > 1) {
		pr_warn_ratelimited("unionfs: %pd: metacopy file with several links\n",
				    upper);
		dput(real);
		return -EIO;
	}
	stack->real[stack->end].dentry = real;
	stack->real[stack->end].layer = p->layer;
	stack->end++;
	return 1;
}

/*
 * Take @real, a positive entry of @p's layer, into @stack: the upper
 * layer's entry goes in real[0], a lower one after those already found.
 * Returns whether it is the upper entry.
 */
static bool ufs_stack_add_found(struct unionfs_fs *fs,
				struct unionfs_stack *stack,
				struct unionfs_real *p, struct dentry *real)
{
	struct unionfs_real *slot;

	if (p->layer == 0 && fs->has_upper) {
		slot = &stack->real[0];
		stack->first = 0;
	} else {
		slot = &stack->real[stack->end++];
	}
	slot->dentry = real;
	slot->layer = p->layer;
	return slot == &stack->real[0];
}

/*
 * @real, a directory just added to *@stackp from @p's layer: does it hide
 * the layers below (opaque, by overlayfs's mark or AUFS's), or does a
 * redirect say where its lower part is? *@stackp may be replaced.
 */
static int ufs_lookup_dir_below(struct unionfs_fs *fs,
				struct unionfs_stack **stackp,
				struct unionfs_real *p, struct dentry *real,
				const struct qstr *name)
{
	int err;

	if (ufs_is_opaque_dir(real)) {
		(*stackp)->opaque = true;
		return 1;
	}
	/*
	 * AUFS: the directory is opaque, or a whiteout beside it
	 * hides its name in the layers below.
	 */
	err = ufs_aufs_opaque(fs, p->layer, real);
	if (!err)
		err = ufs_aufs_whiteout(fs, p->layer, p->dentry, name);
	if (err < 0)
		return err;
	if (err) {
		(*stackp)->opaque = true;
		return 1;
	}
	/* 1: the layers below came from the redirect */
	return ufs_dir_redirect(fs, stackp, p, real);
}

/*
 * @real, just added to *@stackp from @p's layer (@upper: as its upper
 * entry), was found: what it lets through from the layers below.
 * @more_below: @p is not the parent's last layer.
 */
static int ufs_lookup_found(struct unionfs_fs *fs,
			    struct unionfs_stack **stackp,
			    struct unionfs_real *p, struct dentry *real,
			    bool upper, bool more_below,
			    const struct qstr *name)
{
	/* its data is in a lower layer, maybe at another name: refused */
	if (!upper && ufs_is_ovl_metacopy(real))
		return -EIO;
	/* ours: the data is the next file of the name below */
	if (upper && more_below && ufs_is_metacopy(real)) {
		(*stackp)->metacopy = true;
		return 0;
	}
	if (!d_is_dir(real))
		return 1;
	return ufs_lookup_dir_below(fs, stackp, p, real, name);
}

/*
 * One step of the walk: look @name up in @p's layer and add what is found
 * to *@stackp (which a redirect may replace). *@found: an entry of the
 * name is in the stack already; set when this layer adds the first one.
 */
static int ufs_lookup_layer(struct unionfs_fs *fs,
			    struct unionfs_stack **stackp,
			    struct unionfs_real *p, const struct qstr *name,
			    bool more_below, bool *found)
{
	struct unionfs_stack *stack = *stackp;
	struct dentry *real;
	bool upper;

	real = ufs_lookup_real(fs, p, name);
	if (IS_ERR(real))
		return PTR_ERR(real);
	if (d_is_negative(real)) {
		dput(real);
		/* an AUFS whiteout: nothing of the name below */
		return ufs_aufs_whiteout(fs, p->layer, p->dentry, name);
	}
	if (ufs_is_whiteout(real)) {
		dput(real);
		return 1;
	}
	if (stack->metacopy)
		return ufs_lookup_metacopy_data(stack, p, real);
	/* A non-directory below a directory is hidden by it. */
	if (*found && !d_is_dir(real)) {
		dput(real);
		return 1;
	}
	/* from here @real belongs to the stack: its free puts it */
	upper = ufs_stack_add_found(fs, stack, p, real);
	*found = true;
	return ufs_lookup_found(fs, stackp, p, real, upper, more_below, name);
}

/*
 * Build the stack of layer dentries for @name below the union directory
 * whose stack is @parent, walking its layers top down until one stops the
 * walk. Returns NULL when the name is not visible.
 * Called with the mounter's credentials.
 */
static struct unionfs_stack *ufs_lookup_stack(struct unionfs_fs *fs,
					      struct unionfs_stack *parent,
					      const struct qstr *name,
					      unsigned int from_layer)
{
	unsigned int first = ufs_stack_first(parent);
	struct unionfs_stack *stack;
	bool found = false;
	unsigned int i;
	int err = 0;

	stack = ufs_stack_alloc(ufs_stack_lowers(parent));
	if (!stack)
		return ERR_PTR(-ENOMEM);

	for (i = first; i < parent->end && !err; i++) {
		if (parent->real[i].layer < from_layer)
			continue;
		err = ufs_lookup_layer(fs, &stack, &parent->real[i], name,
				       i + 1 < parent->end, &found);
	}
	if (err < 0)
		goto fail;
	if (!found) {
		ufs_stack_free(stack);
		return NULL;
	}
	if (stack->metacopy && stack->end == 1) {
		pr_warn_ratelimited("unionfs: %pd: metacopy file without lower data\n",
				    stack->real[0].dentry);
		err = -EIO;
		goto fail;
	}
	return stack;

fail:
	ufs_stack_free(stack);
	return ERR_PTR(err);
}

/*
 * The lower file that holds the data of @dentry's metacopy file: real[1]
 * of its stack, a regular file, and the one the inode reads its data from
 * once that is open. Anything else (a name of the upper file found where
 * no lower file lies below: a corrupt upper layer) is EIO.
 */
int ufs_data_path(struct dentry *dentry, struct path *path)
{
	struct unionfs_stack *stack = ufs_stack(dentry);
	struct unionfs_inode *ui = UFS_I(d_inode(dentry));
	struct dentry *data;
	struct file *file = NULL;

	if (!stack || ufs_stack_first(stack) != 0 || stack->end < 2)
		goto corrupt;
	data = stack->real[1].dentry;
	if (!d_is_reg(data))
		goto corrupt;
	/* pairs with the release in ufs_chunks_load_locked() */
	if (smp_load_acquire(&ui->chunks))
		file = ui->data_file;
	if (file && file_inode(file) != d_inode(data))
		goto corrupt;
	path->mnt = ufs_layer_mnt(dentry->d_sb, stack->real[1].layer);
	path->dentry = data;
	return 0;
corrupt:
	pr_warn_ratelimited("unionfs: %pd: metacopy file without its lower data\n",
			    dentry);
	return -EIO;
}

/*
 * Does a lower layer below the parent hold @dentry's name (so that
 * removing or renaming it must leave a whiteout)? Asked at the time of the
 * change, because the union dentry's stack stops at the first non-dir.
 * With @count_whiteouts, a whiteout below counts too (a new directory
 * there is made opaque). Called with the mounter's credentials.
 */
bool ufs_lower_has_name(struct dentry *dentry, bool count_whiteouts)
{
	struct unionfs_fs *fs = UFS_FS(dentry->d_sb);
	struct unionfs_stack *parent = ufs_stack(dentry->d_parent);
	unsigned int i;

	for (i = 1; i < parent->end; i++) {
		struct unionfs_real *p = &parent->real[i];
		struct dentry *real;
		bool positive, whiteout;

		real = lookup_one_unlocked(ufs_mnt_idmap(fs->layers[p->layer].mnt),
					   dentry->d_name.name, p->dentry,
					   dentry->d_name.len);
		if (IS_ERR(real))
			return true;	/* unsure: a whiteout is always safe */
		positive = d_is_positive(real);
		whiteout = ufs_is_whiteout(real);
		dput(real);
		if (whiteout)
			return count_whiteouts;
		if (positive)
			return true;
		switch (ufs_aufs_whiteout(fs, p->layer, p->dentry,
					  &dentry->d_name)) {
		case 0:
			break;
		case 1:
			return count_whiteouts;
		default:
			return true;	/* unsure: as above */
		}
	}
	return false;
}

/*
 * The path of a merged directory's lower entries from their layer roots
 * ("/a/b"), as a renamed directory's redirect records it.
 */
char *ufs_lower_relpath(struct dentry *dentry)
{
	struct unionfs_stack *stack = ufs_stack(dentry);
	struct unionfs_real *lower = &stack->real[1];

	return ufs_real_relpath(lower->dentry,
				ufs_layer_mnt(dentry->d_sb, lower->layer)->mnt_root);
}

struct dentry *unionfs_lookup(struct inode *dir, struct dentry *dentry,
			      unsigned int flags)
{
	struct super_block *sb = dentry->d_sb;
	struct unionfs_fs *fs = UFS_FS(sb);
	struct unionfs_stack *parent = ufs_stack(dentry->d_parent);
	struct unionfs_stack *stack;
	struct inode *inode = NULL;
	unsigned int from_layer = 0;
	const struct cred *old;
	int ret;

	if (dentry->d_name.len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);

	ufs_stat_inc(fs, lookups);
	/* AUFS whiteouts and markers are never seen through the union */
	if (ufs_aufs_reserved(fs, &dentry->d_name))
		return d_splice_alias(NULL, dentry);
	/* a current listing says which layers to ask (readdir.c) */
	ret = ufs_dir_index_lookup(dentry->d_parent, &dentry->d_name,
				   &from_layer);
	if (ret == -ENOENT)
		return d_splice_alias(NULL, dentry);
	old = ufs_override_creds(sb);
	stack = ufs_lookup_stack(fs, parent, &dentry->d_name, from_layer);
	revert_creds(old);
	if (IS_ERR(stack))
		return ERR_CAST(stack);

	if (stack) {
		struct unionfs_real *top = &stack->real[stack->first];

		inode = ufs_get_inode(sb, stack, d_is_dir(top->dentry));
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

/*
 * A dentry turning negative (unlink, rmdir, eviction) lets go of its
 * layer dentries at once: a negative union dentry may stay cached for
 * long, and must not keep a deleted upper file (and its space) alive.
 * Only the last user gets here; a new positive stack is set up under the
 * parent's lock, which unlink and rmdir hold while the dentry dies.
 */
static void unionfs_d_iput(struct dentry *dentry, struct inode *inode)
{
	ufs_stack_free(dentry->d_fsdata);
	dentry->d_fsdata = NULL;
	iput(inode);
}

/*
 * ->d_real (6.1 only, see ufs_open_presented()): the layer dentry of the
 * union dentry @dentry whose inode is @inode, for file_dentry() of a real
 * file that presents the union path. A layer that is itself stacked is
 * asked in turn (a real file of ours never has an inode below it: such
 * layers are opened as they are, but a filesystem stacked on us may ask).
 * @inode NULL: the dentry whose data the union presents, the stack top.
 * Anything else, and an inode not found, gets @dentry itself.
 */
struct dentry *ufs_d_real(struct dentry *dentry, const struct inode *inode)
{
	struct unionfs_stack *stack = ufs_stack(dentry);
	struct dentry *real;
	unsigned int i, first;

	if ((inode && d_inode(dentry) == inode) || !stack ||
	    !d_is_reg(dentry))
		return dentry;
	first = ufs_stack_first(stack);
	if (!inode) {
		real = stack->real[first].dentry;
		return real ? ufs_d_real_of(real, NULL) : dentry;
	}
	for (i = first; i < stack->end; i++) {
		real = stack->real[i].dentry;
		if (real && d_inode(real) == inode)
			return real;
	}
	for (i = first; i < stack->end; i++) {
		real = stack->real[i].dentry;
		/* only where @inode can be: below the layer's own inodes */
		if (!real || !(real->d_flags & DCACHE_OP_REAL) ||
		    inode->i_sb->s_stack_depth >= real->d_sb->s_stack_depth)
			continue;
		real = ufs_d_real_of(real, inode);
		if (d_inode(real) == inode)
			return real;
	}
	return dentry;
}

const struct dentry_operations unionfs_dentry_ops = {
	.d_release	= unionfs_d_release,
	.d_iput		= unionfs_d_iput,
	UFS_D_REAL_OP
};
