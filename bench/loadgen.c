/*
 * loadgen.c: the benchmark's load client (OpenSSL, one epoll loop, one
 * thread).  Built by bench/run.sh with
 *   cc -O2 -o loadgen loadgen.c -lssl -lcrypto
 *
 * Modes (every mode is bounded in time and exits by itself):
 *
 *   idle   open --conns N TLS connections (at most --parallel in set-up at
 *          once), send MQTT CONNECT on each, wait for CONNACK, then print
 *          "READY ok=N fail=F secs=S" and keep them idle until SIGTERM or
 *          --hold seconds.  On exit prints "HOLD dropped=D" (connections
 *          the peer closed while they were held).
 *   hs     for --seconds T keep --parallel connections in flight, each a
 *          full handshake (no session cache, no tickets), then either
 *          close at once (--until handshake) or send CONNECT, wait for
 *          CONNACK, send DISCONNECT and close (--until connack).  Prints
 *          "DONE ok=N fail=F secs=S rate=R".
 *   lat    a plain-TCP subscriber (--sub-port, no TLS) and a publisher
 *          (--port, TLS unless --plain) on one topic; --count QoS 0
 *          publishes every --interval-us, each carrying its send time
 *          (CLOCK_MONOTONIC); prints "LAT n=.. lost=.. p50=.. p90=..
 *          p99=.. max=.. (us)".  With --ref-port P a second publisher
 *          speaks TLS 1.3 straight to the broker (SNI --ref-sni) and the
 *          two take turns (interval/2 apart), so both paths see the same
 *          machine load; a second line "REF n=.. p50=.." gives its
 *          figures and "DELTA p50=.. p99=.." the difference.
 *   tput   the same pair; the publisher writes --size-byte QoS 0
 *          publishes as fast as TLS lets it for --seconds; prints
 *          "TPUT pub_bytes=.. sub_bytes=.. secs=.. MBps=..".
 *
 * TLS options: --tls12 (TLS 1.2 only, the device leg) or --tls13 (TLS 1.3
 * only, straight to the broker), --cipher (TLS 1.2 suite list, picks the
 * RSA or the ECDSA certificate), --groups (default P-256), --sni NAME.
 * The client does not verify the server: this costs the client nothing it
 * should not, and the servers' work is the same.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum mode { M_IDLE, M_HS, M_LAT, M_TPUT };
enum st { S_TCP, S_TLS, S_CONNACK, S_SUBACK, S_READY, S_DEAD };

struct cn {
	int fd;
	SSL *ssl;                /* NULL: plain TCP */
	enum st st;
	int role;                /* 0 load, 1 publisher, 2 subscriber */
	unsigned char rbuf[8192];
	size_t rlen;
};

static struct {
	enum mode mode;
	const char *host;
	int port;
	int sub_port;
	int tlsv;                /* 12 or 13 */
	int plain;
	const char *cipher;
	const char *groups;
	const char *sni;
	int conns;
	int parallel;
	double seconds;
	double hold;
	const char *until;
	int count;
	int interval_us;
	int size;
	int warmup;
	const char *tag;
	int ref_port;
	const char *ref_sni;
} o = {
	.host = "127.0.0.1", .tlsv = 12, .groups = "P-256", .conns = 100,
	.parallel = 16, .seconds = 5, .hold = 600, .until = "handshake",
	.count = 1000, .interval_us = 2000, .size = 32768, .warmup = 50,
	.tag = "lg", .ref_sni = "broker.demo.lan",
};

static SSL_CTX *ctx, *ref_ctx;
static int ep;
static volatile sig_atomic_t stop;
static unsigned long idseq;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	exit(2);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- MQTT 3.1.1, the few packets we need ------------------------- */

static size_t
mqtt_varint(unsigned char *p, size_t v)
{
	size_t n = 0;

	do {
		unsigned char b = v % 128;

		v /= 128;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

static size_t
mqtt_connect(unsigned char *p, const char *id)
{
	size_t idl = strlen(id), rl = 10 + 2 + idl, n = 0;

	p[n++] = 0x10;
	n += mqtt_varint(p + n, rl);
	memcpy(p + n, "\0\4MQTT\4\2\0\0", 10);      /* clean, keepalive 0 */
	n += 10;
	p[n++] = (unsigned char)(idl >> 8);
	p[n++] = (unsigned char)idl;
	memcpy(p + n, id, idl);
	return n + idl;
}

static size_t
mqtt_subscribe(unsigned char *p, const char *topic)
{
	size_t tl = strlen(topic), n = 0;

	p[n++] = 0x82;
	n += mqtt_varint(p + n, 2 + 2 + tl + 1);
	p[n++] = 0;
	p[n++] = 1;
	p[n++] = (unsigned char)(tl >> 8);
	p[n++] = (unsigned char)tl;
	memcpy(p + n, topic, tl);
	n += tl;
	p[n++] = 0;
	return n;
}

/* Header of a QoS 0 PUBLISH with plen payload bytes. */
static size_t
mqtt_publish_hdr(unsigned char *p, const char *topic, size_t plen)
{
	size_t tl = strlen(topic), n = 0;

	p[n++] = 0x30;
	n += mqtt_varint(p + n, 2 + tl + plen);
	p[n++] = (unsigned char)(tl >> 8);
	p[n++] = (unsigned char)tl;
	memcpy(p + n, topic, tl);
	return n + tl;
}

/* Length of the first complete packet in buf (0: incomplete). */
static size_t
mqtt_packet_len(const unsigned char *b, size_t len, size_t *hdr,
    size_t *rl)
{
	size_t v = 0, mul = 1, i;

	for (i = 1; i < len && i <= 4; i++) {
		v += (size_t)(b[i] & 0x7f) * mul;
		mul *= 128;
		if (!(b[i] & 0x80)) {
			*hdr = i + 1;
			*rl = v;
			return len >= i + 1 + v ? i + 1 + v : 0;
		}
	}
	return 0;
}

/* ---- sockets and TLS --------------------------------------------- */

static void
ep_set(struct cn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

static struct cn *
cn_open(int port, int tls, int role)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct cn *c = calloc(1, sizeof *c);
	int one = 1;

	if (c == NULL)
		die("out of memory");
	c->role = role;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, o.host, &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (void *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		close(c->fd);
		free(c);
		return NULL;
	}
	if (tls == 2) {
		/* The reference publisher: TLS 1.3 straight to the broker. */
		c->ssl = SSL_new(ref_ctx);
		SSL_set_fd(c->ssl, c->fd);
		SSL_set_tlsext_host_name(c->ssl, o.ref_sni);
	} else if (tls) {
		c->ssl = SSL_new(ctx);
		SSL_set_fd(c->ssl, c->fd);
		if (o.sni != NULL)
			SSL_set_tlsext_host_name(c->ssl, o.sni);
	}
	c->st = S_TCP;
	ep_set(c, EPOLLOUT);
	return c;
}

static void
cn_free(struct cn *c)
{
	if (c->ssl != NULL) {
		if (c->st == S_READY || c->st == S_CONNACK)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Write all n bytes (small packets on a fresh socket): 0 or -1. */
static int
cn_write(struct cn *c, const void *p, size_t n)
{
	if (c->ssl == NULL)
		return write(c->fd, p, n) == (ssize_t)n ? 0 : -1;
	return SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
}

/* Read what is there into rbuf: >0 read, 0 nothing yet, -1 closed. */
static int
cn_read(struct cn *c)
{
	int total = 0;

	for (;;) {
		size_t room = sizeof c->rbuf - c->rlen;
		int n;

		if (room == 0)
			return total;
		if (c->ssl != NULL) {
			n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)room);
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, n);

				if (e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE)
					return total;
				return -1;
			}
		} else {
			n = (int)read(c->fd, c->rbuf + c->rlen, room);
			if (n == 0)
				return -1;
			if (n < 0)
				return errno == EAGAIN ? total : -1;
		}
		c->rlen += (size_t)n;
		total += n;
	}
}

static void
cn_consume(struct cn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
}

static void
send_connect(struct cn *c)
{
	unsigned char p[128];
	char id[64];

	snprintf(id, sizeof id, "%s-%ld-%lu", o.tag, (long)getpid(), ++idseq);
	if (cn_write(c, p, mqtt_connect(p, id)) < 0)
		c->st = S_DEAD;
	else
		c->st = S_CONNACK;
}

/*
 * Drive a connection's set-up.  Returns 1 when it reached a milestone the
 * mode cares about (handshake done in hs/handshake, CONNACK or SUBACK
 * otherwise), -1 on failure, 0 to wait.
 */
static int
cn_step(struct cn *c, const char *topic)
{
	unsigned char p[256];
	int r, err;
	socklen_t el = sizeof err;
	size_t hdr, rl, len;

	switch (c->st) {
	case S_TCP:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ||
		    err != 0)
			return -1;
		if (c->ssl == NULL) {
			ep_set(c, EPOLLIN);
			send_connect(c);
			return c->st == S_DEAD ? -1 : 0;
		}
		c->st = S_TLS;
		/* fall through */
	case S_TLS:
		r = SSL_connect(c->ssl);
		if (r == 1) {
			ep_set(c, EPOLLIN);
			if (o.mode == M_HS && strcmp(o.until, "handshake") == 0) {
				c->st = S_READY;
				return 1;
			}
			send_connect(c);
			return c->st == S_DEAD ? -1 : 0;
		}
		err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ) {
			ep_set(c, EPOLLIN);
			return 0;
		}
		if (err == SSL_ERROR_WANT_WRITE) {
			ep_set(c, EPOLLOUT);
			return 0;
		}
		return -1;
	case S_CONNACK:
	case S_SUBACK:
		if (cn_read(c) < 0)
			return -1;
		len = mqtt_packet_len(c->rbuf, c->rlen, &hdr, &rl);
		if (len == 0)
			return 0;
		if (c->st == S_CONNACK) {
			if (c->rbuf[0] != 0x20 || len < 4 || c->rbuf[3] != 0)
				return -1;
			cn_consume(c, len);
			if (c->role == 2) {
				if (cn_write(c, p, mqtt_subscribe(p, topic)) < 0)
					return -1;
				c->st = S_SUBACK;
				return cn_step(c, topic);
			}
		} else {
			if (c->rbuf[0] != 0x90)
				return -1;
			cn_consume(c, len);
		}
		c->st = S_READY;
		return 1;
	default:
		return 0;
	}
}

/* ---- modes ------------------------------------------------------- */

static int
mode_idle(void)
{
	struct epoll_event ev[256];
	int started = 0, ready = 0, fail = 0, inflight = 0, dropped = 0;
	uint64_t t0 = now_ns(), deadline;
	int n, i, printed = 0;

	deadline = t0 + (uint64_t)(o.hold * 1e9);
	while (!stop && now_ns() < deadline) {
		while (!printed && inflight < o.parallel &&
		    started - fail < o.conns && fail < o.conns) {
			struct cn *c = cn_open(o.port, !o.plain, 0);

			started++;
			if (c == NULL) {
				fail++;
				continue;
			}
			inflight++;
		}
		if (!printed && ready == o.conns) {
			printf("READY ok=%d fail=%d secs=%.2f\n", ready, fail,
			    (double)(now_ns() - t0) / 1e9);
			fflush(stdout);
			printed = 1;
		}
		if (!printed && fail >= o.conns) {
			printf("READY ok=%d fail=%d secs=%.2f (gave up)\n",
			    ready, fail, (double)(now_ns() - t0) / 1e9);
			fflush(stdout);
			printed = 1;
		}
		n = epoll_wait(ep, ev, 256, 200);
		for (i = 0; i < n; i++) {
			struct cn *c = ev[i].data.ptr;
			int r;

			if (c->st == S_READY) {
				/* A held connection: the peer should say
				 * nothing; EOF or data means it closed us. */
				if (cn_read(c) < 0) {
					dropped++;
					c->st = S_DEAD;
					cn_free(c);
				} else {
					c->rlen = 0;
				}
				continue;
			}
			r = cn_step(c, NULL);
			if (r == 0)
				continue;
			inflight--;
			if (r > 0) {
				ready++;
			} else {
				fail++;
				cn_free(c);
			}
		}
	}
	if (!printed)
		printf("READY ok=%d fail=%d secs=%.2f (timeout)\n", ready, fail,
		    (double)(now_ns() - t0) / 1e9);
	printf("HOLD dropped=%d\n", dropped);
	fflush(stdout);
	/* Exit closes every socket at once. */
	return 0;
}

static int
mode_hs(void)
{
	struct epoll_event ev[256];
	int inflight = 0, ok = 0, fail = 0, n, i;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o.seconds * 1e9);
	uint64_t hard = end + 10000000000ull, t1;
	unsigned char disc[2] = { 0xe0, 0 };

	for (;;) {
		uint64_t t = now_ns();

		if (stop || t >= hard)
			break;
		while (t < end && inflight < o.parallel) {
			if (cn_open(o.port, 1, 0) == NULL)
				fail++;
			else
				inflight++;
		}
		if (t >= end && inflight == 0)
			break;
		n = epoll_wait(ep, ev, 256, 100);
		for (i = 0; i < n; i++) {
			struct cn *c = ev[i].data.ptr;
			int r = cn_step(c, NULL);

			if (r == 0)
				continue;
			inflight--;
			if (r > 0) {
				ok++;
				if (c->ssl != NULL && strcmp(o.until, "connack") == 0)
					cn_write(c, disc, sizeof disc);
			} else {
				fail++;
				c->st = S_DEAD;
			}
			cn_free(c);
		}
	}
	t1 = now_ns();
	printf("DONE ok=%d fail=%d secs=%.3f rate=%.1f inflight_left=%d\n", ok,
	    fail, (double)(t1 - t0) / 1e9, ok / ((double)(t1 - t0) / 1e9),
	    inflight);
	return 0;
}

static int pair_setup_ref(struct cn **pub, struct cn **sub, struct cn **ref,
    const char *topic);

/* Connect a subscriber (plain) and a publisher (and the reference
 * publisher); run the loop until all are ready.  Returns 0 or -1. */
static int
pair_setup(struct cn **pub, struct cn **sub, const char *topic)
{
	return pair_setup_ref(pub, sub, NULL, topic);
}

static int
pair_setup_ref(struct cn **pub, struct cn **sub, struct cn **ref,
    const char *topic)
{
	struct epoll_event ev[8];
	uint64_t end = now_ns() + 10000000000ull;
	int ready = 0, want = ref != NULL ? 3 : 2, n, i;

	*sub = cn_open(o.sub_port, 0, 2);
	*pub = cn_open(o.port, !o.plain, 1);
	if (*sub == NULL || *pub == NULL)
		return -1;
	if (ref != NULL && (*ref = cn_open(o.ref_port, 2, 1)) == NULL)
		return -1;
	while (ready < want && now_ns() < end && !stop) {
		n = epoll_wait(ep, ev, 8, 100);
		for (i = 0; i < n; i++) {
			struct cn *c = ev[i].data.ptr;
			int r;

			if (c->st == S_READY)
				continue;
			r = cn_step(c, topic);
			if (r < 0)
				return -1;
			ready += r;
		}
	}
	return ready == want ? 0 : -1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
lat_print(const char *what, uint64_t *lat, int got)
{
	qsort(lat, (size_t)got, sizeof *lat, cmp_u64);
	if (got == 0) {
		printf("%s n=0 lost=%d\n", what, o.count);
		return;
	}
	printf("%s n=%d lost=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f\n", what,
	    got, o.count - got, lat[got / 2] / 1e3, lat[got * 9 / 10] / 1e3,
	    lat[got * 99 / 100] / 1e3, lat[got - 1] / 1e3);
}

static int
mode_lat(void)
{
	struct cn *pub, *sub, *ref = NULL;
	char topic[64];
	unsigned char pkt[4096], *pl;
	size_t hdr, total;
	uint64_t *lat, *rlat, next, end, step;
	int sent = 0, got = 0, rgot = 0, n, i, paths = o.ref_port ? 2 : 1;
	struct epoll_event ev[8];
	size_t psize = o.size < 17 ? 17 : (size_t)o.size;

	if (psize > 2048)
		psize = 2048;
	snprintf(topic, sizeof topic, "bench/lat/%ld", (long)getpid());
	if (pair_setup_ref(&pub, &sub, o.ref_port ? &ref : NULL, topic) < 0)
		die("lat: publisher or subscriber set-up failed");
	lat = calloc((size_t)o.count, sizeof *lat);
	rlat = calloc((size_t)o.count, sizeof *rlat);
	hdr = mqtt_publish_hdr(pkt, topic, psize);
	pl = pkt + hdr;
	memset(pl, 'x', psize);
	total = hdr + psize;
	usleep(100000);
	/* With a reference path the two publishers take turns, each at
	 * one message per interval. */
	step = (uint64_t)o.interval_us * 1000u / (uint64_t)paths;
	next = now_ns();
	end = next + (uint64_t)(o.count + o.warmup) * (uint64_t)o.interval_us *
	    1000u + 5000000000ull;
	while (!stop && now_ns() < end &&
	    (got < o.count || (ref != NULL && rgot < o.count))) {
		uint64_t t = now_ns();
		int wait_ms;

		if (sent < (o.count + o.warmup) * paths && t >= next) {
			uint64_t seq = (uint64_t)(sent / paths);
			struct cn *via = (sent % paths) ? ref : pub;

			memcpy(pl, &seq, 8);
			pl[16] = (unsigned char)(sent % paths);
			t = now_ns();
			memcpy(pl + 8, &t, 8);
			if (cn_write(via, pkt, total) < 0)
				die("lat: publish failed");
			sent++;
			next += step;
			continue;
		}
		/* Round up: never spin (the machine is shared), send at most
		 * a millisecond late (the timestamp is taken at the send). */
		wait_ms = sent < (o.count + o.warmup) * paths ?
		    (int)((next > t ? next - t + 999999u : 0) / 1000000u) : 100;
		n = epoll_wait(ep, ev, 8, wait_ms);
		for (i = 0; i < n; i++) {
			struct cn *c = ev[i].data.ptr;
			size_t h, rl, len;

			if (cn_read(c) < 0)
				die("lat: a connection closed");
			if (c != sub) {
				c->rlen = 0;
				continue;
			}
			while ((len = mqtt_packet_len(c->rbuf, c->rlen, &h,
			    &rl)) > 0) {
				uint64_t seq, ts, tn = now_ns();
				size_t tl = ((size_t)c->rbuf[h] << 8) |
				    c->rbuf[h + 1];
				const unsigned char *q = c->rbuf + h + 2 + tl;

				if ((c->rbuf[0] & 0xf0) == 0x30 && rl >= 2 + tl + 17) {
					memcpy(&seq, q, 8);
					memcpy(&ts, q + 8, 8);
					if (seq < (uint64_t)o.warmup)
						;
					else if (q[16] == 0 && got < o.count)
						lat[got++] = tn - ts;
					else if (q[16] == 1 && rgot < o.count)
						rlat[rgot++] = tn - ts;
				}
				cn_consume(c, len);
			}
		}
	}
	if (got == 0)
		die("lat: no message arrived");
	lat_print("LAT", lat, got);
	if (ref != NULL && rgot > 0) {
		lat_print("REF", rlat, rgot);
		printf("DELTA p50=%.1f p99=%.1f\n",
		    ((double)lat[got / 2] - (double)rlat[rgot / 2]) / 1e3,
		    ((double)lat[got * 99 / 100] -
		    (double)rlat[rgot * 99 / 100]) / 1e3);
		cn_free(ref);
	}
	cn_free(pub);
	cn_free(sub);
	return 0;
}

static int
mode_tput(void)
{
	struct cn *pub, *sub;
	char topic[64];
	unsigned char *pkt;
	size_t hdr, total, off = 0;
	uint64_t pub_bytes = 0, sub_bytes = 0, t0, end, drain_end, tlast;
	struct epoll_event ev[8];
	int n, i, publishing = 1;

	snprintf(topic, sizeof topic, "bench/tput/%ld", (long)getpid());
	if (pair_setup(&pub, &sub, topic) < 0)
		die("tput: publisher or subscriber set-up failed");
	pkt = malloc((size_t)o.size + 64);
	hdr = mqtt_publish_hdr(pkt, topic, (size_t)o.size);
	memset(pkt + hdr, 'y', (size_t)o.size);
	total = hdr + (size_t)o.size;
	if (pub->ssl != NULL)
		SSL_set_mode(pub->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	ep_set(pub, EPOLLIN | EPOLLOUT);
	usleep(100000);
	t0 = tlast = now_ns();
	end = t0 + (uint64_t)(o.seconds * 1e9);
	drain_end = end + 5000000000ull;
	while (!stop) {
		uint64_t t = now_ns();

		if (publishing && t >= end) {
			publishing = 0;
			ep_set(pub, EPOLLIN);
		}
		if (!publishing && (sub_bytes >= pub_bytes || t >= drain_end))
			break;
		n = epoll_wait(ep, ev, 8, 50);
		for (i = 0; i < n; i++) {
			struct cn *c = ev[i].data.ptr;

			if (c == sub) {
				ssize_t r;
				unsigned char buf[65536];

				while ((r = read(sub->fd, buf, sizeof buf)) > 0) {
					sub_bytes += (uint64_t)r;
					tlast = now_ns();
				}
				if (r == 0)
					die("tput: subscriber closed");
				continue;
			}
			if (publishing && (ev[i].events & EPOLLOUT)) {
				int k;

				for (k = 0; k < 64 && publishing; k++) {
					int w;

					if (pub->ssl == NULL) {
						w = (int)write(pub->fd, pkt + off,
						    total - off);
						if (w < 0)
							break;
					} else {
						w = SSL_write(pub->ssl, pkt + off,
						    (int)(total - off));
						if (w <= 0) {
							int e = SSL_get_error(pub->ssl, w);

							if (e == SSL_ERROR_WANT_WRITE ||
							    e == SSL_ERROR_WANT_READ)
								break;
							die("tput: publish failed");
						}
					}
					off += (size_t)w;
					if (off == total) {
						pub_bytes += total;
						off = 0;
					}
				}
			}
			if (ev[i].events & EPOLLIN) {
				if (cn_read(pub) < 0)
					die("tput: publisher closed");
				pub->rlen = 0;
			}
		}
	}
	{
		double secs = (double)(tlast - t0) / 1e9;

		printf("TPUT pub_bytes=%llu sub_bytes=%llu secs=%.3f MBps=%.2f "
		    "msg_size=%d\n", (unsigned long long)pub_bytes,
		    (unsigned long long)sub_bytes, secs,
		    secs > 0 ? (double)sub_bytes / secs / 1e6 : 0.0, o.size);
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen idle|hs|lat|tput --port P [--host IP] [--tls12|--tls13|--plain]\n"
	    "         [--cipher LIST] [--groups LIST] [--sni NAME] [--conns N]\n"
	    "         [--parallel K] [--seconds T] [--hold T] [--until handshake|connack]\n"
	    "         [--sub-port P] [--count N] [--interval-us U] [--size B]\n"
	    "         [--warmup N] [--tag TEXT] [--ref-port P] [--ref-sni NAME]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, 0, 'H' }, { "port", 1, 0, 'p' },
		{ "sub-port", 1, 0, 'S' }, { "tls12", 0, 0, '2' },
		{ "tls13", 0, 0, '3' }, { "plain", 0, 0, 'P' },
		{ "cipher", 1, 0, 'c' }, { "groups", 1, 0, 'g' },
		{ "sni", 1, 0, 'n' }, { "conns", 1, 0, 'N' },
		{ "parallel", 1, 0, 'k' }, { "seconds", 1, 0, 't' },
		{ "hold", 1, 0, 'h' }, { "until", 1, 0, 'u' },
		{ "count", 1, 0, 'C' }, { "interval-us", 1, 0, 'i' },
		{ "size", 1, 0, 's' }, { "warmup", 1, 0, 'w' },
		{ "tag", 1, 0, 'T' }, { "ref-port", 1, 0, 'R' },
		{ "ref-sni", 1, 0, 'r' }, { 0, 0, 0, 0 },
	};
	struct sigaction sa;
	int ch;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "idle") == 0)
		o.mode = M_IDLE;
	else if (strcmp(argv[1], "hs") == 0)
		o.mode = M_HS;
	else if (strcmp(argv[1], "lat") == 0)
		o.mode = M_LAT;
	else if (strcmp(argv[1], "tput") == 0)
		o.mode = M_TPUT;
	else
		usage();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'S': o.sub_port = atoi(optarg); break;
		case '2': o.tlsv = 12; break;
		case '3': o.tlsv = 13; break;
		case 'P': o.plain = 1; break;
		case 'c': o.cipher = optarg; break;
		case 'g': o.groups = optarg; break;
		case 'n': o.sni = optarg; break;
		case 'N': o.conns = atoi(optarg); break;
		case 'k': o.parallel = atoi(optarg); break;
		case 't': o.seconds = atof(optarg); break;
		case 'h': o.hold = atof(optarg); break;
		case 'u': o.until = optarg; break;
		case 'C': o.count = atoi(optarg); break;
		case 'i': o.interval_us = atoi(optarg); break;
		case 's': o.size = atoi(optarg); break;
		case 'w': o.warmup = atoi(optarg); break;
		case 'T': o.tag = optarg; break;
		case 'R': o.ref_port = atoi(optarg); break;
		case 'r': o.ref_sni = optarg; break;
		default: usage();
		}
	}
	if (o.port <= 0)
		usage();
	if ((o.mode == M_LAT || o.mode == M_TPUT) && o.sub_port <= 0)
		usage();
	if (o.mode == M_HS && o.plain)
		die("hs needs TLS");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Every handshake is a full one. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (o.tlsv == 12) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	} else {
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	}
	if (o.cipher != NULL && SSL_CTX_set_cipher_list(ctx, o.cipher) != 1)
		die("bad --cipher");
	if (o.groups != NULL && SSL_CTX_set1_groups_list(ctx, o.groups) != 1)
		die("bad --groups");
	ref_ctx = SSL_CTX_new(TLS_client_method());
	if (ref_ctx == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_verify(ref_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ref_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_min_proto_version(ref_ctx, TLS1_3_VERSION);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1 failed");
	switch (o.mode) {
	case M_IDLE: return mode_idle();
	case M_HS: return mode_hs();
	case M_LAT: return mode_lat();
	case M_TPUT: return mode_tput();
	}
	return 2;
}
