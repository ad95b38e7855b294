/*
 * test_policy.c: loading the configuration.  Good files give the right
 * values and defaults; a table of broken lines gives, each, exactly one
 * "file:line: message"; a file with several errors reports all of them.
 *
 * Certificates are generated at start into a temporary directory by
 * tests/data/mkcerts.sh (checked-in ones would expire).  Each case gets
 * its own directory there, with a "pki" link to them.
 *
 * Also here: SNI routing, the chain-signature check, and the manual
 * pages written from the option table (optdoc).
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
#include <wolfssl/wolfcrypt/asn_public.h>

#include "der.h"
#include "keys.h"
#include "optdoc.h"
#include "policy.h"
#include "suites.h"
#include "tlsctx.h"

#ifndef TESTDATA
#define TESTDATA "tests/data"
#endif
/* The manual page templates (doc/ next to tests/). */
#ifndef DOCDIR
#define DOCDIR TESTDATA "/../../doc"
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
	ck_assert_uint_eq(c->drain_timeout, 30);
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
	ck_assert_uint_eq(p->nlisten_snis, 1);
	ck_assert_str_eq(p->listen_snis[0], "hivemq.gw.test");
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
	ck_assert_uint_eq(c->drain_timeout, 10);
	ck_assert_uint_eq(c->npolicies, 1);
	p = c->policies[0];
	ck_assert_str_eq(p->name, "minimal");
	ck_assert_ptr_null(p->listen_sni);
	ck_assert_ptr_null(p->listen_snis);
	ck_assert_uint_eq(p->nlisten_snis, 0);
	ck_assert_ptr_null(p->device.allow);
	ck_assert_uint_eq(p->device.nallow, 0);
	ck_assert(!p->mqtt.inspect);
	ck_assert_int_eq(p->mqtt.client_id_mode, MQTT_CLIENT_ID_PASSTHROUGH);
	ck_assert_ptr_null(p->mqtt.client_id_prefix);
	ck_assert_ptr_null(p->mqtt.username);
	ck_assert_ptr_null(p->mqtt.password_file);
	ck_assert_ptr_null(p->mqtt.password);
	ck_assert_uint_eq(p->mqtt.password_len, 0);
	ck_assert_uint_eq(p->mqtt.max_connect_size, 8192);
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

/* Every error in every file: the global file, then each policy file in
 * name order, then a conflict between two policy files. */
START_TEST(test_errors_two_files)
{
	static const char *const want[] = {
		"@/tlsgw.ini:4: workers: 99 is out of range (1..64)",
		"@/upstreams.d/a.ini:3: unknown key \"colour\" in [listen]",
		"@/upstreams.d/a.ini:9: port: 88830 is out of range (1..65535)",
		"@/upstreams.d/b.ini:6: suites: TLS_RSA_WITH_RC4_128_SHA is never "
		    "allowed (RC4)",
		"@/upstreams.d/b.ini:11: inspect: \"maybe\" is not yes or no",
		"@/upstreams.d/b.ini:2: address 127.0.0.1:18883 is already used "
		    "by policy \"a\" (@/upstreams.d/a.ini:2), also without sni; "
		    "set sni in one of them",
	};
	struct gateway_conf *c;
	char dir[512], line[2048];
	struct diag d;
	size_t i;

	c = load_fixture("two-files", dir, sizeof dir, &d);
	ck_assert_ptr_null(c);
	ck_assert_msg(d.nerrors == NELEM(want) && d.nlines == NELEM(want),
	    "%s", all_lines(&d));
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

/* A listener address for the routing tables. */
static socklen_t
make_addr(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		return sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		return sizeof *s4;
	}
}

/* tests/data/policy/sni: on 127.0.0.1:8883 a lists "*.gw.test,
 * one.gw.test", b "two.gw.test *.b.gw.test" (written "Two.GW.test."),
 * c is the default; d has only "*.gw.test" on port 8884; e only
 * "x.gw.test" on [::1]:8883. */
static const struct {
	const char *ip;
	unsigned port;
	const char *sni;
	const char *want;       /* NULL: no policy */
} sni_routes[] = {
	{ "127.0.0.1", 8883, "one.gw.test", "a" },          /* exact */
	{ "127.0.0.1", 8883, "ONE.Gw.Test", "a" },          /* any case */
	{ "127.0.0.1", 8883, "one.gw.test.", "a" },         /* trailing dot */
	{ "127.0.0.1", 8883, "two.gw.test", "b" },          /* exact beats a's
	                                                       wildcard */
	{ "127.0.0.1", 8883, "TWO.gw.test", "b" },
	{ "127.0.0.1", 8883, "x.gw.test", "a" },            /* wildcard */
	{ "127.0.0.1", 8883, "x-1.GW.TEST", "a" },
	{ "127.0.0.1", 8883, "x.b.gw.test", "b" },          /* *.b.gw.test */
	{ "127.0.0.1", 8883, "b.gw.test", "a" },            /* *.gw.test */
	{ "127.0.0.1", 8883, "gw.test", "c" },              /* not the base */
	{ "127.0.0.1", 8883, "a.b.c.gw.test", "c" },        /* one label only */
	{ "127.0.0.1", 8883, ".gw.test", "c" },             /* empty label */
	{ "127.0.0.1", 8883, "gw.test.evil", "c" },
	{ "127.0.0.1", 8883, "xgw.test", "c" },
	{ "127.0.0.1", 8883, "other.example", "c" },
	{ "127.0.0.1", 8883, NULL, "c" },                   /* no SNI */
	{ "127.0.0.1", 8883, "", "c" },
	{ "127.0.0.1", 8883, "192.168.1.10", "c" },         /* IP literal */
	{ "127.0.0.1", 8883, "2001:db8::1", "c" },
	{ "127.0.0.1", 8884, "x.gw.test", "d" },
	{ "127.0.0.1", 8884, "one.gw.test", "d" },
	{ "127.0.0.1", 8884, "gw.test", NULL },             /* no default */
	{ "127.0.0.1", 8884, NULL, NULL },
	{ "127.0.0.1", 8884, "10.0.0.1", NULL },
	{ "127.0.0.2", 8883, "one.gw.test", NULL },         /* no listener */
	{ "::1", 8883, "x.gw.test", "e" },
	{ "::1", 8883, "X.GW.TEST.", "e" },
	{ "::1", 8883, "y.gw.test", NULL },
	{ "::1", 8883, NULL, NULL },
	{ "::1", 8884, "x.gw.test", NULL },
};

START_TEST(test_route_sni)
{
	struct sockaddr_storage ss;
	const struct policy *p;
	struct gateway_conf *c;
	socklen_t len;
	struct diag d;
	char dir[512];

	c = load_fixture("sni", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL && d.nlines == 0, "%s", all_lines(&d));
	len = make_addr(&ss, sni_routes[_i].ip, sni_routes[_i].port);
	p = policy_route(c, (struct sockaddr *)&ss, len, sni_routes[_i].sni);
	if (sni_routes[_i].want == NULL)
		ck_assert_msg(p == NULL, "%s -> %s, want none",
		    sni_routes[_i].sni ? sni_routes[_i].sni : "(none)", p->name);
	else {
		ck_assert_msg(p != NULL, "%s -> none, want %s",
		    sni_routes[_i].sni ? sni_routes[_i].sni : "(none)",
		    sni_routes[_i].want);
		ck_assert_str_eq(p->name, sni_routes[_i].want);
	}
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* The names as stored: lower case, without the trailing dot, in order;
 * listen_sni joins them for the logs. */
START_TEST(test_sni_stored)
{
	const struct policy *p;
	struct gateway_conf *c;
	struct diag d;
	char dir[512];

	c = load_fixture("sni", dir, sizeof dir, &d);
	ck_assert_msg(c != NULL, "%s", all_lines(&d));
	p = find_policy(c, "b");
	ck_assert_uint_eq(p->nlisten_snis, 2);
	ck_assert_str_eq(p->listen_snis[0], "two.gw.test");
	ck_assert_str_eq(p->listen_snis[1], "*.b.gw.test");
	ck_assert_str_eq(p->listen_sni, "two.gw.test,*.b.gw.test");
	p = find_policy(c, "c");
	ck_assert_ptr_null(p->listen_sni);
	ck_assert_uint_eq(p->nlisten_snis, 0);
	policy_free(c);
	diag_free(&d);
}
END_TEST

static const struct {
	const char *pattern, *name;
	bool match;
} sni_matches[] = {
	{ "gw.test", "gw.test", true },
	{ "gw.test", "GW.Test", true },
	{ "gw.test", "gw.test.", true },
	{ "gw.test", "gw.test..", false },
	{ "gw.test", "a.gw.test", false },
	{ "gw.test", "gw.tes", false },
	{ "gw.test", "gw.testx", false },
	{ "*.gw.test", "a.gw.test", true },
	{ "*.gw.test", "A-b_c.GW.TEST.", true },
	{ "*.gw.test", "gw.test", false },
	{ "*.gw.test", ".gw.test", false },
	{ "*.gw.test", "a.b.gw.test", false },
	{ "*.gw.test", "agw.test", false },
	{ "*.gw.test", "a.gw.test.x", false },
	{ "*.gw.test", "a.xgw.test", false },
	{ "*.gw.test", "", false },
	{ "*.gw.test", ".", false },
	{ "*.lan", "x.lan", true },
	{ "*.lan", "lan", false },
};

START_TEST(test_sni_match)
{
	ck_assert_msg(policy_sni_match(sni_matches[_i].pattern,
	    sni_matches[_i].name) == sni_matches[_i].match, "%s ~ %s",
	    sni_matches[_i].pattern, sni_matches[_i].name);
}
END_TEST


/* --- broken lines --------------------------------------------------------- */

#define BASE_LISTEN "[listen]\naddress = 127.0.0.1:18883\n"
#define BASE_DEVICE "[device]\ncert = pki/rsa.crt\nkey = pki/rsa.key\n"
#define BASE_UPSTREAM "[upstream]\nhost = broker.example.test\n" \
	"ca = pki/ca.crt\n"
#define BASE BASE_LISTEN BASE_DEVICE BASE_UPSTREAM

#define LISTEN_AT(a) "[listen]\naddress = " a "\n"
#define REST BASE_DEVICE BASE_UPSTREAM
/* A device section with client certificates (for allow, device-cn). */
#define BASE_DEVICE_CA BASE_DEVICE "client_ca = pki/ca.crt\n"
#define MQTT_CREDS "[mqtt]\ninspect = yes\nusername = gw\npassword_file = pw\n"
#define X64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

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
	{ "unknown section", BASE "[metrics]\nport = 9\n", NULL, NULL,
	  "@/upstreams.d/p.ini:9: unknown section [metrics]" },
	{ "mqtt section in global file", BASE, NULL,
	  "[gateway]\n[mqtt]\ninspect = yes\n",
	  "@/tlsgw.ini:2: unknown section [mqtt]" },
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
	{ "drain_timeout range", BASE, NULL, "[gateway]\ndrain_timeout = 3601\n",
	  "@/tlsgw.ini:2: drain_timeout: 3601 is out of range (0..3600)" },
	{ "drain_timeout word", BASE, NULL, "[gateway]\ndrain_timeout = 5s\n",
	  "@/tlsgw.ini:2: drain_timeout: \"5s\" is not a number" },
	/* [listen] sni lists */
	{ "sni IP address", BASE_LISTEN "sni = 192.168.1.1\n" REST, NULL, NULL,
	  "@/upstreams.d/p.ini:3: sni: \"192.168.1.1\" is an IP address; "
	  "devices never send one as SNI (such hellos go to the policy "
	  "without sni)" },
	{ "sni IPv6 address", BASE_LISTEN "sni = ok.gw.test, ::1\n" REST, NULL,
	  NULL, "@/upstreams.d/p.ini:3: sni: \"::1\" is an IP address; "
	  "devices never send one as SNI (such hellos go to the policy "
	  "without sni)" },
	{ "sni star inside a label", BASE_LISTEN "sni = a*.gw.test\n" REST,
	  NULL, NULL, "@/upstreams.d/p.ini:3: sni: \"a*.gw.test\" is not a "
	  "DNS name or a wildcard such as *.gw.lan" },
	{ "sni two stars", BASE_LISTEN "sni = *.*.gw.test\n" REST, NULL, NULL,
	  "@/upstreams.d/p.ini:3: sni: \"*.*.gw.test\" is not a DNS name or "
	  "a wildcard such as *.gw.lan" },
	{ "sni star alone", BASE_LISTEN "sni = ok.gw.test *\n" REST, NULL, NULL,
	  "@/upstreams.d/p.ini:3: sni: \"*\" is not a DNS name or a wildcard "
	  "such as *.gw.lan" },
	{ "sni empty label", BASE_LISTEN "sni = gw..test\n" REST, NULL, NULL,
	  "@/upstreams.d/p.ini:3: sni: \"gw..test\" is not a DNS name or a "
	  "wildcard such as *.gw.lan" },
	{ "sni label over 63", BASE_LISTEN "sni = " X64 ".test\n" REST, NULL,
	  NULL, "@/upstreams.d/p.ini:3: sni: \"" X64 ".test\" is not a DNS "
	  "name or a wildcard such as *.gw.lan" },
	{ "sni empty list", BASE_LISTEN "sni = ,\n" REST, NULL, NULL,
	  "@/upstreams.d/p.ini:3: sni: empty list" },
	{ "same wildcard in two policies", BASE_LISTEN "sni = *.gw.test\n" REST,
	  BASE_LISTEN "sni = x.gw.test, *.GW.test\n" REST, NULL,
	  "@/upstreams.d/p.ini:3: sni \"*.gw.test\" on 127.0.0.1:18883 is "
	  "already used by policy \"o\" (@/upstreams.d/o.ini:3)" },
	{ "same name in two lists", BASE_LISTEN "sni = a.gw.test b.gw.test\n"
	  REST, BASE_LISTEN "sni = c.gw.test, B.gw.test.\n" REST, NULL,
	  "@/upstreams.d/p.ini:3: sni \"b.gw.test\" on 127.0.0.1:18883 is "
	  "already used by policy \"o\" (@/upstreams.d/o.ini:3)" },
	/* addresses the kernel would not bind together */
	{ "IPv4 address under a wildcard", LISTEN_AT("127.0.0.1:18883") REST,
	  LISTEN_AT("0.0.0.0:18883") REST, NULL,
	  "@/upstreams.d/p.ini:2: address 127.0.0.1:18883 overlaps "
	  "0.0.0.0:18883 of policy \"o\" (@/upstreams.d/o.ini:2): the kernel "
	  "refuses to bind both; write the same address in both policies (sni "
	  "tells them apart)" },
	{ "IPv4 wildcard over an address", LISTEN_AT("0.0.0.0:18883") REST,
	  LISTEN_AT("192.168.1.2:18883") REST, NULL,
	  "@/upstreams.d/p.ini:2: address 0.0.0.0:18883 overlaps "
	  "192.168.1.2:18883 of policy \"o\" (@/upstreams.d/o.ini:2): the "
	  "kernel refuses to bind both; write the same address in both "
	  "policies (sni tells them apart)" },
	{ "IPv6 wildcard over IPv4", LISTEN_AT("[::]:18883") REST,
	  LISTEN_AT("127.0.0.1:18883") REST, NULL,
	  "@/upstreams.d/p.ini:2: address [::]:18883 overlaps 127.0.0.1:18883 "
	  "of policy \"o\" (@/upstreams.d/o.ini:2): the kernel refuses to "
	  "bind both ([::] takes IPv4 too); write the same address in both "
	  "policies (sni tells them apart)" },
	{ "IPv6 address under a wildcard", LISTEN_AT("[::1]:18883") REST,
	  LISTEN_AT("[::]:18883") REST, NULL,
	  "@/upstreams.d/p.ini:2: address [::1]:18883 overlaps [::]:18883 of "
	  "policy \"o\" (@/upstreams.d/o.ini:2): the kernel refuses to bind "
	  "both; write the same address in both policies (sni tells them "
	  "apart)" },
	/* [device] allow */
	{ "allow without client_ca", BASE_LISTEN BASE_DEVICE "allow = dev1\n"
	  BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:6: allow is set but client_ca is not: devices "
	  "without a certificate have no identity to check" },
	{ "allow control character", BASE_LISTEN BASE_DEVICE_CA "allow = ok, "
	  "dev\x01x\n" BASE_UPSTREAM, NULL, NULL,
	  "@/upstreams.d/p.ini:7: allow: \"dev\x01x\" is not a certificate "
	  "name (at most 255 characters, no control characters)" },
	{ "allow empty list", BASE_LISTEN BASE_DEVICE_CA "allow = , ,\n"
	  BASE_UPSTREAM, NULL, NULL, "@/upstreams.d/p.ini:7: allow: empty list" },
	/* [mqtt] */
	{ "inspect word", BASE "[mqtt]\ninspect = maybe\n", NULL, NULL,
	  "@/upstreams.d/p.ini:10: inspect: \"maybe\" is not yes or no" },
	{ "client_id word", BASE "[mqtt]\ninspect = yes\nclient_id = cn\n",
	  NULL, NULL, "@/upstreams.d/p.ini:11: client_id: \"cn\" is not one "
	  "of: passthrough, device-cn, prefix:TEXT" },
	{ "client_id empty prefix", BASE "[mqtt]\ninspect = yes\n"
	  "client_id = prefix:\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: client_id: prefix \"\" must be 1 to 64 "
	  "printable ASCII characters without blanks" },
	{ "client_id prefix with a blank", BASE "[mqtt]\ninspect = yes\n"
	  "client_id = prefix:gw 1\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: client_id: prefix \"gw 1\" must be 1 to 64 "
	  "printable ASCII characters without blanks" },
	{ "client_id prefix too long", BASE "[mqtt]\ninspect = yes\n"
	  "client_id = prefix:" X64 "x\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: client_id: prefix \"" X64 "x\" must be 1 "
	  "to 64 printable ASCII characters without blanks" },
	{ "device-cn without client_ca", BASE "[mqtt]\ninspect = yes\n"
	  "client_id = device-cn\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: client_id = device-cn needs client_ca in "
	  "[device]: devices without a certificate have no CN" },
	{ "username without password_file", BASE "[mqtt]\ninspect = yes\n"
	  "username = gw\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: username is set but password_file is not" },
	{ "max_connect_size small", BASE "[mqtt]\ninspect = yes\n"
	  "max_connect_size = 64\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: max_connect_size: 64 is out of range "
	  "(128..65536)" },
	{ "max_connect_size large", BASE "[mqtt]\ninspect = yes\n"
	  "max_connect_size = 1m\n", NULL, NULL,
	  "@/upstreams.d/p.ini:11: max_connect_size: 1m is out of range "
	  "(128..65536)" },
	{ "unknown mqtt key", BASE "[mqtt]\ninspect = yes\npassword = x\n",
	  NULL, NULL, "@/upstreams.d/p.ini:11: unknown key \"password\" in "
	  "[mqtt]" },
};

/* Broken [mqtt] password set-ups: sh runs first in the case directory
 * (it makes the password file, always holding TOPSECRET when it
 * exists); want is the one expected message. */
static const struct {
	const char *name;
	const char *policy;
	const char *want;
	const char *sh;         /* NULL: no file */
} broken_pw[] = {
	{ "password_file without username", BASE "[mqtt]\ninspect = yes\n"
	  "password_file = pw\n",
	  "@/upstreams.d/p.ini:11: password_file is set but username is not",
	  "echo TOPSECRET >pw && chmod 600 pw" },
	{ "password_file missing", BASE MQTT_CREDS,
	  "@/upstreams.d/p.ini:12: password_file: cannot open @/pw: No such "
	  "file or directory", NULL },
	{ "password_file empty", BASE MQTT_CREDS,
	  "@/upstreams.d/p.ini:12: password_file: @/pw is empty",
	  ": >pw && chmod 600 pw" },
	{ "password_file empty first line", BASE MQTT_CREDS,
	  "@/upstreams.d/p.ini:12: password_file: @/pw has an empty first line",
	  "printf '\\r\\nTOPSECRET\\n' >pw && chmod 600 pw" },
	{ "password_file too large", BASE MQTT_CREDS,
	  "@/upstreams.d/p.ini:12: password_file: @/pw is larger than 4096 "
	  "bytes", "(echo TOPSECRET; head -c 4090 /dev/zero) >pw && "
	  "chmod 600 pw" },
	{ "password_file a directory", BASE MQTT_CREDS,
	  "@/upstreams.d/p.ini:12: password_file: @/pw is not a regular file",
	  "mkdir pw" },
	{ "password_file a FIFO (must not hang)", BASE MQTT_CREDS,
	  "@/upstreams.d/p.ini:12: password_file: @/pw is not a regular file",
	  "mkfifo pw" },
	{ "password_file checked without inspect", BASE "[mqtt]\n"
	  "username = gw\npassword_file = pw\n",
	  "@/upstreams.d/p.ini:11: password_file: cannot open @/pw: No such "
	  "file or directory", NULL },
	{ "username not UTF-8", BASE "[mqtt]\ninspect = yes\n"
	  "username = gw\xC3\x28\npassword_file = pw\n",
	  "@/upstreams.d/p.ini:11: username: not UTF-8 text",
	  "echo TOPSECRET >pw && chmod 600 pw" },
};

/* No message may ever show the password. */
static void
assert_no_secret(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->nlines; i++)
		ck_assert_msg(strstr(d->lines[i], "TOPSECRET") == NULL,
		    "password in a message: %s", d->lines[i]);
}

/* Write the case's files, load, and expect exactly one error, want. */
static void
check_broken(const char *name, const char *policy, const char *other,
    const char *global, const char *sh, const char *want_pattern)
{
	struct gateway_conf *c;
	char dir[512], path[1024], want[2048];
	struct diag d;

	case_dir(dir, sizeof dir, "broken");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, global ? global : "[gateway]\n");
	if (policy != NULL) {
		xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
		write_file(path, policy);
	}
	if (other != NULL) {
		xsnprintf(path, sizeof path, "%s/upstreams.d/o.ini", dir);
		write_file(path, other);
	}
	if (sh != NULL)
		run("cd '%s' && %s", dir, sh);
	c = load(dir, &d);
	expand(want, sizeof want, want_pattern, dir);
	ck_assert_msg(c == NULL, "%s: loaded", name);
	ck_assert_msg(d.nerrors == 1 && has_line(&d, want),
	    "%s: want\n  %s\ngot%s", name, want, all_lines(&d));
	assert_no_secret(&d);
	diag_free(&d);
}

START_TEST(test_broken)
{
	check_broken(broken[_i].name, broken[_i].policy, broken[_i].other,
	    broken[_i].global, NULL, broken[_i].want);
}
END_TEST

START_TEST(test_broken_pw)
{
	check_broken(broken_pw[_i].name, broken_pw[_i].policy, NULL, NULL,
	    broken_pw[_i].sh, broken_pw[_i].want);
}
END_TEST

/* Pairs of policies whose addresses coexist: different specific
 * addresses, ports, families; one address shared with sni. */
static const struct {
	const char *p, *o;
} addr_ok[] = {
	{ LISTEN_AT("127.0.0.1:18883"), LISTEN_AT("127.0.0.2:18883") },
	{ LISTEN_AT("0.0.0.0:18883"), LISTEN_AT("0.0.0.0:18884") },
	{ LISTEN_AT("0.0.0.0:18883"), LISTEN_AT("127.0.0.1:18884") },
	{ LISTEN_AT("[::1]:18883"), LISTEN_AT("0.0.0.0:18883") },
	{ LISTEN_AT("[::1]:18883"), LISTEN_AT("127.0.0.1:18883") },
	{ LISTEN_AT("[::]:18883"), LISTEN_AT("127.0.0.1:18884") },
	{ LISTEN_AT("0.0.0.0:18883") "sni = a.gw.test\n",
	  LISTEN_AT("0.0.0.0:18883") },
	{ LISTEN_AT("[::]:18883") "sni = *.gw.test\n",
	  LISTEN_AT("[::]:18883") "sni = a.gw.test, *.b.gw.test\n" },
};

START_TEST(test_addresses_ok)
{
	struct gateway_conf *c;
	char dir[512], path[1024], text[1024];
	struct diag d;

	case_dir(dir, sizeof dir, "addrok");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	xsnprintf(text, sizeof text, "%s%s", addr_ok[_i].p, REST);
	write_file(path, text);
	xsnprintf(path, sizeof path, "%s/upstreams.d/o.ini", dir);
	xsnprintf(text, sizeof text, "%s%s", addr_ok[_i].o, REST);
	write_file(path, text);
	c = load(dir, &d);
	ck_assert_msg(c != NULL && d.nlines == 0, "%s", all_lines(&d));
	policy_free(c);
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

/* Files that load, with exactly these warnings ("@": the case dir). */
static const struct {
	const char *name;
	const char *policy;
	const char *sh;
	const char *want[3];
} warn_cases[] = {
	{ "mqtt keys without inspect", BASE "[mqtt]\nclient_id = prefix:gw-\n"
	  "max_connect_size = 4k\n", NULL,
	  { "@/upstreams.d/p.ini:10: warning: client_id has no effect without "
	    "inspect = yes",
	    "@/upstreams.d/p.ini:11: warning: max_connect_size has no effect "
	    "without inspect = yes" } },
	{ "credentials with inspect = no", BASE "[mqtt]\ninspect = no\n"
	  "username = gw\npassword_file = pw\n",
	  "echo TOPSECRET >pw && chmod 600 pw",
	  { "@/upstreams.d/p.ini:11: warning: username has no effect without "
	    "inspect = yes",
	    "@/upstreams.d/p.ini:12: warning: password_file has no effect "
	    "without inspect = yes" } },
	{ "password_file readable by others", BASE MQTT_CREDS,
	  "echo TOPSECRET >pw && chmod 644 pw",
	  { "@/upstreams.d/p.ini:12: warning: password_file: @/pw is readable "
	    "by group or others (mode 0644)" } },
	{ "password_file readable by group", BASE MQTT_CREDS,
	  "echo TOPSECRET >pw && chmod 640 pw",
	  { "@/upstreams.d/p.ini:12: warning: password_file: @/pw is readable "
	    "by group or others (mode 0640)" } },
	{ "leaf signed with SHA-1", BASE_LISTEN "[device]\n"
	  "cert = pki/rsa-sha1.crt\nkey = pki/rsa.key\n" BASE_UPSTREAM, NULL,
	  { "@/upstreams.d/p.ini:4: warning: cert: @/pki/rsa-sha1.crt: "
	    "certificate 1 is signed with sha1WithRSAEncryption; Tasmota "
	    "verifies only sha256WithRSAEncryption" } },
	{ "leaf signed with SHA-384", BASE_LISTEN "[device]\n"
	  "cert = pki/rsa-sha384.crt\nkey = pki/rsa.key\n" BASE_UPSTREAM, NULL,
	  { "@/upstreams.d/p.ini:4: warning: cert: @/pki/rsa-sha384.crt: "
	    "certificate 1 is signed with sha384WithRSAEncryption; Tasmota "
	    "verifies only sha256WithRSAEncryption" } },
	{ "CA signed with SHA-384", BASE_LISTEN "[device]\n"
	  "cert = pki/rsa-ca384.crt\nkey = pki/rsa.key\n" BASE_UPSTREAM, NULL,
	  { "@/upstreams.d/p.ini:4: warning: cert: @/pki/rsa-ca384.crt: "
	    "certificate 2 is signed with sha384WithRSAEncryption; Tasmota "
	    "verifies only sha256WithRSAEncryption" } },
	{ "RSA leaf under an ECDSA CA", BASE_LISTEN "[device]\n"
	  "cert = pki/rsa-ecca.crt\nkey = pki/rsa.key\n" BASE_UPSTREAM, NULL,
	  { "@/upstreams.d/p.ini:4: warning: cert: @/pki/rsa-ecca.crt: "
	    "certificate 1 is signed with ecdsa-with-SHA256; Tasmota verifies "
	    "only sha256WithRSAEncryption",
	    "@/upstreams.d/p.ini:4: warning: cert: @/pki/rsa-ecca.crt: "
	    "certificate 2 is signed with ecdsa-with-SHA256; Tasmota verifies "
	    "only sha256WithRSAEncryption" } },
	/* devices never see the upstream client certificate */
	{ "upstream client certificate with SHA-1", BASE
	  "cert = pki/rsa-sha1.crt\nkey = pki/rsa.key\n", NULL, { NULL } },
	{ "sni listed twice", BASE_LISTEN "sni = a.gw.test, A.gw.test.\n" REST,
	  NULL, { "@/upstreams.d/p.ini:3: warning: sni: \"a.gw.test\" is "
	  "listed twice" } },
	{ "allow listed twice", BASE_LISTEN BASE_DEVICE_CA
	  "allow = dev1 dev2 DEV1\n" BASE_UPSTREAM, NULL,
	  { "@/upstreams.d/p.ini:7: warning: allow: \"DEV1\" is listed "
	    "twice" } },
};

START_TEST(test_warnings)
{
	struct gateway_conf *c;
	char dir[512], path[1024], want[2048];
	struct diag d;
	size_t i, n = 0;

	case_dir(dir, sizeof dir, "warnings");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	write_file(path, warn_cases[_i].policy);
	if (warn_cases[_i].sh != NULL)
		run("cd '%s' && %s", dir, warn_cases[_i].sh);
	c = load(dir, &d);
	ck_assert_msg(c != NULL && d.nerrors == 0, "%s:%s", warn_cases[_i].name,
	    all_lines(&d));
	for (i = 0; i < NELEM(warn_cases[_i].want) &&
	    warn_cases[_i].want[i] != NULL; i++, n++) {
		expand(want, sizeof want, warn_cases[_i].want[i], dir);
		ck_assert_msg(has_line(&d, want), "%s: want\n  %s\ngot%s",
		    warn_cases[_i].name, want, all_lines(&d));
	}
	ck_assert_msg(d.nwarnings == n && d.nlines == n, "%s: %zu warnings:%s",
	    warn_cases[_i].name, n, all_lines(&d));
	assert_no_secret(&d);
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* [mqtt] with everything set, [device] allow: the values as loaded;
 * the password is the first line without its CR LF, and no message
 * shows it. */
START_TEST(test_mqtt_good)
{
	const struct policy *p;
	struct gateway_conf *c;
	char dir[512], path[1024];
	struct diag d;

	case_dir(dir, sizeof dir, "mqtt");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	write_file(path, BASE_LISTEN BASE_DEVICE_CA
	    "allow = dev-1, dev-2\tdev-3 ,dev-4.gw.lan\n" BASE_UPSTREAM
	    "[MQTT]\nInspect = Yes\nclient_id = device-cn\n"
	    "username = gw-user \xC3\xA9t\xC3\xA9\n"
	    "password_file = secrets/pw\nmax_connect_size = 16k\n");
	run("mkdir '%s/secrets' && printf 'TOPSECRET pw\\r\\nline 2\\n' "
	    ">'%s/secrets/pw' && chmod 400 '%s/secrets/pw'", dir, dir, dir);
	c = load(dir, &d);
	ck_assert_msg(c != NULL && d.nlines == 0, "%s", all_lines(&d));
	p = c->policies[0];
	ck_assert_uint_eq(p->device.nallow, 4);
	ck_assert_str_eq(p->device.allow[0], "dev-1");
	ck_assert_str_eq(p->device.allow[1], "dev-2");
	ck_assert_str_eq(p->device.allow[2], "dev-3");
	ck_assert_str_eq(p->device.allow[3], "dev-4.gw.lan");
	ck_assert(p->mqtt.inspect);
	ck_assert_int_eq(p->mqtt.client_id_mode, MQTT_CLIENT_ID_DEVICE_CN);
	ck_assert_ptr_null(p->mqtt.client_id_prefix);
	ck_assert_str_eq(p->mqtt.username, "gw-user \xC3\xA9t\xC3\xA9");
	xsnprintf(path, sizeof path, "%s/secrets/pw", dir);
	ck_assert_str_eq(p->mqtt.password_file, path);
	ck_assert_uint_eq(p->mqtt.password_len, 12);
	ck_assert_mem_eq(p->mqtt.password, "TOPSECRET pw", 13);
	ck_assert_uint_eq(p->mqtt.max_connect_size, 16384);
	policy_free(c);
	diag_free(&d);
}
END_TEST

/* With inspect = no the password file is still checked, but the
 * password is not kept. */
START_TEST(test_mqtt_password_not_kept)
{
	struct gateway_conf *c;
	char dir[512], path[1024];
	struct diag d;

	case_dir(dir, sizeof dir, "mqttoff");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	write_file(path, BASE "[mqtt]\nusername = gw\npassword_file = pw\n");
	run("cd '%s' && echo TOPSECRET >pw && chmod 600 pw", dir);
	c = load(dir, &d);
	ck_assert_msg(c != NULL && d.nerrors == 0, "%s", all_lines(&d));
	ck_assert(!c->policies[0]->mqtt.inspect);
	ck_assert_ptr_null(c->policies[0]->mqtt.password);
	ck_assert_uint_eq(c->policies[0]->mqtt.password_len, 0);
	ck_assert_str_eq(c->policies[0]->mqtt.username, "gw");
	policy_free(c);
	diag_free(&d);
}
END_TEST

static const struct {
	const char *value;
	enum mqtt_client_id_mode mode;
	const char *prefix;
} client_ids[] = {
	{ "passthrough", MQTT_CLIENT_ID_PASSTHROUGH, NULL },
	{ "PassThrough", MQTT_CLIENT_ID_PASSTHROUGH, NULL },
	{ "device-cn", MQTT_CLIENT_ID_DEVICE_CN, NULL },
	{ "Device-CN", MQTT_CLIENT_ID_DEVICE_CN, NULL },
	{ "prefix:gw-", MQTT_CLIENT_ID_PREFIX, "gw-" },
	{ "PREFIX:Site/A:", MQTT_CLIENT_ID_PREFIX, "Site/A:" },
	{ "prefix:" X64, MQTT_CLIENT_ID_PREFIX, X64 },
};

START_TEST(test_client_id)
{
	const struct policy *p;
	struct gateway_conf *c;
	char dir[512], path[1024], text[1024];
	struct diag d;

	case_dir(dir, sizeof dir, "clientid");
	xsnprintf(path, sizeof path, "%s/tlsgw.ini", dir);
	write_file(path, "[gateway]\n");
	xsnprintf(path, sizeof path, "%s/upstreams.d/p.ini", dir);
	xsnprintf(text, sizeof text, BASE_LISTEN BASE_DEVICE_CA BASE_UPSTREAM
	    "[mqtt]\ninspect = on\nclient_id = %s\n", client_ids[_i].value);
	write_file(path, text);
	c = load(dir, &d);
	ck_assert_msg(c != NULL && d.nlines == 0, "%s", all_lines(&d));
	p = c->policies[0];
	ck_assert(p->mqtt.inspect);
	ck_assert_int_eq(p->mqtt.client_id_mode, client_ids[_i].mode);
	if (client_ids[_i].prefix == NULL)
		ck_assert_ptr_null(p->mqtt.client_id_prefix);
	else
		ck_assert_str_eq(p->mqtt.client_id_prefix, client_ids[_i].prefix);
	policy_free(c);
	diag_free(&d);
}
END_TEST

START_TEST(test_wipe)
{
	char buf[32];
	size_t i;

	memset(buf, 'x', sizeof buf);
	policy_wipe(buf + 1, 30);
	ck_assert_int_eq(buf[0], 'x');
	for (i = 1; i < 31; i++)
		ck_assert_int_eq(buf[i], 0);
	ck_assert_int_eq(buf[31], 'x');
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

/* --- tlsctx: chain signatures ------------------------------------------- */

static const struct {
	const char *file;       /* under the test PKI */
	int n;                  /* certificates, or -1 */
	const char *alg[2];
} sig_files[] = {
	{ "rsa.crt", 2, { "sha256WithRSAEncryption",
	    "sha256WithRSAEncryption" } },
	{ "rsa-sha1.crt", 2, { "sha1WithRSAEncryption",
	    "sha256WithRSAEncryption" } },
	{ "rsa-sha384.crt", 2, { "sha384WithRSAEncryption",
	    "sha256WithRSAEncryption" } },
	{ "rsa-ca384.crt", 2, { "sha256WithRSAEncryption",
	    "sha384WithRSAEncryption" } },
	{ "ec.crt", 2, { "ecdsa-with-SHA256", "ecdsa-with-SHA256" } },
	{ "empty.pem", 0, { NULL } },
	{ "rsa.key", 0, { NULL } },
	{ "no-such-file.crt", -1, { NULL } },
};

START_TEST(test_chain_sigalgs)
{
	char path[600], names[4][TLSCTX_SIGALG_MAX];
	int n, i;

	xsnprintf(path, sizeof path, "%s/pki/%s", tmpdir, sig_files[_i].file);
	n = tlsctx_chain_sigalgs(path, names, 4);
	ck_assert_int_eq(n, sig_files[_i].n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(names[i], sig_files[_i].alg[i]);
}
END_TEST

/* The first certificate of a PEM file as DER (the test PKI's), via
 * wolfCrypt's converter: der.c must read what OpenSSL wrote. */
static size_t
leaf_der(const char *file, unsigned char *der, size_t max)
{
	unsigned char pem[16384];
	char path[600];
	size_t n;
	int len;
	FILE *f;

	xsnprintf(path, sizeof path, "%s/pki/%s", tmpdir, file);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	n = fread(pem, 1, sizeof pem, f);
	fclose(f);
	len = wc_CertPemToDer(pem, (int)n, der, (int)max, CERT_TYPE);
	ck_assert_int_gt(len, 0);
	return (size_t)len;
}

/* Certificates read by hand (policy/der.c): key type, dates, CN, SAN. */
START_TEST(test_der_cert)
{
	unsigned char der[8192];
	char name[256];
	struct der_cert c;
	size_t len, pos = 0;

	len = leaf_der("rsa.crt", der, sizeof der);
	ck_assert_int_eq(der_parse_cert(der, len, &c), 0);
	ck_assert(c.rsa);
	ck_assert(der_cert_cn(&c, name, sizeof name));
	ck_assert_str_eq(name, "gw.test");
	ck_assert(der_cert_next_dns(&c, &pos, name, sizeof name));
	ck_assert_str_eq(name, "gw.test");
	ck_assert(der_cert_next_dns(&c, &pos, name, sizeof name));
	ck_assert_str_eq(name, "localhost");
	/* The IP entry is not a DNS name: the end. */
	ck_assert(!der_cert_next_dns(&c, &pos, name, sizeof name));
	/* A buffer too small for the name: skipped, not cut. */
	pos = 0;
	ck_assert(der_cert_next_dns(&c, &pos, name, 9));
	ck_assert_str_eq(name, "gw.test");
	ck_assert(!der_cert_next_dns(&c, &pos, name, 9));
	ck_assert(!der_cert_cn(&c, name, 7));

	len = leaf_der("ec.crt", der, sizeof der);
	ck_assert_int_eq(der_parse_cert(der, len, &c), 0);
	ck_assert(!c.rsa);
	ck_assert_uint_eq(c.ec_point.len, 65);
	ck_assert_uint_eq(c.ec_point.val[0], 0x04);

	len = leaf_der("expired.crt", der, sizeof der);
	ck_assert_int_eq(der_parse_cert(der, len, &c), 0);
	ck_assert_int_eq((long long)c.not_before, 1577836800LL);
	ck_assert_int_eq((long long)c.not_after, 1577923200LL);

	/* Past 2038 whatever the size of time_t (32 bits on armhf). */
	len = leaf_der("future.crt", der, sizeof der);
	ck_assert_int_eq(der_parse_cert(der, len, &c), 0);
	ck_assert_int_eq((long long)c.not_before, 2208988800LL);
	der_format_time(c.not_before, name, sizeof name);
	ck_assert_str_eq(name, "Jan  1 00:00:00 2040 GMT");
	der_format_time(951827696LL, name, sizeof name);
	ck_assert_str_eq(name, "Feb 29 12:34:56 2000 GMT");

	len = leaf_der("ca.crt", der, sizeof der);
	ck_assert_int_eq(der_parse_cert(der, len, &c), 0);
	ck_assert(der_cert_cn(&c, name, sizeof name));
	ck_assert_str_eq(name, "tlsgw test CA");
	pos = 0;
	ck_assert(!der_cert_next_dns(&c, &pos, name, sizeof name));
}
END_TEST

/* Every prefix of a real certificate is refused, none read past it. */
START_TEST(test_der_truncated)
{
	unsigned char der[8192], *copy;
	struct der_cert c;
	size_t len, n;

	len = leaf_der("rsa.crt", der, sizeof der);
	for (n = 0; n < len; n++) {
		copy = malloc(n > 0 ? n : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, der, n);
		ck_assert_int_eq(der_parse_cert(copy, n, &c), -1);
		free(copy);
	}
}
END_TEST

/* Keys against certificates (policy/keys.c), PKCS#8 as openssl writes
 * them: the right key matches, another of the same type does not. */
static const struct {
	const char *cert, *key;
	int want;
} key_pairs[] = {
	{ "rsa.crt", "rsa.key", 1 },
	{ "ec.crt", "ec.key", 1 },
	{ "rsa.crt", "other-rsa.key", 0 },
	{ "ec.crt", "other-ec.key", 0 },
	{ "rsa.crt", "ec.key", 0 },
	{ "ec.crt", "rsa.key", 0 },
	{ "rsa.crt", "rsa.crt", -1 },
	{ "rsa.crt", "no-such.key", -1 },
};

START_TEST(test_key_matches)
{
	unsigned char der[8192];
	struct der_cert c;
	char path[600];
	size_t len;

	len = leaf_der(key_pairs[_i].cert, der, sizeof der);
	ck_assert_int_eq(der_parse_cert(der, len, &c), 0);
	xsnprintf(path, sizeof path, "%s/pki/%s", tmpdir, key_pairs[_i].key);
	ck_assert_int_eq(keys_file_matches_cert(path, &c), key_pairs[_i].want);
}
END_TEST

/* Hand-made DER: the walk finds the algorithm or says no, never reads
 * past the end. */
static const struct {
	const char *name;
	const char *der;
	size_t len;
	const char *want;       /* NULL: not a certificate */
} sig_ders[] = {
	{ "unknown OID", "\x30\x0b\x30\x00\x30\x07\x06\x05\x2b\x06\x01\x04\x01",
	  13, "OID 1.3.6.1.4.1" },
	{ "multi-byte arc", "\x30\x0b\x30\x00\x30\x07\x06\x05\x2a\x86\x48\x01"
	  "\x02", 13, "OID 1.2.840.1.2" },
	{ "long-form lengths under 128 (BER, not DER)",
	  "\x30\x81\x0d\x30\x81\x00\x30\x81\x07\x06\x05"
	  "\x2b\x06\x01\x04\x01", 16, NULL },
	{ "sha1WithRSA with NULL params", "\x30\x11\x30\x00\x30\x0d\x06\x09"
	  "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05\x05\x00", 19,
	  "sha1WithRSAEncryption" },
	{ "ED25519", "\x30\x09\x30\x00\x30\x05\x06\x03\x2b\x65\x70", 11,
	  "ED25519" },
	{ "empty", "", 0, NULL },
	{ "not a sequence", "\x31\x00", 2, NULL },
	{ "outer length past the end", "\x30\x0c\x30\x00\x30\x07\x06\x05\x2b"
	  "\x06\x01\x04\x01", 13, NULL },
	{ "tbs past the end", "\x30\x04\x30\x7f\x00\x00", 6, NULL },
	{ "no algorithm", "\x30\x02\x30\x00", 4, NULL },
	{ "OID past its sequence", "\x30\x0b\x30\x00\x30\x03\x06\x05\x2b\x06"
	  "\x01\x04\x01", 13, NULL },
	{ "empty OID", "\x30\x06\x30\x00\x30\x02\x06\x00", 8, NULL },
	{ "indefinite length", "\x30\x80\x30\x00", 4, NULL },
	{ "5-byte length", "\x30\x85\x00\x00\x00\x00\x04", 7, NULL },
};

START_TEST(test_sigalg_der)
{
	char name[TLSCTX_SIGALG_MAX];
	uint8_t *der;
	bool ok;

	/* an exact-size copy, so that ASan sees any over-read */
	der = malloc(sig_ders[_i].len ? sig_ders[_i].len : 1);
	ck_assert_ptr_nonnull(der);
	memcpy(der, sig_ders[_i].der, sig_ders[_i].len);
	ok = tlsctx_sigalg_der(der, sig_ders[_i].len, name, sizeof name);
	free(der);
	if (sig_ders[_i].want == NULL)
		ck_assert_msg(!ok, "%s: got %s", sig_ders[_i].name, name);
	else {
		ck_assert_msg(ok, "%s: not parsed", sig_ders[_i].name);
		ck_assert_str_eq(name, sig_ders[_i].want);
	}
}
END_TEST

/* --- optdoc: the manual pages ------------------------------------------- */

/* Render a template given as text; the output (malloc'd) into *out. */
static int
render_text(const char *template, char **out, char *err, size_t errlen)
{
	static const char *const vars[] = { "VERSION=1.2-3", "SYSCONFDIR=/etc",
	    NULL };
	FILE *in, *o;
	size_t len;
	int n;

	in = fmemopen((void *)template, strlen(template), "r");
	ck_assert_ptr_nonnull(in);
	o = open_memstream(out, &len);
	ck_assert_ptr_nonnull(o);
	n = optdoc_render(in, o, vars, err, errlen);
	fclose(in);
	fclose(o);
	return n;
}

/* Render a template file of doc/. */
static int
render_file(const char *name, char **out)
{
	static const char *const vars[] = { "VERSION=0.0.0", "SYSCONFDIR=/etc",
	    NULL };
	char path[1024], err[256];
	FILE *in, *o;
	size_t len;
	int n;

	xsnprintf(path, sizeof path, "%s/%s", DOCDIR, name);
	in = fopen(path, "r");
	ck_assert_msg(in != NULL, "%s: %s", path, strerror(errno));
	o = open_memstream(out, &len);
	ck_assert_ptr_nonnull(o);
	n = optdoc_render(in, o, vars, err, sizeof err);
	fclose(in);
	fclose(o);
	ck_assert_msg(n >= 0, "%s:%s", path, err);
	return n;
}

/* tlsgw.ini(5) documents every option of the table, each in its own
 * section's list, with its name, syntax, range, default and help. */
START_TEST(test_man_ini_options)
{
	char *page, marker[64], entry[128], *start, *end, *hit;
	size_t i;
	int n;

	n = render_file("tlsgw.ini.5.in", &page);
	ck_assert_int_eq(n, (int)policy_noptions);
	ck_assert_ptr_null(strchr(page, '@'));
	for (i = 0; i < policy_noptions; i++) {
		const struct policy_option *o = &policy_options[i];

		xsnprintf(marker, sizeof marker, "\n.\\\" options of [%s]\n",
		    o->section);
		start = strstr(page, marker);
		ck_assert_msg(start != NULL, "no list for [%s]", o->section);
		start += strlen(marker);
		end = strstr(start, "\n.\\\" options of [");
		xsnprintf(entry, sizeof entry, ".TP\n\\fB%s\\fR = ", o->name);
		hit = strstr(start, entry);
		ck_assert_msg(hit != NULL && (end == NULL || hit < end),
		    "[%s] %s is not in its section's list", o->section, o->name);
		if (o->def != NULL) {
			xsnprintf(entry, sizeof entry, "Default: \\fB");
			ck_assert_ptr_nonnull(strstr(hit, entry));
		}
	}
	ck_assert_ptr_nonnull(strstr(page, "Range: 0 to 3600.\nDefault: "
	    "\\fB10\\fR.\n"));
	ck_assert_ptr_nonnull(strstr(page, ".TH TLSGW.INI 5 \"\" \"tlsgw "
	    "0.0.0\""));
	free(page);
}
END_TEST

START_TEST(test_man_tlsgw8)
{
	char *page;

	ck_assert_int_eq(render_file("tlsgw.8.in", &page), 0);
	ck_assert_ptr_null(strchr(page, '@'));
	ck_assert_ptr_nonnull(strstr(page, "(default 10)"));
	ck_assert_ptr_nonnull(strstr(page, ".I /etc/tlsgw/tlsgw.ini\n"));
	free(page);
}
END_TEST

/* Placeholders: known ones resolve, anything else fails with its line. */
static const struct {
	const char *template;
	int n;                  /* -1: error */
	const char *want;       /* output, or the error */
} optdoc_cases[] = {
	{ "plain text\n", 0, "plain text\n" },
	{ "no newline", 0, "no newline\n" },
	{ "v@VERSION@ d=@DEFAULT gateway.drain_timeout@ @MAX_LINE@ "
	  "@MAX_PASSWORD@\n", 0, "v1.2\\-3 d=10 200 4096\n" },
	{ "@DEFAULT listen.address@\n", -1, "1: unknown placeholder @DEFAULT "
	  "listen.address@" },
	{ "@DEFAULT nosuch.key@\n", -1, "1: unknown placeholder @DEFAULT "
	  "nosuch.key@" },
	{ "ok\n@NOPE@\n", -1, "2: unknown placeholder @NOPE@" },
	{ "a\nb\nmail me@example\n", -1, "3: '@' without its closing '@' "
	  "(write \\(at for a literal one)" },
	{ "@OPTIONS nosuch@\n", -1, "1: no options in section [nosuch]" },
	{ "@OPTIONS mqtt@\n", 5, NULL },
	{ "@OPTIONS mqtt@\n@OPTIONS mqtt@\n", 5, NULL },
	{ "@OPTIONS gateway@\n@OPTIONS listen@\n", 15, NULL },
};

START_TEST(test_optdoc_render)
{
	char *out = NULL, err[256] = "";
	int n;

	n = render_text(optdoc_cases[_i].template, &out, err, sizeof err);
	ck_assert_msg(n == optdoc_cases[_i].n, "%s: %d (%s)",
	    optdoc_cases[_i].template, n, err);
	if (n < 0)
		ck_assert_str_eq(err, optdoc_cases[_i].want);
	else if (optdoc_cases[_i].want != NULL)
		ck_assert_str_eq(out, optdoc_cases[_i].want);
	free(out);
}
END_TEST

static const struct {
	const char *in, *out;
} escapes[] = {
	{ "plain", "plain" },
	{ "x-amzn-mqtt-ca", "x\\-amzn\\-mqtt\\-ca" },
	{ "a\\b", "a\\eb" },
	{ ".dot at start", "\\&.dot at start" },
	{ "'quote at start", "\\&'quote at start" },
	{ "mid.dot and 'quote'", "mid.dot and 'quote'" },
	{ "One.  Two.  .Three", "One.\nTwo.\n\\&.Three" },
	{ "wide  gap", "wide gap" },
	{ "end.  ", "end.\n" },
};

START_TEST(test_optdoc_escape)
{
	char *buf = NULL;
	size_t len;
	FILE *f;

	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	optdoc_escape(f, escapes[_i].in);
	fclose(f);
	ck_assert_str_eq(buf, escapes[_i].out);
	free(buf);
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
	tcase_add_test(tc, test_mqtt_good);
	tcase_add_test(tc, test_mqtt_password_not_kept);
	tcase_add_loop_test(tc, test_client_id, 0, NELEM(client_ids));
	tcase_add_loop_test(tc, test_addresses_ok, 0, NELEM(addr_ok));
	tcase_add_test(tc, test_wipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("sni");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_route_sni, 0, NELEM(sni_routes));
	tcase_add_test(tc, test_sni_stored);
	tcase_add_loop_test(tc, test_sni_match, 0, NELEM(sni_matches));
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_broken, 0, NELEM(broken));
	tcase_add_loop_test(tc, test_broken_pw, 0, NELEM(broken_pw));
	tcase_add_test(tc, test_three_errors);
	tcase_add_test(tc, test_errors_two_files);
	tcase_add_test(tc, test_missing_global);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_warn_key_mode);
	tcase_add_loop_test(tc, test_static_rsa, 0, NELEM(static_rsa_cases));
	tcase_add_loop_test(tc, test_warnings, 0, NELEM(warn_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("der");
	tcase_add_test(tc, test_der_cert);
	tcase_add_test(tc, test_der_truncated);
	tcase_add_loop_test(tc, test_key_matches, 0,
	    sizeof key_pairs / sizeof key_pairs[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("chain signatures");
	tcase_add_loop_test(tc, test_chain_sigalgs, 0, NELEM(sig_files));
	tcase_add_loop_test(tc, test_sigalg_der, 0, NELEM(sig_ders));
	suite_add_tcase(s, tc);

	tc = tcase_create("manual");
	tcase_add_test(tc, test_man_ini_options);
	tcase_add_test(tc, test_man_tlsgw8);
	tcase_add_loop_test(tc, test_optdoc_render, 0, NELEM(optdoc_cases));
	tcase_add_loop_test(tc, test_optdoc_escape, 0, NELEM(escapes));
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
