/*
 * keys.c: private keys decoded and compared with wolfCrypt (keys.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "keys.h"

/* Largest key file read (a 4096-bit RSA key in PEM is ~3.3 KB). */
#define KEYS_MAX_FILE 65536

int
keys_decode(const unsigned char *der, size_t len, bool *rsa, RsaKey *r,
    ecc_key *e)
{
	word32 idx = 0, start = 0;

	/* PKCS#8: returns the inner key's length and moves idx to it. */
	if (wc_GetPkcs8TraditionalOffset((byte *)der, &idx, (word32)len) >= 0)
		start = idx;
	idx = start;
	if (wc_InitRsaKey(r, NULL) == 0) {
		if (wc_RsaPrivateKeyDecode(der, &idx, r, (word32)len) == 0) {
			*rsa = true;
			return 0;
		}
		wc_FreeRsaKey(r);
	}
	idx = start;
	if (wc_ecc_init(e) == 0) {
		if (wc_EccPrivateKeyDecode(der, &idx, e, (word32)len) == 0) {
			*rsa = false;
			return 0;
		}
		wc_ecc_free(e);
	}
	return -1;
}

bool
keys_match_cert(bool rsa, RsaKey *r, ecc_key *e, const struct der_cert *c)
{
	unsigned char n[RSA_MAX_SIZE / 8], ex[8], q[2 * 66 + 1];
	word32 nlen = sizeof n, elen = sizeof ex, qlen = sizeof q;
	const unsigned char *cn;
	size_t cnlen;

	if (c->rsa != rsa)
		return false;
	if (!rsa)
		return wc_ecc_export_x963(e, q, &qlen) == 0 &&
		    qlen == c->ec_point.len &&
		    memcmp(q, c->ec_point.val, qlen) == 0;
	if (wc_RsaFlattenPublicKey(r, ex, &elen, n, &nlen) != 0)
		return false;
	cn = c->rsa_n.val;
	cnlen = c->rsa_n.len;
	der_unsigned(&cn, &cnlen);
	return cnlen == nlen && memcmp(cn, n, nlen) == 0;
}

/* The whole file into a new buffer; NULL when unreadable or too big. */
static unsigned char *
keys_slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf = malloc(KEYS_MAX_FILE);
	if (buf != NULL) {
		*len = fread(buf, 1, KEYS_MAX_FILE, f);
		if (*len == 0 || *len == KEYS_MAX_FILE) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int
keys_file_matches_cert(const char *path, const struct der_cert *c)
{
	union {
		RsaKey rsa;
		ecc_key ec;
	} u;
	unsigned char *pem, *der = NULL;
	size_t len = 0;
	int n, rc = -1;
	bool rsa;

	if ((pem = keys_slurp(path, &len)) == NULL)
		return -1;
	if ((der = malloc(len)) == NULL)        /* DER <= PEM */
		goto out;
	n = wc_KeyPemToDer(pem, (int)len, der, (int)len, NULL);
	if (n <= 0 || keys_decode(der, (size_t)n, &rsa, &u.rsa, &u.ec) < 0)
		goto out;
	rc = keys_match_cert(rsa, &u.rsa, &u.ec, c) ? 1 : 0;
	if (rsa)
		wc_FreeRsaKey(&u.rsa);
	else
		wc_ecc_free(&u.ec);
out:
	if (der != NULL) {
		explicit_bzero(der, len);
		free(der);
	}
	explicit_bzero(pem, len);
	free(pem);
	return rc;
}
