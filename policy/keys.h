/*
 * keys.h: a private key against a certificate, with wolfCrypt alone:
 * the configuration loader proves each key belongs to its certificate
 * (wolfSSL 5.5.4's own check misses a wrong ECDSA key), and `tlsgw pki`
 * checks its CA key the same way.
 */
#ifndef TLSGW_KEYS_H
#define TLSGW_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "der.h"

/* Decode a private key DER (PKCS#1 RSA, SEC1 EC, or either inside
 * PKCS#8) into *r (then *rsa is true) or *e; r and e may share memory:
 * only the one decoded is initialised.  -1 when it is neither. */
int keys_decode(const unsigned char *der, size_t len, bool *rsa, RsaKey *r,
    ecc_key *e);

/* True when the decoded key is the private half of c's public key. */
bool keys_match_cert(bool rsa, RsaKey *r, ecc_key *e,
    const struct der_cert *c);

/* Read a PEM private key file and compare it with c: 1 it matches, 0 it
 * does not, -1 the file holds no key we can decode. */
int keys_file_matches_cert(const char *path, const struct der_cert *c);

#endif
