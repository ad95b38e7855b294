/*
 * tlsio.h: wolfSSL custom I/O over a leg's bufferevent evbuffers (the
 * memory-BIO pattern): wolfSSL never touches a socket.
 */
#ifndef TLSGW_TLSIO_H
#define TLSGW_TLSIO_H

#include "conn.h"

/* Attach the evbuffer callbacks of leg to ssl. */
void tlsio_attach(WOLFSSL *ssl, struct leg *leg);

/* A short text for a wolfSSL error code, for logs. */
const char *tlsio_error_text(int err, char *buf, size_t len);

/* The name of a TLS alert description code ("bad_certificate"). */
const char *tlsio_alert_name(int code);

#endif
