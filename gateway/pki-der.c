/*
 * pki-der.c: the few DER structures `tlsgw pki` reads and writes itself.
 *
 * wolfCrypt makes the certificates; this file reads back what the
 * firmware formats need (subject DN bytes for BearSSL trust anchors, the
 * public key fields for Tasmota's fingerprint, notAfter for the index)
 * without wolfSSL's internal DecodedCert API, and writes the
 * subjectAltName value and the CRL body, which wolfCrypt 5.5.4 cannot
 * build for us.  Only single-byte tags and definite lengths: that is
 * all DER allows for what we touch.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki.h"

#define TAG_INTEGER 0x02
#define TAG_BITSTRING 0x03
#define TAG_OID 0x06
#define TAG_UTCTIME 0x17
#define TAG_GENTIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_CTX0 0xA0

/* rsaEncryption and id-ecPublicKey, value bytes of the OIDs. */
static const unsigned char oid_rsa[] = {
	0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01
};
static const unsigned char oid_ec[] = {
	0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01
};

int
der_read(const unsigned char **p, const unsigned char *end,
    struct der_tlv *t)
{
	const unsigned char *q = *p;
	size_t len, n;

	if (end - q < 2 || (q[0] & 0x1F) == 0x1F)
		return -1;
	t->tag = q[0];
	t->raw = q;
	len = q[1];
	q += 2;
	if (len & 0x80) {
		n = len & 0x7F;
		/* DER: long form only when needed, at most 4 bytes here. */
		if (n == 0 || n > 4 || (size_t)(end - q) < n || q[0] == 0)
			return -1;
		for (len = 0; n > 0; n--)
			len = (len << 8) | *q++;
		if (len < 0x80)
			return -1;
	}
	if ((size_t)(end - q) < len)
		return -1;
	t->val = q;
	t->len = len;
	t->rawlen = (size_t)(q + len - t->raw);
	*p = q + len;
	return 0;
}

/* Read a TLV that must have the given tag. */
static int
der_expect(const unsigned char **p, const unsigned char *end, unsigned tag,
    struct der_tlv *t)
{
	if (der_read(p, end, t) < 0 || t->tag != tag)
		return -1;
	return 0;
}

/* Two decimal digits; -1 if not digits. */
static int
two_digits(const unsigned char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* UTCTime or GeneralizedTime, "...Z" with seconds, as X.509 uses. */
static int
der_time(const struct der_tlv *t, time_t *out)
{
	const unsigned char *s = t->val;
	struct tm tm;
	int year, i, v[5];

	memset(&tm, 0, sizeof tm);
	if (t->tag == TAG_UTCTIME && t->len == 13) {
		if ((year = two_digits(s)) < 0)
			return -1;
		year += year < 50 ? 2000 : 1900;
		s += 2;
	} else if (t->tag == TAG_GENTIME && t->len == 15) {
		if (two_digits(s) < 0 || two_digits(s + 2) < 0)
			return -1;
		year = two_digits(s) * 100 + two_digits(s + 2);
		s += 4;
	} else {
		return -1;
	}
	for (i = 0; i < 5; i++)
		if ((v[i] = two_digits(s + 2 * i)) < 0)
			return -1;
	if (s[10] != 'Z')
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = v[0] - 1;
	tm.tm_mday = v[1];
	tm.tm_hour = v[2];
	tm.tm_min = v[3];
	tm.tm_sec = v[4];
	*out = timegm(&tm);
	return 0;
}

/* SubjectPublicKeyInfo: RSA (n, e) or an EC point. */
static int
der_parse_spki(struct der_cert *c)
{
	const unsigned char *p = c->spki.val, *end = p + c->spki.len;
	const unsigned char *q, *qend;
	struct der_tlv alg, oid, bits, seq;

	if (der_expect(&p, end, TAG_SEQUENCE, &alg) < 0 ||
	    der_expect(&p, end, TAG_BITSTRING, &bits) < 0 ||
	    bits.len < 2 || bits.val[0] != 0)
		return -1;
	q = alg.val;
	if (der_expect(&q, alg.val + alg.len, TAG_OID, &oid) < 0)
		return -1;
	if (oid.len == sizeof oid_rsa && memcmp(oid.val, oid_rsa,
	    sizeof oid_rsa) == 0) {
		c->rsa = true;
		q = bits.val + 1;
		qend = bits.val + bits.len;
		if (der_expect(&q, qend, TAG_SEQUENCE, &seq) < 0)
			return -1;
		q = seq.val;
		qend = seq.val + seq.len;
		return der_expect(&q, qend, TAG_INTEGER, &c->rsa_n) < 0 ||
		    der_expect(&q, qend, TAG_INTEGER, &c->rsa_e) < 0 ? -1 : 0;
	}
	if (oid.len == sizeof oid_ec && memcmp(oid.val, oid_ec,
	    sizeof oid_ec) == 0) {
		c->rsa = false;
		c->ec_point.tag = TAG_BITSTRING;
		c->ec_point.val = bits.val + 1;
		c->ec_point.len = bits.len - 1;
		return 0;
	}
	return -1;
}

int
der_parse_cert(const unsigned char *der, size_t len, struct der_cert *c)
{
	const unsigned char *p = der, *end = der + len;
	struct der_tlv cert, validity, t;

	memset(c, 0, sizeof *c);
	if (der_expect(&p, end, TAG_SEQUENCE, &cert) < 0)
		return -1;
	p = cert.val;
	end = cert.val + cert.len;
	if (der_expect(&p, end, TAG_SEQUENCE, &c->tbs) < 0)
		return -1;
	p = c->tbs.val;
	end = c->tbs.val + c->tbs.len;
	if (der_read(&p, end, &t) < 0)
		return -1;
	if (t.tag == TAG_CTX0 && der_read(&p, end, &t) < 0)     /* version */
		return -1;
	c->serial = t;
	if (t.tag != TAG_INTEGER ||
	    der_expect(&p, end, TAG_SEQUENCE, &c->sigalg) < 0 ||
	    der_expect(&p, end, TAG_SEQUENCE, &c->issuer) < 0 ||
	    der_expect(&p, end, TAG_SEQUENCE, &validity) < 0 ||
	    der_expect(&p, end, TAG_SEQUENCE, &c->subject) < 0 ||
	    der_expect(&p, end, TAG_SEQUENCE, &c->spki) < 0)
		return -1;
	p = validity.val;
	end = validity.val + validity.len;
	if (der_read(&p, end, &t) < 0 || der_read(&p, end, &t) < 0 ||
	    der_time(&t, &c->not_after) < 0)
		return -1;
	return der_parse_spki(c);
}

void
der_unsigned(const unsigned char **p, size_t *len)
{
	while (*len > 1 && **p == 0) {
		(*p)++;
		(*len)--;
	}
}

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
