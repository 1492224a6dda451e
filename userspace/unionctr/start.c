// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images.h"
#include "linux.h"
#include "relay.h"
#include "start.h"
#include "terminal.h"
#include "utils.h"

/* Signals the launcher forwards to the container (sig-proxy). */
static const int forwarded[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT,
	SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGCHLD, SIGPIPE,
};

static void signal_set(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return UC_EXIT_LAUNCHER;
}

/* Reap, forward signals, relay stdio; returns the decoded status. */
static int wait_loop(pid_t pid, int sigfd, struct uc_stdio *io, int master)
{
	bool exited = false;
	int status = 0;

	for (;;) {
		struct pollfd fds[1 + 2 * UC_RELAY_MAX];
		size_t nfds;
		int r;

		if (exited && !stdio_output_open(io))
			break;
		fds[0] = (struct pollfd){ sigfd, POLLIN, 0 };
		nfds = 1 + stdio_pollfds(io, fds + 1, exited);
		r = poll(fds, nfds, exited ? 200 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			break;	/* exited, output drained */
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH && master >= 0)
					terminal_copy_winsize(terminal_fd(), master);
				else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGPIPE)
					kill(pid, si.ssi_signo);
			}
			if (!exited && waitpid(pid, &status, WNOHANG) == pid)
				exited = true;
		}
		stdio_handle(io, fds + 1, nfds - 1);
	}
	if (!exited)
		waitpid(pid, &status, 0);
	return decode_status(status);
}

static void record_exit(struct uc_store *s, const char *id, int code,
			const char *error)
{
	struct uc_container *c;

	if (store_lock(s, NULL) < 0)
		return;
	if (container_load(s, id, &c, NULL) == 0) {
		free(c->status);
		c->status = xstrdup("exited");
		c->exit_code = code;
		c->pid = 0;
		free(c->finished_at);
		c->finished_at = now_rfc3339();
		free(c->error);
		c->error = xstrdup(error);
		if (c->auto_remove)
			container_remove_record(s, c, true, NULL);
		else
			container_save(s, c, NULL);
		container_free(c);
	}
	store_unlock(s);
}

static void notify(int fd, int status, const char *msg)
{
	char *buf;
	ssize_t r;

	if (fd < 0)
		return;
	buf = xasprintf("%d\n%s", status, msg ? msg : "");
	r = write(fd, buf, strlen(buf));
	(void)r;
	free(buf);
	close(fd);
}

/*
 * A start in stages: find the container and its layers (locked), spawn it
 * and wait for its report, record it running, then relay and wait.
 */
struct start_ctx {
	struct uc_spawn sp;
	struct uc_container *c;
	struct uc_image *img;
	char *id;
	int master;		/* pty master (-t), or -1 */
	int start_lock;		/* container_start_lock() until recorded */
	struct uc_stdio io;	/* pipes and relays of the container's stdio */
	struct uc_sec_runtime sec;
};

static void start_ctx_release(struct start_ctx *x)
{
	if (x->start_lock >= 0)
		close(x->start_lock);
	if (x->master >= 0)
		close(x->master);
	if (x->sp.console_sock >= 0)
		close(x->sp.console_sock);
	stdio_release(&x->io);
	strv_free(x->sp.lowers);
	free(x->sp.cdir);
	security_runtime_release(&x->sec);
	free(x->id);
	image_free(x->img);
	container_free(x->c);
}

static bool container_exists(struct uc_store *s, const char *id)
{
	char *p = store_path(s, "containers/%s/config.json", id);
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

/*
 * Which container (under the store lock, briefly), then its start lock,
 * then (under the store lock again) its state and image: never the store
 * lock for the whole start, whose mounts may take long or hang.
 */
static int start_find(struct uc_store *s, const char *ref, struct start_ctx *x,
		      uc_error_t *err)
{
	struct uc_container *c;
	int ret;

	/* run's own start names the container by its id: no search (a
	 * 64-hex name that is no id is searched for, as any name) */
	if (strlen(ref) == UC_ID_LEN && strspn(ref, "0123456789abcdef") == UC_ID_LEN &&
	    container_exists(s, ref)) {
		x->id = xstrdup(ref);
	} else {
		if (store_lock(s, err) < 0)
			return -1;
		ret = container_find(s, ref, &c, err);
		store_unlock(s);
		if (ret < 0)
			return -1;
		x->id = xstrdup(c->id);
		container_free(c);
	}
	x->start_lock = container_start_lock(s, x->id, true, err);
	if (x->start_lock < 0)
		return -1;
	if (store_lock(s, err) < 0)
		return -1;
	ret = container_load(s, x->id, &x->c, err);
	if (ret == 0 && container_running(x->c))
		ret = uc_error(err, 0, "container %s is already running", x->c->name);
	/* A container runs on the backend it was created for (c->storage). */
	if (ret == 0)
		ret = image_find(s, x->c->image_id, &x->img, err);
	if (ret == 0)
		x->sp.lowers = image_layer_dirs(s, x->img);
	store_unlock(s);
	return ret;
}

/* What the child needs: paths, stdio, capabilities and seccomp filter. */
static int start_prepare(struct uc_store *s, const struct uc_start_opts *o,
			 struct start_ctx *x, uc_error_t *err)
{
	char *cache;
	int ret;

	x->sp.c = x->c;
	x->sp.cdir = container_dir(s, x->c, NULL);
	x->sp.stdin_open = o->interactive && o->attach;
	x->sp.sec = &x->sec;
	/* detached, the container's -i decides (docker keeps its stdin open) */
	if (stdio_prepare(&x->io, x->c->tty, o->attach,
			  o->attach ? o->interactive : x->c->open_stdin, err) < 0)
		return -1;
	memcpy(x->sp.stdio, x->io.child, sizeof(x->sp.stdio));
	/* compiled seccomp filters are kept in <root>/seccomp */
	cache = store_path(s, "seccomp");
	ret = security_runtime(&x->c->sec, cache, &x->sec, err);
	free(cache);
	return ret;
}

/* Clone the container's process and wait until it execs or fails. */
static int start_spawn(struct uc_store *s, struct start_ctx *x, uc_error_t *err)
{
	if (linux_spawn(&x->sp, err) < 0)
		return -1;
	stdio_spawned(&x->io);
	if (x->c->tty)
		x->master = recv_fd(x->sp.console_sock);
	if (linux_spawn_result(&x->sp, err) < 0) {
		int st;

		waitpid(x->sp.pid, &st, 0);
		record_exit(s, x->id, (*err)->status, (*err)->msg);
		return -1;
	}
	return 0;
}

static void record_running(struct uc_store *s, struct start_ctx *x)
{
	struct uc_container *c = x->c;

	if (store_lock(s, NULL) < 0)
		return;

	free(c->status);
	c->status = xstrdup("running");
	c->pid = x->sp.pid;
	c->pid_start = proc_start_time(x->sp.pid);
	free(c->started_at);
	c->started_at = now_rfc3339();
	c->exit_code = 0;
	free(c->error);
	c->error = NULL;
	container_save(s, c, NULL);
	store_unlock(s);
}

/* Relay the terminal (attached) and wait; the container's status. */
static int start_wait(struct start_ctx *x, const struct uc_start_opts *o, int sigfd)
{
	struct uc_tty_state tty = { .fd = 0 };
	int status;

	if (x->master >= 0) {
		terminal_copy_winsize(terminal_fd(), x->master);
		/* Raw only when our stdin goes to the container (-i): else
		 * Ctrl-C stays a SIGINT to us, forwarded, as with docker. */
		if (o->attach && o->interactive)
			terminal_make_raw(0, &tty);
		/* Detached (-dit), the keeper keeps the master: its output
		 * goes to the log, and the container's terminal stays open */
		stdio_add_pty(&x->io, x->master, o->attach && o->interactive);
	}
	status = wait_loop(x->sp.pid, sigfd, &x->io, x->master);
	terminal_restore(&tty);
	return status;
}

int container_start(struct uc_store *s, const char *ref,
		    const struct uc_start_opts *o, int *status, uc_error_t *err)
{
	struct start_ctx x = { .master = -1, .start_lock = -1 };
	sigset_t set, old;
	int sigfd, ret = -1;

	x.sp.sync_fd = x.sp.console_sock = -1;
	stdio_init(&x.io);
	signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0) {
		uc_error_errno(err, errno, "signalfd");
		goto out;
	}
	if (start_find(s, ref, &x, err) < 0 || start_prepare(s, o, &x, err) < 0 ||
	    start_spawn(s, &x, err) < 0) {
		if (o->notify_fd >= 0)
			notify(o->notify_fd, (*err)->status, (*err)->msg);
		goto out;
	}
	record_running(s, &x);
	close(x.start_lock);
	x.start_lock = -1;
	notify(o->notify_fd, 0, NULL);
	*status = start_wait(&x, o, sigfd);
	record_exit(s, x.id, *status, NULL);
	ret = 0;
out:
	if (sigfd >= 0)
		close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	start_ctx_release(&x);
	return ret;
}

static int log_fd(struct uc_store *s, const char *ref)
{
	struct uc_container *c;
	char *p;
	int fd;

	if (container_find(s, ref, &c, NULL) < 0)
		return open("/dev/null", O_WRONLY | O_CLOEXEC);
	p = container_dir(s, c, "log");
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	container_free(c);
	return fd;
}

int container_start_detached(struct uc_store *s, const char *ref,
			     uc_error_t *err)
{
	char buf[4096], *nl;
	size_t n = 0;
	ssize_t r;
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return uc_error_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0)
		return uc_error_errno(err, errno, "fork");
	if (pid == 0) {
		struct uc_start_opts o = { .attach = false, .notify_fd = p[1] };
		uc_error_t e = NULL;
		int fd, status;

		close(p[0]);
		setsid();
		/* The keeper outlives us: it waits for the container. */
		if (fork() > 0)
			_exit(0);
		/* its own lock (flock is per open file, which fork shares) */
		if (store_lock_reopen(s, &e) < 0) {
			notify(p[1], e->status, e->msg);
			_exit(UC_EXIT_LAUNCHER);
		}
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		/* The container's output goes to its log (unionctr logs). */
		fd = log_fd(s, ref);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		/* Errors are reported through notify_fd. */
		if (container_start(s, ref, &o, &status, &e) < 0) {
			uc_error_release(&e);
			_exit(UC_EXIT_LAUNCHER);
		}
		_exit(0);
	}
	close(p[1]);
	waitpid(pid, &st, 0);
	while (n < sizeof(buf) - 1 && (r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(p[0]);
	buf[n] = '\0';
	if (n == 0)
		return uc_error(err, 0, "container failed to start");
	if (atoi(buf) != 0) {
		nl = strchr(buf, '\n');
		return uc_error(err, atoi(buf), "%s", nl ? nl + 1 : buf);
	}
	return 0;
}
