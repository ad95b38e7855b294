/*
 * resolve.c: a tiny cache in front of getaddrinfo.  Lookups block the
 * loop, so each name is resolved at most once per RESOLVE_TTL; a broker
 * name has one or a few addresses and the gateway few upstreams.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "resolve.h"

struct resolve_entry {
	struct resolve_entry *next;
	char *host;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	time_t expires;
};

static struct resolve_entry *resolve_cache;

static time_t
resolve_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct resolve_entry *
resolve_find(const char *host)
{
	struct resolve_entry *e;

	for (e = resolve_cache; e != NULL; e = e->next)
		if (strcmp(e->host, host) == 0)
			return e;
	return NULL;
}

/* First address getaddrinfo gives, port left at zero. */
static int
resolve_lookup(const char *host, struct sockaddr_storage *out,
    socklen_t *outlen, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*outlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
resolve_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int
resolve_host(const char *host, uint16_t port, struct sockaddr_storage *out,
    socklen_t *outlen, char *err, size_t errlen)
{
	struct resolve_entry *e = resolve_find(host);
	time_t now = resolve_now();

	if (e == NULL) {
		e = calloc(1, sizeof *e);
		if (e == NULL || (e->host = strdup(host)) == NULL) {
			free(e);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		e->next = resolve_cache;
		resolve_cache = e;
	}
	if (e->addrlen == 0 || now >= e->expires) {
		if (resolve_lookup(host, &e->addr, &e->addrlen, err, errlen) < 0) {
			/* A stale address beats none while DNS is down. */
			if (e->addrlen == 0)
				return -1;
		} else {
			e->expires = now + RESOLVE_TTL;
		}
	}
	memcpy(out, &e->addr, e->addrlen);
	*outlen = e->addrlen;
	resolve_set_port(out, port);
	return 0;
}

void
resolve_flush(void)
{
	struct resolve_entry *e, *next;

	for (e = resolve_cache; e != NULL; e = next) {
		next = e->next;
		free(e->host);
		free(e);
	}
	resolve_cache = NULL;
}
