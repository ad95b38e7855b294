/*
 * tickets.c: a small stack of resumable sessions per upstream.  Tickets
 * are used once (RFC 8446 advises against reuse); the newest is offered
 * first since it is the least likely to have expired.
 */
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

bool
tickets_collect(struct ticket_cache *tc, WOLFSSL *ssl)
{
	WOLFSSL_SESSION *s = wolfSSL_get1_session(ssl);

	if (s == NULL)
		return false;
	if (!wolfSSL_SESSION_has_ticket(s) ||
	    !wolfSSL_SESSION_is_resumable(s)) {
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
