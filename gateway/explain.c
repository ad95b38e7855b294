/*
 * explain.c: the words a failed handshake's log line gets.  From one
 * parsed ClientHello and one policy, say what the device offered and,
 * when the policy cannot serve it, why and what to change, naming the
 * policy and the key to set.  Every write goes through a bounded string
 * builder: output is always NUL-terminated (when len > 0) and cut to
 * fit, long lists with "... (N more)".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"

#define EXPLAIN_OFFER_SUITES  8 	/* names shown before "... (N more)" */
#define EXPLAIN_OFFER_GROUPS  8
#define EXPLAIN_OFFER_SIGALGS 6 
#define EXPLAIN_REFUSE_SUITES 8
#define EXPLAIN_NAME_MAX      96	/* one suite name with its reason */
#define EXPLAIN_TAIL_MAX      512	/* the fix text after a list */

/* A string being written into a caller's buffer, never past its end. */
struct explain_sb {
	char *buf;
	size_t len;		/* buffer size, NUL included */
	size_t pos;		/* characters written so far */
};

/* Start writing into buf (len may be 0: then nothing is ever written). */
static void
explain_sb_init(struct explain_sb *sb, char *buf, size_t len)
{
	sb->buf = buf;
	sb->len = len;
	sb->pos = 0;
	if (len > 0)
		buf[0] = '\0';
}

/* Characters that still fit before the NUL. */
static size_t
explain_sb_room(const struct explain_sb *sb)
{
	return sb->len == 0 ? 0 : sb->len - 1 - sb->pos;
}

/* Append formatted text, cut to fit. */
static void __attribute__((format(printf, 2, 3)))
explain_sb_add(struct explain_sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (explain_sb_room(sb) == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->pos, sb->len - sb->pos, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->buf[sb->pos] = '\0';
		return;
	}
	sb->pos += (size_t)n < explain_sb_room(sb) ? (size_t)n :
	    explain_sb_room(sb);
}

/* Writes the display name of one code into out. */
typedef void (*explain_namefn)(uint16_t code, char *out, size_t outlen);

/* Length of ", ... (N more)" for a given N. */
static size_t
explain_more_len(size_t n)
{
	char tmp[48];
	int k = snprintf(tmp, sizeof tmp, ", ... (%zu more)", n);

	return k < 0 ? 0 : (size_t)k;
}

/*
 * Append up to max names of codes[0..n), comma-separated; total counts
 * codes beyond the array too.  Stops early, with "... (N more)", when
 * the next name would leave less than reserve characters of room.
 */
static void
explain_list(struct explain_sb *sb, const uint16_t *codes, size_t n,
    size_t total, size_t max, explain_namefn name, size_t reserve)
{
	char item[EXPLAIN_NAME_MAX];
	const char *sep;
	size_t i, need;

	if (total < n)
		total = n;
	for (i = 0; i < n; i++) {
		name(codes[i], item, sizeof item);
		sep = i > 0 ? ", " : "";
		need = strlen(sep) + strlen(item) + reserve;
		if (i + 1 < total)
			need += explain_more_len(total - i - 1);
		if (i >= max || need > explain_sb_room(sb))
			break;
		explain_sb_add(sb, "%s%s", sep, item);
	}
	if (i < total)
		explain_sb_add(sb, "%s... (%zu more)", i > 0 ? ", " : "",
		    total - i);
}

/* ------------------------------------------------------------------ */
/* Names.                                                             */

struct explain_code_name {
	uint16_t code;
	const char *name;
};

static const struct explain_code_name explain_groups[] = {
	{ 0x0012, "secp192k1" }, { 0x0013, "secp192r1" },
	{ 0x0014, "secp224k1" }, { 0x0015, "secp224r1" },
	{ 0x0016, "secp256k1" }, { 0x0017, "secp256r1" },
	{ 0x0018, "secp384r1" }, { 0x0019, "secp521r1" },
	{ 0x001a, "brainpoolP256r1" }, { 0x001b, "brainpoolP384r1" },
	{ 0x001c, "brainpoolP512r1" }, { 0x001d, "x25519" },
	{ 0x001e, "x448" }, { 0x001f, "brainpoolP256r1tls13" },
	{ 0x0020, "brainpoolP384r1tls13" }, { 0x0021, "brainpoolP512r1tls13" },
	{ 0x0100, "ffdhe2048" }, { 0x0101, "ffdhe3072" },
	{ 0x0102, "ffdhe4096" }, { 0x0103, "ffdhe6144" },
	{ 0x0104, "ffdhe8192" },
};

static const struct explain_code_name explain_sigalgs[] = {
	{ 0x0101, "rsa_md5" }, { 0x0103, "ecdsa_md5" },
	{ 0x0201, "rsa_pkcs1_sha1" }, { 0x0202, "dsa_sha1" },
	{ 0x0203, "ecdsa_sha1" }, { 0x0301, "rsa_pkcs1_sha224" },
	{ 0x0302, "dsa_sha224" }, { 0x0303, "ecdsa_sha224" },
	{ 0x0401, "rsa_pkcs1_sha256" }, { 0x0402, "dsa_sha256" },
	{ 0x0403, "ecdsa_secp256r1_sha256" }, { 0x0501, "rsa_pkcs1_sha384" },
	{ 0x0502, "dsa_sha384" }, { 0x0503, "ecdsa_secp384r1_sha384" },
	{ 0x0601, "rsa_pkcs1_sha512" }, { 0x0602, "dsa_sha512" },
	{ 0x0603, "ecdsa_secp521r1_sha512" }, { 0x0804, "rsa_pss_rsae_sha256" },
	{ 0x0805, "rsa_pss_rsae_sha384" }, { 0x0806, "rsa_pss_rsae_sha512" },
	{ 0x0807, "ed25519" }, { 0x0808, "ed448" },
	{ 0x0809, "rsa_pss_pss_sha256" }, { 0x080a, "rsa_pss_pss_sha384" },
	{ 0x080b, "rsa_pss_pss_sha512" },
	{ 0x081a, "ecdsa_brainpoolP256r1tls13_sha256" },
	{ 0x081b, "ecdsa_brainpoolP384r1tls13_sha384" },
	{ 0x081c, "ecdsa_brainpoolP512r1tls13_sha512" },
};

/* Name from a table, or the code in hex. */
static void
explain_table_name(const struct explain_code_name *t, size_t n,
    uint16_t code, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].code == code) {
			snprintf(out, outlen, "%s", t[i].name);
			return;
		}
	}
	snprintf(out, outlen, "0x%04x", (unsigned)code);
}

/* explain_namefn for supported_groups. */
static void
explain_group_name(uint16_t code, char *out, size_t outlen)
{
	explain_table_name(explain_groups,
	    sizeof explain_groups / sizeof explain_groups[0], code, out,
	    outlen);
}

/* explain_namefn for signature_algorithms. */
static void
explain_sigalg_name(uint16_t code, char *out, size_t outlen)
{
	explain_table_name(explain_sigalgs,
	    sizeof explain_sigalgs / sizeof explain_sigalgs[0], code, out,
	    outlen);
}

/* explain_namefn for cipher suites (IANA names from suites.c). */
static void
explain_suite_name(uint16_t code, char *out, size_t outlen)
{
	char tmp[16];

	snprintf(out, outlen, "%s", suite_name(code, tmp, sizeof tmp));
}

/* explain_namefn for suites never allowed: the name and the reason. */
static void
explain_weak_name(uint16_t code, char *out, size_t outlen)
{
	const struct suite_info *s = suite_find(code);
	char tmp[16];
	const char *why;

	if (s == NULL)
		why = "unknown to tlsgw";
	else if (s->weakness != NULL)
		why = s->weakness;
	else if (s->kx == KX_OTHER)
		why = "key exchange tlsgw does not do";
	else
		why = "not supported by tlsgw";
	snprintf(out, outlen, "%s (%s)", suite_name(code, tmp, sizeof tmp),
	    why);
}

/* explain_namefn for protocol versions. */
static void
explain_version_name(uint16_t code, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", tls_version_name(code));
}

/* Name of a policy for the messages. */
static const char *
explain_policy_name(const struct policy *p)
{
	return p->name != NULL ? p->name : "?";
}

/* Name of a suite set as written in a policy file. */
static const char *
explain_set_name(enum suite_set set)
{
	switch (set) {
	case SUITE_SET_MODERN: return "modern";
	case SUITE_SET_COMPAT: return "compat";
	case SUITE_SET_LEGACY: return "legacy";
	default: return "explicit";
	}
}

/* GREASE and signalling values are not suites: leave them out of texts. */
static bool
explain_is_real_suite(uint16_t code)
{
	if ((code & 0x0f0f) == 0x0a0a && (code >> 8) == (code & 0xff))
		return false;			/* GREASE */
	return code != 0x00ff && code != 0x5600;	/* SCSVs */
}

/* The offered suites without GREASE and SCSVs; returns how many. */
static size_t
explain_real_suites(const struct client_hello *ch, uint16_t *out,
    size_t *total)
{
	size_t i, n = 0, dropped = 0;

	for (i = 0; i < ch->nsuites; i++) {
		if (explain_is_real_suite(ch->suites[i]))
			out[n++] = ch->suites[i];
		else
			dropped++;
	}
	*total = ch->nsuites_total - dropped;
	return n;
}

/* ------------------------------------------------------------------ */
/* explain_offer                                                      */

/* "versions TLS 1.3, TLS 1.2" or "versions up to TLS 1.2". */
static void
explain_offer_versions(struct explain_sb *sb, const struct client_hello *ch)
{
	if (ch->nversions == 0) {
		explain_sb_add(sb, "versions up to %s",
		    tls_version_name(clienthello_max_version(ch)));
		return;
	}
	explain_sb_add(sb, "versions ");
	explain_list(sb, ch->versions, ch->nversions, ch->nversions,
	    CH_MAX_VERSIONS, explain_version_name, 0);
}

void
explain_offer(const struct client_hello *ch, char *buf, size_t len)
{
	struct explain_sb sb;
	uint16_t suites[CH_MAX_SUITES];
	size_t n, total;

	explain_sb_init(&sb, buf, len);
	explain_offer_versions(&sb, ch);
	n = explain_real_suites(ch, suites, &total);
	explain_sb_add(&sb, "; suites ");
	explain_list(&sb, suites, n, total, EXPLAIN_OFFER_SUITES,
	    explain_suite_name, 0);
	if (ch->ngroups_total > 0) {
		explain_sb_add(&sb, "; groups ");
		explain_list(&sb, ch->groups, ch->ngroups, ch->ngroups_total,
		    EXPLAIN_OFFER_GROUPS, explain_group_name, 0);
	}
	if (ch->nsigalgs_total > 0) {
		explain_sb_add(&sb, "; sigalgs ");
		explain_list(&sb, ch->sigalgs, ch->nsigalgs,
		    ch->nsigalgs_total, EXPLAIN_OFFER_SIGALGS,
		    explain_sigalg_name, 0);
	}
	if (ch->has_sni)
		explain_sb_add(&sb, "; SNI %s", ch->sni);
	else
		explain_sb_add(&sb, "; no SNI");
	if (ch->mfl != 0)
		explain_sb_add(&sb, "; MFL %zu", clienthello_mfl_bytes(ch->mfl));
}

/* ------------------------------------------------------------------ */
/* explain_refusal                                                    */

/* The device's offer sorted against one policy. */
struct explain_sort {
	bool v12, v13;			/* versions both sides can do */
	uint16_t common[CH_MAX_SUITES];	/* offered and allowed, usable */
	size_t ncommon;
	uint16_t rsa[CH_MAX_SUITES];	/* allowable static RSA, not allowed */
	size_t nrsa;
	uint16_t other[CH_MAX_SUITES];	/* allowable, not allowed here */
	size_t nother;
	uint16_t weak[CH_MAX_SUITES];	/* never allowed, or unknown */
	size_t nweak;
	uint16_t offered[CH_MAX_SUITES];	/* all real suites */
	size_t noffered, offered_total;
};

/* True when code is one of the policy's allowed suites. */
static bool
explain_policy_allows(const struct policy *p, uint16_t code)
{
	size_t i;

	for (i = 0; i < p->device.nsuites && i < POLICY_MAX_SUITES; i++) {
		if (p->device.suites[i] == code)
			return true;
	}
	return false;
}

/* Put one offered suite into its bucket. */
static void
explain_sort_one(struct explain_sort *so, const struct policy *p,
    uint16_t code)
{
	const struct suite_info *s = suite_find(code);
	bool usable;

	if (s == NULL || !suite_is_allowable(s)) {
		so->weak[so->nweak++] = code;
		return;
	}
	usable = s->kx == KX_TLS13 ? so->v13 : so->v12;
	if (usable && explain_policy_allows(p, code))
		so->common[so->ncommon++] = code;
	else if (usable && s->kx == KX_RSA)
		so->rsa[so->nrsa++] = code;
	else
		so->other[so->nother++] = code;
}

/* Sort the whole offer against the policy. */
static void
explain_sort(struct explain_sort *so, const struct client_hello *ch,
    const struct policy *p)
{
	size_t i;

	memset(so, 0, sizeof *so);
	so->v13 = clienthello_offers_version(ch, TLSV_TLS13);
	so->v12 = clienthello_offers_version(ch, TLSV_TLS12) &&
	    p->device.min_version <= TLSV_TLS12;
	so->noffered = explain_real_suites(ch, so->offered,
	    &so->offered_total);
	for (i = 0; i < so->noffered; i++)
		explain_sort_one(so, p, so->offered[i]);
}

/* Too old a device, or a policy that asks for TLS 1.3 only. */
static void
explain_version(struct explain_sb *sb, const struct client_hello *ch,
    const struct policy *p)
{
	uint16_t maxv = clienthello_max_version(ch);
	const char *name = explain_policy_name(p);

	if (maxv >= TLSV_TLS12) {
		explain_sb_add(sb, "device offers at most %s but policy '%s' "
		    "has min_version = 1.3: set min_version = 1.2 in policy "
		    "'%s' to accept it", tls_version_name(maxv), name, name);
	} else if (p->device.min_version >= TLSV_TLS13) {
		explain_sb_add(sb, "device offers at most %s; policy '%s' "
		    "accepts TLS 1.3 only (min_version = 1.3) and tlsgw "
		    "never accepts less than TLS 1.2: update the device "
		    "firmware", tls_version_name(maxv), name);
	} else {
		explain_sb_add(sb, "device offers at most %s; tlsgw accepts "
		    "TLS 1.2 and 1.3 only: update the device firmware (no "
		    "setting of policy '%s' can serve it)",
		    tls_version_name(maxv), name);
	}
}

/* "<head>(list)<tail>" with the list cut so that the tail fits. */
static void
explain_list_msg(struct explain_sb *sb, const char *head,
    const uint16_t *codes, size_t n, explain_namefn fn, const char *tail)
{
	explain_sb_add(sb, "%s", head);
	explain_list(sb, codes, n, n, EXPLAIN_REFUSE_SUITES, fn,
	    strlen(tail));
	explain_sb_add(sb, "%s", tail);
}

/* Only static-RSA suites among those tlsgw could allow. */
static void
explain_static_rsa(struct explain_sb *sb, const struct explain_sort *so,
    const struct policy *p)
{
	char tail[EXPLAIN_TAIL_MAX];
	const char *name = explain_policy_name(p);

	if (p->device.suite_set == SUITE_SET_EXPLICIT)
		snprintf(tail, sizeof tail, "): refused by the suites list "
		    "of policy '%s'; name one of them in suites, or use "
		    "suites=legacy, in policy '%s' to accept it, without "
		    "forward secrecy on the LAN leg", name, name);
	else
		snprintf(tail, sizeof tail, "): refused by suites=%s; use "
		    "suites=legacy in policy '%s' to accept it, without "
		    "forward secrecy on the LAN leg",
		    explain_set_name(p->device.suite_set), name);
	explain_list_msg(sb, "device offered only static-RSA suites (",
	    so->rsa, so->nrsa, explain_suite_name, tail);
}

/* Only suites tlsgw never allows (or does not know). */
static void
explain_weak(struct explain_sb *sb, const struct explain_sort *so,
    const struct policy *p)
{
	char tail[EXPLAIN_TAIL_MAX];

	snprintf(tail, sizeof tail, ": never allowed, by policy '%s' or any "
	    "other; update the device firmware or its TLS settings to offer "
	    "ECDHE with AES-GCM, AES-CBC or ChaCha20",
	    explain_policy_name(p));
	explain_list_msg(sb, "device offered only suites tlsgw never "
	    "allows: ", so->weak, so->nweak, explain_weak_name, tail);
}

/* No suite in common although some could be allowed. */
static void
explain_no_common(struct explain_sb *sb, const struct explain_sort *so,
    const struct policy *p)
{
	char tail[EXPLAIN_TAIL_MAX];
	const char *name = explain_policy_name(p);
	size_t npol = p->device.nsuites < POLICY_MAX_SUITES ?
	    p->device.nsuites : POLICY_MAX_SUITES;

	explain_sb_add(sb, "no cipher suite in common: device offers ");
	explain_list(sb, so->offered, so->noffered, so->offered_total,
	    EXPLAIN_REFUSE_SUITES, explain_suite_name, 160);
	explain_sb_add(sb, "; policy '%s' (suites=%s) allows ", name,
	    explain_set_name(p->device.suite_set));
	if (p->device.suite_set == SUITE_SET_MODERN)
		snprintf(tail, sizeof tail, "; use suites=compat in policy "
		    "'%s', or name one of the device's suites in its suites "
		    "list", name);
	else
		snprintf(tail, sizeof tail, "; name one of the device's "
		    "suites in suites = ... of policy '%s'", name);
	explain_list(sb, p->device.suites, npol, npol, EXPLAIN_REFUSE_SUITES,
	    explain_suite_name, strlen(tail));
	explain_sb_add(sb, "%s", tail);
}

/* TLS 1.3 signature schemes for each certificate kind. */
static bool
explain_has_sigalg(const struct client_hello *ch, bool ecdsa)
{
	size_t i;
	uint16_t a;

	if (ch->nsigalgs_total == 0)
		return true;		/* not said: do not guess a failure */
	for (i = 0; i < ch->nsigalgs; i++) {
		a = ch->sigalgs[i];
		if (ecdsa && (a == 0x0403 || a == 0x0503 || a == 0x0603))
			return true;
		if (!ecdsa && a >= 0x0804 && a <= 0x0806)
			return true;
	}
	return false;
}

/* Which certificates a common suite can be served with. */
static void
explain_cert_needs(const struct client_hello *ch, uint16_t code,
    bool *rsa, bool *ecdsa)
{
	const struct suite_info *s = suite_find(code);

	*rsa = *ecdsa = false;
	if (s == NULL)
		return;
	switch (s->kx) {
	case KX_TLS13:
		*rsa = explain_has_sigalg(ch, false);
		*ecdsa = explain_has_sigalg(ch, true);
		break;
	case KX_ECDHE_ECDSA:
		*ecdsa = true;
		break;
	case KX_ECDHE_RSA:
	case KX_RSA:
		*rsa = true;
		break;
	default:
		break;
	}
}

/* Common suites exist: is there a certificate for one of them?  If not,
 * say which certificate to add.  Returns true when refused. */
static bool
explain_certs(struct explain_sb *sb, const struct client_hello *ch,
    const struct explain_sort *so, const struct policy *p)
{
	bool have_rsa = p->device.cert != NULL && p->device.cert[0] != '\0';
	bool have_ec = p->device.cert_ecdsa != NULL &&
	    p->device.cert_ecdsa[0] != '\0';
	bool want_rsa = false, want_ec = false, r, e;
	char tail[EXPLAIN_TAIL_MAX];
	const char *name = explain_policy_name(p);
	size_t i;

	for (i = 0; i < so->ncommon; i++) {
		explain_cert_needs(ch, so->common[i], &r, &e);
		if ((r && have_rsa) || (e && have_ec))
			return false;
		want_rsa |= r;
		want_ec |= e;
	}
	if (!have_rsa && !have_ec) {
		snprintf(tail, sizeof tail, ") need a certificate, and policy "
		    "'%s' has none: add cert and key (RSA) or cert_ecdsa and "
		    "key_ecdsa (ECDSA) to its [device] section", name);
	} else if (want_ec && !have_ec) {
		snprintf(tail, sizeof tail, ") need an ECDSA certificate, "
		    "and policy '%s' has none: add cert_ecdsa and key_ecdsa "
		    "(an ECDSA P-256 chain and key) to its [device] section%s",
		    name, so->nrsa > 0 && !want_rsa ? "; the device's "
		    "static-RSA suites stay refused unless suites=legacy" :
		    "");
	} else if (want_rsa && !have_rsa) {
		snprintf(tail, sizeof tail, ") need an RSA certificate, and "
		    "policy '%s' has none: add cert and key (an RSA chain "
		    "and key) to its [device] section", name);
	} else {
		snprintf(tail, sizeof tail, ") fit no certificate of policy "
		    "'%s' with the device's signature_algorithms: add "
		    "cert_ecdsa/key_ecdsa or cert/key to its [device] "
		    "section", name);
	}
	explain_list_msg(sb, "the suites the device shares with the policy (",
	    so->common, so->ncommon, explain_suite_name, tail);
	return true;
}

bool
explain_refusal(const struct client_hello *ch, const struct policy *p,
    char *buf, size_t len)
{
	struct explain_sort so;
	struct explain_sb sb;

	explain_sb_init(&sb, buf, len);
	explain_sort(&so, ch, p);
	if (!so.v12 && !so.v13) {
		explain_version(&sb, ch, p);
		return true;
	}
	if (so.ncommon > 0)
		return explain_certs(&sb, ch, &so, p);
	if (so.nrsa > 0 && so.nother == 0 &&
	    p->device.suite_set != SUITE_SET_LEGACY)
		explain_static_rsa(&sb, &so, p);
	else if (so.nrsa == 0 && so.nother == 0 && so.nweak > 0)
		explain_weak(&sb, &so, p);
	else
		explain_no_common(&sb, &so, p);
	return true;
}
