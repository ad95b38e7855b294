/*
 * pki.h: `tlsgw pki`, a small local CA that makes every credential a
 * device needs: the gateway's RSA and ECDSA certificates, device client
 * certificates, and the forms each firmware takes them in (Tasmota
 * console commands, ESP8266 Arduino fingerprints, BearSSL trust-anchor
 * headers, DER for MicroPython, PEM for ESP-IDF).
 *
 *   pki.c          options, help, dispatch
 *   pki-cmd.c      init, server, list, revoke, and their shared steps
 *   pki-device.c   device
 *   pki-store.c    the PKI directory: staged writes, index, lock
 *   pki-cert.c     keys, certificates and the CRL (wolfCrypt)
 *   pki-der.c      the few DER structures we read and write ourselves
 *   pki-export.c   firmware formats
 *
 * Everything below pki_main is internal to these files.
 */
#ifndef TLSGW_PKI_H
#define TLSGW_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>

#include "der.h"

/*
 * What certificate generation needs from the wolfSSL build (Debian 12's
 * 5.5.4 has it all).  Without it `tlsgw pki` only says what is missing.
 */
#if defined(WOLFSSL_CERT_GEN) && defined(WOLFSSL_CERT_EXT) && \
    defined(WOLFSSL_ALT_NAMES) && defined(WOLFSSL_KEY_GEN) && \
    defined(HAVE_ECC) && !defined(NO_RSA) && !defined(NO_SHA) && \
    defined(WOLFSSL_BASE64_ENCODE)
#define PKI_SUPPORTED 1
#endif

/* `tlsgw pki ...` with argv[0] = "pki"; returns the exit status. */
int pki_main(int argc, char **argv);

/* ---- internal ------------------------------------------------------ */

#define PKI_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Print "tlsgw pki: message" on stderr; pki_errno adds strerror(errno). */
void pki_err(const char *fmt, ...) PKI_PRINTF(1, 2);
void pki_errno(const char *fmt, ...) PKI_PRINTF(1, 2);

/* A heap buffer.  pki_buf_free zeroes it first: it may hold a key. */
struct pki_buf {
	unsigned char *data;
	size_t len;
};

void pki_buf_free(struct pki_buf *b);
int pki_buf_set(struct pki_buf *b, const void *p, size_t len);
/* Append len bytes of p (p NULL: zero bytes); keeps a NUL after them. */
int pki_buf_cat(struct pki_buf *b, const void *p, size_t len);

/* Validity periods, in days. */
#define PKI_CA_DAYS 3650
#define PKI_SERVER_DAYS 825     /* the longest Apple platforms accept */
#define PKI_DEVICE_DAYS 3650    /* devices are not re-flashed often */
#define PKI_CRL_DAYS 3650       /* wolfSSL rejects a CRL past nextUpdate */

/* What an index entry is; also names the files of CA and server. */
enum pki_kind {
	PKI_CA_RSA,
	PKI_CA_EC,
	PKI_SERVER_RSA,
	PKI_SERVER_EC,
	PKI_DEVICE_EC,
	PKI_DEVICE_RSA,
	PKI_KIND_COUNT
};

const char *pki_kind_name(enum pki_kind k);
bool pki_kind_parse(const char *s, enum pki_kind *k);
bool pki_kind_is_rsa(enum pki_kind k);

/* ---- pki-der.c: minimal DER ---------------------------------------- */

/* Readers: der.h (shared with the configuration loader). */

/* Writers append one TLV to b; 0 or -1 (no memory). */
int der_put(struct pki_buf *b, unsigned tag, const void *val, size_t len);
int der_put_time(struct pki_buf *b, time_t t);
int der_put_uint(struct pki_buf *b, uint64_t v);        /* INTEGER */
/* Wrap b's current content in one TLV of the given tag. */
int der_wrap(struct pki_buf *b, unsigned tag);

/* GeneralNames for subjectAltName: DNS and IP entries. */
int der_san_add_dns(struct pki_buf *b, const char *name);
int der_san_add_ip(struct pki_buf *b, const unsigned char *ip, size_t len);

/* ---- pki-store.c: the directory ------------------------------------ */

/* A set of files written to temporary names, renamed on commit. */
#define PKI_TXN_MAX 16

struct pki_txn {
	size_t n;
	char *tmp[PKI_TXN_MAX];
	char *dst[PKI_TXN_MAX];
	char *made_dir[8];              /* directories we created */
	size_t ndirs;
};

void pki_txn_init(struct pki_txn *t);
/* Create dir with mode unless it exists (mkdirs: and missing parents,
 * 0755); what we create is removed again by an abort. */
int pki_txn_mkdir(struct pki_txn *t, const char *dir, unsigned mode);
int pki_txn_mkdirs(struct pki_txn *t, const char *dir, unsigned mode);
/* Stage path with data and mode (0600 for keys, 0644 otherwise). */
int pki_txn_write(struct pki_txn *t, const char *path, const void *data,
    size_t len, unsigned mode);
int pki_txn_commit(struct pki_txn *t);
void pki_txn_abort(struct pki_txn *t);

/* One line of DIR/index.txt. */
struct pki_entry {
	char serial[41];                /* upper-case hex */
	enum pki_kind kind;
	char name[256];
	time_t not_after;
	bool revoked;
	time_t revoked_at;
};

struct pki_index {
	struct pki_entry *e;
	size_t n;
};

/* Missing index = empty; -1 on a malformed line (reported). */
int pki_index_load(const char *dir, struct pki_index *ix);
void pki_index_free(struct pki_index *ix);
int pki_index_add(struct pki_index *ix, const struct pki_entry *e);
/* Serialize into a buffer, for pki_txn_write. */
int pki_index_format(const struct pki_index *ix, struct pki_buf *out);
bool pki_index_has_serial(const struct pki_index *ix, const char *serial);
/* The newest valid entry of a kind (name NULL: any name). */
struct pki_entry *pki_index_find(struct pki_index *ix, enum pki_kind k,
    const char *name);

/* Take DIR/.lock (flock); -1 with a message. */
int pki_lock(const char *dir);
void pki_unlock(int fd);

/* Whole file into memory; -1 with a message naming the file. */
int pki_read_file(const char *path, struct pki_buf *b);
bool pki_exists(const char *path);
/* dir + "/" + name in a fresh string (exits on no memory). */
char *pki_path(const char *dir, const char *name);
char *pki_path3(const char *dir, const char *sub, const char *name);

/* ---- pki-cert.c: wolfCrypt ----------------------------------------- */

struct pki_key;                          /* RSA or EC private key */
struct pki_rng;

struct pki_rng *pki_rng_new(void);
void pki_rng_free(struct pki_rng *r);

/* Generate RSA-2048 (rsa) or P-256. */
struct pki_key *pki_key_generate(struct pki_rng *r, bool rsa);
/* Load a PEM private key written by us (SEC1 EC or PKCS#1 RSA). */
struct pki_key *pki_key_load(const char *path);
void pki_key_free(struct pki_key *k);
bool pki_key_is_rsa(const struct pki_key *k);
/* Private key as DER (SEC1 or PKCS#1) and PEM. */
int pki_key_der(struct pki_key *k, struct pki_buf *der);
int pki_key_pem(struct pki_key *k, struct pki_buf *pem);
/* The raw 32-byte P-256 private scalar (Tasmota's TLSKey1). */
int pki_key_ec_scalar(struct pki_key *k, unsigned char out[32]);

/* A CA: its key and certificate. */
struct pki_ca {
	struct pki_key *key;
	struct pki_buf der;
};

/* Load DIR/ca-rsa.* or DIR/ca-ec.*; -1 with a message. */
int pki_ca_load(const char *dir, bool rsa, struct pki_ca *ca);
void pki_ca_free(struct pki_ca *ca);

/* What goes into one certificate. */
struct pki_profile {
	const char *cn;
	int days;
	bool is_ca;
	const char *key_usage;          /* wc_SetKeyUsage() list */
	const char *ext_key_usage;      /* wc_SetExtKeyUsage() list or NULL */
	const struct pki_buf *san;      /* GeneralNames DER or NULL */
	unsigned char serial[8];
};

/* Issue a certificate for key, signed by ca (NULL: self-signed). */
int pki_issue(const struct pki_profile *p, struct pki_key *key,
    const struct pki_ca *ca, struct pki_rng *r, struct pki_buf *der);

/* A fresh positive 64-bit serial not yet in the index. */
int pki_new_serial(struct pki_rng *r, const struct pki_index *ix,
    unsigned char serial[8]);
void pki_serial_hex(const unsigned char *s, size_t len, char *out,
    size_t outlen);

/* A CRL signed by ca listing the revoked entries of ix issued by it. */
int pki_crl_make(const struct pki_ca *ca, const struct pki_index *ix,
    struct pki_rng *r, struct pki_buf *pem);

/* DER certificate to PEM (appended to pem). */
int pki_cert_pem(const struct pki_buf *der, struct pki_buf *pem);
/* First certificate of a PEM file as DER. */
int pki_cert_load_der(const char *path, struct pki_buf *der);

/* SHA-1 into out[20]. */
int pki_sha1(const void *data, size_t len, unsigned char out[20]);
/* Base64 without line breaks, NUL-terminated. */
int pki_base64(const void *data, size_t len, struct pki_buf *out);

/* ---- pki.c, pki-cmd.c, pki-device.c: the commands ------------------ */

enum pki_format {
	PKI_FMT_ALL,
	PKI_FMT_TASMOTA,
	PKI_FMT_ARDUINO,
	PKI_FMT_BEARSSL,
	PKI_FMT_MICROPYTHON,
	PKI_FMT_ESPIDF
};

/* A command's parsed command line. */
struct pki_opts {
	const char *dir;
	bool force;
	bool rsa;
	enum pki_format format;
	char **args;                    /* positional arguments */
	int nargs;
};

/* Each returns the exit status, after printing any error. */
int pki_cmd_init(const struct pki_opts *o);
int pki_cmd_server(const struct pki_opts *o);
int pki_cmd_device(const struct pki_opts *o);
int pki_cmd_list(const struct pki_opts *o);
int pki_cmd_revoke(const struct pki_opts *o);

/* Letters, digits, '.', '_', '-', at most 63; false after a message. */
bool pki_check_device_name(const char *name);
/* The first CA file found in dir, or NULL. */
const char *pki_existing_ca(const char *dir);
/* pki_existing_ca or a message saying to run init. */
bool pki_require_ca(const char *dir);
/* realpath of an existing directory, for printing. */
char *pki_abs_dir(const char *dir);

/* A new key (RSA-2048 or P-256) and its certificate, fresh serial. */
struct pki_key *pki_make_cert(struct pki_profile *p, bool rsa,
    const struct pki_ca *ca, struct pki_rng *r, const struct pki_index *ix,
    struct pki_buf *der);
/* Record a certificate just issued (copied to *out if not NULL). */
int pki_index_add_cert(struct pki_index *ix, enum pki_kind kind,
    const char *name, const struct pki_buf *der, struct pki_entry *out);
/* Stage a key (PEM, 0600), a certificate (PEM, then the chain's CA if
 * given, 0644), DIR/index.txt, DIR/crl.pem (signed by ca). */
int pki_stage_key_pem(struct pki_txn *t, const char *path,
    struct pki_key *k);
int pki_stage_cert_pem(struct pki_txn *t, const char *path,
    const struct pki_buf *der, const struct pki_buf *chain);
int pki_stage_index(struct pki_txn *t, const char *dir,
    const struct pki_index *ix);
int pki_stage_crl(struct pki_txn *t, const char *dir,
    const struct pki_ca *ca, const struct pki_index *ix, struct pki_rng *r);

/* ---- pki-export.c: firmware formats -------------------------------- */

/* Everything the device section prints, already written to disk. */
struct pki_device_out {
	const char *dir;                /* the PKI directory (absolute) */
	const char *name;
	const char *devdir;             /* DIR/devices/NAME */
	bool rsa;
	const char *serial;             /* hex */
	time_t not_after;
	const struct pki_buf *cert_der;
	struct pki_key *key;
	const char *host;               /* gateway name, or NULL */
};

/* The trust-anchor header (`brssl ta` layout) for RSA CA certificates. */
int pki_bearssl_header(const struct pki_buf *const *ca_der, size_t n,
    struct pki_buf *out);
/* Print the device's credentials in the chosen firmware forms. */
int pki_export_device(FILE *out, enum pki_format fmt,
    const struct pki_device_out *d);

#endif
