/*
 * tlsctx.c: the wolfSSL contexts behind a policy, built once at load
 * time.  Nothing here trusts wolfSSL's defaults: the cipher list is set
 * explicitly and read back, the key is proven to match the certificate
 * by signing with it (wolfSSL 5.5.4 accepts a wrong ECDSA key of the
 * right curve), and the certificate's type and dates are checked before
 * a device ever sees them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/coding.h>
/* Reading a context's cipher list back takes the OpenSSL layer's
 * wolfSSL_get_ciphers_compat (Debian's build; not the lean one, which
 * cannot offer a weak suite in the first place: none is compiled in). */
#if defined(HAVE_WOLFSSL_GET_CIPHERS_COMPAT) && defined(OPENSSL_EXTRA)
#define TLSCTX_CAN_READ_BACK 1
#endif

#include "der.h"
#include "keys.h"
#include "policy.h"
#include "suites.h"
#include "tlsctx.h"

#define TLSCTX_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

static const uint16_t tlsctx_up13[] = { 0x1301, 0x1302, 0x1303 };
static const uint16_t tlsctx_up12[] = {
	0x1301, 0x1302, 0x1303,
	0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
};

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

size_t
tlsctx_upstream_suites(uint16_t min_version, const uint16_t **codes)
{
	if (min_version == TLSV_TLS12) {
		*codes = tlsctx_up12;
		return NELEM(tlsctx_up12);
	}
	*codes = tlsctx_up13;
	return NELEM(tlsctx_up13);
}

bool
tlsctx_suite_supported(uint16_t code)
{
	const struct suite_info *s = suite_find(code);
	unsigned char c0 = 0, c1 = 0;
	int flags = 0;

	if (s == NULL || s->wolfssl == NULL)
		return false;
	if (wolfSSL_get_cipher_suite_from_name(s->wolfssl, &c0, &c1,
	    &flags) != 0)
		return false;
	return ((uint16_t)(c0 << 8) | c1) == code;
}

#ifdef TLSCTX_CAN_READ_BACK
/* The IANA code of a name wolfSSL reports: ours first (both spellings),
 * then wolfSSL's own table; 0 when neither knows it. */
static uint16_t
tlsctx_code_of(const char *name)
{
	const struct suite_info *s = suite_find_name(name);
	unsigned char c0 = 0, c1 = 0;
	int flags = 0;

	if (s != NULL)
		return s->code;
	if (wolfSSL_get_cipher_suite_from_name(name, &c0, &c1, &flags) == 0)
		return (uint16_t)((c0 << 8) | c1);
	return 0;
}
#endif

int
tlsctx_read_ciphers(WOLFSSL_CTX *ctx, uint16_t *codes, size_t max)
{
#ifdef TLSCTX_CAN_READ_BACK
	WOLF_STACK_OF(WOLFSSL_CIPHER) *sk;
	WOLFSSL *ssl;
	int i, n;

	if ((ssl = wolfSSL_new(ctx)) == NULL)
		return -1;
	/* The stack belongs to ssl. */
	sk = wolfSSL_get_ciphers_compat(ssl);
	n = sk == NULL ? 0 : wolfSSL_sk_SSL_CIPHER_num(sk);
	for (i = 0; i < n && (size_t)i < max; i++) {
		const WOLFSSL_CIPHER *c = wolfSSL_sk_SSL_CIPHER_value(sk, i);
		const char *name = c ? wolfSSL_CIPHER_get_name(c) : NULL;

		codes[i] = name ? tlsctx_code_of(name) : 0;
	}
	wolfSSL_free(ssl);
	return n < 0 ? -1 : n;
#else
	(void)ctx;
	(void)codes;
	(void)max;
	return -1;
#endif
}

/* Without a read-back API: each name must be one wolfSSL knows, mapping
 * to the intended code (a list with only known names is set exactly). */
static int
tlsctx_check_names(const uint16_t *codes, size_t n, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!tlsctx_suite_supported(codes[i])) {
			char buf[8];

			snprintf(err, errlen, "wolfSSL does not offer %s",
			    suite_name(codes[i], buf, sizeof buf));
			return -1;
		}
	}
	return 0;
}

/* Describe the first difference between what we set and what wolfSSL
 * reports, worst first: an extra suite, a missing one, the order. */
static int
tlsctx_compare(const uint16_t *want, size_t nwant, const uint16_t *got,
    size_t ngot, char *err, size_t errlen)
{
	const struct suite_info *s;
	char buf[8];
	size_t i, j;

	for (i = 0; i < ngot; i++) {
		for (j = 0; j < nwant && want[j] != got[i]; j++)
			;
		s = suite_find(got[i]);
		if (j == nwant || (s != NULL && s->weakness != NULL)) {
			snprintf(err, errlen, "wolfSSL would also offer %s%s%s%s",
			    suite_name(got[i], buf, sizeof buf),
			    s && s->weakness ? " (" : "",
			    s && s->weakness ? s->weakness : "",
			    s && s->weakness ? ")" : "");
			return -1;
		}
	}
	for (i = 0; i < nwant; i++) {
		for (j = 0; j < ngot && got[j] != want[i]; j++)
			;
		if (j == ngot) {
			snprintf(err, errlen, "wolfSSL does not offer %s",
			    suite_name(want[i], buf, sizeof buf));
			return -1;
		}
	}
	if (ngot != nwant || memcmp(want, got, nwant * sizeof *want) != 0) {
		snprintf(err, errlen, "wolfSSL changed the order of the "
		    "cipher list");
		return -1;
	}
	return 0;
}

/*
 * wolfSSL_get_ciphers_compat leaves out suites that wolfSSL's own table
 * dates to SSLv3 when the minimum version is TLS 1.2 (sslCipherMinMaxCheck
 * in 5.5.4), although the handshake offers them: of ours, the static-RSA
 * AES-CBC-SHA pair.  Such a suite missing from the read-back is checked by
 * name instead, and left out of the comparison.
 */
static bool
tlsctx_hidden_in_readback(uint16_t code)
{
	return code == 0x002F || code == 0x0035;
}

int
tlsctx_check_ciphers(WOLFSSL_CTX *ctx, const uint16_t *codes, size_t n,
    char *err, size_t errlen)
{
	uint16_t got[256], want[256];
	size_t i, j, nwant = 0;
	int ngot;

	ngot = tlsctx_read_ciphers(ctx, got, NELEM(got));
	if (ngot < 0)
		return tlsctx_check_names(codes, n, err, errlen);
	if ((size_t)ngot > NELEM(got)) {
		snprintf(err, errlen, "wolfSSL offers %d suites, more than "
		    "were set", ngot);
		return -1;
	}
	for (i = 0; i < n && nwant < NELEM(want); i++) {
		for (j = 0; j < (size_t)ngot && got[j] != codes[i]; j++)
			;
		if (j == (size_t)ngot && tlsctx_hidden_in_readback(codes[i])) {
			if (tlsctx_check_names(&codes[i], 1, err, errlen) != 0)
				return -1;
			continue;
		}
		want[nwant++] = codes[i];
	}
	return tlsctx_compare(want, nwant, got, (size_t)ngot, err, errlen);
}

/* The colon-separated wolfSSL names for codes, after refusing anything
 * not allowable.  NULL with a reason in err. */
static char *
tlsctx_cipher_string(const uint16_t *codes, size_t n, char *err,
    size_t errlen)
{
	char *list, buf[8];
	size_t i, len = 0;

	if (n == 0) {
		snprintf(err, errlen, "empty cipher list (wolfSSL would use "
		    "its defaults)");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const struct suite_info *s = suite_find(codes[i]);

		if (!suite_is_allowable(s)) {
			snprintf(err, errlen, "%s is not allowed",
			    suite_name(codes[i], buf, sizeof buf));
			return NULL;
		}
		len += strlen(s->wolfssl) + 1;
	}
	if ((list = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	list[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(list, ":");
		strcat(list, suite_find(codes[i])->wolfssl);
	}
	return list;
}

int
tlsctx_set_ciphers(WOLFSSL_CTX *ctx, const uint16_t *codes, size_t n,
    char *err, size_t errlen)
{
	char *list;
	size_t i;
	int rc;

	if ((list = tlsctx_cipher_string(codes, n, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (!tlsctx_suite_supported(codes[i])) {
			char buf[8];

			snprintf(err, errlen, "this wolfSSL build does not "
			    "offer %s", suite_name(codes[i], buf, sizeof buf));
			free(list);
			return -1;
		}
	}
	rc = wolfSSL_CTX_set_cipher_list(ctx, list);
	free(list);
	if (rc != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "wolfSSL refused the cipher list");
		return -1;
	}
	return tlsctx_check_ciphers(ctx, codes, n, err, errlen);
}

/* Lowest protocol version, with whichever call this wolfSSL has. */
static bool
tlsctx_set_min_version(WOLFSSL_CTX *ctx, uint16_t version)
{
#ifdef HAVE_WOLFSSL_CTX_SET_MIN_PROTO_VERSION
	return wolfSSL_CTX_set_min_proto_version(ctx, version) ==
	    WOLFSSL_SUCCESS;
#else
	return wolfSSL_CTX_SetMinVersion(ctx, version == TLSV_TLS13 ?
	    WOLFSSL_TLSV1_3 : WOLFSSL_TLSV1_2) == WOLFSSL_SUCCESS;
#endif
}

/* Key exchange groups, best first: X25519 is cheap on small peers and
 * avoids Debian's per-key P-256 fixed-point cache; P-256 is what every
 * device has. */
static bool
tlsctx_set_groups(WOLFSSL_CTX *ctx)
{
	int groups[] = {
#ifdef HAVE_CURVE25519
		WOLFSSL_ECC_X25519,
#endif
		WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1,
	};
#ifdef HAVE_WOLFSSL_CTX_SET_GROUPS
	return wolfSSL_CTX_set_groups(ctx, groups, (int)NELEM(groups)) ==
	    WOLFSSL_SUCCESS;
#else
	size_t i;

	for (i = 0; i < NELEM(groups); i++) {
		if (wolfSSL_CTX_UseSupportedCurve(ctx, (word16)groups[i]) !=
		    WOLFSSL_SUCCESS)
			return false;
	}
	return true;
#endif
}

/* Open a file only to learn whether we can, for a clear errno message
 * before wolfSSL's vaguer failure. */
static bool
tlsctx_readable(const char *path, const char *opt, const char *file,
    int line, struct diag *d)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		diag_error(d, file, line, "%s: cannot open %s: %s", opt, path,
		    strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* True when a PEM file holds at least one certificate. */
static bool
tlsctx_has_pem_cert(const char *path)
{
	char line[256];
	bool found = false;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
	fclose(f);
	return found;
}

/* Private keys readable by others deserve a warning, not a refusal:
 * root:tlsgw 0640 is a legitimate set-up. */
static void
tlsctx_check_key_mode(const char *path, const char *opt, const char *file,
    int line, struct diag *d)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		diag_warn(d, file, line, "%s: %s is readable by group or "
		    "others (mode %04o)", opt, path,
		    (unsigned)(st.st_mode & 07777));
}


/* --- which algorithm signed each certificate of a chain file ----------
 *
 * Tasmota's BearSSL build verifies sha256WithRSAEncryption and nothing
 * else.  PEM blocks are found by their armour lines and decoded with
 * wolfCrypt's Base64_Decode; the DER is walked just far enough to reach
 * Certificate.signatureAlgorithm (RFC 5280 4.1.1.2), so no
 * OpenSSL-compatibility layer is needed (a lean wolfSSL works too):
 *
 *   Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm
 *       SEQUENCE { algorithm OBJECT IDENTIFIER, ... }, signatureValue }
 */

#define TLSCTX_PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define TLSCTX_PEM_END "-----END CERTIFICATE-----"

/* Signature algorithms by the DER bytes of their OID. */
static const struct {
	const char *oid;
	size_t len;
	const char *name;
} tlsctx_sigalgs[] = {
#define RSA_OID(last) "\x2a\x86\x48\x86\xf7\x0d\x01\x01" last, 9
	{ RSA_OID("\x02"), "md2WithRSAEncryption" },
	{ RSA_OID("\x04"), "md5WithRSAEncryption" },
	{ RSA_OID("\x05"), "sha1WithRSAEncryption" },
	{ RSA_OID("\x0a"), "rsassaPss" },
	{ RSA_OID("\x0b"), "sha256WithRSAEncryption" },
	{ RSA_OID("\x0c"), "sha384WithRSAEncryption" },
	{ RSA_OID("\x0d"), "sha512WithRSAEncryption" },
	{ RSA_OID("\x0e"), "sha224WithRSAEncryption" },
#undef RSA_OID
	{ "\x2a\x86\x48\xce\x3d\x04\x01", 7, "ecdsa-with-SHA1" },
	{ "\x2a\x86\x48\xce\x3d\x04\x03\x01", 8, "ecdsa-with-SHA224" },
	{ "\x2a\x86\x48\xce\x3d\x04\x03\x02", 8, "ecdsa-with-SHA256" },
	{ "\x2a\x86\x48\xce\x3d\x04\x03\x03", 8, "ecdsa-with-SHA384" },
	{ "\x2a\x86\x48\xce\x3d\x04\x03\x04", 8, "ecdsa-with-SHA512" },
	{ "\x2a\x86\x48\xce\x38\x04\x03", 7, "dsaWithSHA1" },
	{ "\x2b\x65\x70", 3, "ED25519" },
	{ "\x2b\x65\x71", 3, "ED448" },
};

/* An OID we do not know, in dotted form. */
static void
tlsctx_oid_dotted(const uint8_t *oid, size_t len, char *name, size_t namelen)
{
	unsigned long long v = 0;
	size_t i, n;
	bool first = true;

	n = (size_t)snprintf(name, namelen, "OID ");
	for (i = 0; i < len && n < namelen; i++) {
		v = (v << 7) | (oid[i] & 0x7f);
		if (oid[i] & 0x80) {
			if (v > (1ULL << 56))
				break;
			continue;
		}
		if (first)
			n += (size_t)snprintf(name + n, namelen - n, "%llu.%llu",
			    v < 80 ? v / 40 : 2, v < 80 ? v % 40 : v - 80);
		else
			n += (size_t)snprintf(name + n, namelen - n, ".%llu", v);
		first = false;
		v = 0;
	}
}

bool
tlsctx_sigalg_der(const uint8_t *der, size_t len, char *name, size_t namelen)
{
	const uint8_t *p = der, *end = der + len;
	struct der_tlv cert, tbs, alg, oid;
	size_t i;

	if (namelen == 0)
		return false;
	name[0] = '\0';
	if (der_expect(&p, end, 0x30, &cert) < 0)
		return false;
	p = cert.val;
	end = cert.val + cert.len;
	if (der_expect(&p, end, 0x30, &tbs) < 0 ||
	    der_expect(&p, end, 0x30, &alg) < 0)
		return false;
	p = alg.val;
	if (der_expect(&p, alg.val + alg.len, 0x06, &oid) < 0 || oid.len == 0)
		return false;
	for (i = 0; i < sizeof tlsctx_sigalgs / sizeof tlsctx_sigalgs[0]; i++) {
		if (tlsctx_sigalgs[i].len == oid.len &&
		    memcmp(tlsctx_sigalgs[i].oid, oid.val, oid.len) == 0) {
			snprintf(name, namelen, "%s", tlsctx_sigalgs[i].name);
			return true;
		}
	}
	tlsctx_oid_dotted(oid.val, oid.len, name, namelen);
	return true;
}

/* Decode the base64 between start and end (blanks and line ends
 * dropped); the DER in a new buffer, or NULL. */
static uint8_t *
tlsctx_pem_decode(const char *start, const char *end, size_t *len)
{
	char *b64;
	uint8_t *der = NULL;
	word32 derlen;
	size_t n = 0;
	const char *s;

	if ((b64 = malloc((size_t)(end - start) + 1)) == NULL)
		return NULL;
	for (s = start; s < end; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			b64[n++] = *s;
	}
	derlen = (word32)(n / 4 * 3 + 3);
	if ((der = malloc(derlen)) != NULL &&
	    Base64_Decode((const byte *)b64, (word32)n, der, &derlen) != 0) {
		free(der);
		der = NULL;
	}
	free(b64);
	*len = derlen;
	return der;
}

/* Name the signature algorithm of the certificate between start and
 * end into name ("" when it is not a certificate). */
static void
tlsctx_pem_sigalg(const char *start, const char *end, char *name,
    size_t namelen)
{
	uint8_t *der;
	size_t len;

	name[0] = '\0';
	if ((der = tlsctx_pem_decode(start, end, &len)) != NULL)
		(void)tlsctx_sigalg_der(der, len, name, namelen);
	free(der);
}

/* The whole file, NUL-terminated; NULL when unreadable or too large. */
static char *
tlsctx_slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	long size;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    size > TLSCTX_CHAIN_MAX_FILE || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc((size_t)size + 1)) == NULL)
		goto out;
	len = fread(buf, 1, (size_t)size, f);
	buf[len] = '\0';
out:
	fclose(f);
	return buf;
}

int
tlsctx_chain_sigalgs(const char *path, char (*names)[TLSCTX_SIGALG_MAX],
    int max)
{
	const char *p, *begin, *end;
	char *text;
	int n = 0;

	if ((text = tlsctx_slurp(path)) == NULL)
		return -1;
	for (p = text; (begin = strstr(p, TLSCTX_PEM_BEGIN)) != NULL; n++) {
		begin += strlen(TLSCTX_PEM_BEGIN);
		if ((end = strstr(begin, TLSCTX_PEM_END)) == NULL)
			break;
		if (n < max)
			tlsctx_pem_sigalg(begin, end, names[n], TLSCTX_SIGALG_MAX);
		p = end + strlen(TLSCTX_PEM_END);
	}
	free(text);
	return n;
}

/* Warn for each certificate of an RSA chain meant for devices that is
 * not signed with sha256WithRSAEncryption: Tasmota rejects the chain. */
static void
tlsctx_check_chain_sigs(const char *cert, const struct tlsctx_where *w,
    struct diag *d)
{
	char names[16][TLSCTX_SIGALG_MAX];
	int n, i;

	n = tlsctx_chain_sigalgs(cert, names, 16);
	for (i = 0; i < n && i < 16; i++) {
		if (names[i][0] == '\0' ||
		    strcmp(names[i], "sha256WithRSAEncryption") == 0)
			continue;
		diag_warn(d, w->file, w->cert_line, "%s: %s: certificate %d is "
		    "signed with %s; Tasmota verifies only "
		    "sha256WithRSAEncryption", w->cert_opt, cert, i + 1,
		    names[i]);
	}
}

/* The first certificate of a PEM file, as DER in a new buffer. */
static uint8_t *
tlsctx_leaf_der(const char *path, size_t *len)
{
	const char *begin, *end;
	uint8_t *der = NULL;
	char *text;

	if ((text = tlsctx_slurp(path)) == NULL)
		return NULL;
	begin = strstr(text, TLSCTX_PEM_BEGIN);
	if (begin != NULL) {
		begin += strlen(TLSCTX_PEM_BEGIN);
		if ((end = strstr(begin, TLSCTX_PEM_END)) != NULL)
			der = tlsctx_pem_decode(begin, end, len);
	}
	free(text);
	return der;
}

/* The leaf's key type and validity dates against what the option
 * promises.  The leaf is the first certificate of the chain file.  Its
 * DER (the caller frees it; *c points into it) when it passes, else
 * NULL after the message. */
static uint8_t *
tlsctx_inspect_cert(const char *path, int want, const struct tlsctx_where *w,
    struct diag *d, struct der_cert *c)
{
	int64_t now = (int64_t)time(NULL);
	char date[64];
	bool ok = true;
	uint8_t *der;
	size_t len;

	if ((der = tlsctx_leaf_der(path, &len)) == NULL) {
		diag_error(d, w->file, w->cert_line, "%s: no PEM certificate "
		    "in %s", w->cert_opt, path);
		return NULL;
	}
	if (der_parse_cert(der, len, c) < 0) {
		diag_error(d, w->file, w->cert_line, "%s: %s holds a "
		    "certificate with a key type tlsgw cannot serve (RSA or "
		    "ECDSA only)", w->cert_opt, path);
		free(der);
		return NULL;
	}
	if (want == RSAk && !c->rsa) {
		diag_error(d, w->file, w->cert_line, "%s: %s holds an ECDSA "
		    "certificate; put it in cert_ecdsa", w->cert_opt, path);
		ok = false;
	} else if (want == ECDSAk && c->rsa) {
		diag_error(d, w->file, w->cert_line, "%s: %s holds an RSA "
		    "certificate; put it in cert", w->cert_opt, path);
		ok = false;
	}
	if (now > c->not_after) {
		der_format_time(c->not_after, date, sizeof date);
		diag_error(d, w->file, w->cert_line, "%s: certificate %s "
		    "expired on %s", w->cert_opt, path, date);
		ok = false;
	} else if (now < c->not_before) {
		der_format_time(c->not_before, date, sizeof date);
		diag_error(d, w->file, w->cert_line, "%s: certificate %s is "
		    "not valid before %s", w->cert_opt, path, date);
		ok = false;
	}
	if (!ok) {
		free(der);
		return NULL;
	}
	return der;
}

/*
 * Load a chain and its key into ctx and prove they belong together.
 * want is RSAk, ECDSAk, or 0 for "either" (upstream client certificate).
 */
static bool
tlsctx_load_pair(WOLFSSL_CTX *ctx, const char *cert, const char *key,
    int want, const struct tlsctx_where *w, struct diag *d)
{
	struct der_cert leaf;
	uint8_t *leaf_der = NULL;
	bool cert_ok, key_ok, match;

	cert_ok = tlsctx_readable(cert, w->cert_opt, w->file, w->cert_line, d);
	key_ok = tlsctx_readable(key, w->key_opt, w->file, w->key_line, d);
	if (key_ok)
		tlsctx_check_key_mode(key, w->key_opt, w->file, w->key_line, d);
	if (cert_ok) {
		leaf_der = tlsctx_inspect_cert(cert, want, w, d, &leaf);
		cert_ok = leaf_der != NULL;
	}
	if (cert_ok && want == RSAk)
		tlsctx_check_chain_sigs(cert, w, d);
	if (cert_ok && wolfSSL_CTX_use_certificate_chain_file(ctx, cert) !=
	    WOLFSSL_SUCCESS) {
		diag_error(d, w->file, w->cert_line, "%s: no PEM certificate "
		    "in %s", w->cert_opt, cert);
		cert_ok = false;
	}
	if (key_ok && wolfSSL_CTX_use_PrivateKey_file(ctx, key,
	    WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
		diag_error(d, w->file, w->key_line, "%s: cannot load a private "
		    "key from %s (not PEM, or encrypted)", w->key_opt, key);
		key_ok = false;
	}
	if (!cert_ok || !key_ok) {
		free(leaf_der);
		return false;
	}
	/* wolfSSL's own check misses a wrong ECDSA key on 5.5.4: compare
	 * the key with the leaf's public key too. */
	match = wolfSSL_CTX_check_private_key(ctx) == WOLFSSL_SUCCESS &&
	    keys_file_matches_cert(key, &leaf) == 1;
	free(leaf_der);
	if (!match) {
		diag_error(d, w->file, w->key_line, "%s does not match "
		    "certificate %s", w->key_opt, cert);
		return false;
	}
	return true;
}

/* A CA file for verifying peers: readable, holding certificates, and
 * accepted by wolfSSL. */
static bool
tlsctx_load_ca_file(WOLFSSL_CTX *ctx, const char *path, const char *opt,
    const struct tlsctx_where *w, struct diag *d)
{
	if (!tlsctx_readable(path, opt, w->file, w->ca_line, d))
		return false;
	if (!tlsctx_has_pem_cert(path)) {
		diag_error(d, w->file, w->ca_line, "%s: no certificate in %s",
		    opt, path);
		return false;
	}
	if (wolfSSL_CTX_load_verify_locations(ctx, path, NULL) !=
	    WOLFSSL_SUCCESS) {
		diag_error(d, w->file, w->ca_line, "%s: cannot load %s", opt,
		    path);
		return false;
	}
	return true;
}

/* The operating system's trust store, once per upstream context. */
static bool
tlsctx_load_system_ca(WOLFSSL_CTX *ctx, const struct tlsctx_where *w,
    struct diag *d)
{
#ifdef HAVE_WOLFSSL_CTX_LOAD_SYSTEM_CA_CERTS
	if (wolfSSL_CTX_load_system_CA_certs(ctx) == WOLFSSL_SUCCESS)
		return true;
#endif
	if (wolfSSL_CTX_load_verify_locations(ctx, TLSCTX_SYSTEM_CA_FILE,
	    NULL) == WOLFSSL_SUCCESS)
		return true;
	diag_error(d, w->file, w->ca_line, "ca: cannot load the system CA "
	    "store");
	return false;
}

/* The suites of dev that can be served with one kind of certificate and
 * the policy's versions (wolfSSL drops TLS 1.2 suites from a TLS 1.3-only
 * context, so listing them would only fail the read-back). */
static size_t
tlsctx_device_codes(const struct device_conf *dev, bool ecdsa,
    uint16_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < dev->nsuites; i++) {
		const struct suite_info *s = suite_find(dev->suites[i]);

		if (s == NULL)
			continue;
		if (s->kx == KX_TLS13 || (dev->min_version != TLSV_TLS13 &&
		    (ecdsa ? suite_needs_ecdsa(s) : suite_needs_rsa(s))))
			out[n++] = dev->suites[i];
	}
	return n;
}

/* Cipher list for a device context; false after reporting. */
static bool
tlsctx_device_ciphers(WOLFSSL_CTX *ctx, const struct device_conf *dev,
    bool ecdsa, const struct tlsctx_where *w, struct diag *d)
{
	uint16_t codes[POLICY_MAX_SUITES];
	char err[256];
	size_t n, i;
	bool tls12 = false;

	n = tlsctx_device_codes(dev, ecdsa, codes);
	if (n == 0) {
		diag_error(d, w->file, w->cert_line, "%s: none of the suites "
		    "can use an %s certificate", w->cert_opt,
		    ecdsa ? "ECDSA" : "RSA");
		return false;
	}
	for (i = 0; i < n; i++)
		tls12 |= suite_find(codes[i])->kx != KX_TLS13;
	if (!tls12 && dev->min_version != TLSV_TLS13)
		diag_warn(d, w->file, w->cert_line, "%s: no TLS 1.2 suite "
		    "can use an %s certificate; it serves TLS 1.3 only",
		    w->cert_opt, ecdsa ? "ECDSA" : "RSA");
	if (tlsctx_set_ciphers(ctx, codes, n, err, sizeof err) != 0) {
		diag_error(d, w->file, w->suites_line, "suites: %s", err);
		return false;
	}
	return true;
}

/* client_crl: wolfSSL checks every client chain against it (needs
 * client_ca, loaded first: the CRL's signature is verified with it). */
static bool
tlsctx_load_crl(WOLFSSL_CTX *ctx, const struct device_conf *dev,
    const struct tlsctx_where *w, struct diag *d)
{
	if (dev->client_ca == NULL) {
		diag_error(d, w->file, w->crl_line, "client_crl needs client_ca");
		return false;
	}
	if (wolfSSL_CTX_EnableCRL(ctx, WOLFSSL_CRL_CHECKALL) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_LoadCRLFile(ctx, dev->client_crl,
	    WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
		diag_error(d, w->file, w->crl_line, "client_crl = %s: not a CRL "
		    "signed by client_ca", dev->client_crl);
		return false;
	}
	return true;
}

WOLFSSL_CTX *
tlsctx_device_new(const struct device_conf *dev, bool ecdsa,
    const struct tlsctx_where *w, struct diag *d)
{
	const char *cert = ecdsa ? dev->cert_ecdsa : dev->cert;
	const char *key = ecdsa ? dev->key_ecdsa : dev->key;
	WOLFSSL_CTX *ctx;

	if ((ctx = wolfSSL_CTX_new(wolfSSLv23_server_method())) == NULL) {
		diag_error(d, w->file, 0, "cannot create a wolfSSL context");
		return NULL;
	}
	if (!tlsctx_set_min_version(ctx, dev->min_version)) {
		diag_error(d, w->file, w->version_line, "min_version: wolfSSL "
		    "refused the version");
		goto fail;
	}
	if (!tlsctx_load_pair(ctx, cert, key, ecdsa ? ECDSAk : RSAk, w, d))
		goto fail;
	if (!tlsctx_device_ciphers(ctx, dev, ecdsa, w, d))
		goto fail;
	if (!tlsctx_set_groups(ctx)) {
		diag_error(d, w->file, 0, "wolfSSL refused the groups "
		    "X25519, P-256, P-384");
		goto fail;
	}
	if (dev->client_ca != NULL) {
#if !defined(WOLFSSL_ALWAYS_VERIFY_CB) && !defined(KEEP_PEER_CERT)
		/* identity.c could not see the device's certificate. */
		diag_error(d, w->file, w->ca_line, "client_ca: this wolfSSL "
		    "build cannot hand over the device's certificate (it "
		    "needs WOLFSSL_ALWAYS_VERIFY_CB or KEEP_PEER_CERT)");
		goto fail;
#endif
		if (!tlsctx_load_ca_file(ctx, dev->client_ca, "client_ca", w,
		    d))
			goto fail;
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER |
		    WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (dev->client_crl != NULL && !tlsctx_load_crl(ctx, dev, w, d))
		goto fail;
	/* Each flight in one send: fewer syscalls and segments. */
	wolfSSL_CTX_set_group_messages(ctx);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

WOLFSSL_CTX *
tlsctx_upstream_new(const struct upstream_conf *up,
    const struct tlsctx_where *w, struct diag *d)
{
	WOLFSSL_METHOD *method;
	const uint16_t *codes;
	WOLFSSL_CTX *ctx;
	char err[256];
	size_t n;

	method = up->min_version == TLSV_TLS12 ? wolfSSLv23_client_method() :
	    wolfTLSv1_3_client_method();
	if ((ctx = wolfSSL_CTX_new(method)) == NULL) {
		diag_error(d, w->file, 0, "cannot create a wolfSSL context");
		return NULL;
	}
	if (up->min_version == TLSV_TLS12 &&
	    !tlsctx_set_min_version(ctx, TLSV_TLS12)) {
		diag_error(d, w->file, w->version_line, "min_version: wolfSSL "
		    "refused the version");
		goto fail;
	}
	n = tlsctx_upstream_suites(up->min_version, &codes);
	if (tlsctx_set_ciphers(ctx, codes, n, err, sizeof err) != 0) {
		diag_error(d, w->file, w->version_line, "upstream suites: %s",
		    err);
		goto fail;
	}
	if (!tlsctx_set_groups(ctx)) {
		diag_error(d, w->file, 0, "wolfSSL refused the groups "
		    "X25519, P-256, P-384");
		goto fail;
	}
	if (up->ca == NULL || strcmp(up->ca, "system") == 0) {
		if (!tlsctx_load_system_ca(ctx, w, d))
			goto fail;
	} else if (!tlsctx_load_ca_file(ctx, up->ca, "ca", w, d))
		goto fail;
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	if (up->cert != NULL && up->key != NULL &&
	    !tlsctx_load_pair(ctx, up->cert, up->key, 0, w, d))
		goto fail;
	wolfSSL_CTX_set_group_messages(ctx);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

/* True for "192.0.2.1" or "2001:db8::1": RFC 6066 forbids them as SNI. */
static bool
tlsctx_is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

int
tlsctx_upstream_prepare(WOLFSSL *ssl, const struct upstream_conf *up,
    char *err, size_t errlen)
{
	const char *name = up->sni != NULL ? up->sni : up->host;

	if (!tlsctx_is_ip_literal(name) &&
	    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name,
	    (word16)strlen(name)) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot set SNI %s", name);
		return -1;
	}
	if (wolfSSL_check_domain_name(ssl, name) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot set the name to verify (%s)",
		    name);
		return -1;
	}
	if (up->alpn != NULL) {
		char *list = strdup(up->alpn);
		int rc;

		if (list == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rc = wolfSSL_UseALPN(ssl, list, (word32)strlen(list),
		    WOLFSSL_ALPN_FAILED_ON_MISMATCH);
		free(list);
		if (rc != WOLFSSL_SUCCESS) {
			snprintf(err, errlen, "cannot set ALPN %s", up->alpn);
			return -1;
		}
	}
	return 0;
}
