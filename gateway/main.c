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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/version.h>

#include "log.h"
#include "pki.h"
#include "policy.h"
#include "resolve.h"
#include "serve.h"
#include "shared.h"
#include "workers.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/tlsgw/tlsgw.ini"

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

/* One process, one loop: the counts it shares are its own. */
static int
run_single(const char *path, struct gateway_conf *conf, bool foreground)
{
	struct serve_opts o = {
		.foreground = foreground, .worker = 0, .nworkers = 1,
		.ready_fd = -1, .master = 0,
	};
	int rc;

	o.shared = shared_new();
	if (o.shared == NULL) {
		log_warn("cannot map the connection counts");
		policy_free(conf);
		return 1;
	}
	rc = serve(path, conf, &o);
	shared_free(o.shared);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct gateway_conf *conf;
	char *abs_config;
	unsigned nworkers;
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
	nworkers = workers_count(conf->workers);
	if (nworkers > 1)
		rc = workers_run(abs_config, conf, o.foreground, nworkers);
	else
		rc = run_single(abs_config, conf, o.foreground);
	free(abs_config);
	resolve_flush();
	wolfSSL_Cleanup();
	return rc;
}
