/*
 * ta_client.c: a Tasmota-like BearSSL client that trusts only the
 * anchors compiled in from a header `tlsgw pki device` wrote (the
 * `brssl ta` layout), and can present a client certificate given the
 * way Tasmota stores it: TLSKey1 = the raw P-256 scalar, TLSKey2 = the
 * DER certificate.  It proves the header compiles and that its anchors
 * validate the gateway's chains, with BearSSL's own X.509 engine.
 *
 * Build (the header is made at test time, so the test compiles this):
 *   cc -DTA_HEADER='"/path/trust_anchors.h"' -Itests/clients \
 *      tests/clients/ta_client.c tests/clients/mqtt_min.c -lbearssl
 *
 *   ta_client --host H --port P --name NAME [--profile P] [--topic T]
 *             [--client-key RAW32 --client-cert DER] [--timeout S]
 *   ta_client --fingerprint CERT.der
 *
 * Profiles, as Tasmota's tls_mini configures BearSSL:
 *   tasmota-esp8266 (default)  TLS 1.2, C02F only, RSA chains only
 *   tasmota-esp32              also C02B and ECDSA chains
 * Both use 1 KB buffers, so they ask for MFL 1024.
 *
 * --fingerprint prints Tasmota's public-key fingerprints of a DER
 * certificate, computed as Tasmota does (BearSSL decoder, then SHA-1):
 *   v2 <hex>   length-prefixed "ssh-rsa", e, n  (Tasmota 8.4+)
 *   v1 <hex>   the same without lengths         (6.5.0.15 - 8.3)
 *
 * Prints one line: "ok version=TLS1.2 suite=0xC02F" or
 * "fail stage=... err=...".  Exit 0 on success, 1 usage, 2 TLS, 3 MQTT.
 */
#include <bearssl.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mqtt_min.h"

#ifndef TA_HEADER
#error "compile with -DTA_HEADER='\"path/trust_anchors.h\"'"
#endif
#include TA_HEADER

/* BearSSL record overheads (ssl_engine.c), as Tasmota sizes them. */
#define IN_OVERHEAD 325
#define OUT_OVERHEAD 85
#define TASMOTA_BUF 1024

struct opts {
	const char *host, *port, *name, *topic;
	const char *client_key, *client_cert, *fingerprint;
	int esp32;
	unsigned timeout;
};

struct client {
	int fd;
	br_ssl_client_context sc;
	br_x509_minimal_context xc;
	br_sslio_context io;
	unsigned char ibuf[TASMOTA_BUF + IN_OVERHEAD];
	unsigned char obuf[TASMOTA_BUF + OUT_OVERHEAD];
	br_x509_certificate chain;
	br_ec_private_key sk;
	unsigned char key[32];
};

static const uint16_t suites8266[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
};
static const uint16_t suites32[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
};

static int
fail(const char *stage, const char *err, int code)
{
	printf("fail stage=%s err=%s\n", stage, err);
	return code;
}

/* Whole small file; NULL on error. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	struct mqtt_buf b = { 0 };
	unsigned char tmp[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		mqtt_buf_put(&b, tmp, n);
	fclose(f);
	if (b.oom || b.len == 0) {
		mqtt_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

/* ---- Tasmota's fingerprint ------------------------------------------ */

/* SHA-1 update with Tasmota's u32 big-endian length prefix (v2). */
static void
sha1_len(br_sha1_context *c, const void *p, size_t len, int v2)
{
	unsigned char n[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len
	};

	if (v2)
		br_sha1_update(c, n, 4);
	br_sha1_update(c, p, len);
}

static void
print_fp(const char *label, const unsigned char fp[20])
{
	int i;

	printf("%s", label);
	for (i = 0; i < 20; i++)
		printf(" %02X", fp[i]);
	printf("\n");
}

static int
fingerprint(const char *path)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	br_sha1_context c;
	unsigned char fp[20];
	unsigned char *der;
	size_t len;
	int v2;

	if ((der = slurp(path, &len)) == NULL)
		return fail("usage", "cannot_read_certificate", 1);
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || pk->key_type != BR_KEYTYPE_RSA) {
		free(der);
		return fail("usage", "not_an_rsa_certificate", 1);
	}
	for (v2 = 1; v2 >= 0; v2--) {
		br_sha1_init(&c);
		sha1_len(&c, "ssh-rsa", 7, v2);
		sha1_len(&c, pk->key.rsa.e, pk->key.rsa.elen, v2);
		sha1_len(&c, pk->key.rsa.n, pk->key.rsa.nlen, v2);
		br_sha1_out(&c, fp);
		print_fp(v2 ? "v2" : "v1", fp);
	}
	free(der);
	return 0;
}

/* ---- TLS ------------------------------------------------------------- */

/* Tasmota lib/lib_ssl/tls_mini br_ssl_client_base_init + X.509 minimal
 * over the compiled-in anchors. */
static void
configure(struct client *cl, const struct opts *o)
{
	br_ssl_engine_context *eng = &cl->sc.eng;
	time_t now = time(NULL);

	br_ssl_client_zero(&cl->sc);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	if (o->esp32)
		br_ssl_engine_set_suites(eng, suites32, 2);
	else
		br_ssl_engine_set_suites(eng, suites8266, 1);
	br_ssl_client_set_default_rsapub(&cl->sc);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
	    &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_small_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul32);
	br_ssl_engine_set_ec(eng, &br_ec_p256_m15);
	if (o->esp32)
		br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i15_vrfy_asn1);
	br_x509_minimal_init(&cl->xc, &br_sha256_vtable, TAs, TAs_NUM);
	br_x509_minimal_set_rsa(&cl->xc, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_hash(&cl->xc, br_sha256_ID, &br_sha256_vtable);
	if (o->esp32)
		br_x509_minimal_set_ecdsa(&cl->xc, &br_ec_p256_m15,
		    &br_ecdsa_i15_vrfy_asn1);
	br_x509_minimal_set_time(&cl->xc, (uint32_t)(now / 86400 + 719528),
	    (uint32_t)(now % 86400));
	br_ssl_engine_set_x509(eng, &cl->xc.vtable);
	br_ssl_engine_set_buffers_bidi(eng, cl->ibuf, sizeof cl->ibuf,
	    cl->obuf, sizeof cl->obuf);
}

/* Tasmota's client certificate: setClientECCert with curve 23. */
static int
client_cert(struct client *cl, const struct opts *o)
{
	unsigned char *key;
	size_t klen, clen;

	if (o->client_key == NULL)
		return 0;
	key = slurp(o->client_key, &klen);
	cl->chain.data = slurp(o->client_cert, &clen);
	if (key == NULL || klen != sizeof cl->key || cl->chain.data == NULL) {
		free(key);
		return -1;
	}
	memcpy(cl->key, key, sizeof cl->key);
	memset(key, 0, klen);
	free(key);
	cl->chain.data_len = clen;
	cl->sk.curve = BR_EC_secp256r1;
	cl->sk.x = cl->key;
	cl->sk.xlen = sizeof cl->key;
	br_ssl_client_set_single_ec(&cl->sc, &cl->chain, 1, &cl->sk,
	    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, 0, &br_ec_p256_m15,
	    br_ecdsa_sign_asn1_get_default());
	return 0;
}

static int
sock_read(void *ctx, unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n;

	do {
		n = recv(fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	return n <= 0 ? -1 : (int)n;
}

static int
sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n;

	do {
		n = send(fd, buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n <= 0 ? -1 : (int)n;
}

/* Blocking TCP with send/receive timeouts. */
static int
tcp_connect(const struct opts *o)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	struct timeval tv = { (time_t)o->timeout, 0 };
	int fd = -1;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(o->host, o->port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* ---- MQTT ------------------------------------------------------------ */

static int
send_buf(struct client *cl, struct mqtt_buf *b)
{
	int rc = b->oom ? -1 : br_sslio_write_all(&cl->io, b->data, b->len);

	if (rc == 0)
		rc = br_sslio_flush(&cl->io);
	b->len = 0;
	return rc;
}

/* Read until one whole packet of `type` has arrived. */
static int
await(struct client *cl, struct mqtt_buf *in, uint8_t type,
    struct mqtt_pkt *p)
{
	unsigned char tmp[512];
	int n;

	for (;;) {
		int rc = mqtt_parse(in->data, in->len, p);

		if (rc == MQTT_PARSE_BAD)
			return -1;
		if (rc == MQTT_PARSE_OK) {
			if (p->type == type)
				return 0;
			mqtt_buf_consume(in, p->total);
			continue;
		}
		n = br_sslio_read(&cl->io, tmp, sizeof tmp);
		if (n <= 0)
			return -1;
		mqtt_buf_put(in, tmp, (size_t)n);
	}
}

/* CONNECT, QoS 1 PUBLISH, DISCONNECT; 0 or an exit code. */
static int
mqtt_session(struct client *cl, const struct opts *o)
{
	static const char msg[] = "hello from ta_client";
	struct mqtt_connect c = { "ta-client", NULL, NULL, 30, 1 };
	struct mqtt_buf out = { 0 }, in = { 0 };
	struct mqtt_pkt p;
	int rc = 0;

	if (mqtt_enc_connect(&out, &c) < 0 || send_buf(cl, &out) < 0)
		rc = fail("handshake", "tls_write_failed", 2);
	else if (await(cl, &in, MQTT_CONNACK, &p) < 0 || p.rc != 0)
		rc = fail("connack", "no_connack", 3);
	else if (mqtt_enc_publish(&out, o->topic, 1, 1,
	    (const uint8_t *)msg, sizeof msg - 1) < 0 ||
	    send_buf(cl, &out) < 0 || await(cl, &in, MQTT_PUBACK, &p) < 0 ||
	    p.pid != 1)
		rc = fail("puback", "no_puback", 3);
	else if (mqtt_enc_disconnect(&out) < 0)
		rc = fail("disconnect", "oom", 3);
	else
		(void)send_buf(cl, &out);
	mqtt_buf_free(&out);
	mqtt_buf_free(&in);
	return rc;
}

/* Connect, handshake, publish; prints the result line. */
static int
run(struct client *cl, const struct opts *o)
{
	unsigned char seed[32];
	FILE *f;
	int rc, err;

	configure(cl, o);
	if (client_cert(cl, o) < 0)
		return fail("usage", "bad_client_key_or_cert", 1);
	f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(seed, 1, sizeof seed, f) != sizeof seed) {
		if (f != NULL)
			fclose(f);
		return fail("usage", "no_entropy", 1);
	}
	fclose(f);
	br_ssl_engine_inject_entropy(&cl->sc.eng, seed, sizeof seed);
	if ((cl->fd = tcp_connect(o)) < 0)
		return fail("connect", "tcp_connect_failed", 1);
	br_ssl_client_reset(&cl->sc, o->name, 0);
	br_sslio_init(&cl->io, &cl->sc.eng, sock_read, &cl->fd, sock_write,
	    &cl->fd);
	rc = mqtt_session(cl, o);
	err = br_ssl_engine_last_error(&cl->sc.eng);
	if (rc == 0) {
		printf("ok version=TLS1.%d suite=0x%04X\n",
		    br_ssl_engine_get_version(&cl->sc.eng) - 0x0301,
		    cl->sc.eng.session.cipher_suite);
		br_sslio_close(&cl->io);
	} else if (err != 0) {
		printf("bearssl_error=%d\n", err);
	}
	close(cl->fd);
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: ta_client --host H --port P --name NAME "
	    "[--profile tasmota-esp8266|tasmota-esp32] [--topic T]\n"
	    "                 [--client-key RAW32 --client-cert DER] "
	    "[--timeout S]\n"
	    "       ta_client --fingerprint CERT.der\n");
	return 1;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "profile", required_argument, NULL, 'P' },
		{ "topic", required_argument, NULL, 't' },
		{ "client-key", required_argument, NULL, 'k' },
		{ "client-cert", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->host = "127.0.0.1";
	o->topic = "tlsgw/test/ta_client";
	o->timeout = 10;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': o->host = optarg; break;
		case 'p': o->port = optarg; break;
		case 'n': o->name = optarg; break;
		case 't': o->topic = optarg; break;
		case 'k': o->client_key = optarg; break;
		case 'c': o->client_cert = optarg; break;
		case 'f': o->fingerprint = optarg; break;
		case 'T': o->timeout = (unsigned)atoi(optarg); break;
		case 'P':
			if (strcmp(optarg, "tasmota-esp32") == 0)
				o->esp32 = 1;
			else if (strcmp(optarg, "tasmota-esp8266") != 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || (o->client_key == NULL) != (o->client_cert ==
	    NULL))
		return -1;
	if (o->fingerprint == NULL && (o->port == NULL || o->name == NULL))
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct client *cl;
	int rc;

	if (parse(argc, argv, &o) < 0)
		return usage();
	if (o.fingerprint != NULL)
		return fingerprint(o.fingerprint);
	if ((cl = calloc(1, sizeof *cl)) == NULL)
		return 1;
	rc = run(cl, &o);
	free((void *)cl->chain.data);
	memset(cl, 0, sizeof *cl);
	free(cl);
	return rc;
}
