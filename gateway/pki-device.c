/*
 * pki-device.c: `tlsgw pki device NAME`: a client certificate for one
 * device, the files its firmware loads, and the printout for it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "pki.h"

#ifdef PKI_SUPPORTED

/* ---- device -------------------------------------------------------- */

/*
 * What the device trusts: the RSA CA, root of both gateway chains, as
 * DER, PEM and a BearSSL trust-anchor header.  Not the ECDSA CA: it
 * signs device certificates, which no device should accept from a
 * server.
 */
static int
stage_device_cas(struct pki_txn *t, const char *devdir, const char *dir)
{
	struct pki_buf ca = { 0 }, pem = { 0 }, hdr = { 0 };
	const struct pki_buf *list[1] = { &ca };
	char *p = pki_path(dir, "ca-rsa.crt");
	int rc, i;

	rc = pki_cert_load_der(p, &ca);
	free(p);
	if (rc == 0)
		rc = pki_cert_pem(&ca, &pem);
	if (rc == 0)
		rc = pki_bearssl_header(list, 1, &hdr);
	if (rc == 0) {
		static const char *const names[] = {
			"ca.der", "ca.pem", "trust_anchors.h"
		};
		const struct pki_buf *data[] = { &ca, &pem, &hdr };

		for (i = 0; i < 3 && rc == 0; i++) {
			p = pki_path(devdir, names[i]);
			rc = pki_txn_write(t, p, data[i]->data, data[i]->len,
			    0644);
			free(p);
		}
	}
	pki_buf_free(&ca);
	pki_buf_free(&pem);
	pki_buf_free(&hdr);
	return rc;
}

/* cert.pem, cert.der (0644), key.pem, key.der (0600). */
static int
stage_device_own(struct pki_txn *t, const char *devdir,
    const struct pki_buf *der, struct pki_key *k)
{
	struct pki_buf kder = { 0 };
	char *p;
	int rc;

	p = pki_path(devdir, "cert.pem");
	rc = pki_stage_cert_pem(t, p, der, NULL);
	free(p);
	p = pki_path(devdir, "cert.der");
	if (rc == 0)
		rc = pki_txn_write(t, p, der->data, der->len, 0644);
	free(p);
	p = pki_path(devdir, "key.pem");
	if (rc == 0)
		rc = pki_stage_key_pem(t, p, k);
	free(p);
	p = pki_path(devdir, "key.der");
	if (rc == 0 && (rc = pki_key_der(k, &kder)) == 0)
		rc = pki_txn_write(t, p, kder.data, kder.len, 0600);
	free(p);
	pki_buf_free(&kder);
	return rc;
}

/* The gateway's name for MqttHost: the CN of its RSA certificate. */
static const char *
gateway_host(struct pki_index *ix)
{
	struct pki_entry *e = pki_index_find(ix, PKI_SERVER_RSA, NULL);

	return e != NULL ? e->name : NULL;
}

/* Issue the device certificate and stage its directory. */
static int
device_issue(struct pki_txn *t, const struct pki_opts *o, const char *devdir,
    struct pki_index *ix, struct pki_rng *r, struct pki_device_out *d,
    struct pki_buf *der, struct pki_entry *entry)
{
	struct pki_profile p = {
		.cn = o->args[0],
		.days = PKI_DEVICE_DAYS,
		.key_usage = o->rsa ? "digitalSignature,keyEncipherment" :
		    "digitalSignature",
		.ext_key_usage = "clientAuth",
	};
	struct pki_ca ca = { 0 };
	char *devices = pki_path(o->dir, "devices");
	int rc = -1;

	/* Every device is issued by the ECDSA CA, so that one client_ca
	 * and one CRL cover them all, whatever their own key. */
	if (pki_ca_load(o->dir, false, &ca) == 0 &&
	    pki_txn_mkdir(t, devices, 0700) == 0 &&
	    pki_txn_mkdir(t, devdir, 0700) == 0 &&
	    (d->key = pki_make_cert(&p, o->rsa, &ca, r, ix, der)) != NULL &&
	    pki_index_add_cert(ix, o->rsa ? PKI_DEVICE_RSA : PKI_DEVICE_EC,
	    o->args[0], der, entry) == 0 &&
	    stage_device_own(t, devdir, der, d->key) == 0 &&
	    stage_device_cas(t, devdir, o->dir) == 0 &&
	    pki_stage_index(t, o->dir, ix) == 0)
		rc = 0;
	pki_ca_free(&ca);
	free(devices);
	return rc;
}

int
pki_cmd_device(const struct pki_opts *o)
{
	struct pki_device_out d = { 0 };
	struct pki_index ix = { 0 };
	struct pki_entry *old, entry;
	struct pki_buf der = { 0 };
	struct pki_rng *r = NULL;
	struct pki_txn t;
	char *devdir = NULL, *dir = NULL;
	int lock = -1, rc = 1;

	pki_txn_init(&t);
	if (o->nargs != 1) {
		pki_err("device: give one device name: tlsgw pki device NAME");
		return 1;
	}
	if (!pki_check_device_name(o->args[0]) || !pki_require_ca(o->dir))
		return 1;
	if ((lock = pki_lock(o->dir)) < 0 || pki_index_load(o->dir, &ix) < 0)
		goto out;
	if ((old = pki_index_find(&ix, PKI_DEVICE_EC, o->args[0])) != NULL ||
	    (old = pki_index_find(&ix, PKI_DEVICE_RSA, o->args[0])) != NULL) {
		pki_err("device '%s' already has a certificate (serial %s): "
		    "nothing changed; `tlsgw pki revoke %s` first to replace "
		    "it", o->args[0], old->serial, o->args[0]);
		goto out;
	}
	dir = pki_abs_dir(o->dir);
	devdir = pki_path3(dir, "devices", o->args[0]);
	if ((r = pki_rng_new()) == NULL ||
	    device_issue(&t, o, devdir, &ix, r, &d, &der, &entry) < 0 ||
	    pki_txn_commit(&t) < 0)
		goto out;
	d.dir = dir;
	d.name = o->args[0];
	d.devdir = devdir;
	d.rsa = o->rsa;
	d.serial = entry.serial;
	d.not_after = entry.not_after;
	d.cert_der = &der;
	d.host = gateway_host(&ix);
	rc = pki_export_device(stdout, o->format, &d) < 0 ? 1 : 0;
out:
	if (rc != 0)
		pki_txn_abort(&t);      /* no-op once committed */
	pki_key_free(d.key);
	pki_buf_free(&der);
	pki_index_free(&ix);
	pki_rng_free(r);
	pki_unlock(lock);
	free(devdir);
	free(dir);
	return rc;
}

#endif /* PKI_SUPPORTED */
