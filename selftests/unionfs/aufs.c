// SPDX-License-Identifier: GPL-2.0-only
/*
 * AUFS-format whiteouts (mount option aufs_whiteouts), as containers/storage
 * writes its layers when a mount_program is set: a file .wh.NAME hides NAME
 * in the layers below, .wh..wh..opq makes its directory opaque, and no
 * .wh.* name is ever seen or made through the union. The union's own
 * whiteouts stay 0/0 devices. Without the option a .wh.* file is a file.
 */
#include "ufs_test.h"
#include "kselftest_harness.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define MAX_NAMES 64

struct listing {
	int nr;
	char name[MAX_NAMES][64];
	unsigned char type[MAX_NAMES];
};

/* Every entry but . and .., by getdents64; -1 on error. */
static int list_dir(const char *path, struct listing *l)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	long n, off;

	l->nr = 0;
	if (fd < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (l->nr < MAX_NAMES) {
				snprintf(l->name[l->nr], 64, "%s", d->d_name);
				l->type[l->nr] = d->d_type;
			}
			l->nr++;
		}
	}
	close(fd);
	return n < 0 ? -1 : l->nr;
}

/* d_type of @name in @l, or -1 when it is not there (-2: more than once). */
static int type_of(const struct listing *l, const char *name)
{
	int i, t = -1;

	for (i = 0; i < l->nr && i < MAX_NAMES; i++) {
		if (strcmp(l->name[i], name))
			continue;
		if (t != -1)
			return -2;
		t = l->type[i];
	}
	return t;
}

static int has_wh_name(const struct listing *l)
{
	int i;

	for (i = 0; i < l->nr && i < MAX_NAMES; i++)
		if (!strncmp(l->name[i], ".wh.", 4))
			return 1;
	return 0;
}

/* An AUFS whiteout as containers/storage unpacks one: a mode 0 empty file. */
static int aufs_wh(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	if (ufs_put(dir, rel, ""))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return chmod(path, 0);
}

/* The mountinfo line of @mnt (static buffer), or NULL. */
static const char *mountinfo_of(const char *mnt)
{
	static char line[16384];
	char want[PATH_MAX + 4];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	const char *found = NULL;

	snprintf(want, sizeof(want), " %s ", mnt);
	while (f && !found && fgets(line, sizeof(line), f))
		if (strstr(line, want))
			found = line;
	if (f)
		fclose(f);
	return found;
}

static int env_mount(struct ufs_env *e, const char *extra)
{
	char opts[4096];
	int i, n;

	n = snprintf(opts, sizeof(opts), "lowerdir=");
	for (i = 0; i < e->nr_lowers; i++)
		n += snprintf(opts + n, sizeof(opts) - n, "%s%s",
			      i ? ":" : "", e->lower[i]);
	n += snprintf(opts + n, sizeof(opts) - n, ",upperdir=%s,workdir=%s",
		      e->upper, e->work);
	if (extra)
		snprintf(opts + n, sizeof(opts) - n, ",%s", extra);
	for (i = 0; i < e->nr_lowers; i++)
		e->fp[i] = ufs_fingerprint(e->lower[i]);
	e->fp_taken = 1;
	if (ufs_mount(e->mnt, opts))
		return -1;
	e->mounted = 1;
	return 0;
}

/* lower0 is the top lower layer, lower2 the bottom one. */
static void build_layers(struct __test_metadata *_metadata, struct ufs_env *e)
{
	ASSERT_EQ(0, ufs_env_init(e, 3));
	ASSERT_EQ(0, ufs_put(e->lower[2], "keep", "keep"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "f", "bottom-f"));
	/* a file and a directory hidden by the middle layer */
	ASSERT_EQ(0, ufs_put(e->lower[2], "hid", "hidden"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], ".wh.hid"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "hiddir/inner", "inner"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], ".wh.hiddir"));
	/* a whiteout does not hide the name in the layers above it ... */
	ASSERT_EQ(0, ufs_put(e->lower[2], "above", "below"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], ".wh.above"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "above", "top"));
	/* ... nor in its own layer */
	ASSERT_EQ(0, ufs_put(e->lower[2], "same", "below"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], ".wh.same"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "same", "middle"));
	/* a directory beside its own whiteout: what is below is hidden */
	ASSERT_EQ(0, ufs_put(e->lower[2], "mix/old", "old"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "mix/new", "new"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], ".wh.mix"));
	/* an opaque directory */
	ASSERT_EQ(0, ufs_put(e->lower[2], "op/old", "old"));
	ASSERT_EQ(0, ufs_put(e->lower[1], "op/new", "new"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], "op/.wh..wh..opq"));
	/* whiteouts inside a merged directory */
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/x", "x"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "d/y", "y"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[2], "d/sub"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], "d/.wh.x"));
	ASSERT_EQ(0, aufs_wh(e->lower[0], "d/.wh.sub"));
	ASSERT_EQ(0, ufs_put(e->lower[0], "d/z", "z"));
	/* a directory whose every entry is whited out */
	ASSERT_EQ(0, ufs_put(e->lower[2], "e/gone", "gone"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], "e/.wh.gone"));
	/* aufs's own metadata at a layer root */
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[1], ".wh..wh.plnk"));
	ASSERT_EQ(0, aufs_wh(e->lower[1], ".wh..wh.aufs"));
	ASSERT_EQ(0, ufs_mkdir_in(e->lower[0], ".wh..wh.orph"));
	/* the upper layer's content counts too */
	ASSERT_EQ(0, ufs_put(e->lower[2], "uhid", "uhid"));
	ASSERT_EQ(0, aufs_wh(e->upper, ".wh.uhid"));
	ASSERT_EQ(0, ufs_put(e->lower[2], "ud/z", "z"));
	ASSERT_EQ(0, aufs_wh(e->upper, "ud/.wh.z"));
}

FIXTURE(aufs) {
	struct ufs_env e;
};

FIXTURE_SETUP(aufs)
{
	build_layers(_metadata, &self->e);
	ASSERT_EQ(0, env_mount(&self->e, "aufs_whiteouts"));
}

FIXTURE_TEARDOWN(aufs)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

TEST_F_TIMEOUT(aufs, hides_lower_file, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "hid"));
	EXPECT_EQ(NULL, ufs_get(self->e.mnt, "hid"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/x"));
	/* what is not whited out stays */
	EXPECT_STREQ("keep", ufs_get(self->e.mnt, "keep"));
	EXPECT_STREQ("y", ufs_get(self->e.mnt, "d/y"));
	/* the upper layer's .wh.uhid hides uhid of a lower layer */
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "uhid"));
}

TEST_F_TIMEOUT(aufs, hides_lower_dir, UFS_TEST_TIMEOUT)
{
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "hiddir"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "hiddir/inner"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/sub"));
}

TEST_F_TIMEOUT(aufs, does_not_hide_above_or_same_layer, UFS_TEST_TIMEOUT)
{
	EXPECT_STREQ("top", ufs_get(self->e.mnt, "above"));
	EXPECT_STREQ("middle", ufs_get(self->e.mnt, "same"));
}

TEST_F_TIMEOUT(aufs, dir_beside_its_whiteout_hides_below, UFS_TEST_TIMEOUT)
{
	struct listing l;

	EXPECT_STREQ("new", ufs_get(self->e.mnt, "mix/new"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "mix/old"));
	ASSERT_EQ(1, list_dir(ufs_path(self->e.mnt, "mix"), &l));
	EXPECT_STREQ("new", l.name[0]);
}

TEST_F_TIMEOUT(aufs, opaque_marker_hides_lower_entries, UFS_TEST_TIMEOUT)
{
	struct listing l;

	EXPECT_STREQ("new", ufs_get(self->e.mnt, "op/new"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "op/old"));
	ASSERT_EQ(1, list_dir(ufs_path(self->e.mnt, "op"), &l));
	EXPECT_STREQ("new", l.name[0]);
}

TEST_F_TIMEOUT(aufs, wh_names_not_listed, UFS_TEST_TIMEOUT)
{
	struct listing l;

	ASSERT_LE(0, list_dir(self->e.mnt, &l));
	EXPECT_EQ(0, has_wh_name(&l));
	ASSERT_LE(0, list_dir(ufs_path(self->e.mnt, "d"), &l));
	EXPECT_EQ(0, has_wh_name(&l));
	ASSERT_EQ(0, list_dir(ufs_path(self->e.mnt, "e"), &l));
	ASSERT_EQ(0, list_dir(ufs_path(self->e.mnt, "ud"), &l));
}

TEST_F_TIMEOUT(aufs, wh_names_not_statable, UFS_TEST_TIMEOUT)
{
	static const char *const names[] = {
		".wh.hid", ".wh.hiddir", ".wh.same", "op/.wh..wh..opq", "d/.wh.x",
		".wh..wh.plnk", ".wh..wh.aufs", ".wh..wh.orph", ".wh.uhid",
		".wh.nothing-below", "ud/.wh.z",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = ufs_path(self->e.mnt, "%s", names[i]);

		EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, names[i]))
			TH_LOG("%s", names[i]);
		EXPECT_EQ(-1, open(p, O_RDONLY));
		EXPECT_EQ(ENOENT, errno);
		free(p);
	}
}

TEST_F_TIMEOUT(aufs, create_wh_name_is_einval, UFS_TEST_TIMEOUT)
{
	char *f = ufs_path(self->e.mnt, ".wh.x");
	char *dx = ufs_path(self->e.mnt, "d/.wh.new");
	char *keep = ufs_path(self->e.mnt, "keep");
	struct listing l;

	EXPECT_EQ(-1, open(f, O_WRONLY | O_CREAT, 0644));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, open(dx, O_WRONLY | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mkdir(f, 0755));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, symlink("keep", f));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mknod(f, S_IFIFO | 0644, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, link(keep, f));
	EXPECT_EQ(EINVAL, errno);
	/* not even the name of an existing whiteout */
	EXPECT_EQ(-1, open(ufs_path(self->e.mnt, ".wh.hid"), O_WRONLY | O_CREAT, 0644));
	EXPECT_EQ(EINVAL, errno);
	/* nothing reached the upper layer */
	EXPECT_EQ(0, ufs_exists(self->e.upper, ".wh.x"));
	EXPECT_EQ(0, ufs_exists(self->e.upper, "d"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "hid"));
	ASSERT_LE(0, list_dir(self->e.upper, &l));
	EXPECT_EQ(-1, type_of(&l, ".wh.hid"));
	free(f);
	free(dx);
	free(keep);
}

TEST_F_TIMEOUT(aufs, rename_to_wh_name_is_einval, UFS_TEST_TIMEOUT)
{
	char *from = ufs_path(self->e.mnt, "keep");
	char *to = ufs_path(self->e.mnt, ".wh.keep");
	char *dfrom = ufs_path(self->e.mnt, "d");

	EXPECT_EQ(-1, rename(from, to));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, rename(dfrom, ufs_path(self->e.mnt, ".wh.d")));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, rename(from, ufs_path(self->e.mnt, "d/.wh.y")));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("keep", ufs_get(self->e.mnt, "keep"));
	EXPECT_STREQ("y", ufs_get(self->e.mnt, "d/y"));
	EXPECT_EQ(0, ufs_exists(self->e.upper, ".wh.keep"));
	EXPECT_EQ(0, ufs_exists(self->e.upper, ".wh.d"));
	free(from);
	free(to);
	free(dfrom);
}

TEST_F_TIMEOUT(aufs, delete_leaves_native_whiteout, UFS_TEST_TIMEOUT)
{
	char *f = ufs_path(self->e.mnt, "f");
	char *y = ufs_path(self->e.mnt, "d/y");
	struct stat st;

	ASSERT_STREQ("bottom-f", ufs_get(self->e.mnt, "f"));
	ASSERT_EQ(0, unlink(f));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "f"));
	ASSERT_EQ(0, unlink(y));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "d/y"));
	/* the union's whiteouts are 0/0 devices, never .wh. files */
	ASSERT_EQ(0, lstat(ufs_path(self->e.upper, "f"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, st.st_rdev);
	ASSERT_EQ(0, lstat(ufs_path(self->e.upper, "d/y"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, ufs_exists(self->e.upper, ".wh.f"));
	EXPECT_EQ(0, ufs_exists(self->e.upper, "d/.wh.y"));
	/* a hidden name can be made again, and is a new file */
	ASSERT_EQ(0, ufs_put(self->e.mnt, "hid", "again"));
	EXPECT_STREQ("again", ufs_get(self->e.mnt, "hid"));
	ASSERT_EQ(0, mkdir(ufs_path(self->e.mnt, "hiddir"), 0755));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "hiddir/inner"));
	free(f);
	free(y);
}

TEST_F_TIMEOUT(aufs, rmdir_of_dir_emptied_by_whiteouts, UFS_TEST_TIMEOUT)
{
	/* e: only a lower file, whited out in a lower layer */
	EXPECT_EQ(0, rmdir(ufs_path(self->e.mnt, "e")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "e"));
	/* ud: the upper directory holds the .wh. file itself */
	EXPECT_EQ(0, rmdir(ufs_path(self->e.mnt, "ud")));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(self->e.mnt, "ud"));
	/* d still shows y and z: not empty */
	EXPECT_EQ(-1, rmdir(ufs_path(self->e.mnt, "d")));
	EXPECT_EQ(ENOTEMPTY, errno);
}

TEST_F_TIMEOUT(aufs, readdir_count_and_dtype, UFS_TEST_TIMEOUT)
{
	struct listing l;

	/* root: above d e f keep mix op same + upper's ud; hid, hiddir, uhid hidden */
	ASSERT_EQ(9, list_dir(self->e.mnt, &l));
	EXPECT_EQ(DT_DIR, type_of(&l, "mix"));
	EXPECT_EQ(DT_REG, type_of(&l, "above"));
	EXPECT_EQ(DT_DIR, type_of(&l, "d"));
	EXPECT_EQ(DT_DIR, type_of(&l, "e"));
	EXPECT_EQ(DT_REG, type_of(&l, "f"));
	EXPECT_EQ(DT_REG, type_of(&l, "keep"));
	EXPECT_EQ(DT_DIR, type_of(&l, "op"));
	EXPECT_EQ(DT_REG, type_of(&l, "same"));
	EXPECT_EQ(DT_DIR, type_of(&l, "ud"));
	EXPECT_EQ(-1, type_of(&l, "hid"));
	EXPECT_EQ(-1, type_of(&l, "hiddir"));
	EXPECT_EQ(-1, type_of(&l, "uhid"));
	/* d: y (lower2) and z (lower0); x and sub whited out */
	ASSERT_EQ(2, list_dir(ufs_path(self->e.mnt, "d"), &l));
	EXPECT_EQ(DT_REG, type_of(&l, "y"));
	EXPECT_EQ(DT_REG, type_of(&l, "z"));
	/* right after a delete through the union */
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "d/y")));
	ASSERT_EQ(1, list_dir(ufs_path(self->e.mnt, "d"), &l));
	EXPECT_EQ(DT_REG, type_of(&l, "z"));
	ASSERT_EQ(0, unlink(ufs_path(self->e.mnt, "keep")));
	ASSERT_EQ(8, list_dir(self->e.mnt, &l));
	EXPECT_EQ(-1, type_of(&l, "keep"));
	EXPECT_EQ(0, has_wh_name(&l));
}

TEST_F_TIMEOUT(aufs, mountinfo_shows_option, UFS_TEST_TIMEOUT)
{
	const char *line = mountinfo_of(self->e.mnt);

	ASSERT_NE(NULL, line);
	EXPECT_NE(NULL, strstr(line, ",aufs_whiteouts"));
	/* given again on remount: accepted, still set */
	EXPECT_EQ(0, mount("none", self->e.mnt, "unionfs", MS_REMOUNT,
			   "aufs_whiteouts"));
	line = mountinfo_of(self->e.mnt);
	ASSERT_NE(NULL, line);
	EXPECT_NE(NULL, strstr(line, ",aufs_whiteouts"));
}

/* The same layers through fsopen/fsconfig: the option is a flag there. */
TEST_F_TIMEOUT(aufs, new_mount_api_flag, UFS_TEST_TIMEOUT)
{
	char *mnt2 = ufs_path(self->e.base, "mnt2");
	const char *line;
	int fsfd;

	ASSERT_EQ(0, mkdir(mnt2, 0755));
	fsfd = ufs_fsopen("unionfs");
	ASSERT_LE(0, fsfd);
	ASSERT_EQ(0, ufs_fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+",
				  self->e.lower[0], 0));
	ASSERT_EQ(0, ufs_fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+",
				  self->e.lower[1], 0));
	ASSERT_EQ(0, ufs_fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+",
				  self->e.lower[2], 0));
	ASSERT_EQ(0, ufs_fsconfig(fsfd, FSCONFIG_SET_FLAG, "aufs_whiteouts",
				  NULL, 0));
	ASSERT_EQ(0, ufs_fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	ASSERT_EQ(0, ufs_fsmount_at(fsfd, mnt2));
	close(fsfd);
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(mnt2, "hid"));
	EXPECT_EQ(ENOENT, ufs_errno_of_lstat(mnt2, ".wh.hid"));
	EXPECT_STREQ("middle", ufs_get(mnt2, "same"));
	/* read-only union: the option shows without an upper too */
	line = mountinfo_of(mnt2);
	ASSERT_NE(NULL, line);
	EXPECT_NE(NULL, strstr(line, ",aufs_whiteouts"));
	EXPECT_EQ(0, umount(mnt2));
	free(mnt2);
}

FIXTURE(plain) {
	struct ufs_env e;
};

FIXTURE_SETUP(plain)
{
	build_layers(_metadata, &self->e);
	ASSERT_EQ(0, env_mount(&self->e, NULL));
}

FIXTURE_TEARDOWN(plain)
{
	EXPECT_EQ(-1, ufs_env_lower_changed(&self->e));
	ufs_env_fini(&self->e);
}

/* Without the option nothing changes: a .wh.x file is a file. */
TEST_F_TIMEOUT(plain, wh_files_are_ordinary, UFS_TEST_TIMEOUT)
{
	struct listing l;
	const char *line;

	EXPECT_STREQ("hidden", ufs_get(self->e.mnt, "hid"));
	EXPECT_STREQ("inner", ufs_get(self->e.mnt, "hiddir/inner"));
	EXPECT_STREQ("old", ufs_get(self->e.mnt, "op/old"));
	EXPECT_EQ(0, ufs_errno_of_lstat(self->e.mnt, ".wh.hid"));
	EXPECT_EQ(0, ufs_errno_of_lstat(self->e.mnt, "op/.wh..wh..opq"));
	ASSERT_LE(0, list_dir(ufs_path(self->e.mnt, "d"), &l));
	EXPECT_EQ(DT_REG, type_of(&l, ".wh.x"));
	EXPECT_EQ(DT_REG, type_of(&l, "x"));
	ASSERT_EQ(0, ufs_put(self->e.mnt, ".wh.made", "made"));
	EXPECT_STREQ("made", ufs_get(self->e.upper, ".wh.made"));
	line = mountinfo_of(self->e.mnt);
	ASSERT_NE(NULL, line);
	EXPECT_EQ(NULL, strstr(line, "aufs_whiteouts"));
}

TEST_HARNESS_MAIN
