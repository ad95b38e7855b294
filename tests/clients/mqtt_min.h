/*
 * mqtt_min.h: a tiny MQTT 3.1.1 encoder/decoder, plus the TLS-library-free
 * pieces both device emulators (bear_client, mbed_client) share: the
 * command line, a raw TLS record watcher, TCP and deadline helpers, and
 * the CONNECT/SUBSCRIBE/PUBLISH/echo session run over an abstract
 * transport. Nothing here links a TLS library.
 */
#ifndef TLSGW_TESTS_MQTT_MIN_H
#define TLSGW_TESTS_MQTT_MIN_H

#include <stddef.h>
#include <stdint.h>

/* ---- MQTT 3.1.1 codec ---------------------------------------------- */

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14
};

/* Largest remaining length MQTT can express (4 varint bytes). */
#define MQTT_MAX_REMAINING 268435455u

/* A growable byte buffer; `oom` sticks once an allocation failed. */
struct mqtt_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int oom;
};

void mqtt_buf_free(struct mqtt_buf *b);
int mqtt_buf_put(struct mqtt_buf *b, const void *p, size_t n);
void mqtt_buf_consume(struct mqtt_buf *b, size_t n);

struct mqtt_connect {
	const char *client_id;
	const char *username;   /* NULL: no username flag */
	const char *password;   /* NULL: no password flag */
	uint16_t keepalive;     /* seconds */
	int clean_session;
};

/* Encoders append one whole packet to `b`; 0 on success, -1 on error. */
int mqtt_enc_connect(struct mqtt_buf *b, const struct mqtt_connect *c);
int mqtt_enc_subscribe(struct mqtt_buf *b, uint16_t pid, const char *topic,
	uint8_t qos);
int mqtt_enc_publish(struct mqtt_buf *b, const char *topic, uint8_t qos,
	uint16_t pid, const uint8_t *payload, size_t len);
int mqtt_enc_puback(struct mqtt_buf *b, uint16_t pid);
int mqtt_enc_pingreq(struct mqtt_buf *b);
int mqtt_enc_disconnect(struct mqtt_buf *b);

/* Encode a remaining length; returns bytes written (1..4) or 0. */
size_t mqtt_varint_encode(uint32_t v, uint8_t out[4]);
/* Decode; returns bytes used, 0 if more input is needed, -1 if malformed. */
int mqtt_varint_decode(const uint8_t *p, size_t len, uint32_t *v);

/* One decoded packet; pointers point into the caller's buffer. */
struct mqtt_pkt {
	uint8_t type;
	uint8_t flags;          /* low nibble of the fixed header */
	size_t total;           /* fixed header + remaining length */
	const uint8_t *body;
	size_t body_len;
	uint8_t session_present;        /* CONNACK */
	uint8_t rc;                     /* CONNACK return code */
	uint16_t pid;                   /* PUBLISH (qos>0), PUBACK, SUBACK */
	uint8_t qos;                    /* PUBLISH */
	uint8_t dup;
	uint8_t retain;
	const uint8_t *topic;           /* PUBLISH */
	size_t topic_len;
	const uint8_t *payload;         /* PUBLISH */
	size_t payload_len;
	const uint8_t *codes;           /* SUBACK return codes */
	size_t ncodes;
};

#define MQTT_PARSE_OK 1
#define MQTT_PARSE_NEED 0
#define MQTT_PARSE_BAD (-1)

/* Parse the first packet in buf[0..len) (server-to-client types). */
int mqtt_parse(const uint8_t *buf, size_t len, struct mqtt_pkt *p);

/* Deterministic test payload: depends on seq and index, seq in front. */
void mqtt_payload_fill(uint8_t *p, size_t len, uint32_t seq);
/* Returns 1 when p[0..len) is exactly mqtt_payload_fill(len, seq). */
int mqtt_payload_check(const uint8_t *p, size_t len, uint32_t seq);

/* ---- raw TLS record watcher ----------------------------------------- */

/*
 * Fed with every byte the server sends, before the TLS stack sees it. It
 * tracks the largest record, flags records above the MFL we asked for,
 * and sniffs the plaintext part of the handshake (ServerHello, the
 * ECDHE group in ServerKeyExchange, alerts) independently of the stack.
 */
#define TLS_WATCH_HS_CAP 1024

struct tls_watch {
	unsigned mfl;           /* MFL requested; 0 = none */
	size_t limit;           /* largest record length allowed; 0 = none */
	size_t max_record;      /* largest record length seen */
	unsigned long records;
	int violation;          /* a record exceeded `limit` */
	size_t bad_len;
	uint8_t bad_type;
	int not_tls;            /* the stream stopped looking like TLS */
	int encrypted;          /* server ChangeCipherSpec seen */
	/* record framing */
	uint8_t hdr[5];
	size_t hdr_have;
	size_t body_left;
	uint8_t type;
	/* plaintext alert */
	uint8_t al[2];
	size_t al_have;
	int alert_level;        /* -1 when none seen */
	int alert_desc;
	/* plaintext handshake messages */
	uint8_t hs_hdr[4];
	size_t hs_hdr_have;
	size_t hs_left;
	uint8_t hs[TLS_WATCH_HS_CAP];
	size_t hs_have;
	/* results */
	int sh_seen;
	uint16_t sh_version;
	uint16_t sh_suite;
	int mfl_echo;           /* -1 none, else the code echoed (1..4) */
	int group;              /* ECDHE group from ServerKeyExchange, -1 */
};

void tls_watch_init(struct tls_watch *w, unsigned mfl);
void tls_watch_feed(struct tls_watch *w, const uint8_t *p, size_t n);
/* Overhead allowed above the MFL for one record (IV + MAC + padding). */
#define TLS_WATCH_MFL_SLACK 320

/* ---- shared command line and session -------------------------------- */

#define DEV_MAX_SUITES 128

struct dev_opts {
	const char *stack;      /* "bearssl" or "mbedtls" */
	const char *host;
	const char *port;
	const char *ca;
	const char *sni;        /* sent (and verified unless --verify-name) */
	const char *verify_name;
	int no_sni;
	const char *profile;
	int profile_idx;
	char topic[256];
	size_t payload_size;
	unsigned count;
	char client_id[128];
	const char *username;
	const char *password;
	unsigned timeout;       /* seconds, for every wait */
	unsigned keepalive;
	int handshake_only;
	uint16_t suites[DEV_MAX_SUITES];
	size_t nsuites;         /* 0: the profile's own */
	uint16_t min_version;   /* 0: the profile's own, else 0x0301.. */
	uint16_t max_version;
	int mfl;                /* -1: the profile's own, 0: none, else bytes */
	int debug;
};

/* Exit codes shared by both emulators. */
enum dev_exit {
	DEV_EXIT_OK = 0,
	DEV_EXIT_USAGE = 1,
	DEV_EXIT_HANDSHAKE = 2,
	DEV_EXIT_CONNACK = 3,
	DEV_EXIT_PUBACK = 4,
	DEV_EXIT_ECHO = 5,
	DEV_EXIT_TIMEOUT = 6,
	DEV_EXIT_MFL = 7
};

/* Transport results below zero (bytes otherwise). */
#define DEV_IO_EOF (-1)         /* peer closed (close_notify or TCP EOF) */
#define DEV_IO_TIMEOUT (-2)
#define DEV_IO_ERR (-3)         /* socket or TLS error */
#define DEV_IO_MFL (-4)         /* record watcher saw an oversized record */

/* Application-data transport over the device's TLS session. */
struct dev_io {
	void *ctx;
	/* Send all n bytes; 0 or DEV_IO_*. */
	int (*send)(void *ctx, const uint8_t *p, size_t n, int64_t deadline);
	/* Receive up to cap bytes; >0 bytes or DEV_IO_*. */
	int (*recv)(void *ctx, uint8_t *p, size_t cap, int64_t deadline);
	/* Stack error text for DEV_IO_ERR, written into buf. */
	void (*errtext)(void *ctx, char *buf, size_t len);
};

/* Outcome of a run, printed as the single key=value line. */
struct dev_result {
	int exit_code;
	const char *stage;      /* connect|handshake|connack|suback|puback|echo */
	char err[160];
	char version[16];       /* "TLS1.2" once the handshake finished */
	uint16_t suite;
	unsigned sent;
	unsigned acked;
	unsigned received;
};

int dev_opts_parse(struct dev_opts *o, int argc, char **argv,
	const char *stack, const char *const *profiles);
int dev_parse_hexlist(const char *s, uint16_t *out, size_t max, size_t *n);
int dev_parse_version(const char *s, uint16_t *out);
int64_t dev_now_ms(void);
int64_t dev_deadline(const struct dev_opts *o);
/* Wait for events on fd; 1 ready (revents set), 0 deadline, -1 error. */
int dev_wait_fd(int fd, short events, int64_t deadline, short *revents);
/* Non-blocking TCP connect with deadline; fd, or -1 (err filled). */
int dev_tcp_connect(const char *host, const char *port, int64_t deadline,
	char *err, size_t errlen, int *timed_out);
/* Replace blanks with '_' so a text is one key=value token. */
void dev_token(char *s);
/* Set result stage/err/exit for a transport failure in a given stage. */
void dev_fail_io(struct dev_result *r, const struct dev_io *io,
	const char *stage, int io_rc, int stage_exit);
/* CONNECT..DISCONNECT over io; fills r and returns the exit code. */
int dev_mqtt_session(const struct dev_io *io, const struct dev_opts *o,
	struct dev_result *r);
/* Print the one result line; returns r->exit_code. */
int dev_report(const struct dev_opts *o, const struct dev_result *r,
	const struct tls_watch *w);
const char *dev_version_name(uint16_t v);

#endif
