/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unionfs: internal API shared by the files of the module.
 *
 * A union mount stacks layers: an optional writable upper layer on top of
 * one or more read-only lower layers. Layer 0 is the upper when there is
 * one, then the lowers from top to bottom.
 */
#ifndef _UNIONFS_H
#define _UNIONFS_H

#include <linux/fs.h>
#include <linux/cred.h>
#include <linux/atomic.h>
#include <linux/kobject.h>
#include "compat.h"

#define UNIONFS_NAME		"unionfs"
#define UNIONFS_SUPER_MAGIC	0x756e696f	/* "unio" */
#define UNIONFS_MAX_LAYERS	4096

/* On-disk markers: ours, and overlayfs's (honoured in lower layers). */
#define UNIONFS_XATTR_PREFIX	XATTR_TRUSTED_PREFIX "unionfs."
#define UNIONFS_XATTR_OPAQUE	UNIONFS_XATTR_PREFIX "opaque"
#define UNIONFS_XATTR_INO	UNIONFS_XATTR_PREFIX "ino"
#define UNIONFS_XATTR_REDIRECT	UNIONFS_XATTR_PREFIX "redirect"
/* An upper directory that may hold objects with a recorded inode number. */
#define UNIONFS_XATTR_IMPURE	UNIONFS_XATTR_PREFIX "impure"
/* A regular upper file whose data is still the lower file of its name. */
#define UNIONFS_XATTR_METACOPY	UNIONFS_XATTR_PREFIX "metacopy"
#define OVERLAY_XATTR_PREFIX	XATTR_TRUSTED_PREFIX "overlay."
#define OVERLAY_XATTR_OPAQUE	OVERLAY_XATTR_PREFIX "opaque"
/* a renamed directory: where its lower part is ("/a/b", or a sibling "b") */
#define OVERLAY_XATTR_REDIRECT	OVERLAY_XATTR_PREFIX "redirect"
/* a file with overlayfs's attributes whose data is in a layer below */
#define OVERLAY_XATTR_METACOPY	OVERLAY_XATTR_PREFIX "metacopy"

/*
 * AUFS-format whiteouts (mount option aufs_whiteouts), as containers/storage
 * stores layers when it runs a mount_program: a file .wh.NAME in a layer
 * hides NAME in the layers below, .wh..wh..opq makes its directory opaque,
 * and .wh..wh.* names are aufs's own. No .wh.* name shows in the union.
 */
#define UFS_AUFS_WH_PREFIX	".wh."
#define UFS_AUFS_WH_PREFIX_LEN	4
#define UFS_AUFS_OPAQUE		".wh..wh..opq"
#define UFS_AUFS_META_PREFIX	".wh..wh."

/* Name of the staging directory inside workdir. */
#define UNIONFS_WORK_STAGING	"staging"
#define UNIONFS_WORK_VOLATILE	"volatile"

struct unionfs_layer {
	struct vfsmount *mnt;		/* private clone, never changes */
	unsigned int fsidx;		/* index of the layer's filesystem */
	char *name;			/* the path as the user gave it */
};

/* Per-mount counters; read through sysfs (stats.c). */
struct unionfs_stats {
	atomic64_t lookups;
	atomic64_t lookup_layers;	/* real lookups done by union lookups */
	atomic64_t readdir_builds;
	atomic64_t readdir_cache_hits;
	atomic64_t readdir_cache_bytes;	/* held by cached listings now */
	atomic64_t readdir_cache_evictions; /* dropped for the memory budget */
	atomic64_t readdir_cache_stale;	/* found out of date at opendir */
	/* lookups a current listing answered (readdir.c: lookup index) */
	atomic64_t index_hits;		/* the name: from its layer down */
	atomic64_t index_negatives;	/* no layer shows the name */
	atomic64_t index_builds;	/* listings built for lookups alone */
	atomic64_t copy_ups;
	atomic64_t copy_up_bytes;
	atomic64_t metacopy_ups;	/* copy-ups that left the data below */
	atomic64_t metacopy_bytes;	/* lower data not copied by them */
	atomic64_t data_completions;	/* metacopy files given their data */
	atomic64_t chunks_copied;	/* partial copy-up: chunks copied up */
	atomic64_t whiteouts;
};

/*
 * Superblock info. Everything is set at mount and read-only afterwards,
 * so it needs no locking.
 */
struct unionfs_fs {
	struct unionfs_layer *layers;	/* upper (if any) first, then lowers */
	unsigned int nr_layers;
	unsigned int nr_lowers;
	bool has_upper;
	bool is_volatile;		/* no fsync on copy-up */
	bool metacopy;			/* attribute changes copy no data */
	bool aufs_whiteouts;		/* .wh.NAME files in layers hide NAME */
	bool lookup_index;		/* lookups use current listings */
	/*
	 * Every layer is a local, non-stacked filesystem with byte-exact
	 * names (ufs_index_trusts_fs(), no d_hash): its directories' stamps change with every
	 * change and its readdir shows every name its lookup finds. Not so
	 * for NFS, FUSE, CIFS, overlayfs, a union, vfat, casefolding
	 * filesystems: the lookup index stays off on those.
	 */
	bool index_layers_ok;
	/* overlayfs's options, as given: shown, never change behaviour */
	bool default_permissions;
	int redirect_dir;		/* UFS_REDIRECT_* */
	int xino;			/* UFS_XINO_* */
	unsigned int chunk_shift;	/* partial copy-up; 0: whole files */
	struct path workdir;		/* held only when has_upper */
	char *workdir_name;		/* as the user gave it */
	struct dentry *staging;		/* workdir/staging */
	unsigned int nr_fs;		/* distinct filesystems among the layers */
	unsigned int xino_bits;		/* high inode bits that carry fsidx */
	const struct cred *creator_cred; /* all layer access runs with these */
	struct unionfs_stats stats;
	struct kobject kobj;		/* /sys/fs/unionfs/<id> */
	int id;
	dev_t dev;			/* the union's st_dev, for sysfs */
	/* upperdir and workdir are ours alone (I_OVL_INUSE): see super.c */
	bool upper_locked;
	bool work_locked;
};

/*
 * The layer dentries that make up one union dentry, topmost first. For a
 * directory: every directory of that name from the top down to the first
 * opaque one; for anything else: the single topmost entry.
 *
 * real[0] is reserved for the upper layer and real[1..end) hold the lower
 * entries. Entries before @first are not in use. Two changes are made after
 * the dentry is instantiated. Copy-up fills real[0], then publishes it by
 * storing first = 0 with release semantics (ufs_stack_set_upper()), under
 * the union inode's copy_up_lock; readers load @first with acquire
 * semantics and never see a half-made entry. And a directory made opaque
 * in place has @end cut to 1 (ufs_stack_drop_lowers()), with its inode
 * locked for write, which every reader of its lower entries holds (shared
 * at least); @end never grows after instantiation.
 */
struct unionfs_real {
	struct dentry *dentry;
	unsigned int layer;		/* index into unionfs_fs.layers */
};

struct unionfs_stack {
	unsigned int first;		/* 0: has upper; 1: lower entries only */
	unsigned int end;		/* one past the last entry */
	/*
	 * One past the last entry still referenced, when @end was cut back
	 * (ufs_stack_drop_lowers()); 0 otherwise. The entries beyond @end
	 * are put only when the stack is freed: a reader may hold them.
	 */
	unsigned int held;
	bool opaque;			/* the bottom entry stops the merge */
	bool metacopy;			/* upper file with its data in real[1] */
	struct unionfs_real real[];
};

static inline unsigned int ufs_stack_first(const struct unionfs_stack *stack)
{
	/* pairs with the release in ufs_stack_set_upper() */
	return smp_load_acquire(&stack->first);
}

/* The number of lower entries (those below the upper). */
static inline unsigned int ufs_stack_lowers(const struct unionfs_stack *stack)
{
	return stack->end - 1;
}

/*
 * Partial copy-up: which chunks of a metacopy file's data the upper file
 * holds (a set bit: that chunk was copied up, and maybe written since);
 * the others are read from the lower file. Chunks cover the lower data,
 * [0, lower_size); what lies beyond it is the upper file's own.
 *
 * On disk: the value of trusted.unionfs.metacopy (struct ufs_chunk_disk,
 * then one bit per chunk); an empty value means no chunk is present. The
 * value is rewritten only after the upper file's data is synced, at fsync
 * and at the last close of a writer, so after a crash every chunk it marks
 * holds data; a chunk copied up but not yet marked reads from below again
 * (and is punched before it is copied up again: it may hold bytes written
 * before the crash).
 *
 * Bits are set under the union inode's copy_up_lock, after the chunk's
 * data is in the upper file (reads test them without a lock); @dirty,
 * @unsynced and the disk value change under copy_up_lock too.
 */
struct ufs_chunks {
	loff_t lower_size;
	unsigned int shift;		/* chunk size: 1 << shift bytes */
	unsigned long nr;		/* chunks covering lower_size */
	bool dirty;			/* bits set since the value was written */
	bool unsynced;			/* value written, not synced since */
	unsigned long map[];
};

struct ufs_chunk_disk {
	u8 version;			/* UFS_CHUNK_VERSION */
	u8 shift;
	__le16 pad;
	__le32 pad2;
	__le64 lower_size;
} __packed;

#define UFS_CHUNK_VERSION	1
#define UFS_CHUNK_MIN_SHIFT	12
#define UFS_CHUNK_MAX_SHIFT	26
/* At most this many chunks per file: the xattr value stays small. */
#define UFS_CHUNK_MAX_NR	16384

/*
 * A union inode. @real is the topmost real inode; copy-up switches it from
 * the lower inode to the upper one (release store; both stay held until
 * eviction), under @copy_up_lock, which also serialises copy-ups of the
 * inode so concurrent writers produce exactly one.
 *
 * @metacopy: the upper file has the attributes but not yet the data, which
 * is read from the lower file of the dentry's stack (real[1]). Set before
 * the inode is published or by a metadata copy-up; cleared, once the data
 * is in the upper file, under @copy_up_lock (release store; readers load
 * it with ufs_data_in_lower()).
 *
 * @copy_up_lock is also held by every change of the upper file's
 * attributes (chmod, chown, utimes, xattrs, ACLs: ufs_attr_lock()), so
 * none runs while ufs_complete_data() fills the file and then puts back
 * the attributes the fill changed.
 *
 * Lock order: a union inode's i_rwsem (a directory's before its
 * children's), then its invalidate_lock (writeback of mapped pages takes
 * it shared), then @copy_up_lock (one inode's at a time), then the upper
 * layer's freeze protection (mnt_want_write(), file_start_write()), then
 * the upper's own inode locks (staging directory, upper inode). mmap_lock
 * comes before invalidate_lock (faults) and is never taken under
 * @copy_up_lock: no user memory is touched while it is held.
 */
struct unionfs_inode {
	struct inode vfs_inode;
	struct inode *real;		/* topmost real inode */
	struct inode *key;		/* real inode it was found by (iget5) */
	struct inode *lower;		/* the lower inode before copy-up (held) */
	struct inode *upper;		/* the upper inode (held), or NULL */
	unsigned int layer;		/* layer of @real */
	bool metacopy;			/* data still in lower: see above */
	struct mutex copy_up_lock;	/* serialises copy-ups: see above */
	/* metacopy files, set once under copy_up_lock, freed at eviction */
	struct ufs_chunks *chunks;	/* loaded at the first open */
	struct file *data_file;		/* the lower data, for merged reads */
	/*
	 * The upper dentry (in the upper layer's mount) of the first shared
	 * writable mapping of a metacopy file: writeback of the union page
	 * cache writes through a file of it. Set once (cmpxchg), put at
	 * eviction. Not a file: the real files present the union path, and
	 * would hold the union's own dentry and mount.
	 */
	struct dentry *map_upper;
	/*
	 * directories: the last merged listing while its layers are
	 * unchanged (readdir.c), under readdir.c's ufs_dir_cache_lock
	 */
	struct ufs_listing *dir_cache;
	u64 dir_version;
	/* lookups that asked every layer since the last build (racy hint) */
	unsigned int slow_lookups;
};

static inline struct unionfs_fs *UFS_FS(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct unionfs_inode *UFS_I(struct inode *inode)
{
	return container_of(inode, struct unionfs_inode, vfs_inode);
}

static inline struct unionfs_stack *ufs_stack(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

static inline struct unionfs_real *ufs_top(const struct dentry *dentry)
{
	struct unionfs_stack *stack = ufs_stack(dentry);

	return &stack->real[ufs_stack_first(stack)];
}

/* The upper dentry of a union dentry, or NULL when it has none yet. */
static inline struct dentry *ufs_upper(const struct dentry *dentry)
{
	struct unionfs_stack *stack = ufs_stack(dentry);

	return stack && ufs_stack_first(stack) == 0 ? stack->real[0].dentry : NULL;
}

static inline struct inode *ufs_real_inode(struct inode *inode)
{
	/* pairs with the release at the end of copy-up */
	return smp_load_acquire(&UFS_I(inode)->real);
}

/* Is the file's data still only in the lower layer (metadata copy-up)? */
static inline bool ufs_data_in_lower(struct inode *inode)
{
	/* pairs with the release in ufs_complete_data() */
	return smp_load_acquire(&UFS_I(inode)->metacopy);
}

/*
 * The union inode's own page cache (shared writable mappings of a partial
 * file) holds pages written through a mapping that have not reached the
 * upper file yet.
 */
static inline bool ufs_has_mapped_writes(struct inode *inode)
{
	return mapping_tagged(&inode->i_data, PAGECACHE_TAG_DIRTY) ||
	       mapping_tagged(&inode->i_data, PAGECACHE_TAG_WRITEBACK);
}

/* Around a change of the upper file's attributes: see unionfs_inode. */
static inline void ufs_attr_lock(struct inode *inode)
{
	mutex_lock(&UFS_I(inode)->copy_up_lock);
}

static inline void ufs_attr_unlock(struct inode *inode)
{
	mutex_unlock(&UFS_I(inode)->copy_up_lock);
}

static inline unsigned int ufs_real_layer(struct inode *inode)
{
	/* layer is written before real is published */
	return smp_load_acquire(&UFS_I(inode)->real) == UFS_I(inode)->upper ?
	       0 : UFS_I(inode)->layer;
}

static inline struct vfsmount *ufs_layer_mnt(struct super_block *sb,
					     unsigned int layer)
{
	return UFS_FS(sb)->layers[layer].mnt;
}

/* The real path of the topmost entry of a union dentry. */
static inline void ufs_top_path(struct dentry *dentry, struct path *path)
{
	struct unionfs_real *top = ufs_top(dentry);

	path->mnt = ufs_layer_mnt(dentry->d_sb, top->layer);
	path->dentry = top->dentry;
}

static inline bool ufs_is_aufs_name(const char *name, unsigned int len)
{
	return len >= UFS_AUFS_WH_PREFIX_LEN &&
	       !memcmp(name, UFS_AUFS_WH_PREFIX, UFS_AUFS_WH_PREFIX_LEN);
}

/* A name that is never looked up nor made through the union. */
static inline bool ufs_aufs_reserved(const struct unionfs_fs *fs,
				     const struct qstr *name)
{
	return fs->aufs_whiteouts && ufs_is_aufs_name(name->name, name->len);
}

static inline const struct cred *ufs_override_creds(struct super_block *sb)
{
	return override_creds(UFS_FS(sb)->creator_cred);
}

#define ufs_stat_inc(fs, field)		atomic64_inc(&(fs)->stats.field)
#define ufs_stat_add(fs, field, n)	atomic64_add((n), &(fs)->stats.field)

/* A name taken out of a directory listing. */
struct ufs_dirname {
	struct list_head next;
	unsigned int len;
	char name[];
};

struct ufs_listing;

/* super.c */
extern struct kmem_cache *unionfs_inode_cachep;

/* namei.c */
extern const struct dentry_operations unionfs_dentry_ops;
struct dentry *unionfs_lookup(struct inode *dir, struct dentry *dentry,
			      unsigned int flags);
struct unionfs_stack *ufs_stack_alloc(unsigned int nr_lowers);
void ufs_stack_free(struct unionfs_stack *stack);
void ufs_stack_set_upper(struct unionfs_stack *stack, struct dentry *upper);
void ufs_stack_drop_lowers(struct unionfs_stack *stack);
bool ufs_is_opaque_dir(struct dentry *real);
bool ufs_is_whiteout(struct dentry *real);
int ufs_aufs_whiteout(struct unionfs_fs *fs, unsigned int layer,
		      struct dentry *dir, const struct qstr *name);
bool ufs_lower_has_name(struct dentry *dentry, bool count_whiteouts);
char *ufs_lower_relpath(struct dentry *dentry);
int ufs_data_path(struct dentry *dentry, struct path *path);
struct dentry *ufs_d_real(struct dentry *dentry, const struct inode *inode);
int ufs_upper_file_path(struct unionfs_fs *fs, struct file *upper,
			struct path *path);

/* inode.c */
extern const struct inode_operations unionfs_dir_iops;
extern const struct inode_operations unionfs_file_iops;
extern const struct inode_operations unionfs_symlink_iops;
extern const struct inode_operations unionfs_special_iops;
extern const struct xattr_handler **unionfs_xattr_handlers;
struct inode *ufs_get_inode(struct super_block *sb, struct unionfs_stack *stack,
			    bool merged_dir);
void ufs_copy_attr(struct inode *inode, struct inode *real);
void ufs_inode_rehash(struct inode *inode);
u64 ufs_ino(struct unionfs_fs *fs, unsigned int layer, u64 real_ino);
bool ufs_read_origin_ino(struct dentry *upper, u64 *ino);
bool ufs_is_private_xattr(const char *name);

int unionfs_getattr(UFS_IDMAP_T *idmap, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags);
int unionfs_setattr(UFS_IDMAP_T *idmap, struct dentry *dentry,
		    struct iattr *attr);
int unionfs_permission(UFS_IDMAP_T *idmap, struct inode *inode, int mask);
ssize_t unionfs_listxattr(struct dentry *dentry, char *list, size_t size);
struct posix_acl *unionfs_get_inode_acl(struct inode *inode, int type,
					bool rcu);
struct posix_acl *unionfs_get_acl(UFS_IDMAP_T *idmap, struct dentry *dentry,
				  int type);
int unionfs_set_acl(UFS_IDMAP_T *idmap, struct dentry *dentry,
		    struct posix_acl *acl, int type);
struct fileattr;
int unionfs_fileattr_get(struct dentry *dentry, struct fileattr *fa);
int unionfs_fileattr_set(UFS_IDMAP_T *idmap, struct dentry *dentry,
			 struct fileattr *fa);

/* readdir.c */
extern const struct file_operations unionfs_dir_fops;
int ufs_dir_empty(struct dentry *dentry, struct list_head *whiteouts);
void ufs_dir_changed(struct inode *dir);
void ufs_dir_cache_evict(struct inode *dir);
void ufs_free_names(struct list_head *names);
int ufs_dir_index_lookup(struct dentry *dir, const struct qstr *name,
			 unsigned int *from_layer);
int ufs_set_impure(struct unionfs_fs *fs, struct dentry *udir,
		   struct dentry *child);

/* copy_up.c */
int ufs_copy_up(struct dentry *dentry);
int ufs_copy_up_flags(struct dentry *dentry, int flags);
int ufs_copy_up_meta(struct dentry *dentry);
int ufs_copy_up_for_write(struct dentry *dentry, int flags);
struct dentry *ufs_staging_lookup(struct unionfs_fs *fs);
void ufs_staging_remove(struct unionfs_fs *fs, struct dentry *tmp);

/* chunks.c */
int ufs_chunks_load(struct dentry *dentry);
int ufs_chunks_load_locked(struct dentry *dentry);
bool ufs_chunks_any(struct ufs_chunks *chunks);
bool ufs_chunk_present(struct ufs_chunks *chunks, loff_t pos);
struct file *ufs_open_for_chunks(const struct path *path);
int ufs_chunks_prepare(struct inode *inode, struct file *upper, loff_t start,
		       loff_t end);
int ufs_chunks_fill_locked(struct inode *inode, struct file *out);
int ufs_chunks_persist(struct inode *inode, struct file *upper, bool sync);
ssize_t ufs_copy_range(struct file *in, struct file *out, loff_t start,
		       loff_t end, bool to_end);

/* file.c */
extern const struct file_operations unionfs_file_fops;
extern const struct address_space_operations unionfs_aops;
void ufs_data_changed(struct inode *inode, loff_t start, loff_t end);
int ufs_flush_mapped(struct inode *inode, loff_t start, loff_t end);

/* stats.c */
int ufs_sysfs_init(void);
void ufs_sysfs_exit(void);
int ufs_sysfs_add(struct unionfs_fs *fs);
void ufs_sysfs_del(struct unionfs_fs *fs);
void ufs_sysfs_put(struct unionfs_fs *fs);

#endif /* _UNIONFS_H */
