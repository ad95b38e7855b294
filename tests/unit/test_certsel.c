/*
 * test_certsel.c: which certificate each real device hello gets
 * (certsel), and what the log says when a policy cannot serve it
 * (explain).  Hellos are the real captures of tests/unit/hellos.h;
 * policies are built by hand here, suite codes written out, not loaded.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certsel.h"
#include "clienthello.h"
#include "explain.h"
#include "hellos.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define CODES(...) ((const uint16_t[]){ __VA_ARGS__ }), \
	(sizeof((const uint16_t[]){ __VA_ARGS__ }) / sizeof(uint16_t))
#define HELLO(h) #h, h, sizeof h

/* The predefined sets as DESIGN.md defines them, written out by hand. */
#define SET_TLS13 0x1301, 0x1302, 0x1303
#define SET_MODERN12 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8
#define SET_COMPAT12 SET_MODERN12, \
	0xC023, 0xC027, 0xC009, 0xC013, 0xC00A, 0xC014
#define SET_LEGACY12 SET_COMPAT12, \
	0x009C, 0x009D, 0x002F, 0x0035, 0x003C, 0x003D
#define MODERN CODES(SET_TLS13, SET_MODERN12)
#define COMPAT CODES(SET_TLS13, SET_COMPAT12)
#define LEGACY CODES(SET_TLS13, SET_LEGACY12)
#define COMPAT_NO13 CODES(SET_COMPAT12)

/* Parse a captured hello; it must parse. */
static void
parse_ok(const unsigned char *b, size_t len, struct client_hello *ch)
{
	ck_assert_int_eq(clienthello_parse(b, len, ch), CH_OK);
}

/* ------------------------------------------------------------------ */
/* certsel                                                            */

struct certsel_case {
	const char *name;
	const unsigned char *bytes;
	size_t len;
	const uint16_t *allowed;
	size_t nallowed;
	uint16_t min_version;
	bool rsa, ecdsa;
	enum cert_kind expect;
};

static const struct certsel_case certsel_cases[] = {
	/* Tasmota offers only ECDHE_RSA: RSA, unless RSA is missing. */
	{ HELLO(hello_tasmota_esp8266), COMPAT, TLSV_TLS12, true, true,
	    CERT_RSA },
	{ HELLO(hello_tasmota_esp8266), COMPAT, TLSV_TLS12, false, true,
	    CERT_ECDSA },
	{ HELLO(hello_tasmota_esp8266), COMPAT, TLSV_TLS12, false, false,
	    CERT_NONE },
	{ HELLO(hello_tasmota_esp8266), MODERN, TLSV_TLS13, true, true,
	    CERT_RSA },
	/* esp8266 full list: ECDSA, unless the policy allows no ECDSA
	 * suite it offers. */
	{ HELLO(hello_esp8266_arduino), COMPAT, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_esp8266_arduino), CODES(0xC02F, 0xC030), TLSV_TLS12,
	    true, true, CERT_RSA },
	{ HELLO(hello_esp8266_lesssecure), LEGACY, TLSV_TLS12, true, true,
	    CERT_RSA },
	/* MicroPython 1.20-1.23: ECDHE_ECDSA CBC is in compat, not modern. */
	{ HELLO(hello_micropython_mbedtls), COMPAT, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_micropython_mbedtls), MODERN, TLSV_TLS12, true, true,
	    CERT_RSA },
	{ HELLO(hello_micropython_mbedtls), LEGACY, TLSV_TLS12, true, false,
	    CERT_RSA },
	{ HELLO(hello_micropython_mbedtls), COMPAT, TLSV_TLS12, false, true,
	    CERT_ECDSA },
	{ HELLO(hello_esp_idf_5), COMPAT, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	/* OpenSSL: TLS 1.3 with ecdsa_secp256r1_sha256; without TLS 1.3
	 * suites in the policy, the TLS 1.2 rule (it offers C02C...). */
	{ HELLO(hello_openssl_tls13), COMPAT, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_openssl_tls13), COMPAT_NO13, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_openssl_tls13), MODERN, TLSV_TLS13, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_openssl_tls12), COMPAT, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_openssl_tls10), COMPAT, TLSV_TLS12, true, true,
	    CERT_ECDSA },
	{ HELLO(hello_openssl_static_rsa), LEGACY, TLSV_TLS12, true, true,
	    CERT_RSA },
	{ HELLO(hello_mbed_weak), COMPAT, TLSV_TLS12, true, true, CERT_RSA },
};

/* The certificate a real hello gets under a hand-made policy. */
START_TEST(test_certsel_real)
{
	const struct certsel_case *c = &certsel_cases[_i];
	struct client_hello ch;
	enum cert_kind got;

	parse_ok(c->bytes, c->len, &ch);
	got = certsel_choose(&ch, c->allowed, c->nallowed, c->min_version,
	    c->rsa, c->ecdsa);
	ck_assert_msg(got == c->expect, "%s: got %s, want %s", c->name,
	    cert_kind_name(got), cert_kind_name(c->expect));
}
END_TEST

/* A hello struct with the given lists (for cases no stack sends). */
static void
make_hello(struct client_hello *ch, const uint16_t *vers, size_t nv,
    const uint16_t *suites, size_t ns, const uint16_t *sig, size_t nsig)
{
	memset(ch, 0, sizeof *ch);
	ch->legacy_version = TLSV_TLS12;
	if (nv > 0)
		memcpy(ch->versions, vers, nv * sizeof *vers);
	ch->nversions = nv;
	memcpy(ch->suites, suites, ns * sizeof *suites);
	ch->nsuites = ch->nsuites_total = ns;
	memcpy(ch->sigalgs, sig, nsig * sizeof *sig);
	ch->nsigalgs = ch->nsigalgs_total = nsig;
}

/* TLS 1.3 decides by signature schemes, TLS 1.2 by suites. */
START_TEST(test_certsel_rules)
{
	struct client_hello ch;

	/* TLS 1.3 client with RSA-PSS only: RSA, though it offers C02B. */
	make_hello(&ch, CODES(0x0304, 0x0303), CODES(0x1301, 0xC02B),
	    CODES(0x0804, 0x0805, 0x0806, 0x0401));
	ck_assert_int_eq(certsel_choose(&ch, COMPAT, TLSV_TLS12, true, true),
	    CERT_RSA);
	/* The same client under a policy without TLS 1.3 suites. */
	ck_assert_int_eq(certsel_choose(&ch, COMPAT_NO13, TLSV_TLS12, true,
	    true), CERT_ECDSA);
	/* TLS 1.3 with ecdsa_secp384r1_sha384 only, RSA suites only. */
	make_hello(&ch, CODES(0x0304), CODES(0x1302, 0xC02F),
	    CODES(0x0503));
	ck_assert_int_eq(certsel_choose(&ch, COMPAT, TLSV_TLS12, true, true),
	    CERT_ECDSA);
	/* TLS 1.3 suites but no supported_versions: TLS 1.2 rule. */
	make_hello(&ch, NULL, 0, CODES(0x1301, 0xC02F), CODES(0x0403));
	ck_assert_int_eq(certsel_choose(&ch, COMPAT, TLSV_TLS12, true, true),
	    CERT_RSA);
	/* Only one certificate: always that one. */
	ck_assert_int_eq(certsel_choose(&ch, COMPAT, TLSV_TLS12, false, true),
	    CERT_ECDSA);
	ck_assert_int_eq(certsel_choose(&ch, COMPAT, TLSV_TLS12, true, false),
	    CERT_RSA);
	ck_assert_str_eq(cert_kind_name(CERT_RSA), "rsa");
	ck_assert_str_eq(cert_kind_name(CERT_ECDSA), "ecdsa");
	ck_assert_str_eq(cert_kind_name(CERT_NONE), "none");
}
END_TEST

/* ------------------------------------------------------------------ */
/* explain                                                            */

struct explain_case {
	const char *hello;
	const unsigned char *bytes;
	size_t len;
	const char *policy;
	enum suite_set set;
	const uint16_t *codes;
	size_t ncodes;
	uint16_t min_version;
	bool rsa, ecdsa;
	bool refused;
	const char *must[5];	/* substrings the text must hold */
};

/* A policy built by hand: name, device suites, versions, certificates. */
static void
make_policy(struct policy *p, const struct explain_case *c)
{
	memset(p, 0, sizeof *p);
	p->name = (char *)c->policy;
	p->device.suite_set = c->set;
	memcpy(p->device.suites, c->codes, c->ncodes * sizeof *c->codes);
	p->device.nsuites = c->ncodes;
	p->device.min_version = c->min_version;
	p->device.cert = c->rsa ? (char *)"/etc/tlsgw/pki/gw-rsa.crt" : NULL;
	p->device.key = c->rsa ? (char *)"/etc/tlsgw/pki/gw-rsa.key" : NULL;
	p->device.cert_ecdsa = c->ecdsa ?
	    (char *)"/etc/tlsgw/pki/gw-ec.crt" : NULL;
	p->device.key_ecdsa = c->ecdsa ?
	    (char *)"/etc/tlsgw/pki/gw-ec.key" : NULL;
}

#define T12 TLSV_TLS12
#define T13 TLSV_TLS13

static const struct explain_case explain_cases[] = {
	/* Served. */
	{ HELLO(hello_tasmota_esp8266), "hivemq", SUITE_SET_COMPAT, COMPAT,
	    T12, true, true, false, { NULL } },
	{ HELLO(hello_micropython_mbedtls), "upy", SUITE_SET_COMPAT, COMPAT,
	    T12, false, true, false, { NULL } },
	{ HELLO(hello_micropython_mbedtls), "upy", SUITE_SET_LEGACY, LEGACY,
	    T12, true, false, false, { NULL } },
	{ HELLO(hello_esp8266_lesssecure), "old", SUITE_SET_LEGACY, LEGACY,
	    T12, true, true, false, { NULL } },
	{ HELLO(hello_esp8266_arduino), "esp", SUITE_SET_COMPAT, COMPAT,
	    T12, true, false, false, { NULL } },
	{ HELLO(hello_esp_idf_5), "idf", SUITE_SET_COMPAT, COMPAT, T12,
	    true, true, false, { NULL } },
	{ HELLO(hello_openssl_tls13), "aws", SUITE_SET_MODERN, MODERN, T12,
	    true, true, false, { NULL } },
	{ HELLO(hello_openssl_tls13), "aws", SUITE_SET_MODERN, MODERN, T13,
	    true, false, false, { NULL } },
	{ HELLO(hello_openssl_tls12), "aws", SUITE_SET_MODERN, MODERN, T12,
	    false, true, false, { NULL } },
	{ HELLO(hello_openssl_split), "aws", SUITE_SET_MODERN, MODERN, T13,
	    false, true, false, { NULL } },
	/* Versions. */
	{ HELLO(hello_openssl_tls10), "old", SUITE_SET_COMPAT, COMPAT, T12,
	    true, true, true, { "device offers at most TLS 1.0; tlsgw "
	    "accepts TLS 1.2 and 1.3 only: update the device firmware",
	    "policy 'old'" } },
	{ HELLO(hello_bear_tls10), "old", SUITE_SET_COMPAT, COMPAT, T12,
	    true, true, true, { "at most TLS 1.0", "firmware" } },
	{ HELLO(hello_bear_tls10), "old", SUITE_SET_MODERN, MODERN, T13,
	    true, true, true, { "TLS 1.0", "min_version = 1.3",
	    "firmware" } },
	{ HELLO(hello_tasmota_esp8266), "hivemq", SUITE_SET_COMPAT, COMPAT,
	    T13, true, true, true, { "at most TLS 1.2", "'hivemq'",
	    "min_version = 1.3", "set min_version = 1.2" } },
	/* Static RSA only. */
	{ HELLO(hello_esp8266_lesssecure), "hivemq", SUITE_SET_COMPAT,
	    COMPAT, T12, true, true, true, { "device offered only static-RSA "
	    "suites (TLS_RSA_WITH_AES_256_CBC_SHA256", "refused by "
	    "suites=compat; use suites=legacy in policy 'hivemq' to accept "
	    "it, without forward secrecy on the LAN leg" } },
	{ HELLO(hello_openssl_static_rsa), "x", SUITE_SET_MODERN, MODERN,
	    T12, true, true, true, { "static-RSA", "TLS_RSA_WITH_AES_128_CBC_SHA",
	    "suites=modern", "suites=legacy in policy 'x'" } },
	{ HELLO(hello_openssl_static_rsa), "x", SUITE_SET_EXPLICIT,
	    CODES(0xC02F), T12, true, true, true, { "static-RSA",
	    "suites list of policy 'x'", "suites=legacy" } },
	/* Only suites never allowed. */
	{ HELLO(hello_mbed_weak), "hivemq", SUITE_SET_COMPAT, COMPAT, T12,
	    true, true, true, { "RC4", "3DES", "never allowed", "firmware" } },
	{ HELLO(hello_openssl_null), "hivemq", SUITE_SET_LEGACY, LEGACY, T12,
	    true, true, true, { "NULL", "never allowed" } },
	/* Certificates. */
	{ HELLO(hello_micropython_mbedtls), "upy", SUITE_SET_COMPAT, COMPAT,
	    T12, true, false, true, { "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	    "ECDSA certificate", "policy 'upy'", "cert_ecdsa",
	    "key_ecdsa" } },
	{ HELLO(hello_tasmota_esp8266), "hivemq", SUITE_SET_COMPAT, COMPAT,
	    T12, false, true, true, { "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    "RSA certificate", "policy 'hivemq'", "add cert and key" } },
	{ HELLO(hello_esp8266_lesssecure), "old", SUITE_SET_LEGACY, LEGACY,
	    T12, false, true, true, { "RSA certificate", "'old'" } },
	/* Nothing in common. */
	{ HELLO(hello_micropython_mbedtls), "upy", SUITE_SET_MODERN, MODERN,
	    T12, true, true, true, { "no cipher suite in common",
	    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "suites=modern",
	    "use suites=compat in policy 'upy'" } },
	{ HELLO(hello_tasmota_esp8266), "t13", SUITE_SET_EXPLICIT,
	    CODES(0x1301, 0x1302), T12, true, true, true, {
	    "no cipher suite in common",
	    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    "TLS_AES_128_GCM_SHA256", "policy 't13'" } },
	{ HELLO(hello_tasmota_esp8266), "ec", SUITE_SET_EXPLICIT,
	    CODES(0xC02B), T12, true, true, true, { "device offers "
	    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "allows "
	    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" } },
};

/* Refused or not, and the words that must be there. */
START_TEST(test_explain_refusal)
{
	const struct explain_case *c = &explain_cases[_i];
	struct client_hello ch;
	struct policy p;
	char buf[1024];
	bool refused;
	size_t k;

	parse_ok(c->bytes, c->len, &ch);
	make_policy(&p, c);
	refused = explain_refusal(&ch, &p, buf, sizeof buf);
	ck_assert_msg(refused == c->refused, "%s/%s: refused=%d: %s",
	    c->hello, c->policy, refused, buf);
	for (k = 0; k < NELEM(c->must) && c->must[k] != NULL; k++)
		ck_assert_msg(strstr(buf, c->must[k]) != NULL,
		    "%s/%s: no \"%s\" in \"%s\"", c->hello, c->policy,
		    c->must[k], buf);
}
END_TEST

/* Any size of buffer: NUL-terminated inside it, nothing written past. */
START_TEST(test_explain_tiny)
{
	const struct explain_case *c = &explain_cases[_i];
	struct client_hello ch;
	struct policy p;
	char buf[600 + 16];
	size_t len, k;

	parse_ok(c->bytes, c->len, &ch);
	make_policy(&p, c);
	for (len = 0; len <= 600; len += len < 80 ? 1 : 37) {
		memset(buf, 0xAA, sizeof buf);
		explain_refusal(&ch, &p, buf, len);
		for (k = len; k < sizeof buf; k++)
			ck_assert_msg((unsigned char)buf[k] == 0xAA,
			    "refusal wrote past %zu", len);
		if (len > 0)
			ck_assert_uint_lt(strnlen(buf, len), len);
		memset(buf, 0xAA, sizeof buf);
		explain_offer(&ch, buf, len);
		for (k = len; k < sizeof buf; k++)
			ck_assert_msg((unsigned char)buf[k] == 0xAA,
			    "offer wrote past %zu", len);
		if (len > 0)
			ck_assert_uint_lt(strnlen(buf, len), len);
	}
	explain_offer(&ch, NULL, 0);
	explain_refusal(&ch, &p, NULL, 0);
}
END_TEST

/* A cut list keeps the fix at the end of the line. */
START_TEST(test_explain_cut_keeps_fix)
{
	const struct explain_case *c = &explain_cases[14];
	struct client_hello ch;
	struct policy p;
	char buf[200];

	ck_assert_str_eq(c->hello, "hello_esp8266_lesssecure");
	parse_ok(c->bytes, c->len, &ch);
	make_policy(&p, c);
	ck_assert(explain_refusal(&ch, &p, buf, sizeof buf));
	ck_assert_msg(strstr(buf, " more)") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "without forward secrecy on the LAN leg")
	    != NULL, "%s", buf);
}
END_TEST

struct offer_case {
	const char *hello;
	const unsigned char *bytes;
	size_t len;
	const char *must[6];
	const char *must_not;
};

static const struct offer_case offer_cases[] = {
	{ HELLO(hello_tasmota_esp8266), { "versions up to TLS 1.2",
	    "suites TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;",
	    "groups secp256r1;", "sigalgs rsa_pkcs1_sha256;", "SNI gw.lan",
	    "MFL 1024" }, "more)" },
	{ HELLO(hello_esp8266_arduino), { "TLS_ECDHE_ECDSA_WITH_CHACHA20_"
	    "POLY1305_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	    "(37 more)", "x25519", "MFL 512" }, NULL },
	{ HELLO(hello_esp8266_lesssecure), { "no SNI", "MFL 512" }, NULL },
	{ HELLO(hello_micropython_mbedtls), { "TLS_RSA_WITH_AES_128_CBC_SHA;",
	    "secp192k1", "SNI gw.lan" }, "0x00FF" },
	{ HELLO(hello_openssl_tls13), { "versions TLS 1.3, TLS 1.2, TLS 1.1, "
	    "TLS 1.0", "suites TLS_AES_256_GCM_SHA384", "x25519",
	    "ecdsa_secp256r1_sha256", "more)" }, "MFL" },
	{ HELLO(hello_openssl_tls10), { "versions up to TLS 1.0",
	    "SNI old.lan" }, "sigalgs" },
};

/* The offer line names what the device sent, SCSVs left out. */
START_TEST(test_explain_offer)
{
	const struct offer_case *c = &offer_cases[_i];
	struct client_hello ch;
	char buf[2048];
	size_t k;

	parse_ok(c->bytes, c->len, &ch);
	explain_offer(&ch, buf, sizeof buf);
	for (k = 0; k < NELEM(c->must) && c->must[k] != NULL; k++)
		ck_assert_msg(strstr(buf, c->must[k]) != NULL,
		    "%s: no \"%s\" in \"%s\"", c->hello, c->must[k], buf);
	if (c->must_not != NULL)
		ck_assert_msg(strstr(buf, c->must_not) == NULL,
		    "%s: \"%s\" in \"%s\"", c->hello, c->must_not, buf);
	ck_assert(strstr(buf, "EMPTY_RENEGOTIATION") == NULL);
}
END_TEST

static Suite *
certsel_suite(void)
{
	Suite *s = suite_create("certsel");
	TCase *tc = tcase_create("choose");

	tcase_add_loop_test(tc, test_certsel_real, 0, NELEM(certsel_cases));
	tcase_add_test(tc, test_certsel_rules);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");

	tcase_add_loop_test(tc, test_explain_refusal, 0,
	    NELEM(explain_cases));
	tcase_add_loop_test(tc, test_explain_tiny, 0, NELEM(explain_cases));
	tcase_add_test(tc, test_explain_cut_keeps_fix);
	tcase_add_loop_test(tc, test_explain_offer, 0, NELEM(offer_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(certsel_suite());
	int failed;

	srunner_add_suite(sr, explain_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
