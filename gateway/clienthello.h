/*
 * clienthello.h: a small, allocation-free parser for the first flight a
 * device sends, run before any TLS object exists.  It never consumes
 * bytes: the caller peeks at its input buffer, and feeds the very same
 * bytes to the TLS library afterwards.
 */
#ifndef TLSGW_CLIENTHELLO_H
#define TLSGW_CLIENTHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CH_MAX_SUITES   128
#define CH_MAX_GROUPS   32
#define CH_MAX_SIGALGS  48
#define CH_MAX_VERSIONS 8
#define CH_MAX_SNI      255
/* Largest ClientHello handshake message we accept (reassembled). */
#define CH_MAX_MESSAGE  16384
/* Raw bytes worth reading for one hello: a whole CH_MAX_MESSAGE plus
 * the headers of the records it may be split over. */
#define CH_MAX_PEEK     (CH_MAX_MESSAGE + 4096)

/* Protocol version codes as they appear on the wire. */
#define TLSV_SSL3  0x0300
#define TLSV_TLS10 0x0301
#define TLSV_TLS11 0x0302
#define TLSV_TLS12 0x0303
#define TLSV_TLS13 0x0304

/* What one parse yields.  Lists longer than their array keep the first
 * entries and count all of them in the *_total fields. */
struct client_hello {
	uint16_t record_version;   /* version field of the first record */
	uint16_t legacy_version;   /* ClientHello.client_version */
	uint16_t versions[CH_MAX_VERSIONS]; /* supported_versions ext */
	size_t nversions;
	uint16_t suites[CH_MAX_SUITES];
	size_t nsuites, nsuites_total;
	uint16_t groups[CH_MAX_GROUPS];     /* supported_groups ext */
	size_t ngroups, ngroups_total;
	uint16_t sigalgs[CH_MAX_SIGALGS];   /* signature_algorithms ext */
	size_t nsigalgs, nsigalgs_total;
	char sni[CH_MAX_SNI + 1];  /* host_name, NUL-terminated; "" if none */
	bool has_sni;
	uint8_t mfl;               /* max_fragment_length code 1..4, 0 if none */
	bool has_alpn;
	bool has_session_ticket;
	bool has_renegotiation_info; /* ext 0xff01 or SCSV 0x00ff */
	size_t message_len;        /* handshake message length (body) */
	size_t bytes_used;         /* record bytes spanned by the hello */
};

/* Result codes of clienthello_parse. */
enum ch_result {
	CH_OK = 0,          /* a complete ClientHello was parsed */
	CH_NEED_MORE = 1,   /* looks like TLS so far; wait for more bytes */
	CH_NOT_TLS = -1,    /* first byte is not a TLS handshake record */
	CH_SSLV2 = -2,      /* an SSLv2-style (2-byte header) ClientHello */
	CH_NOT_HELLO = -3,  /* handshake record that is not a ClientHello */
	CH_MALFORMED = -4,  /* lengths or fields inconsistent */
	CH_TOO_BIG = -5,    /* hello larger than CH_MAX_MESSAGE */
	CH_HTTP = -6,       /* bytes look like a plain-text HTTP request */
};

/*
 * Parse the ClientHello at the start of buf (len bytes of raw TCP
 * stream), reassembling it across several handshake records if needed.
 * Returns an enum ch_result; *out is filled only on CH_OK.
 */
int clienthello_parse(const uint8_t *buf, size_t len,
    struct client_hello *out);

/* A short human text for a non-OK result ("not a TLS record", ...). */
const char *clienthello_strerror(int result);

/* Highest TLS version the client offers (supported_versions wins). */
uint16_t clienthello_max_version(const struct client_hello *ch);

/* True when the client offers the given version at all. */
bool clienthello_offers_version(const struct client_hello *ch, uint16_t v);

/* Record size limit in bytes for an MFL code (1..4), 0 for none. */
size_t clienthello_mfl_bytes(uint8_t code);

/* "TLS 1.2", "TLS 1.3", "SSL 3.0", or "0x%04x" into a static buffer. */
const char *tls_version_name(uint16_t v);

#endif
