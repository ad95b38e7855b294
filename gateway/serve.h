/*
 * serve.h: one event loop serving the configured ports until a stop
 * signal: the whole gateway with one worker, else one of its workers
 * (workers.c forks them).
 */
#ifndef TLSGW_SERVE_H
#define TLSGW_SERVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy.h"
#include "shared.h"

struct serve_opts {
	bool foreground;        /* else detach once serving (one worker) */
	struct shared *shared;  /* counts across workers; the caller's */
	unsigned worker;        /* this loop's number, 0.. nworkers - 1 */
	unsigned nworkers;
	int ready_fd;           /* -1, or gets one byte once serving */
	pid_t master;           /* 0, or the process that forked us */
};

/* Serve conf (which this takes over) until stopped; the exit status. */
int serve(const char *path, struct gateway_conf *conf,
    const struct serve_opts *o);

/* Switch to user (NULL: stay) once ports are bound; -1 after logging
 * when started as root and the switch fails. */
int drop_privileges(const char *user);

/* Unless core_dumps: no core files, not dumpable (keys, passwords).
 * Again after a user switch, which makes the process dumpable. */
void protect_secrets(bool core_dumps);

/* The signals a loop handles, blocked while workers are forked. */
void serve_block_signals(bool block);

#endif
