/*
 * der.h: the few DER structures tlsgw reads itself, so that neither the
 * configuration loader nor `tlsgw pki` needs wolfSSL's OpenSSL
 * compatibility layer (which, built in, costs every TLS session a 4 KB
 * peer-certificate slot): a certificate's validity, public key, subject
 * CN and subjectAltName DNS names.  Only single-byte tags and definite
 * lengths: that is all DER allows for what we touch.
 */
#ifndef TLSGW_DER_H
#define TLSGW_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed TLV: tag, value (pointing into the input) and whole span. */
struct der_tlv {
	unsigned tag;
	const unsigned char *val;
	size_t len;
	const unsigned char *raw;       /* tag and length included */
	size_t rawlen;
};

/* Read the next TLV from *p..end and advance *p; -1 if malformed. */
int der_read(const unsigned char **p, const unsigned char *end,
    struct der_tlv *t);

/* The same, for a TLV that must carry the given tag. */
int der_expect(const unsigned char **p, const unsigned char *end,
    unsigned tag, struct der_tlv *t);

/* What we need from a certificate, pointing into its DER. */
struct der_cert {
	struct der_tlv tbs;
	struct der_tlv serial;
	struct der_tlv sigalg;          /* inside the TBS */
	struct der_tlv issuer;
	struct der_tlv subject;
	struct der_tlv spki;
	struct der_tlv extensions;      /* len 0 when there are none */
	int64_t not_before, not_after;  /* seconds since 1970, UTC */
	bool rsa;                       /* else EC */
	struct der_tlv rsa_n, rsa_e;    /* INTEGER values, leading 0 kept */
	struct der_tlv ec_point;        /* uncompressed point */
};

/* Parse an X.509 certificate (RSA or EC key); -1 if it is not one. */
int der_parse_cert(const unsigned char *der, size_t len, struct der_cert *c);

/* The subject's (last) commonName into buf as a C string; false when
 * there is none or it does not fit. */
bool der_cert_cn(const struct der_cert *c, char *buf, size_t len);

/* The subjectAltName DNS names one by one: *pos starts at 0; each call
 * copies the next name into buf and returns true, false at the end.
 * Names that do not fit in buf are skipped. */
bool der_cert_next_dns(const struct der_cert *c, size_t *pos, char *buf,
    size_t len);

/* A time as OpenSSL prints one ("Jan  2 00:00:00 2020 GMT"), whatever
 * the size of time_t. */
void der_format_time(int64_t t, char *buf, size_t len);

/* Strip the leading zero bytes of an INTEGER value. */
void der_unsigned(const unsigned char **p, size_t *len);

#endif
