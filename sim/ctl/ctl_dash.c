/*
 * DESCRIPTION
 *	The dashboard's figures (see ctl_dash.h).  GET /senders takes the
 *	identities from the Postmaster view's rows of the day (the state
 *	table keeps hashes, not names), sorts and de-duplicates them, then
 *	reads each one's state entry (sim_state_find(), copied under its
 *	stripe lock).  The state the next message meets is the first of:
 *	a held block of an escalation ladder (tally.hold_rk, until
 *	tally.hold_day), a reputation below block_below, then below
 *	temp_below, then a full message or recipient window of the
 *	profile's per_ip or per_domain lines (the day window answering
 *	daily_cap when the profile has it) -- each only when the profile
 *	answers that kind.
 *	When it ends is found by bisection over the engine's own functions
 *	(sim_win_count(), sim_policy_score()) at later times with no
 *	further mail: a window count never grows and a score never falls
 *	as time passes, so the first time below the line is well defined.
 *
 *	GET /activity sums open connections per provider over the state
 *	table's IP entries (sim_state_foreach()) and lists the deferral and
 *	refusal reasons of the backend's transaction counters
 *	(sim_stats_txn_reasons()) with the profile's reply for each and
 *	when that reply was first sent (nb_first_ms()).
 *
 * DIAGNOSTICS
 *	NULL when out of memory (the route answers 503).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_dash.h"
#include "sim_addr.h"
#include "sim_policy.h"
#include "sim_stats.h"

#define DASH_DAY_MS	86400000ULL
#define DASH_REP_HORIZON_MS (366ULL * DASH_DAY_MS) /* recovery searched */

/* The state the next message of an identity meets. */
struct dash_state {
	int		 rk;		/* reply kind, -1 = ok */
	int		 win;		/* a full window, else -1 */
	bool		 rcpts;		/* ... of recipients, not messages */
	uint32_t	 limit;		/* its line */
	uint64_t	 until_ms;	/* 0: does not end by itself */
};

/* Open connections per provider (the walk's context). */
struct dash_conns {
	size_t		 nprof;
	uint64_t	*open;		/* [nprof] */
};

static int	row_cmp(const void *, const void *);
static bool	same_key(const struct sim_pm_row *, const struct sim_pm_row *);
static long	day_rows(struct sim_pm *, const struct sim_pm_filter *,
		    uint64_t, struct sim_pm_row **);
static bool	find_entry(const struct ctl_dash_src *,
		    const struct sim_pm_row *, uint64_t, struct sim_entry *);
static uint64_t	win_until(const struct sim_win *, enum sim_window, uint32_t,
		    uint64_t);
static uint64_t	rep_until(const struct prof_reputation *,
		    const struct sim_entry *, double, uint64_t);
static void	sender_state(const struct prof_profile *, enum sim_pm_kind,
		    const struct sim_entry *, uint64_t, struct dash_state *);
static json_t	*windows_json(const struct sim_win *, const uint32_t *,
		    uint64_t);
static json_t	*state_json(const struct prof_profile *,
		    const struct dash_state *);
static json_t	*sender_json(const struct ctl_dash_src *,
		    const struct sim_pm_row *, uint64_t);
static void	conns_visit(void *, enum sim_key_kind, uint32_t,
		    const struct sim_entry *);

/* row_cmp - order rows by provider, kind, IP, domain */
static int
row_cmp(const void *a, const void *b)
{
	const struct sim_pm_row *x = a, *y = b;

	if (x->prof != y->prof)
		return x->prof < y->prof ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return strcmp(x->domain, y->domain);
}

/* same_key - two rows of one identity (on different days) */
static bool
same_key(const struct sim_pm_row *x, const struct sim_pm_row *y)
{
	return x->prof == y->prof && x->kind == y->kind && x->ip == y->ip &&
	    strcmp(x->domain, y->domain) == 0;
}

/* day_rows - the rows of the filter's day, or of today and yesterday;
 * their number (-1: out of memory), *out malloc()ed */
static long
day_rows(struct sim_pm *pm, const struct sim_pm_filter *f, uint64_t now,
    struct sim_pm_row **out)
{
	struct sim_pm_filter g = *f;
	struct sim_pm_row *a = NULL, *b = NULL, *all;
	long na, nb;

	*out = NULL;
	if (f->by_day)
		return sim_pm_rows(pm, f, out);
	g.by_day = true;
	g.day = now / DASH_DAY_MS;
	if ((na = sim_pm_rows(pm, &g, &a)) < 0)
		return -1;
	if (g.day == 0) {
		*out = a;
		return na;
	}
	g.day--;
	if ((nb = sim_pm_rows(pm, &g, &b)) < 0 ||
	    (all = realloc(a, (size_t)(na + nb + 1) * sizeof(*a))) == NULL) {
		free(a);
		free(b);
		return -1;
	}
	if (nb > 0)
		memcpy(all + na, b, (size_t)nb * sizeof(*b));
	free(b);
	*out = all;
	return na + nb;
}

/* find_entry - a copy of the identity's state entry; false when it is
 * not tracked */
static bool
find_entry(const struct ctl_dash_src *src, const struct sim_pm_row *r,
    uint64_t now, struct sim_entry *copy)
{
	char key[SIM_ADDR_TEXT_MAX];
	struct sim_addr6 a6;
	struct sim_entry *e;
	unsigned pfx;
	uint32_t ip4;
	bool v6;

	if (r->kind == SIM_PM_DOMAIN)
		e = sim_state_find(src->state, SIM_KEY_DOMAIN, r->prof, 0,
		    r->domain, now);
	else if (r->ip != 0 || r->domain[0] == '\0')
		e = sim_state_find(src->state, SIM_KEY_IP, r->prof, r->ip,
		    NULL, now);
	else if (sim_addr_parse(r->domain, &v6, &ip4, &a6, &pfx) == 0 && v6) {
		/* an IPv6 client: its entry is its network's */
		sim_addr6_key(&a6, src->w->ipv6_prefix, key, sizeof(key));
		e = sim_state_find(src->state, SIM_KEY_IP, r->prof, 0, key,
		    now);
	} else
		e = NULL;
	if (e == NULL)
		return false;
	*copy = *e;
	sim_state_put(src->state, e);
	return true;
}

/* win_until - the first simulated ms at which window @p win of @p w
 * holds fewer than @p limit, with nothing more counted */
static uint64_t
win_until(const struct sim_win *w, enum sim_window win, uint32_t limit,
    uint64_t now)
{
	uint64_t lo = now, hi = now + 2 * sim_window_ms(win), mid;

	/* count(lo) >= limit, count(hi) == 0 < limit */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (sim_win_count(w, win, mid) >= limit)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* rep_until - the first simulated ms at which the score of @p e reaches
 * @p line by recovery alone; 0 when it does not within a year */
static uint64_t
rep_until(const struct prof_reputation *r, const struct sim_entry *e,
    double line, uint64_t now)
{
	uint64_t lo = now, hi = now + DASH_REP_HORIZON_MS, mid;

	if (sim_policy_score(r, e, hi) < line)
		return 0;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (sim_policy_score(r, e, mid) < line)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* sender_state - what the next message of an identity meets (see the
 * file comment for the order) */
static void
sender_state(const struct prof_profile *p, enum sim_pm_kind kind,
    const struct sim_entry *e, uint64_t now, struct dash_state *st)
{
	const struct prof_rate *lim = kind == SIM_PM_IP ? &p->limits.per_ip :
	    &p->limits.per_domain;
	enum sim_rk rate = kind == SIM_PM_IP ? SIM_RK_RATE_IP :
	    SIM_RK_RATE_DOMAIN;
	enum sim_rk temp = kind == SIM_PM_DOMAIN &&
	    p->replies[SIM_RK_REP_DOMAIN_TEMP].enabled ?
	    SIM_RK_REP_DOMAIN_TEMP : SIM_RK_REP_TEMP;
	double score = sim_policy_score(&p->rep, e, now);
	const struct sim_win *w;
	enum sim_rk rk;
	uint32_t max;
	int wi, j;

	memset(st, 0, sizeof(*st));
	st->rk = st->win = -1;
	if (e != NULL && e->tally.hold_rk != 0 &&
	    e->tally.hold_day > now / DASH_DAY_MS &&
	    p->replies[e->tally.hold_rk].enabled) {
		st->rk = e->tally.hold_rk;
		st->until_ms = (uint64_t)e->tally.hold_day * DASH_DAY_MS;
		return;
	}
	if (p->replies[SIM_RK_REP_BLOCK].enabled &&
	    score < p->rep.block_below) {
		st->rk = SIM_RK_REP_BLOCK;
		st->until_ms = rep_until(&p->rep, e, p->rep.block_below, now);
		return;
	}
	if (p->replies[temp].enabled && score < p->rep.temp_below) {
		st->rk = (int)temp;
		st->until_ms = rep_until(&p->rep, e, p->rep.temp_below, now);
		return;
	}
	if (e == NULL)
		return;
	/* as sim_policy.c check_rates: the day window answers daily_cap
	 * when the profile has it; recipients as seen at MAIL FROM */
	for (wi = 0; wi < SIM_WIN__COUNT; wi++) {
		rk = wi == SIM_WIN_DAY && p->replies[SIM_RK_DAILY_CAP].enabled ?
		    SIM_RK_DAILY_CAP : rate;
		if (!p->replies[rk].enabled)
			continue;
		for (j = 0; j < 2; j++) {
			w = j == 0 ? &e->msgs[wi] : &e->rcpts[wi];
			max = j == 0 ? lim->messages.max[wi] :
			    lim->recipients.max[wi];
			if (max == 0 ||
			    sim_win_count(w, (enum sim_window)wi, now) < max)
				continue;
			st->rk = (int)rk;
			st->win = wi;
			st->rcpts = j == 1;
			st->limit = max;
			st->until_ms = win_until(w, (enum sim_window)wi, max,
			    now);
			return;
		}
	}
}

/* windows_json - {"second": {"count": n, "limit": m}, ...} of one
 * counter (limit 0 = none) */
static json_t *
windows_json(const struct sim_win *w, const uint32_t *max, uint64_t now)
{
	json_t *o;
	int wi;

	if ((o = json_object()) == NULL)
		return NULL;
	for (wi = 0; wi < SIM_WIN__COUNT; wi++)
		json_object_set_new(o, sim_window_name((enum sim_window)wi),
		    json_pack("{s:I,s:I}", "count", w == NULL ? (json_int_t)0 :
		    (json_int_t)sim_win_count(&w[wi], (enum sim_window)wi, now),
		    "limit", (json_int_t)max[wi]));
	return o;
}

/* state_json - {"state", "reason", "code", "enhanced", "counter",
 * "window", "limit", "until", "until_ms"} */
static json_t *
state_json(const struct prof_profile *p, const struct dash_state *st)
{
	const struct prof_reply *r;
	char iso[32];

	if (st->rk < 0)
		return json_pack("{s:s,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}",
		    "state", "ok", "reason", "code", "enhanced", "counter",
		    "window", "limit", "until", "until_ms");
	r = &p->replies[st->rk];
	return json_pack("{s:s,s:s,s:i,s:s?,s:s?,s:s?,s:o,s:s?,s:o}",
	    "state", r->code >= 500 ? "blocked" : "deferred",
	    "reason", sim_kind_info((enum sim_rk)st->rk)->name,
	    "code", (int)r->code,
	    "enhanced", r->enhanced[0] != '\0' ? r->enhanced : NULL,
	    "counter", st->win < 0 ? NULL : st->rcpts ? "recipients" :
	    "messages",
	    "window", st->win < 0 ? NULL :
	    sim_window_name((enum sim_window)st->win),
	    "limit", st->win < 0 ? json_null() :
	    json_integer((json_int_t)st->limit),
	    "until", st->until_ms == 0 ? NULL :
	    sim_clock_iso(st->until_ms, iso, sizeof(iso)),
	    "until_ms", st->until_ms == 0 ? json_null() :
	    json_integer((json_int_t)st->until_ms));
}

/* sender_json - one sending IP or sender domain */
static json_t *
sender_json(const struct ctl_dash_src *src, const struct sim_pm_row *r,
    uint64_t now)
{
	const struct prof_profile *p = src->w->profiles[r->prof];
	const struct prof_rate *lim = r->kind == SIM_PM_IP ?
	    &p->limits.per_ip : &p->limits.per_domain;
	char ip[INET_ADDRSTRLEN];
	struct dash_state st;
	struct sim_entry e;
	struct in_addr a;
	const char *key;
	bool have;
	json_t *o;

	have = find_entry(src, r, now, &e);
	sender_state(p, (enum sim_pm_kind)r->kind, have ? &e : NULL, now, &st);
	key = r->domain;
	if (r->kind == SIM_PM_IP && r->ip != 0) {
		a.s_addr = htonl(r->ip);
		key = inet_ntop(AF_INET, &a, ip, sizeof(ip));
	}
	o = json_pack("{s:s,s:b,s:{s:o*,s:o*},s:{s:f,s:f,s:f,s:f,s:f},s:o*}",
	    "key", key, "tracked", have,
	    "accepted",
	    "messages", windows_json(have ? e.msgs : NULL, lim->messages.max,
	    now),
	    "recipients", windows_json(have ? e.rcpts : NULL,
	    lim->recipients.max, now),
	    "reputation",
	    "score", sim_policy_score(&p->rep, have ? &e : NULL, now),
	    "initial", p->rep.initial, "max", p->rep.max,
	    "temp_below", p->rep.temp_below,
	    "block_below", p->rep.block_below,
	    "state", state_json(p, &st));
	if (o != NULL && r->kind == SIM_PM_IP)
		json_object_set_new(o, "open_connections", json_pack("{s:I,s:I}",
		    "count", have ? (json_int_t)e.conns : (json_int_t)0,
		    "limit", (json_int_t)p->limits.conns_per_ip));
	return o;
}

/* ctl_dash_senders - GET /senders */
json_t *
ctl_dash_senders(const struct ctl_dash_src *src, const struct sim_pm_filter *f)
{
	static const char *const kinds[SIM_PM__KINDS] = { "domains", "ips" };
	const struct prof_world *w = src->w;
	uint64_t now = sim_clock_now(src->clock);
	struct sim_pm_row *rows = NULL;
	json_t *o = NULL, *provs, *prov, *list;
	long n, i;
	char iso[32];
	size_t k;

	if ((n = day_rows(src->pm, f, now, &rows)) < 0 ||
	    (provs = json_object()) == NULL) {
		free(rows);
		return NULL;
	}
	qsort(rows, (size_t)n, sizeof(*rows), row_cmp);
	for (i = 0; i < n; i++) {
		if (rows[i].prof >= w->nprofiles ||
		    (i > 0 && same_key(&rows[i - 1], &rows[i])))
			continue;
		if ((prov = json_object_get(provs,
		    w->profiles[rows[i].prof]->name)) == NULL) {
			prov = json_pack("{s:[],s:[],s:I}", "domains", "ips",
			    "left_out", (json_int_t)0);
			if (prov == NULL || json_object_set_new(provs,
			    w->profiles[rows[i].prof]->name, prov) != 0)
				goto oom;
		}
		list = json_object_get(prov, kinds[rows[i].kind]);
		if (json_array_size(list) >= CTL_DASH_MAX_KEYS) {
			k = (size_t)json_integer_value(json_object_get(prov,
			    "left_out"));
			json_object_set_new(prov, "left_out",
			    json_integer((json_int_t)k + 1));
			continue;
		}
		/* a key that is not UTF-8 is left out by jansson */
		json_array_append_new(list, sender_json(src, &rows[i], now));
	}
	o = json_pack("{s:I,s:s,s:I,s:o}", "sim_ms", (json_int_t)now, "sim",
	    sim_clock_iso(now, iso, sizeof(iso)), "max_keys",
	    (json_int_t)CTL_DASH_MAX_KEYS, "providers", provs);
	free(rows);
	return o;
oom:
	free(rows);
	json_decref(provs);
	return NULL;
}

/* conns_visit - add an IP entry's open connections to its provider */
static void
conns_visit(void *ctx, enum sim_key_kind kind, uint32_t prof,
    const struct sim_entry *e)
{
	struct dash_conns *c = ctx;

	if (kind == SIM_KEY_IP && prof < c->nprof)
		c->open[prof] += e->conns;
}

/* ctl_dash_activity - GET /activity */
json_t *
ctl_dash_activity(const struct ctl_dash_src *src)
{
	struct sim_stats_reason rs[SIM_STATS_MAX_REASONS];
	const struct prof_world *w = src->w;
	const struct prof_reply *rp;
	struct dash_conns c;
	struct sim_stats *s;
	json_t *o = NULL, *provs, *reasons;
	uint64_t now = sim_clock_now(src->clock), first;
	const char *enh;
	unsigned code;
	size_t i, j, n;
	char iso[32];

	c.nprof = w->nprofiles;
	c.open = calloc(w->nprofiles + 1, sizeof(*c.open));
	s = sim_stats_new(w->nprofiles);
	if (c.open == NULL || s == NULL ||
	    (provs = json_object()) == NULL)
		goto out;
	nb_stats(src->be, s);
	sim_state_foreach(src->state, conns_visit, &c);
	for (i = 0; i < w->nprofiles; i++) {
		if ((reasons = json_array()) == NULL)
			break;
		n = sim_stats_txn_reasons(s, i, rs);
		for (j = 0; j < n; j++) {
			rp = &w->profiles[i]->replies[rs[j].rk];
			sim_stats_code(w, i, rs[j].rk, &code, &enh);
			first = nb_first_ms(src->be, i, rs[j].rk);
			json_array_append_new(reasons, json_pack(
			    "{s:s,s:s,s:i,s:s?,s:s?,s:I,s:s?,s:o}",
			    "outcome", sim_stats_outcome_name(rs[j].outcome),
			    "reason", sim_kind_info(rs[j].rk)->name,
			    "code", code, "enhanced", enh[0] != '\0' ? enh :
			    NULL, "text", rp->text, "count",
			    (json_int_t)rs[j].n, "first", first == 0 ? NULL :
			    sim_clock_iso(first, iso, sizeof(iso)), "first_ms",
			    first == 0 ? json_null() :
			    json_integer((json_int_t)first)));
		}
		json_object_set_new(provs, w->profiles[i]->name, json_pack(
		    "{s:I,s:o}", "open_connections", (json_int_t)c.open[i],
		    "reasons", reasons));
	}
	o = json_pack("{s:I,s:I,s:f,s:I,s:o}", "sim_ms", (json_int_t)now,
	    "wall_ms", (json_int_t)sim_clock_wall_ms(), "time_scale",
	    src->clock->scale, "open_connections",
	    (json_int_t)nb_open_conns(src->be), "providers", provs);
out:
	free(c.open);
	sim_stats_free(s);
	return o;
}
