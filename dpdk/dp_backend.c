/*
 * DESCRIPTION
 *	The DPDK backend's setup and lcore loop.  EAL with the caller's
 *	arguments; one mbuf pool and one queue pair per lcore (main lcore
 *	included); each lcore polls its queue, runs its TCP timers, flushes
 *	its event-log buffer, and sleeps briefly when idle if asked to.  The
 *	stop flag and the current world (published by the control API) are
 *	read once per loop, one atomic load each, no lock (a new world is
 *	taken under the world slot's lock, once per change); at stop every
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
	struct dp_backend_conf conf;
	struct dp_port_info info;
	uint16_t	 port;
	bool		 eal;		/* rte_eal_init succeeded */
	bool		 port_up;
	unsigned	 nlc;		/* lcores with a queue */
	struct dp_lcore	*lc[RTE_MAX_LCORE];	/* by queue */
	int		 qof[RTE_MAX_LCORE];	/* lcore id -> queue, -1 */
	struct rte_mempool *pools[RTE_MAX_LCORE];
	struct world_slot worlds;	/* the current world (world_slot.h) */
	uint64_t	 next_session;
	unsigned char	*seen;
	int		 stop;
	char		 desc[256];
};

static int	lcore_main(void *);

/* dp_backend_new - EAL, port, lcores */
struct dp_backend *
dp_backend_new(const struct dp_backend_conf *conf, int eal_argc,
    char **eal_argv, char *err, size_t errlen)
{
	const struct prof_world *w = conf->world;
	struct dp_lcore_conf lcf;
	struct dp_backend *be;
	unsigned lid, n = 0, q, mbufs;
	char name[64];

	if ((be = calloc(1, sizeof(*be))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	be->conf = *conf;
	world_slot_init(&be->worlds, conf->world);
	for (lid = 0; lid < RTE_MAX_LCORE; lid++)
		be->qof[lid] = -1;
	if (conf->max_conns == 0 || w == NULL || prof_world_naddrs(w) == 0) {
		snprintf(err, errlen, "nothing to serve (no MX address or "
		    "max_conns 0)");
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
	mbufs = conf->mbufs != 0 ? conf->mbufs : DP_DEF_MBUFS;
	RTE_LCORE_FOREACH(lid) {
		snprintf(name, sizeof(name), "dp_mbuf_%u", n);
		be->pools[n] = rte_pktmbuf_pool_create(name, mbufs, 256, 0,
		    RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_lcore_to_socket_id(lid));
		if (be->pools[n] == NULL) {
			snprintf(err, errlen, "mbuf pool of %u: %s (give EAL "
			    "more memory, -m)", mbufs, rte_strerror(rte_errno));
			goto fail;
		}
		n++;
	}
	if (dp_port_setup(be->port, (uint16_t)n, be->pools, &be->info, err,
	    errlen) != 0)
		goto fail;
	be->port_up = true;
	be->nlc = be->info.nq;
	if (be->nlc < n)
		fprintf(stderr, "mxsim: port %u has %u queue pairs for %u "
		    "lcores; %u lcores stay idle\n", be->port, be->nlc, n,
		    n - be->nlc);
	if ((be->seen = calloc((w->nprofiles + 1) * SIM_RK__COUNT, 1)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	q = 0;
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
		lcf.world = w;
		lcf.state = conf->state;
		lcf.clock = conf->clock;
		lcf.evlog = conf->evlog;
		lcf.pm = conf->pm;
		lcf.max_conns = conf->max_conns;
		lcf.scan = conf->scan;
		lcf.words = conf->words;
		lcf.auth_world = conf->auth_world;
		lcf.time_wait_ms = conf->time_wait_ms;
		lcf.next_session = &be->next_session;
		lcf.seen = conf->notices ? be->seen : NULL;
		lcf.notice_fp = conf->notice_fp != NULL ? conf->notice_fp :
		    stderr;
		if ((be->lc[q] = dp_lcore_new(&lcf)) == NULL) {
			snprintf(err, errlen, "lcore %u: out of memory", lid);
			goto fail;
		}
		be->qof[lid] = (int)q;
		q++;
	}
	snprintf(be->desc, sizeof(be->desc), "port %u (%s), %u queue "
	    "pair(s)%s, MAC %02X:%02X:%02X:%02X:%02X:%02X, MTU %u, "
	    "checksum offload rx %s tx %s", be->port, be->info.driver,
	    be->nlc, be->info.rss ? " with RSS" : "",
	    be->info.mac.addr_bytes[0], be->info.mac.addr_bytes[1],
	    be->info.mac.addr_bytes[2], be->info.mac.addr_bytes[3],
	    be->info.mac.addr_bytes[4], be->info.mac.addr_bytes[5],
	    be->info.mtu, be->info.rx_csum ? "on" : "off",
	    be->info.tx_csum ? "on" : "off");
	return be;
fail:
	dp_backend_free(be);
	return NULL;
}

/* dp_backend_describe - one line about the port */
const char *
dp_backend_describe(const struct dp_backend *be)
{
	return be->desc;
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
		dp_lcore_world_swap(lc, &be->worlds);
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
	deadline = now + (uint64_t)be->conf.grace_s * 1000;
	while (utcp_nsessions(dp_lcore_tcp(lc)) > 0 && now < deadline) {
		if (dp_lcore_poll(lc, now) == 0 && be->conf.idle_sleep_us != 0)
			usleep(be->conf.idle_sleep_us);
		now = sim_clock_mono_ms();
	}
	dp_lcore_finish(lc, now);
	return 0;
}

/* dp_backend_run - launch the loop on every lcore, main included */
int
dp_backend_run(struct dp_backend *be)
{
	int rc;

	rc = rte_eal_mp_remote_launch(lcore_main, be, CALL_MAIN);
	if (rc != 0) {
		dp_backend_stop(be);
		rte_eal_mp_wait_lcore();
		return rc < 0 ? rc : -rc;
	}
	rte_eal_mp_wait_lcore();
	return 0;
}

/* dp_backend_stop - set the flag (signal-safe) */
void
dp_backend_stop(struct dp_backend *be)
{
	__atomic_store_n(&be->stop, 1, __ATOMIC_RELAXED);
}

/* dp_backend_stats - merge the lcores' reply counters */
void
dp_backend_stats(const struct dp_backend *be, struct sim_stats *out)
{
	unsigned i;

	for (i = 0; i < be->nlc; i++)
		if (be->lc[i] != NULL)
			sim_stats_merge(out, dp_lcore_stats(be->lc[i]));
}

/* dp_backend_open_conns - live sessions */
uint64_t
dp_backend_open_conns(const struct dp_backend *be)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < be->nlc; i++)
		if (be->lc[i] != NULL)
			n += utcp_nsessions(dp_lcore_tcp(be->lc[i]));
	return n;
}

/* dp_backend_publish_world - make a new world current */
void
dp_backend_publish_world(struct dp_backend *be, const struct prof_world *w)
{
	world_slot_publish(&be->worlds, w);
}

/* dp_backend_world - a reference to the current world */
const struct prof_world *
dp_backend_world(struct dp_backend *be)
{
	return world_slot_take(&be->worlds);
}

/* dp_backend_nlcores - lcores that poll a queue */
unsigned
dp_backend_nlcores(const struct dp_backend *be)
{
	return be->nlc;
}

/* dp_backend_lcore_load - one lcore's open and started sessions */
void
dp_backend_lcore_load(const struct dp_backend *be, unsigned idx,
    uint64_t *open, uint64_t *sessions)
{
	const struct utcp_stack *st;

	*open = *sessions = 0;
	if (idx >= be->nlc || be->lc[idx] == NULL)
		return;
	st = dp_lcore_tcp(be->lc[idx]);
	*open = utcp_nsessions(st);
	*sessions = __atomic_load_n(&utcp_counters(st)->established,
	    __ATOMIC_RELAXED);
}

/* dp_backend_print - pipeline and TCP counters, summed */
void
dp_backend_print(const struct dp_backend *be, FILE *fp)
{
	struct dp_counters d;
	struct utcp_counters t;
	const struct dp_counters *dc;
	const struct utcp_counters *tc;
	unsigned i;

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

/* dp_backend_free - lcores, port, pools, EAL */
void
dp_backend_free(struct dp_backend *be)
{
	unsigned i;

	if (be == NULL)
		return;
	for (i = 0; i < RTE_MAX_LCORE; i++)
		dp_lcore_free(be->lc[i]);
	if (be->port_up)
		dp_port_close(be->port);
	for (i = 0; i < RTE_MAX_LCORE; i++)
		rte_mempool_free(be->pools[i]);
	free(be->seen);
	world_slot_fini(&be->worlds);
	if (be->eal)
		rte_eal_cleanup();
	free(be);
}
