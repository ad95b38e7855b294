/*
 * pki.c: `tlsgw pki`: help, options, dispatch.  Three commands take a
 * plug from nothing to a Tasmota-ready credential:
 *
 *   tlsgw pki init
 *   tlsgw pki server gw.lan 192.168.1.2
 *   tlsgw pki device plug-1
 *
 * Each command checks its input, takes DIR/.lock, builds everything in
 * memory, stages the files and renames them only when all are written
 * (pki-store.c): a failure changes nothing.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "pki.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define PKI_DEFAULT_DIR SYSCONFDIR "/tlsgw/pki"

#ifdef PKI_SUPPORTED

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tlsgw pki COMMAND [options]\n"
	    "\n"
	    "A local CA for the gateway and its devices.\n"
	    "\n"
	    "  tlsgw pki init [--dir DIR] [--force]\n"
	    "      Make the CA, valid 10 years: an RSA-2048 CA "
	    "(sha256WithRSAEncryption,\n"
	    "      all that Tasmota checks) for the gateway's certificates, "
	    "and an ECDSA\n"
	    "      P-256 CA for device certificates: DIR/ca-rsa.crt, "
	    "ca-rsa.key, ca-ec.crt,\n"
	    "      ca-ec.key, index.txt, crl.pem.  An existing CA is an error "
	    "unless\n"
	    "      --force: then certificates it issued no longer verify.\n"
	    "  tlsgw pki server NAME... [--dir DIR] [--force]\n"
	    "      The gateway's RSA and ECDSA certificates (825 days) for "
	    "these host names\n"
	    "      and IP addresses (the first is the CN): DIR/server-rsa.crt, "
	    "server-rsa.key,\n"
	    "      server-ec.crt, server-ec.key; prints the policy lines.  "
	    "--force replaces\n"
	    "      them (devices that pin a fingerprint then need the new "
	    "one).\n"
	    "  tlsgw pki device NAME [--rsa] [--dir DIR] [--format FORMAT]\n"
	    "      A client certificate for one device (ECDSA P-256; --rsa: "
	    "RSA-2048) in\n"
	    "      DIR/devices/NAME/, printed for its firmware.  FORMAT: all "
	    "(default),\n"
	    "      tasmota, arduino, bearssl, micropython, esp-idf.  The "
	    "tasmota form\n"
	    "      includes the device's private key (TLSKey1).\n"
	    "  tlsgw pki list [--dir DIR]\n"
	    "      Every certificate issued: serial, kind, name, expiry, "
	    "status.\n"
	    "  tlsgw pki revoke NAME [--dir DIR]\n"
	    "      Revoke a device: its serial goes into DIR/crl.pem (signed "
	    "by the ECDSA\n"
	    "      CA), which a policy with client_ca = DIR/ca-ec.crt checks "
	    "through\n"
	    "      client_crl = DIR/crl.pem.\n"
	    "\n"
	    "DIR: $TLSGW_PKI_DIR, else %s.  Keys are written mode 0600.\n",
	    PKI_DEFAULT_DIR);
}

/* ---- dispatch ------------------------------------------------------ */

static bool
parse_format(const char *s, enum pki_format *f)
{
	static const struct {
		const char *name;
		enum pki_format f;
	} tab[] = {
		{ "all", PKI_FMT_ALL }, { "tasmota", PKI_FMT_TASMOTA },
		{ "arduino", PKI_FMT_ARDUINO }, { "bearssl", PKI_FMT_BEARSSL },
		{ "micropython", PKI_FMT_MICROPYTHON },
		{ "esp-idf", PKI_FMT_ESPIDF },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if (strcmp(s, tab[i].name) == 0) {
			*f = tab[i].f;
			return true;
		}
	}
	return false;
}

enum { OPT_RSA = 256, OPT_FORMAT };

/* Which options a command takes, as getopt letters/codes. */
struct pki_cmd {
	const char *name;
	int (*run)(const struct pki_opts *);
	bool force, rsa, format;
};

static const struct pki_cmd commands[] = {
	{ "init", pki_cmd_init, true, false, false },
	{ "server", pki_cmd_server, true, false, false },
	{ "device", pki_cmd_device, false, true, true },
	{ "list", pki_cmd_list, false, false, false },
	{ "revoke", pki_cmd_revoke, false, false, false },
};

/* An option the command does not take is an error, with its name. */
static int
bad_option(const struct pki_cmd *c, const char *opt)
{
	pki_err("%s: unknown option '%s' (tlsgw pki --help)", c->name, opt);
	return -1;
}

/* Parse argv after the command name; 1 = help shown, -1 = error. */
static int
parse_opts(const struct pki_cmd *c, int argc, char **argv,
    struct pki_opts *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "rsa", no_argument, NULL, OPT_RSA },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	optind = 0;                     /* glibc: restart from scratch */
	while ((ch = getopt_long(argc, argv, "d:fh", longopts, NULL)) != -1) {
		if (ch == 'd')
			o->dir = optarg;
		else if (ch == 'f' && c->force)
			o->force = true;
		else if (ch == OPT_RSA && c->rsa)
			o->rsa = true;
		else if (ch == OPT_FORMAT && c->format) {
			if (!parse_format(optarg, &o->format)) {
				pki_err("--format %s: use all, tasmota, arduino, "
				    "bearssl, micropython or esp-idf", optarg);
				return -1;
			}
		} else if (ch == 'h') {
			usage(stdout);
			return 1;
		} else if (ch == ':' || (ch == '?' && optopt != 0 &&
		    strchr("d", optopt) != NULL)) {
			pki_err("%s: %s needs a value", c->name,
			    argv[optind - 1]);
			return -1;
		} else {
			return bad_option(c, argv[optind - 1]);
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

int
pki_main(int argc, char **argv)
{
	struct pki_opts o = { 0 };
	const struct pki_cmd *c = NULL;
	size_t i;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		pki_err("unknown command '%s': init, server, device, list or "
		    "revoke (tlsgw pki --help)", argv[1]);
		return 1;
	}
	/* GNU getopt permutes: options may follow the names. */
	rc = parse_opts(c, argc - 1, argv + 1, &o);
	if (rc == 0) {
		if (o.dir == NULL)
			o.dir = getenv("TLSGW_PKI_DIR");
		if (o.dir == NULL || o.dir[0] == '\0')
			o.dir = PKI_DEFAULT_DIR;
		rc = c->run(&o);
	} else {
		rc = rc > 0 ? 0 : 1;
	}
	return rc;
}

#else /* !PKI_SUPPORTED */

int
pki_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pki_err("this wolfSSL was built without certificate generation: "
	    "`tlsgw pki` needs WOLFSSL_CERT_GEN, WOLFSSL_CERT_EXT, "
	    "WOLFSSL_ALT_NAMES, WOLFSSL_KEY_GEN, ECC, RSA, SHA-1 and base64 "
	    "encoding (configure wolfSSL with --enable-certgen "
	    "--enable-certext --enable-keygen)");
	return 1;
}

#endif /* PKI_SUPPORTED */
