// SPDX-License-Identifier: GPL-2.0
/*
 * Paths resolved inside a root never leave it: absolute and relative
 * symlinks, "..", dangling links; with openat2(RESOLVE_IN_ROOT) and with the
 * fallback walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safepath.h"
#include "tap.h"
#include "utils.h"

static char tmp[] = "/tmp/uc-safepath-test.XXXXXX";
static char *outside;	/* a directory next to the root, which must stay untouched */

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void run(const char *mode, const char *root)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *inside = xasprintf("%s/etc/marker", root);
	static const char *const to_marker[] = {
		"etc/marker", "/etc/marker", "abs/marker", "rel/marker",
		"../../../etc/marker", "/../etc/marker", "dotdot/dotdot/etc/marker",
		"chain/marker", "d/../../etc/marker", "loopy/../etc/marker",
	};
	uc_error_t err = NULL;
	struct stat st;
	size_t i;
	char *p;
	int fd;

	for (i = 0; i < sizeof(to_marker) / sizeof(to_marker[0]); i++) {
		fd = safe_resolve(rootfd, to_marker[i], &err);
		ok(fd >= 0 && same_file(fd, inside), "%s: '%s' resolves to the root's /etc/marker",
		   mode, to_marker[i]);
		uc_error_release(&err);
		if (fd >= 0)
			close(fd);
	}
	fd = safe_resolve(rootfd, "abs/outside-only", &err);
	ok(fd < 0 && err && err->errno_ == ENOENT,
	   "%s: a name that exists only outside is not found", mode);
	uc_error_release(&err);

	fd = safe_mkdir_p(rootfd, "abs/newdir/sub", 0755, &err);
	ok(fd >= 0, "%s: mkdir -p through an absolute symlink", mode);
	if (fd >= 0)
		close(fd);
	uc_error_release(&err);
	p = xasprintf("%s/etc/newdir/sub", root);
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s:   made inside the root", mode);
	free(p);
	p = xasprintf("%s/newdir", outside);
	ok(stat(p, &st) < 0, "%s:   nothing made outside", mode);
	free(p);

	fd = safe_mount_target(rootfd, "rel/file-target", false, &err);
	ok(fd >= 0, "%s: file mount target through a relative symlink", mode);
	if (fd >= 0)
		close(fd);
	uc_error_release(&err);
	p = xasprintf("%s/etc/file-target", root);
	ok(stat(p, &st) == 0 && S_ISREG(st.st_mode), "%s:   created inside the root", mode);
	free(p);
	p = xasprintf("%s/file-target", outside);
	ok(stat(p, &st) < 0, "%s:   nothing made outside", mode);
	free(p);

	/* A dangling symlink as the file target itself (/etc/hosts -> /host/x). */
	for (i = 0; i < 2; i++) {
		static const char *const link[] = { "etc/hosts-abs", "etc/hosts-rel" };
		static const char *const made[] = { "nonexistent-hosts/abs", "etc/rel-target" };

		fd = safe_mount_target(rootfd, link[i], false, &err);
		ok(fd >= 0, "%s: file target '%s' is a dangling symlink", mode, link[i]);
		if (fd >= 0)
			close(fd);
		uc_error_release(&err);
		p = xasprintf("%s/%s", root, made[i]);
		ok(stat(p, &st) == 0 && S_ISREG(st.st_mode), "%s:   its target is made inside the root",
		   mode);
		free(p);
		p = xasprintf("%s/../%s", outside, made[i]);
		ok(stat(p, &st) < 0 && stat("/nonexistent-hosts", &st) < 0,
		   "%s:   nothing made outside", mode);
		free(p);
	}

	fd = safe_mount_target(rootfd, "dangling/x", true, &err);
	ok(fd >= 0, "%s: mkdir -p through a dangling symlink", mode);
	if (fd >= 0)
		close(fd);
	uc_error_release(&err);
	p = xasprintf("%s/nonexistent/deeper/x", root);
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s:   its target is made inside the root", mode);
	free(p);
	p = xasprintf("%s/nonexistent", outside);
	ok(stat(p, &st) < 0, "%s: a dangling symlink never creates outside", mode);
	free(p);

	fd = safe_open(rootfd, "proclink/cmdline", O_RDONLY, &err);
	ok(fd < 0 || !same_file(fd, "/proc/self/cmdline"),
	   "%s: a symlink to /proc stays inside the root", mode);
	if (fd >= 0)
		close(fd);
	uc_error_release(&err);

	fd = safe_resolve(rootfd, "loop1", &err);
	ok(fd < 0 && err, "%s: symlink loops fail", mode);
	uc_error_release(&err);

	fd = safe_mount_target(rootfd, "etc", false, &err);
	ok(fd < 0 && err && strstr(err->msg, "is a directory"),
	   "%s: a file target that is a directory is refused", mode);
	uc_error_release(&err);
	close(rootfd);
	free(inside);
}

/*
 * openat2(RESOLVE_IN_ROOT) fails with EAGAIN when any rename races with a
 * ".." step; the launcher must retry (a busy host renames all the time).
 */
static void test_rename_race(const char *root)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), i, fails = 0, eagain = 0;
	char *a = xasprintf("%s/../race-a", root), *b = xasprintf("%s/../race-b", root);
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	uc_error_t err = NULL;
	char path[2048] = "";
	pid_t pid;

	/* Many ".." steps: a wide window for a rename to hit. */
	for (i = 0; i < 200; i++)
		strcat(path, "d/../");
	strcat(path, "../etc/marker");
	close(open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	pid = fork();
	if (pid == 0) {
		for (;;)
			if (rename(a, b) < 0 || rename(b, a) < 0)
				_exit(1);
	}
	for (i = 0; i < 20000; i++) {
		int fd = safe_resolve(rootfd, path, &err);

		if (fd < 0 && !fails++)
			diag("%s", err ? err->msg : "?");
		if (fd >= 0)
			close(fd);
		uc_error_release(&err);
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd < 0 && errno == EAGAIN)
			eagain++;
		else if (fd >= 0)
			close(fd);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	diag("openat2 itself: %d EAGAIN in 20000", eagain);
	ok(fails == 0, "renames racing with '..': every resolution succeeds (%d failed)", fails);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	close(rootfd);
}

/* safe_open_beneath: no symlink at all, on the way or at the end. */
static void test_beneath(const char *mode, const char *root)
{
	static const char *const refused[] = {
		"abs/marker", "rel/marker", "chain/marker", "dotdot/etc/marker",
		"abs", "proclink/status", "dangling",
	};
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	char *inside = xasprintf("%s/etc/marker", root);
	uc_error_t err = NULL;
	size_t i;

	fd = safe_open_beneath(rootfd, "etc/marker", O_RDONLY, &err);
	ok(fd >= 0 && same_file(fd, inside), "%s: beneath: a plain path opens", mode);
	if (fd >= 0)
		close(fd);
	uc_error_release(&err);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fd = safe_open_beneath(rootfd, refused[i], O_RDONLY, &err);
		if (err)
			diag("%s", err->msg);
		ok(fd < 0 && err && (err->errno_ == ELOOP || err->errno_ == ENOENT),
		   "%s: beneath: '%s' (a symlink on the way or at the end) refused", mode,
		   refused[i]);
		if (fd >= 0)
			close(fd);
		uc_error_release(&err);
	}
	fd = safe_open_beneath(rootfd, "../etc/marker", O_RDONLY, &err);
	ok(fd < 0 || !same_file(fd, "/dev/null"), "%s: beneath: '..' does not leave the root",
	   mode);
	ok(fd < 0 || same_file(fd, inside), "%s:   (clamped at the root or refused)", mode);
	if (fd >= 0)
		close(fd);
	uc_error_release(&err);
	close(rootfd);
	free(inside);
}

int main(void)
{
	char *root, *cmd;

	if (!mkdtemp(tmp)) {
		tap_skip_all("mkdtemp failed");
		return 0;
	}
	root = xasprintf("%s/root", tmp);
	outside = xasprintf("%s/etc", tmp);
	/* tmp/etc is the "host": symlinks of the root pointing at ../etc or
	 * /etc must land in root/etc. */
	cmd = xasprintf("set -e; cd %s; mkdir -p etc root/etc root/d; echo out > etc/outside-only; "
			"echo in > root/etc/marker; cd root; ln -s /etc abs; ln -s ../etc rel; "
			"ln -s .. dotdot; ln -s abs chain; ln -s /nonexistent/deeper dangling; "
			"ln -s /proc/self proclink; ln -s loop2 loop1; ln -s loop1 loop2; "
			"ln -s d loopy; ln -s /nonexistent-hosts/abs etc/hosts-abs; "
			"ln -s ../../etc/rel-target etc/hosts-rel", tmp);
	if (system(cmd) != 0) {
		tap_skip_all("cannot build the test tree");
		return 0;
	}
	free(cmd);
	/* The "host" must look like a place to escape to: tmp/etc/marker too. */
	cmd = xasprintf("echo host > %s/etc/marker", tmp);
	if (system(cmd) != 0)
		diag("cannot write the host marker");
	free(cmd);

	run("openat2", root);
	test_beneath("openat2", root);
	safepath_force_fallback = true;
	test_beneath("fallback", root);
	cmd = xasprintf("rm -rf %s/etc/newdir %s/etc/file-target %s/nonexistent %s/nonexistent-hosts "
			"%s/etc/rel-target", root, root, root, root, root);
	if (system(cmd) != 0)
		diag("cleanup between modes failed");
	free(cmd);
	run("fallback", root);
	safepath_force_fallback = false;
	test_rename_race(root);

	cmd = xasprintf("rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("cleanup failed");
	free(cmd);
	return tap_done();
}
