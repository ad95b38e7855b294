/*
 * tlsctx.h: building the wolfSSL contexts a policy needs, and checking
 * that wolfSSL really does what we asked.  Debian's wolfSSL offers RC4,
 * 3DES and NULL suites by default, drops misspelled suite names
 * silently and keeps its defaults when a list matches nothing: every
 * cipher list we set is read back and compared, suite by suite.
 *
 * Everything here runs at load time, in the thread that loads the
 * configuration; nothing runs per connection except
 * tlsctx_upstream_prepare().
 */
#ifndef TLSGW_TLSCTX_H
#define TLSGW_TLSCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "policy.h"

/* Where the settings behind one context were written, so that a problem
 * found while loading a file is reported as "file:line: message".  A
 * line of 0 means "not written, a default". */
struct tlsctx_where {
	const char *file;          /* the policy file */
	const char *cert_opt;      /* "cert" or "cert_ecdsa" */
	const char *key_opt;       /* "key" or "key_ecdsa" */
	int cert_line, key_line;
	int suites_line;
	int version_line;
	int ca_line;               /* ca (upstream) or client_ca (device) */
	int crl_line;              /* client_crl (device) */
};

/*
 * A device-leg server context for one of the policy's certificates:
 * TLS 1.2+ server method capped below by dev->min_version, the chain and
 * key (checked: they match, the certificate is RSA for ecdsa=false and
 * ECDSA for ecdsa=true, and is valid now), the policy's suites that can
 * use that certificate (read back and verified), groups X25519, P-256,
 * P-384, and client certificate verification when dev->client_ca is set.
 * NULL after reporting to d.
 */
WOLFSSL_CTX *tlsctx_device_new(const struct device_conf *dev, bool ecdsa,
    const struct tlsctx_where *w, struct diag *d);

/*
 * The upstream-leg client context: TLS 1.3 only, or TLS 1.2+ when
 * up->min_version is TLSV_TLS12; TLS 1.3 suites (plus ECDHE AEAD for
 * 1.2), verified; the CA store ("system" or a PEM file) loaded once
 * here; peer verification on; the client certificate when set.  NULL
 * after reporting to d.
 */
WOLFSSL_CTX *tlsctx_upstream_new(const struct upstream_conf *up,
    const struct tlsctx_where *w, struct diag *d);

/* The suites an upstream context offers for a minimum version. */
size_t tlsctx_upstream_suites(uint16_t min_version, const uint16_t **codes);

/* Per upstream connection: SNI (unless the name is an IP literal), host
 * name verification against up->sni, ALPN from up->alpn.  0, or -1 with
 * a reason in err. */
int tlsctx_upstream_prepare(WOLFSSL *ssl, const struct upstream_conf *up,
    char *err, size_t errlen);

/* True when this build of wolfSSL knows the suite by its wolfSSL name
 * (Debian's 5.5.4 has no static-RSA suites, for example). */
bool tlsctx_suite_supported(uint16_t code);

/*
 * Set exactly these suites (in this order) on ctx and verify with
 * tlsctx_check_ciphers.  Refuses an empty list (wolfSSL would keep its
 * unsafe defaults) and any suite that is not suite_is_allowable().
 * 0, or -1 with a reason in err.
 */
int tlsctx_set_ciphers(WOLFSSL_CTX *ctx, const uint16_t *codes, size_t n,
    char *err, size_t errlen);

/*
 * Read ctx's cipher list back from wolfSSL and compare it with codes:
 * same suites, same order, none with a weakness.  0, or -1 with the
 * first difference in err ("wolfSSL would also offer
 * TLS_ECDHE_RSA_WITH_RC4_128_SHA (RC4)", ...).  Where this wolfSSL cannot
 * list a context's suites (no compatibility layer), every name is
 * checked against wolfSSL's own name table instead.
 */
int tlsctx_check_ciphers(WOLFSSL_CTX *ctx, const uint16_t *codes, size_t n,
    char *err, size_t errlen);

/* The suite codes ctx would offer, in order, into codes[0..max).  The
 * number of suites (may exceed max), or -1 when this wolfSSL cannot list
 * them.  Names wolfSSL reports that we cannot map become 0x0000. */
int tlsctx_read_ciphers(WOLFSSL_CTX *ctx, uint16_t *codes, size_t max);

/* Room for any name tlsctx_sigalg_der() writes. */
#define TLSCTX_SIGALG_MAX 96

/* Largest chain file tlsctx_chain_sigalgs() reads, in bytes. */
#define TLSCTX_CHAIN_MAX_FILE (1024 * 1024)

/*
 * The signature algorithm of the DER certificate der[0..len), named as
 * OpenSSL names it ("sha256WithRSAEncryption", "ecdsa-with-SHA256",
 * "ED25519"), or as "OID 1.2.3" when unknown, into name.  False when der
 * does not start with a certificate.
 */
bool tlsctx_sigalg_der(const uint8_t *der, size_t len, char *name,
    size_t namelen);

/*
 * The signature algorithm of each certificate of the PEM file path, in
 * file order, into names[0..max) (a block that is not a certificate
 * gets "").  Returns the number of CERTIFICATE blocks (may exceed max),
 * or -1 when the file cannot be read or is larger than
 * TLSCTX_CHAIN_MAX_FILE.  tlsctx_device_new() warns about every
 * signature but sha256WithRSAEncryption in an RSA chain (cert=).
 */
int tlsctx_chain_sigalgs(const char *path, char (*names)[TLSCTX_SIGALG_MAX],
    int max);

#endif
