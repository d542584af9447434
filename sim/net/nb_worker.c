/*
 * DESCRIPTION
 *	The per-worker glue both backends share.  Each reply a session
 *	reports (smtp_env.on_event) is counted in the worker's sim_stats,
 *	written to its event-log buffer, folded into the Postmaster view and,
 *	when notices are on, printed if it is the first of its kind.  Each
 *	ended mail transaction (smtp_env.on_txn) is counted there too.  Session
 *	ids mix the scenario seed with one counter shared by the backend's
 *	workers, so they do not depend on which worker accepted.
 *
 * DIAGNOSTICS
 *	nb_worker_init() returns -ENOMEM; nothing else fails.
 */
#include <errno.h>
#include <string.h>

#include "nb_worker.h"
#include "sim_pm.h"
#include "sim_rng.h"
#include "smtp_auth.h"

static void	on_event(void *, const struct sim_event *);
static void	on_txn(void *, const struct sim_txn *);

/* on_event - a session's reply: count, log, Postmaster view, notice */
static void
on_event(void *ctx, const struct sim_event *ev)
{
	struct nb_worker *wk = ctx;
	const struct nb_backend *nb = wk->nb;

	sim_stats_event(wk->stats, ev);
	if (wk->evl != NULL)
		sim_evlog_write(wk->evl, ev);
	if (nb->conf.pm != NULL)
		sim_pm_event(nb->conf.pm, ev);
	if (nb->seen != NULL)
		sim_stats_notice(nb->seen, nb->conf.world, ev,
		    nb->conf.notice_fp);
	if (nb->first_ms != NULL)
		sim_stats_first(nb->first_ms, nb->conf.world, ev);
}

/* on_txn - a session's ended mail transaction: count */
static void
on_txn(void *ctx, const struct sim_txn *t)
{
	struct nb_worker *wk = ctx;

	sim_stats_txn(wk->stats, t);
}

/* nb_worker_init - counters, auth context, event-log buffer, env */
int
nb_worker_init(struct nb_worker *wk, struct nb_backend *nb)
{
	const struct nb_conf *cf = &nb->conf;

	memset(wk, 0, sizeof(*wk));
	wk->nb = nb;
	if ((wk->stats = sim_stats_new(cf->world->nprofiles)) == NULL)
		return -ENOMEM;
	/* libspf2's server is not thread-safe: one per worker */
	if (cf->auth_world != NULL &&
	    (wk->auth = smtp_auth_new(cf->auth_world)) == NULL)
		return -ENOMEM;
	if (cf->evlog != NULL &&
	    (wk->evl = sim_evlog_local_new(cf->evlog, cf->world)) == NULL)
		return -ENOMEM;
	wk->env.world = nb_world(nb);	/* held until nb_worker_fini() */
	wk->env.state = cf->state;
	wk->env.acct = cf->acct;
	wk->env.clock = cf->clock;
	wk->env.on_event = on_event;
	wk->env.event_ctx = wk;
	wk->env.on_txn = on_txn;
	wk->env.scan = cf->scan;
	wk->env.words = cf->words;
	wk->env.auth = wk->auth;
	return 0;
}

/* nb_worker_fini - free counters, auth context, event-log buffer */
void
nb_worker_fini(struct nb_worker *wk)
{
	smtp_auth_free(wk->auth);
	sim_evlog_local_free(wk->evl);
	sim_stats_free(wk->stats);
	world_drop(wk->env.world);
	wk->auth = NULL;
	wk->evl = NULL;
	wk->stats = NULL;
	wk->env.world = NULL;
}

/* nb_worker_refresh - the world published last: one acquire load and a
 * compare while nothing changed; the worker holds the world it serves */
void
nb_worker_refresh(struct nb_worker *wk)
{
	world_swap(&wk->env.world, &wk->nb->worlds);
}

/* nb_worker_session_id - seed mixed with the shared counter */
uint64_t
nb_worker_session_id(struct nb_worker *wk)
{
	return sim_mix64(wk->nb->conf.world->seed ^
	    __atomic_fetch_add(&wk->nb->next_session, 1, __ATOMIC_RELAXED));
}

/* nb_worker_flush - event-log buffer to the writer when old */
void
nb_worker_flush(struct nb_worker *wk, uint64_t max_age_ms)
{
	if (wk->evl != NULL)
		sim_evlog_flush(wk->evl, max_age_ms);
}
