/*
 * pki-export.c: a device's credentials in the forms its firmware takes.
 *
 * Sources for each format (read in the firmware's own code):
 *
 * Tasmota TLSKey1/TLSKey2: arendst/Tasmota
 *   tasmota/tasmota_xdrv_driver/xdrv_02_9_mqtt.ino, CmndTlsKey() and
 *   loadTlsDir(): the argument is base64 (whitespace removed); TLSKey1
 *   must decode to exactly 32 bytes and becomes br_ec_private_key.x with
 *   curve 23 (secp256r1), i.e. the raw P-256 private scalar; TLSKey2 is
 *   refused before a key is stored and when 256 bytes or shorter, and is
 *   used as the DER client certificate (br_x509_certificate).  Both live
 *   in one 1 KB block after a 64-byte directory: key at offset 0, the
 *   certificate 4-byte aligned after it, so it must fit in 928 bytes.
 *   Only EC client keys exist there (setClientECCert): no RSA devices.
 *
 * Tasmota MqttFingerprint: lib/lib_ssl/tls_mini/src/
 *   WiFiClientSecureLightBearSSL.cpp, pubkeyfingerprint_pubkey_fingerprint:
 *   SHA-1 over the server key as BearSSL's X.509 decoder returns it
 *   (big-endian, leading zeros stripped), each field prefixed by its
 *   length as a 32-bit big-endian number: "ssh-rsa", e, n.  Tasmota
 *   6.5.0.15 to 8.3 hashed the same fields without the lengths (commit
 *   66b3dc1 "Increase TLS fingerprint security", 2020; 8.4+ accepted and
 *   upgraded such fingerprints until that fallback was deprecated in
 *   2024, Tasmota #20842).  Before 6.5.0.15 (axTLS) it was the SHA-1 of
 *   the DER certificate, which is also what ESP8266 Arduino's
 *   setFingerprint() compares.  The EC branch of that function never
 *   calls br_sha1_out, so fingerprints of ECDSA server keys do not work
 *   on Tasmota: we print RSA ones only.  The command parses 20 hex
 *   numbers with strtol, so bytes are separated by spaces
 *   (xdrv_02_9_mqtt.ino, CmndMqttFingerprint).
 *
 * BearSSL trust anchors: the layout `brssl ta` prints (tools/ta.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki.h"

#ifdef PKI_SUPPORTED

/* Tasmota's TLS store: 1 KB minus the 64-byte directory and the key. */
#define TASMOTA_CERT_MAX (1024 - 64 - 32)
#define TASMOTA_CERT_MIN 257

/* The gateway's certificates and their CA as this PKI wrote them. */
struct gw_certs {
	struct pki_buf server_rsa, server_ec;   /* leaf DER, may be empty */
	struct pki_buf ca;                      /* the RSA CA, their root */
};

/* ---- small printers ------------------------------------------------ */

/* 20 bytes as "AA BB ..." (sep ' ') or "AA:BB:..." (sep ':'). */
static void
fmt_fp(const unsigned char fp[20], char sep, char out[61])
{
	size_t i;

	for (i = 0; i < 20; i++)
		snprintf(out + 3 * i, 4, "%02X%c", fp[i], sep);
	out[59] = '\0';
}

static void
fmt_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

/* ---- fingerprints -------------------------------------------------- */

/* Append a field with Tasmota's u32 big-endian length prefix. */
static int
cat_len(struct pki_buf *b, const void *p, size_t len)
{
	unsigned char n[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len
	};

	return pki_buf_cat(b, n, 4) < 0 ? -1 : pki_buf_cat(b, p, len);
}

/*
 * Tasmota's public-key fingerprint of an RSA certificate: v2 with the
 * length prefixes (8.4 and later), else the v1 form without them.
 */
static int
tasmota_fp(const struct pki_buf *cert, bool v2, unsigned char fp[20])
{
	struct pki_buf b = { 0 };
	struct der_cert c;
	const unsigned char *n, *e;
	size_t nlen, elen;
	int rc;

	if (der_parse_cert(cert->data, cert->len, &c) < 0 || !c.rsa)
		return -1;
	n = c.rsa_n.val;
	nlen = c.rsa_n.len;
	e = c.rsa_e.val;
	elen = c.rsa_e.len;
	der_unsigned(&n, &nlen);
	der_unsigned(&e, &elen);
	if (v2)
		rc = cat_len(&b, "ssh-rsa", 7) < 0 || cat_len(&b, e, elen) < 0 ||
		    cat_len(&b, n, nlen) < 0 ? -1 : 0;
	else
		rc = pki_buf_cat(&b, "ssh-rsa", 7) < 0 ||
		    pki_buf_cat(&b, e, elen) < 0 ||
		    pki_buf_cat(&b, n, nlen) < 0 ? -1 : 0;
	if (rc == 0)
		rc = pki_sha1(b.data, b.len, fp);
	pki_buf_free(&b);
	return rc;
}

/* Load the gateway leaf certificates and their CA (missing: empty). */
static int
gw_certs_load(const char *dir, struct gw_certs *g)
{
	static const char *const names[] = {
		"server-rsa.crt", "server-ec.crt", "ca-rsa.crt"
	};
	struct pki_buf *dst[] = { &g->server_rsa, &g->server_ec, &g->ca };
	size_t i;

	memset(g, 0, sizeof *g);
	for (i = 0; i < 3; i++) {
		char *path = pki_path(dir, names[i]);
		int rc = 0;

		if (pki_exists(path))
			rc = pki_cert_load_der(path, dst[i]);
		free(path);
		if (rc < 0)
			return -1;
	}
	if (g->ca.len == 0) {
		pki_err("the CA certificate ca-rsa.crt is missing in %s", dir);
		return -1;
	}
	return 0;
}

static void
gw_certs_free(struct gw_certs *g)
{
	pki_buf_free(&g->server_rsa);
	pki_buf_free(&g->server_ec);
	pki_buf_free(&g->ca);
}

/* ---- BearSSL trust anchors ----------------------------------------- */

/* "static const unsigned char NAME[] = { ... };" 12 bytes a line. */
static int
c_array(struct pki_buf *out, const char *name, const unsigned char *p,
    size_t len)
{
	char line[128];
	size_t i;
	int rc;

	snprintf(line, sizeof line, "static const unsigned char %s[] = {",
	    name);
	rc = pki_buf_cat(out, line, strlen(line));
	for (i = 0; i < len && rc == 0; i++) {
		snprintf(line, sizeof line, "%s0x%02X%s", i % 12 == 0 ?
		    "\n\t" : " ", p[i], i + 1 < len ? "," : "");
		rc = pki_buf_cat(out, line, strlen(line));
	}
	if (rc == 0)
		rc = pki_buf_cat(out, "\n};\n\n", 5);
	return rc;
}

/* The arrays of one RSA anchor: DN, modulus, exponent. */
static int
ta_arrays(struct pki_buf *out, size_t i, const struct pki_buf *der)
{
	char name[32];
	struct der_cert c;
	const unsigned char *p;
	size_t len;

	if (der_parse_cert(der->data, der->len, &c) < 0 || !c.rsa) {
		pki_err("CA certificate %zu: not an RSA certificate", i);
		return -1;
	}
	snprintf(name, sizeof name, "TA%zu_DN", i);
	if (c_array(out, name, c.subject.raw, c.subject.rawlen) < 0)
		return -1;
	p = c.rsa_n.val;
	len = c.rsa_n.len;
	der_unsigned(&p, &len);
	snprintf(name, sizeof name, "TA%zu_RSA_N", i);
	if (c_array(out, name, p, len) < 0)
		return -1;
	p = c.rsa_e.val;
	len = c.rsa_e.len;
	der_unsigned(&p, &len);
	snprintf(name, sizeof name, "TA%zu_RSA_E", i);
	return c_array(out, name, p, len);
}

/* One element of the TAs[] table. */
static int
ta_entry(struct pki_buf *out, size_t i, bool last)
{
	char s[512];

	snprintf(s, sizeof s,
	    "\t{\n\t\t{ (unsigned char *)TA%zu_DN, sizeof TA%zu_DN },\n"
	    "\t\tBR_X509_TA_CA,\n\t\t{\n\t\t\tBR_KEYTYPE_RSA,\n"
	    "\t\t\t{ .rsa = {\n"
	    "\t\t\t\t(unsigned char *)TA%zu_RSA_N, sizeof TA%zu_RSA_N,\n"
	    "\t\t\t\t(unsigned char *)TA%zu_RSA_E, sizeof TA%zu_RSA_E,\n"
	    "\t\t\t} }\n\t\t}\n\t}%s\n", i, i, i, i, i, i,
	    last ? "" : ",");
	return pki_buf_cat(out, s, strlen(s));
}

int
pki_bearssl_header(const struct pki_buf *const *ca_der, size_t n,
    struct pki_buf *out)
{
	static const char head[] =
	    "/*\n * BearSSL trust anchors for the tlsgw local CA, in the "
	    "layout `brssl ta`\n * prints.  Include it after <bearssl.h> "
	    "(ESP8266 Arduino: <bearssl/bearssl.h>)\n * and pass TAs, TAs_NUM "
	    "to br_x509_minimal_init() or\n * br_ssl_client_init_full().\n"
	    " */\n\n";
	char s[96];
	size_t i;

	if (pki_buf_set(out, head, strlen(head)) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (ta_arrays(out, i, ca_der[i]) < 0)
			return -1;
	snprintf(s, sizeof s, "static const br_x509_trust_anchor TAs[%zu] = {\n",
	    n);
	if (pki_buf_cat(out, s, strlen(s)) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (ta_entry(out, i, i + 1 == n) < 0)
			return -1;
	snprintf(s, sizeof s, "};\n\n#define TAs_NUM   %zu\n", n);
	return pki_buf_cat(out, s, strlen(s));
}

/* ---- sections ------------------------------------------------------ */

/* TLSKey1 (the private scalar, with a warning) and TLSKey2. */
static int
tasmota_keys(FILE *out, const struct pki_device_out *d)
{
	unsigned char scalar[32];
	struct pki_buf b64 = { 0 };
	int rc;

	if (d->cert_der->len > TASMOTA_CERT_MAX ||
	    d->cert_der->len < TASMOTA_CERT_MIN)
		fprintf(out, "# WARNING: the certificate is %zu bytes; Tasmota "
		    "takes %d to %d.\n", d->cert_der->len, TASMOTA_CERT_MIN,
		    TASMOTA_CERT_MAX);
	if (pki_key_ec_scalar(d->key, scalar) < 0)
		return -1;
	fprintf(out, "# TLSKey1 below is this device's PRIVATE KEY (the raw "
	    "P-256 scalar Tasmota\n# stores). It is printed because you "
	    "asked for this device's credentials:\n# anyone who sees it can "
	    "pose as '%s'. Enter TLSKey1 before TLSKey2.\n", d->name);
	rc = pki_base64(scalar, sizeof scalar, &b64);
	explicit_bzero(scalar, sizeof scalar);
	if (rc == 0)
		fprintf(out, "TLSKey1 %s\n", (char *)b64.data);
	if (rc == 0)
		rc = pki_base64(d->cert_der->data, d->cert_der->len, &b64);
	if (rc == 0)
		fprintf(out, "TLSKey2 %s\n", (char *)b64.data);
	pki_buf_free(&b64);
	return rc;
}

/* MqttFingerprint of the gateway's RSA certificate, three algorithms. */
static int
tasmota_fingerprints(FILE *out, const struct gw_certs *g)
{
	unsigned char v2[20], v1[20], der[20];
	char hex[61];

	if (tasmota_fp(&g->server_rsa, true, v2) < 0 ||
	    tasmota_fp(&g->server_rsa, false, v1) < 0 ||
	    pki_sha1(g->server_rsa.data, g->server_rsa.len, der) < 0)
		return -1;
	fprintf(out, "# Check the gateway by its RSA key (Tasmota on ESP8266 "
	    "always gets the RSA\n# certificate; ECDSA key fingerprints do "
	    "not work in Tasmota):\nSetOption132 1\n");
	fmt_fp(v2, ' ', hex);
	fprintf(out, "MqttFingerprint1 %s\n", hex);
	fmt_fp(v1, ' ', hex);
	fprintf(out, "# Tasmota 6.5.0.15 to 8.3 (old algorithm, no lengths): "
	    "MqttFingerprint1 %s\n", hex);
	fmt_fp(der, ' ', hex);
	fprintf(out, "# Tasmota before 6.5.0.15 (SHA-1 of the certificate): "
	    "MqttFingerprint %s\n", hex);
	return 0;
}

/* Tasmota console commands. */
static int
sec_tasmota(FILE *out, const struct pki_device_out *d,
    const struct gw_certs *g)
{
	fprintf(out, "\n== Tasmota (console; a build with USE_MQTT_TLS and "
	    "USE_MQTT_AWS_IOT, e.g. tasmota32) ==\n");
	if (d->rsa) {
		fprintf(out, "# Tasmota stores only P-256 client keys (TLSKey1 "
		    "must be 32 bytes):\n# issue this device without --rsa "
		    "for Tasmota.\n");
		return 0;
	}
	if (tasmota_keys(out, d) < 0)
		return -1;
	fprintf(out, "# Through tlsgw the key is used when Tasmota negotiates "
	    "ECDHE-ECDSA (ESP32\n# builds): for ECDHE-RSA, wolfSSL asks for "
	    "RSA client certificates only and\n# BearSSL then sends none.\n");
	fprintf(out, "SetOption103 1\n");
	if (d->host != NULL)
		fprintf(out, "MqttHost %s\nMqttPort 8883\n", d->host);
	fprintf(out, "# MqttPassword must not be empty in these builds (any "
	    "value: with a key stored,\n# Tasmota sends no user name or "
	    "password).\n");
	if (g->server_rsa.len == 0) {
		fprintf(out, "# Run `tlsgw pki server NAME...` for the "
		    "gateway's fingerprint.\n");
		return 0;
	}
	if (tasmota_fingerprints(out, g) < 0)
		return -1;
	fprintf(out, "# Or check the chain (SetOption132 0): build Tasmota "
	    "with %s/trust_anchors.h\n# as its Tasmota_TA.\n", d->devdir);
	return 0;
}

/* A C raw string holding the gateway's CA certificate. */
static int
print_ca_pem(FILE *out, const struct gw_certs *g)
{
	struct pki_buf pem = { 0 };
	int rc;

	rc = pki_cert_pem(&g->ca, &pem);
	if (rc == 0)
		fprintf(out, "static const char ca_pem[] PROGMEM = R\"PEM(\n"
		    "%s)PEM\";\n", (char *)pem.data);
	pki_buf_free(&pem);
	return rc;
}

/* ESP8266 Arduino core, BearSSL::WiFiClientSecure. */
static int
sec_arduino(FILE *out, const struct pki_device_out *d,
    const struct gw_certs *g)
{
	unsigned char fp[20];
	char hex[61];

	fprintf(out, "\n== ESP8266 Arduino (BearSSL::WiFiClientSecure) ==\n");
	if (g->server_ec.len > 0 && g->server_rsa.len > 0) {
		if (pki_sha1(g->server_ec.data, g->server_ec.len, fp) < 0)
			return -1;
		fmt_fp(fp, ':', hex);
		fprintf(out, "// Its default ciphers put ECDSA first: the "
		    "gateway answers with server-ec.crt.\n"
		    "client.setFingerprint(\"%s\");\n", hex);
		if (pki_sha1(g->server_rsa.data, g->server_rsa.len, fp) < 0)
			return -1;
		fmt_fp(fp, ':', hex);
		fprintf(out, "// After setCiphersLessSecure() or with RSA-only "
		    "ciphers it gets server-rsa.crt:\n"
		    "// client.setFingerprint(\"%s\");\n", hex);
		fprintf(out, "// Fingerprints change whenever `tlsgw pki "
		    "server` runs again; the CA does not.\n");
	}
	fprintf(out, "// Or check the chain with the gateway's CA:\n");
	if (print_ca_pem(out, g) < 0)
		return -1;
	fprintf(out, "BearSSL::X509List trust(ca_pem);\n"
	    "client.setTrustAnchors(&trust);\n");
	fprintf(out, "// Client certificate: %s/cert.pem and key.pem:\n",
	    d->devdir);
	if (d->rsa)
		fprintf(out, "// client.setClientRSACert(new BearSSL::X509List"
		    "(cert_pem), new BearSSL::PrivateKey(key_pem));\n");
	else
		fprintf(out, "// client.setClientECCert(new BearSSL::X509List"
		    "(cert_pem), new BearSSL::PrivateKey(key_pem),\n"
		    "//     BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, BR_KEYTYPE_EC);\n");
	return 0;
}

/* BearSSL trust-anchor header: the path, or its text for --format bearssl. */
static int
sec_bearssl(FILE *out, const struct pki_device_out *d, bool full)
{
	struct pki_buf h = { 0 };
	char *path = pki_path(d->devdir, "trust_anchors.h");
	int rc = 0;

	fprintf(out, "\n== BearSSL (the gateway's CA as trust anchor, "
	    "`brssl ta` layout) ==\n%s\n", path);
	if (full) {
		rc = pki_read_file(path, &h);
		if (rc == 0)
			fprintf(out, "\n%s", (char *)h.data);
		pki_buf_free(&h);
	}
	free(path);
	return rc;
}

/* MicroPython's ssl module (mbedTLS ports) takes DER bytes. */
static void
sec_micropython(FILE *out, const struct pki_device_out *d)
{
	fprintf(out, "\n== MicroPython (DER) ==\n"
	    "%s/cert.der\n%s/key.der\n%s/ca.der  (the gateway's CA)\n",
	    d->devdir, d->devdir, d->devdir);
	fprintf(out, "# ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
	    "# ctx.load_cert_chain(open('cert.der','rb').read(), "
	    "open('key.der','rb').read())\n"
	    "# ctx.load_verify_locations(cadata=open('ca.der','rb').read())\n"
	    "# sock = ctx.wrap_socket(sock, server_hostname='%s')\n",
	    d->host != NULL ? d->host : "GATEWAY-NAME");
}

/* ESP-IDF esp-mqtt and Arduino-ESP32 take PEM strings. */
static void
sec_espidf(FILE *out, const struct pki_device_out *d)
{
	fprintf(out, "\n== ESP-IDF / Arduino-ESP32 (PEM) ==\n"
	    "%s/ca.pem    (the gateway's CA)\n%s/cert.pem\n%s/key.pem\n",
	    d->devdir, d->devdir, d->devdir);
	fprintf(out, "// esp-mqtt: .broker.verification.certificate = ca.pem, "
	    ".credentials.authentication.certificate = cert.pem,\n"
	    "//           .credentials.authentication.key = key.pem "
	    "(embed them with EMBED_TXTFILES)\n"
	    "// Arduino-ESP32 WiFiClientSecure: setCACert(ca), "
	    "setCertificate(cert), setPrivateKey(key)\n");
}

int
pki_export_device(FILE *out, enum pki_format fmt,
    const struct pki_device_out *d)
{
	struct gw_certs g;
	char date[16];
	bool all = fmt == PKI_FMT_ALL;
	int rc = 0;

	if (gw_certs_load(d->dir, &g) < 0) {
		gw_certs_free(&g);
		return -1;
	}
	fmt_date(d->not_after, date, sizeof date);
	fprintf(out, "device '%s': %s certificate, serial %s, valid until %s\n"
	    "files: %s/{cert.pem,key.pem,cert.der,key.der,ca.der,ca.pem,"
	    "trust_anchors.h}\n", d->name, d->rsa ? "RSA-2048" :
	    "ECDSA P-256", d->serial, date, d->devdir);
	if (rc == 0 && (all || fmt == PKI_FMT_TASMOTA))
		rc = sec_tasmota(out, d, &g);
	if (rc == 0 && (all || fmt == PKI_FMT_ARDUINO))
		rc = sec_arduino(out, d, &g);
	if (rc == 0 && (all || fmt == PKI_FMT_BEARSSL))
		rc = sec_bearssl(out, d, fmt == PKI_FMT_BEARSSL);
	if (rc == 0 && (all || fmt == PKI_FMT_MICROPYTHON))
		sec_micropython(out, d);
	if (rc == 0 && (all || fmt == PKI_FMT_ESPIDF))
		sec_espidf(out, d);
	gw_certs_free(&g);
	return rc;
}

#endif /* PKI_SUPPORTED */
