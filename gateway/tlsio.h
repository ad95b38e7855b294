/*
 * tlsio.h: wolfSSL custom I/O on a leg's socket through legio.c, which
 * keeps what the socket cannot take yet.
 */
#ifndef TLSGW_TLSIO_H
#define TLSGW_TLSIO_H

#include "conn.h"

/* Attach the I/O callbacks of leg to ssl. */
void tlsio_attach(WOLFSSL *ssl, struct leg *leg);

/* A short text for a wolfSSL error code, for logs. */
const char *tlsio_error_text(int err, char *buf, size_t len);

/* The name of a TLS alert description code ("bad_certificate"). */
const char *tlsio_alert_name(int code);

#endif
