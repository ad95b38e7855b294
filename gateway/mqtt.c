/*
 * mqtt.c: read, check and rewrite the MQTT CONNECT a device sends
 * first (3.1, 3.1.1, 5.0).  Everything after it is not our business.
 *
 * The parser walks the packet once with a cursor that knows both how
 * many bytes have arrived and where the packet ends (from the fixed
 * header), so a field that runs past the packet is an error at once,
 * and a field that runs past the bytes seen so far means "need more".
 */
#include <string.h>

#include "mqtt.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Bytes [pos, avail) of buf are present; the packet ends at end.
 * mqtt_need looks at end first, so a field past the packet is an
 * error whether or not its bytes (or later packets') have arrived.
 */
struct mqtt_cur {
	const uint8_t *buf;
	size_t pos, avail, end;
};

/* 5.0 property value types. */
enum {
	PT_BYTE = 1, PT_U16, PT_U32, PT_STR, PT_BIN, PT_PAIR
};
/* Where a property may appear. */
#define IN_CONNECT 0x01
#define IN_WILL    0x02
/* Value rules whose breach the spec calls a protocol error. */
enum {
	PR_ANY = 0, PR_BOOL, PR_NONZERO
};

/* The 5.0 properties allowed in a CONNECT or in its will; others are
 * an error here even when valid in other packets. */
static const struct mqtt_prop {
	uint8_t type, where, rule;
} mqtt_prop_table[] = {
	[0x01] = { PT_BYTE, IN_WILL, PR_BOOL },     /* payload format */
	[0x02] = { PT_U32, IN_WILL, PR_ANY },       /* message expiry */
	[0x03] = { PT_STR, IN_WILL, PR_ANY },       /* content type */
	[0x08] = { PT_STR, IN_WILL, PR_ANY },       /* response topic */
	[0x09] = { PT_BIN, IN_WILL, PR_ANY },       /* correlation data */
	[0x11] = { PT_U32, IN_CONNECT, PR_ANY },    /* session expiry */
	[0x15] = { PT_STR, IN_CONNECT, PR_ANY },    /* auth method */
	[0x16] = { PT_BIN, IN_CONNECT, PR_ANY },    /* auth data */
	[0x17] = { PT_BYTE, IN_CONNECT, PR_BOOL },  /* request problem info */
	[0x18] = { PT_U32, IN_WILL, PR_ANY },       /* will delay */
	[0x19] = { PT_BYTE, IN_CONNECT, PR_BOOL },  /* request response info */
	[0x21] = { PT_U16, IN_CONNECT, PR_NONZERO },/* receive maximum */
	[0x22] = { PT_U16, IN_CONNECT, PR_ANY },    /* topic alias maximum */
	[0x26] = { PT_PAIR, IN_CONNECT | IN_WILL, PR_ANY }, /* user property */
	[0x27] = { PT_U32, IN_CONNECT, PR_NONZERO },/* maximum packet size */
};
#define PROP_USER      0x26
#define PROP_AUTH_METH 0x15
#define PROP_AUTH_DATA 0x16

static uint16_t
mqtt_get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Can n more bytes be read at the cursor? */
static int
mqtt_need(const struct mqtt_cur *c, size_t n)
{
	if (n > c->end - c->pos)
		return MQTT_TRUNCATED;
	if (n > c->avail - c->pos)
		return MQTT_NEED_MORE;
	return MQTT_OK;
}

/* Read a variable byte integer (1 to 4 bytes); a 5th byte is "bad". */
static int
mqtt_varint(struct mqtt_cur *c, uint32_t *v, int bad)
{
	uint32_t val = 0;
	size_t i;
	int rc;

	for (i = 0; i < 4; i++) {
		if ((rc = mqtt_need(c, i + 1)) != MQTT_OK)
			return rc;
		val |= (uint32_t)(c->buf[c->pos + i] & 0x7f) << (7 * i);
		if ((c->buf[c->pos + i] & 0x80) == 0) {
			c->pos += i + 1;
			*v = val;
			return MQTT_OK;
		}
	}
	return bad;
}

/* Read a field with a 2-byte length prefix; utf8: check it as text. */
static int
mqtt_field(struct mqtt_cur *c, struct mqtt_span *s, bool utf8)
{
	size_t n;
	int rc;

	if ((rc = mqtt_need(c, 2)) != MQTT_OK)
		return rc;
	n = mqtt_get16(c->buf + c->pos);
	if ((rc = mqtt_need(c, 2 + n)) != MQTT_OK)
		return rc;
	s->p = c->buf + c->pos + 2;
	s->len = n;
	c->pos += 2 + n;
	if (utf8 && !mqtt_utf8_valid(s->p, s->len))
		return MQTT_BAD_UTF8;
	return MQTT_OK;
}

/* Check a complete 5.0 property block for a CONNECT or a will. */
static int
mqtt_props_check(const uint8_t *p, size_t n, uint8_t where)
{
	uint64_t seen = 0;
	size_t i = 0, k, nstr, l;
	uint32_t val;

	while (i < n) {
		uint8_t id = p[i++];
		const struct mqtt_prop *d;

		/* Ids are variable byte integers; all defined ones fit one
		 * byte, so a continuation bit means an unknown id. */
		if (id >= NELEM(mqtt_prop_table) ||
		    !(mqtt_prop_table[id].where & where))
			return MQTT_BAD_PROPERTIES;
		d = &mqtt_prop_table[id];
		if (id != PROP_USER) {
			if (seen & ((uint64_t)1 << id))
				return MQTT_BAD_PROPERTIES;
			seen |= (uint64_t)1 << id;
		}
		val = 0;
		switch (d->type) {
		case PT_BYTE:
		case PT_U16:
		case PT_U32:
			l = d->type == PT_BYTE ? 1 : d->type == PT_U16 ? 2 : 4;
			if (n - i < l)
				return MQTT_BAD_PROPERTIES;
			for (k = 0; k < l; k++)
				val = val << 8 | p[i + k];
			i += l;
			break;
		default:	/* one or two length-prefixed fields */
			nstr = d->type == PT_PAIR ? 2 : 1;
			for (k = 0; k < nstr; k++) {
				if (n - i < 2)
					return MQTT_BAD_PROPERTIES;
				l = mqtt_get16(p + i);
				if (n - i - 2 < l)
					return MQTT_BAD_PROPERTIES;
				if (d->type != PT_BIN &&
				    !mqtt_utf8_valid(p + i + 2, l))
					return MQTT_BAD_UTF8;
				i += 2 + l;
			}
			break;
		}
		if ((d->rule == PR_BOOL && val > 1) ||
		    (d->rule == PR_NONZERO && val == 0))
			return MQTT_BAD_PROPERTIES;
	}
	/* Authentication data needs an authentication method. */
	if ((seen & ((uint64_t)1 << PROP_AUTH_DATA)) &&
	    !(seen & ((uint64_t)1 << PROP_AUTH_METH)))
		return MQTT_BAD_PROPERTIES;
	return MQTT_OK;
}

/* Read a 5.0 property block (length, then properties) into *s. */
static int
mqtt_props(struct mqtt_cur *c, struct mqtt_span *s, uint8_t where)
{
	uint32_t n;
	int rc;

	if ((rc = mqtt_varint(c, &n, MQTT_BAD_PROPERTIES)) != MQTT_OK)
		return rc;
	if ((rc = mqtt_need(c, n)) != MQTT_OK)
		return rc;
	s->p = c->buf + c->pos;
	s->len = n;
	c->pos += n;
	return mqtt_props_check(s->p, s->len, where);
}

/* Protocol name, level byte and connect flags: do they go together? */
static int
mqtt_check_header(struct mqtt_connect *m, uint8_t levelbyte)
{
	const struct mqtt_span *name = &m->protocol_name;
	uint8_t f = m->flags;

	m->level = levelbyte & 0x7f;
	m->bridge = (levelbyte & 0x80) != 0;
	if (name->len == 6 && memcmp(name->p, "MQIsdp", 6) == 0) {
		if (m->level != MQTT_LEVEL_31)
			return MQTT_BAD_PROTOCOL;
	} else if (name->len == 4 && memcmp(name->p, "MQTT", 4) == 0) {
		if (m->level != MQTT_LEVEL_311 && m->level != MQTT_LEVEL_5)
			return MQTT_BAD_PROTOCOL;
		if (m->level == MQTT_LEVEL_5 && m->bridge)
			return MQTT_BAD_PROTOCOL;
	} else
		return MQTT_BAD_PROTOCOL;

	if (f & MQTT_CF_RESERVED)
		return MQTT_BAD_FLAGS;
	if ((f & MQTT_CF_WILL_QOS) == MQTT_CF_WILL_QOS)
		return MQTT_BAD_FLAGS;
	if (!(f & MQTT_CF_WILL) &&
	    (f & (MQTT_CF_WILL_QOS | MQTT_CF_WILL_RETAIN)))
		return MQTT_BAD_FLAGS;
	if (m->level != MQTT_LEVEL_5 &&
	    (f & MQTT_CF_PASSWORD) && !(f & MQTT_CF_USERNAME))
		return MQTT_BAD_FLAGS;
	return MQTT_OK;
}

int
mqtt_connect_parse(const uint8_t *buf, size_t len, size_t max_size,
    struct mqtt_connect *out)
{
	struct mqtt_cur c = { buf, 1, len, (size_t)-1 };
	struct mqtt_connect m;
	uint32_t rem;
	size_t n;
	uint8_t levelbyte;
	int rc;

	memset(&m, 0, sizeof m);
	if (len == 0)
		return MQTT_NEED_MORE;
	if ((buf[0] & 0xf0) != 0x10)
		return MQTT_NOT_CONNECT;
	if (buf[0] != 0x10)
		return MQTT_BAD_FLAGS;
	if ((rc = mqtt_varint(&c, &rem, MQTT_BAD_LENGTH)) != MQTT_OK)
		return rc;
	m.packet_len = c.pos + rem;
	if (m.packet_len > max_size)
		return MQTT_TOO_BIG;
	c.end = m.packet_len;	/* bytes past it belong to later packets */

	/* Variable header: protocol name, level, flags, keepalive. */
	if ((rc = mqtt_need(&c, 2)) != MQTT_OK)
		return rc;
	n = mqtt_get16(buf + c.pos);
	if (n != 4 && n != 6)
		return MQTT_BAD_PROTOCOL;
	if ((rc = mqtt_field(&c, &m.protocol_name, false)) != MQTT_OK)
		return rc;
	if ((rc = mqtt_need(&c, 2)) != MQTT_OK)
		return rc;
	levelbyte = buf[c.pos];
	m.flags = buf[c.pos + 1];
	c.pos += 2;
	if ((rc = mqtt_check_header(&m, levelbyte)) != MQTT_OK)
		return rc;
	if ((rc = mqtt_need(&c, 2)) != MQTT_OK)
		return rc;
	m.keepalive = mqtt_get16(buf + c.pos);
	c.pos += 2;
	if (m.level == MQTT_LEVEL_5 &&
	    (rc = mqtt_props(&c, &m.properties, IN_CONNECT)) != MQTT_OK)
		return rc;

	/* Payload: client id, will, username, password, in that order. */
	if ((rc = mqtt_field(&c, &m.client_id, true)) != MQTT_OK)
		return rc;
	m.has_will = (m.flags & MQTT_CF_WILL) != 0;
	if (m.has_will) {
		if (m.level == MQTT_LEVEL_5 &&
		    (rc = mqtt_props(&c, &m.will_properties, IN_WILL)) !=
		    MQTT_OK)
			return rc;
		if ((rc = mqtt_field(&c, &m.will_topic, true)) != MQTT_OK ||
		    (rc = mqtt_field(&c, &m.will_payload, false)) != MQTT_OK)
			return rc;
	}
	m.has_username = (m.flags & MQTT_CF_USERNAME) != 0;
	if (m.has_username &&
	    (rc = mqtt_field(&c, &m.username, true)) != MQTT_OK)
		return rc;
	m.has_password = (m.flags & MQTT_CF_PASSWORD) != 0;
	if (m.has_password &&
	    (rc = mqtt_field(&c, &m.password, false)) != MQTT_OK)
		return rc;
	if (c.pos != c.end)
		return MQTT_BAD_LENGTH;	/* bytes after the last field */

	if (m.level == MQTT_LEVEL_31)
		m.client_id_warn = m.client_id.len < 1 || m.client_id.len > 23;
	else if (m.level == MQTT_LEVEL_311)
		m.client_id_warn = m.client_id.len == 0 &&
		    !(m.flags & MQTT_CF_CLEAN);
	*out = m;
	return MQTT_OK;
}

const char *
mqtt_strerror(int result)
{
	switch (result) {
	case MQTT_OK:
		return "ok";
	case MQTT_NEED_MORE:
		return "incomplete CONNECT packet";
	case MQTT_NOT_CONNECT:
		return "not a CONNECT packet";
	case MQTT_BAD_LENGTH:
		return "bad remaining length";
	case MQTT_BAD_PROTOCOL:
		return "unknown protocol name or level";
	case MQTT_BAD_FLAGS:
		return "invalid CONNECT flags";
	case MQTT_BAD_UTF8:
		return "invalid UTF-8 string";
	case MQTT_BAD_PROPERTIES:
		return "invalid MQTT 5 properties";
	case MQTT_TOO_BIG:
		return "CONNECT packet too big";
	case MQTT_TRUNCATED:
		return "field runs past the end of the packet";
	default:
		return "unknown MQTT error";
	}
}

/* Length of v as a variable byte integer (v <= MQTT_MAX_REMAINING). */
static size_t
mqtt_varint_len(size_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* Write v as a variable byte integer, shortest form; returns the end. */
static uint8_t *
mqtt_put_varint(uint8_t *o, size_t v)
{
	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		*o++ = v != 0 ? (uint8_t)(b | 0x80) : b;
	} while (v != 0);
	return o;
}

/* Raw bytes, no length. */
static uint8_t *
mqtt_put_bytes(uint8_t *o, const struct mqtt_span *s)
{
	if (s->len > 0)
		memcpy(o, s->p, s->len);
	return o + s->len;
}

/* A field with its 2-byte length prefix. */
static uint8_t *
mqtt_put_field(uint8_t *o, const struct mqtt_span *s)
{
	*o++ = (uint8_t)(s->len >> 8);
	*o++ = (uint8_t)s->len;
	return mqtt_put_bytes(o, s);
}

/* A 5.0 property block with its length prefix. */
static uint8_t *
mqtt_put_props(uint8_t *o, const struct mqtt_span *s)
{
	return mqtt_put_bytes(mqtt_put_varint(o, s->len), s);
}

ssize_t
mqtt_connect_build(const struct mqtt_connect *c,
    const struct mqtt_span *client_id, const struct mqtt_span *username,
    const struct mqtt_span *password, uint8_t *out, size_t outcap)
{
	struct mqtt_span id = client_id != NULL ? *client_id : c->client_id;
	struct mqtt_span user = username != NULL ? *username : c->username;
	struct mqtt_span pass = password != NULL ? *password : c->password;
	bool has_user = username != NULL ? username->p != NULL :
	    c->has_username;
	bool has_pass = password != NULL ? password->p != NULL :
	    c->has_password;
	bool v5 = c->level == MQTT_LEVEL_5;
	size_t rem, total;
	uint8_t flags, *o;

	if (!has_user)
		user.len = 0;
	if (!has_pass)
		pass.len = 0;
	if (id.len > MQTT_MAX_FIELD || user.len > MQTT_MAX_FIELD ||
	    pass.len > MQTT_MAX_FIELD ||
	    c->protocol_name.len > MQTT_MAX_FIELD ||
	    c->will_topic.len > MQTT_MAX_FIELD ||
	    c->will_payload.len > MQTT_MAX_FIELD)
		return MQTT_BAD_LENGTH;
	if (!mqtt_utf8_valid(id.p, id.len) ||
	    (has_user && !mqtt_utf8_valid(user.p, user.len)))
		return MQTT_BAD_UTF8;
	if (!v5 && has_pass && !has_user)
		return MQTT_BAD_FLAGS;
	if (c->properties.len > MQTT_MAX_REMAINING ||
	    c->will_properties.len > MQTT_MAX_REMAINING)
		return MQTT_TOO_BIG;

	/* Each term is bounded above, so the sum fits 32-bit size_t. */
	rem = 2 + c->protocol_name.len + 1 + 1 + 2 + 2 + id.len;
	if (v5)
		rem += mqtt_varint_len(c->properties.len) + c->properties.len;
	if (c->has_will) {
		if (v5)
			rem += mqtt_varint_len(c->will_properties.len) +
			    c->will_properties.len;
		rem += 2 + c->will_topic.len + 2 + c->will_payload.len;
	}
	if (has_user)
		rem += 2 + user.len;
	if (has_pass)
		rem += 2 + pass.len;
	if (rem > MQTT_MAX_REMAINING)
		return MQTT_TOO_BIG;
	total = 1 + mqtt_varint_len(rem) + rem;
	if (out == NULL)
		return (ssize_t)total;
	if (total > outcap)
		return MQTT_TOO_BIG;

	flags = c->flags & (uint8_t)~(MQTT_CF_USERNAME | MQTT_CF_PASSWORD);
	if (has_user)
		flags |= MQTT_CF_USERNAME;
	if (has_pass)
		flags |= MQTT_CF_PASSWORD;

	o = out;
	*o++ = 0x10;
	o = mqtt_put_varint(o, rem);
	o = mqtt_put_field(o, &c->protocol_name);
	*o++ = (uint8_t)(c->level | (c->bridge ? 0x80 : 0));
	*o++ = flags;
	*o++ = (uint8_t)(c->keepalive >> 8);
	*o++ = (uint8_t)c->keepalive;
	if (v5)
		o = mqtt_put_props(o, &c->properties);
	o = mqtt_put_field(o, &id);
	if (c->has_will) {
		if (v5)
			o = mqtt_put_props(o, &c->will_properties);
		o = mqtt_put_field(o, &c->will_topic);
		o = mqtt_put_field(o, &c->will_payload);
	}
	if (has_user)
		o = mqtt_put_field(o, &user);
	if (has_pass)
		o = mqtt_put_field(o, &pass);
	return (ssize_t)(o - out);
}

bool
mqtt_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0, k, n;
	uint8_t lo, hi;

	while (i < len) {
		uint8_t b = s[i];

		if (b == 0)
			return false;
		if (b < 0x80) {
			i++;
			continue;
		}
		/* Lead byte: how many continuation bytes, and the range of
		 * the first one (rules out overlongs, surrogates and code
		 * points above U+10FFFF; RFC 3629 section 4). */
		lo = 0x80;
		hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf)
			n = 1;
		else if (b >= 0xe0 && b <= 0xef) {
			n = 2;
			if (b == 0xe0)
				lo = 0xa0;
			else if (b == 0xed)
				hi = 0x9f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			n = 3;
			if (b == 0xf0)
				lo = 0x90;
			else if (b == 0xf4)
				hi = 0x8f;
		} else
			return false;
		if (len - i - 1 < n)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}
