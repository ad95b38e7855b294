/*
 * explain.h: plain-words explanations of what a device offered and why a
 * policy cannot serve it, for the one log line a failed handshake gets.
 */
#ifndef TLSGW_EXPLAIN_H
#define TLSGW_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "clienthello.h"
#include "policy.h"

/*
 * Describe the offer: "versions TLS 1.2; suites TLS_ECDHE_RSA_WITH_...,
 * ...; groups secp256r1, x25519; sigalgs ...; SNI gw.lan; MFL 1024".
 * Long lists are cut with "... (N more)".  Always NUL-terminates.
 */
void explain_offer(const struct client_hello *ch, char *buf, size_t len);

/*
 * When the policy cannot serve this hello (no common version, no
 * common suite, only static-RSA suites under a non-legacy set, only
 * forbidden suites, no certificate usable with the offered suites),
 * write the reason and the fix in plain words into buf and return true,
 * e.g. "device offered only static-RSA suites (TLS_RSA_WITH_AES_128_CBC_SHA,
 * ...): refused by suites=compat; use suites=legacy in policy 'x' to
 * accept it, without forward secrecy on the LAN leg".  Return false
 * when the policy should be able to serve it.
 */
bool explain_refusal(const struct client_hello *ch, const struct policy *p,
    char *buf, size_t len);

#endif
