/*
 * capture_bear.c: send one ClientHello from BearSSL configured like a
 * device profile of DEVICES.md, to a capture listener.  A developer tool
 * used by capture-hellos.sh (not built by make): the server never
 * answers, so the handshake fails after the hello; that is expected.
 *
 * usage: capture_bear PROFILE HOST PORT SNI
 *   tasmota-esp8266   C02F only, TLS 1.2, P-256, rsa_pkcs1_sha256, MFL 1024
 *   esp8266-arduino   the 45-suite "full" list, TLS 1.0-1.2, MFL 512
 *   esp8266-lesssecure setCiphersLessSecure(): static-RSA AES-CBC only
 *   bear-tls10        the 45-suite list, TLS 1.0 only, no MFL
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bearssl.h>

/* esp8266/Arduino WiFiClientSecureBearSSL.cpp suites_P (= BearSSL full). */
static const uint16_t full_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDH_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDH_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_RSA_WITH_AES_128_CCM,
	BR_TLS_RSA_WITH_AES_256_CCM,
	BR_TLS_RSA_WITH_AES_128_CCM_8,
	BR_TLS_RSA_WITH_AES_256_CCM_8,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	BR_TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA,
	BR_TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA,
	BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA,
};

/* esp8266/Arduino faster_suites_P (setCiphersLessSecure). */
static const uint16_t less_secure_suites[] = {
	BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA,
};

/* Tasmota tls_mini: one suite. */
static const uint16_t tasmota_suites[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
};

/* A dummy server key: the handshake never gets that far. */
static unsigned char dummy_n[256] = { 0xC5, 0x01 };
static unsigned char dummy_e[] = { 0x01, 0x00, 0x01 };
static const br_rsa_public_key dummy_pk = {
	dummy_n, sizeof dummy_n, dummy_e, sizeof dummy_e
};

static unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];
static unsigned char obuf[BR_SSL_BUFSIZE_OUTPUT];

static int
sock_read(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = read(*(int *)ctx, buf, len);

	return n <= 0 ? -1 : (int)n;
}

static int
sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = write(*(int *)ctx, buf, len);

	return n <= 0 ? -1 : (int)n;
}

/* Hashes sha1..sha512 and md5, as esp8266's br_ssl_client_install_hashes. */
static void
install_all_hashes(br_ssl_engine_context *eng)
{
	br_ssl_engine_set_hash(eng, br_md5_ID, &br_md5_vtable);
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
}

/* esp8266/Arduino br_ssl_client_base_init, with a given suite list. */
static void
esp8266_init(br_ssl_client_context *cc, const uint16_t *suites, size_t n,
    unsigned vmin, unsigned vmax)
{
	br_ssl_client_zero(cc);
	br_ssl_engine_add_flags(&cc->eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_versions(&cc->eng, vmin, vmax);
	br_ssl_engine_set_suites(&cc->eng, suites, n);
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(&cc->eng);
	br_ssl_engine_set_default_ecdsa(&cc->eng);
	install_all_hashes(&cc->eng);
	br_ssl_engine_set_prf10(&cc->eng, &br_tls10_prf);
	br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(&cc->eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_cbc(&cc->eng);
	br_ssl_engine_set_default_aes_gcm(&cc->eng);
	br_ssl_engine_set_default_aes_ccm(&cc->eng);
	br_ssl_engine_set_default_des_cbc(&cc->eng);
	br_ssl_engine_set_default_chapol(&cc->eng);
}

/* Tasmota lib_ssl tls_mini br_ssl_client_base_init. */
static void
tasmota_init(br_ssl_client_context *cc)
{
	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(&cc->eng, tasmota_suites, 1);
	br_ssl_client_set_rsapub(cc, &br_rsa_i15_public);
	br_ssl_engine_set_rsavrfy(&cc->eng, &br_rsa_i15_pkcs1_vrfy);
	br_ssl_engine_set_ec(&cc->eng, &br_ec_p256_m15);
	br_ssl_engine_set_hash(&cc->eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_default_aes_gcm(&cc->eng);
}

static int
connect_to(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static br_ssl_client_context cc;
	static br_x509_knownkey_context xc;
	br_sslio_context ioc;
	size_t ilen = sizeof ibuf, olen = sizeof obuf;
	const char *p;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s PROFILE HOST PORT SNI\n", argv[0]);
		return 2;
	}
	p = argv[1];
	if (strcmp(p, "tasmota-esp8266") == 0) {
		tasmota_init(&cc);
		ilen = 1024 + 325;		/* MFL 1024 */
		olen = 1024 + 85;
	} else if (strcmp(p, "esp8266-arduino") == 0) {
		esp8266_init(&cc, full_suites, 45, BR_TLS10, BR_TLS12);
		ilen = 16384 + 325;		/* 16 KB in, 512 out */
		olen = 512 + 85;
	} else if (strcmp(p, "esp8266-lesssecure") == 0) {
		esp8266_init(&cc, less_secure_suites, 4, BR_TLS10, BR_TLS12);
		ilen = 16384 + 325;
		olen = 512 + 85;
	} else if (strcmp(p, "bear-tls10") == 0) {
		esp8266_init(&cc, full_suites, 45, BR_TLS10, BR_TLS10);
	} else {
		fprintf(stderr, "unknown profile %s\n", p);
		return 2;
	}
	br_x509_knownkey_init_rsa(&xc, &dummy_pk,
	    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(&cc.eng, &xc.vtable);
	br_ssl_engine_set_buffers_bidi(&cc.eng, ibuf, ilen, obuf, olen);
	if (!br_ssl_client_reset(&cc, argv[4][0] ? argv[4] : NULL, 0)) {
		fprintf(stderr, "reset failed: %d\n",
		    br_ssl_engine_last_error(&cc.eng));
		return 1;
	}
	fd = connect_to(argv[2], atoi(argv[3]));
	br_sslio_init(&ioc, &cc.eng, sock_read, &fd, sock_write, &fd);
	br_sslio_flush(&ioc);
	close(fd);
	return 0;
}
