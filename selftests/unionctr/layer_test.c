// SPDX-License-Identifier: GPL-2.0
/*
 * OCI layer extraction: whiteouts and opaque markers become the union's
 * on-disk format (0/0 char devices; trusted.unionfs.opaque and
 * trusted.overlay.opaque), and unsafe archives are refused without writing
 * outside the layer.  Also tree digests and diffs.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer.h"
#include "tap.h"
#include "tarmaker.h"
#include "utils.h"

static char tmp[] = "/tmp/uc-layer-test.XXXXXX";

static char *make_tar(const char *name, const struct ent *e, bool gzip)
{
	char *path = xasprintf("%s/%s", tmp, name);

	if (tar_write(path, e, gzip) < 0)
		diag("writing %s failed", path);
	return path;
}

static bool is_wh(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;
	bool r = lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);

	free(p);
	return r;
}

static bool has_xattr(const char *dir, const char *rel, const char *name)
{
	char *p = xasprintf("%s/%s", dir, rel), v[8];
	ssize_t n = lgetxattr(p, name, v, sizeof(v));

	free(p);
	return n == 1 && v[0] == 'y';
}

static bool exists(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;
	bool r = lstat(p, &st) == 0;

	free(p);
	return r;
}

/* Entries in dir, "." and ".." aside. */
static int opendir_count(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static char *fresh_dir(const char *name)
{
	char *d = xasprintf("%s/%s", tmp, name);

	mkdir(d, 0755);
	return d;
}

/* The layer root takes the archive's "." entry, else root's 0755. */
static void test_top(void)
{
	static const struct ent with_top[] = {
		{ "./", 'd', "0750" }, { "f", 'f', "x" }, { NULL, 0, NULL },
	};
	static const struct ent without_top[] = {
		{ "f", 'f', "x" }, { NULL, 0, NULL },
	};
	char *t1 = make_tar("top1.tar", with_top, false), *t2 = make_tar("top2.tar", without_top, false);
	char *d1 = fresh_dir("top1"), *d2 = fresh_dir("top2");
	uc_error_t err = NULL;
	struct stat st;

	chmod(d1, 0700);
	chmod(d2, 0700);
	ok(layer_extract(t1, d1, true, &err) == 0 && stat(d1, &st) == 0 &&
	   (st.st_mode & 07777) == 0750, "the layer root gets the mode of the archive's ./");
	uc_error_release(&err);
	ok(layer_extract(t2, d2, true, &err) == 0 && stat(d2, &st) == 0 &&
	   (st.st_mode & 07777) == 0755, "  0755 when the archive has no ./ (not the staging dir's 0700)");
	uc_error_release(&err);
	free(t1);
	free(t2);
	free(d1);
	free(d2);
}

static void test_whiteouts(bool root)
{
	static const struct ent e[] = {
		{ "./etc/", 'd', NULL },
		{ "./etc/.wh.gone", 'f', "" },
		{ "etc/kept", 'f', "kept\n" },
		{ "opq/.wh..wh..opq", 'f', "" },
		{ "opq/new", 'f', "new" },
		{ "deep/er/.wh.x", 'f', "" },
		{ ".wh.top", 'f', "" },
		{ "etc/link", 'l', "/etc/kept" },
		{ "etc/hard", 'h', "etc/kept" },
		{ NULL, 0, NULL },
	};
	char *tar = make_tar("wh.tar.gz", e, true);
	char *dir = fresh_dir("wh");
	uc_error_t err = NULL;
	struct stat st;
	char *p;

	ok(layer_extract(tar, dir, true, &err) == 0, "extract an OCI layer (gzip)");
	if (err)
		diag("%s", err->msg);
	uc_error_release(&err);
	ok(is_wh(dir, "etc/gone"), ".wh.gone became a 0/0 whiteout");
	ok(!exists(dir, "etc/.wh.gone"), "no .wh. file left");
	ok(is_wh(dir, "top"), "top-level whiteout");
	ok(is_wh(dir, "deep/er/x"), "whiteout in a directory the tar never listed");
	ok(!exists(dir, "opq/.wh..wh..opq"), "no opaque marker file left");
	if (root) {
		ok(has_xattr(dir, "opq", "trusted.unionfs.opaque"), "opaque dir: trusted.unionfs.opaque=y");
		ok(has_xattr(dir, "opq", "trusted.overlay.opaque"), "opaque dir: trusted.overlay.opaque=y");
		ok(!has_xattr(dir, "etc", "trusted.overlay.opaque"), "other dirs not opaque");
		p = xasprintf("%s/etc/kept", dir);
		ok(stat(p, &st) == 0 && st.st_uid == 1234 && st.st_gid == 5678 &&
		   (st.st_mode & 07777) == 0640, "owner and mode kept");
		free(p);
	}
	p = xasprintf("%s/etc/hard", dir);
	{
		struct stat st2;
		char *q = xasprintf("%s/etc/kept", dir);

		ok(stat(p, &st) == 0 && stat(q, &st2) == 0 && st.st_ino == st2.st_ino,
		   "hard link inside the layer");
		free(q);
	}
	free(p);
	{
		char t[64] = "";
		ssize_t n;

		p = xasprintf("%s/etc/link", dir);
		n = readlink(p, t, sizeof(t) - 1);
		ok(n > 0 && !strcmp(t, "/etc/kept"), "symlink kept as is");
		free(p);
	}
	ok(layer_extract(tar, fresh_dir("nowh"), false, &err) == 0 &&
	   exists(tmp, "nowh/etc/.wh.gone"), "without conversion .wh. files are plain files");
	uc_error_release(&err);
	free(tar);
	free(dir);
}

static void test_unsafe(void)
{
	static const struct ent dotdot[] = {
		{ "ok", 'f', "x" }, { "../escape-dotdot", 'f', "x" }, { NULL, 0, NULL } };
	static const struct ent dotdot2[] = {
		{ "a/../../escape-dotdot2", 'f', "x" }, { NULL, 0, NULL } };
	static const struct ent abs[] = {
		{ "/tmp/escape-abs", 'f', "x" }, { NULL, 0, NULL } };
	static const struct ent through_link[] = {
		{ "link", 'l', "/tmp" }, { "link/escape-link", 'f', "x" }, { NULL, 0, NULL } };
	static const struct ent rel_link[] = {
		{ "up", 'l', "../.." }, { "up/escape-rel", 'f', "x" }, { NULL, 0, NULL } };
	static const struct ent hard_out[] = {
		{ "h", 'h', "../../../etc/passwd" }, { NULL, 0, NULL } };
	static const struct ent hard_abs[] = {
		{ "h", 'h', "/etc/passwd" }, { NULL, 0, NULL } };
	static const struct ent hard_link[] = {
		{ "l", 'l', "/etc" }, { "h", 'h', "l/passwd" }, { NULL, 0, NULL } };
	static const struct {
		const char *name;
		const struct ent *e;
		const char *escape;
	} t[] = {
		{ "'..' entry", dotdot, "escape-dotdot" },
		{ "'a/../..' entry", dotdot2, "escape-dotdot2" },
		{ "absolute entry", abs, "/tmp/escape-abs" },
		{ "write through an absolute symlink", through_link, "/tmp/escape-link" },
		{ "write through a relative symlink", rel_link, "escape-rel" },
		{ "hard link leaving the layer", hard_out, NULL },
		{ "hard link to an absolute path", hard_abs, NULL },
		{ "hard link through a symlink", hard_link, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *name = xasprintf("unsafe%zu.tar", i);
		char *tar = make_tar(name, t[i].e, false);
		char *dir = xasprintf("%s/u%zu/layer", tmp, i), *parent;
		uc_error_t err = NULL;
		struct stat st;

		parent = xasprintf("%s/u%zu", tmp, i);
		mkdir(parent, 0755);
		mkdir(dir, 0755);
		ok(layer_extract(tar, dir, true, &err) < 0, "%s is refused", t[i].name);
		if (err)
			diag("%s", err->msg);
		uc_error_release(&err);
		if (t[i].escape) {
			char *out = t[i].escape[0] == '/' ? xstrdup(t[i].escape) :
				    xasprintf("%s/%s", parent, t[i].escape);
			char *out2 = xasprintf("%s/%s", tmp, t[i].escape);

			ok(lstat(out, &st) < 0 && lstat(out2, &st) < 0, "  nothing written outside");
			unlink(out);
			free(out);
			free(out2);
		} else {
			char *h = xasprintf("%s/h", dir);

			ok(lstat(h, &st) < 0 || st.st_nlink == 1, "  no link to a file outside");
			free(h);
		}
		free(parent);
		free(dir);
		free(tar);
		free(name);
	}
}

/* Entries that are refused whole (devices, names too long) or kept as they
 * are (a symlink pointing out is only text until a container resolves it
 * inside its root). */
static void test_hostile_entries(bool root)
{
	char *long_name = xmalloc(NAME_MAX + 2), *deep = xmalloc(PATH_MAX + 512);
	char *long_target = xmalloc(PATH_MAX + 1);
	size_t i, n = 0;
	struct {
		const char *name;
		struct ent e[3];
		bool refused;
		const char *msg, *absent;
	} t[] = {
		{ "a block device", { { "sda", 'b', "8,0" } }, true, "device node `sda` (block 8:0)", "sda" },
		{ "a char device (/dev/mem)", { { "dev/mem", 'c', "1,1" } }, true,
		  "device node `dev/mem` (char 1:1)", "dev/mem" },
		{ "a name longer than NAME_MAX", { { long_name, 'f', "x" } }, true, "file name too long", NULL },
		{ "a path longer than PATH_MAX", { { deep, 'f', "x" } }, true, "file name too long", NULL },
		{ "a 0/0 char device (an overlay whiteout)", { { "wh", 'c', "0,0" } }, false, NULL, NULL },
		{ "a fifo", { { "fifo", 'p', NULL } }, false, NULL, NULL },
		{ "a symlink pointing out, relative", { { "out", 'l', "../../../../../../etc" } }, false, NULL, NULL },
		{ "a symlink with a PATH_MAX-1 target", { { "far", 'l', long_target } }, false, NULL, NULL },
	};

	memset(long_name, 'n', NAME_MAX + 1);
	long_name[NAME_MAX + 1] = '\0';
	while (n < PATH_MAX + 256) {
		memset(deep + n, 'd', 200);
		deep[n + 200] = '/';
		n += 201;
	}
	strcpy(deep + n, "f");
	for (i = 0; i < PATH_MAX - 1; i += 3)
		memcpy(long_target + i, "../", 3);
	long_target[PATH_MAX - 1] = '\0';
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *name = xasprintf("hostile%zu.tar", i), *tar = make_tar(name, t[i].e, false);
		char *pname = xasprintf("hostile%zu", i), *parent = fresh_dir(pname);
		char *dir = xasprintf("%s/layer", parent);
		uc_error_t err = NULL;
		int r;

		mkdir(dir, 0755);
		r = layer_extract(tar, dir, true, &err);
		if (t[i].refused) {
			ok(r < 0 && err && strstr(err->msg, t[i].msg), "%s is refused", t[i].name);
			diag("%s", err ? err->msg : "(no error)");
		} else if (root || t[i].e[0].type != 'c') {
			ok(r == 0 && exists(dir, t[i].e[0].path), "%s is extracted", t[i].name);
			if (err)
				diag("%s", err->msg);
		}
		if (t[i].absent)
			ok(!exists(dir, t[i].absent), "  and not made");
		ok(opendir_count(parent) == 1, "  nothing written beside the layer");
		uc_error_release(&err);
		free(name);
		free(pname);
		free(tar);
		free(parent);
		free(dir);
	}
	free(long_name);
	free(deep);
	free(long_target);
}

/* Digest of a fresh copy of tree base after cmd (run in the copy). */
static void digest_after(const char *base, const char *name, const char *cmd,
			 char out[65])
{
	char *d = fresh_dir(name), *sh;
	uc_error_t err = NULL;

	sh = xasprintf("cp -a %s/. %s/ && cd %s && %s", base, d, d, cmd);
	if (system(sh) != 0)
		diag("failed: %s", sh);
	if (tree_digest(d, out, &err) < 0)
		diag("digest: %s", err ? err->msg : "?");
	uc_error_release(&err);
	free(sh);
	free(d);
}

/* Metadata that changes what a container can do changes the id; times do not. */
static void test_digest_metadata(bool root)
{
	char *base = fresh_dir("dbase"), *cmd, d0[65], d[65];

	cmd = xasprintf("cd %s && mkdir -p bin && echo same > bin/a && echo same > bin/b && "
			"touch bin/tool", base);
	ok(system(cmd) == 0, "a tree for the metadata digests");
	free(cmd);
	digest_after(base, "dm0", "true", d0);
	digest_after(base, "dm1", "touch -d '2001-02-03 04:05:06' bin/a bin .", d);
	is_str(d, d0, "times do not change the digest");
	digest_after(base, "dm2", "ln -f bin/a bin/b", d);
	ok(strcmp(d, d0), "two names of one inode: a different digest from two equal files");
	digest_after(base, "dm3", "chmod 0700 .", d);
	ok(strcmp(d, d0), "the top directory's mode is in the digest");
	if (root) {
		digest_after(base, "dm4", "setcap cap_sys_admin+ep bin/tool", d);
		ok(strcmp(d, d0), "a file capability changes the digest");
		digest_after(base, "dm5", "setfacl -m u:4321:r bin/a", d);
		ok(strcmp(d, d0), "an ACL that leaves the mode as it is changes the digest");
		digest_after(base, "dm6", "setfattr -n trusted.x -v 1 bin/tool", d);
		ok(strcmp(d, d0), "any other xattr changes the digest");
	}
	free(base);
}

static void test_digest_and_diff(bool root)
{
	char *a = fresh_dir("da"), *b = fresh_dir("db"), *cmd;
	char d1[65], d2[65], d3[65];
	uc_error_t err = NULL;

	cmd = xasprintf("cd %s && mkdir -p x/y && echo 1 > x/f && ln -s f x/l && "
			"cp -a %s/. %s/", a, a, b);
	ok(system(cmd) == 0, "make two equal trees");
	free(cmd);
	ok(tree_digest(a, d1, &err) == 0 && tree_digest(b, d2, &err) == 0 && !strcmp(d1, d2),
	   "equal trees, equal digests");
	cmd = xasprintf("echo 2 > %s/x/f", b);
	ok(system(cmd) == 0 && tree_digest(b, d3, &err) == 0 && strcmp(d1, d3),
	   "changed content, different digest");
	free(cmd);
	if (root) {
		cmd = xasprintf("%s/x/y", a);
		ok(mark_opaque(cmd, &err) == 0 && tree_digest(a, d3, &err) == 0 && strcmp(d1, d3),
		   "opaque marker changes the digest");
		free(cmd);
	}
	test_digest_metadata(root);
	free(a);
	free(b);
}

struct changes {
	char buf[4096];
	size_t n;
};

static void collect(char kind, const char *path, void *data)
{
	struct changes *c = data;

	c->n += snprintf(c->buf + c->n, sizeof(c->buf) - c->n, "%c %s\n", kind, path);
}

static void test_diff(void)
{
	char *lower = fresh_dir("lower"), *upper = fresh_dir("upper"), *cmd;
	char *lowers[] = { lower, NULL };
	struct changes ch = { "", 0 };
	uc_error_t err = NULL;

	cmd = xasprintf("cd %s && mkdir -p etc && echo a > etc/passwd && echo b > etc/group && "
			"cd %s && mkdir -p etc tmp/new && echo c > etc/passwd && "
			"mknod etc/group c 0 0 && echo n > tmp/new/file && mknod never c 0 0",
			lower, upper);
	ok(system(cmd) == 0, "make lower and upper (with whiteouts)");
	free(cmd);
	ok(layer_diff(upper, lowers, collect, &ch, &err) == 0, "layer_diff");
	is_str(ch.buf, "C /etc\nD /etc/group\nC /etc/passwd\nA /tmp\nA /tmp/new\nA /tmp/new/file\n",
	       "changes as docker diff prints them (a whiteout of nothing is not listed)");

	/* What the launcher made, and copy-ups on the way, are not changes. */
	cmd = xasprintf("rm -rf %s/* && cd %s && mkdir -p etc proc sys dev var && "
			": > etc/hostname && : > etc/hosts && mkdir -p %s/var/lib %s/var/lib2 && "
			"mkdir -p var/lib var/lib2 && chmod 700 var/lib2 && "
			"echo data > etc/resolv.conf",
			upper, upper, lower, lower);
	ok(system(cmd) == 0, "make an upper with launcher-made entries");
	free(cmd);
	ch.n = 0;
	ch.buf[0] = '\0';
	ok(layer_diff(upper, lowers, collect, &ch, &err) == 0, "layer_diff");
	is_str(ch.buf, "C /etc\nA /etc/resolv.conf\nC /var\nC /var/lib2\n",
	       "empty mount points, empty /etc files and plain copy-ups hidden; "
	       "a written /etc/resolv.conf and a chmod shown");
	free(lower);
	free(upper);
}

static void test_sha256(void)
{
	char d[65], *big = xmalloc(1000000);

	sha256_buf("", 0, d);
	is_str(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256('')");
	sha256_buf("abc", 3, d);
	is_str(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256('abc')");
	sha256_buf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	is_str(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "sha256 of the 56-byte FIPS vector (padding into a second block)");
	memset(big, 'a', 1000000);
	sha256_buf(big, 1000000, d);
	is_str(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million 'a'");
	free(big);
}

int main(void)
{
	bool root = geteuid() == 0;

	test_sha256();
	char *cmd;

	if (!mkdtemp(tmp)) {
		tap_skip_all("mkdtemp failed");
		return 0;
	}
	test_whiteouts(root);
	test_top();
	test_unsafe();
	test_hostile_entries(root);
	test_digest_and_diff(root);
	if (root)
		test_diff();
	cmd = xasprintf("rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("cleanup failed");
	free(cmd);
	return tap_done();
}
