/*
 * tickets.h: TLS session tickets from each upstream, kept per policy so
 * that a device reconnecting costs the broker no full handshake.
 */
#ifndef TLSGW_TICKETS_H
#define TLSGW_TICKETS_H

#include <stdbool.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

/* Enough for a burst of reconnects; each resumed connection brings a
 * fresh ticket back, so the cache refills itself.  A full handshake
 * costs the broker a signature and the gateway a kept copy of the
 * broker's certificate (~8 KB for the connection's life with wolfSSL's
 * compatibility layer), so a deep cache pays: 64 sessions are ~45 KB. */
#define TICKETS_PER_UPSTREAM 64

struct ticket_cache {
	WOLFSSL_SESSION *s[TICKETS_PER_UPSTREAM];
	unsigned n;
};

/* Offer the newest cached ticket on ssl (each ticket is used once).
 * Returns true when one was set. */
bool tickets_offer(struct ticket_cache *tc, WOLFSSL *ssl);

/* Keep the session of ssl once it carries a ticket; returns true when
 * one was taken (call again later while it returns false). */
bool tickets_collect(struct ticket_cache *tc, WOLFSSL *ssl);

/* Free every cached session. */
void tickets_clear(struct ticket_cache *tc);

#endif
