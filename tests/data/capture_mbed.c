/*
 * capture_mbed.c: send one ClientHello from mbedTLS 2.28 configured like
 * a device profile of DEVICES.md, to a capture listener.  A developer
 * tool used by capture-hellos.sh (not built by make).  The listener
 * never answers; the failed handshake afterwards is expected.
 *
 * usage: capture_mbed PROFILE HOST PORT SNI
 *   micropython-mbedtls  MicroPython 1.20-1.23: C024 C00A C023 C009 003D
 *                        0035 003C 002F, TLS 1.2, no MFL, no tickets
 *   esp-idf-5            38 suites (ECDHE GCM/CBC/CCM first, static RSA
 *                        and ECDH last), TLS 1.2, EMS, EtM, tickets,
 *                        renegotiation on, ALPN "mqtt"
 *   mbed-weak            RC4 and 3DES suites only (an old firmware)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

static const int micropython_suites[] = {
	0xC024, 0xC00A, 0xC023, 0xC009, 0x003D, 0x0035, 0x003C, 0x002F, 0
};

/* MicroPython's mbedtls_config_common.h curves, in mbedTLS 2.x order. */
static const mbedtls_ecp_group_id micropython_curves[] = {
	MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP256K1,
	MBEDTLS_ECP_DP_SECP224R1, MBEDTLS_ECP_DP_SECP224K1,
	MBEDTLS_ECP_DP_SECP192R1, MBEDTLS_ECP_DP_SECP192K1,
	MBEDTLS_ECP_DP_NONE
};

/* mbedTLS 2.x default hashes with MBEDTLS_TLS_DEFAULT_ALLOW_SHA1_IN_KEY_EXCHANGE. */
static const int micropython_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
	MBEDTLS_MD_SHA224, MBEDTLS_MD_SHA1, MBEDTLS_MD_NONE
};

static const int espidf_suites[] = {
	/* ECDHE-ECDSA: GCM, ChaCha, CCM, CBC */
	0xC02C, 0xC02B, 0xCCA9, 0xC0AD, 0xC0AC, 0xC024, 0xC023, 0xC00A,
	0xC009,
	/* ECDHE-RSA */
	0xC030, 0xC02F, 0xCCA8, 0xC028, 0xC027, 0xC014, 0xC013,
	/* static RSA: GCM, CCM, CCM_8, CBC */
	0x009D, 0x009C, 0xC09D, 0xC09C, 0xC0A1, 0xC0A0, 0x003D, 0x003C,
	0x0035, 0x002F,
	/* static ECDH */
	0xC032, 0xC031, 0xC02E, 0xC02D, 0xC02A, 0xC029, 0xC026, 0xC025,
	0xC00F, 0xC00E, 0xC005, 0xC004,
	0
};

/* mbedTLS 3.x default group order, as ESP-IDF 5 sends it. */
static const mbedtls_ecp_group_id espidf_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
	MBEDTLS_ECP_DP_BP256R1, MBEDTLS_ECP_DP_BP384R1,
	MBEDTLS_ECP_DP_BP512R1, MBEDTLS_ECP_DP_NONE
};

static const int espidf_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
	MBEDTLS_MD_NONE
};

static const char *espidf_alpn[] = { "mqtt", NULL };

/* RSA_WITH_RC4_128_SHA, RSA_WITH_3DES_EDE_CBC_SHA, ECDHE_RSA RC4 and 3DES. */
static const int weak_suites[] = { 0x0005, 0x000A, 0xC011, 0xC012, 0 };

static const mbedtls_ecp_group_id p256_only[] = {
	MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE
};

static const int sha256_only[] = { MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE };

/* Profile settings on top of mbedtls_ssl_config_defaults. */
static int
configure(mbedtls_ssl_config *conf, const char *profile)
{
	mbedtls_ssl_conf_min_version(conf, 3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(conf, 3, MBEDTLS_SSL_MINOR_VERSION_3);
	if (strcmp(profile, "micropython-mbedtls") == 0) {
		mbedtls_ssl_conf_ciphersuites(conf, micropython_suites);
		mbedtls_ssl_conf_curves(conf, micropython_curves);
		mbedtls_ssl_conf_sig_hashes(conf, micropython_hashes);
		mbedtls_ssl_conf_session_tickets(conf,
		    MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
		mbedtls_ssl_conf_encrypt_then_mac(conf, MBEDTLS_SSL_ETM_DISABLED);
		mbedtls_ssl_conf_extended_master_secret(conf,
		    MBEDTLS_SSL_EXTENDED_MS_DISABLED);
	} else if (strcmp(profile, "esp-idf-5") == 0) {
		mbedtls_ssl_conf_ciphersuites(conf, espidf_suites);
		mbedtls_ssl_conf_curves(conf, espidf_curves);
		mbedtls_ssl_conf_sig_hashes(conf, espidf_hashes);
		mbedtls_ssl_conf_session_tickets(conf,
		    MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
		mbedtls_ssl_conf_renegotiation(conf,
		    MBEDTLS_SSL_RENEGOTIATION_ENABLED);
		if (mbedtls_ssl_conf_alpn_protocols(conf, espidf_alpn) != 0)
			return -1;
	} else if (strcmp(profile, "mbed-weak") == 0) {
		mbedtls_ssl_conf_ciphersuites(conf, weak_suites);
		mbedtls_ssl_conf_arc4_support(conf, MBEDTLS_SSL_ARC4_ENABLED);
		mbedtls_ssl_conf_curves(conf, p256_only);
		mbedtls_ssl_conf_sig_hashes(conf, sha256_only);
		mbedtls_ssl_conf_session_tickets(conf,
		    MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	} else {
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	mbedtls_net_context net;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: %s PROFILE HOST PORT SNI\n", argv[0]);
		return 2;
	}
	mbedtls_net_init(&net);
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
	    (const unsigned char *)"capture", 7) != 0 ||
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return 1;
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	if (configure(&conf, argv[1]) != 0) {
		fprintf(stderr, "unknown profile %s\n", argv[1]);
		return 2;
	}
	if (mbedtls_ssl_setup(&ssl, &conf) != 0 ||
	    (argv[4][0] && mbedtls_ssl_set_hostname(&ssl, argv[4]) != 0))
		return 1;
	rc = mbedtls_net_connect(&net, argv[2], argv[3],
	    MBEDTLS_NET_PROTO_TCP);
	if (rc != 0) {
		fprintf(stderr, "connect: -0x%04x\n", (unsigned)-rc);
		return 1;
	}
	mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv,
	    NULL);
	mbedtls_ssl_handshake(&ssl);	/* fails once the listener closes */
	mbedtls_net_free(&net);
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	return 0;
}
