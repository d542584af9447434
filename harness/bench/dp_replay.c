/*
 * DESCRIPTION
 *	DPDK replay benchmark (issue 4): the packet pipeline's own cost per
 *	SMTP transaction, with no kernel and no NIC.  One process: EAL
 *	without hugepages, a ring port (rte_eth_from_rings), one dp_lcore
 *	on it, built as mxsim --backend dpdk builds it.  The client side is
 *	a reactive replay: N sessions (distinct client address and port),
 *	at most W open at a time, each doing SYN, ACK, EHLO, MAIL, RCPT,
 *	DATA, a message of -z bytes with ".", QUIT and FIN.  Every client
 *	segment comes from a template built once (payload and payload
 *	checksum precomputed) and is patched with addresses, ports,
 *	sequence and acknowledgement numbers; the SYN-ACK's sequence number
 *	is checked against utcp_isn().  The client reads what the lcore put
 *	on the TX ring and answers it at once, in bursts through the RX
 *	ring.  A transaction is a 250 after the end of DATA.
 *
 *	Only the lcore's turns (dp_lcore_poll) are timed, with the TSC
 *	(wall) and with the thread's CPU clock (immune to preemption on a
 *	shared machine): transactions per second of lcore time is the
 *	figure for one lcore; the whole loop (client included, same core)
 *	and the process's CPU time are printed too.  Under callgrind, collect with
 *	--toggle-collect=dpr_run (everything in the replay loop) and read
 *	dp_lcore_poll's inclusive count for the pipeline alone.
 *
 *	usage: dp_replay -c SCENARIO [-d ADDR[/LEN]] [-n SESSIONS]
 *	           [-w CONCURRENT] [-z BYTES] [-f FROM] [-t RCPT] [-H]
 *	           [-e EVENTLOG] [-T SECONDS] [-- EAL args]
 *
 *	-d  MX addresses the sessions go to, round robin (198.18.5.1)
 *	-n  sessions, one transaction each (20000); -w  open at once (256)
 *	-z  message body bytes, at most 1200 (1024); -H  HELO, not EHLO
 *	-T  give up after this many seconds (60)
 *	EAL default: -l 0 --no-huge -m 512 --no-pci --no-shconf
 *
 *	Prints one JSON object on stdout and a human line on stderr.
 *
 * DIAGNOSTICS
 *	Exit 2 when the scenario, EAL, the port or memory fail (message on
 *	stderr); exit 1 when not every session completed its transaction
 *	and closed cleanly (the counts say which step failed).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "dp_alloc.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "prof_load.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_state.h"
#include "utcp.h"

#ifndef MXSIM_PROFILES_DIR
#define MXSIM_PROFILES_DIR "profiles"
#endif

#define DPR_RING	8192		/* RX and TX ring slots */
#define DPR_MBUFS	16383		/* per pool */
#define DPR_CLIENT_NET	0xc6124000u	/* 198.18.64.0: clients */
#define DPR_NIP		4000u		/* client addresses */
#define DPR_PORT0	1024u		/* first client port */
#define DPR_WIN		64240		/* client's window */
#define DPR_MAX_MSG	1200u		/* -z: the message fits one segment */
#define DPR_EVLOG_MS	100		/* event-log buffer age */

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10

/* Where a client session is; each step but the first two and the last
 * two waits for one reply. */
enum dpr_step {
	DPR_SYN_SENT = 0,	/* waits for SYN-ACK */
	DPR_GREET,		/* 220 */
	DPR_EHLO,		/* 250 */
	DPR_MAIL,		/* 250 */
	DPR_RCPT,		/* 250 */
	DPR_DATA,		/* 354 */
	DPR_BODY,		/* 250: the transaction */
	DPR_QUIT,		/* 221 and the server's FIN */
	DPR_LAST,		/* our FIN sent: waits for its ACK */
	DPR_DONE,
	DPR_NSTEPS
};

/* A client segment's payload, built once. */
struct dpr_tpl {
	char		*data;
	uint32_t	 len;
	uint32_t	 sum;		/* rte_raw_cksum of data */
};

/* One client session (the replay's side of the connection). */
struct dpr_sess {
	uint32_t	 snd_nxt;	/* our next sequence number */
	uint32_t	 rcv_nxt;	/* next server byte expected */
	uint8_t		 step;		/* enum dpr_step */
	uint8_t		 lpos;		/* bytes of the current reply line */
	char		 line[4];	/* its first bytes */
	bool		 fin;		/* the server's FIN came */
	bool		 got221;
	bool		 failed;	/* an unexpected reply or close */
};

/* The run's options. */
struct dpr_opts {
	const char	*scenario;
	const char	*evlog;
	uint32_t	 mx_first, mx_count;
	uint32_t	 sessions, conc, size;
	const char	*from, *rcpt;
	unsigned	 limit_s;
	bool		 helo;		/* HELO instead of EHLO */
};

/* The replay: port, lcore, client sessions, counts. */
struct dpr {
	struct dpr_opts	 o;
	struct prof_world *world;
	struct sim_state *state;
	struct sim_clock clock;
	struct sim_evlog *evlog;
	struct dp_lcore	*lc;
	struct rte_ring	*rx, *tx;
	struct rte_mempool *lc_pool, *cl_pool;
	struct dp_port_info info;
	uint16_t	 port, mport;
	bool		 eal, port_up;
	struct rte_ether_addr cmac;
	struct dpr_tpl	 tpl[DPR_NSTEPS];	/* sent on entering a step */
	struct dpr_sess	*s;
	struct rte_mbuf	*out[DPR_RING];
	unsigned	 nout;
	struct nb_backend nb;		/* the shared part the lcore uses */
	/* counts */
	uint32_t	 started, active, done, transactions, failed;
	uint64_t	 frames_in, frames_out, stray, seq_skips, isn_bad;
	uint64_t	 unexpected[DPR_NSTEPS];
	uint64_t	 rx_full, nombuf;
	uint64_t	 pipe_cycles, loop_cycles;
	uint64_t	 pipe_cpu_ns;	/* thread CPU time in the lcore turns */
	struct dp_alloc_counts heap;	/* heap calls in the replay loop */
	long		 minflt_setup;	/* page faults before the loop */
	long		 minflt_run;	/* ... in it */
};

static const int dpr_expect[DPR_NSTEPS] = {
	[DPR_GREET] = 220, [DPR_EHLO] = 250, [DPR_MAIL] = 250,
	[DPR_RCPT] = 250, [DPR_DATA] = 354, [DPR_BODY] = 250,
	[DPR_QUIT] = 221,
};

static const char *const dpr_stepname[DPR_NSTEPS] = {
	"syn", "greeting", "ehlo", "mail", "rcpt", "data", "body", "quit",
	"last", "done",
};

static void	usage(void);

/* usage - how to call, then exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: dp_replay -c SCENARIO [-d ADDR[/LEN]] "
	    "[-n SESSIONS] [-w CONCURRENT]\n"
	    "           [-z BYTES] [-f FROM] [-t RCPT] [-H] [-e EVENTLOG] "
	    "[-T SECONDS] [-- EAL args]\n");
	exit(2);
}

/* dpr_parse_range - "a.b.c.d" or "a.b.c.d/len" into first and count */
static int
dpr_parse_range(const char *arg, uint32_t *first, uint32_t *count)
{
	char buf[64], *slash;
	struct in_addr a;
	long len = 32;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		len = strtol(slash, NULL, 10);
		if (len < 8 || len > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*first = ntohl(a.s_addr);
	*count = len == 32 ? 1 : 1u << (32 - len);
	if (len < 31) {			/* skip network and broadcast */
		*first = (*first & ~(*count - 1)) + 1;
		*count -= 2;
	}
	return 0;
}

/* dpr_tpl_set - a payload template and its checksum */
static void
dpr_tpl_set(struct dpr_tpl *t, char *data, uint32_t len)
{
	t->data = data;
	t->len = len;
	t->sum = len > 0 ? rte_raw_cksum(data, len) : 0;
}

/* dpr_templates - the commands and the message, built once */
static int
dpr_templates(struct dpr *r)
{
	static const char pad[] = "The quick brown fox jumps over the lazy "
	    "dog; 0123456789.";
	char buf[512], *msg;
	uint32_t n, k;

	snprintf(buf, sizeof(buf), "%s replay.client.test\r\n",
	    r->o.helo ? "HELO" : "EHLO");
	dpr_tpl_set(&r->tpl[DPR_GREET], strdup(buf), (uint32_t)strlen(buf));
	snprintf(buf, sizeof(buf), "MAIL FROM:<%s>\r\n", r->o.from);
	dpr_tpl_set(&r->tpl[DPR_EHLO], strdup(buf), (uint32_t)strlen(buf));
	snprintf(buf, sizeof(buf), "RCPT TO:<%s>\r\n", r->o.rcpt);
	dpr_tpl_set(&r->tpl[DPR_MAIL], strdup(buf), (uint32_t)strlen(buf));
	dpr_tpl_set(&r->tpl[DPR_RCPT], strdup("DATA\r\n"), 6);
	dpr_tpl_set(&r->tpl[DPR_BODY], strdup("QUIT\r\n"), 6);
	/* The message: headers, then lines of text up to -z bytes, then
	 * the end-of-data line. */
	if ((msg = malloc(r->o.size + 512)) == NULL)
		return -ENOMEM;
	n = (uint32_t)snprintf(msg, 512, "From: <%s>\r\nTo: <%s>\r\n"
	    "Subject: replay\r\nMessage-ID: <replay@client.test>\r\n\r\n",
	    r->o.from, r->o.rcpt);
	while (n < r->o.size) {
		k = (uint32_t)sizeof(pad) - 1;
		if (k > r->o.size - n)
			k = r->o.size - n;
		memcpy(msg + n, pad, k);
		n += k;
		memcpy(msg + n, "\r\n", 2);
		n += 2;
	}
	memcpy(msg + n, ".\r\n", 3);
	n += 3;
	dpr_tpl_set(&r->tpl[DPR_DATA], msg, n);
	for (k = DPR_GREET; k <= DPR_BODY; k++)
		if (r->tpl[k].data == NULL)
			return -ENOMEM;
	if (n > (uint32_t)r->info.mtu - 40)	/* one segment */
		return -EMSGSIZE;
	return 0;
}

/* dpr_addr - client address, port and MX address of session @p i */
static void
dpr_addr(const struct dpr *r, uint32_t i, uint32_t *cip, uint16_t *cport,
    uint32_t *mip)
{
	uint32_t k = i % DPR_NIP;

	*cip = DPR_CLIENT_NET + (k / 250) * 256 + k % 250 + 1;
	*cport = (uint16_t)(DPR_PORT0 + i / DPR_NIP);
	*mip = r->o.mx_first + i % r->o.mx_count;
}

/* dpr_index - session of a client address and port, or -1 */
static int64_t
dpr_index(const struct dpr *r, uint32_t cip, uint16_t cport)
{
	uint32_t off = cip - DPR_CLIENT_NET, k;
	uint64_t i;

	if (off >= (DPR_NIP / 250) * 256 || (off & 255) == 0 ||
	    (off & 255) > 250 || cport < DPR_PORT0)
		return -1;
	k = (off >> 8) * 250 + (off & 255) - 1;
	i = (uint64_t)(cport - DPR_PORT0) * DPR_NIP + k;
	return i < r->started ? (int64_t)i : -1;
}

/* dpr_queue - a frame for the lcore's RX ring; bursts of 32 */
static void
dpr_queue(struct dpr *r, struct rte_mbuf *m)
{
	r->out[r->nout++] = m;
	if (r->nout == DPR_RING) {
		rte_pktmbuf_free(m);	/* cannot happen: one per session */
		r->nout--;
		r->rx_full++;
	}
}

/* dpr_flush - enqueue the queued frames on the RX ring */
static void
dpr_flush(struct dpr *r)
{
	unsigned n;

	if (r->nout == 0)
		return;
	n = rte_ring_enqueue_burst(r->rx, (void **)r->out, r->nout, NULL);
	r->frames_in += n;
	if (n < r->nout) {
		r->rx_full += r->nout - n;
		rte_pktmbuf_free_bulk(r->out + n, r->nout - n);
	}
	r->nout = 0;
}

/* dpr_send - one client segment of session @p i from a template */
static void
dpr_send(struct dpr *r, uint32_t i, const struct dpr_tpl *t, uint8_t flags)
{
	struct dpr_sess *s = &r->s[i];
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint32_t cip, mip, plen = t != NULL ? t->len : 0, sum;
	uint16_t cport, thl = (flags & TCP_SYN) ? 24 : 20;
	uint8_t *o;

	dpr_addr(r, i, &cip, &cport, &mip);
	if ((m = rte_pktmbuf_alloc(r->cl_pool)) == NULL) {
		r->nombuf++;
		return;
	}
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m,
	    (uint16_t)(sizeof(*eh) + sizeof(*ip) + thl + plen));
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		r->nombuf++;
		return;
	}
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	th = (struct rte_tcp_hdr *)(ip + 1);
	eh->dst_addr = r->info.mac;
	eh->src_addr = r->cmac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + thl +
	    plen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(cip);
	ip->dst_addr = rte_cpu_to_be_32(mip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = rte_cpu_to_be_16(cport);
	th->dst_port = rte_cpu_to_be_16(r->mport);
	th->sent_seq = rte_cpu_to_be_32(s->snd_nxt);
	th->recv_ack = rte_cpu_to_be_32((flags & TCP_ACK) ? s->rcv_nxt : 0);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(DPR_WIN);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (flags & TCP_SYN) {
		o = (uint8_t *)(th + 1);
		o[0] = 2;
		o[1] = 4;
		o[2] = 1460 >> 8;
		o[3] = 1460 & 0xff;
	}
	if (plen > 0)
		memcpy((uint8_t *)th + thl, t->data, plen);
	sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(th, thl) +
	    (t != NULL ? t->sum : 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	th->cksum = (uint16_t)~sum;
	s->snd_nxt += plen + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
	dpr_queue(r, m);
}

/* dpr_start - open sessions up to the concurrency */
static void
dpr_start(struct dpr *r)
{
	uint32_t i;

	while (r->active < r->o.conc && r->started < r->o.sessions) {
		i = r->started++;
		r->s[i].snd_nxt = 7000u + i * 1013u;
		r->s[i].step = DPR_SYN_SENT;
		r->active++;
		dpr_send(r, i, NULL, TCP_SYN);
	}
}

/* dpr_end - a session is over (closed or given up) */
static void
dpr_end(struct dpr *r, uint32_t i, bool ok)
{
	struct dpr_sess *s = &r->s[i];

	s->step = DPR_DONE;
	r->active--;
	r->done++;
	if (!ok || s->failed)
		r->failed++;
}

/* dpr_reply - a whole reply came: check it, send the next command */
static void
dpr_reply(struct dpr *r, uint32_t i, int code)
{
	struct dpr_sess *s = &r->s[i];
	uint8_t st = s->step;

	if (st < DPR_GREET || st > DPR_QUIT) {
		r->unexpected[st]++;
		return;
	}
	if (code != dpr_expect[st]) {
		r->unexpected[st]++;
		s->failed = true;
		if (st != DPR_QUIT) {
			s->step = DPR_QUIT;
			dpr_send(r, i, &r->tpl[DPR_BODY], TCP_ACK | TCP_PSH);
		}
		return;
	}
	if (st == DPR_BODY)
		r->transactions++;
	if (st == DPR_QUIT) {
		s->got221 = true;
		return;
	}
	s->step = (uint8_t)(st + 1);
	dpr_send(r, i, &r->tpl[st], TCP_ACK | TCP_PSH);
}

/* dpr_scan - the server's bytes: find the end of each reply */
static unsigned
dpr_scan(struct dpr *r, uint32_t i, const char *p, uint32_t len)
{
	struct dpr_sess *s = &r->s[i];
	unsigned replies = 0;
	uint32_t k;
	int code;

	for (k = 0; k < len; k++) {
		if (p[k] != '\n') {
			if (s->lpos < 4)
				s->line[s->lpos] = p[k];
			if (s->lpos < 255)
				s->lpos++;
			continue;
		}
		if (s->lpos >= 4 && s->line[3] == ' ') {
			code = (s->line[0] - '0') * 100 +
			    (s->line[1] - '0') * 10 + (s->line[2] - '0');
			dpr_reply(r, i, code);
			replies++;
		}
		s->lpos = 0;
	}
	return replies;
}

/* dpr_segment - one frame the lcore sent: the client's reaction */
static void
dpr_segment(struct dpr *r, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	struct dpr_sess *s;
	uint32_t ihl, thl, len, seq, cip, mip, before;
	uint16_t cport;
	uint8_t fl;
	int64_t i;

	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		r->stray++;
		return;
	}
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	if (ip->next_proto_id != IPPROTO_TCP) {
		r->stray++;
		return;
	}
	ihl = (uint32_t)(ip->version_ihl & 15) * 4;
	th = (const struct rte_tcp_hdr *)((const char *)ip + ihl);
	thl = (uint32_t)(th->data_off >> 4) * 4;
	len = rte_be_to_cpu_16(ip->total_length) - ihl - thl;
	i = dpr_index(r, rte_be_to_cpu_32(ip->dst_addr),
	    rte_be_to_cpu_16(th->dst_port));
	if (i < 0 || r->s[i].step == DPR_DONE) {
		r->stray++;
		return;
	}
	s = &r->s[i];
	fl = th->tcp_flags;
	seq = rte_be_to_cpu_32(th->sent_seq);
	if (fl & TCP_RST) {
		s->failed = true;
		r->unexpected[s->step]++;
		dpr_end(r, (uint32_t)i, false);
		return;
	}
	if (s->step == DPR_SYN_SENT) {
		if ((fl & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK)) {
			r->unexpected[DPR_SYN_SENT]++;
			return;
		}
		dpr_addr(r, (uint32_t)i, &cip, &cport, &mip);
		if (seq != utcp_isn(r->world->seed, cip, cport, mip, r->mport))
			r->isn_bad++;
		s->rcv_nxt = seq + 1;
		s->step = DPR_GREET;
		dpr_send(r, (uint32_t)i, NULL, TCP_ACK);
		return;
	}
	if (len > 0 || (fl & TCP_FIN)) {
		if (seq != s->rcv_nxt) {
			r->seq_skips++;		/* a duplicate: answered by
						 * the next ACK anyway */
			return;
		}
		before = s->snd_nxt;
		s->rcv_nxt += len;
		dpr_scan(r, (uint32_t)i, (const char *)th + thl, len);
		if (fl & TCP_FIN) {
			s->rcv_nxt++;
			s->fin = true;
		}
		if (s->fin && s->step != DPR_LAST) {
			if (s->step != DPR_QUIT || !s->got221)
				s->failed = true;	/* closed early */
			s->step = DPR_LAST;
			dpr_send(r, (uint32_t)i, NULL, TCP_FIN | TCP_ACK);
		} else if (s->snd_nxt == before) {
			dpr_send(r, (uint32_t)i, NULL, TCP_ACK);
		}
		return;
	}
	if (s->step == DPR_LAST && (fl & TCP_ACK) &&
	    rte_be_to_cpu_32(th->recv_ack) == s->snd_nxt)
		dpr_end(r, (uint32_t)i, true);
}

/* dpr_thread_ns - CPU time of the calling thread */
static uint64_t
dpr_thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* dpr_run - the replay loop; kept out of line for --toggle-collect */
static __attribute__((noinline)) void
dpr_run(struct dpr *r)
{
	struct rte_mbuf *got[DP_TX_MAX];
	uint64_t now, t0, t1, c0, tloop, deadline, last_flush = 0;
	unsigned n, k;

	now = sim_clock_mono_ms();
	deadline = now + (uint64_t)r->o.limit_s * 1000;
	tloop = rte_rdtsc();
	while (r->done < r->o.sessions && now < deadline) {
		dpr_start(r);
		dpr_flush(r);
		c0 = dpr_thread_ns();
		t0 = rte_rdtsc();
		dp_lcore_poll(r->lc, now);
		if (now - last_flush >= DPR_EVLOG_MS) {
			dp_lcore_evlog_flush(r->lc, DPR_EVLOG_MS);
			last_flush = now;
		}
		t1 = rte_rdtsc();
		r->pipe_cpu_ns += dpr_thread_ns() - c0;
		r->pipe_cycles += t1 - t0;
		while ((n = rte_ring_dequeue_burst(r->tx, (void **)got,
		    DP_TX_MAX, NULL)) > 0) {
			r->frames_out += n;
			for (k = 0; k < n; k++)
				dpr_segment(r, got[k]);
			rte_pktmbuf_free_bulk(got, n);
		}
		now = sim_clock_mono_ms();
	}
	r->loop_cycles = rte_rdtsc() - tloop;
}

/* dpr_setup - scenario, state, clock, EAL, rings, pools, port, lcore */
static int
dpr_setup(struct dpr *r, int eal_argc, char **eal_argv)
{
	struct dp_lcore_conf lcf;
	struct prof_error perr;
	struct nb_conf nc;
	char buf[1200];
	int p, rc;

	memset(&perr, 0, sizeof(perr));
	r->world = prof_load_scenario(r->o.scenario, MXSIM_PROFILES_DIR,
	    &perr);
	if (r->world == NULL) {
		fprintf(stderr, "dp_replay: %s\n", prof_error_str(&perr, buf,
		    sizeof(buf)));
		return -1;
	}
	r->mport = r->world->port;
	sim_clock_init(&r->clock, r->world->start_ms, r->world->time_scale);
	if ((r->state = sim_state_new(1u << 20, 86400000ULL)) == NULL)
		return -1;
	if (r->o.evlog != NULL &&
	    (r->evlog = sim_evlog_open(r->o.evlog, &rc)) == NULL) {
		fprintf(stderr, "dp_replay: %s: %s\n", r->o.evlog,
		    strerror(-rc));
		return -1;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "dp_replay: EAL initialisation failed\n");
		return -1;
	}
	r->eal = true;
	r->rx = rte_ring_create("dpr_rx", DPR_RING, SOCKET_ID_ANY,
	    RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->tx = rte_ring_create("dpr_tx", DPR_RING, SOCKET_ID_ANY,
	    RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->lc_pool = rte_pktmbuf_pool_create("dpr_lc", DPR_MBUFS, 256, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	r->cl_pool = rte_pktmbuf_pool_create("dpr_cl", DPR_MBUFS, 256, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (r->rx == NULL || r->tx == NULL || r->lc_pool == NULL ||
	    r->cl_pool == NULL) {
		fprintf(stderr, "dp_replay: rings/pools: %s (EAL -m?)\n",
		    rte_strerror(rte_errno));
		return -1;
	}
	if ((p = rte_eth_from_rings("dpr0", &r->rx, 1, &r->tx, 1,
	    SOCKET_ID_ANY)) < 0) {
		fprintf(stderr, "dp_replay: rte_eth_from_rings failed\n");
		return -1;
	}
	r->port = (uint16_t)p;
	if (dp_port_setup(r->port, 1, &r->lc_pool, &r->info, buf,
	    sizeof(buf)) != 0) {
		fprintf(stderr, "dp_replay: %s\n", buf);
		return -1;
	}
	r->port_up = true;
	memcpy(r->cmac.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	memset(&nc, 0, sizeof(nc));
	nc.world = r->world;
	nc.state = r->state;
	nc.clock = &r->clock;
	nc.evlog = r->evlog;
	if (nb_backend_init(&r->nb, NULL, &nc) != 0)
		return -1;
	memset(&lcf, 0, sizeof(lcf));
	lcf.port = r->port;
	lcf.pool = r->lc_pool;
	lcf.mac = r->info.mac;
	lcf.mss = (uint16_t)(r->info.mtu - 40);
	lcf.rx_csum_offload = r->info.rx_csum;
	lcf.tx_csum_offload = r->info.tx_csum;
	lcf.nb = &r->nb;
	/* Every session's control block may sit in TIME_WAIT (1 s). */
	lcf.max_conns = r->o.sessions + r->o.conc;
	if ((r->lc = dp_lcore_new(&lcf)) == NULL) {
		fprintf(stderr, "dp_replay: lcore: out of memory\n");
		return -1;
	}
	if ((r->s = calloc(r->o.sessions, sizeof(*r->s))) == NULL)
		return -1;
	if ((rc = dpr_templates(r)) != 0) {
		fprintf(stderr, "dp_replay: message: %s (it must fit one "
		    "segment)\n", strerror(-rc));
		return -1;
	}
	return 0;
}

/* dpr_report - the JSON object on stdout, a line on stderr */
static void
dpr_report(const struct dpr *r, double cpu_s)
{
	const struct utcp_counters *tc = utcp_counters(dp_lcore_tcp(r->lc));
	const struct dp_counters *pc = dp_lcore_counters(r->lc);
	double hz = (double)rte_get_tsc_hz();
	double pipe_s = (double)r->pipe_cycles / hz;
	double loop_s = (double)r->loop_cycles / hz;
	double pcpu_s = (double)r->pipe_cpu_ns / 1e9;
	double t = r->transactions;
	unsigned k;

	printf("{\"greeting\": \"%s\", \"sessions\": %u, "
	    "\"concurrency\": %u, \"size\": %u, "
	    "\"mx_addresses\": %u, \"transactions\": %u, \"completed\": %u, "
	    "\"failed\": %u, \"pipeline_s\": %.6f, \"loop_s\": %.6f, "
	    "\"cpu_s\": %.6f, \"lcore_cpu_s\": %.6f, "
	    "\"tx_per_lcore_cpu_s\": %.1f, \"tx_per_s_lcore\": %.1f, "
	    "\"tx_per_s_loop\": %.1f, \"tx_per_cpu_s\": %.1f, "
	    "\"us_per_tx_lcore\": %.3f, \"frames_in\": %llu, "
	    "\"frames_out\": %llu, \"frames_per_tx\": %.2f, "
	    "\"lcore_messages\": %llu, \"retransmits\": %llu, "
	    "\"ooo_dropped\": %llu, \"rst_sent\": %llu, "
	    "\"syn_dropped\": %llu, \"csum_bad\": %llu, \"isn_bad\": %llu, "
	    "\"seq_skips\": %llu, \"stray\": %llu, \"rx_full\": %llu, "
	    "\"nombuf\": %llu, \"heap_allocs\": %llu, \"heap_frees\": %llu, "
	    "\"minflt_setup\": %ld, \"minflt_run\": %ld, "
	    "\"tsc_hz\": %.0f, \"unexpected\": {",
	    r->o.helo ? "HELO" : "EHLO", r->o.sessions, r->o.conc,
	    r->o.size, r->o.mx_count,
	    r->transactions, r->done, r->failed, pipe_s, loop_s, cpu_s,
	    pcpu_s, pcpu_s > 0 ? t / pcpu_s : 0, pipe_s > 0 ? t / pipe_s : 0,
	    loop_s > 0 ? t / loop_s : 0,
	    cpu_s > 0 ? t / cpu_s : 0, t > 0 ? pipe_s * 1e6 / t : 0,
	    (unsigned long long)r->frames_in,
	    (unsigned long long)r->frames_out,
	    t > 0 ? (double)(r->frames_in + r->frames_out) / t : 0,
	    (unsigned long long)dp_lcore_stats(r->lc)->messages,
	    (unsigned long long)tc->retransmits,
	    (unsigned long long)tc->ooo_dropped,
	    (unsigned long long)tc->rst_sent,
	    (unsigned long long)tc->syn_dropped,
	    (unsigned long long)pc->csum_bad, (unsigned long long)r->isn_bad,
	    (unsigned long long)r->seq_skips, (unsigned long long)r->stray,
	    (unsigned long long)r->rx_full, (unsigned long long)r->nombuf,
	    (unsigned long long)r->heap.allocs,
	    (unsigned long long)r->heap.frees, r->minflt_setup,
	    r->minflt_run, hz);
	for (k = 0; k < DPR_NSTEPS; k++)
		printf("%s\"%s\": %llu", k > 0 ? ", " : "", dpr_stepname[k],
		    (unsigned long long)r->unexpected[k]);
	printf("}}\n");
	fprintf(stderr, "dp_replay: %u/%u transactions, %u failed; lcore "
	    "CPU %.3f s = %.0f tx/s; lcore wall %.3f s = %.0f tx/s "
	    "(%.2f us/tx); loop %.3f s = %.0f tx/s; process CPU %.3f s; "
	    "%.1f frames/tx; %llu retransmits; %llu heap calls, %ld page "
	    "faults in the loop (%ld before)\n",
	    r->transactions, r->o.sessions, r->failed, pcpu_s,
	    pcpu_s > 0 ? t / pcpu_s : 0, pipe_s,
	    pipe_s > 0 ? t / pipe_s : 0, t > 0 ? pipe_s * 1e6 / t : 0,
	    loop_s, loop_s > 0 ? t / loop_s : 0, cpu_s,
	    t > 0 ? (double)(r->frames_in + r->frames_out) / t : 0,
	    (unsigned long long)tc->retransmits,
	    (unsigned long long)(r->heap.allocs + r->heap.frees),
	    r->minflt_run, r->minflt_setup);
}

/* dpr_cpu_s - user + system CPU seconds of the process; its minor page
 * faults so far into *@minflt */
static double
dpr_cpu_s(long *minflt)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*minflt = ru.ru_minflt;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* dpr_free - everything the setup made */
static void
dpr_free(struct dpr *r)
{
	unsigned k;

	if (r->lc != NULL) {
		dp_lcore_finish(r->lc, sim_clock_mono_ms());
		dp_lcore_free(r->lc);
	}
	if (r->port_up)
		dp_port_close(r->port);
	if (r->evlog != NULL)
		sim_evlog_close(r->evlog, NULL, NULL);
	for (k = 0; k < DPR_NSTEPS; k++)
		free(r->tpl[k].data);
	free(r->s);
	nb_backend_fini(&r->nb);
	sim_state_free(r->state);
	prof_world_free(r->world);
	if (r->eal)
		rte_eal_cleanup();
}

int
main(int argc, char **argv)
{
	static char a_l[] = "-l", a_0[] = "0", a_nohuge[] = "--no-huge",
	    a_m[] = "-m", a_512[] = "512", a_nopci[] = "--no-pci",
	    a_noshconf[] = "--no-shconf", a_log[] = "--log-level=error";
	char *def_eal[] = { argv[0], a_l, a_0, a_nohuge, a_m, a_512,
	    a_nopci, a_noshconf, a_log, NULL };
	char **eal_argv = def_eal;
	struct dpr *r;
	double cpu0, cpu1;
	long flt0, flt1;
	int c, eal_argc = 9, rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return 2;
	r->o.mx_first = 0xc6120501u;	/* 198.18.5.1 */
	r->o.mx_count = 1;
	r->o.sessions = 20000;
	r->o.conc = 256;
	r->o.size = 1024;
	r->o.from = "bench@auth.example";
	r->o.rcpt = "user@gmail.com";
	r->o.limit_s = 60;
	while ((c = getopt(argc, argv, "c:d:e:f:Hn:t:T:w:z:")) != -1) {
		switch (c) {
		case 'H':
			r->o.helo = true;
			break;
		case 'c':
			r->o.scenario = optarg;
			break;
		case 'd':
			if (dpr_parse_range(optarg, &r->o.mx_first,
			    &r->o.mx_count) != 0)
				usage();
			break;
		case 'e':
			r->o.evlog = optarg;
			break;
		case 'f':
			r->o.from = optarg;
			break;
		case 'n':
			r->o.sessions = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			r->o.rcpt = optarg;
			break;
		case 'T':
			r->o.limit_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			r->o.conc = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'z':
			r->o.size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (r->o.scenario == NULL || r->o.sessions == 0 || r->o.conc == 0 ||
	    r->o.conc > DPR_RING / 4 || r->o.limit_s == 0 ||
	    r->o.size > DPR_MAX_MSG ||
	    r->o.sessions > DPR_NIP * (65535u - DPR_PORT0))
		usage();
	if (optind < argc) {		/* EAL arguments after "--" */
		eal_argv = argv + optind - 1;
		eal_argv[0] = argv[0];
		eal_argc = argc - optind + 1;
	}
	if (dpr_setup(r, eal_argc, eal_argv) != 0) {
		dpr_free(r);
		free(r);
		return 2;
	}
	cpu0 = dpr_cpu_s(&flt0);
	dp_alloc_arm();
	dpr_run(r);
	dp_alloc_disarm(&r->heap);
	cpu1 = dpr_cpu_s(&flt1);
	r->minflt_setup = flt0;
	r->minflt_run = flt1 - flt0;
	dpr_report(r, cpu1 - cpu0);
	rc = r->transactions == r->o.sessions && r->done == r->o.sessions &&
	    r->failed == 0 ? 0 : 1;
	dpr_free(r);
	free(r);
	return rc;
}
