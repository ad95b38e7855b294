/*
 * test_policy.c: loading the configuration.  Good files give the right
 * values and defaults; a table of broken lines gives, each, exactly one
 * "file:line: message"; a file with several errors reports all of them.
 *
 * Certificates are generated at start into a temporary directory by
 * tests/data/mkcerts.sh (checked-in ones would expire).  Each case gets
 * its own directory there, with a "pki" link to them.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "policy.h"
#include "suites.h"
#include "tlsctx.h"

#ifndef TESTDATA
#define TESTDATA "tests/data"
#endif

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

static char tmpdir[256];

/* --- helpers ---------------------------------------------------------- */

static void xsnprintf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void run(const char *, ...) __attribute__((format(printf, 1, 2)));

/* snprintf that fails the test instead of cutting a path short. */
static void
xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < len, "path too long: %s", buf);
}

static void
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "%s: exit %d", cmd, rc);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A fresh directory for one case: DIR/upstreams.d, DIR/pki -> certs. */
static void
case_dir(char *dir, size_t len, const char *name)
{
	xsnprintf(dir, len, "%s/%s", tmpdir, name);
	run("rm -rf '%s' && mkdir -p '%s/upstreams.d' && ln -s ../pki '%s/pki'",
	    dir, dir, dir);
}

/* Replace every "@" in pattern by dir. */
static void
expand(char *out, size_t len, const char *pattern, const char *dir)
{
	size_t n = 0;

	for (; *pattern != '\0' && n + 1 < len; pattern++) {
		if (*pattern == '@') {
			n += (size_t)snprintf(out + n, len - n, "%s", dir);
			if (n >= len)
				n = len - 1;
		} else
			out[n++] = *pattern;
	}
	out[n] = '\0';
}

/* Every diagnostic, for failure messages. */
static const char *
all_lines(const struct diag *d)
{
	static char buf[8192];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < d->nlines; i++) {
		strncat(buf, "\n  ", sizeof buf - strlen(buf) - 1);
		strncat(buf, d->lines[i], sizeof buf - strlen(buf) - 1);
	}
	return buf;
}

static bool
has_line(const struct diag *d, const char *line)
{
	size_t i;

	for (i = 0; i < d->nlines; i++) {
		if (strcmp(d->lines[i], line) == 0)
			return true;
	}
	return false;
}

/* Load DIR/tlsgw.ini. */
static struct gateway_conf *
load(const char *dir, struct diag *d)
{
	char path[512];

	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	diag_init(d);
	return policy_load(path, d);
}

/* A fixture directory from tests/data/policy copied into a case dir. */
static struct gateway_conf *
load_fixture(const char *name, char *dir, size_t len, struct diag *d)
{
	case_dir(dir, len, name);
	run("cp -R '" TESTDATA "/policy/%s/.' '%s/'", name, dir);
	return load(dir, d);
}

static const struct policy *
find_policy(const struct gateway_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->npolicies; i++) {
		if (strcmp(c->policies[i]->name, name) == 0)
			return c->policies[i];
	}
	ck_abort_msg("no policy %s", name);
	return NULL;
}

/* --- good files -------------------------------------------------------- */

START_TEST(test_good_global)
{
	struct gateway_conf *c;
	char dir[512], path[1024];
	struct diag d;

	c = load_fixture("good", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));
	xsnprintf(path, sizeof path, "%s/upstreams.d", dir);
	ck_assert_str_eq(c->policy_dir, path);
	ck_assert_str_eq(c->user, "nobody");
	ck_assert_uint_eq(c->workers, 4);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(c->max_connections, 500);
	ck_assert_uint_eq(c->handshake_timeout, 5);
	ck_assert_uint_eq(c->idle_timeout, 0);
	ck_assert_uint_eq(c->buffer_size, 16384);
	ck_assert_uint_eq(c->npolicies, 3);
	/* sorted by file name */
	ck_assert_str_eq(c->policies[0]->name, "aws");
	ck_assert_str_eq(c->policies[1]->name, "hivemq");
	ck_assert_str_eq(c->policies[2]->name, "local");
	/* one warning: upstream min_version = 1.2 in aws.ini */
	ck_assert_uint_eq(d.nerrors, 0);
	ck_assert_msg(d.nwarnings == 1, "%s", all_lines(&d));
	xsnprintf(path, sizeof path, "%s/upstreams.d/aws.ini:17: warning: "
	    "min_version = 1.2 lets the upstream leg fall back to TLS 1.2",
	    dir);
	ck_assert_str_eq(d.lines[0], path);
	policy_free(c);
	diag_free(&d);
}
END_TEST

START_TEST(test_good_policies)
{
	const struct policy *p;
	const uint16_t *codes;
	struct gateway_conf *c;
	char dir[512], path[1024];
	struct diag d;
	size_t n;

	c = load_fixture("good", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));

	p = find_policy(c, "hivemq");
	xsnprintf(path, sizeof path, "%s/upstreams.d/hivemq.ini", dir);
	ck_assert_str_eq(p->file, path);
	ck_assert_str_eq(p->listen_address, "127.0.0.1:8883");
	ck_assert_str_eq(p->listen_sni, "hivemq.gw.test");
	xsnprintf(path, sizeof path, "%s/pki/rsa.crt", dir);
	ck_assert_str_eq(p->device.cert, path);
	ck_assert_int_eq(p->device.suite_set, SUITE_SET_COMPAT);
	n = suite_set_codes(SUITE_SET_COMPAT, &codes);
	ck_assert_uint_eq(p->device.nsuites, n);
	ck_assert_mem_eq(p->device.suites, codes, n * sizeof *codes);
	ck_assert_uint_eq(p->device.min_version, TLSV_TLS12);
	ck_assert_ptr_nonnull(p->device.ctx_rsa);
	ck_assert_ptr_nonnull(p->device.ctx_ecdsa);
	ck_assert_ptr_null(p->device.client_ca);
	ck_assert_str_eq(p->upstream.host, "abc123.s1.eu.hivemq.cloud");
	ck_assert_str_eq(p->upstream.sni, "abc123.s1.eu.hivemq.cloud");
	ck_assert_uint_eq(p->upstream.port, 8883);
	ck_assert_uint_eq(p->upstream.min_version, TLSV_TLS13);
	ck_assert_ptr_null(p->upstream.alpn);
	ck_assert_ptr_null(p->upstream.cert);
	ck_assert_ptr_nonnull(p->upstream.ctx);

	p = find_policy(c, "aws");
	ck_assert_int_eq(p->device.suite_set, SUITE_SET_MODERN);
	ck_assert_uint_eq(p->device.min_version, TLSV_TLS13);
	ck_assert_ptr_null(p->device.ctx_rsa);
	ck_assert_ptr_nonnull(p->device.ctx_ecdsa);
	ck_assert_uint_eq(p->upstream.port, 443);
	ck_assert_str_eq(p->upstream.sni, "iot.example.test");
	ck_assert_uint_eq(p->upstream.min_version, TLSV_TLS12);
	ck_assert_str_eq(p->upstream.alpn, "x-amzn-mqtt-ca,mqtt");
	ck_assert_ptr_nonnull(p->upstream.cert);
	ck_assert_ptr_nonnull(p->upstream.ctx);

	p = find_policy(c, "local");
	ck_assert_str_eq(p->listen_address, "[::1]:8884");
	ck_assert_int_eq(p->listen_addr.ss_family, AF_INET6);
	ck_assert_ptr_null(p->listen_sni);
	ck_assert_int_eq(p->device.suite_set, SUITE_SET_EXPLICIT);
	ck_assert_uint_eq(p->device.nsuites, 4);
	ck_assert_uint_eq(p->device.suites[0], 0xC02F);
	ck_assert_uint_eq(p->device.suites[1], 0xC027);
	ck_assert_uint_eq(p->device.suites[2], 0xC013);
	ck_assert_uint_eq(p->device.suites[3], 0x1301);
	ck_assert_str_eq(p->upstream.sni, "127.0.0.1");
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* The device contexts hold exactly the policy's suites that fit their
 * certificate, in order, and nothing else. */
START_TEST(test_good_contexts)
{
	static const uint16_t rsa[] = { 0x1301, 0x1302, 0x1303, 0xC02F,
	    0xC030, 0xCCA8, 0xC027, 0xC013, 0xC014 };
	static const uint16_t ec[] = { 0x1301, 0x1302, 0x1303, 0xC02B,
	    0xC02C, 0xCCA9, 0xC023, 0xC009, 0xC00A };
	static const uint16_t up12[] = { 0x1301, 0x1302, 0x1303, 0xC02B,
	    0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8 };
	const struct policy *p;
	struct gateway_conf *c;
	uint16_t got[64];
	struct diag d;
	char dir[512];

	c = load_fixture("good", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));
	p = find_policy(c, "hivemq");
	if (tlsctx_read_ciphers(p->device.ctx_rsa, got, NELEM(got)) >= 0) {
		ck_assert_int_eq(tlsctx_read_ciphers(p->device.ctx_rsa, got,
		    NELEM(got)), NELEM(rsa));
		ck_assert_mem_eq(got, rsa, sizeof rsa);
		ck_assert_int_eq(tlsctx_read_ciphers(p->device.ctx_ecdsa, got,
		    NELEM(got)), NELEM(ec));
		ck_assert_mem_eq(got, ec, sizeof ec);
		ck_assert_int_eq(tlsctx_read_ciphers(p->upstream.ctx, got,
		    NELEM(got)), 3);
		p = find_policy(c, "aws");
		ck_assert_int_eq(tlsctx_read_ciphers(p->upstream.ctx, got,
		    NELEM(got)), NELEM(up12));
		ck_assert_mem_eq(got, up12, sizeof up12);
		/* min_version = 1.3: only the TLS 1.3 suites */
		ck_assert_int_eq(tlsctx_read_ciphers(p->device.ctx_ecdsa, got,
		    NELEM(got)), 3);
		ck_assert_mem_eq(got, rsa, 3 * sizeof *rsa);
	}
	policy_free(c);
	diag_free(&d);
}
END_TEST

START_TEST(test_defaults)
{
	const struct policy *p;
	struct gateway_conf *c;
	char dir[512], path[1024];
	struct diag d;

	c = load_fixture("defaults", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));
	ck_assert_msg(d.nlines == 0, "%s", all_lines(&d));
	xsnprintf(path, sizeof path, "%s/upstreams.d", dir);
	ck_assert_str_eq(c->policy_dir, path);
	ck_assert_ptr_null(c->user);
	ck_assert_uint_eq(c->workers, 0);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(c->max_connections, 10000);
	ck_assert_uint_eq(c->handshake_timeout, 10);
	ck_assert_uint_eq(c->idle_timeout, 300);
	ck_assert_uint_eq(c->buffer_size, 65536);
	ck_assert_uint_eq(c->npolicies, 1);
	p = c->policies[0];
	ck_assert_str_eq(p->name, "minimal");
	ck_assert_ptr_null(p->listen_sni);
	ck_assert_int_eq(p->device.suite_set, SUITE_SET_COMPAT);
	ck_assert_uint_eq(p->device.nsuites, 15);
	ck_assert_uint_eq(p->device.min_version, TLSV_TLS12);
	ck_assert_ptr_nonnull(p->device.ctx_rsa);
	ck_assert_ptr_null(p->device.ctx_ecdsa);
	ck_assert_uint_eq(p->upstream.port, 8883);
	ck_assert_str_eq(p->upstream.sni, "broker.example.test");
	ck_assert_str_eq(p->upstream.ca, "system");   /* store loaded */
	ck_assert_uint_eq(p->upstream.min_version, TLSV_TLS13);
	ck_assert_ptr_null(p->upstream.alpn);
	ck_assert_ptr_null(p->upstream.cert);
	ck_assert_ptr_null(p->upstream.key);
	ck_assert_ptr_nonnull(p->upstream.ctx);
	policy_free(c);
	diag_free(&d);
}
END_TEST

START_TEST(test_three_errors)
{
	static const char *const want[] = {
		"@/upstreams.d/bad.ini:3: unknown key \"colour\" in [listen]",
		"@/upstreams.d/bad.ini:7: suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA "
		    "is never allowed (3DES)",
		"@/upstreams.d/bad.ini:10: port: 88830 is out of range "
		    "(1..65535)",
	};
	struct gateway_conf *c;
	char dir[512], line[2048];
	struct diag d;
	size_t i;

	c = load_fixture("three-errors", dir, sizeof dir, &d);
	ck_assert_ptr_null(c);
	ck_assert_msg(d.nerrors == 3 && d.nlines == 3, "%s", all_lines(&d));
	for (i = 0; i < NELEM(want); i++) {
		expand(line, sizeof line, want[i], dir);
		ck_assert_msg(strcmp(d.lines[i], line) == 0, "want %s, got %s",
		    line, all_lines(&d));
	}
	diag_free(&d);
}
END_TEST

/* What inih builds differ on is handled by our reader: CRLF, a BOM,
 * indentation (never a continuation line), "key: value", comments of
 * both kinds, names in any case. */
START_TEST(test_syntax_variants)
{
	static const char policy[] =
	    "\xEF\xBB\xBF# comment\r\n"
	    "[Listen]\r\n"
	    "   Address: 127.0.0.1:18883   ; inline\r\n"
	    "\t sni = gw.test # inline\r\n"
	    "\r\n"
	    "  [device]  ; a section comment\r\n"
	    "\tcert=pki/rsa.crt\r\n"
	    "\tkey =pki/rsa.key\r\n"
	    "\tSUITES = modern\r\n"
	    "[upstream]\n"
	    "host = broker.example.test\n"
	    "ca = pki/ca.crt\n"
	    "alpn =\n"
	    "port = 1883";      /* no newline at the end */
	struct gateway_conf *c;
	char dir[512], path[1024];
	const struct policy *p;
	struct diag d;

	case_dir(dir, sizeof dir, "syntax");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\r\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	write_file(path, policy);
	c = load(dir, &d);
	ck_assert_msg(c != NULL && d.nlines == 0, "%s", all_lines(&d));
	p = c->policies[0];
	ck_assert_str_eq(p->listen_address, "127.0.0.1:18883");
	ck_assert_str_eq(p->listen_sni, "gw.test");
	ck_assert_int_eq(p->device.suite_set, SUITE_SET_MODERN);
	ck_assert_ptr_null(p->upstream.alpn);
	ck_assert_uint_eq(p->upstream.port, 1883);
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* --- routing ------------------------------------------------------------ */

static const struct {
	const char *ip;
	unsigned port;
	const char *sni;
	const char *want;       /* NULL: no policy */
} routes[] = {
	{ "127.0.0.1", 8883, "hivemq.gw.test", "hivemq" },
	{ "127.0.0.1", 8883, "HiveMQ.GW.test", "hivemq" },
	{ "127.0.0.1", 8883, "aws.gw.test", "aws" },
	{ "127.0.0.1", 8883, "other.gw.test", NULL },  /* no sni-less one */
	{ "127.0.0.1", 8883, NULL, NULL },
	{ "127.0.0.1", 8884, "hivemq.gw.test", NULL },
	{ "::1", 8884, NULL, "local" },
	{ "::1", 8884, "", "local" },
	{ "::1", 8884, "anything", "local" },
	{ "::1", 8883, NULL, NULL },
};

START_TEST(test_route)
{
	struct sockaddr_storage ss;
	const struct policy *p;
	struct gateway_conf *c;
	socklen_t len;
	struct diag d;
	char dir[512];

	c = load_fixture("good", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));
	memset(&ss, 0, sizeof ss);
	if (strchr(routes[_i].ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(routes[_i].port);
		inet_pton(AF_INET6, routes[_i].ip, &s6->sin6_addr);
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(routes[_i].port);
		inet_pton(AF_INET, routes[_i].ip, &s4->sin_addr);
		len = sizeof *s4;
	}
	p = policy_route(c, (struct sockaddr *)&ss, len, routes[_i].sni);
	if (routes[_i].want == NULL)
		ck_assert_ptr_null(p);
	else {
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(p->name, routes[_i].want);
	}
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* --- broken lines --------------------------------------------------------- */

#define BASE_LISTEN "[listen]\naddress = 127.0.0.1:18883\n"
#define BASE_DEVICE "[device]\ncert = pki/rsa.crt\nkey = pki/rsa.key\n"
#define BASE_UPSTREAM "[upstream]\nhost = broker.example.test\n" \
	"ca = pki/ca.crt\n"
#define BASE BASE_LISTEN BASE_DEVICE BASE_UPSTREAM

/* p.ini is the policy under test; o.ini, when given, is another policy
 * (it sorts first); global replaces the global file's body.  want is
 * the one expected message, "@" standing for the case directory. */
static const struct {
	const char *name;
	const char *policy;
	const char *other;
	const char *global;
	const char *want;
} broken[] = {
	{ "unknown key", BASE_LISTEN "colour = blue\n" BASE_DEVICE
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:3: unknown key \"colour\" in [listen]" },
	{ "unknown device key", BASE_LISTEN BASE_DEVICE "tls_version = 1.2\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: unknown key \"tls_version\" in [device]" },
	{ "unknown section", BASE "[mqtt]\ninspect = yes\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: unknown section [mqtt]" },
	{ "key outside section", "foo = 1\n" BASE, NULL, NULL,
	  "@/upstreams.d/p.ini:1: key \"foo\" is outside of any section" },
	{ "syntax error", BASE_LISTEN "garbage\n" BASE_DEVICE BASE_UPSTREAM,
	  NULL, NULL, "@/upstreams.d/p.ini:3: syntax error: expected "
	  "[section] or key = value" },
	{ "broken section header", BASE "[upstream\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: syntax error: expected [section] or "
	  "key = value" },
	{ "bad port", BASE "port = 70000\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: port: 70000 is out of range (1..65535)" },
	{ "port not a number", BASE "port = 88x\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: port: \"88x\" is not a number" },
	{ "port zero", BASE "port = 0\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: port: 0 is out of range (1..65535)" },
	{ "duplicate key", BASE "host = other.example.test\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: duplicate key \"host\" in [upstream] "
	  "(first set on line 7)" },
	{ "missing host", BASE_LISTEN BASE_DEVICE "[upstream]\n"
	  "ca = pki/ca.crt\n", NULL, NULL,
	  "@/upstreams.d/p.ini:6: missing required key \"host\" in "
	  "[upstream]" },
	{ "missing upstream section", BASE_LISTEN BASE_DEVICE, NULL, NULL,
	  "@/upstreams.d/p.ini: missing required key \"host\" in "
	  "[upstream]" },
	{ "empty host", BASE_LISTEN BASE_DEVICE "[upstream]\nhost =\n"
	  "ca = pki/ca.crt\n", NULL, NULL,
	  "@/upstreams.d/p.ini:7: host: empty value" },
	{ "bad host", BASE_LISTEN BASE_DEVICE "[upstream]\nhost = bad host!\n"
	  "ca = pki/ca.crt\n", NULL, NULL,
	  "@/upstreams.d/p.ini:7: host: \"bad host!\" is not a valid host "
	  "name" },
	{ "address not numeric", "[listen]\naddress = localhost:8883\n"
	  BASE_DEVICE BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:2: address: \"localhost:8883\" is not a "
	  "numeric IPv4:port or [IPv6]:port" },
	{ "address IPv6 without brackets", "[listen]\naddress = ::1:8883\n"
	  BASE_DEVICE BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:2: address: \"::1:8883\" is not a numeric "
	  "IPv4:port or [IPv6]:port" },
	{ "address IPv4 in brackets", "[listen]\naddress = [127.0.0.1]:8883\n"
	  BASE_DEVICE BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:2: address: \"[127.0.0.1]:8883\" is not a "
	  "numeric IPv4:port or [IPv6]:port" },
	{ "address port", "[listen]\naddress = 127.0.0.1:65536\n"
	  BASE_DEVICE BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:2: address: port \"65536\" is out of range "
	  "(1..65535)" },
	{ "bad suites name", BASE_LISTEN BASE_DEVICE "suites = modrn\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: suites: unknown suite \"modrn\" (use "
	  "modern, compat, legacy or a list of suite names)" },
	{ "weak suite RC4", BASE_LISTEN BASE_DEVICE "suites = "
	  "ECDHE-RSA-AES128-GCM-SHA256, RC4-SHA\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: suites: TLS_RSA_WITH_RC4_128_SHA is never "
	  "allowed (RC4)" },
	{ "weak suite NULL by code", BASE_LISTEN BASE_DEVICE "suites = "
	  "0xC02F:0xC010\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: suites: TLS_ECDHE_RSA_WITH_NULL_SHA is "
	  "never allowed (NULL cipher)" },
	{ "weak suite anon", BASE_LISTEN BASE_DEVICE "suites = "
	  "TLS_DH_anon_WITH_AES_128_CBC_SHA\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: suites: TLS_DH_anon_WITH_AES_128_CBC_SHA "
	  "is never allowed (anonymous)" },
	{ "DHE suite", BASE_LISTEN BASE_DEVICE "suites = "
	  "DHE-RSA-AES128-GCM-SHA256\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: suites: TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 "
	  "is never allowed (DHE key exchange, not supported)" },
	{ "min_version 1.0", BASE_LISTEN BASE_DEVICE "min_version = 1.0\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: min_version: TLS 1.0 is not supported "
	  "(use 1.2 or 1.3)" },
	{ "upstream min_version 1.1", BASE "min_version = 1.1\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: min_version: TLS 1.1 is not supported "
	  "(use 1.2 or 1.3)" },
	{ "min_version garbage", BASE_LISTEN BASE_DEVICE "min_version = 2\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: min_version: \"2\" is not a TLS version "
	  "(1.2 or 1.3)" },
	{ "TLS 1.3 without TLS 1.3 suite", BASE_LISTEN BASE_DEVICE
	  "suites = ECDHE-RSA-AES128-GCM-SHA256\nmin_version = 1.3\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: suites: no TLS 1.3 suite, but min_version "
	  "is 1.3" },
	{ "over-long line", BASE_LISTEN "; "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
	  BASE_DEVICE BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:3: line too long (250 characters, at most "
	  "200)" },
	{ "key without cert", BASE_LISTEN "[device]\nkey = pki/rsa.key\n"
	  "cert_ecdsa = pki/ec.crt\nkey_ecdsa = pki/ec.key\n" BASE_UPSTREAM,
	  NULL, NULL,
	  "@/upstreams.d/p.ini:4: key is set but cert is not" },
	{ "cert without key", BASE_LISTEN "[device]\ncert = pki/rsa.crt\n"
	  "cert_ecdsa = pki/ec.crt\nkey_ecdsa = pki/ec.key\n" BASE_UPSTREAM,
	  NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert is set but key is not" },
	{ "no certificate", BASE_LISTEN "[device]\nsuites = compat\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:3: [device] needs cert and key (RSA) and/or "
	  "cert_ecdsa and key_ecdsa (ECDSA)" },
	{ "missing cert file", BASE_LISTEN "[device]\ncert = pki/nope.crt\n"
	  "key = pki/rsa.key\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert: cannot open @/pki/nope.crt: No such "
	  "file or directory" },
	{ "cert file without certificate", BASE_LISTEN "[device]\n"
	  "cert = pki/empty.pem\nkey = pki/rsa.key\n" BASE_UPSTREAM, NULL,
	  NULL, "@/upstreams.d/p.ini:4: cert: no PEM certificate in "
	  "@/pki/empty.pem" },
	{ "key not a key", BASE_LISTEN "[device]\ncert = pki/rsa.crt\n"
	  "key = pki/rsa.crt\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:5: key: cannot load a private key from "
	  "@/pki/rsa.crt (not PEM, or encrypted)" },
	{ "key not matching cert", BASE_LISTEN "[device]\ncert = pki/rsa.crt\n"
	  "key = pki/other-rsa.key\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:5: key does not match certificate "
	  "@/pki/rsa.crt" },
	{ "ECDSA key not matching cert", BASE_LISTEN "[device]\n"
	  "cert_ecdsa = pki/ec.crt\nkey_ecdsa = pki/other-ec.key\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:5: key_ecdsa does not match certificate "
	  "@/pki/ec.crt" },
	{ "expired cert", BASE_LISTEN "[device]\ncert = pki/expired.crt\n"
	  "key = pki/expired.key\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert: certificate @/pki/expired.crt "
	  "expired on Jan  2 00:00:00 2020 GMT" },
	{ "cert not yet valid", BASE_LISTEN "[device]\ncert = pki/future.crt\n"
	  "key = pki/future.key\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert: certificate @/pki/future.crt is not "
	  "valid before Jan  1 00:00:00 2040 GMT" },
	{ "ECDSA cert as cert", BASE_LISTEN "[device]\ncert = pki/ec.crt\n"
	  "key = pki/ec.key\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert: @/pki/ec.crt holds an ECDSA "
	  "certificate; put it in cert_ecdsa" },
	{ "RSA cert as cert_ecdsa", BASE_LISTEN "[device]\n"
	  "cert_ecdsa = pki/rsa.crt\nkey_ecdsa = pki/rsa.key\n" BASE_UPSTREAM,
	  NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert_ecdsa: @/pki/rsa.crt holds an RSA "
	  "certificate; put it in cert" },
	{ "no suite for the certificate", BASE_LISTEN "[device]\n"
	  "cert_ecdsa = pki/ec.crt\nkey_ecdsa = pki/ec.key\n"
	  "suites = ECDHE-RSA-AES128-GCM-SHA256\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:4: cert_ecdsa: none of the suites can use an "
	  "ECDSA certificate" },
	{ "two policies same address no sni", BASE, BASE, NULL,
	  "@/upstreams.d/p.ini:2: address 127.0.0.1:18883 is already used by "
	  "policy \"o\" (@/upstreams.d/o.ini:2), also without sni; set sni in "
	  "one of them" },
	{ "two policies same sni", BASE_LISTEN "sni = gw.test\n" BASE_DEVICE
	  BASE_UPSTREAM, BASE_LISTEN "sni = GW.test\n" BASE_DEVICE
	  BASE_UPSTREAM, NULL,
	  "@/upstreams.d/p.ini:3: sni \"gw.test\" on 127.0.0.1:18883 is "
	  "already used by policy \"o\" (@/upstreams.d/o.ini:3)" },
	{ "ca missing", BASE_LISTEN BASE_DEVICE "[upstream]\n"
	  "host = broker.example.test\nca = pki/none.pem\n", NULL, NULL,
	  "@/upstreams.d/p.ini:8: ca: cannot open @/pki/none.pem: No such "
	  "file or directory" },
	{ "ca without certificate", BASE_LISTEN BASE_DEVICE "[upstream]\n"
	  "host = broker.example.test\nca = pki/empty.pem\n", NULL, NULL,
	  "@/upstreams.d/p.ini:8: ca: no certificate in @/pki/empty.pem" },
	{ "upstream key without cert", BASE "key = pki/rsa.key\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: key is set but cert is not" },
	{ "bad alpn", BASE "alpn = mqtt,,x\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: alpn: \"mqtt,,x\" is not a list of protocol "
	  "names" },
	{ "bad client_ca", BASE_LISTEN BASE_DEVICE "client_ca = pki/none.pem\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: client_ca: cannot open @/pki/none.pem: No "
	  "such file or directory" },
	/* the global file */
	{ "workers range", BASE, NULL, "[gateway]\nworkers = 65\n",
	  "@/tlsgw.ini:2: workers: 65 is out of range (1..64)" },
	{ "workers word", BASE, NULL, "[gateway]\nworkers = many\n",
	  "@/tlsgw.ini:2: workers: \"many\" is not auto or a number" },
	{ "log_level", BASE, NULL, "[gateway]\nlog_level = loud\n",
	  "@/tlsgw.ini:2: log_level: \"loud\" is not one of: error, warn, "
	  "info, debug" },
	{ "buffer_size small", BASE, NULL, "[gateway]\nbuffer_size = 1k\n",
	  "@/tlsgw.ini:2: buffer_size: 1k is out of range (4096..16777216)" },
	{ "buffer_size unit", BASE, NULL, "[gateway]\nbuffer_size = 64x\n",
	  "@/tlsgw.ini:2: buffer_size: \"64x\" is not a size (a number of "
	  "bytes, or with k or m)" },
	{ "idle_timeout negative", BASE, NULL,
	  "[gateway]\nidle_timeout = -1\n",
	  "@/tlsgw.ini:2: idle_timeout: \"-1\" is not a number" },
	{ "policy_dir missing", BASE, NULL, "[gateway]\npolicy_dir = nowhere\n",
	  "@/tlsgw.ini:2: policy_dir: cannot open directory @/nowhere: No "
	  "such file or directory" },
	{ "listen section in global file", BASE, NULL,
	  "[gateway]\n[listen]\naddress = 127.0.0.1:1\n",
	  "@/tlsgw.ini:2: unknown section [listen]" },
	{ "no policy files", NULL, NULL, "[gateway]\n",
	  "@/tlsgw.ini: no policy files (*.ini) in @/upstreams.d" },
};

START_TEST(test_broken)
{
	struct gateway_conf *c;
	char dir[512], path[1024], want[2048];
	struct diag d;

	case_dir(dir, sizeof dir, "broken");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, broken[_i].global ? broken[_i].global : "[gateway]\n");
	if (broken[_i].policy != NULL) {
		xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
		write_file(path, broken[_i].policy);
	}
	if (broken[_i].other != NULL) {
		xsnprintf(path, sizeof path, "%s/upstreams.d/o.ini", dir);
		write_file(path, broken[_i].other);
	}
	c = load(dir, &d);
	expand(want, sizeof want, broken[_i].want, dir);
	ck_assert_msg(c == NULL, "%s: loaded", broken[_i].name);
	ck_assert_msg(d.nerrors == 1 && has_line(&d, want),
	    "%s: want\n  %s\ngot%s", broken[_i].name, want, all_lines(&d));
	diag_free(&d);
}
END_TEST

/* --- warnings and build-dependent cases ------------------------------------ */

START_TEST(test_warn_key_mode)
{
	struct gateway_conf *c;
	char dir[512], path[1024], want[2048];
	struct diag d;

	case_dir(dir, sizeof dir, "keymode");
	run("cp '%s/pki/rsa.key' '%s/open.key' && chmod 0644 '%s/open.key'",
	    dir, dir, dir);
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	write_file(path, BASE_LISTEN "[device]\ncert = pki/rsa.crt\n"
	    "key = open.key\n" BASE_UPSTREAM);
	c = load(dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));
	xsnprintf(want, sizeof want, "%s/upstreams.d/p.ini:5: warning: key: "
	    "%s/open.key is readable by group or others (mode 0644)", dir, dir);
	ck_assert_msg(d.nwarnings == 1 && has_line(&d, want), "want %s, got%s",
	    want, all_lines(&d));
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* Static RSA is allowed when named, loudly; and only when this wolfSSL
 * has it (Debian's 5.5.4 does not: then it is an error naming them). */
static const struct {
	const char *suites;
	const char *warning;
	const char *error;
} static_rsa_cases[] = {
	{ "legacy",
	  "@/upstreams.d/p.ini:6: warning: suites = legacy allows static RSA "
	  "key exchange: no forward secrecy on the device leg",
	  "@/upstreams.d/p.ini:6: suites: this wolfSSL build does not offer "
	  "TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384, "
	  "TLS_RSA_WITH_AES_128_CBC_SHA256, TLS_RSA_WITH_AES_256_CBC_SHA256, "
	  "TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA (static "
	  "RSA needs wolfSSL built with WOLFSSL_STATIC_RSA)" },
	{ "ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA",
	  "@/upstreams.d/p.ini:6: warning: suites: TLS_RSA_WITH_AES_128_CBC_SHA "
	  "uses static RSA key exchange: no forward secrecy on the device leg",
	  "@/upstreams.d/p.ini:6: suites: this wolfSSL build does not offer "
	  "TLS_RSA_WITH_AES_128_CBC_SHA (static RSA needs wolfSSL built with "
	  "WOLFSSL_STATIC_RSA)" },
};

START_TEST(test_static_rsa)
{
	struct gateway_conf *c;
	char dir[512], path[1024], text[1024], want[2048];
	bool have = tlsctx_suite_supported(0x002F);
	struct diag d;

	case_dir(dir, sizeof dir, "staticrsa");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	xsnprintf(text, sizeof text, BASE_LISTEN BASE_DEVICE "suites = %s\n"
	    BASE_UPSTREAM, static_rsa_cases[_i].suites);
	write_file(path, text);
	c = load(dir, &d);
	expand(want, sizeof want, static_rsa_cases[_i].warning, dir);
	ck_assert_msg(d.nwarnings == 1 && has_line(&d, want), "want %s, got%s",
	    want, all_lines(&d));
	if (have) {
		ck_assert_msg(c != NULL && d.nerrors == 0, "%s", all_lines(&d));
	} else {
		expand(want, sizeof want, static_rsa_cases[_i].error, dir);
		ck_assert_ptr_null(c);
		ck_assert_msg(d.nerrors == 1 && has_line(&d, want),
		    "want %s, got%s", want, all_lines(&d));
	}
	policy_free(c);
	diag_free(&d);
}
END_TEST

START_TEST(test_missing_global)
{
	char path[600], want[1024];
	struct gateway_conf *c;
	struct diag d;

	xsnprintf(path, sizeof path, "%s/nothing/tlsgw.ini", tmpdir);
	diag_init(&d);
	c = policy_load(path, &d);
	ck_assert_ptr_null(c);
	xsnprintf(want, sizeof want, "%s: cannot open: No such file or "
	    "directory", path);
	ck_assert_msg(d.nerrors == 1 && has_line(&d, want), "%s",
	    all_lines(&d));
	diag_free(&d);
}
END_TEST

/* The option table: names unique per section, defaults valid. */
START_TEST(test_option_table)
{
	size_t i, j;

	ck_assert_uint_gt(policy_noptions, 20);
	for (i = 0; i < policy_noptions; i++) {
		const struct policy_option *o = &policy_options[i];

		ck_assert_ptr_nonnull(o->help);
		ck_assert(!(o->def != NULL && (o->flags & POPT_REQUIRED)));
		for (j = i + 1; j < policy_noptions; j++)
			ck_assert(!(strcmp(o->name, policy_options[j].name) == 0 &&
			    strcmp(o->section, policy_options[j].section) == 0 &&
			    o->file == policy_options[j].file));
	}
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("good");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_good_global);
	tcase_add_test(tc, test_good_policies);
	tcase_add_test(tc, test_good_contexts);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_syntax_variants);
	tcase_add_loop_test(tc, test_route, 0, NELEM(routes));
	tcase_add_test(tc, test_option_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_broken, 0, NELEM(broken));
	tcase_add_test(tc, test_three_errors);
	tcase_add_test(tc, test_missing_global);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_warn_key_mode);
	tcase_add_loop_test(tc, test_static_rsa, 0, NELEM(static_rsa_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char *base = getenv("TMPDIR");
	char cmd[1024];
	SRunner *sr;
	int failed;

	snprintf(tmpdir, sizeof tmpdir, "%s/tlsgw-test-policy.XXXXXX",
	    base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	snprintf(cmd, sizeof cmd, "sh '" TESTDATA "/mkcerts.sh' '%s/pki'",
	    tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_policy: %s failed\n", cmd);
		return EXIT_FAILURE;
	}
	wolfSSL_Init();
	sr = srunner_create(policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	wolfSSL_Cleanup();
	if (failed == 0 || getenv("TLSGW_KEEP_TMP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_policy: cannot remove %s\n", tmpdir);
	} else
		fprintf(stderr, "test_policy: files kept in %s\n", tmpdir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
