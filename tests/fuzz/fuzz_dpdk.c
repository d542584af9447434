/*
 * DESCRIPTION
 *	libFuzzer harness for the DPDK input path: Ethernet frames into one
 *	lcore's pipeline (dpdk/dp_lcore.c: ARP, ICMP echo, IPv4 and TCP
 *	checks; utcp: the TCP state machine; dp_smtp: SMTP sessions from the
 *	pool, the busy reply when it is empty), on a ring port, with no
 *	hugepages, no PCI and no root (EAL --no-huge --no-shconf and
 *	rte_eth_from_rings(), through the tier-1 fixture of tests/dpdk/).
 *	The world is the tier-1 scenario, loaded once; every input gets a
 *	fresh lcore with FZ_SESSIONS sessions (twice as many control blocks)
 *	and a fresh state table.  Input: the records the fixture writes with
 *	DPT_RECORD=DIR (corpus/dpdk/ holds the tier-1 tests' own frames):
 *	  0x00 LEN(2, big-endian) FRAME   one frame received (LEN <= 1514)
 *	  0x01 MS(2, big-endian)          advance the clock, one lcore turn
 *	  other                           one lcore turn, (kind - 2) ms later
 *	A truncated record ends the input.  The harness also polls after
 *	every RX-ring's worth of frames.  At the end the lcore drains (421 to
 *	every session), runs three seconds of clock and finishes (resets what
 *	is left).
 *
 *	Invariants checked (abort on violation):
 *	- every frame sent is ARP or IPv4 from the port's MAC, with correct
 *	  IPv4, ICMP and TCP checksums, and TCP payload within the MSS;
 *	- after the finish no connection holds a session or busy reply;
 *	- after the lcore is freed, every mbuf of its pool is back.
 *
 * DIAGNOSTICS
 *	Aborts at start-up when EAL, the ring port or the scenario fail.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <netinet/in.h>

#include <rte_ether.h>

#include "dp_test_helper.h"
#include "fuzz_check.h"
#include "prof_load.h"

#define FZ_SESSIONS	4	/* per lcore; 8 control blocks */
#define FZ_FRAME_MAX	1514	/* Ethernet, no FCS */
#define FZ_RX_BATCH	32	/* frames injected between polls */
#define FZ_MSS		1460	/* the fixture's port MSS */
#define FZ_STATE	256	/* policy state entries */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct prof_world *fz_world;

/* fz_check_tx - every frame the lcore sent is well formed */
static void
fz_check_tx(struct dpt *t)
{
	struct dpt_frame f;

	while (dpt_recv(t, &f) == 0) {
		FUZZ_CHECK(f.csum_ok, "bad checksum (proto %u)", f.proto);
		FUZZ_CHECK(rte_is_same_ether_addr(&f.src, &t->port_mac),
		    "not from the port's MAC");
		FUZZ_CHECK(f.ethertype == RTE_ETHER_TYPE_ARP ||
		    f.ethertype == RTE_ETHER_TYPE_IPV4, "ethertype %#x",
		    f.ethertype);
		FUZZ_CHECK(f.proto != IPPROTO_TCP || f.len <= FZ_MSS,
		    "TCP payload %u over the MSS", f.len);
	}
}

/* fz_poll - one lcore turn @ms later, then check what it sent */
static void
fz_poll(struct dpt *t, uint64_t ms)
{
	dpt_poll(t, ms);
	fz_check_tx(t);
}

/* LLVMFuzzerInitialize - EAL, ring port, the tier-1 scenario */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char a_0[] = "fuzz_dpdk", a_l[] = "-l", a_c[] = "0",
	    a_nohuge[] = "--no-huge", a_m[] = "-m", a_128[] = "128",
	    a_nopci[] = "--no-pci", a_noshconf[] = "--no-shconf",
	    a_log[] = "--log-level=error";
	static char *eal[] = { a_0, a_l, a_c, a_nohuge, a_m, a_128, a_nopci,
	    a_noshconf, a_log, NULL };
	struct prof_error perr = { 0 };
	char buf[1200];

	(void)argc;
	(void)argv;
	if (dpt_eal_start(9, eal) != 0)
		abort();
	fz_world = prof_load_scenario(MXSIM_TESTDATA "/dpdk_scenario.yaml",
	    MXSIM_PROFILES_DIR, &perr);
	if (fz_world == NULL) {
		fprintf(stderr, "%s\n", prof_error_str(&perr, buf,
		    sizeof(buf)));
		abort();
	}
	return 0;
}

/* LLVMFuzzerTestOneInput - replay the records into a fresh lcore */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpt t;
	size_t i = 0;
	uint32_t v, batch = 0;
	uint8_t kind;

	if (dpt_setup_world(&t, fz_world, FZ_SESSIONS, 0, FZ_STATE) != 0)
		abort();
	while (i + 3 <= size) {
		kind = data[i];
		v = (uint32_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (kind == DPT_REC_FRAME) {
			if (v > FZ_FRAME_MAX || v > size - i)
				break;
			dpt_inject(&t, data + i, v);
			i += v;
			if (++batch == FZ_RX_BATCH) {
				fz_poll(&t, 0);
				batch = 0;
			}
			continue;
		}
		fz_poll(&t, kind == DPT_REC_POLL ? v : (uint32_t)(kind - 2));
		batch = 0;
	}
	fz_poll(&t, 0);
	dp_lcore_drain(t.lc, t.now);
	fz_check_tx(&t);
	for (i = 0; i < 30; i++)
		fz_poll(&t, 100);
	dp_lcore_finish(t.lc, t.now);
	fz_check_tx(&t);
	FUZZ_CHECK(utcp_nsessions(dp_lcore_tcp(t.lc)) == 0,
	    "%u connections still hold a session",
	    utcp_nsessions(dp_lcore_tcp(t.lc)));
	dpt_teardown(&t);
	FUZZ_CHECK(dpt_pool_in_use() == 0, "%u mbufs not freed",
	    dpt_pool_in_use());
	return 0;
}
