/*
 * admit.c: a small hash of device addresses with a live-connection
 * count and a token bucket for handshakes.  An entry lives while it has
 * connections or its bucket is not yet full again (else a device could
 * reset its rate by closing); a periodic sweep drops the rest, so the
 * table stays about as small as the set of recently seen devices.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"

/* Seconds after which an unused entry is forgotten (its bucket is full
 * again by then for any rate of 1/s or more). */
#define LIMITS_IDLE_SEC 2
/* Sweep once every so many admissions. */
#define LIMITS_SWEEP_EVERY 256

struct source {
	struct source *next;
	uint8_t addr[16];
	uint8_t family;
	unsigned conns;
	double tokens;           /* handshakes still allowed right now */
	struct timeval refill;   /* when tokens were last topped up */
};

/* The address bytes of sa; 0 for a family we do not track. */
static size_t
limits_key(const struct sockaddr *sa, uint8_t key[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* FNV-1a: cheap and good enough for a table of device addresses. */
static unsigned
limits_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % LIMITS_BUCKETS;
}

static struct source *
limits_lookup(struct limits *lim, const uint8_t *key, size_t len,
    int family, unsigned rate, const struct timeval *now)
{
	unsigned h = limits_hash(key, len);
	struct source *s;

	for (s = lim->bucket[h]; s != NULL; s = s->next)
		if (s->family == family && memcmp(s->addr, key, len) == 0)
			return s;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	memcpy(s->addr, key, len);
	s->family = (uint8_t)family;
	s->tokens = 2.0 * rate;
	s->refill = *now;
	s->next = lim->bucket[h];
	lim->bucket[h] = s;
	lim->nsources++;
	return s;
}

/* Top the bucket up for the time since the last handshake. */
static void
limits_refill(struct source *s, unsigned rate, const struct timeval *now)
{
	struct timeval d;
	double cap = 2.0 * rate;

	timersub(now, &s->refill, &d);
	s->refill = *now;
	s->tokens += (double)rate * ((double)d.tv_sec + d.tv_usec / 1e6);
	if (s->tokens > cap)
		s->tokens = cap;
}

/* Drop entries with no connection whose bucket has refilled. */
static void
limits_sweep(struct limits *lim, const struct timeval *now)
{
	size_t i;

	for (i = 0; i < LIMITS_BUCKETS; i++) {
		struct source **pp = &lim->bucket[i];

		while (*pp != NULL) {
			struct source *s = *pp;

			if (s->conns == 0 && now->tv_sec - s->refill.tv_sec >=
			    LIMITS_IDLE_SEC) {
				*pp = s->next;
				lim->nsources--;
				free(s);
				continue;
			}
			pp = &s->next;
		}
	}
}

struct source *
limits_admit(struct limits *lim, const struct sockaddr *sa,
    unsigned max_conns, unsigned rate, const struct timeval *now,
    enum limit_kind *kind, bool *refused)
{
	uint8_t key[16];
	size_t len = limits_key(sa, key);
	struct source *s;

	*refused = false;
	if (len == 0 || (max_conns == 0 && rate == 0))
		return NULL;
	if (++lim->admits % LIMITS_SWEEP_EVERY == 0)
		limits_sweep(lim, now);
	s = limits_lookup(lim, key, len, sa->sa_family, rate, now);
	if (s == NULL)
		return NULL;
	if (max_conns > 0 && s->conns >= max_conns) {
		*kind = LIMIT_SOURCE;
		*refused = true;
		return NULL;
	}
	if (rate > 0) {
		limits_refill(s, rate, now);
		if (s->tokens < 1.0) {
			*kind = LIMIT_RATE;
			*refused = true;
			return NULL;
		}
		s->tokens -= 1.0;
	}
	s->conns++;
	return s;
}

void
limits_release(struct limits *lim, struct source *src)
{
	(void)lim;
	if (src != NULL)
		src->conns--;
}

bool
limits_should_log(struct limits *lim, enum limit_kind kind,
    const struct timeval *now, unsigned *suppressed)
{
	struct timeval d;

	timersub(now, &lim->logged[kind], &d);
	if (d.tv_sec < 1 && (lim->logged[kind].tv_sec != 0 ||
	    lim->logged[kind].tv_usec != 0)) {
		lim->suppressed[kind]++;
		return false;
	}
	lim->logged[kind] = *now;
	*suppressed = lim->suppressed[kind];
	lim->suppressed[kind] = 0;
	return true;
}

unsigned
limits_take_suppressed(struct limits *lim, unsigned counts[4])
{
	unsigned i, total = 0;

	for (i = 0; i < 4; i++) {
		counts[i] = lim->suppressed[i];
		total += counts[i];
		lim->suppressed[i] = 0;
	}
	return total;
}

void
limits_free(struct limits *lim)
{
	size_t i;

	for (i = 0; i < LIMITS_BUCKETS; i++) {
		while (lim->bucket[i] != NULL) {
			struct source *s = lim->bucket[i];

			lim->bucket[i] = s->next;
			free(s);
		}
	}
	lim->nsources = 0;
}
