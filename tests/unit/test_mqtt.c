/*
 * test_mqtt.c: the MQTT CONNECT parser and builder against real
 * CONNECT packets (tests/unit/mqtt_packets.h, captured from
 * mosquitto_pub 2.0 by tests/data/mqtt/capture.sh), every prefix of
 * them, single-bit corruptions, hand-built malformed packets, and
 * rewrites whose output is parsed again field by field.  Every parse
 * and build runs over an exactly-sized heap buffer, so that
 * AddressSanitizer sees any access outside it.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"
#include "mqtt_packets.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A byte-string literal (may hold NULs) and its length. */
#define RAW(s) (const uint8_t *)(s), (sizeof(s) - 1)
/* A C string literal as (pointer, length) for expected fields. */
#define STR(s) (s), (sizeof(s) - 1)
#define NOSTR NULL, 0
#define BIG (1u << 20)		/* max_size when the limit is not tested */

/* A heap copy of exactly len bytes (ASan catches over-reads). */
static uint8_t *
copy_of(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	return copy;
}

/* Parse a heap copy; the copy stays alive for m's views (free it). */
static int
parse_keep(const uint8_t *buf, size_t len, size_t max,
    struct mqtt_connect *m, uint8_t **copy)
{
	*copy = copy_of(buf, len);
	return mqtt_connect_parse(*copy, len, max, m);
}

/* Parse a heap copy and drop it: for results, not fields. */
static int
parse_rc(const uint8_t *buf, size_t len, size_t max)
{
	struct mqtt_connect m;
	uint8_t *copy;
	int rc = parse_keep(buf, len, max, &m, &copy);

	free(copy);
	return rc;
}

/* Build into an exactly-sized heap buffer; *outp is malloc'ed. */
static ssize_t
build_exact(const struct mqtt_connect *c, const struct mqtt_span *id,
    const struct mqtt_span *user, const struct mqtt_span *pass,
    uint8_t **outp)
{
	ssize_t need = mqtt_connect_build(c, id, user, pass, NULL, 0);
	ssize_t n;

	*outp = NULL;
	if (need < 0)
		return need;
	*outp = malloc((size_t)need);
	ck_assert_ptr_nonnull(*outp);
	n = mqtt_connect_build(c, id, user, pass, *outp, (size_t)need);
	ck_assert_int_eq(n, need);
	return n;
}

/* Does span s hold exactly (want, wlen)?  want NULL: s is absent. */
static void
check_span(const char *name, const char *what, const struct mqtt_span *s,
    const char *want, size_t wlen)
{
	if (want == NULL) {
		ck_assert_msg(s->p == NULL && s->len == 0,
		    "%s: %s present (%zu bytes), want absent", name, what,
		    s->len);
		return;
	}
	ck_assert_msg(s->p != NULL, "%s: %s absent", name, what);
	ck_assert_msg(s->len == wlen && memcmp(s->p, want, wlen) == 0,
	    "%s: %s is \"%.*s\" (%zu bytes), want \"%.*s\" (%zu)", name,
	    what, (int)s->len, (const char *)s->p, s->len, (int)wlen, want,
	    wlen);
}

/* Two spans with the same presence and bytes. */
static void
check_same(const char *name, const char *what, const struct mqtt_span *a,
    const struct mqtt_span *b)
{
	ck_assert_msg((a->p == NULL) == (b->p == NULL), "%s: %s presence",
	    name, what);
	ck_assert_msg(a->len == b->len &&
	    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0),
	    "%s: %s differs", name, what);
}

static const struct captured_packet *
capture(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(captured_packets); i++)
		if (strcmp(captured_packets[i].name, name) == 0)
			return &captured_packets[i];
	ck_abort_msg("no capture %s", name);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Real packets and what their command lines make them say.          */

/*
 * From the mosquitto_pub command lines in tests/data/mqtt/capture.sh:
 * keepalive 60 unless -k, clean session unless -c, -t t -m x always
 * (PUBLISH data, not in the CONNECT).  Flags: username 0x80, password
 * 0x40, will retain 0x20, will QoS << 3, will 0x04, clean 0x02.
 * libmosquitto adds Receive Maximum 20 (0x21 0x0014, its default
 * in-flight window, lib/send_connect.c) to every 5.0 CONNECT that does
 * not set one, after the user's properties; -x sets Session Expiry.
 * Hex escapes end their literal so that following text is not read as
 * hex digits.
 */
struct real_expect {
	const char *name;
	uint8_t level;
	uint8_t flags;
	uint16_t keepalive;
	const char *client_id;
	size_t client_id_len;
	const char *props;		/* NULL: not 5.0 */
	size_t props_len;
	const char *will_props;		/* NULL: not 5.0 or no will */
	size_t will_props_len;
	const char *will_topic;		/* NULL: no will */
	size_t will_topic_len;
	const char *will_payload;
	size_t will_payload_len;
	const char *username;		/* NULL: absent */
	size_t username_len;
	const char *password;		/* NULL: absent */
	size_t password_len;
	bool client_id_warn;
};

#define RECV_MAX_20 "\x21\x00\x14"

static const struct real_expect real_packets[] = {
	/* mosquitto_pub -V mqttv31 -i dev31 */
	{ "v31", 3, 0x02, 60, STR("dev31"), NOSTR, NOSTR, NOSTR, NOSTR,
	    NOSTR, NOSTR, false },
	/* -V mqttv31 -i dev31-auth -u alice -P secret31 -k 30 */
	{ "v31-auth", 3, 0xc2, 30, STR("dev31-auth"), NOSTR, NOSTR, NOSTR,
	    NOSTR, STR("alice"), STR("secret31"), false },
	/* -V mqttv31 -i dev31-will --will-topic dev/31/status
	 * --will-payload offline --will-qos 1 */
	{ "v31-will", 3, 0x0e, 60, STR("dev31-will"), NOSTR, NOSTR,
	    STR("dev/31/status"), STR("offline"), NOSTR, NOSTR, false },
	/* -V mqttv31 -i dev31-client-id-over-23-bytes: 29 bytes, over
	 * the 23 that 3.1 allows */
	{ "v31-longid", 3, 0x02, 60, STR("dev31-client-id-over-23-bytes"),
	    NOSTR, NOSTR, NOSTR, NOSTR, NOSTR, NOSTR, true },
	/* -V mqttv311 -i dev311 */
	{ "v311", 4, 0x02, 60, STR("dev311"), NOSTR, NOSTR, NOSTR, NOSTR,
	    NOSTR, NOSTR, false },
	/* -i dev311-auth -u bob -P s3cret -k 120 */
	{ "v311-auth", 4, 0xc2, 120, STR("dev311-auth"), NOSTR, NOSTR,
	    NOSTR, NOSTR, STR("bob"), STR("s3cret"), false },
	/* -i dev311-user -u carol */
	{ "v311-user", 4, 0x82, 60, STR("dev311-user"), NOSTR, NOSTR,
	    NOSTR, NOSTR, STR("carol"), NOSTR, false },
	/* -i dev311-will -u dave -P pw --will-topic dev/311/status
	 * --will-payload offline --will-qos 2 --will-retain */
	{ "v311-will", 4, 0xf6, 60, STR("dev311-will"), NOSTR, NOSTR,
	    STR("dev/311/status"), STR("offline"), STR("dave"), STR("pw"),
	    false },
	/* -i dev311-persist -c -k 5 */
	{ "v311-persist", 4, 0x00, 5, STR("dev311-persist"), NOSTR, NOSTR,
	    NOSTR, NOSTR, NOSTR, NOSTR, false },
	/* -i 'gerät-温度-🌡' -u 'jürgen': 2-, 3- and 4-byte UTF-8 */
	{ "v311-utf8", 4, 0x82, 60, STR("gerät-温度-🌡"), NOSTR, NOSTR,
	    NOSTR, NOSTR, STR("jürgen"), NOSTR, false },
	/* -V mqttv5 -i dev5 */
	{ "v5", 5, 0x02, 60, STR("dev5"), STR(RECV_MAX_20), NOSTR, NOSTR,
	    NOSTR, NOSTR, NOSTR, false },
	/* -D connect session-expiry-interval 60
	 * -D connect user-property k v */
	{ "v5-props", 5, 0x02, 60, STR("dev5-props"),
	    STR("\x11\x00\x00\x00\x3c" "\x26\x00\x01" "k" "\x00\x01" "v"
	    RECV_MAX_20), NOSTR, NOSTR, NOSTR, NOSTR, NOSTR, false },
	/* -D connect receive-maximum 20 -D connect maximum-packet-size 4096
	 * -D connect topic-alias-maximum 10
	 * -D connect request-problem-information 0
	 * -D connect request-response-information 1
	 * -D connect user-property region eu */
	{ "v5-allprops", 5, 0x02, 60, STR("dev5-allprops"),
	    STR(RECV_MAX_20 "\x27\x00\x00\x10\x00" "\x22\x00\x0a"
	    "\x17\x00" "\x19\x01" "\x26\x00\x06" "region" "\x00\x02" "eu"),
	    NOSTR, NOSTR, NOSTR, NOSTR, NOSTR, false },
	/* -i dev5-will -u erin -P pw5 --will-topic dev/5/status
	 * --will-payload bye --will-qos 1 --will-retain
	 * -D will will-delay-interval 30 -D will payload-format-indicator 1
	 * -D will message-expiry-interval 3600
	 * -D will content-type text/plain -D will response-topic dev/5/resp
	 * -D will correlation-data abc -D will user-property wk wv */
	{ "v5-will", 5, 0xee, 60, STR("dev5-will"), STR(RECV_MAX_20),
	    STR("\x18\x00\x00\x00\x1e" "\x01\x01" "\x02\x00\x00\x0e\x10"
	    "\x03\x00\x0a" "text/plain" "\x08\x00\x0a" "dev/5/resp"
	    "\x09\x00\x03" "abc" "\x26\x00\x02" "wk" "\x00\x02" "wv"),
	    STR("dev/5/status"), STR("bye"), STR("erin"), STR("pw5"), false },
	/* -i dev5-persist -c -x 3600 */
	{ "v5-persist", 5, 0x00, 60, STR("dev5-persist"),
	    STR("\x11\x00\x00\x0e\x10" RECV_MAX_20), NOSTR, NOSTR, NOSTR,
	    NOSTR, NOSTR, false },
};

/* Every field of a parsed real packet, as its command line says. */
static void
check_real_fields(const struct real_expect *e, const struct mqtt_connect *m)
{
	ck_assert_uint_eq(m->level, e->level);
	ck_assert(!m->bridge);
	ck_assert_msg(m->flags == e->flags, "%s: flags 0x%02x, want 0x%02x",
	    e->name, m->flags, e->flags);
	ck_assert_uint_eq(m->keepalive, e->keepalive);
	if (e->level == 3)
		check_span(e->name, "protocol", &m->protocol_name,
		    STR("MQIsdp"));
	else
		check_span(e->name, "protocol", &m->protocol_name,
		    STR("MQTT"));
	check_span(e->name, "properties", &m->properties, e->props,
	    e->props_len);
	check_span(e->name, "client id", &m->client_id, e->client_id,
	    e->client_id_len);
	check_span(e->name, "will properties", &m->will_properties,
	    e->will_props, e->will_props_len);
	check_span(e->name, "will topic", &m->will_topic, e->will_topic,
	    e->will_topic_len);
	check_span(e->name, "will payload", &m->will_payload,
	    e->will_payload, e->will_payload_len);
	check_span(e->name, "username", &m->username, e->username,
	    e->username_len);
	check_span(e->name, "password", &m->password, e->password,
	    e->password_len);
	ck_assert(m->has_will == (e->will_topic != NULL));
	ck_assert(m->has_username == (e->username != NULL));
	ck_assert(m->has_password == (e->password != NULL));
	ck_assert(m->client_id_warn == e->client_id_warn);
}

/* The table covers every capture, and each capture only once. */
START_TEST(test_real_coverage)
{
	size_t i, j, hits;

	ck_assert_uint_eq(NELEM(real_packets), NELEM(captured_packets));
	for (i = 0; i < NELEM(captured_packets); i++) {
		for (hits = 0, j = 0; j < NELEM(real_packets); j++)
			hits += strcmp(real_packets[j].name,
			    captured_packets[i].name) == 0;
		ck_assert_msg(hits == 1, "%s: %zu expectations",
		    captured_packets[i].name, hits);
	}
}
END_TEST

START_TEST(test_real_packet)
{
	const struct real_expect *e = &real_packets[_i];
	const struct captured_packet *p = capture(e->name);
	struct mqtt_connect m;
	uint8_t *copy, *more;
	int rc;

	rc = parse_keep(p->bytes, p->len, BIG, &m, &copy);
	ck_assert_msg(rc == MQTT_OK, "%s: %s", e->name, mqtt_strerror(rc));
	ck_assert_uint_eq(m.packet_len, p->len);
	check_real_fields(e, &m);
	free(copy);

	/* A PUBLISH right behind it in the same read: same answer. */
	more = malloc(p->len + 5);
	ck_assert_ptr_nonnull(more);
	memcpy(more, p->bytes, p->len);
	memcpy(more + p->len, "\x30\x03\x00\x01t", 5);
	rc = mqtt_connect_parse(more, p->len + 5, BIG, &m);
	ck_assert_int_eq(rc, MQTT_OK);
	ck_assert_uint_eq(m.packet_len, p->len);
	check_real_fields(e, &m);
	free(more);

	/* max_size is inclusive. */
	ck_assert_int_eq(parse_rc(p->bytes, p->len, p->len), MQTT_OK);
	ck_assert_int_eq(parse_rc(p->bytes, p->len, p->len - 1),
	    MQTT_TOO_BIG);
}
END_TEST

/* Every proper prefix of a real packet asks for more. */
START_TEST(test_real_prefixes)
{
	const struct captured_packet *p = &captured_packets[_i];
	size_t n;
	int rc;

	for (n = 0; n < p->len; n++) {
		rc = parse_rc(p->bytes, n, BIG);
		ck_assert_msg(rc == MQTT_NEED_MORE, "%s: prefix %zu: %s",
		    p->name, n, mqtt_strerror(rc));
	}
}
END_TEST

/*
 * Flip each bit of a real packet: no crash or over-read, and whenever
 * the result still parses, rebuilding it unchanged gives a packet that
 * parses to the same fields.  Bits in the fixed header and flags give
 * specific errors, checked for the first byte and the flags byte.
 */
START_TEST(test_real_bitflips)
{
	const struct captured_packet *p = &captured_packets[_i];
	size_t bit, flagsoff = p->bytes[3] == 6 ? 11 : 9;

	for (bit = 0; bit < p->len * 8; bit++) {
		uint8_t *copy = copy_of(p->bytes, p->len), *out;
		struct mqtt_connect m, m2;
		int rc;

		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = mqtt_connect_parse(copy, p->len, BIG, &m);
		if (bit / 8 == 0)
			ck_assert_int_eq(rc, bit % 8 < 4 ? MQTT_BAD_FLAGS :
			    MQTT_NOT_CONNECT);
		if (bit / 8 == flagsoff && bit % 8 == 0)
			ck_assert_int_eq(rc, MQTT_BAD_FLAGS);
		if (rc == MQTT_OK) {
			ssize_t n = build_exact(&m, NULL, NULL, NULL, &out);

			ck_assert_int_gt(n, 0);
			ck_assert_int_eq(mqtt_connect_parse(out, (size_t)n,
			    BIG, &m2), MQTT_OK);
			ck_assert_uint_eq(m2.flags, m.flags);
			check_same(p->name, "client id", &m2.client_id,
			    &m.client_id);
			check_same(p->name, "password", &m2.password,
			    &m.password);
			free(out);
		}
		free(copy);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hand-built packets.                                               */

/*
 * Variable-header pieces.  BODY rows hold what follows the fixed
 * header; the test prepends 0x10 and the right remaining length.
 * WHOLE rows are complete byte streams.
 */
#define H31  "\x00\x06" "MQIsdp" "\x03"
#define H311 "\x00\x04" "MQTT" "\x04"
#define H5   "\x00\x04" "MQTT" "\x05"
#define KA   "\x00\x3c"
#define ID   "\x00\x03" "dev"
#define NOPROPS "\x00"

struct raw_case {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	bool body;		/* frame it: 0x10, remaining length, bytes */
	size_t max_size;	/* 0: BIG */
	int expect;
	size_t packet_len;	/* on MQTT_OK: expected packet_len */
};
#define BODY(s)  RAW(s), true
#define WHOLE(s) RAW(s), false

static const struct raw_case raw_cases[] = {
	/* Minimal valid packets of each version, and close variants. */
	{ "3.1 minimal", BODY(H31 "\x02" KA ID), 0, MQTT_OK, 19 },
	{ "3.1.1 minimal", BODY(H311 "\x02" KA ID), 0, MQTT_OK, 17 },
	{ "5.0 minimal", BODY(H5 "\x02" KA NOPROPS ID), 0, MQTT_OK, 18 },
	{ "3.1.1 empty id, clean", BODY(H311 "\x02" KA "\x00\x00"), 0,
	    MQTT_OK, 14 },
	{ "3.1.1 empty id, not clean", BODY(H311 "\x00" KA "\x00\x00"), 0,
	    MQTT_OK, 14 },
	{ "5.0 empty id, not clean", BODY(H5 "\x00" KA NOPROPS "\x00\x00"),
	    0, MQTT_OK, 15 },
	{ "3.1 empty id", BODY(H31 "\x02" KA "\x00\x00"), 0, MQTT_OK, 16 },
	{ "keepalive 0", BODY(H311 "\x02" "\x00\x00" ID), 0, MQTT_OK, 17 },
	{ "will payload binary", BODY(H311 "\x06" KA ID "\x00\x01" "t"
	    "\x00\x03" "\x00\xff\x80"), 0, MQTT_OK, 25 },
	{ "password binary", BODY(H311 "\xc2" KA ID "\x00\x01" "u"
	    "\x00\x03" "\x00\xff\xc0"), 0, MQTT_OK, 25 },
	{ "empty username and password", BODY(H311 "\xc2" KA ID "\x00\x00"
	    "\x00\x00"), 0, MQTT_OK, 21 },
	{ "5.0 password without username", BODY(H5 "\x42" KA NOPROPS ID
	    "\x00\x02" "pw"), 0, MQTT_OK, 22 },
	{ "control character in id", BODY(H311 "\x02" KA "\x00\x03"
	    "d\x01v"), 0, MQTT_OK, 17 },

	/* Not a CONNECT, or a CONNECT with fixed-header flags. */
	{ "empty input", WHOLE(""), 0, MQTT_NEED_MORE, 0 },
	{ "PUBLISH", WHOLE("\x30\x05\x00\x01" "t" "xy"), 0,
	    MQTT_NOT_CONNECT, 0 },
	{ "CONNACK", WHOLE("\x20\x02\x00\x00"), 0, MQTT_NOT_CONNECT, 0 },
	{ "type 0", WHOLE("\x00\x00"), 0, MQTT_NOT_CONNECT, 0 },
	{ "TLS record", WHOLE("\x16\x03\x01\x00\x05"), 0,
	    MQTT_BAD_FLAGS, 0 },
	{ "HTTP", WHOLE("GET / HTTP/1.1\r\n"), 0, MQTT_NOT_CONNECT, 0 },
	{ "fixed flags 0x02", WHOLE("\x12\x11" H311 "\x02" KA ID), 0,
	    MQTT_BAD_FLAGS, 0 },
	{ "fixed flags 0x0f", WHOLE("\x1f"), 0, MQTT_BAD_FLAGS, 0 },

	/* Remaining length. */
	{ "5-byte varint", WHOLE("\x10\xff\xff\xff\xff\x01"), 0,
	    MQTT_BAD_LENGTH, 0 },
	{ "4 continuation bytes", WHOLE("\x10\x80\x80\x80\x80"), 0,
	    MQTT_BAD_LENGTH, 0 },
	{ "largest varint", WHOLE("\x10\xff\xff\xff\x7f"), 0,
	    MQTT_TOO_BIG, 0 },
	{ "largest varint, huge limit", WHOLE("\x10\xff\xff\xff\x7f" H311),
	    (size_t)-1, MQTT_NEED_MORE, 0 },
	{ "non-minimal 2-byte varint", WHOLE("\x10\x8f\x00" H311 "\x02" KA
	    ID), 0, MQTT_OK, 18 },
	{ "non-minimal 4-byte varint", WHOLE("\x10\x8f\x80\x80\x00" H311
	    "\x02" KA ID), 0, MQTT_OK, 20 },
	{ "length one more, byte there", WHOLE("\x10\x10" H311 "\x02" KA ID
	    "x"), 0, MQTT_BAD_LENGTH, 0 },
	/* All fields there and the packet not over: surplus is certain. */
	{ "length one more, byte not yet there", WHOLE("\x10\x10" H311
	    "\x02" KA ID), 0, MQTT_BAD_LENGTH, 0 },
	{ "length one less", WHOLE("\x10\x0e" H311 "\x02" KA ID), 0,
	    MQTT_TRUNCATED, 0 },
	{ "length 0", WHOLE("\x10\x00"), 0, MQTT_TRUNCATED, 0 },
	{ "length ends in protocol name", WHOLE("\x10\x04" H311), 0,
	    MQTT_TRUNCATED, 0 },
	{ "length ends before keepalive", WHOLE("\x10\x09" H311 "\x02" KA
	    ID), 0, MQTT_TRUNCATED, 0 },

	/* Size limit on the whole packet, fixed header included. */
	{ "at max_size", BODY(H311 "\x02" KA ID), 17, MQTT_OK, 17 },
	{ "over max_size", BODY(H311 "\x02" KA ID), 16, MQTT_TOO_BIG, 0 },
	{ "over max_size, header only", WHOLE("\x10\xe8\x07"), 1000,
	    MQTT_TOO_BIG, 0 },

	/* Protocol name and level. */
	{ "name MQTX", BODY("\x00\x04" "MQTX" "\x04\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "name mqtt", BODY("\x00\x04" "mqtt" "\x04\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "name MQTTX", BODY("\x00\x05" "MQTTX" "\x04\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "name length 0x0400", BODY("\x04\x00" "MQTT" "\x04\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "name empty", BODY("\x00\x00" "\x04\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "MQIsdp level 4", BODY("\x00\x06" "MQIsdp" "\x04\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "MQTT level 3", BODY("\x00\x04" "MQTT" "\x03\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "MQTT level 6", BODY("\x00\x04" "MQTT" "\x06\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "MQTT level 0", BODY("\x00\x04" "MQTT" "\x00\x02" KA ID), 0,
	    MQTT_BAD_PROTOCOL, 0 },
	{ "MQTT level 5 bridge", BODY("\x00\x04" "MQTT" "\x85\x02" KA
	    NOPROPS ID), 0, MQTT_BAD_PROTOCOL, 0 },
	{ "MQTT level 0x84 bridge", BODY("\x00\x04" "MQTT" "\x84\x02" KA ID),
	    0, MQTT_OK, 17 },
	{ "MQIsdp level 0x83 bridge", BODY("\x00\x06" "MQIsdp" "\x83\x02" KA
	    ID), 0, MQTT_OK, 19 },

	/* Connect flags. */
	{ "reserved flag", BODY(H311 "\x03" KA ID), 0, MQTT_BAD_FLAGS, 0 },
	{ "reserved flag 3.1", BODY(H31 "\x03" KA ID), 0, MQTT_BAD_FLAGS, 0 },
	{ "reserved flag 5.0", BODY(H5 "\x01" KA NOPROPS ID), 0,
	    MQTT_BAD_FLAGS, 0 },
	{ "will QoS without will", BODY(H311 "\x0a" KA ID), 0,
	    MQTT_BAD_FLAGS, 0 },
	{ "will retain without will", BODY(H311 "\x22" KA ID), 0,
	    MQTT_BAD_FLAGS, 0 },
	{ "will QoS 3", BODY(H311 "\x1e" KA ID "\x00\x01" "t" "\x00\x00"), 0,
	    MQTT_BAD_FLAGS, 0 },
	{ "password without username 3.1.1", BODY(H311 "\x42" KA ID
	    "\x00\x02" "pw"), 0, MQTT_BAD_FLAGS, 0 },
	{ "password without username 3.1", BODY(H31 "\x42" KA ID
	    "\x00\x02" "pw"), 0, MQTT_BAD_FLAGS, 0 },
	{ "flags checked before the rest arrives", WHOLE("\x10\x40" H311
	    "\x03"), 0, MQTT_BAD_FLAGS, 0 },

	/* UTF-8 where the spec wants it; binary fields are not checked. */
	{ "client id 0xff", BODY(H311 "\x02" KA "\x00\x03" "d\xffv"), 0,
	    MQTT_BAD_UTF8, 0 },
	{ "client id NUL", BODY(H311 "\x02" KA "\x00\x03" "d\x00v"), 0,
	    MQTT_BAD_UTF8, 0 },
	{ "client id overlong NUL", BODY(H311 "\x02" KA "\x00\x02"
	    "\xc0\x80"), 0, MQTT_BAD_UTF8, 0 },
	{ "client id surrogate", BODY(H311 "\x02" KA "\x00\x03"
	    "\xed\xa0\x80"), 0, MQTT_BAD_UTF8, 0 },
	{ "client id cut sequence", BODY(H311 "\x02" KA "\x00\x02"
	    "\xe2\x82"), 0, MQTT_BAD_UTF8, 0 },
	{ "username NUL", BODY(H311 "\x82" KA ID "\x00\x03" "u\x00u"), 0,
	    MQTT_BAD_UTF8, 0 },
	{ "username latin-1", BODY(H311 "\x82" KA ID "\x00\x06"
	    "j\xfcrgen"), 0, MQTT_BAD_UTF8, 0 },
	{ "will topic invalid", BODY(H311 "\x06" KA ID "\x00\x02" "t\xfe"
	    "\x00\x00"), 0, MQTT_BAD_UTF8, 0 },
	{ "3.1 client id invalid", BODY(H31 "\x02" KA "\x00\x01" "\x80"), 0,
	    MQTT_BAD_UTF8, 0 },

	/* Fields that run past the packet. */
	{ "client id length 0xffff", BODY(H311 "\x02" KA "\xff\xff" "dev"),
	    0, MQTT_TRUNCATED, 0 },
	{ "client id missing", BODY(H311 "\x02" KA), 0, MQTT_TRUNCATED, 0 },
	{ "client id half a length", BODY(H311 "\x02" KA "\x00"), 0,
	    MQTT_TRUNCATED, 0 },
	{ "will flag, no will", BODY(H311 "\x06" KA ID), 0,
	    MQTT_TRUNCATED, 0 },
	{ "will topic, no payload", BODY(H311 "\x06" KA ID "\x00\x01" "t"),
	    0, MQTT_TRUNCATED, 0 },
	{ "username flag, no username", BODY(H311 "\x82" KA ID), 0,
	    MQTT_TRUNCATED, 0 },
	{ "username too short", BODY(H311 "\x82" KA ID "\x00\x05" "bob"), 0,
	    MQTT_TRUNCATED, 0 },
	{ "password flag, no password", BODY(H311 "\xc2" KA ID "\x00\x01"
	    "u"), 0, MQTT_TRUNCATED, 0 },
	{ "password too short", BODY(H311 "\xc2" KA ID "\x00\x01" "u"
	    "\x00\x09" "pw"), 0, MQTT_TRUNCATED, 0 },
	{ "extra byte after password", BODY(H311 "\xc2" KA ID "\x00\x01" "u"
	    "\x00\x02" "pw" "!"), 0, MQTT_BAD_LENGTH, 0 },
	{ "5.0 properties missing", BODY(H5 "\x02" KA), 0,
	    MQTT_TRUNCATED, 0 },
	{ "5.0 properties past packet", BODY(H5 "\x02" KA "\x05" "\x11\x00"),
	    0, MQTT_TRUNCATED, 0 },
	{ "5.0 will properties past packet", BODY(H5 "\x06" KA NOPROPS ID
	    "\x09"), 0, MQTT_TRUNCATED, 0 },

	/* 5.0 properties. */
	{ "5.0 all CONNECT properties", BODY(H5 "\x02" KA "\x2e"
	    "\x11\x00\x00\x00\x3c" "\x15\x00\x05" "SCRAM"
	    "\x16\x00\x02" "\x01\x02" "\x17\x01" "\x19\x00" "\x21\x00\x0a"
	    "\x22\x00\x00"
	    "\x26\x00\x01" "k" "\x00\x01" "v" "\x26\x00\x01" "k" "\x00\x00"
	    "\x27\x00\x01\x00\x00" ID), 0, MQTT_OK, 64 },
	{ "5.0 all will properties", BODY(H5 "\x06" KA NOPROPS ID "\x2a"
	    "\x01\x00" "\x02\x00\x00\x00\x00" "\x03\x00\x04" "json"
	    "\x08\x00\x03" "r/t" "\x09\x00\x02" "\xff\x00"
	    "\x18\x00\x00\x00\x05" "\x26\x00\x01" "a" "\x00\x01" "b"
	    "\x26\x00\x00" "\x00\x00"
	    "\x00\x01" "t" "\x00\x00"), 0, MQTT_OK, 66 },
	{ "5.0 property id 0", BODY(H5 "\x02" KA "\x02" "\x00\x00" ID), 0,
	    MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 property id 0x99", BODY(H5 "\x02" KA "\x02" "\x99\x00" ID), 0,
	    MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 property id 0x7f", BODY(H5 "\x02" KA "\x02" "\x7f\x00" ID), 0,
	    MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 CONNACK-only property", BODY(H5 "\x02" KA "\x02" "\x24\x01"
	    ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 will property in CONNECT", BODY(H5 "\x02" KA "\x05"
	    "\x18\x00\x00\x00\x01" ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 CONNECT property in will", BODY(H5 "\x06" KA NOPROPS ID "\x05"
	    "\x11\x00\x00\x00\x01" "\x00\x01" "t" "\x00\x00"), 0,
	    MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 duplicate session expiry", BODY(H5 "\x02" KA "\x0a"
	    "\x11\x00\x00\x00\x3c" "\x11\x00\x00\x00\x3c" ID), 0,
	    MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 duplicate will delay", BODY(H5 "\x06" KA NOPROPS ID "\x0a"
	    "\x18\x00\x00\x00\x01" "\x18\x00\x00\x00\x01" "\x00\x01" "t"
	    "\x00\x00"), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 value past block", BODY(H5 "\x02" KA "\x03"
	    "\x11\x00\x00" "\x00\x3c" ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 string past block", BODY(H5 "\x02" KA "\x04" "\x15\x00\x05"
	    "S" "\x00\x03" "dev"), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 user property half", BODY(H5 "\x02" KA "\x04" "\x26\x00\x01"
	    "k" ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 properties length 5 bytes", BODY(H5 "\x02" KA
	    "\x80\x80\x80\x80\x00" ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 receive maximum 0", BODY(H5 "\x02" KA "\x03" "\x21\x00\x00"
	    ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 maximum packet size 0", BODY(H5 "\x02" KA "\x05"
	    "\x27\x00\x00\x00\x00" ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 request problem info 2", BODY(H5 "\x02" KA "\x02" "\x17\x02"
	    ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 request response info 2", BODY(H5 "\x02" KA "\x02" "\x19\x02"
	    ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 payload format 2", BODY(H5 "\x06" KA NOPROPS ID "\x02"
	    "\x01\x02" "\x00\x01" "t" "\x00\x00"), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 auth data without method", BODY(H5 "\x02" KA "\x04"
	    "\x16\x00\x01" "x" ID), 0, MQTT_BAD_PROPERTIES, 0 },
	{ "5.0 user property key not UTF-8", BODY(H5 "\x02" KA "\x07"
	    "\x26\x00\x01" "\xff" "\x00\x01" "v" ID), 0, MQTT_BAD_UTF8, 0 },
	{ "5.0 user property value NUL", BODY(H5 "\x02" KA "\x07"
	    "\x26\x00\x01" "k" "\x00\x01" "\x00" ID), 0, MQTT_BAD_UTF8, 0 },
	{ "5.0 auth method not UTF-8", BODY(H5 "\x02" KA "\x04"
	    "\x15\x00\x01" "\xc1" ID), 0, MQTT_BAD_UTF8, 0 },
	{ "5.0 content type not UTF-8", BODY(H5 "\x06" KA NOPROPS ID "\x04"
	    "\x03\x00\x01" "\xf8" "\x00\x01" "t" "\x00\x00"), 0,
	    MQTT_BAD_UTF8, 0 },
	{ "5.0 properties empty but present", BODY(H5 "\x02" KA "\x00" ID),
	    0, MQTT_OK, 18 },
};

/* Frame a raw case into a heap buffer of exactly the packet's size. */
static uint8_t *
raw_bytes(const struct raw_case *rc, size_t *len)
{
	uint8_t *b;
	size_t n = rc->len, hl = 1;

	if (!rc->body) {
		*len = n;
		return copy_of(rc->bytes, n);
	}
	ck_assert_uint_lt(n, 16384);
	hl += n < 128 ? 1 : 2;
	b = malloc(hl + n);
	ck_assert_ptr_nonnull(b);
	b[0] = 0x10;
	if (n < 128)
		b[1] = (uint8_t)n;
	else {
		b[1] = (uint8_t)(0x80 | (n & 0x7f));
		b[2] = (uint8_t)(n >> 7);
	}
	memcpy(b + hl, rc->bytes, n);
	*len = hl + n;
	return b;
}

START_TEST(test_raw)
{
	const struct raw_case *rc = &raw_cases[_i];
	struct mqtt_connect m;
	size_t len;
	uint8_t *b = raw_bytes(rc, &len);
	int r = mqtt_connect_parse(b, len, rc->max_size ? rc->max_size : BIG,
	    &m);

	ck_assert_msg(r == rc->expect, "%s: got %d (%s), want %d (%s)",
	    rc->name, r, mqtt_strerror(r), rc->expect,
	    mqtt_strerror(rc->expect));
	if (r == MQTT_OK)
		ck_assert_msg(m.packet_len == rc->packet_len,
		    "%s: packet_len %zu, want %zu", rc->name, m.packet_len,
		    rc->packet_len);
	free(b);
}
END_TEST

/* Any prefix of a case answers NEED_MORE or the full packet's answer. */
START_TEST(test_raw_prefixes)
{
	const struct raw_case *rc = &raw_cases[_i];
	size_t len, n;
	uint8_t *b = raw_bytes(rc, &len);
	int want = rc->expect == MQTT_OK ? MQTT_NEED_MORE : rc->expect;

	for (n = 0; n < len; n++) {
		int r = parse_rc(b, n, rc->max_size ? rc->max_size : BIG);

		ck_assert_msg(r == MQTT_NEED_MORE || r == want,
		    "%s: prefix %zu: %s", rc->name, n, mqtt_strerror(r));
	}
	free(b);
}
END_TEST

/* Fields of a few hand-built packets the table cannot show. */
START_TEST(test_raw_fields)
{
	static const uint8_t bridge[] = "\x10\x0f" "\x00\x04" "MQTT" "\x84"
	    "\x02" KA ID;
	static const uint8_t v31empty[] = "\x10\x0e" H31 "\x02" KA
	    "\x00\x00";
	static const uint8_t v311notclean[] = "\x10\x0c" H311 "\x00" KA
	    "\x00\x00";
	static const uint8_t v311clean[] = "\x10\x0c" H311 "\x02" KA
	    "\x00\x00";
	static const uint8_t v5notclean[] = "\x10\x0d" H5 "\x00" KA NOPROPS
	    "\x00\x00";
	static const uint8_t v5pw[] = "\x10\x14" H5 "\x42" KA NOPROPS ID
	    "\x00\x02" "pw";
	static const uint8_t v31id23[] = "\x10\x25" H31 "\x02" KA
	    "\x00\x17" "abcdefghijklmnopqrstuvw";
	struct mqtt_connect m;
	uint8_t *c;

	ck_assert_int_eq(parse_keep(bridge, sizeof bridge - 1, BIG, &m, &c),
	    MQTT_OK);
	ck_assert_uint_eq(m.level, 4);
	ck_assert(m.bridge);
	free(c);

	ck_assert_int_eq(parse_keep(v31empty, sizeof v31empty - 1, BIG, &m,
	    &c), MQTT_OK);
	ck_assert(m.client_id_warn);
	ck_assert_ptr_nonnull(m.client_id.p);
	ck_assert_uint_eq(m.client_id.len, 0);
	free(c);
	ck_assert_int_eq(parse_keep(v31id23, sizeof v31id23 - 1, BIG, &m,
	    &c), MQTT_OK);
	ck_assert(!m.client_id_warn);
	free(c);

	ck_assert_int_eq(parse_keep(v311notclean, sizeof v311notclean - 1,
	    BIG, &m, &c), MQTT_OK);
	ck_assert(m.client_id_warn);
	free(c);
	ck_assert_int_eq(parse_keep(v311clean, sizeof v311clean - 1, BIG,
	    &m, &c), MQTT_OK);
	ck_assert(!m.client_id_warn);
	free(c);
	ck_assert_int_eq(parse_keep(v5notclean, sizeof v5notclean - 1, BIG,
	    &m, &c), MQTT_OK);
	ck_assert(!m.client_id_warn);
	ck_assert_ptr_nonnull(m.properties.p);
	ck_assert_uint_eq(m.properties.len, 0);
	free(c);

	ck_assert_int_eq(parse_keep(v5pw, sizeof v5pw - 1, BIG, &m, &c),
	    MQTT_OK);
	ck_assert(!m.has_username && m.has_password);
	ck_assert_ptr_null(m.username.p);
	check_span("v5pw", "password", &m.password, STR("pw"));
	free(c);
}
END_TEST

/* A CONNECT bigger than 16 KiB: 3-byte remaining length, big fields. */
START_TEST(test_big_packet)
{
	size_t plen = 65535, rem = 10 + 5 + 2 + 1 + 2 + plen;
	size_t len = 1 + 3 + rem;
	uint8_t *b = malloc(len), *o = b;
	struct mqtt_connect m;

	ck_assert_ptr_nonnull(b);
	memcpy(o, "\x10", 1);
	o[1] = (uint8_t)(0x80 | (rem & 0x7f));
	o[2] = (uint8_t)(0x80 | ((rem >> 7) & 0x7f));
	o[3] = (uint8_t)(rem >> 14);
	o += 4;
	memcpy(o, H311 "\xc2" KA "\x00\x03" "dev" "\x00\x01" "u", 18);
	o += 18;
	*o++ = 0xff;
	*o++ = 0xff;
	memset(o, 'p', plen);
	ck_assert_int_eq(mqtt_connect_parse(b, len, len, &m), MQTT_OK);
	ck_assert_uint_eq(m.packet_len, len);
	ck_assert_uint_eq(m.password.len, plen);
	ck_assert_int_eq(mqtt_connect_parse(b, len, len - 1, &m),
	    MQTT_TOO_BIG);
	ck_assert_int_eq(mqtt_connect_parse(b, len - 1, len, &m),
	    MQTT_NEED_MORE);
	free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* UTF-8.                                                            */

struct utf8_case {
	const uint8_t *s;
	size_t len;
	bool valid;
};

static const struct utf8_case utf8_cases[] = {
	{ RAW(""), true },
	{ RAW("plain ascii/+#"), true },
	{ RAW("\x01\x1f\x7f"), true },		/* controls: allowed */
	{ RAW("\xc2\x80"), true },		/* U+0080 */
	{ RAW("\xc3\xa4"), true },		/* ä */
	{ RAW("\xdf\xbf"), true },		/* U+07FF */
	{ RAW("\xe0\xa0\x80"), true },		/* U+0800 */
	{ RAW("\xe2\x82\xac"), true },		/* € */
	{ RAW("\xed\x9f\xbf"), true },		/* U+D7FF */
	{ RAW("\xee\x80\x80"), true },		/* U+E000 */
	{ RAW("\xef\xbb\xbf"), true },		/* BOM U+FEFF */
	{ RAW("\xef\xbf\xbf"), true },		/* U+FFFF non-character */
	{ RAW("\xf0\x90\x80\x80"), true },	/* U+10000 */
	{ RAW("\xf0\x9f\x8c\xa1"), true },	/* 🌡 */
	{ RAW("\xf4\x8f\xbf\xbf"), true },	/* U+10FFFF */
	{ RAW("\x00"), false },			/* U+0000 */
	{ RAW("ab\x00"), false },
	{ RAW("\xc0\x80"), false },		/* overlong U+0000 */
	{ RAW("\xc1\xbf"), false },		/* overlong U+007F */
	{ RAW("\xe0\x80\x80"), false },		/* overlong */
	{ RAW("\xe0\x9f\xbf"), false },		/* overlong U+07FF */
	{ RAW("\xf0\x8f\xbf\xbf"), false },	/* overlong U+FFFF */
	{ RAW("\xed\xa0\x80"), false },		/* U+D800 */
	{ RAW("\xed\xbf\xbf"), false },		/* U+DFFF */
	{ RAW("\xed\xa0\xbd\xed\xb8\x80"), false }, /* CESU-8 pair */
	{ RAW("\xf4\x90\x80\x80"), false },	/* U+110000 */
	{ RAW("\xf5\x80\x80\x80"), false },
	{ RAW("\xf8\x88\x80\x80\x80"), false },	/* 5-byte form */
	{ RAW("\xfe"), false },
	{ RAW("\xff"), false },
	{ RAW("\x80"), false },			/* lone continuation */
	{ RAW("a\xbf"), false },
	{ RAW("\xc3"), false },			/* cut */
	{ RAW("\xe2\x82"), false },
	{ RAW("\xf0\x9f\x8c"), false },
	{ RAW("\xc3\x41"), false },		/* bad continuation */
	{ RAW("\xe2\x28\xa1"), false },
	{ RAW("\xe2\x82\x28"), false },
	{ RAW("\xf0\x9f\x8c\x28"), false },
	{ RAW("\xf0\x9f\x28\xa1"), false },
};

START_TEST(test_utf8)
{
	const struct utf8_case *u = &utf8_cases[_i];
	uint8_t *c = copy_of(u->s, u->len);

	ck_assert_msg(mqtt_utf8_valid(c, u->len) == u->valid,
	    "case %d: want %s", _i, u->valid ? "valid" : "invalid");
	free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rewriting.                                                        */

/* Marks a credential to remove, as opposed to NULL (keep). */
static const char DROP[] = "(drop)";

/* Span for a rewrite argument: NULL keeps, DROP removes, else sets. */
static const struct mqtt_span *
arg_span(const char *s, struct mqtt_span *tmp)
{
	if (s == NULL)
		return NULL;
	tmp->p = s == DROP ? NULL : (const uint8_t *)s;
	tmp->len = s == DROP ? 0 : strlen(s);
	return tmp;
}

/*
 * Build c with the given changes, parse the result again and compare
 * every field with c or with the change; returns the built length.
 */
static size_t
rewrite_check(const char *name, const struct mqtt_connect *c,
    const char *id, const char *user, const char *pass, uint8_t *flagsp)
{
	struct mqtt_span ts[3];
	const struct mqtt_span *sid = arg_span(id, &ts[0]);
	const struct mqtt_span *su = arg_span(user, &ts[1]);
	const struct mqtt_span *sp = arg_span(pass, &ts[2]);
	struct mqtt_connect n;
	uint8_t *out;
	ssize_t len = build_exact(c, sid, su, sp, &out);
	int rc;

	ck_assert_msg(len > 0, "%s: build: %s", name,
	    mqtt_strerror((int)len));
	rc = mqtt_connect_parse(out, (size_t)len, BIG, &n);
	ck_assert_msg(rc == MQTT_OK, "%s: re-parse: %s", name,
	    mqtt_strerror(rc));
	ck_assert_uint_eq(n.packet_len, (size_t)len);
	ck_assert_uint_eq(n.level, c->level);
	ck_assert(n.bridge == c->bridge);
	ck_assert_uint_eq(n.keepalive, c->keepalive);
	ck_assert_uint_eq(n.flags & 0x3f, c->flags & 0x3f);
	check_same(name, "protocol", &n.protocol_name, &c->protocol_name);
	check_same(name, "properties", &n.properties, &c->properties);
	ck_assert(n.has_will == c->has_will);
	check_same(name, "will properties", &n.will_properties,
	    &c->will_properties);
	check_same(name, "will topic", &n.will_topic, &c->will_topic);
	check_same(name, "will payload", &n.will_payload, &c->will_payload);
	if (sid != NULL)
		check_span(name, "client id", &n.client_id, id, strlen(id));
	else
		check_same(name, "client id", &n.client_id, &c->client_id);
	if (su == NULL)
		check_same(name, "username", &n.username, &c->username);
	else if (user == DROP)
		check_span(name, "username", &n.username, NOSTR);
	else
		check_span(name, "username", &n.username, user, strlen(user));
	if (sp == NULL)
		check_same(name, "password", &n.password, &c->password);
	else if (pass == DROP)
		check_span(name, "password", &n.password, NOSTR);
	else
		check_span(name, "password", &n.password, pass, strlen(pass));
	ck_assert(n.has_username == (n.username.p != NULL));
	ck_assert(n.has_password == (n.password.p != NULL));
	if (flagsp != NULL)
		*flagsp = n.flags;
	free(out);
	return (size_t)len;
}

/* Building without changes gives back the captured bytes. */
START_TEST(test_rewrite_identity)
{
	const struct captured_packet *p = &captured_packets[_i];
	struct mqtt_connect m;
	uint8_t *copy, *out;
	ssize_t n;

	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    (ssize_t)p->len);
	n = build_exact(&m, NULL, NULL, NULL, &out);
	ck_assert_int_eq(n, (ssize_t)p->len);
	ck_assert_mem_eq(out, p->bytes, p->len);
	free(out);
	free(copy);
}
END_TEST

/* The rewrites the gateway does, on every capture. */
START_TEST(test_rewrite_all)
{
	const struct captured_packet *p = &captured_packets[_i];
	struct mqtt_connect m;
	uint8_t *copy, f;
	bool v5;

	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	v5 = m.level == MQTT_LEVEL_5;
	/* Bind the client id to a certificate identity, longer... */
	rewrite_check(p->name, &m, "CN=sensor-0042.fleet.example.com/"
	    "serial=4f:2a:99:01", NULL, NULL, &f);
	ck_assert_uint_eq(f, m.flags);
	/* ...and shorter, and empty. */
	rewrite_check(p->name, &m, "s1", NULL, NULL, &f);
	ck_assert_uint_eq(f, m.flags);
	rewrite_check(p->name, &m, "", NULL, NULL, &f);
	ck_assert_uint_eq(f, m.flags);
	/* Put the upstream's credentials in, replacing any. */
	rewrite_check(p->name, &m, NULL, "cloud-user", "cloud-secret-Ü", &f);
	ck_assert_uint_eq(f, (m.flags & 0x3f) | 0xc0);
	/* Both at once. */
	rewrite_check(p->name, &m, "dev-a", "u", "p", &f);
	ck_assert_uint_eq(f, (m.flags & 0x3f) | 0xc0);
	/* Empty credentials are still credentials. */
	rewrite_check(p->name, &m, NULL, "", "", &f);
	ck_assert_uint_eq(f, (m.flags & 0x3f) | 0xc0);
	/* Strip whatever the device sent. */
	rewrite_check(p->name, &m, NULL, DROP, DROP, &f);
	ck_assert_uint_eq(f, m.flags & 0x3f);
	/* A username alone. */
	rewrite_check(p->name, &m, NULL, "token-as-user", DROP, &f);
	ck_assert_uint_eq(f, (m.flags & 0x3f) | 0x80);
	/* A password alone: 5.0 only. */
	if (v5) {
		rewrite_check(p->name, &m, NULL, DROP, "only-pw", &f);
		ck_assert_uint_eq(f, (m.flags & 0x3f) | 0x40);
	} else
		ck_assert_int_eq(mqtt_connect_build(&m, NULL,
		    &(struct mqtt_span){ NULL, 0 },
		    &(struct mqtt_span){ (const uint8_t *)"x", 1 }, NULL, 0),
		    MQTT_BAD_FLAGS);
	free(copy);
}
END_TEST

/*
 * Named scenarios with exact expected flags: the username/password
 * bits follow the new credentials, the will and clean bits stay.
 */
struct rewrite_case {
	const char *name;
	const char *packet;
	const char *id, *user, *pass;	/* NULL keep, DROP remove */
	uint8_t flags;
};

static const struct rewrite_case rewrite_cases[] = {
	{ "3.1.1 longer id", "v311", "gw-bound-device-0001-with-a-long-id",
	    NULL, NULL, 0x02 },
	{ "3.1.1 shorter id", "v311-auth", "d1", NULL, NULL, 0xc2 },
	{ "3.1.1 inject credentials", "v311", NULL, "gw", "pw", 0xc2 },
	{ "3.1.1 replace credentials", "v311-auth", NULL,
	    "upstream-user-name", "a-much-longer-upstream-password", 0xc2 },
	{ "3.1.1 add password to username", "v311-user", NULL, NULL, "pw",
	    0xc2 },
	{ "3.1.1 keep will, replace all", "v311-will", "new-id", "u", "p",
	    0xf6 },
	{ "3.1.1 strip credentials", "v311-auth", NULL, DROP, DROP, 0x02 },
	{ "3.1.1 not clean, empty id", "v311-persist", "", NULL, NULL, 0x00 },
	{ "3.1 inject credentials", "v31", NULL, "gw", "pw", 0xc2 },
	{ "3.1 will, inject credentials", "v31-will", "dev31", "gw", "pw",
	    0xce },
	{ "3.1 shorten long id", "v31-longid", "dev31-short", NULL, NULL,
	    0x02 },
	{ "5.0 will and properties, replace all", "v5-will",
	    "a-longer-id-for-the-5.0-will-packet", "gw-user", "gw-pass", 0xee },
	{ "5.0 properties, inject credentials", "v5-allprops", NULL, "gw",
	    "pw", 0xc2 },
	{ "5.0 password only", "v5-props", NULL, DROP, "secret", 0x42 },
	{ "5.0 strip will credentials", "v5-will", NULL, DROP, DROP, 0x2e },
	{ "5.0 persistent, inject", "v5-persist", "x", "u", "p", 0xc0 },
};

START_TEST(test_rewrite_case)
{
	const struct rewrite_case *rc = &rewrite_cases[_i];
	const struct captured_packet *p = capture(rc->packet);
	struct mqtt_connect m;
	uint8_t *copy, f;

	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	rewrite_check(rc->name, &m, rc->id, rc->user, rc->pass, &f);
	ck_assert_msg(f == rc->flags, "%s: flags 0x%02x, want 0x%02x",
	    rc->name, f, rc->flags);
	free(copy);
}
END_TEST

/* Exact bytes, worked out by hand from the spec. */
START_TEST(test_rewrite_golden)
{
	static const uint8_t v311_creds[] = "\x10\x1e" "\x00\x04" "MQTT"
	    "\x04\xc2\x00\x3c" "\x00\x06" "dev311" "\x00\x04" "user"
	    "\x00\x04" "pass";
	static const uint8_t v5_stripped[] = "\x10\x5a" "\x00\x04" "MQTT"
	    "\x05\x2e\x00\x3c" "\x03" RECV_MAX_20 "\x00\x01" "X"
	    "\x35" "\x18\x00\x00\x00\x1e" "\x01\x01" "\x02\x00\x00\x0e\x10"
	    "\x03\x00\x0a" "text/plain" "\x08\x00\x0a" "dev/5/resp"
	    "\x09\x00\x03" "abc" "\x26\x00\x02" "wk" "\x00\x02" "wv"
	    "\x00\x0c" "dev/5/status" "\x00\x03" "bye";
	const struct captured_packet *p;
	struct mqtt_span user = { (const uint8_t *)"user", 4 };
	struct mqtt_span pass = { (const uint8_t *)"pass", 4 };
	struct mqtt_span id = { (const uint8_t *)"X", 1 };
	struct mqtt_span none = { NULL, 0 };
	struct mqtt_connect m;
	uint8_t *copy, *out;
	ssize_t n;

	p = capture("v311");
	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	n = build_exact(&m, NULL, &user, &pass, &out);
	ck_assert_int_eq(n, (ssize_t)sizeof v311_creds - 1);
	ck_assert_mem_eq(out, v311_creds, sizeof v311_creds - 1);
	free(out);
	free(copy);

	p = capture("v5-will");
	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	n = build_exact(&m, &id, &none, &none, &out);
	ck_assert_int_eq(n, (ssize_t)sizeof v5_stripped - 1);
	ck_assert_mem_eq(out, v5_stripped, sizeof v5_stripped - 1);
	free(out);
	free(copy);
}
END_TEST

/*
 * Remaining-length encodings that grow and shrink: a password whose
 * length puts the remaining length on each side of 127 and 16383.
 */
START_TEST(test_rewrite_varint_edges)
{
	static const size_t sizes[] = { 0, 1, 100, 104, 105, 106, 127, 128,
	    16000, 16359, 16360, 16361, 16383, 16384, 65535 };
	const struct captured_packet *p = capture("v311");
	struct mqtt_connect m, n, back;
	struct mqtt_span user = { (const uint8_t *)"u", 1 }, pass;
	uint8_t *copy, *out, *out2, *pw = malloc(65536);
	size_t i, rem, want_hdr;
	ssize_t len, len2;

	ck_assert_ptr_nonnull(pw);
	memset(pw, 'p', 65536);
	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	for (i = 0; i < NELEM(sizes); i++) {
		pass.p = pw;
		pass.len = sizes[i];
		len = build_exact(&m, NULL, &user, &pass, &out);
		ck_assert_int_gt(len, 0);
		rem = 18 + 3 + 2 + sizes[i];
		want_hdr = rem < 128 ? 2 : rem < 16384 ? 3 : 4;
		ck_assert_uint_eq((size_t)len, want_hdr + rem);
		ck_assert_int_eq(mqtt_connect_parse(out, (size_t)len, BIG, &n),
		    MQTT_OK);
		ck_assert_uint_eq(n.password.len, sizes[i]);
		/* And back down to the original. */
		len2 = build_exact(&n, NULL, &(struct mqtt_span){ NULL, 0 },
		    &(struct mqtt_span){ NULL, 0 }, &out2);
		ck_assert_int_eq(len2, (ssize_t)p->len);
		ck_assert_mem_eq(out2, p->bytes, p->len);
		ck_assert_int_eq(mqtt_connect_parse(out2, (size_t)len2, BIG,
		    &back), MQTT_OK);
		free(out2);
		free(out);
	}
	pass.len = 65536;
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, &user, &pass, NULL, 0),
	    MQTT_BAD_LENGTH);
	free(copy);
	free(pw);
}
END_TEST

/* Too small an output buffer: an error, and not a byte written. */
START_TEST(test_build_outcap)
{
	const struct captured_packet *p = &captured_packets[_i];
	struct mqtt_span id = { (const uint8_t *)"replacement", 11 };
	struct mqtt_connect m;
	uint8_t *copy, buf[512];
	ssize_t need;
	size_t cap, k;

	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	need = mqtt_connect_build(&m, &id, NULL, NULL, NULL, 0);
	ck_assert_int_gt(need, 0);
	ck_assert_uint_lt((size_t)need, sizeof buf);
	for (cap = 0; cap < (size_t)need; cap++) {
		memset(buf, 0xa5, sizeof buf);
		ck_assert_int_eq(mqtt_connect_build(&m, &id, NULL, NULL, buf,
		    cap), MQTT_TOO_BIG);
		for (k = 0; k < sizeof buf; k++)
			ck_assert_uint_eq(buf[k], 0xa5);
	}
	ck_assert_int_eq(mqtt_connect_build(&m, &id, NULL, NULL, buf,
	    sizeof buf), need);
	free(copy);
}
END_TEST

/* Replacements the builder refuses. */
struct build_bad {
	const char *name;
	const char *packet;
	const uint8_t *id;		/* NULL: keep */
	size_t id_len;
	const uint8_t *user;		/* NULL: keep */
	size_t user_len;
	const uint8_t *pass;		/* NULL: keep */
	size_t pass_len;
	int expect;
};
#define KEEP NULL, 0

static const struct build_bad build_bads[] = {
	{ "id not UTF-8", "v311", RAW("d\xffv"), KEEP, KEEP, MQTT_BAD_UTF8 },
	{ "id NUL", "v5", RAW("d\x00v"), KEEP, KEEP, MQTT_BAD_UTF8 },
	{ "id surrogate", "v31", RAW("\xed\xb0\x80"), KEEP, KEEP,
	    MQTT_BAD_UTF8 },
	{ "username NUL", "v311", KEEP, RAW("us\x00r"), RAW("pw"),
	    MQTT_BAD_UTF8 },
	{ "username latin-1", "v5-will", KEEP, RAW("j\xfcrgen"), KEEP,
	    MQTT_BAD_UTF8 },
	{ "password without username 3.1.1", "v311", KEEP, KEEP, RAW("pw"),
	    MQTT_BAD_FLAGS },
	{ "password without username 3.1", "v31", KEEP, KEEP, RAW("pw"),
	    MQTT_BAD_FLAGS },
};

START_TEST(test_build_bad)
{
	const struct build_bad *b = &build_bads[_i];
	const struct captured_packet *p = capture(b->packet);
	struct mqtt_span id = { b->id, b->id_len };
	struct mqtt_span user = { b->user, b->user_len };
	struct mqtt_span pass = { b->pass, b->pass_len };
	struct mqtt_connect m;
	uint8_t *copy, out[256];
	ssize_t r;

	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	r = mqtt_connect_build(&m, b->id ? &id : NULL,
	    b->user ? &user : NULL, b->pass ? &pass : NULL, NULL, 0);
	ck_assert_msg(r == b->expect, "%s: size query %zd, want %d",
	    b->name, r, b->expect);
	r = mqtt_connect_build(&m, b->id ? &id : NULL,
	    b->user ? &user : NULL, b->pass ? &pass : NULL, out, sizeof out);
	ck_assert_msg(r == b->expect, "%s: got %zd, want %d", b->name, r,
	    b->expect);
	free(copy);
}
END_TEST

/* Over-long fields: the id, the username and a kept will topic. */
START_TEST(test_build_long_fields)
{
	uint8_t *big = malloc(65536), *copy;
	struct mqtt_span s = { NULL, 65536 }, ok = { NULL, 65535 };
	struct mqtt_connect m;
	const struct captured_packet *p = capture("v311-will");

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 65536);
	s.p = ok.p = big;
	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	ck_assert_int_eq(mqtt_connect_build(&m, &s, NULL, NULL, NULL, 0),
	    MQTT_BAD_LENGTH);
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, &s, NULL, NULL, 0),
	    MQTT_BAD_LENGTH);
	ck_assert_int_gt(mqtt_connect_build(&m, &ok, &ok, &ok, NULL, 0), 0);
	m.will_topic = s;
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    MQTT_BAD_LENGTH);
	free(copy);
	free(big);
}
END_TEST

/*
 * Sizes near the 268435455-byte limit, asked with out == NULL so that
 * no field byte is read: the 3- and 4-byte remaining lengths, and the
 * refusals past the limit.
 */
START_TEST(test_build_limits)
{
	static const uint8_t dummy[1];
	const struct captured_packet *p = capture("v5-will");
	struct mqtt_connect m;
	uint8_t *copy;
	size_t base, small;

	ck_assert_int_eq(parse_keep(p->bytes, p->len, BIG, &m, &copy),
	    MQTT_OK);
	/* Remaining length without the CONNECT properties and their
	 * 1-byte length: 109 - 1 - 3. */
	base = 105;
	small = m.properties.len;
	m.properties.p = dummy;
	m.properties.len = 2097151 - base - 3;	/* 3-byte lengths */
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    (ssize_t)(1 + 3 + 2097151));
	m.properties.len = 3000000;		/* 4-byte lengths */
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    (ssize_t)(1 + 4 + base + 4 + 3000000));
	m.properties.len = MQTT_MAX_REMAINING - base - 4;
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    (ssize_t)(1 + 4 + MQTT_MAX_REMAINING));
	m.properties.len++;
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    MQTT_TOO_BIG);
	m.properties.len = small;
	m.will_properties.p = dummy;
	m.will_properties.len = MQTT_MAX_REMAINING + 1;
	ck_assert_int_eq(mqtt_connect_build(&m, NULL, NULL, NULL, NULL, 0),
	    MQTT_TOO_BIG);
	free(copy);
}
END_TEST

START_TEST(test_strerror)
{
	int r;

	for (r = MQTT_TRUNCATED; r <= MQTT_NEED_MORE; r++)
		ck_assert_str_ne(mqtt_strerror(r), "unknown MQTT error");
	ck_assert_str_eq(mqtt_strerror(42), "unknown MQTT error");
}
END_TEST

static Suite *
mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *real = tcase_create("real");
	TCase *raw = tcase_create("raw");
	TCase *utf8 = tcase_create("utf8");
	TCase *build = tcase_create("build");

	tcase_add_test(real, test_real_coverage);
	tcase_add_loop_test(real, test_real_packet, 0, NELEM(real_packets));
	tcase_add_loop_test(real, test_real_prefixes, 0,
	    NELEM(captured_packets));
	tcase_add_loop_test(real, test_real_bitflips, 0,
	    NELEM(captured_packets));
	tcase_add_loop_test(raw, test_raw, 0, NELEM(raw_cases));
	tcase_add_loop_test(raw, test_raw_prefixes, 0, NELEM(raw_cases));
	tcase_add_test(raw, test_raw_fields);
	tcase_add_test(raw, test_big_packet);
	tcase_add_test(raw, test_strerror);
	tcase_add_loop_test(utf8, test_utf8, 0, NELEM(utf8_cases));
	tcase_add_loop_test(build, test_rewrite_identity, 0,
	    NELEM(captured_packets));
	tcase_add_loop_test(build, test_rewrite_all, 0,
	    NELEM(captured_packets));
	tcase_add_loop_test(build, test_rewrite_case, 0,
	    NELEM(rewrite_cases));
	tcase_add_test(build, test_rewrite_golden);
	tcase_add_test(build, test_rewrite_varint_edges);
	tcase_add_loop_test(build, test_build_outcap, 0,
	    NELEM(captured_packets));
	tcase_add_loop_test(build, test_build_bad, 0, NELEM(build_bads));
	tcase_add_test(build, test_build_long_fields);
	tcase_add_test(build, test_build_limits);
	suite_add_tcase(s, real);
	suite_add_tcase(s, raw);
	suite_add_tcase(s, utf8);
	suite_add_tcase(s, build);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mqtt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
