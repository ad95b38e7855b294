/*
 * tlsio.c: the two I/O callbacks wolfSSL calls, on the leg's socket
 * (legio.c): receive straight into wolfSSL's record buffer, send straight
 * from it.  Send never pushes back: what the socket does not take is
 * kept, and relay.c watches that length instead.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

#include "legio.h"
#include "tlsio.h"

static int
tlsio_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	int n;

	(void)ssl;
	n = legio_recv(ctx, buf, sz);
	if (n > 0)
		return n;
	return n < 0 ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
}

static int
tlsio_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct leg *leg = ctx;

	(void)ssl;
	if (leg->write_closed)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	if (legio_send(leg, buf, sz) < 0)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return sz;
}

void
tlsio_attach(WOLFSSL *ssl, struct leg *leg)
{
	wolfSSL_SSLSetIORecv(ssl, tlsio_recv);
	wolfSSL_SSLSetIOSend(ssl, tlsio_send);
	wolfSSL_SetIOReadCtx(ssl, leg);
	wolfSSL_SetIOWriteCtx(ssl, leg);
}

const char *
tlsio_error_text(int err, char *buf, size_t len)
{
	wolfSSL_ERR_error_string_n((unsigned long)err, buf, len);
	return buf;
}

const char *
tlsio_alert_name(int code)
{
	switch (code) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown alert";
	}
}
