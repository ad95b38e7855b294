/*
 * test_clienthello.c: the ClientHello parser against real first flights
 * (tests/unit/hellos.h, captured from OpenSSL, BearSSL and mbedTLS set
 * up like the DEVICES.md profiles), their prefixes, re-framings over
 * several records and targeted corruptions, plus hand-built hellos for
 * every malformation the parser must refuse.  Every parse runs over an
 * exactly-sized heap copy, so that AddressSanitizer sees any over-read.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clienthello.h"
#include "hellos.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A list of 16-bit codes and its length, for table initialisers. */
#define U16(...) ((const uint16_t[]){ __VA_ARGS__ }), \
	(sizeof((const uint16_t[]){ __VA_ARGS__ }) / sizeof(uint16_t))
#define NOLIST NULL, 0
/* A byte-string literal (may hold NULs) and its length. */
#define RAW(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* Parse a heap copy of exactly len bytes (ASan catches over-reads). */
static int
parse_copy(const uint8_t *buf, size_t len, struct client_hello *ch)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	rc = clienthello_parse(copy, len, ch);
	free(copy);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Real hellos and what their configuration makes them say.          */

/*
 * Expected values come from how each client was configured
 * (tests/data/capture_bear.c, capture_mbed.c, the openssl command lines
 * in capture-hellos.sh) and from what each stack is documented to add:
 * OpenSSL's lists are `openssl ciphers -s -V <string>` plus the
 * renegotiation SCSV 0x00FF, its default groups and signature schemes;
 * BearSSL sends renegotiation_info, curves in id order, ECDSA then RSA
 * signature schemes with hashes ordered SHA-256, 224, 384, 512, 1, and
 * the record version of its minimum version; mbedTLS 2.28 appends the
 * SCSV and interleaves (hash, ECDSA), (hash, RSA) per configured hash.
 */
struct hello_expect {
	const char *name;
	const unsigned char *bytes;
	size_t len;
	size_t nrecords;
	uint16_t record_version, legacy_version, max_version;
	const uint16_t *versions;
	size_t nversions;
	const uint16_t *suites;
	size_t nsuites;
	const uint16_t *groups;
	size_t ngroups;
	const uint16_t *sigalgs;
	size_t nsigalgs;
	const char *sni;		/* NULL: no SNI */
	uint8_t mfl;
	bool alpn, ticket, reneg;
};

/* OpenSSL 3.0 DEFAULT TLS 1.2 suites (openssl ciphers -s -tls1_2 -V). */
#define OSSL_TLS12_SUITES \
	0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA, 0xC02B, 0xC02F, \
	0x009E, 0xC024, 0xC028, 0x006B, 0xC023, 0xC027, 0x0067, 0xC00A, \
	0xC014, 0x0039, 0xC009, 0xC013, 0x0033, 0x009D, 0x009C, 0x003D, \
	0x003C, 0x0035, 0x002F
/* OpenSSL 3.0 default signature schemes at security level 1 and 0. */
#define OSSL_SIGALGS_L1 \
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, \
	0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, \
	0x0302, 0x0402, 0x0502, 0x0602
#define OSSL_SIGALGS_L0 \
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, \
	0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0203, \
	0x0301, 0x0201, 0x0302, 0x0202, 0x0402, 0x0502, 0x0602
#define OSSL_GROUPS12 0x001d, 0x0017, 0x001e, 0x0019, 0x0018
#define OSSL_GROUPS13 OSSL_GROUPS12, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104
/* esp8266/Arduino suites_P = BearSSL "full" profile, 45 suites. */
#define BEAR_FULL_SUITES \
	0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xC0AC, 0xC0AD, \
	0xC0AE, 0xC0AF, 0xC023, 0xC027, 0xC024, 0xC028, 0xC009, 0xC013, \
	0xC00A, 0xC014, 0xC02D, 0xC031, 0xC02E, 0xC032, 0xC025, 0xC029, \
	0xC026, 0xC02A, 0xC004, 0xC00E, 0xC005, 0xC00F, 0x009C, 0x009D, \
	0xC09C, 0xC09D, 0xC0A0, 0xC0A1, 0x003C, 0x003D, 0x002F, 0x0035, \
	0xC008, 0xC012, 0xC003, 0xC00D, 0x000A
/* BearSSL br_ec_all_*: P-256, P-384, P-521, Curve25519 in id order. */
#define BEAR_ALL_CURVES 0x0017, 0x0018, 0x0019, 0x001d
/* BearSSL with every hash, ECDSA and RSA verifiers. */
#define BEAR_ALL_SIGALGS \
	0x0403, 0x0303, 0x0503, 0x0603, 0x0203, \
	0x0401, 0x0301, 0x0501, 0x0601, 0x0201

static const struct hello_expect real_hellos[] = {
	{ "tasmota-esp8266", hello_tasmota_esp8266,
	    sizeof hello_tasmota_esp8266, 1, 0x0303, 0x0303, 0x0303,
	    NOLIST, U16(0xC02F), U16(0x0017), U16(0x0401),
	    "gw.lan", 2, false, false, true },
	{ "esp8266-arduino", hello_esp8266_arduino,
	    sizeof hello_esp8266_arduino, 1, 0x0301, 0x0303, 0x0303,
	    NOLIST, U16(BEAR_FULL_SUITES), U16(BEAR_ALL_CURVES),
	    U16(BEAR_ALL_SIGALGS), "gw.lan", 1, false, false, true },
	{ "esp8266-lesssecure", hello_esp8266_lesssecure,
	    sizeof hello_esp8266_lesssecure, 1, 0x0301, 0x0303, 0x0303,
	    NOLIST, U16(0x003D, 0x003C, 0x0035, 0x002F), U16(BEAR_ALL_CURVES),
	    U16(BEAR_ALL_SIGALGS), NULL, 1, false, false, true },
	{ "bear-tls10", hello_bear_tls10, sizeof hello_bear_tls10, 1,
	    0x0301, 0x0301, 0x0301, NOLIST, U16(BEAR_FULL_SUITES),
	    U16(BEAR_ALL_CURVES), U16(BEAR_ALL_SIGALGS), "old.lan", 0,
	    false, false, true },
	{ "micropython-mbedtls", hello_micropython_mbedtls,
	    sizeof hello_micropython_mbedtls, 1, 0x0303, 0x0303, 0x0303,
	    NOLIST, U16(0xC024, 0xC00A, 0xC023, 0xC009, 0x003D, 0x0035,
	    0x003C, 0x002F, 0x00FF),
	    U16(0x0019, 0x0018, 0x0017, 0x0016, 0x0015, 0x0014, 0x0013,
	    0x0012),
	    U16(0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303,
	    0x0301, 0x0203, 0x0201),
	    "gw.lan", 0, false, false, true },
	{ "esp-idf-5", hello_esp_idf_5, sizeof hello_esp_idf_5, 1,
	    0x0303, 0x0303, 0x0303, NOLIST,
	    U16(0xC02C, 0xC02B, 0xCCA9, 0xC0AD, 0xC0AC, 0xC024, 0xC023,
	    0xC00A, 0xC009, 0xC030, 0xC02F, 0xCCA8, 0xC028, 0xC027, 0xC014,
	    0xC013, 0x009D, 0x009C, 0xC09D, 0xC09C, 0xC0A1, 0xC0A0, 0x003D,
	    0x003C, 0x0035, 0x002F, 0xC032, 0xC031, 0xC02E, 0xC02D, 0xC02A,
	    0xC029, 0xC026, 0xC025, 0xC00F, 0xC00E, 0xC005, 0xC004, 0x00FF),
	    U16(0x001d, 0x0017, 0x0018, 0x0019, 0x001a, 0x001b, 0x001c),
	    U16(0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401),
	    "broker.gw.lan", 0, true, true, true },
	{ "mbed-weak", hello_mbed_weak, sizeof hello_mbed_weak, 1,
	    0x0303, 0x0303, 0x0303, NOLIST,
	    U16(0x0005, 0x000A, 0xC011, 0xC012, 0x00FF), U16(0x0017),
	    U16(0x0403, 0x0401), "gw.lan", 0, false, false, true },
	{ "openssl-tls13", hello_openssl_tls13, sizeof hello_openssl_tls13,
	    1, 0x0301, 0x0303, 0x0304, U16(0x0304, 0x0303, 0x0302, 0x0301),
	    U16(0x1302, 0x1303, 0x1301, OSSL_TLS12_SUITES, 0x00FF),
	    U16(OSSL_GROUPS13), U16(OSSL_SIGALGS_L1), "gw.lan", 0, false,
	    true, true },
	{ "openssl-tls12", hello_openssl_tls12, sizeof hello_openssl_tls12,
	    1, 0x0301, 0x0303, 0x0303, NOLIST,
	    U16(OSSL_TLS12_SUITES, 0x00FF), U16(OSSL_GROUPS12),
	    U16(OSSL_SIGALGS_L1), "gw.lan", 0, false, true, true },
	{ "openssl-tls10", hello_openssl_tls10, sizeof hello_openssl_tls10,
	    1, 0x0301, 0x0301, 0x0301, NOLIST,
	    U16(0xC00A, 0xC014, 0x0039, 0xC009, 0xC013, 0x0033, 0x0035,
	    0x002F, 0x00FF),
	    U16(OSSL_GROUPS12), NOLIST, "old.lan", 0, false, true, true },
	{ "openssl-static-rsa", hello_openssl_static_rsa,
	    sizeof hello_openssl_static_rsa, 1, 0x0301, 0x0303, 0x0303,
	    NOLIST, U16(0x002F, 0x003C, 0x0035, 0x003D, 0x00FF), NOLIST,
	    U16(OSSL_SIGALGS_L1), NULL, 0, false, true, true },
	{ "openssl-null", hello_openssl_null, sizeof hello_openssl_null, 1,
	    0x0301, 0x0303, 0x0303, NOLIST, U16(0x0002, 0x003B, 0x00FF),
	    NOLIST, U16(OSSL_SIGALGS_L0), "gw.lan", 0, false, true, true },
	{ "openssl-split", hello_openssl_split, sizeof hello_openssl_split,
	    2, 0x0301, 0x0303, 0x0304, U16(0x0304, 0x0303, 0x0302, 0x0301),
	    /* openssl ciphers -s -V 'ALL:@SECLEVEL=0', then the SCSV */
	    U16(0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x00A3, 0x009F,
	    0xCCA9, 0xCCA8, 0xCCAA, 0xC0AF, 0xC0AD, 0xC0A3, 0xC09F, 0xC05D,
	    0xC061, 0xC057, 0xC053, 0x00A7, 0xC02B, 0xC02F, 0x00A2, 0x009E,
	    0xC0AE, 0xC0AC, 0xC0A2, 0xC09E, 0xC05C, 0xC060, 0xC056, 0xC052,
	    0x00A6, 0xC024, 0xC028, 0x006B, 0x006A, 0xC073, 0xC077, 0x00C4,
	    0x00C3, 0x006D, 0x00C5, 0xC023, 0xC027, 0x0067, 0x0040, 0xC072,
	    0xC076, 0x00BE, 0x00BD, 0x006C, 0x00BF, 0xC00A, 0xC014, 0x0039,
	    0x0038, 0x0088, 0x0087, 0xC019, 0x003A, 0x0089, 0xC009, 0xC013,
	    0x0033, 0x0032, 0x0045, 0x0044, 0xC018, 0x0034, 0x0046, 0x009D,
	    0xC0A1, 0xC09D, 0xC051, 0x009C, 0xC0A0, 0xC09C, 0xC050, 0x003D,
	    0x00C0, 0x003C, 0x00BA, 0x0035, 0x0084, 0x002F, 0x0041, 0x00FF),
	    U16(OSSL_GROUPS13), U16(OSSL_SIGALGS_L0), "split.gw.lan", 0,
	    true, true, true },
};

/* Compare a list the parser kept with the expected one. */
static void
check_list(const char *what, const char *name, const uint16_t *got,
    size_t ngot, size_t total, const uint16_t *want, size_t nwant,
    size_t cap)
{
	size_t i;

	ck_assert_msg(total == nwant, "%s: %s total %zu, want %zu", name,
	    what, total, nwant);
	ck_assert_uint_eq(ngot, nwant < cap ? nwant : cap);
	for (i = 0; i < ngot; i++)
		ck_assert_msg(got[i] == want[i], "%s: %s[%zu] = 0x%04x, want "
		    "0x%04x", name, what, i, got[i], want[i]);
}

/* Every field of a real hello, as its configuration says. */
START_TEST(test_real_hello)
{
	const struct hello_expect *e = &real_hellos[_i];
	struct client_hello ch;
	size_t i;

	ck_assert_int_eq(parse_copy(e->bytes, e->len, &ch), CH_OK);
	ck_assert_uint_eq(ch.bytes_used, e->len);
	ck_assert_uint_eq(ch.message_len, e->len - 5 * e->nrecords - 4);
	ck_assert_uint_eq(ch.record_version, e->record_version);
	ck_assert_uint_eq(ch.legacy_version, e->legacy_version);
	ck_assert_uint_eq(clienthello_max_version(&ch), e->max_version);
	ck_assert_uint_eq(ch.nversions, e->nversions);
	for (i = 0; i < e->nversions; i++)
		ck_assert_uint_eq(ch.versions[i], e->versions[i]);
	check_list("suites", e->name, ch.suites, ch.nsuites,
	    ch.nsuites_total, e->suites, e->nsuites, CH_MAX_SUITES);
	check_list("groups", e->name, ch.groups, ch.ngroups,
	    ch.ngroups_total, e->groups, e->ngroups, CH_MAX_GROUPS);
	check_list("sigalgs", e->name, ch.sigalgs, ch.nsigalgs,
	    ch.nsigalgs_total, e->sigalgs, e->nsigalgs, CH_MAX_SIGALGS);
	ck_assert(ch.has_sni == (e->sni != NULL));
	ck_assert_str_eq(ch.sni, e->sni != NULL ? e->sni : "");
	ck_assert_uint_eq(ch.mfl, e->mfl);
	ck_assert(ch.has_alpn == e->alpn);
	ck_assert(ch.has_session_ticket == e->ticket);
	ck_assert(ch.has_renegotiation_info == e->reneg);
	ck_assert(clienthello_offers_version(&ch, e->max_version));
	ck_assert(!clienthello_offers_version(&ch, e->max_version + 1));
}
END_TEST

/* Every strict prefix of a real hello is a valid prefix. */
START_TEST(test_real_prefixes)
{
	const struct hello_expect *e = &real_hellos[_i];
	struct client_hello ch;
	size_t n;

	for (n = 0; n < e->len; n++)
		ck_assert_msg(parse_copy(e->bytes, n, &ch) == CH_NEED_MORE,
		    "%s: prefix %zu", e->name, n);
}
END_TEST

/* Concatenate the handshake payload of a hello's records. */
static size_t
payload_of(const uint8_t *rec, size_t len, uint8_t *out)
{
	size_t off = 0, n = 0, rl;

	while (off + 5 <= len) {
		rl = ((size_t)rec[off + 3] << 8) | rec[off + 4];
		memcpy(out + n, rec + off + 5, rl);
		n += rl;
		off += 5 + rl;
	}
	return n;
}

/* Frame payload into records cut at the given offsets. */
static size_t
reframe(const uint8_t *hdr, const uint8_t *pl, size_t n, const size_t *cuts,
    size_t ncuts, uint8_t *out)
{
	size_t i, from = 0, to, len = 0;

	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : n;
		out[len] = 0x16;
		out[len + 1] = hdr[1];
		out[len + 2] = hdr[2];
		out[len + 3] = (uint8_t)((to - from) >> 8);
		out[len + 4] = (uint8_t)(to - from);
		memcpy(out + len + 5, pl + from, to - from);
		len += 5 + (to - from);
		from = to;
	}
	return len;
}

/* The fields a re-framing must not change. */
static void
check_same_hello(const char *name, const struct client_hello *a,
    const struct client_hello *b)
{
	ck_assert_msg(a->message_len == b->message_len, "%s", name);
	ck_assert_msg(a->legacy_version == b->legacy_version, "%s", name);
	ck_assert_msg(a->nsuites_total == b->nsuites_total, "%s", name);
	ck_assert_msg(memcmp(a->suites, b->suites, sizeof a->suites) == 0,
	    "%s", name);
	ck_assert_msg(a->ngroups_total == b->ngroups_total, "%s", name);
	ck_assert_msg(a->nsigalgs_total == b->nsigalgs_total, "%s", name);
	ck_assert_msg(a->nversions == b->nversions, "%s", name);
	ck_assert_msg(strcmp(a->sni, b->sni) == 0, "%s", name);
	ck_assert_msg(a->mfl == b->mfl, "%s", name);
	ck_assert_msg(a->has_alpn == b->has_alpn, "%s", name);
}

/* A real hello split over 2 and 3 records parses the same; prefixes of
 * the split forms still ask for more. */
START_TEST(test_real_split)
{
	const struct hello_expect *e = &real_hellos[_i];
	static uint8_t pl[CH_MAX_MESSAGE + 4], out[CH_MAX_MESSAGE + 64];
	struct client_hello orig, ch;
	size_t n, len, k, p;

	ck_assert_int_eq(parse_copy(e->bytes, e->len, &orig), CH_OK);
	n = payload_of(e->bytes, e->len, pl);
	{
		/* Cut inside the handshake header, after it, mid-body, at
		 * the end; pairs of cuts for three records. */
		const size_t two[][1] = { { 1 }, { 2 }, { 3 }, { 4 },
		    { 5 }, { n / 2 }, { n - 1 } };
		const size_t three[][2] = { { 1, 2 }, { 2, n / 2 },
		    { 4, n - 1 }, { n / 3, 2 * n / 3 }, { 3, 4 } };

		for (k = 0; k < NELEM(two); k++) {
			len = reframe(e->bytes, pl, n, two[k], 1, out);
			ck_assert_msg(parse_copy(out, len, &ch) == CH_OK,
			    "%s: 2 records cut at %zu", e->name, two[k][0]);
			check_same_hello(e->name, &orig, &ch);
			ck_assert_uint_eq(ch.bytes_used, len);
			for (p = 0; p < len; p++)
				ck_assert_msg(parse_copy(out, p, &ch) ==
				    CH_NEED_MORE, "%s: split prefix %zu",
				    e->name, p);
		}
		for (k = 0; k < NELEM(three); k++) {
			len = reframe(e->bytes, pl, n, three[k], 2, out);
			ck_assert_msg(parse_copy(out, len, &ch) == CH_OK,
			    "%s: 3 records", e->name);
			check_same_hello(e->name, &orig, &ch);
			ck_assert_uint_eq(ch.bytes_used, len);
		}
	}
	/* One record again, whatever the original framing was. */
	len = reframe(e->bytes, pl, n, NULL, 0, out);
	ck_assert_int_eq(parse_copy(out, len, &ch), CH_OK);
	check_same_hello(e->name, &orig, &ch);
}
END_TEST

/* Offsets of a one-record hello's fields, found by walking it here. */
struct hello_offsets {
	size_t suites_len;	/* the cipher_suites length field */
	size_t ext_len;		/* the extensions block length field */
	size_t first_ext_len;	/* the first extension's length field */
};

/* Walk a one-record hello (test-side, trusting the bytes). */
static void
find_offsets(const uint8_t *b, struct hello_offsets *o)
{
	size_t off = 5 + 4 + 2 + 32;

	off += 1 + b[off];			/* session id */
	o->suites_len = off;
	off += 2 + (((size_t)b[off] << 8) | b[off + 1]);
	off += 1 + b[off];			/* compression */
	o->ext_len = off;
	o->first_ext_len = off + 4;
}

/* Read-modify-write a big-endian 16-bit field. */
static void
add16(uint8_t *p, int delta)
{
	unsigned v = ((unsigned)p[0] << 8 | p[1]) + (unsigned)delta;

	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Corrupt lengths inside real hellos: each one must be MALFORMED. */
START_TEST(test_real_corrupt)
{
	const struct hello_expect *e = &real_hellos[_i];
	static uint8_t b[4096];
	struct hello_offsets o;
	struct client_hello ch;
	const int deltas[] = { -1, 1, 2 };
	size_t k;

	if (e->nrecords != 1)
		return;			/* offsets below assume one record */
	ck_assert_uint_le(e->len, sizeof b);
	find_offsets(e->bytes, &o);
	for (k = 0; k < NELEM(deltas); k++) {
		memcpy(b, e->bytes, e->len);
		add16(b + o.ext_len, deltas[k]);
		ck_assert_msg(parse_copy(b, e->len, &ch) == CH_MALFORMED,
		    "%s: extensions length %+d", e->name, deltas[k]);
		memcpy(b, e->bytes, e->len);
		add16(b + o.first_ext_len, deltas[k]);
		ck_assert_msg(parse_copy(b, e->len, &ch) == CH_MALFORMED,
		    "%s: first extension length %+d", e->name, deltas[k]);
		memcpy(b, e->bytes, e->len);
		add16(b + o.suites_len, deltas[k]);
		ck_assert_msg(parse_copy(b, e->len, &ch) == CH_MALFORMED,
		    "%s: suites length %+d", e->name, deltas[k]);
	}
	/* Record length one more than the hello: trailing byte. */
	memcpy(b, e->bytes, e->len);
	b[e->len] = 0;
	add16(b + 3, 1);
	ck_assert_int_eq(parse_copy(b, e->len + 1, &ch), CH_MALFORMED);
	/* Handshake length one more: the hello now needs a next record. */
	memcpy(b, e->bytes, e->len);
	b[8]++;
	ck_assert_int_eq(parse_copy(b, e->len, &ch), CH_NEED_MORE);
	/* Not a ClientHello: ServerHello and Certificate types. */
	memcpy(b, e->bytes, e->len);
	b[5] = 2;
	ck_assert_int_eq(parse_copy(b, e->len, &ch), CH_NOT_HELLO);
	b[5] = 11;
	ck_assert_int_eq(parse_copy(b, 6, &ch), CH_NOT_HELLO);
}
END_TEST

/* Flip bits everywhere in real hellos: any result, no crash. */
START_TEST(test_real_bitflips)
{
	const struct captured_hello *c = &captured_hellos[_i];
	static uint8_t b[4096];
	struct client_hello ch;
	size_t pos;
	int rc, bit;

	ck_assert_uint_le(c->len, sizeof b);
	for (pos = 0; pos < c->len; pos++) {
		for (bit = 0; bit < 8; bit += 3) {
			memcpy(b, c->bytes, c->len);
			b[pos] ^= (uint8_t)(1u << bit);
			rc = parse_copy(b, c->len, &ch);
			ck_assert(rc >= CH_HTTP && rc <= CH_NEED_MORE);
			if (rc == CH_OK) {
				ck_assert_uint_le(ch.bytes_used, c->len);
				ck_assert_uint_lt(strlen(ch.sni),
				    sizeof ch.sni);
				ck_assert_uint_le(ch.nsuites, CH_MAX_SUITES);
			}
		}
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Whole buffers: not TLS, HTTP, SSLv2, record-level errors.          */

/*
 * An SSLv2-format CLIENT-HELLO as old OpenSSL (0.9.8) sent it: 2-byte
 * header 0x80 0x2e, msg type 1, version 3.1, 3 cipher specs, no session
 * id, 16-byte challenge.  Written by hand: no stack here still sends it.
 */
static const char sslv2_hello[] =
	"\x80\x2e\x01\x03\x01\x00\x09\x00\x00\x00\x10"
	"\x00\x00\x35\x00\x00\x2f\x01\x00\x80"
	"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";

struct raw_case {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	int expect;
};

static const struct raw_case raw_cases[] = {
	{ "curl http request", hello_curl_http, sizeof hello_curl_http,
	    CH_HTTP },
	{ "curl proxy CONNECT", hello_curl_connect,
	    sizeof hello_curl_connect, CH_HTTP },
	{ "mosquitto_pub MQTT in clear", hello_mqtt_plain,
	    sizeof hello_mqtt_plain, CH_NOT_TLS },
	{ "sslv2 hello", RAW(sslv2_hello), CH_SSLV2 },
	{ "sslv2 header only", RAW("\x80\x2e"), CH_NEED_MORE },
	{ "sslv2 first byte", RAW("\x80"), CH_NEED_MORE },
	{ "sslv2 not a hello", RAW("\x80\x2e\x02\x03\x01"), CH_NOT_TLS },
	{ "empty", RAW(""), CH_NEED_MORE },
	{ "G", RAW("G"), CH_NEED_MORE },
	{ "GE", RAW("GE"), CH_NEED_MORE },
	{ "GET", RAW("GET"), CH_NEED_MORE },
	{ "GET /", RAW("GET / HTTP/1.1\r\n"), CH_HTTP },
	{ "GEX", RAW("GEX /"), CH_NOT_TLS },
	{ "POST", RAW("POST /api HTTP/1.1\r\n"), CH_HTTP },
	{ "HEAD", RAW("HEAD / HTTP/1.0\r\n"), CH_HTTP },
	{ "PUT", RAW("PUT /x HTTP/1.1\r\n"), CH_HTTP },
	{ "DELETE", RAW("DELETE /x HTTP/1.1\r\n"), CH_HTTP },
	{ "OPTIONS", RAW("OPTIONS * HTTP/1.1\r\n"), CH_HTTP },
	{ "CONNECT", RAW("CONNECT a:8883 HTTP/1.1\r\n"), CH_HTTP },
	{ "HTTP/2 preface", RAW("PRI * HTTP/2.0\r\n"), CH_HTTP },
	{ "SSH banner", RAW("SSH-2.0-OpenSSH_9.2\r\n"), CH_NOT_TLS },
	{ "NUL byte", RAW("\x00"), CH_NOT_TLS },
	{ "alert record", RAW("\x15\x03\x01\x00\x02\x02\x28"), CH_NOT_TLS },
	{ "app data record", RAW("\x17\x03\x03\x00\x01\x00"), CH_NOT_TLS },
	{ "handshake type byte", RAW("\x16"), CH_NEED_MORE },
	{ "bad major version", RAW("\x16\x02\x00\x00\x04"), CH_NOT_TLS },
	{ "major version 0x30", RAW("\x16\x30"), CH_NOT_TLS },
	{ "record header so far", RAW("\x16\x03\x01\x00"), CH_NEED_MORE },
	{ "record length 0", RAW("\x16\x03\x01\x00\x00"), CH_MALFORMED },
	{ "record length 18433", RAW("\x16\x03\x01\x48\x01\x01"),
	    CH_MALFORMED },
	{ "record length 18432", RAW("\x16\x03\x01\x48\x00\x01"),
	    CH_NEED_MORE },
	{ "hello of CH_MAX_MESSAGE", RAW("\x16\x03\x01\x40\x04\x01\x00\x40"
	    "\x00\x03\x03"), CH_NEED_MORE },
	{ "hello of CH_MAX_MESSAGE+1", RAW("\x16\x03\x01\x48\x00\x01\x00\x40"
	    "\x01"), CH_TOO_BIG },
	{ "hello of 16 MB", RAW("\x16\x03\x01\x00\x04\x01\xff\xff\xff"),
	    CH_TOO_BIG },
	{ "server hello", RAW("\x16\x03\x03\x00\x04\x02\x00\x00\x00"),
	    CH_NOT_HELLO },
	{ "certificate, 1 byte", RAW("\x16\x03\x03\x00\x30\x0b"),
	    CH_NOT_HELLO },
	{ "hello type in a 1-byte record", RAW("\x16\x03\x01\x00\x01\x01"),
	    CH_NEED_MORE },
	{ "type 2 after a 1-byte record", RAW("\x16\x03\x01\x00\x01\x02"
	    "\x16\x03\x01\x00\x03\x00\x00\x00"), CH_NOT_HELLO },
	{ "second record not handshake", RAW("\x16\x03\x01\x00\x01\x01"
	    "\x17\x03\x03\x00\x05"), CH_MALFORMED },
	{ "second record length 0", RAW("\x16\x03\x01\x00\x01\x01"
	    "\x16\x03\x01\x00\x00"), CH_MALFORMED },
	{ "second record bad version", RAW("\x16\x03\x01\x00\x01\x01"
	    "\x16\x02"), CH_MALFORMED },
	{ "second record too long", RAW("\x16\x03\x01\x00\x01\x01"
	    "\x16\x03\x01\x48\x01"), CH_MALFORMED },
	{ "header over 3 records", RAW("\x16\x03\x01\x00\x01\x01"
	    "\x16\x03\x01\x00\x02\x00\x00" "\x16\x03\x01\x00\x01\x2a"
	    "\x16\x03\x01"), CH_NEED_MORE },
	{ "body of 1 byte", RAW("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03"),
	    CH_MALFORMED },
	{ "body of 0 bytes", RAW("\x16\x03\x01\x00\x04\x01\x00\x00\x00"),
	    CH_MALFORMED },
	{ "record longer than hello", RAW("\x16\x03\x01\x00\x06\x01\x00\x00"
	    "\x01\x03"), CH_MALFORMED },
};

/* Each raw buffer gives its result, and so do all its prefixes that
 * are still prefixes of something valid. */
START_TEST(test_raw)
{
	const struct raw_case *c = &raw_cases[_i];
	struct client_hello ch;

	ck_assert_msg(parse_copy(c->bytes, c->len, &ch) == c->expect,
	    "%s: got %d, want %d", c->name,
	    parse_copy(c->bytes, c->len, &ch), c->expect);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hand-built hellos: every malformation of the body and extensions.  */

/* Default body after version and random: no session id, C02F, null
 * compression. */
#define PRE_DEFAULT "\x00" "\x00\x02\xc0\x2f" "\x01\x00"

/* Build a one-record hello from the parts after the random; returns
 * its length.  split > 0 puts the first `split` payload bytes in a
 * record of their own. */
static size_t
build_hello(uint8_t *out, size_t cap, const uint8_t *pre, size_t npre,
    const uint8_t *ext, size_t next, size_t split)
{
	static uint8_t pl[CH_MAX_MESSAGE + 64];
	size_t body = 2 + 32 + npre + next, n = 0, cut[1];

	ck_assert_uint_le(4 + body, sizeof pl);
	pl[n++] = 1;
	pl[n++] = (uint8_t)(body >> 16);
	pl[n++] = (uint8_t)(body >> 8);
	pl[n++] = (uint8_t)body;
	pl[n++] = 3;
	pl[n++] = 3;
	memset(pl + n, 0x11, 32);
	n += 32;
	memcpy(pl + n, pre, npre);
	n += npre;
	if (next > 0)
		memcpy(pl + n, ext, next);
	n += next;
	ck_assert_uint_le(n + 10, cap);
	cut[0] = split;
	return reframe((const uint8_t *)"\x16\x03\x01", pl, n, cut,
	    split > 0 ? 1 : 0, out);
}

struct build_case {
	const char *name;
	const uint8_t *pre;
	size_t npre;
	const uint8_t *ext;	/* extensions block, its length included */
	size_t next;
	int expect;
};

#define PRE RAW(PRE_DEFAULT)

static const struct build_case build_cases[] = {
	/* Good ones. */
	{ "no extensions", PRE, NULL, 0, CH_OK },
	{ "empty extensions block", PRE, RAW("\x00\x00"), CH_OK },
	{ "unknown extension", PRE, RAW("\x00\x06" "\xab\xcd\x00\x02\x01\x02"),
	    CH_OK },
	{ "session id of 32", RAW("\x20" "0123456789abcdef0123456789abcdef"
	    "\x00\x02\xc0\x2f" "\x01\x00"), NULL, 0, CH_OK },
	{ "ticket with data", PRE, RAW("\x00\x08" "\x00\x23\x00\x04"
	    "\xde\xad\xbe\xef"), CH_OK },
	{ "sni of another name type", PRE, RAW("\x00\x0a" "\x00\x00\x00\x06"
	    "\x00\x04" "\x01\x00\x01" "x"), CH_OK },
	{ "reneg info", PRE, RAW("\x00\x05" "\xff\x01\x00\x01\x00"), CH_OK },
	{ "grease version", PRE, RAW("\x00\x0b" "\x00\x2b\x00\x07"
	    "\x06\x7a\x7a\x03\x04\x03\x03"), CH_OK },
	/* Body. */
	{ "session id of 33", RAW("\x21" "0123456789abcdef0123456789abcdef"
	    "!" "\x00\x02\xc0\x2f" "\x01\x00"), NULL, 0, CH_MALFORMED },
	{ "odd suites length", RAW("\x00" "\x00\x03\xc0\x2f\x00" "\x01\x00"),
	    NULL, 0, CH_MALFORMED },
	{ "no suites", RAW("\x00" "\x00\x00" "\x01\x00"), NULL, 0,
	    CH_MALFORMED },
	{ "suites overrun", RAW("\x00" "\x00\x40\xc0\x2f" "\x01\x00"), NULL,
	    0, CH_MALFORMED },
	{ "no compression methods", RAW("\x00" "\x00\x02\xc0\x2f" "\x00"),
	    NULL, 0, CH_MALFORMED },
	{ "compression overrun", RAW("\x00" "\x00\x02\xc0\x2f" "\x05\x00"),
	    NULL, 0, CH_MALFORMED },
	{ "ends after random", RAW(""), NULL, 0, CH_MALFORMED },
	{ "ends in suites", RAW("\x00" "\x00\x04\xc0\x2f"), NULL, 0,
	    CH_MALFORMED },
	/* Extensions block. */
	{ "lone byte for block", PRE, RAW("\x00"), CH_MALFORMED },
	{ "extension overruns block", PRE, RAW("\x00\x04" "\x00\x17\x00\x01"),
	    CH_MALFORMED },
	{ "block longer than message", PRE, RAW("\x00\x10" "\x00\x17\x00\x00"),
	    CH_MALFORMED },
	{ "bytes after block", PRE, RAW("\x00\x04" "\x00\x17\x00\x00" "\x00"),
	    CH_MALFORMED },
	{ "extension header cut", PRE, RAW("\x00\x03" "\x00\x17\x00"),
	    CH_MALFORMED },
	{ "duplicate sni", PRE, RAW("\x00\x14"
	    "\x00\x00\x00\x06\x00\x04\x00\x00\x01" "a"
	    "\x00\x00\x00\x06\x00\x04\x00\x00\x01" "b"), CH_MALFORMED },
	{ "duplicate mfl", PRE, RAW("\x00\x0a" "\x00\x01\x00\x01\x02"
	    "\x00\x01\x00\x01\x02"), CH_MALFORMED },
	/* server_name */
	{ "sni with NUL", PRE, RAW("\x00\x0f" "\x00\x00\x00\x0b" "\x00\x09"
	    "\x00\x00\x06" "gw\0lan"), CH_MALFORMED },
	{ "sni with tab", PRE, RAW("\x00\x0c" "\x00\x00\x00\x08" "\x00\x06"
	    "\x00\x00\x03" "a\tb"), CH_MALFORMED },
	{ "sni with space", PRE, RAW("\x00\x0c" "\x00\x00\x00\x08" "\x00\x06"
	    "\x00\x00\x03" "a b"), CH_MALFORMED },
	{ "sni with DEL", PRE, RAW("\x00\x0c" "\x00\x00\x00\x08" "\x00\x06"
	    "\x00\x00\x03" "a\x7f" "b"), CH_MALFORMED },
	{ "sni empty name", PRE, RAW("\x00\x09" "\x00\x00\x00\x05" "\x00\x03"
	    "\x00\x00\x00"), CH_MALFORMED },
	{ "sni two host_names", PRE, RAW("\x00\x0e" "\x00\x00\x00\x0a"
	    "\x00\x08" "\x00\x00\x01" "a" "\x00\x00\x01" "b"), CH_MALFORMED },
	{ "sni list short", PRE, RAW("\x00\x0a" "\x00\x00\x00\x06" "\x00\x03"
	    "\x00\x00\x01" "a"), CH_MALFORMED },
	{ "sni name overrun", PRE, RAW("\x00\x0a" "\x00\x00\x00\x06"
	    "\x00\x04" "\x00\x00\x05" "a"), CH_MALFORMED },
	{ "sni empty list", PRE, RAW("\x00\x06" "\x00\x00\x00\x02" "\x00\x00"),
	    CH_MALFORMED },
	{ "sni empty extension", PRE, RAW("\x00\x04" "\x00\x00\x00\x00"),
	    CH_MALFORMED },
	/* max_fragment_length */
	{ "mfl 0", PRE, RAW("\x00\x05" "\x00\x01\x00\x01\x00"), CH_MALFORMED },
	{ "mfl 5", PRE, RAW("\x00\x05" "\x00\x01\x00\x01\x05"), CH_MALFORMED },
	{ "mfl 2 bytes", PRE, RAW("\x00\x06" "\x00\x01\x00\x02\x02\x00"),
	    CH_MALFORMED },
	{ "mfl empty", PRE, RAW("\x00\x04" "\x00\x01\x00\x00"), CH_MALFORMED },
	/* supported_groups, signature_algorithms */
	{ "groups odd", PRE, RAW("\x00\x09" "\x00\x0a\x00\x05"
	    "\x00\x03\x00\x17\x00"), CH_MALFORMED },
	{ "groups list shorter than ext", PRE, RAW("\x00\x0a"
	    "\x00\x0a\x00\x06" "\x00\x02\x00\x17\x00\x18"), CH_MALFORMED },
	{ "groups empty", PRE, RAW("\x00\x06" "\x00\x0a\x00\x02" "\x00\x00"),
	    CH_MALFORMED },
	{ "sigalgs empty", PRE, RAW("\x00\x06" "\x00\x0d\x00\x02" "\x00\x00"),
	    CH_MALFORMED },
	{ "sigalgs overrun", PRE, RAW("\x00\x08" "\x00\x0d\x00\x04"
	    "\x00\x04\x04\x01"), CH_MALFORMED },
	/* supported_versions */
	{ "versions odd", PRE, RAW("\x00\x08" "\x00\x2b\x00\x04"
	    "\x03\x03\x04\x03"), CH_MALFORMED },
	{ "versions shorter than ext", PRE, RAW("\x00\x09" "\x00\x2b\x00\x05"
	    "\x02\x03\x04\x03\x03"), CH_MALFORMED },
	{ "versions empty", PRE, RAW("\x00\x05" "\x00\x2b\x00\x01" "\x00"),
	    CH_MALFORMED },
	/* ALPN, renegotiation_info */
	{ "alpn empty name", PRE, RAW("\x00\x07" "\x00\x10\x00\x03"
	    "\x00\x01\x00"), CH_MALFORMED },
	{ "alpn name overrun", PRE, RAW("\x00\x09" "\x00\x10\x00\x05"
	    "\x00\x03\x05" "mq"), CH_MALFORMED },
	{ "alpn empty list", PRE, RAW("\x00\x06" "\x00\x10\x00\x02" "\x00\x00"),
	    CH_MALFORMED },
	{ "reneg inner length", PRE, RAW("\x00\x06" "\xff\x01\x00\x02"
	    "\x05\x00"), CH_MALFORMED },
	{ "reneg empty ext", PRE, RAW("\x00\x04" "\xff\x01\x00\x00"),
	    CH_MALFORMED },
};

/* A hand-built hello gives its result in one record and in two, and
 * every prefix of a good one asks for more. */
START_TEST(test_built)
{
	const struct build_case *c = &build_cases[_i];
	static uint8_t b[1024];
	struct client_hello ch;
	size_t len, p;

	len = build_hello(b, sizeof b, c->pre, c->npre, c->ext, c->next, 0);
	ck_assert_msg(parse_copy(b, len, &ch) == c->expect,
	    "%s: one record", c->name);
	len = build_hello(b, sizeof b, c->pre, c->npre, c->ext, c->next, 7);
	ck_assert_msg(parse_copy(b, len, &ch) == c->expect,
	    "%s: two records", c->name);
	if (c->expect != CH_OK)
		return;
	for (p = 0; p < len; p++)
		ck_assert_int_eq(parse_copy(b, p, &ch), CH_NEED_MORE);
}
END_TEST

/* What the good hand-built hellos carry. */
START_TEST(test_built_fields)
{
	static uint8_t b[1024];
	struct client_hello ch;
	size_t len;

	len = build_hello(b, sizeof b, RAW(PRE_DEFAULT), NULL, 0, 0);
	ck_assert_int_eq(parse_copy(b, len, &ch), CH_OK);
	ck_assert(!ch.has_sni && ch.ngroups_total == 0 && ch.nversions == 0);
	ck_assert_uint_eq(clienthello_max_version(&ch), TLSV_TLS12);
	ck_assert(!clienthello_offers_version(&ch, TLSV_TLS13));

	len = build_hello(b, sizeof b, RAW(PRE_DEFAULT), RAW("\x00\x0a"
	    "\x00\x00\x00\x06\x00\x04\x01\x00\x01" "x"), 0);
	ck_assert_int_eq(parse_copy(b, len, &ch), CH_OK);
	ck_assert(!ch.has_sni);
	ck_assert_str_eq(ch.sni, "");

	len = build_hello(b, sizeof b, RAW(PRE_DEFAULT), RAW("\x00\x0b"
	    "\x00\x2b\x00\x07\x06\x7a\x7a\x03\x04\x03\x03"), 0);
	ck_assert_int_eq(parse_copy(b, len, &ch), CH_OK);
	ck_assert_uint_eq(ch.nversions, 2);
	ck_assert_uint_eq(ch.versions[0], TLSV_TLS13);
	ck_assert_uint_eq(ch.versions[1], TLSV_TLS12);
	ck_assert_uint_eq(clienthello_max_version(&ch), TLSV_TLS13);
	ck_assert(!clienthello_offers_version(&ch, TLSV_TLS11));

	len = build_hello(b, sizeof b, RAW(PRE_DEFAULT),
	    RAW("\x00\x05\xff\x01\x00\x01\x00"), 0);
	ck_assert_int_eq(parse_copy(b, len, &ch), CH_OK);
	ck_assert(ch.has_renegotiation_info);
	ck_assert(!ch.has_session_ticket && !ch.has_alpn && ch.mfl == 0);
}
END_TEST

/* Append an extension (type, body) to an extensions block under way. */
static size_t
put_ext(uint8_t *blk, size_t n, unsigned type, const uint8_t *body,
    size_t blen)
{
	blk[n++] = (uint8_t)(type >> 8);
	blk[n++] = (uint8_t)type;
	blk[n++] = (uint8_t)(blen >> 8);
	blk[n++] = (uint8_t)blen;
	memcpy(blk + n, body, blen);
	return n + blen;
}

/* Set the 2-byte length of an extensions block of n bytes. */
static void
close_block(uint8_t *blk, size_t n)
{
	blk[0] = (uint8_t)((n - 2) >> 8);
	blk[1] = (uint8_t)(n - 2);
}

/* SNI of exactly CH_MAX_SNI bytes is kept whole; one more is refused. */
START_TEST(test_sni_limits)
{
	static uint8_t b[2048], blk[600], body[600];
	struct client_hello ch;
	size_t nlen, len, n;

	for (nlen = CH_MAX_SNI - 1; nlen <= CH_MAX_SNI + 1; nlen++) {
		body[0] = (uint8_t)((nlen + 3) >> 8);
		body[1] = (uint8_t)(nlen + 3);
		body[2] = 0;
		body[3] = (uint8_t)(nlen >> 8);
		body[4] = (uint8_t)nlen;
		memset(body + 5, 'a', nlen);
		n = put_ext(blk, 2, 0, body, nlen + 5);
		close_block(blk, n);
		len = build_hello(b, sizeof b, RAW(PRE_DEFAULT), blk, n, 0);
		if (nlen > CH_MAX_SNI) {
			ck_assert_int_eq(parse_copy(b, len, &ch),
			    CH_MALFORMED);
			continue;
		}
		ck_assert_int_eq(parse_copy(b, len, &ch), CH_OK);
		ck_assert(ch.has_sni);
		ck_assert_uint_eq(strlen(ch.sni), nlen);
	}
}
END_TEST

/* Lists longer than the arrays: the first entries kept, all counted,
 * and the renegotiation SCSV seen even beyond the array. */
START_TEST(test_long_lists)
{
	static uint8_t b[4096], pre[1024], blk[1024], body[512];
	struct client_hello ch;
	size_t i, n = 0, len, nb;

	pre[n++] = 0;				/* session id */
	pre[n++] = (200 * 2) >> 8;
	pre[n++] = (uint8_t)(200 * 2);
	for (i = 0; i < 200; i++) {
		unsigned code = i == 150 ? 0x00ff : 0x1000 + (unsigned)i;

		pre[n++] = (uint8_t)(code >> 8);
		pre[n++] = (uint8_t)code;
	}
	pre[n++] = 1;
	pre[n++] = 0;
	body[0] = 0;
	body[1] = 40 * 2;
	for (i = 0; i < 40; i++) {
		body[2 + 2 * i] = 0;
		body[3 + 2 * i] = (uint8_t)(i + 1);
	}
	nb = put_ext(blk, 2, 10, body, 2 + 40 * 2);
	body[0] = 10 * 2;
	for (i = 0; i < 10; i++) {
		body[1 + 2 * i] = 3;
		body[2 + 2 * i] = (uint8_t)i;
	}
	nb = put_ext(blk, nb, 43, body, 1 + 10 * 2);
	close_block(blk, nb);
	len = build_hello(b, sizeof b, pre, n, blk, nb, 0);
	ck_assert_int_eq(parse_copy(b, len, &ch), CH_OK);
	ck_assert_uint_eq(ch.nsuites, CH_MAX_SUITES);
	ck_assert_uint_eq(ch.nsuites_total, 200);
	ck_assert_uint_eq(ch.suites[CH_MAX_SUITES - 1],
	    0x1000 + CH_MAX_SUITES - 1);
	ck_assert(ch.has_renegotiation_info);
	ck_assert_uint_eq(ch.ngroups, CH_MAX_GROUPS);
	ck_assert_uint_eq(ch.ngroups_total, 40);
	ck_assert_uint_eq(ch.nversions, CH_MAX_VERSIONS);
	ck_assert_uint_eq(ch.versions[0], 0x0300);
}
END_TEST

/* The largest hello accepted, in one and in two records; one byte more
 * is too big. */
START_TEST(test_max_message)
{
	static uint8_t b[CH_MAX_MESSAGE + 64], blk[CH_MAX_MESSAGE];
	static const uint8_t pad[CH_MAX_MESSAGE];
	struct client_hello ch;
	size_t fixed = 2 + 32 + 7, nb, len, extra;

	for (extra = 0; extra <= 1; extra++) {
		/* body = fixed + 2 (block length) + 4 (ext header) + pad */
		size_t plen = CH_MAX_MESSAGE - fixed - 6 + extra;

		nb = put_ext(blk, 2, 21, pad, plen);
		close_block(blk, nb);
		len = build_hello(b, sizeof b, RAW(PRE_DEFAULT), blk, nb, 0);
		ck_assert_int_eq(parse_copy(b, len, &ch),
		    extra ? CH_TOO_BIG : CH_OK);
		len = build_hello(b, sizeof b, RAW(PRE_DEFAULT), blk, nb,
		    9000);
		ck_assert_int_eq(parse_copy(b, len, &ch),
		    extra ? CH_TOO_BIG : CH_OK);
		if (!extra) {
			ck_assert_uint_eq(ch.message_len, CH_MAX_MESSAGE);
			ck_assert_uint_eq(ch.bytes_used, len);
		}
	}
}
END_TEST

/* Random bytes, and random overwrites of real hellos: no crash, and a
 * result in range. */
START_TEST(test_random)
{
	static uint8_t b[2048];
	struct client_hello ch;
	uint32_t x = 2463534242u;
	size_t iter, len, i, k;
	int rc;

	for (iter = 0; iter < 20000; iter++) {
		const struct captured_hello *c =
		    &captured_hellos[iter % NELEM(captured_hellos)];

		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		if (iter & 1) {
			len = x % 700;
			for (i = 0; i < len; i++) {
				x ^= x << 13; x ^= x >> 17; x ^= x << 5;
				b[i] = (uint8_t)x;
			}
			if (len > 2) {
				b[0] = 0x16;
				b[1] = 3;
			}
		} else {
			len = c->len;
			memcpy(b, c->bytes, len);
			for (k = 0; k < 4; k++) {
				x ^= x << 13; x ^= x >> 17; x ^= x << 5;
				b[x % len] = (uint8_t)(x >> 16);
			}
		}
		rc = parse_copy(b, len, &ch);
		ck_assert(rc >= CH_HTTP && rc <= CH_NEED_MORE);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Helpers.                                                           */

START_TEST(test_helpers)
{
	struct client_hello ch;
	int rc;

	ck_assert_uint_eq(clienthello_mfl_bytes(0), 0);
	ck_assert_uint_eq(clienthello_mfl_bytes(1), 512);
	ck_assert_uint_eq(clienthello_mfl_bytes(2), 1024);
	ck_assert_uint_eq(clienthello_mfl_bytes(3), 2048);
	ck_assert_uint_eq(clienthello_mfl_bytes(4), 4096);
	ck_assert_uint_eq(clienthello_mfl_bytes(5), 0);
	ck_assert_str_eq(tls_version_name(TLSV_SSL3), "SSL 3.0");
	ck_assert_str_eq(tls_version_name(TLSV_TLS10), "TLS 1.0");
	ck_assert_str_eq(tls_version_name(TLSV_TLS11), "TLS 1.1");
	ck_assert_str_eq(tls_version_name(TLSV_TLS12), "TLS 1.2");
	ck_assert_str_eq(tls_version_name(TLSV_TLS13), "TLS 1.3");
	ck_assert_str_eq(tls_version_name(0x7f1c), "0x7f1c");
	for (rc = CH_HTTP; rc <= CH_NEED_MORE; rc++)
		ck_assert_ptr_nonnull(clienthello_strerror(rc));
	ck_assert_str_eq(clienthello_strerror(CH_HTTP),
	    "plain-text HTTP request");
	ck_assert_ptr_nonnull(clienthello_strerror(42));
	/* out may be NULL; NULL buffer is "nothing yet". */
	ck_assert_int_eq(clienthello_parse(hello_tasmota_esp8266,
	    sizeof hello_tasmota_esp8266, NULL), CH_OK);
	ck_assert_int_eq(clienthello_parse(NULL, 0, &ch), CH_NEED_MORE);
	/* Versions without supported_versions: up to legacy, capped. */
	memset(&ch, 0, sizeof ch);
	ch.legacy_version = TLSV_TLS13;
	ck_assert_uint_eq(clienthello_max_version(&ch), TLSV_TLS12);
	ck_assert(clienthello_offers_version(&ch, TLSV_TLS10));
	ck_assert(!clienthello_offers_version(&ch, TLSV_TLS13));
	ch.versions[0] = 0x7f1c;	/* a draft: not a known version */
	ch.versions[1] = TLSV_TLS12;
	ch.nversions = 2;
	ck_assert_uint_eq(clienthello_max_version(&ch), TLSV_TLS12);
	ck_assert(!clienthello_offers_version(&ch, TLSV_TLS11));
}
END_TEST

static Suite *
clienthello_suite(void)
{
	Suite *s = suite_create("clienthello");
	TCase *real = tcase_create("real");
	TCase *raw = tcase_create("raw");
	TCase *built = tcase_create("built");
	TCase *misc = tcase_create("misc");

	tcase_set_timeout(real, 60);
	tcase_add_loop_test(real, test_real_hello, 0, NELEM(real_hellos));
	tcase_add_loop_test(real, test_real_prefixes, 0, NELEM(real_hellos));
	tcase_add_loop_test(real, test_real_split, 0, NELEM(real_hellos));
	tcase_add_loop_test(real, test_real_corrupt, 0, NELEM(real_hellos));
	tcase_add_loop_test(real, test_real_bitflips, 0,
	    NELEM(captured_hellos));
	tcase_add_loop_test(raw, test_raw, 0, NELEM(raw_cases));
	tcase_add_loop_test(built, test_built, 0, NELEM(build_cases));
	tcase_add_test(built, test_built_fields);
	tcase_add_test(built, test_sni_limits);
	tcase_add_test(built, test_long_lists);
	tcase_add_test(built, test_max_message);
	tcase_set_timeout(misc, 60);
	tcase_add_test(misc, test_random);
	tcase_add_test(misc, test_helpers);
	suite_add_tcase(s, real);
	suite_add_tcase(s, raw);
	suite_add_tcase(s, built);
	suite_add_tcase(s, misc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(clienthello_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
