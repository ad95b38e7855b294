/*
 * workers.c: the master of several worker processes.
 *
 * Processes, not threads: a worker shares nothing it could race on
 * (configurations, ticket caches, the resolver cache, per-address
 * limits are its own), and the few counts that must hold for the whole
 * gateway live in shared.c.  Each worker binds its own SO_REUSEPORT
 * socket per address (listener.c steers a device address to one
 * worker), reloads on the SIGHUP the master passes on, and drains on
 * SIGTERM.  The master holds no keys and no sockets.  A worker that
 * dies unexpectedly stops the whole gateway with a failure status, so
 * that the service manager (systemd, procd) restarts it whole rather
 * than leaving it serving with one worker's devices cut off.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifdef __linux__
#include <sched.h>
#endif
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "listener.h"
#include "log.h"
#include "resolve.h"
#include "serve.h"
#include "shared.h"
#include "workers.h"

#define WORKERS_MAX 64

struct master {
	struct event_base *base;
	pid_t pid[WORKERS_MAX];      /* 0 once reaped */
	unsigned n;
	unsigned live;
	bool stopping;
	bool failed;                 /* a worker died on its own */
};

unsigned
workers_count(unsigned setting)
{
	long n;

	if (setting > 0)
		return setting;
#if defined(__linux__) && defined(CPU_COUNT)
	{
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof set, &set) == 0) {
			n = CPU_COUNT(&set);
			goto clamp;
		}
	}
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__) && defined(CPU_COUNT)
clamp:
#endif
	if (n < 1)
		n = 1;
	return n > WORKERS_MAX ? WORKERS_MAX : (unsigned)n;
}

/* Without -f: go to the background now, but let the starting process
 * exit only once the workers serve, with their status, as a single
 * process does (serve.c calls daemon() after binding).  Returns the
 * fd to report on, or -1 after logging. */
static int
workers_detach(void)
{
	int p[2], null;
	char c;
	pid_t pid;

	if (pipe(p) < 0) {
		log_warn("cannot go to the background");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_warn("cannot go to the background");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(c == 'R' ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		log_warn("cannot change directory to /");
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return p[1];
}

static void
workers_report(int fd, bool ok)
{
	if (fd < 0)
		return;
	if (write(fd, ok ? "R" : "F", 1) < 0)
		log_warn("cannot report the start");
	close(fd);
}

static void
workers_signal_all(struct master *m, int sig)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (m->pid[i] > 0)
			kill(m->pid[i], sig);
}

/* Stop every worker and wait for it, without an event loop (start-up
 * failed, or the master's loop could not be made). */
static void
workers_stop_all(struct master *m)
{
	unsigned i;

	workers_signal_all(m, SIGTERM);
	serve_block_signals(false);
	for (i = 0; i < m->n; i++)
		if (m->pid[i] > 0)
			while (waitpid(m->pid[i], NULL, 0) < 0 && errno == EINTR)
				;
}

/* In the child: serve, never come back. */
static void
workers_child(const char *path, struct gateway_conf *conf, struct shared *sh,
    unsigned i, unsigned n, int ready_fd)
{
	struct serve_opts o = {
		.foreground = true, .shared = sh, .worker = i, .nworkers = n,
		.ready_fd = ready_fd, .master = getppid(),
	};
	int rc;

	rc = serve(path, conf, &o);
	resolve_flush();
	wolfSSL_Cleanup();
	exit(rc);
}

/* Fork the n workers; count how many said they serve.  The master's
 * signals stay blocked until its own loop handles them. */
static unsigned
workers_start(struct master *m, const char *path, struct gateway_conf *conf,
    struct shared *sh, int detach_fd)
{
	int ready[2];
	unsigned i, got = 0;
	char buf[WORKERS_MAX];
	ssize_t r;
	pid_t pid;

	if (pipe(ready) < 0) {
		log_warn("cannot start workers");
		return 0;
	}
	for (i = 0; i < m->n; i++) {
		pid = fork();
		if (pid < 0) {
			log_warn("cannot start worker %u", i + 1);
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			if (detach_fd >= 0)
				close(detach_fd);
			workers_child(path, conf, sh, i, m->n, ready[1]);
		}
		m->pid[i] = pid;
		m->live++;
	}
	close(ready[1]);
	/* EOF once every worker wrote and closed, or exited. */
	while (got < m->live) {
		r = read(ready[0], buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (unsigned)r;
	}
	close(ready[0]);
	return got;
}

static void
on_master_stop(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	(void)what;
	log_info("master: signal %d: passing it to %u workers", (int)sig,
	    m->live);
	m->stopping = true;
	workers_signal_all(m, (int)sig);
}

static void
on_master_hup(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	(void)sig;
	(void)what;
	if (!m->stopping)
		workers_signal_all(m, SIGHUP);
}

static void
workers_log_exit(unsigned i, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("worker %u (pid %ld) killed by signal %d; stopping "
		    "the gateway", i + 1, (long)pid, WTERMSIG(status));
	else
		log_warnx("worker %u (pid %ld) exited with status %d; "
		    "stopping the gateway", i + 1, (long)pid,
		    WEXITSTATUS(status));
}

static void
on_master_child(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	unsigned i;
	pid_t pid;
	int status;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->n && m->pid[i] != pid; i++)
			;
		if (i == m->n)
			continue;
		m->pid[i] = 0;
		m->live--;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && m->stopping)
			continue;
		workers_log_exit(i, pid, status);
		m->failed = true;
		if (!m->stopping) {
			m->stopping = true;
			workers_signal_all(m, SIGTERM);
		}
	}
	if (m->live == 0)
		event_base_loopexit(m->base, NULL);
}

/* Pass signals on until every worker is gone. */
static void
workers_supervise(struct master *m)
{
	struct event *ev[4];
	static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	event_callback_fn cb;
	unsigned i;

	m->base = event_base_new();
	if (m->base == NULL) {
		log_warnx("master: cannot create the event loop");
		m->failed = true;
		workers_stop_all(m);
		return;
	}
	for (i = 0; i < 4; i++) {
		cb = sigs[i] == SIGHUP ? on_master_hup :
		    sigs[i] == SIGCHLD ? on_master_child : on_master_stop;
		ev[i] = evsignal_new(m->base, sigs[i], cb, m);
		evsignal_add(ev[i], NULL);
	}
	serve_block_signals(false);
	/* A worker may have gone before the loop could hear of it. */
	on_master_child(SIGCHLD, 0, m);
	if (m->live > 0)
		event_base_dispatch(m->base);
	for (i = 0; i < 4; i++)
		event_free(ev[i]);
	event_base_free(m->base);
}

int
workers_run(const char *path, struct gateway_conf *conf, bool foreground,
    unsigned n)
{
	struct master m;
	struct shared *sh;
	char *user = NULL;
	bool core_dumps = conf->core_dumps;
	int detach_fd = -1;
	unsigned ready;

	memset(&m, 0, sizeof m);
	m.n = n > WORKERS_MAX ? WORKERS_MAX : n;
	sh = shared_new();
	if (sh == NULL || listener_probe(conf) < 0 ||
	    (conf->user != NULL && (user = strdup(conf->user)) == NULL) ||
	    (!foreground && (detach_fd = workers_detach()) < 0)) {
		if (sh == NULL)
			log_warn("cannot share counts between workers");
		free(user);
		shared_free(sh);
		policy_free(conf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	protect_secrets(core_dumps);
	serve_block_signals(true);
	ready = workers_start(&m, path, conf, sh, detach_fd);
	/* The workers have their copies; the master keeps no keys, and
	 * gives the memory of the loaded configuration back. */
	policy_free(conf);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	if (ready < m.n || m.live < m.n || drop_privileges(user) < 0) {
		log_warnx("master: %u of %u workers started; stopping", ready,
		    m.n);
		workers_stop_all(&m);
		workers_report(detach_fd, false);
		free(user);
		shared_free(sh);
		return 1;
	}
	protect_secrets(core_dumps);
	log_info("master: %u workers serving (pid %ld)", m.n, (long)getpid());
	workers_report(detach_fd, true);
	workers_supervise(&m);
	free(user);
	shared_free(sh);
	return m.failed ? 1 : 0;
}
