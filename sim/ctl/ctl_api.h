/*
 * @file ctl_api.h
 * The control API: JSON endpoints that read mxsim's counters, clock and
 * providers, and change a provider's limits, its outage and the
 * reputation of a sending IP or sender domain while mxsim serves.  Also
 * the /metrics handler (Prometheus text, rendered by met_prom).
 *
 * Changes to the world are copy-on-write: the current world is cloned
 * (prof_world_clone()), the clone changed, then published through the
 * backend (nb_publish(), nb_backend.h: the API knows no particular
 * backend); workers or lcores switch at their next loop iteration,
 * without a lock per command.
 * A change either applies entirely or not at all.  Worlds are
 * reference-counted (world_slot.h): the backend holds the current one,
 * each worker and session the one it uses, each request the one it reads;
 * a world nobody holds is freed.  Changes are serialised by a lock; reads
 * take none (worlds never change once published; counters are atomic).
 *
 * Endpoints: the route table in ctl_api.c (GET /v1 lists it), every one
 * under /v1 (health, clock, counters, providers and their limits and
 * outage, reputation, postmaster, openapi.json), described by
 * sim/ctl/openapi.json (GET /v1/senders and /v1/activity are the
 * dashboard's figures, ctl_dash.h), which mxsim serves at GET /v1/openapi.json.  The
 * routes of before /v1 also answer at their old path (deprecated:
 * Deprecation and Link headers).  Every body is JSON; errors are
 * {"error": "..."}.
 * Statuses: 200, 400 (bad JSON, unknown key, wrong type: the message names
 * the key path), 404, 405 (with Allow), 409 (reputation set on a provider
 * whose reputation model is off), 401, 403 and 413 (ctl_http), 503 (out of
 * memory or state table full).
 */
#ifndef CTL_API_H
#define CTL_API_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_http.h"
#include "nb_backend.h"
#include "prof_world.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_pm.h"
#include "sim_state.h"
#include "sim_stats.h"

struct ctl_api_conf {
	struct nb_backend *be;		/* current world, counters, load */
	struct sim_state *state;	/* reputation, tracked identities */
	const struct sim_clock *clock;
	struct sim_evlog *evlog;	/* NULL = no event log */
	struct sim_pm	*pm;		/* Postmaster view; NULL: GET
					 * /postmaster answers 404 */
};

struct ctl_api;

/** @return an API over a backend, or NULL when out of memory. */
struct ctl_api *ctl_api_new(const struct ctl_api_conf *conf);

/**
 * Free the API and every world it published.  Only once nothing can use
 * them: after nb_run() returned and the HTTP daemons stopped.
 * NULL accepted.
 */
void ctl_api_free(struct ctl_api *api);

/** The control API's request handler (a ctl_http_handler_fn; ctx is the
 *  struct ctl_api).  @p path may end in "?" and a query
 *  (name=value&..., values percent-encoded), read by GET /postmaster and
 *  ignored by every other route. */
void ctl_api_handle(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out);

/** GET /metrics (a ctl_http_handler_fn; ctx is the struct ctl_api). */
void ctl_api_metrics(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out);

/**
 * Apply a JSON object shaped like the YAML limits: block (any subset of
 * its keys) to @p l.  All or nothing: on error @p l is unchanged.
 * @param json  the text (need not be NUL-terminated), @p len bytes.
 * @param err   on error: what is wrong, naming the key path
 *              ("limits.per_ip.messages.minute: expected an integer
 *              0..4294967295").
 * @return 0, or -EINVAL.
 */
int ctl_limits_patch(struct prof_limits *l, const char *json, size_t len,
    char *err, size_t errlen);

/**
 * Render limits as JSON with the YAML key names (every key, 0 for
 * unlimited).
 * @return a malloc()ed NUL-terminated text, or NULL when out of memory.
 */
char *ctl_limits_dump(const struct prof_limits *l);

#endif /* CTL_API_H */
