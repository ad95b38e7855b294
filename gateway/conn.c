/*
 * conn.c: the connection object: creation, the state machine's one
 * setter, deadlines, the socket events of both legs, and the single
 * teardown path that ends with the summary line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "conn.h"
#include "inspect.h"
#include "legio.h"
#include "listener.h"
#include "log.h"
#include "suites.h"

#define CONN_DRAIN_SEC 5
/* One full TLS record with its header and AEAD overhead. */

static const char *const conn_state_names[] = {
	[CONN_HELLO] = "hello",
	[CONN_HANDSHAKE] = "handshake",
	[CONN_RELAY] = "relay",
	[CONN_CLOSING] = "closing",
	[CONN_DEAD] = "dead",
};

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_finish(struct conn *c);

void
conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
{
	char msg[1900];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_msg(level, "%s %s", c->peer, msg);
}

/* "ip:port" of a socket address, for every line of this connection. */
static void
conn_format_peer(char *buf, size_t len, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "unknown");
	}
}

/* MQTT is small request/response messages: never let Nagle hold one
 * back waiting for an ack (both legs). */
void
conn_nodelay(evutil_socket_t fd)
{
	int on = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static void
conn_leg_setup(struct conn *c, struct leg *leg, struct leg *peer,
    const char *name)
{
	leg->conn = c;
	leg->peer = peer;
	leg->name = name;
	leg->fd = -1;
}

struct conn *
conn_new(struct gateway *gw, struct listener *l, int fd,
    const struct sockaddr *sa, int salen, struct source *src)
{
	struct conn *c;
	struct timeval tv = { (time_t)gw->cfg->conf->handshake_timeout, 0 };

	(void)salen;
	c = calloc(1, sizeof *c);
	if (c != NULL) {
		conn_leg_setup(c, &c->device, &c->upstream, "device");
		conn_leg_setup(c, &c->upstream, &c->device, "upstream");
	}
	if (c == NULL || legio_attach(&c->device, gw->base, fd) < 0) {
		log_warnx("out of memory accepting a device");
		if (c != NULL)
			legio_free(&c->device);
		else
			evutil_closesocket(fd);
		free(c);
		limits_release(&gw->limits, src);
		shared_put(gw->shared, shared_total(gw->shared));
		return NULL;
	}
	c->gw = gw;
	c->source = src;
	conn_nodelay(fd);
	c->cfg = config_ref(gw->cfg);
	c->listener = listener_ref(l);
	conn_format_peer(c->peer, sizeof c->peer, sa);
	c->state = CONN_HELLO;
	event_base_gettimeofday_cached(gw->base, &c->started);
	c->last_active = c->started;
	c->device.connected = true;
	c->timer = evtimer_new(gw->base, conn_timer_cb, c);
	evtimer_add(c->timer, &tv);
	legio_want_read(&c->device, true);
	c->next = gw->conns;
	if (gw->conns != NULL)
		gw->conns->prev = c;
	gw->conns = c;
	gw->nconns++;
	conn_log(c, LOG_LEVEL_DEBUG, "accepted on %s", l->address);
	return c;
}

void
conn_set_state(struct conn *c, enum conn_state state)
{
	struct timeval tv = { 0, 0 };

	if (c->state == state)
		return;
	conn_log(c, LOG_LEVEL_DEBUG, "state %s -> %s",
	    conn_state_names[c->state], conn_state_names[state]);
	c->state = state;
	switch (state) {
	case CONN_RELAY:
		evtimer_del(c->timer);
		tv.tv_sec = (time_t)conn_conf(c)->idle_timeout;
		if (tv.tv_sec > 0)
			evtimer_add(c->timer, &tv);
		break;
	case CONN_CLOSING:
		evtimer_del(c->timer);
		tv.tv_sec = CONN_DRAIN_SEC;
		evtimer_add(c->timer, &tv);
		break;
	default:
		/* HELLO and HANDSHAKE share the deadline set at accept. */
		break;
	}
}

void
conn_touch(struct conn *c)
{
	event_base_gettimeofday_cached(c->gw->base, &c->last_active);
}

void
conn_both_open(struct conn *c)
{
	conn_set_state(c, CONN_RELAY);
	conn_touch(c);
	relay_pump(&c->device);
	if (c->state == CONN_RELAY)
		relay_pump(&c->upstream);
}

void
leg_set_tls(struct leg *leg, WOLFSSL *ssl)
{
	leg->ssl = ssl;
}

size_t
leg_output_len(const struct leg *leg)
{
	return legio_pending(leg);
}

const char *
leg_version(const struct leg *leg)
{
	const char *v;

	if (leg->ssl == NULL || !leg->open)
		return "-";
	v = wolfSSL_get_version(leg->ssl);
	if (strcmp(v, "TLSv1.3") == 0)
		return "TLS1.3";
	if (strcmp(v, "TLSv1.2") == 0)
		return "TLS1.2";
	return v;
}

uint16_t
leg_suite_code(const struct leg *leg)
{
	if (leg->ssl == NULL || !leg->open)
		return 0;
	return (uint16_t)wolfSSL_get_current_cipher_suite(leg->ssl);
}

const char *
leg_suite(const struct leg *leg, char *buf, size_t len)
{
	if (leg->ssl == NULL || !leg->open)
		return "-";
	return suite_name(leg_suite_code(leg), buf, len);
}

/* The one summary line every connection ends with. */
static void
conn_log_summary(struct conn *c)
{
	char dsuite[64], usuite[64], mfl[16];
	struct timeval now, d;
	const struct policy *p = c->policy;

	if (c->summary_logged)
		return;
	c->summary_logged = true;
	event_base_gettimeofday_cached(c->gw->base, &now);
	timersub(&now, &c->started, &d);
	if (c->mfl != 0)
		snprintf(mfl, sizeof mfl, "%zu", clienthello_mfl_bytes(c->mfl));
	else
		snprintf(mfl, sizeof mfl, "-");
	conn_log(c, LOG_LEVEL_INFO, "close policy=%s device=%s suite=%s cert=%s "
	    "mfl=%s sni=%s id=%s upstream=%s upstream_suite=%s resumed=%s "
	    "in=%llu out=%llu "
	    "duration=%ld.%03lds reason=\"%s\"",
	    p ? p->name : "-", leg_version(&c->device),
	    leg_suite(&c->device, dsuite, sizeof dsuite),
	    c->device.open ? cert_kind_name(c->cert) : "-", mfl,
	    c->sni ? c->sni : "-", c->identity ? c->identity : "-",
	    leg_version(&c->upstream),
	    leg_suite(&c->upstream, usuite, sizeof usuite),
	    c->upstream.open ? (wolfSSL_session_reused(c->upstream.ssl) ?
	    "yes" : "no") : "-",
	    (unsigned long long)c->device.bytes,
	    (unsigned long long)c->upstream.bytes,
	    (long)d.tv_sec, (long)(d.tv_usec / 1000),
	    c->close_reason ? c->close_reason : "unknown");
}

/* Queue close_notify on a leg whose handshake finished. */
static void
conn_leg_notify(struct leg *leg)
{
	if (leg->ssl != NULL && leg->open && !leg->write_closed) {
		wolfSSL_shutdown(leg->ssl);
		leg->write_closed = true;
	}
	legio_want_read(leg, false);
}

/* True once nothing is left to send on either leg. */
static bool
conn_drained(const struct conn *c)
{
	return leg_output_len(&c->device) == 0 &&
	    (!c->upstream.connected || leg_output_len(&c->upstream) == 0);
}

void
conn_close(struct conn *c, const char *reason)
{
	if (c->state >= CONN_CLOSING)
		return;
	c->close_reason = reason;
	conn_set_state(c, CONN_CLOSING);
	conn_leg_notify(&c->device);
	conn_leg_notify(&c->upstream);
	if (conn_drained(c))
		conn_finish(c);
}

void
conn_abort(struct conn *c, const char *reason)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->state < CONN_CLOSING)
		c->close_reason = reason;
	conn_finish(c);
}

/* Free one leg: TLS object first, then its socket. */
static void
conn_leg_free(struct leg *leg)
{
	if (leg->ssl != NULL)
		wolfSSL_free(leg->ssl);
	leg->ssl = NULL;
	legio_free(leg);
}

/* The one place a connection's memory is released. */
static void
conn_free(struct conn *c)
{
	struct gateway *gw = c->gw;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		gw->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	conn_leg_free(&c->device);
	conn_leg_free(&c->upstream);
	event_free(c->timer);
	free(c->hello);
	free(c->sni);
	free(c->identity);
	free(c->peer_der);
	inspect_free(c);
	listener_unref(c->listener);
	limits_release(&gw->limits, c->source);
	/* Taken by listener.c when it admitted the connection. */
	shared_put(gw->shared, shared_total(gw->shared));
	config_put_slot(c);
	config_unref(c->cfg);
	gw->nconns--;
	free(c);
	if (gw->stopping && gw->nconns == 0)
		event_base_loopexit(gw->base, NULL);
}

/* Deferred free: never inside the callback that is running. */
static void
conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

void
conn_close_all(struct gateway *gw, const char *reason)
{
	struct conn *c, *next;

	for (c = gw->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c, reason);
	}
}

void
conn_free_all(struct gateway *gw)
{
	while (gw->conns != NULL) {
		if (gw->conns->state != CONN_DEAD)
			conn_abort(gw->conns, "gateway stopped");
		conn_free(gw->conns);
	}
}

static void
conn_finish(struct conn *c)
{
	conn_log_summary(c);
	c->state = CONN_DEAD;
	evtimer_del(c->timer);
	legio_stop(&c->device);
	legio_stop(&c->upstream);
	event_base_once(c->gw->base, -1, EV_TIMEOUT, conn_free_cb, c, NULL);
}

/* Handshake deadline, idle timeout, or drain deadline. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval now, idle, limit = { 0, 0 };

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_HELLO:
	case CONN_HANDSHAKE:
		conn_log(c, LOG_LEVEL_WARN, "handshake timeout after %u s (%s)",
		    conn_conf(c)->handshake_timeout,
		    c->state == CONN_HELLO ? "no complete ClientHello" :
		    !c->device.open ? "device handshake unfinished" :
		    "upstream not ready");
		conn_close(c, "handshake timeout");
		break;
	case CONN_RELAY:
		event_base_gettimeofday_cached(c->gw->base, &now);
		timersub(&now, &c->last_active, &idle);
		limit.tv_sec = (time_t)conn_conf(c)->idle_timeout;
		if (timercmp(&idle, &limit, >=)) {
			conn_close(c, "idle timeout");
			break;
		}
		timersub(&limit, &idle, &limit);
		evtimer_add(c->timer, &limit);
		break;
	case CONN_CLOSING:
		conn_abort(c, c->close_reason);
		break;
	case CONN_DEAD:
		break;
	}
}

/* Whether a leg's stage reads from its socket now.  Bytes nobody
 * reads would keep its level-triggered event firing, so a leg that
 * waits (open before its peer, paused, ended) stops reading. */
static bool
conn_leg_wants_read(const struct leg *leg)
{
	const struct conn *c = leg->conn;

	if (leg->fd < 0 || leg->connecting || leg->sock_error != 0 ||
	    leg->eof_reported)
		return false;
	switch (c->state) {
	case CONN_HELLO:
		return leg == &c->device;
	case CONN_HANDSHAKE:
		return !leg->open && leg->ssl != NULL;
	case CONN_RELAY:
		return !leg->paused && !leg->read_closed;
	default:
		return false;
	}
}

void
conn_sync_reads(struct conn *c)
{
	legio_want_read(&c->device, conn_leg_wants_read(&c->device));
	legio_want_read(&c->upstream, conn_leg_wants_read(&c->upstream));
}

void
conn_leg_readable(struct leg *leg)
{
	struct conn *c = leg->conn;

	if (c->state >= CONN_CLOSING)
		return;
	if (leg == &c->device)
		device_on_read(c);
	else
		upstream_on_read(c);
}

/* Output went out.  Relaying resumes a paused peer once half the
 * buffer is free, not at every record, so reads come in big steps. */
void
conn_leg_drained(struct leg *leg)
{
	struct conn *c = leg->conn;

	if (c->state == CONN_CLOSING) {
		if (conn_drained(c))
			conn_finish(c);
		return;
	}
	if (c->state == CONN_RELAY &&
	    leg_output_len(leg) <= conn_conf(c)->buffer_size / 2)
		relay_on_drained(leg);
}

void
conn_leg_connected(struct leg *leg)
{
	struct conn *c = leg->conn;

	if (c->state >= CONN_CLOSING)
		return;
	upstream_on_connected(c);
}

void
conn_leg_connect_failed(struct leg *leg, int err)
{
	struct conn *c = leg->conn;

	if (c->state >= CONN_CLOSING)
		return;
	upstream_on_connect_error(c, err);
}

void
conn_leg_error(struct leg *leg, int err)
{
	struct conn *c = leg->conn;

	if (c->state == CONN_DEAD)
		return;
	if (c->state == CONN_CLOSING) {
		conn_abort(c, c->close_reason);
		return;
	}
	conn_log(c, LOG_LEVEL_INFO, "%s connection error: %s", leg->name,
	    evutil_socket_error_to_string(err));
	conn_abort(c, leg == &c->device ? "device connection reset" :
	    "upstream connection reset");
}

void
conn_leg_eof(struct leg *leg)
{
	struct conn *c = leg->conn;

	if (c->state == CONN_DEAD)
		return;
	if (c->state == CONN_CLOSING) {
		if (conn_drained(c))
			conn_finish(c);
		return;
	}
	if (leg == &c->device)
		device_on_eof(c);
	else
		upstream_on_eof(c);
}
