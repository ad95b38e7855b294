/*
 * identity.c: the device's certificate names against the policy.
 *
 * The leaf certificate is copied from wolfSSL's verify callback, which
 * it calls for a certificate that verified too (WOLFSSL_ALWAYS_VERIFY_CB,
 * in Debian's build and ours), and read with der.c: no peer-certificate
 * object has to live in every TLS session for this.  A wolfSSL without
 * that callback but with KEEP_PEER_CERT hands the certificate over after
 * the handshake instead.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "der.h"
#include "identity.h"
#include "log.h"

/* Longest CN or DNS name compared (RFC 5280 allows 64 for a CN; DNS
 * names are at most 253). */
#define IDENTITY_NAME_MAX 256

/* True when name is on the policy's allow list (case-insensitive, as
 * DNS names compare). */
static bool
identity_allowed(const struct device_conf *dc, const char *name)
{
	size_t i;

	for (i = 0; i < dc->nallow; i++)
		if (strcasecmp(dc->allow[i], name) == 0)
			return true;
	return false;
}

/* Keep a copy of the device's leaf certificate. */
static void
identity_keep(struct conn *c, const unsigned char *der, size_t len)
{
	if (c->peer_der != NULL || len == 0)
		return;
	c->peer_der = malloc(len);
	if (c->peer_der == NULL)
		return;
	memcpy(c->peer_der, der, len);
	c->peer_der_len = len;
}

#ifdef WOLFSSL_ALWAYS_VERIFY_CB
/* For every certificate wolfSSL checked, good or not: the first of the
 * chain the device sent is its own. */
static int
identity_verify_cb(int ok, WOLFSSL_X509_STORE_CTX *store)
{
	struct conn *c = store->userCtx;

	if (ok && c != NULL && store->certs != NULL && store->totalCerts > 0)
		identity_keep(c, store->certs[0].buffer,
		    store->certs[0].length);
	return ok;
}
#endif

void
identity_attach(struct conn *c)
{
#ifdef WOLFSSL_ALWAYS_VERIFY_CB
	if (c->policy->device.client_ca == NULL)
		return;
	wolfSSL_set_verify(c->device.ssl, WOLFSSL_VERIFY_PEER |
	    WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, identity_verify_cb);
	wolfSSL_SetCertCbCtx(c->device.ssl, c);
#else
	(void)c;
#endif
}

#if !defined(WOLFSSL_ALWAYS_VERIFY_CB) && defined(KEEP_PEER_CERT)
/* The certificate wolfSSL kept, as DER. */
static void
identity_fetch(struct conn *c)
{
	WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(c->device.ssl);
	const unsigned char *der;
	int len = 0;

	if (x == NULL)
		return;
	der = wolfSSL_X509_get_der(x, &len);
	if (der != NULL && len > 0)
		identity_keep(c, der, (size_t)len);
	wolfSSL_X509_free(x);
}
#else
static void
identity_fetch(struct conn *c)
{
	(void)c;
}
#endif

/* The CN, then every SAN DNS name; true when one of them is allowed. */
static bool
identity_match(const struct device_conf *dc, const struct der_cert *cert,
    const char *cn)
{
	char alt[IDENTITY_NAME_MAX];
	size_t pos = 0;

	if (cn[0] != '\0' && identity_allowed(dc, cn))
		return true;
	while (der_cert_next_dns(cert, &pos, alt, sizeof alt))
		if (identity_allowed(dc, alt))
			return true;
	return false;
}

int
identity_check(struct conn *c)
{
	const struct device_conf *dc = &c->policy->device;
	char cn[IDENTITY_NAME_MAX] = "";
	struct der_cert cert;
	bool ok;

	if (dc->client_ca == NULL)
		return 0;
	identity_fetch(c);
	if (c->peer_der == NULL ||
	    der_parse_cert(c->peer_der, c->peer_der_len, &cert) < 0) {
		conn_log(c, LOG_LEVEL_WARN, "device refused: no readable "
		    "certificate after the handshake (policy '%s' has "
		    "client_ca)", c->policy->name);
		return -1;
	}
	if (der_cert_cn(&cert, cn, sizeof cn) && cn[0] != '\0')
		c->identity = strdup(cn);
	ok = dc->nallow == 0 || identity_match(dc, &cert, cn);
	free(c->peer_der);
	c->peer_der = NULL;
	if (!ok) {
		conn_log(c, LOG_LEVEL_WARN, "device refused: identity '%s' is not "
		    "in the allow list of policy '%s' (%s)",
		    c->identity ? c->identity : "(no CN)", c->policy->name,
		    c->policy->file);
		return -1;
	}
	return 0;
}
