/*
 * bear_client.c: a device emulator on BearSSL 0.6 (Debian libbearssl),
 * configured the way the device firmwares configure BearSSL, that runs
 * an MQTT CONNECT/SUBSCRIBE/PUBLISH/echo session through a TLS server
 * (the gateway, or a broker directly). See mqtt_min.h for the CLI and
 * the result line; this file is the BearSSL half.
 *
 * Profiles (DEVICES.md):
 *
 *  tasmota-esp8266  Tasmota lib/lib_ssl/tls_mini br_ssl_client_base_init:
 *                   br_ssl_client_zero, TLS 1.2 only, one suite (C02F),
 *                   SHA-256 the only hash (so signature_algorithms is
 *                   rsa_pkcs1_sha256 alone and only sha256WithRSA chains
 *                   verify), PRF SHA-256, AES-GCM (small AES, ghash
 *                   ctmul32), br_ec_p256_m15 (P-256 the only curve), RSA
 *                   verification only, no renegotiation. X.509 minimal
 *                   with RSA + SHA-256 only, real time. Buffers 1024 in /
 *                   1024 out (+BearSSL overheads), so MFL 1024 (code 2) is
 *                   requested and any larger incoming record is fatal.
 *  tasmota-esp32    The ESP32 branch of the same code: suites C02F, C02B
 *                   and ECDSA verification of ServerKeyExchange; X.509
 *                   minimal also gets ECDSA on P-256 (2025+ builds);
 *                   buffers 2048/2048, so MFL 2048 (code 3).
 *  esp8266-arduino  esp8266/Arduino WiFiClientSecureBearSSL defaults: the
 *                   "full" client profile (br_ssl_client_init_full: 45
 *                   suites CCA9 ... 000A, TLS 1.0-1.2, all curves and
 *                   hashes, RSA + ECDSA), buffers 16 KB in / 512 out, so
 *                   MFL 512 (code 1) is requested but larger incoming
 *                   records are still accepted.
 *
 * Not emulated: Tasmota's default SHA-1 public-key fingerprint check
 * (we always validate the chain against --ca); its NTP-or-config clock
 * (we use the host clock); the ESP8266 stack thunk; Arduino's
 * setFingerprint/setInsecure/probeMaxFragmentLength modes; and the
 * small differences of the esp8266 BearSSL fork from upstream 0.6.
 * --suites / --min-version / --max-version on the hand-configured
 * Tasmota profiles add the BearSSL implementations those suites or
 * versions need (CBC, SHA-1, SHA-384, ECDSA, ...), which also widens
 * signature_algorithms; the curve stays P-256 only.
 */
#include "mqtt_min.h"

#include <bearssl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const profiles[] = {
	"tasmota-esp8266", "tasmota-esp32", "esp8266-arduino", NULL
};

enum { P_TASMOTA8266, P_TASMOTA32, P_ARDUINO };

/* BearSSL's own record overheads (ssl_engine.c, not exported). */
#define BEAR_IN_OVERHEAD 325
#define BEAR_OUT_OVERHEAD 85

/* Pump target meaning "only push pending records out". */
#define PUMP_FLUSH 0u

/* Trust anchors decoded from the --ca PEM file. */
struct anchors {
	br_x509_trust_anchor *ta;
	size_t n;
	size_t cap;
};

/* X.509 wrapper: validate against our name, not the SNI we sent. */
struct name_wrap {
	const br_x509_class *vtable;
	const br_x509_class **inner;
	const char *name;
};

struct bear {
	const struct dev_opts *o;
	int fd;
	br_ssl_client_context sc;
	br_x509_minimal_context xc;
	struct name_wrap nw;
	struct anchors ta;
	unsigned char *ibuf;
	unsigned char *obuf;
	size_t ilen;
	size_t olen;
	unsigned mfl;           /* MFL we ask for (0: none) */
	struct tls_watch w;
	struct mqtt_buf inq;    /* decrypted, not yet read by the session */
	int last_err;           /* BearSSL error once the engine closed */
	int sys_errno;
};

/* ---- errors ---------------------------------------------------------- */

static const struct { int code; const char *name; } bear_errors[] = {
	{ 0, "BR_ERR_OK" }, { 1, "BR_ERR_BAD_PARAM" },
	{ 2, "BR_ERR_BAD_STATE" }, { 3, "BR_ERR_UNSUPPORTED_VERSION" },
	{ 4, "BR_ERR_BAD_VERSION" }, { 5, "BR_ERR_BAD_LENGTH" },
	{ 6, "BR_ERR_TOO_LARGE" }, { 7, "BR_ERR_BAD_MAC" },
	{ 8, "BR_ERR_NO_RANDOM" }, { 9, "BR_ERR_UNKNOWN_TYPE" },
	{ 10, "BR_ERR_UNEXPECTED" }, { 12, "BR_ERR_BAD_CCS" },
	{ 13, "BR_ERR_BAD_ALERT" }, { 14, "BR_ERR_BAD_HANDSHAKE" },
	{ 15, "BR_ERR_OVERSIZED_ID" }, { 16, "BR_ERR_BAD_CIPHER_SUITE" },
	{ 17, "BR_ERR_BAD_COMPRESSION" }, { 18, "BR_ERR_BAD_FRAGLEN" },
	{ 19, "BR_ERR_BAD_SECRENEG" }, { 20, "BR_ERR_EXTRA_EXTENSION" },
	{ 21, "BR_ERR_BAD_SNI" }, { 22, "BR_ERR_BAD_HELLO_DONE" },
	{ 23, "BR_ERR_LIMIT_EXCEEDED" }, { 24, "BR_ERR_BAD_FINISHED" },
	{ 25, "BR_ERR_RESUME_MISMATCH" }, { 26, "BR_ERR_INVALID_ALGORITHM" },
	{ 27, "BR_ERR_BAD_SIGNATURE" }, { 28, "BR_ERR_WRONG_KEY_USAGE" },
	{ 29, "BR_ERR_NO_CLIENT_AUTH" }, { 31, "BR_ERR_IO" },
	{ 33, "BR_ERR_X509_INVALID_VALUE" }, { 34, "BR_ERR_X509_TRUNCATED" },
	{ 35, "BR_ERR_X509_EMPTY_CHAIN" }, { 36, "BR_ERR_X509_INNER_TRUNC" },
	{ 37, "BR_ERR_X509_BAD_TAG_CLASS" },
	{ 38, "BR_ERR_X509_BAD_TAG_VALUE" },
	{ 39, "BR_ERR_X509_INDEFINITE_LENGTH" },
	{ 40, "BR_ERR_X509_EXTRA_ELEMENT" }, { 41, "BR_ERR_X509_UNEXPECTED" },
	{ 42, "BR_ERR_X509_NOT_CONSTRUCTED" },
	{ 43, "BR_ERR_X509_NOT_PRIMITIVE" },
	{ 44, "BR_ERR_X509_PARTIAL_BYTE" }, { 45, "BR_ERR_X509_BAD_BOOLEAN" },
	{ 46, "BR_ERR_X509_OVERFLOW" }, { 47, "BR_ERR_X509_BAD_DN" },
	{ 48, "BR_ERR_X509_BAD_TIME" }, { 49, "BR_ERR_X509_UNSUPPORTED" },
	{ 50, "BR_ERR_X509_LIMIT_EXCEEDED" },
	{ 51, "BR_ERR_X509_WRONG_KEY_TYPE" },
	{ 52, "BR_ERR_X509_BAD_SIGNATURE" },
	{ 53, "BR_ERR_X509_TIME_UNKNOWN" }, { 54, "BR_ERR_X509_EXPIRED" },
	{ 55, "BR_ERR_X509_DN_MISMATCH" },
	{ 56, "BR_ERR_X509_BAD_SERVER_NAME" },
	{ 57, "BR_ERR_X509_CRITICAL_EXTENSION" },
	{ 58, "BR_ERR_X509_NOT_CA" },
	{ 59, "BR_ERR_X509_FORBIDDEN_KEY_USAGE" },
	{ 60, "BR_ERR_X509_WEAK_PUBLIC_KEY" },
	{ 62, "BR_ERR_X509_NOT_TRUSTED" },
};

/* "BR_ERR_X509_NOT_TRUSTED code=62"; alerts as RECV/SEND_FATAL_ALERT+n. */
static void bear_err_text(int err, char *buf, size_t len)
{
	size_t i;

	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		snprintf(buf, len, "BR_ERR_SEND_FATAL_ALERT+%d code=%d",
			err - BR_ERR_SEND_FATAL_ALERT, err);
		return;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT) {
		snprintf(buf, len, "BR_ERR_RECV_FATAL_ALERT+%d code=%d",
			err - BR_ERR_RECV_FATAL_ALERT, err);
		return;
	}
	for (i = 0; i < sizeof bear_errors / sizeof bear_errors[0]; i++) {
		if (bear_errors[i].code == err) {
			snprintf(buf, len, "%s code=%d", bear_errors[i].name, err);
			return;
		}
	}
	snprintf(buf, len, "BR_ERR_UNKNOWN code=%d", err);
}

/* dev_io errtext hook: the engine error, else the socket error. */
static void bear_errtext(void *ctx, char *buf, size_t len)
{
	struct bear *b = ctx;

	if (b->last_err != 0) {
		bear_err_text(b->last_err, buf, len);
	} else if (b->sys_errno != 0) {
		snprintf(buf, len, "socket:%s", strerror(b->sys_errno));
		dev_token(buf);
	} else {
		snprintf(buf, len, "engine_stuck");
	}
}

/* ---- trust anchors --------------------------------------------------- */

/* Whole file into memory (CA bundles are small). */
static unsigned char *read_file(const char *path, size_t *len)
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

/* BearSSL decoder callback: collect bytes (DN or DER) into a buffer. */
static void collect(void *ctx, const void *buf, size_t len)
{
	mqtt_buf_put(ctx, buf, len);
}

/* Heap copy of key material, so the anchor outlives the decoder. */
static unsigned char *dup_bytes(const unsigned char *p, size_t n)
{
	unsigned char *q = malloc(n ? n : 1);

	if (q != NULL && n > 0)
		memcpy(q, p, n);
	return q;
}

/* Copy the decoded public key into the anchor. */
static int anchor_key(br_x509_trust_anchor *ta, const br_x509_pkey *pk)
{
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		return ta->pkey.key.rsa.n && ta->pkey.key.rsa.e ? 0 : -1;
	}
	if (pk->key_type == BR_KEYTYPE_EC) {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		return ta->pkey.key.ec.q ? 0 : -1;
	}
	return -1;
}

/* One DER certificate becomes one trust anchor (CA flag from the cert). */
static int add_anchor(struct anchors *a, const unsigned char *der,
	size_t len)
{
	br_x509_decoder_context dc;
	struct mqtt_buf dn = { 0 };
	const br_x509_pkey *pk;
	br_x509_trust_anchor *ta;

	br_x509_decoder_init(&dc, collect, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || dn.oom) {
		mqtt_buf_free(&dn);
		return -1;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		void *p = realloc(a->ta, cap * sizeof *a->ta);

		if (p == NULL) {
			mqtt_buf_free(&dn);
			return -1;
		}
		a->ta = p;
		a->cap = cap;
	}
	ta = &a->ta[a->n++];
	memset(ta, 0, sizeof *ta);
	ta->dn.data = dn.data;
	ta->dn.len = dn.len;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	return anchor_key(ta, pk);
}

/* Run the PEM decoder over the file; every CERTIFICATE is an anchor. */
static int pem_anchors(struct anchors *a, const unsigned char *data,
	size_t len)
{
	br_pem_decoder_context pc;
	struct mqtt_buf der = { 0 };
	int is_cert = 0, rc = 0;
	size_t off = 0;

	br_pem_decoder_init(&pc);
	while (off < len && rc == 0) {
		off += br_pem_decoder_push(&pc, data + off, len - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			is_cert = strcmp(br_pem_decoder_name(&pc),
				"CERTIFICATE") == 0;
			der.len = 0;
			br_pem_decoder_setdest(&pc, collect, &der);
			break;
		case BR_PEM_END_OBJ:
			if (is_cert && (der.oom
					|| add_anchor(a, der.data, der.len) < 0))
				rc = -1;
			break;
		case BR_PEM_ERROR:
			rc = -1;
			break;
		default:
			break;
		}
	}
	mqtt_buf_free(&der);
	return rc;
}

/* Load --ca; at least one certificate must decode. */
static int load_anchors(struct anchors *a, const char *path)
{
	size_t len = 0;
	unsigned char *data = read_file(path, &len);
	int rc;

	if (data == NULL)
		return -1;
	rc = pem_anchors(a, data, len);
	free(data);
	return rc == 0 && a->n > 0 ? 0 : -1;
}

/* Free the anchors' DN and key copies. */
static void free_anchors(struct anchors *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		br_x509_trust_anchor *ta = &a->ta[i];

		free(ta->dn.data);
		if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
			free(ta->pkey.key.rsa.n);
			free(ta->pkey.key.rsa.e);
		} else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
			free(ta->pkey.key.ec.q);
		}
	}
	free(a->ta);
	memset(a, 0, sizeof *a);
}

/* ---- name check without SNI ------------------------------------------ */

/* Start the inner validator with our name instead of the SNI. */
static void nw_start_chain(const br_x509_class **ctx, const char *sn)
{
	struct name_wrap *w = (struct name_wrap *)(void *)ctx;

	(void)sn;
	(*w->inner)->start_chain(w->inner, w->name);
}

/* Forwarders from here on: chain handling stays the inner engine's. */
static void nw_start_cert(const br_x509_class **ctx, uint32_t len)
{
	struct name_wrap *w = (struct name_wrap *)(void *)ctx;

	(*w->inner)->start_cert(w->inner, len);
}

/* Certificate bytes go straight to the inner engine. */
static void nw_append(const br_x509_class **ctx, const unsigned char *buf,
	size_t len)
{
	struct name_wrap *w = (struct name_wrap *)(void *)ctx;

	(*w->inner)->append(w->inner, buf, len);
}

/* End of one certificate: inner engine. */
static void nw_end_cert(const br_x509_class **ctx)
{
	struct name_wrap *w = (struct name_wrap *)(void *)ctx;

	(*w->inner)->end_cert(w->inner);
}

/* The verdict (0 or a BR_ERR_X509_* code) is the inner engine's. */
static unsigned nw_end_chain(const br_x509_class **ctx)
{
	struct name_wrap *w = (struct name_wrap *)(void *)ctx;

	return (*w->inner)->end_chain(w->inner);
}

/* The validated server key, for the key exchange. */
static const br_x509_pkey *nw_get_pkey(const br_x509_class *const *ctx,
	unsigned *usages)
{
	const struct name_wrap *w = (const struct name_wrap *)(const void *)ctx;

	return (*w->inner)->get_pkey(w->inner, usages);
}

static const br_x509_class name_wrap_vtable = {
	sizeof(struct name_wrap), nw_start_chain, nw_start_cert, nw_append,
	nw_end_cert, nw_end_chain, nw_get_pkey
};

/* ---- profiles -------------------------------------------------------- */

static const uint16_t tasmota8266_suites[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
};

static const uint16_t tasmota32_suites[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
};

/* Tasmota tls_mini br_ssl_client_base_init, then its X.509 minimal. */
static void cfg_tasmota(struct bear *b, int esp32)
{
	br_ssl_client_context *cc = &b->sc;
	br_ssl_engine_context *eng = &cc->eng;

	br_ssl_client_zero(cc);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	if (esp32)
		br_ssl_engine_set_suites(eng, tasmota32_suites, 2);
	else
		br_ssl_engine_set_suites(eng, tasmota8266_suites, 1);
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
		&br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_small_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul32);
	br_ssl_engine_set_ec(eng, &br_ec_p256_m15);
	if (esp32)
		br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i15_vrfy_asn1);

	br_x509_minimal_init(&b->xc, &br_sha256_vtable, b->ta.ta, b->ta.n);
	br_x509_minimal_set_rsa(&b->xc, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_hash(&b->xc, br_sha256_ID, &br_sha256_vtable);
	if (esp32)
		br_x509_minimal_set_ecdsa(&b->xc, &br_ec_p256_m15,
			&br_ecdsa_i15_vrfy_asn1);
	br_ssl_engine_set_x509(eng, &b->xc.vtable);
}

/* esp8266/Arduino: BearSSL's full client profile. */
static void cfg_arduino(struct bear *b)
{
	br_ssl_client_init_full(&b->sc, &b->xc, b->ta.ta, b->ta.n);
}

/* What a suite needs beyond the Tasmota build (bits), -1 if unknown. */
enum {
	NEED_CBC = 1, NEED_GCM = 2, NEED_CCM = 4, NEED_CHAPOL = 8,
	NEED_3DES = 16, NEED_SHA1 = 32, NEED_SHA384 = 64, NEED_ECDSA = 128
};

static const struct { uint16_t id; int needs; } suite_needs_tab[] = {
	{ 0xCCA9, NEED_CHAPOL | NEED_ECDSA }, { 0xCCA8, NEED_CHAPOL },
	{ 0xC02B, NEED_GCM | NEED_ECDSA }, { 0xC02F, NEED_GCM },
	{ 0xC02C, NEED_GCM | NEED_SHA384 | NEED_ECDSA },
	{ 0xC030, NEED_GCM | NEED_SHA384 },
	{ 0xC0AC, NEED_CCM | NEED_ECDSA }, { 0xC0AD, NEED_CCM | NEED_ECDSA },
	{ 0xC0AE, NEED_CCM | NEED_ECDSA }, { 0xC0AF, NEED_CCM | NEED_ECDSA },
	{ 0xC023, NEED_CBC | NEED_ECDSA }, { 0xC027, NEED_CBC },
	{ 0xC024, NEED_CBC | NEED_SHA384 | NEED_ECDSA },
	{ 0xC028, NEED_CBC | NEED_SHA384 },
	{ 0xC009, NEED_CBC | NEED_SHA1 | NEED_ECDSA },
	{ 0xC013, NEED_CBC | NEED_SHA1 },
	{ 0xC00A, NEED_CBC | NEED_SHA1 | NEED_ECDSA },
	{ 0xC014, NEED_CBC | NEED_SHA1 },
	{ 0xC02D, NEED_GCM | NEED_ECDSA }, { 0xC031, NEED_GCM },
	{ 0xC02E, NEED_GCM | NEED_SHA384 | NEED_ECDSA },
	{ 0xC032, NEED_GCM | NEED_SHA384 },
	{ 0xC025, NEED_CBC | NEED_ECDSA }, { 0xC029, NEED_CBC },
	{ 0xC026, NEED_CBC | NEED_SHA384 | NEED_ECDSA },
	{ 0xC02A, NEED_CBC | NEED_SHA384 },
	{ 0xC004, NEED_CBC | NEED_SHA1 | NEED_ECDSA },
	{ 0xC00E, NEED_CBC | NEED_SHA1 },
	{ 0xC005, NEED_CBC | NEED_SHA1 | NEED_ECDSA },
	{ 0xC00F, NEED_CBC | NEED_SHA1 },
	{ 0x009C, NEED_GCM }, { 0x009D, NEED_GCM | NEED_SHA384 },
	{ 0xC09C, NEED_CCM }, { 0xC09D, NEED_CCM },
	{ 0xC0A0, NEED_CCM }, { 0xC0A1, NEED_CCM },
	{ 0x003C, NEED_CBC }, { 0x003D, NEED_CBC },
	{ 0x002F, NEED_CBC | NEED_SHA1 }, { 0x0035, NEED_CBC | NEED_SHA1 },
	{ 0xC008, NEED_3DES | NEED_SHA1 | NEED_ECDSA },
	{ 0xC012, NEED_3DES | NEED_SHA1 },
	{ 0xC003, NEED_3DES | NEED_SHA1 | NEED_ECDSA },
	{ 0xC00D, NEED_3DES | NEED_SHA1 },
	{ 0x000A, NEED_3DES | NEED_SHA1 },
};

/* Look a suite up; -1 when BearSSL 0.6 does not implement it. */
static int suite_needs(uint16_t id)
{
	size_t i;

	for (i = 0; i < sizeof suite_needs_tab / sizeof suite_needs_tab[0];
		i++)
		if (suite_needs_tab[i].id == id)
			return suite_needs_tab[i].needs;
	return -1;
}

/* Add the implementations `needs` asks for (only Tasmota lacks any). */
static void add_impls(struct bear *b, int needs)
{
	br_ssl_engine_context *eng = &b->sc.eng;

	if (needs & NEED_CBC)
		br_ssl_engine_set_default_aes_cbc(eng);
	if (needs & NEED_CCM)
		br_ssl_engine_set_default_aes_ccm(eng);
	if (needs & NEED_CHAPOL)
		br_ssl_engine_set_default_chapol(eng);
	if (needs & NEED_3DES)
		br_ssl_engine_set_default_des_cbc(eng);
	if (needs & NEED_SHA1)
		br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	if (needs & NEED_SHA384) {
		br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
		br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	}
	if (needs & NEED_ECDSA) {
		br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i15_vrfy_asn1);
		br_x509_minimal_set_ecdsa(&b->xc, &br_ec_p256_m15,
			&br_ecdsa_i15_vrfy_asn1);
	}
}

/* --suites: replace the list, adding what Tasmota builds lack. */
static const char *apply_suites(struct bear *b, const struct dev_opts *o)
{
	static char msg[64];
	int needs = 0;
	size_t i;

	if (o->nsuites > 48)
		return "more_than_48_suites";
	for (i = 0; i < o->nsuites; i++) {
		int n = suite_needs(o->suites[i]);

		if (n < 0) {
			snprintf(msg, sizeof msg,
				"suite_0x%04X_not_in_bearssl",
				o->suites[i]);
			return msg;
		}
		needs |= n;
	}
	if (o->profile_idx != P_ARDUINO)
		add_impls(b, needs & ~NEED_GCM);
	br_ssl_engine_set_suites(&b->sc.eng, o->suites, o->nsuites);
	return NULL;
}

/* --min/--max-version; TLS 1.0/1.1 need MD5, SHA-1 and their PRF. */
static void apply_versions(struct bear *b, const struct dev_opts *o)
{
	br_ssl_engine_context *eng = &b->sc.eng;
	unsigned vmin = eng->version_min, vmax = eng->version_max;

	if (o->min_version)
		vmin = o->min_version;
	if (o->max_version)
		vmax = o->max_version;
	if (vmin > vmax)
		vmin = vmax;
	br_ssl_engine_set_versions(eng, vmin, vmax);
	if (vmin < BR_TLS12 && o->profile_idx != P_ARDUINO) {
		br_ssl_engine_set_hash(eng, br_md5_ID, &br_md5_vtable);
		br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
		br_ssl_engine_set_prf10(eng, &br_tls10_prf);
	}
}

/*
 * I/O buffers decide the MFL BearSSL asks for (largest 2^k with
 * obuf >= 2^k + 85 and ibuf >= 2^k + 325). Tasmota sizes both to the
 * MFL, so larger records are fatal; Arduino keeps a 16 KB input.
 */
static int cfg_buffers(struct bear *b, const struct dev_opts *o)
{
	static const unsigned dflt[] = { 1024, 2048, 512 };
	unsigned mfl = o->mfl >= 0 ? (unsigned)o->mfl : dflt[o->profile_idx];
	int strict = o->profile_idx != P_ARDUINO;

	b->mfl = mfl;
	b->olen = mfl ? mfl + BEAR_OUT_OVERHEAD : BR_SSL_BUFSIZE_OUTPUT;
	b->ilen = mfl && strict ? mfl + BEAR_IN_OVERHEAD
		: BR_SSL_BUFSIZE_INPUT;
	b->ibuf = malloc(b->ilen);
	b->obuf = malloc(b->olen);
	if (b->ibuf == NULL || b->obuf == NULL)
		return -1;
	br_ssl_engine_set_buffers_bidi(&b->sc.eng, b->ibuf, b->ilen,
		b->obuf, b->olen);
	return 0;
}

/* The device clock, as days since year 0 and seconds in the day. */
static void set_time(struct bear *b)
{
	time_t now = time(NULL);

	br_x509_minimal_set_time(&b->xc, (uint32_t)(now / 86400 + 719528),
		(uint32_t)(now % 86400));
}

/* Whole profile plus overrides; NULL or a usage error text. */
static const char *configure(struct bear *b, const struct dev_opts *o)
{
	const char *err = NULL;

	if (o->profile_idx == P_ARDUINO)
		cfg_arduino(b);
	else
		cfg_tasmota(b, o->profile_idx == P_TASMOTA32);
	set_time(b);
	if (o->nsuites > 0)
		err = apply_suites(b, o);
	if (err == NULL)
		apply_versions(b, o);
	if (err == NULL && cfg_buffers(b, o) < 0)
		err = "oom";
	if (err == NULL && br_ssl_engine_last_error(&b->sc.eng) != BR_ERR_OK)
		err = "bad_bearssl_parameters";
	return err;
}

/* Entropy from the OS, injected as the firmwares do from their RNG. */
static int inject_entropy(struct bear *b)
{
	unsigned char seed[32];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t n = 0;

	if (f != NULL) {
		n = fread(seed, 1, sizeof seed, f);
		fclose(f);
	}
	if (n != sizeof seed)
		return -1;
	br_ssl_engine_inject_entropy(&b->sc.eng, seed, sizeof seed);
	return 0;
}

/* ---- the engine pump --------------------------------------------------- */

/* Move decrypted application data out so the engine never stalls. */
static int drain_app(struct bear *b)
{
	size_t len;
	unsigned char *p = br_ssl_engine_recvapp_buf(&b->sc.eng, &len);

	if (mqtt_buf_put(&b->inq, p, len) < 0)
		return -1;
	br_ssl_engine_recvapp_ack(&b->sc.eng, len);
	return 0;
}

/* Write pending record bytes: 1 progress, 0 would block, -1 error. */
static int write_some(struct bear *b)
{
	size_t len;
	unsigned char *p = br_ssl_engine_sendrec_buf(&b->sc.eng, &len);
	ssize_t n = send(b->fd, p, len, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
			|| errno == EINTR))
		return 0;
	if (n <= 0) {
		b->sys_errno = n < 0 ? errno : EPIPE;
		return -1;
	}
	br_ssl_engine_sendrec_ack(&b->sc.eng, (size_t)n);
	return 1;
}

/*
 * Read record bytes: the watcher sees them before BearSSL does, so an
 * oversized record is reported as such rather than as BR_ERR_TOO_LARGE.
 * Returns 1 progress (or nothing yet), 0 EOF, -1 error.
 */
static int read_some(struct bear *b)
{
	size_t len;
	unsigned char *p = br_ssl_engine_recvrec_buf(&b->sc.eng, &len);
	ssize_t n = recv(b->fd, p, len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
			|| errno == EINTR))
		return 1;
	if (n < 0) {
		b->sys_errno = errno;
		return -1;
	}
	if (n == 0)
		return 0;
	tls_watch_feed(&b->w, p, (size_t)n);
	if (!b->w.violation)
		br_ssl_engine_recvrec_ack(&b->sc.eng, (size_t)n);
	return 1;
}

/* Engine closed: clean close_notify is EOF, anything else an error. */
static int closed_rc(struct bear *b)
{
	b->last_err = br_ssl_engine_last_error(&b->sc.eng);
	return b->last_err == BR_ERR_OK ? DEV_IO_EOF : DEV_IO_ERR;
}

/* Can we stop? `want` is SENDAPP, RECVAPP, or PUMP_FLUSH. */
static int pump_done(struct bear *b, unsigned st, unsigned want)
{
	if (want == PUMP_FLUSH)
		return !(st & BR_SSL_SENDREC);
	if ((want & BR_SSL_SENDAPP) && (st & BR_SSL_SENDAPP))
		return 1;
	return (want & BR_SSL_RECVAPP) && b->inq.len > 0;
}

/* Run the engine until `want` holds, the deadline passes, or it fails. */
static int bear_pump(struct bear *b, unsigned want, int64_t deadline)
{
	br_ssl_engine_context *eng = &b->sc.eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		short ev = 0, rev = 0;
		int w;

		if (b->w.violation)
			return DEV_IO_MFL;
		if (st & BR_SSL_CLOSED)
			return pump_done(b, st, want) ? 0 : closed_rc(b);
		if (st & BR_SSL_RECVAPP) {
			if (drain_app(b) < 0)
				return DEV_IO_ERR;
			continue;
		}
		if (st & BR_SSL_SENDREC) {
			w = write_some(b);
			if (w < 0)
				return DEV_IO_ERR;
			if (w > 0)
				continue;
			ev |= POLLOUT;
		}
		if (pump_done(b, st, want))
			return 0;
		if (st & BR_SSL_RECVREC)
			ev |= POLLIN;
		if (ev == 0)
			return DEV_IO_ERR;
		w = dev_wait_fd(b->fd, ev, deadline, &rev);
		if (w == 0)
			return DEV_IO_TIMEOUT;
		if (w < 0)
			return DEV_IO_ERR;
		if ((st & BR_SSL_RECVREC) && (rev & (POLLIN | POLLHUP | POLLERR))) {
			w = read_some(b);
			if (w == 0)
				return DEV_IO_EOF;
			if (w < 0)
				return DEV_IO_ERR;
		}
	}
}

/* dev_io send: copy into the engine record by record, then flush. */
static int bear_send(void *ctx, const uint8_t *p, size_t n, int64_t dl)
{
	struct bear *b = ctx;
	br_ssl_engine_context *eng = &b->sc.eng;

	while (n > 0) {
		size_t len, k;
		unsigned char *buf;
		int rc = bear_pump(b, BR_SSL_SENDAPP, dl);

		if (rc < 0)
			return rc;
		buf = br_ssl_engine_sendapp_buf(eng, &len);
		k = n < len ? n : len;
		memcpy(buf, p, k);
		br_ssl_engine_sendapp_ack(eng, k);
		p += k;
		n -= k;
	}
	br_ssl_engine_flush(eng, 0);
	return bear_pump(b, PUMP_FLUSH, dl);
}

/* dev_io recv: from the drained queue, pumping when it is empty. */
static int bear_recv(void *ctx, uint8_t *p, size_t cap, int64_t dl)
{
	struct bear *b = ctx;
	size_t k;

	if (b->inq.len == 0) {
		int rc = bear_pump(b, BR_SSL_RECVAPP, dl);

		if (rc < 0)
			return rc;
	}
	k = cap < b->inq.len ? cap : b->inq.len;
	if (k > 0x7FFFFFFF)
		k = 0x7FFFFFFF;
	memcpy(p, b->inq.data, k);
	mqtt_buf_consume(&b->inq, k);
	return (int)k;
}

/* ---- main ------------------------------------------------------------ */

/* SNI and name check; the wrapper verifies a name we did not send. */
static int client_reset(struct bear *b, const struct dev_opts *o)
{
	const char *sni = o->no_sni ? NULL : o->sni;

	if (o->verify_name != NULL && (sni == NULL
			|| strcmp(sni, o->verify_name) != 0)) {
		b->nw.vtable = &name_wrap_vtable;
		b->nw.inner = &b->xc.vtable;
		b->nw.name = o->verify_name;
		br_ssl_engine_set_x509(&b->sc.eng, &b->nw.vtable);
	}
	return br_ssl_client_reset(&b->sc, sni, 0) ? 0 : -1;
}

/* Handshake; fills version and suite for the result line. */
static int handshake(struct bear *b, const struct dev_io *io,
	struct dev_result *r)
{
	br_ssl_session_parameters sp;
	int rc = bear_pump(b, BR_SSL_SENDAPP, dev_deadline(b->o));

	if (rc < 0) {
		dev_fail_io(r, io, "handshake", rc, DEV_EXIT_HANDSHAKE);
		return -1;
	}
	br_ssl_engine_get_session_parameters(&b->sc.eng, &sp);
	snprintf(r->version, sizeof r->version, "%s",
		dev_version_name(br_ssl_engine_get_version(&b->sc.eng)));
	r->suite = sp.cipher_suite;
	return 0;
}

/* close_notify out (best effort), then the socket. */
static void bear_close(struct bear *b)
{
	if (b->fd < 0)
		return;
	if (!(br_ssl_engine_current_state(&b->sc.eng) & BR_SSL_CLOSED)) {
		br_ssl_engine_close(&b->sc.eng);
		(void)bear_pump(b, PUMP_FLUSH, dev_now_ms() + 1000);
	}
	close(b->fd);
	b->fd = -1;
}

/* Usage-class failure (bad CA file, impossible suites) before any I/O. */
static int early_fail(struct bear *b, struct dev_result *r,
	const char *stage, int code, const char *err)
{
	r->stage = stage;
	r->exit_code = code;
	snprintf(r->err, sizeof r->err, "%s", err);
	return dev_report(b->o, r, &b->w);
}

/* TCP, handshake, MQTT session; the result line is printed by main. */
static int run(struct bear *b, const struct dev_opts *o, struct dev_result *r)
{
	const struct dev_io io = { b, bear_send, bear_recv, bear_errtext };
	char err[128];
	int timed_out = 0;

	b->fd = dev_tcp_connect(o->host, o->port, dev_deadline(o), err,
		sizeof err, &timed_out);
	if (b->fd < 0)
		return early_fail(b, r, "connect", timed_out ? DEV_EXIT_TIMEOUT
			: DEV_EXIT_USAGE, err);
	if (inject_entropy(b) < 0 || client_reset(b, o) < 0) {
		bear_err_text(br_ssl_engine_last_error(&b->sc.eng), err,
			sizeof err);
		return early_fail(b, r, "handshake", DEV_EXIT_HANDSHAKE, err);
	}
	if (handshake(b, &io, r) == 0) {
		if (o->handshake_only) {
			r->stage = "done";
			r->exit_code = DEV_EXIT_OK;
		} else {
			dev_mqtt_session(&io, o, r);
		}
	}
	bear_close(b);
	return dev_report(o, r, &b->w);
}

/* Parse, load the CA, configure the profile, run, print one line. */
int main(int argc, char **argv)
{
	struct dev_opts o;
	struct dev_result r;
	struct bear *b;
	const char *err;
	int rc;

	rc = dev_opts_parse(&o, argc, argv, "bearssl", profiles);
	if (rc != 0)
		return rc > 0 ? 0 : DEV_EXIT_USAGE;
	memset(&r, 0, sizeof r);
	b = calloc(1, sizeof *b);
	if (b == NULL)
		return DEV_EXIT_USAGE;
	b->o = &o;
	b->fd = -1;
	if (load_anchors(&b->ta, o.ca) < 0) {
		tls_watch_init(&b->w, 0);
		rc = early_fail(b, &r, "usage", DEV_EXIT_USAGE, "bad_ca_file");
	} else if ((err = configure(b, &o)) != NULL) {
		tls_watch_init(&b->w, b->mfl);
		rc = early_fail(b, &r, "usage", DEV_EXIT_USAGE, err);
	} else {
		tls_watch_init(&b->w, b->mfl);
		rc = run(b, &o, &r);
	}
	free_anchors(&b->ta);
	mqtt_buf_free(&b->inq);
	free(b->ibuf);
	free(b->obuf);
	free(b);
	return rc;
}
