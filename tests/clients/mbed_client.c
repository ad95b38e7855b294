/*
 * mbed_client.c: a device emulator on mbedTLS 2.28 (Debian libmbedtls),
 * configured at run time as closely as that library allows to what
 * MicroPython and ESP-IDF devices send, running the same MQTT session
 * as bear_client (see mqtt_min.h for the CLI and the result line).
 *
 * Profiles (DEVICES.md):
 *
 *  micropython-mbedtls-1.20  MicroPython 1.20-1.23 extmod/mbedtls config
 *          (mbedTLS 2.28 there too): TLS 1.2; suites C024 C00A C023 C009
 *          003D 0035 003C 002F (ECDHE_ECDSA and static RSA, AES-CBC, no
 *          GCM); curves secp521r1 secp384r1 secp256r1 secp256k1
 *          secp224r1 secp224k1 secp192r1 secp192k1 in mbedTLS order;
 *          signature hashes SHA-512/384/256/224 (SHA-1 not allowed);
 *          no EtM, no EMS, no session tickets, no renegotiation, no MFL;
 *          4 KB output records (MBEDTLS_SSL_OUT_CONTENT_LEN 4096).
 *  micropython-mbedtls-1.24  MicroPython 1.24+ (mbedTLS 3.6): TLS 1.2;
 *          the 18 suites C02C C030 C024 C028 C00A C014 C02B C02F C023
 *          C027 C009 C013 009D 003D 0035 009C 003C 002F; curves
 *          secp256r1 secp384r1 secp521r1; hashes SHA-512/384/256; no
 *          EtM/EMS/tickets/MFL; 4 KB output records.
 *  esp-idf-5 (esp-mqtt)      ESP-IDF 5 Kconfig defaults on mbedTLS 3.x:
 *          the library's default suite order cut down to AES with RSA,
 *          ECDHE_RSA, ECDHE_ECDSA, ECDH_RSA, ECDH_ECDSA key exchange (38
 *          suites: ECDHE GCM/CCM/CBC first, static RSA and ECDH last);
 *          mbedTLS 3.x default groups (x25519, P-256/384/521, brainpool)
 *          and hashes (SHA-512/384/256); EMS, EtM, session tickets and
 *          renegotiation on; no MFL; 16 KB in / 4 KB out records.
 *  arduino-esp32             As esp-idf-5 plus Camellia (60 suites),
 *          16 KB buffers both ways, no MFL.
 *
 * Not emulated: mbedTLS 3.x ClientHello details (3.6 orders
 * signature_algorithms by scheme and offers RSA-PSS, which 2.28 cannot
 * send; 2.28 lists hash x {ECDSA, RSA}); the suite order inside the 38
 * and 60 lists is 2.28's preference order, which may differ from 3.x
 * in places; input buffer sizes are Debian's compile-time
 * 16 KB for every profile; MicroPython without server_hostname does no
 * certificate validation at all, we always validate against --ca.
 * --no-sni with --verify-name: 2.28 sends SNI whenever a hostname is
 * set, so we set none and check the name after the handshake with
 * mbedtls_x509_crt_verify (result reported as a handshake failure).
 */
#include "mqtt_min.h"

#include <errno.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/debug.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const profiles[] = {
	"micropython-mbedtls-1.20", "micropython-mbedtls-1.24",
	"esp-idf-5", "arduino-esp32", NULL
};

enum { P_MP120, P_MP124, P_ESPIDF, P_ARDUINO32 };

struct mbed {
	const struct dev_opts *o;
	int fd;
	int64_t deadline;       /* for the callbacks' current wait */
	int io_rc;              /* DEV_IO_* the callbacks ended with */
	int last_err;           /* last mbedTLS error code */
	uint32_t vflags;        /* certificate verification flags */
	int sys_errno;
	size_t out_chunk;       /* largest plaintext per record we write */
	struct tls_watch w;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	int suites[DEV_MAX_SUITES + 1];
};

/* ---- profiles -------------------------------------------------------- */

static const int mp120_suites[] = {
	0xC024, 0xC00A, 0xC023, 0xC009, 0x003D, 0x0035, 0x003C, 0x002F, 0
};

static const int mp124_suites[] = {
	0xC02C, 0xC030, 0xC024, 0xC028, 0xC00A, 0xC014, 0xC02B, 0xC02F,
	0xC023, 0xC027, 0xC009, 0xC013, 0x009D, 0x003D, 0x0035, 0x009C,
	0x003C, 0x002F, 0
};

static const mbedtls_ecp_group_id mp120_curves[] = {
	MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP256K1,
	MBEDTLS_ECP_DP_SECP224R1, MBEDTLS_ECP_DP_SECP224K1,
	MBEDTLS_ECP_DP_SECP192R1, MBEDTLS_ECP_DP_SECP192K1,
	MBEDTLS_ECP_DP_NONE
};

static const mbedtls_ecp_group_id mp124_curves[] = {
	MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE
};

static const int mp120_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
	MBEDTLS_MD_SHA224, MBEDTLS_MD_NONE
};

static const int mp124_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
	MBEDTLS_MD_NONE
};

/* MicroPython: hand-trimmed config, nothing optional switched on. */
static void cfg_micropython(struct mbed *m, int v124)
{
	mbedtls_ssl_config *c = &m->conf;

	mbedtls_ssl_conf_ciphersuites(c, v124 ? mp124_suites : mp120_suites);
	mbedtls_ssl_conf_curves(c, v124 ? mp124_curves : mp120_curves);
	mbedtls_ssl_conf_sig_hashes(c, v124 ? mp124_hashes : mp120_hashes);
	mbedtls_ssl_conf_encrypt_then_mac(c, MBEDTLS_SSL_ETM_DISABLED);
	mbedtls_ssl_conf_extended_master_secret(c,
		MBEDTLS_SSL_EXTENDED_MS_DISABLED);
	mbedtls_ssl_conf_session_tickets(c,
		MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	m->out_chunk = 4096;
}

/* mbedTLS 3.x default groups (ssl_preset_default_groups, no X448). */
static const mbedtls_ecp_group_id idf_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
	MBEDTLS_ECP_DP_BP256R1, MBEDTLS_ECP_DP_BP384R1,
	MBEDTLS_ECP_DP_BP512R1, MBEDTLS_ECP_DP_NONE
};

/* mbedTLS 3.x default signature hashes (no SHA-224, no SHA-1). */
static const int idf_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
	MBEDTLS_MD_NONE
};

/* Key exchanges the ESP-IDF Kconfig enables by default (no DHE, PSK). */
static int idf_kex(mbedtls_key_exchange_type_t kx)
{
	return kx == MBEDTLS_KEY_EXCHANGE_RSA
		|| kx == MBEDTLS_KEY_EXCHANGE_ECDHE_RSA
		|| kx == MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA
		|| kx == MBEDTLS_KEY_EXCHANGE_ECDH_RSA
		|| kx == MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA;
}

/*
 * The library's default preference order, cut down to what the device
 * sdkconfig builds: AES (and Camellia for arduino-esp32) with the key
 * exchanges above. That gives 38 and 60 suites, as on the devices.
 */
static void idf_suites(struct mbed *m, int camellia)
{
	const int *id = mbedtls_ssl_list_ciphersuites();
	size_t n = 0;

	for (; *id != 0 && n < DEV_MAX_SUITES; id++) {
		const mbedtls_ssl_ciphersuite_t *cs =
			mbedtls_ssl_ciphersuite_from_id(*id);
		const mbedtls_cipher_info_t *ci;

		if (cs == NULL || !idf_kex(cs->key_exchange))
			continue;
		ci = mbedtls_cipher_info_from_type(cs->cipher);
		if (ci == NULL || ci->name == NULL)
			continue;
		if (strncmp(ci->name, "AES-", 4) == 0 || (camellia
				&& strncmp(ci->name, "CAMELLIA-", 9) == 0))
			m->suites[n++] = *id;
	}
	m->suites[n] = 0;
	mbedtls_ssl_conf_ciphersuites(&m->conf, m->suites);
}

/* ESP-IDF / arduino-esp32: Kconfig defaults on mbedTLS 3.x. */
static void cfg_espidf(struct mbed *m, int arduino)
{
	mbedtls_ssl_config *c = &m->conf;

	idf_suites(m, arduino);
	mbedtls_ssl_conf_curves(c, idf_curves);
	mbedtls_ssl_conf_sig_hashes(c, idf_hashes);
	mbedtls_ssl_conf_encrypt_then_mac(c, MBEDTLS_SSL_ETM_ENABLED);
	mbedtls_ssl_conf_extended_master_secret(c,
		MBEDTLS_SSL_EXTENDED_MS_ENABLED);
	mbedtls_ssl_conf_session_tickets(c,
		MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_ENABLED);
	m->out_chunk = arduino ? 16384 : 4096;
}

/* --suites: every code must be one this mbedTLS build knows. */
static const char *apply_suites(struct mbed *m, const struct dev_opts *o)
{
	static char msg[64];
	size_t i;

	for (i = 0; i < o->nsuites; i++) {
		if (mbedtls_ssl_ciphersuite_from_id(o->suites[i]) == NULL) {
			snprintf(msg, sizeof msg, "suite_0x%04X_not_in_mbedtls",
				o->suites[i]);
			return msg;
		}
		m->suites[i] = o->suites[i];
	}
	m->suites[i] = 0;
	mbedtls_ssl_conf_ciphersuites(&m->conf, m->suites);
	return NULL;
}

/* Versions (1.2 unless overridden) and MFL (none unless --mfl). */
static const char *apply_limits(struct mbed *m, const struct dev_opts *o)
{
	unsigned vmin = o->min_version ? o->min_version : 0x0303;
	unsigned vmax = o->max_version ? o->max_version : 0x0303;

	if (vmin > vmax)
		vmin = vmax;
	if (vmax > 0x0303)
		return "tls1.3_not_in_mbedtls_2.28";
	mbedtls_ssl_conf_min_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
		(int)(vmin & 0xFF));
	mbedtls_ssl_conf_max_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
		(int)(vmax & 0xFF));
	if (o->mfl > 0) {
		unsigned char code = o->mfl == 512 ? MBEDTLS_SSL_MAX_FRAG_LEN_512
			: o->mfl == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
			: o->mfl == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
			: MBEDTLS_SSL_MAX_FRAG_LEN_4096;

		if (mbedtls_ssl_conf_max_frag_len(&m->conf, code) != 0)
			return "bad_mfl";
	}
	return NULL;
}

/* mbedTLS debug lines on stderr with --debug N. */
static void debug_cb(void *ctx, int level, const char *file, int line,
	const char *msg)
{
	(void)ctx;
	fprintf(stderr, "mbedtls %d %s:%d: %s", level, file, line, msg);
}

/* RNG, CA chain, verification, profile, overrides; NULL or error text. */
static const char *configure(struct mbed *m, const struct dev_opts *o)
{
	static const char pers[] = "tlsgw-mbed-client";
	const char *err = NULL;

	if (mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func, &m->entropy,
			(const unsigned char *)pers, sizeof pers - 1) != 0)
		return "rng_seed_failed";
	if (mbedtls_x509_crt_parse_file(&m->ca, o->ca) != 0)
		return "bad_ca_file";
	if (mbedtls_ssl_config_defaults(&m->conf, MBEDTLS_SSL_IS_CLIENT,
			MBEDTLS_SSL_TRANSPORT_STREAM,
			MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return "config_defaults_failed";
	mbedtls_ssl_conf_authmode(&m->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&m->conf, &m->ca, NULL);
	mbedtls_ssl_conf_rng(&m->conf, mbedtls_ctr_drbg_random, &m->drbg);
	if (o->debug > 0) {
		mbedtls_ssl_conf_dbg(&m->conf, debug_cb, NULL);
		mbedtls_debug_set_threshold(o->debug);
	}
	if (o->profile_idx == P_MP120 || o->profile_idx == P_MP124)
		cfg_micropython(m, o->profile_idx == P_MP124);
	else
		cfg_espidf(m, o->profile_idx == P_ARDUINO32);
	if (o->nsuites > 0)
		err = apply_suites(m, o);
	if (err == NULL)
		err = apply_limits(m, o);
	return err;
}

/* ---- errors ---------------------------------------------------------- */

#define E(x) { x, #x }
static const struct { int code; const char *name; } mbed_errors[] = {
	E(MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE), E(MBEDTLS_ERR_SSL_BAD_INPUT_DATA),
	E(MBEDTLS_ERR_SSL_INVALID_MAC), E(MBEDTLS_ERR_SSL_INVALID_RECORD),
	E(MBEDTLS_ERR_SSL_CONN_EOF), E(MBEDTLS_ERR_SSL_UNKNOWN_CIPHER),
	E(MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN), E(MBEDTLS_ERR_SSL_NO_RNG),
	E(MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE),
	E(MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE),
	E(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE),
	E(MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED),
	E(MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY),
	E(MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO),
	E(MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE),
	E(MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_REQUEST),
	E(MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE),
	E(MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE),
	E(MBEDTLS_ERR_SSL_BAD_HS_CHANGE_CIPHER_SPEC),
	E(MBEDTLS_ERR_SSL_BAD_HS_FINISHED), E(MBEDTLS_ERR_SSL_ALLOC_FAILED),
	E(MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION),
	E(MBEDTLS_ERR_SSL_BAD_HS_NEW_SESSION_TICKET),
	E(MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH), E(MBEDTLS_ERR_SSL_INTERNAL_ERROR),
	E(MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL),
	E(MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE), E(MBEDTLS_ERR_SSL_TIMEOUT),
	E(MBEDTLS_ERR_SSL_UNEXPECTED_RECORD), E(MBEDTLS_ERR_SSL_NON_FATAL),
	E(MBEDTLS_ERR_SSL_BAD_CONFIG), E(MBEDTLS_ERR_NET_RECV_FAILED),
	E(MBEDTLS_ERR_NET_SEND_FAILED), E(MBEDTLS_ERR_NET_CONN_RESET),
	E(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED),
};
#undef E

static const struct { uint32_t bit; const char *name; } vflag_names[] = {
	{ MBEDTLS_X509_BADCERT_EXPIRED, "expired" },
	{ MBEDTLS_X509_BADCERT_REVOKED, "revoked" },
	{ MBEDTLS_X509_BADCERT_CN_MISMATCH, "cn_mismatch" },
	{ MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not_trusted" },
	{ MBEDTLS_X509_BADCERT_MISSING, "missing" },
	{ MBEDTLS_X509_BADCERT_FUTURE, "future" },
	{ MBEDTLS_X509_BADCERT_KEY_USAGE, "key_usage" },
	{ MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "ext_key_usage" },
	{ MBEDTLS_X509_BADCERT_BAD_MD, "bad_md" },
	{ MBEDTLS_X509_BADCERT_BAD_PK, "bad_pk" },
	{ MBEDTLS_X509_BADCERT_BAD_KEY, "bad_key" },
	{ MBEDTLS_X509_BADCERT_OTHER, "other" },
};

/* "not_trusted+cn_mismatch" from verification flags. */
static void vflags_text(uint32_t flags, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof vflag_names / sizeof vflag_names[0]; i++) {
		if ((flags & vflag_names[i].bit) && used < len) {
			int n = snprintf(buf + used, len - used, "%s%s",
				used ? "+" : "", vflag_names[i].name);

			if (n > 0)
				used += (size_t)n;
		}
	}
}

/* dev_io errtext hook: "MBEDTLS_ERR_X code=-0xNNNN [verify=...]". */
static void mbed_errtext(void *ctx, char *buf, size_t len)
{
	struct mbed *m = ctx;
	const char *name = "MBEDTLS_ERR_UNKNOWN";
	char vf[96];
	size_t i;

	if (m->last_err == 0 && m->sys_errno != 0) {
		snprintf(buf, len, "socket:%s", strerror(m->sys_errno));
		dev_token(buf);
		return;
	}
	for (i = 0; i < sizeof mbed_errors / sizeof mbed_errors[0]; i++)
		if (mbed_errors[i].code == m->last_err)
			name = mbed_errors[i].name;
	vflags_text(m->vflags, vf, sizeof vf);
	snprintf(buf, len, "%s code=-0x%04X%s%s", name,
		(unsigned)-m->last_err, vf[0] ? " verify=" : "", vf);
	if (m->sys_errno != 0 && strlen(buf) + 1 < len) {
		size_t at = strlen(buf);

		snprintf(buf + at, len - at, " socket:%s",
			strerror(m->sys_errno));
		dev_token(buf + at + 1);
	}
}

/* ---- BIO callbacks: blocking with the current deadline --------------- */

/* mbedTLS send callback: wait until writable, then write. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct mbed *m = ctx;

	for (;;) {
		ssize_t n = send(m->fd, buf, len, MSG_NOSIGNAL);
		int w;

		if (n >= 0)
			return (int)n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			m->sys_errno = errno;
			return MBEDTLS_ERR_NET_SEND_FAILED;
		}
		w = dev_wait_fd(m->fd, POLLOUT, m->deadline, NULL);
		if (w == 0) {
			m->io_rc = DEV_IO_TIMEOUT;
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
		if (w < 0)
			return MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

/* mbedTLS recv callback: the watcher sees every byte first. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct mbed *m = ctx;

	for (;;) {
		ssize_t n = recv(m->fd, buf, len, 0);
		int w;

		if (n > 0) {
			tls_watch_feed(&m->w, buf, (size_t)n);
			if (m->w.violation) {
				m->io_rc = DEV_IO_MFL;
				return MBEDTLS_ERR_NET_RECV_FAILED;
			}
			return (int)n;
		}
		if (n == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			m->sys_errno = errno;
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
		w = dev_wait_fd(m->fd, POLLIN, m->deadline, NULL);
		if (w == 0) {
			m->io_rc = DEV_IO_TIMEOUT;
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
		if (w < 0)
			return MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

/* Turn an mbedTLS return code into a DEV_IO_* code. */
static int io_code(struct mbed *m, int ret)
{
	if (m->io_rc != 0)
		return m->io_rc;
	if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY
		|| ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == 0)
		return DEV_IO_EOF;
	m->last_err = ret;
	return DEV_IO_ERR;
}

/* dev_io send: at most out_chunk plaintext bytes per record. */
static int mbed_send(void *ctx, const uint8_t *p, size_t n, int64_t dl)
{
	struct mbed *m = ctx;

	m->deadline = dl;
	m->io_rc = 0;
	while (n > 0) {
		size_t k = n < m->out_chunk ? n : m->out_chunk;
		int ret = mbedtls_ssl_write(&m->ssl, p, k);

		if (ret == MBEDTLS_ERR_SSL_WANT_READ
			|| ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (ret <= 0)
			return io_code(m, ret);
		p += ret;
		n -= (size_t)ret;
	}
	return 0;
}

/* dev_io recv: one mbedtls_ssl_read. */
static int mbed_recv(void *ctx, uint8_t *p, size_t cap, int64_t dl)
{
	struct mbed *m = ctx;

	m->deadline = dl;
	m->io_rc = 0;
	for (;;) {
		int ret = mbedtls_ssl_read(&m->ssl, p, cap);

		if (ret == MBEDTLS_ERR_SSL_WANT_READ
			|| ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (ret > 0)
			return ret;
		return io_code(m, ret);
	}
}

/* ---- run ------------------------------------------------------------- */

/* SNI/hostname: see the header comment for --no-sni --verify-name. */
static int set_names(struct mbed *m, const struct dev_opts *o)
{
	const char *sni = o->no_sni ? NULL : o->sni;

	return mbedtls_ssl_set_hostname(&m->ssl, sni);
}

/* Name check after the handshake when it could not be done inside it. */
static int late_name_check(struct mbed *m, const struct dev_opts *o)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&m->ssl);
	uint32_t flags = 0;
	int ret;

	if (o->verify_name == NULL
		|| (!o->no_sni && o->sni != NULL
			&& strcmp(o->sni, o->verify_name) == 0))
		return 0;
	if (peer == NULL)
		return MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
	ret = mbedtls_x509_crt_verify((mbedtls_x509_crt *)(uintptr_t)peer,
		&m->ca, NULL, o->verify_name, &flags, NULL, NULL);
	m->vflags = flags;
	return ret;
}

/* Handshake; fills version and suite for the result line. */
static int handshake(struct mbed *m, const struct dev_io *io,
	struct dev_result *r)
{
	const char *v;
	int ret;

	m->deadline = dev_deadline(m->o);
	m->io_rc = 0;
	do {
		ret = mbedtls_ssl_handshake(&m->ssl);
	} while (ret == MBEDTLS_ERR_SSL_WANT_READ
		|| ret == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (ret == 0)
		ret = late_name_check(m, m->o);
	else
		m->vflags = mbedtls_ssl_get_verify_result(&m->ssl);
	if (ret != 0) {
		if (m->vflags == (uint32_t)-1)
			m->vflags = 0;
		dev_fail_io(r, io, "handshake", io_code(m, ret),
			DEV_EXIT_HANDSHAKE);
		return -1;
	}
	v = mbedtls_ssl_get_version(&m->ssl);
	snprintf(r->version, sizeof r->version, "%s",
		strcmp(v, "TLSv1.2") == 0 ? "TLS1.2"
		: strcmp(v, "TLSv1.1") == 0 ? "TLS1.1"
		: strcmp(v, "TLSv1.0") == 0 ? "TLS1.0" : v);
	r->suite = (uint16_t)mbedtls_ssl_get_ciphersuite_id(
		mbedtls_ssl_get_ciphersuite(&m->ssl));
	return 0;
}

/* close_notify (best effort), then the socket. */
static void mbed_close(struct mbed *m, int handshook)
{
	if (m->fd < 0)
		return;
	if (handshook) {
		m->deadline = dev_now_ms() + 1000;
		(void)mbedtls_ssl_close_notify(&m->ssl);
	}
	close(m->fd);
	m->fd = -1;
}

/* Failure before any TLS byte moved. */
static int early_fail(struct mbed *m, struct dev_result *r,
	const char *stage, int code, const char *err)
{
	r->stage = stage;
	r->exit_code = code;
	snprintf(r->err, sizeof r->err, "%s", err);
	return dev_report(m->o, r, &m->w);
}

/* TCP, handshake, MQTT session, result line. */
static int run(struct mbed *m, const struct dev_opts *o, struct dev_result *r)
{
	const struct dev_io io = { m, mbed_send, mbed_recv, mbed_errtext };
	char err[128];
	int timed_out = 0, ok;

	if (mbedtls_ssl_setup(&m->ssl, &m->conf) != 0 || set_names(m, o) != 0)
		return early_fail(m, r, "usage", DEV_EXIT_USAGE, "ssl_setup");
	m->fd = dev_tcp_connect(o->host, o->port, dev_deadline(o), err,
		sizeof err, &timed_out);
	if (m->fd < 0)
		return early_fail(m, r, "connect", timed_out ? DEV_EXIT_TIMEOUT
			: DEV_EXIT_USAGE, err);
	mbedtls_ssl_set_bio(&m->ssl, m, bio_send, bio_recv, NULL);
	ok = handshake(m, &io, r) == 0;
	if (ok && o->handshake_only) {
		r->stage = "done";
		r->exit_code = DEV_EXIT_OK;
	} else if (ok) {
		dev_mqtt_session(&io, o, r);
	}
	mbed_close(m, ok);
	return dev_report(o, r, &m->w);
}

/* Initialise every mbedTLS object so one cleanup path frees them all. */
static void mbed_init(struct mbed *m, const struct dev_opts *o)
{
	memset(m, 0, sizeof *m);
	m->o = o;
	m->fd = -1;
	m->out_chunk = 16384;
	mbedtls_ssl_init(&m->ssl);
	mbedtls_ssl_config_init(&m->conf);
	mbedtls_x509_crt_init(&m->ca);
	mbedtls_entropy_init(&m->entropy);
	mbedtls_ctr_drbg_init(&m->drbg);
	tls_watch_init(&m->w, o->mfl > 0 ? (unsigned)o->mfl : 0);
}

/* Free in reverse order of use. */
static void mbed_free(struct mbed *m)
{
	mbedtls_ssl_free(&m->ssl);
	mbedtls_ssl_config_free(&m->conf);
	mbedtls_x509_crt_free(&m->ca);
	mbedtls_ctr_drbg_free(&m->drbg);
	mbedtls_entropy_free(&m->entropy);
}

/* Parse, configure the profile, run, print one line. */
int main(int argc, char **argv)
{
	struct dev_opts o;
	struct dev_result r;
	struct mbed *m;
	const char *err;
	int rc;

	rc = dev_opts_parse(&o, argc, argv, "mbedtls", profiles);
	if (rc != 0)
		return rc > 0 ? 0 : DEV_EXIT_USAGE;
	memset(&r, 0, sizeof r);
	m = malloc(sizeof *m);
	if (m == NULL)
		return DEV_EXIT_USAGE;
	mbed_init(m, &o);
	err = configure(m, &o);
	if (err != NULL)
		rc = early_fail(m, &r, "usage", DEV_EXIT_USAGE, err);
	else
		rc = run(m, &o, &r);
	mbed_free(m);
	free(m);
	return rc;
}
