/*
 * shared.h: connection counts that every worker process sees, so that
 * [gateway] max_connections and a policy's max_connections bound the
 * whole gateway, not each worker.  The counts live in one anonymous
 * shared mapping made before the workers are forked; a single process
 * uses the same code on its own mapping.
 */
#ifndef TLSGW_SHARED_H
#define TLSGW_SHARED_H

#include <stdbool.h>

struct shared;
struct shared_count;

/* NULL when the mapping or its lock cannot be made. */
struct shared *shared_new(void);
void shared_free(struct shared *sh);

/* The count of every device connection of the gateway. */
struct shared_count *shared_total(struct shared *sh);

/* The count of the policy called name, made on first use and kept for
 * the life of the mapping (a policy that comes back after a reload
 * finds its count).  NULL when every slot is taken. */
struct shared_count *shared_policy(struct shared *sh, const char *name);

/* Add one to c unless it has reached max (0: no limit). */
bool shared_take(struct shared *sh, struct shared_count *c, unsigned max);

/* Take back one shared_take. */
void shared_put(struct shared *sh, struct shared_count *c);

#endif
