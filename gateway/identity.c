/*
 * identity.c: the device's certificate names against the policy.
 * wolfSSL_get_peer_certificate returns a copy (5.5.4 and later): freed
 * here, in the one function that asked for it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "identity.h"
#include "log.h"

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

/* Walk CN and every SAN name; true when one of them is allowed. */
static bool
identity_match(const struct device_conf *dc, WOLFSSL_X509 *x,
    const char *cn)
{
	char *alt;

	if (cn != NULL && identity_allowed(dc, cn))
		return true;
	while ((alt = wolfSSL_X509_get_next_altname(x)) != NULL)
		if (identity_allowed(dc, alt))
			return true;
	return false;
}

int
identity_check(struct conn *c)
{
	const struct device_conf *dc = &c->policy->device;
	WOLFSSL_X509 *x;
	const char *cn;
	bool ok;

	if (dc->client_ca == NULL)
		return 0;
	x = wolfSSL_get_peer_certificate(c->device.ssl);
	if (x == NULL) {
		conn_log(c, LOG_LEVEL_WARN, "device refused: no certificate "
		    "after the handshake (policy '%s' has client_ca)",
		    c->policy->name);
		return -1;
	}
	cn = wolfSSL_X509_get_subjectCN(x);
	if (cn != NULL && cn[0] != '\0')
		c->identity = strdup(cn);
	ok = dc->nallow == 0 || identity_match(dc, x, cn);
	wolfSSL_X509_free(x);
	if (!ok) {
		conn_log(c, LOG_LEVEL_WARN, "device refused: identity '%s' is not "
		    "in the allow list of policy '%s' (%s)",
		    c->identity ? c->identity : "(no CN)", c->policy->name,
		    c->policy->file);
		return -1;
	}
	return 0;
}
