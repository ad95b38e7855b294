/*
 * device.c: the device leg up to its finished handshake.  The
 * ClientHello is parsed by our own parser while it still sits in the
 * input buffer; that one parse picks the policy (listener + SNI) and the
 * certificate (RSA or ECDSA), starts the upstream leg in parallel, and
 * explains a failed handshake in plain words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "conn.h"
#include "explain.h"
#include "identity.h"
#include "legio.h"
#include "listener.h"
#include "log.h"
#include "tlsio.h"


static void device_handshake(struct conn *c);

/* Plain words for a first flight that is not a usable ClientHello. */
static const char *
device_hello_error(int res)
{
	switch (res) {
	case CH_HTTP:
		return "HTTP request (this port speaks MQTT over TLS)";
	case CH_SSLV2:
		return "SSLv2-format hello (obsolete; the device needs TLS 1.2 "
		    "or 1.3)";
	case CH_NOT_HELLO:
		return "TLS record that is not a ClientHello";
	case CH_MALFORMED:
		return "malformed ClientHello";
	case CH_TOO_BIG:
		return "ClientHello too large";
	case CH_NOT_TLS:
	default:
		return "garbage (not a TLS record)";
	}
}

/* Log and close a connection whose first bytes are unusable. */
static void
device_refuse_hello(struct conn *c, int res, const unsigned char *p,
    size_t n)
{
	char hex[3 * 8 + 1] = "";
	size_t i;

	for (i = 0; i < n && i < 8; i++)
		snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", p[i]);
	if (i > 0)
		hex[3 * i - 1] = '\0';
	conn_log(c, LOG_LEVEL_WARN, "not a TLS ClientHello: %s [first bytes: %s]",
	    device_hello_error(res), hex);
	conn_close(c, "not a TLS ClientHello");
}

/* Keep what the summary line needs from the hello. */
static int
device_note_hello(struct conn *c)
{
	struct client_hello *ch = c->hello;

	c->mfl = ch->mfl;
	if (ch->has_sni && ch->sni[0] != '\0') {
		c->sni = strdup(ch->sni);
		if (c->sni == NULL)
			return -1;
	}
	return 0;
}

/* Create the device's TLS session on the context of the chosen cert. */
static int
device_create_tls(struct conn *c)
{
	const struct device_conf *dc = &c->policy->device;
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;

	c->cert = certsel_choose(c->hello, dc->suites, dc->nsuites,
	    dc->min_version, dc->ctx_rsa != NULL, dc->ctx_ecdsa != NULL);
	ctx = c->cert == CERT_ECDSA ? dc->ctx_ecdsa : dc->ctx_rsa;
	if (ctx == NULL)
		return -1;
	ssl = wolfSSL_new(ctx);
	if (ssl == NULL)
		return -1;
	tlsio_attach(ssl, &c->device);
	leg_set_tls(&c->device, ssl);
	identity_attach(c);
	return 0;
}

/* The policy's max_connections is reached: refuse, logging at most one
 * line a second. */
static void
device_refuse_full(struct conn *c)
{
	struct timeval now;
	unsigned more = 0;

	event_base_gettimeofday_cached(c->gw->base, &now);
	listener_note_refusal(c->gw);
	if (limits_should_log(&c->gw->limits, LIMIT_POLICY, &now, &more))
		conn_log(c, LOG_LEVEL_WARN, "refused: policy '%s' serves "
		    "max_connections = %u devices already (%u more refused "
		    "since the last line)", c->policy->name,
		    c->policy->max_connections, more);
	conn_close(c, "policy max_connections");
}

/* Choose the policy for a parsed hello and start both legs. */
static void
device_route(struct conn *c)
{
	struct listener *l = c->listener;
	const char *sni = c->hello->has_sni ? c->hello->sni : NULL;

	c->policy = policy_route(conn_conf(c), (struct sockaddr *)&l->addr,
	    l->addrlen, sni);
	if (c->policy == NULL) {
		conn_log(c, LOG_LEVEL_WARN, "no policy on %s for SNI '%s': "
		    "add a policy with [listen] sni = %s, or one without sni "
		    "as the default", l->address, sni ? sni : "(none)",
		    sni ? sni : "(name)");
		conn_close(c, "no policy for SNI");
		return;
	}
	if (!config_take_slot(c->cfg, c)) {
		device_refuse_full(c);
		return;
	}
	if (device_note_hello(c) < 0 || device_create_tls(c) < 0) {
		conn_log(c, LOG_LEVEL_WARN, "cannot create the device TLS session");
		conn_close(c, "out of memory");
		return;
	}
	c->inspecting = c->policy->mqtt.inspect;
	conn_set_state(c, CONN_HANDSHAKE);
	upstream_start(c);
	if (c->state == CONN_HANDSHAKE)
		device_handshake(c);
}

/* Parse the ClientHello in place; wait for more bytes if it is partial. */
static void
device_peek_hello(struct conn *c)
{
	const unsigned char *p;
	size_t n;
	int res;

	p = legio_input(&c->device, &n);
	if (n == 0)
		return;
	if (c->hello == NULL)
		c->hello = malloc(sizeof *c->hello);
	if (p == NULL || c->hello == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	res = clienthello_parse(p, n, c->hello);
	if (res == CH_NEED_MORE && n >= CH_MAX_PEEK)
		res = CH_TOO_BIG;
	if (res == CH_NEED_MORE)
		return;
	if (res != CH_OK) {
		device_refuse_hello(c, res, p, n);
		return;
	}
	device_route(c);
}

/* Why the device's handshake failed, in one line, with the fix. */
static void
device_explain_failure(struct conn *c, int err)
{
	char why[700], offer[800], errtext[96];
	WOLFSSL_ALERT_HISTORY h;

	if (c->hello != NULL && explain_refusal(c->hello, c->policy, why,
	    sizeof why)) {
		conn_log(c, LOG_LEVEL_WARN, "device handshake failed: %s", why);
		return;
	}
	if (c->hello != NULL)
		explain_offer(c->hello, offer, sizeof offer);
	else
		snprintf(offer, sizeof offer, "unknown");
	memset(&h, 0, sizeof h);
	wolfSSL_get_alert_history(c->device.ssl, &h);
	if (err == FATAL_ERROR && h.last_rx.code >= 0) {
		conn_log(c, LOG_LEVEL_WARN, "device handshake failed: the device "
		    "sent alert %d (%s) and gave up: it did not accept our %s "
		    "certificate or parameters; check the CA, fingerprint "
		    "and clock on the device (offered: %s)", h.last_rx.code,
		    tlsio_alert_name(h.last_rx.code),
		    cert_kind_name(c->cert), offer);
		return;
	}
	if (c->device.tcp_eof) {
		conn_log(c, LOG_LEVEL_WARN, "device handshake failed: the device "
		    "closed the connection during the handshake (it may not "
		    "trust our %s certificate: check its CA or fingerprint); "
		    "offered: %s", cert_kind_name(c->cert), offer);
		return;
	}
	conn_log(c, LOG_LEVEL_WARN, "device handshake failed: %s (offered: %s)",
	    tlsio_error_text(err, errtext, sizeof errtext), offer);
}

/* The device uses static RSA: allowed only by suites=legacy; say so. */
static void
device_warn_legacy(struct conn *c)
{
	const struct suite_info *s = suite_find(leg_suite_code(&c->device));

	if (s != NULL && s->kx == KX_RSA)
		conn_log(c, LOG_LEVEL_WARN, "LEGACY: static-RSA key exchange "
		    "(%s) under policy '%s': no forward secrecy on the LAN leg",
		    s->iana, c->policy->name);
}

/* Advance the device's handshake as far as the buffered bytes allow. */
static void
device_handshake(struct conn *c)
{
	int ret, err;

	ret = wolfSSL_accept(c->device.ssl);
	if (ret == WOLFSSL_SUCCESS) {
		c->device.open = true;
		device_warn_legacy(c);
		if (identity_check(c) < 0) {
			conn_close(c, "device identity refused");
			return;
		}
		free(c->hello);
		c->hello = NULL;
		conn_log(c, LOG_LEVEL_DEBUG, "device handshake done");
		if (c->upstream.open)
			conn_both_open(c);
		return;
	}
	err = wolfSSL_get_error(c->device.ssl, ret);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return;
	device_explain_failure(c, err);
	conn_close(c, "device handshake failed");
}

void
device_on_read(struct conn *c)
{
	switch (c->state) {
	case CONN_HELLO:
		/* The hello is kept until wolfSSL exists to take it. */
		legio_fill(&c->device, CH_MAX_PEEK);
		device_peek_hello(c);
		break;
	case CONN_HANDSHAKE:
		/* Once open, application data waits until upstream is. */
		if (!c->device.open)
			device_handshake(c);
		break;
	case CONN_RELAY:
		relay_pump(&c->device);
		break;
	default:
		break;
	}
}

void
device_on_eof(struct conn *c)
{
	switch (c->state) {
	case CONN_HELLO:
		device_peek_hello(c);
		if (c->state == CONN_HELLO) {
			conn_log(c, LOG_LEVEL_INFO, "device closed before sending "
			    "a complete ClientHello");
			conn_close(c, "device closed before hello");
		}
		break;
	case CONN_HANDSHAKE:
		if (!c->device.open)
			device_handshake(c);
		/* Open but upstream pending: relay sees the EOF later. */
		break;
	case CONN_RELAY:
		relay_on_eof(&c->device);
		break;
	default:
		break;
	}
}
