/*
 * pki-cmd.c: `tlsgw pki init`, `server`, `list` and `revoke`, and the
 * steps every command shares: checking names, issuing a certificate
 * with a fresh serial, staging keys, certificates, the index and the
 * CRL.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki.h"

#ifdef PKI_SUPPORTED

#define MAX_SERVER_NAMES 32
#define DEVICE_NAME_MAX 63      /* wolfCrypt's CN limit, CTC_NAME_SIZE-1 */

/* ---- input checks -------------------------------------------------- */

/* Device names become a directory and a CN: letters, digits, . _ -. */
bool
pki_check_device_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0) {
		pki_err("the device name is empty");
		return false;
	}
	if (n > DEVICE_NAME_MAX) {
		pki_err("device name '%s': longer than %d characters", name,
		    DEVICE_NAME_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			break;
	}
	if (i < n || !isalnum((unsigned char)name[0])) {
		pki_err("device name '%s': use letters, digits, '.', '_' and "
		    "'-', starting with a letter or digit", name);
		return false;
	}
	return true;
}

/* A DNS name (optionally "*." first) of LDH labels. */
static bool
is_dns_name(const char *s)
{
	size_t label = 0, total = strlen(s);
	const char *p = s;

	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (total == 0 || total > 253 || *p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*p) || (*p == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && p[-1] != '-';
}

/*
 * subjectAltName for the gateway: every name as dNSName; an IP literal
 * also as iPAddress.  BearSSL (Tasmota, ESP8266 Arduino) compares the
 * name it connects to with dNSName entries only, so "192.168.1.2" must
 * be there as a DNS name too; OpenSSL and mbedTLS use the iPAddress.
 */
static int
build_san(char **names, int n, struct pki_buf *san)
{
	unsigned char ip[16];
	int i, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (inet_pton(AF_INET, names[i], ip) == 1)
			rc = der_san_add_ip(san, ip, 4);
		else if (inet_pton(AF_INET6, names[i], ip) == 1)
			rc = der_san_add_ip(san, ip, 16);
		else if (!is_dns_name(names[i])) {
			pki_err("'%s' is neither a host name nor an IP address",
			    names[i]);
			return -1;
		}
		if (rc == 0)
			rc = der_san_add_dns(san, names[i]);
	}
	return rc < 0 ? -1 : der_wrap(san, 0x30);
}

/* ---- shared steps -------------------------------------------------- */

/* An index entry for a certificate just issued. */
int
pki_index_add_cert(struct pki_index *ix, enum pki_kind kind, const char *name,
    const struct pki_buf *der, struct pki_entry *out)
{
	struct pki_entry e;
	struct der_cert c;
	const unsigned char *sn;
	size_t snlen;

	if (der_parse_cert(der->data, der->len, &c) < 0) {
		pki_err("cannot read back the certificate of '%s'", name);
		return -1;
	}
	memset(&e, 0, sizeof e);
	sn = c.serial.val;
	snlen = c.serial.len;
	der_unsigned(&sn, &snlen);
	pki_serial_hex(sn, snlen, e.serial, sizeof e.serial);
	e.kind = kind;
	snprintf(e.name, sizeof e.name, "%s", name);
	e.not_after = (time_t)c.not_after;      /* the index keeps time_t */
	if (out != NULL)
		*out = e;
	return pki_index_add(ix, &e);
}

/* Stage a key as PEM (0600). */
int
pki_stage_key_pem(struct pki_txn *t, const char *path, struct pki_key *k)
{
	struct pki_buf pem = { 0 };
	int rc = pki_key_pem(k, &pem);

	if (rc == 0)
		rc = pki_txn_write(t, path, pem.data, pem.len, 0600);
	pki_buf_free(&pem);
	return rc;
}

/* Stage certificate PEM, followed by an optional chain certificate. */
int
pki_stage_cert_pem(struct pki_txn *t, const char *path,
    const struct pki_buf *der, const struct pki_buf *chain)
{
	struct pki_buf pem = { 0 };
	int rc = pki_cert_pem(der, &pem);

	if (rc == 0 && chain != NULL)
		rc = pki_cert_pem(chain, &pem);
	if (rc == 0)
		rc = pki_txn_write(t, path, pem.data, pem.len, 0644);
	pki_buf_free(&pem);
	return rc;
}

/* Stage DIR/index.txt. */
int
pki_stage_index(struct pki_txn *t, const char *dir, const struct pki_index *ix)
{
	struct pki_buf b = { 0 };
	char *path = pki_path(dir, "index.txt");
	int rc = pki_index_format(ix, &b);

	if (rc == 0)
		rc = pki_txn_write(t, path, b.data, b.len, 0644);
	pki_buf_free(&b);
	free(path);
	return rc;
}

/* Stage DIR/crl.pem: the ECDSA CA's list of revoked devices. */
int
pki_stage_crl(struct pki_txn *t, const char *dir, const struct pki_ca *ca,
    const struct pki_index *ix, struct pki_rng *r)
{
	struct pki_buf pem = { 0 };
	char *path = pki_path(dir, "crl.pem");
	int rc = pki_crl_make(ca, ix, r, &pem);

	if (rc == 0)
		rc = pki_txn_write(t, path, pem.data, pem.len, 0644);
	pki_buf_free(&pem);
	free(path);
	return rc;
}

/* A new key and a certificate for it, with a fresh serial. */
struct pki_key *
pki_make_cert(struct pki_profile *p, bool rsa, const struct pki_ca *ca,
    struct pki_rng *r, const struct pki_index *ix, struct pki_buf *der)
{
	struct pki_key *k = pki_key_generate(r, rsa);

	if (k == NULL)
		return NULL;
	if (pki_new_serial(r, ix, p->serial) < 0 ||
	    pki_issue(p, k, ca, r, der) < 0) {
		pki_key_free(k);
		return NULL;
	}
	return k;
}

/* realpath of an existing directory, for printing (exits on OOM). */
char *
pki_abs_dir(const char *dir)
{
	char *p = realpath(dir, NULL);

	if (p == NULL && (p = strdup(dir)) == NULL) {
		pki_err("out of memory");
		exit(1);
	}
	return p;
}

/* ---- init ---------------------------------------------------------- */

/* Issue one self-signed CA into the transaction. */
static int
init_one_ca(struct pki_txn *t, const char *dir, bool rsa, struct pki_rng *r,
    struct pki_index *ix, struct pki_ca *ca)
{
	struct pki_profile p = {
		.cn = rsa ? "tlsgw local CA (RSA)" : "tlsgw local CA (ECDSA)",
		.days = PKI_CA_DAYS,
		.is_ca = true,
		.key_usage = "keyCertSign,cRLSign",
	};
	char *crt = pki_path(dir, rsa ? "ca-rsa.crt" : "ca-ec.crt");
	char *key = pki_path(dir, rsa ? "ca-rsa.key" : "ca-ec.key");
	int rc = -1;

	ca->key = pki_make_cert(&p, rsa, NULL, r, ix, &ca->der);
	if (ca->key != NULL &&
	    pki_index_add_cert(ix, rsa ? PKI_CA_RSA : PKI_CA_EC, p.cn, &ca->der,
	    NULL) == 0 &&
	    pki_stage_key_pem(t, key, ca->key) == 0 &&
	    pki_stage_cert_pem(t, crt, &ca->der, NULL) == 0)
		rc = 0;
	free(crt);
	free(key);
	return rc;
}

/* Any CA file already there? */
const char *
pki_existing_ca(const char *dir)
{
	static const char *const files[] = {
		"ca-rsa.crt", "ca-rsa.key", "ca-ec.crt", "ca-ec.key"
	};
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = pki_path(dir, files[i]);
		bool there = pki_exists(p);

		free(p);
		if (there)
			return files[i];
	}
	return NULL;
}

/* Commands other than init need a CA; say how to make one. */
bool
pki_require_ca(const char *dir)
{
	if (pki_existing_ca(dir) != NULL)
		return true;
	pki_err("no CA in %s: run `tlsgw pki init --dir %s` first", dir, dir);
	return false;
}

int
pki_cmd_init(const struct pki_opts *o)
{
	struct pki_ca rsa = { 0 }, ec = { 0 };
	struct pki_index ix = { 0 };
	struct pki_rng *r = NULL;
	struct pki_txn t;
	const char *there;
	char *dir = NULL;
	int lock = -1, rc = 1;

	pki_txn_init(&t);
	if ((there = pki_existing_ca(o->dir)) != NULL && !o->force) {
		pki_err("a CA already exists in %s (%s): nothing changed; "
		    "--force replaces it, and every certificate it issued "
		    "stops verifying", o->dir, there);
		return 1;
	}
	if (pki_txn_mkdirs(&t, o->dir, 0755) < 0 ||
	    (lock = pki_lock(o->dir)) < 0 || (r = pki_rng_new()) == NULL)
		goto out;
	/* A new CA starts a new index: old serials meant the old CA. */
	if (init_one_ca(&t, o->dir, true, r, &ix, &rsa) < 0 ||
	    init_one_ca(&t, o->dir, false, r, &ix, &ec) < 0 ||
	    pki_stage_crl(&t, o->dir, &ec, &ix, r) < 0 ||
	    pki_stage_index(&t, o->dir, &ix) < 0 || pki_txn_commit(&t) < 0)
		goto out;
	dir = pki_abs_dir(o->dir);
	printf("CA created in %s:\n  %s/ca-rsa.crt  RSA-2048, "
	    "sha256WithRSAEncryption: signs the gateway's certificates\n"
	    "  %s/ca-ec.crt   ECDSA P-256: signs device certificates "
	    "(a policy's client_ca)\n"
	    "  keys: ca-rsa.key, ca-ec.key (mode 0600); index.txt; crl.pem\n",
	    dir, dir, dir);
	if (there != NULL)
		printf("The old CA was replaced: issue the server and device "
		    "certificates again.\n");
	printf("Next: tlsgw pki server NAME... --dir %s\n", dir);
	rc = 0;
out:
	if (rc != 0)
		pki_txn_abort(&t);
	pki_ca_free(&rsa);
	pki_ca_free(&ec);
	pki_index_free(&ix);
	pki_rng_free(r);
	pki_unlock(lock);
	free(dir);
	return rc;
}

/* ---- server -------------------------------------------------------- */

/*
 * One gateway certificate (RSA or ECDSA) and its key, staged.  Both are
 * signed by the RSA CA: Tasmota verifies chains with RSA only, also on
 * ESP32 where it may be served the ECDSA certificate, and one CA then
 * verifies both chains for every device.
 */
static int
server_one(struct pki_txn *t, const struct pki_opts *o, bool rsa,
    const struct pki_buf *san, const struct pki_ca *ca, struct pki_rng *r,
    struct pki_index *ix)
{
	struct pki_profile p = {
		.cn = o->args[0],
		.days = PKI_SERVER_DAYS,
		/* keyEncipherment: static-RSA suites (policy `legacy`). */
		.key_usage = rsa ? "digitalSignature,keyEncipherment" :
		    "digitalSignature",
		.ext_key_usage = "serverAuth",
		.san = san,
	};
	struct pki_buf der = { 0 };
	struct pki_key *k;
	char *crt = pki_path(o->dir, rsa ? "server-rsa.crt" : "server-ec.crt");
	char *key = pki_path(o->dir, rsa ? "server-rsa.key" : "server-ec.key");
	int rc = -1;

	if ((k = pki_make_cert(&p, rsa, ca, r, ix, &der)) != NULL &&
	    pki_index_add_cert(ix, rsa ? PKI_SERVER_RSA : PKI_SERVER_EC,
	    o->args[0], &der, NULL) == 0 &&
	    pki_stage_key_pem(t, key, k) == 0 &&
	    pki_stage_cert_pem(t, crt, &der, &ca->der) == 0)
		rc = 0;
	pki_key_free(k);
	pki_buf_free(&der);
	free(crt);
	free(key);
	return rc;
}

/* The lines to paste into a policy's [device] section. */
static void
print_policy(const char *dir)
{
	printf("[device]\n"
	    "cert = %s/server-rsa.crt\nkey = %s/server-rsa.key\n"
	    "cert_ecdsa = %s/server-ec.crt\nkey_ecdsa = %s/server-ec.key\n"
	    "; devices with a certificate from `tlsgw pki device`:\n"
	    "; client_ca = %s/ca-ec.crt\n; client_crl = %s/crl.pem\n",
	    dir, dir, dir, dir, dir, dir);
}

/* The names, the CA, no gateway certificate yet (or --force); the SAN. */
static bool
server_args_ok(const struct pki_opts *o, struct pki_buf *san)
{
	char *path;
	bool ok;

	if (o->nargs == 0) {
		pki_err("server: name the gateway: tlsgw pki server NAME... "
		    "(host names and IP addresses devices connect to)");
		return false;
	}
	if (o->nargs > MAX_SERVER_NAMES) {
		pki_err("server: at most %d names", MAX_SERVER_NAMES);
		return false;
	}
	if (build_san(o->args, o->nargs, san) < 0 || !pki_require_ca(o->dir))
		return false;
	path = pki_path(o->dir, "server-rsa.crt");
	ok = o->force || !pki_exists(path);
	if (!ok)
		pki_err("%s exists: nothing changed; --force issues new "
		    "gateway certificates (and new fingerprints)", path);
	free(path);
	return ok;
}

int
pki_cmd_server(const struct pki_opts *o)
{
	struct pki_ca ca = { 0 };
	struct pki_buf san = { 0 };
	struct pki_index ix = { 0 };
	struct pki_rng *r = NULL;
	struct pki_txn t;
	char *dir = NULL;
	int lock = -1, rc = 1, i;

	pki_txn_init(&t);
	if (!server_args_ok(o, &san))
		goto out;
	if ((lock = pki_lock(o->dir)) < 0 || pki_index_load(o->dir, &ix) < 0 ||
	    pki_ca_load(o->dir, true, &ca) < 0 || (r = pki_rng_new()) == NULL)
		goto out;
	if (server_one(&t, o, true, &san, &ca, r, &ix) < 0 ||
	    server_one(&t, o, false, &san, &ca, r, &ix) < 0 ||
	    pki_stage_index(&t, o->dir, &ix) < 0 || pki_txn_commit(&t) < 0)
		goto out;
	dir = pki_abs_dir(o->dir);
	printf("gateway certificates for");
	for (i = 0; i < o->nargs; i++)
		printf(" %s", o->args[i]);
	printf(" (CN %s, valid %d days)\nPaste into the policy:\n\n",
	    o->args[0], PKI_SERVER_DAYS);
	print_policy(dir);
	rc = 0;
out:
	if (rc != 0)
		pki_txn_abort(&t);
	pki_buf_free(&san);
	pki_ca_free(&ca);
	pki_index_free(&ix);
	pki_rng_free(r);
	pki_unlock(lock);
	free(dir);
	return rc;
}

/* ---- list and revoke ----------------------------------------------- */

int
pki_cmd_list(const struct pki_opts *o)
{
	struct pki_index ix = { 0 };
	char date[32];
	size_t i;

	if (o->nargs != 0) {
		pki_err("list: unexpected argument '%s'", o->args[0]);
		return 1;
	}
	if (!pki_require_ca(o->dir) || pki_index_load(o->dir, &ix) < 0)
		return 1;
	printf("%-16s  %-10s  %-24s  %-10s  %s\n", "SERIAL", "KIND", "NAME",
	    "NOT-AFTER", "STATUS");
	for (i = 0; i < ix.n; i++) {
		const struct pki_entry *e = &ix.e[i];
		struct tm tm;

		gmtime_r(&e->not_after, &tm);
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
		printf("%-16s  %-10s  %-24s  %-10s  ", e->serial,
		    pki_kind_name(e->kind), e->name, date);
		if (e->revoked) {
			gmtime_r(&e->revoked_at, &tm);
			strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("revoked %s\n", date);
		} else {
			printf("%s\n", e->not_after < time(NULL) ? "expired" :
			    "valid");
		}
	}
	pki_index_free(&ix);
	return 0;
}

/* Mark every valid certificate of device `name`; how many. */
static int
revoke_mark(struct pki_index *ix, const char *name, time_t now)
{
	int n = 0;
	size_t i;

	for (i = 0; i < ix->n; i++) {
		struct pki_entry *e = &ix->e[i];

		if ((e->kind == PKI_DEVICE_EC || e->kind == PKI_DEVICE_RSA) &&
		    !e->revoked && strcmp(e->name, name) == 0) {
			e->revoked = true;
			e->revoked_at = now;
			n++;
		}
	}
	return n;
}

int
pki_cmd_revoke(const struct pki_opts *o)
{
	struct pki_index ix = { 0 };
	struct pki_ca ca = { 0 };
	struct pki_rng *r = NULL;
	struct pki_txn t;
	time_t now = time(NULL);
	int lock = -1, rc = 1;
	size_t i;

	pki_txn_init(&t);
	if (o->nargs != 1) {
		pki_err("revoke: give one device name: tlsgw pki revoke NAME");
		return 1;
	}
	if (!pki_check_device_name(o->args[0]) || !pki_require_ca(o->dir))
		return 1;
	if ((lock = pki_lock(o->dir)) < 0 || pki_index_load(o->dir, &ix) < 0 ||
	    pki_ca_load(o->dir, false, &ca) < 0)
		goto out;
	if (revoke_mark(&ix, o->args[0], now) == 0) {
		pki_err("no valid device certificate named '%s' in %s",
		    o->args[0], o->dir);
		goto out;
	}
	if ((r = pki_rng_new()) == NULL || pki_stage_crl(&t, o->dir, &ca, &ix,
	    r) < 0 || pki_stage_index(&t, o->dir, &ix) < 0 ||
	    pki_txn_commit(&t) < 0)
		goto out;
	for (i = 0; i < ix.n; i++)
		if (ix.e[i].revoked && ix.e[i].revoked_at == now &&
		    strcmp(ix.e[i].name, o->args[0]) == 0)
			printf("revoked device '%s', serial %s\n", o->args[0],
			    ix.e[i].serial);
	printf("%s/crl.pem updated: gateways with client_crl = that file "
	    "refuse it after a reload (SIGHUP)\n", o->dir);
	rc = 0;
out:
	if (rc != 0)
		pki_txn_abort(&t);
	pki_ca_free(&ca);
	pki_index_free(&ix);
	pki_rng_free(r);
	pki_unlock(lock);
	return rc;
}

#endif /* PKI_SUPPORTED */
