/*
 * legio.c: a leg's socket, its two events and the little it buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "conn.h"
#include "legio.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0          /* SIGPIPE is ignored anyway */
#endif

static void legio_read_cb(evutil_socket_t fd, short what, void *arg);
static void legio_write_cb(evutil_socket_t fd, short what, void *arg);

/* Drop n bytes from the front; an empty buffer gives its memory back. */
static void
legbuf_consume(struct legbuf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0) {
		free(b->data);
		b->data = NULL;
		b->off = 0;
		b->cap = 0;
	}
}

static int
legbuf_append(struct legbuf *b, const void *p, size_t n)
{
	size_t cap;
	unsigned char *d;

	if (b->off + b->len + n > b->cap && b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		cap = b->cap > 0 ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
	return 0;
}

/* A send or receive failed: keep the first error and make sure an
 * event reports it, whoever was calling. */
static void
legio_fail(struct leg *leg, int err)
{
	if (leg->sock_error == 0)
		leg->sock_error = err;
	if (leg->wev != NULL)
		event_active(leg->wev, EV_WRITE, 0);
}

static int
legio_events(struct leg *leg, struct event_base *base)
{
	leg->rev = event_new(base, leg->fd, EV_READ | EV_PERSIST,
	    legio_read_cb, leg);
	leg->wev = event_new(base, leg->fd, EV_WRITE | EV_PERSIST,
	    legio_write_cb, leg);
	return leg->rev != NULL && leg->wev != NULL ? 0 : -1;
}

int
legio_attach(struct leg *leg, struct event_base *base, evutil_socket_t fd)
{
	leg->fd = fd;
	return legio_events(leg, base);
}

int
legio_connect(struct leg *leg, struct event_base *base,
    const struct sockaddr *sa, socklen_t len)
{
	evutil_socket_t fd;

	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	leg->fd = fd;
	if (evutil_make_socket_nonblocking(fd) < 0 ||
	    evutil_make_socket_closeonexec(fd) < 0 ||
	    legio_events(leg, base) < 0)
		return -1;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS)
		return -1;
	/* Even a connect done at once is reported from the event. */
	leg->connecting = true;
	leg->writing = true;
	event_add(leg->wev, NULL);
	return 0;
}

void
legio_fill(struct leg *leg, size_t max)
{
	unsigned char buf[4096];
	size_t want;
	ssize_t n;

	while (leg->in.len < max && !leg->tcp_eof && leg->sock_error == 0) {
		want = max - leg->in.len;
		if (want > sizeof buf)
			want = sizeof buf;
		n = recv(leg->fd, buf, want, 0);
		if (n > 0) {
			if (legbuf_append(&leg->in, buf, (size_t)n) < 0) {
				legio_fail(leg, ENOMEM);
				return;
			}
			continue;
		}
		if (n == 0)
			leg->tcp_eof = true;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			legio_fail(leg, errno);
		return;
	}
}

const unsigned char *
legio_input(const struct leg *leg, size_t *len)
{
	*len = leg->in.len;
	return leg->in.data != NULL ? leg->in.data + leg->in.off : NULL;
}

/*
 * wolfSSL asks for a record header (5 bytes), then its body.  A small
 * request reads ahead instead, into the loop's scratch, and keeps the
 * rest: a small record (an MQTT message) then costs one recv, not
 * three.  A read shorter than asked means the socket was empty: the
 * next request says "none yet" without a syscall, until the read event
 * fires again (level-triggered, so nothing that arrives is missed).
 */
static ssize_t
legio_recv_socket(struct leg *leg, char *buf, size_t sz)
{
	unsigned char *ahead = leg->conn->gw->read_ahead;
	size_t want = sizeof leg->conn->gw->read_ahead;
	ssize_t r;

	if (sz >= want) {
		r = recv(leg->fd, buf, sz, 0);
		if (r >= 0 && (size_t)r < sz)
			leg->maybe_empty = true;
		return r;
	}
	r = recv(leg->fd, ahead, want, 0);
	if (r <= 0)
		return r;
	if ((size_t)r < want)
		leg->maybe_empty = true;
	if ((size_t)r > sz && legbuf_append(&leg->in, ahead + sz,
	    (size_t)r - sz) < 0) {
		legio_fail(leg, ENOMEM);
		return 0;
	}
	memcpy(buf, ahead, (size_t)r < sz ? (size_t)r : sz);
	return (size_t)r < sz ? r : (ssize_t)sz;
}

int
legio_recv(struct leg *leg, char *buf, int sz)
{
	size_t n;
	ssize_t r;

	if (leg->in.len > 0) {
		n = leg->in.len < (size_t)sz ? leg->in.len : (size_t)sz;
		memcpy(buf, leg->in.data + leg->in.off, n);
		legbuf_consume(&leg->in, n);
		return (int)n;
	}
	if (leg->sock_error != 0)
		return 0;
	if (leg->tcp_eof)
		return leg->eof_reported ? -1 : 0;
	if (leg->maybe_empty)
		return 0;
	for (;;) {
		r = legio_recv_socket(leg, buf, (size_t)sz);
		if (r > 0)
			return (int)r;
		if (r == 0 && leg->sock_error != 0)
			return 0;
		if (r == 0) {
			/* Reported from the read event, so that the stage
			 * code sees it as it saw libevent's EOF. */
			leg->tcp_eof = true;
			event_active(leg->rev, EV_READ, 0);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			legio_fail(leg, errno);
		return 0;
	}
}

/* Wait for writability while output is pending. */
static void
legio_want_write(struct leg *leg, bool on)
{
	if (on == leg->writing)
		return;
	leg->writing = on;
	if (on)
		event_add(leg->wev, NULL);
	else
		event_del(leg->wev);
}

int
legio_send(struct leg *leg, const char *buf, int sz)
{
	ssize_t n = 0;

	if (leg->sock_error != 0)
		return 0;       /* the connection is being torn down */
	if (leg->out.len == 0 && !leg->connecting) {
		do
			n = send(leg->fd, buf, (size_t)sz, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n == sz)
			return 0;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				legio_fail(leg, errno);
				return 0;
			}
			n = 0;
		}
	}
	if (legbuf_append(&leg->out, buf + n, (size_t)(sz - n)) < 0)
		return -1;
	legio_want_write(leg, true);
	return 0;
}

size_t
legio_pending(const struct leg *leg)
{
	return leg->out.len;
}

void
legio_want_read(struct leg *leg, bool on)
{
	if (leg->rev == NULL || on == leg->reading)
		return;
	leg->reading = on;
	if (on)
		event_add(leg->rev, NULL);
	else
		event_del(leg->rev);
}

void
legio_stop(struct leg *leg)
{
	if (leg->rev != NULL)
		event_del(leg->rev);
	if (leg->wev != NULL)
		event_del(leg->wev);
	leg->reading = false;
	leg->writing = false;
}

void
legio_shutdown_write(struct leg *leg)
{
	if (leg->fd >= 0 && leg->out.len == 0 && !leg->connecting)
		shutdown(leg->fd, SHUT_WR);
}

void
legio_free(struct leg *leg)
{
	legio_stop(leg);
	if (leg->rev != NULL)
		event_free(leg->rev);
	if (leg->wev != NULL)
		event_free(leg->wev);
	leg->rev = leg->wev = NULL;
	if (leg->fd >= 0)
		evutil_closesocket(leg->fd);
	leg->fd = -1;
	legbuf_consume(&leg->in, leg->in.len);
	legbuf_consume(&leg->out, leg->out.len);
	free(leg->in.data);
	free(leg->out.data);
	leg->in.data = leg->out.data = NULL;
}

static void
legio_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct leg *leg = arg;

	(void)fd;
	(void)what;
	leg->maybe_empty = false;
	conn_leg_readable(leg);
	if (leg->sock_error != 0) {
		conn_leg_error(leg, leg->sock_error);
		return;
	}
	if (leg->tcp_eof && !leg->eof_reported) {
		leg->eof_reported = true;
		conn_leg_eof(leg);
	}
	conn_sync_reads(leg->conn);
}

/* Send what is pending; -1 after a socket error was noted. */
static int
legio_flush(struct leg *leg)
{
	ssize_t n;

	while (leg->out.len > 0) {
		n = send(leg->fd, leg->out.data + leg->out.off, leg->out.len,
		    MSG_NOSIGNAL);
		if (n > 0) {
			legbuf_consume(&leg->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		legio_fail(leg, n < 0 ? errno : EPIPE);
		return -1;
	}
	return 0;
}

static void
legio_connect_done(struct leg *leg)
{
	int err = 0;
	socklen_t len = sizeof err;

	leg->connecting = false;
	if (getsockopt(leg->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (leg->out.len == 0)
		legio_want_write(leg, false);
	if (err != 0)
		conn_leg_connect_failed(leg, err);
	else
		conn_leg_connected(leg);
}

static void
legio_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct leg *leg = arg;
	size_t before = leg->out.len;

	(void)fd;
	(void)what;
	if (leg->sock_error == 0 && leg->connecting) {
		legio_connect_done(leg);
		conn_sync_reads(leg->conn);
		return;
	}
	if (leg->sock_error == 0)
		legio_flush(leg);
	if (leg->sock_error != 0) {
		legio_want_write(leg, false);
		conn_leg_error(leg, leg->sock_error);
		return;
	}
	if (leg->out.len == 0)
		legio_want_write(leg, false);
	if (leg->out.len < before || leg->out.len == 0)
		conn_leg_drained(leg);
	conn_sync_reads(leg->conn);
}
