/*
 * serve.c: the life of one event loop: listeners up, privileges
 * dropped, signals (SIGHUP reload, SIGTERM drain), then the loop until
 * the last connection is gone.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "serve.h"

/* Seconds closing connections get to flush their close_notify. */
#define STOP_CLOSE_SEC 5

#ifdef HAVE_WC_ECC_FP_FREE
#include <wolfssl/wolfcrypt/ecc.h>
/* Seconds between flushes of wolfSSL's fixed-point ECC cache. */
#define ECC_CACHE_FLUSH_SEC 60

/* Builds with FP_ECC (Debian's) cache ~826 KB per new P-256 peer key, up
 * to ~12.7 MB a thread: flush it now and then so it stays small. */
static void
on_ecc_cache_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	wc_ecc_fp_free();
}
#endif

/* Drain time is over: close what is left cleanly, then leave. */
static void
on_drain_over(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *gw = arg;
	struct timeval close_wait = { STOP_CLOSE_SEC, 0 };

	(void)fd;
	(void)what;
	if (gw->nconns == 0) {
		event_base_loopexit(gw->base, NULL);
		return;
	}
	log_info("closing %u connections", gw->nconns);
	conn_close_all(gw, "gateway stopping");
	event_base_loopexit(gw->base, &close_wait);
}

/* First SIGTERM/SIGINT: stop accepting and let live connections drain;
 * a second one closes everything at once. */
static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct gateway *gw = arg;
	struct timeval drain = { (time_t)gw->cfg->conf->drain_timeout, 0 };

	(void)what;
	if (gw->stopping) {
		log_info("signal %d again: closing now", (int)sig);
		on_drain_over(-1, 0, gw);
		return;
	}
	gw->stopping = true;
	listener_close_all(gw);
	if (gw->nconns == 0) {
		log_info("signal %d: stopping", (int)sig);
		event_base_loopexit(gw->base, NULL);
		return;
	}
	log_info("signal %d: stopping; %u live connections may drain for up "
	    "to %ld s", (int)sig, gw->nconns, (long)drain.tv_sec);
	event_base_once(gw->base, -1, EV_TIMEOUT, on_drain_over, gw, &drain);
}

static void
on_hup_signal(evutil_socket_t sig, short what, void *arg)
{
	struct gateway *gw = arg;

	(void)sig;
	(void)what;
	if (!gw->stopping)
		gateway_reload(gw);
}

/* Private keys and the upstream passwords live in this process: keep
 * them out of core dumps unless the configuration asks for cores. */
void
protect_secrets(bool core_dumps)
{
	struct rlimit none = { 0, 0 };

	if (core_dumps)
		return;
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		log_warn("cannot disable core dumps");
#ifdef PR_SET_DUMPABLE
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot mark the process not dumpable");
#endif
}

/* Switch to the configured user once ports are bound and keys loaded.
 * Started as root with a user configured, failing to switch is fatal:
 * we never keep running as root by accident. */
int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		log_warnx("user = %s: no such user", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid != geteuid())
			log_warnx("user = %s ignored: not started as root "
			    "(running as uid %lu)", user,
			    (unsigned long)geteuid());
		return 0;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_warn("cannot switch to user %s", user);
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		log_warnx("could regain root after switching to %s", user);
		return -1;
	}
	log_info("running as user %s (uid %lu, gid %lu)", user,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
	return 0;
}

void
serve_block_signals(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* A worker stops with its master, however the master ends.  Set after
 * the user switch, which clears it. */
static void
serve_follow_master(pid_t master)
{
#ifdef PR_SET_PDEATHSIG
	if (master == 0)
		return;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		log_warn("cannot ask for a signal when the master exits");
	if (getppid() != master)
		raise(SIGTERM);
#else
	(void)master;
#endif
}

/* Tell whoever waits (workers.c) that this loop serves. */
static void
serve_report_ready(const struct serve_opts *o)
{
	ssize_t n;

	if (o->ready_fd < 0)
		return;
	do
		n = write(o->ready_fd, "R", 1);
	while (n < 0 && errno == EINTR);
	close(o->ready_fd);
}

static void
serve_log_ready(const struct gateway *gw, const struct serve_opts *o)
{
	const struct gateway_conf *conf = gw->cfg->conf;

	if (o->nworkers > 1)
		log_info("%s %s worker %u of %u ready (%zu policies, pid %ld)",
		    PACKAGE_NAME, PACKAGE_VERSION, o->worker + 1, o->nworkers,
		    conf->npolicies, (long)getpid());
	else
		log_info("%s %s ready (%zu policies, pid %ld)", PACKAGE_NAME,
		    PACKAGE_VERSION, conf->npolicies, (long)getpid());
}

int
serve(const char *path, struct gateway_conf *conf, const struct serve_opts *o)
{
	struct gateway *gw;
	struct event *sigint, *sigterm, *sighup, *ecc_flush = NULL;
	int rc = 1;

	gw = calloc(1, sizeof *gw);
	if (gw == NULL)
		fatalx("out of memory");
	gw->config_path = path;
	gw->shared = o->shared;
	gw->worker = o->worker;
	gw->nworkers = o->nworkers;
	gw->base = event_base_new();
	if (gw->base == NULL)
		fatalx("cannot create the event loop");
	signal(SIGPIPE, SIG_IGN);
	if (gateway_start(gw, conf) < 0)
		goto out;
	if (drop_privileges(conf->user) < 0)
		goto out;
	/* After the switch: setuid() makes the process dumpable again. */
	protect_secrets(conf->core_dumps);
	serve_follow_master(o->master);
	if (!o->foreground && o->master == 0 && daemon(0, 0) < 0) {
		log_warn("cannot go to the background");
		goto out;
	}
	sigint = evsignal_new(gw->base, SIGINT, on_stop_signal, gw);
	sigterm = evsignal_new(gw->base, SIGTERM, on_stop_signal, gw);
	sighup = evsignal_new(gw->base, SIGHUP, on_hup_signal, gw);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sighup, NULL);
	serve_block_signals(false);
#ifdef HAVE_WC_ECC_FP_FREE
	{
		struct timeval every = { ECC_CACHE_FLUSH_SEC, 0 };

		ecc_flush = event_new(gw->base, -1, EV_PERSIST,
		    on_ecc_cache_flush, NULL);
		evtimer_add(ecc_flush, &every);
	}
#endif
	serve_log_ready(gw, o);
	serve_report_ready(o);
	event_base_dispatch(gw->base);
	event_free(sigint);
	event_free(sigterm);
	event_free(sighup);
	if (ecc_flush != NULL)
		event_free(ecc_flush);
	rc = 0;
out:
	listener_close_all(gw);
	conn_free_all(gw);
	limits_free(&gw->limits);
	config_unref(gw->cfg);
	event_base_free(gw->base);
	free(gw);
	return rc;
}
