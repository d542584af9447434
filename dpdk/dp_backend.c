/*
 * DESCRIPTION
 *	The DPDK backend's setup and lcore loop.  EAL with the caller's
 *	arguments; one mbuf pool and one queue pair per lcore (main lcore
 *	included); each lcore polls its queue, runs its TCP timers, flushes
 *	its event-log buffer, and sleeps briefly when idle if asked to.  The
 *	stop flag and the current world (published by the control API,
 *	nb_publish()) are read once per loop, one atomic load each, no lock; at stop every
 *	lcore drains its sessions for at most grace_s seconds and resets the
 *	rest.
 *
 * DIAGNOSTICS
 *	Setup failures are returned with a message.  An lcore without a
 *	queue (more lcores than the port has queues) only waits for stop,
 *	and the setup says so on stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_backend.h"
#include "dp_lcore.h"
#include "dp_port.h"

#define DP_DEF_MBUFS	8191
#define DP_IDLE_POLLS	1024
#define DP_EVLOG_AGE_MS	200

struct dp_backend {
	struct nb_backend nb;		/* first: the backend contract */
	struct dp_backend_conf conf;
	struct dp_port_info info;
	uint16_t	 port;
	bool		 eal;		/* rte_eal_init succeeded */
	bool		 port_up;
	unsigned	 npools;	/* one per EAL lcore */
	unsigned	 nlc;		/* lcores with a queue */
	struct dp_lcore	*lc[RTE_MAX_LCORE];	/* by queue */
	int		 qof[RTE_MAX_LCORE];	/* lcore id -> queue, -1 */
	struct rte_mempool *pools[RTE_MAX_LCORE];
	int		 stop;
	char		 desc[256];
};

#define DP_BE(b)	((struct dp_backend *)(b))
#define DP_CBE(b)	((const struct dp_backend *)(b))

static const struct nb_ops dp_ops;

static int	lcore_main(void *);
static void	dp_stop(struct nb_backend *);
static void	dp_free(struct nb_backend *);

/* dp_pools - one mbuf pool per EAL lcore; 0 or -1 with a message */
static int
dp_pools(struct dp_backend *be, char *err, size_t errlen)
{
	unsigned lid, mbufs;
	char name[64];

	mbufs = be->conf.mbufs != 0 ? be->conf.mbufs : DP_DEF_MBUFS;
	RTE_LCORE_FOREACH(lid) {
		snprintf(name, sizeof(name), "dp_mbuf_%u", be->npools);
		be->pools[be->npools] = rte_pktmbuf_pool_create(name, mbufs,
		    256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		    (int)rte_lcore_to_socket_id(lid));
		if (be->pools[be->npools] == NULL) {
			snprintf(err, errlen, "mbuf pool of %u: %s (give EAL "
			    "more memory, -m)", mbufs, rte_strerror(rte_errno));
			return -1;
		}
		be->npools++;
	}
	return 0;
}

/* dp_lcores - a packet lcore per queue pair; 0 or -1 with a message */
static int
dp_lcores(struct dp_backend *be, char *err, size_t errlen)
{
	struct dp_lcore_conf lcf;
	unsigned lid, q = 0;

	RTE_LCORE_FOREACH(lid) {
		if (q == be->nlc)
			break;
		memset(&lcf, 0, sizeof(lcf));
		lcf.idx = q;
		lcf.port = be->port;
		lcf.queue = (uint16_t)q;
		lcf.pool = be->pools[q];
		lcf.mac = be->info.mac;
		lcf.mss = (uint16_t)(be->info.mtu - 40);
		lcf.rx_csum_offload = be->info.rx_csum;
		lcf.tx_csum_offload = be->info.tx_csum;
		lcf.nb = &be->nb;
		lcf.max_conns = be->conf.nb.max_conns;
		lcf.time_wait_ms = be->conf.time_wait_ms;
		if ((be->lc[q] = dp_lcore_new(&lcf)) == NULL) {
			snprintf(err, errlen, "lcore %u: out of memory", lid);
			return -1;
		}
		be->qof[lid] = (int)q;
		q++;
	}
	return 0;
}

/* dp_backend_new - EAL, port, lcores */
struct nb_backend *
dp_backend_new(const struct dp_backend_conf *conf, int eal_argc,
    char **eal_argv, char *err, size_t errlen)
{
	const struct prof_world *w = conf->nb.world;
	struct dp_backend *be;
	unsigned lid;

	if ((be = calloc(1, sizeof(*be))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	be->conf = *conf;
	for (lid = 0; lid < RTE_MAX_LCORE; lid++)
		be->qof[lid] = -1;
	if (w != NULL && w->nblocks6 > 0) {
		/* the DPDK path (dp_lcore.c, utcp) speaks IPv4 only */
		snprintf(err, errlen, "the DPDK backend serves IPv4 MX "
		    "addresses only, and the scenario has %zu IPv6 block(s) "
		    "(servers[].addresses): serve them with --backend socket",
		    w->nblocks6);
		goto fail;
	}
	if (conf->nb.max_conns == 0 || w == NULL ||
	    prof_world_naddrs(w) == 0) {
		snprintf(err, errlen, "nothing to serve (no MX address or "
		    "max_conns 0)");
		goto fail;
	}
	if (nb_backend_init(&be->nb, &dp_ops, &conf->nb) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		snprintf(err, errlen, "EAL initialisation failed (see the EAL "
		    "messages above)");
		goto fail;
	}
	be->eal = true;
	be->port = conf->port;
	if (!rte_eth_dev_is_valid_port(be->port)) {
		snprintf(err, errlen, "no ethdev port %u (give one with "
		    "--vdev=net_tap0,iface=dtap0 or bind a NIC to vfio-pci)",
		    be->port);
		goto fail;
	}
	if (dp_pools(be, err, errlen) != 0 ||
	    dp_port_setup(be->port, (uint16_t)be->npools, be->pools,
	    &be->info, err, errlen) != 0)
		goto fail;
	be->port_up = true;
	be->nlc = be->info.nq;
	if (be->nlc < be->npools)
		fprintf(stderr, "mxsim: port %u has %u queue pairs for %u "
		    "lcores; %u lcores stay idle\n", be->port, be->nlc,
		    be->npools, be->npools - be->nlc);
	if (dp_lcores(be, err, errlen) != 0)
		goto fail;
	snprintf(be->desc, sizeof(be->desc), "port %u (%s), %u queue "
	    "pair(s)%s, MAC %02X:%02X:%02X:%02X:%02X:%02X, MTU %u, "
	    "checksum offload rx %s tx %s", be->port, be->info.driver,
	    be->nlc, be->info.rss ? " with RSS" : "",
	    be->info.mac.addr_bytes[0], be->info.mac.addr_bytes[1],
	    be->info.mac.addr_bytes[2], be->info.mac.addr_bytes[3],
	    be->info.mac.addr_bytes[4], be->info.mac.addr_bytes[5],
	    be->info.mtu, be->info.rx_csum ? "on" : "off",
	    be->info.tx_csum ? "on" : "off");
	return &be->nb;
fail:
	dp_free(&be->nb);
	return NULL;
}

/* dp_describe - the banner's fragment: port and pipeline */
static void
dp_describe(const struct nb_backend *b, char *buf, size_t len)
{
	snprintf(buf, len, "on port %u over DPDK (%s)",
	    DP_CBE(b)->conf.nb.world->port, DP_CBE(b)->desc);
}

/* dp_banner - no STARTTLS over DPDK */
static void
dp_banner(const struct nb_backend *b, FILE *fp)
{
	(void)b;
	fprintf(fp, "  STARTTLS: off\n");
}

/* lcore_main - poll until stop, drain, finish */
static int
lcore_main(void *arg)
{
	struct dp_backend *be = arg;
	struct dp_lcore *lc;
	uint64_t now, deadline, last_flush = 0;
	unsigned idle = 0;
	int q = be->qof[rte_lcore_id()];

	if (q < 0) {
		while (!__atomic_load_n(&be->stop, __ATOMIC_RELAXED))
			usleep(10000);
		return 0;
	}
	lc = be->lc[q];
	while (!__atomic_load_n(&be->stop, __ATOMIC_RELAXED)) {
		/* a world published by the control API: one load a turn */
		dp_lcore_refresh(lc);
		now = sim_clock_mono_ms();
		if (dp_lcore_poll(lc, now) > 0)
			idle = 0;
		else if (be->conf.idle_sleep_us != 0 &&
		    ++idle >= DP_IDLE_POLLS)
			usleep(be->conf.idle_sleep_us);
		if (now - last_flush >= DP_EVLOG_AGE_MS) {
			dp_lcore_evlog_flush(lc, DP_EVLOG_AGE_MS);
			last_flush = now;
		}
	}
	now = sim_clock_mono_ms();
	dp_lcore_drain(lc, now);
	deadline = now + (uint64_t)be->conf.nb.grace_s * 1000;
	while (utcp_nsessions(dp_lcore_tcp(lc)) > 0 && now < deadline) {
		if (dp_lcore_poll(lc, now) == 0 && be->conf.idle_sleep_us != 0)
			usleep(be->conf.idle_sleep_us);
		now = sim_clock_mono_ms();
	}
	dp_lcore_finish(lc, now);
	return 0;
}

/* dp_run - launch the loop on every lcore, main included */
static int
dp_run(struct nb_backend *b)
{
	int rc;

	rc = rte_eal_mp_remote_launch(lcore_main, DP_BE(b), CALL_MAIN);
	if (rc != 0) {
		dp_stop(b);
		rte_eal_mp_wait_lcore();
		return rc < 0 ? rc : -rc;
	}
	rte_eal_mp_wait_lcore();
	return 0;
}

/* dp_stop - set the flag (signal-safe) */
static void
dp_stop(struct nb_backend *b)
{
	__atomic_store_n(&DP_BE(b)->stop, 1, __ATOMIC_RELAXED);
}

/* dp_stats - merge the lcores' reply counters */
static void
dp_stats(const struct nb_backend *b, struct sim_stats *out)
{
	const struct dp_backend *be = DP_CBE(b);
	unsigned i;

	for (i = 0; i < be->nlc; i++)
		if (be->lc[i] != NULL)
			sim_stats_merge(out, dp_lcore_stats(be->lc[i]));
}

/* dp_open_conns - live sessions */
static uint64_t
dp_open_conns(const struct nb_backend *b)
{
	const struct dp_backend *be = DP_CBE(b);
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < be->nlc; i++)
		if (be->lc[i] != NULL)
			n += utcp_nsessions(dp_lcore_tcp(be->lc[i]));
	return n;
}

/* dp_nlcores - lcores that poll a queue */
static unsigned
dp_nlcores(const struct nb_backend *b)
{
	return DP_CBE(b)->nlc;
}

/* dp_load - one lcore's open and started sessions */
static void
dp_load(const struct nb_backend *b, unsigned idx, uint64_t *open,
    uint64_t *sessions)
{
	const struct dp_backend *be = DP_CBE(b);
	const struct utcp_stack *st;

	if (idx >= be->nlc || be->lc[idx] == NULL)
		return;
	st = dp_lcore_tcp(be->lc[idx]);
	*open = utcp_nsessions(st);
	*sessions = __atomic_load_n(&utcp_counters(st)->established,
	    __ATOMIC_RELAXED);
}

/* dp_summary - pipeline and TCP counters, summed, on @p diag */
static void
dp_summary(const struct nb_backend *b, FILE *out, FILE *fp)
{
	const struct dp_backend *be = DP_CBE(b);
	struct dp_counters d;
	struct utcp_counters t;
	const struct dp_counters *dc;
	const struct utcp_counters *tc;
	unsigned i;

	(void)out;
	memset(&d, 0, sizeof(d));
	memset(&t, 0, sizeof(t));
	for (i = 0; i < be->nlc; i++) {
		if (be->lc[i] == NULL)
			continue;
		dc = dp_lcore_counters(be->lc[i]);
		tc = utcp_counters(dp_lcore_tcp(be->lc[i]));
#define ADD(s, f) s.f += s##c->f
		ADD(d, rx); ADD(d, tx); ADD(d, tx_dropped);
		ADD(d, arp_replies); ADD(d, arp_ignored); ADD(d, icmp_echo);
		ADD(d, ip_bad); ADD(d, ip_frag); ADD(d, csum_bad);
		ADD(d, not_ours); ADD(d, other);
		ADD(t, syn); ADD(t, established); ADD(t, syn_dropped);
		ADD(t, closed); ADD(t, rst_sent); ADD(t, rst_rcvd);
		ADD(t, retransmits); ADD(t, aborted); ADD(t, ooo_dropped);
		ADD(t, bad_port); ADD(t, bad_seg); ADD(t, tx_nombuf);
		ADD(t, timeouts); ADD(t, bytes_in); ADD(t, bytes_out);
#undef ADD
	}
#define U(x) (unsigned long long)(x)
	fprintf(fp, "dpdk: frames rx %llu tx %llu (tx dropped %llu); arp "
	    "replies %llu (ignored %llu); icmp echo %llu; dropped: bad ip "
	    "%llu, fragments %llu, bad checksum %llu, not ours %llu, other "
	    "%llu\n", U(d.rx), U(d.tx), U(d.tx_dropped), U(d.arp_replies),
	    U(d.arp_ignored), U(d.icmp_echo), U(d.ip_bad), U(d.ip_frag),
	    U(d.csum_bad), U(d.not_ours), U(d.other));
	fprintf(fp, "dpdk: tcp syn %llu, established %llu, syn dropped "
	    "%llu, closed %llu, rst sent %llu rcvd %llu, retransmits %llu, "
	    "aborted %llu, out-of-order %llu, bad port %llu, bad segment "
	    "%llu, no mbuf %llu, timeouts %llu, bytes in %llu out %llu\n",
	    U(t.syn), U(t.established), U(t.syn_dropped), U(t.closed),
	    U(t.rst_sent), U(t.rst_rcvd), U(t.retransmits), U(t.aborted),
	    U(t.ooo_dropped), U(t.bad_port), U(t.bad_seg), U(t.tx_nombuf),
	    U(t.timeouts), U(t.bytes_in), U(t.bytes_out));
#undef U
}

/* dp_free - lcores, port, pools, EAL */
static void
dp_free(struct nb_backend *b)
{
	struct dp_backend *be = DP_BE(b);
	unsigned i;

	for (i = 0; i < RTE_MAX_LCORE; i++)
		dp_lcore_free(be->lc[i]);
	if (be->port_up)
		dp_port_close(be->port);
	for (i = 0; i < RTE_MAX_LCORE; i++)
		rte_mempool_free(be->pools[i]);
	nb_backend_fini(&be->nb);
	if (be->eal)
		rte_eal_cleanup();
	free(be);
}

static const struct nb_ops dp_ops = {
	.run = dp_run,
	.stop = dp_stop,
	.free = dp_free,
	.describe = dp_describe,
	.banner = dp_banner,
	.summary = dp_summary,
	.stats = dp_stats,
	.open_conns = dp_open_conns,
	.nworkers = dp_nlcores,
	.worker_load = dp_load,
	.tls = NULL,
};
