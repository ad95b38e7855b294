/*
 * inspect.c: MQTT CONNECT validation and rewriting between the device's
 * TLS leg and the broker's.  Cloud credentials come from the policy, so
 * they never live on devices; with client_id = device-cn a device can
 * only ever appear upstream as the name on its certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "inspect.h"
#include "log.h"
#include "mqtt.h"

/* Longest client id we build from prefix + original. */
#define INSPECT_MAX_ID 65535

/* A log-safe rendering of untrusted bytes: printable ASCII, cut short. */
static const char *
inspect_printable(const struct mqtt_span *s, char *buf, size_t len)
{
	size_t i, n = s->len < len - 1 ? s->len : len - 1;

	for (i = 0; i < n; i++)
		buf[i] = s->p[i] >= 0x20 && s->p[i] < 0x7f ? (char)s->p[i] : '?';
	buf[n] = '\0';
	return buf;
}

static void
inspect_refuse(struct conn *c, const char *why)
{
	conn_log(c, LOG_LEVEL_WARN, "MQTT CONNECT refused: %s; nothing was "
	    "forwarded (policy '%s')", why, c->policy->name);
	conn_close(c, "bad MQTT CONNECT");
}

/*
 * The client id to send upstream: NULL keeps the device's.  *owned is
 * set when the returned span points into memory the caller frees.
 */
static int
inspect_client_id(struct conn *c, const struct mqtt_connect *mc,
    struct mqtt_span *id, uint8_t **owned)
{
	const struct mqtt_conf *m = &c->policy->mqtt;
	size_t plen;

	*owned = NULL;
	switch (m->client_id_mode) {
	case MQTT_CLIENT_ID_DEVICE_CN:
		if (c->identity == NULL) {
			inspect_refuse(c, "client_id = device-cn but the device "
			    "certificate has no CN");
			return -1;
		}
		id->p = (const uint8_t *)c->identity;
		id->len = strlen(c->identity);
		return 1;
	case MQTT_CLIENT_ID_PREFIX:
		plen = strlen(m->client_id_prefix);
		if (plen + mc->client_id.len > INSPECT_MAX_ID) {
			inspect_refuse(c, "client id too long with its prefix");
			return -1;
		}
		*owned = malloc(plen + mc->client_id.len + 1);
		if (*owned == NULL) {
			inspect_refuse(c, "out of memory");
			return -1;
		}
		memcpy(*owned, m->client_id_prefix, plen);
		memcpy(*owned + plen, mc->client_id.p, mc->client_id.len);
		id->p = *owned;
		id->len = plen + mc->client_id.len;
		return 1;
	case MQTT_CLIENT_ID_PASSTHROUGH:
	default:
		return 0;
	}
}

/* Forward the CONNECT, rewritten when the policy says so. */
static int
inspect_forward_connect(struct conn *c, const struct mqtt_connect *mc,
    const uint8_t *raw)
{
	const struct mqtt_conf *m = &c->policy->mqtt;
	struct mqtt_span id, user, pass;
	uint8_t *owned_id, *out;
	size_t cap;
	ssize_t n;
	int has_id, rc;
	char shown[64], sent[64];

	has_id = inspect_client_id(c, mc, &id, &owned_id);
	if (has_id < 0)
		return -1;
	if (has_id == 0 && m->username == NULL)
		return relay_send(&c->upstream, raw, mc->packet_len);
	user.p = (const uint8_t *)m->username;
	user.len = m->username ? strlen(m->username) : 0;
	pass.p = (const uint8_t *)m->password;
	pass.len = m->password_len;
	cap = mc->packet_len + (has_id ? id.len : 0) + user.len + pass.len + 16;
	out = malloc(cap);
	if (out == NULL) {
		free(owned_id);
		inspect_refuse(c, "out of memory");
		return -1;
	}
	n = mqtt_connect_build(mc, has_id ? &id : NULL,
	    m->username ? &user : NULL, m->username ? &pass : NULL, out, cap);
	if (has_id)
		conn_log(c, LOG_LEVEL_INFO, "MQTT client id '%s' sent upstream "
		    "as '%s'", inspect_printable(&mc->client_id, shown,
		    sizeof shown), inspect_printable(&id, sent, sizeof sent));
	free(owned_id);
	rc = n < 0 ? -1 : relay_send(&c->upstream, out, (size_t)n);
	/* The buffer held the upstream password in the clear; what
	 * wolfSSL sends or keeps for the socket is ciphertext. */
	policy_wipe(out, cap);
	free(out);
	if (n < 0) {
		inspect_refuse(c, "cannot rebuild the CONNECT");
		return -1;
	}
	return rc;
}

int
inspect_device_data(struct conn *c, const uint8_t *buf, size_t n)
{
	struct mqtt_connect mc;
	uint8_t *p;
	size_t len;
	int res;

	if (c->mqtt_in == NULL && (c->mqtt_in = evbuffer_new()) == NULL) {
		inspect_refuse(c, "out of memory");
		return -1;
	}
	if (evbuffer_add(c->mqtt_in, buf, n) != 0) {
		inspect_refuse(c, "out of memory");
		return -1;
	}
	len = evbuffer_get_length(c->mqtt_in);
	p = evbuffer_pullup(c->mqtt_in, -1);
	res = mqtt_connect_parse(p, len, c->policy->mqtt.max_connect_size, &mc);
	if (res == MQTT_NEED_MORE)
		return 0;
	if (res != MQTT_OK) {
		inspect_refuse(c, mqtt_strerror(res));
		return -1;
	}
	if (inspect_forward_connect(c, &mc, p) < 0 ||
	    relay_send(&c->upstream, p + mc.packet_len, len - mc.packet_len) < 0)
		return -1;
	c->inspecting = false;
	inspect_free(c);
	return 0;
}

void
inspect_free(struct conn *c)
{
	if (c->mqtt_in != NULL)
		evbuffer_free(c->mqtt_in);
	c->mqtt_in = NULL;
}

int
inspect_device_eof(struct conn *c)
{
	if (c->mqtt_in == NULL || evbuffer_get_length(c->mqtt_in) == 0)
		return 0;
	inspect_refuse(c, mqtt_strerror(MQTT_NEED_MORE));
	return -1;
}
