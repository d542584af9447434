/*
 * @file dp_lcore.h
 * One packet lcore of the DPDK backend: it owns one RX/TX queue pair of
 * the port, an mbuf pool, a utcp stack (connections, timers), and the
 * per-worker glue both backends share (struct nb_worker: reply counters,
 * event-log buffer, auth context, session ids).  Nothing in it is shared with other
 * lcores except read-only data (worlds) and what the engine locks itself
 * (sim_state).  dp_lcore_poll() is one turn of the loop: a burst of up to
 * DP_BURST frames (ARP, ICMP echo, IPv4 checks, TCP into utcp), the due
 * timers, then the TX flush.  Tests call it directly with their own clock.
 * Internal to dpdk/ and its tests.
 */
#ifndef DP_LCORE_H
#define DP_LCORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "nb_backend.h"
#include "utcp.h"

#define DP_BURST	32	/* frames per rx burst */
#define DP_TX_MAX	64	/* frames buffered before a tx burst */

/* Pipeline counters of one lcore (owner writes; others read roughly). */
struct dp_counters {
	uint64_t	 rx;		/* frames received */
	uint64_t	 tx;		/* frames the port took */
	uint64_t	 tx_dropped;	/* the port refused them */
	uint64_t	 arp_replies;
	uint64_t	 arp_ignored;	/* not a request for an MX address */
	uint64_t	 icmp_echo;	/* echo replies sent */
	uint64_t	 ip_bad;	/* malformed IPv4 header or length */
	uint64_t	 ip_frag;	/* fragments (dropped) */
	uint64_t	 csum_bad;	/* IPv4, ICMP or TCP checksum wrong */
	uint64_t	 not_ours;	/* not our MAC or not an MX address */
	uint64_t	 other;		/* other protocols, IPv6, ... */
};

/* What an lcore is given; the pointers stay owned by the caller. */
struct dp_lcore_conf {
	unsigned	 idx;		/* 0..n-1, also the queue id */
	uint16_t	 port;
	uint16_t	 queue;
	struct rte_mempool *pool;	/* mbufs for what this lcore sends */
	struct rte_ether_addr mac;	/* the port's MAC */
	uint16_t	 mss;		/* from the port's MTU */
	bool		 rx_csum_offload; /* mbuf flags carry IPv4/TCP results */
	bool		 tx_csum_offload;
	struct nb_backend *nb;		/* the backend's shared part: world,
					 * state, clock, event log, notices,
					 * session ids (nb_backend.h) */
	uint32_t	 max_conns;	/* SMTP sessions; TCP control blocks:
					 * twice as many */
	uint32_t	 max_half_open;	/* 0 = max_conns / 4 */
	uint32_t	 time_wait_ms;	/* 0 = default */
};

struct dp_lcore;
struct dp_smtp_counters;

/**
 * Set up an lcore context (no packet is touched).
 * @return it, or NULL when out of memory or the conf is incomplete.
 */
struct dp_lcore *dp_lcore_new(const struct dp_lcore_conf *conf);

/** Free the context; sessions still open are released silently. */
void dp_lcore_free(struct dp_lcore *lc);

/**
 * One turn: rx burst, timers, tx flush.
 * @param now  monotonic ms.
 * @return frames received.
 */
unsigned dp_lcore_poll(struct dp_lcore *lc, uint64_t now);

/** Handle one received frame (the lcore owns @p m afterwards). */
void dp_lcore_input(struct dp_lcore *lc, struct rte_mbuf *m, uint64_t now);

/**
 * Serve sessions from the world published last (nb_publish()) from now
 * on: every session of the lcore reads it at its next command.  The
 * lcore's thread only, once per loop turn.
 */
void dp_lcore_refresh(struct dp_lcore *lc);

/** Send what is buffered. */
void dp_lcore_flush(struct dp_lcore *lc);

/** Stop accepting and ask every session to end (see utcp_drain()). */
void dp_lcore_drain(struct dp_lcore *lc, uint64_t now);

/** Reset what is left, flush tx and the event-log buffer. */
void dp_lcore_finish(struct dp_lcore *lc, uint64_t now);

/** Hand the event-log buffer over if older than @p max_age_ms. */
void dp_lcore_evlog_flush(struct dp_lcore *lc, uint64_t max_age_ms);

/** @return the lcore's TCP stack. */
struct utcp_stack *dp_lcore_tcp(const struct dp_lcore *lc);

/** @return the SMTP layer's counters (busy answers, resets). */
const struct dp_smtp_counters *dp_lcore_smtp_counters(
    const struct dp_lcore *lc);

/** @return the lcore's pipeline counters. */
const struct dp_counters *dp_lcore_counters(const struct dp_lcore *lc);

/** @return the lcore's reply counters. */
struct sim_stats *dp_lcore_stats(const struct dp_lcore *lc);

#endif /* DP_LCORE_H */
