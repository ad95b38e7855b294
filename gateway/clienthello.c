/*
 * clienthello.c: an allocation-free ClientHello parser for the bytes a
 * device sends first.  It only peeks: the same bytes go to the TLS
 * library afterwards.  Every read goes through a bounded reader (struct
 * ch_rd) that cannot step past its end, so the parser is safe on any
 * input (it is fuzzed).  Multi-byte fields are read big-endian byte by
 * byte: no unaligned loads.
 *
 * Return codes of clienthello_parse (enum ch_result):
 *   CH_OK         a whole ClientHello arrived and parsed; *out is set.
 *   CH_NEED_MORE  the bytes so far are a valid prefix (of an HTTP method
 *                 name, an SSLv2 header, or TLS handshake records whose
 *                 headers check out); call again with more bytes.
 *   CH_NOT_TLS    neither TLS, nor SSLv2, nor HTTP (e.g. MQTT in clear).
 *   CH_SSLV2      an SSLv2-format ClientHello (high bit of byte 0 set,
 *                 byte 2 == 1): tlsgw never speaks SSLv2.
 *   CH_NOT_HELLO  a TLS handshake record whose first message is not a
 *                 ClientHello.
 *   CH_MALFORMED  inconsistent lengths or illegal values: record length
 *                 0 or above 16384+2048, a later record that is not a
 *                 handshake record, bytes after the hello in its last
 *                 record, odd or empty suite list, session id above 32,
 *                 extension lengths that overrun, duplicate extensions,
 *                 an SNI host_name that is empty, longer than
 *                 CH_MAX_SNI, repeated, or has a byte outside printable
 *                 ASCII (NUL and control bytes included), an MFL code
 *                 outside 1..4, ...
 *   CH_TOO_BIG    the handshake message is longer than CH_MAX_MESSAGE.
 *   CH_HTTP       "GET ", "POST", "HEAD", "PUT ", "CONN", "OPTI", ...:
 *                 a plain-text HTTP request on the TLS port.
 *
 * A ClientHello split over several handshake records is reassembled
 * into a buffer on the stack (CH_MAX_MESSAGE bytes) when, and only when,
 * it does not fit in its first record.
 */
#include <stdio.h>
#include <string.h>

#include "clienthello.h"

#define CH_REC_HEADER   5
#define CH_HS_HEADER    4
#define CH_REC_MAX      (16384 + 2048)	/* TLSCiphertext limit */
#define CH_REC_HANDSHAKE 22
#define CH_HS_CLIENT_HELLO 1

/* Extension codes we read. */
#define CH_EXT_SNI          0x0000
#define CH_EXT_MFL          0x0001
#define CH_EXT_GROUPS       0x000a
#define CH_EXT_SIGALGS      0x000d
#define CH_EXT_ALPN         0x0010
#define CH_EXT_TICKET       0x0023
#define CH_EXT_VERSIONS     0x002b
#define CH_EXT_RENEG        0xff01
#define CH_SCSV_RENEG       0x00ff

/* A bounded reader: reads fail, and stay failed, past the end. */
struct ch_rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool err;
};

/* Start a reader over n bytes at p. */
static void
ch_rd_init(struct ch_rd *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->len = n;
	r->pos = 0;
	r->err = false;
}

/* Bytes not yet read (0 once failed). */
static size_t
ch_rd_left(const struct ch_rd *r)
{
	return r->err ? 0 : r->len - r->pos;
}

/* Consume n bytes and return where they start, or NULL (and fail). */
static const uint8_t *
ch_rd_take(struct ch_rd *r, size_t n)
{
	const uint8_t *q;

	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	q = r->p + r->pos;
	r->pos += n;
	return q;
}

/* Read one byte; 0 once failed. */
static unsigned
ch_rd_u8(struct ch_rd *r)
{
	const uint8_t *q = ch_rd_take(r, 1);

	return q == NULL ? 0 : q[0];
}

/* Read a big-endian 16-bit value; 0 once failed. */
static unsigned
ch_rd_u16(struct ch_rd *r)
{
	const uint8_t *q = ch_rd_take(r, 2);

	return q == NULL ? 0 : ((unsigned)q[0] << 8) | q[1];
}

/* Split off the next n bytes as a reader of their own. */
static bool
ch_rd_sub(struct ch_rd *r, size_t n, struct ch_rd *sub)
{
	const uint8_t *q = ch_rd_take(r, n);

	ch_rd_init(sub, q, q == NULL ? 0 : n);
	sub->err = (q == NULL);
	return q != NULL;
}

/* Split off a vector with a 1-byte length prefix. */
static bool
ch_rd_vec8(struct ch_rd *r, struct ch_rd *sub)
{
	size_t n = ch_rd_u8(r);

	return !r->err && ch_rd_sub(r, n, sub);
}

/* Split off a vector with a 2-byte length prefix. */
static bool
ch_rd_vec16(struct ch_rd *r, struct ch_rd *sub)
{
	size_t n = ch_rd_u16(r);

	return !r->err && ch_rd_sub(r, n, sub);
}

/* Big-endian 16 bits at p (caller checked the bounds). */
static unsigned
ch_be16(const uint8_t *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

/* GREASE values (RFC 8701) look like 0x?A?A with equal bytes. */
static bool
ch_is_grease(unsigned v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ------------------------------------------------------------------ */
/* First bytes: TLS, SSLv2, HTTP or something else.                   */

/* Method names (first four bytes) of plain-text HTTP requests. */
static const char *const ch_http_starts[] = {
	"GET ", "POST", "HEAD", "PUT ", "DELE", "CONN", "OPTI", "TRAC",
	"PATC", "PRI ",
};

/* CH_HTTP, CH_NEED_MORE (prefix of a method) or CH_NOT_TLS. */
static int
ch_classify_http(const uint8_t *buf, size_t len)
{
	size_t i, n = len < 4 ? len : 4;

	for (i = 0; i < sizeof ch_http_starts / sizeof ch_http_starts[0];
	    i++) {
		if (memcmp(buf, ch_http_starts[i], n) == 0)
			return n == 4 ? CH_HTTP : CH_NEED_MORE;
	}
	return CH_NOT_TLS;
}

/* Classify a stream that does not start with a handshake record. */
static int
ch_classify_other(const uint8_t *buf, size_t len)
{
	if (buf[0] & 0x80) {
		/* SSLv2 2-byte header: length, then msg type 1. */
		if (len < 3)
			return CH_NEED_MORE;
		return buf[2] == 1 ? CH_SSLV2 : CH_NOT_TLS;
	}
	return ch_classify_http(buf, len);
}

/* ------------------------------------------------------------------ */
/* Record layer: find the handshake bytes inside records.             */

/*
 * Check the record header at buf+off (avail bytes from there).  first:
 * this is the stream's first record.  Returns CH_OK with *reclen set,
 * CH_NEED_MORE, or an error.
 */
static int
ch_record_header(const uint8_t *buf, size_t avail, bool first,
    size_t *reclen)
{
	if (avail >= 1 && buf[0] != CH_REC_HANDSHAKE)
		return first ? CH_NOT_TLS : CH_MALFORMED;
	if (avail >= 2 && buf[1] != 3)
		return first ? CH_NOT_TLS : CH_MALFORMED;
	if (avail < CH_REC_HEADER)
		return CH_NEED_MORE;
	*reclen = ch_be16(buf + 3);
	if (*reclen == 0 || *reclen > CH_REC_MAX)
		return CH_MALFORMED;
	return CH_OK;
}

/*
 * Walk the records at the start of buf and copy the first `want` bytes
 * of handshake payload into dst.  *got tells how many were copied.
 * whole: the records holding them must have arrived entirely (to parse
 * the hello), else stop as soon as `want` bytes are in (to peek at the
 * handshake header).  On CH_OK with whole, *used is how many stream
 * bytes those records span and *tail whether the last one holds bytes
 * after the wanted ones.
 */
static int
ch_records(const uint8_t *buf, size_t len, uint8_t *dst, size_t want,
    bool whole, size_t *got, size_t *used, bool *tail)
{
	size_t off = 0, reclen = 0, take, inrec;
	int rc;

	*got = 0;
	*used = 0;
	*tail = false;
	while (*got < want) {
		rc = ch_record_header(buf + off, len - off, off == 0,
		    &reclen);
		if (rc != CH_OK)
			return rc;
		inrec = len - off - CH_REC_HEADER;
		if (inrec > reclen)
			inrec = reclen;
		take = want - *got;
		if (take > inrec)
			take = inrec;
		memcpy(dst + *got, buf + off + CH_REC_HEADER, take);
		*got += take;
		if (!whole && *got == want)
			break;
		if (inrec < reclen)
			return CH_NEED_MORE;	/* record not all here */
		*tail = take < reclen;
		off += CH_REC_HEADER + reclen;
	}
	*used = off;
	return CH_OK;
}

/* ------------------------------------------------------------------ */
/* Extensions.                                                        */

/* Copy up to max 16-bit values of a list into arr; count them all. */
static void
ch_read_list16(struct ch_rd *r, uint16_t *arr, size_t max, size_t *n,
    size_t *total)
{
	unsigned v;

	*n = 0;
	*total = 0;
	while (ch_rd_left(r) >= 2) {
		v = ch_rd_u16(r);
		if (*n < max)
			arr[(*n)++] = (uint16_t)v;
		(*total)++;
	}
}

/* A 2-byte-length list of 16-bit values filling the whole extension. */
static int
ch_ext_list16(struct ch_rd *ext, uint16_t *arr, size_t max, size_t *n,
    size_t *total)
{
	struct ch_rd list;

	if (!ch_rd_vec16(ext, &list) || ch_rd_left(ext) != 0)
		return CH_MALFORMED;
	if (ch_rd_left(&list) == 0 || ch_rd_left(&list) % 2 != 0)
		return CH_MALFORMED;
	ch_read_list16(&list, arr, max, n, total);
	return CH_OK;
}

/* True when a host name byte is acceptable (printable ASCII, no space). */
static bool
ch_sni_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* server_name (RFC 6066 s3): one host_name at most, sane bytes. */
static int
ch_ext_sni(struct ch_rd *ext, struct client_hello *ch)
{
	struct ch_rd list, name;
	unsigned type;
	size_t i, n;

	if (!ch_rd_vec16(ext, &list) || ch_rd_left(ext) != 0 ||
	    ch_rd_left(&list) == 0)
		return CH_MALFORMED;
	while (ch_rd_left(&list) > 0) {
		type = ch_rd_u8(&list);
		if (!ch_rd_vec16(&list, &name))
			return CH_MALFORMED;
		if (type != 0)
			continue;	/* unknown name type: skip */
		n = ch_rd_left(&name);
		if (ch->has_sni || n == 0 || n > CH_MAX_SNI)
			return CH_MALFORMED;
		for (i = 0; i < n; i++) {
			if (!ch_sni_byte_ok(name.p[i]))
				return CH_MALFORMED;
			ch->sni[i] = (char)name.p[i];
		}
		ch->sni[n] = '\0';
		ch->has_sni = true;
	}
	return CH_OK;
}

/* max_fragment_length: exactly one byte, 1..4. */
static int
ch_ext_mfl(struct ch_rd *ext, struct client_hello *ch)
{
	unsigned code = ch_rd_u8(ext);

	if (ext->err || ch_rd_left(ext) != 0 || code < 1 || code > 4)
		return CH_MALFORMED;
	ch->mfl = (uint8_t)code;
	return CH_OK;
}

/* ALPN: a non-empty list of non-empty names. */
static int
ch_ext_alpn(struct ch_rd *ext, struct client_hello *ch)
{
	struct ch_rd list, name;

	if (!ch_rd_vec16(ext, &list) || ch_rd_left(ext) != 0 ||
	    ch_rd_left(&list) == 0)
		return CH_MALFORMED;
	while (ch_rd_left(&list) > 0) {
		if (!ch_rd_vec8(&list, &name) || ch_rd_left(&name) == 0)
			return CH_MALFORMED;
	}
	ch->has_alpn = true;
	return CH_OK;
}

/* supported_versions: 1-byte length, even, non-empty; GREASE skipped. */
static int
ch_ext_versions(struct ch_rd *ext, struct client_hello *ch)
{
	struct ch_rd list;
	unsigned v;

	if (!ch_rd_vec8(ext, &list) || ch_rd_left(ext) != 0)
		return CH_MALFORMED;
	if (ch_rd_left(&list) == 0 || ch_rd_left(&list) % 2 != 0)
		return CH_MALFORMED;
	while (ch_rd_left(&list) >= 2) {
		v = ch_rd_u16(&list);
		if (!ch_is_grease(v) && ch->nversions < CH_MAX_VERSIONS)
			ch->versions[ch->nversions++] = (uint16_t)v;
	}
	return CH_OK;
}

/* renegotiation_info: one length-prefixed opaque filling the body. */
static int
ch_ext_reneg(struct ch_rd *ext, struct client_hello *ch)
{
	struct ch_rd data;

	if (!ch_rd_vec8(ext, &data) || ch_rd_left(ext) != 0)
		return CH_MALFORMED;
	ch->has_renegotiation_info = true;
	return CH_OK;
}

/* Bit for the duplicate check of the extensions we read, 0 for others. */
static unsigned
ch_ext_bit(unsigned type)
{
	switch (type) {
	case CH_EXT_SNI: return 1u << 0;
	case CH_EXT_MFL: return 1u << 1;
	case CH_EXT_GROUPS: return 1u << 2;
	case CH_EXT_SIGALGS: return 1u << 3;
	case CH_EXT_ALPN: return 1u << 4;
	case CH_EXT_TICKET: return 1u << 5;
	case CH_EXT_VERSIONS: return 1u << 6;
	case CH_EXT_RENEG: return 1u << 7;
	default: return 0;
	}
}

/* Dispatch one extension body to its reader. */
static int
ch_ext_one(unsigned type, struct ch_rd *ext, struct client_hello *ch)
{
	switch (type) {
	case CH_EXT_SNI:
		return ch_ext_sni(ext, ch);
	case CH_EXT_MFL:
		return ch_ext_mfl(ext, ch);
	case CH_EXT_GROUPS:
		return ch_ext_list16(ext, ch->groups, CH_MAX_GROUPS,
		    &ch->ngroups, &ch->ngroups_total);
	case CH_EXT_SIGALGS:
		return ch_ext_list16(ext, ch->sigalgs, CH_MAX_SIGALGS,
		    &ch->nsigalgs, &ch->nsigalgs_total);
	case CH_EXT_ALPN:
		return ch_ext_alpn(ext, ch);
	case CH_EXT_TICKET:
		ch->has_session_ticket = true;	/* opaque, any length */
		return CH_OK;
	case CH_EXT_VERSIONS:
		return ch_ext_versions(ext, ch);
	case CH_EXT_RENEG:
		return ch_ext_reneg(ext, ch);
	default:
		return CH_OK;
	}
}

/* The extensions block: it must fill the rest of the message exactly. */
static int
ch_extensions(struct ch_rd *r, struct client_hello *ch)
{
	struct ch_rd all, ext;
	unsigned type, bit, seen = 0;
	int rc;

	if (ch_rd_left(r) == 0)
		return CH_OK;		/* no extensions (SSL 3.0 style) */
	if (!ch_rd_vec16(r, &all) || ch_rd_left(r) != 0)
		return CH_MALFORMED;
	while (ch_rd_left(&all) > 0) {
		type = ch_rd_u16(&all);
		if (!ch_rd_vec16(&all, &ext))
			return CH_MALFORMED;
		bit = ch_ext_bit(type);
		if (seen & bit)
			return CH_MALFORMED;	/* duplicate */
		seen |= bit;
		rc = ch_ext_one(type, &ext, ch);
		if (rc != CH_OK)
			return rc;
	}
	return CH_OK;
}

/* ------------------------------------------------------------------ */
/* The ClientHello body.                                              */

/* Cipher suites: even, non-empty; the renegotiation SCSV noted. */
static int
ch_suites(struct ch_rd *r, struct client_hello *ch)
{
	struct ch_rd list;
	size_t i;

	if (!ch_rd_vec16(r, &list))
		return CH_MALFORMED;
	if (ch_rd_left(&list) == 0 || ch_rd_left(&list) % 2 != 0)
		return CH_MALFORMED;
	ch_read_list16(&list, ch->suites, CH_MAX_SUITES, &ch->nsuites,
	    &ch->nsuites_total);
	/* Look at every code, also those beyond the array. */
	for (i = 0; i + 1 < list.len; i += 2) {
		if (ch_be16(list.p + i) == CH_SCSV_RENEG)
			ch->has_renegotiation_info = true;
	}
	return CH_OK;
}

/* Parse a whole handshake body (msg, n bytes) into ch. */
static int
ch_body(const uint8_t *msg, size_t n, struct client_hello *ch)
{
	struct ch_rd r, sid, comp;
	int rc;

	ch_rd_init(&r, msg, n);
	ch->legacy_version = (uint16_t)ch_rd_u16(&r);
	ch_rd_take(&r, 32);			/* random */
	if (!ch_rd_vec8(&r, &sid) || ch_rd_left(&sid) > 32)
		return CH_MALFORMED;
	rc = ch_suites(&r, ch);
	if (rc != CH_OK)
		return rc;
	if (!ch_rd_vec8(&r, &comp) || ch_rd_left(&comp) == 0)
		return CH_MALFORMED;
	return ch_extensions(&r, ch);
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                      */

/* Parse a handshake message that spans several records (rare). */
static int
ch_parse_split(const uint8_t *buf, size_t len, size_t total,
    struct client_hello *ch, size_t *used)
{
	uint8_t msg[CH_HS_HEADER + CH_MAX_MESSAGE];
	size_t got;
	bool tail;
	int rc;

	rc = ch_records(buf, len, msg, total, true, &got, used, &tail);
	if (rc != CH_OK)
		return rc;
	if (tail)
		return CH_MALFORMED;
	return ch_body(msg + CH_HS_HEADER, total - CH_HS_HEADER, ch);
}

/* TLS records: find the hello's header, then its body. */
static int
ch_parse_tls(const uint8_t *buf, size_t len, struct client_hello *ch)
{
	uint8_t hdr[CH_HS_HEADER];
	size_t got, used = 0, mlen, total, reclen;
	bool tail;
	int rc;

	rc = ch_records(buf, len, hdr, sizeof hdr, false, &got, &used,
	    &tail);
	if (got >= 1 && hdr[0] != CH_HS_CLIENT_HELLO)
		return CH_NOT_HELLO;
	if (rc != CH_OK)
		return rc;
	mlen = ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (mlen > CH_MAX_MESSAGE)
		return CH_TOO_BIG;
	total = CH_HS_HEADER + mlen;
	ch->record_version = (uint16_t)ch_be16(buf + 1);
	ch->message_len = mlen;
	reclen = ch_be16(buf + 3);
	if (reclen >= total) {
		/* The usual case: the whole hello in the first record. */
		if (reclen > total)
			return CH_MALFORMED;	/* bytes after the hello */
		if (len < CH_REC_HEADER + reclen)
			return CH_NEED_MORE;
		rc = ch_body(buf + CH_REC_HEADER + CH_HS_HEADER, mlen, ch);
		used = CH_REC_HEADER + reclen;
	} else {
		rc = ch_parse_split(buf, len, total, ch, &used);
	}
	ch->bytes_used = used;
	return rc;
}

int
clienthello_parse(const uint8_t *buf, size_t len, struct client_hello *out)
{
	struct client_hello ch;
	int rc;

	if (buf == NULL || len == 0)
		return CH_NEED_MORE;
	if (buf[0] != CH_REC_HANDSHAKE)
		return ch_classify_other(buf, len);
	memset(&ch, 0, sizeof ch);
	rc = ch_parse_tls(buf, len, &ch);
	if (rc == CH_OK && out != NULL)
		*out = ch;
	return rc;
}

const char *
clienthello_strerror(int result)
{
	switch (result) {
	case CH_OK: return "ok";
	case CH_NEED_MORE: return "incomplete ClientHello";
	case CH_NOT_TLS: return "not a TLS record";
	case CH_SSLV2: return "SSLv2 ClientHello";
	case CH_NOT_HELLO: return "handshake is not a ClientHello";
	case CH_MALFORMED: return "malformed ClientHello";
	case CH_TOO_BIG: return "ClientHello too big";
	case CH_HTTP: return "plain-text HTTP request";
	default: return "unknown ClientHello error";
	}
}

/* True for a version code we can name and compare (SSL 3.0 .. TLS 1.3). */
static bool
ch_version_known(uint16_t v)
{
	return v >= TLSV_SSL3 && v <= TLSV_TLS13;
}

uint16_t
clienthello_max_version(const struct client_hello *ch)
{
	uint16_t best = 0;
	size_t i;

	if (ch->nversions == 0) {
		/* No supported_versions: TLS 1.3 cannot be negotiated. */
		return ch->legacy_version > TLSV_TLS12 ? TLSV_TLS12 :
		    ch->legacy_version;
	}
	for (i = 0; i < ch->nversions; i++) {
		if (ch_version_known(ch->versions[i]) &&
		    ch->versions[i] > best)
			best = ch->versions[i];
	}
	return best;
}

bool
clienthello_offers_version(const struct client_hello *ch, uint16_t v)
{
	size_t i;

	if (ch->nversions == 0)
		return v >= TLSV_SSL3 && v <= clienthello_max_version(ch);
	for (i = 0; i < ch->nversions; i++) {
		if (ch->versions[i] == v)
			return true;
	}
	return false;
}

size_t
clienthello_mfl_bytes(uint8_t code)
{
	if (code < 1 || code > 4)
		return 0;
	return (size_t)256 << code;
}

const char *
tls_version_name(uint16_t v)
{
	static _Thread_local char buf[8];

	switch (v) {
	case TLSV_SSL3: return "SSL 3.0";
	case TLSV_TLS10: return "TLS 1.0";
	case TLSV_TLS11: return "TLS 1.1";
	case TLSV_TLS12: return "TLS 1.2";
	case TLSV_TLS13: return "TLS 1.3";
	default:
		snprintf(buf, sizeof buf, "0x%04x", (unsigned)v);
		return buf;
	}
}
