/*
 * identity.h: who a device is, from the certificate it presented under a
 * policy with client_ca: its subject CN and SAN names.  wolfSSL already
 * verified the chain; this stage applies the policy's allow list.
 */
#ifndef TLSGW_IDENTITY_H
#define TLSGW_IDENTITY_H

#include "conn.h"

/* Before the device handshake: have wolfSSL hand over the device's
 * certificate when the policy asks for one (client_ca). */
void identity_attach(struct conn *c);

/*
 * After the device handshake: record the identity in c->identity and
 * check it against the policy's allow list.  Returns 0 when the device
 * may go on (also when the policy asks for no certificate), -1 after
 * logging why it is refused.
 */
int identity_check(struct conn *c);

#endif
