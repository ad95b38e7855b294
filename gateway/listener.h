/*
 * listener.h: one listening socket per distinct [listen] address; the
 * policies sharing it are told apart by SNI.  Listeners survive a reload
 * when their address stays, so devices never see a refused connect.
 */
#ifndef TLSGW_LISTENER_H
#define TLSGW_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

#include <event2/listener.h>

#include "conn.h"

struct listener {
	struct gateway *gw;
	struct evconnlistener *evl;  /* NULL once closed */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char address[64];            /* as written in the policy */
	struct event *resume;        /* re-enables accept after EMFILE */
	unsigned refs;               /* the gateway's list + connections */
	struct timeval pause_logged; /* last "pausing accepts" line */
	unsigned pauses;             /* pauses since that line */
	bool keep;                   /* scratch for listener_sync */
};

/*
 * Make the open listeners match conf: open the addresses that are new
 * (all or nothing: on a failure, the ones opened here are closed again
 * and -1 is returned), keep the ones that stay.  listener_prune then
 * closes the ones conf no longer has, once the new set is committed.
 */
int listener_sync(struct gateway *gw, const struct gateway_conf *conf);
void listener_prune(struct gateway *gw);

/* With several workers: check that nothing else holds conf's listen
 * addresses, binding each once alone (workers then share them through
 * SO_REUSEPORT, which would otherwise also let them share a port with
 * another program of the same user).  -1 after logging. */
int listener_probe(const struct gateway_conf *conf);

/* Log the policies served, one line each. */
void listener_log_policies(const struct gateway_conf *conf);

/* A connection was refused by a limit: make sure the refusals that no
 * line reports get one when the flood stops. */
void listener_note_refusal(struct gateway *gw);

/* Stop accepting and drop every listener (stop, exit). */
void listener_close_all(struct gateway *gw);

/* A connection holds its listener while it lives. */
struct listener *listener_ref(struct listener *l);
void listener_unref(struct listener *l);

#endif
