/*
 * DESCRIPTION
 *	The policy and reputation engine.  A decision runs four groups of
 *	checks, each only for the reply kinds the profile enables, each at
 *	the stage the profile gives it (or the stage its facts define):
 *
 *	  1. stateless: outage, blocklist, conn.messages, size, rcpts.too_many,
 *	     user.unknown;
 *	  2. the (provider, IP) entry, under its lock: conn.limit, conn.rate,
 *	     reputation.block/temp, warmup, daily_cap, rate.ip; an accepted
 *	     connect or message is counted in the same lock hold;
 *	  3. the (provider, sender domain) entry, likewise: auth.block,
 *	     auth.missing, reputation.block/temp, daily_cap, rate.domain; if
 *	     it refuses a message group 2 already counted, that count is
 *	     rolled back;
 *	  4. the (provider, recipient) entries: rate.recipient at RCPT, and
 *	     the per-recipient count of an accepted message.
 *
 *	Reputation is a score per IP and per domain that falls by the
 *	profile's penalties (unknown users, failed authentication, rate
 *	limits hit, volume spikes) and recovers linearly with simulated time.
 *
 * DIAGNOSTICS
 *	An out-of-range profile index aborts (broken invariant).  A full
 *	state table makes the identity untracked: checks that need its
 *	counters do not fire, and sim_state counts the event.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "sim_policy.h"

#define HOUR_MS		3600000.0
#define DAY_MS		86400000ULL

/* A rate group: which reply kinds answer for windows of one identity. */
struct rate_group {
	enum sim_rk	 rate_rk;	/* rate.ip or rate.domain */
	const struct prof_rate *lim;
};

static bool	at(const struct prof_profile *, enum sim_rk, enum sim_stage);
static double	rep_now(const struct prof_reputation *, const struct sim_entry *,
		    const struct sim_wnow *);
static void	rep_penalize(const struct prof_reputation *, struct sim_entry *,
		    const struct sim_wnow *, double);
static bool	fire(struct sim_verdict *, enum sim_rk, uint64_t);
static bool	check_stateless(const struct prof_world *,
		    const struct prof_profile *, enum sim_stage,
		    const struct sim_facts *, const struct sim_wnow *, struct sim_verdict *);
static bool	check_rep(const struct prof_profile *, enum sim_stage, double,
		    struct sim_verdict *);
static bool	check_rates(const struct prof_profile *, enum sim_stage,
		    const struct sim_entry *, const struct rate_group *,
		    const struct sim_facts *, const struct sim_wnow *, struct sim_verdict *);
static bool	check_ip(const struct prof_world *, const struct prof_profile *,
		    struct sim_state *, enum sim_stage, const struct sim_facts *,
		    const struct sim_wnow *, struct sim_verdict *, bool *);
static bool	check_domain(const struct prof_world *,
		    const struct prof_profile *, struct sim_state *,
		    enum sim_stage, const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *, bool *);
static bool	check_rcpt(const struct prof_profile *, struct sim_state *,
		    enum sim_stage, const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *);
static void	count_message(struct sim_entry *, const struct sim_facts *,
		    const struct sim_wnow *, int32_t);
static void	penalize(const struct prof_profile *, struct sim_state *,
		    enum sim_key_kind, const struct sim_facts *, const struct sim_wnow *,
		    double);
static bool	spike(const struct prof_reputation *, const struct sim_entry *,
		    const struct sim_wnow *);
static bool	needs_entry(const struct prof_profile *, const enum sim_rk *,
		    size_t, enum sim_stage);

/* Kinds answered from the (provider, IP) and (provider, domain) entries. */
static const enum sim_rk ip_kinds[] = {
	SIM_RK_REP_BLOCK, SIM_RK_REP_TEMP, SIM_RK_WARMUP, SIM_RK_DAILY_CAP,
	SIM_RK_RATE_IP
};
static const enum sim_rk domain_kinds[] = {
	SIM_RK_AUTH_BLOCK, SIM_RK_AUTH_MISSING, SIM_RK_REP_BLOCK,
	SIM_RK_REP_TEMP, SIM_RK_DAILY_CAP, SIM_RK_RATE_DOMAIN
};

/* at - is kind rk enabled and answered at this stage */
static bool
at(const struct prof_profile *p, enum sim_rk rk, enum sim_stage stage)
{
	return p->replies[rk].enabled && p->replies[rk].stage == stage;
}

/* rep_now - reputation score brought forward to now */
static double
rep_now(const struct prof_reputation *r, const struct sim_entry *e,
    const struct sim_wnow *wn)
{
	double score;

	if (e == NULL || e->rep < 0)
		return r->initial;
	score = e->rep;
	if (wn->ms > e->rep_ms)
		score += r->recover_per_hour * (double)(wn->ms - e->rep_ms) /
		    HOUR_MS;
	return score > r->max ? r->max : score;
}

/* rep_penalize - lower a score by amount (not below 0) */
static void
rep_penalize(const struct prof_reputation *r, struct sim_entry *e,
    const struct sim_wnow *wn, double amount)
{
	double score = rep_now(r, e, wn) - amount;

	e->rep = score < 0 ? 0 : score;
	e->rep_ms = wn->ms;
}

/* fire - set the verdict; always true */
static bool
fire(struct sim_verdict *v, enum sim_rk rk, uint64_t limit)
{
	v->rk = rk;
	v->limit = limit;
	return true;
}

/* check_stateless - checks that need no counters */
static bool
check_stateless(const struct prof_world *w, const struct prof_profile *p,
    enum sim_stage stage, const struct sim_facts *f, const struct sim_wnow *wn,
    struct sim_verdict *v)
{
	const struct prof_limits *l = &p->limits;

	if (at(p, SIM_RK_OUTAGE, stage) && wn->ms < p->outage_until_ms)
		return fire(v, SIM_RK_OUTAGE, 0);
	if (at(p, SIM_RK_BLOCKLIST, stage) &&
	    prof_world_blocklisted(w, f->client_ip))
		return fire(v, SIM_RK_BLOCKLIST, 0);
	if (at(p, SIM_RK_CONN_MESSAGES, stage) && l->msgs_per_conn != 0 &&
	    f->msgs_in_conn >= l->msgs_per_conn)
		return fire(v, SIM_RK_CONN_MESSAGES, l->msgs_per_conn);
	if (p->replies[SIM_RK_SIZE].enabled && l->max_size != 0 &&
	    (stage == SIM_STAGE_MAIL || stage == SIM_STAGE_EOD) &&
	    f->size > l->max_size)
		return fire(v, SIM_RK_SIZE, l->max_size);
	if (stage != SIM_STAGE_RCPT)
		return false;
	if (p->replies[SIM_RK_RCPTS_TOO_MANY].enabled && l->rcpts_per_msg != 0 &&
	    f->rcpts_in_txn >= l->rcpts_per_msg)
		return fire(v, SIM_RK_RCPTS_TOO_MANY, l->rcpts_per_msg);
	if (p->replies[SIM_RK_USER_UNKNOWN].enabled && f->rcpt != NULL &&
	    prof_world_rcpt_unknown(w, f->rcpt))
		return fire(v, SIM_RK_USER_UNKNOWN, 0);
	return false;
}

/* check_rep - reputation thresholds of one score */
static bool
check_rep(const struct prof_profile *p, enum sim_stage stage, double score,
    struct sim_verdict *v)
{
	if (at(p, SIM_RK_REP_BLOCK, stage) && score < p->rep.block_below)
		return fire(v, SIM_RK_REP_BLOCK, 0);
	if (at(p, SIM_RK_REP_TEMP, stage) && score < p->rep.temp_below)
		return fire(v, SIM_RK_REP_TEMP, 0);
	return false;
}

/* check_rates - message/recipient windows of one identity */
static bool
check_rates(const struct prof_profile *p, enum sim_stage stage,
    const struct sim_entry *e, const struct rate_group *g,
    const struct sim_facts *f, const struct sim_wnow *wn, struct sim_verdict *v)
{
	bool rate_here = at(p, g->rate_rk, stage);
	bool cap_here = at(p, SIM_RK_DAILY_CAP, stage);
	bool cap_on = p->replies[SIM_RK_DAILY_CAP].enabled;
	uint32_t max, n, extra;
	enum sim_rk rk;
	int wi;

	if (!rate_here && !cap_here)
		return false;
	/* recipients this decision would add to the window */
	extra = stage == SIM_STAGE_RCPT ? f->rcpts_in_txn + 1 :
	    stage == SIM_STAGE_EOD ? (uint32_t)f->nrcpts : 1;
	for (wi = 0; wi < SIM_WIN__COUNT; wi++) {
		rk = wi == SIM_WIN_DAY && cap_on ? SIM_RK_DAILY_CAP :
		    g->rate_rk;
		if (!at(p, rk, stage))
			continue;
		max = g->lim->messages.max[wi];
		if (max != 0 && sim_win_count_at(&e->msgs[wi], wi, wn) >= max)
			return fire(v, rk, max);
		if ((max = g->lim->recipients.max[wi]) == 0)
			continue;
		n = sim_win_count_at(&e->rcpts[wi], wi, wn);
		if (stage == SIM_STAGE_MAIL ? n >= max : n + extra > max)
			return fire(v, rk, max);
	}
	return false;
}

/* count_message - add (or roll back) one message to an entry's windows */
static void
count_message(struct sim_entry *e, const struct sim_facts *f, const struct sim_wnow *wn,
    int32_t sign)
{
	int wi;

	for (wi = 0; wi < SIM_WIN__COUNT; wi++) {
		sim_win_add_at(&e->msgs[wi], wi, wn, sign);
		sim_win_add_at(&e->rcpts[wi], wi, wn, sign * (int32_t)f->nrcpts);
	}
}

/* spike - did this message push the minute volume over the spike line
 * (spike_min, and spike_factor x the hour's average per minute)?  True
 * once per crossing, so a burst costs pen_spike once, not per message. */
static bool
spike(const struct prof_reputation *r, const struct sim_entry *e,
    const struct sim_wnow *wn)
{
	double minute, hour_avg, line;

	if (r->pen_spike <= 0 || r->spike_factor <= 0)
		return false;
	minute = sim_win_count_at(&e->msgs[SIM_WIN_MINUTE], SIM_WIN_MINUTE, wn);
	hour_avg = sim_win_count_at(&e->msgs[SIM_WIN_HOUR], SIM_WIN_HOUR, wn) /
	    60.0;
	line = r->spike_factor * hour_avg;
	if (line < r->spike_min)
		line = r->spike_min;
	return minute > line && minute - 1 <= line;
}

/* check_ip - checks on the (provider, IP) entry; counts accepted work */
static bool
check_ip(const struct prof_world *w, const struct prof_profile *p,
    struct sim_state *st, enum sim_stage stage, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v, bool *counted)
{
	const struct prof_limits *l = &p->limits;
	struct rate_group g = { SIM_RK_RATE_IP, &l->per_ip };
	struct sim_entry *e;
	uint64_t age_days;
	double allowed;
	bool hit = false;
	int wi;

	(void)w;
	*counted = false;
	if ((e = sim_state_get(st, SIM_KEY_IP, f->prof, f->client_ip, NULL,
	    wn->ms)) == NULL)
		return false;
	if (stage == SIM_STAGE_CONNECT) {
		for (wi = 0; wi < SIM_WIN__COUNT; wi++)
			sim_win_add_at(&e->conn_rate[wi], wi, wn, 1);
		if (p->replies[SIM_RK_CONN_LIMIT].enabled &&
		    l->conns_per_ip != 0 && e->conns >= l->conns_per_ip) {
			hit = fire(v, SIM_RK_CONN_LIMIT, l->conns_per_ip);
			goto out;
		}
		if (p->replies[SIM_RK_CONN_RATE].enabled)
			for (wi = 0; wi < SIM_WIN__COUNT; wi++)
				if (l->conn_rate.max[wi] != 0 &&
				    sim_win_count_at(&e->conn_rate[wi], wi, wn) >
				    l->conn_rate.max[wi]) {
					hit = fire(v, SIM_RK_CONN_RATE,
					    l->conn_rate.max[wi]);
					goto out;
				}
	}
	if ((hit = check_rep(p, stage, rep_now(&p->rep, e, wn), v)))
		goto out;
	if (at(p, SIM_RK_WARMUP, stage) && l->warmup.days != 0) {
		age_days = (wn->ms - e->first_ms) / DAY_MS;
		if (age_days < l->warmup.days) {
			allowed = l->warmup.first_day *
			    pow(l->warmup.growth, (double)age_days);
			if (sim_win_count_at(&e->msgs[SIM_WIN_DAY],
			    SIM_WIN_DAY, wn) >= allowed) {
				hit = fire(v, SIM_RK_WARMUP, (uint64_t)allowed);
				goto out;
			}
		}
	}
	if ((hit = check_rates(p, stage, e, &g, f, wn, v)))
		goto out;
	/* accepted: count it */
	if (stage == SIM_STAGE_CONNECT) {
		e->conns++;
		*counted = true;
	} else if (stage == SIM_STAGE_EOD) {
		count_message(e, f, wn, 1);
		if (spike(&p->rep, e, wn))
			rep_penalize(&p->rep, e, wn, p->rep.pen_spike);
		*counted = true;
	}
out:
	if (hit && v->rk != SIM_RK_CONN_LIMIT && v->rk != SIM_RK_CONN_RATE &&
	    v->rk != SIM_RK_REP_BLOCK && v->rk != SIM_RK_REP_TEMP)
		rep_penalize(&p->rep, e, wn, p->rep.pen_rate);
	sim_state_put(st, e);
	return hit;
}

/* check_domain - checks on the (provider, sender domain) entry */
static bool
check_domain(const struct prof_world *w, const struct prof_profile *p,
    struct sim_state *st, enum sim_stage stage, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v, bool *counted)
{
	struct rate_group g = { SIM_RK_RATE_DOMAIN, &p->limits.per_domain };
	const struct prof_sender *s;
	struct sim_entry *e;
	double score;
	bool unauth, hit = false;

	*counted = false;
	if (f->sender_domain == NULL || stage < SIM_STAGE_MAIL)
		return false;
	if ((e = sim_state_get(st, SIM_KEY_DOMAIN, f->prof, 0,
	    f->sender_domain, wn->ms)) == NULL)
		return false;
	score = rep_now(&p->rep, e, wn);
	s = prof_world_sender(w, f->sender_domain);
	unauth = s->spf != PROF_AUTH_PASS && s->dkim != PROF_AUTH_PASS;
	if (unauth && at(p, SIM_RK_AUTH_BLOCK, stage) &&
	    score < p->rep.block_below) {
		hit = fire(v, SIM_RK_AUTH_BLOCK, 0);
		rep_penalize(&p->rep, e, wn, p->rep.pen_auth_fail);
		goto out;
	}
	if (unauth && at(p, SIM_RK_AUTH_MISSING, stage)) {
		hit = fire(v, SIM_RK_AUTH_MISSING, 0);
		rep_penalize(&p->rep, e, wn, p->rep.pen_auth_fail);
		goto out;
	}
	if ((hit = check_rep(p, stage, score, v)))
		goto out;
	if ((hit = check_rates(p, stage, e, &g, f, wn, v))) {
		rep_penalize(&p->rep, e, wn, p->rep.pen_rate);
		goto out;
	}
	if (stage == SIM_STAGE_EOD) {
		count_message(e, f, wn, 1);
		if (spike(&p->rep, e, wn))
			rep_penalize(&p->rep, e, wn, p->rep.pen_spike);
		*counted = true;
	}
out:
	sim_state_put(st, e);
	return hit;
}

/* check_rcpt - per-recipient rate at RCPT; counts recipients at EOD */
static bool
check_rcpt(const struct prof_profile *p, struct sim_state *st,
    enum sim_stage stage, const struct sim_facts *f, const struct sim_wnow *wn,
    struct sim_verdict *v)
{
	const struct prof_windows *lim = &p->limits.per_recipient;
	struct sim_entry *e;
	size_t i;
	int wi;

	if (!p->replies[SIM_RK_RATE_RECIPIENT].enabled)
		return false;
	if (stage == SIM_STAGE_RCPT && f->rcpt != NULL) {
		if ((e = sim_state_find(st, SIM_KEY_RCPT, f->prof, 0, f->rcpt,
		    wn->ms)) == NULL)
			return false;
		for (wi = 0; wi < SIM_WIN__COUNT; wi++)
			if (lim->max[wi] != 0 && sim_win_count_at(&e->msgs[wi],
			    wi, wn) >= lim->max[wi]) {
				sim_state_put(st, e);
				return fire(v, SIM_RK_RATE_RECIPIENT,
				    lim->max[wi]);
			}
		sim_state_put(st, e);
	} else if (stage == SIM_STAGE_EOD) {
		for (i = 0; i < f->nrcpts; i++) {
			if ((e = sim_state_get(st, SIM_KEY_RCPT, f->prof, 0,
			    f->rcpts[i], wn->ms)) == NULL)
				continue;
			for (wi = 0; wi < SIM_WIN__COUNT; wi++)
				sim_win_add_at(&e->msgs[wi], wi, wn, 1);
			sim_state_put(st, e);
		}
	}
	return false;
}

/* penalize - lower the reputation of the IP or the sender domain */
static void
penalize(const struct prof_profile *p, struct sim_state *st,
    enum sim_key_kind kind, const struct sim_facts *f, const struct sim_wnow *wn,
    double amount)
{
	struct sim_entry *e;

	if (amount <= 0)
		return;
	if (kind == SIM_KEY_DOMAIN && f->sender_domain == NULL)
		return;
	e = sim_state_get(st, kind, f->prof, f->client_ip, f->sender_domain,
	    wn->ms);
	if (e == NULL)
		return;
	rep_penalize(&p->rep, e, wn, amount);
	sim_state_put(st, e);
}

/* needs_entry - must this stage touch an identity's entry at all: a kind
 * of it answers here, or (end of DATA) its counts or spikes matter later */
static bool
needs_entry(const struct prof_profile *p, const enum sim_rk *kinds, size_t n,
    enum sim_stage stage)
{
	size_t i;

	if (stage == SIM_STAGE_EOD && p->rep.pen_spike > 0)
		return true;
	for (i = 0; i < n; i++) {
		if (!p->replies[kinds[i]].enabled)
			continue;
		if (stage == SIM_STAGE_EOD ||
		    p->replies[kinds[i]].stage == stage)
			return true;
	}
	return false;
}

/* sim_policy_decide - the reply kind for a stage */
void
sim_policy_decide(const struct prof_world *w, struct sim_state *st,
    enum sim_stage stage, const struct sim_facts *f, uint64_t now,
    struct sim_verdict *v)
{
	const struct prof_profile *p;
	struct sim_entry *e;
	struct sim_wnow wn;
	bool ip_counted = false, dom_counted = false, need_ip;

	if (f->prof >= w->nprofiles)
		abort();
	p = w->profiles[f->prof];
	v->rk = SIM_RK_ACCEPT;
	v->limit = 0;
	sim_wnow_init(&wn, now);

	if (check_stateless(w, p, stage, f, &wn, v)) {
		if (v->rk == SIM_RK_USER_UNKNOWN) {
			penalize(p, st, SIM_KEY_IP, f, &wn,
			    p->rep.pen_user_unknown);
			penalize(p, st, SIM_KEY_DOMAIN, f, &wn,
			    p->rep.pen_user_unknown);
		}
		return;
	}
	need_ip = needs_entry(p, ip_kinds, sizeof(ip_kinds) /
	    sizeof(ip_kinds[0]), stage) || (stage == SIM_STAGE_CONNECT &&
	    (p->replies[SIM_RK_CONN_LIMIT].enabled ||
	    p->replies[SIM_RK_CONN_RATE].enabled));
	if (need_ip && check_ip(w, p, st, stage, f, &wn, v, &ip_counted))
		return;
	if (needs_entry(p, domain_kinds, sizeof(domain_kinds) /
	    sizeof(domain_kinds[0]), stage) &&
	    check_domain(w, p, st, stage, f, &wn, v, &dom_counted)) {
		if (ip_counted && stage == SIM_STAGE_EOD &&
		    (e = sim_state_get(st, SIM_KEY_IP, f->prof, f->client_ip,
		    NULL, now)) != NULL) {
			count_message(e, f, &wn, -1);
			sim_state_put(st, e);
		}
		if (ip_counted && stage == SIM_STAGE_CONNECT)
			sim_policy_release(w, st, f, now);
		return;
	}
	if (check_rcpt(p, st, stage, f, &wn, v)) {
		penalize(p, st, SIM_KEY_IP, f, &wn, p->rep.pen_rate);
		return;
	}
}

/* sim_policy_release - an accepted connection closed */
void
sim_policy_release(const struct prof_world *w, struct sim_state *st,
    const struct sim_facts *f, uint64_t now)
{
	struct sim_entry *e;

	(void)w;
	e = sim_state_find(st, SIM_KEY_IP, f->prof, f->client_ip, NULL, now);
	if (e == NULL)
		return;
	if (e->conns > 0)
		e->conns--;
	sim_state_put(st, e);
}

/* sim_policy_reputation - current score of an identity */
double
sim_policy_reputation(const struct prof_world *w, struct sim_state *st,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t now)
{
	const struct prof_profile *p;
	struct sim_entry *e;
	struct sim_wnow wn;
	double score;

	if (prof >= w->nprofiles)
		abort();
	p = w->profiles[prof];
	if ((e = sim_state_find(st, kind, prof, ip, str, now)) == NULL)
		return p->rep.initial;
	sim_wnow_init(&wn, now);
	score = rep_now(&p->rep, e, &wn);
	sim_state_put(st, e);
	return score;
}

/* sim_policy_set_reputation - force the score of an identity */
int
sim_policy_set_reputation(const struct prof_world *w, struct sim_state *st,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t now, double score)
{
	const struct prof_profile *p;
	struct sim_entry *e;

	if (prof >= w->nprofiles)
		return -EINVAL;
	p = w->profiles[prof];
	if ((e = sim_state_get(st, kind, prof, ip, str, now)) == NULL)
		return -ENOMEM;
	e->rep = score < 0 ? 0 : score > p->rep.max ? p->rep.max : score;
	e->rep_ms = now;
	sim_state_put(st, e);
	return 0;
}
