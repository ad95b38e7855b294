/*
 * reload.c: configurations as shared, counted objects, and the
 * transactional reload: everything is loaded and every listener opened
 * before anything changes; on any error the running set stays.  Live
 * connections keep the configuration (and policy) they started with.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "resolve.h"
#include "shared.h"
#include "workers.h"

struct config *
config_new(struct gateway_conf *conf, struct shared *sh)
{
	struct config *cfg = calloc(1, sizeof *cfg);
	size_t i;

	if (cfg == NULL)
		return NULL;
	cfg->tickets = calloc(conf->npolicies + 1, sizeof *cfg->tickets);
	cfg->policy_conns = calloc(conf->npolicies + 1,
	    sizeof *cfg->policy_conns);
	cfg->policy_shared = calloc(conf->npolicies + 1,
	    sizeof *cfg->policy_shared);
	if (cfg->tickets == NULL || cfg->policy_conns == NULL ||
	    cfg->policy_shared == NULL) {
		free(cfg->tickets);
		free(cfg->policy_conns);
		free(cfg->policy_shared);
		free(cfg);
		return NULL;
	}
	/* By name: a policy kept across a reload keeps counting its live
	 * connections.  Without a shared slot, each worker counts alone. */
	for (i = 0; i < conf->npolicies; i++)
		if (conf->policies[i]->max_connections > 0)
			cfg->policy_shared[i] = shared_policy(sh,
			    conf->policies[i]->name);
	cfg->conf = conf;
	cfg->refs = 1;
	return cfg;
}

struct config *
config_ref(struct config *cfg)
{
	cfg->refs++;
	return cfg;
}

void
config_unref(struct config *cfg)
{
	size_t i;

	if (cfg == NULL || --cfg->refs > 0)
		return;
	for (i = 0; i < cfg->conf->npolicies; i++)
		tickets_clear(&cfg->tickets[i]);
	free(cfg->tickets);
	free(cfg->policy_conns);
	free(cfg->policy_shared);
	policy_free(cfg->conf);
	free(cfg);
}

/* Index of p in cfg; npolicies (a spare slot) if it is not there,
 * which cannot happen: a connection's policy belongs to its config. */
static size_t
config_index(const struct config *cfg, const struct policy *p)
{
	size_t i;

	for (i = 0; i < cfg->conf->npolicies; i++)
		if (cfg->conf->policies[i] == p)
			return i;
	return cfg->conf->npolicies;
}

struct ticket_cache *
config_tickets(struct config *cfg, const struct policy *p)
{
	return &cfg->tickets[config_index(cfg, p)];
}

bool
config_take_slot(struct config *cfg, struct conn *c)
{
	const struct policy *p = c->policy;
	size_t i = config_index(cfg, p);
	struct shared_count *count = cfg->policy_shared[i];
	unsigned *n = &cfg->policy_conns[i];

	if (count != NULL) {
		if (!shared_take(c->gw->shared, count, p->max_connections))
			return false;
		c->policy_count = count;
		return true;
	}
	if (p->max_connections > 0 && *n >= p->max_connections)
		return false;
	(*n)++;
	c->policy_slot = n;
	return true;
}

void
config_put_slot(struct conn *c)
{
	if (c->policy_count != NULL)
		shared_put(c->gw->shared, c->policy_count);
	if (c->policy_slot != NULL)
		(*c->policy_slot)--;
	c->policy_count = NULL;
	c->policy_slot = NULL;
}

int
gateway_start(struct gateway *gw, struct gateway_conf *conf)
{
	gw->cfg = config_new(conf, gw->shared);
	if (gw->cfg == NULL) {
		policy_free(conf);
		return -1;
	}
	if (listener_sync(gw, conf) < 0)
		return -1;
	listener_log_policies(conf);
	return 0;
}

/* Every message of a failed or warned load goes to the log. */
static void
reload_log_diag(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->nlines; i++)
		log_warnx("reload: %s", d->lines[i]);
}

void
gateway_reload(struct gateway *gw)
{
	struct gateway_conf *conf;
	struct config *cfg;
	struct diag d;

	log_info("SIGHUP: reloading %s", gw->config_path);
	diag_init(&d);
	conf = policy_load(gw->config_path, &d);
	reload_log_diag(&d);
	diag_free(&d);
	if (conf == NULL) {
		log_warnx("reload failed: keeping the running configuration");
		return;
	}
	cfg = config_new(conf, gw->shared);
	if (cfg == NULL || listener_sync(gw, conf) < 0) {
		log_warnx("reload failed: cannot open every listener; keeping "
		    "the running configuration");
		if (cfg != NULL)
			config_unref(cfg);
		else
			policy_free(conf);
		return;
	}
	listener_prune(gw);
	config_unref(gw->cfg);
	gw->cfg = cfg;
	log_set_level(conf->log_level);
	resolve_flush();
	if (gw->worker == 0 && workers_count(conf->workers) != gw->nworkers)
		log_warnx("reload: workers = %u takes effect at the next "
		    "start (%u running)", workers_count(conf->workers),
		    gw->nworkers);
	listener_log_policies(conf);
	log_info("reloaded: %zu policies; %u live connections keep their "
	    "previous policy until they close", conf->npolicies, gw->nconns);
}
