/*
 * suites.h: what we know about TLS cipher suites, by IANA code.  One
 * table serves three jobs: turning a policy's suite set into a wolfSSL
 * cipher list, naming what a device offered in logs, and refusing the
 * suites we never allow.
 */
#ifndef TLSGW_SUITES_H
#define TLSGW_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol version codes as they appear on the wire (the same values as
 * gateway/clienthello.h, which policy code does not include). */
#ifndef TLSV_TLS12
#define TLSV_SSL3  0x0300
#define TLSV_TLS10 0x0301
#define TLSV_TLS11 0x0302
#define TLSV_TLS12 0x0303
#define TLSV_TLS13 0x0304
#endif

/* Key exchange / authentication family of a suite. */
enum suite_kx {
	KX_TLS13,        /* TLS 1.3 suite: key exchange negotiated apart */
	KX_ECDHE_ECDSA,
	KX_ECDHE_RSA,
	KX_RSA,          /* static RSA key exchange: no forward secrecy */
	KX_OTHER,        /* DHE, ECDH, PSK, SRP, anon, ...: never allowed */
};

struct suite_info {
	uint16_t code;          /* IANA value, e.g. 0xC02F */
	const char *iana;       /* "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" */
	const char *wolfssl;    /* wolfSSL/OpenSSL-style name, or NULL */
	enum suite_kx kx;
	const char *weakness;   /* NULL, or why it is never allowed:
	                           "RC4", "3DES", "NULL cipher", "anonymous",
	                           "export", "DES", "MD5", ... */
};

enum suite_set {
	SUITE_SET_MODERN,   /* TLS 1.3 + ECDHE-{ECDSA,RSA} AEAD */
	SUITE_SET_COMPAT,   /* modern + ECDHE CBC SHA-256/SHA-1 (default) */
	SUITE_SET_LEGACY,   /* compat + static-RSA AES GCM/CBC */
	SUITE_SET_EXPLICIT, /* a list written in the policy */
};

/* The entry for an IANA code, or NULL when we do not know it. */
const struct suite_info *suite_find(uint16_t code);

/* The entry for an IANA or wolfSSL/OpenSSL-style name (case-insensitive),
 * or NULL. */
const struct suite_info *suite_find_name(const char *name);

/* IANA name of a code for logs, or "0xC0FF" written into buf. */
const char *suite_name(uint16_t code, char *buf, size_t buflen);

/* True when a suite may appear in some policy's list (known, has a
 * wolfSSL name, no weakness, kx is TLS13, ECDHE_* or RSA). */
bool suite_is_allowable(const struct suite_info *s);

/* The codes of a predefined set, in server preference order. */
size_t suite_set_codes(enum suite_set set, const uint16_t **codes);

/* "modern", "compat", "legacy", "explicit". */
const char *suite_set_name(enum suite_set set);

/* The predefined set called name ("modern", "compat", "legacy",
 * case-insensitive) into *set.  False for anything else. */
bool suite_set_from_name(const char *name, enum suite_set *set);

/* The whole table, for tests and for listing what we know. */
const struct suite_info *suite_table(size_t *n);

/* True when a suite can only be served with an RSA certificate
 * (ECDHE_RSA or static RSA), or only with an ECDSA one. */
bool suite_needs_rsa(const struct suite_info *s);
bool suite_needs_ecdsa(const struct suite_info *s);

#endif
