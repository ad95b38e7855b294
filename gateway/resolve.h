/*
 * resolve.h: upstream host names to addresses, cached per name so a
 * connection storm does not become a DNS storm.
 */
#ifndef TLSGW_RESOLVE_H
#define TLSGW_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Seconds a resolved address is reused before asking again. */
#define RESOLVE_TTL 60

/*
 * Address of host:port.  Numeric addresses never touch DNS; names are
 * looked up with getaddrinfo (blocking, at most once per RESOLVE_TTL per
 * name).  Returns 0, or -1 with a reason in err.
 */
int resolve_host(const char *host, uint16_t port,
    struct sockaddr_storage *out, socklen_t *outlen, char *err,
    size_t errlen);

/* Forget every cached name (reload, shutdown). */
void resolve_flush(void);

#endif
