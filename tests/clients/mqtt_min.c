/*
 * mqtt_min.c: tiny MQTT 3.1.1 codec and the TLS-library-free parts both
 * device emulators share (see mqtt_min.h). Bytes are assembled one at a
 * time: no unaligned loads or stores anywhere.
 */
#include "mqtt_min.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- growable buffer ------------------------------------------------- */

/* Release the storage; the buffer can be reused afterwards. */
void mqtt_buf_free(struct mqtt_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

/* Make room for n more bytes, doubling so appends stay amortised O(1). */
static int buf_reserve(struct mqtt_buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (b->oom)
		return -1;
	if (n > SIZE_MAX - b->len) {
		b->oom = 1;
		return -1;
	}
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes. */
int mqtt_buf_put(struct mqtt_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return b->oom ? -1 : 0;
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Drop n bytes from the front (the parser consumed a packet). */
void mqtt_buf_consume(struct mqtt_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* Append one byte. */
static int put8(struct mqtt_buf *b, uint8_t v)
{
	return mqtt_buf_put(b, &v, 1);
}

/* Append a big-endian 16-bit value. */
static int put16(struct mqtt_buf *b, uint16_t v)
{
	uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return mqtt_buf_put(b, t, 2);
}

/* Append an MQTT UTF-8 string: 16-bit length then the bytes. */
static int putstr(struct mqtt_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > 0xFFFF)
		return -1;
	if (put16(b, (uint16_t)n) < 0)
		return -1;
	return mqtt_buf_put(b, s, n);
}

/* ---- encoders -------------------------------------------------------- */

/* Remaining length as MQTT's 7-bit varint (1..4 bytes). */
size_t mqtt_varint_encode(uint32_t v, uint8_t out[4])
{
	size_t n = 0;

	if (v > MQTT_MAX_REMAINING)
		return 0;
	do {
		uint8_t d = (uint8_t)(v & 0x7F);

		v >>= 7;
		if (v > 0)
			d |= 0x80;
		out[n++] = d;
	} while (v > 0);
	return n;
}

/* Decode a varint; at most 4 bytes, a fifth continuation is malformed. */
int mqtt_varint_decode(const uint8_t *p, size_t len, uint32_t *v)
{
	uint32_t val = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		if (i >= len)
			return 0;
		val |= (uint32_t)(p[i] & 0x7F) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*v = val;
			return (int)(i + 1);
		}
	}
	return -1;
}

/* Fixed header: type/flags byte then the remaining length. */
static int put_fixed(struct mqtt_buf *b, uint8_t first, size_t rlen)
{
	uint8_t vi[4];
	size_t n;

	if (rlen > MQTT_MAX_REMAINING)
		return -1;
	n = mqtt_varint_encode((uint32_t)rlen, vi);
	if (put8(b, first) < 0)
		return -1;
	return mqtt_buf_put(b, vi, n);
}

/* CONNECT, protocol level 4 (3.1.1). */
int mqtt_enc_connect(struct mqtt_buf *b, const struct mqtt_connect *c)
{
	static const uint8_t proto[] = { 0, 4, 'M', 'Q', 'T', 'T', 4 };
	size_t rlen;
	uint8_t flags = 0;

	if (c->client_id == NULL || strlen(c->client_id) > 0xFFFF)
		return -1;
	/* [MQTT-3.1.2-22]: no password without a username. */
	if (c->password != NULL && c->username == NULL)
		return -1;
	rlen = sizeof proto + 1 + 2 + 2 + strlen(c->client_id);
	if (c->clean_session)
		flags |= 0x02;
	if (c->username != NULL) {
		flags |= 0x80;
		rlen += 2 + strlen(c->username);
	}
	if (c->password != NULL) {
		flags |= 0x40;
		rlen += 2 + strlen(c->password);
	}
	if (put_fixed(b, MQTT_CONNECT << 4, rlen) < 0
		|| mqtt_buf_put(b, proto, sizeof proto) < 0
		|| put8(b, flags) < 0 || put16(b, c->keepalive) < 0
		|| putstr(b, c->client_id) < 0)
		return -1;
	if (c->username != NULL && putstr(b, c->username) < 0)
		return -1;
	if (c->password != NULL && putstr(b, c->password) < 0)
		return -1;
	return b->oom ? -1 : 0;
}

/* SUBSCRIBE with one topic filter (fixed-header flags must be 0b0010). */
int mqtt_enc_subscribe(struct mqtt_buf *b, uint16_t pid, const char *topic,
	uint8_t qos)
{
	size_t tl = strlen(topic);

	if (pid == 0 || qos > 2 || tl == 0 || tl > 0xFFFF)
		return -1;
	if (put_fixed(b, (MQTT_SUBSCRIBE << 4) | 0x02, 2 + 2 + tl + 1) < 0
		|| put16(b, pid) < 0 || putstr(b, topic) < 0
		|| put8(b, qos) < 0)
		return -1;
	return 0;
}

/* PUBLISH; the packet identifier is present only for QoS 1 and 2. */
int mqtt_enc_publish(struct mqtt_buf *b, const char *topic, uint8_t qos,
	uint16_t pid, const uint8_t *payload, size_t len)
{
	size_t tl = strlen(topic), rlen;

	if (qos > 2 || tl == 0 || tl > 0xFFFF || (qos > 0 && pid == 0))
		return -1;
	rlen = 2 + tl + (qos > 0 ? 2 : 0);
	if (len > MQTT_MAX_REMAINING - rlen)
		return -1;
	rlen += len;
	if (put_fixed(b, (uint8_t)((MQTT_PUBLISH << 4) | (qos << 1)), rlen) < 0
		|| putstr(b, topic) < 0)
		return -1;
	if (qos > 0 && put16(b, pid) < 0)
		return -1;
	return mqtt_buf_put(b, payload, len);
}

/* PUBACK for an incoming QoS 1 PUBLISH. */
int mqtt_enc_puback(struct mqtt_buf *b, uint16_t pid)
{
	if (put_fixed(b, MQTT_PUBACK << 4, 2) < 0)
		return -1;
	return put16(b, pid);
}

/* PINGREQ: keepalive probe. */
int mqtt_enc_pingreq(struct mqtt_buf *b)
{
	return put_fixed(b, MQTT_PINGREQ << 4, 0);
}

/* DISCONNECT: the clean goodbye before close_notify. */
int mqtt_enc_disconnect(struct mqtt_buf *b)
{
	return put_fixed(b, MQTT_DISCONNECT << 4, 0);
}

/* ---- decoder --------------------------------------------------------- */

/* Big-endian 16-bit read from bytes. */
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* PUBLISH body: topic, packet id when QoS > 0, payload. */
static int parse_publish(struct mqtt_pkt *p)
{
	size_t off;

	p->qos = (uint8_t)((p->flags >> 1) & 3);
	p->dup = (uint8_t)((p->flags >> 3) & 1);
	p->retain = (uint8_t)(p->flags & 1);
	if (p->qos == 3 || p->body_len < 2)
		return MQTT_PARSE_BAD;
	p->topic_len = get16(p->body);
	off = 2 + p->topic_len;
	if (off > p->body_len)
		return MQTT_PARSE_BAD;
	p->topic = p->body + 2;
	if (p->qos > 0) {
		if (off + 2 > p->body_len)
			return MQTT_PARSE_BAD;
		p->pid = get16(p->body + off);
		if (p->pid == 0)
			return MQTT_PARSE_BAD;
		off += 2;
	}
	p->payload = p->body + off;
	p->payload_len = p->body_len - off;
	return MQTT_PARSE_OK;
}

/* Per-type checks of the fixed-header flags and body shape. */
static int parse_body(struct mqtt_pkt *p)
{
	switch (p->type) {
	case MQTT_CONNACK:
		if (p->flags != 0 || p->body_len != 2 || (p->body[0] & 0xFE))
			return MQTT_PARSE_BAD;
		p->session_present = p->body[0] & 1;
		p->rc = p->body[1];
		return MQTT_PARSE_OK;
	case MQTT_PUBLISH:
		return parse_publish(p);
	case MQTT_PUBACK:
		if (p->flags != 0 || p->body_len != 2)
			return MQTT_PARSE_BAD;
		p->pid = get16(p->body);
		return MQTT_PARSE_OK;
	case MQTT_SUBACK:
		if (p->flags != 0 || p->body_len < 3)
			return MQTT_PARSE_BAD;
		p->pid = get16(p->body);
		p->codes = p->body + 2;
		p->ncodes = p->body_len - 2;
		return MQTT_PARSE_OK;
	case MQTT_PINGRESP:
		return p->flags == 0 && p->body_len == 0
			? MQTT_PARSE_OK : MQTT_PARSE_BAD;
	case 0:
	case 15:
		return MQTT_PARSE_BAD;  /* reserved types */
	default:
		return MQTT_PARSE_OK;   /* other types: framing only */
	}
}

/* Frame and decode the first packet of buf. */
int mqtt_parse(const uint8_t *buf, size_t len, struct mqtt_pkt *p)
{
	uint32_t rlen;
	int vl;

	memset(p, 0, sizeof *p);
	if (len < 2)
		return MQTT_PARSE_NEED;
	vl = mqtt_varint_decode(buf + 1, len - 1, &rlen);
	if (vl < 0)
		return MQTT_PARSE_BAD;
	if (vl == 0)
		return MQTT_PARSE_NEED;
	if ((size_t)rlen > len - 1 - (size_t)vl)
		return MQTT_PARSE_NEED;
	p->type = buf[0] >> 4;
	p->flags = buf[0] & 0x0F;
	p->body = buf + 1 + vl;
	p->body_len = rlen;
	p->total = 1 + (size_t)vl + rlen;
	return parse_body(p);
}

/* ---- test payloads --------------------------------------------------- */

/* Byte i of message seq: anything that moves with both i and seq. */
static uint8_t payload_byte(size_t i, uint32_t seq)
{
	return (uint8_t)(i * 131u + seq * 17u + 7u);
}

/* seq big-endian in the first 4 bytes, the pattern after. */
void mqtt_payload_fill(uint8_t *p, size_t len, uint32_t seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = payload_byte(i, seq);
	if (len >= 4) {
		p[0] = (uint8_t)(seq >> 24);
		p[1] = (uint8_t)(seq >> 16);
		p[2] = (uint8_t)(seq >> 8);
		p[3] = (uint8_t)seq;
	}
}

/* Compare without building a second copy of a possibly large payload. */
int mqtt_payload_check(const uint8_t *p, size_t len, uint32_t seq)
{
	size_t i = 0;

	if (len >= 4) {
		if (p[0] != (uint8_t)(seq >> 24) || p[1] != (uint8_t)(seq >> 16)
			|| p[2] != (uint8_t)(seq >> 8) || p[3] != (uint8_t)seq)
			return 0;
		i = 4;
	}
	for (; i < len; i++)
		if (p[i] != payload_byte(i, seq))
			return 0;
	return 1;
}

/* ---- TLS record watcher --------------------------------------------- */

/* Start clean; with an MFL, records above mfl + slack are violations. */
void tls_watch_init(struct tls_watch *w, unsigned mfl)
{
	memset(w, 0, sizeof *w);
	w->mfl = mfl;
	w->limit = mfl ? (size_t)mfl + TLS_WATCH_MFL_SLACK : 0;
	w->alert_level = -1;
	w->alert_desc = -1;
	w->mfl_echo = -1;
	w->group = -1;
}

/* ServerHello: version, suite, and the MFL / supported_versions echoes. */
static void watch_server_hello(struct tls_watch *w, const uint8_t *h,
	size_t n)
{
	size_t off = 2 + 32, end;

	if (n < off + 1)
		return;
	w->sh_seen = 1;
	w->sh_version = get16(h);
	off += 1 + h[off];
	if (n < off + 3)
		return;
	w->sh_suite = get16(h + off);
	off += 3;
	if (n < off + 2)
		return;
	end = off + 2 + get16(h + off);
	off += 2;
	if (end > n)
		end = n;
	while (off + 4 <= end) {
		uint16_t type = get16(h + off);
		size_t len = get16(h + off + 2);

		off += 4;
		if (off + len > end)
			break;
		if (type == 0x0001 && len == 1)
			w->mfl_echo = h[off];
		if (type == 0x002b && len == 2)
			w->sh_version = get16(h + off);
		off += len;
	}
}

/* A complete plaintext handshake message (first TLS_WATCH_HS_CAP bytes). */
static void watch_hs_done(struct tls_watch *w)
{
	uint8_t hi = (uint8_t)(w->sh_suite >> 8);

	if (w->hs_hdr[0] == 2)
		watch_server_hello(w, w->hs, w->hs_have);
	/* ECDHE ServerKeyExchange starts with named_curve(3) + group. */
	if (w->hs_hdr[0] == 12 && w->hs_have >= 3 && w->hs[0] == 3
		&& (hi == 0xC0 || hi == 0xCC))
		w->group = get16(w->hs + 1);
}

/* Reassemble handshake messages across plaintext records. */
static void watch_hs(struct tls_watch *w, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k, room;

		if (w->hs_hdr_have < 4) {
			w->hs_hdr[w->hs_hdr_have++] = *p++;
			n--;
			if (w->hs_hdr_have == 4) {
				w->hs_left = ((size_t)w->hs_hdr[1] << 16)
					| ((size_t)w->hs_hdr[2] << 8) | w->hs_hdr[3];
				w->hs_have = 0;
				if (w->hs_left == 0) {
					watch_hs_done(w);
					w->hs_hdr_have = 0;
				}
			}
			continue;
		}
		k = n < w->hs_left ? n : w->hs_left;
		room = TLS_WATCH_HS_CAP - w->hs_have;
		memcpy(w->hs + w->hs_have, p, k < room ? k : room);
		w->hs_have += k < room ? k : room;
		w->hs_left -= k;
		p += k;
		n -= k;
		if (w->hs_left == 0) {
			watch_hs_done(w);
			w->hs_hdr_have = 0;
		}
	}
}

/* Record header complete: size checks and content-type bookkeeping. */
static void watch_header(struct tls_watch *w)
{
	size_t len = ((size_t)w->hdr[3] << 8) | w->hdr[4];

	w->type = w->hdr[0];
	if (w->type < 20 || w->type > 24 || w->hdr[1] != 3) {
		w->not_tls = 1;
		return;
	}
	w->records++;
	if (len > w->max_record)
		w->max_record = len;
	if (w->limit && len > w->limit && !w->violation) {
		w->violation = 1;
		w->bad_len = len;
		w->bad_type = w->type;
	}
	if (w->type == 21)
		w->al_have = 0;
	w->body_left = len;
	if (len == 0)
		w->hdr_have = 0;
}

/* Record body bytes; only plaintext (pre-CCS) ones are interpreted. */
static void watch_body(struct tls_watch *w, const uint8_t *p, size_t n)
{
	size_t i;

	if (w->encrypted)
		return;
	if (w->type == 21) {
		for (i = 0; i < n && w->al_have < 2; i++)
			w->al[w->al_have++] = p[i];
		if (w->al_have == 2) {
			w->alert_level = w->al[0];
			w->alert_desc = w->al[1];
		}
	} else if (w->type == 22) {
		watch_hs(w, p, n);
	}
}

/* Feed raw bytes from the server in stream order. */
void tls_watch_feed(struct tls_watch *w, const uint8_t *p, size_t n)
{
	while (n > 0 && !w->not_tls) {
		size_t k;

		if (w->hdr_have < 5) {
			w->hdr[w->hdr_have++] = *p++;
			n--;
			if (w->hdr_have == 5)
				watch_header(w);
			continue;
		}
		k = n < w->body_left ? n : w->body_left;
		watch_body(w, p, k);
		p += k;
		n -= k;
		w->body_left -= k;
		if (w->body_left == 0) {
			if (w->type == 20)
				w->encrypted = 1;
			w->hdr_have = 0;
		}
	}
}

/* ---- time, sockets --------------------------------------------------- */

/* Monotonic milliseconds: deadlines must not jump with the wall clock. */
int64_t dev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One --timeout from now: every wait gets its own full budget. */
int64_t dev_deadline(const struct dev_opts *o)
{
	return dev_now_ms() + (int64_t)o->timeout * 1000;
}

/* poll() one fd until the deadline, retrying on EINTR. */
int dev_wait_fd(int fd, short events, int64_t deadline, short *revents)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - dev_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0) {
			if (revents != NULL)
				*revents = pfd.revents;
			return 1;
		}
	}
}

/* Spaces become '_' so error texts stay one key=value token. */
void dev_token(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n')
			*s = '_';
}

/* Try one resolved address; the fd stays non-blocking on success. */
static int connect_one(const struct addrinfo *ai, int64_t deadline,
	char *err, size_t errlen, int *timed_out)
{
	int fd, one = 1, soerr = 0;
	socklen_t sl = sizeof soerr;
	short rev = 0;
	int w;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "socket:%s", strerror(errno));
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		snprintf(err, errlen, "connect:%s", strerror(errno));
		close(fd);
		return -1;
	}
	w = dev_wait_fd(fd, POLLOUT, deadline, &rev);
	if (w == 0) {
		*timed_out = 1;
		snprintf(err, errlen, "timeout");
		close(fd);
		return -1;
	}
	if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0
		|| soerr != 0) {
		snprintf(err, errlen, "connect:%s",
			strerror(soerr ? soerr : errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Resolve and connect, trying each address until one answers. */
int dev_tcp_connect(const char *host, const char *port, int64_t deadline,
	char *err, size_t errlen, int *timed_out)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc;

	*timed_out = 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "resolve:%s", gai_strerror(rc));
		dev_token(err);
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0 && !*timed_out; ai = ai->ai_next)
		fd = connect_one(ai, deadline, err, errlen, timed_out);
	freeaddrinfo(res);
	dev_token(err);
	return fd;
}

/* ---- command line ---------------------------------------------------- */

/* "002F,0035" or "0x002f 0xC02F": hex codes separated by , or space. */
int dev_parse_hexlist(const char *s, uint16_t *out, size_t max, size_t *n)
{
	*n = 0;
	while (*s != '\0') {
		char *end;
		unsigned long v;

		while (*s == ',' || *s == ' ' || *s == ':')
			s++;
		if (*s == '\0')
			break;
		errno = 0;
		v = strtoul(s, &end, 16);
		if (end == s || errno != 0 || v > 0xFFFF || *n >= max)
			return -1;
		if (*end != '\0' && *end != ',' && *end != ' ' && *end != ':')
			return -1;
		out[(*n)++] = (uint16_t)v;
		s = end;
	}
	return *n > 0 ? 0 : -1;
}

/* "1.0".."1.2" (and "1.3" for callers that can use it). */
int dev_parse_version(const char *s, uint16_t *out)
{
	static const char *const names[] = { "1.0", "1.1", "1.2", "1.3" };
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (uint16_t)(0x0301 + i);
			return 0;
		}
	}
	return -1;
}

/* "TLS1.2" for the result line. */
const char *dev_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSL3.0";
	case 0x0301: return "TLS1.0";
	case 0x0302: return "TLS1.1";
	case 0x0303: return "TLS1.2";
	case 0x0304: return "TLS1.3";
	default: return "unknown";
	}
}

/* Help text on stderr (stdout carries only the result line). */
static void usage(const char *stack, const char *const *profiles)
{
	unsigned i;

	fprintf(stderr,
		"usage: %s_client --port P --ca FILE [--host H] [--profile NAME]\n"
		"  [--sni NAME | --no-sni [--verify-name NAME]]\n"
		"  [--topic T] [--payload-size N] [--count N] [--client-id ID]\n"
		"  [--username U [--password P]] [--timeout SEC] [--keepalive SEC]\n"
		"  [--handshake-only] [--suites HEXLIST] [--min-version V]\n"
		"  [--max-version V] [--mfl 0|512|1024|2048|4096] [--debug N]\n"
		"profiles:", strcmp(stack, "bearssl") == 0 ? "bear" : "mbed");
	for (i = 0; profiles[i] != NULL; i++)
		fprintf(stderr, " %s", profiles[i]);
	fprintf(stderr, "\nexit: 0 ok, 1 usage/socket, 2 handshake, 3 connack,"
		" 4 puback, 5 echo, 6 timeout, 7 record larger than MFL\n");
}

/* Usage error: the one stdout line, help on stderr, exit code 1. */
static int usage_error(const char *stack, const char *const *profiles,
	const char *what, const char *arg)
{
	printf("fail stage=usage err=%s stack=%s\n", what, stack);
	fflush(stdout);
	if (arg != NULL)
		fprintf(stderr, "%s: %s\n", what, arg);
	usage(stack, profiles);
	return -1;
}

/* Parse an unsigned decimal within [lo, hi]. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi,
	unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0
		|| v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Look the profile name up in the stack's list. */
static int find_profile(const char *name, const char *const *profiles)
{
	int i;

	for (i = 0; profiles[i] != NULL; i++)
		if (strcmp(profiles[i], name) == 0)
			return i;
	return -1;
}

enum {
	OPT_HOST = 256, OPT_PORT, OPT_CA, OPT_SNI, OPT_NOSNI, OPT_VNAME,
	OPT_PROFILE, OPT_TOPIC, OPT_PSIZE, OPT_COUNT, OPT_CID, OPT_USER,
	OPT_PASS, OPT_TIMEOUT, OPT_KEEPALIVE, OPT_HSONLY, OPT_SUITES,
	OPT_MAXV, OPT_MINV, OPT_MFL, OPT_DEBUG, OPT_HELP
};

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "sni", required_argument, NULL, OPT_SNI },
	{ "no-sni", no_argument, NULL, OPT_NOSNI },
	{ "verify-name", required_argument, NULL, OPT_VNAME },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "payload-size", required_argument, NULL, OPT_PSIZE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "client-id", required_argument, NULL, OPT_CID },
	{ "username", required_argument, NULL, OPT_USER },
	{ "password", required_argument, NULL, OPT_PASS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "handshake-only", no_argument, NULL, OPT_HSONLY },
	{ "suites", required_argument, NULL, OPT_SUITES },
	{ "max-version", required_argument, NULL, OPT_MAXV },
	{ "min-version", required_argument, NULL, OPT_MINV },
	{ "mfl", required_argument, NULL, OPT_MFL },
	{ "debug", required_argument, NULL, OPT_DEBUG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

/* Options taking a number; returns 0, or -1 with `what` set. */
static int opt_number(struct dev_opts *o, int c, const char *arg,
	const char **what)
{
	unsigned long v;

	switch (c) {
	case OPT_PSIZE:
		*what = "bad_payload_size";
		if (parse_uint(arg, 0, 16u << 20, &v) < 0)
			return -1;
		o->payload_size = v;
		return 0;
	case OPT_COUNT:
		*what = "bad_count";
		if (parse_uint(arg, 0, 1000000, &v) < 0)
			return -1;
		o->count = (unsigned)v;
		return 0;
	case OPT_TIMEOUT:
		*what = "bad_timeout";
		if (parse_uint(arg, 1, 3600, &v) < 0)
			return -1;
		o->timeout = (unsigned)v;
		return 0;
	case OPT_KEEPALIVE:
		*what = "bad_keepalive";
		if (parse_uint(arg, 0, 65535, &v) < 0)
			return -1;
		o->keepalive = (unsigned)v;
		return 0;
	case OPT_DEBUG:
		*what = "bad_debug";
		if (parse_uint(arg, 0, 5, &v) < 0)
			return -1;
		o->debug = (int)v;
		return 0;
	default:
		*what = "bad_mfl";
		if (parse_uint(arg, 0, 4096, &v) < 0
			|| (v != 0 && v != 512 && v != 1024 && v != 2048
				&& v != 4096))
			return -1;
		o->mfl = (int)v;
		return 0;
	}
}

/* Options taking a string or a flag; returns 0, or -1 with `what` set. */
static int opt_string(struct dev_opts *o, int c, const char *arg,
	const char **what)
{
	switch (c) {
	case OPT_HOST: o->host = arg; return 0;
	case OPT_PORT: o->port = arg; return 0;
	case OPT_CA: o->ca = arg; return 0;
	case OPT_SNI: o->sni = arg; return 0;
	case OPT_NOSNI: o->no_sni = 1; return 0;
	case OPT_VNAME: o->verify_name = arg; return 0;
	case OPT_PROFILE: o->profile = arg; return 0;
	case OPT_USER: o->username = arg; return 0;
	case OPT_PASS: o->password = arg; return 0;
	case OPT_HSONLY: o->handshake_only = 1; return 0;
	case OPT_TOPIC:
		*what = "bad_topic";
		if (arg[0] == '\0' || strlen(arg) >= sizeof o->topic
			|| strpbrk(arg, "+#") != NULL)
			return -1;
		snprintf(o->topic, sizeof o->topic, "%s", arg);
		return 0;
	case OPT_CID:
		*what = "bad_client_id";
		if (strlen(arg) >= sizeof o->client_id)
			return -1;
		snprintf(o->client_id, sizeof o->client_id, "%s", arg);
		return 0;
	case OPT_SUITES:
		*what = "bad_suites";
		return dev_parse_hexlist(arg, o->suites, DEV_MAX_SUITES,
			&o->nsuites);
	case OPT_MAXV:
		*what = "bad_max_version";
		return dev_parse_version(arg, &o->max_version);
	case OPT_MINV:
		*what = "bad_min_version";
		return dev_parse_version(arg, &o->min_version);
	default:
		*what = "unknown_option";
		return -1;
	}
}

/* Cross-option checks once everything is parsed. */
static const char *opts_check(struct dev_opts *o,
	const char *const *profiles)
{
	if (o->port == NULL)
		return "missing_port";
	if (o->ca == NULL)
		return "missing_ca";
	if (o->no_sni && o->sni != NULL)
		return "sni_and_no_sni";
	if (o->password != NULL && o->username == NULL)
		return "password_without_username";
	if (o->min_version && o->max_version
		&& o->min_version > o->max_version)
		return "min_version_above_max";
	o->profile_idx = find_profile(o->profile, profiles);
	if (o->profile_idx < 0)
		return "unknown_profile";
	if (o->verify_name == NULL && !o->no_sni)
		o->verify_name = o->sni;
	return NULL;
}

/* Defaults, then getopt_long; 0 ok, 1 help shown, -1 usage error. */
int dev_opts_parse(struct dev_opts *o, int argc, char **argv,
	const char *stack, const char *const *profiles)
{
	const char *what = NULL;
	int c;

	memset(o, 0, sizeof *o);
	o->stack = stack;
	o->host = "127.0.0.1";
	o->profile = profiles[0];
	o->payload_size = 2000;
	o->count = 1;
	o->timeout = 10;
	o->keepalive = 60;
	o->mfl = -1;
	snprintf(o->topic, sizeof o->topic, "tlsgw/test/%ld", (long)getpid());
	snprintf(o->client_id, sizeof o->client_id, "%s-%ld", stack,
		(long)getpid());
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		int rc;

		if (c == OPT_HELP) {
			usage(stack, profiles);
			return 1;
		}
		if (c == '?')
			return usage_error(stack, profiles, "unknown_option",
				argv[optind - 1]);
		if (c == OPT_PSIZE || c == OPT_COUNT || c == OPT_TIMEOUT
			|| c == OPT_KEEPALIVE || c == OPT_DEBUG || c == OPT_MFL)
			rc = opt_number(o, c, optarg, &what);
		else
			rc = opt_string(o, c, optarg, &what);
		if (rc < 0)
			return usage_error(stack, profiles, what, optarg);
	}
	if (optind < argc)
		return usage_error(stack, profiles, "extra_argument",
			argv[optind]);
	what = opts_check(o, profiles);
	if (what != NULL)
		return usage_error(stack, profiles, what, NULL);
	return 0;
}

/* ---- the MQTT session ------------------------------------------------ */

struct sess {
	const struct dev_io *io;
	const struct dev_opts *o;
	struct dev_result *r;
	struct mqtt_buf in;     /* received, not yet parsed */
	struct mqtt_buf out;    /* one encoded packet */
	size_t consumed;        /* bytes of the last packet handed out */
	uint16_t next_pid;
};

/* Map a transport failure during `stage` to the result and exit code. */
void dev_fail_io(struct dev_result *r, const struct dev_io *io,
	const char *stage, int io_rc, int stage_exit)
{
	r->stage = stage;
	r->exit_code = stage_exit;
	switch (io_rc) {
	case DEV_IO_TIMEOUT:
		snprintf(r->err, sizeof r->err, "timeout");
		break;
	case DEV_IO_EOF:
		snprintf(r->err, sizeof r->err, "eof");
		break;
	case DEV_IO_MFL:
		snprintf(r->err, sizeof r->err, "record_larger_than_mfl");
		r->exit_code = DEV_EXIT_MFL;
		break;
	default:
		if (io != NULL && io->errtext != NULL)
			io->errtext(io->ctx, r->err, sizeof r->err);
		else
			snprintf(r->err, sizeof r->err, "io_error");
		break;
	}
}

/* Fail the session with a protocol-level reason (printf-style). */
static int sess_fail(struct sess *s, const char *stage, int code,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record stage, exit code and the formatted reason; always -1. */
static int sess_fail(struct sess *s, const char *stage, int code,
	const char *fmt, ...)
{
	va_list ap;

	s->r->stage = stage;
	s->r->exit_code = code;
	va_start(ap, fmt);
	vsnprintf(s->r->err, sizeof s->r->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Send the packet in s->out and clear it. */
static int sess_send(struct sess *s, int64_t deadline)
{
	int rc;

	if (s->out.oom)
		return DEV_IO_ERR;
	rc = s->io->send(s->io->ctx, s->out.data, s->out.len, deadline);
	s->out.len = 0;
	return rc;
}

/* Next whole packet (valid until the next call), or a DEV_IO_* code. */
static int sess_next(struct sess *s, struct mqtt_pkt *p, int64_t deadline)
{
	uint8_t tmp[16384];

	mqtt_buf_consume(&s->in, s->consumed);
	s->consumed = 0;
	for (;;) {
		int pr = mqtt_parse(s->in.data, s->in.len, p);
		int n;

		if (pr == MQTT_PARSE_OK) {
			s->consumed = p->total;
			return 1;
		}
		if (pr == MQTT_PARSE_BAD)
			return 0;
		n = s->io->recv(s->io->ctx, tmp, sizeof tmp, deadline);
		if (n < 0)
			return n;
		if (mqtt_buf_put(&s->in, tmp, (size_t)n) < 0)
			return DEV_IO_ERR;
	}
}

/* Packet identifiers 1..65535, wrapping. */
static uint16_t sess_pid(struct sess *s)
{
	if (++s->next_pid == 0)
		s->next_pid = 1;
	return s->next_pid;
}

/* CONNECT, then the CONNACK must come first and carry rc 0. */
static int sess_connect(struct sess *s)
{
	struct mqtt_connect c = {
		.client_id = s->o->client_id,
		.username = s->o->username,
		.password = s->o->password,
		.keepalive = (uint16_t)s->o->keepalive,
		.clean_session = 1,
	};
	struct mqtt_pkt p;
	int64_t dl = dev_deadline(s->o);
	int rc;

	if (mqtt_enc_connect(&s->out, &c) < 0)
		return sess_fail(s, "connack", DEV_EXIT_USAGE,
			"cannot_encode_connect");
	rc = sess_send(s, dl);
	if (rc == 0)
		rc = sess_next(s, &p, dl);
	if (rc < 0) {
		dev_fail_io(s->r, s->io, "connack", rc, DEV_EXIT_CONNACK);
		return -1;
	}
	if (rc == 0 || p.type != MQTT_CONNACK)
		return sess_fail(s, "connack", DEV_EXIT_CONNACK,
			"not_a_connack type=%u", rc ? p.type : 0u);
	if (p.rc != 0)
		return sess_fail(s, "connack", DEV_EXIT_CONNACK,
			"connack_rc=%u", (unsigned)p.rc);
	return 0;
}

/* SUBSCRIBE QoS 1; the SUBACK must grant QoS 0 or 1. */
static int sess_subscribe(struct sess *s)
{
	struct mqtt_pkt p;
	uint16_t pid = sess_pid(s);
	int64_t dl = dev_deadline(s->o);
	int rc;

	if (mqtt_enc_subscribe(&s->out, pid, s->o->topic, 1) < 0)
		return sess_fail(s, "suback", DEV_EXIT_USAGE,
			"cannot_encode_subscribe");
	rc = sess_send(s, dl);
	while (rc == 0) {
		rc = sess_next(s, &p, dl);
		if (rc == 0)
			return sess_fail(s, "suback", DEV_EXIT_ECHO,
				"malformed_packet");
		if (rc < 0)
			break;
		if (p.type != MQTT_SUBACK)
			continue;
		if (p.pid != pid || p.ncodes != 1 || p.codes[0] > 1)
			return sess_fail(s, "suback", DEV_EXIT_ECHO,
				"suback_refused code=%u", p.ncodes
				? p.codes[0] : 255u);
		return 0;
	}
	dev_fail_io(s->r, s->io, "suback", rc,
		rc == DEV_IO_TIMEOUT ? DEV_EXIT_TIMEOUT : DEV_EXIT_ECHO);
	return -1;
}

/* An incoming PUBLISH: ack QoS 1; 1 if it is message seq, 0 if not. */
static int sess_incoming(struct sess *s, const struct mqtt_pkt *p,
	uint32_t seq, int64_t dl)
{
	size_t tl = strlen(s->o->topic);
	uint32_t got;

	if (p->qos == 1) {
		if (mqtt_enc_puback(&s->out, p->pid) < 0)
			return DEV_IO_ERR;
		int rc = sess_send(s, dl);
		if (rc < 0)
			return rc;
	}
	if (p->topic_len != tl || memcmp(p->topic, s->o->topic, tl) != 0)
		return 0;
	if (mqtt_payload_check(p->payload, p->payload_len, seq)
		&& p->payload_len == s->o->payload_size)
		return 1;
	/* A redelivered earlier message is not a mismatch. */
	if (p->payload_len == s->o->payload_size && p->payload_len >= 4) {
		got = ((uint32_t)p->payload[0] << 24)
			| ((uint32_t)p->payload[1] << 16)
			| ((uint32_t)p->payload[2] << 8) | p->payload[3];
		if (got < seq && mqtt_payload_check(p->payload,
				p->payload_len, got))
			return 0;
	}
	return 2;
}

/* Wait until message seq is both PUBACKed (pid) and echoed back. */
static int sess_await(struct sess *s, uint16_t pid, uint32_t seq)
{
	int64_t dl = dev_deadline(s->o);
	int acked = 0, echoed = 0, rc = 0;
	struct mqtt_pkt p;

	while (!(acked && echoed)) {
		rc = sess_next(s, &p, dl);
		if (rc <= 0)
			break;
		if (p.type == MQTT_PUBACK && p.pid == pid && !acked) {
			acked = 1;
			s->r->acked++;
		} else if (p.type == MQTT_PUBLISH) {
			rc = sess_incoming(s, &p, seq, dl);
			if (rc < 0)
				break;
			if (rc == 2)
				return sess_fail(s, "echo", DEV_EXIT_ECHO,
					"payload_mismatch seq=%u len=%u", seq,
					(unsigned)p.payload_len);
			if (rc == 1 && !echoed) {
				echoed = 1;
				s->r->received++;
			}
		}
	}
	if (acked && echoed)
		return 0;
	if (rc == 0)
		return sess_fail(s, acked ? "echo" : "puback",
			acked ? DEV_EXIT_ECHO : DEV_EXIT_PUBACK,
			"malformed_packet");
	dev_fail_io(s->r, s->io, acked ? "echo" : "puback", rc,
		acked ? DEV_EXIT_ECHO : DEV_EXIT_PUBACK);
	return -1;
}

/* PUBLISH QoS 1 `count` messages, one at a time, each acked and echoed. */
static int sess_publish_all(struct sess *s)
{
	uint8_t *payload = malloc(s->o->payload_size ? s->o->payload_size : 1);
	uint32_t seq;
	int rc = 0;

	if (payload == NULL)
		return sess_fail(s, "puback", DEV_EXIT_USAGE, "oom");
	for (seq = 0; seq < s->o->count && rc == 0; seq++) {
		uint16_t pid = sess_pid(s);

		mqtt_payload_fill(payload, s->o->payload_size, seq);
		if (mqtt_enc_publish(&s->out, s->o->topic, 1, pid, payload,
				s->o->payload_size) < 0) {
			rc = sess_fail(s, "puback", DEV_EXIT_USAGE,
				"cannot_encode_publish");
			break;
		}
		rc = sess_send(s, dev_deadline(s->o));
		if (rc < 0) {
			dev_fail_io(s->r, s->io, "puback", rc,
				DEV_EXIT_PUBACK);
			break;
		}
		s->r->sent++;
		rc = sess_await(s, pid, seq);
	}
	free(payload);
	return rc < 0 ? -1 : 0;
}

/* The whole MQTT exchange; DISCONNECT errors are not failures. */
int dev_mqtt_session(const struct dev_io *io, const struct dev_opts *o,
	struct dev_result *r)
{
	struct sess s;
	int rc;

	memset(&s, 0, sizeof s);
	s.io = io;
	s.o = o;
	s.r = r;
	rc = sess_connect(&s);
	if (rc == 0)
		rc = sess_subscribe(&s);
	if (rc == 0)
		rc = sess_publish_all(&s);
	if (rc == 0) {
		r->stage = "done";
		r->exit_code = DEV_EXIT_OK;
		if (mqtt_enc_disconnect(&s.out) == 0)
			(void)sess_send(&s, dev_now_ms() + 2000);
	}
	mqtt_buf_free(&s.in);
	mqtt_buf_free(&s.out);
	return r->exit_code;
}

/* ---- the result line ------------------------------------------------- */

/* MFL details: what we asked, whether the ServerHello echoed it. */
static void report_mfl(const struct tls_watch *w)
{
	int code = 0;

	printf(" mfl=%u", w->mfl);
	if (w->mfl == 0)
		return;
	while ((512u << code) < w->mfl)
		code++;
	if (!w->sh_seen)
		printf(" mfl_ack=unknown");
	else if (w->mfl_echo < 0)
		printf(" mfl_ack=no");
	else
		printf(" mfl_ack=%s", w->mfl_echo == code + 1 ? "yes" : "bad");
}

/* The single stdout line: "ok ..." or "fail stage=... err=...". */
int dev_report(const struct dev_opts *o, const struct dev_result *r,
	const struct tls_watch *w)
{
	const char *sni = o->no_sni || o->sni == NULL ? "none" : o->sni;

	if (r->exit_code == DEV_EXIT_OK)
		printf("ok stack=%s profile=%s", o->stack, o->profile);
	else
		printf("fail stage=%s err=%s stack=%s profile=%s",
			r->stage ? r->stage : "unknown",
			r->err[0] ? r->err : "unknown", o->stack, o->profile);
	if (r->version[0] != '\0')
		printf(" version=%s suite=0x%04X", r->version, r->suite);
	report_mfl(w);
	if (w->group >= 0)
		printf(" group=0x%04X", (unsigned)w->group);
	if (w->alert_level >= 0)
		printf(" alert=%d/%d", w->alert_level, w->alert_desc);
	printf(" sni=%s", sni);
	if (o->handshake_only && r->exit_code == DEV_EXIT_OK)
		printf(" handshake_only=1");
	else
		printf(" sent=%u acked=%u received=%u", r->sent, r->acked,
			r->received);
	if (w->violation)
		printf(" limit=%zu bad_record=%zu bad_type=%u", w->limit,
			w->bad_len, w->bad_type);
	printf(" max_record=%zu\n", w->max_record);
	fflush(stdout);
	return r->exit_code;
}
