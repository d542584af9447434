/*
 * @file utcp.h
 * A minimal userspace TCP for one lcore: passive open only, on one port,
 * for every MX address of the scenario.  One stack per lcore, shared with
 * nobody: no locks.  Control blocks come from a fixed pool sized at
 * creation; the connection table, timers and counters are the stack's own.
 * It knows no application protocol: as lwIP's tcp_accept()/tcp_recv() do,
 * it hands the layer above (struct utcp_ops) each accepted connection, its
 * in-order data, the peer's FIN and the connection's end, and that layer
 * answers through utcp_close() and utcp_send().
 *
 * What it does: SYN -> SYN-ACK with MSS; a bounded half-open count (SYN
 * flood protection: beyond it, SYNs are dropped and counted); in-order
 * receive (out-of-order segments are dropped and answered with a
 * duplicate ACK); receive window = the room the layer above reports; our
 * data is the layer above's pending output, kept there until acknowledged
 * (ops->sent()), so a retransmission re-reads it (no copy, no send
 * buffer); retransmission on RTO with exponential backoff and a retry
 * limit; FIN and RST both ways; a short TIME_WAIT; idle and lifetime
 * limits reported upwards.  No window scaling, SACK, timestamps or
 * congestion control.
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


#define UTCP_DEF_MSS		1460
#define UTCP_RTO_INIT_MS	200	/* first retransmission */
#define UTCP_RTO_MAX_MS		3200	/* backoff ceiling */
#define UTCP_MAX_RETRIES	8	/* then the connection is reset */
#define UTCP_SYN_RETRIES	4	/* SYN-ACKs resent before giving up */
#define UTCP_TIME_WAIT_MS	1000	/* short TIME_WAIT */
#define UTCP_FIN_WAIT2_MS	5000	/* peer never sends its FIN */
#define UTCP_DEF_WND		4096	/* window with nothing above */

/* Hand one built segment to the port (the hook owns @p m afterwards). */
typedef void utcp_tx_fn(void *ctx, struct rte_mbuf *m);

struct utcp_tcb;	/* a connection (opaque above the stack) */

/* Addresses and ports of a connection, host order. */
struct utcp_tuple {
	uint32_t	 cip;		/* client (peer) */
	uint32_t	 mip;		/* MX (local) */
	uint16_t	 cport;
	uint16_t	 mport;
};

/* Why ops->notify() is called. */
enum utcp_note {
	UTCP_NOTE_IDLE = 0,	/* no input for conf.idle_ms */
	UTCP_NOTE_LIFETIME,	/* established for conf.session_ms */
	UTCP_NOTE_DRAIN		/* the stack stops (utcp_drain()) */
};

/*
 * The layer above.  @p app is what accept() returned; @p c the connection.
 * After every hook the stack sends what is due, so a hook never needs
 * utcp_send().  Hooks must not free @p c (utcp_close() asks for the end).
 */
struct utcp_ops {
	/* Handshake done: the layer's state for @p c, or NULL to refuse
	 * (the connection is reset). */
	void	*(*accept)(void *ctx, struct utcp_tcb *c,
		    const struct utcp_tuple *tu, uint64_t now);
	/* Input room now: the receive window we advertise. */
	uint32_t (*room)(void *ctx, struct utcp_tcb *c, void *app);
	/* In-order payload: take what fits, return bytes taken (the peer
	 * sends the rest again).  @p data NULL: the peer's FIN, told once,
	 * when none of our output is pending. */
	uint32_t (*recv)(void *ctx, struct utcp_tcb *c, void *app,
		    const uint8_t *data, uint32_t len, uint64_t now);
	/* Our pending output from its oldest unacknowledged byte. */
	void	 (*pending)(void *ctx, struct utcp_tcb *c, void *app,
		    const uint8_t **p, size_t *len);
	/* @p n bytes of the pending output were acknowledged. */
	void	 (*sent)(void *ctx, struct utcp_tcb *c, void *app, uint32_t n,
		    uint64_t now);
	/* A limit passed or the stack drains (enum utcp_note). */
	void	 (*notify)(void *ctx, struct utcp_tcb *c, void *app,
		    enum utcp_note what, uint64_t now);
	/* @p c no longer carries @p app: free it.  @p reset: the
	 * connection ended without an orderly close (RST, retry limit,
	 * abort, stack freed). */
	void	 (*closed)(void *ctx, struct utcp_tcb *c, void *app,
		    bool reset);
};

struct utcp_conf {
	uint16_t	 port;		/* listening TCP port (host order) */
	uint32_t	 max_conns;	/* control blocks (>= 1) */
	uint32_t	 max_half_open;	/* SYN_RCVD at most; 0 = max_conns / 4 */
	uint16_t	 mss;		/* ours; 0 = UTCP_DEF_MSS */
	uint32_t	 time_wait_ms;	/* 0 = UTCP_TIME_WAIT_MS */
	uint64_t	 seed;		/* ISN key (scenario seed) */
	uint32_t	 idle_ms;	/* idle limit (notify); 0 = none */
	uint32_t	 session_ms;	/* lifetime limit (notify); 0 = none */
	uint32_t	 rcv_wnd;	/* SYN-ACK window (<= 65535); 0 =
					 * UTCP_DEF_WND */
	bool		 tx_csum_offload; /* port computes IPv4+TCP checksums */
	struct rte_ether_addr mac;	/* our source MAC */
	struct rte_mempool *pool;	/* mbufs for what we send */
	utcp_tx_fn	*tx;
	void		*tx_ctx;
	const struct utcp_ops *ops;	/* the layer above */
	void		*ops_ctx;
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
 * @param conf  copied; pool, tx and ops must be set.
 * @return the stack, or NULL (bad conf or no memory).
 */
struct utcp_stack *utcp_new(const struct utcp_conf *conf);

/** Free a stack; open connections are closed upwards (ops->closed(),
 *  reset) and no segment is sent. */
void utcp_free(struct utcp_stack *st);

/**
 * One TCP segment for us.  The mbuf starts with Ethernet, then IPv4 and
 * TCP; m->l2_len and m->l3_len give the header sizes.  The caller has
 * validated the IPv4 header, the TCP checksum and that the destination
 * is an MX address.  The stack frees @p m.
 * @param now  monotonic ms.
 */
void utcp_input(struct utcp_stack *st, struct rte_mbuf *m, uint64_t now);

/** Fire due timers (retransmission, TIME_WAIT, idle and lifetime). */
void utcp_timers(struct utcp_stack *st, uint64_t now);

/**
 * Stop accepting (new SYNs are answered with RST) and tell every
 * connection with upper-layer state (ops->notify(), UTCP_NOTE_DRAIN).
 */
void utcp_drain(struct utcp_stack *st, uint64_t now);

/** Reset every connection that still has upper-layer state (end of
 *  grace). */
void utcp_abort_all(struct utcp_stack *st, uint64_t now);

/**
 * The layer above ends @p c: our FIN follows its pending output (it may
 * still receive; ops->closed() once everything was sent).  Only sets a
 * flag: safe inside any hook.
 */
void utcp_close(struct utcp_tcb *c);

/** The layer above has new output for @p c outside a hook: send it. */
void utcp_send(struct utcp_stack *st, struct utcp_tcb *c, uint64_t now);

/** @return connections with upper-layer state (accepted, not closed). */
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
