/*
 * main.c: command line, configuration, start-up and the event loop.
 *
 *   tlsgw [-c FILE] [-f]    run (in the foreground with -f)
 *   tlsgw -t [-c FILE]      check every file, certificates and keys
 *   tlsgw --version
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
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
#include <wolfssl/version.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "pki.h"
#include "policy.h"
#include "resolve.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/tlsgw/tlsgw.ini"
/* Seconds closing connections get to flush their close_notify. */
#define STOP_CLOSE_SEC 5

struct options {
	const char *config;
	bool foreground;
	bool check_only;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tlsgw [-f] [-c FILE]     run the gateway\n"
	    "       tlsgw -t [-c FILE]       check the configuration and exit\n"
	    "       tlsgw --version\n"
	    "\n"
	    "  -c, --config FILE  global configuration (default %s)\n"
	    "  -f, --foreground   stay in the foreground, log to stderr\n"
	    "  -t, --test         load every file, certificate and key; exit\n"
	    "                     non-zero with file:line: messages on error\n",
	    DEFAULT_CONFIG);
}

static void
print_version(void)
{
	printf("%s %s (wolfSSL %s, libevent %s)\n", PACKAGE_NAME,
	    PACKAGE_VERSION, wolfSSL_lib_version(), event_get_version());
}

/* Returns -1 to exit 0 (help, version), 1 on a usage error, else 0. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->config = DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "c:fthV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 't':
			o->check_only = true;
			break;
		case 'V':
			print_version();
			return -1;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tlsgw: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	return 0;
}

/* Load and validate everything; print every message.  NULL on error. */
static struct gateway_conf *
load_config(const char *path)
{
	struct diag d;
	struct gateway_conf *conf;
	size_t i;

	diag_init(&d);
	conf = policy_load(path, &d);
	for (i = 0; i < d.nlines; i++)
		fprintf(stderr, "%s\n", d.lines[i]);
	if (conf == NULL && d.nerrors == 0)
		fprintf(stderr, "%s: cannot load configuration\n", path);
	diag_free(&d);
	return conf;
}

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
static void
protect_secrets(const struct gateway_conf *conf)
{
	struct rlimit none = { 0, 0 };

	if (conf->core_dumps)
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
static int
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

/* Run the loop until a stop signal. */
static int
run(const char *path, struct gateway_conf *conf, bool foreground)
{
	struct gateway *gw;
	struct event *sigint, *sigterm, *sighup, *ecc_flush = NULL;
	int rc = 1;

	gw = calloc(1, sizeof *gw);
	if (gw == NULL)
		fatalx("out of memory");
	gw->config_path = path;
	gw->base = event_base_new();
	if (gw->base == NULL)
		fatalx("cannot create the event loop");
	signal(SIGPIPE, SIG_IGN);
	if (gateway_start(gw, conf) < 0)
		goto out;
	if (drop_privileges(conf->user) < 0)
		goto out;
	/* After the switch: setuid() makes the process dumpable again. */
	protect_secrets(conf);
	if (!foreground && daemon(0, 0) < 0) {
		log_warn("cannot go to the background");
		goto out;
	}
	sigint = evsignal_new(gw->base, SIGINT, on_stop_signal, gw);
	sigterm = evsignal_new(gw->base, SIGTERM, on_stop_signal, gw);
	sighup = evsignal_new(gw->base, SIGHUP, on_hup_signal, gw);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sighup, NULL);
#ifdef HAVE_WC_ECC_FP_FREE
	{
		struct timeval every = { ECC_CACHE_FLUSH_SEC, 0 };

		ecc_flush = event_new(gw->base, -1, EV_PERSIST,
		    on_ecc_cache_flush, NULL);
		evtimer_add(ecc_flush, &every);
	}
#endif
	log_info("%s %s ready (%zu policies, pid %ld)", PACKAGE_NAME,
	    PACKAGE_VERSION, conf->npolicies, (long)getpid());
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

int
main(int argc, char **argv)
{
	struct options o;
	struct gateway_conf *conf;
	char *abs_config;
	int rc;

	/* `tlsgw pki ...`: the local CA (pki.c), its own options. */
	if (argc > 1 && strcmp(argv[1], "pki") == 0) {
		if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
			fprintf(stderr, "tlsgw: cannot initialise wolfSSL\n");
			return 1;
		}
		rc = pki_main(argc - 1, argv + 1);
		wolfSSL_Cleanup();
		return rc;
	}
	memset(&o, 0, sizeof o);
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : 1;
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		fprintf(stderr, "tlsgw: cannot initialise wolfSSL\n");
		return 1;
	}
	conf = load_config(o.config);
	/* daemon() changes directory: reload must find the same file. */
	abs_config = realpath(o.config, NULL);
	if (conf == NULL || abs_config == NULL) {
		free(abs_config);
		policy_free(conf);
		wolfSSL_Cleanup();
		return 1;
	}
	if (o.check_only) {
		printf("tlsgw: configuration OK (%s, %zu policies)\n", o.config,
		    conf->npolicies);
		free(abs_config);
		policy_free(conf);
		wolfSSL_Cleanup();
		return 0;
	}
	log_init(o.foreground, conf->log_level);
	rc = run(abs_config, conf, o.foreground);
	free(abs_config);
	resolve_flush();
	wolfSSL_Cleanup();
	return rc;
}
