/*
 * DESCRIPTION
 *	One packet lcore: Ethernet demultiplexing, ARP replies for every MX
 *	address of the scenario (looked up in the world's ranges, answered
 *	with the port's MAC, rewritten in place), ICMP echo replies (in
 *	place), IPv4 validation (version, header length, total length,
 *	header checksum, destination is an MX address), fragments dropped,
 *	TCP checksum verified (in software unless the port reported it),
 *	then the segment goes to this lcore's utcp stack, whose connections
 *	carry SMTP sessions through dp_smtp (the layer above it).  Frames to send
 *	are buffered and handed to the port in bursts; what the port refuses
 *	is freed and counted.  The session's reply events are counted and
 *	logged by the glue both backends share (nb_worker.c).
 *
 * DIAGNOSTICS
 *	Every dropped frame is counted by cause (struct dp_counters).  The
 *	first reply of each kind >= 400 per provider is printed once per
 *	process when notices are on.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_lcore.h"
#include "dp_smtp.h"
#include "nb_worker.h"

#define DP_TX_TRIES	4	/* tx_burst calls before dropping */

struct dp_lcore {
	struct dp_lcore_conf conf;
	const struct prof_world *w0;	/* the first world: MX ranges, port */
	struct utcp_stack *tcp;
	struct nb_worker nw;		/* env, counters, event log, auth */
	struct dp_smtp	*smtp;		/* sessions above the TCP */
	struct dp_counters cnt;
	unsigned	 ntx;
	struct rte_mbuf	*tx[DP_TX_MAX];
};

static void	tx_one(void *, struct rte_mbuf *);
static void	arp_input(struct dp_lcore *, struct rte_mbuf *);
static void	ipv4_input(struct dp_lcore *, struct rte_mbuf *, uint64_t);
static void	icmp_input(struct dp_lcore *, struct rte_mbuf *,
		    struct rte_ipv4_hdr *, uint32_t);
static bool	l4_cksum_ok(const struct rte_ipv4_hdr *, const void *,
		    uint32_t);

/* dp_lcore_new - stack, counters, event-log buffer */
struct dp_lcore *
dp_lcore_new(const struct dp_lcore_conf *conf)
{
	struct dp_smtp_conf sc;
	struct utcp_conf uc;
	struct dp_lcore *lc;

	if (conf->pool == NULL || conf->nb == NULL ||
	    conf->nb->conf.state == NULL || conf->nb->conf.clock == NULL)
		return NULL;
	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		return NULL;
	/* glibc reads the time zone file at the first gmtime_r() (event
	 * lines' timestamps), allocating: here, not in the first session */
	tzset();
	lc->conf = *conf;
	lc->w0 = conf->nb->conf.world;
	if (nb_worker_init(&lc->nw, conf->nb) != 0)
		goto fail;
	memset(&sc, 0, sizeof(sc));
	sc.nw = &lc->nw;
	sc.max_sessions = conf->max_conns;
	if ((lc->smtp = dp_smtp_new(&sc)) == NULL)
		goto fail;
	/* as many control blocks again as sessions: half-open, closing,
	 * TIME_WAIT and busy-answered connections hold no session */
	memset(&uc, 0, sizeof(uc));
	uc.port = lc->w0->port;
	uc.max_conns = 2 * conf->max_conns;
	uc.max_half_open = conf->max_half_open != 0 ? conf->max_half_open :
	    (conf->max_conns / 4 > 0 ? conf->max_conns / 4 : 1);
	uc.rcv_wnd = SMTP_INBUF_SIZE;
	uc.mss = conf->mss;
	uc.time_wait_ms = conf->time_wait_ms;
	uc.seed = lc->w0->seed;
	uc.idle_ms = lc->w0->idle_timeout_s * 1000u;
	uc.session_ms = lc->w0->session_timeout_s * 1000u;
	uc.tx_csum_offload = conf->tx_csum_offload;
	uc.mac = conf->mac;
	uc.pool = conf->pool;
	uc.tx = tx_one;
	uc.tx_ctx = lc;
	uc.ops = &dp_smtp_ops;
	uc.ops_ctx = lc->smtp;
	if ((lc->tcp = utcp_new(&uc)) == NULL)
		goto fail;
	return lc;
fail:
	dp_lcore_free(lc);
	return NULL;
}

/* dp_lcore_free - release everything the lcore owns */
void
dp_lcore_free(struct dp_lcore *lc)
{
	unsigned i;

	if (lc == NULL)
		return;
	utcp_free(lc->tcp);
	dp_smtp_free(lc->smtp);		/* after the stack that used it */
	nb_worker_fini(&lc->nw);	/* after the sessions that used it */
	for (i = 0; i < lc->ntx; i++)
		rte_pktmbuf_free(lc->tx[i]);
	free(lc);
}

/* dp_lcore_flush - hand buffered frames to the port */
void
dp_lcore_flush(struct dp_lcore *lc)
{
	unsigned sent = 0, i;
	int tries;

	for (tries = 0; tries < DP_TX_TRIES && sent < lc->ntx; tries++)
		sent += rte_eth_tx_burst(lc->conf.port, lc->conf.queue,
		    lc->tx + sent, (uint16_t)(lc->ntx - sent));
	lc->cnt.tx += sent;
	for (i = sent; i < lc->ntx; i++) {
		rte_pktmbuf_free(lc->tx[i]);
		lc->cnt.tx_dropped++;
	}
	lc->ntx = 0;
}

/* tx_one - buffer one frame for the port */
static void
tx_one(void *ctx, struct rte_mbuf *m)
{
	struct dp_lcore *lc = ctx;

	if (lc->ntx == DP_TX_MAX)
		dp_lcore_flush(lc);
	lc->tx[lc->ntx++] = m;
}

/* arp_input - answer who-has for an MX address, in place */
static void
arp_input(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	uint32_t tip;

	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ah) ||
	    ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4 ||
	    ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
		goto ignore;
	tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	if (prof_world_lookup(lc->w0, tip) < 0)
		goto ignore;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	ah->arp_data.arp_tha = ah->arp_data.arp_sha;
	ah->arp_data.arp_tip = ah->arp_data.arp_sip;
	ah->arp_data.arp_sha = lc->conf.mac;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(tip);
	eh->dst_addr = eh->src_addr;
	eh->src_addr = lc->conf.mac;
	m->ol_flags = 0;
	lc->cnt.arp_replies++;
	tx_one(lc, m);
	return;
ignore:
	lc->cnt.arp_ignored++;
	rte_pktmbuf_free(m);
}

/* l4_cksum_ok - TCP/ICMP-style checksum over pseudo header and data */
static bool
l4_cksum_ok(const struct rte_ipv4_hdr *ip, const void *l4, uint32_t len)
{
	uint32_t sum;

	sum = rte_raw_cksum(l4, len);
	if (ip != NULL)
		sum += rte_ipv4_phdr_cksum(ip, 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* icmp_input - echo request to an MX address: reply in place */
static void
icmp_input(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
    uint32_t ihl)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((char *)ip + ihl);
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - ihl, a;

	if (len < sizeof(*ic) || ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    ic->icmp_code != 0) {
		lc->cnt.other++;
		rte_pktmbuf_free(m);
		return;
	}
	if (!l4_cksum_ok(NULL, ic, len)) {
		lc->cnt.csum_bad++;
		rte_pktmbuf_free(m);
		return;
	}
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len);
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eh->dst_addr = eh->src_addr;
	eh->src_addr = lc->conf.mac;
	m->ol_flags = 0;
	lc->cnt.icmp_echo++;
	tx_one(lc, m);
}

/* ipv4_input - validate, then ICMP or TCP */
static void
ipv4_input(struct dp_lcore *lc, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint32_t dlen = rte_pktmbuf_data_len(m), ihl, tot, frag;
	uint64_t fl = m->ol_flags;

	if (!rte_is_same_ether_addr(&eh->dst_addr, &lc->conf.mac)) {
		lc->cnt.not_ours++;
		goto drop;
	}
	if (dlen < sizeof(*eh) + sizeof(*ip) ||
	    (ip->version_ihl >> 4) != 4)
		goto bad;
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || tot < ihl || sizeof(*eh) + tot > dlen)
		goto bad;
	if (lc->conf.rx_csum_offload &&
	    (fl & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN) {
		if ((fl & RTE_MBUF_F_RX_IP_CKSUM_MASK) !=
		    RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			goto csum;
	} else if (!l4_cksum_ok(NULL, ip, ihl))
		goto csum;
	if (prof_world_lookup(lc->w0,
	    rte_be_to_cpu_32(ip->dst_addr)) < 0) {
		lc->cnt.not_ours++;
		goto drop;
	}
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		lc->cnt.ip_frag++;
		goto drop;
	}
	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		icmp_input(lc, m, ip, ihl);
		return;
	case IPPROTO_TCP:
		if (tot - ihl < sizeof(struct rte_tcp_hdr))
			goto bad;
		if (lc->conf.rx_csum_offload && (fl &
		    RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
		    RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN) {
			if ((fl & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
			    RTE_MBUF_F_RX_L4_CKSUM_GOOD)
				goto csum;
		} else if (!l4_cksum_ok(ip, (char *)ip + ihl, tot - ihl))
			goto csum;
		m->l2_len = sizeof(*eh);
		m->l3_len = ihl;
		utcp_input(lc->tcp, m, now);
		return;
	default:
		lc->cnt.other++;
		goto drop;
	}
bad:
	lc->cnt.ip_bad++;
	goto drop;
csum:
	lc->cnt.csum_bad++;
drop:
	rte_pktmbuf_free(m);
}

/* dp_lcore_input - one received frame */
void
dp_lcore_input(struct dp_lcore *lc, struct rte_mbuf *m, uint64_t now)
{
	const struct rte_ether_hdr *eh;

	lc->cnt.rx++;
	if (m->nb_segs != 1 ||
	    rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)) {
		lc->cnt.ip_bad++;
		rte_pktmbuf_free(m);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	switch (rte_be_to_cpu_16(eh->ether_type)) {
	case RTE_ETHER_TYPE_ARP:
		arp_input(lc, m);
		break;
	case RTE_ETHER_TYPE_IPV4:
		ipv4_input(lc, m, now);
		break;
	default:
		lc->cnt.other++;
		rte_pktmbuf_free(m);
		break;
	}
}

/* dp_lcore_poll - one turn of the loop */
unsigned
dp_lcore_poll(struct dp_lcore *lc, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n, i;

	n = rte_eth_rx_burst(lc->conf.port, lc->conf.queue, pkts, DP_BURST);
	for (i = 0; i < n; i++)
		dp_lcore_input(lc, pkts[i], now);
	utcp_timers(lc->tcp, now);
	if (lc->ntx > 0)
		dp_lcore_flush(lc);
	return n;
}

/* dp_lcore_refresh - sessions use the world published last */
void
dp_lcore_refresh(struct dp_lcore *lc)
{
	nb_worker_refresh(&lc->nw);
}

/* dp_lcore_drain - stop accepting, end sessions */
void
dp_lcore_drain(struct dp_lcore *lc, uint64_t now)
{
	utcp_drain(lc->tcp, now);
	dp_lcore_flush(lc);
}

/* dp_lcore_finish - reset what is left, flush everything */
void
dp_lcore_finish(struct dp_lcore *lc, uint64_t now)
{
	utcp_abort_all(lc->tcp, now);
	dp_lcore_flush(lc);
	nb_worker_flush(&lc->nw, 0);
}

/* dp_lcore_evlog_flush - event-log buffer to the writer when old */
void
dp_lcore_evlog_flush(struct dp_lcore *lc, uint64_t max_age_ms)
{
	nb_worker_flush(&lc->nw, max_age_ms);
}

/* dp_lcore_tcp - the stack */
struct utcp_stack *
dp_lcore_tcp(const struct dp_lcore *lc)
{
	return lc->tcp;
}

/* dp_lcore_smtp_counters - busy answers and resets above the TCP */
const struct dp_smtp_counters *
dp_lcore_smtp_counters(const struct dp_lcore *lc)
{
	return dp_smtp_counters(lc->smtp);
}

/* dp_lcore_counters - pipeline counters */
const struct dp_counters *
dp_lcore_counters(const struct dp_lcore *lc)
{
	return &lc->cnt;
}

/* dp_lcore_stats - reply counters */
struct sim_stats *
dp_lcore_stats(const struct dp_lcore *lc)
{
	return lc->nw.stats;
}
