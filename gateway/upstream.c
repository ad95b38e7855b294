/*
 * upstream.c: the leg to the broker.  It starts as soon as the policy is
 * known, in parallel with the device handshake, and is always TLS with
 * the broker's certificate verified against the configured name (sent
 * as SNI too).  Any failure closes the device's connection: there is no
 * fallback to an unverified or older connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "conn.h"
#include "legio.h"
#include "log.h"
#include "resolve.h"
#include "tlsctx.h"
#include "tlsio.h"

static void upstream_handshake(struct conn *c);

static const char *
upstream_name(const struct conn *c)
{
	const struct upstream_conf *u = &c->policy->upstream;

	return u->sni != NULL ? u->sni : u->host;
}

/* Log an upstream failure with host and port, then close the device. */
static void
upstream_fail(struct conn *c, const char *what, const char *why)
{
	const struct upstream_conf *u = &c->policy->upstream;

	conn_log(c, LOG_LEVEL_WARN, "upstream %s:%u %s: %s (policy '%s')",
	    u->host, u->port, what, why, c->policy->name);
	conn_close(c, "upstream failed");
}

void
upstream_start(struct conn *c)
{
	const struct upstream_conf *u = &c->policy->upstream;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[256];

	if (resolve_host(u->host, u->port, &ss, &sslen, err, sizeof err) < 0) {
		upstream_fail(c, "connect failed", err);
		return;
	}
	if (legio_connect(&c->upstream, c->gw->base, (struct sockaddr *)&ss,
	    sslen) < 0)
		upstream_on_connect_error(c, errno);
}

void
upstream_on_connect_error(struct conn *c, int err)
{
	upstream_fail(c, "connect failed",
	    evutil_socket_error_to_string(err));
}

/* wolfSSL calls this in the middle of taking a new ticket: only note it
 * here, upstream_keep_ticket takes the session once the read is over. */
static int
upstream_ticket_cb(WOLFSSL *ssl, const unsigned char *ticket, int len,
    void *arg)
{
	struct conn *c = arg;

	(void)ssl;
	(void)ticket;
	(void)len;
	c->ticket_arrived = true;
	return 0;
}

void
upstream_on_connected(struct conn *c)
{
	WOLFSSL *ssl;
	char err[128];

	c->upstream.connected = true;
	conn_nodelay(c->upstream.fd);
	ssl = wolfSSL_new(c->policy->upstream.ctx);
	if (ssl == NULL) {
		upstream_fail(c, "handshake failed", "out of memory");
		return;
	}
	tlsio_attach(ssl, &c->upstream);
	leg_set_tls(&c->upstream, ssl);
	if (tlsctx_upstream_prepare(ssl, &c->policy->upstream, err,
	    sizeof err) < 0) {
		upstream_fail(c, "handshake failed", err);
		return;
	}
	tickets_offer(config_tickets(c->cfg, c->policy), ssl);
	wolfSSL_set_SessionTicket_cb(ssl, upstream_ticket_cb, c);
	upstream_handshake(c);
}

/* Plain words for why wolfSSL refused the broker. */
static const char *
upstream_explain(struct conn *c, int err, char *buf, size_t len)
{
	WOLFSSL_ALERT_HISTORY h;
	char text[96];

	switch (err) {
	case DOMAIN_NAME_MISMATCH:
		snprintf(buf, len, "certificate name mismatch: the broker's "
		    "certificate is not for '%s' (check [upstream] sni)",
		    upstream_name(c));
		return buf;
	case ASN_NO_SIGNER_E:
	case ASN_SIG_CONFIRM_E:
		snprintf(buf, len, "certificate verify failed: not signed by a "
		    "CA in ca = %s", c->policy->upstream.ca);
		return buf;
	case ASN_AFTER_DATE_E:
		snprintf(buf, len, "certificate verify failed: the broker's "
		    "certificate has expired (or this clock is wrong)");
		return buf;
	case ASN_BEFORE_DATE_E:
		snprintf(buf, len, "certificate verify failed: the broker's "
		    "certificate is not yet valid (check this clock)");
		return buf;
	case VERSION_ERROR:
		snprintf(buf, len, "protocol version: the broker does not "
		    "speak TLS %s or newer (min_version = %s)",
		    c->policy->upstream.min_version == TLSV_TLS13 ? "1.3" : "1.2",
		    c->policy->upstream.min_version == TLSV_TLS13 ? "1.3" : "1.2");
		return buf;
	default:
		break;
	}
	memset(&h, 0, sizeof h);
	wolfSSL_get_alert_history(c->upstream.ssl, &h);
	if (err == FATAL_ERROR && h.last_rx.code == 70) {
		snprintf(buf, len, "protocol version: the broker refused TLS %s "
		    "(alert protocol_version)",
		    c->policy->upstream.min_version == TLSV_TLS13 ? "1.3" : "1.2");
		return buf;
	}
	if (err == FATAL_ERROR && h.last_rx.code >= 0) {
		snprintf(buf, len, "the broker sent alert %d (%s)", h.last_rx.code,
		    tlsio_alert_name(h.last_rx.code));
		return buf;
	}
	if (c->upstream.tcp_eof) {
		snprintf(buf, len, "the broker closed the connection during "
		    "the handshake (%s)", tlsio_error_text(err, text, sizeof text));
		return buf;
	}
	snprintf(buf, len, "%s (error %d)", tlsio_error_text(err, text,
	    sizeof text), err);
	return buf;
}

static void
upstream_handshake(struct conn *c)
{
	char why[300];
	int ret, err;

	ret = wolfSSL_connect(c->upstream.ssl);
	if (ret == WOLFSSL_SUCCESS) {
		c->upstream.open = true;
		conn_log(c, LOG_LEVEL_DEBUG, "upstream handshake done");
		if (c->device.open)
			conn_both_open(c);
		return;
	}
	err = wolfSSL_get_error(c->upstream.ssl, ret);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return;
	upstream_fail(c, "handshake failed", upstream_explain(c, err, why,
	    sizeof why));
}

void
upstream_keep_ticket(struct conn *c)
{
	/* Only once the broker's NewSessionTicket was processed whole: a
	 * resumed session holds the old ticket with the new secret until
	 * then, and the broker would reject its binder. */
	if (c->ticket_arrived && !c->ticket_collected && c->upstream.open)
		c->ticket_collected = tickets_collect(
		    config_tickets(c->cfg, c->policy), c->upstream.ssl);
}

void
upstream_on_read(struct conn *c)
{
	if (!c->upstream.connected || c->upstream.ssl == NULL)
		return;
	if (!c->upstream.open) {
		upstream_handshake(c);
		return;
	}
	/* Before the device is open, broker bytes wait in the buffer. */
	if (c->state == CONN_RELAY)
		relay_pump(&c->upstream);
}

void
upstream_on_eof(struct conn *c)
{
	if (!c->upstream.open) {
		if (c->upstream.ssl != NULL)
			upstream_handshake(c);
		else
			upstream_fail(c, "handshake failed",
			    "the broker closed the connection");
		return;
	}
	if (c->state == CONN_RELAY)
		relay_on_eof(&c->upstream);
}
