/*
 * inspect.h: the device's first MQTT packet, under [mqtt] inspect = yes.
 * The CONNECT is read whole, validated, and forwarded with the client id
 * and credentials the policy asks for; every byte after it passes
 * through untouched.  Nothing reaches the broker before the CONNECT is
 * accepted.
 */
#ifndef TLSGW_INSPECT_H
#define TLSGW_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/*
 * Take n plaintext bytes from the device while c->inspecting.  Returns
 * 0 when they were taken (forwarded or kept until the CONNECT is whole),
 * -1 when the connection is being closed.
 */
int inspect_device_data(struct conn *c, const uint8_t *buf, size_t n);

/* The device ended its stream while a CONNECT was incomplete: refuse
 * (returns -1) unless nothing at all had arrived (0). */
int inspect_device_eof(struct conn *c);

/* Free what inspection holds (connection teardown). */
void inspect_free(struct conn *c);

#endif
