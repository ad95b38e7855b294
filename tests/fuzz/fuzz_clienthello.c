/*
 * fuzz_clienthello.c: libFuzzer target for the ClientHello parser
 * (gateway/clienthello.c) and what the gateway does with its result:
 * the certificate choice (certsel.c) and the log texts (explain.c).
 * These are the first bytes any device on the LAN controls.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined -Igateway -Ipolicy \
 *       tests/fuzz/fuzz_clienthello.c gateway/clienthello.c \
 *       gateway/certsel.c gateway/explain.c policy/suites.c \
 *       $(pkg-config --cflags --libs wolfssl inih) -o fuzz_clienthello
 *   ./fuzz_clienthello -max_len=20000 tests/fuzz/corpus/clienthello
 *
 * Seeds: the real captures of tests/data/hellos.  Beyond "no crash, no
 * over-read", it checks what the gateway relies on:
 *  - a strict prefix of a complete hello answers NEED_MORE (the daemon
 *    peeks and waits), and the hello's own bytes parse to the same
 *    result without what follows them;
 *  - any prefix answers NEED_MORE or the input's own answer;
 *  - the parsed lists, counts, SNI and MFL are within their bounds;
 *  - explain_offer and explain_refusal write NUL-terminated text into
 *    buffers of any size (exact heap buffers, so ASan sees one byte
 *    too far) and nothing at all into a buffer of size 0; whether a
 *    policy refuses a hello does not depend on the buffer size;
 *  - in the daemon's buffer sizes the refusal keeps its fix text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certsel.h"
#include "clienthello.h"
#include "explain.h"
#include "policy.h"
#include "suites.h"

#include "fuzz_check.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Buffer sizes for the texts: none, one byte, the daemon's (why[700],
 * offer[800] in device.c), more than any text needs, and one more
 * picked by the input (TEXT_ANY: a hash of the input below TEXT_PICK). */
#define TEXT_ANY ((size_t)-1)
#define TEXT_PICK 900
#define TEXT_BIG 4096
#define DAEMON_WHY 700
#define DAEMON_OFFER 800
static const size_t offer_sizes[] = { 0, 1, TEXT_ANY, DAEMON_OFFER, TEXT_BIG };
static const size_t why_sizes[] = { 0, TEXT_ANY, DAEMON_WHY };

/* Policies built by hand, as tests/unit/test_certsel.c does: each suite
 * set, both minimum versions, every combination of certificates, and a
 * name as long as real file names get. */
static const uint16_t explicit_codes[] = { 0xC02F, 0x009C, 0x1301 };

struct fuzz_policy {
	const char *name;
	enum suite_set set;
	uint16_t min_version;
	const char *cert, *cert_ecdsa;
};

static const struct fuzz_policy fuzz_policies[] = {
	{ "hivemq", SUITE_SET_COMPAT, TLSV_TLS12, "rsa.crt", "ec.crt" },
	{ "aws-iot-core-eu-west-1-production", SUITE_SET_MODERN, TLSV_TLS13,
	    NULL, "ec.crt" },
	{ "legacy", SUITE_SET_LEGACY, TLSV_TLS12, "rsa.crt", NULL },
	{ "x", SUITE_SET_EXPLICIT, TLSV_TLS12, NULL, NULL },
	{ "modern-rsa", SUITE_SET_MODERN, TLSV_TLS12, "rsa.crt", "" },
};

static struct policy policies[NELEM(fuzz_policies)];

/* Build the policies once. */
static void
fuzz_make_policies(void)
{
	const uint16_t *codes;
	size_t i, n;

	for (i = 0; i < NELEM(fuzz_policies); i++) {
		const struct fuzz_policy *f = &fuzz_policies[i];
		struct policy *p = &policies[i];

		memset(p, 0, sizeof *p);
		p->name = (char *)f->name;
		p->device.suite_set = f->set;
		p->device.min_version = f->min_version;
		p->device.cert = (char *)f->cert;
		p->device.cert_ecdsa = (char *)f->cert_ecdsa;
		if (f->set == SUITE_SET_EXPLICIT) {
			codes = explicit_codes;
			n = NELEM(explicit_codes);
		} else
			n = suite_set_codes(f->set, &codes);
		CHECK(n > 0 && n <= POLICY_MAX_SUITES);
		memcpy(p->device.suites, codes, n * sizeof *codes);
		p->device.nsuites = n;
	}
}

/* Bounds of a parsed hello. */
static void
check_hello(const struct client_hello *ch, size_t size)
{
	size_t sni;

	CHECK(ch->bytes_used >= 5 + 4 && ch->bytes_used <= size);
	CHECK(ch->message_len <= CH_MAX_MESSAGE);
	CHECK(ch->nversions <= CH_MAX_VERSIONS);
	CHECK(ch->nsuites > 0 && ch->nsuites <= CH_MAX_SUITES);
	CHECK(ch->nsuites <= ch->nsuites_total);
	CHECK(ch->nsuites == ch->nsuites_total ||
	    ch->nsuites == CH_MAX_SUITES);
	CHECK(ch->ngroups <= CH_MAX_GROUPS && ch->ngroups <= ch->ngroups_total);
	CHECK(ch->nsigalgs <= CH_MAX_SIGALGS &&
	    ch->nsigalgs <= ch->nsigalgs_total);
	CHECK(ch->mfl <= 4);
	sni = strnlen(ch->sni, sizeof ch->sni);
	CHECK(sni < sizeof ch->sni);
	CHECK(ch->has_sni == (sni > 0));
}

/* A text written into a buffer of len bytes is NUL-terminated in it. */
static void
check_text(const char *buf, size_t len)
{
	if (len > 0)
		CHECK(memchr(buf, '\0', len) != NULL);
}

/* explain_offer into an exact heap buffer of each size. */
static void
fuzz_offer(const struct client_hello *ch, size_t any)
{
	size_t i, len;
	char *buf;

	for (i = 0; i < NELEM(offer_sizes); i++) {
		len = offer_sizes[i] == TEXT_ANY ? any : offer_sizes[i];
		CHECK((buf = malloc(len)) != NULL || len == 0);
		explain_offer(ch, buf, len);
		check_text(buf, len);
		if (len >= 2)
			CHECK(buf[0] != '\0');
		free(buf);
	}
}

/* explain_refusal against one policy, into each buffer size. */
static void
fuzz_refusal(const struct client_hello *ch, const struct policy *p,
    size_t any)
{
	char *big, *buf;
	size_t i, len, blen, n;
	bool refused, r;

	CHECK((big = malloc(TEXT_BIG)) != NULL);
	refused = explain_refusal(ch, p, big, TEXT_BIG);
	check_text(big, TEXT_BIG);
	blen = strlen(big);
	CHECK(refused == (blen > 0));
	for (i = 0; i < NELEM(why_sizes); i++) {
		len = why_sizes[i] == TEXT_ANY ? any : why_sizes[i];
		CHECK((buf = malloc(len)) != NULL || len == 0);
		r = explain_refusal(ch, p, buf, len);
		CHECK(r == refused);
		check_text(buf, len);
		if (len > 0) {
			n = strlen(buf);
			CHECK(n <= blen && n < len);
			/* Room enough: the whole text. */
			if (blen < len)
				CHECK(strcmp(buf, big) == 0);
			/* The daemon's buffer: lists are cut, not the
			 * fix that ends the text. */
			if (len == DAEMON_WHY && blen >= len)
				CHECK(n >= 40 &&
				    memcmp(buf + n - 40, big + blen - 40,
				    40) == 0);
		}
		free(buf);
	}
	free(big);
}

/* A buffer size below TEXT_PICK from the input (FNV-1a). */
static size_t
fuzz_pick_size(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h % TEXT_PICK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_make_policies();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_hello ch, ch2;
	const struct policy *p;
	enum cert_kind kind;
	bool rsa, ecdsa;
	size_t cuts[3], i, any;
	uint16_t maxv;
	int rc, r;

	rc = clienthello_parse(data, size, &ch);
	CHECK(rc >= CH_HTTP && rc <= CH_NEED_MORE);
	CHECK(clienthello_strerror(rc) != NULL);

	/* Prefixes: half, all but one byte, and one picked by the data. */
	cuts[0] = size / 2;
	cuts[1] = size > 0 ? size - 1 : 0;
	cuts[2] = size > 0 ? data[size - 1] % size : 0;
	for (i = 0; i < NELEM(cuts); i++) {
		r = clienthello_parse(data, cuts[i], &ch2);
		if (rc == CH_OK && cuts[i] >= ch.bytes_used)
			CHECK(r == CH_OK && ch2.bytes_used == ch.bytes_used);
		else
			CHECK(r == CH_NEED_MORE || (r == rc && rc != CH_OK));
	}
	if (rc != CH_OK)
		return 0;

	check_hello(&ch, size);
	/* The hello's own bytes, without what follows, give the same. */
	memset(&ch2, 0xa5, sizeof ch2);
	CHECK(clienthello_parse(data, ch.bytes_used, &ch2) == CH_OK);
	CHECK(memcmp(&ch, &ch2, sizeof ch) == 0);
	CHECK(clienthello_parse(data, ch.bytes_used - 1, &ch2) ==
	    CH_NEED_MORE);

	maxv = clienthello_max_version(&ch);
	(void)tls_version_name(maxv);
	if (maxv >= TLSV_SSL3)
		CHECK(clienthello_offers_version(&ch, maxv));
	(void)clienthello_mfl_bytes(ch.mfl);
	CHECK((ch.mfl == 0) == (clienthello_mfl_bytes(ch.mfl) == 0));

	any = fuzz_pick_size(data, ch.bytes_used);
	fuzz_offer(&ch, any);
	for (i = 0; i < NELEM(policies); i++) {
		p = &policies[i];
		/* As explain.c sees them: "" is no certificate. */
		rsa = p->device.cert != NULL && p->device.cert[0] != '\0';
		ecdsa = p->device.cert_ecdsa != NULL &&
		    p->device.cert_ecdsa[0] != '\0';
		kind = certsel_choose(&ch, p->device.suites, p->device.nsuites,
		    p->device.min_version, rsa, ecdsa);
		CHECK(kind == CERT_NONE || kind == CERT_RSA ||
		    kind == CERT_ECDSA);
		CHECK((kind == CERT_NONE) == (!rsa && !ecdsa));
		CHECK(kind != CERT_RSA || rsa);
		CHECK(kind != CERT_ECDSA || ecdsa);
		CHECK(cert_kind_name(kind) != NULL);
		fuzz_refusal(&ch, p, any);
	}
	return 0;
}
