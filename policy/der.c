/*
 * der.c: reading certificates by hand (see der.h for why).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "der.h"

#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BITSTRING 0x03
#define TAG_OCTETSTRING 0x04
#define TAG_OID 0x06
#define TAG_UTCTIME 0x17
#define TAG_GENTIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_CTX0 0xA0
#define TAG_CTX3 0xA3
#define TAG_DNSNAME 0x82        /* GeneralName [2] IA5String, implicit */

/* rsaEncryption, id-ecPublicKey, id-at-commonName and
 * id-ce-subjectAltName: value bytes of the OIDs. */
static const unsigned char oid_rsa[] = {
	0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01
};
static const unsigned char oid_ec[] = {
	0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01
};
static const unsigned char oid_cn[] = { 0x55, 0x04, 0x03 };
static const unsigned char oid_san[] = { 0x55, 0x1D, 0x11 };

static bool
der_oid_is(const struct der_tlv *t, const unsigned char *oid, size_t len)
{
	return t->tag == TAG_OID && t->len == len &&
	    memcmp(t->val, oid, len) == 0;
}

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

int
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

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar,
 * in 64 bits: time_t is 32 bits on Debian's armhf and on many routers,
 * and certificates run past 2038. */
static int64_t
der_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse: the date of a day count. */
static void
der_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* UTCTime or GeneralizedTime, "...Z" with seconds, as X.509 uses. */
static int
der_time(const struct der_tlv *t, int64_t *out)
{
	static const int days_in[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	const unsigned char *s = t->val;
	int year, i, v[5];

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
	if (s[10] != 'Z' || v[0] < 1 || v[0] > 12 || v[1] < 1 ||
	    v[1] > days_in[v[0] - 1] || v[2] > 23 || v[3] > 59 || v[4] > 60)
		return -1;
	*out = der_days_from_civil(year, v[0], v[1]) * 86400 +
	    v[2] * 3600 + v[3] * 60 + v[4];
	return 0;
}

void
der_format_time(int64_t t, char *buf, size_t len)
{
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	int64_t days = (t >= 0 ? t : t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int y, m, d;

	der_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%s %2d %02d:%02d:%02d %d GMT", months[m - 1], d,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), y);
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
	if (der_oid_is(&oid, oid_rsa, sizeof oid_rsa)) {
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
	if (der_oid_is(&oid, oid_ec, sizeof oid_ec)) {
		c->rsa = false;
		c->ec_point.tag = TAG_BITSTRING;
		c->ec_point.val = bits.val + 1;
		c->ec_point.len = bits.len - 1;
		return 0;
	}
	return -1;
}

/* The optional fields after the key: [1] and [2] unique IDs, then
 * [3] extensions (an explicit SEQUENCE). */
static int
der_parse_tail(const unsigned char *p, const unsigned char *end,
    struct der_cert *c)
{
	struct der_tlv t;

	while (p < end) {
		if (der_read(&p, end, &t) < 0)
			return -1;
		if (t.tag == TAG_CTX3) {
			const unsigned char *q = t.val;

			return der_expect(&q, t.val + t.len, TAG_SEQUENCE,
			    &c->extensions);
		}
	}
	return 0;
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
	    der_expect(&p, end, TAG_SEQUENCE, &c->spki) < 0 ||
	    der_parse_tail(p, end, c) < 0)
		return -1;
	p = validity.val;
	end = validity.val + validity.len;
	if (der_read(&p, end, &t) < 0 || der_time(&t, &c->not_before) < 0 ||
	    der_read(&p, end, &t) < 0 || der_time(&t, &c->not_after) < 0)
		return -1;
	return der_parse_spki(c);
}

/* Copy a string value into buf; false when it does not fit or holds a
 * NUL (a name with a NUL inside must not compare equal to its prefix). */
static bool
der_copy_string(const struct der_tlv *t, char *buf, size_t len)
{
	if (t->len >= len || memchr(t->val, '\0', t->len) != NULL)
		return false;
	memcpy(buf, t->val, t->len);
	buf[t->len] = '\0';
	return true;
}

bool
der_cert_cn(const struct der_cert *c, char *buf, size_t len)
{
	const unsigned char *p = c->subject.val, *end = p + c->subject.len;
	const unsigned char *q, *qend;
	struct der_tlv rdn, atv, oid, val;
	bool found = false;

	/* Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } */
	while (p < end) {
		if (der_expect(&p, end, TAG_SET, &rdn) < 0)
			return false;
		q = rdn.val;
		qend = rdn.val + rdn.len;
		while (q < qend) {
			const unsigned char *r;

			if (der_expect(&q, qend, TAG_SEQUENCE, &atv) < 0)
				return false;
			r = atv.val;
			if (der_read(&r, atv.val + atv.len, &oid) < 0 ||
			    der_read(&r, atv.val + atv.len, &val) < 0)
				return false;
			if (der_oid_is(&oid, oid_cn, sizeof oid_cn))
				found = der_copy_string(&val, buf, len);
		}
	}
	return found;
}

/* The GeneralNames of the subjectAltName extension; false if none. */
static bool
der_cert_san(const struct der_cert *c, struct der_tlv *names)
{
	const unsigned char *p = c->extensions.val;
	const unsigned char *end, *q, *qend;
	struct der_tlv ext, oid, t;

	if (p == NULL)          /* no extensions (an X.509 v1 certificate) */
		return false;
	end = p + c->extensions.len;
	while (p < end) {
		if (der_expect(&p, end, TAG_SEQUENCE, &ext) < 0)
			return false;
		q = ext.val;
		qend = ext.val + ext.len;
		if (der_read(&q, qend, &oid) < 0 ||
		    !der_oid_is(&oid, oid_san, sizeof oid_san))
			continue;
		if (der_read(&q, qend, &t) < 0)
			return false;
		if (t.tag == TAG_BOOLEAN && der_read(&q, qend, &t) < 0)
			return false;
		if (t.tag != TAG_OCTETSTRING)
			return false;
		q = t.val;
		return der_expect(&q, t.val + t.len, TAG_SEQUENCE, names) == 0;
	}
	return false;
}

bool
der_cert_next_dns(const struct der_cert *c, size_t *pos, char *buf,
    size_t len)
{
	struct der_tlv names, gn;
	const unsigned char *p, *end;

	if (!der_cert_san(c, &names) || *pos > names.len)
		return false;
	p = names.val + *pos;
	end = names.val + names.len;
	while (p < end) {
		if (der_read(&p, end, &gn) < 0)
			return false;
		*pos = (size_t)(p - names.val);
		if (gn.tag == TAG_DNSNAME && der_copy_string(&gn, buf, len))
			return true;
	}
	return false;
}

void
der_unsigned(const unsigned char **p, size_t *len)
{
	while (*len > 1 && **p == 0) {
		(*p)++;
		(*len)--;
	}
}
