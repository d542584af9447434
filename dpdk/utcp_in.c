/*
 * DESCRIPTION
 *	utcp input: the passive-open state machine (RFC 9293, reduced).
 *	No connection: a SYN to our port opens one in SYN_RCVD (within the
 *	half-open bound), anything else is answered with RST.  SYN_RCVD: the
 *	ACK of our SYN establishes the connection and hands it to the layer
 *	above (ops->accept).  Synchronized states: RST in window aborts; a
 *	SYN gets a challenge ACK; an ACK releases acknowledged output
 *	(ops->sent); in-order data goes up (ops->recv) as far as the layer
 *	above takes it (the rest is retransmitted by the peer); out-of-order
 *	data is dropped with a duplicate ACK; a FIN is accepted in order.
 *	Then utcp_service() sends what is due.
 *
 *	The peer's FIN goes up only once our pending output is acknowledged,
 *	so a client that half-closes after QUIT still gets its replies (as
 *	the socket backend sends them).
 *
 * DIAGNOSTICS
 *	Malformed segments are counted (bad_seg) and dropped.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "utcp_priv.h"

/* A parsed segment. */
struct seg {
	const struct rte_ether_addr *src; /* peer MAC */
	uint32_t	 cip, mip;
	uint16_t	 cport, mport;
	uint32_t	 seq, ack;
	uint16_t	 win;
	uint8_t		 flags;
	uint16_t	 peer_mss;	/* 0 = no option */
	const uint8_t	*data;
	uint32_t	 len;
};

static int	parse_seg(struct rte_mbuf *, struct seg *);
static void	reset_for(struct utcp_stack *, const struct seg *);
static void	listen_input(struct utcp_stack *, const struct seg *,
		    uint64_t);
static void	synrcvd_input(struct utcp_stack *, struct utcp_tcb *,
		    const struct seg *, uint64_t);
static void	synced_input(struct utcp_stack *, struct utcp_tcb *,
		    const struct seg *, uint64_t);
static bool	ack_input(struct utcp_stack *, struct utcp_tcb *,
		    const struct seg *, uint64_t);
static void	data_input(struct utcp_stack *, struct utcp_tcb *,
		    const struct seg *, uint64_t);

/* parse_seg - headers to a struct seg; -1 when malformed */
static int
parse_seg(struct rte_mbuf *m, struct seg *sg)
{
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	const uint8_t *o, *end;
	uint32_t iplen, thlen;

	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	ip = (const struct rte_ipv4_hdr *)((const char *)eh + m->l2_len);
	th = (const struct rte_tcp_hdr *)((const char *)ip + m->l3_len);
	iplen = rte_be_to_cpu_16(ip->total_length);
	thlen = (uint32_t)(th->data_off >> 4) * 4;
	if (thlen < sizeof(*th) || m->l3_len + thlen > iplen ||
	    m->l2_len + iplen > rte_pktmbuf_data_len(m))
		return -1;
	sg->src = &eh->src_addr;
	sg->cip = rte_be_to_cpu_32(ip->src_addr);
	sg->mip = rte_be_to_cpu_32(ip->dst_addr);
	sg->cport = rte_be_to_cpu_16(th->src_port);
	sg->mport = rte_be_to_cpu_16(th->dst_port);
	sg->seq = rte_be_to_cpu_32(th->sent_seq);
	sg->ack = rte_be_to_cpu_32(th->recv_ack);
	sg->win = rte_be_to_cpu_16(th->rx_win);
	sg->flags = th->tcp_flags & 0x3f;
	sg->data = (const uint8_t *)th + thlen;
	sg->len = iplen - m->l3_len - thlen;
	sg->peer_mss = 0;
	o = (const uint8_t *)(th + 1);
	end = (const uint8_t *)th + thlen;
	while (o < end && *o != 0) {		/* kind 0: end of list */
		if (*o == 1) {			/* no-op */
			o++;
			continue;
		}
		if (o + 2 > end || o[1] < 2 || o + o[1] > end)
			return -1;
		if (o[0] == 2 && o[1] == 4)
			sg->peer_mss = (uint16_t)(o[2] << 8 | o[3]);
		o += o[1];
	}
	return 0;
}

/* reset_for - RST answering a segment that has no connection */
static void
reset_for(struct utcp_stack *st, const struct seg *sg)
{
	uint32_t slen = sg->len + ((sg->flags & UTCP_SYN) ? 1 : 0) +
	    ((sg->flags & UTCP_FIN) ? 1 : 0);

	if (sg->flags & UTCP_RST)
		return;
	if (sg->flags & UTCP_ACK)
		utcp_send_reset(st, sg->src, sg->cip, sg->cport, sg->mip,
		    sg->mport, sg->ack, 0, UTCP_RST);
	else
		utcp_send_reset(st, sg->src, sg->cip, sg->cport, sg->mip,
		    sg->mport, 0, sg->seq + slen, UTCP_RST | UTCP_ACK);
}

/* listen_input - a segment for no connection: maybe a new one */
static void
listen_input(struct utcp_stack *st, const struct seg *sg, uint64_t now)
{
	struct utcp_tcb *t;
	uint16_t mss;

	if (sg->flags & UTCP_RST)
		return;
	if ((sg->flags & (UTCP_SYN | UTCP_ACK | UTCP_FIN)) != UTCP_SYN) {
		reset_for(st, sg);
		return;
	}
	if (st->draining) {
		reset_for(st, sg);
		return;
	}
	st->cnt.syn++;
	if (st->nhalf >= st->conf.max_half_open ||
	    (t = utcp_tcb_alloc(st, sg->cip, sg->cport, sg->mip, sg->mport)) ==
	    NULL) {
		st->cnt.syn_dropped++;
		return;
	}
	mss = sg->peer_mss != 0 ? sg->peer_mss : 536;	/* RFC 9293 3.7.1 */
	t->mss = mss < st->conf.mss ? mss : st->conf.mss;
	if (t->mss < 64)
		t->mss = 64;
	t->iss = utcp_isn(st->conf.seed, sg->cip, sg->cport, sg->mip,
	    sg->mport);
	t->snd_una = t->iss;
	t->snd_nxt = t->iss + 1;
	t->snd_wnd = sg->win;
	t->rcv_nxt = sg->seq + 1;
	rte_ether_addr_copy(sg->src, &t->peer_mac);
	utcp_enter_state(st, t, UTCP_SYN_RCVD);
	utcp_send_synack(st, t);
	utcp_timer_set(st, t, now + t->rto_ms);
}

/* synrcvd_input - waiting for the ACK of our SYN */
static void
synrcvd_input(struct utcp_stack *st, struct utcp_tcb *t, const struct seg *sg,
    uint64_t now)
{
	if (sg->flags & UTCP_RST) {
		if (sg->seq == t->rcv_nxt) {
			st->cnt.rst_rcvd++;
			utcp_tcb_release(st, t);
		}
		return;
	}
	if (sg->flags & UTCP_SYN) {
		if (!(sg->flags & UTCP_ACK) && sg->seq + 1 == t->rcv_nxt)
			utcp_send_synack(st, t);	/* our SYN-ACK was lost */
		return;
	}
	if (!(sg->flags & UTCP_ACK))
		return;
	if (sg->ack != t->iss + 1) {
		reset_for(st, sg);
		return;
	}
	utcp_timer_stop(st, t);
	t->snd_una = sg->ack;
	t->snd_wnd = sg->win;
	t->retries = 0;
	t->rto_ms = UTCP_RTO_INIT_MS;
	utcp_enter_state(st, t, UTCP_ESTABLISHED);
	st->cnt.established++;
	utcp_app_open(st, t, now);
	if (t->app == NULL) {
		utcp_abort(st, t);		/* refused by the layer above */
		return;
	}
	synced_input(st, t, sg, now);
}

/* ack_input - process the ACK field; false when @p t was released */
static bool
ack_input(struct utcp_stack *st, struct utcp_tcb *t, const struct seg *sg,
    uint64_t now)
{
	uint32_t acked, data;
	bool fin_acked;

	if (SEQ_GT(sg->ack, t->snd_nxt)) {
		t->flags |= UTCP_F_ACK_NOW;	/* acks what we never sent */
		return true;
	}
	if (SEQ_GT(sg->ack, t->snd_una)) {
		acked = sg->ack - t->snd_una;
		fin_acked = (t->flags & UTCP_F_FIN_SENT) &&
		    sg->ack == t->snd_nxt;
		data = acked - (fin_acked ? 1 : 0);
		t->snd_una = sg->ack;
		t->retries = 0;
		t->rto_ms = UTCP_RTO_INIT_MS;
		if (t->snd_una == t->snd_nxt)
			utcp_timer_stop(st, t);
		else
			utcp_timer_set(st, t, now + t->rto_ms);
		if (t->app != NULL && data > 0)
			st->conf.ops->sent(st->conf.ops_ctx, t, t->app, data,
			    now);
		if (fin_acked) {
			switch (t->state) {
			case UTCP_FIN_WAIT_1:
				utcp_enter_state(st, t, UTCP_FIN_WAIT_2);
				utcp_timer_set(st, t, now + UTCP_FIN_WAIT2_MS);
				break;
			case UTCP_CLOSING:
				utcp_enter_state(st, t, UTCP_TIME_WAIT);
				utcp_timer_set(st, t, now +
				    st->conf.time_wait_ms);
				break;
			case UTCP_LAST_ACK:
				if (t->app != NULL)
					utcp_app_close(st, t, false);
				utcp_tcb_release(st, t);
				return false;
			default:
				break;
			}
		}
	}
	t->snd_wnd = sg->win;
	return true;
}

/* data_input - in-order payload and FIN */
static void
data_input(struct utcp_stack *st, struct utcp_tcb *t, const struct seg *sg,
    uint64_t now)
{
	const uint8_t *data = sg->data;
	uint32_t len = sg->len, seq = sg->seq, off, taken = 0;
	bool fin = (sg->flags & UTCP_FIN) != 0;

	if (len == 0 && !fin)
		return;
	t->flags |= UTCP_F_ACK_NOW;
	if (t->flags & UTCP_F_PEER_FIN) {
		if (t->state == UTCP_TIME_WAIT)
			utcp_timer_set(st, t, now + st->conf.time_wait_ms);
		return;				/* a retransmission */
	}
	if (SEQ_LT(seq, t->rcv_nxt)) {
		off = t->rcv_nxt - seq;
		if (off > len || (off == len && !fin))
			return;			/* old duplicate */
		data += off;
		len -= off;
		seq = t->rcv_nxt;
	}
	if (seq != t->rcv_nxt) {
		st->cnt.ooo_dropped++;
		return;
	}
	if (len > 0) {
		if (t->app != NULL && !(t->flags & UTCP_F_APP_CLOSE)) {
			taken = st->conf.ops->recv(st->conf.ops_ctx, t, t->app,
			    data, len, now);
			if (taken > len)
				taken = len;
			if (taken > 0)
				utcp_touch(st, t, now);
		} else
			taken = len;		/* after close: discarded */
		t->rcv_nxt += taken;
		st->cnt.bytes_in += taken;
	}
	if (!fin || taken != len)
		return;
	t->rcv_nxt++;
	t->flags |= UTCP_F_PEER_FIN;
	switch (t->state) {
	case UTCP_ESTABLISHED:
		utcp_enter_state(st, t, UTCP_CLOSE_WAIT);
		break;
	case UTCP_FIN_WAIT_1:
		utcp_enter_state(st, t, UTCP_CLOSING);
		break;
	case UTCP_FIN_WAIT_2:
		utcp_enter_state(st, t, UTCP_TIME_WAIT);
		utcp_timer_set(st, t, now + st->conf.time_wait_ms);
		break;
	default:
		abort();
	}
}

/* synced_input - a segment for a synchronized connection */
static void
synced_input(struct utcp_stack *st, struct utcp_tcb *t, const struct seg *sg,
    uint64_t now)
{
	uint32_t wnd = t->rcv_adv > 0 ? t->rcv_adv : 1;

	if (sg->flags & UTCP_RST) {
		if (SEQ_GEQ(sg->seq, t->rcv_nxt) &&
		    SEQ_LT(sg->seq, t->rcv_nxt + wnd)) {
			st->cnt.rst_rcvd++;
			utcp_tcb_release(st, t);
		}
		return;
	}
	if (sg->flags & UTCP_SYN) {
		t->flags |= UTCP_F_ACK_NOW;	/* challenge ACK (RFC 5961) */
		utcp_output(st, t, now);
		return;
	}
	if (!(sg->flags & UTCP_ACK))
		return;
	if (!ack_input(st, t, sg, now))
		return;
	data_input(st, t, sg, now);
	utcp_service(st, t, now);
}

/* utcp_service - the peer's FIN upwards when due, then send */
void
utcp_service(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now)
{
	const struct utcp_ops *ops = st->conf.ops;
	const uint8_t *p;
	size_t len;
	uint32_t win;

	if (t->app != NULL) {
		if ((t->flags & (UTCP_F_PEER_FIN | UTCP_F_APP_CLOSE |
		    UTCP_F_EOF_TOLD)) == UTCP_F_PEER_FIN) {
			ops->pending(st->conf.ops_ctx, t, t->app, &p, &len);
			if (len == 0) {
				t->flags |= UTCP_F_EOF_TOLD;
				ops->recv(st->conf.ops_ctx, t, t->app, NULL, 0,
				    now);
			}
		}
		win = utcp_rcv_window(st, t);
		if (t->rcv_adv < t->mss && win >= t->rcv_adv + t->mss)
			t->flags |= UTCP_F_ACK_NOW;	/* window update */
	}
	utcp_output(st, t, now);
	if (t->app != NULL && (t->flags & UTCP_F_FIN_SENT)) {
		ops->pending(st->conf.ops_ctx, t, t->app, &p, &len);
		if (len == 0)
			utcp_app_close(st, t, false);
	}
	if (t->state == UTCP_TIME_WAIT && t->tmo == 0)
		utcp_timer_set(st, t, now + st->conf.time_wait_ms);
}

/* utcp_input - one TCP segment */
void
utcp_input(struct utcp_stack *st, struct rte_mbuf *m, uint64_t now)
{
	struct utcp_tcb *t;
	struct seg sg;

	st->cnt.rx_segs++;
	if (parse_seg(m, &sg) != 0) {
		st->cnt.bad_seg++;
		goto out;
	}
	if (sg.mport != st->conf.port) {
		st->cnt.bad_port++;
		reset_for(st, &sg);
		goto out;
	}
	t = utcp_tcb_find(st, sg.cip, sg.cport, sg.mip, sg.mport);
	if (t != NULL && t->state == UTCP_TIME_WAIT &&
	    (sg.flags & (UTCP_SYN | UTCP_ACK)) == UTCP_SYN &&
	    SEQ_GT(sg.seq, t->rcv_nxt)) {
		utcp_tcb_release(st, t);	/* a new incarnation */
		t = NULL;
	}
	if (t == NULL) {
		listen_input(st, &sg, now);
		goto out;
	}
	rte_ether_addr_copy(sg.src, &t->peer_mac);
	if (t->state == UTCP_SYN_RCVD)
		synrcvd_input(st, t, &sg, now);
	else
		synced_input(st, t, &sg, now);
out:
	rte_pktmbuf_free(m);
}
