/*
 * admit.h: admission limits per device address: live connections and
 * new handshakes per second, so one broken or hostile device cannot
 * starve the others.  Refusals are logged at most once per second per
 * kind, with the count of the ones not logged.
 */
#ifndef TLSGW_ADMIT_H
#define TLSGW_ADMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#define LIMITS_BUCKETS 256

struct source;

struct limits {
	struct source *bucket[LIMITS_BUCKETS];
	unsigned nsources;
	unsigned long admits;
	/* Log suppression: one line per second per kind of refusal. */
	struct timeval logged[4];
	unsigned suppressed[4];
};

enum limit_kind {
	LIMIT_TOTAL,        /* [gateway] max_connections */
	LIMIT_SOURCE,       /* [gateway] max_connections_per_source */
	LIMIT_RATE,         /* [gateway] handshakes_per_source */
	LIMIT_POLICY,       /* [listen] max_connections of a policy */
};

/*
 * Admit a new connection from sa: checks the per-source connection
 * count (max_conns, 0: no limit) and handshake rate (rate per second,
 * 0: no limit; bursts up to twice the rate).  On success returns the
 * source to hand back to limits_release; NULL when refused, with *kind
 * set.  Also NULL for an address family we do not track (no limit).
 */
struct source *limits_admit(struct limits *lim, const struct sockaddr *sa,
    unsigned max_conns, unsigned rate, const struct timeval *now,
    enum limit_kind *kind, bool *refused);

/* The connection from src ended. */
void limits_release(struct limits *lim, struct source *src);

/* True when a refusal of this kind should be logged now; *suppressed
 * gets the count of the ones not logged since the last line. */
bool limits_should_log(struct limits *lim, enum limit_kind kind,
    const struct timeval *now, unsigned *suppressed);

/* Take the counts of refusals not logged yet, for a line when a flood
 * stops (no later refusal would report them).  Returns the total. */
unsigned limits_take_suppressed(struct limits *lim, unsigned counts[4]);

/* Free every tracked source. */
void limits_free(struct limits *lim);

#endif
