/*
 * conn.h: one device connection and its two legs.
 *
 * A connection owns both legs.  Each leg is a socket with a read and a
 * write event (legio.c) plus a wolfSSL session whose I/O callbacks
 * (tlsio.c) receive and send on that socket directly, buffering only
 * what the socket will not take yet.  The life of a connection is split
 * over files by stage:
 *   listener.c  accept
 *   device.c    ClientHello peek, policy and certificate choice, device
 *               handshake and its failure explanation
 *   upstream.c  resolve, connect and verified TLS 1.3 to the broker
 *   relay.c     application data both ways with backpressure, half-close
 *   conn.c      state changes, timers, teardown and the summary line
 */
#ifndef TLSGW_CONN_H
#define TLSGW_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include <event2/event.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "certsel.h"
#include "clienthello.h"
#include "admit.h"
#include "policy.h"
#include "shared.h"
#include "tickets.h"

struct listener;

/* A loaded configuration, shared by the connections started under it:
 * a reload swaps gw->cfg, and the old one lives on until its last
 * connection ends (reload.c). */
struct config {
	struct gateway_conf *conf;
	struct ticket_cache *tickets;    /* one per policy, same order */
	unsigned *policy_conns;          /* live connections per policy */
	struct shared_count **policy_shared; /* the same, all workers */
	unsigned refs;
};

/* Process-wide state of one event loop. */
struct gateway {
	struct event_base *base;
	const char *config_path;
	struct config *cfg;              /* the running configuration */
	struct shared *shared;           /* counts all workers see */
	unsigned worker;                 /* 0.. nworkers - 1 */
	unsigned nworkers;               /* processes serving the ports */
	struct listener **listeners;
	size_t nlisteners;
	struct conn *conns;              /* every live connection */
	struct limits limits;            /* per device address */
	struct event *limits_flush;      /* logs refusals left unlogged */
	unsigned nconns;
	bool stopping;
	unsigned char relay_buf[16384];  /* plaintext scratch for relay.c */
	unsigned char read_ahead[2048];  /* legio.c's small reads */
};

enum conn_state {
	CONN_HELLO,      /* waiting for the device's ClientHello */
	CONN_HANDSHAKE,  /* device handshake and upstream leg in parallel */
	CONN_RELAY,      /* both legs open: moving application data */
	CONN_CLOSING,    /* flushing close_notify and queued output */
	CONN_DEAD,       /* freed on the next loop turn */
};

/* Bytes held for a socket; no memory while empty. */
struct legbuf {
	unsigned char *data;
	size_t off, len, cap;
};

struct leg {
	struct conn *conn;
	struct leg *peer;
	const char *name;            /* "device" or "upstream" */
	evutil_socket_t fd;          /* -1 until the upstream connects */
	struct event *rev, *wev;     /* readable, writable (legio.c) */
	struct legbuf in;            /* device hello bytes before wolfSSL */
	struct legbuf out;           /* TLS bytes the socket did not take */
	int sock_error;              /* first send/recv error, 0 if none */
	bool reading;                /* rev is pending */
	bool writing;                /* wev is pending */
	bool connecting;             /* upstream connect in progress */
	bool eof_reported;           /* conn_leg_eof ran */
	bool maybe_empty;            /* the last read drained the socket */
	WOLFSSL *ssl;
	bool connected;              /* TCP up (always true for the device) */
	bool open;                   /* TLS handshake finished */
	bool tcp_eof;                /* the socket said EOF */
	bool read_closed;            /* no more application data will come */
	bool write_closed;           /* we sent close_notify and SHUT_WR */
	bool paused;                 /* reading stopped by backpressure */
	uint64_t bytes;              /* application bytes read from this leg */
};

struct conn {
	struct conn *prev, *next;    /* in gw->conns */
	struct gateway *gw;
	struct config *cfg;          /* held until the connection ends */
	struct listener *listener;   /* held until the connection ends */
	struct source *source;       /* admission record of the address */
	unsigned *policy_slot;       /* counted in cfg->policy_conns */
	struct shared_count *policy_count; /* or in this shared count */
	char peer[64];               /* "ip:port" of the device */
	enum conn_state state;
	const struct policy *policy;
	struct client_hello *hello;  /* only until the device handshake ends */
	enum cert_kind cert;
	uint8_t mfl;                 /* MFL code the device asked for */
	char *sni;                   /* as sent by the device, NULL if none */
	struct leg device;
	struct leg upstream;
	struct event *timer;         /* handshake, idle and drain deadlines */
	struct timeval started;
	struct timeval last_active;
	const char *close_reason;
	bool summary_logged;
	bool ticket_arrived;         /* the broker sent a session ticket */
	bool ticket_collected;       /* upstream ticket kept for reuse */
	bool inspecting;             /* [mqtt] inspect: CONNECT not yet seen */
	struct evbuffer *mqtt_in;    /* device bytes of a partial CONNECT */
	char *identity;              /* device certificate CN, if any */
	unsigned char *peer_der;     /* its certificate until checked */
	size_t peer_der_len;
};

/* reload.c */
struct config *config_new(struct gateway_conf *conf, struct shared *sh);
struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);
/* The ticket cache of a policy of cfg. */
struct ticket_cache *config_tickets(struct config *cfg,
    const struct policy *p);
/* Count a connection against its policy's max_connections; false (and
 * nothing counted) when the policy is full. */
bool config_take_slot(struct config *cfg, struct conn *c);
/* Give back what config_take_slot counted for c. */
void config_put_slot(struct conn *c);
/* Start serving conf (first start); -1 when a listener fails. */
int gateway_start(struct gateway *gw, struct gateway_conf *conf);
/* SIGHUP: load everything anew, swap on full success only. */
void gateway_reload(struct gateway *gw);

/* The configuration a connection lives under. */
static inline const struct gateway_conf *
conn_conf(const struct conn *c)
{
	return c->cfg->conf;
}

/* Create a connection for an accepted device socket; takes the fd. */
struct conn *conn_new(struct gateway *gw, struct listener *l, int fd,
    const struct sockaddr *sa, int salen, struct source *src);

/* Move to a new state (logged at debug level) and set its deadline. */
void conn_set_state(struct conn *c, enum conn_state state);

/* Both legs open: start relaying. */
void conn_both_open(struct conn *c);

/* Begin an orderly close: close_notify to open legs, flush, then free. */
void conn_close(struct conn *c, const char *reason);

/* Tear down at once (protocol error, reset): no flushing. */
void conn_abort(struct conn *c, const char *reason);

/* Close every connection (stop); conn_free_all frees what remains
 * once the loop has ended. */
void conn_close_all(struct gateway *gw, const char *reason);
void conn_free_all(struct gateway *gw);

/* Note activity for the idle timeout. */
void conn_touch(struct conn *c);

/* Log a line prefixed with the device address. */
void conn_log(const struct conn *c, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Leg helpers shared by the stage files. */
void leg_set_tls(struct leg *leg, WOLFSSL *ssl);
size_t leg_output_len(const struct leg *leg);
/* "TLS1.2"-style name of the leg's negotiated version, "-" if none. */
const char *leg_version(const struct leg *leg);
/* IANA name of the leg's negotiated suite, "-" if none. */
const char *leg_suite(const struct leg *leg, char *buf, size_t len);
uint16_t leg_suite_code(const struct leg *leg);

/* device.c */
void device_on_read(struct conn *c);
void device_on_eof(struct conn *c);

/* Set TCP_NODELAY on a leg's socket. */
void conn_nodelay(evutil_socket_t fd);

/* Socket events of a leg (legio.c calls these). */
void conn_leg_readable(struct leg *leg);
void conn_leg_drained(struct leg *leg);
void conn_leg_eof(struct leg *leg);
void conn_leg_error(struct leg *leg, int err);
void conn_leg_connected(struct leg *leg);
void conn_leg_connect_failed(struct leg *leg, int err);
/* Turn each leg's reading on or off as its stage needs. */
void conn_sync_reads(struct conn *c);

/* upstream.c */
void upstream_start(struct conn *c);
void upstream_on_connected(struct conn *c);
void upstream_on_connect_error(struct conn *c, int err);
void upstream_on_read(struct conn *c);
void upstream_on_eof(struct conn *c);
/* The broker's ticket arrives after the handshake, with data: take it
 * once it is there. */
void upstream_keep_ticket(struct conn *c);

/* relay.c */
void relay_pump(struct leg *from);
void relay_on_drained(struct leg *leg);
void relay_on_eof(struct leg *leg);
/* Encrypt and queue n bytes on a leg; -1 (connection closing) on error. */
int relay_send(struct leg *to, const uint8_t *buf, size_t n);

#endif
