/*
 * Tests of the control API: JSON -> limits (good and bad bodies, exact
 * messages, all or nothing), limits -> JSON -> limits, the world clone
 * (equal, then independent), and the endpoints driven through
 * ctl_api_handle() over a real, bound but not running, ev_server (one MX
 * address on 127.9.0.1, an ephemeral port), a manual clock and a real
 * state table.  Also the loopback checks of ctl_http, and GET /postmaster
 * over a Postmaster view fed with synthetic events (issue 9).  Issue 17:
 * the /v1 routes, the old paths' Deprecation and Link, the route list,
 * the embedded OpenAPI document, reals printed as their decimals, and the
 * token file's checks (ctl_token).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "ctl_api.h"
#include "ctl_http.h"
#include "ctl_json.h"
#include "ctl_openapi.h"
#include "ctl_token.h"
#include "ev_server.h"
#include "prof_limits.h"
#include "prof_load.h"
#include "sim_policy.h"
#include "sim_pm.h"
#include "test_suites.h"
#include "world_slot.h"

#define T0	1795459403000ULL	/* manual clock start */
#define DOC_LEAVES_MAX	128		/* leaf keys of limits: */
#define DOC_PATH_MAX	96

/* One leaf key of limits: ("limits.per_ip.messages.minute") and its
 * type, as profiles/README.md documents it or the schema has it. */
struct doc_leaf {
	char		 path[DOC_PATH_MAX];
	enum prof_lim_type type;
};

struct doc_leaves {
	struct doc_leaf	 v[DOC_LEAVES_MAX];
	size_t		 n;
};

struct api_fix {
	struct prof_world *w;
	struct sim_state *st;
	struct sim_clock clock;
	struct nb_backend *srv;
	struct ctl_api	*api;
	struct sim_pm	*pm;		/* Postmaster view (issue 9) */
	struct ctl_http_reply out;
};

static int	fix_open(struct api_fix *);
static void	fix_close(struct api_fix *);
static unsigned	call(struct api_fix *, const char *, const char *,
		    const char *);
static void	world_equal(const struct prof_world *,
		    const struct prof_world *);
static const struct prof_world *fix_world(struct api_fix *);
static void	doc_add(struct doc_leaves *, const char *, const char *,
		    int);
static int	doc_scalar(const char *);
static void	doc_row(struct doc_leaves *, const char *, const char *);
static void	doc_line(struct doc_leaves *, char *, char *, size_t);
static void	doc_limits(struct doc_leaves *);
static void	schema_leaves(struct doc_leaves *, const struct prof_lim_key *,
		    const char *);
static json_t	*leaf_value(const struct doc_leaf *, size_t, int);
static json_t	*json_at(json_t *, const char *, bool);
static size_t	json_leaves(json_t *);
static void	limits_match(const char *, const struct doc_leaves *,
		    const int *);

/* fix_open - one "gmail" profile on 127.9.0.1, server bound, API on top */
static int
fix_open(struct api_fix *f)
{
	struct ev_server_conf conf;
	struct ctl_api_conf ac;
	struct prof_profile *p;
	char err[256];

	memset(f, 0, sizeof(*f));
	if ((f->w = prof_world_new()) == NULL ||
	    (p = prof_profile_new("gmail")) == NULL)
		return -1;
	p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 100;
	p->limits.conns_per_ip = 20;
	p->rep.initial = 80;
	p->rep.temp_below = 40;
	p->rep.block_below = 15;
	prof_set_reply(p, SIM_RK_RATE_IP, 421, "4.7.28", "slow", SIM_STAGE_EOD);
	prof_world_add_profile(f->w, p);
	prof_world_add_profile(f->w, prof_profile_new("sink"));
	prof_world_add_block(f->w, 0x7f090001, 32, 0);
	f->w->port = 0;
	if ((f->st = sim_state_new(1024, 3600000)) == NULL)
		return -1;
	sim_clock_init_manual(&f->clock, T0);
	memset(&conf, 0, sizeof(conf));
	conf.nb.world = f->w;
	conf.nb.state = f->st;
	conf.nb.clock = &f->clock;
	conf.nb.max_conns = 4;
	conf.workers = 2;
	if ((f->srv = ev_server_new(&conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ev_server_new: %s\n", err);
		return -1;
	}
	memset(&ac, 0, sizeof(ac));
	ac.be = f->srv;
	ac.state = f->st;
	ac.clock = &f->clock;
	if ((ac.pm = f->pm = sim_pm_new(64)) == NULL)
		return -1;
	return (f->api = ctl_api_new(&ac)) == NULL ? -1 : 0;
}

/* fix_close - free everything (ASan checks the published worlds) */
static void
fix_close(struct api_fix *f)
{
	free(f->out.body);
	ctl_api_free(f->api);
	nb_free(f->srv);
	sim_pm_free(f->pm);
	sim_state_free(f->st);
	prof_world_free(f->w);
}

/* fix_world - the server's current world, which the server holds until
 * the next change (these tests change it from this thread only) */
static const struct prof_world *
fix_world(struct api_fix *f)
{
	const struct prof_world *w = nb_world(f->srv);

	world_drop(w);
	return w;
}

/* call - one request; the reply stays in f->out until the next call */
static unsigned
call(struct api_fix *f, const char *method, const char *path,
    const char *body)
{
	free(f->out.body);
	memset(&f->out, 0, sizeof(f->out));
	ctl_api_handle(f->api, method, path, body, strlen(body), &f->out);
	CU_ASSERT_PTR_NOT_NULL(f->out.body);
	if (f->out.body == NULL)
		return 0;
	CU_ASSERT_EQUAL(strlen(f->out.body), f->out.len);
	return f->out.status;
}

/* world_equal - deep equality of two worlds, with distinct storage */
static void
world_equal(const struct prof_world *a, const struct prof_world *b)
{
	const struct prof_profile *p, *q;
	size_t i, j;

	CU_ASSERT_STRING_EQUAL(a->file, b->file);
	CU_ASSERT_PTR_NOT_EQUAL(a->file, b->file);
	CU_ASSERT_EQUAL(a->seed, b->seed);
	CU_ASSERT_DOUBLE_EQUAL(a->time_scale, b->time_scale, 0);
	CU_ASSERT_EQUAL(a->port, b->port);
	CU_ASSERT_EQUAL(a->idle_timeout_s, b->idle_timeout_s);
	CU_ASSERT_EQUAL(a->session_timeout_s, b->session_timeout_s);
	CU_ASSERT_EQUAL(a->max_errors, b->max_errors);
	CU_ASSERT_EQUAL_FATAL(a->nprofiles, b->nprofiles);
	CU_ASSERT_EQUAL_FATAL(a->nblocks, b->nblocks);
	CU_ASSERT(memcmp(a->blocks, b->blocks, a->nblocks *
	    sizeof(*a->blocks)) == 0);
	CU_ASSERT_EQUAL_FATAL(a->nblocklist, b->nblocklist);
	CU_ASSERT(a->nblocklist == 0 || memcmp(a->blocklist, b->blocklist,
	    a->nblocklist * sizeof(*a->blocklist)) == 0);
	CU_ASSERT_EQUAL_FATAL(a->nsenders, b->nsenders);
	for (i = 0; i < a->nsenders; i++) {
		CU_ASSERT_STRING_EQUAL(a->senders[i].domain,
		    b->senders[i].domain);
		CU_ASSERT_EQUAL(a->senders[i].spf, b->senders[i].spf);
		CU_ASSERT_EQUAL(a->senders[i].dkim, b->senders[i].dkim);
	}
	CU_ASSERT_EQUAL_FATAL(a->nunknown_rcpts, b->nunknown_rcpts);
	for (i = 0; i < a->nunknown_rcpts; i++)
		CU_ASSERT_STRING_EQUAL(a->unknown_rcpts[i],
		    b->unknown_rcpts[i]);
	for (i = 0; i < a->nprofiles; i++) {
		p = a->profiles[i];
		q = b->profiles[i];
		CU_ASSERT_PTR_NOT_EQUAL(p, q);
		CU_ASSERT_STRING_EQUAL(p->name, q->name);
		CU_ASSERT_STRING_EQUAL(p->trailer, q->trailer);
		CU_ASSERT_EQUAL(p->wrap, q->wrap);
		CU_ASSERT(memcmp(&p->limits, &q->limits, sizeof(p->limits)) ==
		    0);
		CU_ASSERT(memcmp(&p->rep, &q->rep, sizeof(p->rep)) == 0);
		CU_ASSERT_EQUAL(p->outage_until_ms, q->outage_until_ms);
		CU_ASSERT_EQUAL_FATAL(p->ndomains, q->ndomains);
		for (j = 0; j < p->ndomains; j++)
			CU_ASSERT_STRING_EQUAL(p->domains[j], q->domains[j]);
		CU_ASSERT_EQUAL_FATAL(p->nmx_hosts, q->nmx_hosts);
		for (j = 0; j < p->nmx_hosts; j++)
			CU_ASSERT_STRING_EQUAL(p->mx_hosts[j], q->mx_hosts[j]);
		CU_ASSERT_EQUAL_FATAL(p->next, q->next);
		for (j = 0; j < p->next; j++)
			CU_ASSERT_STRING_EQUAL(p->ext[j], q->ext[j]);
		for (j = 0; j < SIM_RK__COUNT; j++) {
			CU_ASSERT_EQUAL(p->replies[j].code, q->replies[j].code);
			CU_ASSERT_EQUAL(p->replies[j].stage,
			    q->replies[j].stage);
			CU_ASSERT_EQUAL(p->replies[j].enabled,
			    q->replies[j].enabled);
			CU_ASSERT_EQUAL(p->replies[j].close,
			    q->replies[j].close);
			CU_ASSERT_STRING_EQUAL(p->replies[j].enhanced,
			    q->replies[j].enhanced);
			CU_ASSERT_STRING_EQUAL(p->replies[j].text,
			    q->replies[j].text);
			CU_ASSERT_PTR_NOT_EQUAL(p->replies[j].text,
			    q->replies[j].text);
		}
	}
}

/* good bodies change exactly the keys they name */
static void
test_limits_good(void)
{
	struct prof_limits l, want;
	char err[512] = "";
	const char *body = "{\"per_ip\":{\"messages\":{\"minute\":50}},"
	    "\"connections_per_ip\":5,\"max_message_size\":1048576,"
	    "\"warmup\":{\"days\":3,\"first_day\":10},"
	    "\"per_recipient\":{\"messages\":{\"day\":7}},"
	    "\"connection_rate_per_ip\":{\"second\":2}}";

	memset(&l, 0, sizeof(l));
	l.per_ip.messages.max[SIM_WIN_HOUR] = 3000;
	l.per_domain.recipients.max[SIM_WIN_DAY] = 9;
	want = l;
	want.per_ip.messages.max[SIM_WIN_MINUTE] = 50;
	want.conns_per_ip = 5;
	want.max_size = 1048576;
	want.warmup.days = 3;
	want.warmup.first_day = 10;
	want.warmup.growth = 1.0;	/* unset growth becomes 1 */
	want.per_recipient.max[SIM_WIN_DAY] = 7;
	want.conn_rate.max[SIM_WIN_SECOND] = 2;
	CU_ASSERT_EQUAL(ctl_limits_patch(&l, body, strlen(body), err,
	    sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT(memcmp(&l, &want, sizeof(l)) == 0);
	/* an empty object changes nothing; a length bounds the text */
	CU_ASSERT_EQUAL(ctl_limits_patch(&l, "{}garbage", 2, err,
	    sizeof(err)), 0);
	CU_ASSERT(memcmp(&l, &want, sizeof(l)) == 0);
	/* 0 means unlimited and is allowed everywhere */
	body = "{\"per_ip\":{\"messages\":{\"minute\":0,\"hour\":4294967295}}}";
	CU_ASSERT_EQUAL(ctl_limits_patch(&l, body, strlen(body), err,
	    sizeof(err)), 0);
	CU_ASSERT_EQUAL(l.per_ip.messages.max[SIM_WIN_MINUTE], 0);
	CU_ASSERT_EQUAL(l.per_ip.messages.max[SIM_WIN_HOUR], 4294967295u);
}

/* bad bodies: the exact message, and the limits left as they were */
static void
test_limits_bad(void)
{
	static const struct {
		const char	*body;
		const char	*want;
	} cases[] = {
		{ "{\"per_ip\":{\"messages\":{\"minut\":3}}}",
		    "limits.per_ip.messages.minut: unknown key (expected "
		    "second, minute, hour, day)" },
		{ "{\"per_ip\":{\"messages\":{\"minute\":3}},\"bogus\":1}",
		    "limits.bogus: unknown key (expected connections_per_ip, "
		    "connection_rate_per_ip, messages_per_connection, "
		    "recipients_per_message, max_message_size, per_ip, "
		    "per_domain, per_recipient, warmup, warmup_domain, "
		    "bulk_threshold, recipient_domains_per_transaction, "
		    "max_hops, max_header_bytes, content, per_netblock, "
		    "per_helo, per_dkim_domain, per_url_domain, "
		    "per_message_id, per_user, per_pair, max_attachments, "
		    "count_refused, helo_names_per_ip)" },
		{ "{\"content\":{\"links\":3}}",
		    "limits.content.links: unknown key (expected spam_score, "
		    "max_links)" },
		{ "{\"max_hops\":-1}",
		    "limits.max_hops: expected an integer 0..4294967295" },
		{ "{\"per_recipient\":{\"recipients\":{}}}",
		    "limits.per_recipient.recipients: unknown key (expected "
		    "messages)" },
		{ "{\"connections_per_ip\":\"5\"}",
		    "limits.connections_per_ip: expected an integer "
		    "0..4294967295" },
		{ "{\"connections_per_ip\":-1}",
		    "limits.connections_per_ip: expected an integer "
		    "0..4294967295" },
		{ "{\"connections_per_ip\":4294967296}",
		    "limits.connections_per_ip: expected an integer "
		    "0..4294967295" },
		{ "{\"connections_per_ip\":5.0}",
		    "limits.connections_per_ip: expected an integer "
		    "0..4294967295" },
		{ "{\"per_domain\":{\"recipients\":{\"day\":null}}}",
		    "limits.per_domain.recipients.day: expected an integer "
		    "0..4294967295" },
		{ "{\"per_ip\":5}", "limits.per_ip: expected an object" },
		{ "{\"per_ip\":{\"messages\":[1]}}",
		    "limits.per_ip.messages: expected an object" },
		{ "[1]", "limits: expected an object" },
		{ "{\"max_message_size\":-3}",
		    "limits.max_message_size: expected an integer "
		    "0..9223372036854775807" },
		{ "{\"warmup\":{\"days\":3}}",
		    "limits.warmup.first_day: must be at least 1 when "
		    "days > 0" },
		{ "{\"warmup\":{\"days\":3,\"first_day\":9,\"growth\":0.5}}",
		    "limits.warmup.growth: expected 0 or a number 1..1000000" },
		{ "{\"warmup_domain\":{\"days\":2}}",
		    "limits.warmup_domain.first_day: must be at least 1 when "
		    "days > 0" },
		{ "{\"per_ip\":", "invalid JSON at line 1, column 10: "
		    "unexpected token near end of file" },
		{ "{\"connections_per_ip\":1,\"connections_per_ip\":2}",
		    "invalid JSON at line 1, column 44: duplicate object key "
		    "near '\"connections_per_ip\"'" },
		{ "", "invalid JSON at line 1, column 0: '[' or '{' expected "
		    "near end of file" },
	};
	struct prof_limits l, before;
	char err[512];
	size_t i;

	memset(&l, 0, sizeof(l));
	l.per_ip.messages.max[SIM_WIN_MINUTE] = 100;
	l.conns_per_ip = 20;
	before = l;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(ctl_limits_patch(&l, cases[i].body,
		    strlen(cases[i].body), err, sizeof(err)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, cases[i].want);
		if (strcmp(err, cases[i].want) != 0)
			fprintf(stderr, "\n  body %s\n  got  %s\n",
			    cases[i].body, err);
		CU_ASSERT(memcmp(&l, &before, sizeof(l)) == 0);
	}
}

/* limits -> JSON -> limits gives the same limits (bundled gmail) */
static void
test_limits_roundtrip(void)
{
	struct prof_error perr;
	struct prof_profile *p;
	struct prof_limits l;
	char err[512], *text, *again;

	memset(&perr, 0, sizeof(perr));
	p = prof_load_profile(MXSIM_PROFILES_DIR "/gmail.yaml", &perr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	text = ctl_limits_dump(&p->limits);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"per_ip\":{\"messages\":"
	    "{\"second\":0,\"minute\":100,\"hour\":3000,\"day\":0}"));
	/* every field set from garbage: the dumps must agree */
	memset(&l, 0xa5, sizeof(l));
	CU_ASSERT_EQUAL(ctl_limits_patch(&l, text, strlen(text), err,
	    sizeof(err)), 0);
	again = ctl_limits_dump(&l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(again);
	CU_ASSERT_STRING_EQUAL(again, text);
	CU_ASSERT_EQUAL(l.max_size, p->limits.max_size);
	CU_ASSERT_EQUAL(l.per_recipient.max[SIM_WIN_DAY], 86400);
	free(again);
	free(text);
	prof_profile_free(p);
}

/* a clone of the bundled scenario equals it, then changes alone */
static void
test_world_clone(void)
{
	struct prof_error perr;
	struct prof_world *w, *c;

	memset(&perr, 0, sizeof(perr));
	w = prof_load_scenario(MXSIM_PROFILES_DIR "/default.yaml",
	    MXSIM_PROFILES_DIR, &perr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	c = prof_world_clone(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	world_equal(w, c);
	CU_ASSERT(w->nsenders > 0 && w->nblocklist > 0 &&
	    w->nunknown_rcpts > 0 && w->profiles[0]->next > 0);
	/* change the clone; the original keeps its values */
	c->profiles[0]->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 3;
	c->profiles[0]->outage_until_ms = 42;
	c->profiles[0]->replies[SIM_RK_RATE_IP].text[0] = '#';
	c->senders[0].domain[0] = '#';
	CU_ASSERT_EQUAL(w->profiles[0]->limits.per_ip.messages.max[
	    SIM_WIN_MINUTE], 100);
	CU_ASSERT_EQUAL(w->profiles[0]->outage_until_ms, 0);
	CU_ASSERT_NOT_EQUAL(w->profiles[0]->replies[SIM_RK_RATE_IP].text[0],
	    '#');
	CU_ASSERT_NOT_EQUAL(w->senders[0].domain[0], '#');
	/* a clone of a clone of a hand-made world (no file, no lists) */
	prof_world_free(c);
	c = prof_world_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	prof_world_free(w);
	w = prof_world_clone(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_EQUAL(w->nprofiles, 0);
	CU_ASSERT_PTR_NULL(w->file);
	prof_world_free(c);
	prof_world_free(w);
}

/* GET endpoints, 404 and 405 */
static void
test_api_reads(void)
{
	struct api_fix f;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	CU_ASSERT_EQUAL(call(&f, "GET", "/health", ""), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"status\":\"ok\"}\n");
	CU_ASSERT_STRING_EQUAL(f.out.content_type, "application/json");
	CU_ASSERT_EQUAL(call(&f, "GET", "/clock", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"sim_ms\":1795459403000,"
	    "\"sim\":\"2026-11-23T18:43:23.000Z\""));
	CU_ASSERT_EQUAL(call(&f, "GET", "/providers", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "{\"providers\":[{\"name\":"
	    "\"gmail\",\"domains\":[],\"addresses\":[\"127.9.0.1/32\"],"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "{\"name\":\"sink\""));
	CU_ASSERT_EQUAL(call(&f, "GET", "/providers/gmail/", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"outage\":{\"active\":"
	    "false,\"until\":null,\"until_ms\":0,\"remaining_s\":0.0}"));
	CU_ASSERT_EQUAL(call(&f, "GET", "/providers/gmail/limits", ""), 200);
	CU_ASSERT_EQUAL(strncmp(f.out.body, "{\"connections_per_ip\":20,", 25),
	    0);
	CU_ASSERT_EQUAL(call(&f, "GET", "/counters", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"gmail\":{\"connections\""
	    ":0,\"messages\":0,\"recipients\":0,\"replies_4xx\":0,"
	    "\"replies_5xx\":0,\"transactions\":{\"accepted\":0,"
	    "\"deferred\":0,\"refused\":0,\"abandoned\":0,\"reasons\":[]},"
	    "\"replies\":[]}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"event_log\":null"));

	CU_ASSERT_EQUAL(call(&f, "GET", "/providers/hotmail", ""), 404);
	CU_ASSERT_STRING_EQUAL(f.out.body,
	    "{\"error\":\"no provider \\\"hotmail\\\"\"}\n");
	CU_ASSERT_EQUAL(call(&f, "GET", "/nothing/here", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/a/b/c/d/e/f/g", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/metrics", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "POST", "/providers/gmail/limits", "{}"),
	    405);
	CU_ASSERT_STRING_EQUAL(f.out.allow, "GET, PATCH");
	CU_ASSERT_EQUAL(call(&f, "DELETE", "/health", ""), 405);
	CU_ASSERT_STRING_EQUAL(f.out.allow, "GET");
	fix_close(&f);
}

/* PATCH limits: a new world is published; a bad body publishes none */
static void
test_api_limits(void)
{
	const struct prof_world *w0, *w1;
	struct api_fix f;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	w0 = fix_world(&f);
	CU_ASSERT_PTR_EQUAL(w0, f.w);
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits",
	    "{\"per_ip\":{\"messages\":{\"minute\":3}},"
	    "\"connections_per_ip\":5}"), 200);
	w1 = fix_world(&f);
	CU_ASSERT_PTR_NOT_EQUAL(w1, w0);
	CU_ASSERT_EQUAL(w1->profiles[0]->limits.per_ip.messages.max[
	    SIM_WIN_MINUTE], 3);
	CU_ASSERT_EQUAL(w1->profiles[0]->limits.conns_per_ip, 5);
	CU_ASSERT_EQUAL(w0->profiles[0]->limits.per_ip.messages.max[
	    SIM_WIN_MINUTE], 100);
	CU_ASSERT_EQUAL(w1->nprofiles, w0->nprofiles);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"per_ip\":{\"messages\":"
	    "{\"second\":0,\"minute\":3,"));

	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits",
	    "{\"per_ip\":{\"messages\":{\"minute\":\"x\"}}}"), 400);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"error\":\"limits.per_ip."
	    "messages.minute: expected an integer 0..4294967295\"}\n");
	CU_ASSERT_PTR_EQUAL(fix_world(&f), w1);
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits",
	    "{\"per_ip\":"), 400);
	CU_ASSERT_EQUAL(strncmp(f.out.body, "{\"error\":\"invalid JSON at "
	    "line 1, column 9: ", 38), 0);
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits", "[7]"),
	    400);
	CU_ASSERT_STRING_EQUAL(f.out.body,
	    "{\"error\":\"expected a JSON object\"}\n");
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits", "7"),
	    400);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"error\":\"invalid JSON at "
	    "line 1, column 1: '[' or '{' expected near '7'\"}\n");
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/nope/limits", "{}"),
	    404);
	CU_ASSERT_PTR_EQUAL(fix_world(&f), w1);
	fix_close(&f);
}

/* doc_add - one leaf: path, or path.sub */
static void
doc_add(struct doc_leaves *d, const char *path, const char *sub, int type)
{
	CU_ASSERT_FATAL(d->n < DOC_LEAVES_MAX);
	CU_ASSERT(type >= 0);
	if (type < 0)
		fprintf(stderr, "\n  %s%s%s: unknown type in README\n", path,
		    sub != NULL ? "." : "", sub != NULL ? sub : "");
	snprintf(d->v[d->n].path, sizeof(d->v[d->n].path), "%s%s%s", path,
	    sub != NULL ? "." : "", sub != NULL ? sub : "");
	d->v[d->n++].type = (enum prof_lim_type)type;
}

/* doc_scalar - a documented leaf type: int, int (0..N), num; -1 */
static int
doc_scalar(const char *s)
{
	if (strcmp(s, "int") == 0)
		return PROF_LIM_U32;
	if (strncmp(s, "int (0..2", 9) == 0)
		return PROF_LIM_U64;
	if (strcmp(s, "num") == 0)
		return PROF_LIM_GROWTH;
	return -1;
}

/* doc_row - the leaves of one documented key: a scalar type, windows
 * (four ints) or `{name: type, ...}` */
static void
doc_row(struct doc_leaves *d, const char *path, const char *type)
{
	static const char *const win[] = { "second", "minute", "hour", "day" };
	char buf[160], *item, *save, *colon, *end;
	size_t i;

	if (strcmp(type, "windows") == 0) {
		for (i = 0; i < 4; i++)
			doc_add(d, path, win[i], PROF_LIM_U32);
		return;
	}
	if (strncmp(type, "`{", 2) != 0) {
		doc_add(d, path, NULL, doc_scalar(type));
		return;
	}
	snprintf(buf, sizeof(buf), "%s", type + 2);
	if ((end = strstr(buf, "}`")) != NULL)
		*end = '\0';
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		item += strspn(item, " ");
		CU_ASSERT_PTR_NOT_NULL_FATAL(colon = strchr(item, ':'));
		*colon = '\0';
		doc_add(d, path, item, doc_scalar(colon + 1 +
		    strspn(colon + 1, " ")));
	}
}

/* doc_line - one "| `limits.KEY` | TYPE | ..." row; KEY may hold one
 * {a, b} set, TYPE "same" repeats the row before (prev) */
static void
doc_line(struct doc_leaves *d, char *line, char *prev, size_t prevlen)
{
	char key[128], path[128], *b, *type, *end, *item, *save;
	char *close;

	b = strchr(line + 3, '`');
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	snprintf(key, sizeof(key), "%.*s", (int)(b - (line + 3)), line + 3);
	type = strchr(b, '|');
	CU_ASSERT_PTR_NOT_NULL_FATAL(type);
	type += 1 + strspn(type + 1, " ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(end = strchr(type, '|'));
	while (end > type && end[-1] == ' ')
		end--;
	*end = '\0';
	if (strcmp(type, "same") == 0)
		type = prev;
	else
		snprintf(prev, prevlen, "%s", type);
	if ((b = strchr(key, '{')) == NULL) {
		doc_row(d, key, type);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(close = strchr(b, '}'));
	*b = '\0';
	*close = '\0';
	for (item = strtok_r(b + 1, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		item += strspn(item, " ");
		snprintf(path, sizeof(path), "%s%s%s", key, item, close + 1);
		doc_row(d, path, type);
	}
}

/* doc_limits - the leaves the limits rows of profiles/README.md name */
static void
doc_limits(struct doc_leaves *d)
{
	char line[4096], prev[160] = "";
	FILE *fp;

	d->n = 0;
	fp = fopen(MXSIM_PROFILES_DIR "/README.md", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "| `limits.", 10) == 0)
			doc_line(d, line, prev, sizeof(prev));
	fclose(fp);
}

/* schema_leaves - every leaf of the limits schema below path */
static void
schema_leaves(struct doc_leaves *d, const struct prof_lim_key *keys,
    const char *path)
{
	const struct prof_lim_key *k;
	char sub[DOC_PATH_MAX];

	for (k = keys; k->name != NULL; k++) {
		snprintf(sub, sizeof(sub), "%s.%s", path, k->name);
		if (k->type == PROF_LIM_MAP)
			schema_leaves(d, k->sub, sub);
		else
			doc_add(d, sub, NULL, (int)k->type);
	}
}

/* profiles/README.md documents exactly the schema's keys and types */
static void
test_limits_doc(void)
{
	struct doc_leaves doc, sch;
	size_t i, j, k;

	doc_limits(&doc);
	sch.n = 0;
	schema_leaves(&sch, prof_limits_keys, "limits");
	CU_ASSERT(doc.n > 0);
	for (i = 0; i < doc.n; i++) {
		for (j = 0; j < sch.n; j++)
			if (strcmp(doc.v[i].path, sch.v[j].path) == 0)
				break;
		for (k = 0; k < i; k++)
			CU_ASSERT(strcmp(doc.v[k].path, doc.v[i].path) != 0);
		if (j == sch.n || doc.v[i].type != sch.v[j].type)
			fprintf(stderr, "\n  README documents %s, the schema "
			    "%s\n", doc.v[i].path, j == sch.n ? "lacks it" :
			    "gives it another type");
		CU_ASSERT(j < sch.n && doc.v[i].type == sch.v[j].type);
	}
	for (j = 0; j < sch.n; j++) {
		for (i = 0; i < doc.n; i++)
			if (strcmp(doc.v[i].path, sch.v[j].path) == 0)
				break;
		if (i == doc.n)
			fprintf(stderr, "\n  the schema has %s, README does "
			    "not document it\n", sch.v[j].path);
		CU_ASSERT(i < doc.n);
	}
	CU_ASSERT_EQUAL(doc.n, sch.n);
}

/* leaf_value - a value for leaf i that no other leaf has (round 1, 2) */
static json_t *
leaf_value(const struct doc_leaf *l, size_t i, int round)
{
	switch (l->type) {
	case PROF_LIM_U64:
		return json_integer((json_int_t)round * 5000000000 +
		    (json_int_t)i);
	case PROF_LIM_GROWTH:
		return json_real(round + 0.25 * (double)i);
	default:
		return json_integer((json_int_t)round * 1000 + (json_int_t)i);
	}
}

/* json_at - the value at a "limits.a.b" path of an object (the "limits."
 * part is skipped); with make, missing objects on the way are added and
 * the last key's parent is returned */
static json_t *
json_at(json_t *o, const char *path, bool make)
{
	char buf[DOC_PATH_MAX], *seg, *next;
	json_t *c;

	snprintf(buf, sizeof(buf), "%s", path + strlen("limits."));
	for (seg = buf; o != NULL; seg = next + 1) {
		next = strchr(seg, '.');
		if (next == NULL)
			return make ? o : json_object_get(o, seg);
		*next = '\0';
		if ((c = json_object_get(o, seg)) == NULL && make) {
			c = json_object();
			json_object_set_new(o, seg, c);
		}
		o = c;
	}
	return NULL;
}

/* json_leaves - scalars in a JSON object tree */
static size_t
json_leaves(json_t *o)
{
	const char *name;
	json_t *v;
	size_t n = 0;

	json_object_foreach(o, name, v)
		n += json_is_object(v) ? json_leaves(v) : 1;
	return n;
}

/* limits_match - a limits JSON text has every documented leaf, and
 * leaf i holds leaf_value(i, round[i]) */
static void
limits_match(const char *text, const struct doc_leaves *d, const int *round)
{
	json_t *j, *v, *want;
	size_t i;

	j = json_loads(text, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(json_leaves(j), d->n);
	for (i = 0; i < d->n; i++) {
		v = json_at(j, d->v[i].path, false);
		want = leaf_value(&d->v[i], i, round[i]);
		CU_ASSERT(v != NULL && json_equal(v, want));
		if (v == NULL || !json_equal(v, want))
			fprintf(stderr, "\n  %s: %s\n", d->v[i].path,
			    v == NULL ? "missing" : "other value");
		json_decref(want);
	}
	json_decref(j);
}

/* every key profiles/README.md documents goes through PATCH and comes
 * back from GET: all at once, then one by one (the rest unchanged) */
static void
test_api_limits_doc(void)
{
	struct doc_leaves d;
	int round[DOC_LEAVES_MAX];
	struct api_fix f;
	json_t *body, *one, *lim;
	char *text;
	size_t i;

	doc_limits(&d);
	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	body = json_object();
	for (i = 0; i < d.n; i++) {
		round[i] = 1;
		json_object_set_new(json_at(body, d.v[i].path, true),
		    strrchr(d.v[i].path, '.') + 1, leaf_value(&d.v[i], i, 1));
	}
	text = json_dumps(body, JSON_COMPACT);
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits", text),
	    200);
	limits_match(f.out.body, &d, round);
	free(text);
	json_decref(body);
	for (i = 0; i < d.n; i++) {
		one = json_object();
		json_object_set_new(json_at(one, d.v[i].path, true),
		    strrchr(d.v[i].path, '.') + 1, leaf_value(&d.v[i], i, 2));
		text = json_dumps(one, JSON_COMPACT);
		CU_ASSERT_EQUAL(call(&f, "PATCH", "/providers/gmail/limits",
		    text), 200);
		round[i] = 2;
		CU_ASSERT_EQUAL(call(&f, "GET", "/providers/gmail/limits", ""),
		    200);
		limits_match(f.out.body, &d, round);
		free(text);
		json_decref(one);
	}
	/* the provider view shows the same limits */
	CU_ASSERT_EQUAL(call(&f, "GET", "/providers/gmail", ""), 200);
	body = json_loads(f.out.body, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lim = json_object_get(body, "limits"));
	text = json_dumps(lim, JSON_COMPACT);
	limits_match(text, &d, round);
	free(text);
	json_decref(body);
	fix_close(&f);
}

/* PUT and DELETE outage: simulated seconds from now, then over */
static void
test_api_outage(void)
{
	struct sim_facts fa;
	struct sim_verdict v;
	struct api_fix f;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/providers/gmail/outage",
	    "{\"duration_s\":300}"), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"active\":true,\"until\":"
	    "\"2026-11-23T18:48:23.000Z\",\"until_ms\":1795459703000,"
	    "\"remaining_s\":300.0}\n");
	CU_ASSERT_EQUAL(fix_world(&f)->profiles[0]->outage_until_ms,
	    T0 + 300000);
	CU_ASSERT_EQUAL(fix_world(&f)->profiles[1]->outage_until_ms,
	    0);
	/* the policy answers "outage" at connect with the new world */
	memset(&fa, 0, sizeof(fa));
	fa.client_ip = 0x7f000a01;
	sim_policy_decide(fix_world(&f), f.st, SIM_STAGE_CONNECT, &fa,
	    T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_OUTAGE);
	sim_policy_decide(f.w, f.st, SIM_STAGE_CONNECT, &fa, T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_ACCEPT);
	sim_policy_release(f.w, f.st, &fa, T0 + 1000);
	sim_clock_set(&f.clock, T0 + 100000);
	CU_ASSERT_EQUAL(call(&f, "GET", "/providers/gmail/outage", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"remaining_s\":200.0"));
	CU_ASSERT_EQUAL(call(&f, "DELETE", "/providers/gmail/outage", ""), 200);
	CU_ASSERT_EQUAL(strncmp(f.out.body, "{\"active\":false", 15), 0);
	CU_ASSERT_EQUAL(fix_world(&f)->profiles[0]->outage_until_ms,
	    0);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/providers/gmail/outage",
	    "{\"duration_s\":0}"), 400);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/providers/gmail/outage",
	    "{\"duration\":5}"), 400);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"error\":\"duration: unknown key "
	    "(expected duration_s)\"}\n");
	fix_close(&f);
}

/* reputation: set, read back, through the policy's own read */
static void
test_api_reputation(void)
{
	struct api_fix f;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	CU_ASSERT_EQUAL(call(&f, "GET", "/reputation/ip/gmail/127.0.40.1", ""),
	    200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"score\":80.0,"));
	CU_ASSERT_EQUAL(call(&f, "PUT", "/reputation/ip/gmail/127.0.40.1",
	    "{\"score\":5}"), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"provider\":\"gmail\",\"kind\":"
	    "\"ip\",\"key\":\"127.0.40.1\",\"score\":5.0,\"initial\":80.0,"
	    "\"max\":100.0,\"temp_below\":40.0,\"block_below\":15.0}\n");
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    0x7f002801, NULL, T0), 5.0, 1e-9);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/reputation/domain/gmail/Auth.Example",
	    "{\"score\":12.5}"), 200);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_DOMAIN,
	    0, 0, "auth.example", T0), 12.5, 1e-9);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/reputation/ip/gmail/127.0.40.1",
	    "{\"score\":101}"), 400);
	CU_ASSERT_STRING_EQUAL(f.out.body,
	    "{\"error\":\"score: expected a number 0..100\"}\n");
	CU_ASSERT_EQUAL(call(&f, "PUT", "/reputation/ip/gmail/127.0.40",
	    "{\"score\":1}"), 400);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/reputation/domain/gmail/a b",
	    "{\"score\":1}"), 400);
	CU_ASSERT_EQUAL(call(&f, "GET", "/reputation/asn/gmail/1", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/reputation/ip/nope/127.0.0.1", ""),
	    404);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/reputation/ip/sink/127.0.0.1",
	    "{\"score\":1}"), 409);
	/* /metrics sees the two identities and their scores */
	free(f.out.body);
	memset(&f.out, 0, sizeof(f.out));
	ctl_api_metrics(f.api, "GET", "/metrics", "", 0, &f.out);
	CU_ASSERT_EQUAL(f.out.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.out.body);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body,
	    "\nmxsim_tracked_identities{kind=\"ip\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body,
	    "\nmxsim_reputation_bucket{provider=\"gmail\",kind=\"ip\","
	    "le=\"10\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body,
	    "\nmxsim_reputation_bucket{provider=\"gmail\",kind=\"domain\","
	    "le=\"10\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body,
	    "\nmxsim_reputation_sum{provider=\"gmail\",kind=\"domain\"} "
	    "12.5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body,
	    "\nmxsim_worker_connections{worker=\"1\"} 0\n"));
	free(f.out.body);
	memset(&f.out, 0, sizeof(f.out));
	ctl_api_metrics(f.api, "POST", "/metrics", "", 0, &f.out);
	CU_ASSERT_EQUAL(f.out.status, 405);
	fix_close(&f);
}

/* tb_* - a backend of the test's own (nb_backend.h): no workers, no
 * TLS, nothing counted, 7 connections open */
static void
tb_stats(const struct nb_backend *b, struct sim_stats *out)
{
	(void)b;
	(void)out;
}

static uint64_t
tb_open(const struct nb_backend *b)
{
	(void)b;
	return 7;
}

static unsigned
tb_nworkers(const struct nb_backend *b)
{
	(void)b;
	return 0;
}

static void
tb_load(const struct nb_backend *b, unsigned i, uint64_t *open,
    uint64_t *sessions)
{
	(void)b;
	(void)i;
	(void)open;
	(void)sessions;
}

static const struct nb_ops tb_ops = {
	.stats = tb_stats,
	.open_conns = tb_open,
	.nworkers = tb_nworkers,
	.worker_load = tb_load,
};

/* test_api_backend - the API knows no particular backend: over the
 * test's own, a PATCH publishes there (not to the socket backend), and a
 * backend without workers or TLS shows no worker lines and tls null */
static void
test_api_backend(void)
{
	struct api_fix f;
	struct ctl_api_conf ac;
	struct ctl_http_reply out;
	struct ctl_api *api2;
	struct nb_backend tb;
	struct nb_conf nc;
	const struct prof_world *w0, *w1;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	CU_ASSERT_EQUAL(nb_nworkers(f.srv), 2);
	memset(&nc, 0, sizeof(nc));
	nc.world = f.w;
	CU_ASSERT_EQUAL_FATAL(nb_backend_init(&tb, &tb_ops, &nc), 0);
	memset(&ac, 0, sizeof(ac));
	ac.be = &tb;
	ac.state = f.st;
	ac.clock = &f.clock;
	api2 = ctl_api_new(&ac);
	CU_ASSERT_PTR_NOT_NULL_FATAL(api2);
	w0 = fix_world(&f);
	memset(&out, 0, sizeof(out));
	ctl_api_handle(api2, "PATCH", "/providers/gmail/limits",
	    "{\"connections_per_ip\": 3}", 25, &out);
	CU_ASSERT_EQUAL(out.status, 200);
	free(out.body);
	w1 = nb_world(&tb);
	world_drop(w1);		/* tb holds it */
	CU_ASSERT_PTR_NOT_EQUAL(w1, w0);
	CU_ASSERT_PTR_EQUAL(fix_world(&f), w0);
	CU_ASSERT_EQUAL(w1->profiles[0]->limits.conns_per_ip, 3);
	memset(&out, 0, sizeof(out));
	ctl_api_handle(api2, "GET", "/counters", "", 0, &out);
	CU_ASSERT_EQUAL(out.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out.body);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.body, "\"tls\":null"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.body, "\"open_connections\":7"));
	free(out.body);
	memset(&out, 0, sizeof(out));
	ctl_api_metrics(api2, "GET", "/metrics", "", 0, &out);
	CU_ASSERT_EQUAL(out.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out.body);
	CU_ASSERT_PTR_NULL(strstr(out.body, "mxsim_worker_connections{"));
	CU_ASSERT_PTR_NULL(strstr(out.body, "mxsim_worker_sessions_total{"));
	CU_ASSERT_PTR_NULL(strstr(out.body, "mxsim_tls_handshakes_total"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.body,
	    "\nmxsim_open_connections 7\n"));
	free(out.body);
	ctl_api_free(api2);
	nb_backend_fini(&tb);
	fix_close(&f);
}

/* --control / --metrics addresses: strict syntax; loopback only unless
 * any address is allowed (--metrics, --control with a token) */
static void
test_http_addr(void)
{
	static const struct {
		const char	*addr;
		int		 rc;
	} cases[] = {
		{ "127.0.0.1:8025", 0 }, { "127.3.4.5:1", 0 },
		{ "[::1]:8025", 0 }, { "[::ffff:127.0.0.1]:8025", 0 },
		{ "0.0.0.0:8025", -EPERM }, { "10.1.2.3:8025", -EPERM },
		{ "[::]:8025", -EPERM }, { "[2001:db8::1]:80", -EPERM },
		{ "127.0.0.1", -EINVAL }, { "127.0.0.1:", -EINVAL },
		{ "127.0.0.1:0", -EINVAL }, { "127.0.0.1:65536", -EINVAL },
		{ "localhost:8025", -EINVAL }, { "::1:8025", -EINVAL },
		{ ":8025", -EINVAL }, { "127.0.0.1:80x", -EINVAL },
	};
	struct sockaddr_storage a, b;
	socklen_t len;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(ctl_http_parse_addr(cases[i].addr, false, &a,
		    &len, err, sizeof(err)), cases[i].rc);
		if (ctl_http_parse_addr(cases[i].addr, false, &a, &len, err,
		    sizeof(err)) != cases[i].rc)
			fprintf(stderr, "\n  %s: %s\n", cases[i].addr, err);
		/* any address: only syntax errors */
		CU_ASSERT_EQUAL(ctl_http_parse_addr(cases[i].addr, true, &a,
		    &len, err, sizeof(err)), cases[i].rc == -EPERM ? 0 :
		    cases[i].rc);
	}
	ctl_http_parse_addr("0.0.0.0:8025", false, &a, &len, err,
	    sizeof(err));
	CU_ASSERT_STRING_EQUAL(err, "0.0.0.0: not a loopback address (the "
	    "control API listens on 127.0.0.0/8 or [::1] unless "
	    "--control-token-file is given)");
	ctl_http_parse_addr("127.0.0.1:8025", false, &a, &len, err,
	    sizeof(err));
	ctl_http_parse_addr("127.0.0.1:8025", false, &b, &len, err,
	    sizeof(err));
	CU_ASSERT(ctl_http_same_addr(&a, &b));
	ctl_http_parse_addr("127.0.0.1:8026", false, &b, &len, err,
	    sizeof(err));
	CU_ASSERT_FALSE(ctl_http_same_addr(&a, &b));
	ctl_http_parse_addr("[::1]:8025", false, &b, &len, err, sizeof(err));
	CU_ASSERT_FALSE(ctl_http_same_addr(&a, &b));
}

/* a peer is loopback by its address, whatever the family */
static void
test_http_peer(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f0a0b0c);
	CU_ASSERT(ctl_http_is_loopback((struct sockaddr *)&sin));
	sin.sin_addr.s_addr = htonl(0xc6120001);	/* 198.18.0.1 */
	CU_ASSERT_FALSE(ctl_http_is_loopback((struct sockaddr *)&sin));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	CU_ASSERT(ctl_http_is_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::ffff:198.18.0.1", &sin6.sin6_addr);
	CU_ASSERT_FALSE(ctl_http_is_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::ffff:127.0.0.2", &sin6.sin6_addr);
	CU_ASSERT(ctl_http_is_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	CU_ASSERT_FALSE(ctl_http_is_loopback((struct sockaddr *)&sin6));
	CU_ASSERT_FALSE(ctl_http_is_loopback(NULL));
}

/* GET /postmaster: every figure of a day, bands from the profile,
 * filters, bad queries */
static void
test_api_postmaster(void)
{
	struct api_fix f;
	struct sim_event ev;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster", ""), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"day_ms\":86400000,\"rows\":0,"
	    "\"max_rows\":64,\"overflow\":0,\"providers\":{}}\n");
	memset(&ev, 0, sizeof(ev));
	ev.sim_ms = T0;
	ev.client_ip = 0x7f000a01;
	ev.sender_domain = "a.example";
	ev.stage = SIM_STAGE_EOD;
	ev.code = 250;
	ev.enhanced = "2.0.0";
	ev.nrcpts = 4;
	ev.spf = SIM_AUTH_PASS;
	ev.dkim = SIM_AUTH_FAIL;
	ev.tls = true;
	ev.placement = SIM_PLACE_SPAM;
	ev.complaints = 1;
	ev.nseeds = 2;
	ev.ip_rep = 39.5;
	ev.domain_rep = 75;
	sim_pm_event(f.pm, &ev);
	ev.code = 421;
	ev.enhanced = "4.7.28";
	ev.tls = false;
	sim_pm_event(f.pm, &ev);
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?provider=gmail&"
	    "domain=a.example", ""), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"day_ms\":86400000,\"rows\":1,"
	    "\"max_rows\":64,\"overflow\":0,\"providers\":{\"gmail\":"
	    "{\"bands\":{\"bad_below\":15.0,\"low_below\":40.0,"
	    "\"medium_below\":70.0},\"domains\":{\"a.example\":[{"
	    "\"day\":\"2026-11-23\",\"messages\":1,\"recipients\":4,"
	    "\"complaints\":1,\"spam_rate\":0.25,\"eod\":2,\"spf_pass\":2,"
	    "\"dkim_pass\":0,\"dmarc_pass\":0,\"spf_rate\":1.0,"
	    "\"dkim_rate\":0.0,\"dmarc_rate\":0.0,\"tls\":1,"
	    "\"tls_share\":0.5,\"reputation\":75.0,\"band\":\"High\","
	    "\"placement\":{\"inbox\":0,\"spam\":1,\"promotions\":0},"
	    "\"seeds\":{\"inbox\":0,\"spam\":2,\"promotions\":0},"
	    "\"errors\":[{\"code\":421,\"enhanced\":\"4.7.28\",\"count\":1}],"
	    "\"errors_other\":0}]},\"ips\":{}}}}\n");
	/* the IP's score is in the Low band */
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?ip=127.0.10.1&"
	    "day=2026-11-23", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"ips\":{\"127.0.10.1\":"
	    "[{\"day\":\"2026-11-23\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"reputation\":39.5,"
	    "\"band\":\"Low\""));
	CU_ASSERT_PTR_NULL(strstr(f.out.body, "a.example"));
	/* another day, another provider: nothing, but the provider shows */
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?day=2026-11-24", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"providers\":{}"));
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?provider=sink", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"sink\":{\"bands\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"domains\":{},\"ips\":{}"));
	/* a percent-encoded value */
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?domain=a%2Eexample", ""),
	    200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"a.example\":[{"));
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?provider=aol", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?ip=300.1.1.1", ""), 400);
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?day=2026-13-01", ""), 400);
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?size=1", ""), 400);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"error\":\"query: unknown key "
	    "size (expected provider, domain, ip, day)\"}\n");
	CU_ASSERT_EQUAL(call(&f, "GET", "/postmaster?domain", ""), 400);
	CU_ASSERT_EQUAL(call(&f, "PUT", "/postmaster", "{}"), 405);
	/* other routes ignore a query */
	CU_ASSERT_EQUAL(call(&f, "GET", "/health?x=1", ""), 200);
	fix_close(&f);
}

/* GET /senders and GET /activity (issue 18): an IP whose minute window
 * is full is deferred by rate.ip until the sliding count drops below the
 * line, one millisecond past the next minute's start */
static void
test_api_dash(void)
{
	struct api_fix f;
	struct sim_verdict v;
	struct sim_facts fa;
	struct sim_event ev;
	json_t *j, *ip, *st;
	int i;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	memset(&fa, 0, sizeof(fa));
	fa.prof = 0;
	fa.mx_ip = 0x7f090001;
	fa.client_ip = 0x7f003201;		/* 127.0.50.1 */
	fa.sender_domain = "a.example";
	for (i = 0; i < 100; i++) {
		sim_policy_decide(f.w, f.st, SIM_STAGE_EOD, &fa, T0, &v);
		CU_ASSERT_EQUAL(v.rk, SIM_RK_ACCEPT);
	}
	memset(&ev, 0, sizeof(ev));		/* the Postmaster view names it */
	ev.sim_ms = T0;
	ev.client_ip = fa.client_ip;
	ev.sender_domain = "a.example";
	ev.stage = SIM_STAGE_EOD;
	ev.code = 250;
	ev.enhanced = "2.0.0";
	sim_pm_event(f.pm, &ev);

	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/senders?provider=gmail", ""), 200);
	j = json_loads(f.out.body, 0, NULL);
	ip = json_array_get(json_object_get(json_object_get(json_object_get(j,
	    "providers"), "gmail"), "ips"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ip, "key")),
	    "127.0.50.1");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(ip, "accepted"), "messages"),
	    "minute"), "count")), 100);
	st = json_object_get(ip, "state");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "state")),
	    "deferred");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st,
	    "reason")), "rate.ip");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st,
	    "window")), "minute");
	/* T0 is 23 s into its minute */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "until_ms")),
	    (json_int_t)(T0 + 37000 + 1));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(ip,
	    "open_connections"), "limit")), 20);
	json_decref(j);

	/* once the clock reaches it, the sender is ok again */
	sim_clock_set(&f.clock, T0 + 37001);
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/senders?provider=gmail&ip="
	    "127.0.50.1", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"state\":{\"state\":"
	    "\"ok\""));
	CU_ASSERT_PTR_NULL(strstr(f.out.body, "\"domains\":[{"));
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/senders?provider=nope", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/senders?bad=1", ""), 400);

	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/activity", ""), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"gmail\":{"
	    "\"open_connections\":0,\"reasons\":[]}"));
	CU_ASSERT_EQUAL(call(&f, "POST", "/v1/activity", ""), 405);
	fix_close(&f);
}

/* /v1 paths, the old ones with Deprecation and Link, the route list from
 * the table, the document as built in, reals as decimals */
static void
test_api_v1(void)
{
	struct api_fix f;
	json_t *j, *r;
	size_t i, n = 0;
	char *alias;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/health", ""), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"status\":\"ok\"}\n");
	CU_ASSERT_PTR_NULL(f.out.deprecation);
	CU_ASSERT_STRING_EQUAL(f.out.link, "");
	CU_ASSERT_EQUAL(call(&f, "GET", "/health", ""), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"status\":\"ok\"}\n");
	CU_ASSERT_STRING_EQUAL(f.out.deprecation, "@1796601600");
	CU_ASSERT_STRING_EQUAL(f.out.link, "</v1/health>; "
	    "rel=\"successor-version\"");
	/* errors at an old path too; the Link drops the query */
	CU_ASSERT_EQUAL(call(&f, "GET", "/providers/a b", ""), 404);
	CU_ASSERT_STRING_EQUAL(f.out.link, "</v1/providers/a%20b>; "
	    "rel=\"successor-version\"");
	CU_ASSERT_EQUAL(call(&f, "PUT", "/postmaster?day=x", "{}"), 405);
	CU_ASSERT_STRING_EQUAL(f.out.allow, "GET");
	CU_ASSERT_STRING_EQUAL(f.out.link, "</v1/postmaster>; "
	    "rel=\"successor-version\"");
	/* new routes have no old path; "v1" alone is not an old path */
	CU_ASSERT_EQUAL(call(&f, "GET", "/openapi.json", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/v1/health", ""), 404);
	CU_ASSERT_EQUAL(call(&f, "GET", "/v2/health", ""), 404);
	/* the document, byte for byte */
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/openapi.json", ""), 200);
	CU_ASSERT_EQUAL(f.out.len, ctl_openapi_json_len);
	CU_ASSERT_EQUAL(memcmp(f.out.body, ctl_openapi_json, f.out.len), 0);
	j = json_loads(f.out.body, 0, NULL);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j,
	    "openapi")), "3.1.0");
	json_decref(j);
	/* the route list: / and /v1 alike; every alias is its path less /v1 */
	CU_ASSERT_EQUAL(call(&f, "GET", "/", ""), 200);
	alias = strdup(f.out.body);
	CU_ASSERT_EQUAL(call(&f, "GET", "/v1/", ""), 200);
	CU_ASSERT_STRING_EQUAL(alias, f.out.body);
	free(alias);
	j = json_loads(f.out.body, 0, NULL);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j,
	    "openapi")), "/v1/openapi.json");
	json_array_foreach(json_object_get(j, "routes"), i, r) {
		const char *path = json_string_value(json_object_get(r,
		    "path"));
		const char *old = json_string_value(json_object_get(r,
		    "deprecated_alias"));

		CU_ASSERT(path != NULL && path[0] == '/');
		if (old != NULL) {
			CU_ASSERT_EQUAL(strncmp(path, "/v1/", 4), 0);
			CU_ASSERT_STRING_EQUAL(path + 3, old);
			n++;
		}
	}
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "routes")), 18);
	CU_ASSERT_EQUAL(n, 13);
	json_decref(j);
	/* 29.966 s of outage prints as 29.966 */
	CU_ASSERT_EQUAL(call(&f, "PUT", "/v1/providers/gmail/outage",
	    "{\"duration_s\":29.966}"), 200);
	CU_ASSERT_STRING_EQUAL(f.out.body, "{\"active\":true,\"until\":"
	    "\"2026-11-23T18:43:52.966Z\",\"until_ms\":1795459432966,"
	    "\"remaining_s\":29.966}\n");
	CU_ASSERT_EQUAL(call(&f, "PATCH", "/v1/providers/gmail/limits",
	    "{\"warmup\":{\"days\":2,\"first_day\":3,\"growth\":1.1}}"),
	    200);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.out.body, "\"growth\":1.1}"));
	fix_close(&f);
}

/* reals in their shortest exact form, as Python's repr prints them;
 * strings untouched */
static void
test_json_reals(void)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "{\"remaining_s\":29.966000000000001}",
		    "{\"remaining_s\":29.966}" },
		{ "[0.33333333333333331,300.0,0.10000000000000001,-0.0]",
		    "[0.3333333333333333,300.0,0.1,-0.0]" },
		{ "[1.0000000000000001e-05,0.0001,1e+16,1000000000000000.0]",
		    "[1e-05,0.0001,1e+16,1000000000000000.0]" },
		{ "[4.9406564584124654e-324,1.7976931348623157e+308,12,-7]",
		    "[5e-324,1.7976931348623157e+308,12,-7]" },
		{ "{\"a1.50\":\"x \\\"2.50 \",\"b\":2.5000000000000000,"
		    "\"c\":[true,null]}", "{\"a1.50\":\"x \\\"2.50 \","
		    "\"b\":2.5,\"c\":[true,null]}" },
	};
	json_t *v;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = ctl_json_short_reals(cases[i].in);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_STRING_EQUAL(s, cases[i].out);
		if (strcmp(s, cases[i].out) != 0)
			fprintf(stderr, "\n  %s\n", s);
		free(s);
	}
	v = json_pack("{s:f,s:f}", "a", 1.0 / 3.0, "b", 29.966);
	s = ctl_json_dumps(v);
	CU_ASSERT_STRING_EQUAL(s, "{\"a\":0.3333333333333333,\"b\":29.966}");
	free(s);
	json_decref(v);
}

/* write @p text to a fresh file of @p mode; its path in @p path */
static void
token_file(char *path, const char *text, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/mxsim-token-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL((size_t)write(fd, text, strlen(text)), strlen(text));
	fchmod(fd, mode);
	close(fd);
}

/* --control-token-file: one token line, private to its owner */
static void
test_token_read(void)
{
	static const struct {
		const char	*text;
		mode_t		 mode;
		int		 rc;
		const char	*tok_or_err;	/* token, or the error's tail */
	} cases[] = {
		{ "s3cr3t\n", 0600, 0, "s3cr3t" },
		{ "a-b.c_d~e+f/g==\r\n\n", 0640, 0, "a-b.c_d~e+f/g==" },
		{ "s3cr3t\n", 0644, -EPERM, "other users may read or write it "
		    "(mode 0644); chmod o-rw " },
		{ "s3cr3t", 0602, -EPERM, "(mode 0602)" },
		{ "", 0600, -EINVAL, "empty (expected one line: the bearer "
		    "token)" },
		{ " \n\t\n", 0600, -EINVAL, "empty" },
		{ "two words\n", 0600, -EINVAL, "byte 4: expected a bearer "
		    "token" },
		{ "a=b\n", 0600, -EINVAL, "byte 3: expected" },
		{ "line1\nline2\n", 0600, -EINVAL, "byte 6: expected" },
		{ "0123456789abcdef0123456789", 0600, -E2BIG, "longer than 15 "
		    "bytes" },
	};
	char path[64], tok[16], err[256];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		token_file(path, cases[i].text, cases[i].mode);
		rc = ctl_token_read(path, tok, sizeof(tok), err, sizeof(err));
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0) {
			CU_ASSERT_STRING_EQUAL(tok, cases[i].tok_or_err);
		} else {
			CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].tok_or_err));
			CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
			CU_ASSERT_EQUAL(tok[0], '\0');	/* wiped */
		}
		if (rc != cases[i].rc)
			fprintf(stderr, "\n  case %zu: %d %s\n", i, rc, err);
		unlink(path);
	}
	CU_ASSERT_EQUAL(ctl_token_read("/nonexistent/token", tok, sizeof(tok),
	    err, sizeof(err)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/token: No such file or "
	    "directory");
	CU_ASSERT_EQUAL(ctl_token_read("/tmp", tok, sizeof(tok), err,
	    sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "/tmp: not a regular file");
}

/* stub_handler - the daemon test's handler: answers its ctx (a name)
 * and the path */
static void
stub_handler(void *ctx, const char *method, const char *path,
    const char *body, size_t len, struct ctl_http_reply *out)
{
	char buf[256];

	(void)method;
	(void)body;
	(void)len;
	snprintf(buf, sizeof(buf), "%s %s", (const char *)ctx, path);
	out->status = 200;
	out->content_type = "text/plain";
	out->body = strdup(buf);
	out->len = strlen(buf);
}

/* http_get - one HTTP/1.0 GET to 127.9.0.3:port with an Authorization
 * header when @p auth; the whole answer in @p buf */
static void
http_get(unsigned port, const char *path, const char *auth, char *buf,
    size_t buflen)
{
	struct sockaddr_in sin;
	char req[512];
	size_t n = 0;
	ssize_t r;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(0x7f090003);
	buf[0] = '\0';
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n%s%s%s\r\n", path,
	    auth != NULL ? "Authorization: " : "", auth != NULL ? auth : "",
	    auth != NULL ? "\r\n" : "");
	CU_ASSERT_EQUAL((size_t)write(fd, req, strlen(req)), strlen(req));
	while (n + 1 < buflen && (r = read(fd, buf + n, buflen - n - 1)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
}

/* free_port - a port 127.9.0.3 can bind now */
static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f090003);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	return ntohs(sin.sin_port);
}

/* a real daemon: the web hook takes / and /ui/..., the bearer token
 * guards every path, a non-loopback address needs any_peer */
static void
test_http_daemon(void)
{
	struct ctl_http_conf hc;
	struct ctl_http *h;
	char addr[64], err[256], buf[2048];
	unsigned port = free_port();

	memset(&hc, 0, sizeof(hc));
	snprintf(addr, sizeof(addr), "127.9.0.3:%u", port);
	hc.addr = addr;
	hc.api = stub_handler;
	hc.api_ctx = (void *)(uintptr_t)"api";
	hc.web_ctx = (void *)(uintptr_t)"web";
	h = ctl_http_start(&hc, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	http_get(port, "/", NULL, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\napi /"));
	ctl_http_stop(h);

	hc.web = stub_handler;
	hc.token = "s3cr3t";
	CU_ASSERT_PTR_NOT_NULL_FATAL(h = ctl_http_start(&hc, err,
	    sizeof(err)));
	http_get(port, "/", "Bearer s3cr3t", buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\nweb /"));
	http_get(port, "/ui/app.js", "bearer   s3cr3t", buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\nweb /ui/app.js"));
	http_get(port, "/v1/health", "BEARER s3cr3t", buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\napi /v1/health"));
	http_get(port, "/uix", "Bearer s3cr3t", buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\napi /uix"));
	http_get(port, "/v1/health", NULL, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf + 8, " 401 ", 5), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WWW-Authenticate: Bearer "
	    "realm=\"mxsim\"\r\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "api /"));
	http_get(port, "/v1/health", "Bearer s3cr3", buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf + 8, " 401 ", 5), 0);
	http_get(port, "/v1/health", "Bearer s3cr3tt", buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf + 8, " 401 ", 5), 0);
	http_get(port, "/metrics", "Basic czNjcjN0", buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf + 8, " 401 ", 5), 0);
	/* the dashboard's files hold no data: no token needed */
	http_get(port, "/", NULL, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\nweb /"));
	http_get(port, "/ui/dash.js", "Bearer wrong", buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\n\r\nweb /ui/dash.js"));
	http_get(port, "/uix", NULL, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf + 8, " 401 ", 5), 0);
	ctl_http_stop(h);

	/* an empty token, a non-loopback address without any_peer */
	hc.token = "";
	CU_ASSERT_PTR_NULL(ctl_http_start(&hc, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "an empty bearer token");
	hc.token = NULL;
	hc.addr = "198.18.0.1:8025";
	CU_ASSERT_PTR_NULL(ctl_http_start(&hc, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a loopback address"));
}

int
test_ctl_api_register(void)
{
	CU_pSuite s = CU_add_suite("ctl_api", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "limits: good bodies", test_limits_good) == NULL ||
	    CU_add_test(s, "limits: bad bodies", test_limits_bad) == NULL ||
	    CU_add_test(s, "limits: round trip", test_limits_roundtrip) ==
	    NULL ||
	    CU_add_test(s, "world clone", test_world_clone) == NULL ||
	    CU_add_test(s, "reads, 404, 405", test_api_reads) == NULL ||
	    CU_add_test(s, "PATCH limits", test_api_limits) == NULL ||
	    CU_add_test(s, "limits: README keys = schema keys",
	    test_limits_doc) == NULL ||
	    CU_add_test(s, "limits: every README key through PATCH and GET",
	    test_api_limits_doc) == NULL ||
	    CU_add_test(s, "outage", test_api_outage) == NULL ||
	    CU_add_test(s, "reputation and metrics", test_api_reputation) ==
	    NULL ||
	    CU_add_test(s, "backend interface", test_api_backend) == NULL ||
	    CU_add_test(s, "http addresses", test_http_addr) == NULL ||
	    CU_add_test(s, "http peers", test_http_peer) == NULL ||
	    CU_add_test(s, "postmaster", test_api_postmaster) == NULL ||
	    CU_add_test(s, "dashboard figures", test_api_dash) == NULL ||
	    CU_add_test(s, "v1, old paths, route list, document, reals",
	    test_api_v1) == NULL ||
	    CU_add_test(s, "token file", test_token_read) == NULL ||
	    CU_add_test(s, "reals, shortest", test_json_reals) == NULL ||
	    CU_add_test(s, "http daemon: web hook, bearer token",
	    test_http_daemon) == NULL)
		return -1;
	return 0;
}
