/*
 * rawhello.c: send one hand-built ClientHello (or a malformed variant)
 * over a plain TCP socket and report the server's first answer, so tests
 * can check which version and suite a server picks, that it refuses
 * weak suites and old versions, and how it treats junk. No TLS library.
 *
 *   rawhello --host H --port P [--version 0x0301|0x0302|0x0303|0x0304]
 *     [--suites HEXLIST] [--sni NAME] [--groups 0x001d,0x0017]
 *     [--mode hello|garbage|http|truncated|sslv2|split] [--hold SEC]
 *     [--source ADDR]
 *
 * One line on stdout:
 *   serverhello version=0x0303 suite=0xC02F [group=0x001D] [hrr=1]  exit 0
 *   alert level=2 desc=70 name=protocol_version                      exit 2
 *   closed [bytes=N] [reset=1]                                        exit 3
 *   timeout                                                           exit 4
 *   garbage first=0x48 bytes=N     (an answer that is not TLS)        exit 5
 *   fail stage=usage|connect err=...                                  exit 1
 *
 * --version 0x0304 sends legacy_version 0x0303, supported_versions
 * {0x0304} only, a 32-byte session id and an x25519 key_share with a
 * random 32-byte key: enough for a TLS 1.3 server to answer with a
 * ServerHello (the handshake is not completed). If --groups leaves out
 * x25519 the key_share is empty, and the answer is a HelloRetryRequest
 * (printed with hrr=1 and the group the server wants). --hold SEC is how long
 * we wait for an answer (default 10; --timeout is a synonym); in
 * truncated mode only the first 20 bytes of the hello are sent, so a
 * server must time the connection out by itself within that window.
 * --source binds the local end to ADDR first (e.g. 127.0.0.7, to look
 * like another device on loopback).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_HELLO = 0, EXIT_USAGE = 1, EXIT_ALERT = 2, EXIT_CLOSED = 3,
	EXIT_TIMEOUT = 4, EXIT_GARBAGE = 5 };

enum mode { M_HELLO, M_GARBAGE, M_HTTP, M_TRUNCATED, M_SSLV2, M_SPLIT };

static const char *const mode_names[] = {
	"hello", "garbage", "http", "truncated", "sslv2", "split", NULL
};

#define MAX_LIST 128

struct opts {
	const char *host;
	const char *port;
	uint16_t version;
	uint16_t suites[MAX_LIST];
	size_t nsuites;
	uint16_t groups[MAX_LIST];
	size_t ngroups;
	const char *sni;
	const char *source;
	enum mode mode;
	unsigned hold;
};

/* ---- byte builder ---------------------------------------------------- */

struct out {
	uint8_t b[8192];
	size_t len;
	int overflow;
};

/* Append bytes, remembering overflow instead of writing past the end. */
static void put(struct out *o, const void *p, size_t n)
{
	if (o->overflow || n > sizeof o->b - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

/* Big-endian integers of 1, 2 and 3 bytes: one byte. */
static void put8(struct out *o, unsigned v)
{
	uint8_t t = (uint8_t)v;

	put(o, &t, 1);
}

/* Two bytes, big-endian (lengths, suites, extension types). */
static void put16(struct out *o, unsigned v)
{
	uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(o, t, 2);
}

/* Three bytes, big-endian (handshake message length). */
static void put24(struct out *o, size_t v)
{
	uint8_t t[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(o, t, 3);
}

/* Reserve a length field of `width` bytes; returns its offset. */
static size_t len_open(struct out *o, int width)
{
	size_t at = o->len;

	if (width == 3)
		put24(o, 0);
	else if (width == 2)
		put16(o, 0);
	else
		put8(o, 0);
	return at;
}

/* Fill a reserved length field with the bytes written since. */
static void len_close(struct out *o, size_t at, int width)
{
	size_t n = o->len - at - (size_t)width;
	int i;

	if (o->overflow)
		return;
	for (i = width - 1; i >= 0; i--) {
		o->b[at + (size_t)i] = (uint8_t)n;
		n >>= 8;
	}
}

/* Random bytes for client random, session id and key share. */
static void fill_random(uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			memset(p, 0x5A, n);     /* only bytes on the wire */
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

/* ---- ClientHello ----------------------------------------------------- */

/* server_name with one host_name entry. */
static void ext_sni(struct out *o, const char *name)
{
	size_t ext, list, n = strlen(name);

	put16(o, 0x0000);
	ext = len_open(o, 2);
	list = len_open(o, 2);
	put8(o, 0);
	put16(o, (unsigned)n);
	put(o, name, n);
	len_close(o, list, 2);
	len_close(o, ext, 2);
}

/* supported_groups, then ec_point_formats (uncompressed only). */
static void ext_groups(struct out *o, const struct opts *op)
{
	size_t ext, list, i;

	put16(o, 0x000a);
	ext = len_open(o, 2);
	list = len_open(o, 2);
	for (i = 0; i < op->ngroups; i++)
		put16(o, op->groups[i]);
	len_close(o, list, 2);
	len_close(o, ext, 2);
	put16(o, 0x000b);
	put16(o, 2);
	put8(o, 1);
	put8(o, 0);
}

/* signature_algorithms: ECDSA and RSA (PKCS#1 and PSS), SHA-256 first. */
static void ext_sigalgs(struct out *o)
{
	static const uint16_t algs[] = {
		0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501,
		0x0603, 0x0806, 0x0601, 0x0203, 0x0201
	};
	size_t ext, list, i;

	put16(o, 0x000d);
	ext = len_open(o, 2);
	list = len_open(o, 2);
	for (i = 0; i < sizeof algs / sizeof algs[0]; i++)
		put16(o, algs[i]);
	len_close(o, list, 2);
	len_close(o, ext, 2);
}

/* Is x25519 among the groups we offer? */
static int offers_x25519(const struct opts *op)
{
	size_t i;

	for (i = 0; i < op->ngroups; i++)
		if (op->groups[i] == 0x001d)
			return 1;
	return 0;
}

/*
 * TLS 1.3: supported_versions {0x0304}, psk modes, and an x25519
 * key_share; when x25519 is not offered, an empty key_share (RFC 8446
 * 4.2.8) so the server answers with a HelloRetryRequest for its group.
 */
static void ext_tls13(struct out *o, const struct opts *op)
{
	uint8_t key[32];
	size_t ext, list;

	put16(o, 0x002b);
	put16(o, 3);
	put8(o, 2);
	put16(o, 0x0304);
	put16(o, 0x002d);
	put16(o, 2);
	put8(o, 1);
	put8(o, 1);
	fill_random(key, sizeof key);
	put16(o, 0x0033);
	ext = len_open(o, 2);
	list = len_open(o, 2);
	if (offers_x25519(op)) {
		put16(o, 0x001d);
		put16(o, sizeof key);
		put(o, key, sizeof key);
	}
	len_close(o, list, 2);
	len_close(o, ext, 2);
}

/* The handshake message (type 1, 24-bit length, body). */
static void client_hello(struct out *o, const struct opts *op)
{
	int tls13 = op->version >= 0x0304;
	uint8_t rnd[32], sid[32];
	size_t body, sl, exts, i;

	put8(o, 1);
	body = len_open(o, 3);
	put16(o, tls13 ? 0x0303 : op->version);
	fill_random(rnd, sizeof rnd);
	put(o, rnd, sizeof rnd);
	put8(o, tls13 ? sizeof sid : 0);
	if (tls13) {
		fill_random(sid, sizeof sid);
		put(o, sid, sizeof sid);
	}
	sl = len_open(o, 2);
	for (i = 0; i < op->nsuites; i++)
		put16(o, op->suites[i]);
	len_close(o, sl, 2);
	put8(o, 1);
	put8(o, 0);
	exts = len_open(o, 2);
	if (op->sni != NULL)
		ext_sni(o, op->sni);
	ext_groups(o, op);
	ext_sigalgs(o);
	put16(o, 0xff01);
	put16(o, 1);
	put8(o, 0);
	if (tls13)
		ext_tls13(o, op);
	len_close(o, exts, 2);
	len_close(o, body, 3);
}

/* Wrap handshake bytes in `parts` records (1 normally, 3 for split). */
static void records(struct out *o, const uint8_t *hs, size_t n, int parts,
	size_t *cuts)
{
	size_t off = 0;
	int i;

	for (i = 0; i < parts; i++) {
		size_t k = i == parts - 1 ? n - off : n / (size_t)parts;

		put8(o, 22);
		put16(o, 0x0301);
		put16(o, (unsigned)k);
		put(o, hs + off, k);
		off += k;
		cuts[i] = o->len;
	}
}

/* SSLv2-format CLIENT-HELLO carrying the same suites (3-byte specs). */
static void sslv2_hello(struct out *o, const struct opts *op)
{
	uint8_t challenge[32];
	size_t i, len = 9 + 3 * op->nsuites + sizeof challenge;

	put8(o, 0x80 | (unsigned)(len >> 8));
	put8(o, (unsigned)len);
	put8(o, 1);
	put16(o, op->version > 0x0303 ? 0x0303 : op->version);
	put16(o, (unsigned)(3 * op->nsuites));
	put16(o, 0);
	put16(o, sizeof challenge);
	for (i = 0; i < op->nsuites; i++) {
		put8(o, 0);
		put16(o, op->suites[i]);
	}
	fill_random(challenge, sizeof challenge);
	put(o, challenge, sizeof challenge);
}

/* Junk that is neither TLS, SSLv2 nor HTTP (first byte 0x00). */
static void garbage(struct out *o)
{
	uint32_t x = 0x2545F491u;
	int i;

	put8(o, 0);
	for (i = 1; i < 64; i++) {
		x = x * 1103515245u + 12345u;
		put8(o, (x >> 16) & 0xFF);
	}
}

/* ---- sending ----------------------------------------------------------- */

/* Blocking-style send on a non-blocking socket, bounded by a deadline. */
static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, 5000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Build and send what --mode asks for. */
static int send_probe(int fd, const struct opts *op)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct out hs = { .len = 0 }, wire = { .len = 0 };
	size_t cuts[3], prev = 0;
	int i;

	switch (op->mode) {
	case M_GARBAGE:
		garbage(&wire);
		return send_all(fd, wire.b, wire.len);
	case M_HTTP:
		return send_all(fd, (const uint8_t *)http, sizeof http - 1);
	case M_SSLV2:
		sslv2_hello(&wire, op);
		return wire.overflow ? -1 : send_all(fd, wire.b, wire.len);
	default:
		break;
	}
	client_hello(&hs, op);
	records(&wire, hs.b, hs.len, op->mode == M_SPLIT ? 3 : 1, cuts);
	if (hs.overflow || wire.overflow)
		return -1;
	if (op->mode == M_TRUNCATED)
		return send_all(fd, wire.b, wire.len < 20 ? wire.len : 20);
	if (op->mode != M_SPLIT)
		return send_all(fd, wire.b, wire.len);
	for (i = 0; i < 3; i++) {
		const struct timespec gap = { 0, 50 * 1000 * 1000 };

		if (send_all(fd, wire.b + prev, cuts[i] - prev) < 0)
			return -1;
		prev = cuts[i];
		if (i < 2)
			nanosleep(&gap, NULL);
	}
	return 0;
}

/* ---- the answer ------------------------------------------------------ */

static const struct { int code; const char *name; } alerts[] = {
	{ 0, "close_notify" }, { 10, "unexpected_message" },
	{ 20, "bad_record_mac" }, { 21, "decryption_failed" },
	{ 22, "record_overflow" }, { 30, "decompression_failure" },
	{ 40, "handshake_failure" }, { 41, "no_certificate" },
	{ 42, "bad_certificate" }, { 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" }, { 45, "certificate_expired" },
	{ 46, "certificate_unknown" }, { 47, "illegal_parameter" },
	{ 48, "unknown_ca" }, { 49, "access_denied" }, { 50, "decode_error" },
	{ 51, "decrypt_error" }, { 60, "export_restriction" },
	{ 70, "protocol_version" }, { 71, "insufficient_security" },
	{ 80, "internal_error" }, { 86, "inappropriate_fallback" },
	{ 90, "user_canceled" }, { 100, "no_renegotiation" },
	{ 109, "missing_extension" }, { 110, "unsupported_extension" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 115, "unknown_psk_identity" }, { 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

/* SHA-256("HelloRetryRequest"): the random of an HRR (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02,
	0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

/* Big-endian 16-bit read from bytes. */
static unsigned get16(const uint8_t *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

/* Print an alert line; returns the exit code. */
static int report_alert(unsigned level, unsigned desc)
{
	const char *name = "unknown";
	size_t i;

	for (i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
		if (alerts[i].code == (int)desc)
			name = alerts[i].name;
	printf("alert level=%u desc=%u name=%s\n", level, desc, name);
	return EXIT_ALERT;
}

/* Extensions of a ServerHello: selected version and key_share group. */
static void sh_extensions(const uint8_t *p, size_t n, unsigned *version,
	int *group)
{
	size_t off = 0;

	while (off + 4 <= n) {
		unsigned type = get16(p + off);
		size_t len = get16(p + off + 2);

		off += 4;
		if (off + len > n)
			return;
		if (type == 0x002b && len == 2)
			*version = get16(p + off);
		if (type == 0x0033 && len >= 2)
			*group = (int)get16(p + off);
		off += len;
	}
}

/* ServerHello body -> the result line; -1 if it does not parse. */
static int report_server_hello(const uint8_t *h, size_t n)
{
	unsigned version, suite;
	size_t off = 2 + 32;
	int group = -1, hrr;

	if (n < off + 1)
		return -1;
	version = get16(h);
	hrr = memcmp(h + 2, hrr_random, 32) == 0;
	off += 1 + (size_t)h[off];
	if (n < off + 3)
		return -1;
	suite = get16(h + off);
	off += 3;
	if (off + 2 <= n && off + 2 + get16(h + off) <= n)
		sh_extensions(h + off + 2, get16(h + off), &version, &group);
	printf("serverhello version=0x%04X suite=0x%04X", version, suite);
	if (group >= 0)
		printf(" group=0x%04X", (unsigned)group);
	printf("%s\n", hrr ? " hrr=1" : "");
	return EXIT_HELLO;
}

/*
 * Look at everything received so far. Returns an exit code once the
 * answer is decided, or -1 when more bytes are needed.
 */
static int judge(const uint8_t *b, size_t n)
{
	uint8_t hs[8192];
	size_t off = 0, hl = 0;

	if (n > 0 && (b[0] < 20 || b[0] > 23 || (n > 1 && b[1] != 3))) {
		printf("garbage first=0x%02X bytes=%zu\n", b[0], n);
		return EXIT_GARBAGE;
	}
	while (off + 5 <= n) {
		size_t len = get16(b + off + 3);

		if (off + 5 + len > n)
			break;
		if (b[off] == 21 && len >= 2)
			return report_alert(b[off + 5], b[off + 6]);
		if (b[off] == 22) {
			size_t k = len < sizeof hs - hl ? len : sizeof hs - hl;

			memcpy(hs + hl, b + off + 5, k);
			hl += k;
		}
		off += 5 + len;
	}
	if (hl >= 4) {
		size_t mlen = ((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3];

		if (hs[0] != 2) {
			printf("garbage first=0x%02X bytes=%zu handshake_type=%u\n",
				b[0], n, hs[0]);
			return EXIT_GARBAGE;
		}
		if (4 + mlen <= hl && report_server_hello(hs + 4, mlen) == 0)
			return EXIT_HELLO;
		if (4 + mlen <= hl || mlen > sizeof hs - 4) {
			printf("garbage first=0x%02X bytes=%zu bad_server_hello=1\n",
				b[0], n);
			return EXIT_GARBAGE;
		}
	}
	return -1;
}

/* Monotonic milliseconds for the reply deadline. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until the answer is decided, the peer closes, or time runs out. */
static int read_answer(int fd, unsigned hold)
{
	static uint8_t buf[65536];
	int64_t deadline = now_ms() + (int64_t)hold * 1000;
	size_t n = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;
		int rc;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			printf("timeout%s\n", n ? " partial=1" : "");
			return EXIT_TIMEOUT;
		}
		r = recv(fd, buf + n, sizeof buf - n, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			printf("closed");
			if (n > 0)
				printf(" bytes=%zu", n);
			printf("%s\n", r < 0 ? " reset=1" : "");
			return EXIT_CLOSED;
		}
		n += (size_t)r;
		rc = judge(buf, n);
		if (rc >= 0)
			return rc;
		if (n == sizeof buf) {
			printf("garbage first=0x%02X bytes=%zu\n", buf[0], n);
			return EXIT_GARBAGE;
		}
	}
}

/* ---- command line and main ------------------------------------------- */

/* Hex list "002F,0035" or "0x001d,0x0017". */
static int parse_list(const char *s, uint16_t *out, size_t *n)
{
	*n = 0;
	while (*s != '\0') {
		char *end;
		unsigned long v;

		while (*s == ',' || *s == ' ')
			s++;
		if (*s == '\0')
			break;
		errno = 0;
		v = strtoul(s, &end, 16);
		if (end == s || errno || v > 0xFFFF || *n >= MAX_LIST
			|| (*end != '\0' && *end != ',' && *end != ' '))
			return -1;
		out[(*n)++] = (uint16_t)v;
		s = end;
	}
	return *n ? 0 : -1;
}

/* 0x0300..0x0304, or 1.0..1.3. */
static int parse_version(const char *s, uint16_t *v)
{
	static const char *const dotted[] = { "1.0", "1.1", "1.2", "1.3" };
	unsigned long x;
	char *end;
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, dotted[i]) == 0) {
			*v = (uint16_t)(0x0301 + i);
			return 0;
		}
	}
	x = strtoul(s, &end, 16);
	if (end == s || *end != '\0' || x < 0x0300 || x > 0x0304)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

/* Usage failure: the one stdout line, help on stderr. */
static int usage(const char *err)
{
	printf("fail stage=usage err=%s\n", err);
	fprintf(stderr, "usage: rawhello --host H --port P [--version V]"
		" [--suites HEXLIST] [--sni NAME]\n  [--groups HEXLIST]"
		" [--mode hello|garbage|http|truncated|sslv2|split]"
		" [--hold SEC] [--source ADDR]\n");
	return EXIT_USAGE;
}

/* Default suites: modern TLS 1.2, or the three TLS 1.3 ones. */
static void default_suites(struct opts *op)
{
	static const uint16_t s12[] = { 0xC02B, 0xC02F, 0xC02C, 0xC030,
		0xCCA9, 0xCCA8, 0xC023, 0xC027, 0xC009, 0xC013, 0xC00A, 0xC014 };
	static const uint16_t s13[] = { 0x1301, 0x1302, 0x1303 };
	const uint16_t *s = op->version >= 0x0304 ? s13 : s12;
	size_t n = op->version >= 0x0304 ? 3 : 12;

	memcpy(op->suites, s, n * sizeof *s);
	op->nsuites = n;
}

/* One option into op; NULL or the usage error token. */
static const char *parse_one(struct opts *op, int c, const char *arg)
{
	unsigned long v;
	char *end;
	int i;

	switch (c) {
	case 'H': op->host = arg; return NULL;
	case 'p': op->port = arg; return NULL;
	case 'n': op->sni = arg; return NULL;
	case 'b': op->source = arg; return NULL;
	case 'v': return parse_version(arg, &op->version) ? "bad_version" : NULL;
	case 's':
		return parse_list(arg, op->suites, &op->nsuites)
			? "bad_suites" : NULL;
	case 'g':
		return parse_list(arg, op->groups, &op->ngroups)
			? "bad_groups" : NULL;
	case 'm':
		for (i = 0; mode_names[i] != NULL; i++)
			if (strcmp(arg, mode_names[i]) == 0) {
				op->mode = (enum mode)i;
				return NULL;
			}
		return "bad_mode";
	case 't':
		v = strtoul(arg, &end, 10);
		if (end == arg || *end != '\0' || v < 1 || v > 3600)
			return "bad_hold";
		op->hold = (unsigned)v;
		return NULL;
	default:
		return "unknown_option";
	}
}

/* Defaults, then options. */
static const char *parse_args(struct opts *op, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' },
		{ "suites", required_argument, NULL, 's' },
		{ "sni", required_argument, NULL, 'n' },
		{ "groups", required_argument, NULL, 'g' },
		{ "mode", required_argument, NULL, 'm' },
		{ "hold", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	const char *err;
	int c;

	memset(op, 0, sizeof *op);
	op->host = "127.0.0.1";
	op->version = 0x0303;
	op->hold = 10;
	op->groups[0] = 0x001d;
	op->groups[1] = 0x0017;
	op->groups[2] = 0x0018;
	op->ngroups = 3;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		err = parse_one(op, c, optarg);
		if (err != NULL)
			return err;
	}
	if (optind < argc)
		return "extra_argument";
	if (op->port == NULL)
		return "missing_port";
	if (op->nsuites == 0)
		default_suites(op);
	return NULL;
}

/* Bind fd to the numeric address source (any port); -1 with err. */
static int bind_source(int fd, const char *source, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_PASSIVE }, *res;
	int rc;

	rc = getaddrinfo(source, "0", &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "source:%s", gai_strerror(rc));
		return -1;
	}
	rc = bind(fd, res->ai_addr, res->ai_addrlen);
	if (rc < 0)
		snprintf(err, errlen, "bind:%s", strerror(errno));
	freeaddrinfo(res);
	return rc;
}

/* Plain TCP connect (first address that answers), TCP_NODELAY set. */
static int tcp_connect(const char *host, const char *port,
	const char *source, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, one = 1;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "resolve:%s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (source != NULL && bind_source(fd, source, err, errlen) < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(err, errlen, "connect:%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	return fd;
}

/* Parse, connect, send the probe, print the first answer. */
int main(int argc, char **argv)
{
	struct opts op;
	const char *err = parse_args(&op, argc, argv);
	char cerr[128] = "connect:unknown";
	int fd, rc;

	if (err != NULL)
		return usage(err);
	fd = tcp_connect(op.host, op.port, op.source, cerr, sizeof cerr);
	if (fd < 0) {
		for (char *c = cerr; *c != '\0'; c++)
			if (*c == ' ')
				*c = '_';
		printf("fail stage=connect err=%s\n", cerr);
		return EXIT_USAGE;
	}
	if (send_probe(fd, &op) < 0) {
		/* The server may already have answered and closed. */
		rc = read_answer(fd, 1);
	} else {
		rc = read_answer(fd, op.hold);
	}
	fflush(stdout);
	close(fd);
	return rc;
}
