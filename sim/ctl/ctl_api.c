/*
 * DESCRIPTION
 *	Control API endpoints and the /metrics handler.  Requests are
 *	matched against a route table (method, path template in OpenAPI's
 *	form, handler); a path that matches with another method answers 405
 *	with the methods it has.  The table is the one list of routes: GET /
 *	and GET /v1 render it, and tests compare it with the OpenAPI
 *	document (openapi.json, embedded, GET /v1/openapi.json).  Routes
 *	that existed before /v1 are also answered at their old path (the
 *	template without "/v1"), with the same answer plus a Deprecation
 *	header (RFC 9745) and a Link to the /v1 path.  JSON is read and
 *	written with jansson, reals in their shortest exact form
 *	(ctl_json.h: 29.966 prints as itself).  The limits block
 *	maps to struct prof_limits through the limits schema the YAML
 *	loader walks too (prof_limits.h), used both ways: to apply a PATCH
 *	and to render limits.
 *
 *	World changes clone the current world, change the clone and publish
 *	it (see ctl_api.h).  Each request holds a reference to the world it
 *	reads (struct api_req), so a change published meanwhile from another
 *	thread cannot free it under the request; a world nobody holds any
 *	more is freed (world_slot.h).
 *
 *	GET /postmaster copies the Postmaster view's rows (sim_pm_rows(),
 *	filtered by the query) and groups them per provider, then per
 *	sender domain or client IP, one object per simulated day.
 *
 * DIAGNOSTICS
 *	Bad requests answer 4xx with a message naming the key path or the
 *	argument.  Out of memory answers 503.  Nothing panics.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_json.h"
#include "ctl_openapi.h"
#include "ctl_stats.h"
#include "ctl_dash.h"
#include "met_prom.h"
#include "prof_limits.h"
#include "prof_scan.h"
#include "sim_policy.h"
#include "sim_stats.h"
#include "smtp_reply.h"
#include "world_slot.h"

#define API_MAX_SEGS	7		/* path segments of any route */
#define API_PATH_MAX	512
#define API_MAX_OUTAGE_S (366.0 * 86400.0) /* a simulated year */
#define JSON_TYPE	"application/json"
#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define API_VERSION	"v1"		/* the first segment of every route */
/* Deprecation of the paths without /v1 (RFC 9745: @ and the Unix time
 * they were deprecated, 2026-12-07T00:00:00Z, when /v1 came). */
#define API_ALIAS_DEPRECATED "@1796601600"

struct ctl_api {
	struct ctl_api_conf conf;
	pthread_mutex_t	 lock;		/* serialises world changes */
};

/* A request, as the handlers see it. */
struct api_req {
	struct ctl_api	*api;
	const struct prof_world *world;	/* held for the request; after a
					 * change, the world it published */
	const char	*args[API_MAX_SEGS];	/* the '*' segments, in order */
	json_t		*body;		/* routes with a body: an object */
	const char	*query;		/* after '?', or "" */
	struct ctl_http_reply *out;
};

typedef void api_route_fn(struct api_req *);

struct api_route {
	const char	*method;
	const char	*pattern;	/* OpenAPI path template: '/'-separated,
					 * "{name}": any segment */
	api_route_fn	*fn;
	bool		 body;		/* wants a JSON object body */
	const char	*allow;		/* every method of the pattern */
	bool		 alias;		/* also at the pattern without /v1
					 * (deprecated) */
};

/* A world change applied to a clone's profile; 0 or an HTTP status with
 * a message in err. */
typedef unsigned api_change_fn(struct prof_profile *, void *, char *,
    size_t);

static void	reply_json(struct ctl_http_reply *, unsigned, json_t *);
static void	reply_error(struct ctl_http_reply *, unsigned, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static int	lim_leaf(const struct prof_lim_key *, void *, json_t *,
		    const char *, char *, size_t);
static int	lim_apply(const struct prof_lim_key *, void *, json_t *,
		    char *, char *, size_t);
static json_t	*lim_json(const struct prof_lim_key *, const void *);
static int	limits_patch(struct prof_limits *, json_t *, char *, size_t);
static int	find_profile(const struct prof_world *, const char *);
static int	req_profile(struct api_req *, const struct prof_world *,
		    const char *);
static json_t	*outage_json(const struct prof_profile *, uint64_t);
static json_t	*provider_json(const struct prof_world *, size_t, uint64_t);
static void	change_world(struct api_req *, api_change_fn *, void *,
		    api_route_fn *);
static unsigned	apply_limits(struct prof_profile *, void *, char *, size_t);
static unsigned	apply_outage(struct prof_profile *, void *, char *, size_t);
static int	body_number(struct api_req *, const char *, double *);
static int	rep_key(struct api_req *, enum sim_key_kind *, uint32_t *,
		    char *, size_t);
static void	rep_visit(void *, enum sim_key_kind, uint32_t,
		    const struct sim_entry *);
static bool	route_match(const char *, char *const *, size_t,
		    const char **);
static const struct api_route *route_find(const char *, char *const *,
		    size_t, bool, const char **, const char **);
static void	alias_link(struct ctl_http_reply *, const char *);

static void	r_health(struct api_req *);
static void	r_clock(struct api_req *);
static void	r_counters(struct api_req *);
static void	r_providers(struct api_req *);
static void	r_provider(struct api_req *);
static void	r_limits_get(struct api_req *);
static void	r_limits_patch(struct api_req *);
static void	r_outage_get(struct api_req *);
static void	r_outage_put(struct api_req *);
static void	r_outage_delete(struct api_req *);
static void	r_rep_get(struct api_req *);
static void	r_rep_put(struct api_req *);
static void	r_postmaster(struct api_req *);
static void	r_senders(struct api_req *);
static void	r_activity(struct api_req *);
static void	r_index(struct api_req *);
static void	r_openapi(struct api_req *);
static int	pm_query(struct api_req *, const struct prof_world *,
		    struct sim_pm_filter *, char *, size_t);
static json_t	*pm_day_json(const struct sim_pm_row *,
		    const struct prof_reputation *);
static json_t	*pm_rate(uint64_t, uint64_t);
static json_t	*pm_prov(json_t *, const struct prof_world *, size_t);

static const struct api_route routes[] = {
	{ "GET", "/", r_index, false, "GET", false },
	{ "GET", "/v1", r_index, false, "GET", false },
	{ "GET", "/v1/openapi.json", r_openapi, false, "GET", false },
	{ "GET", "/v1/health", r_health, false, "GET", true },
	{ "GET", "/v1/clock", r_clock, false, "GET", true },
	{ "GET", "/v1/counters", r_counters, false, "GET", true },
	{ "GET", "/v1/providers", r_providers, false, "GET", true },
	{ "GET", "/v1/providers/{name}", r_provider, false, "GET", true },
	{ "GET", "/v1/providers/{name}/limits", r_limits_get, false,
	    "GET, PATCH", true },
	{ "PATCH", "/v1/providers/{name}/limits", r_limits_patch, true,
	    "GET, PATCH", true },
	{ "GET", "/v1/providers/{name}/outage", r_outage_get, false,
	    "GET, PUT, DELETE", true },
	{ "PUT", "/v1/providers/{name}/outage", r_outage_put, true,
	    "GET, PUT, DELETE", true },
	{ "DELETE", "/v1/providers/{name}/outage", r_outage_delete, false,
	    "GET, PUT, DELETE", true },
	{ "GET", "/v1/reputation/{kind}/{provider}/{key}", r_rep_get, false,
	    "GET, PUT", true },
	{ "PUT", "/v1/reputation/{kind}/{provider}/{key}", r_rep_put, true,
	    "GET, PUT", true },
	{ "GET", "/v1/postmaster", r_postmaster, false, "GET", true },
	/* the dashboard's figures (ctl_dash.h) */
	{ "GET", "/v1/senders", r_senders, false, "GET", false },
	{ "GET", "/v1/activity", r_activity, false, "GET", false },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

static const char *const rep_kind_names[] = { "ip", "domain" };

/* reply_json - a JSON reply; takes the reference to @v */
static void
reply_json(struct ctl_http_reply *out, unsigned status, json_t *v)
{
	char *s;

	out->content_type = JSON_TYPE;
	if (v == NULL || (s = ctl_json_dumps(v)) == NULL) {
		json_decref(v);
		out->status = 503;
		out->body = strdup("{\"error\":\"out of memory\"}\n");
		out->len = out->body != NULL ? strlen(out->body) : 0;
		return;
	}
	json_decref(v);
	out->len = strlen(s);
	if ((out->body = realloc(s, out->len + 2)) == NULL) {
		free(s);
		out->status = 503;
		return;
	}
	out->body[out->len++] = '\n';
	out->body[out->len] = '\0';
	out->status = status;
}

/* reply_error - {"error": message} */
static void
reply_error(struct ctl_http_reply *out, unsigned status, const char *fmt,
    ...)
{
	char msg[1024];
	va_list ap;
	json_t *v;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may quote the request (method, path): jansson refuses
	 * a string that is not UTF-8, so such bytes are shown as '?'
	 * rather than turning a 4xx into a 503. */
	if ((v = json_string(msg)) == NULL) {
		for (i = 0; msg[i] != '\0'; i++)
			if ((unsigned char)msg[i] >= 0x80)
				msg[i] = '?';
		v = json_string(msg);
	}
	reply_json(out, status, v == NULL ? NULL :
	    json_pack("{s:o}", "error", v));
	out->allow = NULL;
}

/* lim_leaf - one JSON value into a leaf of the limits schema */
static int
lim_leaf(const struct prof_lim_key *k, void *base, json_t *v,
    const char *path, char *err, size_t errlen)
{
	json_int_t iv;

	if (k->type == PROF_LIM_GROWTH) {
		if (json_is_number(v) &&
		    prof_lim_set_num(k, base, json_number_value(v)) == 0)
			return 0;
	} else if (json_is_integer(v) && (iv = json_integer_value(v)) >= 0 &&
	    prof_lim_set_int(k, base, (uint64_t)iv) == 0)
		return 0;
	snprintf(err, errlen, "%s: expected %s", path, prof_lim_expect(k));
	return -EINVAL;
}

/* lim_apply - apply a JSON object to a struct through the limits schema;
 * path is the key path so far (a buffer of API_PATH_MAX bytes) */
static int
lim_apply(const struct prof_lim_key *keys, void *base, json_t *obj,
    char *path, char *err, size_t errlen)
{
	const struct prof_lim_key *k;
	const char *name;
	json_t *v;
	size_t plen = strlen(path);
	char list[480], msg[160];
	int rc;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "%s: expected an object", path);
		return -EINVAL;
	}
	json_object_foreach(obj, name, v) {
		k = prof_lim_find(keys, name);
		snprintf(path + plen, API_PATH_MAX - plen, ".%s", name);
		if (k == NULL) {
			snprintf(err, errlen, "%s: unknown key (expected %s)",
			    path, prof_lim_names(keys, list, sizeof(list)));
			return -EINVAL;
		}
		if (k->type != PROF_LIM_MAP)
			rc = lim_leaf(k, base, v, path, err, errlen);
		else if ((rc = lim_apply(k->sub, (char *)base + k->off, v,
		    path, err, errlen)) == 0 &&
		    (rc = prof_lim_check(k, (char *)base + k->off, msg,
		    sizeof(msg))) != 0)
			snprintf(err, errlen, "%s.%s", path, msg);
		if (rc != 0)
			return rc;
		path[plen] = '\0';
	}
	return 0;
}

/* lim_json - a struct as JSON through the limits schema */
static json_t *
lim_json(const struct prof_lim_key *keys, const void *base)
{
	const struct prof_lim_key *k;
	json_t *o, *v;

	if ((o = json_object()) == NULL)
		return NULL;
	for (k = keys; k->name != NULL; k++) {
		switch (k->type) {
		case PROF_LIM_MAP:
			v = lim_json(k->sub, (const char *)base + k->off);
			break;
		case PROF_LIM_GROWTH:
			v = json_real(prof_lim_get_num(k, base));
			break;
		case PROF_LIM_U32:
		case PROF_LIM_U64:
			v = json_integer((json_int_t)prof_lim_get_int(k, base));
			break;
		default:
			abort();
		}
		if (json_object_set_new(o, k->name, v) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* limits_patch - apply a parsed limits object, all or nothing */
static int
limits_patch(struct prof_limits *l, json_t *j, char *err, size_t errlen)
{
	struct prof_limits tmp = *l;
	char path[API_PATH_MAX] = "limits";
	int rc;

	if ((rc = lim_apply(prof_limits_keys, &tmp, j, path, err,
	    errlen)) != 0)
		return rc;
	*l = tmp;
	return 0;
}

/* ctl_limits_patch - parse and apply a JSON limits object */
int
ctl_limits_patch(struct prof_limits *l, const char *json, size_t len,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;
	int rc;

	if ((j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	rc = limits_patch(l, j, err, errlen);
	json_decref(j);
	return rc;
}

/* ctl_limits_dump - limits as JSON text */
char *
ctl_limits_dump(const struct prof_limits *l)
{
	json_t *j;
	char *s;

	if ((j = lim_json(prof_limits_keys, l)) == NULL)
		return NULL;
	s = ctl_json_dumps(j);
	json_decref(j);
	return s;
}

/* take_world - a reference to the world the backend serves now */
static const struct prof_world *
take_world(const struct ctl_api_conf *cf)
{
	return nb_world(cf->be);
}

/* ctl_api_new - an API over a server */
struct ctl_api *
ctl_api_new(const struct ctl_api_conf *conf)
{
	struct ctl_api *api;

	if ((api = calloc(1, sizeof(*api))) == NULL)
		return NULL;
	api->conf = *conf;
	pthread_mutex_init(&api->lock, NULL);
	return api;
}

/* ctl_api_free - free the API (the worlds it published belong to the
 * backend) */
void
ctl_api_free(struct ctl_api *api)
{
	if (api == NULL)
		return;
	pthread_mutex_destroy(&api->lock);
	free(api);
}

/* find_profile - index of a provider by name, or -1 */
static int
find_profile(const struct prof_world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nprofiles; i++)
		if (strcmp(w->profiles[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/* req_profile - the provider named @name; -1 after a 404 reply */
static int
req_profile(struct api_req *rq, const struct prof_world *w, const char *name)
{
	int i;

	if ((i = find_profile(w, name)) < 0)
		reply_error(rq->out, 404, "no provider \"%s\"", name);
	return i;
}

/* outage_json - a provider's outage state */
static json_t *
outage_json(const struct prof_profile *p, uint64_t now)
{
	char iso[32];
	bool on = p->outage_until_ms > now;

	if (!on)
		return json_pack("{s:b,s:n,s:I,s:f}", "active", 0, "until",
		    "until_ms", (json_int_t)0, "remaining_s", 0.0);
	return json_pack("{s:b,s:s,s:I,s:f}", "active", 1, "until",
	    sim_clock_iso(p->outage_until_ms, iso, sizeof(iso)), "until_ms",
	    (json_int_t)p->outage_until_ms, "remaining_s",
	    (double)(p->outage_until_ms - now) / 1000.0);
}

/* provider_json - name, domains, addresses, limits, outage */
static json_t *
provider_json(const struct prof_world *w, size_t idx, uint64_t now)
{
	const struct prof_profile *p = w->profiles[idx];
	const struct prof_block *b;
	json_t *o, *doms, *addrs;
	char cidr[32];
	size_t i;

	doms = json_array();
	addrs = json_array();
	for (i = 0; doms != NULL && i < p->ndomains; i++)
		json_array_append_new(doms, json_string(p->domains[i]));
	for (i = 0; addrs != NULL && i < w->nblocks; i++) {
		b = &w->blocks[i];
		if (b->profile != idx)
			continue;
		snprintf(cidr, sizeof(cidr), "%u.%u.%u.%u/%d", b->addr >> 24,
		    (b->addr >> 16) & 255, (b->addr >> 8) & 255, b->addr & 255,
		    __builtin_popcount(b->mask));
		json_array_append_new(addrs, json_string(cidr));
	}
	o = json_pack("{s:s,s:o*,s:o*,s:o*,s:o*}", "name", p->name,
	    "domains", doms, "addresses", addrs,
	    "limits", lim_json(prof_limits_keys, &p->limits),
	    "outage", outage_json(p, now));
	return o;
}

/* change_world - clone the current world, change the profile named by
 * args[0] with fn, publish the clone, then answer with show (or the
 * error: 404, fn's status, 503) */
static void
change_world(struct api_req *rq, api_change_fn *fn, void *arg,
    api_route_fn *show)
{
	struct ctl_api *api = rq->api;
	const struct prof_world *cur;
	struct prof_world *c;
	char err[512];
	unsigned status;
	int i;

	pthread_mutex_lock(&api->lock);
	cur = take_world(&api->conf);
	if ((i = req_profile(rq, cur, rq->args[0])) < 0)
		goto out;
	if ((c = prof_world_clone(cur)) == NULL) {
		reply_error(rq->out, 503, "out of memory");
		goto out;
	}
	if ((status = fn(c->profiles[i], arg, err, sizeof(err))) != 0) {
		reply_error(rq->out, status, "%s", err);
		prof_world_free(c);
		goto out;
	}
	prof_scan_decide(c);	/* the change may read more of a message */
	(void)smtp_reply_fix(c); /* unfixed replies are rendered */
	/* the answer shows the new world; the backend takes c's reference */
	world_drop(rq->world);
	rq->world = world_hold(c);
	nb_publish(api->conf.be, c);
	show(rq);
out:
	pthread_mutex_unlock(&api->lock);
	world_drop(cur);
}

/* apply_limits - change: a limits patch (arg: the JSON object) */
static unsigned
apply_limits(struct prof_profile *p, void *arg, char *err, size_t errlen)
{
	return limits_patch(&p->limits, arg, err, errlen) == 0 ? 0 : 400;
}

/* apply_outage - change: outage until *(uint64_t *)arg (0 ends it) */
static unsigned
apply_outage(struct prof_profile *p, void *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	p->outage_until_ms = *(const uint64_t *)arg;
	return 0;
}

/* r_health - liveness */
static void
r_health(struct api_req *rq)
{
	reply_json(rq->out, 200, json_pack("{s:s}", "status", "ok"));
}

/* r_clock - simulated and wall time */
static void
r_clock(struct api_req *rq)
{
	const struct sim_clock *c = rq->api->conf.clock;
	uint64_t sim = sim_clock_now(c), wall = sim_clock_wall_ms();
	char siso[32], wiso[32];

	reply_json(rq->out, 200, json_pack("{s:I,s:s,s:I,s:s,s:f}",
	    "sim_ms", (json_int_t)sim, "sim",
	    sim_clock_iso(sim, siso, sizeof(siso)),
	    "wall_ms", (json_int_t)wall, "wall",
	    sim_clock_iso(wall, wiso, sizeof(wiso)), "time_scale", c->scale));
}

/* r_counters - replies per provider and totals (ctl_stats.h), with the
 * live figures added to the totals */
static void
r_counters(struct api_req *rq)
{
	const struct ctl_api_conf *cf = &rq->api->conf;
	const struct prof_world *w = rq->world;
	struct sim_stats *s;
	json_t *o, *totals, *evl, *tls;
	uint64_t tls_done = 0, tls_failed = 0;

	if ((s = sim_stats_new(w->nprofiles)) == NULL) {
		reply_error(rq->out, 503, "out of memory");
		return;
	}
	nb_stats(cf->be, s);
	o = ctl_stats_json(s, w);
	sim_stats_free(s);
	evl = cf->evlog == NULL ? json_null() : json_pack("{s:I,s:I}",
	    "written", (json_int_t)sim_evlog_written(cf->evlog),
	    "dropped", (json_int_t)sim_evlog_dropped(cf->evlog));
	tls = json_null();
	if (nb_tls(cf->be, &tls_done, &tls_failed)) {
		tls = json_pack("{s:I,s:I}", "handshakes", (json_int_t)tls_done,
		    "failed", (json_int_t)tls_failed);
	}
	if ((totals = json_object_get(o, "totals")) != NULL) {
		json_object_set_new(totals, "open_connections",
		    json_integer((json_int_t)nb_open_conns(cf->be)));
		json_object_set_new(totals, "tracked_identities",
		    json_integer((json_int_t)sim_state_count(cf->state)));
		json_object_set_new(totals, "state_exhausted",
		    json_integer((json_int_t)sim_state_exhausted(cf->state)));
		json_object_set_new(totals, "event_log", evl);
		json_object_set_new(totals, "tls", tls);
	} else {
		json_decref(evl);
		json_decref(tls);
	}
	reply_json(rq->out, 200, o);
}

/* r_providers - every provider */
static void
r_providers(struct api_req *rq)
{
	const struct prof_world *w = rq->world;
	uint64_t now = sim_clock_now(rq->api->conf.clock);
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL) {
		reply_error(rq->out, 503, "out of memory");
		return;
	}
	for (i = 0; i < w->nprofiles; i++)
		json_array_append_new(a, provider_json(w, i, now));
	reply_json(rq->out, 200, json_pack("{s:o}", "providers", a));
}

/* r_provider - one provider */
static void
r_provider(struct api_req *rq)
{
	const struct prof_world *w = rq->world;
	int i;

	if ((i = req_profile(rq, w, rq->args[0])) < 0)
		return;
	reply_json(rq->out, 200, provider_json(w, (size_t)i,
	    sim_clock_now(rq->api->conf.clock)));
}

/* r_limits_get - one provider's limits */
static void
r_limits_get(struct api_req *rq)
{
	const struct prof_world *w = rq->world;
	int i;

	if ((i = req_profile(rq, w, rq->args[0])) < 0)
		return;
	reply_json(rq->out, 200, lim_json(prof_limits_keys,
	    &w->profiles[i]->limits));
}

/* r_limits_patch - change some limits of a provider */
static void
r_limits_patch(struct api_req *rq)
{
	change_world(rq, apply_limits, rq->body, r_limits_get);
}

/* r_outage_get - a provider's outage state */
static void
r_outage_get(struct api_req *rq)
{
	const struct prof_world *w = rq->world;
	int i;

	if ((i = req_profile(rq, w, rq->args[0])) < 0)
		return;
	reply_json(rq->out, 200, outage_json(w->profiles[i],
	    sim_clock_now(rq->api->conf.clock)));
}

/* body_number - the only key a body may have, as a number (-1 when it
 * is absent or not a number); -1 after a 400 reply to another key */
static int
body_number(struct api_req *rq, const char *want, double *out)
{
	const char *key;
	json_t *v;

	*out = -1;
	json_object_foreach(rq->body, key, v) {
		if (strcmp(key, want) != 0) {
			reply_error(rq->out, 400, "%s: unknown key (expected "
			    "%s)", key, want);
			return -1;
		}
		if (json_is_number(v))
			*out = json_number_value(v);
	}
	return 0;
}

/* r_outage_put - start (or extend, or shorten) an outage */
static void
r_outage_put(struct api_req *rq)
{
	uint64_t until;
	double d;

	if (body_number(rq, "duration_s", &d) != 0)
		return;
	if (!(d > 0 && d <= API_MAX_OUTAGE_S)) {
		reply_error(rq->out, 400, "duration_s: expected a number of "
		    "simulated seconds, 0 < n <= %.0f", API_MAX_OUTAGE_S);
		return;
	}
	until = sim_clock_now(rq->api->conf.clock) + (uint64_t)(d * 1000.0);
	change_world(rq, apply_outage, &until, r_outage_get);
}

/* r_outage_delete - end an outage now */
static void
r_outage_delete(struct api_req *rq)
{
	uint64_t until = 0;

	change_world(rq, apply_outage, &until, r_outage_get);
}

/* rep_key - provider, kind and identity of /reputation/{kind}/{provider}/
 * {key}; -1 after an error reply.  A domain is lower-cased into buf, an
 * IPv6 address's network key (sim_addr6_key()) written there. */
static int
rep_key(struct api_req *rq, enum sim_key_kind *kind, uint32_t *ip,
    char *buf, size_t buflen)
{
	const char *key = rq->args[2];
	struct sim_addr6 a6;
	struct in_addr in;
	size_t i, n = strlen(key);
	unsigned pfx;
	bool v6;

	*ip = 0;
	buf[0] = '\0';
	if (strcmp(rq->args[0], "ip") == 0) {
		*kind = SIM_KEY_IP;
		if (inet_pton(AF_INET, key, &in) == 1) {
			*ip = ntohl(in.s_addr);
			return 0;
		}
		/* an IPv6 client: the key of its network (ipv6_prefix) */
		if (sim_addr_parse(key, &v6, ip, &a6, &pfx) == 0 && v6 &&
		    pfx == 128) {
			sim_addr6_key(&a6, rq->world->ipv6_prefix, buf, buflen);
			return 0;
		}
		reply_error(rq->out, 400, "\"%s\": expected an IPv4 or IPv6 "
		    "address", key);
		return -1;
	}
	if (strcmp(rq->args[0], "domain") != 0) {
		reply_error(rq->out, 404, "no reputation kind \"%s\" (expected "
		    "ip or domain)", rq->args[0]);
		return -1;
	}
	*kind = SIM_KEY_DOMAIN;
	if (n == 0 || n > 253 || n >= buflen)
		goto bad;
	for (i = 0; i < n; i++) {
		buf[i] = (char)tolower((unsigned char)key[i]);
		if (!isalnum((unsigned char)buf[i]) && buf[i] != '.' &&
		    buf[i] != '-' && buf[i] != '_')
			goto bad;
	}
	buf[n] = '\0';
	return 0;
bad:
	reply_error(rq->out, 400, "\"%s\": expected a domain name", key);
	return -1;
}

/* r_rep_get - the score of an IP or a sender domain */
static void
r_rep_get(struct api_req *rq)
{
	const struct ctl_api_conf *cf = &rq->api->conf;
	const struct prof_world *w = rq->world;
	const struct prof_reputation *r;
	enum sim_key_kind kind;
	uint32_t ip;
	char dom[256];
	double score;
	int i;

	if (rep_key(rq, &kind, &ip, dom, sizeof(dom)) != 0 ||
	    (i = req_profile(rq, w, rq->args[1])) < 0)
		return;
	r = &w->profiles[i]->rep;
	score = sim_policy_reputation(w, cf->state, kind, (uint32_t)i, ip,
	    dom[0] != '\0' ? dom : NULL, sim_clock_now(cf->clock));
	reply_json(rq->out, 200, json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f}",
	    "provider", w->profiles[i]->name, "kind", rep_kind_names[kind],
	    "key", dom[0] != '\0' ? dom : rq->args[2], "score", score,
	    "initial", r->initial, "max", r->max, "temp_below", r->temp_below,
	    "block_below", r->block_below));
}

/* r_rep_put - set the score of an IP or a sender domain */
static void
r_rep_put(struct api_req *rq)
{
	const struct ctl_api_conf *cf = &rq->api->conf;
	const struct prof_world *w = rq->world;
	const struct prof_reputation *r;
	enum sim_key_kind kind;
	uint32_t ip;
	char dom[256];
	double score;
	int i;

	if (rep_key(rq, &kind, &ip, dom, sizeof(dom)) != 0 ||
	    (i = req_profile(rq, w, rq->args[1])) < 0)
		return;
	r = &w->profiles[i]->rep;
	if (body_number(rq, "score", &score) != 0)
		return;
	if (!(score >= 0 && score <= r->max)) {
		reply_error(rq->out, 400, "score: expected a number 0..%g",
		    r->max);
		return;
	}
	if (r->temp_below <= 0 && r->block_below <= 0) {
		reply_error(rq->out, 409, "provider \"%s\" has no reputation "
		    "model (temp_below and block_below are 0)",
		    w->profiles[i]->name);
		return;
	}
	if (sim_policy_set_reputation(w, cf->state, kind, (uint32_t)i, ip,
	    dom[0] != '\0' ? dom : NULL, sim_clock_now(cf->clock),
	    score) != 0) {
		reply_error(rq->out, 503, "the state table is full");
		return;
	}
	r_rep_get(rq);
}

/* pm_rate - n / d as a JSON real, null when d is 0 */
static json_t *
pm_rate(uint64_t n, uint64_t d)
{
	return d == 0 ? json_null() : json_real((double)n / (double)d);
}

/* pm_day_json - one row of the Postmaster view (one key, one day) */
static json_t *
pm_day_json(const struct sim_pm_row *r, const struct prof_reputation *rep)
{
	json_t *o, *errs, *e;
	char iso[32];
	double score;
	unsigned i;

	sim_clock_iso(r->day * SIM_PM_DAY_MS, iso, sizeof(iso));
	iso[10] = '\0';
	if ((errs = json_array()) == NULL)
		return NULL;
	for (i = 0; i < r->nerrors; i++) {
		e = json_pack("{s:i,s:s,s:I}", "code", (int)r->errors[i].code,
		    "enhanced", r->errors[i].enhanced, "count",
		    (json_int_t)r->errors[i].count);
		if (json_array_append_new(errs, e) != 0) {
			json_decref(errs);
			return NULL;
		}
	}
	score = (double)r->rep / 100.0;
	o = json_pack("{s:s,s:I,s:I,s:I,s:o*,s:I,s:I,s:I,s:I,s:o*,s:o*,s:o*,"
	    "s:I,s:o*,s:o*,s:o*,s:{s:I,s:I,s:I},s:{s:I,s:I,s:I},s:o,s:I}",
	    "day", iso,
	    "messages", (json_int_t)r->messages,
	    "recipients", (json_int_t)r->recipients,
	    "complaints", (json_int_t)r->complaints,
	    "spam_rate", pm_rate(r->complaints, r->recipients),
	    "eod", (json_int_t)r->eod,
	    "spf_pass", (json_int_t)r->spf_pass,
	    "dkim_pass", (json_int_t)r->dkim_pass,
	    "dmarc_pass", (json_int_t)r->dmarc_pass,
	    "spf_rate", pm_rate(r->spf_pass, r->eod),
	    "dkim_rate", pm_rate(r->dkim_pass, r->eod),
	    "dmarc_rate", pm_rate(r->dmarc_pass, r->eod),
	    "tls", (json_int_t)r->tls,
	    "tls_share", pm_rate(r->tls, r->eod),
	    "reputation", r->rep == SIM_PM_NO_REP ? json_null() :
	    json_real(score),
	    "band", r->rep == SIM_PM_NO_REP ? json_null() :
	    json_string(sim_pm_band_name(sim_pm_band(rep, score))),
	    "placement",
	    "inbox", (json_int_t)r->placement[SIM_PLACE_INBOX],
	    "spam", (json_int_t)r->placement[SIM_PLACE_SPAM],
	    "promotions", (json_int_t)r->placement[SIM_PLACE_PROMOTIONS],
	    "seeds",
	    "inbox", (json_int_t)r->seeds[SIM_PLACE_INBOX],
	    "spam", (json_int_t)r->seeds[SIM_PLACE_SPAM],
	    "promotions", (json_int_t)r->seeds[SIM_PLACE_PROMOTIONS],
	    "errors", errs,
	    "errors_other", (json_int_t)r->errors_other);
	return o;
}

/* pm_query - the filter from the query string; 0, or -EINVAL with a
 * message (an unknown key or a bad value), or -ENOENT (no such provider) */
static int
pm_query(struct api_req *rq, const struct prof_world *w,
    struct sim_pm_filter *f, char *dom, size_t domlen)
{
	char buf[API_PATH_MAX], *sp, *tok, *v, *o, *end;
	struct in_addr a;
	struct tm tm;
	time_t t;
	int i;

	memset(f, 0, sizeof(f[0]));
	if (strlen(rq->query) >= sizeof(buf)) {
		reply_error(rq->out, 400, "query too long");
		return -EINVAL;
	}
	strcpy(buf, rq->query);
	for (tok = strtok_r(buf, "&", &sp); tok != NULL;
	    tok = strtok_r(NULL, "&", &sp)) {
		if ((v = strchr(tok, '=')) == NULL) {
			reply_error(rq->out, 400, "query: %s: expected "
			    "name=value", tok);
			return -EINVAL;
		}
		*v++ = '\0';
		/* percent-decode in place */
		for (o = v, end = v; *end != '\0'; end++) {
			if (*end == '%' && isxdigit((unsigned char)end[1]) &&
			    isxdigit((unsigned char)end[2])) {
				*o++ = (char)strtol((char[]){ end[1], end[2],
				    '\0' }, NULL, 16);
				end += 2;
			} else
				*o++ = *end == '+' ? ' ' : *end;
		}
		*o = '\0';
		if (strcmp(tok, "provider") == 0) {
			if ((i = find_profile(w, v)) < 0) {
				reply_error(rq->out, 404, "no provider \"%s\"", v);
				return -ENOENT;
			}
			f->by_prof = true;
			f->prof = (uint32_t)i;
		} else if (strcmp(tok, "domain") == 0) {
			if (strlen(v) >= domlen || *v == '\0') {
				reply_error(rq->out, 400, "domain: expected a "
				    "domain name");
				return -EINVAL;
			}
			strcpy(dom, v);
			f->domain = dom;
		} else if (strcmp(tok, "ip") == 0) {
			if (inet_pton(AF_INET, v, &a) != 1) {
				reply_error(rq->out, 400, "ip: expected an IPv4 "
				    "address, not %s", v);
				return -EINVAL;
			}
			f->by_ip = true;
			f->ip = ntohl(a.s_addr);
		} else if (strcmp(tok, "day") == 0) {
			memset(&tm, 0, sizeof(tm));
			end = strptime(v, "%Y-%m-%d", &tm);
			if (end == NULL || *end != '\0' || tm.tm_year < 70 ||
			    (t = timegm(&tm)) < 0) {
				reply_error(rq->out, 400, "day: expected "
				    "YYYY-MM-DD (1970 or later), not %s", v);
				return -EINVAL;
			}
			f->by_day = true;
			f->day = (uint64_t)t / 86400;
		} else {
			reply_error(rq->out, 400, "query: unknown key %s "
			    "(expected provider, domain, ip, day)", tok);
			return -EINVAL;
		}
	}
	return 0;
}

/* pm_prov - a provider's object in @p provs, made on first use; NULL
 * when out of memory */
static json_t *
pm_prov(json_t *provs, const struct prof_world *w, size_t idx)
{
	const struct prof_reputation *rep = &w->profiles[idx]->rep;
	json_t *prov;

	if ((prov = json_object_get(provs, w->profiles[idx]->name)) != NULL)
		return prov;
	prov = json_pack("{s:{s:f,s:f,s:f},s:{},s:{}}", "bands", "bad_below",
	    rep->block_below, "low_below", rep->temp_below, "medium_below",
	    sim_pm_high_from(rep), "domains", "ips");
	if (prov == NULL || json_object_set_new(provs, w->profiles[idx]->name,
	    prov) != 0)
		return NULL;
	return prov;
}

/* r_postmaster - the Postmaster view: per provider, per sender domain
 * and per client IP, one object per simulated day */
static void
r_postmaster(struct api_req *rq)
{
	const struct ctl_api_conf *cf = &rq->api->conf;
	const struct prof_world *w = rq->world;
	const struct sim_pm_row *r;
	struct sim_pm_filter f;
	struct sim_pm_row *rows = NULL;
	json_t *o = NULL, *provs, *prov, *keyo, *days;
	char dom[SIM_PM_DOMAIN_MAX], ip[INET_ADDRSTRLEN];
	struct in_addr a;
	const char *key;
	long n, i;

	if (cf->pm == NULL) {
		reply_error(rq->out, 404, "no Postmaster view");
		return;
	}
	if (pm_query(rq, w, &f, dom, sizeof(dom)) != 0)
		return;
	if ((n = sim_pm_rows(cf->pm, &f, &rows)) < 0 ||
	    (provs = json_object()) == NULL) {
		free(rows);
		reply_error(rq->out, 503, "out of memory");
		return;
	}
	/* the provider asked for shows even without rows */
	if (f.by_prof && pm_prov(provs, w, f.prof) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		r = &rows[i];
		if (r->prof >= w->nprofiles)
			continue;
		if ((prov = pm_prov(provs, w, r->prof)) == NULL)
			goto oom;
		if (r->kind == SIM_PM_DOMAIN) {
			keyo = json_object_get(prov, "domains");
			key = r->domain;
		} else {
			keyo = json_object_get(prov, "ips");
			a.s_addr = htonl(r->ip);
			inet_ntop(AF_INET, &a, ip, sizeof(ip));
			key = r->domain[0] != '\0' ? r->domain : ip;	/* IPv6 */
		}
		if (!json_is_object(keyo) || (days = json_object_get(keyo,
		    key)) == NULL) {
			if ((days = json_array()) == NULL)
				goto oom;
			/* on failure (not UTF-8) jansson frees days */
			if (json_object_set_new(keyo, key, days) != 0)
				continue;	/* left out */
		}
		if (json_array_append_new(days, pm_day_json(r,
		    &w->profiles[r->prof]->rep)) != 0)
			goto oom;
	}
	free(rows);
	rows = NULL;
	o = json_pack("{s:I,s:I,s:I,s:I,s:o}", "day_ms",
	    (json_int_t)SIM_PM_DAY_MS, "rows", (json_int_t)n, "max_rows",
	    (json_int_t)sim_pm_max_rows(cf->pm), "overflow",
	    (json_int_t)sim_pm_overflow(cf->pm), "providers", provs);
	reply_json(rq->out, 200, o);
	return;
oom:
	free(rows);
	json_decref(provs);
	reply_error(rq->out, 503, "out of memory");
}

/* dash_src - what the dashboard's figures are read from */
static void
dash_src(const struct api_req *rq, struct ctl_dash_src *src)
{
	const struct ctl_api_conf *cf = &rq->api->conf;

	src->w = rq->world;
	src->be = cf->be;
	src->state = cf->state;
	src->clock = cf->clock;
	src->pm = cf->pm;
}

/* r_senders - per sending IP and sender domain: windows against the
 * limit lines, reputation, state (ctl_dash.h); GET /postmaster's query */
static void
r_senders(struct api_req *rq)
{
	struct ctl_dash_src src;
	struct sim_pm_filter f;
	char dom[SIM_PM_DOMAIN_MAX];

	if (rq->api->conf.pm == NULL) {
		reply_error(rq->out, 404, "no Postmaster view");
		return;
	}
	if (pm_query(rq, rq->world, &f, dom, sizeof(dom)) != 0)
		return;
	dash_src(rq, &src);
	reply_json(rq->out, 200, ctl_dash_senders(&src, &f));
}

/* r_activity - per provider: open connections, reasons with their
 * replies (ctl_dash.h) */
static void
r_activity(struct api_req *rq)
{
	struct ctl_dash_src src;

	dash_src(rq, &src);
	reply_json(rq->out, 200, ctl_dash_activity(&src));
}

/* r_index - the route table: every method and path template, the old
 * path of those that have one, and where the description is */
static void
r_index(struct api_req *rq)
{
	json_t *a, *r;
	size_t i;

	if ((a = json_array()) == NULL) {
		reply_error(rq->out, 503, "out of memory");
		return;
	}
	for (i = 0; i < NROUTES; i++) {
		r = json_pack("{s:s,s:s}", "method", routes[i].method, "path",
		    routes[i].pattern);
		if (r != NULL && routes[i].alias)
			json_object_set_new(r, "deprecated_alias", json_string(
			    routes[i].pattern + strlen("/" API_VERSION)));
		if (json_array_append_new(a, r) != 0) {
			json_decref(a);
			reply_error(rq->out, 503, "out of memory");
			return;
		}
	}
	reply_json(rq->out, 200, json_pack("{s:s,s:s,s:o}", "name",
	    "mxsim control API", "openapi", "/" API_VERSION "/openapi.json",
	    "routes", a));
}

/* r_openapi - the OpenAPI document, as built in */
static void
r_openapi(struct api_req *rq)
{
	struct ctl_http_reply *out = rq->out;

	if ((out->body = malloc(ctl_openapi_json_len + 1)) == NULL) {
		reply_error(out, 503, "out of memory");
		return;
	}
	memcpy(out->body, ctl_openapi_json, ctl_openapi_json_len + 1);
	out->len = ctl_openapi_json_len;
	out->content_type = JSON_TYPE;
	out->status = 200;
}

/* route_match - does a path (split into segments) match a pattern;
 * fills args with the segments matching "{name}" */
static bool
route_match(const char *pattern, char *const *segs, size_t nsegs,
    const char **args)
{
	const char *p = pattern, *e;
	size_t i = 0, na = 0, len;

	while (*p == '/' && p[1] != '\0') {
		p++;
		e = strchr(p, '/');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (i >= nsegs)
			return false;
		if (len >= 2 && p[0] == '{' && p[len - 1] == '}')
			args[na++] = segs[i];
		else if (strlen(segs[i]) != len || memcmp(p, segs[i], len) != 0)
			return false;
		i++;
		p += len;
	}
	return i == nsegs;
}

/* route_find - the route of a method and a path; *allow: the methods of
 * the path when it matches at all (else NULL).  With @p alias, only the
 * routes with an old path, matched against it (segs[0] is then a
 * stand-in for "v1"). */
static const struct api_route *
route_find(const char *method, char *const *segs, size_t nsegs, bool alias,
    const char **args, const char **allow)
{
	const struct api_route *rt;
	size_t i;

	*allow = NULL;
	for (i = 0; i < NROUTES; i++) {
		rt = &routes[i];
		if ((alias && !rt->alias) ||
		    !route_match(rt->pattern, segs, nsegs, args))
			continue;
		if (*allow == NULL)
			*allow = rt->allow;
		if (strcmp(rt->method, method) == 0)
			return rt;
	}
	return NULL;
}

/* alias_link - the headers of an answer at an old path: Deprecation, and
 * a Link to the /v1 path (percent-encoded but for '/') */
static void
alias_link(struct ctl_http_reply *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *l = out->link;
	size_t n, cap = sizeof(out->link) - 32;	/* room for the rel */
	unsigned char c;

	out->deprecation = API_ALIAS_DEPRECATED;
	n = (size_t)snprintf(l, cap, "</%s", API_VERSION);
	for (; *path != '\0' && *path != '?' && n + 4 < cap; path++) {
		c = (unsigned char)*path;
		if (isalnum(c) || strchr("/-._~", c) != NULL)
			l[n++] = (char)c;
		else {
			l[n++] = '%';
			l[n++] = hex[c >> 4];
			l[n++] = hex[c & 15];
		}
	}
	snprintf(l + n, sizeof(out->link) - n,
	    ">; rel=\"successor-version\"");
}

/* ctl_api_handle - route a request */
void
ctl_api_handle(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out)
{
	struct api_req rq;
	const struct api_route *hit;
	char buf[API_PATH_MAX], *segv[API_MAX_SEGS + 1], **segs = segv + 1;
	char *sp, *tok, v1[] = API_VERSION;
	const char *allow;
	json_error_t jerr;
	size_t nsegs = 0;
	bool alias = false;

	memset(&rq, 0, sizeof(rq));
	rq.api = ctx;
	rq.out = out;
	out->allow = NULL;
	out->deprecation = NULL;
	out->link[0] = '\0';
	if (strlen(path) >= sizeof(buf) || path[0] != '/') {
		reply_error(out, 404, "not found");
		return;
	}
	strcpy(buf, path);
	rq.query = "";
	if ((tok = strchr(buf, '?')) != NULL) {
		*tok = '\0';
		rq.query = path + (tok - buf) + 1;
	}
	for (tok = strtok_r(buf, "/", &sp); tok != NULL;
	    tok = strtok_r(NULL, "/", &sp)) {
		if (nsegs == API_MAX_SEGS) {
			reply_error(out, 404, "not found");
			return;
		}
		segs[nsegs++] = tok;
	}
	hit = route_find(method, segs, nsegs, false, rq.args, &allow);
	if (hit == NULL && allow == NULL && nsegs > 0 &&
	    strcmp(segs[0], API_VERSION) != 0) {
		/* an old path: the route with "v1" in front */
		segv[0] = v1;
		hit = route_find(method, segv, nsegs + 1, true, rq.args,
		    &allow);
		alias = hit != NULL || allow != NULL;
	}
	if (hit == NULL && allow == NULL) {
		reply_error(out, 404, "not found: %s", path);
		return;
	}
	if (hit == NULL) {
		reply_error(out, 405, "method %s not allowed on %s (allowed: "
		    "%s)", method, path, allow);
		if (out->status == 405)		/* not the 503 of no memory */
			out->allow = allow;
		goto out;
	}
	if (hit->body) {
		rq.body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
		if (rq.body == NULL) {
			reply_error(out, 400, "invalid JSON at line %d, "
			    "column %d: %s", jerr.line, jerr.column, jerr.text);
			goto out;
		}
		if (!json_is_object(rq.body)) {
			json_decref(rq.body);
			reply_error(out, 400, "expected a JSON object");
			goto out;
		}
	}
	rq.world = take_world(&rq.api->conf);
	hit->fn(&rq);
	world_drop(rq.world);
	json_decref(rq.body);
out:
	if (alias)
		alias_link(out, path);
}

/* A walk over the state table for /metrics. */
struct rep_walk {
	const struct prof_world *w;
	uint64_t	 now;
	uint64_t	 tracked[SIM_KEY__COUNT];
	struct met_rep_hist *rep;	/* [nprofiles * MET_REP_KINDS] */
};

/* rep_visit - count an identity; its score into the histogram.  The
 * score is brought forward as the policy does (sim_policy.c rep_now):
 * initial when never set, plus linear recovery, capped at max. */
static void
rep_visit(void *ctx, enum sim_key_kind kind, uint32_t prof,
    const struct sim_entry *e)
{
	struct rep_walk *rw = ctx;
	const struct prof_reputation *r;
	double score;

	if ((unsigned)kind >= SIM_KEY__COUNT)
		return;
	rw->tracked[kind]++;
	if (kind >= MET_REP_KINDS || prof >= rw->w->nprofiles)
		return;
	r = &rw->w->profiles[prof]->rep;
	score = sim_policy_score(r, e, rw->now);
	met_rep_add(&rw->rep[prof * MET_REP_KINDS + kind], score, r->max);
}

/* ctl_api_metrics - GET /metrics */
void
ctl_api_metrics(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out)
{
	struct ctl_api *api = ctx;
	const struct ctl_api_conf *cf = &api->conf;
	struct met_snapshot m;
	struct met_worker *wk = NULL;
	struct rep_walk rw;
	struct sim_stats *s = NULL;
	unsigned i;

	(void)path;
	(void)body;
	(void)len;
	out->allow = NULL;
	if (strcmp(method, "GET") != 0) {
		reply_error(out, 405, "method %s not allowed on /metrics "
		    "(allowed: GET)", method);
		if (out->status == 405)
			out->allow = "GET";
		return;
	}
	memset(&m, 0, sizeof(m));
	memset(&rw, 0, sizeof(rw));
	m.world = rw.w = take_world(cf);
	m.sim_ms = rw.now = sim_clock_now(cf->clock);
	m.nworkers = nb_nworkers(cf->be);
	s = sim_stats_new(m.world->nprofiles);
	wk = calloc(m.nworkers + 1, sizeof(*wk));
	rw.rep = calloc(m.world->nprofiles * MET_REP_KINDS, sizeof(*rw.rep));
	if (s == NULL || wk == NULL || rw.rep == NULL) {
		reply_error(out, 503, "out of memory");
		goto out;
	}
	nb_stats(cf->be, s);
	for (i = 0; i < m.nworkers; i++)
		nb_worker_load(cf->be, i, &wk[i].open, &wk[i].sessions);
	sim_state_foreach(cf->state, rep_visit, &rw);
	m.stats = s;
	m.open_conns = nb_open_conns(cf->be);
	m.workers = wk;
	memcpy(m.tracked, rw.tracked, sizeof(m.tracked));
	m.state_exhausted = sim_state_exhausted(cf->state);
	m.rep = rw.rep;
	if (cf->evlog != NULL) {
		m.have_evlog = true;
		m.evlog_written = sim_evlog_written(cf->evlog);
		m.evlog_dropped = sim_evlog_dropped(cf->evlog);
	}
	m.time_scale = cf->clock->scale;
	m.have_tls = nb_tls(cf->be, &m.tls_done, &m.tls_failed);
	if ((out->body = met_prom_render(&m, &out->len)) == NULL) {
		reply_error(out, 503, "out of memory");
		goto out;
	}
	out->status = 200;
	out->content_type = PROM_TYPE;
out:
	sim_stats_free(s);
	free(wk);
	free(rw.rep);
	world_drop(m.world);
}
