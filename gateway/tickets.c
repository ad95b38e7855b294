/*
 * tickets.c: a small stack of resumable sessions per upstream.  Tickets
 * are used once (RFC 8446 advises against reuse); the newest is offered
 * first since it is the least likely to have expired.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "tickets.h"

bool
tickets_offer(struct ticket_cache *tc, WOLFSSL *ssl)
{
	WOLFSSL_SESSION *s;
	int rc;

	if (tc->n == 0)
		return false;
	s = tc->s[--tc->n];
	tc->s[tc->n] = NULL;
	/* wolfSSL copies what it needs from s. */
	rc = wolfSSL_set_session(ssl, s);
	wolfSSL_SESSION_free(s);
	return rc == WOLFSSL_SUCCESS;
}

/* Longest ticket we look at without the OpenSSL layer (brokers send a
 * few hundred bytes). */
#define TICKETS_MAX_LEN 8192

/* The session s of ssl carries a ticket that can resume it. */
static bool
tickets_usable(WOLFSSL *ssl, WOLFSSL_SESSION *s)
{
#if defined(HAVE_WOLFSSL_SESSION_HAS_TICKET) && \
    defined(HAVE_WOLFSSL_SESSION_IS_RESUMABLE)
	(void)ssl;
	return wolfSSL_SESSION_has_ticket(s) && wolfSSL_SESSION_is_resumable(s);
#else
	static unsigned char ticket[TICKETS_MAX_LEN];
	word32 len = sizeof ticket;

	(void)s;
	return wolfSSL_get_SessionTicket(ssl, ticket, &len) ==
	    WOLFSSL_SUCCESS && len > 0;
#endif
}

bool
tickets_collect(struct ticket_cache *tc, WOLFSSL *ssl)
{
	WOLFSSL_SESSION *s = wolfSSL_get1_session(ssl);

	if (s == NULL)
		return false;
	if (!tickets_usable(ssl, s)) {
		wolfSSL_SESSION_free(s);
		return false;
	}
	if (tc->n == TICKETS_PER_UPSTREAM) {
		/* Full: drop the oldest. */
		unsigned i;

		wolfSSL_SESSION_free(tc->s[0]);
		for (i = 1; i < tc->n; i++)
			tc->s[i - 1] = tc->s[i];
		tc->n--;
	}
	tc->s[tc->n++] = s;
	return true;
}

void
tickets_clear(struct ticket_cache *tc)
{
	while (tc->n > 0) {
		wolfSSL_SESSION_free(tc->s[--tc->n]);
		tc->s[tc->n] = NULL;
	}
}
