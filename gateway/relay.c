/*
 * relay.c: application data between the two open legs.  Each direction
 * is bounded: when the far side's output holds buffer_size bytes, the
 * near side stops reading until it drains (backpressure).  An end of
 * stream on one side is passed on as close_notify and a TCP half-close,
 * and the other direction keeps flowing until it ends too.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "conn.h"
#include "log.h"
#include "inspect.h"
#include "legio.h"
#include "tlsio.h"

/* Stop reading from a leg until its peer's output drains. */
static void
relay_pause(struct leg *from)
{
	from->paused = true;
	legio_want_read(from, false);
}

/* Encrypt and queue all n bytes on leg; wolfSSL cuts records to the
 * peer's maximum fragment length. */
static int
relay_write(struct leg *to, const unsigned char *buf, int n)
{
	while (n > 0) {
		int w = wolfSSL_write(to->ssl, buf, n);

		if (w <= 0)
			return -1;
		buf += w;
		n -= w;
	}
	return 0;
}

int
relay_send(struct leg *to, const uint8_t *buf, size_t n)
{
	struct conn *c = to->conn;

	if (n == 0)
		return 0;
	if (to->write_closed || relay_write(to, buf, (int)n) < 0) {
		conn_log(c, LOG_LEVEL_INFO, "%s cannot take more data", to->name);
		conn_close(c, to == &c->device ? "device write failed" :
		    "upstream write failed");
		return -1;
	}
	return 0;
}

/* Half-close: pass the end of one direction on to the other leg. */
static void
relay_end_direction(struct leg *from, const char *how)
{
	struct leg *to = from->peer;
	struct conn *c = from->conn;

	if (from == &c->device && c->inspecting &&
	    inspect_device_eof(c) < 0)
		return;
	from->read_closed = true;
	conn_log(c, LOG_LEVEL_DEBUG, "%s ended its stream (%s)", from->name, how);
	if (c->close_reason == NULL)
		c->close_reason = from == &c->device ? "device closed" :
		    "upstream closed";
	if (to->open && !to->write_closed) {
		wolfSSL_shutdown(to->ssl);
		to->write_closed = true;
	}
	if (to->write_closed)
		legio_shutdown_write(to);
	if (to->read_closed)
		conn_close(c, c->close_reason);
}

/* The error, or the alert the peer sent: in TLS 1.3 a broker judges our
 * client certificate after our handshake ended, so its verdict arrives
 * here ("certificate_required", "unknown_ca"). */
static const char *
relay_error_text(struct leg *leg, int err, char *buf, size_t len)
{
	WOLFSSL_ALERT_HISTORY h;

	memset(&h, 0, sizeof h);
	if (err == FATAL_ERROR && wolfSSL_get_alert_history(leg->ssl, &h) ==
	    WOLFSSL_SUCCESS && h.last_rx.code > 0) {
		snprintf(buf, len, "the %s sent alert %d (%s)",
		    leg == &leg->conn->device ? "device" : "broker",
		    h.last_rx.code, tlsio_alert_name(h.last_rx.code));
		return buf;
	}
	return tlsio_error_text(err, buf, len);
}

/* Read everything the leg has decrypted or buffered, unless the other
 * side is full.  wolfSSL may hold decrypted bytes with no socket event
 * to come, so we always read until it wants more input. */
void
relay_pump(struct leg *from)
{
	struct conn *c = from->conn;
	struct leg *to = from->peer;
	size_t limit = conn_conf(c)->buffer_size;
	unsigned char *buf = c->gw->relay_buf;
	char text[128];
	int n, err;

	while (c->state == CONN_RELAY && !from->read_closed && !from->paused) {
		if (leg_output_len(to) >= limit) {
			relay_pause(from);
			return;
		}
		n = wolfSSL_read(from->ssl, buf, (int)sizeof c->gw->relay_buf);
		if (n > 0) {
			from->bytes += (uint64_t)n;
			conn_touch(c);
			if (from == &c->device && c->inspecting) {
				if (inspect_device_data(c, buf, (size_t)n) < 0)
					return;
				continue;
			}
			if (relay_send(to, buf, (size_t)n) < 0)
				return;
			continue;
		}
		err = wolfSSL_get_error(from->ssl, n);
		if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
			if (from == &c->upstream)
				upstream_keep_ticket(c);
			return;
		}
		if (err == WOLFSSL_ERROR_ZERO_RETURN) {
			relay_end_direction(from, "close_notify");
			return;
		}
		/* A fatal alert followed by the peer's FIN is an error with a
		 * reason, not a plain end of stream. */
		if (from->tcp_eof && err != FATAL_ERROR) {
			relay_end_direction(from, "EOF without close_notify");
			return;
		}
		conn_log(c, LOG_LEVEL_WARN, "%s TLS error: %s", from->name,
		    relay_error_text(from, err, text, sizeof text));
		conn_close(c, from == &c->device ? "device TLS error" :
		    "upstream TLS error");
		return;
	}
}

/* Output of leg fell below the low watermark: resume its peer, and
 * finish a pending half-close once everything is sent. */
void
relay_on_drained(struct leg *leg)
{
	struct leg *peer = leg->peer;

	if (leg->write_closed)
		legio_shutdown_write(leg);
	if (peer->paused &&
	    leg_output_len(leg) < conn_conf(leg->conn)->buffer_size) {
		peer->paused = false;
		relay_pump(peer);
	}
}

void
relay_on_eof(struct leg *leg)
{
	/* Decrypt what is left; the receive callback then reports the
	 * closed socket and the pump ends this direction. */
	if (leg->paused)
		return;
	relay_pump(leg);
}
