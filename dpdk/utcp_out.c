/*
 * DESCRIPTION
 *	utcp output: building Ethernet/IPv4/TCP segments in fresh mbufs
 *	(checksums in software, or left to the port when it offers the
 *	offload), sending the pending output of the layer above within the peer's
 *	window and our MSS, our FIN once the session closed and everything
 *	was sent, retransmission from the oldest unacknowledged byte, zero
 *	window probes, resets.
 *
 *	The unacknowledged data is the head of the pending output of the
 *	layer above (ops->pending): snd_una is its first byte, snd_nxt -
 *	snd_una bytes of it are in flight; an ACK releases it (ops->sent,
 *	utcp_in.c).
 *
 * DIAGNOSTICS
 *	No mbuf: the segment is not sent and tx_nombuf is counted; the
 *	retransmission timer recovers data and FIN segments.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "utcp_priv.h"

#define UTCP_HDRS	(sizeof(struct rte_ether_hdr) + \
			    sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))

static void	build_seg(struct utcp_stack *, const struct rte_ether_addr *,
		    uint32_t, uint16_t, uint32_t, uint16_t, uint32_t, uint32_t,
		    uint8_t, uint16_t, const uint8_t *, uint32_t, uint16_t);
static void	send_seg(struct utcp_stack *, struct utcp_tcb *, uint32_t,
		    uint8_t, const uint8_t *, uint32_t);

/* build_seg - one segment from scratch; mss_opt != 0 adds the option */
static void
build_seg(struct utcp_stack *st, const struct rte_ether_addr *dst,
    uint32_t cip, uint16_t cport, uint32_t mip, uint16_t mport, uint32_t seq,
    uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *data,
    uint32_t len, uint16_t mss_opt)
{
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint32_t optlen = mss_opt != 0 ? 4 : 0;
	uint8_t *opt;
	char *p;

	if ((m = rte_pktmbuf_alloc(st->conf.pool)) == NULL) {
		st->cnt.tx_nombuf++;
		return;
	}
	if ((p = rte_pktmbuf_append(m, (uint16_t)(UTCP_HDRS + optlen +
	    len))) == NULL) {
		rte_pktmbuf_free(m);
		st->cnt.tx_nombuf++;
		return;
	}
	eh = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&st->conf.mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) +
	    sizeof(*th) + optlen + len));
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = rte_cpu_to_be_32(mip);
	ip->dst_addr = rte_cpu_to_be_32(cip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(mport);
	th->dst_port = rte_cpu_to_be_16(cport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (mss_opt != 0) {
		opt = (uint8_t *)(th + 1);
		opt[0] = 2;	/* kind MSS */
		opt[1] = 4;
		opt[2] = (uint8_t)(mss_opt >> 8);
		opt[3] = (uint8_t)mss_opt;
	}
	if (len > 0)
		memcpy((uint8_t *)(th + 1) + optlen, data, len);
	if (st->conf.tx_csum_offload) {
		m->l2_len = sizeof(*eh);
		m->l3_len = sizeof(*ip);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
		    RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	st->cnt.tx_segs++;
	st->conf.tx(st->conf.tx_ctx, m);
}

/* utcp_rcv_window - what we can take now: the room of the layer above */
uint32_t
utcp_rcv_window(const struct utcp_stack *st, struct utcp_tcb *t)
{
	uint32_t room;

	if (t->app == NULL)
		return st->conf.rcv_wnd; /* data is discarded; never stall */
	room = st->conf.ops->room(st->conf.ops_ctx, t, t->app);
	return room > 65535 ? 65535 : room;
}

/* send_seg - a segment of connection @p t; carries our ACK and window */
static void
send_seg(struct utcp_stack *st, struct utcp_tcb *t, uint32_t seq,
    uint8_t flags, const uint8_t *data, uint32_t len)
{
	uint32_t win = utcp_rcv_window(st, t);

	t->rcv_adv = win;
	t->flags &= ~UTCP_F_ACK_NOW;
	build_seg(st, &t->peer_mac, t->cip, t->cport, t->mip, t->mport, seq,
	    t->rcv_nxt, flags, (uint16_t)win, data, len, 0);
}

/* utcp_send_synack - SYN-ACK with our MSS */
void
utcp_send_synack(struct utcp_stack *st, struct utcp_tcb *t)
{
	t->rcv_adv = st->conf.rcv_wnd;
	build_seg(st, &t->peer_mac, t->cip, t->cport, t->mip, t->mport, t->iss,
	    t->rcv_nxt, UTCP_SYN | UTCP_ACK, (uint16_t)st->conf.rcv_wnd, NULL,
	    0, st->conf.mss);
}

/* utcp_send_ctl - a segment without data (ACK, FIN, RST) */
void
utcp_send_ctl(struct utcp_stack *st, struct utcp_tcb *t, uint8_t flags,
    uint32_t seq)
{
	send_seg(st, t, seq, flags, NULL, 0);
}

/* utcp_send_reset - RST for a segment without a connection */
void
utcp_send_reset(struct utcp_stack *st, const struct rte_ether_addr *dst,
    uint32_t cip, uint16_t cport, uint32_t mip, uint16_t mport, uint32_t seq,
    uint32_t ack, uint8_t flags)
{
	st->cnt.rst_sent++;
	build_seg(st, dst, cip, cport, mip, mport, seq, ack, flags, 0, NULL, 0,
	    0);
}

/* utcp_abort - reset the connection and release everything */
void
utcp_abort(struct utcp_stack *st, struct utcp_tcb *t)
{
	st->cnt.rst_sent++;
	send_seg(st, t, t->snd_nxt, UTCP_RST | UTCP_ACK, NULL, 0);
	utcp_tcb_release(st, t);
}

/* utcp_output - new data, FIN, or an owed ACK */
void
utcp_output(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	uint32_t inflight, unsent = 0, room, n, wend;
	uint8_t fl;
	bool sent = false, closing;
	int k;

	if ((t->state == UTCP_ESTABLISHED || t->state == UTCP_CLOSE_WAIT) &&
	    (t->flags & UTCP_F_FIN_SENT) == 0) {
		closing = true;
		if (t->app != NULL) {
			st->conf.ops->pending(st->conf.ops_ctx, t, t->app, &p,
			    &len);
			closing = (t->flags & UTCP_F_APP_CLOSE) != 0;
		}
		inflight = t->snd_nxt - t->snd_una;
		unsent = (uint32_t)len - inflight;
		wend = t->snd_una + t->snd_wnd;
		for (k = 0; k < UTCP_TX_BURST && unsent > 0; k++) {
			room = SEQ_GT(wend, t->snd_nxt) ? wend - t->snd_nxt : 0;
			if (room == 0)
				break;
			n = unsent < t->mss ? unsent : t->mss;
			n = n < room ? n : room;
			fl = UTCP_ACK;
			if (n == unsent)
				fl |= UTCP_PSH;
			if (closing && n == unsent)
				fl |= UTCP_FIN;
			send_seg(st, t, t->snd_nxt, fl, p + inflight, n);
			st->cnt.bytes_out += n;
			t->snd_nxt += n;
			inflight += n;
			unsent -= n;
			sent = true;
			if (fl & UTCP_FIN)
				goto fin_sent;
		}
		if (closing && unsent == 0) {
			send_seg(st, t, t->snd_nxt, UTCP_FIN | UTCP_ACK, NULL, 0);
			sent = true;
			goto fin_sent;
		}
	}
	goto tail;
fin_sent:
	t->snd_nxt++;
	t->flags |= UTCP_F_FIN_SENT;
	utcp_enter_state(st, t, t->state == UTCP_ESTABLISHED ?
	    UTCP_FIN_WAIT_1 : UTCP_LAST_ACK);
tail:
	if (!sent && (t->flags & UTCP_F_ACK_NOW))
		send_seg(st, t, t->snd_nxt, UTCP_ACK, NULL, 0);
	if (t->tmo == 0 && (t->snd_nxt != t->snd_una || unsent > 0))
		utcp_timer_set(st, t, now + t->rto_ms);	/* rtx or persist */
}

/* utcp_retransmit - RTO: resend from snd_una (or probe a zero window) */
void
utcp_retransmit(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	uint32_t data, n;
	uint8_t fl = UTCP_ACK;

	t->rto_ms = t->rto_ms * 2 > UTCP_RTO_MAX_MS ? UTCP_RTO_MAX_MS :
	    t->rto_ms * 2;
	if (t->app != NULL)
		st->conf.ops->pending(st->conf.ops_ctx, t, t->app, &p, &len);
	data = t->snd_nxt - t->snd_una;
	if (t->flags & UTCP_F_FIN_SENT && data > 0)
		data--;			/* the FIN's sequence number */
	if (data > 0 && p != NULL && len >= data) {
		n = data < t->mss ? data : t->mss;
		if ((t->flags & UTCP_F_FIN_SENT) && n == data)
			fl |= UTCP_FIN;
		st->cnt.retransmits++;
		send_seg(st, t, t->snd_una, fl | UTCP_PSH, p, n);
	} else if ((t->flags & UTCP_F_FIN_SENT) && t->snd_una != t->snd_nxt) {
		st->cnt.retransmits++;
		send_seg(st, t, t->snd_nxt - 1, UTCP_FIN | UTCP_ACK, NULL, 0);
	} else if (len > 0 && (t->flags & UTCP_F_FIN_SENT) == 0) {
		/* zero window: probe with one new byte */
		send_seg(st, t, t->snd_nxt, UTCP_ACK, p, 1);
		st->cnt.bytes_out++;
		t->snd_nxt++;
	} else
		return;		/* nothing outstanding after all */
	utcp_timer_set(st, t, now + t->rto_ms);
}
