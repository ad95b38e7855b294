/*
 * listener.h: one listening socket per distinct [listen] address; the
 * policies sharing it are told apart by SNI.
 */
#ifndef TLSGW_LISTENER_H
#define TLSGW_LISTENER_H

#include <sys/socket.h>

#include <event2/listener.h>

#include "conn.h"

struct listener {
	struct gateway *gw;
	struct evconnlistener *evl;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *address;         /* as written in the first policy */
	struct event *resume;        /* re-enables accept after EMFILE */
	bool paused_logged;
};

/* Open a listener for every distinct address of the configuration.
 * Returns 0, or -1 after logging what failed. */
int listener_open_all(struct gateway *gw);

/* Stop accepting and free every listener. */
void listener_close_all(struct gateway *gw);

#endif
