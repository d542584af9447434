/*
 * @file utcp.h
 * A minimal userspace TCP for one lcore: passive open only, on one port,
 * for every MX address of the scenario; each connection drives one SMTP
 * session (smtp_session.h).  One stack per lcore, shared with nobody: no
 * locks.  Control blocks come from a fixed pool sized at creation; the
 * connection table, timers and counters are the stack's own.
 *
 * What it does: SYN -> SYN-ACK with MSS; a bounded half-open count (SYN
 * flood protection: beyond it, SYNs are dropped and counted); in-order
 * receive (out-of-order segments are dropped and answered with a
 * duplicate ACK); receive window = the session's input room; our data is
 * the session's pending output, kept there until acknowledged, so a
 * retransmission re-reads it (no copy, no send buffer); retransmission on
 * RTO with exponential backoff and a retry limit; FIN and RST both ways;
 * a short TIME_WAIT; idle and total session time limits.  No window
 * scaling, SACK, timestamps or congestion control (at most one output
 * buffer, 4 KiB, is ever in flight).
 *
 * The server ISN is a keyed hash of the 4-tuple and the scenario seed
 * (utcp_isn()), so a run replays segment for segment.
 *
 * Time is passed in by the caller (monotonic milliseconds), so tests drive
 * the clock.  Segments leave through the tx hook of struct utcp_conf.
 */
#ifndef UTCP_H
#define UTCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sim_stats.h"
#include "smtp_session.h"

#define UTCP_DEF_MSS		1460
#define UTCP_RTO_INIT_MS	200	/* first retransmission */
#define UTCP_RTO_MAX_MS		3200	/* backoff ceiling */
#define UTCP_MAX_RETRIES	8	/* then the connection is reset */
#define UTCP_SYN_RETRIES	4	/* SYN-ACKs resent before giving up */
#define UTCP_TIME_WAIT_MS	1000	/* short TIME_WAIT */
#define UTCP_FIN_WAIT2_MS	5000	/* peer never sends its FIN */

/* Hand one built segment to the port (the hook owns @p m afterwards). */
typedef void utcp_tx_fn(void *ctx, struct rte_mbuf *m);

/* Where a connection's session id comes from (unique in the process). */
typedef uint64_t utcp_sid_fn(void *ctx);

struct utcp_conf {
	uint16_t	 port;		/* listening TCP port (host order) */
	uint32_t	 max_conns;	/* control blocks (>= 1) */
	uint32_t	 max_half_open;	/* SYN_RCVD at most; 0 = max_conns / 4 */
	uint16_t	 mss;		/* ours; 0 = UTCP_DEF_MSS */
	uint32_t	 time_wait_ms;	/* 0 = UTCP_TIME_WAIT_MS */
	uint64_t	 seed;		/* ISN key (scenario seed) */
	uint32_t	 idle_ms;	/* session idle limit; 0 = none */
	uint32_t	 session_ms;	/* session total limit; 0 = none */
	bool		 tx_csum_offload; /* port computes IPv4+TCP checksums */
	struct rte_ether_addr mac;	/* our source MAC */
	struct rte_mempool *pool;	/* mbufs for what we send */
	utcp_tx_fn	*tx;
	void		*tx_ctx;
	utcp_sid_fn	*sid;
	void		*sid_ctx;
	const struct smtp_env *env;	/* sessions' world, state, events */
	struct sim_stats *stats;	/* counts connections (owner lcore) */
};

/* Counters of one stack; plain integers, read after the lcore stopped
 * or approximately while it runs. */
struct utcp_counters {
	uint64_t	 rx_segs;	/* segments handed to utcp_input */
	uint64_t	 syn;		/* SYNs for new connections */
	uint64_t	 established;	/* handshakes completed */
	uint64_t	 syn_dropped;	/* half-open bound or pool full */
	uint64_t	 closed;	/* control blocks released */
	uint64_t	 rst_sent;
	uint64_t	 rst_rcvd;
	uint64_t	 retransmits;	/* segments sent again on RTO */
	uint64_t	 aborted;	/* retry limit reached: reset */
	uint64_t	 ooo_dropped;	/* out-of-order segments dropped */
	uint64_t	 bad_port;	/* to a port we do not serve */
	uint64_t	 bad_seg;	/* malformed header, bad flags */
	uint64_t	 tx_segs;	/* segments built */
	uint64_t	 tx_nombuf;	/* no mbuf for a segment */
	uint64_t	 timeouts;	/* idle/session limits fired */
	uint64_t	 bytes_in;	/* payload accepted */
	uint64_t	 bytes_out;	/* payload sent first time */
};

/* A connection's state, for tests and logs. */
enum utcp_state {
	UTCP_CLOSED = 0,
	UTCP_SYN_RCVD,
	UTCP_ESTABLISHED,
	UTCP_CLOSE_WAIT,
	UTCP_LAST_ACK,
	UTCP_FIN_WAIT_1,
	UTCP_FIN_WAIT_2,
	UTCP_CLOSING,
	UTCP_TIME_WAIT
};

struct utcp_stack;

/**
 * Create a stack: pool of control blocks, connection table, timer wheel.
 * @param conf  copied; pool, tx and env must be set.
 * @return the stack, or NULL (bad conf or no memory).
 */
struct utcp_stack *utcp_new(const struct utcp_conf *conf);

/** Free a stack; open sessions are released (no segment is sent). */
void utcp_free(struct utcp_stack *st);

/**
 * One TCP segment for us.  The mbuf starts with Ethernet, then IPv4 and
 * TCP; m->l2_len and m->l3_len give the header sizes.  The caller has
 * validated the IPv4 header, the TCP checksum and that the destination
 * is an MX address.  The stack frees @p m.
 * @param now  monotonic ms.
 */
void utcp_input(struct utcp_stack *st, struct rte_mbuf *m, uint64_t now);

/** Fire due timers (retransmission, TIME_WAIT, session limits). */
void utcp_timers(struct utcp_stack *st, uint64_t now);

/**
 * Stop accepting (new SYNs are answered with RST) and ask every session
 * to end: 421 at its next command boundary.
 */
void utcp_drain(struct utcp_stack *st, uint64_t now);

/** Reset every connection that still has a session (end of grace). */
void utcp_abort_all(struct utcp_stack *st, uint64_t now);

/** @return connections with a live SMTP session. */
uint32_t utcp_nsessions(const struct utcp_stack *st);

/** @return control blocks in use (any state but CLOSED). */
uint32_t utcp_nconns(const struct utcp_stack *st);

/** @return the stack's counters. */
const struct utcp_counters *utcp_counters(const struct utcp_stack *st);

/**
 * State of the connection (client ip:port -> mx ip:port), host order.
 * @return the state, or UTCP_CLOSED when there is none.
 */
enum utcp_state utcp_lookup_state(const struct utcp_stack *st,
    uint32_t cip, uint16_t cport, uint32_t mip, uint16_t mport);

/** @return the state's name ("ESTABLISHED", ...). */
const char *utcp_strstate(enum utcp_state s);

/** @return the server ISN for a 4-tuple under @p seed (host order). */
uint32_t utcp_isn(uint64_t seed, uint32_t cip, uint16_t cport, uint32_t mip,
    uint16_t mport);

#endif /* UTCP_H */
