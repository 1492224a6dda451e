// SPDX-License-Identifier: GPL-2.0-only
/*
 * unionfs: merged directory listing.
 *
 * A merged listing is built by reading each layer of the directory's stack
 * top down; a name is kept from the first layer that has it; whiteouts hide
 * their name in the layers below and are never shown. With aufs_whiteouts,
 * no .wh.* name is shown, and .wh.NAME hides NAME in the layers below its
 * own (looked at once the whole layer is read, so NAME beside it stays). An open directory
 * keeps the listing it read first, so positions are stable for telldir and
 * seekdir. A seek to 0 (rewinddir) always builds afresh.
 *
 * Listings are shared: the union directory inode keeps the last one, so
 * opening a directory again costs no layer reads, but only while every
 * real directory it was read from is unchanged. A build first takes a
 * change stamp of each (struct ufs_dir_stamp); the first read of an open
 * directory compares them with the directories as they are now, and a
 * listing whose stamps differ is dropped and built afresh, so changes
 * made to the layers directly show on the next opendir, as changes made
 * through the union (which also drop it at once: ufs_dir_changed()).
 * Where the stamp is only times and size, a directory changed in the
 * current clock tick could change again with the same times: such a
 * listing is not kept.
 *
 * Memory: all cached listings of all mounts share one budget, the module
 * parameter dir_cache_max_kb; past it the least recently used go first.
 * Per mount, readdir_cache_bytes shows what its listings hold,
 * readdir_cache_evictions how many went for the budget, readdir_cache_stale
 * how many were found out of date.
 *
 * d_ino equals st_ino. An object copied up keeps the union inode number it
 * had, recorded in its trusted.unionfs.ino, and so does a copied-up object
 * renamed or linked into another directory; the upper directory gets the
 * mark trusted.unionfs.impure before such an object arrives
 * (ufs_set_impure()). A build reads the recorded number of each entry of
 * an impure upper directory (one lookup and one xattr read per entry, at
 * build time only); other directories cost nothing more. Upper directories
 * that were copied up themselves, and the upper root, count as impure
 * without the mark: copy-ups made before the mark existed are there.
 */
#include <linux/slab.h>
#include <linux/rbtree.h>
#include <linux/namei.h>
#include <linux/file.h>
#include <linux/iversion.h>
#include <linux/module.h>
#include "unionfs.h"

static unsigned int dir_cache_max_kb = 32768;
module_param(dir_cache_max_kb, uint, 0644);
MODULE_PARM_DESC(dir_cache_max_kb,
		 "memory for merged directory listings kept across opens, all mounts (KiB)");

struct ufs_dirent {
	struct rb_node node;	/* in the name tree, during the build */
	struct list_head next;	/* pending whiteout checks */
	u64 ino;
	unsigned int type;
	unsigned int len;
	unsigned int layer;	/* the layer the name was taken from */
	bool hidden;		/* a whiteout: hides, is not listed */
	bool wh_target;		/* hidden by an AUFS .wh. file: no object */
	char name[];
};

/*
 * What a real directory looked like before a build read it: its i_version
 * where the filesystem keeps one (any change bumps it), else its times
 * (with ns) and size.
 */
struct ufs_dir_stamp {
	u64 version;
	struct timespec64 mtime;
	struct timespec64 ctime;
	loff_t size;
	unsigned long ino;
};

/*
 * Immutable once built; freed with its last reference. The cache fields
 * (@lru, @owner) change under ufs_dir_cache_lock.
 */
struct ufs_listing {
	refcount_t ref;
	struct ufs_dirent **ents;	/* visible entries, in listing order */
	unsigned int nr;
	unsigned int cap;
	struct rb_root names;
	size_t bytes;			/* memory it holds */
	bool keep;			/* its stamps can tell every change */
	bool index_ok;			/* lookups find what it names */
	unsigned int first;		/* stack->first at the build */
	unsigned int nr_stamps;		/* real directories read */
	struct ufs_dir_stamp *stamps;	/* one per real directory, top down */
	struct unionfs_fs *fs;
	struct unionfs_inode *owner;	/* whose dir_cache it is, or NULL */
	struct list_head lru;		/* in ufs_dir_lru while cached */
};

/*
 * Cached listings of every mount, least recently used first, and what
 * they hold. Also protects every union inode's dir_cache and dir_version.
 */
static DEFINE_SPINLOCK(ufs_dir_cache_lock);
static LIST_HEAD(ufs_dir_lru);
static size_t ufs_dir_cached_bytes;

/* Per open directory. */
struct ufs_dir_file {
	struct mutex lock;		/* serialises builds, reads and seeks */
	struct ufs_listing *listing;	/* NULL until read, and after rewind */
	bool rewound;			/* the next read builds afresh */
};

struct ufs_fill_ctx {
	struct dir_context ctx;
	struct ufs_listing *listing;
	struct unionfs_fs *fs;
	unsigned int layer;
	bool want_ino;		/* the listing is for readdir: exact d_ino */
	bool read_ino;		/* this layer's entries may have a recorded ino */
	struct list_head pending;	/* entries to look at after the read */
	struct list_head aufs;		/* this layer's .wh.* entries */
	unsigned int seen;
	int err;
};

static void ufs_listing_free(struct ufs_listing *l)
{
	struct ufs_dirent *e, *tmp;

	if (!l)
		return;
	rbtree_postorder_for_each_entry_safe(e, tmp, &l->names, node)
		kfree(e);
	kvfree(l->ents);
	kfree(l->stamps);
	kfree(l);
}

static void ufs_listing_put(struct ufs_listing *l)
{
	if (l && refcount_dec_and_test(&l->ref))
		ufs_listing_free(l);
}

/* Take @l out of the cache (ufs_dir_cache_lock held); the caller puts it. */
static void ufs_dir_cache_unlink(struct ufs_listing *l)
{
	lockdep_assert_held(&ufs_dir_cache_lock);
	l->owner->dir_cache = NULL;
	l->owner = NULL;
	list_del_init(&l->lru);
	ufs_dir_cached_bytes -= l->bytes;
	atomic64_sub(l->bytes, &l->fs->stats.readdir_cache_bytes);
}

/* Forget the cached listing of a union directory (it changed). */
void ufs_dir_changed(struct inode *dir)
{
	struct unionfs_inode *ui = UFS_I(dir);
	struct ufs_listing *old;

	spin_lock(&ufs_dir_cache_lock);
	ui->dir_version++;
	/* one being written to is not read whole for its lookups */
	WRITE_ONCE(ui->slow_lookups, 0);
	old = ui->dir_cache;
	if (old)
		ufs_dir_cache_unlink(old);
	spin_unlock(&ufs_dir_cache_lock);
	ufs_listing_put(old);
}

void ufs_dir_cache_evict(struct inode *dir)
{
	ufs_dir_changed(dir);
}

/* Take a stamp of @dir, before reading it; false: it may change unseen. */
static bool ufs_stamp_take(struct inode *dir, struct ufs_dir_stamp *st)
{
	struct timespec64 now;

	st->ino = dir->i_ino;
	if (IS_I_VERSION(dir)) {
		/* queried: the next change bumps it */
		st->version = inode_query_iversion(dir);
		return true;
	}
	st->version = 0;
	st->ctime = inode_get_ctime(dir);
	st->mtime = inode_get_mtime(dir);
	st->size = i_size_read(dir);
	/*
	 * Changed in this clock tick: one more change in it could leave
	 * the same times (and size, for a rename). Not worth keeping.
	 */
	now = current_time(dir);
	return timespec64_compare(&st->ctime, &now) < 0;
}

static bool ufs_stamp_same(struct inode *dir, const struct ufs_dir_stamp *st)
{
	struct timespec64 t;

	if (dir->i_ino != st->ino)
		return false;
	if (IS_I_VERSION(dir))
		return inode_peek_iversion(dir) == st->version;
	t = inode_get_ctime(dir);
	if (!timespec64_equal(&t, &st->ctime))
		return false;
	t = inode_get_mtime(dir);
	return timespec64_equal(&t, &st->mtime) &&
	       i_size_read(dir) == st->size;
}

/* Are the real directories of @dentry those of @l, all unchanged? */
static bool ufs_listing_current(struct ufs_listing *l, struct dentry *dentry)
{
	struct unionfs_stack *stack = ufs_stack(dentry);
	unsigned int i, first = ufs_stack_first(stack);

	if (first != l->first || stack->end - first != l->nr_stamps)
		return false;
	for (i = 0; i < l->nr_stamps; i++)
		if (!ufs_stamp_same(d_inode(stack->real[first + i].dentry),
				    &l->stamps[i]))
			return false;
	return true;
}

/*
 * The cached listing of @dentry's directory if it is still true, or NULL.
 * Its stamps are compared outside the lock, which every mount shares: a
 * lookup compares one per layer.
 */
static struct ufs_listing *ufs_dir_cache_get(struct dentry *dentry)
{
	struct unionfs_inode *ui = UFS_I(d_inode(dentry));
	struct ufs_listing *l;
	bool cached = false;

	spin_lock(&ufs_dir_cache_lock);
	l = ui->dir_cache;
	if (l) {
		refcount_inc(&l->ref);
		list_move_tail(&l->lru, &ufs_dir_lru);
	}
	spin_unlock(&ufs_dir_cache_lock);
	if (!l || ufs_listing_current(l, dentry))
		return l;

	atomic64_inc(&l->fs->stats.readdir_cache_stale);
	spin_lock(&ufs_dir_cache_lock);
	if (l->owner == ui) {
		ufs_dir_cache_unlink(l);
		cached = true;
	}
	spin_unlock(&ufs_dir_cache_lock);
	if (cached)
		ufs_listing_put(l);	/* the cache's reference */
	ufs_listing_put(l);
	return NULL;
}

/* Drop the oldest listings until @need more bytes fit; false: never. */
static bool ufs_dir_cache_make_room(size_t need, struct list_head *victims)
{
	size_t max = (size_t)READ_ONCE(dir_cache_max_kb) << 10;
	struct ufs_listing *l;

	lockdep_assert_held(&ufs_dir_cache_lock);
	if (need > max)
		return false;
	while (ufs_dir_cached_bytes + need > max &&
	       !list_empty(&ufs_dir_lru)) {
		l = list_first_entry(&ufs_dir_lru, struct ufs_listing, lru);
		atomic64_inc(&l->fs->stats.readdir_cache_evictions);
		ufs_dir_cache_unlink(l);
		list_add_tail(&l->lru, victims);
	}
	return true;
}

/*
 * Cache @l unless the directory changed since @version (taken before the
 * build), its stamps cannot tell, or it does not fit.
 */
static void ufs_dir_cache_set(struct inode *dir, struct ufs_listing *l,
			      u64 version)
{
	struct unionfs_inode *ui = UFS_I(dir);
	struct ufs_listing *old = NULL, *v, *tmp;
	LIST_HEAD(victims);

	if (!l->keep)
		return;
	spin_lock(&ufs_dir_cache_lock);
	if (ui->dir_version == version && !l->owner) {
		old = ui->dir_cache;
		if (old)
			ufs_dir_cache_unlink(old);
		if (ufs_dir_cache_make_room(l->bytes, &victims)) {
			refcount_inc(&l->ref);
			l->owner = ui;
			ui->dir_cache = l;
			list_add_tail(&l->lru, &ufs_dir_lru);
			ufs_dir_cached_bytes += l->bytes;
			atomic64_add(l->bytes, &l->fs->stats.readdir_cache_bytes);
		}
	}
	spin_unlock(&ufs_dir_cache_lock);
	ufs_listing_put(old);
	list_for_each_entry_safe(v, tmp, &victims, lru) {
		list_del_init(&v->lru);
		ufs_listing_put(v);
	}
}

static int ufs_name_cmp(const char *a, unsigned int alen, const struct ufs_dirent *e)
{
	int c = memcmp(a, e->name, min(alen, e->len));

	if (c)
		return c;
	return alen < e->len ? -1 : alen > e->len;
}

/* Find @name, or the link where it would be inserted. */
static struct ufs_dirent *ufs_name_find(struct ufs_listing *l,
					const char *name, unsigned int len,
					struct rb_node ***linkp,
					struct rb_node **parentp)
{
	struct rb_node **link = &l->names.rb_node, *parent = NULL;

	while (*link) {
		struct ufs_dirent *e = rb_entry(*link, struct ufs_dirent, node);
		int c = ufs_name_cmp(name, len, e);

		if (!c)
			return e;
		parent = *link;
		link = c < 0 ? &parent->rb_left : &parent->rb_right;
	}
	*linkp = link;
	*parentp = parent;
	return NULL;
}

static int ufs_listing_append(struct ufs_listing *l, struct ufs_dirent *e)
{
	if (l->nr == l->cap) {
		unsigned int cap = max(64U, l->cap * 2);
		struct ufs_dirent **n;

		n = kvmalloc_array(cap, sizeof(*n), GFP_KERNEL);
		if (!n)
			return -ENOMEM;
		if (l->nr)
			memcpy(n, l->ents, l->nr * sizeof(*n));
		kvfree(l->ents);
		l->ents = n;
		l->bytes += (cap - l->cap) * sizeof(*n);
		l->cap = cap;
	}
	l->ents[l->nr++] = e;
	return 0;
}

/* A new entry of the name tree at @link, from the layer being read. */
static struct ufs_dirent *ufs_name_insert(struct ufs_fill_ctx *fc,
					  const char *name, int len,
					  struct rb_node **link,
					  struct rb_node *parent)
{
	struct ufs_dirent *e;

	e = kmalloc(struct_size(e, name, len + 1), GFP_KERNEL);
	if (!e) {
		fc->err = -ENOMEM;
		return NULL;
	}
	fc->listing->bytes += struct_size(e, name, len + 1);
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->len = len;
	e->type = DT_UNKNOWN;
	e->ino = 0;
	e->layer = fc->layer;
	e->hidden = false;
	e->wh_target = false;
	INIT_LIST_HEAD(&e->next);
	rb_link_node(&e->node, parent, link);
	rb_insert_color(&e->node, &fc->listing->names);
	return e;
}

static bool ufs_fill_merge(struct dir_context *ctx, const char *name, int len,
			   loff_t offset, u64 ino, unsigned int d_type)
{
	struct ufs_fill_ctx *fc = container_of(ctx, struct ufs_fill_ctx, ctx);
	struct rb_node **link, *parent;
	struct ufs_dirent *e;

	fc->seen++;
	if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
		return true;
	if (ufs_name_find(fc->listing, name, len, &link, &parent))
		return true;	/* a layer above has it (or hides it) */

	e = ufs_name_insert(fc, name, len, link, parent);
	if (!e)
		return false;
	e->type = d_type;
	e->ino = ufs_ino(fc->fs, fc->layer, ino);

	/*
	 * AUFS whiteouts and markers are never listed; what a .wh.NAME
	 * hides is decided once the layer is read (ufs_resolve_aufs()).
	 * Kept in the tree: rmdir removes those of the upper layer.
	 */
	if (fc->fs->aufs_whiteouts && ufs_is_aufs_name(name, len)) {
		e->hidden = true;
		list_add_tail(&e->next, &fc->aufs);
		return true;
	}

	/*
	 * A character device may be a whiteout, and an entry of an impure
	 * upper directory may have a recorded ino: look after the read.
	 */
	if (d_type == DT_CHR || d_type == DT_UNKNOWN || fc->read_ino) {
		list_add_tail(&e->next, &fc->pending);
		return true;
	}
	fc->err = ufs_listing_append(fc->listing, e);
	return !fc->err;
}

/*
 * Decide each pending entry of one layer: hidden whiteout or listed, with
 * its recorded ino where it has one. After an error (@err) the pending
 * list is only emptied.
 */
static int ufs_resolve_pending(struct ufs_fill_ctx *fc, struct dentry *dir,
			       int err)
{
	struct ufs_dirent *e, *tmp;

	list_for_each_entry_safe(e, tmp, &fc->pending, next) {
		struct dentry *real;
		u64 ino;

		list_del_init(&e->next);
		if (err)
			continue;
		real = lookup_one_unlocked(UFS_NOP_IDMAP, e->name, dir, e->len);
		if (IS_ERR(real)) {
			err = PTR_ERR(real);
			continue;
		}
		if (ufs_is_whiteout(real)) {
			e->hidden = true;
		} else if (d_is_positive(real)) {
			if (e->type == DT_UNKNOWN)
				e->type = fs_umode_to_dtype(d_inode(real)->i_mode);
			if (fc->read_ino && ufs_read_origin_ino(real, &ino))
				e->ino = ino;
			err = ufs_listing_append(fc->listing, e);
		}
		/* Negative: removed while we read; leave it out. */
		dput(real);
	}
	return err;
}

/*
 * The .wh.NAME entries of the layer just read hide NAME in the layers
 * below, unless a layer above or this one has it. .wh..wh.* are aufs's
 * own markers (.wh..wh..opq is seen at lookup: the stack ends there).
 */
static void ufs_resolve_aufs(struct ufs_fill_ctx *fc)
{
	struct ufs_dirent *e, *tmp, *t;

	list_for_each_entry_safe(e, tmp, &fc->aufs, next) {
		const char *name = e->name + UFS_AUFS_WH_PREFIX_LEN;
		int len = e->len - UFS_AUFS_WH_PREFIX_LEN;
		struct rb_node **link, *parent;

		list_del_init(&e->next);
		if (fc->err || !len || ufs_is_aufs_name(name, len) ||
		    (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.')))
			continue;
		if (ufs_name_find(fc->listing, name, len, &link, &parent))
			continue;
		t = ufs_name_insert(fc, name, len, link, parent);
		if (t) {
			t->hidden = true;
			t->wh_target = true;
		}
	}
}

/* May entries of the upper directory @udir have a recorded ino? */
static bool ufs_dir_is_impure(struct unionfs_fs *fs, struct dentry *udir)
{
	char val;

	if (udir == fs->layers[0].mnt->mnt_root)
		return true;
	return vfs_getxattr(UFS_NOP_IDMAP, udir, UNIONFS_XATTR_IMPURE, &val, 1) == 1 ||
	       vfs_getxattr(UFS_NOP_IDMAP, udir, UNIONFS_XATTR_INO, NULL, 0) > 0;
}

/*
 * @child (upper, with the mounter's credentials and write access) is about
 * to be moved or linked into the upper directory @udir, or copied up into
 * it: if it has a recorded ino, mark @udir so its listings read it.
 */
int ufs_set_impure(struct unionfs_fs *fs, struct dentry *udir,
		   struct dentry *child)
{
	u64 ino;

	if (!ufs_read_origin_ino(child, &ino) || ufs_dir_is_impure(fs, udir))
		return 0;
	return vfs_setxattr(UFS_NOP_IDMAP, udir, UNIONFS_XATTR_IMPURE, "y", 1, 0);
}

static int ufs_read_layer(struct ufs_fill_ctx *fc, struct super_block *sb,
			  struct unionfs_real *real, struct ufs_dir_stamp *stamp)
{
	struct path path = {
		.mnt = ufs_layer_mnt(sb, real->layer),
		.dentry = real->dentry,
	};
	struct file *file;
	int err;

	/* before the read: a change while it reads shows in the stamp */
	if (!ufs_stamp_take(d_inode(real->dentry), stamp))
		fc->listing->keep = false;
	file = dentry_open(&path, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(file))
		return PTR_ERR(file);

	fc->layer = real->layer;
	fc->read_ino = fc->want_ino && fc->fs->has_upper && real->layer == 0 &&
		       ufs_dir_is_impure(fc->fs, real->dentry);
	do {
		fc->seen = 0;
		err = iterate_dir(file, &fc->ctx);
	} while (!err && !fc->err && fc->seen);
	fput(file);
	if (!err)
		err = fc->err;
	err = ufs_resolve_pending(fc, real->dentry, err);
	if (err && !fc->err)
		fc->err = err;
	ufs_resolve_aufs(fc);
	return fc->err;
}

/*
 * Names a directory's lookup finds that its readdir does not show as they
 * are (casefolded, encrypted): the index never answers for it.
 */
static bool ufs_index_dir_ok(struct unionfs_stack *stack)
{
	unsigned int i;

	for (i = ufs_stack_first(stack); i < stack->end; i++) {
		struct inode *inode = d_inode(stack->real[i].dentry);

		if (IS_CASEFOLDED(inode) || IS_ENCRYPTED(inode))
			return false;
	}
	return true;
}

/* @want_ino: for readdir (exact d_ino), not only for the names. */
static struct ufs_listing *ufs_build_listing(struct dentry *dentry,
					     bool want_ino)
{
	struct unionfs_stack *stack = ufs_stack(dentry);
	struct super_block *sb = dentry->d_sb;
	struct ufs_fill_ctx fc = {
		.ctx.actor = ufs_fill_merge,
		.fs = UFS_FS(sb),
		.want_ino = want_ino,
	};
	unsigned int i, first = ufs_stack_first(stack);
	struct ufs_listing *l;
	const struct cred *old;
	int err = 0;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	refcount_set(&l->ref, 1);
	l->names = RB_ROOT;
	INIT_LIST_HEAD(&l->lru);
	l->fs = fc.fs;
	l->first = first;
	l->nr_stamps = stack->end - first;
	l->stamps = kcalloc(l->nr_stamps, sizeof(*l->stamps), GFP_KERNEL);
	if (!l->stamps) {
		kfree(l);
		return ERR_PTR(-ENOMEM);
	}
	l->bytes = sizeof(*l) + l->nr_stamps * sizeof(*l->stamps);
	l->keep = want_ino;
	l->index_ok = ufs_index_dir_ok(stack);
	fc.listing = l;
	INIT_LIST_HEAD(&fc.pending);
	INIT_LIST_HEAD(&fc.aufs);

	ufs_stat_inc(fc.fs, readdir_builds);
	old = ufs_override_creds(sb);
	for (i = 0; i < l->nr_stamps && !err; i++)
		err = ufs_read_layer(&fc, sb, &stack->real[first + i],
				     &l->stamps[i]);
	revert_creds(old);
	if (err) {
		ufs_listing_free(fc.listing);
		return ERR_PTR(err);
	}
	return fc.listing;
}

/*
 * Lookup index. A current listing holds every name the merged directory's
 * layers have, each with the topmost layer that has it (hidden when that
 * is a whiteout): a lookup asks only that layer and those below it (a
 * directory merges downwards), and for a name the listing lacks or hides,
 * no layer at all. "Current" means what it means for readdir: every real
 * directory it was read from is unchanged (its stamp), so a change made
 * to a layer directly is seen by the next lookup as by the next opendir.
 *
 * A readdir leaves its listing behind. A directory that takes lookups
 * without one gets a listing built for them once the lookups that asked
 * every layer have cost about what the build costs: a build reads each
 * layer's directory, counted as one real lookup per layer and one per
 * UFS_INDEX_ENTRY_BYTES of the directories' i_size (a few entries of a
 * tmpfs directory, a thirty-second of an ext4 block: a rough unit), and
 * each such lookup made one real lookup per layer. So a directory looked up a few
 * times never pays for reading its layers, and no workload pays more than
 * about twice what it would without the index. The count starts again at
 * every change made through the union (a directory being written to, as
 * by an untar, is not read whole again and again), and directories of
 * more than UFS_INDEX_MAX_BYTES in all are never read for it. A listing
 * lives in the union inode and goes with it (drop_caches spares one the
 * dentry cache pins: a root, a cwd; no shrinker yet) and in the
 * dir_cache_max_kb budget of every listing. Only on layers whose stamps
 * and names can be trusted (index_layers_ok, and the listing's index_ok
 * from ufs_index_dir_ok() at its build: checked once, not per lookup).
 */
#define UFS_INDEX_MIN_LOOKUPS	4
#define UFS_INDEX_ENTRY_BYTES	128
#define UFS_INDEX_MAX_BYTES	(16 << 20)

/* Count a lookup that asked every layer; true: build a listing now. */
static bool ufs_index_wanted(struct dentry *dir)
{
	struct unionfs_stack *stack = ufs_stack(dir);
	struct unionfs_inode *ui = UFS_I(d_inode(dir));
	unsigned int i, first = ufs_stack_first(stack);
	unsigned int layers = stack->end - first;
	unsigned int slow = READ_ONCE(ui->slow_lookups) + 1;
	loff_t bytes = 0;

	/* a single layer: a lookup asks it anyway */
	if (layers < 2)
		return false;
	WRITE_ONCE(ui->slow_lookups, slow);
	if (slow < UFS_INDEX_MIN_LOOKUPS)
		return false;
	if (!ufs_index_dir_ok(stack)) {
		WRITE_ONCE(ui->slow_lookups, 0);
		return false;
	}
	for (i = first; i < stack->end; i++)
		bytes += i_size_read(d_inode(stack->real[i].dentry));
	if (bytes > UFS_INDEX_MAX_BYTES) {
		WRITE_ONCE(ui->slow_lookups, 0);
		return false;
	}
	if ((u64)slow * layers < layers + bytes / UFS_INDEX_ENTRY_BYTES)
		return false;
	WRITE_ONCE(ui->slow_lookups, 0);
	return true;
}

/* A listing of @dir for its lookups, kept as readdir keeps one; or NULL. */
static struct ufs_listing *ufs_index_build(struct dentry *dir)
{
	struct unionfs_inode *ui = UFS_I(d_inode(dir));
	struct ufs_listing *l;
	u64 version;

	spin_lock(&ufs_dir_cache_lock);
	version = ui->dir_version;
	spin_unlock(&ufs_dir_cache_lock);
	l = ufs_build_listing(dir, true);
	if (IS_ERR(l))
		return NULL;	/* the lookup asks the layers, and sees why */
	ufs_stat_inc(UFS_FS(dir->d_sb), index_builds);
	ufs_dir_cache_set(d_inode(dir), l, version);
	return l;
}

/*
 * Where the lookup of @name in the union directory @dir (its inode locked
 * at least shared) starts: 0 with *@from_layer, the topmost layer that has
 * it; -ENOENT when no layer shows it; -EAGAIN when no current listing can
 * tell (ask every layer).
 */
int ufs_dir_index_lookup(struct dentry *dir, const struct qstr *name,
			 unsigned int *from_layer)
{
	struct unionfs_fs *fs = UFS_FS(dir->d_sb);
	struct rb_node **link, *parent;
	struct ufs_listing *l;
	struct ufs_dirent *e;
	int ret = 0;

	if (!fs->lookup_index || !fs->index_layers_ok)
		return -EAGAIN;
	l = ufs_dir_cache_get(dir);
	if (!l && ufs_index_wanted(dir))
		l = ufs_index_build(dir);
	if (!l)
		return -EAGAIN;
	if (!l->index_ok) {
		ufs_listing_put(l);
		return -EAGAIN;
	}
	e = ufs_name_find(l, name->name, name->len, &link, &parent);
	if (!e || e->hidden) {
		ufs_stat_inc(fs, index_negatives);
		ret = -ENOENT;
	} else {
		*from_layer = e->layer;
		ufs_stat_inc(fs, index_hits);
	}
	ufs_listing_put(l);
	return ret;
}

void ufs_free_names(struct list_head *names)
{
	struct ufs_dirname *n, *tmp;

	list_for_each_entry_safe(n, tmp, names, next)
		kfree(n);
	INIT_LIST_HEAD(names);
}

/*
 * For rmdir: -ENOTEMPTY unless the union shows no entry in @dentry. When
 * empty, @whiteouts gets the names of the whiteouts in its upper layer,
 * which must go before the upper directory can be removed.
 */
int ufs_dir_empty(struct dentry *dentry, struct list_head *whiteouts)
{
	struct ufs_listing *l = ufs_build_listing(dentry, false);
	struct ufs_dirent *e, *tmp;
	int err = 0;

	if (IS_ERR(l))
		return PTR_ERR(l);
	if (l->nr) {
		err = -ENOTEMPTY;
		goto out;
	}
	rbtree_postorder_for_each_entry_safe(e, tmp, &l->names, node) {
		struct ufs_dirname *n;

		if (!e->hidden || e->wh_target || e->layer != 0 ||
		    !UFS_FS(dentry->d_sb)->has_upper)
			continue;
		n = kmalloc(struct_size(n, name, e->len + 1), GFP_KERNEL);
		if (!n) {
			err = -ENOMEM;
			break;
		}
		n->len = e->len;
		memcpy(n->name, e->name, e->len + 1);
		list_add_tail(&n->next, whiteouts);
	}
	if (err)
		ufs_free_names(whiteouts);
out:
	ufs_listing_put(l);
	return err;
}

/*
 * A union may be a layer of another: reading an upper union's directory
 * holds its od->lock while it reads the lower union's, which takes that
 * one's i_rwsem and then its own od->lock. One class per stacking depth,
 * as for the inodes' i_rwsem (inode.c), tells lockdep they nest.
 */
static struct lock_class_key ufs_dir_file_lock_key[FILESYSTEM_MAX_STACK_DEPTH];

static int unionfs_dir_open(struct inode *inode, struct file *file)
{
	struct ufs_dir_file *od = kzalloc(sizeof(*od), GFP_KERNEL);
	int depth = clamp(inode->i_sb->s_stack_depth - 1, 0,
			  FILESYSTEM_MAX_STACK_DEPTH - 1);

	if (!od)
		return -ENOMEM;
	mutex_init(&od->lock);
	lockdep_set_class(&od->lock, &ufs_dir_file_lock_key[depth]);
	file->private_data = od;
	return 0;
}

static int unionfs_dir_release(struct inode *inode, struct file *file)
{
	struct ufs_dir_file *od = file->private_data;

	ufs_listing_put(od->listing);
	mutex_destroy(&od->lock);
	kfree(od);
	return 0;
}

static int unionfs_iterate(struct file *file, struct dir_context *ctx)
{
	struct ufs_dir_file *od = file->private_data;
	struct dentry *dentry = file->f_path.dentry;
	struct ufs_listing *l;
	int err = 0;

	if (!dir_emit_dots(file, ctx))
		return 0;

	mutex_lock(&od->lock);
	if (!od->listing && !od->rewound) {
		od->listing = ufs_dir_cache_get(dentry);
		if (od->listing)
			ufs_stat_inc(UFS_FS(dentry->d_sb), readdir_cache_hits);
	}
	if (!od->listing) {
		struct unionfs_inode *ui = UFS_I(d_inode(dentry));
		u64 version;

		spin_lock(&ufs_dir_cache_lock);
		version = ui->dir_version;
		spin_unlock(&ufs_dir_cache_lock);

		l = ufs_build_listing(dentry, true);
		if (IS_ERR(l)) {
			err = PTR_ERR(l);
			goto out;
		}
		ufs_dir_cache_set(d_inode(dentry), l, version);
		od->listing = l;
		od->rewound = false;
	}
	l = od->listing;
	while (ctx->pos - 2 < l->nr) {
		struct ufs_dirent *e = l->ents[ctx->pos - 2];

		if (!dir_emit(ctx, e->name, e->len, e->ino, e->type))
			break;
		ctx->pos++;
	}
out:
	mutex_unlock(&od->lock);
	return err;
}

static loff_t unionfs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct ufs_dir_file *od = file->private_data;
	loff_t pos;

	mutex_lock(&od->lock);
	switch (whence) {
	case SEEK_SET:
		pos = offset;
		break;
	case SEEK_CUR:
		pos = file->f_pos + offset;
		break;
	default:
		pos = -EINVAL;
		break;
	}
	if (pos >= 0) {
		if (pos == 0 && od->listing) {
			/* rewinddir: the next read lists afresh. */
			ufs_listing_put(od->listing);
			od->listing = NULL;
			od->rewound = true;
		}
		file->f_pos = pos;
	} else {
		pos = -EINVAL;
	}
	mutex_unlock(&od->lock);
	return pos;
}

static int unionfs_dir_fsync(struct file *file, loff_t start, loff_t end,
			     int datasync)
{
	struct dentry *upper = ufs_upper(file->f_path.dentry);
	struct unionfs_fs *fs = UFS_FS(file->f_path.dentry->d_sb);
	struct path path;
	struct file *real;
	int err;

	/* Only the upper directory can hold unsynced changes. */
	if (!upper || fs->is_volatile)
		return 0;
	path.mnt = fs->layers[0].mnt;
	path.dentry = upper;
	real = dentry_open(&path, O_RDONLY | O_DIRECTORY, fs->creator_cred);
	if (IS_ERR(real))
		return PTR_ERR(real);
	err = vfs_fsync_range(real, start, end, datasync);
	fput(real);
	return err;
}

const struct file_operations unionfs_dir_fops = {
	.open		= unionfs_dir_open,
	.release	= unionfs_dir_release,
	.read		= generic_read_dir,
	.iterate_shared	= unionfs_iterate,
	.llseek		= unionfs_dir_llseek,
	.fsync		= unionfs_dir_fsync,
};
