/*
 * DESCRIPTION
 *	libFuzzer harness for the control API: ctl_api_handle() and
 *	ctl_api_metrics(), the functions ctl_http.c hands every request to
 *	(no HTTP here; dispatch as in ctl_http.c: "/metrics" to the metrics
 *	handler, anything else to the API).  They run over a real ev_server,
 *	bound on an ephemeral port but never run, whose world holds the
 *	bundled profiles, a manual clock and a fresh state table per input.
 *
 *	Input: a script of requests separated by a line "--".  A request
 *	is "METHOD PATH" on its first line, then the body (the rest, up to
 *	the separator).  A first line "+N" instead moves the simulated
 *	clock N milliseconds forward.  The path ends at a NUL, as a decoded
 *	URL does in ctl_http.c; the body may hold any byte.
 *
 *	Invariants checked (abort on violation):
 *	- every reply has a body of exactly len bytes without NUL, a status
 *	  of 200, 400, 404, 405, 409 or 503, an Allow list exactly on 405;
 *	- a JSON reply parses (jansson, duplicates rejected) as an object;
 *	  an error is {"error": string} and nothing else; /metrics with 200
 *	  is Prometheus text ending in a newline;
 *	- the world keeps its profiles (count, names, order) and blocks;
 *	  only a 200 to PATCH limits or PUT/DELETE outage publishes a new
 *	  world, and it differs from the previous one in that provider
 *	  only; nothing else changes the world, and only a 200 to PUT
 *	  reputation may add to the state table;
 *	- a PATCH answer shows the published limits, and applying it again
 *	  (ctl_limits_patch()) to the previous limits gives the same ones;
 *	- PUT outage sets outage_until_ms to now + duration, DELETE to 0;
 *	- PUT reputation answers the score it was given;
 *	- nothing leaks (ASan): every world published during an input is
 *	  freed once the next one replaces it (the first world is published
 *	  again at the end of the input).
 *
 *	With FUZZ_CTL_TRACE set in the environment, each request and its
 *	answer are printed on stderr (to read what a seed does).
 *
 * DIAGNOSTICS
 *	Aborts on an invariant violation and when the fixture cannot be
 *	set up (a bundled profile does not load, no port can be bound).
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ev_server.h"
#include "fuzz_check.h"
#include "prof_load.h"
#include "sim_clock.h"
#include "sim_place.h"
#include "sim_pm.h"
#include "sim_state.h"

#define FC_T0		1767225600000ULL	/* 2026-01-01, manual clock */
#define FC_MAX_REQS	64			/* requests per input */
#define FC_REQ_MAX	4096			/* method/path line */
#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What lives across inputs: the first world and the bound server. */
static struct prof_world *fc_world;
static struct sim_state *fc_srv_state;
static struct sim_clock fc_clock;
static struct nb_backend *fc_srv;
static bool fc_trace;			/* FUZZ_CTL_TRACE set: print replies */

static const char *const fc_profiles[] = {
	"gmail", "microsoft", "yahoo", "generic", "sink"
};

/* fc_setup - the bundled profiles, one /32 each on 127.77.0.x */
static void
fc_setup(void)
{
	struct ev_server_conf conf;
	struct prof_error perr;
	struct prof_profile *p;
	char path[512], err[256];
	size_t i;
	int idx;

	if ((fc_world = prof_world_new()) == NULL)
		abort();
	for (i = 0; i < sizeof(fc_profiles) / sizeof(fc_profiles[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.yaml", MXSIM_PROFILES_DIR,
		    fc_profiles[i]);
		memset(&perr, 0, sizeof(perr));
		if ((p = prof_load_profile(path, &perr)) == NULL) {
			fprintf(stderr, "fuzz_ctl: %s: %s\n", path, perr.msg);
			abort();
		}
		if ((idx = prof_world_add_profile(fc_world, p)) < 0 ||
		    prof_world_add_block(fc_world, 0x7f4d0001u + (uint32_t)i,
		    32, (uint32_t)idx) != 0)
			abort();
	}
	fc_world->port = 0;
	if ((fc_srv_state = sim_state_new(64, 3600000)) == NULL)
		abort();
	sim_clock_init_manual(&fc_clock, FC_T0);
	memset(&conf, 0, sizeof(conf));
	conf.nb.world = fc_world;
	conf.nb.state = fc_srv_state;
	conf.nb.clock = &fc_clock;
	conf.nb.max_conns = 4;
	conf.workers = 1;
	if ((fc_srv = ev_server_new(&conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_ctl: ev_server_new: %s\n", err);
		abort();
	}
}

/* fc_same_shape - a published world keeps the first world's profiles
 * (count, names, order) and blocks */
static void
fc_same_shape(const struct prof_world *w)
{
	size_t i;

	FUZZ_CHECK(w->nprofiles == fc_world->nprofiles, "%zu profiles",
	    w->nprofiles);
	FUZZ_CHECK(w->nblocks == fc_world->nblocks, "%zu blocks", w->nblocks);
	for (i = 0; i < w->nprofiles; i++)
		FUZZ_CHECK(strcmp(w->profiles[i]->name,
		    fc_world->profiles[i]->name) == 0, "profile %zu is %s", i,
		    w->profiles[i]->name);
	for (i = 0; i < w->nblocks; i++)
		FUZZ_CHECK(w->blocks[i].addr == fc_world->blocks[i].addr &&
		    w->blocks[i].mask == fc_world->blocks[i].mask &&
		    w->blocks[i].profile == fc_world->blocks[i].profile,
		    "block %zu moved", i);
}

/* fc_limits_equal - same limits, compared through their JSON rendering
 * (no padding bytes involved) */
static bool
fc_limits_equal(const struct prof_limits *a, const struct prof_limits *b)
{
	char *sa = ctl_limits_dump(a), *sb = ctl_limits_dump(b);
	bool eq;

	FUZZ_CHECK(sa != NULL && sb != NULL, "ctl_limits_dump failed");
	eq = strcmp(sa, sb) == 0;
	free(sa);
	free(sb);
	return eq;
}

/* fc_check_reply - status, Allow, body shape; @return the parsed JSON
 * body (NULL for Prometheus text) */
static json_t *
fc_check_reply(const struct ctl_http_reply *out, bool metrics)
{
	json_error_t jerr;
	json_t *j, *e;

	FUZZ_CHECK(out->body != NULL, "no body (status %u)", out->status);
	FUZZ_CHECK(out->len > 0 && strlen(out->body) == out->len,
	    "len %zu, strlen %zu", out->len, strlen(out->body));
	FUZZ_CHECK(out->body[out->len - 1] == '\n', "no final newline");
	FUZZ_CHECK(out->status == 200 || out->status == 400 ||
	    out->status == 404 || out->status == 405 || out->status == 409 ||
	    out->status == 503, "status %u", out->status);
	FUZZ_CHECK((out->status == 405) == (out->allow != NULL),
	    "status %u, allow %s", out->status,
	    out->allow != NULL ? out->allow : "(none)");
	FUZZ_CHECK(out->content_type != NULL, "no content type");
	if (metrics && out->status == 200) {
		FUZZ_CHECK(strcmp(out->content_type, PROM_TYPE) == 0, "%s",
		    out->content_type);
		return NULL;
	}
	FUZZ_CHECK(strcmp(out->content_type, "application/json") == 0,
	    "%s", out->content_type);
	j = json_loadb(out->body, out->len, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(j != NULL, "status %u: invalid JSON (%s): %s",
	    out->status, jerr.text, out->body);
	FUZZ_CHECK(json_is_object(j), "not an object: %s", out->body);
	if (out->status != 200) {
		e = json_object_get(j, "error");
		FUZZ_CHECK(json_object_size(j) == 1 && json_is_string(e),
		    "error reply %s", out->body);
	}
	return j;
}

/* fc_check_patch - the answer is the new limits; re-applying it to the
 * old limits gives the new ones; other providers are untouched */
static void
fc_check_patch(const struct prof_world *old, const struct prof_world *nw,
    const struct ctl_http_reply *out, int prof)
{
	struct prof_limits l;
	char err[512], *dump;
	json_t *a, *b;
	size_t i;

	for (i = 0; i < nw->nprofiles; i++) {
		FUZZ_CHECK(nw->profiles[i]->outage_until_ms ==
		    old->profiles[i]->outage_until_ms, "outage of %zu", i);
		if ((int)i != prof)
			FUZZ_CHECK(fc_limits_equal(&nw->profiles[i]->limits,
			    &old->profiles[i]->limits), "PATCH of %d changed "
			    "provider %zu", prof, i);
	}
	dump = ctl_limits_dump(&nw->profiles[prof]->limits);
	FUZZ_CHECK(dump != NULL, "ctl_limits_dump");
	a = json_loads(dump, 0, NULL);
	b = json_loadb(out->body, out->len, 0, NULL);
	FUZZ_CHECK(a != NULL && b != NULL && json_equal(a, b),
	    "answer %s, published %s", out->body, dump);
	json_decref(a);
	json_decref(b);
	free(dump);
	l = old->profiles[prof]->limits;
	FUZZ_CHECK(ctl_limits_patch(&l, out->body, out->len, err,
	    sizeof(err)) == 0, "the answer does not apply: %s", err);
	FUZZ_CHECK(fc_limits_equal(&l, &nw->profiles[prof]->limits),
	    "answer applied differs: %s", out->body);
}

/* fc_prof_arg - the provider index named by segment @n of /a/b/c, or -1 */
static int
fc_prof_arg(const char *path, int n)
{
	const char *s = path, *e;
	size_t i, len;

	while (n-- > 0) {
		if ((s = strchr(s + 1, '/')) == NULL)
			return -1;
	}
	s++;
	e = strchr(s, '/');
	len = e != NULL ? (size_t)(e - s) : strlen(s);
	for (i = 0; i < fc_world->nprofiles; i++)
		if (strlen(fc_world->profiles[i]->name) == len &&
		    memcmp(fc_world->profiles[i]->name, s, len) == 0)
			return (int)i;
	return -1;
}

/* fc_norm - the path as the router sees it: empty segments dropped
 * ("//providers//gmail" is /providers/gmail), /v1 taken off */
static void
fc_norm(const char *path, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *path != '\0' && n + 1 < cap; path++)
		if (*path != '/' || n == 0 || buf[n - 1] != '/')
			buf[n++] = *path;
	buf[n] = '\0';
	/* /v1/X and its deprecated alias /X are the same route */
	if (strncmp(buf, "/v1/", 4) == 0)
		memmove(buf, buf + 3, n - 3 + 1);
}

/* fc_request - one request through the handlers, then the invariants */
static void
fc_request(struct ctl_api *api, struct sim_state *st, const char *method,
    const char *path, const char *body, size_t len)
{
	struct ctl_http_reply out;
	const struct prof_world *before, *after;
	char norm[FC_REQ_MAX];
	size_t nstate;
	bool metrics, changes, is_rep;
	json_t *j, *req;
	double want, got;
	int prof;

	before = nb_world(fc_srv);
	nstate = sim_state_count(st);
	memset(&out, 0, sizeof(out));
	out.status = 500;
	metrics = strcmp(path, "/metrics") == 0;
	if (metrics)
		ctl_api_metrics(api, method, path, body, len, &out);
	else
		ctl_api_handle(api, method, path, body, len, &out);
	if (fc_trace)
		fprintf(stderr, "%s %s -> %u %.*s", method, path, out.status,
		    metrics && out.status == 200 ? 0 : (int)out.len,
		    out.body != NULL ? out.body : "");
	j = fc_check_reply(&out, metrics);
	after = nb_world(fc_srv);
	fc_same_shape(after);

	fc_norm(path, norm, sizeof(norm));
	is_rep = strncmp(norm, "/reputation/", 12) == 0;
	changes = out.status == 200 && !metrics && !is_rep &&
	    (strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "DELETE") == 0);
	FUZZ_CHECK((after != before) == changes, "%s %s: %u, world %s",
	    method, path, out.status, after != before ? "changed" :
	    "unchanged");
	if (!(out.status == 200 && is_rep && strcmp(method, "PUT") == 0))
		FUZZ_CHECK(sim_state_count(st) == nstate, "%s %s: %u, state "
		    "%zu -> %zu", method, path, out.status, nstate,
		    sim_state_count(st));
	if (changes) {
		prof = fc_prof_arg(norm, 1);
		FUZZ_CHECK(prof >= 0, "%s %s changed the world", method, path);
		if (strcmp(method, "PATCH") == 0)
			fc_check_patch(before, after, &out, prof);
		else if (strcmp(method, "DELETE") == 0)
			FUZZ_CHECK(after->profiles[prof]->outage_until_ms == 0,
			    "DELETE outage left %llu", (unsigned long long)
			    after->profiles[prof]->outage_until_ms);
		else {
			req = json_loadb(body, len, 0, NULL);
			want = json_number_value(json_object_get(req,
			    "duration_s"));
			json_decref(req);
			FUZZ_CHECK(after->profiles[prof]->outage_until_ms ==
			    sim_clock_now(&fc_clock) + (uint64_t)(want * 1000.0),
			    "PUT outage %g s", want);
		}
	}
	if (out.status == 200 && is_rep && strcmp(method, "PUT") == 0) {
		req = json_loadb(body, len, 0, NULL);
		want = json_number_value(json_object_get(req, "score"));
		got = json_number_value(json_object_get(j, "score"));
		json_decref(req);
		FUZZ_CHECK(fabs(got - want) <= 1e-9 * fmax(1.0, want),
		    "PUT score %.17g answered %.17g", want, got);
	}
	json_decref(j);
	free(out.body);
	world_drop(before);
	world_drop(after);
}

/* LLVMFuzzerInitialize - the server and its first world */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fc_trace = getenv("FUZZ_CTL_TRACE") != NULL;
	fc_setup();
	return 0;
}

/* LLVMFuzzerTestOneInput - run the script of requests */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_api_conf ac;
	struct ctl_api *api;
	struct sim_state *st;
	struct sim_pm *pm;
	struct sim_event ev;
	const char *p = (const char *)data, *end = p + size, *nl, *sep, *b;
	char line[FC_REQ_MAX], *sp, *body;
	size_t n, blen;
	unsigned long long adv;
	int reqs = 0;

	sim_clock_set(&fc_clock, FC_T0);
	if ((st = sim_state_new(1024, 3600000)) == NULL)
		abort();
	/* a Postmaster view with a few rows for GET /postmaster */
	if ((pm = sim_pm_new(64)) == NULL)
		abort();
	for (n = 0; n < 3; n++) {
		memset(&ev, 0, sizeof(ev));
		ev.sim_ms = FC_T0 + n * 86400000ULL;
		ev.prof = 0;
		ev.client_ip = 0x7f000a01u + (uint32_t)n;
		ev.sender_domain = n == 2 ? NULL : "a.example";
		ev.stage = SIM_STAGE_EOD;
		ev.code = n == 1 ? 421 : 250;
		ev.enhanced = n == 1 ? "4.7.28" : "2.0.0";
		ev.nrcpts = 1;
		ev.placement = n == 1 ? SIM_PLACE_NONE : SIM_PLACE_INBOX;
		ev.ip_rep = 80;
		ev.domain_rep = n == 2 ? -1 : 70;
		sim_pm_event(pm, &ev);
	}
	memset(&ac, 0, sizeof(ac));
	ac.be = fc_srv;
	ac.state = st;
	ac.clock = &fc_clock;
	ac.pm = pm;
	if ((api = ctl_api_new(&ac)) == NULL)
		abort();
	while (p < end && reqs++ < FC_MAX_REQS) {
		/* the request ends at "\n--\n" or at the end of the input */
		sep = NULL;
		for (b = p; b + 4 <= end; b++)
			if (memcmp(b, "\n--\n", 4) == 0) {
				sep = b;
				break;
			}
		if (sep == NULL)
			sep = end;
		nl = memchr(p, '\n', (size_t)(sep - p));
		n = (size_t)((nl != NULL ? nl : sep) - p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';		/* an inner NUL ends the path */
		b = nl != NULL ? nl + 1 : sep;
		blen = (size_t)(sep - b);
		p = sep < end ? sep + 4 : end;
		if (line[0] == '+') {
			adv = strtoull(line + 1, NULL, 10) % (400ULL * 86400000);
			sim_clock_set(&fc_clock, sim_clock_now(&fc_clock) + adv);
			continue;
		}
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		/* ctl_http passes a NUL-terminated copy of the body */
		if ((body = malloc(blen + 1)) == NULL)
			abort();
		memcpy(body, b, blen);
		body[blen] = '\0';
		fc_request(api, st, line, sp + 1, body, blen);
		free(body);
	}
	nb_publish(fc_srv, world_hold(fc_world));
	ctl_api_free(api);
	sim_pm_free(pm);
	sim_state_free(st);
	return 0;
}
