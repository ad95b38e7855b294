/*
 * certsel.h: which of a policy's two certificates (RSA or ECDSA) to
 * present to a device, decided from its ClientHello before any TLS
 * object exists (wolfSSL holds one certificate per context).
 */
#ifndef TLSGW_CERTSEL_H
#define TLSGW_CERTSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clienthello.h"

enum cert_kind { CERT_NONE = 0, CERT_RSA, CERT_ECDSA };

/*
 * Choose the certificate for a hello, given the policy's allowed suite
 * codes (allowed/nallowed), its minimum device version and which
 * certificates it has.  A client that will negotiate TLS 1.3 (offers it,
 * and the policy allows a TLS 1.3 suite) gets ECDSA when its
 * signature_algorithms holds 0x0403/0x0503/0x0603; a TLS 1.2 client gets
 * ECDSA when it offers an ECDHE_ECDSA suite the policy allows.  Otherwise
 * RSA.  When only one certificate exists, that one.  CERT_NONE only when
 * the policy has neither.
 */
enum cert_kind certsel_choose(const struct client_hello *ch,
    const uint16_t *allowed, size_t nallowed, uint16_t min_version,
    bool have_rsa, bool have_ecdsa);

/* "rsa", "ecdsa" or "none". */
const char *cert_kind_name(enum cert_kind kind);

#endif
