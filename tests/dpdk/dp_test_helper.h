/*
 * @file dp_test_helper.h
 * Fixture for the DPDK tier-1 tests: EAL without hugepages or shared
 * config, one ring port (rte_eth_from_rings) set up by dp_port_setup(),
 * one dp_lcore on it with a manual clock, and a client side that builds
 * frames by hand, enqueues them on the port's RX ring, polls the lcore
 * and parses what it put on the TX ring (checksums verified).
 *
 * With DPT_RECORD=DIR in the environment, every fixture writes what it
 * injected and each clock step to DIR/dpt-N.bin in the DPDK fuzzer's
 * input format (tests/fuzz/fuzz_dpdk.c): seeds from the tier-1 frames.
 */
#ifndef DP_TEST_HELPER_H
#define DP_TEST_HELPER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>

#include "dp_lcore.h"

#define DPT_CLIENT_IP	0xc6120001u	/* 198.18.0.1 */
#define DPT_GMAIL_MX	0xc6120107u	/* 198.18.1.7 */
#define DPT_SINK_MX	0xc6120501u	/* 198.18.5.1 */
#define DPT_OUTSIDE_IP	0xc6126301u	/* 198.18.99.1: in no range */
#define DPT_SMTP_PORT	25
#define DPT_REC_FRAME	0x00	/* record: frame, 2-byte length, bytes */
#define DPT_REC_POLL	0x01	/* record: poll after 2-byte ms step */

/* One frame the lcore sent, parsed. */
struct dpt_frame {
	uint16_t	 ethertype;
	struct rte_ether_addr src, dst;
	bool		 csum_ok;	/* every checksum in it verified */
	/* ARP */
	uint16_t	 arp_op;
	struct rte_ether_addr arp_sha;
	uint32_t	 arp_sip, arp_tip;
	/* IPv4 */
	uint32_t	 sip, dip;
	uint8_t		 proto;
	uint8_t		 icmp_type;
	uint16_t	 icmp_id, icmp_seq;
	/* TCP */
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	uint8_t		 flags;
	uint16_t	 win;
	uint16_t	 mss;		/* option, 0 = none */
	uint32_t	 len;
	char		 data[2048];	/* payload, NUL-terminated */
};

/* The client end of one TCP connection. */
struct dpt_conn {
	uint32_t	 cip, mip;
	uint16_t	 cport, mport;
	uint32_t	 snd_nxt;	/* client's next sequence number */
	uint32_t	 rcv_nxt;	/* next server byte expected */
};

/* The fixture. */
struct dpt {
	struct prof_world *world;
	struct sim_state *state;
	struct sim_clock clock;
	struct dp_lcore	*lc;
	uint64_t	 now;		/* the lcore's monotonic ms */
	struct nb_backend nb;		/* the shared part the lcore uses */
	struct rte_ether_addr port_mac;
	struct rte_ether_addr client_mac;
	struct sim_event last_ev;	/* not used by the lcore */
	bool		 own_world;	/* teardown frees world */
	FILE		*rec;		/* DPT_RECORD file, or NULL */
};

/** Start EAL (once per process) and create the ring port; 0 or -1. */
int dpt_eal_start(int argc, char **argv);

/** Build a fresh lcore on the ring port; 0 or -1. */
int dpt_setup(struct dpt *t, uint32_t max_conns, uint32_t max_half_open);

/** Build a fresh lcore serving @p w (kept by the caller) over a state
 *  table of @p state_entries; 0 or -1. */
int dpt_setup_world(struct dpt *t, struct prof_world *w, uint32_t max_conns,
    uint32_t max_half_open, uint32_t state_entries);

/** dpt_setup_world() with the event log @p evlog (kept by the caller, or
 *  NULL) and, with @p scan, every message scanned as mxsim does; 0 or -1. */
int dpt_setup_full(struct dpt *t, struct prof_world *w, uint32_t max_conns,
    uint32_t max_half_open, uint32_t state_entries, struct sim_evlog *evlog,
    bool scan);

/** Free the lcore and drop whatever is still on the rings. */
void dpt_teardown(struct dpt *t);

/** @return mbufs of the lcore's pool in use (leak check). */
unsigned dpt_pool_in_use(void);

/** Put one frame on the RX ring (@p frame copied into an mbuf). */
void dpt_inject(struct dpt *t, const void *frame, uint32_t len);

/** Build a TCP segment from the client MAC into @p f (2048 bytes);
 *  @return its length. */
uint32_t dpt_tcp_build(struct dpt *t, uint8_t *f, uint32_t sip,
    uint16_t sport, uint32_t dip, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags, uint16_t win, const void *data, uint32_t len,
    uint16_t mss);

/** Build and inject a TCP segment from the client MAC. */
void dpt_tcp(struct dpt *t, uint32_t sip, uint16_t sport, uint32_t dip,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
    const void *data, uint32_t len, uint16_t mss);

/** Advance the clock by @p ms and poll the lcore once. */
void dpt_poll(struct dpt *t, uint64_t ms);

/** Take the next sent frame; @return 0, or -1 when none. */
int dpt_recv(struct dpt *t, struct dpt_frame *f);

/** @return frames waiting on the TX ring (dropped). */
unsigned dpt_drain_tx(void);

/** Handshake: SYN, check SYN-ACK (ISN, MSS), ACK; @return 0 or -1.
 *  The greeting is left on the TX ring. */
int dpt_connect(struct dpt *t, struct dpt_conn *c, uint32_t cip,
    uint16_t cport, uint32_t mip);

/**
 * Send @p text as one segment (ACK set), poll, collect the server's
 * payload into @p reply (ACKing it) until none comes.
 * @return bytes of reply.
 */
size_t dpt_talk(struct dpt *t, struct dpt_conn *c, const char *text,
    char *reply, size_t rlen);

/** Collect server payload already sent (ACKing it); @return bytes. */
size_t dpt_collect(struct dpt *t, struct dpt_conn *c, char *reply,
    size_t rlen, uint8_t *flags_seen);

#endif /* DP_TEST_HELPER_H */
