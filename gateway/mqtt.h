/*
 * mqtt.h: the first packet of an MQTT session, the CONNECT, read and
 * rewritten by the gateway before it passes everything else through
 * untouched.  MQTT 3.1 ("MQIsdp", level 3), 3.1.1 ("MQTT", level 4)
 * and 5.0 ("MQTT", level 5).
 *
 * No allocation, no I/O, no libevent or wolfSSL: the parser returns
 * views into the caller's buffer, the builder writes into the caller's
 * buffer.  Byte-wise access only (safe on strict-alignment CPUs), sizes
 * fit in 32 bits.
 */
#ifndef TLSGW_MQTT_H
#define TLSGW_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Protocol levels, as on the wire without the bridge bit. */
#define MQTT_LEVEL_31   3
#define MQTT_LEVEL_311  4
#define MQTT_LEVEL_5    5

/* CONNECT flags byte. */
#define MQTT_CF_RESERVED     0x01   /* must be 0 */
#define MQTT_CF_CLEAN        0x02   /* clean session / clean start */
#define MQTT_CF_WILL         0x04
#define MQTT_CF_WILL_QOS     0x18   /* 2 bits: (flags >> 3) & 3 */
#define MQTT_CF_WILL_RETAIN  0x20
#define MQTT_CF_PASSWORD     0x40
#define MQTT_CF_USERNAME     0x80

/* Largest remaining length a 4-byte variable byte integer holds. */
#define MQTT_MAX_REMAINING   268435455u
/* Largest string or binary field (2-byte length prefix). */
#define MQTT_MAX_FIELD       65535u

/*
 * Results of mqtt_connect_parse, and the negative returns of
 * mqtt_connect_build.  Parsing is incremental: on a prefix of a packet
 * the parser answers MQTT_NEED_MORE unless the bytes seen already prove
 * the packet bad, in which case it answers the very error the whole
 * packet would get.
 */
enum mqtt_result {
	MQTT_OK = 0,
	/* A CONNECT so far; wait for more bytes. */
	MQTT_NEED_MORE = 1,
	/* First byte is not a CONNECT (packet type 1). */
	MQTT_NOT_CONNECT = -1,
	/* Remaining length over 4 bytes, or bytes left over after the
	 * last field; (build) a field over 65535 bytes. */
	MQTT_BAD_LENGTH = -2,
	/* Protocol name and level are not 3.1, 3.1.1 or 5.0. */
	MQTT_BAD_PROTOCOL = -3,
	/* Fixed-header flags not 0, reserved connect flag set, will QoS
	 * 3, will QoS or retain without will, password without username
	 * before 5.0. */
	MQTT_BAD_FLAGS = -4,
	/* Client id, will topic, username or a 5.0 string property is
	 * not MQTT UTF-8 (see mqtt_utf8_valid). */
	MQTT_BAD_UTF8 = -5,
	/* 5.0: a property not allowed in a CONNECT or a will, repeated,
	 * cut short by its block, or with a value the spec forbids. */
	MQTT_BAD_PROPERTIES = -6,
	/* Packet over max_size; (build) output over outcap or over the
	 * 268435455-byte remaining length. */
	MQTT_TOO_BIG = -7,
	/* A field runs past the remaining length. */
	MQTT_TRUNCATED = -8,
};

/* A view of len bytes at p.  p == NULL: the field is absent. */
struct mqtt_span {
	const uint8_t *p;
	size_t len;
};

/* A parsed CONNECT: views into the parsed buffer, no copies. */
struct mqtt_connect {
	uint8_t level;        /* MQTT_LEVEL_*, bridge bit removed */
	bool bridge;          /* level byte had 0x80 (mosquitto bridge
	                       * try_private; 3.1 and 3.1.1 only) */
	uint8_t flags;        /* connect flags as sent, MQTT_CF_* */
	uint16_t keepalive;   /* seconds */
	struct mqtt_span protocol_name;   /* "MQIsdp" or "MQTT" */
	struct mqtt_span properties;      /* 5.0 CONNECT properties, raw,
	                                   * without their length prefix */
	struct mqtt_span client_id;
	struct mqtt_span will_properties; /* 5.0, raw, without length */
	struct mqtt_span will_topic;
	struct mqtt_span will_payload;
	struct mqtt_span username;
	struct mqtt_span password;
	bool has_will, has_username, has_password;
	/*
	 * The client id breaks a rule that brokers enforce with a CONNACK
	 * refusal, not as a protocol error, and unevenly: 3.1 wants 1 to 23
	 * bytes; 3.1.1 wants a non-empty id unless clean session is set.
	 * The parser accepts it; the caller may replace the id or refuse.
	 */
	bool client_id_warn;
	size_t packet_len;    /* fixed header + remaining length */
};

/*
 * Parse the CONNECT at the start of buf (len bytes of the device's
 * byte stream; bytes after the packet are ignored).  max_size bounds
 * the whole packet, fixed header included.  Returns an enum
 * mqtt_result; *out is filled only on MQTT_OK, and then points into
 * buf.  Checks the wire format only: topic names, the semantics of
 * property values beyond the protocol-error rules and broker policy
 * (id length, credentials) are left to the broker.
 */
int mqtt_connect_parse(const uint8_t *buf, size_t len, size_t max_size,
    struct mqtt_connect *out);

/* A short human text for a result ("not a CONNECT packet", ...). */
const char *mqtt_strerror(int result);

/*
 * Build a CONNECT from a parsed one, c, with new fields:
 *   client_id  NULL keeps c's; else the new id (p == NULL: empty id).
 *   username,
 *   password   NULL keeps c's field (present or not); a span with
 *              p == NULL removes the field; else sets it (an empty
 *              value needs a non-NULL p).
 * Everything else is copied byte for byte: protocol name, level byte,
 * clean session, keepalive, 5.0 properties, the will and its
 * properties.  The username/password flags and the lengths are
 * recomputed, with the shortest encodings.
 *
 * With out == NULL returns the length it would write.  Otherwise
 * writes into out (which must not overlap c's buffer or the new
 * fields) and returns the length, or a negative enum mqtt_result:
 * MQTT_TOO_BIG (does not fit outcap; out is left untouched),
 * MQTT_BAD_LENGTH (a field over 65535 bytes), MQTT_BAD_UTF8 (client id
 * or username), MQTT_BAD_FLAGS (password without username before 5.0).
 */
ssize_t mqtt_connect_build(const struct mqtt_connect *c,
    const struct mqtt_span *client_id, const struct mqtt_span *username,
    const struct mqtt_span *password, uint8_t *out, size_t outcap);

/*
 * Is s well-formed UTF-8 as MQTT requires: shortest form, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no U+0000?
 * Control characters and non-characters pass (the spec lets receivers
 * refuse them; mosquitto does).
 */
bool mqtt_utf8_valid(const uint8_t *s, size_t len);

#endif
