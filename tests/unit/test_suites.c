/*
 * test_suites.c: the suite table, the three sets, and the proof that
 * the wolfSSL we link against sets exactly the suites we name (Debian's
 * defaults, RC4 and NULL included, must never leak into a context).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "suites.h"
#include "tlsctx.h"

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* --- lookup ---------------------------------------------------------- */

static const struct {
	const char *name;
	uint16_t code;          /* 0: must not be found */
} lookups[] = {
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F },
	{ "tls_ecdhe_rsa_with_aes_128_gcm_sha256", 0xC02F },
	{ "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F },
	{ "ecdhe-ecdsa-aes128-gcm-sha256", 0xC02B },
	{ "TLS_AES_128_GCM_SHA256", 0x1301 },
	{ "TLS13-AES128-GCM-SHA256", 0x1301 },
	{ "TLS13-CHACHA20-POLY1305-SHA256", 0x1303 },
	{ "TLS_CHACHA20_POLY1305_SHA256", 0x1303 },
	{ "ECDHE-ECDSA-AES128-CCM8", 0xC0AE },      /* OpenSSL spelling */
	{ "ECDHE-ECDSA-AES128-CCM-8", 0xC0AE },     /* wolfSSL spelling */
	{ "AES128-SHA", 0x002F },
	{ "TLS_RSA_WITH_AES_256_CBC_SHA256", 0x003D },
	{ "RC4-SHA", 0x0005 },
	{ "DES-CBC3-SHA", 0x000A },
	{ "EDH-RSA-DES-CBC3-SHA", 0x0016 },
	{ "ADH-AES128-SHA", 0x0034 },
	{ "EXP-RC4-MD5", 0x0003 },
	{ "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0x00FF },
	{ "TLS_FALLBACK_SCSV", 0x5600 },
	{ "ECDHE-RSA-AES128-GCM", 0 },
	{ "modern", 0 },
	{ "", 0 },
};

START_TEST(test_lookup_name)
{
	const struct suite_info *s = suite_find_name(lookups[_i].name);

	if (lookups[_i].code == 0) {
		ck_assert_msg(s == NULL, "%s found", lookups[_i].name);
		return;
	}
	ck_assert_msg(s != NULL, "%s not found", lookups[_i].name);
	ck_assert_uint_eq(s->code, lookups[_i].code);
	ck_assert_ptr_eq(suite_find(lookups[_i].code), s);
}
END_TEST

START_TEST(test_lookup_code)
{
	char buf[16];

	ck_assert_str_eq(suite_name(0xC02F, buf, sizeof buf),
	    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	ck_assert_str_eq(suite_name(0x0A0A, buf, sizeof buf), "0x0A0A");
	ck_assert_ptr_null(suite_find(0x0A0A));
	ck_assert_ptr_nonnull(suite_find(0x00FF));
	ck_assert(!suite_is_allowable(suite_find(0x00FF)));
	ck_assert(!suite_is_allowable(NULL));
}
END_TEST

/* Every name in the table finds its own entry (no two names collide,
 * not even with '-' and '_' ignored). */
START_TEST(test_table_unique)
{
	const struct suite_info *t;
	size_t n, i, j;

	t = suite_table(&n);
	ck_assert_uint_gt(n, 100);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++)
			ck_assert_msg(t[i].code != t[j].code, "0x%04X twice",
			    t[i].code);
		ck_assert_ptr_eq(suite_find_name(t[i].iana), &t[i]);
		if (t[i].wolfssl != NULL)
			ck_assert_msg(suite_find_name(t[i].wolfssl) == &t[i],
			    "%s", t[i].wolfssl);
		ck_assert(strncmp(t[i].iana, "TLS_", 4) == 0);
		/* allowable exactly when it has no weakness and a name */
		ck_assert_int_eq(suite_is_allowable(&t[i]),
		    t[i].weakness == NULL && t[i].wolfssl != NULL &&
		    t[i].kx != KX_OTHER);
	}
}
END_TEST

/* The suites we must never allow, by family, straight from the brief. */
static const uint16_t never[] = {
	0x0004, 0x0005, 0xC011, 0xC007, 0x0018, 0x008A,          /* RC4 */
	0x000A, 0xC012, 0xC008, 0x0016, 0x0013, 0x001B, 0x008B,  /* 3DES */
	0x0001, 0x0002, 0x003B, 0xC006, 0xC010, 0xC0B4, 0xC0B5,  /* NULL */
	0x0018, 0x001B, 0x0034, 0x003A, 0xC015, 0xC016, 0xC017,  /* anon */
	0xC018, 0xC019, 0x006C, 0x006D, 0x00A6, 0x00A7,
	0x0003, 0x0006, 0x0008, 0x000B, 0x000E, 0x0011, 0x0014,  /* export */
	0x0017, 0x0019,
	0x0009, 0x0015, 0x0012,                                  /* DES */
	0x0033, 0x0039, 0x0067, 0x006B, 0x009E, 0x009F, 0xCCAA,  /* DHE */
	0xC004, 0xC005, 0xC00E, 0xC00F, 0xC02D, 0xC031,          /* ECDH */
	0x008C, 0x00A8, 0xCCAB, 0xC037, 0xD001, 0x00AA,          /* PSK */
	0x0041, 0x0084, 0xC072, 0xC076, 0x0096, 0xC050, 0xC060,  /* other */
	0x00FF, 0x5600,                                          /* SCSV */
};

START_TEST(test_never_allowed)
{
	const struct suite_info *s = suite_find(never[_i]);

	ck_assert_msg(s != NULL, "0x%04X unknown", never[_i]);
	ck_assert_msg(s->weakness != NULL, "0x%04X has no weakness",
	    never[_i]);
	ck_assert(!suite_is_allowable(s));
}
END_TEST

/* --- sets ------------------------------------------------------------ */

static const enum suite_set sets[] = {
	SUITE_SET_MODERN, SUITE_SET_COMPAT, SUITE_SET_LEGACY
};

/* DEPS.md: the 15 suites measured safe on Debian's wolfSSL. */
static const uint16_t deps15[] = {
	0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC023, 0xC027,
	0xC009, 0xC013, 0xC00A, 0xC014, 0x1301, 0x1302, 0x1303,
};

static const uint16_t static_rsa[] = {
	0x002F, 0x0035, 0x003C, 0x003D, 0x009C, 0x009D
};

static bool
contains(const uint16_t *codes, size_t n, uint16_t code)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (codes[i] == code)
			return true;
	}
	return false;
}

START_TEST(test_set_safe)
{
	const uint16_t *codes;
	size_t n, i, nrsa = 0;

	n = suite_set_codes(sets[_i], &codes);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(n, 64);
	ck_assert_uint_eq(codes[0], 0x1301);    /* best first */
	for (i = 0; i < n; i++) {
		const struct suite_info *s = suite_find(codes[i]);

		ck_assert_msg(s != NULL, "0x%04X unknown", codes[i]);
		ck_assert_msg(s->weakness == NULL, "%s: %s", s->iana,
		    s->weakness);
		ck_assert_msg(suite_is_allowable(s), "%s", s->iana);
		ck_assert(!contains(codes, i, codes[i]));   /* no duplicate */
		nrsa += s->kx == KX_RSA;
	}
	if (sets[_i] == SUITE_SET_LEGACY) {
		ck_assert_uint_eq(nrsa, NELEM(static_rsa));
		for (i = 0; i < NELEM(static_rsa); i++)
			ck_assert(contains(codes, n, static_rsa[i]));
	} else
		ck_assert_uint_eq(nrsa, 0);
}
END_TEST

/* modern is a prefix of compat, compat a prefix of legacy; compat is
 * DEPS.md's 15; all of them name the set by name. */
START_TEST(test_set_nesting)
{
	const uint16_t *m, *c, *l;
	size_t nm, nc, nl, i;
	enum suite_set set;

	nm = suite_set_codes(SUITE_SET_MODERN, &m);
	nc = suite_set_codes(SUITE_SET_COMPAT, &c);
	nl = suite_set_codes(SUITE_SET_LEGACY, &l);
	ck_assert_uint_lt(nm, nc);
	ck_assert_uint_lt(nc, nl);
	ck_assert_mem_eq(m, c, nm * sizeof *m);
	ck_assert_mem_eq(c, l, nc * sizeof *c);
	ck_assert_uint_eq(nc, NELEM(deps15));
	for (i = 0; i < NELEM(deps15); i++)
		ck_assert(contains(c, nc, deps15[i]));
	ck_assert(contains(m, nm, 0xCCA9) && contains(m, nm, 0xCCA8));
	ck_assert(!contains(m, nm, 0xC009));
	ck_assert_uint_eq(suite_set_codes(SUITE_SET_EXPLICIT, &m), 0);
	ck_assert(suite_set_from_name("Legacy", &set));
	ck_assert_int_eq(set, SUITE_SET_LEGACY);
	ck_assert(!suite_set_from_name("explicit", &set));
	ck_assert_str_eq(suite_set_name(SUITE_SET_COMPAT), "compat");
}
END_TEST

/* --- against the wolfSSL we link ------------------------------------- */

static WOLFSSL_CTX *
server_ctx(void)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());

	ck_assert_ptr_nonnull(ctx);
	return ctx;
}

/* Each set, minus what this build lacks (static RSA on Debian), is set
 * and read back exactly; what it lacks is refused, never dropped. */
START_TEST(test_set_wolfssl)
{
	uint16_t have[64], got[128];
	const uint16_t *codes;
	size_t n, nhave = 0, i;
	WOLFSSL_CTX *ctx;
	char err[256];
	int ngot;

	n = suite_set_codes(sets[_i], &codes);
	for (i = 0; i < n; i++) {
		if (tlsctx_suite_supported(codes[i]))
			have[nhave++] = codes[i];
		else
			ck_assert_msg(suite_find(codes[i])->kx == KX_RSA,
			    "this wolfSSL lacks 0x%04X", codes[i]);
	}
	ctx = server_ctx();
	ck_assert_msg(tlsctx_set_ciphers(ctx, have, nhave, err,
	    sizeof err) == 0, "%s", err);
	ngot = tlsctx_read_ciphers(ctx, got, NELEM(got));
	if (ngot >= 0) {
		ck_assert_int_eq(ngot, (int)nhave);
		ck_assert_mem_eq(got, have, nhave * sizeof *have);
	}
	wolfSSL_CTX_free(ctx);

	ctx = server_ctx();
	if (nhave < n) {
		ck_assert_int_eq(tlsctx_set_ciphers(ctx, codes, n, err,
		    sizeof err), -1);
		ck_assert_msg(strstr(err, "does not offer TLS_RSA_") != NULL,
		    "%s", err);
	} else
		ck_assert_int_eq(tlsctx_set_ciphers(ctx, codes, n, err,
		    sizeof err), 0);
	wolfSSL_CTX_free(ctx);
}
END_TEST

/* Every allowable suite this build knows maps to the right code when set
 * alone: the wolfssl column holds names wolfSSL really takes. */
START_TEST(test_every_name)
{
	const struct suite_info *t;
	size_t n, i, tried = 0;
	uint16_t got[8];
	char err[256];
	int ngot;

	t = suite_table(&n);
	for (i = 0; i < n; i++) {
		WOLFSSL_CTX *ctx;

		if (!suite_is_allowable(&t[i]) ||
		    !tlsctx_suite_supported(t[i].code))
			continue;
		ctx = server_ctx();
		ck_assert_int_eq(wolfSSL_CTX_set_cipher_list(ctx, t[i].wolfssl),
		    WOLFSSL_SUCCESS);
		ngot = tlsctx_read_ciphers(ctx, got, NELEM(got));
		if (ngot >= 0) {
			ck_assert_msg(ngot == 1 && got[0] == t[i].code,
			    "%s read back as %d suites, 0x%04X", t[i].wolfssl,
			    ngot, got[0]);
		}
		ck_assert_msg(tlsctx_check_ciphers(ctx, &t[i].code, 1, err,
		    sizeof err) == 0, "%s", err);
		wolfSSL_CTX_free(ctx);
		tried++;
	}
	ck_assert_uint_ge(tried, 15);
}
END_TEST

/* wolfSSL's own default list (what we must never run with) has weak
 * suites on Debian: the read-back check must catch them. */
START_TEST(test_defaults_caught)
{
	const uint16_t *codes;
	WOLFSSL_CTX *ctx;
	char err[256];
	size_t n;

	n = suite_set_codes(SUITE_SET_COMPAT, &codes);
	ctx = server_ctx();     /* no list set: wolfSSL defaults */
	if (tlsctx_read_ciphers(ctx, NULL, 0) >= 0) {
		ck_assert_int_eq(tlsctx_check_ciphers(ctx, codes, n, err,
		    sizeof err), -1);
		ck_assert_msg(strstr(err, "wolfSSL would also offer") != NULL,
		    "%s", err);
	}
	/* an empty list would keep the defaults: refused */
	ck_assert_int_eq(tlsctx_set_ciphers(ctx, codes, 0, err, sizeof err),
	    -1);
	ck_assert_msg(strstr(err, "empty") != NULL, "%s", err);
	wolfSSL_CTX_free(ctx);
}
END_TEST

/* A weak suite is refused before wolfSSL sees it. */
START_TEST(test_weak_refused)
{
	uint16_t codes[2] = { 0xC02F, never[_i] };
	WOLFSSL_CTX *ctx = server_ctx();
	char err[256];

	ck_assert_int_eq(tlsctx_set_ciphers(ctx, codes, 2, err, sizeof err),
	    -1);
	ck_assert_msg(strstr(err, "is not allowed") != NULL, "%s", err);
	wolfSSL_CTX_free(ctx);
}
END_TEST

/* A list that differs from what was set is reported. */
START_TEST(test_check_differences)
{
	uint16_t want[] = { 0x1301, 0xC02F }, other[] = { 0xC02F, 0x1301 };
	uint16_t more[] = { 0x1301, 0xC02F, 0xC030 };
	WOLFSSL_CTX *ctx = server_ctx();
	char err[256];

	ck_assert_int_eq(tlsctx_set_ciphers(ctx, want, 2, err, sizeof err), 0);
	if (tlsctx_read_ciphers(ctx, NULL, 0) >= 0) {
		ck_assert_int_eq(tlsctx_check_ciphers(ctx, other, 2, err,
		    sizeof err), -1);
		ck_assert_str_eq(err, "wolfSSL changed the order of the cipher "
		    "list");
		ck_assert_int_eq(tlsctx_check_ciphers(ctx, more, 3, err,
		    sizeof err), -1);
		ck_assert_str_eq(err, "wolfSSL does not offer "
		    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
		ck_assert_int_eq(tlsctx_check_ciphers(ctx, want, 1, err,
		    sizeof err), -1);
		ck_assert_str_eq(err, "wolfSSL would also offer "
		    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	}
	wolfSSL_CTX_free(ctx);
}
END_TEST

/* The upstream lists: TLS 1.3 only by default, plus ECDHE AEAD for 1.2,
 * never static RSA; accepted as is by a client context. */
START_TEST(test_upstream_suites)
{
	static const uint16_t versions[] = { TLSV_TLS13, TLSV_TLS12 };
	const uint16_t *codes;
	WOLFSSL_CTX *ctx;
	char err[256];
	size_t n, i;

	n = tlsctx_upstream_suites(versions[_i], &codes);
	ck_assert_uint_eq(n, versions[_i] == TLSV_TLS13 ? 3 : 9);
	for (i = 0; i < n; i++) {
		const struct suite_info *s = suite_find(codes[i]);

		ck_assert(suite_is_allowable(s));
		ck_assert(s->kx == KX_TLS13 || s->kx == KX_ECDHE_ECDSA ||
		    s->kx == KX_ECDHE_RSA);
	}
	ctx = wolfSSL_CTX_new(versions[_i] == TLSV_TLS13 ?
	    wolfTLSv1_3_client_method() : wolfSSLv23_client_method());
	ck_assert_msg(tlsctx_set_ciphers(ctx, codes, n, err, sizeof err) == 0,
	    "%s", err);
	wolfSSL_CTX_free(ctx);
}
END_TEST

static Suite *
suites_suite(void)
{
	Suite *s = suite_create("suites");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_lookup_name, 0, NELEM(lookups));
	tcase_add_test(tc, test_lookup_code);
	tcase_add_test(tc, test_table_unique);
	tcase_add_loop_test(tc, test_never_allowed, 0, NELEM(never));
	suite_add_tcase(s, tc);

	tc = tcase_create("sets");
	tcase_add_loop_test(tc, test_set_safe, 0, NELEM(sets));
	tcase_add_test(tc, test_set_nesting);
	suite_add_tcase(s, tc);

	tc = tcase_create("wolfssl");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_set_wolfssl, 0, NELEM(sets));
	tcase_add_test(tc, test_every_name);
	tcase_add_test(tc, test_defaults_caught);
	tcase_add_loop_test(tc, test_weak_refused, 0, NELEM(never));
	tcase_add_test(tc, test_check_differences);
	tcase_add_loop_test(tc, test_upstream_suites, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	wolfSSL_Init();
	sr = srunner_create(suites_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	wolfSSL_Cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
