/*
 * DESCRIPTION
 *	One message's transaction in mxload: its start on an established
 *	session (recipient draw, abort plan, header block, DKIM signature,
 *	body generator, how many envelope commands may be written before a
 *	reply), its single outcome (counted in the tally and the per-second
 *	series, and logged to --msg-log), and a planned client abort carried
 *	out (counted, logged "abort" or "unknown", the connection dropped
 *	by RST or close).  With --retry an outcome also settles the
 *	message: delivered, bounced, expired, or queued for its next
 *	attempt (hx_retry.h) on the schedule (hx_sched.h).
 *
 * DIAGNOSTICS
 *	A failing DKIM signature exits mxload with a message (the key was
 *	checked at start); a header block that does not fit aborts (its
 *	inputs are bounded).
 */
#include <sys/socket.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_load_priv.h"
#include "sim_rng.h"

#define HX_LOG_LINE	256	/* one --msg-log line */

static void	txn_final(struct hx_load *, struct hx_conn *, enum hx_final);
static void	txn_settle(struct hx_load *, struct hx_conn *,
		    enum hx_outcome, enum hx_stage, unsigned);

/* hx_txn_begin - start the reserved message on an established session */
void
hx_txn_begin(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	struct hx_msg_hdr h;
	struct sim_rng rng;
	uint64_t size;
	int n, sn;

	if (c->state == HX_CS_READY)
		c->msgs++;
	sim_rng_seed(&rng, cf->seed, c->seq);
	c->user0 = sim_rng_below(&rng, cf->users);
	hx_abort_plan(cf->seed, c->seq, cf->abort_prob, &c->ab);
	if (c->ab.stage != HX_AB_NONE && cf->aborts != NULL)
		cf->aborts->planned++;
	c->body_sent = 0;
	c->rcpt[0] = '\0';
	if (cf->tag_rcpt)
		snprintf(c->rcpt, sizeof(c->rcpt), "m%" PRIu64, c->seq);
	if (c->ab.stage == HX_AB_PRE_MAIL) {
		hx_txn_abort(ld, c);
		return;
	}
	h.seq = c->seq;
	h.seed = cf->seed;
	h.from_domain = cf->from[c->seq % cf->nfrom];
	h.rcpt_local = cf->tag_rcpt ? c->rcpt : cf->rcpt_local;
	h.rcpt_user = c->user0;
	h.rcpt_domain = cf->targets[c->target].rcpt_domain;
	h.helo = cf->helo;
	h.date = ld->date;
	h.from_header = cf->from_header;
	h.list_unsub = cf->list_unsub;
	n = hx_msg_header(c->hdr, sizeof(c->hdr), &h);
	if (n < 0)
		abort();	/* bounded inputs always fit */
	size = cf->size;
	if (cf->dkim != NULL) {
		/* d= is the header From domain; the body stays the same */
		sn = hx_msg_sign(cf->dkim, cf->dkim_key, cf->from_header != NULL ?
		    cf->from_header : h.from_domain, cf->dkim_selector, c->hdr,
		    sizeof(c->hdr), (size_t)n, cf->size);
		if (sn < 0) {
			fprintf(stderr, "mxload: DKIM signing: %s\n",
			    strerror(-sn));
			exit(1);
		}
		size += (uint64_t)(sn - n);
		n = sn;
	}
	hx_msg_start(&c->msg, c->hdr, (size_t)n, size);
	c->env_sent = c->env_replied = 0;
	/* A mid-RCPT abort sends MAIL alone and reads its reply, so that
	 * every MAIL reply mxsim sends is read: then the first RCPT */
	c->env_allowed = (c->flags & HX_CF_PIPE) &&
	    c->ab.stage != HX_AB_MID_RCPT ? cf->rcpts + 2 : 1;
	c->rcpt_ok = c->rcpt_fail = 0;
	c->flags &= ~HX_CF_EODSENT;
	hx_conn_state(ld, c, HX_CS_ENVELOPE);
	(void)hx_out_pump(ld, c);
}

/* hx_txn_decide - give the reserved message its outcome, once; stage and
 * code of the deciding reply (code 0: none) go to the message log */
void
hx_txn_decide(struct hx_load *ld, struct hx_conn *c, enum hx_outcome o,
    enum hx_stage stage, unsigned code)
{
	static const char *const names[HX_OUT_COUNT] = {
		"accepted", "deferred", "rejected", "error"
	};

	if (!(c->flags & HX_CF_INMSG))
		return;
	c->flags &= ~HX_CF_INMSG;
	ld->inflight--;
	hx_txn_log(ld, c, names[o], stage, code, 0);
	hx_tally_outcome(ld->tally, c->target, o);
	if (ld->conf->series != NULL)
		hx_series_outcome(ld->conf->series, hx_mono_us(), o);
	if (ld->conf->retry != NULL)
		txn_settle(ld, c, o, stage, code);
}

/* txn_final - with --retry: the message's final outcome, now */
static void
txn_final(struct hx_load *ld, struct hx_conn *c, enum hx_final fin)
{
	c->rm.target = c->target;
	hx_retry_final(ld->conf->rstats, &c->rm, fin, hx_load_rel(ld));
}

/*
 * txn_settle - with --retry, after an attempt's outcome: delivered (2xx),
 * bounced (5xx, its reply counted), or on a temporary failure (4xx or a
 * connection error) expired when the message is older than the
 * schedule's lifetime, else queued for the next attempt
 */
static void
txn_settle(struct hx_load *ld, struct hx_conn *c, enum hx_outcome o,
    enum hx_stage stage, unsigned code)
{
	const struct hx_sched *s = ld->conf->retry;
	struct hx_retry_stats *st = ld->conf->rstats;
	struct hx_retry_msg *m = &c->rm;
	const char *enh, *text;
	uint64_t now, age, d;

	enh = code != 0 && c->reply.code == code ? c->reply.enh : "";
	text = code == 0 ? "connection error" :
	    c->reply.code == code ? c->reply.text : "";
	if (o == HX_OUT_ACCEPTED) {
		txn_final(ld, c, HX_FIN_DELIVERED);
		return;
	}
	if (o == HX_OUT_REJECTED) {
		(void)hx_tally_add(st->bounced, c->target, stage, code, enh,
		    text);
		txn_final(ld, c, HX_FIN_BOUNCED);
		return;
	}
	now = hx_load_rel(ld);
	age = now - m->first_us;
	if (hx_sched_expired(s, age)) {
		(void)hx_tally_add(st->expired, c->target, stage, code, enh,
		    text);
		txn_final(ld, c, HX_FIN_EXPIRED);
		return;
	}
	d = hx_sched_delay(s, m->attempts, age, m->last_delay_us);
	m->last_delay_us = d;
	m->due_us = hx_sched_due(s, now + d);
	m->target = c->target;
	if (hx_retry_queue_push(&ld->rq, m) != 0)
		abort();	/* sized for every message of the run */
}

/* hx_txn_abandon - the message leaves without an outcome */
void
hx_txn_abandon(struct hx_load *ld, struct hx_conn *c)
{
	c->flags &= ~HX_CF_INMSG;
	ld->inflight--;
	if (ld->conf->retry != NULL)
		txn_final(ld, c, HX_FIN_DEFERRED);
}

/* hx_txn_log - one --msg-log line for the slot's message */
void
hx_txn_log(struct hx_load *ld, struct hx_conn *c, const char *outcome,
    enum hx_stage stage, unsigned code, int abort)
{
	const struct hx_load_conf *cf = ld->conf;
	static const struct hx_abort_plan none = { HX_AB_NONE, HX_AB_RST };
	char line[HX_LOG_LINE], user[32];
	const char *rcpt;
	int n;

	if (cf->msg_log == NULL)
		return;
	rcpt = cf->tag_rcpt ? c->rcpt : cf->rcpt_local;
	if (rcpt == NULL) {
		snprintf(user, sizeof(user), "user%" PRIu64, c->user0);
		rcpt = user;
	}
	n = hx_msg_log_line(line, sizeof(line), c->seq,
	    cf->targets[c->target].name, outcome, stage, code,
	    abort ? &c->ab : &none, (c->flags & HX_CF_EODSENT) != 0, rcpt);
	if (n > 0)
		(void)fwrite(line, 1, (size_t)n, cf->msg_log);
}

/*
 * hx_txn_abort - carry out the message's abort plan: count it, give the
 * message its outcome (error; "unknown" in the log after the dot), drop
 * the connection by RST or close
 */
void
hx_txn_abort(struct hx_load *ld, struct hx_conn *c)
{
	static const enum hx_stage stage_of[HX_AB__COUNT] = {
		HX_STAGE_MAIL, HX_STAGE_MAIL, HX_STAGE_RCPT, HX_STAGE_DATA,
		HX_STAGE_EOD
	};
	struct linger lg;
	char why[HX_TALLY_TEXT_MAX];
	enum hx_stage st = stage_of[c->ab.stage];

	if (ld->conf->aborts != NULL)
		hx_aborts_add(ld->conf->aborts, &c->ab);
	/* one row per stage (rows keep their first text): modes are in
	 * the abort table */
	snprintf(why, sizeof(why), "client abort %s%s",
	    hx_abort_stage_name(c->ab.stage),
	    c->ab.stage == HX_AB_AFTER_DOT ? " (outcome unknown)" : "");
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: %s\n", c->id,
		    (unsigned long long)c->seq, why);
	(void)hx_tally_add(ld->tally, c->target, st, 0, NULL, why);
	hx_txn_log(ld, c, c->ab.stage == HX_AB_AFTER_DOT ? "unknown" : "abort",
	    st, 0, 1);
	c->flags &= ~HX_CF_INMSG;
	ld->inflight--;
	if (ld->conf->retry != NULL)
		txn_final(ld, c, HX_FIN_ABORTED);
	hx_tally_outcome(ld->tally, c->target, HX_OUT_ERROR);
	if (ld->conf->series != NULL)
		hx_series_outcome(ld->conf->series, hx_mono_us(), HX_OUT_ERROR);
	if (c->ab.mode == HX_AB_RST && c->fd >= 0) {
		lg.l_onoff = 1;
		lg.l_linger = 0;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
	}
	hx_conn_close(ld, c);
}
