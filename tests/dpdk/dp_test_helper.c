/*
 * DESCRIPTION
 *	Tier-1 fixture: a ring port driven by hand-built frames, see
 *	dp_test_helper.h.  The rings, pools and port are made once per
 *	process (EAL cannot start twice); every test gets a fresh lcore.
 *
 * DIAGNOSTICS
 *	Setup failures print the cause and return -1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "dp_port.h"
#include "dp_test_helper.h"
#include "prof_load.h"

#define DPT_RING	1024
#define DPT_MBUFS	2047

/* Process-wide DPDK objects (EAL starts once); not test state. */
static struct rte_ring *dpt_rx, *dpt_tx;
static struct rte_mempool *dpt_lc_pool, *dpt_cl_pool;
static uint16_t dpt_port;
static struct dp_port_info dpt_info;

/* dpt_eal_start - EAL, rings, pools, the ring port */
int
dpt_eal_start(int argc, char **argv)
{
	char err[256];
	int p;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "dpdk_tests: EAL init failed\n");
		return -1;
	}
	dpt_rx = rte_ring_create("dpt_rx", DPT_RING, SOCKET_ID_ANY,
	    RING_F_SP_ENQ | RING_F_SC_DEQ);
	dpt_tx = rte_ring_create("dpt_tx", DPT_RING, SOCKET_ID_ANY,
	    RING_F_SP_ENQ | RING_F_SC_DEQ);
	dpt_lc_pool = rte_pktmbuf_pool_create("dpt_lc", DPT_MBUFS, 0, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	dpt_cl_pool = rte_pktmbuf_pool_create("dpt_cl", DPT_MBUFS, 0, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (dpt_rx == NULL || dpt_tx == NULL || dpt_lc_pool == NULL ||
	    dpt_cl_pool == NULL) {
		fprintf(stderr, "dpdk_tests: rings/pools: %s\n",
		    rte_strerror(rte_errno));
		return -1;
	}
	p = rte_eth_from_rings("dpt0", &dpt_rx, 1, &dpt_tx, 1, SOCKET_ID_ANY);
	if (p < 0) {
		fprintf(stderr, "dpdk_tests: rte_eth_from_rings failed\n");
		return -1;
	}
	dpt_port = (uint16_t)p;
	if (dp_port_setup(dpt_port, 1, &dpt_lc_pool, &dpt_info, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "dpdk_tests: %s\n", err);
		return -1;
	}
	return 0;
}

/* dpt_setup - a fresh lcore on the ring port, the test scenario */
int
dpt_setup(struct dpt *t, uint32_t max_conns, uint32_t max_half_open)
{
	struct prof_world *w;
	struct prof_error perr;
	char buf[1200];

	memset(&perr, 0, sizeof(perr));
	w = prof_load_scenario(MXSIM_TESTDATA "/dpdk_scenario.yaml",
	    MXSIM_PROFILES_DIR, &perr);
	if (w == NULL) {
		fprintf(stderr, "%s\n", prof_error_str(&perr, buf,
		    sizeof(buf)));
		return -1;
	}
	if (dpt_setup_world(t, w, max_conns, max_half_open, 4096) != 0) {
		prof_world_free(w);
		return -1;
	}
	t->own_world = true;
	return 0;
}

/* rec_open - DPT_RECORD: a new seed file for this fixture */
static void
rec_open(struct dpt *t)
{
	static unsigned seq;	/* file names only; no test state */
	const char *dir = getenv("DPT_RECORD");
	char path[512];

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/dpt-%03u.bin", dir, seq++);
	t->rec = fopen(path, "wb");
}

/* rec_put - one record: kind, 2-byte big-endian value, bytes */
static void
rec_put(struct dpt *t, uint8_t kind, uint32_t v, const void *p, uint32_t len)
{
	uint8_t h[3] = { kind, (uint8_t)(v >> 8), (uint8_t)v };

	if (t->rec == NULL)
		return;
	fwrite(h, 1, sizeof(h), t->rec);
	if (len > 0)
		fwrite(p, 1, len, t->rec);
}

/* dpt_setup_world - a fresh lcore on the ring port serving @w */
int
dpt_setup_world(struct dpt *t, struct prof_world *w, uint32_t max_conns,
    uint32_t max_half_open, uint32_t state_entries)
{
	return dpt_setup_full(t, w, max_conns, max_half_open, state_entries,
	    NULL, false);
}

/* dpt_setup_full - dpt_setup_world with an event log and scanning */
int
dpt_setup_full(struct dpt *t, struct prof_world *w, uint32_t max_conns,
    uint32_t max_half_open, uint32_t state_entries, struct sim_evlog *evlog,
    bool scan)
{
	struct dp_lcore_conf lcf;
	struct nb_conf nc;

	memset(t, 0, sizeof(*t));
	dpt_drain_tx();
	t->world = w;
	sim_clock_init_manual(&t->clock, 1767225600000ULL);
	if ((t->state = sim_state_new(state_entries, 86400000ULL)) == NULL)
		return -1;
	t->now = 1000000;
	t->port_mac = dpt_info.mac;
	memcpy(t->client_mac.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	memset(&nc, 0, sizeof(nc));
	nc.world = t->world;
	nc.state = t->state;
	nc.clock = &t->clock;
	nc.evlog = evlog;
	nc.scan = scan;
	if (nb_backend_init(&t->nb, NULL, &nc) != 0)
		return -1;
	memset(&lcf, 0, sizeof(lcf));
	lcf.port = dpt_port;
	lcf.pool = dpt_lc_pool;
	lcf.mac = dpt_info.mac;
	lcf.mss = 1460;
	lcf.nb = &t->nb;
	lcf.max_conns = max_conns;
	lcf.max_half_open = max_half_open;
	if ((t->lc = dp_lcore_new(&lcf)) == NULL) {
		nb_backend_fini(&t->nb);
		sim_state_free(t->state);
		t->state = NULL;
		return -1;
	}
	rec_open(t);
	return 0;
}

/* dpt_teardown - free the lcore, empty the rings */
void
dpt_teardown(struct dpt *t)
{
	struct rte_mbuf *m;

	dp_lcore_free(t->lc);
	dpt_drain_tx();
	while (rte_ring_dequeue(dpt_rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	nb_backend_fini(&t->nb);
	sim_state_free(t->state);
	if (t->own_world)
		prof_world_free(t->world);
	t->own_world = false;
	if (t->rec != NULL)
		fclose(t->rec);
	t->rec = NULL;
	t->state = NULL;
	t->lc = NULL;
}

/* dpt_pool_in_use - lcore mbufs not back in the pool */
unsigned
dpt_pool_in_use(void)
{
	return rte_mempool_in_use_count(dpt_lc_pool);
}

/* dpt_drain_tx - drop what the lcore sent */
unsigned
dpt_drain_tx(void)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	while (dpt_tx != NULL && rte_ring_dequeue(dpt_tx, (void **)&m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* dpt_inject - copy a frame into an mbuf on the RX ring */
void
dpt_inject(struct dpt *t, const void *frame, uint32_t len)
{
	struct rte_mbuf *m;
	char *p;

	rec_put(t, DPT_REC_FRAME, len, frame, len);
	m = rte_pktmbuf_alloc(dpt_cl_pool);
	if (m == NULL || (p = rte_pktmbuf_append(m, (uint16_t)len)) == NULL)
		abort();
	memcpy(p, frame, len);
	if (rte_ring_enqueue(dpt_rx, m) != 0)
		abort();
}

/* dpt_tcp_build - a TCP segment from the client, into @p f */
uint32_t
dpt_tcp_build(struct dpt *t, uint8_t *f, uint32_t sip, uint16_t sport,
    uint32_t dip, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    uint16_t win, const void *data, uint32_t len, uint16_t mss)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	uint32_t opt = mss != 0 ? 4 : 0;
	uint8_t *o = (uint8_t *)(th + 1);

	memset(f, 0, sizeof(*eh) + sizeof(*ip) + sizeof(*th) + opt);
	eh->dst_addr = t->port_mac;
	eh->src_addr = t->client_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) +
	    sizeof(*th) + opt + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(sip);
	ip->dst_addr = rte_cpu_to_be_32(dip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((sizeof(*th) + opt) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	if (mss != 0) {
		o[0] = 2;
		o[1] = 4;
		o[2] = (uint8_t)(mss >> 8);
		o[3] = (uint8_t)mss;
	}
	if (len > 0)
		memcpy(o + opt, data, len);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return (uint32_t)(sizeof(*eh) + sizeof(*ip) + sizeof(*th) + opt + len);
}

/* dpt_tcp - build and inject a TCP segment from the client */
void
dpt_tcp(struct dpt *t, uint32_t sip, uint16_t sport, uint32_t dip,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
    const void *data, uint32_t len, uint16_t mss)
{
	uint8_t f[2048];

	dpt_inject(t, f, dpt_tcp_build(t, f, sip, sport, dip, dport, seq, ack,
	    flags, win, data, len, mss));
}

/* dpt_poll - advance the clock, one lcore turn */
void
dpt_poll(struct dpt *t, uint64_t ms)
{
	rec_put(t, DPT_REC_POLL, ms > 0xffff ? 0xffff : (uint32_t)ms, NULL, 0);
	t->now += ms;
	dp_lcore_poll(t->lc, t->now);
}

/* sum_ok - a one's-complement sum (with pseudo header) checks out */
static bool
sum_ok(const struct rte_ipv4_hdr *ip, const void *p, uint32_t len)
{
	uint32_t s = rte_raw_cksum(p, len);

	if (ip != NULL)
		s += rte_ipv4_phdr_cksum(ip, 0);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* dpt_recv - next sent frame, parsed */
int
dpt_recv(struct dpt *t, struct dpt_frame *f)
{
	const struct rte_ether_hdr *eh;
	const struct rte_arp_hdr *ah;
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	const struct rte_icmp_hdr *ic;
	const uint8_t *o;
	struct rte_mbuf *m;
	uint32_t ihl, tot, thl;

	(void)t;
	if (rte_ring_dequeue(dpt_tx, (void **)&m) != 0)
		return -1;
	memset(f, 0, sizeof(*f));
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	f->src = eh->src_addr;
	f->dst = eh->dst_addr;
	f->ethertype = rte_be_to_cpu_16(eh->ether_type);
	f->csum_ok = true;
	if (f->ethertype == RTE_ETHER_TYPE_ARP) {
		ah = (const struct rte_arp_hdr *)(eh + 1);
		f->arp_op = rte_be_to_cpu_16(ah->arp_opcode);
		f->arp_sha = ah->arp_data.arp_sha;
		f->arp_sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
		f->arp_tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	} else if (f->ethertype == RTE_ETHER_TYPE_IPV4) {
		ip = (const struct rte_ipv4_hdr *)(eh + 1);
		ihl = (uint32_t)(ip->version_ihl & 15) * 4;
		tot = rte_be_to_cpu_16(ip->total_length);
		f->csum_ok = sum_ok(NULL, ip, ihl);
		f->sip = rte_be_to_cpu_32(ip->src_addr);
		f->dip = rte_be_to_cpu_32(ip->dst_addr);
		f->proto = ip->next_proto_id;
		if (f->proto == IPPROTO_ICMP) {
			ic = (const struct rte_icmp_hdr *)((const char *)ip +
			    ihl);
			f->icmp_type = ic->icmp_type;
			f->icmp_id = rte_be_to_cpu_16(ic->icmp_ident);
			f->icmp_seq = rte_be_to_cpu_16(ic->icmp_seq_nb);
			f->csum_ok &= sum_ok(NULL, ic, tot - ihl);
			f->len = tot - ihl - (uint32_t)sizeof(*ic);
			memcpy(f->data, ic + 1, f->len);
		} else if (f->proto == IPPROTO_TCP) {
			th = (const struct rte_tcp_hdr *)((const char *)ip +
			    ihl);
			thl = (uint32_t)(th->data_off >> 4) * 4;
			f->csum_ok &= sum_ok(ip, th, tot - ihl);
			f->sport = rte_be_to_cpu_16(th->src_port);
			f->dport = rte_be_to_cpu_16(th->dst_port);
			f->seq = rte_be_to_cpu_32(th->sent_seq);
			f->ack = rte_be_to_cpu_32(th->recv_ack);
			f->flags = th->tcp_flags;
			f->win = rte_be_to_cpu_16(th->rx_win);
			o = (const uint8_t *)(th + 1);
			if (thl >= 24 && o[0] == 2 && o[1] == 4)
				f->mss = (uint16_t)(o[2] << 8 | o[3]);
			f->len = tot - ihl - thl;
			if (f->len >= sizeof(f->data))
				f->len = sizeof(f->data) - 1;
			memcpy(f->data, (const uint8_t *)th + thl, f->len);
		}
	}
	rte_pktmbuf_free(m);
	return 0;
}

/* dpt_connect - client handshake, checking the SYN-ACK */
int
dpt_connect(struct dpt *t, struct dpt_conn *c, uint32_t cip, uint16_t cport,
    uint32_t mip)
{
	struct dpt_frame f;
	uint32_t iss = 1000u + cport * 7u;

	memset(c, 0, sizeof(*c));
	c->cip = cip;
	c->cport = cport;
	c->mip = mip;
	c->mport = DPT_SMTP_PORT;
	dpt_tcp(t, cip, cport, mip, DPT_SMTP_PORT, iss, 0, 0x02, 64240, NULL,
	    0, 1460);
	dpt_poll(t, 0);
	if (dpt_recv(t, &f) != 0 || f.flags != 0x12 || f.ack != iss + 1 ||
	    f.seq != utcp_isn(t->world->seed, cip, cport, mip,
	    DPT_SMTP_PORT) || f.mss != 1460 || !f.csum_ok ||
	    !rte_is_same_ether_addr(&f.dst, &t->client_mac))
		return -1;
	c->snd_nxt = iss + 1;
	c->rcv_nxt = f.seq + 1;
	dpt_tcp(t, cip, cport, mip, DPT_SMTP_PORT, c->snd_nxt, c->rcv_nxt,
	    0x10, 64240, NULL, 0, 0);
	dpt_poll(t, 0);
	return 0;
}

/* dpt_collect - take the server's payload, ACK it */
size_t
dpt_collect(struct dpt *t, struct dpt_conn *c, char *reply, size_t rlen,
    uint8_t *flags_seen)
{
	struct dpt_frame f;
	size_t n = 0;
	bool more;
	int round;

	if (flags_seen != NULL)
		*flags_seen = 0;
	for (round = 0; round < 16; round++) {
		more = false;
		while (dpt_recv(t, &f) == 0) {
			if (f.proto != IPPROTO_TCP || f.sport != c->mport ||
			    f.dport != c->cport)
				continue;
			if (flags_seen != NULL)
				*flags_seen |= f.flags;
			if (f.seq != c->rcv_nxt ||
			    (f.len == 0 && !(f.flags & 0x01)))
				continue;
			if (n + f.len < rlen) {
				memcpy(reply + n, f.data, f.len);
				n += f.len;
			}
			c->rcv_nxt += f.len + ((f.flags & 0x01) ? 1 : 0);
			more = true;
		}
		if (!more)
			break;
		dpt_tcp(t, c->cip, c->cport, c->mip, c->mport, c->snd_nxt,
		    c->rcv_nxt, 0x10, 64240, NULL, 0, 0);
		dpt_poll(t, 0);
	}
	if (rlen > 0)
		reply[n < rlen ? n : rlen - 1] = '\0';
	return n;
}

/* dpt_talk - send a line (or lines), collect the answer */
size_t
dpt_talk(struct dpt *t, struct dpt_conn *c, const char *text, char *reply,
    size_t rlen)
{
	uint32_t len = (uint32_t)strlen(text);

	dpt_tcp(t, c->cip, c->cport, c->mip, c->mport, c->snd_nxt, c->rcv_nxt,
	    0x18, 64240, text, len, 0);
	c->snd_nxt += len;
	dpt_poll(t, 0);
	return dpt_collect(t, c, reply, rlen, NULL);
}
