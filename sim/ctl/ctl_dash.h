/*
 * @file ctl_dash.h
 * The figures the dashboard needs that no other route gives, rendered as
 * JSON for two routes of the control API (ctl_api.c routes them):
 *
 *   GET /senders[?provider=&domain=&ip=&day=]
 *	per provider, each sending IP and sender domain the Postmaster view
 *	saw on the simulated day of the query (default: today and
 *	yesterday): messages and recipients accepted in the sliding second,
 *	minute, hour and day windows of the state table against the
 *	profile's limit lines (per_ip, per_domain), open connections (IPs),
 *	the reputation score with its thresholds, and the state the next
 *	message meets ("ok", "deferred", "blocked") with its reason and
 *	when it ends (simulated; null when it does not end by itself).
 *   GET /activity
 *	per provider: open connections (the state table's IP entries) and
 *	every deferral and refusal reason of the transaction counters (the
 *	counters of GET /counters) with its code, enhanced code, text
 *	template, count and the simulated time its reply was first sent
 *	(the first-reply notice's moment); with the simulated and wall time
 *	of the snapshot.
 *
 * Everything is read from the live structures (the backend's counters,
 * the state table, the Postmaster view); nothing is kept between
 * requests.
 */
#ifndef CTL_DASH_H
#define CTL_DASH_H

#include <jansson.h>

#include "nb_backend.h"
#include "prof_world.h"
#include "sim_clock.h"
#include "sim_pm.h"
#include "sim_state.h"

#define CTL_DASH_MAX_KEYS	200	/* senders listed per provider and
					 * kind (the busiest of the day) */

/* What the figures are read from; the world is the request's. */
struct ctl_dash_src {
	const struct prof_world *w;
	struct nb_backend *be;
	struct sim_state *state;
	const struct sim_clock *clock;
	struct sim_pm	*pm;
};

/**
 * GET /senders.  @p f filters the Postmaster rows (provider, domain, ip;
 * by_day unset = today and yesterday).
 * @return the reply object, or NULL when out of memory.
 */
json_t *ctl_dash_senders(const struct ctl_dash_src *src,
    const struct sim_pm_filter *f);

/** GET /activity.  @return the reply object, or NULL (out of memory). */
json_t *ctl_dash_activity(const struct ctl_dash_src *src);

#endif /* CTL_DASH_H */
