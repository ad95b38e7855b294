/*
 * pki-der.c: the DER `tlsgw pki` writes itself: the subjectAltName
 * value and the CRL body, which wolfCrypt 5.5.4 cannot build for us.
 * Reading (subject DN bytes for BearSSL trust anchors, the public key
 * for Tasmota's fingerprint, notAfter for the index) is policy/der.c.
 * Only single-byte tags and definite lengths.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki.h"

#define TAG_INTEGER 0x02
#define TAG_UTCTIME 0x17
#define TAG_GENTIME 0x18
#define TAG_SEQUENCE 0x30

/* Tag and length octets for a value of len bytes; returns their count. */
static size_t
der_header(unsigned tag, size_t len, unsigned char hdr[6])
{
	size_t n = 0, i;

	hdr[n++] = (unsigned char)tag;
	if (len < 0x80) {
		hdr[n++] = (unsigned char)len;
		return n;
	}
	for (i = 4; i > 0 && ((len >> (8 * (i - 1))) & 0xFF) == 0; i--)
		;
	hdr[n++] = (unsigned char)(0x80 | i);
	for (; i > 0; i--)
		hdr[n++] = (unsigned char)(len >> (8 * (i - 1)));
	return n;
}

int
der_put(struct pki_buf *b, unsigned tag, const void *val, size_t len)
{
	unsigned char hdr[6];
	size_t n = der_header(tag, len, hdr);

	if (pki_buf_cat(b, hdr, n) < 0)
		return -1;
	return len == 0 ? 0 : pki_buf_cat(b, val, len);
}

int
der_wrap(struct pki_buf *b, unsigned tag)
{
	unsigned char hdr[6];
	size_t n = der_header(tag, b->len, hdr), old = b->len;

	if (pki_buf_cat(b, hdr, n) < 0)         /* grow by n bytes */
		return -1;
	memmove(b->data + n, b->data, old);
	memcpy(b->data, hdr, n);
	return 0;
}

int
der_put_uint(struct pki_buf *b, uint64_t v)
{
	unsigned char n[9];
	size_t i = sizeof n;

	do {
		n[--i] = (unsigned char)v;
		v >>= 8;
	} while (v != 0);
	if (n[i] & 0x80)
		n[--i] = 0;             /* keep it positive */
	return der_put(b, TAG_INTEGER, n + i, sizeof n - i);
}

int
der_put_time(struct pki_buf *b, time_t t)
{
	struct tm tm;
	char s[16];

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
	if (tm.tm_year + 1900 < 2050) {
		strftime(s, sizeof s, "%y%m%d%H%M%SZ", &tm);
		return der_put(b, TAG_UTCTIME, s, 13);
	}
	strftime(s, sizeof s, "%Y%m%d%H%M%SZ", &tm);
	return der_put(b, TAG_GENTIME, s, 15);
}

int
der_san_add_dns(struct pki_buf *b, const char *name)
{
	return der_put(b, 0x82, name, strlen(name));    /* [2] dNSName */
}

int
der_san_add_ip(struct pki_buf *b, const unsigned char *ip, size_t len)
{
	return der_put(b, 0x87, ip, len);               /* [7] iPAddress */
}
