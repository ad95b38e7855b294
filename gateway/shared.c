/*
 * shared.c: a few counters in a MAP_SHARED page, behind one
 * process-shared mutex.  The mutex is robust: a worker that dies while
 * holding it (it cannot, short of a crash, and a crash stops the
 * gateway) does not leave the others blocked for ever.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "shared.h"

/* Distinct policy names over the gateway's life; past that, a policy is
 * counted by each worker alone (see reload.c). */
#define SHARED_POLICIES 256

struct shared_count {
	uint64_t key;           /* FNV-1a of the policy name; 0: free slot */
	unsigned value;
};

struct shared {
	pthread_mutex_t lock;
	struct shared_count total;
	struct shared_count policy[SHARED_POLICIES];
};

struct shared *
shared_new(void)
{
	pthread_mutexattr_t attr;
	struct shared *sh;
	int ok;

	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return NULL;
	memset(sh, 0, sizeof *sh);
	ok = pthread_mutexattr_init(&attr) == 0;
	ok = ok && pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED) == 0;
	ok = ok && pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST) == 0;
	ok = ok && pthread_mutex_init(&sh->lock, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	if (!ok) {
		munmap(sh, sizeof *sh);
		return NULL;
	}
	return sh;
}

void
shared_free(struct shared *sh)
{
	if (sh == NULL)
		return;
	pthread_mutex_destroy(&sh->lock);
	munmap(sh, sizeof *sh);
}

static void
shared_lock(struct shared *sh)
{
	if (pthread_mutex_lock(&sh->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&sh->lock);
}

static void
shared_unlock(struct shared *sh)
{
	pthread_mutex_unlock(&sh->lock);
}

struct shared_count *
shared_total(struct shared *sh)
{
	return &sh->total;
}

/* Never 0, which marks a free slot. */
static uint64_t
shared_key(const char *name)
{
	uint64_t h = 14695981039346656037ull;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return h == 0 ? 1 : h;
}

struct shared_count *
shared_policy(struct shared *sh, const char *name)
{
	uint64_t key = shared_key(name);
	struct shared_count *c, *found = NULL;
	size_t i;

	shared_lock(sh);
	for (i = 0; i < SHARED_POLICIES && found == NULL; i++) {
		c = &sh->policy[(key + i) % SHARED_POLICIES];
		if (c->key == key)
			found = c;
		else if (c->key == 0) {
			c->key = key;
			found = c;
		}
	}
	shared_unlock(sh);
	return found;
}

bool
shared_take(struct shared *sh, struct shared_count *c, unsigned max)
{
	bool ok;

	shared_lock(sh);
	ok = max == 0 || c->value < max;
	if (ok)
		c->value++;
	shared_unlock(sh);
	return ok;
}

void
shared_put(struct shared *sh, struct shared_count *c)
{
	shared_lock(sh);
	if (c->value > 0)
		c->value--;
	shared_unlock(sh);
}
