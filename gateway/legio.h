/*
 * legio.h: a leg's socket without libevent's buffers.  wolfSSL's I/O
 * callbacks (tlsio.c) receive straight from the socket into wolfSSL's
 * own record buffer and send straight from it; bytes are kept here only
 * when the socket will not take them yet (output) or before wolfSSL
 * exists (the device's ClientHello).  An idle leg holds no buffer, and
 * a relayed record costs one send and the reads wolfSSL asks for.
 *
 * Events go to conn.c: readable, drained output, end of stream, socket
 * error and, for the upstream, connect completion.  Reading is on only
 * while conn.c says the leg wants it (conn_sync_reads), since bytes
 * nobody reads would keep a level-triggered event firing.
 */
#ifndef TLSGW_LEGIO_H
#define TLSGW_LEGIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

struct leg;

/* Serve fd (connected, non-blocking; the leg owns it from now on, and
 * closes it on failure too).  -1: out of memory. */
int legio_attach(struct leg *leg, struct event_base *base,
    evutil_socket_t fd);

/* Start a non-blocking connect; conn_leg_connected or
 * conn_leg_connect_failed follows.  -1 with errno set when it cannot
 * even start. */
int legio_connect(struct leg *leg, struct event_base *base,
    const struct sockaddr *sa, socklen_t len);

/* Read what the socket has into the leg's input, up to max bytes in
 * all (the ClientHello stage).  Sets tcp_eof or the socket error. */
void legio_fill(struct leg *leg, size_t max);

/* The bytes legio_fill kept, and dropping n of them. */
const unsigned char *legio_input(const struct leg *leg, size_t *len);

/* For wolfSSL: up to sz bytes, kept input first, then the socket.
 * Returns the count, 0 for "none yet" (end of stream and errors are
 * noted on the leg and reported to conn.c from the event), or -1 once
 * the end of stream has been reported. */
int legio_recv(struct leg *leg, char *buf, int sz);

/* For wolfSSL: send or keep all sz bytes.  -1: out of memory. */
int legio_send(struct leg *leg, const char *buf, int sz);

/* Bytes the socket has not taken yet. */
size_t legio_pending(const struct leg *leg);

/* Read events on or off. */
void legio_want_read(struct leg *leg, bool on);

/* No more events (the connection is finished). */
void legio_stop(struct leg *leg);

/* SHUT_WR once the pending output is gone. */
void legio_shutdown_write(struct leg *leg);

/* Events, buffers and the socket. */
void legio_free(struct leg *leg);

#endif
