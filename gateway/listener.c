/*
 * listener.c: bind the configured addresses and accept devices.  Running
 * out of file descriptors pauses accepting behind a timer instead of
 * spinning on a listener that stays readable.
 */
#include <arpa/inet.h>
#ifdef __linux__
#include <linux/filter.h>
#endif
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "listener.h"
#include "log.h"
#include "shared.h"

#define LISTENER_BACKLOG 256
#define LISTENER_PAUSE_SEC 1
/* Seconds between two "pausing accepts" lines of one listener: at the
 * descriptor limit with devices coming and going, accepts pause and
 * resume every second, and one line a minute says so. */
#define LISTENER_PAUSE_LOG_SEC 60

static const char *const listener_limit_names[] = {
	[LIMIT_TOTAL] = "max_connections",
	[LIMIT_SOURCE] = "max_connections_per_source",
	[LIMIT_RATE] = "handshakes_per_source",
	[LIMIT_POLICY] = "a policy's max_connections",
};

/* A flood's last second: the refusals no later line reported. */
static void
listener_flush_refusals(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *gw = arg;
	unsigned counts[4], i;

	(void)fd;
	(void)what;
	if (limits_take_suppressed(&gw->limits, counts) == 0)
		return;
	for (i = 0; i < 4; i++)
		if (counts[i] > 0)
			log_warnx("%u more refused by %s since the last line",
			    counts[i], listener_limit_names[i]);
}

void
listener_note_refusal(struct gateway *gw)
{
	struct timeval later = { 2, 0 };

	if (gw->limits_flush == NULL)
		gw->limits_flush = evtimer_new(gw->base, listener_flush_refusals,
		    gw);
	if (gw->limits_flush != NULL && !evtimer_pending(gw->limits_flush, NULL))
		evtimer_add(gw->limits_flush, &later);
}

/* One log line per second per kind of refusal, with the count of the
 * ones not logged: a flood must not become a log flood. */
static void
listener_refuse(struct listener *l, const struct sockaddr *sa,
    enum limit_kind kind, const struct timeval *now)
{
	const struct gateway_conf *conf = l->gw->cfg->conf;
	char peer[INET6_ADDRSTRLEN] = "?";
	unsigned more = 0;

	listener_note_refusal(l->gw);
	if (!limits_should_log(&l->gw->limits, kind, now, &more))
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, peer, sizeof peer);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, peer, sizeof peer);
	switch (kind) {
	case LIMIT_SOURCE:
		log_warnx("%s: refused %s: max_connections_per_source (%u) "
		    "reached (%u more refused since the last line)", l->address,
		    peer, conf->max_connections_per_source, more);
		break;
	case LIMIT_RATE:
		log_warnx("%s: refused %s: more than handshakes_per_source (%u) "
		    "new connections per second (%u more refused since the "
		    "last line)", l->address, peer, conf->handshakes_per_source,
		    more);
		break;
	default:
		log_warnx("%s: refused %s: max_connections (%u) reached (%u "
		    "more refused since the last line)", l->address, peer,
		    conf->max_connections, more);
		break;
	}
}

/* Hand each accepted socket to a new connection, unless a limit says no. */
static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	struct gateway *gw = l->gw;
	const struct gateway_conf *conf = gw->cfg->conf;
	struct source *src = NULL;
	struct timeval now;
	enum limit_kind kind = LIMIT_TOTAL;
	bool refused = false;

	(void)evl;
	if (gw->stopping) {
		evutil_closesocket(fd);
		return;
	}
	event_base_gettimeofday_cached(gw->base, &now);
	if (!shared_take(gw->shared, shared_total(gw->shared),
	    conf->max_connections))
		refused = true;
	else {
		src = limits_admit(&gw->limits, sa,
		    conf->max_connections_per_source,
		    conf->handshakes_per_source, &now, &kind, &refused);
		if (refused)
			shared_put(gw->shared, shared_total(gw->shared));
	}
	if (refused) {
		listener_refuse(l, sa, kind, &now);
		evutil_closesocket(fd);
		return;
	}
	conn_new(gw, l, fd, sa, salen, src);
}

/* Accept resumes after a pause for descriptors. */
static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(l->evl);
}

/* EMFILE/ENFILE and friends: pause and retry later; log the first
 * pause, then at most one line a minute with the count since. */
static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = { LISTENER_PAUSE_SEC, 0 }, now;
	int err = EVUTIL_SOCKET_ERROR();

	event_base_gettimeofday_cached(l->gw->base, &now);
	l->pauses++;
	if (!timerisset(&l->pause_logged) ||
	    now.tv_sec - l->pause_logged.tv_sec >= LISTENER_PAUSE_LOG_SEC) {
		errno = err;
		if (l->pauses > 1)
			log_warn("%s: accept failed, pausing accepts for %d s "
			    "(%u pauses since the last line)", l->address,
			    LISTENER_PAUSE_SEC, l->pauses);
		else
			log_warn("%s: accept failed, pausing accepts for %d s",
			    l->address, LISTENER_PAUSE_SEC);
		l->pause_logged = now;
		l->pauses = 0;
	}
	evconnlistener_disable(evl);
	evtimer_add(l->resume, &tv);
}

/* The listener already bound to this address, if any. */
static struct listener *
listener_find(struct gateway *gw, const struct sockaddr_storage *addr,
    socklen_t addrlen)
{
	size_t i;

	for (i = 0; i < gw->nlisteners; i++) {
		struct listener *l = gw->listeners[i];

		if (l->addrlen == addrlen && memcmp(&l->addr, addr, addrlen) == 0)
			return l;
	}
	return NULL;
}

struct listener *
listener_ref(struct listener *l)
{
	l->refs++;
	return l;
}

/* Stop accepting; the struct lives on while connections point at it. */
static void
listener_stop(struct listener *l)
{
	if (l->evl != NULL)
		evconnlistener_free(l->evl);
	l->evl = NULL;
	if (l->resume != NULL)
		event_free(l->resume);
	l->resume = NULL;
}

void
listener_unref(struct listener *l)
{
	if (--l->refs > 0)
		return;
	listener_stop(l);
	free(l);
}

/*
 * Workers each listen on their own socket of one SO_REUSEPORT group.
 * The kernel would spread a device's connections over them by port;
 * this program picks the socket from the source address alone, so one
 * device always meets the same worker and the per-address limits
 * (admit.c) and session caches hold for the whole gateway.  The socket
 * index is (a ^ a >> 16) % n of the IPv4 address or of the XOR of the
 * IPv6 address's four words.  Without it (not Linux, or an old
 * kernel) the limits per address hold per worker.
 */
static void
listener_steer(struct listener *l, unsigned nworkers)
{
#if defined(SO_ATTACH_REUSEPORT_CBPF) && defined(SKF_NET_OFF)
	struct sock_filter code[] = {
		/* A = IP version */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 2, 0),
		/* IPv4: the source address */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_JUMP(BPF_JMP | BPF_JA, 10, 0, 0),
		/* IPv6: the source address's words XORed */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 16),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 20),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		/* A ^= A >> 16; A %= n */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, nworkers),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog;
	evutil_socket_t fd = evconnlistener_get_fd(l->evl);

	memset(&prog, 0, sizeof prog);  /* no uninitialised padding */
	prog.len = sizeof code / sizeof code[0];
	prog.filter = code;

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof prog) < 0)
		log_warn("%s: cannot steer devices to workers by address; "
		    "per-address limits hold per worker", l->address);
#else
	(void)nworkers;
	log_info("%s: per-address limits hold per worker on this system",
	    l->address);
#endif
}

int
listener_probe(const struct gateway_conf *conf)
{
	const struct policy *p;
	evutil_socket_t fd;
	size_t i;
	int one = 1;

	for (i = 0; i < conf->npolicies; i++) {
		p = conf->policies[i];
		fd = socket(p->listen_addr.ss_family, SOCK_STREAM, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one) < 0 || bind(fd,
		    (const struct sockaddr *)&p->listen_addr,
		    p->listen_addrlen) < 0) {
			log_warn("%s: cannot listen (policy '%s', %s)",
			    p->listen_address, p->name, p->file);
			if (fd >= 0)
				evutil_closesocket(fd);
			return -1;
		}
		evutil_closesocket(fd);
	}
	return 0;
}

/* Bind one address; returns NULL after logging. */
static struct listener *
listener_open(struct gateway *gw, const struct policy *p)
{
	struct listener *l;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_EXEC;

	l = calloc(1, sizeof *l);
	if (l == NULL)
		return NULL;
	l->gw = gw;
	memcpy(&l->addr, &p->listen_addr, p->listen_addrlen);
	l->addrlen = p->listen_addrlen;
	snprintf(l->address, sizeof l->address, "%s", p->listen_address);
	if (gw->nworkers > 1)
		flags |= LEV_OPT_REUSEABLE_PORT;
	l->evl = evconnlistener_new_bind(gw->base, listener_accept_cb, l,
	    flags, LISTENER_BACKLOG, (struct sockaddr *)&l->addr,
	    (int)l->addrlen);
	if (l->evl == NULL) {
		log_warn("%s: cannot listen (policy '%s', %s)", p->listen_address,
		    p->name, p->file);
		free(l);
		return NULL;
	}
	if (gw->nworkers > 1)
		listener_steer(l, gw->nworkers);
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	l->resume = evtimer_new(gw->base, listener_resume_cb, l);
	l->refs = 1;
	return l;
}

/* Append to the gateway's list, growing it as needed. */
static int
listener_add(struct gateway *gw, struct listener *l)
{
	struct listener **v;

	v = realloc(gw->listeners, (gw->nlisteners + 1) * sizeof *v);
	if (v == NULL)
		return -1;
	gw->listeners = v;
	gw->listeners[gw->nlisteners++] = l;
	return 0;
}

/* Undo a failed sync: drop the listeners opened since index first. */
static void
listener_rollback(struct gateway *gw, size_t first)
{
	while (gw->nlisteners > first)
		listener_unref(gw->listeners[--gw->nlisteners]);
}

int
listener_sync(struct gateway *gw, const struct gateway_conf *conf)
{
	size_t i, first = gw->nlisteners;

	for (i = 0; i < gw->nlisteners; i++)
		gw->listeners[i]->keep = false;
	for (i = 0; i < conf->npolicies; i++) {
		const struct policy *p = conf->policies[i];
		struct listener *l = listener_find(gw, &p->listen_addr,
		    p->listen_addrlen);

		if (l == NULL) {
			l = listener_open(gw, p);
			if (l == NULL || listener_add(gw, l) < 0) {
				if (l != NULL)
					listener_unref(l);
				listener_rollback(gw, first);
				return -1;
			}
		}
		l->keep = true;
	}
	return 0;
}

void
listener_prune(struct gateway *gw)
{
	size_t i, n = 0;

	for (i = 0; i < gw->nlisteners; i++) {
		struct listener *l = gw->listeners[i];

		if (l->keep) {
			gw->listeners[n++] = l;
			continue;
		}
		log_info("%s: no policy uses this address any more: closed",
		    l->address);
		listener_stop(l);
		listener_unref(l);
	}
	gw->nlisteners = n;
}

void
listener_log_policies(const struct gateway_conf *conf)
{
	size_t i;

	for (i = 0; i < conf->npolicies; i++) {
		const struct policy *p = conf->policies[i];

		log_info("listening on %s policy '%s' -> %s:%u (suites=%s, "
		    "certs %s%s%s)%s%s", p->listen_address, p->name,
		    p->upstream.host, p->upstream.port,
		    suite_set_name(p->device.suite_set),
		    p->device.ctx_rsa ? "rsa" : "",
		    p->device.ctx_rsa && p->device.ctx_ecdsa ? "+" : "",
		    p->device.ctx_ecdsa ? "ecdsa" : "",
		    p->listen_sni ? " for SNI " : "",
		    p->listen_sni ? p->listen_sni : "");
		if (p->device.suite_set == SUITE_SET_LEGACY)
			log_warnx("LEGACY: policy '%s' accepts static-RSA key "
			    "exchange from devices: no forward secrecy on the "
			    "LAN leg", p->name);
	}
	if (conf->npolicies == 0)
		log_warnx("no policy in %s: nothing to serve until one is "
		    "added and tlsgw reloaded", conf->policy_dir);
}

void
listener_close_all(struct gateway *gw)
{
	size_t i;

	if (gw->limits_flush != NULL) {
		listener_flush_refusals(-1, 0, gw);
		event_free(gw->limits_flush);
		gw->limits_flush = NULL;
	}

	for (i = 0; i < gw->nlisteners; i++) {
		listener_stop(gw->listeners[i]);
		listener_unref(gw->listeners[i]);
	}
	free(gw->listeners);
	gw->listeners = NULL;
	gw->nlisteners = 0;
}
