/*
 * DESCRIPTION
 *	mxload's SMTP client dialogue, driven by replies: greeting, EHLO
 *	(HELO after a 5xx), STARTTLS when asked for and offered, then per
 *	message the envelope replies (MAIL, RCPT x R, DATA, in command
 *	order) and the end-of-DATA reply, then the next message or QUIT.  A
 *	failing MAIL, all RCPTs failing, or a failing DATA end the message
 *	and are followed by RSET; a 421 or a server close ends the
 *	connection.  Only deciding replies are counted (see hx_tally.h);
 *	replies that merely follow an earlier failure of the same pipelined
 *	group (503 after a refused MAIL) are consumed without counting.
 *	With conf->series set, each reply's latency goes to the per-second
 *	CSV.
 *
 * DIAGNOSTICS
 *	A reply in a state that expects none (connecting, handshake) aborts
 *	(internal bug).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hx_load_priv.h"

static enum hx_outcome	outcome_of(unsigned);
static void		tally_reply(struct hx_load *, struct hx_conn *,
			    enum hx_stage);
static void		end_after_failure(struct hx_load *, struct hx_conn *);
static void		time_reply(struct hx_load *, struct hx_conn *);
static void		session_refused(struct hx_load *, struct hx_conn *,
			    enum hx_stage);
static void		greeting_reply(struct hx_load *, struct hx_conn *);
static void		ehlo_reply(struct hx_load *, struct hx_conn *);
static void		starttls_reply(struct hx_load *, struct hx_conn *);
static void		rset_reply(struct hx_load *, struct hx_conn *);
static void		env_reply(struct hx_load *, struct hx_conn *);
static void		eod_reply(struct hx_load *, struct hx_conn *);

/* outcome_of - message outcome for a deciding reply code */
static enum hx_outcome
outcome_of(unsigned code)
{
	switch (code / 100) {
	case 2:
		return HX_OUT_ACCEPTED;
	case 4:
		return HX_OUT_DEFERRED;
	case 5:
		return HX_OUT_REJECTED;
	default:
		return HX_OUT_ERROR;
	}
}

/* tally_reply - count the current reply under a stage */
static void
tally_reply(struct hx_load *ld, struct hx_conn *c, enum hx_stage stage)
{
	(void)hx_tally_add(ld->tally, c->target, stage, c->reply.code,
	    c->reply.enh, c->reply.text);
}

/* end_after_failure - 421 closes at once; anything else says QUIT */
static void
end_after_failure(struct hx_load *ld, struct hx_conn *c)
{
	if (c->reply.code == 421)
		hx_conn_close(ld, c);
	else
		hx_smtp_quit(ld, c);
}

/*
 * time_reply - per-stage latency of a reply for the CSV: from the last
 * command written (connect() for the greeting) to the reply.  Pipelined
 * MAIL/RCPT/DATA all count from the group's write.  End-of-DATA replies
 * are timed in eod_reply() from the final dot.
 */
static void
time_reply(struct hx_load *ld, struct hx_conn *c)
{
	uint64_t now;

	if (ld->conf->series == NULL)
		return;
	switch (c->state) {
	case HX_CS_GREETING:
	case HX_CS_EHLO:
	case HX_CS_HELO:
	case HX_CS_STARTTLS:
	case HX_CS_ENVELOPE:
	case HX_CS_RSET:
	case HX_CS_QUIT:
		now = hx_mono_us();
		hx_series_latency(ld->conf->series, now, hx_conn_stage(ld, c),
		    now - c->cmd_us);
		break;
	default:
		break;
	}
}

/* session_refused - a failing greeting, EHLO or HELO decides the message */
static void
session_refused(struct hx_load *ld, struct hx_conn *c, enum hx_stage stage)
{
	tally_reply(ld, c, stage);
	hx_txn_decide(ld, c, outcome_of(c->reply.code), stage, c->reply.code);
	end_after_failure(ld, c);
}

/* greeting_reply - the banner: EHLO on 2xx */
static void
greeting_reply(struct hx_load *ld, struct hx_conn *c)
{
	if (hx_reply_class(&c->reply) != 2) {
		session_refused(ld, c, HX_STAGE_CONNECT);
		return;
	}
	if (hx_out_cmd(ld, c, "EHLO %s\r\n", ld->conf->helo) == 0)
		hx_conn_state(ld, c, HX_CS_EHLO);
}

/* ehlo_reply - STARTTLS when offered and asked for, else the first
 * message; HELO after a 5xx */
static void
ehlo_reply(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	unsigned cls = hx_reply_class(&c->reply);

	if (cls == 2 && cf->starttls && !(c->flags & HX_CF_TLS)) {
		if (c->reply.flags & HX_REPLY_F_STARTTLS) {
			if (hx_out_cmd(ld, c, "STARTTLS\r\n") == 0)
				hx_conn_state(ld, c, HX_CS_STARTTLS);
			return;
		}
		ld->tls.not_offered++;
	}
	if (cls == 2) {
		if (cf->pipelining && (c->reply.flags & HX_REPLY_F_PIPELINING))
			c->flags |= HX_CF_PIPE;
		if (c->reply.flags & HX_REPLY_F_SIZE)
			c->flags |= HX_CF_SIZE;
		hx_txn_begin(ld, c);
		return;
	}
	if (cls == 5) {
		tally_reply(ld, c, HX_STAGE_EHLO);
		if (hx_out_cmd(ld, c, "HELO %s\r\n", cf->helo) == 0)
			hx_conn_state(ld, c, HX_CS_HELO);
		return;
	}
	session_refused(ld, c, HX_STAGE_EHLO);
}

/* starttls_reply - 220 starts the handshake; a refusal goes on in clear
 * text (EHLO again, STARTTLS not asked again) unless it is a 421 */
static void
starttls_reply(struct hx_load *ld, struct hx_conn *c)
{
	if (c->reply.code == 220) {
		hx_tls_start(ld, c);
		return;
	}
	ld->tls.refused++;
	tally_reply(ld, c, HX_STAGE_EHLO);
	if (c->reply.code == 421) {
		hx_txn_decide(ld, c, HX_OUT_DEFERRED, HX_STAGE_EHLO, 421);
		end_after_failure(ld, c);
		return;
	}
	c->flags |= HX_CF_TLS;		/* do not ask again */
	if (hx_out_cmd(ld, c, "EHLO %s\r\n", ld->conf->helo) == 0)
		hx_conn_state(ld, c, HX_CS_EHLO);
}

/* rset_reply - after RSET: the next message, or QUIT */
static void
rset_reply(struct hx_load *ld, struct hx_conn *c)
{
	if (c->reply.code == 421)
		hx_conn_close(ld, c);
	else if (hx_reply_class(&c->reply) == 2)
		hx_smtp_next(ld, c);
	else {
		tally_reply(ld, c, HX_STAGE_RSET);
		hx_smtp_quit(ld, c);
	}
}

/* hx_smtp_reply - one complete reply arrived: dispatch on the state */
void
hx_smtp_reply(struct hx_load *ld, struct hx_conn *c)
{
	time_reply(ld, c);
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: <- %u %s %s\n",
		    c->id, (unsigned long long)c->seq, c->reply.code,
		    c->reply.enh, c->reply.text);
	switch (c->state) {
	case HX_CS_GREETING:
		greeting_reply(ld, c);
		break;
	case HX_CS_EHLO:
		ehlo_reply(ld, c);
		break;
	case HX_CS_HELO:
		if (hx_reply_class(&c->reply) == 2)
			hx_txn_begin(ld, c);
		else
			session_refused(ld, c, HX_STAGE_EHLO);
		break;
	case HX_CS_STARTTLS:
		starttls_reply(ld, c);
		break;
	case HX_CS_ENVELOPE:
		env_reply(ld, c);
		break;
	case HX_CS_BODY:
		eod_reply(ld, c);
		break;
	case HX_CS_DISCARD:
		if (c->reply.code == 421)
			hx_conn_close(ld, c);
		else
			hx_smtp_next(ld, c);
		break;
	case HX_CS_RSET:
		rset_reply(ld, c);
		break;
	case HX_CS_QUIT:
		if (hx_reply_class(&c->reply) != 2)
			tally_reply(ld, c, HX_STAGE_QUIT);
		hx_conn_close(ld, c);
		break;
	case HX_CS_READY:
		/* Unsolicited: an idle timeout 421 is normal, else odd. */
		if (c->reply.code != 421)
			(void)hx_tally_add(ld->tally, c->target, HX_STAGE_MAIL,
			    0, NULL, "unexpected reply");
		hx_conn_close(ld, c);
		break;
	case HX_CS_TLSHS:
	case HX_CS_IDLE:
	case HX_CS_CONNECTING:
	default:
		abort();
	}
}

/* env_reply - a reply to MAIL, RCPT or DATA (in command order) */
static void
env_reply(struct hx_load *ld, struct hx_conn *c)
{
	unsigned i, r, cls, code;
	int pipe;

	r = ld->conf->rcpts;
	/* a mid-RCPT abort reads the MAIL reply first (see hx_txn_begin) */
	pipe = (c->flags & HX_CF_PIPE) != 0 &&
	    c->ab.stage != HX_AB_MID_RCPT;
	code = c->reply.code;
	cls = code / 100;
	i = c->env_replied;
	if (code == 421) {
		if (c->flags & HX_CF_INMSG)
			tally_reply(ld, c, hx_conn_stage(ld, c));
		hx_txn_decide(ld, c, HX_OUT_DEFERRED, hx_conn_stage(ld, c), code);
		hx_conn_close(ld, c);
		return;
	}
	c->env_replied++;
	hx_conn_arm(ld, c);
	if (i == 0) {				/* MAIL */
		if (cls != 2) {
			tally_reply(ld, c, HX_STAGE_MAIL);
			hx_txn_decide(ld, c, outcome_of(code), HX_STAGE_MAIL,
			    code);
			if (!pipe)
				hx_smtp_rset(ld, c);
		} else if (!pipe) {
			c->env_allowed++;
			(void)hx_out_pump(ld, c);
		}
		return;
	}
	if (i <= r) {				/* RCPT i */
		if (cls == 2)
			c->rcpt_ok++;
		else if (c->flags & HX_CF_INMSG) {
			tally_reply(ld, c, HX_STAGE_RCPT);
			if (c->rcpt_fail == 0)
				c->rcpt_fail = code;
		}
		if (i == r && c->rcpt_ok == 0)
			hx_txn_decide(ld, c, outcome_of(c->rcpt_fail),
			    HX_STAGE_RCPT, c->rcpt_fail);
		if (pipe)
			return;
		if (i == r && c->rcpt_ok == 0) {
			hx_smtp_rset(ld, c);
			return;
		}
		c->env_allowed++;		/* next RCPT or DATA */
		(void)hx_out_pump(ld, c);
		return;
	}
	/* DATA */
	if (cls == 3) {
		if (c->flags & HX_CF_INMSG) {
			hx_conn_state(ld, c, HX_CS_BODY);
			(void)hx_out_pump(ld, c);
		} else if (hx_out_cmd(ld, c, ".\r\n") == 0)
			hx_conn_state(ld, c, HX_CS_DISCARD);
		return;
	}
	if (c->flags & HX_CF_INMSG) {
		tally_reply(ld, c, HX_STAGE_DATA);
		hx_txn_decide(ld, c, outcome_of(code), HX_STAGE_DATA, code);
	}
	hx_smtp_rset(ld, c);
}

/* eod_reply - the reply to the final dot decides the message */
static void
eod_reply(struct hx_load *ld, struct hx_conn *c)
{
	uint64_t now;
	int early;

	early = !(c->flags & HX_CF_EODSENT);
	if (!early) {
		now = hx_mono_us();
		hx_hist_add(&ld->tally->eod_lat, now - c->eod_sent);
		if (ld->conf->series != NULL)
			hx_series_latency(ld->conf->series, now, HX_STAGE_EOD,
			    now - c->eod_sent);
	}
	tally_reply(ld, c, HX_STAGE_EOD);
	hx_txn_decide(ld, c, outcome_of(c->reply.code), HX_STAGE_EOD,
	    c->reply.code);
	if (c->reply.code == 421 || early)
		hx_conn_close(ld, c);	/* early: stream state unknown */
	else
		hx_smtp_next(ld, c);
}

/* hx_smtp_next - after a message: another on this connection, or QUIT */
void
hx_smtp_next(struct hx_load *ld, struct hx_conn *c)
{
	if (!ld->stopping && c->msgs < ld->conf->per_conn) {
		hx_conn_state(ld, c, HX_CS_READY);
		hx_load_queue(ld, c);
	} else
		hx_smtp_quit(ld, c);
}

/* hx_smtp_rset - end a failed transaction */
void
hx_smtp_rset(struct hx_load *ld, struct hx_conn *c)
{
	if (hx_out_cmd(ld, c, "RSET\r\n") == 0)
		hx_conn_state(ld, c, HX_CS_RSET);
}

/* hx_smtp_quit - end the session */
void
hx_smtp_quit(struct hx_load *ld, struct hx_conn *c)
{
	if (hx_out_cmd(ld, c, "QUIT\r\n") == 0)
		hx_conn_state(ld, c, HX_CS_QUIT);
}
