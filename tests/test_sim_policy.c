/*
 * Tests of sim_policy: every check fires at its limit and only when its
 * reply kind is enabled, windows slide with the simulated clock,
 * reputation falls with penalties and recovers with time, refusals
 * roll back what an earlier identity counted, and an accepted message's
 * verdict carries its complaints, seeds, reputation and placement.
 * Escalation ladders: the sustained-pressure form (escalate.hours) climbs
 * only for a sender pushing for hours, never for a burst that drains;
 * rate-limited and per-recipient refusals cost no reputation; refusals
 * carry the scores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim_place.h"
#include "sim_policy.h"
#include "test_suites.h"

#define MIN	60000ULL
#define HOUR	3600000ULL
#define DAY	86400000ULL
#define T0	(20000ULL * DAY)	/* a day boundary */
#define IP1	0x7f000a01u
#define IP2	0x7f000a02u

struct fx {
	struct prof_world *w;
	struct prof_profile *p;
	struct sim_state *st;
};

static void	fx_init(struct fx *);
static void	fx_free(struct fx *);
static enum sim_rk decide(struct fx *, enum sim_stage, uint32_t,
		    const char *, const char *, uint64_t);
static enum sim_rk decide_v(struct fx *, enum sim_stage, uint32_t,
		    const char *, const char *, uint64_t, struct sim_verdict *);
static enum sim_rk send_msg(struct fx *, uint32_t, const char *,
		    const char *, uint64_t);
static void	rep_model(struct fx *);

/* fx_init - one profile "t" on 127.1.0.0/24, nothing enabled */
static void
fx_init(struct fx *f)
{
	struct prof_sender *s;

	f->w = prof_world_new();
	f->p = prof_profile_new("t");
	CU_ASSERT_FATAL(f->w != NULL && f->p != NULL);
	CU_ASSERT_FATAL(prof_world_add_profile(f->w, f->p) == 0);
	CU_ASSERT_FATAL(prof_world_add_block(f->w, 0x7f010000, 24, 0) == 0);
	f->w->senders = calloc(1, sizeof(*f->w->senders));
	s = &f->w->senders[0];
	s->domain = strdup("unauth.example");
	s->spf = PROF_AUTH_FAIL;
	s->dkim = PROF_AUTH_NONE;
	f->w->nsenders = 1;
	f->w->unknown_rcpts = calloc(1, sizeof(char *));
	f->w->unknown_rcpts[0] = strdup("unknown*@*");
	f->w->nunknown_rcpts = 1;
	f->st = sim_state_new(4096, 2 * DAY);
	CU_ASSERT_FATAL(f->st != NULL);
}

/* fx_free - free a fixture */
static void
fx_free(struct fx *f)
{
	sim_state_free(f->st);
	prof_world_free(f->w);
}

/* decide - one decision with the usual facts */
static enum sim_rk
decide(struct fx *f, enum sim_stage stage, uint32_t ip, const char *domain,
    const char *rcpt, uint64_t now)
{
	struct sim_verdict v;

	return decide_v(f, stage, ip, domain, rcpt, now, &v);
}

/* decide_v - decide() keeping the whole verdict in v */
static enum sim_rk
decide_v(struct fx *f, enum sim_stage stage, uint32_t ip, const char *domain,
    const char *rcpt, uint64_t now, struct sim_verdict *v)
{
	struct sim_facts fa;
	const char *rcpts[1] = { rcpt };

	memset(&fa, 0, sizeof(fa));
	fa.prof = 0;
	fa.mx_ip = 0x7f010001;
	fa.client_ip = ip;
	fa.sender_domain = domain;
	fa.rcpt = stage == SIM_STAGE_RCPT ? rcpt : NULL;
	if (stage == SIM_STAGE_EOD && rcpt != NULL) {
		fa.rcpts = rcpts;
		fa.nrcpts = 1;
	}
	sim_policy_decide(f->w, f->st, stage, &fa, now, v);
	return v->rk;
}

/* send_msg - MAIL, RCPT, EOD; the first refusal, or ACCEPT */
static enum sim_rk
send_msg(struct fx *f, uint32_t ip, const char *domain, const char *rcpt,
    uint64_t now)
{
	enum sim_rk rk;

	if ((rk = decide(f, SIM_STAGE_MAIL, ip, domain, NULL, now)) !=
	    SIM_RK_ACCEPT)
		return rk;
	if ((rk = decide(f, SIM_STAGE_RCPT, ip, domain, rcpt, now)) !=
	    SIM_RK_ACCEPT)
		return rk;
	return decide(f, SIM_STAGE_EOD, ip, domain, rcpt, now);
}

/* per-IP minute limit at end of DATA, then the window slides */
static void
test_rate_ip(void)
{
	struct fx f;
	int i;

	fx_init(&f);
	f.p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 3;
	prof_set_reply(f.p, SIM_RK_RATE_IP, 421, "4.7.28", "x", SIM_STAGE_EOD);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + i),
		    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 10),
	    SIM_RK_RATE_IP);
	CU_ASSERT_EQUAL(send_msg(&f, IP2, "a.example", "u@t", T0 + 10),
	    SIM_RK_ACCEPT);	/* another IP has its own budget */
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 2 * MIN),
	    SIM_RK_ACCEPT);
	fx_free(&f);
}

/* limits.count_refused: refused attempts fill the per-IP windows, so a
 * sender retrying through the minute stays limited the next minute */
static void
test_count_refused(void)
{
	struct fx f;
	int on, i;

	for (on = 0; on <= 1; on++) {
		fx_init(&f);
		f.p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 3;
		f.p->limits.per_ip.messages.max[SIM_WIN_HOUR] = 6;
		f.p->limits.count_refused = (uint32_t)on;
		prof_set_reply(f.p, SIM_RK_RATE_IP, 421, "", "x",
		    SIM_STAGE_MAIL);
		for (i = 0; i < 3; i++)
			CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t",
			    T0 + i), SIM_RK_ACCEPT);
		for (i = 0; i < 3; i++)	/* three retries, refused */
			CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t",
			    T0 + 10 + i), SIM_RK_RATE_IP);
		/* a minute later: the hour holds 6 attempts when they
		 * count, 3 messages when not */
		CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t",
		    T0 + 2 * MIN), on ? SIM_RK_RATE_IP : SIM_RK_ACCEPT);
		fx_free(&f);
	}
}

/* ehlo - an EHLO decision from ip with name */
static enum sim_rk
ehlo(struct fx *f, uint32_t ip, const char *name, uint64_t now)
{
	struct sim_facts fa;
	struct sim_verdict v;

	memset(&fa, 0, sizeof(fa));
	fa.mx_ip = 0x7f010001;
	fa.client_ip = ip;
	fa.helo = name;
	sim_policy_decide(f->w, f->st, SIM_STAGE_EHLO, &fa, now, &v);
	return v.rk;
}

/* limits.helo_names_per_ip: distinct EHLO names per client IP in an
 * hour; the same name again is free, another IP has its own count */
static void
test_helo_names(void)
{
	struct fx f;

	fx_init(&f);
	f.p->limits.helo_names.max[SIM_WIN_HOUR] = 2;
	prof_set_reply(f.p, SIM_RK_HELO_CHANGES, 421, "", "x",
	    SIM_STAGE_EHLO);
	CU_ASSERT_EQUAL(ehlo(&f, IP1, "a.example", T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(ehlo(&f, IP1, "a.example", T0 + 1), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(ehlo(&f, IP1, "b.example", T0 + 2), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(ehlo(&f, IP1, "a.example", T0 + 3), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(ehlo(&f, IP1, "c.example", T0 + 4),
	    SIM_RK_HELO_CHANGES);
	CU_ASSERT_EQUAL(ehlo(&f, IP2, "c.example", T0 + 5), SIM_RK_ACCEPT);
	/* two hours later the names are forgotten */
	CU_ASSERT_EQUAL(ehlo(&f, IP1, "d.example", T0 + 2 * HOUR),
	    SIM_RK_ACCEPT);
	fx_free(&f);
}

/* the day window answers daily_cap when that kind is enabled */
static void
test_daily_cap(void)
{
	struct fx f;
	int i;

	fx_init(&f);
	f.p->limits.per_ip.messages.max[SIM_WIN_DAY] = 5;
	prof_set_reply(f.p, SIM_RK_RATE_IP, 421, "4.7.28", "x", SIM_STAGE_MAIL);
	prof_set_reply(f.p, SIM_RK_DAILY_CAP, 550, "5.4.5", "x",
	    SIM_STAGE_MAIL);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t",
		    T0 + (uint64_t)i * HOUR), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 20 * HOUR),
	    SIM_RK_DAILY_CAP);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 2 * DAY),
	    SIM_RK_ACCEPT);
	fx_free(&f);
}

/* per sender domain across IPs, answered at MAIL */
static void
test_rate_domain(void)
{
	struct fx f;

	fx_init(&f);
	f.p->limits.per_domain.messages.max[SIM_WIN_HOUR] = 2;
	prof_set_reply(f.p, SIM_RK_RATE_DOMAIN, 421, "4.7.28", "x",
	    SIM_STAGE_MAIL);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "d.example", "u@t", T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP2, "d.example", "u@t", T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "d.example", NULL, T0),
	    SIM_RK_RATE_DOMAIN);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "e.example", NULL, T0),
	    SIM_RK_ACCEPT);
	fx_free(&f);
}

/* unauthenticated: deferred, and blocked once the domain's score is gone */
static void
test_auth(void)
{
	struct fx f;
	int i;

	fx_init(&f);
	f.p->rep.initial = 80;
	f.p->rep.block_below = 15;
	f.p->rep.temp_below = 40;
	f.p->rep.pen_auth_fail = 10;
	prof_set_reply(f.p, SIM_RK_AUTH_MISSING, 421, "4.7.26", "x",
	    SIM_STAGE_EOD);
	prof_set_reply(f.p, SIM_RK_AUTH_BLOCK, 550, "5.7.26", "x",
	    SIM_STAGE_EOD);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "auth.example", "u@t", T0),
	    SIM_RK_ACCEPT);
	for (i = 0; i < 7; i++)	/* 80 -> 10 */
		CU_ASSERT_EQUAL(send_msg(&f, IP1, "unauth.example", "u@t", T0),
		    SIM_RK_AUTH_MISSING);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "unauth.example", "u@t", T0),
	    SIM_RK_AUTH_BLOCK);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "auth.example", "u@t", T0),
	    SIM_RK_ACCEPT);
	fx_free(&f);
}

/* unknown users cost reputation: accept -> temp -> block -> recovery */
static void
test_reputation(void)
{
	struct fx f;
	int i;

	fx_init(&f);
	f.p->rep.initial = 80;
	f.p->rep.max = 100;
	f.p->rep.temp_below = 40;
	f.p->rep.block_below = 15;
	f.p->rep.recover_per_hour = 5;
	f.p->rep.pen_user_unknown = 10;
	prof_set_reply(f.p, SIM_RK_USER_UNKNOWN, 550, "5.1.1", "x",
	    SIM_STAGE_RCPT);
	prof_set_reply(f.p, SIM_RK_REP_TEMP, 421, "4.7.0", "x", SIM_STAGE_MAIL);
	prof_set_reply(f.p, SIM_RK_REP_BLOCK, 550, "5.7.1", "x",
	    SIM_STAGE_MAIL);
	for (i = 0; i < 4; i++)	/* 80 -> 40 */
		CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_RCPT, IP1, "a.example",
		    "unknown7@t", T0), SIM_RK_USER_UNKNOWN);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "b.example", NULL, T0),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_RCPT, IP1, "a.example",
	    "unknown7@t", T0), SIM_RK_USER_UNKNOWN);	/* 30 */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "b.example", NULL, T0),
	    SIM_RK_REP_TEMP);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_RCPT, IP1, "a.example",
	    "unknown7@t", T0), SIM_RK_USER_UNKNOWN);	/* 20 */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_RCPT, IP1, "a.example",
	    "unknown7@t", T0), SIM_RK_USER_UNKNOWN);	/* 10 */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "b.example", NULL, T0),
	    SIM_RK_REP_BLOCK);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    IP1, NULL, T0), 10.0, 1e-9);
	/* five hours later: 35 -> temp; eight hours: 50 -> accept */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "b.example", NULL,
	    T0 + 5 * HOUR), SIM_RK_REP_TEMP);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP1, "b.example", NULL,
	    T0 + 8 * HOUR), SIM_RK_ACCEPT);
	/* another IP was never penalized for its own sake */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP2, "b.example", NULL, T0),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(sim_policy_set_reputation(f.w, f.st, SIM_KEY_IP, 0, IP2,
	    NULL, T0, 5.0), 0);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_MAIL, IP2, "b.example", NULL, T0),
	    SIM_RK_REP_BLOCK);
	fx_free(&f);
}

/* concurrent connections per IP, released on close; connection rate */
static void
test_connections(void)
{
	struct fx f;
	struct sim_facts fa;

	fx_init(&f);
	f.p->limits.conns_per_ip = 2;
	f.p->limits.conn_rate.max[SIM_WIN_MINUTE] = 4;
	prof_set_reply(f.p, SIM_RK_CONN_LIMIT, 421, "4.3.2", "x",
	    SIM_STAGE_CONNECT);
	prof_set_reply(f.p, SIM_RK_CONN_RATE, 421, "4.7.0", "x",
	    SIM_STAGE_CONNECT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_CONN_LIMIT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP2, NULL, NULL, T0),
	    SIM_RK_ACCEPT);
	memset(&fa, 0, sizeof(fa));
	fa.client_ip = IP1;
	sim_policy_release(f.w, f.st, &fa, T0);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_ACCEPT);	/* 4th attempt this minute */
	sim_policy_release(f.w, f.st, &fa, T0);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_CONN_RATE);	/* 5th attempt > 4 per minute */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL,
	    T0 + 3 * MIN), SIM_RK_ACCEPT);
	fx_free(&f);
}

/* recipients per message, per-recipient rate, size, blocklist */
static void
test_stateless_and_rcpt(void)
{
	struct fx f;
	struct sim_facts fa;
	struct sim_verdict v;

	fx_init(&f);
	f.p->limits.rcpts_per_msg = 2;
	f.p->limits.max_size = 1000;
	f.p->limits.per_recipient.max[SIM_WIN_MINUTE] = 2;
	f.w->blocklist = calloc(1, sizeof(*f.w->blocklist));
	f.w->blocklist[0].addr = 0x7f004200;
	f.w->blocklist[0].mask = 0xffffff00;
	f.w->nblocklist = 1;
	prof_set_reply(f.p, SIM_RK_RCPTS_TOO_MANY, 452, "4.5.3", "x",
	    SIM_STAGE_RCPT);
	prof_set_reply(f.p, SIM_RK_RATE_RECIPIENT, 450, "4.2.1", "x",
	    SIM_STAGE_RCPT);
	prof_set_reply(f.p, SIM_RK_SIZE, 552, "5.3.4", "x", SIM_STAGE_MAIL);
	prof_set_reply(f.p, SIM_RK_BLOCKLIST, 553, "5.7.1", "x",
	    SIM_STAGE_CONNECT);

	memset(&fa, 0, sizeof(fa));
	fa.client_ip = IP1;
	fa.rcpt = "a@t";
	fa.rcpts_in_txn = 2;
	sim_policy_decide(f.w, f.st, SIM_STAGE_RCPT, &fa, T0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_RCPTS_TOO_MANY);
	CU_ASSERT_EQUAL(v.limit, 2);

	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "hot@t", T0),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP2, "b.example", "hot@t", T0),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "hot@t", T0),
	    SIM_RK_RATE_RECIPIENT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "cold@t", T0),
	    SIM_RK_ACCEPT);

	memset(&fa, 0, sizeof(fa));
	fa.client_ip = IP1;
	fa.size = 1001;
	sim_policy_decide(f.w, f.st, SIM_STAGE_MAIL, &fa, T0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_SIZE);
	CU_ASSERT_EQUAL(v.limit, 1000);
	sim_policy_decide(f.w, f.st, SIM_STAGE_EOD, &fa, T0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_SIZE);
	fa.size = 1000;
	sim_policy_decide(f.w, f.st, SIM_STAGE_MAIL, &fa, T0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_ACCEPT);

	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, 0x7f004207, NULL, NULL,
	    T0), SIM_RK_BLOCKLIST);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, 0x7f004307, NULL, NULL,
	    T0), SIM_RK_ACCEPT);
	fx_free(&f);
}

/* a new IP may send first_day x growth^day messages per day */
static void
test_warmup(void)
{
	struct fx f;

	fx_init(&f);
	f.p->limits.warmup.days = 3;
	f.p->limits.warmup.first_day = 2;
	f.p->limits.warmup.growth = 2.0;
	prof_set_reply(f.p, SIM_RK_WARMUP, 451, "4.7.500", "x", SIM_STAGE_MAIL);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 1),
	    SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 2),
	    SIM_RK_WARMUP);
	/* day 1 (window fully new at +2 days' start): up to 4 */
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 2 * DAY),
	    SIM_RK_ACCEPT);
	/* after the ramp: no limit */
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "u@t", T0 + 5 * DAY),
	    SIM_RK_ACCEPT);
	fx_free(&f);
}

/* a burst above the spike line costs pen_spike once per crossing */
static void
test_spike(void)
{
	struct fx f;
	int i;

	fx_init(&f);
	f.p->rep.initial = 80;
	f.p->rep.max = 100;
	f.p->rep.pen_spike = 5;
	f.p->rep.spike_factor = 4;
	f.p->rep.spike_min = 30;
	for (i = 0; i < 30; i++)
		send_msg(&f, IP1, "s.example", "u@t", T0 + (uint64_t)i);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    IP1, NULL, T0 + 40), 80.0, 1e-9);
	for (i = 30; i < 60; i++)
		send_msg(&f, IP1, "s.example", "u@t", T0 + (uint64_t)i);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    IP1, NULL, T0 + 60), 75.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_DOMAIN,
	    0, 0, "s.example", T0 + 60), 75.0, 1e-9);
	fx_free(&f);
}

/* an outage refuses connections until its end, then lets them in */
static void
test_outage(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_ACCEPT);
	f.p->outage_until_ms = T0 + 5 * MIN;
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0 + 1),
	    SIM_RK_OUTAGE);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP2, NULL, NULL,
	    T0 + 5 * MIN - 1), SIM_RK_OUTAGE);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL,
	    T0 + 5 * MIN), SIM_RK_ACCEPT);
	fx_free(&f);
}

/* limits whose reply kind is not enabled never fire */
static void
test_disabled(void)
{
	struct fx f;
	int i;

	fx_init(&f);
	f.p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 1;
	f.p->limits.conns_per_ip = 1;
	for (i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL,
		    T0), SIM_RK_ACCEPT);
		CU_ASSERT_EQUAL(send_msg(&f, IP1, "unauth.example",
		    "unknown1@t", T0), SIM_RK_ACCEPT);
	}
	fx_free(&f);
}

/* a domain refusal at EOD rolls back the IP's count */
static void
test_rollback(void)
{
	struct fx f;

	fx_init(&f);
	f.p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 2;
	f.p->limits.per_domain.messages.max[SIM_WIN_MINUTE] = 1;
	prof_set_reply(f.p, SIM_RK_RATE_IP, 421, "4.7.28", "x", SIM_STAGE_EOD);
	prof_set_reply(f.p, SIM_RK_RATE_DOMAIN, 421, "4.7.28", "y",
	    SIM_STAGE_EOD);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "d.example", "u@t", T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "d.example", "u@t", T0),
	    SIM_RK_RATE_DOMAIN);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "e.example", "u@t", T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "f.example", "u@t", T0),
	    SIM_RK_RATE_IP);
	fx_free(&f);
}

/* eod - end of DATA for three recipients; the whole verdict */
static void
eod(struct fx *f, const char *domain, uint64_t size, uint64_t now,
    struct sim_verdict *v)
{
	static const char *const rcpts[] = {
		"seed1@t", "u@t", "seed22@t"
	};
	struct sim_facts fa;

	memset(&fa, 0, sizeof(fa));
	fa.mx_ip = 0x7f010001;
	fa.client_ip = IP1;
	fa.sender_domain = domain;
	fa.rcpts = rcpts;
	fa.nrcpts = 3;
	fa.size = size;
	sim_policy_decide(f->w, f->st, SIM_STAGE_EOD, &fa, now, v);
}

/* add_rule - a placement rule on the complaint model, always applying */
static void
add_rule(struct prof_profile *p, const char *name, uint32_t when,
    uint8_t status, double rate)
{
	struct sim_place_rule *r = &p->place.rules[p->place.nrules++];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->when = when;
	r->comp_status = status;
	r->comp_rate = rate;
	r->place = SIM_PLACE_SPAM;
	r->chance = 1;
}

/* an accepted message's verdict: complaints by the day's schedule, seed
 * recipients, reputation after the decision, placement; none of it on a
 * refusal */
static void
test_eod_verdict(void)
{
	struct prof_sender *s;
	struct sim_verdict v;
	struct fx f;

	fx_init(&f);
	f.w->start_ms = T0;
	f.w->seeds = calloc(1, sizeof(char *));
	f.w->seeds[0] = strdup("seed*@*");
	f.w->nseeds = 1;
	f.w->senders = realloc(f.w->senders, 2 * sizeof(*f.w->senders));
	s = &f.w->senders[1];
	memset(s, 0, sizeof(*s));
	s->domain = strdup("c.example");
	s->spf = s->dkim = PROF_AUTH_PASS;
	s->complaint_rate = 1.0;
	s->complaint_steps[0].day = 2;
	s->complaint_steps[0].rate = 0;
	s->ncomplaint_steps = 1;
	f.w->nsenders = 2;

	/* no placement section, no reputation model: inbox, scores 100 */
	eod(&f, "a.example", 100, T0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(v.placement, SIM_PLACE_INBOX);
	CU_ASSERT_EQUAL(v.category, 0);
	CU_ASSERT_EQUAL(v.place_rules, 0);
	CU_ASSERT_EQUAL(v.complaints, 0);
	CU_ASSERT_EQUAL(v.nseeds, 2);
	CU_ASSERT_DOUBLE_EQUAL(v.ip_rep, 100, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, 100, 1e-9);
	eod(&f, NULL, 100, T0, &v);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, -1, 1e-9);
	/* every recipient complains on days 0 and 1, nobody from day 2 */
	eod(&f, "c.example", 100, T0 + DAY + HOUR, &v);
	CU_ASSERT_EQUAL(v.complaints, 3);
	eod(&f, "c.example", 100, T0 + 2 * DAY, &v);
	CU_ASSERT_EQUAL(v.complaints, 0);
	/* the authentication the policy used: the declared facts */
	CU_ASSERT_EQUAL(v.spf, SIM_AUTH_PASS);
	CU_ASSERT_EQUAL(v.dkim, SIM_AUTH_PASS);
	CU_ASSERT_EQUAL(v.dmarc, SIM_AUTH_NONE);

	/* the reputation after the decision: an unknown user cost 10 */
	f.p->rep.pen_user_unknown = 10;
	prof_set_reply(f.p, SIM_RK_USER_UNKNOWN, 550, "5.1.1", "x",
	    SIM_STAGE_RCPT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_RCPT, IP1, "a.example",
	    "unknown1@t", T0), SIM_RK_USER_UNKNOWN);
	eod(&f, "a.example", 100, T0, &v);
	CU_ASSERT_DOUBLE_EQUAL(v.ip_rep, 90, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, 90, 1e-9);

	/* a refusal at end of DATA: no placement, the scores that held */
	f.p->limits.max_size = 10;
	prof_set_reply(f.p, SIM_RK_SIZE, 552, "5.3.4", "x", SIM_STAGE_EOD);
	eod(&f, "c.example", 100, T0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_SIZE);
	CU_ASSERT_EQUAL(v.placement, SIM_PLACE_NONE);
	CU_ASSERT_EQUAL(v.spf, SIM_AUTH_PASS);	/* refused, still reported */
	CU_ASSERT_EQUAL(v.complaints, 0);
	CU_ASSERT_EQUAL(v.nseeds, 0);
	CU_ASSERT_DOUBLE_EQUAL(v.ip_rep, 90, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, 100, 1e-9);

	/* complaints cost the IP and the sender domain score (penalties.
	 * complaint, per complaining recipient): 3 complaints x 4 = 12 */
	f.p->limits.max_size = 0;
	f.p->rep.pen_complaint = 4;
	eod(&f, "c.example", 100, T0 + DAY + 2 * HOUR, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(v.complaints, 3);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, 100 - 12, 1e-9);
	fx_free(&f);
}

/* placement from the organizational domain's complaint tally: today's
 * rate, then the block, the holding days and recovery */
static void
test_eod_placement(void)
{
	struct prof_sender *s;
	struct sim_verdict v;
	struct fx f;
	int d;

	fx_init(&f);
	f.w->start_ms = T0;
	f.w->senders = realloc(f.w->senders, 2 * sizeof(*f.w->senders));
	s = &f.w->senders[1];
	memset(s, 0, sizeof(*s));
	s->domain = strdup("c.example");
	s->spf = s->dkim = PROF_AUTH_PASS;
	s->complaint_steps[0].day = 0;
	s->complaint_steps[0].rate = 1.0;
	s->complaint_steps[1].day = 1;
	s->complaint_steps[1].rate = 0;
	s->ncomplaint_steps = 2;
	f.w->nsenders = 2;
	f.p->rep.complaints.block_rate = 0.5;
	f.p->rep.complaints.recovery_days = 3;
	add_rule(f.p, "blocked", SIM_PLACE_C_COMP_STATUS,
	    1u << SIM_PLACE_COMP_BLOCK, 0);
	add_rule(f.p, "holding", SIM_PLACE_C_COMP_STATUS,
	    1u << SIM_PLACE_COMP_HOLDING, 0);
	add_rule(f.p, "rate", SIM_PLACE_C_COMP_RATE, 0, 0.5);
	/* the rate is per recipient: 3 complaints in 3 recipients is 1.0,
	 * never above (per message it would read 3.0) */
	add_rule(f.p, "above_one", SIM_PLACE_C_COMP_RATE, 0, 1.5);

	/* a clean sender is filed in the inbox */
	eod(&f, "a.example", 100, T0, &v);
	CU_ASSERT_EQUAL(v.placement, SIM_PLACE_INBOX);
	CU_ASSERT_EQUAL(v.place_rules, 0);
	/* day 0: every recipient complains: today's rate files it as spam */
	eod(&f, "c.example", 100, T0 + HOUR, &v);
	CU_ASSERT_EQUAL(v.complaints, 3);
	CU_ASSERT_EQUAL(v.placement, SIM_PLACE_SPAM);
	CU_ASSERT_EQUAL(v.place_rules, 0x4u);
	/* day 1: no complaints, but yesterday blocked the domain */
	eod(&f, "c.example", 100, T0 + DAY + HOUR, &v);
	CU_ASSERT_EQUAL(v.complaints, 0);
	CU_ASSERT_EQUAL(v.placement, SIM_PLACE_SPAM);
	CU_ASSERT_EQUAL(v.place_rules, 0x1u);
	/* days 2 and 3: clean, not yet 3 clean days in a row */
	for (d = 2; d <= 3; d++) {
		eod(&f, "c.example", 100, T0 + (uint64_t)d * DAY + HOUR, &v);
		CU_ASSERT_EQUAL(v.placement, SIM_PLACE_SPAM);
		CU_ASSERT_EQUAL(v.place_rules, 0x2u);
	}
	/* day 4: recovered */
	eod(&f, "c.example", 100, T0 + 4 * DAY + HOUR, &v);
	CU_ASSERT_EQUAL(v.placement, SIM_PLACE_INBOX);
	CU_ASSERT_EQUAL(v.place_rules, 0);
	fx_free(&f);
}

/* Replies to a pushing sender, counted per simulated clock hour. */
struct push_out {
	uint32_t	 accepted;
	uint32_t	 deferred[8];	/* rate.ip, by hour from T0 */
	uint32_t	 blocked[8];	/* rate.block, by hour from T0 */
	uint32_t	 deferred_before;	/* deferrals in the hour of the
						 * first block, before it */
	uint64_t	 first_block;	/* when, 0 = never */
};

/* ladder_fx - Gmail-like per-IP limits (100 a minute, 3000 an hour) at
 * end of DATA, rate.ip -> rate.block after `after` refusals (in each of
 * `hours` hours when set), held a day; rep_model() */
static void
ladder_fx(struct fx *f, uint32_t after, uint32_t hours)
{
	struct prof_escalate *x;

	fx_init(f);
	f->p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 100;
	f->p->limits.per_ip.messages.max[SIM_WIN_HOUR] = 3000;
	prof_set_reply(f->p, SIM_RK_RATE_IP, 421, "4.7.28", "x", SIM_STAGE_EOD);
	prof_set_reply(f->p, SIM_RK_RATE_BLOCK, 550, "5.7.28", "x",
	    SIM_STAGE_EOD);
	x = &f->p->replies[SIM_RK_RATE_IP].esc;
	x->to = SIM_RK_RATE_BLOCK;
	x->after = after;
	x->hours = hours;
	x->days = 1;
	rep_model(f);
}

/* rep_model - scores start at 80 of 100 and do not recover, so any
 * penalty shows; unknown users cost 1 (the model is on) */
static void
rep_model(struct fx *f)
{
	f->p->rep.initial = 80;
	f->p->rep.max = 100;
	f->p->rep.pen_user_unknown = 1;
}

/* attempt - one message at end of DATA; counted into o */
static enum sim_rk
attempt(struct fx *f, uint32_t ip, uint64_t now, struct push_out *o)
{
	enum sim_rk rk = decide(f, SIM_STAGE_EOD, ip, "a.example", "u@t", now);
	unsigned h = (unsigned)((now - T0) / HOUR);

	if (h >= 8)
		h = 7;
	if (rk == SIM_RK_ACCEPT)
		o->accepted++;
	else if (rk == SIM_RK_RATE_IP)
		o->deferred[h]++;
	else if (rk == SIM_RK_RATE_BLOCK) {
		if (o->first_block == 0) {
			o->first_block = now;
			o->deferred_before = o->deferred[h];
		}
		o->blocked[h]++;
	}
	return rk;
}

/* push - a sender that keeps pushing: `per_sec` messages a second from
 * `ip` over [from, to), whatever the replies */
static void
push(struct fx *f, uint32_t ip, uint64_t from, uint64_t to, unsigned per_sec,
    struct push_out *o)
{
	uint64_t t;
	unsigned i;

	for (t = from; t < to; t += 1000)
		for (i = 0; i < per_sec; i++)
			attempt(f, ip, t + i, o);
}

/* burst - 1,000 messages from IP1 retried every 5 minutes from 00:55:30
 * until delivered (a sender honouring deferrals; the queue drains in
 * under an hour, across a clock hour); @return the minutes it took */
static unsigned
burst(struct fx *f, struct push_out *o)
{
	uint64_t t = T0 + 55 * MIN + 30000;
	unsigned pending = 1000, n, i, rounds = 0;

	while (pending > 0 && rounds < 30) {
		for (n = pending, i = 0; i < n; i++)
			if (attempt(f, IP1, t + i, o) == SIM_RK_ACCEPT)
				pending--;
		t += 5 * MIN;
		rounds++;
	}
	return pending == 0 ? rounds * 5 : 0;
}

/* a burst that drains within an hour never reaches the block of an
 * hourly ladder; the same burst against a per-day ladder does */
static void
test_ladder_burst(void)
{
	struct push_out o;
	struct fx f;
	unsigned took;

	ladder_fx(&f, 50, 3);
	memset(&o, 0, sizeof(o));
	took = burst(&f, &o);
	CU_ASSERT(took > 0 && took <= 60);
	CU_ASSERT_EQUAL(o.accepted, 1000);
	CU_ASSERT(o.deferred[0] >= 50 && o.deferred[1] >= 50);	/* 2 hours */
	CU_ASSERT_EQUAL(o.first_block, 0);
	/* thousands of rate-limited replies cost the IP and domain nothing */
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    IP1, NULL, T0 + 2 * HOUR), 80, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_DOMAIN,
	    0, 0, "a.example", T0 + 2 * HOUR), 80, 1e-9);
	fx_free(&f);

	ladder_fx(&f, 50, 0);	/* per day: the 51st deferral blocks */
	memset(&o, 0, sizeof(o));
	burst(&f, &o);
	CU_ASSERT_NOT_EQUAL(o.first_block, 0);
	CU_ASSERT_EQUAL(o.deferred_before, 50);
	fx_free(&f);
}

/* a sender refused >= after in each of 3 hours in a row is blocked in
 * the third, right after its after-th refusal there; the block holds
 * to the end of the ladder's days */
static void
test_ladder_sustained(void)
{
	struct push_out o;
	struct fx f;
	struct sim_verdict v;

	ladder_fx(&f, 50, 3);
	memset(&o, 0, sizeof(o));
	push(&f, IP1, T0, T0 + 4 * HOUR, 4, &o);
	CU_ASSERT(o.deferred[0] >= 50 && o.deferred[1] >= 50);
	CU_ASSERT_EQUAL(o.blocked[0], 0);
	CU_ASSERT_EQUAL(o.blocked[1], 0);
	CU_ASSERT(o.first_block >= T0 + 2 * HOUR &&
	    o.first_block < T0 + 3 * HOUR);
	CU_ASSERT_EQUAL(o.deferred_before, 50);
	CU_ASSERT_EQUAL(o.deferred[3], 0);	/* held all the next hour */
	CU_ASSERT(o.blocked[3] > 0);
	/* a quiet evening: still blocked; the next day: accepted */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_EOD, IP1, "a.example", "u@t",
	    T0 + 20 * HOUR), SIM_RK_RATE_BLOCK);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_EOD, IP1, "a.example", "u@t",
	    T0 + DAY + HOUR), SIM_RK_ACCEPT);
	/* another IP was never part of it */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_EOD, IP2, "a.example", "u@t",
	    T0 + 20 * HOUR), SIM_RK_ACCEPT);
	/* neither the deferrals nor the block cost reputation, and the
	 * refusal's verdict carries the scores */
	CU_ASSERT_EQUAL(decide_v(&f, SIM_STAGE_EOD, IP1, "a.example", NULL,
	    T0 + 21 * HOUR, &v), SIM_RK_RATE_BLOCK);
	CU_ASSERT_DOUBLE_EQUAL(v.ip_rep, 80, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, 80, 1e-9);
	fx_free(&f);
}

/* an hour without pressure -- idle, or fewer than `after` refusals --
 * ends the run: it starts again from one */
static void
test_ladder_streak_broken(void)
{
	struct push_out o, l;
	struct fx f;
	unsigned i;

	ladder_fx(&f, 50, 3);
	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	/* IP1 pushes in hours 0, 1, 3, 4, 5 (hour 2 idle); IP2 likewise,
	 * but in hour 2 sends 110 at once: 100 accepted, 10 deferred */
	push(&f, IP1, T0, T0 + 2 * HOUR, 4, &o);
	push(&f, IP2, T0, T0 + 2 * HOUR, 4, &l);
	for (i = 0; i < 110; i++)
		attempt(&f, IP2, T0 + 2 * HOUR + 30 * MIN + i, &l);
	CU_ASSERT_EQUAL(l.deferred[2], 10);
	push(&f, IP1, T0 + 3 * HOUR, T0 + 5 * HOUR, 4, &o);
	push(&f, IP2, T0 + 3 * HOUR, T0 + 5 * HOUR, 4, &l);
	CU_ASSERT_EQUAL(o.first_block, 0);
	CU_ASSERT_EQUAL(l.first_block, 0);
	CU_ASSERT(o.deferred[3] >= 50 && o.deferred[4] >= 50);
	/* the third hour of the new run blocks */
	push(&f, IP1, T0 + 5 * HOUR, T0 + 6 * HOUR, 4, &o);
	push(&f, IP2, T0 + 5 * HOUR, T0 + 6 * HOUR, 4, &l);
	CU_ASSERT(o.first_block >= T0 + 5 * HOUR);
	CU_ASSERT(l.first_block >= T0 + 5 * HOUR);
	CU_ASSERT_EQUAL(o.deferred_before, 50);
	CU_ASSERT_EQUAL(l.deferred_before, 50);
	fx_free(&f);
}

/* per-recipient refusals (and their ladder) are about the recipient:
 * hundreds of retries leave the client IP and the sender domain as
 * they were, and every refusal's verdict carries the scores */
static void
test_rcpt_costs_nothing(void)
{
	struct fx f;
	struct sim_verdict v;
	unsigned i, refused = 0;
	enum sim_rk rk;

	fx_init(&f);
	rep_model(&f);
	f.p->rep.temp_below = 79.5;
	f.p->rep.block_below = 15;
	f.p->limits.per_recipient.max[SIM_WIN_MINUTE] = 2;
	f.p->limits.conn_rate.max[SIM_WIN_MINUTE] = 1000;
	prof_set_reply(f.p, SIM_RK_RATE_RECIPIENT, 421, "4.2.1", "x",
	    SIM_STAGE_RCPT);
	prof_set_reply(f.p, SIM_RK_RATE_RCPT_BLOCK, 550, "5.2.1", "x",
	    SIM_STAGE_RCPT);
	f.p->replies[SIM_RK_RATE_RECIPIENT].esc.to = SIM_RK_RATE_RCPT_BLOCK;
	f.p->replies[SIM_RK_RATE_RECIPIENT].esc.after = 50;
	prof_set_reply(f.p, SIM_RK_REP_TEMP, 421, "4.7.0", "x",
	    SIM_STAGE_CONNECT);
	prof_set_reply(f.p, SIM_RK_CONN_RATE, 421, "4.7.0", "x",
	    SIM_STAGE_CONNECT);
	for (i = 0; i < 400; i++) {
		rk = send_msg(&f, IP1, "a.example", "hot@t", T0 + i * 1000);
		refused += rk == SIM_RK_RATE_RECIPIENT ||
		    rk == SIM_RK_RATE_RCPT_BLOCK;
	}
	CU_ASSERT(refused >= 325);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "hot@t", T0 + 401000),
	    SIM_RK_RATE_RCPT_BLOCK);	/* the recipient's ladder climbed */
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    IP1, NULL, T0 + 402000), 80, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_DOMAIN,
	    0, 0, "a.example", T0 + 402000), 80, 1e-9);
	/* the IP still connects and mails another recipient */
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL,
	    T0 + 402000), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "a.example", "cold@t", T0 + 402000),
	    SIM_RK_ACCEPT);
	/* a refused RCPT carries the IP and domain scores */
	CU_ASSERT_EQUAL(decide_v(&f, SIM_STAGE_RCPT, IP1, "a.example", "hot@t",
	    T0 + 403000, &v), SIM_RK_RATE_RCPT_BLOCK);
	CU_ASSERT_DOUBLE_EQUAL(v.ip_rep, 80, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, 80, 1e-9);
	/* a refused connection: the IP's score, no domain */
	f.p->rep.pen_user_unknown = 5;
	prof_set_reply(f.p, SIM_RK_USER_UNKNOWN, 550, "5.1.1", "x",
	    SIM_STAGE_RCPT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_RCPT, IP1, "a.example",
	    "unknown1@t", T0 + 404000), SIM_RK_USER_UNKNOWN);
	CU_ASSERT_EQUAL(decide_v(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL,
	    T0 + 405000, &v), SIM_RK_REP_TEMP);
	CU_ASSERT_DOUBLE_EQUAL(v.ip_rep, 75, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(v.domain_rep, -1, 1e-9);
	fx_free(&f);
}

/* warm-up deferrals, the daily cap, connection limits and the domain
 * rate cost nothing */
static void
test_limits_cost_nothing(void)
{
	struct fx f;
	unsigned i, refused = 0;
	enum sim_rk rk;

	fx_init(&f);
	rep_model(&f);
	f.p->limits.warmup.days = 3;
	f.p->limits.warmup.first_day = 5;
	f.p->limits.warmup.growth = 2.0;
	f.p->limits.per_domain.messages.max[SIM_WIN_MINUTE] = 3;
	f.p->limits.conns_per_ip = 1;
	prof_set_reply(f.p, SIM_RK_WARMUP, 451, "4.7.500", "x", SIM_STAGE_MAIL);
	prof_set_reply(f.p, SIM_RK_RATE_DOMAIN, 421, "4.7.28", "x",
	    SIM_STAGE_EOD);
	prof_set_reply(f.p, SIM_RK_CONN_LIMIT, 421, "4.7.0", "x",
	    SIM_STAGE_CONNECT);
	CU_ASSERT_EQUAL(decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0),
	    SIM_RK_ACCEPT);
	for (i = 0; i < 200; i++) {
		rk = decide(&f, SIM_STAGE_CONNECT, IP1, NULL, NULL, T0 + i);
		refused += rk == SIM_RK_CONN_LIMIT;
		rk = send_msg(&f, IP1, "a.example", "u@t", T0 + i * 100);
		refused += rk == SIM_RK_WARMUP || rk == SIM_RK_RATE_DOMAIN;
	}
	CU_ASSERT(refused >= 390);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    IP1, NULL, T0 + HOUR), 80, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_DOMAIN,
	    0, 0, "a.example", T0 + HOUR), 80, 1e-9);
	fx_free(&f);
}

/* decide6 - one decision for an IPv6 client keyed by its /prefix and
 * /48, as the session fills the facts (issue 16) */
static enum sim_rk
decide6(struct fx *f, enum sim_stage stage, const char *addr, unsigned prefix,
    const char *domain, const char *rcpt, uint64_t now)
{
	char key[SIM_ADDR_TEXT_MAX], net[SIM_ADDR_TEXT_MAX];
	const char *rcpts[1] = { rcpt };
	struct sim_addr6 a = test_a6(addr);
	struct sim_verdict v;
	struct sim_facts fa;

	memset(&fa, 0, sizeof(fa));
	fa.client6 = &a;
	fa.client_key = sim_addr6_key(&a, prefix, key, sizeof(key));
	fa.netblock_key = sim_addr6_key(&a, 48, net, sizeof(net));
	fa.sender_domain = domain;
	fa.rcpt = stage == SIM_STAGE_RCPT ? rcpt : NULL;
	if (stage == SIM_STAGE_EOD && rcpt != NULL) {
		fa.rcpts = rcpts;
		fa.nrcpts = 1;
	}
	sim_policy_decide(f->w, f->st, stage, &fa, now, &v);
	return v.rk;
}

/* send6 - MAIL, RCPT, EOD from an IPv6 client */
static enum sim_rk
send6(struct fx *f, const char *addr, unsigned prefix, const char *domain,
    const char *rcpt, uint64_t now)
{
	enum sim_rk rk;

	if ((rk = decide6(f, SIM_STAGE_MAIL, addr, prefix, domain, NULL,
	    now)) != SIM_RK_ACCEPT ||
	    (rk = decide6(f, SIM_STAGE_RCPT, addr, prefix, domain, rcpt,
	    now)) != SIM_RK_ACCEPT)
		return rk;
	return decide6(f, SIM_STAGE_EOD, addr, prefix, domain, rcpt, now);
}

/* IPv6 clients share the per-IP and netblock counts of their network,
 * and never share them with an IPv4 client (whose address is 0 here) */
static void
test_ipv6_keying(void)
{
	struct fx f;

	fx_init(&f);
	f.p->limits.per_ip.messages.max[SIM_WIN_HOUR] = 2;
	f.p->limits.per_netblock.messages.max[SIM_WIN_HOUR] = 3;
	prof_set_reply(f.p, SIM_RK_RATE_IP, 421, "4.7.28", "x", SIM_STAGE_MAIL);
	prof_set_reply(f.p, SIM_RK_RATE_NETBLOCK, 421, "4.7.28", "x",
	    SIM_STAGE_MAIL);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:16:1::a", 64, "a.example", "u@t",
	    T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:16:1::b", 64, "a.example", "u@t",
	    T0 + 1), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:16:1::c", 64, "a.example", "u@t",
	    T0 + 2), SIM_RK_RATE_IP);	/* one /64: one sender */
	/* keyed by /128, the same address is a new sender */
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:16:1::c", 128, "a.example", "u@t",
	    T0 + 3), SIM_RK_ACCEPT);
	/* another /64 of the /48: its own IP count, the /48's fourth */
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:16:2::1", 64, "a.example", "u@t",
	    T0 + 4), SIM_RK_RATE_NETBLOCK);
	/* IPv4 0.0.0.0 and 0.0.0.0/24 are other identities */
	CU_ASSERT_EQUAL(send_msg(&f, 0, "a.example", "u@t", T0 + 5),
	    SIM_RK_ACCEPT);
	CU_ASSERT_DOUBLE_EQUAL(sim_policy_reputation(f.w, f.st, SIM_KEY_IP, 0,
	    0, "2001:db8:16:1::/64", T0 + 6), f.p->rep.initial, 1e-9);
	fx_free(&f);
}

/* the IPv6 rules fire for IPv6 clients only, each where the profile
 * answers it; ipv6.ptr stands in for ptr.missing */
static void
test_ipv6_rules(void)
{
	struct fx f;

	fx_init(&f);
	f.w->rdns6 = calloc(1, sizeof(*f.w->rdns6));
	CU_ASSERT_FATAL(f.w->rdns6 != NULL);
	f.w->rdns6[0].addr.b[0] = 0x20;		/* 2001:db8:17::/64 */
	f.w->rdns6[0].addr.b[1] = 0x01;
	f.w->rdns6[0].addr.b[2] = 0x0d;
	f.w->rdns6[0].addr.b[3] = 0xb8;
	f.w->rdns6[0].addr.b[5] = 0x17;
	f.w->rdns6[0].prefix = 64;
	f.w->rdns6[0].state = PROF_RDNS_NONE;
	f.w->nrdns6 = 1;
	f.w->ipv4_only = calloc(1, sizeof(char *));
	f.w->ipv4_only[0] = strdup("*@v4.example");
	f.w->nipv4_only = 1;
	prof_set_reply(f.p, SIM_RK_PTR_MISSING, 451, "4.7.23", "x",
	    SIM_STAGE_MAIL);
	prof_set_reply(f.p, SIM_RK_IPV6_PTR, 550, "5.7.25", "x",
	    SIM_STAGE_RCPT);
	prof_set_reply(f.p, SIM_RK_IPV6_REFUSED, 550, "5.7.510", "x",
	    SIM_STAGE_RCPT);
	prof_set_reply(f.p, SIM_RK_IPV6_AUTH, 451, "4.7.26", "x",
	    SIM_STAGE_EOD);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:17::1", 64, "a.example", "u@t",
	    T0), SIM_RK_IPV6_PTR);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:18::1", 64, "a.example",
	    "u@v4.example", T0), SIM_RK_IPV6_REFUSED);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:18::1", 64, "unauth.example",
	    "u@t", T0), SIM_RK_IPV6_AUTH);
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:18::1", 64, "a.example", "u@t",
	    T0), SIM_RK_ACCEPT);
	CU_ASSERT_EQUAL(send_msg(&f, IP1, "unauth.example", "u@v4.example",
	    T0), SIM_RK_ACCEPT);		/* IPv4: none of them */
	f.p->replies[SIM_RK_IPV6_PTR].enabled = false;
	CU_ASSERT_EQUAL(send6(&f, "2001:db8:17::1", 64, "a.example", "u@t",
	    T0), SIM_RK_PTR_MISSING);
	/* an IPv6 blocklist entry answers blocklist, for that block only */
	f.w->blocklist6 = calloc(1, sizeof(*f.w->blocklist6));
	CU_ASSERT_FATAL(f.w->blocklist6 != NULL);
	f.w->blocklist6[0].addr = test_a6("2001:db8:66::");
	f.w->blocklist6[0].prefix = 48;
	f.w->nblocklist6 = 1;
	prof_set_reply(f.p, SIM_RK_BLOCKLIST, 554, "5.7.1", "x",
	    SIM_STAGE_CONNECT);
	CU_ASSERT_EQUAL(decide6(&f, SIM_STAGE_CONNECT, "2001:db8:66:1::1", 64,
	    NULL, NULL, T0), SIM_RK_BLOCKLIST);
	CU_ASSERT_EQUAL(decide6(&f, SIM_STAGE_CONNECT, "2001:db8:18::1", 64,
	    NULL, NULL, T0), SIM_RK_ACCEPT);
	fx_free(&f);
}

int
test_sim_policy_register(void)
{
	CU_pSuite s = CU_add_suite("sim_policy", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "rate per IP", test_rate_ip) == NULL ||
	    CU_add_test(s, "refused attempts counted",
	    test_count_refused) == NULL ||
	    CU_add_test(s, "distinct EHLO names per IP",
	    test_helo_names) == NULL ||
	    CU_add_test(s, "daily cap", test_daily_cap) == NULL ||
	    CU_add_test(s, "rate per domain", test_rate_domain) == NULL ||
	    CU_add_test(s, "authentication", test_auth) == NULL ||
	    CU_add_test(s, "reputation", test_reputation) == NULL ||
	    CU_add_test(s, "connections", test_connections) == NULL ||
	    CU_add_test(s, "recipients, size, blocklist",
	    test_stateless_and_rcpt) == NULL ||
	    CU_add_test(s, "warm-up", test_warmup) == NULL ||
	    CU_add_test(s, "volume spike", test_spike) == NULL ||
	    CU_add_test(s, "outage", test_outage) == NULL ||
	    CU_add_test(s, "disabled kinds", test_disabled) == NULL ||
	    CU_add_test(s, "roll-back", test_rollback) == NULL ||
	    CU_add_test(s, "end-of-DATA verdict", test_eod_verdict) == NULL ||
	    CU_add_test(s, "placement by complaints",
	    test_eod_placement) == NULL ||
	    CU_add_test(s, "hourly ladder: a draining burst",
	    test_ladder_burst) == NULL ||
	    CU_add_test(s, "hourly ladder: sustained pressure",
	    test_ladder_sustained) == NULL ||
	    CU_add_test(s, "hourly ladder: a broken run",
	    test_ladder_streak_broken) == NULL ||
	    CU_add_test(s, "per-recipient refusals cost nothing",
	    test_rcpt_costs_nothing) == NULL ||
	    CU_add_test(s, "rate limits cost nothing",
	    test_limits_cost_nothing) == NULL ||
	    CU_add_test(s, "IPv6 keyed by prefix", test_ipv6_keying) == NULL ||
	    CU_add_test(s, "IPv6 rules", test_ipv6_rules) == NULL)
		return -1;
	return 0;
}
