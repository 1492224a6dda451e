// SPDX-License-Identifier: GPL-2.0
/*
 * State store round trips: atomic JSON, the lock, image import and lookup,
 * container records (create, find, load, remove), volumes and their users.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "images.h"
#include "tap.h"
#include "ucjson.h"
#include "utils.h"
#include "volumes.h"

static char root[] = "/tmp/uc-store-test.XXXXXX";

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		diag("command failed: %s", cmd);
}

/* Entries of dir, less dot files and removals in progress (tmp/rm-*). */
static int count_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' && strncmp(de->d_name, "rm-", 3);
	if (d)
		closedir(d);
	return n;
}

static void test_json(struct uc_store *s)
{
	char *p = store_path(s, "x.json");
	struct json_object *o = json_object_new_object(), *back = NULL;
	struct uc_json_reader r = { .what = "x.json" };
	uc_error_t err = NULL;

	json_object_object_add(o, "Name", json_object_new_string("a/b \"q\""));
	json_object_object_add(o, "N", json_object_new_int(42));
	ok(uc_json_save(p, o, true, &err) == 0, "uc_json_save");
	r.err = &err;
	ok(uc_json_load(p, &back, &err) == 0 &&
	   !strcmp(uc_json_string(&r, back, "Name"), "a/b \"q\"") &&
	   uc_json_int(&r, back, "N") == 42 && !r.bad, "uc_json_load gives back what was saved");
	ok(count_entries(s->root) == 7, "no temporary file left next to it");
	ok(!uc_json_string(&r, back, "Missing") && !r.bad, "an absent member reads as NULL");
	ok(!uc_json_array(&r, back, "Name") && r.bad && err &&
	   strstr(err->msg, "x.json: `Name` is not an array"),
	   "a member of another type is an error, not an abort");
	ok(!uc_json_string(&r, back, "Name"), "  and later reads give nothing");
	uc_error_release(&err);
	json_object_put(o);
	if (back)
		json_object_put(back);
	free(p);
	p = store_path(s, "missing.json");
	ok(uc_json_load(p, &back, &err) < 0 && err && strstr(err->msg, "missing.json"),
	   "loading a missing file fails with its name");
	uc_error_release(&err);
	free(p);
	ok(uc_json_load("/dev/zero", &back, &err) < 0 && err &&
	   strstr(err->msg, "not a regular file"), "/dev/zero: not a regular file (no endless read)");
	uc_error_release(&err);
	p = store_path(s, "big.json");
	ok(truncate(p, 0) < 0 && write_file(p, "", 0600, &err) == 0 &&
	   truncate(p, UC_JSON_MAX + 1) == 0, "a sparse file one byte over the limit");
	ok(uc_json_load(p, &back, &err) < 0 && err && strstr(err->msg, "too large"),
	   "  refused by its size");
	uc_error_release(&err);
	unlink(p);
	free(p);
}

static void test_lock(struct uc_store *s)
{
	char *p = store_path(s, "lock");
	uc_error_t err = NULL;
	int fd = open(p, O_RDWR), st;
	pid_t pid;

	ok(store_lock(s, &err) == 0 && store_lock(s, &err) == 0, "store_lock nests");
	pid = fork();
	if (pid == 0)
		_exit(flock(fd, LOCK_EX | LOCK_NB) == 0 ? 1 : 0);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process cannot take the lock");
	store_unlock(s);
	pid = fork();
	if (pid == 0)
		_exit(flock(fd, LOCK_EX | LOCK_NB) == 0 ? 1 : 0);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "still held after one unlock of two");
	store_unlock(s);
	pid = fork();
	if (pid == 0)
		_exit(flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "free after the last unlock");
	close(fd);
	free(p);
}

static void test_images(struct uc_store *s, char *rootfs)
{
	struct uc_image *img = NULL, *again = NULL, *found = NULL;
	uc_error_t err = NULL;
	char *p;

	ok(image_import(s, rootfs, "demo", &img, &err) == 0, "import a rootfs directory");
	if (err)
		diag("%s", err->msg);
	uc_error_release(&err);
	if (!img)
		return;
	is_str(img->names ? img->names[0] : NULL, "demo:latest", "name gets :latest");
	ok(strv_len(img->layers) == 1, "one layer");
	p = store_path(s, "layers/%s/etc/seed/file", img->layers[0]);
	ok(access(p, F_OK) == 0, "layer holds the tree");
	free(p);
	ok(img->env && !strncmp(img->env[0], "PATH=", 5), "default PATH in config");
	ok(image_import(s, rootfs, "demo2", &again, &err) == 0 && strv_len(again->names) == 2 &&
	   !strcmp(again->layers[0], img->layers[0]), "same tree: same layer digest");
	p = store_path(s, "layers");
	ok(count_entries(p) == 1, "the layer is stored once");
	free(p);
	ok(image_find(s, "demo", &found, &err) == 0 && !strcmp(found->id, img->id),
	   "find by name");
	image_free(found);
	found = NULL;
	ok(image_find(s, "demo:latest", &found, &err) == 0, "find by name:tag");
	image_free(found);
	found = NULL;
	p = xasprintf("%.8s", img->id);
	ok(image_find(s, p, &found, &err) == 0 && !strcmp(found->id, img->id),
	   "find by id prefix");
	free(p);
	image_free(found);
	found = NULL;
	ok(image_find(s, "nope", &found, &err) < 0 && err &&
	   !strcmp(err->msg, "Unable to find image 'nope' locally"), "unknown image: Docker's message");
	uc_error_release(&err);
	image_free(img);
	image_free(again);
}

static void test_containers(struct uc_store *s, const char *tmp)
{
	char *bind_src = xasprintf("%s/bindsrc/deep", tmp);
	char *vbind = xasprintf("%s:/b:ro", bind_src);
	char *vols[] = { vbind, "named1:/n", "/etc/seed", "/anon", NULL };
	char *env[] = { "FOO=bar", "PATH=/bin", NULL };
	char *cmd[] = { "/bin/echo", "hi", NULL };
	struct uc_create_opts o = {
		.name = "first", .image = "demo", .cmd = cmd, .env = env,
		.volumes = vols, .hostname = "hn",
	};
	struct uc_container *c = NULL, *d = NULL, *e = NULL;
	const struct uc_mount *m;
	uc_error_t err = NULL;
	char **users, *p, *anon = NULL;
	struct stat st;

	p = store_path(s, "tmp/stale-from-a-crash");
	mkdir(p, 0700);
	ok(container_create(s, &o, &c, &err) == 0, "create with a bind, a named and anonymous volumes");
	ok(access(p, F_OK) < 0, "create removes what a crash left in tmp/");
	free(p);
	if (err)
		diag("%s", err->msg);
	uc_error_release(&err);
	if (!c)
		return;
	ok(stat(bind_src, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
	   "missing bind source created as a 0755 directory");
	m = uc_mounts_find(&c->mounts, "/n");
	ok(m && m->name && !strcmp(m->name, "named1") && m->rw && !m->anonymous,
	   "named volume mount");
	m = uc_mounts_find(&c->mounts, "/etc/seed");
	ok(m && m->anonymous && strlen(m->name) == 64, "anonymous volume got a 64-hex name");
	if (m) {
		p = xasprintf("%s/file", m->source);
		ok(access(p, F_OK) == 0, "anonymous volume filled from the image at create");
		free(p);
	}
	m = uc_mounts_find(&c->mounts, "/img-vol");
	ok(!m, "no image VOLUME in a plain rootfs");

	ok(container_load(s, c->id, &d, &err) == 0, "load the record back");
	if (d) {
		is_str(d->name, "first", "name round trip");
		is_str(d->hostname, "hn", "hostname round trip");
		ok(strv_len(d->argv) == 2 && !strcmp(d->argv[1], "hi"), "argv round trip");
		ok(d->mounts.n == 4, "4 mounts round trip");
		m = uc_mounts_find(&d->mounts, "/b");
		ok(m && !m->rw && !strcmp(m->type, "bind") && !strcmp(m->propagation, "rprivate"),
		   "bind: read-only, rprivate");
		ok(d->env && !strcmp(d->env[0], "PATH=/bin"), "-e PATH replaces the default in place");
		is_str(d->status, "created", "status created");
		container_free(d);
		d = NULL;
	}
	ok(container_create(s, &o, &d, &err) < 0 && err &&
	   strstr(err->msg, "Conflict. The container name \"/first\" is already in use by container \"") &&
	   strstr(err->msg, c->id), "name conflict: Docker's message");
	uc_error_release(&err);

	/* Inherit everything from "first". */
	{
		char *from[] = { "first:ro", NULL };
		struct uc_create_opts o2 = { .name = "second", .image = "demo",
					     .volumes_from = from };

		ok(container_create(s, &o2, &d, &err) == 0, "create --volumes-from first:ro");
		uc_error_release(&err);
	}
	if (d) {
		ok(d->mounts.n == 4, "all 4 mounts inherited");
		m = uc_mounts_find(&d->mounts, "/etc/seed");
		ok(m && !m->rw && m->anonymous, "inherited anonymous volume is read-only with :ro");
		if (m)
			anon = xstrdup(m->name);
	}
	ok(container_find(s, "/second", &e, &err) == 0 && !strcmp(e->id, d->id),
	   "find by /name");
	container_free(e);
	e = NULL;
	p = xasprintf("%.10s", c->id);
	ok(container_find(s, p, &e, &err) == 0 && !strcmp(e->id, c->id), "find by id prefix");
	free(p);
	container_free(e);
	e = NULL;

	ok(anon && store_volume_users(s, anon, &users, &err) == 0 && strv_len(users) == 2,
	   "the anonymous volume has 2 users (the store answers)");
	strv_free(users);
	ok(anon && volume_remove(s, anon, &err) < 0 && err && strstr(err->msg, "volume is in use"),
	   "a volume in use is not removed");
	uc_error_release(&err);
	{
		bool untagged;

		ok(image_remove(s, "demo2", &untagged, &err) == 0 && untagged,
		   "rmi of one tag of two only untags");
		ok(image_remove(s, "demo", &untagged, &err) < 0 && err &&
		   strstr(err->msg, "image is being used"),
		   "rmi refused while a container uses the image");
		uc_error_release(&err);
		/* A record that cannot be read: what it uses is not known. */
		p = store_path(s, "containers/%064d", 5);
		mkdir(p, 0700);
		free(p);
		p = store_path(s, "containers/%064d/config.json", 5);
		ok(write_file(p, "{\"Id\":", 0600, &err) == 0, "an unreadable container record");
		ok(anon && volume_remove(s, anon, &err) < 0 && err &&
		   strstr(err->msg, "cannot be read"), "  volume rm is refused while it is there");
		if (err)
			diag("%s", err->msg);
		uc_error_release(&err);
		unlink(p);
		free(p);
		p = store_path(s, "containers/%064d", 5);
		rmdir(p);
		free(p);
	}
	uc_error_release(&err);

	ok(container_remove(s, "first", false, true, &err) == 0, "rm -v first");
	{
		struct uc_volume *v = NULL;

		ok(anon && volume_get(s, anon, &v, NULL) == 0,
		   "anonymous volume kept while second uses it");
		volume_free(v);
	}
	ok(container_find(s, "first", &e, &err) < 0 && err && !strcmp(err->msg, "No such container: first"),
	   "first is gone");
	uc_error_release(&err);
	ok(container_remove(s, "second", false, true, &err) == 0, "rm -v second");
	{
		struct uc_volume *v = NULL;

		ok(anon && volume_get(s, anon, &v, NULL) < 0, "last user gone: anonymous volume removed");
		volume_free(v);
		ok(volume_get(s, "named1", &v, NULL) == 0, "named volume stays");
		volume_free(v);
	}
	p = store_path(s, "containers");
	ok(count_entries(p) == 0, "no container directories left");
	free(p);
	p = store_path(s, "tmp");
	ok(count_entries(p) == 0, "nothing left in tmp/");
	free(p);
	{
		bool untagged;

		ok(image_remove(s, "demo", &untagged, &err) == 0 && !untagged,
		   "rmi works once unused");
		uc_error_release(&err);
		p = store_path(s, "layers");
		ok(count_entries(p) == 0, "its layer is collected");
		free(p);
	}

	free(anon);
	container_free(c);
	container_free(d);
	free(bind_src);
	free(vbind);
}

static void test_corrupt(struct uc_store *s)
{
	static const char *const bodies[] = { "{}", "{\"Id\": 5", "", "[1,2]",
		"{\"Id\":\"x\",\"GraphDriver\":{\"Name\":\"overlay\"}}",
		"{\"Id\":\"%064zx\",\"Name\":\"/cc\",\"Image\":\"%064zx\","
		"\"GraphDriver\":{\"Name\":\"overlay\"},\"Mounts\":{}}",
		"{\"Id\":\"%064zx\",\"Name\":\"/cc\",\"Image\":\"%064zx\","
		"\"GraphDriver\":{\"Name\":\"overlay\"},\"Args\":\"x\"}",
		"{\"Id\":\"%064zx\",\"Name\":\"/cc\",\"Image\":\"%064zx\","
		"\"GraphDriver\":{\"Name\":\"overlay\"},\"Mounts\":[{\"Type\":\"volume\","
		"\"Name\":\"v1\",\"Source\":\"/etc\",\"Destination\":\"/x\"}]}",
		"{\"Id\":\"%064zx\",\"Name\":\"/cc\",\"Image\":\"%064zx\","
		"\"GraphDriver\":{\"Name\":\"overlay\"},\"Mounts\":[{\"Type\":\"bind\","
		"\"Source\":\"/etc/../x\",\"Destination\":\"/x\"}]}",
	};
	struct uc_container **v = NULL, *c = NULL;
	uc_error_t err = NULL;
	size_t n = 99, i;
	char *dir, *p, *body;

	/* Directories named like ids, so that the bodies are what is judged. */
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		dir = store_path(s, "containers/%064zx", i + 1);
		mkdir(dir, 0700);
		p = xasprintf("%s/config.json", dir);
		body = xasprintf(bodies[i], i + 1, i + 1);
		ok(write_file(p, body, 0600, &err) == 0, "write a corrupt record (%zu)", i);
		free(body);
		free(p);
		free(dir);
	}
	ok(container_list(s, &v, &n, &err) == 0 && n == 0, "corrupt records are skipped by the listing");
	container_list_free(v, n);
	ok(container_find(s, "cc", &c, &err) < 0, "and cannot be found");
	uc_error_release(&err);
	p = xasprintf("rm -rf %s/containers/000000*", s->root);
	ok(system(p) == 0, "clean up");
	free(p);
}

static void test_bad_create(struct uc_store *s)
{
	char *vols[] = { "/a", "/a/", NULL };
	char *bad[] = { "/x:/y:bogus", NULL };
	struct uc_create_opts o = { .image = "other", .volumes = vols };
	struct uc_container *c = NULL;
	uc_error_t err = NULL;
	char *p;

	ok(container_create(s, &o, &c, &err) < 0 && err && !strcmp(err->msg, "Duplicate mount point: /a"),
	   "duplicate -v refused");
	uc_error_release(&err);
	o.volumes = bad;
	ok(container_create(s, &o, &c, &err) < 0 && err && err->status == 125 &&
	   !strcmp(err->msg, "invalid mode: bogus"), "bad mode refused, 125");
	uc_error_release(&err);
	o.volumes = NULL;
	o.name = "bad name";
	ok(container_create(s, &o, &c, &err) < 0 && err && strstr(err->msg, "Invalid container name"),
	   "bad container name refused");
	uc_error_release(&err);
	o.name = NULL;
	o.workdir = "rel";
	ok(container_create(s, &o, &c, &err) < 0 && err && strstr(err->msg, "needs to be an absolute path"),
	   "relative -w refused");
	uc_error_release(&err);
	p = store_path(s, "containers");
	ok(count_entries(p) == 0, "failed creates leave no container");
	free(p);
	p = store_path(s, "tmp");
	ok(count_entries(p) == 0, "failed creates leave nothing in tmp/");
	free(p);
}

int main(void)
{
	struct uc_store s;
	uc_error_t err = NULL;
	char *state, *rootfs, *cmd;

	if (!mkdtemp(root)) {
		tap_skip_all("mkdtemp failed");
		return 0;
	}
	state = xasprintf("%s/state", root);
	rootfs = xasprintf("%s/rootfs", root);
	cmd = xasprintf("mkdir -p %s/bin %s/etc/seed && echo x > %s/etc/seed/file && "
			"ln -s ../etc %s/bin/etc-link", rootfs, rootfs, rootfs, rootfs);
	sh(cmd);
	free(cmd);
	ok(store_open(&s, state, "overlay", &err) == 0, "store_open creates the state root");
	ok(count_entries(state) == 6, "lock + layers images containers volumes tmp");
	ok(store_open(&(struct uc_store){ 0 }, state, "zfs", &err) < 0 && err &&
	   strstr(err->msg, "unknown storage"), "unknown storage refused");
	uc_error_release(&err);
	test_json(&s);
	test_lock(&s);
	test_images(&s, rootfs);
	test_containers(&s, root);
	{
		struct uc_image *img = NULL;

		ok(image_import(&s, rootfs, "other", &img, &err) == 0, "import again");
		image_free(img);
	}
	test_corrupt(&s);
	test_bad_create(&s);
	store_close(&s);
	cmd = xasprintf("rm -rf %s", root);
	sh(cmd);
	free(cmd);
	free(state);
	free(rootfs);
	return tap_done();
}
