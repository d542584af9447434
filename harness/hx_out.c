/*
 * DESCRIPTION
 *	What mxload writes: one command at a time (greeting, EHLO, RSET,
 *	QUIT, STARTTLS), the envelope (MAIL, RCPT x R, DATA; in one go when
 *	the server offers PIPELINING, else one per reply), and the message
 *	text from the body generator, into the slot's fixed output buffer,
 *	sent until done or EAGAIN.  The planned client aborts that cut the
 *	output (mid-RCPT, mid-DATA, after the dot) are carried out here,
 *	where the bytes leave.
 *
 * DIAGNOSTICS
 *	A command that does not fit the output buffer ends the connection
 *	("output overflow"); an envelope command longer than HX_CMD_MAX
 *	aborts (it is bounded by the options' checks).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_load_priv.h"

static void		conn_fill(struct hx_load *, struct hx_conn *);

/* hx_out_cmd - append one command and send; -1: connection dropped */
int
hx_out_cmd(struct hx_load *ld, struct hx_conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_len, sizeof(c->out) - c->out_len, fmt,
	    ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(c->out) - c->out_len) {
		hx_conn_fail(ld, c, hx_conn_stage(ld, c), "output overflow");
		return -1;
	}
	c->out_len += (size_t)n;
	c->cmd_us = hx_mono_us();
	return hx_out_pump(ld, c);
}

/* conn_fill - generate pending envelope commands or body bytes */
static void
conn_fill(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	char *p, local[HX_LOCAL_MAX + 16];
	const char *lp;
	size_t room;
	unsigned i;
	int n;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	else if (c->out_off > 0 &&
	    sizeof(c->out) - c->out_len < HX_CMD_MAX + HX_MSG_FILL_MIN) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->state == HX_CS_ENVELOPE) {
		while (c->env_sent < c->env_allowed &&
		    !(c->ab.stage == HX_AB_MID_RCPT && c->env_sent >= 2) &&
		    sizeof(c->out) - c->out_len >= HX_CMD_MAX) {
			p = c->out + c->out_len;
			room = sizeof(c->out) - c->out_len;
			i = c->env_sent++;
			if (i == 0 && (c->flags & HX_CF_SIZE))
				n = snprintf(p, room,
				    "MAIL FROM:<sender%llu@%s> SIZE=%llu\r\n",
				    (unsigned long long)c->seq,
				    cf->from[c->seq % cf->nfrom],
				    (unsigned long long)c->msg.size);
			else if (i == 0)
				n = snprintf(p, room,
				    "MAIL FROM:<sender%llu@%s>\r\n",
				    (unsigned long long)c->seq,
				    cf->from[c->seq % cf->nfrom]);
			else if (i <= cf->rcpts) {
				lp = cf->rcpt_local;
				if (cf->tag_rcpt && cf->rcpts > 1) {
					snprintf(local, sizeof(local),
					    "%s.%u", c->rcpt, i);
					lp = local;
				} else if (cf->tag_rcpt) {
					lp = c->rcpt;
				} else if (lp == NULL) {
					snprintf(local, sizeof(local),
					    "user%llu", (unsigned long long)
					    ((c->user0 + i - 1) % cf->users));
					lp = local;
				}
				n = snprintf(p, room, "RCPT TO:<%s@%s>\r\n", lp,
				    cf->targets[c->target].rcpt_domain);
			} else
				n = snprintf(p, room, "DATA\r\n");
			if (n < 0 || (size_t)n >= room)
				abort();	/* HX_CMD_MAX bounds it */
			c->out_len += (size_t)n;
			c->cmd_us = hx_mono_us();
		}
	} else if (c->state == HX_CS_BODY && !c->msg.done)
		c->out_len += hx_msg_fill(&c->msg, c->out + c->out_len,
		    sizeof(c->out) - c->out_len);
}

/* hx_out_pump - fill and send until done or EAGAIN; -1: dropped */
int
hx_out_pump(struct hx_load *ld, struct hx_conn *c)
{
	ssize_t n;
	size_t len;
	uint64_t cap;
	int progressed, cut;

	progressed = 0;
	cut = c->state == HX_CS_BODY && (c->flags & HX_CF_INMSG) &&
	    c->ab.stage == HX_AB_MID_DATA;
	cap = c->msg.size / 2 > 0 ? c->msg.size / 2 : 1;
	for (;;) {
		if (cut && c->body_sent >= cap) {
			hx_txn_abort(ld, c);	/* half the text, no dot */
			return -1;
		}
		conn_fill(ld, c);
		if (c->out_off == c->out_len)
			break;
		len = c->out_len - c->out_off;
		if (cut && len > cap - c->body_sent)
			len = (size_t)(cap - c->body_sent);
		n = hx_tls_send(c, c->out + c->out_off, len);
		if (n > 0) {
			c->out_off += (size_t)n;
			if (c->state == HX_CS_BODY)
				c->body_sent += (uint64_t)n;
			progressed = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (progressed && c->state == HX_CS_BODY)
				hx_conn_arm(ld, c);
			hx_conn_want_out(ld, c, 1);
			return 0;
		}
		hx_conn_neterr(ld, c, n < 0 ? errno : EPIPE);
		return -1;
	}
	hx_conn_want_out(ld, c, 0);
	if (c->state == HX_CS_ENVELOPE && (c->flags & HX_CF_INMSG) &&
	    c->ab.stage == HX_AB_MID_RCPT && c->env_sent >= 2) {
		hx_txn_abort(ld, c);	/* MAIL and RCPT out, reply unread */
		return -1;
	}
	if (c->state == HX_CS_BODY && c->msg.done &&
	    !(c->flags & HX_CF_EODSENT)) {
		c->flags |= HX_CF_EODSENT;
		c->eod_sent = hx_mono_us();
		hx_conn_arm(ld, c);
		if ((c->flags & HX_CF_INMSG) &&
		    c->ab.stage == HX_AB_AFTER_DOT) {
			hx_txn_abort(ld, c);	/* dot out, reply unread */
			return -1;
		}
	}
	return 0;
}
