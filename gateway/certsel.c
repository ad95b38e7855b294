/*
 * certsel.c: pick the RSA or the ECDSA certificate for a device from its
 * ClientHello (wolfSSL holds one certificate per context, and its
 * certificate callback cannot see the client's offer on every version).
 * The rules are those measured in DEPS.md.
 */
#include "certsel.h"
#include "suites.h"

/* True when code is in the list. */
static bool
certsel_in(const uint16_t *list, size_t n, uint16_t code)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (list[i] == code)
			return true;
	}
	return false;
}

/* True when the client offers a suite of family kx that is allowed. */
static bool
certsel_offers_kx(const struct client_hello *ch, const uint16_t *allowed,
    size_t nallowed, enum suite_kx kx)
{
	const struct suite_info *s;
	size_t i;

	for (i = 0; i < ch->nsuites; i++) {
		s = suite_find(ch->suites[i]);
		if (s != NULL && s->kx == kx &&
		    certsel_in(allowed, nallowed, ch->suites[i]))
			return true;
	}
	return false;
}

/* TLS 1.3 happens when both sides have it and share a TLS 1.3 suite. */
static bool
certsel_will_tls13(const struct client_hello *ch, const uint16_t *allowed,
    size_t nallowed)
{
	return clienthello_offers_version(ch, TLSV_TLS13) &&
	    certsel_offers_kx(ch, allowed, nallowed, KX_TLS13);
}

/* ECDSA signature schemes of TLS 1.3 (P-256, P-384, P-521). */
static bool
certsel_has_ecdsa_sigalg(const struct client_hello *ch)
{
	size_t i;

	for (i = 0; i < ch->nsigalgs; i++) {
		if (ch->sigalgs[i] == 0x0403 || ch->sigalgs[i] == 0x0503 ||
		    ch->sigalgs[i] == 0x0603)
			return true;
	}
	return false;
}

enum cert_kind
certsel_choose(const struct client_hello *ch, const uint16_t *allowed,
    size_t nallowed, uint16_t min_version, bool have_rsa, bool have_ecdsa)
{
	bool ecdsa;

	if (!have_rsa && !have_ecdsa)
		return CERT_NONE;
	if (!have_rsa || !have_ecdsa)
		return have_rsa ? CERT_RSA : CERT_ECDSA;
	/* A policy with min_version 1.3 can only do TLS 1.3. */
	if (min_version >= TLSV_TLS13 ||
	    certsel_will_tls13(ch, allowed, nallowed))
		ecdsa = certsel_has_ecdsa_sigalg(ch);
	else
		ecdsa = certsel_offers_kx(ch, allowed, nallowed,
		    KX_ECDHE_ECDSA);
	return ecdsa ? CERT_ECDSA : CERT_RSA;
}

const char *
cert_kind_name(enum cert_kind kind)
{
	switch (kind) {
	case CERT_RSA: return "rsa";
	case CERT_ECDSA: return "ecdsa";
	default: return "none";
	}
}
