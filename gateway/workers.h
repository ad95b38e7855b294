/*
 * workers.h: `workers = N` (or auto, one per CPU): a master process
 * forks N workers, each a whole gateway loop (serve.c) on its own
 * socket of each listen address, and stays to pass on signals and to
 * notice a worker that dies.
 */
#ifndef TLSGW_WORKERS_H
#define TLSGW_WORKERS_H

#include <stdbool.h>

#include "policy.h"

/* The number of workers a setting means: 0 (auto) is one per CPU
 * this process may run on, at most 64. */
unsigned workers_count(unsigned setting);

/* Run the master and n workers until stopped; takes conf over.
 * Returns the exit status. */
int workers_run(const char *path, struct gateway_conf *conf,
    bool foreground, unsigned n);

#endif
