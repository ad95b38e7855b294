/*
 * pki-cert.c: keys, certificates and the CRL, made with wolfCrypt.
 *
 * Needs a wolfSSL built with WOLFSSL_CERT_GEN, WOLFSSL_CERT_EXT (key
 * usage, extended key usage, key identifiers), WOLFSSL_ALT_NAMES
 * (subjectAltName) and WOLFSSL_KEY_GEN (RSA key generation and key
 * export).  Debian 12's libwolfssl 5.5.4 has all four.  It has no CRL
 * writer, so the CRL body is encoded in pki-der.c and signed here with
 * wc_SignCert_ex, which signs any to-be-signed DER: a CRL is the same
 * SEQUENCE { tbs, signatureAlgorithm, signature } as a certificate.
 *
 * Two habits of wolfCrypt 5.5.4 we work around: it writes validity
 * dates as GeneralizedTime whatever the year (RFC 5280 wants UTCTime
 * before 2050), so we give the dates ourselves; and it writes
 * basicConstraints only for CAs unless Cert.basicConstSet is set, which
 * we set so that leaves say CA:FALSE.  It marks basicConstraints
 * non-critical even in CAs, and 5.5.4 has no switch for that (OpenSSL,
 * BearSSL and mbedTLS accept it).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>

#include "keys.h"
#include "pki.h"

#ifdef PKI_SUPPORTED

#define RSA_BITS 2048
#define P256_BYTES 32
#define KEY_DER_MAX 4096        /* RSA-2048 PKCS#1 is about 1.2 KB */
#define CERT_DER_MAX 8192       /* plus the SAN, added at run time */

/* CRL extension crlNumber (2.5.29.20), OID value bytes. */
static const unsigned char oid_crl_number[] = { 0x55, 0x1D, 0x14 };

struct pki_key {
	bool rsa;
	union {
		RsaKey rsa;
		ecc_key ec;
	} u;
};

struct pki_rng {
	WC_RNG rng;
};

/* ---- random -------------------------------------------------------- */

struct pki_rng *
pki_rng_new(void)
{
	struct pki_rng *r = calloc(1, sizeof *r);

	if (r == NULL || wc_InitRng(&r->rng) != 0) {
		pki_err("cannot initialise the random number generator");
		free(r);
		return NULL;
	}
	return r;
}

void
pki_rng_free(struct pki_rng *r)
{
	if (r == NULL)
		return;
	wc_FreeRng(&r->rng);
	explicit_bzero(r, sizeof *r);
	free(r);
}

/* ---- keys ---------------------------------------------------------- */

struct pki_key *
pki_key_generate(struct pki_rng *r, bool rsa)
{
	struct pki_key *k = calloc(1, sizeof *k);
	int ret;

	if (k == NULL) {
		pki_err("out of memory");
		return NULL;
	}
	k->rsa = rsa;
	if (rsa) {
		ret = wc_InitRsaKey(&k->u.rsa, NULL);
		if (ret == 0)
			ret = wc_MakeRsaKey(&k->u.rsa, RSA_BITS,
			    WC_RSA_EXPONENT, &r->rng);
	} else {
		ret = wc_ecc_init(&k->u.ec);
		if (ret == 0)
			ret = wc_ecc_make_key_ex(&r->rng, P256_BYTES,
			    &k->u.ec, ECC_SECP256R1);
	}
	if (ret != 0) {
		pki_err("cannot generate a%s key: %s", rsa ? "n RSA-2048" :
		    " P-256", wc_GetErrorString(ret));
		pki_key_free(k);
		return NULL;
	}
	return k;
}

void
pki_key_free(struct pki_key *k)
{
	if (k == NULL)
		return;
	if (k->rsa)
		wc_FreeRsaKey(&k->u.rsa);
	else
		wc_ecc_free(&k->u.ec);
	explicit_bzero(k, sizeof *k);
	free(k);
}

bool
pki_key_is_rsa(const struct pki_key *k)
{
	return k->rsa;
}

/* wolfCrypt's key-type constant and key pointer for the cert API. */
static int
key_type(const struct pki_key *k)
{
	return k->rsa ? RSA_TYPE : ECC_TYPE;
}

static void *
key_ptr(struct pki_key *k)
{
	return k->rsa ? (void *)&k->u.rsa : (void *)&k->u.ec;
}

int
pki_key_der(struct pki_key *k, struct pki_buf *der)
{
	unsigned char buf[KEY_DER_MAX];
	int n;

	n = k->rsa ? wc_RsaKeyToDer(&k->u.rsa, buf, sizeof buf) :
	    wc_EccKeyToDer(&k->u.ec, buf, sizeof buf);
	if (n <= 0) {
		pki_err("cannot encode the private key: %s",
		    wc_GetErrorString(n));
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	n = pki_buf_set(der, buf, (size_t)n);
	explicit_bzero(buf, sizeof buf);
	return n;
}

/* DER of the given PEM type into PEM text (appended). */
static int
der_to_pem(const unsigned char *der, size_t len, int type,
    struct pki_buf *pem)
{
	size_t cap = len * 2 + 128;
	unsigned char *buf = malloc(cap);
	int n;

	if (buf == NULL) {
		pki_err("out of memory");
		return -1;
	}
	n = wc_DerToPem(der, (word32)len, buf, (word32)cap, type);
	if (n <= 0) {
		pki_err("cannot encode PEM: %s", wc_GetErrorString(n));
		free(buf);
		return -1;
	}
	n = pki_buf_cat(pem, buf, (size_t)n);
	explicit_bzero(buf, cap);
	free(buf);
	return n;
}

int
pki_key_pem(struct pki_key *k, struct pki_buf *pem)
{
	struct pki_buf der = { 0 };
	int rc;

	pki_buf_free(pem);
	if (pki_key_der(k, &der) < 0)
		return -1;
	rc = der_to_pem(der.data, der.len, k->rsa ? PRIVATEKEY_TYPE :
	    ECC_PRIVATEKEY_TYPE, pem);
	pki_buf_free(&der);
	return rc;
}

int
pki_key_ec_scalar(struct pki_key *k, unsigned char out[32])
{
	word32 len = P256_BYTES;

	if (k->rsa || wc_ecc_export_private_only(&k->u.ec, out, &len) != 0 ||
	    len != P256_BYTES) {
		pki_err("cannot export the P-256 private key");
		return -1;
	}
	return 0;
}

/* Decode a private key DER (PKCS#1, SEC1, or either inside PKCS#8). */
static struct pki_key *
key_decode(const unsigned char *der, size_t len)
{
	struct pki_key *k = calloc(1, sizeof *k);

	if (k == NULL)
		return NULL;
	if (keys_decode(der, len, &k->rsa, &k->u.rsa, &k->u.ec) == 0)
		return k;
	explicit_bzero(k, sizeof *k);
	free(k);
	return NULL;
}

struct pki_key *
pki_key_load(const char *path)
{
	struct pki_buf pem = { 0 }, der = { 0 };
	struct pki_key *k = NULL;
	int n;

	if (pki_read_file(path, &pem) < 0)
		return NULL;
	if (pki_buf_set(&der, pem.data, pem.len) < 0)   /* DER <= PEM */
		goto out;
	n = wc_KeyPemToDer(pem.data, (int)pem.len, der.data, (int)der.len,
	    NULL);
	if (n <= 0) {
		pki_err("%s: not a PEM private key (%s)", path,
		    wc_GetErrorString(n));
		goto out;
	}
	if ((k = key_decode(der.data, (size_t)n)) == NULL)
		pki_err("%s: cannot decode the private key", path);
out:
	pki_buf_free(&pem);
	pki_buf_free(&der);
	return k;
}

/* True when key is the private half of the certificate's public key. */
static bool
key_matches_cert(struct pki_key *k, const struct pki_buf *cert)
{
	struct der_cert c;

	return der_parse_cert(cert->data, cert->len, &c) == 0 &&
	    keys_match_cert(k->rsa, &k->u.rsa, &k->u.ec, &c);
}

/* ---- certificates -------------------------------------------------- */

int
pki_cert_pem(const struct pki_buf *der, struct pki_buf *pem)
{
	return der_to_pem(der->data, der->len, CERT_TYPE, pem);
}

int
pki_cert_load_der(const char *path, struct pki_buf *der)
{
	struct pki_buf pem = { 0 };
	int n;

	if (pki_read_file(path, &pem) < 0)
		return -1;
	if (pki_buf_set(der, pem.data, pem.len) < 0) {
		pki_buf_free(&pem);
		return -1;
	}
	n = wc_CertPemToDer(pem.data, (int)pem.len, der->data,
	    (int)der->len, CERT_TYPE);
	pki_buf_free(&pem);
	if (n <= 0) {
		pki_err("%s: no PEM certificate in it", path);
		pki_buf_free(der);
		return -1;
	}
	der->len = (size_t)n;
	return 0;
}

int
pki_ca_load(const char *dir, bool rsa, struct pki_ca *ca)
{
	char *crt = pki_path(dir, rsa ? "ca-rsa.crt" : "ca-ec.crt");
	char *key = pki_path(dir, rsa ? "ca-rsa.key" : "ca-ec.key");
	int rc = -1;

	memset(ca, 0, sizeof *ca);
	if (!pki_exists(crt) && !pki_exists(key)) {
		pki_err("no CA in %s: run `tlsgw pki init --dir %s` first",
		    dir, dir);
		goto out;
	}
	if (pki_cert_load_der(crt, &ca->der) < 0 ||
	    (ca->key = pki_key_load(key)) == NULL)
		goto out;
	if (ca->key->rsa != rsa || !key_matches_cert(ca->key, &ca->der)) {
		pki_err("%s does not hold the key of %s", key, crt);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		pki_ca_free(ca);
	free(crt);
	free(key);
	return rc;
}

void
pki_ca_free(struct pki_ca *ca)
{
	pki_key_free(ca->key);
	pki_buf_free(&ca->der);
	ca->key = NULL;
}

void
pki_serial_hex(const unsigned char *s, size_t len, char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < len && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02X", s[i]);
}

int
pki_new_serial(struct pki_rng *r, const struct pki_index *ix,
    unsigned char serial[8])
{
	char hex[17];
	int tries;

	for (tries = 0; tries < 16; tries++) {
		if (wc_RNG_GenerateBlock(&r->rng, serial, 8) != 0)
			break;
		/* Positive, and exactly 8 bytes: no leading zero to drop. */
		serial[0] = (unsigned char)((serial[0] & 0x7F) | 0x40);
		pki_serial_hex(serial, 8, hex, sizeof hex);
		if (!pki_index_has_serial(ix, hex))
			return 0;
	}
	pki_err("cannot make a serial number");
	return -1;
}

/*
 * Validity from a day ago (devices whose clock lags a little) for `days`.
 * Given explicitly because wolfCrypt 5.5.4 writes GeneralizedTime for
 * any year, where RFC 5280 wants UTCTime up to 2049.
 */
static int
issue_dates(Cert *c, int days)
{
	struct pki_buf before = { 0 }, after = { 0 };
	time_t now = time(NULL);
	int rc = -1;

	if (der_put_time(&before, now - 86400) == 0 &&
	    der_put_time(&after, now + (time_t)days * 86400) == 0 &&
	    before.len <= sizeof c->beforeDate &&
	    after.len <= sizeof c->afterDate) {
		memcpy(c->beforeDate, before.data, before.len);
		c->beforeDateSz = (int)before.len;
		memcpy(c->afterDate, after.data, after.len);
		c->afterDateSz = (int)after.len;
		c->daysValid = days;
		rc = 0;
	}
	pki_buf_free(&before);
	pki_buf_free(&after);
	return rc;
}

/* Subject, issuer, key identifiers: everything but the extensions. */
static int
issue_names(Cert *c, const struct pki_profile *p, struct pki_key *key,
    const struct pki_ca *ca)
{
	int ret;

	if (strlen(p->cn) >= sizeof c->subject.commonName) {
		pki_err("'%s': longer than %zu characters", p->cn,
		    sizeof c->subject.commonName - 1);
		return -1;
	}
	strcpy(c->subject.commonName, p->cn);
	c->subject.commonNameEnc = CTC_UTF8;
	if (p->is_ca) {
		strcpy(c->subject.org, "tlsgw");
		c->subject.orgEnc = CTC_UTF8;
	}
	ret = wc_SetSubjectKeyIdFromPublicKey_ex(c, key_type(key),
	    key_ptr(key));
	if (ret == 0 && ca != NULL) {
		c->selfSigned = 0;
		ret = wc_SetIssuerBuffer(c, ca->der.data, (int)ca->der.len);
		if (ret == 0)
			ret = wc_SetAuthKeyIdFromCert(c, ca->der.data,
			    (int)ca->der.len);
	}
	if (ret != 0) {
		pki_err("cannot set the names of '%s': %s", p->cn,
		    wc_GetErrorString(ret));
		return -1;
	}
	return 0;
}

/* basicConstraints, key usage, EKU, SAN. */
static int
issue_extensions(Cert *c, const struct pki_profile *p)
{
	int ret;

	c->isCA = p->is_ca ? 1 : 0;
	c->basicConstSet = 1;           /* also write CA:FALSE in leaves */
	ret = wc_SetKeyUsage(c, p->key_usage);
	if (ret == 0 && p->ext_key_usage != NULL)
		ret = wc_SetExtKeyUsage(c, p->ext_key_usage);
	if (ret != 0) {
		pki_err("cannot set the key usage of '%s': %s", p->cn,
		    wc_GetErrorString(ret));
		return -1;
	}
	if (p->san != NULL) {
		if (p->san->len > sizeof c->altNames) {
			pki_err("too many names for one certificate");
			return -1;
		}
		memcpy(c->altNames, p->san->data, p->san->len);
		c->altNamesSz = (int)p->san->len;
	}
	return 0;
}

int
pki_issue(const struct pki_profile *p, struct pki_key *key,
    const struct pki_ca *ca, struct pki_rng *r, struct pki_buf *der)
{
	struct pki_key *signer = ca != NULL ? ca->key : key;
	size_t cap = CERT_DER_MAX + (p->san != NULL ? p->san->len : 0);
	unsigned char *buf = malloc(cap);
	Cert *c = calloc(1, sizeof *c);         /* about 20 KB: not on stack */
	int ret = -1, n;

	if (buf == NULL || c == NULL || wc_InitCert(c) != 0) {
		pki_err("out of memory");
		goto out;
	}
	if (issue_dates(c, p->days) < 0)
		goto out;
	c->sigType = signer->rsa ? CTC_SHA256wRSA : CTC_SHA256wECDSA;
	memcpy(c->serial, p->serial, sizeof p->serial);
	c->serialSz = (int)sizeof p->serial;
	if (issue_names(c, p, key, ca) < 0 || issue_extensions(c, p) < 0)
		goto out;
	n = wc_MakeCert_ex(c, buf, (word32)cap, key_type(key), key_ptr(key),
	    &r->rng);
	if (n > 0)
		n = wc_SignCert_ex(c->bodySz, c->sigType, buf, (word32)cap,
		    key_type(signer), key_ptr(signer), &r->rng);
	if (n <= 0) {
		pki_err("cannot make the certificate for '%s': %s", p->cn,
		    wc_GetErrorString(n));
		goto out;
	}
	ret = pki_buf_set(der, buf, (size_t)n);
out:
	free(buf);
	free(c);
	return ret;
}

/* ---- CRL ----------------------------------------------------------- */

/* The CA that signs certificates of kind k: the RSA CA the gateway's
 * certificates, the ECDSA CA the devices'. */
static bool
issued_by(enum pki_kind k, bool rsa_ca)
{
	switch (k) {
	case PKI_CA_RSA:
	case PKI_SERVER_RSA:
	case PKI_SERVER_EC:
		return rsa_ca;
	default:
		return !rsa_ca;
	}
}

/* Hex serial from the index to INTEGER content bytes. */
static int
serial_bytes(const char *hex, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex), i, o = 0;
	unsigned v;

	if (n == 0 || n % 2 != 0 || n / 2 + 1 > cap)
		return -1;
	for (i = 0; i < n; i += 2) {
		if (sscanf(hex + i, "%2x", &v) != 1)
			return -1;
		if (o == 0 && (v & 0x80))
			out[o++] = 0;           /* keep it positive */
		out[o++] = (unsigned char)v;
	}
	*len = o;
	return 0;
}

/* revokedCertificates: SEQUENCE OF { serial, revocationDate }. */
static int
crl_revoked(const struct pki_index *ix, bool rsa_ca, struct pki_buf *out)
{
	unsigned char sn[32];
	struct pki_buf one = { 0 };
	size_t i, snlen;
	int rc = 0;

	for (i = 0; i < ix->n && rc == 0; i++) {
		const struct pki_entry *e = &ix->e[i];

		if (!e->revoked || !issued_by(e->kind, rsa_ca))
			continue;
		if (serial_bytes(e->serial, sn, sizeof sn, &snlen) < 0) {
			pki_err("index: bad serial %s", e->serial);
			rc = -1;
			break;
		}
		pki_buf_free(&one);
		rc = der_put(&one, 0x02, sn, snlen);
		if (rc == 0)
			rc = der_put_time(&one, e->revoked_at);
		if (rc == 0)
			rc = der_wrap(&one, 0x30);
		if (rc == 0)
			rc = pki_buf_cat(out, one.data, one.len);
	}
	pki_buf_free(&one);
	if (rc == 0 && out->len > 0)
		rc = der_wrap(out, 0x30);
	return rc;
}

/* crlExtensions [0] { crlNumber }: the time, always increasing. */
static int
crl_extensions(time_t now, struct pki_buf *out)
{
	struct pki_buf ext = { 0 }, v = { 0 };
	int rc;

	rc = der_put_uint(&v, (uint64_t)now);
	if (rc == 0)
		rc = der_put(&ext, 0x06, oid_crl_number,
		    sizeof oid_crl_number);
	if (rc == 0)
		rc = der_put(&ext, 0x04, v.data, v.len);
	if (rc == 0)
		rc = der_wrap(&ext, 0x30);      /* Extension */
	if (rc == 0)
		rc = der_wrap(&ext, 0x30);      /* Extensions */
	if (rc == 0)
		rc = der_wrap(&ext, 0xA0);      /* [0] EXPLICIT */
	if (rc == 0)
		rc = pki_buf_cat(out, ext.data, ext.len);
	pki_buf_free(&ext);
	pki_buf_free(&v);
	return rc;
}

/* TBSCertList (RFC 5280 5.1), version 2. */
static int
crl_tbs(const struct pki_ca *ca, const struct pki_index *ix, time_t now,
    struct pki_buf *tbs)
{
	static const unsigned char v2 = 1;
	struct pki_buf revoked = { 0 };
	struct der_cert c;
	int rc;

	if (der_parse_cert(ca->der.data, ca->der.len, &c) < 0) {
		pki_err("cannot parse the CA certificate");
		return -1;
	}
	/* The CA's own signature AlgorithmIdentifier: same key, same
	 * algorithm, byte for byte what wc_SignCert_ex writes outside. */
	rc = der_put(tbs, 0x02, &v2, 1);
	if (rc == 0)
		rc = pki_buf_cat(tbs, c.sigalg.raw, c.sigalg.rawlen);
	if (rc == 0)
		rc = pki_buf_cat(tbs, c.subject.raw, c.subject.rawlen);
	if (rc == 0)
		rc = der_put_time(tbs, now);
	if (rc == 0)
		rc = der_put_time(tbs, now + (time_t)PKI_CRL_DAYS * 86400);
	if (rc == 0)
		rc = crl_revoked(ix, ca->key->rsa, &revoked);
	if (rc == 0 && revoked.len > 0)
		rc = pki_buf_cat(tbs, revoked.data, revoked.len);
	if (rc == 0)
		rc = crl_extensions(now, tbs);
	if (rc == 0)
		rc = der_wrap(tbs, 0x30);
	pki_buf_free(&revoked);
	return rc;
}

int
pki_crl_make(const struct pki_ca *ca, const struct pki_index *ix,
    struct pki_rng *r, struct pki_buf *pem)
{
	struct pki_buf tbs = { 0 }, crl = { 0 };
	int n, rc = -1;

	pki_buf_free(pem);
	if (crl_tbs(ca, ix, time(NULL), &tbs) < 0)
		goto out;
	/* Room for the algorithm and signature wc_SignCert_ex appends. */
	if (pki_buf_set(&crl, tbs.data, tbs.len) < 0 ||
	    pki_buf_cat(&crl, NULL, 1024) < 0)
		goto out;
	n = wc_SignCert_ex((int)tbs.len, ca->key->rsa ? CTC_SHA256wRSA :
	    CTC_SHA256wECDSA, crl.data, (word32)crl.len, key_type(ca->key),
	    key_ptr(ca->key), &r->rng);
	if (n <= 0) {
		pki_err("cannot sign the CRL: %s", wc_GetErrorString(n));
		goto out;
	}
	rc = der_to_pem(crl.data, (size_t)n, CRL_TYPE, pem);
out:
	pki_buf_free(&tbs);
	pki_buf_free(&crl);
	return rc;
}

/* ---- hashes and encodings ------------------------------------------ */

int
pki_sha1(const void *data, size_t len, unsigned char out[20])
{
	if (wc_ShaHash(data, (word32)len, out) != 0) {
		pki_err("SHA-1 failed");
		return -1;
	}
	return 0;
}

int
pki_base64(const void *data, size_t len, struct pki_buf *out)
{
	word32 cap = (word32)((len + 2) / 3 * 4 + 1);
	unsigned char *buf = malloc(cap);
	int rc;

	if (buf == NULL) {
		pki_err("out of memory");
		return -1;
	}
	if (Base64_Encode_NoNl(data, (word32)len, buf, &cap) != 0) {
		pki_err("base64 encoding failed");
		free(buf);
		return -1;
	}
	rc = pki_buf_set(out, buf, cap);
	explicit_bzero(buf, cap);
	free(buf);
	return rc;
}

#endif /* PKI_SUPPORTED */
