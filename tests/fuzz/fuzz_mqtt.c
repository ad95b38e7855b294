/*
 * fuzz_mqtt.c: libFuzzer target for the MQTT CONNECT parser and
 * builder (gateway/mqtt.c), the first bytes a device controls.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined -Igateway \
 *       tests/fuzz/fuzz_mqtt.c gateway/mqtt.c -o fuzz_mqtt
 *   ./fuzz_mqtt -max_len=4096 tests/fuzz/corpus/mqtt
 *
 * Seeds: the captured CONNECTs of tests/data/mqtt (capture.sh copies
 * them).  Beyond "no crash, no over-read", it checks what the gateway
 * relies on:
 *  - a prefix of the input answers NEED_MORE or the input's own answer;
 *  - a parsed packet lies inside the input, its text fields are UTF-8;
 *  - rebuilding it, unchanged or with a new client id and credentials,
 *    gives a packet that parses again to the same fields, and
 *    rebuilding that gives the same bytes;
 *  - mqtt_utf8_valid agrees with a plain code-point decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

#include "fuzz_check.h"

#define LIMIT (1u << 20)

/* Reference UTF-8 check: decode each code point, then judge it. */
static bool
ref_utf8(const uint8_t *s, size_t n)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		uint8_t b = s[i];

		if (b < 0x80) {
			cp = b;
			len = 1;
		} else if ((b & 0xe0) == 0xc0) {
			cp = b & 0x1f;
			len = 2;
		} else if ((b & 0xf0) == 0xe0) {
			cp = b & 0x0f;
			len = 3;
		} else if ((b & 0xf8) == 0xf0) {
			cp = b & 0x07;
			len = 4;
		} else
			return false;
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min[len] || cp == 0 || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static bool
span_eq(const struct mqtt_span *a, const struct mqtt_span *b)
{
	return (a->p == NULL) == (b->p == NULL) && a->len == b->len &&
	    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* A span lies inside [base, base + len) (absent spans do). */
static bool
span_in(const struct mqtt_span *s, const uint8_t *base, size_t len)
{
	return s->p == NULL ||
	    (s->p >= base && s->len <= len &&
	    (size_t)(s->p - base) <= len - s->len);
}

/* Fields the builder must carry over unchanged. */
static void
check_kept(const struct mqtt_connect *a, const struct mqtt_connect *b)
{
	CHECK(a->level == b->level && a->bridge == b->bridge);
	CHECK((a->flags & 0x3f) == (b->flags & 0x3f));
	CHECK(a->keepalive == b->keepalive);
	CHECK(span_eq(&a->protocol_name, &b->protocol_name));
	CHECK(span_eq(&a->properties, &b->properties));
	CHECK(a->has_will == b->has_will);
	CHECK(span_eq(&a->will_properties, &b->will_properties));
	CHECK(span_eq(&a->will_topic, &b->will_topic));
	CHECK(span_eq(&a->will_payload, &b->will_payload));
}

/*
 * Build m with the given changes into an exact heap buffer, parse it,
 * check the fields, and check that building the result unchanged
 * gives the very same bytes.
 */
static void
rebuild(const struct mqtt_connect *m, const struct mqtt_span *id,
    const struct mqtt_span *user, const struct mqtt_span *pass)
{
	struct mqtt_connect n;
	ssize_t need, len, len2;
	uint8_t *out, *out2;

	need = mqtt_connect_build(m, id, user, pass, NULL, 0);
	CHECK(need > 0);
	out = malloc((size_t)need);
	CHECK(out != NULL);
	len = mqtt_connect_build(m, id, user, pass, out, (size_t)need);
	CHECK(len == need);
	CHECK(mqtt_connect_build(m, id, user, pass, out,
	    (size_t)need - 1) == MQTT_TOO_BIG);
	CHECK(mqtt_connect_parse(out, (size_t)len, (size_t)len, &n) ==
	    MQTT_OK);
	CHECK(n.packet_len == (size_t)len);
	check_kept(m, &n);
	CHECK(span_eq(&n.client_id, id != NULL ? id : &m->client_id) ||
	    (id != NULL && id->p == NULL && n.client_id.len == 0));
	if (user == NULL)
		CHECK(span_eq(&n.username, &m->username));
	else
		CHECK(span_eq(&n.username, user));
	if (pass == NULL)
		CHECK(span_eq(&n.password, &m->password));
	else
		CHECK(span_eq(&n.password, pass));

	len2 = mqtt_connect_build(&n, NULL, NULL, NULL, NULL, 0);
	CHECK(len2 == len);
	out2 = malloc((size_t)len2);
	CHECK(out2 != NULL);
	CHECK(mqtt_connect_build(&n, NULL, NULL, NULL, out2, (size_t)len2) ==
	    len2);
	CHECK(memcmp(out, out2, (size_t)len) == 0);
	free(out2);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mqtt_span new_id = {
		(const uint8_t *)"CN=device-0042.fleet.example", 28 };
	static const struct mqtt_span user = {
		(const uint8_t *)"cloud-user", 10 };
	static const struct mqtt_span pass = {
		(const uint8_t *)"cloud-secret", 12 };
	static const struct mqtt_span none = { NULL, 0 };
	struct mqtt_connect m, m2;
	size_t cuts[3], i;
	int rc, r;

	CHECK(mqtt_utf8_valid(data, size) == ref_utf8(data, size));

	rc = mqtt_connect_parse(data, size, LIMIT, &m);
	CHECK(rc >= MQTT_TRUNCATED && rc <= MQTT_NEED_MORE);
	CHECK(mqtt_strerror(rc) != NULL);

	/* Prefixes: half, all but one byte, and one picked by the data. */
	cuts[0] = size / 2;
	cuts[1] = size > 0 ? size - 1 : 0;
	cuts[2] = size > 0 ? data[size - 1] % size : 0;
	for (i = 0; i < 3; i++) {
		r = mqtt_connect_parse(data, cuts[i], LIMIT, &m2);
		if (rc == MQTT_OK && cuts[i] >= m.packet_len)
			CHECK(r == MQTT_OK && m2.packet_len == m.packet_len);
		else
			CHECK(r == MQTT_NEED_MORE ||
			    (r == rc && rc != MQTT_OK));
	}
	if (rc != MQTT_OK)
		return 0;

	CHECK(m.packet_len >= 2 && m.packet_len <= size);
	CHECK(m.level >= MQTT_LEVEL_31 && m.level <= MQTT_LEVEL_5);
	CHECK(span_in(&m.protocol_name, data, m.packet_len));
	CHECK(span_in(&m.properties, data, m.packet_len));
	CHECK(span_in(&m.client_id, data, m.packet_len));
	CHECK(span_in(&m.will_properties, data, m.packet_len));
	CHECK(span_in(&m.will_topic, data, m.packet_len));
	CHECK(span_in(&m.will_payload, data, m.packet_len));
	CHECK(span_in(&m.username, data, m.packet_len));
	CHECK(span_in(&m.password, data, m.packet_len));
	CHECK(ref_utf8(m.client_id.p, m.client_id.len));
	CHECK(ref_utf8(m.will_topic.p, m.will_topic.len));
	CHECK(ref_utf8(m.username.p, m.username.len));
	CHECK(m.has_will == (m.will_topic.p != NULL));
	CHECK(m.has_username == (m.username.p != NULL));
	CHECK(m.has_password == (m.password.p != NULL));
	CHECK(mqtt_connect_parse(data, m.packet_len, m.packet_len, &m2) ==
	    MQTT_OK);
	CHECK(mqtt_connect_parse(data, m.packet_len, m.packet_len - 1,
	    &m2) == MQTT_TOO_BIG);

	rebuild(&m, NULL, NULL, NULL);
	rebuild(&m, &new_id, NULL, NULL);
	rebuild(&m, &none, NULL, NULL);
	rebuild(&m, &new_id, &user, &pass);
	rebuild(&m, NULL, &none, &none);
	rebuild(&m, NULL, &user, &none);
	if (m.level == MQTT_LEVEL_5)
		rebuild(&m, NULL, &none, &pass);
	else
		CHECK(mqtt_connect_build(&m, NULL, &none, &pass, NULL, 0) ==
		    MQTT_BAD_FLAGS);
	return 0;
}
